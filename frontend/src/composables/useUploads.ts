// The upload queue: each file is announced (POST /api/documents), its bytes sent to the
// link the server gave (with progress), then confirmed. A few files go at once; a file the
// server refuses (too large, over quota, wrong type) fails on its own and the rest go on.

import { computed, reactive, readonly } from 'vue'
import { ApiError } from '../services/api'
import {
  confirmDocument,
  createDocument,
  deleteDocument,
  uploadBytes,
  type VaultDocument,
} from '../services/documents'
import { contentTypeFor } from '../utils/contentType'

export type UploadState = 'queued' | 'uploading' | 'checking' | 'done' | 'failed'

export interface UploadItem {
  key: number
  name: string
  size: number
  state: UploadState
  /** 0–100, whole numbers: how much of the bytes the store has received. */
  percent: number
  /** Why it failed, in the server's words when it gave some. */
  message: string
}

export interface UploadOptions {
  /** How many files upload at once. */
  concurrency?: number
  /** Called after each file is confirmed: the list and the quota meter change then. */
  onConfirmed?: (document: VaultDocument) => void | Promise<void>
  /** Called after a file failed, with the item (its message says why). */
  onFailed?: (item: UploadItem) => void
}

const UNEXPECTED_MESSAGE = 'Something went wrong. Please try again.'

function messageOf(failure: unknown): string {
  if (!(failure instanceof ApiError)) return UNEXPECTED_MESSAGE
  return Object.values(failure.fields)[0] ?? failure.message
}

/**
 * Whether a document the server made should be deleted after a failure: when its bytes
 * never arrived or were refused at confirm, it would linger as "pending" for an hour.
 * Not after a network failure at confirm (the confirm may have gone through), and not
 * after `content_rejected` (the server removed it already).
 */
function shouldDiscard(step: 'bytes' | 'confirm', failure: unknown): boolean {
  if (step === 'bytes') return true
  return failure instanceof ApiError && failure.status === 409
}

export function useUploads(options: UploadOptions = {}) {
  const concurrency = Math.max(1, options.concurrency ?? 2)
  const items = reactive<UploadItem[]>([])
  /** Files waiting for a free slot, with their rows. */
  const queue: Array<{ item: UploadItem; file: File }> = []
  let nextKey = 1
  let running = 0

  async function upload(item: UploadItem, file: File) {
    item.state = 'uploading'
    item.percent = 0
    let created: VaultDocument | null = null
    let step: 'bytes' | 'confirm' = 'bytes'
    let confirmed: VaultDocument
    try {
      const { document, upload: target } = await createDocument({
        name: file.name,
        size: file.size,
        content_type: contentTypeFor(file),
      })
      created = document
      await uploadBytes(target, file, ({ loaded, total }) => {
        item.percent = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0
      })
      item.percent = 100
      item.state = 'checking'
      step = 'confirm'
      confirmed = await confirmDocument(document.id)
    } catch (failure) {
      item.state = 'failed'
      item.message = messageOf(failure)
      if (created !== null && shouldDiscard(step, failure)) {
        await deleteDocument(created.id).catch(() => undefined)
      }
      options.onFailed?.(item)
      return
    }
    item.state = 'done'
    // The page reports its own refresh failures; one must not stop the queue.
    await Promise.resolve(options.onConfirmed?.(confirmed)).catch(() => undefined)
  }

  function pump() {
    while (running < concurrency) {
      const next = queue.shift()
      if (next === undefined) return
      running += 1
      void upload(next.item, next.file).finally(() => {
        running -= 1
        pump()
      })
    }
  }

  /** Queues files (from the file input or a drop) and starts as many as may run. */
  function add(list: Iterable<File>) {
    for (const file of list) {
      items.push({ key: nextKey++, name: file.name, size: file.size, state: 'queued', percent: 0, message: '' })
      // The reactive row, so changes to it show.
      queue.push({ item: items[items.length - 1]!, file })
    }
    pump()
  }

  /** Removes the rows of files that are done or failed. */
  function clearFinished() {
    for (let index = items.length - 1; index >= 0; index--) {
      const state = items[index]!.state
      if (state === 'done' || state === 'failed') items.splice(index, 1)
    }
  }

  const active = computed(() => items.some((item) => item.state !== 'done' && item.state !== 'failed'))
  const finished = computed(() => items.some((item) => item.state === 'done' || item.state === 'failed'))

  return { items: readonly(items), add, clearFinished, active, finished }
}
