/**
 * Capability and language presets for `TestProvider` that mimic the real vendors' shapes, so an
 * application's unit tests meet the same "no review here", "one target per request" and
 * "no URL input" constraints it will meet in production.
 */
import type { Capabilities, Language } from "@polydub/core"
import { Duration } from "effect"

/** A provider that can do everything: handy when a test is about the application, not the vendor. */
export const permissive: Capabilities = {
  review: true,
  urlInput: "native",
  fileInput: true,
  outputs: { video: true, audio: true, captions: true, lipSyncVideo: true },
  captions: true,
  audioOnly: true,
  lipSync: true,
  webhooks: true,
  remove: true,
  idempotency: true,
  targetsPerRequest: 100,
  bulkStatus: 100,
  budget: {},
  polling: { initial: Duration.seconds(5), max: Duration.seconds(30) }
}

/** HeyGen's shape: proofread review, URL input, captions, webhooks, delete, idempotency keys, bulk status. */
export const heygen: Capabilities = {
  review: true,
  urlInput: "native",
  fileInput: true,
  maxUploadBytes: 32 * 1024 * 1024,
  outputs: { video: true, audio: true, captions: true, lipSyncVideo: false },
  captions: true,
  audioOnly: true,
  lipSync: false,
  webhooks: true,
  remove: true,
  idempotency: true,
  idempotencyWindow: Duration.hours(24),
  targetsPerRequest: 100,
  bulkStatus: 100,
  budget: {
    status: { limit: 60, window: Duration.minutes(1) },
    concurrentJobs: 10
  },
  polling: { initial: Duration.seconds(30), max: Duration.seconds(60) }
}

/** VoiceCheap's shape: no review, no webhooks, no delete, one target per request, lip sync, 30 status reads a minute. */
export const voicecheap: Capabilities = {
  review: false,
  urlInput: "proxied",
  fileInput: true,
  maxUploadBytes: 20 * 1024 ** 3,
  outputs: { video: true, audio: true, captions: false, lipSyncVideo: true },
  captions: false,
  audioOnly: false,
  lipSync: true,
  webhooks: false,
  remove: false,
  idempotency: false,
  targetsPerRequest: 1,
  budget: {
    status: { limit: 30, window: Duration.minutes(1) },
    submit: { limit: 10, window: Duration.minutes(1) },
    concurrentJobs: 10
  },
  polling: { initial: Duration.seconds(10), max: Duration.seconds(30) }
}

/** A few of HeyGen's language names. */
export const heygenLanguages: ReadonlyArray<Language.LanguageEntry> = [
  { tag: "en", name: "English" },
  { tag: "es", name: "Spanish" },
  { tag: "es-ES", name: "Spanish (Spain)" },
  { tag: "es-MX", name: "Spanish (Mexico)" },
  { tag: "fr", name: "French" },
  { tag: "fr-FR", name: "French (France)" },
  { tag: "fr-CA", name: "French (Canada)" },
  { tag: "de-DE", name: "German (Germany)" },
  { tag: "ja-JP", name: "Japanese (Japan)" },
  { tag: "pt-BR", name: "Portuguese (Brazil)" },
  { tag: "zh-Hans", name: "Chinese (Mandarin, Simplified)" }
]

/** A few of VoiceCheap's (lowercase English) target names. */
export const voicecheapLanguages: ReadonlyArray<Language.LanguageEntry> = [
  { tag: "en", name: "english" },
  { tag: "en-GB", name: "british english" },
  { tag: "es", name: "spanish" },
  { tag: "fr", name: "french" },
  { tag: "fr-CA", name: "french canadian" },
  { tag: "de", name: "german" },
  { tag: "ja", name: "japanese" },
  { tag: "pt-BR", name: "brazilian portuguese" },
  { tag: "zh", name: "mandarin" }
]

export const presets = {
  permissive: { capabilities: permissive, languages: heygenLanguages },
  heygen: { capabilities: heygen, languages: heygenLanguages },
  voicecheap: { capabilities: voicecheap, languages: voicecheapLanguages }
} as const

export type PresetName = keyof typeof presets
