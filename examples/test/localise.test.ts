// An application's own unit test: the flow in src/localise.ts on TestProvider, under TestClock,
// with no network and no vendor account. This is how polydub users are meant to test.
import { assert, describe, it } from "@effect/vitest"
import { JobRef, Transcript } from "@polydub/core"
import { TestProvider } from "@polydub/testing"
import { Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { applyGlossary, localise } from "../src/localise.js"

const glossary = new Map([["ACME Corp", "Acme"]])

describe("localise", () => {
  it.effect("reviews, applies the glossary, approves and returns one finished job per language", () =>
    Effect.gen(function* () {
      const control = yield* TestProvider.TestProvider
      const fiber = yield* Effect.forkChild(
        localise({ videoUrl: "https://media.example.com/q3.mp4", languages: ["es-MX", "fr-CA"], glossary })
      )
      yield* TestClock.adjust(Duration.minutes(10))
      const jobs = yield* Fiber.join(fiber)
      assert.deepStrictEqual(
        jobs.map((j) => [j.language, j.state._tag]),
        [
          ["es-MX", "Succeeded"],
          ["fr-CA", "Succeeded"]
        ]
      )
      const operations = (yield* control.calls).map((c) => c.operation)
      assert.strictEqual(operations.filter((o) => o === "approve").length, 2)
      assert.strictEqual(operations.filter((o) => o === "reviseTranscript").length, 0, "nothing matched the glossary")
    }).pipe(Effect.provide(TestProvider.layer({ preset: "heygen", id: "heygen" })))
  )

  it.effect("revises the transcript when the glossary matches", () =>
    Effect.gen(function* () {
      const control = yield* TestProvider.TestProvider
      const fiber = yield* Effect.forkChild(
        localise({
          videoUrl: "https://media.example.com/q3.mp4",
          languages: ["es"],
          glossary: new Map([
            ["quarterly update", "Q3 update"],
            ["Welcome", "Bienvenidos"]
          ])
        })
      )
      yield* TestClock.adjust(Duration.minutes(10))
      const [job] = yield* Fiber.join(fiber)
      assert.strictEqual(job!.state._tag, "Succeeded")
      const calls = yield* control.calls
      const revise = calls.find((c) => c.operation === "reviseTranscript")!
      const stored = yield* control.storedTranscript(yield* JobRef.parse(revise.refs[0]!))
      assert.include(stored!.cues[0]!.text, "Bienvenidos to the Q3 update.")
    }).pipe(Effect.provide(TestProvider.layer({ preset: "heygen", id: "heygen" })))
  )

  it.effect("fails with Unsupported on a provider without review, before anything is sent", () =>
    Effect.gen(function* () {
      const control = yield* TestProvider.TestProvider
      const error = yield* Effect.flip(
        localise({ videoUrl: "https://media.example.com/q3.mp4", languages: ["es"], glossary })
      )
      assert.strictEqual(error._tag, "Unsupported")
      assert.deepStrictEqual(yield* control.calls, [])
    }).pipe(Effect.provide(TestProvider.layer({ preset: "voicecheap", id: "voicecheap" })))
  )

  it("applyGlossary keeps cues it does not change", () => {
    const cue = new Transcript.Cue({ index: 1, start: 0, end: 1000, text: "Hola" })
    const { changed, transcript } = applyGlossary(new Transcript.Transcript({ cues: [cue] }), glossary)
    assert.strictEqual(changed, 0)
    assert.strictEqual(transcript.cues[0], cue)
  })
})
