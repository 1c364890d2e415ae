/**
 * An in-memory `TranslationProvider` for unit tests: jobs follow scripts (how long they queue, run,
 * wait for review, whether they fail) on the Effect `Clock`, so under `TestClock` a test moves time
 * instead of sleeping. It records every call and injects faults on demand. Validation comes from
 * core's `makeProvider`, exactly as for the real providers, so what fails here fails there.
 */
import {
  type ApproveOptions,
  AuthenticationFailed,
  type Capabilities,
  type FailureReason,
  InvalidRequest,
  Job,
  JobRef,
  type JobState,
  Language,
  makeProvider,
  NotFound,
  type OutputKind,
  Outputs,
  ProviderUnavailable,
  RateLimited,
  type ResolvedRequest,
  refIdentity,
  State,
  Transcript,
  type TranslationError,
  TranslationProvider,
  type TranslationProviderService
} from "@polydub/core"
import { Clock, Context, DateTime, Duration, Effect, Layer, Result, Stream } from "effect"
import { type PresetName, presets } from "./Presets.js"

/** How one job behaves. Durations run on the Effect clock from submission. */
export interface JobScript {
  /** Time in `Queued`. Default 2 s. */
  readonly queuedFor: Duration.Input
  /** Time in `Running` before the result. Default 60 s. */
  readonly runningFor: Duration.Input
  /** For review jobs: time extracting the transcript before `AwaitingReview`. Default 30 s. */
  readonly reviewFor: Duration.Input
  /** Vendor step names reported through the running phase, evenly spread. */
  readonly steps: ReadonlyArray<string>
  /** Fail instead of succeeding, this far into the running phase (default: half-way). */
  readonly failure?: (FailureReason & { readonly after?: Duration.Input | undefined }) | undefined
  /** Never finish: stays `Running` forever. */
  readonly stuck?: boolean | undefined
}

export const defaultScript: JobScript = {
  queuedFor: Duration.seconds(2),
  runningFor: Duration.seconds(60),
  reviewFor: Duration.seconds(30),
  steps: ["transcribing", "translating", "dubbing", "rendering"]
}

/** What the script function is told about the job it scripts. */
export interface ScriptContext {
  readonly kind: "translation" | "review"
  readonly language: string
  readonly title: string | undefined
  /** For a translation made by approving a review job, that job's reference. */
  readonly approvedFrom?: JobRef | undefined
}

export type Operation =
  | "submit"
  | "get"
  | "getMany"
  | "transcript"
  | "reviseTranscript"
  | "approve"
  | "remove"
  | "download"

/** One recorded call. */
export interface Call {
  readonly operation: Operation
  readonly at: number
  readonly refs: ReadonlyArray<string>
  /** For submissions: the target tags. */
  readonly targets?: ReadonlyArray<string> | undefined
  readonly idempotencyKey?: string | undefined
  /** The fault injected into this call, if any. */
  readonly fault?: FaultKind | undefined
}

export type FaultKind = "RateLimited" | "ConcurrencyLimited" | "NotFound" | "Unavailable" | "Unauthorized"

/** A fault to inject into upcoming calls. */
export interface Fault {
  readonly kind: FaultKind
  /** Which operation; all when absent. */
  readonly operation?: Operation | undefined
  /** How many calls it hits. Default 1. */
  readonly times?: number | undefined
  /**
   * For submissions: only requests for this target (a BCP-47 tag) — with one target per request,
   * the way to fail a later target of a submission after earlier ones were accepted.
   */
  readonly language?: string | undefined
  /** For rate limits: the advised wait. */
  readonly retryAfter?: Duration.Input | undefined
}

export interface TestProviderOptions {
  /** Provider id in refs. Default `"test"`. */
  readonly id?: string | undefined
  /** Capabilities and languages to mimic. Default `"permissive"`. */
  readonly preset?: PresetName | undefined
  /** Overrides of the preset's capabilities. */
  readonly capabilities?: Partial<Capabilities> | undefined
  readonly languages?: ReadonlyArray<Language.LanguageEntry> | undefined
  /** How each job behaves; merged over `defaultScript`. */
  readonly script?: ((context: ScriptContext) => Partial<JobScript>) | undefined
  /**
   * Answer status reads beyond the capabilities' status budget (a sliding window) with 429, as the
   * vendor would. Off by default.
   */
  readonly enforceBudget?: boolean | undefined
  /**
   * Serve outputs as a vendor with an authenticated download endpoint does: artifacts without a URL
   * (with their size), streamed through `download`. Off by default (presigned URLs).
   */
  readonly streamedOutputs?: boolean | undefined
}

/** The bytes `TestProvider` streams for an output with `streamedOutputs`: `size` bytes, the same every time. */
export const streamedBytes = (size: number): Uint8Array => new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff)

/** The size of each output streamed with `streamedOutputs`. */
export const streamedSize = 4096

/** Control of a running `TestProvider`: call log, faults, scripts. */
export interface TestProviderControl {
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
  /** Submissions that created jobs (what a vendor would bill). */
  readonly billableSubmissions: Effect.Effect<number>
  readonly injectFault: (fault: Fault) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  /** Replaces the script for jobs created from now on. */
  readonly setScript: (script: (context: ScriptContext) => Partial<JobScript>) => Effect.Effect<void>
  /** The transcript currently stored for a review job. */
  readonly storedTranscript: (ref: JobRef) => Effect.Effect<Transcript.Transcript | undefined>
  /** Status reads refused for exceeding the budget (with `enforceBudget`). */
  readonly budgetRejections: Effect.Effect<number>
  /** When a job's result became available at the vendor (ms), for latency measurements. */
  readonly completesAt: (ref: JobRef) => Effect.Effect<number | undefined>
}

export class TestProvider extends Context.Service<TestProvider, TestProviderControl>()(
  "@polydub/testing/TestProvider"
) {}

interface Record_ {
  readonly ref: JobRef
  readonly language: string
  readonly createdAt: number
  readonly script: JobScript
  readonly captions: boolean
  readonly audioOnly: boolean
  readonly lipSync: boolean
  removed: boolean
  transcript: Transcript.Transcript | undefined
}

const ms = (d: Duration.Input) => Duration.toMillis(Duration.fromInputUnsafe(d))

const sampleLines = [
  "Welcome to the quarterly update.",
  "This quarter we shipped three new features.",
  "Thank you for watching, see you next time."
]

const makeTranscript = (language: string) =>
  new Transcript.Transcript({
    cues: sampleLines.map(
      (line, i) =>
        new Transcript.Cue({ index: i + 1, start: i * 3000, end: i * 3000 + 2500, text: `[${language}] ${line}` })
    )
  })

/** Builds a `TestProvider` and its control. */
export const make = (options: TestProviderOptions = {}) =>
  Effect.gen(function* () {
    const id = options.id ?? "test"
    const preset = presets[options.preset ?? "permissive"]
    const capabilities: Capabilities = { ...preset.capabilities, ...options.capabilities }
    const table = Language.makeTable(options.languages ?? preset.languages)
    const jobs = new Map<string, Record_>()
    const calls: Array<Call> = []
    const faults: Array<{ fault: Fault; left: number }> = []
    let script = options.script ?? (() => ({}))
    let counter = 0
    let billable = 0
    let budgetRejections = 0
    const statusBudget = capabilities.budget.status
    const statusWindow = statusBudget === undefined ? 0 : Duration.toMillis(statusBudget.window)
    const reads: Array<number> = []

    const record = Effect.fnUntraced(function* (
      operation: Operation,
      refs: ReadonlyArray<JobRef>,
      extra: Partial<Pick<Call, "targets" | "idempotencyKey">> = {}
    ) {
      const at = yield* Clock.currentTimeMillis
      if (
        options.enforceBudget === true &&
        statusBudget !== undefined &&
        (operation === "get" || operation === "getMany")
      ) {
        while (reads.length > 0 && reads[0]! <= at - statusWindow) reads.shift()
        if (reads.length >= statusBudget.limit) {
          budgetRejections++
          calls.push({ operation, at, refs: refs.map(String), ...extra, fault: "RateLimited" })
          return yield* new RateLimited({
            provider: id,
            operation,
            scope: "requests",
            status: 429,
            message: `more than ${statusBudget.limit} status reads in ${Duration.format(statusBudget.window)}`,
            retryAfter: Duration.millis(reads[0]! + statusWindow - at)
          })
        }
        reads.push(at)
      }
      const index = faults.findIndex(
        (f) =>
          (f.fault.operation === undefined || f.fault.operation === operation) &&
          (f.fault.language === undefined || (extra.targets ?? []).includes(f.fault.language))
      )
      const hit = index === -1 ? undefined : faults[index]!
      if (hit !== undefined && --hit.left <= 0) faults.splice(index, 1)
      calls.push({ operation, at, refs: refs.map(String), ...extra, ...(hit ? { fault: hit.fault.kind } : {}) })
      if (hit === undefined) return
      const ctx = { provider: id, operation }
      const retryAfter =
        hit.fault.retryAfter === undefined ? {} : { retryAfter: Duration.fromInputUnsafe(hit.fault.retryAfter) }
      switch (hit.fault.kind) {
        case "RateLimited":
          return yield* new RateLimited({
            ...ctx,
            scope: "requests",
            status: 429,
            message: "too many requests (injected)",
            ...retryAfter
          })
        case "ConcurrencyLimited":
          return yield* new RateLimited({
            ...ctx,
            scope: "concurrency",
            status: 429,
            message: "too many jobs running (injected)",
            ...retryAfter
          })
        case "NotFound":
          return yield* new NotFound({ ...ctx, status: 404, message: "not found (injected)" })
        case "Unauthorized":
          return yield* new AuthenticationFailed({ ...ctx, status: 401, message: "invalid API key (injected)" })
        case "Unavailable":
          return yield* new ProviderUnavailable({
            ...ctx,
            status: 503,
            outcome: "not-sent",
            message: "service unavailable (injected)"
          })
      }
    })

    const lookup = (operation: Operation, ref: JobRef): Effect.Effect<Record_, TranslationError> => {
      const job = jobs.get(refIdentity(ref))
      return job === undefined
        ? Effect.fail(
            new NotFound({ provider: id, operation, status: 404, resource: String(ref), message: `no job ${ref}` })
          )
        : Effect.succeed(job)
    }

    const stateOf = (job: Record_, now: number): JobState => {
      if (job.removed) return State.removed()
      const s = job.script
      const elapsed = now - job.createdAt
      const queued = ms(s.queuedFor)
      if (elapsed < queued) return State.queued()
      const into = elapsed - queued
      if (job.ref.kind === "review") {
        const review = ms(s.reviewFor)
        if (s.stuck === true || into < review)
          return State.running({ progress: Math.min(0.99, into / review), step: "extracting" })
        if (s.failure !== undefined) return State.failed({ code: s.failure.code, message: s.failure.message })
        return State.awaitingReview()
      }
      const running = ms(s.runningFor)
      if (s.failure !== undefined && into >= (s.failure.after === undefined ? running / 2 : ms(s.failure.after))) {
        return State.failed({ code: s.failure.code, message: s.failure.message })
      }
      if (s.stuck === true || into < running) {
        const progress = s.stuck === true ? 0 : into / running
        const step =
          s.steps.length === 0
            ? undefined
            : s.steps[Math.min(s.steps.length - 1, Math.floor(progress * s.steps.length))]
        return State.running({ progress: Math.min(0.99, progress), step })
      }
      const base = `https://media.test.invalid/${job.ref.id}`
      const expiresAt = DateTime.makeUnsafe(now + 7 * 24 * 3600 * 1000)
      const artifact = (path: string, mediaType: string) =>
        options.streamedOutputs === true
          ? { mediaType, size: streamedSize }
          : { url: `${base}/${path}`, expiresAt, mediaType }
      return State.succeeded(
        new Outputs({
          ...(capabilities.outputs.video ? { video: artifact("video.mp4", "video/mp4") } : {}),
          ...(capabilities.outputs.audio ? { audio: artifact("audio.mp3", "audio/mpeg") } : {}),
          ...(job.captions && capabilities.outputs.captions
            ? {
                captions: {
                  srt: artifact("captions.srt", "application/x-subrip"),
                  vtt: artifact("captions.vtt", "text/vtt")
                }
              }
            : {}),
          ...(job.lipSync && capabilities.outputs.lipSyncVideo
            ? { lipSyncVideo: artifact("lipsync.mp4", "video/mp4") }
            : {})
        })
      )
    }

    const toJob = (job: Record_, now: number): Job => {
      const state = stateOf(job, now)
      return new Job({
        ref: job.ref,
        language: job.language,
        state,
        providerStatus: state._tag.toLowerCase(),
        observedAt: DateTime.makeUnsafe(now)
      })
    }

    const create = (
      now: number,
      kind: "translation" | "review",
      language: string,
      title: string | undefined,
      flags: { captions: boolean; audioOnly: boolean; lipSync: boolean },
      approvedFrom?: JobRef
    ): Record_ => {
      counter += 1
      // The reference carries its language, as the real providers' do: approving needs no read.
      const ref = new JobRef({ provider: id, kind, id: `${String(counter).padStart(6, "0")}-${language}`, language })
      const job: Record_ = {
        ref,
        language,
        createdAt: now,
        script: { ...defaultScript, ...script({ kind, language, title, approvedFrom }) },
        ...flags,
        removed: false,
        transcript: kind === "review" ? makeTranscript(language) : undefined
      }
      jobs.set(refIdentity(ref), job)
      return job
    }

    // Idempotency as vendors implement it: a repeated key replays the first answer.
    const replays = new Map<string, ReadonlyArray<JobRef>>()

    // Review and delete are offered through their hooks only where the capabilities say so, as a
    // real provider without them offers none: core derives `review` and `remove` from the hooks.
    const reviewHooks = {
      transcript: (ref: JobRef) =>
        Effect.gen(function* () {
          yield* record("transcript", [ref])
          const job = yield* lookup("transcript", ref)
          const state = stateOf(job, yield* Clock.currentTimeMillis)
          if (state._tag !== "AwaitingReview" || job.transcript === undefined) {
            return yield* new InvalidRequest({
              provider: id,
              operation: "transcript",
              param: "ref",
              message: `${ref} is ${state._tag}, not AwaitingReview: its transcript is not ready`
            })
          }
          return job.transcript
        }),
      reviseTranscript: (ref: JobRef, transcript: Transcript.Transcript) =>
        Effect.gen(function* () {
          yield* record("reviseTranscript", [ref])
          const job = yield* lookup("reviseTranscript", ref)
          const state = stateOf(job, yield* Clock.currentTimeMillis)
          if (state._tag !== "AwaitingReview") {
            return yield* new InvalidRequest({
              provider: id,
              operation: "reviseTranscript",
              param: "ref",
              message: `${ref} is ${state._tag}, not AwaitingReview`
            })
          }
          job.transcript = transcript
        }),
      approve: (ref: JobRef, approveOptions: ApproveOptions) =>
        Effect.gen(function* () {
          yield* record("approve", [ref], { idempotencyKey: approveOptions.idempotencyKey })
          const job = yield* lookup("approve", ref)
          const now = yield* Clock.currentTimeMillis
          const state = stateOf(job, now)
          if (state._tag !== "AwaitingReview") {
            return yield* new InvalidRequest({
              provider: id,
              operation: "approve",
              param: "ref",
              message: `${ref} is ${state._tag}, not AwaitingReview`
            })
          }
          const key =
            approveOptions.idempotencyKey === undefined ? undefined : `approve:${ref}:${approveOptions.idempotencyKey}`
          const replayed = key === undefined ? undefined : replays.get(key)
          if (replayed !== undefined) return toJob(jobs.get(refIdentity(replayed[0]!))!, now)
          billable += 1
          const rendered = create(
            now,
            "translation",
            job.language,
            undefined,
            {
              captions: approveOptions.captions === true,
              audioOnly: approveOptions.audioOnly === true,
              lipSync: false
            },
            ref
          )
          if (key !== undefined) replays.set(key, [rendered.ref])
          return toJob(rendered, now)
        })
    }
    const remove = (ref: JobRef) =>
      Effect.gen(function* () {
        yield* record("remove", [ref])
        const job = yield* lookup("remove", ref)
        job.removed = true
      })

    // Outputs without a URL are streamed through the provider, from a succeeded job only.
    const download = (ref: JobRef, kind: OutputKind) =>
      Effect.gen(function* () {
        yield* record("download", [ref])
        const job = yield* lookup("download", ref)
        const state = stateOf(job, yield* Clock.currentTimeMillis)
        if (state._tag !== "Succeeded") {
          return yield* new InvalidRequest({
            provider: id,
            operation: "download",
            param: "ref",
            message: `${ref} is ${state._tag}: it has no ${kind} to download`
          })
        }
        const bytes = streamedBytes(streamedSize)
        return { stream: Stream.make(bytes), contentLength: bytes.length, mediaType: "application/octet-stream" }
      })

    const { remove: removable, review: reviewable, ...declared } = capabilities
    const provider: TranslationProviderService = makeProvider({
      id,
      capabilities: declared,
      languages: table,
      submit: (request: ResolvedRequest) =>
        Effect.gen(function* () {
          yield* record("submit", [], {
            targets: request.targets.map((t) => t.tag),
            idempotencyKey: request.idempotencyKey
          })
          const now = yield* Clock.currentTimeMillis
          const key = request.idempotencyKey === undefined ? undefined : `submit:${request.idempotencyKey}`
          const replayed = key === undefined ? undefined : replays.get(key)
          if (replayed !== undefined) return replayed.map((ref) => toJob(jobs.get(refIdentity(ref))!, now))
          billable += 1
          const kind = request.review === true ? "review" : "translation"
          const created = request.targets.map((t) =>
            create(now, kind, t.tag, request.title, {
              captions: request.captions === true,
              audioOnly: request.audioOnly === true,
              lipSync: request.lipSync === true
            })
          )
          if (key !== undefined)
            replays.set(
              key,
              created.map((j) => j.ref)
            )
          return created.map((job) => toJob(job, now))
        }),
      get: (ref) =>
        Effect.gen(function* () {
          yield* record("get", [ref])
          const job = yield* lookup("get", ref)
          return toJob(job, yield* Clock.currentTimeMillis)
        }),
      getMany: (refs) =>
        Effect.gen(function* () {
          yield* record("getMany", refs)
          const now = yield* Clock.currentTimeMillis
          return refs.map((ref) => {
            const job = jobs.get(refIdentity(ref))
            return job === undefined
              ? Result.fail(
                  new NotFound({
                    provider: id,
                    operation: "getMany",
                    status: 404,
                    resource: String(ref),
                    message: `no job ${ref}`
                  })
                )
              : Result.succeed(toJob(job, now))
          })
        }),
      ...(reviewable ? reviewHooks : {}),
      ...(options.streamedOutputs === true ? { download } : {}),
      ...(removable ? { remove } : {})
    })

    const control: TestProviderControl = {
      calls: Effect.sync(() => [...calls]),
      billableSubmissions: Effect.sync(() => billable),
      injectFault: (fault) => Effect.sync(() => void faults.push({ fault, left: fault.times ?? 1 })),
      clearFaults: Effect.sync(() => void faults.splice(0)),
      setScript: (next) => Effect.sync(() => void (script = next)),
      storedTranscript: (ref) => Effect.sync(() => jobs.get(refIdentity(ref))?.transcript),
      budgetRejections: Effect.sync(() => budgetRejections),
      completesAt: (ref) =>
        Effect.sync(() => {
          const job = jobs.get(refIdentity(ref))
          if (job === undefined || job.script.stuck === true) return undefined
          const s = job.script
          return job.createdAt + ms(s.queuedFor) + (job.ref.kind === "review" ? ms(s.reviewFor) : ms(s.runningFor))
        })
    }
    return { provider, control }
  })

/** A layer with the `TranslationProvider` and its `TestProvider` control, fresh per build. */
export const layer = (options: TestProviderOptions = {}): Layer.Layer<TranslationProvider | TestProvider> =>
  Layer.effectContext(
    Effect.map(make(options), ({ control, provider }) =>
      Context.make(TranslationProvider, provider).pipe(Context.add(TestProvider, control))
    )
  )
