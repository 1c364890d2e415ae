/**
 * Fleet tracking benchmark, in real time: 30,000 HeyGen jobs followed the way the fleet's sweeper
 * follows them — one `JobTracker` in one runner (the sweeper is a cluster singleton), without a job
 * store, in bulk reads of 100 — while two other runners submit the jobs, 50 targets a request,
 * and all three processes spend one budget on one API key through `SharedBudget` on Redis. The
 * HeyGen simulator (here) refuses anything over the vendor's limit with 429 and times every arrival.
 *
 * Not 30,000 full workflows: at the 40 or so a second one runner completes here (`fleet.ts`), they
 * would hold this machine's two cores for over ten minutes with work that is not tracking; what a
 * workflow adds to tracking is a row read per new wait (see `Sweeper`), not vendor requests.
 *
 * Jobs run 30 s; the submissions are spread over `POLYDUB_BENCH_FLEET_TRACKING_SECONDS` (default
 * 300), so about 100 jobs finish per second, each read once more on its own for its outputs
 * (HeyGen's bulk status carries no URLs). Over 150 s (200 a second) the single reads fell behind on
 * this machine: about 150 a second went through, and the reports' p95 grew to 35 s.
 *
 * Prints the 429s, the peak in any 1 s window against the budget, the latency from a job's
 * completion to the tracker's report (p50, p95, p99), and the sweep period N / (k · B) at the most
 * jobs in flight. Needs the Redis at POLYDUB_BENCH_REDIS_URL (default redis://127.0.0.1:6379); its
 * keys live under a random prefix and are deleted after.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createInterface } from "node:readline"
import type { Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { JobJson, JobTracker, Source, Submission, TranslationProvider } from "@polydub/core"
import { SharedBudget } from "@polydub/fleet"
import { HeyGen } from "@polydub/provider-heygen"
import { HeyGenSimulator } from "@polydub/testing"
import { Config, Console, Duration, Effect, Layer, Schema, Stream } from "effect"
import { deletePrefix, redisUrl } from "./redis.js"
import { record } from "./results.js"

const jobs = Number(process.env.POLYDUB_BENCH_FLEET_TRACKING_JOBS ?? 30_000)
const submitSeconds = Number(process.env.POLYDUB_BENCH_FLEET_TRACKING_SECONDS ?? 300)
/** The vendor's limit (HeyGen publishes none; its minute scaled to a second), and the budget the runners share. */
const limit = { limit: 300, windowMs: 1000 }
const budget = { limit: 300, window: Duration.seconds(1) }
const queuedMs = 1000
const runningMs = 29_000
const bulk = 100
const submitters = 2
/**
 * The sweeper's tracker options (`SweeperOptions.tracker.heygen`): a share of the budget for its bulk
 * reads (the rest goes to the single reads of finished jobs and to submissions), no job read again
 * within 1 s, and 32 reads in flight. Without them the tracker takes the provider's status budget,
 * which HeyGen leaves open (one budget for every call), and falls back to 60 a minute. A bulk read
 * waits for the single reads of the jobs it found finished (HeyGen's bulk status carries no URLs),
 * so with the default 8 in flight, about 200 jobs finishing a second held the bulk reads to 8.5 a
 * second and the reports fell behind (p95 46 s).
 */
const trackerOptions = {
  budget: { limit: 50, window: Duration.seconds(1) },
  minInterval: Duration.seconds(1),
  concurrency: 32
}

const encodeJob = Schema.encodeSync(JobJson)
const decodeJob = Schema.decodeUnknownSync(JobJson)

const quantile = (sorted: ReadonlyArray<number>, q: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!

/** The most arrivals in any window of `windowMs`. */
const peakIn = (times: ReadonlyArray<number>, windowMs: number): number => {
  const sorted = [...times].sort((a, b) => a - b)
  let peak = 0
  let end = 0
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++
    peak = Math.max(peak, end - start)
  }
  return peak
}

/** The HeyGen provider of a runner process, on the shared budget. */
const providerLayer = (prefix: string, baseUrl: string) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const apiKey = yield* Config.Redacted("HEYGEN_API_KEY")
      return HeyGen.layerWith({ apiKey, baseUrl, budget })
    })
  ).pipe(
    Layer.provide(SharedBudget.layer({ prefix, redis: { url: redisUrl } })),
    Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
  )

type Child = ChildProcessByStdio<Writable, Readable, null>

const spawnRole = (role: "tracker" | "submitter", args: ReadonlyArray<string>, apiKey: string): Child =>
  spawn(process.execPath, [fileURLToPath(import.meta.url), role, ...args], {
    env: { ...process.env, HEYGEN_API_KEY: apiKey },
    stdio: ["pipe", "pipe", "inherit"]
  })

const exited = (child: Child) =>
  new Promise<void>((resolve, reject) =>
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${child.spawnargs[2]} exited ${code}`))))
  )

const main = Effect.gen(function* () {
  const prefix = `polydub:bench:${randomBytes(6).toString("hex")}:`
  yield* Effect.addFinalizer(() => deletePrefix(prefix))
  const sim = yield* HeyGenSimulator.serve({ queuedMs, runningMs, concurrentJobs: 1_000_000, rateLimit: limit })
  const args = [prefix, sim.baseUrl]

  // The tracker runner learns each job as the submitters create it (in the fleet: a new wait row).
  const tracker = spawnRole("tracker", args, sim.apiKey)
  const trackerDone = exited(tracker)
  let report = ""
  tracker.stdout.on("data", (chunk) => void (report += String(chunk)))
  const sent = new Map<string, number>()
  const share = Math.ceil(jobs / submitters)
  const subs = Array.from({ length: submitters }, (_, i) =>
    spawnRole("submitter", [...args, String(Math.min(share, jobs - i * share))], sim.apiKey)
  )
  const startedAt = Date.now()
  for (const sub of subs) {
    createInterface({ input: sub.stdout }).on("line", (line) => {
      // `<sent at> <job JSON>`: the job was created no earlier than the request was sent.
      const space = line.indexOf(" ")
      const job = decodeJob(JSON.parse(line.slice(space + 1)))
      sent.set(job.ref.id, Number(line.slice(0, space)))
      tracker.stdin.write(`${line.slice(space + 1)}\n`)
    })
  }
  yield* Effect.promise(() => Promise.all(subs.map(exited)))
  tracker.stdin.end()
  yield* Effect.promise(() => trackerDone)
  const { detected, stats, peakTracked } = JSON.parse(report.trim().split("\n").at(-1)!) as {
    detected: Record<string, number>
    stats: { requests: number; rateLimited: number }
    peakTracked: number
  }
  const latencies: Array<number> = []
  for (const [id, at] of sent) {
    const seen = detected[id]
    if (seen !== undefined) latencies.push(seen - (at + queuedMs + runningMs))
  }
  latencies.sort((a, b) => a - b)
  const seconds = (Date.now() - startedAt) / 1000
  const sweepS = peakTracked / (bulk * trackerOptions.budget.limit)
  // A job is read again after a sweep, and never within `minInterval`: the longer of the two bounds the wait.
  const revisitS = Math.max(sweepS, Duration.toSeconds(trackerOptions.minInterval))
  const figures = {
    jobs,
    runners: 1 + submitters,
    budget: `${budget.limit} per 1 s, shared on Redis`,
    vendorLimit: `${limit.limit} per ${limit.windowMs} ms`,
    jobSeconds: (queuedMs + runningMs) / 1000,
    submitSeconds,
    seconds: Number(seconds.toFixed(1)),
    created: sent.size,
    reported: latencies.length,
    status429: sim.rejectedByRateLimit(),
    peak: peakIn(sim.requestTimes(), limit.windowMs),
    requests: sim.requests(),
    requestsPerJob: Number((sim.requests() / jobs).toFixed(2)),
    bulkReads: stats.requests,
    peakTracked,
    sweepPeriodS: Number(sweepS.toFixed(2)),
    revisitPeriodS: Number(revisitS.toFixed(2)),
    latencyP50S: Number((quantile(latencies, 0.5) / 1000).toFixed(2)),
    latencyP95S: Number((quantile(latencies, 0.95) / 1000).toFixed(2)),
    latencyP99S: Number((quantile(latencies, 0.99) / 1000).toFixed(2))
  }
  yield* Console.log(
    `fleet tracking: ${jobs} HeyGen jobs (${figures.jobSeconds} s each, submitted over ${submitSeconds} s by ${submitters} runners, 50 a request) ` +
      `followed by the sweeper's JobTracker in a third, one budget of ${budget.limit}/s on Redis across the three: ` +
      `${figures.reported} of ${figures.created} reported in ${figures.seconds} s; ${figures.status429} × 429; peak ${figures.peak} requests in any 1 s ` +
      `(vendor limit ${limit.limit}); ${figures.requests} requests in all (${figures.requestsPerJob} a job; ${stats.requests} bulk reads)\n` +
      `  completion → report p50 ${figures.latencyP50S} s, p95 ${figures.latencyP95S} s, p99 ${figures.latencyP99S} s; ` +
      `sweep period at the most jobs in flight (${peakTracked} jobs / (${bulk} a read × ${trackerOptions.budget.limit} bulk reads/s)) ${figures.sweepPeriodS} s; ` +
      `revisit period (the longer of it and the 1 s minimum between reads of a job) ${figures.revisitPeriodS} s; ` +
      `targets: 0 × 429 ${figures.status429 === 0 ? "met" : "NOT met"}, p95 ≤ revisit period ${figures.latencyP95S <= revisitS ? "met" : "NOT met"}`
  )
  record("fleetTracking", figures)
}).pipe(Effect.scoped)

/** A runner that submits `count` jobs, 50 targets a request, spread evenly over `submitSeconds`; prints each job. */
const submitter = ([prefix, baseUrl, count]: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const provider = yield* TranslationProvider
    const targets = provider.languages.slice(0, 50).map((l) => l.tag)
    const requests = Math.ceil(Number(count) / targets.length)
    const spacing = (submitSeconds * 1000) / requests
    const start = Date.now()
    let left = Number(count)
    for (let i = 0; i < requests; i++) {
      yield* Effect.sleep(Math.max(0, start + i * spacing - Date.now()))
      const at = Date.now()
      const created = yield* provider
        .submit({
          source: Source.url("https://videos.example/talk.mp4"),
          targets: targets.slice(0, Math.min(left, targets.length)),
          idempotencyKey: `bench-${randomBytes(8).toString("hex")}`
        })
        .pipe(Submission.all)
      left -= created.length
      process.stdout.write(created.map((job) => `${at} ${JSON.stringify(encodeJob(job))}\n`).join(""))
    }
  }).pipe(Effect.provide(providerLayer(prefix!, baseUrl!)))

/** The sweeper's runner: tracks every job it is told of until stdin ends and all have rested; prints when each was seen done. */
const trackerRole = ([prefix, baseUrl]: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const provider = yield* TranslationProvider
    const tracker = yield* JobTracker.make(provider, trackerOptions)
    const detected: Record<string, number> = {}
    let tracked = 0
    let peakTracked = 0
    yield* tracker.changes.pipe(
      Stream.runForEach((job) =>
        Effect.sync(() => {
          if (job.state._tag === "Succeeded" || job.state._tag === "Failed") {
            detected[job.ref.id] = Date.now()
            tracked--
          }
        })
      ),
      Effect.forkScoped
    )
    const lines = createInterface({ input: process.stdin })
    yield* Stream.fromAsyncIterable(lines, (e) => e).pipe(
      Stream.runForEach((line) =>
        Effect.suspend(() => {
          tracked++
          peakTracked = Math.max(peakTracked, tracked)
          return tracker.track(decodeJob(JSON.parse(line)))
        })
      ),
      Effect.orDie
    )
    yield* tracker.awaitAll()
    const stats = yield* tracker.stats
    process.stdout.write(`${JSON.stringify({ detected, stats, peakTracked })}\n`)
  }).pipe(Effect.scoped, Effect.provide(providerLayer(prefix!, baseUrl!)))

const role = process.argv[2]
await Effect.runPromise<void, unknown>(
  role === "tracker"
    ? trackerRole(process.argv.slice(3))
    : role === "submitter"
      ? submitter(process.argv.slice(3))
      : main
)
