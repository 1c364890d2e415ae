/**
 * HeyGen's v3 video-translation routes: translations, their bulk statuses, batches, languages and
 * proofreads. Bodies are checked against the schemas of ./Requests.ts before anything is created.
 */

import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { type Body, ok, v3Error } from "./Envelopes.js"
import * as Requests from "./Requests.js"
import type { Route } from "./Route.js"
import type { SimJob, State } from "./State.js"

const invalid = (problem: Requests.Refusal) =>
  Effect.succeed(v3Error(400, "invalid_parameter", problem.message, problem.param))

const notCompleted = () =>
  Effect.succeed(v3Error(400, "invalid_parameter", "The proofread is not completed yet.", "proofread_id"))

/** The v3 translation and proofread routes over `state`. */
export const routesV3 = (state: State, route: Route) => {
  const { assets, batches, jobs } = state

  const videoMissing = (video: Body) => video.type === "asset_id" && !assets.has(String(video.asset_id))

  /** Why a v3 request for new jobs (translations or proofreads) is refused, in HeyGen's order; or nothing. */
  const refuseJobs = (
    schema: typeof Requests.CreateTranslation | typeof Requests.CreateProofread,
    body: unknown,
    apiKey: string,
    now: number
  ) => {
    const problem = Requests.refusal(schema, body)
    if (problem) return v3Error(400, "invalid_parameter", problem.message, problem.param)
    const b = body as Body
    const langs = b.output_languages as Array<string>
    const bad = state.badLanguage(langs)
    if (bad !== undefined)
      return v3Error(400, "invalid_parameter", `Unsupported output language: ${bad}`, "output_languages")
    if (videoMissing(b.video as Body)) return v3Error(400, "asset_not_available", "The asset does not exist.", "video")
    return state.canStart(apiKey, langs.length, now, false)
  }

  // --- translations ------------------------------------------------------------------------------
  const createTranslation = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now }) => {
    const refused = refuseJobs(Requests.CreateTranslation, body, apiKey, now)
    if (refused) return Effect.succeed(refused)
    const b = body as Body
    const created = (b.output_languages as Array<string>).map((language) =>
      state.create("translation", "v3", apiKey, language, state.requested(b), now)
    )
    return ok({ video_translation_ids: created.map((j) => j.id) })
  })

  const notFound = () => Effect.succeed(v3Error(404, "not_found", "Video translation not found."))

  const getTranslation = route({ version: "v3" }, ({ apiKey, now, params }) => {
    const job = state.findJob(params.id, "translation", apiKey)
    return job === undefined ? notFound() : ok(state.translationView(job, now))
  })

  const listTranslations = route({ version: "v3" }, ({ apiKey, now, request }) => {
    const url = new URL(request.url, "http://x")
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get("limit") ?? 10) || 10))
    const start = Number(url.searchParams.get("token") ?? 0) || 0
    const mine = [...jobs.values()].filter((j) => j.kind === "translation" && j.apiKey === apiKey && !j.deleted)
    const page = mine.slice(start, start + limit)
    const more = start + limit < mine.length
    return ok(
      page.map((j) => state.translationView(j, now)),
      { has_more: more, next_token: more ? String(start + limit) : null }
    )
  })

  const updateTitle = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now, params }) => {
    const problem = Requests.refusal(Requests.UpdateTitle, body)
    if (problem) return invalid(problem)
    const job = state.findJob(params.id, "translation", apiKey)
    if (job === undefined) return notFound()
    job.title2 = (body as Body).title as string
    return ok(state.translationView(job, now))
  })

  const deleteTranslation = route({ version: "v3", idempotent: true }, ({ apiKey, params }) => {
    const job = state.findJob(params.id, "translation", apiKey)
    if (job === undefined) return notFound()
    job.deleted = true
    return ok({ id: job.id })
  })

  const languages = route({ version: "v3" }, () => ok({ languages: state.config.languages }))

  /**
   * `video_translation_ids` and/or `batch_ids`, comma-separated; each batch expands to its items.
   * HeyGen caps a request at 100 ids; how expanded batch items count toward it is not documented,
   * so the cap applies to the ids given and every item of the batches is answered.
   */
  const statuses = route({ version: "v3" }, ({ apiKey, now, request }) => {
    const query = new URL(request.url, "http://x").searchParams
    const list = (name: string) =>
      (query.get(name) ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    const ids = list("video_translation_ids")
    const batchIds = list("batch_ids")
    if (ids.length + batchIds.length === 0)
      return Effect.succeed(
        v3Error(400, "invalid_parameter", "video_translation_ids or batch_ids is required", "video_translation_ids")
      )
    if (ids.length + batchIds.length > 100)
      return Effect.succeed(v3Error(400, "invalid_parameter", "At most 100 ids.", "video_translation_ids"))
    const entries: Array<Body> = ids.map((id) => {
      const job = state.findJob(id, "translation", apiKey)
      return { video_id: id, status: job === undefined ? "not_found" : state.bulkStatus(job, now) }
    })
    for (const batchId of batchIds) {
      const batch = batches.get(batchId)
      if (batch === undefined || batch.apiKey !== apiKey) {
        entries.push({ batch_id: batchId, status: "not_found" })
        continue
      }
      for (const item of itemViews(batch.items, now)) entries.push({ batch_id: batchId, ...item })
    }
    return ok(entries, { has_more: false, next_token: null })
  })

  // --- batches -----------------------------------------------------------------------------------
  const itemViews = (items: ReadonlyArray<{ item_index: number; video_id?: string; error?: Body }>, now: number) =>
    items.map((item) => {
      const job = item.video_id === undefined ? undefined : jobs.get(item.video_id)
      return {
        item_index: item.item_index,
        status: job === undefined ? "failed" : state.bulkStatus(job, now),
        ...(item.video_id ? { video_id: item.video_id } : {}),
        ...(item.error ? { error: item.error } : {})
      }
    })

  const createBatch = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now }) => {
    const problem = Requests.refusal(Requests.CreateBatch, body)
    if (problem) return invalid(problem)
    const b = body as Body
    const items = b.video_translations as Array<unknown>
    const total = items.reduce<number>(
      (n, item) =>
        n +
        (Array.isArray((item as Body)?.output_languages)
          ? ((item as Body).output_languages as Array<unknown>).length
          : 1),
      0
    )
    if (total > 100)
      return Effect.succeed(
        v3Error(400, "invalid_parameter", "At most 100 items after fan-out to languages.", "video_translations")
      )
    const batch = {
      apiKey,
      title: typeof b.title === "string" ? b.title : null,
      createdAt: now,
      items: [] as Array<{ item_index: number; video_id?: string; error?: Body }>
    }
    // Items are independent: one bad source does not fail the rest.
    for (const item of items) {
      const invalidItem = Requests.refusal(Requests.CreateTranslation, item)
      const langs = invalidItem ? [] : ((item as Body).output_languages as Array<string>)
      const bad = invalidItem ? undefined : state.badLanguage(langs)
      if (invalidItem || bad !== undefined) {
        batch.items.push({
          item_index: batch.items.length,
          error: { code: "invalid_parameter", message: invalidItem?.message ?? `Unsupported output language: ${bad}` }
        })
        continue
      }
      for (const language of langs) {
        if (state.canStart(apiKey, 1, now, false)) {
          batch.items.push({
            item_index: batch.items.length,
            error: { code: "rate_limit_exceeded", message: "Too many concurrent jobs" }
          })
          continue
        }
        const job = state.create(
          "translation",
          "v3",
          apiKey,
          language,
          { title: String((item as Body).title ?? "") },
          now
        )
        batch.items.push({ item_index: batch.items.length, video_id: job.id })
      }
    }
    const id = `batch_${randomBytes(8).toString("hex")}`
    batches.set(id, batch)
    return Effect.succeed(HttpServerResponse.jsonUnsafe({ data: { batch_id: id } }, { status: 202 }))
  })

  const getBatch = route({ version: "v3" }, ({ apiKey, now, params }) => {
    const batch = params.id === undefined ? undefined : batches.get(params.id)
    if (batch === undefined || batch.apiKey !== apiKey)
      return Effect.succeed(v3Error(404, "not_found", "Batch not found."))
    const items = itemViews(batch.items, now)
    const counts: Record<string, number> = {}
    for (const item of items) counts[item.status] = (counts[item.status] ?? 0) + 1
    const done = items.every((i) => i.status === "completed" || i.status === "failed")
    const status = !done ? "processing" : items.every((i) => i.status === "failed") ? "failed" : "completed"
    return ok({
      batch_id: params.id,
      status,
      title: batch.title,
      created_at: Math.floor(batch.createdAt / 1000),
      total_items: items.length,
      counts_by_status: counts,
      items,
      has_more: false,
      next_token: null
    })
  })

  // --- proofreads --------------------------------------------------------------------------------
  const proofreadNotFound = () => Effect.succeed(v3Error(404, "not_found", "Proofread not found."))

  /** The proofread a request names, once its extraction completed; or the answer refusing it. */
  const completedProofread = (id: string | undefined, apiKey: string, now: number) => {
    const job = state.findJob(id, "proofread", apiKey)
    if (job === undefined) return { refused: proofreadNotFound() } as const
    if (state.proofreadStatus(job, now) !== "completed") return { refused: notCompleted() } as const
    return { job } as const
  }

  const createProofread = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now }) => {
    const refused = refuseJobs(Requests.CreateProofread, body, apiKey, now)
    if (refused) return Effect.succeed(refused)
    const b = body as Body
    const created = (b.output_languages as Array<string>).map((language) =>
      state.create("proofread", "v3", apiKey, language, { title: String(b.title) }, now)
    )
    return ok({ proofread_ids: created.map((j) => j.id), status: "processing" })
  })

  const getProofread = route({ version: "v3" }, ({ apiKey, now, params }) => {
    const job = state.findJob(params.id, "proofread", apiKey)
    if (job === undefined) return proofreadNotFound()
    const status = state.proofreadStatus(job, now)
    // Live responses omit null fields.
    return ok({
      created_at: Math.floor(job.createdAt / 1000),
      id: job.id,
      output_language: job.language,
      status,
      title: job.title,
      ...(status === "failed" ? { failure_message: job.failure } : {})
    })
  })

  const getProofreadSrt = route({ version: "v3" }, ({ apiKey, now, params }) => {
    const found = completedProofread(params.id, apiKey, now)
    if (found.refused) return found.refused
    const { job } = found
    return ok({
      srt_url: state.fileUrl(`${job.id}/proofread.srt`, now),
      original_srt_url: state.fileUrl(`${job.id}/original.srt`, now)
    })
  })

  const putProofreadSrt = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now, params }) => {
    const problem = Requests.refusal(Requests.ReplaceSrt, body)
    if (problem) return invalid(problem)
    const found = completedProofread(params.id, apiKey, now)
    if (found.refused) return found.refused
    const { job } = found
    const text = state.srtText((body as Body).srt as Body)
    if (text === undefined)
      return Effect.succeed(v3Error(400, "download_failed", "Failed to download the SRT file.", "srt"))
    job.srt = text
    return ok({ id: job.id, status: "completed", output_language: job.language, title: job.title })
  })

  const generate = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now, params }) => {
    const problem = Requests.refusal(Requests.Generate, body)
    if (problem) return invalid(problem)
    const found = completedProofread(params.id, apiKey, now)
    if (found.refused) return found.refused
    const refused = state.canStart(apiKey, 1, now, false)
    if (refused) return Effect.succeed(refused)
    const rendered: SimJob = state.render(found.job, "v3", apiKey, body as Body, now)
    return ok({ video_translation_id: rendered.id, status: "processing" })
  })

  return [
    HttpRouter.add("POST", "/v3/video-translations", createTranslation),
    HttpRouter.add("GET", "/v3/video-translations", listTranslations),
    HttpRouter.add("GET", "/v3/video-translations/languages", languages),
    HttpRouter.add("GET", "/v3/video-translations/statuses", statuses),
    HttpRouter.add("POST", "/v3/video-translations/batches", createBatch),
    HttpRouter.add("GET", "/v3/video-translations/batches/:id", getBatch),
    HttpRouter.add("GET", "/v3/video-translations/:id", getTranslation),
    HttpRouter.add("PATCH", "/v3/video-translations/:id", updateTitle),
    HttpRouter.add("DELETE", "/v3/video-translations/:id", deleteTranslation),
    HttpRouter.add("POST", "/v3/video-translations/proofreads", createProofread),
    HttpRouter.add("GET", "/v3/video-translations/proofreads/:id", getProofread),
    HttpRouter.add("GET", "/v3/video-translations/proofreads/:id/srt", getProofreadSrt),
    HttpRouter.add("PUT", "/v3/video-translations/proofreads/:id/srt", putProofreadSrt),
    HttpRouter.add("POST", "/v3/video-translations/proofreads/:id/generate", generate)
  ] as const
}
