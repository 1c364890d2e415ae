// Downloads: file names built from vendor answers, and the address filter. The writer and the fetch,
// which need sockets and a file system, are tested in packages/testing/test/Downloads.test.ts.

import { assert, describe, it } from "@effect/vitest"
import { Downloads, Job, JobRef, Outputs } from "@polydub/core"
import { DateTime } from "effect"

const jobOf = (provider: string, id: string, language: string) =>
  new Job({
    ref: new JobRef({ provider, kind: "translation", id }),
    language,
    state: { _tag: "Queued" },
    providerStatus: "queued",
    observedAt: DateTime.makeUnsafe(0)
  })

describe("Downloads.fileName", () => {
  it("keeps plain names as they are", () => {
    assert.strictEqual(Downloads.fileName(jobOf("heygen", "9o54f3e2a1b0", "es"), "video"), "heygen-es-9o54f3e2a1b0.mp4")
    assert.strictEqual(
      Downloads.fileName(jobOf("voicecheap", "a1b2-c3d4_e5", "pt_br"), "lipSyncVideo"),
      "voicecheap-pt-BR-a1b2-c3d4_e5.lipsync.mp4"
    )
  })

  it("names audio by the media type the vendor declared: WAV is .wav, anything else .mp3", () => {
    const withAudio = (mediaType: string | undefined) =>
      new Job({
        ...jobOf("elevenlabs", "p1", "es"),
        state: {
          _tag: "Succeeded",
          outputs: new Outputs({
            audio: { url: "https://x.example/o", ...(mediaType === undefined ? {} : { mediaType }) }
          })
        }
      })
    assert.strictEqual(Downloads.fileName(withAudio("audio/wav"), "audio"), "elevenlabs-es-p1.wav")
    assert.strictEqual(Downloads.fileName(withAudio("audio/mpeg"), "audio"), "elevenlabs-es-p1.mp3")
    assert.strictEqual(Downloads.fileName(withAudio(undefined), "audio"), "elevenlabs-es-p1.mp3")
    assert.strictEqual(Downloads.fileName(withAudio("audio/wav"), "video"), "elevenlabs-es-p1.mp4")
  })

  it("builds names only from safe parts, whatever the vendor answered", () => {
    const hostile = [
      ["../../../../tmp/x", "../../../etc/passwd"],
      ["es/../../x", "a\\b\\..\\c"],
      // A JobRef refuses control characters in ids; a language may still hold them.
      ["\u001b]0;pwned\u0007", 'id with spaces; and\u202equotes"'],
      ["", "...."],
      ["es", "x".repeat(500)]
    ] as const
    for (const [language, id] of hostile) {
      for (const kind of ["video", "audio", "srt", "vtt", "lipSyncVideo"] as const) {
        const name = Downloads.fileName(jobOf("voicecheap", id, language), kind)
        assert.match(name, /^[A-Za-z0-9_][A-Za-z0-9._-]{0,120}$/, name)
        assert.notInclude(name, "..", name)
      }
    }
    assert.match(
      Downloads.fileName(jobOf("voicecheap", "p1", "../../../../tmp/x"), "video"),
      /^voicecheap-und-p1\.mp4$/
    )
  })

  it("gives ids that clean up alike different names", () => {
    const a = Downloads.fileName(jobOf("heygen", "a/b", "es"), "video")
    const b = Downloads.fileName(jobOf("heygen", "a.b", "es"), "video")
    const c = Downloads.fileName(jobOf("heygen", "ab", "es"), "video")
    assert.strictEqual(new Set([a, b, c]).size, 3)
  })
})

describe("Downloads.isPublicAddress", () => {
  it("refuses loopback, private, link-local and unspecified addresses, in IPv4-mapped form too", () => {
    const refused = [
      "127.0.0.1",
      "127.255.0.9",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "255.255.255.255",
      "::",
      "::1",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "fe80::1%eth0",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:10.0.0.1",
      "::ffff:169.254.169.254",
      "localhost",
      "not an address"
    ]
    for (const address of refused) assert.isFalse(Downloads.isPublicAddress(address), address)
    for (const address of ["8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]) {
      assert.isTrue(Downloads.isPublicAddress(address), address)
    }
  })
})
