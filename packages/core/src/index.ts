/**
 * @polydub/core — the provider-agnostic video translation contract.
 */
export * as Downloads from "./Downloads.js"
export * as Idempotency from "./Idempotency.js"
export { IdempotencyKeyExpired } from "./Idempotency.js"
export * from "./Job.js"
export * as JobStore from "./JobStore.js"
export * as Jobs from "./Jobs.js"
export * as JobTracker from "./JobTracker.js"
export * as Language from "./Language.js"
export * as Policy from "./Policy.js"
export * as ProviderHttp from "./ProviderHttp.js"
export * as ProviderTransport from "./ProviderTransport.js"
export * as Submission from "./Submission.js"
export { SubmissionFailed, type TargetResult } from "./Submission.js"
export * as Transcript from "./Transcript.js"
export * from "./TranslationError.js"
export {
  type ArtifactBody,
  type Budget,
  type Capabilities,
  type DeclaredCapabilities,
  type JobResult,
  make as makeProvider,
  mapStatus,
  notFound,
  type ProviderHooks,
  type ResolvedRequest,
  type ResolvedTarget,
  TranslationProvider,
  type TranslationProviderService
} from "./TranslationProvider.js"
export * from "./TranslationRequest.js"
