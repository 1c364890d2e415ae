/**
 * Following one job: `watch` is a stream of its distinct states on the provider's advised polling
 * schedule, ending at a resting state; `await` waits for that resting state within a deadline.
 *
 * A poll is one read, and the provider's client is the one place that retries a read (its own
 * `retries`, with backoff and `Retry-After`). The watch adds no retry around it: stacked on the
 * client's, a retry here turned one poll into up to 18 requests. A poll that still fails with a
 * retryable error is simply polled again at the next tick of the schedule, or after the vendor's
 * `Retry-After` if that is later; `retries` failed polls in a row surface the last error, and a
 * non-retryable error surfaces at once. For many jobs at once under a shared budget, use `JobTracker`.
 */
import { Duration, Effect, Option, Ref, Schema, Stream } from "effect"
import { formatRef, isResting, type Job, type JobRef, JobState, sameState } from "./Job.js"
import { shouldRetry } from "./Policy.js"
import { retryAfterOf, type TranslationError } from "./TranslationError.js"
import { TranslationProvider, type TranslationProviderService } from "./TranslationProvider.js"

/** The job did not reach the awaited state in time. The job itself is untouched and still running. */
export class DeadlineExceeded extends Schema.TaggedError<DeadlineExceeded>()("DeadlineExceeded", {
  ref: Schema.String,
  waited: Schema.Duration,
  lastState: Schema.optionalKey(JobState),
  message: Schema.String
}) {}

export interface WatchOptions {
  /** Fixed polling interval; by default the provider's advised schedule (growing from its initial delay). */
  readonly interval?: Duration.Input | undefined
  /** When to stop; by default at any resting state (`AwaitingReview`, `Succeeded`, `Failed`, `Removed`). */
  readonly until?: ((state: JobState) => boolean) | undefined
  /**
   * Failed polls in a row tolerated before the error surfaces. Each poll is one read, which the
   * provider's client already retries (its own `retries` option); a poll that still fails with a
   * retryable error is polled again at the next tick (or after `Retry-After`, if later). Non-retryable
   * errors surface at once; 0 surfaces every failure. Default 5.
   */
  readonly retries?: number | undefined
}

export interface AwaitOptions extends WatchOptions {
  /** How long to wait in all. Default 2 hours. */
  readonly deadline?: Duration.Input | undefined
}

/** The advised delay before poll number `attempt` (1-based), growing ×1.5 from `initial` up to `max`. */
export const advisedDelay = (provider: TranslationProviderService, attempt: number): Duration.Duration => {
  const { initial, max } = provider.capabilities.polling
  const millis = Duration.toMillis(initial) * 1.5 ** Math.max(0, attempt - 1)
  return Duration.millis(Math.min(Duration.toMillis(max), millis))
}

interface Polls {
  /** Polls made so far. */
  readonly attempt: number
  /** Of those, the last ones that failed, in a row. */
  readonly failed: number
  /** The vendor's `Retry-After` from the last failed poll, if it gave one. */
  readonly retryAfter: Duration.Duration | undefined
}

/** The states of one job as they change, ending with the first resting state (included). */
export const watchWith = (
  provider: TranslationProviderService,
  ref: JobRef,
  options: WatchOptions = {}
): Stream.Stream<Job, TranslationError> => {
  const until = options.until ?? isResting
  const interval = options.interval === undefined ? undefined : Duration.fromInputUnsafe(options.interval)
  const tolerated = Math.max(0, Math.floor(options.retries ?? 5))
  const delayBefore = (s: Polls): Duration.Duration => {
    const scheduled = interval ?? advisedDelay(provider, s.attempt)
    return s.retryAfter === undefined ? scheduled : Duration.max(scheduled, s.retryAfter)
  }
  const poll = (s: Polls) =>
    (s.attempt === 0 ? Effect.void : Effect.sleep(delayBefore(s))).pipe(
      Effect.andThen(Effect.result(provider.get(ref))),
      Effect.flatMap((read): Effect.Effect<readonly [ReadonlyArray<Job>, Option.Option<Polls>], TranslationError> => {
        const attempt = s.attempt + 1
        if (read._tag === "Success") {
          const job = read.success
          const next = until(job.state) ? Option.none() : Option.some({ attempt, failed: 0, retryAfter: undefined })
          return Effect.succeed([[job], next] as const)
        }
        // The client has spent its retries on this read; the watch only decides whether to poll again.
        const error = read.failure
        if (s.failed >= tolerated || !shouldRetry(error, { idempotent: true })) return Effect.fail(error)
        return Effect.succeed([[], Option.some({ attempt, failed: s.failed + 1, retryAfter: retryAfterOf(error) })])
      })
    )
  const first: Polls = { attempt: 0, failed: 0, retryAfter: undefined }
  return Stream.paginate(first, poll).pipe(Stream.changesWith((a, b) => sameState(a.state, b.state)))
}

/** Like `watchWith`, on the `TranslationProvider` in context. */
export const watch = (ref: JobRef, options?: WatchOptions): Stream.Stream<Job, TranslationError, TranslationProvider> =>
  Stream.unwrap(Effect.map(TranslationProvider, (provider) => watchWith(provider, ref, options)))

/** Waits for the job's next resting state, or `DeadlineExceeded`. */
export const awaitWith = (
  provider: TranslationProviderService,
  ref: JobRef,
  options: AwaitOptions = {}
): Effect.Effect<Job, TranslationError | DeadlineExceeded> =>
  Effect.gen(function* () {
    const deadline = Duration.fromInputUnsafe(options.deadline ?? Duration.hours(2))
    const last = yield* Ref.make(Option.none<Job>())
    const run = watchWith(provider, ref, options).pipe(
      Stream.tap((job) => Ref.set(last, Option.some(job))),
      Stream.runLast
    )
    return yield* run.pipe(
      Effect.timeoutOrElse({
        duration: deadline,
        orElse: () =>
          Effect.flatMap(Ref.get(last), (seen) => {
            const lastState = Option.map(seen, (job) => job.state)
            return Effect.fail(
              new DeadlineExceeded({
                ref: formatRef(ref),
                waited: deadline,
                ...(Option.isSome(lastState) ? { lastState: lastState.value } : {}),
                message:
                  `${formatRef(ref)} did not settle within ${Duration.format(deadline)}` +
                  (Option.isSome(lastState) ? ` (last state: ${lastState.value._tag})` : "") +
                  "; the job is still running at the vendor"
              })
            )
          })
      }),
      Effect.flatMap(
        Option.match({
          onNone: () => Effect.die(new Error(`watch of ${formatRef(ref)} ended without a state`)),
          onSome: Effect.succeed
        })
      )
    )
  }).pipe(Effect.withSpan("Jobs.await", { attributes: { "polydub.ref": formatRef(ref) } }))

/** Waits for the job's next resting state on the `TranslationProvider` in context. */
const await_ = (
  ref: JobRef,
  options?: AwaitOptions
): Effect.Effect<Job, TranslationError | DeadlineExceeded, TranslationProvider> =>
  Effect.flatMap(TranslationProvider, (provider) => awaitWith(provider, ref, options))

export { await_ as await }
