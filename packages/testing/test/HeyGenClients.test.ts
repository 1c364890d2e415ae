// Fidelity to HeyGen's own clients: every request HeyGen's CLI (generated from HeyGen's OpenAPI)
// and its official n8n node build for the endpoints the simulator serves is sent over loopback and
// must be accepted, and what HeyGen documents as invalid must be refused with HeyGen's error shape.
// Two kinds of fixture, each naming where it came from:
// - fixtures/heygen-clients/requests/*.json: requests as those clients build them, and documented
//   invalid ones, each with the answer HeyGen documents;
// - fixtures/heygen-clients/openapi/*.json: the request types of HeyGen's OpenAPI as the CLI embeds
//   them, from which bodies are built the way the CLI's `-d` and flags build them (required fields
//   only; every field; every nullable field null; every enum value; every query filter).

import { readdirSync, readFileSync } from "node:fs"
import { createServer } from "node:http"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as HeyGenSimulator from "@polydub/testing/HeyGenSimulator"
import { Effect } from "effect"

const dir = join(import.meta.dirname, "fixtures", "heygen-clients")

interface RequestFixture {
  readonly name: string
  readonly source: string
  readonly note?: string
  readonly method: string
  readonly path: string
  readonly headers?: Record<string, string>
  readonly body?: unknown
  readonly raw?: string
  readonly multipart?: { readonly name: string; readonly type: string; readonly text: string }
  readonly auth?: "bearer" | "none"
  readonly expect: { readonly status: number; readonly code?: string; readonly param?: string | null }
}

interface JsonSchema {
  readonly type?: string
  readonly nullable?: boolean
  readonly enum?: ReadonlyArray<string>
  readonly oneOf?: ReadonlyArray<JsonSchema>
  readonly properties?: Record<string, JsonSchema>
  readonly required?: ReadonlyArray<string>
  readonly items?: JsonSchema
}

interface OpenApiFixture {
  readonly source: string
  readonly operation: string
  readonly method: string
  readonly path: string
  readonly bodyEncoding: string | null
  readonly query: ReadonlyArray<{ readonly name: string; readonly type: string; readonly enum?: ReadonlyArray<string> }>
  readonly requestSchema: JsonSchema | null
}

const load = <A>(sub: string): Array<A & { name: string }> =>
  readdirSync(join(dir, sub))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ""), ...JSON.parse(readFileSync(join(dir, sub, f), "utf8")) }))

const requests = load<RequestFixture>("requests")
const operations = load<OpenApiFixture>("openapi")

/** A receiver for webhooks: answers HeyGen's OPTIONS probe and every delivery with 200. */
const receiver = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ url: string; close: () => void }>((resolve) => {
        const server = createServer((req, res) => {
          req.resume()
          res.writeHead(200).end()
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address() as { port: number }
          resolve({ url: `http://127.0.0.1:${address.port}/hook`, close: () => server.close() })
        })
      })
  ),
  (r) => Effect.sync(r.close)
)

type Ids = Record<string, string>

const fill = (text: string, ids: Ids) => text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => ids[name] ?? whole)

const send = (
  sim: HeyGenSimulator.HeyGenSimulator,
  ids: Ids,
  r: {
    method: string
    path: string
    headers?: Record<string, string> | undefined
    body?: unknown
    raw?: string | undefined
    multipart?: RequestFixture["multipart"] | undefined
    auth?: "bearer" | "none" | undefined
  }
) =>
  Effect.promise(async () => {
    const headers: Record<string, string> = { ...r.headers }
    if (r.auth === "bearer") headers.authorization = `Bearer ${sim.apiKey}`
    else if (r.auth !== "none") headers["x-api-key"] = sim.apiKey
    let body: string | FormData | undefined
    if (r.multipart !== undefined) {
      const form = new FormData()
      form.append("file", new Blob([r.multipart.text], { type: r.multipart.type }), r.multipart.name)
      body = form
    } else if (r.raw !== undefined || r.body !== undefined) {
      headers["content-type"] ??= "application/json"
      body = r.raw ?? fill(JSON.stringify(r.body), ids)
    }
    const response = await fetch(`${sim.baseUrl}${fill(r.path, ids)}`, {
      method: r.method,
      headers,
      ...(body === undefined ? {} : { body })
    })
    const text = await response.text()
    let json: any
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: response.status, json, text }
  })

/** HeyGen's v3 error envelope: `{error:{code, message, param, doc_url}}`. */
const assertErrorShape = (json: any, what: string) => {
  assert.isObject(json?.error, what)
  assert.isString(json.error.code, what)
  assert.isString(json.error.message, what)
  assert.isTrue(json.error.param === null || typeof json.error.param === "string", what)
  assert.property(json.error, "doc_url", what)
}

/** The resources the fixtures' paths and bodies name: a translation, a batch, a completed proofread, an endpoint, assets. */
const setUp = (sim: HeyGenSimulator.HeyGenSimulator, hook: string) =>
  Effect.gen(function* () {
    const ids: Ids = { receiver: hook }
    const post = (path: string, body: unknown) =>
      send(sim, ids, { method: "POST", path, body }).pipe(
        Effect.tap((r) => Effect.sync(() => assert.isBelow(r.status, 300, `${path}: ${r.text}`)))
      )
    const video = { type: "url", url: "https://example.com/source.mp4" }
    ids.translation_id = ids.video_translation_id = (yield* post("/v3/video-translations", {
      video,
      output_languages: ["Spanish"]
    })).json.data.video_translation_ids[0]
    ids.batch_id = (yield* post("/v3/video-translations/batches", {
      video_translations: [{ video, output_languages: ["French"] }]
    })).json.data.batch_id
    ids.proofread_id = (yield* post("/v3/video-translations/proofreads", {
      video,
      output_languages: ["Spanish"],
      title: "Review"
    })).json.data.proofread_ids[0]
    ids.endpoint_id = (yield* post("/v3/webhooks/endpoints", { url: hook })).json.data.endpoint_id
    ids.asset_id = (yield* post("/v3/assets/direct-uploads", {
      filename: "a.mp4",
      content_type: "video/mp4",
      size_bytes: 16
    })).json.data.asset_id
    const srt = yield* send(sim, ids, {
      method: "POST",
      path: "/v3/assets",
      multipart: { name: "s.srt", type: "application/x-subrip", text: "1\n00:00:00,000 --> 00:00:01,000\nHola\n" }
    })
    ids.srt_asset_id = srt.json.data.asset_id
    ids.srt_url = srt.json.data.url
    // Let the proofread's extraction finish, so its SRT routes and generate answer.
    yield* Effect.sleep(80)
    return ids
  })

const options = { queuedMs: 10, runningMs: 20, proofreadMs: 20, concurrentJobs: 10_000 }

describe("HeyGenSimulator and HeyGen's own clients", () => {
  it.live("every request fixture gets the answer HeyGen documents, refusals in HeyGen's error shape", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const sim = yield* HeyGenSimulator.serve(options)
        const hook = yield* receiver
        const ids = yield* setUp(sim, hook.url)
        // Deletions last: they remove what the others name.
        const ordered = [...requests].sort((a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"))
        assert.isAbove(ordered.length, 40)
        for (const fixture of ordered) {
          assert.isString(fixture.source, fixture.name)
          const answer = yield* send(sim, ids, fixture)
          const what = `${fixture.name} (${fixture.source}): ${answer.status} ${answer.text.slice(0, 300)}`
          assert.strictEqual(answer.status, fixture.expect.status, what)
          if (fixture.expect.status >= 400) {
            assertErrorShape(answer.json, what)
            if (fixture.expect.code !== undefined) assert.strictEqual(answer.json.error.code, fixture.expect.code, what)
            if (fixture.expect.param !== undefined)
              assert.strictEqual(answer.json.error.param, fixture.expect.param, what)
          }
        }
      })
    )
  )

  it.live(
    "bodies built from HeyGen's OpenAPI request types are accepted: required only, every field, nulls, enums",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const sim = yield* HeyGenSimulator.serve(options)
          const hook = yield* receiver
          const ids = yield* setUp(sim, hook.url)
          const named: Record<string, unknown> = {
            output_languages: ["Spanish"],
            input_language: "English",
            url: hook.url,
            callback_url: hook.url,
            events: ["video_translate.success"],
            filename: "a.mp4",
            content_type: "video/mp4",
            checksum_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            video_translations: [
              { video: { type: "url", url: "https://example.com/a.mp4" }, output_languages: ["French"] }
            ]
          }
          const asset = (name: string, variant: "url" | "asset_id") =>
            name === "srt"
              ? variant === "url"
                ? { type: "url", url: ids.srt_url }
                : { type: "asset_id", asset_id: ids.srt_asset_id }
              : variant === "url"
                ? { type: "url", url: "https://example.com/a.mp4" }
                : { type: "asset_id", asset_id: ids.asset_id }
          const sample = (name: string, s: JsonSchema, variant: "url" | "asset_id"): unknown => {
            if (name in named) return named[name]
            if (s.oneOf !== undefined) return asset(name, variant)
            if (s.enum !== undefined) return s.enum[0]
            switch (s.type) {
              case "boolean":
                return true
              case "integer":
                return 2
              case "number":
                return 1.5
              case "array":
                return s.items?.type === "string" ? ["v1"] : []
              case "object":
                return Object.fromEntries(
                  Object.entries(s.properties ?? {}).map(([k, v]) => [k, sample(k, v, variant)])
                )
              default:
                return name
            }
          }
          let sent = 0
          for (const op of operations) {
            const schema = op.requestSchema
            const bodies: Array<[string, unknown]> = []
            if (schema !== null && op.bodyEncoding === "json") {
              const props = Object.entries(schema.properties ?? {})
              const required = new Set(schema.required ?? [])
              const pick = (f: (name: string, s: JsonSchema) => unknown | typeof skip) =>
                Object.fromEntries(
                  props.flatMap(([k, v]) => {
                    const value = f(k, v)
                    return value === skip ? [] : [[k, value]]
                  })
                )
              const skip = Symbol("skip")
              bodies.push(["required fields only", pick((k, v) => (required.has(k) ? sample(k, v, "url") : skip))])
              bodies.push(["every field, assets by URL", pick((k, v) => sample(k, v, "url"))])
              bodies.push(["every field, assets by id", pick((k, v) => sample(k, v, "asset_id"))])
              bodies.push([
                "nullable fields null",
                pick((k, v) => (v.nullable === true ? null : required.has(k) ? sample(k, v, "url") : skip))
              ])
              for (const [k, v] of props)
                for (const value of v.enum ?? [])
                  bodies.push([
                    `${k}: ${value}`,
                    pick((name, s) => (name === k ? value : required.has(name) ? sample(name, s, "url") : skip))
                  ])
            }
            const queries: Array<string> = [""]
            if (op.query.length > 0) {
              const value = (q: OpenApiFixture["query"][number]) =>
                q.name === "video_translation_ids"
                  ? ids.translation_id!
                  : q.name === "batch_ids"
                    ? ids.batch_id!
                    : q.type === "int"
                      ? "10"
                      : (q.enum?.[0] ?? "x")
              queries[0] = `?${op.query.map((q) => `${q.name}=${encodeURIComponent(value(q))}`).join("&")}`
              for (const q of op.query)
                for (const e of q.enum ?? []) queries.push(`?${q.name}=${encodeURIComponent(e)}`)
            }
            const path = op.path.replace(/\{([a-z_]+)\}/g, (whole, name: string) => ids[name] ?? whole)
            if (op.method === "DELETE" || op.bodyEncoding === "multipart") continue // covered by the request fixtures
            for (const query of queries)
              for (const [label, body] of bodies.length === 0
                ? [["no body", undefined] as [string, unknown]]
                : bodies) {
                const answer = yield* send(sim, ids, { method: op.method, path: `${path}${query}`, body })
                sent++
                assert.isTrue(
                  answer.status >= 200 && answer.status < 300,
                  `${op.operation} ${op.method} ${path}${query} (${label}) ${JSON.stringify(body)}: ${answer.status} ${answer.text.slice(0, 300)}`
                )
              }
          }
          assert.isAbove(sent, 60)
        })
      )
  )
})

describe("HeyGenSimulator direct uploads", () => {
  it.live("the PUT to upload_url cannot exceed the declared size_bytes nor outlive its URL", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const sim = yield* HeyGenSimulator.serve(options)
        const begin = (size: number) =>
          send(
            sim,
            {},
            {
              method: "POST",
              path: "/v3/assets/direct-uploads",
              body: { filename: "a.mp4", content_type: "video/mp4", size_bytes: size }
            }
          ).pipe(Effect.map((r) => r.json.data))
        const put = (url: string, bytes: number) =>
          Effect.promise(() =>
            fetch(url, { method: "PUT", body: new Uint8Array(bytes), headers: { "content-type": "video/mp4" } })
          ).pipe(Effect.map((r) => r.status))
        const exact = yield* begin(64)
        assert.strictEqual(yield* put(exact.upload_url, 64), 200)
        const over = yield* begin(64)
        assert.strictEqual(yield* put(over.upload_url, 65), 400, "more than size_bytes")
        const expired = String(over.upload_url).replace(/Expires=\d+/, "Expires=1")
        assert.strictEqual(yield* put(expired, 10), 403, "an expired upload URL")
      })
    )
  )
})
