import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../services/api'
import type { SearchFilters, SearchHit, SearchPage } from '../services/search'

const api = vi.hoisted(() => ({ searchDocuments: vi.fn() }))
vi.mock('../services/search', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../services/search')>()),
  searchDocuments: api.searchDocuments,
}))

const { useSearch } = await import('./useSearch')

function hit(id: string): SearchHit {
  return {
    id,
    name: `${id}.txt`,
    kind: 'text',
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
    shared_by: null,
    snippet_html: `<mark>${id}</mark>`,
  }
}

function page(ids: string[], next: number | null): SearchPage {
  return { items: ids.map(hit), next_offset: next }
}

function call(index: number): { filters: SearchFilters; offset: number; limit: number } {
  const [filters, offset, limit] = api.searchDocuments.mock.calls[index]! as [SearchFilters, number, number]
  return { filters, offset, limit }
}

describe('useSearch', () => {
  beforeEach(() => {
    api.searchDocuments.mockReset()
  })

  it('does not send an empty query or dates the wrong way round, and says why', async () => {
    const search = useSearch()

    await expect(search.run()).resolves.toBe(false)
    expect(search.queryError.value).toBe('Type something to search for.')

    search.filters.q = 'tax'
    search.filters.from = '2025-02-01'
    search.filters.to = '2025-01-01'
    await expect(search.run()).resolves.toBe(false)
    expect(search.queryError.value).toBe('')
    expect(search.dateError.value).toBe('The first day must not be after the last.')
    expect(api.searchDocuments).not.toHaveBeenCalled()
  })

  it('shows the first page, then adds the next ones with the server’s offset', async () => {
    api.searchDocuments.mockResolvedValueOnce(page(['a', 'b'], 2)).mockResolvedValueOnce(page(['c'], null))
    const search = useSearch(2)
    search.filters.q = 'tax'
    search.filters.kind = 'pdf'

    await search.run()
    expect(call(0)).toEqual({ filters: expect.objectContaining({ q: 'tax', kind: 'pdf' }), offset: 0, limit: 2 })
    expect(search.items.value.map((item) => item.id)).toEqual(['a', 'b'])
    expect(search.nextOffset.value).toBe(2)
    expect(search.searched.value).toMatchObject({ q: 'tax', kind: 'pdf' })

    // Changing the form does not change what "more" continues.
    search.filters.kind = 'text'
    await search.more()
    expect(call(1)).toEqual({ filters: expect.objectContaining({ kind: 'pdf' }), offset: 2, limit: 2 })
    expect(search.items.value.map((item) => item.id)).toEqual(['a', 'b', 'c'])
    expect(search.nextOffset.value).toBeNull()

    await search.more()
    expect(api.searchDocuments).toHaveBeenCalledTimes(2)
  })

  it('drops an answer that arrives after a newer search', async () => {
    let answerOld: (value: SearchPage) => void = () => {}
    api.searchDocuments
      .mockReturnValueOnce(new Promise<SearchPage>((resolve) => (answerOld = resolve)))
      .mockResolvedValueOnce(page(['new'], null))
    const search = useSearch()
    search.filters.q = 'old'
    const old = search.run()
    search.filters.q = 'new'
    await search.run()
    answerOld(page(['old'], null))
    await old

    expect(search.items.value.map((item) => item.id)).toEqual(['new'])
    expect(search.searched.value?.q).toBe('new')
    expect(search.loading.value).toBe(false)
  })

  it('keeps the results shown when more cannot be loaded', async () => {
    api.searchDocuments
      .mockResolvedValueOnce(page(['a'], 1))
      .mockRejectedValueOnce(new ApiError(500, 'internal_error', 'Something went wrong on our side.'))
    const search = useSearch(1)
    search.filters.q = 'tax'
    await search.run()

    await expect(search.more()).rejects.toMatchObject({ status: 500 })
    expect(search.items.value.map((item) => item.id)).toEqual(['a'])
    expect(search.nextOffset.value).toBe(1)
    expect(search.loadingMore.value).toBe(false)
  })

  it('starts afresh on reset', async () => {
    api.searchDocuments.mockResolvedValueOnce(page(['a'], 1))
    const search = useSearch()
    search.filters.q = 'tax'
    await search.run()

    search.reset()
    expect(search.filters.q).toBe('')
    expect(search.items.value).toEqual([])
    expect(search.searched.value).toBeNull()
  })
})
