// The review desk: the jobs awaiting review, and for one job its video, its cues with checks as
// you type, save and approve. It speaks only to the desk's API (`src/ReviewApi.ts`) on the same
// origin. An edit is never lost: it stays on the page until a save succeeds, and a save refused
// because someone else changed the cues is reported, not retried over theirs.
import { html, render } from "htm/preact"
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks"

// ---------------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? body?.detail ?? body?.title ?? `the server answered ${status}`)
    this.status = status
    this.body = body
  }
}

const call = async (method, path, ref, body) => {
  const url = ref === undefined ? path : `${path}?ref=${encodeURIComponent(ref)}`
  let response
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
  } catch (e) {
    throw new ApiError(0, { message: `cannot reach the desk (${e.message})` })
  }
  const text = await response.text()
  let json
  try {
    json = text === "" ? undefined : JSON.parse(text)
  } catch {
    json = { message: text.slice(0, 200) }
  }
  if (!response.ok) throw new ApiError(response.status, json)
  return json
}

const api = {
  jobs: () => call("GET", "/review/api/jobs"),
  job: (ref) => call("GET", "/review/api/job", ref),
  transcript: (ref) => call("GET", "/review/api/transcript", ref),
  save: (ref, transcript, version) => call("PUT", "/review/api/transcript", ref, { transcript, version }),
  approve: (ref, options) => call("POST", "/review/api/approve", ref, options)
}

// ---------------------------------------------------------------------------------------------
// Cues, times and checks
// ---------------------------------------------------------------------------------------------

const pad = (n, w = 2) => String(n).padStart(w, "0")
export const formatTime = (ms) =>
  `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`

/** `hh:mm:ss.mmm`, `mm:ss.mmm` or seconds (`,` or `.` before the milliseconds); undefined when unreadable. */
export const parseTime = (text) => {
  const m = /^\s*(?:(?:(\d{1,2}):)?(\d{1,2}):)?(\d{1,5})(?:[.,](\d{1,3}))?\s*$/.exec(text)
  if (m === null) return undefined
  const [h, min, s] = [Number(m[1] ?? 0), Number(m[2] ?? 0), Number(m[3])]
  if ((m[2] !== undefined && s >= 60) || min >= 60) return undefined
  const ms = m[4] === undefined ? 0 : Number(m[4].padEnd(3, "0"))
  return ((h * 60 + min) * 60 + s) * 1000 + ms
}

let nextKey = 1
const fromCue = (cue) => ({
  key: nextKey++,
  startText: formatTime(cue.start),
  endText: formatTime(cue.end),
  text: cue.text,
  ...(cue.speaker === undefined ? {} : { speaker: cue.speaker })
})

const toTranscript = (rows) => ({
  cues: rows.map((r, i) => ({
    index: i + 1,
    start: parseTime(r.startText),
    end: parseTime(r.endText),
    text: r.text,
    ...(r.speaker === undefined ? {} : { speaker: r.speaker })
  }))
})

const sameRows = (a, b) =>
  a.length === b.length &&
  a.every((r, i) => r.startText === b[i].startText && r.endText === b[i].endText && r.text === b[i].text)

/** What is wrong with each cue: errors block a save, warnings do not. */
export const checkCues = (rows, limits) =>
  rows.map((row, i) => {
    const errors = []
    const warnings = []
    const start = parseTime(row.startText)
    const end = parseTime(row.endText)
    if (row.text.trim() === "") errors.push("empty cue")
    else if (/\n\s*\n/.test(row.text)) errors.push("a blank line inside a cue")
    if (start === undefined) errors.push("start time unreadable (hh:mm:ss.mmm)")
    if (end === undefined) errors.push("end time unreadable (hh:mm:ss.mmm)")
    if (start !== undefined && end !== undefined) {
      if (end < start) errors.push("ends before it starts")
      const prevEnd = i > 0 ? parseTime(rows[i - 1].endText) : undefined
      if (prevEnd !== undefined && start < prevEnd) warnings.push("overlaps the previous cue")
      const seconds = (end - start) / 1000
      const chars = row.text.replace(/\n/g, "").length
      if (seconds > 0 && chars / seconds > limits.maxCps) {
        warnings.push(`reading speed ${(chars / seconds).toFixed(1)} characters per second, over ${limits.maxCps}`)
      }
    }
    const longest = Math.max(0, ...row.text.split("\n").map((l) => l.length))
    if (longest > limits.maxLine) warnings.push(`a line of ${longest} characters, over ${limits.maxLine}`)
    return { errors, warnings }
  })

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const defaultLimits = { maxCps: 17, maxLine: 42 }
const loadLimits = () => {
  try {
    return { ...defaultLimits, ...JSON.parse(localStorage.getItem("polydub.review.limits") ?? "{}") }
  } catch {
    return defaultLimits
  }
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

const statusLabel = {
  preparing: "preparing",
  "awaiting-review": "awaiting review",
  rendering: "rendering",
  succeeded: "rendered",
  failed: "failed"
}

const JobList = ({ open }) => {
  const [state, setState] = useState({ jobs: undefined, error: undefined, mode: undefined })
  useEffect(() => {
    let live = true
    const load = () =>
      api.jobs().then(
        (r) => live && setState({ jobs: r.jobs, mode: r.mode, error: undefined }),
        (e) => live && setState((s) => ({ ...s, error: e.message }))
      )
    load()
    // Each refresh reads every listed job from its vendor (embedded mode): often enough to see a
    // job arrive, rarely enough to leave the vendor's status budget to the jobs themselves.
    const timer = setInterval(load, 5000)
    return () => {
      live = false
      clearInterval(timer)
    }
  }, [])
  return html`<main aria-labelledby="list-title">
    <h1 id="list-title">Jobs to review</h1>
    ${state.mode === undefined ? null : html`<p class="muted">${state.mode === "fleet" ? "On the fleet" : "On this machine's providers"}</p>`}
    ${state.error === undefined ? null : html`<p role="alert" class="error">${state.error}</p>`}
    ${
      state.jobs === undefined
        ? html`<p>Loading…</p>`
        : state.jobs.length === 0
          ? html`<p>No job is awaiting review. This list refreshes by itself.</p>`
          : html`<ul class="jobs">
            ${state.jobs.map(
              (job) => html`<li key=${job.ref}>
                <a href=${`#/job/${encodeURIComponent(job.ref)}`} onClick=${() => open(job.ref)}>
                  ${job.title ?? job.ref}</a>
                <span class="muted"> ${job.provider} · ${job.language} · </span>
                <span class=${`status ${job.status}`}>${statusLabel[job.status]}</span>
              </li>`
            )}
          </ul>`
    }
  </main>`
}

const Settings = ({ limits, setLimits }) => {
  const set = (key) => (e) => {
    const value = Number(e.currentTarget.value)
    if (!Number.isFinite(value) || value <= 0) return
    const next = { ...limits, [key]: value }
    localStorage.setItem("polydub.review.limits", JSON.stringify(next))
    setLimits(next)
  }
  return html`<fieldset class="settings">
    <legend>Limits</legend>
    <label>Reading speed (characters per second)
      <input type="number" min="1" step="0.5" value=${limits.maxCps} onInput=${set("maxCps")} /></label>
    <label>Line length (characters)
      <input type="number" min="1" value=${limits.maxLine} onInput=${set("maxLine")} /></label>
  </fieldset>`
}

const Keys = () => html`<details class="keys">
  <summary>Keyboard</summary>
  <dl>
    <dt>Alt+K</dt><dd>play or pause</dd>
    <dt>Alt+↓ / Alt+↑</dt><dd>next / previous cue</dd>
    <dt>Alt+S</dt><dd>split the cue at the cursor</dd>
    <dt>Alt+M</dt><dd>merge the cue with the next</dd>
    <dt>Ctrl+S</dt><dd>save</dd>
  </dl>
</details>`

/** The source-language text shown beside a cue: the source cues its time span overlaps. */
const sourceTextOf = (row, source) => {
  if (source === undefined) return undefined
  const start = parseTime(row.startText)
  const end = parseTime(row.endText)
  if (start === undefined || end === undefined) return undefined
  const texts = source.filter((c) => c.start < Math.max(end, start + 1) && c.end > start).map((c) => c.text)
  return texts.length === 0 ? undefined : texts.join(" ")
}

const CueRow = ({ row, index, check, current, onChange, onSeek, textRef, source }) => {
  const id = `cue-${row.key}`
  const original = sourceTextOf(row, source)
  const problems = [...check.errors, ...check.warnings]
  return html`<li
    class=${`cue${current ? " current" : ""}${check.errors.length > 0 ? " has-error" : ""}`}
    aria-current=${current ? "true" : undefined}
    aria-labelledby=${`${id}-label`}
    data-cue=${index + 1}
  >
    <div class="cue-head">
      <span id=${`${id}-label`} class="cue-number">Cue ${index + 1}</span>
      <button type="button" class="link" onClick=${onSeek} aria-label=${`Play from cue ${index + 1}`}>▶</button>
    </div>
    <div class="times">
      <label>Start <input class="time" value=${row.startText} aria-invalid=${check.errors.some((e) => e.startsWith("start")) ? "true" : undefined}
        onInput=${(e) => onChange({ startText: e.currentTarget.value })} /></label>
      <label>End <input class="time" value=${row.endText} aria-invalid=${check.errors.some((e) => e.startsWith("end") || e.startsWith("ends")) ? "true" : undefined}
        onInput=${(e) => onChange({ endText: e.currentTarget.value })} /></label>
    </div>
    ${
      original === undefined
        ? null
        : html`<p class="source" id=${`${id}-source`}><span class="muted">Source: </span>${original}</p>`
    }
    <label class="text-label" for=${`${id}-text`}>Text of cue ${index + 1}${row.speaker === undefined ? "" : ` (${row.speaker})`}</label>
    <textarea id=${`${id}-text`} ref=${textRef} rows=${Math.max(2, row.text.split("\n").length)}
      aria-describedby=${[original === undefined ? "" : `${id}-source`, problems.length > 0 ? `${id}-checks` : ""].join(" ").trim() || undefined}
      aria-invalid=${check.errors.length > 0 ? "true" : undefined}
      value=${row.text} onInput=${(e) => onChange({ text: e.currentTarget.value })}></textarea>
    ${
      problems.length === 0
        ? null
        : html`<ul id=${`${id}-checks`} class="checks" aria-live="polite">
          ${check.errors.map((e) => html`<li class="error">${e}</li>`)}
          ${check.warnings.map((w) => html`<li class="warning">${w}</li>`)}
        </ul>`
    }
  </li>`
}

const Player = ({ media, videoRef, onTime }) => {
  if (media === undefined) return html`<p class="muted">This vendor offers nothing to play for this job yet.</p>`
  const label = media.kind === "output" ? "Rendered video" : media.kind === "preview" ? "Preview" : "Source video"
  return html`<figure class="player">
    <video ref=${videoRef} src=${media.url} controls preload="auto" aria-label=${label}
      onTimeUpdate=${(e) => onTime(e.currentTarget.currentTime * 1000)}
      onSeeked=${(e) => onTime(e.currentTarget.currentTime * 1000)}></video>
    <figcaption>${label}</figcaption>
  </figure>`
}

const JobView = ({ jobRef, back }) => {
  const [job, setJob] = useState(undefined)
  const [rows, setRows] = useState(undefined)
  const [saved, setSaved] = useState(undefined) // the rows as last saved or loaded
  const [version, setVersion] = useState(undefined)
  const [source, setSource] = useState(undefined) // the source-language cues, where the vendor gives them
  const [message, setMessage] = useState(undefined) // { kind: "status" | "alert", text }
  const [busy, setBusy] = useState(false)
  const [limits, setLimits] = useState(loadLimits)
  const [time, setTime] = useState(0)
  const [render, setRender] = useState({ captions: false, audioOnly: false })
  const [approved, setApproved] = useState(false) // approved from this page: follow the render
  const videoRef = useRef(null)
  const textRefs = useRef([])

  const load = useCallback(async () => {
    const j = await api.job(jobRef)
    setJob(j)
    if (j.status === "awaiting-review") {
      const t = await api.transcript(jobRef)
      const loaded = t.transcript.cues.map(fromCue)
      setRows(loaded)
      setSaved(loaded)
      setVersion(t.version)
      setSource(t.source?.cues)
    }
  }, [jobRef])

  useEffect(() => {
    load().catch((e) => setMessage({ kind: "alert", text: `Cannot load ${jobRef}: ${e.message}` }))
  }, [load, jobRef])

  // Follow the render after an approval until it ends.
  useEffect(() => {
    if (job === undefined || (job.status !== "rendering" && job.status !== "preparing")) return
    const timer = setInterval(() => {
      api.job(jobRef).then(
        (next) =>
          // A fleet shows the workflow awaiting review until a runner takes the approval up.
          approved && next.status === "awaiting-review"
            ? undefined
            : next.status === "awaiting-review" && rows === undefined
              ? load()
              : setJob(next),
        () => undefined
      )
    }, 1000)
    return () => clearInterval(timer)
  }, [job, jobRef, rows, load, approved])

  const checks = useMemo(() => (rows === undefined ? [] : checkCues(rows, limits)), [rows, limits])
  const errorCount = checks.reduce((n, c) => n + c.errors.length, 0)
  const warningCount = checks.reduce((n, c) => n + c.warnings.length, 0)
  const dirty = rows !== undefined && saved !== undefined && !sameRows(rows, saved)

  // Warn before leaving with edits not saved.
  useEffect(() => {
    if (!dirty) return
    const onLeave = (e) => {
      e.preventDefault()
      e.returnValue = ""
    }
    addEventListener("beforeunload", onLeave)
    return () => removeEventListener("beforeunload", onLeave)
  }, [dirty])

  const change = (i, patch) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)))

  const seek = (i) => {
    const ms = parseTime(rows[i].startText)
    const video = videoRef.current
    if (video !== null && ms !== undefined) video.currentTime = ms / 1000
  }

  const focusCue = (i) => {
    const el = textRefs.current[i]
    if (el !== undefined && el !== null) {
      el.focus()
      seek(i)
    }
  }

  const currentIndex =
    rows === undefined
      ? -1
      : rows.findIndex((r) => {
          const s = parseTime(r.startText)
          const e = parseTime(r.endText)
          return s !== undefined && e !== undefined && time >= s && time < e
        })

  const save = async () => {
    if (rows === undefined || busy) return
    if (errorCount > 0) {
      setMessage({ kind: "alert", text: `Not saved: fix ${errorCount} error${errorCount === 1 ? "" : "s"} first.` })
      return
    }
    setBusy(true)
    setMessage({ kind: "status", text: "Saving…" })
    const sent = rows
    try {
      const result = await api.save(jobRef, toTranscript(sent), version)
      setVersion(result.version)
      setSaved(sent)
      setMessage({ kind: "status", text: "Saved." })
    } catch (e) {
      // The edit stays on the page whatever happened.
      if (e.status === 409 && e.body?._tag === "Conflict") {
        setMessage({
          kind: "alert",
          text: "Not saved: someone else changed these cues since you loaded them. Your edits are still here; nothing was overwritten. Copy what you need, then reload to see their version."
        })
      } else {
        setMessage({ kind: "alert", text: `Not saved: ${e.message}. Your edits are still here; try again.` })
      }
    } finally {
      setBusy(false)
    }
  }

  const approve = async () => {
    if (busy) return
    setBusy(true)
    setMessage({ kind: "status", text: "Approving…" })
    try {
      const options = {}
      if (job.renderOptions.captions) options.captions = render.captions
      if (job.renderOptions.audioOnly) options.audioOnly = render.audioOnly
      const next = await api.approve(jobRef, options)
      setApproved(true)
      setJob(next.status === "awaiting-review" ? { ...next, status: "rendering" } : next)
      setMessage({ kind: "status", text: "Approved: the vendor is rendering." })
    } catch (e) {
      setMessage({ kind: "alert", text: `Not approved: ${e.message}` })
    } finally {
      setBusy(false)
    }
  }

  const split = (i) => {
    const el = textRefs.current[i]
    const row = rows[i]
    const at = el?.selectionStart ?? Math.floor(row.text.length / 2)
    const before = row.text.slice(0, at).trimEnd()
    const after = row.text.slice(at).trimStart()
    if (before === "" || after === "")
      return setMessage({ kind: "status", text: "Put the cursor inside the text to split it." })
    const s = parseTime(row.startText)
    const e = parseTime(row.endText)
    const mid =
      s !== undefined && e !== undefined
        ? Math.round(s + ((e - s) * before.length) / (before.length + after.length))
        : undefined
    const midText = mid === undefined ? row.endText : formatTime(mid)
    setRows((rs) => [
      ...rs.slice(0, i),
      { ...row, text: before, endText: midText },
      { ...row, key: nextKey++, text: after, startText: midText },
      ...rs.slice(i + 1)
    ])
    setMessage({ kind: "status", text: `Cue ${i + 1} split in two.` })
    setTimeout(() => focusCue(i + 1), 0)
  }

  const merge = (i) => {
    if (i + 1 >= rows.length) return setMessage({ kind: "status", text: "The last cue has no next cue to merge with." })
    const [a, b] = [rows[i], rows[i + 1]]
    setRows((rs) => [...rs.slice(0, i), { ...a, text: `${a.text} ${b.text}`, endText: b.endText }, ...rs.slice(i + 2)])
    setMessage({ kind: "status", text: `Cues ${i + 1} and ${i + 2} merged.` })
    setTimeout(() => focusCue(i), 0)
  }

  const onKey = (e) => {
    if (rows === undefined) return
    const focused = textRefs.current.findIndex((el) => el?.contains(document.activeElement))
    const at = focused === -1 ? Math.max(currentIndex, 0) : focused
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
      e.preventDefault()
      save()
    } else if (e.altKey && e.key.toLowerCase() === "k") {
      e.preventDefault()
      const v = videoRef.current
      if (v !== null) v.paused ? v.play() : v.pause()
    } else if (e.altKey && e.key === "ArrowDown") {
      e.preventDefault()
      focusCue(Math.min(rows.length - 1, focused === -1 ? 0 : focused + 1))
    } else if (e.altKey && e.key === "ArrowUp") {
      e.preventDefault()
      focusCue(Math.max(0, focused === -1 ? 0 : focused - 1))
    } else if (e.altKey && e.key.toLowerCase() === "s") {
      e.preventDefault()
      split(at)
    } else if (e.altKey && e.key.toLowerCase() === "m") {
      e.preventDefault()
      merge(at)
    }
  }

  if (job === undefined) {
    return html`<main>
      <p><a href="#/" onClick=${back}>← All jobs</a></p>
      ${message === undefined ? html`<p>Loading…</p>` : html`<p role="alert" class="error">${message.text}</p>`}
    </main>`
  }

  return html`<main onKeyDown=${onKey} aria-labelledby="job-title">
    <p><a href="#/" onClick=${back}>← All jobs</a></p>
    <h1 id="job-title">${job.title ?? job.ref}</h1>
    <p class="muted">${job.provider} · ${job.language} · <span class=${`status ${job.status}`} data-testid="job-status">${statusLabel[job.status]}</span>
      ${job.detail === undefined ? null : html` · ${job.detail}`}</p>
    <div role="status" aria-live="polite" class="message">${message?.kind === "status" ? message.text : ""}</div>
    <div role="alert" class="message error">${message?.kind === "alert" ? message.text : ""}</div>
    <div class="layout">
      <section class="left" aria-label="Video">
        <${Player} media=${job.media} videoRef=${videoRef} onTime=${setTime} />
        ${job.status === "awaiting-review" ? html`<${Settings} limits=${limits} setLimits=${setLimits} /><${Keys} />` : null}
      </section>
      ${
        job.status === "awaiting-review" && rows !== undefined
          ? html`<section class="right" aria-labelledby="cues-title">
              <h2 id="cues-title">Cues <span class="muted">(${rows.length}; ${errorCount} error${errorCount === 1 ? "" : "s"}, ${warningCount} warning${warningCount === 1 ? "" : "s"})</span></h2>
              <ol class="cues">
                ${rows.map(
                  (row, i) => html`<${CueRow} key=${row.key} row=${row} index=${i} check=${checks[i]}
                    current=${i === currentIndex} source=${source} onChange=${(patch) => change(i, patch)} onSeek=${() => seek(i)}
                    textRef=${(el) => (textRefs.current[i] = el)} />`
                )}
              </ol>
              <div class="actions">
                <button type="button" onClick=${save} disabled=${busy}>Save${dirty ? "" : " (no changes)"}</button>
                <fieldset class="render-options">
                  <legend>Render</legend>
                  ${job.renderOptions.captions ? html`<label><input type="checkbox" checked=${render.captions} onChange=${(e) => setRender({ ...render, captions: e.currentTarget.checked })} /> Captions</label>` : null}
                  ${job.renderOptions.audioOnly ? html`<label><input type="checkbox" checked=${render.audioOnly} onChange=${(e) => setRender({ ...render, audioOnly: e.currentTarget.checked })} /> Audio only</label>` : null}
                  <button type="button" onClick=${approve} disabled=${busy || dirty}
                    aria-describedby=${dirty ? "approve-why" : undefined}>Approve and render</button>
                  ${dirty ? html`<span id="approve-why" class="muted"> Save your edits before approving.</span>` : null}
                </fieldset>
              </div>
            </section>`
          : html`<section class="right"><p>${
              job.status === "succeeded"
                ? "The translation is rendered: the video on the left is the vendor's result."
                : job.status === "rendering"
                  ? "The vendor is rendering the approved translation; this page follows it."
                  : job.status === "failed"
                    ? "This job failed."
                    : "The vendor is preparing the transcript; this page follows it."
            }</p></section>`
      }
    </div>
  </main>`
}

const refOfHash = () => {
  const m = /^#\/job\/(.+)$/.exec(location.hash)
  return m === null ? undefined : decodeURIComponent(m[1])
}

const App = () => {
  const [ref, setRef] = useState(refOfHash)
  useEffect(() => {
    const onHash = () => setRef(refOfHash())
    addEventListener("hashchange", onHash)
    return () => removeEventListener("hashchange", onHash)
  }, [])
  return ref === undefined
    ? html`<${JobList} open=${setRef} />`
    : html`<${JobView} key=${ref} jobRef=${ref} back=${() => setRef(undefined)} />`
}

const container = document.getElementById("app")
container.textContent = "" // the "Loading…" placeholder
render(html`<${App} />`, container)
