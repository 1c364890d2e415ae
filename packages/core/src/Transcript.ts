/**
 * Transcripts: the editable subtitles of a job awaiting review. Vendors exchange them as SRT (HeyGen's
 * proofreads) or WebVTT; both read into the same cues and print canonically, so reading what was printed
 * gives back the same transcript. Malformed input fails with the line number and what was expected there,
 * never with a half-read transcript.
 *
 * Reading is linear in the input, whatever it holds: these files come from users, and a parser that
 * backtracks on a long run of spaces blocks the event loop of the service reading them. So lines are
 * scanned with `indexOf`, `trim` and loops; the regular expressions left either match fixed strings or
 * are anchored at the start of one token (a clock, a cue number, a voice tag), so none is retried from
 * every position of a long run. The parsing-time tests in `test/Transcript.test.ts` hold this.
 */
import { Effect, Option, Schema } from "effect"

export type Format = "srt" | "vtt"

const splitLines = (text: string): Array<string> => text.split(/\r\n|\r|\n/)
const isBlank = (line: string): boolean => line.trim() === ""

// A blank line ends a cue in both formats, so a text holding one could not be written back.
const CueText = Schema.String.check(
  Schema.isNonEmpty(),
  Schema.makeFilter((text: string) => !splitLines(text).some(isBlank) || "a cue's text has no blank line")
)

const Millis = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

/** One subtitle: its position, when it shows (milliseconds), its text, and who speaks it. */
export class Cue extends Schema.Class<Cue>("@polydub/core/Cue")(
  Schema.Struct({
    index: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    start: Millis,
    end: Millis,
    text: CueText,
    speaker: Schema.optionalKey(Schema.String)
  }).check(
    Schema.makeFilter((cue) => cue.end >= cue.start || { path: ["end"], issue: "a cue ends at or after its start" })
  )
) {}

export class Transcript extends Schema.Class<Transcript>("@polydub/core/Transcript")({
  cues: Schema.Array(Cue)
}) {}

const clip = (found: string): string => (found.length > 80 ? `${found.slice(0, 79)}…` : found)

/** Input that is not valid SRT or WebVTT: where (1-based line), what was expected there, and what was found. */
export class TranscriptParseError extends Schema.TaggedError<TranscriptParseError>()("TranscriptParseError", {
  format: Schema.Literals(["srt", "vtt"]),
  line: Schema.Int,
  expected: Schema.String,
  found: Schema.String
}) {
  override get message(): string {
    const found = this.found === "" ? "nothing" : JSON.stringify(clip(this.found))
    return `${this.format.toUpperCase()} line ${this.line}: expected ${this.expected}, found ${found}`
  }
}

// Input is read as blocks of non-blank lines; `at` is the 0-based line the block starts on.
interface Block {
  readonly at: number
  readonly lines: ReadonlyArray<string>
}

const read = (format: Format, text: string) => {
  const lines = splitLines(text.replace(/^\uFEFF/, "")).map((line) => line.trimEnd())
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; ) {
    if (isBlank(lines[i] ?? "")) {
      i++
      continue
    }
    const at = i
    while (i < lines.length && !isBlank(lines[i] ?? "")) i++
    blocks.push({ at, lines: lines.slice(at, i) })
  }
  const fail = (at: number, expected: string) =>
    new TranscriptParseError({ format, line: at + 1, expected, found: clip(lines[at] ?? "") })
  return { lines, blocks, fail }
}

const clocks: Record<Format, RegExp> = {
  srt: /^(\d{1,5}):(\d{2}):(\d{2})[,.](\d{3})$/,
  vtt: /^(?:(\d{1,5}):)?(\d{2}):(\d{2})\.(\d{3})$/
}

const timingExpected: Record<Format, string> = {
  srt: `a timing line "00:00:01,000 --> 00:00:02,000"`,
  vtt: `a timing line "00:00:01.000 --> 00:00:02.000"`
}

const millis = (format: Format, clock: string): number | undefined => {
  const m = clocks[format].exec(clock)
  if (m === null) return undefined
  const [h, min, s, ms] = [Number(m[1] ?? 0), Number(m[2]), Number(m[3]), Number(m[4])]
  return min < 60 && s < 60 ? ((h * 60 + min) * 60 + s) * 1000 + ms : undefined
}

const isSpaceOrTab = (c: string | undefined): boolean => c === " " || c === "\t"

// `start [ \t]* --> [ \t]* end`, then anything after a space or tab (WebVTT cue settings, SRT coordinates)
// is ignored: it has no place in a Cue. Scanned, not matched with one regular expression over the line:
// such a pattern retries its end part at every "-->" of a long line and goes quadratic. A clock holds no
// "-", so the first "-->" is the only one a valid timing can have; `millis` refuses any token holding
// whitespace.
const timing = (format: Format, line: string | undefined) => {
  const text = line?.trim() ?? ""
  const arrow = text.indexOf("-->")
  if (arrow === -1) return undefined
  let startEnds = arrow
  while (startEnds > 0 && isSpaceOrTab(text[startEnds - 1])) startEnds--
  let endStarts = arrow + 3
  while (isSpaceOrTab(text[endStarts])) endStarts++
  let endEnds = endStarts
  while (endEnds < text.length && !isSpaceOrTab(text[endEnds])) endEnds++
  const start = millis(format, text.slice(0, startEnds))
  const end = millis(format, text.slice(endStarts, endEnds))
  return start === undefined || end === undefined ? undefined : { start, end }
}

const printClock = (ms: number, separator: "," | "."): string => {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0")
  const h = Math.floor(ms / 3_600_000)
  return `${pad(h)}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`
}

/** Reads SRT. Indices are kept as written and must be positive whole numbers; SRT has no speakers. */
export const parseSrt = Effect.fnUntraced(function* (text: string): Effect.fn.Return<Transcript, TranscriptParseError> {
  const { blocks, fail } = read("srt", text)
  const cues: Array<Cue> = []
  for (const { at, lines } of blocks) {
    const written = lines[0]?.trim() ?? ""
    const index = Number(written)
    if (!/^\d+$/.test(written) || !Number.isSafeInteger(index) || index < 1) {
      return yield* fail(at, "a cue number (a positive whole number)")
    }
    const time = timing("srt", lines[1])
    if (time === undefined) return yield* fail(at + 1, timingExpected.srt)
    if (time.end < time.start) return yield* fail(at + 1, "an end time at or after the start time")
    if (lines.length < 3) return yield* fail(at + 2, "the cue's text")
    cues.push(new Cue({ index, start: time.start, end: time.end, text: lines.slice(2).join("\n") }))
  }
  return new Transcript({ cues })
})

/** Writes canonical SRT. Speakers have no place in SRT and are dropped. */
export const printSrt = (transcript: Transcript): string =>
  transcript.cues
    .map((c) => `${c.index}\n${printClock(c.start, ",")} --> ${printClock(c.end, ",")}\n${c.text}\n\n`)
    .join("")

const voice = /^<v(?:\.[^\s.>]+)*[ \t]+([^\s>](?:[^>\n]*[^\s>])?)>/
// A closing `</v>` at the end of the text, and the whitespace before it, trimmed without a regular
// expression: `/\s*<\/v>$/` retries from every space of a run and takes quadratic time on a long one.
const withoutClosingVoice = (text: string): string => (text.endsWith("</v>") ? text.slice(0, -4).trimEnd() : text)

const unescapeMarkup = (s: string): string =>
  s.replace(/&(amp|lt|gt);/g, (_, name: string) => (name === "amp" ? "&" : name === "lt" ? "<" : ">"))

// WebVTT text is markup: `&` must be escaped, and text that would read as a voice span is escaped so that
// it stays text. Other tags (`<i>`, `<b>`) are kept as written.
const escapeText = (text: string): string =>
  text.replace(/&|^<v|<\/v>$/g, (m) => (m === "&" ? "&amp;" : `&lt;${m.slice(1)}`))
const escapeSpeaker = (speaker: string): string => speaker.replace(/&/g, "&amp;").replace(/>/g, "&gt;")

/**
 * Reads WebVTT. Header text, cue identifiers, cue settings and NOTE/STYLE/REGION blocks are skipped; cues
 * are numbered 1…n; a leading `<v Name>` voice tag becomes the cue's speaker.
 */
export const parseVtt = Effect.fnUntraced(function* (text: string): Effect.fn.Return<Transcript, TranscriptParseError> {
  const { lines: all, blocks, fail } = read("vtt", text)
  const header = blocks[0]
  if (header === undefined || header.at !== 0 || !/^WEBVTT(?:[ \t]|$)/.test(all[0] ?? "")) {
    return yield* fail(0, `"WEBVTT" on the first line`)
  }
  const stray = header.lines.findIndex((line) => line.includes("-->"))
  if (stray !== -1) return yield* fail(stray, "a blank line between the WEBVTT header and the first cue")
  const cues: Array<Cue> = []
  for (const { at, lines } of blocks.slice(1)) {
    if (/^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/.test(lines[0] ?? "")) continue
    const t = lines[0]?.includes("-->") ? 0 : 1 // otherwise the first line is the cue's identifier
    const time = timing("vtt", lines[t])
    if (time === undefined) return yield* fail(at + t, timingExpected.vtt)
    if (time.end < time.start) return yield* fail(at + t, "an end time at or after the start time")
    const raw = lines.slice(t + 1).join("\n")
    const v = voice.exec(raw)
    // After a voice tag the text may start on the next line, and may close the span with `</v>`.
    const body = v === null ? raw : withoutClosingVoice(raw.slice(v[0].length).trimStart())
    if (body === "") return yield* fail(at + t + 1, "the cue's text")
    const cue = { index: cues.length + 1, start: time.start, end: time.end, text: unescapeMarkup(body) }
    cues.push(new Cue(v?.[1] === undefined ? cue : { ...cue, speaker: unescapeMarkup(v[1]) }))
  }
  return new Transcript({ cues })
})

/** Writes canonical WebVTT: no identifiers or settings, speakers as `<v Name>` voice tags. */
export const printVtt = (transcript: Transcript): string =>
  "WEBVTT\n\n" +
  transcript.cues
    .map((c) => {
      const speaker = c.speaker === undefined ? "" : `<v ${escapeSpeaker(c.speaker)}>`
      return `${printClock(c.start, ".")} --> ${printClock(c.end, ".")}\n${speaker}${escapeText(c.text)}\n\n`
    })
    .join("")

/** The format of a subtitle file by its extension, if it is one. */
export const formatOf = (fileName: string): Option.Option<Format> => {
  const name = fileName.toLowerCase()
  return name.endsWith(".srt") ? Option.some("srt") : name.endsWith(".vtt") ? Option.some("vtt") : Option.none()
}

/** Reads either format; without `format`, a leading `WEBVTT` means WebVTT and anything else SRT. */
export const parse = (text: string, format?: Format): Effect.Effect<Transcript, TranscriptParseError> =>
  (format ?? (/^\uFEFF?WEBVTT/.test(text) ? "vtt" : "srt")) === "vtt" ? parseVtt(text) : parseSrt(text)

/** Writes a transcript in the given format. */
export const print = (transcript: Transcript, format: Format): string =>
  format === "vtt" ? printVtt(transcript) : printSrt(transcript)
