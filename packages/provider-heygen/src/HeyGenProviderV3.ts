/**
 * HeyGen's v3 API as a `TranslationProvider` (the default). Review jobs are v3 proofreads; approving
 * one generates the translation. v3 status words are `pending|running|completed|failed`, bulk reads
 * answer `queued|processing|…|not_found`; both map onto the unified states here. References it makes
 * carry `apiVersion: "v3"`; core refuses a v2 reference before anything is sent.
 */
import {
  type ApproveOptions,
  type Capabilities,
  type JobRef,
  type JobResult,
  type JobState,
  makeProvider,
  mapStatus,
  NotFound,
  notFound,
  Outputs,
  PayloadTooLarge,
  ProviderHttp,
  type ResolvedRequest,
  type Transcript,
  Unsupported
} from "@polydub/core"
import { Duration, Effect, FileSystem, Option, Result } from "effect"
import * as Client from "./HeyGenClient.js"
import * as Languages from "./HeyGenLanguages.js"
import type * as Wire from "./HeyGenWire.js"
import { HeyGenOptions, wireOptions } from "./internal/options.js"
import {
  approvalLanguage,
  artifact,
  createdJobs,
  ctx,
  generateBody,
  jobMaker,
  languageOf,
  parseProofreadSrt,
  proofreadState,
  srtUpload
} from "./internal/provider.js"

/** Largest file `POST /v3/assets` takes; larger files use the direct-upload flow. */
export const multipartLimit = 32 * 1024 * 1024

/**
 * What the v3 provider can do, as applications read it (`review` and `remove` follow from its hooks;
 * the package's tests check this against the built provider and `@polydub/testing`'s preset).
 */
export const capabilities: Capabilities = {
  review: true,
  remove: true,
  urlInput: "native",
  fileInput: true,
  outputs: { video: true, audio: true, captions: true, lipSyncVideo: false },
  audioOnly: true,
  webhooks: true,
  idempotency: true,
  // HeyGen replays a repeated key's first answer for 24 hours; later it is a new request.
  idempotencyWindow: Duration.hours(24),
  targetsPerRequest: 50,
  bulkStatus: 100,
  budget: {},
  polling: { initial: Duration.seconds(30), max: Duration.seconds(60) }
}

const words = {
  pending: { _tag: "Queued" },
  running: { _tag: "Running" },
  completed: { _tag: "Succeeded", outputs: new Outputs({}) },
  failed: { _tag: "Failed", reason: { code: "failed", message: "" } }
} satisfies Record<string, JobState>

const bulkWords = {
  queued: { _tag: "Queued" },
  processing: { _tag: "Running" },
  completed: { _tag: "Succeeded", outputs: new Outputs({}) },
  failed: { _tag: "Failed", reason: { code: "failed", message: "" } }
} satisfies Record<string, JobState>

/** The unified state of a v3 translation. */
export const translationState = (t: Wire.Translation): Effect.Effect<JobState> =>
  Effect.map(mapStatus(Client.provider, words, t.status), (word): JobState => {
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

/** Builds the v3 provider over a `HeyGenClient`. */
export const make = Effect.gen(function* () {
  const client = yield* Client.HeyGenClient
  const fs = yield* FileSystem.FileSystem
  const job = jobMaker("v3")
  const { remove: _remove, review: _review, ...declared } = capabilities

  /**
   * The source as HeyGen wants it: a URL as is, anything else uploaded (streamed) once as an asset
   * that every request of the submission names — core calls this once per submission.
   */
  const videoInput = Effect.fnUntraced(function* (request: ResolvedRequest) {
    // Options the request does not take are refused here, before an upload or any request.
    yield* wireOptions(request.providerOptions?.heygen, request.review === true ? "proofread" : "translation")
    const source = request.source
    if (source._tag === "Url") return { type: "url" as const, url: source.url }
    const upload =
      source._tag === "File"
        ? yield* ProviderHttp.fileUpload(fs, source, ctx("submit"))
        : ProviderHttp.streamUpload(source)
    const key = request.idempotencyKey === undefined ? undefined : `${request.idempotencyKey}.asset`.slice(0, 255)
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
    // Core decoded these with `HeyGenOptions` before anything was sent.
    const extra: HeyGenOptions = request.providerOptions?.heygen ?? {}
    const names = request.targets.map((t) => t.vendorName)
    const created: Array<string> = []
    if (request.review === true) {
      const answer = yield* client.createProofread(
        {
          video,
          output_languages: names,
          title: request.title ?? "polydub",
          ...(request.speakers === undefined ? {} : { speaker_num: request.speakers }),
          ...(yield* wireOptions(extra, "proofread"))
        },
        request.idempotencyKey
      )
      created.push(...answer.data.proofread_ids)
    } else {
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
          ...(yield* wireOptions(extra, "translation"))
        },
        request.idempotencyKey
      )
      created.push(...answer.data.video_translation_ids)
    }
    return yield* createdJobs(job, request, created)
  })

  const get = Effect.fnUntraced(function* (ref: JobRef) {
    if (ref.kind === "review") {
      const { data } = yield* client.getProofread(ref.id)
      return yield* job(
        "review",
        ref.id,
        languageOf(ref, data.output_language),
        yield* proofreadState(data.status, data.failure_message),
        data.status
      )
    }
    const { data } = yield* client.getTranslation(ref.id)
    return yield* job(
      "translation",
      ref.id,
      languageOf(ref, data.output_language),
      yield* translationState(data),
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
            Result.fail(new NotFound({ ...ctx("getMany"), resource: String(ref), message: `no translation ${ref.id}` }))
          )
        }
        if (item !== undefined && (item.status === "queued" || item.status === "processing")) {
          return mapStatus(Client.provider, bulkWords, item.status).pipe(
            Effect.flatMap((state) => job("translation", ref.id, languageOf(ref), state, item.status)),
            Effect.map(Result.succeed)
          )
        }
        return Effect.result(get(ref))
      },
      { concurrency: 4 }
    )
  })

  const transcript = Effect.fnUntraced(function* (ref: JobRef) {
    const url = (yield* client.getProofreadSrt(ref.id)).data.srt_url
    const text = yield* client.fetchText(url)
    return yield* parseProofreadSrt(text)
  })

  // HeyGen's proofread carries the source-language SRT beside the translated one.
  const sourceTranscript = Effect.fnUntraced(function* (ref: JobRef) {
    const url = (yield* client.getProofreadSrt(ref.id)).data.original_srt_url
    if (url === undefined || url === null) {
      return yield* notFound("heygen", "sourceTranscript", ref, "HeyGen gave no source SRT")
    }
    const text = yield* client.fetchText(url)
    return yield* parseProofreadSrt(text)
  })

  const reviseTranscript = Effect.fnUntraced(function* (ref: JobRef, t: Transcript.Transcript) {
    const asset = yield* client.uploadAsset(srtUpload(t, ref))
    yield* client.putProofreadSrt(ref.id, { type: "asset_id", asset_id: asset.data.asset_id })
  })

  /**
   * One request: the reference carries the language, and HeyGen refuses to generate a proofread that
   * is not completed. A reference printed before references carried their language is read first,
   * as it always was, to learn it.
   */
  const approve = Effect.fnUntraced(function* (ref: JobRef, options: ApproveOptions) {
    const language = yield* approvalLanguage(ref, get)
    const { data } = yield* client.generateProofread(ref.id, generateBody(options), options.idempotencyKey)
    return yield* job("translation", data.video_translation_id, language, { _tag: "Queued" }, "processing")
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
    apiVersion: "v3",
    capabilities: declared,
    languages: Languages.table,
    options: HeyGenOptions,
    fileSystem: fs,
    stage: videoInput,
    submit,
    get,
    getMany,
    transcript,
    sourceTranscript,
    reviseTranscript,
    approve,
    remove
  })
})
