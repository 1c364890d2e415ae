// The CLI's job store (POLYDUB_STORE): concurrent `polydub translate` processes each keep their
// jobs, and what the store keeps of a request is a hash, never its source URL.

import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { run } from "@polydub/cli"
import { JobStore } from "@polydub/core"
import { HeyGenSimulator } from "@polydub/testing"
import { ConfigProvider, Effect, Layer } from "effect"
import { TestConsole } from "effect/testing"

const tempStore = () => join(mkdtempSync(join(tmpdir(), "polydub-cli-store-")), "jobs.json")

/** Runs the CLI in this process with an environment; returns the exit code and what it printed. */
const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function* () {
    const code = yield* run(args)
    const out = (yield* TestConsole.logLines).map(String).join("\n")
    const err = (yield* TestConsole.errorLines).map(String).join("\n")
    return { code, out, err }
  }).pipe(Effect.provide(Layer.mergeAll(TestConsole.layer, ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))))

const root = fileURLToPath(new URL("../../../", import.meta.url))

/** Runs `polydub` from the sources in a process of its own; resolves with its exit code and output. */
const polydub = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.callback<{ readonly code: number | null; readonly out: string; readonly err: string }>((resume) => {
    const child = spawn(
      process.execPath,
      ["--import", join(root, "scripts/sources.mjs"), join(root, "packages/cli/src/bin.ts"), ...args],
      { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }
    )
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk) => {
      out += String(chunk)
    })
    child.stderr.on("data", (chunk) => {
      err += String(chunk)
    })
    child.on("close", (code) => resume(Effect.succeed({ code, out, err })))
    return Effect.sync(() => child.kill())
  })

const envOf = (sim: HeyGenSimulator.HeyGenSimulator, store: string) => ({
  HEYGEN_API_KEY: sim.apiKey,
  HEYGEN_BASE_URL: sim.baseUrl,
  POLYDUB_STORE: store
})

const simulator = HeyGenSimulator.layer({ queuedMs: 30, runningMs: 200, proofreadMs: 150, concurrentJobs: 50 })

describe("polydub and its job store", () => {
  it.live(
    "12 concurrent translate processes on one store keep all 12 jobs, and no key is left pending",
    () =>
      Effect.gen(function* () {
        const sim = yield* HeyGenSimulator.Simulator
        const store = tempStore()
        const runs = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, i) => i),
          (i) =>
            polydub(
              ["translate", `https://media.example.com/talk-${i}.mp4`, "--to", "es", "--json"],
              envOf(sim, store)
            ),
          { concurrency: "unbounded" }
        )
        const printed = runs.map((r) => {
          assert.strictEqual(r.code, 0, r.err)
          return JSON.parse(r.out.trim()).ref as string
        })
        assert.strictEqual(sim.billableSubmissions(), 12)
        const saved = yield* Effect.flatMap(JobStore.makeFile(store), (s) => s.load)
        console.log(
          `store: 12 concurrent polydub translate processes on one store: ${saved.jobs.length} of 12 jobs kept, ${saved.pending.length} keys left pending`
        )
        assert.deepStrictEqual(saved.jobs.map((j) => String(j.ref)).sort(), [...printed].sort())
        assert.deepStrictEqual(saved.pending, [])
      }).pipe(Effect.provide(simulator)),
    120_000
  )

  it.live("the store keeps a hash of an interrupted request, not its URL, and the rerun still finds its key", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const store = tempStore()
      const url = "https://media.example.com/a.mp4?token=SECRET-media-token"
      const args = ["translate", url, "--to", "es", "--json"]
      sim.injectFault({ kind: "dropAfter", method: "POST", pathPrefix: "/v3/video-translations", times: 3 })
      assert.strictEqual((yield* cli(args, envOf(sim, store))).code, 3)
      const text = readFileSync(store, "utf8")
      assert.notInclude(text, "SECRET-media-token")
      assert.notInclude(text, "media.example.com")
      const [pending] = JSON.parse(text).pending
      assert.match(pending.fingerprint, /^sha256:[0-9a-f]{64}$/)
      const again = yield* cli(args, envOf(sim, store))
      assert.strictEqual(again.code, 0, again.err)
      assert.include(again.err, "resuming an interrupted submission")
      assert.strictEqual(sim.billableSubmissions(), 1, "the rerun paid for a second job")
    }).pipe(Effect.provide(simulator))
  )

  it.live("a key left pending by an earlier version (plain fingerprint) is still found and reused", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const store = tempStore()
      const args = ["translate", "https://media.example.com/a.mp4", "--to", "es,fr", "--captions", "--json"]
      sim.injectFault({ kind: "dropAfter", method: "POST", pathPrefix: "/v3/video-translations", times: 3 })
      assert.strictEqual((yield* cli(args, envOf(sim, store))).code, 3)
      const billed = sim.billableSubmissions()
      // As the previous version wrote it: source, targets and flags joined by "|".
      const saved = JSON.parse(readFileSync(store, "utf8"))
      saved.pending[0].fingerprint = "https://media.example.com/a.mp4|es,fr|false|true|false"
      writeFileSync(store, JSON.stringify(saved))
      const again = yield* cli(args, envOf(sim, store))
      assert.strictEqual(again.code, 0, again.err)
      assert.include(again.err, "resuming an interrupted submission")
      assert.strictEqual(sim.billableSubmissions(), billed, "the rerun paid for new jobs")
    }).pipe(Effect.provide(simulator))
  )

  it.live("watch reports a record it cannot read on stderr and resumes the others", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const store = tempStore()
      const env = envOf(sim, store)
      const submitted = yield* cli(["translate", "https://media.example.com/a.mp4", "--to", "es", "--json"], env)
      assert.strictEqual(submitted.code, 0, submitted.err)
      const saved = JSON.parse(readFileSync(store, "utf8"))
      saved.jobs.push({ ...saved.jobs[0], ref: "heygen:translation:abc\ndef-es" })
      writeFileSync(store, JSON.stringify(saved))
      const watched = yield* cli(["watch", "--json"], env)
      assert.strictEqual(watched.code, 0, watched.err)
      assert.include(watched.err, "resuming 1 open job(s)")
      assert.include(watched.err, "jobs[1] cannot be read and is kept as it is")
      for (const line of watched.out.split("\n")) JSON.parse(line)
      assert.strictEqual(JSON.parse(readFileSync(store, "utf8")).jobs[1].ref, "heygen:translation:abc\ndef-es")
    }).pipe(Effect.provide(simulator))
  )
})
