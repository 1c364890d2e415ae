/**
 * One method per VoiceCheap endpoint, on `effect/http`. Uploads are streamed as multipart bodies
 * built on the fly (never buffered), the documented request budgets are kept client-side so a
 * well-behaved caller never meets a 429, and every failure becomes a `TranslationError` with the
 * vendor's code and message. VoiceCheap has no idempotency key, so a POST is sent again only when
 * it certainly did not reach the server (connection refused) or was answered 429.
 */

import { createHash } from "node:crypto"
import {
  AuthenticationFailed,
  type Budget as EnforcedBudget,
  InsufficientCredits,
  InvalidRequest,
  NotFound,
  PayloadTooLarge,
  PermissionDenied,
  Policy,
  ProviderHttp,
  ProviderUnavailable,
  RateLimited,
  type TranslationError
} from "@polydub/core"
import { Context, Duration, Effect, Layer, Option, Redacted, type Schema, type SchemaIssue } from "effect"
import { Headers, HttpClient, HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { RateLimiter } from "effect/persistence"
import * as Wire from "./VoiceCheapWire.js"

export const provider = "voicecheap"

/** A request budget: `limit` requests per `window`. */
export interface Budget {
  readonly limit: number
  readonly window: Duration.Input
}

type Budgets = NonNullable<VoiceCheapClientOptions["budgets"]>

// Documented: 30/min on status, 10/min on projects. The translate budget is not documented.
const documented = {
  status: { limit: 30, window: Duration.minutes(1) },
  projects: { limit: 10, window: Duration.minutes(1) },
  translate: { limit: 10, window: Duration.minutes(1) }
}

// Requests of each budget held back, because VoiceCheap counts arrivals (see `budgetSlots`).
const reserve = 2

/**
 * The budgets a client built with `budgets` enforces: each given (or documented) budget less the
 * reserve it holds back, e.g. 28 status reads a minute for the documented 30. These, not the
 * vendor's figures, are what a caller pacing itself must follow to never wait in the limiter.
 */
export const enforcedBudgets = (
  budgets: Budgets = {}
): { readonly status: EnforcedBudget; readonly projects: EnforcedBudget; readonly translate: EnforcedBudget } => ({
  status: ProviderHttp.enforcedBudget(budgets.status ?? documented.status, reserve),
  projects: ProviderHttp.enforcedBudget(budgets.projects ?? documented.projects, reserve),
  translate: ProviderHttp.enforcedBudget(budgets.translate ?? documented.translate, reserve)
})

export interface VoiceCheapClientOptions {
  readonly apiKey: Redacted.Redacted<string>
  /** Default `https://api.voicecheap.ai`. */
  readonly baseUrl?: string | undefined
  /**
   * Client-side budgets. Documented: 30/min on status, 10/min on projects. The translate budget is
   * not documented; 10/min by default.
   */
  readonly budgets?:
    | {
        readonly status?: Budget | undefined
        readonly projects?: Budget | undefined
        readonly translate?: Budget | undefined
      }
    | undefined
  /** Retries of a status read on transient failures. Default 2. */
  readonly retries?: number | undefined
  /** Default 30 s for status reads; uploads are not timed out by default (files reach 20 GB). */
  readonly timeouts?:
    | { readonly read?: Duration.Input | undefined; readonly upload?: Duration.Input | undefined }
    | undefined
  /** Budgets are shared by every client with the same key; default: a hash of the API key. */
  readonly rateLimitKey?: string | undefined
}

/** A file to upload. */
export type Upload = ProviderHttp.Upload

export interface VoiceCheapClientService {
  /** `POST /v1/translate`: upload and start a full translation. */
  readonly translate: (
    upload: Upload,
    fields: Wire.TranslateFields
  ) => Effect.Effect<Wire.TranslateResponse, TranslationError>
  /** `POST /v1/projects`: upload and transcribe only. */
  readonly createProject: (
    upload: Upload,
    fields: Wire.ProjectFields
  ) => Effect.Effect<Wire.ProjectResponse, TranslationError>
  /** `GET /v1/translate/{projectId}/status`. */
  readonly status: (projectId: string) => Effect.Effect<Wire.StatusResponse, TranslationError>
  /** The budgets this client enforces (`enforcedBudgets` of its options). */
  readonly budgets: ReturnType<typeof enforcedBudgets>
}

export class VoiceCheapClient extends Context.Service<VoiceCheapClient, VoiceCheapClientService>()(
  "@polydub/provider-voicecheap/VoiceCheapClient"
) {}

const context = (operation: string) => ({ provider, operation })

/** The field a 400 is about when VoiceCheap sends no `details.field`: the code names it. */
const paramOfCode: Readonly<Record<string, string>> = {
  FILE_REQUIRED: "file",
  INVALID_FILE_TYPE: "file",
  DURATION_DETECTION_FAILED: "file",
  VIDEO_TOO_LONG: "file",
  INVALID_TARGET_LANGUAGE: "targetLanguage"
}

/** Maps a VoiceCheap error answer to a `TranslationError`, keeping the vendor's code and message. */
export const mapError = (
  operation: string,
  status: number,
  body: Wire.ErrorEnvelope | undefined,
  retryAfter: Option.Option<Duration.Duration>
): TranslationError => {
  const code = body?.code
  const base = {
    ...context(operation),
    status,
    message: body?.message ?? `VoiceCheap answered HTTP ${status}`,
    ...(code === undefined ? {} : { providerCode: code })
  }
  const after = Option.isSome(retryAfter) ? { retryAfter: retryAfter.value } : {}
  switch (code) {
    case "MISSING_API_KEY":
    case "INVALID_API_KEY":
      return new AuthenticationFailed(base)
    case "SUBSCRIPTION_REQUIRED":
    case "API_ACCESS_REQUIRED":
    case "FORBIDDEN":
      return new PermissionDenied(base)
    case "INSUFFICIENT_CREDITS":
      return new InsufficientCredits(base)
    case "FILE_TOO_LARGE":
      return new PayloadTooLarge({ ...base, limitBytes: 20 * 1024 ** 3 })
    case "PROJECT_NOT_FOUND":
      return new NotFound(base)
    case "RATE_LIMIT_EXCEEDED":
      return new RateLimited({ ...base, scope: "requests", ...after })
    case "CONCURRENT_TRANSLATION_LIMIT_REACHED":
      return new RateLimited({ ...base, scope: "concurrency", ...after })
  }
  if (status === 401) return new AuthenticationFailed(base)
  if (status === 403) return new PermissionDenied(base)
  if (status === 404) return new NotFound(base)
  if (status === 413) return new PayloadTooLarge(base)
  if (status === 429) return new RateLimited({ ...base, scope: "requests", ...after })
  if (status >= 400 && status < 500) {
    const param = body?.details?.field ?? (code === undefined ? undefined : paramOfCode[code])
    return new InvalidRequest({ ...base, ...(param === undefined ? {} : { param }) })
  }
  // A 5xx to a request means the server saw it: whether it acted is unknown.
  return new ProviderUnavailable({ ...base, outcome: "unknown", ...after })
}

/** The form field a schema error is about (`voiceCloningSettings`, …), from the first path segment. */
const fieldOf = (error: Schema.SchemaError): string => {
  let issue: SchemaIssue.Issue | undefined = error.issue
  for (let i = 0; i < 20 && issue !== undefined; i++) {
    if (issue._tag === "Pointer") return String(issue.path[0] ?? "fields")
    issue =
      issue._tag === "Composite" || issue._tag === "AnyOf"
        ? issue.issues[0]
        : issue._tag === "Filter" || issue._tag === "Encoding"
          ? issue.issue
          : undefined
  }
  return "fields"
}

type Budgeted = HttpClient.HttpClient.With<HttpClientError.HttpClientError | RateLimiter.RateLimiterError>

/** Builds the client over the `HttpClient` in context. */
export const make = Effect.fnUntraced(function* (options: VoiceCheapClientOptions) {
  const http = yield* HttpClient.HttpClient
  const limiter = yield* RateLimiter.RateLimiter
  const baseUrl = (options.baseUrl ?? "https://api.voicecheap.ai").replace(/\/+$/, "")
  const key =
    options.rateLimitKey ??
    `voicecheap:${createHash("sha256").update(Redacted.value(options.apiKey)).digest("hex").slice(0, 16)}`
  const readTimeout = Duration.fromInputUnsafe(options.timeouts?.read ?? Duration.seconds(30))
  const uploadTimeout =
    options.timeouts?.upload === undefined ? undefined : Duration.fromInputUnsafe(options.timeouts.upload)

  const base = http.pipe(
    HttpClient.mapRequest((request) =>
      request.pipe(
        HttpClientRequest.prependUrl(baseUrl),
        HttpClientRequest.acceptJson,
        HttpClientRequest.setHeader("x-api-key", Redacted.value(options.apiKey))
      )
    )
  )

  // Each budget spread evenly over the limiter's slots, `reserve` requests held back (see `budgetSlots`).
  const budgeted = (name: string, budget: Budget): Budgeted =>
    base.pipe(
      HttpClient.withRateLimiter({
        limiter,
        key: `${key}:${name}`,
        ...ProviderHttp.budgetSlots(budget, reserve),
        algorithm: "fixed-window",
        times: 0,
        disableAdaptiveLearning: true
      })
    )
  const budgets = options.budgets ?? {}
  const statusClient = budgeted("status", budgets.status ?? documented.status)
  const projectsClient = budgeted("projects", budgets.projects ?? documented.projects)
  const translateClient = budgeted("translate", budgets.translate ?? documented.translate)

  const decodeAnswer = <S extends Schema.Codec<any, any, never, never>>(
    operation: string,
    schema: S,
    response: HttpClientResponse.HttpClientResponse
  ): Effect.Effect<S["Type"], TranslationError> =>
    Effect.flatMap(ProviderHttp.bodyText(response, context(operation)), (text) => {
      if (response.status >= 200 && response.status < 300) {
        return ProviderHttp.decodeJsonText(schema, text, { ...context(operation), status: response.status })
      }
      return Effect.flatMap(
        Effect.option(ProviderHttp.decodeJsonText(Wire.ErrorEnvelope, text, context(operation))),
        (envelope) => {
          const retryAfter = Policy.parseRetryAfter(response.headers["retry-after"], Date.now())
          return Effect.fail(mapError(operation, response.status, Option.getOrUndefined(envelope), retryAfter))
        }
      )
    })

  const send = (
    operation: string,
    client: Budgeted,
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, TranslationError> =>
    client.execute(request).pipe(
      // The key header stays redacted in spans even where an application replaced the default list.
      Effect.updateService(Headers.CurrentRedactedNames, (names) => [...names, "x-api-key"]),
      Effect.catch((error): Effect.Effect<never, TranslationError> => {
        if (HttpClientError.isHttpClientError(error))
          return Effect.fail(ProviderHttp.transportError(error, context(operation)))
        // RateLimiterError: the local limiter's store failed; nothing was sent.
        return Effect.fail(
          new ProviderUnavailable({
            ...context(operation),
            outcome: "not-sent",
            message: `the request budget could not be checked: ${String(error)}`
          })
        )
      })
    )

  const formFields = (
    operation: string,
    encoded: Effect.Effect<ReadonlyArray<readonly [string, string]>, Schema.SchemaError>
  ) =>
    Effect.mapError(
      encoded,
      (error) =>
        new InvalidRequest({
          ...context(operation),
          param: fieldOf(error),
          message: `a VoiceCheap form field is invalid: ${error.message.split("\n")[0]}`
        })
    )

  const upload = (
    operation: string,
    path: string,
    client: Budgeted,
    file: Upload,
    fields: ReadonlyArray<readonly [string, string]>
  ) =>
    Effect.gen(function* () {
      const body = ProviderHttp.multipartBody(fields, file)
      const request = HttpClientRequest.post(path).pipe(
        HttpClientRequest.bodyStream(body.stream, {
          contentType: body.contentType,
          ...(body.contentLength === undefined ? {} : { contentLength: body.contentLength })
        })
      )
      // The timeout covers the answer's body too: a body that stalls is as unknown as a silent server.
      const answer = send(operation, client, request).pipe(
        Effect.flatMap((response) => decodeAnswer(operation, Wire.TranslateResponse, response)),
        ProviderHttp.exchangeTimeout(uploadTimeout, context(operation))
      )
      return yield* answer.pipe(
        // Accepted, but the answer cannot be read: a project may exist, and without an idempotency
        // key it must not be uploaded again. Surfaced as an unknown outcome.
        Effect.catchTag("UnexpectedResponse", (e) =>
          Effect.fail(
            new ProviderUnavailable({
              ...context(operation),
              ...(e.status === undefined ? {} : { status: e.status }),
              outcome: "unknown",
              message: `VoiceCheap accepted the upload but its answer cannot be read (${e.message}); a project may exist`
            })
          )
        )
      )
    }).pipe(
      // No idempotency key: re-send only what certainly was not processed (a refused connection, or
      // a 429 on the request rate), and only when the file can be streamed again. A concurrency
      // refusal is not retried: it clears when a running project finishes, minutes away, and each
      // attempt uploads the whole file again.
      file.replayable
        ? Effect.retry({
            schedule: Policy.retrySchedule({ idempotent: false, times: 2 }),
            while: (error: TranslationError) => !(error._tag === "RateLimited" && error.scope === "concurrency")
          })
        : (self) => self
    )

  const translate = Effect.fn("VoiceCheapClient.translate")(function* (file: Upload, fields: Wire.TranslateFields) {
    yield* Effect.annotateCurrentSpan({
      "voicecheap.targetLanguage": fields.targetLanguage,
      "voicecheap.bytes": file.size ?? -1
    })
    const form = yield* formFields("translate", Wire.encodeFields(fields))
    return yield* upload("translate", "/v1/translate", translateClient, file, form)
  })

  const createProject = Effect.fn("VoiceCheapClient.createProject")(function* (
    file: Upload,
    fields: Wire.ProjectFields
  ) {
    const form = yield* formFields("createProject", Wire.encodeProjectFields(fields))
    return yield* upload("createProject", "/v1/projects", projectsClient, file, form)
  })

  const statusRetry = { idempotent: true, times: options.retries ?? 2 }
  const status = Effect.fn("VoiceCheapClient.status")((projectId: string) =>
    Effect.andThen(
      Effect.annotateCurrentSpan("voicecheap.projectId", projectId),
      send("status", statusClient, HttpClientRequest.get(`/v1/translate/${encodeURIComponent(projectId)}/status`)).pipe(
        Effect.flatMap((response) => decodeAnswer("status", Wire.StatusResponse, response)),
        ProviderHttp.exchangeTimeout(readTimeout, context("status")),
        Policy.withRetry(statusRetry)
      )
    )
  )

  return VoiceCheapClient.of({ translate, createProject, status, budgets: enforcedBudgets(budgets) })
})

/** The client with an in-memory rate-limiter store (use `RateLimiter.layerStoreRedis` for a fleet). */
export const layer = (
  options: VoiceCheapClientOptions
): Layer.Layer<VoiceCheapClient, never, HttpClient.HttpClient | RateLimiter.RateLimiter> =>
  Layer.effect(VoiceCheapClient, make(options))

/** The default rate limiter: process memory. */
export const layerRateLimiterMemory: Layer.Layer<RateLimiter.RateLimiter> = RateLimiter.layer.pipe(
  Layer.provide(RateLimiter.layerStoreMemory)
)
