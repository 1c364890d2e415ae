import { assert, describe, it } from "@effect/vitest"
import { ProviderHttp } from "@polydub/core"
import { Clock, DateTime, Duration, Effect, Fiber, Layer, Option } from "effect"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "effect/http"
import { RateLimiter } from "effect/persistence"
import { TestClock } from "effect/testing"

/** Sends `count` requests at once through `budgetSlots(budget, reserve)` and returns when each left. */
const sendTimes = (budget: { limit: number; window: Duration.Input }, reserve: number, count: number) =>
  Effect.gen(function* () {
    const sent: Array<number> = []
    const fake = HttpClient.make((request) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        sent.push(now)
        return HttpClientResponse.fromWeb(request, new Response("{}"))
      })
    )
    const client = fake.pipe(
      HttpClient.withRateLimiter({
        limiter: yield* RateLimiter.RateLimiter,
        key: "test",
        ...ProviderHttp.budgetSlots(budget, reserve),
        algorithm: "fixed-window",
        times: 0,
        disableAdaptiveLearning: true
      })
    )
    const fiber = yield* Effect.forkChild(
      Effect.forEach(Array.from({ length: count }), () => client.execute(HttpClientRequest.get("http://x/")), {
        concurrency: "unbounded"
      })
    )
    yield* TestClock.adjust(Duration.minutes(10))
    yield* Fiber.join(fiber)
    return sent.sort((a, b) => a - b)
  }).pipe(Effect.provide(RateLimiter.layer.pipe(Layer.provide(RateLimiter.layerStoreMemory))))

/** The most requests any window of `windowMs` holds. */
const busiest = (times: ReadonlyArray<number>, windowMs: number) => {
  let most = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

describe("ProviderHttp.budgetSlots", () => {
  it("spreads a documented budget one request per slot, as before", () => {
    // VoiceCheap's 30 status reads a minute with two in reserve: one every 2,143 ms.
    const slots = ProviderHttp.budgetSlots({ limit: 30, window: Duration.minutes(1) }, 2)
    assert.strictEqual(slots.limit, 1)
    assert.strictEqual(Duration.toMillis(slots.window), 2143)
  })

  it.effect("keeps every window of a small budget within it", () =>
    Effect.gen(function* () {
      const sent = yield* sendTimes({ limit: 10, window: Duration.seconds(1) }, 1, 40)
      assert.strictEqual(sent.length, 40)
      assert.isAtMost(busiest(sent, 1000), 10)
    })
  )

  it.effect("honours a budget finer than one request a millisecond, without passing it", () =>
    Effect.gen(function* () {
      // 2,000 per 100 ms is 20 a millisecond. Rounded up to one per 1 ms slot, 6,000 requests
      // would take 6 s; spread several per slot they take about a third of a second.
      const sent = yield* sendTimes({ limit: 2000, window: Duration.millis(100) }, 2, 6000)
      assert.strictEqual(sent.length, 6000)
      assert.isAtMost(busiest(sent, 100), 2000)
      assert.isBelow(sent.at(-1)! - sent[0]!, 500)
    })
  )
})

describe("ProviderHttp.enforcedBudget", () => {
  it("paces a caller exactly at the limiter's slots: one request per slot, never more", () => {
    const budgets: Array<[limit: number, window: Duration.Input, reserve: number]> = [
      [30, Duration.minutes(1), 2],
      [10, Duration.minutes(1), 2],
      [120, Duration.minutes(1), 1],
      [7, Duration.seconds(1), 1],
      [2, Duration.minutes(1), 2],
      [10_000, Duration.seconds(1), 1]
    ]
    for (const [limit, window, reserve] of budgets) {
      const enforced = ProviderHttp.enforcedBudget({ limit, window }, reserve)
      const slots = ProviderHttp.budgetSlots({ limit, window }, reserve)
      // A JobTracker's spacing for a budget.
      const spacing = Math.ceil(Duration.toMillis(enforced.window) / enforced.limit)
      const slotMs = Duration.toMillis(slots.window)
      if (slots.limit === 1) assert.strictEqual(spacing, slotMs, `${limit} per ${Duration.format(enforced.window)}`)
      else assert.isAtMost(slotMs / spacing, slots.limit, `${limit} per ${Duration.format(enforced.window)}`)
    }
    assert.strictEqual(ProviderHttp.enforcedBudget({ limit: 30, window: Duration.minutes(1) }, 2).limit, 28)
  })
})

describe("ProviderHttp.presignedExpiry", () => {
  it("reads S3 and CloudFront expiries and nothing from a plain URL", () => {
    const s3 = ProviderHttp.presignedExpiry(
      "https://b.s3.amazonaws.com/o.mp4?X-Amz-Date=20261123T120000Z&X-Amz-Expires=3600&X-Amz-Signature=ab%2Fcd"
    )
    assert.deepStrictEqual(Option.map(s3, DateTime.formatIso), Option.some("2026-11-23T13:00:00.000Z"))
    const cloudFront = ProviderHttp.presignedExpiry("https://d.cloudfront.net/o.mp4?Expires=1795000000&Signature=x")
    assert.deepStrictEqual(Option.map(cloudFront, DateTime.toEpochMillis), Option.some(1_795_000_000_000))
    // A percent-encoded name still counts, as URLSearchParams decodes it.
    const encoded = ProviderHttp.presignedExpiry("https://d.example/o.mp4?%45xpires=1795000000")
    assert.deepStrictEqual(Option.map(encoded, DateTime.toEpochMillis), Option.some(1_795_000_000_000))
    assert.isTrue(Option.isNone(ProviderHttp.presignedExpiry("https://d.example/o.mp4")))
    assert.isTrue(Option.isNone(ProviderHttp.presignedExpiry("https://d.example/o.mp4?sig=abc")))
    assert.isTrue(Option.isNone(ProviderHttp.presignedExpiry("not a url?Expires=1795000000")))
  })
})
