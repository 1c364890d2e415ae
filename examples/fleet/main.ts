// A fleet end to end, as separate processes talk to each other in production: two `polydub worker`
// runners and one `polydub serve` API on a PostgreSQL database, the HeyGen simulator standing in for
// HeyGen. A review job is started over HTTP, its transcript read and revised, one worker is killed
// with SIGKILL, the job is approved, and it finishes on the other worker.
//
//   node --import ./scripts/sources.mjs examples/fleet/main.ts
//
// It uses POLYDUB_DATABASE_URL when set (its tables get a prefix of their own), or else creates a
// database on the PostgreSQL at 127.0.0.1:5432 and drops it afterwards.

import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import { PgClient } from "@effect/sql-pg"
import { HeyGenSimulator, Loopback } from "@polydub/testing"
import { Console, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"

const root = fileURLToPath(new URL("../../", import.meta.url))

/** A database for the example: the given one, or one created here and dropped with the scope. */
const database = Effect.gen(function* () {
  const given = process.env.POLYDUB_DATABASE_URL
  if (given !== undefined) return given
  const admin = "postgres://postgres@127.0.0.1:5432/postgres"
  const name = `polydub_example_${randomBytes(4).toString("hex")}`
  const run = (f: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>) =>
    Effect.flatMap(SqlClient.SqlClient, f).pipe(
      Effect.provide(PgClient.layer({ url: Redacted.make(admin), maxConnections: 1 })),
      Effect.orDie
    )
  yield* Effect.acquireRelease(
    run((sql) => sql`CREATE DATABASE ${sql(name)}`),
    () => run((sql) => sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`)
  )
  return `postgres://postgres@127.0.0.1:5432/${name}`
})

/** `polydub <args>` from the sources, as a process of its own; resolves once `ready` is printed. */
const polydub = (name: string, args: ReadonlyArray<string>, env: Record<string, string>, ready: string) =>
  Effect.acquireRelease(
    Effect.callback<ChildProcess>((resume) => {
      const child = spawn(
        process.execPath,
        ["--import", `${root}scripts/sources.mjs`, `${root}packages/cli/src/bin.ts`, ...args],
        { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }
      )
      let output = ""
      let started = false
      const onData = (data: Buffer) => {
        output = (output + data.toString()).slice(-8192)
        if (!started && output.includes(ready)) {
          started = true
          resume(Effect.succeed(child))
        }
      }
      // Always drained: a child writing into a full pipe would block.
      child.stdout!.on("data", onData)
      child.stderr!.on("data", onData)
      child.once("exit", (code, signal) => {
        if (!started) resume(Effect.die(new Error(`${name} exited (${code ?? signal}):\n${output}`)))
      })
    }),
    (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGTERM"))
  )

const http = (method: string, url: string, body?: unknown, contentType = "application/json") =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method,
      ...(body === undefined
        ? {}
        : { body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": contentType } })
    })
    const text = await response.text()
    return { status: response.status, body: text.length > 0 && text.startsWith("{") ? JSON.parse(text) : text }
  })

interface WorkflowJson {
  readonly ref: string
  readonly phase: string
  readonly job?: { readonly ref: string; readonly state: { readonly _tag: string } } | null
}

export const main = Effect.gen(function* () {
  const started = Date.now()
  const at = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`
  const heygen = yield* HeyGenSimulator.serve({ queuedMs: 300, runningMs: 3000, proofreadMs: 1500 })
  const env = {
    POLYDUB_DATABASE_URL: yield* database,
    POLYDUB_TABLE_PREFIX: `example_${randomBytes(3).toString("hex")}_`,
    HEYGEN_API_KEY: heygen.apiKey,
    HEYGEN_BASE_URL: heygen.baseUrl
  }
  const prefix = ["--table-prefix", env.POLYDUB_TABLE_PREFIX]
  // The simulator's jobs take seconds: read them every second rather than HeyGen's advised 30 s.
  const poll = ["--poll-seconds", "1"]
  const [p1, p2, api] = [yield* Loopback.freePort, yield* Loopback.freePort, yield* Loopback.freePort]
  const worker1 = yield* polydub("worker 1", ["worker", "--port", String(p1), ...prefix, ...poll], env, "Listening on")
  yield* polydub("worker 2", ["worker", "--port", String(p2), ...prefix, ...poll], env, "Listening on")
  yield* polydub("api", ["serve", "--port", String(api), ...prefix], env, "serving the fleet API")
  const base = `http://127.0.0.1:${api}`
  yield* http("GET", `${base}/v1/health`).pipe(
    Effect.catchDefect(() => Effect.succeed({ status: 0, body: "" })),
    Effect.delay("200 millis"),
    Effect.repeat({ until: (r) => r.status === 200, times: 100 })
  )
  yield* Console.log(`${at()}  two workers (:${p1}, :${p2}) and the API (${base}) are up`)

  const created = yield* http("POST", `${base}/v1/translations`, {
    provider: "heygen",
    source: "https://videos.example/keynote.mp4",
    targets: ["es"],
    review: true,
    title: "fleet example"
  })
  const ref = (created.body as { workflows: ReadonlyArray<WorkflowJson> }).workflows[0]!.ref
  yield* Console.log(`${at()}  POST /v1/translations → ${created.status} ${ref}`)

  const read = Effect.map(http("GET", `${base}/v1/workflows/${ref}`), (r) => r.body as WorkflowJson)
  const until = (phase: string) =>
    read.pipe(Effect.delay("300 millis"), Effect.repeat({ until: (w) => w.phase === phase, times: 400 }))
  const awaiting = yield* until("awaiting-review")
  yield* Console.log(`${at()}  ${ref} is ${awaiting.phase} (${awaiting.job?.ref})`)

  const srt = yield* http("GET", `${base}/v1/workflows/${ref}/transcript?format=srt`)
  const revised = String(srt.body).replace(/\n([^\n]+)\n/, "\n$1 (revisado)\n")
  const put = yield* http("PUT", `${base}/v1/workflows/${ref}/transcript`, revised, "application/x-subrip")
  yield* Console.log(`${at()}  transcript read and revised → ${put.status}`)

  worker1.kill("SIGKILL")
  yield* Console.log(`${at()}  worker 1 killed with SIGKILL`)
  const approved = yield* http("POST", `${base}/v1/workflows/${ref}/approve`, {})
  yield* Console.log(`${at()}  POST …/approve → ${approved.status}`)
  const done = yield* until("succeeded")
  yield* Console.log(`${at()}  ${ref} is ${done.phase}: ${done.job?.ref} ${done.job?.state._tag}`)
  yield* Console.log(`${at()}  HeyGen billed ${heygen.jobsByTitle().get("fleet example")} job(s) for it`)
  return { phase: done.phase, billed: heygen.jobsByTitle().get("fleet example") ?? 0 }
}).pipe(Effect.scoped)

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  Effect.runPromise(main.pipe(Effect.provide(Layer.empty))).then(
    () => process.exit(0),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}
