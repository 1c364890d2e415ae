// The chaos suite: 500 jobs through both simulators on loopback while they fail at set rates —
// 5xx and gateway pages, connections reset before the request is read, answers lost after the
// request was processed, malformed bodies — followed by a JobTracker to their final states.
// It checks and prints what polydub promises: every job reaches its correct final state or its
// submission is surfaced as ambiguous, no submission is billed twice, and no upload is sent again
// after it may have been processed.
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { type Job, JobTracker, Source, type TranslationError, TranslationProvider } from "@polydub/core"
import { HeyGen } from "@polydub/provider-heygen"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { HeyGenSimulator, MediaServer, VoiceCheapSimulator } from "@polydub/testing"
import { Duration, Effect, Layer, Redacted } from "effect"

const perProvider = Number(process.env.POLYDUB_CHAOS_JOBS ?? 250)
const rates = { http500: 0.04, http502: 0.03, dropBefore: 0.03, dropAfter: 0.04, malformed: 0.03 }
const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)
const wide = { limit: 100_000, window: Duration.seconds(1) }

interface Outcome {
  readonly submitted: number
  readonly jobs: ReadonlyArray<Job>
  readonly ambiguous: number
  readonly otherErrors: ReadonlyArray<string>
}

/** Submits `count` uniquely named jobs, each once, and follows the accepted ones with one tracker. */
const run = (provider: TranslationProvider["Service"], count: number, source: Source, prefix: string) =>
  Effect.gen(function* () {
    const tracker = yield* JobTracker.make(provider, {
      budget: { limit: 6000, window: Duration.minutes(1) },
      minInterval: "100 millis",
      backoff: "200 millis"
    })
    let ambiguous = 0
    const otherErrors: Array<string> = []
    const accepted: Array<Job> = []
    yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) =>
        provider.submit({ source, targets: [i % 2 === 0 ? "es" : "fr"], title: `${prefix}-${i}` }).pipe(
          Effect.flatMap((jobs) =>
            Effect.forEach(jobs, (job) =>
              Effect.andThen(
                tracker.track(job),
                Effect.sync(() => accepted.push(job))
              )
            )
          ),
          Effect.catch((error: TranslationError) =>
            Effect.sync(() => {
              if (error._tag === "ProviderUnavailable" && error.outcome === "unknown") ambiguous++
              else otherErrors.push(`${error._tag}: ${error.message}`)
            })
          )
        ),
      { concurrency: 8, discard: true }
    )
    const jobs = yield* tracker.awaitAll().pipe(Effect.timeout("60 seconds"))
    return { submitted: count, jobs, ambiguous, otherErrors } satisfies Outcome
  })

const report = (
  name: string,
  outcome: Outcome,
  billedTwice: number,
  blindRetries: number,
  injected: Readonly<Record<string, number>>
) => {
  const correct = outcome.jobs.filter((j) => j.state._tag === "Succeeded").length
  const accounted = correct + outcome.ambiguous
  console.log(
    `chaos ${name}: ${outcome.submitted} submissions, faults injected ${JSON.stringify(injected)}\n` +
      `  ${outcome.jobs.length} accepted, ${correct} reached the correct final state (${((correct / outcome.jobs.length) * 100).toFixed(1)}%), ` +
      `${outcome.ambiguous} surfaced as ProviderUnavailable { outcome: "unknown" }, ${outcome.otherErrors.length} other errors; ` +
      `${accounted}/${outcome.submitted} accounted for\n` +
      `  billable submissions made twice: ${billedTwice}; uploads re-sent after they may have been processed: ${blindRetries}`
  )
  return { correct, accounted }
}

describe("chaos", () => {
  it.live(
    `HeyGen v3: ${perProvider} jobs through 17% faults`,
    () =>
      Effect.gen(function* () {
        const sim = yield* HeyGenSimulator.serve({
          queuedMs: 20,
          runningMs: 200,
          concurrentJobs: 10_000,
          faultRates: rates,
          seed: 7
        })
        const outcome = yield* Effect.flatMap(TranslationProvider, (provider) =>
          run(provider, perProvider, Source.url("https://media.example.com/chaos.mp4"), "hg")
        ).pipe(
          Effect.provide(
            HeyGen.layer({ apiKey: Redacted.make(sim.apiKey), baseUrl: sim.baseUrl, budget: wide }).pipe(
              Layer.provide(platform)
            )
          )
        )
        const billedTwice = [...sim.jobsByTitle().values()].filter((n) => n > 1).length
        const { accounted, correct } = report("heygen", outcome, billedTwice, 0, sim.injectedFaults())
        assert.isAbove(outcome.jobs.length, perProvider * 0.8, "most submissions must be accepted despite the faults")
        assert.isAbove(
          Object.values(sim.injectedFaults()).reduce((a, b) => a + b, 0),
          0,
          "faults were injected"
        )
        assert.strictEqual(correct, outcome.jobs.length, "every accepted job reaches Succeeded")
        assert.strictEqual(billedTwice, 0)
        assert.deepStrictEqual(outcome.otherErrors, [])
        assert.strictEqual(accounted, perProvider)
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    `VoiceCheap: ${perProvider} jobs through 17% faults`,
    () =>
      Effect.gen(function* () {
        const sim = yield* VoiceCheapSimulator.serve({
          processingMs: 300,
          concurrentLimit: 10_000,
          rateLimits: {
            status: { limit: 100_000, windowMs: 1000 },
            translate: { limit: 100_000, windowMs: 1000 },
            projects: { limit: 100_000, windowMs: 1000 }
          },
          faultRates: rates,
          seed: 11
        })
        const media = yield* MediaServer.serve([{ path: "/chaos.mp4", size: 64 * 1024 }])
        const outcome = yield* Effect.flatMap(TranslationProvider, (provider) =>
          run(provider, perProvider, Source.url(media.url("/chaos.mp4")), "vc")
        ).pipe(
          Effect.provide(
            VoiceCheap.layer({
              apiKey: Redacted.make(sim.apiKey),
              baseUrl: sim.baseUrl,
              budgets: { status: wide, translate: wide, projects: wide }
            }).pipe(Layer.provide(platform))
          )
        )
        const names = new Map<string, number>()
        for (const p of sim.projects()) names.set(p.projectName, (names.get(p.projectName) ?? 0) + 1)
        const billedTwice = [...names.values()].filter((n) => n > 1).length
        // An upload attempt after one that the server processed, or answered with a 5xx, was sent blind.
        let blindRetries = 0
        for (const attempts of sim.uploadAttempts().values()) {
          for (let i = 1; i < attempts.length; i++) if (attempts[i - 1] !== undefined) blindRetries++
        }
        const { accounted, correct } = report("voicecheap", outcome, billedTwice, blindRetries, sim.injectedFaults())
        assert.isAbove(outcome.jobs.length, perProvider * 0.5, "most submissions must be accepted despite the faults")
        assert.isAbove(
          Object.values(sim.injectedFaults()).reduce((a, b) => a + b, 0),
          0,
          "faults were injected"
        )
        assert.strictEqual(correct, outcome.jobs.length, "every accepted job reaches Succeeded")
        assert.strictEqual(billedTwice, 0)
        assert.strictEqual(blindRetries, 0)
        assert.deepStrictEqual(outcome.otherErrors, [])
        assert.strictEqual(accounted, perProvider)
      }).pipe(Effect.scoped),
    120_000
  )
})
