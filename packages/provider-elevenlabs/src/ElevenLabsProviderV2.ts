/**
 * ElevenLabs' Dubbing Projects API (`/v1/dubbing/project`) as a `TranslationProvider`. A submission
 * creates one project (the source, transcribed once) and adds one language per target: each target is
 * its own polydub job, `<project_id>/<language_id>`. Outputs are the lossless WAV audio, a signed URL
 * valid about an hour (a fresh read gives a new one). With `review: true` no language is added: the job
 * is the project, `AwaitingReview` once it is `ready`; its source transcript is read and edited
 * (ElevenLabs' Enterprise plans), and approving adds the target language, which dubs the edited
 * transcript. Webhooks are ElevenLabs' workspace webhooks, named by `providerOptions.elevenlabs.webhookIds`
 * (`ElevenLabsWebhooks.ts` reads their deliveries); there is no per-request callback URL.
 *
 * No idempotency key here either: a project create or a language add whose outcome is unknown is
 * looked for (the project by the token in its `reference`, the language by its target) before the
 * unknown outcome is reported.
 */
import {
  type ApproveOptions,
  type Capabilities,
  InvalidRequest,
  type Job,
  type JobRef,
  type JobState,
  makeProvider,
  mapStatus,
  notFound,
  Outputs,
  ProviderHttp,
  ProviderUnavailable,
  type ResolvedRequest,
  Transcript,
  type TranslationError
} from "@polydub/core"
import { DateTime, Duration, Effect, FileSystem, Option } from "effect"
import * as Client from "./ElevenLabsClient.js"
import * as Languages from "./ElevenLabsLanguages.js"
import * as Wire from "./ElevenLabsWire.js"
import { ctx, ElevenLabsOptions, jobMaker, mediaOf, mintToken, nameWith, optionsFor } from "./internal/provider.js"

export const apiVersion = "v2"

/** Largest source the projects API takes: 3 GiB. */
export const maxUploadBytes = 3 * 1024 ** 3

export const capabilities: Capabilities = {
  review: true,
  remove: true,
  urlInput: "native",
  fileInput: true,
  maxUploadBytes,
  outputs: { video: false, audio: true, captions: false, lipSyncVideo: false },
  audioOnly: false,
  webhooks: false,
  idempotency: false,
  targetsPerRequest: 1,
  budget: { status: Client.enforcedBudgets().read, submit: Client.enforcedBudgets().create },
  polling: { initial: Duration.seconds(5), max: Duration.seconds(30) }
}

const failed: JobState = { _tag: "Failed", reason: { code: "failed", message: "" } }

const projectWords = {
  queued: { _tag: "Queued" },
  preparing: { _tag: "Running", step: "preparing" },
  processing: { _tag: "Running", step: "processing" },
  ready: { _tag: "AwaitingReview" },
  failed
} satisfies Record<string, JobState>

/**
 * Language words. `stale` is an output behind later edits: the old output is still served, and only a
 * regenerate (`ElevenLabsClient.regenerate`) brings it up to date, so the job rests in `AwaitingReview`.
 */
const languageWords = {
  queued: { _tag: "Queued" },
  processing: { _tag: "Running", step: "processing" },
  completed: { _tag: "Succeeded", outputs: new Outputs({}) },
  stale: { _tag: "AwaitingReview" },
  failed
} satisfies Record<string, JobState>

const failure = (error: Wire.ProjectError | null | undefined, fallback: string): JobState => ({
  _tag: "Failed",
  reason: { code: error?.code ?? "failed", message: error?.message ?? fallback }
})

/** The unified state of a project, as the review job it is. */
export const projectState = (project: Wire.Project): Effect.Effect<JobState> =>
  Effect.map(mapStatus(Client.provider, projectWords, project.status), (word) =>
    word._tag === "Failed" ? failure(project.error, "the project failed") : word
  )

/** How long a lossless audio URL lasts when it does not say: "valid ~1 hour". */
const urlLife = 55 * 60_000

/** The unified state of a language. `now` dates an output URL that carries no expiry of its own. */
export const languageState = (language: Wire.ProjectLanguage, now: number): Effect.Effect<JobState> =>
  Effect.map(mapStatus(Client.provider, languageWords, language.status), (word): JobState => {
    if (word._tag === "Failed") return failure(language.error, "the language failed")
    if (word._tag !== "Succeeded") return word
    const url = language.outputs?.lossless_audio
    // Completed but behind its own revision, or without its output yet: not a result.
    if (url == null) return { _tag: "Running", step: "finalizing" }
    if (language.output_revision != null && language.output_revision !== language.revision) {
      return { _tag: "AwaitingReview" }
    }
    const expiresAt = Option.getOrElse(ProviderHttp.presignedExpiry(url), () => DateTime.makeUnsafe(now + urlLife))
    return { _tag: "Succeeded", outputs: new Outputs({ audio: { url, mediaType: "audio/wav", expiresAt } }) }
  })

const makeJob = jobMaker(apiVersion)

/** The project and language of a translation job's id, `<project_id>/<language_id>`. */
const idsOf = (ref: JobRef) => {
  const slash = ref.id.indexOf("/")
  return slash <= 0 || slash === ref.id.length - 1
    ? undefined
    : { projectId: ref.id.slice(0, slash), languageId: ref.id.slice(slash + 1) }
}

/** The project of a review job, `<project_id>/<target>` (or the bare project id). */
const projectOf = (ref: JobRef) => ref.id.split("/")[0]!

const skew = 5 * 60_000

/** Builds the provider over an `ElevenLabsClient`. */
export const make = Effect.gen(function* () {
  const client = yield* Client.ElevenLabsClient
  const fs = yield* FileSystem.FileSystem

  const unknownOutcome = (error: TranslationError, looked: string, listFailure?: string) =>
    new ProviderUnavailable({
      ...ctx("submit"),
      outcome: "unknown",
      ...(error.status === undefined ? {} : { status: error.status }),
      message:
        `${error.message}; ${looked} was not found ` +
        (listFailure === undefined ? "yet" : `(the list failed: ${listFailure})`) +
        ": it may still appear, so do not submit again before checking"
    })

  const isUnknown = (error: TranslationError) => error._tag === "ProviderUnavailable" && error.outcome === "unknown"

  /** Creates the project once per submission; an unknown outcome is settled by the token in `reference`. */
  const stage = Effect.fnUntraced(function* (request: ResolvedRequest) {
    const options = yield* optionsFor(request, "v2")
    const media = yield* mediaOf(fs, request)
    const reference = nameWith(request.title, yield* mintToken)
    const sentAt = DateTime.toEpochMillis(yield* DateTime.now)
    const fields: Client.CreateProjectFields = {
      reference,
      source_language: request.sourceLanguage,
      model_id: options.modelId,
      keyterms: options.keyterms,
      webhook_ids: options.webhookIds
    }
    return yield* client.createProject(media, fields).pipe(
      Effect.catchIf(isUnknown, (error) =>
        Effect.gen(function* () {
          const page = yield* Effect.result(client.listProjects({ page_size: 100 }))
          if (page._tag === "Failure") {
            return yield* unknownOutcome(error, `a project with reference ${reference}`, page.failure.message)
          }
          const found = page.success.projects.find((p) => {
            if (p.reference !== reference) return false
            const created = p.created_at == null ? Option.none() : Wire.timestampMillis(p.created_at)
            return Option.isNone(created) || created.value >= sentAt - skew
          })
          if (found === undefined) return yield* unknownOutcome(error, `a project with reference ${reference}`)
          yield* Effect.logInfo(`elevenlabs: an unknown project create was settled from the list: ${found.project_id}`)
          return found
        })
      )
    )
  })

  /** Adds a target language; an unknown outcome is settled from the project's languages. */
  const addLanguage = (projectId: string, target: string, cloningStrength: number | undefined) =>
    client
      .addLanguage(projectId, {
        target_language: target,
        ...(cloningStrength === undefined ? {} : { voice_settings: { cloning_strength: cloningStrength } })
      })
      .pipe(
        Effect.catchIf(isUnknown, (error) =>
          Effect.gen(function* () {
            const list = yield* Effect.result(client.listLanguages(projectId))
            if (list._tag === "Failure") {
              return yield* unknownOutcome(error, `the ${target} language`, list.failure.message)
            }
            const found = list.success.languages.find((l) => l.target_language === target)
            if (found === undefined) return yield* unknownOutcome(error, `the ${target} language`)
            return found
          })
        )
      )

  const submit = Effect.fnUntraced(function* (request: ResolvedRequest, project: Wire.Project) {
    const target = request.targets[0]!
    if (request.review === true) {
      // One project serves every target of a submission: the target in the id keeps their jobs apart.
      return [
        yield* makeJob(
          "review",
          `${project.project_id}/${target.vendorName}`,
          target.tag,
          yield* projectState(project),
          project.status
        )
      ]
    }
    const options = request.providerOptions?.elevenlabs ?? {}
    const language = yield* addLanguage(project.project_id, target.vendorName, options.cloningStrength)
    return [
      yield* makeJob(
        "translation",
        `${project.project_id}/${language.language_id}`,
        target.tag,
        yield* languageState(language, DateTime.toEpochMillis(yield* DateTime.now)),
        language.status
      )
    ]
  })

  const get = (ref: JobRef): Effect.Effect<Job, TranslationError> => {
    if (ref.kind === "review") {
      return Effect.flatMap(client.getProject(projectOf(ref)), (project) =>
        Effect.flatMap(projectState(project), (state) =>
          makeJob("review", ref.id, ref.language ?? "und", state, project.status)
        )
      )
    }
    const ids = idsOf(ref)
    if (ids === undefined)
      return Effect.fail(notFound(Client.provider, "get", ref, `${ref} is not <project>/<language>`))
    return Effect.flatMap(client.getLanguage(ids.projectId, ids.languageId), (language) =>
      Effect.flatMap(
        Effect.flatMap(DateTime.now, (now) => languageState(language, DateTime.toEpochMillis(now))),
        (state) => {
          const tag = ref.language ?? Option.getOrElse(Languages.tagOf(language.target_language), () => "und")
          // `project_failed` says only "see the project": its cause is the project's error, read once.
          if (state._tag === "Failed" && state.reason.code === "project_failed") {
            return Effect.flatMap(Effect.result(client.getProject(ids.projectId)), (project) =>
              makeJob(
                "translation",
                ref.id,
                tag,
                project._tag === "Success" && project.success.error != null
                  ? failure(project.success.error, "the project failed")
                  : state,
                language.status
              )
            )
          }
          return makeJob("translation", ref.id, tag, state, language.status)
        }
      )
    )
  }

  const transcript = (ref: JobRef) =>
    Effect.map(
      client.projectTranscript(projectOf(ref)),
      (answer) =>
        new Transcript.Transcript({
          cues: answer.segments.map(
            (s, i) =>
              new Transcript.Cue({
                index: i + 1,
                start: Math.round(s.start_s * 1000),
                end: Math.round(s.end_s * 1000),
                text: s.text,
                speaker: s.speaker_id
              })
          )
        })
    )

  /**
   * Writes a revised transcript back as one atomic edit of the segments that changed. ElevenLabs edits
   * segments in place, so the revision keeps the cues in order, one for each segment.
   */
  const reviseTranscript = Effect.fnUntraced(function* (ref: JobRef, next: Transcript.Transcript) {
    const current = yield* client.projectTranscript(projectOf(ref))
    if (next.cues.length !== current.segments.length) {
      return yield* new InvalidRequest({
        ...ctx("reviseTranscript"),
        param: "transcript",
        message: `ElevenLabs edits the ${current.segments.length} segments of the transcript in place; the revision has ${next.cues.length} cues`
      })
    }
    const edits: Record<string, { text?: string; start_s?: number; end_s?: number }> = {}
    next.cues.forEach((cue, i) => {
      const segment = current.segments[i]!
      const edit: { text?: string; start_s?: number; end_s?: number } = {}
      if (cue.text !== segment.text) edit.text = cue.text
      if (cue.start !== Math.round(segment.start_s * 1000)) edit.start_s = cue.start / 1000
      if (cue.end !== Math.round(segment.end_s * 1000)) edit.end_s = cue.end / 1000
      if (Object.keys(edit).length > 0) edits[segment.id] = edit
    })
    if (Object.keys(edits).length === 0) return
    yield* client.updateSegments(projectOf(ref), edits)
  })

  /** Adds the review job's target language: one request, which dubs the reviewed transcript. */
  const approve = Effect.fnUntraced(function* (ref: JobRef, _options: ApproveOptions) {
    const tag = ref.language
    if (tag === undefined) {
      return yield* new InvalidRequest({
        ...ctx("approve"),
        param: "ref",
        message: `${ref} carries no target language: approve the reference submit returned`
      })
    }
    const code = Languages.projectsTable.byTag.get(tag) ?? tag
    const projectId = projectOf(ref)
    const language = yield* addLanguage(projectId, code, undefined)
    return yield* makeJob(
      "translation",
      `${projectId}/${language.language_id}`,
      tag,
      yield* languageState(language, DateTime.toEpochMillis(yield* DateTime.now)),
      language.status
    )
  })

  const remove = (ref: JobRef): Effect.Effect<void, TranslationError> => {
    if (ref.kind === "review") return client.deleteProject(projectOf(ref))
    const ids = idsOf(ref)
    if (ids === undefined) return Effect.fail(notFound(Client.provider, "remove", ref))
    return client.deleteLanguage(ids.projectId, ids.languageId)
  }

  const { remove: _remove, review: _review, ...declared } = capabilities
  return makeProvider<Wire.Project>({
    id: Client.provider,
    apiVersion,
    capabilities: { ...declared, budget: { status: client.budgets.read, submit: client.budgets.create } },
    languages: Languages.projectsTable,
    options: ElevenLabsOptions,
    fileSystem: fs,
    stage,
    submit,
    get,
    transcript,
    reviseTranscript,
    approve,
    remove
  })
})
