/**
 * Everything a HeyGen route does before and after its own logic, written once: faults, auth
 * (`x-api-key` or `Authorization: Bearer`), the vendor-side burst and the rate window, JSON
 * parsing, the `Idempotency-Key` store of v3 mutations, and the v2 error envelope where it applies.
 */

import { Clock, Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type { Fault } from "../HeyGenSimulator.js"
import { apiKeyOf } from "../internal/auth.js"
import { dropConnection, makeBurst } from "../internal/faults.js"
import { makeRateWindows } from "../internal/rateWindows.js"
import { tooManyRequests, v2Error, v3Error } from "./Envelopes.js"
import type { State } from "./State.js"

const idPattern = /^[A-Za-z0-9_\-:.]{1,255}$/

export interface HandlerContext {
  readonly request: HttpServerRequest.HttpServerRequest
  readonly apiKey: string
  readonly params: Readonly<Record<string, string | undefined>>
  readonly body: unknown
  /** The simulator's time when the handler runs, from `Clock`. */
  readonly now: number
}

export type Handler = (ctx: HandlerContext) => Effect.Effect<HttpServerResponse.HttpServerResponse>

export interface RouteOptions {
  readonly version: "v2" | "v3"
  /** Read the body as JSON (an empty body reads as `{}`, as HeyGen's CLI sends bodyless POSTs). */
  readonly json?: boolean
  /** A v3 mutation that honours `Idempotency-Key`. */
  readonly idempotent?: boolean
}

const readJson = (request: HttpServerRequest.HttpServerRequest) =>
  request.text.pipe(
    Effect.map((text): { ok: true; body: unknown } | { ok: false } => {
      if (text.trim() === "") return { ok: true, body: {} }
      try {
        return { ok: true, body: JSON.parse(text) }
      } catch {
        return { ok: false }
      }
    }),
    Effect.orElseSucceed(() => ({ ok: false as const }))
  )

/** The route wrapper of one simulator. */
export const makeRoute = (state: State) => {
  const { config, counters, idempotency } = state
  const windows = makeRateWindows()
  const burst = makeBurst(config.burstMs)

  const takeFault = (method: string, path: string): Fault | undefined => {
    const drawn = state.chaos.draw(state.options.faultRates)
    if (drawn !== undefined) return { kind: drawn }
    return state.faults.take(
      (f) =>
        (f.method === undefined || f.method === method) && (f.pathPrefix === undefined || path.startsWith(f.pathPrefix))
    )
  }

  const route = (options: RouteOptions, handler: Handler) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const params = yield* HttpRouter.params
      const arrived = yield* Clock.currentTimeMillis
      counters.requests++
      counters.requestTimes.push(arrived)
      const path = new URL(request.url, "http://x").pathname
      const fault = takeFault(request.method, path)
      if (fault?.kind === "dropBefore") return yield* dropConnection(request)
      if (fault?.kind === "http500") return v3Error(500, "internal_error", "Internal server error")
      // Gateways answer with no HeyGen code at all.
      if (fault?.kind === "http502")
        return HttpServerResponse.text("<html><body>502 Bad Gateway</body></html>", { status: 502 })
      const v2 = options.version === "v2"
      const apiKey = apiKeyOf(request, { bearer: true })
      if (apiKey === undefined || !config.keys.has(apiKey)) {
        return v2
          ? v2Error(401, 40009, "Invalid credentials")
          : v3Error(401, "authentication_failed", "Invalid or expired API key. Verify your x-api-key header.")
      }
      if (fault?.kind === "burst429") burst.start(arrived)
      const bursting = burst.refuse(arrived)
      if (bursting > 0) return tooManyRequests(bursting)
      const wait = windows.admit(apiKey, arrived, config.rate)
      if (wait > 0) {
        counters.rateLimited++
        return tooManyRequests(wait)
      }
      let body: unknown = {}
      if (options.json === true) {
        const parsed = yield* readJson(request)
        if (!parsed.ok)
          return v2
            ? v2Error(400, 400175, "Invalid JSON body")
            : v3Error(400, "invalid_parameter", "The request body is not valid JSON.", "body")
        body = parsed.body
      }
      // The request is processed first; a "dropAfter" fault then loses the answer on the way back,
      // as a timeout after the vendor accepted the request would.
      const deliver = (response: HttpServerResponse.HttpServerResponse) =>
        fault?.kind === "dropAfter"
          ? dropConnection(request)
          : fault?.kind === "malformed"
            ? Effect.succeed(
                HttpServerResponse.text('{"data": {"id": ', { status: 200, contentType: "application/json" })
              )
            : fault?.kind === "http500After"
              ? Effect.succeed(v3Error(500, "internal_error", "Internal server error"))
              : fault?.kind === "errorInOk" && v2
                ? Effect.succeed(
                    HttpServerResponse.jsonUnsafe({ error: "Internal error, please retry later", data: null })
                  )
                : fault?.kind === "stall"
                  ? Effect.delay(Effect.succeed(response), config.stallMs)
                  : Effect.succeed(response)
      // Handlers do their work when run, not when built: a replay must not run them.
      // Latency is processing time: an idempotent request is "in flight" (409 to a repeat) meanwhile.
      const run = Effect.flatMap(Clock.currentTimeMillis, (now) =>
        handler({ request, apiKey, params, body, now })
      ).pipe(Effect.delay(fault?.kind === "latency" ? (fault.ms ?? 1000) : 0))
      const key = request.headers["idempotency-key"]
      if (options.idempotent === true && key === undefined) counters.unkeyedMutations++
      if (options.idempotent !== true || key === undefined) return yield* Effect.flatMap(run, deliver)
      if (!idPattern.test(key))
        return v3Error(
          400,
          "invalid_parameter",
          "Idempotency-Key must match ^[A-Za-z0-9_\\-:.]{1,255}$",
          "Idempotency-Key"
        )
      // Scope: per endpoint and per resource (the route and its path parameters) and per key owner.
      const scope = `${apiKey}|${request.method} ${path}|${key}`
      const seen = idempotency.get(scope)
      if (seen?.state === "inflight") {
        counters.conflicts++
        return v3Error(
          409,
          "request_in_progress",
          "A request with this Idempotency-Key is already in progress. Retry shortly."
        )
      }
      if (seen?.state === "done" && arrived - seen.at < config.idempotencyTtlMs) {
        counters.replays++
        return yield* deliver(
          HttpServerResponse.text(seen.body, { status: seen.status, contentType: "application/json" })
        )
      }
      idempotency.set(scope, { state: "inflight" })
      const response = yield* run.pipe(Effect.onInterrupt(() => Effect.sync(() => idempotency.delete(scope))))
      const stored = response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""
      // A refusal before processing (429, 409) or a server error is not a result to replay: the
      // same key may go through later. HeyGen's docs are silent; this is what "replay the original
      // response" means for a processed request.
      if (response.status < 500 && response.status !== 429 && response.status !== 409) {
        idempotency.set(scope, {
          state: "done",
          status: response.status,
          body: stored,
          at: yield* Clock.currentTimeMillis
        })
      } else {
        idempotency.delete(scope)
      }
      return yield* deliver(response)
    }).pipe(
      Effect.ensuring(
        Effect.suspend(() => Effect.forEach(state.takeDeferred(), (work) => Effect.forkDetach(work), { discard: true }))
      )
    )

  return { route, refusedInBursts: burst.refused }
}

export type Route = ReturnType<typeof makeRoute>["route"]
