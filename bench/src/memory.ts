/**
 * Memory benchmark: the heap a `JobTracker` holds per tracked job, at 100,000 jobs. The jobs are
 * built first and their own size measured apart, so the figure is the tracker's cost per job on
 * top of the `Job` values an application holds anyway, and the total beside it. Run with
 * `--expose-gc` for stable numbers.
 */
import { Job, JobRef, JobTracker } from "@polydub/core"
import { TestProvider } from "@polydub/testing"
import { Console, DateTime, Effect } from "effect"
import { record } from "./results.js"

const count = Number(process.env.POLYDUB_BENCH_MEMORY_JOBS ?? 100_000)
const gc = (globalThis as { gc?: () => void }).gc
const heap = () => {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

const program = Effect.gen(function* () {
  const { provider } = yield* TestProvider.make({ preset: "heygen", id: "heygen" })
  const base = heap()
  const now = DateTime.makeUnsafe(Date.now())
  const jobs: Array<Job> = []
  for (let i = 0; i < count; i++) {
    jobs.push(
      new Job({
        ref: new JobRef({ provider: "heygen", kind: "translation", id: `${i.toString(16).padStart(32, "0")}-es` }),
        language: "es",
        state: { _tag: "Running", progress: 0.25, step: "translating" },
        providerStatus: "running",
        observedAt: now
      })
    )
  }
  const withJobs = heap()
  const tracker = yield* JobTracker.make(provider, { minInterval: "1 hour" })
  for (const job of jobs) yield* tracker.track(job)
  const withTracker = heap()
  const perJobTracker = (withTracker - withJobs) / count
  const perJobTotal = (withTracker - base) / count
  const figures = {
    jobs: count,
    gcExposed: gc !== undefined,
    trackerBytesPerJob: Math.round(perJobTracker),
    jobValueBytesPerJob: Math.round((withJobs - base) / count),
    totalBytesPerJob: Math.round(perJobTotal),
    targetBytesPerJob: 1024,
    met: perJobTracker <= 1024
  }
  yield* Console.log(
    `memory: ${count} tracked jobs — tracker ${figures.trackerBytesPerJob} B/job on top of the Job values ` +
      `(${figures.jobValueBytesPerJob} B/job), ${figures.totalBytesPerJob} B/job in all; target ≤ 1 KB: ${figures.met ? "met" : "NOT met"}` +
      (gc === undefined ? " (run with --expose-gc for stable figures)" : "")
  )
  record("memory", figures)
  yield* Effect.sync(() => jobs.length)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
