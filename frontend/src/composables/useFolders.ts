// The folder sidebar's state: the folders, which of them are open, and the tree built
// from them. Which folders are open survives a reload of the list (a rename, a move),
// and opening a folder's place shows it wherever it now is.

import { computed, ref } from 'vue'
import { listFolders, type Folder } from '../services/folders'
import { ancestorIds, buildFolderTree, folderOptions, folderPath } from '../utils/folderTree'

export function useFolders() {
  const folders = ref<Folder[]>([])
  const expanded = ref<Set<string>>(new Set())
  const loaded = ref(false)
  const loading = ref(false)
  let latest = 0

  const tree = computed(() => buildFolderTree(folders.value))
  const options = computed(() => folderOptions(folders.value))

  /** Loads the folders; throws the ApiError when the server refuses. */
  async function load(): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const items = await listFolders()
      if (ticket !== latest) return
      folders.value = items
      // Forget open folders that are gone.
      const ids = new Set(items.map((folder) => folder.id))
      expanded.value = new Set([...expanded.value].filter((id) => ids.has(id)))
      loaded.value = true
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  function isExpanded(id: string): boolean {
    return expanded.value.has(id)
  }

  function setExpanded(id: string, open: boolean) {
    const next = new Set(expanded.value)
    if (open) next.add(id)
    else next.delete(id)
    expanded.value = next
  }

  function toggle(id: string) {
    setExpanded(id, !isExpanded(id))
  }

  /** Opens every folder above `id` (and `id` itself with `self`), so it can be seen. */
  function reveal(id: string, self = false) {
    const next = new Set(expanded.value)
    for (const ancestor of ancestorIds(folders.value, id)) next.add(ancestor)
    if (self) next.add(id)
    expanded.value = next
  }

  function find(id: string | null): Folder | undefined {
    return id === null ? undefined : folders.value.find((folder) => folder.id === id)
  }

  function pathOf(id: string): string {
    return folderPath(folders.value, id)
  }

  return { folders, expanded, loaded, loading, tree, options, load, isExpanded, setExpanded, toggle, reveal, find, pathOf }
}

export type FoldersState = ReturnType<typeof useFolders>
