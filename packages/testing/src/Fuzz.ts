/**
 * Fuzzing support for provider authors (needs `fast-check`): arbitraries built from a vendor's
 * verbatim example bodies, so a decoder is tried on inputs that are nearly right — the ones real
 * vendors send after a schema change — as well as on arbitrary JSON.
 */
import { readdirSync, readFileSync } from "node:fs"
import * as fc from "fast-check"

/** The `.json` files in `folder` (a `file:` URL ending in `/`), parsed, in name order. */
export const loadFixtures = (folder: URL): ReadonlyArray<unknown> =>
  readdirSync(folder)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, folder), "utf8")) as unknown)

type Node = Record<string, unknown>

/** One of `fixtures` with one value somewhere replaced by arbitrary JSON, or one key removed. */
export const mutatedFixtures = (fixtures: ReadonlyArray<unknown>): fc.Arbitrary<unknown> =>
  fc.tuple(fc.constantFrom(...fixtures), fc.jsonValue(), fc.nat(), fc.boolean()).map(([fixture, value, pick, drop]) => {
    const copy = structuredClone(fixture)
    const places: Array<[Node, string]> = []
    const walk = (node: unknown) => {
      if (node === null || typeof node !== "object") return
      for (const key of Object.keys(node)) {
        places.push([node as Node, key])
        walk((node as Node)[key])
      }
    }
    walk(copy)
    if (places.length === 0) return value
    const [parent, key] = places[pick % places.length]!
    if (drop) delete parent[key]
    else parent[key] = value
    return copy
  })
