/**
 * `polydub serve`: the fleet over HTTP, for applications in any language. One definition
 * (`effect/http-api`) gives the routes, the validation of every request (a body, query or path that
 * does not fit is a 400 naming the failing path) and the OpenAPI document at `/openapi.json`. Bodies
 * are read up to a limit (4 MiB by default), past which a request is a 413.
 *
 * The server is a fleet client (`Fleet.layerClient`): it starts, reads and approves workflows that
 * the runners execute. Reading and revising a transcript goes to the vendor, so a server that offers
 * them needs the providers (`FleetProviders`), as `Fleet.start` does to check languages; without
 * them those two routes answer 503.
 *
 * Vendors' webhooks are mounted beside the API: `POST /webhooks/heygen` checks the delivery's
 * signature with the endpoint secret before anything else, then turns the event into the job's new
 * state and hands it to `Fleet.deliver`, which records it and wakes the workflows waiting for it. A
 * forged (401), oversized (413) or malformed (400) delivery changes nothing. VoiceCheap sends no
 * webhooks: its jobs are followed by the runners' sweeper only.
 *
 * Errors are typed and carry their status: an unknown workflow 404, a request that cannot start 400,
 * a workflow that is not awaiting review 409, the database down 503, a vendor refusing 502. No
 * response or log line carries a key, a secret or the database's password.
 */
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Job, Transcript, type TranslationError, type TranslationProviderService } from "@polydub/core"
import { HeyGenWebhooks } from "@polydub/provider-heygen"
import { ByteSize, Cause, DateTime, Duration, Effect, Layer, Option, type Redacted, Schema } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiScalar,
  HttpApiSchema,
  OpenApi
} from "effect/http-api"
import { FleetProviders } from "./DubbingWorkflow.js"
import { Fleet, type FleetError, type WorkflowInfo } from "./Fleet.js"
import { Phase } from "./internal/workflowRows.js"
import { PgJobStore } from "./PgJobStore.js"

// ---------------------------------------------------------------------------------------------
// Errors, each with its status
// ---------------------------------------------------------------------------------------------

/** No such workflow or translation. */
export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { message: Schema.String },
  { httpApiStatus: 404 }
) {}

/** The request cannot be done as asked: an unknown provider or language, a source that is not a URL, bad SRT (`line`). */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()(
  "InvalidRequest",
  { message: Schema.String, line: Schema.optionalKey(Schema.Int) },
  { httpApiStatus: 400 }
) {}

/** The workflow is not awaiting review (not yet, or any more). */
export class NotAwaitingReview extends Schema.TaggedError<NotAwaitingReview>()(
  "NotAwaitingReview",
  { message: Schema.String, phase: Schema.optionalKey(Phase) },
  { httpApiStatus: 409 }
) {}

/** The fleet's database cannot be reached, or this server has no provider for the workflow's vendor. */
export class Unavailable extends Schema.TaggedError<Unavailable>()(
  "Unavailable",
  { message: Schema.String },
  { httpApiStatus: 503 }
) {}

/** The vendor refused or failed a request made for this one (`reason`: core's `TranslationError` tag). */
export class ProviderFailed extends Schema.TaggedError<ProviderFailed>()(
  "ProviderFailed",
  { provider: Schema.String, reason: Schema.String, message: Schema.String },
  { httpApiStatus: 502 }
) {}

// ---------------------------------------------------------------------------------------------
// Wire shapes
// ---------------------------------------------------------------------------------------------

/** A workflow as the API shows it: one target language of a translation. */
export const Workflow = Schema.Struct({
  /** `workflow:<executionId>`: what every `/v1/workflows/{ref}` route takes. */
  ref: Schema.String,
  executionId: Schema.String,
  /** The translation's id, shared by its targets. */
  id: Schema.String,
  provider: Schema.String,
  target: Schema.String,
  review: Schema.Boolean,
  phase: Phase,
  finished: Schema.Boolean,
  /** The vendor job it follows, as last recorded. */
  job: Schema.optionalKey(Job),
  /** Why it ended without a final job, where it did. */
  error: Schema.optionalKey(Schema.Struct({ reason: Schema.String, message: Schema.String })),
  createdAt: Schema.String,
  finishedAt: Schema.optionalKey(Schema.String)
})
export type Workflow = typeof Workflow.Type

/** A translation: its id and one workflow per target. */
export const Translation = Schema.Struct({ id: Schema.String, workflows: Schema.Array(Workflow) })

const DurationString = Schema.String.check(
  Schema.makeFilter(
    (s: string) =>
      Option.match(Duration.fromInput(s as Duration.Input), {
        onNone: () => false,
        onSome: (d) => Duration.isGreaterThan(d, Duration.zero)
      }) || `a positive duration such as "90 minutes" or "6 hours"`
  )
)

/** `POST /v1/translations`. */
export const StartBody = Schema.Struct({
  /** Names the translation; starting the same id and target again joins the running workflow. Default: random. */
  id: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/))),
  /** `heygen` or `voicecheap`, as the runners know them. */
  provider: Schema.String,
  /** The video's `https:` or `http:` URL. */
  source: Schema.String,
  /** BCP-47 target languages: one workflow each. */
  targets: Schema.Array(Schema.String).check(Schema.isMinLength(1)),
  sourceLanguage: Schema.optionalKey(Schema.String),
  /** Stop for a review of the transcript before the render. */
  review: Schema.optionalKey(Schema.Boolean),
  title: Schema.optionalKey(Schema.String),
  captions: Schema.optionalKey(Schema.Boolean),
  audioOnly: Schema.optionalKey(Schema.Boolean),
  /** How long the render may take before the workflow stops waiting, e.g. `"6 hours"`. Default: the runners'. */
  renderTimeout: Schema.optionalKey(DurationString),
  /** Save the outputs into the runners' download folder. */
  download: Schema.optionalKey(Schema.Boolean)
})

/** A transcript in a JSON body: the cues, or the SRT (or WebVTT) text. */
const TranscriptInput = Schema.Union([Transcript.Transcript, Schema.String])

/** `POST /v1/workflows/{ref}/approve`, all optional. */
export const ApproveBody = Schema.Struct({
  /** The edited transcript, sent to the vendor before the render: cues, or SRT text. */
  transcript: Schema.optionalKey(TranscriptInput),
  captions: Schema.optionalKey(Schema.Boolean),
  audioOnly: Schema.optionalKey(Schema.Boolean)
})

const srtText = (contentType: string) => Schema.String.pipe(HttpApiSchema.asText({ contentType }))

const refParam = { ref: Schema.String }
const common = [Unavailable] as const

// ---------------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------------

export class TranslationsApi extends HttpApiGroup.make("translations")
  .add(
    HttpApiEndpoint.post("start", "/v1/translations", {
      payload: StartBody,
      success: Translation.pipe(HttpApiSchema.status(201)),
      error: [InvalidRequest, ...common]
    }),
    HttpApiEndpoint.get("get", "/v1/translations/:id", {
      params: { id: Schema.String },
      success: Translation,
      error: [NotFound, ...common]
    })
  )
  .annotateMerge(OpenApi.annotations({ title: "Translations", description: "Start translations and read them" })) {}

export class WorkflowsApi extends HttpApiGroup.make("workflows")
  .add(
    HttpApiEndpoint.get("list", "/v1/workflows", {
      query: {
        phase: Schema.optional(Phase),
        limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 })))
      },
      success: Schema.Struct({ workflows: Schema.Array(Workflow) }),
      error: common
    }),
    HttpApiEndpoint.get("get", "/v1/workflows/:ref", {
      params: refParam,
      success: Workflow,
      error: [NotFound, ...common]
    }),
    HttpApiEndpoint.get("transcript", "/v1/workflows/:ref/transcript", {
      params: refParam,
      query: { format: Schema.optional(Schema.Literals(["json", "srt"])) },
      success: [Transcript.Transcript, srtText("application/x-subrip")],
      error: [NotFound, NotAwaitingReview, ProviderFailed, InvalidRequest, ...common]
    }),
    HttpApiEndpoint.put("revise", "/v1/workflows/:ref/transcript", {
      params: refParam,
      payload: [Transcript.Transcript, srtText("application/x-subrip"), srtText("text/plain")],
      success: Transcript.Transcript,
      error: [NotFound, NotAwaitingReview, InvalidRequest, ProviderFailed, ...common]
    }),
    HttpApiEndpoint.post("approve", "/v1/workflows/:ref/approve", {
      params: refParam,
      // An empty body is `null`: an approval as it stands.
      payload: [ApproveBody, Schema.Null],
      success: Workflow.pipe(HttpApiSchema.status(202)),
      error: [NotFound, NotAwaitingReview, InvalidRequest, ...common]
    })
  )
  .annotateMerge(OpenApi.annotations({ title: "Workflows", description: "Follow, review and approve workflows" })) {}

export class SystemApi extends HttpApiGroup.make("system").add(
  HttpApiEndpoint.get("health", "/v1/health", {
    success: Schema.Struct({ workflows: Schema.Record(Schema.String, Schema.Int) }),
    error: common
  })
) {}

/** The fleet's HTTP API. A body, query or path that does not fit is a 400 problem listing the failing paths. */
export class Api extends HttpApi.make("polydub")
  .add(TranslationsApi)
  .add(WorkflowsApi)
  .add(SystemApi)
  .middleware(HttpApiMiddleware.ProblemDetails)
  .annotateMerge(
    OpenApi.annotations({
      title: "polydub fleet API",
      description: "Durable video dubbing workflows on HeyGen and VoiceCheap"
    })
  ) {}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

const workflowOf = (info: WorkflowInfo): Workflow => ({
  ref: info.ref,
  executionId: info.executionId,
  id: info.id,
  provider: info.provider,
  target: info.target,
  review: info.review,
  phase: info.phase,
  finished: info.finished,
  ...(info.job === undefined ? {} : { job: info.job }),
  ...(info.error === undefined ? {} : { error: info.error }),
  createdAt: info.createdAt.toISOString(),
  ...(info.finishedAt === undefined ? {} : { finishedAt: info.finishedAt.toISOString() })
})

/** `FleetError` as the API's errors. */
const fromFleet = (error: FleetError) => {
  switch (error.reason) {
    case "NotFound":
      return new NotFound({ message: error.message })
    case "InvalidRequest":
      return new InvalidRequest({ message: error.message })
    case "NotAwaitingReview":
      return new NotAwaitingReview({ message: error.message })
    case "Store":
      return new Unavailable({ message: error.message })
  }
}

/** A read ends in `NotFound` or a store failure; `start` in `InvalidRequest` or a store failure. */
const readError = (error: FleetError) =>
  error.reason === "NotFound" ? new NotFound({ message: error.message }) : new Unavailable({ message: error.message })

const startError = (error: FleetError) =>
  error.reason === "InvalidRequest"
    ? new InvalidRequest({ message: error.message })
    : new Unavailable({ message: error.message })

const fromVendor = (provider: string) => (error: TranslationError) =>
  error._tag === "InvalidRequest"
    ? new InvalidRequest({ message: `${provider}: ${error.message}` })
    : new ProviderFailed({ provider, reason: error._tag, message: error.message })

const fromParse = (error: Transcript.TranscriptParseError) =>
  new InvalidRequest({ message: error.message, line: error.line })

const parseTranscript = (input: Transcript.Transcript | string) =>
  typeof input === "string" ? Effect.mapError(Transcript.parse(input), fromParse) : Effect.succeed(input)

const TranslationsLive = HttpApiBuilder.group(
  Api,
  "translations",
  Effect.fn(function* (handlers) {
    const fleet = yield* Fleet
    return handlers
      .handle("start", ({ payload }) =>
        Effect.gen(function* () {
          const { renderTimeout, ...rest } = payload
          const request =
            renderTimeout === undefined ? rest : { ...rest, renderTimeout: renderTimeout as Duration.Input }
          const started = yield* fleet.start(request).pipe(Effect.mapError(startError))
          return { id: started[0]?.id ?? payload.id ?? "", workflows: started.map(workflowOf) }
        })
      )
      .handle("get", ({ params }) =>
        Effect.gen(function* () {
          const workflows = yield* fleet.ofTranslation(params.id).pipe(Effect.mapError(readError))
          if (workflows.length === 0) {
            return yield* new NotFound({ message: `no translation ${params.id} in the fleet's store` })
          }
          return { id: params.id, workflows: workflows.map(workflowOf) }
        })
      )
  })
)

const WorkflowsLive = HttpApiBuilder.group(
  Api,
  "workflows",
  Effect.fn(function* (handlers) {
    const fleet = yield* Fleet
    const providers = yield* Effect.serviceOption(FleetProviders)

    /** The workflow, its vendor job awaiting review, and the provider to reach it through. */
    const underReview = Effect.fnUntraced(function* (ref: string) {
      const info = yield* fleet.get(ref).pipe(Effect.mapError(readError))
      if (info.phase !== "awaiting-review" || info.job === undefined) {
        return yield* new NotAwaitingReview({
          message: `${info.ref} is ${info.phase}, not awaiting review`,
          phase: info.phase
        })
      }
      const provider: TranslationProviderService | undefined = Option.isSome(providers)
        ? Option.getOrUndefined(providers.value.get(info.provider))
        : undefined
      if (provider === undefined) {
        return yield* new Unavailable({
          message: `this server has no ${info.provider} provider to read the transcript with (set the vendor's key where it runs)`
        })
      }
      return { info, job: info.job, provider }
    })

    return handlers
      .handle("list", ({ query }) =>
        fleet.list({ phase: query.phase, limit: query.limit ?? 100 }).pipe(
          Effect.map((ws) => ({ workflows: ws.map(workflowOf) })),
          Effect.mapError((e) => new Unavailable({ message: e.message }))
        )
      )
      .handle("get", ({ params }) => fleet.get(params.ref).pipe(Effect.map(workflowOf), Effect.mapError(readError)))
      .handle("transcript", ({ params, query }) =>
        Effect.gen(function* () {
          const { job, provider } = yield* underReview(params.ref)
          const transcript = yield* provider.transcript(job.ref).pipe(Effect.mapError(fromVendor(provider.id)))
          return query.format === "srt" ? Transcript.printSrt(transcript) : transcript
        })
      )
      .handle("revise", ({ params, payload }) =>
        Effect.gen(function* () {
          const transcript = yield* parseTranscript(payload)
          const { job, provider } = yield* underReview(params.ref)
          yield* provider.reviseTranscript(job.ref, transcript).pipe(Effect.mapError(fromVendor(provider.id)))
          return transcript
        })
      )
      .handle("approve", ({ params, payload }) =>
        Effect.gen(function* () {
          const body = payload ?? {}
          const transcript = body.transcript === undefined ? undefined : yield* parseTranscript(body.transcript)
          const info = yield* fleet
            .approve(params.ref, {
              ...(transcript === undefined ? {} : { transcript }),
              ...(body.captions === undefined ? {} : { captions: body.captions }),
              ...(body.audioOnly === undefined ? {} : { audioOnly: body.audioOnly })
            })
            .pipe(Effect.mapError(fromFleet))
          return workflowOf(info)
        })
      )
  })
)

const SystemLive = HttpApiBuilder.group(
  Api,
  "system",
  Effect.fn(function* (handlers) {
    const fleet = yield* Fleet
    return handlers.handle("health", () =>
      fleet.counts.pipe(
        Effect.map((counts) => ({ workflows: counts as Record<string, number> })),
        Effect.mapError((e) => new Unavailable({ message: e.message }))
      )
    )
  })
)

// ---------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------

export interface WebhookOptions {
  /** HeyGen's endpoint secret (`whsec_…`); without it, `/webhooks/heygen` is not mounted. */
  readonly heygen?:
    | {
        readonly secret: Redacted.Redacted<string>
        /** Default `Signature`. */
        readonly signatureHeader?: string | undefined
        /** Largest delivery accepted. Default 1 MiB. */
        readonly maxBodyBytes?: number | undefined
      }
    | undefined
}

/**
 * The update of a HeyGen delivery as a job of the fleet: the stored job's reference (with its
 * language and API version) and the event's state. `undefined` for a job the fleet never recorded
 * (another application on the same HeyGen account, or a job from before the fleet).
 */
const jobOfUpdate = Effect.fnUntraced(function* (store: PgJobStore["Service"], update: HeyGenWebhooks.Update) {
  const stored = yield* store.get(update.ref)
  if (Option.isNone(stored)) return undefined
  return new Job({
    ref: stored.value.ref,
    language: stored.value.language,
    state: update.state,
    providerStatus: update.eventType,
    observedAt: yield* DateTime.now
  })
})

/** The webhook routes: `POST` deliveries and the `OPTIONS` probe HeyGen sends a new endpoint. */
export const layerWebhooks = (
  options: WebhookOptions
): Layer.Layer<never, HeyGenWebhooks.WebhookConfigError, HttpRouter.HttpRouter | Fleet | PgJobStore> => {
  const heygen = options.heygen
  if (heygen === undefined) return Layer.empty
  const path = "/webhooks/heygen"
  return Layer.unwrap(
    Effect.gen(function* () {
      const fleet = yield* Fleet
      const store = yield* PgJobStore
      const providers = yield* Effect.serviceOption(FleetProviders)
      /**
       * HeyGen's success event names the video only; the job itself also lists the audio and the
       * captions that were asked for. Where this server has the provider, a success is read once
       * from the vendor so the workflow ends with every output; otherwise (or when the read fails)
       * the event's state is what the workflow ends with.
       */
      const complete = (job: Job): Effect.Effect<Job> => {
        const provider = Option.getOrUndefined(Option.flatMap(providers, (p) => p.get(job.ref.provider)))
        if (job.state._tag !== "Succeeded" || provider === undefined) return Effect.succeed(job)
        return provider.get(job.ref).pipe(
          Effect.timeout(Duration.seconds(5)),
          Effect.map((read) => (read.state._tag === "Succeeded" ? read : job)),
          Effect.catchCause((cause) =>
            Effect.as(
              Effect.logWarning(`fleet webhook: cannot read ${job.ref} for its outputs; the event's are kept`, cause),
              job
            )
          )
        )
      }
      const handle = yield* HeyGenWebhooks.makeHandler(
        { secret: heygen.secret, signatureHeader: heygen.signatureHeader, maxBodyBytes: heygen.maxBodyBytes, path },
        (update) =>
          Effect.gen(function* () {
            const job = yield* jobOfUpdate(store, update)
            if (job === undefined) {
              return yield* Effect.logInfo(`fleet webhook: ${update.ref} is not a job of this fleet; ignored`)
            }
            const woken = yield* fleet.deliver(yield* complete(job))
            yield* Effect.logDebug(`fleet webhook: ${job.ref} is ${job.state._tag}; ${woken} workflow(s) woken`)
          })
      )
      return Layer.mergeAll(
        HttpRouter.add("OPTIONS", path, HttpServerResponse.empty({ status: 200 })),
        HttpRouter.add("POST", path, (request) =>
          handle(request).pipe(
            Effect.map((outcome) =>
              HttpServerResponse.jsonUnsafe({ message: outcome.message }, { status: outcome.status })
            ),
            // The delivery was verified but could not be recorded: 503, so the vendor sends it again.
            Effect.catch((error) =>
              Effect.as(
                Effect.logWarning(`fleet webhook: cannot record a HeyGen delivery: ${error.message}`),
                HttpServerResponse.jsonUnsafe({ message: "cannot record the delivery now" }, { status: 503 })
              )
            )
          )
        )
      )
    })
  )
}

// ---------------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------------

/**
 * Every request body is read up to `maxBytes`: one that declares more is answered 413 before it is
 * read, one that sends more without declaring it is cut off at the limit and answered 413 as well.
 */
export const layerBodyLimit = (maxBytes: number) => {
  const limit = ByteSize.bytes(maxBytes)
  const tooLarge = () => HttpServerResponse.jsonUnsafe({ message: "payload too large" }, { status: 413 })
  const isTooLarge = (defect: unknown) =>
    HttpServerError.isHttpServerError(defect) &&
    defect.reason._tag === "RequestParseError" &&
    defect.reason.reason === "BodyTooLarge"
  return HttpRouter.middleware(
    (httpEffect) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const declared = Number(request.headers["content-length"])
        if (Number.isFinite(declared) && declared > maxBytes) return tooLarge()
        return yield* httpEffect.pipe(
          Effect.provideService(HttpIncomingMessage.MaxBodySize, limit),
          // The API reads a buffered body as a defect when it fails; past the limit it is the client's doing.
          Effect.catchCause((cause) => {
            const defect = Cause.squash(cause)
            return isTooLarge(defect) ? Effect.succeed(tooLarge()) : Effect.failCause(cause)
          })
        )
      }),
    { global: true }
  )
}

export interface ServeOptions {
  readonly port: number
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** The largest request body read. Default 4 MiB (a transcript of hours of speech is a few hundred KB). */
  readonly maxBodyBytes?: number | undefined
  readonly webhooks?: WebhookOptions | undefined
  /** Serve the API reference page at `/docs` (Scalar, bundled: no request leaves the server). Default true. */
  readonly docs?: boolean | undefined
}

/**
 * The API's routes (with `/openapi.json`, `/docs` and the webhooks) in an `HttpRouter`, for an
 * application that serves them beside its own.
 */
export const layerRoutes = (options: Omit<ServeOptions, "port" | "host"> = {}) =>
  Layer.mergeAll(
    HttpApiBuilder.layer(Api, { openapiPath: "/openapi.json" }).pipe(
      Layer.provide([TranslationsLive, WorkflowsLive, SystemLive]),
      Layer.provide(HttpApiMiddleware.layerProblemDetails({ includeDetails: true }))
    ),
    options.docs === false ? Layer.empty : HttpApiScalar.layer(Api, { path: "/docs" }),
    layerWebhooks(options.webhooks ?? {}),
    layerBodyLimit(options.maxBodyBytes ?? 4 * 1024 * 1024)
  )

/**
 * Serves the API on `host:port` until the layer is released. Needs a fleet client (`Fleet.layerClient`)
 * and takes `FleetProviders` where given (transcripts need it).
 */
export const layer = (options: ServeOptions) =>
  HttpRouter.serve(layerRoutes(options)).pipe(
    Layer.provide(NodeHttpServer.layer(createServer, { port: options.port, host: options.host ?? "127.0.0.1" }))
  )
