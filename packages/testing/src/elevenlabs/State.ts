/**
 * What the ElevenLabs simulator's routes share: accounts, the admission of a request (its key, the
 * injected faults, the rate window), counters, and the bodies of outputs, generated as they stream so
 * that a 100 MB output costs no memory.
 */
import { Clock, Effect, Stream } from "effect"
import { HttpServerRequest, type HttpServerResponse } from "effect/http"
import { makeChaos } from "../internal/chaos.js"
import { dropConnection, makeBurst, makeFaultQueue } from "../internal/faults.js"
import { makeRateWindows } from "../internal/rateWindows.js"
import { detailError, type Envelope, serverError } from "./Errors.js"

export type Plan = "free" | "starter" | "creator" | "pro" | "enterprise"

export interface Account {
  readonly apiKey: string
  /** Default `"enterprise"`: every feature. Free plans cannot dub audio; free and starter dubs need a watermark. */
  readonly plan?: Plan | undefined
  /** Dubs and projects the account can pay for. Default unlimited. */
  readonly credits?: number | undefined
  /** A "legacy workspace": `GET /v1/dubbing` answers `invalid_workspace_type` while reads by id work. */
  readonly legacyWorkspace?: boolean | undefined
}

export type Endpoint =
  | "createDubbing"
  | "getDubbing"
  | "listDubs"
  | "deleteDubbing"
  | "audio"
  | "transcript"
  | "createProject"
  | "projects"
  | "languages"
  | "edits"

export interface Fault {
  readonly kind:
    | "http500"
    | "http502"
    | "http503"
    /** Process the request (a dub is created and billed), then answer 500: the worst case for a retry. */
    | "http500AfterProcessing"
    | "dropBefore"
    /** Process the request, then close without answering. */
    | "dropAfter"
    | "malformed"
    | "latency"
    /** Process the request, then hold the answer `stallMs`. */
    | "stall"
    /** Answer every request 429 `rate_limit_exceeded` for `burstMs`. */
    | "burst429"
    /** Answer 429 `system_busy` (ElevenLabs refused before doing anything). */
    | "systemBusy"
    /** An output's headers and first chunk, then nothing: a body that stalls. */
    | "stallBody"
  readonly endpoint?: Endpoint | undefined
  readonly times?: number | undefined
  readonly ms?: number | undefined
}

export interface CommonOptions {
  readonly accounts?: ReadonlyArray<Account> | undefined
  readonly envelope?: Envelope | undefined
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number } | undefined
  readonly retryAfterSeconds?: number | undefined
  readonly faultRates?: Partial<Record<Exclude<Fault["kind"], "latency">, number>> | undefined
  readonly seed?: number | undefined
  readonly stallMs?: number | undefined
  readonly burstMs?: number | undefined
}

export const defaultKey = "el_sim_0123456789abcdef0123456789abcdef"

export const makeShared = (options: CommonOptions) => {
  const accounts = new Map<string, Account>()
  for (const account of options.accounts ?? [{ apiKey: defaultKey }]) accounts.set(account.apiKey, account)
  const firstKey = [...accounts.keys()][0]!
  const credits = new Map<string, number>([...accounts.values()].map((a) => [a.apiKey, a.credits ?? Infinity]))
  const envelope: Envelope = options.envelope ?? "classic"
  // ElevenLabs documents no request rate for dubbing; 600 a minute here, configurable.
  const rate = options.rateLimit ?? { limit: 600, windowMs: 60_000 }
  const retryAfter =
    options.retryAfterSeconds === undefined ? undefined : { "retry-after": String(options.retryAfterSeconds) }
  const windows = makeRateWindows()
  const faults = makeFaultQueue<Fault>()
  const bursts = makeBurst(options.burstMs ?? 1000)
  const { draw, injected } = makeChaos(options.seed)
  const counts: Record<string, number> = {}
  const arrivals: Record<string, Array<number>> = {}
  let rateLimited = 0
  const stallMs = options.stallMs ?? 5000

  const tooMany = () =>
    detailError(429, "rate_limit_exceeded", "You have exceeded the rate limit. Please slow down.", {
      envelope: "current",
      ...(retryAfter === undefined ? {} : { headers: retryAfter })
    })

  /**
   * Admits a request: counts it, draws or takes a fault, checks the key and the rate window. Answers
   * the account and the fault to apply after processing, or the response that ends the request.
   */
  const admit = (endpoint: Endpoint, processing: boolean) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const now = yield* Clock.currentTimeMillis
      counts[endpoint] = (counts[endpoint] ?? 0) + 1
      ;(arrivals[endpoint] ??= []).push(now)
      const drawn = draw(options.faultRates)
      const fault: Fault | undefined =
        drawn !== undefined
          ? { kind: drawn, endpoint }
          : faults.take((f) => f.endpoint === undefined || f.endpoint === endpoint)
      const done = (response: HttpServerResponse.HttpServerResponse) => ({ _tag: "Done", response }) as const
      if (fault?.kind === "latency") yield* Effect.sleep(fault.ms ?? 1000)
      if (fault?.kind === "dropBefore" || (fault?.kind === "dropAfter" && !processing)) {
        return done(yield* dropConnection(request))
      }
      const key = request.headers["xi-api-key"]
      const account = key === undefined || key === "" ? undefined : accounts.get(key)
      if (account === undefined) {
        return done(detailError(401, "invalid_api_key", "Invalid API key", { envelope }))
      }
      if (fault?.kind === "burst429") bursts.start(now)
      if (bursts.refuse(now) > 0) return done(tooMany())
      if (fault?.kind === "systemBusy") {
        return done(
          detailError(429, "system_busy", "Our services are experiencing high levels of traffic. Please retry.", {
            envelope: "current",
            ...(retryAfter === undefined ? {} : { headers: retryAfter })
          })
        )
      }
      if (windows.admit(account.apiKey, now, rate) > 0) {
        rateLimited++
        return done(tooMany())
      }
      if (
        fault?.kind === "http500" ||
        fault?.kind === "http502" ||
        fault?.kind === "http503" ||
        (fault?.kind === "http500AfterProcessing" && !processing)
      ) {
        return done(serverError(fault.kind))
      }
      return { _tag: "Admitted", account, fault, request } as const
    })

  /** What a processed request answers under the fault it drew: the answer itself, or the fault's. */
  const after = (
    fault: Fault | undefined,
    request: HttpServerRequest.HttpServerRequest,
    answer: HttpServerResponse.HttpServerResponse
  ) =>
    Effect.gen(function* () {
      if (fault?.kind === "dropAfter") return yield* dropConnection(request)
      if (fault?.kind === "http500AfterProcessing") return serverError(fault.kind)
      if (fault?.kind === "stall") yield* Effect.sleep(stallMs)
      return answer
    })

  return {
    accounts,
    firstKey,
    credits,
    envelope,
    admit,
    after,
    faults,
    injected,
    draw,
    counts,
    arrivals,
    bursts,
    rateLimited: () => rateLimited
  }
}

export type Shared = ReturnType<typeof makeShared>

const chunkSize = 1024 * 1024

/**
 * The bytes of an output of `size`, generated chunk by chunk: an MP4 (`ftyp`) or MP3 (`ID3`) header,
 * then filler. One chunk is allocated and handed out again, read-only, as every later full chunk.
 */
export const outputBody = (size: number, kind: "video" | "audio"): Stream.Stream<Uint8Array> => {
  const header =
    kind === "video"
      ? new Uint8Array([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d])
      : new Uint8Array([0x49, 0x44, 0x33, 0x04, 0, 0, 0, 0, 0, 0])
  const full = new Uint8Array(chunkSize).fill(0x2e)
  full.set(header.subarray(0, Math.min(header.length, chunkSize)))
  const filler = new Uint8Array(chunkSize).fill(0x2e)
  const chunks = Math.ceil(size / chunkSize)
  return Stream.range(0, Math.max(0, chunks - 1)).pipe(
    Stream.take(chunks),
    Stream.map((i) => {
      const source = i === 0 ? full : filler
      const length = Math.min(chunkSize, size - i * chunkSize)
      return length === chunkSize ? source : source.subarray(0, length)
    })
  )
}

/** An ISO timestamp as ElevenLabs writes it: without a zone (`2025-07-15T14:49:41.149000`), or with `Z`. */
export const timestamp = (at: number, naive: boolean) => {
  const iso = new Date(at).toISOString()
  return naive ? `${iso.slice(0, 23)}000` : `${iso.slice(0, 19)}Z`
}
