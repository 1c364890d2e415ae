/** HeyGen's answer envelopes: v3 `{data}` and `{error:{code,message,param,doc_url}}`, v2 `{error,data}` with numeric codes. */

import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"

export type Body = Record<string, unknown>

export const v3Error = (
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

export const v2Error = (status: number, code: number, message: string) =>
  HttpServerResponse.jsonUnsafe({ code, message, error: message, data: null }, { status })

/** A v3 success; lists add `has_more` and `next_token` beside `data`. */
export const ok = (data: unknown, extra: Body = {}) => Effect.succeed(HttpServerResponse.jsonUnsafe({ data, ...extra }))

export const okV2 = (data: unknown) => Effect.succeed(HttpServerResponse.jsonUnsafe({ error: null, data }))

/** The 429 HeyGen answers, with `Retry-After` in whole seconds. */
export const tooManyRequests = (waitMs: number) =>
  v3Error(
    429,
    "rate_limit_exceeded",
    "Too many requests. Retry after the duration specified in the Retry-After header.",
    null,
    { "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))) }
  )
