/**
 * A faithful simulator of HeyGen's video-translation API, v3 and legacy v2, served on a loopback
 * port (`layer`, `serve`) or in process (`layerInProcess`) so the real client runs end to end. It validates requests as strictly as HeyGen's published
 * schemas (unknown fields and wrong types are 400 `invalid_parameter` with `param`), authenticates,
 * answers 402/404/409/413/429 as documented, replays idempotent requests for 24 hours, runs job
 * lifecycles on configurable durations, extracts proofread SRTs it serves itself at expiring
 * presigned-style URLs, calls `callback_url`s with signed events, and injects faults on demand.
 * Where HeyGen's docs are silent the behaviour is marked so and made configurable.
 */

import { createHmac, randomBytes } from "node:crypto"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Context, Effect, Layer, type Scope, Stream } from "effect"
import {
  FetchHttpClient,
  type HttpClient,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "effect/http"
import { makeChaos } from "./internal/chaos.js"
import { serveRoutes } from "./internal/loopback.js"

export interface HeyGenSimulatorOptions {
  /** Accepted API keys. Default one: `hg_sim_0123456789abcdef`. */
  readonly apiKeys?: ReadonlyArray<string> | undefined
  readonly port?: number | undefined
  /** Time `pending` before `running`, ms. Default 100. */
  readonly queuedMs?: number | undefined
  /** Time `running` before the result, ms. Default 600. */
  readonly runningMs?: number | undefined
  /** Proofread extraction time, ms. Default 400. */
  readonly proofreadMs?: number | undefined
  /** Jobs running at once per key (Pay-As-You-Go: 10). */
  readonly concurrentJobs?: number | undefined
  /** Requests per sliding window per key. Not published by HeyGen; generous by default. */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number } | undefined
  /** Jobs each key can pay for; default unlimited. */
  readonly credits?: number | undefined
  /** Secret used to sign callbacks (`Signature: hex(hmac_sha256(secret, body))`). */
  readonly webhookSecret?: string | undefined
  /** Header carrying the signature. Default `Signature`. */
  readonly signatureHeader?: string | undefined
  /** Language names served and accepted; default `defaultLanguages`. */
  readonly languages?: ReadonlyArray<string> | undefined
  /** How long an idempotency key is remembered, ms. HeyGen documents 24 hours, the default. */
  readonly idempotencyTtlMs?: number | undefined
  /** Presigned URL lifetime, ms. v2 documents 7 days; default 7 days. */
  readonly urlTtlMs?: number | undefined
  /** Faults drawn at random for every API request, as probabilities (chaos testing). */
  readonly faultRates?: Partial<Record<Exclude<FaultKind, "latency">, number>> | undefined
  /** Seed for the random faults, so a chaos run can be repeated. */
  readonly seed?: number | undefined
  /** How long a `stall` fault holds the answer to a processed request, ms. Default 5000. */
  readonly stallMs?: number | undefined
  /** How long a `burst429` fault answers every request with 429, ms. Default 1000. */
  readonly burstMs?: number | undefined
  /**
   * Outcomes drawn at random for every created translation, as probabilities (chaos testing):
   * `fail` fails it, `stuck` never finishes it, `urlNull` answers `completed` with a null URL for
   * its first three completed reads.
   */
  readonly jobFaultRates?: Partial<Record<JobFaultKind, number>> | undefined
  /**
   * Faults drawn for every webhook delivery: `duplicate` sends it twice, `delay` holds it up to
   * `webhookDelayMs` longer, so deliveries arrive out of order and after polls have seen the result.
   */
  readonly webhookFaultRates?: Partial<Record<"duplicate" | "delay", number>> | undefined
  /** The longest extra hold of a delayed webhook, ms. Default 2000. */
  readonly webhookDelayMs?: number | undefined
}

/** What a job-level chaos fault does to a created translation. */
export type JobFaultKind = "fail" | "stuck" | "urlNull"

/** How a created translation ends, as the simulator decided when it was created. */
export type JobOutcome = "succeeded" | "failed" | "stuck"

/**
 * `http500`, `http502`, `dropBefore`: refused before any processing. `http500After`, `dropAfter`: the
 * request is processed (and billed), then the answer is an error or is lost, as after a gateway
 * timeout. `malformed`: a 200 whose body is cut short. `errorInOk` (v2 routes): a 200 whose envelope
 * has `error` set and `data` null, the v2 quirk of reference §8.7. `latency`: waits `ms` first.
 * `stall`: the request is processed, then the answer is held `stallMs`, as when a client's timeout
 * fires after the vendor accepted the request. `burst429`: every request is refused with 429 and a
 * `Retry-After` for `burstMs`, as during a vendor-side rate-limit burst.
 */
export type FaultKind =
  | "http500"
  | "http500After"
  | "http502"
  | "dropBefore"
  | "dropAfter"
  | "malformed"
  | "errorInOk"
  | "latency"
  | "stall"
  | "burst429"

/** A fault for upcoming requests whose path starts with `pathPrefix` (all when absent). */
export interface Fault {
  readonly kind: FaultKind
  readonly method?: string | undefined
  readonly pathPrefix?: string | undefined
  readonly times?: number | undefined
  readonly ms?: number | undefined
}

interface SimJob {
  readonly id: string
  readonly kind: "translation" | "proofread"
  readonly version: "v2" | "v3"
  readonly apiKey: string
  readonly language: string
  readonly title: string
  readonly createdAt: number
  readonly captions: boolean
  readonly audioOnly: boolean
  readonly callbackUrl: string | undefined
  readonly callbackId: string | undefined
  /** Set for a failure: the message HeyGen would give. */
  readonly failure: string | undefined
  readonly stuck: boolean
  /** Reads that still see `completed` with a null URL. */
  urlNullReads: number
  deleted: boolean
  title2?: string
  srt: string
  readonly originalSrt: string
}

export interface HeyGenSimulator {
  readonly baseUrl: string
  readonly apiKey: string
  /** Requests received (all routes but served files). */
  readonly requests: () => number
  /** Jobs created: translations, proofreads and generated renders — what HeyGen would bill. */
  readonly billableSubmissions: () => number
  /** Requests answered from the idempotency store. */
  readonly replays: () => number
  /** Requests answered 409 `request_in_progress` (their key was still in flight). */
  readonly conflicts: () => number
  readonly rejectedByRateLimit: () => number
  readonly injectFault: (fault: Fault) => void
  /** The next created job fails this way (e.g. the audio-missing failure HeyGen reports after ~30 s). */
  readonly failNext: (message: string) => void
  /** The next created job never finishes. */
  readonly stuckNext: () => void
  /** The next completed translation answers `completed` with a null URL for this many reads. */
  readonly urlNullNext: (reads: number) => void
  /** Callbacks delivered (URL, event type, status answered). */
  readonly callbacks: () => ReadonlyArray<{ readonly url: string; readonly eventType: string; readonly status: number }>
  /** The current SRT of a proofread. */
  readonly proofreadSrt: (id: string) => string | undefined
  /** Random faults injected so far, by kind. */
  readonly injectedFaults: () => Readonly<Record<string, number>>
  /** Translations created per title: more than one for a title is a double billing when titles are unique. */
  readonly jobsByTitle: () => ReadonlyMap<string, number>
  /** How each created translation ends, by id. */
  readonly outcomes: () => ReadonlyMap<string, JobOutcome>
  /** Arrival times (epoch ms) of every API request, served files excepted. */
  readonly requestTimes: () => ReadonlyArray<number>
  /** Requests refused with 429 inside an injected `burst429`. */
  readonly refusedInBursts: () => number
  /** v3 mutations received without an `Idempotency-Key` (each one a request a retry could bill twice). */
  readonly unkeyedMutations: () => number
}

/**
 * The names \`GET /v3/video-translations/languages\` answers. HeyGen's full list is not in the sources;
 * this reconstruction holds the documented names (reference §2, §3) and the same "Language (Region)"
 * pattern for the rest. Configurable with \`languages\`.
 */
export const defaultLanguages: ReadonlyArray<string> = [
  "English",
  "English (United States)",
  "English (UK)",
  "English (Australia)",
  "English (India)",
  "Spanish",
  "Spanish (Spain)",
  "Spanish (Mexico)",
  "French",
  "French (France)",
  "French (Canada)",
  "German",
  "German (Germany)",
  "Italian",
  "Portuguese",
  "Portuguese (Brazil)",
  "Portuguese (Portugal)",
  "Dutch",
  "Polish",
  "Russian",
  "Ukrainian",
  "Turkish",
  "Arabic",
  "Arabic (Saudi Arabia)",
  "Hebrew",
  "Hindi",
  "Hindi (India)",
  "Bengali",
  "Urdu",
  "Urdu (Pakistan)",
  "Tamil",
  "Indonesian",
  "Malay",
  "Thai",
  "Vietnamese",
  "Filipino",
  "Japanese",
  "Japanese (Japan)",
  "Korean",
  "Korean (Korea)",
  "Chinese (Mandarin, Simplified)",
  "Chinese (Taiwanese Mandarin, Traditional)",
  "Chinese (Cantonese, Traditional)",
  "Swedish",
  "Danish",
  "Norwegian",
  "Finnish",
  "Czech",
  "Slovak",
  "Hungarian",
  "Romanian",
  "Bulgarian",
  "Greek",
  "Croatian",
  "Afrikaans (South Africa)",
  "Albanian (Albania)",
  "Amharic (Ethiopia)",
  "Arabic (Algeria)",
  "Arabic (Bahrain)",
  "Arabic (Egypt)",
  "Arabic (Iraq)",
  "Arabic (Jordan)",
  "Arabic (Kuwait)",
  "Arabic (Lebanon)",
  "Arabic (Libya)",
  "Arabic (Morocco)",
  "Arabic (Oman)",
  "Arabic (Qatar)",
  "Arabic (Syria)",
  "Arabic (Tunisia)",
  "Arabic (United Arab Emirates)",
  "Arabic (Yemen)",
  "Armenian (Armenia)",
  "Azerbaijani (Latin, Azerbaijan)",
  "Bangla (Bangladesh)",
  "Basque",
  "Bengali (India)",
  "Bosnian (Bosnia and Herzegovina)",
  "Bulgarian (Bulgaria)",
  "Burmese (Myanmar)",
  "Catalan",
  "Croatian (Croatia)",
  "Czech (Czechia)",
  "Danish (Denmark)",
  "Dutch (Belgium)",
  "Dutch (Netherlands)",
  "English (Canada)",
  "English (Hong Kong SAR)",
  "English (Ireland)",
  "English (Kenya)",
  "English (New Zealand)",
  "English (Nigeria)",
  "English (Philippines)",
  "English (Singapore)",
  "English (South Africa)",
  "English (Tanzania)",
  "Estonian (Estonia)",
  "Filipino (Philippines)",
  "Finnish (Finland)",
  "French (Belgium)",
  "French (Switzerland)",
  "Galician",
  "Georgian (Georgia)",
  "German (Austria)",
  "German (Switzerland)",
  "Greek (Greece)",
  "Gujarati (India)",
  "Hebrew (Israel)",
  "Hungarian (Hungary)",
  "Icelandic (Iceland)",
  "Indonesian (Indonesia)",
  "Irish (Ireland)",
  "Italian (Italy)",
  "Javanese (Latin, Indonesia)",
  "Kannada (India)",
  "Kazakh (Kazakhstan)",
  "Khmer (Cambodia)",
  "Lao (Laos)",
  "Latvian (Latvia)",
  "Lithuanian (Lithuania)",
  "Macedonian (North Macedonia)",
  "Malay (Malaysia)",
  "Malayalam (India)",
  "Maltese (Malta)",
  "Marathi (India)",
  "Mongolian (Mongolia)",
  "Nepali (Nepal)",
  "Norwegian Bokmål (Norway)",
  "Pashto (Afghanistan)",
  "Persian (Iran)",
  "Polish (Poland)",
  "Romanian (Romania)",
  "Russian (Russia)",
  "Serbian (Latin, Serbia)",
  "Sinhala (Sri Lanka)",
  "Slovak (Slovakia)",
  "Slovenian (Slovenia)",
  "Somali (Somalia)",
  "Spanish (Argentina)",
  "Spanish (Bolivia)",
  "Spanish (Chile)",
  "Spanish (Colombia)",
  "Spanish (Costa Rica)",
  "Spanish (Cuba)",
  "Spanish (Dominican Republic)",
  "Spanish (Ecuador)",
  "Spanish (El Salvador)",
  "Spanish (Equatorial Guinea)",
  "Spanish (Guatemala)",
  "Spanish (Honduras)",
  "Spanish (Nicaragua)",
  "Spanish (Panama)",
  "Spanish (Paraguay)",
  "Spanish (Peru)",
  "Spanish (Puerto Rico)",
  "Spanish (United States)",
  "Spanish (Uruguay)",
  "Spanish (Venezuela)",
  "Sundanese (Indonesia)",
  "Swahili (Kenya)",
  "Swahili (Tanzania)",
  "Swedish (Sweden)",
  "Tamil (India)",
  "Tamil (Malaysia)",
  "Tamil (Singapore)",
  "Tamil (Sri Lanka)",
  "Telugu (India)",
  "Thai (Thailand)",
  "Turkish (Türkiye)",
  "Ukrainian (Ukraine)",
  "Urdu (India)",
  "Uzbek (Latin, Uzbekistan)",
  "Vietnamese (Vietnam)",
  "Welsh (United Kingdom)",
  "Zulu (South Africa)"
]

const idPattern = /^[A-Za-z0-9_\-:.]{1,255}$/

const dropMarker = "x-polydub-simulator-drop"

const codes: Record<string, string> = {
  english: "en",
  spanish: "es",
  french: "fr",
  german: "de",
  italian: "it",
  portuguese: "pt",
  dutch: "nl",
  polish: "pl",
  japanese: "ja",
  korean: "ko",
  chinese: "zh",
  hindi: "hi",
  arabic: "ar",
  turkish: "tr",
  urdu: "ur",
  russian: "ru"
}
const regions: Record<string, string> = {
  "united states": "US",
  uk: "GB",
  spain: "ES",
  mexico: "MX",
  france: "FR",
  canada: "CA",
  germany: "DE",
  brazil: "BR",
  japan: "JP",
  pakistan: "PK"
}

/** The code HeyGen appends to ids: the language, and the region where the name has one. */
const codeOf = (name: string): string => {
  const match = /^([^(]+?)\s*(?:\(([^)]*)\))?$/.exec(name.trim())
  const base = codes[(match?.[1] ?? name).toLowerCase()] ?? name.slice(0, 2).toLowerCase()
  const region = match?.[2] === undefined ? undefined : regions[match[2].toLowerCase()]
  return region === undefined ? base : `${base}-${region}`
}

const sampleCues = [
  "Welcome to the quarterly update.",
  "This quarter we shipped three new features.",
  "Thank you for watching, see you next time."
]

const makeSrt = (language: string) =>
  sampleCues
    .map((line, i) => {
      const t = (ms: number) =>
        `00:00:${String(Math.floor(ms / 1000)).padStart(2, "0")},${String(ms % 1000).padStart(3, "0")}`
      return `${i + 1}\n${t(i * 3000)} --> ${t(i * 3000 + 2500)}\n[${language}] ${line}\n`
    })
    .join("\n")

type Body = Record<string, unknown>

/** A field check: returns an error message, or undefined when the value is fine. */
type Check = (value: unknown) => string | undefined

const isStr: Check = (v) => (typeof v === "string" ? undefined : "must be a string")
const isBool: Check = (v) => (typeof v === "boolean" ? undefined : "must be a boolean")
const isInt: Check = (v) => (Number.isInteger(v) ? undefined : "must be an integer")
const isNum: Check = (v) => (typeof v === "number" && Number.isFinite(v) ? undefined : "must be a number")
const nullable =
  (c: Check): Check =>
  (v) =>
    v === null ? undefined : c(v)
const oneOf =
  (...values: ReadonlyArray<string>): Check =>
  (v) =>
    typeof v === "string" && values.includes(v) ? undefined : `must be one of ${values.join(", ")}`
const asset: Check = (v) => {
  if (typeof v !== "object" || v === null) return "must be {type:'url', url} or {type:'asset_id', asset_id}"
  const o = v as Body
  const keys = Object.keys(o).sort().join(",")
  if (o.type === "url" && typeof o.url === "string" && keys === "type,url") return undefined
  if (o.type === "asset_id" && typeof o.asset_id === "string" && keys === "asset_id,type") return undefined
  return "must be {type:'url', url} or {type:'asset_id', asset_id}"
}
const strArray =
  (min: number): Check =>
  (v) =>
    Array.isArray(v) && v.length >= min && v.every((x) => typeof x === "string")
      ? undefined
      : `must be an array of at least ${min} strings`

/** Checks a JSON body against a field table: unknown fields and wrong types are refused. */
const validate = (body: unknown, fields: Record<string, Check>, required: ReadonlyArray<string>) => {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { param: "body", message: "The request body must be a JSON object." }
  for (const name of required) {
    if (!(name in body)) return { param: name, message: `'${name}' is required.` }
  }
  for (const [name, value] of Object.entries(body)) {
    const check = fields[name]
    if (check === undefined) return { param: name, message: `'${name}' is not a recognised field.` }
    const problem = check(value)
    if (problem !== undefined) return { param: name, message: `'${name}' ${problem}.` }
  }
  return undefined
}

const createTranslationFields: Record<string, Check> = {
  video: asset,
  output_languages: strArray(1),
  title: isStr,
  audio: asset,
  input_language: isStr,
  translate_audio_only: isBool,
  speaker_num: nullable(isInt),
  mode: oneOf("speed", "precision"),
  callback_url: isStr,
  callback_id: isStr,
  enable_caption: isBool,
  keep_the_same_format: isBool,
  enable_dynamic_duration: isBool,
  disable_music_track: isBool,
  enable_speech_enhancement: isBool,
  enable_watermark: isBool,
  start_time: isNum,
  end_time: isNum,
  brand_glossary_id: nullable(isStr),
  brand_voice_id: nullable(isStr),
  srt: asset,
  srt_role: oneOf("input", "output"),
  fps_mode: oneOf("vfr", "cfr", "passthrough"),
  folder_id: nullable(isStr),
  stock_voice_config: (v) => (typeof v === "object" && v !== null ? undefined : "must be an object")
}

// Seed 002: CreateProofreadRequest, additionalProperties false.
const createProofreadFields: Record<string, Check> = {
  video: asset,
  output_languages: strArray(1),
  title: isStr,
  brand_voice_id: nullable(isStr),
  brand_glossary_id: nullable(isStr),
  speaker_num: nullable(isInt),
  folder_id: nullable(isStr),
  enable_video_stretching: isBool,
  disable_music_track: isBool,
  enable_speech_enhancement: isBool,
  srt: nullable(asset),
  mode: oneOf("speed", "precision"),
  keep_the_same_format: isBool
}

// Seed 003: GenerateVideoRequest, additionalProperties false.
const generateFields: Record<string, Check> = {
  captions: isBool,
  translate_audio_only: isBool,
  callback_id: nullable(isStr),
  callback_url: nullable(isStr)
}

const v2CreateFields: Record<string, Check> = {
  video_url: isStr,
  title: isStr,
  output_language: isStr,
  output_languages: strArray(1),
  translate_audio_only: isBool,
  speaker_num: isInt,
  callback_id: isStr,
  callback_url: isStr,
  brand_voice_id: isStr,
  enable_dynamic_duration: isBool,
  keep_the_same_format: isBool,
  mode: oneOf("fast", "quality"),
  enable_caption: isBool
}

const v2ProofreadFields: Record<string, Check> = {
  video_url: isStr,
  title: isStr,
  output_language: isStr,
  output_languages: strArray(1),
  brand_voice_id: isStr,
  speaker_num: isInt,
  folder_id: isStr,
  enable_video_stretching: isBool,
  disable_music_track: isBool,
  enable_speech_enhancement: isBool
}

const v3Error = (
  status: number,
  code: string,
  message: string,
  param: string | null = null,
  headers?: Record<string, string>
) =>
  HttpServerResponse.jsonUnsafe(
    { error: { code, message, param, doc_url: null } },
    { status, ...(headers ? { headers } : {}) }
  )

const v2Error = (status: number, code: number, message: string) =>
  HttpServerResponse.jsonUnsafe({ code, message, error: message, data: null }, { status })

/** Builds the simulator's routes and state. */
export const make = Effect.fnUntraced(function* (options: HeyGenSimulatorOptions = {}) {
  const keys = new Set(options.apiKeys ?? ["hg_sim_0123456789abcdef"])
  const firstKey = [...keys][0]!
  const queuedMs = options.queuedMs ?? 100
  const runningMs = options.runningMs ?? 600
  const proofreadMs = options.proofreadMs ?? 400
  const concurrent = options.concurrentJobs ?? 10
  const rate = options.rateLimit ?? { limit: 10_000, windowMs: 60_000 }
  const urlTtlMs = options.urlTtlMs ?? 7 * 24 * 3600 * 1000
  const idempotencyTtlMs = options.idempotencyTtlMs ?? 24 * 3600 * 1000
  const secret = options.webhookSecret ?? "whsec_simulator_secret"
  const signatureHeader = options.signatureHeader ?? "Signature"
  const stallMs = options.stallMs ?? 5000
  const burstMs = options.burstMs ?? 1000
  const webhookDelayMs = options.webhookDelayMs ?? 2000
  const credits = new Map<string, number>([...keys].map((k) => [k, options.credits ?? Infinity]))

  const jobs = new Map<string, SimJob>()
  const assets = new Map<string, { bytes: number; mime: string; text: string | undefined; complete: boolean }>()
  const idempotency = new Map<
    string,
    { state: "inflight" } | { state: "done"; status: number; body: string; at: number }
  >()
  const windows = new Map<string, Array<number>>()
  const faults: Array<{ fault: Fault; left: number }> = []
  const callbacks: Array<{ url: string; eventType: string; status: number }> = []
  const endpoints = new Map<
    string,
    { id: string; apiKey: string; url: string; events: ReadonlyArray<string> | null; secret: string; createdAt: string }
  >()
  const history: Array<{ apiKey: string; event_id: string; event_type: string; event_data: Body; created_at: string }> =
    []
  const batches = new Map<
    string,
    {
      apiKey: string
      title: string | null
      createdAt: number
      items: Array<{ item_index: number; video_id?: string; error?: Body }>
    }
  >()
  let requests = 0
  const requestTimes: Array<number> = []
  let burstUntil = 0
  let refusedInBursts = 0
  let unkeyedMutations = 0
  let billable = 0
  let replays = 0
  let conflicts = 0
  let rateLimited = 0
  let nextFailure: string | undefined
  let nextStuck = false
  let nextUrlNull = 0
  let baseUrl = ""
  let background: Effect.Effect<void> = Effect.void

  // Live ids end in a language code: `b84c8e8d8a18418a8f6a001f8c8b2423-es` (reference §1).
  const newId = (language: string) => `${randomBytes(16).toString("hex")}-${codeOf(language)}`
  // Presigned-style: the signature covers the path and the expiry, so an edited link is refused.
  const urlKey = randomBytes(16)
  const urlSignature = (path: string, expires: string) =>
    createHmac("sha256", urlKey).update(`${path}\n${expires}`).digest("hex").slice(0, 32)
  const fileUrl = (path: string) => {
    const expires = String(Math.floor((Date.now() + urlTtlMs) / 1000))
    return `${baseUrl}/files/${path}?Expires=${expires}&Signature=${urlSignature(`/files/${path}`, expires)}`
  }

  const phase = (job: SimJob, now: number): "pending" | "running" | "completed" | "failed" => {
    const t = now - job.createdAt
    if (job.kind === "proofread") {
      if (job.stuck || t < proofreadMs) return "running"
      return job.failure !== undefined ? "failed" : "completed"
    }
    if (t < queuedMs) return "pending"
    if (job.stuck) return "running"
    if (job.failure !== undefined && t >= queuedMs + runningMs / 2) return "failed"
    if (t < queuedMs + runningMs) return "running"
    return "completed"
  }

  const running = (apiKey: string, now: number) =>
    [...jobs.values()].filter(
      (j) => j.apiKey === apiKey && !j.deleted && (phase(j, now) === "pending" || phase(j, now) === "running")
    ).length

  const { draw, injected, random } = makeChaos(options.seed)

  const takeFault = (method: string, path: string): Fault | undefined => {
    const drawn = draw(options.faultRates)
    if (drawn !== undefined) return { kind: drawn }
    const index = faults.findIndex(
      (f) =>
        (f.fault.method === undefined || f.fault.method === method) &&
        (f.fault.pathPrefix === undefined || path.startsWith(f.fault.pathPrefix))
    )
    if (index === -1) return undefined
    const entry = faults[index]!
    if (--entry.left <= 0) faults.splice(index, 1)
    return entry.fault
  }

  const admit = (apiKey: string) => {
    const now = Date.now()
    const list = (windows.get(apiKey) ?? []).filter((t) => t > now - rate.windowMs)
    if (list.length >= rate.limit) {
      windows.set(apiKey, list)
      rateLimited++
      return Math.max(1, Math.ceil((list[0]! + rate.windowMs - now) / 1000))
    }
    list.push(now)
    windows.set(apiKey, list)
    return 0
  }

  const translationView = (job: SimJob, now: number) => {
    let status = phase(job, now)
    const view: Body = {
      id: job.id,
      status,
      title: job.title2 ?? job.title,
      output_language: job.language,
      input_language: "English",
      duration: 12.3,
      translate_audio_only: job.audioOnly,
      video_url: null,
      audio_url: null,
      srt_caption_url: null,
      vtt_caption_url: null,
      callback_id: job.callbackId ?? null,
      created_at: Math.floor(job.createdAt / 1000),
      failure_message: null
    }
    if (status === "failed") view.failure_message = job.failure ?? null
    if (status === "completed") {
      if (job.urlNullReads > 0) {
        job.urlNullReads--
        status = "completed"
      } else {
        view.video_url = fileUrl(`${job.id}/video.mp4`)
        view.audio_url = fileUrl(`${job.id}/audio.mp3`)
        if (job.captions) {
          view.srt_caption_url = fileUrl(`${job.id}/captions.srt`)
          view.vtt_caption_url = fileUrl(`${job.id}/captions.vtt`)
        }
      }
    }
    return view
  }

  const proofreadStatus = (job: SimJob, now: number) => {
    const p = phase(job, now)
    return p === "running" ? "processing" : p
  }

  /** Schedules the completion callback of a job, signed like HeyGen's webhooks. */
  const scheduleCallback = (job: SimJob) => {
    const hasEndpoint = [...endpoints.values()].some((e) => e.apiKey === job.apiKey)
    if ((job.callbackUrl === undefined && !hasEndpoint) || job.stuck) return
    const url = job.callbackUrl
    const delay = job.kind === "proofread" ? proofreadMs : queuedMs + (job.failure ? runningMs / 2 : runningMs)
    const webhookFault = draw(options.webhookFaultRates, "webhook:")
    const hold = webhookFault === "delay" ? Math.floor(random() * webhookDelayMs) : 0
    const deliver = Effect.gen(function* () {
      yield* Effect.sleep(delay + 5 + hold)
      const failed = job.failure !== undefined
      const eventType =
        job.kind === "proofread"
          ? failed
            ? "proofread_creation.fail"
            : "proofread_creation.success"
          : failed
            ? "video_translate.fail"
            : "video_translate.success"
      const data: Body =
        job.kind === "proofread"
          ? {
              proofread_id: job.id,
              callback_id: job.callbackId ?? null,
              output_language: job.language,
              ...(failed ? { message: job.failure } : {})
            }
          : {
              video_translate_id: job.id,
              callback_id: job.callbackId ?? null,
              output_language: job.language,
              ...(failed ? { message: job.failure } : { url: fileUrl(`${job.id}/video.mp4`) })
            }
      const body = JSON.stringify({ event_type: eventType, event_data: data })
      history.push({
        apiKey: job.apiKey,
        event_id: `evt_${randomBytes(8).toString("hex")}`,
        event_type: eventType,
        event_data: data,
        created_at: new Date().toISOString()
      })
      // The per-job callback_url (signed with the account's secret) and every registered endpoint
      // that subscribed to this event type (signed with its own secret).
      const targets: Array<{ url: string; secret: string }> = url === undefined ? [] : [{ url, secret }]
      for (const endpoint of endpoints.values()) {
        if (endpoint.apiKey === job.apiKey && (endpoint.events === null || endpoint.events.includes(eventType))) {
          targets.push({ url: endpoint.url, secret: endpoint.secret })
        }
      }
      const send = (target: { url: string; secret: string }) =>
        Effect.gen(function* () {
          const signature = createHmac("sha256", target.secret).update(body).digest("hex")
          const status = yield* Effect.tryPromise(() =>
            fetch(target.url, {
              method: "POST",
              headers: { "content-type": "application/json", [signatureHeader]: signature },
              body
            }).then((r) => r.status)
          ).pipe(Effect.orElseSucceed(() => 0))
          callbacks.push({ url: target.url, eventType, status })
        })
      for (const target of targets) {
        yield* send(target)
        // HeyGen's docs do not say whether a delivery can repeat; senders with at-least-once
        // delivery do repeat, so a chaos run sends some twice, the second a little later.
        if (webhookFault === "duplicate")
          yield* Effect.forkDetach(Effect.andThen(Effect.sleep(Math.floor(random() * 200)), send(target)))
      }
    })
    background = background.pipe(Effect.andThen(Effect.forkDetach(deliver)))
  }

  const create = (
    kind: SimJob["kind"],
    version: SimJob["version"],
    apiKey: string,
    language: string,
    extra: Partial<SimJob>
  ): SimJob => {
    const chaos =
      kind === "translation" && nextFailure === undefined && !nextStuck && nextUrlNull === 0
        ? draw(options.jobFaultRates, "job:")
        : undefined
    const failure = chaos === "fail" ? "Video translation failed: the audio could not be processed." : nextFailure
    const stuck = chaos === "stuck" || nextStuck
    const urlNull = kind === "translation" ? (chaos === "urlNull" ? 3 : nextUrlNull) : 0
    nextFailure = undefined
    nextStuck = false
    if (kind === "translation") nextUrlNull = 0
    const srt = makeSrt(language)
    const job: SimJob = {
      id: newId(language),
      kind,
      version,
      apiKey,
      language,
      title: "",
      createdAt: Date.now(),
      captions: false,
      audioOnly: false,
      callbackUrl: undefined,
      callbackId: undefined,
      failure,
      stuck,
      urlNullReads: urlNull,
      deleted: false,
      srt,
      originalSrt: srt,
      ...extra
    }
    jobs.set(job.id, job)
    billable++
    scheduleCallback(job)
    return job
  }

  const dropConnection = (request: HttpServerRequest.HttpServerRequest) =>
    Effect.suspend(() => {
      const socket = (NodeHttpServerRequest.toIncomingMessage(request) as { socket?: { destroy(): void } } | undefined)
        ?.socket
      if (socket !== undefined) {
        socket.destroy()
        return Effect.never
      }
      // In process there is no socket to cut: the fetch shim of `layerInProcess` turns this into a network error.
      return Effect.succeed(HttpServerResponse.empty({ status: 502, headers: { [dropMarker]: "1" } }))
    })

  const readJson = (request: HttpServerRequest.HttpServerRequest) =>
    request.text.pipe(
      Effect.map((text): { ok: true; body: unknown } | { ok: false } => {
        if (text.trim() === "") return { ok: true, body: {} }
        try {
          return { ok: true, body: JSON.parse(text) }
        } catch {
          return { ok: false }
        }
      }),
      Effect.orElseSucceed(() => ({ ok: false as const }))
    )

  type Handler = (ctx: {
    readonly request: HttpServerRequest.HttpServerRequest
    readonly apiKey: string
    readonly params: Readonly<Record<string, string | undefined>>
    readonly body: unknown
    readonly now: number
  }) => Effect.Effect<HttpServerResponse.HttpServerResponse>

  /**
   * Everything a HeyGen route does before its own logic: faults, auth, rate limit, JSON parsing,
   * idempotency (v3 mutations), and the v2 error envelope where it applies.
   */
  const route = (options: { version: "v2" | "v3"; json?: boolean; idempotent?: boolean }, handler: Handler) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const params = yield* HttpRouter.params
      requests++
      requestTimes.push(Date.now())
      const path = new URL(request.url, "http://x").pathname
      const fault = takeFault(request.method, path)
      if (fault?.kind === "dropBefore") return yield* dropConnection(request)
      if (fault?.kind === "http500") return v3Error(500, "internal_error", "Internal server error")
      // Gateways answer with no HeyGen code at all.
      if (fault?.kind === "http502")
        return HttpServerResponse.text("<html><body>502 Bad Gateway</body></html>", { status: 502 })
      const v2 = options.version === "v2"
      const bearer = request.headers.authorization?.startsWith("Bearer ")
        ? request.headers.authorization.slice(7)
        : undefined
      const apiKey = request.headers["x-api-key"] ?? bearer
      if (apiKey === undefined || !keys.has(apiKey)) {
        return v2
          ? v2Error(401, 40009, "Invalid credentials")
          : v3Error(401, "authentication_failed", "Invalid or expired API key. Verify your x-api-key header.")
      }
      const now = Date.now()
      if (fault?.kind === "burst429") burstUntil = now + burstMs
      if (now < burstUntil) {
        refusedInBursts++
        return v3Error(
          429,
          "rate_limit_exceeded",
          "Too many requests. Retry after the duration specified in the Retry-After header.",
          null,
          { "retry-after": String(Math.max(1, Math.ceil((burstUntil - now) / 1000))) }
        )
      }
      const wait = admit(apiKey)
      if (wait > 0) {
        return v3Error(
          429,
          "rate_limit_exceeded",
          "Too many requests. Retry after the duration specified in the Retry-After header.",
          null,
          {
            "retry-after": String(wait)
          }
        )
      }
      let body: unknown = {}
      if (options.json === true) {
        const parsed = yield* readJson(request)
        if (!parsed.ok)
          return v2
            ? v2Error(400, 400175, "Invalid JSON body")
            : v3Error(400, "invalid_parameter", "The request body is not valid JSON.", "body")
        body = parsed.body
      }
      // The request is processed first; a "dropAfter" fault then loses the answer on the way back,
      // as a timeout after the vendor accepted the request would.
      const deliver = (response: HttpServerResponse.HttpServerResponse) =>
        fault?.kind === "dropAfter"
          ? dropConnection(request)
          : fault?.kind === "malformed"
            ? Effect.succeed(
                HttpServerResponse.text('{"data": {"id": ', { status: 200, contentType: "application/json" })
              )
            : fault?.kind === "http500After"
              ? Effect.succeed(v3Error(500, "internal_error", "Internal server error"))
              : fault?.kind === "errorInOk" && v2
                ? Effect.succeed(
                    HttpServerResponse.jsonUnsafe({ error: "Internal error, please retry later", data: null })
                  )
                : fault?.kind === "stall"
                  ? Effect.delay(Effect.succeed(response), stallMs)
                  : Effect.succeed(response)
      // Handlers do their work when run, not when built: a replay must not run them.
      // Latency is processing time: an idempotent request is "in flight" (409 to a repeat) meanwhile.
      const run = Effect.suspend(() => handler({ request, apiKey, params, body, now: Date.now() })).pipe(
        Effect.delay(fault?.kind === "latency" ? (fault.ms ?? 1000) : 0)
      )
      const key = request.headers["idempotency-key"]
      if (options.idempotent === true && key === undefined) unkeyedMutations++
      if (options.idempotent !== true || key === undefined) return yield* Effect.flatMap(run, deliver)
      if (!idPattern.test(key))
        return v3Error(
          400,
          "invalid_parameter",
          "Idempotency-Key must match ^[A-Za-z0-9_\\-:.]{1,255}$",
          "Idempotency-Key"
        )
      // Scope: per endpoint and per resource (the route and its path parameters) and per key owner.
      const scope = `${apiKey}|${request.method} ${path}|${key}`
      const seen = idempotency.get(scope)
      if (seen?.state === "inflight") {
        conflicts++
        return v3Error(
          409,
          "request_in_progress",
          "A request with this Idempotency-Key is already in progress. Retry shortly."
        )
      }
      if (seen?.state === "done" && Date.now() - seen.at < idempotencyTtlMs) {
        replays++
        return yield* deliver(
          HttpServerResponse.text(seen.body, { status: seen.status, contentType: "application/json" })
        )
      }
      idempotency.set(scope, { state: "inflight" })
      const response = yield* run.pipe(Effect.onInterrupt(() => Effect.sync(() => idempotency.delete(scope))))
      const stored = response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""
      // A refusal before processing (429, 409) or a server error is not a result to replay: the
      // same key may go through later. Docs are silent; this is what "replay the original response" means for a processed request.
      if (response.status < 500 && response.status !== 429 && response.status !== 409) {
        idempotency.set(scope, { state: "done", status: response.status, body: stored, at: Date.now() })
      } else {
        idempotency.delete(scope)
      }
      return yield* deliver(response)
    }).pipe(
      Effect.ensuring(
        Effect.suspend(() => {
          const run = background
          background = Effect.void
          return run
        })
      )
    )

  const ok = (data: unknown, extra: Body = {}) => Effect.succeed(HttpServerResponse.jsonUnsafe({ data, ...extra }))
  const okV2 = (data: unknown) => Effect.succeed(HttpServerResponse.jsonUnsafe({ error: null, data }))

  const languageList = options.languages ?? defaultLanguages
  const languageSet = new Set(languageList.map((l) => l.toLowerCase()))
  const badLanguage = (names: ReadonlyArray<string>) => names.find((n) => !languageSet.has(n.toLowerCase()))

  /** Checks that a new job may start: credits and concurrency. */
  const canStart = (apiKey: string, count: number, now: number, v2: boolean) => {
    if ((credits.get(apiKey) ?? 0) < count) {
      return v2
        ? v2Error(402, 400128, "Insufficient credit")
        : v3Error(
            402,
            "insufficient_credit",
            `Your account has ${credits.get(apiKey) ?? 0} credits but this video requires ${count} credits.`
          )
    }
    if (running(apiKey, now) + count > concurrent) {
      return v3Error(
        429,
        "rate_limit_exceeded",
        `Too many concurrent jobs: at most ${concurrent} can be in progress at the same time.`,
        null,
        {
          "retry-after": "5"
        }
      )
    }
    credits.set(apiKey, (credits.get(apiKey) ?? 0) - count)
    return undefined
  }

  const videoSource = (video: Body): string | undefined => {
    if (video.type === "asset_id") return assets.has(String(video.asset_id)) ? undefined : "asset_id"
    return undefined
  }

  const findJob = (id: string | undefined, kind: SimJob["kind"], apiKey: string) => {
    const job = id === undefined ? undefined : jobs.get(id)
    return job !== undefined && job.kind === kind && job.apiKey === apiKey && !job.deleted ? job : undefined
  }

  /** The translation a proofread's generate call renders: it speaks and captions the approved subtitles. */
  const render = (proofread: SimJob, version: SimJob["version"], apiKey: string, b: Body) =>
    create("translation", version, apiKey, proofread.language, {
      title: proofread.title,
      srt: proofread.srt,
      originalSrt: proofread.srt,
      captions: b.captions === true,
      audioOnly: b.translate_audio_only === true,
      callbackUrl: typeof b.callback_url === "string" ? b.callback_url : undefined,
      callbackId: typeof b.callback_id === "string" ? b.callback_id : undefined
    })

  /** What a create request asks of each translation it makes (v3 and v2 share the field names). */
  const requested = (b: Body): Partial<SimJob> => ({
    title: typeof b.title === "string" ? b.title : "",
    captions: b.enable_caption === true,
    audioOnly: b.translate_audio_only === true,
    callbackUrl: typeof b.callback_url === "string" ? b.callback_url : undefined,
    callbackId: typeof b.callback_id === "string" ? b.callback_id : undefined
  })

  /** Why a v3 request for new jobs (translations or proofreads) is refused, in HeyGen's order; or nothing. */
  const refuseV3Job = (
    body: unknown,
    fields: Parameters<typeof validate>[1],
    required: ReadonlyArray<string>,
    apiKey: string,
    now: number
  ) => {
    const problem = validate(body, fields, required)
    if (problem) return v3Error(400, "invalid_parameter", problem.message, problem.param)
    const b = body as Body
    const langs = b.output_languages as Array<string>
    const bad = badLanguage(langs)
    if (bad !== undefined)
      return v3Error(400, "invalid_parameter", `Unsupported output language: ${bad}`, "output_languages")
    if (videoSource(b.video as Body)) return v3Error(400, "asset_not_available", "The asset does not exist.", "video")
    return canStart(apiKey, langs.length, now, false)
  }

  // --- v3 translations -------------------------------------------------------------------------
  const createTranslation = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now }) => {
    const refused = refuseV3Job(body, createTranslationFields, ["video", "output_languages"], apiKey, now)
    if (refused) return Effect.succeed(refused)
    const b = body as Body
    const langs = b.output_languages as Array<string>
    const created = langs.map((language) => create("translation", "v3", apiKey, language, requested(b)))
    return ok({ video_translation_ids: created.map((j) => j.id) })
  })

  const getTranslation = route({ version: "v3" }, ({ apiKey, now, params }) => {
    const job = findJob(params.id, "translation", apiKey)
    return job === undefined
      ? Effect.succeed(v3Error(404, "not_found", "Video translation not found."))
      : ok(translationView(job, now))
  })

  const listTranslations = route({ version: "v3" }, ({ apiKey, now, request }) => {
    const url = new URL(request.url, "http://x")
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get("limit") ?? 10) || 10))
    const start = Number(url.searchParams.get("token") ?? 0) || 0
    const mine = [...jobs.values()].filter((j) => j.kind === "translation" && j.apiKey === apiKey && !j.deleted)
    const page = mine.slice(start, start + limit)
    const more = start + limit < mine.length
    return ok(
      page.map((j) => translationView(j, now)),
      { has_more: more, next_token: more ? String(start + limit) : null }
    )
  })

  const updateTitle = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now, params }) => {
    const problem = validate(body, { title: isStr }, ["title"])
    if (problem) return Effect.succeed(v3Error(400, "invalid_parameter", problem.message, problem.param))
    const job = findJob(params.id, "translation", apiKey)
    if (job === undefined) return Effect.succeed(v3Error(404, "not_found", "Video translation not found."))
    job.title2 = (body as Body).title as string
    return ok(translationView(job, now))
  })

  const deleteTranslation = route({ version: "v3", idempotent: true }, ({ apiKey, params }) => {
    const job = findJob(params.id, "translation", apiKey)
    if (job === undefined) return Effect.succeed(v3Error(404, "not_found", "Video translation not found."))
    job.deleted = true
    return ok({ id: job.id })
  })

  const languages = route({ version: "v3" }, () => ok({ languages: languageList }))

  const statuses = route({ version: "v3" }, ({ apiKey, now, request }) => {
    const raw = new URL(request.url, "http://x").searchParams.get("video_translation_ids") ?? ""
    const ids = raw.split(",").filter((s) => s.length > 0)
    if (ids.length === 0)
      return Effect.succeed(
        v3Error(400, "invalid_parameter", "video_translation_ids is required", "video_translation_ids")
      )
    if (ids.length > 100)
      return Effect.succeed(v3Error(400, "invalid_parameter", "At most 100 ids.", "video_translation_ids"))
    const bulk = { pending: "queued", running: "processing", completed: "completed", failed: "failed" } as const
    return ok(
      ids.map((id) => {
        const job = findJob(id, "translation", apiKey)
        return job === undefined
          ? { video_id: id, status: "not_found" }
          : { video_id: id, status: bulk[phase(job, now)] }
      }),
      { has_more: false, next_token: null }
    )
  })

  // --- v3 proofreads ---------------------------------------------------------------------------
  const createProofread = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now }) => {
    const refused = refuseV3Job(body, createProofreadFields, ["video", "output_languages", "title"], apiKey, now)
    if (refused) return Effect.succeed(refused)
    const b = body as Body
    const langs = b.output_languages as Array<string>
    const created = langs.map((language) => create("proofread", "v3", apiKey, language, { title: String(b.title) }))
    return ok({ proofread_ids: created.map((j) => j.id), status: "processing" })
  })

  const getProofread = route({ version: "v3" }, ({ apiKey, now, params }) => {
    const job = findJob(params.id, "proofread", apiKey)
    if (job === undefined) return Effect.succeed(v3Error(404, "not_found", "Proofread not found."))
    const status = proofreadStatus(job, now)
    // Live responses omit null fields (reference §2).
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
    const job = findJob(params.id, "proofread", apiKey)
    if (job === undefined) return Effect.succeed(v3Error(404, "not_found", "Proofread not found."))
    if (proofreadStatus(job, now) !== "completed") {
      return Effect.succeed(v3Error(400, "invalid_parameter", "The proofread is not completed yet.", "proofread_id"))
    }
    return ok({ srt_url: fileUrl(`${job.id}/proofread.srt`), original_srt_url: fileUrl(`${job.id}/original.srt`) })
  })

  const putProofreadSrt = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now, params }) => {
    const problem = validate(body, { srt: asset }, ["srt"])
    if (problem) return Effect.succeed(v3Error(400, "invalid_parameter", problem.message, problem.param))
    const job = findJob(params.id, "proofread", apiKey)
    if (job === undefined) return Effect.succeed(v3Error(404, "not_found", "Proofread not found."))
    if (proofreadStatus(job, now) !== "completed") {
      return Effect.succeed(v3Error(400, "invalid_parameter", "The proofread is not completed yet.", "proofread_id"))
    }
    const srt = (body as Body).srt as Body
    const text = srtText(srt)
    if (text === undefined)
      return Effect.succeed(v3Error(400, "download_failed", "Failed to download the SRT file.", "srt"))
    job.srt = text
    return ok({ id: job.id, status: "completed", output_language: job.language, title: job.title })
  })

  /** The simulator can read SRTs uploaded as assets or served by itself; it cannot reach the internet. */
  const srtText = (srt: Body): string | undefined => {
    if (srt.type === "asset_id") return assets.get(String(srt.asset_id))?.text
    const url = String(srt.url)
    const match = /\/files\/assets\/([^/?]+)/.exec(url)
    return match ? assets.get(match[1]!)?.text : undefined
  }

  const generate = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now, params }) => {
    const problem = validate(body, generateFields, [])
    if (problem) return Effect.succeed(v3Error(400, "invalid_parameter", problem.message, problem.param))
    const job = findJob(params.id, "proofread", apiKey)
    if (job === undefined) return Effect.succeed(v3Error(404, "not_found", "Proofread not found."))
    if (proofreadStatus(job, now) !== "completed") {
      return Effect.succeed(v3Error(400, "invalid_parameter", "The proofread is not completed yet.", "proofread_id"))
    }
    const refused = canStart(apiKey, 1, now, false)
    if (refused) return Effect.succeed(refused)
    const rendered = render(job, "v3", apiKey, body as Body)
    return ok({ video_translation_id: rendered.id, status: "processing" })
  })

  // --- v3 assets -------------------------------------------------------------------------------
  const assetTypes = [
    "image/png",
    "image/jpeg",
    "video/mp4",
    "video/webm",
    "audio/mpeg",
    "audio/wav",
    "application/pdf",
    "application/x-subrip",
    "text/plain"
  ]

  const uploadAsset = route({ version: "v3", idempotent: true }, ({ request }) =>
    Effect.gen(function* () {
      let file: { name: string; type: string; bytes: number; chunks: Array<Uint8Array> } | undefined
      const parsed = yield* request.multipartStream.pipe(
        Stream.runForEach((part) => {
          if (part._tag !== "File" || part.key !== "file" || file !== undefined) {
            return part._tag === "File" ? Stream.runDrain(part.content) : Effect.void
          }
          const current = { name: part.name, type: part.contentType, bytes: 0, chunks: [] as Array<Uint8Array> }
          file = current
          return Stream.runForEach(part.content, (chunk) =>
            Effect.sync(() => {
              current.bytes += chunk.byteLength
              // Keep small text files (SRTs) only; media is counted and dropped.
              if (current.bytes <= 1024 * 1024) current.chunks.push(chunk)
            })
          )
        }),
        Effect.result
      )
      if (parsed._tag === "Failure")
        return v3Error(400, "invalid_parameter", "The multipart body could not be read.", "file")
      if (file === undefined) return v3Error(400, "invalid_parameter", "'file' is required.", "file")
      const uploaded: { name: string; type: string; bytes: number; chunks: Array<Uint8Array> } = file
      if (uploaded.bytes > 32 * 1024 * 1024)
        return v3Error(413, "payload_too_large", "Assets uploaded this way are limited to 32 MB; use direct uploads.")
      if (!assetTypes.includes(uploaded.type))
        return v3Error(400, "invalid_parameter", `Content type not supported ${uploaded.type}`, "file")
      const id = `ast_${randomBytes(8).toString("hex")}`
      const isText = uploaded.type === "application/x-subrip" || uploaded.type === "text/plain"
      assets.set(id, {
        bytes: uploaded.bytes,
        mime: uploaded.type,
        text: isText ? Buffer.concat(uploaded.chunks).toString("utf8") : undefined,
        complete: true
      })
      return HttpServerResponse.jsonUnsafe({
        data: { asset_id: id, url: fileUrl(`assets/${id}`), mime_type: uploaded.type, size_bytes: uploaded.bytes }
      })
    })
  )

  const directUpload = route({ version: "v3", json: true, idempotent: true }, ({ body }) => {
    const problem = validate(
      body,
      { filename: isStr, content_type: isStr, size_bytes: isInt, checksum_sha256: isStr },
      ["filename", "content_type", "size_bytes"]
    )
    if (problem) return Effect.succeed(v3Error(400, "invalid_parameter", problem.message, problem.param))
    const b = body as Body
    const id = `ast_${randomBytes(8).toString("hex")}`
    assets.set(id, { bytes: 0, mime: String(b.content_type), text: undefined, complete: false })
    return ok({
      asset_id: id,
      upload_url: `${baseUrl}/uploads/${id}?Expires=${Math.floor((Date.now() + 3600_000) / 1000)}`,
      upload_headers: { "content-type": String(b.content_type) },
      max_bytes: b.size_bytes,
      expires_in_seconds: 3600,
      status: "pending_upload"
    })
  })

  const putUpload = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const { id } = yield* HttpRouter.params
    const entry = id === undefined ? undefined : assets.get(id)
    if (entry === undefined) return HttpServerResponse.text("NoSuchUpload", { status: 404 })
    let bytes = 0
    yield* Stream.runForEach(request.stream, (chunk) => Effect.sync(() => void (bytes += chunk.byteLength))).pipe(
      Effect.ignore
    )
    entry.bytes = bytes
    return HttpServerResponse.empty({ status: 200 })
  })

  const completeUpload = route({ version: "v3", json: true, idempotent: true }, ({ params }) => {
    const entry = params.id === undefined ? undefined : assets.get(params.id)
    if (entry === undefined) return Effect.succeed(v3Error(404, "not_found", "Asset not found."))
    entry.complete = true
    return ok({
      asset_id: params.id,
      url: fileUrl(`assets/${params.id}`),
      mime_type: entry.mime,
      size_bytes: entry.bytes,
      status: "processing"
    })
  })

  // --- v2 --------------------------------------------------------------------------------------
  const v2Languages = (body: Body) => {
    const one = body.output_language
    const many = body.output_languages
    if ((one === undefined) === (many === undefined)) return undefined // "Omitting both or defining both will result in an error"
    return (many as Array<string> | undefined) ?? [one as string]
  }

  /** Why a v2 request for new jobs is refused, in HeyGen's order; or nothing. */
  const refuseV2Job = (
    body: unknown,
    fields: Parameters<typeof validate>[1],
    langs: ReadonlyArray<string> | undefined,
    apiKey: string,
    now: number
  ) => {
    const problem = validate(body, fields, ["video_url"])
    if (problem) return v2Error(400, 400175, problem.message)
    if (langs === undefined) return v2Error(400, 40001, "Give output_language or output_languages, not both")
    const bad = badLanguage(langs)
    if (bad !== undefined) return v2Error(400, 400175, `Unsupported output language: ${bad}`)
    return canStart(apiKey, langs.length, now, true)
  }

  const v2Create = route({ version: "v2", json: true }, ({ apiKey, body, now }) => {
    const b = body as Body
    const langs = v2Languages(b)
    const refused = refuseV2Job(body, v2CreateFields, langs, apiKey, now)
    if (refused !== undefined || langs === undefined) return Effect.succeed(refused!)
    const created = langs.map((language) => create("translation", "v2", apiKey, language, requested(b)))
    return created.length === 1
      ? okV2({ video_translate_id: created[0]!.id })
      : okV2({ video_translate_id: null, video_translate_ids: created.map((j) => j.id) })
  })

  const v2Status = route({ version: "v2" }, ({ apiKey, now, params }) => {
    const job = findJob(params.id, "translation", apiKey)
    if (job === undefined) return Effect.succeed(v2Error(404, 40004, "Video translate not found"))
    const view = translationView(job, now)
    const status = view.status === "completed" ? "success" : view.status
    return okV2({
      video_translate_id: job.id,
      title: view.title,
      status,
      url: view.video_url,
      message: view.failure_message,
      callback_id: job.callbackId ?? null,
      output_language: job.language
    })
  })

  const v2TargetLanguages = route({ version: "v2" }, () => okV2({ languages: languageList }))

  const v2Caption = route({ version: "v2" }, ({ apiKey, now, request }) => {
    const url = new URL(request.url, "http://x")
    const job = findJob(url.searchParams.get("video_translate_id") ?? undefined, "translation", apiKey)
    if (job === undefined) return Effect.succeed(v2Error(404, 40004, "Video translate not found"))
    const type = url.searchParams.get("caption_type") === "vtt" ? "vtt" : "srt"
    if (phase(job, now) !== "completed") return Effect.succeed(v2Error(400, 400175, "The video is not ready"))
    return okV2({ caption_url: fileUrl(`${job.id}/captions.${type}`) })
  })

  const v2CreateProofread = route({ version: "v2", json: true }, ({ apiKey, body, now }) => {
    const b = body as Body
    const langs = v2Languages(b)
    const refused = refuseV2Job(body, v2ProofreadFields, langs, apiKey, now)
    if (refused !== undefined || langs === undefined) return Effect.succeed(refused!)
    const created = langs.map((language) =>
      create("proofread", "v2", apiKey, language, { title: typeof b.title === "string" ? b.title : "" })
    )
    return created.length === 1
      ? okV2({ proofread_id: created[0]!.id, status: "processing" })
      : okV2({ proofread_ids: created.map((j) => j.id), status: "processing" })
  })

  const v2ProofreadStatus = route({ version: "v2" }, ({ apiKey, now, params }) => {
    const job = findJob(params.id, "proofread", apiKey)
    if (job === undefined) return Effect.succeed(v2Error(404, 40004, "Proofread not found"))
    const status = proofreadStatus(job, now)
    return okV2({
      proofread_id: job.id,
      status,
      details: status === "failed" ? job.failure : null,
      submitted_for_review: false
    })
  })

  const v2DownloadSrt = route({ version: "v2" }, ({ apiKey, now, params }) => {
    const job = findJob(params.id, "proofread", apiKey)
    if (job === undefined) return Effect.succeed(v2Error(404, 40004, "Proofread not found"))
    if (proofreadStatus(job, now) !== "completed")
      return Effect.succeed(v2Error(400, 400175, "The proofread is not completed yet"))
    return okV2({ srt_url: fileUrl(`${job.id}/proofread.srt`) })
  })

  const v2UploadSrt = route({ version: "v2", json: true }, ({ apiKey, body, now, params }) => {
    const problem = validate(body, { srt_file_url: isStr }, ["srt_file_url"])
    if (problem) return Effect.succeed(v2Error(400, 400175, problem.message))
    const job = findJob(params.id, "proofread", apiKey)
    if (job === undefined) return Effect.succeed(v2Error(404, 40004, "Proofread not found"))
    if (proofreadStatus(job, now) !== "completed")
      return Effect.succeed(v2Error(400, 400175, "The proofread is not completed yet"))
    const text = srtText({ type: "url", url: (body as Body).srt_file_url })
    if (text === undefined) return Effect.succeed(v2Error(400, 400175, "Failed to download the SRT file"))
    job.srt = text
    return Effect.succeed(HttpServerResponse.jsonUnsafe({}))
  })

  const v2Generate = route({ version: "v2", json: true }, ({ apiKey, body, now, params }) => {
    const problem = validate(
      body,
      { captions: isBool, translate_audio_only: isBool, callback_id: isStr, callback_url: isStr },
      []
    )
    if (problem) return Effect.succeed(v2Error(400, 400175, problem.message))
    const job = findJob(params.id, "proofread", apiKey)
    if (job === undefined) return Effect.succeed(v2Error(404, 40004, "Proofread not found"))
    if (proofreadStatus(job, now) !== "completed")
      return Effect.succeed(v2Error(400, 400175, "The proofread is not completed yet"))
    const refused = canStart(apiKey, 1, now, true)
    if (refused) return Effect.succeed(refused)
    const rendered = render(job, "v2", apiKey, body as Body)
    return okV2({ video_translate_id: rendered.id, status: "processing" })
  })

  /** Legacy raw-bytes upload (`upload.heygen.com/v1/asset`), served on the same host here. */
  const v1Asset = route({ version: "v2" }, ({ request }) =>
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
      assets.set(id, {
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
          created_ts: Math.floor(Date.now() / 1000),
          url: fileUrl(`assets/${id}`)
        },
        msg: null,
        message: null
      })
    })
  )

  // --- v3 webhook endpoints ------------------------------------------------------------------
  const endpointView = (e: { id: string; url: string; events: ReadonlyArray<string> | null; createdAt: string }) => ({
    endpoint_id: e.id,
    url: e.url,
    events: e.events,
    status: "enabled",
    created_at: e.createdAt
  })

  const createEndpoint = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body }) =>
    Effect.gen(function* () {
      const problem = validate(body, { url: isStr, events: nullable(strArray(0)), entity_id: isStr }, ["url"])
      if (problem) return v3Error(400, "invalid_parameter", problem.message, problem.param)
      const b = body as Body
      // HeyGen probes a new endpoint with OPTIONS and a 1-second timeout (reference §4).
      const probe = yield* Effect.tryPromise(() =>
        fetch(String(b.url), { method: "OPTIONS", signal: AbortSignal.timeout(1000) }).then((r) => r.status)
      ).pipe(Effect.orElseSucceed(() => 0))
      if (probe < 200 || probe >= 300)
        return v3Error(
          400,
          "invalid_parameter",
          "The endpoint did not answer the OPTIONS probe with 2xx within 1 second.",
          "url"
        )
      const endpoint = {
        id: `ep_${randomBytes(6).toString("hex")}`,
        apiKey,
        url: String(b.url),
        events: (b.events as Array<string> | null | undefined) ?? null,
        secret: `whsec_${randomBytes(16).toString("hex")}`,
        createdAt: new Date().toISOString()
      }
      endpoints.set(endpoint.id, endpoint)
      return HttpServerResponse.jsonUnsafe({ data: { ...endpointView(endpoint), secret: endpoint.secret } })
    })
  )

  const listEndpoints = route({ version: "v3" }, ({ apiKey }) =>
    ok([...endpoints.values()].filter((e) => e.apiKey === apiKey).map(endpointView), {
      has_more: false,
      next_token: null
    })
  )

  const deleteEndpoint = route({ version: "v3", idempotent: true }, ({ apiKey, params }) => {
    const endpoint = params.id === undefined ? undefined : endpoints.get(params.id)
    if (endpoint === undefined || endpoint.apiKey !== apiKey)
      return Effect.succeed(v3Error(404, "not_found", "Endpoint not found."))
    endpoints.delete(endpoint.id)
    return ok({ endpoint_id: endpoint.id })
  })

  const rotateSecret = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, params }) => {
    const endpoint = params.id === undefined ? undefined : endpoints.get(params.id)
    if (endpoint === undefined || endpoint.apiKey !== apiKey)
      return Effect.succeed(v3Error(404, "not_found", "Endpoint not found."))
    // The old secret is invalidated at once.
    endpoint.secret = `whsec_${randomBytes(16).toString("hex")}`
    return ok({ endpoint_id: endpoint.id, secret: endpoint.secret })
  })

  const events = route({ version: "v3" }, ({ apiKey, request }) => {
    const url = new URL(request.url, "http://x")
    const type = url.searchParams.get("event_type")
    const mine = history.filter((e) => e.apiKey === apiKey && (type === null || e.event_type === type))
    return ok(
      mine.map(({ apiKey: _, ...e }) => e),
      { has_more: false, next_token: null }
    )
  })

  // --- v3 batches -------------------------------------------------------------------------------
  const createBatch = route({ version: "v3", json: true, idempotent: true }, ({ apiKey, body, now }) => {
    const problem = validate(
      body,
      {
        video_translations: (v) => (Array.isArray(v) && v.length > 0 ? undefined : "must be a non-empty array"),
        title: isStr,
        callback_url: isStr
      },
      ["video_translations"]
    )
    if (problem) return Effect.succeed(v3Error(400, "invalid_parameter", problem.message, problem.param))
    const items = (body as Body).video_translations as Array<unknown>
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
      title: typeof (body as Body).title === "string" ? String((body as Body).title) : null,
      createdAt: now,
      items: [] as Array<{ item_index: number; video_id?: string; error?: Body }>
    }
    // Items are independent: one bad source does not fail the rest.
    for (const item of items) {
      const invalid = validate(item, createTranslationFields, ["video", "output_languages"])
      const langs = invalid ? [] : ((item as Body).output_languages as Array<string>)
      const bad = invalid ? undefined : badLanguage(langs)
      if (invalid || bad !== undefined) {
        batch.items.push({
          item_index: batch.items.length,
          error: { code: "invalid_parameter", message: invalid?.message ?? `Unsupported output language: ${bad}` }
        })
        continue
      }
      for (const language of langs) {
        const refused = canStart(apiKey, 1, now, false)
        if (refused) {
          batch.items.push({
            item_index: batch.items.length,
            error: { code: "rate_limit_exceeded", message: "Too many concurrent jobs" }
          })
          continue
        }
        const job = create("translation", "v3", apiKey, language, { title: String((item as Body).title ?? "") })
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
    const word = { pending: "queued", running: "processing", completed: "completed", failed: "failed" } as const
    const items = batch.items.map((item) => {
      const job = item.video_id === undefined ? undefined : jobs.get(item.video_id)
      const status = job === undefined ? "failed" : word[phase(job, now)]
      return {
        item_index: item.item_index,
        status,
        ...(item.video_id ? { video_id: item.video_id } : {}),
        ...(item.error ? { error: item.error } : {})
      }
    })
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

  // --- served files ----------------------------------------------------------------------------
  const files = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = new URL(request.url, "http://x")
    const expires = Number(url.searchParams.get("Expires"))
    if (url.searchParams.get("Signature") !== urlSignature(url.pathname, url.searchParams.get("Expires") ?? "")) {
      return HttpServerResponse.text(
        "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature does not match</Message></Error>",
        { status: 403 }
      )
    }
    if (!Number.isFinite(expires) || expires * 1000 < Date.now()) {
      return HttpServerResponse.text("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", {
        status: 403
      })
    }
    const [, , first, second] = url.pathname.split("/")
    if (first === "assets") {
      const entry = second === undefined ? undefined : assets.get(second)
      if (entry === undefined) return HttpServerResponse.text("NoSuchKey", { status: 404 })
      return entry.text !== undefined
        ? HttpServerResponse.text(entry.text, { contentType: entry.mime })
        : HttpServerResponse.uint8Array(new Uint8Array(16), { contentType: entry.mime })
    }
    const job = first === undefined ? undefined : jobs.get(first)
    if (job === undefined) return HttpServerResponse.text("NoSuchKey", { status: 404 })
    switch (second) {
      case "proofread.srt":
        return HttpServerResponse.text(job.srt, { contentType: "application/x-subrip" })
      case "original.srt":
        return HttpServerResponse.text(job.originalSrt, { contentType: "application/x-subrip" })
      case "captions.srt":
        return HttpServerResponse.text(job.srt, { contentType: "application/x-subrip" })
      case "captions.vtt":
        return HttpServerResponse.text(`WEBVTT\n\n${job.srt.replace(/^\d+\n/gm, "").replace(/,(\d{3})/g, ".$1")}`, {
          contentType: "text/vtt"
        })
      default:
        return HttpServerResponse.text(`polydub simulated ${second} for ${job.id} (${job.language})\n`, {
          contentType: second?.endsWith(".mp3") ? "audio/mpeg" : "video/mp4"
        })
    }
  })

  const routes = Layer.mergeAll(
    HttpRouter.add("POST", "/v3/video-translations", createTranslation),
    HttpRouter.add("GET", "/v3/video-translations", listTranslations),
    HttpRouter.add("GET", "/v3/video-translations/languages", languages),
    HttpRouter.add("GET", "/v3/video-translations/statuses", statuses),
    HttpRouter.add("POST", "/v3/video-translations/batches", createBatch),
    HttpRouter.add("GET", "/v3/video-translations/batches/:id", getBatch),
    HttpRouter.add("POST", "/v3/webhooks/endpoints", createEndpoint),
    HttpRouter.add("GET", "/v3/webhooks/endpoints", listEndpoints),
    HttpRouter.add("DELETE", "/v3/webhooks/endpoints/:id", deleteEndpoint),
    HttpRouter.add("POST", "/v3/webhooks/endpoints/:id/rotate-secret", rotateSecret),
    HttpRouter.add("GET", "/v3/webhooks/events", events),
    HttpRouter.add("GET", "/v3/video-translations/:id", getTranslation),
    HttpRouter.add("PATCH", "/v3/video-translations/:id", updateTitle),
    HttpRouter.add("DELETE", "/v3/video-translations/:id", deleteTranslation),
    HttpRouter.add("POST", "/v3/video-translations/proofreads", createProofread),
    HttpRouter.add("GET", "/v3/video-translations/proofreads/:id", getProofread),
    HttpRouter.add("GET", "/v3/video-translations/proofreads/:id/srt", getProofreadSrt),
    HttpRouter.add("PUT", "/v3/video-translations/proofreads/:id/srt", putProofreadSrt),
    HttpRouter.add("POST", "/v3/video-translations/proofreads/:id/generate", generate),
    HttpRouter.add("POST", "/v3/assets", uploadAsset),
    HttpRouter.add("POST", "/v3/assets/direct-uploads", directUpload),
    HttpRouter.add("POST", "/v3/assets/:id/complete", completeUpload),
    HttpRouter.add("PUT", "/uploads/:id", putUpload),
    HttpRouter.add("POST", "/v2/video_translate", v2Create),
    HttpRouter.add("GET", "/v2/video_translate/target_languages", v2TargetLanguages),
    HttpRouter.add("GET", "/v2/video_translate/caption", v2Caption),
    HttpRouter.add("GET", "/v2/video_translate/:id", v2Status),
    HttpRouter.add("POST", "/v2/video_translate/proofread", v2CreateProofread),
    HttpRouter.add("GET", "/v2/video_translate/proofread/status/:id", v2ProofreadStatus),
    HttpRouter.add("GET", "/v2/video_translate/proofread/:id/download-srt", v2DownloadSrt),
    HttpRouter.add("POST", "/v2/video_translate/proofread/:id/upload-srt", v2UploadSrt),
    HttpRouter.add("POST", "/v2/video_translate/proofread/:id/generate", v2Generate),
    HttpRouter.add("POST", "/v1/asset", v1Asset),
    HttpRouter.add("GET", "/files/*", files)
  )

  const control = {
    requests: () => requests,
    billableSubmissions: () => billable,
    replays: () => replays,
    conflicts: () => conflicts,
    rejectedByRateLimit: () => rateLimited,
    injectFault: (fault: Fault) => void faults.push({ fault, left: fault.times ?? 1 }),
    failNext: (message: string) => void (nextFailure = message),
    stuckNext: () => void (nextStuck = true),
    urlNullNext: (reads: number) => void (nextUrlNull = reads),
    callbacks: () => [...callbacks],
    proofreadSrt: (id: string) => jobs.get(id)?.srt,
    injectedFaults: () => ({ ...injected }),
    outcomes: () => {
      const outcomes = new Map<string, JobOutcome>()
      for (const job of jobs.values())
        if (job.kind === "translation")
          outcomes.set(job.id, job.stuck ? "stuck" : job.failure !== undefined ? "failed" : "succeeded")
      return outcomes
    },
    requestTimes: () => [...requestTimes],
    refusedInBursts: () => refusedInBursts,
    unkeyedMutations: () => unkeyedMutations,
    jobsByTitle: () => {
      const counts = new Map<string, number>()
      for (const job of jobs.values())
        if (job.kind === "translation") counts.set(job.title, (counts.get(job.title) ?? 0) + 1)
      return counts
    }
  }
  return { routes, control, firstKey, setBaseUrl: (url: string) => void (baseUrl = url) }
})

/** Serves the simulator on 127.0.0.1 for the life of the scope. */
export const serve = (options: HeyGenSimulatorOptions = {}): Effect.Effect<HeyGenSimulator, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sim = yield* make(options)
    // The base URL is known only once the server listens; requests cannot arrive before it is set.
    const baseUrl = yield* serveRoutes(sim.routes, options.port)
    sim.setBaseUrl(baseUrl)
    return { baseUrl, apiKey: sim.firstKey, ...sim.control }
  })

export class Simulator extends Context.Service<Simulator, HeyGenSimulator>()("@polydub/testing/HeyGenSimulator") {}

/** Serves the simulator for the life of the layer. */
export const layer = (options: HeyGenSimulatorOptions = {}): Layer.Layer<Simulator> =>
  Layer.effect(Simulator, serve(options))

/**
 * The simulator in process, without a socket: an `HttpClient` whose requests go straight to the
 * simulator's router (its URLs, files included, live under `http://heygen.simulator.invalid`). Dropped
 * connections surface as network errors, as over a socket. Callbacks still go out over the network.
 */
export const layerInProcess = (options: HeyGenSimulatorOptions = {}): Layer.Layer<Simulator | HttpClient.HttpClient> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const sim = yield* make(options)
      const baseUrl = "http://heygen.simulator.invalid"
      sim.setBaseUrl(baseUrl)
      const web = HttpRouter.toWebHandler(sim.routes.pipe(Layer.provide(HttpServer.layerServices)), {
        disableLogger: true
      })
      yield* Effect.addFinalizer(() => Effect.promise(() => web.dispose()))
      const fetchInProcess = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        const response = await web.handler(new Request(input, init))
        if (response.headers.get(dropMarker) !== null) {
          throw new TypeError("fetch failed", {
            cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })
          })
        }
        return response
      }
      return Layer.mergeAll(
        Layer.succeed(Simulator, { baseUrl, apiKey: sim.firstKey, ...sim.control }),
        FetchHttpClient.layer.pipe(
          Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetchInProcess as typeof globalThis.fetch))
        )
      )
    })
  )
