/** Serving a simulator's routes on 127.0.0.1 for the life of a scope; shared by every simulator. */

import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, type Layer, type Scope } from "effect"
import { HttpRouter } from "effect/http"

/** Serves `routes` on 127.0.0.1 (port 0 picks a free one); returns the base URL. */
export const serveRoutes = (
  routes: Layer.Layer<never, never, HttpRouter.HttpRouter>,
  port: number | undefined
): Effect.Effect<string, never, Scope.Scope> =>
  Effect.gen(function* () {
    const app = yield* HttpRouter.toHttpEffect(routes)
    const server = yield* NodeHttpServer.make(() => createServer(), { port: port ?? 0, host: "127.0.0.1" }).pipe(
      Effect.orDie
    )
    yield* server.serve(app)
    const address = server.address
    return address._tag === "UnixPathAddress" ? "http://127.0.0.1" : `http://127.0.0.1:${address.port}`
  })
