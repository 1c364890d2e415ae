// The real services the fleet tests run against, each run in a database of its own: PostgreSQL at
// 127.0.0.1:5432 with trust authentication, as this machine type and CI start it. Another server is
// named by `POLYDUB_TEST_PG_URL` (a connection string to a database the user may create databases
// from, e.g. postgres://postgres@127.0.0.1:5432/postgres).

import { randomBytes } from "node:crypto"
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import { Redis } from "effect/persistence"
import { SqlClient } from "effect/sql"

/** The Redis of the shared-budget tests: 127.0.0.1:6379, or `POLYDUB_TEST_REDIS_URL`. */
export const redisUrl: string = process.env.POLYDUB_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

/** A Redis key prefix of its own for each run, and every key under it deleted when the scope closes. */
export const redisPrefix = Effect.gen(function* () {
  const prefix = `polydub:test:${randomBytes(6).toString("hex")}:`
  yield* Effect.addFinalizer(() =>
    Effect.gen(function* () {
      const redis = yield* Redis.Redis
      let cursor = "0"
      do {
        const [next, keys] = yield* redis.send<[string, Array<string>]>("SCAN", cursor, "MATCH", `${prefix}*`)
        if (keys.length > 0) yield* redis.send("DEL", ...keys)
        cursor = next
      } while (cursor !== "0")
    }).pipe(Effect.provide(NodeRedis.layer({ url: redisUrl })), Effect.ignore)
  )
  return prefix
})

/** Where test databases are created and dropped from. */
export const adminUrl: string = process.env.POLYDUB_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** `adminUrl` pointing at another database of the same server. */
export const urlOf = (database: string): string => {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

/** A pool of its own to `url`: separate pools are separate connections, as separate processes have. */
export const clientLayer = (url: string, maxConnections = 4, applicationName = "polydub-test") =>
  PgClient.layer({ url: Redacted.make(url), maxConnections, applicationName })

/** Runs `statement` on the admin database, on a connection opened and closed for it. */
const admin = <A, E>(statement: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    return yield* statement(yield* SqlClient.SqlClient)
  }).pipe(Effect.provide(clientLayer(adminUrl)))

/** A database created for this test run. */
export class TestDatabase extends Context.Service<
  TestDatabase,
  {
    readonly name: string
    /** Its connection string. */
    readonly url: string
    /** A layer of a fresh pool connected to it. */
    readonly client: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, unknown>
  }
>()("@polydub/fleet/test/TestDatabase") {}

/**
 * Creates `polydub_test_<random>` and drops it when the layer is released, whatever the tests did:
 * `WITH (FORCE)` ends connections a failed test left open.
 */
export const layerTestDatabase: Layer.Layer<TestDatabase, unknown> = Layer.effect(
  TestDatabase,
  Effect.acquireRelease(
    Effect.gen(function* () {
      const name = `polydub_test_${randomBytes(6).toString("hex")}`
      yield* admin((sql) => sql`CREATE DATABASE ${sql(name)}`)
      const url = urlOf(name)
      return { name, url, client: clientLayer(url) }
    }),
    ({ name }) =>
      admin((sql) => sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`).pipe(
        Effect.catchCause((cause) => Effect.logError(`cannot drop the test database ${name}`, cause))
      )
  )
)
