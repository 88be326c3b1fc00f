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
