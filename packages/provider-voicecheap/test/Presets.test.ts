// `@polydub/testing`'s VoiceCheap preset is what applications test against instead of VoiceCheap: it
// must say what the real provider says, budgets included (what its client enforces). This fails when
// the preset, the exported capability constant or the provider built from its hooks drift apart, or
// when a preset language is not VoiceCheap's.

import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Language, TranslationProvider } from "@polydub/core"
import { VoiceCheap, VoiceCheapLanguages } from "@polydub/provider-voicecheap"
import { Presets, TestProvider } from "@polydub/testing"
import { Effect, Layer, Redacted } from "effect"

// Nothing is sent: building a provider makes no request.
const real = VoiceCheap.layer({ apiKey: Redacted.make("unused"), baseUrl: "http://127.0.0.1:9" }).pipe(
  Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
)

describe("the VoiceCheap preset of TestProvider", () => {
  it.effect("has the real provider's capabilities, as built from its hooks and its client's budgets", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      assert.deepStrictEqual(provider.capabilities, VoiceCheap.capabilities)
      assert.deepStrictEqual(Presets.voicecheap, provider.capabilities)
      const { provider: fake } = yield* TestProvider.make({ preset: "voicecheap" })
      assert.deepStrictEqual(fake.capabilities, provider.capabilities)
    }).pipe(Effect.provide(real))
  )

  it("names every preset language as VoiceCheap does", () => {
    for (const entry of Presets.voicecheapLanguages) {
      const tag = Language.normalizeOption(entry.tag)
      assert.strictEqual(tag._tag, "Some", entry.tag)
      if (tag._tag === "Some") {
        assert.strictEqual(VoiceCheapLanguages.table.byTag.get(tag.value), entry.name, entry.tag)
      }
    }
  })
})
