/**
 * One method per VoiceCheap endpoint, over core's `ProviderTransport`: this file holds the
 * endpoints, their budgets and VoiceCheap's error codes; the HTTP behaviour lives in core. Uploads are streamed as multipart bodies
 * built on the fly (never buffered), the documented request budgets are kept client-side so a
 * well-behaved caller never meets a 429, and every failure becomes a `TranslationError` with the
 * vendor's code and message. VoiceCheap has no idempotency key, so a POST is sent again only when
 * it certainly did not reach the server (connection refused) or was answered 429.
 */

import {
  AuthenticationFailed,
  type Budget as EnforcedBudget,
  InsufficientCredits,
  InvalidRequest,
  NotFound,
  PayloadTooLarge,
  PermissionDenied,
  ProviderHttp,
  ProviderTransport,
  RateLimited,
  type TranslationError
} from "@polydub/core"
import { Context, Duration, Effect, Layer, Option, type Redacted, Schema } from "effect"
import type { HttpClient } from "effect/http"
import type { RateLimiter } from "effect/persistence"
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
  const fields = { operation, status, message: body?.message, code, retryAfter }
  const base = ProviderTransport.errorBase(provider, "VoiceCheap", fields)
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
  const param = body?.details?.field ?? (code === undefined ? undefined : paramOfCode[code])
  return ProviderTransport.statusError(provider, "VoiceCheap", { ...fields, param })
}

const decodeEnvelope = Schema.decodeUnknownOption(Wire.ErrorEnvelope)

// The endpoints, as data: each counts against its own documented budget.
const translateEndpoint = {
  operation: "translate",
  method: "POST",
  schema: Wire.TranslateResponse,
  budget: "translate",
  timeout: "upload"
} as const
const projectEndpoint = { ...translateEndpoint, operation: "createProject", budget: "projects" } as const
const statusEndpoint = {
  operation: "status",
  method: "GET",
  schema: Wire.StatusResponse,
  budget: "status",
  timeout: "read"
} as const

// No idempotency key: an upload is sent again only where `Policy` says it certainly was not
// processed (a refused connection, or a 429 on the request rate). A concurrency refusal is not
// retried: it clears when a running project finishes, minutes away, and each attempt uploads the
// whole file again.
const notConcurrency = (error: TranslationError) => !(error._tag === "RateLimited" && error.scope === "concurrency")

/** Builds the client over the `HttpClient` and `RateLimiter` in context. */
export const make = Effect.fnUntraced(function* (options: VoiceCheapClientOptions) {
  const budgets = options.budgets ?? {}
  const transport = yield* ProviderTransport.make({
    provider,
    name: "VoiceCheap",
    baseUrl: options.baseUrl ?? "https://api.voicecheap.ai",
    apiKey: options.apiKey,
    auth: { header: "x-api-key" },
    budgets: {
      status: budgets.status ?? documented.status,
      projects: budgets.projects ?? documented.projects,
      translate: budgets.translate ?? documented.translate
    },
    reserve,
    rateLimitKey: options.rateLimitKey,
    // Uploads are not timed out by default: files reach 20 GB.
    timeouts: { read: options.timeouts?.read ?? Duration.seconds(30), upload: options.timeouts?.upload },
    retries: options.retries,
    errorOf: ({ operation, status, body, retryAfter }) =>
      mapError(operation, status, Option.getOrUndefined(decodeEnvelope(body)), retryAfter)
  })

  const formFields = (
    operation: string,
    encoded: Effect.Effect<ReadonlyArray<readonly [string, string]>, Schema.SchemaError>
  ) =>
    Effect.mapError(
      encoded,
      (error) =>
        new InvalidRequest({
          provider,
          operation,
          param: String(ProviderHttp.issuePath(error.issue)[0] ?? "fields"),
          message: `a VoiceCheap form field is invalid: ${error.message.split("\n")[0]}`
        })
    )

  // Uploads are retried twice whatever `retries` says (the transport sends a stream that cannot be
  // read twice only once).
  const upload = (
    endpoint: typeof translateEndpoint | typeof projectEndpoint,
    path: string,
    file: Upload,
    fields: ReadonlyArray<readonly [string, string]>
  ) =>
    transport.call(endpoint, {
      path,
      body: { ...ProviderHttp.multipartBody(fields, file), replayable: file.replayable },
      retries: 2,
      retryIf: notConcurrency
    })

  const translate = Effect.fn("VoiceCheapClient.translate")(function* (file: Upload, fields: Wire.TranslateFields) {
    yield* Effect.annotateCurrentSpan({
      "voicecheap.targetLanguage": fields.targetLanguage,
      "voicecheap.bytes": file.size ?? -1
    })
    const form = yield* formFields("translate", Wire.encodeFields(fields))
    return yield* upload(translateEndpoint, "/v1/translate", file, form)
  })

  const createProject = Effect.fn("VoiceCheapClient.createProject")(function* (
    file: Upload,
    fields: Wire.ProjectFields
  ) {
    const form = yield* formFields("createProject", Wire.encodeProjectFields(fields))
    return yield* upload(projectEndpoint, "/v1/projects", file, form)
  })

  const status = Effect.fn("VoiceCheapClient.status")((projectId: string) =>
    Effect.andThen(
      Effect.annotateCurrentSpan("voicecheap.projectId", projectId),
      transport.call(statusEndpoint, { path: `/v1/translate/${encodeURIComponent(projectId)}/status` })
    )
  )

  return VoiceCheapClient.of({ translate, createProject, status, budgets: enforcedBudgets(budgets) })
})

/** The client over the `HttpClient` and `RateLimiter` in context (`layerRateLimiterMemory`, or Redis for a fleet). */
export const layer = (
  options: VoiceCheapClientOptions
): Layer.Layer<VoiceCheapClient, never, HttpClient.HttpClient | RateLimiter.RateLimiter> =>
  Layer.effect(VoiceCheapClient, make(options))

/** The default rate limiter: process memory. */
export const layerRateLimiterMemory: Layer.Layer<RateLimiter.RateLimiter> = ProviderTransport.layerRateLimiterMemory
