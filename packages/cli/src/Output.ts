/**
 * How the CLI prints jobs and saves their results: a fixed-width line per job for people, one JSON
 * object per job for programs, and downloads under core's `Downloads` rules. Vendor text (steps,
 * failure messages, ids, languages) reaches people only through `printable`: a vendor must not be
 * able to drive the terminal (move the cursor, retitle the window, fake a line). `--json` stays exact.
 */
import { Downloads, type Job, type TranslationProviderService, toJson } from "@polydub/core"
import { Config, Console, Effect, Schema } from "effect"
import { UsageError } from "./Providers.js"

/** A job ended `Failed`. Exit code 1. */
export class JobFailed extends Schema.TaggedError<JobFailed>()("JobFailed", { message: Schema.String }) {}

/** A file could not be downloaded (see `Downloads.DownloadErrorReason`). Exit code 3. */
export class DownloadFailed extends Schema.TaggedError<DownloadFailed>()("DownloadFailed", {
  reason: Downloads.DownloadErrorReason,
  message: Schema.String
}) {}

/**
 * Text made safe to print on a terminal: line breaks and tabs become spaces; every other control
 * character (C0 and C1, so ESC, BEL, backspace and the one-byte CSI \u009b) and the Unicode bidi
 * controls that reorder what is shown become U+FFFD, visible, and inert.
 */
export const printable = (text: string): string =>
  text
    .replace(/[\t\n\v\f\r]/g, " ")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "\ufffd")

const pct = (p: number | undefined) => (p === undefined ? "" : ` ${Math.round(p * 100)}%`)

export const describeState = (job: Job): string => {
  const s = job.state
  switch (s._tag) {
    case "Running":
      return `Running${s.step ? ` ${printable(s.step)}` : ""}${pct(s.progress)}`
    case "Failed":
      return `Failed: ${printable(s.reason.code)}: ${printable(s.reason.message)}`
    default:
      return s._tag
  }
}

export const line = (job: Job) =>
  `${printable(String(job.ref)).padEnd(72)} ${printable(job.language).padEnd(7)} ${describeState(job)}`

export const printJob = (job: Job, json: boolean) => Console.log(json ? JSON.stringify(toJson(job)) : line(job))

export const table = (rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()
    )
    .join("\n")
}

/**
 * How downloads are bounded, from the environment: `POLYDUB_DOWNLOAD_HEADER_TIMEOUT` (default 30 s) for
 * the answer's headers, `POLYDUB_DOWNLOAD_IDLE_TIMEOUT` (60 s) between bytes of the body, and
 * `POLYDUB_DOWNLOAD_MAX_BYTES` (20 GiB; a number of bytes or a size such as `500 MB`) per file.
 */
const downloadBounds = Config.all({
  headerTimeout: Config.Duration("POLYDUB_DOWNLOAD_HEADER_TIMEOUT").pipe(
    Config.withDefault(Downloads.defaults.headerTimeout)
  ),
  idleTimeout: Config.Duration("POLYDUB_DOWNLOAD_IDLE_TIMEOUT").pipe(
    Config.withDefault(Downloads.defaults.idleTimeout)
  ),
  maxBytes: Config.Int("POLYDUB_DOWNLOAD_MAX_BYTES").pipe(
    Config.orElse(() => Config.ByteSize("POLYDUB_DOWNLOAD_MAX_BYTES").pipe(Config.map(Number))),
    Config.withDefault(Downloads.defaults.maxBytes)
  )
})

export interface DownloadOptions {
  /** Replace files already in the folder (`--force`). */
  readonly force?: boolean | undefined
}

/**
 * Downloads a succeeded job's outputs into `dir` through core's `Downloads.saveOutput` (safe names,
 * bounded fetches retried where safe, expired links refreshed by reading the job again, outputs
 * without a URL streamed through the provider, files moved into place only when complete); returns
 * the files.
 */
export const download = Effect.fnUntraced(function* (
  provider: TranslationProviderService,
  job: Job,
  dir: string,
  options: DownloadOptions = {}
) {
  if (job.state._tag !== "Succeeded") {
    return yield* new UsageError({
      message: `${printable(String(job.ref))} is ${job.state._tag}: only a Succeeded job has files to download`
    })
  }
  const bounds = yield* downloadBounds
  const force = options.force === true
  const artifacts = Downloads.artifactsOf(job.state.outputs).map(
    ([kind]) => [kind, Downloads.fileName(job, kind)] as const
  )
  // A name already taken is the user's to resolve (exit 2); a failed transfer is the vendor's (exit 3).
  const explain = (kind: string) => (e: Downloads.DownloadError) =>
    e.reason === "Exists"
      ? new UsageError({ message: `${e.path} already exists; rerun with --force to replace it` })
      : e.reason === "UnsafePath"
        ? new UsageError({ message: e.message })
        : new DownloadFailed({
            reason: e.reason,
            message:
              `downloading ${kind} of ${printable(String(job.ref))}: ${e.message}` +
              (e.status === 403 ? " (the link was refused even after reading the job again)" : "")
          })
  // Every name is checked before any byte is fetched: a file already there stops the whole download.
  for (const [kind, name] of artifacts) {
    yield* Downloads.target({ dir, name, force }).pipe(Effect.mapError(explain(kind)))
  }
  const files: Array<string> = []
  for (const [kind, name] of artifacts) {
    let lastReport = Date.now()
    // Long downloads report progress on a terminal about once a second.
    const onProgress = (written: number, expected: number | undefined) =>
      Effect.sync(() => {
        if (process.stderr.isTTY !== true || Date.now() - lastReport < 1000) return
        lastReport = Date.now()
        const of =
          expected === undefined
            ? ""
            : ` of ${(expected / 1048576).toFixed(1)} MB (${Math.floor((written / expected) * 100)}%)`
        process.stderr.write(`\x1b[2K  downloading ${name}: ${(written / 1048576).toFixed(1)} MB${of}\r`)
      })
    const saved = yield* Downloads.saveOutput(provider, job, kind, { dir, name, force, ...bounds, onProgress }).pipe(
      Effect.mapError(explain(kind))
    )
    yield* Console.error(`saved ${saved.path} (${saved.bytes} bytes)`)
    files.push(saved.path)
  }
  return files
})
