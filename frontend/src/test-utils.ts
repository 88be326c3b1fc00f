import { vi } from 'vitest'

export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

/** Replaces global fetch with a mock answering each call from `responses` in order. */
export function mockFetch(...responses: Array<Response | Error>) {
  const fetchMock = vi.fn<typeof fetch>()
  for (const response of responses) {
    if (response instanceof Error) fetchMock.mockRejectedValueOnce(response)
    else fetchMock.mockResolvedValueOnce(response)
  }
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

export const ACCEPTED_MESSAGE =
  'Check your email to confirm your account. If you already have an account, we sent you a note instead.'

export const HANDLE_TAKEN_BODY = {
  code: 'handle_taken',
  message: 'That handle is already taken.',
  fields: { handle: 'That handle is already taken.' },
}

/**
 * Stands in for XMLHttpRequest: records what was sent, and lets a test report upload
 * progress and answer when it wants. `MockXhr.sent` lists them in the order sent.
 */
export class MockXhr {
  static sent: MockXhr[] = []

  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown = undefined
  status = 0
  responseText = ''
  upload: { onprogress: ((event: ProgressEvent) => void) | null } = { onprogress: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  ontimeout: (() => void) | null = null

  open(method: string, url: string) {
    this.method = method
    this.url = url
  }

  setRequestHeader(name: string, value: string) {
    this.headers[name] = value
  }

  send(body: unknown) {
    this.body = body
    MockXhr.sent.push(this)
  }

  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true } as ProgressEvent)
  }

  respond(status: number, text = '') {
    this.status = status
    this.responseText = text
    this.onload?.()
  }

  fail() {
    this.onerror?.()
  }
}

export function mockXhr(): typeof MockXhr {
  MockXhr.sent = []
  vi.stubGlobal('XMLHttpRequest', MockXhr)
  return MockXhr
}

/**
 * A `text/event-stream` response whose body a test writes as it goes, like the server's
 * `GET /api/events`. Aborting the request's signal ends the body with an AbortError, as
 * a browser does.
 */
export class FakeEventStream {
  readonly response: Response
  private controller!: ReadableStreamDefaultController<Uint8Array>
  private closed = false

  constructor(signal?: AbortSignal | null, status = 200) {
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller
      },
    })
    this.response = new Response(body, { status, headers: { 'Content-Type': 'text/event-stream' } })
    signal?.addEventListener('abort', () => this.fail(new DOMException('The operation was aborted.', 'AbortError')))
  }

  get open(): boolean {
    return !this.closed
  }

  /** Writes text as one chunk. */
  send(text: string) {
    this.bytes(new TextEncoder().encode(text))
  }

  bytes(chunk: Uint8Array) {
    if (!this.closed) this.controller.enqueue(chunk)
  }

  /** One event, as the server writes it. */
  event(type: string, data: unknown) {
    this.send(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)
  }

  /** The stream ends (the token's time is up, or the server restarts). */
  end() {
    if (this.closed) return
    this.closed = true
    this.controller.close()
  }

  fail(error: unknown = new TypeError('network error')) {
    if (this.closed) return
    this.closed = true
    this.controller.error(error)
  }
}
