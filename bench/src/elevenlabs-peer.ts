/**
 * Peer benchmark: ElevenLabs' own JavaScript SDK (`@elevenlabs/elevenlabs-js`) and polydub's
 * ElevenLabs provider reading the same dub from the same simulator (another process, loopback).
 *
 * - reads: `client.dubbing.get(id)` against `provider.get(ref)`, interleaved call by call, each on its
 *   own default HTTP stack (the SDK on the global `fetch`, polydub on `NodeHttpClient.layerUndici`, as in
 *   production). Median per call of each, and polydub's ratio to the SDK (target ≤ 1.0).
 * - download: the dubbed file (100 MiB by default, `POLYDUB_BENCH_OUTPUT_MB`) streamed to nowhere by each,
 *   in its own process so its peak RSS is its own, alternated three times each: median throughput and
 *   the highest peak RSS of each side.
 *
 * Records the figures in bench/results.json under "elevenlabsPeer". The peak RSS of a download stands
 * some 100 MB above the process's baseline on both sides whatever the output's size (at 400 MiB it was
 * within 20 MB of the 100 MiB figure): chunks awaiting collection outside the JS heap, not the file held.
 * The SDK's baseline is higher because the SDK module (every ElevenLabs API) is large.
 */
import { fork, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { ElevenLabsClient as Sdk } from "@elevenlabs/elevenlabs-js"
import { JobRef, TranslationProvider } from "@polydub/core"
import { ElevenLabs } from "@polydub/provider-elevenlabs"
import { Console, Duration, Effect, Layer, Redacted, Schema } from "effect"
import { record } from "./results.js"

const calls = Number(process.env.POLYDUB_BENCH_PEER_CALLS ?? 2000)
const outputMB = Number(process.env.POLYDUB_BENCH_OUTPUT_MB ?? 100)
const rounds = 3

interface Sim {
  readonly baseUrl: string
  readonly apiKey: string
  readonly dubbingId: string
}

const startSimulator = Effect.acquireRelease(
  Effect.callback<Sim & { readonly kill: () => void }>((resume) => {
    const child = fork(new URL("./elevenlabs-simulator.js", import.meta.url), {
      stdio: ["ignore", "pipe", "inherit", "ipc"]
    })
    createInterface({ input: child.stdout! }).once("line", (line) => {
      resume(Effect.succeed({ ...(JSON.parse(line) as Sim), kill: () => child.kill() }))
    })
  }),
  (sim) => Effect.sync(() => sim.kill())
)

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

class DownloadFailed extends Schema.TaggedError<DownloadFailed>()("DownloadFailed", { message: Schema.String }) {}

interface DownloadFigures {
  readonly side: string
  readonly bytes: number
  readonly seconds: number
  readonly peakRssMB: number
  readonly baselineRssMB: number
}

const runDownload = (side: "sdk" | "polydub", sim: Sim) =>
  Effect.callback<DownloadFigures, DownloadFailed>((resume) => {
    const child = spawn(process.execPath, [new URL("./elevenlabs-peer-download.js", import.meta.url).pathname, side], {
      env: {
        ...process.env,
        ELEVENLABS_BASE_URL: sim.baseUrl,
        ELEVENLABS_API_KEY: sim.apiKey,
        ELEVENLABS_DUBBING_ID: sim.dubbingId
      },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString("utf8")))
    child.on("close", (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`)
        resume(Effect.succeed(JSON.parse(out.trim().split("\n").at(-1)!) as DownloadFigures))
      } catch (cause) {
        resume(Effect.fail(new DownloadFailed({ message: `${side}: ${String(cause)}` })))
      }
    })
    return Effect.sync(() => void child.kill())
  })

const reads = (sim: Sim) =>
  Effect.gen(function* () {
    const provider = yield* TranslationProvider
    const sdk = new Sdk({ apiKey: sim.apiKey, baseUrl: sim.baseUrl, maxRetries: 0 })
    const ref = new JobRef({
      provider: "elevenlabs",
      kind: "translation",
      id: sim.dubbingId,
      language: "es",
      apiVersion: "v1"
    })
    const viaSdk = Effect.promise(() => sdk.dubbing.get(sim.dubbingId))
    const viaPolydub = provider.get(ref)
    // Both must read the same finished dub.
    const [a, b] = [yield* viaSdk, yield* viaPolydub]
    if (a.status !== "dubbed" || b.state._tag !== "Succeeded") {
      return yield* Effect.die(new Error(`not the same finished dub: ${a.status} / ${b.state._tag}`))
    }
    for (let i = 0; i < 200; i++) {
      yield* viaSdk
      yield* viaPolydub
    }
    const sdkUs: Array<number> = []
    const polydubUs: Array<number> = []
    const time = (effect: Effect.Effect<unknown, unknown>, into: Array<number>) =>
      Effect.suspend(() => {
        const t = performance.now()
        return Effect.map(effect, () => into.push((performance.now() - t) * 1000))
      })
    for (let i = 0; i < calls; i++) {
      // Alternate which goes first, so neither always meets a warmer connection.
      if (i % 2 === 0) {
        yield* time(viaSdk, sdkUs)
        yield* time(viaPolydub, polydubUs)
      } else {
        yield* time(viaPolydub, polydubUs)
        yield* time(viaSdk, sdkUs)
      }
    }
    return { sdkMedianUs: Math.round(median(sdkUs)), polydubMedianUs: Math.round(median(polydubUs)) }
  }).pipe(
    Effect.provide(
      ElevenLabs.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        budgets: { read: { limit: 1_000_000, window: Duration.seconds(1) } }
      }).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))
    )
  )

const main = Effect.gen(function* () {
  const sim = yield* startSimulator
  const read = yield* reads(sim)
  const readRatio = Number((read.polydubMedianUs / read.sdkMedianUs).toFixed(2))
  yield* Console.log(
    `elevenlabs peer, reads: ${calls} interleaved dubbing.get calls each — SDK median ${read.sdkMedianUs} µs, ` +
      `polydub provider get median ${read.polydubMedianUs} µs, ratio ${readRatio} (target ≤ 1.0: ${readRatio <= 1 ? "met" : "NOT met"})`
  )

  const size = outputMB * 1024 * 1024
  // Warm-up, not recorded: the simulator's first large answer runs before its code is compiled.
  yield* runDownload("sdk", sim)
  yield* runDownload("polydub", sim)
  const runs: Record<"sdk" | "polydub", Array<DownloadFigures>> = { sdk: [], polydub: [] }
  for (let i = 0; i < rounds; i++) {
    for (const side of i % 2 === 0 ? (["sdk", "polydub"] as const) : (["polydub", "sdk"] as const)) {
      const figures = yield* runDownload(side, sim)
      if (figures.bytes !== size) {
        return yield* new DownloadFailed({ message: `${side} read ${figures.bytes} bytes, not ${size}` })
      }
      runs[side].push(figures)
    }
  }
  const summary = (side: "sdk" | "polydub") => ({
    throughputMBps: Number(median(runs[side].map((r) => outputMB / r.seconds)).toFixed(1)),
    peakRssMB: Math.max(...runs[side].map((r) => r.peakRssMB)),
    baselineRssMB: median(runs[side].map((r) => r.baselineRssMB))
  })
  const sdk = summary("sdk")
  const polydub = summary("polydub")
  const throughputRatio = Number((polydub.throughputMBps / sdk.throughputMBps).toFixed(2))
  yield* Console.log(
    `elevenlabs peer, download of ${outputMB} MiB (${rounds} runs each, own process): ` +
      `SDK ${sdk.throughputMBps} MiB/s, peak RSS ${sdk.peakRssMB} MB (baseline ${sdk.baselineRssMB} MB); ` +
      `polydub ${polydub.throughputMBps} MiB/s, peak RSS ${polydub.peakRssMB} MB (baseline ${polydub.baselineRssMB} MB); ` +
      `throughput ratio polydub/SDK ${throughputRatio}`
  )
  record("elevenlabsPeer", {
    sdk: "@elevenlabs/elevenlabs-js",
    simulator: "another process, loopback",
    reads: { calls, ...read, ratio: readRatio, targetRatio: 1, met: readRatio <= 1 },
    download: { bytes: size, rounds, sdk, polydub, throughputRatio }
  })
}).pipe(Effect.scoped)

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
