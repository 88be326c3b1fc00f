import { describe, expect, it } from 'vitest'
import type { Folder } from '../services/folders'
import { ancestorIds, buildFolderTree, flattenTree, folderOptions, folderPath, subtreeIds } from './folderTree'

function folder(id: string, name: string, parent: string | null = null): Folder {
  return { id, name, parent_id: parent, created_at: '2025-01-01T00:00:00Z' }
}

// Projects ─┬─ 2026 ─── Q1
//           └─ 2025
// Archive
// Taxes
const FOLDERS = [
  folder('q1', 'Q1', 'y26'),
  folder('tax', 'Taxes'),
  folder('y25', '2025', 'proj'),
  folder('proj', 'Projects'),
  folder('arc', 'archive'),
  folder('y26', '2026', 'proj'),
]

function shape(nodes: ReturnType<typeof buildFolderTree>): unknown[] {
  return nodes.map((node) => (node.children.length ? [node.folder.name, shape(node.children)] : node.folder.name))
}

describe('buildFolderTree', () => {
  it('nests folders under their parents, each level by name (case and digits read naturally)', () => {
    const tree = buildFolderTree(FOLDERS)

    expect(shape(tree)).toEqual(['archive', ['Projects', ['2025', ['2026', ['Q1']]]], 'Taxes'])
    expect(tree[1]!.depth).toBe(0)
    expect(tree[1]!.children[1]!.depth).toBe(1)
    expect(tree[1]!.children[1]!.children[0]!.depth).toBe(2)
  })

  it('sorts numbered names as numbers', () => {
    const tree = buildFolderTree([folder('a', 'Part 10'), folder('b', 'Part 9'), folder('c', 'Part 1')])
    expect(shape(tree)).toEqual(['Part 1', 'Part 9', 'Part 10'])
  })

  it('shows a folder whose parent is missing at the top rather than losing it', () => {
    const tree = buildFolderTree([folder('a', 'Alone', 'gone'), folder('b', 'Base')])
    expect(shape(tree)).toEqual(['Alone', 'Base'])
  })

  it('does not loop on a cycle, and still shows every folder once', () => {
    const tree = buildFolderTree([folder('a', 'A', 'b'), folder('b', 'B', 'a'), folder('c', 'C')])
    const names = flattenTree(tree).map((node) => node.folder.name)
    expect(names.sort()).toEqual(['A', 'B', 'C'])
  })

  it('is empty for no folders', () => {
    expect(buildFolderTree([])).toEqual([])
  })
})

describe('flattenTree', () => {
  it('lists every folder depth first, or only the open ones’ children', () => {
    const tree = buildFolderTree(FOLDERS)

    expect(flattenTree(tree).map((node) => node.folder.name)).toEqual([
      'archive',
      'Projects',
      '2025',
      '2026',
      'Q1',
      'Taxes',
    ])
    expect(flattenTree(tree, new Set()).map((node) => node.folder.name)).toEqual(['archive', 'Projects', 'Taxes'])
    expect(flattenTree(tree, new Set(['proj'])).map((node) => node.folder.name)).toEqual([
      'archive',
      'Projects',
      '2025',
      '2026',
      'Taxes',
    ])
    // A folder open inside a closed one stays hidden.
    expect(flattenTree(tree, new Set(['y26'])).map((node) => node.folder.name)).toEqual([
      'archive',
      'Projects',
      'Taxes',
    ])
  })
})

describe('places in the tree', () => {
  it('knows a folder with everything below it', () => {
    expect([...subtreeIds(FOLDERS, 'proj')].sort()).toEqual(['proj', 'q1', 'y25', 'y26'])
    expect([...subtreeIds(FOLDERS, 'q1')]).toEqual(['q1'])
  })

  it('knows the folders above one, from the top down', () => {
    expect(ancestorIds(FOLDERS, 'q1')).toEqual(['proj', 'y26'])
    expect(ancestorIds(FOLDERS, 'proj')).toEqual([])
    expect(ancestorIds(FOLDERS, 'unknown')).toEqual([])
  })

  it('names a folder by its path', () => {
    expect(folderPath(FOLDERS, 'q1')).toBe('Projects / 2026 / Q1')
    expect(folderPath(FOLDERS, 'tax')).toBe('Taxes')
    expect(folderPath(FOLDERS, 'unknown')).toBe('')
  })

  it('offers every folder for a menu, in tree order, labelled with its path', () => {
    expect(folderOptions(FOLDERS)).toEqual([
      { id: 'arc', label: 'archive', depth: 0 },
      { id: 'proj', label: 'Projects', depth: 0 },
      { id: 'y25', label: 'Projects / 2025', depth: 1 },
      { id: 'y26', label: 'Projects / 2026', depth: 1 },
      { id: 'q1', label: 'Projects / 2026 / Q1', depth: 2 },
      { id: 'tax', label: 'Taxes', depth: 0 },
    ])
  })
})
