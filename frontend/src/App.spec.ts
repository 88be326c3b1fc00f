import { afterEach, describe, expect, it, vi } from 'vitest'
import { h } from 'vue'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { FakeEventStream, jsonResponse } from './test-utils'
import App from './App.vue'
import { live } from './services/live'
import { signIn } from './services/session'

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'user' }

let wrapper: VueWrapper | undefined

afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  live.stop()
})

describe('App', () => {
  it('listens to live notices while someone is signed in, and stops on signing out', async () => {
    const streams: Array<{ init: RequestInit; stream: FakeEventStream }> = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
        const url = String(input)
        if (url === '/api/auth/login') return jsonResponse(200, TOKENS)
        if (url === '/api/auth/logout') return new Response(null, { status: 204 })
        if (url === '/api/events') {
          const stream = new FakeEventStream(init.signal)
          streams.push({ init, stream })
          return stream.response
        }
        return jsonResponse(404, { code: 'not_found', message: 'Nothing here.' })
      }),
    )
    const Blank = { render: () => h('p', 'page') }
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:rest(.*)*', component: Blank }] })
    await router.push('/')
    wrapper = mount(App, { global: { plugins: [router] } })
    await flushPromises()
    // Not signed in: no stream.
    expect(streams).toHaveLength(0)
    expect(live.state).toBe('stopped')

    await signIn('ada@example.test', 'correct horse battery staple')
    await flushPromises()
    expect(streams).toHaveLength(1)
    expect((streams[0]!.init.headers as Record<string, string>).Authorization).toBe('Bearer at-1')
    streams[0]!.stream.send('event: ready\ndata: {}\n\n')
    await flushPromises()
    expect(live.state).toBe('open')

    await wrapper.get('button.link-button').trigger('click')
    await flushPromises()

    expect(streams[0]!.init.signal!.aborted).toBe(true)
    expect(streams[0]!.stream.open).toBe(false)
    expect(live.state).toBe('stopped')
    expect(streams).toHaveLength(1)
  })
})
