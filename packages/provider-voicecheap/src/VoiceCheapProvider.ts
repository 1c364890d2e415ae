/**
 * VoiceCheap as a `TranslationProvider`. VoiceCheap takes one uploaded file and one target per
 * project, has no review step, no webhooks, no delete and no idempotency key, and reports progress
 * as steps and percentages. URL sources are downloaded (bounded: see `sourceFetch`) and streamed into
 * the upload as they arrive.
 */
import {
  type Capabilities,
  Downloads,
  InvalidRequest,
  Job,
  JobRef,
  type JobState,
  makeProvider,
  mapStatus,
  mediaTypeOf,
  Outputs,
  PayloadTooLarge,
  ProviderHttp,
  RefLanguage,
  type ResolvedRequest,
  type TranslationError,
  TranslationProvider
} from "@polydub/core"
import { Config, DateTime, Duration, Effect, FileSystem, Layer, Option, Schema, Stream } from "effect"
import { HttpClient } from "effect/http"
import type { RateLimiter } from "effect/persistence"
import * as Client from "./VoiceCheapClient.js"
import * as Languages from "./VoiceCheapLanguages.js"
import * as Wire from "./VoiceCheapWire.js"

/**
 * VoiceCheap-only request fields, passed as `providerOptions.voicecheap`. Core decodes them with this
 * Schema before anything is sent: a misspelt field or a wrong type is an `InvalidRequest` naming it.
 */
export const VoiceCheapOptions = Schema.Struct({
  /** Keep music and ambience, replace only the voice. VoiceCheap's default is true. */
  keepBackgroundMusic: Schema.optional(Schema.Boolean),
  voiceIsolatorOption: Schema.optional(Schema.String),
  keepOriginalVoice: Schema.optional(Schema.Boolean),
  originalVoiceVolume: Schema.optional(Schema.Finite),
  subtitles: Schema.optional(Schema.Boolean),
  subtitlesSource: Schema.optional(Schema.String),
  translationTimeSkips: Schema.optional(Schema.Array(Wire.TimeSkip)),
  /** Pro lip sync; `lipSync: true` on the request asks for it too (the only documented switch). */
  lipsyncPro: Schema.optional(Schema.Boolean),
  voiceCloningSettings: Schema.optional(Wire.VoiceCloningSettings)
})
export type VoiceCheapOptions = typeof VoiceCheapOptions.Type

declare module "@polydub/core/TranslationRequest" {
  interface ProviderOptions {
    readonly voicecheap?: VoiceCheapOptions | undefined
  }
}

export const maxUploadBytes = 20 * 1024 ** 3

/**
 * With the default budgets. `budget` holds what the client enforces (VoiceCheap documents 30 status
 * reads a minute; the client keeps two in reserve), so a `JobTracker` paced by it never waits in the
 * client's limiter; a provider built with other `budgets` publishes those, less the same reserve.
 */
export const capabilities: Capabilities = {
  review: false,
  remove: false,
  urlInput: "proxied",
  fileInput: true,
  maxUploadBytes,
  outputs: { video: true, audio: true, captions: false, lipSyncVideo: true },
  audioOnly: false,
  webhooks: false,
  idempotency: false,
  targetsPerRequest: 1,
  budget: {
    status: Client.enforcedBudgets().status,
    submit: Client.enforcedBudgets().translate
  },
  polling: { initial: Duration.seconds(10), max: Duration.seconds(30) }
}

const context = (operation: string) => ({ provider: Client.provider, operation })

const statusWords = {
  processing: { _tag: "Running" } as JobState,
  success: { _tag: "Succeeded", outputs: new Outputs({}) } as JobState,
  failed: { _tag: "Failed", reason: { code: "FAILED", message: "" } } as JobState
} as const

const artifact = (url: string, mediaType: string) => {
  const expiresAt = ProviderHttp.presignedExpiry(url)
  return Option.isSome(expiresAt) ? { url, mediaType, expiresAt: expiresAt.value } : { url, mediaType }
}

const pct = (n: number | null | undefined) =>
  n === null || n === undefined ? undefined : Math.min(100, Math.max(0, n)) / 100

/** The unified state of a status answer, given the state its status word maps to. */
const stateFrom = (status: Wire.StatusResponse, word: JobState): JobState => {
  const lipSync = status.lipSync ?? undefined
  if (word._tag === "Succeeded") {
    if (!status.translatedVideoUrl) {
      // Docs are silent on a success without URLs; treat it as not finished rather than as a result.
      return { _tag: "Running", step: "finalizing", progress: 0.99 }
    }
    return {
      _tag: "Succeeded",
      outputs: new Outputs({
        video: artifact(status.translatedVideoUrl, "video/mp4"),
        ...(status.translatedAudioUrl ? { audio: artifact(status.translatedAudioUrl, "audio/mpeg") } : {}),
        ...(lipSync?.videoUrl ? { lipSyncVideo: artifact(lipSync.videoUrl, "video/mp4") } : {})
      })
    }
  }
  if (word._tag === "Failed") {
    const error = status.error ?? undefined
    const code = error?.code ?? error?.["error.code"] ?? (lipSync?.status === "FAILED" ? "LIPSYNC_FAILED" : "FAILED")
    const message = error?.message ?? error?.["error.message"] ?? lipSync?.errorMessage ?? "the translation failed"
    return { _tag: "Failed", reason: { code, message } }
  }
  if (word._tag !== "Running" || word.step !== undefined) return word
  // Progress: transcription and translation, then dubbing, then (when asked for) lip sync.
  const translated = pct(status.translationAndTranscriptionProgress)
  const dubbed = pct(status.dubbingProgress)
  const weights = lipSync ? [0.35, 0.45, 0.2] : [0.4, 0.6, 0]
  const lipSyncDone = lipSync?.status === "COMPLETED" ? 1 : lipSync?.status === "PROCESSING" ? 0.5 : 0
  const known = translated !== undefined || dubbed !== undefined
  const progress = known
    ? (translated ?? (dubbed !== undefined ? 1 : 0)) * weights[0]! +
      (dubbed ?? 0) * weights[1]! +
      lipSyncDone * weights[2]!
    : undefined
  const lipSyncActive = lipSync !== undefined && (dubbed === 1 || lipSync.status === "PROCESSING")
  const step = lipSyncActive
    ? `lipsync_${lipSync.status.toLowerCase()}`
    : (status.dubbingStep ?? status.actualProgressStep ?? undefined)
  const state: { _tag: "Running"; progress?: number; step?: string } = { _tag: "Running" }
  if (progress !== undefined) state.progress = Math.min(1, progress)
  if (step) state.step = step
  return state
}

/**
 * The unified state of a status answer. Only an unknown status word needs an effect (a logged
 * warning); every other answer maps without a generator, as this runs on every read.
 */
export const stateOf = (status: Wire.StatusResponse): Effect.Effect<JobState> =>
  Effect.map(mapStatus(Client.provider, statusWords, status.status), (word) => stateFrom(status, word))

/** A reference to a VoiceCheap project, carrying its target language where it is a tag a reference holds. */
const refOf = (id: string, language: string) =>
  new JobRef({
    provider: Client.provider,
    kind: "translation",
    id,
    ...(Schema.is(RefLanguage)(language) ? { language } : {})
  })

/**
 * A `Job` from a status answer; `ref`, the reference that was read, is reused when the answer is about
 * it and already carries its language.
 */
export const jobOf = (status: Wire.StatusResponse, now: DateTime.Utc, ref?: JobRef) =>
  Effect.map(stateOf(status), (state) => {
    // The status answer names the target ("spanish"); read it back as a tag. A name outside both
    // documented lists is kept as sent rather than failing the read.
    const language = Option.getOrElse(Languages.tagOf(status.targetLanguage), () => status.targetLanguage)
    return new Job({
      ref:
        ref?.provider === Client.provider &&
        ref.kind === "translation" &&
        ref.id === status.projectId &&
        ref.language !== undefined
          ? ref
          : refOf(status.projectId, language),
      language,
      state,
      providerStatus: status.status,
      observedAt: now
    })
  })

const fileName = (url: string) => {
  try {
    const last = new URL(url).pathname
      .split("/")
      .filter((s) => s.length > 0)
      .pop()
    return last === undefined ? "source" : decodeURIComponent(last)
  } catch {
    return "source"
  }
}

/** Drops the keys whose value is `undefined`: absent form fields are left out, not sent empty. */
const defined = <A extends object>(record: A): { [K in keyof A]?: Exclude<A[K], undefined> } =>
  // Filtering out `undefined` values is exactly what the mapped type says; TypeScript cannot follow it.
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as {
    [K in keyof A]?: Exclude<A[K], undefined>
  }

/** A file to upload; for a URL source, also the failure of its download midway, if it failed. */
type SourceUpload = Client.Upload & { readonly sourceFailure?: (() => TranslationError | undefined) | undefined }

/** Builds the provider over a `VoiceCheapClient`. */
export const makeWith = Effect.fnUntraced(function* (
  options: { readonly sourceFetch?: Downloads.FetchOptions | undefined } = {}
) {
  const client = yield* Client.VoiceCheapClient
  const http = yield* HttpClient.HttpClient
  const fs = yield* FileSystem.FileSystem
  const sourceFetch = { ...options.sourceFetch, maxBytes: options.sourceFetch?.maxBytes ?? maxUploadBytes }

  const sourceError = (error: Downloads.DownloadError): TranslationError =>
    error.reason === "TooLarge"
      ? new PayloadTooLarge({ ...context("submit"), limitBytes: sourceFetch.maxBytes, message: error.message })
      : new InvalidRequest({ ...context("submit"), param: "source", message: `cannot download ${error.message}` })

  const sourceUpload = Effect.fnUntraced(function* (request: ResolvedRequest) {
    const source = request.source
    switch (source._tag) {
      case "File":
        return yield* ProviderHttp.fileUpload(fs, source, context("submit"))
      case "Stream":
        return ProviderHttp.streamUpload(source)
      case "Url": {
        // VoiceCheap takes no URL: fetch it, bounded by `sourceFetch`, and stream the body straight into
        // the upload. A HEAD-less probe would cost a second download, so the size comes from the GET's
        // Content-Length.
        const body = yield* Downloads.fetch(source.url, sourceFetch).pipe(
          Effect.provideService(HttpClient.HttpClient, http),
          Effect.mapError(sourceError)
        )
        // A body that fails midway (a stall, past the cap, cut short) fails the upload with it; the
        // download's own error is kept, to be reported instead of the upload's.
        let failure: Downloads.DownloadError | undefined
        const upload: SourceUpload = {
          name: fileName(source.url),
          mediaType:
            body.mediaType !== undefined && body.mediaType !== "application/octet-stream"
              ? body.mediaType
              : mediaTypeOf(source.url),
          size: body.contentLength,
          stream: Stream.tapError(body.stream, (e) =>
            Effect.sync(() => {
              failure = e
            })
          ),
          // The body is consumed by the first attempt; a retry would need a new download.
          replayable: false,
          sourceFailure: () => (failure === undefined ? undefined : sourceError(failure))
        }
        return upload
      }
    }
  })

  const submit = Effect.fnUntraced(function* (request: ResolvedRequest) {
    const target = request.targets[0]!
    const upload: SourceUpload = yield* sourceUpload(request)
    // Core refused a file or a sized stream over `maxUploadBytes` already; a URL's body announces its
    // size only here (and `sourceFetch.maxBytes` may have been set above VoiceCheap's limit).
    if (upload.size !== undefined && upload.size > maxUploadBytes) {
      return yield* new PayloadTooLarge({
        ...context("submit"),
        limitBytes: maxUploadBytes,
        message: `VoiceCheap takes files up to 20 GB; this one is ${upload.size} bytes`
      })
    }
    const extra: VoiceCheapOptions = request.providerOptions?.voicecheap ?? {}
    const fields: Wire.TranslateFields = {
      ...defined({
        ...extra,
        originalLanguage:
          request.sourceLanguage === undefined ? undefined : Languages.sourceCode(request.sourceLanguage),
        projectName: request.title,
        // `lipsyncPro` is the only documented switch for lip sync; how to ask for standard is not.
        lipsyncPro: request.lipSync === true ? (extra.lipsyncPro ?? true) : extra.lipsyncPro
      }),
      targetLanguage: target.vendorName
    }
    const created = yield* client.translate(upload, fields).pipe(Effect.mapError((e) => upload.sourceFailure?.() ?? e))
    const now = yield* DateTime.now
    return [
      new Job({
        ref: refOf(created.projectId, target.tag),
        language: target.tag,
        state: { _tag: "Queued" },
        providerStatus: "submitted",
        observedAt: now
      })
    ]
  })

  const get = (ref: JobRef) =>
    Effect.flatMap(client.status(ref.id), (status) => Effect.flatMap(DateTime.now, (now) => jobOf(status, now, ref)))

  const { remove: _remove, review: _review, ...declared } = capabilities
  return makeProvider({
    id: Client.provider,
    capabilities: {
      ...declared,
      budget: { status: client.budgets.status, submit: client.budgets.translate }
    },
    languages: Languages.table,
    options: VoiceCheapOptions,
    fileSystem: fs,
    submit,
    get
  })
})

/** Builds the provider over a `VoiceCheapClient`, with the default `sourceFetch` bounds. */
export const make = makeWith()

export interface VoiceCheapLayerOptions extends Client.VoiceCheapClientOptions {
  /**
   * How a URL source is fetched before it is streamed into the upload (VoiceCheap takes files only):
   * `headerTimeout` (default 30 s) for the answer's headers, `idleTimeout` (60 s) between bytes of
   * the body, `maxBytes` counted on the body (default `maxUploadBytes`, VoiceCheap's 20 GB), and
   * `refusePrivateAddresses` (default false). A failure is `InvalidRequest` on `source`, or
   * `PayloadTooLarge` past the cap, and nothing reaches VoiceCheap.
   *
   * The URL is fetched by this process, not by VoiceCheap. In a server that takes URLs from its
   * users, a URL can name the server's own network — `http://localhost:…`, an internal service, the
   * cloud metadata address `169.254.169.254` — and the body would be uploaded to VoiceCheap, where
   * the user can read it back (server-side request forgery). Set `refusePrivateAddresses: true`
   * there: the host is resolved and every address it has is checked before connecting. The HTTP
   * client resolves the name again to connect, so a DNS server that changes its answer in between
   * (DNS rebinding) gets through unless the client checks its connections too: provide
   * `NodeHttpClient.layerUndiciOptions({ connect: { lookup: Downloads.publicOnlyLookup } })`.
   */
  readonly sourceFetch?: Downloads.FetchOptions | undefined
}

/**
 * The VoiceCheap `TranslationProvider`. Needs an `HttpClient` and a `FileSystem` (for file sources),
 * e.g. `NodeHttpClient.layerUndici` and `NodeServices.layer`. Budgets are kept in memory unless a
 * `RateLimiter` is given with `layerWith`.
 */
export const layer = (
  options: VoiceCheapLayerOptions
): Layer.Layer<TranslationProvider, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  layerWith(options).pipe(Layer.provide(Client.layerRateLimiterMemory))

/** Like `layer`, with the `RateLimiter` (memory or Redis store) from context, to share budgets across processes. */
export const layerWith = (
  options: VoiceCheapLayerOptions
): Layer.Layer<TranslationProvider, never, HttpClient.HttpClient | FileSystem.FileSystem | RateLimiter.RateLimiter> =>
  Layer.effect(TranslationProvider, makeWith({ sourceFetch: options.sourceFetch })).pipe(
    Layer.provide(Client.layer(options))
  )

/** Reads `VOICECHEAP_API_KEY` and `VOICECHEAP_BASE_URL`. */
export const layerConfig = (
  options: Omit<VoiceCheapLayerOptions, "apiKey" | "baseUrl"> = {}
): Layer.Layer<TranslationProvider, Config.ConfigError, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const apiKey = yield* Config.Redacted("VOICECHEAP_API_KEY")
      const baseUrl = yield* Config.option(Config.String("VOICECHEAP_BASE_URL"))
      return layer({ ...options, apiKey, ...(Option.isSome(baseUrl) ? { baseUrl: baseUrl.value } : {}) })
    })
  )
