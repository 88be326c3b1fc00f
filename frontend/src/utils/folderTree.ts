// The folder tree, built from the flat list the API answers (each folder names its
// parent). Pure functions, so the sidebar, the "Move to…" menus and the search filter
// all agree on the order and the names.

import type { Folder } from '../services/folders'

export interface FolderNode {
  folder: Folder
  children: FolderNode[]
  /** 0 at the top. */
  depth: number
}

function byName(a: Folder, b: Folder): number {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base', numeric: true }) || a.id.localeCompare(b.id)
}

/**
 * The folders as a tree, each level by name. A folder whose parent is not in the list
 * (deleted meanwhile, or a list read mid-change) is shown at the top rather than lost;
 * a cycle, which the server never makes, cannot make this loop.
 */
export function buildFolderTree(folders: readonly Folder[]): FolderNode[] {
  const ids = new Set(folders.map((folder) => folder.id))
  const childrenOf = new Map<string | null, Folder[]>()
  for (const folder of folders) {
    const parent = folder.parent_id !== null && ids.has(folder.parent_id) ? folder.parent_id : null
    const siblings = childrenOf.get(parent) ?? []
    siblings.push(folder)
    childrenOf.set(parent, siblings)
  }
  const placed = new Set<string>()
  function grow(parent: string | null, depth: number): FolderNode[] {
    return [...(childrenOf.get(parent) ?? [])].sort(byName).flatMap((folder) => {
      if (placed.has(folder.id)) return []
      placed.add(folder.id)
      return [{ folder, depth, children: grow(folder.id, depth + 1) }]
    })
  }
  const tree = grow(null, 0)
  // Folders caught in a cycle never hang below the top: show them there.
  const stranded = folders.filter((folder) => !placed.has(folder.id)).sort(byName)
  for (const folder of stranded) {
    if (placed.has(folder.id)) continue
    placed.add(folder.id)
    tree.push({ folder, depth: 0, children: grow(folder.id, 1) })
  }
  return tree
}

/** Every node, depth first, in display order (`expanded` given: only the open ones' children). */
export function flattenTree(tree: readonly FolderNode[], expanded?: ReadonlySet<string>): FolderNode[] {
  const rows: FolderNode[] = []
  const walk = (nodes: readonly FolderNode[]) => {
    for (const node of nodes) {
      rows.push(node)
      if (!expanded || expanded.has(node.folder.id)) walk(node.children)
    }
  }
  walk(tree)
  return rows
}

/** The folder and every folder below it: where it cannot be moved to. */
export function subtreeIds(folders: readonly Folder[], id: string): Set<string> {
  const inside = new Set([id])
  let grew = true
  while (grew) {
    grew = false
    for (const folder of folders) {
      if (folder.parent_id !== null && inside.has(folder.parent_id) && !inside.has(folder.id)) {
        inside.add(folder.id)
        grew = true
      }
    }
  }
  return inside
}

/** The folders above `id`, from the top down, not including it. */
export function ancestorIds(folders: readonly Folder[], id: string): string[] {
  const byId = new Map(folders.map((folder) => [folder.id, folder]))
  const chain: string[] = []
  let parent = byId.get(id)?.parent_id ?? null
  while (parent !== null && parent !== id && byId.has(parent) && !chain.includes(parent)) {
    chain.unshift(parent)
    parent = byId.get(parent)?.parent_id ?? null
  }
  return chain
}

/** A folder's place as people read it: "Projects / 2026"; '' for an unknown id. */
export function folderPath(folders: readonly Folder[], id: string): string {
  const byId = new Map(folders.map((folder) => [folder.id, folder]))
  const folder = byId.get(id)
  if (!folder) return ''
  return [...ancestorIds(folders, id).map((ancestor) => byId.get(ancestor)!.name), folder.name].join(' / ')
}

export interface FolderOption {
  id: string
  /** The whole path, for a select's option. */
  label: string
  depth: number
}

/** Every folder for a select, in tree order, each labelled with its path. */
export function folderOptions(folders: readonly Folder[]): FolderOption[] {
  return flattenTree(buildFolderTree(folders)).map((node) => ({
    id: node.folder.id,
    label: folderPath(folders, node.folder.id),
    depth: node.depth,
  }))
}
