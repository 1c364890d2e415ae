/**
 * Load generator for the webhook benchmark, run as its own process: sends `count` signed HeyGen
 * events to a URL with `concurrency` requests in flight over keep-alive connections, and prints
 * one JSON line with the elapsed time and the latency of each request's percentiles. Bounded in
 * count; targets only the loopback URL it is given.
 */
import { createHmac } from "node:crypto"
import { Agent, request } from "node:http"

const [url, countArg, concurrencyArg, secret] = process.argv.slice(2)
const target = new URL(url!)
if (target.hostname !== "127.0.0.1") throw new Error("the load generator only targets 127.0.0.1")
const count = Number(countArg)
const concurrency = Number(concurrencyArg)
const agent = new Agent({ keepAlive: true, maxSockets: concurrency })

const bodies = Array.from({ length: count }, (_, i) => {
  const body = JSON.stringify({
    event_type: "video_translate.success",
    event_data: {
      video_translate_id: `${i.toString(16).padStart(32, "0")}-es`,
      url: `https://r.example/v${i}.mp4`,
      callback_id: `cb${i}`
    }
  })
  return { body, signature: createHmac("sha256", secret!).update(body).digest("hex") }
})

const send = (i: number) =>
  new Promise<number>((resolve, reject) => {
    const { body, signature } = bodies[i]!
    const started = performance.now()
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), Signature: signature }
      },
      (res) => {
        res.resume()
        res.on("end", () =>
          res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode}`))
        )
      }
    )
    req.on("error", reject)
    req.end(body)
  })

const latencies: Array<number> = []
let next = 0
const started = performance.now()
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) latencies.push(await send(next++))
  })
)
const elapsed = performance.now() - started
latencies.sort((a, b) => a - b)
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!
process.stdout.write(`${JSON.stringify({ count, elapsedMs: elapsed, p50Ms: q(0.5), p99Ms: q(0.99) })}\n`)
agent.destroy()
