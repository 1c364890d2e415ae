import { assert, describe, it } from "@effect/vitest"
import { Language } from "@polydub/core"
import { Effect, Option } from "effect"

const table = Language.makeTable([
  { tag: "es", name: "Spanish" },
  { tag: "es-ES", name: "Spanish (Spain)" },
  { tag: "es-MX", name: "Spanish (Mexico)" },
  { tag: "fr-CA", name: "French (Canada)" },
  { tag: "zh-Hans", name: "Chinese (Mandarin, Simplified)" },
  { tag: "zh", name: "Chinese (Mandarin, Simplified)" }
])

describe("Language", () => {
  it.effect("normalises tags", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* Language.normalize("pt_br"), "pt-BR")
      assert.strictEqual(yield* Language.normalize("ZH-hans"), "zh-Hans")
      assert.strictEqual(yield* Language.normalize(" fr-ca "), "fr-CA")
      const error = yield* Effect.flip(Language.normalize("español!"))
      assert.strictEqual(error._tag, "InvalidLanguageTag")
    })
  )

  it("maps tags to vendor names both ways", () => {
    assert.deepStrictEqual(Language.toVendor(table, "es-mx"), Option.some("Spanish (Mexico)"))
    assert.deepStrictEqual(Language.fromVendor(table, "spanish (mexico)"), Option.some("es-MX"))
    // Two tags share a name: the first listed is reported back.
    assert.deepStrictEqual(Language.fromVendor(table, "Chinese (Mandarin, Simplified)"), Option.some("zh-Hans"))
    assert.isTrue(Option.isNone(Language.toVendor(table, "de")))
  })

  it.effect("fails with the nearest supported tags", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Language.resolve(table, "es-AR", { provider: "heygen", operation: "submit" }))
      assert.strictEqual(error._tag, "UnsupportedLanguage")
      assert.strictEqual(error.language, "es-AR")
      assert.deepStrictEqual(error.suggestions.slice(0, 3).sort(), ["es", "es-ES", "es-MX"])
      assert.include(error.message, "did you mean")
      const french = yield* Effect.flip(Language.resolve(table, "fr", { provider: "heygen", operation: "submit" }))
      assert.deepStrictEqual(french.suggestions, ["fr-CA"])
    })
  )
})
