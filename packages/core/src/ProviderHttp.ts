/**
 * Helpers every HTTP provider needs to turn transport failures and response bodies into
 * `TranslationError`s the same way: whether a failed request may have reached the vendor, decoding
 * a body with the failing path and an excerpt when it does not fit, spreading a request budget over
 * the rate limiter's slots, and reading the expiry of a presigned URL. No vendor knowledge lives here.
 */
import { randomBytes } from "node:crypto"
import {
  Array as Arr,
  Cause,
  DateTime,
  Duration,
  Effect,
  type FileSystem,
  Option,
  type PlatformError,
  Predicate,
  Schema,
  SchemaIssue,
  Stream
} from "effect"
import type { HttpClientError, HttpClientResponse } from "effect/http"
import { InvalidRequest, ProviderUnavailable, UnexpectedResponse } from "./TranslationError.js"
import { type FileSource, mediaTypeOf, type StreamSource } from "./TranslationRequest.js"

/** Socket error codes that mean the request never left this machine. */
const notSentCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"])

/** The socket error codes (`ECONNREFUSED`, `ECONNRESET`…) anywhere in an error's causes. */
export const codesOf = (cause: unknown, depth = 0): Array<string> => {
  if (depth > 5 || !Predicate.isObject(cause)) return []
  const own = Predicate.hasProperty(cause, "code") && Predicate.isString(cause.code) ? [cause.code] : []
  const nested = Predicate.hasProperty(cause, "cause") ? codesOf(cause.cause, depth + 1) : []
  const errors =
    Predicate.hasProperty(cause, "errors") && Array.isArray(cause.errors)
      ? cause.errors.flatMap((e: unknown) => codesOf(e, depth + 1))
      : []
  return [...own, ...nested, ...errors]
}

/**
 * Whether a failed request may have been processed. A refused connection or failed lookup is
 * `"not-sent"`; anything else (reset, timeout, a body cut short) is `"unknown"`.
 */
export const outcomeOf = (cause: unknown): "not-sent" | "unknown" => {
  const codes = codesOf(cause)
  return codes.length > 0 && codes.every((c) => notSentCodes.has(c)) ? "not-sent" : "unknown"
}

/** A transport failure as `ProviderUnavailable`, with the outcome read from the socket error. */
export const transportError = (
  error: HttpClientError.HttpClientError,
  context: { readonly provider: string; readonly operation: string }
): ProviderUnavailable => {
  const outcome = outcomeOf(error.reason)
  return new ProviderUnavailable({
    ...context,
    outcome,
    message:
      outcome === "not-sent"
        ? `could not connect to ${context.provider}: the request was not sent`
        : `the connection to ${context.provider} failed after the request was sent; its outcome is unknown`
  })
}

/**
 * The budget a client that spreads `budget` with `reserve` (see `budgetSlots`) really allows:
 * `limit - reserve` requests per `window`, at least one. A provider publishes this one in
 * `capabilities.budget`, not the vendor's figure, so a caller that paces itself by it (a
 * `JobTracker`) sends one request per limiter slot and never waits inside the limiter: paced by
 * the vendor's figure it would run ahead of the slots and queue there.
 */
export const enforcedBudget = (
  budget: { readonly limit: number; readonly window: Duration.Input },
  reserve: number
): { readonly limit: number; readonly window: Duration.Duration } => ({
  limit: Math.max(1, budget.limit - reserve),
  window: Duration.fromInputUnsafe(budget.window)
})

/**
 * A request budget as the rate limiter's evenly spread slots: `limit` requests per `window`, with
 * `reserve` of them kept back because the vendor counts arrivals and the network does not keep
 * requests evenly apart. Spread one per slot, no sliding window of the vendor's length ever holds
 * more than the budget, however the vendor aligns its windows; a fixed window of `limit` (or a token
 * bucket) would let a burst at the end of one window and another at the start of the next through
 * together. The limiter's windows are at least 1 ms, so a budget finer than one request per ms gets
 * `n` per 1 ms slot, with `n` chosen so that the `window + 1` slots a sliding window can touch still
 * hold no more than the budget (rounding a finer slot up to 1 ms would cap every budget at 1,000
 * requests a second).
 */
export const budgetSlots = (
  budget: { readonly limit: number; readonly window: Duration.Input },
  reserve: number
): { readonly limit: number; readonly window: Duration.Duration } => {
  const windowMs = Duration.toMillis(Duration.fromInputUnsafe(budget.window))
  const spread = enforcedBudget(budget, reserve).limit
  const perMs = Math.floor((spread + 1) / (windowMs + 1))
  return perMs > 1
    ? { limit: perMs, window: Duration.millis(1) }
    : { limit: 1, window: Duration.millis(Math.max(1, Math.ceil(windowMs / spread))) }
}

const excerptOf = (text: string) => (text.length > 200 ? `${text.slice(0, 197)}...` : text)

const issueFormatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The path of the first failure in a Schema issue (`["data", "status"]`); empty at the root. */
export const issuePath = (issue: SchemaIssue.Issue): ReadonlyArray<PropertyKey> =>
  (issueFormatter(issue).issues[0]?.path ?? []).map((segment) => (typeof segment === "object" ? segment.key : segment))

const pathOf = (issue: SchemaIssue.Issue): string => {
  const path = issuePath(issue)
  return path.length === 0 ? "(root)" : path.map(String).join(".")
}

/** Decodes a JSON text; anything unparseable or off-schema becomes `UnexpectedResponse`. */
export const decodeJsonText = <S extends Schema.Codec<any, any, never, never>>(
  schema: S,
  text: string,
  context: { readonly provider: string; readonly operation: string; readonly status?: number | undefined }
): Effect.Effect<S["Type"], UnexpectedResponse> => {
  // Built only on failure: a good answer pays for neither the excerpt nor the error's fields.
  const unexpected = (path: string, message: string) =>
    new UnexpectedResponse({
      provider: context.provider,
      operation: context.operation,
      excerpt: excerptOf(text),
      ...(context.status === undefined ? {} : { status: context.status }),
      path,
      message
    })
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Effect.fail(unexpected("(body)", `${context.provider} answered with a body that is not JSON`))
  }
  return Schema.decodeUnknownEffect(schema)(json).pipe(
    Effect.mapError((error) => {
      const path = pathOf(error.issue)
      return unexpected(
        path,
        `${context.provider} answered with an unexpected body at ${path}: ${error.message.split("\n")[0]}`
      )
    })
  )
}

/**
 * Bounds a whole exchange — the request, the answer's headers and its body — by `timeout` (none when
 * undefined). Past it the request may have been processed: `ProviderUnavailable` with an unknown outcome.
 */
export const exchangeTimeout =
  (timeout: Duration.Duration | undefined, context: { readonly provider: string; readonly operation: string }) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | ProviderUnavailable, R> =>
    timeout === undefined
      ? self
      : Effect.timeoutOrElse(self, {
          duration: timeout,
          orElse: () =>
            Effect.fail(
              new ProviderUnavailable({
                ...context,
                outcome: "unknown",
                message: `${context.operation} timed out after ${Duration.format(timeout)}; its outcome is unknown`
              })
            )
        })

/** Reads a response body as text; a body cut short becomes `ProviderUnavailable { outcome: "unknown" }`. */
export const bodyText = (
  response: HttpClientResponse.HttpClientResponse,
  context: { readonly provider: string; readonly operation: string }
): Effect.Effect<string, ProviderUnavailable> =>
  response.text.pipe(
    Effect.mapError(
      () =>
        new ProviderUnavailable({
          ...context,
          status: response.status,
          outcome: "unknown",
          message: `the response from ${context.provider} was cut short`
        })
    )
  )

/**
 * When a presigned URL expires, from `X-Amz-Date` + `X-Amz-Expires` (S3 style) or `Expires` (epoch
 * seconds, CloudFront and GCS style). `none` when the URL says nothing.
 */
export const presignedExpiry = (url: string): Option.Option<DateTime.Utc> => {
  // Both forms need a query parameter spelled with "xpires" (or percent-encoded); a URL without one
  // says nothing, and is not worth parsing.
  const query = url.indexOf("?")
  if (query < 0 || !/xpires|%/.test(url.slice(query))) return Option.none()
  let params: URLSearchParams
  try {
    params = new URL(url).searchParams
  } catch {
    return Option.none()
  }
  const amzDate = params.get("X-Amz-Date")
  const amzExpires = params.get("X-Amz-Expires")
  if (amzDate !== null && amzExpires !== null && /^\d{8}T\d{6}Z$/.test(amzDate) && /^\d+$/.test(amzExpires)) {
    const iso = `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(
      11,
      13
    )}:${amzDate.slice(13, 15)}Z`
    const start = Date.parse(iso)
    if (!Number.isNaN(start)) return Option.some(DateTime.makeUnsafe(start + Number(amzExpires) * 1000))
  }
  const expires = params.get("Expires") ?? params.get("expires")
  if (expires !== null && /^\d{9,11}$/.test(expires)) return Option.some(DateTime.makeUnsafe(Number(expires) * 1000))
  return Option.none()
}

/** A file to upload: a name, a media type, the bytes as a stream, and the size if known. */
export interface Upload {
  readonly name: string
  readonly mediaType: string
  readonly size?: number | undefined
  /**
   * The bytes. A file's chunks are read into buffers that are reused a few chunks later
   * (`fileStream`): a consumer that keeps chunks must copy them.
   */
  readonly stream: Stream.Stream<Uint8Array, unknown>
  /** Whether the stream can be run again for a retry (files can; a download or a caller's stream cannot). */
  readonly replayable: boolean
}

const encoder = new TextEncoder()

const quote = (s: string) => s.replace(/[\r\n"]/g, (c) => (c === '"' ? "%22" : " "))

/**
 * A multipart/form-data body as a stream: text fields first (so a server can validate them before
 * the file), then the file's bytes as they arrive. The length is exact when the file's size is known.
 */
export const multipartBody = (
  fields: ReadonlyArray<readonly [string, string]>,
  upload: Upload,
  fileField = "file"
): {
  readonly contentType: string
  readonly contentLength: number | undefined
  readonly stream: Stream.Stream<Uint8Array, unknown>
} => {
  const boundary = `----polydub${randomBytes(12).toString("hex")}`
  const head =
    fields
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${quote(k)}"\r\n\r\n${v}\r\n`)
      .join("") +
    `--${boundary}\r\nContent-Disposition: form-data; name="${quote(fileField)}"; filename="${quote(upload.name)}"\r\n` +
    `Content-Type: ${upload.mediaType}\r\n\r\n`
  const preamble = encoder.encode(head)
  const epilogue = encoder.encode(`\r\n--${boundary}--\r\n`)
  const stream = Stream.succeed(preamble).pipe(Stream.concat(upload.stream), Stream.concat(Stream.succeed(epilogue)))
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: upload.size === undefined ? undefined : preamble.byteLength + upload.size + epilogue.byteLength,
    stream
  }
}

/** The size of one read of a file upload: 1 MiB is about twice the throughput of 64 KiB on loopback. */
const fileChunkSize = 1024 * 1024

/**
 * How many read buffers a file upload cycles through. An HTTP client writes each chunk to its socket
 * and pulls more only as the socket drains, so it holds a few chunks at once: test/FileUpload.test.ts
 * in provider-voicecheap corrupts the upload with fewer than 3 buffers through undici and fewer than
 * 4 through fetch. Eight leave twice that.
 */
const fileBuffers = 8

/**
 * A file's bytes read into a fixed ring of buffers, each reused `fileBuffers` reads later. A fresh
 * buffer per read (what `FileSystem.stream` does) is garbage as soon as it is sent, and garbage
 * outside the JS heap is collected only once tens of megabytes of it have piled up: the upload
 * benchmark measured some 70 MB of array buffers whatever the read size, against 8 MB with the ring.
 * A chunk is therefore valid only until `fileBuffers - 1` more have been pulled: right for an HTTP
 * body, wrong for a consumer that keeps chunks (it must copy them). Each buffer is filled before it
 * is passed on (a short read is read on), so a client's queue counted in bytes holds as few chunks as
 * one counted in chunks. Each run opens the file again with its own ring, so a retry streams it
 * afresh, and the file is closed however the run ends.
 */
const fileStream = (fs: FileSystem.FileSystem, path: string): Stream.Stream<Uint8Array, unknown> =>
  Stream.unwrap(
    Effect.map(fs.open(path, { flag: "r" }), (file) => {
      const ring = Array.from({ length: fileBuffers }, () => new Uint8Array(fileChunkSize))
      let next = 0
      const fill = (buffer: Uint8Array, filled: number): Effect.Effect<number, PlatformError.PlatformError> =>
        filled === buffer.byteLength
          ? Effect.succeed(filled)
          : Effect.flatMap(file.read(buffer.subarray(filled)), (bytes) =>
              bytes === 0 ? Effect.succeed(filled) : fill(buffer, filled + bytes)
            )
      const read = Effect.suspend(() => {
        const buffer = ring[next]!
        next = (next + 1) % fileBuffers
        return Effect.flatMap(fill(buffer, 0), (bytes) =>
          bytes === 0 ? Cause.done() : Effect.succeed(Arr.of(buffer.subarray(0, bytes)))
        )
      })
      return Stream.fromPull(Effect.succeed(read))
    })
  )

/**
 * A local file as an upload: checked to exist and be a file (`InvalidRequest` on `source`
 * otherwise), streamed through a fixed ring of 1 MiB buffers (`fileStream`), so the memory in flight
 * is the same whatever the file's size, and replayable, so a retry streams it again.
 */
export const fileUpload = (
  fs: FileSystem.FileSystem,
  source: FileSource,
  context: { readonly provider: string; readonly operation: string }
): Effect.Effect<Upload, InvalidRequest> =>
  Effect.gen(function* () {
    const invalid = (message: string) => new InvalidRequest({ ...context, param: "source", message })
    const info = yield* fs
      .stat(source.path)
      .pipe(Effect.mapError((e) => invalid(`cannot read ${source.path}: ${e.message}`)))
    if (info.type !== "File") return yield* invalid(`${source.path} is not a file`)
    return {
      name: source.path.split(/[\\/]/).pop() ?? "source",
      mediaType: source.mediaType ?? mediaTypeOf(source.path),
      size: Number(info.size),
      stream: fileStream(fs, source.path),
      replayable: true
    }
  })

/** A caller's stream as an upload. It may not be readable twice, so it is never retried. */
export const streamUpload = (source: StreamSource): Upload => ({
  name: source.name,
  mediaType: source.mediaType,
  size: source.size,
  stream: source.stream,
  replayable: false
})
