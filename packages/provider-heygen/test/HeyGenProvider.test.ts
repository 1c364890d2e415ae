// The HeyGen provider against the HeyGen simulator, over real loopback sockets, on v3 and v2.

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { JobRef, Jobs, Source, Submission, Transcript, TranslationProvider } from "@polydub/core"
import { HeyGen, HeyGenClient, HeyGenLanguages } from "@polydub/provider-heygen"
import { HeyGenSimulator, Spans } from "@polydub/testing"
import { conformance } from "@polydub/testing/Conformance"
import { ConfigProvider, Duration, Effect, Layer, Logger, Redacted, Stream } from "effect"
import { HttpClient } from "effect/http"

const wide = { limit: 100_000, window: Duration.seconds(1) }

const providerOn = (options: Partial<HeyGen.HeyGenLayerOptions> = {}) =>
  Layer.unwrap(
    Effect.map(HeyGenSimulator.Simulator, (sim) =>
      HeyGen.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        uploadBaseUrl: sim.baseUrl,
        budget: wide,
        ...options
      })
    )
  ).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))

const stack = (sim: HeyGenSimulator.HeyGenSimulatorOptions = {}, options: Partial<HeyGen.HeyGenLayerOptions> = {}) =>
  providerOn(options).pipe(
    Layer.provideMerge(HeyGenSimulator.layer({ queuedMs: 50, runningMs: 300, proofreadMs: 200, ...sim }))
  )

const requestCount = Effect.map(HeyGenSimulator.Simulator, (sim) => sim.requests())
const unknownId = "0000000000000000deadbeef00000000-es"

conformance({
  name: "HeyGen v3 on its simulator (loopback)",
  layer: stack(),
  clock: "live",
  step: 40,
  requestCount,
  unknownId
})
conformance({
  name: "HeyGen v2 on its simulator (loopback)",
  layer: stack({}, { apiVersion: "v2" }),
  clock: "live",
  step: 40,
  requestCount,
  unknownId
})

const follow = (ref: JobRef) => Jobs.await(ref, { interval: 40, deadline: "20 seconds" })

describe("HeyGen provider over loopback", () => {
  for (const apiVersion of ["v3", "v2"] as const) {
    it.live(`${apiVersion}: proofread round trip — create → SRT → edit → put → generate → completed with outputs`, () =>
      Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const sim = yield* HeyGenSimulator.Simulator
        const [review] = yield* provider
          .submit({
            source: Source.url("https://media.example.com/q3.mp4"),
            targets: ["es-MX"],
            review: true,
            title: "Q3"
          })
          .pipe(Submission.all)
        assert.strictEqual(review!.ref.kind, "review")
        assert.strictEqual((yield* follow(review!.ref)).state._tag, "AwaitingReview")
        const transcript = yield* provider.transcript(review!.ref)
        assert.strictEqual(transcript.cues.length, 3)
        const edited = new Transcript.Transcript({
          cues: transcript.cues.map((c, i) =>
            i === 0 ? new Transcript.Cue({ ...c, text: "Bienvenidos a la actualización del Q3." }) : c
          )
        })
        yield* provider.reviseTranscript(review!.ref, edited)
        assert.include(sim.proofreadSrt(review!.ref.id) ?? "", "Bienvenidos a la actualización del Q3.")
        assert.strictEqual(
          (yield* provider.transcript(review!.ref)).cues[0]!.text,
          "Bienvenidos a la actualización del Q3."
        )
        const rendering = yield* provider.approve(review!.ref, { captions: true })
        assert.strictEqual(rendering.language, "es-MX")
        const done = yield* follow(rendering.ref)
        assert.strictEqual(done.state._tag, "Succeeded")
        if (done.state._tag === "Succeeded") {
          assert.match(done.state.outputs.video?.url ?? "", /^http:\/\/127\.0\.0\.1:\d+\/files\//)
          assert.isDefined(done.state.outputs.video?.expiresAt)
          if (apiVersion === "v3") assert.isDefined(done.state.outputs.captions?.srt)
        }
        assert.strictEqual(sim.billableSubmissions(), 2)
      }).pipe(Effect.provide(stack({}, { apiVersion })))
    )
  }

  it.live("v3: several targets in one request come back as one job each, in order; getMany reads them in bulk", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* HeyGenSimulator.Simulator
      const jobs = yield* provider
        .submit({
          source: Source.url("https://media.example.com/a.mp4"),
          targets: ["fr-CA", "ja-JP", "pt-BR"]
        })
        .pipe(Submission.all)
      assert.deepStrictEqual(
        jobs.map((j) => j.language),
        ["fr-CA", "ja-JP", "pt-BR"]
      )
      const before = sim.requests()
      const results = yield* provider.getMany(jobs.map((j) => j.ref))
      assert.strictEqual(results.length, 3)
      assert.strictEqual(sim.requests() - before, 1, "one bulk request for three queued jobs")
    }).pipe(Effect.provide(stack()))
  )

  it.live("v3: a local file is uploaded as an asset (streamed) first; a large one through the direct-upload flow", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "polydub-hg-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const small = join(dir, "small.mp4")
      writeFileSync(small, "x".repeat(4096))
      const large = join(dir, "large.mp4")
      writeFileSync(large, "")
      truncateSync(large, 40 * 1024 * 1024)
      const provider = yield* TranslationProvider
      for (const path of [small, large]) {
        const [job] = yield* provider.submit({ source: Source.file(path), targets: ["es"] }).pipe(Submission.all)
        assert.strictEqual((yield* follow(job!.ref)).state._tag, "Succeeded")
      }
      // A stream of unknown size goes multipart, chunked.
      const [streamed] = yield* provider
        .submit({
          source: Source.stream({
            name: "clip.mp4",
            mediaType: "video/mp4",
            stream: Stream.make(new Uint8Array(2048), new Uint8Array(2048))
          }),
          targets: ["es"]
        })
        .pipe(Submission.all)
      assert.strictEqual((yield* follow(streamed!.ref)).state._tag, "Succeeded")
    }).pipe(Effect.provide(stack()))
  )

  for (const apiVersion of ["v3", "v2"] as const) {
    it.live(
      `${apiVersion}: a stream for more targets than one request takes is uploaded once and named by every request`,
      () =>
        Effect.gen(function* () {
          const provider = yield* TranslationProvider
          const sim = yield* HeyGenSimulator.Simulator
          // More distinct targets than the 50 one request takes: two vendor requests.
          const targets = [...new Set(HeyGenLanguages.table.entries.map((e) => e.tag))].slice(0, 60)
          assert.strictEqual(targets.length, 60)
          let reads = 0
          const results = yield* provider.submit({
            source: Source.stream({
              name: "clip.mp4",
              mediaType: "video/mp4",
              stream: Stream.suspend(() => {
                reads++
                return Stream.make(new Uint8Array(2048))
              })
            }),
            targets
          })
          assert.strictEqual(reads, 1, "the stream is read once")
          assert.deepStrictEqual(
            results.map((r) => r.language),
            targets
          )
          const jobs = Submission.accepted(results)
          assert.strictEqual(jobs.length, 60)
          assert.strictEqual(sim.billableSubmissions(), 60, "one translation per target, none twice")
          // One upload, then the two create requests.
          assert.strictEqual(sim.requests(), 3)
        }).pipe(Effect.provide(stack({ concurrentJobs: 1000 }, { apiVersion })))
    )
  }

  it.live(
    "v3: a submission retried after a dropped connection is replayed by its idempotency key, not billed twice",
    () =>
      Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const sim = yield* HeyGenSimulator.Simulator
        sim.injectFault({ kind: "dropAfter", method: "POST", pathPrefix: "/v3/video-translations" })
        const [job] = yield* provider
          .submit({ source: Source.url("https://media.example.com/a.mp4"), targets: ["es"] })
          .pipe(Submission.all)
        assert.strictEqual(sim.billableSubmissions(), 1)
        assert.strictEqual(sim.replays(), 1)
        assert.strictEqual((yield* follow(job!.ref)).state._tag, "Succeeded")
      }).pipe(Effect.provide(stack()))
  )

  it.live("v2: a POST that may have been processed is not sent again (no idempotency key in v2)", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* HeyGenSimulator.Simulator
      sim.injectFault({ kind: "dropAfter", method: "POST", pathPrefix: "/v2/video_translate" })
      const error = yield* Effect.flip(
        provider.submit({ source: Source.url("https://media.example.com/a.mp4"), targets: ["es"] }).pipe(Submission.all)
      )
      assert.isTrue(error._tag === "ProviderUnavailable" && error.outcome === "unknown", String(error))
      assert.strictEqual(sim.billableSubmissions(), 1)
      assert.strictEqual(sim.requests(), 1)
      sim.injectFault({ kind: "http502", method: "POST" })
      const gateway = yield* Effect.flip(
        provider.submit({ source: Source.url("https://media.example.com/a.mp4"), targets: ["es"] }).pipe(Submission.all)
      )
      assert.strictEqual(gateway._tag, "ProviderUnavailable")
      assert.strictEqual(sim.requests(), 2)
    }).pipe(Effect.provide(stack({}, { apiVersion: "v2" })))
  )

  it.live("reads through a completed-but-URL-null answer, 5xx on reads, and reports stuck and failed jobs", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* HeyGenSimulator.Simulator
      const source = Source.url("https://media.example.com/a.mp4")
      sim.urlNullNext(2)
      const [late] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      sim.injectFault({ kind: "http500", method: "GET", times: 1 })
      const done = yield* follow(late!.ref)
      assert.strictEqual(done.state._tag, "Succeeded")
      sim.failNext("Your video's audio is missing or corrupted, please try with another video")
      const [bad] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const failed = yield* follow(bad!.ref)
      assert.isTrue(failed.state._tag === "Failed" && failed.state.reason.message.includes("audio is missing"))
      sim.stuckNext()
      const [stuck] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const error = yield* Effect.flip(Jobs.await(stuck!.ref, { interval: 40, deadline: "1 second" }))
      assert.strictEqual(error._tag, "DeadlineExceeded")
    }).pipe(Effect.provide(stack()))
  )

  it.live("one poll of Jobs.await is one read: 1 + the client's 2 retries against a vendor answering 502", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* HeyGenSimulator.Simulator
      const [job] = yield* provider
        .submit({ source: Source.url("https://media.example.com/a.mp4"), targets: ["es"] })
        .pipe(Submission.all)
      const before = sim.requests()
      sim.injectFault({ kind: "http502", method: "GET", times: 1_000 })
      // The next poll is an hour away: every request before the deadline belongs to the first poll.
      const error = yield* Effect.flip(Jobs.await(job!.ref, { interval: "1 hour", deadline: "2 seconds" }))
      assert.strictEqual(error._tag, "DeadlineExceeded")
      assert.strictEqual(sim.requests() - before, 3)
    }).pipe(Effect.provide(stack({}, { retryBase: Duration.millis(20) })))
  )

  it.live("refusals are typed: concurrency limit, credits, strict validation, wrong key", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* HeyGenSimulator.Simulator
      const client = yield* HeyGenClient.HeyGenClient
      const source = Source.url("https://media.example.com/a.mp4")
      yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const busy = yield* Effect.flip(provider.submit({ source, targets: ["fr"] }).pipe(Submission.all))
      assert.isTrue(busy._tag === "RateLimited" && busy.scope === "concurrency", String(busy))
      const strict = yield* Effect.flip(
        client.createProofread({
          video: { type: "url", url: "x" },
          output_languages: ["Spanish"],
          title: "t",
          surprise: true
        } as never)
      )
      assert.isTrue(strict._tag === "InvalidRequest" && strict.param === "surprise", String(strict))
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          // No retries: HeyGen's Retry-After for the concurrency limit would otherwise be waited out.
          providerOn({ retries: 0 }),
          Layer.unwrap(
            Effect.map(HeyGenSimulator.Simulator, (sim) =>
              HeyGenClient.layer({ apiKey: Redacted.make(sim.apiKey), baseUrl: sim.baseUrl, budget: wide }).pipe(
                Layer.provide(HeyGenClient.layerRateLimiterMemory)
              )
            )
          ).pipe(Layer.provide(NodeHttpClient.layerUndici))
        ).pipe(Layer.provideMerge(HeyGenSimulator.layer({ concurrentJobs: 1, runningMs: 5000 })))
      )
    )
  )

  it.live("never prints the API key: not in logs, errors or span attributes", () =>
    Effect.gen(function* () {
      const { spans, tracer } = Spans.recorder()
      const lines: Array<string> = []
      const logger = Logger.make((options) => {
        lines.push(JSON.stringify(options.message), String(options.cause))
      })
      const key = "hg_SECRET_beefcafe_never_print_me"
      const errors = yield* Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const out: Array<string> = []
        for (const attempt of [
          Effect.asVoid(provider.get(new JobRef({ provider: "heygen", kind: "translation", id: unknownId }))),
          Effect.asVoid(
            provider
              .submit({ source: Source.url("https://m.example.com/a.mp4"), targets: ["es"], review: true })
              .pipe(Submission.all)
          )
        ]) {
          const error = yield* Effect.flip(attempt)
          out.push(String(error), JSON.stringify(error), error.message)
          yield* Effect.logError("failed", error)
        }
        return out
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            Layer.unwrap(
              Effect.map(HeyGenSimulator.Simulator, (sim) =>
                HeyGen.layer({ apiKey: Redacted.make(key), baseUrl: sim.baseUrl, budget: wide })
              )
            ).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])),
            Logger.layer([logger])
          )
        ),
        Effect.withTracer(tracer),
        // An application that records every header in its spans, and replaced the default redacted
        // names, must not leak the key either.
        Spans.withEveryHeaderRecorded
      )
      const attributes = spans.map((span) => JSON.stringify([span.name, ...span.attributes]))
      assert.isTrue(
        attributes.some((a) => a.includes("x-api-key")),
        "the HTTP client span records request headers"
      )
      const everything = [...errors, ...lines, ...attributes].join("\n")
      assert.isAbove(everything.length, 0)
      assert.notInclude(everything, "beefcafe")
    }).pipe(Effect.provide(HeyGenSimulator.layer({ apiKeys: ["hg_SECRET_beefcafe_never_print_me"], credits: 0 })))
  )
})

describe("HeyGen on the simulator in process (no socket)", () => {
  it.live("submits, follows to Succeeded with outputs it can download, and survives a dropped keyed POST", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* HeyGenSimulator.Simulator
      const client = yield* HttpClient.HttpClient
      sim.injectFault({ kind: "dropAfter", method: "POST", pathPrefix: "/v3/video-translations" })
      const [job] = yield* provider
        .submit({
          source: Source.url("https://media.example.com/a.mp4"),
          targets: ["ko"],
          captions: true
        })
        .pipe(Submission.all)
      assert.strictEqual(sim.billableSubmissions(), 1)
      assert.strictEqual(sim.replays(), 1)
      const done = yield* follow(job!.ref)
      assert.strictEqual(done.state._tag, "Succeeded")
      if (done.state._tag === "Succeeded") {
        const vtt = done.state.outputs.captions?.vtt?.url ?? ""
        assert.match(vtt, /^http:\/\/heygen\.simulator\.invalid\/files\//)
        assert.match(yield* Effect.flatMap(client.get(vtt), (r) => r.text), /^WEBVTT/)
      }
    }).pipe(
      Effect.provide(
        Layer.unwrap(
          Effect.map(HeyGenSimulator.Simulator, (sim) =>
            HeyGen.layer({ apiKey: Redacted.make(sim.apiKey), baseUrl: sim.baseUrl, budget: wide, retryBase: 20 })
          )
        ).pipe(
          Layer.provide(NodeServices.layer),
          Layer.provideMerge(HeyGenSimulator.layerInProcess({ queuedMs: 30, runningMs: 150 }))
        )
      )
    )
  )
})

describe("HeyGen.layerConfig", () => {
  it.live("reads HEYGEN_API_KEY, HEYGEN_BASE_URL and HEYGEN_API_VERSION; v3 is the default", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const providerWith = (env: Record<string, string>) =>
        HeyGen.layerConfig({ budget: wide }).pipe(
          Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]),
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
        )
      const env = { HEYGEN_API_KEY: sim.apiKey, HEYGEN_BASE_URL: sim.baseUrl }
      const built = Effect.asVoid(Effect.service(TranslationProvider))
      for (const [extra, idempotency] of [
        [{}, true],
        [{ HEYGEN_API_VERSION: "v2" }, false]
      ] as const) {
        const before = sim.billableSubmissions()
        const caps = yield* Effect.gen(function* () {
          const provider = yield* TranslationProvider
          yield* provider
            .submit({ source: Source.url("https://media.example.com/a.mp4"), targets: ["es"] })
            .pipe(Submission.all)
          return provider.capabilities
        }).pipe(Effect.provide(providerWith({ ...env, ...extra })))
        assert.strictEqual(caps.idempotency, idempotency)
        assert.strictEqual(sim.billableSubmissions(), before + 1)
      }
      const missing = yield* Effect.flip(Effect.provide(built, providerWith({ HEYGEN_BASE_URL: sim.baseUrl })))
      assert.include(String(missing), "HEYGEN_API_KEY")
      const wrong = yield* Effect.flip(Effect.provide(built, providerWith({ ...env, HEYGEN_API_VERSION: "v1" })))
      assert.include(String(wrong), "HEYGEN_API_VERSION")
    }).pipe(Effect.provide(HeyGenSimulator.layer()))
  )
})

describe("HeyGen idempotency in flight", () => {
  it.live("two concurrent submissions with one key: the second meets 409, retries, and gets the same job", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      sim.injectFault({ kind: "latency", ms: 400, method: "POST", pathPrefix: "/v3/video-translations" })
      const body = {
        video: { type: "url" as const, url: "https://m.example.com/a.mp4" },
        output_languages: ["Spanish"]
      }
      const [a, b] = yield* Effect.all(
        [client.createTranslation(body, "order-42"), Effect.delay(client.createTranslation(body, "order-42"), 100)],
        { concurrency: 2 }
      )
      assert.deepStrictEqual(a.data.video_translation_ids, b.data.video_translation_ids)
      assert.strictEqual(sim.conflicts(), 1)
      assert.strictEqual(sim.billableSubmissions(), 1)
      assert.strictEqual(sim.replays(), 1)
    }).pipe(
      Effect.provide(
        Layer.unwrap(
          Effect.map(HeyGenSimulator.Simulator, (sim) =>
            HeyGenClient.layer({ apiKey: Redacted.make(sim.apiKey), baseUrl: sim.baseUrl, budget: wide }).pipe(
              Layer.provide(HeyGenClient.layerRateLimiterMemory)
            )
          )
        ).pipe(Layer.provide(NodeHttpClient.layerUndici), Layer.provideMerge(HeyGenSimulator.layer()))
      )
    )
  )

  it.live(
    "an answer with an id no job reference can hold (a line break) is a typed error naming the field, not a crash",
    () =>
      Effect.gen(function* () {
        // HeyGen as it would answer if an id carried a line break: nothing else differs.
        const server = createServer((request, response) => {
          request.resume()
          request.on("end", () => {
            response.writeHead(200, { "content-type": "application/json" })
            response.end(JSON.stringify({ data: { video_translation_ids: ["4b2c\n9a-es"] } }))
          })
        })
        yield* Effect.acquireRelease(
          Effect.callback<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
          () => Effect.sync(() => void server.close())
        )
        const { port } = server.address() as AddressInfo
        const error = yield* Effect.flip(
          Effect.gen(function* () {
            const provider = yield* TranslationProvider
            return yield* provider
              .submit({ source: Source.url("https://media.example.com/a.mp4"), targets: ["es"] })
              .pipe(Submission.all)
          }).pipe(
            Effect.provide(
              HeyGen.layer({
                apiKey: Redacted.make("hg_test_key"),
                baseUrl: `http://127.0.0.1:${port}`,
                budget: wide,
                retries: 0
              }).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))
            )
          )
        )
        // A typed error, not a defect. The answer to a POST that cannot be read leaves the outcome
        // unknown (HeyGenClient): the job may exist, so the caller keeps its idempotency key.
        assert.strictEqual(error._tag, "ProviderUnavailable", error.message)
        assert.strictEqual(error._tag === "ProviderUnavailable" ? error.outcome : undefined, "unknown")
        assert.include(error.message, "data.video_translation_ids.0")
      }).pipe(Effect.scoped)
  )
})

describe("HeyGen references carry their language and API version", () => {
  it.live("a v2 reference is refused by the v3 provider before anything is sent, and the other way round", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* HeyGenSimulator.Simulator
      const before = sim.requests()
      for (const [ref, speaks] of [
        [new JobRef({ provider: "heygen", kind: "translation", id: "abc-es", apiVersion: "v2" }), "v3"],
        [new JobRef({ provider: "heygen", kind: "review", id: "abc-es", language: "es", apiVersion: "v2" }), "v3"]
      ] as const) {
        const error = yield* Effect.flip(ref.kind === "review" ? provider.approve(ref) : provider.get(ref))
        assert.strictEqual(error._tag, "InvalidRequest")
        assert.include(error.message, `speaks ${speaks}`)
      }
      const mixed = yield* Effect.flip(
        provider.getMany([
          new JobRef({ provider: "heygen", kind: "translation", id: "abc-es", apiVersion: "v3" }),
          new JobRef({ provider: "heygen", kind: "translation", id: "def-es", apiVersion: "v2" })
        ])
      )
      assert.strictEqual(mixed._tag, "InvalidRequest")
      assert.strictEqual(sim.requests(), before, "a request was sent")
    }).pipe(Effect.provide(stack()))
  )

  for (const apiVersion of ["v3", "v2"] as const) {
    it.live(`${apiVersion}: a reference printed without its language (earlier versions) still reads and approves`, () =>
      Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const [review] = yield* provider
          .submit({ source: Source.url("https://media.example.com/q3.mp4"), targets: ["es-MX"], review: true })
          .pipe(Submission.all)
        assert.strictEqual(String(review!.ref), `heygen@${apiVersion}:review/es-MX:${review!.ref.id}`)
        const plain = new JobRef({ provider: "heygen", kind: "review", id: review!.ref.id })
        const ready = yield* follow(plain)
        assert.strictEqual(ready.state._tag, "AwaitingReview")
        assert.strictEqual(ready.language, "es-MX")
        const rendering = yield* provider.approve(plain)
        assert.strictEqual(rendering.language, "es-MX")
        assert.strictEqual(rendering.ref.language, "es-MX")
        assert.strictEqual(rendering.ref.apiVersion, apiVersion)
      }).pipe(Effect.provide(stack({}, { apiVersion })))
    )
  }

  it.live("approving a proofread that is not ready yet is refused by HeyGen, with no read spent first", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* HeyGenSimulator.Simulator
      const [review] = yield* provider
        .submit({ source: Source.url("https://media.example.com/q3.mp4"), targets: ["es"], review: true })
        .pipe(Submission.all)
      const before = sim.requests()
      const error = yield* Effect.flip(provider.approve(review!.ref))
      assert.strictEqual(error._tag, "InvalidRequest")
      assert.strictEqual(sim.requests() - before, 1)
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(Effect.provide(stack({ proofreadMs: 60_000 })))
  )
})

describe("providerOptions.heygen", () => {
  it.live("a misspelt or mistyped option is an InvalidRequest naming it, before anything is sent", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* HeyGenSimulator.Simulator
      const source = Source.url("https://media.example.com/a.mp4")
      for (const [heygen, param] of [
        [{ brandGlosaryId: "g1" }, "providerOptions.heygen.brandGlosaryId"],
        [{ mode: "fast" }, "providerOptions.heygen.mode"],
        [{ startTime: -1 }, "providerOptions.heygen.startTime"]
      ] as const) {
        const error = yield* Effect.flip(
          // A caller without the types (JSON from elsewhere) can send anything.
          provider.submit({ source, targets: ["es"], providerOptions: { heygen: heygen as HeyGen.HeyGenOptions } })
        )
        assert.isTrue(error._tag === "InvalidRequest" && error.param === param, String(error))
      }
      assert.strictEqual(sim.requests(), 0)
      const [job] = yield* provider
        .submit({ source, targets: ["es"], providerOptions: { heygen: { mode: "precision", folderId: "f1" } } })
        .pipe(Submission.all)
      assert.strictEqual(job!.state._tag, "Queued")
    }).pipe(Effect.provide(stack()))
  )

  for (const apiVersion of ["v3", "v2"] as const) {
    it.live(
      `${apiVersion}: an option the request does not take is refused before anything is sent, never dropped`,
      () =>
        Effect.gen(function* () {
          const provider = yield* TranslationProvider
          const sim = yield* HeyGenSimulator.Simulator
          const source = Source.url("https://media.example.com/a.mp4")
          const cases: ReadonlyArray<readonly [HeyGen.HeyGenOptions, boolean, string]> =
            apiVersion === "v3"
              ? [
                  // Translations only, asked of a proofread; proofreads only, asked of a translation.
                  [{ enableWatermark: true }, true, "providerOptions.heygen.enableWatermark"],
                  [{ startTime: 5 }, true, "providerOptions.heygen.startTime"],
                  [{ enableVideoStretching: true }, false, "providerOptions.heygen.enableVideoStretching"]
                ]
              : [[{ mode: "precision" }, false, "providerOptions.heygen.mode"]]
          for (const [heygen, review, param] of cases) {
            const error = yield* Effect.flip(
              provider.submit({ source, targets: ["es"], review, providerOptions: { heygen } })
            )
            assert.isTrue(error._tag === "InvalidRequest" && error.param === param, String(error))
          }
          assert.strictEqual(sim.requests(), 0)
        }).pipe(Effect.provide(stack({}, { apiVersion })))
    )
  }
})
