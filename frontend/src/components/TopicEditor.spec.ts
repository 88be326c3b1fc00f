import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { ApiError } from '../services/api'
import type { VaultDocument } from '../services/documents'
import type { Topic } from '../services/topics'

const api = vi.hoisted(() => ({ createTopic: vi.fn(), setDocumentTopics: vi.fn() }))
vi.mock('../services/topics', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../services/topics')>()),
  ...api,
}))

const { default: TopicEditor } = await import('./TopicEditor.vue')

function topic(id: string, name: string, system = false): Topic {
  return { id, name, system, documents: 0, created_at: '2025-01-01T00:00:00Z' }
}

const TOPICS = [topic('s1', 'Finance', true), topic('t1', 'Taxes'), topic('t2', 'Travel')]

function doc(topics: string[]): VaultDocument {
  return {
    id: 'd-1',
    name: 'Tax.pdf',
    kind: 'pdf',
    status: 'confirmed',
    size: 1,
    created_at: '2025-01-02T03:04:05Z',
    confirmed_at: null,
    sha256: null,
    duplicate: false,
    folder_id: null,
    topics,
    classification: null,
    classification_error: null,
  }
}

let wrapper: VueWrapper | undefined

function open(topics: string[] = ['t1']) {
  wrapper = mount(TopicEditor, { props: { document: doc(topics), topics: TOPICS }, attachTo: document.body })
  return wrapper
}

function chosen(view: VueWrapper): string[] {
  return view.findAll('[data-testid="chosen-topics"] .chip').map((chip) => chip.text().replace('×', '').trim())
}

describe('TopicEditor', () => {
  beforeEach(() => {
    api.createTopic.mockReset()
    api.setDocumentTopics.mockReset()
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
  })

  it('offers the topics the document does not have, system and own apart', () => {
    const view = open(['t1', 'gone'])

    expect(chosen(view)).toEqual(['Taxes'])
    const groups = view.findAll('#topic-add optgroup')
    expect(groups.map((group) => group.attributes('label'))).toEqual(['System topics', 'Your topics'])
    expect(groups.map((group) => group.findAll('option').map((option) => option.text()))).toEqual([
      ['Finance'],
      ['Travel'],
    ])
  })

  it('creates a new topic on the spot and adds it', async () => {
    api.createTopic.mockResolvedValue(topic('t3', 'Receipts'))
    const view = open()

    await view.get('#topic-new').setValue('  Receipts ')
    await view.get('form').trigger('submit')
    await flushPromises()

    expect(api.createTopic).toHaveBeenCalledWith('Receipts')
    expect(chosen(view)).toEqual(['Taxes', 'Receipts'])
    expect(view.emitted('created')).toEqual([[topic('t3', 'Receipts')]])
    expect(view.get<HTMLInputElement>('#topic-new').element.value).toBe('')
  })

  it('adds an own topic of the same name instead of making it again', async () => {
    const view = open([])
    await view.get('#topic-new').setValue('travel')
    await view.get('form').trigger('submit')
    await flushPromises()

    expect(api.createTopic).not.toHaveBeenCalled()
    expect(chosen(view)).toEqual(['Travel'])
  })

  it('shows why a new topic was refused next to its field', async () => {
    api.createTopic.mockRejectedValue(new ApiError(409, 'topic_name_taken', 'Taken.'))
    const view = open()
    await view.get('#topic-new').setValue('Finance')
    await view.get('form').trigger('submit')
    await flushPromises()

    expect(view.get('#topic-new-error').text()).toBe('There is a topic with this name already.')
    expect(view.get('#topic-new').attributes('aria-invalid')).toBe('true')
  })

  it('saves the whole set, leaving out topics no longer known', async () => {
    const saved = doc(['t1', 's1'])
    api.setDocumentTopics.mockResolvedValue(saved)
    const view = open(['t1', 'gone'])

    await view.get('#topic-add').setValue('s1')
    const save = view.findAll('button').find((button) => button.text() === 'Save topics')!
    await save.trigger('click')
    await flushPromises()

    expect(api.setDocumentTopics).toHaveBeenCalledWith('d-1', ['t1', 's1'])
    expect(view.emitted('saved')).toEqual([[saved]])
  })

  it('shows a refused save', async () => {
    api.setDocumentTopics.mockRejectedValue(new ApiError(404, 'not_found', 'Nothing here.'))
    const view = open()
    await view.findAll('button').find((button) => button.text() === 'Save topics')!.trigger('click')
    await flushPromises()

    expect(view.get('[data-testid="topics-error"]').text()).toContain('may have been deleted meanwhile')
    expect(view.emitted('saved')).toBeUndefined()
  })
})
