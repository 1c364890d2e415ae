/**
 * Upload benchmark: a sparse file (1 GiB by default; `POLYDUB_BENCH_UPLOAD_MB` to change) uploaded
 * through the VoiceCheap provider to the simulator on loopback. The simulator runs in this process;
 * the client runs in a child process (`upload-client.ts`), so its peak RSS is its own. The client
 * runs twice: as built (every module of `effect` loaded through its index) and bundled by rolldown
 * (only what it uses), because most of a small client's RSS is loaded code, not the upload.
 * Prints throughput and peak RSS for both, and records them in bench/results.json under "upload".
 * Target: peak RSS under 150 MB whatever the file size: the upload is streamed, never held whole.
 */

import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeRuntime } from "@effect/platform-node"
import { VoiceCheapSimulator } from "@polydub/testing"
import { Console, Effect, Schema } from "effect"
import { build } from "rolldown"
import { record } from "./results.js"

const megabytes = Number(process.env.POLYDUB_BENCH_UPLOAD_MB ?? 1024)
const size = megabytes * 1024 * 1024
const targetMB = 150

class ClientFailed extends Schema.TaggedError<ClientFailed>()("ClientFailed", { message: Schema.String }) {}

interface ClientFigures {
  readonly seconds: number
  readonly peakRssMB: number
  readonly baselineRssMB: number
  readonly peakHeapUsedMB: number
  readonly peakArrayBuffersMB: number
  readonly job: string
}

/** Runs one client process to completion and reads the JSON line it prints. */
const runClient = (script: string, env: Record<string, string>) =>
  Effect.callback<ClientFigures, ClientFailed>((resume) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8")
    })
    child.on("close", (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`)
        resume(Effect.succeed(JSON.parse(out.trim().split("\n").at(-1)!) as ClientFigures))
      } catch (cause) {
        resume(Effect.fail(new ClientFailed({ message: `${script}: ${String(cause)}` })))
      }
    })
    return Effect.sync(() => void child.kill())
  })

const program = Effect.gen(function* () {
  const sim = yield* VoiceCheapSimulator.serve({
    processingMs: 200,
    rateLimits: {
      status: { limit: 10_000, windowMs: 1000 },
      translate: { limit: 10_000, windowMs: 1000 },
      projects: { limit: 10_000, windowMs: 1000 }
    }
  })
  const dir = mkdtempSync(join(tmpdir(), "polydub-bench-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const file = join(dir, "large.mp4")
  writeFileSync(file, "")
  truncateSync(file, size) // sparse: no disk blocks, reads return zeros

  const built = new URL("./upload-client.js", import.meta.url).pathname
  const bundled = join(dir, "upload-client.mjs")
  yield* Effect.promise(() =>
    build({
      input: built,
      platform: "node",
      output: { file: bundled, format: "esm", minify: true, codeSplitting: false },
      logLevel: "silent"
    })
  )

  const env = { UPLOAD_FILE: file, VOICECHEAP_BASE_URL: sim.baseUrl, VOICECHEAP_API_KEY: sim.apiKey }
  // Warm-up, not recorded: the first read of the file fills the page cache (zero pages for a sparse
  // file) and the simulator, in this process, is not yet compiled, so a first upload runs at half
  // speed or less, whichever client sends it. Both measured runs then start from the same state.
  yield* runClient(bundled, env)

  const results: Record<string, unknown> = {}
  let met = true
  for (const [name, script] of [
    ["built", built],
    ["bundled", bundled]
  ] as const) {
    const figures = yield* runClient(script, env)
    const received = sim.projects().at(-1)?.bytes
    if (received !== size) {
      return yield* new ClientFailed({ message: `the simulator received ${received} bytes, not ${size}` })
    }
    const throughput = Number((size / 1024 / 1024 / figures.seconds).toFixed(1))
    met = met && figures.peakRssMB < targetMB
    results[name] = { ...figures, throughputMBps: throughput, met: figures.peakRssMB < targetMB }
    yield* Console.log(
      `upload (${name}): ${megabytes} MiB in ${figures.seconds} s = ${throughput} MiB/s; ` +
        `peak RSS ${figures.peakRssMB} MB (before the upload ${figures.baselineRssMB} MB; ` +
        `target < ${targetMB} MB: ${figures.peakRssMB < targetMB ? "met" : "NOT met"}); ` +
        `peak JS heap ${figures.peakHeapUsedMB} MB, peak array buffers ${figures.peakArrayBuffersMB} MB; ` +
        `the simulator counted ${size} bytes`
    )
  }
  record("upload", { bytes: size, targetPeakRssMB: targetMB, simulator: "same process as the runner", ...results, met })
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
