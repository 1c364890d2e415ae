/**
 * `polydub serve`: the fleet's HTTP API (`FleetApi` in `@polydub/fleet`) for applications in any
 * language, with its OpenAPI document at `/openapi.json` and a reference page at `/docs`. It is a
 * fleet client, not a runner: `polydub worker` processes execute the workflows it starts. It needs
 * `POLYDUB_DATABASE_URL`; the vendor keys (as for `polydub worker`) let it read and revise
 * transcripts under review and check languages before a start; `HEYGEN_WEBHOOK_SECRET` (the secret
 * HeyGen gave the endpoint) mounts `POST /webhooks/heygen`. VoiceCheap sends no webhooks. The review
 * desk (`polydub review`'s page) is mounted at `/review/`, on the fleet's workflows awaiting review.
 */
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { DubbingWorkflow, Fleet, FleetApi, PgJobStore } from "@polydub/fleet"
import { Config, Console, Effect, Layer, Option, type Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpRouter } from "effect/http"
import { UsageError } from "./Providers.js"
import * as Review from "./Review.js"
import { makeFleet, ReviewDesk } from "./ReviewDesk.js"
import { providersFromEnvOption, requireDatabase } from "./Worker.js"

const webhookSecret = Config.option(Config.Redacted("HEYGEN_WEBHOOK_SECRET")).pipe(
  Effect.orElseSucceed(() => Option.none<Redacted.Redacted<string>>())
)

export const serve = Command.make(
  "serve",
  {
    host: Flag.String("host").pipe(
      Flag.withDescription("The address to listen on (0.0.0.0 for every interface)"),
      Flag.withDefault("127.0.0.1")
    ),
    port: Flag.Int("port").pipe(Flag.withDescription("The port to listen on"), Flag.withDefault(8080)),
    tablePrefix: Flag.String("table-prefix").pipe(
      Flag.withDescription("The prefix of the fleet's tables"),
      Flag.withDefault(PgJobStore.defaultTablePrefix)
    )
  },
  Effect.fn(function* (input) {
    yield* requireDatabase("polydub serve")
    if (input.port < 1 || input.port > 65_535) {
      return yield* new UsageError({ message: `--port must be a TCP port (1–65535), not ${input.port}` })
    }
    const providers = yield* providersFromEnvOption
    const secret = yield* webhookSecret
    // The fleet's API, and beside it the review desk on the same fleet (`/review/`).
    const routes = Layer.mergeAll(
      FleetApi.layerRoutes({ webhooks: Option.isSome(secret) ? { heygen: { secret: secret.value } } : {} }),
      Review.layerRoutes.pipe(Layer.provide(Layer.effect(ReviewDesk, makeFleet())))
    )
    const server = HttpRouter.serve(routes).pipe(
      Layer.provide(NodeHttpServer.layer(createServer, { port: input.port, host: input.host })),
      Layer.provide(Fleet.layerClient({ tablePrefix: input.tablePrefix })),
      Layer.provide(
        Option.isSome(providers) ? Layer.succeed(DubbingWorkflow.FleetProviders, providers.value) : Layer.empty
      ),
      Layer.provide(PgJobStore.layerClientConfig({ applicationName: "polydub-serve", maxConnections: 8 }))
    )
    const base = `http://${input.host}:${input.port}`
    yield* Console.error(
      [
        `polydub: serving the fleet API at ${base} (OpenAPI at ${base}/openapi.json, reference at ${base}/docs)`,
        `  the review desk at ${base}/review/`,
        Option.isSome(providers)
          ? `  transcripts through ${providers.value.ids.join(", ")}`
          : "  no vendor key is set: transcripts cannot be read or revised here (503)",
        Option.isSome(secret)
          ? `  HeyGen webhooks at ${base}/webhooks/heygen`
          : "  HEYGEN_WEBHOOK_SECRET is not set: no webhook route; the runners' sweeper follows every job",
        "  stop with Ctrl-C or SIGTERM"
      ].join("\n")
    )
    return yield* Layer.launch(server).pipe(
      Effect.catchTag("WebhookConfigError", (e) =>
        Effect.fail(new UsageError({ message: `HEYGEN_WEBHOOK_SECRET: ${e.message}` }))
      )
    )
  }, Effect.scoped)
).pipe(Command.withDescription("Serve the fleet's HTTP API (needs POLYDUB_DATABASE_URL) until stopped"))
