/**
 * ElevenLabs' error bodies, all three of the forms that coexist: `detail` as an object (the classic
 * `{status, message}` and the current `{type, code, message, status, request_id, param}`), FastAPI's
 * 422 `detail` list, and the OpenAPI examples' `{error, message}` without `detail` (documented for
 * the audio and transcript endpoints; whether the live server still answers it is not known).
 */
import { randomBytes } from "node:crypto"
import { HttpServerResponse } from "effect/http"

export type Envelope = "classic" | "current"

const requestId = () => randomBytes(16).toString("hex")

/** `{detail: {...}}` in the classic or the current form. */
export const detailError = (
  status: number,
  code: string,
  message: string,
  options: {
    readonly envelope: Envelope
    readonly param?: string | undefined
    readonly headers?: Record<string, string>
  }
) => {
  const id = requestId()
  const detail =
    options.envelope === "classic"
      ? { status: code, message }
      : {
          type: status === 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request",
          code,
          message,
          status: code,
          request_id: id,
          ...(options.param === undefined ? {} : { param: options.param })
        }
  return HttpServerResponse.jsonUnsafe({ detail }, { status, headers: { "request-id": id, ...options.headers } })
}

/** FastAPI's 422: `{detail: [{loc, msg, type}]}`. */
export const validationError = (loc: ReadonlyArray<string>, msg: string, type: string) =>
  HttpServerResponse.jsonUnsafe(
    { detail: [{ loc: ["body", ...loc], msg, type }] },
    { status: 422, headers: { "request-id": requestId() } }
  )

/** The OpenAPI examples' form: `{error, message}`, not under `detail`. */
export const bareError = (status: number, code: string, message: string) =>
  HttpServerResponse.jsonUnsafe({ error: code, message }, { status, headers: { "request-id": requestId() } })

/** A 5xx as a gateway in front of the API would answer it, in plain text; a 500 from the API itself in JSON. */
export const serverError = (kind: string) =>
  kind === "http502" || kind === "http503"
    ? HttpServerResponse.text(kind === "http502" ? "502 Bad Gateway" : "503 Service Unavailable", {
        status: kind === "http502" ? 502 : 503
      })
    : // ElevenLabs documents a 500 but not its body: the current envelope with an `internal_error` code.
      detailError(500, "internal_error", "An internal error occurred.", { envelope: "current" })
