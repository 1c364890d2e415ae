// The CLI in fleet mode (POLYDUB_DATABASE_URL set), in this process against a runner of a test
// fleet (real PostgreSQL, the HeyGen simulator over loopback): translate prints workflow references
// at once; status, transcript get, approve --transcript, watch and download take them.

import { mkdtempSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import { run } from "@polydub/cli"
import { HeyGenSimulator, VoiceCheapSimulator } from "@polydub/testing"
import { ConfigProvider, Context, Effect, Layer } from "effect"
import { TestConsole } from "effect/testing"
import { freePort, runnerLayer } from "../../fleet/test/harness.js"
import { layerTestDatabase, TestDatabase } from "../../fleet/test/services.js"

class World extends Context.Service<World, { readonly env: Record<string, string> }>()("test/CliFleetWorld") {}

const worldLayer = Layer.effect(
  World,
  Effect.gen(function* () {
    const database = yield* TestDatabase
    const heygen = yield* HeyGenSimulator.serve({ queuedMs: 100, runningMs: 600, proofreadMs: 400 })
    const voicecheap = yield* VoiceCheapSimulator.serve({ processingMs: 600 })
    const vendors = {
      heygen: { baseUrl: heygen.baseUrl, apiKey: heygen.apiKey },
      voicecheap: { baseUrl: voicecheap.baseUrl, apiKey: voicecheap.apiKey }
    }
    yield* Layer.build(runnerLayer({ databaseUrl: database.url, tablePrefix: "cli_", port: yield* freePort, vendors }))
    return {
      env: {
        POLYDUB_DATABASE_URL: database.url,
        POLYDUB_TABLE_PREFIX: "cli_",
        HEYGEN_API_KEY: heygen.apiKey,
        HEYGEN_BASE_URL: heygen.baseUrl
      }
    }
  })
).pipe(Layer.provideMerge(layerTestDatabase))

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function* () {
    const code = yield* run(args)
    const out = (yield* TestConsole.logLines).map(String).join("\n")
    const err = (yield* TestConsole.errorLines).map(String).join("\n")
    return { code, out, err }
  }).pipe(Effect.provide(Layer.mergeAll(TestConsole.layer, ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))))

layer(worldLayer, { excludeTestServices: true, timeout: "60 seconds" })("polydub in fleet mode", (it) => {
  it.effect(
    "translate --review prints workflow refs at once; transcript, approve --transcript, watch and download take them",
    () =>
      Effect.gen(function* () {
        const { env } = yield* World
        const started = yield* cli(
          ["translate", "https://videos.example/talk.mp4", "--to", "es", "--review", "--title", "cli-fleet"],
          env
        )
        assert.strictEqual(started.code, 0, started.err)
        const ref = /workflow:[0-9a-f]+/.exec(started.out)?.[0]
        assert.isDefined(ref, started.out)
        // Awaiting review, read from the fleet's store.
        let status = yield* cli(["status", ref!], env)
        for (let i = 0; i < 60 && !status.out.includes("awaiting-review"); i++) {
          yield* Effect.sleep("250 millis")
          status = yield* cli(["status", ref!], env)
        }
        assert.include(status.out, "awaiting-review")
        const transcript = yield* cli(["transcript", "get", ref!], env)
        assert.strictEqual(transcript.code, 0, transcript.err)
        assert.include(transcript.out, "-->")
        const dir = mkdtempSync(join(tmpdir(), "polydub-cli-fleet-"))
        const srt = join(dir, "edited.srt")
        writeFileSync(srt, "1\n00:00:00,000 --> 00:00:01,500\nHola desde la flota\n")
        const approved = yield* cli(["approve", ref!, "--transcript", srt], env)
        assert.strictEqual(approved.code, 0, approved.err)
        const watched = yield* cli(["watch", ref!], env)
        assert.strictEqual(watched.code, 0, watched.err)
        assert.include(watched.out, "succeeded")
        const out = join(dir, "out")
        const downloaded = yield* cli(["download", ref!, "--to", out], env)
        assert.strictEqual(downloaded.code, 0, downloaded.err)
        assert.isAbove(readdirSync(out).length, 0)
      }),
    { timeout: 60_000 }
  )

  it.effect("an unknown workflow, a file source and approving a finished workflow are refused with exit 2", () =>
    Effect.gen(function* () {
      const { env } = yield* World
      const unknown = yield* cli(["status", "workflow:0000"], env)
      assert.strictEqual(unknown.code, 2)
      assert.include(unknown.err, "no workflow")
      const file = yield* cli(["translate", "/tmp/talk.mp4", "--to", "es"], env)
      assert.strictEqual(file.code, 2)
      assert.include(file.err, "fleet mode")
    })
  )
})
