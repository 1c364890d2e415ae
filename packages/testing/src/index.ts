/**
 * @polydub/testing — in-memory providers and vendor simulators. The conformance suite, which needs
 * vitest, is imported from `@polydub/testing/Conformance`.
 */

export * as ElevenLabsSimulator from "./ElevenLabsSimulator.js"
export * as HeyGenSimulator from "./HeyGenSimulator.js"
export * as Loopback from "./Loopback.js"
export * as MediaServer from "./MediaServer.js"
export * as Presets from "./Presets.js"
export * as SampleMedia from "./SampleMedia.js"
export * as Spans from "./Spans.js"
export * as TestProvider from "./TestProvider.js"
export * as VoiceCheapSimulator from "./VoiceCheapSimulator.js"
