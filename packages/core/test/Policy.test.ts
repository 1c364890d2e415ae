import { assert, describe, it } from "@effect/vitest"
import { InvalidRequest, Policy, ProviderUnavailable, RateLimited, type TranslationError } from "@polydub/core"
import { Duration, Effect, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"

const ctx = { provider: "heygen", operation: "test" }
const unavailable = (outcome: "not-sent" | "unknown") =>
  new ProviderUnavailable({ ...ctx, outcome, status: 503, message: "down" })

describe("Policy.parseRetryAfter", () => {
  const now = Date.parse("2026-11-23T12:00:00Z")
  it("reads delta-seconds", () => {
    assert.deepStrictEqual(Policy.parseRetryAfter("120", now), Option.some(Duration.seconds(120)))
    assert.deepStrictEqual(Policy.parseRetryAfter(" 0 ", now), Option.some(Duration.seconds(0)))
  })
  it("reads an HTTP date", () => {
    assert.deepStrictEqual(
      Policy.parseRetryAfter("Mon, 23 Nov 2026 12:00:30 GMT", now),
      Option.some(Duration.millis(30_000))
    )
    assert.deepStrictEqual(Policy.parseRetryAfter("Mon, 23 Nov 2026 11:00:00 GMT", now), Option.some(Duration.zero))
  })
  it("ignores garbage", () => {
    for (const value of [undefined, "", "-5", "1.5", "soon", "12abc"]) {
      assert.isTrue(Option.isNone(Policy.parseRetryAfter(value, now)), String(value))
    }
  })
})

describe("Policy.shouldRetry", () => {
  it("never retries a request that may have been processed unless it is idempotent", () => {
    assert.isFalse(Policy.shouldRetry(unavailable("unknown"), { idempotent: false }))
    assert.isTrue(Policy.shouldRetry(unavailable("unknown"), { idempotent: true }))
    assert.isTrue(Policy.shouldRetry(unavailable("not-sent"), { idempotent: false }))
  })
  it("retries rate limits always and invalid requests never", () => {
    const limited = new RateLimited({ ...ctx, scope: "requests", message: "slow down" })
    assert.isTrue(Policy.shouldRetry(limited, { idempotent: false }))
    assert.isFalse(Policy.shouldRetry(new InvalidRequest({ ...ctx, message: "bad" }), { idempotent: true }))
  })
})

describe("Policy.withRetry", () => {
  const flaky = (errors: Array<TranslationError>) => {
    let calls = 0
    const effect = Effect.suspend(() => {
      calls += 1
      const next = errors.shift()
      return next === undefined ? Effect.succeed("ok") : Effect.fail(next)
    })
    return { effect, calls: () => calls }
  }

  it.effect("sends a non-idempotent request once when its outcome is unknown", () =>
    Effect.gen(function* () {
      const { calls, effect } = flaky([unavailable("unknown")])
      const error = yield* Effect.flip(effect.pipe(Policy.withRetry({ idempotent: false })))
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.strictEqual(calls(), 1)
    })
  )

  it.effect("waits at least the vendor's Retry-After", () =>
    Effect.gen(function* () {
      const { calls, effect } = flaky([
        new RateLimited({ ...ctx, scope: "requests", message: "slow", retryAfter: Duration.seconds(20) })
      ])
      const fiber = yield* Effect.forkChild(effect.pipe(Policy.withRetry({ idempotent: false, base: 100 })))
      yield* TestClock.adjust(Duration.seconds(19))
      assert.strictEqual(calls(), 1, "retried before Retry-After")
      yield* TestClock.adjust(Duration.seconds(2))
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      assert.strictEqual(calls(), 2)
    })
  )

  it.effect("caps Retry-After and gives up after `times` retries", () =>
    Effect.gen(function* () {
      const limited = () =>
        new RateLimited({ ...ctx, scope: "requests", message: "slow", retryAfter: Duration.hours(1) })
      const { calls, effect } = flaky([limited(), limited(), limited(), limited()])
      const fiber = yield* Effect.forkChild(
        Effect.flip(effect.pipe(Policy.withRetry({ idempotent: true, times: 2, cap: Duration.seconds(10) })))
      )
      yield* TestClock.adjust(Duration.seconds(25))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(calls(), 3)
    })
  )

  it.effect("with `times: 0` sends once, even what it could retry", () =>
    Effect.gen(function* () {
      const { calls, effect } = flaky([unavailable("not-sent")])
      const error = yield* Effect.flip(effect.pipe(Policy.withRetry({ idempotent: true, times: 0 })))
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.strictEqual(calls(), 1)
    })
  )

  it.effect("`retryIf` stops what Policy alone would retry, on the first failure and on later ones", () =>
    Effect.gen(function* () {
      const concurrency = () => new RateLimited({ ...ctx, scope: "concurrency", message: "busy" })
      const notConcurrency = (e: TranslationError) => !(e._tag === "RateLimited" && e.scope === "concurrency")
      const first = flaky([concurrency()])
      const once = yield* Effect.forkChild(
        Effect.flip(first.effect.pipe(Policy.withRetry({ idempotent: false, base: 100, retryIf: notConcurrency })))
      )
      yield* TestClock.adjust(Duration.seconds(10))
      const refused = yield* Fiber.join(once)
      assert.strictEqual(refused._tag, "RateLimited")
      assert.strictEqual(first.calls(), 1)
      // A refused connection is retried; the concurrency refusal that follows it is not.
      const later = flaky([unavailable("not-sent"), concurrency(), unavailable("not-sent")])
      const fiber = yield* Effect.forkChild(
        Effect.flip(later.effect.pipe(Policy.withRetry({ idempotent: false, base: 100, retryIf: notConcurrency })))
      )
      yield* TestClock.adjust(Duration.seconds(10))
      assert.strictEqual((yield* Fiber.join(fiber))._tag, "RateLimited")
      assert.strictEqual(later.calls(), 2)
    })
  )

  it.effect("gives every run of the same effect its own retries", () =>
    Effect.gen(function* () {
      // Every first attempt fails and every second succeeds.
      let calls = 0
      const effect = Effect.suspend(() =>
        ++calls % 2 === 1 ? Effect.fail(unavailable("not-sent")) : Effect.succeed("ok")
      )
      const read = effect.pipe(Policy.withRetry({ idempotent: false, times: 1, base: 100 }))
      for (let run = 0; run < 2; run++) {
        const fiber = yield* Effect.forkChild(read)
        yield* TestClock.adjust(Duration.seconds(1))
        assert.strictEqual(yield* Fiber.join(fiber), "ok")
      }
      assert.strictEqual(calls, 4)
    })
  )
})

describe("Policy.mintIdempotencyKey", () => {
  it.effect("mints distinct keys that vendors accept", () =>
    Effect.gen(function* () {
      const a = yield* Policy.mintIdempotencyKey
      const b = yield* Policy.mintIdempotencyKey
      assert.notStrictEqual(a, b)
      assert.match(a, Policy.idempotencyKeyPattern)
    })
  )
})
