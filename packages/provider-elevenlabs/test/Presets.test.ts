// `@polydub/testing`'s ElevenLabs presets are what applications test against instead of ElevenLabs:
// they must say what the real providers say, budgets included (what the client enforces). This fails
// when a preset, the exported capability constants or the providers built from their hooks drift
// apart, or when a preset language is not ElevenLabs'.

import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Language, TranslationProvider } from "@polydub/core"
import { ElevenLabs, ElevenLabsLanguages } from "@polydub/provider-elevenlabs"
import { Presets, TestProvider } from "@polydub/testing"
import { Effect, Layer, Redacted } from "effect"

// Nothing is sent: building a provider makes no request.
const real = (apiVersion: "v1" | "v2") =>
  ElevenLabs.layer({ apiKey: Redacted.make("unused"), baseUrl: "http://127.0.0.1:9", apiVersion }).pipe(
    Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
  )

describe("the ElevenLabs presets of TestProvider", () => {
  it.effect("legacy dubbing: the real provider's capabilities, as built from its hooks and its client's budgets", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      assert.deepStrictEqual(provider.capabilities, ElevenLabs.capabilitiesV1)
      assert.deepStrictEqual(Presets.elevenlabs, provider.capabilities)
      const { provider: fake } = yield* TestProvider.make({ preset: "elevenlabs" })
      assert.deepStrictEqual(fake.capabilities, provider.capabilities)
    }).pipe(Effect.provide(real("v1")))
  )

  it.effect("Dubbing Projects: the real provider's capabilities", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      assert.deepStrictEqual(provider.capabilities, ElevenLabs.capabilitiesV2)
      assert.deepStrictEqual(Presets.elevenlabsProjects, provider.capabilities)
    }).pipe(Effect.provide(real("v2")))
  )

  it("names every preset language as ElevenLabs does", () => {
    for (const [entries, table] of [
      [Presets.elevenlabsLanguages, ElevenLabsLanguages.legacyTable],
      [Presets.elevenlabsProjectsLanguages, ElevenLabsLanguages.projectsTable]
    ] as const) {
      for (const entry of entries) {
        const tag = Language.normalizeOption(entry.tag)
        assert.strictEqual(tag._tag, "Some", entry.tag)
        if (tag._tag === "Some") assert.strictEqual(table.byTag.get(tag.value), entry.name, entry.tag)
      }
    }
  })
})
