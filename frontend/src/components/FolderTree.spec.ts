import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { ApiError } from '../services/api'
import type { Folder } from '../services/folders'
import { DOCUMENT_TYPE, FOLDER_TYPE, endDrag } from '../utils/dragMove'

const api = vi.hoisted(() => ({
  listFolders: vi.fn(),
  createFolder: vi.fn(),
  renameFolder: vi.fn(),
  moveFolder: vi.fn(),
  deleteFolder: vi.fn(),
}))
vi.mock('../services/folders', () => api)

const { default: FolderTree } = await import('./FolderTree.vue')
const { useFolders } = await import('../composables/useFolders')

function folder(id: string, name: string, parent: string | null = null): Folder {
  return { id, name, parent_id: parent, created_at: '2025-01-01T00:00:00Z' }
}

let folders: Folder[]
let wrapper: VueWrapper | undefined

async function mountTree(selected: string | null = null) {
  const state = useFolders()
  await state.load()
  wrapper = mount(FolderTree, { props: { folders: state, selected }, attachTo: document.body })
  await flushPromises()
  return { view: wrapper, state }
}

function buttonNamed(view: VueWrapper, name: string) {
  const found = view
    .findAll('button')
    .find((button) => (button.attributes('aria-label') ?? button.text().replace(/\s+/g, ' ').trim()) === name)
  if (!found) throw new Error(`no button named "${name}"`)
  return found
}

function names(view: VueWrapper): string[] {
  return view.findAll('[data-testid="folder-item"]').map((item) => item.text())
}

/** A stand-in for DataTransfer (jsdom has none). */
function transfer(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial))
  return {
    get types() {
      return [...data.keys()]
    },
    setData: (type: string, value: string) => void data.set(type, value),
    getData: (type: string) => data.get(type) ?? '',
    effectAllowed: 'all',
    dropEffect: 'none',
  }
}

describe('FolderTree', () => {
  beforeEach(() => {
    for (const mock of Object.values(api)) mock.mockReset()
    folders = [folder('p', 'Projects'), folder('y', '2026', 'p'), folder('t', 'Taxes')]
    api.listFolders.mockImplementation(async () => [...folders])
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
    endDrag()
  })

  it('shows "All documents", "Top level" and the top folders; opens a folder to show those inside', async () => {
    const { view } = await mountTree()

    expect(view.get('[data-testid="folder-all"]').attributes('aria-current')).toBe('true')
    expect(view.get('[data-testid="folder-top"]').text()).toBe('Top level')
    expect(names(view)).toEqual(['Projects', 'Taxes'])
    const toggle = buttonNamed(view, 'Expand Projects')
    expect(toggle.attributes('aria-expanded')).toBe('false')

    await toggle.trigger('click')
    expect(names(view)).toEqual(['Projects', '2026', 'Taxes'])
    expect(buttonNamed(view, 'Collapse Projects').attributes('aria-expanded')).toBe('true')
    // Nested lists, so the structure is there for screen readers too.
    expect(view.find('[data-folder="p"] ul [data-folder-name="2026"]').exists()).toBe(true)
  })

  it('tells the page what was chosen, and marks the chosen folder', async () => {
    const { view } = await mountTree('t')
    expect(view.get('[data-folder-name="Taxes"]').attributes('aria-current')).toBe('true')
    expect(view.get('[data-testid="folder-all"]').attributes('aria-current')).toBeUndefined()

    await view.get('[data-folder-name="Projects"]').trigger('click')
    await view.get('[data-testid="folder-top"]').trigger('click')
    await view.get('[data-testid="folder-all"]').trigger('click')
    expect(view.emitted('select')).toEqual([['p'], ['top'], [null]])
  })

  it('creates a folder at the top when none is chosen', async () => {
    api.createFolder.mockImplementation(async (name: string, parent: string | null) => {
      const created = folder('n', name, parent)
      folders.push(created)
      return created
    })
    const { view } = await mountTree()

    await buttonNamed(view, 'New folder').trigger('click')
    await flushPromises()
    expect(view.text()).toContain('At the top level')
    expect(document.activeElement?.id).toBe('folder-name')
    await view.get('form').trigger('submit')
    expect(view.get('#folder-name-error').text()).toBe('Enter a name for the folder.')

    await view.get('#folder-name').setValue('  Receipts ')
    await view.get('form').trigger('submit')
    await flushPromises()

    expect(api.createFolder).toHaveBeenCalledWith('Receipts', null)
    expect(view.emitted('changed')).toEqual([['Created folder Receipts.']])
    expect(names(view)).toContain('Receipts')
    expect(view.find('form').exists()).toBe(false)
  })

  it('creates a folder inside the chosen one and shows it there', async () => {
    api.createFolder.mockImplementation(async (name: string, parent: string | null) => {
      const created = folder('n', name, parent)
      folders.push(created)
      return created
    })
    const { view, state } = await mountTree('p')

    await buttonNamed(view, 'New folder').trigger('click')
    await flushPromises()
    expect(view.text()).toContain('Inside Projects')
    await view.get('#folder-name').setValue('Q1')
    await view.get('form').trigger('submit')
    await flushPromises()

    expect(api.createFolder).toHaveBeenCalledWith('Q1', 'p')
    expect(state.isExpanded('p')).toBe(true)
    expect(names(view)).toEqual(['Projects', '2026', 'Q1', 'Taxes'])
    expect(view.emitted('changed')).toEqual([['Created folder Q1 in Projects.']])
  })

  it('shows why a name was refused next to the field', async () => {
    api.renameFolder.mockRejectedValue(
      new ApiError(400, 'invalid_input', 'Some fields need attention.', { name: 'Use at most 255 characters.' }),
    )
    const { view } = await mountTree('t')

    await buttonNamed(view, 'Rename folder Taxes').trigger('click')
    await flushPromises()
    expect(view.get<HTMLInputElement>('#folder-name').element.value).toBe('Taxes')
    await view.get('#folder-name').setValue('x'.repeat(300))
    await view.get('form').trigger('submit')
    await flushPromises()

    expect(view.get('#folder-name-error').text()).toBe('Use at most 255 characters.')
    expect(view.get('#folder-name').attributes('aria-invalid')).toBe('true')
    expect(view.emitted('changed')).toBeUndefined()
  })

  it('deletes only an empty folder at first, and offers what to do with the contents', async () => {
    api.deleteFolder
      .mockRejectedValueOnce(new ApiError(409, 'folder_not_empty', 'This folder is not empty.'))
      .mockImplementationOnce(async () => {
        folders = folders.filter((item) => item.id !== 'y')
      })
    const { view } = await mountTree('y')

    await buttonNamed(view, 'Delete folder 2026').trigger('click')
    await flushPromises()
    const dialog = view.get('[role="dialog"]')
    expect(dialog.text()).toContain('Delete folder ‘2026’?')
    expect(dialog.text()).toContain('Move its folders and documents to ‘Projects’')
    await buttonNamed(view, 'Delete folder').trigger('click')
    await flushPromises()
    expect(api.deleteFolder).toHaveBeenLastCalledWith('y', 'refuse')
    expect(view.get('[data-testid="delete-folder-error"]').text()).toContain('This folder is not empty.')

    await dialog.get('input[value="delete"]').setValue(true)
    expect(dialog.text()).toContain('will be deleted for good')
    expect(buttonNamed(view, 'Delete folder and contents').classes()).toContain('danger')
    await dialog.get('input[value="move_up"]').setValue(true)
    await buttonNamed(view, 'Delete folder').trigger('click')
    await flushPromises()

    expect(api.deleteFolder).toHaveBeenLastCalledWith('y', 'move_up')
    expect(view.find('[role="dialog"]').exists()).toBe(false)
    expect(view.emitted('select')).toEqual([['p']])
    expect(view.emitted('changed')).toEqual([['Deleted folder 2026. What it held is now in ‘Projects’.']])
  })

  it('hands a document dropped on a folder or on the top level to the page', async () => {
    const { view } = await mountTree()
    const dropped = transfer({ [DOCUMENT_TYPE]: 'd-1' })

    const projects = view.get('[data-folder-name="Projects"]')
    const over = new Event('dragover', { cancelable: true })
    Object.assign(over, { dataTransfer: dropped })
    projects.element.dispatchEvent(over)
    expect(over.defaultPrevented).toBe(true)
    await projects.trigger('drop', { dataTransfer: dropped })
    await view.get('[data-testid="folder-top"]').trigger('drop', { dataTransfer: dropped })

    expect(view.emitted('move-document')).toEqual([
      ['d-1', 'p'],
      ['d-1', null],
    ])
  })

  it('ignores what is not ours: files from the desktop are for the upload zone', async () => {
    const { view } = await mountTree()
    const over = new Event('dragover', { cancelable: true })
    Object.assign(over, { dataTransfer: transfer({ Files: '' }) })
    view.get('[data-folder-name="Projects"]').element.dispatchEvent(over)
    expect(over.defaultPrevented).toBe(false)
  })

  it('moves a folder dropped on another, but never into itself or a folder inside it', async () => {
    api.moveFolder.mockResolvedValue(undefined)
    const { view, state } = await mountTree()
    state.setExpanded('p', true)
    await flushPromises()
    const dragged = transfer()

    await view.get('[data-folder-name="Projects"]').trigger('dragstart', { dataTransfer: dragged })
    expect(dragged.getData(FOLDER_TYPE)).toBe('p')
    const intoChild = new Event('dragover', { cancelable: true })
    Object.assign(intoChild, { dataTransfer: dragged })
    view.get('[data-folder-name="2026"]').element.dispatchEvent(intoChild)
    expect(intoChild.defaultPrevented).toBe(false)

    await view.get('[data-folder-name="Taxes"]').trigger('drop', { dataTransfer: dragged })
    await flushPromises()
    expect(api.moveFolder).toHaveBeenCalledWith('p', 't')
    expect(view.emitted('changed')).toEqual([['Moved folder Projects into ‘Taxes’.']])
  })

  it('shows a refused move above the tree', async () => {
    api.moveFolder.mockRejectedValue(new ApiError(409, 'folder_into_itself', 'No.'))
    const { view } = await mountTree('p')

    await view.get('select[aria-label="Move folder Projects to"]').setValue('t')
    await flushPromises()

    expect(api.moveFolder).toHaveBeenCalledWith('p', 't')
    expect(view.get('[data-testid="folder-error"]').text()).toBe(
      'A folder cannot go into itself or into a folder inside it.',
    )
  })

  it('offers to move a folder anywhere but into itself or below it', async () => {
    const { view } = await mountTree('p')
    const options = view.get('select[aria-label="Move folder Projects to"]').findAll('option')
    expect(options.map((option) => option.text())).toEqual(['Move to…', 'Taxes'])
  })

  it('asks the page to share the chosen folder', async () => {
    const { view } = await mountTree('t')
    await buttonNamed(view, 'Share folder Taxes').trigger('click')
    expect(view.emitted('share')).toEqual([[{ kind: 'folder', id: 't', name: 'Taxes' }]])
  })
})
