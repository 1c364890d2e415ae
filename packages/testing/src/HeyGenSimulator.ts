/**
 * A faithful simulator of HeyGen's video-translation API, v3 and legacy v2, served on a loopback
 * port (`layer`, `serve`) or in process (`layerInProcess`) so the real client runs end to end. It
 * validates requests as strictly as HeyGen's published schemas (unknown fields and wrong types are
 * 400 `invalid_parameter` with `param`), authenticates, answers 402/404/409/413/429 as documented,
 * replays idempotent requests for 24 hours, runs job lifecycles on configurable durations read
 * from `Clock` (so in process it runs on `TestClock`), extracts proofread SRTs it serves itself at
 * expiring presigned-style URLs, calls `callback_url`s with signed events, and injects faults on
 * demand. Where HeyGen's docs are silent the behaviour is marked so and made configurable.
 *
 * This module is the public face: options, control, `make`, `serve`, `layer`, `layerInProcess`.
 * The simulator itself lives in ./heygen/: State (what it remembers), Route (what every route does
 * first), RoutesV3, RoutesV2, Webhooks, Files, Requests (the request schemas), Languages.
 */

import { Context, Effect, Layer, type Scope } from "effect"
import type { HttpClient } from "effect/http"
import { routesFiles } from "./heygen/Files.js"
import { makeRoute } from "./heygen/Route.js"
import { routesV2 } from "./heygen/RoutesV2.js"
import { routesV3 } from "./heygen/RoutesV3.js"
import { makeState } from "./heygen/State.js"
import { routesWebhooks } from "./heygen/Webhooks.js"
import { inProcessClient, serveRoutes } from "./internal/loopback.js"

export { defaultLanguages } from "./heygen/Languages.js"

export interface HeyGenSimulatorOptions {
  /** Accepted API keys. Default one: `hg_sim_0123456789abcdef`. */
  readonly apiKeys?: ReadonlyArray<string> | undefined
  readonly port?: number | undefined
  /** Time `pending` before `running`, ms. Default 100. */
  readonly queuedMs?: number | undefined
  /** Time `running` before the result, ms. Default 600. */
  readonly runningMs?: number | undefined
  /** Proofread extraction time, ms. Default 400. */
  readonly proofreadMs?: number | undefined
  /** Jobs running at once per key (Pay-As-You-Go: 10). */
  readonly concurrentJobs?: number | undefined
  /** Requests per sliding window per key. Not published by HeyGen; generous by default. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number } | undefined
  /** Jobs each key can pay for; default unlimited. */
  readonly credits?: number | undefined
  /** Secret used to sign callbacks (`Signature: hex(hmac_sha256(secret, body))`). */
  readonly webhookSecret?: string | undefined
  /** Header carrying the signature. Default `Signature`. */
  readonly signatureHeader?: string | undefined
  /** Language names served and accepted; default `defaultLanguages`. */
  readonly languages?: ReadonlyArray<string> | undefined
  /** How long an idempotency key is remembered, ms. HeyGen documents 24 hours, the default. */
  readonly idempotencyTtlMs?: number | undefined
  /** Presigned URL lifetime, ms. v2 documents 7 days; default 7 days. */
  readonly urlTtlMs?: number | undefined
  /** Faults drawn at random for every API request, as probabilities (chaos testing). */
  readonly faultRates?: Partial<Record<Exclude<FaultKind, "latency">, number>> | undefined
  /** Seed for the random faults, so a chaos run can be repeated. */
  readonly seed?: number | undefined
  /** How long a `stall` fault holds the answer to a processed request, ms. Default 5000. */
  readonly stallMs?: number | undefined
  /** How long a `burst429` fault answers every request with 429, ms. Default 1000. */
  readonly burstMs?: number | undefined
  /**
   * Outcomes drawn at random for every created translation, as probabilities (chaos testing):
   * `fail` fails it, `stuck` never finishes it, `urlNull` answers `completed` with a null URL for
   * its first three completed reads.
   */
  readonly jobFaultRates?: Partial<Record<JobFaultKind, number>> | undefined
  /**
   * Faults drawn for every webhook delivery: `duplicate` sends it twice, `delay` holds it up to
   * `webhookDelayMs` longer, so deliveries arrive out of order and after polls have seen the result.
   */
  readonly webhookFaultRates?: Partial<Record<"duplicate" | "delay", number>> | undefined
  /** The longest extra hold of a delayed webhook, ms. Default 2000. */
  readonly webhookDelayMs?: number | undefined
}

/** What a job-level chaos fault does to a created translation. */
export type JobFaultKind = "fail" | "stuck" | "urlNull"

/** How a created translation ends, as the simulator decided when it was created. */
export type JobOutcome = "succeeded" | "failed" | "stuck"

/**
 * `http500`, `http502`, `dropBefore`: refused before any processing. `http500After`, `dropAfter`: the
 * request is processed (and billed), then the answer is an error or is lost, as after a gateway
 * timeout. `malformed`: a 200 whose body is cut short. `errorInOk` (v2 routes): a 200 whose envelope
 * has `error` set and `data` null, a quirk of HeyGen's v2 envelopes. `latency`: waits `ms` first.
 * `stall`: the request is processed, then the answer is held `stallMs`, as when a client's timeout
 * fires after the vendor accepted the request. `burst429`: every request is refused with 429 and a
 * `Retry-After` for `burstMs`, as during a vendor-side rate-limit burst.
 */
export type FaultKind =
  | "http500"
  | "http500After"
  | "http502"
  | "dropBefore"
  | "dropAfter"
  | "malformed"
  | "errorInOk"
  | "latency"
  | "stall"
  | "burst429"

/** A fault for upcoming requests whose path starts with `pathPrefix` (all when absent). */
export interface Fault {
  readonly kind: FaultKind
  readonly method?: string | undefined
  readonly pathPrefix?: string | undefined
  readonly times?: number | undefined
  readonly ms?: number | undefined
}

export interface HeyGenSimulator {
  readonly baseUrl: string
  readonly apiKey: string
  /** Requests received (all routes but served files). */
  readonly requests: () => number
  /** Jobs created: translations, proofreads and generated renders — what HeyGen would bill. */
  readonly billableSubmissions: () => number
  /** Requests answered from the idempotency store. */
  readonly replays: () => number
  /** Requests answered 409 `request_in_progress` (their key was still in flight). */
  readonly conflicts: () => number
  readonly rejectedByRateLimit: () => number
  readonly injectFault: (fault: Fault) => void
  /** The next created job fails this way (e.g. the audio-missing failure HeyGen reports after ~30 s). */
  readonly failNext: (message: string) => void
  /** The next created job never finishes. */
  readonly stuckNext: () => void
  /** The next completed translation answers `completed` with a null URL for this many reads. */
  readonly urlNullNext: (reads: number) => void
  /** Callbacks delivered (URL, event type, status answered). */
  readonly callbacks: () => ReadonlyArray<{ readonly url: string; readonly eventType: string; readonly status: number }>
  /** The current SRT of a proofread. */
  readonly proofreadSrt: (id: string) => string | undefined
  /** Random faults injected so far, by kind. */
  readonly injectedFaults: () => Readonly<Record<string, number>>
  /** Translations created per title: more than one for a title is a double billing when titles are unique. */
  readonly jobsByTitle: () => ReadonlyMap<string, number>
  /** How each created translation ends, by id. */
  readonly outcomes: () => ReadonlyMap<string, JobOutcome>
  /** Arrival times (epoch ms) of every API request, served files excepted. */
  readonly requestTimes: () => ReadonlyArray<number>
  /** Requests refused with 429 inside an injected `burst429`. */
  readonly refusedInBursts: () => number
  /** v3 mutations received without an `Idempotency-Key` (each one a request a retry could bill twice). */
  readonly unkeyedMutations: () => number
}

/** Builds the simulator's routes and state. */
export const make = Effect.fnUntraced(function* (options: HeyGenSimulatorOptions = {}) {
  const state = makeState(options)
  const { route, refusedInBursts } = makeRoute(state)
  const routes = Layer.mergeAll(
    ...routesV3(state, route),
    ...routesWebhooks(state, route),
    ...routesFiles(state, route),
    ...routesV2(state, route)
  )
  const { counters, next } = state
  const control: Omit<HeyGenSimulator, "baseUrl" | "apiKey"> = {
    requests: () => counters.requests,
    billableSubmissions: () => counters.billable,
    replays: () => counters.replays,
    conflicts: () => counters.conflicts,
    rejectedByRateLimit: () => counters.rateLimited,
    injectFault: (fault: Fault) => state.faults.push(fault),
    failNext: (message: string) => void (next.failure = message),
    stuckNext: () => void (next.stuck = true),
    urlNullNext: (reads: number) => void (next.urlNull = reads),
    callbacks: () => [...state.callbacks],
    proofreadSrt: (id: string) => state.jobs.get(id)?.srt,
    injectedFaults: () => ({ ...state.chaos.injected }),
    outcomes: state.outcomes,
    requestTimes: () => [...counters.requestTimes],
    refusedInBursts,
    unkeyedMutations: () => counters.unkeyedMutations,
    jobsByTitle: () => {
      const counts = new Map<string, number>()
      for (const job of state.jobs.values())
        if (job.kind === "translation") counts.set(job.title, (counts.get(job.title) ?? 0) + 1)
      return counts
    }
  }
  return { routes, control, firstKey: state.config.firstKey, setBaseUrl: state.setBaseUrl }
})

/** Serves the simulator on 127.0.0.1 for the life of the scope. */
export const serve = (options: HeyGenSimulatorOptions = {}): Effect.Effect<HeyGenSimulator, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sim = yield* make(options)
    // The base URL is known only once the server listens; requests cannot arrive before it is set.
    const baseUrl = yield* serveRoutes(sim.routes, options.port)
    sim.setBaseUrl(baseUrl)
    return { baseUrl, apiKey: sim.firstKey, ...sim.control }
  })

export class Simulator extends Context.Service<Simulator, HeyGenSimulator>()("@polydub/testing/HeyGenSimulator") {}

/** Serves the simulator for the life of the layer. */
export const layer = (options: HeyGenSimulatorOptions = {}): Layer.Layer<Simulator> =>
  Layer.effect(Simulator, serve(options))

/**
 * The simulator in process, without a socket: an `HttpClient` whose requests go straight to the
 * simulator's router (its URLs, files included, live under `http://heygen.simulator.invalid`).
 * Requests run with the services of the fiber that built the layer, its `Clock` included, so under
 * `it.effect` the simulator's jobs advance only with `TestClock.adjust`. Dropped connections
 * surface as network errors, as over a socket. Callbacks still go out over the network.
 */
export const layerInProcess = (options: HeyGenSimulatorOptions = {}): Layer.Layer<Simulator | HttpClient.HttpClient> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const sim = yield* make(options)
      const baseUrl = "http://heygen.simulator.invalid"
      sim.setBaseUrl(baseUrl)
      return Layer.mergeAll(
        Layer.succeed(Simulator, { baseUrl, apiKey: sim.firstKey, ...sim.control }),
        yield* inProcessClient(sim.routes)
      )
    })
  )
