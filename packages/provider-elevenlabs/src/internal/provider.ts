/**
 * What ElevenLabs' legacy and projects providers share: the request options, how a source becomes
 * the create's media, the token that names a submission so an unknown outcome can be settled from
 * a list, and jobs whose references carry their language and API version. Kept apart from both so
 * that either version can be deleted as one file.
 */
import { randomBytes } from "node:crypto"
import { InvalidRequest, jobMaker as makeJobs, ProviderHttp, type ResolvedRequest } from "@polydub/core"
import { Effect, type FileSystem, Schema } from "effect"
import * as Client from "../ElevenLabsClient.js"

export const ctx = (operation: string) => ({ provider: Client.provider, operation })

/**
 * ElevenLabs-only request fields, passed as `providerOptions.elevenlabs`. Core decodes them with this
 * Schema before anything is sent. The first group is the legacy API's, the second the projects API's;
 * a field of the other API is refused by the provider that cannot send it.
 */
export const ElevenLabsOptions = Schema.Struct({
  /** [Experimental at ElevenLabs] an accent for voices and dialect, e.g. "mexican" (legacy). */
  targetAccent: Schema.optional(Schema.String),
  /** A watermark on the video (legacy; watermark-free dubs need the Creator plan or above). */
  watermark: Schema.optional(Schema.Boolean),
  highestResolution: Schema.optional(Schema.Boolean),
  dropBackgroundAudio: Schema.optional(Schema.Boolean),
  useProfanityFilter: Schema.optional(Schema.Boolean),
  disableVoiceCloning: Schema.optional(Schema.Boolean),
  /** Dub only from/to these seconds of the source (legacy). */
  startTime: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  endTime: Schema.optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  /** Terms to keep as they are (projects; at most 1000). */
  keyterms: Schema.optional(Schema.Array(Schema.String).check(Schema.isMaxLength(1000))),
  /** Workspace webhooks to notify (projects; at most 3), created beforehand in ElevenLabs. */
  webhookIds: Schema.optional(Schema.Array(Schema.String).check(Schema.isMaxLength(3))),
  /** `dubbing_v1` or `dubbing_v2` (projects). */
  modelId: Schema.optional(Schema.String),
  /** 0–10, how closely the dubbed voices follow the originals (projects; ElevenLabs' default 7). */
  cloningStrength: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 10 })))
})
export type ElevenLabsOptions = typeof ElevenLabsOptions.Type

const legacyOnly = [
  "targetAccent",
  "watermark",
  "highestResolution",
  "dropBackgroundAudio",
  "useProfanityFilter",
  "disableVoiceCloning",
  "startTime",
  "endTime"
] as const
const projectsOnly = ["keyterms", "webhookIds", "modelId", "cloningStrength"] as const

/** The options of a request, refusing those the given API cannot send. */
export const optionsFor = (
  request: ResolvedRequest,
  api: "v1" | "v2"
): Effect.Effect<ElevenLabsOptions, InvalidRequest> => {
  const options: ElevenLabsOptions = request.providerOptions?.elevenlabs ?? {}
  const foreign = (api === "v1" ? projectsOnly : legacyOnly).find((key) => options[key] !== undefined)
  if (foreign === undefined) return Effect.succeed(options)
  return Effect.fail(
    new InvalidRequest({
      ...ctx("submit"),
      param: `providerOptions.elevenlabs.${foreign}`,
      message: `providerOptions.elevenlabs.${foreign} belongs to the ${api === "v1" ? "Dubbing Projects" : "legacy dubbing"} API; this provider speaks the ${api === "v1" ? "legacy dubbing" : "Dubbing Projects"} API`
    })
  )
}

/**
 * A source as the create's media: a URL ElevenLabs fetches itself, or a file or stream uploaded in the
 * form. ElevenLabs refuses a file typed `application/octet-stream`, so a file whose type cannot be told
 * from its name is refused here, before anything is sent.
 */
export const mediaOf = Effect.fnUntraced(function* (fs: FileSystem.FileSystem, request: ResolvedRequest) {
  const source = request.source
  if (source._tag === "Url") return { _tag: "Url", url: source.url } as const
  const upload =
    source._tag === "File"
      ? yield* ProviderHttp.fileUpload(fs, source, ctx("submit"))
      : ProviderHttp.streamUpload(source)
  if (upload.mediaType === "application/octet-stream" || !/^(video|audio)\//.test(upload.mediaType)) {
    return yield* new InvalidRequest({
      ...ctx("submit"),
      param: "source",
      message: `ElevenLabs needs the media type of an upload (audio/… or video/…); ${upload.name} is ${upload.mediaType}: give it a media extension or a mediaType`
    })
  }
  return { _tag: "Upload", upload } as const
})

/**
 * A token for one vendor request. ElevenLabs takes no idempotency key, so the token travels in a
 * field it keeps (the dub's name, the project's reference) and a create whose outcome is unknown is
 * looked for by it in the list.
 */
export const mintToken = Effect.sync(() => `pd-${randomBytes(6).toString("hex")}`)

/** The name of a legacy dub: the title, and the token that finds it again. */
export const nameWith = (title: string | undefined, token: string) => `${(title ?? "polydub").slice(0, 200)} [${token}]`

/** Builds jobs whose references carry their language and the API version that made them. */
export const jobMaker = (apiVersion: "v1" | "v2") => makeJobs(Client.provider, apiVersion)
