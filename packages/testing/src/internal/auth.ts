/** Reading the API key a request presents; shared by every simulator. */

import type { HttpServerRequest } from "effect/http"

/**
 * The key in `x-api-key`, or, where the vendor also takes OAuth tokens (`bearer`), in
 * `Authorization: Bearer …`. An empty header is no key.
 */
export const apiKeyOf = (
  request: HttpServerRequest.HttpServerRequest,
  options: { readonly bearer: boolean }
): string | undefined => {
  const header = request.headers["x-api-key"]
  if (header !== undefined && header !== "") return header
  const authorization = request.headers.authorization
  if (options.bearer && authorization?.startsWith("Bearer ")) return authorization.slice(7) || undefined
  return undefined
}
