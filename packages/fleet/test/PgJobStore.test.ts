// The job store on the real PostgreSQL: what core's JobStore promises (round trips, records it cannot
// read kept and reported), what several replicas need (one winner per pending key, states that only
// move forward whatever order writes land in, each other's writes seen), migrations that run once,
// table prefixes, and errors that say what failed without the password. One database per run.

import { assert, layer } from "@effect/vitest"
import { Artifact, Idempotency, Job, JobRef, type JobState, JobStore, Outputs, State, toJson } from "@polydub/core"
import { PgJobStore } from "@polydub/fleet"
import { ConfigProvider, Context, DateTime, Effect, Exit, Layer, Logger, Option, Random } from "effect"
import { SqlClient } from "effect/sql"
import { passwordsIn, scrub } from "../src/internal/pgErrors.js"
import { layerTestDatabase, TestDatabase, urlOf } from "./services.js"

const t0 = 1_800_000_000_000

const jobOf = (id: string, state: JobState, at: number, language = "es") =>
  new Job({
    ref: new JobRef({ provider: "heygen", kind: "translation", id, language, apiVersion: "v3" }),
    language,
    state,
    providerStatus: state._tag.toLowerCase(),
    observedAt: DateTime.makeUnsafe(t0 + at)
  })

const succeeded = State.succeeded(
  new Outputs({
    video: new Artifact({
      url: "https://files.example/v.mp4",
      expiresAt: DateTime.makeUnsafe(t0 + 86_400_000),
      mediaType: "video/mp4",
      size: 1234
    }),
    captions: { srt: new Artifact({ url: "https://files.example/c.srt" }) }
  })
)

const pendingOf = (key: string, fingerprint?: string): JobStore.PendingSubmission => ({
  idempotencyKey: key,
  provider: "heygen",
  targets: ["es", "pt-BR"],
  startedAt: t0,
  ...(fingerprint === undefined ? {} : { fingerprint })
})

/** A store on a pool of its own, with its tables under `tablePrefix`, released with the test's scope. */
const storeOf = (tablePrefix: string) =>
  Effect.gen(function* () {
    const database = yield* TestDatabase
    const context = yield* Layer.build(PgJobStore.layer({ tablePrefix }).pipe(Layer.provide(database.client)))
    return Context.get(context, PgJobStore.PgJobStore)
  })

/** A plain SQL client on the test database, to look at tables as an operator would. */
const sqlOf = Effect.gen(function* () {
  const database = yield* TestDatabase
  const context = yield* Layer.build(database.client)
  return Context.get(context, SqlClient.SqlClient)
})

const jsonOf = (jobs: ReadonlyArray<Job>) => jobs.map(toJson)

const tagOf = (store: PgJobStore.PgJobStoreService, ref: JobRef) =>
  Effect.map(store.get(ref), Option.match({ onNone: () => "absent", onSome: (job) => job.state._tag }))

layer(layerTestDatabase, { excludeTestServices: true, timeout: "30 seconds" })("PgJobStore", (it) => {
  it.effect("round-trips jobs and pending keys, keyed by provider:kind:id", () =>
    Effect.gen(function* () {
      const store = yield* storeOf("roundtrip_")
      const jobs = [
        jobOf("a", State.queued(), 0),
        jobOf("b", State.running({ progress: 0.5, step: "dubbing" }), 0),
        jobOf("c", succeeded, 0),
        jobOf("d", State.failed({ code: "bad_source", message: "no audio" }), 0)
      ]
      for (const job of jobs) yield* store.put(job)
      yield* store.putPending(pendingOf("k1", "sha256:aa"))
      yield* store.putPending(pendingOf("k2"))

      const contents = yield* store.load
      assert.deepStrictEqual(jsonOf(contents.jobs), jsonOf(jobs))
      assert.deepStrictEqual(contents.pending, [pendingOf("k1", "sha256:aa"), pendingOf("k2")])
      assert.deepStrictEqual(contents.unreadable, [])

      // Any printed form of a reference names the same record: with or without language and version.
      const found = yield* store.get("heygen:translation:c")
      assert.deepStrictEqual(Option.map(found, toJson), Option.some(toJson(jobs[2]!)))
      assert.isTrue(Option.isNone(yield* store.get("heygen:translation:zzz")))
      yield* store.remove("heygen@v3:translation/es:a")
      yield* store.remove("heygen:review:b") // another kind: another job
      assert.deepStrictEqual(
        (yield* store.load).jobs.map((j) => j.ref.id),
        ["b", "c", "d"]
      )

      // A pending key is replaced as a whole, and removed by its key.
      yield* store.putPending({ ...pendingOf("k1"), targets: ["fr"], startedAt: t0 + 5 })
      yield* store.removePending("k2")
      assert.deepStrictEqual((yield* store.load).pending, [{ ...pendingOf("k1"), targets: ["fr"], startedAt: t0 + 5 }])
    })
  )

  it.effect("ignores a write observed before the stored state", () =>
    Effect.gen(function* () {
      const store = yield* storeOf("stale_")
      assert.isTrue(yield* store.record(jobOf("a", State.running({ progress: 0.6 }), 2_000)))
      // A poll answer that was in flight while a newer observation landed.
      assert.isFalse(yield* store.record(jobOf("a", State.queued(), 1_000)))
      assert.isFalse(yield* store.record(jobOf("a", State.running({ progress: 0.2 }), 1_999)))
      // The same observation again changes nothing; a newer one, or one at the same instant, is taken.
      assert.isFalse(yield* store.record(jobOf("a", State.running({ progress: 0.6 }), 2_000)))
      assert.isTrue(yield* store.record(jobOf("a", State.awaitingReview(), 2_000)))
      yield* store.put(jobOf("a", State.running({ progress: 0.1 }), 1_500))
      assert.deepStrictEqual(jsonOf((yield* store.load).jobs), jsonOf([jobOf("a", State.awaitingReview(), 2_000)]))
    })
  )

  it.effect("keeps a final state against anything but Removed, even when newer", () =>
    Effect.gen(function* () {
      const store = yield* storeOf("final_")
      const ref = jobOf("s", succeeded, 0).ref
      yield* store.put(jobOf("s", succeeded, 1_000))
      assert.isFalse(yield* store.record(jobOf("s", State.running(), 2_000)))
      assert.isFalse(yield* store.record(jobOf("s", State.awaitingReview(), 3_000)))
      assert.isFalse(yield* store.record(jobOf("s", State.failed({ code: "x", message: "late" }), 4_000)))
      assert.strictEqual(yield* tagOf(store, ref), "Succeeded")
      assert.isTrue(yield* store.record(jobOf("s", State.removed(), 5_000)))
      assert.isFalse(yield* store.record(jobOf("s", State.queued(), 6_000)))
      assert.isFalse(yield* store.record(jobOf("s", State.removed(), 7_000)))
      assert.strictEqual(yield* tagOf(store, ref), "Removed")

      yield* store.put(jobOf("f", State.failed({ code: "x", message: "no" }), 1_000))
      yield* store.put(jobOf("f", State.running(), 2_000))
      assert.strictEqual(yield* tagOf(store, jobOf("f", State.queued(), 0).ref), "Failed")
    })
  )

  it.effect("gives each pending key to exactly one of three replicas claiming it at once", () =>
    Effect.gen(function* () {
      const replicas = [yield* storeOf("claim_"), yield* storeOf("claim_"), yield* storeOf("claim_")]
      const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`)
      const claims = yield* Effect.forEach(
        keys,
        (key) =>
          Effect.forEach(replicas, (replica) => replica.claimPending(pendingOf(key, `fp-${key}`)), {
            concurrency: "unbounded"
          }),
        { concurrency: "unbounded" }
      )
      for (const [i, won] of claims.entries()) {
        assert.strictEqual(won.filter((w) => w).length, 1, `${keys[i]}: ${won}`)
      }
      assert.strictEqual((yield* replicas[0]!.load).pending.length, keys.length)
      // A key already pending is not claimed again, by anyone.
      assert.isFalse(yield* replicas[1]!.claimPending(pendingOf("key-0")))
      yield* replicas[2]!.removePending("key-0")
      assert.isTrue(yield* replicas[1]!.claimPending(pendingOf("key-0")))
    })
  )

  it.effect("keeps the newest state whatever order three replicas' writes land in", () =>
    Effect.gen(function* () {
      const replicas = [yield* storeOf("race_"), yield* storeOf("race_"), yield* storeOf("race_")]
      const observations = Array.from({ length: 60 }, (_, i) =>
        jobOf(`j${i % 3}`, State.running({ progress: i / 100 }), i * 10)
      )
      const shuffled = yield* Random.shuffle(observations)
      yield* Effect.forEach(shuffled, (job, i) => replicas[i % 3]!.put(job), { concurrency: 12 })
      const newest = [57, 58, 59].map((i) => toJson(observations[i]!))
      assert.deepStrictEqual(jsonOf((yield* replicas[1]!.load).jobs), newest)
    })
  )

  it.effect("shows each instance the other's writes", () =>
    Effect.gen(function* () {
      const a = yield* storeOf("shared_")
      const b = yield* storeOf("shared_")
      yield* a.put(jobOf("x", State.queued(), 0))
      yield* a.putPending(pendingOf("k"))
      assert.deepStrictEqual(jsonOf((yield* b.load).jobs), jsonOf([jobOf("x", State.queued(), 0)]))
      assert.deepStrictEqual((yield* b.load).pending, [pendingOf("k")])
      yield* b.put(jobOf("x", State.running(), 1_000))
      yield* b.removePending("k")
      assert.strictEqual(yield* tagOf(a, jobOf("x", State.queued(), 0).ref), "Running")
      assert.deepStrictEqual((yield* a.load).pending, [])
    })
  )

  it.effect("runs its migrations once, however many instances start", () =>
    Effect.gen(function* () {
      const sql = yield* sqlOf
      const first = yield* storeOf("mig_")
      yield* first.put(jobOf("kept", State.queued(), 0))
      // A second start on the same tables, then three replicas starting together on new ones.
      const second = yield* storeOf("mig_")
      yield* Effect.all([storeOf("migrace_"), storeOf("migrace_"), storeOf("migrace_")], { concurrency: "unbounded" })
      assert.deepStrictEqual(
        (yield* second.load).jobs.map((j) => j.ref.id),
        ["kept"]
      )
      for (const table of ["mig_migrations", "migrace_migrations"]) {
        const rows = yield* sql<{ migration_id: number }>`SELECT migration_id FROM ${sql(table)} ORDER BY migration_id`
        assert.deepStrictEqual(
          rows.map((r) => r.migration_id),
          [1, 2],
          table
        )
      }
    })
  )

  it.effect("keeps its tables under its prefix, and refuses a prefix that is not a plain name", () =>
    Effect.gen(function* () {
      const sql = yield* sqlOf
      const alpha = yield* storeOf("alpha_")
      const beta = yield* storeOf("beta_")
      yield* alpha.put(jobOf("only-alpha", State.queued(), 0))
      yield* alpha.putPending(pendingOf("alpha-key"))
      assert.deepStrictEqual(yield* beta.load, { jobs: [], pending: [], unreadable: [] })
      assert.deepStrictEqual(alpha.tables, {
        jobs: "alpha_jobs",
        pending: "alpha_pending",
        migrations: "alpha_migrations",
        workflows: "alpha_workflows",
        waits: "alpha_waits",
        cluster: "alpha_cluster"
      })
      const tables = yield* sql<{ table_name: string }>`SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name LIKE 'alpha\\_%' ORDER BY table_name`
      assert.deepStrictEqual(
        tables.map((t) => t.table_name),
        ["alpha_jobs", "alpha_migrations", "alpha_pending", "alpha_waits", "alpha_workflows"]
      )

      const database = yield* TestDatabase
      for (const bad of ["Alpha_", "a-b_", "x; DROP TABLE alpha_jobs; --", "9lives_", "p".repeat(41)]) {
        const exit = yield* Effect.exit(
          Layer.build(PgJobStore.layer({ tablePrefix: bad }).pipe(Layer.provide(database.client)))
        )
        assert.isTrue(Exit.isFailure(exit), bad)
        const error = Exit.isFailure(exit) ? exit.cause.toString() : ""
        assert.include(error, "JobStoreError", bad)
        assert.include(error, "table prefix", bad)
      }
      assert.strictEqual((yield* alpha.load).jobs.length, 1)
    })
  )

  it.effect("skips and reports a record it cannot read, keeping it, and loads the others", () =>
    Effect.gen(function* () {
      const sql = yield* sqlOf
      const store = yield* storeOf("unreadable_")
      yield* store.put(jobOf("good", State.queued(), 0))
      yield* store.putPending(pendingOf("good-key"))
      // What a newer version (a state this one does not know) or a hand edit could leave.
      const future = { ...(toJson(jobOf("future", State.queued(), 0)) as object), state: { _tag: "Archived" } }
      yield* sql`INSERT INTO unreadable_jobs (ref, provider, state, observed_at, job)
        VALUES ('heygen:translation:future', 'heygen', 'Archived', now(), ${JSON.stringify(future)}::jsonb)`
      yield* sql`INSERT INTO unreadable_pending (idempotency_key, provider, targets, started_at)
        VALUES ('odd-key', 'heygen', '"es"'::jsonb, 1)`

      const warnings: Array<string> = []
      const contents = yield* store.load.pipe(
        Effect.provide(Logger.layer([Logger.make((options) => void warnings.push(String(options.message)))]))
      )
      assert.deepStrictEqual(
        contents.jobs.map((j) => j.ref.id),
        ["good"]
      )
      assert.deepStrictEqual(
        contents.pending.map((p) => p.idempotencyKey),
        ["good-key"]
      )
      const unreadable = contents.unreadable ?? []
      assert.deepStrictEqual(
        unreadable.map((u) => [u.section, u.index]),
        [
          ["jobs", 0],
          ["pending", 1]
        ]
      )
      assert.deepStrictEqual(unreadable[0]!.record, future)
      assert.include(unreadable[0]!.reason, '["state"]')
      assert.include(unreadable[1]!.reason, "targets")
      assert.strictEqual(warnings.length, 2)
      assert.include(warnings[0]!, "heygen:translation:future")
      assert.include(warnings[1]!, "odd-key")

      // Kept, untouched: the rows are still there, and reading that one job is an error, not "absent".
      const left = yield* sql<{ n: string }>`SELECT
        (SELECT count(*) FROM unreadable_jobs)::text || '/' || (SELECT count(*) FROM unreadable_pending)::text AS n`
      assert.strictEqual(left[0]!.n, "2/2")
      const error = yield* Effect.flip(store.get("heygen:translation:future"))
      assert.include(error.message, "cannot be read")
    })
  )

  it.effect("serves core's pending-key protocol: a rerun resumes the key, done clears it", () =>
    Effect.gen(function* () {
      const first = yield* storeOf("idem_")
      const rerun = yield* storeOf("idem_")
      const options = {
        provider: "heygen",
        fingerprint: Idempotency.fingerprint(["https://example.com/v.mp4", ["es"]]),
        targets: ["es"]
      }
      const started = yield* Idempotency.pendingKey(first, options)
      assert.strictEqual(started.origin, "new")
      // The first process dies before recording the answer; another picks the request up.
      const resumed = yield* Idempotency.pendingKey(rerun, options)
      assert.strictEqual(resumed.origin, "resumed")
      assert.strictEqual(resumed.key, started.key)
      yield* resumed.done
      assert.deepStrictEqual((yield* first.load).pending, [])
      const again = yield* Idempotency.pendingKey(first, options)
      assert.strictEqual(again.origin, "new")
      assert.notStrictEqual(again.key, started.key)
    })
  )

  it.effect("reads POLYDUB_DATABASE_URL, and fails without the password in the message", () =>
    Effect.gen(function* () {
      const database = yield* TestDatabase
      const withUrl = (url: string | undefined) =>
        Layer.build(
          PgJobStore.layerConfig({ tablePrefix: "config_" }).pipe(
            Layer.provide(
              ConfigProvider.layer(ConfigProvider.fromEnvRecord(url === undefined ? {} : { POLYDUB_DATABASE_URL: url }))
            )
          )
        )
      const withPassword = (database: string, password: string) => {
        const url = new URL(urlOf(database))
        url.password = password
        return url.toString()
      }

      const context = yield* withUrl(withPassword(database.name, "trusted-anyway"))
      const store = Context.get(context, JobStore.JobStore)
      yield* store.put(jobOf("via-config", State.queued(), 0))
      assert.strictEqual((yield* store.load).jobs.length, 1)

      const missing = yield* Effect.flip(withUrl(withPassword("polydub_no_such_database", "s3cret-pw%2F42")))
      assert.strictEqual(missing._tag, "JobStoreError")
      assert.include(missing.message, "POLYDUB_DATABASE_URL")
      assert.include(missing.message, "does not exist")
      assert.notInclude(missing.message, "s3cret")

      const unset = yield* Effect.flip(withUrl(undefined))
      assert.include(unset.message, "POLYDUB_DATABASE_URL")
    })
  )

  it.effect("keeps passwords out of a message that quotes a connection string", () =>
    Effect.sync(() => {
      const url = "postgres://app:p%40ss%2Fw0rd@db.internal:5432/jobs"
      const quoted = `cannot connect to ${url} (password p@ss/w0rd refused)`
      assert.strictEqual(
        scrub(quoted, passwordsIn(url)),
        "cannot connect to postgres://app:***@db.internal:5432/jobs (password *** refused)"
      )
      // Without knowing the password, a connection string's is still hidden.
      assert.strictEqual(scrub("dial postgresql://u:hunter2@h/d failed", []), "dial postgresql://u:***@h/d failed")
    })
  )
})
