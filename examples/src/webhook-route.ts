/**
 * Mounting HeyGen's webhook route in an application's HTTP server: completion events arrive
 * signed, are verified, and become `(JobRef, JobState)` updates the application handles — here,
 * logged and collected. The HeyGen simulator plays HeyGen and calls the route back.
 */

import { createServer } from "node:http"
import { NodeHttpClient, NodeHttpServer, NodeRuntime, NodeServices } from "@effect/platform-node"
import { Source, Submission, TranslationProvider } from "@polydub/core"
import { HeyGen, HeyGenWebhooks } from "@polydub/provider-heygen"
import { HeyGenSimulator } from "@polydub/testing"
import { Console, Effect, Layer, Redacted } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { isMain } from "./isMain.js"

export const main = Effect.gen(function* () {
  const secret = Redacted.make("whsec_example_secret")
  const updates: Array<HeyGenWebhooks.Update> = []

  // The application's routes: its own, plus HeyGen's webhook route.
  const app = yield* HttpRouter.toHttpEffect(
    Layer.mergeAll(
      HttpRouter.add("GET", "/health", HttpServerResponse.text("ok")),
      HeyGenWebhooks.route({ secret, path: "/webhooks/heygen" }, (update) =>
        Effect.andThen(
          Console.log(`webhook: ${update.ref} is ${update.state._tag}`),
          Effect.sync(() => void updates.push(update))
        )
      )
    )
  )
  const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" }).pipe(Effect.orDie)
  yield* server.serve(app)
  const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port
  const callbackUrl = `http://127.0.0.1:${port}/webhooks/heygen`

  const heygen = yield* HeyGenSimulator.serve({ queuedMs: 100, runningMs: 500, webhookSecret: Redacted.value(secret) })
  const [job] = yield* Effect.gen(function* () {
    const provider = yield* TranslationProvider
    return yield* provider
      .submit({
        source: Source.url("https://media.example.com/keynote.mp4"),
        targets: ["ja-JP"],
        callback: { url: callbackUrl, id: "keynote-ja" }
      })
      .pipe(Submission.all)
  }).pipe(
    Effect.provide(
      HeyGen.layer({ apiKey: Redacted.make(heygen.apiKey), baseUrl: heygen.baseUrl }).pipe(
        Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
      )
    )
  )
  yield* Console.log(`submitted ${job!.ref}; waiting for HeyGen's callback at ${callbackUrl}`)
  for (let i = 0; i < 100 && updates.length === 0; i++) yield* Effect.sleep("50 millis")
  return updates
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
