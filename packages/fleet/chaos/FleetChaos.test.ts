// The fleet's chaos suite: three runner processes on the real PostgreSQL, one shared budget per vendor
// key on the real Redis, and both simulators served from this process with their faults on, while
// runners are killed with SIGKILL and restarted at random. Workflows on HeyGen (some with review,
// approved here when they reach awaiting-review) and on VoiceCheap run to their ends.
//
// It checks and prints, each figure from the simulators' own records and the fleet's rows: every
// workflow ends as the vendor decided its job (a job the simulator failed ends `failed`, one it never
// finishes ends `error` with `TimedOut`); a VoiceCheap submission cut off by a kill or an ambiguous
// answer ends `error` with `OutcomeUnknown` by design, and is counted apart with the simulator billing
// its title at most once; no title is billed twice; no 1 s window holds more requests per vendor key,
// across all processes, than the vendor's limit; and how long the workflows of a killed runner wait
// for their next step.

import type { ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Fleet } from "@polydub/fleet"
import { HeyGenSimulator, MediaServer, VoiceCheapSimulator } from "@polydub/testing"
import { Context, Duration, Effect, Fiber, Layer, Ref, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import { clientOf, freePort, type RunnerSetup, type Vendors } from "../test/harness.js"
import { spawnRunner, tails } from "../test/processes.js"
import { layerTestDatabase, redisPrefix, TestDatabase } from "../test/services.js"

const perVendor = Number(process.env.POLYDUB_FLEET_CHAOS_WORKFLOWS ?? 150)
const runnerCount = 3
/** Faults on API requests: 15.5% in all, as the providers' chaos suite draws them. */
const requestFaults = {
  http500: 0.03,
  http502: 0.02,
  dropBefore: 0.03,
  dropAfter: 0.03,
  malformed: 0.02,
  stall: 0.02,
  burst429: 0.005
} as const
/** Faults on jobs: failed by the vendor, never finished, `completed` read with a null URL at first. */
const jobFaults = { fail: 0.05, stuck: 0.02, urlNull: 0.06 } as const
/** The clients time out well before a stalled answer comes. */
const timeout = "2 seconds"
const stallMs = 3500
/**
 * A render not done this long after its submission (or approval) times the workflow out. Renders take
 * about 2 s here; the rest is room for the kills (a runner's shards move after 6 s, and the sweeper with
 * them when its runner is the one killed), for the sweeper's pause after a burst of 429s, and for a
 * loaded machine, so that only the jobs the vendor never finishes time out. 45 s was seen to time out
 * 40 finished jobs on a machine loaded by other work.
 */
const renderTimeout = Duration.seconds(120)
/** The vendors' limits (per key, per 1 s, scaled up from per minute so the run is short) and the budgets under them. */
const limits = { heygen: 30, status: 30, translate: 20 }
const budgets = { heygen: 27, status: 27, translate: 18 }
const perSecond = (limit: number) => ({ limit, window: "1 second" as const })

/** The most arrivals inside any window of `windowMs`. */
const peak = (times: ReadonlyArray<number>, windowMs: number) => {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++
    best = Math.max(best, end - start + 1)
  }
  return best
}

const quantile = (values: ReadonlyArray<number>, q: number) => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}

const seconds = (ms: number) => (Number.isNaN(ms) ? "n/a" : `${(ms / 1000).toFixed(1)} s`)
const percent = (n: number, d: number) => `${d === 0 ? "0.0" : ((n / d) * 100).toFixed(1)}%`
const describeCounts = (counts: Readonly<Record<string, number>>, prefix = "") =>
  Object.entries(counts)
    .filter(([k]) => (prefix === "" ? !k.includes(":") : k.startsWith(prefix)))
    .map(([k, n]) => `${k.slice(prefix.length)} ${n}`)
    .join(", ")

/** A seeded random source, so the kills of a run can be repeated (their effect varies with timing). */
const seeded = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/** A kill, and the unfinished workflows whose shards the killed runner held at that moment. */
interface Kill {
  readonly at: number
  readonly runner: string
  /** Execution id → whether its next step was due (its job at rest, or its submission not answered). */
  readonly orphans: ReadonlyMap<string, boolean>
}

describe("fleet chaos", () => {
  it.live(
    `${runnerCount} runner processes, ${perVendor * 2} workflows, request and job faults, runners killed with SIGKILL`,
    () =>
      Effect.gen(function* () {
        const started = Date.now()
        const database = yield* TestDatabase
        const budgetPrefix = yield* redisPrefix
        const tablePrefix = "chaos_"
        const heygen = yield* HeyGenSimulator.serve({
          queuedMs: 200,
          runningMs: 2000,
          proofreadMs: 1000,
          concurrentJobs: 10_000,
          rateLimit: { limit: limits.heygen, windowMs: 1000 },
          faultRates: requestFaults,
          jobFaultRates: jobFaults,
          stallMs,
          seed: 23
        })
        const voicecheap = yield* VoiceCheapSimulator.serve({
          processingMs: 2000,
          concurrentLimit: 10_000,
          rateLimits: {
            status: { limit: limits.status, windowMs: 1000 },
            translate: { limit: limits.translate, windowMs: 1000 },
            projects: { limit: limits.translate, windowMs: 1000 }
          },
          faultRates: requestFaults,
          jobFaultRates: jobFaults,
          stallMs,
          seed: 29
        })
        const media = yield* MediaServer.serve([{ path: "/talk.mp4", size: 64 * 1024 }])
        const vendors: Vendors = {
          heygen: {
            baseUrl: heygen.baseUrl,
            apiKey: heygen.apiKey,
            budget: perSecond(budgets.heygen),
            timeouts: { read: timeout, write: timeout }
          },
          voicecheap: {
            baseUrl: voicecheap.baseUrl,
            apiKey: voicecheap.apiKey,
            budgets: {
              status: perSecond(budgets.status),
              translate: perSecond(budgets.translate),
              projects: perSecond(budgets.translate)
            },
            timeouts: { read: timeout, upload: timeout }
          }
        }
        const setup = (name: string, port: number): RunnerSetup => ({
          name,
          databaseUrl: database.url,
          tablePrefix,
          port,
          vendors,
          budgetPrefix
        })
        const clientContext = yield* Layer.build(Layer.merge(clientOf(database.url, tablePrefix), database.client))
        const client = Context.get(clientContext, Fleet.Fleet)
        const sql = Context.get(clientContext, SqlClient.SqlClient).withoutTransforms()

        // Every step a workflow records, with PostgreSQL's time: a change of its row (phase, job, end) or
        // a new wait on its job. Test instrumentation only; the fleet never reads this table.
        yield* sql`CREATE TABLE chaos_steps (execution_id text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`
        yield* sql.unsafe(`CREATE FUNCTION chaos_row_step() RETURNS trigger AS $$ BEGIN
            IF NEW.updated_at IS DISTINCT FROM OLD.updated_at THEN
              INSERT INTO chaos_steps (execution_id) VALUES (NEW.execution_id);
            END IF;
            RETURN NEW;
          END $$ LANGUAGE plpgsql`)
        yield* sql.unsafe(`CREATE FUNCTION chaos_wait_step() RETURNS trigger AS $$ BEGIN
            INSERT INTO chaos_steps (execution_id) VALUES (NEW.execution_id);
            RETURN NEW;
          END $$ LANGUAGE plpgsql`)
        yield* sql.unsafe(`CREATE TRIGGER chaos_row_step AFTER UPDATE ON ${tablePrefix}workflows
          FOR EACH ROW EXECUTE FUNCTION chaos_row_step()`)
        yield* sql.unsafe(`CREATE TRIGGER chaos_wait_step AFTER INSERT ON ${tablePrefix}waits
          FOR EACH ROW EXECUTE FUNCTION chaos_wait_step()`)

        // The runners, each in a slot named for its database connections; a restart takes a new port.
        const slots: Array<{ name: string; child: ChildProcess }> = []
        /** The runners this test killed; any other that exited, crashed. */
        const killed = new Set<ChildProcess>()
        for (let i = 0; i < runnerCount; i++) {
          const name = `chaos-runner-${i}`
          slots.push({ name, child: yield* spawnRunner(setup(name, yield* freePort)) })
        }
        // The shards are shared out once every runner is known (assignments refresh every 3 s).
        yield* Effect.sleep("4 seconds")

        // Which shards each runner holds now (its advisory locks), and the unfinished workflows in them.
        const orphansOf = (runner: string) =>
          Effect.gen(function* () {
            const rows = yield* sql<{ execution_id: string; due: boolean }>`
              WITH held AS (
                SELECT l.objid::bigint - 1000000 AS shard FROM pg_locks l
                  JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND a.application_name = ${runner}
              ), entities AS (
                SELECT DISTINCT entity_id, split_part(shard_id, ':', 2)::bigint AS shard
                FROM ${sql(`${tablePrefix}cluster_messages`)} WHERE entity_type = 'Workflow/polydub-dubbing'
              )
              SELECT w.execution_id,
                (w.phase = 'starting' OR j.state NOT IN ('Queued', 'Running')) AS due
              FROM ${sql(`${tablePrefix}workflows`)} w
                JOIN entities e ON e.entity_id = w.execution_id
                LEFT JOIN ${sql(`${tablePrefix}jobs`)} j ON j.ref = w.job_ref
              WHERE w.finished_at IS NULL AND e.shard IN (SELECT shard FROM held)`
            return new Map(rows.map((r) => [r.execution_id, r.due === true]))
          })

        // Kills at random, one runner at a time, each restarted 1–4 s later, the next 3–8 s after that,
        // while workflows remain.
        const random = seeded(31)
        const kills = yield* Ref.make<ReadonlyArray<Kill>>([])
        const done = yield* Ref.make(false)
        const chaos = yield* Effect.gen(function* () {
          yield* Effect.sleep(Duration.millis(3000 + random() * 5000))
          while (!(yield* Ref.get(done))) {
            const slot = slots[Math.floor(random() * slots.length)]!
            const orphans = yield* orphansOf(slot.name)
            killed.add(slot.child)
            slot.child.kill("SIGKILL")
            yield* Ref.update(kills, (list) => [...list, { at: Date.now(), runner: slot.name, orphans }])
            yield* Effect.sleep(Duration.millis(1000 + random() * 3000))
            slot.child = yield* spawnRunner(setup(slot.name, yield* freePort))
            yield* Effect.sleep(Duration.millis(3000 + random() * 5000))
          }
        }).pipe(Effect.forkScoped)

        // The reviewer: approves what awaits review, and again if it still waits 20 s later.
        const approvals = { sent: 0, again: 0, failed: 0 }
        const approvedAt = new Map<string, number>()
        yield* Effect.gen(function* () {
          const waiting = yield* client.list({ phase: "awaiting-review", limit: 1000 })
          for (const w of waiting) {
            const last = approvedAt.get(w.executionId)
            if (last !== undefined && Date.now() - last < 20_000) continue
            yield* client.approve(w.ref).pipe(
              Effect.tap(() =>
                Effect.sync(() => {
                  if (last === undefined) approvals.sent++
                  else approvals.again++
                  approvedAt.set(w.executionId, Date.now())
                })
              ),
              Effect.catch((e) => Effect.sync(() => e.reason !== "NotAwaitingReview" && approvals.failed++))
            )
          }
        }).pipe(Effect.repeat(Schedule.spaced("500 millis")), Effect.forkScoped)

        // The workflows, started a few a second: HeyGen (every third with review) and VoiceCheap, interleaved.
        const runId = randomBytes(3).toString("hex")
        const startFailures = yield* Ref.make(0)
        const requests = Array.from({ length: perVendor * 2 }, (_, i) => {
          const provider = i % 2 === 0 ? "heygen" : "voicecheap"
          const n = Math.floor(i / 2)
          const title = `fc-${runId}-${provider === "heygen" ? "h" : "v"}${n}`
          return {
            id: title,
            provider,
            source: provider === "heygen" ? "https://videos.example/talk.mp4" : media.url("/talk.mp4"),
            targets: [n % 2 === 0 ? "es" : "fr"],
            review: provider === "heygen" && n % 3 === 0,
            title,
            renderTimeout
          }
        })
        const startsFrom = Date.now()
        yield* Effect.forEach(
          requests,
          (request, i) =>
            Effect.suspend(() => Effect.sleep(Duration.millis(Math.max(0, startsFrom + i * 120 - Date.now())))).pipe(
              Effect.andThen(
                client.start(request).pipe(
                  // A start repeated joins the workflow: safe to try again when the cluster could not take it.
                  Effect.tapError(() => Ref.update(startFailures, (n) => n + 1)),
                  Effect.retry({ schedule: Schedule.spaced("1 second"), times: 10 })
                )
              )
            ),
          { concurrency: 16, discard: true }
        )

        // Every workflow to its end.
        const total = requests.length
        const finished = yield* Effect.gen(function* () {
          const rows = yield* sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql(`${tablePrefix}workflows`)}
            WHERE finished_at IS NOT NULL`
          return Number(rows[0]!.n)
        }).pipe(
          Effect.repeat({ schedule: Schedule.spaced("1 second"), until: (n) => n === total }),
          Effect.timeoutOption("240 seconds")
        )
        yield* Ref.set(done, true)
        yield* Fiber.interrupt(chaos)
        const wall = Date.now() - started

        // Judged against how the simulators decided each job ends.
        const rows = yield* client.list({ limit: total + 10 })
        const heygenTruth = heygen.outcomes()
        const voicecheapTruth = voicecheap.outcomes()
        const byEnd: Record<string, number> = {}
        let judged = 0
        let correct = 0
        const unknownTitles: Array<string> = []
        const wrong: Array<string> = []
        for (const w of rows) {
          const truth = w.provider === "heygen" ? heygenTruth : voicecheapTruth
          const expected = w.job === undefined ? undefined : truth.get(w.job.ref.id)
          const end = w.phase === "error" ? `error/${w.error?.reason ?? "?"}` : w.phase
          byEnd[end] = (byEnd[end] ?? 0) + 1
          if (w.provider === "voicecheap" && end === "error/OutcomeUnknown") {
            unknownTitles.push(w.id)
            continue
          }
          judged++
          const ok =
            (w.phase === "succeeded" && expected === "succeeded") ||
            (w.phase === "failed" && expected === "failed") ||
            (end === "error/TimedOut" && expected === "stuck")
          if (ok) correct++
          else {
            const took =
              w.finishedAt === undefined ? "unfinished" : seconds(w.finishedAt.getTime() - w.createdAt.getTime())
            wrong.push(
              `${w.id}: ${end} after ${took}, the vendor's job ${w.job?.ref.id ?? "none"} ${expected ?? "unknown"}`
            )
          }
        }

        // Billing, per title, from the simulators' records.
        const heygenTitles = heygen.jobsByTitle()
        const heygenTwice = [...heygenTitles.values()].filter((n) => n > 1).length
        const translations = [...heygenTitles.values()].reduce((a, b) => a + b, 0)
        const proofreads = heygen.billableSubmissions() - translations
        const reviewWorkflows = requests.filter((r) => r.review).length
        const projects = new Map<string, number>()
        for (const p of voicecheap.projects()) projects.set(p.projectName, (projects.get(p.projectName) ?? 0) + 1)
        const voicecheapTwice = [...projects.values()].filter((n) => n > 1).length
        const unknownBilledOnce = unknownTitles.filter((t) => projects.get(t) === 1).length
        const unknownBilledTwice = unknownTitles.filter((t) => (projects.get(t) ?? 0) > 1).length

        // The budgets, across every process, as the simulators received the requests.
        const peaks = {
          heygen: peak(heygen.requestTimes(), 1000),
          status: peak(voicecheap.requestTimes("status"), 1000),
          translate: peak(voicecheap.requestTimes("translate"), 1000)
        }

        // From each kill to the next step of each workflow the killed runner held.
        const steps = yield* sql<{
          execution_id: string
          at: Date
        }>`SELECT execution_id, at FROM chaos_steps ORDER BY at`
        const stepsOf = new Map<string, Array<number>>()
        for (const s of steps) {
          const list = stepsOf.get(s.execution_id) ?? []
          list.push(s.at.getTime())
          stepsOf.set(s.execution_id, list)
        }
        const delays: Array<number> = []
        const dueDelays: Array<number> = []
        const killList = yield* Ref.get(kills)
        let orphaned = 0
        for (const kill of killList) {
          for (const [id, due] of kill.orphans) {
            orphaned++
            const next = stepsOf.get(id)?.find((t) => t > kill.at)
            if (next === undefined) continue
            delays.push(next - kill.at)
            if (due) dueDelays.push(next - kill.at)
          }
        }

        const heygenFaults = heygen.injectedFaults()
        const voicecheapFaults = voicecheap.injectedFaults()
        console.log(
          `fleet chaos: ${runnerCount} runner processes, ${total} workflows (HeyGen ${perVendor}, ${reviewWorkflows} of them with review; VoiceCheap ${perVendor}); ` +
            `${killList.length} runners killed with SIGKILL and restarted; ${Math.round(wall / 1000)} s; injected faults: ` +
            `heygen requests {${describeCounts(heygenFaults)}}, jobs {${describeCounts(heygenFaults, "job:")}}; ` +
            `voicecheap requests {${describeCounts(voicecheapFaults)}}, jobs {${describeCounts(voicecheapFaults, "job:")}}\n` +
            `  fleet final states: ${correct}/${judged} workflows in the correct final state (${percent(correct, judged)}): ` +
            `${describeCounts(byEnd)}; TimedOut = a job the vendor never finished, past its ${Duration.format(renderTimeout)} deadline\n` +
            `  fleet outcome unknown: ${unknownTitles.length} VoiceCheap submissions cut off by a kill or an ambiguous answer ended error/OutcomeUnknown (by design, not sent again); ` +
            `the simulator billed ${unknownBilledOnce} of their titles once, ${unknownTitles.length - unknownBilledOnce - unknownBilledTwice} not at all, ${unknownBilledTwice} twice\n` +
            `  fleet billing: ${heygenTwice + voicecheapTwice} titles billed twice (HeyGen ${heygenTwice} of ${heygenTitles.size} titles, ` +
            `${proofreads} proofreads for ${reviewWorkflows} review workflows; VoiceCheap ${voicecheapTwice} of ${projects.size}); ` +
            `approvals ${approvals.sent}, sent again ${approvals.again}; starts tried again ${yield* Ref.get(startFailures)}\n` +
            `  fleet rate: peak in any 1 s across the ${runnerCount} processes: HeyGen ${peaks.heygen} requests (budget ${budgets.heygen}/s, vendor limit ${limits.heygen}/s), ` +
            `VoiceCheap ${peaks.status} status reads (budget ${budgets.status}/s, limit ${limits.status}/s) and ${peaks.translate} uploads ` +
            `(budget ${budgets.translate}/s, limit ${limits.translate}/s); refused by the vendors' limits: ${heygen.rejectedByRateLimit() + voicecheap.rejectedByRateLimit()}\n` +
            `  fleet recovery: ${orphaned} unfinished workflows on the killed runners; from the kill to their next step p50 ${seconds(quantile(delays, 0.5))}, ` +
            `p95 ${seconds(quantile(delays, 0.95))} (${delays.length} measured); of those whose step was due at the kill (job at rest or submission unanswered), ` +
            `p50 ${seconds(quantile(dueDelays, 0.5))}, p95 ${seconds(quantile(dueDelays, 0.95))} (${dueDelays.length}); ` +
            `a step is a change of the workflow's row or a new wait, timed by PostgreSQL`
        )
        if (wrong.length > 0) {
          // What the fleet still held for them, and what the runners said about waking workflows.
          const ids = rows.filter((w) => wrong.some((line) => line.startsWith(`${w.id}:`))).map((w) => w.executionId)
          const waits = yield* sql<{ execution_id: string; seq: string; deferred: string; created_at: Date }>`
            SELECT execution_id, seq::text AS seq, deferred, created_at FROM ${sql(`${tablePrefix}waits`)}
            WHERE execution_id IN ${sql.in(ids)}`
          const maxSeq = yield* sql<{ seq: string }>`SELECT max(seq)::text AS seq FROM ${sql(`${tablePrefix}waits`)}`
          const said = [...tails.values()].flatMap((t) =>
            t.text.split("\n").filter((l) => /cannot wake|sweep failed|sweeper: following/.test(l))
          )
          console.log(
            `  wrong: ${wrong.slice(0, 20).join(" | ")}\n  their waits: ${JSON.stringify(waits)} (highest seq ${maxSeq[0]?.seq})\n` +
              `  runners: ${said.slice(-30).join("\n    ")}`
          )
        }
        for (const [child, tail] of tails) {
          if (!killed.has(child)) assert.isUndefined(tail.exit, `a runner exited (${tail.exit}):\n${tail.text}`)
        }
        assert.isTrue(finished._tag === "Some", `every workflow finishes: ${JSON.stringify(byEnd)}`)
        assert.strictEqual(rows.length, total)
        assert.isAtLeast(killList.length, 3, "runners were killed throughout")
        assert.isAbove(orphaned, 0, "kills left workflows to the other runners")
        for (const kind of Object.keys(requestFaults)) {
          assert.isAbove((heygenFaults[kind] ?? 0) + (voicecheapFaults[kind] ?? 0), 0, `${kind} was injected`)
        }
        assert.deepStrictEqual(wrong, [], "every workflow ends as the vendor decided its job")
        assert.strictEqual(heygenTwice, 0)
        assert.strictEqual(voicecheapTwice, 0)
        assert.strictEqual(unknownBilledTwice, 0)
        assert.isAtMost(proofreads, reviewWorkflows)
        assert.isAtMost(peaks.heygen, limits.heygen)
        assert.isAtMost(peaks.status, limits.status)
        assert.isAtMost(peaks.translate, limits.translate)
        assert.strictEqual(heygen.rejectedByRateLimit() + voicecheap.rejectedByRateLimit(), 0)
      }).pipe(Effect.scoped, Effect.provide(layerTestDatabase)),
    330_000
  )
})
