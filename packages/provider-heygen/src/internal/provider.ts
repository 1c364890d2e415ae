/**
 * What HeyGen's v3 and v2 providers share: status words of proofreads, artifacts from presigned
 * URLs, the language of a job, jobs and their references, and the SRT upload of a revised
 * transcript. Kept apart from both so that the v2 provider can be deleted as one file.
 */
import {
  type ApproveOptions,
  InvalidRequest,
  type Job,
  type JobRef,
  type JobState,
  Language,
  jobMaker as makeJobs,
  mapStatus,
  ProviderHttp,
  type ResolvedRequest,
  Transcript,
  UnexpectedResponse
} from "@polydub/core"
import { Effect, Option, Stream } from "effect"
import * as Client from "../HeyGenClient.js"
import * as Languages from "../HeyGenLanguages.js"

export const ctx = (operation: string) => ({ provider: Client.provider, operation })

const proofreadWords = {
  processing: { _tag: "Running", step: "extracting" },
  completed: { _tag: "AwaitingReview" },
  failed: { _tag: "Failed", reason: { code: "failed", message: "" } }
} satisfies Record<string, JobState>

/** The unified state of a proofread (v3 or v2). */
export const proofreadState = (status: string, failure: string | null | undefined): Effect.Effect<JobState> =>
  Effect.map(
    mapStatus(Client.provider, proofreadWords, status),
    (word): JobState =>
      word._tag === "Failed"
        ? { _tag: "Failed", reason: { code: "failed", message: failure ?? "the proofread failed" } }
        : word
  )

/** A presigned output URL, with its expiry where the URL says it. */
export const artifact = (url: string, mediaType: string) => {
  const expiresAt = ProviderHttp.presignedExpiry(url)
  return Option.isSome(expiresAt) ? { url, mediaType, expiresAt: expiresAt.value } : { url, mediaType }
}

/**
 * The language of a HeyGen id from its suffix (`…-es`, `…-ur-ur-PK`), for references printed before
 * they carried their language. The last one or two subtags that form a valid tag win.
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

/**
 * The language of a job: HeyGen's answer where it names one, else what the reference carries, else
 * (a reference printed by an earlier version) the id's suffix.
 */
export const languageOf = (ref: JobRef, name?: string | null | undefined): string => {
  if (name !== null && name !== undefined) return Languages.table.byName.get(name.toLowerCase()) ?? name
  return ref.language ?? suffixOf(ref.id)
}

/** Builds jobs whose references carry their language and the API version that made them. */
export const jobMaker = (apiVersion: "v3" | "v2") => makeJobs(Client.provider, apiVersion)

/**
 * The jobs a create request made, one per target in the order asked (HeyGen answers the ids in that
 * order); an answer with another number of ids than targets cannot be matched to them.
 */
export const createdJobs = (
  job: ReturnType<typeof jobMaker>,
  request: ResolvedRequest,
  created: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<Job>, UnexpectedResponse> => {
  if (created.length !== request.targets.length) {
    return Effect.fail(
      new UnexpectedResponse({
        ...ctx("submit"),
        path: "data",
        excerpt: created.join(","),
        message: `HeyGen returned ${created.length} ids for ${request.targets.length} languages`
      })
    )
  }
  const kind = request.review === true ? "review" : "translation"
  return Effect.forEach(created, (id, i) =>
    job(kind, id, request.targets[i]!.tag, { _tag: "Queued" }, kind === "review" ? "processing" : "pending")
  )
}

/** A revised transcript as the SRT file HeyGen takes. */
export const srtUpload = (t: Transcript.Transcript, ref: JobRef): ProviderHttp.Upload => {
  const bytes = new TextEncoder().encode(Transcript.printSrt(t))
  return {
    name: `${ref.id}.srt`,
    mediaType: "application/x-subrip",
    size: bytes.byteLength,
    stream: Stream.succeed(bytes),
    replayable: true
  }
}

/** A proofread's SRT as a transcript; a malformed one is `UnexpectedResponse` at its line. */
export const parseProofreadSrt = (text: string): Effect.Effect<Transcript.Transcript, UnexpectedResponse> =>
  Transcript.parseSrt(text).pipe(
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

/** The body of a proofread's generate request (v3 and v2 take the same fields). */
export const generateBody = (options: ApproveOptions) => ({
  ...(options.captions === undefined ? {} : { captions: options.captions }),
  ...(options.audioOnly === undefined ? {} : { translate_audio_only: options.audioOnly }),
  ...(options.callback === undefined ? {} : { callback_url: options.callback.url }),
  ...(options.callback?.id === undefined ? {} : { callback_id: options.callback.id })
})

/**
 * The language to approve a review job in: the one its reference carries, or — for a reference
 * printed before references carried it — read from the job, which must be awaiting review.
 */
export const approvalLanguage = <E>(
  ref: JobRef,
  get: (ref: JobRef) => Effect.Effect<Job, E>
): Effect.Effect<string, E | InvalidRequest> =>
  ref.language !== undefined
    ? Effect.succeed(ref.language)
    : Effect.flatMap(get(ref), (review) =>
        review.state._tag === "AwaitingReview"
          ? Effect.succeed(review.language)
          : Effect.fail(
              new InvalidRequest({
                ...ctx("approve"),
                param: "ref",
                message: `${ref} is ${review.state._tag}, not AwaitingReview`
              })
            )
      )
