/**
 * Footprint benchmark: the minified + gzipped size of a minimal application (core + the VoiceCheap
 * provider + Node's HTTP client, bundled by rolldown), and its cold start — from spawning `node` to
 * the first request reaching the simulator — for the bundle and for the unbundled build.
 */

import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Source, Submission, TranslationProvider } from "@polydub/core"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { VoiceCheapSimulator } from "@polydub/testing"
import { Console, Effect, Layer, Redacted, Schema, Stream } from "effect"
import { build } from "rolldown"
import { record } from "./results.js"

const runs = 5

class ColdStartFailed extends Schema.TaggedError<ColdStartFailed>()("ColdStartFailed", { message: Schema.String }) {}

const median = (values: Array<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const program = Effect.gen(function* () {
  const sim = yield* VoiceCheapSimulator.serve({ processingMs: 100 })
  const bytes = new Uint8Array(1024)
  const [job] = yield* Effect.gen(function* () {
    const provider = yield* TranslationProvider
    return yield* provider
      .submit({
        source: Source.stream({
          name: "a.mp4",
          mediaType: "video/mp4",
          size: bytes.byteLength,
          stream: Stream.succeed(bytes)
        }),
        targets: ["es"]
      })
      .pipe(Submission.all)
  }).pipe(
    Effect.provide(
      VoiceCheap.layer({ apiKey: Redacted.make(sim.apiKey), baseUrl: sim.baseUrl }).pipe(
        Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
      )
    )
  )

  const out = mkdtempSync(join(tmpdir(), "polydub-footprint-"))
  const entry = new URL("./footprint-app.js", import.meta.url).pathname
  yield* Effect.promise(() =>
    build({
      input: entry,
      platform: "node",
      output: { file: join(out, "app.mjs"), format: "esm", minify: true, codeSplitting: false },
      logLevel: "silent"
    })
  )
  const bundle = readFileSync(join(out, "app.mjs"))
  const gzipped = gzipSync(bundle, { level: 9 }).byteLength

  const coldStart = (script: string) =>
    Effect.callback<number, ColdStartFailed>((resume) => {
      const before = sim.requests().status
      const started = performance.now()
      const child = spawn(process.execPath, [script], {
        env: { ...process.env, VOICECHEAP_API_KEY: sim.apiKey, VOICECHEAP_BASE_URL: sim.baseUrl, JOB_ID: job!.ref.id },
        stdio: ["ignore", "ignore", "inherit"]
      })
      const timer = setInterval(() => {
        if (sim.requests().status > before) {
          clearInterval(timer)
          resume(Effect.succeed(performance.now() - started))
        }
      }, 1)
      child.on("exit", (code) => {
        if (sim.requests().status === before) {
          clearInterval(timer)
          resume(Effect.fail(new ColdStartFailed({ message: `${script} exited ${code} before any request` })))
        }
      })
    })
  const bundled: Array<number> = []
  const unbundled: Array<number> = []
  for (let i = 0; i < runs; i++) {
    bundled.push(yield* coldStart(join(out, "app.mjs")))
    unbundled.push(yield* coldStart(entry))
    yield* Effect.sleep("1100 millis") // the simulator allows 30 status reads a minute per key
  }
  const figures = {
    bundleBytes: bundle.byteLength,
    gzippedBytes: gzipped,
    coldStartBundledMs: Math.round(median(bundled)),
    coldStartUnbundledMs: Math.round(median(unbundled)),
    runs
  }
  yield* Console.log(
    `footprint: minimal app (core + VoiceCheap) ${(figures.bundleBytes / 1024).toFixed(0)} KiB minified, ` +
      `${(figures.gzippedBytes / 1024).toFixed(0)} KiB gzipped; cold start to first request (median of ${runs}): ` +
      `${figures.coldStartBundledMs} ms bundled, ${figures.coldStartUnbundledMs} ms unbundled`
  )
  record("footprint", figures)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
