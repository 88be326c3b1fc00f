import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'

const session = vi.hoisted(() => ({ authorized: vi.fn(), replaceAccessToken: vi.fn() }))
vi.mock('../services/session', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../services/session')>()),
  ...session,
}))

const { default: SecondFactorPanel } = await import('./SecondFactorPanel.vue')

const SETUP = { secret: 'A'.repeat(32), otpauth_uri: 'otpauth://totp/x', qr: { size: 1, rows: ['1'] } }
const CODES = ['code-one', 'code-two']

let wrapper: VueWrapper | undefined

function mountPanel(enabled: boolean) {
  wrapper = mount(SecondFactorPanel, { props: { enabled }, attachTo: document.body })
  return wrapper
}

function buttonNamed(view: VueWrapper, name: string) {
  const found = view.findAll('button').find((button) => button.text().trim() === name)
  if (!found) throw new Error(`no button named "${name}"`)
  return found
}

const status = (view: VueWrapper) => view.get('[data-testid="two-step-status"]').text()

describe('SecondFactorPanel', () => {
  beforeEach(() => {
    session.authorized.mockReset()
    session.replaceAccessToken.mockReset()
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
  })

  it('says it is on once turned on, before the account is read again', async () => {
    session.authorized
      .mockResolvedValueOnce(SETUP)
      .mockResolvedValueOnce({ access_token: 'at-2', recovery_codes: CODES })
    const view = mountPanel(false)
    expect(status(view)).toMatch(/^Off/)

    await buttonNamed(view, 'Set up two-step sign-in').trigger('click')
    await view.get('#reauth-password').setValue('correct horse battery staple')
    await buttonNamed(view, 'Continue').trigger('submit')
    await flushPromises()
    await view.get('#enrol-code').setValue('123456')
    await buttonNamed(view, 'Turn on').trigger('submit')
    await flushPromises()
    expect(session.replaceAccessToken).toHaveBeenCalledWith('at-2')
    expect(view.emitted('changed')).toHaveLength(1)
    expect(view.get('[data-testid="recovery-codes"]').text()).toContain('code-one')

    // The account's new read is still on its way: the panel knows better than its prop.
    await buttonNamed(view, 'I saved them').trigger('click')
    expect(status(view)).toMatch(/^On/)
    buttonNamed(view, 'Turn off')

    // A read that says something new is shown (here: turned off elsewhere meanwhile).
    await view.setProps({ enabled: true })
    await view.setProps({ enabled: false })
    expect(status(view)).toMatch(/^Off/)
  })

  it('says it is off once turned off, before the account is read again', async () => {
    session.authorized.mockResolvedValueOnce({ access_token: 'at-3' })
    const view = mountPanel(true)
    expect(status(view)).toMatch(/^On/)

    await buttonNamed(view, 'Turn off').trigger('click')
    await view.get('#reauth-password').setValue('correct horse battery staple')
    await buttonNamed(view, 'Continue').trigger('submit')
    await flushPromises()

    expect(status(view)).toMatch(/^Off/)
    buttonNamed(view, 'Set up two-step sign-in')
  })
})
