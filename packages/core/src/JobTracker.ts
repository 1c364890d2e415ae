/**
 * Following many jobs inside one provider's request budget. Polling each job on its own schedule
 * collapses into 429 storms at a few dozen jobs; the tracker instead spends one budget across all of
 * them: at most `limit` status requests per `window`, each reading up to `batch` jobs (HeyGen's bulk
 * `statuses` reads 100), given to the jobs most likely to have finished — the longest unchecked,
 * weighted up once a job is past its expected completion — and never to a job checked less than
 * `minInterval` ago. Webhook deliveries update a job at once and end its polling. A 429 pauses
 * everything for the advised time. A failed read is not retried here: the provider's client already
 * retried it, and the job is simply read again at a later slot. Memory per job is one small record.
 *
 * Updates arrive from two sides, polls and webhooks, in any order and any number of times, so the
 * tracker keeps a job's history monotonic: a terminal state (`Succeeded`, `Failed`) is final except
 * for `Removed`, a replayed update makes no second change, and a poll answer that was in flight when
 * a webhook landed is dropped, since it describes the job as it was before. A job that has not come
 * to rest by its `deadline` is reported overdue (logged, counted, listed by `overdue`) and no longer
 * awaited by `awaitAll`; it stays tracked, at a lower priority, since the vendor may yet finish it.
 */
import { Clock, Context, DateTime, Duration, Effect, Layer, Option, PubSub, Result, Stream } from "effect"
import { isResting, isTerminal, Job, type JobRef, type JobState, refIdentity, sameState } from "./Job.js"
import { JobStore } from "./JobStore.js"
import { retryAfterOf, type TranslationError } from "./TranslationError.js"
import { type Budget, TranslationProvider, type TranslationProviderService } from "./TranslationProvider.js"

export interface TrackerOptions {
  /**
   * Status requests allowed per window. Default: the provider's status budget (`capabilities.budget.status`,
   * what its client enforces, so no read waits in the client's limiter), or 60 a minute.
   */
  readonly budget?: Budget | undefined
  /** Jobs read per request. Default: the provider's bulk size, or 1. */
  readonly batch?: number | undefined
  /** A job is not read again sooner than this. Default: the provider's advised first delay. */
  readonly minInterval?: Duration.Input | undefined
  /** Pause after a 429 that gave no `Retry-After`. Default 30 s, doubling while 429s continue. */
  readonly backoff?: Duration.Input | undefined
  /** A job not at rest this long after it was tracked is overdue. Default: none. */
  readonly deadline?: Duration.Input | undefined
  /** Status requests in flight at once, so one slow answer does not stall the schedule. Default 8. */
  readonly concurrency?: number | undefined
}

export interface TrackHint {
  /** How long the job is expected to take from submission (a vendor's estimate, or your own). */
  readonly expectedDuration?: Duration.Input | undefined
  /** This job's own deadline, from when it was tracked; overrides the tracker's. */
  readonly deadline?: Duration.Input | undefined
}

export interface Stats {
  readonly tracked: number
  readonly requests: number
  readonly rateLimited: number
  readonly webhookUpdates: number
  /** Updates dropped: replayed webhooks, poll answers older than a webhook, moves back from a final state. */
  readonly ignoredUpdates: number
  /** Tracked jobs past their deadline and not at rest. */
  readonly overdue: number
}

export interface JobTrackerService {
  /** Follows a job from its last known state. */
  readonly track: (job: Job, hint?: TrackHint) => Effect.Effect<void>
  readonly untrack: (ref: JobRef) => Effect.Effect<void>
  /** Applies an update from a webhook: the job's state changes now and its polling stops if it rests. */
  readonly deliver: (ref: JobRef, state: JobState, providerStatus?: string) => Effect.Effect<void>
  /** Every change of state, as it is learnt. */
  readonly changes: Stream.Stream<Job>
  /** The tracked jobs as last seen. */
  readonly snapshot: Effect.Effect<ReadonlyArray<Job>>
  /**
   * Waits until every given job (default: every tracked job) rests or is overdue; returns them as
   * last seen (an overdue job in its last known, unsettled state).
   */
  readonly awaitAll: (refs?: ReadonlyArray<JobRef>) => Effect.Effect<ReadonlyArray<Job>>
  /** The tracked jobs past their deadline and not at rest, as last seen. */
  readonly overdue: Effect.Effect<ReadonlyArray<Job>>
  readonly stats: Effect.Effect<Stats>
}

export class JobTracker extends Context.Service<JobTracker, JobTrackerService>()("@polydub/core/JobTracker") {}

interface Entry {
  job: Job
  /** When the job was submitted or first tracked (ms). */
  readonly since: number
  lastChecked: number
  /** When the job is expected to finish (ms), where known. */
  eta: number | undefined
  /** When the job becomes overdue (ms), where it has a deadline. */
  deadline: number | undefined
  overdue: boolean
  /** Bumped by every webhook delivery, so a poll answer read before one can be recognised. */
  deliveries: number
  /** A status request for this job is in flight. */
  reading: boolean
}

const key = (ref: JobRef) => refIdentity(ref)

/** Builds a tracker for a provider; it runs until the scope closes. */
export const make = Effect.fnUntraced(function* (provider: TranslationProviderService, options: TrackerOptions = {}) {
  const caps = provider.capabilities
  const budget = options.budget ?? caps.budget.status ?? { limit: 60, window: Duration.minutes(1) }
  const spacing = Math.ceil(Duration.toMillis(Duration.fromInputUnsafe(budget.window)) / Math.max(1, budget.limit))
  const batch = Math.max(1, options.batch ?? caps.bulkStatus ?? 1)
  const minInterval = Duration.toMillis(Duration.fromInputUnsafe(options.minInterval ?? caps.polling.initial))
  const baseBackoff = Duration.toMillis(Duration.fromInputUnsafe(options.backoff ?? Duration.seconds(30)))
  const millisOf = (input: Duration.Input | undefined) =>
    input === undefined ? undefined : Duration.toMillis(Duration.fromInputUnsafe(input))
  const defaultDeadline = millisOf(options.deadline)
  const concurrency = Math.max(1, options.concurrency ?? 8)
  const scope = yield* Effect.scope
  const store = yield* Effect.serviceOption(JobStore)
  const entries = new Map<string, Entry>()
  const pubsub = yield* PubSub.unbounded<Job>()
  // Wakes `awaitAll` on a change of state or a job turning overdue.
  const signals = yield* PubSub.unbounded<void>()
  let requests = 0
  let rateLimited = 0
  let webhookUpdates = 0
  let ignoredUpdates = 0
  let overdueCount = 0
  let inFlight = 0
  let pausedUntil = 0
  let consecutive429 = 0

  const persist = (job: Job) =>
    Option.match(store, {
      onNone: () => Effect.void,
      onSome: (s) => s.put(job).pipe(Effect.catch((e) => Effect.logWarning(`job store: ${e.message}`)))
    })

  /** Whether `next` may follow `current`: a terminal state is final, except for `Removed`. */
  const follows = (current: JobState, next: JobState) =>
    !isTerminal(current) || (next._tag === "Removed" && current._tag !== "Removed")

  /** Applies an observation; a poll that finds the job unchanged is no news, a webhook that does is a replay. */
  // Plain code on this path (no generator): every webhook delivery and poll answer passes here.
  const record = (entry: Entry, job: Job, fromWebhook: boolean): Effect.Effect<void> =>
    Effect.suspend(() => {
      const same = sameState(entry.job.state, job.state)
      if (same || !follows(entry.job.state, job.state)) {
        if (!same || fromWebhook) ignoredUpdates++
        return Effect.void
      }
      entry.job = job
      if (entry.overdue && isResting(job.state)) {
        entry.overdue = false
        overdueCount--
      }
      const published = Effect.andThen(PubSub.publish(pubsub, job), PubSub.publish(signals, undefined))
      return Option.isNone(store) ? Effect.asVoid(published) : Effect.andThen(published, persist(job))
    })

  const markOverdue = (entry: Entry, now: number) =>
    Effect.gen(function* () {
      entry.overdue = true
      overdueCount++
      yield* Effect.logWarning(
        `tracker: ${key(entry.job.ref)} is overdue: not settled ${Math.round((now - entry.since) / 1000)} s after it was tracked ` +
          `(last state: ${entry.job.state._tag}, "${entry.job.providerStatus}"); still tracked`
      )
      yield* PubSub.publish(signals, undefined)
    })

  /** Stops following a job; `awaitAll` no longer waits for it. */
  const forget = (ref: JobRef) =>
    Effect.gen(function* () {
      if (entries.get(key(ref))?.overdue === true) overdueCount--
      entries.delete(key(ref))
      yield* PubSub.publish(signals, undefined)
    })

  /** How much a job wants reading now: staleness, weighted by how likely it is to have finished. */
  const priority = (entry: Entry, now: number): number => {
    const stale = now - entry.lastChecked
    if (stale < minInterval) return -1
    const state = entry.job.state
    let weight = 1
    if (entry.overdue) weight = 0.25
    else if (entry.eta !== undefined) weight = now >= entry.eta ? 4 : 0.5
    else if (state._tag === "Running" && state.progress !== undefined && state.progress > 0) {
      const age = now - entry.since
      const remaining = (age * (1 - state.progress)) / state.progress
      weight = remaining <= stale ? 4 : 1
    }
    return stale * weight
  }

  const pick = (now: number, late: Array<Entry>): Array<Entry> => {
    const ranked: Array<[number, Entry]> = []
    for (const entry of entries.values()) {
      if (isResting(entry.job.state) || entry.reading) continue
      if (!entry.overdue && entry.deadline !== undefined && now >= entry.deadline) late.push(entry)
      const p = priority(entry, now)
      if (p < 0) continue
      if (ranked.length < batch) {
        ranked.push([p, entry])
        ranked.sort((a, b) => a[0] - b[0])
      } else if (p > ranked[0]![0]) {
        ranked[0] = [p, entry]
        ranked.sort((a, b) => a[0] - b[0])
      }
    }
    return ranked.map(([, e]) => e)
  }

  const onRateLimited = (error: TranslationError, now: number) =>
    Effect.sync(() => {
      rateLimited++
      consecutive429++
      const advised = retryAfterOf(error)
      const pause =
        advised !== undefined ? Duration.toMillis(advised) : baseBackoff * 2 ** Math.min(6, consecutive429 - 1)
      pausedUntil = now + pause
    })

  /** One status request for the chosen jobs, and what its answer teaches. */
  const read = (chosen: ReadonlyArray<Entry>, now: number) =>
    Effect.gen(function* () {
      const deliveries = chosen.map((e) => e.deliveries)
      const refs = chosen.map((e) => e.job.ref)
      const outcome = yield* Effect.result(
        batch > 1 && refs.length > 1
          ? provider.getMany(refs)
          : Effect.map(provider.get(refs[0]!), (job) => [Result.succeed(job)])
      )
      if (Result.isFailure(outcome)) {
        const error = outcome.failure
        if (error._tag === "RateLimited") yield* onRateLimited(error, now)
        else yield* Effect.logWarning(`tracker: ${provider.id} status read failed: ${error.message}`)
        return
      }
      consecutive429 = 0
      for (const [i, result] of outcome.success.entries()) {
        const entry = chosen[i]!
        if (entry.deliveries !== deliveries[i]) {
          // A webhook landed while this answer was in flight: the answer is older news.
          ignoredUpdates++
        } else if (Result.isSuccess(result)) {
          yield* record(entry, result.success, false)
        } else if (result.failure._tag === "RateLimited") {
          yield* onRateLimited(result.failure, now)
        } else if (result.failure._tag === "NotFound") {
          yield* Effect.logWarning(`tracker: ${key(entry.job.ref)} is gone at ${provider.id}; no longer tracked`)
          yield* forget(entry.job.ref)
        }
      }
    }).pipe(
      Effect.ensuring(
        Effect.sync(() => {
          inFlight--
          for (const entry of chosen) entry.reading = false
        })
      )
    )

  // Reads run side by side (a slow answer must not hold up the schedule), at most `concurrency` at once.
  const poll = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    if (now < pausedUntil) return pausedUntil - now
    const late: Array<Entry> = []
    const chosen = pick(now, late)
    for (const entry of late) yield* markOverdue(entry, now)
    if (chosen.length === 0 || inFlight >= concurrency) return spacing
    requests++
    inFlight++
    for (const entry of chosen) {
      entry.lastChecked = now
      entry.reading = true
    }
    yield* Effect.forkIn(read(chosen, now), scope)
    return spacing
  })

  // The scheduler: at most one request per slot, so never more than the budget in any window.
  yield* Effect.forkScoped(
    Effect.gen(function* () {
      while (true) {
        const delay = yield* poll
        yield* Effect.sleep(Math.max(spacing, delay))
      }
    })
  )

  if (Option.isSome(store)) {
    const loaded = yield* store.value.load.pipe(Effect.orElseSucceed(() => ({ jobs: [], pending: [] })))
    const now = yield* Clock.currentTimeMillis
    for (const job of loaded.jobs) {
      if (job.ref.provider !== provider.id || isResting(job.state)) continue
      const since = job.observedAt.epochMilliseconds
      entries.set(key(job.ref), {
        job,
        since,
        lastChecked: 0,
        eta: undefined,
        deadline: defaultDeadline === undefined ? undefined : since + defaultDeadline,
        overdue: false,
        deliveries: 0,
        reading: false
      })
    }
    if (entries.size > 0)
      yield* Effect.logInfo(`tracker: resumed ${entries.size} ${provider.id} job(s) from the store (${now})`)
  }

  const track = (job: Job, hint: TrackHint = {}) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const since = job.observedAt.epochMilliseconds
      const eta =
        hint.expectedDuration === undefined
          ? undefined
          : since + Duration.toMillis(Duration.fromInputUnsafe(hint.expectedDuration))
      const within = millisOf(hint.deadline) ?? defaultDeadline
      const existing = entries.get(key(job.ref))
      if (existing !== undefined) {
        existing.eta = eta ?? existing.eta
        if (hint.deadline !== undefined) existing.deadline = existing.since + millisOf(hint.deadline)!
        return
      }
      // Treated as just read: a fresh submission is not polled before `minInterval`.
      entries.set(key(job.ref), {
        job,
        since,
        lastChecked: now,
        eta,
        deadline: within === undefined ? undefined : since + within,
        overdue: false,
        deliveries: 0,
        reading: false
      })
      yield* persist(job)
    })

  const untrack = (ref: JobRef) =>
    Effect.gen(function* () {
      yield* forget(ref)
      if (Option.isSome(store)) yield* store.value.remove(key(ref)).pipe(Effect.ignore)
    })

  const deliver = (ref: JobRef, state: JobState, providerStatus = "webhook"): Effect.Effect<void> =>
    Effect.suspend(() => {
      const entry = entries.get(key(ref))
      if (entry === undefined) return Effect.void
      webhookUpdates++
      entry.deliveries++
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        entry.lastChecked = now
        return record(
          entry,
          new Job({ ...entry.job, state, providerStatus, observedAt: DateTime.makeUnsafe(now) }),
          true
        )
      })
    })

  const snapshot = Effect.sync(() => [...entries.values()].map((e) => e.job))

  const awaitAll = (refs?: ReadonlyArray<JobRef>) =>
    Effect.gen(function* () {
      const wanted = (refs ?? [...entries.values()].map((e) => e.job.ref)).map(key)
      const resting = () =>
        wanted.every((k) => {
          const e = entries.get(k)
          return e === undefined || e.overdue || isResting(e.job.state)
        })
      const subscription = yield* PubSub.subscribe(signals)
      while (!resting()) yield* PubSub.take(subscription)
      return wanted.flatMap((k) => {
        const e = entries.get(k)
        return e === undefined ? [] : [e.job]
      })
    }).pipe(Effect.scoped)

  const overdue = Effect.sync(() => [...entries.values()].filter((e) => e.overdue).map((e) => e.job))

  const stats = Effect.sync(
    (): Stats => ({
      tracked: entries.size,
      requests,
      rateLimited,
      webhookUpdates,
      ignoredUpdates,
      overdue: overdueCount
    })
  )

  return JobTracker.of({
    track,
    untrack,
    deliver,
    changes: Stream.fromPubSub(pubsub),
    snapshot,
    awaitAll,
    overdue,
    stats
  })
})

/** A tracker for the `TranslationProvider` in context (and the `JobStore`, when there is one). */
export const layer = (options: TrackerOptions = {}): Layer.Layer<JobTracker, never, TranslationProvider> =>
  Layer.effect(
    JobTracker,
    Effect.flatMap(TranslationProvider, (provider) => make(provider, options))
  )
