import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { ProviderHttp } from "@polydub/core"
import { VoiceCheap, VoiceCheapClient, VoiceCheapLanguages, VoiceCheapWire } from "@polydub/provider-voicecheap"
import { Effect, Exit, Option, Schema } from "effect"

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"))

const decodeStatus = Schema.decodeUnknownSync(VoiceCheapWire.StatusResponse)

describe("VoiceCheap wire schemas", () => {
  it("refuses a project id no job reference can hold, as UnexpectedResponse at projectId", () => {
    const context = { provider: "voicecheap", operation: "test" }
    const translate = Effect.runSync(
      Effect.flip(
        ProviderHttp.decodeJsonText(
          VoiceCheapWire.TranslateResponse,
          JSON.stringify({ success: true, projectId: "a1b2\nc3" }),
          context
        )
      )
    )
    assert.strictEqual(translate._tag, "UnexpectedResponse")
    assert.strictEqual(translate.path, "projectId")
    const status = Effect.runSync(
      Effect.flip(
        ProviderHttp.decodeJsonText(
          VoiceCheapWire.StatusResponse,
          JSON.stringify({ ...(fixture("seed-004-success.json") as object), projectId: "a1b2\u0007" }),
          context
        )
      )
    )
    assert.strictEqual(status.path, "projectId")
  })

  it("decodes every status example in the seed, verbatim", () => {
    for (const name of [
      "seed-004-schema-sample.json",
      "seed-004-processing.json",
      "seed-004-success.json",
      "seed-004-failed.json"
    ]) {
      const decoded = decodeStatus(fixture(name))
      assert.isString(decoded.projectId, name)
    }
    assert.strictEqual(decodeStatus(fixture("seed-004-failed.json")).error?.code, "TRANSCRIPTION_FAILED")
  })

  it("decodes the reference's progress and lip-sync example, the error envelope and the translate answer", () => {
    const status = decodeStatus(fixture("reference-A5-progress-lipsync.json"))
    assert.strictEqual(status.lipSync?.status, "PENDING")
    assert.strictEqual(status.dubbingProgress, 55)
    const error = Schema.decodeUnknownSync(VoiceCheapWire.ErrorEnvelope)(fixture("reference-A2-validation-error.json"))
    assert.strictEqual(error.details?.field, "targetLanguage")
    const created = Schema.decodeUnknownSync(VoiceCheapWire.TranslateResponse)(
      fixture("reference-A4-translate-response.json")
    )
    assert.strictEqual(created.estimatedDuration, 123)
  })

  it("refuses a status whose fields have the wrong types", () => {
    const bad = { ...(fixture("seed-004-processing.json") as object), duration: "125.5" }
    assert.throws(() => decodeStatus(bad))
  })

  it("encodes form fields as VoiceCheap expects: booleans as words, objects as JSON, documented order", () => {
    const encoded = Effect.runSync(
      VoiceCheapWire.encodeFields({
        lipsyncPro: true,
        targetLanguage: "spanish",
        keepBackgroundMusic: false,
        originalVoiceVolume: 0.3,
        voiceCloningSettings: { stability: 0.6, similarity: 0.8, speakerBoost: 0.6 },
        translationTimeSkips: [{ startTime: 0, endTime: 4.5, duration: 4.5 }]
      })
    )
    assert.deepStrictEqual(encoded, [
      ["targetLanguage", "spanish"],
      ["keepBackgroundMusic", "false"],
      ["originalVoiceVolume", "0.3"],
      ["translationTimeSkips", '[{"startTime":0,"endTime":4.5,"duration":4.5}]'],
      ["lipsyncPro", "true"],
      ["voiceCloningSettings", '{"stability":0.6,"similarity":0.8,"speakerBoost":0.6}']
    ])
    // The form decodes back to the typed fields: what the simulator (or VoiceCheap) reads.
    const decoded = Schema.decodeUnknownSync(VoiceCheapWire.TranslateForm)(Object.fromEntries(encoded))
    assert.strictEqual(decoded.keepBackgroundMusic, false)
    assert.strictEqual(decoded.voiceCloningSettings?.similarity, 0.8)
  })

  it("refuses form values VoiceCheap would reject: a word that is not true/false, settings out of 0–1", () => {
    const decode = Schema.decodeUnknownExit(VoiceCheapWire.TranslateForm)
    assert.isTrue(Exit.isFailure(decode({ targetLanguage: "spanish", subtitles: "yes" })))
    assert.isTrue(Exit.isFailure(decode({ targetLanguage: "spanish", voiceCloningSettings: "{stability:1" })))
    const outOfRange = Effect.runSync(
      Effect.flip(
        VoiceCheapWire.encodeFields({
          targetLanguage: "spanish",
          voiceCloningSettings: { stability: 1.5, similarity: 0.8, speakerBoost: 0.6 }
        })
      )
    )
    assert.include(outOfRange.message, "stability")
  })
})

describe("VoiceCheap states", () => {
  const stateOf = (name: string) => Effect.runSync(VoiceCheap.stateOf(decodeStatus(fixture(name))))

  it("maps the seed's examples", () => {
    assert.deepStrictEqual(stateOf("seed-004-processing.json"), { _tag: "Running" })
    const success = stateOf("seed-004-success.json")
    assert.strictEqual(success._tag, "Succeeded")
    if (success._tag === "Succeeded") {
      assert.strictEqual(success.outputs.video?.url, "https://storage.voicecheap.ai/translated/...")
      assert.strictEqual(success.outputs.audio?.url, "https://storage.voicecheap.ai/audio/...")
    }
    assert.deepStrictEqual(stateOf("seed-004-failed.json"), {
      _tag: "Failed",
      reason: {
        code: "TRANSCRIPTION_FAILED",
        message: "Could not transcribe the audio. Please ensure the audio quality is sufficient."
      }
    })
  })

  it("reads progress from the steps and percentages, lip sync included", () => {
    const state = stateOf("reference-A5-progress-lipsync.json")
    assert.strictEqual(state._tag, "Running")
    if (state._tag === "Running") {
      assert.strictEqual(state.step, "audio_enhancement")
      assert.closeTo(state.progress!, 0.35 + 0.45 * 0.55, 1e-9)
    }
  })

  it("treats an unknown status word as Running with the word as step", () => {
    const raw = { ...(fixture("seed-004-processing.json") as object), status: "queued_for_gpu" }
    assert.deepStrictEqual(Effect.runSync(VoiceCheap.stateOf(decodeStatus(raw))), {
      _tag: "Running",
      step: "queued_for_gpu"
    })
  })

  it("does not report success before the video URL exists", () => {
    const raw = { ...(fixture("seed-004-success.json") as object), translatedVideoUrl: null }
    assert.strictEqual(Effect.runSync(VoiceCheap.stateOf(decodeStatus(raw)))._tag, "Running")
  })

  it("reads the failure of the seed's schema sample, whose keys are spelled error.code", () => {
    const raw = { ...(fixture("seed-004-schema-sample.json") as object), status: "failed" }
    assert.deepStrictEqual(Effect.runSync(VoiceCheap.stateOf(decodeStatus(raw))), {
      _tag: "Failed",
      reason: { code: "<string>", message: "<string>" }
    })
  })
})

describe("VoiceCheap errors", () => {
  const map = (status: number, code: string) =>
    VoiceCheapClient.mapError("status", status, { code, message: `message for ${code}` }, Option.none())

  it("maps every documented code to a typed error, keeping the vendor's code and message", () => {
    const expected: Record<string, string> = {
      MISSING_API_KEY: "AuthenticationFailed",
      INVALID_API_KEY: "AuthenticationFailed",
      SUBSCRIPTION_REQUIRED: "PermissionDenied",
      API_ACCESS_REQUIRED: "PermissionDenied",
      FORBIDDEN: "PermissionDenied",
      INSUFFICIENT_CREDITS: "InsufficientCredits",
      FILE_REQUIRED: "InvalidRequest",
      INVALID_FILE_TYPE: "InvalidRequest",
      FILE_TOO_LARGE: "PayloadTooLarge",
      DURATION_DETECTION_FAILED: "InvalidRequest",
      VIDEO_TOO_LONG: "InvalidRequest",
      INVALID_TARGET_LANGUAGE: "InvalidRequest",
      VALIDATION_ERROR: "InvalidRequest",
      INVALID_BOOLEAN_VALUE: "InvalidRequest",
      INVALID_JSON_FORMAT: "InvalidRequest",
      PROJECT_NOT_FOUND: "NotFound",
      RATE_LIMIT_EXCEEDED: "RateLimited",
      CONCURRENT_TRANSLATION_LIMIT_REACHED: "RateLimited"
    }
    const statusOf: Record<string, number> = {
      MISSING_API_KEY: 401,
      INVALID_API_KEY: 401,
      SUBSCRIPTION_REQUIRED: 403,
      API_ACCESS_REQUIRED: 403,
      FORBIDDEN: 403,
      INSUFFICIENT_CREDITS: 403,
      PROJECT_NOT_FOUND: 404,
      RATE_LIMIT_EXCEEDED: 429,
      CONCURRENT_TRANSLATION_LIMIT_REACHED: 429
    }
    for (const [code, tag] of Object.entries(expected)) {
      const error = map(statusOf[code] ?? 400, code)
      assert.strictEqual(error._tag, tag, code)
      assert.strictEqual(error.providerCode, code)
      assert.strictEqual(error.message, `message for ${code}`)
    }
    const concurrency = map(429, "CONCURRENT_TRANSLATION_LIMIT_REACHED")
    assert.isTrue(concurrency._tag === "RateLimited" && concurrency.scope === "concurrency")
    const param = VoiceCheapClient.mapError(
      "translate",
      400,
      Schema.decodeUnknownSync(VoiceCheapWire.ErrorEnvelope)(fixture("reference-A2-validation-error.json")),
      Option.none()
    )
    assert.isTrue(param._tag === "InvalidRequest" && param.param === "targetLanguage")
    const language = map(400, "INVALID_TARGET_LANGUAGE")
    assert.isTrue(language._tag === "InvalidRequest" && language.param === "targetLanguage", "param from the code")
    const gateway = VoiceCheapClient.mapError("translate", 502, undefined, Option.none())
    assert.isTrue(gateway._tag === "ProviderUnavailable" && gateway.outcome === "unknown")
  })
})

describe("VoiceCheap languages", () => {
  it("maps BCP-47 tags to target names and back", () => {
    const table = VoiceCheapLanguages.table
    assert.strictEqual(table.byTag.get("es"), "spanish")
    assert.strictEqual(table.byTag.get("pt-BR"), "brazilian portuguese")
    assert.strictEqual(table.byTag.get("fr-CA"), "french canadian")
    assert.strictEqual(table.byTag.get("en-GB"), "british english")
    assert.strictEqual(table.byTag.get("zh"), "mandarin")
    assert.strictEqual(table.byName.get("mandarin"), "zh")
    assert.strictEqual(VoiceCheapLanguages.readTable.byName.get("canadian french"), "fr-CA")
    assert.strictEqual(VoiceCheapLanguages.sourceCode("en-US"), "en")
    // The 74 names of the newer list, plus "american english" from the older one.
    assert.strictEqual(new Set(table.entries.map((e) => e.name)).size, 75)
  })
})
