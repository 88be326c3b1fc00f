// Full-text search (GET /api/search, ORG-4): over the names, topics and text of this
// person's documents and of those shared with them. The server escapes each snippet and
// marks the matches with <mark>, so `snippet_html` is the one thing the SPA shows as HTML.

import type { DocumentKind, VaultDocument } from './documents'
import { authorized } from './session'

export interface SearchHit extends VaultDocument {
  /** The owner's handle when it was shared with this person; null for their own. */
  shared_by: string | null
  /** Words around the matches: escaped text, each match in <mark>. */
  snippet_html: string | null
}

export interface SearchPage {
  /** Best first. */
  items: SearchHit[]
  /** The offset of the next page; null on the last. */
  next_offset: number | null
}

/** What people search for. Empty strings mean "any". */
export interface SearchFilters {
  /** Words, "a phrase", `or`, `-word`. */
  q: string
  kind: DocumentKind | ''
  /** A topic's id. */
  topic: string
  /** A folder's id: documents in it or below it. */
  folder: string
  /** First day, `YYYY-MM-DD` (a date input's value), included. */
  from: string
  /** Last day, `YYYY-MM-DD`, included. */
  to: string
}

export const MAX_QUERY_CHARS = 200
export const SEARCH_PAGE_SIZE = 20

const KINDS: readonly string[] = ['pdf', 'docx', 'text', 'markdown']
const DAY = /^\d{4}-\d{2}-\d{2}$/

export function emptyFilters(): SearchFilters {
  return { q: '', kind: '', topic: '', folder: '', from: '', to: '' }
}

/** Why a query cannot be sent, or undefined when it can. */
export function validateQuery(q: string): string | undefined {
  const text = q.trim()
  if (text === '') return 'Type something to search for.'
  if (Array.from(text).length > MAX_QUERY_CHARS) return `Use at most ${MAX_QUERY_CHARS} characters.`
  return undefined
}

/** The start of a local day, as the instant the API takes; null for a day that is not one. */
function startOfDay(day: string, plusDays = 0): string | null {
  if (!DAY.test(day)) return null
  const [year, month, date] = day.split('-').map(Number) as [number, number, number]
  const start = new Date(year, month - 1, date + plusDays)
  return Number.isNaN(start.getTime()) ? null : start.toISOString()
}

/** The dates' problem, or undefined. */
export function validateDates(filters: Pick<SearchFilters, 'from' | 'to'>): string | undefined {
  if (filters.from && filters.to && filters.from > filters.to) return 'The first day must not be after the last.'
  return undefined
}

/**
 * The query string of one page of results. Empty filters are left out; dates are local
 * days, so `from` is the start of its day and `to` (exclusive on the server) the start of
 * the day after the last one.
 */
export function searchParams(filters: SearchFilters, offset = 0, limit = SEARCH_PAGE_SIZE): URLSearchParams {
  const params = new URLSearchParams({ q: filters.q.trim() })
  if (filters.kind) params.set('kind', filters.kind)
  if (filters.topic) params.set('topic', filters.topic)
  if (filters.folder) params.set('folder', filters.folder)
  const from = filters.from ? startOfDay(filters.from) : null
  const to = filters.to ? startOfDay(filters.to, 1) : null
  if (from) params.set('from', from)
  if (to) params.set('to', to)
  params.set('limit', String(limit))
  if (offset > 0) params.set('offset', String(offset))
  return params
}

export function searchDocuments(filters: SearchFilters, offset = 0, limit = SEARCH_PAGE_SIZE): Promise<SearchPage> {
  return authorized<SearchPage>('GET', `/api/search?${searchParams(filters, offset, limit)}`)
}

/** The filters in the page's address (`/search?q=…&kind=…`), so a search can be reloaded or shared. */
export function filtersToRoute(filters: SearchFilters): Record<string, string> {
  const query: Record<string, string> = {}
  for (const key of ['q', 'kind', 'topic', 'folder', 'from', 'to'] as const) {
    const value = key === 'q' ? filters.q.trim() : filters[key]
    if (value) query[key] = value
  }
  return query
}

/** The filters an address names; anything malformed is left out. */
export function filtersFromRoute(query: Record<string, unknown>): SearchFilters {
  const text = (key: string): string => {
    const value = query[key]
    const first = Array.isArray(value) ? value[0] : value
    return typeof first === 'string' ? first : ''
  }
  const kind = text('kind')
  return {
    q: text('q'),
    kind: KINDS.includes(kind) ? (kind as DocumentKind) : '',
    topic: text('topic'),
    folder: text('folder'),
    from: DAY.test(text('from')) ? text('from') : '',
    to: DAY.test(text('to')) ? text('to') : '',
  }
}
