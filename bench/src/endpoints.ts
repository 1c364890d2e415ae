/**
 * Why vendor endpoints are a plain table (`ProviderTransport.Endpoint`) and not an `effect/http-api`
 * `HttpApi`: the CPU time of one read declared both ways, over an in-process `HttpClient` (no
 * sockets, so the figures are the client's own cost), same schema, same canned answer, rounds
 * interleaved. Run with `pnpm build && node bench/dist/endpoints.js`; not part of `pnpm bench`.
 */
import { Effect, Schema } from "effect"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "effect/http"
import { HttpApi, HttpApiClient, HttpApiEndpoint, HttpApiGroup } from "effect/http-api"

const Status = Schema.Struct({
  projectId: Schema.String,
  status: Schema.Literals(["processing", "completed", "failed"]),
  progress: Schema.Finite,
  translatedVideoUrl: Schema.optional(Schema.NullOr(Schema.String))
})
const body = JSON.stringify({ projectId: "p1", status: "processing", progress: 40, translatedVideoUrl: null })

const fake = HttpClient.make((request) =>
  Effect.succeed(
    HttpClientResponse.fromWeb(request, new Response(body, { headers: { "content-type": "application/json" } }))
  )
)

const Api = HttpApi.make("vc").add(
  HttpApiGroup.make("t", { topLevel: true }).add(
    HttpApiEndpoint.get("status", "/v1/translate/:id/status", { params: { id: Schema.String }, success: Status })
  )
)

const decode = Schema.decodeUnknownEffect(Status)
const table = (id: string) =>
  fake.execute(HttpClientRequest.get(`http://x/v1/translate/${encodeURIComponent(id)}/status`)).pipe(
    Effect.flatMap((r) => r.text),
    Effect.flatMap((t) => decode(JSON.parse(t)))
  )

const program = Effect.gen(function* () {
  const api = yield* HttpApiClient.makeWith(Api, { httpClient: fake, baseUrl: "http://x" })
  const viaApi = (id: string) => api.status({ params: { id } })
  const a = yield* table("p1")
  const b = yield* viaApi("p1")
  if (a.progress !== b.progress) throw new Error("mismatch")
  const rounds = Number(process.env.N ?? 10)
  const n = 5000
  const t: Array<number> = []
  const h: Array<number> = []
  for (let r = 0; r < rounds; r++) {
    const time = function* (f: (id: string) => Effect.Effect<unknown, unknown>) {
      const s = process.cpuUsage()
      for (let i = 0; i < n; i++) yield* f("p1")
      const d = process.cpuUsage(s)
      return (d.user + d.system) / n
    }
    if (r % 2 === 0) {
      t.push(yield* time(table))
      h.push(yield* time(viaApi))
    } else {
      h.push(yield* time(viaApi))
      t.push(yield* time(table))
    }
  }
  const med = (v: Array<number>) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!
  console.log(
    `table ${med(t).toFixed(1)} µs/call, HttpApiClient ${med(h).toFixed(1)} µs/call, ratio ${(med(h) / med(t)).toFixed(2)}`
  )
})
Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
