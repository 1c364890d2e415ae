// @polydub/core's Downloads over real loopback sockets and a real file system (core's own tests have no
// Node platform layer): the bounds of `fetch`, the rules of `write`, and the address filter.

import { lstatSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import {
  Artifact,
  Downloads,
  Job,
  JobRef,
  Language,
  makeProvider,
  Outputs,
  Source,
  State,
  Submission,
  TranslationProvider
} from "@polydub/core"
import { MediaServer, Presets, TestProvider } from "@polydub/testing"
import { DateTime, Effect, Layer, Schema, Stream } from "effect"

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

describe("Downloads.saveOutput: a job's output, whatever the vendor serves it as", () => {
  // A provider whose `get` answers `fresh` (counting reads) and whose `download` streams `bytes`.
  const providerWith = (options: {
    readonly fresh?: () => Job
    readonly bytes?: Uint8Array
    readonly failFirst?: boolean
  }) => {
    let reads = 0
    let downloads = 0
    const provider = makeProvider({
      id: "test",
      capabilities: Presets.permissive,
      languages: Language.makeTable(Presets.heygenLanguages),
      submit: () => Effect.succeed([]),
      get: () =>
        Effect.sync(() => {
          reads++
          return options.fresh!()
        }),
      download: () =>
        Effect.sync(() => {
          downloads++
          const bytes = options.bytes ?? new Uint8Array()
          return { stream: Stream.make(bytes.subarray(0, 1000), bytes.subarray(1000)), contentLength: bytes.length }
        })
    })
    return { provider, reads: () => reads, downloads: () => downloads }
  }

  const succeeded = (outputs: Outputs) =>
    new Job({
      ref: new JobRef({ provider: "test", kind: "translation", id: "j1", language: "es" }),
      language: "es",
      state: State.succeeded(outputs),
      providerStatus: "completed",
      observedAt: DateTime.makeUnsafe(0)
    })

  it.live("an expired URL is refreshed by reading the job again before anything is fetched", () =>
    Effect.gen(function* () {
      const media = yield* MediaServer.serve(files)
      const dir = folder()
      const stale = succeeded(
        new Outputs({
          video: { url: media.url("/expired.mp4"), expiresAt: DateTime.makeUnsafe(Date.now() - 1000) }
        })
      )
      const fake = providerWith({ fresh: () => succeeded(new Outputs({ video: { url: media.url("/ok.mp4") } })) })
      const saved = yield* Downloads.saveOutput(fake.provider, stale, "video", { dir, ...fast })
      assert.strictEqual(saved.bytes, 200_000)
      assert.strictEqual(fake.reads(), 1)
      assert.strictEqual(media.requests(), 1, "the expired URL was fetched")
      assert.deepStrictEqual(readdirSync(dir), ["test-es-j1.mp4"])
    }).pipe(Effect.scoped, Effect.provide(platform))
  )

  it.live("a URL the vendor refuses (403) is refreshed once; one still valid is fetched without a read", () =>
    Effect.gen(function* () {
      const media = yield* MediaServer.serve(files)
      const server = yield* refusing
      const fake = providerWith({ fresh: () => succeeded(new Outputs({ video: { url: media.url("/ok.mp4") } })) })
      const refused = succeeded(new Outputs({ video: { url: `${server}/refused.mp4` } }))
      const saved = yield* Downloads.saveOutput(fake.provider, refused, "video", { dir: folder(), ...fast })
      assert.strictEqual(saved.bytes, 200_000)
      assert.strictEqual(fake.reads(), 1)
      const valid = succeeded(
        new Outputs({ video: { url: media.url("/ok.mp4"), expiresAt: DateTime.makeUnsafe(Date.now() + 3_600_000) } })
      )
      yield* Downloads.saveOutput(fake.provider, valid, "video", { dir: folder(), ...fast })
      assert.strictEqual(fake.reads(), 1, "a valid URL cost a read")
    }).pipe(Effect.scoped, Effect.provide(platform))
  )

  it.live("a transfer that fails where a retry is safe (503, then a body) is retried", () =>
    Effect.gen(function* () {
      const server = yield* refusing
      const job = succeeded(new Outputs({ audio: { url: `${server}/flaky.mp3` } }))
      const fake = providerWith({})
      const saved = yield* Downloads.saveOutput(fake.provider, job, "audio", { dir: folder(), ...fast })
      assert.strictEqual(saved.bytes, 5)
      const none = yield* Effect.flip(
        Downloads.saveOutput(fake.provider, job, "audio", { dir: folder(), ...fast, retries: 0, name: "x.mp3" })
      )
      assert.strictEqual(none.reason, "Http")
    }).pipe(Effect.scoped, Effect.provide(platform))
  )

  it.live("an output without a URL is streamed through the provider; a size other than the vendor's fails", () =>
    Effect.gen(function* () {
      const bytes = new Uint8Array(5000).map((_, i) => i & 0xff)
      const fake = providerWith({ bytes })
      const dir = folder()
      const streamed = succeeded(new Outputs({ audio: { mediaType: "audio/mpeg", size: 5000 } }))
      const saved = yield* Downloads.saveOutput(fake.provider, streamed, "audio", { dir })
      assert.strictEqual(saved.bytes, 5000)
      assert.deepStrictEqual(new Uint8Array(readFileSync(join(dir, "test-es-j1.mp3"))), bytes)
      const wrong = succeeded(new Outputs({ audio: { size: 4000 } }))
      const error = yield* Effect.flip(Downloads.saveOutput(fake.provider, wrong, "audio", { dir: folder() }))
      assert.strictEqual(error.reason, "SizeMismatch")
      const small = yield* Effect.flip(
        Downloads.saveOutput(fake.provider, streamed, "audio", { dir: folder(), maxBytes: 4096 })
      )
      assert.strictEqual(small.reason, "TooLarge")
      // A URL artifact keeps its JSON form; one streamed through the provider has no url.
      assert.deepStrictEqual(Schema.encodeSync(Artifact)(new Artifact({ url: "https://x/y.mp4" })), {
        url: "https://x/y.mp4"
      })
    }).pipe(Effect.scoped, Effect.provide(platform))
  )
})

/**
 * A loopback server for the cases `MediaServer` does not serve: `/refused.mp4` always answers 403;
 * `/flaky.mp3` answers 503 on every other request, starting with the first, then `hello`.
 */
const refusing = Effect.acquireRelease(
  Effect.callback<{ readonly server: Server; readonly url: string }>((resume) => {
    let flaky = 0
    const server = createServer((request, response) => {
      if (request.url === "/flaky.mp3" && flaky++ % 2 === 1) {
        response.writeHead(200, { "content-length": "5" })
        response.end("hello")
        return
      }
      response.writeHead(request.url === "/flaky.mp3" ? 503 : 403)
      response.end()
    })
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
    )
  }),
  ({ server }) => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
).pipe(Effect.map(({ url }) => url))

describe("TestProvider with streamedOutputs", () => {
  it.live("serves outputs without a URL, saved through the provider by Downloads", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const [job] = yield* provider
        .submit({ source: Source.url("https://media.example.com/a.mp4"), targets: ["es"] })
        .pipe(Submission.all)
      const done = yield* provider.get(job!.ref)
      assert.strictEqual(done.state._tag, "Succeeded")
      if (done.state._tag !== "Succeeded") return
      assert.isUndefined(done.state.outputs.video?.url)
      const dir = folder()
      const saved = yield* Downloads.saveOutput(provider, done, "video", { dir })
      assert.strictEqual(saved.bytes, TestProvider.streamedSize)
      assert.deepStrictEqual(
        new Uint8Array(readFileSync(saved.path)),
        TestProvider.streamedBytes(TestProvider.streamedSize)
      )
    }).pipe(
      Effect.provide(
        Layer.merge(
          TestProvider.layer({ streamedOutputs: true, script: () => ({ queuedFor: 0, runningFor: 0 }) }),
          platform
        )
      )
    )
  )
})
