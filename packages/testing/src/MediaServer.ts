/**
 * A loopback HTTP server that serves generated media files, as a stand-in for the public URLs
 * applications pass as sources (vendors that fetch URLs themselves, or providers that stream a URL
 * into an upload), with the faults of real servers on demand: silence, a stalled body, a body shorter
 * than it declared, a body of unknown length. Bytes are generated as they are sent, so a large file
 * costs no memory; a file given with its `body` (a playable sample) is served as it is.
 */

import { createServer } from "node:http"
import { Context, Effect, Layer, type Scope } from "effect"

export interface MediaFile {
  /** Path on the server, e.g. `/videos/talk.mp4`. */
  readonly path: string
  /** The length of the generated body; with `body`, the body's own length is served. */
  readonly size: number
  /** Serve these bytes (a real, playable file such as `SampleMedia.sampleVideo()`) instead of generated ones. */
  readonly body?: Uint8Array | undefined
  readonly mediaType?: string | undefined
  /** Send only this many bytes, then nothing more while the connection stays open: a stalled answer. */
  readonly stallAfter?: number | undefined
  /** Take the request and never answer, not even the headers: a server that accepted and went silent. */
  readonly hang?: boolean | undefined
  /**
   * The `Content-Length` sent, where it differs from `size`. Larger than `size` makes a short body:
   * the connection is closed after `size` bytes.
   */
  readonly declaredSize?: number | undefined
  /** Send no `Content-Length` (a chunked body), as a server streaming a body of unknown length does. */
  readonly noLength?: boolean | undefined
}

export interface MediaServer {
  readonly baseUrl: string
  /** The URL of a served path. */
  readonly url: (path: string) => string
  /** Bytes sent so far, over all requests. */
  readonly bytesServed: () => number
  readonly requests: () => number
}

/** The byte at `offset` of every generated file: a repeating pattern a receiver can check. */
export const byteAt = (offset: number): number => (offset * 31 + 7) & 0xff

const chunk = (offset: number, length: number) => {
  const out = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) out[i] = byteAt(offset + i)
  return out
}

/** Serves `files` on 127.0.0.1 for the life of the scope. */
export const serve = (files: ReadonlyArray<MediaFile>): Effect.Effect<MediaServer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const byPath = new Map(files.map((f) => [f.path, f]))
    let bytes = 0
    let requests = 0
    const server = createServer((req, res) => {
      requests++
      const file = byPath.get(new URL(req.url ?? "/", "http://x").pathname)
      if (file === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found")
        return
      }
      if (file.hang === true) return
      if (file.body !== undefined) {
        // A playable file, with byte ranges so a browser's <video> can seek in it.
        const type = file.mediaType ?? "video/mp4"
        const size = file.body.byteLength
        const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "")
        const start = m === null ? 0 : Number(m[1])
        const end = m === null || m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1)
        if (m !== null && start >= size) {
          return void res.writeHead(416, { "content-range": `bytes */${size}` }).end()
        }
        res.writeHead(m === null ? 200 : 206, {
          "content-type": type,
          "accept-ranges": "bytes",
          "content-length": String(end - start + 1),
          ...(m === null ? {} : { "content-range": `bytes ${start}-${end}/${size}` })
        })
        if (req.method === "HEAD") return void res.end()
        bytes += end - start + 1
        return void res.end(file.body.subarray(start, end + 1))
      }
      res.writeHead(200, {
        "content-type": file.mediaType ?? "video/mp4",
        ...(file.noLength === true ? {} : { "content-length": String(file.declaredSize ?? file.size) })
      })
      if (req.method === "HEAD") return void res.end()
      let offset = 0
      const end = Math.min(file.size, file.stallAfter ?? file.size)
      const pump = () => {
        while (offset < end) {
          const n = Math.min(64 * 1024, end - offset)
          const ok = res.write(chunk(offset, n))
          offset += n
          bytes += n
          if (!ok) return void res.once("drain", pump)
        }
        if (end < file.size) return
        // A body shorter than its declared length can only end by closing the connection.
        if (file.declaredSize !== undefined && file.declaredSize > file.size) res.socket?.end()
        else res.end()
      }
      pump()
    })
    yield* Effect.acquireRelease(
      Effect.callback<void>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.void))
      }),
      () =>
        Effect.callback<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    const baseUrl = `http://127.0.0.1:${port}`
    return { baseUrl, url: (path: string) => `${baseUrl}${path}`, bytesServed: () => bytes, requests: () => requests }
  })

export class Media extends Context.Service<Media, MediaServer>()("@polydub/testing/MediaServer") {}

/** Serves `files` for the life of the layer. */
export const layer = (files: ReadonlyArray<MediaFile>): Layer.Layer<Media> => Layer.effect(Media, serve(files))
