import { describe, expect, it } from 'vitest'
import { ApiError, checkHandle, consistencyToken, noteConsistencyToken, register, request } from './api'
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
})
