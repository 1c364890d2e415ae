/**
 * Runs the `polydub` command line and turns its outcome into an exit code: 0 success, 1 a job
 * failed, 2 a usage error (bad flags, missing files, unknown languages, malformed SRT, a download
 * file already there), 3 an authentication, provider or download error. Messages say what to do;
 * none ever holds an API key.
 */
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { isTranslationError } from "@polydub/core"
import { Cause, Console, Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { polydub } from "./Cli.js"
import { printable } from "./Output.js"
import { Providers } from "./Providers.js"

const cliErrors =
  /^(UnrecognizedOption|DuplicateOption|MissingOption|MissingArgument|UnexpectedArgument|InvalidValue|UnknownSubcommand|ValidationError|ShowHelp|UserError)$/

/** The exit code and message for a failure. */
export const exitCodeOf = (error: unknown): { readonly code: number; readonly message: string } => {
  const tag =
    typeof error === "object" && error !== null && "_tag" in error ? String((error as { _tag: unknown })._tag) : ""
  const message = error instanceof Error ? error.message : String(error)
  if (tag === "JobFailed") return { code: 1, message }
  // Some targets of a submission were refused by the vendor: a provider error, as for a single request.
  if (tag === "SubmissionFailed") return { code: 3, message }
  if (tag === "UsageError" || tag === "UnsupportedLanguage" || tag === "Unsupported") return { code: 2, message }
  if (isTranslationError(error)) {
    const hint = tag === "AuthenticationFailed" ? " (check the API key in the environment)" : ""
    return { code: 3, message: `${error.provider} ${error.operation}: ${message}${hint}` }
  }
  // effect/cli reports its own parse errors itself.
  if (cliErrors.test(tag)) return { code: 2, message: "" }
  if (tag === "ConfigError") return { code: 2, message }
  if (tag === "FleetUnavailable") return { code: 3, message }
  return { code: 3, message }
}

/** Runs the CLI on `args` (without `node` and the script) and returns the exit code. */
export const run = (args: ReadonlyArray<string>): Effect.Effect<number> =>
  Command.runWith(polydub, { version: "0.1.0" })(args).pipe(
    Effect.as(0),
    Effect.provide(Layer.mergeAll(Providers.layer(), NodeHttpClient.layerUndici)),
    Effect.catchCause((cause) => {
      if (Cause.hasInterruptsOnly(cause)) return Effect.succeed(130)
      const { code, message } = exitCodeOf(Cause.squash(cause))
      // Messages quote vendors (TranslationError texts): printed inert, like every vendor text.
      return Effect.as(message === "" ? Effect.void : Console.error(`polydub: ${printable(message)}`), code)
    }),
    Effect.provide(NodeServices.layer)
  ) as Effect.Effect<number>
