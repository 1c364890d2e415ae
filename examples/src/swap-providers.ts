/**
 * One flow, two vendors: the same program runs on HeyGen and on VoiceCheap by providing a
 * different layer. Here both run against their simulators on loopback (`polydub simulate`
 * starts the same ones); with real keys, `HeyGen.layerConfig()` and `VoiceCheap.layerConfig()`
 * read them from the environment instead.
 */
import { NodeHttpClient, NodeRuntime, NodeServices } from "@effect/platform-node"
import { Jobs, Source, Submission, TranslationProvider } from "@polydub/core"
import { HeyGen } from "@polydub/provider-heygen"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { HeyGenSimulator, MediaServer, VoiceCheapSimulator } from "@polydub/testing"
import { Console, Effect, Layer, Redacted } from "effect"
import { isMain } from "./isMain.js"

/** The application's flow: written once, against the service. */
export const translateTo = (url: string, languages: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const provider = yield* TranslationProvider
    const jobs = yield* provider
      .submit({ source: Source.url(url), targets: languages, title: "swap providers" })
      .pipe(Submission.all)
    const done = yield* Effect.forEach(jobs, (job) => Jobs.await(job.ref, { interval: "200 millis" }), {
      concurrency: "unbounded"
    })
    for (const job of done) yield* Console.log(`${provider.id.padEnd(10)} ${job.language.padEnd(6)} ${job.state._tag}`)
    return done
  })

const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)

export const main = Effect.gen(function* () {
  const heygen = yield* HeyGenSimulator.serve({ queuedMs: 100, runningMs: 800 })
  const voicecheap = yield* VoiceCheapSimulator.serve({ processingMs: 800 })
  const media = yield* MediaServer.serve([{ path: "/talk.mp4", size: 256 * 1024 }])

  const OnHeyGen = HeyGen.layer({ apiKey: Redacted.make(heygen.apiKey), baseUrl: heygen.baseUrl }).pipe(
    Layer.provide(platform)
  )
  const OnVoiceCheap = VoiceCheap.layer({ apiKey: Redacted.make(voicecheap.apiKey), baseUrl: voicecheap.baseUrl }).pipe(
    Layer.provide(platform)
  )

  const flow = translateTo(media.url("/talk.mp4"), ["es", "de"])
  const onHeyGen = yield* flow.pipe(Effect.provide(OnHeyGen))
  const onVoiceCheap = yield* flow.pipe(Effect.provide(OnVoiceCheap))
  return [...onHeyGen, ...onVoiceCheap]
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
