/**
 * The review desk in fleet mode, in a real browser: `polydub serve` (run in this process on a test
 * database, with a runner beside it and the HeyGen simulator as the vendor) mounts the page at
 * `/review/`; a reviewer takes a workflow from awaiting review to a rendered video without leaving
 * the page. Chromium as in `ReviewPage.test.ts`.
 */
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { run } from "@polydub/cli"
import { HeyGenSimulator, MediaServer, SampleMedia, VoiceCheapSimulator } from "@polydub/testing"
import { ConfigProvider, Context, Duration, Effect, Exit, Layer, Schedule, Scope } from "effect"
import { TestConsole } from "effect/testing"
import { type Browser, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, runnerLayer } from "../../fleet/test/harness.js"
import { layerTestDatabase, TestDatabase } from "../../fleet/test/services.js"

const chromiumPath = process.env.POLYDUB_CHROMIUM ?? "/usr/bin/chromium"
const root = fileURLToPath(new URL("../../../", import.meta.url))

const scope = Effect.runSync(Scope.make())
let base: string
let sim: HeyGenSimulator.HeyGenSimulator
let browser: Browser

const get = (url: string) =>
  Effect.tryPromise(() => fetch(url).then(async (r) => ({ status: r.status, text: await r.text() }))).pipe(
    Effect.timeout(Duration.seconds(2))
  )

const start = Effect.gen(function* () {
  // The database lives as long as the file's scope, not just this setup.
  const database = Context.get(yield* Layer.build(layerTestDatabase), TestDatabase)
  sim = yield* HeyGenSimulator.serve({ queuedMs: 100, runningMs: 800, proofreadMs: 300 })
  const voicecheap = yield* VoiceCheapSimulator.serve({ processingMs: 600, lipSyncMs: 200 })
  const vendors = {
    heygen: { baseUrl: sim.baseUrl, apiKey: sim.apiKey },
    voicecheap: { baseUrl: voicecheap.baseUrl, apiKey: voicecheap.apiKey }
  }
  yield* Layer.build(
    runnerLayer({ databaseUrl: database.url, tablePrefix: "desk_", port: yield* freePort, vendors, retention: null })
  )
  const port = yield* freePort
  base = `http://127.0.0.1:${port}`
  const env = {
    POLYDUB_DATABASE_URL: database.url,
    HEYGEN_API_KEY: sim.apiKey,
    HEYGEN_BASE_URL: sim.baseUrl,
    VOICECHEAP_API_KEY: voicecheap.apiKey,
    VOICECHEAP_BASE_URL: voicecheap.baseUrl
  }
  yield* Effect.forkScoped(
    run(["serve", "--port", String(port), "--table-prefix", "desk_"]).pipe(
      Effect.provide(Layer.mergeAll(TestConsole.layer, ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))))
    )
  )
  yield* get(`${base}/v1/health`).pipe(Effect.retry({ schedule: Schedule.spaced(Duration.millis(200)), times: 100 }))
  const sample = SampleMedia.sampleVideo()
  const media = yield* MediaServer.serve([{ path: "/videos/sample.mp4", size: sample.byteLength, body: sample }])
  const started = yield* Effect.tryPromise(() =>
    fetch(`${base}/v1/translations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        id: "desk-fleet-1",
        provider: "heygen",
        source: media.url("/videos/sample.mp4"),
        targets: ["es"],
        review: true,
        title: "Fleet review"
      })
    }).then((r) => r.status)
  )
  if (started !== 201) throw new Error(`the fleet did not start the translation: ${started}`)
})

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, "packages/cli/web/build.mjs")], { stdio: "ignore" })
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: install it with \`apt-get install -y chromium\` (or set POLYDUB_CHROMIUM)`
    )
  }
  await Effect.runPromise(start.pipe(Scope.provide(scope)))
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
  })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await Effect.runPromise(Scope.close(scope, Exit.void))
})

describe("the review desk on a fleet, in Chromium", () => {
  it("takes a HeyGen workflow from awaiting review to a rendered video", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${base}/review/`)
    // The list refreshes by itself: the workflow shows up once the vendor's transcript is ready.
    await page.getByRole("link", { name: "Fleet review" }).click({ timeout: 30_000 })
    await expect.poll(() => page.locator("li.cue").count(), { timeout: 10_000 }).toBe(3)
    await page.getByLabel("Text of cue 1", { exact: true }).fill("Hola desde la flota.")
    await page.getByRole("button", { name: "Save" }).click()
    await expect.poll(() => page.getByRole("status").textContent(), { timeout: 15_000 }).toBe("Saved.")
    // The fleet API reads what the page saved from the vendor.
    const listed = (await (await fetch(`${base}/review/api/jobs`)).json()) as { jobs: Array<{ ref: string }> }
    const ref = listed.jobs[0]!.ref
    const saved = (await (await fetch(`${base}/v1/workflows/${ref}/transcript`)).json()) as {
      cues: Array<{ text: string }>
    }
    expect(saved.cues[0]?.text).toBe("Hola desde la flota.")
    await page.getByRole("button", { name: "Approve and render" }).click()
    await expect.poll(() => page.getByTestId("job-status").textContent(), { timeout: 30_000 }).toBe("rendered")
    await expect
      .poll(
        () => page.locator("video").evaluate((video: any) => ({ src: String(video.src), ok: video.readyState >= 2 })),
        {
          timeout: 10_000
        }
      )
      .toMatchObject({ ok: true, src: expect.stringContaining("/files/") })
    await page.close()
  }, 90_000)
})
