/**
 * The PostgreSQL job store's tables and their migrations. Every name carries the store's table
 * prefix, so several stores (an application's and its tests', two environments) can share one
 * database without seeing each other. Migrations only ever add to this record: a deployed database
 * has run the earlier ones, and `Migrator` runs each id once, in order, under a lock on its history
 * table, so replicas starting together migrate once.
 */
import { Effect } from "effect"
import { Migrator, SqlClient } from "effect/sql"

/**
 * A prefix PostgreSQL takes unquoted and that leaves room for the longest table or index name
 * below within its 63-byte identifiers.
 */
export const prefixPattern = /^[a-z_][a-z0-9_]{0,39}$/

/** The names of a store's tables and indexes. */
export interface Tables {
  readonly jobs: string
  readonly pending: string
  readonly migrations: string
  /** One row per durable dubbing workflow: what it was asked, where it is, how it ended. */
  readonly workflows: string
  /** The waits of workflows on a job's state, read by the sweeper and webhook receivers. */
  readonly waits: string
  /** The prefix of the cluster's own tables (`<prefix>cluster_messages`, …). */
  readonly cluster: string
}

export const tablesOf = (prefix: string): Tables => ({
  jobs: `${prefix}jobs`,
  pending: `${prefix}pending`,
  migrations: `${prefix}migrations`,
  workflows: `${prefix}workflows`,
  waits: `${prefix}waits`,
  cluster: `${prefix}cluster`
})

/**
 * `jobs`: one row per vendor job, keyed by `refIdentity` (`provider:kind:id`), holding the job as
 * Schema-encoded JSON beside the columns the store's rules read: the state's tag (a final state is
 * kept) and when it was observed (an older observation is ignored). The index serves a sweep of
 * one provider's jobs that are not at rest.
 *
 * `pending`: the idempotency keys of submissions whose answer is not recorded yet; the key is the
 * primary key, so exactly one claimer can insert it.
 */
const createTables = (tables: Tables) =>
  Effect.gen(function* () {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    yield* sql`CREATE TABLE ${sql(tables.jobs)} (
      ref text PRIMARY KEY,
      provider text NOT NULL,
      state text NOT NULL,
      observed_at timestamptz NOT NULL,
      job jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`
    yield* sql`CREATE INDEX ${sql(`${tables.jobs}_provider_state`)} ON ${sql(tables.jobs)} (provider, state)`
    yield* sql`CREATE TABLE ${sql(tables.pending)} (
      idempotency_key text PRIMARY KEY,
      provider text NOT NULL,
      targets jsonb NOT NULL,
      started_at double precision NOT NULL,
      fingerprint text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`
    yield* sql`CREATE INDEX ${sql(`${tables.pending}_provider_fingerprint`)} ON ${sql(tables.pending)} (provider, fingerprint)`
  })

/**
 * `workflows`: one row per durable dubbing workflow, keyed by its execution id. The row is written
 * before the workflow is started (so a start is never lost between the two), then by the workflow's
 * own activities: the vendor job it follows (`job_ref`, written in the same activity that got the
 * vendor's answer, so a rerun of that activity finds it and never submits again), its phase, and
 * its result once finished. `submit_heartbeat` is renewed while a submission is out, so another run
 * of the step can tell a submission under way from one whose runner died. `pruned_at` says the cluster's messages of a finished execution were
 * deleted by retention; the row itself stays, as the record of what happened.
 *
 * `waits`: a workflow waiting for its job to come to rest, by the job's identity. The sweeper reads
 * new rows by `seq`; whoever learns of a resting state (the sweeper's polls, a webhook in any
 * process) deletes the row and completes the workflow's durable deferred.
 */
const createWorkflowTables = (tables: Tables) =>
  Effect.gen(function* () {
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    yield* sql`CREATE TABLE ${sql(tables.workflows)} (
      execution_id text PRIMARY KEY,
      workflow_id text NOT NULL,
      provider text NOT NULL,
      target text NOT NULL,
      review boolean NOT NULL,
      payload jsonb NOT NULL,
      phase text NOT NULL,
      job_ref text,
      job jsonb,
      result jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      pruned_at timestamptz,
      submit_heartbeat timestamptz
    )`
    yield* sql`CREATE INDEX ${sql(`${tables.workflows}_job_ref`)} ON ${sql(tables.workflows)} (job_ref)`
    yield* sql`CREATE INDEX ${sql(`${tables.workflows}_workflow_id`)} ON ${sql(tables.workflows)} (workflow_id)`
    yield* sql`CREATE INDEX ${sql(`${tables.workflows}_unpruned`)} ON ${sql(tables.workflows)} (finished_at)
      WHERE pruned_at IS NULL AND finished_at IS NOT NULL`
    yield* sql`CREATE TABLE ${sql(tables.waits)} (
      seq bigserial PRIMARY KEY,
      ref text NOT NULL,
      provider text NOT NULL,
      execution_id text NOT NULL,
      deferred text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (execution_id, deferred)
    )`
    yield* sql`CREATE INDEX ${sql(`${tables.waits}_ref`)} ON ${sql(tables.waits)} (ref)`
  })

/** Runs the migrations this version knows and has not run on this database yet; returns the ids run. */
export const migrate = (tables: Tables) =>
  Migrator.make({})({
    loader: Migrator.fromRecord({
      "1_jobs_and_pending": createTables(tables),
      "2_workflows_and_waits": createWorkflowTables(tables)
    }),
    table: tables.migrations
  })
