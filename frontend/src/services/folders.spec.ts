import { beforeEach, describe, expect, it } from 'vitest'
import { createFolder, deleteFolder, listFolders, moveFolder, renameFolder } from './folders'
import { moveDocument } from './documents'
import { signIn } from './session'
import { jsonResponse, mockFetch } from '../test-utils'

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'user' }
const FOLDER = { id: 'f-1', parent_id: null, name: 'Taxes', created_at: '2025-01-01T00:00:00Z' }

function sent(fetchMock: ReturnType<typeof mockFetch>, index = 0) {
  const [url, init] = fetchMock.mock.calls[index]!
  return {
    url: String(url),
    method: init?.method,
    body: typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
    authorization: (init?.headers as Record<string, string>).Authorization,
  }
}

describe('folders API', () => {
  beforeEach(async () => {
    mockFetch(jsonResponse(200, TOKENS))
    await signIn('ada@example.test', 'pw')
  })

  it('lists the folders, unwrapped, with the token in a header', async () => {
    const fetchMock = mockFetch(jsonResponse(200, { items: [FOLDER] }))

    await expect(listFolders()).resolves.toEqual([FOLDER])
    expect(sent(fetchMock)).toMatchObject({ url: '/api/folders', method: 'GET', authorization: 'Bearer at-1' })
  })

  it('creates at the top or inside a parent', async () => {
    const fetchMock = mockFetch(jsonResponse(201, FOLDER), jsonResponse(201, { ...FOLDER, id: 'f-2', parent_id: 'f-1' }))

    await createFolder('Taxes', null)
    await createFolder('2025', 'f-1')

    expect(sent(fetchMock, 0)).toMatchObject({ url: '/api/folders', method: 'POST', body: { name: 'Taxes', parent_id: null } })
    expect(sent(fetchMock, 1).body).toEqual({ name: '2025', parent_id: 'f-1' })
  })

  it('renames, moves and deletes by id, encoded, with the chosen contents', async () => {
    const fetchMock = mockFetch(
      new Response(null, { status: 204 }),
      new Response(null, { status: 204 }),
      new Response(null, { status: 204 }),
      new Response(null, { status: 204 }),
    )

    await renameFolder('a/b', 'New')
    await moveFolder('f-1', null)
    await deleteFolder('f-1')
    await deleteFolder('f-2', 'move_up')

    expect(sent(fetchMock, 0)).toMatchObject({ url: '/api/folders/a%2Fb', method: 'PATCH', body: { name: 'New' } })
    expect(sent(fetchMock, 1)).toMatchObject({ url: '/api/folders/f-1/move', method: 'POST', body: { folder_id: null } })
    expect(sent(fetchMock, 2)).toMatchObject({ url: '/api/folders/f-1?contents=refuse', method: 'DELETE' })
    expect(sent(fetchMock, 3).url).toBe('/api/folders/f-2?contents=move_up')
  })

  it('reports a refused deletion with its code', async () => {
    mockFetch(jsonResponse(409, { code: 'folder_not_empty', message: 'This folder is not empty.' }))

    await expect(deleteFolder('f-1')).rejects.toMatchObject({ status: 409, code: 'folder_not_empty' })
  })

  it('files a document in a folder or at the top', async () => {
    const fetchMock = mockFetch(jsonResponse(200, { id: 'd-1', folder_id: 'f-1' }), jsonResponse(200, { id: 'd-1' }))

    await moveDocument('d-1', 'f-1')
    await moveDocument('d-1', null)

    expect(sent(fetchMock, 0)).toMatchObject({ url: '/api/documents/d-1/move', method: 'POST', body: { folder_id: 'f-1' } })
    expect(sent(fetchMock, 1).body).toEqual({ folder_id: null })
  })
})
