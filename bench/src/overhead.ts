/**
 * Overhead benchmark: `get` through the whole provider stack (core validation, VoiceCheap client,
 * budget, timeout, retry policy, schema decoding, state mapping, spans) against a hand-written read
 * of the same endpoint on the same simulator (another process, loopback), interleaved call by call.
 * Prints the median microseconds of each and their ratio; target ratio ≤ 1.15.
 *
 * Both sides use the same HTTP stack. The provider runs on `NodeHttpClient.layerUndici`, as in
 * production, and the hand-written read goes through the very same undici dispatcher (same pool,
 * same keep-alive connections) doing only what such a client must: send, check the status, read the
 * body, `JSON.parse`. The raw side used to be the global `fetch`, whose own cost (web streams,
 * Request and Response objects) is 170–300 µs a call more than undici's here: it hid that much of
 * the provider's overhead. `fetch` is still timed, interleaved, and its ratio printed for comparison.
 *
 * Where the provider's extra time goes (`node --cpu-prof`, and the stack run over a fake in-process
 * transport to take the sockets out): effect/http itself (client span and trace headers, URL and
 * header objects, abort controller, response wrapper) costs 80–100 µs of CPU a call over raw undici;
 * the polydub layers above it cost about 115–130 µs, a third less than before these were removed:
 * a retry schedule built on every call rather than after a failure, generators on the read path,
 * error excerpts and header parsing done for good answers, and budgets rounded to one request a
 * millisecond (a caller reading faster waited on a 1 ms timer). What is left pays for behaviour: the
 * per-attempt timeout (a race of two fibers, ~20 µs), the budget (~10 µs), two spans
 * (`TranslationProvider.get`, `VoiceCheapClient.status`, ~7 µs each with their stack frames),
 * strict decoding and the `Job` classes with presigned-URL expiries (~45 µs with their plumbing).
 * Against a loopback round trip of a few hundred µs that cannot fit in 15 %; against a real vendor
 * (tens to hundreds of ms a request) it is well under 1 %.
 */

import { fork } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Source, Submission, TranslationProvider } from "@polydub/core"
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
    const [job] = yield* provider
      .submit({ source: Source.file(join(dir, "clip.mp4")), targets: ["es"] })
      .pipe(Submission.all)
    const dispatcher = yield* NodeHttpClient.Dispatcher
    const url = new URL(`${sim.baseUrl}/v1/translate/${job!.ref.id}/status`)
    const headers = { "x-api-key": sim.apiKey, accept: "application/json" }
    // What a hand-written client must do at least: send, check the status, read and parse the body.
    const raw = Effect.promise(() =>
      dispatcher.request({ origin: url.origin, path: url.pathname, method: "GET", headers }).then((r) => {
        if (r.statusCode < 200 || r.statusCode >= 300) throw new Error(`HTTP ${r.statusCode}`)
        return r.body.text().then((t) => JSON.parse(t))
      })
    )
    const rawFetch = Effect.promise(() =>
      fetch(url, { headers }).then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`)
        return r.text().then((t) => JSON.parse(t))
      })
    )
    // Warm every path up.
    for (let i = 0; i < 200; i++) {
      yield* provider.get(job!.ref)
      yield* raw
      yield* rawFetch
    }
    const stack: Array<number> = []
    const bare: Array<number> = []
    const viaFetch: Array<number> = []
    const time = (effect: Effect.Effect<unknown, unknown>, into: Array<number>) =>
      Effect.suspend(() => {
        const t = performance.now()
        return Effect.map(effect, () => into.push((performance.now() - t) * 1000))
      })
    for (let i = 0; i < calls; i++) {
      yield* time(provider.get(job!.ref), stack)
      yield* time(raw, bare)
      yield* time(rawFetch, viaFetch)
    }
    const ratio = median(stack) / median(bare)
    const figures = {
      calls,
      providerMedianUs: Math.round(median(stack)),
      rawUndiciMedianUs: Math.round(median(bare)),
      ratio: Number(ratio.toFixed(2)),
      targetRatio: 1.15,
      met: ratio <= 1.15,
      rawFetchMedianUs: Math.round(median(viaFetch)),
      ratioToFetch: Number((median(stack) / median(viaFetch)).toFixed(2))
    }
    yield* Console.log(
      `overhead: ${calls} interleaved calls each — provider get median ${figures.providerMedianUs} µs, ` +
        `raw undici + JSON.parse (same dispatcher) median ${figures.rawUndiciMedianUs} µs, ratio ${figures.ratio} ` +
        `(target ≤ 1.15: ${figures.met ? "met" : "NOT met"}); raw fetch + JSON.parse median ${figures.rawFetchMedianUs} µs, ` +
        `ratio to it ${figures.ratioToFetch}`
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
  }).pipe(
    // `layerUndici`, with its dispatcher kept in context for the hand-written read.
    Layer.provideMerge(Layer.provideMerge(NodeHttpClient.layerUndiciNoDispatcher, NodeHttpClient.layerDispatcher)),
    Layer.provideMerge(NodeServices.layer)
  )
  yield* program(sim).pipe(Effect.provide(layer))
}).pipe(Effect.scoped)

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
