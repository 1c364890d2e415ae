/** Merges one benchmark's figures into bench/results.json, keeping the others. */
import { existsSync, readFileSync, writeFileSync } from "node:fs"

const file = new URL("../results.json", import.meta.url)

export const record = (name: string, figures: Record<string, unknown>): void => {
  const all: Record<string, unknown> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {}
  all[name] = { ...figures, at: new Date().toISOString(), node: process.version }
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`)
}
