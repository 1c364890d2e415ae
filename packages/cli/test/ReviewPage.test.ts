/**
 * The review desk in a real browser: Debian's Chromium driven by `playwright-core`, headless, on the
 * page served over loopback against the HeyGen simulator (real HTTP end to end, real media). A
 * reviewer opens a job, sees its cues and its video, edits a cue, sees the reading-speed warning
 * appear and clear, saves, approves and sees the rendered video; a save that fails, or that would
 * overwrite someone else's edit, keeps the edit on the page and says why.
 *
 * Chromium is `/usr/bin/chromium` (`apt-get install -y chromium`; `.ci/run` installs it where it is
 * missing), or `POLYDUB_CHROMIUM`. `UPDATE_SCREENSHOT=1` writes the README's screenshot
 * (`docs/review-desk.png`).
 */
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { type Job, Jobs, Transcript, TranslationProvider, type TranslationProviderService } from "@polydub/core"
import { HeyGen } from "@polydub/provider-heygen"
import { HeyGenSimulator } from "@polydub/testing"
import { Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serveDesk, startSample } from "../src/Review.js"
import { makeEmbedded } from "../src/ReviewDesk.js"

/** How long a check waits for the page: generous, as a loaded CI machine renders slowly. */
const patient = { timeout: 10_000 }

const chromiumPath = process.env.POLYDUB_CHROMIUM ?? "/usr/bin/chromium"
const root = fileURLToPath(new URL("../../../", import.meta.url))

interface Setup {
  readonly url: string
  readonly sim: HeyGenSimulator.HeyGenSimulator
  readonly heygen: TranslationProviderService
  readonly jobs: ReadonlyArray<Job>
}

const scope = Effect.runSync(Scope.make())
let setup: Setup
let browser: Browser

const start = Effect.gen(function* () {
  const sim = yield* HeyGenSimulator.serve({ queuedMs: 100, runningMs: 800, proofreadMs: 300 })
  const context = yield* Layer.build(
    HeyGen.layer({
      apiKey: Redacted.make(sim.apiKey),
      baseUrl: sim.baseUrl,
      uploadBaseUrl: sim.baseUrl,
      budget: { limit: 10_000, window: "1 minute" }
    }).pipe(Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeServices.layer)))
  )
  const heygen = Context.get(context, TranslationProvider)
  const desk = makeEmbedded({
    provider: (name) => (name === "heygen" ? Effect.succeed(heygen) : Effect.fail(`no ${name} here`))
  })
  const jobs = [
    ...(yield* startSample(desk, heygen, "Quarterly update")),
    ...(yield* startSample(desk, heygen, "Failing saves")),
    ...(yield* startSample(desk, heygen, "Edited elsewhere"))
  ]
  yield* Effect.forEach(jobs, (job) =>
    Jobs.awaitWith(heygen, job.ref, { interval: "100 millis", deadline: "30 seconds" })
  )
  const { url } = yield* serveDesk(desk, { host: "127.0.0.1", port: 0 })
  return { url, sim, heygen, jobs }
})

beforeAll(async () => {
  // The page as the build makes it: `web/build.mjs` bundles it into `dist/web/`.
  execFileSync(process.execPath, [join(root, "packages/cli/web/build.mjs")], { stdio: "ignore" })
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: install it with \`apt-get install -y chromium\` (or set POLYDUB_CHROMIUM)`
    )
  }
  setup = await Effect.runPromise(start.pipe(Scope.provide(scope)))
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

const openJob = async (title: string): Promise<Page> => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await page.goto(setup.url)
  await page.getByRole("link", { name: title }).click()
  await expect.poll(() => page.locator("li.cue").count(), { timeout: 10_000 }).toBe(3)
  return page
}

/** The page's video: its URL, and whether the browser has decoded enough of it to play (`readyState` ≥ 2). */
const videoState = (page: Page) =>
  page.locator("video").evaluate((video: any) => ({ src: String(video.src), playable: video.readyState >= 2 }))

const textOf = (page: Page, n: number) => page.getByLabel(`Text of cue ${n}`, { exact: true })

describe("the review desk in Chromium", () => {
  it("takes a HeyGen review job from awaiting review to a rendered video", async () => {
    const page = await openJob("Quarterly update")
    // The source video is real media: the browser decodes it.
    await expect.poll(() => videoState(page), { timeout: 10_000 }).toMatchObject({ playable: true })
    await expect.poll(() => textOf(page, 1).inputValue(), patient).toContain("Welcome to the quarterly update")

    const cue1 = page.locator('li.cue[data-cue="1"]')
    // HeyGen gives the source text beside the translation.
    await expect
      .poll(() => cue1.locator(".source").textContent(), patient)
      .toContain("Welcome to the quarterly update.")
    const long = "Bienvenidos a la actualización trimestral de nuestra empresa, con todas las novedades del equipo"
    await textOf(page, 1).fill(long)
    await expect
      .poll(() => cue1.locator(".warning").allTextContents())
      .toEqual(expect.arrayContaining([expect.stringContaining("reading speed")]))
    await page.getByLabel("Line length (characters)").fill("200")
    await textOf(page, 1).fill("Bienvenidos a la actualización trimestral.")
    await expect.poll(() => cue1.locator(".warning").count(), patient).toBe(0)

    // Inverted times are an error, and a save is refused until they are fixed.
    const cue3 = page.locator('li.cue[data-cue="3"]')
    await cue3.getByLabel("End").fill("00:00:01.000")
    await expect.poll(() => cue3.locator(".error").allTextContents(), patient).toContain("ends before it starts")
    await page.keyboard.press("Control+s")
    await expect.poll(() => page.getByRole("alert").textContent(), patient).toContain("Not saved: fix 1 error first")
    await cue3.getByLabel("End").fill("00:00:08.500")
    await expect.poll(() => cue3.locator(".error").count(), patient).toBe(0)

    // Split a cue at the cursor and merge it back, from the keyboard.
    await textOf(page, 2).focus()
    await textOf(page, 2).evaluate((el: any) => el.setSelectionRange(22, 22)) // after "[Spanish] This quarter"
    await page.keyboard.press("Alt+s")
    await expect.poll(() => page.locator("li.cue").count(), patient).toBe(4)
    await expect.poll(() => textOf(page, 3).inputValue(), patient).toBe("we shipped three new features.")
    await page.keyboard.press("Alt+ArrowUp")
    // The focus moves with the page's next render: merge only once it is on cue 2, as a person would.
    await expect
      .poll(() => textOf(page, 2).evaluate((el: any) => el === el.ownerDocument.activeElement), patient)
      .toBe(true)
    await page.keyboard.press("Alt+m")
    await expect.poll(() => page.locator("li.cue").count(), patient).toBe(3)
    await expect
      .poll(() => textOf(page, 2).inputValue(), patient)
      .toBe("[Spanish] This quarter we shipped three new features.")

    // The current cue is highlighted as the video plays through it.
    await page.locator('li.cue[data-cue="2"]').getByRole("button", { name: "Play from cue 2" }).click()
    await expect.poll(() => page.locator('li.cue[aria-current="true"]').getAttribute("data-cue"), patient).toBe("2")

    if (process.env.UPDATE_SCREENSHOT === "1") {
      await page.screenshot({ path: join(root, "docs/review-desk.png") })
    } else {
      await page.screenshot({ path: join(tmpdir(), "polydub-review-desk.png") })
    }

    await page.keyboard.press("Control+s")
    await expect.poll(() => page.getByRole("status").textContent(), { timeout: 15_000 }).toBe("Saved.")
    const saved = await Effect.runPromise(setup.heygen.transcript(setup.jobs[0]!.ref))
    expect(saved.cues[0]?.text).toBe("Bienvenidos a la actualización trimestral.")

    await page.getByLabel("Captions").check()
    await page.getByRole("button", { name: "Approve and render" }).click()
    await expect.poll(() => page.getByTestId("job-status").textContent(), { timeout: 20_000 }).toBe("rendered")
    // The rendered output plays in the page.
    await expect
      .poll(() => videoState(page), { timeout: 10_000 })
      .toMatchObject({ playable: true, src: expect.stringContaining("/files/") })
    await page.close()
  }, 60_000)

  it("reports a cue list changed by someone else since loading instead of overwriting it", async () => {
    const page = await openJob("Edited elsewhere")
    await textOf(page, 3).fill("Mi versión.")
    const job = setup.jobs[2]!
    const theirs = await Effect.runPromise(setup.heygen.transcript(job.ref))
    await Effect.runPromise(
      setup.heygen.reviseTranscript(job.ref, new Transcript.Transcript({ cues: theirs.cues.slice(0, 2) }))
    )
    await page.getByRole("button", { name: "Save" }).click()
    await expect.poll(() => page.getByRole("alert").textContent(), patient).toContain("someone else changed these cues")
    expect(await textOf(page, 3).inputValue()).toBe("Mi versión.")
    const after = await Effect.runPromise(setup.heygen.transcript(job.ref))
    expect(after.cues.length).toBe(2)
    await page.close()
  }, 60_000)
  it("keeps the edit when a save fails, and says why", async () => {
    const page = await openJob("Failing saves")
    await textOf(page, 2).fill("Una edición que no debe perderse.")
    // HeyGen answers every transcript upload with 500 for a while: the provider's retries run out.
    // Last in this file: the fault outlives the test.
    setup.sim.injectFault({
      kind: "http500",
      method: "PUT",
      pathPrefix: "/v3/video-translations/proofreads/",
      times: 50
    })
    await page.getByRole("button", { name: "Save" }).click()
    await expect.poll(() => page.getByRole("alert").textContent(), { timeout: 30_000 }).toContain("Not saved")
    expect(await textOf(page, 2).inputValue()).toBe("Una edición que no debe perderse.")
    await page.close()
  }, 60_000)
})
