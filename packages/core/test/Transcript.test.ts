import { assert, describe, it } from "@effect/vitest"
import * as Transcript from "@polydub/core/Transcript"
import { Effect, Option, Result } from "effect"
import * as fc from "fast-check"

const { Cue } = Transcript

// In the shape of a HeyGen proofread (`GET /v3/video-translations/proofreads/{id}/srt`, as in packages/provider-heygen/test/fixtures/):
// Spanish text with accents and inverted marks, a two-line cue, a number-only line, and italics.
const heygenProofread = `1
00:00:00,000 --> 00:00:02,480
Bienvenidos a la actualización trimestral.

2
00:00:02,480 --> 00:00:05,120
Este trimestre lanzamos
tres funciones nuevas.

3
00:00:05,120 --> 00:00:06,000
2025

4
00:00:06,000 --> 00:00:07,900
<i>¡Gracias por vernos!</i> ¿Preguntas?
`

const heygenCues = [
  new Cue({ index: 1, start: 0, end: 2480, text: "Bienvenidos a la actualización trimestral." }),
  new Cue({ index: 2, start: 2480, end: 5120, text: "Este trimestre lanzamos\ntres funciones nuevas." }),
  new Cue({ index: 3, start: 5120, end: 6000, text: "2025" }),
  new Cue({ index: 4, start: 6000, end: 7900, text: "<i>¡Gracias por vernos!</i> ¿Preguntas?" })
]

// What a YouTube or editor export looks like: header metadata, comments, styles, identifiers, settings, voices.
const messyVtt = `WEBVTT - exportado
Kind: captions
Language: es

NOTE Revisado por Ana
en dos pasadas

STYLE
::cue(v[voice="Ana"]) { color: yellow }

REGION
id:abajo

intro
00:00.000 --> 00:02.480 align:start position:10% region:abajo
<v.principal Ana>Bienvenidos a la actualización.</v>

2
00:00:02.480 --> 00:01:05.120 line:0
<v Dr. Pérez>Este trimestre
lanzamos &amp; probamos

NOTE una nota entre cues

01:00:00.000 --> 01:00:01.000
Sin voz: &lt;3 <b>ok</b>
`

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runSync(effect)

describe("Transcript parsing", () => {
  it.effect("reads a HeyGen proofread SRT", () =>
    Effect.gen(function* () {
      const t = yield* Transcript.parseSrt(heygenProofread)
      assert.deepStrictEqual(t, new Transcript.Transcript({ cues: heygenCues }))
    })
  )

  it.effect("reads the same SRT with a BOM, CRLF or CR line ends, trailing spaces and extra blank lines", () =>
    Effect.gen(function* () {
      const expected = new Transcript.Transcript({ cues: heygenCues })
      const crlf = "\uFEFF" + heygenProofread.replaceAll("\n", "\r\n")
      const cr = heygenProofread.replaceAll("\n", "\r")
      const loose = `\n\n${heygenProofread.replaceAll("\n\n", "  \n\n\t\n\n").replaceAll("\n", " \t\n")}\n\n\n`
      assert.deepStrictEqual(yield* Transcript.parseSrt(crlf), expected)
      assert.deepStrictEqual(yield* Transcript.parseSrt(cr), expected)
      assert.deepStrictEqual(yield* Transcript.parseSrt(loose), expected)
    })
  )

  it.effect("accepts '.' as the SRT millisecond separator and keeps indices as written", () =>
    Effect.gen(function* () {
      const t = yield* Transcript.parseSrt(
        "7\n00:00:01.500 --> 00:00:02.000\nuno\n\n3\n00:00:02,000 --> 00:00:02,000\ndos"
      )
      assert.deepStrictEqual(
        t.cues.map((c) => [c.index, c.start, c.end, c.text]),
        [
          [7, 1500, 2000, "uno"],
          [3, 2000, 2000, "dos"]
        ]
      )
    })
  )

  it.effect("an empty SRT is an empty transcript, and so is a WebVTT with only its header", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual((yield* Transcript.parseSrt("")).cues, [])
      assert.deepStrictEqual((yield* Transcript.parseSrt("\uFEFF\r\n\r\n")).cues, [])
      assert.deepStrictEqual((yield* Transcript.parseVtt("WEBVTT\n")).cues, [])
    })
  )

  it.effect("reads WebVTT, skipping header text, NOTE/STYLE/REGION blocks, identifiers and settings", () =>
    Effect.gen(function* () {
      const t = yield* Transcript.parseVtt("\uFEFF" + messyVtt.replaceAll("\n", "\r\n"))
      assert.deepStrictEqual(
        t,
        new Transcript.Transcript({
          cues: [
            new Cue({ index: 1, start: 0, end: 2480, text: "Bienvenidos a la actualización.", speaker: "Ana" }),
            new Cue({
              index: 2,
              start: 2480,
              end: 65120,
              text: "Este trimestre\nlanzamos & probamos",
              speaker: "Dr. Pérez"
            }),
            new Cue({ index: 3, start: 3_600_000, end: 3_601_000, text: "Sin voz: <3 <b>ok</b>" })
          ]
        })
      )
    })
  )

  it("reads a timing line as the former single pattern did, settings and stray whitespace included (5,000 cases)", () => {
    // The regular expression the scan replaced, as the reference: on short lines it is fast.
    const former = /^(\S+?)[ \t]*-->[ \t]*(\S+)(?:[ \t].*)?$/
    const clock = (s: string) => {
      const m = /^(\d{1,5}):(\d{2}):(\d{2})[,.](\d{3})$/.exec(s)
      if (m === null || Number(m[2]) >= 60 || Number(m[3]) >= 60) return undefined
      return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4])
    }
    const piece = fc.constantFrom(..."01:,.->x \t\u000b\u00a0", "-->", "00:00:01,000", "00:00:02.500", "X1:40")
    const pieces = (maxLength: number) => fc.array(piece, { maxLength }).map((p) => p.join(""))
    const blank = fc.array(fc.constantFrom(" ", "\t", "\u000b", "\u00a0"), { maxLength: 3 }).map((b) => b.join(""))
    const clockLike = fc.oneof(
      fc.constantFrom("00:00:01,000", "00:00:02.500", "0:00:01.000", "00:00:61,000", "01:02:03,004", "00:01.000"),
      pieces(4)
    )
    const timingLike = fc
      .tuple(
        blank,
        clockLike,
        blank,
        fc.constantFrom("-->", "->", "-->-->", "--> -->"),
        blank,
        clockLike,
        blank,
        fc.constantFrom("", "X1:40", "x-->y", "align:start")
      )
      .map((parts) => parts.join(""))
    fc.assert(
      fc.property(fc.oneof(timingLike, pieces(12)), (line) => {
        const m = former.exec(line.trim())
        const start = m === null ? undefined : clock(m[1]!)
        const end = m === null ? undefined : clock(m[2]!)
        const read = Effect.runSync(Effect.result(Transcript.parseSrt(`1\n${line}\nhola\n`)))
        if (start === undefined || end === undefined) {
          assert.include(Result.getOrThrow(Result.flip(read)).expected, "a timing line", JSON.stringify(line))
        } else if (end < start) {
          assert.include(Result.getOrThrow(Result.flip(read)).expected, "an end time", JSON.stringify(line))
        } else {
          const cue = Result.getOrThrow(read).cues[0]!
          assert.deepStrictEqual([cue.start, cue.end], [start, end], JSON.stringify(line))
        }
      }),
      { numRuns: 5000 }
    )
  })

  it("detects the format from the content and from the file name", () => {
    assert.strictEqual(run(Transcript.parse(messyVtt)).cues.length, 3)
    assert.strictEqual(run(Transcript.parse("\uFEFF" + messyVtt)).cues.length, 3)
    assert.strictEqual(run(Transcript.parse(heygenProofread)).cues.length, 4)
    assert.strictEqual(run(Transcript.parse("")).cues.length, 0)
    assert.deepStrictEqual(Transcript.formatOf("video_es_proofread.SRT"), Option.some("srt"))
    assert.deepStrictEqual(Transcript.formatOf("subs/es.vtt"), Option.some("vtt"))
    assert.isTrue(Option.isNone(Transcript.formatOf("notes.txt")))
    assert.isTrue(Option.isNone(Transcript.formatOf("srt")))
  })
})

describe("Transcript printing", () => {
  it.effect("prints a messy file canonically", () =>
    Effect.gen(function* () {
      const t = yield* Transcript.parseSrt(
        "\uFEFF\r\n 12 \r\n0:00:01.500-->00:00:02,000 X1:40 X2:600\r\nhola  \r\n\r\n\r\n"
      )
      assert.strictEqual(Transcript.printSrt(t), "12\n00:00:01,500 --> 00:00:02,000\nhola\n\n")
      const v = yield* Transcript.parseVtt(messyVtt)
      assert.strictEqual(
        Transcript.printVtt(v),
        "WEBVTT\n\n" +
          "00:00:00.000 --> 00:00:02.480\n<v Ana>Bienvenidos a la actualización.\n\n" +
          "00:00:02.480 --> 00:01:05.120\n<v Dr. Pérez>Este trimestre\nlanzamos &amp; probamos\n\n" +
          "01:00:00.000 --> 01:00:01.000\nSin voz: <3 <b>ok</b>\n\n"
      )
      assert.strictEqual(
        Transcript.print(v, "srt"),
        "1\n00:00:00,000 --> 00:00:02,480\nBienvenidos a la actualización.\n\n" +
          "2\n00:00:02,480 --> 00:01:05,120\nEste trimestre\nlanzamos & probamos\n\n" +
          "3\n01:00:00,000 --> 01:00:01,000\nSin voz: <3 <b>ok</b>\n\n"
      )
      assert.strictEqual(Transcript.print(new Transcript.Transcript({ cues: [] }), "vtt"), "WEBVTT\n\n")
    })
  )

  it("a cue's text can never hold a blank line, and it never ends before it starts", () => {
    assert.throws(() => new Cue({ index: 1, start: 0, end: 1, text: "uno\n\ndos" }))
    assert.throws(() => new Cue({ index: 1, start: 0, end: 1, text: "" }))
    assert.throws(() => new Cue({ index: 1, start: 2, end: 1, text: "uno" }))
    assert.throws(() => new Cue({ index: 0, start: 0, end: 1, text: "uno" }))
  })
})

describe("Transcript errors", () => {
  const timing = "00:00:01,000 --> 00:00:02,000"
  const crlf = `1\r\n${timing}\r\nHola\r\n\r\n2\r\n00:00:03,000 -> 00:00:04,000\r\nAdiós\r\n`
  const cases: Array<[name: string, format: Transcript.Format, input: string, line: number, expected: string]> = [
    ["a missing index", "srt", `\uFEFF${timing}\nHola\n`, 1, "a cue number"],
    ["a missing index in a later block", "srt", `1\n${timing}\nHola\n\n\n${timing}\nAdiós\n`, 6, "a cue number"],
    ["an index that is not a whole number", "srt", `1.5\n${timing}\nHola\n`, 1, "a cue number"],
    ["index zero", "srt", `0\n${timing}\nHola\n`, 1, "a cue number"],
    ["an index and nothing else", "srt", "1", 2, "a timing line"],
    ["a bad arrow, counting CRLF as one line end", "srt", crlf, 6, "a timing line"],
    ["seconds out of range", "srt", "1\n00:00:61,000 --> 00:01:02,000\nHola\n", 2, "a timing line"],
    ["a timing without milliseconds", "srt", "1\n00:00:01 --> 00:00:02\nHola\n", 2, "a timing line"],
    ["milliseconds without three digits", "srt", "1\n00:00:01,5 --> 00:00:02,000\nHola\n", 2, "a timing line"],
    ["an end before the start", "srt", "1\n00:00:03,000 --> 00:00:02,999\nHola\n", 2, "an end time at or after"],
    ["a block with no text", "srt", `1\n${timing}\n\n2\n${timing}\nHola\n`, 3, "the cue's text"],
    ["a last block with no text", "srt", `1\n${timing}`, 3, "the cue's text"],
    ["an empty file", "vtt", "", 1, `"WEBVTT"`],
    ["a garbage header", "vtt", "WEBVTTX\n\n00:01.000 --> 00:02.000\nHola\n", 1, `"WEBVTT"`],
    ["a blank line before the header", "vtt", "\nWEBVTT\n", 1, `"WEBVTT"`],
    ["an SRT given as WebVTT", "vtt", heygenProofread, 1, `"WEBVTT"`],
    ["a cue inside the header", "vtt", "WEBVTT\n00:01.000 --> 00:02.000\nHola\n", 2, "a blank line"],
    ["an identifier followed by garbage", "vtt", "WEBVTT\n\nintro\nnot a timing\nHola\n", 4, "a timing line"],
    ["an SRT timing in WebVTT", "vtt", `WEBVTT\n\n${timing}\nHola\n`, 3, "a timing line"],
    ["a WebVTT end before the start", "vtt", "WEBVTT\n\n00:05.000 --> 00:01.000\nHola\n", 3, "an end time at or after"],
    ["a WebVTT cue with no text", "vtt", "WEBVTT\n\nNOTE x\n\n00:01.000 --> 00:02.000\n\n", 6, "the cue's text"],
    ["a voice tag with no text", "vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Ana></v>\n", 4, "the cue's text"]
  ]
  for (const [name, format, input, line, expected] of cases) {
    it.effect(`fails on ${name} at line ${line}`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Transcript.parse(input, format))
        assert.strictEqual(error._tag, "TranscriptParseError")
        assert.strictEqual(error.format, format)
        assert.strictEqual(error.line, line)
        assert.include(error.expected, expected)
        assert.isTrue(error.message.startsWith(`${format.toUpperCase()} line ${line}: expected ${expected}`))
      })
    )
  }

  it.effect("says where, what was expected and what was found, clipped to 80 characters", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Transcript.parseSrt("1\r\nabc\r\nHola\r\n"))
      assert.strictEqual(
        error.message,
        `SRT line 2: expected a timing line "00:00:01,000 --> 00:00:02,000", found "abc"`
      )
      const long = yield* Effect.flip(Transcript.parseSrt(`1\n${"x".repeat(500)}\nHola\n`))
      assert.strictEqual(long.found.length, 80)
      assert.isTrue(long.message.endsWith(`found "${"x".repeat(79)}…"`))
      const eof = yield* Effect.flip(Transcript.parseSrt(`1\n${timing}`))
      assert.isTrue(eof.message.endsWith("expected the cue's text, found nothing"))
    })
  )
})

describe("Transcript round trips", () => {
  // Valid text lines: non-empty, trimmed, no "-->" (it would read as a timing line), no line breaks.
  const textLine = fc
    .oneof(
      fc.string({ unit: fc.constantFrom(..."abcñáéíóúü¿¡漢字😀 0123456789.,:;!?-'\"<>/&#[]♪\t"), maxLength: 40 }),
      fc.string({ unit: "grapheme", maxLength: 20 }),
      fc.integer().map(String),
      fc.constantFrom("<i>Hola</i>", "<b>¡Ya!</b>", "<v Ana>hola", "</v>", "&amp;", "&lt;3", "NOTE esto", "WEBVTT"),
      fc.constantFrom("00:00:01,000", "1", "2", "STYLE", "-- >", "<c.yellow>sí</c>", "a</v>", "<v.x Bob>")
    )
    .map((s) => s.trim())
    .filter((s) => s !== "" && !s.includes("-->") && !/[\r\n]/.test(s))
  const text = fc.array(textLine, { minLength: 1, maxLength: 4 }).map((lines) => lines.join("\n"))
  const hundredHours = 100 * 3_600_000
  const times = fc
    .oneof(
      fc.tuple(fc.nat({ max: hundredHours - 1 }), fc.nat({ max: hundredHours - 1 })),
      fc.nat({ max: hundredHours - 1 }).map((t) => [t, t] as const)
    )
    .map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) }))
  // Speakers: non-empty, trimmed, on one line.
  const speaker = fc.oneof(
    fc.constantFrom("Ana", "Dr. Pérez", "张伟", "María José"),
    fc
      .string({ unit: fc.constantFrom(..."abñé .&<>-_'0"), minLength: 1, maxLength: 12 })
      .map((s) => s.trim())
      .filter((s) => s !== "")
  )
  const srtTranscript = fc
    .array(fc.record({ index: fc.oneof(fc.integer({ min: 1, max: 9999 }), fc.maxSafeNat()), times, text }), {
      maxLength: 10
    })
    .map(
      (cues) =>
        new Transcript.Transcript({
          cues: cues.map(({ index, text, times }) => new Cue({ index: Math.max(1, index), ...times, text }))
        })
    )
  const vttTranscript = fc
    .array(fc.record({ times, text, speaker: fc.option(speaker, { nil: undefined }) }), { maxLength: 10 })
    .map(
      (cues) =>
        new Transcript.Transcript({
          cues: cues.map(({ speaker, text, times }, i) =>
            speaker === undefined
              ? new Cue({ index: i + 1, ...times, text })
              : new Cue({ index: i + 1, ...times, text, speaker })
          )
        })
    )

  it("parseSrt(printSrt(t)) is t (5,000 cases)", () => {
    fc.assert(
      fc.property(srtTranscript, (t) => {
        assert.deepStrictEqual(run(Transcript.parseSrt(Transcript.printSrt(t))), t)
      }),
      { numRuns: 5000 }
    )
  })

  it("parseVtt(printVtt(t)) is t (5,000 cases)", () => {
    fc.assert(
      fc.property(vttTranscript, (t) => {
        assert.deepStrictEqual(run(Transcript.parseVtt(Transcript.printVtt(t))), t)
      }),
      { numRuns: 5000 }
    )
  })

  // Files built from plausible and broken lines: reading never crashes, it gives a transcript or a typed
  // error, and whatever it reads prints to a file that reads back the same.
  it("reading arbitrary input gives a transcript or a typed error, and reprints stably (5,000 cases)", () => {
    const line = fc.oneof(
      fc.constantFrom("", " ", "WEBVTT", "NOTE", "1", "0", "-3", "<v Ana>", "</v>", "<v Ana></v>", "&amp;", "x"),
      fc.constantFrom("00:00:01,000 --> 00:00:02,000", "00:01.000 --> 00:02.000 align:start", "00:00:02.000-->1"),
      fc.string({ maxLength: 12 })
    )
    const head = fc.constantFrom<ReadonlyArray<string>>([], ["WEBVTT", ""], ["WEBVTT - x", "Kind: captions", ""])
    const file = fc.tuple(head, fc.array(line, { maxLength: 16 }), fc.constantFrom("\n", "\r\n", "\r"))
    fc.assert(
      fc.property(file, fc.constantFrom<Transcript.Format>("srt", "vtt"), ([head, lines, eol], format) => {
        const exit = Effect.runSyncExit(Effect.result(Transcript.parse([...head, ...lines].join(eol), format)))
        assert.isTrue(exit._tag === "Success", "parsing must not die")
        if (exit._tag !== "Success" || exit.value._tag === "Failure") return
        const t = exit.value.success
        assert.deepStrictEqual(run(Transcript.parse(Transcript.print(t, format), format)), t)
      }),
      { numRuns: 5000 }
    )
  })
})

describe("Transcript parsing time", () => {
  const timeOf = (text: string, format: Transcript.Format): number => {
    const started = performance.now()
    Effect.runSync(Effect.result(Transcript.parse(text, format)))
    return performance.now() - started
  }
  // How many times longer reading `large` takes than reading `small`: the fastest run of each, the two
  // read in turn so that a busy machine slows both alike, over at least 10 turns and 50 ms of `large`.
  // A run of `large` past 250 ms settles it at once, so a quadratic parser is not timed for minutes.
  const slowdown = (small: string, large: string, format: Transcript.Format) => {
    let fastSmall = Number.POSITIVE_INFINITY
    let fastLarge = Number.POSITIVE_INFINITY
    let spent = 0
    for (let turn = 1; turn <= 500; turn++) {
      fastSmall = Math.min(fastSmall, timeOf(small, format))
      const took = timeOf(large, format)
      fastLarge = Math.min(fastLarge, took)
      spent += took
      if (took > 250 || (turn >= 10 && spent >= 50)) break
    }
    return { small: fastSmall, large: fastLarge, ratio: fastLarge / Math.max(fastSmall, 0.001) }
  }
  const spaces = (n: number) => " ".repeat(n)
  const blanks = (n: number) => " \t\u00a0\u2003".repeat(n / 4)
  // Each file holds about `n` characters of hostile text on one line; `check` says what reading it gives.
  const shapes: Array<{
    name: string
    format: Transcript.Format
    file: (n: number) => string
    check: (result: Result.Result<Transcript.Transcript, Transcript.TranscriptParseError>, n: number) => void
  }> = [
    {
      name: "WebVTT: a voice tag, then a long run of spaces inside the text",
      format: "vtt",
      file: (n) => `WEBVTT\n\n00:01.000 --> 00:02.000\n<v Ana>a${spaces(n)}b\n`,
      check: (result, n) => {
        const cue = Result.getOrThrow(result).cues[0]!
        assert.strictEqual(cue.speaker, "Ana")
        assert.strictEqual(cue.text, `a${spaces(n)}b`)
      }
    },
    {
      name: "WebVTT: a voice tag, whitespace around the text and before </v>",
      format: "vtt",
      file: (n) => `WEBVTT\n\n00:01.000 --> 00:02.000\n<v Ana>${blanks(n / 2)}hola${blanks(n / 2)}</v>\n`,
      check: (result) => assert.strictEqual(Result.getOrThrow(result).cues[0]!.text, "hola")
    },
    {
      name: "WebVTT: an unclosed voice tag of many words",
      format: "vtt",
      file: (n) => `WEBVTT\n\n00:01.000 --> 00:02.000\n<v${" a".repeat(n / 2)}\n`,
      check: (result) => assert.isUndefined(Result.getOrThrow(result).cues[0]!.speaker)
    },
    {
      name: 'WebVTT: a timing line of repeated "-->" and a stray vertical tab',
      format: "vtt",
      file: (n) => `WEBVTT\n\n00:01.000${"-->0".repeat(n / 4)}\u000b x\nhola\n`,
      check: (result) => assert.strictEqual(Result.getOrThrow(Result.flip(result)).line, 3)
    },
    {
      name: "SRT: long runs of whitespace in the index, timing and text lines",
      format: "srt",
      file: (n) =>
        `${blanks(n / 4)}1${blanks(n / 4)}\n00:00:01,000${spaces(n / 8)}-->${"\t ".repeat(n / 16)}00:00:02,000${spaces(n / 8)}X1:40\n` +
        `a${blanks(n / 4)}b\n`,
      check: (result, n) => {
        const cue = Result.getOrThrow(result).cues[0]!
        assert.deepStrictEqual([cue.index, cue.start, cue.end, cue.text], [1, 1000, 2000, `a${blanks(n / 4)}b`])
      }
    },
    {
      name: 'SRT: a timing line of repeated "-->" and a stray vertical tab',
      format: "srt",
      file: (n) => `1\n0${"-->0".repeat(n / 4)}\u000b x\nhola\n`,
      check: (result) => assert.strictEqual(Result.getOrThrow(Result.flip(result)).line, 2)
    }
  ]

  // Reading 8× the input must take about 8× the time; a parser that backtracks over the run takes ~64×.
  // The small pair comes first so that a quadratic parser fails in seconds rather than minutes. Sizes stop
  // at 200 KB: past a few MB, memory effects on a busy machine bend the curve of any parser.
  for (const { check, file, format, name } of shapes) {
    it(`${name}: linear from 8 KB to 64 KB and from 25 KB to 200 KB`, () => {
      for (const n of [8_000, 25_000]) {
        const { large, ratio, small } = slowdown(file(n), file(8 * n), format)
        assert.isBelow(ratio, 30, `${n} chars: ${small.toFixed(2)} ms, ${8 * n} chars: ${large.toFixed(2)} ms`)
        check(Effect.runSync(Effect.result(Transcript.parse(file(8 * n), format))), 8 * n)
      }
    })
  }
})
