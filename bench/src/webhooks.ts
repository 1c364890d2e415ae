/**
 * Webhook benchmark: HeyGen events per second through the webhook route — signature check,
 * decoding, and a `JobTracker` update — on loopback, from a second process with a bounded load,
 * beside a bare `node:http` handler doing the least a correct receiver must (bounded body read,
 * HMAC check, JSON.parse). Both servers get the same load generator over the same keep-alive
 * connections. Prints events/s and p99 latency of each and their ratio, and the server's CPU time
 * per event, a steadier figure than throughput on a shared machine; targets ≥ 5,000 events/s and
 * ≥ 0.5 of bare.
 */

import { execFile } from "node:child_process"
import { createHmac, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Job, JobRef, JobTracker } from "@polydub/core"
import { HeyGenWebhooks } from "@polydub/provider-heygen"
import { TestProvider } from "@polydub/testing"
import { Console, DateTime, Effect, Redacted } from "effect"
import { HttpRouter } from "effect/http"
import { record } from "./results.js"

const count = Number(process.env.POLYDUB_BENCH_WEBHOOK_EVENTS ?? 20_000)
const concurrency = Number(process.env.POLYDUB_BENCH_WEBHOOK_CONCURRENCY ?? 32)
const secret = "whsec_bench_secret"

const maxBodyBytes = 1024 * 1024

interface Load {
  readonly count: number
  readonly elapsedMs: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** CPU time (user + system) this process, the server, spent per event while the load ran. */
  readonly serverCpuUs: number
}

const load = (url: string) =>
  Effect.callback<Load, Error>((resume) => {
    const cpu = process.cpuUsage()
    execFile(
      process.execPath,
      [new URL("./webhooks-load.js", import.meta.url).pathname, url, String(count), String(concurrency), secret],
      { maxBuffer: 1 << 20 },
      (error, stdout) => {
        const used = process.cpuUsage(cpu)
        resume(
          error
            ? Effect.fail(error)
            : Effect.succeed({ ...JSON.parse(stdout), serverCpuUs: (used.user + used.system) / count } as Load)
        )
      }
    )
  })

/**
 * The bare handler. It used to only drain the body, which compared the route's work against none;
 * now it does the minimum a correct receiver does: reads the body up to the same limit as the
 * route (413 past it, without holding more), checks the HMAC in constant time (401), parses the
 * JSON (400), and answers 200 with the route's body.
 */
const bareHandler = (req: IncomingMessage, res: ServerResponse) => {
  const chunks: Array<Buffer> = []
  let size = 0
  req.on("data", (chunk: Buffer) => {
    size += chunk.length
    if (size <= maxBodyBytes) chunks.push(chunk)
    else if (!res.headersSent) res.writeHead(413, { connection: "close" }).end()
  })
  req.on("end", () => {
    if (size > maxBodyBytes) return
    const body = Buffer.concat(chunks)
    const given = Buffer.from(String(req.headers.signature ?? ""), "hex")
    const expected = createHmac("sha256", secret).update(body).digest()
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return void res.writeHead(401).end()
    try {
      JSON.parse(body.toString("utf8"))
    } catch {
      return void res.writeHead(400).end()
    }
    res.writeHead(200, { "content-type": "application/json" }).end('{"message":"ok"}')
  })
}

const program = Effect.gen(function* () {
  // The route, feeding a tracker that follows every job the events name.
  const { provider } = yield* TestProvider.make({ preset: "heygen", id: "heygen" })
  const tracker = yield* JobTracker.make(provider, { minInterval: "1 hour" })
  const now = DateTime.makeUnsafe(Date.now())
  for (let i = 0; i < count; i++) {
    yield* tracker.track(
      new Job({
        ref: new JobRef({ provider: "heygen", kind: "translation", id: `${i.toString(16).padStart(32, "0")}-es` }),
        language: "es",
        state: { _tag: "Running" },
        providerStatus: "running",
        observedAt: now
      })
    )
  }
  const app = yield* HttpRouter.toHttpEffect(
    HeyGenWebhooks.route({ secret: Redacted.make(secret), path: "/webhooks/heygen", maxBodyBytes }, (u) =>
      tracker.deliver(u.ref, u.state)
    )
  )
  const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" }).pipe(Effect.orDie)
  yield* server.serve(app)
  const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port

  const bare = createServer(bareHandler)
  yield* Effect.acquireRelease(
    Effect.callback<void>((resume) => void bare.listen(0, "127.0.0.1", () => resume(Effect.void))),
    () => Effect.sync(() => bare.close())
  )
  const barePort = (bare.address() as { port: number }).port

  const bareLoad = yield* load(`http://127.0.0.1:${barePort}/webhooks/heygen`)
  const routeLoad = yield* load(`http://127.0.0.1:${port}/webhooks/heygen`)
  const stats = yield* tracker.stats
  const rate = (l: Load) => Math.round((l.count / l.elapsedMs) * 1000)
  const figures = {
    events: count,
    concurrency,
    routeEventsPerS: rate(routeLoad),
    routeP99Ms: Number(routeLoad.p99Ms.toFixed(2)),
    routeServerCpuUsPerEvent: Math.round(routeLoad.serverCpuUs),
    bareEventsPerS: rate(bareLoad),
    bareP99Ms: Number(bareLoad.p99Ms.toFixed(2)),
    bareServerCpuUsPerEvent: Math.round(bareLoad.serverCpuUs),
    ratio: Number((rate(routeLoad) / rate(bareLoad)).toFixed(2)),
    trackerUpdates: stats.webhookUpdates,
    met: rate(routeLoad) >= 5000 && rate(routeLoad) / rate(bareLoad) >= 0.5
  }
  yield* Console.log(
    `webhooks: ${count} signed events, ${concurrency} in flight — route ${figures.routeEventsPerS} events/s (p99 ${figures.routeP99Ms} ms, ` +
      `server CPU ${figures.routeServerCpuUsPerEvent} µs/event), bare node:http ${figures.bareEventsPerS}/s (p99 ${figures.bareP99Ms} ms, ` +
      `server CPU ${figures.bareServerCpuUsPerEvent} µs/event), ratio ${figures.ratio}; ` +
      `${figures.trackerUpdates} tracker updates; targets ≥ 5,000/s and ≥ 0.5 of bare: ${figures.met ? "met" : "NOT met"}`
  )
  record("webhooks", figures)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
