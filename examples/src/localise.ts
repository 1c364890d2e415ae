/**
 * An application's translation flow, written once against `TranslationProvider`: submit a video
 * for some languages with a review step, apply the team's glossary to every transcript, approve,
 * and wait for the rendered videos. It runs unchanged on HeyGen, on any provider with a review
 * step, or on `TestProvider` in unit tests.
 */
import { type Job, Jobs, Source, Submission, Transcript, TranslationProvider } from "@polydub/core"
import { Effect } from "effect"

/** Terms the team always writes its own way, whatever the translation said. */
export type Glossary = ReadonlyMap<string, string>

/** Replaces glossary terms in every cue; returns the revised transcript and how many cues changed. */
export const applyGlossary = (transcript: Transcript.Transcript, glossary: Glossary) => {
  let changed = 0
  const cues = transcript.cues.map((cue) => {
    let text = cue.text
    for (const [from, to] of glossary) text = text.replaceAll(from, to)
    if (text === cue.text) return cue
    changed += 1
    return new Transcript.Cue({ ...cue, text })
  })
  return { transcript: new Transcript.Transcript({ cues }), changed }
}

export interface LocaliseOptions {
  readonly videoUrl: string
  readonly languages: ReadonlyArray<string>
  readonly glossary: Glossary
  /** Called at each step, for progress output. */
  readonly onStep?: (message: string) => Effect.Effect<void>
  /** Polling interval override (the provider's advice otherwise). */
  readonly interval?: Jobs.WatchOptions["interval"]
}

/** Localises one video: one finished `Job` per language, in the order asked. */
export const localise = Effect.fn("localise")(function* (options: LocaliseOptions) {
  const provider = yield* TranslationProvider
  const say = options.onStep ?? (() => Effect.void)
  const reviews = yield* provider
    .submit({
      source: Source.url(options.videoUrl),
      targets: options.languages,
      review: true,
      captions: provider.capabilities.outputs.captions,
      title: "localise"
    })
    .pipe(Submission.all)
  yield* say(`submitted ${reviews.length} review job(s): ${reviews.map((j) => String(j.ref)).join(", ")}`)
  return yield* Effect.forEach(
    reviews,
    (review) =>
      Effect.gen(function* () {
        const ready = yield* Jobs.await(review.ref, { interval: options.interval })
        yield* say(`${review.language}: ${ready.state._tag}`)
        if (ready.state._tag !== "AwaitingReview") return ready
        const original = yield* provider.transcript(review.ref)
        const { changed, transcript } = applyGlossary(original, options.glossary)
        if (changed > 0) yield* provider.reviseTranscript(review.ref, transcript)
        yield* say(`${review.language}: transcript has ${original.cues.length} cues, glossary changed ${changed}`)
        const rendering = yield* provider.approve(review.ref, { captions: provider.capabilities.outputs.captions })
        yield* say(`${review.language}: approved, rendering as ${rendering.ref}`)
        const done: Job = yield* Jobs.await(rendering.ref, { interval: options.interval })
        yield* say(`${review.language}: ${done.state._tag}`)
        return done
      }),
    { concurrency: "unbounded" }
  )
})
