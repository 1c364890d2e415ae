/**
 * HeyGen's legacy v2 API as a `TranslationProvider`, chosen with `apiVersion: "v2"`. HeyGen announced
 * the end of v1/v2 support for October 31, 2026: this file, and its one import in
 * `HeyGenProvider.ts`, are all there is to delete then. v2 has no delete, no idempotency keys, no bulk
 * status and no audio output; its status words are `pending|running|success|failed`. References it
 * makes carry `apiVersion: "v2"`; core refuses a v3 reference before anything is sent.
 */
import {
  type ApproveOptions,
  type Capabilities,
  type JobRef,
  type JobState,
  makeProvider,
  mapStatus,
  Outputs,
  ProviderHttp,
  type ResolvedRequest,
  type Transcript
} from "@polydub/core"
import { Effect, FileSystem } from "effect"
import * as Client from "./HeyGenClient.js"
import * as Languages from "./HeyGenLanguages.js"
import { capabilities as capabilitiesV3 } from "./HeyGenProviderV3.js"
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

/** What the v2 provider can do: v3's, less delete, idempotency keys, bulk status and audio output. */
export const capabilities: Capabilities = {
  ...capabilitiesV3,
  remove: false,
  outputs: { video: true, audio: false, captions: true, lipSyncVideo: false },
  idempotency: false,
  idempotencyWindow: undefined,
  bulkStatus: undefined
}

const words = {
  pending: { _tag: "Queued" },
  running: { _tag: "Running" },
  success: { _tag: "Succeeded", outputs: new Outputs({}) },
  failed: { _tag: "Failed", reason: { code: "failed", message: "" } }
} satisfies Record<string, JobState>

/** The unified state of a v2 translation. */
export const translationState = (s: Wire.V2Status): Effect.Effect<JobState> =>
  Effect.map(mapStatus(Client.provider, words, s.status), (word): JobState => {
    if (word._tag === "Failed")
      return { _tag: "Failed", reason: { code: "failed", message: s.message ?? "the translation failed" } }
    if (word._tag !== "Succeeded") return word
    if (!s.url) return { _tag: "Running", step: "finalizing", progress: 0.99 }
    return { _tag: "Succeeded", outputs: new Outputs({ video: artifact(s.url, "video/mp4") }) }
  })

/** Builds the v2 provider over a `HeyGenClient`. */
export const make = Effect.gen(function* () {
  const client = yield* Client.HeyGenClient
  const fs = yield* FileSystem.FileSystem
  const job = jobMaker("v2")
  const { remove: _remove, review: _review, ...declared } = capabilities

  /** v2 takes URLs only: a file or a stream is uploaded once (v1 asset upload) and named by its URL. */
  const videoInput = Effect.fnUntraced(function* (request: ResolvedRequest) {
    // The v2 API takes none of the v3 options: refused before an upload or any request, never dropped.
    yield* wireOptions(request.providerOptions?.heygen, "v2")
    const source = request.source
    if (source._tag === "Url") return source.url
    const upload =
      source._tag === "File"
        ? yield* ProviderHttp.fileUpload(fs, source, ctx("submit"))
        : ProviderHttp.streamUpload(source)
    return (yield* client.v1UploadAsset(upload)).data.url
  })

  const submit = Effect.fnUntraced(function* (request: ResolvedRequest, videoUrl: string) {
    const names = request.targets.map((t) => t.vendorName)
    const common = {
      video_url: videoUrl,
      ...(request.title === undefined ? {} : { title: request.title }),
      ...(names.length === 1 ? { output_language: names[0]! } : { output_languages: names }),
      ...(request.speakers === undefined ? {} : { speaker_num: request.speakers })
    }
    const created: Array<string> = []
    if (request.review === true) {
      const { data } = yield* client.v2CreateProofread(common)
      created.push(...(data.proofread_ids ?? (data.proofread_id ? [data.proofread_id] : [])))
    } else {
      const { data } = yield* client.v2Create({
        ...common,
        ...(request.audioOnly === true ? { translate_audio_only: true } : {}),
        ...(request.captions === true ? { enable_caption: true } : {}),
        ...(request.callback === undefined ? {} : { callback_url: request.callback.url }),
        ...(request.callback?.id === undefined ? {} : { callback_id: request.callback.id })
      })
      created.push(...(data.video_translate_ids ?? (data.video_translate_id ? [data.video_translate_id] : [])))
    }
    return yield* createdJobs(job, request, created)
  })

  const get = Effect.fnUntraced(function* (ref: JobRef) {
    if (ref.kind === "review") {
      // v2's proofread status does not name the language: the reference carries it.
      const { data } = yield* client.v2ProofreadStatus(ref.id)
      return yield* job(
        "review",
        ref.id,
        languageOf(ref),
        yield* proofreadState(data.status, data.details),
        data.status
      )
    }
    const { data } = yield* client.v2Status(ref.id)
    return yield* job(
      "translation",
      ref.id,
      languageOf(ref, data.output_language),
      yield* translationState(data),
      data.status
    )
  })

  const transcript = Effect.fnUntraced(function* (ref: JobRef) {
    return yield* parseProofreadSrt(yield* client.fetchText((yield* client.v2DownloadSrt(ref.id)).data.srt_url))
  })

  const reviseTranscript = Effect.fnUntraced(function* (ref: JobRef, t: Transcript.Transcript) {
    const asset = yield* client.v1UploadAsset(srtUpload(t, ref))
    yield* client.v2UploadSrt(ref.id, asset.data.url)
  })

  /** One request where the reference carries the language; an older reference is read first. */
  const approve = Effect.fnUntraced(function* (ref: JobRef, options: ApproveOptions) {
    const language = yield* approvalLanguage(ref, get)
    const { data } = yield* client.v2Generate(ref.id, generateBody(options))
    return yield* job("translation", data.video_translate_id, language, { _tag: "Queued" }, "processing")
  })

  return makeProvider({
    id: Client.provider,
    apiVersion: "v2",
    capabilities: declared,
    languages: Languages.table,
    options: HeyGenOptions,
    fileSystem: fs,
    stage: videoInput,
    submit,
    get,
    transcript,
    reviseTranscript,
    approve
  })
})
