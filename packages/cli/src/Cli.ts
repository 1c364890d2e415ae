/**
 * The `polydub` commands. Each follows the same rules: input is checked before any request is
 * sent (flags, files, languages, SRT), progress goes to stderr and results to stdout, `--json`
 * prints one Schema-encoded `Job` per line, and the exit code says what happened (0 done, 1 a job
 * failed, 2 usage, 3 authentication or provider error).
 */

import {
  Idempotency,
  isResting,
  type Job,
  JobRef,
  JobStore,
  Jobs,
  Language,
  Source,
  Submission,
  SubmissionFailed,
  Transcript,
  type TranslationProviderService
} from "@polydub/core"
import { ElevenLabs, ElevenLabsLanguages } from "@polydub/provider-elevenlabs"
import { HeyGen, HeyGenLanguages } from "@polydub/provider-heygen"
import { VoiceCheap, VoiceCheapLanguages } from "@polydub/provider-voicecheap"
import { ElevenLabsSimulator, HeyGenSimulator, VoiceCheapSimulator } from "@polydub/testing"
import { Config, Console, Duration, Effect, FileSystem, Option, References, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { runDemo } from "./Demo.js"
import * as FleetMode from "./FleetMode.js"
import { storePath } from "./LocalStore.js"
import { download, JobFailed, line, printable, printJob, table } from "./Output.js"
import { embeddedTimings, type ProviderName, Providers, providerNames, UsageError } from "./Providers.js"
import { review } from "./Review.js"
import { serve } from "./Serve.js"
import { worker } from "./Worker.js"

// ---------------------------------------------------------------------------------------------
// Shared flags and input checks
// ---------------------------------------------------------------------------------------------

const providerFlag = Flag.Literals("provider", providerNames).pipe(
  Flag.withAlias("p"),
  Flag.withDescription("Which vendor: heygen, voicecheap or elevenlabs"),
  Flag.withDefault("heygen" as const)
)
const jsonFlag = Flag.Boolean("json").pipe(
  Flag.withDescription("Print each job as one line of JSON"),
  Flag.withDefault(false)
)
const forceFlag = Flag.Boolean("force").pipe(
  Flag.withDescription("Replace files already in the download folder"),
  Flag.withDefault(false)
)

const parseRefs = (inputs: ReadonlyArray<string>) =>
  Effect.forEach(inputs, (input) =>
    JobRef.parse(input).pipe(Effect.mapError((e) => new UsageError({ message: e.message })))
  ).pipe(
    Effect.flatMap((refs) => {
      const bad = refs.find((r) => !(providerNames as ReadonlyArray<string>).includes(r.provider))
      return bad === undefined
        ? Effect.succeed(refs)
        : Effect.fail(
            new UsageError({
              message: `unknown provider "${bad.provider}" in ${bad}; known: ${providerNames.join(", ")}`
            })
          )
    })
  )

/** A job reference as given, or the job a fleet workflow (`workflow:<id>`) follows. */
const jobRefOf = (ref: string) =>
  Effect.map(FleetMode.jobOf(ref), (job) => (Option.isSome(job) ? String(job.value.ref) : ref))

const providerOf = (ref: JobRef) => Effect.flatMap(Providers, (p) => p.get(ref.provider as ProviderName))

/**
 * What the store holds. Records it cannot read stay in the file; they are reported here, on stderr
 * (the store's own log line would go to stdout, where `--json` prints jobs).
 */
const loadStore = (store: JobStore.JobStoreService, path: string) =>
  store.load.pipe(
    Effect.provideService(References.MinimumLogLevel, "Error"),
    Effect.tap(({ unreadable }) =>
      Effect.forEach(unreadable ?? [], (u) => {
        const record = u.record
        const key =
          typeof record === "object" && record !== null && "idempotencyKey" in record
            ? record.idempotencyKey
            : undefined
        return Console.error(
          `polydub: job store: ${path}: ${u.section}[${u.index}] cannot be read and is kept as it is: ${u.reason}` +
            (u.section === "pending" && typeof key === "string" ? ` (idempotency key ${key})` : "")
        )
      })
    )
  )

const remember = (jobs: ReadonlyArray<Job>) =>
  Effect.gen(function* () {
    const providers = yield* Providers
    const kept = jobs.filter((j) => !providers.simulated(j.ref.provider as ProviderName))
    if (kept.length === 0) return
    const path = yield* storePath
    const store = yield* JobStore.makeFile(path)
    for (const job of kept) yield* store.put(job)
  }).pipe(Effect.catchTag("JobStoreError", (e) => Console.error(`polydub: job store: ${e.message}`)))

/**
 * What identifies a `translate` request in the store, so a rerun of the same command finds its
 * pending key: a hash of the request's parts (`Idempotency.fingerprint`). `legacy` is the plain form
 * earlier versions stored, matched but never written, so a key they left pending is still found.
 */
const fingerprintOf = (parts: {
  readonly source: string
  readonly targets: ReadonlyArray<string>
  readonly review: boolean
  readonly captions: boolean
  readonly audioOnly: boolean
}) => ({
  hash: Idempotency.fingerprint([parts.source, parts.targets, parts.review, parts.captions, parts.audioOnly]),
  legacy: [parts.source, parts.targets.join(","), parts.review, parts.captions, parts.audioOnly].join("|")
})

/**
 * The idempotency key for a submission, by core's restart-safe protocol (`Idempotency.pendingKey`):
 * one left pending by an interrupted run of the same command, or a new one. A pending key past the
 * vendor's window is refused unless `--resubmit`; a store that cannot be used is reported and the
 * submission goes without a stored key.
 */
const pendingKey = (
  provider: ProviderName,
  fingerprint: { readonly hash: string; readonly legacy: string },
  targets: ReadonlyArray<string>,
  window: Duration.Duration | undefined,
  resubmit: boolean
) =>
  Effect.gen(function* () {
    const path = yield* storePath
    const store = yield* JobStore.makeFile(path)
    // Unreadable records are reported on stderr once, here.
    yield* loadStore(store, path)
    const pending = yield* Idempotency.pendingKey(store, {
      provider,
      fingerprint: fingerprint.hash,
      alsoMatch: [fingerprint.legacy],
      targets,
      window,
      resubmit
    }).pipe(Effect.provideService(References.MinimumLogLevel, "Error"))
    const started = new Date(pending.startedAt).toISOString()
    if (pending.origin === "renewed") {
      yield* Console.error(
        `polydub: dropping the expired key of an interrupted run (started ${started}); submitting anew`
      )
    }
    if (pending.origin === "resumed") {
      yield* Console.error(`polydub: resuming an interrupted submission (idempotency key ${pending.key})`)
    }
    return pending
  }).pipe(
    Effect.catchTags({
      IdempotencyKeyExpired: (e) =>
        Effect.fail(
          new UsageError({
            message:
              `an interrupted run of this command (started ${new Date(e.startedAt).toISOString()}) may already have created jobs at ${provider}, ` +
              `and ${provider} remembers its idempotency key for only ${Duration.toHours(window ?? Duration.zero)} hours: submitting again now could be billed twice. ` +
              `Look for jobs created then in the vendor's dashboard; to submit anyway, rerun with --resubmit`
          })
        ),
      JobStoreError: (e) =>
        Effect.as(Console.error(`polydub: job store: ${e.message}; submitting without a stored key`), undefined)
    })
  )

const sourceOf = Effect.fnUntraced(function* (input: string) {
  if (/^https?:\/\//i.test(input)) return Source.url(input)
  const fs = yield* FileSystem.FileSystem
  const exists = yield* fs.exists(input).pipe(Effect.orElseSucceed(() => false))
  if (!exists) return yield* new UsageError({ message: `${input}: no such file (give a local file or an http(s) URL)` })
  return Source.file(input)
})

const targetsOf = (to: string) => {
  const targets = to
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
  return targets.length === 0
    ? Effect.fail(new UsageError({ message: "--to needs at least one language, e.g. --to es,fr-CA" }))
    : Effect.succeed(targets)
}

const readTranscript = Effect.fnUntraced(function* (file: string) {
  const fs = yield* FileSystem.FileSystem
  const format = Transcript.formatOf(file)
  if (Option.isNone(format))
    return yield* new UsageError({ message: `${file}: a transcript file ends in .srt or .vtt` })
  const text = yield* fs
    .readFileString(file)
    .pipe(Effect.mapError((e) => new UsageError({ message: `${file}: ${e.message}` })))
  return yield* Transcript.parse(text, format.value).pipe(
    Effect.mapError((e) => new UsageError({ message: `${file}: ${e.message}` }))
  )
})

// ---------------------------------------------------------------------------------------------
// Following jobs and downloading results
// ---------------------------------------------------------------------------------------------

/** Follows jobs to their resting states, a line per change; on Ctrl-C says how to resume. */
const follow = (
  jobs: ReadonlyArray<Job>,
  options: { readonly json: boolean; readonly interval?: Duration.Input | undefined }
) =>
  Effect.gen(function* () {
    const started = Date.now()
    // The embedded simulators finish in seconds; the vendors' advised polling (HeyGen: 30 s) is for real jobs.
    const providers = yield* Providers
    const interval =
      options.interval ??
      (jobs.some((j) => providers.simulated(j.ref.provider as ProviderName)) ? "500 millis" : undefined)
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`
    // On a terminal: one live line per job, redrawn in place. Elsewhere: a line per change.
    const live = !options.json && process.stderr.isTTY === true
    const current = jobs.map((job) => `${line(job)}  (${elapsed()})`)
    let drawn = 0
    const redraw = Effect.sync(() => {
      if (drawn > 0) process.stderr.write(`\x1b[${drawn}A`)
      for (const text of current) process.stderr.write(`\x1b[2K${text}\n`)
      drawn = current.length
    })
    const report = (index: number, j: Job) =>
      options.json
        ? printJob(j, true)
        : live
          ? Effect.suspend(() => {
              current[index] = `${line(j)}  (${elapsed()})`
              return redraw
            })
          : Console.error(`${line(j)}  (${elapsed()})`)
    const results = yield* Effect.forEach(
      jobs,
      (job, index) =>
        Effect.flatMap(providerOf(job.ref), (provider) =>
          Jobs.watchWith(provider, job.ref, interval === undefined ? {} : { interval }).pipe(
            Stream.tap((j) => report(index, j)),
            Stream.runLast,
            Effect.map(Option.getOrElse(() => job))
          )
        ),
      { concurrency: "unbounded" }
    )
    return results
  }).pipe(
    Effect.onInterrupt(() =>
      Effect.flatMap(Providers, (providers) => {
        const atVendor = jobs.filter((j) => !providers.simulated(j.ref.provider as ProviderName))
        return atVendor.length === 0
          ? Console.error(
              "\nStopped watching. These jobs ran on the embedded simulator, which stops with this command; they cannot be resumed."
            )
          : Console.error(
              `\nStopped watching. The jobs keep running at the vendor; resume with:\n  polydub watch ${atVendor.map((j) => printable(String(j.ref))).join(" ")}`
            )
      })
    )
  )

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

const translate = Command.make(
  "translate",
  {
    source: Argument.String("source").pipe(Argument.withDescription("A video URL or a local file")),
    to: Flag.String("to").pipe(Flag.withDescription("Target languages as BCP-47 tags, comma-separated: es,fr-CA")),
    provider: providerFlag,
    review: Flag.Boolean("review").pipe(
      Flag.withDescription("Stop for subtitle review before rendering"),
      Flag.withDefault(false)
    ),
    captions: Flag.Boolean("captions").pipe(
      Flag.withDescription("Also produce caption files"),
      Flag.withDefault(false)
    ),
    audioOnly: Flag.Boolean("audio-only").pipe(
      Flag.withDescription("Translate the voice track only"),
      Flag.withDefault(false)
    ),
    title: Flag.String("title").pipe(Flag.withDescription("A title for the jobs"), Flag.optional),
    resubmit: Flag.Boolean("resubmit").pipe(
      Flag.withDescription("Submit anew even if an interrupted run's key has expired at the vendor (may bill twice)"),
      Flag.withDefault(false)
    ),
    wait: Flag.Boolean("wait").pipe(Flag.withDescription("Follow the jobs until they settle"), Flag.withDefault(false)),
    download: Flag.String("download").pipe(
      Flag.withDescription("Download results into this folder (implies --wait)"),
      Flag.optional
    ),
    force: forceFlag,
    json: jsonFlag
  },
  Effect.fn(function* (input) {
    const targets = yield* targetsOf(input.to)
    if (yield* FleetMode.enabled) {
      // Durable workflows on the fleet's runners; --download saves here what they rendered.
      const finished = yield* FleetMode.translate({
        source: input.source,
        provider: input.provider,
        targets,
        review: input.review,
        captions: input.captions,
        audioOnly: input.audioOnly,
        title: input.title,
        wait: input.wait || Option.isSome(input.download),
        json: input.json
      })
      if (Option.isSome(input.download)) {
        for (const w of finished) {
          if (w.job?.state._tag === "Succeeded") {
            yield* download(yield* providerOf(w.job.ref), w.job, input.download.value, { force: input.force })
          }
        }
      }
      const failed = finished.filter((w) => w.phase === "failed" || w.phase === "error")
      if (failed.length > 0) return yield* new JobFailed({ message: `${failed.length} workflow(s) did not succeed` })
      return
    }
    const source = yield* sourceOf(input.source)
    const providers = yield* Providers
    const provider = yield* providers.get(input.provider)
    // A submission interrupted before its answer was recorded keeps its idempotency key in the
    // store; running the same command again reuses it, so the vendor replays instead of billing twice.
    const pending =
      provider.capabilities.idempotency && !providers.simulated(input.provider)
        ? yield* pendingKey(
            input.provider,
            fingerprintOf({
              source: input.source,
              targets,
              review: input.review,
              captions: input.captions,
              audioOnly: input.audioOnly
            }),
            targets,
            provider.capabilities.idempotencyWindow,
            input.resubmit
          )
        : undefined
    const results = yield* provider.submit({
      source,
      targets,
      review: input.review,
      captions: input.captions,
      audioOnly: input.audioOnly,
      ...(Option.isSome(input.title) ? { title: input.title.value } : {}),
      ...(pending === undefined ? {} : { idempotencyKey: pending.key })
    })
    const jobs = Submission.accepted(results)
    const refused = Submission.failures(results)
    // Every accepted job is recorded and printed before any failure is reported: it is billed, and
    // must be followed whatever became of the other targets.
    yield* remember(jobs)
    for (const job of jobs) yield* printJob(job, input.json)
    if (pending !== undefined && refused.length === 0) yield* pending.done
    if (refused.length > 0) {
      // One vendor request failed for every target: nothing was accepted, report it as that request's error.
      const only = refused[0]!.error
      if (jobs.length === 0 && refused.every((f) => f.error === only)) return yield* only
      for (const f of refused) {
        yield* Console.error(`polydub: ${f.language} was not accepted: ${f.error._tag}: ${printable(f.error.message)}`)
      }
      const unknown = refused.filter((f) => f.error._tag === "ProviderUnavailable" && f.error.outcome === "unknown")
      if (unknown.length > 0) {
        yield* Console.error(
          `polydub: ${unknown.map((f) => f.language).join(", ")} may have been created anyway (the answer was lost); check before submitting again`
        )
      }
      yield* Console.error(
        pending !== undefined
          ? "polydub: run this same command again to retry the failed targets: the accepted ones are replayed under the same idempotency key, not billed again"
          : `polydub: to retry only the failed targets: polydub translate ${input.source} --provider ${input.provider} --to ${refused.map((f) => f.language).join(",")}`
      )
    }
    const failure =
      refused.length === 0
        ? undefined
        : new SubmissionFailed({
            accepted: jobs,
            failures: refused,
            message: `${refused.length} of ${results.length} targets were not accepted (${refused.map((f) => f.language).join(", ")})`
          })
    if (!input.wait && Option.isNone(input.download)) {
      if (failure !== undefined) return yield* failure
      return
    }
    const settled = yield* follow(jobs, { json: input.json })
    yield* remember(settled)
    if (Option.isSome(input.download)) {
      for (const job of settled) {
        if (job.state._tag === "Succeeded") {
          yield* download(yield* providerOf(job.ref), job, input.download.value, { force: input.force })
        }
      }
    }
    if (!input.json) for (const job of settled) yield* Console.log(line(job))
    if (failure !== undefined) return yield* failure
    const failed = settled.filter((j) => j.state._tag === "Failed")
    if (failed.length > 0) return yield* new JobFailed({ message: `${failed.length} job(s) failed` })
  })
).pipe(Command.withDescription("Translate a video into one or more languages"))

const status = Command.make(
  "status",
  {
    refs: Argument.String("ref").pipe(
      Argument.withDescription("Job references, provider[@version]:kind[/language]:id"),
      Argument.atLeast(1)
    ),
    json: jsonFlag
  },
  Effect.fn(function* ({ json, refs }) {
    if (refs.some(FleetMode.isWorkflowRef)) return yield* FleetMode.status(refs, json)
    const parsed = yield* parseRefs(refs)
    const jobs: Array<Job> = []
    for (const ref of parsed) {
      const job = yield* Effect.flatMap(providerOf(ref), (p) => p.get(ref))
      jobs.push(job)
      yield* printJob(job, json)
    }
    if (jobs.some((j) => j.state._tag === "Failed")) return yield* new JobFailed({ message: "a job failed" })
  })
).pipe(Command.withDescription("Print the current state of jobs"))

const watch = Command.make(
  "watch",
  {
    refs: Argument.String("ref").pipe(
      Argument.withDescription(
        "Job references, provider[@version]:kind[/language]:id; none resumes every open job in the store"
      ),
      Argument.variadic()
    ),
    json: jsonFlag
  },
  Effect.fn(function* ({ json, refs }) {
    if (refs.some(FleetMode.isWorkflowRef) || (refs.length === 0 && (yield* FleetMode.enabled))) {
      return yield* FleetMode.watch(refs, json)
    }
    let parsed = yield* parseRefs(refs)
    if (parsed.length === 0) {
      const path = yield* storePath
      const stored = yield* JobStore.makeFile(path).pipe(
        Effect.flatMap((store) => loadStore(store, path)),
        Effect.mapError((e) => new UsageError({ message: e.message }))
      )
      parsed = stored.jobs.filter((j) => !isResting(j.state)).map((j) => j.ref)
      if (parsed.length === 0) return yield* Console.error(`polydub: no open jobs in ${path}`)
      yield* Console.error(`polydub: resuming ${parsed.length} open job(s) from ${path}`)
    }
    const first = yield* Effect.forEach(parsed, (ref) => Effect.flatMap(providerOf(ref), (p) => p.get(ref)))
    yield* remember(first)
    const settled = yield* follow(first, { json })
    yield* remember(settled)
    if (!json) for (const job of settled) yield* Console.log(line(job))
    if (settled.some((j) => j.state._tag === "Failed")) return yield* new JobFailed({ message: "a job failed" })
  })
).pipe(Command.withDescription("Follow jobs until they settle, a line per change"))

const transcriptGet = Command.make(
  "get",
  {
    ref: Argument.String("ref").pipe(Argument.withDescription("A review job awaiting review, provider:kind:id")),
    output: Flag.String("output").pipe(
      Flag.withAlias("o"),
      Flag.withDescription("Write to this .srt or .vtt file"),
      Flag.optional
    )
  },
  Effect.fn(function* ({ output, ref }) {
    const [parsed] = yield* parseRefs([yield* jobRefOf(ref)])
    const format = Option.isSome(output) ? Transcript.formatOf(output.value) : Option.some<Transcript.Format>("srt")
    if (Option.isNone(format))
      return yield* new UsageError({ message: `${Option.getOrElse(output, () => "")}: use a .srt or .vtt file name` })
    const transcript = yield* Effect.flatMap(providerOf(parsed!), (p) => p.transcript(parsed!))
    const text = Transcript.print(transcript, format.value)
    if (Option.isNone(output)) return yield* Console.log(text)
    const fs = yield* FileSystem.FileSystem
    yield* fs.writeFileString(output.value, text).pipe(Effect.mapError((e) => new UsageError({ message: e.message })))
    yield* Console.error(`saved ${output.value} (${transcript.cues.length} cues)`)
  })
).pipe(Command.withDescription("Fetch the editable transcript of a job awaiting review"))

const transcriptPut = Command.make(
  "put",
  {
    ref: Argument.String("ref").pipe(Argument.withDescription("A review job awaiting review, provider:kind:id")),
    file: Argument.String("file").pipe(Argument.withDescription("The revised subtitles, a .srt or .vtt file"))
  },
  Effect.fn(function* ({ file, ref }) {
    const [parsed] = yield* parseRefs([yield* jobRefOf(ref)])
    const transcript = yield* readTranscript(file)
    yield* Effect.flatMap(providerOf(parsed!), (p) => p.reviseTranscript(parsed!, transcript))
    yield* Console.error(`revised ${parsed} with ${transcript.cues.length} cues from ${file}`)
  })
).pipe(Command.withDescription("Replace the transcript of a job awaiting review"))

const transcript = Command.make("transcript").pipe(
  Command.withSubcommands([transcriptGet, transcriptPut]),
  Command.withDescription("Read or revise a review job's subtitles")
)

const approve = Command.make(
  "approve",
  {
    ref: Argument.String("ref").pipe(Argument.withDescription("The reviewed job, provider:kind:id")),
    captions: Flag.Boolean("captions").pipe(
      Flag.withDescription("Also produce caption files"),
      Flag.withDefault(false)
    ),
    audioOnly: Flag.Boolean("audio-only").pipe(
      Flag.withDescription("Render the voice track only"),
      Flag.withDefault(false)
    ),
    transcript: Flag.String("transcript").pipe(
      Flag.withDescription("Revise the subtitles with this .srt or .vtt file before rendering"),
      Flag.optional
    ),
    json: jsonFlag
  },
  Effect.fn(function* ({ audioOnly, captions, json, ref, transcript }) {
    const revised = Option.isSome(transcript) ? yield* readTranscript(transcript.value) : undefined
    // A job a fleet workflow follows is approved through the workflow, which then renders it.
    if (FleetMode.isWorkflowRef(ref) || (yield* FleetMode.followed(ref))) {
      return yield* FleetMode.approve(ref, { captions, audioOnly, transcript: revised }, json)
    }
    const [parsed] = yield* parseRefs([ref])
    if (revised !== undefined) yield* Effect.flatMap(providerOf(parsed!), (p) => p.reviseTranscript(parsed!, revised))
    const job = yield* Effect.flatMap(providerOf(parsed!), (p) => p.approve(parsed!, { captions, audioOnly }))
    yield* remember([job])
    yield* printJob(job, json)
  })
).pipe(Command.withDescription("Render a reviewed job; prints the rendering job"))

const downloadCommand = Command.make(
  "download",
  {
    ref: Argument.String("ref").pipe(Argument.withDescription("A succeeded job, provider:kind:id")),
    to: Flag.String("to").pipe(Flag.withDescription("The folder to save into"), Flag.withDefault(".")),
    force: forceFlag
  },
  Effect.fn(function* ({ force, ref, to }) {
    const [parsed] = yield* parseRefs([yield* jobRefOf(ref)])
    const provider = yield* providerOf(parsed!)
    const job = yield* provider.get(parsed!)
    const files = yield* download(provider, job, to, { force })
    for (const file of files) yield* Console.log(file)
  })
).pipe(Command.withDescription("Download a succeeded job's files"))

const staticProviders: Record<
  ProviderName,
  {
    readonly capabilities: TranslationProviderService["capabilities"]
    readonly languages: ReadonlyArray<Language.LanguageEntry>
  }
> = {
  heygen: { capabilities: HeyGen.capabilitiesV3, languages: HeyGenLanguages.table.entries },
  voicecheap: { capabilities: VoiceCheap.capabilities, languages: VoiceCheapLanguages.table.entries },
  // The legacy dubbing API, the default; `ELEVENLABS_API_VERSION=v2` selects the Dubbing Projects API.
  elevenlabs: { capabilities: ElevenLabs.capabilitiesV1, languages: ElevenLabsLanguages.legacyTable.entries }
}

const languages = Command.make(
  "languages",
  { provider: providerFlag },
  Effect.fn(function* ({ provider }) {
    // ElevenLabs' two APIs name languages differently: the one `ELEVENLABS_API_VERSION` picks is listed.
    const version = yield* Config.option(Config.String("ELEVENLABS_API_VERSION")).pipe(
      Effect.orElseSucceed(() => Option.none<string>())
    )
    const entries =
      provider === "elevenlabs" && Option.getOrUndefined(version) === "v2"
        ? ElevenLabsLanguages.projectsTable.entries
        : staticProviders[provider].languages
    yield* Console.log(
      table([["tag", "name", "language"], ...entries.map((e) => [e.tag, e.name, Language.displayName(e.tag)])])
    )
  })
).pipe(Command.withDescription("List a provider's target languages: BCP-47 tag and the vendor's name"))

const yes = (b: boolean) => (b ? "yes" : "—")

const providers = Command.make(
  "providers",
  {},
  Effect.fn(function* () {
    const columns: ReadonlyArray<readonly [string, TranslationProviderService["capabilities"], number]> = [
      ["heygen", staticProviders.heygen.capabilities, staticProviders.heygen.languages.length],
      ["voicecheap", staticProviders.voicecheap.capabilities, staticProviders.voicecheap.languages.length],
      ["elevenlabs", staticProviders.elevenlabs.capabilities, staticProviders.elevenlabs.languages.length],
      ["elevenlabs (v2)", ElevenLabs.capabilitiesV2, ElevenLabsLanguages.projectsTable.entries.length]
    ]
    const row = (label: string, cell: (c: TranslationProviderService["capabilities"], languages: number) => string) => [
      label,
      ...columns.map(([, c, n]) => cell(c, n))
    ]
    yield* Console.log(
      table([
        ["capability", ...columns.map(([name]) => name)],
        row("review step", (c) => yes(c.review)),
        row("URL input", (c) => c.urlInput),
        row("file input", (c) => yes(c.fileInput)),
        row("targets per request", (c) => String(c.targetsPerRequest)),
        row("captions", (c) => yes(c.outputs.captions)),
        row("audio only", (c) => yes(c.audioOnly)),
        row("lip sync", (c) => yes(c.outputs.lipSyncVideo)),
        row("webhooks", (c) => yes(c.webhooks)),
        row("delete", (c) => yes(c.remove)),
        row("idempotency keys", (c) => yes(c.idempotency)),
        row("bulk status", (c) => (c.bulkStatus ? `${c.bulkStatus}/request` : "—")),
        row("languages", (_c, n) => String(n))
      ])
    )
  })
).pipe(Command.withDescription("Show what each provider can do"))

const simulate = Command.make(
  "simulate",
  {
    port: Flag.Int("port").pipe(
      Flag.withDescription("HeyGen's port; VoiceCheap's is the next one, ElevenLabs' the one after"),
      Flag.optional
    )
  },
  Effect.fn(function* ({ port }) {
    const base = Option.getOrElse(port, () => 0)
    const heygen = yield* HeyGenSimulator.serve({ ...embeddedTimings.heygen, port: base })
    const voicecheap = yield* VoiceCheapSimulator.serve({
      ...embeddedTimings.voicecheap,
      port: base === 0 ? 0 : base + 1
    })
    const elevenlabs = yield* ElevenLabsSimulator.serve({
      ...embeddedTimings.elevenlabs,
      port: base === 0 ? 0 : base + 2
    })
    yield* Console.log(
      [
        `HeyGen simulator:     ${heygen.baseUrl}  (key ${heygen.apiKey})`,
        `VoiceCheap simulator: ${voicecheap.baseUrl}  (key ${voicecheap.apiKey})`,
        `ElevenLabs simulator: ${elevenlabs.baseUrl}  (key ${elevenlabs.apiKey})`,
        "",
        "Point polydub (or any client) at them:",
        `  export HEYGEN_BASE_URL=${heygen.baseUrl} HEYGEN_API_KEY=${heygen.apiKey}`,
        `  export VOICECHEAP_BASE_URL=${voicecheap.baseUrl} VOICECHEAP_API_KEY=${voicecheap.apiKey}`,
        `  export ELEVENLABS_BASE_URL=${elevenlabs.baseUrl} ELEVENLABS_API_KEY=${elevenlabs.apiKey}`,
        "",
        "These are test keys of the simulators, not vendor keys. Ctrl-C stops them."
      ].join("\n")
    )
    return yield* Effect.never
  }, Effect.scoped)
).pipe(Command.withDescription("Serve the simulators on loopback until stopped"))

const demo = Command.make("demo", { out: Flag.String("out").pipe(Flag.withDefault("polydub-demo")) }, ({ out }) =>
  runDemo(out)
).pipe(Command.withDescription("The main job end to end on the embedded simulators"))

export const polydub = Command.make("polydub").pipe(
  Command.withSubcommands([
    translate,
    status,
    watch,
    transcript,
    approve,
    downloadCommand,
    languages,
    providers,
    simulate,
    demo,
    worker,
    serve,
    review
  ]),
  Command.withDescription("Translate (dub) videos on HeyGen, VoiceCheap or ElevenLabs — or on the embedded simulators")
)
