// The ElevenLabs provider (legacy dubbing API) against the ElevenLabs simulator, over real loopback sockets.

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Downloads, JobRef, Jobs, Source, Submission, TranslationProvider } from "@polydub/core"
import { ElevenLabs } from "@polydub/provider-elevenlabs"
import { ElevenLabsSimulator, Spans } from "@polydub/testing"
import { conformance } from "@polydub/testing/Conformance"
import { Context, Duration, Effect, Layer, Logger, Redacted, Ref, Stream } from "effect"

const fast = { queuedMs: 60, preparingMs: 80, dubbingMs: 200 }
const wide = { limit: 10_000, window: Duration.seconds(1) }

const providerOn = (options: Partial<ElevenLabs.ElevenLabsLayerOptions> = {}, apiKey?: string) =>
  Layer.unwrap(
    Effect.map(ElevenLabsSimulator.Simulator, (sim) =>
      ElevenLabs.layer({
        apiKey: Redacted.make(apiKey ?? sim.apiKey),
        baseUrl: sim.baseUrl,
        budgets: { read: wide, create: wide },
        retryBase: "10 millis",
        ...options
      })
    )
  ).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))

const stack = (
  sim: ElevenLabsSimulator.ElevenLabsSimulatorOptions = {},
  options: Partial<ElevenLabs.ElevenLabsLayerOptions> = {}
) => providerOn(options).pipe(Layer.provideMerge(ElevenLabsSimulator.layer({ ...fast, ...sim })))

conformance({
  name: "ElevenLabs (legacy dubbing API) on its simulator (loopback)",
  layer: stack(),
  clock: "live",
  step: 40,
  unknownId: "00000000deadbeef0000",
  requestCount: Effect.map(ElevenLabsSimulator.Simulator, (sim) => sim.totalRequests())
})

/** A provider built for the rest of the test's scope (a layer provided to one effect closes its HTTP client after it). */
const built = <E, R>(layer: Layer.Layer<TranslationProvider, E, R>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, TranslationProvider))

const url = Source.url("https://media.example.com/videos/talk.mp4")
const follow = (ref: Parameters<typeof Jobs.await>[0]) => Jobs.await(ref, { interval: 40, deadline: "20 seconds" })

/** A temporary file of `size` bytes (sparse), removed with the scope. */
const tempFile = (size: number, name = "clip.mp4") =>
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), "polydub-el-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    const path = join(dir, name)
    writeFileSync(path, "")
    truncateSync(path, size)
    return Source.file(path)
  })

const bytesOf = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Stream.runFold(
    stream,
    () => [] as Array<Uint8Array>,
    (all, chunk) => {
      all.push(chunk.slice())
      return all
    }
  ).pipe(Effect.map((chunks) => Buffer.concat(chunks)))

describe("ElevenLabs legacy dubbing over loopback", () => {
  it.live("streams a file into the form, follows the dub to Succeeded and streams its video and subtitles", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      const [job] = yield* provider
        .submit({ source: yield* tempFile(300_000), targets: ["pt-BR"], title: "talk" })
        .pipe(Submission.all)
      assert.strictEqual(job!.language, "pt-BR")
      assert.strictEqual(String(job!.ref).startsWith("elevenlabs@v1:translation/pt-BR:"), true)
      const [dub] = sim.dubs()
      assert.strictEqual(dub!.bytes, 300_000)
      assert.strictEqual(dub!.targetLang, "pt")
      assert.strictEqual(dub!.contentType, "video/mp4")
      assert.match(dub!.name, /^talk \[pd-[0-9a-f]{12}\]$/)
      const done = yield* follow(job!.ref)
      assert.strictEqual(done.state._tag, "Succeeded")
      if (done.state._tag !== "Succeeded") return
      assert.isUndefined(done.state.outputs.video?.url, "no URL: the output streams through the provider")
      const video = yield* provider.download(done.ref, "video")
      assert.strictEqual(video.mediaType, "video/mp4", "octet-stream is read as the source's kind")
      const body = yield* bytesOf(video.stream)
      assert.strictEqual(body.length, 64 * 1024)
      assert.strictEqual(body.subarray(4, 8).toString("latin1"), "ftyp")
      const srt = yield* provider.download(done.ref, "srt")
      assert.match((yield* bytesOf(srt.stream)).toString("utf8"), /^1\n00:00:00,000 --> 00:00:02,000\n\[pt\]/)
      const vtt = yield* provider.download(done.ref, "vtt")
      assert.match((yield* bytesOf(vtt.stream)).toString("utf8"), /^WEBVTT\n/)
    }).pipe(Effect.provide(stack()))
  )

  it.live("Downloads.saveOutput writes a streamed output to a file", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const [job] = yield* provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
      const done = yield* follow(job!.ref)
      const dir = mkdtempSync(join(tmpdir(), "polydub-el-out-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const saved = yield* Downloads.saveOutput(provider, done, "video", { dir })
      assert.strictEqual(saved.bytes, 200_000)
    }).pipe(Effect.provide([stack({ outputBytes: 200_000 }), NodeServices.layer, NodeHttpClient.layerUndici]))
  )

  it.live("an output whose body stalls fails its stream after the read time-out, not a hang", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      const [job] = yield* provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
      const done = yield* follow(job!.ref)
      sim.injectFault({ kind: "stallBody", endpoint: "audio" })
      const video = yield* provider.download(done.ref, "video")
      const started = Date.now()
      const error = yield* Effect.flip(bytesOf(video.stream))
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.match(error.message, /stalled/)
      assert.isBelow(Date.now() - started, 5000)
    }).pipe(Effect.provide(stack({ outputBytes: 3 * 1024 * 1024 }, { timeouts: { read: "500 millis" } })))
  )

  it.live("an output asked for before the dub is done is 425 Too Early: RequestInProgress, in either envelope", () =>
    Effect.gen(function* () {
      for (const outputEnvelope of ["detail", "bare"] as const) {
        const error = yield* Effect.gen(function* () {
          const provider = yield* TranslationProvider
          const [job] = yield* provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
          return yield* Effect.flip(provider.download(job!.ref, "video"))
        }).pipe(Effect.provide(stack({ outputEnvelope, queuedMs: 60_000 }, { retries: 0 })))
        assert.strictEqual(error._tag, "RequestInProgress", outputEnvelope)
        assert.strictEqual(error.status, 425)
        assert.strictEqual(error.providerCode, "dubbing_not_dubbed", outputEnvelope)
      }
    })
  )

  it.live("maps every state word; an unknown word is Running with the word as step, logged, never a crash", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      sim.renameStatus("preparing", "transcoding")
      const logs = yield* Ref.make<Array<string>>([])
      const [job] = yield* provider.submit({ source: url, targets: ["de"] }).pipe(Submission.all)
      const seen = new Set<string>()
      const logger = Logger.make(({ message }) => Effect.runSync(Ref.update(logs, (l) => [...l, String(message)])))
      yield* Jobs.watch(job!.ref, { interval: 15 }).pipe(
        Stream.runForEach((j) =>
          Effect.sync(() => seen.add(j.state._tag === "Running" ? `Running:${j.state.step}` : j.state._tag))
        ),
        Effect.provide(Logger.layer([logger]))
      )
      assert.isTrue(seen.has("Running:transcoding"), [...seen].join(","))
      assert.isTrue(seen.has("Running:dubbing") || seen.has("Running:cloning"), [...seen].join(","))
      assert.isTrue(seen.has("Succeeded"))
      assert.isTrue((yield* Ref.get(logs)).some((l) => l.includes("unknown status word")))
    }).pipe(Effect.provide(stack()))
  )

  it.live("a failed dub is Failed with ElevenLabs' error text", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      sim.failNext("No speech was detected in the source.")
      const [job] = yield* provider.submit({ source: url, targets: ["fr"] }).pipe(Submission.all)
      const done = yield* follow(job!.ref)
      assert.deepStrictEqual(done.state, {
        _tag: "Failed",
        reason: { code: "failed", message: "No speech was detected in the source." }
      })
    }).pipe(Effect.provide(stack()))
  )

  it.live("maps refusals: bad key 401, another account's dub 403, unknown 404, no credits, plan gates, 422", () =>
    Effect.gen(function* () {
      const sim = yield* ElevenLabsSimulator.Simulator
      const mine = yield* built(providerOn({}, "key-a"))
      const theirs = yield* built(providerOn({}, "key-b"))
      const free = yield* built(providerOn({}, "key-free"))
      const bad = yield* built(providerOn({}, "nope"))
      const [job] = yield* mine.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
      const e401 = yield* Effect.flip(bad.get(job!.ref))
      assert.strictEqual(e401._tag, "AuthenticationFailed")
      assert.strictEqual(e401.providerCode, "invalid_api_key")
      const e403 = yield* Effect.flip(theirs.get(job!.ref))
      assert.strictEqual(e403._tag, "PermissionDenied")
      const noCredit = yield* Effect.flip(mine.submit({ source: url, targets: ["fr"] }).pipe(Submission.single))
      assert.strictEqual(noCredit._tag, "InsufficientCredits")
      assert.strictEqual(noCredit.providerCode, "quota_exceeded")
      const watermark = yield* Effect.flip(free.submit({ source: url, targets: ["fr"] }).pipe(Submission.single))
      assert.strictEqual(watermark._tag, "PermissionDenied")
      assert.strictEqual(watermark.providerCode, "watermark_not_allowed")
      const audio = yield* Effect.flip(
        free.submit({ source: yield* tempFile(1000, "a.mp3"), targets: ["fr"] }).pipe(Submission.single)
      )
      assert.strictEqual(audio.providerCode, "only_for_creator+")
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(
      Effect.provide(
        ElevenLabsSimulator.layer({
          ...fast,
          accounts: [{ apiKey: "key-a", credits: 1 }, { apiKey: "key-b" }, { apiKey: "key-free", plan: "free" }]
        })
      )
    )
  )

  it.live("a file with no media type is refused before anything is sent; so is an option of the other API", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      const unknownType = yield* Effect.flip(
        provider.submit({ source: yield* tempFile(100, "clip.bin"), targets: ["es"] }).pipe(Submission.all)
      )
      assert.strictEqual(unknownType._tag, "InvalidRequest")
      const foreign = yield* Effect.flip(
        provider
          .submit({ source: url, targets: ["es"], providerOptions: { elevenlabs: { keyterms: ["polydub"] } } })
          .pipe(Submission.all)
      )
      assert.strictEqual(foreign._tag, "InvalidRequest")
      if (foreign._tag === "InvalidRequest") assert.strictEqual(foreign.param, "providerOptions.elevenlabs.keyterms")
      assert.strictEqual(sim.totalRequests(), 0)
    }).pipe(Effect.provide(stack()))
  )

  it.live("remove deletes the dub: the next read is NotFound", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const [job] = yield* provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
      yield* provider.remove(job!.ref)
      const error = yield* Effect.flip(provider.get(job!.ref))
      assert.strictEqual(error._tag, "NotFound")
      assert.strictEqual(error.providerCode, "dubbing_not_found")
    }).pipe(Effect.provide(stack()))
  )
})

describe("ElevenLabs keys stay secret", () => {
  it.live("never prints the API key: not in logs, errors or spans, even with every header recorded", () =>
    Effect.gen(function* () {
      const { spans, tracer } = Spans.recorder()
      const lines = yield* Ref.make<Array<string>>([])
      const logger = Logger.make((options) => {
        Effect.runSync(Ref.update(lines, (all) => [...all, JSON.stringify(options.message), String(options.cause)]))
      })
      const key = "sk_SECRET_c0ffee_never_print_me"
      const result = yield* Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const errors: Array<string> = []
        const [job] = yield* provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
        for (const attempt of [
          Effect.asVoid(provider.download(job!.ref, "video")),
          Effect.asVoid(
            provider.get(new JobRef({ provider: "elevenlabs", kind: "translation", id: "missing", apiVersion: "v1" }))
          )
        ]) {
          const error = yield* Effect.flip(attempt)
          errors.push(String(error), JSON.stringify(error), error.message)
          yield* Effect.logError("failed", error)
        }
        return errors
      }).pipe(
        Effect.provide(providerOn({ retries: 0 }, key)),
        Effect.provide(Logger.layer([logger])),
        Effect.withTracer(tracer),
        Spans.withEveryHeaderRecorded
      )
      const attributes = spans.map((span) => JSON.stringify([span.name, ...span.attributes]))
      assert.isTrue(
        attributes.some((a) => a.includes("xi-api-key")),
        "the HTTP client span records request headers"
      )
      const everything = [...result, ...(yield* Ref.get(lines)), ...attributes].join("\n")
      assert.isAbove(everything.length, 0)
      assert.notInclude(everything, key)
      assert.notInclude(everything, "c0ffee_never")
    }).pipe(
      Effect.provide(
        ElevenLabsSimulator.layer({
          ...fast,
          queuedMs: 60_000,
          accounts: [{ apiKey: "sk_SECRET_c0ffee_never_print_me" }]
        })
      )
    )
  )
})

describe("ElevenLabs creates are never sent twice; an unknown outcome is settled from the list", () => {
  for (const kind of ["http500AfterProcessing", "dropAfter", "malformed"] as const) {
    it.live(`a create answered ${kind} after ElevenLabs made the dub: found in the list, one dub billed`, () =>
      Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const sim = yield* ElevenLabsSimulator.Simulator
        sim.injectFault({ kind, endpoint: "createDubbing" })
        const [job] = yield* provider
          .submit({ source: yield* tempFile(4096), targets: ["es"], title: "board" })
          .pipe(Submission.all)
        assert.strictEqual(sim.requests().createDubbing, 1, "the create was sent again")
        assert.strictEqual(sim.requests().listDubs, 1)
        assert.strictEqual(sim.billableSubmissions(), 1)
        assert.strictEqual(job!.ref.id, sim.dubs()[0]!.dubbingId)
        assert.strictEqual(job!.language, "es")
        const done = yield* follow(job!.ref)
        assert.strictEqual(done.state._tag, "Succeeded")
      }).pipe(Effect.provide(stack()))
    )
  }

  it.live("a create answered 500 before anything was made: not in the list, the unknown outcome is the error", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      // Another dub with the same title and target exists: the token in the name tells them apart.
      yield* provider.submit({ source: url, targets: ["es"], title: "board" }).pipe(Submission.all)
      sim.injectFault({ kind: "http500", endpoint: "createDubbing" })
      const error = yield* Effect.flip(
        provider.submit({ source: url, targets: ["es"], title: "board" }).pipe(Submission.all)
      )
      assert.isTrue(error._tag === "ProviderUnavailable" && error.outcome === "unknown", String(error))
      assert.match(error.message, /was found in the list yet/)
      assert.strictEqual(sim.requests().createDubbing, 2)
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(Effect.provide(stack()))
  )

  it.live("where the list is refused (a legacy workspace), the unknown outcome stands and says why", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      sim.injectFault({ kind: "http500AfterProcessing", endpoint: "createDubbing" })
      const error = yield* Effect.flip(provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all))
      assert.isTrue(error._tag === "ProviderUnavailable" && error.outcome === "unknown", String(error))
      assert.match(error.message, /invalid_workspace_type|legacy workspaces/)
      assert.strictEqual(sim.requests().createDubbing, 1)
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(
      Effect.provide(
        providerOn().pipe(
          Layer.provideMerge(
            ElevenLabsSimulator.layer({ ...fast, accounts: [{ apiKey: "legacy", legacyWorkspace: true }] })
          )
        )
      )
    )
  )

  it.live(
    "a create refused 429 rate_limit_exceeded or system_busy is sent again; concurrent_limit_exceeded is not",
    () =>
      Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const sim = yield* ElevenLabsSimulator.Simulator
        sim.injectFault({ kind: "systemBusy", endpoint: "createDubbing" })
        yield* provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
        assert.strictEqual(sim.requests().createDubbing, 2)
        yield* provider.submit({ source: url, targets: ["fr"] }).pipe(Submission.all)
        const refused = yield* Effect.flip(provider.submit({ source: url, targets: ["de"] }).pipe(Submission.all))
        assert.strictEqual(refused._tag, "RateLimited")
        if (refused._tag === "RateLimited") assert.strictEqual(refused.scope, "concurrency")
        assert.strictEqual(sim.requests().createDubbing, 4)
        assert.strictEqual(sim.billableSubmissions(), 2)
      }).pipe(Effect.provide(stack({ concurrentLimit: 2, queuedMs: 60_000 }, { retryBase: "10 millis" })))
  )
})

describe("ElevenLabs settlement reads the list page by page", () => {
  // A budget no test here reaches: on the TestClock a limiter that waits would wait for ever.
  const huge = { limit: 1_000_000, window: Duration.seconds(1) }
  const inProcess = Layer.unwrap(
    Effect.map(ElevenLabsSimulator.Simulator, (sim) =>
      ElevenLabs.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        budgets: { read: huge, create: huge }
      })
    )
  ).pipe(
    Layer.provideMerge(ElevenLabsSimulator.layerInProcess({ concurrentLimit: 1000 })),
    Layer.provide(NodeServices.layer)
  )

  // On the TestClock every dub has the same creation time, so the one whose answer was lost is listed
  // after the 150 made before it: past the first page of 100.
  it.effect("a lost create found on the second page of the list", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      for (let i = 0; i < 150; i++) yield* provider.submit({ source: url, targets: ["es"], title: `other ${i}` })
      sim.injectFault({ kind: "http500AfterProcessing", endpoint: "createDubbing" })
      const [job] = yield* provider.submit({ source: url, targets: ["es"], title: "board" }).pipe(Submission.all)
      assert.strictEqual(job!.ref.id, sim.dubs().at(-1)!.dubbingId)
      assert.strictEqual(sim.requests().listDubs, 2)
      assert.strictEqual(sim.billableSubmissions(), 151)
    }).pipe(Effect.provide(inProcess))
  )
})

describe("ElevenLabs layerConfig", () => {
  it.live("reads ELEVENLABS_API_KEY and ELEVENLABS_BASE_URL", () =>
    Effect.gen(function* () {
      const sim = yield* ElevenLabsSimulator.Simulator
      process.env.ELEVENLABS_API_KEY = sim.apiKey
      process.env.ELEVENLABS_BASE_URL = sim.baseUrl
      const provider = yield* built(
        ElevenLabs.layerConfig().pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))
      )
      delete process.env.ELEVENLABS_API_KEY
      delete process.env.ELEVENLABS_BASE_URL
      assert.strictEqual(provider.apiVersion, "v1")
      yield* provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(Effect.provide(ElevenLabsSimulator.layer(fast)))
  )
})
