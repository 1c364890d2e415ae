import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { type Job, type JobRef, JobStore, JobTracker, Source, Submission, TranslationProvider } from "@polydub/core"
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

/** The state tags the tracker publishes from now on, in order. */
const statesSeen = (tracker: JobTracker.JobTrackerService) =>
  Effect.gen(function* () {
    const seen: Array<string> = []
    yield* Effect.forkChild(Stream.runForEach(tracker.changes, (j) => Effect.sync(() => void seen.push(j.state._tag))))
    return seen
  })

const submitMany = (count: number, targets: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const provider = yield* TranslationProvider
    const jobs: Array<Job> = []
    for (let i = 0; i < count; i++)
      jobs.push(...(yield* provider.submit({ source, targets: [targets[i % targets.length]!] }).pipe(Submission.all)))
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
      const seen = yield* statesSeen(tracker)
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

  it.effect("replayed and reordered webhooks make no second transition and never move a settled job back", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const tracker = yield* JobTracker.make(provider)
      const [job] = yield* submitMany(1, ["es"])
      yield* tracker.track(job!)
      const seen = yield* statesSeen(tracker)
      yield* TestClock.adjust("1 second")
      const failed = { _tag: "Failed", reason: { code: "failed", message: "audio missing" } } as const
      yield* tracker.deliver(job!.ref, failed)
      yield* tracker.deliver(job!.ref, failed)
      // An older event arriving late: the job was running before it failed.
      yield* tracker.deliver(job!.ref, { _tag: "Running", progress: 0.5 })
      yield* tracker.deliver(job!.ref, { _tag: "Queued" })
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(seen, ["Failed"])
      const [now] = yield* tracker.snapshot
      assert.strictEqual(now!.state._tag, "Failed")
      const stats = yield* tracker.stats
      assert.strictEqual(stats.webhookUpdates, 4)
      assert.strictEqual(stats.ignoredUpdates, 3)
      // Removal may still follow a final state.
      yield* tracker.deliver(job!.ref, { _tag: "Removed" })
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(seen, ["Failed", "Removed"])
    }).pipe(
      Effect.scoped,
      Effect.provide(TestProvider.layer({ preset: "heygen", id: "heygen", script: () => ({ runningFor: "1 hour" }) }))
    )
  )

  it.effect("a poll answer in flight when a webhook lands is dropped as older news", () =>
    Effect.gen(function* () {
      const real = yield* TranslationProvider
      // Status reads take 20 s, so a webhook lands while one is in flight.
      const provider = {
        ...real,
        get: (ref: JobRef) => Effect.delay(real.get(ref), "20 seconds"),
        getMany: (refs: ReadonlyArray<JobRef>) => Effect.delay(real.getMany(refs), "20 seconds")
      }
      const tracker = yield* JobTracker.make(provider, { minInterval: "5 seconds" })
      const [job] = yield* submitMany(1, ["es"])
      yield* tracker.track(job!)
      const seen = yield* statesSeen(tracker)
      // The first read starts at 5 s and answers at 25 s with Running; the webhook lands at 10 s.
      yield* TestClock.adjust("10 seconds")
      yield* tracker.deliver(job!.ref, { _tag: "Failed", reason: { code: "failed", message: "audio missing" } })
      yield* TestClock.adjust("30 seconds")
      assert.deepStrictEqual(seen, ["Failed"])
      assert.isAtLeast((yield* tracker.stats).ignoredUpdates, 1)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        TestProvider.layer({ preset: "voicecheap", id: "voicecheap", script: () => ({ runningFor: "1 hour" }) })
      )
    )
  )

  it.effect("a job stuck past its deadline is reported overdue, no longer awaited, and still followed", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const tracker = yield* JobTracker.make(provider, { deadline: "30 minutes" })
      const jobs = yield* submitMany(3, ["es", "fr", "fr-CA"])
      for (const job of jobs) yield* tracker.track(job)
      const fiber = yield* Effect.forkChild(tracker.awaitAll())
      const done = yield* runFor(fiber, "10 seconds", "2 hours")
      const tags = Object.fromEntries(done.map((j) => [j.language, j.state._tag]))
      assert.deepStrictEqual(tags, { es: "Succeeded", fr: "Running", "fr-CA": "Succeeded" })
      const overdue = yield* tracker.overdue
      assert.deepStrictEqual(
        overdue.map((j) => j.language),
        ["fr"]
      )
      assert.strictEqual((yield* tracker.stats).overdue, 1)
      // Still followed: when the vendor finally settles it, it is no longer overdue.
      yield* tracker.deliver(overdue[0]!.ref, { _tag: "Failed", reason: { code: "timeout", message: "gave up" } })
      assert.strictEqual((yield* tracker.stats).overdue, 0)
      assert.deepStrictEqual(yield* tracker.overdue, [])
    }).pipe(
      Effect.scoped,
      Effect.provide(
        TestProvider.layer({
          preset: "heygen",
          id: "heygen",
          script: ({ language }) => (language === "fr" ? { stuck: true } : { runningFor: "5 minutes" })
        })
      )
    )
  )

  it.effect("a per-job deadline overrides the tracker's", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const tracker = yield* JobTracker.make(provider, { deadline: "10 hours" })
      const [job] = yield* submitMany(1, ["es"])
      yield* tracker.track(job!, { deadline: "10 minutes" })
      const fiber = yield* Effect.forkChild(tracker.awaitAll())
      const [last] = yield* runFor(fiber, "10 seconds", "1 hour")
      assert.strictEqual(last!.state._tag, "Running")
      assert.strictEqual((yield* tracker.stats).overdue, 1)
    }).pipe(
      Effect.scoped,
      Effect.provide(TestProvider.layer({ preset: "heygen", id: "heygen", script: () => ({ stuck: true }) }))
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
