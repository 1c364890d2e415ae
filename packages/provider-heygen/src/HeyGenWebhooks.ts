/**
 * HeyGen webhook deliveries: signature check, decoding into `(JobRef, JobState)` updates, and an
 * `HttpRouter` route an application mounts. HeyGen signs the raw body with the endpoint secret as
 * hex HMAC-SHA256 in a `Signature` header (the scheme public integrations use, as HeyGen's docs do not state it; the header name is configurable, since
 * one public integration reads `X-HeyGen-Signature`). A forged (401), oversized (413) or malformed
 * (400) delivery is refused and changes nothing; a repeated delivery is acknowledged once; an
 * unknown event type is acknowledged, logged and ignored. HeyGen probes a new endpoint with an
 * OPTIONS request and a 1-second timeout: the route answers it at once.
 *
 * An empty or short secret is refused when the handler or route is built: Node's HMAC accepts a
 * zero-length key, so a route given `process.env.SECRET ?? ""` would accept anything signed with "".
 */

import { createHmac, createSecretKey, hash, type KeyObject, timingSafeEqual } from "node:crypto"
import { Artifact, type JobKind, JobRef, type JobState, Outputs, ProviderHttp } from "@polydub/core"
import { ByteSize, Effect, Layer, Option, Redacted, Schema } from "effect"
import {
  HttpIncomingMessage,
  HttpRouter,
  type HttpServerError,
  type HttpServerRequest,
  HttpServerResponse
} from "effect/http"
import * as Wire from "./HeyGenWire.js"

export interface WebhookOptions {
  /**
   * The endpoint secret (`whsec_…`), as HeyGen gave it on registration: at least
   * `minSecretLength` characters once trimmed, or the handler and route refuse to be built.
   */
  readonly secret: Redacted.Redacted<string>
  /** Default `Signature`. */
  readonly signatureHeader?: string | undefined
  /** Largest body accepted. Default 1 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** Where to mount the route. Default `/webhooks/heygen`. */
  readonly path?: `/${string}` | undefined
  /** How many delivery fingerprints to remember for de-duplication. Default 10,000. */
  readonly rememberDeliveries?: number | undefined
}

/** What a delivery says about one job. */
export interface Update {
  readonly ref: JobRef
  readonly state: JobState
  readonly eventType: string
  readonly callbackId?: string | undefined
  /** HeyGen's language name, where the event gives it. */
  readonly outputLanguage?: string | undefined
}

/**
 * The shortest secret accepted, counted after trimming. HeyGen's endpoint secrets are `whsec_`
 * and 32 random hex digits; anything this short is a placeholder or a mistake, not a key.
 */
export const minSecretLength = 16

/** The route or handler was given a secret it cannot verify deliveries with. The secret is never in the message. */
export class WebhookConfigError extends Schema.TaggedError<WebhookConfigError>()("WebhookConfigError", {
  message: Schema.String
}) {}

// Why `secret` cannot sign anything, or `undefined` when it can.
const secretProblem = (secret: Redacted.Redacted<string>): string | undefined => {
  const length = Redacted.value(secret).trim().length
  if (length === 0) return "the HeyGen webhook secret is empty (is the variable holding it unset?)"
  if (length < minSecretLength) {
    return `the HeyGen webhook secret is shorter than ${minSecretLength} characters; use the secret HeyGen gave on registration`
  }
  return undefined
}

// Each secret's key, imported once rather than from its string on every delivery; `null` for a
// secret too short to be a key, so no delivery verifies under it.
const keys = new WeakMap<Redacted.Redacted<string>, KeyObject | null>()
const keyOf = (secret: Redacted.Redacted<string>): KeyObject | null => {
  let key = keys.get(secret)
  if (key === undefined) {
    key = secretProblem(secret) === undefined ? createSecretKey(Buffer.from(Redacted.value(secret), "utf8")) : null
    keys.set(secret, key)
  }
  return key
}

/**
 * Whether `signature` is the hex HMAC-SHA256 of `body` under `secret`, compared in constant time.
 * Always `false` under an empty or short secret (see `minSecretLength`), including a secret that an
 * options getter swaps in after the route was built.
 */
export const verify = (secret: Redacted.Redacted<string>, body: Uint8Array, signature: string | undefined): boolean => {
  const hex = signature?.trim()
  if (hex === undefined || !/^[0-9a-fA-F]{64}$/.test(hex)) return false
  const key = keyOf(secret)
  if (key === null) return false
  const expected = createHmac("sha256", key).update(body).digest()
  const given = Buffer.from(hex, "hex")
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Signs a body as HeyGen does (for tests and simulators). */
export const sign = (secret: Redacted.Redacted<string>, body: string | Uint8Array): string =>
  createHmac("sha256", Redacted.value(secret)).update(body).digest("hex")

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined)

/** A reference to a job the event names; `none` for an id a reference cannot hold (a line break…). */
const refOf = (kind: JobKind, id: string): Option.Option<JobRef> => JobRef.makeOption({ provider: "heygen", kind, id })

/**
 * Decodes an event into an update. `none` for event types that say nothing about a translation or
 * proofread (avatar events, `batch.finished`); a known type with unusable data is `UnexpectedResponse`.
 */
export const decode = (event: Wire.WebhookEvent): Option.Option<Update> => {
  const data = event.event_data
  const callbackId = str(data.callback_id)
  const outputLanguage = str(data.output_language)
  const extra = { eventType: event.event_type, callbackId, outputLanguage }
  const translationId = str(data.video_translate_id) ?? str(data.video_translation_id)
  const proofreadId = str(data.proofread_id) ?? str(data.id)
  const message = str(data.message) ?? str(data.msg) ?? "HeyGen reported a failure"
  switch (event.event_type) {
    case "video_translate.success": {
      if (translationId === undefined) return Option.none()
      const url = str(data.url)
      const state: JobState =
        url === undefined
          ? { _tag: "Running", step: "finalizing", progress: 0.99 }
          : { _tag: "Succeeded", outputs: new Outputs({ video: artifact(url) }) }
      return Option.map(refOf("translation", translationId), (ref) => ({ ref, state, ...extra }))
    }
    case "video_translate.fail":
    case "video_translate.preflight.validation_failed":
    case "video_translate.preflight.download_failed": {
      if (translationId === undefined) return Option.none()
      const code = event.event_type === "video_translate.fail" ? "failed" : event.event_type.split(".").pop()!
      const state: JobState = { _tag: "Failed", reason: { code, message } }
      return Option.map(refOf("translation", translationId), (ref) => ({ ref, state, ...extra }))
    }
    case "proofread_creation.success":
    case "proofread_creation.fail": {
      if (proofreadId === undefined) return Option.none()
      const state: JobState = event.event_type.endsWith("success")
        ? { _tag: "AwaitingReview" }
        : { _tag: "Failed", reason: { code: "failed", message } }
      return Option.map(refOf("review", proofreadId), (ref) => ({ ref, state, ...extra }))
    }
    default:
      return Option.none()
  }
}

// Built as an `Artifact` (checked by its own constructor), so `Outputs` takes it as it is rather
// than parsing a plain object into one: half the cost of the event's outputs on every delivery.
const artifact = (url: string) => {
  const expiresAt = ProviderHttp.presignedExpiry(url)
  return new Artifact(
    Option.isSome(expiresAt)
      ? { url, mediaType: "video/mp4", expiresAt: expiresAt.value }
      : { url, mediaType: "video/mp4" }
  )
}

const decodeEventSchema = Schema.decodeUnknownOption(Wire.WebhookEvent)

const isObject = (v: unknown): v is { readonly [key: string]: unknown } =>
  typeof v === "object" && v !== null && !Array.isArray(v)

/**
 * Decodes parsed JSON as `Wire.WebhookEvent`, exactly as its Schema does. The usual delivery, an
 * object whose `event_type` is a string and whose `event_data` is an object, is taken as it is:
 * from `JSON.parse` every key is a string, so the Schema would accept it and copy the same fields,
 * walking every key of `event_data` to do so. Anything else goes to the Schema. The fuzz tests
 * check that both give the same answer on arbitrary JSON.
 */
export const decodeEvent = (json: unknown): Option.Option<Wire.WebhookEvent> => {
  if (isObject(json)) {
    const eventType = json.event_type
    const eventData = json.event_data
    if (typeof eventType === "string" && isObject(eventData)) {
      return Option.some({ event_type: eventType, event_data: eventData })
    }
  }
  return decodeEventSchema(json)
}

// Fatal, so a body that is not UTF-8 is refused rather than decoded with replacement characters.
// One instance serves every delivery: a non-streaming `decode` keeps no state between calls.
const utf8 = new TextDecoder("utf-8", { fatal: true })

const parseJson = (bytes: Uint8Array): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(utf8.decode(bytes)))
  } catch {
    return Option.none()
  }
}

/** The status and message a delivery is answered with. */
export type Outcome = { readonly status: number; readonly message: string }

// The outcomes are few and fixed, so each is one shared value and the route answers each with one
// prebuilt response.
const tooLarge: Outcome = { status: 413, message: "payload too large" }
const unreadable: Outcome = { status: 400, message: "the body could not be read" }
const badSignature: Outcome = { status: 401, message: "bad signature" }
const notJson: Outcome = { status: 400, message: "the body is not JSON" }
const notEvent: Outcome = { status: 400, message: "not a HeyGen event" }
const duplicate: Outcome = { status: 200, message: "duplicate delivery ignored" }
const ignored: Outcome = { status: 200, message: "ignored" }
const ok: Outcome = { status: 200, message: "ok" }

const responses = new Map(
  [tooLarge, unreadable, badSignature, notJson, notEvent, duplicate, ignored, ok].map((outcome) => [
    outcome,
    HttpServerResponse.jsonUnsafe({ message: outcome.message }, { status: outcome.status })
  ])
)

const tooLargeError = (error: HttpServerError.HttpServerError): boolean =>
  error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"

/** Answers one delivery with the outcome HeyGen should see. */
export type Handler<E, R> = (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<Outcome, E, R>

/**
 * Builds the handler of one delivery: size, signature, JSON, de-duplication, decoding. Calls
 * `onUpdate` for each accepted update; answers with the status HeyGen should see. Fails with
 * `WebhookConfigError` when the secret is empty or shorter than `minSecretLength`.
 */
export const makeHandler = <E, R>(
  options: WebhookOptions,
  onUpdate: (update: Update) => Effect.Effect<void, E, R>
): Effect.Effect<Handler<E, R>, WebhookConfigError> => {
  const problem = secretProblem(options.secret)
  return problem === undefined
    ? Effect.succeed(handlerOf(options, onUpdate))
    : Effect.fail(new WebhookConfigError({ message: problem }))
}

const handlerOf = <E, R>(options: WebhookOptions, onUpdate: (update: Update) => Effect.Effect<void, E, R>) => {
  const header = (options.signatureHeader ?? "Signature").toLowerCase()
  const max = options.maxBodyBytes ?? 1024 * 1024
  const maxBodySize = ByteSize.bytes(max)
  const remember = Math.max(0, Math.floor(options.rememberDeliveries ?? 10_000)) || 0
  // The fingerprints remembered, and the same in arrival order in a ring, so forgetting the oldest
  // is O(1); taking the first of a Set that keeps deleting from its front walks its deleted slots.
  const seen = new Set<string>()
  const order: Array<string> = []
  let next = 0
  const rememberDelivery = (fingerprint: string) => {
    if (remember === 0 || seen.has(fingerprint)) return
    if (order.length < remember) order.push(fingerprint)
    else {
      seen.delete(order[next]!)
      order[next] = fingerprint
      next = (next + 1) % remember
    }
    seen.add(fingerprint)
  }

  // Once the body is read, everything but `onUpdate` is synchronous: plain code that returns one
  // effect, so a delivery costs no generator and no effect steps it does not need.
  const accept = (body: Uint8Array, signature: string | undefined): Effect.Effect<Outcome, E, R> => {
    if (!verify(options.secret, body, signature)) return Effect.succeed(badSignature)
    const json = parseJson(body)
    if (Option.isNone(json)) return Effect.succeed(notJson)
    const event = decodeEvent(json.value)
    if (Option.isNone(event)) return Effect.succeed(notEvent)
    const fingerprint = hash("sha256", body, "base64")
    if (seen.has(fingerprint)) return Effect.succeed(duplicate)
    const update = decode(event.value)
    if (Option.isNone(update)) {
      return Effect.as(
        Effect.logInfo(`HeyGen webhook: ignoring event type ${JSON.stringify(event.value.event_type.slice(0, 80))}`),
        ignored
      )
    }
    return Effect.map(onUpdate(update.value), () => {
      // Remembered only once handled, so a delivery that failed to apply is applied on redelivery.
      rememberDelivery(fingerprint)
      return ok
    })
  }

  const handle: Handler<E, R> = (request) => {
    // Read once: on Node each read of `headers` builds a new object.
    const headers = request.headers
    const declared = Number(headers["content-length"])
    if (Number.isFinite(declared) && declared > max) return Effect.succeed(tooLarge)
    // `arrayBuffer` counts bytes as they arrive and stops past the limit, so an oversized body is
    // never held whole, whether its length was declared or not.
    return Effect.matchEffect(
      Effect.provideService(request.arrayBuffer, HttpIncomingMessage.MaxBodySize, maxBodySize),
      {
        onFailure: (error) => Effect.succeed(tooLargeError(error) ? tooLarge : unreadable),
        onSuccess: (buffer) => accept(new Uint8Array(buffer), headers[header])
      }
    )
  }
  return handle
}

/**
 * The route: `POST` deliveries and the `OPTIONS` probe at `options.path`. Mount it in the
 * application's `HttpRouter`; `onUpdate` receives each accepted update (feed it to a `JobTracker`,
 * a queue, a database). The layer fails with `WebhookConfigError` when the secret is empty or
 * shorter than `minSecretLength`, so a misconfigured application stops at startup rather than
 * serving a route that anyone can sign for.
 */
export const route = <E, R>(options: WebhookOptions, onUpdate: (update: Update) => Effect.Effect<void, E, R>) => {
  const path = options.path ?? "/webhooks/heygen"
  return Layer.unwrap(
    Effect.map(makeHandler(options, onUpdate), (handle) =>
      Layer.mergeAll(
        HttpRouter.add("OPTIONS", path, HttpServerResponse.empty({ status: 200 })),
        HttpRouter.add("POST", path, (request) => Effect.map(handle(request), (outcome) => responses.get(outcome)!))
      )
    )
  )
}
