/**
 * Following one job: `watch` is a stream of its distinct states on the provider's advised polling
 * schedule, ending at a resting state; `await` waits for that resting state within a deadline.
 * Reads are retried on retryable errors only (honouring `Retry-After`); anything else surfaces.
 * For many jobs at once under a shared budget, use `JobTracker`.
 */
import { Duration, Effect, Option, Ref, Schema, Stream } from "effect"
import { formatRef, isResting, type Job, type JobRef, JobState, sameState } from "./Job.js"
import { withRetry } from "./Policy.js"
import type { TranslationError } from "./TranslationError.js"
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
  /** Retries of each read on retryable errors. Default 5. */
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

/** The states of one job as they change, ending with the first resting state (included). */
export const watchWith = (
  provider: TranslationProviderService,
  ref: JobRef,
  options: WatchOptions = {}
): Stream.Stream<Job, TranslationError> => {
  const until = options.until ?? isResting
  const interval = options.interval === undefined ? undefined : Duration.fromInputUnsafe(options.interval)
  const read = provider
    .get(ref)
    .pipe(withRetry({ idempotent: true, times: options.retries ?? 5, cap: provider.capabilities.polling.max }))
  return Stream.unfold({ attempt: 0, done: false }, (s) => {
    if (s.done) return Effect.undefined
    const wait = s.attempt === 0 ? Effect.void : Effect.sleep(interval ?? advisedDelay(provider, s.attempt))
    return wait.pipe(
      Effect.andThen(read),
      Effect.map((job) => [job, { attempt: s.attempt + 1, done: until(job.state) }] as const)
    )
  }).pipe(Stream.changesWith((a, b) => sameState(a.state, b.state)))
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
