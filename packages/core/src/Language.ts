/**
 * Languages as BCP-47 tags. Every vendor names languages its own way (HeyGen: "Spanish (Spain)",
 * VoiceCheap: "spanish"); a provider ships a `LanguageTable` mapping tags to those names both
 * ways, and requests are checked against it before anything is sent or charged.
 */
import { Effect, Option, Schema } from "effect"
import { UnsupportedLanguage } from "./TranslationError.js"

/** A string that is not a well-formed BCP-47 tag. */
export class InvalidLanguageTag extends Schema.TaggedError<InvalidLanguageTag>()("InvalidLanguageTag", {
  input: Schema.String,
  message: Schema.String
}) {}

/** Canonicalises a BCP-47 tag (`pt_br` → `pt-BR`, `ZH-hans` → `zh-Hans`), or `none` if malformed. */
export const normalizeOption = (input: string): Option.Option<string> => {
  const candidate = input.trim().replaceAll("_", "-")
  if (candidate.length === 0 || candidate.length > 64) return Option.none()
  try {
    const [canonical] = Intl.getCanonicalLocales(candidate)
    return canonical === undefined ? Option.none() : Option.some(canonical)
  } catch {
    return Option.none()
  }
}

/** Canonicalises a BCP-47 tag, failing with `InvalidLanguageTag` on anything malformed. */
export const normalize = (input: string): Effect.Effect<string, InvalidLanguageTag> =>
  Effect.fromOption(normalizeOption(input)).pipe(
    Effect.mapError(
      () =>
        new InvalidLanguageTag({
          input: input.slice(0, 80),
          message: `${JSON.stringify(input.slice(0, 80))} is not a BCP-47 language tag (e.g. "es", "fr-CA", "zh-Hans")`
        })
    )
  )

/** A BCP-47 tag, canonicalised on decode. */
export const LanguageTag = Schema.String.check(
  Schema.makeFilter((s: string) => Option.isSome(normalizeOption(s)) || `not a BCP-47 language tag: ${s}`)
)

/** The primary language subtag (`fr-CA` → `fr`). */
export const primary = (tag: string): string => tag.split("-")[0]!.toLowerCase()

/** The English name of a tag ("fr-CA" → "Canadian French"), or the tag itself. */
export const displayName = (tag: string): string => {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(tag) ?? tag
  } catch {
    return tag
  }
}

/** One supported language: the BCP-47 tag and the vendor's name for it. */
export interface LanguageEntry {
  readonly tag: string
  readonly name: string
}

/**
 * A provider's languages. Several tags may share one vendor name (`zh` and `zh-Hans` →
 * "mandarin"); the first listed is the one reported back for that name. A tag listed again under
 * another name keeps its first name for sending; the other name is still read back.
 */
export interface LanguageTable {
  readonly entries: ReadonlyArray<LanguageEntry>
  readonly byTag: ReadonlyMap<string, string>
  readonly byName: ReadonlyMap<string, string>
}

/** Builds a table, canonicalising every tag. Vendor names are matched case-insensitively. */
export const makeTable = (entries: Iterable<LanguageEntry>): LanguageTable => {
  const list: Array<LanguageEntry> = []
  const byTag = new Map<string, string>()
  const byName = new Map<string, string>()
  for (const entry of entries) {
    const tag = Option.getOrElse(normalizeOption(entry.tag), () => entry.tag)
    const key = entry.name.toLowerCase()
    // A second name for a known tag is still read back (legacy vendor names), never sent.
    if (!byName.has(key)) byName.set(key, tag)
    if (byTag.has(tag)) continue
    list.push({ tag, name: entry.name })
    byTag.set(tag, entry.name)
  }
  return { entries: list, byTag, byName }
}

/** The vendor's name for a tag, if supported. */
export const toVendor = (table: LanguageTable, tag: string): Option.Option<string> =>
  Option.flatMap(normalizeOption(tag), (t) => Option.fromUndefinedOr(table.byTag.get(t)))

/** The tag for a vendor's name, if known. */
export const fromVendor = (table: LanguageTable, name: string): Option.Option<string> =>
  Option.fromUndefinedOr(table.byName.get(name.toLowerCase()))

/** The supported tags nearest to `tag`: same primary language first, then by shared prefix. */
export const nearest = (table: LanguageTable, tag: string, max = 3): ReadonlyArray<string> => {
  const wanted = Option.getOrElse(normalizeOption(tag), () => tag.toLowerCase())
  const lang = primary(wanted)
  const scored = table.entries.map((entry) => {
    const p = primary(entry.tag)
    let score = 0
    if (p === lang) score = 100 - Math.abs(entry.tag.length - wanted.length)
    else if (p.length >= 2 && lang.length >= 2 && p[0] === lang[0] && p[1] === lang[1]) score = 10
    else if (entry.name.toLowerCase().startsWith(tag.toLowerCase()) && tag.length >= 3) score = 50
    return { tag: entry.tag, score }
  })
  return scored
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || a.tag.localeCompare(b.tag))
    .slice(0, max)
    .map((s) => s.tag)
}

/**
 * Resolves a requested tag to the vendor's name, or fails with `UnsupportedLanguage` naming the
 * nearest supported tags.
 */
export const resolve = (
  table: LanguageTable,
  tag: string,
  context: { readonly provider: string; readonly operation: string }
): Effect.Effect<string, UnsupportedLanguage> =>
  Option.match(toVendor(table, tag), {
    onSome: Effect.succeed,
    onNone: () => {
      const suggestions = nearest(table, tag)
      return Effect.fail(
        new UnsupportedLanguage({
          provider: context.provider,
          operation: context.operation,
          language: tag,
          suggestions,
          message:
            `${context.provider} does not support the language ${JSON.stringify(tag)}` +
            (suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : "")
        })
      )
    }
  })
