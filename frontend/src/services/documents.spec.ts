import { beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createDocument,
  deleteDocument,
  documentContent,
  listDocuments,
  listQuery,
  renameDocument,
  uploadBytes,
  type UploadTarget,
} from './documents'
import { signIn } from './session'
import { jsonResponse, mockFetch, mockXhr } from '../test-utils'

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'user' }

const DOC = {
  id: 'd-1',
  name: 'Tax.pdf',
  kind: 'pdf',
  status: 'confirmed',
  size: 1234,
  created_at: '2025-01-02T03:04:05Z',
  confirmed_at: '2025-01-02T03:04:06Z',
  sha256: null,
  duplicate: false,
  folder_id: null,
  topics: [],
}

function header(init: RequestInit | undefined, name: string): string | undefined {
  return (init?.headers as Record<string, string> | undefined)?.[name]
}

const TARGET: UploadTarget = {
  url: '/api/uploads/k?expires=1&signature=s',
  method: 'PUT',
  headers: { 'Content-Type': 'application/pdf' },
  expires_at: '2025-01-02T04:00:00Z',
}

describe('documents API', () => {
  beforeEach(async () => {
    mockFetch(jsonResponse(200, TOKENS))
    await signIn('ada@example.test', 'pw')
  })

  it('builds the list query, leaving out empty filters', () => {
    expect(listQuery({ sort: 'date', order: 'desc' })).toBe('sort=date&order=desc')
    expect(
      listQuery({ sort: 'name', order: 'asc', kind: 'pdf', status: 'pending', limit: 25, cursor: 'c/2+=' }),
    ).toBe('sort=name&order=asc&kind=pdf&status=pending&limit=25&cursor=c%2F2%2B%3D')
    expect(listQuery({ sort: 'size', order: 'desc', kind: null, status: null, cursor: null })).toBe(
      'sort=size&order=desc',
    )
  })

  it('lists with the access token in a header', async () => {
    const fetchMock = mockFetch(jsonResponse(200, { items: [DOC], next_cursor: null, total: 1 }))

    await expect(listDocuments({ sort: 'date', order: 'desc' })).resolves.toMatchObject({ total: 1 })

    const [url, init] = fetchMock.mock.calls[0]!
    expect(url).toBe('/api/documents?sort=date&order=desc')
    expect(header(init, 'Authorization')).toBe('Bearer at-1')
  })

  it('announces an upload with its name, size and type', async () => {
    const fetchMock = mockFetch(jsonResponse(201, { document: DOC, upload: TARGET }))

    await createDocument({ name: 'Tax.pdf', size: 1234, content_type: 'application/pdf' })

    const [url, init] = fetchMock.mock.calls[0]!
    expect(url).toBe('/api/documents')
    expect(init?.method).toBe('POST')
    expect(JSON.parse(init?.body as string)).toEqual({ name: 'Tax.pdf', size: 1234, content_type: 'application/pdf' })
  })

  it('renames with PATCH and deletes with DELETE, the id encoded', async () => {
    const fetchMock = mockFetch(jsonResponse(200, { ...DOC, name: 'New.pdf' }), new Response(null, { status: 204 }))

    await expect(renameDocument('a/b', 'New.pdf')).resolves.toMatchObject({ name: 'New.pdf' })
    await deleteDocument('d-1')

    expect(fetchMock.mock.calls[0]![0]).toBe('/api/documents/a%2Fb')
    expect(fetchMock.mock.calls[0]![1]?.method).toBe('PATCH')
    expect(JSON.parse(fetchMock.mock.calls[0]![1]?.body as string)).toEqual({ name: 'New.pdf' })
    expect(fetchMock.mock.calls[1]![0]).toBe('/api/documents/d-1')
    expect(fetchMock.mock.calls[1]![1]?.method).toBe('DELETE')
  })

  it('fetches content as bytes with the token in a header, sending back the consistency token', async () => {
    const fetchMock = mockFetch(
      new Response(null, { status: 204, headers: { 'X-Consistency-Token': '9.1' } }),
      new Response('hello', { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }),
    )
    await deleteDocument('d-0')

    const bytes = await documentContent('d-1')

    expect(new TextDecoder().decode(bytes.data)).toBe('hello')
    expect(bytes.contentType).toBe('text/plain; charset=utf-8')
    const [url, init] = fetchMock.mock.calls[1]!
    expect(url).toBe('/api/documents/d-1/content')
    expect(String(url)).not.toContain('at-1')
    expect(header(init, 'Authorization')).toBe('Bearer at-1')
    expect(header(init, 'X-Consistency-Token')).toBe('9.1')
  })

  it('reports a refused content fetch as an ApiError', async () => {
    mockFetch(jsonResponse(404, { code: 'not_found', message: 'Not found.' }))

    await expect(documentContent('d-1')).rejects.toMatchObject({ status: 404, code: 'not_found' })
  })
})

describe('uploadBytes', () => {
  it('PUTs the bytes with exactly the given headers, never the Authorization header', async () => {
    const xhr = mockXhr()
    const file = new File(['%PDF-1.7 hello'], 'Tax.pdf', { type: 'application/pdf' })
    const progress = vi.fn()

    const done = uploadBytes(TARGET, file, progress)
    const sent = xhr.sent[0]!
    sent.progress(5, 14)
    sent.respond(200)
    await done

    expect(sent.method).toBe('PUT')
    expect(sent.url).toBe(TARGET.url)
    expect(sent.headers).toEqual({ 'Content-Type': 'application/pdf' })
    expect(sent.body).toBeInstanceOf(Blob)
    expect((sent.body as Blob).size).toBe(file.size)
    // A type-less copy, so the browser adds no Content-Type of its own.
    expect((sent.body as Blob).type).toBe('')
    expect(progress).toHaveBeenNthCalledWith(1, { loaded: 5, total: 14 })
    expect(progress).toHaveBeenLastCalledWith({ loaded: 14, total: 14 })
  })

  it('uses the server message of a JSON refusal', async () => {
    const xhr = mockXhr()
    const done = uploadBytes(TARGET, new File(['x'], 'a.txt'))
    xhr.sent[0]!.respond(403, JSON.stringify({ code: 'forbidden', message: 'This upload link has expired.' }))

    await expect(done).rejects.toMatchObject({ status: 403, code: 'forbidden', message: 'This upload link has expired.' })
  })

  it('explains a refusal from an S3 server, which answers in XML', async () => {
    const xhr = mockXhr()
    const done = uploadBytes(TARGET, new File(['x'], 'a.txt'))
    xhr.sent[0]!.respond(403, '<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code></Error>')

    await expect(done).rejects.toMatchObject({ status: 403, code: 'upload_refused' })
    await expect(done).rejects.toThrow(/refused or has expired/)
  })

  it('reports a broken connection', async () => {
    const xhr = mockXhr()
    const done = uploadBytes(TARGET, new File(['x'], 'a.txt'))
    xhr.sent[0]!.fail()

    await expect(done).rejects.toMatchObject({ status: 0, code: 'network_error' })
  })
})
