/**
 * VoiceCheap's wire format (api.voicecheap.ai): the multipart fields of `POST /v1/translate` and
 * `POST /v1/projects`, their JSON answers, `GET /v1/translate/{projectId}/status`, and the error
 * envelope. Decoding is lenient where the docs are loose (extra fields, nulls) and strict where a
 * wrong value would mislead (types of numbers and strings).
 */
import { Schema } from "effect"

/** `{ code, message, details? }` — every error VoiceCheap answers with. */
export const ErrorEnvelope = Schema.Struct({
  code: Schema.String,
  message: Schema.String,
  details: Schema.optionalKey(
    Schema.NullOr(
      Schema.Struct({
        field: Schema.optionalKey(Schema.String),
        reason: Schema.optionalKey(Schema.String)
      })
    )
  )
})
export type ErrorEnvelope = typeof ErrorEnvelope.Type

/** Every documented error code (reference voicecheap-and-peers.md A.7, seed 004). */
export const errorCodes = [
  "MISSING_API_KEY",
  "INVALID_API_KEY",
  "SUBSCRIPTION_REQUIRED",
  "API_ACCESS_REQUIRED",
  "INSUFFICIENT_CREDITS",
  "FORBIDDEN",
  "FILE_REQUIRED",
  "INVALID_FILE_TYPE",
  "FILE_TOO_LARGE",
  "DURATION_DETECTION_FAILED",
  "VIDEO_TOO_LONG",
  "INVALID_TARGET_LANGUAGE",
  "VALIDATION_ERROR",
  "INVALID_BOOLEAN_VALUE",
  "INVALID_JSON_FORMAT",
  "PROJECT_NOT_FOUND",
  "RATE_LIMIT_EXCEEDED",
  "CONCURRENT_TRANSLATION_LIMIT_REACHED",
  "LIPSYNC_FAILED",
  "TRANSCRIPTION_FAILED"
] as const
export type ErrorCode = (typeof errorCodes)[number]

/** The answer to `POST /v1/translate`. `estimatedDuration` is in seconds (the docs give no unit). */
export const TranslateResponse = Schema.Struct({
  success: Schema.Boolean,
  message: Schema.optionalKey(Schema.String),
  projectId: Schema.NonEmptyString,
  estimatedDuration: Schema.optionalKey(Schema.NullOr(Schema.Finite))
})
export type TranslateResponse = typeof TranslateResponse.Type

/** The answer to `POST /v1/projects`. Not shown in the docs; assumed to match translate's. */
export const ProjectResponse = TranslateResponse
export type ProjectResponse = TranslateResponse

/** A failed project's `error` object. The seed's schema sample writes its keys as "error.code". */
export const ProjectError = Schema.Struct({
  code: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  "error.code": Schema.optionalKey(Schema.String),
  "error.message": Schema.optionalKey(Schema.String)
})

export const lipSyncStatuses = ["PENDING", "PROCESSING", "COMPLETED", "FAILED", "REJECTED", "CANCELED"] as const

/** The `lipSync` object, present only when lip sync was requested. */
export const LipSync = Schema.Struct({
  jobId: Schema.optionalKey(Schema.NullOr(Schema.String)),
  status: Schema.String,
  videoUrl: Schema.optionalKey(Schema.NullOr(Schema.String)),
  errorMessage: Schema.optionalKey(Schema.NullOr(Schema.String)),
  type: Schema.optionalKey(Schema.NullOr(Schema.String))
})
export type LipSync = typeof LipSync.Type

const Percent = Schema.Finite

/** `GET /v1/translate/{projectId}/status`. `status` stays a string: unknown words must not fail decoding. */
export const StatusResponse = Schema.Struct({
  projectId: Schema.String,
  projectName: Schema.String,
  originalVideoUrl: Schema.String,
  originalLanguage: Schema.String,
  targetLanguage: Schema.String,
  duration: Schema.Finite,
  /** Milliseconds since the epoch (the docs say "Unix timestamp"; their examples are in ms). */
  createdAt: Schema.Finite,
  status: Schema.String,
  translatedVideoUrl: Schema.optionalKey(Schema.NullOr(Schema.String)),
  translatedAudioUrl: Schema.optionalKey(Schema.NullOr(Schema.String)),
  error: Schema.optionalKey(Schema.NullOr(ProjectError)),
  actualProgressStep: Schema.optionalKey(Schema.NullOr(Schema.String)),
  translationAndTranscriptionProgress: Schema.optionalKey(Schema.NullOr(Percent)),
  dubbingStep: Schema.optionalKey(Schema.NullOr(Schema.String)),
  dubbingProgress: Schema.optionalKey(Schema.NullOr(Percent)),
  lipSync: Schema.optionalKey(Schema.NullOr(LipSync))
})
export type StatusResponse = typeof StatusResponse.Type

/** One entry of `translationTimeSkips`: a range (seconds) left untranslated. */
export interface TimeSkip {
  readonly startTime: number
  readonly endTime: number
  readonly duration: number
}

/** Voice cloning tuning, each 0–1. */
export interface VoiceCloningSettings {
  readonly stability: number
  readonly similarity: number
  readonly speakerBoost: number
}

/** The non-file fields of `POST /v1/translate` (and, where accepted, `POST /v1/projects`). */
export interface TranslateFields {
  readonly targetLanguage: string
  readonly originalLanguage?: string | undefined
  readonly projectName?: string | undefined
  readonly keepBackgroundMusic?: boolean | undefined
  readonly voiceIsolatorOption?: string | undefined
  readonly keepOriginalVoice?: boolean | undefined
  readonly originalVoiceVolume?: number | undefined
  readonly subtitles?: boolean | undefined
  readonly subtitlesSource?: string | undefined
  readonly translationTimeSkips?: ReadonlyArray<TimeSkip> | undefined
  readonly lipsyncPro?: boolean | undefined
  readonly voiceCloningSettings?: VoiceCloningSettings | undefined
}

/**
 * The form encoding VoiceCheap expects: booleans as `"true"`/`"false"`, objects and arrays as JSON
 * strings, numbers in decimal. Absent fields are left out.
 */
export const encodeFields = (fields: TranslateFields): ReadonlyArray<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue
    if (typeof value === "boolean") out.push([key, value ? "true" : "false"])
    else if (typeof value === "number") out.push([key, String(value)])
    else if (typeof value === "string") out.push([key, value])
    else out.push([key, JSON.stringify(value)])
  }
  return out
}
