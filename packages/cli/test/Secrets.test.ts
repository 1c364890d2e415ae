// Secrets: a run with recognisable API keys through both providers (successes and failures, the
// library and the CLI) whose every log line, span (name, attributes, events), error, CLI output and
// the job store the CLI wrote is scanned for the keys. The count must be 0.
import { readFileSync } from "node:fs"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { run } from "@polydub/cli"
import { JobRef, Source, Submission, TranslationProvider } from "@polydub/core"
import { HeyGen } from "@polydub/provider-heygen"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { HeyGenSimulator, MediaServer, Spans, VoiceCheapSimulator } from "@polydub/testing"
import { ConfigProvider, Effect, Layer, Logger, Redacted } from "effect"
import { TestConsole } from "effect/testing"

const heygenKey = "hg_live_SECRET7c1d9e_polydub_canary"
const voicecheapKey = "vc_live_SECRET4b2a8f_polydub_canary"
const wrongKey = "hg_live_WRONG9f3e2a_polydub_canary"
const canaries = ["SECRET7c1d9e", "SECRET4b2a8f", "WRONG9f3e2a"]

describe("secrets", () => {
  it.live(
    "no API key appears in any log line, span, error or CLI output",
    () =>
      Effect.gen(function* () {
        const seen: Array<string> = []
        const text = (value: unknown) =>
          JSON.stringify(value, (_, v) =>
            typeof v === "bigint" ? String(v) : v instanceof Map ? Object.fromEntries(v) : v
          ) ?? String(value)
        const { spans, tracer } = Spans.recorder()
        const logger = Logger.make((options) => void seen.push(text(options.message), String(options.cause)))
        const observe = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
          effect.pipe(Effect.withTracer(tracer), Effect.provide(Logger.layer([logger])))
        const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)

        const heygen = yield* HeyGenSimulator.serve({
          apiKeys: [heygenKey],
          queuedMs: 20,
          runningMs: 100,
          proofreadMs: 80
        })
        const voicecheap = yield* VoiceCheapSimulator.serve({
          accounts: [{ apiKey: voicecheapKey }],
          processingMs: 150
        })
        const media = yield* MediaServer.serve([{ path: "/v.mp4", size: 32 * 1024 }])

        const exercise = (source: Source, review: boolean) =>
          Effect.gen(function* () {
            const provider = yield* TranslationProvider
            const jobs = yield* provider.submit({ source, targets: ["es"], review }).pipe(Submission.all)
            yield* Effect.sleep(400)
            for (const job of jobs) seen.push(text(yield* provider.get(job.ref)))
            if (review) seen.push(text(yield* provider.transcript(jobs[0]!.ref)))
            const missing = yield* Effect.flip(
              provider.get(
                new JobRef({ provider: provider.id, kind: "translation", id: "0000000000000000deadbeef00000000-es" })
              )
            )
            seen.push(String(missing), text(missing), missing.message)
            yield* Effect.logError("expected failure", missing)
          })

        yield* observe(
          exercise(Source.url("https://media.example.com/v.mp4"), true).pipe(
            Effect.provide(
              HeyGen.layer({ apiKey: Redacted.make(heygenKey), baseUrl: heygen.baseUrl }).pipe(Layer.provide(platform))
            )
          )
        )
        yield* observe(
          exercise(Source.url(media.url("/v.mp4")), false).pipe(
            Effect.provide(
              VoiceCheap.layer({ apiKey: Redacted.make(voicecheapKey), baseUrl: voicecheap.baseUrl }).pipe(
                Layer.provide(platform)
              )
            )
          )
        )
        // A wrong key: the authentication error must not echo it.
        const refused = yield* observe(
          Effect.flip(
            Effect.flatMap(TranslationProvider, (p) =>
              p.submit({ source: Source.url("https://m.example.com/a.mp4"), targets: ["es"] }).pipe(Submission.all)
            )
          ).pipe(
            Effect.provide(
              HeyGen.layer({ apiKey: Redacted.make(wrongKey), baseUrl: heygen.baseUrl }).pipe(Layer.provide(platform))
            )
          )
        )
        seen.push(String(refused), text(refused))

        // The CLI, on both providers, including an authentication failure: its output, its log lines and its spans.
        const librarySpans = spans.length
        const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
          observe(
            Effect.gen(function* () {
              const code = yield* run(args)
              seen.push(...(yield* TestConsole.logLines).map(String), ...(yield* TestConsole.errorLines).map(String))
              return code
            }).pipe(
              Effect.provide(Layer.mergeAll(TestConsole.layer, ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))))
            )
          )
        const env = {
          HEYGEN_API_KEY: heygenKey,
          HEYGEN_BASE_URL: heygen.baseUrl,
          VOICECHEAP_API_KEY: voicecheapKey,
          VOICECHEAP_BASE_URL: voicecheap.baseUrl,
          POLYDUB_STORE: `${process.env.TMPDIR ?? "/tmp"}/polydub-secrets-${process.pid}.json`
        }
        assert.strictEqual(
          yield* cli(["translate", "https://media.example.com/v.mp4", "--to", "es", "--wait", "--json"], env),
          0
        )
        assert.strictEqual(
          yield* cli(["translate", media.url("/v.mp4"), "--to", "es", "--provider", "voicecheap", "--wait"], env),
          0
        )
        assert.strictEqual(yield* cli(["status", "heygen:translation:abc-es"], { ...env, HEYGEN_API_KEY: wrongKey }), 3)

        // The job store the CLI wrote (what it keeps between runs) must not hold a key either.
        seen.push(readFileSync(env.POLYDUB_STORE, "utf8"))
        const cliSpans = spans.length - librarySpans
        for (const span of spans)
          seen.push(span.name, text(span.attributes), text((span as unknown as { _events?: unknown })._events))
        const everything = seen.join("\n")
        const occurrences = canaries.reduce((n, canary) => n + everything.split(canary).length - 1, 0)
        console.log(
          `secrets: scanned ${seen.length} log lines, errors, outputs and ${spans.length} spans (${librarySpans} from library calls, ${cliSpans} from CLI runs; ${everything.length} characters); key occurrences: ${occurrences}`
        )
        assert.isAbove(librarySpans, 10, "spans were recorded from library calls")
        assert.isAbove(cliSpans, 5, "spans were recorded from CLI runs")
        assert.strictEqual(occurrences, 0)
      }).pipe(Effect.scoped),
    60_000
  )
})
