/**
 * A fleet of polydub processes on Effect's cluster: runners that execute the durable dubbing
 * workflows (`layerRunner`), and clients — an API, a webhook receiver, the CLI — that start them,
 * read them and approve them from any machine (`layerClient`). Both keep their state in one
 * PostgreSQL database: the cluster's messages, the job store, and the workflows' rows, all under one
 * table prefix.
 *
 * The cluster's defaults suit long chat-like entities; these suit this workload, measured on a
 * 2-core machine: stored messages are polled every 500 ms (a durable clock or a message from another
 * process is seen within about that), shard locks expire after 6 s with a refresh every 2 s, and
 * runners check each other's health every 2 s, so the workflows of a killed runner resume elsewhere
 * within seconds rather than a minute. `shardsPerGroup` must be the same on every process.
 *
 * A runner listens for the others on an explicit address (`runner: { host, port }`); nothing is read
 * from `HOST` or `PORT`, which a service's environment often sets for something else.
 */
import { NodeClusterSocket, NodeCrypto } from "@effect/platform-node"
import {
  type Job,
  type JobStore,
  Language,
  parseRefOption,
  refIdentity,
  type TranslationProviderService
} from "@polydub/core"
import { Context, Duration, Effect, type FileSystem, Layer, Option, type Path, Schedule, Schema } from "effect"
import {
  RunnerAddress,
  RunnerHealth,
  Runners,
  ShardingConfig,
  SocketRunner,
  SqlMessageStorage,
  SqlRunnerStorage
} from "effect/cluster"
import * as ClusterWorkflowEngine from "effect/cluster/ClusterWorkflowEngine"
import type { HttpClient } from "effect/http"
import { RpcSerialization } from "effect/rpc"
import { SqlClient } from "effect/sql"
import { DurableDeferred, type WorkflowEngine } from "effect/workflow"
import * as Dubbing from "./DubbingWorkflow.js"
import { type Tables, tablesOf } from "./internal/pgSchema.js"
import { finishedPhases, make as makeRows, type Phase, type WorkflowRow } from "./internal/workflowRows.js"
import * as PgJobStore from "./PgJobStore.js"
import * as Sweeper from "./Sweeper.js"

export type { Phase }

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

export interface ClientOptions {
  /** The table prefix of the job store, the workflows and the cluster. Default `polydub_`. */
  readonly tablePrefix?: string | undefined
  /** Overrides of the cluster's settings (see the module comment for the defaults). */
  readonly sharding?: Partial<ShardingConfig.ShardingConfig["Service"]> | undefined
}

export interface RunnerOptions extends ClientOptions, Dubbing.RunnerOptions {
  /** Where this runner listens for the other processes of the cluster, as they reach it. */
  readonly runner: { readonly host: string; readonly port: number; readonly listenHost?: string | undefined }
  /** The sweeper's options (it runs on one runner at a time). */
  readonly sweeper?: Sweeper.SweeperOptions | undefined
}

/** The settings this workload runs well with (see the module comment). */
export const shardingDefaults: Partial<ShardingConfig.ShardingConfig["Service"]> = {
  shardsPerGroup: 60,
  entityMessagePollInterval: Duration.millis(500),
  shardLockRefreshInterval: Duration.seconds(2),
  shardLockExpiration: Duration.seconds(6),
  runnerHealthCheckInterval: Duration.seconds(2),
  entityMaxIdleTime: Duration.seconds(30)
}

// ---------------------------------------------------------------------------------------------
// The client service
// ---------------------------------------------------------------------------------------------

/**
 * A fleet operation could not be done: no such workflow (`NotFound`), a request that cannot start
 * (`InvalidRequest`), an approval of a workflow that is not awaiting review (`NotAwaitingReview`),
 * or the database failed (`Store`).
 */
export class FleetError extends Schema.TaggedError<FleetError>()("FleetError", {
  reason: Schema.Literals(["NotFound", "InvalidRequest", "NotAwaitingReview", "Store"]),
  message: Schema.String
}) {}

/** A translation to start: one workflow per target. */
export interface StartRequest {
  /** Names the translation; starting the same id and target again joins the running workflow. Default: random. */
  readonly id?: string | undefined
  readonly provider: string
  /** The video's URL (`https:` or `http:`). */
  readonly source: string
  readonly targets: ReadonlyArray<string>
  readonly sourceLanguage?: string | undefined
  readonly review?: boolean | undefined
  readonly title?: string | undefined
  readonly captions?: boolean | undefined
  readonly audioOnly?: boolean | undefined
  /** How long the render may take before the workflow stops waiting. Default: the runners'. */
  readonly renderTimeout?: Duration.Input | undefined
  /** Save the outputs into the runners' download folder. */
  readonly download?: boolean | undefined
}

/** A workflow as the fleet records it. */
export interface WorkflowInfo {
  /** `workflow:<executionId>`: what `get`, `approve` and the CLI take. */
  readonly ref: string
  readonly executionId: string
  /** The translation's id (shared by its targets). */
  readonly id: string
  readonly provider: string
  readonly target: string
  readonly review: boolean
  readonly phase: Phase
  /** The vendor job it follows, as last recorded. */
  readonly job: Job | undefined
  /** Why it ended without a final job, where it did. */
  readonly error: { readonly reason: string; readonly message: string } | undefined
  readonly createdAt: Date
  readonly finishedAt: Date | undefined
  /** Whether the workflow has finished (its phase is `succeeded`, `failed` or `error`). */
  readonly finished: boolean
  /** The source video's URL, as the workflow was started with it (the review page plays it). */
  readonly source?: string | undefined
  /** The title it was started with, where there was one. */
  readonly title?: string | undefined
}

/** A string field of the workflow's stored request, where it has one. */
const requestField = (payload: unknown, field: "source" | "title"): string | undefined => {
  const value =
    typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>)[field] : undefined
  return typeof value === "string" ? value : undefined
}

export interface FleetService {
  /** Starts one workflow per target and answers at once, before anything is sent to the vendor. */
  readonly start: (request: StartRequest) => Effect.Effect<ReadonlyArray<WorkflowInfo>, FleetError>
  /** A workflow by its ref (`workflow:<id>`), its execution id, or the ref of the job it follows. */
  readonly get: (ref: string) => Effect.Effect<WorkflowInfo, FleetError>
  /** The workflows of a translation id. */
  readonly ofTranslation: (id: string) => Effect.Effect<ReadonlyArray<WorkflowInfo>, FleetError>
  /** The newest workflows, optionally in one phase. */
  readonly list: (options?: {
    readonly phase?: Phase | undefined
    readonly limit?: number | undefined
  }) => Effect.Effect<ReadonlyArray<WorkflowInfo>, FleetError>
  /**
   * Approves a workflow awaiting review (by its ref or its job's), with the edited transcript where
   * there is one; the render starts on a runner. `NotAwaitingReview` when it is elsewhere.
   */
  readonly approve: (ref: string, approval?: Dubbing.Approval) => Effect.Effect<WorkflowInfo, FleetError>
  /**
   * A job's new state from a webhook (or any other source): recorded, and the workflows waiting for
   * it woken. Returns how many were.
   */
  readonly deliver: (job: Job) => Effect.Effect<number, FleetError>
  /** Waits until the workflow finishes, reading its row every `interval` (default 1 s). */
  readonly await: (
    ref: string,
    options?: { readonly interval?: Duration.Input | undefined }
  ) => Effect.Effect<WorkflowInfo, FleetError>
  /** How many workflows are in each phase. */
  readonly counts: Effect.Effect<Partial<Record<Phase, number>>, FleetError>
}

export class Fleet extends Context.Service<Fleet, FleetService>()("@polydub/fleet/Fleet") {}

const infoOf = (row: WorkflowRow): WorkflowInfo => ({
  ref: `workflow:${row.executionId}`,
  executionId: row.executionId,
  id: row.workflowId,
  provider: row.provider,
  target: row.target,
  review: row.review,
  phase: row.phase,
  job: row.job,
  error: row.error,
  createdAt: row.createdAt,
  finishedAt: row.finishedAt,
  finished: finishedPhases.includes(row.phase),
  source: requestField(row.payload, "source"),
  title: requestField(row.payload, "title")
})

const storeError = (doing: string) => (error: unknown) =>
  new FleetError({
    reason: "Store",
    message: `fleet: cannot ${doing}: ${error instanceof Error ? error.message : String(error)}`
  })

const invalid = (message: string) => new FleetError({ reason: "InvalidRequest", message })

const decodeRequest = Schema.decodeUnknownEffect(Dubbing.DubbingRequest)

/** The client on the fleet's tables and a `WorkflowEngine` (a runner's, or a client-only one). */
export const make = Effect.fn("Fleet.make")(function* (tables: Tables) {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const rows = makeRows(sql, tables)
  const store = yield* PgJobStore.PgJobStore
  const engine = yield* Effect.context<WorkflowEngine.WorkflowEngine>()
  const known = yield* Effect.serviceOption(Dubbing.FleetProviders)

  const lookup = Effect.fnUntraced(function* (ref: string) {
    const executionId = ref.startsWith("workflow:") ? ref.slice("workflow:".length) : ref
    const byId = yield* rows.get(executionId).pipe(Effect.mapError(storeError(`read the workflow ${ref}`)))
    if (byId !== undefined) return byId
    const job = parseRefOption(ref)
    if (Option.isSome(job)) {
      const byJob = yield* rows
        .byJob(refIdentity(job.value))
        .pipe(Effect.mapError(storeError(`read the workflows of ${ref}`)))
      if (byJob.length > 0) return byJob[0]!
    }
    return yield* new FleetError({ reason: "NotFound", message: `no workflow ${ref} in the fleet's store` })
  })

  const validate = (request: StartRequest) =>
    Effect.gen(function* () {
      const url = URL.parse(request.source)
      if (url === null) {
        return yield* invalid(`the source must be a video URL (https: or http:), not ${JSON.stringify(request.source)}`)
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        return yield* invalid(
          `the source must be an https: or http: URL; a fleet's runners cannot read ${url.protocol} sources`
        )
      }
      if (request.targets.length === 0) return yield* invalid("give at least one target language")
      const provider: TranslationProviderService | undefined = Option.isSome(known)
        ? Option.getOrUndefined(known.value.get(request.provider))
        : undefined
      if (Option.isSome(known) && provider === undefined) {
        return yield* invalid(
          `unknown provider ${JSON.stringify(request.provider)}: this fleet has ${known.value.ids.join(", ")}`
        )
      }
      const targets: Array<string> = []
      for (const target of request.targets) {
        const tag = Language.normalizeOption(target)
        if (Option.isNone(tag)) return yield* invalid(`${JSON.stringify(target)} is not a BCP-47 language tag`)
        if (provider !== undefined && !provider.languages.some((entry) => entry.tag === tag.value)) {
          return yield* invalid(`${request.provider} does not translate into ${tag.value}`)
        }
        if (!targets.includes(tag.value)) targets.push(tag.value)
      }
      if (request.review === true && provider !== undefined && !provider.capabilities.review) {
        return yield* invalid(`${request.provider} has no review step`)
      }
      return targets
    })

  const start = Effect.fn("Fleet.start")(function* (request: StartRequest) {
    const targets = yield* validate(request)
    const id = request.id ?? crypto.randomUUID()
    const out: Array<WorkflowInfo> = []
    for (const target of targets) {
      const payload = yield* decodeRequest({
        id,
        provider: request.provider,
        source: request.source,
        target,
        review: request.review === true,
        ...(request.sourceLanguage === undefined ? {} : { sourceLanguage: request.sourceLanguage }),
        ...(request.title === undefined ? {} : { title: request.title }),
        ...(request.captions === undefined ? {} : { captions: request.captions }),
        ...(request.audioOnly === undefined ? {} : { audioOnly: request.audioOnly }),
        ...(request.renderTimeout === undefined
          ? {}
          : { renderTimeoutMs: Duration.toMillis(Duration.fromInputUnsafe(request.renderTimeout)) }),
        ...(request.download === undefined ? {} : { download: request.download })
      }).pipe(Effect.mapError((e) => invalid(`the request does not fit: ${e.message}`)))
      const executionId = yield* Dubbing.DubbingWorkflow.executionId(payload)
      const existing = yield* rows.get(executionId).pipe(Effect.mapError(storeError("read the workflows")))
      // The row first: a process dying before the start leaves a row the same start completes.
      yield* rows
        .insert({ executionId, workflowId: id, provider: request.provider, target, review: payload.review, payload })
        .pipe(Effect.mapError(storeError("record the workflow")))
      // A finished workflow whose messages were pruned is not started again (it would submit again).
      if (existing?.prunedAt === undefined) {
        yield* Dubbing.DubbingWorkflow.execute(payload, { discard: true }).pipe(Effect.provide(engine))
      }
      out.push(infoOf((yield* rows.get(executionId).pipe(Effect.mapError(storeError("read the workflow"))))!))
    }
    return out
  })

  const approve = Effect.fn("Fleet.approve")(function* (ref: string, approval: Dubbing.Approval = {}) {
    const row = yield* lookup(ref)
    if (row.phase !== "awaiting-review") {
      return yield* new FleetError({
        reason: "NotAwaitingReview",
        message: `workflow:${row.executionId} is ${row.phase}, not awaiting review`
      })
    }
    const token = DurableDeferred.tokenFromExecutionId(Dubbing.ApprovalDeferred, {
      workflow: Dubbing.DubbingWorkflow,
      executionId: row.executionId
    })
    yield* DurableDeferred.succeed(Dubbing.ApprovalDeferred, { token, value: approval }).pipe(Effect.provide(engine))
    return infoOf(row)
  })

  const get = Effect.fn("Fleet.get")(function* (ref: string) {
    return infoOf(yield* lookup(ref))
  })

  const wait = Effect.fn("Fleet.await")(function* (
    ref: string,
    options: { readonly interval?: Duration.Input | undefined } = {}
  ) {
    const interval = Duration.fromInputUnsafe(options.interval ?? Duration.seconds(1))
    return yield* get(ref).pipe(Effect.repeat({ schedule: Schedule.spaced(interval), until: (info) => info.finished }))
  })

  return Fleet.of({
    start,
    get,
    ofTranslation: (id) =>
      rows.byWorkflowId(id).pipe(
        Effect.map((r) => r.map(infoOf)),
        Effect.mapError(storeError(`read the translation ${id}`))
      ),
    list: (options = {}) =>
      rows.list({ phase: options.phase, limit: options.limit ?? 100 }).pipe(
        Effect.map((r) => r.map(infoOf)),
        Effect.mapError(storeError("list the workflows"))
      ),
    approve,
    deliver: (job) =>
      Sweeper.wake(rows, store, job).pipe(Effect.provide(engine), Effect.mapError(storeError(`deliver ${job.ref}`))),
    await: wait,
    counts: rows.counts.pipe(Effect.mapError(storeError("count the workflows")))
  })
})

// ---------------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------------

const cluster = (options: ClientOptions, runner: RunnerOptions["runner"] | undefined) => {
  const tables = tablesOf(options.tablePrefix ?? PgJobStore.defaultTablePrefix)
  const config = ShardingConfig.layer({
    ...shardingDefaults,
    ...(runner === undefined
      ? { runnerAddress: Option.none() }
      : {
          runnerAddress: Option.some(RunnerAddress.make(runner.host, runner.port)),
          runnerListenAddress:
            runner.listenHost === undefined
              ? Option.none()
              : Option.some(RunnerAddress.make(runner.listenHost, runner.port))
        }),
    ...options.sharding
  })
  const storage = Layer.mergeAll(
    SqlMessageStorage.layerWith({ prefix: tables.cluster }),
    Layer.orDie(SqlRunnerStorage.layerWith({ prefix: tables.cluster }))
  )
  const sharding =
    runner === undefined
      ? SocketRunner.layerClientOnly.pipe(Layer.provide(NodeClusterSocket.layerClientProtocol))
      : SocketRunner.layer.pipe(
          Layer.provide([NodeClusterSocket.layerSocketServer, NodeClusterSocket.layerClientProtocol]),
          Layer.provide(
            RunnerHealth.layerPing.pipe(
              Layer.provide(Runners.layerRpc),
              Layer.provide(NodeClusterSocket.layerClientProtocol)
            )
          )
        )
  return ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(sharding),
    Layer.provideMerge(storage),
    Layer.provide(config),
    Layer.provide(RpcSerialization.layerSchemaBinary()),
    Layer.provide(NodeCrypto.layerDigest)
  )
}

const storeAndRows = (options: ClientOptions) => {
  const tables = tablesOf(options.tablePrefix ?? PgJobStore.defaultTablePrefix)
  const rows = Layer.effect(
    Dubbing.FleetRows,
    Effect.map(SqlClient.SqlClient, (sql) => makeRows(sql.withoutTransforms(), tables))
  )
  return Layer.merge(PgJobStore.layer({ tablePrefix: options.tablePrefix }), rows)
}

/**
 * A client of the fleet: starts, reads and approves workflows, and delivers webhook states, from a
 * process that runs none of them (an API, a webhook receiver, the CLI). Needs the database's
 * `SqlClient`; `FleetProviders`, where given, lets `start` check providers and languages first.
 */
export const layerClient = (
  options: ClientOptions = {}
): Layer.Layer<
  Fleet | PgJobStore.PgJobStore | JobStore.JobStore | WorkflowEngine.WorkflowEngine,
  JobStore.JobStoreError,
  SqlClient.SqlClient
> => {
  const tables = tablesOf(options.tablePrefix ?? PgJobStore.defaultTablePrefix)
  return Layer.effect(Fleet, make(tables)).pipe(
    Layer.provideMerge(cluster(options, undefined)),
    Layer.provideMerge(storeAndRows(options))
  ) as never
}

/**
 * A runner: executes dubbing workflows (its share of the cluster's shards), runs the sweeper when
 * the cluster gives it the singleton, and is a client as well. Needs the database's `SqlClient`, the
 * providers (`FleetProviders`, built with the shared budget where several runners share a key), an
 * HTTP client and a file system (downloads).
 */
export const layerRunner = (
  options: RunnerOptions
): Layer.Layer<
  Fleet | PgJobStore.PgJobStore | JobStore.JobStore | WorkflowEngine.WorkflowEngine,
  JobStore.JobStoreError,
  SqlClient.SqlClient | Dubbing.FleetProviders | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> => {
  const tables = tablesOf(options.tablePrefix ?? PgJobStore.defaultTablePrefix)
  const workflowOptions = Layer.succeed(Dubbing.FleetRunnerOptions, {
    renderTimeout: options.renderTimeout,
    downloads: options.downloads,
    stepRetry: options.stepRetry,
    claimTimeout: options.claimTimeout
  })
  return Layer.effect(Fleet, make(tables)).pipe(
    Layer.merge(Dubbing.layer.pipe(Layer.provide(workflowOptions))),
    Layer.merge(Sweeper.layer(tables, options.sweeper)),
    Layer.provideMerge(cluster(options, options.runner)),
    Layer.provideMerge(storeAndRows(options))
  ) as never
}
