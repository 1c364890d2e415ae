/**
 * The ElevenLabs simulator in its own process, for the peer benchmark: one finished dub whose output
 * is `POLYDUB_BENCH_OUTPUT_MB` (default 100) MiB, streamed as it is generated. Prints
 * `{ baseUrl, apiKey, dubbingId }` as one JSON line once the dub is dubbed, then serves until killed.
 */
import { NodeRuntime } from "@effect/platform-node"
import { ElevenLabsSimulator } from "@polydub/testing"
import { Effect } from "effect"

const outputBytes = Number(process.env.POLYDUB_BENCH_OUTPUT_MB ?? 100) * 1024 * 1024

Effect.gen(function* () {
  const sim = yield* ElevenLabsSimulator.serve({
    queuedMs: 0,
    preparingMs: 0,
    dubbingMs: 10,
    outputBytes,
    rateLimit: { limit: 10_000_000, windowMs: 1000 }
  })
  const form = new FormData()
  form.set("source_url", "https://media.example.com/videos/talk.mp4")
  form.set("target_lang", "es")
  form.set("name", "peer benchmark")
  const created = yield* Effect.promise(() =>
    fetch(`${sim.baseUrl}/v1/dubbing`, { method: "POST", body: form, headers: { "xi-api-key": sim.apiKey } }).then(
      (r) => r.json() as Promise<{ dubbing_id: string }>
    )
  )
  yield* Effect.sleep(50)
  process.stdout.write(
    `${JSON.stringify({ baseUrl: sim.baseUrl, apiKey: sim.apiKey, dubbingId: created.dubbing_id })}\n`
  )
  return yield* Effect.never
}).pipe(Effect.scoped, NodeRuntime.runMain)
