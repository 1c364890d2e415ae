import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// Tests run against the sources: `@polydub/<pkg>` and `@polydub/<pkg>/<Module>` resolve to
// `packages/<pkg>/src`, so no build is needed before `vitest`.
const packages = fileURLToPath(new URL("./packages/", import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@polydub\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
      { find: /^@polydub\/([a-z-]+)\/([A-Za-z]+)$/, replacement: `${packages}$1/src/$2.ts` }
    ]
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    maxWorkers: 2
  }
})
