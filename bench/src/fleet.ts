/**
 * Fleet benchmark (`@polydub/fleet`): how many dubbing workflows one runner process completes per
 * second on this machine, with the simulators answering at once (jobs run 0.3 s, budgets wide, no
 * faults), and what the fleet keeps in PostgreSQL per finished workflow before and after retention
 * deleted the cluster's messages: the fleet's tables (jobs, pending keys, workflows, waits) and the
 * cluster's (messages, replies, runners, locks).
 *
 * The runner is this file again, run as `runner` in a process of its own; the simulators and the
 * client that starts the workflows run here. Needs the PostgreSQL at POLYDUB_BENCH_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres), where it creates a database for the run and drops it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { PgClient } from "@effect/sql-pg"
import { TranslationProvider, type TranslationProviderService } from "@polydub/core"
import { DubbingWorkflow, Fleet } from "@polydub/fleet"
import { HeyGen } from "@polydub/provider-heygen"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { HeyGenSimulator, MediaServer, VoiceCheapSimulator } from "@polydub/testing"
import { Console, Context, Duration, Effect, Layer, Redacted, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import { record } from "./results.js"

const adminUrl = process.env.POLYDUB_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const workflows = Number(process.env.POLYDUB_BENCH_FLEET_WORKFLOWS ?? 1000)
const tablePrefix = "fb_"
const wide = { limit: 100_000, window: "1 second" } as const
const simWide = { limit: 100_000, windowMs: 1000 }

interface RunnerSetup {
  readonly databaseUrl: string
  readonly port: number
  /** ms after a workflow's end its messages go; `null` keeps them. */
  readonly retentionMs: number | null
  readonly heygen: { readonly baseUrl: string; readonly apiKey: string }
  readonly voicecheap: { readonly baseUrl: string; readonly apiKey: string }
}

const urlOf = (database: string) => {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

const pool = (url: string, maxConnections: number) =>
  PgClient.layer({ url: Redacted.make(url), maxConnections, applicationName: "polydub-bench" })

const admin = <A, E>(statement: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    return yield* statement(yield* SqlClient.SqlClient)
  }).pipe(Effect.provide(pool(adminUrl, 1)))

const freePort = Effect.promise(
  () =>
    new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        server.close(() => resolve(port))
      })
    })
)

/** A runner process; resolves once its cluster server listens. `stop` ends it with SIGTERM and waits. */
const spawnRunner = (setup: RunnerSetup) =>
  Effect.acquireRelease(
    Effect.callback<ChildProcess>((resume) => {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "runner"], {
        env: { ...process.env, POLYDUB_BENCH_RUNNER: JSON.stringify(setup) },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let text = ""
      let ready = false
      const onData = (data: Buffer) => {
        text = (text + data.toString()).slice(-16_384)
        if (!ready && text.includes("Listening on")) {
          ready = true
          resume(Effect.succeed(child))
        }
      }
      child.stdout!.on("data", onData)
      child.stderr!.on("data", onData)
      child.once("exit", (code, signal) => {
        if (!ready) resume(Effect.die(new Error(`runner exited (${code ?? signal}) before it was ready:\n${text}`)))
      })
    }),
    (child) => stop(child)
  )

const stop = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGTERM")
  })

/** Bytes the fleet's and the cluster's tables hold: the rows' own bytes, and the tables on disk after `VACUUM FULL`. */
const storage = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    const tables = yield* sql<{ tablename: string }>`SELECT tablename FROM pg_tables
      WHERE schemaname = 'public' AND tablename LIKE ${`${tablePrefix}%`} ORDER BY tablename`
    let rowBytes = 0
    let diskBytes = 0
    const byTable: Record<string, number> = {}
    for (const { tablename } of tables) {
      yield* sql.unsafe(`VACUUM FULL ${tablename}`)
      const [row] = yield* sql<{ rows: string; disk: string }>`SELECT
          (SELECT COALESCE(sum(pg_column_size(t.*)), 0) FROM ${sql(tablename)} t)::text AS rows,
          pg_total_relation_size(${tablename})::text AS disk`
      rowBytes += Number(row!.rows)
      diskBytes += Number(row!.disk)
      byTable[tablename.slice(tablePrefix.length)] = Number(row!.disk)
    }
    return { rowBytes, diskBytes, byTable }
  })

const count = (sql: SqlClient.SqlClient, where: "finished" | "unpruned") =>
  Effect.map(
    where === "finished"
      ? sql<{
          n: string
        }>`SELECT count(*)::text AS n FROM ${sql(`${tablePrefix}workflows`)} WHERE finished_at IS NOT NULL`
      : sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql(`${tablePrefix}workflows`)}
          WHERE finished_at IS NOT NULL AND pruned_at IS NULL`,
    (rows) => Number(rows[0]!.n)
  )

const main = Effect.gen(function* () {
  const database = `polydub_bench_${randomBytes(6).toString("hex")}`
  yield* admin((sql) => sql`CREATE DATABASE ${sql(database)}`)
  yield* Effect.addFinalizer(() =>
    admin((sql) => sql`DROP DATABASE IF EXISTS ${sql(database)} WITH (FORCE)`).pipe(Effect.ignore)
  )
  const databaseUrl = urlOf(database)
  const heygen = yield* HeyGenSimulator.serve({ queuedMs: 50, runningMs: 250, concurrentJobs: 100_000 })
  const voicecheap = yield* VoiceCheapSimulator.serve({
    processingMs: 300,
    concurrentLimit: 100_000,
    rateLimits: { status: simWide, translate: simWide, projects: simWide }
  })
  const media = yield* MediaServer.serve([{ path: "/talk.mp4", size: 64 * 1024 }])
  const setup = (port: number, retentionMs: number | null): RunnerSetup => ({
    databaseUrl,
    port,
    retentionMs,
    heygen: { baseUrl: heygen.baseUrl, apiKey: heygen.apiKey },
    voicecheap: { baseUrl: voicecheap.baseUrl, apiKey: voicecheap.apiKey }
  })

  // One runner that keeps every message (no retention yet), so the unpruned tables can be measured.
  const first = yield* spawnRunner(setup(yield* freePort, null))
  const context = yield* Layer.build(Fleet.layerClient({ tablePrefix }).pipe(Layer.provideMerge(pool(databaseUrl, 8))))
  const client = Context.get(context, Fleet.Fleet)
  const sql = Context.get(context, SqlClient.SqlClient).withoutTransforms()
  // The runner takes its shards a moment after it listens.
  yield* Effect.sleep("3 seconds")

  const runId = randomBytes(3).toString("hex")
  const startedAt = Date.now()
  yield* Effect.forEach(
    Array.from({ length: workflows }, (_, i) => i),
    (i) => {
      const provider = i % 2 === 0 ? "heygen" : "voicecheap"
      return client.start({
        id: `fb-${runId}-${i}`,
        provider,
        source: provider === "heygen" ? "https://videos.example/talk.mp4" : media.url("/talk.mp4"),
        targets: [i % 4 < 2 ? "es" : "fr"],
        title: `fb-${runId}-${i}`
      })
    },
    { concurrency: 16, discard: true }
  )
  const startsS = (Date.now() - startedAt) / 1000
  yield* count(sql, "finished").pipe(
    Effect.repeat({ schedule: Schedule.spaced("250 millis"), until: (n) => n === workflows }),
    Effect.timeout("10 minutes")
  )
  const [span] = yield* sql<{ first: Date; last: Date }>`SELECT min(created_at) AS first, max(finished_at) AS last
    FROM ${sql(`${tablePrefix}workflows`)}`
  const seconds = (span!.last.getTime() - span!.first.getTime()) / 1000
  const phases = yield* client.counts
  const before = yield* storage(sql)

  // A runner with retention at once: the sweeper deletes the finished workflows' messages.
  yield* stop(first)
  yield* spawnRunner(setup(yield* freePort, 1))
  yield* count(sql, "unpruned").pipe(
    Effect.repeat({ schedule: Schedule.spaced("500 millis"), until: (n) => n === 0 }),
    Effect.timeout("2 minutes")
  )
  const after = yield* storage(sql)

  const perJob = (bytes: number) => Math.round(bytes / workflows)
  const figures = {
    workflows,
    runners: 1,
    phases,
    startsSeconds: Number(startsS.toFixed(1)),
    seconds: Number(seconds.toFixed(1)),
    workflowsPerSecond: Number((workflows / seconds).toFixed(1)),
    storedBytesPerJob: {
      beforeRetention: { rows: perJob(before.rowBytes), disk: perJob(before.diskBytes) },
      afterRetention: { rows: perJob(after.rowBytes), disk: perJob(after.diskBytes) },
      diskByTableBefore: before.byTable,
      diskByTableAfter: after.byTable
    }
  }
  yield* Console.log(
    `fleet throughput: ${workflows} workflows (half HeyGen, half VoiceCheap; jobs run 0.3 s) on 1 runner process: ` +
      `${figures.workflowsPerSecond} completed per second (${figures.seconds} s from the first start to the last end; ` +
      `starts took ${figures.startsSeconds} s); ${JSON.stringify(phases)}\n` +
      `fleet storage per finished job: before retention ${(figures.storedBytesPerJob.beforeRetention.disk / 1024).toFixed(1)} KB on disk ` +
      `(${(figures.storedBytesPerJob.beforeRetention.rows / 1024).toFixed(1)} KB of rows), after retention ` +
      `${(figures.storedBytesPerJob.afterRetention.disk / 1024).toFixed(1)} KB on disk (${(figures.storedBytesPerJob.afterRetention.rows / 1024).toFixed(1)} KB of rows); ` +
      `tables after VACUUM FULL, indexes and TOAST included\n` +
      `  by table before: ${JSON.stringify(before.byTable)}\n` +
      `  by table after: ${JSON.stringify(after.byTable)}`
  )
  record("fleet", figures)
}).pipe(Effect.scoped)

/** A runner of the benchmark's fleet, on the simulators, with wide budgets kept in memory. */
const runner: Effect.Effect<never, unknown> = Effect.gen(function* () {
  const setup = JSON.parse(process.env.POLYDUB_BENCH_RUNNER ?? "{}") as RunnerSetup
  const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)
  const serviceOf = (layer: Layer.Layer<TranslationProvider, never, never>) =>
    Effect.map(Layer.build(layer), (c) => Context.get(c, TranslationProvider) as TranslationProviderService)
  const providers = Layer.effect(
    DubbingWorkflow.FleetProviders,
    Effect.gen(function* () {
      const heygen = yield* serviceOf(
        HeyGen.layer({
          apiKey: Redacted.make(setup.heygen.apiKey),
          baseUrl: setup.heygen.baseUrl,
          budget: wide
        }).pipe(Layer.provide(platform))
      )
      const voicecheap = yield* serviceOf(
        VoiceCheap.layer({
          apiKey: Redacted.make(setup.voicecheap.apiKey),
          baseUrl: setup.voicecheap.baseUrl,
          budgets: { status: wide, translate: wide, projects: wide }
        }).pipe(Layer.provide(platform))
      )
      return DubbingWorkflow.providers({ heygen, voicecheap })
    })
  )
  return yield* Layer.launch(
    Fleet.layerRunner({
      tablePrefix,
      runner: { host: "127.0.0.1", port: setup.port },
      sweeper: {
        interval: Duration.millis(200),
        retention: setup.retentionMs === null ? null : Duration.millis(setup.retentionMs),
        // The simulators finish jobs in a fraction of a second: read them as soon as the budget allows.
        tracker: { heygen: { minInterval: "100 millis" }, voicecheap: { minInterval: "100 millis" } }
      }
    }).pipe(Layer.provide(providers), Layer.provide(platform), Layer.provide(pool(setup.databaseUrl, 16)))
  )
})

if (process.argv[2] === "runner") NodeRuntime.runMain(runner)
else
  Effect.runPromise(main).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
