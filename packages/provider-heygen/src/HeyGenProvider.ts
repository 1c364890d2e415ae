/**
 * HeyGen as a `TranslationProvider`: what the v3 provider (`HeyGenProviderV3.ts`, the default) and
 * the legacy v2 provider (`HeyGenProviderV2.ts`) share at the surface — the request options, the
 * layers, and the choice of version. Review jobs are HeyGen proofreads: editable subtitles extracted
 * before rendering; approving one generates the translation.
 */
import { TranslationProvider, type TranslationProviderService } from "@polydub/core"
import { Config, Effect, type FileSystem, Layer, Option } from "effect"
import type { HttpClient } from "effect/http"
import type { RateLimiter } from "effect/persistence"
import * as Client from "./HeyGenClient.js"
import * as V2 from "./HeyGenProviderV2.js"
import * as V3 from "./HeyGenProviderV3.js"
import { HeyGenOptions } from "./internal/options.js"

export { proofreadState } from "./internal/provider.js"
export { HeyGenOptions }

/** Largest file `POST /v3/assets` takes; larger files use the direct-upload flow. */
export const multipartLimit = V3.multipartLimit

/** What the v3 provider can do. */
export const capabilitiesV3 = V3.capabilities
/** What the v2 provider can do. */
export const capabilitiesV2 = V2.capabilities
/** The unified state of a v3 translation. */
export const translationState = V3.translationState
/** The unified state of a v2 translation. */
export const v2TranslationState = V2.translationState

declare module "@polydub/core/TranslationRequest" {
  interface ProviderOptions {
    /** Decoded by `HeyGenOptions` before anything is sent. */
    readonly heygen?: HeyGenOptions | undefined
  }
}

export interface HeyGenLayerOptions extends Client.HeyGenClientOptions {
  /** Default `"v3"`. HeyGen announced the end of v1/v2 support for October 31, 2026. */
  readonly apiVersion?: "v3" | "v2" | undefined
}

/** Builds the provider over a `HeyGenClient`, on the API version given. */
export const make = (
  apiVersion: "v3" | "v2" = "v3"
): Effect.Effect<TranslationProviderService, never, Client.HeyGenClient | FileSystem.FileSystem> =>
  apiVersion === "v3" ? V3.make : V2.make

/**
 * The HeyGen `TranslationProvider`. Needs an `HttpClient` and a `FileSystem` (for file sources),
 * e.g. `NodeHttpClient.layerUndici` and `NodeServices.layer`. The request budget is kept in memory.
 */
export const layer = (
  options: HeyGenLayerOptions
): Layer.Layer<TranslationProvider, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  layerWith(options).pipe(Layer.provide(Client.layerRateLimiterMemory))

/** Like `layer`, with the `RateLimiter` from context (a Redis store shares the budget across processes). */
export const layerWith = (
  options: HeyGenLayerOptions
): Layer.Layer<TranslationProvider, never, HttpClient.HttpClient | FileSystem.FileSystem | RateLimiter.RateLimiter> =>
  Layer.effect(TranslationProvider, make(options.apiVersion)).pipe(Layer.provide(Client.layer(options)))

/** Reads `HEYGEN_API_KEY`, `HEYGEN_BASE_URL` and `HEYGEN_API_VERSION` (`v3` or `v2`). */
export const layerConfig = (
  options: Omit<HeyGenLayerOptions, "apiKey" | "baseUrl" | "apiVersion"> = {}
): Layer.Layer<TranslationProvider, Config.ConfigError, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const apiKey = yield* Config.Redacted("HEYGEN_API_KEY")
      const baseUrl = yield* Config.option(Config.String("HEYGEN_BASE_URL"))
      const apiVersion = yield* Config.Literals(["v3", "v2"], "HEYGEN_API_VERSION").pipe(
        Config.withDefault("v3" as const)
      )
      return layer({ ...options, apiKey, apiVersion, ...(Option.isSome(baseUrl) ? { baseUrl: baseUrl.value } : {}) })
    })
  )
