/**
 * Retry policy shared by every provider. Two rules matter more than backoff shape: a vendor's
 * `Retry-After` is honoured, and a request that may already have been processed is never sent
 * again unless it carries an idempotency key — vendors charge per job.
 */
import { Duration, Effect, Option, Schedule } from "effect"
import { dual } from "effect/Function"
import type { TranslationError } from "./TranslationError.js"

/**
 * Parses a `Retry-After` header: delta-seconds or an HTTP date. `now` is epoch milliseconds.
 * Returns `none` for anything else (negative, garbage, a date in the past yields zero).
 */
export const parseRetryAfter = (header: string | undefined, now: number): Option.Option<Duration.Duration> => {
  if (header === undefined) return Option.none()
  const value = header.trim()
  if (/^\d{1,10}$/.test(value)) return Option.some(Duration.seconds(Number(value)))
  if (!/[a-z]/i.test(value)) return Option.none()
  const at = Date.parse(value)
  if (Number.isNaN(at)) return Option.none()
  return Option.some(Duration.millis(Math.max(0, at - now)))
}

/** What a retry decision needs to know about the request that failed. */
export interface RetryContext {
  /**
   * Whether sending the request again cannot cause a second side effect: a GET, PUT or DELETE,
   * or a POST that carries an idempotency key.
   */
  readonly idempotent: boolean
}

/**
 * Whether an error may be retried for a request. Non-retryable errors never are. A request whose
 * outcome is unknown (a timeout or reset after the bytes went out, a 5xx to a POST) is retried only
 * when idempotent; a 429 or a refused connection means nothing was processed, so it may be.
 */
export const shouldRetry = (error: TranslationError, context: RetryContext): boolean => {
  if (!error.retryable) return false
  if (context.idempotent) return true
  switch (error._tag) {
    case "RateLimited":
      return true
    case "ProviderUnavailable":
      return error.outcome === "not-sent"
    default:
      return false
  }
}

/** Options for `retrySchedule`. */
export interface RetryOptions extends RetryContext {
  /** Retries after the first attempt. Default 2, as HeyGen's own CLI does. */
  readonly times?: number | undefined
  /** First backoff. Default 1 second. */
  readonly base?: Duration.Input | undefined
  /** Longest wait, for backoff and for `Retry-After`. Default 30 seconds. */
  readonly cap?: Duration.Input | undefined
  /** A further condition on a retry, after `shouldRetry` (a vendor's refusal that a retry cannot clear). */
  readonly retryIf?: ((error: TranslationError) => boolean) | undefined
}

const allowed = (error: TranslationError, options: RetryOptions): boolean =>
  shouldRetry(error, options) && (options.retryIf === undefined || options.retryIf(error))

/**
 * A `Schedule` over `TranslationError`s: jittered exponential backoff, waits at least as long as the
 * vendor's `Retry-After`, capped, bounded in count, and stops on anything `shouldRetry` (or the
 * options' `retryIf`) refuses.
 */
export const retrySchedule = (options: RetryOptions) => {
  const cap = Duration.fromInputUnsafe(options.cap ?? Duration.seconds(30))
  return Schedule.exponential(options.base ?? Duration.seconds(1)).pipe(
    Schedule.jittered,
    Schedule.setInputType<TranslationError>(),
    Schedule.modifyDelay(({ duration, input }) => {
      const advised = "retryAfter" in input ? input.retryAfter : undefined
      const wait = advised !== undefined ? Duration.max(duration, advised) : duration
      return Effect.succeed(Duration.min(wait, cap))
    }),
    Schedule.while(({ input }) => allowed(input, options)),
    Schedule.upTo({ times: options.times ?? 2 })
  )
}

/**
 * Runs `effect`, retrying under `retrySchedule(options)`. The first attempt runs bare and the
 * schedule is built only when it fails with an error `shouldRetry` accepts; that failure is then
 * handed to `Effect.retry` as its first attempt, so delays and counts are those of
 * `Effect.retry(effect, retrySchedule(options))`. Building the schedule's state up front cost about
 * 20 µs on every call, nearly all of which succeed at once.
 */
export const withRetry: {
  (options: RetryOptions): <A, E extends TranslationError, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E extends TranslationError, R>(effect: Effect.Effect<A, E, R>, options: RetryOptions): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E extends TranslationError, R>(effect: Effect.Effect<A, E, R>, options: RetryOptions): Effect.Effect<A, E, R> =>
    Effect.catch(effect, (first) => {
      if ((options.times ?? 2) < 1 || !allowed(first, options)) return Effect.fail(first)
      let replayed = false
      const attempt = Effect.suspend(() => {
        if (replayed) return effect
        replayed = true
        return Effect.fail(first)
      })
      return Effect.retry(attempt, retrySchedule(options) as Schedule.Schedule<unknown, E>)
    })
)

/** The characters HeyGen (and most idempotent APIs) accept in an idempotency key. */
export const idempotencyKeyPattern = /^[A-Za-z0-9_\-:.]{1,255}$/

/** A fresh idempotency key. Mint it once per logical call, outside any retry loop. */
export const mintIdempotencyKey: Effect.Effect<string> = Effect.sync(() => `pd-${crypto.randomUUID()}`)
