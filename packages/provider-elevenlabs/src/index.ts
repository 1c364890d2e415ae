/**
 * @polydub/provider-elevenlabs — ElevenLabs dubbing for polydub: the legacy dubbing API and the
 * Dubbing Projects API.
 */

export * as ElevenLabsClient from "./ElevenLabsClient.js"
export * as ElevenLabsLanguages from "./ElevenLabsLanguages.js"
export * as ElevenLabs from "./ElevenLabsProvider.js"
export * as ElevenLabsWebhooks from "./ElevenLabsWebhooks.js"
export * as ElevenLabsWire from "./ElevenLabsWire.js"
