/**
 * The service every application writes its translation flow against. One instance per configured
 * provider; swap vendors by providing another layer. Providers build it with `make(hooks)`: the
 * hooks only speak the vendor's wire format, while validation (languages, capabilities, references),
 * fan-out of targets, idempotency keys, spans and error shaping live here, once.
 */
import { Context, type Duration, Effect, type FileSystem, Result, Schema, SchemaIssue, type Stream } from "effect"
import { formatRef, type Job, type JobRef, type JobState, type OutputKind } from "./Job.js"
import * as Language from "./Language.js"
import { idempotencyKeyPattern, mintIdempotencyKey } from "./Policy.js"
import * as ProviderHttp from "./ProviderHttp.js"
import type { TargetResult } from "./Submission.js"
import type { Transcript } from "./Transcript.js"
import {
  InvalidRequest,
  NotFound,
  PayloadTooLarge,
  type TranslationError,
  UnexpectedResponse,
  Unsupported,
  UnsupportedLanguage
} from "./TranslationError.js"
import type { ApproveOptions, TranslationRequest } from "./TranslationRequest.js"

/** A request budget: at most `limit` requests per `window`. */
export interface Budget {
  readonly limit: number
  readonly window: Duration.Duration
}

/**
 * What a provider declares it can do. Each feature is said once: `review` and `remove` are not
 * declared but follow from the hooks a provider fills in (see `Capabilities`). Every limit here is
 * enforced by core before anything is sent (`maxUploadBytes`, `targetsPerRequest`, `bulkStatus`,
 * `idempotencyWindow` through `Idempotency`) or by the provider's client (`budget`).
 */
export interface DeclaredCapabilities {
  /** How a URL source reaches the vendor: it fetches it, or polydub streams it through an upload. */
  readonly urlInput: "native" | "proxied"
  /** Local files and streams are uploaded (streamed). */
  readonly fileInput: boolean
  /**
   * The largest upload the vendor takes, in bytes, where it has one. Core refuses a file (by its
   * size on disk) or a stream of declared size over it with `PayloadTooLarge`, before anything is sent.
   */
  readonly maxUploadBytes?: number | undefined
  /** What a succeeded job can yield; asking for captions or lip sync where absent is `Unsupported`. */
  readonly outputs: {
    readonly video: boolean
    readonly audio: boolean
    readonly captions: boolean
    readonly lipSyncVideo: boolean
  }
  /** Translating the voice track only (`audioOnly` on a request). */
  readonly audioOnly: boolean
  /** The vendor calls back on completion (callback URL or registered endpoints). */
  readonly webhooks: boolean
  /** The vendor honours idempotency keys on submissions. */
  readonly idempotency: boolean
  /**
   * How long the vendor remembers a key (HeyGen: 24 hours). A submission retried later under the
   * same key is no longer replayed but billed again: `Idempotency.pendingKey` refuses such a key.
   */
  readonly idempotencyWindow?: Duration.Duration | undefined
  /** How many target languages one vendor request can take; core splits larger requests. */
  readonly targetsPerRequest: number
  /** How many jobs one bulk status request can read, where the vendor has one; core splits larger reads. */
  readonly bulkStatus?: number | undefined
  /**
   * Request budgets the provider's client enforces: status reads and submissions. Each is the budget
   * it really enforces (the vendor's published or the configured figure, less any requests it holds
   * in reserve), so a caller pacing itself by it never queues in the client.
   */
  readonly budget: {
    readonly status?: Budget | undefined
    readonly submit?: Budget | undefined
  }
  /** The vendor's advised polling: first delay, then growing to `max`. */
  readonly polling: {
    readonly initial: Duration.Duration
    readonly max: Duration.Duration
  }
}

/**
 * What a provider can do, as applications read it: the declared capabilities plus what core derives
 * from the provider's hooks. Absent features fail with `Unsupported` before anything is sent.
 */
export interface Capabilities extends DeclaredCapabilities {
  /** A review (proofread) step: the provider has `transcript`, `reviseTranscript` and `approve`. */
  readonly review: boolean
  /** Jobs can be deleted: the provider has `remove`. */
  readonly remove: boolean
}

/** An output streamed through the provider (an artifact without a URL). */
export interface ArtifactBody {
  /** The bytes, read once. */
  readonly stream: Stream.Stream<Uint8Array, TranslationError>
  /** The length the vendor declared, where it did. */
  readonly contentLength?: number | undefined
  /** The media type the vendor declared, where it did. */
  readonly mediaType?: string | undefined
}

/** The outcome of one reference in a bulk read. */
export type JobResult = Result.Result<Job, TranslationError>

/** The service. */
export interface TranslationProviderService {
  readonly id: string
  /** The vendor API version this provider speaks, where the vendor has several (`"v3"`). */
  readonly apiVersion?: string | undefined
  readonly capabilities: Capabilities
  /** Supported target languages: BCP-47 tags with the vendor's own names. */
  readonly languages: ReadonlyArray<Language.LanguageEntry>
  /**
   * Starts one job per target language and answers one result per distinct target, in the order of
   * `request.targets`: the job, or why that target failed. A target that failed never hides one the
   * vendor accepted (and billed) in another request. The effect itself fails only when nothing was
   * sent: the request is invalid, unsupported, or its source cannot be read. `Submission.all` turns
   * the results into jobs or a `SubmissionFailed` that still holds the accepted ones.
   */
  readonly submit: (request: TranslationRequest) => Effect.Effect<ReadonlyArray<TargetResult>, TranslationError>
  /** The job's current state. */
  readonly get: (ref: JobRef) => Effect.Effect<Job, TranslationError>
  /** Many jobs at once, in order; one failed reference does not fail the others. */
  readonly getMany: (refs: ReadonlyArray<JobRef>) => Effect.Effect<ReadonlyArray<JobResult>, TranslationError>
  /** The editable transcript of a review job that is `AwaitingReview`. */
  readonly transcript: (ref: JobRef) => Effect.Effect<Transcript, TranslationError>
  /**
   * The transcript in the source language, beside the editable one, where the vendor gives both
   * (HeyGen's proofreads): present only on such providers. Read-only: the translation is what is revised.
   */
  readonly sourceTranscript?: ((ref: JobRef) => Effect.Effect<Transcript, TranslationError>) | undefined
  /** Replaces the transcript of a review job. */
  readonly reviseTranscript: (ref: JobRef, transcript: Transcript) => Effect.Effect<void, TranslationError>
  /**
   * Renders a reviewed job; returns the new translation job. Acts on what the reference carries (its
   * language): no status read is spent; a job not ready for approval is refused by the vendor.
   */
  readonly approve: (ref: JobRef, options?: ApproveOptions) => Effect.Effect<Job, TranslationError>
  /** Deletes a job at the vendor. */
  readonly remove: (ref: JobRef) => Effect.Effect<void, TranslationError>
  /**
   * Streams one output of a succeeded job through the provider (authenticated), for artifacts
   * without a URL. `Downloads` calls it; `Unsupported` where every output is a URL.
   */
  readonly download: (ref: JobRef, kind: OutputKind) => Effect.Effect<ArtifactBody, TranslationError>
}

export class TranslationProvider extends Context.Service<TranslationProvider, TranslationProviderService>()(
  "@polydub/core/TranslationProvider"
) {}

/** A target the provider's table resolved: the tag asked for and the vendor's name for it. */
export interface ResolvedTarget {
  readonly tag: string
  readonly vendorName: string
}

/** A request after core validated it: normalised tags with vendor names, at most `targetsPerRequest`. */
export interface ResolvedRequest extends Omit<TranslationRequest, "targets"> {
  readonly targets: ReadonlyArray<ResolvedTarget>
  /** Normalised, or absent. */
  readonly sourceLanguage?: string | undefined
  /** Always present where the provider supports idempotency: the caller's key, or one minted per request. */
  readonly idempotencyKey?: string | undefined
}

/**
 * What a provider implements: its wire mapping only. `Staged` is what `stage` makes of the source
 * once per submission (e.g. an uploaded asset's id), handed to every vendor request of it.
 */
export interface ProviderHooks<Staged = undefined> {
  readonly id: string
  /**
   * The vendor API version this provider speaks, where the vendor has several. A reference that
   * names another version is refused with `InvalidRequest` before anything is sent; one that names
   * none (printed by an earlier version) is taken as this one's.
   */
  readonly apiVersion?: string | undefined
  readonly capabilities: DeclaredCapabilities
  readonly languages: Language.LanguageTable
  /**
   * The schema of this provider's `providerOptions[id]`. Core decodes the options with it (excess
   * fields refused) before anything is sent; a field it refuses is an `InvalidRequest` naming it.
   */
  readonly options?: Schema.Decoder<unknown> | undefined
  /** Reads file sizes, so that core refuses a file over `maxUploadBytes` before anything is sent. */
  readonly fileSystem?: FileSystem.FileSystem | undefined
  /**
   * Prepares the source once for all the vendor requests of one submission, where the vendor can
   * take it once for several (HeyGen uploads a file as an asset, then names it in each request).
   * Without it, every vendor request reads the source itself, so a caller's stream (readable once)
   * is refused before anything is sent when a submission needs more than one request.
   */
  readonly stage?: ((request: ResolvedRequest) => Effect.Effect<Staged, TranslationError>) | undefined
  /** One vendor request for at most `capabilities.targetsPerRequest` targets; one job per target, in order. */
  readonly submit: (request: ResolvedRequest, staged: Staged) => Effect.Effect<ReadonlyArray<Job>, TranslationError>
  readonly get: (ref: JobRef) => Effect.Effect<Job, TranslationError>
  /** A bulk read; when absent, `get` runs for each reference with bounded concurrency. */
  readonly getMany?:
    | ((refs: ReadonlyArray<JobRef>) => Effect.Effect<ReadonlyArray<JobResult>, TranslationError>)
    | undefined
  readonly transcript?: ((ref: JobRef) => Effect.Effect<Transcript, TranslationError>) | undefined
  /** The source-language transcript of a review job, where the vendor gives it beside the translation. */
  readonly sourceTranscript?: ((ref: JobRef) => Effect.Effect<Transcript, TranslationError>) | undefined
  readonly reviseTranscript?:
    | ((ref: JobRef, transcript: Transcript) => Effect.Effect<void, TranslationError>)
    | undefined
  readonly approve?: ((ref: JobRef, options: ApproveOptions) => Effect.Effect<Job, TranslationError>) | undefined
  readonly remove?: ((ref: JobRef) => Effect.Effect<void, TranslationError>) | undefined
  /** Streams an output that has no URL; needed by a provider whose artifacts come without one. */
  readonly download?: ((ref: JobRef, kind: OutputKind) => Effect.Effect<ArtifactBody, TranslationError>) | undefined
}

/** The path of the first failing field of a Schema issue, `a.b.0`, or `""` at the root. */
const issuePath = (issue: SchemaIssue.Issue): string => ProviderHttp.issuePath(issue).map(String).join(".")

const formatIssue = SchemaIssue.makeFormatterDefault()

const oneLine = (text: string) => text.replace(/\s+/g, " ").slice(0, 300)

const unsupported = (provider: string, operation: string, feature: string, detail?: string) =>
  new Unsupported({
    provider,
    operation,
    feature,
    message: `${provider} does not support ${detail ?? feature}`
  })

const invalid = (provider: string, operation: string, param: string, message: string) =>
  new InvalidRequest({ provider, operation, param, message })

/** Builds a `TranslationProvider` from a provider's hooks. */
export const make = <Staged = undefined>(hooks: ProviderHooks<Staged>): TranslationProviderService => {
  const { id } = hooks
  const caps: Capabilities = {
    ...hooks.capabilities,
    review: hooks.transcript !== undefined && hooks.reviseTranscript !== undefined && hooks.approve !== undefined,
    remove: hooks.remove !== undefined
  }
  const decodeOptions =
    hooks.options === undefined ? undefined : Schema.decodeUnknownResult(hooks.options, { onExcessProperty: "error" })

  const checkRef = (operation: string, ref: JobRef, kind?: JobRef["kind"]) => {
    if (ref.provider !== id) {
      return Effect.fail(
        invalid(id, operation, "ref", `${formatRef(ref)} belongs to provider "${ref.provider}", not "${id}"`)
      )
    }
    if (ref.apiVersion !== undefined && hooks.apiVersion !== undefined && ref.apiVersion !== hooks.apiVersion) {
      return Effect.fail(
        invalid(
          id,
          operation,
          "ref",
          `${formatRef(ref)} was created through ${id}'s ${ref.apiVersion} API; this provider speaks ${hooks.apiVersion}`
        )
      )
    }
    if (kind !== undefined && ref.kind !== kind) {
      return Effect.fail(
        invalid(id, operation, "ref", `${operation} needs a ${kind} job; ${formatRef(ref)} is a ${ref.kind} job`)
      )
    }
    return Effect.void
  }

  // A provider answering fewer jobs than targets: the ones it did name are kept, the rest reported.
  const missing = (target: ResolvedTarget, got: number, asked: number) =>
    new UnexpectedResponse({
      provider: id,
      operation: "submit",
      path: "(jobs)",
      excerpt: "",
      message: `${id} answered ${got} jobs for ${asked} targets; none for ${target.tag}, whose outcome is unknown`
    })

  // The provider's own options, decoded by its schema: a misspelt or mistyped field is refused by name.
  const checkOptions = (request: TranslationRequest) => {
    if (decodeOptions === undefined) return Effect.void
    const options: unknown = (request.providerOptions as Record<string, unknown> | undefined)?.[id]
    if (options === undefined) return Effect.void
    const decoded = decodeOptions(options)
    if (Result.isSuccess(decoded)) return Effect.void
    const issue = decoded.failure.issue
    const path = issuePath(issue)
    return Effect.fail(
      invalid(
        id,
        "submit",
        path === "" ? `providerOptions.${id}` : `providerOptions.${id}.${path}`,
        `providerOptions.${id}: ${oneLine(formatIssue(issue))}`
      )
    )
  }

  // The size core can know before sending: a file's on disk, a stream's declared one.
  const checkSize = Effect.fnUntraced(function* (request: TranslationRequest) {
    const limit = caps.maxUploadBytes
    if (limit === undefined || request.source._tag === "Url") return
    let size: number | undefined
    if (request.source._tag === "Stream") size = request.source.size
    else if (hooks.fileSystem !== undefined) {
      const path = request.source.path
      const info = yield* hooks.fileSystem
        .stat(path)
        .pipe(Effect.mapError((e) => invalid(id, "submit", "source", `cannot read ${path}: ${e.message}`)))
      size = Number(info.size)
    }
    if (size !== undefined && size > limit) {
      return yield* new PayloadTooLarge({
        provider: id,
        operation: "submit",
        limitBytes: limit,
        message: `${id} takes uploads up to ${limit} bytes; this source is ${size} bytes`
      })
    }
  })

  const validate = Effect.fnUntraced(function* (request: TranslationRequest) {
    const op = "submit"
    if (request.targets.length === 0) {
      return yield* invalid(id, op, "targets", "at least one target language is required")
    }
    if (request.review === true && !caps.review) {
      return yield* unsupported(id, op, "review", "a review step before rendering")
    }
    if (request.captions === true && !caps.outputs.captions) return yield* unsupported(id, op, "captions")
    if (request.audioOnly === true && !caps.audioOnly) return yield* unsupported(id, op, "audioOnly", "audio-only")
    if (request.lipSync === true && !caps.outputs.lipSyncVideo) {
      return yield* unsupported(id, op, "lipSync", "lip sync")
    }
    if (request.callback !== undefined && !caps.webhooks) {
      return yield* unsupported(id, op, "callback", "completion callbacks")
    }
    if (request.source._tag !== "Url" && !caps.fileInput) {
      return yield* unsupported(id, op, "fileInput", "local files or streams as input")
    }
    if (request.source._tag === "Url" && !/^https?:\/\/\S+$/i.test(request.source.url)) {
      return yield* invalid(id, op, "source", `not an http(s) URL: ${JSON.stringify(request.source.url.slice(0, 80))}`)
    }
    if (request.speakers !== undefined && (!Number.isInteger(request.speakers) || request.speakers < 1)) {
      return yield* invalid(id, op, "speakers", "speakers must be a positive whole number")
    }
    if (request.idempotencyKey !== undefined && !idempotencyKeyPattern.test(request.idempotencyKey)) {
      return yield* invalid(id, op, "idempotencyKey", "an idempotency key is 1–255 characters of A–Z a–z 0–9 _ - : .")
    }
    yield* checkOptions(request)
    yield* checkSize(request)
    let sourceLanguage: string | undefined
    if (request.sourceLanguage !== undefined) {
      sourceLanguage = yield* Language.normalize(request.sourceLanguage).pipe(
        Effect.mapError((e) => invalid(id, op, "sourceLanguage", e.message))
      )
    }
    const seen = new Set<string>()
    const targets: Array<ResolvedTarget> = []
    for (const raw of request.targets) {
      const tag = yield* Language.normalize(raw).pipe(
        Effect.mapError(
          (e) =>
            new UnsupportedLanguage({
              provider: id,
              operation: op,
              language: raw,
              suggestions: [],
              message: e.message
            })
        )
      )
      if (seen.has(tag)) continue
      seen.add(tag)
      const vendorName = yield* Language.resolve(hooks.languages, tag, { provider: id, operation: op })
      targets.push({ tag, vendorName })
    }
    return { targets, sourceLanguage }
  })

  const submit = Effect.fn("TranslationProvider.submit")(function* (request: TranslationRequest) {
    yield* Effect.annotateCurrentSpan({ "polydub.provider": id, "polydub.targets": request.targets.join(",") })
    const { sourceLanguage, targets } = yield* validate(request)
    const key = caps.idempotency ? (request.idempotencyKey ?? (yield* mintIdempotencyKey)) : undefined
    const size = Math.max(1, caps.targetsPerRequest)
    const chunks: Array<ReadonlyArray<ResolvedTarget>> = []
    for (let i = 0; i < targets.length; i += size) chunks.push(targets.slice(i, i + size))
    const resolved: ResolvedRequest = { ...request, targets, sourceLanguage, idempotencyKey: key }
    if (hooks.stage === undefined && chunks.length > 1 && request.source._tag === "Stream") {
      return yield* invalid(
        id,
        "submit",
        "source",
        `a stream can be read only once, and ${id} needs one upload for each of these ${chunks.length} requests ` +
          `(${size} target${size === 1 ? "" : "s"} each): give a file or a URL, or submit the targets one by one`
      )
    }
    // The source is staged once, before any billable request: a failure here has created no job.
    const staged = hooks.stage === undefined ? (undefined as Staged) : yield* hooks.stage(resolved)
    const results: Array<TargetResult> = []
    for (const [index, chunk] of chunks.entries()) {
      // Each vendor request gets its own key, derived from the logical one, so a retried
      // submission replays every chunk instead of creating new jobs.
      const chunkKey = key === undefined ? undefined : chunks.length === 1 ? key : `${key}.${index}`.slice(0, 255)
      // Every chunk is sent whatever became of the ones before: each target is its own purchase, and
      // one that failed must not stop (or hide) the others.
      const created = yield* Effect.result(
        hooks.submit({ ...resolved, targets: chunk, idempotencyKey: chunkKey }, staged)
      )
      if (Result.isFailure(created)) {
        for (const target of chunk) results.push({ language: target.tag, result: Result.fail(created.failure) })
      } else {
        chunk.forEach((target, i) => {
          const job = created.success[i]
          results.push({
            language: target.tag,
            result:
              job === undefined
                ? Result.fail(missing(target, created.success.length, chunk.length))
                : Result.succeed(job)
          })
        })
      }
    }
    return results
  })

  // The most frequent call (every poll), so written without a generator.
  const get = Effect.fn("TranslationProvider.get")((ref: JobRef) =>
    Effect.andThen(
      Effect.annotateCurrentSpan({ "polydub.provider": id, "polydub.ref": formatRef(ref) }),
      Effect.andThen(checkRef("get", ref), () => hooks.get(ref))
    )
  )

  const getMany = Effect.fn("TranslationProvider.getMany")(function* (refs: ReadonlyArray<JobRef>) {
    yield* Effect.annotateCurrentSpan({ "polydub.provider": id, "polydub.count": refs.length })
    const foreign = refs.find(
      (ref) =>
        ref.provider !== id ||
        (ref.apiVersion !== undefined && hooks.apiVersion !== undefined && ref.apiVersion !== hooks.apiVersion)
    )
    if (foreign !== undefined) yield* checkRef("getMany", foreign)
    if (refs.length === 0) return []
    if (hooks.getMany !== undefined) {
      const size = caps.bulkStatus ?? refs.length
      const results: Array<JobResult> = []
      for (let i = 0; i < refs.length; i += size) {
        results.push(...(yield* hooks.getMany(refs.slice(i, i + size))))
      }
      return results
    }
    return yield* Effect.forEach(refs, (ref) => Effect.result(hooks.get(ref)), { concurrency: 4 })
  })

  const transcript = Effect.fn("TranslationProvider.transcript")(function* (ref: JobRef) {
    yield* Effect.annotateCurrentSpan({ "polydub.provider": id, "polydub.ref": formatRef(ref) })
    if (hooks.transcript === undefined || !caps.review) return yield* unsupported(id, "transcript", "review")
    yield* checkRef("transcript", ref, "review")
    return yield* hooks.transcript(ref)
  })

  const sourceHook = hooks.sourceTranscript
  const sourceTranscript =
    sourceHook === undefined
      ? undefined
      : Effect.fn("TranslationProvider.sourceTranscript")(function* (ref: JobRef) {
          yield* Effect.annotateCurrentSpan({ "polydub.provider": id, "polydub.ref": formatRef(ref) })
          if (!caps.review) return yield* unsupported(id, "sourceTranscript", "review")
          yield* checkRef("sourceTranscript", ref, "review")
          return yield* sourceHook(ref)
        })

  const reviseTranscript = Effect.fn("TranslationProvider.reviseTranscript")(function* (ref: JobRef, next: Transcript) {
    yield* Effect.annotateCurrentSpan({ "polydub.provider": id, "polydub.ref": formatRef(ref) })
    if (hooks.reviseTranscript === undefined || !caps.review) {
      return yield* unsupported(id, "reviseTranscript", "review")
    }
    yield* checkRef("reviseTranscript", ref, "review")
    if (next.cues.length === 0) {
      return yield* invalid(id, "reviseTranscript", "transcript", "a revised transcript needs at least one cue")
    }
    return yield* hooks.reviseTranscript(ref, next)
  })

  const approve = Effect.fn("TranslationProvider.approve")(function* (ref: JobRef, options: ApproveOptions = {}) {
    yield* Effect.annotateCurrentSpan({ "polydub.provider": id, "polydub.ref": formatRef(ref) })
    if (hooks.approve === undefined || !caps.review) return yield* unsupported(id, "approve", "review")
    yield* checkRef("approve", ref, "review")
    if (options.captions === true && !caps.outputs.captions) return yield* unsupported(id, "approve", "captions")
    if (options.audioOnly === true && !caps.audioOnly) return yield* unsupported(id, "approve", "audioOnly")
    if (options.callback !== undefined && !caps.webhooks) return yield* unsupported(id, "approve", "callback")
    if (options.idempotencyKey !== undefined && !idempotencyKeyPattern.test(options.idempotencyKey)) {
      return yield* invalid(
        id,
        "approve",
        "idempotencyKey",
        "an idempotency key is 1–255 characters of A–Z a–z 0–9 _ - : ."
      )
    }
    const idempotencyKey = caps.idempotency ? (options.idempotencyKey ?? (yield* mintIdempotencyKey)) : undefined
    return yield* hooks.approve(ref, { ...options, idempotencyKey })
  })

  const remove = Effect.fn("TranslationProvider.remove")(function* (ref: JobRef) {
    yield* Effect.annotateCurrentSpan({ "polydub.provider": id, "polydub.ref": formatRef(ref) })
    if (hooks.remove === undefined || !caps.remove) return yield* unsupported(id, "remove", "remove", "deleting jobs")
    yield* checkRef("remove", ref)
    return yield* hooks.remove(ref)
  })

  const download = Effect.fn("TranslationProvider.download")(function* (ref: JobRef, kind: OutputKind) {
    yield* Effect.annotateCurrentSpan({ "polydub.provider": id, "polydub.ref": formatRef(ref), "polydub.output": kind })
    if (hooks.download === undefined) {
      return yield* unsupported(id, "download", "download", "streaming outputs: its outputs are URLs")
    }
    yield* checkRef("download", ref, "translation")
    return yield* hooks.download(ref, kind)
  })

  return {
    id,
    ...(hooks.apiVersion === undefined ? {} : { apiVersion: hooks.apiVersion }),
    capabilities: caps,
    languages: hooks.languages.entries,
    submit,
    get,
    getMany,
    transcript,
    ...(sourceTranscript === undefined ? {} : { sourceTranscript }),
    reviseTranscript,
    approve,
    remove,
    download
  }
}

/**
 * Maps a vendor status word to a unified state. An unknown word is `Running` with the word as
 * `step` and a logged warning: never a crash, never a silent terminal state.
 */
export const mapStatus = <W extends string>(
  provider: string,
  table: { readonly [K in W]: JobState },
  word: string
): Effect.Effect<JobState> => {
  if (Object.hasOwn(table, word)) return Effect.succeed(table[word as W])
  return Effect.logWarning(
    `${provider}: unknown status word ${JSON.stringify(word.slice(0, 64))}; treating it as Running`
  ).pipe(Effect.as<JobState>({ _tag: "Running", step: word.slice(0, 64) }))
}

/** A `NotFound` for a reference. */
export const notFound = (provider: string, operation: string, ref: JobRef, detail?: string): NotFound =>
  new NotFound({
    provider,
    operation,
    resource: formatRef(ref),
    message: detail ?? `no job ${formatRef(ref)}`
  })
