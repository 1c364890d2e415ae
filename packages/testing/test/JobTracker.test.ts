import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { type Job, JobStore, JobTracker, Source, TranslationProvider } from "@polydub/core"
import { TestProvider } from "@polydub/testing"
import { Duration, Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"

const source = Source.url("https://media.example.com/a.mp4")

/** Moves the test clock forward in steps until `fiber` is done (or `limit` passes). */
const runFor = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.Input, limit: Duration.Input) =>
  Effect.gen(function* () {
    const steps = Math.ceil(
      Duration.toMillis(Duration.fromInputUnsafe(limit)) / Duration.toMillis(Duration.fromInputUnsafe(step))
    )
    for (let i = 0; i < steps && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust(step)
    return yield* Fiber.join(fiber)
  })

/** The most calls of `operation` inside any sliding window of `windowMs`. */
const peak = (times: ReadonlyArray<number>, windowMs: number) => {
  let best = 0
  let start = 0
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++
    best = Math.max(best, end - start + 1)
  }
  return best
}

const submitMany = (count: number, targets: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const provider = yield* TranslationProvider
    const jobs: Array<Job> = []
    for (let i = 0; i < count; i++)
      jobs.push(...(yield* provider.submit({ source, targets: [targets[i % targets.length]!] })))
    return jobs
  })

describe("JobTracker", () => {
  it.effect("follows 60 VoiceCheap-shaped jobs to the end without ever exceeding 30 status reads a minute", () =>
    Effect.gen(function* () {
      const control = yield* TestProvider.TestProvider
      const provider = yield* TranslationProvider
      const tracker = yield* JobTracker.make(provider)
      const jobs = yield* submitMany(60, ["es", "fr", "de"])
      for (const job of jobs) yield* tracker.track(job)
      const fiber = yield* Effect.forkChild(tracker.awaitAll())
      const done = yield* runFor(fiber, "1 second", "2 hours")
      assert.strictEqual(done.length, 60)
      assert.isTrue(done.every((j) => j.state._tag === "Succeeded"))
      const reads = (yield* control.calls).filter((c) => c.operation === "get").map((c) => c.at)
      assert.isAtMost(peak(reads, 60_000), 30)
      const stats = yield* tracker.stats
      assert.strictEqual(stats.requests, reads.length)
      assert.strictEqual(stats.rateLimited, 0)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        TestProvider.layer({
          preset: "voicecheap",
          id: "voicecheap",
          script: ({ language }) => ({
            runningFor: language === "es" ? "3 minutes" : language === "fr" ? "7 minutes" : "11 minutes"
          })
        })
      )
    )
  )

  it.effect("reads HeyGen-shaped jobs in bulk, 100 a request", () =>
    Effect.gen(function* () {
      const control = yield* TestProvider.TestProvider
      const provider = yield* TranslationProvider
      const tracker = yield* JobTracker.make(provider)
      const jobs = yield* submitMany(250, ["es", "fr-CA"])
      for (const job of jobs) yield* tracker.track(job)
      const fiber = yield* Effect.forkChild(tracker.awaitAll())
      const done = yield* runFor(fiber, "1 second", "1 hour")
      assert.isTrue(done.every((j) => j.state._tag === "Succeeded"))
      const reads = (yield* control.calls).filter((c) => c.operation === "getMany")
      assert.isTrue(reads.every((c) => c.refs.length <= 100))
      assert.isBelow(reads.length, 250 / 2, "bulk reads should cost far fewer requests than jobs")
      assert.isAtMost(
        peak(
          reads.map((c) => c.at),
          60_000
        ),
        60
      )
    }).pipe(Effect.scoped, Effect.provide(TestProvider.layer({ preset: "heygen", id: "heygen" })))
  )

  it.effect("a webhook delivery settles a job at once and ends its polling", () =>
    Effect.gen(function* () {
      const control = yield* TestProvider.TestProvider
      const provider = yield* TranslationProvider
      const tracker = yield* JobTracker.make(provider)
      const [job] = yield* submitMany(1, ["es"])
      yield* tracker.track(job!)
      const seen: Array<string> = []
      yield* Effect.forkChild(
        Stream.runForEach(tracker.changes, (j) => Effect.sync(() => void seen.push(j.state._tag)))
      )
      yield* TestClock.adjust("10 seconds")
      yield* tracker.deliver(job!.ref, { _tag: "Failed", reason: { code: "failed", message: "audio missing" } })
      const before = (yield* control.calls).length
      yield* TestClock.adjust("30 minutes")
      assert.strictEqual((yield* control.calls).length, before, "a settled job was polled again")
      assert.deepStrictEqual(seen, ["Failed"])
      assert.strictEqual((yield* tracker.stats).webhookUpdates, 1)
    }).pipe(
      Effect.scoped,
      Effect.provide(TestProvider.layer({ preset: "heygen", id: "heygen", script: () => ({ runningFor: "1 hour" }) }))
    )
  )

  it.effect("a 429 pauses every read for the advised time", () =>
    Effect.gen(function* () {
      const control = yield* TestProvider.TestProvider
      const provider = yield* TranslationProvider
      const tracker = yield* JobTracker.make(provider, { minInterval: "1 second" })
      for (const job of yield* submitMany(5, ["es"])) yield* tracker.track(job)
      yield* control.injectFault({ kind: "RateLimited", retryAfter: "2 minutes" })
      yield* TestClock.adjust("5 seconds")
      const limitedAt = (yield* control.calls).find((c) => c.fault === "RateLimited")!.at
      yield* TestClock.adjust("3 minutes")
      const after = (yield* control.calls).filter((c) => c.at > limitedAt).map((c) => c.at)
      assert.isAbove(after.length, 0)
      assert.isAtLeast(after[0]! - limitedAt, 120_000)
      assert.strictEqual((yield* tracker.stats).rateLimited, 1)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        TestProvider.layer({ preset: "voicecheap", id: "voicecheap", script: () => ({ runningFor: "1 hour" }) })
      )
    )
  )

  it.effect("no job starves: with more jobs than the budget can read at once, every job is read", () =>
    Effect.gen(function* () {
      const control = yield* TestProvider.TestProvider
      const provider = yield* TranslationProvider
      const tracker = yield* JobTracker.make(provider)
      const jobs = yield* submitMany(40, ["es"])
      for (const job of jobs) yield* tracker.track(job)
      yield* TestClock.adjust("4 minutes")
      const read = new Set((yield* control.calls).filter((c) => c.operation === "get").flatMap((c) => c.refs))
      assert.strictEqual(read.size, 40)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        TestProvider.layer({ preset: "voicecheap", id: "voicecheap", script: () => ({ runningFor: "1 hour" }) })
      )
    )
  )

  it.effect("the tracked jobs survive a restart through the file store", () =>
    Effect.gen(function* () {
      const path = join(mkdtempSync(join(tmpdir(), "polydub-store-")), "jobs.json")
      const provider = yield* TranslationProvider
      const jobs = yield* submitMany(3, ["es", "fr"])
      yield* Effect.gen(function* () {
        const tracker = yield* JobTracker.make(provider)
        for (const job of jobs) yield* tracker.track(job)
      }).pipe(Effect.scoped, Effect.provide(JobStore.layerFile(path)))
      // A new tracker in a "new process" finds them in the store and follows them to the end.
      const resumed = yield* Effect.gen(function* () {
        const tracker = yield* JobTracker.make(provider)
        assert.strictEqual((yield* tracker.snapshot).length, 3)
        const fiber = yield* Effect.forkChild(tracker.awaitAll())
        return yield* runFor(fiber, "1 second", "30 minutes")
      }).pipe(Effect.scoped, Effect.provide(JobStore.layerFile(path)))
      assert.deepStrictEqual(
        resumed.map((j) => j.state._tag),
        ["Succeeded", "Succeeded", "Succeeded"]
      )
      const reloaded = yield* Effect.flatMap(JobStore.makeFile(path), (s) => s.load)
      assert.isTrue(reloaded.jobs.every((j) => j.state._tag === "Succeeded"))
    }).pipe(
      Effect.provide(
        TestProvider.layer({ preset: "heygen", id: "heygen", script: () => ({ runningFor: "5 minutes" }) })
      )
    )
  )

  it.effect("a corrupt store file is a typed error, not a crash", () =>
    Effect.gen(function* () {
      const path = join(mkdtempSync(join(tmpdir(), "polydub-store-")), "jobs.json")
      yield* Effect.sync(() => writeFileSync(path, "{ not json"))
      const error = yield* Effect.flip(JobStore.makeFile(path))
      assert.strictEqual(error._tag, "JobStoreError")
      assert.include(error.message, "not JSON")
    })
  )
})
