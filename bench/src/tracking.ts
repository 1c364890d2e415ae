/**
 * Tracking benchmark, on virtual time (`TestClock`): many jobs followed by one `JobTracker` inside
 * a vendor's status budget, beside naive per-job polling every 10 s. The provider is `TestProvider`
 * in each vendor's shape, refusing status reads over the budget with 429 as the vendor would.
 * Prints 429s, requests per job, and the latency from a job's completion to its report (p50, p95,
 * p99), beside the sweep period N / (k · B) in which an even sweep revisits every job.
 */
import { type Job, JobTracker, Source, Submission, TranslationProvider } from "@polydub/core"
import { TestProvider } from "@polydub/testing"
import { Console, Duration, Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { record } from "./results.js"

interface Scenario {
  readonly name: string
  readonly preset: "heygen" | "voicecheap"
  readonly jobs: number
  /** Running time per job, uniform between these (minutes). */
  readonly minutes: readonly [number, number]
  /** Status requests per minute. */
  readonly budget: number
  readonly naiveJobs: number
}

const quantile = (sorted: ReadonlyArray<number>, q: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

const seconds = (ms: number) => Number((ms / 1000).toFixed(1))

/** Submits `count` jobs with durations drawn from the scenario's range; returns them. */
const submit = (count: number) =>
  Effect.gen(function* () {
    const provider = yield* TranslationProvider
    const jobs: Array<Job> = []
    for (let i = 0; i < count; i++) {
      jobs.push(
        ...(yield* provider
          .submit({ source: Source.url("https://media.example.com/v.mp4"), targets: ["es"] })
          .pipe(Submission.all))
      )
    }
    return jobs
  })

const layerFor = (scenario: Scenario, seed: number) =>
  TestProvider.layer({
    preset: scenario.preset,
    id: scenario.preset,
    enforceBudget: true,
    capabilities: {
      budget: { status: { limit: scenario.budget, window: Duration.minutes(1) } }
    },
    // Deterministic spread of durations over the range.
    script: (() => {
      let n = seed
      return () => {
        n = (n * 1103515245 + 12345) % 2 ** 31
        const [lo, hi] = scenario.minutes
        return { queuedFor: 0, runningFor: Duration.minutes(lo + ((hi - lo) * n) / 2 ** 31) }
      }
    })()
  })

/** Advances virtual time in 1 s steps until `fiber` ends. */
const drive = <A, E>(fiber: Fiber.Fiber<A, E>, limit: Duration.Input) =>
  Effect.gen(function* () {
    const steps = Duration.toSeconds(Duration.fromInputUnsafe(limit))
    for (let i = 0; i < steps && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust("1 second")
    return yield* Fiber.join(fiber)
  })

const withTracker = (scenario: Scenario) =>
  Effect.gen(function* () {
    const control = yield* TestProvider.TestProvider
    const provider = yield* TranslationProvider
    const tracker = yield* JobTracker.make(provider)
    const jobs = yield* submit(scenario.jobs)
    const reportedAt = new Map<string, number>()
    yield* Effect.forkChild(
      Stream.runForEach(tracker.changes, (job) =>
        job.state._tag === "Succeeded"
          ? Effect.sync(() => void reportedAt.set(String(job.ref), job.observedAt.epochMilliseconds))
          : Effect.void
      )
    )
    for (const job of jobs) yield* tracker.track(job)
    const fiber = yield* Effect.forkChild(tracker.awaitAll())
    yield* drive(fiber, "6 hours")
    const latencies: Array<number> = []
    for (const job of jobs) {
      const done = yield* control.completesAt(job.ref)
      const seen = reportedAt.get(String(job.ref))
      if (done !== undefined && seen !== undefined) latencies.push(seen - done)
    }
    latencies.sort((a, b) => a - b)
    const calls = (yield* control.calls).filter((c) => c.operation === "get" || c.operation === "getMany")
    return {
      reported: latencies.length,
      rateLimited: yield* control.budgetRejections,
      requests: calls.length,
      latency: latencies
    }
  }).pipe(Effect.scoped, Effect.provide(layerFor(scenario, 7).pipe(Layer.provideMerge(TestClock.layer()))))

/** Naive: every job polled on its own every 10 s, ignoring the budget (what vendor docs suggest). */
const naive = (scenario: Scenario) =>
  Effect.gen(function* () {
    const control = yield* TestProvider.TestProvider
    const provider = yield* TranslationProvider
    const jobs = yield* submit(scenario.naiveJobs)
    const reportedAt = new Map<string, number>()
    const fiber = yield* Effect.forkChild(
      Effect.forEach(
        jobs,
        (job) =>
          Effect.gen(function* () {
            while (true) {
              yield* Effect.sleep("10 seconds")
              const read = yield* Effect.result(provider.get(job.ref))
              if (read._tag === "Success" && read.success.state._tag === "Succeeded") {
                reportedAt.set(String(job.ref), read.success.observedAt.epochMilliseconds)
                return
              }
            }
          }),
        { concurrency: "unbounded", discard: true }
      )
    )
    yield* drive(fiber, "6 hours")
    const latencies: Array<number> = []
    for (const job of jobs) {
      const done = yield* control.completesAt(job.ref)
      const seen = reportedAt.get(String(job.ref))
      if (done !== undefined && seen !== undefined) latencies.push(seen - done)
    }
    latencies.sort((a, b) => a - b)
    const calls = (yield* control.calls).filter((c) => c.operation === "get")
    return {
      reported: latencies.length,
      rateLimited: yield* control.budgetRejections,
      requests: calls.length,
      latency: latencies
    }
  }).pipe(Effect.scoped, Effect.provide(layerFor(scenario, 7).pipe(Layer.provideMerge(TestClock.layer()))))

const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "heygen",
    preset: "heygen",
    jobs: Number(process.env.POLYDUB_BENCH_HEYGEN_JOBS ?? 10_000),
    minutes: [5, 45],
    budget: Number(process.env.POLYDUB_BENCH_HEYGEN_BUDGET ?? 60),
    naiveJobs: Number(process.env.POLYDUB_BENCH_NAIVE_JOBS ?? 1_000)
  },
  { name: "voicecheap", preset: "voicecheap", jobs: 1_000, minutes: [2, 20], budget: 30, naiveJobs: 1_000 }
]

const program = Effect.gen(function* () {
  const results: Record<string, unknown> = {}
  for (const scenario of scenarios) {
    const k = scenario.preset === "heygen" ? 100 : 1
    const sweep = scenario.jobs / (k * (scenario.budget / 60))
    const tracked = yield* withTracker(scenario)
    const plain = yield* naive(scenario)
    const figures = {
      jobs: scenario.jobs,
      budgetPerMinute: scenario.budget,
      jobsPerRequest: k,
      sweepPeriodS: Number(sweep.toFixed(1)),
      tracker: {
        reported: tracked.reported,
        status429: tracked.rateLimited,
        requestsPerJob: Number((tracked.requests / scenario.jobs).toFixed(2)),
        latencyP50S: seconds(quantile(tracked.latency, 0.5)),
        latencyP95S: seconds(quantile(tracked.latency, 0.95)),
        latencyP99S: seconds(quantile(tracked.latency, 0.99))
      },
      naive10s: {
        jobs: scenario.naiveJobs,
        reported: plain.reported,
        status429: plain.rateLimited,
        requestsPerJob: Number((plain.requests / scenario.naiveJobs).toFixed(2)),
        latencyP50S: seconds(quantile(plain.latency, 0.5)),
        latencyP95S: seconds(quantile(plain.latency, 0.95)),
        latencyP99S: seconds(quantile(plain.latency, 0.99))
      },
      targets: {
        zero429: tracked.rateLimited === 0,
        p95WithinSweep: quantile(tracked.latency, 0.95) / 1000 <= sweep
      }
    }
    results[scenario.name] = figures
    yield* Console.log(
      `tracking ${scenario.name}: ${scenario.jobs} jobs at ${scenario.budget}/min × ${k}/request (sweep period ${figures.sweepPeriodS} s)\n` +
        `  tracker: ${tracked.reported} reported, ${tracked.rateLimited} × 429, ${figures.tracker.requestsPerJob} requests/job, ` +
        `latency p50 ${figures.tracker.latencyP50S} s, p95 ${figures.tracker.latencyP95S} s, p99 ${figures.tracker.latencyP99S} s\n` +
        `  naive every 10 s (${scenario.naiveJobs} jobs): ${plain.reported} reported, ${plain.rateLimited} × 429, ` +
        `${figures.naive10s.requestsPerJob} requests/job, latency p50 ${figures.naive10s.latencyP50S} s, p95 ${figures.naive10s.latencyP95S} s\n` +
        `  targets: 0 × 429 ${figures.targets.zero429 ? "met" : "NOT met"}; p95 ≤ sweep period ${figures.targets.p95WithinSweep ? "met" : "NOT met"}`
    )
  }
  record("tracking", results)
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
