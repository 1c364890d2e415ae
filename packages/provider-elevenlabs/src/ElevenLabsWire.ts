/**
 * ElevenLabs' wire format for dubbing: the legacy dubbing API (`/v1/dubbing`) and the Dubbing
 * Projects API (`/v1/dubbing/project`), with the three error envelopes that coexist. Responses decode
 * leniently (extra fields, nulls and absences where older answers leave fields out); status words stay
 * strings so an unknown word is reported, not rejected. Timestamps stay strings: ElevenLabs sends
 * them with a zone (`…Z`) and without one (`2025-07-15T14:49:41.149000`); `timestampMillis` reads both.
 */
import { JobId } from "@polydub/core"
import { Option, Schema } from "effect"

const Str = Schema.String
const opt = <S extends Schema.Top>(s: S) => Schema.optionalKey(Schema.NullOr(s))

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * `detail` as an object: the classic `{status, message}` or the current
 * `{type, code, message, status, request_id, param}` (`status` there is the legacy copy of `code`).
 */
export const ErrorDetail = Schema.Struct({
  status: opt(Str),
  code: opt(Str),
  type: opt(Str),
  message: opt(Str),
  request_id: opt(Str),
  param: opt(Str)
})

/** FastAPI's 422: `{detail: [{loc, msg, type}]}`. */
export const ValidationItem = Schema.Struct({
  loc: Schema.optionalKey(Schema.Array(Schema.Union([Str, Schema.Finite]))),
  msg: opt(Str),
  type: opt(Str)
})

/**
 * Every error body seen: `{detail: {...}}`, `{detail: [...]}`, `{detail: "text"}`, and the OpenAPI
 * examples' `{error: "code", message}` without `detail`.
 */
export const ErrorEnvelope = Schema.Struct({
  detail: Schema.optionalKey(Schema.Union([ErrorDetail, Schema.Array(ValidationItem), Str])),
  error: opt(Str),
  message: opt(Str)
})
export type ErrorEnvelope = typeof ErrorEnvelope.Type

/** The code, message and field of an error body, whichever envelope it came in. */
export const errorFields = (
  body: ErrorEnvelope
): {
  readonly code?: string | undefined
  readonly message?: string | undefined
  readonly param?: string | undefined
} => {
  const detail = body.detail
  if (typeof detail === "string") return { message: detail }
  if (Array.isArray(detail)) {
    const first = detail[0] as typeof ValidationItem.Type | undefined
    const loc = first?.loc ?? []
    const field = loc.length > 0 ? String(loc[loc.length - 1]) : undefined
    return {
      code: first?.type ?? "validation_error",
      message: first?.msg ?? undefined,
      param: field
    }
  }
  if (detail !== undefined) {
    const d = detail as typeof ErrorDetail.Type
    return {
      code: d.code ?? d.status ?? undefined,
      message: d.message ?? undefined,
      param: d.param ?? undefined
    }
  }
  return { code: body.error ?? undefined, message: body.message ?? undefined }
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i

/** Epoch milliseconds of an ISO-8601 timestamp; one without a zone is UTC. */
export const timestampMillis = (value: string): Option.Option<number> => {
  const text = value.trim()
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return Option.none()
  // JavaScript reads a zoneless date-time as local time, and more than three fraction digits
  // are not ISO to every engine: cut to milliseconds, then say UTC.
  const trimmed = text.replace(/(\.\d{3})\d+/, "$1")
  const at = Date.parse(zoned.test(trimmed) ? trimmed : `${trimmed}Z`)
  return Number.isNaN(at) ? Option.none() : Option.some(at)
}

// ---------------------------------------------------------------------------------------------
// Legacy dubbing (/v1/dubbing)
// ---------------------------------------------------------------------------------------------

/** `POST /v1/dubbing` 200. */
export const CreateDubbingResponse = Schema.Struct({
  dubbing_id: JobId,
  expected_duration_sec: Schema.Finite
})
export type CreateDubbingResponse = typeof CreateDubbingResponse.Type

export const MediaMetadata = Schema.Struct({
  content_type: opt(Str),
  duration: opt(Schema.Finite)
})

/**
 * `DubbingMetadataResponse`, for `GET /v1/dubbing/{id}` and the items of a list. Older answers leave
 * out `created_at`, `source_language` and `editable`.
 */
export const DubbingMetadata = Schema.Struct({
  dubbing_id: JobId,
  name: Str,
  status: Str,
  source_language: opt(Str),
  target_languages: Schema.Array(Str),
  editable: opt(Schema.Boolean),
  created_at: opt(Str),
  media_metadata: opt(MediaMetadata),
  error: opt(Str)
})
export type DubbingMetadata = typeof DubbingMetadata.Type

/** `GET /v1/dubbing`. */
export const ListDubsResponse = Schema.Struct({
  dubs: Schema.Array(DubbingMetadata),
  next_cursor: opt(Str),
  has_more: Schema.Boolean
})
export type ListDubsResponse = typeof ListDubsResponse.Type

/** `DELETE /v1/dubbing/{id}`: `{"status": "ok"}`. */
export const DeleteDubbingResponse = Schema.Struct({ status: Str })

/** `GET /v1/dubbing/{id}/transcripts/{language}/format/{format}`: only the asked format's key is set. */
export const TranscriptResponse = Schema.Struct({
  transcript_format: Str,
  srt: opt(Str),
  webvtt: opt(Str),
  json: opt(Schema.Unknown)
})
export type TranscriptResponse = typeof TranscriptResponse.Type

/** The form fields of `POST /v1/dubbing` polydub sends (the file, or `source_url`, besides). */
export interface CreateDubbingFields {
  readonly name: string
  readonly source_url?: string | undefined
  readonly source_lang?: string | undefined
  readonly target_lang: string
  readonly target_accent?: string | undefined
  readonly num_speakers?: number | undefined
  readonly watermark?: boolean | undefined
  readonly start_time?: number | undefined
  readonly end_time?: number | undefined
  readonly highest_resolution?: boolean | undefined
  readonly drop_background_audio?: boolean | undefined
  readonly use_profanity_filter?: boolean | undefined
  readonly disable_voice_cloning?: boolean | undefined
}

/** The form as name/value pairs, scalars as their `toString()` (`"true"`, `"0"`), absent ones left out. */
export const createDubbingForm = (fields: CreateDubbingFields): ReadonlyArray<readonly [string, string]> =>
  Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => [key, String(value)] as const)

// ---------------------------------------------------------------------------------------------
// Dubbing Projects (/v1/dubbing/project)
// ---------------------------------------------------------------------------------------------

/** `{code, message, retryable}` on a failed project or language. */
export const ProjectError = Schema.Struct({
  code: Str,
  message: opt(Str),
  retryable: opt(Schema.Boolean)
})
export type ProjectError = typeof ProjectError.Type

export const Warning = Schema.Struct({
  type: Str,
  speaker_ids: Schema.optionalKey(Schema.Array(Str)),
  message: opt(Str)
})

/** A dubbing project (`GET /v1/dubbing/project/{id}`; 201 of the create). */
export const Project = Schema.Struct({
  project_id: JobId,
  status: Str,
  reference: opt(Str),
  source_language: opt(Str),
  model_id: opt(Str),
  media: opt(
    Schema.Struct({
      filename: opt(Str),
      duration_s: opt(Schema.Finite),
      has_video: opt(Schema.Boolean),
      mime_type: opt(Str)
    })
  ),
  language_ids: Schema.Array(Str),
  webhook_ids: Schema.optionalKey(Schema.Array(Str)),
  revision: Schema.Finite,
  error: opt(ProjectError),
  warnings: Schema.optionalKey(Schema.Array(Warning)),
  created_at: opt(Str),
  updated_at: opt(Str)
})
export type Project = typeof Project.Type

export const ListProjectsResponse = Schema.Struct({
  projects: Schema.Array(Project),
  next_cursor: opt(Str)
})
export type ListProjectsResponse = typeof ListProjectsResponse.Type

/** One target language of a project. */
export const ProjectLanguage = Schema.Struct({
  language_id: JobId,
  project_id: Str,
  target_language: Str,
  status: Str,
  model_id: opt(Str),
  voice_settings: opt(Schema.Struct({ cloning_strength: opt(Schema.Finite) })),
  outputs: opt(Schema.Struct({ lossless_audio: opt(Str) })),
  revision: Schema.Finite,
  output_revision: opt(Schema.Finite),
  error: opt(ProjectError),
  warnings: Schema.optionalKey(Schema.Array(Warning)),
  created_at: opt(Str),
  updated_at: opt(Str)
})
export type ProjectLanguage = typeof ProjectLanguage.Type

export const ListLanguagesResponse = Schema.Struct({
  languages: Schema.Array(ProjectLanguage),
  next_cursor: opt(Str)
})
export type ListLanguagesResponse = typeof ListLanguagesResponse.Type

/** A source segment. */
export const Segment = Schema.Struct({
  id: Str,
  text: Str,
  speaker_id: Str,
  start_s: Schema.Finite,
  end_s: Schema.Finite,
  external_id: opt(Str)
})
export type Segment = typeof Segment.Type

/** `GET …/{project_id}/transcript`. */
export const ProjectTranscript = Schema.Struct({
  language: opt(Str),
  segments: Schema.Array(Segment),
  revision: Schema.Finite
})
export type ProjectTranscript = typeof ProjectTranscript.Type

/** `PATCH …/transcript/segments` (bulk, atomic). */
export const UpdateSegmentsResponse = Schema.Struct({
  segments: Schema.Array(Segment),
  revision: Schema.Finite
})

/** `PATCH …/transcript/segment/{id}` and `POST …/transcript/segment`. */
export const SegmentResponse = Schema.Struct({ segment: Segment, revision: Schema.Finite })

/** `DELETE …/transcript/segment/{id}`. */
export const RevisionResponse = Schema.Struct({ revision: Schema.Finite })

/** `GET …/language/{id}/transcript`. */
export const LanguageTranscript = Schema.Struct({
  source_language: opt(Str),
  target_language: Str,
  segments: Schema.Array(
    Schema.Struct({
      id: Str,
      speaker_id: Str,
      start_s: Schema.Finite,
      end_s: Schema.Finite,
      source_text: Str,
      translation: Schema.NullOr(Str)
    })
  ),
  revision: Schema.Finite
})
export type LanguageTranscript = typeof LanguageTranscript.Type

/**
 * `POST …/language/{id}/transcript/regenerate` 202: the OpenAPI document and the JS SDK's wire tests
 * answer the regenerated regions; ElevenLabs' own skill guide shows the Language instead. Both decode.
 */
export const RegenerateResponse = Schema.Union([
  Schema.Struct({
    regenerated_segment_ids: Schema.Array(Str),
    regenerated_seconds: Schema.Finite,
    charged_seconds: Schema.Finite,
    free_regeneration_seconds_remaining: Schema.Finite
  }),
  ProjectLanguage
])

/** An answer whose body is ignored (204, or a 200 without a documented body). */
export const Ignored = Schema.Unknown

/** `POST …/{project_id}/language` body. */
export interface AddLanguageBody {
  readonly target_language: string
  readonly voice_settings?: { readonly cloning_strength?: number | undefined } | undefined
}
