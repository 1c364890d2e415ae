import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import { NodeHttpClient, NodeHttpServer, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { refIdentity, Source, Submission, TranslationProvider } from "@polydub/core"
import { HeyGen, HeyGenClient, HeyGenWebhooks, HeyGenWire } from "@polydub/provider-heygen"
import { HeyGenSimulator } from "@polydub/testing"
import { Duration, Effect, Layer, Logger, Option, Redacted, Schema } from "effect"
import { HttpRouter, HttpServerRequest } from "effect/http"

const secret = Redacted.make("whsec_k7x9m2_test")
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")

/** Serves the webhook route on loopback; returns its URL and the updates it accepted. */
const serveRoute = (options: Partial<HeyGenWebhooks.WebhookOptions> = {}) =>
  Effect.gen(function* () {
    const updates: Array<HeyGenWebhooks.Update> = []
    const app = yield* HttpRouter.toHttpEffect(
      HeyGenWebhooks.route({ secret, ...options }, (update) => Effect.sync(() => void updates.push(update)))
    )
    const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" }).pipe(Effect.orDie)
    yield* server.serve(app)
    const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port
    return { url: `http://127.0.0.1:${port}${options.path ?? "/webhooks/heygen"}`, updates }
  })

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }).then(
      async (r) => ({
        status: r.status,
        text: await r.text()
      })
    )
  )

describe("HeyGen webhooks: verification and decoding", () => {
  it("a delivery naming an id no job reference can hold is ignored, not a crash", () => {
    for (const event of [
      {
        event_type: "video_translate.success",
        event_data: { video_translate_id: "abc\ndef-es", url: "https://x/y.mp4" }
      },
      { event_type: "video_translate.fail", event_data: { video_translate_id: " abc-es" } },
      { event_type: "proofread_creation.success", event_data: { proofread_id: "abc\u0000-es" } }
    ]) {
      assert.isTrue(Option.isNone(HeyGenWebhooks.decode(event)), event.event_type)
    }
  })

  it("verifies hex HMAC-SHA256 of the raw body in constant time", () => {
    const body = new TextEncoder().encode(fixture("reference-4-webhook-success.json"))
    const good = HeyGenWebhooks.sign(secret, body)
    assert.isTrue(HeyGenWebhooks.verify(secret, body, good))
    assert.isFalse(
      HeyGenWebhooks.verify(
        secret,
        body,
        good.replace(/.$/, (c) => (c === "0" ? "1" : "0"))
      )
    )
    assert.isFalse(HeyGenWebhooks.verify(Redacted.make("whsec_other_secret"), body, good))
    assert.isFalse(HeyGenWebhooks.verify(secret, body, undefined))
    assert.isFalse(HeyGenWebhooks.verify(secret, body, "not-hex"))
  })

  it("decodes the reference's success and failure events into updates", () => {
    const decode = (name: string) =>
      HeyGenWebhooks.decode(Schema.decodeUnknownSync(HeyGenWire.WebhookEvent)(JSON.parse(fixture(name))))
    const success = Option.getOrThrow(decode("reference-4-webhook-success.json"))
    assert.strictEqual(String(success.ref), "heygen:translation:<id>")
    assert.strictEqual(success.state._tag, "Succeeded")
    assert.strictEqual(success.callbackId, "<cb>")
    const failure = Option.getOrThrow(decode("reference-4-webhook-fail.json"))
    assert.deepStrictEqual(failure.state, { _tag: "Failed", reason: { code: "failed", message: "<failure-message>" } })
    const proofread = HeyGenWebhooks.decode({
      event_type: "proofread_creation.success",
      event_data: { proofread_id: "abc-es" }
    })
    assert.strictEqual(Option.getOrThrow(proofread).state._tag, "AwaitingReview")
    assert.isTrue(
      Option.isNone(HeyGenWebhooks.decode({ event_type: "avatar_video.success", event_data: { video_id: "x" } }))
    )
  })
})

describe("HeyGen webhook route over loopback", () => {
  it.live(
    "answers the OPTIONS probe, accepts a signed delivery once, refuses forged, oversized and malformed ones",
    () =>
      Effect.gen(function* () {
        const { updates, url } = yield* serveRoute({ maxBodyBytes: 4096 })
        const probe = yield* Effect.promise(() => fetch(url, { method: "OPTIONS" }).then((r) => r.status))
        assert.strictEqual(probe, 200)
        const body = fixture("reference-4-webhook-success.json")
        assert.strictEqual((yield* post(url, body, { Signature: HeyGenWebhooks.sign(secret, body) })).status, 200)
        assert.strictEqual((yield* post(url, body, { Signature: HeyGenWebhooks.sign(secret, body) })).status, 200)
        assert.strictEqual(updates.length, 1, "a replayed delivery made a second transition")
        const forged = yield* post(url, body.replace("<video-url>", "https://evil.example/v.mp4"), {
          Signature: HeyGenWebhooks.sign(secret, body)
        })
        assert.strictEqual(forged.status, 401)
        assert.strictEqual((yield* post(url, body)).status, 401)
        const big = JSON.stringify({ event_type: "video_translate.success", event_data: { pad: "x".repeat(5000) } })
        assert.strictEqual((yield* post(url, big, { Signature: HeyGenWebhooks.sign(secret, big) })).status, 413)
        // Without a declared length (chunked), the limit holds while the body is read.
        const chunked = yield* Effect.promise(() =>
          fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", Signature: HeyGenWebhooks.sign(secret, big) },
            body: new Blob([big]).stream(),
            duplex: "half"
          } as RequestInit).then((r) => r.status)
        )
        assert.strictEqual(chunked, 413)
        const notJson = "event_type=video_translate.success"
        assert.strictEqual((yield* post(url, notJson, { Signature: HeyGenWebhooks.sign(secret, notJson) })).status, 400)
        const unknown = JSON.stringify({ event_type: "avatar_video.success", event_data: { video_id: "v1" } })
        assert.strictEqual((yield* post(url, unknown, { Signature: HeyGenWebhooks.sign(secret, unknown) })).status, 200)
        assert.strictEqual(updates.length, 1, "a refused or ignored delivery changed something")
      })
  )

  it.live("the simulator's signed callback reaches the route and reports the job Succeeded", () =>
    Effect.gen(function* () {
      const { updates, url } = yield* serveRoute({ signatureHeader: "X-HeyGen-Signature" })
      const provider = yield* TranslationProvider
      const [job] = yield* provider
        .submit({
          source: Source.url("https://media.example.com/a.mp4"),
          targets: ["es"],
          callback: { url, id: "order-7" }
        })
        .pipe(Submission.all)
      for (let i = 0; i < 100 && updates.length === 0; i++) yield* Effect.sleep(20)
      assert.strictEqual(updates.length, 1)
      assert.strictEqual(refIdentity(updates[0]!.ref), refIdentity(job!.ref))
      assert.strictEqual(updates[0]!.state._tag, "Succeeded")
      assert.strictEqual(updates[0]!.callbackId, "order-7")
    }).pipe(
      Effect.provide(
        Layer.unwrap(
          Effect.map(HeyGenSimulator.Simulator, (sim) =>
            HeyGen.layer({
              apiKey: Redacted.make(sim.apiKey),
              baseUrl: sim.baseUrl,
              budget: { limit: 10_000, window: Duration.seconds(1) }
            })
          )
        ).pipe(
          Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]),
          Layer.provideMerge(
            HeyGenSimulator.layer({
              queuedMs: 20,
              runningMs: 100,
              webhookSecret: Redacted.value(secret),
              signatureHeader: "X-HeyGen-Signature"
            })
          )
        )
      )
    )
  )
})

describe("HeyGen webhook handler", () => {
  const deliver = (handle: HeyGenWebhooks.Handler<never, never>, body: string) =>
    handle(
      HttpServerRequest.fromWeb(
        new Request("http://127.0.0.1/webhooks/heygen", {
          method: "POST",
          headers: { Signature: HeyGenWebhooks.sign(secret, body) },
          body
        })
      )
    )
  const event = (id: string) =>
    JSON.stringify({
      event_type: "video_translate.success",
      event_data: { video_translate_id: id, url: `https://r/${id}` }
    })

  it.effect(
    "remembers the last rememberDeliveries deliveries: a replay within them is ignored, an older one applied",
    () =>
      Effect.gen(function* () {
        const applied: Array<string> = []
        const handle = yield* HeyGenWebhooks.makeHandler({ secret, rememberDeliveries: 2 }, (u) =>
          Effect.sync(() => void applied.push(u.ref.id))
        )
        for (const id of ["a", "b", "c", "c", "b", "a"]) yield* deliver(handle, event(id))
        assert.deepStrictEqual(applied, ["a", "b", "c", "a"])
      })
  )

  it.effect("acknowledges an unknown event type, logs it, and changes nothing", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      let updates = 0
      const handle = yield* HeyGenWebhooks.makeHandler({ secret }, () => Effect.sync(() => void updates++))
      const body = JSON.stringify({ event_type: "avatar_video.success", event_data: { video_id: "v1" } })
      const outcome = yield* deliver(handle, body).pipe(
        Effect.provide(Logger.layer([Logger.make((options) => void lines.push(String(options.message)))]))
      )
      assert.strictEqual(outcome.status, 200)
      assert.strictEqual(updates, 0)
      assert.isTrue(
        lines.some((line) => line.includes('ignoring event type "avatar_video.success"')),
        lines.join("\n")
      )
    })
  )
})

describe("HeyGen webhook secret", () => {
  const body = JSON.stringify({
    event_type: "video_translate.success",
    event_data: { video_translate_id: "forged", url: "https://evil.example/v.mp4" }
  })
  const signedWith = (key: string) =>
    HttpServerRequest.fromWeb(
      new Request("http://127.0.0.1/webhooks/heygen", {
        method: "POST",
        headers: { Signature: HeyGenWebhooks.sign(Redacted.make(key), body) },
        body
      })
    )

  it.effect("an empty, blank or short secret builds neither a handler nor a route, and is never printed", () =>
    Effect.gen(function* () {
      for (const key of ["", "   ", "whsec_short", "  whsec_k7x9m2  "]) {
        const handler = yield* Effect.flip(
          HeyGenWebhooks.makeHandler({ secret: Redacted.make(key) }, () => Effect.void)
        )
        assert.strictEqual(handler._tag, "WebhookConfigError", JSON.stringify(key))
        if (key.trim() !== "") assert.notInclude(handler.message, key.trim())
        const route = yield* Effect.flip(
          HttpRouter.toHttpEffect(HeyGenWebhooks.route({ secret: Redacted.make(key) }, () => Effect.void))
        ).pipe(Effect.scoped)
        assert.strictEqual(route._tag, "WebhookConfigError", JSON.stringify(key))
      }
      const empty = yield* Effect.flip(HeyGenWebhooks.makeHandler({ secret: Redacted.make("") }, () => Effect.void))
      assert.include(empty.message, "empty")
      // Sixteen characters once trimmed is the least accepted.
      yield* HeyGenWebhooks.makeHandler({ secret: Redacted.make(" whsec_0123456789 ") }, () => Effect.void)
    })
  )

  it.effect("a delivery signed with an empty key is never accepted, even when a getter empties the secret later", () =>
    Effect.gen(function* () {
      assert.isFalse(
        HeyGenWebhooks.verify(
          Redacted.make(""),
          new TextEncoder().encode(body),
          HeyGenWebhooks.sign(Redacted.make(""), body)
        )
      )
      let current = secret
      let updates = 0
      const handle = yield* HeyGenWebhooks.makeHandler(
        {
          get secret() {
            return current
          }
        } as HeyGenWebhooks.WebhookOptions,
        () => Effect.sync(() => void updates++)
      )
      assert.strictEqual((yield* handle(signedWith(""))).status, 401)
      current = Redacted.make("")
      assert.strictEqual((yield* handle(signedWith(""))).status, 401)
      current = Redacted.make("short")
      assert.strictEqual((yield* handle(signedWith("short"))).status, 401)
      assert.strictEqual(updates, 0)
    })
  )
})

describe("HeyGen registered webhook endpoints and batches over loopback", () => {
  const clientStack = Layer.unwrap(
    Effect.map(HeyGenSimulator.Simulator, (sim) =>
      HeyGenClient.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        budget: { limit: 10_000, window: Duration.seconds(1) }
      }).pipe(Layer.provide(HeyGenClient.layerRateLimiterMemory))
    )
  ).pipe(
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.provideMerge(HeyGenSimulator.layer({ queuedMs: 20, runningMs: 100 }))
  )

  it.live("registers an endpoint (after the OPTIONS probe) and receives events signed with its own secret", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const sim = yield* HeyGenSimulator.Simulator
      const updates: Array<HeyGenWebhooks.Update> = []
      // A placeholder until the endpoint is registered: long enough to build the route, signing nothing HeyGen sends.
      let routeSecret = Redacted.make("whsec_placeholder_until_registered")
      const app = yield* HttpRouter.toHttpEffect(
        HeyGenWebhooks.route(
          {
            get secret() {
              return routeSecret
            }
          } as HeyGenWebhooks.WebhookOptions,
          (u) => Effect.sync(() => void updates.push(u))
        )
      )
      const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" }).pipe(Effect.orDie)
      yield* server.serve(app)
      const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port
      const refused = yield* Effect.flip(client.createWebhookEndpoint({ url: "http://127.0.0.1:9/nothing" }))
      assert.isTrue(refused._tag === "InvalidRequest" && refused.param === "url", String(refused))
      const created = yield* client.createWebhookEndpoint({
        url: `http://127.0.0.1:${port}/webhooks/heygen`,
        events: ["video_translate.success"]
      })
      assert.match(created.data.secret ?? "", /^whsec_/)
      routeSecret = Redacted.make(created.data.secret!)
      const listed = yield* client.listWebhookEndpoints()
      assert.deepStrictEqual(
        listed.data.map((e) => e.endpoint_id),
        [created.data.endpoint_id]
      )
      assert.isUndefined(listed.data[0]!.secret, "the secret is shown only on create and rotate")
      const answer = yield* client.createTranslation({
        video: { type: "url", url: "https://m.example.com/a.mp4" },
        output_languages: ["Spanish"]
      })
      for (let i = 0; i < 100 && updates.length === 0; i++) yield* Effect.sleep(20)
      assert.strictEqual(updates.length, 1)
      assert.strictEqual(updates[0]!.ref.id, answer.data.video_translation_ids[0])
      // After rotation, events signed with the new secret are refused by a route still holding the old one.
      yield* client.rotateWebhookSecret(created.data.endpoint_id)
      yield* client.createTranslation({
        video: { type: "url", url: "https://m.example.com/b.mp4" },
        output_languages: ["French"]
      })
      for (let i = 0; i < 100 && sim.callbacks().length < 2; i++) yield* Effect.sleep(20)
      assert.strictEqual(sim.callbacks()[1]!.status, 401)
      assert.strictEqual(updates.length, 1)
      const history = yield* client.webhookEvents({ eventType: "video_translate.success" })
      assert.strictEqual(history.data.length, 2)
    }).pipe(Effect.provide(clientStack))
  )

  it.live("creates a batch whose bad item fails alone, and follows it to completed", () =>
    Effect.gen(function* () {
      const client = yield* HeyGenClient.HeyGenClient
      const { data } = yield* client.createBatch({
        video_translations: [
          { video: { type: "url", url: "https://m.example.com/a.mp4" }, output_languages: ["Spanish", "French"] },
          { video: { type: "url", url: "https://m.example.com/b.mp4" }, output_languages: ["Klingon"] }
        ]
      })
      let batch = yield* client.getBatch(data.batch_id)
      assert.strictEqual(batch.data.total_items, 3)
      for (let i = 0; i < 50 && batch.data.status === "processing"; i++) {
        yield* Effect.sleep(30)
        batch = yield* client.getBatch(data.batch_id)
      }
      assert.strictEqual(batch.data.status, "completed")
      assert.deepStrictEqual(
        batch.data.items.map((i) => i.status),
        ["completed", "completed", "failed"]
      )
    }).pipe(Effect.provide(clientStack))
  )
})
