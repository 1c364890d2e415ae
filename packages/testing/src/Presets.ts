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

/**
 * ElevenLabs' shape on its legacy dubbing API (the default): no review, no webhooks, delete, one target
 * per request, captions, 1 GB uploads, outputs served only through the provider (use `TestProvider`'s
 * `streamedOutputs: true` to match), and the budgets its client enforces by default (298 reads and 28
 * creates a minute; ElevenLabs documents none). `@polydub/provider-elevenlabs`'s tests fail if this
 * differs from the real provider.
 */
export const elevenlabs: Capabilities = {
  review: false,
  remove: true,
  urlInput: "native",
  fileInput: true,
  maxUploadBytes: 1_000_000_000,
  outputs: { video: true, audio: true, captions: true, lipSyncVideo: false },
  audioOnly: false,
  webhooks: false,
  idempotency: false,
  targetsPerRequest: 1,
  budget: {
    status: { limit: 298, window: Duration.minutes(1) },
    submit: { limit: 28, window: Duration.minutes(1) }
  },
  polling: { initial: Duration.seconds(5), max: Duration.seconds(30) }
}

/**
 * ElevenLabs' shape on its Dubbing Projects API: review (source transcript edits, approve adds the
 * language), delete, one target per request on one shared project, 3 GiB uploads, audio (a signed URL)
 * as the only output. `@polydub/provider-elevenlabs`'s tests fail if this differs from the real provider.
 */
export const elevenlabsProjects: Capabilities = {
  ...elevenlabs,
  review: true,
  maxUploadBytes: 3 * 1024 ** 3,
  outputs: { video: false, audio: true, captions: false, lipSyncVideo: false }
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

/** A few of ElevenLabs' legacy codes: regional tags are sent as their language. */
export const elevenlabsLanguages: ReadonlyArray<Language.LanguageEntry> = [
  { tag: "en", name: "en" },
  { tag: "es", name: "es" },
  { tag: "fr", name: "fr" },
  { tag: "de", name: "de" },
  { tag: "ja", name: "ja" },
  { tag: "pt-BR", name: "pt" },
  { tag: "fil", name: "fil" }
]

/** A few of the BCP-47 tags ElevenLabs' Dubbing Projects API takes as written. */
export const elevenlabsProjectsLanguages: ReadonlyArray<Language.LanguageEntry> = [
  { tag: "en", name: "en" },
  { tag: "es", name: "es" },
  { tag: "es-MX", name: "es-MX" },
  { tag: "fr", name: "fr" },
  { tag: "fr-CA", name: "fr-CA" },
  { tag: "de", name: "de" },
  { tag: "pt-BR", name: "pt-BR" }
]

export const presets = {
  permissive: { capabilities: permissive, languages: heygenLanguages },
  heygen: { capabilities: heygen, languages: heygenLanguages },
  voicecheap: { capabilities: voicecheap, languages: voicecheapLanguages },
  elevenlabs: { capabilities: elevenlabs, languages: elevenlabsLanguages },
  elevenlabsProjects: { capabilities: elevenlabsProjects, languages: elevenlabsProjectsLanguages }
} as const

export type PresetName = keyof typeof presets
