/**
 * One request budget per vendor key across every process: the `RateLimiter` the providers take from
 * context (`HeyGen.layerWith`, `VoiceCheap.layerWith`), with its counters in Redis instead of process
 * memory. Two replicas on one API key then spend one budget between them rather than one each.
 *
 * Nothing else changes for the providers. Core's transport keys the limiter by the provider and a
 * hash of the API key (`ProviderTransport.keyHash`, never the key itself) and spreads each budget
 * into slots of one request (`ProviderHttp.budgetSlots`), consumed as fixed windows in delay mode:
 * every request, from whichever process, takes the next free slot from one Redis counter and sleeps
 * until it comes, so no sliding window of the vendor's length holds more than the budget. The fixed
 * window's script reads only Redis' own key expiry, not the caller's clock, so clock skew between
 * hosts does not move a slot. A process that dies while waiting for its slot wastes that slot: the
 * budget is under-spent then, never over-spent.
 *
 * A slot is only worth its place in the spread if the request goes out in it. A process that stalls
 * (a long garbage collection, a busy event loop, a paused container) wakes all its waiting requests
 * at once, late, into the slots of the other processes: three processes at 30 per second were seen
 * to put 31–35 requests into one second that way (the VoiceCheap simulator answered 4–5 with 429).
 * So a request that wakes more than one slot (at least `lateToleranceMs`) after its slot takes a new
 * slot instead of going out late; the slot it missed is wasted, and the budget under-spent, never
 * over-spent.
 *
 * Once the layer is built, a Redis that goes away fails the requests that need a slot with the
 * limiter's store error, which the transport reports as `ProviderUnavailable` with nothing sent.
 */
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { Clock, Config, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import { RateLimiter } from "effect/persistence"

/** The default prefix of the budget keys: a key reads `polydub:budget:voicecheap:<hash>:status`. */
export const defaultPrefix = "polydub:budget:"

export interface Options {
  /** Prepended to every budget key, so several fleets (or tests) can share one Redis. Default `defaultPrefix`. */
  readonly prefix?: string | undefined
  readonly redis: {
    /**
     * `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. It may hold a password:
     * give it `Redacted` where it comes from configuration. No message ever prints the password.
     */
    readonly url: string | Redacted.Redacted<string>
    /** How long connecting may take before the layer fails. Default 5 s. */
    readonly connectTimeout?: Duration.Input | undefined
  }
}

/**
 * The shared budget could not be set up: the Redis URL is not one (`InvalidUrl`), or that Redis
 * could not be reached or refused the connection (`Unreachable`). `redis` is the URL without its
 * credentials, or `""` when it could not be read at all.
 */
export class SharedBudgetError extends Schema.TaggedError<SharedBudgetError>()("SharedBudgetError", {
  reason: Schema.Literals(["InvalidUrl", "Unreachable"]),
  redis: Schema.String,
  message: Schema.String
}) {}

interface ParsedUrl {
  readonly url: string
  /** The URL as it may be printed: scheme, host, port and database, no user or password. */
  readonly printable: string
  readonly password: string
}

const parseUrl = (input: string | Redacted.Redacted<string>): Effect.Effect<ParsedUrl, SharedBudgetError> => {
  const url = Redacted.isRedacted(input) ? Redacted.value(input) : input
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // The text is not echoed: a malformed URL may still hold a password.
    return Effect.fail(
      new SharedBudgetError({
        reason: "InvalidUrl",
        redis: "",
        message: "the shared budget's Redis URL cannot be read as a URL (expected redis://host:port)"
      })
    )
  }
  const printable = `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    return Effect.fail(
      new SharedBudgetError({
        reason: "InvalidUrl",
        redis: printable,
        message: `the shared budget's Redis URL must start with redis:// or rediss://, not ${parsed.protocol}//`
      })
    )
  return Effect.succeed({ url, printable, password: decodeURIComponent(parsed.password) })
}

/** A client error's text without the password, in case the client ever quotes its options. */
const describe = (cause: unknown, password: string): string => {
  const text = cause instanceof Error ? cause.message || cause.name : String(cause)
  return password.length === 0 ? text : text.split(password).join("<redacted>")
}

/** The least lateness a woken request is allowed before it takes a new slot: timers fire a ms or two late anyway. */
export const lateToleranceMs = 5

/**
 * The limiter that sleeps in delay mode itself and returns no delay, so that it can see a request
 * that woke too late and give it a new slot (see the module comment). Other modes pass through.
 */
const onTime = (limiter: RateLimiter.RateLimiter): RateLimiter.RateLimiter => {
  type ConsumeOptions = Parameters<RateLimiter.RateLimiter["consume"]>[0]
  const wait = (
    options: ConsumeOptions,
    toleranceMs: number
  ): Effect.Effect<RateLimiter.ConsumeResult, RateLimiter.RateLimiterError> =>
    Effect.flatMap(limiter.consume(options), (result) => {
      if (Duration.isZero(result.delay)) return Effect.succeed(result)
      const due = Duration.toMillis(result.delay)
      return Effect.flatMap(Clock.currentTimeMillis, (before) =>
        Effect.flatMap(Effect.sleep(result.delay), () =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            now - before - due > toleranceMs
              ? wait(options, toleranceMs)
              : Effect.succeed({ ...result, delay: Duration.zero })
          )
        )
      )
    })
  return {
    ...limiter,
    consume: (options) =>
      options.onExceeded === "delay"
        ? wait(
            options,
            Math.max(lateToleranceMs, Duration.toMillis(Duration.fromInputUnsafe(options.window)) / options.limit)
          )
        : limiter.consume(options)
  }
}

/**
 * A `RateLimiter` whose counters live in Redis under `prefix`, for the providers' `layerWith`.
 * Connects when built and fails with `SharedBudgetError` if the Redis cannot be reached; closes the
 * connection with the layer's scope.
 */
export const layer = (options: Options): Layer.Layer<RateLimiter.RateLimiter, SharedBudgetError> =>
  Layer.unwrap(
    Effect.map(parseUrl(options.redis.url), ({ url, printable, password }) =>
      Layer.effect(RateLimiter.RateLimiter, Effect.map(RateLimiter.make, onTime)).pipe(
        Layer.provide(RateLimiter.layerStoreRedis({ prefix: options.prefix ?? defaultPrefix })),
        Layer.provide(
          NodeRedis.layer({
            url,
            socket: {
              connectTimeout: Duration.toMillis(Duration.fromInputUnsafe(options.redis.connectTimeout ?? "5 seconds"))
            }
          })
        ),
        Layer.catch((error) =>
          Layer.effect(
            RateLimiter.RateLimiter,
            Effect.fail(
              new SharedBudgetError({
                reason: "Unreachable",
                redis: printable,
                message: `the shared budget's Redis at ${printable} cannot be reached: ${describe(error.cause, password)}`
              })
            )
          )
        )
      )
    )
  )

/** `layer` with the URL read from `POLYDUB_REDIS_URL` (redacted: it may hold a password). */
export const layerConfig = (
  options: Omit<Options, "redis"> & { readonly connectTimeout?: Duration.Input | undefined } = {}
): Layer.Layer<RateLimiter.RateLimiter, SharedBudgetError | Config.ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const url = yield* Config.Redacted("POLYDUB_REDIS_URL")
      return layer({ prefix: options.prefix, redis: { url, connectTimeout: options.connectTimeout } })
    })
  )

/**
 * The shared budget when `POLYDUB_REDIS_URL` is set, else the budget in process memory, as a single
 * process keeps it today: one layer for a program that runs embedded or in a fleet.
 */
export const layerConfigOrMemory = (
  options: Omit<Options, "redis"> & { readonly connectTimeout?: Duration.Input | undefined } = {}
): Layer.Layer<RateLimiter.RateLimiter, SharedBudgetError | Config.ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const url = yield* Config.option(Config.Redacted("POLYDUB_REDIS_URL"))
      return Option.isSome(url)
        ? layer({ prefix: options.prefix, redis: { url: url.value, connectTimeout: options.connectTimeout } })
        : RateLimiter.layer.pipe(Layer.provide(RateLimiter.layerStoreMemory))
    })
  )
