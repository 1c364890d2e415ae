/**
 * Where a `JobTracker` keeps what must survive a restart: the tracked references with their last
 * states, and the idempotency keys of submissions still in flight (so a resubmission after a crash
 * replays instead of paying twice). A memory store for tests and short-lived programs, and a file
 * store — one JSON document — for the CLI and applications, safe to share between processes.
 *
 * The file store applies each change to the document as it is on disk, under a lock file: several
 * processes (concurrent `polydub` runs, a tracker beside the CLI) each add their own keys and jobs
 * without overwriting the others'. One record it cannot read (an id an older version let through,
 * a hand edit) is skipped and reported, never dropped: it stays in the file, untouched, so a
 * pending idempotency key is never lost to it, and every other record still loads.
 */

import { randomBytes } from "node:crypto"
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync
} from "node:fs"
import { hostname } from "node:os"
import { dirname } from "node:path"
import { threadId } from "node:worker_threads"
import { Context, Duration, Effect, Layer, Result, Schedule, Schema } from "effect"
import { type Job, JobJson, parseRefOption, refIdentity } from "./Job.js"

/** A submission whose vendor answer has not been recorded yet. */
export const PendingSubmission = Schema.Struct({
  idempotencyKey: Schema.String,
  provider: Schema.String,
  targets: Schema.Array(Schema.String),
  startedAt: Schema.Finite,
  /**
   * What identifies the request (source, targets, options), so a rerun can reuse the key. The CLI
   * keeps a hash here, never the source itself (a URL may carry an access token).
   */
  fingerprint: Schema.optionalKey(Schema.String)
})
export type PendingSubmission = typeof PendingSubmission.Type

const PendingJson = Schema.toCodecJson(PendingSubmission)

/** A record of the store that does not decode: skipped when loading, kept in the file as it is. */
export interface UnreadableRecord {
  readonly section: "jobs" | "pending"
  /** Its position in its section of the document. */
  readonly index: number
  /** Why it does not decode. */
  readonly reason: string
  /** The record as stored. */
  readonly record: unknown
}

/** What a store holds. */
export interface Contents {
  readonly jobs: ReadonlyArray<Job>
  readonly pending: ReadonlyArray<PendingSubmission>
  /** Records that could not be read (file store only); they are kept, untouched, in the file. */
  readonly unreadable?: ReadonlyArray<UnreadableRecord> | undefined
}

/** A store failed to read or write. */
export class JobStoreError extends Schema.TaggedError<JobStoreError>()("JobStoreError", {
  message: Schema.String
}) {}

export interface JobStoreService {
  /** What the store holds now (the file store reads the file again: other processes may have written it). */
  readonly load: Effect.Effect<Contents, JobStoreError>
  readonly put: (job: Job) => Effect.Effect<void, JobStoreError>
  readonly remove: (ref: string) => Effect.Effect<void, JobStoreError>
  readonly putPending: (submission: PendingSubmission) => Effect.Effect<void, JobStoreError>
  readonly removePending: (idempotencyKey: string) => Effect.Effect<void, JobStoreError>
}

export class JobStore extends Context.Service<JobStore, JobStoreService>()("@polydub/core/JobStore") {}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

/** A store in process memory. */
export const makeMemory: Effect.Effect<JobStoreService> = Effect.sync(() => {
  const jobs = new Map<string, Job>()
  const pending = new Map<string, PendingSubmission>()
  return {
    load: Effect.sync(() => ({ jobs: [...jobs.values()], pending: [...pending.values()] })),
    put: (job) => Effect.sync(() => void jobs.set(refIdentity(job.ref), job)),
    remove: (ref) => Effect.sync(() => void jobs.delete(String(identityOf(ref)))),
    putPending: (s) => Effect.sync(() => void pending.set(s.idempotencyKey, s)),
    removePending: (key) => Effect.sync(() => void pending.delete(key))
  }
})

export const layerMemory: Layer.Layer<JobStore> = Layer.effect(JobStore, makeMemory)

// ---------------------------------------------------------------------------------------------
// File: the document
// ---------------------------------------------------------------------------------------------

/**
 * The document's frame. Records are checked one by one (`contentsOf`), so that one bad record
 * does not make the whole store unreadable; keys this version does not know are written back.
 */
const Frame = Schema.Struct({
  version: Schema.Literal(1),
  jobs: Schema.Array(Schema.Unknown),
  pending: Schema.Array(Schema.Unknown)
})

interface Document {
  readonly [key: string]: unknown
  readonly version: 1
  readonly jobs: ReadonlyArray<unknown>
  readonly pending: ReadonlyArray<unknown>
}

const emptyDocument: Document = { version: 1, jobs: [], pending: [] }

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const firstLine = (text: string): string => text.split("\n")[0] ?? text

/** A Schema error's message on one line ("Expected number at ["startedAt"]"). */
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ")

/**
 * Reads the document at `path`: `undefined` only when there is no file (`ENOENT`). Any other
 * failure — a directory, a permission, a loop of links, a file that is not JSON or not a store — is
 * an error, so that a store that exists is never taken for an empty one and replaced.
 */
const readDocument = (path: string): Document | undefined => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined
    throw new JobStoreError({ message: `cannot read ${path}: ${messageOf(error)}` })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new JobStoreError({ message: `${path} is not JSON; move it aside to start afresh` })
  }
  const frame = Schema.decodeUnknownResult(Frame)(json)
  if (Result.isFailure(frame)) {
    throw new JobStoreError({
      message: `${path} is not a polydub job store: ${firstLine(frame.failure.message)}`
    })
  }
  // The frame checked, the object itself is kept: its other keys are written back as they are.
  return json as Document
}

const decodeJob = Schema.decodeUnknownResult(JobJson)
const decodePending = Schema.decodeUnknownResult(PendingJson)

/** The records of a document that decode, and the ones that do not. */
const contentsOf = (document: Document): Contents & { readonly unreadable: ReadonlyArray<UnreadableRecord> } => {
  const jobs = new Map<string, Job>()
  const pending = new Map<string, PendingSubmission>()
  const unreadable: Array<UnreadableRecord> = []
  document.jobs.forEach((record, index) => {
    const job = decodeJob(record)
    if (Result.isSuccess(job)) jobs.set(refIdentity(job.success.ref), job.success)
    else unreadable.push({ section: "jobs", index, reason: oneLine(job.failure.message), record })
  })
  document.pending.forEach((record, index) => {
    const submission = decodePending(record)
    if (Result.isSuccess(submission)) pending.set(submission.success.idempotencyKey, submission.success)
    else unreadable.push({ section: "pending", index, reason: oneLine(submission.failure.message), record })
  })
  return { jobs: [...jobs.values()], pending: [...pending.values()], unreadable }
}

/**
 * The job a stored reference names (`provider:kind:id`): a reference printed with its language and
 * API version is the same record as the plain form an earlier version stored.
 */
const identityOf = (ref: unknown): unknown => {
  if (typeof ref !== "string") return ref
  const parsed = parseRefOption(ref)
  return parsed._tag === "Some" ? refIdentity(parsed.value) : ref
}

const field = (record: unknown, name: string): unknown =>
  typeof record === "object" && record !== null ? (record as Record<string, unknown>)[name] : undefined

/** `records` with `next` in place of the first record `matches` accepts (the others dropped), or appended. */
const upsert = (
  records: ReadonlyArray<unknown>,
  matches: (record: unknown) => boolean,
  next: unknown
): ReadonlyArray<unknown> => {
  let placed = false
  const out: Array<unknown> = []
  for (const record of records) {
    if (!matches(record)) out.push(record)
    else if (!placed) {
      out.push(next)
      placed = true
    }
  }
  if (!placed) out.push(next)
  return out
}

/** One change, applied to the document as found on disk; `undefined` when it changes nothing. */
type Change = (document: Document) => Document | undefined

const removing =
  (section: "jobs" | "pending", name: string, value: string): Change =>
  (document) => {
    const kept = document[section].filter((record) => field(record, name) !== value)
    return kept.length === document[section].length ? undefined : { ...document, [section]: kept }
  }

// ---------------------------------------------------------------------------------------------
// File: writing under a lock
// ---------------------------------------------------------------------------------------------

/** The lock file is taken by someone else: retried after a pause. */
class LockBusy extends Schema.TaggedError<LockBusy>()("LockBusy", { message: Schema.String }) {}

/** Who holds a lock, as written into the lock file. */
interface Holder {
  readonly pid: number
  readonly thread: number
  readonly host: string
  readonly at: number
}

const holderOf = (text: string): Holder | undefined => {
  try {
    const json: unknown = JSON.parse(text)
    const pid = field(json, "pid")
    const thread = field(json, "thread")
    const host = field(json, "host")
    const at = field(json, "at")
    return typeof pid === "number" && typeof thread === "number" && typeof host === "string" && typeof at === "number"
      ? { pid, thread, host, at }
      : undefined
  } catch {
    return undefined
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return codeOf(error) === "EPERM"
  }
}

/**
 * A writer holds the lock for one read, one small write and two `fsync`s: milliseconds. A lock
 * older than `staleAfterMs` whose process is gone (or is this very thread, which never holds the
 * lock across a wait: a predecessor that crashed with the same pid, as a container's pid 1 does)
 * was left by a crash. Past `abandonedAfterMs` it is stale whoever wrote it: that covers a reused
 * pid and a writer on another host, whose pid cannot be checked from here.
 */
const staleAfterMs = 5_000
const abandonedAfterMs = 120_000

const isStale = (holder: Holder | undefined, ageMs: number): boolean => {
  if (ageMs >= abandonedAfterMs) return true
  if (holder === undefined || ageMs < staleAfterMs || holder.host !== hostname()) return false
  if (holder.pid === process.pid) return holder.thread === threadId
  return !isAlive(holder.pid)
}

/**
 * Breaks the lock if it is stale. It is first renamed aside, which only one process can do; if what
 * was moved is not the lock judged stale (it was released and taken again meanwhile), it is linked
 * back, which fails rather than replace a lock taken in the meantime.
 */
const breakIfStale = (lock: string): Holder | undefined => {
  let text: string
  let modified: number
  try {
    text = readFileSync(lock, "utf8")
    modified = statSync(lock).mtimeMs
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined
    throw new JobStoreError({ message: `cannot read the lock ${lock}: ${messageOf(error)}` })
  }
  const holder = holderOf(text)
  if (!isStale(holder, Date.now() - (holder?.at ?? modified))) return holder
  const aside = `${lock}.${process.pid}.${randomBytes(4).toString("hex")}.stale`
  try {
    renameSync(lock, aside)
  } catch {
    return holder // released or broken by another process meanwhile
  }
  try {
    if (readFileSync(aside, "utf8") !== text) linkSync(aside, lock)
  } catch {
    // A new lock was taken meanwhile: it stays.
  }
  try {
    unlinkSync(aside)
  } catch {
    // Already gone.
  }
  return undefined
}

/** Runs `body` holding `path`'s lock file, or fails with `LockBusy` when another writer has it. */
const withLock = <A>(path: string, body: () => A): A => {
  const lock = `${path}.lock`
  const token = JSON.stringify({ pid: process.pid, thread: threadId, host: hostname(), at: Date.now() })
  let fd: number
  try {
    fd = openSync(lock, "wx", 0o600)
  } catch (error) {
    if (codeOf(error) !== "EEXIST") throw new JobStoreError({ message: `cannot lock ${path}: ${messageOf(error)}` })
    const holder = breakIfStale(lock)
    throw new LockBusy({
      message:
        holder === undefined
          ? `${path} is locked by another writer`
          : `${path} is locked by process ${holder.pid} on ${holder.host} since ${new Date(holder.at).toISOString()}; ` +
            `if no polydub is running there, delete ${lock}`
    })
  }
  try {
    try {
      writeFileSync(fd, token)
    } finally {
      closeSync(fd)
    }
    return body()
  } finally {
    try {
      if (readFileSync(lock, "utf8") === token) unlinkSync(lock)
    } catch {
      // Broken as stale by another process (this one was stopped past `staleAfterMs`): not ours to remove.
    }
  }
}

/** Makes the rename itself durable where the platform allows opening a directory. */
const syncDirectory = (directory: string): void => {
  let fd: number | undefined
  try {
    fd = openSync(directory, "r")
    fsyncSync(fd)
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** Replaces `path` with `document`: a private temporary file, flushed to disk, renamed into place. */
const writeDocument = (path: string, document: Document): void => {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`
  try {
    const fd = openSync(temporary, "wx", 0o600)
    try {
      writeFileSync(fd, `${JSON.stringify(document)}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, path)
  } catch (error) {
    try {
      unlinkSync(temporary)
    } catch {
      // Not created, or already renamed.
    }
    throw new JobStoreError({ message: `cannot write ${path}: ${messageOf(error)}` })
  }
  syncDirectory(dirname(path))
}

// Short pauses first (a writer holds the lock for milliseconds), longer ones while a stale lock
// ages past `staleAfterMs`; given up after 30 seconds.
const lockSchedule = Schedule.exponential("5 millis", 1.5).pipe(
  Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.millis(250)))),
  Schedule.jittered,
  Schedule.upTo({ duration: "30 seconds" })
)

/**
 * Applies `change` to the document on disk: under the lock, re-read the file, apply, write. The
 * whole step is synchronous, so two fibers of one process never interleave inside it; the lock
 * orders the processes.
 */
const mutate = (path: string, change: Change): Effect.Effect<void, JobStoreError> =>
  Effect.try({
    try: () => {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
      withLock(path, () => {
        const next = change(readDocument(path) ?? emptyDocument)
        if (next !== undefined) writeDocument(path, next)
      })
    },
    catch: (error) =>
      error instanceof JobStoreError || error instanceof LockBusy
        ? error
        : new JobStoreError({ message: `cannot write ${path}: ${messageOf(error)}` })
  }).pipe(
    Effect.retry({ while: (error) => error._tag === "LockBusy", schedule: lockSchedule }),
    Effect.mapError((error) => (error._tag === "LockBusy" ? new JobStoreError({ message: error.message }) : error))
  )

const read = (path: string): Effect.Effect<Document | undefined, JobStoreError> =>
  Effect.try({
    try: () => readDocument(path),
    catch: (error) =>
      error instanceof JobStoreError
        ? error
        : new JobStoreError({ message: `cannot read ${path}: ${messageOf(error)}` })
  })

const encodeJob = Schema.encodeEffect(JobJson)
const encodePending = Schema.encodeEffect(PendingJson)

/**
 * A store in one JSON file, shared safely by processes. Every change takes the lock file
 * (`<path>.lock`), re-reads the document, applies just that change (a job or a pending key put or
 * removed), writes a temporary file (mode 0600), flushes it and renames it into place: a crash
 * leaves the old document or the new one, and no writer overwrites another's records. The folder
 * is created with mode 0700. `load` reads the file each time.
 *
 * Only a missing file is an empty store; a file that cannot be read, or is not a store, fails here
 * and on every write, and is never replaced.
 */
export const makeFile = (path: string): Effect.Effect<JobStoreService, JobStoreError> =>
  Effect.map(read(path), () => {
    const encodeError = (e: { readonly message: string }) =>
      new JobStoreError({ message: `cannot encode a record of ${path}: ${e.message}` })
    return {
      load: Effect.flatMap(read(path), (document) => {
        const contents = contentsOf(document ?? emptyDocument)
        return Effect.as(
          Effect.forEach(contents.unreadable, (u) =>
            Effect.logWarning(
              `job store ${path}: ${u.section}[${u.index}] cannot be read and is kept as it is: ${u.reason}`
            )
          ),
          contents
        )
      }),
      put: (job) =>
        Effect.flatMap(Effect.mapError(encodeJob(job), encodeError), (record) => {
          const key = refIdentity(job.ref)
          return mutate(path, (document) => ({
            ...document,
            jobs: upsert(document.jobs, (r) => identityOf(field(r, "ref")) === key, record)
          }))
        }),
      remove: (ref) =>
        mutate(path, (document) => {
          const key = identityOf(ref)
          const kept = document.jobs.filter((record) => identityOf(field(record, "ref")) !== key)
          return kept.length === document.jobs.length ? undefined : { ...document, jobs: kept }
        }),
      putPending: (submission) =>
        Effect.flatMap(Effect.mapError(encodePending(submission), encodeError), (record) =>
          mutate(path, (document) => ({
            ...document,
            pending: upsert(document.pending, (r) => field(r, "idempotencyKey") === submission.idempotencyKey, record)
          }))
        ),
      removePending: (key) => mutate(path, removing("pending", "idempotencyKey", key))
    }
  })

export const layerFile = (path: string): Layer.Layer<JobStore, JobStoreError> => Layer.effect(JobStore, makeFile(path))
