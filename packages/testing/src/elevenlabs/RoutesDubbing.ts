/**
 * The legacy dubbing API of the ElevenLabs simulator (`/v1/dubbing`): create from a streamed
 * multipart upload or a URL, the state machine `queued → preparing → dubbing → cloning → dubbed |
 * failed`, get, list (cursor pages, filters), delete, the dubbed file (`425` until dubbed, streamed),
 * and the transcripts as SRT and WebVTT, by the deprecated text endpoint and the JSON one.
 */
import { randomBytes } from "node:crypto"
import { Clock, Effect, Layer, Stream } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { bareError, detailError } from "./Errors.js"
import { readCreateForm } from "./Forms.js"
import { checkDubbingForm, isTrue, mediaTypes } from "./Requests.js"
import { type Account, outputBody, type Shared, timestamp } from "./State.js"

export interface DubbingOptions {
  /** Time in each phase, ms. Defaults 200 / 400 / 1200 (the last split between `dubbing` and `cloning`). */
  readonly queuedMs?: number | undefined
  readonly preparingMs?: number | undefined
  readonly dubbingMs?: number | undefined
  /** Dubs not yet finished per account; a create past it is `429 concurrent_limit_exceeded`. Not documented; default 10. */
  readonly concurrentLimit?: number | undefined
  /** Largest upload, bytes. Documented: 1 GB. */
  readonly maxFileBytes?: number | undefined
  /** Size of a dubbed file, bytes. Default 64 KiB. */
  readonly outputBytes?: number | undefined
  /** `Content-Type` of a dubbed file. Documented `audio/mpeg` or `video/mp4`; seen live: `application/octet-stream` (default). */
  readonly outputContentType?: "octet-stream" | "typed" | undefined
  /** Errors of the audio and transcript endpoints under `detail` (default) or as the OpenAPI examples' `{error, message}`. */
  readonly outputEnvelope?: "detail" | "bare" | undefined
  /** Timestamps without a zone (as ElevenLabs' OpenAPI examples; default) or with `Z`. */
  readonly naiveTimestamps?: boolean | undefined
  /** Outcomes drawn at random for every created dub (chaos testing): `fail` fails it, `stuck` never finishes it. */
  readonly jobFaultRates?: Partial<Record<"fail" | "stuck", number>> | undefined
}

export interface SimulatedDub {
  readonly dubbingId: string
  readonly apiKey: string
  readonly name: string
  readonly sourceLang: string
  readonly targetLang: string
  readonly createdAt: number
  readonly bytes: number
  readonly contentType: string
  readonly sourceUrl: string | undefined
  readonly studio: boolean
  readonly failure: string | undefined
  /** Never finishes: stays `dubbing`. */
  readonly stuck: boolean
  deleted: boolean
}

const phrases = [
  "Welcome to the quarterly update.",
  "Revenue grew in every region.",
  "Thank you for watching."
] as const

const srtTime = (ms: number, sep: "," | ".") => {
  const h = Math.floor(ms / 3_600_000)
  const m = Math.floor((ms % 3_600_000) / 60_000)
  const s = Math.floor((ms % 60_000) / 1000)
  const pad = (n: number, w = 2) => String(n).padStart(w, "0")
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`
}

/** The subtitles of a dub in a language: three cues. */
export const subtitles = (language: string, format: "srt" | "webvtt") => {
  const cues = phrases.map((text, i) => ({ start: i * 2500, end: i * 2500 + 2000, text: `[${language}] ${text}` }))
  if (format === "srt") {
    return cues.map((c, i) => `${i + 1}\n${srtTime(c.start, ",")} --> ${srtTime(c.end, ",")}\n${c.text}\n`).join("\n")
  }
  return `WEBVTT\n\n${cues.map((c) => `${srtTime(c.start, ".")} --> ${srtTime(c.end, ".")}\n${c.text}\n`).join("\n")}`
}

/** The ISO 639-1 and 639-3 codes the simulator dubs into: the documented list and the 639-3 forms of a few. */
export const legacyCodes = new Set([
  "en",
  "hi",
  "pt",
  "zh",
  "es",
  "fr",
  "de",
  "ja",
  "ar",
  "ru",
  "ko",
  "id",
  "it",
  "nl",
  "tr",
  "pl",
  "sv",
  "fil",
  "ms",
  "ro",
  "uk",
  "el",
  "cs",
  "da",
  "fi",
  "bg",
  "hr",
  "sk",
  "ta",
  "eng",
  "spa",
  "fra",
  "deu",
  "por"
])

export const makeDubbing = (shared: Shared, options: DubbingOptions) => {
  const queuedMs = options.queuedMs ?? 200
  const preparingMs = options.preparingMs ?? 400
  const dubbingMs = options.dubbingMs ?? 1200
  const concurrentLimit = options.concurrentLimit ?? 10
  const maxFileBytes = options.maxFileBytes ?? 1_000_000_000
  const outputBytes = options.outputBytes ?? 64 * 1024
  const naive = options.naiveTimestamps ?? true
  const dubs = new Map<string, SimulatedDub>()
  const attempts = new Map<string, Array<"server-error" | "processed" | "processed-answer-lost">>()
  const renamed = new Map<string, string>()
  let pendingFailure: string | undefined
  let billable = 0

  const wordOf = (dub: SimulatedDub, now: number): string => {
    const t = now - dub.createdAt
    const raw =
      dub.stuck && t >= queuedMs + preparingMs
        ? "dubbing"
        : t < queuedMs
          ? "queued"
          : t < queuedMs + preparingMs
            ? "preparing"
            : dub.failure !== undefined && t >= queuedMs + preparingMs + dubbingMs / 2
              ? "failed"
              : t < queuedMs + preparingMs + dubbingMs / 2
                ? "dubbing"
                : t < queuedMs + preparingMs + dubbingMs
                  ? "cloning"
                  : "dubbed"
    return renamed.get(raw) ?? raw
  }

  const metadata = (dub: SimulatedDub, now: number) => {
    const word = wordOf(dub, now)
    const probed = now - dub.createdAt >= queuedMs + preparingMs
    return {
      dubbing_id: dub.dubbingId,
      name: dub.name,
      status: word,
      // "Once dubbing has completed, the ISO-639-1 code": null before.
      source_language: word === "dubbed" ? (dub.sourceLang === "auto" ? "en" : dub.sourceLang) : null,
      target_languages: [dub.targetLang],
      editable: dub.studio,
      created_at: timestamp(dub.createdAt, naive),
      media_metadata: probed
        ? { content_type: dub.contentType, duration: Math.max(1, Math.round(dub.bytes / 250_000)) }
        : null,
      error: word === "failed" ? (dub.failure ?? null) : null
    }
  }

  const active = (apiKey: string, now: number) =>
    [...dubs.values()].filter((d) => {
      if (d.apiKey !== apiKey || d.deleted) return false
      const word = wordOf(d, now)
      return word !== "dubbed" && word !== "failed"
    }).length

  const create = Effect.gen(function* () {
    const admitted = yield* shared.admit("createDubbing", true)
    if (admitted._tag === "Done") return admitted.response
    const { account, fault, request } = admitted
    const form = yield* readCreateForm(request, checkDubbingForm)
    if (form._tag === "Refused") return form.response
    const { one, uploaded } = form
    const sourceUrl = one("source_url")
    // Whether the API refuses both, and with which code, is not documented: 400 `invalid_parameters`.
    if ((uploaded === undefined) === (sourceUrl === undefined)) {
      return detailError(400, "invalid_parameters", "Provide exactly one of file or source_url.", {
        envelope: "current",
        param: "file"
      })
    }
    if (sourceUrl !== undefined && !/^https?:\/\/\S+$/i.test(sourceUrl)) {
      return detailError(400, "invalid_parameters", "source_url must be an http(s) URL.", {
        envelope: "current",
        param: "source_url"
      })
    }
    if (uploaded !== undefined && !mediaTypes.test(uploaded.type)) {
      // The message is the one users of the JavaScript SDK have reported; the code is not documented.
      return detailError(
        400,
        "invalid_content_type",
        `File you provided has unsupported content type ${uploaded.type}.`,
        { envelope: shared.envelope }
      )
    }
    // Over 1 GB: refused, with a code ElevenLabs does not document.
    if (uploaded !== undefined && uploaded.bytes > maxFileBytes) {
      return detailError(400, "file_too_large", "The file exceeds the maximum size of 1 GB.", {
        envelope: shared.envelope
      })
    }
    const studio = isTrue(one("dubbing_studio"))
    const target = one("target_lang")
    if ((target === undefined || target === "") && !studio) {
      return detailError(400, "empty_target_language", "Target language cannot be empty.", {
        envelope: shared.envelope
      })
    }
    // Which codes ElevenLabs refuses, and how, is not documented: 400 `invalid_parameters` naming the field.
    if (target !== undefined && !legacyCodes.has(target)) {
      return detailError(400, "invalid_parameters", `Unsupported target language: ${target}`, {
        envelope: "current",
        param: "target_lang"
      })
    }
    const contentType = uploaded?.type ?? "video/mp4"
    const plan = account.plan ?? "enterprise"
    if (contentType.startsWith("audio/") && plan === "free") {
      return detailError(403, "only_for_creator+", "Audio dubbing is available from the Creator plan.", {
        envelope: shared.envelope
      })
    }
    if ((plan === "free" || plan === "starter") && contentType.startsWith("video/") && !isTrue(one("watermark"))) {
      return detailError(400, "watermark_not_allowed", "Your plan requires a watermark on dubbed videos.", {
        envelope: shared.envelope
      })
    }
    const name = one("name") ?? ""
    const tried = attempts.get(`${name}/${target ?? ""}`) ?? []
    attempts.set(`${name}/${target ?? ""}`, tried)
    const left = shared.credits.get(account.apiKey) ?? 0
    if (left < 1) {
      return detailError(400, "quota_exceeded", "This request exceeds your quota.", { envelope: shared.envelope })
    }
    const now = yield* Clock.currentTimeMillis
    if (active(account.apiKey, now) >= concurrentLimit) {
      return detailError(
        429,
        "concurrent_limit_exceeded",
        `Too many concurrent requests. Your plan allows ${concurrentLimit} dubs at the same time.`,
        { envelope: "current" }
      )
    }
    shared.credits.set(account.apiKey, left - 1)
    billable++
    const dubbingId = randomBytes(15).toString("base64url")
    const chaos = pendingFailure === undefined ? shared.draw(options.jobFaultRates, "job:") : undefined
    dubs.set(dubbingId, {
      dubbingId,
      apiKey: account.apiKey,
      name,
      sourceLang: one("source_lang") ?? "auto",
      targetLang: target ?? "",
      createdAt: now,
      bytes: uploaded?.bytes ?? 5_000_000,
      contentType,
      sourceUrl,
      studio,
      failure: chaos === "fail" ? "The dub failed (injected)." : pendingFailure,
      stuck: chaos === "stuck",
      deleted: false
    })
    pendingFailure = undefined
    const lost = fault?.kind === "dropAfter" || fault?.kind === "http500AfterProcessing"
    tried.push(lost ? "processed-answer-lost" : "processed")
    if (fault?.kind === "malformed") return HttpServerResponse.text('{"dubbing_id": ', { status: 200 })
    return yield* shared.after(
      fault,
      request,
      HttpServerResponse.jsonUnsafe({
        dubbing_id: dubbingId,
        expected_duration_sec: (queuedMs + preparingMs + dubbingMs) / 1000
      })
    )
  })

  /** The dub a path names, or the answer that refuses it (404 unknown or deleted, 403 another account's). */
  const find = (account: Account, id: string | undefined, bare = false) => {
    const dub = id === undefined ? undefined : dubs.get(id)
    if (dub === undefined || dub.deleted) {
      return {
        error: bare
          ? bareError(404, "dubbing_not_found", "Dubbing not found.")
          : detailError(404, "dubbing_not_found", `Dubbing ${id} not found.`, { envelope: shared.envelope })
      }
    }
    if (dub.apiKey !== account.apiKey) {
      return {
        error: bare
          ? bareError(403, "permission_denied", "You do not have access to this dubbing.")
          : detailError(403, "permission_denied", "You do not have access to this dubbing.", {
              envelope: shared.envelope
            })
      }
    }
    return { dub }
  }

  const get = Effect.gen(function* () {
    const admitted = yield* shared.admit("getDubbing", false)
    if (admitted._tag === "Done") return admitted.response
    const { dubbing_id } = yield* HttpRouter.params
    const found = find(admitted.account, dubbing_id)
    if (found.error !== undefined) return found.error
    if (admitted.fault?.kind === "malformed") return HttpServerResponse.text("<html>502</html>", { status: 200 })
    return yield* shared.after(
      admitted.fault,
      admitted.request,
      HttpServerResponse.jsonUnsafe(metadata(found.dub, yield* Clock.currentTimeMillis))
    )
  })

  const listStatuses = new Set(["queued", "preparing", "dubbing", "dubbed", "failed"])

  const list = Effect.gen(function* () {
    const admitted = yield* shared.admit("listDubs", false)
    if (admitted._tag === "Done") return admitted.response
    if (admitted.account.legacyWorkspace === true) {
      return detailError(400, "invalid_workspace_type", "This endpoint is not available for legacy workspaces.", {
        envelope: shared.envelope
      })
    }
    const query = new URL(admitted.request.url, "http://simulator").searchParams
    const known = new Set([
      "cursor",
      "page_size",
      "dubbing_status",
      "dubbing_statuses",
      "dubbing_models",
      "target_language_codes",
      "creation_sources",
      "filter_by_creator",
      "order_by",
      "order_direction"
    ])
    const queryError = (field: string, msg: string) =>
      HttpServerResponse.jsonUnsafe({ detail: [{ loc: ["query", field], msg, type: "value_error" }] }, { status: 422 })
    for (const key of query.keys()) if (!known.has(key)) return queryError(key, "Extra inputs are not permitted")
    const pageSize = Number(query.get("page_size") ?? "100")
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 200) {
      return queryError("page_size", "Input should be between 1 and 200")
    }
    const single = query.get("dubbing_status")
    if (single !== null && !["dubbing", "dubbed", "failed"].includes(single)) {
      return queryError("dubbing_status", "Input should be 'dubbing', 'dubbed' or 'failed'")
    }
    const statuses = query.getAll("dubbing_statuses")
    if (statuses.some((s) => !listStatuses.has(s))) {
      return queryError("dubbing_statuses", "Input should be 'queued', 'preparing', 'dubbing', 'dubbed' or 'failed'")
    }
    const orderBy = query.get("order_by") ?? "created_at"
    if (orderBy !== "created_at" && orderBy !== "name")
      return queryError("order_by", "Input should be 'created_at' or 'name'")
    const direction = query.get("order_direction") ?? "DESCENDING"
    if (direction !== "DESCENDING" && direction !== "ASCENDING") {
      return queryError("order_direction", "Input should be 'DESCENDING' or 'ASCENDING'")
    }
    const languages = query.getAll("target_language_codes")
    const now = yield* Clock.currentTimeMillis
    // `cloning` is a phase of `dubbing` to the filters (the filter enumerations do not name it).
    const filterWord = (d: SimulatedDub) => {
      const w = wordOf(d, now)
      return w === "cloning" ? "dubbing" : w
    }
    const rows = [...dubs.values()]
      .filter((d) => d.apiKey === admitted.account.apiKey && !d.deleted)
      .filter((d) => single === null || filterWord(d) === single)
      .filter((d) => statuses.length === 0 || statuses.includes(filterWord(d)))
      .filter((d) => languages.length === 0 || languages.includes(d.targetLang))
      .sort((a, b) => {
        const order = orderBy === "name" ? a.name.localeCompare(b.name) : a.createdAt - b.createdAt
        return direction === "ASCENDING" ? order : -order
      })
    const cursor = query.get("cursor")
    const start = cursor === null ? 0 : Number(Buffer.from(cursor, "base64url").toString("utf8"))
    if (!Number.isInteger(start) || start < 0) return queryError("cursor", "Invalid cursor")
    const page = rows.slice(start, start + pageSize)
    const more = start + pageSize < rows.length
    return yield* shared.after(
      admitted.fault,
      admitted.request,
      HttpServerResponse.jsonUnsafe({
        dubs: page.map((d) => metadata(d, now)),
        next_cursor: more ? Buffer.from(String(start + pageSize)).toString("base64url") : null,
        has_more: more
      })
    )
  })

  const remove = Effect.gen(function* () {
    const admitted = yield* shared.admit("deleteDubbing", true)
    if (admitted._tag === "Done") return admitted.response
    const { dubbing_id } = yield* HttpRouter.params
    const found = find(admitted.account, dubbing_id)
    if (found.error !== undefined) return found.error
    found.dub.deleted = true
    return yield* shared.after(admitted.fault, admitted.request, HttpServerResponse.jsonUnsafe({ status: "ok" }))
  })

  /** The dub and language of an output route, or the refusal: unknown, not dubbed yet (425), not a target (404). */
  const output = (endpoint: "audio" | "transcript") =>
    Effect.gen(function* () {
      const admitted = yield* shared.admit(endpoint, false)
      if (admitted._tag === "Done") return { response: admitted.response } as const
      const bare = options.outputEnvelope === "bare"
      const { dubbing_id, language_code } = yield* HttpRouter.params
      const found = find(admitted.account, dubbing_id, bare)
      if (found.error !== undefined) return { response: found.error } as const
      const dub = found.dub
      const word = wordOf(dub, yield* Clock.currentTimeMillis)
      if (word !== "dubbed") {
        return {
          response: bare
            ? bareError(425, "dubbing_not_dubbed", "Dubbing has not finished yet.")
            : detailError(425, "dubbing_not_dubbed", "Dubbing has not finished yet.", { envelope: shared.envelope })
        } as const
      }
      const language = language_code ?? ""
      if (language !== dub.targetLang && !(endpoint === "transcript" && language === "source")) {
        // 404 for a language not dubbed is documented; its code is not.
        return {
          response: bare
            ? bareError(404, "language_not_found", `The dubbing has no ${language} dub.`)
            : detailError(404, "language_not_found", `The dubbing has no ${language} dub.`, {
                envelope: shared.envelope
              })
        } as const
      }
      return { dub, language, admitted } as const
    })

  const audio = Effect.gen(function* () {
    const out = yield* output("audio")
    if (out.response !== undefined) return out.response
    const kind = out.dub.contentType.startsWith("audio/") ? "audio" : "video"
    const type =
      options.outputContentType === "typed"
        ? kind === "audio"
          ? "audio/mpeg"
          : "video/mp4"
        : "application/octet-stream"
    const body = outputBody(outputBytes, kind)
    return yield* shared.after(
      out.admitted.fault,
      out.admitted.request,
      HttpServerResponse.stream(
        out.admitted.fault?.kind === "stallBody" ? Stream.concat(Stream.take(body, 1), Stream.never) : body,
        { contentType: type, contentLength: outputBytes }
      )
    )
  })

  /** Deprecated `GET …/transcript/{language}?format_type=srt|webvtt|json`: the text itself. */
  const transcriptText = Effect.gen(function* () {
    const out = yield* output("transcript")
    if (out.response !== undefined) return out.response
    const format = new URL(out.admitted.request.url, "http://simulator").searchParams.get("format_type") ?? "srt"
    if (format === "json") return HttpServerResponse.jsonUnsafe(jsonTranscript(out.language))
    if (format !== "srt" && format !== "webvtt") {
      return HttpServerResponse.jsonUnsafe(
        { detail: [{ loc: ["query", "format_type"], msg: "Input should be 'srt', 'webvtt' or 'json'", type: "enum" }] },
        { status: 422 }
      )
    }
    return HttpServerResponse.text(subtitles(out.language, format), { contentType: "text/plain" })
  })

  /** `GET …/transcripts/{language}/format/{srt|webvtt|json}`: a JSON envelope with only the asked key set. */
  const transcriptJson = Effect.gen(function* () {
    const out = yield* output("transcript")
    if (out.response !== undefined) return out.response
    const { format_type } = yield* HttpRouter.params
    if (format_type !== "srt" && format_type !== "webvtt" && format_type !== "json") {
      return HttpServerResponse.jsonUnsafe(
        { detail: [{ loc: ["path", "format_type"], msg: "Input should be 'srt', 'webvtt' or 'json'", type: "enum" }] },
        { status: 422 }
      )
    }
    return HttpServerResponse.jsonUnsafe({
      transcript_format: format_type,
      ...(format_type === "json"
        ? { json: jsonTranscript(out.language) }
        : { [format_type]: subtitles(out.language, format_type) })
    })
  })

  const jsonTranscript = (language: string) => ({
    language,
    utterances: phrases.map((text, i) => ({
      text,
      speaker_id: "speaker_0",
      start_s: i * 2.5,
      end_s: i * 2.5 + 2,
      words: []
    }))
  })

  const routes = Layer.mergeAll(
    HttpRouter.add("POST", "/v1/dubbing", create),
    HttpRouter.add("GET", "/v1/dubbing", list),
    HttpRouter.add("GET", "/v1/dubbing/:dubbing_id", get),
    HttpRouter.add("DELETE", "/v1/dubbing/:dubbing_id", remove),
    HttpRouter.add("GET", "/v1/dubbing/:dubbing_id/audio/:language_code", audio),
    HttpRouter.add("GET", "/v1/dubbing/:dubbing_id/transcript/:language_code", transcriptText),
    HttpRouter.add("GET", "/v1/dubbing/:dubbing_id/transcripts/:language_code/format/:format_type", transcriptJson)
  )

  return {
    routes,
    dubs: () => [...dubs.values()],
    billable: () => billable,
    attempts: () => new Map([...attempts].map(([k, v]) => [k, [...v]] as const)),
    failNext: (message: string) => void (pendingFailure = message),
    /** How each dub was decided to end, by id. */
    outcomes: () =>
      new Map(
        [...dubs.values()].map(
          (d) => [d.dubbingId, d.stuck ? "stuck" : d.failure !== undefined ? "failed" : "succeeded"] as const
        )
      ),
    /** Answers `to` wherever the state machine would answer `from` (an undocumented status word). */
    renameStatus: (from: string, to: string) => void renamed.set(from, to)
  }
}

export type Dubbing = ReturnType<typeof makeDubbing>
