/**
 * HeyGen's legacy v2 video-translation routes (and the v1 raw-bytes asset upload the v2 flow
 * relies on), kept apart so they can be deleted as one file when HeyGen retires v2. Envelopes are
 * `{error, data}` with numeric error codes; statuses say `success` where v3 says `completed`.
 */

import { randomBytes } from "node:crypto"
import { Effect, Stream } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { type Body, okV2, v2Error } from "./Envelopes.js"
import * as Requests from "./Requests.js"
import type { Route } from "./Route.js"
import type { State } from "./State.js"

/** `output_language` XOR `output_languages`: "Omitting both or defining both will result in an error". */
const languagesOf = (body: Body) => {
  if (typeof body !== "object" || body === null) return undefined
  const one = body.output_language
  const many = body.output_languages
  if ((one === undefined) === (many === undefined)) return undefined
  return (many as Array<string> | undefined) ?? [one as string]
}

/** The v2 routes over `state`. */
export const routesV2 = (state: State, route: Route) => {
  const translationNotFound = () => Effect.succeed(v2Error(404, 40004, "Video translate not found"))
  const proofreadNotFound = () => Effect.succeed(v2Error(404, 40004, "Proofread not found"))
  const notCompleted = () => Effect.succeed(v2Error(400, 400175, "The proofread is not completed yet"))

  /** Why a v2 request for new jobs is refused, in HeyGen's order; or nothing. */
  const refuseJobs = (
    schema: typeof Requests.V2Create | typeof Requests.V2CreateProofread,
    body: unknown,
    langs: ReadonlyArray<string> | undefined,
    apiKey: string,
    now: number
  ) => {
    const problem = Requests.refusal(schema, body)
    if (problem) return v2Error(400, 400175, problem.message)
    if (langs === undefined) return v2Error(400, 40001, "Give output_language or output_languages, not both")
    const bad = state.badLanguage(langs)
    if (bad !== undefined) return v2Error(400, 400175, `Unsupported output language: ${bad}`)
    return state.canStart(apiKey, langs.length, now, true)
  }

  const create = route({ version: "v2", json: true }, ({ apiKey, body, now }) => {
    const b = body as Body
    const langs = languagesOf(b)
    const refused = refuseJobs(Requests.V2Create, body, langs, apiKey, now)
    if (refused !== undefined || langs === undefined) return Effect.succeed(refused!)
    const created = langs.map((language) =>
      state.create("translation", "v2", apiKey, language, state.requested(b), now)
    )
    return created.length === 1
      ? okV2({ video_translate_id: created[0]!.id })
      : okV2({ video_translate_id: null, video_translate_ids: created.map((j) => j.id) })
  })

  const status = route({ version: "v2" }, ({ apiKey, now, params }) => {
    const job = state.findJob(params.id, "translation", apiKey)
    if (job === undefined) return translationNotFound()
    const view = state.translationView(job, now)
    return okV2({
      video_translate_id: job.id,
      title: view.title,
      status: view.status === "completed" ? "success" : view.status,
      url: view.video_url,
      message: view.failure_message,
      callback_id: job.callbackId ?? null,
      output_language: job.language
    })
  })

  const targetLanguages = route({ version: "v2" }, () => okV2({ languages: state.config.languages }))

  const caption = route({ version: "v2" }, ({ apiKey, now, request }) => {
    const url = new URL(request.url, "http://x")
    const job = state.findJob(url.searchParams.get("video_translate_id") ?? undefined, "translation", apiKey)
    if (job === undefined) return translationNotFound()
    const type = url.searchParams.get("caption_type") === "vtt" ? "vtt" : "srt"
    if (state.phase(job, now) !== "completed") return Effect.succeed(v2Error(400, 400175, "The video is not ready"))
    return okV2({ caption_url: state.fileUrl(`${job.id}/captions.${type}`, now) })
  })

  const createProofread = route({ version: "v2", json: true }, ({ apiKey, body, now }) => {
    const b = body as Body
    const langs = languagesOf(b)
    const refused = refuseJobs(Requests.V2CreateProofread, body, langs, apiKey, now)
    if (refused !== undefined || langs === undefined) return Effect.succeed(refused!)
    const title = typeof b.title === "string" ? b.title : ""
    const created = langs.map((language) => state.create("proofread", "v2", apiKey, language, { title }, now))
    return created.length === 1
      ? okV2({ proofread_id: created[0]!.id, status: "processing" })
      : okV2({ proofread_ids: created.map((j) => j.id), status: "processing" })
  })

  const proofreadStatus = route({ version: "v2" }, ({ apiKey, now, params }) => {
    const job = state.findJob(params.id, "proofread", apiKey)
    if (job === undefined) return proofreadNotFound()
    const status = state.proofreadStatus(job, now)
    return okV2({
      proofread_id: job.id,
      status,
      details: status === "failed" ? job.failure : null,
      submitted_for_review: false
    })
  })

  const downloadSrt = route({ version: "v2" }, ({ apiKey, now, params }) => {
    const job = state.findJob(params.id, "proofread", apiKey)
    if (job === undefined) return proofreadNotFound()
    if (state.proofreadStatus(job, now) !== "completed") return notCompleted()
    return okV2({ srt_url: state.fileUrl(`${job.id}/proofread.srt`, now) })
  })

  const uploadSrt = route({ version: "v2", json: true }, ({ apiKey, body, now, params }) => {
    const problem = Requests.refusal(Requests.V2UploadSrt, body)
    if (problem) return Effect.succeed(v2Error(400, 400175, problem.message))
    const job = state.findJob(params.id, "proofread", apiKey)
    if (job === undefined) return proofreadNotFound()
    if (state.proofreadStatus(job, now) !== "completed") return notCompleted()
    const text = state.srtText({ type: "url", url: (body as Body).srt_file_url })
    if (text === undefined) return Effect.succeed(v2Error(400, 400175, "Failed to download the SRT file"))
    job.srt = text
    return Effect.succeed(HttpServerResponse.jsonUnsafe({}))
  })

  const generate = route({ version: "v2", json: true }, ({ apiKey, body, now, params }) => {
    const problem = Requests.refusal(Requests.V2Generate, body)
    if (problem) return Effect.succeed(v2Error(400, 400175, problem.message))
    const job = state.findJob(params.id, "proofread", apiKey)
    if (job === undefined) return proofreadNotFound()
    if (state.proofreadStatus(job, now) !== "completed") return notCompleted()
    const refused = state.canStart(apiKey, 1, now, true)
    if (refused) return Effect.succeed(refused)
    const rendered = state.render(job, "v2", apiKey, body as Body, now)
    return okV2({ video_translate_id: rendered.id, status: "processing" })
  })

  /** Legacy raw-bytes upload (`upload.heygen.com/v1/asset`), served on the same host here. */
  const v1Asset = route({ version: "v2" }, ({ now, request }) =>
    Effect.gen(function* () {
      const type = request.headers["content-type"] ?? "application/octet-stream"
      const chunks: Array<Uint8Array> = []
      let bytes = 0
      yield* Stream.runForEach(request.stream, (chunk) =>
        Effect.sync(() => {
          bytes += chunk.byteLength
          if (bytes <= 1024 * 1024) chunks.push(chunk)
        })
      ).pipe(Effect.ignore)
      const id = randomBytes(16).toString("hex")
      const isText = type.startsWith("application/x-subrip") || type.startsWith("text/")
      state.assets.set(id, {
        bytes,
        mime: type,
        text: isText ? Buffer.concat(chunks).toString("utf8") : undefined,
        complete: true
      })
      return HttpServerResponse.jsonUnsafe({
        code: 100,
        data: {
          id,
          name: id,
          file_type: type.split("/")[0],
          folder_id: "",
          meta: null,
          created_ts: Math.floor(now / 1000),
          url: state.fileUrl(`assets/${id}`, now)
        },
        msg: null,
        message: null
      })
    })
  )

  return [
    HttpRouter.add("POST", "/v2/video_translate", create),
    HttpRouter.add("GET", "/v2/video_translate/target_languages", targetLanguages),
    HttpRouter.add("GET", "/v2/video_translate/caption", caption),
    HttpRouter.add("GET", "/v2/video_translate/:id", status),
    HttpRouter.add("POST", "/v2/video_translate/proofread", createProofread),
    HttpRouter.add("GET", "/v2/video_translate/proofread/status/:id", proofreadStatus),
    HttpRouter.add("GET", "/v2/video_translate/proofread/:id/download-srt", downloadSrt),
    HttpRouter.add("POST", "/v2/video_translate/proofread/:id/upload-srt", uploadSrt),
    HttpRouter.add("POST", "/v2/video_translate/proofread/:id/generate", generate),
    HttpRouter.add("POST", "/v1/asset", v1Asset)
  ] as const
}
