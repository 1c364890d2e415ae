import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Policy } from "@polydub/core"
import { HeyGen, HeyGenClient, HeyGenLanguages, HeyGenWire } from "@polydub/provider-heygen"
import { Effect, Option, Schema } from "effect"

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"))

const decode = <S extends Schema.Codec<any, any, never, never>>(schema: S, name: string): S["Type"] =>
  Schema.decodeUnknownSync(schema)(fixture(name))

describe("HeyGen wire schemas: every seed and reference example decodes", () => {
  it("fixtures/seed-000: v2 proofread status, both examples", () => {
    assert.strictEqual(decode(HeyGenWire.V2ProofreadStatusResponse, "seed-000-completed.json").data.status, "completed")
    assert.strictEqual(
      decode(HeyGenWire.V2ProofreadStatusResponse, "seed-000-processing.json").data.status,
      "processing"
    )
  })

  it("fixtures/seed-001: v2 generate", () => {
    const answer = decode(HeyGenWire.V2GenerateResponse, "seed-001-result.json")
    assert.strictEqual(answer.data.video_translate_id, "b9v43314950d4d0eb4432a0941433771-en")
  })

  it("seeds 002 and 003: the v3 error envelope", () => {
    for (const name of [
      "seed-002-400.json",
      "seed-002-401.json",
      "seed-002-409.json",
      "seed-002-429.json",
      "seed-003-401.json",
      "seed-003-404.json",
      "seed-003-409.json",
      "seed-003-429.json",
      "reference-5-srt-rejected.json"
    ]) {
      decode(HeyGenWire.V3ErrorEnvelope, name)
    }
    assert.strictEqual(decode(HeyGenWire.V3ErrorEnvelope, "seed-002-400.json").error.param, "video_url")
    assert.strictEqual(decode(HeyGenWire.V3ErrorEnvelope, "seed-003-409.json").error.code, "request_in_progress")
  })

  it("seeds 002 and 003: the documented Idempotency-Key example is a key polydub accepts", () => {
    assert.match("550e8400-e29b-41d4-a716-446655440000", Policy.idempotencyKeyPattern)
  })

  it("reference: v3 create, delete, bulk statuses, batches, assets, webhook endpoints", () => {
    assert.deepStrictEqual(
      decode(HeyGenWire.CreateTranslationResponse, "reference-2-create-translation.json").data.video_translation_ids,
      ["<id>"]
    )
    assert.strictEqual(decode(HeyGenWire.DeleteResponse, "reference-2-delete.json").data.id, "…")
    assert.deepStrictEqual(
      decode(HeyGenWire.BulkStatusResponse, "reference-2-statuses.json").data.map((i) => i.status),
      ["completed", "not_found"]
    )
    assert.strictEqual(decode(HeyGenWire.BatchResponse, "reference-2-batch.json").data.items.length, 2)
    assert.strictEqual(decode(HeyGenWire.AssetResponse, "reference-5-asset.json").data.asset_id, "ast_abc123")
    const endpoint = decode(HeyGenWire.WebhookEndpointResponse, "reference-4-endpoint-created.json").data
    assert.strictEqual(endpoint.secret, "whsec_k7x9m2...")
    assert.isNull(endpoint.events)
  })

  it("reference: v3 translation, languages, proofreads, generate", () => {
    assert.strictEqual(decode(HeyGenWire.TranslationResponse, "reference-2-translation.json").data.status, "pending")
    assert.include(decode(HeyGenWire.LanguagesResponse, "reference-2-languages.json").data.languages, "Spanish (Spain)")
    assert.strictEqual(
      decode(HeyGenWire.ProofreadResponse, "reference-2-proofread-live.json").data.output_language,
      "Spanish"
    )
    assert.lengthOf(
      decode(HeyGenWire.CreateProofreadResponse, "reference-2-create-proofread.json").data.proofread_ids,
      1
    )
    assert.strictEqual(
      decode(HeyGenWire.GenerateResponse, "reference-2-generate.json").data.video_translation_id,
      "10c0…-es"
    )
  })

  it("reference: v2 status, create, languages, caption; webhooks; assets", () => {
    assert.strictEqual(decode(HeyGenWire.V2StatusResponse, "reference-3-v2-status.json").data.status, "success")
    assert.strictEqual(
      decode(HeyGenWire.V2CreateResponse, "reference-3-v2-create.json").data.video_translate_id,
      "<id>"
    )
    decode(HeyGenWire.V2LanguagesResponse, "reference-3-v2-target-languages.json")
    decode(HeyGenWire.V2CaptionResponse, "reference-3-v2-caption.json")
    decode(HeyGenWire.v2Empty, "reference-3-v2-upload-srt.json")
    const several = Schema.decodeUnknownSync(HeyGenWire.V2CreateResponse)({
      error: null,
      data: fixture("reference-3-v2-create-multi-data.json")
    })
    assert.deepStrictEqual(several.data.video_translate_ids, ["…"])
    assert.isNull(several.data.video_translate_id)
    assert.strictEqual(
      decode(HeyGenWire.WebhookEvent, "reference-4-webhook-success.json").event_type,
      "video_translate.success"
    )
    decode(HeyGenWire.WebhookEvent, "reference-4-webhook-fail.json")
    assert.strictEqual(
      decode(HeyGenWire.V1AssetResponse, "reference-5-v1-asset.json").data.url,
      "https://resource2.heygen.ai/image/x.png"
    )
    decode(HeyGenWire.DirectUploadResponse, "reference-5-direct-upload.json")
  })

  it("refuses a body whose types are wrong", () => {
    assert.throws(() =>
      Schema.decodeUnknownSync(HeyGenWire.TranslationResponse)({ data: { id: 1, status: "pending" } })
    )
  })
})

describe("HeyGen status words", () => {
  const t = (fields: Partial<HeyGenWire.Translation>) =>
    Effect.runSync(HeyGen.translationState({ id: "x-es", status: "pending", ...fields }))

  it("maps v3 pending|running|completed|failed; completed without a URL is not done yet", () => {
    assert.deepStrictEqual(t({ status: "pending" }), { _tag: "Queued" })
    assert.deepStrictEqual(t({ status: "running" }), { _tag: "Running" })
    assert.deepStrictEqual(t({ status: "completed", video_url: null }), {
      _tag: "Running",
      step: "finalizing",
      progress: 0.99
    })
    const done = t({
      status: "completed",
      video_url: "https://r/v.mp4?Expires=1893456000",
      srt_caption_url: "https://r/c.srt"
    })
    assert.strictEqual(done._tag, "Succeeded")
    if (done._tag === "Succeeded") {
      assert.strictEqual(done.outputs.captions?.srt?.url, "https://r/c.srt")
      assert.strictEqual(done.outputs.video?.expiresAt?.epochMilliseconds, 1893456000000)
    }
    assert.deepStrictEqual(
      t({
        status: "failed",
        failure_message: "Your video's audio is missing or corrupted, please try with another video"
      }),
      {
        _tag: "Failed",
        reason: { code: "failed", message: "Your video's audio is missing or corrupted, please try with another video" }
      }
    )
    assert.deepStrictEqual(t({ status: "archived" }), { _tag: "Running", step: "archived" })
  })

  it("maps v2 success, proofread processing|completed, and the seed fixtures' v2 proofread statuses", () => {
    const v2 = Effect.runSync(
      HeyGen.v2TranslationState(decode(HeyGenWire.V2StatusResponse, "reference-3-v2-status.json").data)
    )
    assert.strictEqual(v2._tag, "Succeeded")
    const seed = decode(HeyGenWire.V2ProofreadStatusResponse, "seed-000-completed.json").data
    assert.deepStrictEqual(Effect.runSync(HeyGen.proofreadState(seed.status, seed.details)), { _tag: "AwaitingReview" })
    assert.deepStrictEqual(Effect.runSync(HeyGen.proofreadState("processing", null)), {
      _tag: "Running",
      step: "extracting"
    })
  })
})

describe("HeyGen errors", () => {
  const map = (name: string, status: number) => HeyGenClient.mapError("test", status, fixture(name), Option.none())

  it("maps the seed fixtures' error examples, keeping code and message", () => {
    const invalid = map("seed-002-400.json", 400)
    assert.isTrue(invalid._tag === "InvalidRequest" && invalid.param === "video_url")
    assert.strictEqual(map("seed-002-401.json", 401)._tag, "AuthenticationFailed")
    assert.strictEqual(map("seed-002-409.json", 409)._tag, "RequestInProgress")
    const limited = map("seed-002-429.json", 429)
    assert.isTrue(limited._tag === "RateLimited" && limited.scope === "requests")
    const missing = map("seed-003-404.json", 404)
    assert.strictEqual(missing._tag, "NotFound")
    assert.strictEqual(missing.providerCode, "not_found")
    assert.strictEqual(missing.message, "Proofread not found.")
  })

  it("maps v2 numeric codes, gateway bodies and the concurrency limit", () => {
    assert.strictEqual(
      HeyGenClient.mapError("t", 403, { code: 400599, message: "tier" }, Option.none())._tag,
      "PermissionDenied"
    )
    assert.strictEqual(
      HeyGenClient.mapError("t", 200, { error: { code: 40009, message: "bad key" } }, Option.none())._tag,
      "AuthenticationFailed"
    )
    const gateway = HeyGenClient.mapError("t", 502, undefined, Option.none())
    assert.isTrue(gateway._tag === "ProviderUnavailable" && gateway.outcome === "unknown")
    // HeyGen's CLI falls back on the HTTP status when the code is missing or just "error".
    const upstream = HeyGenClient.mapError(
      "t",
      504,
      { error: { code: "error", message: "upstream request timeout" } },
      Option.none()
    )
    assert.isTrue(upstream._tag === "ProviderUnavailable" && upstream.message === "upstream request timeout")
    assert.strictEqual(
      HeyGenClient.mapError("t", 404, { error: { code: "error", message: "no route" } }, Option.none())._tag,
      "NotFound"
    )
    assert.strictEqual(HeyGenClient.mapError("t", 413, "<html>413</html>", Option.none())._tag, "PayloadTooLarge")
    const v2InOk = HeyGenClient.mapError("t", 200, { error: "Video translate not found", data: null }, Option.none())
    assert.strictEqual(v2InOk.message, "Video translate not found")
    const jobs = HeyGenClient.mapError(
      "t",
      429,
      { error: { code: "rate_limit_exceeded", message: "Too many concurrent jobs in progress" } },
      Option.none()
    )
    assert.isTrue(jobs._tag === "RateLimited" && jobs.scope === "concurrency")
    assert.strictEqual(
      HeyGenClient.mapError("t", 402, { error: { code: "insufficient_credit", message: "x" } }, Option.none())._tag,
      "InsufficientCredits"
    )
  })
})

describe("HeyGen languages", () => {
  it("maps HeyGen's names to BCP-47 both ways", () => {
    assert.strictEqual(HeyGenLanguages.table.byTag.get("es-ES"), "Spanish (Spain)")
    assert.strictEqual(HeyGenLanguages.table.byName.get("spanish (spain)"), "es-ES")
    assert.strictEqual(HeyGenLanguages.table.byTag.get("zh"), "Chinese (Mandarin, Simplified)")
    assert.strictEqual(HeyGenLanguages.table.byName.get("chinese (mandarin, simplified)"), "zh-Hans")
    assert.strictEqual(HeyGenLanguages.tableFrom(["Spanish (Spain)", "Klingon"]).entries.length, 1)
  })
})

describe("HeyGen request bodies follow HeyGen's OpenAPI types", () => {
  const video = { type: "url", url: "https://media.example.com/a.mp4" } as const
  const refuses = (schema: Schema.Top, body: unknown) =>
    assert.isTrue(
      Option.isNone(Schema.decodeUnknownOption(schema as Schema.Codec<unknown>)(body)),
      JSON.stringify(body)
    )

  it("languages and batch items: at least one; an upload's size: a whole number", () => {
    refuses(HeyGenWire.CreateTranslationRequest, { video, output_languages: [] })
    refuses(HeyGenWire.CreateProofreadRequest, { video, output_languages: [], title: "t" })
    refuses(HeyGenWire.CreateBatchRequest, { video_translations: [] })
    refuses(HeyGenWire.DirectUploadRequest, { filename: "a.mp4", content_type: "video/mp4", size_bytes: 1.5 })
    assert.isTrue(
      Option.isSome(
        Schema.decodeUnknownOption(HeyGenWire.CreateTranslationRequest)({
          video,
          output_languages: ["Spanish (Spain)"]
        })
      )
    )
  })
})
