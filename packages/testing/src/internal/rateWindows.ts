/** Sliding request windows per key (an account, or an account and an endpoint); shared by every simulator. */

export interface RateWindow {
  readonly limit: number
  readonly windowMs: number
}

/**
 * Counts requests per key in a sliding window. `admit` records the request and answers 0, or refuses
 * it (recording nothing) and answers how long until the oldest request in the window leaves it, ms.
 */
export const makeRateWindows = () => {
  const windows = new Map<string, Array<number>>()
  const admit = (key: string, now: number, rate: RateWindow): number => {
    const list = (windows.get(key) ?? []).filter((t) => t > now - rate.windowMs)
    windows.set(key, list)
    if (list.length >= rate.limit) return Math.max(1, list[0]! + rate.windowMs - now)
    list.push(now)
    return 0
  }
  return { admit }
}
