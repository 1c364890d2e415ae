/**
 * The minimal application the footprint benchmark measures: core plus one provider (VoiceCheap),
 * reading one job's status from `VOICECHEAP_BASE_URL` and exiting.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { JobRef, TranslationProvider } from "@polydub/core"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { Effect, Layer } from "effect"

const program = Effect.gen(function* () {
  const provider = yield* TranslationProvider
  const job = yield* provider.get(
    new JobRef({ provider: "voicecheap", kind: "translation", id: process.env.JOB_ID ?? "missing" })
  )
  process.stdout.write(`${job.state._tag}\n`)
})

Effect.runPromise(
  program.pipe(
    Effect.provide(VoiceCheap.layerConfig().pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])))
  )
).catch((error) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
