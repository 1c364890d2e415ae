/**
 * ElevenLabs as a `TranslationProvider`: what the legacy dubbing provider (`ElevenLabsProviderV1.ts`,
 * the default) and the Dubbing Projects provider (`ElevenLabsProviderV2.ts`) share at the surface —
 * the request options, the layers, and the choice of API.
 */
import { TranslationProvider, type TranslationProviderService } from "@polydub/core"
import { Config, Effect, type FileSystem, Layer, Option } from "effect"
import type { HttpClient } from "effect/http"
import type { RateLimiter } from "effect/persistence"
import * as Client from "./ElevenLabsClient.js"
import * as V1 from "./ElevenLabsProviderV1.js"
import * as V2 from "./ElevenLabsProviderV2.js"
import { ElevenLabsOptions } from "./internal/provider.js"

export { ElevenLabsOptions }

/** What the legacy dubbing provider can do. */
export const capabilitiesV1 = V1.capabilities
/** What the Dubbing Projects provider can do. */
export const capabilitiesV2 = V2.capabilities
/** The unified state of a legacy dub. */
export const dubState = V1.dubState
/** The unified state of a project (a review job). */
export const projectState = V2.projectState
/** The unified state of a project's language (a translation job). */
export const languageState = V2.languageState

declare module "@polydub/core/TranslationRequest" {
  interface ProviderOptions {
    /** Decoded by `ElevenLabsOptions` before anything is sent. */
    readonly elevenlabs?: ElevenLabsOptions | undefined
  }
}

/** The API a provider speaks: `v1`, the legacy dubbing API (`/v1/dubbing`), or `v2`, the Dubbing Projects API. */
export type ApiVersion = "v1" | "v2"

export interface ElevenLabsLayerOptions extends Client.ElevenLabsClientOptions {
  /** Default `"v1"`, the legacy dubbing API. */
  readonly apiVersion?: ApiVersion | undefined
}

/** Builds the provider over an `ElevenLabsClient`, on the API given. */
export const make = (
  apiVersion: ApiVersion = "v1"
): Effect.Effect<TranslationProviderService, never, Client.ElevenLabsClient | FileSystem.FileSystem> =>
  apiVersion === "v2" ? V2.make : V1.make

/**
 * The ElevenLabs `TranslationProvider`. Needs an `HttpClient` and a `FileSystem` (for file sources),
 * e.g. `NodeHttpClient.layerUndici` and `NodeServices.layer`. Budgets are kept in memory.
 */
export const layer = (
  options: ElevenLabsLayerOptions
): Layer.Layer<TranslationProvider, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  layerWith(options).pipe(Layer.provide(Client.layerRateLimiterMemory))

/** Like `layer`, with the `RateLimiter` from context (a Redis store shares budgets across processes). */
export const layerWith = (
  options: ElevenLabsLayerOptions
): Layer.Layer<TranslationProvider, never, HttpClient.HttpClient | FileSystem.FileSystem | RateLimiter.RateLimiter> =>
  Layer.effect(TranslationProvider, make(options.apiVersion)).pipe(Layer.provide(Client.layer(options)))

/** Reads `ELEVENLABS_API_KEY`, `ELEVENLABS_BASE_URL` and `ELEVENLABS_API_VERSION` (`v1` or `v2`). */
export const layerConfig = (
  options: Omit<ElevenLabsLayerOptions, "apiKey" | "baseUrl"> = {}
): Layer.Layer<TranslationProvider, Config.ConfigError, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const apiKey = yield* Config.Redacted("ELEVENLABS_API_KEY")
      const baseUrl = yield* Config.option(Config.String("ELEVENLABS_BASE_URL"))
      const apiVersion = yield* Config.Literals(["v1", "v2"], "ELEVENLABS_API_VERSION").pipe(
        Config.withDefault(options.apiVersion ?? ("v1" as const))
      )
      return layer({ ...options, apiKey, apiVersion, ...(Option.isSome(baseUrl) ? { baseUrl: baseUrl.value } : {}) })
    })
  )
