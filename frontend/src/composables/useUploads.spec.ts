import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { ApiError } from '../services/api'
import type { UploadProgress, UploadTarget, VaultDocument } from '../services/documents'

const api = vi.hoisted(() => ({
  createDocument: vi.fn(),
  uploadBytes: vi.fn(),
  confirmDocument: vi.fn(),
  deleteDocument: vi.fn(),
}))

vi.mock('../services/documents', () => api)

const { useUploads } = await import('./useUploads')

function doc(id: string, name: string): VaultDocument {
  return {
    id,
    name,
    kind: 'pdf',
    status: 'pending',
    size: 3,
    created_at: '2025-01-02T03:04:05Z',
    confirmed_at: null,
    sha256: null,
    duplicate: false,
    folder_id: null,
    topics: [],
    classification: null,
    classification_error: null,
  }
}

const TARGET: UploadTarget = { url: '/api/uploads/x', method: 'PUT', headers: {}, expires_at: '' }

/** One deferred byte upload per file, so a test decides when each finishes. */
function holdUploads() {
  const held: Array<{ name: string; progress: (p: UploadProgress) => void; finish: () => void; fail: (e: unknown) => void }> = []
  api.uploadBytes.mockImplementation(
    (_target: UploadTarget, file: File, progress: (p: UploadProgress) => void) =>
      new Promise<void>((resolve, reject) => held.push({ name: file.name, progress, finish: resolve, fail: reject })),
  )
  return held
}

function file(name: string, type = 'application/pdf'): File {
  return new File(['abc'], name, { type })
}

describe('useUploads', () => {
  beforeEach(() => {
    for (const mock of Object.values(api)) mock.mockReset()
    api.createDocument.mockImplementation(async ({ name }: { name: string }) => ({
      document: doc(`id-${name}`, name),
      upload: TARGET,
    }))
    api.confirmDocument.mockImplementation(async (id: string) => ({ ...doc(id, id.slice(3)), status: 'confirmed' }))
    api.deleteDocument.mockResolvedValue(undefined)
  })

  it('announces, uploads with progress, then confirms each file', async () => {
    const held = holdUploads()
    const onConfirmed = vi.fn()
    const uploads = useUploads({ onConfirmed })

    uploads.add([file('notes.md', '')])
    await flushPromises()

    expect(api.createDocument).toHaveBeenCalledWith({ name: 'notes.md', size: 3, content_type: 'text/markdown' })
    const item = uploads.items[0]!
    expect(item.state).toBe('uploading')
    held[0]!.progress({ loaded: 1, total: 3 })
    expect(item.percent).toBe(33)

    held[0]!.finish()
    await flushPromises()

    expect(api.confirmDocument).toHaveBeenCalledWith('id-notes.md')
    expect(item.state).toBe('done')
    expect(item.percent).toBe(100)
    expect(onConfirmed).toHaveBeenCalledWith(expect.objectContaining({ id: 'id-notes.md', status: 'confirmed' }))
    expect(uploads.active.value).toBe(false)
  })

  it('runs at most two at once and starts the next when one finishes', async () => {
    const held = holdUploads()
    const uploads = useUploads({ concurrency: 2 })

    uploads.add([file('a.pdf'), file('b.pdf'), file('c.pdf')])
    await flushPromises()

    expect(held.map((one) => one.name)).toEqual(['a.pdf', 'b.pdf'])
    expect(uploads.items.map((item) => item.state)).toEqual(['uploading', 'uploading', 'queued'])

    held[1]!.finish()
    await flushPromises()

    expect(held.map((one) => one.name)).toEqual(['a.pdf', 'b.pdf', 'c.pdf'])
    expect(uploads.items.map((item) => item.state)).toEqual(['uploading', 'done', 'uploading'])
  })

  it('fails a file the quota refuses with the server message, and goes on with the next', async () => {
    const held = holdUploads()
    const onFailed = vi.fn()
    const message = 'This file needs 5.0 MB but only 2.1 MB of your 100 MB are free.'
    api.createDocument.mockRejectedValueOnce(new ApiError(409, 'quota_exceeded', message))
    const uploads = useUploads({ concurrency: 1, onFailed })

    uploads.add([file('big.pdf'), file('small.pdf')])
    await flushPromises()

    expect(uploads.items[0]).toMatchObject({ state: 'failed', message })
    expect(onFailed).toHaveBeenCalledWith(expect.objectContaining({ name: 'big.pdf' }))
    expect(held.map((one) => one.name)).toEqual(['small.pdf'])
    held[0]!.finish()
    await flushPromises()
    expect(uploads.items[1]!.state).toBe('done')
    // Nothing was made for the refused file, so nothing is deleted.
    expect(api.deleteDocument).not.toHaveBeenCalled()
  })

  it('shows a field message for an invalid file', async () => {
    api.createDocument.mockRejectedValueOnce(
      new ApiError(400, 'invalid_input', 'Some fields need attention.', {
        content_type: 'DocuVault takes PDF, Word, text and Markdown files.',
      }),
    )
    const uploads = useUploads()

    uploads.add([file('photo.heic', '')])
    await flushPromises()

    expect(uploads.items[0]).toMatchObject({
      state: 'failed',
      message: 'DocuVault takes PDF, Word, text and Markdown files.',
    })
  })

  it('deletes the pending document when its bytes were refused or did not fit', async () => {
    const held = holdUploads()
    api.confirmDocument.mockRejectedValueOnce(new ApiError(409, 'quota_exceeded', 'No room left.'))
    const uploads = useUploads({ concurrency: 2 })

    uploads.add([file('a.pdf'), file('b.pdf')])
    await flushPromises()
    held[0]!.fail(new ApiError(403, 'upload_refused', 'The upload link was refused or has expired.'))
    held[1]!.finish()
    await flushPromises()

    expect(uploads.items.map((item) => item.state)).toEqual(['failed', 'failed'])
    expect(uploads.items[1]!.message).toBe('No room left.')
    expect(api.deleteDocument.mock.calls).toEqual([['id-a.pdf'], ['id-b.pdf']])
  })

  it('keeps the document when the confirm may have gone through, or the server removed it', async () => {
    const held = holdUploads()
    api.confirmDocument
      .mockRejectedValueOnce(new ApiError(0, 'network_error', 'Could not reach DocuVault.'))
      .mockRejectedValueOnce(new ApiError(422, 'content_rejected', 'This is not a PDF.'))
    const uploads = useUploads({ concurrency: 2 })

    uploads.add([file('a.pdf'), file('b.pdf')])
    await flushPromises()
    held[0]!.finish()
    held[1]!.finish()
    await flushPromises()

    expect(uploads.items.map((item) => item.message)).toEqual(['Could not reach DocuVault.', 'This is not a PDF.'])
    expect(api.deleteDocument).not.toHaveBeenCalled()
  })

  it('clears finished rows and keeps running ones', async () => {
    const held = holdUploads()
    const uploads = useUploads({ concurrency: 2 })
    uploads.add([file('a.pdf'), file('b.pdf')])
    await flushPromises()
    held[0]!.finish()
    await flushPromises()
    expect(uploads.finished.value).toBe(true)

    uploads.clearFinished()

    expect(uploads.items.map((item) => item.name)).toEqual(['b.pdf'])
    expect(uploads.finished.value).toBe(false)
  })
})
