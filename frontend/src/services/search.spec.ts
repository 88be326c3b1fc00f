import { beforeEach, describe, expect, it } from 'vitest'
import {
  emptyFilters,
  filtersFromRoute,
  filtersToRoute,
  searchDocuments,
  searchParams,
  validateDates,
  validateQuery,
  type SearchFilters,
} from './search'
import { signIn } from './session'
import { jsonResponse, mockFetch } from '../test-utils'

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'user' }

function filters(extra: Partial<SearchFilters>): SearchFilters {
  return { ...emptyFilters(), ...extra }
}

describe('searchParams', () => {
  it('sends the words trimmed and leaves empty filters out', () => {
    expect(searchParams(filters({ q: '  tax "2025 return" -draft ' })).toString()).toBe(
      'q=tax+%222025+return%22+-draft&limit=20',
    )
  })

  it('sends every filter, and the offset of a later page', () => {
    const params = searchParams(filters({ q: 'tax', kind: 'pdf', topic: 't-1', folder: 'f-1' }), 40, 10)
    expect(Object.fromEntries(params)).toEqual({
      q: 'tax',
      kind: 'pdf',
      topic: 't-1',
      folder: 'f-1',
      limit: '10',
      offset: '40',
    })
  })

  it('turns local days into instants: from the start of the first to the start of the day after the last', () => {
    const params = searchParams(filters({ q: 'tax', from: '2025-03-01', to: '2025-03-31' }))
    expect(params.get('from')).toBe(new Date(2025, 2, 1).toISOString())
    expect(params.get('to')).toBe(new Date(2025, 3, 1).toISOString())
  })

  it('leaves out a date that is not one', () => {
    const params = searchParams(filters({ q: 'tax', from: 'yesterday', to: '2025-13-45x' }))
    expect(params.has('from')).toBe(false)
    expect(params.has('to')).toBe(false)
  })
})

describe('checks before searching', () => {
  it('wants some words, at most 200 characters', () => {
    expect(validateQuery('   ')).toBe('Type something to search for.')
    expect(validateQuery('x'.repeat(201))).toBe('Use at most 200 characters.')
    expect(validateQuery(' tax ')).toBeUndefined()
  })

  it('wants the first day on or before the last', () => {
    expect(validateDates({ from: '2025-03-02', to: '2025-03-01' })).toBe('The first day must not be after the last.')
    expect(validateDates({ from: '2025-03-01', to: '2025-03-01' })).toBeUndefined()
    expect(validateDates({ from: '', to: '2025-03-01' })).toBeUndefined()
  })
})

describe('the search in the address', () => {
  it('goes there and back, empty filters left out', () => {
    const search = filters({ q: ' tax ', kind: 'markdown', folder: 'f-1', from: '2025-01-01' })
    const query = filtersToRoute(search)

    expect(query).toEqual({ q: 'tax', kind: 'markdown', folder: 'f-1', from: '2025-01-01' })
    expect(filtersFromRoute(query)).toEqual({ ...search, q: 'tax' })
  })

  it('ignores what is malformed, and takes the first of repeated values', () => {
    expect(filtersFromRoute({ q: ['a', 'b'], kind: 'exe', from: 'soon', to: null, topic: 7 })).toEqual(
      filters({ q: 'a' }),
    )
  })
})

describe('searchDocuments', () => {
  beforeEach(async () => {
    mockFetch(jsonResponse(200, TOKENS))
    await signIn('ada@example.test', 'pw')
  })

  it('GETs a page of results with the token in a header', async () => {
    const page = { items: [], next_offset: null }
    const fetchMock = mockFetch(jsonResponse(200, page))

    await expect(searchDocuments(filters({ q: 'tax' }), 20)).resolves.toEqual(page)

    const [url, init] = fetchMock.mock.calls[0]!
    expect(url).toBe('/api/search?q=tax&limit=20&offset=20')
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer at-1')
  })
})
