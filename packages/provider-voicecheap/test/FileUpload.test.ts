// A local file as a multipart upload (`ProviderHttp.fileUpload`, which VoiceCheap and HeyGen share):
// read through a fixed set of buffers, so the memory in flight does not grow with the file, and the
// bytes that reach a server over loopback are the file's, through each Node HTTP client, even when
// the server reads slowly and the buffers are reused under backpressure.

import { createHash } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ProviderHttp } from "@polydub/core"
import { Effect, FileSystem, Layer, Stream } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"

const MiB = 1024 * 1024

/** A file whose every 4 bytes hold their own offset, so a chunk sent twice or overwritten shows. */
const patterned = (size: number) => {
  const bytes = new Uint8Array(size)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i + 4 <= size; i += 4) view.setUint32(i, i)
  return bytes
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** A patterned file in a temporary directory, removed with the scope. */
const tempFile = (size: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "polydub-upload-"))
      const bytes = patterned(size)
      const path = join(dir, "talk.mp4")
      writeFileSync(path, bytes)
      return { dir, path, bytes }
    }),
    ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** A loopback server that reads each request body slowly (a pause every 256 KiB) and keeps it whole. */
const slowSink = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly bodies: Array<Buffer>; readonly close: () => void }>((resume) => {
    const bodies: Array<Buffer> = []
    const server = createServer((req, res) => {
      const parts: Array<Buffer> = []
      let sinceLastPause = 0
      req.on("data", (chunk: Buffer) => {
        parts.push(chunk)
        sinceLastPause += chunk.length
        if (sinceLastPause >= 256 * 1024) {
          sinceLastPause = 0
          req.pause()
          setTimeout(() => req.resume(), 2)
        }
      })
      req.on("end", () => {
        bodies.push(Buffer.concat(parts))
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () =>
      resume(
        Effect.succeed({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`,
          bodies,
          close: () => server.close()
        })
      )
    )
  }),
  (sink) => Effect.sync(() => sink.close())
)

describe("ProviderHttp.fileUpload", () => {
  it.live("reads a file through a fixed set of buffers, however large the file", () =>
    Effect.gen(function* () {
      const { path, bytes } = yield* tempFile(24 * MiB + 5)
      const fs = yield* FileSystem.FileSystem
      const upload = yield* ProviderHttp.fileUpload(fs, { _tag: "File", path }, { provider: "t", operation: "t" })
      const buffers = new Set<ArrayBufferLike>()
      const hash = createHash("sha256")
      let total = 0
      // Each chunk is checked as it arrives, before the next read may reuse its buffer.
      yield* Stream.runForEach(upload.stream, (chunk) =>
        Effect.sync(() => {
          buffers.add(chunk.buffer)
          hash.update(chunk)
          total += chunk.byteLength
        })
      )
      assert.strictEqual(total, bytes.byteLength)
      assert.strictEqual(hash.digest("hex"), sha256(bytes))
      // 25 reads of at most 1 MiB; a fresh buffer per read would make 25 distinct buffers.
      assert.isAtMost(buffers.size, 8)
      // A second run (a retry) reads the whole file again.
      const again = yield* Stream.runFold(
        upload.stream,
        () => 0,
        (n, chunk) => n + chunk.byteLength
      )
      assert.strictEqual(again, bytes.byteLength)
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer))
  )

  for (const [name, client] of [
    ["undici", NodeHttpClient.layerUndici],
    ["node:http", NodeHttpClient.layerNodeHttp],
    ["fetch", FetchHttpClient.layer]
  ] as const) {
    it.live(`the bytes a slow server receives through ${name} are the file's, in order, with the exact length`, () =>
      Effect.gen(function* () {
        const { path, bytes } = yield* tempFile(20 * MiB + 3)
        const sink = yield* slowSink
        const fs = yield* FileSystem.FileSystem
        const upload = yield* ProviderHttp.fileUpload(fs, { _tag: "File", path }, { provider: "t", operation: "t" })
        const body = ProviderHttp.multipartBody([["title", "talk"]], upload)
        const http = yield* HttpClient.HttpClient
        const response = yield* http.execute(
          HttpClientRequest.post(sink.url).pipe(
            HttpClientRequest.bodyStream(body.stream, {
              contentType: body.contentType,
              contentLength: body.contentLength!
            })
          )
        )
        assert.strictEqual(response.status, 200)
        const received = sink.bodies[0]!
        assert.strictEqual(received.byteLength, body.contentLength)
        const start = received.indexOf('filename="talk.mp4"')
        const fileStart = received.indexOf("\r\n\r\n", start) + 4
        const sent = received.subarray(fileStart, fileStart + bytes.byteLength)
        assert.strictEqual(sha256(sent), sha256(bytes))
      }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(NodeServices.layer, client)))
    )
  }
})
