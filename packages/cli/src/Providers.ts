/**
 * Which provider the CLI talks to, and how: a real vendor when its API key is set
 * (`HEYGEN_API_KEY`, `VOICECHEAP_API_KEY`, `ELEVENLABS_API_KEY`, with `…_BASE_URL`, `HEYGEN_API_VERSION`
 * and `ELEVENLABS_API_VERSION`), or else the
 * embedded simulator from `@polydub/testing`, started on loopback for this command — said on
 * stderr every time, so nobody mistakes a simulated result for a real one.
 */
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { TranslationProvider, type TranslationProviderService } from "@polydub/core"
import { ElevenLabs } from "@polydub/provider-elevenlabs"
import { HeyGen } from "@polydub/provider-heygen"
import { VoiceCheap } from "@polydub/provider-voicecheap"
import { ElevenLabsSimulator, HeyGenSimulator, VoiceCheapSimulator } from "@polydub/testing"
import { Config, Console, Context, Effect, Layer, Option, Redacted, Schema, Scope } from "effect"

export const providerNames = ["heygen", "voicecheap", "elevenlabs"] as const
export type ProviderName = (typeof providerNames)[number]

/** A usage problem: wrong flags, missing files, bad input. Exit code 2. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

/** Simulator timings for the embedded simulators: short, so a demo runs in seconds. */
export const embeddedTimings = {
  heygen: { queuedMs: 300, runningMs: 2500, proofreadMs: 1500 },
  voicecheap: { processingMs: 3000, lipSyncMs: 1000 },
  elevenlabs: {
    queuedMs: 300,
    preparingMs: 700,
    dubbingMs: 2000,
    projectQueuedMs: 300,
    projectPreparingMs: 500,
    projectProcessingMs: 700,
    languageMs: 1500
  }
}

export interface Overrides {
  readonly baseUrl?: string | undefined
  readonly apiVersion?: "v3" | "v2" | undefined
}

const env = (name: string) => Config.option(Config.String(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))

const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)

/** Builds the provider for a name within the current scope. */
export const build = Effect.fnUntraced(function* (name: ProviderName, overrides: Overrides = {}) {
  const scope = yield* Scope.Scope
  const upper = name.toUpperCase()
  const key = yield* env(`${upper}_API_KEY`)
  const baseUrl = overrides.baseUrl ?? Option.getOrUndefined(yield* env(`${upper}_BASE_URL`))
  const versionVar = Option.getOrUndefined(yield* env("HEYGEN_API_VERSION"))
  const apiVersion = overrides.apiVersion ?? versionVar
  if (name === "heygen" && apiVersion !== undefined && apiVersion !== "v3" && apiVersion !== "v2") {
    return yield* new UsageError({ message: `HEYGEN_API_VERSION must be v3 or v2, not ${JSON.stringify(apiVersion)}` })
  }
  const elevenLabsVersion = Option.getOrUndefined(yield* env("ELEVENLABS_API_VERSION"))
  if (
    name === "elevenlabs" &&
    elevenLabsVersion !== undefined &&
    elevenLabsVersion !== "v1" &&
    elevenLabsVersion !== "v2"
  ) {
    return yield* new UsageError({
      message: `ELEVENLABS_API_VERSION must be v1 or v2, not ${JSON.stringify(elevenLabsVersion)}`
    })
  }
  const heygenVersion = apiVersion === "v3" || apiVersion === "v2" ? apiVersion : undefined
  const elevenVersion = elevenLabsVersion === "v1" || elevenLabsVersion === "v2" ? elevenLabsVersion : undefined
  let layer: Layer.Layer<TranslationProvider>
  if (Option.isSome(key)) {
    const apiKey = Redacted.make(key.value)
    layer =
      name === "heygen"
        ? HeyGen.layer({ apiKey, baseUrl, uploadBaseUrl: baseUrl, apiVersion: heygenVersion }).pipe(
            Layer.provide(platform)
          )
        : name === "elevenlabs"
          ? ElevenLabs.layer({ apiKey, baseUrl, apiVersion: elevenVersion }).pipe(Layer.provide(platform))
          : VoiceCheap.layer({ apiKey, baseUrl }).pipe(Layer.provide(platform))
  } else {
    if (baseUrl !== undefined) {
      return yield* new UsageError({
        message: `${upper}_BASE_URL is set but ${upper}_API_KEY is not: set both (polydub simulate prints them), or neither to use the embedded simulator`
      })
    }
    if (name === "heygen") {
      const sim = yield* HeyGenSimulator.serve(embeddedTimings.heygen).pipe(Scope.provide(scope))
      yield* Console.error(
        `polydub: HEYGEN_API_KEY is not set; using the embedded HeyGen simulator at ${sim.baseUrl} (nothing is sent to HeyGen)`
      )
      layer = HeyGen.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        uploadBaseUrl: sim.baseUrl,
        apiVersion: heygenVersion
      }).pipe(Layer.provide(platform))
    } else if (name === "elevenlabs") {
      const sim = yield* ElevenLabsSimulator.serve(embeddedTimings.elevenlabs).pipe(Scope.provide(scope))
      yield* Console.error(
        `polydub: ELEVENLABS_API_KEY is not set; using the embedded ElevenLabs simulator at ${sim.baseUrl} (nothing is sent to ElevenLabs)`
      )
      layer = ElevenLabs.layer({
        apiKey: Redacted.make(sim.apiKey),
        baseUrl: sim.baseUrl,
        apiVersion: elevenVersion
      }).pipe(Layer.provide(platform))
    } else {
      const sim = yield* VoiceCheapSimulator.serve(embeddedTimings.voicecheap).pipe(Scope.provide(scope))
      yield* Console.error(
        `polydub: VOICECHEAP_API_KEY is not set; using the embedded VoiceCheap simulator at ${sim.baseUrl} (nothing is sent to VoiceCheap)`
      )
      layer = VoiceCheap.layer({ apiKey: Redacted.make(sim.apiKey), baseUrl: sim.baseUrl }).pipe(
        Layer.provide(platform)
      )
    }
  }
  const context = yield* Layer.buildWithScope(layer, scope)
  return { provider: Context.get(context, TranslationProvider), simulated: Option.isNone(key) }
})

/** Providers built on first use, once per command. */
export class Providers extends Context.Service<
  Providers,
  {
    readonly get: (name: ProviderName) => Effect.Effect<TranslationProviderService, UsageError | Config.ConfigError>
    /** Whether a provider already built runs on its embedded simulator. */
    readonly simulated: (name: ProviderName) => boolean
  }
>()("@polydub/cli/Providers") {
  static layer = (overrides: Overrides = {}) =>
    Layer.effect(
      Providers,
      Effect.gen(function* () {
        const scope = yield* Scope.Scope
        const built = new Map<ProviderName, { provider: TranslationProviderService; simulated: boolean }>()
        return {
          get: (name: ProviderName) =>
            Effect.suspend(() => {
              const cached = built.get(name)
              if (cached !== undefined) return Effect.succeed(cached.provider)
              return build(name, overrides).pipe(
                Scope.provide(scope),
                Effect.tap((b) => Effect.sync(() => built.set(name, b))),
                Effect.map((b) => b.provider)
              )
            }),
          simulated: (name: ProviderName) => built.get(name)?.simulated === true
        }
      })
    )
}
