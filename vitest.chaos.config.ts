import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// The chaos suite: slower and bounded in time; run by `pnpm test:chaos` (and by `pnpm test`).
const packages = fileURLToPath(new URL("./packages/", import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@polydub\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
      { find: /^@polydub\/([a-z-]+)\/([A-Za-z]+)$/, replacement: `${packages}$1/src/$2.ts` }
    ]
  },
  test: {
    include: ["packages/*/chaos/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 30_000,
    pool: "forks",
    maxWorkers: 1
  }
})
