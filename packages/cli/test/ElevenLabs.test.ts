// The polydub command on ElevenLabs, run in-process against the ElevenLabs simulator on loopback:
// translate (both APIs), status, download of outputs streamed through the provider, and the tables.

import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { run } from "@polydub/cli"
import { ElevenLabsSimulator } from "@polydub/testing"
import { ConfigProvider, Effect, Layer } from "effect"
import { TestConsole } from "effect/testing"

const store = join(mkdtempSync(join(tmpdir(), "polydub-cli-el-store-")), "jobs.json")

const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const code = yield* run(args)
    const out = (yield* TestConsole.logLines).map(String).join("\n")
    const err = (yield* TestConsole.errorLines).map(String).join("\n")
    return { code, out, err }
  }).pipe(
    Effect.provide(
      Layer.mergeAll(
        TestConsole.layer,
        ConfigProvider.layer(ConfigProvider.fromEnvRecord({ POLYDUB_STORE: store, ...env }))
      )
    )
  )

const simulator = ElevenLabsSimulator.layer({
  queuedMs: 30,
  preparingMs: 30,
  dubbingMs: 100,
  projectQueuedMs: 30,
  projectPreparingMs: 30,
  projectProcessingMs: 40,
  languageMs: 80,
  outputBytes: 100_000
})

const envOf = (sim: ElevenLabsSimulator.ElevenLabsSimulator, version?: string) => ({
  ELEVENLABS_API_KEY: sim.apiKey,
  ELEVENLABS_BASE_URL: sim.baseUrl,
  ...(version === undefined ? {} : { ELEVENLABS_API_VERSION: version })
})

describe("polydub on ElevenLabs", () => {
  it.live("translate --provider elevenlabs --wait --download: one dub per language, files streamed to disk", () =>
    Effect.gen(function* () {
      const sim = yield* ElevenLabsSimulator.Simulator
      const out = mkdtempSync(join(tmpdir(), "polydub-cli-el-"))
      const {
        code,
        err,
        out: printed
      } = yield* cli(
        [
          "translate",
          "https://media.example.com/talk.mp4",
          "--provider",
          "elevenlabs",
          "--to",
          "es,pt-BR",
          "--captions",
          "--wait",
          "--download",
          out
        ],
        envOf(sim)
      )
      assert.strictEqual(code, 0, err)
      assert.match(printed, /elevenlabs@v1:translation\/pt-BR:\S+\s+pt-BR\s+Succeeded/)
      const files = readdirSync(out).sort()
      assert.strictEqual(files.length, 6, files.join(","))
      const video = files.find((f) => f.startsWith("elevenlabs-es-") && f.endsWith(".mp4"))!
      assert.strictEqual(statSync(join(out, video)).size, 100_000)
      const srt = files.find((f) => f.startsWith("elevenlabs-pt-BR-") && f.endsWith(".srt"))!
      assert.match(readFileSync(join(out, srt), "utf8"), /^1\n00:00:00,000 --> /)
      assert.strictEqual(sim.billableSubmissions(), 2)

      const ref = /(elevenlabs@v1:translation\/es:\S+)/.exec(printed)![1]!
      const again = mkdtempSync(join(tmpdir(), "polydub-cli-el-again-"))
      const downloaded = yield* cli(["download", ref, "--to", again], envOf(sim))
      assert.strictEqual(downloaded.code, 0, downloaded.err)
      assert.strictEqual(readdirSync(again).length, 3)
    }).pipe(Effect.provide(simulator))
  )

  it.live("ELEVENLABS_API_VERSION=v2: the Dubbing Projects API, its WAV output saved as .wav", () =>
    Effect.gen(function* () {
      const sim = yield* ElevenLabsSimulator.Simulator
      const out = mkdtempSync(join(tmpdir(), "polydub-cli-el-v2-"))
      const {
        code,
        err,
        out: printed
      } = yield* cli(
        [
          "translate",
          "https://media.example.com/talk.mp4",
          "--provider",
          "elevenlabs",
          "--to",
          "es-MX",
          "--wait",
          "--download",
          out
        ],
        envOf(sim, "v2")
      )
      assert.strictEqual(code, 0, err)
      assert.match(printed, /elevenlabs@v2:translation\/es-MX:proj_\S+\/lang_\S+\s+es-MX\s+Succeeded/)
      assert.deepStrictEqual(
        readdirSync(out).map((f) => f.split(".").pop()),
        ["wav"]
      )
      const bad = yield* cli(["status", "elevenlabs:translation:x"], envOf(sim, "v3"))
      assert.strictEqual(bad.code, 2)
      assert.include(bad.err, "ELEVENLABS_API_VERSION must be v1 or v2")
    }).pipe(Effect.provide(simulator))
  )

  it.live("languages --provider elevenlabs and providers list ElevenLabs without a request", () =>
    Effect.gen(function* () {
      const languages = yield* cli(["languages", "--provider", "elevenlabs"])
      assert.strictEqual(languages.code, 0)
      assert.match(languages.out, /pt-BR\s+pt\s+/)
      assert.match(languages.out, /fil\s+fil\s+/)
      const projects = yield* cli(["languages", "--provider", "elevenlabs"], { ELEVENLABS_API_VERSION: "v2" })
      assert.match(projects.out, /es-MX\s+es-MX\s+/)
      const providers = yield* cli(["providers"])
      assert.match(providers.out, /capability\s+heygen\s+voicecheap\s+elevenlabs\s+elevenlabs \(v2\)/)
      assert.match(providers.out, /review step\s+yes\s+—\s+—\s+yes/)
    })
  )
})
