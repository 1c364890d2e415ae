/**
 * How waiting workflows learn that their job moved: one sweeper for the whole cluster (a cluster
 * singleton: it runs on one runner at a time and moves to another when that one dies), with one
 * `JobTracker` per provider. The tracker spends the provider's status budget across every waited
 * job — bulk reads where the vendor has them, the jobs most likely done first — instead of one poll
 * loop per workflow; with the shared budget (`SharedBudget`), the reads count against the same
 * budget as every other process's requests.
 *
 * Each sweep adds the jobs that workflows started waiting on since the last one (by the waits'
 * sequence numbers). Every 15th reads all the waits again — a wait's number is taken before its
 * insert commits, so it can land behind one already read — and drops the jobs no workflow waits on
 * any more (a webhook delivered their state first). When the tracker sees a job come to rest, the sweeper records it in
 * the job store and wakes its workflows (`wake`); webhook receivers in any process call `wake` too.
 *
 * Retention runs here as well: the cluster's stored messages of a workflow that finished (its final
 * state in the job store) are deleted after `retention`, leaving the workflow's row as its record.
 */
import { type Job, JobStore, JobTracker, refIdentity } from "@polydub/core"
import { Context, Duration, Effect, Option, Result, Schedule, Stream } from "effect"
import { Singleton } from "effect/cluster"
import { SqlClient } from "effect/sql"
import { DurableDeferred } from "effect/workflow"
import { DubbingWorkflow, FleetProviders, FleetRows, restDeferred, restSteps } from "./DubbingWorkflow.js"
import type { Tables } from "./internal/pgSchema.js"
import { decodeJob, type WorkflowRows } from "./internal/workflowRows.js"
import { PgJobStore } from "./PgJobStore.js"

export interface SweeperOptions {
  /** How often new waits are picked up. Default 2 s. */
  readonly interval?: Duration.Input | undefined
  /** Tracker options per provider id (budget, batch, minimum interval). Default: the provider's. */
  readonly tracker?: Readonly<Record<string, JobTracker.TrackerOptions>> | undefined
  /** How long after a workflow finished its cluster messages are deleted. Default 1 minute; `null` keeps them. */
  readonly retention?: Duration.Input | null | undefined
}

const deferredByName = new Map(restSteps.map((step) => [restDeferred(step).name, restDeferred(step)]))

/**
 * Records a job's state and wakes the workflows waiting for it to rest. Safe to call any number of
 * times from any process (a webhook, the sweeper): the store keeps the newest state, and a wait
 * completed twice is completed once. The wait rows go only after their workflows were woken, so a
 * process dying in between leaves a wait that the next delivery completes again.
 */
export const wake = (rows: WorkflowRows, store: PgJobStore["Service"], job: Job) =>
  Effect.gen(function* () {
    yield* store.record(job)
    if (job.state._tag === "Queued" || job.state._tag === "Running") return 0
    const waits = yield* rows.waitsFor(refIdentity(job.ref))
    for (const wait of waits) {
      const deferred = deferredByName.get(wait.deferred)
      if (deferred === undefined) continue
      const token = DurableDeferred.tokenFromExecutionId(deferred, {
        workflow: DubbingWorkflow,
        executionId: wait.execution_id
      })
      yield* DurableDeferred.succeed(deferred, { token, value: job })
    }
    yield* rows.removeWaits(waits.map((w) => w.seq))
    return waits.length
  })

/** Deletes the cluster's stored messages of finished workflows; returns how many workflows were pruned. */
export const prune = (sql: SqlClient.SqlClient, rows: WorkflowRows, tables: Tables, before: Date, limit = 500) =>
  Effect.gen(function* () {
    const due = yield* rows.prunable(before, limit)
    if (due.length === 0) return 0
    const ids = due.map((r) => r.execution_id)
    const messages = sql(`${tables.cluster}_messages`)
    const replies = sql(`${tables.cluster}_replies`)
    yield* sql`DELETE FROM ${replies} WHERE request_id IN (
        SELECT id FROM ${messages} WHERE entity_id IN ${sql.in(ids)})`.pipe(
      Effect.andThen(sql`DELETE FROM ${messages} WHERE entity_id IN ${sql.in(ids)}`),
      Effect.andThen(rows.markPruned(ids)),
      sql.withTransaction
    )
    return ids.length
  })

/** The sweeper's loop, for `Singleton.make`; `layer` registers it. */
export const run = (tables: Tables, options: SweeperOptions = {}) =>
  Effect.gen(function* () {
    const rows = yield* FleetRows
    const store = yield* PgJobStore
    const providers = yield* FleetProviders
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const interval = Duration.fromInputUnsafe(options.interval ?? Duration.seconds(2))
    const retention = options.retention === null ? undefined : Duration.fromInputUnsafe(options.retention ?? "1 minute")

    let lastSeq = "0"
    const tracked = new Set<string>()
    const trackers = new Map<string, JobTracker.JobTrackerService>()
    for (const id of providers.ids) {
      const provider = Option.getOrThrow(providers.get(id))
      // Without the job store: the tracker follows the waited jobs only (not every stored one), and
      // the sweeper records what it learns itself, with the workflows it wakes.
      const tracker = yield* JobTracker.make(provider, options.tracker?.[id] ?? {}).pipe(
        Effect.updateContext(Context.omit(JobStore.JobStore))
      )
      trackers.set(id, tracker)
      // A state that rests wakes its workflows. The tracker reports a change once: when the wake
      // fails, the job is forgotten, so that the next full read of the waits finds its wait again.
      yield* tracker.changes.pipe(
        Stream.runForEach((job) =>
          wake(rows, store, job).pipe(
            Effect.tap(() =>
              job.state._tag === "Queued" || job.state._tag === "Running" ? Effect.void : tracker.untrack(job.ref)
            ),
            Effect.catchCause((cause) =>
              Effect.logWarning(`fleet sweeper: cannot wake the workflows of ${job.ref}; trying again`, cause).pipe(
                Effect.andThen(Effect.sync(() => tracked.delete(refIdentity(job.ref)))),
                Effect.andThen(tracker.untrack(job.ref))
              )
            )
          )
        ),
        Effect.forkScoped
      )
    }

    let sweeps = 0
    const sweep = Effect.gen(function* () {
      // Every 15th sweep reads all the waits again, not only those added since the last read: a wait
      // takes its sequence number before its insert commits, so it can commit after a later one was
      // read, and a wake that failed leaves its wait behind.
      const full = ++sweeps % 15 === 0
      if (full) lastSeq = "0"
      // New waits, with the job as last stored as the tracker's starting point.
      for (;;) {
        const batch = yield* rows.waitedJobsSince(lastSeq, 5000)
        for (const row of batch) {
          lastSeq = row.seq
          if (tracked.has(row.ref)) continue
          const tracker = trackers.get(row.provider)
          if (tracker === undefined || row.job === null) continue
          const job = decodeJob(row.job)
          if (Result.isFailure(job)) continue
          // A job that already rests wakes its workflows now (the tracker only reports changes).
          if (job.success.state._tag !== "Queued" && job.success.state._tag !== "Running") {
            yield* wake(rows, store, job.success)
            continue
          }
          tracked.add(row.ref)
          yield* tracker.track(job.success)
        }
        if (batch.length < 5000) break
      }
      // Now and then, stop following jobs nobody waits on (a webhook woke their workflows).
      if (full) {
        const waited = yield* rows.waitedRefs
        for (const [, tracker] of trackers) {
          for (const job of yield* tracker.snapshot) {
            const id = refIdentity(job.ref)
            if (!waited.has(id)) {
              tracked.delete(id)
              yield* tracker.untrack(job.ref)
            }
          }
        }
        for (const id of tracked) if (!waited.has(id)) tracked.delete(id)
      }
      if (retention !== undefined) {
        yield* prune(sql, rows, tables, new Date(Date.now() - Duration.toMillis(retention)))
      }
    }).pipe(Effect.catchCause((cause) => Effect.logWarning("fleet sweeper: a sweep failed; trying again", cause)))

    yield* Effect.logInfo(`fleet sweeper: following ${providers.ids.join(", ")}`)
    // Spaced from the end of each sweep, so a slow one never piles up behind itself.
    return yield* Effect.repeat(sweep, { schedule: Schedule.spaced(interval) })
  }).pipe(Effect.scoped)

/** Registers the sweeper as a cluster singleton. */
export const layer = (tables: Tables, options: SweeperOptions = {}) =>
  Singleton.make("polydub-sweeper", run(tables, options))
