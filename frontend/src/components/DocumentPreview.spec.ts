import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { ApiError } from '../services/api'
import type { DocumentKind, VaultDocument } from '../services/documents'

const documents = vi.hoisted(() => ({ documentContent: vi.fn() }))
vi.mock('../services/documents', () => documents)

// pdf.js needs a real canvas and a worker: the preview is tested against its interface.
const pdf = vi.hoisted(() => ({
  openPdf: vi.fn(),
  renderPage: vi.fn(),
  destroy: vi.fn(),
}))
vi.mock('../services/pdf', () => ({ openPdf: pdf.openPdf }))

const { default: DocumentPreview } = await import('./DocumentPreview.vue')

function doc(name: string, kind: DocumentKind): VaultDocument {
  return {
    id: 'd-1',
    name,
    kind,
    status: 'confirmed',
    size: 10,
    created_at: '2025-01-02T03:04:05Z',
    confirmed_at: '2025-01-02T03:04:05Z',
    sha256: null,
    duplicate: false,
    folder_id: null,
    topics: [],
    classification: null,
    classification_error: null,
  }
}

function mountPreview(document: VaultDocument) {
  return mount(DocumentPreview, { props: { document }, attachTo: window.document.body })
}

function buttonNamed(wrapper: ReturnType<typeof mountPreview>, name: string) {
  return wrapper.findAll('button').find((button) => button.text() === name)!
}

describe('DocumentPreview', () => {
  beforeEach(() => {
    documents.documentContent.mockReset()
    pdf.openPdf.mockReset()
    pdf.renderPage.mockReset().mockResolvedValue(undefined)
    pdf.destroy.mockReset().mockResolvedValue(undefined)
    pdf.openPdf.mockResolvedValue({ pageCount: 3, renderPage: pdf.renderPage, destroy: pdf.destroy })
  })

  it('draws a PDF page by page onto a canvas', async () => {
    const bytes = new TextEncoder().encode('%PDF-1.7').buffer
    documents.documentContent.mockResolvedValue({ data: bytes, contentType: 'application/pdf' })
    const wrapper = mountPreview(doc('Tax.pdf', 'pdf'))
    await flushPromises()

    expect(documents.documentContent).toHaveBeenCalledWith('d-1')
    expect(pdf.openPdf).toHaveBeenCalledWith(bytes)
    const canvas = wrapper.get('[data-testid="preview"] canvas')
    expect(pdf.renderPage).toHaveBeenLastCalledWith(1, canvas.element, 800)
    expect(canvas.attributes('role')).toBe('img')
    expect(canvas.attributes('aria-label')).toBe('Page 1 of 3 of Tax.pdf')
    expect(wrapper.get('[data-testid="page-indicator"]').text()).toBe('Page 1 of 3')
    expect(buttonNamed(wrapper, 'Previous page').attributes('disabled')).toBeDefined()

    await buttonNamed(wrapper, 'Next page').trigger('click')
    await flushPromises()
    await buttonNamed(wrapper, 'Next page').trigger('click')
    await flushPromises()

    expect(pdf.renderPage.mock.calls.map((call) => call[0])).toEqual([1, 2, 3])
    expect(wrapper.get('[data-testid="page-indicator"]').text()).toBe('Page 3 of 3')
    expect(buttonNamed(wrapper, 'Next page').attributes('disabled')).toBeDefined()

    await buttonNamed(wrapper, 'Previous page').trigger('click')
    await flushPromises()
    expect(pdf.renderPage).toHaveBeenLastCalledWith(2, canvas.element, 800)

    wrapper.unmount()
    expect(pdf.destroy).toHaveBeenCalled()
  })

  it('offers a download instead of a preview for Word documents', async () => {
    const wrapper = mountPreview(doc('Letter.docx', 'docx'))
    await flushPromises()

    expect(documents.documentContent).not.toHaveBeenCalled()
    expect(wrapper.text()).toContain('A preview is not available for Word documents.')
    await buttonNamed(wrapper, 'Download this document').trigger('click')
    expect(wrapper.emitted('download')).toHaveLength(1)
    wrapper.unmount()
  })

  it('shows text as it is, in a pre', async () => {
    documents.documentContent.mockResolvedValue({
      data: new TextEncoder().encode('<b>not bold</b>\n  indented').buffer,
      contentType: 'text/plain',
    })
    const wrapper = mountPreview(doc('a.txt', 'text'))
    await flushPromises()

    const pre = wrapper.get('pre')
    expect(pre.element.textContent).toBe('<b>not bold</b>\n  indented')
    expect(pre.find('b').exists()).toBe(false)
    expect(pre.attributes('aria-label')).toBe('Content of a.txt')
    wrapper.unmount()
  })

  it('says why a document could not be fetched', async () => {
    documents.documentContent.mockRejectedValue(new ApiError(404, 'not_found', 'That document is gone.'))
    const wrapper = mountPreview(doc('Tax.pdf', 'pdf'))
    await flushPromises()

    expect(wrapper.get('[role="alert"]').text()).toBe('That document is gone.')
    expect(pdf.openPdf).not.toHaveBeenCalled()
    wrapper.unmount()
  })

  it('says so when a PDF cannot be read', async () => {
    documents.documentContent.mockResolvedValue({ data: new ArrayBuffer(4), contentType: 'application/pdf' })
    pdf.openPdf.mockRejectedValue(new Error('Invalid PDF structure.'))
    const wrapper = mountPreview(doc('Broken.pdf', 'pdf'))
    await flushPromises()

    expect(wrapper.get('[role="alert"]').text()).toContain('could not be shown')
    wrapper.unmount()
  })

  it('closes with Escape or its button', async () => {
    documents.documentContent.mockResolvedValue({ data: new ArrayBuffer(0), contentType: 'text/plain' })
    const wrapper = mountPreview(doc('a.txt', 'text'))
    await flushPromises()

    await wrapper.get('[data-testid="preview"]').trigger('keydown', { key: 'Escape' })
    await buttonNamed(wrapper, 'Close preview').trigger('click')

    expect(wrapper.emitted('close')).toHaveLength(2)
    wrapper.unmount()
  })
})
