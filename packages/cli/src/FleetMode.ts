/**
 * The commands in fleet mode: with `POLYDUB_DATABASE_URL` set, `translate` starts durable workflows
 * on the fleet's runners (`polydub worker`) and prints their references at once, and `status`,
 * `watch`, `approve`, `transcript` and `download` take those references (`workflow:<id>`) — or the
 * reference of the job a workflow follows — from any machine, against the fleet's store. Without
 * the variable, every command works as before, in this process.
 *
 * Exit codes are the CLI's: 2 for what the fleet refuses (an unknown workflow, one not awaiting
 * review, a source that is not a URL), 1 for a workflow that ended without a rendered video, 3 when
 * the database cannot be reached.
 */
import type { Job, Transcript } from "@polydub/core"
import { Fleet, PgJobStore } from "@polydub/fleet"
import { Config, Console, Context, Effect, Layer, Option, Schema, type Scope } from "effect"
import { JobFailed, line } from "./Output.js"
import { UsageError } from "./Providers.js"

/** Whether the CLI runs against a fleet: `POLYDUB_DATABASE_URL` is set. */
export const enabled: Effect.Effect<boolean> = Config.option(Config.String("POLYDUB_DATABASE_URL")).pipe(
  Effect.map(Option.isSome),
  Effect.orElseSucceed(() => false)
)

/** The fleet's database could not be reached, or it failed. Exit code 3. */
export class FleetUnavailable extends Schema.TaggedError<FleetUnavailable>()("FleetUnavailable", {
  message: Schema.String
}) {}

/** A fleet client for this command, on `POLYDUB_DATABASE_URL` and `POLYDUB_TABLE_PREFIX`. */
export const client: Effect.Effect<Fleet.FleetService, FleetUnavailable, Scope.Scope> = Effect.gen(function* () {
  const tablePrefix = yield* Config.String("POLYDUB_TABLE_PREFIX").pipe(
    Config.withDefault(PgJobStore.defaultTablePrefix),
    Effect.orElseSucceed(() => PgJobStore.defaultTablePrefix)
  )
  const layer = Fleet.layerClient({ tablePrefix }).pipe(
    Layer.provide(PgJobStore.layerClientConfig({ applicationName: "polydub-cli", maxConnections: 4 }))
  )
  const context = yield* Layer.build(layer).pipe(Effect.mapError((e) => new FleetUnavailable({ message: e.message })))
  return Context.get(context, Fleet.Fleet)
})

/** A fleet failure as the CLI reports it. */
export const cliError = (error: Fleet.FleetError) =>
  error.reason === "Store"
    ? new FleetUnavailable({ message: error.message })
    : new UsageError({ message: error.message })

/** One line for a workflow: its ref, provider, target, phase, and the job it follows. */
export const workflowLine = (w: Fleet.WorkflowInfo): string =>
  [
    w.ref,
    w.provider,
    w.target,
    w.phase,
    w.job === undefined ? "" : line(w.job),
    w.error === undefined ? "" : `${w.error.reason}: ${w.error.message}`
  ]
    .filter((part) => part !== "")
    .join("  ")

const printWorkflow = (w: Fleet.WorkflowInfo, json: boolean) =>
  Console.log(
    json
      ? JSON.stringify({
          ref: w.ref,
          id: w.id,
          provider: w.provider,
          target: w.target,
          review: w.review,
          phase: w.phase,
          job: w.job === undefined ? null : String(w.job.ref),
          state: w.job?.state._tag ?? null,
          error: w.error ?? null
        })
      : workflowLine(w)
  )

const failedOf = (workflows: ReadonlyArray<Fleet.WorkflowInfo>) => {
  const failed = workflows.filter((w) => w.phase === "failed" || w.phase === "error")
  return failed.length === 0 ? undefined : new JobFailed({ message: `${failed.length} workflow(s) did not succeed` })
}

export interface TranslateInput {
  readonly source: string
  readonly provider: string
  readonly targets: ReadonlyArray<string>
  readonly review: boolean
  readonly captions: boolean
  readonly audioOnly: boolean
  readonly title: Option.Option<string>
  readonly wait: boolean
  readonly json: boolean
}

/** `translate` in fleet mode: starts one workflow per target and prints them; `--wait` follows them. */
export const translate = (input: TranslateInput) =>
  Effect.gen(function* () {
    if (!/^https?:\/\//i.test(input.source)) {
      return yield* new UsageError({
        message: `in fleet mode (POLYDUB_DATABASE_URL is set) the source must be a video URL the runners can read, not ${JSON.stringify(input.source)}`
      })
    }
    const fleet = yield* client
    const started = yield* fleet
      .start({
        provider: input.provider,
        source: input.source,
        targets: input.targets,
        review: input.review,
        captions: input.captions,
        audioOnly: input.audioOnly,
        ...(Option.isSome(input.title) ? { title: input.title.value } : {})
      })
      .pipe(Effect.mapError(cliError))
    for (const w of started) yield* printWorkflow(w, input.json)
    if (!input.wait) return started
    yield* Console.error(`polydub: following ${started.length} workflow(s) on the fleet`)
    return yield* Effect.forEach(started, (w) => follow(fleet, w.ref, input.json), { concurrency: "unbounded" })
  }).pipe(Effect.scoped)

/** Prints each change of phase until the workflow finishes (or, with review, awaits review). */
const follow = (fleet: Fleet.FleetService, ref: string, json: boolean) =>
  Effect.gen(function* () {
    let last = ""
    for (;;) {
      const w = yield* fleet.get(ref).pipe(Effect.mapError(cliError))
      const now = `${w.phase} ${w.job?.state._tag ?? ""}`
      if (now !== last) {
        last = now
        yield* printWorkflow(w, json)
      }
      if (w.finished) return w
      yield* Effect.sleep("1 second")
    }
  })

/** Whether a reference names a workflow rather than a job. */
export const isWorkflowRef = (ref: string): boolean => ref.startsWith("workflow:")

/** `status` in fleet mode: each reference's workflow, from the fleet's store. */
export const status = (refs: ReadonlyArray<string>, json: boolean) =>
  Effect.gen(function* () {
    const fleet = yield* client
    const found = yield* Effect.forEach(refs, (ref) => fleet.get(ref).pipe(Effect.mapError(cliError)))
    for (const w of found) yield* printWorkflow(w, json)
    const failure = failedOf(found)
    if (failure !== undefined) return yield* failure
  }).pipe(Effect.scoped)

/** `watch` in fleet mode: follows workflows (default: every unfinished one) to their end. */
export const watch = (refs: ReadonlyArray<string>, json: boolean) =>
  Effect.gen(function* () {
    const fleet = yield* client
    const targets =
      refs.length > 0
        ? refs
        : (yield* fleet.list({ limit: 1000 }).pipe(Effect.mapError(cliError)))
            .filter((w) => !w.finished)
            .map((w) => w.ref)
    if (targets.length === 0) return yield* Console.error("polydub: no unfinished workflows in the fleet")
    const finished = yield* Effect.forEach(targets, (ref) => follow(fleet, ref, json), { concurrency: "unbounded" })
    const failure = failedOf(finished)
    if (failure !== undefined) return yield* failure
  }).pipe(Effect.scoped)

/** Whether a job reference is followed by a fleet workflow (when the CLI is in fleet mode). */
export const followed = (ref: string): Effect.Effect<boolean, FleetUnavailable> =>
  Effect.gen(function* () {
    if (!(yield* enabled)) return false
    const fleet = yield* client
    return yield* fleet.get(ref).pipe(
      Effect.as(true),
      Effect.catch((e) => (e.reason === "NotFound" ? Effect.succeed(false) : Effect.fail(cliError(e))))
    )
  }).pipe(
    Effect.scoped,
    Effect.mapError((e) => (e._tag === "FleetUnavailable" ? e : new FleetUnavailable({ message: e.message })))
  )

/** `approve` in fleet mode: completes the workflow's approval; a runner renders it. */
export const approve = (
  ref: string,
  options: {
    readonly captions: boolean
    readonly audioOnly: boolean
    readonly transcript?: Transcript.Transcript | undefined
  },
  json: boolean
) =>
  Effect.gen(function* () {
    const fleet = yield* client
    const w = yield* fleet
      .approve(ref, {
        captions: options.captions,
        audioOnly: options.audioOnly,
        ...(options.transcript === undefined ? {} : { transcript: options.transcript })
      })
      .pipe(Effect.mapError(cliError))
    yield* Console.error(`polydub: approved ${w.ref}; a runner renders it (polydub watch ${w.ref})`)
    yield* printWorkflow(w, json)
  }).pipe(Effect.scoped)

/**
 * The job a reference names in fleet mode: the job a workflow follows (`workflow:<id>`), or a job
 * reference as it is. Used by `transcript` and `download`, which then talk to the vendor.
 */
export const jobOf = (ref: string): Effect.Effect<Option.Option<Job>, UsageError | FleetUnavailable> =>
  Effect.gen(function* () {
    if (!isWorkflowRef(ref)) return Option.none<Job>()
    const fleet = yield* client
    const w = yield* fleet.get(ref).pipe(Effect.mapError(cliError))
    if (w.job === undefined) {
      return yield* new UsageError({ message: `${ref} has no vendor job yet (it is ${w.phase})` })
    }
    return Option.some(w.job)
  }).pipe(Effect.scoped)
