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
}

export const tablesOf = (prefix: string): Tables => ({
  jobs: `${prefix}jobs`,
  pending: `${prefix}pending`,
  migrations: `${prefix}migrations`
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

/** Runs the migrations this version knows and has not run on this database yet; returns the ids run. */
export const migrate = (tables: Tables) =>
  Migrator.make({})({
    loader: Migrator.fromRecord({
      "1_jobs_and_pending": createTables(tables)
    }),
    table: tables.migrations
  })
