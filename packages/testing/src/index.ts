/**
 * @polydub/testing — in-memory providers and vendor simulators. The conformance suite, which needs
 * vitest, is imported from `@polydub/testing/Conformance`.
 */
export * as Presets from "./Presets.js"
export * as TestProvider from "./TestProvider.js"
