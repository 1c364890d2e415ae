// How the packages install for a user: the libraries take `effect` as a peer (one copy per
// application), and installing the CLI brings no test tooling (vitest, fast-check) along.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..", "..", "..")

interface Manifest {
  readonly name: string
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>
}

const manifests = new Map<string, Manifest>(
  readdirSync(join(root, "packages")).map((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")) as Manifest
    return [manifest.name, manifest]
  })
)

/** What installing `name` brings: its dependencies and required peers, through the workspace's packages. */
const installed = (name: string, seen = new Set<string>()): Set<string> => {
  if (seen.has(name)) return seen
  seen.add(name)
  const manifest = manifests.get(name)
  if (manifest === undefined) return seen
  const required = Object.keys(manifest.peerDependencies ?? {}).filter(
    (peer) => manifest.peerDependenciesMeta?.[peer]?.optional !== true
  )
  for (const dep of [...Object.keys(manifest.dependencies ?? {}), ...required]) installed(dep, seen)
  return seen
}

describe("packaging", () => {
  it("the libraries take effect as a peer, never as a dependency of their own", () => {
    for (const name of [
      "@polydub/core",
      "@polydub/provider-heygen",
      "@polydub/provider-voicecheap",
      "@polydub/testing"
    ]) {
      const manifest = manifests.get(name)!
      assert.isUndefined(manifest.dependencies?.effect, `${name} depends on effect`)
      assert.isDefined(manifest.peerDependencies?.effect, `${name} has no peer on effect`)
    }
  })

  it("installing the CLI brings no test tooling", () => {
    const brought = installed("@polydub/cli")
    for (const tool of ["vitest", "@effect/vitest", "fast-check"]) assert.isFalse(brought.has(tool), tool)
  })

  it("the CLI's sources import no module that needs test tooling", () => {
    const dir = join(root, "packages", "cli", "src")
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), "utf8")
      assert.notMatch(text, /@polydub\/testing\/(Conformance|Fuzz)|from "(vitest|@effect\/vitest|fast-check)"/, file)
    }
  })
})
