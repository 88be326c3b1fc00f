// Sharing (docs/api/documents.md, "Sharing", ORG-3): read-only shares of a document or a
// folder with another person, by handle; the shares one granted; what others shared.

import { ApiError, checkHandle } from './api'
import type { VaultDocument } from './documents'
import { authorized } from './session'
import { normalizeHandle, validateHandle } from '../composables/useRegisterForm'

/** What is shared: one document, or a folder with everything in and below it. */
export interface ShareTarget {
  kind: 'document' | 'folder'
  id: string
  name: string
}

/** A share as the person who granted it sees it. */
export interface Share {
  id: string
  /** The grantee's handle. */
  handle: string
  document_id: string | null
  folder_id: string | null
  /** The shared document's or folder's name. */
  name: string
  permission: 'read'
  granted_at: string
}

export interface Granted {
  id: string
  handle: string
  permission: 'read'
}

/** A document someone shared with this person. */
export interface SharedDocument extends VaultDocument {
  /** The owner's handle. */
  shared_by: string
  /** The shared folder it is in (or below), or null when the document itself was shared. */
  via_folder: string | null
}

/** 201 with the share (the same one again for the same thing and person); 422 `no_recipient`. */
export function share(target: ShareTarget, handle: string): Promise<Granted> {
  const body =
    target.kind === 'document'
      ? { handle: normalizeHandle(handle), document_id: target.id }
      : { handle: normalizeHandle(handle), folder_id: target.id }
  return authorized<Granted>('POST', '/api/shares', body)
}

/** The shares this person granted, newest first; `targetId`: only that document's or folder's. */
export async function listShares(targetId?: string): Promise<Share[]> {
  const query = targetId ? `?${new URLSearchParams({ target: targetId })}` : ''
  return (await authorized<{ items: Share[] }>('GET', `/api/shares${query}`)).items
}

export function revokeShare(id: string): Promise<void> {
  return authorized<void>('DELETE', `/api/shares/${encodeURIComponent(id)}`)
}

/** The documents shared with this person, newest first. */
export async function sharedWithMe(): Promise<SharedDocument[]> {
  return (await authorized<{ items: SharedDocument[] }>('GET', '/api/shared')).items
}

/** What the handle field says about what was typed. */
export type HandleLookup =
  | { state: 'empty' }
  | { state: 'invalid'; message: string }
  | { state: 'unknown' }
  | { state: 'found'; handle: string }

/**
 * Whether someone has this handle. Handles are public (registration tells whether one is
 * taken); whether that person can receive a share only the share itself tells.
 */
export async function lookUpHandle(raw: string): Promise<HandleLookup> {
  const handle = normalizeHandle(raw)
  if (handle === '') return { state: 'empty' }
  const problem = validateHandle(handle)
  if (problem) return { state: 'invalid', message: problem }
  try {
    const answer = await checkHandle(handle)
    return answer.available ? { state: 'unknown' } : { state: 'found', handle: answer.handle }
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 400) {
      return { state: 'invalid', message: failure.fields.handle ?? failure.message }
    }
    throw failure
  }
}

export const NO_RECIPIENT_MESSAGE =
  'No one with this handle can receive shares. Check the handle: it may be misspelt, the account may be closed, or it may be your own.'

/** What to tell people when sharing, listing or revoking failed. */
export function shareErrorMessage(failure: unknown, action: 'share' | 'list' | 'revoke'): string {
  if (!(failure instanceof ApiError)) return 'Something went wrong. Please try again.'
  switch (failure.code) {
    case 'no_recipient':
      return NO_RECIPIENT_MESSAGE
    case 'not_found':
      return action === 'revoke'
        ? 'This share was revoked already.'
        : 'This is no longer yours to share: it may have been deleted.'
    case 'invalid_input':
      return failure.fields.handle ?? Object.values(failure.fields)[0] ?? failure.message
    default:
      return failure.message
  }
}
