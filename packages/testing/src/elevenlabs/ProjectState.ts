/**
 * The state of the ElevenLabs simulator's Dubbing Projects API: projects and their languages, their
 * status words by the clock (`queued → preparing → processing → ready | failed`; a language `queued`
 * until its project is ready, then `processing → completed`, `stale` once an edit passes its output),
 * their JSON as ElevenLabs answers it, and signed webhook deliveries to the workspace webhooks a
 * project names. The routes are in ./RoutesProjects.ts.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto"
import { Clock, Effect, type Scope } from "effect"
import { timestamp } from "./State.js"

export interface Webhook {
  readonly id: string
  readonly url: string
  readonly secret: string
}

export interface ProjectsOptions {
  /** Time a project spends in each phase, ms. Defaults 100 / 200 / 300. */
  readonly projectQueuedMs?: number | undefined
  readonly projectPreparingMs?: number | undefined
  readonly projectProcessingMs?: number | undefined
  /** Time a language spends processing once its project is ready (or once regenerated), ms. Default 300. */
  readonly languageMs?: number | undefined
  /** Workspace webhooks (`POST /v1/workspace/webhooks` makes them at ElevenLabs) by id. */
  readonly webhooks?: ReadonlyArray<Webhook> | undefined
  /** Size of the lossless audio, bytes. Default 64 KiB. */
  readonly audioBytes?: number | undefined
  /**
   * The body of a regenerate's 202: the regions answer of the OpenAPI document and the SDK's wire
   * tests (default), or the Language as ElevenLabs' skill guide shows it.
   */
  readonly regenerateAnswer?: "regions" | "language" | undefined
  /** Largest upload, bytes. Documented: 3 GiB per source. */
  readonly maxProjectBytes?: number | undefined
}

export interface SimProject {
  readonly projectId: string
  readonly apiKey: string
  readonly reference: string | null
  readonly sourceLanguage: string | null
  readonly modelId: string
  readonly fileName: string | null
  readonly contentType: string
  readonly bytes: number
  readonly webhookIds: ReadonlyArray<string>
  readonly createdAt: number
  readonly failure: string | undefined
  revision: number
  updatedAt: number
  segments: Array<{ id: string; text: string; speaker_id: string; start_s: number; end_s: number }>
  deleted: boolean
}

export interface SimLanguage {
  readonly languageId: string
  readonly projectId: string
  readonly targetLanguage: string
  readonly createdAt: number
  readonly cloningStrength: number
  /** When its current processing started (after the project is ready); `undefined` until then. */
  startedAt: number | undefined
  revision: number
  outputRevision: number | undefined
  translations: Map<string, string>
  updatedAt: number
  deleted: boolean
  failure: string | undefined
}

export const segmentsOf = () =>
  ["Welcome to our product demo.", "Here is what changed this quarter.", "Thanks for watching."].map((text, i) => ({
    id: randomUUID(),
    text,
    speaker_id: "default_speaker",
    start_s: i * 3,
    end_s: i * 3 + 2.5
  }))

export const idOf = (prefix: string) => {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
  return `${prefix}${Array.from(randomBytes(28), (b) => alphabet[b % 36]).join("")}`
}

export const makeProjectState = (options: ProjectsOptions, scope: Scope.Scope) => {
  const queuedMs = options.projectQueuedMs ?? 100
  const preparingMs = options.projectPreparingMs ?? 200
  const processingMs = options.projectProcessingMs ?? 300
  const languageMs = options.languageMs ?? 300
  const webhooks = new Map((options.webhooks ?? []).map((w) => [w.id, w]))
  const projects = new Map<string, SimProject>()
  const languages = new Map<string, SimLanguage>()
  const deliveries: Array<{ readonly webhookId: string; readonly event: string; readonly status: number }> = []
  let baseUrl = ""

  const readyAt = (p: SimProject) => p.createdAt + queuedMs + preparingMs + processingMs

  const projectWord = (p: SimProject, now: number) => {
    const t = now - p.createdAt
    if (t < queuedMs) return "queued"
    if (t < queuedMs + preparingMs) return "preparing"
    if (t < queuedMs + preparingMs + processingMs) return "processing"
    return p.failure === undefined ? "ready" : "failed"
  }

  /** A language's processing starts when its project is ready (or when it was added, if later). */
  const languageWord = (l: SimLanguage, now: number): string => {
    const project = projects.get(l.projectId)!
    const word = projectWord(project, now)
    if (word === "failed") return "failed"
    if (word !== "ready") return "queued"
    const start = l.startedAt ?? Math.max(readyAt(project), l.createdAt)
    if (now < start) return "queued"
    if (now < start + languageMs) return "processing"
    if (l.failure !== undefined) return "failed"
    if (l.outputRevision === undefined || l.startedAt === undefined) {
      // The first output: its revision is the language's revision when it finished.
      l.startedAt = start
      l.outputRevision = l.revision
    }
    return l.outputRevision === l.revision ? "completed" : "stale"
  }

  const projectJson = (p: SimProject, now: number) => {
    const word = projectWord(p, now)
    return {
      project_id: p.projectId,
      status: word,
      reference: p.reference,
      source_language: p.sourceLanguage,
      model_id: p.modelId,
      // `media` is null until the project is ready.
      media:
        word === "ready"
          ? {
              filename: p.fileName,
              duration_s: Math.max(1, Math.round(p.bytes / 250_000)),
              has_video: p.contentType.startsWith("video/"),
              mime_type: p.contentType
            }
          : null,
      language_ids: [...languages.values()]
        .filter((l) => l.projectId === p.projectId && !l.deleted)
        .map((l) => l.languageId),
      webhook_ids: p.webhookIds,
      revision: p.revision,
      error: word === "failed" ? { code: "source_unusable", message: p.failure ?? "failed", retryable: false } : null,
      warnings: [],
      created_at: timestamp(p.createdAt, false),
      updated_at: timestamp(Math.max(p.updatedAt, word === "ready" ? readyAt(p) : p.createdAt), false)
    }
  }

  const languageJson = (l: SimLanguage, now: number) => {
    const word = languageWord(l, now)
    const project = projects.get(l.projectId)!
    const expires = Math.floor(now / 1000) + 3600
    return {
      language_id: l.languageId,
      project_id: l.projectId,
      target_language: l.targetLanguage,
      status: word,
      model_id: project.modelId,
      voice_settings: { cloning_strength: l.cloningStrength },
      // A signed URL valid about an hour; kept while the language is stale.
      outputs:
        l.outputRevision === undefined
          ? null
          : {
              lossless_audio: `${baseUrl}/files/dubbing/${l.projectId}/${l.languageId}/output.wav?Expires=${expires}&X-Goog-Signature=${randomBytes(8).toString("hex")}`
            },
      revision: l.revision,
      output_revision: l.outputRevision ?? null,
      error:
        word === "failed"
          ? project.failure !== undefined
            ? { code: "project_failed", message: "The project failed; see the project's error.", retryable: false }
            : { code: "internal_error", message: l.failure ?? "failed", retryable: true }
          : null,
      warnings: [],
      created_at: timestamp(l.createdAt, false),
      updated_at: timestamp(Math.max(l.updatedAt, l.createdAt), false)
    }
  }

  // Webhooks -----------------------------------------------------------------------------------

  /**
   * Delivers an event to the project's webhooks, signed as ElevenLabs signs them
   * (`ElevenLabs-Signature: t=<unix>,v0=<hex HMAC-SHA256 of "<t>.<body>">`). The payload of dubbing
   * events is not documented: the generic envelope `{type, event_timestamp, data}` carries the
   * project's (and language's) id and status. Each is sent once, as ElevenLabs says it does.
   */
  const deliver = (project: SimProject, event: string, data: Record<string, unknown>) =>
    Effect.forEach(project.webhookIds, (id) => {
      const hook = webhooks.get(id)
      if (hook === undefined) return Effect.void
      return Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const t = Math.floor(now / 1000)
        const body = JSON.stringify({ type: "dubbing", event_timestamp: t, data: { event, ...data } })
        const signature = createHmac("sha256", hook.secret).update(`${t}.${body}`).digest("hex")
        const status = yield* Effect.tryPromise(() =>
          fetch(hook.url, {
            method: "POST",
            body,
            headers: { "content-type": "application/json", "elevenlabs-signature": `t=${t},v0=${signature}` }
          }).then(async (r) => {
            await r.arrayBuffer()
            return r.status
          })
        ).pipe(Effect.orElseSucceed(() => 0))
        deliveries.push({ webhookId: id, event, status })
      })
    }).pipe(Effect.asVoid)

  /** Waits until `at`, then delivers what the state is then. Runs in the simulator's scope. */
  const schedule = (at: number, run: (now: number) => Effect.Effect<void>) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* Effect.sleep(Math.max(0, at - now))
      yield* run(yield* Clock.currentTimeMillis)
    }).pipe(Effect.forkIn(scope), Effect.asVoid)

  const watchProject = (p: SimProject) =>
    p.webhookIds.length === 0
      ? Effect.void
      : schedule(readyAt(p) + 5, (now) => {
          const word = projectWord(p, now)
          if (p.deleted || (word !== "ready" && word !== "failed")) return Effect.void
          return deliver(p, word === "ready" ? "project_ready" : "project_failed", {
            project_id: p.projectId,
            status: word
          })
        })

  const watchLanguage = (l: SimLanguage) => {
    const project = projects.get(l.projectId)!
    if (project.webhookIds.length === 0) return Effect.void
    const start = l.startedAt ?? Math.max(readyAt(project), l.createdAt)
    return schedule(start + languageMs + 5, (now) => {
      if (l.deleted) return Effect.void
      const word = languageWord(l, now)
      if (word !== "completed" && word !== "failed" && word !== "stale") return Effect.void
      return deliver(project, word === "failed" ? "language_failed" : "language_completed", {
        project_id: l.projectId,
        language_id: l.languageId,
        target_language: l.targetLanguage,
        status: word
      })
    })
  }

  const addLanguageTo = (project: SimProject, target: string, cloningStrength: number, now: number) => {
    const language: SimLanguage = {
      languageId: idOf("lang_"),
      projectId: project.projectId,
      targetLanguage: target,
      createdAt: now,
      cloningStrength,
      startedAt: undefined,
      revision: 0,
      outputRevision: undefined,
      translations: new Map(),
      updatedAt: now,
      deleted: false,
      failure: undefined
    }
    languages.set(language.languageId, language)
    return Effect.as(watchLanguage(language), language)
  }

  /** A source edit: the project's revision moves on, and so does every language's (completed ones go stale). */
  const sourceEdited = (p: SimProject, now: number) => {
    p.revision++
    p.updatedAt = now
    for (const l of languages.values()) {
      if (l.projectId === p.projectId && !l.deleted) {
        // An output finished before the edit keeps the revision it was made from.
        languageWord(l, now)
        l.revision++
        l.updatedAt = now
      }
    }
  }

  const translationsOf = (l: SimLanguage, p: SimProject) =>
    p.segments.map((s) => ({
      id: s.id,
      speaker_id: s.speaker_id,
      start_s: s.start_s,
      end_s: s.end_s,
      source_text: s.text,
      translation: l.translations.get(s.id) ?? `[${l.targetLanguage}] ${s.text}`
    }))

  return {
    projects,
    languages,
    readyAt,
    projectWord,
    languageWord,
    projectJson,
    languageJson,
    watchProject,
    watchLanguage,
    addLanguageTo,
    sourceEdited,
    translationsOf,
    deliveries: () => [...deliveries],
    setBaseUrl: (url: string) => void (baseUrl = url)
  }
}

export type ProjectState = ReturnType<typeof makeProjectState>
