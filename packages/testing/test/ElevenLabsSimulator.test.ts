// The ElevenLabs simulator on its own, over loopback sockets, with a plain HTTP client (fetch): form
// validation by the published schema, the three error envelopes, the dub state machine, 425 until an
// output is ready, streamed outputs, transcripts, the list's pages and filters, deletes and faults.
// No provider code is involved: the simulator must hold the documented behaviour by itself.

import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Source, Submission, TranslationProvider } from "@polydub/core"
import { ElevenLabs } from "@polydub/provider-elevenlabs"
import { ElevenLabsSimulator } from "@polydub/testing"
import { Duration, Effect, Layer, Redacted } from "effect"
import { TestClock } from "effect/testing"

type Sim = ElevenLabsSimulator.ElevenLabsSimulator

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: any
  readonly bytes: number
}

const call = (sim: Sim, path: string, init: RequestInit = {}, apiKey: string | null = sim.apiKey) =>
  Effect.promise(async (): Promise<Answer> => {
    const headers = new Headers(init.headers)
    if (apiKey !== null) headers.set("xi-api-key", apiKey)
    const response = await fetch(`${sim.baseUrl}${path}`, { ...init, headers })
    const buffer = Buffer.from(await response.arrayBuffer())
    const text = buffer.toString("utf8")
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // a file or a non-JSON answer: kept as text
    }
    return { status: response.status, headers: response.headers, body, bytes: buffer.length }
  })

const form = (fields: Record<string, string>, file: { bytes: number; type: string; name?: string } | null) => {
  const data = new FormData()
  for (const [key, value] of Object.entries(fields)) data.append(key, value)
  if (file !== null) {
    data.set("file", new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name ?? "clip.mp4")
  }
  return data
}

const create = (
  sim: Sim,
  fields: Record<string, string>,
  file: { bytes: number; type: string; name?: string } | null = { bytes: 1000, type: "video/mp4" },
  apiKey: string | null = sim.apiKey
) => call(sim, "/v1/dubbing", { method: "POST", body: form(fields, file) }, apiKey)

const serve = (options: ElevenLabsSimulator.ElevenLabsSimulatorOptions = {}) =>
  ElevenLabsSimulator.serve({ queuedMs: 50, preparingMs: 50, dubbingMs: 100, ...options })

const sleep = (ms: number) => Effect.sleep(Duration.millis(ms))

describe("ElevenLabsSimulator: legacy dubbing", () => {
  it.live("auth: no key or an unknown key is 401 invalid_api_key in the classic envelope, with a request-id", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      for (const key of [null, "nope"]) {
        const answer = yield* call(sim, "/v1/dubbing/x", {}, key)
        assert.strictEqual(answer.status, 401)
        assert.deepStrictEqual(answer.body, { detail: { status: "invalid_api_key", message: "Invalid API key" } })
        assert.isNotNull(answer.headers.get("request-id"))
      }
    })
  )

  it.live("create: validates the form by the published schema, in FastAPI's 422 form", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      const bool = yield* create(sim, { target_lang: "es", watermark: "maybe" })
      assert.strictEqual(bool.status, 422)
      assert.deepStrictEqual(bool.body.detail[0].loc, ["body", "watermark"])
      assert.strictEqual(bool.body.detail[0].type, "bool_parsing")
      const int = yield* create(sim, { target_lang: "es", num_speakers: "two" })
      assert.strictEqual(int.body.detail[0].type, "int_parsing")
      const extra = yield* create(sim, { target_lang: "es", target_language: "es" })
      assert.deepStrictEqual(extra.body.detail[0].loc, ["body", "target_language"])
      const mode = yield* create(sim, { target_lang: "es", mode: "fast" })
      assert.strictEqual(mode.status, 422)
      const json = yield* call(sim, "/v1/dubbing", {
        method: "POST",
        body: JSON.stringify({ target_lang: "es" }),
        headers: { "content-type": "application/json" }
      })
      assert.strictEqual(json.status, 422)
      assert.strictEqual(sim.billableSubmissions(), 0)
    })
  )

  it.live(
    "create: one of file or source_url; a target; a media type; then 200 {dubbing_id, expected_duration_sec}",
    () =>
      Effect.gen(function* () {
        const sim = yield* serve()
        const neither = yield* create(sim, { target_lang: "es" }, null)
        assert.strictEqual(neither.status, 400)
        const both = yield* create(sim, { target_lang: "es", source_url: "https://x.example/a.mp4" })
        assert.strictEqual(both.status, 400)
        const empty = yield* create(sim, {})
        assert.deepStrictEqual(empty.body.detail.status, "empty_target_language")
        const octet = yield* create(sim, { target_lang: "es" }, { bytes: 10, type: "application/octet-stream" })
        assert.strictEqual(octet.status, 400)
        assert.match(octet.body.detail.message, /unsupported content type application\/octet-stream/)
        const ok = yield* create(sim, { target_lang: "es", name: "talk", num_speakers: "0", watermark: "false" })
        assert.strictEqual(ok.status, 200)
        assert.match(ok.body.dubbing_id, /^[A-Za-z0-9_-]{20}$/)
        assert.isNumber(ok.body.expected_duration_sec)
        const fromUrl = yield* create(sim, { target_lang: "fra", source_url: "https://x.example/a.mp4" }, null)
        assert.strictEqual(fromUrl.status, 200)
        assert.strictEqual(sim.billableSubmissions(), 2)
        assert.strictEqual(sim.dubs()[0]!.bytes, 1000, "the streamed file was counted")
      })
  )

  it.live("a dub moves queued → preparing → dubbing → cloning → dubbed; outputs answer 425 until then", () =>
    Effect.gen(function* () {
      const sim = yield* serve({ outputBytes: 3 * 1024 * 1024 + 5 })
      const { body } = yield* create(sim, { target_lang: "es", name: "talk" })
      const id: string = body.dubbing_id
      const seen: Array<string> = []
      const early = yield* call(sim, `/v1/dubbing/${id}/audio/es`)
      assert.strictEqual(early.status, 425)
      assert.strictEqual(early.body.detail.status, "dubbing_not_dubbed")
      for (let i = 0; i < 100; i++) {
        const got = yield* call(sim, `/v1/dubbing/${id}`)
        if (seen.at(-1) !== got.body.status) seen.push(got.body.status)
        if (got.body.status === "dubbed") {
          assert.strictEqual(got.body.source_language, "en")
          assert.deepStrictEqual(got.body.media_metadata.content_type, "video/mp4")
          assert.match(got.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/, "no zone, as documented")
          break
        }
        assert.isNull(got.body.source_language)
        yield* sleep(10)
      }
      assert.deepStrictEqual(seen, ["queued", "preparing", "dubbing", "cloning", "dubbed"])
      const audio = yield* call(sim, `/v1/dubbing/${id}/audio/es`)
      assert.strictEqual(audio.status, 200)
      assert.strictEqual(audio.headers.get("content-type"), "application/octet-stream")
      assert.strictEqual(audio.bytes, 3 * 1024 * 1024 + 5)
      const other = yield* call(sim, `/v1/dubbing/${id}/audio/fr`)
      assert.strictEqual(other.status, 404)
      const srt = yield* call(sim, `/v1/dubbing/${id}/transcript/es?format_type=srt`)
      assert.match(srt.body, /^1\n00:00:00,000 --> 00:00:02,000\n/)
      const vtt = yield* call(sim, `/v1/dubbing/${id}/transcript/source?format_type=webvtt`)
      assert.match(vtt.body, /^WEBVTT\n\n00:00:00\.000 --> /)
      const json = yield* call(sim, `/v1/dubbing/${id}/transcripts/es/format/webvtt`)
      assert.deepStrictEqual(Object.keys(json.body).sort(), ["transcript_format", "webvtt"])
    })
  )

  it.live("the OpenAPI examples' bare envelope for outputs, and the current envelope for everything, on demand", () =>
    Effect.gen(function* () {
      const bare = yield* serve({ outputEnvelope: "bare", queuedMs: 60_000 })
      const { body } = yield* create(bare, { target_lang: "es" })
      const early = yield* call(bare, `/v1/dubbing/${body.dubbing_id}/audio/es`)
      assert.deepStrictEqual(early.body, { error: "dubbing_not_dubbed", message: "Dubbing has not finished yet." })
      const current = yield* serve({ envelope: "current" })
      const missing = yield* call(current, "/v1/dubbing/nope")
      assert.strictEqual(missing.body.detail.code, "dubbing_not_found")
      assert.strictEqual(missing.body.detail.status, "dubbing_not_found")
      assert.isString(missing.body.detail.request_id)
    })
  )

  it.live("list: cursor pages, filters, page_size bounds; delete answers {status: ok}, then 404", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      for (const target of ["es", "fr", "de"]) yield* create(sim, { target_lang: target, name: target })
      const first = yield* call(sim, "/v1/dubbing?page_size=2")
      assert.strictEqual(first.body.dubs.length, 2)
      assert.strictEqual(first.body.has_more, true)
      const second = yield* call(sim, `/v1/dubbing?page_size=2&cursor=${first.body.next_cursor}`)
      assert.strictEqual(second.body.dubs.length, 1)
      assert.strictEqual(second.body.has_more, false)
      assert.isNull(second.body.next_cursor)
      const french = yield* call(
        sim,
        "/v1/dubbing?target_language_codes=fr&dubbing_statuses=queued&dubbing_statuses=dubbing"
      )
      assert.deepStrictEqual(
        french.body.dubs.map((d: { name: string }) => d.name),
        ["fr"]
      )
      assert.strictEqual((yield* call(sim, "/v1/dubbing?page_size=201")).status, 422)
      assert.strictEqual((yield* call(sim, "/v1/dubbing?order_by=size")).status, 422)
      const id = first.body.dubs[0].dubbing_id
      const deleted = yield* call(sim, `/v1/dubbing/${id}`, { method: "DELETE" })
      assert.deepStrictEqual(deleted.body, { status: "ok" })
      assert.strictEqual((yield* call(sim, `/v1/dubbing/${id}`)).status, 404)
    })
  )

  it.live(
    "accounts: another account's dub is 403; plans gate audio and watermark-free video; a legacy workspace cannot list",
    () =>
      Effect.gen(function* () {
        const sim = yield* serve({
          accounts: [{ apiKey: "a" }, { apiKey: "b", plan: "free", legacyWorkspace: true }]
        })
        const { body } = yield* create(sim, { target_lang: "es" }, undefined, "a")
        assert.strictEqual((yield* call(sim, `/v1/dubbing/${body.dubbing_id}`, {}, "b")).status, 403)
        const audio = yield* create(sim, { target_lang: "es" }, { bytes: 10, type: "audio/mpeg" }, "b")
        assert.strictEqual(audio.body.detail.status, "only_for_creator+")
        const video = yield* create(sim, { target_lang: "es" }, undefined, "b")
        assert.strictEqual(video.body.detail.status, "watermark_not_allowed")
        assert.strictEqual((yield* create(sim, { target_lang: "es", watermark: "true" }, undefined, "b")).status, 200)
        const list = yield* call(sim, "/v1/dubbing", {}, "b")
        assert.strictEqual(list.body.detail.status, "invalid_workspace_type")
      })
  )

  it.live(
    "limits and faults: 429 rate_limit_exceeded with Retry-After, concurrent_limit_exceeded, 500 after processing",
    () =>
      Effect.gen(function* () {
        const sim = yield* serve({
          rateLimit: { limit: 3, windowMs: 60_000 },
          retryAfterSeconds: 7,
          concurrentLimit: 1,
          queuedMs: 60_000
        })
        const made = yield* create(sim, { target_lang: "es" })
        assert.strictEqual(made.status, 200)
        const busy = yield* create(sim, { target_lang: "fr" })
        assert.strictEqual(busy.status, 429)
        assert.strictEqual(busy.body.detail.code, "concurrent_limit_exceeded")
        yield* call(sim, `/v1/dubbing/${made.body.dubbing_id}`)
        const limited = yield* call(sim, `/v1/dubbing/${made.body.dubbing_id}`)
        assert.strictEqual(limited.status, 429)
        assert.strictEqual(limited.body.detail.code, "rate_limit_exceeded")
        assert.strictEqual(limited.headers.get("retry-after"), "7")
        assert.strictEqual(sim.rejectedByRateLimit(), 1)
        const faulty = yield* serve()
        faulty.injectFault({ kind: "http500AfterProcessing", endpoint: "createDubbing" })
        const lost = yield* create(faulty, { target_lang: "es", name: "n" })
        assert.strictEqual(lost.status, 500)
        assert.strictEqual(faulty.billableSubmissions(), 1, "the dub was made before the 500")
        assert.deepStrictEqual(faulty.createAttempts().get("n/es"), ["processed-answer-lost"])
      })
  )
})

describe("ElevenLabsSimulator chaos", () => {
  it.live("jobFaultRates: a stuck dub stays dubbing, a failed one fails; each draw is counted", () =>
    Effect.gen(function* () {
      const stuck = yield* serve({ jobFaultRates: { stuck: 1 } })
      const a = yield* create(stuck, { target_lang: "es" })
      const failing = yield* serve({ jobFaultRates: { fail: 1 } })
      const b = yield* create(failing, { target_lang: "es" })
      yield* sleep(400)
      assert.strictEqual((yield* call(stuck, `/v1/dubbing/${a.body.dubbing_id}`)).body.status, "dubbing")
      const failed = yield* call(failing, `/v1/dubbing/${b.body.dubbing_id}`)
      assert.strictEqual(failed.body.status, "failed")
      assert.isString(failed.body.error)
      assert.deepStrictEqual(stuck.injectedFaults(), { "job:stuck": 1 })
    })
  )
})

describe("ElevenLabsSimulator in process, on TestClock", () => {
  const wide = { limit: 1_000_000, window: Duration.seconds(1) }
  const provider = Layer.unwrap(
    Effect.map(ElevenLabsSimulator.Simulator, (sim) =>
      ElevenLabs.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        budgets: { read: wide, create: wide }
      })
    )
  ).pipe(
    Layer.provideMerge(ElevenLabsSimulator.layerInProcess({ queuedMs: 1000, preparingMs: 1000, dubbingMs: 1000 })),
    Layer.provide(NodeServices.layer)
  )

  it.effect("a dub moves only when the test moves the clock", () =>
    Effect.gen(function* () {
      const translation = yield* TranslationProvider
      const job = yield* translation
        .submit({ source: Source.url("https://media.example.com/a.mp4"), targets: ["es"] })
        .pipe(Submission.single)
      const state = () => Effect.map(translation.get(job.ref), (j) => j.state._tag)
      assert.strictEqual(yield* state(), "Queued")
      yield* TestClock.adjust(Duration.millis(1500))
      assert.strictEqual(yield* state(), "Running")
      yield* TestClock.adjust(Duration.seconds(5))
      assert.strictEqual(yield* state(), "Succeeded")
    }).pipe(Effect.provide(provider))
  )
})

const project = (sim: Sim, fields: Record<string, string | Array<string>>, apiKey: string | null = sim.apiKey) => {
  const data = new FormData()
  for (const [key, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) data.append(key, v)
  }
  return call(sim, "/v1/dubbing/project", { method: "POST", body: data }, apiKey)
}

const jsonCall = (sim: Sim, method: string, path: string, body?: unknown) =>
  call(sim, path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  })

describe("ElevenLabsSimulator: Dubbing Projects", () => {
  const timings = { projectQueuedMs: 30, projectPreparingMs: 30, projectProcessingMs: 40, languageMs: 60 }

  it.live("create: 201 Project; keyterms, model_id, webhook_ids and unknown fields are validated", () =>
    Effect.gen(function* () {
      const sim = yield* serve(timings)
      const ok = yield* project(sim, { source_url: "https://x.example/a.mp4", keyterms: ["Polydub", "Effect"] })
      assert.strictEqual(ok.status, 201)
      assert.match(ok.body.project_id, /^proj_[a-z0-9]{28}$/)
      assert.strictEqual(ok.body.status, "queued")
      assert.isNull(ok.body.media, "media is null until ready")
      const pyStyle = yield* project(sim, { source_url: "https://x.example/a.mp4", keyterms: '["one", "two"]' })
      assert.strictEqual(pyStyle.status, 201, "keyterms as one JSON field, as the Python SDK sends them")
      const long = yield* project(sim, { source_url: "https://x.example/a.mp4", keyterms: ["x".repeat(51)] })
      assert.deepStrictEqual(long.body.detail[0].loc, ["body", "keyterms"])
      const model = yield* project(sim, { source_url: "https://x.example/a.mp4", model_id: "dubbing_v3" })
      assert.deepStrictEqual(model.body.detail[0].loc, ["body", "model_id"])
      const hooks = yield* project(sim, { source_url: "https://x.example/a.mp4", webhook_ids: ["a", "b", "c", "d"] })
      assert.deepStrictEqual(hooks.body.detail[0].loc, ["body", "webhook_ids"])
      const extra = yield* project(sim, { source_url: "https://x.example/a.mp4", target_lang: "es" })
      assert.deepStrictEqual(extra.body.detail[0].loc, ["body", "target_lang"])
    })
  )

  it.live("a language waits (queued) for its project to be ready, then processes and completes; deletes are 204", () =>
    Effect.gen(function* () {
      const sim = yield* serve(timings)
      const created = yield* project(sim, { source_url: "https://x.example/a.mp4", target_language: "es-MX" })
      const id: string = created.body.project_id
      const [languageId] = created.body.language_ids as Array<string>
      const early = yield* call(sim, `/v1/dubbing/project/${id}/language/${languageId}`)
      assert.strictEqual(early.body.status, "queued")
      assert.isNull(early.body.outputs)
      const seen: Array<string> = []
      for (let i = 0; i < 100; i++) {
        const got = yield* call(sim, `/v1/dubbing/project/${id}/language/${languageId}`)
        if (seen.at(-1) !== got.body.status) seen.push(got.body.status)
        if (got.body.status === "completed") {
          assert.strictEqual(got.body.output_revision, got.body.revision)
          assert.match(got.body.outputs.lossless_audio, /Expires=\d+/)
          break
        }
        yield* sleep(10)
      }
      assert.deepStrictEqual(seen, ["queued", "processing", "completed"])
      const regen = yield* jsonCall(
        sim,
        "POST",
        `/v1/dubbing/project/${id}/language/${languageId}/transcript/regenerate`
      )
      assert.strictEqual(regen.status, 409)
      const bad = yield* jsonCall(sim, "POST", `/v1/dubbing/project/${id}/language`, {
        target_language: "fr",
        voice_settings: { cloning_strength: 11 }
      })
      assert.strictEqual(bad.status, 422)
      const removed = yield* jsonCall(sim, "DELETE", `/v1/dubbing/project/${id}/language/${languageId}`)
      assert.strictEqual(removed.status, 204)
      assert.strictEqual((yield* call(sim, `/v1/dubbing/project/${id}/language/${languageId}`)).status, 404)
      assert.strictEqual((yield* jsonCall(sim, "DELETE", `/v1/dubbing/project/${id}`)).status, 204)
      assert.strictEqual((yield* call(sim, `/v1/dubbing/project/${id}`)).status, 404)
    })
  )

  it.live(
    "edits bump revisions; a completed language goes stale; regenerate answers 202 in either documented shape",
    () =>
      Effect.gen(function* () {
        for (const regenerateAnswer of ["regions", "language"] as const) {
          const sim = yield* serve({ ...timings, regenerateAnswer })
          const created = yield* project(sim, { source_url: "https://x.example/a.mp4", target_language: "de" })
          const id: string = created.body.project_id
          const languageId: string = created.body.language_ids[0]
          yield* sleep(250)
          const transcript = yield* call(sim, `/v1/dubbing/project/${id}/transcript`)
          const segment = transcript.body.segments[0]
          const patched = yield* jsonCall(sim, "PATCH", `/v1/dubbing/project/${id}/transcript/segments`, {
            segments: { [segment.id]: { text: "Welcome, everyone." } }
          })
          assert.strictEqual(patched.body.revision, transcript.body.revision + 1)
          const inverted = yield* jsonCall(sim, "PATCH", `/v1/dubbing/project/${id}/transcript/segments`, {
            segments: { [segment.id]: { start_s: 5, end_s: 1 } }
          })
          assert.strictEqual(inverted.status, 422, "end_s must be after start_s")
          const stale = yield* call(sim, `/v1/dubbing/project/${id}/language/${languageId}`)
          assert.strictEqual(stale.body.status, "stale")
          assert.isNotNull(stale.body.outputs.lossless_audio, "the old output is still served")
          const regen = yield* jsonCall(
            sim,
            "POST",
            `/v1/dubbing/project/${id}/language/${languageId}/transcript/regenerate`
          )
          assert.strictEqual(regen.status, 202)
          if (regenerateAnswer === "regions") assert.isArray(regen.body.regenerated_segment_ids)
          else assert.strictEqual(regen.body.status, "processing")
        }
      })
  )
})
