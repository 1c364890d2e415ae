// ElevenLabs' documented payloads (test/fixtures, verbatim) decode with the wire schemas, and every
// error envelope maps to the typed error a user handles.

import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { ElevenLabs, ElevenLabsClient, ElevenLabsWire as Wire } from "@polydub/provider-elevenlabs"
import { Effect, Option, Schema } from "effect"

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"))

const decode = <S extends Schema.Codec<any, any, never, never>>(schema: S, name: string) =>
  Schema.decodeUnknownSync(schema)(fixture(name))

describe("ElevenLabs wire schemas on the documented payloads", () => {
  it("legacy: get, list, delete, transcripts", () => {
    const dub = decode(Wire.DubbingMetadata, "js-wire-dubbing-get.json")
    assert.strictEqual(dub.dubbing_id, "21m00Tcm4TlvDq8ikWAM")
    assert.deepStrictEqual(dub.target_languages, ["es", "fr", "de"])
    const list = decode(Wire.ListDubsResponse, "js-wire-dubbing-list.json")
    assert.strictEqual(list.has_more, true)
    assert.strictEqual(list.next_cursor, "next_cursor")
    assert.strictEqual(decode(Wire.DeleteDubbingResponse, "js-wire-dubbing-delete.json").status, "ok")
    assert.strictEqual(decode(Wire.TranscriptResponse, "js-wire-transcripts-get.json").srt, "srt")
  })

  it("legacy: an older answer without created_at, source_language and editable still decodes", () => {
    const {
      created_at: _c,
      source_language: _s,
      editable: _e,
      ...old
    } = fixture("js-wire-dubbing-get.json") as Record<string, unknown>
    assert.strictEqual(Schema.decodeUnknownSync(Wire.DubbingMetadata)(old).status, "dubbed")
  })

  it("projects: project, language (created and completed), source transcript", () => {
    const project = decode(Wire.Project, "js-wire-project-get.json")
    assert.deepStrictEqual(project.language_ids, ["lang_1001kwkyxp0je6ktn4knsfrasx5s"])
    const created = decode(Wire.ProjectLanguage, "js-wire-language-create.json")
    assert.strictEqual(created.status, "queued")
    const done = decode(Wire.ProjectLanguage, "js-wire-language-get.json")
    assert.match(done.outputs?.lossless_audio ?? "", /^https:\/\/storage\.googleapis\.com\//)
    assert.strictEqual(done.output_revision, done.revision)
    const transcript = decode(Wire.ProjectTranscript, "js-wire-project-transcript-get.json")
    assert.strictEqual(transcript.segments[0]!.end_s, 2.5)
  })

  it("timestamps with a zone and without one (naive = UTC) read the same instant", () => {
    assert.deepStrictEqual(Wire.timestampMillis("2025-07-15T14:49:41Z"), Option.some(Date.UTC(2025, 6, 15, 14, 49, 41)))
    assert.deepStrictEqual(
      Wire.timestampMillis("2025-07-15T14:49:41.149000"),
      Option.some(Date.UTC(2025, 6, 15, 14, 49, 41, 149))
    )
    assert.deepStrictEqual(
      Wire.timestampMillis("2025-07-15T16:49:41+02:00"),
      Option.some(Date.UTC(2025, 6, 15, 14, 49, 41))
    )
    assert.isTrue(Option.isNone(Wire.timestampMillis("yesterday")))
  })
})

const mapped = (status: number, body: unknown) =>
  ElevenLabsClient.mapError(
    "op",
    status,
    Option.getOrUndefined(Schema.decodeUnknownOption(Wire.ErrorEnvelope)(body)),
    Option.none()
  )

describe("ElevenLabs error envelopes map to typed errors", () => {
  it("classic: invalid_api_key is AuthenticationFailed with the vendor's code and message", () => {
    const error = mapped(401, fixture("reference-1.1-classic-invalid-api-key.json"))
    assert.strictEqual(error._tag, "AuthenticationFailed")
    assert.strictEqual(error.providerCode, "invalid_api_key")
    assert.strictEqual(error.message, "Invalid API key")
  })

  it("current: the code wins over the legacy status, and param names the field", () => {
    const error = mapped(400, {
      detail: {
        type: "validation_error",
        code: "invalid_parameters",
        message: "…",
        status: "invalid_parameters",
        request_id: "3c807f…",
        param: "keyterms"
      }
    })
    assert.strictEqual(error._tag, "InvalidRequest")
    if (error._tag === "InvalidRequest") assert.strictEqual(error.param, "keyterms")
  })

  it("FastAPI 422: InvalidRequest on the last segment of loc", () => {
    const error = mapped(422, fixture("reference-1.1-fastapi-422.json"))
    assert.strictEqual(error._tag, "InvalidRequest")
    if (error._tag === "InvalidRequest") assert.strictEqual(error.param, "file")
  })

  it("the OpenAPI examples' bare {error, message}: 425 dubbing_not_dubbed is RequestInProgress (ask again)", () => {
    const error = mapped(425, fixture("reference-1.1-oas-audio-425.json"))
    assert.strictEqual(error._tag, "RequestInProgress")
    assert.strictEqual(error.providerCode, "dubbing_not_dubbed")
    assert.isTrue(error.retryable)
  })

  it("the documented codes", () => {
    const cases: Array<[number, string, string, string?]> = [
      [400, "empty_target_language", "InvalidRequest"],
      [400, "watermark_not_allowed", "PermissionDenied"],
      [400, "quota_exceeded", "InsufficientCredits"],
      [401, "quota_exceeded", "InsufficientCredits"],
      [403, "only_for_creator+", "PermissionDenied"],
      [403, "permission_denied", "PermissionDenied"],
      [403, "anonymous_not_allowed", "PermissionDenied"],
      [400, "invalid_workspace_type", "PermissionDenied"],
      [404, "dubbing_not_found", "NotFound"],
      [404, "transcript_not_found", "NotFound"],
      [429, "rate_limit_exceeded", "RateLimited", "requests"],
      [429, "concurrent_limit_exceeded", "RateLimited", "concurrency"],
      [429, "too_many_concurrent_requests", "RateLimited", "concurrency"],
      [429, "system_busy", "ProviderUnavailable"],
      [409, "nothing_to_regenerate", "InvalidRequest"],
      [500, "internal_error", "ProviderUnavailable"]
    ]
    for (const [status, code, tag, scope] of cases) {
      const error = mapped(status, { detail: { status: code, message: code } })
      assert.strictEqual(error._tag, tag, code)
      assert.strictEqual(error.providerCode, code)
      if (scope !== undefined && error._tag === "RateLimited") assert.strictEqual(error.scope, scope)
    }
    const busy = mapped(429, { detail: { status: "system_busy", message: "busy" } })
    assert.isTrue(busy._tag === "ProviderUnavailable" && busy.outcome === "not-sent", "system_busy was not processed")
    const gateway = mapped(502, undefined)
    assert.isTrue(gateway._tag === "ProviderUnavailable" && gateway.outcome === "unknown")
    // A concurrency text without a code (ElevenLabs' older answers).
    const text = mapped(429, {
      detail:
        "Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent requests"
    })
    assert.isTrue(text._tag === "RateLimited" && text.scope === "concurrency")
  })
})

describe("ElevenLabs capabilities", () => {
  it.effect("the legacy API: captions and removal, no review, no webhooks, one target a request", () =>
    Effect.sync(() => {
      const caps = ElevenLabs.capabilitiesV1
      assert.isFalse(caps.review)
      assert.isTrue(caps.outputs.captions)
      assert.isFalse(caps.webhooks)
      assert.isFalse(caps.idempotency)
      assert.strictEqual(caps.targetsPerRequest, 1)
    })
  )
})
