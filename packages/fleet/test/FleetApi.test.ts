// The fleet's HTTP API over loopback, as an application in any language calls it: a server on a
// fleet client, a runner in this process, the real PostgreSQL and the HeyGen simulator. The runner's
// sweeper sweeps once at start and then not for an hour, so a workflow moves on only when a webhook
// says its job did: the simulator's own signed deliveries to an endpoint registered with it, as a
// HeyGen account is set up.

import { createServer } from "node:http"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { FleetApi } from "@polydub/fleet"
import { HeyGenWebhooks } from "@polydub/provider-heygen"
import { HeyGenSimulator, VoiceCheapSimulator } from "@polydub/testing"
import { Context, Duration, Effect, Layer, Logger, Redacted } from "effect"
import { HttpApiClient } from "effect/http-api"
import { clientOf, freePort, providersLayer, runnerLayer } from "./harness.js"
import { layerTestDatabase, TestDatabase } from "./services.js"

interface World {
  readonly heygen: HeyGenSimulator.HeyGenSimulator
  /** The API's base URL. */
  readonly api: string
  /** The secret HeyGen (the simulator) gave the registered webhook endpoint. */
  readonly webhookSecret: string
  /** The vendor keys, which no response or log line may carry. */
  readonly keys: ReadonlyArray<string>
  /** Every line the API server logged. */
  readonly logs: ReadonlyArray<string>
}

class TestWorld extends Context.Service<TestWorld, World>()("test/FleetApiWorld") {}

interface Answer {
  readonly status: number
  readonly contentType: string
  readonly text: string
  /** JSON read back from the wire, checked by the assertions. */
  readonly json: any
}

const call = (
  method: string,
  url: string,
  options: { readonly body?: string; readonly headers?: Record<string, string> } = {}
): Effect.Effect<Answer> =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method,
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.body === undefined ? {} : { body: options.body })
    })
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: response.status, contentType: response.headers.get("content-type") ?? "", text, json }
  })

const json = (value: unknown) => ({ body: JSON.stringify(value), headers: { "content-type": "application/json" } })

/** A server that answers anything 200, for HeyGen's probe of a new endpoint. */
const probeServer = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ url: string; close: () => void }>((resolve) => {
        const server = createServer((_, res) => res.end())
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const port = typeof address === "object" && address !== null ? address.port : 0
          resolve({ url: `http://127.0.0.1:${port}/probe`, close: () => server.close() })
        })
      })
  ),
  (server) => Effect.sync(server.close)
)

const worldLayer = Layer.effect(
  TestWorld,
  Effect.gen(function* () {
    const database = yield* TestDatabase
    const heygen = yield* HeyGenSimulator.serve({ queuedMs: 100, runningMs: 600, proofreadMs: 400 })
    const voicecheap = yield* VoiceCheapSimulator.serve({ processingMs: 600, lipSyncMs: 200 })
    const vendors = {
      heygen: { baseUrl: heygen.baseUrl, apiKey: heygen.apiKey },
      voicecheap: { baseUrl: voicecheap.baseUrl, apiKey: voicecheap.apiKey }
    }
    yield* Layer.build(
      Layer.merge(
        runnerLayer({
          databaseUrl: database.url,
          tablePrefix: "api_",
          port: yield* freePort,
          vendors,
          sweepInterval: Duration.hours(1),
          retention: null
        }),
        database.client
      )
    )
    // The webhook endpoint, registered as on a HeyGen account: HeyGen probes the URL first, then
    // gives the secret it signs with. The probe is answered elsewhere, then the URL moved to the API.
    const apiPort = yield* freePort
    const api = `http://127.0.0.1:${apiPort}`
    const probe = yield* probeServer
    const heygenHeaders = { "content-type": "application/json", "x-api-key": heygen.apiKey }
    const created = yield* call("POST", `${heygen.baseUrl}/v3/webhooks/endpoints`, {
      body: JSON.stringify({ url: probe.url }),
      headers: heygenHeaders
    })
    assert.strictEqual(created.status, 200, created.text)
    const endpoint = created.json.data as { endpoint_id: string; secret: string }
    const moved = yield* call("PATCH", `${heygen.baseUrl}/v3/webhooks/endpoints/${endpoint.endpoint_id}`, {
      body: JSON.stringify({ url: `${api}/webhooks/heygen` }),
      headers: heygenHeaders
    })
    assert.strictEqual(moved.status, 200, moved.text)
    const logs: Array<string> = []
    const capture = Logger.map(Logger.formatLogFmt, (line) => void logs.push(line))
    yield* Layer.build(
      FleetApi.layer({
        port: apiPort,
        webhooks: { heygen: { secret: Redacted.make(endpoint.secret), maxBodyBytes: 64 * 1024 } }
      }).pipe(
        Layer.provide(clientOf(database.url, "api_")),
        Layer.provide(providersLayer(vendors)),
        Layer.provide(Logger.layer([capture], { mergeWithExisting: true }))
      )
    )
    return { heygen, api, webhookSecret: endpoint.secret, keys: [heygen.apiKey, voicecheap.apiKey], logs }
  })
).pipe(Layer.provideMerge(layerTestDatabase))

/** Reads a workflow until `until` holds (or it finishes), every 200 ms for at most 30 s. */
const follow = (world: World, ref: string, until: (workflow: FleetApi.Workflow) => boolean) =>
  call("GET", `${world.api}/v1/workflows/${ref}`).pipe(
    Effect.map((answer) => answer.json as FleetApi.Workflow),
    Effect.delay(Duration.millis(200)),
    Effect.repeat({ until: (w) => until(w) || w.finished, times: 150 })
  )

layer(worldLayer, { excludeTestServices: true, timeout: "120 seconds" })("the fleet's HTTP API", (it) => {
  it.effect(
    "a review translation: started, awaiting review, transcript read and revised as SRT, approved, rendered",
    () =>
      Effect.gen(function* () {
        const world = yield* TestWorld
        const started = yield* call(
          "POST",
          `${world.api}/v1/translations`,
          json({
            id: "api-review-1",
            provider: "heygen",
            source: "https://videos.example/talk.mp4",
            targets: ["es"],
            review: true,
            title: "api-review-1"
          })
        )
        assert.strictEqual(started.status, 201, started.text)
        assert.strictEqual(started.json.id, "api-review-1")
        const ref: string = started.json.workflows[0].ref
        assert.match(ref, /^workflow:/)

        const awaiting = yield* follow(world, ref, (w) => w.phase === "awaiting-review")
        assert.strictEqual(awaiting.phase, "awaiting-review")
        const jobId = String(awaiting.job?.ref).split(":").pop()!

        const cues = yield* call("GET", `${world.api}/v1/workflows/${ref}/transcript`)
        assert.strictEqual(cues.status, 200, cues.text)
        assert.isAbove(cues.json.cues.length, 0)
        const srt = yield* call("GET", `${world.api}/v1/workflows/${ref}/transcript?format=srt`)
        assert.strictEqual(srt.status, 200, srt.text)
        assert.include(srt.contentType, "application/x-subrip")
        assert.match(srt.text, /^1\r?\n\d\d:\d\d:\d\d,\d\d\d --> /)

        const revised = yield* call("PUT", `${world.api}/v1/workflows/${ref}/transcript`, {
          body: "1\n00:00:00,000 --> 00:00:01,500\nHola, revisado por HTTP\n",
          headers: { "content-type": "application/x-subrip" }
        })
        assert.strictEqual(revised.status, 200, revised.text)
        assert.strictEqual(revised.json.cues[0].text, "Hola, revisado por HTTP")
        assert.include(world.heygen.proofreadSrt(jobId) ?? "", "Hola, revisado por HTTP")

        const approved = yield* call("POST", `${world.api}/v1/workflows/${ref}/approve`, json({ captions: true }))
        assert.strictEqual(approved.status, 202, approved.text)

        const done = yield* follow(world, ref, (w) => w.finished)
        assert.strictEqual(done.phase, "succeeded")
        assert.strictEqual(done.job?.state._tag, "Succeeded")
        // The success event names the video only; the workflow ends with every output, captions too.
        const outputs = done.job?.state._tag === "Succeeded" ? done.job.state.outputs : undefined
        assert.isDefined(outputs?.video)
        assert.isDefined(outputs?.captions?.srt)
        assert.strictEqual(world.heygen.jobsByTitle().get("api-review-1"), 1)
        // Both moves came through the webhook route, each delivery accepted.
        const delivered = world.heygen.callbacks().filter((c) => c.url === `${world.api}/webhooks/heygen`)
        assert.deepInclude(delivered, {
          url: `${world.api}/webhooks/heygen`,
          eventType: "proofread_creation.success",
          status: 200
        })
        assert.deepInclude(delivered, {
          url: `${world.api}/webhooks/heygen`,
          eventType: "video_translate.success",
          status: 200
        })

        const translation = yield* call("GET", `${world.api}/v1/translations/api-review-1`)
        assert.strictEqual(translation.status, 200)
        assert.deepStrictEqual(
          translation.json.workflows.map((w: FleetApi.Workflow) => [w.ref, w.phase]),
          [[ref, "succeeded"]]
        )
        const listed = yield* call("GET", `${world.api}/v1/workflows?phase=succeeded&limit=10`)
        assert.isTrue(listed.json.workflows.some((w: FleetApi.Workflow) => w.ref === ref))
      })
  )

  it.effect("unknown workflows are 404, bad requests 400 with the failing path or line, wrong phases 409", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      const missing = yield* call("GET", `${world.api}/v1/workflows/workflow:nope`)
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(missing.json._tag, "NotFound")
      assert.strictEqual((yield* call("GET", `${world.api}/v1/translations/nope`)).status, 404)
      assert.strictEqual((yield* call("POST", `${world.api}/v1/workflows/workflow:nope/approve`)).status, 404)

      // The body does not fit the schema: 400, naming the path.
      const shape = yield* call(
        "POST",
        `${world.api}/v1/translations`,
        json({ provider: "heygen", source: "https://videos.example/a.mp4", targets: "es" })
      )
      assert.strictEqual(shape.status, 400, shape.text)
      assert.deepInclude(
        shape.json.errors.map((e: { path: Array<string> }) => e.path),
        ["payload", "targets"]
      )
      const notJson = yield* call("POST", `${world.api}/v1/translations`, {
        body: "{",
        headers: { "content-type": "application/json" }
      })
      assert.strictEqual(notJson.status, 400)
      const limit = yield* call("GET", `${world.api}/v1/workflows?limit=0`)
      assert.strictEqual(limit.status, 400)
      assert.deepInclude(
        limit.json.errors.map((e: { path: Array<string> }) => e.path),
        ["query", "limit"]
      )
      // It fits, but the fleet refuses it: 400 with the fleet's reason.
      for (const body of [
        { provider: "heygen", source: "/etc/passwd", targets: ["es"] },
        { provider: "nope", source: "https://videos.example/a.mp4", targets: ["es"] },
        { provider: "heygen", source: "https://videos.example/a.mp4", targets: ["xx-not-a-language-1"] }
      ]) {
        const refused = yield* call("POST", `${world.api}/v1/translations`, json(body))
        assert.strictEqual(refused.status, 400, refused.text)
        assert.strictEqual(refused.json._tag, "InvalidRequest")
      }

      // A finished workflow is not awaiting review.
      const [done] = (yield* call("GET", `${world.api}/v1/translations/api-review-1`)).json.workflows
      const approve = yield* call("POST", `${world.api}/v1/workflows/${done.ref}/approve`, json({ captions: true }))
      assert.strictEqual(approve.status, 409, approve.text)
      assert.strictEqual(approve.json._tag, "NotAwaitingReview")
      const transcript = yield* call("GET", `${world.api}/v1/workflows/${done.ref}/transcript`)
      assert.strictEqual(transcript.status, 409)
      // SRT that is not SRT: 400 with the line, before anything reaches the vendor.
      const badSrt = yield* call("PUT", `${world.api}/v1/workflows/${done.ref}/transcript`, {
        body: "1\n00:00:00,000 -> 00:00:01,000\nHola\n",
        headers: { "content-type": "application/x-subrip" }
      })
      assert.strictEqual(badSrt.status, 400, badSrt.text)
      assert.strictEqual(badSrt.json.line, 2)
      const badApproval = yield* call(
        "POST",
        `${world.api}/v1/workflows/${done.ref}/approve`,
        json({ transcript: "1\n00:00:00,000 --> 00:00:01,000\nHola\n\n2\nnot a timing\nAdiós\n" })
      )
      assert.strictEqual(badApproval.status, 400, badApproval.text)
      assert.strictEqual(badApproval.json.line, 6)
      // Bodies past the server's limit (4 MiB): declared, or sent in chunks without a length.
      const declared = yield* call("PUT", `${world.api}/v1/workflows/${done.ref}/transcript`, {
        body: "x".repeat(5 * 1024 * 1024),
        headers: { "content-type": "application/x-subrip" }
      })
      assert.strictEqual(declared.status, 413)
      const chunked = yield* Effect.promise(() => {
        const chunk = new TextEncoder().encode("x".repeat(1024 * 1024))
        const body = new ReadableStream({
          start(controller) {
            for (let i = 0; i < 5; i++) controller.enqueue(chunk)
            controller.close()
          }
        })
        return fetch(`${world.api}/v1/workflows/${done.ref}/transcript`, {
          method: "PUT",
          body,
          duplex: "half",
          headers: { "content-type": "application/x-subrip" }
        } as RequestInit).then((r) => r.status)
      })
      assert.strictEqual(chunked, 413)
      const badCues = yield* call(
        "PUT",
        `${world.api}/v1/workflows/${done.ref}/transcript`,
        json({ cues: [{ index: 1, start: 2000, end: 1000, text: "al revés" }] })
      )
      assert.strictEqual(badCues.status, 400, badCues.text)
    })
  )

  it.effect("the OpenAPI document lists every route, and the reference page is served", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      const doc = yield* call("GET", `${world.api}/openapi.json`)
      assert.strictEqual(doc.status, 200)
      assert.includeMembers(Object.keys(doc.json.paths), [
        "/v1/translations",
        "/v1/translations/{id}",
        "/v1/workflows",
        "/v1/workflows/{ref}",
        "/v1/workflows/{ref}/transcript",
        "/v1/workflows/{ref}/approve",
        "/v1/health"
      ])
      assert.includeMembers(Object.keys(doc.json.paths["/v1/workflows/{ref}/transcript"]), ["get", "put"])
      const docs = yield* call("GET", `${world.api}/docs`)
      assert.strictEqual(docs.status, 200)
      assert.include(docs.contentType, "text/html")
      const health = yield* call("GET", `${world.api}/v1/health`)
      assert.strictEqual(health.status, 200)
      assert.isAtLeast(health.json.workflows.succeeded, 1)
    })
  )

  it.effect("a typed client built from the definition reads the same workflows, by ref or by vendor job", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      const client = yield* HttpApiClient.make(FleetApi.Api, { baseUrl: world.api })
      const translation = yield* client.translations.get({ params: { id: "api-review-1" } })
      const [workflow] = translation.workflows
      assert.strictEqual(workflow?.phase, "succeeded")
      assert.strictEqual(workflow?.job?.state._tag, "Succeeded")
      const byJob = yield* client.workflows.get({ params: { ref: `heygen:translation:${workflow!.job!.ref.id}` } })
      assert.strictEqual(byJob.ref, workflow!.ref)
      const missing = yield* Effect.flip(client.workflows.get({ params: { ref: "workflow:nope" } }))
      assert.strictEqual(missing._tag, "NotFound")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

  it.effect("a forged or oversized webhook changes nothing; a signed one wakes the waiting workflow", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      // The proofread never finishes at the simulator, so nothing but this test's delivery can move it.
      world.heygen.stuckNext()
      const started = yield* call(
        "POST",
        `${world.api}/v1/translations`,
        json({
          id: "api-hook-1",
          provider: "heygen",
          source: "https://videos.example/talk.mp4",
          targets: ["es"],
          review: true
        })
      )
      assert.strictEqual(started.status, 201, started.text)
      const ref: string = started.json.workflows[0].ref
      const submitted = yield* follow(world, ref, (w) => w.job !== undefined)
      assert.strictEqual(submitted.phase, "submitted")
      const proofreadId = String(submitted.job?.ref).split(":").pop()!
      const body = JSON.stringify({
        event_type: "proofread_creation.success",
        event_data: { proofread_id: proofreadId, output_language: "Spanish" }
      })
      const deliver = (signature: string, payload = body) =>
        call("POST", `${world.api}/webhooks/heygen`, {
          body: payload,
          headers: { "content-type": "application/json", Signature: signature }
        })

      // HeyGen probes an endpoint with OPTIONS (1 s timeout) before it registers it.
      assert.strictEqual((yield* call("OPTIONS", `${world.api}/webhooks/heygen`)).status, 200)
      const forged = yield* deliver(HeyGenWebhooks.sign(Redacted.make("whsec_not_the_endpoint_secret"), body))
      assert.strictEqual(forged.status, 401)
      const unsigned = yield* deliver("")
      assert.strictEqual(unsigned.status, 401)
      const huge = `${body.slice(0, -1)}, "padding": "${"x".repeat(128 * 1024)}"}`
      const oversized = yield* deliver(HeyGenWebhooks.sign(Redacted.make(world.webhookSecret), huge), huge)
      assert.strictEqual(oversized.status, 413)
      yield* Effect.sleep(Duration.seconds(1))
      const unchanged = (yield* call("GET", `${world.api}/v1/workflows/${ref}`)).json as FleetApi.Workflow
      assert.strictEqual(unchanged.phase, "submitted")
      assert.deepStrictEqual(unchanged.job, submitted.job)

      const signed = yield* deliver(HeyGenWebhooks.sign(Redacted.make(world.webhookSecret), body))
      assert.strictEqual(signed.status, 200, signed.text)
      const woken = yield* follow(world, ref, (w) => w.phase === "awaiting-review")
      assert.strictEqual(woken.phase, "awaiting-review")
      assert.strictEqual(woken.job?.state._tag, "AwaitingReview")
      // No response of the API carries the secret.
      assert.notInclude(signed.text + forged.text + oversized.text, world.webhookSecret)
    })
  )

  it.effect("no log line of the server carries the webhook secret or a vendor key", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      // The server logged every request above, the refused deliveries among them.
      assert.isAbove(world.logs.filter((line) => line.includes("/webhooks/heygen")).length, 3)
      for (const secret of [world.webhookSecret, ...world.keys]) {
        assert.isUndefined(world.logs.find((line) => line.includes(secret)))
      }
    })
  )
})
