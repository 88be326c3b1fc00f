import { describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import RegisterView from './RegisterView.vue'
import { ACCEPTED_MESSAGE, HANDLE_TAKEN_BODY, jsonResponse, mockFetch } from '../test-utils'

/** Answers the page's registration-status check itself, leaving other calls to the test's mock. */
function answerStatus(open: boolean) {
  const inner = globalThis.fetch
  vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) =>
    String(input) === '/api/auth/registration'
      ? Promise.resolve(jsonResponse(200, { open }))
      : inner(input, init),
  )
}

function mountView(open = true) {
  answerStatus(open)
  return mount(RegisterView, {
    attachTo: document.body,
    global: { stubs: { RouterLink: RouterLinkStub } },
  })
}

type Wrapper = ReturnType<typeof mountView>

async function fill(wrapper: Wrapper, values: { email: string; handle: string; password: string }) {
  await wrapper.get('#email').setValue(values.email)
  await wrapper.get('#handle').setValue(values.handle)
  await wrapper.get('#password').setValue(values.password)
}

const valid = { email: 'ada@example.test', handle: 'ada', password: 'correct horse battery staple 42' }

function expectFieldError(wrapper: Wrapper, field: string, message: string) {
  const input = wrapper.get(`#${field}`)
  expect(input.attributes('aria-invalid')).toBe('true')
  expect(input.attributes('aria-describedby')?.split(' ')).toContain(`${field}-error`)
  expect(wrapper.get(`#${field}-error`).text()).toBe(message)
}

describe('RegisterView', () => {
  it('labels every input with the right type and autocomplete', () => {
    const wrapper = mountView()
    for (const [id, type, autocomplete] of [
      ['email', 'email', 'email'],
      ['handle', 'text', 'username'],
      ['password', 'password', 'new-password'],
    ]) {
      expect(wrapper.find(`label[for="${id}"]`).exists()).toBe(true)
      expect(wrapper.get(`#${id}`).attributes()).toMatchObject({ type, autocomplete })
    }
    wrapper.unmount()
  })

  it('shows client-side errors under each field and focuses the first one', async () => {
    const fetchMock = mockFetch()
    const wrapper = mountView()
    await fill(wrapper, { email: 'nope', handle: 'ok_handle', password: 'short' })

    await wrapper.get('form').trigger('submit')
    await flushPromises()

    expect(fetchMock).not.toHaveBeenCalled()
    expectFieldError(wrapper, 'email', 'Enter an email address like name@example.com.')
    expectFieldError(wrapper, 'password', 'Use at least 8 characters.')
    expect(wrapper.get('#handle').attributes('aria-invalid')).toBeUndefined()
    expect(wrapper.get('#handle').attributes('aria-describedby')).toBe('handle-hint')
    expect(document.activeElement?.id).toBe('email')
    wrapper.unmount()
  })

  it('maps server field errors from a 400', async () => {
    mockFetch(
      jsonResponse(400, {
        code: 'invalid_input',
        message: 'Some fields need attention.',
        fields: { password: 'This password is too common. Try a few unrelated words.' },
      }),
    )
    const wrapper = mountView()
    await fill(wrapper, valid)

    await wrapper.get('form').trigger('submit')
    await flushPromises()

    expectFieldError(wrapper, 'password', 'This password is too common. Try a few unrelated words.')
    expect(wrapper.find('[role="alert"]').exists()).toBe(false)
    expect(document.activeElement?.id).toBe('password')
    wrapper.unmount()
  })

  it('puts a 409 on the handle field', async () => {
    mockFetch(jsonResponse(409, HANDLE_TAKEN_BODY))
    const wrapper = mountView()
    await fill(wrapper, valid)

    await wrapper.get('form').trigger('submit')
    await flushPromises()

    expectFieldError(wrapper, 'handle', 'That handle is already taken.')
    wrapper.unmount()
  })

  it('shows errors without fields in an alert', async () => {
    mockFetch(jsonResponse(503, { code: 'unavailable', message: 'DocuVault is busy. Try again shortly.' }))
    const wrapper = mountView()
    await fill(wrapper, valid)

    await wrapper.get('form').trigger('submit')
    await flushPromises()

    expect(wrapper.get('[role="alert"]').text()).toBe('DocuVault is busy. Try again shortly.')
    wrapper.unmount()
  })

  it('disables the submit button while the request is in flight', async () => {
    let answer: (response: Response) => void = () => {}
    const fetchMock = mockFetch()
    fetchMock.mockReturnValueOnce(new Promise<Response>((resolve) => (answer = resolve)))
    const wrapper = mountView()
    await fill(wrapper, valid)

    await wrapper.get('form').trigger('submit')
    const button = wrapper.get('button[type="submit"]')
    expect(button.text()).toBe('Creating account…')
    expect(button.attributes('disabled')).toBeDefined()

    answer(jsonResponse(202, { message: ACCEPTED_MESSAGE }))
    await flushPromises()
    wrapper.unmount()
  })

  it('replaces the form with the server message on success', async () => {
    mockFetch(jsonResponse(202, { message: ACCEPTED_MESSAGE }))
    const wrapper = mountView()
    await fill(wrapper, valid)

    await wrapper.get('form').trigger('submit')
    await flushPromises()

    expect(wrapper.find('form').exists()).toBe(false)
    const status = wrapper.get('[role="status"]')
    expect(status.text()).toContain(ACCEPTED_MESSAGE)
    expect(document.activeElement).toBe(status.element)
    wrapper.unmount()
  })

  it('toggles password visibility', async () => {
    const wrapper = mountView()
    const toggle = wrapper.get('button[aria-controls="password"]')
    expect(toggle.text()).toBe('Show password')

    await toggle.trigger('click')

    expect(wrapper.get('#password').attributes('type')).toBe('text')
    expect(toggle.text()).toBe('Hide password')
    wrapper.unmount()
  })

  it('warns on blur when the handle is taken', async () => {
    mockFetch(jsonResponse(200, { handle: 'ada', available: false }))
    const wrapper = mountView()
    await wrapper.get('#handle').setValue('ada')

    await wrapper.get('#handle').trigger('blur')
    await flushPromises()

    expectFieldError(wrapper, 'handle', 'That handle is taken.')
    wrapper.unmount()
  })

  it('says registration is by invitation when it is closed, and hides the form', async () => {
    window.history.replaceState(null, '', '/register')
    const wrapper = mountView(false)
    await flushPromises()
    expect(wrapper.get('[role="alert"]').text()).toContain('by invitation only')
    expect(wrapper.find('form').exists()).toBe(false)
  })

  it('registers with the invitation from the link, which leaves the address bar', async () => {
    window.history.replaceState(null, '', '/register?invite=inv123')
    const fetchMock = mockFetch(jsonResponse(202, { message: 'Your account is ready. Sign in.' }))
    const wrapper = mountView(false)
    await flushPromises()
    expect(window.location.search).toBe('')
    await fill(wrapper, valid)
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    const [, init] = fetchMock.mock.calls[0]!
    expect(JSON.parse(init?.body as string)).toMatchObject({ invite: 'inv123', handle: 'ada' })
    expect(wrapper.text()).toContain('Your account is ready')
  })
})
