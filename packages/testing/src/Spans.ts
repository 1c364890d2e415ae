/**
 * Span capture for tests: a tracer that keeps every span it starts, and the setting of an
 * application that records every request header in its spans (and replaced Effect's default list
 * of redacted header names), the worst case for a leaked API key.
 */
import { Effect, Tracer } from "effect"
import { Headers, HttpClient } from "effect/http"

/** A tracer that keeps every span it starts, in `spans`. */
export const recorder = (): { readonly tracer: Tracer.Tracer; readonly spans: Array<Tracer.NativeSpan> } => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { tracer, spans }
}

/** Runs `effect` as an application that records every request header and redacts only `cookie`. */
export const withEveryHeaderRecorded = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  effect.pipe(
    Effect.provideService(HttpClient.TracerHeaderFilter, () => true),
    Effect.provideService(Headers.CurrentRedactedNames, ["cookie"])
  )
