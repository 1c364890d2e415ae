/**
 * The quick-start demo: the whole review flow on the in-memory `TestProvider` (HeyGen's shape),
 * printing each step. Run it with `./run demo`.
 */

import { NodeRuntime } from "@effect/platform-node"
import { type Job, Jobs, Source, Submission, Transcript, TranslationProvider } from "@polydub/core"
import { TestProvider } from "@polydub/testing"
import { Console, Duration, Effect, Schema, Stream } from "effect"
import { isMain } from "./isMain.js"

class DemoFailed extends Schema.TaggedError<DemoFailed>()("DemoFailed", { message: Schema.String }) {}

const startedAt = Date.now()
const say = (message: string) =>
  Console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s] ${message}`)

const describeState = (job: Job) => {
  const s = job.state
  switch (s._tag) {
    case "Running":
      return `Running${s.step ? ` (${s.step}` : " ("}${s.progress === undefined ? "" : ` ${Math.round(s.progress * 100)}%`})`
    case "Succeeded":
      return `Succeeded → ${s.outputs.video?.url ?? "(no video)"}`
    case "Failed":
      return `Failed: ${s.reason.code}: ${s.reason.message}`
    default:
      return s._tag
  }
}

const follow = (ref: Job["ref"]) =>
  Jobs.watch(ref, { interval: Duration.millis(250) }).pipe(
    Stream.tap((job) => say(`${job.ref}  ${describeState(job)}`)),
    Stream.runLast
  )

const program = Effect.gen(function* () {
  const provider = yield* TranslationProvider
  yield* say(`provider "${provider.id}" — review step: ${provider.capabilities.review}`)
  const reviews = yield* provider
    .submit({
      source: Source.url("https://media.example.com/videos/quarterly-update.mp4"),
      targets: ["es-MX", "fr-CA"],
      review: true,
      captions: true,
      title: "Quarterly update"
    })
    .pipe(Submission.all)
  yield* say(`submitted ${reviews.length} review jobs`)
  for (const review of reviews) {
    yield* follow(review.ref)
    const transcript = yield* provider.transcript(review.ref)
    yield* say(`${review.ref}  transcript (${transcript.cues.length} cues):\n${Transcript.printSrt(transcript)}`)
    const first = transcript.cues[0]!
    const edited = new Transcript.Transcript({
      cues: [
        new Transcript.Cue({ ...first, text: first.text.replace("quarterly update", "Q3 update") + " ✔" }),
        ...transcript.cues.slice(1)
      ]
    })
    yield* provider.reviseTranscript(review.ref, edited)
    yield* say(`${review.ref}  revised cue 1: ${JSON.stringify(edited.cues[0]!.text)}`)
    const rendering = yield* provider.approve(review.ref, { captions: true })
    yield* say(`${review.ref}  approved → rendering ${rendering.ref}`)
    const done = yield* follow(rendering.ref)
    if (done._tag === "None" || done.value.state._tag !== "Succeeded") {
      return yield* new DemoFailed({ message: `${rendering.ref} did not succeed` })
    }
  }
  yield* say("both languages Succeeded")
})

/** The demo with its provider: `TestProvider` in HeyGen's shape, with short scripted durations. */
export const main = program.pipe(
  Effect.provide(
    TestProvider.layer({
      preset: "heygen",
      id: "heygen",
      script: () => ({ queuedFor: "300 millis", reviewFor: "1 second", runningFor: "2 seconds" })
    })
  )
)

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
