/**
 * Transcripts: the editable subtitles of a job awaiting review. Vendors exchange them as SRT
 * (HeyGen's proofreads) or WebVTT; both parse into the same cues and print canonically, so
 * `parse(print(t))` gives back `t`. Malformed input fails with the line number and what was
 * expected, never with a half-read transcript.
 */
import { Effect, Option, Schema } from "effect"

/** One subtitle: its position, when it shows (milliseconds), its text, and who speaks it. */
export class Cue extends Schema.Class<Cue>("@polydub/core/Cue")({
  index: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  start: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  end: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  text: Schema.String,
  speaker: Schema.optionalKey(Schema.String)
}) {}

export class Transcript extends Schema.Class<Transcript>("@polydub/core/Transcript")({
  cues: Schema.Array(Cue)
}) {}

export type Format = "srt" | "vtt"

/** Input that is not valid SRT or WebVTT. */
export class TranscriptParseError extends Schema.TaggedError<TranscriptParseError>()("TranscriptParseError", {
  format: Schema.Literals(["srt", "vtt"]),
  line: Schema.Int,
  expected: Schema.String,
  found: Schema.String
}) {
  override get message(): string {
    const found = this.found.length > 80 ? `${this.found.slice(0, 77)}...` : this.found
    return `${this.format.toUpperCase()} line ${this.line}: expected ${this.expected}, found ${JSON.stringify(found)}`
  }
}

const timestamp = /^(?:(\d{1,3}):)?(\d{2}):(\d{2})[,.](\d{3})$/

const parseTime = (s: string, requireHours: boolean): number | undefined => {
  const m = timestamp.exec(s.trim())
  if (m === null || (requireHours && m[1] === undefined)) return undefined
  const [h, min, sec, millis] = [Number(m[1] ?? 0), Number(m[2]), Number(m[3]), Number(m[4])]
  if (min > 59 || sec > 59) return undefined
  return ((h * 60 + min) * 60 + sec) * 1000 + millis
}

const printTime = (ms: number, separator: "," | "."): string => {
  const h = Math.floor(ms / 3_600_000)
  const m = Math.floor((ms % 3_600_000) / 60_000)
  const s = Math.floor((ms % 60_000) / 1000)
  const pad = (n: number, w = 2) => String(n).padStart(w, "0")
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`
}

const lines = (text: string): Array<string> =>
  text
    .replace(/^\uFEFF/, "")
    .split(/\r\n|\r|\n/)
    .map((l) => l.replace(/[ \t]+$/, ""))

const timingLine = (format: Format, line: string) => {
  const arrow = line.indexOf("-->")
  if (arrow === -1) return undefined
  const start = parseTime(line.slice(0, arrow), format === "srt")
  // WebVTT allows cue settings after the end time; they do not survive a round trip.
  const endPart =
    line
      .slice(arrow + 3)
      .trim()
      .split(/[ \t]+/)[0] ?? ""
  const end = parseTime(endPart, format === "srt")
  if (start === undefined || end === undefined) return undefined
  return { start, end }
}

const timingExample: Record<Format, string> = {
  srt: `a timing line like "00:00:01,000 --> 00:00:02,500"`,
  vtt: `a timing line like "00:00:01.000 --> 00:00:02.500"`
}

/** Reads SRT. Indices are kept as written; they must be positive whole numbers. */
export const parseSrt = Effect.fnUntraced(function* (text: string) {
  const all = lines(text)
  const cues: Array<Cue> = []
  const fail = (line: number, expected: string) =>
    new TranscriptParseError({ format: "srt", line: line + 1, expected, found: all[line] ?? "end of input" })
  let i = 0
  while (i < all.length) {
    if (all[i]!.trim() === "") {
      i++
      continue
    }
    const indexLine = all[i]!.trim()
    if (!/^\d{1,9}$/.test(indexLine) || Number(indexLine) < 1) return yield* fail(i, "a cue number (1, 2, 3…)")
    const timing = i + 1 < all.length ? timingLine("srt", all[i + 1]!) : undefined
    if (timing === undefined) return yield* fail(i + 1, timingExample.srt)
    if (timing.end < timing.start) return yield* fail(i + 1, "an end time not before the start time")
    let j = i + 2
    const body: Array<string> = []
    while (j < all.length && all[j]!.trim() !== "") body.push(all[j++]!)
    if (body.length === 0) return yield* fail(i + 2, "the cue's text")
    cues.push(new Cue({ index: Number(indexLine), start: timing.start, end: timing.end, text: body.join("\n") }))
    i = j
  }
  return new Transcript({ cues })
})

/** Writes canonical SRT. Speakers have no place in SRT and are dropped. */
export const printSrt = (transcript: Transcript): string =>
  transcript.cues
    .map((c) => `${c.index}\n${printTime(c.start, ",")} --> ${printTime(c.end, ",")}\n${c.text}\n`)
    .join("\n")

const voice = /^<v(?:\.[^\s>]+)*[ \t]+([^>]+)>/

/** Reads WebVTT. Cue identifiers, settings and NOTE/STYLE/REGION blocks are skipped; cues are numbered 1…n. */
export const parseVtt = Effect.fnUntraced(function* (text: string) {
  const all = lines(text)
  const fail = (line: number, expected: string) =>
    new TranscriptParseError({ format: "vtt", line: line + 1, expected, found: all[line] ?? "end of input" })
  if (!/^WEBVTT(?:$|[ \t])/.test(all[0] ?? "")) return yield* fail(0, `"WEBVTT" on the first line`)
  let i = 1
  while (i < all.length && all[i]!.trim() !== "") i++ // header lines
  const cues: Array<Cue> = []
  while (i < all.length) {
    if (all[i]!.trim() === "") {
      i++
      continue
    }
    if (/^(NOTE|STYLE|REGION)(?:$|[ \t])/.test(all[i]!)) {
      while (i < all.length && all[i]!.trim() !== "") i++
      continue
    }
    let t = i
    if (!all[i]!.includes("-->")) t = i + 1 // an identifier line
    const timing = t < all.length ? timingLine("vtt", all[t]!) : undefined
    if (timing === undefined) return yield* fail(t < all.length ? t : i, timingExample.vtt)
    if (timing.end < timing.start) return yield* fail(t, "an end time not before the start time")
    let j = t + 1
    const body: Array<string> = []
    while (j < all.length && all[j]!.trim() !== "") body.push(all[j++]!)
    if (body.length === 0) return yield* fail(t + 1, "the cue's text")
    let cueText = body.join("\n")
    const speaker = voice.exec(cueText)
    const fields = { index: cues.length + 1, start: timing.start, end: timing.end }
    if (speaker !== null) {
      cueText = cueText.slice(speaker[0].length)
      cues.push(new Cue({ ...fields, text: cueText, speaker: speaker[1]!.trim() }))
    } else {
      cues.push(new Cue({ ...fields, text: cueText }))
    }
    i = j
  }
  return new Transcript({ cues })
})

/** Writes canonical WebVTT, with speakers as `<v Name>` voice tags. */
export const printVtt = (transcript: Transcript): string =>
  "WEBVTT\n\n" +
  transcript.cues
    .map(
      (c) =>
        `${printTime(c.start, ".")} --> ${printTime(c.end, ".")}\n${c.speaker === undefined ? "" : `<v ${c.speaker}>`}${c.text}\n`
    )
    .join("\n")

/** The format of a file by its extension. */
export const formatOf = (fileName: string): Option.Option<Format> => {
  const ext = fileName.toLowerCase().split(".").pop()
  return ext === "srt" ? Option.some("srt") : ext === "vtt" ? Option.some("vtt") : Option.none()
}

/** Parses either format; without `format`, a leading `WEBVTT` means WebVTT, anything else SRT. */
export const parse = (text: string, format?: Format): Effect.Effect<Transcript, TranscriptParseError> =>
  (format ?? (/^\uFEFF?WEBVTT/.test(text) ? "vtt" : "srt")) === "vtt" ? parseVtt(text) : parseSrt(text)

/** Prints in the given format. */
export const print = (transcript: Transcript, format: Format): string =>
  format === "vtt" ? printVtt(transcript) : printSrt(transcript)
