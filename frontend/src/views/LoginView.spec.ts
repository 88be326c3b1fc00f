import { describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import { jsonResponse, mockFetch } from '../test-utils'

const push = vi.fn()
let query: Record<string, string> = {}

vi.mock('vue-router', async (importOriginal) => ({
  ...(await importOriginal<typeof import('vue-router')>()),
  useRouter: () => ({ push }),
  useRoute: () => ({ query }),
}))

const { default: LoginView } = await import('./LoginView.vue')

function mountView() {
  return mount(LoginView, {
    attachTo: document.body,
    global: { stubs: { RouterLink: RouterLinkStub } },
  })
}

async function submit(email: string, password: string) {
  const wrapper = mountView()
  await wrapper.get('#login-email').setValue(email)
  await wrapper.get('#login-password').setValue(password)
  await wrapper.get('form').trigger('submit')
  await flushPromises()
  return wrapper
}

describe('LoginView', () => {
  it('signs in and goes on to the page that asked for it', async () => {
    push.mockReset()
    query = { next: '/account' }
    const fetchMock = mockFetch(
      jsonResponse(200, { access_token: 'at', token_type: 'Bearer', expires_in: 600, user_id: 'u', role: 'user' }),
    )

    await submit('ada@example.test', 'correct horse battery staple')

    expect(fetchMock.mock.calls[0]![0]).toBe('/api/auth/login')
    expect(push).toHaveBeenCalledWith('/account')
  })

  it('goes to the documents when no page asked for the sign-in', async () => {
    push.mockReset()
    query = {}
    mockFetch(jsonResponse(200, { access_token: 'at', token_type: 'Bearer', expires_in: 600, user_id: 'u', role: 'user' }))

    await submit('ada@example.test', 'pw')

    expect(push).toHaveBeenCalledWith('/documents')
  })

  it('never follows a next parameter off the site', async () => {
    push.mockReset()
    query = { next: '//evil.example/' }
    mockFetch(jsonResponse(200, { access_token: 'at', token_type: 'Bearer', expires_in: 600, user_id: 'u', role: 'user' }))

    await submit('ada@example.test', 'pw')

    expect(push).toHaveBeenCalledWith('/documents')
  })

  it('shows the server message for wrong credentials and a wait hint when throttled', async () => {
    push.mockReset()
    query = {}
    mockFetch(jsonResponse(401, { code: 'invalid_credentials', message: 'The email or password is not right.' }))
    const wrong = await submit('ada@example.test', 'nope')
    expect(wrong.get('[role="alert"]').text()).toBe('The email or password is not right.')
    wrong.unmount()

    mockFetch(jsonResponse(429, { code: 'too_many_attempts', message: 'Too many attempts.' }))
    const throttled = await submit('ada@example.test', 'nope')
    expect(throttled.get('[role="alert"]').text()).toContain('Wait a little')
    expect(push).not.toHaveBeenCalled()
  })

  it('asks for a code after the password when the account has two-step sign-in', async () => {
    push.mockReset()
    query = {}
    const fetchMock = mockFetch(
      jsonResponse(200, { second_factor_required: true, second_step_token: 'step-token', expires_in: 300 }),
      jsonResponse(401, { code: 'invalid_credentials', message: 'The email or password is not right.' }),
      jsonResponse(200, { access_token: 'at', token_type: 'Bearer', expires_in: 600, user_id: 'u', role: 'user' }),
    )

    const wrapper = await submit('ada@example.test', 'correct horse battery staple')
    expect(push).not.toHaveBeenCalled()
    const code = wrapper.get('#login-code')
    expect(code.attributes('autocomplete')).toBe('one-time-code')
    expect(document.activeElement).toBe(code.element)

    await code.setValue('000000')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('[role="alert"]').text()).toContain('That code is not right')

    await wrapper.get('button[type="button"]').trigger('click')
    await wrapper.get('#login-code').setValue('abcde-fghij')
    await wrapper.get('form').trigger('submit')
    await flushPromises()

    const last = fetchMock.mock.calls[2]!
    expect(last[0]).toBe('/api/auth/login/second-factor')
    expect(JSON.parse(last[1]?.body as string)).toEqual({
      second_step_token: 'step-token',
      recovery_code: 'abcde-fghij',
    })
    expect(push).toHaveBeenCalledWith('/documents')
  })

  it('asks for both fields before calling the server', async () => {
    const fetchMock = mockFetch()
    const wrapper = await submit('', '')
    expect(wrapper.get('[role="alert"]').text()).toBe('Enter your email and password.')
    expect(fetchMock).not.toHaveBeenCalled()
  })
})
