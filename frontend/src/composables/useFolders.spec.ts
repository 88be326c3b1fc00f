import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { Folder } from '../services/folders'

const api = vi.hoisted(() => ({ listFolders: vi.fn() }))
vi.mock('../services/folders', () => api)

const { useFolders } = await import('./useFolders')

function folder(id: string, name: string, parent: string | null = null): Folder {
  return { id, name, parent_id: parent, created_at: '2025-01-01T00:00:00Z' }
}

const FOLDERS = [folder('p', 'Projects'), folder('y', '2026', 'p'), folder('q', 'Q1', 'y'), folder('t', 'Taxes')]

describe('useFolders', () => {
  beforeEach(() => {
    api.listFolders.mockReset()
  })

  it('builds the tree and the menu from the list', async () => {
    api.listFolders.mockResolvedValueOnce(FOLDERS)
    const folders = useFolders()

    await folders.load()

    expect(folders.loaded.value).toBe(true)
    expect(folders.tree.value.map((node) => node.folder.name)).toEqual(['Projects', 'Taxes'])
    expect(folders.options.value.map((option) => option.label)).toEqual([
      'Projects',
      'Projects / 2026',
      'Projects / 2026 / Q1',
      'Taxes',
    ])
    expect(folders.pathOf('q')).toBe('Projects / 2026 / Q1')
    expect(folders.find('t')?.name).toBe('Taxes')
    expect(folders.find(null)).toBeUndefined()
  })

  it('opens and closes folders, and reveals one by opening those above it', async () => {
    api.listFolders.mockResolvedValueOnce(FOLDERS)
    const folders = useFolders()
    await folders.load()

    folders.toggle('p')
    expect(folders.isExpanded('p')).toBe(true)
    folders.toggle('p')
    expect(folders.isExpanded('p')).toBe(false)

    folders.reveal('q')
    expect([...folders.expanded.value].sort()).toEqual(['p', 'y'])
    folders.reveal('t', true)
    expect(folders.isExpanded('t')).toBe(true)
  })

  it('keeps open folders across a reload and forgets those that are gone', async () => {
    api.listFolders.mockResolvedValueOnce(FOLDERS).mockResolvedValueOnce(FOLDERS.filter((item) => item.id !== 'y'))
    const folders = useFolders()
    await folders.load()
    folders.reveal('q')

    await folders.load()

    expect([...folders.expanded.value]).toEqual(['p'])
  })

  it('drops a list that arrives after a newer one', async () => {
    let answerOld: (value: Folder[]) => void = () => {}
    api.listFolders
      .mockReturnValueOnce(new Promise<Folder[]>((resolve) => (answerOld = resolve)))
      .mockResolvedValueOnce([folder('n', 'New')])
    const folders = useFolders()

    const old = folders.load()
    await folders.load()
    answerOld([folder('o', 'Old')])
    await old

    expect(folders.folders.value.map((item) => item.name)).toEqual(['New'])
    expect(folders.loading.value).toBe(false)
  })
})
