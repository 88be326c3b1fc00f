import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { reactive } from 'vue'
import type { SearchHit } from '../services/search'
import { jsonResponse } from '../test-utils'

const route = reactive<{ path: string; fullPath: string; query: Record<string, string> }>({
  path: '/search',
  fullPath: '/search',
  query: {},
})
const push = vi.fn(async (to: { query?: Record<string, string> }) => {
  route.query = to.query ?? {}
})
vi.mock('vue-router', async (importOriginal) => ({
  ...(await importOriginal<typeof import('vue-router')>()),
  useRoute: () => route,
  useRouter: () => ({ push }),
}))

const navigation = vi.hoisted(() => ({ assignLocation: vi.fn() }))
vi.mock('../utils/navigation', () => navigation)

const { default: SearchView } = await import('./SearchView.vue')

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'user' }

function hit(id: string, extra: Partial<SearchHit> = {}): SearchHit {
  return {
    id,
    name: `${id}.txt`,
    kind: 'text',
    status: 'confirmed',
    size: 1200,
    created_at: '2025-01-02T03:04:05Z',
    confirmed_at: '2025-01-02T03:04:05Z',
    sha256: null,
    duplicate: false,
    folder_id: null,
    topics: [],
    classification: null,
    classification_error: null,
    shared_by: null,
    snippet_html: null,
    ...extra,
  }
}

let pages: Array<{ items: SearchHit[]; next_offset: number | null }>
let searches: URLSearchParams[]
let wrapper: VueWrapper | undefined

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      const [path, query] = String(input).split('?')
      if (path === '/api/auth/refresh') return jsonResponse(200, TOKENS)
      if (path === '/api/topics') {
        return jsonResponse(200, {
          items: [{ id: 't1', name: 'Finance', system: true, documents: 1, created_at: '2025-01-01T00:00:00Z' }],
        })
      }
      if (path === '/api/folders') {
        return jsonResponse(200, {
          items: [{ id: 'f1', name: 'Projects', parent_id: null, created_at: '2025-01-01T00:00:00Z' }],
        })
      }
      if (path === '/api/search') {
        searches.push(new URLSearchParams(query))
        return jsonResponse(200, pages.shift() ?? { items: [], next_offset: null })
      }
      if (path === '/api/documents/a/content') return new Response('the text', { status: 200 })
      return jsonResponse(404, { code: 'not_found', message: 'Nothing here.' })
    }),
  )
}

async function mountView() {
  serve()
  wrapper = mount(SearchView, { attachTo: document.body })
  await flushPromises()
  return wrapper
}

describe('SearchView', () => {
  beforeEach(() => {
    route.query = {}
    push.mockClear()
    pages = []
    searches = []
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
  })

  it('explains the query syntax and offers the filters', async () => {
    const view = await mountView()

    expect(view.get('#search-hint').text()).toMatch(/quotes.*or.*minus/s)
    expect(view.get('#search-q').attributes('aria-describedby')).toBe('search-hint')
    expect(view.get('#search-topic').text()).toContain('Finance (system)')
    expect(view.get('#search-folder').text()).toContain('Projects')
    expect(searches).toHaveLength(0)
  })

  it('says what is missing instead of sending an empty query', async () => {
    const view = await mountView()
    await view.get('form').trigger('submit')
    await flushPromises()

    expect(view.get('[data-testid="query-error"]').text()).toBe('Type something to search for.')
    expect(push).not.toHaveBeenCalled()
    expect(searches).toHaveLength(0)
  })

  it('puts the search in the address, and searches what the address says', async () => {
    const view = await mountView()
    await view.get('#search-q').setValue('tax "2025 return"')
    await view.get('#search-kind').setValue('pdf')
    await view.get('#search-folder').setValue('f1')
    await view.get('#search-from').setValue('2025-01-01')
    pages = [{ items: [hit('a')], next_offset: null }]
    await view.get('form').trigger('submit')
    await flushPromises()

    expect(push).toHaveBeenCalledWith({
      path: '/search',
      query: { q: 'tax "2025 return"', kind: 'pdf', folder: 'f1', from: '2025-01-01' },
    })
    expect(Object.fromEntries(searches[0]!)).toMatchObject({ q: 'tax "2025 return"', kind: 'pdf', folder: 'f1' })
    expect(searches[0]!.get('from')).toBe(new Date(2025, 0, 1).toISOString())
    expect(view.get('[data-testid="search-status"]').text()).toBe('1 document matches “tax "2025 return"”.')
  })

  it('shows the snippet as the server’s HTML, and everything else as text', async () => {
    route.query = { q: 'tax' }
    pages = [
      {
        items: [
          hit('a', {
            name: '<img src=x onerror="window.__ran = true">.txt',
            snippet_html: '&lt;b&gt;not bold&lt;/b&gt; <mark>tax</mark> return',
            shared_by: 'ann',
            topics: ['t1'],
          }),
        ],
        next_offset: null,
      },
    ]
    const view = await mountView()

    const result = view.get('[data-testid="search-result"]')
    const snippet = result.get('[data-testid="snippet"]')
    expect(snippet.findAll('mark').map((mark) => mark.text())).toEqual(['tax'])
    expect(snippet.find('b').exists()).toBe(false)
    expect(snippet.text()).toBe('<b>not bold</b> tax return')
    expect(result.find('img').exists()).toBe(false)
    expect(result.get('.result-title').text()).toBe('<img src=x onerror="window.__ran = true">.txt')
    expect(result.get('[data-testid="shared-by"]').text()).toBe('shared by ann')
    expect(result.get('[data-testid="topic-chip"]').text()).toBe('Finance (system topic)')
    expect((window as unknown as { __ran?: boolean }).__ran).toBeUndefined()
  })

  it('pages with "More results" from the next offset', async () => {
    route.query = { q: 'tax' }
    pages = [
      { items: [hit('a'), hit('b')], next_offset: 20 },
      { items: [hit('c')], next_offset: null },
    ]
    const view = await mountView()
    expect(view.get('[data-testid="search-status"]').text()).toBe('2 documents match “tax” so far.')

    const more = view.findAll('button').find((button) => button.text() === 'More results')!
    await more.trigger('click')
    await flushPromises()

    expect(searches[1]!.get('offset')).toBe('20')
    expect(view.findAll('[data-testid="search-result"]').map((item) => item.attributes('data-document'))).toEqual([
      'a',
      'b',
      'c',
    ])
    expect(view.findAll('button').some((button) => button.text() === 'More results')).toBe(false)
    expect(document.activeElement?.id).toBe('result-c')
  })

  it('says so when nothing matches', async () => {
    route.query = { q: 'nothing' }
    const view = await mountView()
    expect(view.get('[data-testid="search-status"]').text()).toBe('No documents match “nothing”.')
    expect(view.get('[data-testid="no-results"]').text()).toContain('remove a filter')
  })

  it('previews a result when it is clicked', async () => {
    route.query = { q: 'tax' }
    pages = [{ items: [hit('a')], next_offset: null }]
    const view = await mountView()

    await view.get('.result-title').trigger('click')
    await flushPromises()

    expect(view.get('[data-testid="preview"] pre').text()).toBe('the text')
  })

  it('shows the server’s word on a query it refused next to the box', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL) =>
        String(input).startsWith('/api/search')
          ? jsonResponse(400, { code: 'invalid_input', message: 'Check.', fields: { q: 'Use at most 200 characters.' } })
          : jsonResponse(200, { items: [], ...TOKENS }),
      ),
    )
    route.query = { q: 'tax' }
    wrapper = mount(SearchView, { attachTo: document.body })
    await flushPromises()

    expect(wrapper.get('[data-testid="query-error"]').text()).toBe('Use at most 200 characters.')
  })
})
