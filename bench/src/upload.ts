/**
 * Upload benchmark: a sparse file (1 GiB by default; `POLYDUB_BENCH_UPLOAD_MB` to change) uploaded
 * through the VoiceCheap provider to the simulator, which runs in a child process on loopback and
 * counts the bytes. Prints throughput and this process's peak RSS; the target is a peak RSS under
 * 150 MB whatever the file size, because uploads are streamed and never held in memory.
 */

import { fork } from "node:child_process"
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Source, TranslationProvider } from "@polydub/core"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { Console, Duration, Effect, Layer, Redacted } from "effect"
import { record } from "./results.js"

const megabytes = Number(process.env.POLYDUB_BENCH_UPLOAD_MB ?? 1024)
const size = megabytes * 1024 * 1024

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

const program = Effect.gen(function* () {
  const sim = yield* startSimulator
  const dir = mkdtempSync(join(tmpdir(), "polydub-bench-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const path = join(dir, "large.mp4")
  writeFileSync(path, "")
  truncateSync(path, size) // sparse: no disk blocks, reads return zeros

  let peak = process.memoryUsage().rss
  const baseline = peak
  let peakHeap = 0
  let peakBuffers = 0
  const sampler = setInterval(() => {
    const usage = process.memoryUsage()
    peak = Math.max(peak, usage.rss)
    peakHeap = Math.max(peakHeap, usage.heapUsed)
    peakBuffers = Math.max(peakBuffers, usage.arrayBuffers)
  }, 20)
  const started = performance.now()
  const jobs = yield* Effect.gen(function* () {
    const provider = yield* TranslationProvider
    return yield* provider.submit({ source: Source.file(path), targets: ["es"], title: "upload benchmark" })
  }).pipe(
    Effect.provide(
      VoiceCheap.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        budgets: { translate: { limit: 1000, window: Duration.seconds(1) } }
      }).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))
    )
  )
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  const figures = {
    bytes: size,
    seconds: Number(seconds.toFixed(2)),
    throughputMBps: Number((size / 1024 / 1024 / seconds).toFixed(1)),
    peakRssMB: Number((peak / 1024 / 1024).toFixed(1)),
    baselineRssMB: Number((baseline / 1024 / 1024).toFixed(1)),
    peakHeapUsedMB: Number((peakHeap / 1024 / 1024).toFixed(1)),
    peakArrayBuffersMB: Number((peakBuffers / 1024 / 1024).toFixed(1)),
    targetPeakRssMB: 150,
    met: peak / 1024 / 1024 < 150,
    project: String(jobs[0]?.ref)
  }
  yield* Console.log(
    `upload: ${megabytes} MiB in ${figures.seconds} s = ${figures.throughputMBps} MiB/s; ` +
      `peak RSS ${figures.peakRssMB} MB (baseline ${figures.baselineRssMB} MB, target < 150 MB: ${figures.met ? "met" : "NOT met"}); ` +
      `peak JS heap ${figures.peakHeapUsedMB} MB, peak array buffers ${figures.peakArrayBuffersMB} MB`
  )
  record("upload", figures)
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
