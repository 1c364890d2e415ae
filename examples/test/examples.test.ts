// Every example program runs here, so a broken example fails CI.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { main as fleet } from "../fleet/main.js"
import { main as reviewFlow } from "../src/review-flow.js"
import { main as swapProviders } from "../src/swap-providers.js"
import { main as webhookRoute } from "../src/webhook-route.js"

describe("examples", () => {
  it.live(
    "fleet: two workers and the API on PostgreSQL; a review job finishes after a worker is killed, billed once",
    () =>
      fleet.pipe(
        Effect.tap((result) =>
          Effect.sync(() => {
            assert.strictEqual(result.phase, "succeeded")
            assert.strictEqual(result.billed, 1)
          })
        )
      ),
    120_000
  )

  it.live("review-flow: both languages reviewed and rendered on TestProvider", () => reviewFlow, 20_000)

  it.live(
    "swap-providers: the same flow succeeds on HeyGen and on VoiceCheap",
    () =>
      swapProviders.pipe(
        Effect.tap((jobs) =>
          Effect.sync(() => {
            assert.deepStrictEqual(
              jobs.map((j) => `${j.ref.provider}:${j.language}:${j.state._tag}`),
              ["heygen:es:Succeeded", "heygen:de:Succeeded", "voicecheap:es:Succeeded", "voicecheap:de:Succeeded"]
            )
          })
        )
      ),
    20_000
  )

  it.live(
    "webhook-route: HeyGen's signed callback reaches the application's route",
    () =>
      webhookRoute.pipe(
        Effect.tap((updates) =>
          Effect.sync(() => {
            assert.strictEqual(updates.length, 1)
            assert.strictEqual(updates[0]!.state._tag, "Succeeded")
            assert.strictEqual(updates[0]!.callbackId, "keynote-ja")
          })
        )
      ),
    20_000
  )
})
