/**
 * A simulator of ElevenLabs' dubbing APIs, served on a loopback port (`layer`, `serve`) or in process
 * (`layerInProcess`) so the real client runs end to end: the legacy dubbing API (./elevenlabs/
 * RoutesDubbing.ts) and the Dubbing Projects API (./elevenlabs/RoutesProjects.ts). It validates
 * requests by ElevenLabs' OpenAPI document (./elevenlabs/Requests.ts), keeps state machines per dub,
 * project and language, answers `425` until an output is ready and streams outputs without holding
 * them, and answers errors in all three of ElevenLabs' envelopes (./elevenlabs/Errors.ts). Where the
 * documentation is silent (codes of some refusals, limits, webhook payloads) the code says so and the
 * behaviour is configurable. Faults on demand, and counters, let tests prove what a client did; the
 * fault machinery, rate windows and serving are shared with the other simulators (./internal/).
 */
import { Context, Effect, Layer, Scope } from "effect"
import type { HttpClient } from "effect/http"
import { type DubbingOptions, makeDubbing, type SimulatedDub } from "./elevenlabs/RoutesDubbing.js"
import { makeProjects, type ProjectsOptions } from "./elevenlabs/RoutesProjects.js"
import { type CommonOptions, type Endpoint, type Fault, makeShared } from "./elevenlabs/State.js"
import { inProcessClient, serveRoutes } from "./internal/loopback.js"

export type { SimulatedDub } from "./elevenlabs/RoutesDubbing.js"
export type { Webhook } from "./elevenlabs/RoutesProjects.js"
export type { Account, Endpoint, Fault, Plan } from "./elevenlabs/State.js"

export interface ElevenLabsSimulatorOptions extends CommonOptions, DubbingOptions, ProjectsOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number | undefined
}

export interface ElevenLabsSimulator {
  readonly baseUrl: string
  /** The first account's key. */
  readonly apiKey: string
  /** Requests received, by endpoint, including refused ones. */
  readonly requests: () => Readonly<Record<string, number>>
  readonly totalRequests: () => number
  /** Dubs and projects created (what ElevenLabs would charge for). */
  readonly billableSubmissions: () => number
  readonly dubs: () => ReadonlyArray<SimulatedDub>
  /** Create attempts that reached validation, by `name/target_lang`, with what became of each. */
  readonly createAttempts: () => ReadonlyMap<
    string,
    ReadonlyArray<"server-error" | "processed" | "processed-answer-lost">
  >
  readonly rejectedByRateLimit: () => number
  readonly injectFault: (fault: Fault) => void
  /** The next created dub fails with this message. */
  readonly failNext: (message: string) => void
  /** Answers the status word `to` wherever the state machine would answer `from`. */
  readonly renameStatus: (from: string, to: string) => void
  readonly injectedFaults: () => Readonly<Record<string, number>>
  readonly requestTimes: (endpoint: Endpoint) => ReadonlyArray<number>
  /** How each created dub was decided to end, by id. */
  readonly outcomes: () => ReadonlyMap<string, "succeeded" | "failed" | "stuck">
  /** Requests refused with 429 inside an injected `burst429`. */
  readonly refusedInBursts: () => number
  /** Dubbing projects, with their languages' ids. */
  readonly projects: () => ReadonlyArray<{ readonly projectId: string; readonly reference: string | null }>
  /** The next created project fails with this message. */
  readonly failNextProject: (message: string) => void
  /** Webhook deliveries so far: to which webhook, which event, and the receiver's status (0: unreachable). */
  readonly webhookDeliveries: () => ReadonlyArray<{
    readonly webhookId: string
    readonly event: string
    readonly status: number
  }>
}

/** Builds the simulator's routes and state. */
export const make = Effect.fnUntraced(function* (options: ElevenLabsSimulatorOptions = {}) {
  const scope = yield* Scope.Scope
  const shared = makeShared(options)
  const dubbing = makeDubbing(shared, options)
  const projects = makeProjects(shared, options, scope)
  const routes = Layer.mergeAll(dubbing.routes, projects.routes)
  const control = {
    requests: () => ({ ...shared.counts }),
    totalRequests: () => Object.values(shared.counts).reduce((a, b) => a + b, 0),
    billableSubmissions: () => dubbing.billable() + projects.billable(),
    projects: projects.projects,
    failNextProject: projects.failNextProject,
    webhookDeliveries: projects.deliveries,
    dubs: dubbing.dubs,
    createAttempts: dubbing.attempts,
    rejectedByRateLimit: shared.rateLimited,
    injectFault: (fault: Fault) => shared.faults.push(fault),
    failNext: dubbing.failNext,
    renameStatus: dubbing.renameStatus,
    injectedFaults: () => ({ ...shared.injected }),
    requestTimes: (endpoint: Endpoint) => [...(shared.arrivals[endpoint] ?? [])],
    outcomes: dubbing.outcomes,
    refusedInBursts: shared.bursts.refused
  }
  return { routes, control, firstKey: shared.firstKey, setBaseUrl: projects.setBaseUrl }
})

/** Serves the simulator on 127.0.0.1 for the life of the scope. */
export const serve = (
  options: ElevenLabsSimulatorOptions = {}
): Effect.Effect<ElevenLabsSimulator, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sim = yield* make(options)
    const baseUrl = yield* serveRoutes(sim.routes, options.port)
    sim.setBaseUrl(baseUrl)
    return { baseUrl, apiKey: sim.firstKey, ...sim.control }
  })

/** The simulator as a service, for layers. */
export class Simulator extends Context.Service<Simulator, ElevenLabsSimulator>()(
  "@polydub/testing/ElevenLabsSimulator"
) {}

/** Serves the simulator for the life of the layer. */
export const layer = (options: ElevenLabsSimulatorOptions = {}): Layer.Layer<Simulator> =>
  Layer.effect(Simulator, serve(options))

/**
 * The simulator in process, without a socket: an `HttpClient` whose requests go straight to the
 * simulator's router (under `http://elevenlabs.simulator.invalid`). Requests run with the services of
 * the fiber that built the layer, its `Clock` included, so under `it.effect` dubs advance only with
 * `TestClock.adjust`.
 */
export const layerInProcess = (
  options: ElevenLabsSimulatorOptions = {}
): Layer.Layer<Simulator | HttpClient.HttpClient> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const sim = yield* make(options)
      const baseUrl = "http://elevenlabs.simulator.invalid"
      sim.setBaseUrl(baseUrl)
      return Layer.mergeAll(
        Layer.succeed(Simulator, { baseUrl, apiKey: sim.firstKey, ...sim.control }),
        yield* inProcessClient(sim.routes)
      )
    })
  )
