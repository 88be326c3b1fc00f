// A person's folders (docs/api/documents.md, "Folders", ORG-1): the flat list, and
// creating, renaming, moving and deleting. The tree is built from `parent_id` in
// utils/folderTree.ts. Every call carries the access token and takes part in
// read-your-writes, through `authorized`.

import { authorized } from './session'

export interface Folder {
  id: string
  /** null: at the top. */
  parent_id: string | null
  name: string
  created_at: string
}

/** What happens to what a deleted folder holds. */
export type DeleteContents = 'refuse' | 'move_up' | 'delete'

function folderPath(id: string, rest = ''): string {
  return `/api/folders/${encodeURIComponent(id)}${rest}`
}

/** Every folder, by name. */
export async function listFolders(): Promise<Folder[]> {
  return (await authorized<{ items: Folder[] }>('GET', '/api/folders')).items
}

/** 404 when the parent is not one of this person's; 400 (`fields.name`) for a bad name. */
export function createFolder(name: string, parentId: string | null): Promise<Folder> {
  return authorized<Folder>('POST', '/api/folders', { name, parent_id: parentId })
}

export function renameFolder(id: string, name: string): Promise<void> {
  return authorized<void>('PATCH', folderPath(id), { name })
}

/** Into another folder, or to the top (`null`); 409 `folder_into_itself` into itself or below. */
export function moveFolder(id: string, folderId: string | null): Promise<void> {
  return authorized<void>('POST', folderPath(id, '/move'), { folder_id: folderId })
}

/** 409 `folder_not_empty` when `refuse` meets a folder that holds something. */
export function deleteFolder(id: string, contents: DeleteContents = 'refuse'): Promise<void> {
  return authorized<void>('DELETE', folderPath(id, `?contents=${contents}`))
}
