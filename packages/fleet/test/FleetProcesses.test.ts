// A fleet of runner processes on the real PostgreSQL, the simulators served from this process over
// loopback: workflows started from a client here run on two runner processes; one runner is killed
// with SIGKILL in the middle, and its workflows finish on the other without any billable step
// repeated (counted by the simulators, per job title). A review workflow waiting for approval when
// its runner dies is approved afterwards and renders.

import { assert, layer } from "@effect/vitest"
import { Fleet } from "@polydub/fleet"
import { HeyGenSimulator, MediaServer, VoiceCheapSimulator } from "@polydub/testing"
import { Context, Effect, Layer } from "effect"
import { clientOf, freePort, type RunnerSetup } from "./harness.js"
import { spawnRunner, tails } from "./processes.js"
import { layerTestDatabase, TestDatabase } from "./services.js"

class World extends Context.Service<
  World,
  {
    readonly heygen: HeyGenSimulator.HeyGenSimulator
    readonly voicecheap: VoiceCheapSimulator.VoiceCheapSimulator
    readonly media: MediaServer.MediaServer
    readonly setup: (port: number) => RunnerSetup
    readonly client: Fleet.FleetService
  }
>()("test/FleetProcessesWorld") {}

const worldLayer = Layer.effect(
  World,
  Effect.gen(function* () {
    const database = yield* TestDatabase
    // A stall fault (injected by the second test only) holds its answer 30 s: long past the kill that
    // follows it, however loaded the machine.
    const heygen = yield* HeyGenSimulator.serve({ queuedMs: 300, runningMs: 4000, proofreadMs: 1500, stallMs: 30_000 })
    const voicecheap = yield* VoiceCheapSimulator.serve({ processingMs: 4000, lipSyncMs: 500, stallMs: 30_000 })
    const media = yield* MediaServer.serve([{ path: "/talk.mp4", size: 256 * 1024 }])
    const vendors = {
      heygen: { baseUrl: heygen.baseUrl, apiKey: heygen.apiKey },
      voicecheap: { baseUrl: voicecheap.baseUrl, apiKey: voicecheap.apiKey }
    }
    const setup = (port: number): RunnerSetup => ({ databaseUrl: database.url, tablePrefix: "mp_", port, vendors })
    const client = Context.get(yield* Layer.build(clientOf(database.url, "mp_")), Fleet.Fleet)
    return { heygen, voicecheap, media, setup, client }
  })
).pipe(Layer.provideMerge(layerTestDatabase))

layer(worldLayer, { excludeTestServices: true, timeout: "180 seconds" })("fleet across processes", (it) => {
  it.effect(
    "a runner killed with SIGKILL mid-flight: its workflows finish on the other, nothing billed twice",
    () =>
      Effect.gen(function* () {
        const world = yield* World
        const [portA, portB] = [yield* freePort, yield* freePort]
        const a = yield* spawnRunner(world.setup(portA))
        const b = yield* spawnRunner(world.setup(portB))
        // The shards are shared out between the two once both are known (assignments refresh every 3 s).
        yield* Effect.sleep("4 seconds")
        const started: Array<Fleet.WorkflowInfo> = []
        for (let i = 0; i < 8; i++) {
          const provider = i % 2 === 0 ? "heygen" : "voicecheap"
          const source = provider === "heygen" ? "https://videos.example/talk.mp4" : world.media.url("/talk.mp4")
          started.push(
            ...(yield* world.client.start({ id: `mp-${i}`, provider, source, targets: ["es"], title: `mp-${i}` }))
          )
        }
        const [review] = yield* world.client.start({
          id: "mp-review",
          provider: "heygen",
          source: "https://videos.example/talk.mp4",
          targets: ["fr"],
          review: true,
          title: "mp-review"
        })
        // Once every submission is answered (a kill during one to a vendor without idempotency keys
        // ends that workflow in OutcomeUnknown, by design: see the next test), kill one runner
        // without warning while the workflows wait for their renders.
        yield* Effect.forEach([...started, review!], (w) =>
          world.client
            .get(w.ref)
            .pipe(Effect.delay("200 millis"), Effect.repeat({ until: (i) => i.job !== undefined, times: 300 }))
        )
        a.kill("SIGKILL")
        const killedAt = Date.now()
        const awaiting = yield* world.client
          .get(review!.ref)
          .pipe(Effect.delay("300 millis"), Effect.repeat({ until: (w) => w.phase === "awaiting-review", times: 300 }))
        assert.strictEqual(awaiting.phase, "awaiting-review")
        yield* world.client.approve(review!.ref)
        const finished = yield* Effect.forEach(
          [...started, review!],
          (w) => world.client.await(w.ref, { interval: "300 millis" }),
          {
            concurrency: "unbounded"
          }
        )
        const survivor = tails.get(b)!
        assert.isUndefined(survivor.exit, `the surviving runner exited (${survivor.exit}):\n${survivor.text}`)
        for (const w of finished) assert.strictEqual(w.phase, "succeeded", `${w.ref}: ${JSON.stringify(w.error)}`)
        // Every title was submitted once, whichever runner submitted it.
        for (const [title, count] of world.heygen.jobsByTitle()) assert.strictEqual(count, 1, title)
        assert.strictEqual(world.voicecheap.billableSubmissions(), 4)
        assert.isBelow(Date.now() - killedAt, 120_000)
      }),
    { timeout: 150_000 }
  )

  it.effect(
    "a runner killed while a submission's answer is out: HeyGen replays under the same key, VoiceCheap ends OutcomeUnknown, neither bills twice",
    () =>
      Effect.gen(function* () {
        const world = yield* World
        const first = yield* spawnRunner(world.setup(yield* freePort))
        // Both vendors process the submission, then hold the answer (`stallMs`): the runner dies meanwhile.
        world.heygen.injectFault({
          kind: "stall",
          method: "POST",
          pathPrefix: "/v3/video-translations",
          times: 1
        })
        // (VoiceCheap's submission goes to /v1/translate, or /v1/projects with lip sync.)
        world.voicecheap.injectFault({ kind: "stall", endpoint: "translate", times: 1 })
        world.voicecheap.injectFault({ kind: "stall", endpoint: "projects", times: 1 })
        const vcBefore = world.voicecheap.billableSubmissions()
        const [h] = yield* world.client.start({
          id: "cut-h",
          provider: "heygen",
          source: "https://videos.example/talk.mp4",
          targets: ["es"],
          title: "cut-h"
        })
        const [v] = yield* world.client.start({
          id: "cut-v",
          provider: "voicecheap",
          source: world.media.url("/talk.mp4"),
          targets: ["es"],
          title: "cut-v"
        })
        // Kill once both vendors have processed (and billed) their submission.
        yield* Effect.sync(() => world.heygen.jobsByTitle().get("cut-h") ?? 0).pipe(
          Effect.delay("100 millis"),
          Effect.repeat({ until: (n) => n === 1, times: 300 })
        )
        yield* Effect.sync(() => world.voicecheap.billableSubmissions()).pipe(
          Effect.delay("100 millis"),
          Effect.repeat({ until: (n) => n === vcBefore + 1, times: 300 })
        )
        first.kill("SIGKILL")
        yield* spawnRunner(world.setup(yield* freePort))
        const heygen = yield* world.client.await(h!.ref, { interval: "300 millis" })
        const voicecheap = yield* world.client.await(v!.ref, { interval: "300 millis" })
        assert.strictEqual(heygen.phase, "succeeded", JSON.stringify(heygen.error))
        assert.strictEqual(world.heygen.jobsByTitle().get("cut-h"), 1)
        assert.strictEqual(voicecheap.phase, "error")
        assert.strictEqual(voicecheap.error?.reason, "OutcomeUnknown")
        assert.strictEqual(world.voicecheap.billableSubmissions(), vcBefore + 1)
      }),
    { timeout: 150_000 }
  )
})
