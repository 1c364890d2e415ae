/**
 * A media file as a simulator answers it: the whole file, or the byte range a browser's `<video>`
 * asks for (`Range: bytes=a-b`, answered 206), so a page can seek in what a simulator serves.
 */
import { HttpServerResponse } from "effect/http"

export const mediaResponse = (
  bytes: Uint8Array,
  contentType: string,
  range: string | undefined
): HttpServerResponse.HttpServerResponse => {
  const m = range === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(range.trim())
  if (m === null || (m[1] === "" && m[2] === "")) {
    return HttpServerResponse.uint8Array(bytes, { contentType, headers: { "accept-ranges": "bytes" } })
  }
  const size = bytes.byteLength
  // `bytes=-n` is the last n bytes.
  const start = m[1] === "" ? Math.max(0, size - Number(m[2])) : Number(m[1])
  const end = m[1] === "" || m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (start >= size || start > end) {
    return HttpServerResponse.empty({ status: 416, headers: { "content-range": `bytes */${size}` } })
  }
  return HttpServerResponse.uint8Array(bytes.subarray(start, end + 1), {
    status: 206,
    contentType,
    headers: { "accept-ranges": "bytes", "content-range": `bytes ${start}-${end}/${size}` }
  })
}
