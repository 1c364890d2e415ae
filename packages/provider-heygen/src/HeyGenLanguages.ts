/**
 * HeyGen names languages in English with a region in parentheses ("Spanish (Spain)"), as listed by
 * `GET /v3/video-translations/languages`. This table maps BCP-47 tags to those names and back. It
 * is reconstructed from HeyGen's documented names and live examples (reference §2, §3); the live
 * list can be fetched with `HeyGenClient.languages` and merged with `tableFrom`.
 */
import { Language } from "@polydub/core"

export const names: ReadonlyArray<Language.LanguageEntry> = [
  { tag: "en", name: "English" },
  { tag: "en-US", name: "English (United States)" },
  { tag: "en-GB", name: "English (UK)" },
  { tag: "en-AU", name: "English (Australia)" },
  { tag: "en-IN", name: "English (India)" },
  { tag: "es", name: "Spanish" },
  { tag: "es-ES", name: "Spanish (Spain)" },
  { tag: "es-MX", name: "Spanish (Mexico)" },
  { tag: "fr", name: "French" },
  { tag: "fr-FR", name: "French (France)" },
  { tag: "fr-CA", name: "French (Canada)" },
  { tag: "de", name: "German" },
  { tag: "de-DE", name: "German (Germany)" },
  { tag: "it", name: "Italian" },
  { tag: "pt", name: "Portuguese" },
  { tag: "pt-BR", name: "Portuguese (Brazil)" },
  { tag: "pt-PT", name: "Portuguese (Portugal)" },
  { tag: "nl", name: "Dutch" },
  { tag: "pl", name: "Polish" },
  { tag: "ru", name: "Russian" },
  { tag: "uk", name: "Ukrainian" },
  { tag: "tr", name: "Turkish" },
  { tag: "ar", name: "Arabic" },
  { tag: "ar-SA", name: "Arabic (Saudi Arabia)" },
  { tag: "he", name: "Hebrew" },
  { tag: "hi", name: "Hindi" },
  { tag: "hi-IN", name: "Hindi (India)" },
  { tag: "bn", name: "Bengali" },
  { tag: "ur", name: "Urdu" },
  { tag: "ur-PK", name: "Urdu (Pakistan)" },
  { tag: "ta", name: "Tamil" },
  { tag: "id", name: "Indonesian" },
  { tag: "ms", name: "Malay" },
  { tag: "th", name: "Thai" },
  { tag: "vi", name: "Vietnamese" },
  { tag: "fil", name: "Filipino" },
  { tag: "ja", name: "Japanese" },
  { tag: "ja-JP", name: "Japanese (Japan)" },
  { tag: "ko", name: "Korean" },
  { tag: "ko-KR", name: "Korean (Korea)" },
  { tag: "zh-Hans", name: "Chinese (Mandarin, Simplified)" },
  { tag: "zh", name: "Chinese (Mandarin, Simplified)" },
  { tag: "zh-Hant", name: "Chinese (Mandarin, Traditional)" },
  { tag: "yue-Hant", name: "Chinese (Cantonese, Traditional)" },
  { tag: "sv", name: "Swedish" },
  { tag: "da", name: "Danish" },
  { tag: "no", name: "Norwegian" },
  { tag: "fi", name: "Finnish" },
  { tag: "cs", name: "Czech" },
  { tag: "sk", name: "Slovak" },
  { tag: "hu", name: "Hungarian" },
  { tag: "ro", name: "Romanian" },
  { tag: "bg", name: "Bulgarian" },
  { tag: "el", name: "Greek" },
  { tag: "hr", name: "Croatian" }
]

export const table: Language.LanguageTable = Language.makeTable(names)

/** Merges names HeyGen lists live (unknown ones are skipped: they have no tag to map to). */
export const tableFrom = (live: ReadonlyArray<string>): Language.LanguageTable =>
  Language.makeTable(names.filter((entry) => live.some((name) => name.toLowerCase() === entry.name.toLowerCase())))
