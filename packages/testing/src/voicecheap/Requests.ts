/**
 * The multipart fields the VoiceCheap simulator accepts on `POST /v1/translate` and
 * `POST /v1/projects`, as a Schema written from VoiceCheap's API pages, not from any client's
 * decoders: a client that sends what VoiceCheap would refuse must be refused here too. Every field
 * arrives as text, so each is decoded from its string: booleans from the words "true"/"false",
 * numbers from decimal text, objects and arrays from JSON text. A refusal keeps VoiceCheap's error
 * envelope: `INVALID_BOOLEAN_VALUE` for a bad boolean, `INVALID_JSON_FORMAT` for text that is not
 * JSON, and `VALIDATION_ERROR` with `details.field`/`details.reason` for everything else.
 *
 * Where VoiceCheap's pages are silent the simulator accepts, as it did before it had a Schema:
 * - unknown fields: no page says they are refused, so they are ignored;
 * - the wire values of `voiceIsolatorOption` (the app shows "Studio (Recommended)" and
 *   "Realistic") and of `subtitlesSource`: any text;
 * - the range of `originalVoiceVolume`: any finite number;
 * - which keys of a `voiceCloningSettings` object or of a `translationTimeSkips` entry may be left
 *   out, and whether other keys are allowed: the documented keys are typed, none is required, others
 *   are ignored.
 *
 * `POST /v1/projects` takes the same form: its page lists the same boolean and JSON errors, and
 * says the translate-only fields are "accepted … but ignored", so they are checked the same way.
 */

import { Result, Schema, SchemaIssue, SchemaTransformation } from "effect"

/** The union of both target lists VoiceCheap documents (its pages give two): the simulator accepts either. */
export const targetLanguages: ReadonlySet<string> = new Set(
  (
    "afrikaans,albanian,amharic,arabic,armenian,assamese,azerbaijani,basque,belarusian,bengali,bosnian,bulgarian," +
    "catalan,croatian,czech,danish,dutch,english,british english,american english,estonian,finnish,french," +
    "french canadian,canadian french,galician,german,greek,gujarati,hebrew,hindi,hungarian,icelandic,indonesian," +
    "irish,italian,japanese,kannada,kazakh,khmer,korean,lao,latvian,lithuanian,macedonian,malay,malayalam," +
    "mandarin,chinese,marathi,mongolian,nepali,norwegian,persian,polish,portuguese,brazilian portuguese,punjabi," +
    "romanian,russian,serbian,slovak,slovenian,spanish,swahili,swedish,tagalog,tamil,telugu,thai,turkish," +
    "ukrainian,urdu,vietnamese,welsh,yoruba,zulu"
  ).split(",")
)

const required = "targetLanguage is required"

/** A lowercase English name from the documented lists ("spanish", "brazilian portuguese"), not a code. */
const TargetLanguage = Schema.String.pipe(Schema.annotateKey({ messageMissingKey: required })).check(
  Schema.makeFilter((s: string) => s !== "" || required, undefined, true),
  Schema.makeFilter(
    (s: string) =>
      targetLanguages.has(s) ||
      `Invalid target language. Allowed languages: ${[...targetLanguages].slice(0, 6).join(", ")}, ...`
  )
)

/** An ISO 639 code ("en", "es"); empty asks for auto-detection, which VoiceCheap recommends. */
const OriginalLanguage = Schema.String.check(
  Schema.makeFilter((s: string) => s === "" || /^[a-z]{2,3}$/.test(s) || "Use an ISO language code (e.g. en, es, fr)")
)

/** A boolean as VoiceCheap's form writes it: the word "true" or "false", nothing else. */
const FormBoolean = Schema.Literals(["true", "false"]).pipe(
  Schema.decodeTo(
    Schema.Boolean,
    SchemaTransformation.transform({ decode: (word) => word === "true", encode: (flag) => (flag ? "true" : "false") })
  )
)

// `Number()` would read "", " 1 " and "0x10" as numbers; a form number is decimal text.
const decimal = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** A number as decimal text. */
const FormNumber = Schema.String.check(
  Schema.makeFilter((s: string) => decimal.test(s) || `Expected a number, got ${JSON.stringify(s)}`)
).pipe(Schema.decodeTo(Schema.Finite, SchemaTransformation.numberFromString))

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** The check that tells text that is not JSON (`INVALID_JSON_FORMAT`) from JSON of the wrong shape. */
const notJson = "not JSON"
const jsonText = Schema.makeFilter((s: string) => isJson(s) || notJson, undefined, true)

/** An object or array sent as JSON text in a form field. */
const FormJson = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) =>
  Schema.String.check(jsonText).pipe(Schema.decodeTo(schema, SchemaTransformation.fromJsonString()))

const opt = Schema.optionalKey

/** Seconds into the media: a time cannot be negative. */
const Seconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * Voice cloning weights. VoiceCheap's pages give the range by example only (0.6, 0.8, 0.6, as
 * weights); the simulator holds each to 0–1.
 */
const Weight = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

/**
 * The text fields of `POST /v1/translate`. The first field at fault is reported, in this order: the
 * languages, the booleans, the number, the JSON fields (the order the simulator has always checked them).
 */
export const TranslateForm = Schema.Struct({
  targetLanguage: TargetLanguage,
  originalLanguage: opt(OriginalLanguage),
  /** Empty or absent: the project id is used. */
  projectName: opt(Schema.String),
  keepBackgroundMusic: opt(FormBoolean),
  keepOriginalVoice: opt(FormBoolean),
  subtitles: opt(FormBoolean),
  lipsyncPro: opt(FormBoolean),
  voiceIsolatorOption: opt(Schema.String),
  subtitlesSource: opt(Schema.String),
  originalVoiceVolume: opt(FormNumber),
  voiceCloningSettings: opt(
    FormJson(Schema.Struct({ stability: opt(Weight), similarity: opt(Weight), speakerBoost: opt(Weight) }))
  ),
  translationTimeSkips: opt(
    FormJson(Schema.Array(Schema.Struct({ startTime: opt(Seconds), endTime: opt(Seconds), duration: opt(Seconds) })))
  )
})
export type TranslateForm = typeof TranslateForm.Type

/** Why a form is refused, in VoiceCheap's envelope (HTTP 400). */
export interface Refusal {
  readonly code: "VALIDATION_ERROR" | "INVALID_BOOLEAN_VALUE" | "INVALID_JSON_FORMAT"
  readonly message: string
  readonly details?: { readonly field: string; readonly reason: string } | undefined
}

const booleanFields: ReadonlySet<PropertyKey> = new Set([
  "keepBackgroundMusic",
  "keepOriginalVoice",
  "subtitles",
  "lipsyncPro"
])
const jsonFields: ReadonlySet<PropertyKey> = new Set(["voiceCloningSettings", "translationTimeSkips"])

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The form's text fields decoded, or the refusal VoiceCheap answers: the first field at fault, in order. */
export const decodeForm = (fields: ReadonlyMap<string, string>): Result.Result<TranslateForm, Refusal> => {
  const decoded = Schema.decodeUnknownResult(TranslateForm)(Object.fromEntries(fields))
  if (Result.isSuccess(decoded)) return Result.succeed(decoded.success)
  const [first] = formatter(decoded.failure.issue).issues
  const path = first?.path ?? []
  const field = String(path[0] ?? "form")
  const reason = first?.message ?? "Invalid value"
  if (booleanFields.has(field)) {
    return Result.fail({
      code: "INVALID_BOOLEAN_VALUE",
      message: `A boolean parameter has an invalid value (use "true" or "false"): ${field}`
    })
  }
  if (jsonFields.has(field) && path.length === 1 && reason === notJson)
    return Result.fail({ code: "INVALID_JSON_FORMAT", message: `The ${field} JSON is malformed` })
  return Result.fail({
    code: "VALIDATION_ERROR",
    message: "Invalid request parameters",
    details: { field, reason: path.length > 1 ? `${reason} (at ${path.map(String).join(".")})` : reason }
  })
}
