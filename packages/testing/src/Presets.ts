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
  remove: true,
  urlInput: "native",
  fileInput: true,
  outputs: { video: true, audio: true, captions: true, lipSyncVideo: true },
  audioOnly: true,
  webhooks: true,
  idempotency: true,
  targetsPerRequest: 100,
  bulkStatus: 100,
  budget: {},
  polling: { initial: Duration.seconds(5), max: Duration.seconds(30) }
}

/**
 * HeyGen's shape (v3, the default): proofread review, URL input, captions, webhooks, delete,
 * idempotency keys for 24 hours, 50 targets a request, bulk status. No upload cap (large files take
 * the direct-upload flow) and no status budget. `@polydub/provider-heygen`'s tests fail if this
 * differs from the real provider.
 */
export const heygen: Capabilities = {
  review: true,
  remove: true,
  urlInput: "native",
  fileInput: true,
  outputs: { video: true, audio: true, captions: true, lipSyncVideo: false },
  audioOnly: true,
  webhooks: true,
  idempotency: true,
  idempotencyWindow: Duration.hours(24),
  targetsPerRequest: 50,
  bulkStatus: 100,
  budget: {},
  polling: { initial: Duration.seconds(30), max: Duration.seconds(60) }
}

/**
 * VoiceCheap's shape: no review, no webhooks, no delete, one target per request, lip sync, 20 GB
 * uploads, and the budgets its client enforces (28 status reads and 8 submissions a minute: the
 * documented 30 and 10, less the 2 it holds in reserve). `@polydub/provider-voicecheap`'s tests fail
 * if this differs from the real provider.
 */
export const voicecheap: Capabilities = {
  review: false,
  remove: false,
  urlInput: "proxied",
  fileInput: true,
  maxUploadBytes: 20 * 1024 ** 3,
  outputs: { video: true, audio: true, captions: false, lipSyncVideo: true },
  audioOnly: false,
  webhooks: false,
  idempotency: false,
  targetsPerRequest: 1,
  budget: {
    status: { limit: 28, window: Duration.minutes(1) },
    submit: { limit: 8, window: Duration.minutes(1) }
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
