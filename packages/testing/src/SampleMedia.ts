/**
 * Real, playable media for the simulators' outputs and the demo's source: a 4-second video
 * (H.264 + AAC in MP4) and a 4-second MP3, committed under `media/` with the `ffmpeg` commands
 * that made them (`media/README.md`). A file that plays is what lets a download, the demo's
 * outputs and the review page be checked in a browser, where stand-in bytes would not play.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

// `src/` and `dist/` sit side by side under the package, so the same relative path works from both.
const read = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`../media/${name}`, import.meta.url))))

let video: Uint8Array | undefined
let audio: Uint8Array | undefined

/** The sample video (`video/mp4`), read once. */
export const sampleVideo = (): Uint8Array => (video ??= read("sample.mp4"))

/** The sample audio (`audio/mpeg`), read once. */
export const sampleAudio = (): Uint8Array => (audio ??= read("sample.mp3"))

/** The sample of a media type: audio for `audio/*`, video otherwise. */
export const sampleFor = (mediaType: string): Uint8Array =>
  mediaType.startsWith("audio/") ? sampleAudio() : sampleVideo()
