/**
 * The HTTP behaviour every vendor client needs, written once: the key in its header and redacted in
 * spans, request budgets in a `RateLimiter` keyed by a hash of the key, a time-out per kind of call
 * that bounds the whole exchange, the vendor's idempotency header, whether a failed request may have
 * been processed, retries as `Policy` allows them, and the HTTP-status fallback to `TranslationError`.
 * A vendor client is then its table of endpoints (`Endpoint`s) and its table of error codes.
 *
 * Endpoints are plain data rather than an `effect/http-api` `HttpApi`: over an in-process transport
 * an `HttpApiClient` read cost 20–35 µs more CPU than the same read through a table (74–109 µs vs
 * 48–82 µs, same schema and answer; `bench/src/endpoints.ts`), and it cannot say what vendors need
 * here: a multipart body streamed with an exact length, an error answered inside a 200 (HeyGen v2),
 * errors told apart by a vendor code rather than by status, and "an unreadable answer to a mutation
 * is an unknown outcome".
 */
import { createHash } from "node:crypto"
import { Duration, Effect, Layer, Option, Redacted, type Schema, Stream } from "effect"
import { Headers, HttpClient, HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { RateLimiter } from "effect/persistence"
import * as Policy from "./Policy.js"
import * as ProviderHttp from "./ProviderHttp.js"
import {
  AuthenticationFailed,
  InsufficientCredits,
  InvalidRequest,
  NotFound,
  PayloadTooLarge,
  PermissionDenied,
  ProviderUnavailable,
  RateLimited,
  RequestInProgress,
  type TranslationError
} from "./TranslationError.js"

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

/** One endpoint of a vendor's API: what it is called, how it is sent, and what a good answer looks like. */
export interface Endpoint<S extends Schema.Codec<any, any, never, never>> {
  /** The name errors and retries report, e.g. `"status"` or `"createTranslation"`. */
  readonly operation: string
  readonly method: Method
  /** The 2xx answer. An answer it rejects is `UnexpectedResponse` (a read) or an unknown outcome (a mutation). */
  readonly schema: S
  /** Which of the transport's `timeouts` bounds the exchange. Default `"read"` for a GET, else `"write"`. */
  readonly timeout?: string | undefined
  /** Which of the transport's `budgets` the request counts against. Default: the first. */
  readonly budget?: string | undefined
  /**
   * Whether sending it again cannot cause a second effect. Default: a GET, PUT or DELETE, or a
   * request that carries an idempotency key.
   */
  readonly idempotent?: boolean | undefined
  /** A 2xx answer that is a failure all the same (HeyGen v2 sets `error` in a 200): its error body, else `undefined`. */
  readonly refusal?: ((text: string) => unknown) | undefined
}

/** A streamed request body: multipart or raw bytes, with the exact length when it is known. */
export interface StreamBody {
  readonly contentType: string
  readonly contentLength?: number | undefined
  readonly stream: Stream.Stream<Uint8Array, unknown>
  /** Whether the stream can be run again. One that cannot (a caller's stream) is sent once, whatever `Policy` allows. */
  readonly replayable: boolean
}

/** One request to an endpoint. */
export interface Request {
  /** Appended to the transport's `baseUrl`, or to `baseUrl` here (another host of the same vendor). */
  readonly path: string
  readonly baseUrl?: string | undefined
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  /** A JSON body. */
  readonly json?: unknown
  /** A streamed body. */
  readonly body?: StreamBody | undefined
  /** Sent in the transport's `idempotencyHeader`; makes the request idempotent. */
  readonly idempotencyKey?: string | undefined
  /** Overrides the transport's retry count. */
  readonly retries?: number | undefined
  /** A further condition on a retry, after what `Policy` allows. */
  readonly retryIf?: ((error: TranslationError) => boolean) | undefined
}

/** An error answer as the vendor's error table receives it. */
export interface ErrorAnswer {
  readonly operation: string
  readonly status: number
  /** The body parsed as JSON; `undefined` when it is empty or not JSON. */
  readonly body: unknown
  readonly retryAfter: Option.Option<Duration.Duration>
}

/** A request budget: `limit` requests per `window`. */
export interface Budget {
  readonly limit: number
  readonly window: Duration.Input
}

export interface Options {
  /** The provider id errors carry, e.g. `"voicecheap"`; also the prefix of the default limiter key. */
  readonly provider: string
  /** The vendor's name in messages, e.g. `"VoiceCheap"`. Default `provider`. */
  readonly name?: string | undefined
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  /** The header the key travels in, or `"bearer"` for `Authorization: Bearer`. Either is redacted in spans. */
  readonly auth: { readonly header: string } | "bearer"
  /**
   * Named budgets, each spread over the limiter's slots with `reserve` requests held back (see
   * `ProviderHttp.budgetSlots`). The limiter key of each is `<rateLimitKey>:<name>`, or
   * `<rateLimitKey>` alone for a budget named `""`.
   */
  readonly budgets: Readonly<Record<string, Budget>>
  readonly reserve: number
  /** Budgets are shared by every client with the same key. Default `<provider>:<sha256 of the API key, 16 hex>`. */
  readonly rateLimitKey?: string | undefined
  /** Time-outs by name (an endpoint's `timeout`); an undefined one does not time out. */
  readonly timeouts: Readonly<Record<string, Duration.Input | undefined>>
  /** Retries after the first attempt. Default 2. */
  readonly retries?: number | undefined
  /** First backoff (then exponential, jittered, capped). Default 1 s. */
  readonly retryBase?: Duration.Input | undefined
  /** The header an idempotency key travels in, where the vendor takes one. */
  readonly idempotencyHeader?: string | undefined
  /** The vendor's error table: an error answer as a `TranslationError`, usually ending in `statusError`. */
  readonly errorOf: (answer: ErrorAnswer) => TranslationError
}

/** What the shared status fallback needs from an error answer. */
export interface ErrorFields {
  readonly operation: string
  readonly status: number
  readonly message?: string | undefined
  readonly code?: string | undefined
  /** The request field an invalid request is about. */
  readonly param?: string | undefined
  /** What a 429 limits; default `"requests"`. */
  readonly scope?: "requests" | "concurrency" | "quota" | undefined
  readonly retryAfter?: Option.Option<Duration.Duration> | undefined
}

/** The common parts of an error from an answer: provider, operation, status, message and vendor code. */
export const errorBase = (provider: string, vendor: string, fields: ErrorFields) => ({
  provider,
  operation: fields.operation,
  status: fields.status,
  message: fields.message ?? `${vendor} answered HTTP ${fields.status}`,
  ...(fields.code === undefined ? {} : { providerCode: fields.code })
})

/**
 * An error answer by its HTTP status alone, for codes the vendor's table does not know: 401, 402,
 * 403, 404, 409, 413 and 429 by meaning, any other 4xx an invalid request, and anything else
 * (a 5xx) an unknown outcome, since the server saw the request and may have acted on it.
 */
export const statusError = (provider: string, vendor: string, fields: ErrorFields): TranslationError => {
  const base = errorBase(provider, vendor, fields)
  const after =
    fields.retryAfter !== undefined && Option.isSome(fields.retryAfter) ? { retryAfter: fields.retryAfter.value } : {}
  const status = fields.status
  if (status === 401) return new AuthenticationFailed(base)
  if (status === 402) return new InsufficientCredits(base)
  if (status === 403) return new PermissionDenied(base)
  if (status === 404) return new NotFound(base)
  if (status === 409) return new RequestInProgress({ ...base, ...after })
  if (status === 413) return new PayloadTooLarge(base)
  if (status === 429) return new RateLimited({ ...base, scope: fields.scope ?? "requests", ...after })
  if (status >= 400 && status < 500)
    return new InvalidRequest({ ...base, ...(fields.param === undefined ? {} : { param: fields.param }) })
  return new ProviderUnavailable({ ...base, outcome: "unknown", ...after })
}

/** The default limiter key: the provider and a hash of the API key, so the key itself is never a store key. */
export const keyHash = (provider: string, apiKey: Redacted.Redacted<string>): string =>
  `${provider}:${createHash("sha256").update(Redacted.value(apiKey)).digest("hex").slice(0, 16)}`

const parseJsonOrUndefined = (text: string): unknown => {
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

type Budgeted = HttpClient.HttpClient.With<HttpClientError.HttpClientError | RateLimiter.RateLimiterError>

export interface ProviderTransport {
  /** Sends one request to an endpoint and decodes its answer, under the budget, time-out and retry rules. */
  readonly call: <S extends Schema.Codec<any, any, never, never>>(
    endpoint: Endpoint<S>,
    request: Request
  ) => Effect.Effect<S["Type"], TranslationError>
  /**
   * Sends a request to a URL the vendor handed out (a presigned upload or download): no API key,
   * no budget, but the same time-out over the whole exchange and the same retry rules. Answers the
   * status and the body's text, whatever the status.
   */
  readonly presigned: (
    operation: string,
    request: HttpClientRequest.HttpClientRequest,
    options: { readonly timeout: string; readonly idempotent: boolean; readonly retries?: number | undefined }
  ) => Effect.Effect<{ readonly status: number; readonly text: string }, TranslationError>
  /**
   * Opens a GET whose answer is a file rather than JSON (an output the vendor serves only to the
   * key's holder), under the same key, budget and retry rules as `call`. The time-out bounds the
   * answer's headers, then each wait for the next chunk of the body (a large file takes as long as it
   * takes, a stalled one does not hang); the body is the caller's to read once, and a body cut short
   * or stalled fails the stream with `ProviderUnavailable`. An error status is read and mapped by the
   * vendor's error table.
   */
  readonly open: (endpoint: OpenEndpoint, request: Request) => Effect.Effect<Opened, TranslationError>
}

/** An endpoint that answers a file: `open` takes its name, budget and time-out. */
export interface OpenEndpoint {
  readonly operation: string
  readonly timeout?: string | undefined
  readonly budget?: string | undefined
}

/** A file answer as `open` gives it: what the vendor declared, and the body to read once. */
export interface Opened {
  readonly contentLength?: number | undefined
  readonly mediaType?: string | undefined
  readonly stream: Stream.Stream<Uint8Array, TranslationError>
}

/** Builds a transport over the `HttpClient` and `RateLimiter` in context. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const http = yield* HttpClient.HttpClient
  const limiter = yield* RateLimiter.RateLimiter
  const provider = options.provider
  const name = options.name ?? provider
  const baseUrl = options.baseUrl.replace(/\/+$/, "")
  const key = options.rateLimitKey ?? keyHash(provider, options.apiKey)
  const retries = options.retries ?? 2
  const secret = Redacted.value(options.apiKey)
  const auth = options.auth
  const authHeader = auth === "bearer" ? "authorization" : auth.header.toLowerCase()
  const withAuth =
    auth === "bearer"
      ? (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.bearerToken(request, secret)
      : (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.setHeader(request, auth.header, secret)
  const timeouts: Record<string, Duration.Duration | undefined> = {}
  for (const [name, value] of Object.entries(options.timeouts))
    timeouts[name] = value === undefined ? undefined : Duration.fromInputUnsafe(value)
  const contexts = new Map<string, { readonly provider: string; readonly operation: string }>()
  const context = (operation: string) => {
    let c = contexts.get(operation)
    if (c === undefined) contexts.set(operation, (c = { provider, operation }))
    return c
  }

  // JSON is asked for unless the request says what it takes (a file from `open`).
  const authenticated = http.pipe(
    HttpClient.mapRequest((request) =>
      withAuth(request.headers.accept === undefined ? HttpClientRequest.acceptJson(request) : request)
    )
  )
  const budgeted: Record<string, Budgeted> = {}
  for (const [name, budget] of Object.entries(options.budgets)) {
    budgeted[name] = authenticated.pipe(
      HttpClient.withRateLimiter({
        limiter,
        key: name === "" ? key : `${key}:${name}`,
        ...ProviderHttp.budgetSlots(budget, options.reserve),
        algorithm: "fixed-window",
        times: 0,
        disableAdaptiveLearning: true
      })
    )
  }
  const firstBudget = Object.keys(options.budgets)[0]
  // The usual retry options, built once rather than on every call.
  const retrySafe: Policy.RetryOptions = { idempotent: true, times: retries, base: options.retryBase }
  const retryUnsafe: Policy.RetryOptions = { idempotent: false, times: retries, base: options.retryBase }

  // The key header stays redacted in spans even where an application replaced the default list.
  const redacted = (names: ReadonlyArray<string | RegExp>) => [...names, authHeader]

  const send = (
    operation: string,
    client: Budgeted,
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, TranslationError> =>
    client.execute(request).pipe(
      Effect.updateService(Headers.CurrentRedactedNames, redacted),
      Effect.mapError(
        (error): TranslationError =>
          HttpClientError.isHttpClientError(error)
            ? ProviderHttp.transportError(error, context(operation))
            : // RateLimiterError: the local limiter's store failed; nothing was sent.
              new ProviderUnavailable({
                ...context(operation),
                outcome: "not-sent",
                message: `the request budget could not be checked: ${String(error)}`
              })
      )
    )

  const answer = <S extends Schema.Codec<any, any, never, never>>(
    endpoint: Endpoint<S>,
    response: HttpClientResponse.HttpClientResponse
  ): Effect.Effect<S["Type"], TranslationError> =>
    Effect.flatMap(ProviderHttp.bodyText(response, context(endpoint.operation)), (text) => {
      // Read only for an error: `headers` parses every header again on each access.
      const errorOf = (body: unknown) =>
        options.errorOf({
          operation: endpoint.operation,
          status: response.status,
          body,
          retryAfter: Policy.parseRetryAfter(response.headers["retry-after"], Date.now())
        })
      if (response.status < 200 || response.status >= 300) return Effect.fail(errorOf(parseJsonOrUndefined(text)))
      if (endpoint.refusal !== undefined) {
        const refused = endpoint.refusal(text)
        if (refused !== undefined) return Effect.fail(errorOf(refused))
      }
      // An empty answer (204, or a 200 without a body) is `null` to the schema, which says whether it is enough.
      const decoded = ProviderHttp.decodeJsonText(endpoint.schema, text.length === 0 ? "null" : text, {
        ...context(endpoint.operation),
        status: response.status
      })
      if (endpoint.method === "GET") return decoded
      // A mutation the vendor accepted but whose answer cannot be read may have taken effect: its
      // outcome is unknown. With an idempotency key it is sent again and replayed; without, it is not.
      return Effect.mapError(
        decoded,
        (e) =>
          new ProviderUnavailable({
            ...context(endpoint.operation),
            status: response.status,
            outcome: "unknown",
            message: `${name} answered ${endpoint.operation} with a body that cannot be read (${e.message}); the request may have taken effect`
          })
      )
    })

  const call = <S extends Schema.Codec<any, any, never, never>>(
    endpoint: Endpoint<S>,
    req: Request
  ): Effect.Effect<S["Type"], TranslationError> => {
    let request = HttpClientRequest.make(endpoint.method)(`${req.baseUrl ?? baseUrl}${req.path}`)
    if (req.urlParams !== undefined) request = HttpClientRequest.setUrlParams(request, req.urlParams)
    if (req.idempotencyKey !== undefined && options.idempotencyHeader !== undefined)
      request = HttpClientRequest.setHeader(request, options.idempotencyHeader, req.idempotencyKey)
    if (req.body !== undefined) {
      request = HttpClientRequest.bodyStream(request, req.body.stream, {
        contentType: req.body.contentType,
        ...(req.body.contentLength === undefined ? {} : { contentLength: req.body.contentLength })
      })
    } else if (req.json !== undefined) {
      request = HttpClientRequest.bodyJsonUnsafe(request, req.json)
    }
    const client = budgeted[endpoint.budget ?? firstBudget!]!
    const method = endpoint.method
    const idempotent =
      endpoint.idempotent ??
      (method === "GET" ||
        method === "PUT" ||
        method === "DELETE" ||
        (req.idempotencyKey !== undefined && options.idempotencyHeader !== undefined))
    const ctx = context(endpoint.operation)
    // The time-out covers the answer's body too: a body that stalls is as unknown as a silent server.
    return send(endpoint.operation, client, request).pipe(
      Effect.flatMap((response) => answer(endpoint, response)),
      ProviderHttp.exchangeTimeout(timeouts[endpoint.timeout ?? (method === "GET" ? "read" : "write")], ctx),
      Policy.withRetry(
        req.retries === undefined && req.retryIf === undefined && req.body?.replayable !== false
          ? idempotent
            ? retrySafe
            : retryUnsafe
          : {
              idempotent,
              times: req.body?.replayable === false ? 0 : (req.retries ?? retries),
              base: options.retryBase,
              retryIf: req.retryIf
            }
      )
    )
  }

  const presigned = (
    operation: string,
    request: HttpClientRequest.HttpClientRequest,
    opts: { readonly timeout: string; readonly idempotent: boolean; readonly retries?: number | undefined }
  ): Effect.Effect<{ readonly status: number; readonly text: string }, TranslationError> =>
    http.execute(request).pipe(
      Effect.mapError((e): TranslationError => ProviderHttp.transportError(e, context(operation))),
      Effect.flatMap((response) =>
        Effect.map(ProviderHttp.bodyText(response, context(operation)), (text) => ({ status: response.status, text }))
      ),
      ProviderHttp.exchangeTimeout(timeouts[opts.timeout], context(operation)),
      Policy.withRetry({ idempotent: opts.idempotent, times: opts.retries ?? retries, base: options.retryBase })
    )

  const open = (endpoint: OpenEndpoint, req: Request): Effect.Effect<Opened, TranslationError> => {
    let request = HttpClientRequest.get(`${req.baseUrl ?? baseUrl}${req.path}`).pipe(
      HttpClientRequest.setHeader("accept", "*/*")
    )
    if (req.urlParams !== undefined) request = HttpClientRequest.setUrlParams(request, req.urlParams)
    const ctx = context(endpoint.operation)
    const idle = timeouts[endpoint.timeout ?? "read"]
    const opened = Effect.flatMap(
      send(endpoint.operation, budgeted[endpoint.budget ?? firstBudget!]!, request),
      (response): Effect.Effect<Opened, TranslationError> => {
        if (response.status < 200 || response.status >= 300) {
          return Effect.flatMap(ProviderHttp.bodyText(response, ctx), (text) =>
            Effect.fail(
              options.errorOf({
                operation: endpoint.operation,
                status: response.status,
                body: parseJsonOrUndefined(text),
                retryAfter: Policy.parseRetryAfter(response.headers["retry-after"], Date.now())
              })
            )
          )
        }
        const length = Number(response.headers["content-length"])
        const mediaType = response.headers["content-type"]
        const body = Stream.mapError(
          response.stream,
          (): TranslationError =>
            new ProviderUnavailable({
              ...ctx,
              status: response.status,
              outcome: "unknown",
              message: `the ${endpoint.operation} body from ${name} was cut short`
            })
        )
        return Effect.succeed({
          ...(Number.isSafeInteger(length) && length >= 0 ? { contentLength: length } : {}),
          ...(mediaType === undefined ? {} : { mediaType }),
          stream:
            idle === undefined
              ? body
              : watched(
                  body,
                  idle,
                  () =>
                    new ProviderUnavailable({
                      ...ctx,
                      status: response.status,
                      outcome: "unknown",
                      message: `the ${endpoint.operation} body from ${name} stalled for ${Duration.format(idle)}`
                    })
                )
        })
      }
    )
    return opened.pipe(
      ProviderHttp.exchangeTimeout(timeouts[endpoint.timeout ?? "read"], ctx),
      Policy.withRetry(req.retries === undefined ? retrySafe : { ...retrySafe, times: req.retries })
    )
  }

  const transport: ProviderTransport = { call, presigned, open }
  return transport
})

/**
 * `body`, failed with `stalled()` when no chunk arrives for `idle`. One watchdog fiber per body
 * checks the time of the last chunk, rather than a timer raced against every pull: on a 100 MiB
 * output over loopback (`bench/src/elevenlabs-peer.ts`) the race cut throughput to about a third;
 * the watchdog costs some 10–25% against no check at all, which a vendor's network never shows.
 * Without one, a stalled body waits for the HTTP client's own limit (undici: 5 minutes), or for ever.
 */
const watched = (
  body: Stream.Stream<Uint8Array, TranslationError>,
  idle: Duration.Duration,
  stalled: () => TranslationError
): Stream.Stream<Uint8Array, TranslationError> =>
  Stream.suspend(() => {
    const idleMs = Duration.toMillis(idle)
    let last = Date.now()
    const watchdog: Effect.Effect<never, TranslationError> = Effect.suspend(() => {
      const left = last + idleMs - Date.now()
      return left <= 0 ? Effect.fail(stalled()) : Effect.andThen(Effect.sleep(Duration.millis(left)), watchdog)
    })
    return body.pipe(
      Stream.map((chunk) => {
        last = Date.now()
        return chunk
      }),
      Stream.interruptWhen(watchdog)
    )
  })

/** The default rate-limiter store: process memory (use `RateLimiter.layerStoreRedis` for a fleet). */
export const layerRateLimiterMemory: Layer.Layer<RateLimiter.RateLimiter> = RateLimiter.layer.pipe(
  Layer.provide(RateLimiter.layerStoreMemory)
)
