/**
 * One method per ElevenLabs dubbing endpoint, over core's `ProviderTransport`: this file holds the
 * endpoints of both APIs (legacy `/v1/dubbing` and the Dubbing Projects API), their budgets and
 * ElevenLabs' error codes, read from whichever of the three error envelopes an answer uses. The HTTP
 * behaviour lives in core. ElevenLabs takes no idempotency key, so a create (a billable POST) is sent
 * again only when it certainly did not reach the server (a refused connection, a 429 on the request
 * rate, `system_busy`); every other failure of a create is an unknown outcome for the provider to
 * settle (see `ElevenLabsProviderV1.ts`).
 */
import { randomBytes } from "node:crypto"
import {
  AuthenticationFailed,
  type Budget as EnforcedBudget,
  InsufficientCredits,
  InvalidRequest,
  NotFound,
  PermissionDenied,
  ProviderHttp,
  ProviderTransport,
  ProviderUnavailable,
  RateLimited,
  RequestInProgress,
  type TranslationError,
  UnexpectedResponse
} from "@polydub/core"
import { Context, Duration, Effect, Layer, Option, type Redacted, Schema, Stream } from "effect"
import type { HttpClient } from "effect/http"
import type { RateLimiter } from "effect/persistence"
import * as Wire from "./ElevenLabsWire.js"

export const provider = "elevenlabs"

export const defaultBaseUrl = "https://api.elevenlabs.io"

/** A request budget: `limit` requests per `window`. */
export interface Budget {
  readonly limit: number
  readonly window: Duration.Input
}

// ElevenLabs documents no request rate or concurrency limit for dubbing: these defaults are guesses
// that keep a busy caller polite, and every one of them can be set.
const defaults = {
  read: { limit: 300, window: Duration.minutes(1) },
  create: { limit: 30, window: Duration.minutes(1) }
}

const reserve = 2

type Budgets = NonNullable<ElevenLabsClientOptions["budgets"]>

/** The budgets a client built with `budgets` enforces, less the reserve it holds back. */
export const enforcedBudgets = (
  budgets: Budgets = {}
): { readonly read: EnforcedBudget; readonly create: EnforcedBudget } => ({
  read: ProviderHttp.enforcedBudget(budgets.read ?? defaults.read, reserve),
  create: ProviderHttp.enforcedBudget(budgets.create ?? defaults.create, reserve)
})

export interface ElevenLabsClientOptions {
  readonly apiKey: Redacted.Redacted<string>
  /** Default `https://api.elevenlabs.io` (regional: `https://api.us.elevenlabs.io`, `https://api.eu.residency.elevenlabs.io`…). */
  readonly baseUrl?: string | undefined
  /** Client-side budgets: reads (status, lists, outputs, edits) and creates. Not documented by ElevenLabs. */
  readonly budgets?: { readonly read?: Budget | undefined; readonly create?: Budget | undefined } | undefined
  /** Retries of a read on transient failures. Default 2. */
  readonly retries?: number | undefined
  /** First backoff between retries (then exponential, jittered, capped). Default 1 s. */
  readonly retryBase?: Duration.Input | undefined
  /** Default 30 s for reads and edits; uploads are not timed out by default (files reach 1 GB). */
  readonly timeouts?:
    | { readonly read?: Duration.Input | undefined; readonly upload?: Duration.Input | undefined }
    | undefined
  /** Budgets are shared by every client with the same key; default: a hash of the API key. */
  readonly rateLimitKey?: string | undefined
}

/** What a create sends as its media: a file streamed in the form, or a URL ElevenLabs fetches. */
export type MediaSource =
  | { readonly _tag: "Upload"; readonly upload: ProviderHttp.Upload }
  | { readonly _tag: "Url"; readonly url: string }

export interface ListDubsParams {
  readonly cursor?: string | undefined
  readonly page_size?: number | undefined
  readonly order_by?: "created_at" | "name" | undefined
  readonly order_direction?: "DESCENDING" | "ASCENDING" | undefined
}

export interface CreateProjectFields {
  readonly reference?: string | undefined
  readonly source_language?: string | undefined
  readonly model_id?: string | undefined
  readonly keyterms?: ReadonlyArray<string> | undefined
  readonly webhook_ids?: ReadonlyArray<string> | undefined
  readonly target_language?: string | undefined
}

export interface ElevenLabsClientService {
  // Legacy dubbing
  readonly createDubbing: (
    media: MediaSource,
    fields: Wire.CreateDubbingFields
  ) => Effect.Effect<Wire.CreateDubbingResponse, TranslationError>
  readonly getDubbing: (id: string) => Effect.Effect<Wire.DubbingMetadata, TranslationError>
  readonly listDubs: (params?: ListDubsParams) => Effect.Effect<Wire.ListDubsResponse, TranslationError>
  readonly deleteDubbing: (id: string) => Effect.Effect<void, TranslationError>
  /** `GET /v1/dubbing/{id}/audio/{language}`: the dubbed file, streamed. */
  readonly openAudio: (id: string, language: string) => Effect.Effect<ProviderTransport.Opened, TranslationError>
  /** `GET /v1/dubbing/{id}/transcripts/{language}/format/{srt|webvtt}`: the subtitles' text. */
  readonly transcript: (
    id: string,
    language: string,
    format: "srt" | "webvtt"
  ) => Effect.Effect<string, TranslationError>
  // Dubbing projects
  readonly createProject: (
    media: MediaSource,
    fields: CreateProjectFields
  ) => Effect.Effect<Wire.Project, TranslationError>
  readonly getProject: (id: string) => Effect.Effect<Wire.Project, TranslationError>
  readonly listProjects: (params?: {
    readonly cursor?: string | undefined
    readonly page_size?: number | undefined
  }) => Effect.Effect<Wire.ListProjectsResponse, TranslationError>
  readonly deleteProject: (id: string) => Effect.Effect<void, TranslationError>
  readonly addLanguage: (
    projectId: string,
    body: Wire.AddLanguageBody
  ) => Effect.Effect<Wire.ProjectLanguage, TranslationError>
  readonly getLanguage: (projectId: string, languageId: string) => Effect.Effect<Wire.ProjectLanguage, TranslationError>
  readonly listLanguages: (projectId: string) => Effect.Effect<Wire.ListLanguagesResponse, TranslationError>
  readonly deleteLanguage: (projectId: string, languageId: string) => Effect.Effect<void, TranslationError>
  readonly projectTranscript: (projectId: string) => Effect.Effect<Wire.ProjectTranscript, TranslationError>
  /** `PATCH …/transcript/segments`: several source segments at once, atomically. */
  readonly updateSegments: (
    projectId: string,
    segments: Readonly<Record<string, { readonly text?: string; readonly start_s?: number; readonly end_s?: number }>>
  ) => Effect.Effect<void, TranslationError>
  readonly languageTranscript: (
    projectId: string,
    languageId: string
  ) => Effect.Effect<Wire.LanguageTranscript, TranslationError>
  /** `PATCH …/language/{id}/transcript/segments`: translations of several segments (null: translate again). */
  readonly updateTranslations: (
    projectId: string,
    languageId: string,
    segments: Readonly<Record<string, { readonly translation: string | null }>>
  ) => Effect.Effect<void, TranslationError>
  /** `POST …/language/{id}/transcript/regenerate`: dubs the edited regions again (billable past the free allowance). */
  readonly regenerate: (
    projectId: string,
    languageId: string
  ) => Effect.Effect<typeof Wire.RegenerateResponse.Type, TranslationError>
  /** The budgets this client enforces. */
  readonly budgets: ReturnType<typeof enforcedBudgets>
}

export class ElevenLabsClient extends Context.Service<ElevenLabsClient, ElevenLabsClientService>()(
  "@polydub/provider-elevenlabs/ElevenLabsClient"
) {}

/**
 * Maps an ElevenLabs error answer to a `TranslationError`, keeping the vendor's code and message.
 * Codes are ElevenLabs' documented ones and those seen in the field; anything else falls back on
 * the HTTP status.
 */
export const mapError = (
  operation: string,
  status: number,
  body: Wire.ErrorEnvelope | undefined,
  retryAfter: Option.Option<Duration.Duration>
): TranslationError => {
  const { code, message, param } = body === undefined ? {} : Wire.errorFields(body)
  const fields = { operation, status, message, code, retryAfter }
  const base = ProviderTransport.errorBase(provider, "ElevenLabs", fields)
  const after = Option.isSome(retryAfter) ? { retryAfter: retryAfter.value } : {}
  switch (code) {
    case "invalid_api_key":
    case "missing_api_key":
    case "needs_authorization":
      return new AuthenticationFailed(base)
    case "permission_denied":
    case "anonymous_not_allowed":
    case "only_for_creator+":
    case "missing_permissions":
    // A plan gate (watermark-free dubs need Creator or above): no retry or wait clears it.
    case "watermark_not_allowed":
    // A "legacy workspace" refused on the list while reads by id work: an account setting.
    case "invalid_workspace_type":
      return new PermissionDenied(base)
    case "quota_exceeded":
      return new InsufficientCredits(base)
    case "dubbing_not_found":
    case "transcript_not_found":
    case "project_not_found":
    case "language_not_found":
    case "not_found":
      return new NotFound(base)
    case "rate_limit_exceeded":
    case "too_many_requests":
      return new RateLimited({ ...base, scope: "requests", ...after })
    case "concurrent_limit_exceeded":
    case "too_many_concurrent_requests":
      return new RateLimited({ ...base, scope: "concurrency", ...after })
    // ElevenLabs refused the request before doing anything: safe to send again, even a create.
    case "system_busy":
      return new ProviderUnavailable({ ...base, outcome: "not-sent", ...after })
  }
  // 425 Too Early: the dub is not finished (`dubbing_not_dubbed`). Asking again later is right.
  if (status === 425) return new RequestInProgress({ ...base, ...after })
  // 409: a conflict with the state of the project (regenerate with nothing to do, or before the project
  // is ready). Nothing was charged, and the same request fails again until the state changes.
  if (status === 409) return new InvalidRequest(base)
  if (status === 422 || code === "empty_target_language" || code === "invalid_parameters") {
    return new InvalidRequest({ ...base, ...(param === undefined ? {} : { param }) })
  }
  if (status === 429) {
    const concurrency = /concurrent/i.test(message ?? "")
    return new RateLimited({ ...base, scope: concurrency ? "concurrency" : "requests", ...after })
  }
  return ProviderTransport.statusError(provider, "ElevenLabs", { ...fields, param })
}

const decodeEnvelope = Schema.decodeUnknownOption(Wire.ErrorEnvelope)

const encoder = new TextEncoder()
const quote = (s: string) => s.replace(/[\r\n"]/g, (c) => (c === '"' ? "%22" : " "))

/** A multipart form of text fields only (a create from a URL carries no file). */
const fieldsOnlyBody = (fields: ReadonlyArray<readonly [string, string]>) => {
  const boundary = `----polydub${randomBytes(12).toString("hex")}`
  const bytes = encoder.encode(
    fields
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${quote(k)}"\r\n\r\n${v}\r\n`)
      .join("") + `--${boundary}--\r\n`
  )
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: bytes.byteLength,
    stream: Stream.succeed(bytes),
    replayable: true
  }
}

const mediaBody = (media: MediaSource, fields: ReadonlyArray<readonly [string, string]>) =>
  media._tag === "Url"
    ? fieldsOnlyBody(fields)
    : { ...ProviderHttp.multipartBody(fields, media.upload), replayable: media.upload.replayable }

// A create is not sent again after a concurrency refusal: it clears when a running dub finishes,
// minutes away, and each attempt uploads the whole file again.
const notConcurrency = (error: TranslationError) => !(error._tag === "RateLimited" && error.scope === "concurrency")

const read = <S extends Schema.Codec<any, any, never, never>>(operation: string, schema: S) =>
  ({ operation, method: "GET", schema, budget: "read", timeout: "read" }) as const

const enc = encodeURIComponent

/** Builds the client over the `HttpClient` and `RateLimiter` in context. */
export const make = Effect.fnUntraced(function* (options: ElevenLabsClientOptions) {
  const budgets = options.budgets ?? {}
  const transport = yield* ProviderTransport.make({
    provider,
    name: "ElevenLabs",
    baseUrl: options.baseUrl ?? defaultBaseUrl,
    apiKey: options.apiKey,
    auth: { header: "xi-api-key" },
    budgets: { read: budgets.read ?? defaults.read, create: budgets.create ?? defaults.create },
    reserve,
    rateLimitKey: options.rateLimitKey,
    timeouts: { read: options.timeouts?.read ?? Duration.seconds(30), upload: options.timeouts?.upload },
    retries: options.retries,
    retryBase: options.retryBase,
    errorOf: ({ operation, status, body, retryAfter }) =>
      mapError(operation, status, Option.getOrUndefined(decodeEnvelope(body)), retryAfter)
  })

  // Legacy dubbing ---------------------------------------------------------------------------

  const createDubbingEndpoint = {
    operation: "createDubbing",
    method: "POST",
    schema: Wire.CreateDubbingResponse,
    budget: "create",
    timeout: "upload"
  } as const
  const getDubbingEndpoint = read("getDubbing", Wire.DubbingMetadata)
  const listDubsEndpoint = read("listDubs", Wire.ListDubsResponse)
  const deleteDubbingEndpoint = {
    operation: "deleteDubbing",
    method: "DELETE",
    schema: Wire.DeleteDubbingResponse,
    budget: "read",
    timeout: "read"
  } as const
  const transcriptEndpoint = read("transcript", Wire.TranscriptResponse)

  const createDubbing = Effect.fn("ElevenLabsClient.createDubbing")(function* (
    media: MediaSource,
    fields: Wire.CreateDubbingFields
  ) {
    yield* Effect.annotateCurrentSpan({ "elevenlabs.targetLang": fields.target_lang })
    const form = Wire.createDubbingForm(media._tag === "Url" ? { ...fields, source_url: media.url } : fields)
    return yield* transport.call(createDubbingEndpoint, {
      path: "/v1/dubbing",
      body: mediaBody(media, form),
      retryIf: notConcurrency
    })
  })

  const getDubbing = Effect.fn("ElevenLabsClient.getDubbing")((id: string) =>
    transport.call(getDubbingEndpoint, { path: `/v1/dubbing/${enc(id)}` })
  )

  const listDubs = Effect.fn("ElevenLabsClient.listDubs")((params: ListDubsParams = {}) =>
    transport.call(listDubsEndpoint, {
      path: "/v1/dubbing",
      urlParams: Object.fromEntries(
        Object.entries(params)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, String(v)])
      )
    })
  )

  const deleteDubbing = Effect.fn("ElevenLabsClient.deleteDubbing")((id: string) =>
    Effect.asVoid(transport.call(deleteDubbingEndpoint, { path: `/v1/dubbing/${enc(id)}` }))
  )

  const openAudio = Effect.fn("ElevenLabsClient.openAudio")((id: string, language: string) =>
    transport.open(
      { operation: "openAudio", budget: "read", timeout: "read" },
      { path: `/v1/dubbing/${enc(id)}/audio/${enc(language)}` }
    )
  )

  const transcript = Effect.fn("ElevenLabsClient.transcript")(function* (
    id: string,
    language: string,
    format: "srt" | "webvtt"
  ) {
    const answer = yield* transport.call(transcriptEndpoint, {
      path: `/v1/dubbing/${enc(id)}/transcripts/${enc(language)}/format/${format}`
    })
    const text = format === "srt" ? answer.srt : answer.webvtt
    if (typeof text !== "string") {
      return yield* new UnexpectedResponse({
        provider,
        operation: "transcript",
        path: format,
        excerpt: "",
        message: `ElevenLabs answered the ${format} transcript without its text`
      })
    }
    return text
  })

  // Dubbing projects ---------------------------------------------------------------------------

  const createProjectEndpoint = {
    operation: "createProject",
    method: "POST",
    schema: Wire.Project,
    budget: "create",
    timeout: "upload"
  } as const
  const addLanguageEndpoint = {
    operation: "addLanguage",
    method: "POST",
    schema: Wire.ProjectLanguage,
    budget: "create",
    timeout: "read"
  } as const
  const regenerateEndpoint = {
    operation: "regenerate",
    method: "POST",
    schema: Wire.RegenerateResponse,
    budget: "create",
    timeout: "read"
  } as const
  const deleteEndpoint = (operation: string) =>
    ({ operation, method: "DELETE", schema: Wire.Ignored, budget: "read", timeout: "read" }) as const
  // Writing the same texts twice leaves the same transcript: safe to send again.
  const patchEndpoint = (operation: string) =>
    ({ operation, method: "PATCH", schema: Wire.Ignored, budget: "read", timeout: "read", idempotent: true }) as const
  const getProjectEndpoint = read("getProject", Wire.Project)
  const listProjectsEndpoint = read("listProjects", Wire.ListProjectsResponse)
  const getLanguageEndpoint = read("getLanguage", Wire.ProjectLanguage)
  const listLanguagesEndpoint = read("listLanguages", Wire.ListLanguagesResponse)
  const projectTranscriptEndpoint = read("projectTranscript", Wire.ProjectTranscript)
  const languageTranscriptEndpoint = read("languageTranscript", Wire.LanguageTranscript)

  const projectPath = (id: string) => `/v1/dubbing/project/${enc(id)}`
  const languagePath = (projectId: string, languageId: string) =>
    `${projectPath(projectId)}/language/${enc(languageId)}`

  const createProject = Effect.fn("ElevenLabsClient.createProject")(function* (
    media: MediaSource,
    fields: CreateProjectFields
  ) {
    const form: Array<readonly [string, string]> = []
    if (media._tag === "Url") form.push(["source_url", media.url])
    for (const key of ["reference", "source_language", "model_id", "target_language"] as const) {
      const value = fields[key]
      if (value !== undefined) form.push([key, value])
    }
    // Arrays as one field per item, as the OpenAPI document's `keyterms[]` reads.
    for (const term of fields.keyterms ?? []) form.push(["keyterms", term])
    for (const id of fields.webhook_ids ?? []) form.push(["webhook_ids", id])
    return yield* transport.call(createProjectEndpoint, {
      path: "/v1/dubbing/project",
      body: mediaBody(media, form),
      retryIf: notConcurrency
    })
  })

  const getProject = Effect.fn("ElevenLabsClient.getProject")((id: string) =>
    transport.call(getProjectEndpoint, { path: projectPath(id) })
  )
  const listProjects = Effect.fn("ElevenLabsClient.listProjects")(
    (params: { readonly cursor?: string | undefined; readonly page_size?: number | undefined } = {}) =>
      transport.call(listProjectsEndpoint, {
        path: "/v1/dubbing/project",
        urlParams: {
          ...(params.cursor === undefined ? {} : { cursor: params.cursor }),
          ...(params.page_size === undefined ? {} : { page_size: String(params.page_size) })
        }
      })
  )
  const deleteProject = Effect.fn("ElevenLabsClient.deleteProject")((id: string) =>
    Effect.asVoid(transport.call(deleteEndpoint("deleteProject"), { path: projectPath(id) }))
  )
  const addLanguage = Effect.fn("ElevenLabsClient.addLanguage")((projectId: string, body: Wire.AddLanguageBody) =>
    transport.call(addLanguageEndpoint, {
      path: `${projectPath(projectId)}/language`,
      json: body,
      retryIf: notConcurrency
    })
  )
  const getLanguage = Effect.fn("ElevenLabsClient.getLanguage")((projectId: string, languageId: string) =>
    transport.call(getLanguageEndpoint, { path: languagePath(projectId, languageId) })
  )
  const listLanguages = Effect.fn("ElevenLabsClient.listLanguages")((projectId: string) =>
    transport.call(listLanguagesEndpoint, {
      path: `${projectPath(projectId)}/language`,
      urlParams: { page_size: "100" }
    })
  )
  const deleteLanguage = Effect.fn("ElevenLabsClient.deleteLanguage")((projectId: string, languageId: string) =>
    Effect.asVoid(transport.call(deleteEndpoint("deleteLanguage"), { path: languagePath(projectId, languageId) }))
  )
  const projectTranscript = Effect.fn("ElevenLabsClient.projectTranscript")((projectId: string) =>
    transport.call(projectTranscriptEndpoint, { path: `${projectPath(projectId)}/transcript` })
  )
  const updateSegments = Effect.fn("ElevenLabsClient.updateSegments")(
    (
      projectId: string,
      segments: Readonly<Record<string, { readonly text?: string; readonly start_s?: number; readonly end_s?: number }>>
    ) =>
      Effect.asVoid(
        transport.call(patchEndpoint("updateSegments"), {
          path: `${projectPath(projectId)}/transcript/segments`,
          json: { segments }
        })
      )
  )
  const languageTranscript = Effect.fn("ElevenLabsClient.languageTranscript")((projectId: string, languageId: string) =>
    transport.call(languageTranscriptEndpoint, { path: `${languagePath(projectId, languageId)}/transcript` })
  )
  const updateTranslations = Effect.fn("ElevenLabsClient.updateTranslations")(
    (
      projectId: string,
      languageId: string,
      segments: Readonly<Record<string, { readonly translation: string | null }>>
    ) =>
      Effect.asVoid(
        transport.call(patchEndpoint("updateTranslations"), {
          path: `${languagePath(projectId, languageId)}/transcript/segments`,
          json: { segments }
        })
      )
  )
  const regenerate = Effect.fn("ElevenLabsClient.regenerate")((projectId: string, languageId: string) =>
    transport.call(regenerateEndpoint, { path: `${languagePath(projectId, languageId)}/transcript/regenerate` })
  )

  return ElevenLabsClient.of({
    createDubbing,
    getDubbing,
    listDubs,
    deleteDubbing,
    openAudio,
    transcript,
    createProject,
    getProject,
    listProjects,
    deleteProject,
    addLanguage,
    getLanguage,
    listLanguages,
    deleteLanguage,
    projectTranscript,
    updateSegments,
    languageTranscript,
    updateTranslations,
    regenerate,
    budgets: enforcedBudgets(budgets)
  })
})

/** The client over the `HttpClient` and `RateLimiter` in context. */
export const layer = (
  options: ElevenLabsClientOptions
): Layer.Layer<ElevenLabsClient, never, HttpClient.HttpClient | RateLimiter.RateLimiter> =>
  Layer.effect(ElevenLabsClient, make(options))

/** The default rate limiter: process memory. */
export const layerRateLimiterMemory: Layer.Layer<RateLimiter.RateLimiter> = ProviderTransport.layerRateLimiterMemory
