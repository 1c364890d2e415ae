// @polydub/core's Downloads over real loopback sockets and a real file system (core's own tests have no
// Node platform layer): the bounds of `fetch`, the rules of `write`, and the address filter.

import { lstatSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Downloads } from "@polydub/core"
import { MediaServer } from "@polydub/testing"
import { Effect, Layer, Stream } from "effect"

const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)
const fast = { headerTimeout: "300 millis", idleTimeout: "300 millis" } as const

const folder = () => mkdtempSync(join(tmpdir(), "polydub-downloads-"))

/** Fails the test instead of hanging it: the bounds under test are far shorter. */
const within = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.timeoutOrElse(self, { duration: "5 seconds", orElse: () => Effect.die("hung: no time-out fired") })

const files = [
  { path: "/ok.mp4", size: 200_000 },
  { path: "/silent.mp4", size: 1000, hang: true },
  { path: "/stalls.mp4", size: 200_000, stallAfter: 70_000 },
  { path: "/short.mp4", size: 70_000, declaredSize: 200_000 },
  { path: "/endless.mp4", size: 300_000, noLength: true },
  { path: "/big.mp4", size: 300_000 }
]

describe("Downloads.save", () => {
  it.live("writes the body whole, and leaves no temporary file", () =>
    Effect.gen(function* () {
      const media = yield* MediaServer.serve(files)
      const dir = folder()
      const saved = yield* Downloads.save(media.url("/ok.mp4"), { dir, name: "ok.mp4", ...fast })
      assert.strictEqual(saved.bytes, 200_000)
      assert.deepStrictEqual(readdirSync(dir), ["ok.mp4"])
      const bytes = readFileSync(join(dir, "ok.mp4"))
      assert.strictEqual(bytes.length, 200_000)
      assert.strictEqual(bytes[123_456], MediaServer.byteAt(123_456))
    }).pipe(Effect.scoped, Effect.provide(platform))
  )

  it.live("time-outs: a server that never answers, and one that stops sending, fail with Timeout", () =>
    Effect.gen(function* () {
      const media = yield* MediaServer.serve(files)
      const dir = folder()
      for (const path of ["/silent.mp4", "/stalls.mp4"]) {
        const started = Date.now()
        const error = yield* within(Effect.flip(Downloads.save(media.url(path), { dir, name: "x.mp4", ...fast })))
        assert.strictEqual(error.reason, "Timeout", error.message)
        assert.isBelow(Date.now() - started, 3000)
      }
      assert.deepStrictEqual(readdirSync(dir), [], "a timed-out download leaves no file")
    }).pipe(Effect.scoped, Effect.provide(platform))
  )

  it.live("a body shorter than its Content-Length fails with ShortBody and leaves no file", () =>
    Effect.gen(function* () {
      const media = yield* MediaServer.serve(files)
      const dir = folder()
      const error = yield* within(Effect.flip(Downloads.save(media.url("/short.mp4"), { dir, name: "x.mp4", ...fast })))
      assert.strictEqual(error.reason, "ShortBody", error.message)
      assert.deepStrictEqual(readdirSync(dir), [])
    }).pipe(Effect.scoped, Effect.provide(platform))
  )

  it.live("the byte cap is counted on the stream: a body without Content-Length over it fails with TooLarge", () =>
    Effect.gen(function* () {
      const media = yield* MediaServer.serve(files)
      const dir = folder()
      const options = { dir, name: "x.mp4", ...fast, maxBytes: 100_000 }
      const endless = yield* within(Effect.flip(Downloads.save(media.url("/endless.mp4"), options)))
      assert.strictEqual(endless.reason, "TooLarge", endless.message)
      assert.strictEqual(endless.limitBytes, 100_000)
      // A declared length over the cap is refused before the body is read.
      const declared = yield* within(Effect.flip(Downloads.save(media.url("/big.mp4"), options)))
      assert.strictEqual(declared.reason, "TooLarge")
      assert.include(declared.message, "declares 300000 bytes")
      assert.deepStrictEqual(readdirSync(dir), [])
      // Under the cap, a body of unknown length is taken whole.
      const whole = yield* Downloads.save(media.url("/endless.mp4"), { ...options, maxBytes: 300_000 })
      assert.strictEqual(whole.bytes, 300_000)
    }).pipe(Effect.scoped, Effect.provide(platform))
  )

  it.live("an HTTP error is Http with the status, and nothing is written", () =>
    Effect.gen(function* () {
      const media = yield* MediaServer.serve(files)
      const dir = folder()
      const error = yield* Effect.flip(
        Downloads.save(media.url("/missing.mp4?X-Amz-Signature=secret"), { dir, name: "x.mp4" })
      )
      assert.strictEqual(error.reason, "Http")
      assert.strictEqual(error.status, 404)
      assert.notInclude(error.message, "secret", "the query of a presigned URL is not repeated")
      assert.deepStrictEqual(readdirSync(dir), [])
    }).pipe(Effect.scoped, Effect.provide(platform))
  )
})

describe("Downloads.write", () => {
  const bytes = (text: string) => Stream.succeed(new TextEncoder().encode(text))

  it.live("never replaces an existing file unless forced, and never writes through a symbolic link", () =>
    Effect.gen(function* () {
      const dir = folder()
      writeFileSync(join(dir, "kept.mp4"), "mine")
      const exists = yield* Effect.flip(Downloads.write(bytes("theirs"), { dir, name: "kept.mp4" }))
      assert.strictEqual(exists.reason, "Exists")
      assert.strictEqual(readFileSync(join(dir, "kept.mp4"), "utf8"), "mine")
      yield* Downloads.write(bytes("theirs"), { dir, name: "kept.mp4", force: true })
      assert.strictEqual(readFileSync(join(dir, "kept.mp4"), "utf8"), "theirs")

      const victim = join(folder(), "victim.txt")
      writeFileSync(victim, "precious")
      symlinkSync(victim, join(dir, "link.mp4"))
      symlinkSync(join(dir, "nowhere"), join(dir, "dangling.mp4"))
      for (const name of ["link.mp4", "dangling.mp4"]) {
        const refused = yield* Effect.flip(Downloads.write(bytes("theirs"), { dir, name }))
        assert.strictEqual(refused.reason, "Exists", name)
      }
      yield* Downloads.write(bytes("theirs"), { dir, name: "link.mp4", force: true })
      assert.strictEqual(readFileSync(victim, "utf8"), "precious", "the link's target is untouched")
      assert.isTrue(lstatSync(join(dir, "link.mp4")).isFile(), "the link itself was replaced by the file")
      assert.strictEqual(readFileSync(join(dir, "link.mp4"), "utf8"), "theirs")
      assert.notInclude(readdirSync(dir).join(" "), ".part")
    }).pipe(Effect.provide(platform))
  )

  it.live("a name that is not plain is refused before anything is written", () =>
    Effect.gen(function* () {
      const dir = folder()
      for (const name of ["../x.mp4", "a/b.mp4", ".hidden", "..", ""]) {
        const error = yield* Effect.flip(Downloads.write(bytes("x"), { dir, name }))
        assert.strictEqual(error.reason, "UnsafePath", name)
      }
      assert.deepStrictEqual(readdirSync(dir), [])
    }).pipe(Effect.provide(platform))
  )

  it.live("a stream that fails midway leaves neither the file nor its temporary file", () =>
    Effect.gen(function* () {
      const dir = folder()
      const failing = Stream.concat(bytes("partial"), Stream.fail("cut" as const))
      const error = yield* Effect.flip(Downloads.write(failing, { dir, name: "x.mp4" }))
      assert.strictEqual(error, "cut")
      assert.deepStrictEqual(readdirSync(dir), [])
    }).pipe(Effect.provide(platform))
  )
})

describe("Downloads address filter", () => {
  it.live("refusePrivateAddresses refuses loopback hosts before connecting", () =>
    Effect.gen(function* () {
      const media = yield* MediaServer.serve(files)
      const port = new URL(media.baseUrl).port
      for (const url of [media.url("/ok.mp4"), `http://localhost:${port}/ok.mp4`, `http://[::1]:${port}/ok.mp4`]) {
        const error = yield* Effect.flip(Downloads.fetch(url, { refusePrivateAddresses: true }))
        assert.strictEqual(error.reason, "Refused", url)
      }
      assert.strictEqual(media.requests(), 0, "nothing reached the server")
      const file = yield* Effect.flip(Downloads.fetch("file:///etc/passwd"))
      assert.strictEqual(file.reason, "Refused")
      // Off by default: a local URL is fetched.
      const body = yield* Downloads.fetch(media.url("/ok.mp4"))
      assert.strictEqual(
        yield* Stream.runFold(
          body.stream,
          () => 0,
          (n, c) => n + c.byteLength
        ),
        200_000
      )
    }).pipe(Effect.scoped, Effect.provide(platform))
  )

  it.live("publicOnlyLookup makes an undici client refuse a name that resolves to loopback when connecting", () =>
    Effect.gen(function* () {
      const media = yield* MediaServer.serve(files)
      const port = new URL(media.baseUrl).port
      const error = yield* Effect.flip(Downloads.fetch(`http://localhost:${port}/ok.mp4`)).pipe(
        Effect.provide(NodeHttpClient.layerUndiciOptions({ connect: { lookup: Downloads.publicOnlyLookup } }))
      )
      assert.strictEqual(error.reason, "Refused", error.message)
      assert.strictEqual(media.requests(), 0)
      // The same URL through a client without the check connects.
      const plain = yield* Effect.flatMap(Downloads.fetch(`http://localhost:${port}/ok.mp4`), (body) =>
        Stream.runFold(
          body.stream,
          () => 0,
          (n, chunk) => n + chunk.byteLength
        )
      ).pipe(Effect.provide(NodeHttpClient.layerUndici))
      assert.strictEqual(plain, 200_000)
    }).pipe(Effect.scoped)
  )
})
