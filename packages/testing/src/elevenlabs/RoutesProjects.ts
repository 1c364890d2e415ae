/**
 * The routes of the ElevenLabs simulator's Dubbing Projects API (`/v1/dubbing/project`): create (a
 * streamed multipart form, validated by ./Requests.ts), projects and languages read, listed and
 * deleted (204), the source transcript and the translations edited with their revisions (Enterprise
 * plans), regenerate (202, or 409 when there is nothing to do), and the lossless audio behind its
 * signed URL. The state machines, JSON shapes and webhook deliveries are in ./ProjectState.ts.
 */
import { Clock, Effect, Layer, type Scope } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { detailError, validationError } from "./Errors.js"
import { readCreateForm } from "./Forms.js"
import { idOf, makeProjectState, type ProjectsOptions, type SimProject, segmentsOf } from "./ProjectState.js"
import { checkProjectForm, mediaTypes } from "./Requests.js"
import { type Account, outputBody, type Shared } from "./State.js"

export type { ProjectsOptions, Webhook } from "./ProjectState.js"

export const makeProjects = (shared: Shared, options: ProjectsOptions, scope: Scope.Scope) => {
  const state = makeProjectState(options, scope)
  const { addLanguageTo, languageJson, languageWord, languages, projectJson, projects, projectWord } = state
  const { sourceEdited, translationsOf, watchLanguage, watchProject } = state
  const audioBytes = options.audioBytes ?? 64 * 1024
  const maxBytes = options.maxProjectBytes ?? 3 * 1024 ** 3
  const webhooks = new Set((options.webhooks ?? []).map((w) => w.id))
  let pendingFailure: string | undefined
  let billable = 0

  // Routes -------------------------------------------------------------------------------------

  const enterprise = (account: Account) => (account.plan ?? "enterprise") === "enterprise"
  // That these edits are for Enterprise plans is documented; how others are refused is not: 403.
  const enterpriseOnly = () =>
    detailError(403, "permission_denied", "This feature is available on Enterprise plans only.", {
      envelope: shared.envelope
    })
  const json = (body: unknown, status = 200) => HttpServerResponse.jsonUnsafe(body, { status })
  const noContent = () => HttpServerResponse.empty({ status: 204 })

  const findProject = (account: Account, id: string | undefined) => {
    const p = id === undefined ? undefined : projects.get(id)
    if (p === undefined || p.deleted) {
      return {
        error: detailError(404, "project_not_found", `Project ${id} not found.`, { envelope: shared.envelope })
      } as const
    }
    if (p.apiKey !== account.apiKey) {
      return {
        error: detailError(403, "permission_denied", "You do not have access to this project.", {
          envelope: shared.envelope
        })
      } as const
    }
    return { project: p, error: undefined } as const
  }

  const findLanguage = (account: Account, projectId: string | undefined, languageId: string | undefined) => {
    const found = findProject(account, projectId)
    if (found.error !== undefined) return found
    const l = languageId === undefined ? undefined : languages.get(languageId)
    if (l === undefined || l.deleted || l.projectId !== found.project.projectId) {
      return {
        error: detailError(404, "language_not_found", `Language ${languageId} not found.`, {
          envelope: shared.envelope
        })
      } as const
    }
    return { project: found.project, language: l, error: undefined } as const
  }

  const readJson = (request: HttpServerRequest.HttpServerRequest) =>
    request.json.pipe(
      Effect.map((body) => ({ body: body as Record<string, unknown>, error: undefined })),
      Effect.orElseSucceed(() => ({ body: undefined, error: validationError([], "Invalid JSON body", "json_invalid") }))
    )

  const create = Effect.gen(function* () {
    const admitted = yield* shared.admit("createProject", true)
    if (admitted._tag === "Done") return admitted.response
    const { account, fault, request } = admitted
    const form = yield* readCreateForm(request, checkProjectForm)
    if (form._tag === "Refused") return form.response
    const { fields, one, uploaded } = form
    const sourceUrl = one("source_url")
    if ((uploaded === undefined) === (sourceUrl === undefined)) {
      return detailError(400, "invalid_parameters", "Provide exactly one of file or source_url.", {
        envelope: "current",
        param: "file"
      })
    }
    if (uploaded !== undefined && !mediaTypes.test(uploaded.type)) {
      return detailError(400, "invalid_parameters", `Unsupported media type ${uploaded.type}.`, {
        envelope: "current",
        param: "file"
      })
    }
    if (uploaded !== undefined && uploaded.bytes > maxBytes) {
      return detailError(400, "invalid_parameters", "The source exceeds 3 GiB.", { envelope: "current", param: "file" })
    }
    // Unknown webhook ids: refused, though how is not documented.
    const hookIds = fields.get("webhook_ids") ?? []
    const unknownHook = hookIds.find((id) => !webhooks.has(id))
    if (unknownHook !== undefined) {
      return detailError(400, "invalid_parameters", `Unknown webhook ${unknownHook}.`, {
        envelope: "current",
        param: "webhook_ids"
      })
    }
    if (one("transcript") !== undefined && !enterprise(account)) return enterpriseOnly()
    const left = shared.credits.get(account.apiKey) ?? 0
    if (left < 1) {
      return detailError(400, "quota_exceeded", "This request exceeds your quota.", { envelope: shared.envelope })
    }
    shared.credits.set(account.apiKey, left - 1)
    billable++
    const now = yield* Clock.currentTimeMillis
    const project: SimProject = {
      projectId: idOf("proj_"),
      apiKey: account.apiKey,
      reference: one("reference") ?? null,
      // "Region and script are ignored"; an auto-detected source stays null here (see the transcript).
      sourceLanguage: one("source_language")?.split("-")[0] ?? null,
      modelId: one("model_id") ?? "dubbing_v2",
      fileName: uploaded?.name ?? null,
      contentType: uploaded?.type ?? "video/mp4",
      bytes: uploaded?.bytes ?? 5_000_000,
      webhookIds: hookIds,
      createdAt: now,
      failure: pendingFailure,
      revision: 0,
      updatedAt: now,
      segments: segmentsOf(),
      deleted: false
    }
    pendingFailure = undefined
    projects.set(project.projectId, project)
    yield* watchProject(project)
    const target = one("target_language")
    if (target !== undefined) yield* addLanguageTo(project, target, 7, now)
    if (fault?.kind === "malformed") return HttpServerResponse.text('{"project_id": ', { status: 201 })
    return yield* shared.after(fault, request, json(projectJson(project, now), 201))
  })

  const getProject = Effect.gen(function* () {
    const admitted = yield* shared.admit("projects", false)
    if (admitted._tag === "Done") return admitted.response
    const { project_id } = yield* HttpRouter.params
    const found = findProject(admitted.account, project_id)
    if (found.error !== undefined) return found.error
    return yield* shared.after(
      admitted.fault,
      admitted.request,
      json(projectJson(found.project, yield* Clock.currentTimeMillis))
    )
  })

  const listProjects = Effect.gen(function* () {
    const admitted = yield* shared.admit("projects", false)
    if (admitted._tag === "Done") return admitted.response
    const query = new URL(admitted.request.url, "http://simulator").searchParams
    const size = Number(query.get("page_size") ?? "20")
    if (!Number.isInteger(size) || size < 1 || size > 100) {
      return HttpServerResponse.jsonUnsafe(
        { detail: [{ loc: ["query", "page_size"], msg: "Input should be between 1 and 100", type: "value_error" }] },
        { status: 422 }
      )
    }
    const now = yield* Clock.currentTimeMillis
    const status = query.get("status")
    const rows = [...projects.values()]
      .filter((p) => p.apiKey === admitted.account.apiKey && !p.deleted)
      .filter((p) => status === null || projectWord(p, now) === status)
      .sort((a, b) =>
        query.get("sort_direction") === "ASCENDING" ? a.createdAt - b.createdAt : b.createdAt - a.createdAt
      )
    const start = Number(query.get("cursor") ?? "0")
    const page = rows.slice(start, start + size)
    return json({
      projects: page.map((p) => projectJson(p, now)),
      next_cursor: start + size < rows.length ? String(start + size) : null
    })
  })

  const deleteProject = Effect.gen(function* () {
    const admitted = yield* shared.admit("projects", true)
    if (admitted._tag === "Done") return admitted.response
    const { project_id } = yield* HttpRouter.params
    const found = findProject(admitted.account, project_id)
    if (found.error !== undefined) return found.error
    found.project.deleted = true
    for (const l of languages.values()) if (l.projectId === found.project.projectId) l.deleted = true
    return yield* shared.after(admitted.fault, admitted.request, noContent())
  })

  const addLanguage = Effect.gen(function* () {
    const admitted = yield* shared.admit("languages", true)
    if (admitted._tag === "Done") return admitted.response
    const { project_id } = yield* HttpRouter.params
    const found = findProject(admitted.account, project_id)
    if (found.error !== undefined) return found.error
    const read = yield* readJson(admitted.request)
    if (read.error !== undefined) return read.error
    const body = read.body
    for (const key of Object.keys(body)) {
      if (!["target_language", "voice_settings", "translations", "model_id"].includes(key)) {
        return validationError([key], "Extra inputs are not permitted", "extra_forbidden")
      }
    }
    const target = body.target_language
    if (typeof target !== "string" || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(target)) {
      return validationError(["target_language"], "Input should be a BCP-47 language tag", "value_error")
    }
    const settings = body.voice_settings as { cloning_strength?: unknown } | undefined
    const strength = settings?.cloning_strength ?? 7
    if (typeof strength !== "number" || !Number.isInteger(strength) || strength < 0 || strength > 10) {
      return validationError(
        ["voice_settings", "cloning_strength"],
        "Input should be an integer from 0 to 10",
        "value_error"
      )
    }
    if (body.translations !== undefined && !enterprise(admitted.account)) return enterpriseOnly()
    const now = yield* Clock.currentTimeMillis
    const duplicate = [...languages.values()].find(
      (l) => l.projectId === found.project.projectId && !l.deleted && l.targetLanguage === target
    )
    // Whether a second language with the same target is refused is not documented: 409 here.
    if (duplicate !== undefined) {
      return detailError(409, "language_exists", `The project already has a ${target} language.`, {
        envelope: "current"
      })
    }
    const language = yield* addLanguageTo(found.project, target, strength, now)
    if (admitted.fault?.kind === "malformed") return HttpServerResponse.text('{"language_id": ', { status: 201 })
    return yield* shared.after(admitted.fault, admitted.request, json(languageJson(language, now), 201))
  })

  const getLanguage = Effect.gen(function* () {
    const admitted = yield* shared.admit("languages", false)
    if (admitted._tag === "Done") return admitted.response
    const { language_id, project_id } = yield* HttpRouter.params
    const found = findLanguage(admitted.account, project_id, language_id)
    if (found.error !== undefined) return found.error
    return yield* shared.after(
      admitted.fault,
      admitted.request,
      json(languageJson(found.language, yield* Clock.currentTimeMillis))
    )
  })

  const listLanguages = Effect.gen(function* () {
    const admitted = yield* shared.admit("languages", false)
    if (admitted._tag === "Done") return admitted.response
    const { project_id } = yield* HttpRouter.params
    const found = findProject(admitted.account, project_id)
    if (found.error !== undefined) return found.error
    const now = yield* Clock.currentTimeMillis
    return json({
      languages: [...languages.values()]
        .filter((l) => l.projectId === found.project.projectId && !l.deleted)
        .map((l) => languageJson(l, now)),
      next_cursor: null
    })
  })

  const deleteLanguage = Effect.gen(function* () {
    const admitted = yield* shared.admit("languages", true)
    if (admitted._tag === "Done") return admitted.response
    const { language_id, project_id } = yield* HttpRouter.params
    const found = findLanguage(admitted.account, project_id, language_id)
    if (found.error !== undefined) return found.error
    found.language.deleted = true
    return yield* shared.after(admitted.fault, admitted.request, noContent())
  })

  const sourceTranscript = Effect.gen(function* () {
    const admitted = yield* shared.admit("edits", false)
    if (admitted._tag === "Done") return admitted.response
    const { project_id } = yield* HttpRouter.params
    const found = findProject(admitted.account, project_id)
    if (found.error !== undefined) return found.error
    const p = found.project
    // How the transcript of a project not ready yet is refused is not documented: 425, as outputs are.
    if (projectWord(p, yield* Clock.currentTimeMillis) !== "ready") {
      return detailError(425, "transcript_not_ready", "The project is not ready yet.", { envelope: shared.envelope })
    }
    return json({ language: p.sourceLanguage ?? "en", segments: p.segments, revision: p.revision })
  })

  const updateSegments = Effect.gen(function* () {
    const admitted = yield* shared.admit("edits", false)
    if (admitted._tag === "Done") return admitted.response
    const { project_id } = yield* HttpRouter.params
    const found = findProject(admitted.account, project_id)
    if (found.error !== undefined) return found.error
    if (!enterprise(admitted.account)) return enterpriseOnly()
    const read = yield* readJson(admitted.request)
    if (read.error !== undefined) return read.error
    const segments = read.body.segments
    if (typeof segments !== "object" || segments === null || Array.isArray(segments)) {
      return validationError(["segments"], "Input should be a valid dictionary", "dict_type")
    }
    const edits = Object.entries(segments as Record<string, Record<string, unknown>>)
    if (edits.length < 1 || edits.length > 500) {
      return validationError(["segments"], "Between 1 and 500 segments", "value_error")
    }
    const p = found.project
    const now = yield* Clock.currentTimeMillis
    // Edits before the project is ready: refused with 409 (the codes of these refusals are not documented).
    if (projectWord(p, now) !== "ready") {
      return detailError(409, "project_not_ready", "The project is not ready.", { envelope: "current" })
    }
    // Atomic: every edit is checked before any is applied.
    const next = p.segments.map((s) => ({ ...s }))
    for (const [id, edit] of edits) {
      const segment = next.find((s) => s.id === id)
      if (segment === undefined) {
        return detailError(404, "segment_not_found", `Segment ${id} not found.`, { envelope: "current" })
      }
      for (const [key, value] of Object.entries(edit)) {
        if (key === "text" && typeof value === "string" && value.length > 0) segment.text = value
        else if ((key === "start_s" || key === "end_s") && typeof value === "number" && value >= 0) segment[key] = value
        else if (key === "speaker_id" && typeof value === "string") segment.speaker_id = value
        else return validationError(["segments", id, key], "Invalid value", "value_error")
      }
      if (segment.end_s <= segment.start_s) {
        return validationError(["segments", id, "end_s"], "end_s must be greater than start_s", "value_error")
      }
    }
    p.segments = next
    sourceEdited(p, now)
    return json({ segments: next.filter((s) => edits.some(([id]) => id === s.id)), revision: p.revision })
  })

  const languageTranscript = Effect.gen(function* () {
    const admitted = yield* shared.admit("edits", false)
    if (admitted._tag === "Done") return admitted.response
    const { language_id, project_id } = yield* HttpRouter.params
    const found = findLanguage(admitted.account, project_id, language_id)
    if (found.error !== undefined) return found.error
    return json({
      source_language: found.project.sourceLanguage,
      target_language: found.language.targetLanguage,
      segments: translationsOf(found.language, found.project),
      revision: found.language.revision
    })
  })

  const updateTranslations = Effect.gen(function* () {
    const admitted = yield* shared.admit("edits", false)
    if (admitted._tag === "Done") return admitted.response
    const { language_id, project_id } = yield* HttpRouter.params
    const found = findLanguage(admitted.account, project_id, language_id)
    if (found.error !== undefined) return found.error
    if (!enterprise(admitted.account)) return enterpriseOnly()
    const read = yield* readJson(admitted.request)
    if (read.error !== undefined) return read.error
    const segments = read.body.segments as Record<string, { translation?: unknown }> | undefined
    if (typeof segments !== "object" || segments === null) {
      return validationError(["segments"], "Input should be a valid dictionary", "dict_type")
    }
    const l = found.language
    for (const [id, edit] of Object.entries(segments)) {
      if (!found.project.segments.some((s) => s.id === id)) {
        return detailError(404, "segment_not_found", `Segment ${id} not found.`, { envelope: "current" })
      }
      if (edit.translation !== null && typeof edit.translation !== "string") {
        return validationError(["segments", id, "translation"], "Input should be a string or null", "value_error")
      }
    }
    languageWord(l, yield* Clock.currentTimeMillis)
    for (const [id, edit] of Object.entries(segments)) {
      if (edit.translation === null) l.translations.delete(id)
      else l.translations.set(id, edit.translation as string)
    }
    l.revision++
    l.updatedAt = yield* Clock.currentTimeMillis
    return json({
      segments: translationsOf(l, found.project).filter((s) => s.id in segments),
      revision: l.revision
    })
  })

  const regenerate = Effect.gen(function* () {
    const admitted = yield* shared.admit("languages", true)
    if (admitted._tag === "Done") return admitted.response
    const { language_id, project_id } = yield* HttpRouter.params
    const found = findLanguage(admitted.account, project_id, language_id)
    if (found.error !== undefined) return found.error
    if (!enterprise(admitted.account)) return enterpriseOnly()
    const now = yield* Clock.currentTimeMillis
    const l = found.language
    const word = languageWord(l, now)
    // 409, nothing charged: the project is not ready, the language has not settled, or nothing changed.
    if (projectWord(found.project, now) !== "ready" || word !== "stale") {
      return detailError(409, "nothing_to_regenerate", "Nothing to regenerate: the language is not stale.", {
        envelope: "current"
      })
    }
    l.startedAt = now
    l.outputRevision = undefined
    yield* watchLanguage(l)
    billable++
    const answer =
      options.regenerateAnswer === "language"
        ? languageJson(l, now)
        : {
            regenerated_segment_ids: found.project.segments.map((s) => s.id),
            regenerated_seconds: 7.5,
            charged_seconds: 0,
            free_regeneration_seconds_remaining: 30
          }
    return yield* shared.after(admitted.fault, admitted.request, json(answer, 202))
  })

  /** The lossless audio behind the signed URL: no API key, valid until `Expires`. */
  const file = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const { language_id } = yield* HttpRouter.params
    const l = language_id === undefined ? undefined : languages.get(language_id)
    const expires = Number(new URL(request.url, "http://simulator").searchParams.get("Expires"))
    if (l === undefined || l.deleted) return HttpServerResponse.text("Not Found", { status: 404 })
    if (!Number.isFinite(expires) || expires * 1000 < (yield* Clock.currentTimeMillis)) {
      return HttpServerResponse.text("Request has expired", { status: 403 })
    }
    return HttpServerResponse.stream(outputBody(audioBytes, "audio"), {
      contentType: "audio/wav",
      contentLength: audioBytes
    })
  })

  const p = "/v1/dubbing/project"
  const routes = Layer.mergeAll(
    HttpRouter.add("POST", p, create),
    HttpRouter.add("GET", p, listProjects),
    HttpRouter.add("GET", `${p}/:project_id`, getProject),
    HttpRouter.add("DELETE", `${p}/:project_id`, deleteProject),
    HttpRouter.add("POST", `${p}/:project_id/language`, addLanguage),
    HttpRouter.add("GET", `${p}/:project_id/language`, listLanguages),
    HttpRouter.add("GET", `${p}/:project_id/language/:language_id`, getLanguage),
    HttpRouter.add("DELETE", `${p}/:project_id/language/:language_id`, deleteLanguage),
    HttpRouter.add("GET", `${p}/:project_id/transcript`, sourceTranscript),
    HttpRouter.add("PATCH", `${p}/:project_id/transcript/segments`, updateSegments),
    HttpRouter.add("GET", `${p}/:project_id/language/:language_id/transcript`, languageTranscript),
    HttpRouter.add("PATCH", `${p}/:project_id/language/:language_id/transcript/segments`, updateTranslations),
    HttpRouter.add("POST", `${p}/:project_id/language/:language_id/transcript/regenerate`, regenerate),
    HttpRouter.add("GET", "/files/dubbing/:project_id/:language_id/output.wav", file)
  )

  return {
    routes,
    billable: () => billable,
    projects: () => [...projects.values()],
    deliveries: state.deliveries,
    failNextProject: (message: string) => void (pendingFailure = message),
    setBaseUrl: state.setBaseUrl
  }
}
