/**
 * Saving the files a job produced without trusting what the vendor says, and fetching bodies from
 * URLs nobody vouches for. A vendor's answer names the job's language and id, and both end up in
 * file names: here they are reduced to safe parts, and a file is written to an exclusive temporary
 * file in the target folder, renamed into place only once complete, and never put over an existing
 * file (or through a symbolic link) unless asked. Bodies are fetched with a time-out on the answer's
 * headers, an idle time-out on the body and a byte cap counted on the stream, so a silent or endless
 * server can neither hang a caller nor fill its disk. A server that fetches URLs its users give can
 * opt into refusing loopback, private and link-local addresses (server-side request forgery).
 */
import { createHash, randomBytes } from "node:crypto"
import { lookup as dnsLookup } from "node:dns"
import { BlockList, isIP, type LookupFunction } from "node:net"
import {
  Clock,
  DateTime,
  Duration,
  Effect,
  Exit,
  FileSystem,
  Option,
  Path,
  type PlatformError,
  Schedule,
  Schema,
  Scope,
  Stream
} from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { Artifact, Job, OutputKind, Outputs } from "./Job.js"
import * as Language from "./Language.js"
import { codesOf } from "./ProviderHttp.js"
import type { TranslationProviderService } from "./TranslationProvider.js"

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Why a download or a file write did not complete:
 * - `Timeout`: no answer headers within `headerTimeout`, or no bytes for `idleTimeout`
 * - `TooLarge`: more than `maxBytes`, declared by `Content-Length` or counted on the body
 * - `ShortBody`: the body ended before its declared `Content-Length`
 * - `Http`: the server answered with a status other than 2xx (`status`)
 * - `Network`: the connection failed, or the host name could not be resolved
 * - `Refused`: not an http(s) URL, or a host refused by `refusePrivateAddresses`
 * - `Exists`: a file (or link) is already at the name and `force` was not given
 * - `UnsafePath`: the file name would leave the target folder
 * - `Write`: the file system failed (no space, no permission)
 * - `SizeMismatch`: the body's length is not the size the vendor gave for the artifact
 * - `Provider`: the provider could not refresh an expired URL or stream the output (its error's
 *   message is kept), or the job has no such output
 */
export const DownloadErrorReason = Schema.Literals([
  "Timeout",
  "SizeMismatch",
  "Provider",
  "TooLarge",
  "ShortBody",
  "Http",
  "Network",
  "Refused",
  "Exists",
  "UnsafePath",
  "Write"
])
export type DownloadErrorReason = typeof DownloadErrorReason.Type

/** A download or a file write that did not complete; whatever the reason, nothing is left under the final name. */
export class DownloadError extends Schema.TaggedError<DownloadError>()("DownloadError", {
  reason: DownloadErrorReason,
  message: Schema.String,
  /** The URL, without its query: presigned URLs carry their credentials there. */
  url: Schema.optionalKey(Schema.String),
  /** The file, where the failure is about one. */
  path: Schema.optionalKey(Schema.String),
  /** The HTTP status, for `Http`. */
  status: Schema.optionalKey(Schema.Int),
  /** The byte cap, for `TooLarge`. */
  limitBytes: Schema.optionalKey(Schema.Finite)
}) {}

// ---------------------------------------------------------------------------------------------
// File names
// ---------------------------------------------------------------------------------------------

export type { OutputKind }

export const extensions: Readonly<Record<OutputKind, string>> = {
  video: "mp4",
  audio: "mp3",
  srt: "srt",
  vtt: "vtt",
  lipSyncVideo: "lipsync.mp4"
}

/** A job's artifacts by kind, in a fixed order; absent ones are left out. */
export const artifactsOf = (outputs: Outputs): ReadonlyArray<readonly [OutputKind, Artifact]> => {
  const all: ReadonlyArray<readonly [OutputKind, Artifact | undefined]> = [
    ["video", outputs.video],
    ["audio", outputs.audio],
    ["srt", outputs.captions?.srt],
    ["vtt", outputs.captions?.vtt],
    ["lipSyncVideo", outputs.lipSyncVideo]
  ]
  const present: Array<readonly [OutputKind, Artifact]> = []
  for (const [kind, artifact] of all) if (artifact !== undefined) present.push([kind, artifact])
  return present
}

const plainId = /^[A-Za-z0-9_-]{1,40}$/

/**
 * A vendor-given id as part of a file name: kept when it is plain (`[A-Za-z0-9_-]`, at most 40
 * characters); otherwise its plain characters (at most 24) and a short hash of the whole id, so two
 * ids that clean up alike still get different names.
 */
export const idPart = (id: string): string => {
  if (plainId.test(id)) return id
  const kept = id.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 24)
  const hash = createHash("sha256").update(id).digest("hex").slice(0, 8)
  return kept.length > 0 ? `${kept}-${hash}` : hash
}

/** A language as part of a file name: its canonical BCP-47 tag, or `und` (undetermined) for anything else. */
export const languagePart = (language: string): string =>
  Option.match(Language.normalizeOption(language), {
    onNone: () => "und",
    onSome: (tag) => (/^[A-Za-z0-9-]{1,35}$/.test(tag) ? tag : "und")
  })

/** Audio that is not MP3, by its declared media type: ElevenLabs' projects give lossless WAV. */
const audioExtensions: Readonly<Record<string, string>> = {
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/wave": "wav",
  "audio/flac": "flac",
  "audio/aac": "aac",
  "audio/ogg": "ogg"
}

/** The extension of one of a job's outputs: by kind, except audio the vendor says is not MP3. */
const extensionOf = (job: Job, kind: OutputKind): string => {
  if (kind !== "audio" || job.state._tag !== "Succeeded") return extensions[kind]
  const mediaType = job.state.outputs.audio?.mediaType?.split(";")[0]?.trim().toLowerCase()
  return (mediaType === undefined ? undefined : audioExtensions[mediaType]) ?? extensions.audio
}

/** The file name of one of a job's outputs, e.g. `heygen-es-9o54f3e2a1b0.mp4`: built from safe parts only. */
export const fileName = (job: Job, kind: OutputKind): string =>
  `${idPart(job.ref.provider)}-${languagePart(job.language)}-${idPart(job.ref.id)}.${extensionOf(job, kind)}`

const safeName = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/

// ---------------------------------------------------------------------------------------------
// Writing files
// ---------------------------------------------------------------------------------------------

export interface WriteOptions {
  /** The folder; created if missing. */
  readonly dir: string
  /** A plain file name (`[A-Za-z0-9._-]`, no separators), e.g. from `fileName`. */
  readonly name: string
  /**
   * Replace whatever is at the name. Default false: an existing file fails with `Exists` before
   * anything is fetched. A symbolic link at the name is replaced, never written through.
   */
  readonly force?: boolean | undefined
}

export interface Saved {
  /** The absolute path written, inside the folder with its links resolved. */
  readonly path: string
  readonly bytes: number
}

const writeError = (path: string, error: PlatformError.PlatformError) =>
  new DownloadError({ reason: "Write", path, message: `${path}: ${error.message}` })

const existsError = (path: string) =>
  new DownloadError({ reason: "Exists", path, message: `${path} already exists; pass force to replace it` })

const isAlreadyExists = (error: PlatformError.PlatformError) => error.reason._tag === "AlreadyExists"

/** Whether anything (a file, a folder, a link even to nowhere) is at `path`, without following links. */
const occupied = (fs: FileSystem.FileSystem, path: string) =>
  fs.lstat(path).pipe(
    Effect.as(true),
    Effect.catch((error) =>
      error.reason._tag === "NotFound" ? Effect.succeed(false) : Effect.fail(writeError(path, error))
    )
  )

/**
 * Where `name` goes in `dir`: the folder is created and resolved through its links, the name is
 * checked to be plain and to stay inside it, and (unless `force`) nothing may be there yet. Run it
 * before fetching, so a refusal costs no download.
 */
export const target = (
  options: WriteOptions
): Effect.Effect<string, DownloadError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const unsafe = () =>
      new DownloadError({
        reason: "UnsafePath",
        path: options.name,
        message: `${JSON.stringify(options.name)} is not a plain file name inside ${options.dir}`
      })
    if (!safeName.test(options.name)) return yield* unsafe()
    yield* fs.makeDirectory(options.dir, { recursive: true }).pipe(Effect.mapError((e) => writeError(options.dir, e)))
    const dir = yield* fs.realPath(options.dir).pipe(Effect.mapError((e) => writeError(options.dir, e)))
    const final = path.resolve(dir, options.name)
    if (path.dirname(final) !== dir || path.basename(final) !== options.name) return yield* unsafe()
    if (options.force !== true && (yield* occupied(fs, final))) return yield* existsError(final)
    return final
  })

/**
 * Puts the complete temporary file at `final`. Without `force`, a hard link claims the name only if
 * it is free (atomically: a file that appeared meanwhile is not replaced); where the file system has
 * no hard links, a check just before the rename does. With `force`, the rename replaces the entry at
 * the name (a link included), never what a link points to.
 */
const place = (fs: FileSystem.FileSystem, temporary: string, final: string, force: boolean) =>
  force
    ? fs.rename(temporary, final).pipe(Effect.mapError((e) => writeError(final, e)))
    : fs.link(temporary, final).pipe(
        Effect.catch((error) =>
          isAlreadyExists(error)
            ? Effect.fail(existsError(final))
            : Effect.flatMap(occupied(fs, final), (taken) =>
                taken
                  ? Effect.fail(existsError(final))
                  : fs.rename(temporary, final).pipe(Effect.mapError((e) => writeError(final, e)))
              )
        ),
        Effect.andThen(Effect.ignore(fs.remove(temporary)))
      )

/** Writes `stream` to `final` (a path from `target`) through a temporary file beside it. */
const writeAt = <E, R>(
  stream: Stream.Stream<Uint8Array, E, R>,
  final: string,
  force: boolean
): Effect.Effect<Saved, E | DownloadError, R | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    // Opened exclusively ("wx" fails on anything already there, a link included), in the same folder
    // so the final rename stays on one file system.
    const temporary = path.join(path.dirname(final), `.${path.basename(final)}.${randomBytes(6).toString("hex")}.part`)
    let created = false
    return yield* Effect.gen(function* () {
      const bytes = yield* Effect.scoped(
        Effect.gen(function* () {
          const file = yield* fs.open(temporary, { flag: "wx" }).pipe(Effect.mapError((e) => writeError(temporary, e)))
          created = true
          let written = 0
          yield* Stream.runForEach(stream, (chunk) => {
            written += chunk.byteLength
            return Effect.mapError(file.writeAll(chunk), (e) => writeError(temporary, e))
          })
          yield* file.sync.pipe(Effect.mapError((e) => writeError(temporary, e)))
          return written
        })
      )
      yield* place(fs, temporary, final, force)
      return { path: final, bytes }
    }).pipe(
      // On any failure or interruption, a short body included, the partial file goes.
      Effect.onExit((exit) =>
        Exit.isSuccess(exit) || !created ? Effect.void : Effect.ignore(fs.remove(temporary, { force: true }))
      )
    )
  })

/**
 * Writes `stream` as `name` in `dir`: to an exclusive temporary file, synced, then moved into place
 * only once the stream has completed. A stream that fails (a short body, a time-out) leaves nothing
 * under the name.
 */
export const write = <E, R>(
  stream: Stream.Stream<Uint8Array, E, R>,
  options: WriteOptions
): Effect.Effect<Saved, E | DownloadError, R | FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(target(options), (final) => writeAt(stream, final, options.force === true))

// ---------------------------------------------------------------------------------------------
// Address filter
// ---------------------------------------------------------------------------------------------

const refused = new BlockList()
refused.addSubnet("0.0.0.0", 8, "ipv4") // "this network", 0.0.0.0 included
refused.addSubnet("10.0.0.0", 8, "ipv4")
refused.addSubnet("100.64.0.0", 10, "ipv4") // carrier-grade NAT, where some clouds serve metadata
refused.addSubnet("127.0.0.0", 8, "ipv4")
refused.addSubnet("169.254.0.0", 16, "ipv4") // link-local, cloud metadata (169.254.169.254) included
refused.addSubnet("172.16.0.0", 12, "ipv4")
refused.addSubnet("192.168.0.0", 16, "ipv4")
refused.addSubnet("224.0.0.0", 3, "ipv4") // multicast, reserved, broadcast
refused.addSubnet("::", 96, "ipv6") // unspecified, loopback, and the old IPv4-compatible form
refused.addSubnet("fc00::", 7, "ipv6") // unique local
refused.addSubnet("fe80::", 10, "ipv6") // link-local
refused.addSubnet("ff00::", 8, "ipv6") // multicast

/**
 * Whether an IP address is a public one: not loopback (127/8, ::1), private (10/8, 172.16/12,
 * 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), unspecified (0.0.0.0, ::), carrier-grade
 * NAT (100.64/10), multicast or reserved — in IPv4-mapped IPv6 form (`::ffff:127.0.0.1`) too. Anything
 * that is not an IP address is not public.
 */
export const isPublicAddress = (address: string): boolean => {
  const bare = address.split("%")[0]!
  const family = isIP(bare)
  return family !== 0 && !refused.check(bare, family === 4 ? "ipv4" : "ipv6")
}

/** The error code `publicOnlyLookup` refuses a connection with. */
export const privateAddressCode = "ERR_PRIVATE_ADDRESS"

const refusedMessage = (host: string, address: string) =>
  `${host} resolves to ${address}, a loopback, private or link-local address: refused`

/**
 * A `lookup` for `net.connect` (and so for undici's `Agent({ connect: { lookup } })`) that refuses to
 * connect to any address `isPublicAddress` rejects. It checks the addresses the connection actually
 * uses, so it also stops DNS rebinding (a name that resolved to a public address when checked and to
 * a private one when connecting). Connections to an IP literal skip `lookup`: `fetch` with
 * `refusePrivateAddresses` checks those itself.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error !== null) return callback(error, "")
    const bad = addresses.find((a) => !isPublicAddress(a.address))
    if (bad !== undefined) {
      return callback(Object.assign(new Error(refusedMessage(hostname, bad.address)), { code: privateAddressCode }), "")
    }
    if (options.all === true) return callback(null, addresses)
    const first = addresses[0]
    return first === undefined
      ? callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "")
      : callback(null, first.address, first.family)
  })
}

const resolveAll = (host: string) =>
  Effect.callback<ReadonlyArray<string>, Error>((resume) => {
    dnsLookup(host, { all: true }, (error, addresses) =>
      resume(error === null ? Effect.succeed(addresses.map((a) => a.address)) : Effect.fail(error))
    )
  })

// ---------------------------------------------------------------------------------------------
// Fetching
// ---------------------------------------------------------------------------------------------

export interface FetchOptions {
  /** Longest wait for the answer's headers, from the start (lookup and connection included). Default 30 s. */
  readonly headerTimeout?: Duration.Input | undefined
  /** Longest wait for the next bytes of the body. Default 60 s. */
  readonly idleTimeout?: Duration.Input | undefined
  /** Most bytes taken, counted on the body as it arrives; a larger `Content-Length` fails at once. Default 20 GiB. */
  readonly maxBytes?: number | undefined
  /**
   * Refuse hosts that resolve to loopback, private, link-local or other non-public addresses (see
   * `isPublicAddress`), before connecting. Default false. Turn it on where the URL comes from someone
   * else (a server fetching its users' URLs): otherwise the URL can reach the server's own network
   * (server-side request forgery). The host is resolved and every address checked; the HTTP client
   * resolves it again to connect, so a DNS server that changes its answer in between (rebinding) is
   * stopped only by a client whose connections check too: `publicOnlyLookup`. Redirects are not
   * followed here; an `HttpClient` that follows them itself bypasses the check for the later hops.
   */
  readonly refusePrivateAddresses?: boolean | undefined
}

export const defaults = {
  headerTimeout: Duration.seconds(30),
  idleTimeout: Duration.seconds(60),
  maxBytes: 20 * 1024 ** 3
} as const

/** An answer whose body is yet to be read. */
export interface Body {
  readonly status: number
  /** The declared `Content-Length`, when there is one. */
  readonly contentLength: number | undefined
  /** The media type, without parameters, when the server gave one. */
  readonly mediaType: string | undefined
  /**
   * The body, bounded by the idle time-out and the byte cap, failing with `ShortBody` when it ends
   * before its `Content-Length`. Run it once, while the `HttpClient` that fetched it is still
   * provided (a client's layer closes its connections when it ends); the connection is released when
   * the stream ends or fails.
   */
  readonly stream: Stream.Stream<Uint8Array, DownloadError>
}

/** A URL as shown in messages: no query, no credentials. */
export const displayUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return JSON.stringify(url.split("?")[0]!.slice(0, 200))
  }
}

/**
 * GETs `url` with the `HttpClient` in context and returns the answer with its body as a bounded
 * stream: the headers must come within `headerTimeout`, each part of the body within `idleTimeout`,
 * and no more than `maxBytes` in all. Every failure is a `DownloadError`.
 */
export const fetch = (
  url: string,
  options: FetchOptions = {}
): Effect.Effect<Body, DownloadError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const shown = displayUrl(url)
    const failure = (
      reason: DownloadErrorReason,
      message: string,
      extra: { status?: number; limitBytes?: number } = {}
    ) => new DownloadError({ reason, url: shown, message, ...extra })
    const parsed = URL.parse(url)
    if (parsed === null) return yield* failure("Refused", `${shown} is not a URL`)
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return yield* failure("Refused", `${shown}: only http and https URLs are fetched`)
    }
    const headerTimeout = Duration.fromInputUnsafe(options.headerTimeout ?? defaults.headerTimeout)
    const idleTimeout = Duration.fromInputUnsafe(options.idleTimeout ?? defaults.idleTimeout)
    const maxBytes = options.maxBytes ?? defaults.maxBytes
    const tooLarge = (what: string) =>
      failure("TooLarge", `${shown} ${what}, more than the ${maxBytes} allowed`, { limitBytes: maxBytes })

    // The request lives in a scope of its own, closed (aborting the request) when the body's stream
    // ends or on an early failure, so an abandoned answer never holds a connection.
    const scope = yield* Scope.make()
    const release = Scope.close(scope, Exit.void)
    const http = HttpClient.withScope(yield* HttpClient.HttpClient)
    const response = yield* Effect.gen(function* () {
      if (options.refusePrivateAddresses === true) {
        const host = parsed.hostname.replace(/^\[|\]$/g, "")
        const addresses =
          isIP(host) !== 0
            ? [host]
            : yield* resolveAll(host).pipe(
                Effect.mapError((e) => failure("Network", `cannot resolve ${parsed.hostname}: ${e.message}`))
              )
        const bad = addresses.find((a) => !isPublicAddress(a))
        if (bad !== undefined) return yield* failure("Refused", refusedMessage(parsed.hostname, bad))
      }
      return yield* http.execute(HttpClientRequest.get(url)).pipe(
        Effect.mapError((e) => {
          const codes = codesOf(e.reason)
          return codes.includes(privateAddressCode)
            ? failure("Refused", `${parsed.hostname} resolves to a loopback, private or link-local address: refused`)
            : failure("Network", `cannot fetch ${shown} (${codes.at(0) ?? "the connection failed"})`)
        })
      )
    }).pipe(
      Scope.provide(scope),
      Effect.timeoutOrElse({
        duration: headerTimeout,
        orElse: () =>
          Effect.fail(failure("Timeout", `${shown} sent no answer within ${Duration.format(headerTimeout)}`))
      }),
      Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : release))
    )
    if (response.status < 200 || response.status >= 300) {
      yield* release
      return yield* failure("Http", `${shown} answered HTTP ${response.status}`, { status: response.status })
    }
    const header = response.headers["content-length"]
    const declared = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined
    if (declared !== undefined && declared > maxBytes) {
      yield* release
      return yield* tooLarge(`declares ${declared} bytes`)
    }
    const type = response.headers["content-type"]?.split(";")[0]?.trim()
    const stream = Stream.suspend(() => {
      let received = 0
      const short = () => failure("ShortBody", `${shown} ended after ${received} of its ${declared} bytes`)
      return response.stream.pipe(
        Stream.mapError(() =>
          declared !== undefined && received < declared
            ? short()
            : failure("Network", `the connection to ${shown} failed after ${received} bytes`)
        ),
        Stream.timeoutOrElse({
          duration: idleTimeout,
          orElse: () =>
            Stream.fail(
              failure("Timeout", `${shown} sent nothing for ${Duration.format(idleTimeout)} after ${received} bytes`)
            )
        }),
        Stream.tap((chunk) => {
          received += chunk.byteLength
          return received > maxBytes ? Effect.fail(tooLarge("sent more bytes")) : Effect.void
        }),
        Stream.concat(
          Stream.suspend(() => (declared !== undefined && received < declared ? Stream.fail(short()) : Stream.empty))
        )
      )
    }).pipe(Stream.ensuring(release))
    return {
      status: response.status,
      contentLength: declared,
      mediaType: type === undefined || type === "" ? undefined : type,
      stream
    }
  })

export interface SaveOptions extends WriteOptions, FetchOptions {
  /** Called as bytes arrive, with the count so far and the declared total. */
  readonly onProgress?: ((bytes: number, total: number | undefined) => Effect.Effect<void>) | undefined
}

/** A body's stream, reporting the bytes so far (and the declared total) as they arrive. */
const withProgress = <E>(
  body: { readonly stream: Stream.Stream<Uint8Array, E>; readonly contentLength?: number | undefined },
  progress: ((bytes: number, total: number | undefined) => Effect.Effect<void>) | undefined
): Stream.Stream<Uint8Array, E> => {
  if (progress === undefined) return body.stream
  let bytes = 0
  return Stream.tap(body.stream, (chunk) => {
    bytes += chunk.byteLength
    return progress(bytes, body.contentLength)
  })
}

/**
 * Downloads `url` as `name` in `dir`: the name is checked (and, unless `force`, found free) before
 * anything is fetched, the body is fetched under `fetch`'s bounds and written under `write`'s rules.
 */
export const save = (
  url: string,
  options: SaveOptions
): Effect.Effect<Saved, DownloadError, HttpClient.HttpClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const final = yield* target(options)
    const body = yield* fetch(url, options)
    return yield* writeAt(withProgress(body, options.onProgress), final, options.force === true)
  })

// ---------------------------------------------------------------------------------------------
// Outputs of a job, whatever the vendor serves them as
// ---------------------------------------------------------------------------------------------

export interface OutputOptions extends FetchOptions {
  /**
   * Attempts after the first for a transfer that failed where a retry is safe (every transfer here
   * is a GET): a time-out, a lost connection, a short body, HTTP 408, 429 or 5xx. Default 2.
   */
  readonly retries?: number | undefined
  /** A URL that expires within this is refreshed (the job read again) before it is fetched. Default 60 s. */
  readonly expiryMargin?: Duration.Input | undefined
}

const providerError = (error: { readonly message: string }) =>
  new DownloadError({ reason: "Provider", message: error.message })

const artifactOf = (job: Job, kind: OutputKind): Effect.Effect<Artifact, DownloadError> => {
  const found =
    job.state._tag === "Succeeded" ? artifactsOf(job.state.outputs).find(([k]) => k === kind)?.[1] : undefined
  return found === undefined
    ? Effect.fail(
        new DownloadError({
          reason: "Provider",
          message: `${job.ref} has no ${kind} output (it is ${job.state._tag})`
        })
      )
    : Effect.succeed(found)
}

const retryable = (error: DownloadError) =>
  error.reason === "Timeout" ||
  error.reason === "Network" ||
  error.reason === "ShortBody" ||
  (error.reason === "Http" &&
    error.status !== undefined &&
    (error.status === 408 || error.status === 429 || error.status >= 500))

/** A URL refused as expired or gone: a fresh read of the job may give a working one. */
const staleUrl = (error: DownloadError) =>
  error.reason === "Http" && (error.status === 401 || error.status === 403 || error.status === 410)

/**
 * The artifact of `kind` as it stands now: the job's own, or, when its URL is past (or within
 * `expiryMargin` of) `expiresAt` or `stale` says a fetch was refused, the one a fresh `get` gives.
 */
const current = (
  provider: TranslationProviderService,
  job: Job,
  kind: OutputKind,
  margin: Duration.Duration,
  stale: boolean
): Effect.Effect<Artifact, DownloadError> =>
  Effect.gen(function* () {
    const artifact = yield* artifactOf(job, kind)
    if (artifact.url === undefined) return artifact
    const now = yield* Clock.currentTimeMillis
    const expiring =
      artifact.expiresAt !== undefined && DateTime.toEpochMillis(artifact.expiresAt) - now <= Duration.toMillis(margin)
    if (!expiring && !stale) return artifact
    const fresh = yield* Effect.mapError(provider.get(job.ref), providerError)
    return yield* artifactOf(fresh, kind)
  })

/** The body of an artifact: a GET of its URL, or a stream through the provider. */
const bodyOf = (
  provider: TranslationProviderService,
  job: Job,
  artifact: Artifact,
  kind: OutputKind,
  options: FetchOptions
): Effect.Effect<Body, DownloadError, HttpClient.HttpClient> => {
  const checked = (body: Body): Effect.Effect<Body, DownloadError> => {
    const size = artifact.size
    if (size === undefined) return Effect.succeed(body)
    const mismatch = (got: number) =>
      new DownloadError({
        reason: "SizeMismatch",
        message: `${kind} of ${job.ref}: ${got} bytes where the vendor said ${size}`
      })
    if (body.contentLength !== undefined && body.contentLength !== size)
      return Effect.fail(mismatch(body.contentLength))
    let received = 0
    const stream = body.stream.pipe(
      Stream.tap((chunk) => {
        received += chunk.byteLength
        return received > size ? Effect.fail(mismatch(received)) : Effect.void
      }),
      Stream.concat(Stream.suspend(() => (received === size ? Stream.empty : Stream.fail(mismatch(received)))))
    )
    return Effect.succeed({ ...body, stream })
  }
  if (artifact.url !== undefined) return Effect.flatMap(fetch(artifact.url, options), checked)
  const maxBytes = options.maxBytes ?? defaults.maxBytes
  return provider.download(job.ref, kind).pipe(
    Effect.mapError(providerError),
    Effect.flatMap((streamed) => {
      if (streamed.contentLength !== undefined && streamed.contentLength > maxBytes) {
        return Effect.fail(
          new DownloadError({
            reason: "TooLarge",
            limitBytes: maxBytes,
            message: `${kind} of ${job.ref} declares ${streamed.contentLength} bytes, more than the ${maxBytes} allowed`
          })
        )
      }
      let received = 0
      return checked({
        status: 200,
        contentLength: streamed.contentLength,
        mediaType: streamed.mediaType,
        stream: streamed.stream.pipe(
          Stream.mapError(providerError),
          Stream.tap((chunk) => {
            received += chunk.byteLength
            return received > maxBytes
              ? Effect.fail(
                  new DownloadError({
                    reason: "TooLarge",
                    limitBytes: maxBytes,
                    message: `${kind} of ${job.ref} sent more than the ${maxBytes} bytes allowed`
                  })
                )
              : Effect.void
          })
        )
      })
    })
  )
}

/**
 * Opens one output of a succeeded job, whatever the vendor serves it as: a presigned URL (refreshed
 * by reading the job again when it has expired, or when the vendor refuses it as stale) or a stream
 * through the provider. Opening is retried where safe (every transfer is a GET); the body is read
 * once by the caller, under `fetch`'s bounds, and fails with `SizeMismatch` when the vendor said
 * another size. For a retried whole transfer into a file, use `saveOutput`.
 */
export const openOutput = (
  provider: TranslationProviderService,
  job: Job,
  kind: OutputKind,
  options: OutputOptions = {}
): Effect.Effect<Body, DownloadError, HttpClient.HttpClient> =>
  attempts(options, (stale) =>
    Effect.flatMap(current(provider, job, kind, margin(options), stale), (artifact) =>
      bodyOf(provider, job, artifact, kind, options)
    )
  )

const margin = (options: OutputOptions) => Duration.fromInputUnsafe(options.expiryMargin ?? Duration.seconds(60))

/**
 * Runs `attempt` with retries: a transient failure is retried as it is; a URL the vendor refused
 * (401, 403, 410) is retried once with a fresh read of the job (`stale`).
 */
const attempts = <A, R>(
  options: OutputOptions,
  attempt: (stale: boolean) => Effect.Effect<A, DownloadError, R>
): Effect.Effect<A, DownloadError, R> =>
  attempt(false).pipe(
    Effect.catchIf(staleUrl, () => attempt(true)),
    Effect.retry({
      while: retryable,
      schedule: Schedule.exponential(Duration.millis(500), 2),
      times: Math.max(0, options.retries ?? 2)
    })
  )

export interface SaveOutputOptions extends OutputOptions, Omit<WriteOptions, "name"> {
  /** The file name; default `fileName(job, kind)`. */
  readonly name?: string | undefined
  /** Called as bytes arrive, with the count so far and the declared total. */
  readonly onProgress?: ((bytes: number, total: number | undefined) => Effect.Effect<void>) | undefined
}

/**
 * Saves one output of a succeeded job into `dir` (see `openOutput` for how it is fetched): the name
 * is checked before anything is fetched, a failed transfer leaves nothing under it, and the whole
 * transfer is retried where safe.
 */
export const saveOutput = (
  provider: TranslationProviderService,
  job: Job,
  kind: OutputKind,
  options: SaveOutputOptions
): Effect.Effect<Saved, DownloadError, HttpClient.HttpClient | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const writeOptions = { dir: options.dir, name: options.name ?? fileName(job, kind), force: options.force }
    const final = yield* target(writeOptions)
    const progress = options.onProgress
    return yield* attempts(options, (stale) =>
      Effect.gen(function* () {
        const artifact = yield* current(provider, job, kind, margin(options), stale)
        const body = yield* bodyOf(provider, job, artifact, kind, options)
        return yield* writeAt(withProgress(body, progress), final, options.force === true)
      })
    )
  })
