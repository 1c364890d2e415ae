/**
 * The restart-safe idempotency protocol, for every application and not only the CLI. Before a
 * billable submission, its idempotency key is written to the `JobStore` as pending; when the answer
 * is recorded, `done` removes it. A process that dies in between leaves the key behind, and the next
 * run of the same request (same fingerprint) reuses it, so the vendor replays the first answer
 * instead of billing again. Past the vendor's idempotency window the key no longer protects anything:
 * reusing it would bill again while the first submission may have gone through, so it is refused
 * unless the caller explicitly resubmits.
 */
import { createHash } from "node:crypto"
import { Clock, Duration, Effect, Schema } from "effect"
import type { JobStoreError, JobStoreService, PendingSubmission } from "./JobStore.js"
import { mintIdempotencyKey } from "./Policy.js"

/**
 * A pending key of an interrupted submission is older than the vendor's memory of keys: submitting
 * again could be billed twice. Check the vendor's dashboard for jobs created at `startedAt`, then
 * resubmit explicitly (`resubmit: true`).
 */
export class IdempotencyKeyExpired extends Schema.TaggedError<IdempotencyKeyExpired>()("IdempotencyKeyExpired", {
  provider: Schema.String,
  idempotencyKey: Schema.String,
  /** When the interrupted submission started, in epoch milliseconds. */
  startedAt: Schema.Finite,
  message: Schema.String
}) {}

/**
 * What identifies a request across runs: a SHA-256 of its parts (JSON-encoded), never the parts
 * themselves, which may carry secrets (a presigned source URL holds an access token).
 */
export const fingerprint = (parts: ReadonlyArray<unknown>): string =>
  `sha256:${createHash("sha256").update(JSON.stringify(parts)).digest("hex")}`

export interface PendingKeyOptions {
  /** The provider's id, as the store records it. */
  readonly provider: string
  /** From `fingerprint`: the request, identified without its contents. */
  readonly fingerprint: string
  /** Other fingerprints an earlier version may have stored for the same request: matched, never written. */
  readonly alsoMatch?: ReadonlyArray<string> | undefined
  /** The targets of the request, kept beside the key for whoever reads the store. */
  readonly targets: ReadonlyArray<string>
  /** The vendor's idempotency window (`capabilities.idempotencyWindow`); absent, keys never expire. */
  readonly window?: Duration.Duration | undefined
  /** Drop an expired key and submit anew, accepting that the vendor may bill twice. */
  readonly resubmit?: boolean | undefined
}

/** The key to submit with, and what became of an earlier run's. */
export interface PendingKey {
  readonly key: string
  /**
   * `"resumed"`: an interrupted run's key, still within the window (the vendor replays);
   * `"renewed"`: an expired one dropped because `resubmit` was set; `"new"`: none was pending.
   */
  readonly origin: "new" | "resumed" | "renewed"
  /** When the submission whose key this is started (epoch ms); for `"renewed"`, the dropped one's. */
  readonly startedAt: number
  /** Removes the pending key: run it once every target's answer is recorded. Never fails. */
  readonly done: Effect.Effect<void>
}

/**
 * The idempotency key for a submission: the one left pending by an interrupted run of the same
 * request, or a new one, written as pending before it is returned. Fails with
 * `IdempotencyKeyExpired` when the pending key is past the vendor's window and `resubmit` is not set;
 * with `JobStoreError` when the store cannot be read or written (the caller decides whether to submit
 * without protection).
 */
export const pendingKey = (
  store: JobStoreService,
  options: PendingKeyOptions
): Effect.Effect<PendingKey, IdempotencyKeyExpired | JobStoreError> =>
  Effect.gen(function* () {
    const { pending } = yield* store.load
    const matches = (p: PendingSubmission) =>
      p.provider === options.provider &&
      p.fingerprint !== undefined &&
      (p.fingerprint === options.fingerprint || (options.alsoMatch ?? []).includes(p.fingerprint))
    const found = pending.find(matches)
    const now = yield* Clock.currentTimeMillis
    const expired =
      found !== undefined && options.window !== undefined && now - found.startedAt >= Duration.toMillis(options.window)
    if (found !== undefined && expired && options.resubmit !== true) {
      return yield* new IdempotencyKeyExpired({
        provider: options.provider,
        idempotencyKey: found.idempotencyKey,
        startedAt: found.startedAt,
        message:
          `an interrupted submission (started ${new Date(found.startedAt).toISOString()}) may already have created ` +
          `jobs at ${options.provider}, which remembers its idempotency key for only ` +
          `${Duration.format(options.window!)}: submitting again now could be billed twice`
      })
    }
    if (found !== undefined && expired) yield* store.removePending(found.idempotencyKey)
    const resumed = found !== undefined && !expired
    const key = resumed ? found.idempotencyKey : yield* mintIdempotencyKey
    if (!resumed) {
      yield* store.putPending({
        idempotencyKey: key,
        provider: options.provider,
        targets: options.targets,
        startedAt: now,
        fingerprint: options.fingerprint
      })
    }
    return {
      key,
      origin: resumed ? "resumed" : found !== undefined ? "renewed" : "new",
      startedAt: found?.startedAt ?? now,
      // Each change re-reads the store: the jobs recorded since by this run (or others) stay.
      done: Effect.ignore(store.removePending(key))
    } satisfies PendingKey
  })
