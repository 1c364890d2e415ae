/**
 * Serving a simulator's routes, shared by every simulator: on 127.0.0.1 for the life of a scope, or
 * in process, as an `HttpClient` whose requests go straight to the routes.
 */

import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, type Scope } from "effect"
import { FetchHttpClient, type HttpClient, HttpEffect, HttpRouter, HttpServer } from "effect/http"
import { dropMarker } from "./faults.js"

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

/**
 * An `HttpClient` whose requests go straight to `routes`, without a socket. Requests run with the
 * services of the fiber that builds the layer, its `Clock` included, so under `it.effect` a
 * simulator's time moves only with `TestClock.adjust`. A dropped connection surfaces as a network
 * error, as over a socket.
 */
export const inProcessClient = (
  routes: Layer.Layer<never, never, HttpRouter.HttpRouter>
): Effect.Effect<Layer.Layer<HttpClient.HttpClient>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const app = yield* HttpRouter.toHttpEffect(routes)
    const services = yield* Layer.build(HttpServer.layerServices)
    const context = Context.merge(yield* Effect.context<never>(), services)
    const handler = HttpEffect.toWebHandler(app)
    const fetchInProcess = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const response = await handler(new Request(input, init), context)
      if (response.headers.get(dropMarker) !== null) {
        throw new TypeError("fetch failed", {
          cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })
        })
      }
      return response
    }
    return FetchHttpClient.layer.pipe(
      Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetchInProcess as typeof globalThis.fetch))
    )
  })
