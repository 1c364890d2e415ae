/**
 * The provider conformance suite: one call registers the tests every `TranslationProvider` layer
 * must pass — on `TestProvider`, and on each real provider against its simulator. It checks the
 * contract a user relies on, not a provider's internals: jobs per target in order, states that only
 * move forward, the review round trip, typed errors, and that what cannot be done fails before
 * anything is sent (or charged).
 */
import { assert, describe, it } from "@effect/vitest"
import {
  isTranslationError,
  type Job,
  JobRef,
  type JobState,
  Source,
  Submission,
  Transcript,
  type TranslationError,
  TranslationProvider,
  type TranslationRequest
} from "@polydub/core"
import { Duration, Effect, type Layer, Result, Stream } from "effect"
import { TestClock } from "effect/testing"

export interface ConformanceOptions<R> {
  /** Shown in the suite's title. */
  readonly name: string
  /** A fresh provider per test (the layer is built for each test). */
  readonly layer: Layer.Layer<TranslationProvider | R, unknown>
  /** `"test"` moves a `TestClock`; `"live"` really waits (for simulators over sockets). */
  readonly clock: "test" | "live"
  /** How far time moves between polls. Default 5 s on the test clock, 50 ms live. */
  readonly step?: Duration.Input | undefined
  /** Polls before giving up on a job. Default 400. */
  readonly maxPolls?: number | undefined
  /** Two supported targets. Default: the first two distinct primary languages the provider lists. */
  readonly targets?: readonly [string, string] | undefined
  /** The source to translate: a value, or an effect (e.g. a URL on a loopback media server in the layer). */
  readonly source?: Source | Effect.Effect<Source, never, R> | undefined
  /** An id the vendor would accept in form but does not know. Default `"0000000000000000deadbeef00000000-es"`. */
  readonly unknownId?: string | undefined
  /** How many requests reached the vendor (or simulator) so far; proves "nothing was sent". */
  readonly requestCount: Effect.Effect<number, never, R>
  /** Per-test timeout in ms (live runs). */
  readonly timeout?: number | undefined
}

const rank: Record<JobState["_tag"], number> = {
  Queued: 0,
  Running: 1,
  AwaitingReview: 2,
  Succeeded: 3,
  Failed: 3,
  Removed: 4
}

const assertTyped = (error: unknown, tag: TranslationError["_tag"]) => {
  assert.isTrue(isTranslationError(error), `expected a TranslationError, got ${String(error)}`)
  assert.strictEqual((error as TranslationError)._tag, tag, `expected ${tag}, got ${String(error)}`)
}

/** Registers the conformance suite for a provider layer. */
export const conformance = <R>(options: ConformanceOptions<R>): void => {
  const test = options.clock === "live" ? it.live : it.effect
  const step = Duration.fromInputUnsafe(options.step ?? (options.clock === "live" ? 50 : Duration.seconds(5)))
  const maxPolls = options.maxPolls ?? 400
  const sourceOption = options.source ?? Source.url("https://media.example.com/videos/quarterly-update.mp4")
  const source: Effect.Effect<Source, never, R> = Effect.isEffect(sourceOption)
    ? sourceOption
    : Effect.succeed(sourceOption)
  const advance = options.clock === "live" ? Effect.sleep(step) : TestClock.adjust(step)
  const timeout = options.timeout ?? 30_000

  const targetsOf = (provider: TranslationProvider["Service"]): readonly [string, string] => {
    if (options.targets !== undefined) return options.targets
    const seen = new Set<string>()
    const picked: Array<string> = []
    for (const entry of provider.languages) {
      const primary = entry.tag.split("-")[0]!
      if (primary === "en" || seen.has(primary)) continue
      seen.add(primary)
      picked.push(entry.tag)
      if (picked.length === 2) break
    }
    return [picked[0]!, picked[1]!]
  }

  /** Polls until `until` holds, asserting that states only move forward. */
  const follow = Effect.fnUntraced(function* (
    provider: TranslationProvider["Service"],
    ref: JobRef,
    until: (state: JobState) => boolean
  ) {
    const seen: Array<JobState["_tag"]> = []
    for (let i = 0; i < maxPolls; i++) {
      const job: Job = yield* provider.get(ref)
      assert.strictEqual(String(job.ref), String(ref))
      const last = seen.at(-1)
      if (last !== job.state._tag) seen.push(job.state._tag)
      if (last !== undefined) {
        assert.isTrue(rank[job.state._tag] >= rank[last], `state went back: ${seen.join(" → ")}`)
      }
      if (job.state._tag === "Running" && job.state.progress !== undefined) {
        assert.isTrue(job.state.progress >= 0 && job.state.progress <= 1, "progress is a fraction")
      }
      if (until(job.state)) return { job, seen }
      yield* advance
    }
    return assert.fail(`${ref} did not settle after ${maxPolls} polls (seen: ${seen.join(" → ")})`)
  })

  const run = <A, E>(
    body: (
      provider: TranslationProvider["Service"],
      request: (extra?: Partial<TranslationRequest>) => TranslationRequest
    ) => Effect.Effect<A, E, R>
  ) =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const resolved = yield* source
      const request = (extra: Partial<TranslationRequest> = {}): TranslationRequest => ({
        source: resolved,
        targets: [targetsOf(provider)[0]],
        title: "conformance",
        ...extra
      })
      return yield* body(provider, request)
    }).pipe(Effect.provide(options.layer))

  describe(`TranslationProvider conformance: ${options.name}`, () => {
    test(
      "describes itself: an id, capabilities, canonical language tags",
      () =>
        run((provider, _request) =>
          Effect.sync(() => {
            assert.match(provider.id, /^[a-z][a-z0-9-]*$/)
            assert.isAbove(provider.languages.length, 1)
            for (const entry of provider.languages) {
              assert.deepStrictEqual(Intl.getCanonicalLocales(entry.tag), [entry.tag])
              assert.isAbove(entry.name.length, 0)
            }
            assert.isAtLeast(provider.capabilities.targetsPerRequest, 1)
          })
        ),
      timeout
    )

    test(
      "submits one target and follows it, in order, to Succeeded with outputs",
      () =>
        run((provider, request) =>
          Effect.gen(function* () {
            const [target] = targetsOf(provider)
            const jobs = yield* provider.submit(request()).pipe(Submission.all)
            assert.strictEqual(jobs.length, 1)
            const job = jobs[0]!
            assert.strictEqual(job.ref.provider, provider.id)
            assert.strictEqual(job.ref.kind, "translation")
            assert.strictEqual(job.language, target)
            assert.isTrue(job.state._tag === "Queued" || job.state._tag === "Running", `fresh job is ${job.state._tag}`)
            assert.isAbove(job.providerStatus.length, 0)
            const parsed = yield* JobRef.parse(String(job.ref))
            assert.strictEqual(String(parsed), String(job.ref))
            const { job: done, seen } = yield* follow(provider, job.ref, (s) => rank[s._tag] >= 3)
            assert.strictEqual(done.state._tag, "Succeeded", `ended ${done.state._tag} after ${seen.join(" → ")}`)
            if (done.state._tag === "Succeeded" && provider.capabilities.outputs.video) {
              const video = done.state.outputs.video
              if (video === undefined || video.url !== undefined) {
                assert.match(video?.url ?? "", /^https?:\/\//)
              } else {
                // An output the vendor serves only to the key's holder has no URL: it streams through the provider.
                const body = yield* provider.download(done.ref, "video")
                const bytes = yield* Stream.runFold(
                  body.stream,
                  () => 0,
                  (n, chunk) => n + chunk.byteLength
                )
                assert.isAbove(bytes, 0, "the streamed video is empty")
                if (body.contentLength !== undefined) assert.strictEqual(bytes, body.contentLength)
              }
            }
          })
        ),
      timeout
    )

    test(
      "submits several targets: one job per target, in the order asked",
      () =>
        run((provider, request) =>
          Effect.gen(function* () {
            const targets = targetsOf(provider)
            const jobs = yield* provider.submit(request({ targets })).pipe(Submission.all)
            assert.deepStrictEqual(
              jobs.map((j) => j.language),
              [...targets]
            )
            assert.strictEqual(new Set(jobs.map((j) => String(j.ref))).size, 2)
            const results = yield* provider.getMany(jobs.map((j) => j.ref))
            assert.deepStrictEqual(
              results.map((r) => (Result.isSuccess(r) ? String(r.success.ref) : "failure")),
              jobs.map((j) => String(j.ref))
            )
            for (const job of jobs) {
              const { job: done } = yield* follow(provider, job.ref, (s) => rank[s._tag] >= 3)
              assert.strictEqual(done.state._tag, "Succeeded")
            }
          })
        ),
      timeout
    )

    test(
      "getMany reports an unknown reference as NotFound without failing the others",
      () =>
        run((provider, request) =>
          Effect.gen(function* () {
            const [job] = yield* provider.submit(request()).pipe(Submission.all)
            const unknown = new JobRef({
              provider: provider.id,
              kind: "translation",
              id: options.unknownId ?? "0000000000000000deadbeef00000000-es"
            })
            const results = yield* provider.getMany([job!.ref, unknown])
            assert.strictEqual(results.length, 2)
            assert.isTrue(Result.isSuccess(results[0]!))
            const second = results[1]!
            assert.isTrue(Result.isFailure(second))
            if (Result.isFailure(second)) assertTyped(second.failure, "NotFound")
          })
        ),
      timeout
    )

    test(
      "review: transcript → revise → approve → Succeeded, or Unsupported before anything is sent",
      () =>
        run((provider, request) =>
          Effect.gen(function* () {
            if (!provider.capabilities.review) {
              const before = yield* options.requestCount
              const error = yield* Effect.flip(provider.submit(request({ review: true })).pipe(Submission.all))
              assertTyped(error, "Unsupported")
              assert.strictEqual(yield* options.requestCount, before, "a request was sent")
              return
            }
            const [review] = yield* provider.submit(request({ review: true })).pipe(Submission.all)
            assert.strictEqual(review!.ref.kind, "review")
            const { job: ready } = yield* follow(provider, review!.ref, (s) => rank[s._tag] >= 2)
            assert.strictEqual(ready.state._tag, "AwaitingReview")
            const original = yield* provider.transcript(review!.ref)
            assert.isAbove(original.cues.length, 0)
            const first = original.cues[0]!
            const edited = new Transcript.Transcript({
              cues: [new Transcript.Cue({ ...first, text: `${first.text} (reviewed)` }), ...original.cues.slice(1)]
            })
            yield* provider.reviseTranscript(review!.ref, edited)
            const reread = yield* provider.transcript(review!.ref)
            assert.strictEqual(reread.cues[0]!.text, `${first.text} (reviewed)`)
            // The reference carries the job's language (and the API version, where the provider has
            // several), so approving it needs no read first: it is one request.
            assert.strictEqual(review!.ref.language, review!.language)
            assert.strictEqual(review!.ref.apiVersion, provider.apiVersion)
            const beforeApprove = yield* options.requestCount
            const rendering = yield* provider.approve(review!.ref, {
              captions: provider.capabilities.outputs.captions
            })
            assert.strictEqual(rendering.ref.kind, "translation")
            assert.strictEqual(rendering.language, review!.language)
            assert.strictEqual(rendering.ref.language, review!.language)
            assert.isAtMost(
              (yield* options.requestCount) - beforeApprove,
              1,
              "approve read the job before rendering it"
            )
            const { job: done } = yield* follow(provider, rendering.ref, (s) => rank[s._tag] >= 3)
            assert.strictEqual(done.state._tag, "Succeeded")
          })
        ),
      timeout
    )

    test(
      "an unsupported or malformed language fails with UnsupportedLanguage before anything is sent",
      () =>
        run((provider, request) =>
          Effect.gen(function* () {
            const before = yield* options.requestCount
            const [supported] = targetsOf(provider)
            const error = yield* Effect.flip(
              provider.submit(request({ targets: [supported, "tlh"] })).pipe(Submission.all)
            )
            assertTyped(error, "UnsupportedLanguage")
            if (error._tag === "UnsupportedLanguage") assert.strictEqual(error.language, "tlh")
            const malformed = yield* Effect.flip(
              provider.submit(request({ targets: ["not a language!"] })).pipe(Submission.all)
            )
            assertTyped(malformed, "UnsupportedLanguage")
            const near = `${supported.split("-")[0]}-AQ`
            const nearby = yield* Effect.flip(provider.submit(request({ targets: [near] })).pipe(Submission.all))
            assertTyped(nearby, "UnsupportedLanguage")
            if (nearby._tag === "UnsupportedLanguage") assert.isAbove(nearby.suggestions.length, 0)
            assert.strictEqual(yield* options.requestCount, before, "a request was sent")
          })
        ),
      timeout
    )

    test(
      "unsupported features fail with Unsupported before anything is sent",
      () =>
        run((provider, request) =>
          Effect.gen(function* () {
            const caps = provider.capabilities
            const before = yield* options.requestCount
            const cases: Array<[boolean, Partial<TranslationRequest>]> = [
              [caps.review, { review: true }],
              [caps.outputs.captions, { captions: true }],
              [caps.audioOnly, { audioOnly: true }],
              [caps.outputs.lipSyncVideo, { lipSync: true }],
              [caps.webhooks, { callback: { url: "https://hooks.example.com/polydub" } }]
            ]
            for (const [supported, extra] of cases) {
              if (supported) continue
              const error = yield* Effect.flip(provider.submit(request(extra)).pipe(Submission.all))
              assertTyped(error, "Unsupported")
            }
            const empty = yield* Effect.flip(provider.submit(request({ targets: [] })).pipe(Submission.all))
            assertTyped(empty, "InvalidRequest")
            if (!caps.remove) {
              const ref = new JobRef({ provider: provider.id, kind: "translation", id: options.unknownId ?? "x" })
              assertTyped(yield* Effect.flip(provider.remove(ref)), "Unsupported")
            }
            assert.strictEqual(yield* options.requestCount, before, "a request was sent")
          })
        ),
      timeout
    )

    test(
      "unknown references give NotFound; foreign references are refused",
      () =>
        run((provider, _request) =>
          Effect.gen(function* () {
            const id = options.unknownId ?? "0000000000000000deadbeef00000000-es"
            assertTyped(
              yield* Effect.flip(provider.get(new JobRef({ provider: provider.id, kind: "translation", id }))),
              "NotFound"
            )
            if (provider.capabilities.review) {
              const review = new JobRef({ provider: provider.id, kind: "review", id })
              assertTyped(yield* Effect.flip(provider.get(review)), "NotFound")
              assertTyped(yield* Effect.flip(provider.transcript(review)), "NotFound")
            }
            const foreign = new JobRef({ provider: `${provider.id}-other`, kind: "translation", id })
            const before = yield* options.requestCount
            assertTyped(yield* Effect.flip(provider.get(foreign)), "InvalidRequest")
            assert.strictEqual(yield* options.requestCount, before, "a request was sent")
          })
        ),
      timeout
    )

    test(
      "remove deletes where supported",
      () =>
        run((provider, request) =>
          Effect.gen(function* () {
            if (!provider.capabilities.remove) return
            const [job] = yield* provider.submit(request()).pipe(Submission.all)
            yield* provider.remove(job!.ref)
            const after = yield* Effect.result(provider.get(job!.ref))
            if (Result.isSuccess(after)) assert.strictEqual(after.success.state._tag, "Removed")
            else assertTyped(after.failure, "NotFound")
          })
        ),
      timeout
    )
  })
}
