/**
 * The review desk's HTTP API: what the review page reads and writes, typed with `effect/http-api`.
 * It shares the fleet API's errors (`FleetApi`), its transcript shape and its approval options, so a
 * client of one reads the other; it adds what a page needs that an application does not: the jobs
 * awaiting review with what to play beside them, and a version of each cue list.
 *
 * The version is a hash of the cue list as the vendor holds it. A save names the version it was
 * edited from; when the vendor's cue list has changed since (someone else saved), the save is
 * refused with `Conflict` and nothing is overwritten. The check and the write are two vendor calls,
 * not one transaction: two saves in the same instant can still both pass, which a desk of people
 * typing does not produce.
 *
 * The same routes serve both modes: `polydub review` (the configured providers, the local job store)
 * and `polydub serve` (the fleet). Which one answers is the `ReviewDesk` service given to `layer`.
 */
import { createHash } from "node:crypto"
import { Transcript } from "@polydub/core"
import { FleetApi } from "@polydub/fleet"
import { Effect, Layer, Option, Schema } from "effect"
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema
} from "effect/http-api"
import { ReviewDesk, ReviewJob } from "./ReviewDesk.js"

const { InvalidRequest, NotAwaitingReview, NotFound, ProviderFailed, Unavailable } = FleetApi

/** The cue list changed at the vendor since the version the save was edited from. */
export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  { message: Schema.String, version: Schema.String },
  { httpApiStatus: 409 }
) {}

/** A transcript with the version it was read at. */
export const TranscriptView = Schema.Struct({
  transcript: Transcript.Transcript,
  /** Names this cue list: a save must send it back. */
  version: Schema.String,
  /** The source-language cues, read-only, where the vendor gives them beside the translation. */
  source: Schema.optionalKey(Transcript.Transcript)
})

/** `PUT /review/api/transcript`: the edited cues and the version they were edited from. */
export const SaveBody = Schema.Struct({ transcript: Transcript.Transcript, version: Schema.String })

/** `POST /review/api/approve`: the vendor's render options, as in the fleet API. */
export const ApproveBody = Schema.Struct({
  captions: FleetApi.ApproveBody.fields.captions,
  audioOnly: FleetApi.ApproveBody.fields.audioOnly
})

const refQuery = { ref: Schema.String }
// Every route reads through the desk, which can answer any of these.
const common = [NotFound, NotAwaitingReview, InvalidRequest, ProviderFailed, Unavailable] as const

export class ReviewGroup extends HttpApiGroup.make("review").add(
  HttpApiEndpoint.get("jobs", "/review/api/jobs", {
    success: Schema.Struct({ mode: Schema.Literals(["embedded", "fleet"]), jobs: Schema.Array(ReviewJob) }),
    error: common
  }),
  HttpApiEndpoint.get("job", "/review/api/job", { query: refQuery, success: ReviewJob, error: common }),
  HttpApiEndpoint.get("transcript", "/review/api/transcript", {
    query: refQuery,
    success: TranscriptView,
    error: common
  }),
  HttpApiEndpoint.put("save", "/review/api/transcript", {
    query: refQuery,
    payload: SaveBody,
    success: TranscriptView,
    error: [Conflict, ...common]
  }),
  HttpApiEndpoint.post("approve", "/review/api/approve", {
    query: refQuery,
    payload: ApproveBody,
    success: ReviewJob.pipe(HttpApiSchema.status(202)),
    error: common
  })
) {}

export class Api extends HttpApi.make("polydub-review").add(ReviewGroup).middleware(HttpApiMiddleware.ProblemDetails) {}

const encodeTranscript = Schema.encodeSync(Transcript.Transcript)

/** The version of a cue list: a hash of its encoded form. */
export const versionOf = (transcript: Transcript.Transcript): string =>
  createHash("sha256")
    .update(JSON.stringify(encodeTranscript(transcript)))
    .digest("base64url")
    .slice(0, 22)

const ReviewLive = HttpApiBuilder.group(
  Api,
  "review",
  Effect.fn(function* (handlers) {
    const desk = yield* ReviewDesk
    const read = Effect.fnUntraced(function* (ref: string) {
      const { job, provider } = yield* desk.underReview(ref)
      const transcript = yield* provider.transcript(job.ref).pipe(Effect.mapError(desk.vendorError(provider.id)))
      return { job, provider, transcript }
    })
    return handlers
      .handle("jobs", () => Effect.map(desk.list, (jobs) => ({ mode: desk.mode, jobs })))
      .handle("job", ({ query }) => desk.get(query.ref))
      .handle("transcript", ({ query }) =>
        Effect.gen(function* () {
          const { job, provider, transcript } = yield* read(query.ref)
          // The source text is an aid: without it (a vendor without one, a failed read) the page shows the translation alone.
          const source =
            provider.sourceTranscript === undefined
              ? undefined
              : Option.getOrUndefined(yield* Effect.option(provider.sourceTranscript(job.ref)))
          return { transcript, version: versionOf(transcript), ...(source === undefined ? {} : { source }) }
        })
      )
      .handle("save", ({ query, payload }) =>
        Effect.gen(function* () {
          const { job, provider, transcript } = yield* read(query.ref)
          const current = versionOf(transcript)
          if (current !== payload.version) {
            return yield* new Conflict({
              message: "the cue list was changed by someone else since it was loaded; nothing was overwritten",
              version: current
            })
          }
          yield* provider
            .reviseTranscript(job.ref, payload.transcript)
            .pipe(Effect.mapError(desk.vendorError(provider.id)))
          return { transcript: payload.transcript, version: versionOf(payload.transcript) }
        })
      )
      .handle("approve", ({ query, payload }) => desk.approve(query.ref, payload))
  })
)

/** The review API's routes, answered by the `ReviewDesk` given. */
export const layer = HttpApiBuilder.layer(Api).pipe(
  Layer.provide(ReviewLive),
  Layer.provide(HttpApiMiddleware.layerProblemDetails({ includeDetails: true }))
)
