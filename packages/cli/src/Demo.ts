/**
 * `polydub demo`: the main job end to end on the embedded simulators, over real HTTP on loopback.
 * One video to two languages on HeyGen with review (fetch the transcript, make a visible edit, put it
 * back, approve), and to two languages on VoiceCheap and on ElevenLabs without; every job followed to
 * its result, the outputs downloaded (ElevenLabs' streamed through the provider), and a summary table.
 */
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import {
  type Job,
  Jobs,
  Source,
  Submission,
  Transcript,
  TranslationProvider,
  type TranslationProviderService
} from "@polydub/core"
import { ElevenLabs } from "@polydub/provider-elevenlabs"
import { HeyGen } from "@polydub/provider-heygen"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { ElevenLabsSimulator, HeyGenSimulator, MediaServer, SampleMedia, VoiceCheapSimulator } from "@polydub/testing"
import { Console, Context, Effect, Layer, Redacted, Scope } from "effect"
import { download, JobFailed, line, table } from "./Output.js"
import { embeddedTimings } from "./Providers.js"

const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)

const buildProvider = (layer: Layer.Layer<TranslationProvider>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.Scope
    const context = yield* Layer.buildWithScope(layer, scope)
    return Context.get(context, TranslationProvider)
  })

interface Row {
  readonly provider: string
  readonly job: Job
  readonly files: ReadonlyArray<string>
  /** From submission to the result. */
  readonly seconds: number
}

const since = (submitted: Job, done: Job) =>
  (done.observedAt.epochMilliseconds - submitted.observedAt.epochMilliseconds) / 1000

const interval = "250 millis"
const wide = { limit: 10_000, windowMs: 60_000 }
const budget = { limit: 10_000, window: "1 minute" } as const

export const runDemo = (out: string) =>
  Effect.gen(function* () {
    const started = Date.now()
    const elapsed = () => ((Date.now() - started) / 1000).toFixed(1)
    const say = (message: string) => Console.log(`[${elapsed().padStart(5)} s] ${message}`)

    // The demo shows the flow, not the vendors' budgets: simulators and clients get wide request
    // budgets so it runs in seconds (the budgets themselves are covered by the provider tests).
    const heygenSim = yield* HeyGenSimulator.serve(embeddedTimings.heygen)
    const voicecheapSim = yield* VoiceCheapSimulator.serve({
      ...embeddedTimings.voicecheap,
      rateLimits: { status: wide, projects: wide, translate: wide }
    })
    const elevenLabsSim = yield* ElevenLabsSimulator.serve({
      ...embeddedTimings.elevenlabs,
      rateLimit: { limit: 10_000, windowMs: 60_000 }
    })
    const sample = SampleMedia.sampleVideo()
    const media = yield* MediaServer.serve([
      { path: "/videos/quarterly-update.mp4", size: sample.byteLength, body: sample }
    ])
    yield* Console.error(
      "polydub demo: everything below runs on the embedded simulators over loopback; nothing is sent to a vendor"
    )
    yield* say(
      `HeyGen simulator at ${heygenSim.baseUrl}, VoiceCheap simulator at ${voicecheapSim.baseUrl}, ` +
        `ElevenLabs simulator at ${elevenLabsSim.baseUrl}`
    )
    const source = Source.url(media.url("/videos/quarterly-update.mp4"))
    yield* say(`source video: ${source.url} (${Math.round(sample.byteLength / 1024)} KiB, a playable sample)`)

    const heygen = yield* buildProvider(
      HeyGen.layer({ apiKey: Redacted.make(heygenSim.apiKey), baseUrl: heygenSim.baseUrl, budget }).pipe(
        Layer.provide(platform)
      )
    )
    const voicecheap = yield* buildProvider(
      VoiceCheap.layer({
        apiKey: Redacted.make(voicecheapSim.apiKey),
        baseUrl: voicecheapSim.baseUrl,
        budgets: { status: budget, projects: budget, translate: budget }
      }).pipe(Layer.provide(platform))
    )
    const elevenlabs = yield* buildProvider(
      ElevenLabs.layer({
        apiKey: Redacted.make(elevenLabsSim.apiKey),
        baseUrl: elevenLabsSim.baseUrl,
        budgets: { read: budget, create: budget }
      }).pipe(Layer.provide(platform))
    )

    const follow = (provider: TranslationProviderService, job: Job) =>
      Jobs.awaitWith(provider, job.ref, { interval, deadline: "2 minutes" }).pipe(Effect.tap((j) => say(line(j))))

    const reviewFlow = (review: Job) =>
      Effect.gen(function* () {
        const ready = yield* follow(heygen, review)
        if (ready.state._tag !== "AwaitingReview")
          return { provider: "heygen", job: ready, files: [], seconds: since(review, ready) }
        const transcript = yield* heygen.transcript(review.ref)
        const first = transcript.cues[0]!
        const edited = new Transcript.Transcript({
          cues: [
            new Transcript.Cue({ ...first, text: `${first.text} [reviewed by polydub demo]` }),
            ...transcript.cues.slice(1)
          ]
        })
        yield* heygen.reviseTranscript(review.ref, edited)
        const reread = yield* heygen.transcript(review.ref)
        yield* say(`${review.ref}  cue 1 now reads: ${JSON.stringify(reread.cues[0]!.text)}`)
        const rendering = yield* heygen.approve(review.ref, { captions: true })
        yield* say(`${review.ref}  approved → ${rendering.ref}`)
        const done = yield* follow(heygen, rendering)
        const files = done.state._tag === "Succeeded" ? yield* download(heygen, done, out) : []
        return { provider: "heygen", job: done, files, seconds: since(review, done) }
      })

    const plainFlow = (provider: TranslationProviderService, job: Job) =>
      Effect.gen(function* () {
        const done = yield* follow(provider, job)
        const files = done.state._tag === "Succeeded" ? yield* download(provider, done, out) : []
        return { provider: provider.id, job: done, files, seconds: since(job, done) }
      })

    yield* say("HeyGen: submitting es and fr-CA with review (proofread) and captions")
    const reviews = yield* heygen
      .submit({
        source,
        targets: ["es", "fr-CA"],
        review: true,
        captions: true,
        title: "Quarterly update"
      })
      .pipe(Submission.all)
    for (const job of reviews) yield* say(line(job))
    yield* say("VoiceCheap: submitting es and fr-CA (one project each; no review step)")
    const projects = yield* voicecheap
      .submit({ source, targets: ["es", "fr-CA"], title: "Quarterly update" })
      .pipe(Submission.all)
    for (const job of projects) yield* say(line(job))
    yield* say("ElevenLabs: submitting es and fr-CA (one dub each, outputs streamed through the provider)")
    const dubs = yield* elevenlabs
      .submit({ source, targets: ["es", "fr-CA"], captions: true, title: "Quarterly update" })
      .pipe(Submission.all)
    for (const job of dubs) yield* say(line(job))

    const rows: ReadonlyArray<Row> = yield* Effect.all(
      [
        ...reviews.map(reviewFlow),
        ...projects.map((job) => plainFlow(voicecheap, job)),
        ...dubs.map((job) => plainFlow(elevenlabs, job))
      ],
      { concurrency: "unbounded" }
    )

    yield* Console.log(
      `\n${table([
        ["provider", "language", "state", "files", "time"],
        ...rows.map((r) => [
          r.provider,
          r.job.language,
          r.job.state._tag,
          String(r.files.length),
          `${r.seconds.toFixed(1)} s`
        ])
      ])}`
    )
    yield* Console.log(`\nfiles saved under ./${out}/ — ${rows.reduce((n, r) => n + r.files.length, 0)} in all`)
    yield* Console.log(
      "\nTo review, edit and approve a HeyGen job in a browser (a sample job on the embedded simulators): " +
        "`./run polydub review` (or `polydub review`), then open http://127.0.0.1:8090/review/"
    )
    const failed = rows.filter((r) => r.job.state._tag !== "Succeeded")
    if (failed.length > 0) return yield* new JobFailed({ message: `${failed.length} job(s) did not succeed` })
  }).pipe(Effect.scoped, Effect.provide(platform))
