// Durable dubbing workflows on a runner in this process, against the simulators over loopback and
// the real PostgreSQL: a review job from submission through approval (with an edited transcript) to
// its render, a job without review, a client in another pool that starts and approves, retention
// that prunes what the cluster stored, and the refusals a caller gets before anything is sent.

import { assert, layer } from "@effect/vitest"
import { Transcript } from "@polydub/core"
import { Fleet } from "@polydub/fleet"
import { HeyGenSimulator, MediaServer, VoiceCheapSimulator } from "@polydub/testing"
import { Context, Duration, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { clientOf, freePort, runnerLayer } from "./harness.js"
import { layerTestDatabase, TestDatabase } from "./services.js"

const fast = { queuedMs: 100, runningMs: 600, proofreadMs: 400 }

interface World {
  readonly heygen: HeyGenSimulator.HeyGenSimulator
  readonly voicecheap: VoiceCheapSimulator.VoiceCheapSimulator
  readonly media: MediaServer.MediaServer
  readonly runner: Context.Context<Fleet.Fleet | SqlClient.SqlClient>
  readonly client: Fleet.FleetService
  readonly sql: SqlClient.SqlClient
}

class TestWorld extends Context.Service<TestWorld, World>()("test/FleetWorld") {}

const worldLayer = Layer.effect(
  TestWorld,
  Effect.gen(function* () {
    const database = yield* TestDatabase
    const heygen = yield* HeyGenSimulator.serve(fast)
    const voicecheap = yield* VoiceCheapSimulator.serve({ processingMs: 600, lipSyncMs: 200 })
    const media = yield* MediaServer.serve([{ path: "/talk.mp4", size: 64 * 1024 }])
    const port = yield* freePort
    const vendors = {
      heygen: { baseUrl: heygen.baseUrl, apiKey: heygen.apiKey },
      voicecheap: { baseUrl: voicecheap.baseUrl, apiKey: voicecheap.apiKey }
    }
    const runner = yield* Layer.build(
      Layer.merge(
        runnerLayer({ databaseUrl: database.url, tablePrefix: "t1_", port, vendors, retention: "1 second" }),
        database.client
      )
    )
    const clientContext = yield* Layer.build(clientOf(database.url, "t1_"))
    return {
      heygen,
      voicecheap,
      media,
      runner: runner as Context.Context<Fleet.Fleet | SqlClient.SqlClient>,
      client: Context.get(clientContext, Fleet.Fleet),
      sql: Context.get(runner, SqlClient.SqlClient)
    }
  })
).pipe(Layer.provideMerge(layerTestDatabase))

layer(worldLayer, { excludeTestServices: true, timeout: "120 seconds" })("fleet workflows on one runner", (it) => {
  it.effect(
    "a review job: submitted, awaits review, approved with an edited transcript from another client, rendered",
    () =>
      Effect.gen(function* () {
        const world = yield* TestWorld
        const [started] = yield* world.client.start({
          id: "review-1",
          provider: "heygen",
          source: "https://videos.example/talk.mp4",
          targets: ["es"],
          review: true,
          title: "review-1"
        })
        assert.strictEqual(started!.phase, "starting")
        const awaiting = yield* world.client
          .get(started!.ref)
          .pipe(
            Effect.delay(Duration.millis(200)),
            Effect.repeat({ until: (w) => w.phase === "awaiting-review" || w.finished, times: 100 })
          )
        assert.strictEqual(awaiting.phase, "awaiting-review")
        assert.strictEqual(awaiting.job?.state._tag, "AwaitingReview")
        const cue = new Transcript.Cue({ index: 1, start: 0, end: 1500, text: "Hola, editado" })
        yield* world.client.approve(awaiting.job!.ref.toString(), {
          transcript: new Transcript.Transcript({ cues: [cue] })
        })
        const done = yield* world.client.await(started!.ref, { interval: "200 millis" })
        assert.strictEqual(done.phase, "succeeded")
        assert.strictEqual(done.job?.state._tag, "Succeeded")
        assert.strictEqual(world.heygen.jobsByTitle().get("review-1"), 1)
        // The edited text reached the vendor before the render.
        const srt = world.heygen.proofreadSrt(awaiting.job!.ref.id)
        assert.include(srt ?? "", "Hola, editado")
      })
  )

  it.effect("a job without review on VoiceCheap runs to its outputs, and a repeated start joins it", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      const request = {
        id: "plain-1",
        provider: "voicecheap",
        source: world.media.url("/talk.mp4"),
        targets: ["fr"],
        title: "plain-1"
      }
      const [first] = yield* world.client.start(request)
      const [again] = yield* world.client.start(request)
      assert.strictEqual(again!.executionId, first!.executionId)
      const done = yield* world.client.await(first!.ref, { interval: "200 millis" })
      assert.strictEqual(done.phase, "succeeded")
      assert.strictEqual(world.voicecheap.billableSubmissions(), 1)
    })
  )

  it.effect("finished workflows are pruned from the cluster's tables and never run again", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      const [w] = yield* world.client.ofTranslation("plain-1")
      yield* Effect.gen(function* () {
        const rows = yield* world.sql<{ n: string }>`SELECT count(*)::text AS n FROM t1_cluster_messages
          WHERE entity_id = ${w!.executionId}`
        return Number(rows[0]!.n)
      }).pipe(Effect.delay("500 millis"), Effect.repeat({ until: (n) => n === 0, times: 40 }))
      const rows = yield* world.sql<{ pruned: boolean }>`SELECT pruned_at IS NOT NULL AS pruned FROM t1_workflows
        WHERE execution_id = ${w!.executionId}`
      assert.isTrue(rows[0]!.pruned)
      // Starting it again does not submit again.
      const billed = world.voicecheap.billableSubmissions()
      yield* world.client.start({
        id: "plain-1",
        provider: "voicecheap",
        source: world.media.url("/talk.mp4"),
        targets: ["fr"]
      })
      yield* Effect.sleep("1500 millis")
      assert.strictEqual(world.voicecheap.billableSubmissions(), billed)
      assert.strictEqual((yield* world.client.get(w!.ref)).phase, "succeeded")
    })
  )

  it.effect("a step whose database write fails (a dropped connection) is tried again, and the workflow finishes", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      // The next two waits a workflow registers fail in PostgreSQL; a sequence counts them, since a
      // failed statement rolls back any other write it made.
      yield* world.sql.unsafe(`CREATE SEQUENCE t1_flaky`)
      yield* world.sql.unsafe(`CREATE FUNCTION t1_flaky() RETURNS trigger AS $$ BEGIN
          IF nextval('t1_flaky') <= 2 THEN RAISE EXCEPTION 'terminating connection due to administrator command'; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql`)
      yield* world.sql.unsafe(
        `CREATE TRIGGER t1_flaky BEFORE INSERT ON t1_waits FOR EACH ROW EXECUTE FUNCTION t1_flaky()`
      )
      yield* Effect.addFinalizer(() =>
        Effect.all([
          world.sql.unsafe(`DROP TRIGGER IF EXISTS t1_flaky ON t1_waits`),
          world.sql.unsafe(`DROP FUNCTION IF EXISTS t1_flaky`),
          world.sql.unsafe(`DROP SEQUENCE IF EXISTS t1_flaky`)
        ]).pipe(Effect.ignore)
      )
      const [w] = yield* world.client.start({
        id: "flaky-1",
        provider: "voicecheap",
        source: world.media.url("/talk.mp4"),
        targets: ["es"],
        title: "flaky-1"
      })
      const done = yield* world.client
        .await(w!.ref, { interval: "200 millis" })
        .pipe(Effect.timeoutOption("20 seconds"), Effect.map(Option.getOrUndefined))
      const failures = yield* world.sql<{ n: string }>`SELECT last_value::text AS n FROM t1_flaky`
      assert.strictEqual(done?.phase, "succeeded", "the workflow finished")
      assert.isAtLeast(Number(failures[0]!.n), 2, "the wait's write failed twice")
    }).pipe(Effect.scoped)
  )

  it.effect("a wait that commits after a later one was read still wakes its workflow", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      // The next wait inserted holds its sequence number uncommitted for 3 s, while the next
      // workflow's wait, numbered after it, commits and is read by the sweeper.
      yield* world.sql.unsafe(`CREATE SEQUENCE t1_slow`)
      yield* world.sql.unsafe(`CREATE FUNCTION t1_slow() RETURNS trigger AS $$ BEGIN
          IF nextval('t1_slow') = 1 THEN PERFORM pg_sleep(3); END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql`)
      yield* world.sql.unsafe(
        `CREATE TRIGGER t1_slow BEFORE INSERT ON t1_waits FOR EACH ROW EXECUTE FUNCTION t1_slow()`
      )
      yield* Effect.addFinalizer(() =>
        Effect.all([
          world.sql.unsafe(`DROP TRIGGER IF EXISTS t1_slow ON t1_waits`),
          world.sql.unsafe(`DROP FUNCTION IF EXISTS t1_slow`),
          world.sql.unsafe(`DROP SEQUENCE IF EXISTS t1_slow`)
        ]).pipe(Effect.ignore)
      )
      const start = (id: string) =>
        world.client
          .start({ id, provider: "heygen", source: "https://videos.example/talk.mp4", targets: ["es"], title: id })
          .pipe(Effect.map(([w]) => w!))
      const first = yield* start("slow-1")
      yield* world.client
        .get(first.ref)
        .pipe(Effect.delay("100 millis"), Effect.repeat({ until: (w) => w.job !== undefined, times: 100 }))
      const second = yield* start("slow-2")
      const [a, b] = yield* Effect.all(
        [first, second].map((w) =>
          world.client
            .await(w.ref, { interval: "200 millis" })
            .pipe(Effect.timeoutOption("25 seconds"), Effect.map(Option.getOrUndefined))
        ),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(b?.phase, "succeeded", `the later wait's workflow finished: ${JSON.stringify(b?.error)}`)
      assert.strictEqual(a?.phase, "succeeded", "the wait that committed late still woke its workflow")
    }).pipe(Effect.scoped)
  )

  it.effect("approving a workflow that is not awaiting review, or an unknown one, is refused", () =>
    Effect.gen(function* () {
      const world = yield* TestWorld
      const [w] = yield* world.client.ofTranslation("plain-1")
      const refused = yield* Effect.flip(world.client.approve(w!.ref))
      assert.strictEqual(refused.reason, "NotAwaitingReview")
      const unknown = yield* Effect.flip(world.client.get("workflow:nope"))
      assert.strictEqual(unknown.reason, "NotFound")
      const bad = yield* Effect.flip(world.client.start({ provider: "heygen", source: "/etc/passwd", targets: ["es"] }))
      assert.strictEqual(bad.reason, "InvalidRequest")
    })
  )
})
