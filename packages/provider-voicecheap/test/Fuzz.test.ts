// Fuzzing with fast-check: VoiceCheap's wire decoders, status and error mapping must turn any
// input — arbitrary JSON, mutated verbatim fixtures, random text — into a value or a typed error,
// never a thrown exception or a defect. Case counts are printed.

import { assert, describe, it } from "@effect/vitest"
import { isTranslationError, ProviderHttp } from "@polydub/core"
import { VoiceCheap, VoiceCheapClient, VoiceCheapWire } from "@polydub/provider-voicecheap"
import * as Fuzz from "@polydub/testing/Fuzz"
import { Effect, Exit, Option, Schema } from "effect"
import * as fc from "fast-check"

const runs = Number(process.env.POLYDUB_FUZZ_RUNS ?? 2000)
let total = 0
const count = (n: number) => {
  total += n
  return n
}

const mutated = Fuzz.mutatedFixtures(Fuzz.loadFixtures(new URL("./fixtures/", import.meta.url)))

const context = { provider: "voicecheap", operation: "fuzz" }

const check = (input: unknown) => {
  const text = typeof input === "string" ? input : (JSON.stringify(input) ?? "null")
  for (const schema of [
    VoiceCheapWire.StatusResponse,
    VoiceCheapWire.TranslateResponse,
    VoiceCheapWire.ErrorEnvelope
  ]) {
    const exit = Effect.runSyncExit(ProviderHttp.decodeJsonText(schema as any, text, context))
    if (Exit.isFailure(exit)) {
      assert.strictEqual(
        Effect.runSync(Effect.flip(ProviderHttp.decodeJsonText(schema as any, text, context)))._tag,
        "UnexpectedResponse"
      )
    } else if (schema === VoiceCheapWire.StatusResponse) {
      // Whatever decodes maps to a unified state without failing.
      const state = Effect.runSync(VoiceCheap.stateOf(exit.value as VoiceCheapWire.StatusResponse))
      assert.include(["Running", "Succeeded", "Failed"], state._tag)
    }
  }
}

describe("fuzz: VoiceCheap", () => {
  it("wire decoders and state mapping: arbitrary JSON, mutated fixtures and raw text", () => {
    fc.assert(fc.property(fc.jsonValue(), check), { numRuns: count(runs) })
    fc.assert(fc.property(mutated, check), { numRuns: count(runs) })
    fc.assert(fc.property(fc.string(), check), { numRuns: count(runs) })
  })

  it("error mapping turns any status and envelope into a TranslationError", () => {
    const envelope = Schema.decodeUnknownOption(VoiceCheapWire.ErrorEnvelope)
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.oneof(fc.jsonValue(), mutated), (status, body) => {
        const error = VoiceCheapClient.mapError("fuzz", status, Option.getOrUndefined(envelope(body)), Option.none())
        assert.isTrue(isTranslationError(error))
      }),
      { numRuns: count(runs) }
    )
  })

  it("prints the number of cases run", () => {
    console.log(`fuzz voicecheap: ${total} cases across decoders, state mapping and error mapping`)
    assert.isAtLeast(total, runs * 4)
  })
})
