/**
 * Where the review page's jobs come from and go to: the `ReviewDesk` service, in two modes.
 *
 * - Embedded (`polydub review`): the configured providers (a vendor's key, or its embedded
 *   simulator) and the jobs of the local store that have a review step, plus the jobs this process
 *   started itself (the sample job on a simulator). An approval starts the vendor's render; the desk
 *   follows that render under the review job's reference, so the page sees it through to the video.
 * - Fleet (`polydub serve`): the fleet's workflows awaiting review, read and approved through the
 *   fleet (`Fleet`); transcripts through the server's providers (`FleetProviders`), as `FleetApi`.
 *
 * Either way a job is shown the same way (`ReviewJob`): where it stands, what can be played beside it
 * (the source video, or the rendered output once there is one) and the render options its vendor offers.
 */
import {
  type ApproveOptions,
  Idempotency,
  type Job,
  JobRef,
  type JobStore,
  refIdentity,
  type TranslationError,
  type TranslationProviderService
} from "@polydub/core"
import { DubbingWorkflow, Fleet, FleetApi } from "@polydub/fleet"
import { Context, Effect, Option, Schema } from "effect"

const { InvalidRequest, NotAwaitingReview, NotFound, ProviderFailed, Unavailable } = FleetApi

/** Where a job under review stands, as the page shows it. */
export const ReviewStatus = Schema.Literals(["preparing", "awaiting-review", "rendering", "succeeded", "failed"])
export type ReviewStatus = typeof ReviewStatus.Type

/** A job on the desk. */
export const ReviewJob = Schema.Struct({
  /** What the desk's routes take: the vendor job's reference (embedded) or the workflow's (fleet). */
  ref: Schema.String,
  provider: Schema.String,
  language: Schema.String,
  title: Schema.optionalKey(Schema.String),
  status: ReviewStatus,
  /** Why it failed, or the vendor's step. */
  detail: Schema.optionalKey(Schema.String),
  /** What to play beside the cues: the source, or the rendered output once there is one. */
  media: Schema.optionalKey(
    Schema.Struct({ url: Schema.String, kind: Schema.Literals(["source", "preview", "output"]) })
  ),
  /** The render options the vendor offers on approval. */
  renderOptions: Schema.Struct({ captions: Schema.Boolean, audioOnly: Schema.Boolean })
})
export type ReviewJob = typeof ReviewJob.Type

export type DeskError =
  | FleetApi.NotFound
  | FleetApi.NotAwaitingReview
  | FleetApi.Unavailable
  | FleetApi.ProviderFailed
  | FleetApi.InvalidRequest

export interface ReviewDeskService {
  readonly mode: "embedded" | "fleet"
  /** The jobs awaiting review, and those approved here and still rendering or done. */
  readonly list: Effect.Effect<ReadonlyArray<ReviewJob>, DeskError>
  readonly get: (ref: string) => Effect.Effect<ReviewJob, DeskError>
  /** The vendor job awaiting review under `ref`, and the provider that reaches it. */
  readonly underReview: (
    ref: string
  ) => Effect.Effect<{ readonly job: Job; readonly provider: TranslationProviderService }, DeskError>
  readonly approve: (
    ref: string,
    options: { readonly captions?: boolean | undefined; readonly audioOnly?: boolean | undefined }
  ) => Effect.Effect<ReviewJob, DeskError>
  /** A vendor's failure as the desk's error. */
  readonly vendorError: (provider: string) => (error: TranslationError) => DeskError
}

export class ReviewDesk extends Context.Service<ReviewDesk, ReviewDeskService>()("@polydub/cli/ReviewDesk") {}

const vendorError =
  (provider: string) =>
  (error: TranslationError): DeskError =>
    error._tag === "NotFound"
      ? new NotFound({ message: `${provider}: ${error.message}` })
      : error._tag === "InvalidRequest"
        ? new InvalidRequest({ message: `${provider}: ${error.message}` })
        : new ProviderFailed({ provider, reason: error._tag, message: error.message })

const renderOptionsOf = (provider: TranslationProviderService | undefined) => ({
  captions: provider?.capabilities.outputs.captions ?? false,
  audioOnly: provider?.capabilities.audioOnly ?? false
})

/** The playable output of a succeeded job: its video, or its audio when the job was audio only. */
const outputOf = (job: Job): string | undefined =>
  job.state._tag === "Succeeded" ? (job.state.outputs.video?.url ?? job.state.outputs.audio?.url) : undefined

/** A vendor job as the desk shows it; `rendering` once it was approved here. */
const statusOf = (job: Job, approved: boolean): { status: ReviewStatus; detail?: string } => {
  switch (job.state._tag) {
    case "AwaitingReview":
      return { status: "awaiting-review" }
    case "Queued":
      return { status: approved ? "rendering" : "preparing" }
    case "Running":
      return {
        status: approved ? "rendering" : "preparing",
        ...(job.state.step === undefined ? {} : { detail: job.state.step })
      }
    case "Succeeded":
      return { status: "succeeded" }
    case "Failed":
      return { status: "failed", detail: job.state.reason.message }
    case "Removed":
      return { status: "failed", detail: "removed at the vendor" }
  }
}

// ---------------------------------------------------------------------------------------------
// Embedded: the configured providers and the local store
// ---------------------------------------------------------------------------------------------

export interface EmbeddedOptions {
  /** The provider of a name, built on first use (the CLI's `Providers`). */
  readonly provider: (name: string) => Effect.Effect<TranslationProviderService, unknown>
  /** The local job store, where there is one: its review jobs are on the desk. */
  readonly store?: JobStore.JobStoreService | undefined
  /** Keeps a render started here in the local store, so `polydub watch` can follow it too. */
  readonly remember?: ((job: Job) => Effect.Effect<void>) | undefined
}

interface Entry {
  readonly ref: JobRef
  readonly title?: string | undefined
  readonly source?: string | undefined
  /** The render an approval here started. */
  render?: Job | undefined
}

export interface EmbeddedDesk extends ReviewDeskService {
  /** Puts a job this process started on the desk, with its title and the source to play. */
  readonly add: (job: Job, extra?: { readonly title?: string; readonly source?: string }) => Effect.Effect<void>
}

export const makeEmbedded = (options: EmbeddedOptions): EmbeddedDesk => {
  const entries = new Map<string, Entry>()

  const providerOf = (provider: string) =>
    options
      .provider(provider)
      .pipe(
        Effect.mapError(
          () => new Unavailable({ message: `no ${provider} provider here (set its API key, or use its simulator)` })
        )
      )

  const parse = (ref: string) =>
    JobRef.parse(ref).pipe(Effect.mapError((e) => new InvalidRequest({ message: e.message })))

  const view = (entry: Entry, job: Job, provider: TranslationProviderService): ReviewJob => {
    const { status, detail } = statusOf(job, entry.render !== undefined)
    const output = outputOf(job)
    const media =
      output !== undefined
        ? { url: output, kind: "output" as const }
        : entry.source !== undefined
          ? { url: entry.source, kind: "source" as const }
          : undefined
    return {
      ref: String(entry.ref),
      provider: entry.ref.provider,
      language: job.language,
      ...(entry.title === undefined ? {} : { title: entry.title }),
      status,
      ...(detail === undefined ? {} : { detail }),
      ...(media === undefined ? {} : { media }),
      renderOptions: renderOptionsOf(provider)
    }
  }

  const read = Effect.fnUntraced(function* (entry: Entry) {
    const provider = yield* providerOf(entry.ref.provider)
    const job = yield* provider.get(entry.render?.ref ?? entry.ref).pipe(Effect.mapError(vendorError(provider.id)))
    return view(entry, job, provider)
  })

  const entryOf = Effect.fnUntraced(function* (ref: string) {
    const parsed = yield* parse(ref)
    return entries.get(String(parsed)) ?? { ref: parsed }
  })

  /**
   * HeyGen's proofread still reads as awaiting review after its render started: once approved here,
   * the desk refuses to read, save or approve it again.
   */
  const notApprovedHere = (entry: Entry) =>
    entry.render === undefined
      ? Effect.void
      : Effect.fail(new NotAwaitingReview({ message: `${entry.ref} was approved; it renders as ${entry.render.ref}` }))

  /** The store's jobs that may await review: review jobs its last read left open or awaiting review. */
  const fromStore = Effect.gen(function* () {
    if (options.store === undefined) return
    const contents = yield* options.store.load.pipe(Effect.orElseSucceed(() => ({ jobs: [] as ReadonlyArray<Job> })))
    for (const job of contents.jobs) {
      const key = String(job.ref)
      const open = job.state._tag === "AwaitingReview" || job.state._tag === "Queued" || job.state._tag === "Running"
      if (open && job.ref.kind === "review" && !entries.has(key)) entries.set(key, { ref: job.ref })
    }
  })

  return {
    mode: "embedded",
    vendorError,
    add: (job, extra) =>
      Effect.sync(() => {
        entries.set(String(job.ref), { ref: job.ref, ...extra })
      }),
    list: Effect.gen(function* () {
      yield* fromStore
      const jobs = yield* Effect.forEach(
        [...entries.values()],
        (entry) => Effect.option(read(entry)), // a job the vendor no longer answers for is left off
        { concurrency: 4 }
      )
      return jobs.flatMap((j) => (Option.isSome(j) ? [j.value] : []))
    }),
    get: (ref) => Effect.flatMap(entryOf(ref), read),
    underReview: Effect.fnUntraced(function* (ref) {
      const entry = yield* entryOf(ref)
      yield* notApprovedHere(entry)
      const provider = yield* providerOf(entry.ref.provider)
      const job = yield* provider.get(entry.ref).pipe(Effect.mapError(vendorError(provider.id)))
      if (job.state._tag !== "AwaitingReview") {
        return yield* new NotAwaitingReview({ message: `${ref} is ${job.state._tag}, not awaiting review` })
      }
      return { job, provider }
    }),
    approve: Effect.fnUntraced(function* (ref, approval) {
      const entry = yield* entryOf(ref)
      // A second approval would start (and bill) a second render.
      yield* notApprovedHere(entry)
      const provider = yield* providerOf(entry.ref.provider)
      const approveOptions: ApproveOptions = {
        ...(approval.captions === undefined ? {} : { captions: approval.captions }),
        ...(approval.audioOnly === undefined ? {} : { audioOnly: approval.audioOnly }),
        // The same key for every approval of this job, from any run of the desk: where the vendor
        // honours keys (HeyGen, 24 hours), an approval repeated after a restart (which forgets what
        // was approved here) is replayed, not rendered and billed again.
        idempotencyKey: Idempotency.fingerprint(["review-desk/approve", refIdentity(entry.ref)]).replace(
          "sha256:",
          "pd-approve-"
        )
      }
      const render = yield* provider.approve(entry.ref, approveOptions).pipe(Effect.mapError(vendorError(provider.id)))
      const kept: Entry = { ...entry, render }
      entries.set(String(entry.ref), kept)
      if (options.remember !== undefined) yield* options.remember(render)
      return view(kept, render, provider)
    })
  }
}

// ---------------------------------------------------------------------------------------------
// Fleet: the workflows awaiting review
// ---------------------------------------------------------------------------------------------

const fleetError = (error: Fleet.FleetError): DeskError => {
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

const fleetStatus = (info: Fleet.WorkflowInfo): { status: ReviewStatus; detail?: string } => {
  switch (info.phase) {
    case "starting":
    case "submitted":
      return { status: "preparing" }
    case "awaiting-review":
      return { status: "awaiting-review" }
    case "approved":
      return { status: "rendering" }
    case "succeeded":
      return { status: "succeeded" }
    case "failed":
    case "error":
      return { status: "failed", ...(info.error === undefined ? {} : { detail: info.error.message }) }
  }
}

/** The desk on a fleet: needs a fleet client, and `FleetProviders` for transcripts. */
export const makeFleet = Effect.fnUntraced(function* () {
  const fleet = yield* Fleet.Fleet
  const providers = yield* Effect.serviceOption(DubbingWorkflow.FleetProviders)
  const providerOf = (id: string) =>
    Option.isSome(providers) ? Option.getOrUndefined(providers.value.get(id)) : undefined

  const view = (info: Fleet.WorkflowInfo): ReviewJob => {
    const { status, detail } = fleetStatus(info)
    const output = info.job === undefined ? undefined : outputOf(info.job)
    const media =
      output !== undefined
        ? { url: output, kind: "output" as const }
        : info.source !== undefined
          ? { url: info.source, kind: "source" as const }
          : undefined
    return {
      ref: info.ref,
      provider: info.provider,
      language: info.target,
      ...(info.title === undefined ? {} : { title: info.title }),
      status,
      ...(detail === undefined ? {} : { detail }),
      ...(media === undefined ? {} : { media }),
      renderOptions: renderOptionsOf(providerOf(info.provider))
    }
  }

  const service: ReviewDeskService = {
    mode: "fleet",
    vendorError,
    list: fleet.list({ phase: "awaiting-review", limit: 200 }).pipe(
      Effect.map((ws) => ws.map(view)),
      Effect.mapError(fleetError)
    ),
    get: (ref) => fleet.get(ref).pipe(Effect.map(view), Effect.mapError(fleetError)),
    underReview: Effect.fnUntraced(function* (ref) {
      const info = yield* fleet.get(ref).pipe(Effect.mapError(fleetError))
      if (info.phase !== "awaiting-review" || info.job === undefined) {
        return yield* new NotAwaitingReview({ message: `${info.ref} is ${info.phase}, not awaiting review` })
      }
      const provider = providerOf(info.provider)
      if (provider === undefined) {
        return yield* new Unavailable({
          message: `this server has no ${info.provider} provider to read the transcript with (set the vendor's key where it runs)`
        })
      }
      return { job: info.job, provider }
    }),
    approve: (ref, approval) =>
      fleet
        .approve(ref, {
          ...(approval.captions === undefined ? {} : { captions: approval.captions }),
          ...(approval.audioOnly === undefined ? {} : { audioOnly: approval.audioOnly })
        })
        .pipe(
          // The approval is recorded; the workflow leaves awaiting-review once a runner takes it up.
          Effect.map((info) => {
            const shown = view(info)
            return shown.status === "awaiting-review" ? { ...shown, status: "rendering" as const } : shown
          }),
          Effect.mapError(fleetError)
        )
  }
  return service
})
