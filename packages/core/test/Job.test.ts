import { assert, describe, it } from "@effect/vitest"
import {
  Artifact,
  isResting,
  isTerminal,
  Job,
  JobId,
  JobJson,
  JobRef,
  JobRefFromString,
  JobState,
  mapStatus,
  Outputs,
  State
} from "@polydub/core"
import { DateTime, Effect, Exit, Option, Schema } from "effect"
import * as fc from "fast-check"

describe("JobRef", () => {
  it.effect("prints and parses provider:kind:id", () =>
    Effect.gen(function* () {
      const ref = new JobRef({ provider: "heygen", kind: "review", id: "9o5488ebd42r4b23b3294dc78324ebaa-ur-ur-PK" })
      assert.strictEqual(String(ref), "heygen:review:9o5488ebd42r4b23b3294dc78324ebaa-ur-ur-PK")
      const back = yield* JobRef.parse(String(ref))
      assert.deepStrictEqual(back, ref)
    })
  )

  it.effect("keeps colons inside the id", () =>
    Effect.gen(function* () {
      const ref = yield* JobRef.parse("voicecheap:translation:a:b:c")
      assert.strictEqual(ref.id, "a:b:c")
    })
  )

  it.effect.each([
    "",
    "heygen",
    "heygen:video:abc",
    "HeyGen:translation:abc",
    "heygen:translation:",
    "heygen:review:a\nb"
  ])("refuses %j with a typed error", (input) =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(JobRef.parse(input))
      assert.strictEqual(error._tag, "JobRefParseError")
      assert.include(error.message, "provider[@version]:kind[/language]:id")
    })
  )

  it("round-trips every reference through its string form (property)", () => {
    const arb = fc.record(
      {
        provider: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
        kind: fc.constantFrom("translation" as const, "review" as const),
        id: fc.string({ minLength: 1, maxLength: 60 }).filter(Schema.is(JobId)),
        language: fc.constantFrom("es", "pt-BR", "zh-Hans", "ur-ur-PK", "fil"),
        apiVersion: fc.constantFrom("v2", "v3", "2026-08", "v1.5")
      },
      { requiredKeys: ["provider", "kind", "id"] }
    )
    fc.assert(
      fc.property(arb, (fields) => {
        const ref = new JobRef(fields)
        const back = Effect.runSync(JobRef.parse(String(ref)))
        return (
          back.provider === ref.provider &&
          back.kind === ref.kind &&
          back.id === ref.id &&
          back.language === ref.language &&
          back.apiVersion === ref.apiVersion
        )
      }),
      { numRuns: 2000 }
    )
  })

  it.effect("carries the language and the API version before the id, where no id can be cut", () =>
    Effect.gen(function* () {
      const ref = new JobRef({ provider: "heygen", kind: "review", id: "a:b/c@d#es", language: "es", apiVersion: "v3" })
      assert.strictEqual(String(ref), "heygen@v3:review/es:a:b/c@d#es")
      const back = yield* JobRef.parse(String(ref))
      assert.deepStrictEqual(back, ref)
      const plain = yield* JobRef.parse("heygen:review:abc123-es")
      assert.isUndefined(plain.language)
      assert.isUndefined(plain.apiVersion)
      assert.strictEqual(plain.id, "abc123-es")
      // An id that looks like the new suffixes stays an id in the old form.
      const old = yield* JobRef.parse("heygen:translation:x/es:y")
      assert.strictEqual(old.id, "x/es:y")
      assert.isUndefined(old.language)
      // A language or a version that is not one is refused, not folded into the id.
      assert.isTrue(Option.isNone(JobRef.parseOption("heygen:review/e s:abc")))
      assert.isTrue(Option.isNone(JobRef.parseOption("heygen@:review:abc")))
      assert.isTrue(Option.isNone(JobRef.parseOption("heygen@V3:review:abc")))
    })
  )

  it("refuses at construction an id it could not parse back: line breaks, control characters, spaces at the ends", () => {
    for (const id of ["a\nb", "a\rb", "abc\u2028", "a\u0000b", "\tabc", "abc ", "", "x".repeat(513)]) {
      assert.throws(
        () => new JobRef({ provider: "heygen", kind: "translation", id }),
        undefined,
        undefined,
        JSON.stringify(id)
      )
      assert.isTrue(Option.isNone(JobRef.makeOption({ provider: "heygen", kind: "translation", id })))
    }
    assert.strictEqual(new JobRef({ provider: "heygen", kind: "translation", id: "a:b c" }).id, "a:b c")
  })

  it("every reference that can be built prints as a string that parses back to it (property)", () => {
    // The other half of the property above: whatever the id, either the constructor refuses it or
    // the printed form reads back. A reference that prints but does not parse would make a saved
    // store unreadable.
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (id) => {
        const ref = JobRef.makeOption({ provider: "voicecheap", kind: "translation", id })
        if (Option.isNone(ref)) return true
        const back = Effect.runSync(JobRef.parse(String(ref.value)))
        return back.id === id
      }),
      { numRuns: 2000 }
    )
  })

  it("encodes as a string in schemas", () => {
    const ref = Schema.decodeUnknownSync(JobRefFromString)("heygen:translation:10c0808c39d847c2b1412af252ce50b5-es")
    assert.strictEqual(ref.id, "10c0808c39d847c2b1412af252ce50b5-es")
    assert.strictEqual(
      Schema.encodeSync(JobRefFromString)(ref),
      "heygen:translation:10c0808c39d847c2b1412af252ce50b5-es"
    )
    assert.isTrue(Exit.isFailure(Schema.decodeUnknownExit(JobRefFromString)("nope")))
  })
})

describe("JobState", () => {
  it("decodes each tag and refuses out-of-range progress", () => {
    const decode = Schema.decodeUnknownSync(JobState)
    assert.deepStrictEqual(decode({ _tag: "Running", progress: 0.5, step: "dubbing" }), {
      _tag: "Running",
      progress: 0.5,
      step: "dubbing"
    })
    assert.throws(() => decode({ _tag: "Running", progress: 1.5 }))
    assert.throws(() => decode({ _tag: "Done" }))
  })

  it("classifies resting and terminal states", () => {
    assert.isTrue(isResting(State.awaitingReview()))
    assert.isFalse(isTerminal(State.awaitingReview()))
    assert.isTrue(isTerminal(State.failed({ code: "x", message: "y" })))
    assert.isFalse(isResting(State.running({ progress: 0.2 })))
    assert.deepStrictEqual(State.running({ progress: 7 }), { _tag: "Running", progress: 1 })
  })

  it.effect("maps an unknown vendor status word to Running with the word as step, logging a warning", () =>
    Effect.gen(function* () {
      const table = { pending: State.queued(), completed: State.awaitingReview() }
      assert.deepStrictEqual(yield* mapStatus("heygen", table, "pending"), { _tag: "Queued" })
      const logs: Array<string> = []
      const unknown = yield* mapStatus("heygen", table, "archiving").pipe(
        Effect.withLogger({ log: (o: { message: unknown }) => void logs.push(String(o.message)) } as never)
      )
      assert.deepStrictEqual(unknown, { _tag: "Running", step: "archiving" })
      // `toString` of an inherited property is not a status word.
      assert.deepStrictEqual(yield* mapStatus("heygen", table, "toString"), { _tag: "Running", step: "toString" })
    })
  )
})

describe("Job", () => {
  it("encodes to JSON with the ref as a string and the state with _tag", () => {
    const job = new Job({
      ref: new JobRef({ provider: "heygen", kind: "translation", id: "abc-es" }),
      language: "es",
      state: State.succeeded(
        new Outputs({
          video: new Artifact({
            url: "https://resource2.heygen.ai/v.mp4",
            expiresAt: DateTime.makeUnsafe("2026-12-01T00:00:00Z"),
            mediaType: "video/mp4"
          })
        })
      ),
      providerStatus: "completed",
      observedAt: DateTime.makeUnsafe("2026-11-23T10:00:00Z")
    })
    const json = Schema.encodeSync(JobJson)(job) as any
    assert.strictEqual(json.ref, "heygen:translation:abc-es")
    assert.strictEqual(json.state._tag, "Succeeded")
    assert.strictEqual(json.state.outputs.video.expiresAt, "2026-12-01T00:00:00.000Z")
    const back = Schema.decodeUnknownSync(JobJson)(JSON.parse(JSON.stringify(json)))
    assert.strictEqual(String(back.ref), "heygen:translation:abc-es")
  })
})
