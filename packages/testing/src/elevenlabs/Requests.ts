/**
 * Validation of the form of `POST /v1/dubbing` and `POST /v1/dubbing/project`, by the fields and types
 * of ElevenLabs' OpenAPI document: booleans and integers as FastAPI reads them (else a 422 naming the
 * field), enumerations, and fields the document does not name. The live API probably ignores unknown
 * fields, as FastAPI does by default; the simulator refuses them so that a misspelt field is caught.
 */

/** A refusal: the 422 list form (`loc`, `msg`, `type`) or a 400 with a code. */
export type FormError =
  | { readonly _tag: "Validation"; readonly field: string; readonly msg: string; readonly type: string }
  | { readonly _tag: "BadRequest"; readonly code: string; readonly message: string; readonly param?: string }

const bools = new Set(["true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"])
const truthy = new Set(["true", "1", "yes", "on", "t", "y"])

export const isTrue = (value: string | undefined) => value !== undefined && truthy.has(value.toLowerCase())

const dubbingFields = {
  file: "file",
  csv_file: "file",
  foreground_audio_file: "file",
  background_audio_file: "file",
  name: "string",
  source_url: "string",
  source_lang: "string",
  target_lang: "string",
  target_accent: "string",
  num_speakers: "int",
  watermark: "bool",
  start_time: "int",
  end_time: "int",
  highest_resolution: "bool",
  drop_background_audio: "bool",
  use_profanity_filter: "bool",
  dubbing_studio: "bool",
  disable_voice_cloning: "bool",
  mode: "mode",
  csv_fps: "number"
} as const

const projectFields = {
  file: "file",
  source_url: "string",
  reference: "string",
  source_language: "string",
  model_id: "model",
  keyterms: "list",
  webhook_ids: "list",
  target_language: "string",
  transcript: "string"
} as const

type Kind = "file" | "string" | "int" | "bool" | "mode" | "number" | "model" | "list"

const check = (
  table: Readonly<Record<string, Kind>>,
  fields: ReadonlyMap<string, ReadonlyArray<string>>
): FormError | undefined => {
  for (const [key, values] of fields) {
    const kind = table[key]
    if (kind === undefined) {
      return { _tag: "Validation", field: key, msg: "Extra inputs are not permitted", type: "extra_forbidden" }
    }
    if (kind !== "list" && values.length > 1) {
      return { _tag: "Validation", field: key, msg: "Input should be a single value", type: "value_error" }
    }
    const value = values[0] ?? ""
    switch (kind) {
      case "int":
        if (!/^-?\d+$/.test(value)) {
          return {
            _tag: "Validation",
            field: key,
            msg: "Input should be a valid integer, unable to parse string as an integer",
            type: "int_parsing"
          }
        }
        break
      case "number":
        if (!Number.isFinite(Number(value)) || value.trim() === "") {
          return { _tag: "Validation", field: key, msg: "Input should be a valid number", type: "float_parsing" }
        }
        break
      case "bool":
        if (!bools.has(value.toLowerCase())) {
          return {
            _tag: "Validation",
            field: key,
            msg: "Input should be a valid boolean, unable to interpret input",
            type: "bool_parsing"
          }
        }
        break
      case "mode":
        if (value !== "automatic" && value !== "manual") {
          return { _tag: "Validation", field: key, msg: "Input should be 'automatic' or 'manual'", type: "enum" }
        }
        break
      case "model":
        if (value !== "dubbing_v1" && value !== "dubbing_v2") {
          return { _tag: "Validation", field: key, msg: "Input should be 'dubbing_v1' or 'dubbing_v2'", type: "enum" }
        }
        break
    }
  }
  return undefined
}

/** The legacy create's text fields, checked; the file is checked by the route. */
export const checkDubbingForm = (fields: ReadonlyMap<string, ReadonlyArray<string>>): FormError | undefined =>
  check(dubbingFields, fields)

/** The projects create's text fields, checked. */
export const checkProjectForm = (fields: ReadonlyMap<string, ReadonlyArray<string>>): FormError | undefined => {
  const failed = check(projectFields, fields)
  if (failed !== undefined) return failed
  const keyterms = fields.get("keyterms") ?? []
  // Python's SDK sends the list as one JSON field; the skill guide repeats the field: both are read.
  const terms = keyterms.length === 1 && keyterms[0]!.startsWith("[") ? safeList(keyterms[0]!) : keyterms
  if (terms === undefined) {
    return { _tag: "Validation", field: "keyterms", msg: "Input should be a valid list", type: "list_type" }
  }
  if (terms.length > 1000) {
    return { _tag: "Validation", field: "keyterms", msg: "List should have at most 1000 items", type: "too_long" }
  }
  for (const term of terms) {
    if (term.length > 50 || term.split(/\s+/).length > 5 || /[<>{}[\]\\]/.test(term)) {
      return {
        _tag: "Validation",
        field: "keyterms",
        msg: "A key term has at most 50 characters and 5 words, and none of < > { } [ ] \\",
        type: "value_error"
      }
    }
  }
  if ((fields.get("webhook_ids") ?? []).length > 3) {
    return { _tag: "Validation", field: "webhook_ids", msg: "List should have at most 3 items", type: "too_long" }
  }
  if ((fields.get("reference")?.[0] ?? "").length > 500) {
    return {
      _tag: "Validation",
      field: "reference",
      msg: "String should have at most 500 characters",
      type: "string_too_long"
    }
  }
  return undefined
}

const safeList = (text: string): Array<string> | undefined => {
  try {
    const parsed: unknown = JSON.parse(text)
    return Array.isArray(parsed) && parsed.every((t) => typeof t === "string") ? parsed : undefined
  } catch {
    return undefined
  }
}

/** Media types ElevenLabs dubs. */
export const mediaTypes = /^(video|audio)\//
