import { assert, describe, it } from "@effect/vitest"
import { ProviderTransport, type TranslationError } from "@polydub/core"
import { Clock, Duration, Effect, Fiber, Layer, Redacted, Schema, Stream, Tracer } from "effect"
import { Headers, HttpClient, type HttpClientRequest, HttpClientResponse } from "effect/http"
import { RateLimiter } from "effect/persistence"
import { TestClock } from "effect/testing"

const apiKey = "sk_live_SECRET_never_print_me"

interface Sent {
  readonly method: string
  readonly url: string
  readonly headers: Headers.Headers
  readonly at: number
}

/** A fake vendor: answers each request with the next scripted answer (the last one repeats), and records it. */
const vendor = (answers: ReadonlyArray<{ status: number; body: string; headers?: Record<string, string> }>) => {
  const sent: Array<Sent> = []
  const client = HttpClient.make((request: HttpClientRequest.HttpClientRequest) =>
    Effect.map(Clock.currentTimeMillis, (at) => {
      sent.push({ method: request.method, url: request.url, headers: request.headers, at })
      const answer = answers[Math.min(sent.length - 1, answers.length - 1)]!
      return HttpClientResponse.fromWeb(
        request,
        new Response(answer.body, { status: answer.status, headers: answer.headers ?? {} })
      )
    })
  )
  return { sent, client }
}

/** The limiter keys asked for, over the in-memory store. */
const recordingLimiter = (keys: Array<string>) =>
  Layer.effect(
    RateLimiter.RateLimiter,
    Effect.map(RateLimiter.make, (real) => ({
      ...real,
      consume: (options: Parameters<RateLimiter.RateLimiter["consume"]>[0]) => {
        keys.push(options.key)
        return real.consume(options)
      }
    }))
  ).pipe(Layer.provide(RateLimiter.layerStoreMemory))

const Thing = Schema.Struct({ id: Schema.String })
const read = { operation: "read", method: "GET", schema: Thing } as const
const create = { operation: "create", method: "POST", schema: Thing } as const

const options = (overrides: Partial<ProviderTransport.Options> = {}): ProviderTransport.Options => ({
  provider: "acme",
  name: "Acme",
  baseUrl: "https://api.acme.test/",
  apiKey: Redacted.make(apiKey),
  auth: { header: "X-Api-Key" },
  budgets: { "": { limit: 1000, window: Duration.seconds(1) } },
  reserve: 0,
  timeouts: { read: Duration.seconds(30), write: Duration.seconds(60) },
  idempotencyHeader: "Idempotency-Key",
  errorOf: ({ operation, status, retryAfter }) =>
    ProviderTransport.statusError("acme", "Acme", { operation, status, retryAfter, param: "field" }),
  ...overrides
})

/** A transport over `client`, with the limiter keys it asks for recorded in `keys`. */
const transportOver = (
  client: HttpClient.HttpClient,
  overrides: Partial<ProviderTransport.Options> = {},
  keys: Array<string> = []
) =>
  ProviderTransport.make(options(overrides)).pipe(
    Effect.provideService(HttpClient.HttpClient, client),
    Effect.provide(recordingLimiter(keys))
  )

/** Runs `effect` with time moving: the retries' backoff runs on the `TestClock`. */
const withTime = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(Duration.minutes(5))
    return yield* Fiber.join(fiber)
  })

describe("ProviderTransport", () => {
  it.effect("sends the key in its header, and keeps it out of spans where an application records every header", () =>
    Effect.gen(function* () {
      for (const auth of [{ header: "X-Api-Key" }, "bearer"] as const) {
        const { sent, client } = vendor([{ status: 200, body: `{"id":"a"}` }])
        const transport = yield* transportOver(client, { auth })
        const spans: Array<Tracer.NativeSpan> = []
        const tracer = Tracer.make({
          span: (o) => {
            const span = new Tracer.NativeSpan(o)
            spans.push(span)
            return span
          }
        })
        const thing = yield* transport.call(read, { path: "/things/a" }).pipe(
          Effect.withTracer(tracer),
          Effect.provideService(HttpClient.TracerHeaderFilter, () => true),
          Effect.provideService(Headers.CurrentRedactedNames, ["cookie"])
        )
        assert.deepStrictEqual(thing, { id: "a" })
        assert.strictEqual(sent[0]!.url, "https://api.acme.test/things/a")
        const header = auth === "bearer" ? "authorization" : "x-api-key"
        assert.strictEqual(sent[0]!.headers[header], auth === "bearer" ? `Bearer ${apiKey}` : apiKey)
        const attributes = spans.map((span) => JSON.stringify([span.name, ...span.attributes])).join("\n")
        assert.include(attributes, header, "the client span records the request headers")
        assert.notInclude(attributes, "SECRET")
      }
    })
  )

  it.effect("maps an error answer by its status where the vendor's table has no code", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [number, string]> = [
        [401, "AuthenticationFailed"],
        [402, "InsufficientCredits"],
        [403, "PermissionDenied"],
        [404, "NotFound"],
        [409, "RequestInProgress"],
        [413, "PayloadTooLarge"],
        [429, "RateLimited"],
        [422, "InvalidRequest"],
        [500, "ProviderUnavailable"]
      ]
      for (const [status, tag] of cases) {
        const { client } = vendor([{ status, body: "<html>gateway</html>", headers: { "retry-after": "7" } }])
        const transport = yield* transportOver(client, { retries: 0 })
        const error = yield* Effect.flip(transport.call(read, { path: "/things/a" }))
        assert.strictEqual(error._tag, tag, `HTTP ${status}`)
        assert.strictEqual(error.status, status)
        assert.strictEqual(error.message, `Acme answered HTTP ${status}`)
        if (error._tag === "RateLimited") {
          assert.strictEqual(error.scope, "requests")
          assert.strictEqual(Duration.toMillis(error.retryAfter!), 7000)
        }
        if (error._tag === "InvalidRequest") assert.strictEqual(error.param, "field")
        if (error._tag === "ProviderUnavailable") assert.strictEqual(error.outcome, "unknown")
      }
    })
  )

  it.effect(
    "an unreadable 2xx to a mutation is an unknown outcome and is not sent again; to a read it is a bad answer",
    () =>
      Effect.gen(function* () {
        const post = vendor([{ status: 201, body: `{"identifier":"a"}` }])
        const transport = yield* transportOver(post.client)
        const error = yield* Effect.flip(withTime(transport.call(create, { path: "/things", json: { name: "a" } })))
        assert.strictEqual(error._tag, "ProviderUnavailable")
        if (error._tag === "ProviderUnavailable") {
          assert.strictEqual(error.outcome, "unknown")
          assert.strictEqual(error.status, 201)
          assert.match(error.message, /Acme answered create with a body that cannot be read/)
        }
        assert.strictEqual(post.sent.length, 1, "a POST that may have been processed is not sent again")

        const get = vendor([{ status: 200, body: `{"identifier":"a"}` }])
        const reader = yield* transportOver(get.client, { retries: 0 })
        const bad = yield* Effect.flip(reader.call(read, { path: "/things/a" }))
        assert.strictEqual(bad._tag, "UnexpectedResponse")
        if (bad._tag === "UnexpectedResponse") assert.strictEqual(bad.path, "id")
      })
  )

  it.effect("retries only where Policy allows: reads and keyed writes on a 503, an unkeyed write never", () =>
    Effect.gen(function* () {
      const flaky = [
        { status: 503, body: "" },
        { status: 200, body: `{"id":"a"}` }
      ]
      const unkeyed = vendor(flaky)
      const t1 = yield* transportOver(unkeyed.client)
      const refused: TranslationError = yield* Effect.flip(withTime(t1.call(create, { path: "/things", json: {} })))
      assert.strictEqual(refused._tag, "ProviderUnavailable")
      assert.strictEqual(unkeyed.sent.length, 1, "an unkeyed POST answered 503 may have been processed")

      const keyed = vendor(flaky)
      const t2 = yield* transportOver(keyed.client)
      const created = yield* withTime(t2.call(create, { path: "/things", json: {}, idempotencyKey: "pd-1" }))
      assert.deepStrictEqual(created, { id: "a" })
      assert.deepStrictEqual(
        keyed.sent.map((s) => s.headers["idempotency-key"]),
        ["pd-1", "pd-1"],
        "the retry carries the same key"
      )

      const reads = vendor(flaky)
      const t3 = yield* transportOver(reads.client)
      assert.deepStrictEqual(yield* withTime(t3.call(read, { path: "/things/a" })), { id: "a" })
      assert.strictEqual(reads.sent.length, 2)

      // A vendor that takes no idempotency header: a key is not sent and does not make a POST safe.
      const noHeader = vendor(flaky)
      const t4 = yield* transportOver(noHeader.client, { idempotencyHeader: undefined })
      yield* Effect.flip(withTime(t4.call(create, { path: "/things", json: {}, idempotencyKey: "pd-2" })))
      assert.strictEqual(noHeader.sent.length, 1)
      assert.isUndefined(noHeader.sent[0]!.headers["idempotency-key"])
    })
  )

  it.effect("a body that cannot be streamed twice is sent once, even where Policy would retry", () =>
    Effect.gen(function* () {
      const flaky = [
        { status: 503, body: "" },
        { status: 201, body: `{"id":"a"}` }
      ]
      const body = (replayable: boolean) => ({
        contentType: "application/octet-stream",
        contentLength: 3,
        stream: Stream.make(new Uint8Array([1, 2, 3])),
        replayable
      })
      const once = vendor(flaky)
      const t1 = yield* transportOver(once.client)
      const error = yield* Effect.flip(
        withTime(t1.call(create, { path: "/files", body: body(false), idempotencyKey: "pd-3" }))
      )
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.strictEqual(once.sent.length, 1)
      const again = vendor(flaky)
      const t2 = yield* transportOver(again.client)
      yield* withTime(t2.call(create, { path: "/files", body: body(true), idempotencyKey: "pd-4" }))
      assert.strictEqual(again.sent.length, 2)
    })
  )

  it.effect("a 429 to an unkeyed POST is sent again, no sooner than its Retry-After", () =>
    Effect.gen(function* () {
      const limited = vendor([
        { status: 429, body: "", headers: { "retry-after": "20" } },
        { status: 201, body: `{"id":"a"}` }
      ])
      const transport = yield* transportOver(limited.client)
      assert.deepStrictEqual(yield* withTime(transport.call(create, { path: "/things", json: {} })), { id: "a" })
      assert.strictEqual(limited.sent.length, 2)
      assert.isAtLeast(limited.sent[1]!.at - limited.sent[0]!.at, 20_000)
    })
  )

  it.effect("keys each budget by a hash of the API key, never the key itself", () =>
    Effect.gen(function* () {
      const keys: Array<string> = []
      const { client } = vendor([{ status: 200, body: `{"id":"a"}` }])
      const budgets = {
        status: { limit: 30, window: Duration.minutes(1) },
        uploads: { limit: 10, window: Duration.minutes(1) }
      }
      const transport = yield* transportOver(client, { budgets }, keys)
      yield* transport.call({ ...read, budget: "uploads" }, { path: "/things/a" })
      yield* transport.call(read, { path: "/things/a" })
      const hash = ProviderTransport.keyHash("acme", Redacted.make(apiKey))
      assert.match(hash, /^acme:[0-9a-f]{16}$/)
      assert.deepStrictEqual(keys, [`${hash}:uploads`, `${hash}:status`])
      assert.notInclude(keys.join(" "), "SECRET")
      assert.notStrictEqual(hash, ProviderTransport.keyHash("acme", Redacted.make("another key")))
    })
  )
})
