/**
 * A faithful simulator of VoiceCheap's HTTP API (api.voicecheap.ai), served on a loopback port
 * (`layer`, `serve`) or in process (`layerInProcess`) so the real client runs end to end. It implements what VoiceCheap documents: the
 * multipart upload (streamed: it counts bytes and keeps none), validation in the documented order
 * (the form fields by the Schema in ./voicecheap/Requests.ts),
 * per-endpoint rate windows, the concurrency limit, the processing steps and percentages, lip-sync
 * sub-states, failures, another account's project (403) and unknown ones (404). Where the docs are
 * silent it says so below and makes the behaviour configurable. Faults on demand (5xx, latency,
 * dropped connections, malformed bodies) and counters let tests prove what the client did. Time is
 * read from `Clock`; rate windows, key reading and the fault machinery are shared with the HeyGen
 * simulator (./internal/).
 */

import { randomBytes } from "node:crypto"
import { Clock, Context, Effect, Layer, Result, type Scope, Stream } from "effect"
import { type HttpClient, HttpRouter, HttpServerRequest, HttpServerResponse, Multipart } from "effect/http"
import { apiKeyOf } from "./internal/auth.js"
import { makeChaos } from "./internal/chaos.js"
import { dropConnection, makeBurst, makeFaultQueue } from "./internal/faults.js"
import { inProcessClient, serveRoutes } from "./internal/loopback.js"
import { mediaResponse } from "./internal/mediaResponse.js"
import { makeRateWindows } from "./internal/rateWindows.js"
import { sampleFor } from "./SampleMedia.js"
import { decodeForm } from "./voicecheap/Requests.js"

export interface Account {
  readonly apiKey: string
  /** Free accounts get 403 SUBSCRIPTION_REQUIRED. Default true. */
  readonly subscription?: boolean | undefined
  /** Translations the account can pay for. Default unlimited. */
  readonly credits?: number | undefined
}

export interface VoiceCheapSimulatorOptions {
  /** Accounts by API key. Default: one account with the key `vc_sim_0123456789abcdef`. */
  readonly accounts?: ReadonlyArray<Account> | undefined
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number | undefined
  /** Time from upload to the end of dubbing, in ms. Default 3000. */
  readonly processingMs?: number | undefined
  /** Extra time for lip sync, in ms. Default 1000. */
  readonly lipSyncMs?: number | undefined
  /** In-progress translations per account. Documented as 10 (one page says 5). */
  readonly concurrentLimit?: number | undefined
  /**
   * Sliding rate windows per account. Documented: status 30/min, projects 10/min. The translate
   * limit is not documented; 10/min here.
   */
  readonly rateLimits?:
    | {
        readonly status?: { readonly limit: number; readonly windowMs: number } | undefined
        readonly projects?: { readonly limit: number; readonly windowMs: number } | undefined
        readonly translate?: { readonly limit: number; readonly windowMs: number } | undefined
      }
    | undefined
  /** Largest upload, bytes. Documented: 20 GB. */
  readonly maxFileBytes?: number | undefined
  /**
   * The `Retry-After` header on 429 answers, in seconds. VoiceCheap documents none, so by default
   * the simulator sends none; set it to test a client that honours one.
   */
  readonly retryAfterSeconds?: number | undefined
  /** How long output URLs stay valid. Not documented; 24 h here. */
  readonly urlTtlMs?: number | undefined
  /** Faults drawn at random for every API request, as probabilities (chaos testing). */
  readonly faultRates?: Partial<Record<Exclude<Fault["kind"], "latency">, number>> | undefined
  /** Seed for the random faults, so a chaos run can be repeated. */
  readonly seed?: number | undefined
  /** How long a `stall` fault holds the answer, ms. Default 5000. */
  readonly stallMs?: number | undefined
  /** How long a `burst429` fault answers every request with 429, ms. Default 1000. */
  readonly burstMs?: number | undefined
  /**
   * Outcomes drawn at random for every created project, as probabilities (chaos testing): `fail`
   * fails its transcription, `stuck` never finishes it, `urlNull` answers `success` without URLs for
   * its first three finished reads.
   */
  readonly jobFaultRates?: Partial<Record<"fail" | "stuck" | "urlNull", number>> | undefined
}

/** How a created project ends, as the simulator decided when it was created. */
export type ProjectOutcome = "succeeded" | "failed" | "stuck"

export type Endpoint = "translate" | "projects" | "status" | "files"

/** A fault for upcoming requests to an endpoint (all when absent). */
export interface Fault {
  readonly kind:
    | "http500"
    | "http502"
    | "http503"
    /** Process the request (a project is created and billed), then answer 500: the worst case for a retry. */
    | "http500AfterProcessing"
    /** Close the connection without answering, before doing anything. */
    | "dropBefore"
    /** Process the request (a project is created and billed), then close without answering. */
    | "dropAfter"
    /** Answer 200 with a body that is not JSON. */
    | "malformed"
    /** Wait this long before handling. */
    | "latency"
    /** Process the request, then hold the answer `stallMs`: a client's timeout fires after the work was done. */
    | "stall"
    /** Answer every request 429 RATE_LIMIT_EXCEEDED for `burstMs`, as a vendor-side rate-limit burst. */
    | "burst429"
  readonly endpoint?: Endpoint | undefined
  readonly times?: number | undefined
  readonly ms?: number | undefined
}

export interface SimulatedProject {
  readonly projectId: string
  readonly apiKey: string
  readonly projectName: string
  readonly targetLanguage: string
  readonly originalLanguage: string
  readonly createdAt: number
  readonly bytes: number
  readonly fileName: string
  readonly lipSync: "standard" | "pro" | undefined
  readonly failure: "TRANSCRIPTION_FAILED" | "LIPSYNC_FAILED" | undefined
  readonly transcriptionOnly: boolean
  /** Never finishes. */
  readonly stuck: boolean
}

export interface VoiceCheapSimulator {
  readonly baseUrl: string
  /** The first account's key. */
  readonly apiKey: string
  /** Requests received, by endpoint, including refused ones. */
  readonly requests: () => Readonly<Record<Endpoint, number>>
  readonly totalRequests: () => number
  /** Projects created (what VoiceCheap would charge for). */
  readonly billableSubmissions: () => number
  readonly projects: () => ReadonlyArray<SimulatedProject>
  /** 429s answered, by endpoint. */
  readonly rejectedByRateLimit: () => number
  readonly injectFault: (fault: Fault) => void
  /** The next created project fails this way. */
  readonly failNext: (code: "TRANSCRIPTION_FAILED" | "LIPSYNC_FAILED") => void
  /** Random faults injected so far, by kind. */
  readonly injectedFaults: () => Readonly<Record<string, number>>
  /**
   * Upload attempts that reached validation, by project name and target (`name/target`: one
   * submission for two targets sends two requests, neither a retry of the other), with their outcome.
   */
  readonly uploadAttempts: () => ReadonlyMap<
    string,
    ReadonlyArray<"server-error" | "processed" | "processed-answer-lost">
  >
  /** How each created project ends, by id. */
  readonly outcomes: () => ReadonlyMap<string, ProjectOutcome>
  /** Arrival times (epoch ms) of the API requests to an endpoint. */
  readonly requestTimes: (endpoint: Endpoint) => ReadonlyArray<number>
  /** Requests refused with 429 inside an injected `burst429`. */
  readonly refusedInBursts: () => number
}

const videoTypes = ["video/mp4", "video/quicktime", "video/x-matroska", "video/webm", "video/mpeg"]
const audioTypes = ["audio/mpeg", "audio/wav", "audio/mp4", "audio/x-m4a", "audio/flac", "audio/ogg", "audio/aac"]

const phase1Steps = ["downloading_content", "content_validation", "transcription_processing"]
const phase2Steps = ["smart_sync", "audio_enhancement", "audio_assembling", "video_upload"]

/** An injected 5xx: 502 and 503 as a gateway in front of the API would answer them, in plain text. */
const serverError = (kind: Fault["kind"]) =>
  kind === "http502" || kind === "http503"
    ? HttpServerResponse.text(kind === "http502" ? "502 Bad Gateway" : "503 Service Unavailable", {
        status: kind === "http502" ? 502 : 503
      })
    : errorBody(500, "INTERNAL_ERROR", "Internal server error")

// VoiceCheap documents HTTP 500 but no code for it: the injected 5xx answers use "INTERNAL_ERROR",
// which a client must treat like any unknown code.
const errorBody = (
  status: number,
  code: string,
  message: string,
  details?: { field: string; reason: string },
  headers?: Record<string, string>
) =>
  HttpServerResponse.jsonUnsafe(details === undefined ? { code, message } : { code, message, details }, {
    status,
    ...(headers === undefined ? {} : { headers })
  })

/** Builds the simulator's router app and state. */
export const make = Effect.fnUntraced(function* (options: VoiceCheapSimulatorOptions = {}) {
  const accounts = new Map<string, Account>()
  for (const account of options.accounts ?? [{ apiKey: "vc_sim_0123456789abcdef" }])
    accounts.set(account.apiKey, account)
  const firstKey = [...accounts.keys()][0]!
  const credits = new Map<string, number>([...accounts.values()].map((a) => [a.apiKey, a.credits ?? Infinity]))
  const processingMs = options.processingMs ?? 3000
  const lipSyncMs = options.lipSyncMs ?? 1000
  const concurrentLimit = options.concurrentLimit ?? 10
  const limits = {
    status: options.rateLimits?.status ?? { limit: 30, windowMs: 60_000 },
    projects: options.rateLimits?.projects ?? { limit: 10, windowMs: 60_000 },
    translate: options.rateLimits?.translate ?? { limit: 10, windowMs: 60_000 }
  }
  const maxFileBytes = options.maxFileBytes ?? 20 * 1024 ** 3
  const retryAfter =
    options.retryAfterSeconds === undefined ? undefined : { "retry-after": String(options.retryAfterSeconds) }
  const tooMany = (endpoint: keyof typeof limits) =>
    errorBody(
      429,
      "RATE_LIMIT_EXCEEDED",
      `Too many requests (limit: ${limits[endpoint].limit} requests per minute)`,
      undefined,
      retryAfter
    )
  const urlTtlMs = options.urlTtlMs ?? 24 * 3600 * 1000
  const stallMs = options.stallMs ?? 5000
  const burstMs = options.burstMs ?? 1000

  const projects = new Map<string, SimulatedProject>()
  const uploadAttempts = new Map<string, Array<"server-error" | "processed" | "processed-answer-lost">>()
  const counts: Record<Endpoint, number> = { translate: 0, projects: 0, status: 0, files: 0 }
  const arrivals: Record<Endpoint, Array<number>> = { translate: [], projects: [], status: [], files: [] }
  // Finished reads still to answer without URLs, by project (the `urlNull` chaos fault).
  const urlNullReads = new Map<string, number>()
  const bursts = makeBurst(burstMs)
  const windows = makeRateWindows()
  const faults = makeFaultQueue<Fault>()
  let pendingFailure: SimulatedProject["failure"]
  let billable = 0
  let rateLimited = 0
  let baseUrl = ""

  const { draw, injected } = makeChaos(options.seed)

  /** A 429 while an injected burst lasts (and the start of one, for a `burst429` fault). */
  const burst = (fault: Fault | undefined, endpoint: keyof typeof limits, now: number) => {
    if (fault?.kind === "burst429") bursts.start(now)
    return bursts.refuse(now) > 0 ? tooMany(endpoint) : undefined
  }

  const takeFault = (endpoint: Endpoint, now: number): Fault | undefined => {
    arrivals[endpoint].push(now)
    const drawn = endpoint === "files" ? undefined : draw(options.faultRates)
    if (drawn !== undefined) return { kind: drawn, endpoint }
    return faults.take((f) => f.endpoint === undefined || f.endpoint === endpoint)
  }

  /** Sliding window: the requests of this account to this endpoint in the last `windowMs`. */
  const admit = (apiKey: string, endpoint: keyof typeof limits, now: number): boolean => {
    if (windows.admit(`${apiKey}:${endpoint}`, now, limits[endpoint]) === 0) return true
    rateLimited++
    return false
  }

  const finishedAt = (p: SimulatedProject) => p.createdAt + processingMs + (p.lipSync === undefined ? 0 : lipSyncMs)
  const inProgress = (apiKey: string, now: number) =>
    [...projects.values()].filter((p) => p.apiKey === apiKey && statusOf(p, now).status === "processing").length

  const fileUrl = (p: SimulatedProject, name: string, now: number) =>
    `${baseUrl}/files/${p.projectId}/${name}?Expires=${Math.floor((now + urlTtlMs) / 1000)}`

  const statusOf = (p: SimulatedProject, now: number) => {
    const t = now - p.createdAt
    const common = {
      projectId: p.projectId,
      projectName: p.projectName,
      originalVideoUrl: `${baseUrl}/files/${p.projectId}/original?Expires=${Math.floor((now + urlTtlMs) / 1000)}`,
      originalLanguage: p.originalLanguage,
      targetLanguage: p.targetLanguage,
      duration: Math.max(1, Math.round(p.bytes / 250_000)),
      createdAt: p.createdAt
    }
    const phase1 = processingMs * 0.4
    if (p.failure === "TRANSCRIPTION_FAILED" && t >= phase1 * 0.75) {
      return {
        ...common,
        status: "failed",
        error: {
          code: "TRANSCRIPTION_FAILED",
          message: "Could not transcribe the audio. Please ensure the audio quality is sufficient."
        }
      }
    }
    if (t < phase1) {
      const progress = Math.floor((t / phase1) * 100)
      return {
        ...common,
        status: "processing",
        actualProgressStep: phase1Steps[Math.min(2, Math.floor((t / phase1) * 3))],
        translationAndTranscriptionProgress: progress,
        ...lipSyncField(p, "PENDING")
      }
    }
    if (t < processingMs || p.transcriptionOnly || p.stuck) {
      if (p.transcriptionOnly && t >= phase1) return { ...common, status: "success" }
      // A stuck project stays at its last dubbing step.
      const fraction = Math.min(0.99, (t - phase1) / (processingMs - phase1))
      const step = phase2Steps[Math.min(3, Math.floor(fraction * 4))]
      return {
        ...common,
        status: "processing",
        actualProgressStep: step,
        translationAndTranscriptionProgress: 100,
        dubbingStep: step,
        dubbingProgress: Math.floor(fraction * 100),
        ...lipSyncField(p, "PENDING")
      }
    }
    if (p.lipSync !== undefined && t < finishedAt(p) - p.createdAt) {
      const into = t - processingMs
      if (p.failure === "LIPSYNC_FAILED" && into >= lipSyncMs / 2) {
        return {
          ...common,
          status: "failed",
          translatedVideoUrl: fileUrl(p, "translated.mp4", now),
          translatedAudioUrl: fileUrl(p, "translated.mp3", now),
          error: { code: "LIPSYNC_FAILED", message: "Lip sync failed for this video." },
          ...lipSyncField(p, "FAILED", undefined, "Lip sync failed for this video.")
        }
      }
      return {
        ...common,
        status: "processing",
        actualProgressStep: "video_upload",
        translationAndTranscriptionProgress: 100,
        dubbingStep: "video_upload",
        dubbingProgress: 100,
        ...lipSyncField(p, into < lipSyncMs * 0.2 ? "PENDING" : "PROCESSING")
      }
    }
    const nullReads = urlNullReads.get(p.projectId) ?? 0
    if (nullReads > 0) {
      // Docs are silent on whether `success` can come before the URLs; the chaos fault assumes it can.
      urlNullReads.set(p.projectId, nullReads - 1)
      return { ...common, status: "success", translatedVideoUrl: null, translatedAudioUrl: null }
    }
    return {
      ...common,
      status: "success",
      translatedVideoUrl: fileUrl(p, "translated.mp4", now),
      translatedAudioUrl: fileUrl(p, "translated.mp3", now),
      ...lipSyncField(p, "COMPLETED", fileUrl(p, "lipsync.mp4", now))
    }
  }

  const lipSyncField = (p: SimulatedProject, status: string, videoUrl?: string, errorMessage?: string) =>
    p.lipSync === undefined
      ? {}
      : {
          lipSync: {
            jobId: `ls_${p.projectId}`,
            status,
            videoUrl: videoUrl ?? null,
            errorMessage: errorMessage ?? null,
            type: p.lipSync
          }
        }

  const drain = (request: HttpServerRequest.HttpServerRequest) => Stream.runDrain(request.stream).pipe(Effect.ignore)

  const authenticate = (request: HttpServerRequest.HttpServerRequest) => {
    // VoiceCheap documents `x-api-key` only.
    const key = apiKeyOf(request, { bearer: false })
    if (key === undefined) return { error: errorBody(401, "MISSING_API_KEY", "API key is required") }
    const account = accounts.get(key)
    if (account === undefined) {
      return {
        error: errorBody(
          401,
          "INVALID_API_KEY",
          "The provided API key is invalid. Please check your API key and try again."
        )
      }
    }
    if (account.subscription === false) {
      return {
        error: errorBody(
          403,
          "SUBSCRIPTION_REQUIRED",
          "API access requires an active paid subscription. Please upgrade your plan."
        )
      }
    }
    return { account }
  }

  const upload = (endpoint: "translate" | "projects") =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      counts[endpoint]++
      const fault = takeFault(endpoint, yield* Clock.currentTimeMillis)
      if (fault?.kind === "latency") yield* Effect.sleep(fault.ms ?? 1000)
      if (fault?.kind === "dropBefore") return yield* dropConnection(request)
      const auth = authenticate(request)
      if (auth.error !== undefined) {
        yield* drain(request)
        return auth.error
      }
      const account = auth.account
      const refused = burst(fault, endpoint, yield* Clock.currentTimeMillis)
      if (refused !== undefined) {
        yield* drain(request)
        return refused
      }
      if (!admit(account.apiKey, endpoint, yield* Clock.currentTimeMillis)) {
        yield* drain(request)
        return tooMany(endpoint)
      }
      const contentType = request.headers["content-type"] ?? ""
      if (!contentType.startsWith("multipart/form-data")) {
        yield* drain(request)
        return errorBody(400, "FILE_REQUIRED", "A video or audio file is required. Please upload a file.")
      }
      // Read the form as it streams: fields are kept, the file is counted and dropped.
      const fields = new Map<string, string>()
      let file: { name: string; type: string; bytes: number } | undefined
      const parsed = yield* request.multipartStream.pipe(
        Stream.runForEach((part) => {
          if (part._tag === "Field") return Effect.sync(() => void fields.set(part.key, part.value))
          if (part.key !== "file" || file !== undefined) return Stream.runDrain(part.content)
          const current = { name: part.name, type: part.contentType, bytes: 0 }
          file = current
          return Stream.runForEach(part.content, (chunk) => Effect.sync(() => void (current.bytes += chunk.byteLength)))
        }),
        Effect.result
      )
      if (parsed._tag === "Failure") {
        return errorBody(400, "VALIDATION_ERROR", "Invalid request parameters", {
          field: "file",
          reason: `The multipart body could not be read: ${Multipart.isMultipartError(parsed.failure) ? parsed.failure.message : "malformed"}`
        })
      }
      if (file === undefined)
        return errorBody(400, "FILE_REQUIRED", "A video or audio file is required. Please upload a file.")
      const uploaded: { name: string; type: string; bytes: number } = file
      if (!videoTypes.includes(uploaded.type) && !audioTypes.includes(uploaded.type)) {
        return errorBody(
          400,
          "INVALID_FILE_TYPE",
          "Invalid file type. Supported formats: MP4, MOV, MKV, WebM, MPEG, MP3, WAV, M4A, FLAC, OGG, AAC"
        )
      }
      if (uploaded.bytes > maxFileBytes)
        return errorBody(400, "FILE_TOO_LARGE", "The file exceeds the maximum size of 20 GB")
      if (uploaded.bytes === 0)
        return errorBody(400, "DURATION_DETECTION_FAILED", "Could not detect the media duration")
      // Every upload attempt, by project name and target, with what became of it: the chaos suite
      // reads this to prove no upload was sent again after it may have been processed.
      const name = `${fields.get("projectName") ?? ""}/${fields.get("targetLanguage") ?? ""}`
      const attempts = uploadAttempts.get(name) ?? []
      uploadAttempts.set(name, attempts)
      if (fault?.kind === "http500" || fault?.kind === "http502" || fault?.kind === "http503") {
        attempts.push("server-error")
        return serverError(fault.kind)
      }
      const form = decodeForm(fields)
      if (Result.isFailure(form)) {
        const { code, details, message } = form.failure
        return errorBody(400, code, message, details)
      }
      const { lipsyncPro, originalLanguage, projectName, targetLanguage } = form.success
      const left = credits.get(account.apiKey) ?? 0
      if (left < 1) {
        return errorBody(
          403,
          "INSUFFICIENT_CREDITS",
          "Insufficient credits to process this file. Please add more credits to your account."
        )
      }
      const now = yield* Clock.currentTimeMillis
      if (inProgress(account.apiKey, now) >= concurrentLimit) {
        return errorBody(
          429,
          "CONCURRENT_TRANSLATION_LIMIT_REACHED",
          `You can run up to ${concurrentLimit} translations at the same time. Wait for one to finish.`,
          undefined,
          retryAfter
        )
      }
      credits.set(account.apiKey, left - 1)
      billable++
      const projectId = `${randomBytes(4).toString("hex")}-${randomBytes(4).toString("hex")}-${randomBytes(4).toString("hex")}`
      const lipsync = lipsyncPro === true && endpoint === "translate" ? "pro" : undefined
      const chaos = pendingFailure === undefined ? draw(options.jobFaultRates, "job:") : undefined
      if (chaos === "urlNull") urlNullReads.set(projectId, 3)
      const project: SimulatedProject = {
        projectId,
        apiKey: account.apiKey,
        projectName: projectName || projectId,
        targetLanguage,
        originalLanguage: originalLanguage || "en",
        createdAt: now,
        bytes: uploaded.bytes,
        fileName: uploaded.name,
        lipSync: lipsync,
        failure: chaos === "fail" ? "TRANSCRIPTION_FAILED" : pendingFailure,
        transcriptionOnly: endpoint === "projects",
        stuck: chaos === "stuck"
      }
      pendingFailure = undefined
      projects.set(projectId, project)
      const answerLost = fault?.kind === "dropAfter" || fault?.kind === "http500AfterProcessing"
      attempts.push(answerLost ? "processed-answer-lost" : "processed")
      if (fault?.kind === "dropAfter") return yield* dropConnection(request)
      if (fault?.kind === "http500AfterProcessing") return serverError(fault.kind)
      if (fault?.kind === "malformed")
        return HttpServerResponse.text('{"success": true, "projectId": ', { status: 200 })
      if (fault?.kind === "stall") yield* Effect.sleep(stallMs)
      return HttpServerResponse.jsonUnsafe({
        success: true,
        message: endpoint === "translate" ? "Translation started successfully" : "Project created successfully",
        projectId,
        estimatedDuration: Math.ceil(processingMs / 1000)
      })
    })

  const status = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    counts.status++
    const fault = takeFault("status", yield* Clock.currentTimeMillis)
    if (fault?.kind === "latency") yield* Effect.sleep(fault.ms ?? 1000)
    if (fault?.kind === "dropBefore" || fault?.kind === "dropAfter") return yield* dropConnection(request)
    if (
      fault?.kind === "http500" ||
      fault?.kind === "http502" ||
      fault?.kind === "http503" ||
      fault?.kind === "http500AfterProcessing"
    ) {
      return serverError(fault.kind)
    }
    const auth = authenticate(request)
    if (auth.error !== undefined) return auth.error
    const refused = burst(fault, "status", yield* Clock.currentTimeMillis)
    if (refused !== undefined) return refused
    if (!admit(auth.account.apiKey, "status", yield* Clock.currentTimeMillis)) return tooMany("status")
    const { projectId } = yield* HttpRouter.params
    const project = projectId === undefined ? undefined : projects.get(projectId)
    if (project === undefined) return errorBody(404, "PROJECT_NOT_FOUND", "The specified project does not exist")
    if (project.apiKey !== auth.account.apiKey)
      return errorBody(403, "FORBIDDEN", "You don't have access to this project")
    if (fault?.kind === "malformed") return HttpServerResponse.text("<html>502 Bad Gateway</html>", { status: 200 })
    const answer = statusOf(project, yield* Clock.currentTimeMillis)
    if (fault?.kind === "stall") yield* Effect.sleep(stallMs)
    return HttpServerResponse.jsonUnsafe(answer)
  })

  // Output files: small stand-ins served by the simulator itself, valid until `Expires`.
  const files = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    counts.files++
    const { name, projectId } = yield* HttpRouter.params
    const project = projectId === undefined ? undefined : projects.get(projectId)
    const expires = Number(new URL(request.url, "http://x").searchParams.get("Expires"))
    if (project === undefined) return HttpServerResponse.text("Not Found", { status: 404 })
    if (!Number.isFinite(expires) || expires * 1000 < (yield* Clock.currentTimeMillis)) {
      return HttpServerResponse.text("Request has expired", { status: 403 })
    }
    // Real media, so a download or a browser can play what a project produced.
    const type = name?.endsWith(".mp3") ? "audio/mpeg" : "video/mp4"
    return mediaResponse(sampleFor(type), type, request.headers.range)
  })

  const routes = Layer.mergeAll(
    HttpRouter.add("POST", "/v1/translate", upload("translate")),
    HttpRouter.add("POST", "/v1/projects", upload("projects")),
    HttpRouter.add("GET", "/v1/translate/:projectId/status", status),
    HttpRouter.add("GET", "/files/:projectId/:name", files)
  )

  const control = {
    requests: () => ({ ...counts }),
    totalRequests: () => counts.translate + counts.projects + counts.status,
    billableSubmissions: () => billable,
    projects: () => [...projects.values()],
    rejectedByRateLimit: () => rateLimited,
    injectFault: (fault: Fault) => faults.push(fault),
    failNext: (code: "TRANSCRIPTION_FAILED" | "LIPSYNC_FAILED") => void (pendingFailure = code),
    injectedFaults: () => ({ ...injected }),
    uploadAttempts: () => new Map([...uploadAttempts].map(([k, v]) => [k, [...v]] as const)),
    outcomes: () =>
      new Map(
        [...projects.values()].map(
          (p) => [p.projectId, p.stuck ? "stuck" : p.failure !== undefined ? "failed" : "succeeded"] as const
        )
      ),
    requestTimes: (endpoint: Endpoint) => [...arrivals[endpoint]],
    refusedInBursts: bursts.refused
  }
  return {
    routes,
    control,
    firstKey,
    setBaseUrl: (url: string) => void (baseUrl = url)
  }
})

/** Serves the simulator on 127.0.0.1 for the life of the scope. */
export const serve = (
  options: VoiceCheapSimulatorOptions = {}
): Effect.Effect<VoiceCheapSimulator, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sim = yield* make(options)
    // The base URL is known only once the server listens; requests cannot arrive before it is set.
    const baseUrl = yield* serveRoutes(sim.routes, options.port)
    sim.setBaseUrl(baseUrl)
    return { baseUrl, apiKey: sim.firstKey, ...sim.control }
  })

/** The simulator as a service, for layers. */
export class Simulator extends Context.Service<Simulator, VoiceCheapSimulator>()(
  "@polydub/testing/VoiceCheapSimulator"
) {}

/** Serves the simulator for the life of the layer. */
export const layer = (options: VoiceCheapSimulatorOptions = {}): Layer.Layer<Simulator> =>
  Layer.effect(Simulator, serve(options))

/**
 * The simulator in process, without a socket: an `HttpClient` whose requests go straight to the
 * simulator's router (its URLs, files included, live under `http://voicecheap.simulator.invalid`).
 * Requests run with the services of the fiber that built the layer, its `Clock` included, so under
 * `it.effect` projects advance only with `TestClock.adjust`.
 */
export const layerInProcess = (
  options: VoiceCheapSimulatorOptions = {}
): Layer.Layer<Simulator | HttpClient.HttpClient> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const sim = yield* make(options)
      const baseUrl = "http://voicecheap.simulator.invalid"
      sim.setBaseUrl(baseUrl)
      return Layer.mergeAll(
        Layer.succeed(Simulator, { baseUrl, apiKey: sim.firstKey, ...sim.control }),
        yield* inProcessClient(sim.routes)
      )
    })
  )
