// `polydub serve`: what it refuses before anything starts (no database, a bad port, a webhook secret
// too short to be one), and the server itself on a test database, in this process with its own
// environment: the API, its OpenAPI document and the HeyGen webhook route answer over loopback.

import { assert, describe, it } from "@effect/vitest"
import { run } from "@polydub/cli"
import { HeyGenWebhooks } from "@polydub/provider-heygen"
import { Loopback } from "@polydub/testing"
import { ConfigProvider, Duration, Effect, Fiber, Layer, Redacted, Schedule } from "effect"
import { TestConsole } from "effect/testing"
import { layerTestDatabase, TestDatabase } from "../../fleet/test/services.js"

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function* () {
    const code = yield* run(args)
    const err = (yield* TestConsole.errorLines).map(String).join("\n")
    return { code, err }
  }).pipe(Effect.provide(Layer.mergeAll(TestConsole.layer, ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))))

const get = (url: string, init?: RequestInit) =>
  Effect.tryPromise(() => fetch(url, init).then(async (r) => ({ status: r.status, text: await r.text() }))).pipe(
    Effect.timeout(Duration.seconds(2))
  )

const secret = "whsec_0123456789abcdef0123456789abcdef"

describe("polydub serve", () => {
  it.live("needs POLYDUB_DATABASE_URL, and says so", () =>
    Effect.gen(function* () {
      const { code, err } = yield* cli(["serve"], {})
      assert.strictEqual(code, 2)
      assert.include(err, "POLYDUB_DATABASE_URL")
    })
  )

  it.live("refuses a port that is not one", () =>
    Effect.gen(function* () {
      const { code, err } = yield* cli(["serve", "--port", "0"], { POLYDUB_DATABASE_URL: "postgres://u@127.0.0.1:1/x" })
      assert.strictEqual(code, 2)
      assert.include(err, "--port")
    })
  )

  it.live(
    "serves the API, its OpenAPI document and the HeyGen webhook route; refuses a webhook secret that is not one",
    () =>
      Effect.gen(function* () {
        const database = yield* TestDatabase
        const port = yield* Loopback.freePort
        const base = `http://127.0.0.1:${port}`
        const env = { POLYDUB_DATABASE_URL: database.url, HEYGEN_WEBHOOK_SECRET: secret }
        const server = yield* Effect.forkChild(cli(["serve", "--port", String(port), "--table-prefix", "serve_"], env))
        const health = yield* get(`${base}/v1/health`).pipe(
          Effect.retry({ schedule: Schedule.spaced(Duration.millis(200)), times: 100 }),
          Effect.catch(() => Effect.succeed({ status: 0, text: "" }))
        )
        assert.strictEqual(health.status, 200, health.text)
        const doc = yield* get(`${base}/openapi.json`)
        assert.strictEqual(doc.status, 200)
        assert.include(doc.text, "/v1/workflows/{ref}/approve")
        const body = JSON.stringify({ event_type: "proofread_creation.success", event_data: { proofread_id: "p1" } })
        const forged = yield* get(`${base}/webhooks/heygen`, {
          method: "POST",
          body,
          headers: { Signature: HeyGenWebhooks.sign(Redacted.make("whsec_some_other_secret_00000"), body) }
        })
        assert.strictEqual(forged.status, 401)
        // Signed, for a job this fleet never recorded: acknowledged, nothing recorded.
        const signed = yield* get(`${base}/webhooks/heygen`, {
          method: "POST",
          body,
          headers: { Signature: HeyGenWebhooks.sign(Redacted.make(secret), body) }
        })
        assert.strictEqual(signed.status, 200, signed.text)
        const missing = yield* get(`${base}/v1/workflows/workflow:nope`)
        assert.strictEqual(missing.status, 404)
        // The review desk is mounted beside the API, on the fleet's workflows awaiting review.
        const desk = yield* get(`${base}/review/api/jobs`)
        assert.strictEqual(desk.status, 200, desk.text)
        assert.deepStrictEqual(JSON.parse(desk.text), { mode: "fleet", jobs: [] })
        const unknown = yield* get(`${base}/review/api/transcript?ref=workflow:nope`)
        assert.strictEqual(unknown.status, 404, unknown.text)
        yield* Fiber.interrupt(server)
        const { err } = yield* Fiber.join(server).pipe(Effect.catchCause(() => Effect.succeed({ err: "" })))
        assert.notInclude(err, secret)

        const short = yield* cli(["serve", "--port", String(yield* Loopback.freePort), "--table-prefix", "serve_"], {
          POLYDUB_DATABASE_URL: database.url,
          HEYGEN_WEBHOOK_SECRET: "short"
        })
        assert.strictEqual(short.code, 2)
        assert.include(short.err, "HEYGEN_WEBHOOK_SECRET")
        assert.notInclude(short.err, "short\n")
      }).pipe(Effect.provide(layerTestDatabase)),
    60_000
  )
})
