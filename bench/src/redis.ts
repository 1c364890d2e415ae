// The Redis the shared-budget benchmarks run against (POLYDUB_BENCH_REDIS_URL, or this machine's),
// and the clean-up of a run's keys.
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { Effect } from "effect"
import { Redis } from "effect/persistence"

export const redisUrl = process.env.POLYDUB_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379"

/** Deletes every key under `prefix`; a Redis that cannot be reached is ignored (there is nothing to clean). */
export const deletePrefix = (prefix: string) =>
  Effect.gen(function* () {
    const redis = yield* Redis.Redis
    let cursor = "0"
    do {
      const [next, keys] = yield* redis.send<[string, Array<string>]>("SCAN", cursor, "MATCH", `${prefix}*`)
      if (keys.length > 0) yield* redis.send("DEL", ...keys)
      cursor = next
    } while (cursor !== "0")
  }).pipe(Effect.provide(NodeRedis.layer({ url: redisUrl })), Effect.ignore)
