import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../services/api'
import type { DocumentPage, ListQuery, VaultDocument } from '../services/documents'

const api = vi.hoisted(() => ({ listDocuments: vi.fn() }))
vi.mock('../services/documents', () => api)

const { useDocumentList } = await import('./useDocumentList')

function doc(id: string): VaultDocument {
  return {
    id,
    name: `${id}.pdf`,
    kind: 'pdf',
    status: 'confirmed',
    size: 1,
    created_at: '2025-01-02T03:04:05Z',
    confirmed_at: '2025-01-02T03:04:05Z',
    sha256: null,
    duplicate: false,
    folder_id: null,
    topics: [],
    classification: null,
    classification_error: null,
  }
}

function page(ids: string[], next: string | null, total = 5): DocumentPage {
  return { items: ids.map(doc), next_cursor: next, total }
}

function lastQuery(): ListQuery {
  return api.listDocuments.mock.calls.at(-1)![0] as ListQuery
}

describe('useDocumentList', () => {
  beforeEach(() => {
    api.listDocuments.mockReset()
  })

  it('starts newest first, on the first page, with no filters', async () => {
    api.listDocuments.mockResolvedValueOnce(page(['a', 'b'], 'c2', 2))
    const list = useDocumentList(2)

    await list.load()

    expect(lastQuery()).toEqual({
      sort: 'date',
      order: 'desc',
      kind: null,
      status: null,
      folder: null,
      topic: null,
      limit: 2,
      cursor: null,
    })
    expect(list.items.value.map((item) => item.id)).toEqual(['a', 'b'])
    expect(list.total.value).toBe(2)
    expect(list.loaded.value).toBe(true)
  })

  it('flips the order on the same column and starts a new column in its natural order', async () => {
    api.listDocuments.mockResolvedValue(page([], null, 0))
    const list = useDocumentList()

    await list.sortBy('name')
    expect(lastQuery()).toMatchObject({ sort: 'name', order: 'asc', cursor: null })
    expect(list.ariaSort('name')).toBe('ascending')
    expect(list.ariaSort('date')).toBe('none')

    await list.sortBy('name')
    expect(lastQuery()).toMatchObject({ sort: 'name', order: 'desc' })
    expect(list.ariaSort('name')).toBe('descending')

    await list.sortBy('size')
    expect(lastQuery()).toMatchObject({ sort: 'size', order: 'desc' })

    await list.sortBy('date')
    expect(lastQuery()).toMatchObject({ sort: 'date', order: 'desc' })
  })

  it('keeps a stack of cursors to page forward and back', async () => {
    api.listDocuments
      .mockResolvedValueOnce(page(['a', 'b'], 'c2'))
      .mockResolvedValueOnce(page(['c', 'd'], 'c3'))
      .mockResolvedValueOnce(page(['e'], null))
      .mockResolvedValueOnce(page(['c', 'd'], 'c3'))
      .mockResolvedValueOnce(page(['a', 'b'], 'c2'))
    const list = useDocumentList(2)

    await list.load()
    expect(list.hasPrevious.value).toBe(false)
    await list.next()
    expect(lastQuery().cursor).toBe('c2')
    await list.next()
    expect(lastQuery().cursor).toBe('c3')
    expect(list.pageNumber.value).toBe(3)
    expect(list.hasNext.value).toBe(false)

    await list.previous()
    expect(lastQuery().cursor).toBe('c2')
    await list.previous()
    expect(lastQuery().cursor).toBeNull()
    expect(list.pageNumber.value).toBe(1)
    expect(list.items.value.map((item) => item.id)).toEqual(['a', 'b'])
  })

  it('goes back to the first page when a filter or the sort changes', async () => {
    api.listDocuments.mockResolvedValueOnce(page(['a'], 'c2')).mockResolvedValueOnce(page(['b'], 'c3'))
    api.listDocuments.mockResolvedValue(page(['x'], null, 1))
    const list = useDocumentList(1)
    await list.load()
    await list.next()

    list.kind.value = 'markdown'
    list.status.value = 'pending'
    await list.firstPage()

    expect(lastQuery()).toMatchObject({ kind: 'markdown', status: 'pending', cursor: null })
    expect(list.pageNumber.value).toBe(1)
    expect(list.filtered.value).toBe(true)
  })

  it('lists one folder, the top or one topic; a topic narrows the list, a folder does not', async () => {
    api.listDocuments.mockResolvedValue(page([], null, 0))
    const list = useDocumentList()

    list.folder.value = 'f-1'
    await list.firstPage()
    expect(lastQuery()).toMatchObject({ folder: 'f-1', topic: null })
    expect(list.filtered.value).toBe(false)

    list.folder.value = 'top'
    list.topic.value = 't-1'
    await list.firstPage()
    expect(lastQuery()).toMatchObject({ folder: 'top', topic: 't-1' })
    expect(list.filtered.value).toBe(true)
  })

  it('stays on its page when the next one cannot be loaded', async () => {
    api.listDocuments
      .mockResolvedValueOnce(page(['a'], 'c2'))
      .mockRejectedValueOnce(new ApiError(500, 'internal', 'Something went wrong.'))
    const list = useDocumentList(1)
    await list.load()

    await expect(list.next()).rejects.toMatchObject({ status: 500 })

    expect(list.pageNumber.value).toBe(1)
    expect(list.items.value.map((item) => item.id)).toEqual(['a'])
  })

  it('ignores an answer that arrives after a newer one', async () => {
    let answerOld: (value: DocumentPage) => void = () => {}
    api.listDocuments
      .mockReturnValueOnce(new Promise<DocumentPage>((resolve) => (answerOld = resolve)))
      .mockResolvedValueOnce(page(['new'], null, 1))
    const list = useDocumentList()

    const old = list.load()
    await list.sortBy('name')
    answerOld(page(['old'], null, 1))
    await old

    expect(list.items.value.map((item) => item.id)).toEqual(['new'])
    expect(list.loading.value).toBe(false)
  })

  it('steps back a page when a reload finds the page emptied', async () => {
    api.listDocuments
      .mockResolvedValueOnce(page(['a'], 'c2'))
      .mockResolvedValueOnce(page(['b'], null))
      .mockResolvedValueOnce(page([], null))
      .mockResolvedValueOnce(page(['a'], null))
    const list = useDocumentList(1)
    await list.load()
    await list.next()

    await list.reload()

    expect(list.pageNumber.value).toBe(1)
    expect(list.items.value.map((item) => item.id)).toEqual(['a'])
  })
})
