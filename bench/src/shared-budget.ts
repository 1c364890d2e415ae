/**
 * Shared budget benchmark (`@polydub/fleet` `SharedBudget`, the providers' `RateLimiter` on Redis):
 * what one acquire costs on Redis beside the memory store, one at a time and 16 in flight, and three
 * processes on one VoiceCheap key spending one budget: the peak of status reads in any window, as
 * the VoiceCheap simulator received them, against the budget, and the share of the budget used.
 * Needs the Redis at POLYDUB_BENCH_REDIS_URL (default redis://127.0.0.1:6379); its keys live under
 * a random prefix and are deleted after. The three processes are this file again, run as `reader`.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { JobRef, Source, Submission, TranslationProvider } from "@polydub/core"
import { SharedBudget } from "@polydub/fleet"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { VoiceCheapSimulator } from "@polydub/testing"
import { Config, Console, Duration, Effect, Layer, Redacted } from "effect"
import { RateLimiter } from "effect/persistence"
import { deletePrefix, redisUrl } from "./redis.js"
import { record } from "./results.js"

const wide = { limit: 10_000, window: Duration.seconds(1) }
// VoiceCheap's documented 30 status reads a minute, the minute shortened to one second on both sides.
const budget = { limit: 30, windowMs: 1000 }
const durationMs = 8000
const fibersPerProcess = 8

const micros = (ms: number, n: number) => Number(((ms * 1000) / n).toFixed(1))

/** Every key under `prefix` deleted. */

/** µs per acquire: `n` acquires of a budget that never makes one wait, `inFlight` at a time. */
const acquireCost = (n: number, inFlight: number) =>
  Effect.gen(function* () {
    const limiter = yield* RateLimiter.RateLimiter
    const key = `bench:${inFlight}:${randomBytes(4).toString("hex")}`
    // Slots of exactly 1 ms, never all taken: the Redis script rounds a key's expiry up to whole ms on
    // every acquire, so slots of a fraction of a ms would make acquires wait, and time the wait.
    const acquire = limiter.consume({
      key,
      limit: 3_600_000,
      window: "1 hour",
      algorithm: "fixed-window",
      onExceeded: "delay"
    })
    yield* Effect.forEach(Array.from({ length: 200 }), () => acquire, { concurrency: inFlight, discard: true })
    const start = performance.now()
    yield* Effect.forEach(Array.from({ length: n }), () => acquire, { concurrency: inFlight, discard: true })
    return micros(performance.now() - start, n)
  })

/** The most arrivals in any window of `windowMs` (sliding, starting at each arrival). */
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

/** A reader process: this file run as `reader`, on the built packages. */
const spawnReader = (args: ReadonlyArray<string>, apiKey: string) => {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "reader", ...args], {
    env: { ...process.env, VOICECHEAP_API_KEY: apiKey },
    stdio: ["pipe", "pipe", "inherit"]
  })
  let out = ""
  let signalReady = () => {}
  const ready = new Promise<void>((resolve) => {
    signalReady = resolve
  })
  child.stdout.on("data", (chunk) => {
    out += String(chunk)
    if (out.startsWith("ready\n")) signalReady()
  })
  const done = new Promise<{ reads: number; failures: number }>((resolve, reject) =>
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1)!)) : reject(new Error(`reader exited ${code}`))
    )
  )
  return { ready, done, start: (startAt: number) => child.stdin.end(`${startAt} ${durationMs}\n`) }
}

const fleet = Effect.gen(function* () {
  const prefix = `polydub:bench:${randomBytes(6).toString("hex")}:`
  yield* Effect.addFinalizer(() => deletePrefix(prefix))
  const sim = yield* VoiceCheapSimulator.serve({
    processingMs: 600_000,
    rateLimits: {
      status: budget,
      translate: { limit: 10_000, windowMs: 1000 },
      projects: { limit: 10_000, windowMs: 1000 }
    }
  })
  const dir = mkdtempSync(join(tmpdir(), "polydub-bench-budget-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const path = join(dir, "clip.mp4")
  writeFileSync(path, "")
  truncateSync(path, 10_000)
  const [job] = yield* Effect.flatMap(TranslationProvider, (p) =>
    p.submit({ source: Source.file(path), targets: ["es"] }).pipe(Submission.all)
  ).pipe(
    Effect.provide(
      VoiceCheap.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        budgets: { status: wide, translate: wide, projects: wide }
      }).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))
    )
  )
  const args = [redisUrl, prefix, sim.baseUrl, job!.ref.id]
  const readers = [1, 2, 3].map(() => spawnReader(args, sim.apiKey))
  yield* Effect.promise(() => Promise.all(readers.map((r) => r.ready)))
  const startAt = Date.now() + 200
  for (const r of readers) r.start(startAt)
  const counts = yield* Effect.promise(() => Promise.all(readers.map((r) => r.done)))
  const times = sim.requestTimes("status")
  const inRun = times.filter((t) => t >= startAt && t < startAt + durationMs).length
  return {
    processes: 3,
    budget: `${budget.limit} per ${budget.windowMs} ms`,
    seconds: durationMs / 1000,
    peak: peakIn(times, budget.windowMs),
    limit: budget.limit,
    usePercent: Number(((inRun / ((budget.limit * durationMs) / budget.windowMs)) * 100).toFixed(1)),
    readsPerProcess: counts.map((c) => c.reads),
    failures: counts.reduce((sum, c) => sum + c.failures, 0),
    rejected429: sim.rejectedByRateLimit()
  }
}).pipe(Effect.scoped)

const main = Effect.gen(function* () {
  const prefix = `polydub:bench:${randomBytes(6).toString("hex")}:`
  const memory = RateLimiter.layer.pipe(Layer.provide(RateLimiter.layerStoreMemory))
  const redis = SharedBudget.layer({ prefix, redis: { url: redisUrl } })
  const costs = {
    memorySerialMicros: yield* acquireCost(20_000, 1).pipe(Effect.provide(memory)),
    memory16InFlightMicros: yield* acquireCost(20_000, 16).pipe(Effect.provide(memory)),
    redisSerialMicros: yield* acquireCost(3_000, 1).pipe(Effect.provide(redis)),
    redis16InFlightMicros: yield* acquireCost(10_000, 16).pipe(Effect.provide(redis))
  }
  yield* deletePrefix(prefix)
  yield* Console.log(
    `cost per acquire: memory ${costs.memorySerialMicros} µs one at a time, ${costs.memory16InFlightMicros} µs with 16 in flight; ` +
      `Redis ${costs.redisSerialMicros} µs one at a time, ${costs.redis16InFlightMicros} µs with 16 in flight`
  )
  const shared = yield* fleet
  yield* Console.log(
    `3 processes on one key, ${shared.budget} for ${shared.seconds} s: peak ${shared.peak} in any window (limit ${shared.limit}), ` +
      `${shared.usePercent}% of the budget used, reads per process ${shared.readsPerProcess.join("/")}, ` +
      `${shared.rejected429} answered 429, ${shared.failures} failed`
  )
  record("sharedBudget", { costs, shared })
})

/** One process of the fleet: reads the project's status from `fibersPerProcess` fibers as the shared budget allows. */
const reader = (argv: ReadonlyArray<string>) => {
  const [url, prefix, baseUrl, projectId] = argv
  const lines = createInterface({ input: process.stdin })
  const nextLine = new Promise<string>((resolve) => lines.once("line", resolve))
  const program = Effect.gen(function* () {
    const provider = yield* TranslationProvider
    const ref = new JobRef({ provider: "voicecheap", kind: "translation", id: projectId!, language: "es" })
    yield* Effect.ignore(provider.get(ref)) // warm: the first request opens the connection
    process.stdout.write("ready\n")
    const [startAt, runMs] = (yield* Effect.promise(() => nextLine)).split(" ").map(Number)
    lines.close()
    yield* Effect.sleep(Math.max(0, startAt! - Date.now()))
    const until = startAt! + runMs!
    let reads = 0
    let failures = 0
    const loop: Effect.Effect<void> = Effect.suspend(() =>
      Date.now() >= until
        ? Effect.void
        : provider.get(ref).pipe(
            Effect.match({ onSuccess: () => void reads++, onFailure: () => void failures++ }),
            Effect.flatMap(() => loop)
          )
    )
    yield* Effect.forEach(Array.from({ length: fibersPerProcess }), () => loop, {
      concurrency: "unbounded",
      discard: true
    })
    process.stdout.write(`${JSON.stringify({ reads, failures })}\n`)
  })
  const layer = Layer.unwrap(
    Effect.gen(function* () {
      const apiKey = yield* Config.Redacted("VOICECHEAP_API_KEY")
      return VoiceCheap.layerWith({
        apiKey,
        baseUrl: baseUrl!,
        budgets: {
          status: { limit: budget.limit, window: Duration.millis(budget.windowMs) },
          translate: wide,
          projects: wide
        }
      })
    })
  ).pipe(
    Layer.provide(SharedBudget.layer({ prefix: prefix!, redis: { url: url! } })),
    Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
  )
  return program.pipe(Effect.provide(layer))
}

await Effect.runPromise<void, unknown>(process.argv[2] === "reader" ? reader(process.argv.slice(3)) : main)
