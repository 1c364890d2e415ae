// The VoiceCheap provider against the VoiceCheap simulator, over real loopback sockets.

import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Job, JobRef, Jobs, JobTracker, Source, Submission, TranslationProvider } from "@polydub/core"
import { VoiceCheap, VoiceCheapClient } from "@polydub/provider-voicecheap"
import { MediaServer, Spans, VoiceCheapSimulator } from "@polydub/testing"
import { conformance } from "@polydub/testing/Conformance"
import { Clock, DateTime, Duration, Effect, Layer, Logger, Option, Redacted, Ref, Result, Stream } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"
import { TestClock } from "effect/testing"

const fast = { processingMs: 300, lipSyncMs: 150 }
// Budgets wide enough for tests; the budget itself is tested below with a short window.
const wide = { limit: 10_000, window: Duration.seconds(1) }
const simWide = { limit: 10_000, windowMs: 1000 }

const providerOn = (options: Partial<VoiceCheap.VoiceCheapLayerOptions> = {}, apiKey?: string) =>
  Layer.unwrap(
    Effect.map(VoiceCheapSimulator.Simulator, (sim) =>
      VoiceCheap.layer({
        apiKey: Redacted.make(apiKey ?? sim.apiKey),
        baseUrl: sim.baseUrl,
        budgets: { status: wide, translate: wide, projects: wide },
        ...options
      })
    )
  ).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))

const stack = (
  sim: VoiceCheapSimulator.VoiceCheapSimulatorOptions = {},
  options: Partial<VoiceCheap.VoiceCheapLayerOptions> = {}
) => {
  const simulator = VoiceCheapSimulator.layer({
    ...fast,
    rateLimits: { status: simWide, translate: simWide, projects: simWide },
    ...sim
  })
  const media = MediaServer.layer([{ path: "/videos/talk.mp4", size: 300_000 }])
  return Layer.mergeAll(providerOn(options), media).pipe(Layer.provideMerge(simulator), Layer.provideMerge(media))
}

const mediaSource = Effect.map(MediaServer.Media, (media) => Source.url(media.url("/videos/talk.mp4")))

conformance({
  name: "VoiceCheap on its simulator (loopback)",
  layer: stack(),
  clock: "live",
  step: 50,
  source: mediaSource,
  unknownId: "0000dead-beef0000-00000000",
  requestCount: Effect.map(VoiceCheapSimulator.Simulator, (sim) => sim.totalRequests())
})

/** A temporary file of `size` bytes (sparse), removed with the scope. */
const tempFile = (size: number, name = "clip.mp4") =>
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), "polydub-vc-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    const path = join(dir, name)
    writeFileSync(path, "")
    truncateSync(path, size)
    return Source.file(path)
  })

const follow = (ref: Parameters<typeof Jobs.await>[0]) => Jobs.await(ref, { interval: 50, deadline: "20 seconds" })

describe("VoiceCheap provider over loopback", () => {
  it.live("streams a URL source into the upload and reaches Succeeded; the simulator counts every byte", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const media = yield* MediaServer.Media
      const [job] = yield* provider
        .submit({ source: yield* mediaSource, targets: ["pt-BR"], title: "talk" })
        .pipe(Submission.all)
      assert.strictEqual(job!.language, "pt-BR")
      const done = yield* follow(job!.ref)
      assert.strictEqual(done.state._tag, "Succeeded")
      assert.strictEqual(done.language, "pt-BR")
      const [project] = sim.projects()
      assert.strictEqual(project!.bytes, 300_000)
      assert.strictEqual(project!.targetLanguage, "brazilian portuguese")
      assert.strictEqual(project!.fileName, "talk.mp4")
      assert.strictEqual(media.bytesServed(), 300_000)
      if (done.state._tag === "Succeeded") {
        assert.isDefined(done.state.outputs.video?.expiresAt, "expiry read from the URL")
        assert.isDefined(done.state.outputs.audio)
      }
    }).pipe(Effect.provide(stack()))
  )

  it.live("a later target refused after an earlier one was billed: the billed job is returned beside the refusal", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const media = yield* MediaServer.Media
      // One credit: "es" is created and billed, then "fr-CA" is refused for lack of credits.
      const results = yield* provider.submit({ source: yield* mediaSource, targets: ["es", "fr-CA"], title: "talk" })
      assert.deepStrictEqual(
        results.map((r) => r.language),
        ["es", "fr-CA"]
      )
      const [es, fr] = results
      assert.isTrue(Result.isSuccess(es!.result), "the billed target is returned")
      assert.isTrue(Result.isFailure(fr!.result) && fr!.result.failure._tag === "InsufficientCredits")
      const billed = sim.projects()
      assert.strictEqual(billed.length, 1)
      if (Result.isSuccess(es!.result)) assert.strictEqual(es!.result.success.ref.id, billed[0]!.projectId)
      // The URL is read once per vendor request that needs it: VoiceCheap takes one target a request.
      assert.strictEqual(media.requests(), 2)
      // `all` fails, but its error still holds the billed job.
      const error = yield* Effect.flip(Effect.succeed(results).pipe(Submission.all))
      assert.strictEqual(error._tag, "SubmissionFailed")
      if (error._tag === "SubmissionFailed") {
        assert.deepStrictEqual(
          error.accepted.map((j) => j.ref.id),
          [billed[0]!.projectId]
        )
        assert.deepStrictEqual(
          error.failures.map((f) => [f.language, f.error._tag]),
          [["fr-CA", "InsufficientCredits"]]
        )
      }
    }).pipe(Effect.provide(stack({ accounts: [{ apiKey: "vc_sim_main", credits: 1 }] })))
  )

  it.live("a caller's stream for several targets is refused before anything is sent: it can be read only once", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const error = yield* Effect.flip(
        provider
          .submit({
            source: Source.stream({
              name: "talk.mp4",
              mediaType: "video/mp4",
              stream: Stream.make(new Uint8Array(16))
            }),
            targets: ["es", "fr"]
          })
          .pipe(Submission.all)
      )
      assert.strictEqual(error._tag, "InvalidRequest")
      assert.include(error.message, "read only once")
      assert.strictEqual(sim.totalRequests(), 0)
    }).pipe(Effect.provide(stack()))
  )

  it.live("uploads a local file (streamed) and follows lip sync to the lip-synced video", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "polydub-vc-"))
      const path = join(dir, "interview.mov")
      writeFileSync(path, "")
      truncateSync(path, 2 * 1024 * 1024 + 17)
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const [job] = yield* provider
        .submit({
          source: Source.file(path),
          targets: ["fr-CA"],
          lipSync: true,
          sourceLanguage: "en-US"
        })
        .pipe(Submission.all)
      const seen: Array<string> = []
      const last = yield* Jobs.watch(job!.ref, { interval: 40 }).pipe(
        Stream.tap((j) =>
          Effect.sync(() => void seen.push(j.state._tag === "Running" ? `Running:${j.state.step ?? ""}` : j.state._tag))
        ),
        Stream.runLast
      )
      const done = Option.getOrUndefined(last)
      assert.strictEqual(done?.state._tag, "Succeeded")
      if (done?.state._tag === "Succeeded") assert.match(done.state.outputs.lipSyncVideo?.url ?? "", /lipsync\.mp4/)
      assert.isTrue(
        seen.some((s) => s.startsWith("Running:lipsync_")),
        seen.join(" ")
      )
      const [project] = sim.projects()
      assert.strictEqual(project!.bytes, 2 * 1024 * 1024 + 17)
      assert.strictEqual(project!.lipSync, "pro")
      assert.strictEqual(project!.originalLanguage, "en")
    }).pipe(Effect.provide(stack()))
  )

  it.live("reports TRANSCRIPTION_FAILED and LIPSYNC_FAILED as Failed with the vendor's code", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      sim.failNext("TRANSCRIPTION_FAILED")
      const [a] = yield* provider.submit({ source: yield* mediaSource, targets: ["es"] }).pipe(Submission.all)
      const failed = yield* follow(a!.ref)
      assert.deepStrictEqual(failed.state._tag === "Failed" && failed.state.reason.code, "TRANSCRIPTION_FAILED")
      sim.failNext("LIPSYNC_FAILED")
      const [b] = yield* provider
        .submit({ source: yield* mediaSource, targets: ["es"], lipSync: true })
        .pipe(Submission.all)
      const lip = yield* follow(b!.ref)
      assert.deepStrictEqual(lip.state._tag === "Failed" && lip.state.reason.code, "LIPSYNC_FAILED")
    }).pipe(Effect.provide(stack()))
  )

  it.live("maps refusals: bad key, another account's project, no credits, too many running", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const source = yield* mediaSource
      const [mine] = yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const noCredits = yield* Effect.flip(provider.submit({ source, targets: ["es"] }).pipe(Submission.single))
      assert.strictEqual(noCredits._tag, "InsufficientCredits")
      assert.strictEqual(noCredits.providerCode, "INSUFFICIENT_CREDITS")
      const other = yield* Effect.gen(function* () {
        const p = yield* TranslationProvider
        return yield* Effect.flip(p.get(mine!.ref))
      }).pipe(Effect.provide(providerOn({}, "vc_sim_other_account")))
      assert.strictEqual(other._tag, "PermissionDenied")
      assert.strictEqual(other.providerCode, "FORBIDDEN")
      const bad = yield* Effect.gen(function* () {
        const p = yield* TranslationProvider
        return yield* Effect.flip(p.get(mine!.ref))
      }).pipe(Effect.provide(providerOn({}, "vc_wrong")))
      assert.strictEqual(bad._tag, "AuthenticationFailed")
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(
      Effect.provide(stack({ accounts: [{ apiKey: "vc_sim_main", credits: 1 }, { apiKey: "vc_sim_other_account" }] }))
    )
  )

  it.live("a concurrency refusal is RateLimited { scope: concurrency }", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const source = yield* mediaSource
      yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const error = yield* Effect.flip(
        provider.submit({ source: yield* tempFile(1000), targets: ["de"] }).pipe(Submission.single)
      )
      assert.isTrue(error._tag === "RateLimited" && error.scope === "concurrency", String(error))
      assert.strictEqual(error.providerCode, "CONCURRENT_TRANSLATION_LIMIT_REACHED")
      // Not retried, though the file could be streamed again: it clears only when a project ends.
      assert.strictEqual((yield* VoiceCheapSimulator.Simulator).requests().translate, 2)
    }).pipe(Effect.provide(stack({ concurrentLimit: 1, processingMs: 20_000 })))
  )

  it.live("never re-sends an upload that may have been processed: 500, or a connection dropped after processing", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const dir = mkdtempSync(join(tmpdir(), "polydub-vc-"))
      const path = join(dir, "a.mp4")
      writeFileSync(path, "x".repeat(1000))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      sim.injectFault({ kind: "http500", endpoint: "translate" })
      const e500 = yield* Effect.flip(
        provider.submit({ source: Source.file(path), targets: ["es"] }).pipe(Submission.all)
      )
      assert.isTrue(e500._tag === "ProviderUnavailable" && e500.outcome === "unknown", String(e500))
      assert.strictEqual(sim.requests().translate, 1)
      sim.injectFault({ kind: "dropAfter", endpoint: "translate" })
      const dropped = yield* Effect.flip(
        provider.submit({ source: Source.file(path), targets: ["es"] }).pipe(Submission.all)
      )
      assert.isTrue(dropped._tag === "ProviderUnavailable" && dropped.outcome === "unknown", String(dropped))
      assert.strictEqual(sim.requests().translate, 2, "the dropped upload was sent again")
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(Effect.provide(stack()))
  )

  it.live("a POST answered 500 after VoiceCheap processed it is not sent again (no idempotency key)", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      sim.injectFault({ kind: "http500AfterProcessing", endpoint: "translate" })
      // A file source could be streamed again: only the retry rule stops a second upload.
      const error = yield* Effect.flip(
        provider.submit({ source: yield* tempFile(4096), targets: ["es"] }).pipe(Submission.single)
      )
      assert.isTrue(error._tag === "ProviderUnavailable" && error.outcome === "unknown", String(error))
      assert.strictEqual(error.status, 500)
      assert.strictEqual(sim.requests().translate, 1)
      assert.strictEqual(sim.totalRequests(), 1)
      assert.strictEqual(sim.billableSubmissions(), 1)
    }).pipe(Effect.provide(stack()))
  )

  it.live("a POST answered 429 on the request rate is sent again, after the advised Retry-After", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const source = yield* tempFile(2048)
      yield* provider.submit({ source, targets: ["es"] }).pipe(Submission.all)
      const [second] = yield* provider.submit({ source, targets: ["de"] }).pipe(Submission.all)
      assert.strictEqual(second!.language, "de")
      assert.strictEqual(sim.rejectedByRateLimit(), 1)
      assert.strictEqual(sim.requests().translate, 3)
      assert.strictEqual(sim.billableSubmissions(), 2)
    }).pipe(
      Effect.provide(
        // The simulator's translate window is tighter than the client's budget, so it answers 429. Its
        // window (3.8 s) outlasts both backoff retries (at most 1.2 s + 2.4 s), so only a client that
        // waits the advised Retry-After (4 s) gets through.
        stack({
          rateLimits: { status: simWide, projects: simWide, translate: { limit: 1, windowMs: 3800 } },
          retryAfterSeconds: 4
        })
      )
    )
  )

  it.live("a status read answered 429 is RateLimited { scope: requests } once retries are spent", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const [job] = yield* provider.submit({ source: yield* mediaSource, targets: ["es"] }).pipe(Submission.all)
      yield* provider.get(job!.ref)
      const error = yield* Effect.flip(provider.get(job!.ref))
      assert.isTrue(error._tag === "RateLimited" && error.scope === "requests", String(error))
      assert.strictEqual(error.providerCode, "RATE_LIMIT_EXCEEDED")
      assert.strictEqual(error.status, 429)
    }).pipe(
      Effect.provide(
        stack(
          { rateLimits: { status: { limit: 1, windowMs: 60_000 }, projects: simWide, translate: simWide } },
          { retries: 0 }
        )
      )
    )
  )

  it.live("a provider option out of range fails as InvalidRequest before anything is uploaded", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const error = yield* Effect.flip(
        provider
          .submit({
            source: yield* tempFile(1024),
            targets: ["es"],
            providerOptions: {
              voicecheap: { voiceCloningSettings: { stability: 2, similarity: 0.5, speakerBoost: 0.5 } }
            }
          })
          .pipe(Submission.all)
      )
      assert.isTrue(
        error._tag === "InvalidRequest" && error.param === "providerOptions.voicecheap.voiceCloningSettings.stability",
        String(error)
      )
      assert.strictEqual(sim.totalRequests(), 0)
    }).pipe(Effect.provide(stack()))
  )

  it.live("passes provider options through as form fields", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const [job] = yield* provider
        .submit({
          source: yield* tempFile(1024),
          targets: ["en-GB"],
          title: "with options",
          providerOptions: {
            voicecheap: {
              keepBackgroundMusic: false,
              voiceIsolatorOption: "studio",
              translationTimeSkips: [{ startTime: 0, endTime: 2, duration: 2 }],
              voiceCloningSettings: { stability: 0.6, similarity: 0.8, speakerBoost: 0.6 },
              lipsyncPro: true
            }
          }
        })
        .pipe(Submission.all)
      assert.strictEqual(job!.language, "en-GB")
      const [project] = sim.projects()
      assert.strictEqual(project!.targetLanguage, "british english")
      assert.strictEqual(project!.projectName, "with options")
      assert.strictEqual(project!.lipSync, "pro")
      const read = yield* provider.get(job!.ref)
      assert.strictEqual(read.language, "en-GB", "the tag is read back from the status answer's name")
    }).pipe(Effect.provide(stack()))
  )

  it.live("a refused connection is ProviderUnavailable { outcome: not-sent }, after retries", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const error = yield* Effect.flip(
        provider.get(new JobRef({ provider: "voicecheap", kind: "translation", id: "x" }))
      )
      assert.isTrue(error._tag === "ProviderUnavailable" && error.outcome === "not-sent", String(error))
    }).pipe(
      Effect.provide(
        VoiceCheap.layer({ apiKey: Redacted.make("vc_unused"), baseUrl: "http://127.0.0.1:9", retries: 1 }).pipe(
          Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
        )
      )
    )
  )

  it.live("retries a status read through a 503; a malformed body is UnexpectedResponse", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const [job] = yield* provider.submit({ source: yield* mediaSource, targets: ["es"] }).pipe(Submission.all)
      sim.injectFault({ kind: "http503", endpoint: "status" })
      const read = yield* provider.get(job!.ref)
      assert.strictEqual(String(read.ref), String(job!.ref))
      sim.injectFault({ kind: "malformed", endpoint: "status" })
      const error = yield* Effect.flip(provider.get(job!.ref))
      assert.strictEqual(error._tag, "UnexpectedResponse")
    }).pipe(Effect.provide(stack({}, { retries: 2 })))
  )

  it.live("one poll of Jobs.await is one status read: 1 + the client's 2 retries against a vendor answering 503", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const [job] = yield* provider.submit({ source: yield* mediaSource, targets: ["es"] }).pipe(Submission.all)
      sim.injectFault({ kind: "http503", endpoint: "status", times: 1_000 })
      // The next poll is an hour away: every request before the deadline belongs to the first poll,
      // whose three attempts (backoff about 1 s, then 2 s) end well within it.
      const error = yield* Effect.flip(Jobs.await(job!.ref, { interval: "1 hour", deadline: "5 seconds" }))
      assert.strictEqual(error._tag, "DeadlineExceeded")
      assert.strictEqual(sim.requests().status, 3)
    }).pipe(Effect.provide(stack()))
  )

  it.live("keeps status reads inside the budget: a burst of 40 reads under a 30-per-window limit meets no 429", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const [job] = yield* provider.submit({ source: yield* mediaSource, targets: ["es"] }).pipe(Submission.all)
      yield* Effect.forEach(Array.from({ length: 40 }), () => provider.get(job!.ref), { concurrency: "unbounded" })
      assert.strictEqual(sim.rejectedByRateLimit(), 0)
      assert.strictEqual(sim.requests().status, 40)
    }).pipe(
      Effect.provide(
        // VoiceCheap's 30 per minute, with the minute shortened to 1.5 s on both sides.
        stack(
          { rateLimits: { status: { limit: 30, windowMs: 1500 }, translate: simWide, projects: simWide } },
          { budgets: { status: { limit: 30, window: 1500 }, translate: wide, projects: wide } }
        )
      )
    )
  )

  it.live("never prints the API key: not in logs, errors or spans, even with every header recorded", () =>
    Effect.gen(function* () {
      const { spans, tracer } = Spans.recorder()
      const lines = yield* Ref.make<Array<string>>([])
      const logger = Logger.make((options) => {
        Effect.runSync(Ref.update(lines, (all) => [...all, JSON.stringify(options.message), String(options.cause)]))
      })
      const key = "vc_SECRET_c0ffee_never_print_me"
      const result = yield* Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const errors: Array<string> = []
        for (const attempt of [
          Effect.asVoid(
            provider
              .submit({ source: Source.url("http://127.0.0.1:9/nothing.mp4"), targets: ["es"] })
              .pipe(Submission.all)
          ),
          Effect.asVoid(provider.get(new JobRef({ provider: "voicecheap", kind: "translation", id: "missing" })))
        ]) {
          const error = yield* Effect.flip(attempt)
          errors.push(String(error), JSON.stringify(error), error.message)
          yield* Effect.logError("failed", error)
        }
        return errors
      }).pipe(
        Effect.provide(
          Layer.unwrap(
            Effect.map(VoiceCheapSimulator.Simulator, (sim) =>
              VoiceCheap.layer({ apiKey: Redacted.make(key), baseUrl: sim.baseUrl })
            )
          ).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))
        ),
        Effect.provide(Logger.layer([logger])),
        Effect.withTracer(tracer),
        // An application that records every header in its spans, and replaced the default redacted
        // names, must not leak the key either.
        Spans.withEveryHeaderRecorded
      )
      const attributes = spans.map((span) => JSON.stringify([span.name, ...span.attributes]))
      assert.isTrue(
        attributes.some((a) => a.includes("x-api-key")),
        "the HTTP client span records request headers"
      )
      const everything = [...result, ...(yield* Ref.get(lines)), ...attributes].join("\n")
      assert.isAbove(everything.length, 0)
      assert.notInclude(everything, key)
      assert.notInclude(everything, "c0ffee_never")
    }).pipe(Effect.provide(stack({ accounts: [{ apiKey: "vc_SECRET_c0ffee_never_print_me" }] })))
  )
})

describe("VoiceCheap URL sources are fetched within bounds", () => {
  const sources = [
    { path: "/silent.mp4", size: 1000, hang: true },
    { path: "/stalls.mp4", size: 90_000, stallAfter: 70_000 },
    { path: "/endless.mp4", size: 300_000, noLength: true },
    { path: "/big.mp4", size: 300_000 }
  ]
  const bounded = { headerTimeout: "300 millis", idleTimeout: "300 millis", maxBytes: 100_000 } as const
  /** Fails the test instead of hanging it: the bounds under test are far shorter. */
  const within = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.timeoutOrElse(self, { duration: "5 seconds", orElse: () => Effect.die("hung: no time-out fired") })

  it.live("a source server that never answers, or stops sending, fails the submission with a time-out", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const media = yield* MediaServer.serve(sources)
      for (const path of ["/silent.mp4", "/stalls.mp4"]) {
        const error = yield* within(
          Effect.flip(provider.submit({ source: Source.url(media.url(path)), targets: ["es"] }).pipe(Submission.all))
        )
        assert.strictEqual(error._tag, "InvalidRequest", error.message)
        if (error._tag === "InvalidRequest") assert.strictEqual(error.param, "source")
        assert.match(error.message, /sent no answer within|sent nothing for/)
      }
      assert.strictEqual(sim.projects().length, 0, "nothing was created at VoiceCheap")
    }).pipe(Effect.scoped, Effect.provide(stack({}, { sourceFetch: bounded })))
  )

  it.live("a source past the byte cap is PayloadTooLarge, counted on the body when no length is declared", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const media = yield* MediaServer.serve(sources)
      const declared = yield* within(
        Effect.flip(
          provider.submit({ source: Source.url(media.url("/big.mp4")), targets: ["es"] }).pipe(Submission.all)
        )
      )
      assert.strictEqual(declared._tag, "PayloadTooLarge")
      assert.strictEqual(sim.totalRequests(), 0, "a declared length over the cap uploads nothing")
      const endless = yield* within(
        Effect.flip(
          provider.submit({ source: Source.url(media.url("/endless.mp4")), targets: ["es"] }).pipe(Submission.all)
        )
      )
      assert.strictEqual(endless._tag, "PayloadTooLarge", endless.message)
      if (endless._tag === "PayloadTooLarge") assert.strictEqual(endless.limitBytes, 100_000)
      assert.strictEqual(sim.projects().length, 0, "nothing was created at VoiceCheap")
    }).pipe(Effect.scoped, Effect.provide(stack({}, { sourceFetch: bounded })))
  )

  it.live("refusePrivateAddresses refuses a loopback source before connecting to it", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* VoiceCheapSimulator.Simulator
      const media = yield* MediaServer.Media
      const error = yield* Effect.flip(
        provider.submit({ source: yield* mediaSource, targets: ["es"] }).pipe(Submission.all)
      )
      assert.strictEqual(error._tag, "InvalidRequest")
      assert.include(error.message, "127.0.0.1, a loopback, private or link-local address: refused")
      assert.strictEqual(media.requests(), 0, "the source server was never contacted")
      assert.strictEqual(sim.totalRequests(), 0)
    }).pipe(Effect.provide(stack({}, { sourceFetch: { refusePrivateAddresses: true } })))
  )
})

describe("VoiceCheap timeouts", () => {
  it.live("a status answer whose body stalls after the headers times out as an unknown outcome, not a hang", () =>
    Effect.gen(function* () {
      const server = yield* MediaServer.serve([
        { path: "/v1/translate/p1/status", size: 4096, mediaType: "application/json", stallAfter: 16 }
      ])
      const error = yield* Effect.gen(function* () {
        const client = yield* VoiceCheapClient.VoiceCheapClient
        return yield* Effect.flip(client.status("p1"))
      }).pipe(
        Effect.provide(
          VoiceCheapClient.layer({
            apiKey: Redacted.make("vc_test"),
            baseUrl: server.baseUrl,
            budgets: { status: wide },
            timeouts: { read: Duration.millis(300) }
          }).pipe(Layer.provide([VoiceCheapClient.layerRateLimiterMemory, NodeHttpClient.layerUndici]))
        )
      )
      assert.strictEqual(error._tag, "ProviderUnavailable")
      assert.include(error.message, "timed out after")
      assert.strictEqual(server.requests(), 3, "a status read is retried, each attempt cut off")
    }).pipe(Effect.scoped)
  )
})

describe("VoiceCheapClient.createProject", () => {
  it.live("uploads for transcription only (POST /v1/projects) and the project completes without dubbing", () =>
    Effect.gen(function* () {
      const sim = yield* VoiceCheapSimulator.Simulator
      const client = yield* VoiceCheapClient.VoiceCheapClient
      const bytes = new TextEncoder().encode("not really a video, but the simulator only counts bytes")
      const created = yield* client.createProject(
        {
          name: "clip.mp3",
          mediaType: "audio/mpeg",
          size: bytes.byteLength,
          stream: Stream.succeed(bytes),
          replayable: true
        },
        { targetLanguage: "german", projectName: "transcribe me" }
      )
      assert.isTrue(created.success)
      assert.strictEqual(sim.requests().projects, 1)
      yield* Effect.sleep(200)
      const status = yield* client.status(created.projectId)
      assert.strictEqual(status.status, "success")
      assert.strictEqual(status.projectName, "transcribe me")
      assert.isUndefined(status.dubbingProgress)
      assert.strictEqual(sim.projects()[0]!.bytes, bytes.byteLength)
    }).pipe(
      Effect.provide(
        Layer.unwrap(
          Effect.map(VoiceCheapSimulator.Simulator, (sim) =>
            VoiceCheapClient.layer({ apiKey: Redacted.make(sim.apiKey), baseUrl: sim.baseUrl }).pipe(
              Layer.provide(VoiceCheapClient.layerRateLimiterMemory)
            )
          )
        ).pipe(
          Layer.provide(NodeHttpClient.layerUndici),
          Layer.provideMerge(VoiceCheapSimulator.layer({ processingMs: 300 }))
        )
      )
    )
  )
})

describe("VoiceCheap under a JobTracker", () => {
  // A VoiceCheap that answers every status read at once (fixture: `seed-004-processing.json`), noting
  // on the test clock when each read left the client's rate limiter.
  const processing = readFileSync(new URL("./fixtures/seed-004-processing.json", import.meta.url), "utf8")

  /** The most requests any window of `windowMs` holds. */
  const busiest = (times: ReadonlyArray<number>, windowMs: number) => {
    let most = 0
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= windowMs) j++
      most = Math.max(most, i - j + 1)
    }
    return most
  }

  it.effect("the tracker paces reads at the budget the client enforces: the limiter never holds one back", () => {
    const sent: Array<number> = []
    const vendor = HttpClient.make((request) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        sent.push(now)
        return HttpClientResponse.fromWeb(
          request,
          new Response(processing, { headers: { "content-type": "application/json" } })
        )
      })
    )
    return Effect.gen(function* () {
      const provider = yield* TranslationProvider
      // 28 a minute: VoiceCheap's documented 30, less the two the client keeps in reserve.
      assert.strictEqual(provider.capabilities.budget.status?.limit, 28)
      const asked: Array<number> = []
      const tracker = yield* JobTracker.make({
        ...provider,
        get: (ref) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            asked.push(now)
            return provider.get(ref)
          })
      })
      // More jobs than one window's reads, so the tracker has a job to read at every slot.
      for (let i = 0; i < 40; i++) {
        yield* tracker.track(
          new Job({
            ref: new JobRef({ provider: "voicecheap", kind: "translation", id: `p${i}` }),
            language: "es",
            state: { _tag: "Running" },
            providerStatus: "processing",
            observedAt: DateTime.makeUnsafe(0)
          })
        )
      }
      for (let i = 0; i < 600; i++) yield* TestClock.adjust("1 second")
      assert.isAbove(sent.length, 250)
      // Every read left the limiter the moment the tracker asked for it…
      assert.deepStrictEqual(sent, asked.slice(0, sent.length))
      // …and the tracker used all the client allows: 28 in any minute.
      assert.strictEqual(busiest(sent, 60_000), 28)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        VoiceCheap.layer({ apiKey: Redacted.make("vc_test"), baseUrl: "http://voicecheap.test" }).pipe(
          Layer.provide([Layer.succeed(HttpClient.HttpClient, vendor), NodeServices.layer])
        )
      )
    )
  })
})
