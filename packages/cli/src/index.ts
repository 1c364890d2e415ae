/**
 * @polydub/cli — the `polydub` command, also usable in-process: `run(args)` returns the exit code.
 */
export { polydub } from "./Cli.js"
export { exitCodeOf, run } from "./Main.js"
export * from "./Providers.js"
