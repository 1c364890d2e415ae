/**
 * VoiceCheap names target languages by lowercase English name ("spanish", "french canadian") and
 * source languages by ISO 639-1 code. These tables map both to BCP-47. The target list is the union
 * of the two documented lists (reference A.9): the newer 74 names plus the older list's
 * "american english", "canadian french" and "chinese".
 */
import { Language } from "@polydub/core"
import type { Option } from "effect"

/** Target names, BCP-47 first. Where two tags share a name, the first is reported back. */
export const targets: ReadonlyArray<Language.LanguageEntry> = [
  { tag: "af", name: "afrikaans" },
  { tag: "sq", name: "albanian" },
  { tag: "am", name: "amharic" },
  { tag: "ar", name: "arabic" },
  { tag: "hy", name: "armenian" },
  { tag: "as", name: "assamese" },
  { tag: "az", name: "azerbaijani" },
  { tag: "eu", name: "basque" },
  { tag: "be", name: "belarusian" },
  { tag: "bn", name: "bengali" },
  { tag: "bs", name: "bosnian" },
  { tag: "bg", name: "bulgarian" },
  { tag: "ca", name: "catalan" },
  { tag: "hr", name: "croatian" },
  { tag: "cs", name: "czech" },
  { tag: "da", name: "danish" },
  { tag: "nl", name: "dutch" },
  { tag: "en", name: "english" },
  { tag: "en-US", name: "american english" },
  { tag: "en-GB", name: "british english" },
  { tag: "et", name: "estonian" },
  { tag: "fi", name: "finnish" },
  { tag: "fr", name: "french" },
  { tag: "fr-CA", name: "french canadian" },
  { tag: "gl", name: "galician" },
  { tag: "de", name: "german" },
  { tag: "el", name: "greek" },
  { tag: "gu", name: "gujarati" },
  { tag: "he", name: "hebrew" },
  { tag: "hi", name: "hindi" },
  { tag: "hu", name: "hungarian" },
  { tag: "is", name: "icelandic" },
  { tag: "id", name: "indonesian" },
  { tag: "ga", name: "irish" },
  { tag: "it", name: "italian" },
  { tag: "ja", name: "japanese" },
  { tag: "kn", name: "kannada" },
  { tag: "kk", name: "kazakh" },
  { tag: "km", name: "khmer" },
  { tag: "ko", name: "korean" },
  { tag: "lo", name: "lao" },
  { tag: "lv", name: "latvian" },
  { tag: "lt", name: "lithuanian" },
  { tag: "mk", name: "macedonian" },
  { tag: "ms", name: "malay" },
  { tag: "ml", name: "malayalam" },
  { tag: "zh", name: "mandarin" },
  { tag: "zh-Hans", name: "mandarin" },
  { tag: "cmn", name: "mandarin" },
  { tag: "mr", name: "marathi" },
  { tag: "mn", name: "mongolian" },
  { tag: "ne", name: "nepali" },
  { tag: "no", name: "norwegian" },
  { tag: "nb", name: "norwegian" },
  { tag: "fa", name: "persian" },
  { tag: "pl", name: "polish" },
  { tag: "pt", name: "portuguese" },
  { tag: "pt-PT", name: "portuguese" },
  { tag: "pt-BR", name: "brazilian portuguese" },
  { tag: "pa", name: "punjabi" },
  { tag: "ro", name: "romanian" },
  { tag: "ru", name: "russian" },
  { tag: "sr", name: "serbian" },
  { tag: "sk", name: "slovak" },
  { tag: "sl", name: "slovenian" },
  { tag: "es", name: "spanish" },
  { tag: "sw", name: "swahili" },
  { tag: "sv", name: "swedish" },
  { tag: "tl", name: "tagalog" },
  { tag: "fil", name: "tagalog" },
  { tag: "ta", name: "tamil" },
  { tag: "te", name: "telugu" },
  { tag: "th", name: "thai" },
  { tag: "tr", name: "turkish" },
  { tag: "uk", name: "ukrainian" },
  { tag: "ur", name: "urdu" },
  { tag: "vi", name: "vietnamese" },
  { tag: "cy", name: "welsh" },
  { tag: "yo", name: "yoruba" },
  { tag: "zu", name: "zulu" }
]

/** Names only in the older documented list, still accepted in status responses. */
export const legacyTargets: ReadonlyArray<Language.LanguageEntry> = [
  { tag: "fr-CA", name: "canadian french" },
  { tag: "zh", name: "chinese" }
]

export const table: Language.LanguageTable = Language.makeTable(targets)

/** For reading `targetLanguage` back from status responses: current and legacy names. */
export const readTable: Language.LanguageTable = Language.makeTable([...targets, ...legacyTargets])

/** The BCP-47 tag of a target name from a status answer, current or legacy. */
export const tagOf = (name: string): Option.Option<string> => Language.fromVendor(readTable, name)

/**
 * The ISO 639-1 code VoiceCheap takes as `originalLanguage` for a BCP-47 source tag: its primary
 * subtag (`en-US` → `en`). VoiceCheap recommends leaving it empty for auto-detection.
 */
export const sourceCode = (tag: string): string => Language.primary(tag)
