/**
 * The rows a fleet keeps beside the cluster's own tables: one per dubbing workflow (what it was
 * asked, its phase, the vendor job it follows, its result) and one per wait of a workflow on its
 * job's state. Every statement is one round trip, so a runner that dies between two of them leaves
 * the rows as they were after the first; the workflow's activities are written so that running one
 * again finds what the first run wrote (see `DubbingWorkflow`).
 */
import { type Job, JobJson, refIdentity } from "@polydub/core"
import { Effect, Result, Schema } from "effect"
import type { SqlClient } from "effect/sql"
import type { Tables } from "./pgSchema.js"

/** Where a workflow is. `succeeded` and `failed` name the vendor job's end; the rest are on the way. */
export const Phase = Schema.Literals([
  "starting",
  "submitted",
  "awaiting-review",
  "approved",
  "succeeded",
  "failed",
  "error"
])
export type Phase = typeof Phase.Type

export const finishedPhases: ReadonlyArray<Phase> = ["succeeded", "failed", "error"]

export interface WorkflowRow {
  readonly executionId: string
  readonly workflowId: string
  readonly provider: string
  readonly target: string
  readonly review: boolean
  readonly payload: unknown
  readonly phase: Phase
  readonly job: Job | undefined
  /** The workflow's error, where it ended in one (`{ reason, message }`). */
  readonly error: { readonly reason: string; readonly message: string } | undefined
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly finishedAt: Date | undefined
  readonly prunedAt: Date | undefined
}

interface RawRow {
  readonly execution_id: string
  readonly workflow_id: string
  readonly provider: string
  readonly target: string
  readonly review: boolean
  readonly payload: unknown
  readonly phase: string
  readonly job: unknown
  readonly result: unknown
  readonly created_at: Date
  readonly updated_at: Date
  readonly finished_at: Date | null
  readonly pruned_at: Date | null
}

const decodeJob = Schema.decodeUnknownResult(JobJson)
const encodeJob = Schema.encodeSync(JobJson)
const isPhase = Schema.is(Phase)

const ErrorRecord = Schema.Struct({ reason: Schema.String, message: Schema.String })
const decodeError = Schema.decodeUnknownResult(ErrorRecord)

const fromRaw = (raw: RawRow): WorkflowRow => {
  const job = raw.job === null ? undefined : decodeJob(raw.job)
  const error = raw.result === null ? undefined : decodeError(raw.result)
  return {
    executionId: raw.execution_id,
    workflowId: raw.workflow_id,
    provider: raw.provider,
    target: raw.target,
    review: raw.review,
    payload: raw.payload,
    phase: isPhase(raw.phase) ? raw.phase : "error",
    job: job !== undefined && Result.isSuccess(job) ? job.success : undefined,
    error: error !== undefined && Result.isSuccess(error) ? error.success : undefined,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
    finishedAt: raw.finished_at ?? undefined,
    prunedAt: raw.pruned_at ?? undefined
  }
}

export interface WaitRow {
  readonly seq: bigint | number | string
  readonly ref: string
  readonly provider: string
  readonly execution_id: string
  readonly deferred: string
}

/** A workflow's columns, with its job as the job store has it now (it moves between the workflow's steps). */
const columns = (sql: SqlClient.SqlClient, jobsTable: string) =>
  sql`w.execution_id, w.workflow_id, w.provider, w.target, w.review, w.payload, w.phase,
    COALESCE((SELECT j.job FROM ${sql(jobsTable)} j WHERE j.ref = w.job_ref), w.job) AS job,
    w.result, w.created_at, w.updated_at, w.finished_at, w.pruned_at`

/** The statements, on a client without name transforms. */
export const make = (sql: SqlClient.SqlClient, tables: Tables) => {
  const workflows = sql(tables.workflows)
  const waits = sql(tables.waits)
  const jobs = sql(tables.jobs)

  return {
    /** Records a workflow about to be started; an existing row (a start repeated) is kept as it is. */
    insert: (row: {
      readonly executionId: string
      readonly workflowId: string
      readonly provider: string
      readonly target: string
      readonly review: boolean
      readonly payload: unknown
    }) =>
      sql`INSERT INTO ${workflows} (execution_id, workflow_id, provider, target, review, payload, phase)
        VALUES (${row.executionId}, ${row.workflowId}, ${row.provider}, ${row.target}, ${row.review},
          ${JSON.stringify(row.payload)}::jsonb, 'starting')
        ON CONFLICT (execution_id) DO NOTHING`,

    get: (executionId: string) =>
      Effect.map(
        sql<RawRow>`SELECT ${columns(sql, tables.jobs)} FROM ${workflows} w WHERE w.execution_id = ${executionId}`,
        (rows) => (rows.length === 0 ? undefined : fromRaw(rows[0]!))
      ),

    /** The workflows following a job (by its identity), newest first. */
    byJob: (identity: string) =>
      Effect.map(
        sql<RawRow>`SELECT ${columns(sql, tables.jobs)} FROM ${workflows} w WHERE w.job_ref = ${identity}
          ORDER BY w.created_at DESC`,
        (rows) => rows.map(fromRaw)
      ),

    /** The workflows of one start (`workflow_id`), in target order of creation. */
    byWorkflowId: (workflowId: string) =>
      Effect.map(
        sql<RawRow>`SELECT ${columns(sql, tables.jobs)} FROM ${workflows} w WHERE w.workflow_id = ${workflowId}
          ORDER BY w.created_at, w.target`,
        (rows) => rows.map(fromRaw)
      ),

    list: (options: { readonly phase?: Phase | undefined; readonly limit: number }) =>
      Effect.map(
        options.phase === undefined
          ? sql<RawRow>`SELECT ${columns(sql, tables.jobs)} FROM ${workflows} w ORDER BY w.created_at DESC LIMIT ${options.limit}`
          : sql<RawRow>`SELECT ${columns(sql, tables.jobs)} FROM ${workflows} w WHERE w.phase = ${options.phase}
              ORDER BY w.created_at DESC LIMIT ${options.limit}`,
        (rows) => rows.map(fromRaw)
      ),

    /** The job the workflow follows now, and its phase. A finished workflow is not moved back. */
    setJob: (executionId: string, job: Job, phase: Phase) =>
      sql`UPDATE ${workflows} SET job_ref = ${refIdentity(job.ref)}, job = ${JSON.stringify(encodeJob(job))}::jsonb,
          phase = ${phase}, updated_at = now()
        WHERE execution_id = ${executionId} AND finished_at IS NULL`,

    setPhase: (executionId: string, phase: Phase) =>
      sql`UPDATE ${workflows} SET phase = ${phase}, updated_at = now()
        WHERE execution_id = ${executionId} AND finished_at IS NULL`,

    /** The end: the final job (where there is one) or the error, once. */
    finish: (
      executionId: string,
      phase: Phase,
      job: Job | undefined,
      error: { readonly reason: string; readonly message: string } | undefined
    ) =>
      sql`UPDATE ${workflows} SET phase = ${phase},
          job = COALESCE(${job === undefined ? null : JSON.stringify(encodeJob(job))}::jsonb, job),
          job_ref = COALESCE(${job === undefined ? null : refIdentity(job.ref)}, job_ref),
          result = ${error === undefined ? null : JSON.stringify(error)}::jsonb,
          finished_at = now(), updated_at = now()
        WHERE execution_id = ${executionId} AND finished_at IS NULL`,

    /** Says a submission of the workflow is under way. */
    heartbeat: (executionId: string) =>
      sql`UPDATE ${workflows} SET submit_heartbeat = now() WHERE execution_id = ${executionId}`,

    /** How long ago (ms, by the database's clock) a submission of the workflow last said it was under way. */
    heartbeatAge: (executionId: string) =>
      Effect.map(
        sql<{ readonly age: number | null }>`SELECT (extract(epoch FROM now() - submit_heartbeat) * 1000)::float8 AS age
          FROM ${workflows} WHERE execution_id = ${executionId}`,
        (rows) => (rows.length === 0 || rows[0]!.age === null ? undefined : Number(rows[0]!.age))
      ),

    addWait: (wait: { readonly executionId: string; readonly deferred: string; readonly job: Job }) =>
      sql`INSERT INTO ${waits} (ref, provider, execution_id, deferred)
        VALUES (${refIdentity(wait.job.ref)}, ${wait.job.ref.provider}, ${wait.executionId}, ${wait.deferred})
        ON CONFLICT (execution_id, deferred) DO NOTHING`,

    waitsFor: (identity: string) => sql<WaitRow>`SELECT seq, ref, provider, execution_id, deferred FROM ${waits}
      WHERE ref = ${identity}`,

    removeWaits: (seqs: ReadonlyArray<WaitRow["seq"]>) =>
      seqs.length === 0
        ? Effect.void
        : Effect.asVoid(sql`DELETE FROM ${waits} WHERE seq IN ${sql.in(seqs.map((s) => String(s)))}`),

    /**
     * The waited jobs added since `afterSeq`, with the job as last stored (the sweeper's starting
     * point for each): one row per job, the highest `seq` of its waits.
     */
    waitedJobsSince: (afterSeq: string, limit: number) =>
      sql<{ readonly seq: string; readonly ref: string; readonly provider: string; readonly job: unknown }>`
        SELECT w.seq::text AS seq, w.ref, w.provider, j.job FROM ${waits} w
          LEFT JOIN ${jobs} j ON j.ref = w.ref
        WHERE w.seq > ${afterSeq}::bigint ORDER BY w.seq LIMIT ${limit}`,

    /** Every job some workflow waits on now. */
    waitedRefs: Effect.map(
      sql<{ readonly ref: string }>`SELECT DISTINCT ref FROM ${waits}`,
      (rows) => new Set(rows.map((r) => r.ref))
    ),

    /**
     * Finished workflows whose cluster messages may go: finished before `before`, not pruned yet,
     * and with their final state in the job store (or an error recorded, where there is no job).
     */
    prunable: (before: Date, limit: number) =>
      sql<{ readonly execution_id: string }>`SELECT execution_id FROM ${workflows}
        WHERE finished_at IS NOT NULL AND pruned_at IS NULL AND finished_at < ${before}
        ORDER BY finished_at LIMIT ${limit}`,

    markPruned: (executionIds: ReadonlyArray<string>) =>
      sql`UPDATE ${workflows} SET pruned_at = now() WHERE execution_id IN ${sql.in(executionIds)}`,

    counts: Effect.map(
      sql<{ readonly phase: string; readonly n: string }>`SELECT phase, count(*)::text AS n FROM ${workflows}
        GROUP BY phase`,
      (rows) => Object.fromEntries(rows.map((r) => [r.phase, Number(r.n)])) as Partial<Record<Phase, number>>
    )
  }
}

export type WorkflowRows = ReturnType<typeof make>

export { decodeJob }
