// `@polydub/testing`'s HeyGen preset is what applications test against instead of HeyGen: it must
// say what the real provider says. This fails when the preset, the exported capability constants or
// the provider built from its hooks drift apart, or when a preset language is not HeyGen's.

import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Language, TranslationProvider } from "@polydub/core"
import { HeyGen, HeyGenLanguages } from "@polydub/provider-heygen"
import { Presets, TestProvider } from "@polydub/testing"
import { Effect, Layer, Redacted } from "effect"

// Nothing is sent: building a provider makes no request.
const real = (apiVersion: "v3" | "v2") =>
  HeyGen.layer({ apiKey: Redacted.make("unused"), baseUrl: "http://127.0.0.1:9", apiVersion }).pipe(
    Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
  )

describe("the HeyGen preset of TestProvider", () => {
  it.effect("has the real v3 provider's capabilities, as built from its hooks", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      assert.deepStrictEqual(provider.capabilities, HeyGen.capabilitiesV3)
      assert.deepStrictEqual(Presets.heygen, provider.capabilities)
      const { provider: fake } = yield* TestProvider.make({ preset: "heygen" })
      assert.deepStrictEqual(fake.capabilities, provider.capabilities)
    }).pipe(Effect.provide(real("v3")))
  )

  it.effect("the v2 constants say what the v2 provider does", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      assert.deepStrictEqual(provider.capabilities, HeyGen.capabilitiesV2)
      assert.strictEqual(provider.apiVersion, "v2")
    }).pipe(Effect.provide(real("v2")))
  )

  it("names every preset language as HeyGen does", () => {
    for (const entry of Presets.heygenLanguages) {
      const tag = Language.normalizeOption(entry.tag)
      assert.strictEqual(tag._tag, "Some", entry.tag)
      if (tag._tag === "Some") assert.strictEqual(HeyGenLanguages.table.byTag.get(tag.value), entry.name, entry.tag)
    }
  })
})
