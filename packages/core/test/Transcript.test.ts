import { assert, describe, it } from "@effect/vitest"
import { Transcript } from "@polydub/core"
import { Effect, Option } from "effect"
import * as fc from "fast-check"

// A proofread SRT in the shape HeyGen serves from `GET /v3/video-translations/proofreads/{id}/srt`
// (reference heygen.md §2: `<title>_proofread.srt`), with Spanish text, CRLF line ends and a BOM.
const heygenProofread =
  "\uFEFF1\r\n00:00:00,000 --> 00:00:02,480\r\nBienvenidos a la actualización trimestral.\r\n\r\n" +
  "2\r\n00:00:02,480 --> 00:00:05,120\r\nEste trimestre lanzamos\r\ntres funciones nuevas.\r\n\r\n" +
  "3\r\n00:00:05,120 --> 00:00:07,900\r\n¡Gracias por vernos!\r\n"

const vtt = `WEBVTT - exported

NOTE This file has a note
that spans lines

STYLE
::cue { color: yellow }

intro
00:00.000 --> 00:02.480 align:start position:10%
<v Ana>Bienvenidos a la actualización.

00:00:02.480 --> 00:01:05.120
Sin identificador
y dos líneas
`

const parseSync = (text: string, format?: Transcript.Format) => Effect.runSync(Transcript.parse(text, format))

describe("Transcript", () => {
  it.effect("parses a vendor SRT with BOM, CRLF and multi-line cues", () =>
    Effect.gen(function* () {
      const t = yield* Transcript.parseSrt(heygenProofread)
      assert.strictEqual(t.cues.length, 3)
      assert.deepStrictEqual(
        t.cues[1],
        new Transcript.Cue({
          index: 2,
          start: 2480,
          end: 5120,
          text: "Este trimestre lanzamos\ntres funciones nuevas."
        })
      )
      assert.strictEqual(t.cues[2]!.text, "¡Gracias por vernos!")
    })
  )

  it.effect("prints canonical SRT", () =>
    Effect.gen(function* () {
      const t = yield* Transcript.parseSrt(`\n\n1\n00:00:01.5 --> 00:00:02,000\nx\n`.replace("01.5", "01.500"))
      assert.strictEqual(Transcript.printSrt(t), "1\n00:00:01,500 --> 00:00:02,000\nx\n")
    })
  )

  it.effect(
    "parses WebVTT: header text, NOTE and STYLE blocks, identifiers, settings, voice tags, short timestamps",
    () =>
      Effect.gen(function* () {
        const t = yield* Transcript.parseVtt(vtt)
        assert.deepStrictEqual(
          t.cues.map((c) => [c.index, c.start, c.end, c.text, c.speaker]),
          [
            [1, 0, 2480, "Bienvenidos a la actualización.", "Ana"],
            [2, 2480, 65120, "Sin identificador\ny dos líneas", undefined]
          ]
        )
        assert.strictEqual(
          Transcript.printVtt(t),
          "WEBVTT\n\n00:00:00.000 --> 00:00:02.480\n<v Ana>Bienvenidos a la actualización.\n\n" +
            "00:00:02.480 --> 00:01:05.120\nSin identificador\ny dos líneas\n"
        )
      })
  )

  it("detects the format", () => {
    assert.strictEqual(parseSync(vtt).cues.length, 2)
    assert.strictEqual(parseSync(heygenProofread).cues.length, 3)
    assert.deepStrictEqual(Transcript.formatOf("es.proofread.SRT"), Option.some("srt"))
    assert.deepStrictEqual(Transcript.formatOf("x.vtt"), Option.some("vtt"))
    assert.isTrue(Option.isNone(Transcript.formatOf("x.txt")))
    assert.strictEqual(parseSync("").cues.length, 0)
  })

  const malformed: Array<[string, Transcript.Format, string, number, string]> = [
    ["missing index", "srt", "00:00:01,000 --> 00:00:02,000\nhola\n", 1, "a cue number"],
    ["bad timing", "srt", "1\n00:00:01,000 -> 00:00:02,000\nhola\n", 2, "a timing line"],
    ["minutes out of range", "srt", "1\n00:61:01,000 --> 00:62:02,000\nhola\n", 2, "a timing line"],
    ["end before start", "srt", "1\n00:00:03,000 --> 00:00:02,000\nhola\n", 2, "an end time not before"],
    [
      "cue without text",
      "srt",
      "1\n00:00:01,000 --> 00:00:02,000\nhola\n\n2\n00:00:02,000 --> 00:00:03,000\n",
      7,
      "the cue's text"
    ],
    ["index zero", "srt", "0\n00:00:01,000 --> 00:00:02,000\nhola\n", 1, "a cue number"],
    ["missing header", "vtt", "00:00.000 --> 00:01.000\nhola\n", 1, `"WEBVTT"`],
    ["identifier then garbage", "vtt", "WEBVTT\n\nintro\nnot a timing\nhola\n", 4, "a timing line"],
    ["vtt end before start", "vtt", "WEBVTT\n\n00:05.000 --> 00:01.000\nhola\n", 3, "an end time not before"]
  ]
  for (const [name, format, text, line, expected] of malformed) {
    it.effect(`fails on ${name} with the line number`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Transcript.parse(text, format))
        assert.strictEqual(error._tag, "TranscriptParseError")
        assert.strictEqual(error.format, format)
        assert.strictEqual(error.line, line)
        assert.include(error.expected, expected)
        assert.include(error.message, `line ${line}`)
      })
    )
  }

  // Valid transcripts: positive indices, 0 ≤ start ≤ end < 100 h, each text line non-empty, trimmed,
  // without "-->" (which would read as a timing line).
  const textLine = fc
    .string({ unit: fc.constantFrom(..."abcñé漢字 0123456789.,!?¡¿-<>/i\"'♪"), minLength: 1, maxLength: 30 })
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && !s.includes("-->"))
  const text = fc.array(textLine, { minLength: 1, maxLength: 3 }).map((ls) => ls.join("\n"))
  const times = fc
    .tuple(fc.integer({ min: 0, max: 359_999_999 }), fc.integer({ min: 0, max: 359_999_999 }))
    .map(([a, b]): readonly [number, number] => (a <= b ? [a, b] : [b, a]))
  const srtCue = fc.record({ index: fc.integer({ min: 1, max: 99999 }), times, text })
  const vttCue = fc.record({
    times,
    text,
    speaker: fc.option(fc.constantFrom("Ana", "Dr. Smith", "张伟"), { nil: undefined })
  })

  it("parseSrt ∘ printSrt is the identity (5,000 cases)", () => {
    fc.assert(
      fc.property(fc.array(srtCue, { maxLength: 12 }), (raw) => {
        const t = new Transcript.Transcript({
          cues: raw.map((c) => new Transcript.Cue({ index: c.index, start: c.times[0], end: c.times[1], text: c.text }))
        })
        assert.deepStrictEqual(Effect.runSync(Transcript.parseSrt(Transcript.printSrt(t))), t)
      }),
      { numRuns: 5000 }
    )
  })

  it("parseVtt ∘ printVtt is the identity (5,000 cases)", () => {
    fc.assert(
      fc.property(fc.array(vttCue, { maxLength: 12 }), (raw) => {
        const t = new Transcript.Transcript({
          cues: raw.map(
            (c, i) =>
              new Transcript.Cue({
                index: i + 1,
                start: c.times[0],
                end: c.times[1],
                text: c.text,
                ...(c.speaker === undefined ? {} : { speaker: c.speaker })
              })
          )
        })
        assert.deepStrictEqual(Effect.runSync(Transcript.parseVtt(Transcript.printVtt(t))), t)
      }),
      { numRuns: 5000 }
    )
  })

  it("never throws on arbitrary input: a transcript or a typed error (5,000 cases)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.constantFrom<Transcript.Format>("srt", "vtt"), (input, format) => {
        const exit = Effect.runSyncExit(Transcript.parse(input, format))
        if (exit._tag === "Failure") {
          const error = Effect.runSync(Effect.flip(Transcript.parse(input, format)))
          assert.strictEqual(error._tag, "TranscriptParseError")
        }
      }),
      { numRuns: 5000 }
    )
  })
})
