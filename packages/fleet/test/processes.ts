// Runner processes of a test's fleet: `node --import ./scripts/sources.mjs packages/fleet/test/fixtures/runner.ts`
// with the setup in its environment, its output drained (a full pipe would block it) and kept for
// the test's messages, killed with the scope.

import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import type { RunnerSetup } from "./harness.js"

const root = fileURLToPath(new URL("../../../", import.meta.url))

/** What a runner process printed last, and how it exited. */
export const tails = new Map<ChildProcess, { text: string; exit?: number | string | null }>()

/** Spawns a runner process; resolves once its cluster server listens. Killed with the scope. */
export const spawnRunner = (setup: RunnerSetup) =>
  Effect.acquireRelease(
    Effect.callback<ChildProcess>((resume) => {
      const child = spawn(
        process.execPath,
        ["--import", join(root, "scripts/sources.mjs"), join(root, "packages/fleet/test/fixtures/runner.ts")],
        { env: { ...process.env, POLYDUB_TEST_RUNNER: JSON.stringify(setup) }, stdio: ["ignore", "pipe", "pipe"] }
      )
      const tail: { text: string; exit?: number | string | null } = { text: "" }
      tails.set(child, tail)
      let ready = false
      const onData = (data: Buffer) => {
        tail.text = (tail.text + data.toString()).slice(-16_384)
        if (!ready && tail.text.includes("Listening on")) {
          ready = true
          resume(Effect.succeed(child))
        }
      }
      child.stdout!.on("data", onData)
      child.stderr!.on("data", onData)
      child.once("exit", (code, signal) => {
        tail.exit = code ?? signal
        if (!ready)
          resume(Effect.die(new Error(`runner exited (${code ?? signal}) before it was ready:\n${tail.text}`)))
      })
    }),
    (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
  )
