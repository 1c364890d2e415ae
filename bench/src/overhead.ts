/**
 * Overhead benchmark: `get` through the whole provider stack (core validation, VoiceCheap client,
 * budget, schema decoding, state mapping) against a raw `fetch` + `JSON.parse` of the same endpoint
 * on the same simulator (another process, loopback), interleaved call by call. Prints the median
 * microseconds of each and their ratio; target ratio ≤ 1.15.
 */

import { fork } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Source, TranslationProvider } from "@polydub/core"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { Console, Duration, Effect, Layer, Redacted } from "effect"
import { record } from "./results.js"

const calls = Number(process.env.POLYDUB_BENCH_OVERHEAD_CALLS ?? 2000)

const startSimulator = Effect.acquireRelease(
  Effect.callback<{ baseUrl: string; apiKey: string; kill: () => void }>((resume) => {
    const child = fork(new URL("./upload-simulator.js", import.meta.url), {
      stdio: ["ignore", "pipe", "inherit", "ipc"]
    })
    createInterface({ input: child.stdout! }).once("line", (line) => {
      const { apiKey, baseUrl } = JSON.parse(line) as { baseUrl: string; apiKey: string }
      resume(Effect.succeed({ baseUrl, apiKey, kill: () => child.kill() }))
    })
  }),
  (sim) => Effect.sync(() => sim.kill())
)

const median = (values: Array<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const program = (sim: { readonly baseUrl: string; readonly apiKey: string }) =>
  Effect.gen(function* () {
    const provider = yield* TranslationProvider
    const dir = mkdtempSync(join(tmpdir(), "polydub-bench-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    writeFileSync(join(dir, "clip.mp4"), new Uint8Array(64 * 1024))
    const [job] = yield* provider.submit({ source: Source.file(join(dir, "clip.mp4")), targets: ["es"] })
    const url = `${sim.baseUrl}/v1/translate/${job!.ref.id}/status`
    const headers = { "x-api-key": sim.apiKey, accept: "application/json" }
    const raw = Effect.promise(() =>
      fetch(url, { headers })
        .then((r) => r.text())
        .then((t) => JSON.parse(t))
    )
    // Warm both paths up.
    for (let i = 0; i < 200; i++) {
      yield* provider.get(job!.ref)
      yield* raw
    }
    const stack: Array<number> = []
    const bare: Array<number> = []
    for (let i = 0; i < calls; i++) {
      let t = performance.now()
      yield* provider.get(job!.ref)
      stack.push((performance.now() - t) * 1000)
      t = performance.now()
      yield* raw
      bare.push((performance.now() - t) * 1000)
    }
    const figures = {
      calls,
      providerMedianUs: Math.round(median(stack)),
      rawFetchMedianUs: Math.round(median(bare)),
      ratio: Number((median(stack) / median(bare)).toFixed(2)),
      targetRatio: 1.15,
      met: median(stack) / median(bare) <= 1.15
    }
    yield* Console.log(
      `overhead: ${calls} interleaved calls each — provider get median ${figures.providerMedianUs} µs, ` +
        `raw fetch + JSON.parse median ${figures.rawFetchMedianUs} µs, ratio ${figures.ratio} (target ≤ 1.15: ${figures.met ? "met" : "NOT met"})`
    )
    record("overhead", figures)
  })

const main = Effect.gen(function* () {
  const sim = yield* startSimulator
  const wide = { limit: 1_000_000, window: Duration.seconds(1) }
  const layer = VoiceCheap.layer({
    apiKey: Redacted.make(sim.apiKey),
    baseUrl: sim.baseUrl,
    budgets: { status: wide, translate: wide, projects: wide }
  }).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))
  yield* program(sim).pipe(Effect.provide(layer))
}).pipe(Effect.scoped)

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
