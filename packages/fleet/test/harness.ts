// What the fleet tests share: the providers a runner builds from the simulators' addresses (in this
// process or in a spawned runner process), and the layers of a runner or a client on a test database.

import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { TranslationProvider, type TranslationProviderService } from "@polydub/core"
import { DubbingWorkflow, Fleet, SharedBudget } from "@polydub/fleet"
import { HeyGen } from "@polydub/provider-heygen"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { Loopback } from "@polydub/testing"
import { Context, Duration, Effect, Layer, Redacted } from "effect"
import { clientLayer, redisUrl } from "./services.js"

/** A budget as JSON carries it (`window` as a duration string, e.g. `"1 second"`). */
interface BudgetJson {
  readonly limit: number
  readonly window: Duration.Input
}

/**
 * Where the simulators are, as a runner process is told through its environment, with the client
 * settings a test wants instead of the vendors' defaults (budgets, time-outs: durations as strings).
 */
export interface Vendors {
  readonly heygen: {
    readonly baseUrl: string
    readonly apiKey: string
    readonly budget?: BudgetJson | undefined
    readonly timeouts?: { readonly read?: Duration.Input; readonly write?: Duration.Input } | undefined
  }
  readonly voicecheap: {
    readonly baseUrl: string
    readonly apiKey: string
    readonly budgets?:
      | { readonly status?: BudgetJson; readonly translate?: BudgetJson; readonly projects?: BudgetJson }
      | undefined
    readonly timeouts?: { readonly read?: Duration.Input; readonly upload?: Duration.Input } | undefined
  }
}

const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)

/**
 * The providers on the simulators, with their budgets in Redis under `budgetPrefix` when given
 * (every runner of a test then spends one budget per vendor key), in process memory otherwise.
 */
export const providersLayer = (vendors: Vendors, budgetPrefix?: string) => {
  const limiter =
    budgetPrefix === undefined
      ? undefined
      : SharedBudget.layer({
          prefix: budgetPrefix,
          redis: { url: redisUrl }
        })
  const heygenOptions = {
    apiKey: Redacted.make(vendors.heygen.apiKey),
    baseUrl: vendors.heygen.baseUrl,
    uploadBaseUrl: vendors.heygen.baseUrl,
    budget: vendors.heygen.budget,
    timeouts: vendors.heygen.timeouts
  }
  const voicecheapOptions = {
    apiKey: Redacted.make(vendors.voicecheap.apiKey),
    baseUrl: vendors.voicecheap.baseUrl,
    budgets: vendors.voicecheap.budgets,
    timeouts: vendors.voicecheap.timeouts
  }
  const heygen =
    limiter === undefined ? HeyGen.layer(heygenOptions) : HeyGen.layerWith(heygenOptions).pipe(Layer.provide(limiter))
  const voicecheap =
    limiter === undefined
      ? VoiceCheap.layer(voicecheapOptions)
      : VoiceCheap.layerWith(voicecheapOptions).pipe(Layer.provide(limiter))
  const serviceOf = (layer: Layer.Layer<TranslationProvider, unknown, never>) =>
    Effect.map(Layer.build(layer), (context) => Context.get(context, TranslationProvider) as TranslationProviderService)
  return Layer.effect(
    DubbingWorkflow.FleetProviders,
    Effect.gen(function* () {
      const h = yield* serviceOf(heygen.pipe(Layer.provide(platform)))
      const v = yield* serviceOf(voicecheap.pipe(Layer.provide(platform)))
      return DubbingWorkflow.providers({ heygen: h, voicecheap: v })
    })
  )
}

export interface RunnerSetup {
  /** Names the runner's database connections (`application_name`), so a test can tell whose locks are whose. */
  readonly name?: string | undefined
  readonly databaseUrl: string
  readonly tablePrefix: string
  readonly port: number
  readonly vendors: Vendors
  readonly budgetPrefix?: string | undefined
  readonly sweepInterval?: Duration.Input | undefined
  readonly retention?: Duration.Input | null | undefined
  readonly downloadsDir?: string | undefined
}

/** A runner of the test's fleet, on its own pool (as a separate process has). */
export const runnerLayer = (setup: RunnerSetup) =>
  Fleet.layerRunner({
    tablePrefix: setup.tablePrefix,
    runner: { host: "127.0.0.1", port: setup.port },
    sweeper: {
      interval: setup.sweepInterval ?? Duration.millis(500),
      retention: setup.retention,
      // The simulators run jobs in seconds: read them sooner than the vendors advise for real ones.
      tracker: { heygen: { minInterval: "300 millis" }, voicecheap: { minInterval: "300 millis" } }
    },
    stepRetry: { initial: Duration.millis(200), times: 6 },
    ...(setup.downloadsDir === undefined ? {} : { downloads: { dir: setup.downloadsDir } })
  }).pipe(
    Layer.provide(providersLayer(setup.vendors, setup.budgetPrefix)),
    Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)),
    // A runner holds connections for its shard locks and its message polling besides the workflows' own.
    Layer.provide(clientLayer(setup.databaseUrl, 16, setup.name))
  )

/** A client of the test's fleet, on its own pool. */
export const clientOf = (databaseUrl: string, tablePrefix: string) =>
  Fleet.layerClient({ tablePrefix }).pipe(Layer.provide(clientLayer(databaseUrl)))

/** A free TCP port on 127.0.0.1 for a runner to listen on. */
export const freePort = Loopback.freePort
