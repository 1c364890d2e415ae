/**
 * Where the CLI keeps its jobs: `POLYDUB_STORE`, or `~/.polydub/jobs.json`. One definition, read by
 * the commands that follow jobs and by the review desk, which lists the store's review jobs.
 */
import { homedir } from "node:os"
import { join } from "node:path"
import { Config, Effect } from "effect"

const defaultPath = join(homedir(), ".polydub", "jobs.json")

/** The CLI's job store path. Jobs on an embedded simulator are not kept. */
export const storePath = Config.String("POLYDUB_STORE").pipe(
  Config.withDefault(defaultPath),
  Effect.orElseSucceed(() => defaultPath)
)
