/**
 * One side of the peer benchmark's download, in its own process so that its memory is measured alone:
 * `sdk` reads the dubbed file through ElevenLabs' JavaScript SDK (`dubbing.audio.get`, a web
 * `ReadableStream`), `polydub` through the ElevenLabs provider (`download`, an Effect `Stream`). Both
 * count the bytes and keep none. Each side loads only its own modules (imported on demand), and the
 * clock starts once they are loaded. Samples `process.memoryUsage()` every 20 ms and prints one JSON line.
 */

const side = process.argv[2] as "sdk" | "polydub"
const baseUrl = process.env.ELEVENLABS_BASE_URL!
const apiKey = process.env.ELEVENLABS_API_KEY!
const dubbingId = process.env.ELEVENLABS_DUBBING_ID!
const mb = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1))

/** The SDK's download, once its module is loaded. */
const sdkSide = async (): Promise<() => Promise<number>> => {
  const { ElevenLabsClient } = await import("@elevenlabs/elevenlabs-js")
  const client = new ElevenLabsClient({ apiKey, baseUrl, maxRetries: 0 })
  return async () => {
    const body = await client.dubbing.audio.get(dubbingId, "es")
    let bytes = 0
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength
    return bytes
  }
}

/** polydub's download, once its modules are loaded. */
const polydubSide = async (): Promise<() => Promise<number>> => {
  const [
    NodeHttpClient,
    NodeServices,
    { JobRef, TranslationProvider },
    { ElevenLabs },
    { Effect, Layer, Redacted, Stream }
  ] = await Promise.all([
    import("@effect/platform-node/NodeHttpClient"),
    import("@effect/platform-node/NodeServices"),
    import("@polydub/core"),
    import("@polydub/provider-elevenlabs"),
    import("effect")
  ])
  const layer = ElevenLabs.layer({ apiKey: Redacted.make(apiKey), baseUrl }).pipe(
    Layer.provide([NodeHttpClient.layerUndici, NodeServices.layer])
  )
  return () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const provider = yield* TranslationProvider
        const ref = new JobRef({
          provider: "elevenlabs",
          kind: "translation",
          id: dubbingId,
          language: "es",
          apiVersion: "v1"
        })
        const body = yield* provider.download(ref, "video")
        let bytes = 0
        yield* Stream.runForEach(body.stream, (chunk) => Effect.sync(() => void (bytes += chunk.byteLength)))
        return bytes
      }).pipe(Effect.provide(layer))
    )
}

let baseline = 0
let peak = 0
const sample = () => void (peak = Math.max(peak, process.memoryUsage().rss))
let sampler: ReturnType<typeof setInterval> | undefined
let started = 0

;(side === "sdk" ? sdkSide() : polydubSide())
  .then((download) => {
    // Before the download: the runtime and this side's modules loaded, nothing sent yet.
    baseline = process.memoryUsage().rss
    peak = baseline
    sampler = setInterval(sample, 20)
    started = performance.now()
    return download()
  })
  .then(
    (bytes) => {
      const seconds = (performance.now() - started) / 1000
      sample()
      clearInterval(sampler)
      process.stdout.write(
        `${JSON.stringify({ side, bytes, seconds: Number(seconds.toFixed(3)), peakRssMB: mb(peak), baselineRssMB: mb(baseline) })}\n`
      )
    },
    (error) => {
      clearInterval(sampler)
      process.stderr.write(`${side} download failed: ${String(error)}\n`)
      process.exitCode = 1
    }
  )
