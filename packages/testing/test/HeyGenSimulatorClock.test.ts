// The HeyGen simulator in process reads time from `Clock`: under `it.effect` (TestClock) a job's
// lifecycle, the expiry of its links and the 24-hour idempotency window move only when the test
// moves the clock, whatever the wall clock does. Requests go through the in-process router with
// an `HttpClient`, as the provider's own tests do.

import { assert, describe, it } from "@effect/vitest"
import * as HeyGenSimulator from "@polydub/testing/HeyGenSimulator"
import { Duration, Effect, Layer } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { TestClock } from "effect/testing"

const video = { type: "url", url: "https://example.com/source.mp4" }

const call = (method: "GET" | "POST", path: string, body?: unknown, headers: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const sim = yield* HeyGenSimulator.Simulator
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(`${sim.baseUrl}${path}`).pipe(
      HttpClientRequest.setHeaders({ "x-api-key": sim.apiKey, ...headers })
    )
    if (body !== undefined) request = HttpClientRequest.bodyJsonUnsafe(request, body)
    const response = yield* client.execute(request)
    return { status: response.status, json: (yield* response.json) as any }
  }).pipe(Effect.orDie)

/** Lets the wall clock run, so a simulator on `Date.now()` would move on. */
const wallClockPasses = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

describe("HeyGenSimulator on TestClock", () => {
  it.effect("a translation goes pending → running → completed only as TestClock.adjust moves time", () =>
    Effect.gen(function* () {
      const created = yield* call("POST", "/v3/video-translations", { video, output_languages: ["Spanish"] })
      assert.strictEqual(created.status, 200, JSON.stringify(created.json))
      const id: string = created.json.data.video_translation_ids[0]
      const status = () => call("GET", `/v3/video-translations/${id}`).pipe(Effect.map((r) => r.json.data))

      assert.strictEqual((yield* status()).status, "pending")
      yield* wallClockPasses(120)
      assert.strictEqual((yield* status()).status, "pending", "the wall clock does not move the job")

      yield* TestClock.adjust(Duration.millis(50))
      assert.strictEqual((yield* status()).status, "running")
      yield* TestClock.adjust(Duration.millis(99))
      assert.strictEqual((yield* status()).status, "running")
      yield* TestClock.adjust(Duration.millis(1))
      const done = yield* status()
      assert.strictEqual(done.status, "completed")
      assert.isString(done.video_url)
    }).pipe(Effect.provide(HeyGenSimulator.layerInProcess({ queuedMs: 50, runningMs: 100 })))
  )

  it.effect("links expire and idempotency keys are forgotten on the simulator's clock", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const client = yield* HttpClient.HttpClient
      const key = { "idempotency-key": "clock-1" }
      const first = yield* call("POST", "/v3/video-translations", { video, output_languages: ["French"] }, key)
      const id: string = first.json.data.video_translation_ids[0]
      yield* TestClock.adjust(Duration.millis(20))
      const url: string = (yield* call("GET", `/v3/video-translations/${id}`)).json.data.video_url
      const fetchFile = client.get(url).pipe(
        Effect.map((r) => r.status),
        Effect.orDie
      )
      assert.strictEqual(yield* fetchFile, 200)
      yield* TestClock.adjust(Duration.seconds(61))
      assert.strictEqual(yield* fetchFile, 403, "expired once the simulator's clock passed Expires")

      const replay = yield* call("POST", "/v3/video-translations", { video, output_languages: ["French"] }, key)
      assert.deepStrictEqual(replay.json, first.json)
      assert.strictEqual(sim.replays(), 1)
      yield* TestClock.adjust(Duration.hours(24))
      const fresh = yield* call("POST", "/v3/video-translations", { video, output_languages: ["French"] }, key)
      assert.notDeepEqual(fresh.json, first.json, "after 24 hours the key is new again")
      assert.strictEqual(sim.billableSubmissions(), 2)
    }).pipe(
      Effect.provide(HeyGenSimulator.layerInProcess({ queuedMs: 5, runningMs: 10, urlTtlMs: 60_000 }).pipe(Layer.fresh))
    )
  )
})
