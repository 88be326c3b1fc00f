import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from './api'
import {
  createSystemTopic,
  createTopic,
  deleteSystemTopic,
  deleteTopic,
  listSystemTopics,
  listTopics,
  renameSystemTopic,
  renameTopic,
  setDocumentTopics,
  topicNameError,
  validateTopicName,
} from './topics'
import { signIn } from './session'
import { jsonResponse, mockFetch } from '../test-utils'

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'admin' }
const TOPIC = { id: 't-1', name: 'Taxes', system: false, documents: 2, created_at: '2025-01-01T00:00:00Z' }

function calls(fetchMock: ReturnType<typeof mockFetch>) {
  return fetchMock.mock.calls.map(([url, init]) => ({
    url: String(url),
    method: init?.method,
    body: typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
  }))
}

describe('topics API', () => {
  beforeEach(async () => {
    mockFetch(jsonResponse(200, TOKENS))
    await signIn('ada@example.test', 'pw')
  })

  it('manages one’s own topics', async () => {
    const fetchMock = mockFetch(
      jsonResponse(200, { items: [TOPIC] }),
      jsonResponse(201, TOPIC),
      new Response(null, { status: 204 }),
      new Response(null, { status: 204 }),
    )

    await expect(listTopics()).resolves.toEqual([TOPIC])
    await createTopic('Taxes')
    await renameTopic('t 1', 'Tax')
    await deleteTopic('t-1')

    expect(calls(fetchMock)).toEqual([
      { url: '/api/topics', method: 'GET', body: undefined },
      { url: '/api/topics', method: 'POST', body: { name: 'Taxes' } },
      { url: '/api/topics/t%201', method: 'PATCH', body: { name: 'Tax' } },
      { url: '/api/topics/t-1', method: 'DELETE', body: undefined },
    ])
  })

  it('sets all of a document’s topics at once', async () => {
    const fetchMock = mockFetch(jsonResponse(200, { id: 'd-1', topics: ['t-1', 't-2'] }))

    await setDocumentTopics('d-1', ['t-1', 't-2'])

    expect(calls(fetchMock)).toEqual([{ url: '/api/documents/d-1/topics', method: 'PUT', body: { topics: ['t-1', 't-2'] } }])
  })

  it('manages the system topics through the admin routes', async () => {
    const fetchMock = mockFetch(
      jsonResponse(200, { items: [] }),
      jsonResponse(201, { ...TOPIC, system: true }),
      new Response(null, { status: 204 }),
      new Response(null, { status: 204 }),
    )

    await listSystemTopics()
    await createSystemTopic('Finance')
    await renameSystemTopic('s-1', 'Money')
    await deleteSystemTopic('s-1')

    expect(calls(fetchMock).map((call) => `${call.method} ${call.url}`)).toEqual([
      'GET /api/admin/topics',
      'POST /api/admin/topics',
      'PATCH /api/admin/topics/s-1',
      'DELETE /api/admin/topics/s-1',
    ])
  })
})

describe('topic names', () => {
  it('are checked as the server would', () => {
    expect(validateTopicName('   ')).toBe('Enter a name for the topic.')
    expect(validateTopicName('x'.repeat(65))).toBe('Use at most 64 characters.')
    expect(validateTopicName(`  ${'x'.repeat(64)}  `)).toBeUndefined()
    // Runs of white space count as one, as the server tidies them.
    expect(validateTopicName(`${'x'.repeat(32)}     ${'y'.repeat(31)}`)).toBeUndefined()
  })

  it('explain what the server refused', () => {
    expect(topicNameError(new ApiError(409, 'topic_name_taken', 'There is a topic with this name already.'))).toBe(
      'There is a topic with this name already.',
    )
    expect(topicNameError(new ApiError(400, 'invalid_input', 'Check.', { name: 'Use at most 64 characters.' }))).toBe(
      'Use at most 64 characters.',
    )
    expect(topicNameError(new ApiError(503, 'unavailable', 'The service is unavailable.'))).toBe(
      'The service is unavailable.',
    )
    expect(topicNameError(new Error('boom'))).toBe('Something went wrong. Please try again.')
  })
})
