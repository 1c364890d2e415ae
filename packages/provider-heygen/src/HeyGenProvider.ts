/**
 * HeyGen as a `TranslationProvider`, on the v3 API (default) or the legacy v2 API. Review jobs are
 * HeyGen proofreads: editable subtitles extracted before rendering; approving one generates the
 * translation. Status words differ by endpoint and version (v3 `pending|running|completed|failed`,
 * v2 `…|success|…`, proofreads `processing|completed|failed`, bulk `queued|processing|…|not_found`);
 * all map onto the unified states here.
 */
import {
  type ApproveOptions,
  type Capabilities,
  InvalidRequest,
  Job,
  JobRef,
  type JobResult,
  type JobState,
  Language,
  makeProvider,
  mapStatus,
  NotFound,
  Outputs,
  PayloadTooLarge,
  ProviderHttp,
  type ResolvedRequest,
  Transcript,
  TranslationProvider,
  UnexpectedResponse,
  Unsupported
} from "@polydub/core"
import { Config, DateTime, Duration, Effect, FileSystem, Layer, Option, Result, Stream } from "effect"
import type { HttpClient } from "effect/http"
import type { RateLimiter } from "effect/persistence"
import * as Client from "./HeyGenClient.js"
import * as Languages from "./HeyGenLanguages.js"
import type * as Wire from "./HeyGenWire.js"

/** HeyGen-only request fields, passed as `providerOptions.heygen`. */
export interface HeyGenOptions {
  readonly mode?: "speed" | "precision" | undefined
  readonly brandGlossaryId?: string | undefined
  readonly folderId?: string | undefined
  readonly keepTheSameFormat?: boolean | undefined
  readonly enableDynamicDuration?: boolean | undefined
  readonly disableMusicTrack?: boolean | undefined
  readonly enableSpeechEnhancement?: boolean | undefined
  readonly enableWatermark?: boolean | undefined
  readonly enableVideoStretching?: boolean | undefined
  readonly startTime?: number | undefined
  readonly endTime?: number | undefined
}

declare module "@polydub/core/TranslationRequest" {
  interface ProviderOptions {
    readonly heygen?: HeyGenOptions | undefined
  }
}

/** Largest file `POST /v3/assets` takes; larger files use the direct-upload flow. */
export const multipartLimit = 32 * 1024 * 1024

const polling = { initial: Duration.seconds(30), max: Duration.seconds(60) }

export const capabilitiesV3: Capabilities = {
  review: true,
  urlInput: "native",
  fileInput: true,
  outputs: { video: true, audio: true, captions: true, lipSyncVideo: false },
  captions: true,
  audioOnly: true,
  lipSync: false,
  webhooks: true,
  remove: true,
  idempotency: true,
  // Reference §6: repeats within 24 h replay the original response; later ones are new requests.
  idempotencyWindow: Duration.hours(24),
  targetsPerRequest: 50,
  bulkStatus: 100,
  budget: { concurrentJobs: 10 },
  polling
}

export const capabilitiesV2: Capabilities = {
  ...capabilitiesV3,
  outputs: { video: true, audio: false, captions: true, lipSyncVideo: false },
  remove: false,
  idempotency: false,
  bulkStatus: undefined
}

const ctx = (operation: string) => ({ provider: Client.provider, operation })

const v3Words = {
  pending: { _tag: "Queued" },
  running: { _tag: "Running" },
  completed: { _tag: "Succeeded", outputs: new Outputs({}) },
  failed: { _tag: "Failed", reason: { code: "failed", message: "" } }
} satisfies Record<string, JobState>

const v2Words = {
  pending: { _tag: "Queued" },
  running: { _tag: "Running" },
  success: { _tag: "Succeeded", outputs: new Outputs({}) },
  failed: { _tag: "Failed", reason: { code: "failed", message: "" } }
} satisfies Record<string, JobState>

const proofreadWords = {
  processing: { _tag: "Running", step: "extracting" },
  completed: { _tag: "AwaitingReview" },
  failed: { _tag: "Failed", reason: { code: "failed", message: "" } }
} satisfies Record<string, JobState>

const bulkWords = {
  queued: { _tag: "Queued" },
  processing: { _tag: "Running" },
  completed: { _tag: "Succeeded", outputs: new Outputs({}) },
  failed: { _tag: "Failed", reason: { code: "failed", message: "" } }
} satisfies Record<string, JobState>

const artifact = (url: string, mediaType: string) => {
  const expiresAt = ProviderHttp.presignedExpiry(url)
  return Option.isSome(expiresAt) ? { url, mediaType, expiresAt: expiresAt.value } : { url, mediaType }
}

const languageOf = (name: string | null | undefined, fallback: string) =>
  name === null || name === undefined ? fallback : (Languages.table.byName.get(name.toLowerCase()) ?? name)

/**
 * The language of a HeyGen id from its suffix (`…-es`, `…-ur-ur-PK`), for answers that do not name
 * it (v2 proofread status). The last one or two subtags that form a valid tag win.
 */
const suffixOf = (id: string): string => {
  const parts = id.split("-").slice(1)
  for (const take of [parts.length, 2, 1]) {
    if (take < 1 || take > parts.length) continue
    const candidate = Language.normalizeOption(parts.slice(parts.length - take).join("-"))
    if (Option.isSome(candidate)) return candidate.value
  }
  return "und"
}

/** The unified state of a v3 translation. */
export const translationState = (t: Wire.Translation): Effect.Effect<JobState> =>
  Effect.map(mapStatus(Client.provider, v3Words, t.status), (word): JobState => {
    if (word._tag === "Failed")
      return { _tag: "Failed", reason: { code: "failed", message: t.failure_message ?? "the translation failed" } }
    if (word._tag !== "Succeeded") return word
    // `completed` with no URL yet: HeyGen's own tools re-read it (a CDN propagation race).
    if (!t.video_url) return { _tag: "Running", step: "finalizing", progress: 0.99 }
    const srt = t.srt_caption_url ?? undefined
    const vtt = t.vtt_caption_url ?? undefined
    return {
      _tag: "Succeeded",
      outputs: new Outputs({
        video: artifact(t.video_url, "video/mp4"),
        ...(t.audio_url ? { audio: artifact(t.audio_url, "audio/mpeg") } : {}),
        ...(srt || vtt
          ? {
              captions: {
                ...(srt ? { srt: artifact(srt, "application/x-subrip") } : {}),
                ...(vtt ? { vtt: artifact(vtt, "text/vtt") } : {})
              }
            }
          : {})
      })
    }
  })

/** The unified state of a proofread (v3 or v2). */
export const proofreadState = (status: string, failure: string | null | undefined): Effect.Effect<JobState> =>
  Effect.map(
    mapStatus(Client.provider, proofreadWords, status),
    (word): JobState =>
      word._tag === "Failed"
        ? { _tag: "Failed", reason: { code: "failed", message: failure ?? "the proofread failed" } }
        : word
  )

/** The unified state of a v2 translation. */
export const v2TranslationState = (s: Wire.V2Status): Effect.Effect<JobState> =>
  Effect.map(mapStatus(Client.provider, v2Words, s.status), (word): JobState => {
    if (word._tag === "Failed")
      return { _tag: "Failed", reason: { code: "failed", message: s.message ?? "the translation failed" } }
    if (word._tag !== "Succeeded") return word
    if (!s.url) return { _tag: "Running", step: "finalizing", progress: 0.99 }
    return { _tag: "Succeeded", outputs: new Outputs({ video: artifact(s.url, "video/mp4") }) }
  })

export interface HeyGenLayerOptions extends Client.HeyGenClientOptions {
  /** Default `"v3"`. HeyGen announced the end of v1/v2 support for October 31, 2026. */
  readonly apiVersion?: "v3" | "v2" | undefined
}

/** Builds the provider over a `HeyGenClient`. */
export const make = (apiVersion: "v3" | "v2" = "v3") =>
  Effect.gen(function* () {
    const client = yield* Client.HeyGenClient
    const fs = yield* FileSystem.FileSystem
    const v3 = apiVersion === "v3"
    const now = DateTime.now

    const job = (
      kind: "translation" | "review",
      id: string,
      language: string,
      state: JobState,
      providerStatus: string
    ) =>
      Effect.map(
        now,
        (observedAt) =>
          new Job({
            ref: new JobRef({ provider: Client.provider, kind, id }),
            language,
            state,
            providerStatus,
            observedAt
          })
      )

    const uploadOf = Effect.fnUntraced(function* (request: ResolvedRequest) {
      const source = request.source
      if (source._tag === "File") return yield* ProviderHttp.fileUpload(fs, source, ctx("submit"))
      if (source._tag === "Stream") return ProviderHttp.streamUpload(source)
      return yield* Effect.die("unreachable: URL sources are not uploaded")
    })

    /**
     * The source as HeyGen wants it: a URL as is, anything else uploaded (streamed) once as an asset
     * that every request of the submission names — core calls this once per submission.
     */
    const videoInput = Effect.fnUntraced(function* (request: ResolvedRequest) {
      if (request.source._tag === "Url") return { type: "url" as const, url: request.source.url }
      const upload = yield* uploadOf(request)
      const key = request.idempotencyKey === undefined ? undefined : `${request.idempotencyKey}.asset`.slice(0, 255)
      if (!v3) {
        const asset = yield* client.v1UploadAsset(upload)
        return { type: "url" as const, url: asset.data.url }
      }
      if (upload.size !== undefined && upload.size > multipartLimit) {
        const asset = yield* client.uploadAssetDirect({ ...upload, size: upload.size }, key)
        return { type: "asset_id" as const, asset_id: asset.data.asset_id }
      }
      // A stream of unknown size goes multipart (chunked): HeyGen refuses it past 32 MB with 413, which
      // surfaces as PayloadTooLarge; with its size given, a large stream takes the direct-upload flow.
      const asset = yield* client.uploadAsset(upload, key).pipe(
        Effect.mapError((e) =>
          e._tag === "PayloadTooLarge" && upload.size === undefined
            ? new PayloadTooLarge({
                ...ctx("submit"),
                ...(e.status === undefined ? {} : { status: e.status }),
                ...(e.providerCode === undefined ? {} : { providerCode: e.providerCode }),
                limitBytes: multipartLimit,
                message: `${e.message} (give the stream's size so that files over 32 MB use the direct-upload flow)`
              })
            : e
        )
      )
      return { type: "asset_id" as const, asset_id: asset.data.asset_id }
    })

    const submit = Effect.fnUntraced(function* (request: ResolvedRequest, video: Wire.AssetInput) {
      const extra = request.providerOptions?.heygen ?? {}
      const names = request.targets.map((t) => t.vendorName)
      const created: Array<string> = []
      if (request.review === true) {
        if (v3) {
          const answer = yield* client.createProofread(
            {
              video,
              output_languages: names,
              title: request.title ?? "polydub",
              ...(request.speakers === undefined ? {} : { speaker_num: request.speakers }),
              ...(extra.mode === undefined ? {} : { mode: extra.mode }),
              ...(extra.brandGlossaryId === undefined ? {} : { brand_glossary_id: extra.brandGlossaryId }),
              ...(extra.folderId === undefined ? {} : { folder_id: extra.folderId }),
              ...(extra.enableVideoStretching === undefined
                ? {}
                : { enable_video_stretching: extra.enableVideoStretching }),
              ...(extra.disableMusicTrack === undefined ? {} : { disable_music_track: extra.disableMusicTrack }),
              ...(extra.enableSpeechEnhancement === undefined
                ? {}
                : { enable_speech_enhancement: extra.enableSpeechEnhancement }),
              ...(extra.keepTheSameFormat === undefined ? {} : { keep_the_same_format: extra.keepTheSameFormat })
            },
            request.idempotencyKey
          )
          created.push(...answer.data.proofread_ids)
        } else {
          const answer = yield* client.v2CreateProofread({
            video_url: video.type === "url" ? video.url : "",
            ...(request.title === undefined ? {} : { title: request.title }),
            ...(names.length === 1 ? { output_language: names[0]! } : { output_languages: names }),
            ...(request.speakers === undefined ? {} : { speaker_num: request.speakers })
          })
          created.push(...(answer.data.proofread_ids ?? (answer.data.proofread_id ? [answer.data.proofread_id] : [])))
        }
      } else if (v3) {
        const answer = yield* client.createTranslation(
          {
            video,
            output_languages: names,
            ...(request.title === undefined ? {} : { title: request.title }),
            ...(request.speakers === undefined ? {} : { speaker_num: request.speakers }),
            ...(request.audioOnly === true ? { translate_audio_only: true } : {}),
            ...(request.captions === true ? { enable_caption: true } : {}),
            ...(request.callback === undefined ? {} : { callback_url: request.callback.url }),
            ...(request.callback?.id === undefined ? {} : { callback_id: request.callback.id }),
            ...(request.sourceLanguage === undefined
              ? {}
              : {
                  input_language: Option.getOrElse(
                    Option.fromUndefinedOr(Languages.table.byTag.get(request.sourceLanguage)),
                    () => request.sourceLanguage!
                  )
                }),
            ...(extra.mode === undefined ? {} : { mode: extra.mode }),
            ...(extra.brandGlossaryId === undefined ? {} : { brand_glossary_id: extra.brandGlossaryId }),
            ...(extra.folderId === undefined ? {} : { folder_id: extra.folderId }),
            ...(extra.keepTheSameFormat === undefined ? {} : { keep_the_same_format: extra.keepTheSameFormat }),
            ...(extra.enableDynamicDuration === undefined
              ? {}
              : { enable_dynamic_duration: extra.enableDynamicDuration }),
            ...(extra.disableMusicTrack === undefined ? {} : { disable_music_track: extra.disableMusicTrack }),
            ...(extra.enableSpeechEnhancement === undefined
              ? {}
              : { enable_speech_enhancement: extra.enableSpeechEnhancement }),
            ...(extra.enableWatermark === undefined ? {} : { enable_watermark: extra.enableWatermark }),
            ...(extra.startTime === undefined ? {} : { start_time: extra.startTime }),
            ...(extra.endTime === undefined ? {} : { end_time: extra.endTime })
          },
          request.idempotencyKey
        )
        created.push(...answer.data.video_translation_ids)
      } else {
        const answer = yield* client.v2Create({
          video_url: video.type === "url" ? video.url : "",
          ...(request.title === undefined ? {} : { title: request.title }),
          ...(names.length === 1 ? { output_language: names[0]! } : { output_languages: names }),
          ...(request.speakers === undefined ? {} : { speaker_num: request.speakers }),
          ...(request.audioOnly === true ? { translate_audio_only: true } : {}),
          ...(request.captions === true ? { enable_caption: true } : {}),
          ...(request.callback === undefined ? {} : { callback_url: request.callback.url }),
          ...(request.callback?.id === undefined ? {} : { callback_id: request.callback.id })
        })
        created.push(
          ...(answer.data.video_translate_ids ??
            (answer.data.video_translate_id ? [answer.data.video_translate_id] : []))
        )
      }
      if (created.length !== request.targets.length) {
        return yield* new UnexpectedResponse({
          ...ctx("submit"),
          path: "data",
          excerpt: created.join(","),
          message: `HeyGen returned ${created.length} ids for ${request.targets.length} languages`
        })
      }
      const kind = request.review === true ? "review" : "translation"
      return yield* Effect.forEach(created, (id, i) =>
        job(kind, id, request.targets[i]!.tag, { _tag: "Queued" }, kind === "review" ? "processing" : "pending")
      )
    })

    const get = Effect.fnUntraced(function* (ref: JobRef) {
      if (ref.kind === "review") {
        if (v3) {
          const { data } = yield* client.getProofread(ref.id)
          return yield* job(
            "review",
            ref.id,
            languageOf(data.output_language, suffixOf(ref.id)),
            yield* proofreadState(data.status, data.failure_message),
            data.status
          )
        }
        const { data } = yield* client.v2ProofreadStatus(ref.id)
        return yield* job(
          "review",
          ref.id,
          suffixOf(ref.id),
          yield* proofreadState(data.status, data.details),
          data.status
        )
      }
      if (v3) {
        const { data } = yield* client.getTranslation(ref.id)
        return yield* job(
          "translation",
          ref.id,
          languageOf(data.output_language, suffixOf(ref.id)),
          yield* translationState(data),
          data.status
        )
      }
      const { data } = yield* client.v2Status(ref.id)
      return yield* job(
        "translation",
        ref.id,
        languageOf(data.output_language, suffixOf(ref.id)),
        yield* v2TranslationState(data),
        data.status
      )
    })

    /** Bulk reads for translations (100 a request); finished ones are read singly for their outputs. */
    const getMany = Effect.fnUntraced(function* (refs: ReadonlyArray<JobRef>) {
      const translations = refs.filter((r) => r.kind === "translation")
      const bulk = new Map<string, Wire.BulkStatusItem>()
      if (translations.length > 0) {
        const answer = yield* client.statuses(translations.map((r) => r.id))
        for (const item of answer.data) if (item.video_id) bulk.set(item.video_id, item)
      }
      return yield* Effect.forEach(
        refs,
        (ref): Effect.Effect<JobResult> => {
          const item = ref.kind === "translation" ? bulk.get(ref.id) : undefined
          if (ref.kind === "translation" && (item === undefined || item.status === "not_found")) {
            return Effect.succeed(
              Result.fail(
                new NotFound({ ...ctx("getMany"), resource: String(ref), message: `no translation ${ref.id}` })
              )
            )
          }
          if (item !== undefined && (item.status === "queued" || item.status === "processing")) {
            return Effect.map(mapStatus(Client.provider, bulkWords, item.status), (state) => state).pipe(
              Effect.flatMap((state) => job("translation", ref.id, suffixOf(ref.id), state, item.status)),
              Effect.map(Result.succeed)
            )
          }
          return Effect.result(get(ref))
        },
        { concurrency: 4 }
      )
    })

    const transcript = Effect.fnUntraced(function* (ref: JobRef) {
      const url = v3
        ? (yield* client.getProofreadSrt(ref.id)).data.srt_url
        : (yield* client.v2DownloadSrt(ref.id)).data.srt_url
      const text = yield* client.fetchText(url)
      return yield* Transcript.parseSrt(text).pipe(
        Effect.mapError(
          (e) =>
            new UnexpectedResponse({
              ...ctx("transcript"),
              path: `srt:${e.line}`,
              excerpt: e.found,
              message: `HeyGen's proofread SRT is malformed: ${e.message}`
            })
        )
      )
    })

    const srtUpload = (t: Transcript.Transcript, ref: JobRef): ProviderHttp.Upload => {
      const bytes = new TextEncoder().encode(Transcript.printSrt(t))
      return {
        name: `${ref.id}.srt`,
        mediaType: "application/x-subrip",
        size: bytes.byteLength,
        stream: Stream.succeed(bytes),
        replayable: true
      }
    }

    const reviseTranscript = Effect.fnUntraced(function* (ref: JobRef, t: Transcript.Transcript) {
      if (v3) {
        const asset = yield* client.uploadAsset(srtUpload(t, ref))
        yield* client.putProofreadSrt(ref.id, { type: "asset_id", asset_id: asset.data.asset_id })
        return
      }
      const asset = yield* client.v1UploadAsset(srtUpload(t, ref))
      yield* client.v2UploadSrt(ref.id, asset.data.url)
    })

    const approve = Effect.fnUntraced(function* (ref: JobRef, options: ApproveOptions) {
      const review = yield* get(ref)
      if (review.state._tag !== "AwaitingReview") {
        return yield* new InvalidRequest({
          ...ctx("approve"),
          param: "ref",
          message: `${ref} is ${review.state._tag}, not AwaitingReview`
        })
      }
      const body = {
        ...(options.captions === undefined ? {} : { captions: options.captions }),
        ...(options.audioOnly === undefined ? {} : { translate_audio_only: options.audioOnly }),
        ...(options.callback === undefined ? {} : { callback_url: options.callback.url }),
        ...(options.callback?.id === undefined ? {} : { callback_id: options.callback.id })
      }
      const id = v3
        ? (yield* client.generateProofread(ref.id, body, options.idempotencyKey)).data.video_translation_id
        : (yield* client.v2Generate(ref.id, body)).data.video_translate_id
      return yield* job("translation", id, review.language, { _tag: "Queued" }, "processing")
    })

    const remove = Effect.fnUntraced(function* (ref: JobRef) {
      if (ref.kind === "review") {
        return yield* new Unsupported({
          ...ctx("remove"),
          feature: "remove",
          message: "HeyGen has no endpoint to delete a proofread"
        })
      }
      yield* client.deleteTranslation(ref.id)
    })

    return makeProvider({
      id: Client.provider,
      capabilities: v3 ? capabilitiesV3 : capabilitiesV2,
      languages: Languages.table,
      stage: videoInput,
      submit,
      get,
      ...(v3 ? { getMany } : {}),
      transcript,
      reviseTranscript,
      approve,
      ...(v3 ? { remove } : {})
    })
  })

/**
 * The HeyGen `TranslationProvider`. Needs an `HttpClient` and a `FileSystem` (for file sources),
 * e.g. `NodeHttpClient.layerUndici` and `NodeServices.layer`. The request budget is kept in memory.
 */
export const layer = (
  options: HeyGenLayerOptions
): Layer.Layer<TranslationProvider, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  layerWith(options).pipe(Layer.provide(Client.layerRateLimiterMemory))

/** Like `layer`, with the `RateLimiter` from context (a Redis store shares the budget across processes). */
export const layerWith = (
  options: HeyGenLayerOptions
): Layer.Layer<TranslationProvider, never, HttpClient.HttpClient | FileSystem.FileSystem | RateLimiter.RateLimiter> =>
  Layer.effect(TranslationProvider, make(options.apiVersion)).pipe(Layer.provide(Client.layer(options)))

/** Reads `HEYGEN_API_KEY`, `HEYGEN_BASE_URL` and `HEYGEN_API_VERSION` (`v3` or `v2`). */
export const layerConfig = (
  options: Omit<HeyGenLayerOptions, "apiKey" | "baseUrl" | "apiVersion"> = {}
): Layer.Layer<TranslationProvider, Config.ConfigError, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const apiKey = yield* Config.Redacted("HEYGEN_API_KEY")
      const baseUrl = yield* Config.option(Config.String("HEYGEN_BASE_URL"))
      const apiVersion = yield* Config.Literals(["v3", "v2"], "HEYGEN_API_VERSION").pipe(
        Config.withDefault("v3" as const)
      )
      return layer({ ...options, apiKey, apiVersion, ...(Option.isSome(baseUrl) ? { baseUrl: baseUrl.value } : {}) })
    })
  )
