import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from './api'
import {
  listShares,
  lookUpHandle,
  revokeShare,
  share,
  sharedWithMe,
  shareErrorMessage,
  NO_RECIPIENT_MESSAGE,
} from './shares'
import { signIn } from './session'
import { jsonResponse, mockFetch } from '../test-utils'

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'user' }

function calls(fetchMock: ReturnType<typeof mockFetch>) {
  return fetchMock.mock.calls.map(([url, init]) => ({
    url: String(url),
    method: init?.method,
    body: typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
  }))
}

describe('sharing API', () => {
  beforeEach(async () => {
    mockFetch(jsonResponse(200, TOKENS))
    await signIn('ada@example.test', 'pw')
  })

  it('shares a document or a folder by handle, the handle tidied', async () => {
    const fetchMock = mockFetch(
      jsonResponse(201, { id: 's-1', handle: 'bob', permission: 'read' }),
      jsonResponse(201, { id: 's-2', handle: 'bob', permission: 'read' }),
    )

    await expect(share({ kind: 'document', id: 'd-1', name: 'Tax.pdf' }, '  Bob ')).resolves.toMatchObject({ id: 's-1' })
    await share({ kind: 'folder', id: 'f-1', name: 'Taxes' }, 'bob')

    expect(calls(fetchMock)).toEqual([
      { url: '/api/shares', method: 'POST', body: { handle: 'bob', document_id: 'd-1' } },
      { url: '/api/shares', method: 'POST', body: { handle: 'bob', folder_id: 'f-1' } },
    ])
  })

  it('lists the shares of one thing or all, revokes one, and lists what is shared with me', async () => {
    const fetchMock = mockFetch(
      jsonResponse(200, { items: [{ id: 's-1' }] }),
      jsonResponse(200, { items: [] }),
      new Response(null, { status: 204 }),
      jsonResponse(200, { items: [{ id: 'd-9', shared_by: 'ann', via_folder: null }] }),
    )

    await expect(listShares('d-1')).resolves.toEqual([{ id: 's-1' }])
    await listShares()
    await revokeShare('s-1')
    await expect(sharedWithMe()).resolves.toEqual([{ id: 'd-9', shared_by: 'ann', via_folder: null }])

    expect(calls(fetchMock).map((call) => `${call.method} ${call.url}`)).toEqual([
      'GET /api/shares?target=d-1',
      'GET /api/shares',
      'DELETE /api/shares/s-1',
      'GET /api/shared',
    ])
  })
})

describe('lookUpHandle', () => {
  it('says nothing for an empty field and checks the rules before asking', async () => {
    const fetchMock = mockFetch()

    await expect(lookUpHandle('  ')).resolves.toEqual({ state: 'empty' })
    await expect(lookUpHandle('ab')).resolves.toEqual({ state: 'invalid', message: 'Use 3 to 30 characters.' })
    await expect(lookUpHandle('bob smith')).resolves.toMatchObject({ state: 'invalid' })
    expect(fetchMock).not.toHaveBeenCalled()
  })

  it('asks whether the handle exists: available means no one has it', async () => {
    const fetchMock = mockFetch(
      jsonResponse(200, { handle: 'nobody', available: true }),
      jsonResponse(200, { handle: 'bob', available: false }),
    )

    await expect(lookUpHandle('nobody')).resolves.toEqual({ state: 'unknown' })
    await expect(lookUpHandle(' BOB ')).resolves.toEqual({ state: 'found', handle: 'bob' })
    expect(calls(fetchMock).map((call) => call.url)).toEqual(['/api/handles/nobody', '/api/handles/bob'])
  })

  it('shows the server’s word on a malformed handle, and lets other failures through', async () => {
    mockFetch(
      jsonResponse(400, { code: 'invalid_input', message: 'Check.', fields: { handle: 'Not a handle.' } }),
      jsonResponse(503, { code: 'unavailable', message: 'Unavailable.' }),
    )

    await expect(lookUpHandle('bob')).resolves.toEqual({ state: 'invalid', message: 'Not a handle.' })
    await expect(lookUpHandle('bob')).rejects.toMatchObject({ status: 503 })
  })
})

describe('shareErrorMessage', () => {
  it('says plainly that a handle cannot receive, whatever the reason', () => {
    const refused = new ApiError(422, 'no_recipient', 'No one with this handle can receive shares.')
    expect(shareErrorMessage(refused, 'share')).toBe(NO_RECIPIENT_MESSAGE)
    expect(NO_RECIPIENT_MESSAGE).toMatch(/No one with this handle can receive shares/)
  })

  it('tells a thing that is gone from a share revoked already', () => {
    const gone = new ApiError(404, 'not_found', 'Nothing here.')
    expect(shareErrorMessage(gone, 'share')).toBe('This is no longer yours to share: it may have been deleted.')
    expect(shareErrorMessage(gone, 'revoke')).toBe('This share was revoked already.')
  })

  it('shows a field’s message, else the server’s, else a generic one', () => {
    const tooMany = new ApiError(400, 'invalid_input', 'Check.', { handle: 'You have 500 shares already.' })
    expect(shareErrorMessage(tooMany, 'share')).toBe('You have 500 shares already.')
    expect(shareErrorMessage(new ApiError(0, 'network_error', 'Could not reach DocuVault.'), 'list')).toBe(
      'Could not reach DocuVault.',
    )
    expect(shareErrorMessage(new TypeError('x'), 'list')).toBe('Something went wrong. Please try again.')
  })
})
