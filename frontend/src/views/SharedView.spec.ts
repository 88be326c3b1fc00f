import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import type { SharedDocument } from '../services/shares'
import { live } from '../services/live'
import { FakeEventStream, jsonResponse } from '../test-utils'

const push = vi.fn()
vi.mock('vue-router', async (importOriginal) => ({
  ...(await importOriginal<typeof import('vue-router')>()),
  useRouter: () => ({ push }),
}))

const navigation = vi.hoisted(() => ({ assignLocation: vi.fn() }))
vi.mock('../utils/navigation', () => navigation)

const { default: SharedView } = await import('./SharedView.vue')

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'user' }

function shared(id: string, extra: Partial<SharedDocument> = {}): SharedDocument {
  return {
    id,
    name: `${id}.txt`,
    kind: 'text',
    status: 'confirmed',
    size: 2048,
    created_at: '2025-01-02T03:04:05Z',
    confirmed_at: '2025-01-02T03:04:05Z',
    sha256: null,
    duplicate: false,
    folder_id: null,
    topics: [],
    classification: null,
    classification_error: null,
    shared_by: 'ann',
    via_folder: null,
    ...extra,
  }
}

let items: SharedDocument[]
let calls: Array<{ method: string; url: string }>
let streams: FakeEventStream[]
let wrapper: VueWrapper | undefined

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input)
      const method = init?.method ?? 'GET'
      calls.push({ method, url })
      if (url === '/api/auth/refresh') return jsonResponse(200, TOKENS)
      if (url === '/api/events') {
        streams.push(new FakeEventStream(init?.signal))
        return streams.at(-1)!.response
      }
      if (url === '/api/shared') return jsonResponse(200, { items })
      if (url === '/api/documents/a/content') return new Response('shared text', { status: 200 })
      if (url === '/api/documents/a/download-link') {
        return jsonResponse(200, { url: '/api/downloads/a?token=t', expires_at: '2025-01-01T00:01:00Z' })
      }
      return jsonResponse(404, { code: 'not_found', message: 'Nothing here.' })
    }),
  )
}

async function mountView() {
  serve()
  wrapper = mount(SharedView, { attachTo: document.body })
  await flushPromises()
  return wrapper
}

function buttonNamed(view: VueWrapper, name: string) {
  const found = view.findAll('button').find((button) => (button.attributes('aria-label') ?? button.text().trim()) === name)
  if (!found) throw new Error(`no button named "${name}"`)
  return found
}

describe('SharedView', () => {
  beforeEach(() => {
    items = []
    calls = []
    streams = []
    push.mockReset()
    navigation.assignLocation.mockReset()
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
    live.stop()
  })

  it('follows shares given and taken back while it is open, without a click', async () => {
    items = [shared('a')]
    const view = await mountView()
    live.start()
    await flushPromises()
    const stream = streams[0]!
    stream.send('event: ready\ndata: {}\n\n')
    const reads = () => calls.filter((call) => call.url === '/api/shared').length
    expect(reads()).toBe(1)

    items = [shared('a'), shared('b', { name: 'Plan.txt' })]
    stream.event('ShareGranted', { type: 'ShareGranted', share_id: 's2', document_id: 'b', token: '5.1' })
    await flushPromises()
    expect(reads()).toBe(2)
    expect(view.findAll('[data-testid="shared-row"]')).toHaveLength(2)
    expect(view.get('[data-testid="status"]').text()).toBe('Something new was shared with you.')

    items = [shared('b', { name: 'Plan.txt' })]
    stream.event('ShareRevoked', { type: 'ShareRevoked', share_id: 's1', document_id: 'a', token: '5.2' })
    await flushPromises()
    expect(reads()).toBe(3)
    expect(view.findAll('[data-testid="shared-name"]').map((name) => name.text())).toEqual(['Plan.txt'])
    expect(view.get('[data-testid="status"]').text()).toBe('A share with you was taken back.')

    // A document's own classification is not this page's business; a resync is.
    const extracted = { type: 'TextExtracted', document_id: 'b', classification: 'classifying', token: '5.3' }
    stream.event('TextExtracted', extracted)
    await flushPromises()
    expect(reads()).toBe(3)
    stream.send('event: resync\ndata: {}\n\n')
    await flushPromises()
    expect(reads()).toBe(4)
  })

  it('says clearly when nothing is shared', async () => {
    const view = await mountView()
    expect(view.get('[data-testid="empty"]').text()).toContain('Nothing is shared with you yet.')
    expect(view.find('table').exists()).toBe(false)
  })

  it('lists what is shared: who shared it and through what; to preview and download only', async () => {
    items = [shared('a'), shared('b', { name: 'Plan.pdf', kind: 'pdf', shared_by: 'bob', via_folder: 'Projects' })]
    const view = await mountView()

    const rows = view.findAll('[data-testid="shared-row"]')
    expect(rows.map((row) => row.get('[data-testid="shared-name"]').text())).toEqual(['a.txt', 'Plan.pdf'])
    expect(rows[0]!.text()).toContain('This document')
    expect(rows[1]!.get('[data-testid="shared-by"]').text()).toBe('bob')
    expect(rows[1]!.text()).toContain('Folder ‘Projects’')
    expect(rows[1]!.text()).toContain('2.0 kB')
    expect(view.get('[data-testid="shared-total"]').text()).toBe('2 documents')
    const names = view.findAll('button').map((button) => button.attributes('aria-label') ?? button.text())
    expect(names.filter((name) => /Rename|Delete|Move|Topics|Share/.test(name))).toEqual([])
    expect(view.findAll('select')).toHaveLength(0)
  })

  it('previews and downloads', async () => {
    items = [shared('a')]
    const view = await mountView()

    await buttonNamed(view, 'Preview a.txt').trigger('click')
    await flushPromises()
    expect(view.get('[data-testid="preview"] pre').text()).toBe('shared text')

    await buttonNamed(view, 'Download a.txt').trigger('click')
    await flushPromises()
    expect(navigation.assignLocation).toHaveBeenCalledWith('/api/downloads/a?token=t')
  })

  it('reloads on "Refresh", and a revoked share takes its preview with it', async () => {
    items = [shared('a')]
    const view = await mountView()
    await buttonNamed(view, 'Preview a.txt').trigger('click')
    await flushPromises()

    items = []
    await buttonNamed(view, 'Refresh').trigger('click')
    await flushPromises()

    expect(calls.filter((call) => call.url === '/api/shared')).toHaveLength(2)
    expect(view.find('[data-testid="preview"]').exists()).toBe(false)
    expect(view.find('[data-testid="empty"]').exists()).toBe(true)
    expect(view.get('[data-testid="status"]').text()).toBe('Up to date.')
  })

  it('says so when a download is refused because the share is gone', async () => {
    items = [shared('z')]
    const view = await mountView()
    items = []

    await buttonNamed(view, 'Download z.txt').trigger('click')
    await flushPromises()

    expect(view.get('[data-testid="error"]').text()).toBe('z.txt is no longer shared with you.')
    expect(navigation.assignLocation).not.toHaveBeenCalled()
  })

  it('sends people whose session ended to sign in, and back here after', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => jsonResponse(401, { code: 'unauthorized', message: 'Sign in to continue.' })),
    )
    wrapper = mount(SharedView, { attachTo: document.body })
    await flushPromises()
    expect(push).toHaveBeenCalledWith({ path: '/login', query: { next: '/shared' } })
  })
})
