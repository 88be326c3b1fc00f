import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { ApiError } from '../services/api'
import type { Share, ShareTarget } from '../services/shares'

const api = vi.hoisted(() => ({
  share: vi.fn(),
  listShares: vi.fn(),
  revokeShare: vi.fn(),
  lookUpHandle: vi.fn(),
}))
vi.mock('../services/shares', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../services/shares')>()),
  ...api,
}))

const { default: ShareDialog } = await import('./ShareDialog.vue')
const { NO_RECIPIENT_MESSAGE } = await import('../services/shares')

const DOCUMENT: ShareTarget = { kind: 'document', id: 'd-1', name: 'Tax.pdf' }

function grant(id: string, handle: string): Share {
  return {
    id,
    handle,
    document_id: 'd-1',
    folder_id: null,
    name: 'Tax.pdf',
    permission: 'read',
    granted_at: '2025-01-02T03:04:05Z',
  }
}

let wrapper: VueWrapper | undefined

async function open(target: ShareTarget = DOCUMENT) {
  wrapper = mount(ShareDialog, { props: { target }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

function buttonNamed(view: VueWrapper, name: string) {
  const found = view
    .findAll('button')
    .find((button) => (button.attributes('aria-label') ?? button.text().trim()) === name)
  if (!found) throw new Error(`no button named "${name}"`)
  return found
}

async function typeHandle(view: VueWrapper, handle: string) {
  const input = view.get('#share-handle')
  await input.setValue(handle)
  await input.trigger('blur')
  await flushPromises()
}

describe('ShareDialog', () => {
  beforeEach(() => {
    for (const mock of Object.values(api)) mock.mockReset()
    api.listShares.mockResolvedValue([])
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
  })

  it('is a labelled modal dialog that says what sharing allows, and lists no one yet', async () => {
    const view = await open()

    const dialog = view.get('[role="dialog"]')
    expect(dialog.attributes('aria-modal')).toBe('true')
    expect(document.getElementById(dialog.attributes('aria-labelledby')!)?.textContent).toBe('Share ‘Tax.pdf’')
    expect(dialog.text()).toContain('preview and download this document: nothing else')
    expect(api.listShares).toHaveBeenCalledWith('d-1')
    expect(view.get('[data-testid="no-shares"]').text()).toContain('Not shared with anyone yet')
    expect(document.activeElement?.id).toBe('share-handle')
  })

  it('explains that a shared folder includes the folders inside it', async () => {
    const view = await open({ kind: 'folder', id: 'f-1', name: 'Taxes' })
    expect(view.text()).toContain('every document in this folder and in the folders inside it')
    expect(api.listShares).toHaveBeenCalledWith('f-1')
  })

  it('says when no one has the handle, and does not send the share', async () => {
    api.lookUpHandle.mockResolvedValue({ state: 'unknown' })
    const view = await open()

    await typeHandle(view, 'nobody')
    expect(view.get('[data-testid="handle-status"]').text()).toBe('No one has this handle.')
    expect(view.get('#share-handle').attributes('aria-invalid')).toBe('true')

    await view.get('form').trigger('submit')
    await flushPromises()
    expect(view.get('[data-testid="share-error"]').text()).toBe('No one has this handle. Check the spelling.')
    expect(api.share).not.toHaveBeenCalled()
  })

  it('asks for a handle before sharing', async () => {
    const view = await open()
    await view.get('form').trigger('submit')
    await flushPromises()
    expect(view.get('[data-testid="share-error"]').text()).toBe('Enter the handle of the person to share with.')
    expect(api.share).not.toHaveBeenCalled()
  })

  it('shows clearly when the handle cannot receive shares', async () => {
    api.lookUpHandle.mockResolvedValue({ state: 'found', handle: 'me' })
    api.share.mockRejectedValue(new ApiError(422, 'no_recipient', 'No one with this handle can receive shares.'))
    const view = await open()

    await typeHandle(view, 'me')
    expect(view.get('[data-testid="handle-status"]').text()).toBe('me has an account.')
    await view.get('form').trigger('submit')
    await flushPromises()

    expect(api.share).toHaveBeenCalledWith(DOCUMENT, 'me')
    expect(view.get('[data-testid="share-error"]').text()).toBe(NO_RECIPIENT_MESSAGE)
    expect(view.get('[data-testid="share-error"]').attributes('role')).toBe('alert')
    expect(view.findAll('[data-testid="share-row"]')).toHaveLength(0)
  })

  it('shares, clears the field and lists the new share; the button waits while sharing', async () => {
    api.lookUpHandle.mockResolvedValue({ state: 'found', handle: 'bob' })
    let answer: (value: unknown) => void = () => {}
    api.share.mockReturnValue(new Promise((resolve) => (answer = resolve)))
    const view = await open()

    await typeHandle(view, 'Bob')
    await view.get('form').trigger('submit')
    await flushPromises()
    expect(buttonNamed(view, 'Sharing…').attributes('disabled')).toBeDefined()

    api.listShares.mockResolvedValue([grant('s-1', 'bob')])
    answer({ id: 's-1', handle: 'bob', permission: 'read' })
    await flushPromises()

    expect(view.get<HTMLInputElement>('#share-handle').element.value).toBe('')
    expect(view.get('[data-testid="share-status"]').text()).toBe('Shared with bob.')
    expect(view.findAll('[data-testid="share-row"]').map((row) => row.attributes('data-handle'))).toEqual(['bob'])
    expect(buttonNamed(view, 'Share').attributes('disabled')).toBeUndefined()
  })

  it('revokes a share and lists what is left', async () => {
    api.listShares.mockResolvedValueOnce([grant('s-1', 'bob'), grant('s-2', 'cat')]).mockResolvedValue([grant('s-2', 'cat')])
    api.revokeShare.mockResolvedValue(undefined)
    const view = await open()

    await buttonNamed(view, 'Revoke the share with bob').trigger('click')
    await flushPromises()

    expect(api.revokeShare).toHaveBeenCalledWith('s-1')
    expect(view.findAll('[data-testid="share-row"]').map((row) => row.attributes('data-handle'))).toEqual(['cat'])
    expect(view.get('[data-testid="share-status"]').text()).toBe('bob can no longer read this document.')
  })

  it('shows a revocation that came too late next to the list', async () => {
    api.listShares.mockResolvedValueOnce([grant('s-1', 'bob')]).mockResolvedValue([])
    api.revokeShare.mockRejectedValue(new ApiError(404, 'not_found', 'Nothing here.'))
    const view = await open()

    await buttonNamed(view, 'Revoke the share with bob').trigger('click')
    await flushPromises()

    expect(view.get('[data-testid="revoke-error"]').text()).toBe('This share was revoked already.')
    expect(view.find('[data-testid="no-shares"]').exists()).toBe(true)
  })

  it('closes with Escape and with its close button', async () => {
    const view = await open()
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    await buttonNamed(view, 'Close').trigger('click')
    expect(view.emitted('close')).toHaveLength(2)
  })

  it('hands an ended session to the page', async () => {
    api.listShares.mockRejectedValue(new ApiError(401, 'unauthorized', 'Sign in to continue.'))
    const view = await open()
    expect(view.emitted('unauthorized')).toHaveLength(1)
  })
})
