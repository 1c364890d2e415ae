/**
 * How both ElevenLabs create endpoints (`POST /v1/dubbing`, `POST /v1/dubbing/project`) read their
 * multipart form: as it streams, keeping the fields and counting the file's bytes without keeping
 * them, then checking the fields by the endpoint's own rules (`Requests.ts`). A body that is not
 * multipart, cannot be read, or has a field the endpoint refuses is answered here, as ElevenLabs
 * does (422 with `detail[]`, or the endpoint's 400).
 */
import { Effect, Stream } from "effect"
import { type HttpServerRequest, type HttpServerResponse, Multipart } from "effect/http"
import { detailError, validationError } from "./Errors.js"
import type { FormError } from "./Requests.js"

/** The file part of a form: its name, media type and size; its bytes are not kept. */
export interface UploadedFile {
  readonly name: string
  readonly type: string
  readonly bytes: number
}

export type CreateForm =
  | { readonly _tag: "Refused"; readonly response: HttpServerResponse.HttpServerResponse }
  | {
      readonly _tag: "Read"
      readonly fields: ReadonlyMap<string, ReadonlyArray<string>>
      /** The first value of a field, where it was sent. */
      readonly one: (key: string) => string | undefined
      readonly uploaded: UploadedFile | undefined
    }

/** Reads a create request's form; `check` is the endpoint's field rules. */
export const readCreateForm = (
  request: HttpServerRequest.HttpServerRequest,
  check: (fields: ReadonlyMap<string, ReadonlyArray<string>>) => FormError | undefined
): Effect.Effect<CreateForm> =>
  Effect.gen(function* () {
    if (!(request.headers["content-type"] ?? "").startsWith("multipart/form-data")) {
      yield* Stream.runDrain(request.stream).pipe(Effect.ignore)
      return {
        _tag: "Refused",
        response: validationError(["file"], "Expected multipart/form-data", "value_error")
      } as const
    }
    const fields = new Map<string, Array<string>>()
    let file: { name: string; type: string; bytes: number } | undefined
    const parsed = yield* request.multipartStream.pipe(
      Stream.runForEach((part) => {
        if (part._tag === "Field") {
          return Effect.sync(
            () => void (fields.get(part.key) ?? fields.set(part.key, []).get(part.key)!).push(part.value)
          )
        }
        // A second file, or a file under another name, makes the field invalid; its bytes are drained.
        if (part.key !== "file" || file !== undefined) {
          fields.set(part.key, [""])
          return Stream.runDrain(part.content)
        }
        const current = { name: part.name, type: part.contentType, bytes: 0 }
        file = current
        return Stream.runForEach(part.content, (chunk) => Effect.sync(() => void (current.bytes += chunk.byteLength)))
      }),
      Effect.result
    )
    if (parsed._tag === "Failure") {
      const reason = Multipart.isMultipartError(parsed.failure) ? parsed.failure.message : "malformed"
      return {
        _tag: "Refused",
        response: validationError(["file"], `The multipart body could not be read: ${reason}`, "value_error")
      } as const
    }
    const invalid = check(fields)
    if (invalid !== undefined) {
      return {
        _tag: "Refused",
        response:
          invalid._tag === "Validation"
            ? validationError([invalid.field], invalid.msg, invalid.type)
            : detailError(400, invalid.code, invalid.message, { envelope: "current", param: invalid.param })
      } as const
    }
    return {
      _tag: "Read",
      fields,
      one: (key: string) => fields.get(key)?.[0],
      uploaded: file as UploadedFile | undefined
    } as const
  })
