/**
 * ElevenLabs webhook deliveries for dubbing projects: the signature check and the event's decoding.
 * ElevenLabs signs `"<t>.<raw body>"` with the webhook's secret as hex HMAC-SHA256 in
 * `ElevenLabs-Signature: t=<unix seconds>,v0=<hex>` and its own SDK refuses a `t` older than 30
 * minutes; this module does the same. The payload of dubbing events is not documented beyond the
 * generic envelope `{type, event_timestamp, data}`: `data` is decoded leniently, and an event that
 * names a project (and a language) becomes a hint of which job to read again. A delivery is "sent
 * only once", so polling stays the truth and a webhook only makes it sooner.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { JobRef } from "@polydub/core"
import { Option, Redacted, Schema } from "effect"
import * as Client from "./ElevenLabsClient.js"

/** The generic envelope of an ElevenLabs webhook delivery. */
export const WebhookEvent = Schema.Struct({
  type: Schema.String,
  event_timestamp: Schema.Finite,
  data: Schema.Struct({
    event: Schema.optionalKey(Schema.String),
    project_id: Schema.optionalKey(Schema.String),
    language_id: Schema.optionalKey(Schema.String),
    target_language: Schema.optionalKey(Schema.String),
    status: Schema.optionalKey(Schema.String)
  })
})
export type WebhookEvent = typeof WebhookEvent.Type

/** How old a signed timestamp may be, seconds. */
export const tolerance = 30 * 60

/** The signature header's value for `body` at `t` (unix seconds): what ElevenLabs sends. */
export const sign = (secret: Redacted.Redacted<string>, body: string, t: number): string =>
  `t=${t},v0=${createHmac("sha256", Redacted.value(secret)).update(`${t}.${body}`).digest("hex")}`

/**
 * Whether `header` signs `body` with `secret`, no older than `tolerance` at `now` (unix seconds).
 * Compared in constant time; a malformed header is simply not a signature.
 */
export const verify = (
  secret: Redacted.Redacted<string>,
  body: string,
  header: string | undefined,
  now: number
): boolean => {
  if (header === undefined || Redacted.value(secret).length === 0) return false
  const parts = new Map(
    header.split(",").map((part) => {
      const eq = part.indexOf("=")
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as const
    })
  )
  const t = Number(parts.get("t"))
  const v0 = parts.get("v0") ?? ""
  if (!Number.isInteger(t) || now - t > tolerance || !/^[0-9a-f]{64}$/.test(v0)) return false
  const expected = createHmac("sha256", Redacted.value(secret)).update(`${t}.${body}`).digest()
  return timingSafeEqual(expected, Buffer.from(v0, "hex"))
}

const decodeEventOption = Schema.decodeUnknownOption(Schema.fromJsonString(WebhookEvent))

/** A delivery's event, if its body is one. */
export const decodeEvent = (body: string): Option.Option<WebhookEvent> => decodeEventOption(body)

/**
 * The job an event is about: the language (a translation job, `<project>/<language>`) or the project
 * (a review job), as a reference to read again. The target is absent from a project event, so a
 * review reference found here identifies the project only.
 */
export const refOf = (event: WebhookEvent): Option.Option<JobRef> => {
  const { language_id, project_id } = event.data
  if (project_id === undefined) return Option.none()
  return Option.some(
    new JobRef({
      provider: Client.provider,
      apiVersion: "v2",
      kind: language_id === undefined ? "review" : "translation",
      id: language_id === undefined ? project_id : `${project_id}/${language_id}`
    })
  )
}
