/**
 * @polydub/provider-heygen — HeyGen video translation and proofread for polydub.
 */

export * as HeyGenClient from "./HeyGenClient.js"
export * as HeyGenLanguages from "./HeyGenLanguages.js"
export * as HeyGen from "./HeyGenProvider.js"
export * as HeyGenWebhooks from "./HeyGenWebhooks.js"
export * as HeyGenWire from "./HeyGenWire.js"
