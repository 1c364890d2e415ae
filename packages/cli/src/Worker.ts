/**
 * `polydub worker`: one runner of a fleet (see `@polydub/fleet`). It needs `POLYDUB_DATABASE_URL`
 * (the fleet's PostgreSQL) and takes `POLYDUB_REDIS_URL` for one vendor budget per API key across
 * every runner (without it, each runner keeps its own budget: run one runner per key then). The
 * vendors come from their keys (`HEYGEN_API_KEY`, `VOICECHEAP_API_KEY`, with `…_BASE_URL`); a
 * fleet never uses the embedded simulators, whose state would differ in each process (point the
 * base URLs at `polydub simulate` to try a fleet without a vendor). It runs until SIGTERM or
 * SIGINT (its shards are handed to the other runners); after SIGKILL, the others take them over.
 */
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { TranslationProvider, type TranslationProviderService } from "@polydub/core"
import { DubbingWorkflow, Fleet, PgJobStore, SharedBudget } from "@polydub/fleet"
import { ElevenLabs } from "@polydub/provider-elevenlabs"
import { HeyGen } from "@polydub/provider-heygen"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { Config, Console, Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "./Providers.js"

const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)

const env = (name: string) => Config.option(Config.String(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))

/**
 * The providers whose keys are set, on the shared budget where `POLYDUB_REDIS_URL` is set; none
 * when no key is.
 */
export const providersFromEnvOption = Effect.gen(function* () {
  const budget = SharedBudget.layerConfigOrMemory()
  const record: Record<string, TranslationProviderService> = {}
  const heygenKey = yield* env("HEYGEN_API_KEY")
  if (Option.isSome(heygenKey)) {
    const baseUrl = Option.getOrUndefined(yield* env("HEYGEN_BASE_URL"))
    const version = Option.getOrUndefined(yield* env("HEYGEN_API_VERSION"))
    if (version !== undefined && version !== "v3" && version !== "v2") {
      return yield* new UsageError({ message: `HEYGEN_API_VERSION must be v3 or v2, not ${JSON.stringify(version)}` })
    }
    const layer = HeyGen.layerWith({
      apiKey: Redacted.make(heygenKey.value),
      baseUrl,
      uploadBaseUrl: baseUrl,
      apiVersion: version
    }).pipe(Layer.provide(budget), Layer.provide(platform))
    record.heygen = Context.get(yield* Layer.build(layer), TranslationProvider)
  }
  const voicecheapKey = yield* env("VOICECHEAP_API_KEY")
  if (Option.isSome(voicecheapKey)) {
    const baseUrl = Option.getOrUndefined(yield* env("VOICECHEAP_BASE_URL"))
    const layer = VoiceCheap.layerWith({ apiKey: Redacted.make(voicecheapKey.value), baseUrl }).pipe(
      Layer.provide(budget),
      Layer.provide(platform)
    )
    record.voicecheap = Context.get(yield* Layer.build(layer), TranslationProvider)
  }
  const elevenLabsKey = yield* env("ELEVENLABS_API_KEY")
  if (Option.isSome(elevenLabsKey)) {
    const baseUrl = Option.getOrUndefined(yield* env("ELEVENLABS_BASE_URL"))
    const version = Option.getOrUndefined(yield* env("ELEVENLABS_API_VERSION"))
    if (version !== undefined && version !== "v1" && version !== "v2") {
      return yield* new UsageError({
        message: `ELEVENLABS_API_VERSION must be v1 or v2, not ${JSON.stringify(version)}`
      })
    }
    const layer = ElevenLabs.layerWith({
      apiKey: Redacted.make(elevenLabsKey.value),
      baseUrl,
      apiVersion: version
    }).pipe(Layer.provide(budget), Layer.provide(platform))
    record.elevenlabs = Context.get(yield* Layer.build(layer), TranslationProvider)
  }
  return Object.keys(record).length === 0 ? Option.none() : Option.some(DubbingWorkflow.providers(record))
})

/** The providers whose keys are set; a worker needs one at least. */
const providersFromEnv = Effect.flatMap(providersFromEnvOption, (providers) =>
  Effect.fromOption(providers).pipe(
    Effect.mapError(
      () =>
        new UsageError({
          message:
            "a worker needs at least one vendor key: HEYGEN_API_KEY, VOICECHEAP_API_KEY or ELEVENLABS_API_KEY (with …_BASE_URL for `polydub simulate`)"
        })
    )
  )
)

/** `POLYDUB_DATABASE_URL`, or a usage error that says what a fleet command needs. */
export const requireDatabase = (command: string) =>
  Effect.gen(function* () {
    const url = yield* env("POLYDUB_DATABASE_URL")
    if (Option.isNone(url)) {
      return yield* new UsageError({
        message: `${command} needs POLYDUB_DATABASE_URL (postgres://user@host:5432/database), the fleet's PostgreSQL`
      })
    }
  })

export const worker = Command.make(
  "worker",
  {
    host: Flag.String("host").pipe(
      Flag.withDescription("The address the other processes of the fleet reach this runner at"),
      Flag.withDefault("127.0.0.1")
    ),
    port: Flag.Int("port").pipe(
      Flag.withDescription("The port this runner listens on for the fleet"),
      Flag.withDefault(34431)
    ),
    listenHost: Flag.String("listen-host").pipe(
      Flag.withDescription("Listen on this address instead of --host (e.g. 0.0.0.0 in a container)"),
      Flag.optional
    ),
    downloads: Flag.String("downloads").pipe(
      Flag.withDescription("Save the outputs of workflows started with downloads into this folder"),
      Flag.optional
    ),
    tablePrefix: Flag.String("table-prefix").pipe(
      Flag.withDescription("The prefix of the fleet's tables"),
      Flag.withDefault(PgJobStore.defaultTablePrefix)
    ),
    pollSeconds: Flag.Int("poll-seconds").pipe(
      Flag.withDescription(
        "Read a job again no sooner than this (default: each vendor's advice, 30 s for HeyGen); for simulators with short jobs"
      ),
      Flag.optional
    )
  },
  Effect.fn(function* (input) {
    yield* requireDatabase("polydub worker")
    if (Option.isSome(input.pollSeconds) && input.pollSeconds.value < 1) {
      return yield* new UsageError({ message: `--poll-seconds must be at least 1, not ${input.pollSeconds.value}` })
    }
    if (input.port < 1 || input.port > 65_535) {
      return yield* new UsageError({ message: `--port must be a TCP port (1–65535), not ${input.port}` })
    }
    const providers = yield* providersFromEnv
    yield* Console.error(
      `polydub: worker on ${input.host}:${input.port} for ${providers.ids.join(", ")}; stop with Ctrl-C or SIGTERM`
    )
    const runner = Fleet.layerRunner({
      tablePrefix: input.tablePrefix,
      runner: { host: input.host, port: input.port, listenHost: Option.getOrUndefined(input.listenHost) },
      ...Option.match(input.pollSeconds, {
        onNone: () => ({}),
        onSome: (seconds) => ({
          sweeper: {
            tracker: Object.fromEntries(providers.ids.map((id) => [id, { minInterval: Duration.seconds(seconds) }]))
          }
        })
      }),
      ...(Option.isSome(input.downloads) ? { downloads: { dir: input.downloads.value } } : {})
    }).pipe(
      Layer.provide(Layer.succeed(DubbingWorkflow.FleetProviders, providers)),
      Layer.provide(platform),
      Layer.provide(PgJobStore.layerClientConfig({ applicationName: "polydub-worker", maxConnections: 16 }))
    )
    return yield* Layer.launch(runner)
  }, Effect.scoped)
).pipe(Command.withDescription("Run a fleet runner (needs POLYDUB_DATABASE_URL) until stopped"))
