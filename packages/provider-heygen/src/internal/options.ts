/**
 * `providerOptions.heygen`: HeyGen-only request fields, as a Schema. Core decodes a request's options
 * with it before anything is sent, so a misspelt field or a wrong type is an `InvalidRequest` naming
 * the field, not a silently dropped option.
 */
import { Schema } from "effect"

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
