/**
 * HeyGen's webhooks in the simulator: signed completion events sent to a job's `callback_url` and
 * to the registered endpoints that subscribe to them, the v3 endpoint routes (create with the
 * OPTIONS probe, list, update, delete, rotate-secret), the event types and the delivery history.
 */

import { createHmac, randomBytes } from "node:crypto"
import { Clock, Effect } from "effect"
import { HttpRouter } from "effect/http"
import { type Body, ok, v3Error } from "./Envelopes.js"
import * as Requests from "./Requests.js"
import type { Route } from "./Route.js"
import type { Endpoint, SimJob, State } from "./State.js"

/**
 * The event types the simulator emits, with what they mean. HeyGen's full list has 30 types
 * (avatar videos, photo avatars, clipping…); these are the video-translation ones.
 */
const eventTypes = [
  { event_type: "video_translate.success", description: "A video translation completed." },
  { event_type: "video_translate.fail", description: "A video translation failed." },
  { event_type: "proofread_creation.success", description: "A proofread's subtitles are ready for review." },
  { event_type: "proofread_creation.fail", description: "A proofread could not be created." }
]

const endpointView = (e: Endpoint) => ({
  endpoint_id: e.id,
  url: e.url,
  events: e.events,
  status: "enabled",
  created_at: e.createdAt
})

/** Sends a job's completion event when it ends; wired to job creation. */
const scheduleCallback = (state: State, job: SimJob) => {
  const { config, endpoints } = state
  const hasEndpoint = [...endpoints.values()].some((e) => e.apiKey === job.apiKey)
  if ((job.callbackUrl === undefined && !hasEndpoint) || job.stuck) return
  const url = job.callbackUrl
  const delay =
    job.kind === "proofread"
      ? config.proofreadMs
      : config.queuedMs + (job.failure ? config.runningMs / 2 : config.runningMs)
  const webhookFault = state.chaos.draw(state.options.webhookFaultRates, "webhook:")
  const hold = webhookFault === "delay" ? Math.floor(state.chaos.random() * config.webhookDelayMs) : 0
  const deliver = Effect.gen(function* () {
    yield* Effect.sleep(delay + 5 + hold)
    const now = yield* Clock.currentTimeMillis
    const failed = job.failure !== undefined
    const eventType =
      job.kind === "proofread"
        ? failed
          ? "proofread_creation.fail"
          : "proofread_creation.success"
        : failed
          ? "video_translate.fail"
          : "video_translate.success"
    const data: Body =
      job.kind === "proofread"
        ? {
            proofread_id: job.id,
            callback_id: job.callbackId ?? null,
            output_language: job.language,
            ...(failed ? { message: job.failure } : {})
          }
        : {
            video_translate_id: job.id,
            callback_id: job.callbackId ?? null,
            output_language: job.language,
            ...(failed ? { message: job.failure } : { url: state.fileUrl(`${job.id}/video.mp4`, now) })
          }
    const body = JSON.stringify({ event_type: eventType, event_data: data })
    state.history.push({
      apiKey: job.apiKey,
      event_id: `evt_${randomBytes(8).toString("hex")}`,
      event_type: eventType,
      event_data: data,
      created_at: new Date(now).toISOString()
    })
    // The per-job callback_url (signed with the account's secret) and every registered endpoint
    // that subscribed to this event type (signed with its own secret).
    const targets: Array<{ url: string; secret: string }> = url === undefined ? [] : [{ url, secret: config.secret }]
    for (const endpoint of endpoints.values()) {
      if (endpoint.apiKey === job.apiKey && (endpoint.events === null || endpoint.events.includes(eventType))) {
        targets.push({ url: endpoint.url, secret: endpoint.secret })
      }
    }
    const send = (target: { url: string; secret: string }) =>
      Effect.gen(function* () {
        const signature = createHmac("sha256", target.secret).update(body).digest("hex")
        const status = yield* Effect.tryPromise(() =>
          fetch(target.url, {
            method: "POST",
            headers: { "content-type": "application/json", [config.signatureHeader]: signature },
            body
          }).then((r) => r.status)
        ).pipe(Effect.orElseSucceed(() => 0))
        state.callbacks.push({ url: target.url, eventType, status })
      })
    for (const target of targets) {
      yield* send(target)
      // HeyGen's docs do not say whether a delivery can repeat; senders with at-least-once
      // delivery do repeat, so a chaos run sends some twice, the second a little later.
      if (webhookFault === "duplicate")
        yield* Effect.forkDetach(Effect.andThen(Effect.sleep(Math.floor(state.chaos.random() * 200)), send(target)))
    }
  })
  state.defer(deliver)
}

/** The webhook routes over `state`; also wires completion callbacks to job creation. */
export const routesWebhooks = (state: State, route: Route) => {
  const { endpoints } = state
  state.hooks.created = (job) => scheduleCallback(state, job)

  const invalid = (problem: Requests.Refusal) =>
    Effect.succeed(v3Error(400, "invalid_parameter", problem.message, problem.param))
  const notFound = () => Effect.succeed(v3Error(404, "not_found", "Endpoint not found."))
  const owned = (id: string | undefined, apiKey: string) => {
    const endpoint = id === undefined ? undefined : endpoints.get(id)
    return endpoint !== undefined && endpoint.apiKey === apiKey ? endpoint : undefined
  }

  const createEndpoint = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now }) =>
    Effect.gen(function* () {
      const problem = Requests.refusal(Requests.CreateEndpoint, body)
      if (problem) return yield* invalid(problem)
      const b = body as Body
      // HeyGen probes a new endpoint with OPTIONS and a 1-second timeout; it must answer 2xx.
      const probe = yield* Effect.tryPromise(() =>
        fetch(String(b.url), { method: "OPTIONS", signal: AbortSignal.timeout(1000) }).then((r) => r.status)
      ).pipe(Effect.orElseSucceed(() => 0))
      if (probe < 200 || probe >= 300)
        return v3Error(
          400,
          "invalid_parameter",
          "The endpoint did not answer the OPTIONS probe with 2xx within 1 second.",
          "url"
        )
      const endpoint: Endpoint = {
        id: `ep_${randomBytes(6).toString("hex")}`,
        apiKey,
        url: String(b.url),
        events: (b.events as Array<string> | null | undefined) ?? null,
        secret: `whsec_${randomBytes(16).toString("hex")}`,
        createdAt: new Date(now).toISOString()
      }
      endpoints.set(endpoint.id, endpoint)
      return yield* ok({ ...endpointView(endpoint), secret: endpoint.secret })
    })
  )

  const listEndpoints = route({ version: "v3" }, ({ apiKey }) =>
    ok([...endpoints.values()].filter((e) => e.apiKey === apiKey).map(endpointView), {
      has_more: false,
      next_token: null
    })
  )

  /**
   * `{url?, events?}`; `events` replaces the list ("include all types you want to keep"), null
   * subscribes to every event. HeyGen documents the OPTIONS probe for registration only, so a new
   * URL given here is not probed.
   */
  const updateEndpoint = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, params }) => {
    const problem = Requests.refusal(Requests.UpdateEndpoint, body)
    if (problem) return invalid(problem)
    const endpoint = owned(params.id, apiKey)
    if (endpoint === undefined) return notFound()
    const b = body as Body
    if (typeof b.url === "string") endpoint.url = b.url
    if ("events" in b) endpoint.events = (b.events as Array<string> | null) ?? null
    return ok(endpointView(endpoint))
  })

  const deleteEndpoint = route({ version: "v3", idempotent: true }, ({ apiKey, params }) => {
    const endpoint = owned(params.id, apiKey)
    if (endpoint === undefined) return notFound()
    endpoints.delete(endpoint.id)
    return ok({ endpoint_id: endpoint.id })
  })

  const rotateSecret = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, params }) => {
    const endpoint = owned(params.id, apiKey)
    if (endpoint === undefined) return notFound()
    // The old secret is invalidated at once.
    endpoint.secret = `whsec_${randomBytes(16).toString("hex")}`
    return ok({ endpoint_id: endpoint.id, secret: endpoint.secret })
  })

  const listEventTypes = route({ version: "v3" }, () => ok(eventTypes))

  /** Filters `event_type` and `entity_id`; translation events belong to no entity, so the latter matches none. */
  const events = route({ version: "v3" }, ({ apiKey, request }) => {
    const query = new URL(request.url, "http://x").searchParams
    const type = query.get("event_type")
    const entity = query.get("entity_id")
    const mine = state.history.filter(
      (e) => e.apiKey === apiKey && (type === null || e.event_type === type) && (entity === null || entity === "")
    )
    return ok(
      mine.map(({ apiKey: _, ...e }) => e),
      { has_more: false, next_token: null }
    )
  })

  return [
    HttpRouter.add("POST", "/v3/webhooks/endpoints", createEndpoint),
    HttpRouter.add("GET", "/v3/webhooks/endpoints", listEndpoints),
    HttpRouter.add("PATCH", "/v3/webhooks/endpoints/:id", updateEndpoint),
    HttpRouter.add("DELETE", "/v3/webhooks/endpoints/:id", deleteEndpoint),
    HttpRouter.add("POST", "/v3/webhooks/endpoints/:id/rotate-secret", rotateSecret),
    HttpRouter.add("GET", "/v3/webhooks/event-types", listEventTypes),
    HttpRouter.add("GET", "/v3/webhooks/events", events)
  ] as const
}
