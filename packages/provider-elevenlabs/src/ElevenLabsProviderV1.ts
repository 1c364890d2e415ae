/**
 * ElevenLabs' legacy dubbing API (`/v1/dubbing`) as a `TranslationProvider`: one dub per target
 * language, created from a URL ElevenLabs fetches or from a file streamed in the form; no review step
 * (the Dubbing Studio editing endpoints it had are deprecated), no webhooks, delete supported. The
 * outputs have no URL: the dubbed file and the subtitles are served to the key's holder only, so they
 * are streamed through the provider (`download`).
 *
 * ElevenLabs takes no idempotency key. A create that may have been processed is never sent again;
 * instead the dubs listed newest first are searched for the token the create carried in its name,
 * and one created in that window settles the outcome. Otherwise the unknown outcome is the error.
 */
import {
  type ArtifactBody,
  type Capabilities,
  Job,
  type JobRef,
  type JobState,
  makeProvider,
  mapStatus,
  type OutputKind,
  Outputs,
  ProviderUnavailable,
  type ResolvedRequest,
  type TranslationError,
  Unsupported
} from "@polydub/core"
import { DateTime, Duration, Effect, FileSystem, Option, Stream } from "effect"
import * as Client from "./ElevenLabsClient.js"
import * as Languages from "./ElevenLabsLanguages.js"
import * as Wire from "./ElevenLabsWire.js"
import { ctx, ElevenLabsOptions, jobMaker, mediaOf, mintToken, nameWith, optionsFor } from "./internal/provider.js"

export const apiVersion = "v1"

/** Largest upload the legacy API takes: 1 GB (and 2.5 hours). */
export const maxUploadBytes = 1_000_000_000

export const capabilities: Capabilities = {
  review: false,
  remove: true,
  urlInput: "native",
  fileInput: true,
  maxUploadBytes,
  outputs: { video: true, audio: true, captions: true, lipSyncVideo: false },
  audioOnly: false,
  webhooks: false,
  idempotency: false,
  targetsPerRequest: 1,
  budget: { status: Client.enforcedBudgets().read, submit: Client.enforcedBudgets().create },
  polling: { initial: Duration.seconds(5), max: Duration.seconds(30) }
}

const failed: JobState = { _tag: "Failed", reason: { code: "failed", message: "" } }
const succeeded: JobState = { _tag: "Succeeded", outputs: new Outputs({}) }

/** The status words ElevenLabs documents; any other word is Running (logged), never a crash. */
const statusWords = {
  queued: { _tag: "Queued" },
  preparing: { _tag: "Running", step: "preparing" },
  dubbing: { _tag: "Running", step: "dubbing" },
  cloning: { _tag: "Running", step: "cloning" },
  dubbed: succeeded,
  failed
} satisfies Record<string, JobState>

/** Whether a dub's media is audio only (its output is then audio, else a video). */
const isAudio = (dub: Wire.DubbingMetadata) => dub.media_metadata?.content_type?.startsWith("audio/") === true

/** The outputs of a finished dub: its file (video or audio) and its subtitles, all streamed through the provider. */
export const outputsOf = (dub: Wire.DubbingMetadata): Outputs =>
  new Outputs({
    ...(isAudio(dub) ? { audio: { mediaType: "audio/mpeg" } } : { video: { mediaType: "video/mp4" } }),
    captions: { srt: { mediaType: "application/x-subrip" }, vtt: { mediaType: "text/vtt" } }
  })

/** The unified state of a dub. */
export const dubState = (dub: Wire.DubbingMetadata): Effect.Effect<JobState> =>
  Effect.map(mapStatus(Client.provider, statusWords, dub.status), (word): JobState => {
    if (word._tag === "Succeeded") return { _tag: "Succeeded", outputs: outputsOf(dub) }
    if (word._tag === "Failed") {
      return { _tag: "Failed", reason: { code: "failed", message: dub.error ?? "the dub failed" } }
    }
    return word
  })

/** The ElevenLabs code of a target tag: its table entry, else its primary subtag. */
const codeOf = (tag: string) => Languages.legacyTable.byTag.get(tag) ?? Languages.legacySource(tag)

const makeJob = jobMaker(apiVersion)

/** How far before the create's start a dub found in the list may be dated (clocks differ). */
const skew = 5 * 60_000

/** Pages of the list read to settle an unknown create: 500 dubs created since. */
const maxSettlePages = 5

/** Whether a dub was created at or after `since` (epoch ms); one without a readable date may have been. */
const createdSince = (dub: Wire.DubbingMetadata, since: number) => {
  const created = dub.created_at == null ? Option.none() : Wire.timestampMillis(dub.created_at)
  return Option.isNone(created) || created.value >= since
}

/** Builds the provider over an `ElevenLabsClient`. */
export const make = Effect.gen(function* () {
  const client = yield* Client.ElevenLabsClient
  const fs = yield* FileSystem.FileSystem

  /**
   * A create whose outcome is unknown, settled from the list: the dubs are read newest first, page by
   * page until they are older than the create, for the name the create carried (unique by its token)
   * and the target it asked for. Found, it is the job; not found (or the list refused), the unknown
   * outcome stands, with what was looked for in its message.
   */
  const settle = Effect.fnUntraced(function* (error: TranslationError, name: string, target: string, sentAt: number) {
    const since = sentAt - skew
    let cursor: string | undefined
    let listFailure: string | undefined
    for (let page = 0; page < maxSettlePages; page++) {
      const answer = yield* Effect.result(
        client.listDubs({ order_by: "created_at", order_direction: "DESCENDING", page_size: 100, cursor })
      )
      if (answer._tag === "Failure") {
        listFailure = answer.failure.message
        break
      }
      const found = answer.success.dubs.find(
        (dub) => dub.name === name && dub.target_languages.includes(target) && createdSince(dub, since)
      )
      if (found !== undefined) {
        yield* Effect.logInfo(`elevenlabs: an unknown create outcome was settled from the list: ${found.dubbing_id}`)
        return found
      }
      const last = answer.success.dubs.at(-1)
      if (!answer.success.has_more || answer.success.next_cursor == null || last === undefined) break
      if (!createdSince(last, since)) break
      cursor = answer.success.next_cursor
    }
    return yield* new ProviderUnavailable({
      ...ctx("submit"),
      outcome: "unknown",
      ...(error.status === undefined ? {} : { status: error.status }),
      message:
        `${error.message}; no dub named ${JSON.stringify(name)} was found in the list ` +
        (listFailure === undefined ? "yet" : `(the list failed: ${listFailure})`) +
        ": it may still appear, so do not submit again before checking"
    })
  })

  const submit = Effect.fnUntraced(function* (request: ResolvedRequest) {
    const target = request.targets[0]!
    const options = yield* optionsFor(request, "v1")
    const media = yield* mediaOf(fs, request)
    const token = yield* mintToken
    const name = nameWith(request.title, token)
    const fields: Wire.CreateDubbingFields = {
      name,
      target_lang: target.vendorName,
      source_lang: request.sourceLanguage === undefined ? "auto" : Languages.legacySource(request.sourceLanguage),
      num_speakers: request.speakers ?? 0,
      target_accent: options.targetAccent,
      watermark: options.watermark,
      start_time: options.startTime,
      end_time: options.endTime,
      highest_resolution: options.highestResolution,
      drop_background_audio: options.dropBackgroundAudio,
      use_profanity_filter: options.useProfanityFilter,
      disable_voice_cloning: options.disableVoiceCloning
    }
    const sentAt = yield* DateTime.now
    const queued: JobState = { _tag: "Queued" }
    const created = yield* client.createDubbing(media, fields).pipe(
      Effect.map((answer) => ({ id: answer.dubbing_id, status: "queued", state: queued })),
      Effect.catchIf(
        (error) => error._tag === "ProviderUnavailable" && error.outcome === "unknown",
        (error) =>
          // A dub found in the list may have moved on already: its state is read from the list's answer.
          Effect.flatMap(settle(error, name, target.vendorName, DateTime.toEpochMillis(sentAt)), (dub) =>
            Effect.map(dubState(dub), (state) => ({ id: dub.dubbing_id, status: dub.status, state }))
          )
      )
    )
    return [yield* makeJob("translation", created.id, target.tag, created.state, created.status)]
  })

  // The most frequent call (every poll): the reference that was read is reused when it already says
  // all a job's reference holds, rather than built and checked again.
  const get = (ref: JobRef): Effect.Effect<Job, TranslationError> =>
    Effect.flatMap(client.getDubbing(ref.id), (dub) =>
      Effect.flatMap(dubState(dub), (state) => {
        const language = ref.language
        if (language !== undefined && ref.apiVersion === apiVersion && ref.id === dub.dubbing_id) {
          return Effect.map(
            DateTime.now,
            (observedAt) => new Job({ ref, language, state, providerStatus: dub.status, observedAt })
          )
        }
        const first = dub.target_languages[0]
        const tag = first === undefined ? "und" : Option.getOrElse(Languages.tagOf(first), () => first)
        return makeJob("translation", dub.dubbing_id, language ?? tag, state, dub.status)
      })
    )

  const download = (ref: JobRef, kind: OutputKind): Effect.Effect<ArtifactBody, TranslationError> => {
    const language = ref.language
    if (language === undefined) {
      return Effect.fail(
        new Unsupported({
          ...ctx("download"),
          feature: "download",
          message: `${ref} carries no target language, which ElevenLabs needs to serve an output: use the reference submit returned`
        })
      )
    }
    const code = codeOf(language)
    if (kind === "srt" || kind === "vtt") {
      return Effect.map(client.transcript(ref.id, code, kind === "srt" ? "srt" : "webvtt"), (text) => {
        const bytes = new TextEncoder().encode(text)
        return {
          stream: Stream.succeed(bytes),
          contentLength: bytes.byteLength,
          mediaType: kind === "srt" ? "application/x-subrip" : "text/vtt"
        }
      })
    }
    if (kind === "lipSyncVideo") {
      return Effect.fail(
        new Unsupported({ ...ctx("download"), feature: "lipSync", message: "ElevenLabs has no lip sync" })
      )
    }
    // ElevenLabs serves the file as `application/octet-stream` though it is an MP4 or an MP3: the kind
    // (from the source's media type) says which.
    return Effect.map(client.openAudio(ref.id, code), (opened) => ({
      ...opened,
      mediaType:
        opened.mediaType === undefined || opened.mediaType.startsWith("application/octet-stream")
          ? kind === "audio"
            ? "audio/mpeg"
            : "video/mp4"
          : opened.mediaType
    }))
  }

  const remove = (ref: JobRef) => client.deleteDubbing(ref.id)

  const { remove: _remove, review: _review, ...declared } = capabilities
  return makeProvider({
    id: Client.provider,
    apiVersion,
    capabilities: { ...declared, budget: { status: client.budgets.read, submit: client.budgets.create } },
    languages: Languages.legacyTable,
    options: ElevenLabsOptions,
    fileSystem: fs,
    submit,
    get,
    remove,
    download
  })
})
