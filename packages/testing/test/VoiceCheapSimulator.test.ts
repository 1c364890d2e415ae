// The VoiceCheap simulator on its own, over loopback sockets, with a plain HTTP client (fetch): the
// documented validation order, the streaming upload, rate windows, the state machine, lip sync,
// failures on demand, accounts, counters and the output files. No provider code is involved: the
// simulator must hold the documented behaviour by itself, as stripe-mock does.

import { assert, describe, it } from "@effect/vitest"
import { SampleMedia, VoiceCheapSimulator } from "@polydub/testing"
import { Effect } from "effect"

type Sim = VoiceCheapSimulator.VoiceCheapSimulator

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

const call = (sim: Sim, path: string, init: RequestInit = {}, apiKey: string | null = sim.apiKey) =>
  Effect.promise(async (): Promise<Answer> => {
    const headers = new Headers(init.headers)
    if (apiKey !== null) headers.set("x-api-key", apiKey)
    const response = await fetch(`${sim.baseUrl}${path}`, { ...init, headers })
    const text = await response.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // a file or a non-JSON answer: kept as text
    }
    return { status: response.status, headers: response.headers, body }
  })

const form = (fields: Record<string, string>, file: { bytes: number; type: string; name?: string } | null) => {
  const data = new FormData()
  for (const [key, value] of Object.entries(fields)) data.set(key, value)
  if (file !== null) {
    data.set("file", new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name ?? "clip.mp4")
  }
  return data
}

const translate = (
  sim: Sim,
  fields: Record<string, string>,
  file: { bytes: number; type: string; name?: string } | null = { bytes: 1000, type: "video/mp4" },
  apiKey: string | null = sim.apiKey,
  path = "/v1/translate"
) => call(sim, path, { method: "POST", body: form(fields, file) }, apiKey)

const status = (sim: Sim, projectId: string, apiKey: string | null = sim.apiKey) =>
  call(sim, `/v1/translate/${projectId}/status`, {}, apiKey)

const wide = { limit: 10_000, windowMs: 1000 }
const serve = (options: VoiceCheapSimulator.VoiceCheapSimulatorOptions = {}) =>
  VoiceCheapSimulator.serve({
    processingMs: 400,
    lipSyncMs: 200,
    rateLimits: { status: wide, projects: wide, translate: wide },
    ...options
  })

/** Polls a project until it is no longer processing, keeping every answer. */
const pollToEnd = Effect.fnUntraced(function* (sim: Sim, projectId: string) {
  const seen: Array<any> = []
  for (let i = 0; i < 200; i++) {
    const answer = yield* status(sim, projectId)
    assert.strictEqual(answer.status, 200)
    seen.push(answer.body)
    if (answer.body.status !== "processing") return seen
    yield* Effect.sleep(15)
  }
  return assert.fail(`project ${projectId} never finished`)
})

describe("VoiceCheapSimulator: validation, in the documented order", () => {
  it.live("key, subscription, file, type, size, language, booleans/JSON, credits, concurrency", () =>
    Effect.gen(function* () {
      const sim = yield* serve({
        accounts: [
          { apiKey: "vc_paid", credits: 1 },
          { apiKey: "vc_free", subscription: false }
        ],
        maxFileBytes: 5000,
        concurrentLimit: 1,
        processingMs: 60_000
      })
      const expect = (answer: Answer, httpStatus: number, code: string) => {
        assert.strictEqual(answer.status, httpStatus, JSON.stringify(answer.body))
        assert.strictEqual(answer.body.code, code, JSON.stringify(answer.body))
        assert.isString(answer.body.message)
      }
      const ok = { targetLanguage: "spanish" }
      // Each request below breaks two rules: the one checked first is reported.
      expect(yield* translate(sim, { targetLanguage: "Klingon" }, undefined, null), 401, "MISSING_API_KEY")
      expect(yield* translate(sim, { targetLanguage: "Klingon" }, undefined, "vc_nobody"), 401, "INVALID_API_KEY")
      expect(yield* translate(sim, { targetLanguage: "Klingon" }, undefined, "vc_free"), 403, "SUBSCRIPTION_REQUIRED")
      expect(yield* translate(sim, { targetLanguage: "Klingon" }, null, "vc_paid"), 400, "FILE_REQUIRED")
      expect(
        yield* translate(sim, { targetLanguage: "Klingon" }, { bytes: 10, type: "text/plain" }, "vc_paid"),
        400,
        "INVALID_FILE_TYPE"
      )
      expect(
        yield* translate(sim, { targetLanguage: "Klingon" }, { bytes: 5001, type: "video/mp4" }, "vc_paid"),
        400,
        "FILE_TOO_LARGE"
      )
      const language = yield* translate(sim, { targetLanguage: "Spanish", lipsyncPro: "yes" }, undefined, "vc_paid")
      expect(language, 400, "VALIDATION_ERROR")
      assert.strictEqual(language.body.details.field, "targetLanguage", "target names must be lowercase")
      expect(yield* translate(sim, { ...ok, lipsyncPro: "yes" }, undefined, "vc_paid"), 400, "INVALID_BOOLEAN_VALUE")
      expect(
        yield* translate(sim, { ...ok, voiceCloningSettings: "{stability:1" }, undefined, "vc_paid"),
        400,
        "INVALID_JSON_FORMAT"
      )
      // Both documented target lists are accepted: the older "canadian french" and the newer name.
      const created = yield* translate(sim, { targetLanguage: "canadian french" }, undefined, "vc_paid")
      assert.strictEqual(created.status, 200, JSON.stringify(created.body))
      assert.isTrue(created.body.success)
      assert.isString(created.body.projectId)
      assert.isNumber(created.body.estimatedDuration)
      expect(yield* translate(sim, ok, undefined, "vc_paid"), 403, "INSUFFICIENT_CREDITS")
      assert.strictEqual(sim.billableSubmissions(), 1)
      assert.strictEqual(sim.requests().translate, 11)
    }).pipe(Effect.scoped)
  )

  it.live("refuses a new project past the concurrency limit with 429, shared with /v1/projects", () =>
    Effect.gen(function* () {
      const sim = yield* serve({ concurrentLimit: 2, processingMs: 60_000 })
      assert.strictEqual((yield* translate(sim, { targetLanguage: "german" })).status, 200)
      assert.strictEqual(
        (yield* translate(sim, { targetLanguage: "german" }, undefined, sim.apiKey, "/v1/projects")).status,
        200
      )
      const third = yield* translate(sim, { targetLanguage: "german" })
      assert.strictEqual(third.status, 429)
      assert.strictEqual(third.body.code, "CONCURRENT_TRANSLATION_LIMIT_REACHED")
      assert.strictEqual(sim.billableSubmissions(), 2)
    }).pipe(Effect.scoped)
  )
})

describe("VoiceCheapSimulator: the form fields, as VoiceCheap documents them", () => {
  // Every field of POST /v1/translate in its documented form: booleans as words, numbers as
  // decimal text, objects and arrays as JSON text.
  const everyField = {
    targetLanguage: "brazilian portuguese",
    originalLanguage: "en",
    projectName: "every field",
    keepBackgroundMusic: "false",
    voiceIsolatorOption: "studio",
    keepOriginalVoice: "true",
    originalVoiceVolume: "0.3",
    subtitles: "true",
    subtitlesSource: "translated",
    translationTimeSkips: '[{"startTime":0,"endTime":4.5,"duration":4.5}]',
    lipsyncPro: "true",
    voiceCloningSettings: '{"stability":0.6,"similarity":0.8,"speakerBoost":0.6}'
  }

  it.live("accepts every documented field in its valid form, on both upload endpoints", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      for (const path of ["/v1/translate", "/v1/projects"]) {
        const created = yield* translate(sim, everyField, undefined, sim.apiKey, path)
        assert.strictEqual(created.status, 200, `${path}: ${JSON.stringify(created.body)}`)
      }
      const [dubbed, transcribed] = sim.projects()
      assert.strictEqual(dubbed!.targetLanguage, "brazilian portuguese")
      assert.strictEqual(dubbed!.originalLanguage, "en")
      assert.strictEqual(dubbed!.projectName, "every field")
      assert.strictEqual(dubbed!.lipSync, "pro", "lipsyncPro=true is read as true")
      assert.strictEqual(transcribed!.lipSync, undefined, "/v1/projects ignores the translate-only fields")
      // VoiceCheap does not say unknown fields are refused: they are ignored.
      assert.strictEqual((yield* translate(sim, { targetLanguage: "german", webhookUrl: "x" })).status, 200)
    }).pipe(Effect.scoped)
  )

  it.live("refuses a malformed value of each typed field with VoiceCheap's envelope naming the field", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      const cases: ReadonlyArray<readonly [Record<string, string>, string, string]> = [
        // [fields, code, the field the answer names]
        [{ targetLanguage: "klingon" }, "VALIDATION_ERROR", "targetLanguage"],
        [{ targetLanguage: "es" }, "VALIDATION_ERROR", "targetLanguage"],
        [{ originalLanguage: "english" }, "VALIDATION_ERROR", "originalLanguage"],
        [{ keepBackgroundMusic: "yes" }, "INVALID_BOOLEAN_VALUE", "keepBackgroundMusic"],
        [{ keepOriginalVoice: "1" }, "INVALID_BOOLEAN_VALUE", "keepOriginalVoice"],
        [{ subtitles: "TRUE" }, "INVALID_BOOLEAN_VALUE", "subtitles"],
        [{ lipsyncPro: "" }, "INVALID_BOOLEAN_VALUE", "lipsyncPro"],
        [{ originalVoiceVolume: "loud" }, "VALIDATION_ERROR", "originalVoiceVolume"],
        [{ originalVoiceVolume: "0x10" }, "VALIDATION_ERROR", "originalVoiceVolume"],
        [{ voiceCloningSettings: "{stability:1" }, "INVALID_JSON_FORMAT", "voiceCloningSettings"],
        [
          { voiceCloningSettings: '{"stability":1.5,"similarity":0.8,"speakerBoost":0.6}' },
          "VALIDATION_ERROR",
          "voiceCloningSettings"
        ],
        [{ voiceCloningSettings: '{"stability":"high"}' }, "VALIDATION_ERROR", "voiceCloningSettings"],
        [{ translationTimeSkips: "[{" }, "INVALID_JSON_FORMAT", "translationTimeSkips"],
        [{ translationTimeSkips: '{"startTime":0}' }, "VALIDATION_ERROR", "translationTimeSkips"],
        [
          { translationTimeSkips: '[{"startTime":-1,"endTime":2,"duration":3}]' },
          "VALIDATION_ERROR",
          "translationTimeSkips"
        ]
      ]
      for (const path of ["/v1/translate", "/v1/projects"]) {
        for (const [fields, code, field] of cases) {
          const label = `${path} ${JSON.stringify(fields)}`
          const answer = yield* translate(sim, { targetLanguage: "spanish", ...fields }, undefined, sim.apiKey, path)
          assert.strictEqual(answer.status, 400, label)
          assert.strictEqual(answer.body.code, code, `${label}: ${JSON.stringify(answer.body)}`)
          if (code === "VALIDATION_ERROR") {
            assert.strictEqual(answer.body.message, "Invalid request parameters", label)
            assert.strictEqual(answer.body.details.field, field, label)
            assert.isNotEmpty(answer.body.details.reason, label)
          } else {
            assert.include(answer.body.message, field, label)
            assert.isUndefined(answer.body.details, label)
          }
        }
      }
      assert.strictEqual(sim.billableSubmissions(), 0, "nothing refused was billed")
      assert.strictEqual(sim.projects().length, 0)
    }).pipe(Effect.scoped)
  )
})

describe("VoiceCheapSimulator: uploads", () => {
  it.live("streams the multipart body: counts every byte of the file, keeps the fields", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      const size = 3 * 1024 * 1024 + 5
      // A body the client streams in small pieces, so the server cannot get it in one read.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const boundary = "----simtest"
          const enc = new TextEncoder()
          controller.enqueue(
            enc.encode(
              `--${boundary}\r\nContent-Disposition: form-data; name="targetLanguage"\r\n\r\nbrazilian portuguese\r\n` +
                `--${boundary}\r\nContent-Disposition: form-data; name="projectName"\r\n\r\nstreamed\r\n` +
                `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mov"\r\n` +
                `Content-Type: video/quicktime\r\n\r\n`
            )
          )
          for (let sent = 0; sent < size; sent += 64 * 1024) {
            controller.enqueue(new Uint8Array(Math.min(64 * 1024, size - sent)).fill(0x2d))
          }
          controller.enqueue(enc.encode(`\r\n--${boundary}--\r\n`))
          controller.close()
        }
      })
      const answer = yield* call(sim, "/v1/translate", {
        method: "POST",
        body,
        headers: { "content-type": "multipart/form-data; boundary=----simtest" },
        duplex: "half"
      } as RequestInit)
      assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
      const [project] = sim.projects()
      assert.strictEqual(project!.bytes, size)
      assert.strictEqual(project!.fileName, "big.mov")
      assert.strictEqual(project!.projectName, "streamed")
      assert.strictEqual(project!.targetLanguage, "brazilian portuguese")
    }).pipe(Effect.scoped)
  )

  it.live("a project name defaults to the project id; the source language to what it detects", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      const created = yield* translate(sim, { targetLanguage: "japanese" })
      const read = yield* status(sim, created.body.projectId)
      assert.strictEqual(read.body.projectName, created.body.projectId)
      assert.strictEqual(read.body.targetLanguage, "japanese")
      assert.isString(read.body.originalLanguage)
      assert.isNumber(read.body.createdAt)
      assert.isAbove(read.body.createdAt, 1_700_000_000_000, "createdAt is in milliseconds")
    }).pipe(Effect.scoped)
  )
})

describe("VoiceCheapSimulator: the project's life", () => {
  it.live("walks the documented steps with rising percentages, then lip sync PENDING → PROCESSING → COMPLETED", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      const created = yield* translate(sim, { targetLanguage: "spanish", lipsyncPro: "true" })
      const seen = yield* pollToEnd(sim, created.body.projectId)
      const steps = [
        "downloading_content",
        "content_validation",
        "transcription_processing",
        "smart_sync",
        "audio_enhancement",
        "audio_assembling",
        "video_upload"
      ]
      const order = seen
        .map((s) => s.actualProgressStep)
        .filter((s): s is string => s !== undefined)
        .map((s) => steps.indexOf(s))
      assert.isFalse(order.includes(-1), "an undocumented step")
      for (let i = 1; i < order.length; i++) assert.isAtLeast(order[i]!, order[i - 1]!, "a step went back")
      assert.isAbove(new Set(order).size, 3, "too few distinct steps seen")
      const combined = seen
        .filter((s) => s.status === "processing")
        .map((s) => (s.translationAndTranscriptionProgress ?? 0) + (s.dubbingProgress ?? 0))
      for (let i = 1; i < combined.length; i++) assert.isAtLeast(combined[i]!, combined[i - 1]!, "progress went back")
      for (const s of seen) {
        for (const p of [s.translationAndTranscriptionProgress, s.dubbingProgress]) {
          if (p !== undefined) assert.isTrue(p >= 0 && p <= 100, `percentage ${p}`)
        }
      }
      const lip = seen.map((s) => s.lipSync.status).filter((s, i, all) => i === 0 || all[i - 1] !== s)
      assert.deepStrictEqual(lip, ["PENDING", "PROCESSING", "COMPLETED"])
      assert.strictEqual(seen.at(-2)!.status, "processing", "stays processing until lip sync completes")
      const done = seen.at(-1)!
      assert.strictEqual(done.status, "success")
      assert.strictEqual(done.lipSync.type, "pro")
      // Each output is the project's own URL, serving real media: the sample MP4 or MP3.
      for (const [url, sample, type] of [
        [done.translatedVideoUrl, SampleMedia.sampleVideo(), "video/mp4"],
        [done.translatedAudioUrl, SampleMedia.sampleAudio(), "audio/mpeg"],
        [done.lipSync.videoUrl, SampleMedia.sampleVideo(), "video/mp4"]
      ] as const) {
        assert.include(url, created.body.projectId)
        const file = yield* Effect.promise(() =>
          fetch(url).then(async (r) => ({
            status: r.status,
            type: r.headers.get("content-type"),
            bytes: new Uint8Array(await r.arrayBuffer())
          }))
        )
        assert.strictEqual(file.status, 200, url)
        assert.strictEqual(file.type, type, url)
        assert.deepStrictEqual(file.bytes, sample, url)
      }
    }).pipe(Effect.scoped)
  )

  it.live("fails on demand: TRANSCRIPTION_FAILED during transcription, LIPSYNC_FAILED during lip sync", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      sim.failNext("TRANSCRIPTION_FAILED")
      const a = yield* translate(sim, { targetLanguage: "italian" })
      const first = (yield* pollToEnd(sim, a.body.projectId)).at(-1)!
      assert.strictEqual(first.status, "failed")
      assert.deepStrictEqual(first.error, {
        code: "TRANSCRIPTION_FAILED",
        message: "Could not transcribe the audio. Please ensure the audio quality is sufficient."
      })
      sim.failNext("LIPSYNC_FAILED")
      const b = yield* translate(sim, { targetLanguage: "italian", lipsyncPro: "true" })
      const second = (yield* pollToEnd(sim, b.body.projectId)).at(-1)!
      assert.strictEqual(second.status, "failed")
      assert.strictEqual(second.error.code, "LIPSYNC_FAILED")
      assert.strictEqual(second.lipSync.status, "FAILED")
      const c = yield* translate(sim, { targetLanguage: "italian" })
      assert.strictEqual((yield* pollToEnd(sim, c.body.projectId)).at(-1)!.status, "success", "one failure only")
    }).pipe(Effect.scoped)
  )

  it.live("POST /v1/projects transcribes only: it succeeds without dubbing or outputs", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      const created = yield* translate(sim, { targetLanguage: "german" }, undefined, sim.apiKey, "/v1/projects")
      assert.strictEqual(created.status, 200)
      const done = (yield* pollToEnd(sim, created.body.projectId)).at(-1)!
      assert.strictEqual(done.status, "success")
      assert.isUndefined(done.dubbingProgress)
      assert.isUndefined(done.translatedVideoUrl)
      assert.strictEqual(sim.requests().projects, 1)
    }).pipe(Effect.scoped)
  )

  it.live("another account's project is 403 FORBIDDEN; an unknown one 404 PROJECT_NOT_FOUND", () =>
    Effect.gen(function* () {
      const sim = yield* serve({ accounts: [{ apiKey: "vc_alice" }, { apiKey: "vc_bob" }] })
      const created = yield* translate(sim, { targetLanguage: "french" }, undefined, "vc_alice")
      assert.strictEqual((yield* status(sim, created.body.projectId, "vc_alice")).status, 200)
      const other = yield* status(sim, created.body.projectId, "vc_bob")
      assert.strictEqual(other.status, 403)
      assert.strictEqual(other.body.code, "FORBIDDEN")
      const unknown = yield* status(sim, "abc123-def456-ghi789", "vc_bob")
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(unknown.body.code, "PROJECT_NOT_FOUND")
      assert.strictEqual((yield* status(sim, created.body.projectId, "vc_mallory")).body.code, "INVALID_API_KEY")
    }).pipe(Effect.scoped)
  )

  it.live("output URLs expire (the TTL is configurable: VoiceCheap does not document one)", () =>
    Effect.gen(function* () {
      const sim = yield* serve({ processingMs: 30, urlTtlMs: 0 })
      const created = yield* translate(sim, { targetLanguage: "dutch" })
      const done = (yield* pollToEnd(sim, created.body.projectId)).at(-1)!
      const file = yield* Effect.promise(() => fetch(done.translatedVideoUrl).then((r) => r.status))
      assert.strictEqual(file, 403)
    }).pipe(Effect.scoped)
  )
})

describe("VoiceCheapSimulator: rate windows, faults and counters", () => {
  it.live("each endpoint has its own window; 429 RATE_LIMIT_EXCEEDED past it, Retry-After only when configured", () =>
    Effect.gen(function* () {
      const sim = yield* serve({
        rateLimits: { status: { limit: 3, windowMs: 300 }, translate: { limit: 2, windowMs: 60_000 }, projects: wide }
      })
      const created = yield* translate(sim, { targetLanguage: "polish" })
      const reads = []
      for (let i = 0; i < 4; i++) reads.push(yield* status(sim, created.body.projectId))
      assert.deepStrictEqual(
        reads.map((r) => r.status),
        [200, 200, 200, 429]
      )
      assert.strictEqual(reads[3]!.body.code, "RATE_LIMIT_EXCEEDED")
      assert.isNull(reads[3]!.headers.get("retry-after"), "VoiceCheap documents no Retry-After")
      assert.strictEqual(
        (yield* translate(sim, { targetLanguage: "polish" })).status,
        200,
        "translate has its own window"
      )
      const third = yield* translate(sim, { targetLanguage: "polish" })
      assert.strictEqual(third.status, 429)
      assert.strictEqual(third.body.code, "RATE_LIMIT_EXCEEDED")
      assert.strictEqual(sim.billableSubmissions(), 2)
      assert.strictEqual(sim.rejectedByRateLimit(), 2)
      yield* Effect.sleep(350)
      assert.strictEqual((yield* status(sim, created.body.projectId)).status, 200, "the window slides on")

      const advised = yield* serve({ rateLimits: { status: { limit: 1, windowMs: 60_000 } }, retryAfterSeconds: 7 })
      const id = (yield* translate(advised, { targetLanguage: "polish" })).body.projectId
      yield* status(advised, id)
      const limited = yield* status(advised, id)
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.headers.get("retry-after"), "7")
    }).pipe(Effect.scoped)
  )

  it.live("counts requests and billable submissions; a fault after processing still bills", () =>
    Effect.gen(function* () {
      const sim = yield* serve()
      sim.injectFault({ kind: "http500", endpoint: "translate" })
      const refused = yield* translate(sim, { targetLanguage: "greek" })
      assert.strictEqual(refused.status, 500)
      assert.strictEqual(sim.billableSubmissions(), 0, "a 500 before processing bills nothing")
      sim.injectFault({ kind: "http500AfterProcessing", endpoint: "translate" })
      const lost = yield* translate(sim, { targetLanguage: "greek" })
      assert.strictEqual(lost.status, 500)
      assert.strictEqual(sim.billableSubmissions(), 1, "processed, then answered 500")
      assert.strictEqual(sim.projects().length, 1)
      sim.injectFault({ kind: "malformed", endpoint: "status" })
      const garbled = yield* status(sim, sim.projects()[0]!.projectId)
      assert.strictEqual(garbled.status, 200)
      assert.isString(garbled.body, "not JSON")
      sim.injectFault({ kind: "http502", endpoint: "status" })
      const gateway = yield* status(sim, sim.projects()[0]!.projectId)
      assert.strictEqual(gateway.status, 502)
      assert.strictEqual((yield* status(sim, sim.projects()[0]!.projectId)).status, 200, "one fault, then healthy")
      assert.deepStrictEqual(sim.requests(), { translate: 2, projects: 0, status: 3, files: 0 })
      assert.strictEqual(sim.totalRequests(), 5)
    }).pipe(Effect.scoped)
  )
})
