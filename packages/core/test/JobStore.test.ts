// The file job store: shared by processes without losing a record, never replacing a store it
// cannot read, loading around one bad record, private on disk, and recovering a crashed writer's lock.

import { spawn } from "node:child_process"
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync
} from "node:fs"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Job, JobRef, JobStore, State, toJson } from "@polydub/core"
import { DateTime, Effect, Fiber } from "effect"

const tempStore = () => join(mkdtempSync(join(tmpdir(), "polydub-jobstore-")), "jobs.json")

const jobOf = (id: string) =>
  new Job({
    ref: new JobRef({ provider: "heygen", kind: "translation", id }),
    language: "es",
    state: State.queued(),
    providerStatus: "pending",
    observedAt: DateTime.makeUnsafe(1_700_000_000_000)
  })

const pendingOf = (key: string) => ({ idempotencyKey: key, provider: "heygen", targets: ["es"], startedAt: 1 })

const root = fileURLToPath(new URL("../../../", import.meta.url))

/**
 * A separate `node` process running `code` on the sources (`scripts/sources.mjs`), from this
 * package's folder so that `effect` resolves; resolves with its exit code and stderr.
 */
const node = (code: string, args: ReadonlyArray<string>) =>
  Effect.callback<{ readonly code: number | null; readonly stderr: string }>((resume) => {
    const child = spawn(
      process.execPath,
      ["--import", join(root, "scripts/sources.mjs"), "--input-type=module", "-e", code, ...args],
      { cwd: join(root, "packages/core"), stdio: ["ignore", "ignore", "pipe"] }
    )
    let stderr = ""
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk)
    })
    child.on("close", (code) => resume(Effect.succeed({ code, stderr })))
    return Effect.sync(() => child.kill())
  })

// One long-lived store per process, as a tracker keeps one: `count` pending keys put one by one,
// starting together at `startAt` so that the two processes' writes interleave.
const writer = `
import { Effect } from "effect"
import { JobStore } from "@polydub/core"
const [path, prefix, count, startAt] = process.argv.slice(1)
const store = await Effect.runPromise(JobStore.makeFile(path))
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())))
for (let i = 0; i < Number(count); i++) {
  await Effect.runPromise(
    store.putPending({ idempotencyKey: prefix + "-" + i, provider: "heygen", targets: ["es"], startedAt: Date.now() })
  )
}
`

/** The pid of a process that has exited. */
const deadPid = Effect.callback<number>((resume) => {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" })
  child.on("exit", () => resume(Effect.succeed(child.pid!)))
})

describe("JobStore.makeFile", () => {
  it.live(
    "two processes each putting 100 pending keys into one store end with all 200",
    () =>
      Effect.gen(function* () {
        const path = tempStore()
        const startAt = String(Date.now() + 2500)
        const [a, b] = yield* Effect.all(
          [node(writer, [path, "a", "100", startAt]), node(writer, [path, "b", "100", startAt])],
          { concurrency: 2 }
        )
        assert.strictEqual(a!.code, 0, a!.stderr)
        assert.strictEqual(b!.code, 0, b!.stderr)
        const { pending } = yield* Effect.flatMap(JobStore.makeFile(path), (s) => s.load)
        const keys = new Set(pending.map((p) => p.idempotencyKey))
        console.log(`store: 2 processes writing 100 pending keys each to one file: ${keys.size} of 200 kept`)
        assert.strictEqual(keys.size, 200, `kept ${keys.size} of 200 keys`)
        for (const prefix of ["a", "b"]) for (let i = 0; i < 100; i++) assert.isTrue(keys.has(`${prefix}-${i}`))
      }),
    60_000
  )

  it.live("a long-lived store sees what other stores on the file wrote, and keeps it", () =>
    Effect.gen(function* () {
      const path = tempStore()
      const first = yield* JobStore.makeFile(path)
      const second = yield* JobStore.makeFile(path)
      yield* first.put(jobOf("one-es"))
      yield* second.put(jobOf("two-es"))
      yield* first.putPending(pendingOf("k1"))
      yield* second.removePending("k1")
      yield* first.put(jobOf("three-es"))
      const seen = yield* first.load
      assert.deepStrictEqual(seen.jobs.map((j) => j.ref.id).sort(), ["one-es", "three-es", "two-es"])
      assert.deepStrictEqual(seen.pending, [])
    })
  )

  it.live("a store that cannot be read is an error, and is never replaced", () =>
    Effect.gen(function* () {
      // Tests may run as root, which reads through any file mode: the failures here are a folder
      // and a loop of symbolic links where the file should be.
      const folder = tempStore()
      mkdirSync(folder)
      const error = yield* Effect.flip(JobStore.makeFile(folder))
      assert.strictEqual(error._tag, "JobStoreError")
      assert.include(error.message, "EISDIR")
      assert.isTrue(statSync(folder).isDirectory())

      const loop = tempStore()
      symlinkSync(loop, loop)
      assert.include((yield* Effect.flip(JobStore.makeFile(loop))).message, "ELOOP")
      assert.isTrue(lstatSync(loop).isSymbolicLink(), "the link was replaced by a file")

      // A store that became unreadable after it was opened: writes fail, and nothing is replaced.
      const later = tempStore()
      const store = yield* JobStore.makeFile(later)
      yield* store.put(jobOf("one-es"))
      writeFileSync(later, "{ not json")
      const failed = yield* Effect.flip(store.put(jobOf("two-es")))
      assert.include(failed.message, "not JSON")
      assert.include((yield* Effect.flip(store.load)).message, "not JSON")
      assert.strictEqual(readFileSync(later, "utf8"), "{ not json")
    })
  )

  it.live("one record that does not decode is skipped and kept; the others load and pending keys survive", () =>
    Effect.gen(function* () {
      const path = tempStore()
      const good = (id: string) => toJson(jobOf(id)) as Record<string, unknown>
      // What an earlier version could write: a vendor id with a line break, printed into its ref.
      const bad = { ...good("x-es"), ref: "heygen:translation:abc\ndef-es" }
      const badPending = { idempotencyKey: "k-bad", provider: "heygen", targets: ["es"], startedAt: "yesterday" }
      writeFileSync(
        path,
        JSON.stringify({
          version: 1,
          jobs: [good("one-es"), bad, good("two-es")],
          pending: [pendingOf("k1"), badPending, pendingOf("k2")]
        })
      )
      const store = yield* JobStore.makeFile(path)
      const loaded = yield* store.load
      assert.deepStrictEqual(loaded.jobs.map((j) => j.ref.id).sort(), ["one-es", "two-es"])
      assert.deepStrictEqual(loaded.pending.map((p) => p.idempotencyKey).sort(), ["k1", "k2"])
      assert.deepStrictEqual(
        loaded.unreadable?.map((u) => [u.section, u.index]),
        [
          ["jobs", 1],
          ["pending", 1]
        ]
      )
      // Later writes keep the bad records exactly as they were.
      yield* store.put(jobOf("three-es"))
      yield* store.removePending("k1")
      const saved = JSON.parse(readFileSync(path, "utf8"))
      assert.deepStrictEqual(saved.jobs[1], bad)
      assert.deepStrictEqual(
        saved.pending.map((p: { idempotencyKey: string }) => p.idempotencyKey),
        ["k-bad", "k2"]
      )
      assert.strictEqual(saved.jobs.length, 4)
    })
  )

  it.live("creates its folder 0700 and its file 0600", () =>
    Effect.gen(function* () {
      const folder = join(mkdtempSync(join(tmpdir(), "polydub-jobstore-")), "private", ".polydub")
      const path = join(folder, "jobs.json")
      const store = yield* JobStore.makeFile(path)
      yield* store.putPending(pendingOf("k1"))
      assert.strictEqual((statSync(folder).mode & 0o777).toString(8), "700")
      assert.strictEqual((statSync(path).mode & 0o777).toString(8), "600")
      // A store an earlier version wrote world-readable is private after the next write.
      writeFileSync(path, readFileSync(path), { mode: 0o644 })
      yield* store.put(jobOf("one-es"))
      assert.strictEqual((statSync(path).mode & 0o777).toString(8), "600")
    })
  )

  it.live("a write waits for a writer that holds the lock", () =>
    Effect.gen(function* () {
      const path = tempStore()
      const store = yield* JobStore.makeFile(path)
      // Held by a live process (this one's parent), taken just now.
      writeFileSync(
        `${path}.lock`,
        JSON.stringify({ pid: process.ppid, thread: 0, host: "elsewhere", at: Date.now() }),
        { mode: 0o600 }
      )
      const put = yield* Effect.forkChild(store.putPending(pendingOf("k1")))
      yield* Effect.sleep(300)
      assert.isUndefined(put.pollUnsafe(), "wrote while the lock was held")
      yield* Effect.sync(() =>
        writeFileSync(path, JSON.stringify({ version: 1, jobs: [], pending: [pendingOf("k0")] }))
      )
      yield* Effect.sync(() => unlinkSync(`${path}.lock`))
      yield* Fiber.join(put)
      const { pending } = yield* store.load
      assert.deepStrictEqual(pending.map((p) => p.idempotencyKey).sort(), ["k0", "k1"])
    })
  )

  it.live("a lock left by a writer that died is broken; the write goes through", () =>
    Effect.gen(function* () {
      const path = tempStore()
      const store = yield* JobStore.makeFile(path)
      const dead = yield* deadPid
      writeFileSync(
        `${path}.lock`,
        JSON.stringify({ pid: dead, thread: 0, host: hostname(), at: Date.now() - 60_000 }),
        { mode: 0o600 }
      )
      yield* store.putPending(pendingOf("k1")).pipe(Effect.timeout("5 seconds"))
      assert.deepStrictEqual(
        (yield* store.load).pending.map((p) => p.idempotencyKey),
        ["k1"]
      )
      assert.isFalse(existsSync(`${path}.lock`))
    })
  )
})

describe("references that carry their language", () => {
  it.effect("are the same record as the plain form an earlier version stored", () =>
    Effect.gen(function* () {
      const path = tempStore()
      const store = yield* JobStore.makeFile(path)
      const plain = jobOf("abc-es")
      yield* store.put(plain)
      const enriched = new Job({
        ...plain,
        ref: new JobRef({ provider: "heygen", kind: "translation", id: "abc-es", language: "es", apiVersion: "v3" }),
        state: State.running()
      })
      yield* store.put(enriched)
      const { jobs } = yield* store.load
      assert.strictEqual(jobs.length, 1)
      assert.strictEqual(String(jobs[0]!.ref), "heygen@v3:translation/es:abc-es")
      yield* store.remove("heygen:translation:abc-es")
      assert.strictEqual((yield* store.load).jobs.length, 0)
      const memory = yield* JobStore.makeMemory
      yield* memory.put(plain)
      yield* memory.put(enriched)
      assert.strictEqual((yield* memory.load).jobs.length, 1)
    })
  )
})
