// core's submission fan-out: staging the source once, a result per target, and refusing a stream
// that several vendor requests would each need to read.
import { assert, describe, it } from "@effect/vitest"
import {
  Job,
  JobRef,
  Language,
  makeProvider,
  ProviderUnavailable,
  type ResolvedRequest,
  Source,
  Submission
} from "@polydub/core"
import { DateTime, Duration, Effect, Result, Stream } from "effect"

const capabilities = {
  review: false,
  urlInput: "native",
  fileInput: true,
  outputs: { video: true, audio: false, captions: false, lipSyncVideo: false },
  captions: false,
  audioOnly: false,
  lipSync: false,
  webhooks: false,
  remove: false,
  idempotency: true,
  targetsPerRequest: 1,
  budget: {},
  polling: { initial: Duration.seconds(1), max: Duration.seconds(1) }
} as const

const languages = Language.makeTable([
  { tag: "es", name: "Spanish" },
  { tag: "fr", name: "French" },
  { tag: "de", name: "German" }
])

const stream = Source.stream({ name: "a.mp4", mediaType: "video/mp4", stream: Stream.make(new Uint8Array(4)) })

/** A provider whose vendor requests are recorded, and fail for the targets in `failing`. */
const recording = (options: { readonly stage: boolean; readonly failing?: ReadonlyArray<string> }) => {
  const staged: Array<string> = []
  const sent: Array<{ readonly targets: ReadonlyArray<string>; readonly asset: string; readonly key?: string }> = []
  const provider = makeProvider<string>({
    id: "rec",
    capabilities,
    languages,
    ...(options.stage
      ? {
          stage: (request: ResolvedRequest) =>
            Effect.sync(() => {
              staged.push(request.targets.map((t) => t.tag).join(","))
              return `asset-${staged.length}`
            })
        }
      : {}),
    submit: (request, asset) =>
      Effect.gen(function* () {
        const targets = request.targets.map((t) => t.tag)
        sent.push({ targets, asset: asset ?? "", ...(request.idempotencyKey ? { key: request.idempotencyKey } : {}) })
        if (targets.some((t) => options.failing?.includes(t))) {
          return yield* new ProviderUnavailable({
            provider: "rec",
            operation: "submit",
            outcome: "unknown",
            message: "the connection dropped after the request was sent"
          })
        }
        const now = yield* DateTime.now
        return request.targets.map(
          (t) =>
            new Job({
              ref: new JobRef({ provider: "rec", kind: "translation", id: `job-${t.tag}` }),
              language: t.tag,
              state: { _tag: "Queued" },
              providerStatus: "queued",
              observedAt: now
            })
        )
      }),
    get: () => Effect.die("not used")
  })
  return { provider, staged, sent }
}

describe("TranslationProvider.submit", () => {
  it.effect("stages the source once and hands it to every vendor request", () =>
    Effect.gen(function* () {
      const { provider, sent, staged } = recording({ stage: true })
      const results = yield* provider.submit({ source: stream, targets: ["es", "fr", "de"], idempotencyKey: "k1" })
      assert.deepStrictEqual(staged, ["es,fr,de"])
      assert.deepStrictEqual(
        sent.map((s) => [s.targets.join(","), s.asset, s.key]),
        [
          ["es", "asset-1", "k1.0"],
          ["fr", "asset-1", "k1.1"],
          ["de", "asset-1", "k1.2"]
        ]
      )
      assert.strictEqual(Submission.accepted(results).length, 3)
    })
  )

  it.effect("sends every target whatever became of the ones before, and reports each", () =>
    Effect.gen(function* () {
      const { provider, sent } = recording({ stage: true, failing: ["fr"] })
      const results = yield* provider.submit({
        source: Source.url("https://m.example.com/a.mp4"),
        targets: ["es", "fr", "de"]
      })
      assert.strictEqual(sent.length, 3)
      assert.deepStrictEqual(
        results.map((r) => [r.language, Result.isSuccess(r.result) ? r.result.success.ref.id : r.result.failure._tag]),
        [
          ["es", "job-es"],
          ["fr", "ProviderUnavailable"],
          ["de", "job-de"]
        ]
      )
    })
  )

  it.effect("refuses a stream that several requests would each read, before anything is sent", () =>
    Effect.gen(function* () {
      const { provider, sent } = recording({ stage: false })
      const error = yield* Effect.flip(provider.submit({ source: stream, targets: ["es", "fr"] }))
      assert.strictEqual(error._tag, "InvalidRequest")
      assert.strictEqual(sent.length, 0)
      // One request reads it once: allowed.
      const one = yield* provider.submit({ source: stream, targets: ["es"] }).pipe(Submission.single)
      assert.strictEqual(one.language, "es")
    })
  )
})
