/**
 * Where a `JobTracker` keeps what must survive a restart: the tracked references with their last
 * states, and the idempotency keys of submissions still in flight (so a resubmission after a crash
 * replays instead of paying twice). A memory store for tests and short-lived programs, and a file
 * store — one JSON document, replaced atomically — for the CLI and single-process applications.
 */

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { Job } from "./Job.js"

/** A submission whose vendor answer has not been recorded yet. */
export const PendingSubmission = Schema.Struct({
  idempotencyKey: Schema.String,
  provider: Schema.String,
  targets: Schema.Array(Schema.String),
  startedAt: Schema.Finite,
  /** What identifies the request (source, targets, options), so a rerun can reuse the key. */
  fingerprint: Schema.optionalKey(Schema.String)
})
export type PendingSubmission = typeof PendingSubmission.Type

const Document = Schema.Struct({
  version: Schema.Literal(1),
  jobs: Schema.Array(Job),
  pending: Schema.Array(PendingSubmission)
})
const DocumentJson = Schema.toCodecJson(Document)

/** A store failed to read or write. */
export class JobStoreError extends Schema.TaggedError<JobStoreError>()("JobStoreError", {
  message: Schema.String
}) {}

export interface JobStoreService {
  readonly load: Effect.Effect<
    { readonly jobs: ReadonlyArray<Job>; readonly pending: ReadonlyArray<PendingSubmission> },
    JobStoreError
  >
  readonly put: (job: Job) => Effect.Effect<void, JobStoreError>
  readonly remove: (ref: string) => Effect.Effect<void, JobStoreError>
  readonly putPending: (submission: PendingSubmission) => Effect.Effect<void, JobStoreError>
  readonly removePending: (idempotencyKey: string) => Effect.Effect<void, JobStoreError>
}

export class JobStore extends Context.Service<JobStore, JobStoreService>()("@polydub/core/JobStore") {}

interface State {
  readonly jobs: Map<string, Job>
  readonly pending: Map<string, PendingSubmission>
}

const makeWith = (state: State, persist: Effect.Effect<void, JobStoreError>): JobStoreService => ({
  load: Effect.sync(() => ({ jobs: [...state.jobs.values()], pending: [...state.pending.values()] })),
  put: (job) =>
    Effect.suspend(() => {
      state.jobs.set(String(job.ref), job)
      return persist
    }),
  remove: (ref) => Effect.suspend(() => (state.jobs.delete(ref) ? persist : Effect.void)),
  putPending: (s) =>
    Effect.suspend(() => {
      state.pending.set(s.idempotencyKey, s)
      return persist
    }),
  removePending: (key) => Effect.suspend(() => (state.pending.delete(key) ? persist : Effect.void))
})

/** A store in process memory. */
export const makeMemory: Effect.Effect<JobStoreService> = Effect.sync(() =>
  makeWith({ jobs: new Map(), pending: new Map() }, Effect.void)
)

export const layerMemory: Layer.Layer<JobStore> = Layer.effect(JobStore, makeMemory)

const readDocument = (path: string): Option.Option<string> => {
  try {
    return Option.some(readFileSync(path, "utf8"))
  } catch {
    return Option.none()
  }
}

/**
 * A store in one JSON file. Every change rewrites the file through a temporary file and a rename,
 * so a crash leaves either the old document or the new one, never half of one.
 */
export const makeFile = (path: string): Effect.Effect<JobStoreService, JobStoreError> =>
  Effect.gen(function* () {
    const state: State = { jobs: new Map(), pending: new Map() }
    const text = readDocument(path)
    if (Option.isSome(text)) {
      const decoded = yield* Effect.try({
        try: () => JSON.parse(text.value) as unknown,
        catch: () => new JobStoreError({ message: `${path} is not JSON; move it aside to start afresh` })
      }).pipe(
        Effect.flatMap((json) =>
          Schema.decodeUnknownEffect(DocumentJson)(json).pipe(
            Effect.mapError(
              (e) => new JobStoreError({ message: `${path} is not a polydub job store: ${e.message.split("\n")[0]}` })
            )
          )
        )
      )
      for (const job of decoded.jobs) state.jobs.set(String(job.ref), job)
      for (const p of decoded.pending) state.pending.set(p.idempotencyKey, p)
    }
    // Suspended: the document is taken from the state as it is when the write runs.
    const persist = Effect.suspend(() =>
      Schema.encodeEffect(DocumentJson)({
        version: 1,
        jobs: [...state.jobs.values()],
        pending: [...state.pending.values()]
      })
    ).pipe(
      Effect.mapError((e) => new JobStoreError({ message: `cannot encode the job store: ${e.message}` })),
      Effect.flatMap((document) =>
        Effect.try({
          try: () => {
            mkdirSync(dirname(path), { recursive: true })
            const temporary = `${path}.${process.pid}.tmp`
            writeFileSync(temporary, `${JSON.stringify(document)}\n`)
            renameSync(temporary, path)
          },
          catch: (e) => new JobStoreError({ message: `cannot write ${path}: ${String(e)}` })
        })
      )
    )
    return makeWith(state, persist)
  })

export const layerFile = (path: string): Layer.Layer<JobStore, JobStoreError> => Layer.effect(JobStore, makeFile(path))
