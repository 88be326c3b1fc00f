import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { defineComponent, h, ref } from 'vue'
import ModalDialog from './ModalDialog.vue'

// A page with a button that opens the dialog, so focus has somewhere to come back to.
const Page = defineComponent({
  setup() {
    const open = ref(false)
    return () => [
      h('button', { id: 'opener', onClick: () => (open.value = true) }, 'Open'),
      open.value
        ? h(
            ModalDialog,
            { title: 'Share ‘a.txt’', onClose: () => (open.value = false) },
            () => [h('input', { id: 'first', 'data-autofocus': '' }), h('button', { id: 'last' }, 'Last')],
          )
        : null,
    ]
  },
})

let wrapper: VueWrapper | undefined

async function openDialog() {
  wrapper = mount(Page, { attachTo: document.body })
  const opener = wrapper.get<HTMLButtonElement>('#opener')
  opener.element.focus()
  await opener.trigger('click')
  await flushPromises()
  return wrapper
}

function press(key: string, shiftKey = false): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, shiftKey, bubbles: true, cancelable: true })
  ;(document.activeElement ?? document.body).dispatchEvent(event)
  return event
}

describe('ModalDialog', () => {
  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
  })

  it('is a modal dialog named by its title, focused on its first field', async () => {
    const view = await openDialog()
    const dialog = view.get('[role="dialog"]')
    expect(dialog.attributes('aria-modal')).toBe('true')
    expect(document.getElementById(dialog.attributes('aria-labelledby')!)?.textContent).toBe('Share ‘a.txt’')
    expect(document.activeElement?.id).toBe('first')
  })

  it('keeps Tab inside, even when focus fell out', async () => {
    await openDialog()
    const close = [...document.querySelectorAll<HTMLButtonElement>('[role="dialog"] button')][0]!

    document.getElementById('last')!.focus()
    expect(press('Tab').defaultPrevented).toBe(true)
    expect(document.activeElement).toBe(close)

    expect(press('Tab', true).defaultPrevented).toBe(true)
    expect(document.activeElement?.id).toBe('last')

    ;(document.activeElement as HTMLElement).blur()
    press('Tab')
    expect(document.activeElement).toBe(close)
  })

  it('closes with Escape, and gives focus back to what opened it', async () => {
    const view = await openDialog()
    ;(document.activeElement as HTMLElement).blur()

    press('Escape')
    await flushPromises()

    expect(view.find('[role="dialog"]').exists()).toBe(false)
    expect(document.activeElement?.id).toBe('opener')
  })
})
