/**
 * The unified job model: a stable reference to a vendor job (`JobRef`), the states every vendor's
 * status words map onto (`JobState`), the artifacts a finished job yields, and `Job`, the state of
 * one reference at one moment. The vendor's raw status is kept beside the unified state for
 * diagnosis, never in place of it.
 */
import { DateTime, Effect, Option, Schema, SchemaGetter, SchemaIssue } from "effect"
import * as Language from "./Language.js"

/** A provider id: lowercase letters, digits and dashes, e.g. `"heygen"`. */
export const ProviderId = Schema.String.check(Schema.isPattern(/^[a-z][a-z0-9-]*$/))

/** A translation job renders media; a review job is an editable transcript awaiting approval. */
export const JobKind = Schema.Literals(["translation", "review"])
export type JobKind = typeof JobKind.Type

/**
 * A vendor's job id, as a reference can hold it: 1–512 characters, no control characters or line
 * separators, no whitespace at either end. Anything else would print as a reference that does not
 * parse back (a line break ends it), so it is refused when the reference is built, not found later
 * when a saved reference fails to read. Colons are allowed: the id is everything after the second.
 */
export const JobId = Schema.String.check(
  Schema.isMinLength(1),
  Schema.isMaxLength(512),
  Schema.isTrimmed(),
  Schema.isPattern(/^[^\p{Cc}\u2028\u2029]*$/u, {
    expected: "a job id without control characters or line separators"
  })
)

/** A BCP-47 tag as a reference carries it: letters and digits in subtags joined by dashes. */
export const RefLanguage = Schema.String.check(
  Schema.isPattern(/^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/, { expected: "a BCP-47 language tag, e.g. es or pt-BR" })
)

/** The vendor API version that created a job, where a provider has several: `v3`, `v2`, `2026-08`. */
export const ApiVersion = Schema.String.check(
  Schema.isPattern(/^[a-z0-9][a-z0-9._-]{0,31}$/, { expected: "an API version such as v3" })
)

/**
 * A reference to one vendor job. It carries what a provider needs to act on the job without a read:
 * its target language and, where the vendor has several APIs, the version that created it (a v3
 * provider refuses a v2 job instead of asking the wrong API about it).
 *
 * String form: `provider[@apiVersion]:kind[/language]:id`, e.g. `heygen@v3:review/es:abc123`. Both
 * additions sit before the second colon, where neither a provider id, a kind, a version nor a
 * language tag can hold a colon, so the id (everything after the second colon) is never cut, whatever
 * it holds. The plain form `provider:kind:id` printed by earlier versions parses with both fields
 * absent, and a provider then falls back to what it did for them (e.g. HeyGen's id suffix).
 */
export class JobRef extends Schema.Class<JobRef>("@polydub/core/JobRef")({
  provider: ProviderId,
  kind: JobKind,
  id: JobId,
  /** The BCP-47 target language of the job, where known. */
  language: Schema.optionalKey(RefLanguage),
  /** The vendor API version that created the job, where the provider has several. */
  apiVersion: Schema.optionalKey(ApiVersion)
}) {
  /** The string form, `provider[@apiVersion]:kind[/language]:id`: `formatRef`, the one way a reference is printed. */
  override toString(): string {
    return formatRef(this)
  }

  /** Parses `provider[@apiVersion]:kind[/language]:id`; the id is everything after the second colon. */
  static parse(input: string): Effect.Effect<JobRef, JobRefParseError> {
    return parseRef(input)
  }

  /** Like `parse`, returning `Option.none()` for anything that is not a reference. */
  static parseOption(input: string): Option.Option<JobRef> {
    return parseRefOption(input)
  }
}

/** `JobRef.toString()` as a function, for `map`: the one way a reference is printed. */
export const formatRef = (ref: JobRef): string =>
  `${ref.provider}${ref.apiVersion === undefined ? "" : `@${ref.apiVersion}`}:${ref.kind}` +
  `${ref.language === undefined ? "" : `/${ref.language}`}:${ref.id}`

/**
 * What identifies the vendor job, `provider:kind:id`, whatever else the reference carries: two
 * references to the same job with and without a language are the same record in a store.
 */
export const refIdentity = (ref: JobRef): string => `${ref.provider}:${ref.kind}:${ref.id}`

/** A string that is not a job reference. */
export class JobRefParseError extends Schema.TaggedError<JobRefParseError>()("JobRefParseError", {
  input: Schema.String,
  message: Schema.String
}) {}

const refPattern = /^([a-z][a-z0-9-]*)(?:@([^:/]*))?:(translation|review)(?:\/([^:]*))?:(.*)$/su

/** The reference `input` spells, if it spells one a `JobRef` can hold. */
const refOf = (input: string): Option.Option<JobRef> => {
  const match = refPattern.exec(input)
  if (match === null) return Option.none()
  const [, provider, apiVersion, kind, language, id] = match
  return JobRef.makeOption({
    provider: provider!,
    kind: kind as JobKind,
    id: id!,
    ...(apiVersion === undefined ? {} : { apiVersion }),
    ...(language === undefined ? {} : { language })
  })
}

/** Parses `provider[@apiVersion]:kind[/language]:id`; the id is everything after the second colon. */
export const parseRef = (input: string): Effect.Effect<JobRef, JobRefParseError> =>
  Effect.fromOption(
    refOf(input),
    () =>
      new JobRefParseError({
        input: input.slice(0, 200),
        message:
          `not a job reference: ${JSON.stringify(input.slice(0, 80))} ` +
          `(expected provider[@version]:kind[/language]:id with kind "translation" or "review" and an id of ` +
          `1–512 characters without control characters or surrounding spaces, e.g. heygen:review:abc123-es ` +
          `or heygen@v3:review/es:abc123)`
      })
  )

/** Like `parseRef`, returning `Option.none()` for anything that is not a reference. */
export const parseRefOption = (input: string): Option.Option<JobRef> => refOf(input)

/** `JobRef` encoded as its string form, for CLIs, logs, JSON and databases. */
export const JobRefFromString = Schema.String.pipe(
  Schema.decodeTo(JobRef, {
    decode: SchemaGetter.transformEffect((s: string) =>
      parseRef(s).pipe(Effect.mapError((e) => new SchemaIssue.InvalidValue({ message: e.message }, s)))
    ),
    encode: SchemaGetter.transform((ref: JobRef) => formatRef(ref))
  })
)

/**
 * A file a finished job produced. Most vendors give a presigned `url`, valid until `expiresAt` where
 * the URL says so (`Downloads` reads the job again for a fresh one past it). A vendor that serves its
 * outputs from an authenticated endpoint gives no URL: the file is streamed through the provider
 * (`TranslationProvider.download`). A URL artifact encodes exactly as it always did.
 */
export class Artifact extends Schema.Class<Artifact>("@polydub/core/Artifact")({
  /** A URL anyone holding it can GET; absent when the file is fetched through the provider. */
  url: Schema.optionalKey(Schema.String),
  expiresAt: Schema.optionalKey(Schema.DateTimeUtc),
  mediaType: Schema.optionalKey(Schema.String),
  /** The size in bytes, where the vendor says it: a download of another size fails. */
  size: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
}) {}

/** The files a succeeded job can yield. */
export type OutputKind = "video" | "audio" | "srt" | "vtt" | "lipSyncVideo"

/** What a succeeded job yields; each present only where the provider produced it. */
export class Outputs extends Schema.Class<Outputs>("@polydub/core/Outputs")({
  video: Schema.optionalKey(Artifact),
  audio: Schema.optionalKey(Artifact),
  captions: Schema.optionalKey(
    Schema.Struct({
      srt: Schema.optionalKey(Artifact),
      vtt: Schema.optionalKey(Artifact)
    })
  ),
  lipSyncVideo: Schema.optionalKey(Artifact)
}) {}

/** Why a job failed, in the vendor's words. */
export const FailureReason = Schema.Struct({
  code: Schema.String,
  message: Schema.String
})
export type FailureReason = typeof FailureReason.Type

/** A fraction from 0 to 1. */
export const Progress = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

/** The state of a job, the same for every provider. */
export const JobState = Schema.TaggedUnion({
  /** Accepted, not started. */
  Queued: {},
  /** Working. `progress` is 0–1 where the vendor reports it; `step` is the vendor's phase name. */
  Running: {
    progress: Schema.optionalKey(Progress),
    step: Schema.optionalKey(Schema.String)
  },
  /** The editable transcript is ready: read it, revise it, then approve to render. */
  AwaitingReview: {},
  /** Done; the outputs are ready to download. */
  Succeeded: { outputs: Outputs },
  /** Done, without a result. */
  Failed: { reason: FailureReason },
  /** Deleted at the vendor. */
  Removed: {}
})
export type JobState = typeof JobState.Type

export type Queued = typeof JobState.cases.Queued.Type
export type Running = typeof JobState.cases.Running.Type
export type AwaitingReview = typeof JobState.cases.AwaitingReview.Type
export type Succeeded = typeof JobState.cases.Succeeded.Type
export type Failed = typeof JobState.cases.Failed.Type
export type Removed = typeof JobState.cases.Removed.Type

/** Constructors for the states. */
export const State = {
  queued: (): JobState => ({ _tag: "Queued" }),
  running: (options: { readonly progress?: number | undefined; readonly step?: string | undefined } = {}): JobState => {
    const state: { _tag: "Running"; progress?: number; step?: string } = { _tag: "Running" }
    if (options.progress !== undefined) state.progress = Math.min(1, Math.max(0, options.progress))
    if (options.step !== undefined) state.step = options.step
    return state
  },
  awaitingReview: (): JobState => ({ _tag: "AwaitingReview" }),
  succeeded: (outputs: Outputs): JobState => ({ _tag: "Succeeded", outputs }),
  failed: (reason: FailureReason): JobState => ({ _tag: "Failed", reason }),
  removed: (): JobState => ({ _tag: "Removed" })
} as const

/** A state that will not change without the caller acting: review, success, failure, removal. */
export const isResting = (state: JobState): boolean =>
  state._tag === "AwaitingReview" || state._tag === "Succeeded" || state._tag === "Failed" || state._tag === "Removed"

/** A state that will never change again. */
export const isTerminal = (state: JobState): boolean =>
  state._tag === "Succeeded" || state._tag === "Failed" || state._tag === "Removed"

/** Two states are the same for watching purposes (tag, progress, step, outputs). */
export const sameState = (a: JobState, b: JobState): boolean => {
  if (a._tag !== b._tag) return false
  switch (a._tag) {
    case "Running": {
      const r = b as Running
      return a.progress === r.progress && a.step === r.step
    }
    case "Succeeded":
      return (
        JSON.stringify(Schema.encodeSync(Outputs)(a.outputs)) ===
        JSON.stringify(Schema.encodeSync(Outputs)((b as Succeeded).outputs))
      )
    case "Failed": {
      const f = b as Failed
      return a.reason.code === f.reason.code && a.reason.message === f.reason.message
    }
    default:
      return true
  }
}

/** One job as last seen: its reference, its unified state, and the vendor's own status word. */
export class Job extends Schema.Class<Job>("@polydub/core/Job")({
  ref: JobRefFromString,
  /** The BCP-47 target language. */
  language: Schema.String,
  state: JobState,
  /** The vendor's status word, as sent (`"running"`, `"success"`, `"processing"`…). */
  providerStatus: Schema.String,
  /** When this state was observed. */
  observedAt: Schema.DateTimeUtc
}) {}

/**
 * Builds a provider's jobs, observed now, whose references carry their language (where it is a
 * BCP-47 tag a reference can hold) and the API version that made them.
 */
export const jobMaker =
  (provider: string, apiVersion?: string | undefined) =>
  (kind: JobKind, id: string, language: string, state: JobState, providerStatus: string): Effect.Effect<Job> =>
    Effect.map(DateTime.now, (observedAt) => {
      const tagged = Option.filter(Language.normalizeOption(language), Schema.is(RefLanguage))
      return new Job({
        ref: new JobRef({
          provider,
          kind,
          id,
          ...(apiVersion === undefined ? {} : { apiVersion }),
          ...(Option.isSome(tagged) ? { language: tagged.value } : {})
        }),
        language,
        state,
        providerStatus,
        observedAt
      })
    })

/** `Job` as JSON (`ref` as its string form, `state` with `_tag`, times as ISO strings). */
export const JobJson = Schema.toCodecJson(Job)

/** Encodes a job to its JSON form. */
export const toJson = (job: Job): unknown => Schema.encodeSync(JobJson)(job)
