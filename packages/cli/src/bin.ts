#!/usr/bin/env node
/** The `polydub` executable. */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { run } from "./Main.js"

NodeRuntime.runMain(
  run(process.argv.slice(2)).pipe(
    Effect.flatMap((code) =>
      Effect.sync(() => {
        process.exitCode = code
      })
    )
  ),
  {
    disableErrorReporting: true
  }
)
