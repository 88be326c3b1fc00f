import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import type { AiProviderSettings, AiSettings } from '../services/aiSettings'
import { jsonResponse } from '../test-utils'

const { default: AdminAiView } = await import('./AdminAiView.vue')

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'admin' }

const REFUSED = 'That endpoint cannot be used: the host resolves to 192.168.1.20, which is not a public address.'
const NOT_A_NETWORK = '"the lan" is not a network: write an address (192.168.1.20) or a network (192.168.1.0/24)'

let settings: AiSettings
let calls: Array<{ method: string; url: string; body: unknown }>
let wrapper: VueWrapper | undefined

function provider(view: Partial<AiProviderSettings> & Pick<AiProviderSettings, 'provider'>): AiProviderSettings {
  return { endpoint: null, api_key_set: false, source: null, ...view }
}

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input)
      const method = init?.method ?? 'GET'
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined
      calls.push({ method, url, body })
      if (url === '/api/auth/refresh') return jsonResponse(200, TOKENS)
      if (url === '/api/admin/ai' && method === 'GET') return jsonResponse(200, settings)
      if (url === '/api/admin/ai/outbound' && method === 'PUT') {
        const allow = body!.allow as string[]
        if (allow.some((entry) => entry === 'the lan')) {
          return jsonResponse(400, { code: 'invalid_input', message: NOT_A_NETWORK, fields: { allow: NOT_A_NETWORK } })
        }
        settings = { ...settings, allow, allow_http: body!.allow_http as boolean }
        return new Response(null, { status: 204 })
      }
      const found = /^\/api\/admin\/ai\/providers\/(.+)$/.exec(url)
      const target = settings.providers.find((item) => item.provider === found?.[1])
      if (target && method === 'PUT') {
        const endpoint = body!.endpoint as string
        if (endpoint.includes('192.168.')) {
          return jsonResponse(400, { code: 'invalid_input', message: REFUSED, fields: { endpoint: REFUSED } })
        }
        const keyed = target.source === 'admin' && target.api_key_set
        Object.assign(target, {
          endpoint,
          source: 'admin',
          api_key_set: body!.remove_api_key === true ? false : keyed || typeof body!.api_key === 'string',
        })
        return new Response(null, { status: 204 })
      }
      if (target && method === 'DELETE') {
        Object.assign(target, { endpoint: null, source: null, api_key_set: false })
        return new Response(null, { status: 204 })
      }
      return jsonResponse(404, { code: 'not_found', message: 'Nothing here.' })
    }),
  )
}

async function mountView() {
  serve()
  wrapper = mount(AdminAiView, { attachTo: document.body })
  await flushPromises()
  return wrapper
}

function section(view: VueWrapper, name: string) {
  return view.get(`[data-testid="${name}"]`)
}

function writes() {
  return calls.filter((call) => call.method !== 'GET' && call.url !== '/api/auth/refresh')
}

describe('AdminAiView', () => {
  beforeEach(() => {
    calls = []
    settings = {
      providers: [
        provider({ provider: 'ollama', endpoint: 'http://10.0.0.5:11434', source: 'admin', api_key_set: true }),
        provider({ provider: 'openai_compatible', endpoint: 'https://api.openai.com', source: 'server', api_key_set: true }),
      ],
      allow: ['10.0.0.0/8'],
      allow_http: true,
      server_allow: [],
      server_allow_http: false,
    }
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
  })

  it('shows each provider, where its endpoint comes from, and whether a key is set', async () => {
    settings.providers.push(provider({ provider: 'ollama_two' as AiProviderSettings['provider'] }))
    const view = await mountView()

    const ollama = section(view, 'provider-ollama')
    expect(ollama.get('h2').text()).toBe('Ollama')
    expect(ollama.get('[data-testid="endpoint"]').text()).toBe('http://10.0.0.5:11434')
    expect(ollama.get('[data-testid="source"]').text()).toBe('Set here')
    expect(ollama.get('[data-testid="key-state"]').text()).toBe('A key is stored')
    expect(ollama.get<HTMLInputElement>('#ai-ollama-endpoint').element.value).toBe('http://10.0.0.5:11434')
    expect(ollama.get('#ai-ollama-endpoint').attributes('type')).toBe('url')
    expect(ollama.get('#ai-ollama-endpoint').attributes('placeholder')).toBe('http://192.168.1.20:11434')
    expect(ollama.find('#ai-ollama-remove-key').exists()).toBe(true)
    expect(ollama.find('#ai-ollama-remove').exists()).toBe(true)

    const openai = section(view, 'provider-openai_compatible')
    expect(openai.get('h2').text()).toBe('OpenAI-compatible')
    expect(openai.get('[data-testid="endpoint"]').text()).toBe('https://api.openai.com')
    expect(openai.get('[data-testid="source"]').text()).toBe('From the server’s configuration')
    expect(openai.get('#ai-openai_compatible-endpoint').attributes('placeholder')).toBe('https://api.openai.com')
    // The server's key cannot be removed here, nor its endpoint.
    expect(openai.find('#ai-openai_compatible-remove-key').exists()).toBe(false)
    expect(openai.find('#ai-openai_compatible-remove').exists()).toBe(false)

    const unknown = section(view, 'provider-ollama_two')
    expect(unknown.get('[data-testid="endpoint"]').text()).toBe('No endpoint')
    expect(unknown.get('[data-testid="source"]').text()).toBe('Not configured')
    expect(unknown.get('[data-testid="key-state"]').text()).toBe('No key')
  })

  it('never prefills the key, and asks for it as a password', async () => {
    const view = await mountView()
    for (const name of ['ollama', 'openai_compatible']) {
      const key = view.get<HTMLInputElement>(`#ai-${name}-key`)
      expect(key.attributes('type')).toBe('password')
      expect(key.attributes('autocomplete')).toBe('off')
      expect(key.element.value).toBe('')
      expect(view.get(`label[for="ai-${name}-key"]`).text()).toBe('API key')
    }
  })

  it('keeps the stored key when the field is empty', async () => {
    const view = await mountView()
    await view.get('#ai-ollama-endpoint').setValue('  https://ollama.example.com  ')
    await section(view, 'provider-ollama').get('form').trigger('submit')
    await flushPromises()

    expect(writes()).toEqual([
      { method: 'PUT', url: '/api/admin/ai/providers/ollama', body: { endpoint: 'https://ollama.example.com' } },
    ])
    expect(section(view, 'provider-ollama').get('[data-testid="status"]').text()).toBe('Saved.')
    expect(section(view, 'provider-ollama').get('[data-testid="status"]').attributes('aria-live')).toBe('polite')
    // Reloaded after saving.
    expect(calls.filter((call) => call.method === 'GET' && call.url === '/api/admin/ai')).toHaveLength(2)
    expect(section(view, 'provider-ollama').get('[data-testid="endpoint"]').text()).toBe('https://ollama.example.com')
  })

  it('sends a typed key, then clears the field', async () => {
    const view = await mountView()
    await view.get('#ai-openai_compatible-endpoint').setValue('https://api.example.com')
    await view.get('#ai-openai_compatible-key').setValue('sk-secret')
    await section(view, 'provider-openai_compatible').get('form').trigger('submit')
    await flushPromises()

    expect(writes()).toEqual([
      {
        method: 'PUT',
        url: '/api/admin/ai/providers/openai_compatible',
        body: { endpoint: 'https://api.example.com', api_key: 'sk-secret' },
      },
    ])
    const openai = section(view, 'provider-openai_compatible')
    expect(openai.get<HTMLInputElement>('#ai-openai_compatible-key').element.value).toBe('')
    expect(openai.get('[data-testid="source"]').text()).toBe('Set here')
    expect(openai.get('[data-testid="key-state"]').text()).toBe('A key is stored')
    expect(openai.get('[data-testid="status"]').text()).toBe('Saved.')
  })

  it('removes the stored key when the box is ticked', async () => {
    const view = await mountView()
    await view.get('#ai-ollama-remove-key').setValue(true)
    await section(view, 'provider-ollama').get('form').trigger('submit')
    await flushPromises()

    expect(writes()).toEqual([
      {
        method: 'PUT',
        url: '/api/admin/ai/providers/ollama',
        body: { endpoint: 'http://10.0.0.5:11434', remove_api_key: true },
      },
    ])
    const ollama = section(view, 'provider-ollama')
    expect(ollama.get('[data-testid="key-state"]').text()).toBe('No key')
    expect(ollama.find('#ai-ollama-remove-key').exists()).toBe(false)
  })

  it('does not send a new key and its removal together', async () => {
    const view = await mountView()
    await view.get('#ai-ollama-key').setValue('sk-new')
    await view.get('#ai-ollama-remove-key').setValue(true)
    await section(view, 'provider-ollama').get('form').trigger('submit')
    await flushPromises()

    expect(writes()).toEqual([])
    expect(view.get('#ai-ollama-key-error').text()).toBe('Give a new key or remove the stored one, not both.')
    expect(view.get('#ai-ollama-key').attributes('aria-invalid')).toBe('true')
    expect(document.activeElement?.id).toBe('ai-ollama-key')
  })

  it('shows a refused endpoint next to the field', async () => {
    const view = await mountView()
    await view.get('#ai-ollama-endpoint').setValue('http://192.168.1.20:11434')
    await view.get('#ai-ollama-key').setValue('sk-kept')
    await section(view, 'provider-ollama').get('form').trigger('submit')
    await flushPromises()

    expect(view.get('#ai-ollama-endpoint-error').text()).toBe(REFUSED)
    const endpoint = view.get('#ai-ollama-endpoint')
    expect(endpoint.attributes('aria-invalid')).toBe('true')
    expect(endpoint.attributes('aria-describedby')).toContain('ai-ollama-endpoint-error')
    expect(document.activeElement?.id).toBe('ai-ollama-endpoint')
    expect(section(view, 'provider-ollama').get('[data-testid="status"]').text()).toBe('')
    // What was typed stays, to be corrected.
    expect(view.get<HTMLInputElement>('#ai-ollama-endpoint').element.value).toBe('http://192.168.1.20:11434')
  })

  it('asks for an endpoint before saving', async () => {
    settings.providers[1] = provider({ provider: 'openai_compatible' })
    const view = await mountView()
    await section(view, 'provider-openai_compatible').get('form').trigger('submit')
    await flushPromises()

    expect(writes()).toEqual([])
    expect(view.get('#ai-openai_compatible-endpoint-error').text()).toBe('Enter the endpoint’s URL.')
  })

  it('removes a stored endpoint only after asking', async () => {
    const view = await mountView()
    await view.get('#ai-ollama-remove').trigger('click')
    await flushPromises()

    const dialog = view.get('[role="dialog"]')
    expect(dialog.text()).toContain('Remove the Ollama endpoint?')
    expect(writes()).toEqual([])
    await dialog.findAll('button').find((button) => button.text() === 'Remove endpoint')!.trigger('click')
    await flushPromises()

    expect(writes()).toEqual([{ method: 'DELETE', url: '/api/admin/ai/providers/ollama', body: undefined }])
    expect(view.find('[role="dialog"]').exists()).toBe(false)
    const ollama = section(view, 'provider-ollama')
    expect(ollama.get('[data-testid="source"]').text()).toBe('Not configured')
    expect(ollama.find('#ai-ollama-remove').exists()).toBe(false)
    expect(document.activeElement?.id).toBe('ai-ollama-endpoint')
  })

  it('saves the private networks, one a line', async () => {
    const view = await mountView()
    const outbound = section(view, 'outbound')
    expect(outbound.get<HTMLTextAreaElement>('#ai-allow').element.value).toBe('10.0.0.0/8')
    expect(outbound.get<HTMLInputElement>('#ai-allow-http').element.checked).toBe(true)
    expect(outbound.find('[data-testid="server-allow"]').exists()).toBe(false)

    await outbound.get('#ai-allow').setValue('  192.168.1.20 \n\n 10.0.0.0/8\r\n   \n')
    await outbound.get('#ai-allow-http').setValue(false)
    await outbound.get('form').trigger('submit')
    await flushPromises()

    expect(writes()).toEqual([
      { method: 'PUT', url: '/api/admin/ai/outbound', body: { allow: ['192.168.1.20', '10.0.0.0/8'], allow_http: false } },
    ])
    expect(outbound.get<HTMLTextAreaElement>('#ai-allow').element.value).toBe('192.168.1.20\n10.0.0.0/8')
    expect(outbound.get('[data-testid="outbound-status"]').text()).toBe('Saved.')
  })

  it('shows a bad network next to the list', async () => {
    const view = await mountView()
    const outbound = section(view, 'outbound')
    await outbound.get('#ai-allow').setValue('the lan')
    await outbound.get('form').trigger('submit')
    await flushPromises()

    expect(outbound.get('#ai-allow-error').text()).toBe(NOT_A_NETWORK)
    expect(outbound.get('#ai-allow').attributes('aria-invalid')).toBe('true')
    expect(document.activeElement?.id).toBe('ai-allow')
    expect(outbound.get('[data-testid="outbound-status"]').text()).toBe('')
  })

  it('shows what the server’s configuration allows, as text', async () => {
    settings.server_allow = ['172.16.0.0/12', '<b>not html</b>']
    settings.server_allow_http = true
    const view = await mountView()

    const server = section(view, 'server-allow')
    expect(server.text()).toContain('The server’s configuration allows these too')
    expect(server.findAll('li').map((item) => item.text())).toEqual(['172.16.0.0/12', '<b>not html</b>'])
    expect(server.find('b').exists()).toBe(false)
    expect(server.text()).toContain('Plain http is allowed.')
  })
})
