/**
 * HeyGen's wire format for video translation and proofreading: the v3 API (`/v3/...`, `{data}`
 * envelope, `Idempotency-Key`) and the legacy v2 API (`/v2/video_translate...`, `{error, data}`
 * envelope, numeric error codes), webhook events, and both error envelopes. Responses decode
 * leniently (extra fields, nulls where HeyGen omits or nulls them); status words stay strings so an
 * unknown word is reported, not rejected. Ids that become job references are core's `JobId`: one a
 * reference cannot hold (a line break, control characters) is refused here, with its path.
 */
import { JobId } from "@polydub/core"
import { Schema } from "effect"

const Str = Schema.String
const opt = <S extends Schema.Top>(s: S) => Schema.optionalKey(Schema.NullOr(s))

// ---------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------

/** `{type:"url", url}` or `{type:"asset_id", asset_id}`. */
export const AssetInput = Schema.Union([
  Schema.Struct({ type: Schema.Literal("url"), url: Str }),
  Schema.Struct({ type: Schema.Literal("asset_id"), asset_id: Str })
])
export type AssetInput = typeof AssetInput.Type

/** v3 error body: `{ error: { code, message, param?, doc_url? } }`. */
export const V3ErrorEnvelope = Schema.Struct({
  error: Schema.Struct({
    code: Str,
    message: Str,
    param: opt(Str),
    doc_url: opt(Str)
  })
})
export type V3ErrorEnvelope = typeof V3ErrorEnvelope.Type

/**
 * v2/v1 error bodies: `{ error: "..." , data: null }`, `{ code: 400599, message }`, or
 * `{ error: { code, message } }`. HeyGen is not consistent, so each part is optional.
 */
export const V2ErrorEnvelope = Schema.Struct({
  code: Schema.optionalKey(Schema.Union([Schema.Finite, Str])),
  message: opt(Str),
  msg: opt(Str),
  error: Schema.optionalKey(
    Schema.NullOr(
      Schema.Union([
        Str,
        Schema.Struct({ code: Schema.optionalKey(Schema.Union([Schema.Finite, Str])), message: opt(Str) })
      ])
    )
  )
})
export type V2ErrorEnvelope = typeof V2ErrorEnvelope.Type

// ---------------------------------------------------------------------------------------------
// v3 video translations
// ---------------------------------------------------------------------------------------------

export const Mode = Schema.Literals(["speed", "precision"])

/** `POST /v3/video-translations` body. */
/** At least one item, as HeyGen's OpenAPI types say (`minItems: 1`). */
const NonEmptyArray = <S extends Schema.Top>(item: S) => Schema.Array(item).check(Schema.isMinLength(1))

export const CreateTranslationRequest = Schema.Struct({
  video: AssetInput,
  output_languages: NonEmptyArray(Str),
  title: Schema.optionalKey(Str),
  audio: Schema.optionalKey(AssetInput),
  input_language: Schema.optionalKey(Str),
  translate_audio_only: Schema.optionalKey(Schema.Boolean),
  speaker_num: Schema.optionalKey(Schema.Int),
  mode: Schema.optionalKey(Mode),
  callback_url: Schema.optionalKey(Str),
  callback_id: Schema.optionalKey(Str),
  enable_caption: Schema.optionalKey(Schema.Boolean),
  keep_the_same_format: Schema.optionalKey(Schema.Boolean),
  enable_dynamic_duration: Schema.optionalKey(Schema.Boolean),
  disable_music_track: Schema.optionalKey(Schema.Boolean),
  enable_speech_enhancement: Schema.optionalKey(Schema.Boolean),
  enable_watermark: Schema.optionalKey(Schema.Boolean),
  start_time: Schema.optionalKey(Schema.Finite),
  end_time: Schema.optionalKey(Schema.Finite),
  brand_glossary_id: Schema.optionalKey(Str),
  brand_voice_id: Schema.optionalKey(Str),
  srt: Schema.optionalKey(AssetInput),
  srt_role: Schema.optionalKey(Schema.Literals(["input", "output"])),
  fps_mode: Schema.optionalKey(Schema.Literals(["vfr", "cfr", "passthrough"])),
  folder_id: Schema.optionalKey(Str),
  stock_voice_config: Schema.optionalKey(
    Schema.Struct({
      use_stock_voice: Schema.Boolean,
      preferred_stock_voice_ids: Schema.optionalKey(Schema.Array(Str))
    })
  )
})
export type CreateTranslationRequest = typeof CreateTranslationRequest.Type

export const CreateTranslationResponse = Schema.Struct({
  data: Schema.Struct({ video_translation_ids: Schema.Array(JobId) })
})

/** A v3 video translation (`GET /v3/video-translations/{id}` and list items). */
export const Translation = Schema.Struct({
  id: Str,
  status: Str,
  title: opt(Str),
  output_language: opt(Str),
  input_language: opt(Str),
  duration: opt(Schema.Finite),
  translate_audio_only: opt(Schema.Boolean),
  video_url: opt(Str),
  audio_url: opt(Str),
  srt_caption_url: opt(Str),
  vtt_caption_url: opt(Str),
  caption_url: opt(Str),
  callback_id: opt(Str),
  created_at: opt(Schema.Finite),
  failure_message: opt(Str)
})
export type Translation = typeof Translation.Type

export const TranslationResponse = Schema.Struct({ data: Translation })

export const ListTranslationsResponse = Schema.Struct({
  data: Schema.Array(Translation),
  has_more: Schema.optionalKey(Schema.Boolean),
  next_token: opt(Str)
})

export const UpdateTitleRequest = Schema.Struct({ title: Str })

export const DeleteResponse = Schema.Struct({ data: Schema.Struct({ id: Str }) })

export const LanguagesResponse = Schema.Struct({ data: Schema.Struct({ languages: Schema.Array(Str) }) })

/** `GET /v3/video-translations/statuses` items: `queued|processing|completed|failed|not_found`. */
export const BulkStatusItem = Schema.Struct({
  video_id: opt(Str),
  status: Str,
  batch_id: opt(Str),
  item_index: opt(Schema.Int),
  error: Schema.optionalKey(Schema.Unknown)
})
export type BulkStatusItem = typeof BulkStatusItem.Type

export const BulkStatusResponse = Schema.Struct({
  data: Schema.Array(BulkStatusItem),
  has_more: Schema.optionalKey(Schema.Boolean),
  next_token: opt(Str)
})

export const CreateBatchRequest = Schema.Struct({
  video_translations: NonEmptyArray(CreateTranslationRequest),
  title: Schema.optionalKey(Str),
  callback_url: Schema.optionalKey(Str)
})

export const CreateBatchResponse = Schema.Struct({ data: Schema.Struct({ batch_id: Str }) })

export const BatchResponse = Schema.Struct({
  data: Schema.Struct({
    batch_id: Str,
    status: Str,
    title: opt(Str),
    created_at: opt(Schema.Finite),
    total_items: Schema.Int,
    counts_by_status: Schema.optionalKey(Schema.Record(Str, Schema.Finite)),
    items: Schema.Array(
      Schema.Struct({
        item_index: Schema.Int,
        status: Str,
        video_id: opt(Str),
        error: Schema.optionalKey(Schema.Unknown)
      })
    ),
    has_more: Schema.optionalKey(Schema.Boolean),
    next_token: opt(Str)
  })
})

// ---------------------------------------------------------------------------------------------
// v3 proofreads (seeds 002, 003)
// ---------------------------------------------------------------------------------------------

/** `POST /v3/video-translations/proofreads` body (HeyGen's schema says `additionalProperties: false`; its errors: `test/fixtures/seed-002-*.json`). */
export const CreateProofreadRequest = Schema.Struct({
  video: AssetInput,
  output_languages: NonEmptyArray(Str),
  title: Str,
  brand_voice_id: opt(Str),
  brand_glossary_id: opt(Str),
  speaker_num: opt(Schema.Int),
  folder_id: opt(Str),
  enable_video_stretching: Schema.optionalKey(Schema.Boolean),
  disable_music_track: Schema.optionalKey(Schema.Boolean),
  enable_speech_enhancement: Schema.optionalKey(Schema.Boolean),
  srt: opt(AssetInput),
  mode: Schema.optionalKey(Mode),
  keep_the_same_format: Schema.optionalKey(Schema.Boolean)
})
export type CreateProofreadRequest = typeof CreateProofreadRequest.Type

export const CreateProofreadResponse = Schema.Struct({
  data: Schema.Struct({ proofread_ids: Schema.Array(JobId), status: Str })
})

export const Proofread = Schema.Struct({
  id: Str,
  status: Str,
  title: opt(Str),
  output_language: opt(Str),
  input_language: opt(Str),
  created_at: opt(Schema.Finite),
  failure_message: opt(Str),
  submitted_for_review: opt(Schema.Boolean)
})
export type Proofread = typeof Proofread.Type

export const ProofreadResponse = Schema.Struct({ data: Proofread })

export const ProofreadSrtResponse = Schema.Struct({
  data: Schema.Struct({ srt_url: Str, original_srt_url: opt(Str) })
})

export const PutProofreadSrtRequest = Schema.Struct({ srt: AssetInput })

/** `POST /v3/video-translations/proofreads/{id}/generate` body (its errors: `test/fixtures/seed-003-*.json`). */
export const GenerateRequest = Schema.Struct({
  captions: Schema.optionalKey(Schema.Boolean),
  translate_audio_only: Schema.optionalKey(Schema.Boolean),
  callback_id: opt(Str),
  callback_url: opt(Str)
})
export type GenerateRequest = typeof GenerateRequest.Type

export const GenerateResponse = Schema.Struct({
  data: Schema.Struct({ video_translation_id: JobId, status: Str })
})

// ---------------------------------------------------------------------------------------------
// v3 assets
// ---------------------------------------------------------------------------------------------

export const AssetResponse = Schema.Struct({
  data: Schema.Struct({
    asset_id: Str,
    url: opt(Str),
    mime_type: opt(Str),
    size_bytes: opt(Schema.Finite),
    status: opt(Str)
  })
})

export const DirectUploadRequest = Schema.Struct({
  filename: Str,
  content_type: Str,
  /** An integer in HeyGen's OpenAPI types. */
  size_bytes: Schema.Int,
  checksum_sha256: Schema.optionalKey(Str)
})

export const DirectUploadResponse = Schema.Struct({
  data: Schema.Struct({
    asset_id: Str,
    upload_url: Str,
    upload_headers: Schema.optionalKey(Schema.Record(Str, Str)),
    max_bytes: opt(Schema.Finite),
    expires_in_seconds: opt(Schema.Finite),
    status: opt(Str)
  })
})

// ---------------------------------------------------------------------------------------------
// v2 (legacy)
// ---------------------------------------------------------------------------------------------

/** `POST /v2/video_translate` body. */
export const V2CreateRequest = Schema.Struct({
  video_url: Str,
  title: Schema.optionalKey(Str),
  output_language: Schema.optionalKey(Str),
  output_languages: Schema.optionalKey(Schema.Array(Str)),
  translate_audio_only: Schema.optionalKey(Schema.Boolean),
  speaker_num: Schema.optionalKey(Schema.Int),
  callback_id: Schema.optionalKey(Str),
  callback_url: Schema.optionalKey(Str),
  brand_voice_id: Schema.optionalKey(Str),
  enable_dynamic_duration: Schema.optionalKey(Schema.Boolean),
  keep_the_same_format: Schema.optionalKey(Schema.Boolean),
  mode: Schema.optionalKey(Schema.Literals(["fast", "quality"])),
  enable_caption: Schema.optionalKey(Schema.Boolean)
})
export type V2CreateRequest = typeof V2CreateRequest.Type

const v2 = <S extends Schema.Top>(data: S) => Schema.Struct({ error: opt(Schema.Unknown), data })

export const V2CreateResponse = v2(
  Schema.Struct({
    video_translate_id: opt(JobId),
    video_translate_ids: opt(Schema.Array(JobId))
  })
)

export const V2Status = Schema.Struct({
  video_translate_id: Str,
  title: opt(Str),
  status: Str,
  url: opt(Str),
  message: opt(Str),
  callback_id: opt(Str),
  output_language: opt(Str)
})
export type V2Status = typeof V2Status.Type

export const V2StatusResponse = v2(V2Status)

export const V2LanguagesResponse = v2(Schema.Struct({ languages: Schema.Array(Str) }))

export const V2CaptionResponse = v2(Schema.Struct({ caption_url: Str }))

export const V2CreateProofreadRequest = Schema.Struct({
  video_url: Str,
  title: Schema.optionalKey(Str),
  output_language: Schema.optionalKey(Str),
  output_languages: Schema.optionalKey(Schema.Array(Str)),
  brand_voice_id: Schema.optionalKey(Str),
  speaker_num: Schema.optionalKey(Schema.Int),
  folder_id: Schema.optionalKey(Str),
  enable_video_stretching: Schema.optionalKey(Schema.Boolean),
  disable_music_track: Schema.optionalKey(Schema.Boolean),
  enable_speech_enhancement: Schema.optionalKey(Schema.Boolean)
})

export const V2CreateProofreadResponse = v2(
  Schema.Struct({
    proofread_id: opt(JobId),
    proofread_ids: opt(Schema.Array(JobId)),
    status: opt(Str)
  })
)

/** `GET /v2/video_translate/proofread/status/{id}` (`test/fixtures/seed-000-*.json`). */
export const V2ProofreadStatusResponse = v2(
  Schema.Struct({
    proofread_id: Str,
    status: Str,
    details: opt(Str),
    submitted_for_review: opt(Schema.Boolean)
  })
)

export const V2DownloadSrtResponse = v2(Schema.Struct({ srt_url: Str }))

export const V2UploadSrtRequest = Schema.Struct({ srt_file_url: Str })

/** `upload-srt` answers `{}` (`test/fixtures/reference-3-v2-upload-srt.json`); any object is accepted. */
export const v2Empty = Schema.Struct({})

/** `POST https://upload.heygen.com/v1/asset` answer (v1 envelope: `test/fixtures/reference-5-v1-asset.json`). */
export const V1AssetResponse = Schema.Struct({
  code: Schema.optionalKey(Schema.Finite),
  data: Schema.Struct({
    id: Str,
    name: opt(Str),
    file_type: opt(Str),
    folder_id: opt(Str),
    url: Str,
    created_ts: opt(Schema.Finite)
  }),
  msg: opt(Str),
  message: opt(Str)
})

/** `POST /v2/video_translate/proofread/{id}/generate` (`test/fixtures/seed-001-result.json`). */
export const V2GenerateRequest = Schema.Struct({
  captions: Schema.optionalKey(Schema.Boolean),
  translate_audio_only: Schema.optionalKey(Schema.Boolean),
  callback_id: Schema.optionalKey(Str),
  callback_url: Schema.optionalKey(Str)
})

export const V2GenerateResponse = v2(Schema.Struct({ video_translate_id: JobId, status: opt(Str) }))

// ---------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------

/** A webhook delivery: `{ event_type, event_data }` (also read from `event`, as some senders do). */
export const WebhookEvent = Schema.Struct({
  event_type: Str,
  event_data: Schema.Record(Str, Schema.Unknown)
})
export type WebhookEvent = typeof WebhookEvent.Type

export const TranslationEventData = Schema.Struct({
  video_translate_id: Schema.optionalKey(Str),
  video_translation_id: Schema.optionalKey(Str),
  url: opt(Str),
  message: opt(Str),
  msg: opt(Str),
  callback_id: opt(Str),
  output_language: opt(Str)
})

export const ProofreadEventData = Schema.Struct({
  proofread_id: Schema.optionalKey(Str),
  id: Schema.optionalKey(Str),
  message: opt(Str),
  callback_id: opt(Str),
  output_language: opt(Str)
})

// ---------------------------------------------------------------------------------------------
// v3 webhook endpoints (`test/fixtures/reference-4-*.json`)
// ---------------------------------------------------------------------------------------------

export const WebhookEndpoint = Schema.Struct({
  endpoint_id: Str,
  url: Str,
  events: Schema.optionalKey(Schema.NullOr(Schema.Array(Str))),
  status: opt(Str),
  created_at: opt(Str),
  /** Only on create and on rotate-secret. */
  secret: opt(Str)
})
export type WebhookEndpoint = typeof WebhookEndpoint.Type

export const CreateWebhookEndpointRequest = Schema.Struct({
  url: Str,
  events: Schema.optionalKey(Schema.NullOr(Schema.Array(Str))),
  entity_id: Schema.optionalKey(Str)
})

export const WebhookEndpointResponse = Schema.Struct({ data: WebhookEndpoint })

export const ListWebhookEndpointsResponse = Schema.Struct({
  data: Schema.Array(WebhookEndpoint),
  has_more: Schema.optionalKey(Schema.Boolean),
  next_token: opt(Str)
})

export const RotateSecretResponse = Schema.Struct({ data: Schema.Struct({ endpoint_id: Str, secret: Str }) })

export const WebhookEventsResponse = Schema.Struct({
  data: Schema.Array(
    Schema.Struct({
      event_id: Str,
      event_type: Str,
      event_data: Schema.Record(Str, Schema.Unknown),
      created_at: Str
    })
  ),
  has_more: Schema.optionalKey(Schema.Boolean),
  next_token: opt(Str)
})
