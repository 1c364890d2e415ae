/** Seeded fault draws for the simulators' chaos runs; shared by every simulator. */

/** A seeded random source, and draws of one kind from a table of probabilities, counted by kind. */
export const makeChaos = (seed: number | undefined) => {
  let state = (seed ?? 42) >>> 0
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
  const injected: Record<string, number> = {}
  /** One of `table`'s kinds with its probability, or none (no draw at all for an empty table); counted under `prefix + kind`. */
  const draw = <K extends string>(table: Partial<Record<K, number>> | undefined, prefix = ""): K | undefined => {
    const entries = Object.entries(table ?? {}) as Array<[K, number]>
    if (entries.length === 0) return undefined
    let roll = random()
    for (const [kind, rate] of entries) {
      if (roll < rate) {
        injected[prefix + kind] = (injected[prefix + kind] ?? 0) + 1
        return kind
      }
      roll -= rate
    }
    return undefined
  }
  return { random, draw, injected }
}
