// Fuzzing with fast-check: ElevenLabs' wire decoders, state mapping and error mapping must turn any
// input — arbitrary JSON, mutated verbatim fixtures, random text — into a value or a typed error,
// never a thrown exception or a defect. Case counts are printed.

import { assert, describe, it } from "@effect/vitest"
import { isTranslationError, ProviderHttp } from "@polydub/core"
import { ElevenLabs, ElevenLabsClient, ElevenLabsWire as Wire } from "@polydub/provider-elevenlabs"
import * as Fuzz from "@polydub/testing/Fuzz"
import { Effect, Exit, Option, Schema } from "effect"
import * as fc from "fast-check"

const runs = Number(process.env.POLYDUB_FUZZ_RUNS ?? 1500)
let total = 0
const count = (n: number) => {
  total += n
  return n
}

const mutated = Fuzz.mutatedFixtures(Fuzz.loadFixtures(new URL("./fixtures/", import.meta.url)))

const context = { provider: "elevenlabs", operation: "fuzz" }

const schemas = [
  Wire.DubbingMetadata,
  Wire.ListDubsResponse,
  Wire.CreateDubbingResponse,
  Wire.TranscriptResponse,
  Wire.Project,
  Wire.ProjectLanguage,
  Wire.ProjectTranscript,
  Wire.RegenerateResponse,
  Wire.ErrorEnvelope
] as const

const resting = ["Queued", "Running", "AwaitingReview", "Succeeded", "Failed"]

const check = (input: unknown) => {
  const text = typeof input === "string" ? input : (JSON.stringify(input) ?? "null")
  for (const schema of schemas) {
    const exit = Effect.runSyncExit(ProviderHttp.decodeJsonText(schema as any, text, context))
    if (Exit.isFailure(exit)) {
      const error = Effect.runSync(Effect.flip(ProviderHttp.decodeJsonText(schema as any, text, context)))
      assert.strictEqual(error._tag, "UnexpectedResponse")
      continue
    }
    // Whatever decodes maps to a unified state without failing.
    if (schema === Wire.DubbingMetadata) {
      assert.include(resting, Effect.runSync(ElevenLabs.dubState(exit.value as Wire.DubbingMetadata))._tag)
    } else if (schema === Wire.Project) {
      assert.include(resting, Effect.runSync(ElevenLabs.projectState(exit.value as Wire.Project))._tag)
    } else if (schema === Wire.ProjectLanguage) {
      const state = Effect.runSync(ElevenLabs.languageState(exit.value as Wire.ProjectLanguage, 0))
      assert.include(resting, state._tag)
    } else if (schema === Wire.ErrorEnvelope) {
      Wire.errorFields(exit.value as Wire.ErrorEnvelope)
    }
  }
  // Timestamps: any text is a date or none, never a throw.
  if (typeof input === "string") Wire.timestampMillis(input)
}

describe("fuzz: ElevenLabs", () => {
  it("wire decoders and state mapping: arbitrary JSON, mutated fixtures and raw text", () => {
    fc.assert(fc.property(fc.jsonValue(), check), { numRuns: count(runs) })
    fc.assert(fc.property(mutated, check), { numRuns: count(runs) })
    fc.assert(fc.property(fc.string(), check), { numRuns: count(runs) })
  })

  it("error mapping turns any status and body into a TranslationError", () => {
    const envelope = Schema.decodeUnknownOption(Wire.ErrorEnvelope)
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.oneof(fc.jsonValue(), mutated), (status, body) => {
        const error = ElevenLabsClient.mapError("fuzz", status, Option.getOrUndefined(envelope(body)), Option.none())
        assert.isTrue(isTranslationError(error))
      }),
      { numRuns: count(runs) }
    )
  })

  it("prints the number of cases run", () => {
    console.log(`fuzz elevenlabs: ${total} cases across decoders, state mapping and error mapping`)
    assert.isAtLeast(total, runs * 4)
  })
})
