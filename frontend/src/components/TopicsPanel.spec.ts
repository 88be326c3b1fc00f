import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { ApiError } from '../services/api'
import type { Topic } from '../services/topics'

const api = vi.hoisted(() => ({ createTopic: vi.fn(), renameTopic: vi.fn(), deleteTopic: vi.fn() }))
vi.mock('../services/topics', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../services/topics')>()),
  ...api,
}))

const { default: TopicsPanel } = await import('./TopicsPanel.vue')

function topic(id: string, name: string, system = false, documents = 0): Topic {
  return { id, name, system, documents, created_at: '2025-01-01T00:00:00Z' }
}

const TOPICS = [topic('s1', 'Finance', true, 1), topic('t1', 'Taxes', false, 3)]

let wrapper: VueWrapper | undefined

function mountPanel(selected: string | null = null, topics: Topic[] = TOPICS) {
  wrapper = mount(TopicsPanel, { props: { topics, selected, loaded: true }, attachTo: document.body })
  return wrapper
}

function buttonNamed(view: VueWrapper, name: string) {
  const found = view.findAll('button').find((button) => (button.attributes('aria-label') ?? button.text().trim()) === name)
  if (!found) throw new Error(`no button named "${name}"`)
  return found
}

describe('TopicsPanel', () => {
  beforeEach(() => {
    for (const mock of Object.values(api)) mock.mockReset()
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
  })

  it('lists the topics to filter by, with counts; only one’s own can be changed', async () => {
    const view = mountPanel('t1')

    expect(buttonNamed(view, 'Taxes, 3 documents').attributes('aria-current')).toBe('true')
    expect(buttonNamed(view, 'Finance (system topic), 1 document').attributes('aria-current')).toBeUndefined()
    expect(() => buttonNamed(view, 'Rename topic Finance')).toThrow()
    buttonNamed(view, 'Rename topic Taxes')
    buttonNamed(view, 'Delete topic Taxes')

    await buttonNamed(view, 'Finance (system topic), 1 document').trigger('click')
    await buttonNamed(view, 'Any topic').trigger('click')
    expect(view.emitted('select')).toEqual([['s1'], [null]])
  })

  it('says when there are no topics yet', () => {
    const view = mountPanel(null, [])
    expect(view.text()).toContain('No topics yet.')
  })

  it('renames one’s own topic in place, and shows a taken name there', async () => {
    api.renameTopic.mockRejectedValueOnce(new ApiError(409, 'topic_name_taken', 'Taken.')).mockResolvedValueOnce(undefined)
    const view = mountPanel()

    await buttonNamed(view, 'Rename topic Taxes').trigger('click')
    await flushPromises()
    expect(document.activeElement?.id).toBe('topic-rename-t1')
    await view.get('#topic-rename-t1').setValue('Finance')
    await view.get('form.topic-form').trigger('submit')
    await flushPromises()
    expect(view.get('#topic-rename-error-t1').text()).toBe('There is a topic with this name already.')

    await view.get('#topic-rename-t1').setValue('Tax')
    await view.get('form.topic-form').trigger('submit')
    await flushPromises()
    expect(api.renameTopic).toHaveBeenLastCalledWith('t1', 'Tax')
    expect(view.emitted('changed')).toEqual([['Renamed topic Taxes to Tax.']])
  })

  it('deletes one’s own topic after saying how many documents lose it', async () => {
    api.deleteTopic.mockResolvedValue(undefined)
    const view = mountPanel('t1')

    await buttonNamed(view, 'Delete topic Taxes').trigger('click')
    expect(view.text()).toContain('Delete ‘Taxes’? It comes off 3 documents.')
    await buttonNamed(view, 'Confirm deleting topic Taxes').trigger('click')
    await flushPromises()

    expect(api.deleteTopic).toHaveBeenCalledWith('t1')
    // The list was filtered by it: no longer.
    expect(view.emitted('select')).toEqual([[null]])
    expect(view.emitted('changed')).toEqual([['Deleted topic Taxes.']])
  })

  it('creates a topic', async () => {
    api.createTopic.mockResolvedValue(topic('t2', 'Travel'))
    const view = mountPanel()

    await view.get('form.new').trigger('submit')
    expect(view.get('#topic-create-error').text()).toBe('Enter a name for the topic.')
    await view.get('#topic-create').setValue(' Travel ')
    await view.get('form.new').trigger('submit')
    await flushPromises()

    expect(api.createTopic).toHaveBeenCalledWith('Travel')
    expect(view.emitted('changed')).toEqual([['Created topic Travel.']])
  })
})
