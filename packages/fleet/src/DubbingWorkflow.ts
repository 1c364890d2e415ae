/**
 * One target language of a translation, followed from submission to its outputs as a durable
 * workflow (`effect/workflow` on `effect/cluster`): each step that talks to the vendor is an
 * activity whose result is stored before the next one starts, so a runner killed at any point is
 * replaced by another that replays the stored results and carries on from the step that was cut.
 *
 * The steps:
 * 1. **submit**, under an idempotency key derived from the activity (the same on every rerun). The
 *    vendor's answer is written to the workflow's row in the same activity; a rerun that finds it
 *    there never calls the vendor again. A rerun that finds the key claimed but no answer (the
 *    runner died while the request was out) sends it again only to a vendor that honours the key
 *    (it replays its first answer); for one that does not, the outcome is unknown and surfaces as
 *    `DubbingFailed { reason: "OutcomeUnknown" }`: sending again could bill twice.
 * 2. with review: **wait** until the job rests (the sweeper or a webhook completes the wait), then
 *    **wait for approval**, a durable deferred completed by `Fleet.approve` from any process (with
 *    the edited transcript, where there is one), then **approve** (revise, then render, under the
 *    activity's key).
 * 3. **wait for the render**, raced against a durable deadline (`renderTimeout`).
 * 4. **finish**: record the final job (and download the outputs where the runner is configured to).
 *
 * Waiting costs nothing: a workflow that waits is suspended, not polling. The vendor is read by one
 * sweeper for the whole cluster (`Sweeper`), in bulk, inside the shared budget.
 */
import {
  Downloads,
  type Job,
  JobJson,
  type JobRef,
  parseRefOption,
  refIdentity,
  Source,
  Submission,
  Transcript,
  type TranslationError,
  type TranslationProviderService
} from "@polydub/core"
import {
  Context,
  Duration,
  Effect,
  Fiber,
  type FileSystem,
  Layer,
  Option,
  type Path,
  Schedule,
  Schema,
  type Scope
} from "effect"
import type { HttpClient } from "effect/http"
import { Activity, DurableClock, DurableDeferred, Workflow, type WorkflowEngine } from "effect/workflow"
import type { WorkflowRows } from "./internal/workflowRows.js"
import { PgJobStore } from "./PgJobStore.js"

// ---------------------------------------------------------------------------------------------
// What a workflow is asked, and how it ends
// ---------------------------------------------------------------------------------------------

/** One target of a translation, as the workflow keeps it (JSON: it is stored with every execution). */
export const DubbingRequest = Schema.Struct({
  /** The translation this target belongs to; with `target`, it names the workflow (a repeated start joins it). */
  id: Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/)),
  /** The provider's id (`heygen`, `voicecheap`), as the runners' `FleetProviders` know it. */
  provider: Schema.String,
  /** The video, as an `https:` or `http:` URL the vendor (or polydub's upload) can read. */
  source: Schema.String,
  /** The BCP-47 target language. */
  target: Schema.String,
  sourceLanguage: Schema.optionalKey(Schema.String),
  review: Schema.Boolean,
  title: Schema.optionalKey(Schema.String),
  captions: Schema.optionalKey(Schema.Boolean),
  audioOnly: Schema.optionalKey(Schema.Boolean),
  /** How long the render may take from submission (or approval) before the workflow gives up waiting (ms). */
  renderTimeoutMs: Schema.optionalKey(Schema.Finite),
  /** Save the outputs into the runners' download folder (`RunnerOptions.downloads`). */
  download: Schema.optionalKey(Schema.Boolean)
})
export type DubbingRequest = typeof DubbingRequest.Type

/**
 * The workflow ended without a final vendor job: the submission was refused (`Rejected`), may or
 * may not have been processed (`OutcomeUnknown`: never sent again, check the vendor's dashboard),
 * the render did not finish in time (`TimedOut`, the job is still the vendor's), or the approval was
 * refused (`ApprovalRefused`). `ref` is the vendor job, where there is one.
 */
export class DubbingFailed extends Schema.TaggedError<DubbingFailed>()("DubbingFailed", {
  reason: Schema.Literals(["Rejected", "OutcomeUnknown", "TimedOut", "ApprovalRefused"]),
  ref: Schema.optionalKey(Schema.String),
  message: Schema.String
}) {}

/** How a workflow ended: the vendor job in its final state (`Succeeded` or `Failed`), and the files saved. */
export const DubbingResult = Schema.Struct({
  job: JobJson,
  files: Schema.Array(Schema.String)
})
export type DubbingResult = typeof DubbingResult.Type

/** The workflow. Its name and activity names are stored with every execution: they never change. */
export const DubbingWorkflow = Workflow.make("polydub-dubbing", {
  payload: DubbingRequest,
  success: DubbingResult,
  error: DubbingFailed,
  idempotencyKey: (request) => `${request.id}/${request.target}`
})

/** What completes the approval wait: the edited transcript (where it was edited) and the render options. */
export const Approval = Schema.Struct({
  transcript: Schema.optionalKey(Transcript.Transcript),
  captions: Schema.optionalKey(Schema.Boolean),
  audioOnly: Schema.optionalKey(Schema.Boolean)
})
export type Approval = typeof Approval.Type

/** The approval, completed from any process by `Fleet.approve`. */
export const ApprovalDeferred = DurableDeferred.make("approval", { success: Approval })

/** A wait for the job to rest, completed by the sweeper or a webhook with the job as it rests. */
export const restDeferred = (step: "review" | "render") => DurableDeferred.make(`rest/${step}`, { success: JobJson })

export const restSteps = ["review", "render"] as const

// ---------------------------------------------------------------------------------------------
// What the runners provide
// ---------------------------------------------------------------------------------------------

/** The providers a runner can submit to, by id. */
export class FleetProviders extends Context.Service<
  FleetProviders,
  {
    readonly ids: ReadonlyArray<string>
    readonly get: (id: string) => Option.Option<TranslationProviderService>
  }
>()("@polydub/fleet/FleetProviders") {}

/** `FleetProviders` from a record of built providers. */
export const providers = (record: Readonly<Record<string, TranslationProviderService>>) =>
  FleetProviders.of({ ids: Object.keys(record), get: (id) => Option.fromNullishOr(record[id]) })

/** Where the fleet's rows are; provided by `Fleet`'s layers. */
export class FleetRows extends Context.Service<FleetRows, WorkflowRows>()("@polydub/fleet/FleetRows") {}

/** How the runners treat every workflow. */
export interface RunnerOptions {
  /** Default render deadline when a request gives none. Default 6 hours. */
  readonly renderTimeout?: Duration.Input | undefined
  /** Where `download: true` requests save their outputs; without it, they are refused at start. */
  readonly downloads?: { readonly dir: string } | undefined
  /** Pauses between attempts of a step that failed transiently. Default 1 s, doubling, at most 8 attempts. */
  readonly stepRetry?: { readonly initial: Duration.Input; readonly times: number } | undefined
  /**
   * A submission renews a heartbeat every 2 s while its request is out. Another run of the step
   * that finds the submission claimed waits for its answer while the heartbeat is younger than
   * this, and takes it as cut off by a crash once it is older. Default 10 s.
   */
  readonly claimTimeout?: Duration.Input | undefined
}

/** The scope of the runner process: what must outlive a workflow's stay on this runner runs in it. */
export class RunnerScope extends Context.Service<RunnerScope, Scope.Scope>()("@polydub/fleet/RunnerScope") {}

export class FleetRunnerOptions extends Context.Service<FleetRunnerOptions, RunnerOptions>()(
  "@polydub/fleet/FleetRunnerOptions"
) {}

// ---------------------------------------------------------------------------------------------
// The body
// ---------------------------------------------------------------------------------------------

const rowsError = (doing: string) => (error: unknown) =>
  Effect.die(new Error(`fleet: cannot ${doing}: ${error instanceof Error ? error.message : String(error)}`))

/** Whether a failed vendor call may be tried again, and whether it may already have been processed. */
const transient = (error: TranslationError) =>
  error._tag === "RateLimited" ||
  error._tag === "RequestInProgress" ||
  (error._tag === "ProviderUnavailable" && error.outcome === "not-sent")

const ambiguous = (error: TranslationError) => error._tag === "ProviderUnavailable" && error.outcome === "unknown"

const describe = (error: TranslationError) => `${error._tag}: ${error.message}`

/** The workflow's implementation, registered on a runner by `layer`. */
const body = (request: DubbingRequest, executionId: string) =>
  Effect.gen(function* () {
    const rows = yield* FleetRows
    const store = yield* PgJobStore
    const options = yield* FleetRunnerOptions
    const runnerScope = yield* RunnerScope
    const found = Option.getOrUndefined((yield* FleetProviders).get(request.provider))
    if (found === undefined) {
      return yield* new DubbingFailed({
        reason: "Rejected",
        message: `no runner provider is configured for ${JSON.stringify(request.provider)}`
      })
    }
    const provider = found
    const retry = options.stepRetry ?? { initial: Duration.seconds(1), times: 8 }
    const retrySchedule = Schedule.min([
      Schedule.exponential(Duration.fromInputUnsafe(retry.initial), 2),
      Schedule.spaced(Duration.seconds(30))
    ])

    /**
     * A step's reads and writes of the fleet's rows, tried again on the step's schedule when the
     * database fails (a dropped connection, a failover): a step that dies is stored dead and never
     * runs again, leaving its workflow unfinished for good. Every statement here may run twice.
     */
    const stored =
      (doing: string) =>
      <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        effect.pipe(Effect.retry({ schedule: retrySchedule, times: retry.times }), Effect.catch(rowsError(doing)))

    /** Records the workflow's end, then fails with `error`. */
    const fail = (error: DubbingFailed) =>
      Activity.make({
        name: "record-failure",
        execute: rows
          .finish(executionId, "error", undefined, { reason: error.reason, message: error.message })
          .pipe(stored("record the workflow's end"), Effect.asVoid)
      }).pipe(Effect.andThen(Effect.fail(error)))

    // 1. Submit.
    const submitted = yield* Activity.make({
      name: "submit",
      success: JobJson,
      error: DubbingFailed,
      execute: Effect.gen(function* () {
        const row = yield* rows.get(executionId).pipe(stored("read the workflow"))
        // The vendor's answer was recorded by an earlier run of this step: never submit again.
        if (row?.job !== undefined) return row.job
        const key = yield* Activity.idempotencyKey("submit")
        // From the claim to the recorded answer, the submission runs in the runner's own scope, not
        // the workflow's: a runner handing the workflow's shard to another (a deploy, a runner
        // joining) stops the workflow but lets the request finish and its answer be recorded, where
        // the workflow's next run (on the new owner) finds it. Only a crash cuts it off.
        const first = yield* Effect.flatMap(claim(key), (claimed) =>
          claimed ? Effect.asSome(detached(send(key))) : Effect.succeedNone
        )
        if (Option.isSome(first)) return first.value
        // Another run of this step holds the key: one still under way (shards moving between
        // runners can start the workflow on the new owner before the old one let go), whose answer
        // is recorded soon, or one that died with the request out.
        const settled = yield* settleClaim()
        if (settled !== undefined) return settled
        if (!provider.capabilities.idempotency) {
          return yield* new DubbingFailed({
            reason: "OutcomeUnknown",
            message:
              `an earlier attempt to submit this target to ${provider.id} was cut off before its answer was recorded, ` +
              `and ${provider.id} takes no idempotency key: it may have created (and billed) a job, so it is not sent ` +
              `again. Check the vendor's dashboard for a job created around ${row?.updatedAt.toISOString() ?? "the start"}.`
          })
        }
        // The vendor replays the first answer to the same key: sending again cannot bill twice.
        return yield* detached(send(key))
      })
    }).pipe(Effect.catch((e) => fail(e)))

    /** Runs `effect` in the runner's scope and waits for it; interrupting the wait leaves it running. */
    function detached<A, E>(effect: Effect.Effect<A, E>) {
      return Effect.flatMap(Effect.forkIn(effect, runnerScope), Fiber.join)
    }

    function claim(key: string) {
      return store
        .claimPending({
          idempotencyKey: key,
          provider: provider.id,
          targets: [request.target],
          startedAt: Date.now(),
          fingerprint: `workflow:${executionId}`
        })
        .pipe(stored("claim the submission's key"))
    }

    /**
     * Waits while the run holding the claim says it is under way (its heartbeat is younger than
     * `claimTimeout`) for it to record its answer; returns that job, or nothing once the heartbeat
     * has stopped (its runner died with the request out).
     */
    function settleClaim() {
      return Effect.gen(function* () {
        const timeout = Duration.toMillis(Duration.fromInputUnsafe(options.claimTimeout ?? Duration.seconds(10)))
        for (;;) {
          const row = yield* rows.get(executionId)
          if (row?.job !== undefined) return row.job
          const age = yield* rows.heartbeatAge(executionId)
          if (age === undefined || age > timeout) return undefined
          yield* Effect.sleep(Duration.millis(500))
        }
      }).pipe(stored("read the claimed submission"))
    }

    /** Sends the submission under `key` and records the answer before returning it. */
    function send(key: string) {
      return Effect.gen(function* () {
        // Renewed while the request is out (a rate limiter may hold it a while), ended with it.
        yield* rows
          .heartbeat(executionId)
          .pipe(
            Effect.ignore,
            Effect.repeat(Schedule.spaced(Duration.seconds(2))),
            Effect.interruptible,
            Effect.forkScoped
          )
        const job = yield* provider
          .submit({
            source: Source.url(request.source),
            targets: [request.target],
            sourceLanguage: request.sourceLanguage,
            review: request.review,
            title: request.title,
            captions: request.captions,
            audioOnly: request.audioOnly,
            idempotencyKey: provider.capabilities.idempotency ? key : undefined
          })
          .pipe(
            Submission.single,
            // Retried only where nothing was processed, or under the key the vendor replays.
            Effect.retry({
              while: (e) => transient(e) || (ambiguous(e) && provider.capabilities.idempotency),
              schedule: retrySchedule,
              times: retry.times
            }),
            Effect.mapError((e) =>
              ambiguous(e)
                ? new DubbingFailed({
                    reason: "OutcomeUnknown",
                    message: `${provider.id} may have processed the submission (${describe(e)}); it is not sent again`
                  })
                : new DubbingFailed({ reason: "Rejected", message: describe(e) })
            )
          )
        yield* rows
          .setJob(executionId, job, request.review ? "submitted" : "approved")
          .pipe(stored("record the submitted job"))
        yield* store.record(job).pipe(Effect.ignore)
        yield* store.removePending(key).pipe(Effect.ignore)
        return job
      }).pipe(Effect.scoped)
    }

    /** Waits until the job rests: at once where the store already has it resting, else on the deferred. */
    const rest = (step: "review" | "render", job: Job, deadline?: Duration.Duration) =>
      Effect.gen(function* () {
        const deferred = restDeferred(step)
        const known = yield* Activity.make({
          name: `watch/${step}`,
          success: Schema.NullOr(JobJson),
          execute: Effect.gen(function* () {
            // The wait is written before the store is read: whoever records a resting state after
            // this sees the wait and completes it; a state recorded before is read here.
            yield* rows.addWait({ executionId, deferred: deferred.name, job })
            const stored = yield* store.get(job.ref)
            return Option.match(stored, {
              onNone: () => null,
              onSome: (s) => (s.state._tag !== "Queued" && s.state._tag !== "Running" ? s : null)
            })
          }).pipe(stored("register the wait"))
        })
        if (known !== null) return Option.some(known)
        if (deadline === undefined) return Option.some(yield* DurableDeferred.await(deferred))
        return yield* DurableDeferred.raceAll({
          name: `deadline/${step}`,
          success: Schema.Option(JobJson),
          error: Schema.Never,
          effects: [
            Effect.asSome(DurableDeferred.await(deferred)),
            DurableClock.sleep({ name: `deadline/${step}`, duration: deadline, inMemoryThreshold: 0 }).pipe(
              Effect.as(Option.none<Job>())
            )
          ]
        })
      })

    let current: Job = submitted
    if (request.review) {
      // 2. Review: the transcript becomes ready, a person approves, the render starts.
      const ready = yield* rest("review", current)
      current = Option.getOrThrow(ready)
      if (current.state._tag === "AwaitingReview") {
        yield* Activity.make({
          name: "awaiting-review",
          execute: rows.setJob(executionId, current, "awaiting-review").pipe(stored("record the review"), Effect.asVoid)
        })
        const approval = yield* DurableDeferred.await(ApprovalDeferred)
        const reviewed = current
        current = yield* Activity.make({
          name: "approve",
          success: JobJson,
          error: DubbingFailed,
          execute: Effect.gen(function* () {
            const row = yield* rows.get(executionId).pipe(stored("read the workflow"))
            // An earlier run of this step got the render job: it is not approved twice.
            if (row?.job !== undefined && refIdentity(row.job.ref) !== refIdentity(reviewed.ref)) return row.job
            const key = yield* Activity.idempotencyKey("approve")
            if (approval.transcript !== undefined) {
              yield* provider.reviseTranscript(reviewed.ref, approval.transcript).pipe(
                Effect.retry({ while: transient, schedule: retrySchedule, times: retry.times }),
                Effect.mapError(
                  (e) =>
                    new DubbingFailed({ reason: "ApprovalRefused", ref: String(reviewed.ref), message: describe(e) })
                )
              )
            }
            const job = yield* provider
              .approve(reviewed.ref, {
                captions: approval.captions ?? request.captions,
                audioOnly: approval.audioOnly ?? request.audioOnly,
                idempotencyKey: key
              })
              .pipe(
                Effect.retry({
                  while: (e) => transient(e) || (ambiguous(e) && provider.capabilities.idempotency),
                  schedule: retrySchedule,
                  times: retry.times
                }),
                Effect.mapError(
                  (e) =>
                    new DubbingFailed({ reason: "ApprovalRefused", ref: String(reviewed.ref), message: describe(e) })
                )
              )
            yield* rows.setJob(executionId, job, "approved").pipe(stored("record the render job"))
            yield* store.record(job).pipe(Effect.ignore)
            return job
          })
        }).pipe(Effect.catch((e) => fail(e)))
      }
    }

    // 3. The render, against its deadline.
    if (current.state._tag !== "Succeeded" && current.state._tag !== "Failed" && current.state._tag !== "Removed") {
      const deadline = Duration.fromInputUnsafe(
        request.renderTimeoutMs !== undefined
          ? Duration.millis(request.renderTimeoutMs)
          : (options.renderTimeout ?? Duration.hours(6))
      )
      const settled = yield* rest("render", current, deadline)
      if (Option.isNone(settled)) {
        return yield* fail(
          new DubbingFailed({
            reason: "TimedOut",
            ref: String(current.ref),
            message: `${String(current.ref)} did not finish within ${Duration.format(deadline)}; it is still the vendor's`
          })
        )
      }
      current = settled.value
    }

    // 4. Record the end, and save the outputs where asked.
    const final = current
    return yield* Activity.make({
      name: "finish",
      success: DubbingResult,
      execute: Effect.gen(function* () {
        const files: Array<string> = []
        if (request.download === true && final.state._tag === "Succeeded" && options.downloads !== undefined) {
          const dir = options.downloads.dir
          for (const [kind] of Downloads.artifactsOf(final.state.outputs)) {
            const saved = yield* Downloads.saveOutput(provider, final, kind, { dir }).pipe(
              // A rerun of this step finds the file it saved: it is kept, not fetched again.
              Effect.map((s) => s.path),
              Effect.catch((e) =>
                e.reason === "Exists"
                  ? Effect.succeed(e.path ?? "")
                  : Effect.as(Effect.logWarning(`fleet: cannot save ${kind} of ${String(final.ref)}: ${e.message}`), "")
              )
            )
            if (saved !== "") files.push(saved)
          }
        }
        yield* store.record(final).pipe(Effect.ignore)
        const phase = final.state._tag === "Succeeded" ? "succeeded" : "failed"
        yield* rows.finish(executionId, phase, final, undefined).pipe(stored("record the end"))
        return { job: final, files }
      })
    })
  })

/**
 * The workflow registered on a runner, with what its body needs: the providers, the fleet's rows
 * and store, options, and an HTTP client and file system for downloads.
 */
export const layer: Layer.Layer<
  never,
  never,
  | WorkflowEngine.WorkflowEngine
  | FleetProviders
  | FleetRows
  | PgJobStore
  | FleetRunnerOptions
  | HttpClient.HttpClient
  | FileSystem.FileSystem
  | Path.Path
> = DubbingWorkflow.toLayer(body).pipe(Layer.provide(Layer.effect(RunnerScope, Effect.scope)))

/** The reference of a job a workflow follows, parsed, for reading it from a provider. */
export const jobRefOf = (ref: string): Option.Option<JobRef> => parseRefOption(ref)
