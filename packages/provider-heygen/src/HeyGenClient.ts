/**
 * One method per HeyGen video-translation endpoint (v3 and legacy v2), on `effect/http`.
 * The API key travels as a redacted `x-api-key` (or bearer) header. Every v3 mutation carries an
 * `Idempotency-Key` — the caller's, or one minted per logical call and reused by its retries — so a
 * POST may be retried after a timeout; without a key (v2) a POST is sent again only when it
 * certainly was not processed. `Retry-After` is honoured, each kind of call has its own timeout,
 * and requests share a budget keyed by a hash of the key.
 */

import { createHash } from "node:crypto"
import {
  AuthenticationFailed,
  InsufficientCredits,
  InvalidRequest,
  NotFound,
  PayloadTooLarge,
  PermissionDenied,
  Policy,
  ProviderHttp,
  ProviderUnavailable,
  RateLimited,
  RequestInProgress,
  type TranslationError,
  UnexpectedResponse
} from "@polydub/core"
import { Context, Duration, Effect, Layer, Option, Redacted, type Schema } from "effect"
import { Headers, HttpClient, HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { RateLimiter } from "effect/persistence"
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

type Kind = "read" | "write" | "upload"

interface Call<S extends Schema.Codec<any, any, never, never>> {
  readonly operation: string
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly path: string
  readonly schema: S
  readonly body?: unknown
  readonly urlParams?: Record<string, string> | undefined
  /** v3 mutations: the key to send. */
  readonly idempotencyKey?: string | undefined
  readonly kind?: Kind | undefined
  /** v2: a 200 whose `error` is set is a failure. */
  readonly v2?: boolean | undefined
  /** Overrides the method's default: replacing a proofread's SRT is safe to repeat. */
  readonly idempotent?: boolean | undefined
  /** Absolute URL (for the legacy upload host). */
  readonly absolute?: boolean | undefined
  /** Overrides the retry count: a body streamed from a source that cannot be read twice is sent once. */
  readonly retries?: number | undefined
  readonly upload?:
    | {
        readonly contentType: string
        readonly contentLength?: number | undefined
        readonly stream: ProviderHttp.Upload["stream"]
      }
    | undefined
}

const context = (operation: string) => ({ provider, operation })

/** Numeric v2/v1 codes (reference §6). */
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
  const base = {
    ...context(operation),
    status,
    message: message ?? `HeyGen answered HTTP ${status}`,
    ...(code === undefined ? {} : { providerCode: code })
  }
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
  if (status === 401) return new AuthenticationFailed(base)
  if (status === 402) return new InsufficientCredits(base)
  if (status === 403) return new PermissionDenied(base)
  if (status === 404) return new NotFound(base)
  if (status === 409) return new RequestInProgress({ ...base, ...after })
  if (status === 413) return new PayloadTooLarge(base)
  if (status === 429) {
    return new RateLimited({
      ...base,
      scope: concurrencyWords.test(base.message) ? "concurrency" : "requests",
      ...after
    })
  }
  if (status >= 400 && status < 500) return new InvalidRequest({ ...base, ...(param === undefined ? {} : { param }) })
  return new ProviderUnavailable({ ...base, outcome: "unknown", ...after })
}

const parseJsonOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

type Budgeted = HttpClient.HttpClient.With<HttpClientError.HttpClientError | RateLimiter.RateLimiterError>

/** Builds the client over the `HttpClient` and `RateLimiter` in context. */
export const make = Effect.fnUntraced(function* (options: HeyGenClientOptions) {
  const http = yield* HttpClient.HttpClient
  const limiter = yield* RateLimiter.RateLimiter
  const baseUrl = (options.baseUrl ?? "https://api.heygen.com").replace(/\/+$/, "")
  const uploadBaseUrl = (options.uploadBaseUrl ?? "https://upload.heygen.com").replace(/\/+$/, "")
  const key =
    options.rateLimitKey ??
    `heygen:${createHash("sha256").update(Redacted.value(options.apiKey)).digest("hex").slice(0, 16)}`
  const timeouts: Record<Kind, Duration.Duration> = {
    read: Duration.fromInputUnsafe(options.timeouts?.read ?? Duration.seconds(30)),
    write: Duration.fromInputUnsafe(options.timeouts?.write ?? Duration.seconds(120)),
    upload: Duration.fromInputUnsafe(options.timeouts?.upload ?? Duration.minutes(10))
  }
  const budget = options.budget ?? { limit: 120, window: Duration.minutes(1) }
  const authHeader = (request: HttpClientRequest.HttpClientRequest) =>
    options.auth === "bearer"
      ? HttpClientRequest.bearerToken(request, Redacted.value(options.apiKey))
      : HttpClientRequest.setHeader(request, "x-api-key", Redacted.value(options.apiKey))

  // The budget spread evenly over the limiter's slots, one request held in reserve (see `budgetSlots`).
  const client: Budgeted = http.pipe(
    HttpClient.mapRequest((request) => authHeader(HttpClientRequest.acceptJson(request))),
    HttpClient.withRateLimiter({
      limiter,
      key,
      ...ProviderHttp.budgetSlots(budget, 1),
      algorithm: "fixed-window",
      times: 0,
      disableAdaptiveLearning: true
    })
  )

  const send = (operation: string, request: HttpClientRequest.HttpClientRequest) =>
    client.execute(request).pipe(
      // The key headers stay redacted in spans even where an application replaced the default list.
      Effect.updateService(Headers.CurrentRedactedNames, (names) => [...names, "x-api-key", "authorization"]),
      Effect.mapError(
        (error): TranslationError =>
          HttpClientError.isHttpClientError(error)
            ? ProviderHttp.transportError(error, context(operation))
            : new ProviderUnavailable({
                ...context(operation),
                outcome: "not-sent",
                message: `the request budget could not be checked: ${String(error)}`
              })
      )
    )

  const answer = <S extends Schema.Codec<any, any, never, never>>(
    call: Call<S>,
    response: HttpClientResponse.HttpClientResponse
  ): Effect.Effect<S["Type"], TranslationError> =>
    Effect.flatMap(ProviderHttp.bodyText(response, context(call.operation)), (text) => {
      // Read only for an error: `headers` parses every header again on each access.
      const retryAfter = () => Policy.parseRetryAfter(response.headers["retry-after"], Date.now())
      if (response.status < 200 || response.status >= 300) {
        return Effect.fail(mapError(call.operation, response.status, parseJsonOrUndefined(text), retryAfter()))
      }
      const decoded = ProviderHttp.decodeJsonText(call.schema, text, {
        ...context(call.operation),
        status: response.status
      })
      // A mutation HeyGen accepted but whose answer cannot be read may have taken effect: its
      // outcome is unknown. With an idempotency key it is sent again and replayed; without, it is not.
      const result: Effect.Effect<S["Type"], TranslationError> =
        call.method === "GET"
          ? decoded
          : Effect.mapError(
              decoded,
              (e) =>
                new ProviderUnavailable({
                  ...context(call.operation),
                  status: response.status,
                  outcome: "unknown",
                  message: `HeyGen answered ${call.operation} with a body that cannot be read (${e.message}); the request may have taken effect`
                })
            )
      if (call.v2 !== true) return result
      // v2 can answer 200 with `error` set; that is a failure, not a result.
      return Effect.flatMap(
        Effect.option(ProviderHttp.decodeJsonText(Wire.V2ErrorEnvelope, text, context(call.operation))),
        (envelope) =>
          Option.isSome(envelope) && envelope.value.error !== undefined && envelope.value.error !== null
            ? Effect.fail(mapError(call.operation, response.status, envelope.value, retryAfter()))
            : result
      )
    })

  /** Runs one call with retries: reads and keyed writes on transient failures, others only when unsent or 429. */
  const call = <S extends Schema.Codec<any, any, never, never>>(
    c: Call<S>
  ): Effect.Effect<S["Type"], TranslationError> => {
    let request = HttpClientRequest.make(c.method)(c.absolute === true ? c.path : `${baseUrl}${c.path}`)
    if (c.urlParams !== undefined) request = HttpClientRequest.setUrlParams(request, c.urlParams)
    if (c.idempotencyKey !== undefined)
      request = HttpClientRequest.setHeader(request, "Idempotency-Key", c.idempotencyKey)
    if (c.upload !== undefined) {
      request = HttpClientRequest.bodyStream(request, c.upload.stream, {
        contentType: c.upload.contentType,
        ...(c.upload.contentLength === undefined ? {} : { contentLength: c.upload.contentLength })
      })
    } else if (c.body !== undefined) {
      request = HttpClientRequest.bodyJsonUnsafe(request, c.body)
    }
    const kind = c.kind ?? (c.method === "GET" ? "read" : "write")
    const idempotent =
      c.idempotent ??
      (c.method === "GET" || c.method === "PUT" || c.method === "DELETE" || c.idempotencyKey !== undefined)
    // The timeout covers the answer's body too: a body that stalls is as unknown as a silent server.
    return send(c.operation, request).pipe(
      Effect.flatMap((response) => answer(c, response)),
      ProviderHttp.exchangeTimeout(timeouts[kind], context(c.operation)),
      Policy.withRetry({ idempotent, times: c.retries ?? options.retries ?? 2, base: options.retryBase })
    )
  }

  const id = (s: string) => encodeURIComponent(s)
  const keyOf = (k: string | undefined) => (k === undefined ? Policy.mintIdempotencyKey : Effect.succeed(k))

  // ---- v3 translations -------------------------------------------------------------------
  const createTranslation = Effect.fn("HeyGenClient.createTranslation")(function* (
    body: Wire.CreateTranslationRequest,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call({
      operation: "createTranslation",
      method: "POST",
      path: "/v3/video-translations",
      body,
      schema: Wire.CreateTranslationResponse,
      idempotencyKey: key
    })
  })
  const getTranslation = Effect.fn("HeyGenClient.getTranslation")((translationId: string) =>
    call({
      operation: "getTranslation",
      method: "GET",
      path: `/v3/video-translations/${id(translationId)}`,
      schema: Wire.TranslationResponse
    })
  )
  const listTranslations = Effect.fn("HeyGenClient.listTranslations")(
    (params: { limit?: number; token?: string } = {}) =>
      call({
        operation: "listTranslations",
        method: "GET",
        path: "/v3/video-translations",
        schema: Wire.ListTranslationsResponse,
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
    return yield* call({
      operation: "updateTitle",
      method: "PATCH",
      path: `/v3/video-translations/${id(translationId)}`,
      body: { title },
      schema: Wire.TranslationResponse,
      idempotencyKey: key
    })
  })
  const deleteTranslation = Effect.fn("HeyGenClient.deleteTranslation")(function* (
    translationId: string,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call({
      operation: "deleteTranslation",
      method: "DELETE",
      path: `/v3/video-translations/${id(translationId)}`,
      schema: Wire.DeleteResponse,
      idempotencyKey: key
    })
  })
  const languages = Effect.fn("HeyGenClient.languages")(() =>
    call({
      operation: "languages",
      method: "GET",
      path: "/v3/video-translations/languages",
      schema: Wire.LanguagesResponse
    })
  )
  const statuses = Effect.fn("HeyGenClient.statuses")(function* (ids: ReadonlyArray<string>) {
    if (ids.length > 100) {
      return yield* new InvalidRequest({
        ...context("statuses"),
        param: "video_translation_ids",
        message: "at most 100 ids per request"
      })
    }
    return yield* call({
      operation: "statuses",
      method: "GET",
      path: "/v3/video-translations/statuses",
      schema: Wire.BulkStatusResponse,
      urlParams: { video_translation_ids: ids.join(",") }
    })
  })
  const createBatch = Effect.fn("HeyGenClient.createBatch")(function* (
    body: typeof Wire.CreateBatchRequest.Type,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call({
      operation: "createBatch",
      method: "POST",
      path: "/v3/video-translations/batches",
      body,
      schema: Wire.CreateBatchResponse,
      idempotencyKey: key
    })
  })
  const getBatch = Effect.fn("HeyGenClient.getBatch")((batchId: string) =>
    call({
      operation: "getBatch",
      method: "GET",
      path: `/v3/video-translations/batches/${id(batchId)}`,
      schema: Wire.BatchResponse
    })
  )

  // ---- v3 proofreads ---------------------------------------------------------------------
  const createProofread = Effect.fn("HeyGenClient.createProofread")(function* (
    body: Wire.CreateProofreadRequest,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call({
      operation: "createProofread",
      method: "POST",
      path: "/v3/video-translations/proofreads",
      body,
      schema: Wire.CreateProofreadResponse,
      idempotencyKey: key
    })
  })
  const getProofread = Effect.fn("HeyGenClient.getProofread")((proofreadId: string) =>
    call({
      operation: "getProofread",
      method: "GET",
      path: `/v3/video-translations/proofreads/${id(proofreadId)}`,
      schema: Wire.ProofreadResponse
    })
  )
  const getProofreadSrt = Effect.fn("HeyGenClient.getProofreadSrt")((proofreadId: string) =>
    call({
      operation: "getProofreadSrt",
      method: "GET",
      path: `/v3/video-translations/proofreads/${id(proofreadId)}/srt`,
      schema: Wire.ProofreadSrtResponse
    })
  )
  const putProofreadSrt = Effect.fn("HeyGenClient.putProofreadSrt")(function* (
    proofreadId: string,
    srt: Wire.AssetInput,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call({
      operation: "putProofreadSrt",
      method: "PUT",
      path: `/v3/video-translations/proofreads/${id(proofreadId)}/srt`,
      body: { srt },
      schema: Wire.ProofreadResponse,
      idempotencyKey: key
    })
  })
  const generateProofread = Effect.fn("HeyGenClient.generateProofread")(function* (
    proofreadId: string,
    body: Wire.GenerateRequest,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call({
      operation: "generateProofread",
      method: "POST",
      path: `/v3/video-translations/proofreads/${id(proofreadId)}/generate`,
      body,
      schema: Wire.GenerateResponse,
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
    const body = ProviderHttp.multipartBody([], file)
    return yield* call({
      operation: "uploadAsset",
      method: "POST",
      path: "/v3/assets",
      schema: Wire.AssetResponse,
      idempotencyKey: key,
      kind: "upload",
      upload: body,
      ...(file.replayable ? {} : { retries: 0 })
    })
  })
  /** The direct-upload flow for files over 32 MB: reserve, PUT the bytes, complete. */
  const uploadAssetDirect = Effect.fn("HeyGenClient.uploadAssetDirect")(function* (
    file: ProviderHttp.Upload & { readonly size: number },
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    const reserved = yield* call({
      operation: "createDirectUpload",
      method: "POST",
      path: "/v3/assets/direct-uploads",
      body: { filename: file.name, content_type: file.mediaType, size_bytes: file.size },
      schema: Wire.DirectUploadResponse,
      idempotencyKey: `${key}.reserve`
    })
    const target = reserved.data
    // The upload URL is presigned: no API key goes there.
    let put = HttpClientRequest.put(target.upload_url).pipe(
      HttpClientRequest.bodyStream(file.stream, { contentType: file.mediaType, contentLength: file.size })
    )
    for (const [name, value] of Object.entries(target.upload_headers ?? {}))
      put = HttpClientRequest.setHeader(put, name, value)
    const response = yield* http.execute(put).pipe(
      Effect.mapError((e) => ProviderHttp.transportError(e, context("putDirectUpload"))),
      Effect.timeoutOrElse({
        duration: timeouts.upload,
        orElse: () =>
          Effect.fail(
            new ProviderUnavailable({
              ...context("putDirectUpload"),
              outcome: "unknown",
              message: "the upload timed out"
            })
          )
      })
    )
    if (response.status < 200 || response.status >= 300) {
      return yield* mapError("putDirectUpload", response.status, undefined, Option.none())
    }
    return yield* call({
      operation: "completeDirectUpload",
      method: "POST",
      path: `/v3/assets/${id(target.asset_id)}/complete`,
      body: {},
      schema: Wire.AssetResponse,
      idempotencyKey: `${key}.complete`
    })
  })

  // ---- v2 ------------------------------------------------------------------------------------
  const v2Create = Effect.fn("HeyGenClient.v2CreateTranslation")((body: Wire.V2CreateRequest) =>
    call({
      operation: "v2CreateTranslation",
      method: "POST",
      path: "/v2/video_translate",
      body,
      schema: Wire.V2CreateResponse,
      v2: true
    })
  )
  const v2Status = Effect.fn("HeyGenClient.v2Status")((translateId: string) =>
    call({
      operation: "v2Status",
      method: "GET",
      path: `/v2/video_translate/${id(translateId)}`,
      schema: Wire.V2StatusResponse,
      v2: true
    })
  )
  const v2Languages = Effect.fn("HeyGenClient.v2Languages")(() =>
    call({
      operation: "v2Languages",
      method: "GET",
      path: "/v2/video_translate/target_languages",
      schema: Wire.V2LanguagesResponse,
      v2: true
    })
  )
  const v2Caption = Effect.fn("HeyGenClient.v2Caption")((translateId: string, captionType: "srt" | "vtt") =>
    call({
      operation: "v2Caption",
      method: "GET",
      path: "/v2/video_translate/caption",
      urlParams: { video_translate_id: translateId, caption_type: captionType },
      schema: Wire.V2CaptionResponse,
      v2: true
    })
  )
  const v2CreateProofread = Effect.fn("HeyGenClient.v2CreateProofread")(
    (body: typeof Wire.V2CreateProofreadRequest.Type) =>
      call({
        operation: "v2CreateProofread",
        method: "POST",
        path: "/v2/video_translate/proofread",
        body,
        schema: Wire.V2CreateProofreadResponse,
        v2: true
      })
  )
  const v2ProofreadStatus = Effect.fn("HeyGenClient.v2ProofreadStatus")((proofreadId: string) =>
    call({
      operation: "v2ProofreadStatus",
      method: "GET",
      path: `/v2/video_translate/proofread/status/${id(proofreadId)}`,
      schema: Wire.V2ProofreadStatusResponse,
      v2: true
    })
  )
  const v2DownloadSrt = Effect.fn("HeyGenClient.v2DownloadSrt")((proofreadId: string) =>
    call({
      operation: "v2DownloadSrt",
      method: "GET",
      path: `/v2/video_translate/proofread/${id(proofreadId)}/download-srt`,
      schema: Wire.V2DownloadSrtResponse,
      v2: true
    })
  )
  const v2UploadSrt = Effect.fn("HeyGenClient.v2UploadSrt")((proofreadId: string, srtFileUrl: string) =>
    // Replacing a proofread's SRT is a replace-in-place, costs nothing, and is safe to send again.
    call({
      operation: "v2UploadSrt",
      method: "POST",
      idempotent: true,
      path: `/v2/video_translate/proofread/${id(proofreadId)}/upload-srt`,
      body: { srt_file_url: srtFileUrl },
      schema: Wire.v2Empty,
      v2: true
    }).pipe(Effect.asVoid)
  )
  const v2Generate = Effect.fn("HeyGenClient.v2Generate")(
    (proofreadId: string, body: typeof Wire.V2GenerateRequest.Type) =>
      call({
        operation: "v2Generate",
        method: "POST",
        path: `/v2/video_translate/proofread/${id(proofreadId)}/generate`,
        body,
        schema: Wire.V2GenerateResponse,
        v2: true
      })
  )
  /** Legacy raw-bytes upload to upload.heygen.com; answers the asset's URL (v2 takes URLs only). */
  const v1UploadAsset = Effect.fn("HeyGenClient.v1UploadAsset")((file: ProviderHttp.Upload) =>
    call({
      operation: "v1UploadAsset",
      method: "POST",
      path: `${uploadBaseUrl}/v1/asset`,
      absolute: true,
      schema: Wire.V1AssetResponse,
      kind: "upload",
      upload: { contentType: file.mediaType, contentLength: file.size, stream: file.stream },
      ...(file.replayable ? {} : { retries: 0 })
    })
  )

  // ---- v3 webhook endpoints -------------------------------------------------------------------
  const createWebhookEndpoint = Effect.fn("HeyGenClient.createWebhookEndpoint")(function* (
    body: typeof Wire.CreateWebhookEndpointRequest.Type,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call({
      operation: "createWebhookEndpoint",
      method: "POST",
      path: "/v3/webhooks/endpoints",
      body,
      schema: Wire.WebhookEndpointResponse,
      idempotencyKey: key
    })
  })
  const listWebhookEndpoints = Effect.fn("HeyGenClient.listWebhookEndpoints")(() =>
    call({
      operation: "listWebhookEndpoints",
      method: "GET",
      path: "/v3/webhooks/endpoints",
      schema: Wire.ListWebhookEndpointsResponse
    })
  )
  const deleteWebhookEndpoint = Effect.fn("HeyGenClient.deleteWebhookEndpoint")((endpointId: string) =>
    call({
      operation: "deleteWebhookEndpoint",
      method: "DELETE",
      path: `/v3/webhooks/endpoints/${id(endpointId)}`,
      schema: Wire.v2Empty
    }).pipe(Effect.asVoid)
  )
  const rotateWebhookSecret = Effect.fn("HeyGenClient.rotateWebhookSecret")(function* (
    endpointId: string,
    idempotencyKey?: string
  ) {
    const key = yield* keyOf(idempotencyKey)
    return yield* call({
      operation: "rotateWebhookSecret",
      method: "POST",
      path: `/v3/webhooks/endpoints/${id(endpointId)}/rotate-secret`,
      body: {},
      schema: Wire.RotateSecretResponse,
      idempotencyKey: key
    })
  })
  const webhookEvents = Effect.fn("HeyGenClient.webhookEvents")(
    (params: { eventType?: string; entityId?: string } = {}) =>
      call({
        operation: "webhookEvents",
        method: "GET",
        path: "/v3/webhooks/events",
        schema: Wire.WebhookEventsResponse,
        urlParams: {
          ...(params.eventType === undefined ? {} : { event_type: params.eventType }),
          ...(params.entityId === undefined ? {} : { entity_id: params.entityId })
        }
      })
  )

  /** Fetches a presigned file (SRT) HeyGen pointed to; no API key goes there. */
  const fetchText = Effect.fn("HeyGenClient.fetchText")(function* (url: string) {
    const response = yield* http
      .execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeader("Cache-Control", "no-cache")))
      .pipe(
        Effect.mapError((e) => ProviderHttp.transportError(e, context("fetchText"))),
        Effect.timeoutOrElse({
          duration: timeouts.read,
          orElse: () =>
            Effect.fail(
              new ProviderUnavailable({
                ...context("fetchText"),
                outcome: "unknown",
                message: "the download timed out"
              })
            )
        }),
        Policy.withRetry({ idempotent: true, times: options.retries ?? 2, base: options.retryBase })
      )
    const text = yield* ProviderHttp.bodyText(response, context("fetchText"))
    if (response.status !== 200) {
      return yield* new UnexpectedResponse({
        ...context("fetchText"),
        status: response.status,
        path: "(url)",
        excerpt: text.slice(0, 200),
        message: `downloading a file HeyGen pointed to answered HTTP ${response.status} (the link may have expired)`
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
export const layerRateLimiterMemory: Layer.Layer<RateLimiter.RateLimiter> = RateLimiter.layer.pipe(
  Layer.provide(RateLimiter.layerStoreMemory)
)
