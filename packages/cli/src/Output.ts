/**
 * How the CLI prints jobs and saves their results: a fixed-width line per job for people, one JSON
 * object per job for programs, and streamed, size-checked downloads.
 */
import { type Job, toJson } from "@polydub/core"
import { Console, Effect, FileSystem, Path, Schema, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { UsageError } from "./Providers.js"

/** A job ended `Failed`. Exit code 1. */
export class JobFailed extends Schema.TaggedError<JobFailed>()("JobFailed", { message: Schema.String }) {}

const pct = (p: number | undefined) => (p === undefined ? "" : ` ${Math.round(p * 100)}%`)

export const describeState = (job: Job): string => {
  const s = job.state
  switch (s._tag) {
    case "Running":
      return `Running${s.step ? ` ${s.step}` : ""}${pct(s.progress)}`
    case "Failed":
      return `Failed: ${s.reason.code}: ${s.reason.message}`
    default:
      return s._tag
  }
}

export const line = (job: Job) => `${String(job.ref).padEnd(58)} ${job.language.padEnd(7)} ${describeState(job)}`

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

const extensions: Record<string, string> = {
  video: "mp4",
  audio: "mp3",
  srt: "srt",
  vtt: "vtt",
  lipSyncVideo: "lipsync.mp4"
}

/** Downloads a succeeded job's outputs (streamed, size checked) into `dir`; returns the files. */
export const download = Effect.fnUntraced(function* (job: Job, dir: string) {
  if (job.state._tag !== "Succeeded") {
    return yield* new UsageError({
      message: `${job.ref} is ${job.state._tag}: only a Succeeded job has files to download`
    })
  }
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const http = yield* HttpClient.HttpClient
  yield* fs
    .makeDirectory(dir, { recursive: true })
    .pipe(Effect.mapError((e) => new UsageError({ message: `${dir}: ${e.message}` })))
  const o = job.state.outputs
  const artifacts = [
    ["video", o.video],
    ["audio", o.audio],
    ["srt", o.captions?.srt],
    ["vtt", o.captions?.vtt],
    ["lipSyncVideo", o.lipSyncVideo]
  ] as const
  const files: Array<string> = []
  for (const [kind, artifact] of artifacts) {
    if (artifact === undefined) continue
    const target = path.join(dir, `${job.ref.provider}-${job.language}-${job.ref.id.slice(0, 12)}.${extensions[kind]}`)
    const response = yield* http
      .execute(HttpClientRequest.get(artifact.url))
      .pipe(Effect.mapError((e) => new UsageError({ message: `downloading ${kind} of ${job.ref}: ${e.message}` })))
    if (response.status !== 200) {
      return yield* new UsageError({
        message: `downloading ${kind} of ${job.ref} answered HTTP ${response.status}${response.status === 403 ? " (the link may have expired: run polydub status to refresh it)" : ""}`
      })
    }
    const expected = Number(response.headers["content-length"] ?? Number.NaN)
    let written = 0
    let lastReport = Date.now()
    const progress = (bytes: number) => {
      written += bytes
      // Long downloads report progress on a terminal about once a second.
      if (process.stderr.isTTY !== true || Date.now() - lastReport < 1000) return
      lastReport = Date.now()
      const of = Number.isFinite(expected)
        ? ` of ${(expected / 1048576).toFixed(1)} MB (${Math.floor((written / expected) * 100)}%)`
        : ""
      process.stderr.write(`\x1b[2K  downloading ${target}: ${(written / 1048576).toFixed(1)} MB${of}\r`)
    }
    yield* response.stream.pipe(
      Stream.tap((chunk) => Effect.sync(() => progress(chunk.byteLength))),
      Stream.run(fs.sink(target)),
      Effect.mapError((e) => new UsageError({ message: `writing ${target}: ${e.message}` }))
    )
    if (Number.isFinite(expected) && written !== expected) {
      return yield* new UsageError({ message: `${target}: received ${written} bytes of ${expected}; download again` })
    }
    yield* Console.error(`saved ${target} (${written} bytes)`)
    files.push(target)
  }
  return files
})
