/**
 * ElevenLabs names languages by code. The legacy dubbing API takes ISO 639-1 (or 639-3) codes and has
 * no regional variants, so a regional tag is sent as its primary language (`pt-BR` → `pt`,
 * `zh-Hans` → `zh`, `tl` → `fil`) and the job keeps the tag asked for. The Dubbing Projects API takes
 * BCP-47 itself, regions only for the dialects it supports; ElevenLabs publishes no list of them, nor
 * of its "90+ languages", so the table below is the documented legacy list plus the widely used
 * languages and regions, and a code it refuses comes back as the vendor's `InvalidRequest`.
 */
import { Language } from "@polydub/core"
import type { Option } from "effect"

/** The 29 codes ElevenLabs' dubbing documentation lists (it says 32). */
export const documented = [
  "en",
  "hi",
  "pt",
  "zh",
  "es",
  "fr",
  "de",
  "ja",
  "ar",
  "ru",
  "ko",
  "id",
  "it",
  "nl",
  "tr",
  "pl",
  "sv",
  "fil",
  "ms",
  "ro",
  "uk",
  "el",
  "cs",
  "da",
  "fi",
  "bg",
  "hr",
  "sk",
  "ta"
] as const

/** Regional and alternative tags the legacy API takes as their primary language. */
const legacyAliases: ReadonlyArray<Language.LanguageEntry> = [
  { tag: "en-US", name: "en" },
  { tag: "en-GB", name: "en" },
  { tag: "es-ES", name: "es" },
  { tag: "es-MX", name: "es" },
  { tag: "es-419", name: "es" },
  { tag: "fr-FR", name: "fr" },
  { tag: "fr-CA", name: "fr" },
  { tag: "pt-BR", name: "pt" },
  { tag: "pt-PT", name: "pt" },
  { tag: "de-DE", name: "de" },
  { tag: "zh-Hans", name: "zh" },
  { tag: "zh-CN", name: "zh" },
  { tag: "cmn", name: "zh" },
  { tag: "tl", name: "fil" }
]

/** The legacy API's targets: the documented codes, then regional tags sent as their primary language. */
export const legacyTable: Language.LanguageTable = Language.makeTable([
  // The order is the documentation's, but with Spanish and French first: the first entries are the
  // ones a listing shows first.
  ...["en", "es", "fr", ...documented.filter((c) => c !== "en" && c !== "es" && c !== "fr")].map((code) => ({
    tag: code,
    name: code
  })),
  ...legacyAliases
])

/** Languages the Dubbing Projects API is known to dub besides the legacy list; BCP-47, sent as written. */
const projectsExtra = [
  "vi",
  "th",
  "he",
  "hu",
  "no",
  "fa",
  "ur",
  "bn",
  "ca",
  "lt",
  "lv",
  "sl",
  "sr",
  "et",
  "af",
  "sw",
  "te",
  "mr",
  "gu",
  "kn",
  "ml",
  "es-MX",
  "es-419",
  "es-ES",
  "pt-BR",
  "pt-PT",
  "fr-CA",
  "en-US",
  "en-GB"
]

/** The projects API's targets: BCP-47 tags, sent as written. */
export const projectsTable: Language.LanguageTable = Language.makeTable(
  [...["en", "es", "fr", ...documented.filter((c) => c !== "en" && c !== "es" && c !== "fr")], ...projectsExtra].map(
    (tag) => ({ tag, name: tag })
  )
)

/**
 * A source language for the legacy API: its primary subtag (`source_lang` takes ISO 639-1 or 639-3,
 * no region).
 */
export const legacySource = (tag: string): string => {
  const primary = Language.primary(tag)
  return primary === "tl" ? "fil" : primary
}

/** The BCP-47 tag of a code ElevenLabs answers (`"es"`, `"fil"`, `"pt-BR"`), if it is one. */
export const tagOf = (code: string): Option.Option<string> => Language.normalizeOption(code)
