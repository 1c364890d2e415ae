// Runs the Effect language service diagnostics (effect-tsgo) over every package's tsconfig and
// fails on any error or warning, so floating effects and missing `yield*` never land.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { join, resolve } from "node:path"

const root = resolve(import.meta.dirname, "..")
const projects = [
  ...readdirSync(join(root, "packages")).map((p) => join(root, "packages", p, "tsconfig.json")),
  join(root, "packages", "..", "examples", "tsconfig.json"),
  join(root, "bench", "tsconfig.json")
].filter((p) => existsSync(p))

let failed = false
for (const project of projects) {
  const result = spawnSync("effect-tsgo", ["diagnostics", "--project", project, "--format", "text", "--strict"], {
    stdio: "inherit",
    cwd: root
  })
  if (result.status !== 0) {
    failed = true
    console.error(`effect-tsgo diagnostics failed for ${project}`)
  }
}
if (failed) process.exit(1)
console.log(`effect-tsgo diagnostics: ${projects.length} projects clean`)
