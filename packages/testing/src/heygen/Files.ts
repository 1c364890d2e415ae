/**
 * Files in and out of the HeyGen simulator: v3 asset uploads (multipart, and direct uploads with
 * their PUT and `complete` call) and the presigned-style URLs it serves outputs and assets at,
 * which expire and refuse an edited signature as S3 does.
 */

import { randomBytes } from "node:crypto"
import { Clock, Effect, Stream } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { mediaResponse } from "../internal/mediaResponse.js"
import { sampleFor } from "../SampleMedia.js"
import { type Body, ok, v3Error } from "./Envelopes.js"
import * as Requests from "./Requests.js"
import type { Route } from "./Route.js"
import type { State } from "./State.js"

/** The types `POST /v3/assets` takes: "png, jpeg, mp4, webm, mp3, wav, pdf, srt" (and SRTs sent as text). */
const assetTypes = [
  "image/png",
  "image/jpeg",
  "video/mp4",
  "video/webm",
  "audio/mpeg",
  "audio/wav",
  "application/pdf",
  "application/x-subrip",
  "text/plain"
]

const byExtension: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  mp4: "video/mp4",
  webm: "video/webm",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  pdf: "application/pdf",
  srt: "application/x-subrip"
}

/**
 * The type of an uploaded part. HeyGen's CLI uploads every file as `application/octet-stream` (Go's
 * `multipart.Writer.CreateFormFile`), and HeyGen documents the supported types by extension, so a
 * part without a type of its own takes the type of its file name; HeyGen does not say how it
 * decides, only which types it takes.
 */
const typeOf = (partType: string, fileName: string): string => {
  const declared = partType.split(";")[0]!.trim().toLowerCase()
  if (declared !== "" && declared !== "application/octet-stream") return declared
  const extension = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase()
  return (extension === undefined ? undefined : byExtension[extension]) ?? (declared || "application/octet-stream")
}

/** The asset and file routes over `state`. */
export const routesFiles = (state: State, route: Route) => {
  const { assets } = state

  const uploadAsset = route({ version: "v3", idempotent: true }, ({ now, request }) =>
    Effect.gen(function* () {
      let file: { name: string; type: string; bytes: number; chunks: Array<Uint8Array> } | undefined
      const parsed = yield* request.multipartStream.pipe(
        Stream.runForEach((part) => {
          if (part._tag !== "File" || part.key !== "file" || file !== undefined) {
            return part._tag === "File" ? Stream.runDrain(part.content) : Effect.void
          }
          const current = { name: part.name, type: part.contentType, bytes: 0, chunks: [] as Array<Uint8Array> }
          file = current
          return Stream.runForEach(part.content, (chunk) =>
            Effect.sync(() => {
              current.bytes += chunk.byteLength
              // Keep small text files (SRTs) only; media is counted and dropped.
              if (current.bytes <= 1024 * 1024) current.chunks.push(chunk)
            })
          )
        }),
        Effect.result
      )
      if (parsed._tag === "Failure")
        return v3Error(400, "invalid_parameter", "The multipart body could not be read.", "file")
      if (file === undefined) return v3Error(400, "invalid_parameter", "'file' is required.", "file")
      const uploaded: { name: string; type: string; bytes: number; chunks: Array<Uint8Array> } = file
      if (uploaded.bytes > 32 * 1024 * 1024)
        return v3Error(413, "payload_too_large", "Assets uploaded this way are limited to 32 MB; use direct uploads.")
      const type = typeOf(uploaded.type, uploaded.name)
      if (!assetTypes.includes(type))
        return v3Error(400, "invalid_parameter", `Content type not supported ${type}`, "file")
      const id = `ast_${randomBytes(8).toString("hex")}`
      const isText = type === "application/x-subrip" || type === "text/plain"
      assets.set(id, {
        bytes: uploaded.bytes,
        mime: type,
        text: isText ? Buffer.concat(uploaded.chunks).toString("utf8") : undefined,
        complete: true
      })
      return HttpServerResponse.jsonUnsafe({
        data: { asset_id: id, url: state.fileUrl(`assets/${id}`, now), mime_type: type, size_bytes: uploaded.bytes }
      })
    })
  )

  const directUpload = route({ version: "v3", json: true, idempotent: true }, ({ body, now }) => {
    const problem = Requests.refusal(Requests.DirectUpload, body)
    if (problem) return Effect.succeed(v3Error(400, "invalid_parameter", problem.message, problem.param))
    const b = body as Body
    const id = `ast_${randomBytes(8).toString("hex")}`
    assets.set(id, {
      bytes: 0,
      mime: String(b.content_type),
      text: undefined,
      complete: false,
      maxBytes: Number(b.size_bytes)
    })
    return ok({
      asset_id: id,
      upload_url: `${state.baseUrl()}/uploads/${id}?Expires=${Math.floor((now + 3600_000) / 1000)}`,
      upload_headers: { "content-type": String(b.content_type) },
      max_bytes: b.size_bytes,
      expires_in_seconds: 3600,
      status: "pending_upload"
    })
  })

  /**
   * The PUT to a direct upload's `upload_url`. HeyGen documents that the declared size "cannot be
   * exceeded" and that the URL expires (`expires_in_seconds`); it does not document the answer, so
   * the simulator answers as S3 does, with an XML error.
   */
  const putUpload = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Clock.currentTimeMillis
    const { id } = yield* HttpRouter.params
    const entry = id === undefined ? undefined : assets.get(id)
    if (entry === undefined) return HttpServerResponse.text("NoSuchUpload", { status: 404 })
    const expires = Number(new URL(request.url, "http://x").searchParams.get("Expires"))
    let bytes = 0
    yield* Stream.runForEach(request.stream, (chunk) => Effect.sync(() => void (bytes += chunk.byteLength))).pipe(
      Effect.ignore
    )
    if (!Number.isFinite(expires) || expires * 1000 < now)
      return HttpServerResponse.text("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", {
        status: 403
      })
    if (entry.maxBytes !== undefined && bytes > entry.maxBytes)
      return HttpServerResponse.text(
        "<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>",
        { status: 400 }
      )
    entry.bytes = bytes
    return HttpServerResponse.empty({ status: 200 })
  })

  const completeUpload = route({ version: "v3", json: true, idempotent: true }, ({ body, now, params }) => {
    const problem = Requests.refusal(Requests.CompleteUpload, body)
    if (problem) return Effect.succeed(v3Error(400, "invalid_parameter", problem.message, problem.param))
    const entry = params.id === undefined ? undefined : assets.get(params.id)
    if (entry === undefined) return Effect.succeed(v3Error(404, "not_found", "Asset not found."))
    entry.complete = true
    return ok({
      asset_id: params.id,
      url: state.fileUrl(`assets/${params.id}`, now),
      mime_type: entry.mime,
      size_bytes: entry.bytes,
      status: "processing"
    })
  })

  const files = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Clock.currentTimeMillis
    const url = new URL(request.url, "http://x")
    const expires = Number(url.searchParams.get("Expires"))
    if (url.searchParams.get("Signature") !== state.urlSignature(url.pathname, url.searchParams.get("Expires") ?? "")) {
      return HttpServerResponse.text(
        "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature does not match</Message></Error>",
        { status: 403 }
      )
    }
    if (!Number.isFinite(expires) || expires * 1000 < now) {
      return HttpServerResponse.text("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", {
        status: 403
      })
    }
    const [, , first, second] = url.pathname.split("/")
    if (first === "assets") {
      const entry = second === undefined ? undefined : assets.get(second)
      if (entry === undefined) return HttpServerResponse.text("NoSuchKey", { status: 404 })
      return entry.text !== undefined
        ? HttpServerResponse.text(entry.text, { contentType: entry.mime })
        : HttpServerResponse.uint8Array(new Uint8Array(16), { contentType: entry.mime })
    }
    const job = first === undefined ? undefined : state.jobs.get(first)
    if (job === undefined) return HttpServerResponse.text("NoSuchKey", { status: 404 })
    switch (second) {
      case "proofread.srt":
        return HttpServerResponse.text(job.srt, { contentType: "application/x-subrip" })
      case "original.srt":
        return HttpServerResponse.text(job.originalSrt, { contentType: "application/x-subrip" })
      case "captions.srt":
        return HttpServerResponse.text(job.srt, { contentType: "application/x-subrip" })
      case "captions.vtt":
        return HttpServerResponse.text(`WEBVTT\n\n${job.srt.replace(/^\d+\n/gm, "").replace(/,(\d{3})/g, ".$1")}`, {
          contentType: "text/vtt"
        })
      default: {
        // Real media, so a download or the review page can play what a job produced.
        const type = second?.endsWith(".mp3") ? "audio/mpeg" : "video/mp4"
        return mediaResponse(sampleFor(type), type, request.headers.range)
      }
    }
  })

  return [
    HttpRouter.add("POST", "/v3/assets", uploadAsset),
    HttpRouter.add("POST", "/v3/assets/direct-uploads", directUpload),
    HttpRouter.add("POST", "/v3/assets/:id/complete", completeUpload),
    HttpRouter.add("PUT", "/uploads/:id", putUpload),
    HttpRouter.add("GET", "/files/*", files)
  ] as const
}
