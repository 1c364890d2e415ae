/**
 * What an application asks for: one source video, some target languages, and how to render them.
 * The common fields cover what every vendor means by the same words; anything vendor-specific goes
 * in `providerOptions`, typed per provider by module augmentation, so the common request never
 * widens to fit one vendor.
 */
import type { Stream } from "effect"

/** A video (or audio) at a URL the vendor — or polydub, for vendors without URL input — can fetch. */
export interface UrlSource {
  readonly _tag: "Url"
  readonly url: string
}

/** A local file, uploaded by streaming, never read whole into memory. */
export interface FileSource {
  readonly _tag: "File"
  readonly path: string
  /** The media type; guessed from the extension when absent. */
  readonly mediaType?: string | undefined
}

/** Bytes from anywhere, with a name and media type for the upload. */
export interface StreamSource {
  readonly _tag: "Stream"
  readonly name: string
  readonly mediaType: string
  readonly stream: Stream.Stream<Uint8Array, unknown>
  /** The length in bytes, where known; some uploads need it up front. */
  readonly size?: number | undefined
}

export type Source = UrlSource | FileSource | StreamSource

/** Constructors for `Source`. */
export const Source = {
  url: (url: string): UrlSource => ({ _tag: "Url", url }),
  file: (path: string, mediaType?: string): FileSource =>
    mediaType === undefined ? { _tag: "File", path } : { _tag: "File", path, mediaType },
  stream: (options: Omit<StreamSource, "_tag">): StreamSource => ({ _tag: "Stream", ...options })
} as const

const mediaTypes: Record<string, string> = {
  mp4: "video/mp4",
  mov: "video/quicktime",
  mkv: "video/x-matroska",
  webm: "video/webm",
  mpeg: "video/mpeg",
  mpg: "video/mpeg",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  m4a: "audio/x-m4a",
  flac: "audio/flac",
  ogg: "audio/ogg",
  aac: "audio/aac",
  srt: "application/x-subrip",
  vtt: "text/vtt"
}

/** The media type of a file name by its extension, or `application/octet-stream`. */
export const mediaTypeOf = (name: string): string => {
  const ext = name.toLowerCase().split(/[?#]/)[0]!.split(".").pop() ?? ""
  return mediaTypes[ext] ?? "application/octet-stream"
}

/**
 * Vendor-specific options, keyed by provider id. Provider packages add their key by module
 * augmentation:
 *
 * ```ts
 * declare module "@polydub/core/TranslationRequest" {
 *   interface ProviderOptions { readonly heygen?: HeyGenOptions }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: extended by module augmentation in provider packages
export interface ProviderOptions {}

/** Where the vendor should report completion, for providers with webhooks. */
export interface Callback {
  readonly url: string
  /** Echoed back in the event, for correlation. */
  readonly id?: string | undefined
}

/** A request to translate one source into one or more languages. */
export interface TranslationRequest {
  readonly source: Source
  /** Target languages as BCP-47 tags; one job per target. */
  readonly targets: ReadonlyArray<string>
  /** The spoken language of the source; detected by the vendor when absent. */
  readonly sourceLanguage?: string | undefined
  /** Stop for review (editable subtitles) before rendering. Fails with `Unsupported` where there is none. */
  readonly review?: boolean | undefined
  readonly title?: string | undefined
  /** Number of speakers, to help diarisation. */
  readonly speakers?: number | undefined
  /** Produce caption files (SRT, WebVTT) beside the video. */
  readonly captions?: boolean | undefined
  /** Translate the voice track only, leaving faces untouched. */
  readonly audioOnly?: boolean | undefined
  /** Lip-sync the translated video. */
  readonly lipSync?: boolean | undefined
  readonly callback?: Callback | undefined
  /**
   * Makes the submission safe to repeat: the vendor answers a repeat with the first result instead
   * of starting (and charging for) another job. Minted by polydub when absent, for vendors that
   * support it.
   */
  readonly idempotencyKey?: string | undefined
  readonly providerOptions?: ProviderOptions | undefined
}

/** Options for rendering a reviewed job. */
export interface ApproveOptions {
  readonly captions?: boolean | undefined
  readonly audioOnly?: boolean | undefined
  readonly callback?: Callback | undefined
  readonly idempotencyKey?: string | undefined
}
