/**
 * The typed failures every provider speaks. A provider maps its wire errors (HTTP statuses,
 * vendor codes, envelopes) onto these, so an application handles "rate limited" or "not found"
 * once, whatever vendor it runs on. No error ever carries an API key: providers build messages
 * from vendor text and request facts, never from headers.
 */
import { type Duration, Predicate, Schema } from "effect"

const common = {
  /** The provider id, e.g. `"heygen"`. */
  provider: Schema.String,
  /** The operation that failed, e.g. `"submit"` or `"HeyGenClient.getTranslation"`. */
  operation: Schema.String,
  /** A human-readable explanation, from the vendor where it gave one. */
  message: Schema.String,
  /** The HTTP status, where the failure came from an HTTP response. */
  status: Schema.optionalKey(Schema.Int),
  /** The vendor's own error code (`"rate_limit_exceeded"`, `"INSUFFICIENT_CREDITS"`, `"40009"`). */
  providerCode: Schema.optionalKey(Schema.String)
}

/** The API key was missing, invalid or expired. */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>()("AuthenticationFailed", common) {
  get retryable(): boolean {
    return false
  }
}

/** The key is valid but may not do this (plan tier, another account's job). */
export class PermissionDenied extends Schema.TaggedError<PermissionDenied>()("PermissionDenied", common) {
  get retryable(): boolean {
    return false
  }
}

/** The account cannot pay for the job. */
export class InsufficientCredits extends Schema.TaggedError<InsufficientCredits>()("InsufficientCredits", common) {
  get retryable(): boolean {
    return false
  }
}

/** The job (or proofread, or asset) does not exist or is not visible to this key. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  ...common,
  /** What was looked for, e.g. a `JobRef` in its string form. */
  resource: Schema.optionalKey(Schema.String)
}) {
  get retryable(): boolean {
    return false
  }
}

/** The request was rejected as malformed; `param` names the offending field where known. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  ...common,
  param: Schema.optionalKey(Schema.String)
}) {
  get retryable(): boolean {
    return false
  }
}

/** The provider cannot do this at all (review step, delete, URL input…). Raised before anything is sent. */
export class Unsupported extends Schema.TaggedError<Unsupported>()("Unsupported", {
  ...common,
  feature: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/** The provider does not translate into (or from) this language. Raised before anything is sent. */
export class UnsupportedLanguage extends Schema.TaggedError<UnsupportedLanguage>()("UnsupportedLanguage", {
  ...common,
  language: Schema.String,
  /** The nearest tags the provider does support, best first. */
  suggestions: Schema.Array(Schema.String)
}) {
  get retryable(): boolean {
    return false
  }
}

/**
 * Too many requests. `scope` says which budget ran out: the request rate, the number of jobs
 * running at once, or a quota.
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  ...common,
  scope: Schema.Literals(["requests", "concurrency", "quota"]),
  retryAfter: Schema.optionalKey(Schema.Duration)
}) {
  get retryable(): boolean {
    return true
  }
}

/** The same idempotency key is still being processed by the vendor. Safe to retry after a pause. */
export class RequestInProgress extends Schema.TaggedError<RequestInProgress>()("RequestInProgress", {
  ...common,
  retryAfter: Schema.optionalKey(Schema.Duration)
}) {
  get retryable(): boolean {
    return true
  }
}

/** The upload or body is larger than the vendor accepts. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  ...common,
  limitBytes: Schema.optionalKey(Schema.Finite)
}) {
  get retryable(): boolean {
    return false
  }
}

/**
 * The vendor could not be reached or failed (5xx, reset, timeout). `outcome` says whether the
 * request may have been processed: `"not-sent"` is safe to send again; `"unknown"` is safe to
 * send again only with the same idempotency key, because vendors charge per job.
 */
export class ProviderUnavailable extends Schema.TaggedError<ProviderUnavailable>()("ProviderUnavailable", {
  ...common,
  outcome: Schema.Literals(["not-sent", "unknown"]),
  retryAfter: Schema.optionalKey(Schema.Duration)
}) {
  get retryable(): boolean {
    return true
  }
}

/** The vendor answered with something the wire schema rejects (or a status word it does not know). */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>()("UnexpectedResponse", {
  ...common,
  /** Where in the body the decoding failed, e.g. `data.status`. */
  path: Schema.String,
  /** The start of the offending body, for diagnosis. */
  excerpt: Schema.String
}) {
  get retryable(): boolean {
    return false
  }
}

/** Every failure a `TranslationProvider` operation can produce. */
export type TranslationError =
  | AuthenticationFailed
  | PermissionDenied
  | InsufficientCredits
  | NotFound
  | InvalidRequest
  | Unsupported
  | UnsupportedLanguage
  | RateLimited
  | RequestInProgress
  | PayloadTooLarge
  | ProviderUnavailable
  | UnexpectedResponse

/** The schema of every `TranslationError`, for encoding errors in logs, queues or `--json` output. */
export const TranslationError = Schema.Union([
  AuthenticationFailed,
  PermissionDenied,
  InsufficientCredits,
  NotFound,
  InvalidRequest,
  Unsupported,
  UnsupportedLanguage,
  RateLimited,
  RequestInProgress,
  PayloadTooLarge,
  ProviderUnavailable,
  UnexpectedResponse
])

const tags: ReadonlySet<string> = new Set([
  "AuthenticationFailed",
  "PermissionDenied",
  "InsufficientCredits",
  "NotFound",
  "InvalidRequest",
  "Unsupported",
  "UnsupportedLanguage",
  "RateLimited",
  "RequestInProgress",
  "PayloadTooLarge",
  "ProviderUnavailable",
  "UnexpectedResponse"
])

/** Whether `u` is one of the `TranslationError`s. */
export const isTranslationError = (u: unknown): u is TranslationError =>
  Predicate.hasProperty(u, "_tag") &&
  Predicate.isString(u._tag) &&
  tags.has(u._tag) &&
  Predicate.hasProperty(u, "provider")

/** The vendor's advised pause before retrying, where it gave one. */
export const retryAfterOf = (error: TranslationError): Duration.Duration | undefined =>
  "retryAfter" in error ? error.retryAfter : undefined

/** The fields every `TranslationError` constructor takes. */
export interface ErrorContext {
  readonly provider: string
  readonly operation: string
}
