// Fuzzing with fast-check: HeyGen's wire decoders, error mapping, JobRef parsing and the webhook
// handler must turn any input — arbitrary JSON, mutated verbatim fixtures, random bytes — into a
// value or a typed error: never a thrown exception, never a defect. Case counts are printed.

import { assert, describe, it } from "@effect/vitest"
import { isTranslationError, JobRef, ProviderHttp } from "@polydub/core"
import { HeyGen, HeyGenClient, HeyGenWebhooks, HeyGenWire } from "@polydub/provider-heygen"
import * as Fuzz from "@polydub/testing/Fuzz"
import { Effect, Exit, Option, Redacted, Schema } from "effect"
import { HttpServerRequest } from "effect/http"
import * as fc from "fast-check"

const runs = Number(process.env.POLYDUB_FUZZ_RUNS ?? 2000)
let total = 0
const count = (n: number) => {
  total += n
  return n
}

const mutated = Fuzz.mutatedFixtures(Fuzz.loadFixtures(new URL("./fixtures/", import.meta.url)))

const decoders = [
  HeyGenWire.TranslationResponse,
  HeyGenWire.ProofreadResponse,
  HeyGenWire.CreateProofreadResponse,
  HeyGenWire.GenerateResponse,
  HeyGenWire.V2StatusResponse,
  HeyGenWire.V2ProofreadStatusResponse,
  HeyGenWire.BulkStatusResponse,
  HeyGenWire.WebhookEvent,
  HeyGenWire.V3ErrorEnvelope,
  HeyGenWire.AssetResponse
] as const

const decodesSafely = (input: unknown) => {
  const text = typeof input === "string" ? input : (JSON.stringify(input) ?? "null")
  for (const schema of decoders) {
    const exit = Effect.runSyncExit(
      ProviderHttp.decodeJsonText(schema as any, text, { provider: "heygen", operation: "fuzz" })
    )
    if (Exit.isFailure(exit)) {
      const error = Effect.runSync(
        Effect.flip(ProviderHttp.decodeJsonText(schema as any, text, { provider: "heygen", operation: "fuzz" }))
      )
      assert.strictEqual((error as { _tag: string })._tag, "UnexpectedResponse")
    }
  }
}

describe("fuzz: HeyGen", () => {
  it("wire decoders: arbitrary JSON, mutated fixtures and raw text give a value or UnexpectedResponse", () => {
    fc.assert(fc.property(fc.jsonValue(), decodesSafely), { numRuns: count(runs) })
    fc.assert(fc.property(mutated, decodesSafely), { numRuns: count(runs) })
    fc.assert(fc.property(fc.string(), decodesSafely), { numRuns: count(runs) })
  })

  it("status mapping never fails, whatever the status word and fields", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.option(fc.string(), { nil: null }),
        fc.option(fc.webUrl(), { nil: null }),
        (status, message, url) => {
          const t = Effect.runSync(
            HeyGen.translationState({ id: "x-es", status, video_url: url, failure_message: message })
          )
          assert.include(["Queued", "Running", "Succeeded", "Failed"], t._tag)
          const p = Effect.runSync(HeyGen.proofreadState(status, message))
          assert.include(["Running", "AwaitingReview", "Failed"], p._tag)
        }
      ),
      { numRuns: count(runs) }
    )
  })

  it("error mapping turns any status and body into a TranslationError", () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.oneof(fc.jsonValue(), mutated), (status, body) => {
        const error = HeyGenClient.mapError("fuzz", status, body, Option.none())
        assert.isTrue(isTranslationError(error))
      }),
      {
        numRuns: count(runs),
        // Found by this property: a code that is an object no string can be made of.
        examples: [
          [100, { code: { toString: null }, data: null, msg: null, message: null }],
          [400, { error: { code: { toString: null }, message: "bad", param: null } }]
        ]
      }
    )
  })

  it("JobRef.parse gives a reference or JobRefParseError, and round-trips what it accepts", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `heygen:translation:${s}`)
        ),
        (input) => {
          const exit = Effect.runSyncExit(JobRef.parse(input))
          if (Exit.isSuccess(exit)) assert.strictEqual(String(exit.value), input)
          else assert.strictEqual(Effect.runSync(Effect.flip(JobRef.parse(input)))._tag, "JobRefParseError")
        }
      ),
      { numRuns: count(runs) }
    )
  })

  it("webhook events: the handler's fast path decodes exactly as the WebhookEvent Schema does", () => {
    const schema = Schema.decodeUnknownOption(HeyGenWire.WebhookEvent)
    const sameAsSchema = (text: string) => {
      const json: unknown = JSON.parse(text)
      assert.deepStrictEqual(HeyGenWebhooks.decodeEvent(json), schema(json))
    }
    // Event-shaped JSON with any `event_type`, any `event_data` and extra fields, and arbitrary JSON.
    const eventLike = fc
      .tuple(
        fc.oneof(fc.string(), fc.jsonValue()),
        fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
        fc.dictionary(fc.string(), fc.jsonValue())
      )
      .map(([eventType, eventData, extra]) =>
        JSON.stringify({ ...extra, event_type: eventType, event_data: eventData })
      )
    fc.assert(fc.property(eventLike, sameAsSchema), {
      numRuns: count(runs),
      examples: [
        ['{"event_type":"video_translate.success","event_data":{"__proto__":{"url":"x"}}}'],
        ['{"event_type":"a","event_data":[]}'],
        ['{"event_type":"a","event_data":null}'],
        ['{"event_type":null,"event_data":{}}'],
        ['{"__proto__":{"event_type":"a","event_data":{}}}'],
        ["[]"]
      ]
    })
    fc.assert(
      fc.property(fc.jsonValue(), (v) => sameAsSchema(JSON.stringify(v) ?? "null")),
      { numRuns: count(runs) }
    )
    fc.assert(
      fc.property(mutated, (v) => sameAsSchema(JSON.stringify(v) ?? "null")),
      { numRuns: count(runs) }
    )
  })

  it.effect("the webhook handler answers any delivery with 200, 400, 401 or 413, and accepts only signed events", () =>
    Effect.gen(function* () {
      const secret = Redacted.make("whsec_fuzz_secret")
      let updates = 0
      const handle = yield* HeyGenWebhooks.makeHandler({ secret, maxBodyBytes: 2048 }, () =>
        Effect.sync(() => void updates++)
      )
      const deliveries = fc.record({
        body: fc.oneof(
          fc.string({ maxLength: 3000 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          mutated.map((v) => JSON.stringify(v))
        ),
        sign: fc.constantFrom("good", "bad", "none")
      })
      const samples = fc.sample(deliveries, count(runs))
      for (const { body, sign } of samples) {
        const headers: Record<string, string> = { "content-type": "application/json" }
        if (sign === "good") headers.Signature = HeyGenWebhooks.sign(secret, body)
        if (sign === "bad") headers.Signature = "0".repeat(64)
        const request = HttpServerRequest.fromWeb(
          new Request("http://127.0.0.1/webhooks/heygen", { method: "POST", headers, body })
        )
        const before = updates
        const outcome = yield* handle(request)
        assert.include([200, 400, 401, 413], outcome.status)
        if (sign !== "good") {
          assert.strictEqual(updates, before, "an unsigned or forged delivery changed something")
          if (Buffer.byteLength(body) <= 2048) assert.strictEqual(outcome.status, 401)
        }
        if (outcome.status !== 200) assert.strictEqual(updates, before)
      }
    })
  )

  it("prints the number of cases run", () => {
    console.log(
      `fuzz heygen: ${total} cases across decoders, status mapping, error mapping, JobRef and the webhook handler`
    )
    assert.isAtLeast(total, runs * 6)
  })
})
