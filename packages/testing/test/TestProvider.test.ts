import { assert, describe, it } from "@effect/vitest"
import { Jobs, Source, Submission, sameState, TranslationProvider } from "@polydub/core"
import { TestProvider } from "@polydub/testing"
import { conformance } from "@polydub/testing/Conformance"
import { Duration, Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"

const requestCount = Effect.flatMap(TestProvider.TestProvider, (control) => control.calls).pipe(
  Effect.map((calls) => calls.length)
)

conformance({
  name: "TestProvider (heygen preset)",
  layer: TestProvider.layer({ preset: "heygen", id: "heygen" }),
  clock: "test",
  requestCount
})
conformance({
  name: "TestProvider (voicecheap preset)",
  layer: TestProvider.layer({ preset: "voicecheap", id: "voicecheap" }),
  clock: "test",
  requestCount
})
conformance({ name: "TestProvider (permissive)", layer: TestProvider.layer(), clock: "test", requestCount })

const source = Source.url("https://media.example.com/a.mp4")

describe("TestProvider", () => {
  it.effect("follows scripts on the test clock and records calls", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      const [job] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      assert.strictEqual(job!.state._tag, "Queued")
      yield* TestClock.adjust(Duration.seconds(10))
      const running = yield* provider.get(job!.ref)
      assert.strictEqual(running.state._tag, "Running")
      if (running.state._tag === "Running") assert.strictEqual(running.state.step, "transcribing")
      const calls = yield* control.calls
      assert.deepStrictEqual(
        calls.map((c) => c.operation),
        ["submit", "get"]
      )
      assert.strictEqual(yield* control.billableSubmissions, 1)
    }).pipe(Effect.provide(TestProvider.layer()))
  )

  it.effect("injects faults on demand, once each", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      const [job] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      yield* control.injectFault({ kind: "RateLimited", operation: "get", retryAfter: "5 seconds" })
      const error = yield* Effect.flip(provider.get(job!.ref))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.deepStrictEqual(error.retryAfter, Duration.seconds(5))
      assert.strictEqual((yield* provider.get(job!.ref)).state._tag, "Queued")
      yield* control.injectFault({ kind: "Unavailable" })
      assert.strictEqual(
        (yield* Effect.flip(provider.submit({ source, targets: ["fr"] }).pipe(Submission.all)))._tag,
        "ProviderUnavailable"
      )
      assert.strictEqual(yield* control.billableSubmissions, 1)
    }).pipe(Effect.provide(TestProvider.layer()))
  )

  it.effect("replays a submission with the same idempotency key instead of billing twice", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      const first = yield* provider
        .submit({ source, targets: ["es", "fr"], idempotencyKey: "order-42" })
        .pipe(Submission.all)
      const again = yield* provider
        .submit({ source, targets: ["es", "fr"], idempotencyKey: "order-42" })
        .pipe(Submission.all)
      assert.deepStrictEqual(again.map(String), first.map(String))
      assert.deepStrictEqual(
        again.map((j) => String(j.ref)),
        first.map((j) => String(j.ref))
      )
      assert.strictEqual(yield* control.billableSubmissions, 1)
    }).pipe(Effect.provide(TestProvider.layer()))
  )

  it.effect("splits targets into one request each where the vendor takes one per request", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      const jobs = yield* provider.submit({ source, targets: ["es", "fr-CA", "de"] }).pipe(Submission.all)
      assert.deepStrictEqual(
        jobs.map((j) => j.language),
        ["es", "fr-CA", "de"]
      )
      const submits = (yield* control.calls).filter((c) => c.operation === "submit")
      assert.deepStrictEqual(
        submits.map((c) => c.targets),
        [["es"], ["fr-CA"], ["de"]]
      )
    }).pipe(Effect.provide(TestProvider.layer({ preset: "voicecheap", id: "voicecheap" })))
  )

  it.effect("a failed middle target: one result per target, the others' jobs kept and billed once", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      yield* control.injectFault({ kind: "Unavailable", operation: "submit", language: "fr-CA" })
      const results = yield* provider.submit({ source, targets: ["es", "fr-CA", "de"] })
      assert.deepStrictEqual(
        results.map((r) => [r.language, r.result._tag]),
        [
          ["es", "Success"],
          ["fr-CA", "Failure"],
          ["de", "Success"]
        ]
      )
      assert.deepStrictEqual(
        Submission.accepted(results).map((j) => j.language),
        ["es", "de"]
      )
      assert.deepStrictEqual(
        Submission.failures(results).map((f) => [f.language, f.error._tag]),
        [["fr-CA", "ProviderUnavailable"]]
      )
      assert.strictEqual(yield* control.billableSubmissions, 2)
      const error = yield* Effect.flip(Effect.succeed(results).pipe(Submission.all))
      assert.strictEqual(error._tag, "SubmissionFailed")
      if (error._tag === "SubmissionFailed") assert.strictEqual(error.accepted.length, 2)
    }).pipe(Effect.provide(TestProvider.layer({ preset: "voicecheap", id: "voicecheap" })))
  )

  it.effect("one request failing for every target fails Submission.all with that request's error", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      yield* control.injectFault({ kind: "Unauthorized", operation: "submit" })
      const error = yield* Effect.flip(provider.submit({ source, targets: ["es", "fr"] }).pipe(Submission.all))
      assert.strictEqual(error._tag, "AuthenticationFailed")
    }).pipe(Effect.provide(TestProvider.layer({ preset: "heygen", id: "heygen" })))
  )

  it.effect("scripts failures and stuck jobs", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const [job] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      yield* TestClock.adjust(Duration.minutes(5))
      const failed = yield* provider.get(job!.ref)
      assert.deepStrictEqual(failed.state, {
        _tag: "Failed",
        reason: { code: "audio_missing", message: "Your video's audio is missing or corrupted" }
      })
    }).pipe(
      Effect.provide(
        TestProvider.layer({
          script: () => ({ failure: { code: "audio_missing", message: "Your video's audio is missing or corrupted" } })
        })
      )
    )
  )
})

describe("Jobs", () => {
  const layer = TestProvider.layer({ preset: "heygen", id: "heygen" })

  it.effect("await follows a job to Succeeded on the advised schedule", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      const [job] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const fiber = yield* Effect.forkChild(Jobs.await(job!.ref))
      yield* TestClock.adjust(Duration.minutes(5))
      const done = yield* Fiber.join(fiber)
      assert.strictEqual(done.state._tag, "Succeeded")
      // HeyGen's advice is 30 s growing to 60 s: a couple of reads for a one-minute job, not dozens.
      const gets = (yield* control.calls).filter((c) => c.operation === "get").length
      assert.isAtMost(gets, 5)
    }).pipe(Effect.provide(layer))
  )

  it.effect("await stops at AwaitingReview for review jobs", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const [job] = yield* provider.submit({ source, targets: ["es"], review: true }).pipe(Submission.all)
      const fiber = yield* Effect.forkChild(Jobs.await(job!.ref))
      yield* TestClock.adjust(Duration.minutes(5))
      assert.strictEqual((yield* Fiber.join(fiber)).state._tag, "AwaitingReview")
    }).pipe(Effect.provide(layer))
  )

  it.effect("await fails with DeadlineExceeded on a stuck job, naming the last state", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const [job] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const fiber = yield* Effect.forkChild(Effect.flip(Jobs.await(job!.ref, { deadline: Duration.minutes(10) })))
      yield* TestClock.adjust(Duration.minutes(11))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "DeadlineExceeded")
      if (error._tag === "DeadlineExceeded") {
        assert.strictEqual(error.lastState?._tag, "Running")
        assert.include(error.message, "still running")
      }
    }).pipe(Effect.provide(TestProvider.layer({ preset: "heygen", id: "heygen", script: () => ({ stuck: true }) })))
  )

  it.effect("await rides out retryable errors and surfaces the rest", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      const [job] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      yield* control.injectFault({ kind: "RateLimited", operation: "get", times: 2, retryAfter: "1 second" })
      const fiber = yield* Effect.forkChild(Jobs.await(job!.ref))
      yield* TestClock.adjust(Duration.minutes(5))
      assert.strictEqual((yield* Fiber.join(fiber)).state._tag, "Succeeded")
      yield* control.injectFault({ kind: "Unauthorized", operation: "get" })
      const error = yield* Effect.flip(Jobs.await(job!.ref))
      assert.strictEqual(error._tag, "AuthenticationFailed")
    }).pipe(Effect.provide(layer))
  )

  it.effect("a failed poll is polled again at the next tick, or after Retry-After when that is later", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      const [job] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const start = (yield* control.calls).length
      yield* control.injectFault({ kind: "RateLimited", operation: "get", times: 2, retryAfter: "5 minutes" })
      const fiber = yield* Effect.forkChild(Jobs.await(job!.ref, { interval: "1 second" }))
      yield* TestClock.adjust(Duration.minutes(12))
      assert.strictEqual((yield* Fiber.join(fiber)).state._tag, "Succeeded")
      const reads = (yield* control.calls).slice(start).filter((c) => c.operation === "get")
      // One read per poll; the vendor's five minutes are waited out in full, twice, then one read succeeds.
      assert.deepStrictEqual(
        reads.map((c) => c.at - reads[0]!.at),
        [0, 300_000, 600_000]
      )
    }).pipe(Effect.provide(layer))
  )

  it.effect("`retries` failed polls in a row are tolerated; one more surfaces the error", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      const [job] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const start = (yield* control.calls).length
      yield* control.injectFault({ kind: "Unavailable", operation: "get", times: 3 })
      const fiber = yield* Effect.forkChild(Effect.flip(Jobs.await(job!.ref, { interval: "1 second", retries: 2 })))
      yield* TestClock.adjust(Duration.minutes(1))
      assert.strictEqual((yield* Fiber.join(fiber))._tag, "ProviderUnavailable")
      const reads = (yield* control.calls).slice(start).filter((c) => c.operation === "get")
      assert.deepStrictEqual(
        reads.map((c) => c.at - reads[0]!.at),
        [0, 1000, 2000]
      )
      yield* control.injectFault({ kind: "Unavailable", operation: "get", times: 2 })
      const riding = yield* Effect.forkChild(Jobs.await(job!.ref, { interval: "1 second", retries: 2 }))
      yield* TestClock.adjust(Duration.minutes(5))
      assert.strictEqual((yield* Fiber.join(riding)).state._tag, "Succeeded")
    }).pipe(Effect.provide(layer))
  )

  it.effect("watch emits each distinct state once, in order", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const [job] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const fiber = yield* Effect.forkChild(Jobs.watch(job!.ref, { interval: "1 second" }).pipe(Stream.runCollect))
      yield* TestClock.adjust(Duration.minutes(3))
      const jobs = yield* Fiber.join(fiber)
      for (let i = 1; i < jobs.length; i++) {
        assert.isFalse(sameState(jobs[i - 1]!.state, jobs[i]!.state), `state ${i} repeats the one before`)
      }
      const tags = jobs.map((j) => (j.state._tag === "Running" ? `Running:${j.state.step}` : j.state._tag))
      const phases = tags.filter((t, i) => i === 0 || tags[i - 1] !== t)
      assert.deepStrictEqual(phases, [
        "Queued",
        "Running:transcribing",
        "Running:translating",
        "Running:dubbing",
        "Running:rendering",
        "Succeeded"
      ])
    }).pipe(Effect.provide(TestProvider.layer()))
  )
})

describe("limits core enforces for every provider", () => {
  it.effect("a source over maxUploadBytes is PayloadTooLarge before anything is sent", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const control = yield* TestProvider.TestProvider
      const error = yield* Effect.flip(
        provider.submit({
          source: Source.stream({ name: "a.mp4", mediaType: "video/mp4", stream: Stream.empty, size: 2049 }),
          targets: ["es"]
        })
      )
      assert.strictEqual(error._tag, "PayloadTooLarge")
      if (error._tag === "PayloadTooLarge") assert.strictEqual(error.limitBytes, 2048)
      assert.deepStrictEqual(yield* control.calls, [])
      const [job] = yield* provider
        .submit({
          source: Source.stream({ name: "a.mp4", mediaType: "video/mp4", stream: Stream.empty, size: 2048 }),
          targets: ["es"]
        })
        .pipe(Submission.all)
      assert.strictEqual(job!.state._tag, "Queued")
    }).pipe(Effect.provide(TestProvider.layer({ capabilities: { maxUploadBytes: 2048 } })))
  )

  it.effect("review and delete follow from the hooks a provider has: said once", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      assert.isFalse(provider.capabilities.review)
      assert.isFalse(provider.capabilities.remove)
      const ref = (yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all))[0]!.ref
      assert.strictEqual((yield* Effect.flip(provider.remove(ref)))._tag, "Unsupported")
    }).pipe(Effect.provide(TestProvider.layer({ capabilities: { review: false, remove: false } })))
  )
})
