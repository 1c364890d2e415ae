// `polydub worker`: what it refuses before anything starts (no database, no vendor key, a bad
// port), in this process with its own environment.

import { assert, describe, it } from "@effect/vitest"
import { run } from "@polydub/cli"
import { ConfigProvider, Effect, Layer } from "effect"
import { TestConsole } from "effect/testing"

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function* () {
    const code = yield* run(args)
    const err = (yield* TestConsole.errorLines).map(String).join("\n")
    return { code, err }
  }).pipe(Effect.provide(Layer.mergeAll(TestConsole.layer, ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))))

describe("polydub worker", () => {
  it.live("needs POLYDUB_DATABASE_URL, and says so", () =>
    Effect.gen(function* () {
      const { code, err } = yield* cli(["worker"], { HEYGEN_API_KEY: "k" })
      assert.strictEqual(code, 2)
      assert.include(err, "POLYDUB_DATABASE_URL")
    })
  )

  it.live("needs a vendor key: a fleet never runs on the embedded simulators", () =>
    Effect.gen(function* () {
      const { code, err } = yield* cli(["worker"], { POLYDUB_DATABASE_URL: "postgres://u@127.0.0.1:1/x" })
      assert.strictEqual(code, 2)
      assert.include(err, "HEYGEN_API_KEY, VOICECHEAP_API_KEY or ELEVENLABS_API_KEY")
    })
  )

  it.live("refuses a port that is not one", () =>
    Effect.gen(function* () {
      const { code, err } = yield* cli(["worker", "--port", "70000"], {
        POLYDUB_DATABASE_URL: "postgres://u@127.0.0.1:1/x",
        HEYGEN_API_KEY: "k"
      })
      assert.strictEqual(code, 2)
      assert.include(err, "--port")
    })
  )
})
