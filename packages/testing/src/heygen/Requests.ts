/**
 * The request bodies the HeyGen simulator accepts, as Schemas written from HeyGen's published
 * OpenAPI — the request types HeyGen's CLI embeds, kept in
 * packages/testing/test/fixtures/heygen-clients/openapi/ — not from any client's lenient decoders.
 * Unknown fields are refused: HeyGen's published types for proofreads, generate and asset inputs
 * (CreateProofreadRequest, GenerateVideoRequest, AssetUrl, AssetId) declare
 * `additionalProperties: false`. The types the CLI embeds drop that keyword for every endpoint, so
 * whether HeyGen refuses unknown fields on the other v3 bodies is not documented; the simulator
 * refuses them there too, so a client sending a field HeyGen ignores or refuses is caught. A field
 * HeyGen marks `nullable` takes null; one it does not mark takes no null.
 *
 * HeyGen's n8n node sends fields the published schema lacks (`check_credits_sync`, `validate_only`,
 * `srt_url`, `use_disguised_voice`, `create_collection`) and offers `mode` values fast|quality that
 * the v3 schema does not list; the simulator follows the docs and refuses them (see the fixtures
 * n8n-translate-*.json).
 */

import { Result, Schema, type SchemaIssue } from "effect"

const Str = Schema.String
const Bool = Schema.Boolean
const opt = Schema.optionalKey
const nullable = <S extends Schema.Top>(schema: S) => opt(Schema.NullOr(schema))

/** `AssetUrl | AssetId`, discriminated by `type`. */
export const AssetInput = Schema.Union([
  Schema.Struct({ type: Schema.Literal("url"), url: Str }),
  Schema.Struct({ type: Schema.Literal("asset_id"), asset_id: Str })
])

const Languages = Schema.Array(Str).check(Schema.isMinLength(1))
const Mode = Schema.Literals(["speed", "precision"])

/** `POST /v3/video-translations` (and each item of a batch). */
export const CreateTranslation = Schema.Struct({
  video: AssetInput,
  output_languages: Languages,
  title: nullable(Str),
  audio: nullable(AssetInput),
  input_language: nullable(Str),
  translate_audio_only: opt(Bool),
  speaker_num: nullable(Schema.Int),
  mode: opt(Mode),
  callback_url: nullable(Str),
  callback_id: nullable(Str),
  enable_caption: opt(Bool),
  keep_the_same_format: nullable(Bool),
  enable_dynamic_duration: opt(Bool),
  disable_music_track: opt(Bool),
  enable_speech_enhancement: opt(Bool),
  enable_watermark: opt(Bool),
  start_time: nullable(Schema.Finite),
  end_time: nullable(Schema.Finite),
  brand_glossary_id: nullable(Str),
  brand_voice_id: nullable(Str),
  srt: nullable(AssetInput),
  srt_role: nullable(Schema.Literals(["input", "output"])),
  fps_mode: nullable(Schema.Literals(["vfr", "cfr", "passthrough"])),
  folder_id: nullable(Str),
  stock_voice_config: nullable(
    Schema.Struct({ use_stock_voice: opt(Bool), preferred_stock_voice_ids: opt(Schema.Array(Str)) })
  )
})

/** `POST /v3/video-translations/batches`: the items are checked one by one (one bad item fails alone). */
export const CreateBatch = Schema.Struct({
  video_translations: Schema.Array(Schema.Unknown).check(Schema.isMinLength(1)),
  title: nullable(Str),
  callback_url: nullable(Str)
})

/** `POST /v3/video-translations/proofreads` (CreateProofreadRequest). */
export const CreateProofread = Schema.Struct({
  video: AssetInput,
  output_languages: Languages,
  title: Str,
  brand_voice_id: nullable(Str),
  brand_glossary_id: nullable(Str),
  speaker_num: nullable(Schema.Int),
  folder_id: nullable(Str),
  enable_video_stretching: opt(Bool),
  disable_music_track: opt(Bool),
  enable_speech_enhancement: opt(Bool),
  srt: nullable(AssetInput),
  mode: opt(Mode),
  keep_the_same_format: opt(Bool)
})

/** `POST /v3/video-translations/proofreads/{id}/generate` (GenerateVideoRequest). */
export const Generate = Schema.Struct({
  captions: opt(Bool),
  translate_audio_only: opt(Bool),
  callback_id: nullable(Str),
  callback_url: nullable(Str)
})

export const UpdateTitle = Schema.Struct({ title: Str })
export const ReplaceSrt = Schema.Struct({ srt: AssetInput })

export const DirectUpload = Schema.Struct({
  filename: Str,
  content_type: Str,
  size_bytes: Schema.Int,
  checksum_sha256: nullable(Str)
})
export const CompleteUpload = Schema.Struct({ checksum_sha256: nullable(Str) })

export const CreateEndpoint = Schema.Struct({
  url: Str,
  events: nullable(Schema.Array(Str)),
  entity_id: nullable(Str)
})
/** `PATCH /v3/webhooks/endpoints/{id}`: `events` replaces the list; null subscribes to every event. */
export const UpdateEndpoint = Schema.Struct({ url: nullable(Str), events: nullable(Schema.Array(Str)) })

/**
 * `POST /v2/video_translate`, as HeyGen's legacy API reference lists it (no nulls, `mode` fast or
 * quality). `output_language` XOR `output_languages` is checked by the route.
 */
export const V2Create = Schema.Struct({
  video_url: Str,
  title: opt(Str),
  output_language: opt(Str),
  output_languages: opt(Languages),
  translate_audio_only: opt(Bool),
  speaker_num: opt(Schema.Int),
  callback_id: opt(Str),
  callback_url: opt(Str),
  brand_voice_id: opt(Str),
  enable_dynamic_duration: opt(Bool),
  keep_the_same_format: opt(Bool),
  mode: opt(Schema.Literals(["fast", "quality"])),
  enable_caption: opt(Bool)
})

export const V2CreateProofread = Schema.Struct({
  video_url: Str,
  title: opt(Str),
  output_language: opt(Str),
  output_languages: opt(Languages),
  brand_voice_id: opt(Str),
  speaker_num: opt(Schema.Int),
  folder_id: opt(Str),
  enable_video_stretching: opt(Bool),
  disable_music_track: opt(Bool),
  enable_speech_enhancement: opt(Bool)
})

export const V2UploadSrt = Schema.Struct({ srt_file_url: Str })

export const V2Generate = Schema.Struct({
  captions: opt(Bool),
  translate_audio_only: opt(Bool),
  callback_id: opt(Str),
  callback_url: opt(Str)
})

/** Why a body is refused: the top-level field at fault (HeyGen's `param`) and a message naming it. */
export interface Refusal {
  readonly param: string
  readonly message: string
}

const leafOf = (issue: SchemaIssue.Issue) => {
  const path: Array<PropertyKey> = []
  let current: SchemaIssue.Issue = issue
  for (let i = 0; i < 20; i++) {
    if (current._tag === "Pointer") {
      path.push(...current.path)
      current = current.issue
    } else if (current._tag === "Composite" || current._tag === "AnyOf") {
      if (current.issues.length === 0) break
      current = current.issues[0]!
    } else if (current._tag === "Filter" || current._tag === "Encoding") {
      current = current.issue
    } else break
  }
  return { path, leaf: current }
}

/** Checks a body: a JSON object holding only the schema's fields, each of its type; or why not. */
export const refusal = <S extends Schema.Codec<unknown, unknown, never, never>>(
  schema: S,
  body: unknown
): Refusal | undefined => {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { param: "body", message: "The request body must be a JSON object." }
  const result = Schema.decodeResult(schema)(body, { onExcessProperty: "error" })
  if (Result.isSuccess(result)) return undefined
  const issue = result.failure.issue
  const { leaf, path } = leafOf(issue)
  const param = path.length === 0 ? "body" : String(path[0])
  if (path.length === 1 && leaf._tag === "MissingKey") return { param, message: `'${param}' is required.` }
  if (path.length === 1 && leaf._tag === "UnexpectedKey")
    return { param, message: `'${param}' is not a recognised field.` }
  return { param, message: `'${path.map(String).join(".")}' is invalid: ${String(issue)}` }
}
