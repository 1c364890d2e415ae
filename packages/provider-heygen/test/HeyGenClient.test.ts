// HeyGenClient against the HeyGen simulator over real loopback sockets: one method per endpoint,
// error mapping, and which requests are sent again after a failure (money: a POST that may have been
// processed is re-sent only with its idempotency key).

import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { HeyGenClient } from "@polydub/provider-heygen"
import { HeyGenSimulator, MediaServer } from "@polydub/testing"
import { Duration, Effect, Layer, Redacted, Stream } from "effect"

const wide = { limit: 100_000, window: Duration.seconds(1) }

const clientOn = (options: Partial<HeyGenClient.HeyGenClientOptions> = {}) =>
  Layer.unwrap(
    Effect.map(HeyGenSimulator.Simulator, (sim) =>
      HeyGenClient.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        uploadBaseUrl: sim.baseUrl,
        budget: wide,
        retryBase: Duration.millis(20),
        ...options
      }).pipe(Layer.provide(HeyGenClient.layerRateLimiterMemory))
    )
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

const stack = (
  sim: HeyGenSimulator.HeyGenSimulatorOptions = {},
  options: Partial<HeyGenClient.HeyGenClientOptions> = {}
) =>
  clientOn(options).pipe(
    Layer.provideMerge(HeyGenSimulator.layer({ queuedMs: 30, runningMs: 150, proofreadMs: 100, ...sim }))
  )

const video = { type: "url" as const, url: "https://media.example.com/a.mp4" }

/** Polls a read until `done` holds (the simulator's jobs take a few hundred ms). */
const until = <A, E, R>(read: Effect.Effect<A, E, R>, done: (a: A) => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      const value = yield* read
      if (done(value)) return value
      yield* Effect.sleep(20)
    }
    return yield* Effect.die(new Error("the job did not settle"))
  })

describe("HeyGenClient v3 over loopback", () => {
  it.live("translations: create, get, list, update title, bulk statuses, batches, delete", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      const { languages } = (yield* client.languages()).data
      assert.include(languages, "Spanish (Spain)")
      const created = yield* client.createTranslation({
        video,
        output_languages: ["Spanish (Spain)", "French (Canada)"],
        title: "Q3",
        enable_caption: true
      })
      const [es, fr] = created.data.video_translation_ids
      assert.match(es!, /^[0-9a-f]{32}-es-ES$/)
      assert.match(fr!, /^[0-9a-f]{32}-fr-CA$/)
      const first = (yield* client.getTranslation(es!)).data
      assert.strictEqual(first.output_language, "Spanish (Spain)")
      assert.include(["pending", "running"], first.status)
      const bulk = yield* client.statuses([es!, fr!, "0000000000000000deadbeef00000000-es"])
      assert.deepStrictEqual(
        bulk.data.map((item) => item.video_id),
        [es, fr, "0000000000000000deadbeef00000000-es"]
      )
      assert.include(["queued", "processing"], bulk.data[0]!.status)
      assert.strictEqual(bulk.data[2]!.status, "not_found")
      const done = yield* until(client.getTranslation(es!), (t) => t.data.status === "completed")
      assert.match(done.data.video_url ?? "", /Expires=\d+/)
      assert.match(done.data.srt_caption_url ?? "", /captions\.srt/)
      assert.strictEqual((yield* client.statuses([es!])).data[0]!.status, "completed")
      const renamed = yield* client.updateTitle(es!, "Q3 (final)")
      assert.strictEqual(renamed.data.title, "Q3 (final)")
      const page = yield* client.listTranslations({ limit: 1 })
      assert.strictEqual(page.data.length, 1)
      assert.isTrue(page.has_more)
      const next = yield* client.listTranslations({ limit: 1, token: page.next_token! })
      assert.notStrictEqual(next.data[0]!.id, page.data[0]!.id)

      const batch = yield* client.createBatch({
        video_translations: [
          { video, output_languages: ["German"] },
          { video, output_languages: ["Klingon"] }
        ],
        title: "launch"
      })
      const settled = yield* until(client.getBatch(batch.data.batch_id), (b) => b.data.status !== "processing")
      assert.strictEqual(settled.data.total_items, 2)
      assert.deepStrictEqual(
        settled.data.items.map((i) => i.status),
        ["completed", "failed"]
      )
      assert.strictEqual(settled.data.status, "completed")

      assert.strictEqual((yield* client.deleteTranslation(fr!)).data.id, fr)
      const gone = yield* Effect.flip(client.getTranslation(fr!))
      assert.strictEqual(gone._tag, "NotFound")
      assert.strictEqual(gone.providerCode, "not_found")
      assert.strictEqual(sim.billableSubmissions(), 3)
    }).pipe(Effect.provide(stack({ concurrentJobs: 5 })))
  )

  it.live("proofreads and assets: create, get, SRT get, SRT put (multipart asset), generate", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      const created = yield* client.createProofread({ video, output_languages: ["Japanese (Japan)"], title: "Q3" })
      assert.strictEqual(created.data.status, "processing")
      const id = created.data.proofread_ids[0]!
      const early = yield* Effect.flip(client.getProofreadSrt(id))
      assert.strictEqual(early._tag, "InvalidRequest")
      yield* until(client.getProofread(id), (p) => p.data.status === "completed")
      const srt = yield* client.fetchText((yield* client.getProofreadSrt(id)).data.srt_url)
      assert.match(srt, /^1\n00:00:00,000 --> /)
      const edited = srt.replace("Welcome", "Bienvenue")
      const bytes = new TextEncoder().encode(edited)
      const asset = yield* client.uploadAsset({
        name: "edited.srt",
        mediaType: "application/x-subrip",
        size: bytes.byteLength,
        stream: Stream.succeed(bytes),
        replayable: true
      })
      assert.match(asset.data.asset_id, /^ast_/)
      const put = yield* client.putProofreadSrt(id, { type: "asset_id", asset_id: asset.data.asset_id })
      assert.strictEqual(put.data.status, "completed")
      assert.include(sim.proofreadSrt(id) ?? "", "Bienvenue")
      const generated = yield* client.generateProofread(id, { captions: true, translate_audio_only: true })
      assert.strictEqual(generated.data.status, "processing")
      const done = yield* until(
        client.getTranslation(generated.data.video_translation_id),
        (t) => t.data.status === "completed"
      )
      assert.isTrue(done.data.translate_audio_only === true)
      assert.include(yield* client.fetchText(done.data.srt_caption_url!), "Bienvenue")
    }).pipe(Effect.provide(stack()))
  )

  it.live("an asset over 32 MB is refused by the multipart route (413 → PayloadTooLarge)", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const size = 33 * 1024 * 1024
      const chunk = new Uint8Array(1024 * 1024)
      const error = yield* Effect.flip(
        client.uploadAsset({
          name: "big.mp4",
          mediaType: "video/mp4",
          size,
          stream: Stream.range(1, 33).pipe(Stream.map(() => chunk)),
          replayable: true
        })
      )
      assert.strictEqual(error._tag, "PayloadTooLarge")
      assert.strictEqual(error.providerCode, "payload_too_large")
    }).pipe(Effect.provide(stack()))
  )

  it.live("the caller's idempotency key replays the first answer instead of billing again", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      const a = yield* client.createTranslation({ video, output_languages: ["Spanish"] }, "order-7")
      const b = yield* client.createTranslation({ video, output_languages: ["Spanish"] }, "order-7")
      assert.deepStrictEqual(a.data.video_translation_ids, b.data.video_translation_ids)
      assert.strictEqual(sim.billableSubmissions(), 1)
      assert.strictEqual(sim.replays(), 1)
      const other = yield* client.createTranslation({ video, output_languages: ["Spanish"] }, "order-8")
      assert.notDeepEqual(other.data.video_translation_ids, a.data.video_translation_ids)
      assert.strictEqual(sim.billableSubmissions(), 2)
    }).pipe(Effect.provide(stack()))
  )

  it.live("a key is remembered for the idempotency window only: a repeat after it is a new, billed job", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      const a = yield* client.createTranslation({ video, output_languages: ["Spanish"] }, "order-9")
      yield* Effect.sleep(400)
      const b = yield* client.createTranslation({ video, output_languages: ["Spanish"] }, "order-9")
      assert.notDeepEqual(a.data.video_translation_ids, b.data.video_translation_ids)
      assert.strictEqual(sim.replays(), 0)
      assert.strictEqual(sim.billableSubmissions(), 2)
    }).pipe(Effect.provide(stack({ idempotencyTtlMs: 300 })))
  )

  it.live("an answer whose body stalls after the headers times out as an unknown outcome, not a hang", () =>
    Effect.gen(function* () {
      const server = yield* MediaServer.serve([
        { path: "/v3/video-translations/abc-es", size: 4096, mediaType: "application/json", stallAfter: 16 }
      ])
      const error = yield* Effect.gen(function* () {
        const client = yield* HeyGenClient.HeyGenClient
        return yield* Effect.flip(client.getTranslation("abc-es"))
      }).pipe(
        Effect.provide(
          HeyGenClient.layer({
            apiKey: Redacted.make("hg_test"),
            baseUrl: server.baseUrl,
            budget: wide,
            retryBase: Duration.millis(20),
            timeouts: { read: Duration.millis(300) }
          }).pipe(Layer.provide([HeyGenClient.layerRateLimiterMemory, NodeHttpClient.layerUndici]))
        )
      )
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.include(error.message, "timed out after")
      // A read is retried: three attempts, each cut off.
      assert.strictEqual(server.requests(), 3)
    }).pipe(Effect.scoped)
  )

  it.live("bearer auth works; a wrong key is AuthenticationFailed and never echoed", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      assert.isAbove((yield* client.languages()).data.languages.length, 100)
    }).pipe(
      Effect.provide(stack({}, { auth: "bearer" })),
      Effect.andThen(
        Effect.gen(function* () {
          const client = yield* HeyGenClient.HeyGenClient
          const error = yield* Effect.flip(client.languages())
          assert.strictEqual(error._tag, "AuthenticationFailed")
          assert.strictEqual(error.providerCode, "authentication_failed")
          assert.notInclude(`${String(error)}${JSON.stringify(error)}`, "wrong_key_do_not_print")
        }).pipe(Effect.provide(stack({}, { apiKey: Redacted.make("hg_wrong_key_do_not_print") })))
      )
    )
  )
})

describe("HeyGenClient retries over loopback", () => {
  it.live("a keyed v3 POST answered 5xx after processing is re-sent with the same key and replayed", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      sim.injectFault({ kind: "http500After", method: "POST", pathPrefix: "/v3/video-translations" })
      const created = yield* client.createTranslation({ video, output_languages: ["Spanish"] })
      assert.lengthOf(created.data.video_translation_ids, 1)
      assert.strictEqual(sim.requests(), 2)
      assert.strictEqual(sim.replays(), 1)
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(Effect.provide(stack()))
  )

  it.live("a v2 POST (no key) answered 5xx is not re-sent: ProviderUnavailable, outcome unknown, billed once", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      sim.injectFault({ kind: "http500After", method: "POST", pathPrefix: "/v2/video_translate" })
      const error = yield* Effect.flip(client.v2Create({ video_url: video.url, output_language: "Spanish" }))
      assert.isTrue(error._tag === "ProviderUnavailable" && error.outcome === "unknown", String(error))
      assert.strictEqual(error.status, 500)
      assert.strictEqual(sim.requests(), 1)
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(Effect.provide(stack()))
  )

  it.live("an upload from a stream that cannot be read twice is not re-sent; a file's upload is", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      const bytes = new TextEncoder().encode("1\n00:00:00,000 --> 00:00:01,000\nHola\n")
      const upload = (replayable: boolean) =>
        client.uploadAsset({
          name: "a.srt",
          mediaType: "application/x-subrip",
          size: bytes.byteLength,
          stream: Stream.succeed(bytes),
          replayable
        })
      sim.injectFault({ kind: "http500", method: "POST", pathPrefix: "/v3/assets" })
      const error = yield* Effect.flip(upload(false))
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.strictEqual(sim.requests(), 1)
      sim.injectFault({ kind: "http500", method: "POST", pathPrefix: "/v3/assets" })
      const asset = yield* upload(true)
      assert.match(asset.data.asset_id, /^ast_/)
      assert.strictEqual(sim.requests(), 3)
    }).pipe(Effect.provide(stack()))
  )

  it.live("a v2 POST answered 429 is re-sent after Retry-After: nothing was processed the first time", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      yield* client.v2Languages()
      const created = yield* client.v2Create({ video_url: video.url, output_language: "Spanish" })
      assert.isString(created.data.video_translate_id)
      assert.strictEqual(sim.rejectedByRateLimit(), 1)
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(Effect.provide(stack({ rateLimit: { limit: 1, windowMs: 1000 } })))
  )

  it.live("v2 answers HTTP 200 with `error` set: an error, not a result", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      const created = yield* client.v2Create({ video_url: video.url, output_languages: ["Spanish", "French"] })
      const ids = created.data.video_translate_ids ?? []
      assert.lengthOf(ids, 2)
      assert.isNull(created.data.video_translate_id ?? null)
      sim.injectFault({ kind: "errorInOk", method: "GET", times: 3 })
      const error = yield* Effect.flip(client.v2Status(ids[0]!))
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.strictEqual(error.message, "Internal error, please retry later")
      assert.strictEqual(error.status, 200)
      const status = yield* client.v2Status(ids[0]!)
      assert.include(["pending", "running"], status.data.status)
      const done = yield* until(client.v2Status(ids[0]!), (s) => s.data.status === "success")
      assert.match(done.data.url ?? "", /video\.mp4\?Expires=/)
      const caption = yield* client.v2Caption(ids[0]!, "vtt")
      assert.match(yield* client.fetchText(caption.data.caption_url), /^WEBVTT/)
      assert.include((yield* client.v2Languages()).data.languages, "Spanish (Mexico)")
      const missing = yield* Effect.flip(client.v2Status("0000000000000000deadbeef00000000-es"))
      assert.strictEqual(missing._tag, "NotFound")
    }).pipe(Effect.provide(stack({}, { retries: 2 })))
  )

  it.live("a read that outlives its timeout is ProviderUnavailable with an unknown outcome", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      sim.injectFault({ kind: "latency", ms: 1000, method: "GET" })
      const error = yield* Effect.flip(client.languages())
      assert.isTrue(error._tag === "ProviderUnavailable" && error.outcome === "unknown", String(error))
    }).pipe(Effect.provide(stack({}, { retries: 0, timeouts: { read: Duration.millis(150) } })))
  )

  it.live("a refused connection is ProviderUnavailable with outcome not-sent", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const error = yield* Effect.flip(client.createTranslation({ video, output_languages: ["Spanish"] }))
      assert.isTrue(error._tag === "ProviderUnavailable" && error.outcome === "not-sent", String(error))
    }).pipe(
      Effect.provide(
        HeyGenClient.layer({
          apiKey: Redacted.make("hg_unused"),
          // Port 9 (discard) on loopback: nothing listens there in a test environment.
          baseUrl: "http://127.0.0.1:9",
          retries: 0
        }).pipe(Layer.provide([HeyGenClient.layerRateLimiterMemory, NodeHttpClient.layerUndici]))
      )
    )
  )

  it.live("a malformed body is UnexpectedResponse with the failing path and an excerpt, not a crash", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      sim.injectFault({ kind: "malformed", method: "GET" })
      const error = yield* Effect.flip(client.languages())
      assert.isTrue(error._tag === "UnexpectedResponse" && error.path === "(body)", String(error))
      if (error._tag === "UnexpectedResponse") assert.include(error.excerpt, '{"data"')
    }).pipe(Effect.provide(stack()))
  )
})
