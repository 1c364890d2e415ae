// The polydub command, run in-process against the simulators on loopback.

import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { run } from "@polydub/cli"
import { Source, Submission, TranslationProvider } from "@polydub/core"
import { HeyGen } from "@polydub/provider-heygen"
import { HeyGenSimulator, MediaServer, SampleMedia, VoiceCheapSimulator } from "@polydub/testing"
import { ConfigProvider, Effect, Fiber, Layer, Redacted } from "effect"
import { TestConsole } from "effect/testing"

// Every run keeps its job store in a temporary folder, never in the home directory.
const defaultStore = join(mkdtempSync(join(tmpdir(), "polydub-cli-store-")), "jobs.json")

/** Runs the CLI with an environment; returns the exit code and what it printed. */
const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const code = yield* run(args)
    const out = (yield* TestConsole.logLines).map(String).join("\n")
    const err = (yield* TestConsole.errorLines).map(String).join("\n")
    return { code, out, err }
  }).pipe(
    Effect.provide(
      Layer.mergeAll(
        TestConsole.layer,
        ConfigProvider.layer(ConfigProvider.fromEnvRecord({ POLYDUB_STORE: defaultStore, ...env }))
      )
    )
  )

const envOf = (sim: HeyGenSimulator.HeyGenSimulator) => ({ HEYGEN_API_KEY: sim.apiKey, HEYGEN_BASE_URL: sim.baseUrl })

const simulator = HeyGenSimulator.layer({ queuedMs: 30, runningMs: 200, proofreadMs: 150 })

const submitDirect = (sim: HeyGenSimulator.HeyGenSimulator, review = false) =>
  Effect.gen(function* () {
    const provider = yield* TranslationProvider
    return yield* provider
      .submit({ source: Source.url("https://media.example.com/a.mp4"), targets: ["es"], review })
      .pipe(Submission.all)
  }).pipe(
    Effect.provide(
      HeyGen.layer({ apiKey: Redacted.make(sim.apiKey), baseUrl: sim.baseUrl }).pipe(
        Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
      )
    )
  )

/**
 * A VoiceCheap that answers every request with `answer()` (status and JSON body): what a compromised
 * or broken vendor could send. Returns the environment that points the CLI at it.
 */
const vendor = (answer: () => { readonly status: number; readonly body: unknown }) =>
  Effect.acquireRelease(
    Effect.callback<ReturnType<typeof createServer>>((resume) => {
      const server = createServer((_, res) => {
        const { body, status } = answer()
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body))
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(
    Effect.map((server) => ({
      VOICECHEAP_API_KEY: "vc_test_key",
      VOICECHEAP_BASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    }))
  )

/** A VoiceCheap status answer for a finished project. */
const succeeded = (fields: Record<string, unknown>) => ({
  status: 200,
  body: {
    projectId: "p1",
    projectName: "talk",
    originalVideoUrl: "https://media.example.com/talk.mp4",
    originalLanguage: "english",
    targetLanguage: "spanish",
    duration: 12,
    createdAt: 1_700_000_000_000,
    status: "success",
    translatedAudioUrl: null,
    ...fields
  }
})

/** Every file under `dir`, as paths relative to it. */
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => !statSync(join(dir, f)).isDirectory())
    .sort()

/** Fails the test instead of hanging it: the bounds under test are far shorter. */
const within = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.timeoutOrElse(self, { duration: "8 seconds", orElse: () => Effect.die("hung: no time-out fired") })

const media = [
  { path: "/video.mp4", size: 150_000 },
  { path: "/audio.mp3", size: 40_000 },
  { path: "/silent.mp4", size: 1000, hang: true },
  { path: "/stalls.mp4", size: 90_000, stallAfter: 70_000 },
  { path: "/short.mp4", size: 70_000, declaredSize: 90_000 },
  { path: "/endless.mp4", size: 300_000, noLength: true }
]

describe("polydub download writes only where it was told", () => {
  it.live("a vendor's language and id cannot lead the file out of the folder", () =>
    Effect.gen(function* () {
      const files = yield* MediaServer.serve(media)
      const env = yield* vendor(() =>
        succeeded({
          projectId: "ab/cd",
          targetLanguage: "../../../../tmp/x",
          translatedVideoUrl: files.url("/video.mp4"),
          translatedAudioUrl: files.url("/audio.mp3")
        })
      )
      const base = mkdtempSync(join(tmpdir(), "polydub-cli-names-"))
      const out = join(base, "one", "two", "out")
      // Where the raw names lead, from `out`: make it exist, so a write there would succeed.
      mkdirSync(join(base, "one", "tmp", "x-ab"), { recursive: true })
      const { code, err, out: printed } = yield* cli(["download", "voicecheap:translation:ab/cd", "--to", out], env)
      assert.strictEqual(code, 0, err)
      const written = filesUnder(base)
      assert.isTrue(
        written.every((f) => f.startsWith(join("one", "two", "out"))),
        `files outside the folder: ${written.join(", ")}`
      )
      assert.strictEqual(written.length, 2)
      for (const f of readdirSync(out)) assert.match(f, /^voicecheap-und-abcd-[0-9a-f]{8}\.(mp4|mp3)$/)
      for (const line of printed.split("\n")) assert.strictEqual(relative(out, line).startsWith(".."), false, line)
    }).pipe(Effect.scoped)
  )

  it.live("an existing file is kept unless --force, and a symbolic link at the name is never written through", () =>
    Effect.gen(function* () {
      const files = yield* MediaServer.serve(media)
      const env = yield* vendor(() => succeeded({ translatedVideoUrl: files.url("/video.mp4") }))
      const out = mkdtempSync(join(tmpdir(), "polydub-cli-force-"))
      const args = ["download", "voicecheap:translation:p1", "--to", out]
      const first = yield* cli(args, env)
      assert.strictEqual(first.code, 0, first.err)
      const [name] = readdirSync(out)
      const file = join(out, name!)
      assert.strictEqual(statSync(file).size, 150_000)

      writeFileSync(file, "mine")
      const kept = yield* cli(args, env)
      assert.strictEqual(kept.code, 2)
      assert.include(kept.err, "already exists; rerun with --force")
      assert.strictEqual(readFileSync(file, "utf8"), "mine")
      const forced = yield* cli([...args, "--force"], env)
      assert.strictEqual(forced.code, 0, forced.err)
      assert.strictEqual(statSync(file).size, 150_000)

      const victim = join(mkdtempSync(join(tmpdir(), "polydub-cli-victim-")), "victim.txt")
      writeFileSync(victim, "precious")
      rmSync(file)
      symlinkSync(victim, file)
      assert.strictEqual((yield* cli(args, env)).code, 2)
      assert.strictEqual((yield* cli([...args, "--force"], env)).code, 0)
      assert.strictEqual(readFileSync(victim, "utf8"), "precious", "the link's target was written through")
      assert.isTrue(lstatSync(file).isFile())
      assert.strictEqual(statSync(file).size, 150_000)
      assert.deepStrictEqual(readdirSync(out), [name])
    }).pipe(Effect.scoped)
  )

  it.live("silent, stalled, short and endless bodies fail with a clear error and leave no file", () =>
    Effect.gen(function* () {
      const files = yield* MediaServer.serve(media)
      let path = ""
      const env = {
        ...(yield* vendor(() => succeeded({ translatedVideoUrl: files.url(path) }))),
        POLYDUB_DOWNLOAD_HEADER_TIMEOUT: "300 millis",
        POLYDUB_DOWNLOAD_IDLE_TIMEOUT: "300 millis",
        POLYDUB_DOWNLOAD_MAX_BYTES: "100000"
      }
      const cases: ReadonlyArray<readonly [string, RegExp]> = [
        ["/silent.mp4", /sent no answer within 300ms/],
        ["/stalls.mp4", /sent nothing for 300ms after 70000 bytes/],
        ["/short.mp4", /ended after 70000 of its 90000 bytes/],
        ["/endless.mp4", /sent more bytes, more than the 100000 allowed/]
      ]
      for (const [served, expected] of cases) {
        path = served
        const out = mkdtempSync(join(tmpdir(), "polydub-cli-bounds-"))
        const { code, err } = yield* within(cli(["download", "voicecheap:translation:p1", "--to", out], env))
        assert.strictEqual(code, 3, `${served}: ${err}`)
        assert.match(err, expected, err)
        assert.deepStrictEqual(readdirSync(out), [], `${served} left a file`)
      }
    }).pipe(Effect.scoped)
  )
})

describe("polydub CLI", () => {
  it.live("status --json against a vendor base URL prints the unified state as Schema-encoded JSON", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const [job] = yield* submitDirect(sim)
      const { code, err, out } = yield* cli(["status", "--json", String(job!.ref)], envOf(sim))
      assert.strictEqual(code, 0, err)
      const printed = JSON.parse(out)
      assert.strictEqual(printed.ref, String(job!.ref))
      assert.include(["Queued", "Running"], printed.state._tag)
      assert.strictEqual(printed.language, "es")
      assert.notInclude(err, "embedded", "a configured vendor must not be replaced by the simulator")
    }).pipe(
      // Slow enough that the job is still queued or running when the command reads it, even on a loaded machine.
      Effect.provide(HeyGenSimulator.layer({ queuedMs: 2000, runningMs: 5000 }))
    )
  )

  it.live(
    "usage errors exit 2 before any request: bad refs, missing files, unknown languages, malformed SRT, bad flags",
    () =>
      Effect.gen(function* () {
        const sim = yield* HeyGenSimulator.Simulator
        const env = envOf(sim)
        const dir = mkdtempSync(join(tmpdir(), "polydub-cli-"))
        const bad = join(dir, "bad.srt")
        writeFileSync(bad, "1\n00:00:01,000 -> 00:00:02,000\nhola\n")
        const cases: Array<[ReadonlyArray<string>, string]> = [
          [["status", "not-a-ref"], "not a job reference"],
          [["translate", join(dir, "missing.mp4"), "--to", "es"], "no such file"],
          [["translate", "https://media.example.com/a.mp4", "--to", "es-AQ"], "did you mean"],
          [["transcript", "put", "heygen:review:abc-es", bad], "line 2"],
          [["translate", "https://media.example.com/a.mp4", "--to", "es", "--nope"], ""]
        ]
        for (const [args, expected] of cases) {
          const { code, err } = yield* cli(args, env)
          assert.strictEqual(code, 2, `${args.join(" ")}: ${err}`)
          if (expected !== "") assert.include(err, expected)
        }
        assert.strictEqual(sim.requests(), 0, "a usage error sent a request")
      }).pipe(Effect.provide(simulator))
  )

  it.live("an authentication error exits 3 and says what to do, without printing the key", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const { code, err } = yield* cli(["status", "heygen:translation:abc-es"], {
        HEYGEN_API_KEY: "hg_wrong_SECRET_key",
        HEYGEN_BASE_URL: sim.baseUrl
      })
      assert.strictEqual(code, 3)
      assert.include(err, "check the API key")
      assert.notInclude(err, "hg_wrong_SECRET_key")
    }).pipe(Effect.provide(simulator))
  )

  it.live("translate --wait exits 1 when a job fails", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      sim.failNext("Failed to download video from url, please check the url is valid or the video is public")
      const { code, out } = yield* cli(
        ["translate", "https://media.example.com/a.mp4", "--to", "es", "--wait"],
        envOf(sim)
      )
      assert.strictEqual(code, 1)
      assert.include(out, "Failed: failed: Failed to download video")
    }).pipe(Effect.provide(simulator))
  )

  it.live(
    "the review flow by hand: translate --review --wait, transcript get, edit, put, approve, watch, download",
    () =>
      Effect.gen(function* () {
        const sim = yield* HeyGenSimulator.Simulator
        const env = envOf(sim)
        const dir = mkdtempSync(join(tmpdir(), "polydub-cli-"))
        const submitted = yield* cli(
          ["translate", "https://media.example.com/a.mp4", "--to", "fr-CA", "--review", "--wait", "--json"],
          env
        )
        assert.strictEqual(submitted.code, 0, submitted.err)
        const lines = submitted.out.split("\n").map((l) => JSON.parse(l))
        const ref = lines[0].ref as string
        assert.match(ref, /^heygen@v3:review\/fr-CA:/)
        assert.strictEqual(lines.at(-1).state._tag, "AwaitingReview")
        const srt = join(dir, "fr.srt")
        assert.strictEqual((yield* cli(["transcript", "get", ref, "-o", srt], env)).code, 0)
        writeFileSync(
          srt,
          readFileSync(srt, "utf8").replace("Welcome to the quarterly update.", "Bienvenue à la mise à jour du T3.")
        )
        assert.strictEqual((yield* cli(["transcript", "put", ref, srt], env)).code, 0)
        assert.include(sim.proofreadSrt(ref.split(":")[2]!) ?? "", "Bienvenue à la mise à jour du T3.")
        const approved = yield* cli(["approve", ref, "--captions", "--json"], env)
        const rendering = JSON.parse(approved.out).ref as string
        assert.match(rendering, /^heygen@v3:translation\/fr-CA:/)
        const watched = yield* cli(["watch", rendering], env)
        assert.strictEqual(watched.code, 0, watched.err)
        assert.include(watched.out, "Succeeded")
        const downloaded = yield* cli(["download", rendering, "--to", join(dir, "out")], env)
        assert.strictEqual(downloaded.code, 0, downloaded.err)
        const files = readdirSync(join(dir, "out"))
        assert.deepStrictEqual(files.map((f) => f.split(".").slice(1).join(".")).sort(), ["mp3", "mp4", "srt", "vtt"])
      }).pipe(Effect.provide(simulator))
  )

  it.live("watch with no references resumes every open job kept in the store", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const env = { ...envOf(sim), POLYDUB_STORE: join(mkdtempSync(join(tmpdir(), "polydub-store-")), "jobs.json") }
      const submitted = yield* cli(["translate", "https://media.example.com/a.mp4", "--to", "es,de", "--json"], env)
      assert.strictEqual(submitted.code, 0, submitted.err)
      const refs = submitted.out.split("\n").map((l) => JSON.parse(l).ref as string)
      const resumed = yield* cli(["watch"], env)
      assert.strictEqual(resumed.code, 0, resumed.err)
      assert.include(resumed.err, "resuming 2 open job(s)")
      for (const ref of refs) assert.match(resumed.out, new RegExp(`${ref}\\s+\\S+\\s+Succeeded`))
      const again = yield* cli(["watch"], env)
      assert.strictEqual(again.code, 0)
      assert.include(again.err, "no open jobs")
    }).pipe(Effect.provide(simulator))
  )

  it.live("a submission interrupted after HeyGen took it is replayed by the next run, not billed twice", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const env = { ...envOf(sim), POLYDUB_STORE: join(mkdtempSync(join(tmpdir(), "polydub-store-")), "jobs.json") }
      const args = ["translate", "https://media.example.com/a.mp4", "--to", "es", "--json"]
      // Every answer is lost on the way back: the command gives up, but HeyGen made the job.
      sim.injectFault({ kind: "dropAfter", method: "POST", pathPrefix: "/v3/video-translations", times: 3 })
      const lost = yield* cli(args, env)
      assert.strictEqual(lost.code, 3)
      assert.strictEqual(sim.billableSubmissions(), 1)
      const again = yield* cli(args, env)
      assert.strictEqual(again.code, 0, again.err)
      assert.include(again.err, "resuming an interrupted submission")
      assert.strictEqual(sim.billableSubmissions(), 1, "the rerun paid for a second job")
      const third = yield* cli(args, env)
      assert.strictEqual(third.code, 0)
      assert.strictEqual(sim.billableSubmissions(), 2, "a later, new submission must not reuse a finished key")
    }).pipe(Effect.provide(simulator))
  )

  it.live(
    "a later target refused after an earlier one was billed: the billed job is printed and stored, and the run fails",
    () =>
      Effect.gen(function* () {
        const sim = yield* VoiceCheapSimulator.Simulator
        const media = yield* MediaServer.Media
        const store = join(mkdtempSync(join(tmpdir(), "polydub-store-")), "jobs.json")
        const env = { VOICECHEAP_API_KEY: sim.apiKey, VOICECHEAP_BASE_URL: sim.baseUrl, POLYDUB_STORE: store }
        // One credit: "es" is created and billed, then "fr-CA" is refused.
        const run = yield* cli(
          ["translate", media.url("/talk.mp4"), "--provider", "voicecheap", "--to", "es,fr-CA", "--json"],
          env
        )
        assert.strictEqual(run.code, 3, run.err)
        const [project] = sim.projects()
        assert.strictEqual(sim.projects().length, 1)
        const printed = run.out.split("\n").filter((l) => l.length > 0)
        assert.strictEqual(printed.length, 1)
        assert.strictEqual(JSON.parse(printed[0]!).ref, `voicecheap:translation/es:${project!.projectId}`)
        assert.include(run.err, "fr-CA was not accepted: InsufficientCredits")
        assert.include(run.err, "--to fr-CA")
        const saved = JSON.parse(readFileSync(store, "utf8"))
        assert.deepStrictEqual(
          saved.jobs.map((j: { ref: string }) => j.ref),
          [`voicecheap:translation/es:${project!.projectId}`]
        )
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            VoiceCheapSimulator.layer({ processingMs: 200, accounts: [{ apiKey: "vc_sim_cli", credits: 1 }] }),
            MediaServer.layer([{ path: "/talk.mp4", size: 4096 }])
          )
        )
      )
  )

  it.live("a key older than HeyGen's 24-hour memory is not reused blindly: refused, or dropped with --resubmit", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const store = join(mkdtempSync(join(tmpdir(), "polydub-store-")), "jobs.json")
      const env = { ...envOf(sim), POLYDUB_STORE: store }
      const args = ["translate", "https://media.example.com/a.mp4", "--to", "es", "--json"]
      sim.injectFault({ kind: "dropAfter", method: "POST", pathPrefix: "/v3/video-translations", times: 3 })
      assert.strictEqual((yield* cli(args, env)).code, 3)
      assert.strictEqual(sim.billableSubmissions(), 1)
      // A day and an hour pass: HeyGen has forgotten the key.
      const saved = JSON.parse(readFileSync(store, "utf8"))
      saved.pending[0].startedAt -= 25 * 3600 * 1000
      writeFileSync(store, JSON.stringify(saved))
      const refused = yield* cli(args, env)
      assert.strictEqual(refused.code, 2)
      assert.include(refused.err, "remembers its idempotency key for only 24 hours")
      assert.include(refused.err, "--resubmit")
      assert.strictEqual(sim.billableSubmissions(), 1, "nothing was sent")
      assert.strictEqual(sim.requests(), 3, "not even a request")
      const forced = yield* cli([...args, "--resubmit"], env)
      assert.strictEqual(forced.code, 0, forced.err)
      assert.include(forced.err, "dropping the expired key")
      assert.strictEqual(sim.billableSubmissions(), 2)
      assert.deepStrictEqual(JSON.parse(readFileSync(store, "utf8")).pending, [])
    }).pipe(Effect.provide(simulator))
  )

  it.live("Ctrl-C while following jobs says how to resume them, or that simulated ones cannot be", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.serve({ queuedMs: 30, runningMs: 60_000 })
      const interrupt = (env: Record<string, string>) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.forkChild(
            run(["translate", "https://media.example.com/a.mp4", "--to", "es", "--wait"])
          )
          yield* Effect.sleep(1500)
          yield* Fiber.interrupt(fiber)
          return (yield* TestConsole.errorLines).map(String).join("\n")
        }).pipe(
          Effect.provide(
            Layer.mergeAll(
              TestConsole.layer,
              ConfigProvider.layer(ConfigProvider.fromEnvRecord({ POLYDUB_STORE: defaultStore, ...env }))
            )
          )
        )
      const vendor = yield* interrupt(envOf(sim))
      assert.match(
        vendor,
        /Stopped watching\. The jobs keep running at the vendor; resume with:\n\s+polydub watch heygen@v3:translation\/es:\S+-es/
      )
      const embedded = yield* interrupt({})
      assert.include(embedded, "ran on the embedded simulator, which stops with this command; they cannot be resumed")
      assert.notInclude(embedded, "polydub watch")
    }).pipe(Effect.scoped)
  )

  it.live("vendor text cannot drive the terminal: control characters are made inert; --json stays exact", () =>
    Effect.gen(function* () {
      const sim = yield* HeyGenSimulator.Simulator
      const hostile = "boom\x1b]0;pwned\x07 next\r\x1b[2KSucceeded \u009b31m\b\u202eevil"
      const inert = (text: string) => {
        for (const c of ["\x1b", "\x07", "\r", "\b", "\u009b", "\u202e"])
          assert.notInclude(text, c, JSON.stringify(text))
      }
      const args = ["translate", "https://media.example.com/a.mp4", "--to", "es", "--wait"]
      sim.failNext(hostile)
      const human = yield* cli(args, envOf(sim))
      assert.strictEqual(human.code, 1)
      assert.include(human.out, "Failed: failed: boom")
      inert(human.out)
      inert(human.err)
      sim.failNext(hostile)
      const json = yield* cli([...args, "--json"], envOf(sim))
      assert.strictEqual(json.code, 1)
      assert.strictEqual(JSON.parse(json.out.split("\n").at(-1)!).state.reason.message, hostile)

      // An error message quoting the vendor, printed on stderr.
      const env = yield* vendor(() => ({ status: 400, body: { code: "BAD_THING", message: hostile } }))
      const refused = yield* cli(["status", "voicecheap:translation:p1"], env)
      assert.strictEqual(refused.code, 3)
      assert.include(refused.err, "boom")
      inert(refused.err)
    }).pipe(Effect.scoped, Effect.provide(simulator))
  )

  it.live("languages and providers print their tables without any request", () =>
    Effect.gen(function* () {
      const languages = yield* cli(["languages", "--provider", "voicecheap"])
      assert.strictEqual(languages.code, 0)
      assert.match(languages.out, /pt-BR\s+brazilian portuguese/)
      const providers = yield* cli(["providers"])
      assert.match(providers.out, /review step\s+yes\s+—/)
      assert.strictEqual(languages.err + providers.err, "")
    })
  )

  it.live(
    "demo runs the main job on the embedded simulators and saves every job's files",
    () =>
      Effect.gen(function* () {
        const out = join(mkdtempSync(join(tmpdir(), "polydub-demo-")), "files")
        const { code, err, out: printed } = yield* cli(["demo", "--out", out])
        assert.strictEqual(code, 0, err)
        assert.include(err, "embedded simulators")
        const rows = printed.split("\n").filter((l) => /^(heygen|voicecheap|elevenlabs)\s+(es|fr-CA)\s/.test(l))
        assert.strictEqual(rows.length, 6, printed)
        for (const row of rows) assert.include(row, "Succeeded")
        assert.isTrue(existsSync(out))
        assert.strictEqual(readdirSync(out).length, 18)
        // HeyGen's and VoiceCheap's videos are real media: an MP4 (`ftyp` box) with the sample's bytes.
        const videos = readdirSync(out).filter((f) => /^(heygen|voicecheap).*\.mp4$/.test(f))
        assert.isAbove(videos.length, 0, readdirSync(out).join(", "))
        for (const video of videos) {
          const bytes = readFileSync(join(out, video))
          assert.strictEqual(bytes.subarray(4, 8).toString("latin1"), "ftyp", video)
          assert.isTrue(bytes.equals(SampleMedia.sampleVideo()), video)
        }
        assert.include(printed, "/review/")
      }),
    60_000
  )
})
