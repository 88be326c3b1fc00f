// What the folder tree hands down to its nodes (which render themselves recursively):
// selection, open folders and the drag-and-drop handlers, without threading them through
// every level as props and events.

import type { InjectionKey, Ref } from 'vue'

export interface FolderTreeContext {
  /** The selected entry: a folder's id, `top`, or null for every document. */
  selected: Ref<string | null>
  /** The entry a drag hovers over and may drop on (a folder's id, or `top`). */
  dropTarget: Ref<string | null>
  isExpanded: (id: string) => boolean
  toggle: (id: string) => void
  select: (id: string | null) => void
  dragStart: (event: DragEvent, id: string, name: string) => void
  dragEnd: () => void
  dragOver: (event: DragEvent, target: string) => void
  dragLeave: (event: DragEvent, target: string) => void
  drop: (event: DragEvent, target: string) => void
}

export const FOLDER_TREE: InjectionKey<FolderTreeContext> = Symbol('folder tree')
