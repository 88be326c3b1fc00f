// Moving documents and folders by native HTML5 drag and drop. What is dragged travels in
// the DataTransfer under types of our own (so a file dragged in from the desktop, or text
// from another page, is never taken for one), and is also kept here while the drag lasts:
// `dragover` may read the types but not the data, and a folder must not be offered itself
// or a folder inside it as a place to go.

import { ref } from 'vue'

export const DOCUMENT_TYPE = 'application/x-docuvault-document'
export const FOLDER_TYPE = 'application/x-docuvault-folder'

export interface Dragged {
  kind: 'document' | 'folder'
  id: string
}

/** What this page is dragging now, if anything. */
export const dragging = ref<Dragged | null>(null)

/** Starts dragging a document or folder named `name`. */
export function startDrag(event: DragEvent, dragged: Dragged, name: string) {
  const transfer = event.dataTransfer
  if (!transfer) return
  transfer.effectAllowed = 'move'
  transfer.setData(dragged.kind === 'document' ? DOCUMENT_TYPE : FOLDER_TYPE, dragged.id)
  // Dropped outside the app (a text field, another program), it is just its name.
  transfer.setData('text/plain', name)
  dragging.value = { ...dragged }
}

export function endDrag() {
  dragging.value = null
}

/** Which of ours is being dragged over, from the types alone; null for anything else. */
export function draggedKind(event: DragEvent): Dragged['kind'] | null {
  const types = Array.from(event.dataTransfer?.types ?? [])
  if (types.includes(DOCUMENT_TYPE)) return 'document'
  if (types.includes(FOLDER_TYPE)) return 'folder'
  return null
}

/** What was dropped, if it is one of ours. */
export function readDropped(event: DragEvent): Dragged | null {
  const transfer = event.dataTransfer
  if (!transfer) return null
  const document = transfer.getData(DOCUMENT_TYPE)
  if (document) return { kind: 'document', id: document }
  const folder = transfer.getData(FOLDER_TYPE)
  if (folder) return { kind: 'folder', id: folder }
  return null
}
