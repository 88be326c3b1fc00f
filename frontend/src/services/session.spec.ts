import { beforeEach, describe, expect, it, vi } from 'vitest'
import { jsonResponse, mockFetch } from '../test-utils'

const TOKENS = {
  access_token: 'at-1',
  token_type: 'Bearer',
  expires_in: 600,
  user_id: 'u-1',
  role: 'user',
}

async function freshModule() {
  vi.resetModules()
  return import('./session')
}

function header(init: RequestInit | undefined, name: string): string | undefined {
  return (init?.headers as Record<string, string> | undefined)?.[name]
}

describe('session', () => {
  beforeEach(() => {
    localStorage.clear()
    sessionStorage.clear()
  })

  it('keeps the access token in memory only', async () => {
    const { signIn, session } = await freshModule()
    mockFetch(jsonResponse(200, TOKENS))

    await signIn('ada@example.test', 'correct horse battery staple')

    expect(session.accessToken).toBe('at-1')
    expect(localStorage.length).toBe(0)
    expect(sessionStorage.length).toBe(0)
    expect(document.cookie).not.toContain('at-1')
  })

  it('refreshes on the cookie route with the CSRF header and a JSON body', async () => {
    const { refresh, session } = await freshModule()
    const fetchMock = mockFetch(jsonResponse(200, { ...TOKENS, access_token: 'at-2' }))

    await expect(refresh()).resolves.toBe(true)

    const [url, init] = fetchMock.mock.calls[0]!
    expect(url).toBe('/api/auth/refresh')
    expect(init?.method).toBe('POST')
    expect(header(init, 'X-DocuVault-CSRF')).toBe('1')
    expect(header(init, 'Content-Type')).toBe('application/json')
    expect(init?.credentials).toBe('same-origin')
    expect(session.accessToken).toBe('at-2')
  })

  it('sends one refresh for many concurrent callers in a tab', async () => {
    const { refresh } = await freshModule()
    const fetchMock = mockFetch(jsonResponse(200, TOKENS))

    const results = await Promise.all([refresh(), refresh(), refresh()])

    expect(results).toEqual([true, true, true])
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('serialises refreshes across tabs with a Web Lock', async () => {
    const { refresh } = await freshModule()
    const request = vi.fn((_name: string, work: () => Promise<unknown>) => work())
    vi.stubGlobal('navigator', { locks: { request } })
    mockFetch(jsonResponse(200, TOKENS))

    await refresh()

    expect(request).toHaveBeenCalledWith('docuvault-refresh', expect.any(Function))
  })

  it('treats a refused refresh as signed out', async () => {
    const { refresh, session } = await freshModule()
    mockFetch(jsonResponse(401, { code: 'unauthorized', message: 'Sign in to continue.' }))

    await expect(refresh()).resolves.toBe(false)
    expect(session.accessToken).toBeNull()
  })

  it('sends the token as a Bearer header and retries once after refreshing on 401', async () => {
    const { signIn, authorized } = await freshModule()
    const fetchMock = mockFetch(
      jsonResponse(200, TOKENS),
      jsonResponse(401, { code: 'unauthorized', message: 'Sign in to continue.' }),
      jsonResponse(200, { ...TOKENS, access_token: 'at-2' }),
      jsonResponse(200, { handle: 'ada' }),
    )
    await signIn('ada@example.test', 'pw')

    await expect(authorized('GET', '/api/me')).resolves.toEqual({ handle: 'ada' })

    const calls = fetchMock.mock.calls
    expect(header(calls[1]![1], 'Authorization')).toBe('Bearer at-1')
    expect(calls[2]![0]).toBe('/api/auth/refresh')
    expect(header(calls[3]![1], 'Authorization')).toBe('Bearer at-2')
    expect(String(calls[3]![0])).not.toContain('access_token')
  })

  it('forgets the session when signing out, even if the server is unreachable', async () => {
    const { signIn, signOut, session } = await freshModule()
    const fetchMock = mockFetch(jsonResponse(200, TOKENS), new TypeError('Failed to fetch'))
    await signIn('ada@example.test', 'pw')

    await expect(signOut()).rejects.toMatchObject({ code: 'network_error' })

    expect(fetchMock.mock.calls[1]![0]).toBe('/api/auth/logout')
    expect(header(fetchMock.mock.calls[1]![1], 'X-DocuVault-CSRF')).toBe('1')
    expect(session.accessToken).toBeNull()
  })
})

describe('the SPA source', () => {
  it('never uses web storage (tokens stay in memory)', () => {
    const sources = import.meta.glob<string>(['../**/*.ts', '../**/*.vue', '!../**/*.spec.ts'], {
      query: '?raw',
      import: 'default',
      eager: true,
    })
    const files = Object.entries(sources)
    expect(files.length).toBeGreaterThan(5)
    for (const [file, text] of files) {
      expect(text, file).not.toMatch(/\b(localStorage|sessionStorage|indexedDB)\s*[.[]/)
    }
  })
})
