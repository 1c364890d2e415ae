// The VoiceCheap simulator in process reads time from `Clock`: under `it.effect` (TestClock) a
// project moves from processing to success only when the test moves the clock, whatever the wall
// clock does. The real VoiceCheap provider runs against it through the in-process `HttpClient`.

import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Source, Submission, TranslationProvider } from "@polydub/core"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import * as VoiceCheapSimulator from "@polydub/testing/VoiceCheapSimulator"
import { Duration, Effect, Layer, Redacted, Stream } from "effect"
import { TestClock } from "effect/testing"

/** Lets the wall clock run, so a simulator on `Date.now()` would move on. */
const wallClockPasses = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

const wide = { limit: 1_000_000, window: Duration.seconds(1) }
const simulator = VoiceCheapSimulator.layerInProcess({ processingMs: 1_000 })
const provider = Layer.unwrap(
  Effect.map(VoiceCheapSimulator.Simulator, (sim) =>
    VoiceCheap.layer({
      apiKey: Redacted.make(sim.apiKey),
      baseUrl: sim.baseUrl,
      budgets: { status: wide, translate: wide, projects: wide }
    })
  )
).pipe(Layer.provideMerge(simulator), Layer.provide(NodeServices.layer))

describe("VoiceCheapSimulator on TestClock", () => {
  it.effect("a project is processing until TestClock.adjust moves time past its duration", () =>
    Effect.gen(function* () {
      const translation = yield* TranslationProvider
      const job = yield* translation
        .submit({
          source: Source.stream({
            name: "talk.mp4",
            mediaType: "video/mp4",
            size: 4096,
            stream: Stream.make(new Uint8Array(4096))
          }),
          targets: ["es"]
        })
        .pipe(Submission.single)
      const state = () => Effect.map(translation.get(job.ref), (j) => j.state._tag)
      assert.strictEqual(yield* state(), "Running")
      yield* wallClockPasses(1_200)
      assert.strictEqual(yield* state(), "Running", "the wall clock does not move the project")
      yield* TestClock.adjust(Duration.seconds(2))
      assert.strictEqual(yield* state(), "Succeeded")
    }).pipe(Effect.provide(provider))
  )
})
