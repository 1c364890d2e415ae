// Bundles the review page (`app.js`, Preact and htm from the npm registry) with esbuild into
// `dist/web/`, beside the CLI's compiled code, so the package ships the page and serves it
// without fetching anything at run time. Run by the root `build` script after `tsc -b`.
import { copyFile, mkdir } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const out = here("../dist/web/")

await mkdir(out, { recursive: true })
await build({
  entryPoints: [here("app.js")],
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: false,
  target: ["chrome110", "firefox110", "safari16"],
  outfile: `${out}app.js`,
  logLevel: "warning"
})
await copyFile(here("index.html"), `${out}index.html`)
await copyFile(here("app.css"), `${out}app.css`)
console.log(`review page built into ${out}`)
