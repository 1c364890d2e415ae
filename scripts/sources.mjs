// Lets `node` run the TypeScript sources without a build, as vitest does, for tests that need
// separate processes (several writers sharing one job store): `node --import ./scripts/sources.mjs
// packages/cli/src/bin.ts …`. Node strips the types; this maps what the sources import to the
// files that exist: `@polydub/<pkg>` and `@polydub/<pkg>/<Module>` to `packages/<pkg>/src`, and a
// relative `./X.js` to `./X.ts`.
import { existsSync } from "node:fs"
import { registerHooks } from "node:module"
import { fileURLToPath, pathToFileURL } from "node:url"

const packages = fileURLToPath(new URL("../packages/", import.meta.url))

registerHooks({
  resolve(specifier, context, next) {
    const pkg = /^@polydub\/([a-z-]+)(?:\/([A-Za-z]+))?$/.exec(specifier)
    if (pkg !== null) return next(pathToFileURL(`${packages}${pkg[1]}/src/${pkg[2] ?? "index"}.ts`).href, context)
    if (specifier.startsWith(".") && specifier.endsWith(".js") && context.parentURL?.endsWith(".ts")) {
      const source = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL)
      if (existsSync(fileURLToPath(source))) return next(source.href, context)
    }
    return next(specifier, context)
  }
})
