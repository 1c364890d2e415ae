/**
 * Core's `JobStore` on PostgreSQL, for a fleet of processes that share their jobs and their pending
 * idempotency keys. The file store orders writers with a lock file on one disk; here the database
 * orders them, and the two rules that keep a store honest under concurrent writers are part of the
 * statements themselves rather than a read followed by a write:
 *
 * - a job's state only moves forward: a write observed earlier than the stored one is ignored, and
 *   a final state (`Succeeded`, `Failed`) is replaced only by `Removed` — the rule `JobTracker`
 *   applies in memory, so a stale poll answer from one replica never undoes another's webhook;
 * - a pending idempotency key is claimed by inserting it: of several replicas about to submit the
 *   same request, exactly one wins (`claimPending`), so the vendor is called once.
 *
 * The tables are created and upgraded by migrations when the layer starts (`internal/pgSchema.ts`),
 * under a table prefix. A record this version cannot decode is skipped and reported, never deleted,
 * as the file store does. Errors are `JobStoreError`s whose messages never carry the connection
 * string's password.
 */
import { PgClient } from "@effect/sql-pg"
import { type Job, JobJson, type JobRef, JobStore, parseRefOption, refIdentity } from "@polydub/core"
import { Config, Context, DateTime, Effect, Layer, Option, Redacted, Result, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { describe, passwordsIn, scrub } from "./internal/pgErrors.js"
import { migrate, prefixPattern, type Tables, tablesOf } from "./internal/pgSchema.js"

type Contents = JobStore.Contents
type PendingSubmission = JobStore.PendingSubmission
type UnreadableRecord = JobStore.UnreadableRecord

export interface Options {
  /**
   * Put before each table's name: `<prefix>jobs`, `<prefix>pending`, `<prefix>migrations`. Lowercase
   * letters, digits and underscores, up to 40 characters. Default `polydub_`.
   */
  readonly tablePrefix?: string | undefined
}

export interface ConfigOptions extends Options {
  /** How the connections name themselves to PostgreSQL (`pg_stat_activity`). Default `polydub`. */
  readonly applicationName?: string | undefined
  /** Connections in the pool. Default: `@effect/sql-pg`'s. */
  readonly maxConnections?: number | undefined
}

export const defaultTablePrefix = "polydub_"

/** What a fleet needs beyond core's `JobStore`. */
export interface PgJobStoreService extends JobStore.JobStoreService {
  /** The names of this store's tables. */
  readonly tables: Tables
  /**
   * The job stored under `ref`'s identity (`provider:kind:id`, whatever language or API version the
   * reference carries). Fails when the stored record does not decode, rather than claim it is absent.
   */
  readonly get: (ref: JobRef | string) => Effect.Effect<Option.Option<Job>, JobStoreError>
  /**
   * `put`, saying whether the store took the job: `false` when it was stale (observed before the
   * stored state), went back from a final state, or changed nothing.
   */
  readonly record: (job: Job) => Effect.Effect<boolean, JobStoreError>
  /**
   * Records `submission` as pending unless its idempotency key already is: `true` when this caller
   * inserted it (and so should submit), `false` when another one had.
   */
  readonly claimPending: (submission: PendingSubmission) => Effect.Effect<boolean, JobStoreError>
}

export class PgJobStore extends Context.Service<PgJobStore, PgJobStoreService>()("@polydub/fleet/PgJobStore") {}

type JobStoreError = JobStore.JobStoreError

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const failure =
  (doing: string, secrets: ReadonlyArray<string> = []) =>
  (error: unknown): JobStoreError =>
    new JobStore.JobStoreError({
      message: scrub(`PostgreSQL job store: cannot ${doing}: ${describe(error)}`, secrets)
    })

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

const PendingJson = Schema.toCodecJson(JobStore.PendingSubmission)
const decodeJob = Schema.decodeUnknownResult(JobJson)
const decodePending = Schema.decodeUnknownResult(PendingJson)
const encodeJob = Schema.encodeEffect(JobJson)

interface JobRow {
  readonly ref: string
  readonly job: unknown
}

interface PendingRow {
  readonly idempotency_key: string
  readonly provider: string
  readonly targets: unknown
  readonly started_at: number
  readonly fingerprint: string | null
}

/** A pending row as the `PendingSubmission` it was written from. */
const pendingRecord = (row: PendingRow): Record<string, unknown> => ({
  idempotencyKey: row.idempotency_key,
  provider: row.provider,
  targets: row.targets,
  startedAt: row.started_at,
  ...(row.fingerprint === null ? {} : { fingerprint: row.fingerprint })
})

/** A Schema error's message on one line ("Expected number at ["startedAt"]"). */
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ")

/**
 * The identity a stored or given reference names: a reference printed with its language and API
 * version is the same record as its plain `provider:kind:id` form.
 */
const identityOf = (ref: JobRef | string): string => {
  if (typeof ref !== "string") return refIdentity(ref)
  const parsed = parseRefOption(ref)
  return Option.isSome(parsed) ? refIdentity(parsed.value) : ref
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

/**
 * The store on the `SqlClient` in context, its tables migrated first. Fails with `JobStoreError`
 * when the prefix is not a plain identifier or the migrations cannot run.
 */
export const make = Effect.fn("PgJobStore.make")(function* (options: Options = {}) {
  const prefix = options.tablePrefix ?? defaultTablePrefix
  if (!prefixPattern.test(prefix)) {
    return yield* new JobStore.JobStoreError({
      message:
        `PostgreSQL job store: the table prefix ${JSON.stringify(prefix)} is not allowed: use lowercase letters, ` +
        `digits and underscores, not starting with a digit, up to 40 characters (e.g. "polydub_")`
    })
  }
  const tables = tablesOf(prefix)
  // Row and column names as written here, whatever name transforms the application's client uses.
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  yield* migrate(tables).pipe(
    Effect.provideService(SqlClient.SqlClient, sql),
    Effect.mapError(failure(`create or upgrade the tables ${tables.jobs} and ${tables.pending}`))
  )
  const jobsTable = sql(tables.jobs)
  const pendingTable = sql(tables.pending)

  // An unreadable record's `index` is its position among its table's rows, in key order.
  // Both tables are read in one snapshot (a repeatable-read transaction): a job recorded and its
  // pending key removed between the two reads cannot be missed from both, nor seen in neither.
  const readBoth = Effect.gen(function* () {
    yield* sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`
    const jobRows = yield* sql<JobRow>`SELECT ref, job FROM ${jobsTable} ORDER BY ref`
    const pendingRows = yield* sql<PendingRow>`SELECT idempotency_key, provider, targets, started_at, fingerprint
      FROM ${pendingTable} ORDER BY idempotency_key`
    return { jobRows, pendingRows }
  }).pipe(sql.withTransaction)

  const load = Effect.gen(function* () {
    const { jobRows, pendingRows } = yield* readBoth
    const jobs: Array<Job> = []
    const pending: Array<PendingSubmission> = []
    const unreadable: Array<UnreadableRecord> = []
    jobRows.forEach((row, index) => {
      const job = decodeJob(row.job)
      if (Result.isSuccess(job)) jobs.push(job.success)
      else unreadable.push({ section: "jobs", index, reason: oneLine(job.failure.message), record: row.job })
    })
    pendingRows.forEach((row, index) => {
      const record = pendingRecord(row)
      const submission = decodePending(record)
      if (Result.isSuccess(submission)) pending.push(submission.success)
      else unreadable.push({ section: "pending", index, reason: oneLine(submission.failure.message), record })
    })
    yield* Effect.forEach(unreadable, (u) =>
      Effect.logWarning(
        `PostgreSQL job store: a row of ${u.section === "jobs" ? tables.jobs : tables.pending} ` +
          `(${u.section === "jobs" ? `ref ${jobRows[u.index]!.ref}` : `idempotency key ${pendingRows[u.index]!.idempotency_key}`}) ` +
          `cannot be read and is kept as it is: ${u.reason}`
      )
    )
    return { jobs, pending, unreadable } satisfies Contents
  }).pipe(Effect.mapError(failure(`read ${tables.jobs} and ${tables.pending}`)), Effect.withSpan("PgJobStore.load"))

  const get = Effect.fn("PgJobStore.get")(function* (ref: JobRef | string) {
    const key = identityOf(ref)
    const rows = yield* sql<JobRow>`SELECT ref, job FROM ${jobsTable} WHERE ref = ${key}`.pipe(
      Effect.mapError(failure(`read the job ${key}`))
    )
    if (rows.length === 0) return Option.none<Job>()
    const job = decodeJob(rows[0]!.job)
    if (Result.isFailure(job)) {
      return yield* new JobStore.JobStoreError({
        message: `PostgreSQL job store: the job ${key} in ${tables.jobs} cannot be read: ${oneLine(job.failure.message)}`
      })
    }
    return Option.some(job.success)
  })

  /**
   * One statement, so concurrent writers cannot interleave between a check and a write: the row is
   * replaced only when this observation is not older than the stored one, differs from it, and the
   * stored state may be followed by it (anything follows a state that is not final; a final one,
   * only by `Removed`).
   */
  const record = Effect.fn("PgJobStore.record")(function* (job: Job) {
    const key = refIdentity(job.ref)
    const encoded = yield* encodeJob(job).pipe(Effect.mapError(failure(`encode the job ${key}`)))
    const rows = yield* sql`INSERT INTO ${jobsTable} AS stored (ref, provider, state, observed_at, job)
      VALUES (${key}, ${job.ref.provider}, ${job.state._tag}, ${DateTime.formatIso(job.observedAt)}::timestamptz,
        ${JSON.stringify(encoded)}::jsonb)
      ON CONFLICT (ref) DO UPDATE SET
        provider = EXCLUDED.provider,
        state = EXCLUDED.state,
        observed_at = EXCLUDED.observed_at,
        job = EXCLUDED.job,
        updated_at = now()
      WHERE stored.observed_at <= EXCLUDED.observed_at
        AND stored.job IS DISTINCT FROM EXCLUDED.job
        AND (stored.state NOT IN ('Succeeded', 'Failed', 'Removed')
          OR (EXCLUDED.state = 'Removed' AND stored.state <> 'Removed'))
      RETURNING 1 AS taken`.pipe(Effect.mapError(failure(`write the job ${key}`)))
    return rows.length > 0
  })

  const remove = Effect.fn("PgJobStore.remove")(function* (ref: string) {
    const key = identityOf(ref)
    yield* sql`DELETE FROM ${jobsTable} WHERE ref = ${key}`.pipe(Effect.mapError(failure(`remove the job ${key}`)))
  })

  // Every field of a `PendingSubmission` is already JSON: it is written as it is.
  const pendingValues = (s: PendingSubmission) =>
    sql`(${s.idempotencyKey}, ${s.provider}, ${JSON.stringify(s.targets)}::jsonb, ${s.startedAt}::double precision,
      ${s.fingerprint ?? null})`

  const putPending = Effect.fn("PgJobStore.putPending")(function* (submission: PendingSubmission) {
    const values = pendingValues(submission)
    yield* sql`INSERT INTO ${pendingTable} (idempotency_key, provider, targets, started_at, fingerprint)
      VALUES ${values}
      ON CONFLICT (idempotency_key) DO UPDATE SET
        provider = EXCLUDED.provider,
        targets = EXCLUDED.targets,
        started_at = EXCLUDED.started_at,
        fingerprint = EXCLUDED.fingerprint`.pipe(
      Effect.mapError(failure(`write the pending key ${submission.idempotencyKey}`))
    )
  })

  const claimPending = Effect.fn("PgJobStore.claimPending")(function* (submission: PendingSubmission) {
    const values = pendingValues(submission)
    const rows = yield* sql`INSERT INTO ${pendingTable} (idempotency_key, provider, targets, started_at, fingerprint)
      VALUES ${values}
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING 1 AS claimed`.pipe(Effect.mapError(failure(`claim the pending key ${submission.idempotencyKey}`)))
    return rows.length > 0
  })

  const removePending = Effect.fn("PgJobStore.removePending")(function* (idempotencyKey: string) {
    yield* sql`DELETE FROM ${pendingTable} WHERE idempotency_key = ${idempotencyKey}`.pipe(
      Effect.mapError(failure(`remove the pending key ${idempotencyKey}`))
    )
  })

  return {
    tables,
    load,
    get,
    put: (job) => Effect.asVoid(record(job)),
    record,
    remove,
    putPending,
    claimPending,
    removePending
  } satisfies PgJobStoreService
})

/**
 * Core's `JobStore` and this `PgJobStore` on the application's `SqlClient` (from `PgClient.layer`),
 * after migrating the tables.
 */
export const layer = (
  options: Options = {}
): Layer.Layer<PgJobStore | JobStore.JobStore, JobStoreError, SqlClient.SqlClient> =>
  Layer.effectContext(
    Effect.map(make(options), (store) => Context.make(PgJobStore, store).pipe(Context.add(JobStore.JobStore, store)))
  )

/**
 * A `PgClient` (and `SqlClient`) from the connection string in `POLYDUB_DATABASE_URL`
 * (`postgres://user:password@host:5432/database`), checked with one query before the layer is built. A failure
 * is a `JobStoreError` that names what failed without the password.
 */
export const layerClientConfig = (
  options: ConfigOptions = {}
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, JobStoreError> =>
  PgClient.layerFrom(
    Effect.gen(function* () {
      const url = yield* Config.Redacted("POLYDUB_DATABASE_URL").pipe(
        Effect.mapError(failure("read POLYDUB_DATABASE_URL"))
      )
      // The pool connects on first use: one query now makes a wrong URL fail here, naming the variable.
      return yield* PgClient.make({
        url,
        applicationName: options.applicationName ?? "polydub",
        ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections })
      }).pipe(
        Effect.tap((client) => client`SELECT 1`),
        Effect.mapError(failure("connect to the database in POLYDUB_DATABASE_URL", passwordsIn(Redacted.value(url))))
      )
    })
  )

/** `layer` on a `PgClient` of its own, connected to `POLYDUB_DATABASE_URL`. */
export const layerConfig = (options: ConfigOptions = {}): Layer.Layer<PgJobStore | JobStore.JobStore, JobStoreError> =>
  Layer.provide(layer(options), layerClientConfig(options))
