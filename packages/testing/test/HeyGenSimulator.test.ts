// The HeyGen simulator on its own, over loopback with plain `fetch`: what a client meets at the wire
// (status codes, envelopes, headers), checked against HeyGen's documented examples (kept as
// packages/provider-heygen/test/fixtures/seed-*.json) without going through the provider package.

import { createHmac } from "node:crypto"
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as HeyGenSimulator from "@polydub/testing/HeyGenSimulator"
import { Effect, Layer, Result } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"

type Sim = HeyGenSimulator.HeyGenSimulator

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: any
}

const send = (
  sim: Sim,
  method: string,
  path: string,
  options: { readonly body?: unknown; readonly headers?: Record<string, string>; readonly key?: string | null } = {}
) =>
  Effect.tryPromise(async (): Promise<Answer> => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.key !== null) headers["x-api-key"] = options.key ?? sim.apiKey
    if (options.body !== undefined) headers["content-type"] ??= "application/json"
    const response = await fetch(`${sim.baseUrl}${path}`, {
      method,
      headers,
      ...(options.body === undefined
        ? {}
        : { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) })
    })
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: response.status, headers: response.headers, text, json }
  })

const get = (url: string) =>
  Effect.promise(() => fetch(url).then(async (r) => ({ status: r.status, text: await r.text() })))

const video = { type: "url", url: "https://media.example.com/a.mp4" }

const withSim = <A, E>(options: HeyGenSimulator.HeyGenSimulatorOptions, body: (sim: Sim) => Effect.Effect<A, E>) =>
  Effect.scoped(
    Effect.flatMap(HeyGenSimulator.serve({ queuedMs: 30, runningMs: 150, proofreadMs: 100, ...options }), body)
  )

/** Reads until `done` holds, pausing between reads (the simulated jobs take a few hundred ms). */
const until = <E>(read: Effect.Effect<Answer, E>, done: (a: Answer) => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      const answer = yield* read
      if (done(answer)) return answer
      yield* Effect.sleep(20)
    }
    return yield* Effect.die(new Error("did not settle"))
  })

describe("HeyGenSimulator: authentication and validation", () => {
  it.live("401 without a valid key, in each version's envelope; x-api-key and bearer both work", () =>
    withSim({}, (sim) =>
      Effect.gen(function* () {
        const v3 = yield* send(sim, "GET", "/v3/video-translations/languages", { key: null })
        assert.strictEqual(v3.status, 401)
        assert.deepStrictEqual(v3.json, {
          error: {
            code: "authentication_failed",
            message: "Invalid or expired API key. Verify your x-api-key header.",
            param: null,
            doc_url: null
          }
        })
        const v2 = yield* send(sim, "GET", "/v2/video_translate/target_languages", { key: "hg_wrong" })
        assert.strictEqual(v2.status, 401)
        assert.strictEqual(v2.json.code, 40009)
        const bearer = yield* send(sim, "GET", "/v3/video-translations/languages", {
          key: null,
          headers: { authorization: `Bearer ${sim.apiKey}` }
        })
        assert.strictEqual(bearer.status, 200)
        assert.include(bearer.json.data.languages, "Chinese (Mandarin, Simplified)")
        assert.strictEqual(sim.requests(), 3)
      })
    )
  )

  it.live(
    "400 with `param` for missing, unknown (additionalProperties: false) and mistyped fields; nothing billed",
    () =>
      withSim({}, (sim) =>
        Effect.gen(function* () {
          const cases: Array<[string, unknown, string]> = [
            ["/v3/video-translations/proofreads", { video, output_languages: ["Spanish"] }, "title"],
            ["/v3/video-translations/proofreads", { video, output_languages: ["Spanish"], title: "t", x: 1 }, "x"],
            ["/v3/video-translations/proofreads", { video, output_languages: [], title: "t" }, "output_languages"],
            [
              "/v3/video-translations/proofreads",
              { video: { type: "url", url: "u", extra: true }, output_languages: ["Spanish"], title: "t" },
              "video"
            ],
            [
              "/v3/video-translations/proofreads",
              { video, output_languages: ["Spanish"], title: "t", mode: "x" },
              "mode"
            ],
            ["/v3/video-translations", { output_languages: ["Spanish"] }, "video"],
            ["/v3/video-translations", { video, output_languages: ["Klingon"] }, "output_languages"],
            ["/v3/video-translations", { video, output_languages: ["Spanish"], speaker_num: 1.5 }, "speaker_num"]
          ]
          for (const [path, body, param] of cases) {
            const answer = yield* send(sim, "POST", path, { body })
            assert.strictEqual(answer.status, 400, `${path} ${JSON.stringify(body)}`)
            assert.strictEqual(answer.json.error.code, "invalid_parameter")
            assert.strictEqual(answer.json.error.param, param, JSON.stringify(answer.json))
          }
          const notJson = yield* send(sim, "POST", "/v3/video-translations", { body: "{not json" })
          assert.strictEqual(notJson.status, 400)
          // HeyGen's GenerateVideoRequest is strict too (additionalProperties: false; the proofread id is checked after the body).
          const generate = yield* send(sim, "POST", "/v3/video-translations/proofreads/x-es/generate", {
            body: { captions: "yes" }
          })
          assert.strictEqual(generate.json.error.param, "captions")
          // v2: `output_language` XOR `output_languages`; the v2 envelope carries a numeric code.
          const both = yield* send(sim, "POST", "/v2/video_translate", {
            body: { video_url: video.url, output_language: "Spanish", output_languages: ["French"] }
          })
          assert.strictEqual(both.status, 400)
          assert.isNumber(both.json.code)
          assert.isNull(both.json.data)
          assert.strictEqual(sim.billableSubmissions(), 0)
        })
      )
  )
})

describe("HeyGenSimulator: limits and idempotency", () => {
  it.live("402 insufficient_credit, 404 not_found, 429 with Retry-After for the concurrent-job limit", () =>
    withSim({ credits: 2, concurrentJobs: 1, runningMs: 5000 }, (sim) =>
      Effect.gen(function* () {
        const first = yield* send(sim, "POST", "/v3/video-translations", {
          body: { video, output_languages: ["Spanish"] }
        })
        assert.strictEqual(first.status, 200)
        const busy = yield* send(sim, "POST", "/v3/video-translations", {
          body: { video, output_languages: ["French"] }
        })
        assert.strictEqual(busy.status, 429)
        assert.strictEqual(busy.json.error.code, "rate_limit_exceeded")
        assert.match(busy.headers.get("retry-after") ?? "", /^\d+$/)
        const broke = yield* send(sim, "POST", "/v3/video-translations", {
          body: { video, output_languages: ["French", "German"] }
        })
        assert.strictEqual(broke.status, 402)
        assert.strictEqual(broke.json.error.code, "insufficient_credit")
        const missing = yield* send(sim, "GET", "/v3/video-translations/0000000000000000deadbeef00000000-es")
        assert.strictEqual(missing.status, 404)
        assert.strictEqual(missing.json.error.code, "not_found")
        const v2Missing = yield* send(sim, "GET", "/v2/video_translate/proofread/status/nope-es")
        assert.strictEqual(v2Missing.status, 404)
        assert.strictEqual(sim.billableSubmissions(), 1)
      })
    )
  )

  it.live("429 with Retry-After when the request rate is exceeded", () =>
    withSim({ rateLimit: { limit: 2, windowMs: 60_000 } }, (sim) =>
      Effect.gen(function* () {
        for (let i = 0; i < 2; i++) {
          assert.strictEqual((yield* send(sim, "GET", "/v3/video-translations/languages")).status, 200)
        }
        const limited = yield* send(sim, "GET", "/v3/video-translations/languages")
        assert.strictEqual(limited.status, 429)
        assert.isAtLeast(Number(limited.headers.get("retry-after")), 1)
        assert.strictEqual(sim.rejectedByRateLimit(), 1)
      })
    )
  )

  it.live(
    "an Idempotency-Key replays the first answer; 409 while it is in flight; scoped per route; keys checked",
    () =>
      withSim({}, (sim) =>
        Effect.gen(function* () {
          const body = { video, output_languages: ["Spanish"] }
          const headers = { "idempotency-key": "550e8400-e29b-41d4-a716-446655440000" }
          sim.injectFault({ kind: "latency", ms: 300, method: "POST" })
          const [first, during] = yield* Effect.all(
            [
              send(sim, "POST", "/v3/video-translations", { body, headers }),
              Effect.delay(send(sim, "POST", "/v3/video-translations", { body, headers }), 100)
            ],
            { concurrency: 2 }
          )
          assert.strictEqual(first.status, 200)
          assert.strictEqual(during.status, 409)
          assert.strictEqual(during.json.error.code, "request_in_progress")
          assert.strictEqual(sim.conflicts(), 1)
          // HeyGen replays "even if the request body differs slightly": the original answer comes back.
          const again = yield* send(sim, "POST", "/v3/video-translations", {
            body: { ...body, title: "renamed" },
            headers
          })
          assert.deepStrictEqual(again.json, first.json)
          assert.strictEqual(sim.replays(), 1)
          assert.strictEqual(sim.billableSubmissions(), 1)
          // Scope is per endpoint: the same key on another route is independent.
          const proofread = yield* send(sim, "POST", "/v3/video-translations/proofreads", {
            body: { ...body, title: "t" },
            headers
          })
          assert.strictEqual(proofread.status, 200)
          assert.isArray(proofread.json.data.proofread_ids)
          assert.strictEqual(sim.billableSubmissions(), 2)
          const bad = yield* send(sim, "POST", "/v3/video-translations", {
            body,
            headers: { "idempotency-key": "not a key!" }
          })
          assert.strictEqual(bad.status, 400)
          assert.strictEqual(bad.json.error.param, "Idempotency-Key")
        })
      )
  )
})

describe("HeyGenSimulator: lifecycles, files and status vocabularies", () => {
  it.live(
    "v3 pending → running → completed with expiring presigned-style URLs it serves; bulk uses its own words",
    () =>
      // Queued long enough for two reads to see it queued even on a loaded machine.
      withSim({ queuedMs: 600 }, (sim) =>
        Effect.gen(function* () {
          const created = yield* send(sim, "POST", "/v3/video-translations", {
            body: { video, output_languages: ["Spanish (Mexico)", "Korean"], enable_caption: true }
          })
          const [es, ko] = created.json.data.video_translation_ids as Array<string>
          assert.match(es!, /^[0-9a-f]{32}-es-MX$/)
          assert.match(ko!, /^[0-9a-f]{32}-ko$/)
          const first = yield* send(sim, "GET", `/v3/video-translations/${es}`)
          assert.strictEqual(first.json.data.status, "pending")
          assert.isNull(first.json.data.video_url)
          const bulk = yield* send(
            sim,
            "GET",
            `/v3/video-translations/statuses?video_translation_ids=${es},${ko},nope-es`
          )
          assert.deepStrictEqual(
            bulk.json.data.map((i: { status: string }) => i.status),
            ["queued", "queued", "not_found"]
          )
          const seen = new Set<string>()
          const done = yield* until(send(sim, "GET", `/v3/video-translations/${es}`), (a) => {
            seen.add(a.json.data.status)
            return a.json.data.status === "completed"
          })
          assert.isTrue(seen.has("running"))
          const data = done.json.data
          for (const url of [data.video_url, data.audio_url, data.srt_caption_url, data.vtt_caption_url]) {
            assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/files\/.+\?Expires=\d+&Signature=[0-9a-f]+$/)
            assert.strictEqual((yield* get(url)).status, 200)
          }
          assert.match((yield* get(data.vtt_caption_url)).text, /^WEBVTT\n\n00:00:00\.000 --> /)
          // A link edited by hand is refused, as a presigned URL would be.
          const forged = String(data.video_url).replace(/Expires=(\d+)/, (_, n) => `Expires=${Number(n) + 3600}`)
          assert.strictEqual((yield* get(forged)).status, 403)
          const gone = yield* send(sim, "DELETE", `/v3/video-translations/${ko}`)
          assert.deepStrictEqual(gone.json, { data: { id: ko } })
          assert.strictEqual((yield* send(sim, "GET", `/v3/video-translations/${ko}`)).status, 404)
        })
      )
  )

  it.live("links expire", () =>
    withSim({ urlTtlMs: 1 }, (sim) =>
      Effect.gen(function* () {
        const created = yield* send(sim, "POST", "/v3/video-translations/proofreads", {
          body: { video, output_languages: ["Spanish"], title: "t" }
        })
        const id = created.json.data.proofread_ids[0]
        yield* until(
          send(sim, "GET", `/v3/video-translations/proofreads/${id}`),
          (a) => a.json.data.status === "completed"
        )
        const srt = yield* send(sim, "GET", `/v3/video-translations/proofreads/${id}/srt`)
        yield* Effect.sleep(1100)
        const expired = yield* get(srt.json.data.srt_url)
        assert.strictEqual(expired.status, 403)
        assert.include(expired.text, "expired")
      })
    )
  )

  it.live(
    "v2 uses `success`, `url` and `message`; proofreads `processing → completed` with an SRT to download and replace",
    () =>
      withSim({}, (sim) =>
        Effect.gen(function* () {
          const created = yield* send(sim, "POST", "/v2/video_translate", {
            body: { video_url: video.url, output_language: "French" }
          })
          assert.strictEqual(created.json.error, null)
          const id = created.json.data.video_translate_id
          const done = yield* until(
            send(sim, "GET", `/v2/video_translate/${id}`),
            (a) => a.json.data.status !== "pending" && a.json.data.status !== "running"
          )
          assert.strictEqual(done.json.data.status, "success")
          assert.match(done.json.data.url, /video\.mp4\?Expires=/)
          const caption = yield* send(
            sim,
            "GET",
            `/v2/video_translate/caption?video_translate_id=${id}&caption_type=srt`
          )
          assert.match((yield* get(caption.json.data.caption_url)).text, /^1\n00:00:00,000 --> 00:00:02,500\n/)

          const proofread = yield* send(sim, "POST", "/v2/video_translate/proofread", {
            body: { video_url: video.url, output_language: "Urdu (Pakistan)", title: "t" }
          })
          const pid = proofread.json.data.proofread_id
          assert.match(pid, /-ur-PK$/)
          const status = yield* until(
            send(sim, "GET", `/v2/video_translate/proofread/status/${pid}`),
            (a) => a.json.data.status === "completed"
          )
          // The shape of HeyGen's "Completed" example (packages/provider-heygen/test/fixtures/seed-000-completed.json).
          assert.deepStrictEqual(Object.keys(status.json.data).sort(), [
            "details",
            "proofread_id",
            "status",
            "submitted_for_review"
          ])
          const srtUrl = (yield* send(sim, "GET", `/v2/video_translate/proofread/${pid}/download-srt`)).json.data
            .srt_url
          const original = (yield* get(srtUrl)).text
          const upload = yield* Effect.promise(() =>
            fetch(`${sim.baseUrl}/v1/asset`, {
              method: "POST",
              headers: { "x-api-key": sim.apiKey, "content-type": "application/x-subrip" },
              body: original.replace("Welcome", "Bienvenue")
            }).then((r) => r.json() as Promise<any>)
          )
          assert.strictEqual(upload.code, 100)
          const replaced = yield* send(sim, "POST", `/v2/video_translate/proofread/${pid}/upload-srt`, {
            body: { srt_file_url: upload.data.url }
          })
          assert.deepStrictEqual(replaced.json, {})
          assert.include(sim.proofreadSrt(pid) ?? "", "Bienvenue")
          const generated = yield* send(sim, "POST", `/v2/video_translate/proofread/${pid}/generate`, {
            body: { captions: true }
          })
          // The shape of HeyGen's "Result" example (packages/provider-heygen/test/fixtures/seed-001-result.json).
          assert.strictEqual(generated.json.error, null)
          assert.strictEqual(generated.json.data.status, "processing")
          assert.isString(generated.json.data.video_translate_id)
        })
      )
  )
})

describe("HeyGenSimulator: faults on demand", () => {
  it.live(
    "5xx before and after processing, dropped connections, malformed JSON, stuck jobs, completed without a URL",
    () =>
      withSim({}, (sim) =>
        Effect.gen(function* () {
          const body = { video, output_languages: ["Spanish"] }
          sim.injectFault({ kind: "http500", method: "POST" })
          assert.strictEqual((yield* send(sim, "POST", "/v3/video-translations", { body })).status, 500)
          assert.strictEqual(sim.billableSubmissions(), 0)
          sim.injectFault({ kind: "http500After", method: "POST" })
          assert.strictEqual((yield* send(sim, "POST", "/v3/video-translations", { body })).status, 500)
          assert.strictEqual(sim.billableSubmissions(), 1)
          sim.injectFault({ kind: "dropBefore", method: "POST" })
          assert.isTrue(Result.isFailure(yield* Effect.result(send(sim, "POST", "/v3/video-translations", { body }))))
          assert.strictEqual(sim.billableSubmissions(), 1)
          sim.injectFault({ kind: "dropAfter", method: "POST" })
          assert.isTrue(Result.isFailure(yield* Effect.result(send(sim, "POST", "/v3/video-translations", { body }))))
          assert.strictEqual(sim.billableSubmissions(), 2)
          sim.injectFault({ kind: "malformed", method: "GET", pathPrefix: "/v3/video-translations/languages" })
          const malformed = yield* send(sim, "GET", "/v3/video-translations/languages")
          assert.strictEqual(malformed.status, 200)
          assert.isUndefined(malformed.json)
          sim.injectFault({ kind: "http502" })
          const gateway = yield* send(sim, "GET", "/v3/video-translations/languages")
          assert.strictEqual(gateway.status, 502)
          assert.isUndefined(gateway.json)

          sim.stuckNext()
          const stuck = (yield* send(sim, "POST", "/v3/video-translations", { body })).json.data
            .video_translation_ids[0]
          sim.urlNullNext(2)
          const late = (yield* send(sim, "POST", "/v3/video-translations", { body })).json.data.video_translation_ids[0]
          const first = yield* until(
            send(sim, "GET", `/v3/video-translations/${late}`),
            (a) => a.json.data.status === "completed"
          )
          assert.isNull(first.json.data.video_url)
          assert.isNull((yield* send(sim, "GET", `/v3/video-translations/${late}`)).json.data.video_url)
          assert.isString((yield* send(sim, "GET", `/v3/video-translations/${late}`)).json.data.video_url)
          assert.strictEqual((yield* send(sim, "GET", `/v3/video-translations/${stuck}`)).json.data.status, "running")
          sim.failNext("Failed to download video from url, please check the url is valid or the video is public")
          const bad = (yield* send(sim, "POST", "/v3/video-translations", { body })).json.data.video_translation_ids[0]
          const failed = yield* until(
            send(sim, "GET", `/v3/video-translations/${bad}`),
            (a) => a.json.data.status === "failed"
          )
          assert.match(failed.json.data.failure_message, /^Failed to download video/)
        })
      )
  )
})

describe("HeyGenSimulator: callbacks and registered endpoints", () => {
  it.live("calls callback_url and registered endpoints with events signed as hex HMAC-SHA256 of the body", () =>
    Effect.gen(function* () {
      const received: Array<{ path: string; body: string; signature: string | undefined }> = []
      let probes = 0
      const receiver = Layer.mergeAll(
        HttpRouter.add(
          "OPTIONS",
          "/*",
          Effect.sync(() => {
            probes++
            return HttpServerResponse.empty({ status: 200 })
          })
        ),
        HttpRouter.add(
          "POST",
          "/*",
          Effect.gen(function* () {
            const request = yield* HttpServerRequest.HttpServerRequest
            const body = yield* request.text.pipe(Effect.orDie)
            received.push({
              path: new URL(request.url, "http://x").pathname,
              body,
              signature: request.headers.signature
            })
            return HttpServerResponse.empty({ status: 200 })
          })
        )
      )
      const app = yield* HttpRouter.toHttpEffect(receiver)
      const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" }).pipe(Effect.orDie)
      yield* server.serve(app)
      const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port
      const hooks = `http://127.0.0.1:${port}`
      const sim = yield* HeyGenSimulator.serve({ queuedMs: 20, runningMs: 80, webhookSecret: "whsec_sim_test" })

      const endpoint = yield* send(sim, "POST", "/v3/webhooks/endpoints", {
        body: { url: `${hooks}/registered`, events: ["video_translate.success"] }
      })
      assert.strictEqual(probes, 1, "the OPTIONS probe came first")
      const secret = endpoint.json.data.secret as string
      assert.match(secret, /^whsec_/)
      yield* send(sim, "POST", "/v3/video-translations", {
        body: { video, output_languages: ["Spanish"], callback_url: `${hooks}/per-job`, callback_id: "order-42" }
      })
      // The simulator records a delivery once its answer is back, a little after the receiver saw it.
      for (let i = 0; i < 100 && (received.length < 2 || sim.callbacks().length < 2); i++) yield* Effect.sleep(20)
      const perJob = received.find((r) => r.path === "/per-job")!
      const registered = received.find((r) => r.path === "/registered")!
      assert.strictEqual(perJob.signature, createHmac("sha256", "whsec_sim_test").update(perJob.body).digest("hex"))
      assert.strictEqual(registered.signature, createHmac("sha256", secret).update(registered.body).digest("hex"))
      const event = JSON.parse(perJob.body)
      assert.strictEqual(event.event_type, "video_translate.success")
      assert.strictEqual(event.event_data.callback_id, "order-42")
      assert.match(event.event_data.url, /video\.mp4\?Expires=/)
      assert.deepStrictEqual(
        sim.callbacks().map((c) => c.status),
        [200, 200]
      )
      const history = yield* send(sim, "GET", "/v3/webhooks/events?event_type=video_translate.success")
      assert.strictEqual(history.json.data.length, 1)
      // An endpoint that does not answer the probe is not registered.
      const dead = yield* send(sim, "POST", "/v3/webhooks/endpoints", { body: { url: "http://127.0.0.1:9/hook" } })
      assert.strictEqual(dead.status, 400)
      assert.strictEqual(dead.json.error.param, "url")
    }).pipe(Effect.scoped)
  )
})
