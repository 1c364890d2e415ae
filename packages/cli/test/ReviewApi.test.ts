// The review desk's API over loopback against the HeyGen simulator, without a browser: what a page
// (or any client) is told when it asks for something it cannot have — a reference that is not one, a
// job that is not awaiting review, a save edited from an old version, a cue list the vendor would refuse.
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Jobs, TranslationProvider } from "@polydub/core"
import { HeyGen } from "@polydub/provider-heygen"
import { HeyGenSimulator } from "@polydub/testing"
import { Context, Effect, Layer, Redacted } from "effect"
import { serveDesk, startSample } from "../src/Review.js"
import { makeEmbedded } from "../src/ReviewDesk.js"

const call = (method: string, url: string, body?: unknown) =>
  Effect.promise(() =>
    fetch(url, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }))
  )

const desk = Effect.gen(function* () {
  const sim = yield* HeyGenSimulator.serve({ queuedMs: 50, runningMs: 300, proofreadMs: 100 })
  const context = yield* Layer.build(
    HeyGen.layer({
      apiKey: Redacted.make(sim.apiKey),
      baseUrl: sim.baseUrl,
      uploadBaseUrl: sim.baseUrl,
      budget: { limit: 10_000, window: "1 minute" }
    }).pipe(Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)))
  )
  const heygen = Context.get(context, TranslationProvider)
  const embedded = makeEmbedded({
    provider: (name) => (name === "heygen" ? Effect.succeed(heygen) : Effect.fail(`no ${name} here`))
  })
  const [job] = yield* startSample(embedded, heygen, "API")
  const { url } = yield* serveDesk(embedded, { host: "127.0.0.1", port: 0 })
  const api = `${url}api`
  const at = (path: string) => `${api}/${path}?ref=${encodeURIComponent(String(job!.ref))}`
  return {
    sim,
    heygen,
    embedded: () =>
      makeEmbedded({
        provider: (name) => (name === "heygen" ? Effect.succeed(heygen) : Effect.fail(`no ${name} here`))
      }),
    job: job!,
    api,
    at
  }
})

describe("the review API", () => {
  it.live(
    "refuses what it cannot do with typed errors, and never overwrites a newer cue list",
    () =>
      Effect.gen(function* () {
        const { sim, heygen, embedded, job, api, at } = yield* desk
        yield* Jobs.awaitWith(heygen, job.ref, { interval: "100 millis", deadline: "20 seconds" })

        const bad = yield* call("GET", `${api}/transcript?ref=not-a-ref`)
        assert.strictEqual(bad.status, 400)
        assert.strictEqual(bad.json._tag, "InvalidRequest")

        const read = yield* call("GET", at("transcript"))
        assert.strictEqual(read.status, 200)
        assert.strictEqual(read.json.transcript.cues.length, 3)
        assert.strictEqual(read.json.source.cues[0].text, "Welcome to the quarterly update.")

        // A cue that ends before it starts is refused before anything reaches the vendor.
        const inverted = yield* call("PUT", at("transcript"), {
          version: read.json.version,
          transcript: { cues: [{ index: 1, start: 2000, end: 1000, text: "x" }] }
        })
        assert.strictEqual(inverted.status, 400)

        const cues = read.json.transcript.cues.map((c: any, i: number) => (i === 0 ? { ...c, text: "Hola." } : c))
        const saved = yield* call("PUT", at("transcript"), { version: read.json.version, transcript: { cues } })
        assert.strictEqual(saved.status, 200, JSON.stringify(saved.json))
        assert.notStrictEqual(saved.json.version, read.json.version)

        // A second save from the version first read: someone else's save came in between.
        const stale = yield* call("PUT", at("transcript"), {
          version: read.json.version,
          transcript: { cues: [{ index: 1, start: 0, end: 1000, text: "Mine." }] }
        })
        assert.strictEqual(stale.status, 409)
        assert.strictEqual(stale.json._tag, "Conflict")
        assert.strictEqual(stale.json.version, saved.json.version)
        const kept = yield* heygen.transcript(job.ref)
        assert.strictEqual(kept.cues[0]?.text, "Hola.")
        assert.strictEqual(kept.cues.length, 3)

        const approved = yield* call("POST", at("approve"), { captions: true })
        assert.strictEqual(approved.status, 202, JSON.stringify(approved.json))
        assert.strictEqual(approved.json.status, "rendering")
        // Approved: no longer awaiting review, so the cues cannot be read or saved here any more.
        const again = yield* call("GET", at("transcript"))
        assert.strictEqual(again.status, 409)
        assert.strictEqual(again.json._tag, "NotAwaitingReview")
        // And approving again would start a second, billed render: refused.
        const twice = yield* call("POST", at("approve"), {})
        assert.strictEqual(twice.status, 409)
        // A desk started afresh has forgotten that approval; it approves under the same key, which
        // HeyGen replays: no second render is started or billed.
        const billed = [...sim.jobsByTitle().values()].reduce((a, b) => a + b, 0)
        const replays = sim.replays()
        yield* embedded().approve(String(job.ref), { captions: true })
        assert.strictEqual(sim.replays(), replays + 1)
        assert.strictEqual(
          [...sim.jobsByTitle().values()].reduce((a, b) => a + b, 0),
          billed
        )
      }).pipe(Effect.scoped),
    60_000
  )
})
