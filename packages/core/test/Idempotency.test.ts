// The restart-safe idempotency protocol in core: a pending key is written before the submission,
// found again by a rerun of the same request, refused past the vendor's window unless resubmitting,
// and removed by `done`. On the TestClock, with the memory store.

import { assert, describe, it } from "@effect/vitest"
import { Idempotency, JobStore } from "@polydub/core"
import { Duration, Effect } from "effect"
import { TestClock } from "effect/testing"

const window = Duration.hours(24)
const fingerprint = Idempotency.fingerprint(["https://media.example.com/a.mp4", ["es", "fr"], false])
const options = { provider: "heygen", fingerprint, targets: ["es", "fr"], window }

describe("Idempotency.pendingKey", () => {
  it("fingerprints a request by a hash of its parts, never the parts", () => {
    assert.match(fingerprint, /^sha256:[0-9a-f]{64}$/)
    assert.notInclude(fingerprint, "media.example.com")
    assert.notStrictEqual(Idempotency.fingerprint(["https://media.example.com/a.mp4", ["es"], false]), fingerprint)
  })

  it.effect("writes a new key as pending, hands the same one to a rerun, and forgets it when done", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      const first = yield* Idempotency.pendingKey(store, options)
      assert.strictEqual(first.origin, "new")
      assert.deepStrictEqual(
        (yield* store.load).pending.map((p) => [p.idempotencyKey, p.fingerprint]),
        [[first.key, fingerprint]]
      )
      // The process died before `done`: the next run of the same request resumes the key.
      yield* TestClock.adjust(Duration.hours(23))
      const again = yield* Idempotency.pendingKey(store, options)
      assert.strictEqual(again.origin, "resumed")
      assert.strictEqual(again.key, first.key)
      // Another request, or another provider, gets its own key.
      const other = yield* Idempotency.pendingKey(store, { ...options, fingerprint: "sha256:other" })
      assert.notStrictEqual(other.key, first.key)
      const elsewhere = yield* Idempotency.pendingKey(store, { ...options, provider: "voicecheap" })
      assert.notStrictEqual(elsewhere.key, first.key)
      yield* again.done
      assert.notInclude(
        (yield* store.load).pending.map((p) => p.idempotencyKey),
        first.key
      )
    })
  )

  it.effect("refuses a key past the vendor's window; resubmitting drops it for a new one", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      const first = yield* Idempotency.pendingKey(store, options)
      yield* TestClock.adjust(Duration.hours(25))
      const refused = yield* Effect.flip(Idempotency.pendingKey(store, options))
      assert.strictEqual(refused._tag, "IdempotencyKeyExpired")
      if (refused._tag === "IdempotencyKeyExpired") {
        assert.strictEqual(refused.idempotencyKey, first.key)
        assert.strictEqual(refused.startedAt, 0)
      }
      // Refusing changed nothing.
      assert.deepStrictEqual(
        (yield* store.load).pending.map((p) => p.idempotencyKey),
        [first.key]
      )
      const renewed = yield* Idempotency.pendingKey(store, { ...options, resubmit: true })
      assert.strictEqual(renewed.origin, "renewed")
      assert.notStrictEqual(renewed.key, first.key)
      assert.deepStrictEqual(
        (yield* store.load).pending.map((p) => p.idempotencyKey),
        [renewed.key]
      )
    })
  )

  it.effect("without a window (a vendor that never forgets) a pending key is always resumed", () =>
    Effect.gen(function* () {
      const store = yield* JobStore.makeMemory
      const first = yield* Idempotency.pendingKey(store, { ...options, window: undefined })
      yield* TestClock.adjust(Duration.days(30))
      const again = yield* Idempotency.pendingKey(store, { ...options, window: undefined })
      assert.strictEqual(again.key, first.key)
    })
  )

  it.effect(
    "finds a key stored under a fingerprint an earlier version wrote (alsoMatch), and writes only the new form",
    () =>
      Effect.gen(function* () {
        const store = yield* JobStore.makeMemory
        yield* store.putPending({
          idempotencyKey: "legacy-key",
          provider: "heygen",
          targets: ["es"],
          startedAt: 0,
          fingerprint: "https://media.example.com/a.mp4|es,fr|false"
        })
        const found = yield* Idempotency.pendingKey(store, {
          ...options,
          alsoMatch: ["https://media.example.com/a.mp4|es,fr|false"]
        })
        assert.strictEqual(found.key, "legacy-key")
        assert.strictEqual(found.origin, "resumed")
      })
  )
})
