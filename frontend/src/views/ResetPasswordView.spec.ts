import { describe, expect, it } from 'vitest'
import { flushPromises, mount, RouterLinkStub } from '@vue/test-utils'
import ResetPasswordView from './ResetPasswordView.vue'
import { jsonResponse, mockFetch } from '../test-utils'

function mountAt(url: string) {
  window.history.replaceState(null, '', url)
  return mount(ResetPasswordView, { global: { stubs: { RouterLink: RouterLinkStub } } })
}

describe('ResetPasswordView', () => {
  it('sends the token from the link with the new password, and hides the token', async () => {
    const fetchMock = mockFetch(jsonResponse(200, { message: 'Your password is changed.' }))
    const wrapper = mountAt('/reset-password?token=tok123')
    await flushPromises()
    expect(window.location.search).toBe('')

    await wrapper.get('#reset-password').setValue('a completely new passphrase')
    await wrapper.get('form').trigger('submit')
    await flushPromises()

    const [url, init] = fetchMock.mock.calls[0]!
    expect(url).toBe('/api/auth/password-reset/confirm')
    expect(JSON.parse(init?.body as string)).toEqual({
      token: 'tok123',
      new_password: 'a completely new passphrase',
    })
    expect(wrapper.get('[role="status"]').text()).toBe('Your password is changed.')
  })

  it('shows the policy problem next to the field', async () => {
    mockFetch(
      jsonResponse(400, {
        code: 'invalid_input',
        message: 'Some fields need attention.',
        fields: { new_password: 'This password is too easy to guess.' },
      }),
    )
    const wrapper = mountAt('/reset-password?token=tok123')
    await flushPromises()
    await wrapper.get('#reset-password').setValue('password123')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(wrapper.get('#reset-password-error').text()).toBe('This password is too easy to guess.')
  })

  it('explains a missing or spent link', async () => {
    const wrapper = mountAt('/reset-password')
    await flushPromises()
    expect(wrapper.get('[role="alert"]').text()).toContain('needs the link')
    expect(wrapper.find('form').exists()).toBe(false)
  })
})
