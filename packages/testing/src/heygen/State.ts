/**
 * What the HeyGen simulator remembers — jobs, assets, webhook endpoints, batches, the idempotency
 * store, counters — and the rules read from it: a job's phase at a given time, its views, credits
 * and concurrency, presigned file URLs. Time is always passed in (read from `Clock` by the routes),
 * so a simulator built on `TestClock` moves only when the test moves the clock.
 */

import { createHmac, randomBytes } from "node:crypto"
import type { Effect } from "effect"
import type { Fault, HeyGenSimulatorOptions, JobOutcome } from "../HeyGenSimulator.js"
import { makeChaos } from "../internal/chaos.js"
import { makeFaultQueue } from "../internal/faults.js"
import { type Body, v2Error, v3Error } from "./Envelopes.js"
import { codeOf, defaultLanguages } from "./Languages.js"

export interface SimJob {
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

export interface Asset {
  bytes: number
  readonly mime: string
  readonly text: string | undefined
  complete: boolean
  /** For a direct upload: the `size_bytes` it declared, which its upload URL cannot exceed. */
  readonly maxBytes?: number | undefined
}

export interface Endpoint {
  readonly id: string
  readonly apiKey: string
  url: string
  events: ReadonlyArray<string> | null
  secret: string
  readonly createdAt: string
}

export interface Batch {
  readonly apiKey: string
  readonly title: string | null
  readonly createdAt: number
  readonly items: Array<{ item_index: number; video_id?: string; error?: Body }>
}

export type Phase = "pending" | "running" | "completed" | "failed"

const sampleCues = [
  "Welcome to the quarterly update.",
  "This quarter we shipped three new features.",
  "Thank you for watching, see you next time."
]

/** The sample cues, marked with the target language; without one, as the source speaks them. */
const makeSrt = (language?: string) =>
  sampleCues
    .map((line, i) => {
      const t = (ms: number) =>
        `00:00:${String(Math.floor(ms / 1000)).padStart(2, "0")},${String(ms % 1000).padStart(3, "0")}`
      return `${i + 1}\n${t(i * 3000)} --> ${t(i * 3000 + 2500)}\n${language === undefined ? "" : `[${language}] `}${line}\n`
    })
    .join("\n")

/** The simulator's state and the rules read from it. */
export const makeState = (options: HeyGenSimulatorOptions) => {
  const keys = new Set(options.apiKeys ?? ["hg_sim_0123456789abcdef"])
  const config = {
    keys,
    firstKey: [...keys][0]!,
    queuedMs: options.queuedMs ?? 100,
    runningMs: options.runningMs ?? 600,
    proofreadMs: options.proofreadMs ?? 400,
    concurrent: options.concurrentJobs ?? 10,
    rate: options.rateLimit ?? { limit: 10_000, windowMs: 60_000 },
    urlTtlMs: options.urlTtlMs ?? 7 * 24 * 3600 * 1000,
    idempotencyTtlMs: options.idempotencyTtlMs ?? 24 * 3600 * 1000,
    secret: options.webhookSecret ?? "whsec_simulator_secret",
    signatureHeader: options.signatureHeader ?? "Signature",
    stallMs: options.stallMs ?? 5000,
    burstMs: options.burstMs ?? 1000,
    webhookDelayMs: options.webhookDelayMs ?? 2000,
    languages: options.languages ?? defaultLanguages
  }
  const credits = new Map<string, number>([...keys].map((k) => [k, options.credits ?? Infinity]))
  const jobs = new Map<string, SimJob>()
  const assets = new Map<string, Asset>()
  const idempotency = new Map<
    string,
    { state: "inflight" } | { state: "done"; status: number; body: string; at: number }
  >()
  const endpoints = new Map<string, Endpoint>()
  const history: Array<{ apiKey: string; event_id: string; event_type: string; event_data: Body; created_at: string }> =
    []
  const batches = new Map<string, Batch>()
  const callbacks: Array<{ url: string; eventType: string; status: number }> = []
  const counters = {
    requests: 0,
    requestTimes: [] as Array<number>,
    unkeyedMutations: 0,
    billable: 0,
    replays: 0,
    conflicts: 0,
    rateLimited: 0
  }
  const next = { failure: undefined as string | undefined, stuck: false, urlNull: 0 }
  const chaos = makeChaos(options.seed)
  const faults = makeFaultQueue<Fault>()
  /** Set by the webhook module: what happens when a job is created (its callback is scheduled). */
  const hooks = { created: (_job: SimJob, _now: number): void => {} }
  /** Work to start once the current answer is on its way (callback deliveries). */
  let background: Array<Effect.Effect<void>> = []
  let baseUrl = ""

  // Live ids end in a language code: `b84c8e8d8a18418a8f6a001f8c8b2423-es`.
  const newId = (language: string) => `${randomBytes(16).toString("hex")}-${codeOf(language)}`
  // Presigned-style: the signature covers the path and the expiry, so an edited link is refused.
  const urlKey = randomBytes(16)
  const urlSignature = (path: string, expires: string) =>
    createHmac("sha256", urlKey).update(`${path}\n${expires}`).digest("hex").slice(0, 32)
  const fileUrl = (path: string, now: number) => {
    const expires = String(Math.floor((now + config.urlTtlMs) / 1000))
    return `${baseUrl}/files/${path}?Expires=${expires}&Signature=${urlSignature(`/files/${path}`, expires)}`
  }

  const phase = (job: SimJob, now: number): Phase => {
    const t = now - job.createdAt
    if (job.kind === "proofread") {
      if (job.stuck || t < config.proofreadMs) return "running"
      return job.failure !== undefined ? "failed" : "completed"
    }
    if (t < config.queuedMs) return "pending"
    if (job.stuck) return "running"
    if (job.failure !== undefined && t >= config.queuedMs + config.runningMs / 2) return "failed"
    if (t < config.queuedMs + config.runningMs) return "running"
    return "completed"
  }

  const running = (apiKey: string, now: number) =>
    [...jobs.values()].filter(
      (j) => j.apiKey === apiKey && !j.deleted && (phase(j, now) === "pending" || phase(j, now) === "running")
    ).length

  const translationView = (job: SimJob, now: number) => {
    const status = phase(job, now)
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
      } else {
        view.video_url = fileUrl(`${job.id}/video.mp4`, now)
        view.audio_url = fileUrl(`${job.id}/audio.mp3`, now)
        if (job.captions) {
          view.srt_caption_url = fileUrl(`${job.id}/captions.srt`, now)
          view.vtt_caption_url = fileUrl(`${job.id}/captions.vtt`, now)
        }
      }
    }
    return view
  }

  const proofreadStatus = (job: SimJob, now: number) => {
    const p = phase(job, now)
    return p === "running" ? "processing" : p
  }

  /** The vocabulary of the bulk reads (statuses, batches), which differs from a translation's own. */
  const bulkWords = { pending: "queued", running: "processing", completed: "completed", failed: "failed" } as const
  const bulkStatus = (job: SimJob, now: number) => bulkWords[phase(job, now)]

  const languageSet = new Set(config.languages.map((l) => l.toLowerCase()))
  const badLanguage = (names: ReadonlyArray<string>) => names.find((n) => !languageSet.has(n.toLowerCase()))

  /** Checks that new jobs may start: credits and concurrency; takes the credits when they may. */
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
    if (running(apiKey, now) + count > config.concurrent) {
      return v3Error(
        429,
        "rate_limit_exceeded",
        `Too many concurrent jobs: at most ${config.concurrent} can be in progress at the same time.`,
        null,
        { "retry-after": "5" }
      )
    }
    credits.set(apiKey, (credits.get(apiKey) ?? 0) - count)
    return undefined
  }

  const findJob = (id: string | undefined, kind: SimJob["kind"], apiKey: string) => {
    const job = id === undefined ? undefined : jobs.get(id)
    return job !== undefined && job.kind === kind && job.apiKey === apiKey && !job.deleted ? job : undefined
  }

  /** Creates a job, with the outcome a queued or drawn fault gives it, and bills it. */
  const create = (
    kind: SimJob["kind"],
    version: SimJob["version"],
    apiKey: string,
    language: string,
    extra: Partial<SimJob>,
    now: number
  ): SimJob => {
    const drawn =
      kind === "translation" && next.failure === undefined && !next.stuck && next.urlNull === 0
        ? chaos.draw(options.jobFaultRates, "job:")
        : undefined
    const failure = drawn === "fail" ? "Video translation failed: the audio could not be processed." : next.failure
    const stuck = drawn === "stuck" || next.stuck
    const urlNull = kind === "translation" ? (drawn === "urlNull" ? 3 : next.urlNull) : 0
    next.failure = undefined
    next.stuck = false
    if (kind === "translation") next.urlNull = 0
    const srt = makeSrt(language)
    const job: SimJob = {
      id: newId(language),
      kind,
      version,
      apiKey,
      language,
      title: "",
      createdAt: now,
      captions: false,
      audioOnly: false,
      callbackUrl: undefined,
      callbackId: undefined,
      failure,
      stuck,
      urlNullReads: urlNull,
      deleted: false,
      srt,
      // The proofread's source-language SRT: the same cues, untranslated.
      originalSrt: makeSrt(),
      ...extra
    }
    jobs.set(job.id, job)
    counters.billable++
    hooks.created(job, now)
    return job
  }

  /** What a create request asks of each translation it makes (v3 and v2 share the field names). */
  const requested = (b: Body): Partial<SimJob> => ({
    title: typeof b.title === "string" ? b.title : "",
    captions: b.enable_caption === true,
    audioOnly: b.translate_audio_only === true,
    callbackUrl: typeof b.callback_url === "string" ? b.callback_url : undefined,
    callbackId: typeof b.callback_id === "string" ? b.callback_id : undefined
  })

  /** The translation a proofread's generate call renders: it speaks and captions the approved subtitles. */
  const render = (proofread: SimJob, version: SimJob["version"], apiKey: string, b: Body, now: number) =>
    create(
      "translation",
      version,
      apiKey,
      proofread.language,
      {
        title: proofread.title,
        srt: proofread.srt,
        originalSrt: proofread.originalSrt,
        captions: b.captions === true,
        audioOnly: b.translate_audio_only === true,
        callbackUrl: typeof b.callback_url === "string" ? b.callback_url : undefined,
        callbackId: typeof b.callback_id === "string" ? b.callback_id : undefined
      },
      now
    )

  /** The simulator can read SRTs uploaded as assets or served by itself; it cannot reach the internet. */
  const srtText = (srt: Body): string | undefined => {
    if (srt.type === "asset_id") return assets.get(String(srt.asset_id))?.text
    const match = /\/files\/assets\/([^/?]+)/.exec(String(srt.url))
    return match ? assets.get(match[1]!)?.text : undefined
  }

  const outcomes = () => {
    const result = new Map<string, JobOutcome>()
    for (const job of jobs.values())
      if (job.kind === "translation")
        result.set(job.id, job.stuck ? "stuck" : job.failure !== undefined ? "failed" : "succeeded")
    return result
  }

  return {
    options,
    config,
    jobs,
    assets,
    idempotency,
    endpoints,
    history,
    batches,
    callbacks,
    counters,
    next,
    chaos,
    faults,
    hooks,
    fileUrl,
    urlSignature,
    phase,
    bulkStatus,
    translationView,
    proofreadStatus,
    badLanguage,
    canStart,
    findJob,
    create,
    requested,
    render,
    srtText,
    outcomes,
    baseUrl: () => baseUrl,
    setBaseUrl: (url: string) => void (baseUrl = url),
    defer: (work: Effect.Effect<void>) => void background.push(work),
    takeDeferred: () => {
      const work = background
      background = []
      return work
    }
  }
}

export type State = ReturnType<typeof makeState>
