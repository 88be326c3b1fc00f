// The documents API (docs/api/documents.md, DOC-1..7) and the upload of a file's bytes.
//
// Every call but the byte upload goes through `authorized`, so it carries the access
// token in a header and takes part in read-your-writes (the consistency token). The
// bytes go straight to the upload link the server handed out, with exactly the headers
// it named: never the Authorization header, as that link may lead to an S3 server.

import { ApiError, parseJson, toApiError, type Bytes } from './api'
import { authorized, authorizedBytes } from './session'

export type DocumentKind = 'pdf' | 'docx' | 'text' | 'markdown'
export type DocumentStatus = 'pending' | 'confirmed'
export type SortKey = 'date' | 'name' | 'size'
export type SortOrder = 'asc' | 'desc'
/**
 * Where the reading and filing of a confirmed document stands (AI-1..AI-4): its text is
 * being extracted, then classified under topics; or it failed, and says why.
 */
export type Classification = 'extracting' | 'classifying' | 'classified' | 'failed'

/** A document as the API shows it ("Document" alone would shadow the DOM's). */
export interface VaultDocument {
  id: string
  name: string
  kind: DocumentKind
  status: DocumentStatus
  /** Bytes: the stored size once confirmed, else the declared size. */
  size: number
  created_at: string
  confirmed_at: string | null
  sha256: string | null
  /** Another of this person's confirmed documents has the same content. */
  duplicate: boolean
  /** The folder it is in; null: at the top. */
  folder_id: string | null
  /** Its topics' ids (names from GET /api/topics). */
  topics: string[]
  /** Null for a pending upload (and documents from before classification). */
  classification: Classification | null
  /** Why it failed (about the file or the classifier): plain text, never HTML. */
  classification_error: string | null
}

export interface DocumentPage {
  items: VaultDocument[]
  next_cursor: string | null
  total: number
}

export interface Usage {
  used_bytes: number
  quota_bytes: number
  max_file_bytes: number
}

/** Where and how to send a new document's bytes. */
export interface UploadTarget {
  url: string
  method: string
  headers: Record<string, string>
  expires_at: string
}

export interface NewDocument {
  name: string
  size: number
  content_type: string
}

export interface CreatedDocument {
  document: VaultDocument
  upload: UploadTarget
}

export interface DownloadLink {
  url: string
  expires_at: string
}

export interface ListQuery {
  sort: SortKey
  order: SortOrder
  kind?: DocumentKind | null
  status?: DocumentStatus | null
  limit?: number
  cursor?: string | null
  /** A folder's id (documents directly in it), `top` (in none), or null for every folder. */
  folder?: string | null
  /** A topic's id: only documents with it. */
  topic?: string | null
}

/** The list's query string; empty filters are left out, so the server's defaults apply. */
export function listQuery(query: ListQuery): string {
  const params = new URLSearchParams({ sort: query.sort, order: query.order })
  if (query.kind) params.set('kind', query.kind)
  if (query.status) params.set('status', query.status)
  if (query.folder) params.set('folder', query.folder)
  if (query.topic) params.set('topic', query.topic)
  if (query.limit !== undefined) params.set('limit', String(query.limit))
  if (query.cursor) params.set('cursor', query.cursor)
  return params.toString()
}

function documentPath(id: string, rest = ''): string {
  return `/api/documents/${encodeURIComponent(id)}${rest}`
}

export function listDocuments(query: ListQuery): Promise<DocumentPage> {
  return authorized<DocumentPage>('GET', `/api/documents?${listQuery(query)}`)
}

export function getUsage(): Promise<Usage> {
  return authorized<Usage>('GET', '/api/documents/usage')
}

/** Announces an upload: 413 `file_too_large`, 409 `quota_exceeded`, 400 `invalid_input`. */
export function createDocument(input: NewDocument): Promise<CreatedDocument> {
  return authorized<CreatedDocument>('POST', '/api/documents', input)
}

/** Once the bytes are up: 409 `upload_missing` / `quota_exceeded`, 422 `content_rejected`. */
export function confirmDocument(id: string): Promise<VaultDocument> {
  return authorized<VaultDocument>('POST', documentPath(id, '/confirm'))
}

/** Reads and files it again (202, `extracting`); 409 `not_confirmed` for a pending upload. */
export function classifyDocument(id: string): Promise<VaultDocument> {
  return authorized<VaultDocument>('POST', documentPath(id, '/classify'))
}

export function renameDocument(id: string, name: string): Promise<VaultDocument> {
  return authorized<VaultDocument>('PATCH', documentPath(id), { name })
}

export function deleteDocument(id: string): Promise<void> {
  return authorized<void>('DELETE', documentPath(id))
}

/** Files a document in one of this person's folders, or at the top (`null`). */
export function moveDocument(id: string, folderId: string | null): Promise<VaultDocument> {
  return authorized<VaultDocument>('POST', documentPath(id, '/move'), { folder_id: folderId })
}

/** A short-lived link that downloads without a header, so the browser can follow it. */
export function downloadLink(id: string): Promise<DownloadLink> {
  return authorized<DownloadLink>('POST', documentPath(id, '/download-link'))
}

export function documentContent(id: string): Promise<Bytes> {
  return authorizedBytes(documentPath(id, '/content'))
}

export interface UploadProgress {
  loaded: number
  total: number
}

const UPLOAD_NETWORK_MESSAGE = 'The upload was interrupted. Check your connection and try again.'

function uploadRefused(status: number, text: string): ApiError {
  const body = parseJson(text)
  if (typeof body === 'object' && body !== null && 'message' in body) return toApiError(status, body)
  // An S3 server answers in XML, meant for programs: say what it means instead.
  const message =
    status === 400 || status === 403
      ? 'The upload link was refused or has expired. Try uploading the file again.'
      : `The upload failed (HTTP ${status}). Try again.`
  return new ApiError(status, 'upload_refused', message)
}

/**
 * Sends a file's bytes to its upload link with XMLHttpRequest, which (unlike fetch)
 * reports upload progress. Resolves once the store answered 2xx.
 */
export function uploadBytes(
  target: UploadTarget,
  file: Blob,
  onProgress: (progress: UploadProgress) => void = () => {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open(target.method || 'PUT', target.url)
    for (const [name, value] of Object.entries(target.headers)) xhr.setRequestHeader(name, value)
    xhr.upload.onprogress = (event) => {
      onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size })
    }
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress({ loaded: file.size, total: file.size })
        resolve()
      } else {
        reject(uploadRefused(xhr.status, xhr.responseText))
      }
    }
    xhr.onerror = () => reject(new ApiError(0, 'network_error', UPLOAD_NETWORK_MESSAGE))
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'The upload was stopped.'))
    xhr.ontimeout = () => reject(new ApiError(0, 'network_error', UPLOAD_NETWORK_MESSAGE))
    // A type-less copy: otherwise the browser adds the file's own Content-Type when the
    // link names none, and a signed link takes exactly the headers it was made for.
    xhr.send(file.slice(0, file.size, ''))
  })
}
