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
