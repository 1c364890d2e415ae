/**
 * What `TranslationProvider.submit` answers: one result per target language. A vendor that takes one
 * target per request (or fewer than asked) is sent several requests; when a later one fails, the
 * jobs the earlier ones created are already billed, so they are returned beside the failure instead
 * of being dropped with it. `all` turns the results back into a list of jobs for flows that want
 * every target or none, failing with `SubmissionFailed` — which still carries the accepted jobs —
 * when any target failed.
 */
import { Effect, Result, Schema } from "effect"
import { Job } from "./Job.js"
import { TranslationError } from "./TranslationError.js"

/** The outcome of one target: the job the vendor accepted, or why this target was not. */
export interface TargetResult {
  /** The normalised BCP-47 tag of the target. */
  readonly language: string
  readonly result: Result.Result<Job, TranslationError>
}

/** A target whose vendor request failed. */
export const TargetFailure = Schema.Struct({
  language: Schema.String,
  error: TranslationError
})
export type TargetFailure = typeof TargetFailure.Type

/**
 * Some targets of a submission failed. `accepted` holds the jobs the vendor did create (billed, and
 * to be followed like any other); `failures` says why each other target was not, and whether it may
 * have been processed anyway (`ProviderUnavailable { outcome: "unknown" }`).
 */
export class SubmissionFailed extends Schema.TaggedError<SubmissionFailed>()("SubmissionFailed", {
  accepted: Schema.Array(Job),
  failures: Schema.Array(TargetFailure),
  message: Schema.String
}) {}

/** The jobs the vendor accepted, in target order. */
export const accepted = (results: ReadonlyArray<TargetResult>): ReadonlyArray<Job> =>
  results.flatMap((r) => (Result.isSuccess(r.result) ? [r.result.success] : []))

/** The targets that failed, in target order. */
export const failures = (results: ReadonlyArray<TargetResult>): ReadonlyArray<TargetFailure> =>
  results.flatMap((r) => (Result.isFailure(r.result) ? [{ language: r.language, error: r.result.failure }] : []))

const describe = (results: ReadonlyArray<TargetResult>): string => {
  const failed = failures(results)
  const ok = accepted(results)
  const parts = failed.map((f) => `${f.language}: ${f.error._tag}: ${f.error.message}`)
  return (
    `${failed.length} of ${results.length} targets failed (${parts.join("; ")})` +
    (ok.length === 0 ? "" : `; accepted and billed: ${ok.map((j) => `${j.language} ${j.ref}`).join(", ")}`)
  )
}

/**
 * Every target's job, or a failure. When one vendor request failed for every target (nothing was
 * accepted and all targets share the one error), that error is the failure, as a single request's
 * would be; otherwise `SubmissionFailed`, with the jobs that were accepted.
 */
export const all = <E, R>(
  self: Effect.Effect<ReadonlyArray<TargetResult>, E, R>
): Effect.Effect<ReadonlyArray<Job>, E | TranslationError | SubmissionFailed, R> =>
  Effect.flatMap(self, (results): Effect.Effect<ReadonlyArray<Job>, TranslationError | SubmissionFailed> => {
    const failed = failures(results)
    if (failed.length === 0) return Effect.succeed(accepted(results))
    const first = failed[0]!.error
    if (failed.length === results.length && failed.every((f) => f.error === first)) return Effect.fail(first)
    return Effect.fail(
      new SubmissionFailed({ accepted: accepted(results), failures: failed, message: describe(results) })
    )
  })

/**
 * The job of a one-target submission, or that target's error: with a single target there is no
 * other job to hide. Asking it of a submission with several targets is a bug (use `all`), and dies.
 */
export const single = <E, R>(
  self: Effect.Effect<ReadonlyArray<TargetResult>, E, R>
): Effect.Effect<Job, E | TranslationError, R> =>
  Effect.flatMap(self, (results): Effect.Effect<Job, TranslationError> => {
    if (results.length !== 1) {
      return Effect.die(new Error(`Submission.single on a submission of ${results.length} targets; use Submission.all`))
    }
    const { result } = results[0]!
    return Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(result.failure)
  })
