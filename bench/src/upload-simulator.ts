/**
 * The VoiceCheap simulator in its own process, so a benchmark (overhead) measures the client
 * alone. Prints `{ baseUrl, apiKey }` as one JSON line, then serves until killed.
 */
import { NodeRuntime } from "@effect/platform-node"
import { VoiceCheapSimulator } from "@polydub/testing"
import { Effect } from "effect"

Effect.gen(function* () {
  const sim = yield* VoiceCheapSimulator.serve({
    processingMs: 200,
    rateLimits: {
      status: { limit: 10_000, windowMs: 1000 },
      translate: { limit: 10_000, windowMs: 1000 },
      projects: { limit: 10_000, windowMs: 1000 }
    }
  })
  process.stdout.write(`${JSON.stringify({ baseUrl: sim.baseUrl, apiKey: sim.apiKey })}\n`)
  return yield* Effect.never
}).pipe(Effect.scoped, NodeRuntime.runMain)
