/**
 * `polydub review`: the review desk, a web page where translations are checked, edited and
 * approved on any vendor with a review step, served on loopback from this process (the configured
 * providers, the local job store). `polydub serve` mounts the same page and API on the fleet.
 *
 * The page is a small Preact application under `web/`, bundled by the build (`web/build.mjs`,
 * esbuild) into `dist/web/` and shipped in this package: nothing is fetched from elsewhere at run
 * time. Its API is `ReviewApi`.
 *
 * On HeyGen's embedded simulator (no `HEYGEN_API_KEY`), the desk starts a sample review job on the
 * sample video, so there is something to review; `--no-sample` leaves it out.
 */
import { readFile } from "node:fs/promises"
import { createServer } from "node:http"
import { fileURLToPath } from "node:url"
import { NodeHttpServer } from "@effect/platform-node"
import { type Job, JobStore, Source, Submission, type TranslationProviderService } from "@polydub/core"
import { MediaServer, SampleMedia } from "@polydub/testing"
import { Console, Context, Effect, Layer, Option, Scope } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import { storePath } from "./LocalStore.js"
import { type ProviderName, Providers, providerNames, UsageError } from "./Providers.js"
import * as ReviewApi from "./ReviewApi.js"
import { type EmbeddedDesk, makeEmbedded, ReviewDesk } from "./ReviewDesk.js"

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

/** `dist/web/`, from `src/` as from `dist/`: both sit beside it in the package. */
const webDir = new URL("../dist/web/", import.meta.url)

const assets = [
  { name: "index.html", type: "text/html; charset=utf-8" },
  { name: "app.js", type: "text/javascript; charset=utf-8" },
  { name: "app.css", type: "text/css; charset=utf-8" }
] as const

// The page loads its own script and style only; media may come from the vendor's file URLs.
const securityHeaders = {
  "content-security-policy":
    "default-src 'self'; media-src 'self' http: https: blob:; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache"
}

const missing = HttpServerResponse.text(
  "The review page is not built: run `pnpm build` (or `./run build`) in the polydub checkout.\n",
  { status: 503 }
)

/** The page's files under `/review/`; a 503 saying how to build them where they are missing. */
export const layerPage = Layer.unwrap(
  Effect.gen(function* () {
    const loaded = yield* Effect.forEach(assets, (asset) =>
      Effect.tryPromise(() => readFile(fileURLToPath(new URL(asset.name, webDir)))).pipe(
        Effect.map((bytes) => ({ ...asset, bytes: new Uint8Array(bytes) })),
        Effect.option
      )
    )
    const route = (index: number) => {
      const file = loaded[index]
      if (file === undefined || Option.isNone(file)) return Effect.succeed(missing)
      return Effect.succeed(
        HttpServerResponse.uint8Array(file.value.bytes, { contentType: file.value.type, headers: securityHeaders })
      )
    }
    return Layer.mergeAll(
      HttpRouter.add("GET", "/review/", route(0)),
      HttpRouter.add("GET", "/review/app.js", route(1)),
      HttpRouter.add("GET", "/review/app.css", route(2))
    )
  })
)

/** The page and its API, answered by the `ReviewDesk` given. */
export const layerRoutes = Layer.mergeAll(ReviewApi.layer, layerPage)

/**
 * Serves the desk on `host:port` (0: any free port) for the life of the scope; answers the page's
 * URL. `/` leads to the page.
 */
export const serveDesk = Effect.fnUntraced(function* (
  desk: ReviewDesk["Service"],
  options: { readonly host: string; readonly port: number }
) {
  const scope = yield* Scope.Scope
  const server = NodeHttpServer.layer(createServer, { port: options.port, host: options.host })
  const routes = Layer.mergeAll(layerRoutes, HttpRouter.add("GET", "/", HttpServerResponse.redirect("/review/")))
  const context = yield* Layer.buildWithScope(
    HttpRouter.serve(routes).pipe(Layer.provide(Layer.succeed(ReviewDesk, desk)), Layer.provideMerge(server)),
    scope
  )
  const address = HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)
  return { url: `${address}/review/` }
})

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

/** Starts a HeyGen review job on the sample video (served on loopback for the scope) and puts it on the desk. */
export const startSample = Effect.fnUntraced(function* (
  desk: EmbeddedDesk,
  provider: TranslationProviderService,
  title = "Sample review (simulated)"
) {
  const sample = SampleMedia.sampleVideo()
  const media = yield* MediaServer.serve([{ path: "/videos/sample.mp4", size: sample.byteLength, body: sample }])
  const source = media.url("/videos/sample.mp4")
  const jobs = yield* provider
    .submit({ source: Source.url(source), targets: ["es"], review: true, captions: true, title })
    .pipe(Submission.all)
  for (const job of jobs) yield* desk.add(job, { title, source })
  return jobs
})

export const review = Command.make(
  "review",
  {
    host: Flag.String("host").pipe(
      Flag.withDescription("The address to listen on (0.0.0.0 for every interface)"),
      Flag.withDefault("127.0.0.1")
    ),
    port: Flag.Int("port").pipe(
      Flag.withDescription("The port to listen on (0: any free port)"),
      Flag.withDefault(8090)
    ),
    sample: Flag.Boolean("sample").pipe(
      Flag.withDescription("On HeyGen's embedded simulator, start a sample review job (default: on)"),
      Flag.withDefault(true)
    )
  },
  Effect.fn(function* (input) {
    if (input.port < 0 || input.port > 65_535) {
      return yield* new UsageError({ message: `--port must be a TCP port (0–65535), not ${input.port}` })
    }
    const providers = yield* Providers
    const path = yield* storePath
    const store = yield* JobStore.makeFile(path).pipe(Effect.option)
    const desk = makeEmbedded({
      provider: (name) =>
        (providerNames as ReadonlyArray<string>).includes(name)
          ? providers.get(name as ProviderName)
          : Effect.fail(new UsageError({ message: `unknown provider ${name}` })),
      store: Option.getOrUndefined(store),
      remember: (job: Job) =>
        providers.simulated(job.ref.provider as ProviderName) || Option.isNone(store)
          ? Effect.void
          : store.value.put(job).pipe(Effect.catch((e) => Console.error(`polydub: job store: ${e.message}`)))
    })
    const heygen = yield* providers.get("heygen")
    if (input.sample && providers.simulated("heygen")) {
      const jobs = yield* startSample(desk, heygen)
      yield* Console.error(
        `polydub: a sample HeyGen review job on the simulator: ${jobs.map((j) => String(j.ref)).join(", ")}`
      )
    }
    const { url } = yield* serveDesk(desk, { host: input.host, port: input.port })
    yield* Console.error(
      [
        `polydub: the review desk is at ${url}`,
        `  jobs awaiting review from ${path}${providers.simulated("heygen") ? " and the embedded simulator" : ""}`,
        "  stop with Ctrl-C"
      ].join("\n")
    )
    return yield* Effect.never
  }, Effect.scoped)
).pipe(Command.withDescription("Serve the review desk: review, edit and approve transcripts in a browser"))
