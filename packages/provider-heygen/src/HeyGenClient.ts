/**
 * One method per HeyGen video-translation endpoint (v3 and legacy v2), over core's
 * `ProviderTransport`: this file holds the endpoints (`api`) and HeyGen's error codes; the HTTP
 * behaviour lives in core. The API key travels as a redacted `x-api-key` (or bearer) header. Every v3 mutation carries an
 * `Idempotency-Key` — the caller's, or one minted per logical call and reused by its retries — so a
 * POST may be retried after a timeout; without a key (v2) a POST is sent again only when it
 * certainly was not processed. `Retry-After` is honoured, each kind of call has its own timeout,
 * and requests share a budget keyed by a hash of the key.
 */

import {
  AuthenticationFailed,
  InsufficientCredits,
  InvalidRequest,
  NotFound,
  PayloadTooLarge,
  PermissionDenied,
  Policy,
  ProviderHttp,
  ProviderTransport,
  RateLimited,
  RequestInProgress,
  type TranslationError,
  UnexpectedResponse
} from "@polydub/core"
import { Context, Duration, Effect, Layer, Option, type Redacted, Schema } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import type { RateLimiter } from "effect/persistence"
import * as Wire from "./HeyGenWire.js"

export const provider = "heygen"

export interface HeyGenClientOptions {
  /** An API key (sent as `x-api-key`), or an OAuth access token with `auth: "bearer"`. */
  readonly apiKey: Redacted.Redacted<string>
  readonly auth?: "api-key" | "bearer" | undefined
  /** Default `https://api.heygen.com`. */
  readonly baseUrl?: string | undefined
  /** Host of the legacy raw-bytes asset upload (v2). Default `https://upload.heygen.com`. */
  readonly uploadBaseUrl?: string | undefined
  /**
   * Client-side request budget. HeyGen publishes no requests-per-minute figure; the default,
   * 120 a minute, is a guess to be tuned per account.
   */
  readonly budget?: { readonly limit: number; readonly window: Duration.Input } | undefined
  /** Retries after the first attempt. Default 2, as HeyGen's own CLI does. */
  readonly retries?: number | undefined
  /** First backoff before a retry (then exponential, jittered, capped at 30 s). Default 1 s, as HeyGen's CLI. */
  readonly retryBase?: Duration.Input | undefined
  /** Default: 30 s reads, 120 s writes, 10 min uploads (HeyGen's CLI). */
  readonly timeouts?:
    | {
        readonly read?: Duration.Input | undefined
        readonly write?: Duration.Input | undefined
        readonly upload?: Duration.Input | undefined
      }
    | undefined
  /** Budgets are shared by clients with the same key; default: a hash of the API key. */
  readonly rateLimitKey?: string | undefined
}

/** The numeric codes of HeyGen's v2 and v1 error envelopes. */
const v2Codes: Record<string, "auth" | "forbidden" | "invalid"> = {
  "40009": "auth",
  "400562": "forbidden",
  "400599": "forbidden",
  "40001": "invalid",
  "400175": "invalid",
  "400652": "invalid",
  "400624": "invalid"
}

// HeyGen answers both request-rate and concurrent-job excess with 429 `rate_limit_exceeded`; only
// the message tells them apart (docs are silent on a distinct code).
const concurrencyWords = /concurren|simultaneous|at the same time|in progress/i

/** An error code as sent: v3 codes are strings, v2 codes numbers; anything else is no code. */
const codeOf = (value: unknown): string | undefined =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined

/** Maps a HeyGen error answer (either envelope, or a gateway body) to a `TranslationError`. */
export const mapError = (
  operation: string,
  status: number,
  body: unknown,
  retryAfter: Option.Option<Duration.Duration>
): TranslationError => {
  let code: string | undefined
  let message: string | undefined
  let param: string | undefined
  if (typeof body === "object" && body !== null) {
    const b = body as Record<string, any>
    if (typeof b.error === "object" && b.error !== null) {
      code = codeOf(b.error.code)
      message = typeof b.error.message === "string" ? b.error.message : undefined
      param = typeof b.error.param === "string" ? b.error.param : undefined
    } else {
      code = codeOf(b.code)
      message =
        typeof b.message === "string"
          ? b.message
          : typeof b.msg === "string"
            ? b.msg
            : typeof b.error === "string"
              ? b.error
              : undefined
    }
  }
  // The CLI falls back on the HTTP status when the code is missing or just "error" (gateways).
  if (code === "error") code = undefined
  const fields = { operation, status, message, code, retryAfter }
  const base = ProviderTransport.errorBase(provider, "HeyGen", fields)
  const after = Option.isSome(retryAfter) ? { retryAfter: retryAfter.value } : {}
  const legacy = code === undefined ? undefined : v2Codes[code]
  switch (code) {
    case "unauthorized":
    case "authentication_failed":
      return new AuthenticationFailed(base)
    case "forbidden":
    case "resource_access_denied":
      return new PermissionDenied(base)
    case "insufficient_credit":
      return new InsufficientCredits(base)
    case "not_found":
      return new NotFound(base)
    case "invalid_parameter":
    case "validation_error":
    case "download_failed":
    case "asset_not_available":
      return new InvalidRequest({ ...base, ...(param === undefined ? {} : { param }) })
    case "conflict":
    case "request_in_progress":
      return new RequestInProgress({ ...base, ...after })
    case "payload_too_large":
      return new PayloadTooLarge(base)
    case "rate_limit_exceeded":
      return new RateLimited({
        ...base,
        scope: concurrencyWords.test(base.message) ? "concurrency" : "requests",
        ...after
      })
    case "resource_limit_exceeded":
      return new RateLimited({ ...base, scope: "quota", ...after })
  }
  if (legacy === "auth") return new AuthenticationFailed(base)
  if (legacy === "forbidden") return new PermissionDenied(base)
  if (legacy === "invalid") return new InvalidRequest(base)
  return ProviderTransport.statusError(provider, "HeyGen", {
    ...fields,
    param,
    scope: concurrencyWords.test(base.message) ? "concurrency" : "requests"
  })
}

const decodeV2Error = Schema.decodeUnknownOption(Wire.V2ErrorEnvelope)

/** v2 can answer 200 with `error` set; that is a failure, not a result. */
const v2Refusal = (text: string): unknown => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  const envelope = decodeV2Error(json)
  return Option.isSome(envelope) && envelope.value.error !== undefined && envelope.value.error !== null
    ? envelope.value
    : undefined
}

type Codec = Schema.Codec<any, any, never, never>
const get = <S extends Codec>(operation: string, schema: S) => ({ operation, method: "GET", schema }) as const
const post = <S extends Codec>(operation: string, schema: S) => ({ operation, method: "POST", schema }) as const
const v2 = <E extends ProviderTransport.Endpoint<Codec>>(endpoint: E) => ({ ...endpoint, refusal: v2Refusal }) as const

/**
 * HeyGen's endpoints, as data. A v3 mutation carries an idempotency key (see `keyOf`), which makes
 * it safe to retry; a v2 one has none and is sent again only when it certainly was not processed.
 */
const api = {
  createTranslation: post("createTranslation", Wire.CreateTranslationResponse),
  getTranslation: get("getTranslation", Wire.TranslationResponse),
  listTranslations: get("listTranslations", Wire.ListTranslationsResponse),
  updateTitle: { operation: "updateTitle", method: "PATCH", schema: Wire.TranslationResponse },
  deleteTranslation: { operation: "deleteTranslation", method: "DELETE", schema: Wire.DeleteResponse },
  languages: get("languages", Wire.LanguagesResponse),
  statuses: get("statuses", Wire.BulkStatusResponse),
  createBatch: post("createBatch", Wire.CreateBatchResponse),
  getBatch: get("getBatch", Wire.BatchResponse),
  createProofread: post("createProofread", Wire.CreateProofreadResponse),
  getProofread: get("getProofread", Wire.ProofreadResponse),
  getProofreadSrt: get("getProofreadSrt", Wire.ProofreadSrtResponse),
  putProofreadSrt: { operation: "putProofreadSrt", method: "PUT", schema: Wire.ProofreadResponse },
  generateProofread: post("generateProofread", Wire.GenerateResponse),
  uploadAsset: { ...post("uploadAsset", Wire.AssetResponse), timeout: "upload" },
  createDirectUpload: post("createDirectUpload", Wire.DirectUploadResponse),
  completeDirectUpload: post("completeDirectUpload", Wire.AssetResponse),
  v2Create: v2(post("v2CreateTranslation", Wire.V2CreateResponse)),
  v2Status: v2(get("v2Status", Wire.V2StatusResponse)),
  v2Languages: v2(get("v2Languages", Wire.V2LanguagesResponse)),
  v2Caption: v2(get("v2Caption", Wire.V2CaptionResponse)),
  v2CreateProofread: v2(post("v2CreateProofread", Wire.V2CreateProofreadResponse)),
  v2ProofreadStatus: v2(get("v2ProofreadStatus", Wire.V2ProofreadStatusResponse)),
  v2DownloadSrt: v2(get("v2DownloadSrt", Wire.V2DownloadSrtResponse)),
  // Replacing a proofread's SRT is a replace-in-place, costs nothing, and is safe to send again.
  v2UploadSrt: v2({ ...post("v2UploadSrt", Wire.v2Empty), idempotent: true }),
  v2Generate: v2(post("v2Generate", Wire.V2GenerateResponse)),
  v1UploadAsset: { ...post("v1UploadAsset", Wire.V1AssetResponse), timeout: "upload" },
  createWebhookEndpoint: post("createWebhookEndpoint", Wire.WebhookEndpointResponse),
  listWebhookEndpoints: get("listWebhookEndpoints", Wire.ListWebhookEndpointsResponse),
  deleteWebhookEndpoint: { operation: "deleteWebhookEndpoint", method: "DELETE", schema: Wire.v2Empty },
  rotateWebhookSecret: post("rotateWebhookSecret", Wire.RotateSecretResponse),
  webhookEvents: get("webhookEvents", Wire.WebhookEventsResponse)
} as const

/** Builds the client over the `HttpClient` and `RateLimiter` in context. */
export const make = Effect.fnUntraced(function* (options: HeyGenClientOptions) {
  const uploadBaseUrl = (options.uploadBaseUrl ?? "https://upload.heygen.com").replace(/\/+$/, "")
  const transport = yield* ProviderTransport.make({
    provider,
    name: "HeyGen",
    baseUrl: options.baseUrl ?? "https://api.heygen.com",
    apiKey: options.apiKey,
    auth: options.auth === "bearer" ? "bearer" : { header: "x-api-key" },
    // One budget for every call, keyed by the key's hash alone, one request held in reserve.
    budgets: { "": options.budget ?? { limit: 120, window: Duration.minutes(1) } },
    reserve: 1,
    rateLimitKey: options.rateLimitKey,
    timeouts: {
      read: options.timeouts?.read ?? Duration.seconds(30),
      write: options.timeouts?.write ?? Duration.seconds(120),
      upload: options.timeouts?.upload ?? Duration.minutes(10)
    },
    retries: options.retries,
    retryBase: options.retryBase,
    idempotencyHeader: "Idempotency-Key",
    errorOf: ({ operation, status, body, retryAfter }) => mapError(operation, status, body, retryAfter)
  })
  const call = transport.call

  const id = (s: string) => encodeURIComponent(s)
  const keyOf = (k: string | undefined) => (k === undefined ? Policy.mintIdempotencyKey : Effect.succeed(k))

  // ---- v3 translations -------------------------------------------------------------------
  const createTranslation = Effect.fn("HeyGenClient.createTranslation")(function* (
    body: Wire.CreateTranslationRequest,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.createTranslation, { path: "/v3/video-translations", json: body, idempotencyKey: key })
  })
  const getTranslation = Effect.fn("HeyGenClient.getTranslation")((translationId: string) =>
    call(api.getTranslation, { path: `/v3/video-translations/${id(translationId)}` })
  )
  const listTranslations = Effect.fn("HeyGenClient.listTranslations")(
    (params: { limit?: number; token?: string } = {}) =>
      call(api.listTranslations, {
        path: "/v3/video-translations",
        urlParams: {
          ...(params.limit === undefined ? {} : { limit: String(params.limit) }),
          ...(params.token === undefined ? {} : { token: params.token })
        }
      })
  )
  const updateTitle = Effect.fn("HeyGenClient.updateTitle")(function* (
    translationId: string,
    title: string,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.updateTitle, {
      path: `/v3/video-translations/${id(translationId)}`,
      json: { title },
      idempotencyKey: key
    })
  })
  const deleteTranslation = Effect.fn("HeyGenClient.deleteTranslation")(function* (
    translationId: string,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.deleteTranslation, {
      path: `/v3/video-translations/${id(translationId)}`,
      idempotencyKey: key
    })
  })
  const languages = Effect.fn("HeyGenClient.languages")(() =>
    call(api.languages, { path: "/v3/video-translations/languages" })
  )
  const statuses = Effect.fn("HeyGenClient.statuses")(function* (ids: ReadonlyArray<string>) {
    if (ids.length > 100) {
      return yield* new InvalidRequest({
        provider,
        operation: "statuses",
        param: "video_translation_ids",
        message: "at most 100 ids per request"
      })
    }
    return yield* call(api.statuses, {
      path: "/v3/video-translations/statuses",
      urlParams: { video_translation_ids: ids.join(",") }
    })
  })
  const createBatch = Effect.fn("HeyGenClient.createBatch")(function* (
    body: typeof Wire.CreateBatchRequest.Type,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.createBatch, { path: "/v3/video-translations/batches", json: body, idempotencyKey: key })
  })
  const getBatch = Effect.fn("HeyGenClient.getBatch")((batchId: string) =>
    call(api.getBatch, { path: `/v3/video-translations/batches/${id(batchId)}` })
  )

  // ---- v3 proofreads ---------------------------------------------------------------------
  const createProofread = Effect.fn("HeyGenClient.createProofread")(function* (
    body: Wire.CreateProofreadRequest,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.createProofread, {
      path: "/v3/video-translations/proofreads",
      json: body,
      idempotencyKey: key
    })
  })
  const getProofread = Effect.fn("HeyGenClient.getProofread")((proofreadId: string) =>
    call(api.getProofread, { path: `/v3/video-translations/proofreads/${id(proofreadId)}` })
  )
  const getProofreadSrt = Effect.fn("HeyGenClient.getProofreadSrt")((proofreadId: string) =>
    call(api.getProofreadSrt, { path: `/v3/video-translations/proofreads/${id(proofreadId)}/srt` })
  )
  const putProofreadSrt = Effect.fn("HeyGenClient.putProofreadSrt")(function* (
    proofreadId: string,
    srt: Wire.AssetInput,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.putProofreadSrt, {
      path: `/v3/video-translations/proofreads/${id(proofreadId)}/srt`,
      json: { srt },
      idempotencyKey: key
    })
  })
  const generateProofread = Effect.fn("HeyGenClient.generateProofread")(function* (
    proofreadId: string,
    body: Wire.GenerateRequest,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.generateProofread, {
      path: `/v3/video-translations/proofreads/${id(proofreadId)}/generate`,
      json: body,
      idempotencyKey: key
    })
  })

  // ---- v3 assets -------------------------------------------------------------------------
  /** `POST /v3/assets` (multipart, ≤ 32 MB), streamed. */
  const uploadAsset = Effect.fn("HeyGenClient.uploadAsset")(function* (
    file: ProviderHttp.Upload,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.uploadAsset, {
      path: "/v3/assets",
      body: { ...ProviderHttp.multipartBody([], file), replayable: file.replayable },
      idempotencyKey: key
    })
  })
  /** The direct-upload flow for files over 32 MB: reserve, PUT the bytes, complete. */
  const uploadAssetDirect = Effect.fn("HeyGenClient.uploadAssetDirect")(function* (
    file: ProviderHttp.Upload & { readonly size: number },
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    const reserved = yield* call(api.createDirectUpload, {
      path: "/v3/assets/direct-uploads",
      json: { filename: file.name, content_type: file.mediaType, size_bytes: file.size },
      idempotencyKey: `${key}.reserve`
    })
    const target = reserved.data
    // The upload URL is presigned: no API key goes there.
    let put = HttpClientRequest.put(target.upload_url).pipe(
      HttpClientRequest.bodyStream(file.stream, { contentType: file.mediaType, contentLength: file.size })
    )
    for (const [name, value] of Object.entries(target.upload_headers ?? {}))
      put = HttpClientRequest.setHeader(put, name, value)
    const sent = yield* transport.presigned("putDirectUpload", put, {
      timeout: "upload",
      idempotent: false,
      retries: 0
    })
    if (sent.status < 200 || sent.status >= 300) {
      return yield* mapError("putDirectUpload", sent.status, undefined, Option.none())
    }
    return yield* call(api.completeDirectUpload, {
      path: `/v3/assets/${id(target.asset_id)}/complete`,
      json: {},
      idempotencyKey: `${key}.complete`
    })
  })

  // ---- v2 ------------------------------------------------------------------------------------
  const v2Create = Effect.fn("HeyGenClient.v2CreateTranslation")((body: Wire.V2CreateRequest) =>
    call(api.v2Create, { path: "/v2/video_translate", json: body })
  )
  const v2Status = Effect.fn("HeyGenClient.v2Status")((translateId: string) =>
    call(api.v2Status, { path: `/v2/video_translate/${id(translateId)}` })
  )
  const v2Languages = Effect.fn("HeyGenClient.v2Languages")(() =>
    call(api.v2Languages, { path: "/v2/video_translate/target_languages" })
  )
  const v2Caption = Effect.fn("HeyGenClient.v2Caption")((translateId: string, captionType: "srt" | "vtt") =>
    call(api.v2Caption, {
      path: "/v2/video_translate/caption",
      urlParams: { video_translate_id: translateId, caption_type: captionType }
    })
  )
  const v2CreateProofread = Effect.fn("HeyGenClient.v2CreateProofread")(
    (body: typeof Wire.V2CreateProofreadRequest.Type) =>
      call(api.v2CreateProofread, { path: "/v2/video_translate/proofread", json: body })
  )
  const v2ProofreadStatus = Effect.fn("HeyGenClient.v2ProofreadStatus")((proofreadId: string) =>
    call(api.v2ProofreadStatus, { path: `/v2/video_translate/proofread/status/${id(proofreadId)}` })
  )
  const v2DownloadSrt = Effect.fn("HeyGenClient.v2DownloadSrt")((proofreadId: string) =>
    call(api.v2DownloadSrt, { path: `/v2/video_translate/proofread/${id(proofreadId)}/download-srt` })
  )
  const v2UploadSrt = Effect.fn("HeyGenClient.v2UploadSrt")((proofreadId: string, srtFileUrl: string) =>
    // Replacing a proofread's SRT is a replace-in-place, costs nothing, and is safe to send again.
    call(api.v2UploadSrt, {
      path: `/v2/video_translate/proofread/${id(proofreadId)}/upload-srt`,
      json: { srt_file_url: srtFileUrl }
    }).pipe(Effect.asVoid)
  )
  const v2Generate = Effect.fn("HeyGenClient.v2Generate")(
    (proofreadId: string, body: typeof Wire.V2GenerateRequest.Type) =>
      call(api.v2Generate, { path: `/v2/video_translate/proofread/${id(proofreadId)}/generate`, json: body })
  )
  /** Legacy raw-bytes upload to upload.heygen.com; answers the asset's URL (v2 takes URLs only). */
  const v1UploadAsset = Effect.fn("HeyGenClient.v1UploadAsset")((file: ProviderHttp.Upload) =>
    call(api.v1UploadAsset, {
      baseUrl: uploadBaseUrl,
      path: "/v1/asset",
      body: { contentType: file.mediaType, contentLength: file.size, stream: file.stream, replayable: file.replayable }
    })
  )

  // ---- v3 webhook endpoints -------------------------------------------------------------------
  const createWebhookEndpoint = Effect.fn("HeyGenClient.createWebhookEndpoint")(function* (
    body: typeof Wire.CreateWebhookEndpointRequest.Type,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.createWebhookEndpoint, { path: "/v3/webhooks/endpoints", json: body, idempotencyKey: key })
  })
  const listWebhookEndpoints = Effect.fn("HeyGenClient.listWebhookEndpoints")(() =>
    call(api.listWebhookEndpoints, { path: "/v3/webhooks/endpoints" })
  )
  const deleteWebhookEndpoint = Effect.fn("HeyGenClient.deleteWebhookEndpoint")((endpointId: string) =>
    call(api.deleteWebhookEndpoint, { path: `/v3/webhooks/endpoints/${id(endpointId)}` }).pipe(Effect.asVoid)
  )
  const rotateWebhookSecret = Effect.fn("HeyGenClient.rotateWebhookSecret")(function* (
    endpointId: string,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call(api.rotateWebhookSecret, {
      path: `/v3/webhooks/endpoints/${id(endpointId)}/rotate-secret`,
      json: {},
      idempotencyKey: key
    })
  })
  const webhookEvents = Effect.fn("HeyGenClient.webhookEvents")(
    (params: { eventType?: string; entityId?: string } = {}) =>
      call(api.webhookEvents, {
        path: "/v3/webhooks/events",
        urlParams: {
          ...(params.eventType === undefined ? {} : { event_type: params.eventType }),
          ...(params.entityId === undefined ? {} : { entity_id: params.entityId })
        }
      })
  )

  /** Fetches a presigned file (SRT) HeyGen pointed to; no API key goes there. */
  const fetchText = Effect.fn("HeyGenClient.fetchText")(function* (url: string) {
    const request = HttpClientRequest.get(url).pipe(HttpClientRequest.setHeader("Cache-Control", "no-cache"))
    const { status, text } = yield* transport.presigned("fetchText", request, { timeout: "read", idempotent: true })
    if (status !== 200) {
      return yield* new UnexpectedResponse({
        provider,
        operation: "fetchText",
        status,
        path: "(url)",
        excerpt: text.slice(0, 200),
        message: `downloading a file HeyGen pointed to answered HTTP ${status} (the link may have expired)`
      })
    }
    return text
  })

  return {
    createTranslation,
    getTranslation,
    listTranslations,
    updateTitle,
    deleteTranslation,
    languages,
    statuses,
    createBatch,
    getBatch,
    createProofread,
    getProofread,
    getProofreadSrt,
    putProofreadSrt,
    generateProofread,
    uploadAsset,
    uploadAssetDirect,
    v2Create,
    v2Status,
    v2Languages,
    v2Caption,
    v2CreateProofread,
    v2ProofreadStatus,
    v2DownloadSrt,
    v2UploadSrt,
    v2Generate,
    v1UploadAsset,
    createWebhookEndpoint,
    listWebhookEndpoints,
    deleteWebhookEndpoint,
    rotateWebhookSecret,
    webhookEvents,
    fetchText
  }
})

export type HeyGenClientService = Effect.Success<ReturnType<typeof make>>

export class HeyGenClient extends Context.Service<HeyGenClient, HeyGenClientService>()(
  "@polydub/provider-heygen/HeyGenClient"
) {}

export const layer = (
  options: HeyGenClientOptions
): Layer.Layer<HeyGenClient, never, HttpClient.HttpClient | RateLimiter.RateLimiter> =>
  Layer.effect(HeyGenClient, make(options))

/** The default rate limiter: process memory (use `RateLimiter.layerStoreRedis` for a fleet). */
export const layerRateLimiterMemory: Layer.Layer<RateLimiter.RateLimiter> = ProviderTransport.layerRateLimiterMemory
