/**
 * `providerOptions.heygen`: HeyGen-only request fields, as a Schema. Core decodes a request's options
 * with it before anything is sent, so a misspelt field or a wrong type is an `InvalidRequest` naming
 * the field, not a silently dropped option.
 */
import { InvalidRequest } from "@polydub/core"
import { Effect, Schema } from "effect"

const seconds = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

export const HeyGenOptions = Schema.Struct({
  /** `speed` or `precision` (v3). */
  mode: Schema.optional(Schema.Literals(["speed", "precision"])),
  brandGlossaryId: Schema.optional(Schema.String),
  folderId: Schema.optional(Schema.String),
  keepTheSameFormat: Schema.optional(Schema.Boolean),
  /** Translations only. */
  enableDynamicDuration: Schema.optional(Schema.Boolean),
  disableMusicTrack: Schema.optional(Schema.Boolean),
  enableSpeechEnhancement: Schema.optional(Schema.Boolean),
  /** Translations only. */
  enableWatermark: Schema.optional(Schema.Boolean),
  /** Proofreads only. */
  enableVideoStretching: Schema.optional(Schema.Boolean),
  /** Translations only: the part of the source to translate, in seconds. */
  startTime: Schema.optional(seconds),
  endTime: Schema.optional(seconds)
})
export type HeyGenOptions = typeof HeyGenOptions.Type

/** Each option's name on HeyGen's wire. */
const wireNames = {
  mode: "mode",
  brandGlossaryId: "brand_glossary_id",
  folderId: "folder_id",
  keepTheSameFormat: "keep_the_same_format",
  enableDynamicDuration: "enable_dynamic_duration",
  disableMusicTrack: "disable_music_track",
  enableSpeechEnhancement: "enable_speech_enhancement",
  enableWatermark: "enable_watermark",
  enableVideoStretching: "enable_video_stretching",
  startTime: "start_time",
  endTime: "end_time"
} as const satisfies Record<keyof HeyGenOptions, string>

/** Which request takes which option: v3 translations, v3 proofreads; v2 takes none of them. */
export type OptionsTarget = "translation" | "proofread" | "v2"

const takes: Record<OptionsTarget, ReadonlySet<keyof HeyGenOptions>> = {
  translation: new Set([
    "mode",
    "brandGlossaryId",
    "folderId",
    "keepTheSameFormat",
    "enableDynamicDuration",
    "disableMusicTrack",
    "enableSpeechEnhancement",
    "enableWatermark",
    "startTime",
    "endTime"
  ]),
  proofread: new Set([
    "mode",
    "brandGlossaryId",
    "folderId",
    "keepTheSameFormat",
    "disableMusicTrack",
    "enableSpeechEnhancement",
    "enableVideoStretching"
  ]),
  v2: new Set()
}

/**
 * The options as HeyGen's wire fields for `target`, or the first option that request does not take:
 * an option is never dropped without a word (the caller refuses the request before sending it).
 */
export const toWire = (
  options: HeyGenOptions,
  target: OptionsTarget
): { readonly fields: Record<string, unknown> } | { readonly refused: keyof HeyGenOptions } => {
  const fields: Record<string, unknown> = {}
  for (const key of Object.keys(wireNames) as Array<keyof HeyGenOptions>) {
    const value = options[key]
    if (value === undefined) continue
    if (!takes[target].has(key)) return { refused: key }
    fields[wireNames[key]] = value
  }
  return { fields }
}

const requestName: Record<OptionsTarget, string> = {
  translation: "translation",
  proofread: "review (proofread)",
  v2: "v2 API's"
}

/** `toWire` as an effect: the wire fields, or `InvalidRequest` naming the option the request does not take. */
export const wireOptions = (
  options: HeyGenOptions | undefined,
  target: OptionsTarget
): Effect.Effect<Record<string, unknown>, InvalidRequest> => {
  const wire = toWire(options ?? {}, target)
  return "fields" in wire
    ? Effect.succeed(wire.fields)
    : Effect.fail(
        new InvalidRequest({
          provider: "heygen",
          operation: "submit",
          param: `providerOptions.heygen.${wire.refused}`,
          message: `HeyGen's ${requestName[target]} requests do not take ${wire.refused}`
        })
      )
}
