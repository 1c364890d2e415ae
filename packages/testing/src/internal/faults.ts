/**
 * The fault machinery every simulator shares: faults queued on demand and matched to the next
 * requests, the vendor-side 429 burst they can start, and a dropped connection (a socket cut over
 * loopback; in process, a marked answer the in-process fetch turns into a network error).
 */

import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"

/** The header an in-process answer carries when its connection is to be treated as dropped. */
export const dropMarker = "x-polydub-simulator-drop"

/** Faults queued by a test, each used `times` times (once when absent) by the requests it matches. */
export const makeFaultQueue = <F extends { readonly times?: number | undefined }>() => {
  const queue: Array<{ fault: F; left: number }> = []
  const push = (fault: F) => void queue.push({ fault, left: fault.times ?? 1 })
  /** The first queued fault that matches, counted down; or none. */
  const take = (matches: (fault: F) => boolean): F | undefined => {
    const index = queue.findIndex((entry) => matches(entry.fault))
    if (index === -1) return undefined
    const entry = queue[index]!
    if (--entry.left <= 0) queue.splice(index, 1)
    return entry.fault
  }
  return { push, take }
}

/** A vendor-side 429 burst: once started, every request is refused until it ends. */
export const makeBurst = (burstMs: number) => {
  let until = 0
  let refused = 0
  return {
    start: (now: number) => void (until = now + burstMs),
    /** How long the burst still lasts, ms (0 when none); a request that meets one is counted refused. */
    refuse: (now: number): number => {
      if (now >= until) return 0
      refused++
      return until - now
    },
    refused: () => refused
  }
}

/** Cuts the connection without an answer. */
export const dropConnection = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.suspend(() => {
    const socket = (NodeHttpServerRequest.toIncomingMessage(request) as { socket?: { destroy(): void } } | undefined)
      ?.socket
    if (socket !== undefined) {
      socket.destroy()
      return Effect.never
    }
    return Effect.succeed(HttpServerResponse.empty({ status: 502, headers: { [dropMarker]: "1" } }))
  })
