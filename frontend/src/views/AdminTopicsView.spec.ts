import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import type { Topic } from '../services/topics'
import { jsonResponse } from '../test-utils'

const { default: AdminTopicsView } = await import('./AdminTopicsView.vue')

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'admin' }

let topics: Topic[]
let calls: Array<{ method: string; url: string; body: unknown }>
let wrapper: VueWrapper | undefined

function topic(id: string, name: string): Topic {
  return { id, name, system: true, documents: 0, created_at: '2025-01-01T00:00:00Z' }
}

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input)
      const method = init?.method ?? 'GET'
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { name?: string }) : undefined
      calls.push({ method, url, body })
      if (url === '/api/auth/refresh') return jsonResponse(200, TOKENS)
      if (url === '/api/admin/topics' && method === 'GET') return jsonResponse(200, { items: topics })
      if (url === '/api/admin/topics' && method === 'POST') {
        if (topics.some((item) => item.name.toLowerCase() === body!.name!.toLowerCase())) {
          return jsonResponse(409, { code: 'topic_name_taken', message: 'There is a topic with this name already.' })
        }
        const created = topic(`s${topics.length + 1}`, body!.name!)
        topics.push(created)
        return jsonResponse(201, created)
      }
      const found = /^\/api\/admin\/topics\/(.+)$/.exec(url)
      const target = topics.find((item) => item.id === found?.[1])
      if (target && method === 'PATCH') {
        target.name = body!.name!
        return new Response(null, { status: 204 })
      }
      if (target && method === 'DELETE') {
        topics = topics.filter((item) => item !== target)
        return new Response(null, { status: 204 })
      }
      return jsonResponse(404, { code: 'not_found', message: 'Nothing here.' })
    }),
  )
}

async function mountView() {
  serve()
  wrapper = mount(AdminTopicsView, { attachTo: document.body })
  await flushPromises()
  return wrapper
}

function buttonNamed(view: VueWrapper, name: string) {
  const found = view.findAll('button').find((button) => (button.attributes('aria-label') ?? button.text().trim()) === name)
  if (!found) throw new Error(`no button named "${name}"`)
  return found
}

function names(view: VueWrapper): string[] {
  return view.findAll('[data-testid="system-topic-row"]').map((row) => row.attributes('data-topic')!)
}

describe('AdminTopicsView', () => {
  beforeEach(() => {
    topics = []
    calls = []
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
  })

  it('says when there are none, and creates one', async () => {
    const view = await mountView()
    expect(view.get('[data-testid="empty"]').text()).toContain('No system topics yet.')

    await view.get('form.create').trigger('submit')
    expect(view.get('#system-topic-new-error').text()).toBe('Enter a name for the topic.')

    await view.get('#system-topic-new').setValue('  Finance ')
    await view.get('form.create').trigger('submit')
    await flushPromises()

    expect(calls.find((call) => call.method === 'POST' && call.url === '/api/admin/topics')?.body).toEqual({
      name: 'Finance',
    })
    expect(names(view)).toEqual(['Finance'])
    expect(view.get('[data-testid="status"]').text()).toBe('Created system topic Finance.')
    expect(view.get<HTMLInputElement>('#system-topic-new').element.value).toBe('')
  })

  it('shows a taken name next to the field', async () => {
    topics = [topic('s1', 'Finance')]
    const view = await mountView()

    await view.get('#system-topic-new').setValue('finance')
    await view.get('form.create').trigger('submit')
    await flushPromises()

    expect(view.get('#system-topic-new-error').text()).toBe('There is a topic with this name already.')
    expect(view.get('#system-topic-new').attributes('aria-invalid')).toBe('true')
  })

  it('renames in place', async () => {
    topics = [topic('s1', 'Finance')]
    const view = await mountView()

    await buttonNamed(view, 'Rename Finance').trigger('click')
    await flushPromises()
    expect(document.activeElement?.id).toBe('system-topic-name-s1')
    await view.get('#system-topic-name-s1').setValue('Money')
    await view.get('form.rename').trigger('submit')
    await flushPromises()

    expect(calls.find((call) => call.method === 'PATCH')).toMatchObject({
      url: '/api/admin/topics/s1',
      body: { name: 'Money' },
    })
    expect(names(view)).toEqual(['Money'])
    expect(view.get('[data-testid="status"]').text()).toBe('Renamed Finance to Money.')
  })

  it('deletes only after asking', async () => {
    topics = [topic('s1', 'Finance'), topic('s2', 'Health')]
    const view = await mountView()

    await buttonNamed(view, 'Delete Finance').trigger('click')
    await flushPromises()
    expect(view.text()).toContain('Delete ‘Finance’ for everyone?')
    expect(calls.some((call) => call.method === 'DELETE')).toBe(false)
    await buttonNamed(view, 'Confirm deleting Finance').trigger('click')
    await flushPromises()

    expect(calls.find((call) => call.method === 'DELETE')?.url).toBe('/api/admin/topics/s1')
    expect(names(view)).toEqual(['Health'])
  })
})
