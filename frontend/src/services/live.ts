// Live notices (EV-9): the signed-in person's `GET /api/events`, a Server-Sent Events
// stream of what happens to their documents (read, filed, failed) and shares (given to
// them, taken back).
//
// - It is read with `fetch` and parsed here: `EventSource` cannot send the Authorization
//   header, and tokens never go in URLs.
// - The stream ends when the access token would expire (and when the server restarts),
//   so the connection reconnects: at once after a stream that lived a while, with growing
//   pauses (1 s, 2 s, 5 s, then every 10 s) after errors, never in a tight loop. A 401
//   refreshes the session first; a refused refresh means signed out, and it stops.
// - Each notice's consistency token is adopted (api.ts), so a read made after hearing of
//   a change shows it.
// - Notices may have been missed while it was not connected: a reconnection says
//   `resync` to its listeners, as the server does when it fell behind.

import { noteConsistencyToken } from './api'
import type { Classification } from './documents'
import { refresh, session } from './session'

/** One Server-Sent Events message: its `event:` (default `message`) and its `data:` lines. */
export interface SseMessage {
  event: string
  data: string
}

export interface SseParse {
  messages: SseMessage[]
  /** What comes after the last complete message: prepend it to the next chunk. */
  rest: string
}

/**
 * Splits Server-Sent Events text into its complete messages and the unfinished rest.
 * Messages end with a blank line; lines end with LF, CRLF or CR; lines starting with `:`
 * are comments (keep-alives); several `data:` lines join with LF; one space after the
 * colon is dropped. A block of comments alone is no message. Pure: feed it
 * `rest + chunk` each time a chunk arrives.
 */
export function parseSse(text: string): SseParse {
  const messages: SseMessage[] = []
  let event = ''
  let data: string[] = []
  let fields = false
  let blockStart = 0
  let position = 0
  while (position < text.length) {
    let end = position
    while (end < text.length && text[end] !== '\n' && text[end] !== '\r') end++
    // An unfinished line. (A CR at the very end ends its line even when an LF follows in
    // the next chunk: that LF then reads as a blank line where nothing is pending, or
    // completes the CRLF when the block is parsed again from `rest`. Either way, no harm.)
    if (end === text.length) break
    const line = text.slice(position, end)
    position = text[end] === '\r' && text[end + 1] === '\n' ? end + 2 : end + 1

    if (line === '') {
      if (fields) messages.push({ event: event || 'message', data: data.join('\n') })
      event = ''
      data = []
      fields = false
      blockStart = position
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const name = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (name === 'event') {
      event = value
      fields = true
    } else if (name === 'data') {
      data.push(value)
      fields = true
    }
    // `id` and `retry` are of no use here (reconnecting resyncs), other names are ignored.
  }
  return { messages, rest: text.slice(blockStart) }
}

export type NoticeType =
  | 'UploadConfirmed'
  | 'ClassificationRequested'
  | 'TextExtracted'
  | 'DocumentClassified'
  | 'ClassificationFailed'
  | 'ShareGranted'
  | 'ShareRevoked'

/** What the server says happened (docs/api: `GET /api/events`). */
export interface Notice {
  /** A NoticeType; kept open, as a newer server may say more. */
  type: NoticeType | (string & {})
  document_id?: string
  folder_id?: string
  share_id?: string
  /** The document's classification after the event. */
  classification?: Classification
  /** After `DocumentClassified`: all the document's topic ids now. */
  topics?: string[]
  /** After `ClassificationFailed`: why, as plain text. */
  error?: string
  /** A consistency token: reads sent with it reflect the event. */
  token: string
}

const CLASSIFICATIONS: readonly string[] = ['extracting', 'classifying', 'classified', 'failed']

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** A message's notice, or null when its data is not one (it is then ignored). */
export function toNotice(message: SseMessage): Notice | null {
  let body: unknown
  try {
    body = JSON.parse(message.data)
  } catch {
    return null
  }
  if (typeof body !== 'object' || body === null) return null
  const raw = body as Record<string, unknown>
  const type = optionalString(raw.type) ?? message.event
  if (typeof raw.token !== 'string' || type === '') return null
  const notice: Notice = { type, token: raw.token }
  const documentId = optionalString(raw.document_id)
  const folderId = optionalString(raw.folder_id)
  const shareId = optionalString(raw.share_id)
  const error = optionalString(raw.error)
  if (documentId !== undefined) notice.document_id = documentId
  if (folderId !== undefined) notice.folder_id = folderId
  if (shareId !== undefined) notice.share_id = shareId
  if (error !== undefined) notice.error = error
  if (typeof raw.classification === 'string' && CLASSIFICATIONS.includes(raw.classification)) {
    notice.classification = raw.classification as Classification
  }
  if (Array.isArray(raw.topics)) {
    notice.topics = raw.topics.filter((id): id is string => typeof id === 'string')
  }
  return notice
}

/** Pauses after the 1st, 2nd, 3rd… failure in a row, in milliseconds; the last repeats. */
export const RETRY_DELAYS = [1_000, 2_000, 5_000, 10_000]

/** A stream that ended after living this long was healthy: reconnect at once. */
export const HEALTHY_STREAM_MS = 30_000

export type ConnectionState = 'stopped' | 'connecting' | 'open' | 'waiting'

/** What the connection needs from the world; tests pass fakes. */
export interface LiveDeps {
  fetch: (path: string, init: RequestInit) => Promise<Response>
  /** The current access token, or null when signed out. */
  accessToken: () => string | null
  /** Trades the refresh cookie for a new access token; false: signed out. */
  refresh: () => Promise<boolean>
  /** Resolves after `ms`, or as soon as `signal` aborts. */
  wait: (ms: number, signal: AbortSignal) => Promise<void>
  now: () => number
  /** Adopts a notice's consistency token. */
  noteToken: (token: string) => void
}

export type NoticeHandler = (notice: Notice) => void
export type ResyncHandler = () => void

/**
 * How one connection attempt ended, which decides the pause before the next: `healthy`
 * (a stream that lived a while: none), `short` (it said `ready` but ended soon), `failed`
 * (an error, or no `ready`), `unauthorized` (401: refresh first), `stopped` (signed out).
 */
type Outcome = 'healthy' | 'short' | 'failed' | 'unauthorized' | 'stopped'

export const EVENTS_PATH = '/api/events'

/** The connection to `GET /api/events`, kept open while signed in. */
export class LiveConnection {
  private readonly deps: LiveDeps
  private readonly noticeHandlers = new Set<NoticeHandler>()
  private readonly resyncHandlers = new Set<ResyncHandler>()
  private controller: AbortController | null = null
  private current: ConnectionState = 'stopped'
  /** Whether a stream of this run said `ready` before: the next one may have missed notices. */
  private connectedBefore = false

  constructor(deps: LiveDeps) {
    this.deps = deps
  }

  get state(): ConnectionState {
    return this.current
  }

  /** Calls `handler` with every notice; returns what unsubscribes it. */
  onNotice(handler: NoticeHandler): () => void {
    this.noticeHandlers.add(handler)
    return () => this.noticeHandlers.delete(handler)
  }

  /** Calls `handler` when notices may have been missed: read the lists again. */
  onResync(handler: ResyncHandler): () => void {
    this.resyncHandlers.add(handler)
    return () => this.resyncHandlers.delete(handler)
  }

  /** Connects and stays connected until `stop()`; starting a started connection does nothing. */
  start(): void {
    if (this.controller !== null) return
    const controller = new AbortController()
    this.controller = controller
    this.connectedBefore = false
    void this.run(controller.signal)
  }

  /** Closes the stream and stops reconnecting (signed out). */
  stop(): void {
    this.controller?.abort()
    this.controller = null
    this.current = 'stopped'
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0
    /** A 401 is retried at once after a refresh, but only once in a row. */
    let renewed = false
    while (!signal.aborted) {
      const outcome = await this.connect(signal)
      if (signal.aborted || outcome === 'stopped') break
      if (outcome === 'unauthorized') {
        const refreshed = await this.renew()
        if (signal.aborted) break
        if (refreshed === false) {
          this.stopRun(signal)
          break
        }
        if (refreshed === true && !renewed) {
          renewed = true
          continue
        }
        failures += 1
      } else if (outcome === 'healthy') {
        failures = 0
        renewed = false
      } else {
        if (outcome === 'short') renewed = false
        failures += 1
      }
      if (failures > 0) {
        this.current = 'waiting'
        await this.deps.wait(RETRY_DELAYS[Math.min(failures, RETRY_DELAYS.length) - 1]!, signal)
      }
    }
  }

  /** Stops the run `signal` belongs to, unless a newer run took over meanwhile. */
  private stopRun(signal: AbortSignal) {
    if (this.controller?.signal === signal) this.stop()
  }

  /** The refresh's answer, or null when it could not be asked (offline): try again later. */
  private async renew(): Promise<boolean | null> {
    try {
      return await this.deps.refresh()
    } catch {
      return null
    }
  }

  /** One stream, from the request to its end. */
  private async connect(signal: AbortSignal): Promise<Outcome> {
    const token = this.deps.accessToken()
    if (token === null) return 'unauthorized'
    this.current = 'connecting'
    const started = this.deps.now()
    let response: Response
    try {
      response = await this.deps.fetch(EVENTS_PATH, {
        method: 'GET',
        headers: { Accept: 'text/event-stream', Authorization: `Bearer ${token}` },
        credentials: 'same-origin',
        cache: 'no-store',
        signal,
      })
    } catch {
      return signal.aborted ? 'stopped' : 'failed'
    }
    if (response.status === 401) {
      await response.body?.cancel().catch(() => undefined)
      return 'unauthorized'
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined)
      return 'failed'
    }

    let ready = false
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    let rest = ''
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        const parsed = parseSse(rest + decoder.decode(value, { stream: true }))
        rest = parsed.rest
        for (const message of parsed.messages) {
          if (signal.aborted) return 'stopped'
          if (message.event === 'ready') {
            ready = true
            this.current = 'open'
            if (this.connectedBefore) this.resync()
            this.connectedBefore = true
          } else {
            this.deliver(message)
          }
        }
      }
    } catch {
      // Dropped: the same as an end, below.
    } finally {
      try {
        reader.releaseLock()
      } catch {
        // A read still pending (older engines refuse then): the stream is done with anyway.
      }
    }
    if (signal.aborted) return 'stopped'
    // It ended or dropped: after a while (the token's time was up) reconnect at once;
    // soon after it opened, or before it said `ready`, pause first.
    if (!ready) return 'failed'
    return this.deps.now() - started >= HEALTHY_STREAM_MS ? 'healthy' : 'short'
  }

  private deliver(message: SseMessage) {
    if (message.event === 'resync') {
      this.resync()
      return
    }
    const notice = toNotice(message)
    if (notice === null) return
    this.deps.noteToken(notice.token)
    for (const handler of [...this.noticeHandlers]) {
      try {
        handler(notice)
      } catch (error) {
        console.error('A live notice handler failed', error)
      }
    }
  }

  private resync() {
    for (const handler of [...this.resyncHandlers]) {
      try {
        handler()
      } catch (error) {
        console.error('A live resync handler failed', error)
      }
    }
  }
}

/** Waits `ms`, or less when `signal` aborts first. */
export function abortableWait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done)
  })
}

/** The app's one connection, as the signed-in person (started by App.vue). */
export const live = new LiveConnection({
  // Looked up at each call, so tests can stub the global.
  fetch: (path, init) => fetch(path, init),
  accessToken: () => session.accessToken,
  refresh,
  wait: abortableWait,
  now: () => Date.now(),
  noteToken: noteConsistencyToken,
})

export function onNotice(handler: NoticeHandler): () => void {
  return live.onNotice(handler)
}

export function onResync(handler: ResyncHandler): () => void {
  return live.onResync(handler)
}
