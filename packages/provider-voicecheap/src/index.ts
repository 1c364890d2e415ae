/**
 * @polydub/provider-voicecheap — VoiceCheap video translation for polydub.
 */

export * as VoiceCheapClient from "./VoiceCheapClient.js"
export * as VoiceCheapLanguages from "./VoiceCheapLanguages.js"
export * as VoiceCheap from "./VoiceCheapProvider.js"
export * as VoiceCheapWire from "./VoiceCheapWire.js"
