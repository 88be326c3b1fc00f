import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  ApiError,
  CONSISTENCY_RETRIES,
  checkHandle,
  consistencyToken,
  noteConsistencyToken,
  register,
  request,
} from './api'
import { ACCEPTED_MESSAGE, jsonResponse, mockFetch } from '../test-utils'

const input = { email: 'ada@example.test', handle: 'ada', password: 'correct horse battery' }

describe('api', () => {
  it('posts JSON with JSON headers to a relative URL and returns the body', async () => {
    const fetchMock = mockFetch(jsonResponse(202, { message: ACCEPTED_MESSAGE }))

    await expect(register(input)).resolves.toEqual({ message: ACCEPTED_MESSAGE })

    const [url, init] = fetchMock.mock.calls[0]!
    expect(url).toBe('/api/auth/register')
    expect(init?.method).toBe('POST')
    expect(init?.headers).toMatchObject({
      Accept: 'application/json',
      'Content-Type': 'application/json',
    })
    expect(JSON.parse(init?.body as string)).toEqual(input)
  })

  it('turns an error body into an ApiError with status, code, message and fields', async () => {
    mockFetch(
      jsonResponse(400, {
        code: 'invalid_input',
        message: 'Some fields need attention.',
        fields: { password: 'Use at least 8 characters.' },
      }),
    )

    const error = await register(input).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_input',
      message: 'Some fields need attention.',
      fields: { password: 'Use at least 8 characters.' },
    })
  })

  it('copes with an error response that is not JSON', async () => {
    mockFetch(new Response('<html>Bad gateway</html>', { status: 502 }))

    await expect(register(input)).rejects.toMatchObject({
      status: 502,
      code: 'unexpected_response',
      message: 'Something went wrong (HTTP 502). Please try again.',
      fields: {},
    })
  })

  it('reports a network failure as an ApiError with status 0', async () => {
    mockFetch(new TypeError('Failed to fetch'))

    await expect(register(input)).rejects.toMatchObject({ status: 0, code: 'network_error' })
  })

  it('encodes the handle in the availability URL and sends no body', async () => {
    const fetchMock = mockFetch(jsonResponse(200, { handle: 'a/b', available: true }))

    await checkHandle('a/b')

    const [url, init] = fetchMock.mock.calls[0]!
    expect(url).toBe('/api/handles/a%2Fb')
    expect(init?.method).toBe('GET')
    expect(init?.body).toBeUndefined()
  })

  it('adopts a consistency token learnt from a notice only when it is later than the one it has', async () => {
    const written = new Response('{}', { status: 200, headers: { 'X-Consistency-Token': '10.50' } })
    mockFetch(written)
    await request('POST', '/api/documents/d1/classify')
    expect(consistencyToken()).toBe('10.50')

    noteConsistencyToken('10.49')
    noteConsistencyToken('9.900')
    noteConsistencyToken('not a token')
    expect(consistencyToken()).toBe('10.50')

    // Ordered by transaction first, whatever the position; and beyond 2^53.
    noteConsistencyToken('11.3')
    expect(consistencyToken()).toBe('11.3')
    noteConsistencyToken('9007199254740993.1')
    noteConsistencyToken('9007199254740992.9')
    expect(consistencyToken()).toBe('9007199254740993.1')

    const fetchMock = mockFetch(jsonResponse(200, {}))
    await request('GET', '/api/documents')
    expect((fetchMock.mock.calls[0]![1]?.headers as Record<string, string>)['X-Consistency-Token']).toBe(
      '9007199254740993.1',
    )
  })

  it('keeps a later token learnt from a notice when a write answers with an earlier one', async () => {
    noteConsistencyToken('9007199254740999.7')
    const written = new Response('{}', { status: 200, headers: { 'X-Consistency-Token': '9007199254740999.5' } })
    mockFetch(written)
    await request('POST', '/api/documents/d1/classify')
    expect(consistencyToken()).toBe('9007199254740999.7')
  })

  describe('a read the server has not caught up with', () => {
    const NOT_YET = { code: 'not_yet_consistent', message: 'Your last change is still being processed.' }
    const notYet = (retryAfter = '1') =>
      new Response(JSON.stringify(NOT_YET), {
        status: 503,
        headers: { 'Content-Type': 'application/json', 'Retry-After': retryAfter },
      })

    afterEach(() => {
      vi.useRealTimers()
    })

    it('is sent again after the pause it asks for, with the latest token, and answers', async () => {
      vi.useFakeTimers()
      const fetchMock = mockFetch(notYet('2'), notYet(), jsonResponse(200, { items: [] }))
      const answer = request('GET', '/api/documents')
      await vi.advanceTimersByTimeAsync(1_999)
      expect(fetchMock).toHaveBeenCalledTimes(1)
      // A notice meanwhile: the next try asks for it.
      noteConsistencyToken('9007199254741000.1')
      await vi.advanceTimersByTimeAsync(1)
      expect(fetchMock).toHaveBeenCalledTimes(2)
      const headers = fetchMock.mock.calls[1]![1]?.headers as Record<string, string>
      expect(headers['X-Consistency-Token']).toBe('9007199254741000.1')
      await vi.advanceTimersByTimeAsync(1_000)
      await expect(answer).resolves.toEqual({ items: [] })
      expect(fetchMock).toHaveBeenCalledTimes(3)
    })

    it('gives up with the error after its tries', async () => {
      vi.useFakeTimers()
      const fetchMock = mockFetch(...Array.from({ length: CONSISTENCY_RETRIES + 1 }, () => notYet()))
      const answer = request('GET', '/api/documents').catch((error: unknown) => error)
      await vi.advanceTimersByTimeAsync(CONSISTENCY_RETRIES * 1_000)
      expect(await answer).toMatchObject({ status: 503, code: 'not_yet_consistent' })
      expect(fetchMock).toHaveBeenCalledTimes(CONSISTENCY_RETRIES + 1)
    })

    it('is the only 503 tried again: a write, or a service that is down, fails at once', async () => {
      const down = jsonResponse(503, { code: 'unavailable', message: 'The service is temporarily unavailable.' })
      let fetchMock = mockFetch(down)
      await expect(request('GET', '/api/documents')).rejects.toMatchObject({ code: 'unavailable' })
      expect(fetchMock).toHaveBeenCalledTimes(1)
      fetchMock = mockFetch(notYet())
      await expect(request('POST', '/api/documents/d1/classify')).rejects.toMatchObject({ code: 'not_yet_consistent' })
      expect(fetchMock).toHaveBeenCalledTimes(1)
    })
  })
})
