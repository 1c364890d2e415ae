// The ElevenLabs provider on the Dubbing Projects API against the simulator, over real loopback sockets.

import { createServer } from "node:http"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Jobs, Source, Submission, Transcript, TranslationProvider } from "@polydub/core"
import { ElevenLabs, ElevenLabsClient, ElevenLabsWebhooks } from "@polydub/provider-elevenlabs"
import { ElevenLabsSimulator } from "@polydub/testing"
import { conformance } from "@polydub/testing/Conformance"
import { Context, Duration, Effect, Layer, Option, Redacted } from "effect"

const fast = { projectQueuedMs: 40, projectPreparingMs: 60, projectProcessingMs: 80, languageMs: 150 }
const wide = { limit: 10_000, window: Duration.seconds(1) }

const options = (sim: ElevenLabsSimulator.ElevenLabsSimulator, apiKey?: string) =>
  ({
    apiKey: Redacted.make(apiKey ?? sim.apiKey),
    baseUrl: sim.baseUrl,
    apiVersion: "v2",
    budgets: { read: wide, create: wide },
    retryBase: "10 millis"
  }) as const

const providerOn = (apiKey?: string) =>
  Layer.unwrap(Effect.map(ElevenLabsSimulator.Simulator, (sim) => ElevenLabs.layer(options(sim, apiKey)))).pipe(
    Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
  )

const clientOn = Layer.unwrap(
  Effect.map(ElevenLabsSimulator.Simulator, (sim) => ElevenLabsClient.layer(options(sim)))
).pipe(Layer.provide([NodeHttpClient.layerUndici, ElevenLabsClient.layerRateLimiterMemory]))

const stack = (sim: ElevenLabsSimulator.ElevenLabsSimulatorOptions = {}) =>
  Layer.mergeAll(providerOn(), clientOn).pipe(Layer.provideMerge(ElevenLabsSimulator.layer({ ...fast, ...sim })))

conformance({
  name: "ElevenLabs (Dubbing Projects API) on its simulator (loopback)",
  layer: stack(),
  clock: "live",
  step: 40,
  unknownId: "proj_0000000000000000000000000000/lang_0000000000000000000000000000",
  requestCount: Effect.map(ElevenLabsSimulator.Simulator, (sim) => sim.totalRequests())
})

const url = Source.url("https://media.example.com/videos/talk.mp4")
const follow = (ref: Parameters<typeof Jobs.await>[0]) => Jobs.await(ref, { interval: 40, deadline: "20 seconds" })

const built = <E, R>(layer: Layer.Layer<TranslationProvider, E, R>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, TranslationProvider))

describe("ElevenLabs Dubbing Projects over loopback", () => {
  it.live("one project for the submission, one language per target; the lossless audio URL with its expiry", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      const jobs = yield* provider
        .submit({ source: url, targets: ["es-MX", "fr"], title: "promo" })
        .pipe(Submission.all)
      assert.deepStrictEqual(
        jobs.map((j) => j.language),
        ["es-MX", "fr"]
      )
      assert.strictEqual(sim.projects().length, 1, "the source is sent once for both targets")
      assert.match(sim.projects()[0]!.reference ?? "", /^promo \[pd-[0-9a-f]{12}\]$/)
      assert.match(String(jobs[0]!.ref), /^elevenlabs@v2:translation\/es-MX:proj_[a-z0-9]{28}\/lang_[a-z0-9]{28}$/)
      const done = yield* follow(jobs[0]!.ref)
      assert.strictEqual(done.state._tag, "Succeeded")
      if (done.state._tag !== "Succeeded") return
      const audio = done.state.outputs.audio!
      assert.match(audio.url ?? "", /\/output\.wav\?Expires=\d+&X-Goog-Signature=/)
      assert.strictEqual(audio.mediaType, "audio/wav")
      assert.isDefined(audio.expiresAt)
      const wav = yield* Effect.promise(() => fetch(audio.url!).then((r) => r.arrayBuffer()))
      assert.strictEqual(wav.byteLength, 64 * 1024)
    }).pipe(Effect.provide(stack()))
  )

  it.live(
    "review: the project rests at ready; an edit is written back as one bulk PATCH; approve adds the language",
    () =>
      Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const sim = yield* ElevenLabsSimulator.Simulator
        const [review] = yield* provider.submit({ source: url, targets: ["de"], review: true }).pipe(Submission.all)
        assert.strictEqual(review!.ref.kind, "review")
        assert.strictEqual((yield* follow(review!.ref)).state._tag, "AwaitingReview")
        const original = yield* provider.transcript(review!.ref)
        assert.strictEqual(original.cues.length, 3)
        const edited = new Transcript.Transcript({
          cues: original.cues.map((c, i) => (i === 1 ? new Transcript.Cue({ ...c, text: "What changed." }) : c))
        })
        const before = sim.requests().edits ?? 0
        yield* provider.reviseTranscript(review!.ref, edited)
        assert.strictEqual((sim.requests().edits ?? 0) - before, 2, "one read, one PATCH")
        yield* provider.reviseTranscript(review!.ref, edited)
        assert.strictEqual((sim.requests().edits ?? 0) - before, 3, "an unchanged transcript sends no PATCH")
        const fewer = yield* Effect.flip(
          provider.reviseTranscript(review!.ref, new Transcript.Transcript({ cues: edited.cues.slice(0, 2) }))
        )
        assert.strictEqual(fewer._tag, "InvalidRequest")
        const rendering = yield* provider.approve(review!.ref)
        assert.strictEqual(rendering.ref.kind, "translation")
        assert.strictEqual(rendering.language, "de")
        assert.strictEqual((yield* follow(rendering.ref)).state._tag, "Succeeded")
      }).pipe(Effect.provide(stack()))
  )

  it.live("transcript edits are for Enterprise plans: elsewhere PermissionDenied", () =>
    Effect.gen(function* () {
      const provider = yield* built(providerOn("pro"))
      const [review] = yield* provider.submit({ source: url, targets: ["de"], review: true }).pipe(Submission.all)
      yield* follow(review!.ref).pipe(Effect.provideService(TranslationProvider, provider))
      const original = yield* provider.transcript(review!.ref)
      const edited = new Transcript.Transcript({
        cues: original.cues.map((c, i) => (i === 0 ? new Transcript.Cue({ ...c, text: "Hello." }) : c))
      })
      const error = yield* Effect.flip(provider.reviseTranscript(review!.ref, edited))
      assert.strictEqual(error._tag, "PermissionDenied")
    }).pipe(Effect.provide(ElevenLabsSimulator.layer({ ...fast, accounts: [{ apiKey: "pro", plan: "pro" }] })))
  )

  it.live(
    "a translation edited after completion is stale (AwaitingReview); regenerate brings it back to Succeeded",
    () =>
      Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const client = yield* ElevenLabsClient.ElevenLabsClient
        const [job] = yield* provider.submit({ source: url, targets: ["it"] }).pipe(Submission.all)
        const done = yield* follow(job!.ref)
        assert.strictEqual(done.state._tag, "Succeeded")
        const [projectId, languageId] = job!.ref.id.split("/") as [string, string]
        const early = yield* Effect.flip(client.regenerate(projectId, languageId))
        assert.strictEqual(early.status, 409, "nothing to regenerate yet, nothing charged")
        assert.strictEqual(early._tag, "InvalidRequest")
        const transcript = yield* client.languageTranscript(projectId, languageId)
        yield* client.updateTranslations(projectId, languageId, {
          [transcript.segments[0]!.id]: { translation: "Benvenuti." }
        })
        const stale = yield* provider.get(job!.ref)
        assert.strictEqual(stale.state._tag, "AwaitingReview")
        assert.strictEqual(stale.providerStatus, "stale")
        const answer = yield* client.regenerate(projectId, languageId)
        assert.isTrue("regenerated_segment_ids" in answer)
        const again = yield* follow(job!.ref)
        assert.strictEqual(again.state._tag, "Succeeded")
      }).pipe(Effect.provide(stack()))
  )

  it.live("a failed project fails its review and translation jobs with ElevenLabs' codes", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      sim.failNextProject("The source has no audio track.")
      const [job] = yield* provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
      const done = yield* follow(job!.ref)
      // The language says only `project_failed`: the cause is read from the project.
      assert.deepStrictEqual(done.state, {
        _tag: "Failed",
        reason: { code: "source_unusable", message: "The source has no audio track." }
      })
      assert.strictEqual(done.providerStatus, "failed")
    }).pipe(Effect.provide(stack()))
  )

  it.live("webhooks through webhook_ids: signed deliveries when the project is ready and the language completes", () =>
    Effect.gen(function* () {
      const secret = Redacted.make("whsec_polydub_test_secret_0123456789")
      const received: Array<{ body: string; signature: string | undefined }> = []
      const server = createServer((req, res) => {
        let body = ""
        req.on("data", (c) => (body += c))
        req.on("end", () => {
          received.push({ body, signature: req.headers["elevenlabs-signature"] as string | undefined })
          res.end("ok")
        })
      })
      yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)))
      yield* Effect.addFinalizer(() =>
        Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
      )
      const port = (server.address() as { port: number }).port
      const sim = yield* ElevenLabsSimulator.serve({
        ...fast,
        webhooks: [{ id: "wh_1", url: `http://127.0.0.1:${port}/hooks`, secret: Redacted.value(secret) }]
      })
      const provider = yield* built(
        ElevenLabs.layer(options(sim)).pipe(Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer]))
      )
      const [job] = yield* provider
        .submit({ source: url, targets: ["fr"], providerOptions: { elevenlabs: { webhookIds: ["wh_1"] } } })
        .pipe(Submission.all)
      yield* follow(job!.ref).pipe(Effect.provideService(TranslationProvider, provider))
      yield* Effect.sleep(Duration.millis(100))
      const now = Math.floor(Date.now() / 1000)
      const events = received.map((r) => {
        assert.isTrue(ElevenLabsWebhooks.verify(secret, r.body, r.signature, now), "signed")
        assert.isFalse(ElevenLabsWebhooks.verify(secret, `${r.body} `, r.signature, now), "a changed body is refused")
        return Option.getOrThrow(ElevenLabsWebhooks.decodeEvent(r.body))
      })
      assert.deepStrictEqual(
        events.map((e) => e.data.event),
        ["project_ready", "language_completed"]
      )
      const ref = Option.getOrThrow(ElevenLabsWebhooks.refOf(events[1]!))
      assert.strictEqual(ref.id, job!.ref.id)
      assert.isFalse(
        ElevenLabsWebhooks.verify(secret, received[0]!.body, received[0]!.signature, now + 31 * 60),
        "an old signature is refused"
      )
      const unknown = yield* Effect.flip(
        provider
          .submit({ source: url, targets: ["fr"], providerOptions: { elevenlabs: { webhookIds: ["wh_nope"] } } })
          .pipe(Submission.single)
      )
      assert.strictEqual(unknown._tag, "InvalidRequest")
    })
  )

  it.live("a project create whose answer was lost is found by its reference: one project, not two", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      sim.injectFault({ kind: "http500AfterProcessing", endpoint: "createProject" })
      const [job] = yield* provider.submit({ source: url, targets: ["es"] }).pipe(Submission.all)
      assert.strictEqual(sim.requests().createProject, 1)
      assert.strictEqual(sim.projects().length, 1)
      assert.strictEqual(job!.ref.id.split("/")[0], sim.projects()[0]!.projectId)
      sim.injectFault({ kind: "dropAfter", endpoint: "languages" })
      const [second] = yield* provider.submit({ source: url, targets: ["pt-BR"] }).pipe(Submission.all)
      assert.strictEqual(second!.language, "pt-BR")
      assert.strictEqual((yield* follow(second!.ref)).state._tag, "Succeeded")
      sim.injectFault({ kind: "http500", endpoint: "createProject" })
      const lost = yield* Effect.flip(provider.submit({ source: url, targets: ["es"] }).pipe(Submission.single))
      assert.isTrue(lost._tag === "ProviderUnavailable" && lost.outcome === "unknown", String(lost))
      assert.strictEqual(sim.projects().length, 2)
    }).pipe(Effect.provide(stack()))
  )

  it.live("options of the legacy API are refused before anything is sent", () =>
    Effect.gen(function* () {
      const provider = yield* TranslationProvider
      const sim = yield* ElevenLabsSimulator.Simulator
      const error = yield* Effect.flip(
        provider
          .submit({ source: url, targets: ["es"], providerOptions: { elevenlabs: { watermark: true } } })
          .pipe(Submission.single)
      )
      assert.strictEqual(error._tag, "InvalidRequest")
      assert.strictEqual(sim.totalRequests(), 0)
    }).pipe(Effect.provide(stack()))
  )
})
