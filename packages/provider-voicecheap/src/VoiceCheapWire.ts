/**
 * VoiceCheap's wire format (api.voicecheap.ai): the multipart fields of `POST /v1/translate` and
 * `POST /v1/projects`, their JSON answers, `GET /v1/translate/{projectId}/status`, and the error
 * envelope. Decoding is lenient where the docs are loose (extra fields, nulls) and strict where a
 * wrong value would mislead (types of numbers and strings). `projectId` becomes a job reference: it
 * is core's `JobId`, so an id a reference cannot hold is refused here, with its path.
 */
import { JobId } from "@polydub/core"
import { Effect, Schema, SchemaTransformation } from "effect"

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

/** Every error code VoiceCheap documents (its schema sample: `test/fixtures/seed-004-schema-sample.json`). */
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
  projectId: JobId,
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

/** The documented status words. Kept as data: decoding accepts any word, so a new one is not a crash. */
export const statuses = ["processing", "success", "failed"] as const

/**
 * The documented progress steps, in order: `actualProgressStep` walks the first three and then
 * switches to the dubbing step, which `dubbingStep` also reports (reference A.5, A.11).
 */
export const progressSteps = [
  "downloading_content",
  "content_validation",
  "transcription_processing",
  "smart_sync",
  "audio_enhancement",
  "audio_assembling",
  "video_upload"
] as const

/** A percentage, 0–100 (not clamped: a vendor rounding to 100.4 must not fail decoding). */
const Percent = Schema.Finite

/** `GET /v1/translate/{projectId}/status`. `status` stays a string: unknown words must not fail decoding. */
export const StatusResponse = Schema.Struct({
  projectId: JobId,
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

/** How VoiceCheap's form encodes a boolean: the words `"true"` and `"false"` (error `INVALID_BOOLEAN_VALUE`). */
export const FormBoolean = Schema.Literals(["true", "false"]).pipe(
  Schema.decodeTo(
    Schema.Boolean,
    SchemaTransformation.transform({
      decode: (word) => word === "true",
      encode: (flag) => (flag ? "true" : "false")
    })
  )
)

/** A number in a form field, in decimal. */
export const FormNumber = Schema.FiniteFromString

const Seconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Unit = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

/**
 * One entry of `translationTimeSkips`: a range left untranslated. The docs give the shape, not the
 * unit; seconds, like every other duration in the API.
 */
export const TimeSkip = Schema.Struct({ startTime: Seconds, endTime: Seconds, duration: Seconds })
export type TimeSkip = typeof TimeSkip.Type

/** Voice cloning tuning. The docs' examples (0.6, 0.8, 0.6) suggest 0–1 for each. */
export const VoiceCloningSettings = Schema.Struct({ stability: Unit, similarity: Unit, speakerBoost: Unit })
export type VoiceCloningSettings = typeof VoiceCloningSettings.Type

/**
 * The text fields of `POST /v1/translate` (the file travels beside them). Decoded, they are typed
 * values; encoded, every one is the string VoiceCheap's form expects: booleans as `"true"`/`"false"`,
 * objects and arrays as JSON strings (error `INVALID_JSON_FORMAT`), numbers in decimal. Absent fields
 * are left out, so VoiceCheap applies its own defaults.
 */
export const TranslateForm = Schema.Struct({
  /** A lowercase English name ("spanish", "brazilian portuguese"), not a code. */
  targetLanguage: Schema.NonEmptyString,
  /** An ISO 639-1 code; VoiceCheap recommends leaving it out for auto-detection. */
  originalLanguage: Schema.optionalKey(Schema.String),
  /** Defaults to the project id. */
  projectName: Schema.optionalKey(Schema.String),
  /** Keep music and ambience, replace only the voice (stem separation). VoiceCheap's default is true. */
  keepBackgroundMusic: Schema.optionalKey(FormBoolean),
  /** "Studio (Recommended)" or "Realistic" in the app; the wire values are not documented. */
  voiceIsolatorOption: Schema.optionalKey(Schema.String),
  keepOriginalVoice: Schema.optionalKey(FormBoolean),
  /** The range is not documented. */
  originalVoiceVolume: Schema.optionalKey(FormNumber),
  subtitles: Schema.optionalKey(FormBoolean),
  /** The values are not documented. */
  subtitlesSource: Schema.optionalKey(Schema.String),
  translationTimeSkips: Schema.optionalKey(Schema.fromJsonString(Schema.Array(TimeSkip))),
  lipsyncPro: Schema.optionalKey(FormBoolean),
  voiceCloningSettings: Schema.optionalKey(Schema.fromJsonString(VoiceCloningSettings))
})

/** The typed fields of `POST /v1/translate`. */
export type TranslateFields = typeof TranslateForm.Type

/** `POST /v1/projects` (transcription only) takes these; the others are "accepted … but ignored". */
export const ProjectForm = Schema.Struct({
  targetLanguage: TranslateForm.fields.targetLanguage,
  originalLanguage: TranslateForm.fields.originalLanguage,
  projectName: TranslateForm.fields.projectName
})
export type ProjectFields = typeof ProjectForm.Type

const orderedPairs = (encoded: Readonly<Record<string, string | undefined>>, order: ReadonlyArray<string>) =>
  order.flatMap((key) => {
    const value = encoded[key]
    return value === undefined ? [] : [[key, value] as const]
  })

/** The form fields as `[name, value]` pairs, in the documented order; a value out of range fails. */
export const encodeFields = (
  fields: TranslateFields
): Effect.Effect<ReadonlyArray<readonly [string, string]>, Schema.SchemaError> =>
  Effect.map(Schema.encodeEffect(TranslateForm)(fields), (encoded) =>
    orderedPairs(encoded, Object.keys(TranslateForm.fields))
  )

/** The form fields of `POST /v1/projects` as `[name, value]` pairs. */
export const encodeProjectFields = (
  fields: ProjectFields
): Effect.Effect<ReadonlyArray<readonly [string, string]>, Schema.SchemaError> =>
  Effect.map(Schema.encodeEffect(ProjectForm)(fields), (encoded) =>
    orderedPairs(encoded, Object.keys(ProjectForm.fields))
  )
