/**
 * The client half of the upload benchmark, in its own process so that its memory is measured alone:
 * submits one file through the VoiceCheap provider to the simulator at `VOICECHEAP_BASE_URL`,
 * sampling `process.memoryUsage()` every 20 ms, and prints its figures as one JSON line. Run by
 * `upload.ts`, both as built and bundled.
 */

import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Source, Submission, TranslationProvider } from "@polydub/core"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { Duration, Effect, Layer, Redacted } from "effect"

const path = process.env.UPLOAD_FILE!
const mb = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1))

// Before the upload: the runtime and the modules loaded, nothing sent yet.
const baseline = process.memoryUsage().rss
let peak = baseline
let peakHeap = 0
let peakBuffers = 0
const sample = () => {
  const usage = process.memoryUsage()
  peak = Math.max(peak, usage.rss)
  peakHeap = Math.max(peakHeap, usage.heapUsed)
  peakBuffers = Math.max(peakBuffers, usage.arrayBuffers)
}
const sampler = setInterval(sample, 20)

const upload = Effect.gen(function* () {
  const provider = yield* TranslationProvider
  return yield* provider
    .submit({ source: Source.file(path), targets: ["es"], title: "upload benchmark" })
    .pipe(Submission.all)
}).pipe(
  Effect.provide(
    VoiceCheap.layer({
      apiKey: Redacted.make(process.env.VOICECHEAP_API_KEY!),
      baseUrl: process.env.VOICECHEAP_BASE_URL!,
      // One upload: the translate budget is not what is measured.
      budgets: { translate: { limit: 1000, window: Duration.seconds(1) } }
    }).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))
  )
)

const started = performance.now()
Effect.runPromise(upload).then(
  (jobs) => {
    const seconds = (performance.now() - started) / 1000
    sample()
    clearInterval(sampler)
    process.stdout.write(
      `${JSON.stringify({
        seconds: Number(seconds.toFixed(2)),
        peakRssMB: mb(peak),
        baselineRssMB: mb(baseline),
        peakHeapUsedMB: mb(peakHeap),
        peakArrayBuffersMB: mb(peakBuffers),
        job: String(jobs[0]?.ref)
      })}\n`
    )
  },
  (error) => {
    clearInterval(sampler)
    process.stderr.write(`upload failed: ${String(error)}\n`)
    process.exitCode = 1
  }
)
