// PDF pages drawn onto canvases with pdf.js. Only ever imported dynamically (by the
// preview), so pdf.js stays out of the main bundle.
//
// The page's Content-Security-Policy (`default-src 'self'`, no blob:, data: or eval) holds:
// - the worker is a same-origin file Vite emits under assets/ (`?url`), so pdf.js starts
//   it directly instead of wrapping it in a blob: URL;
// - `isEvalSupported: false` keeps pdf.js from compiling functions from strings;
// - `useWasm: false`: WebAssembly would need 'wasm-unsafe-eval'. Without it, the rare
//   JPEG 2000 images and ICC colour profiles in a PDF are not drawn.
// Fonts load through the FontFace API from bytes, which needs no URL at all.

import { GlobalWorkerOptions, getDocument, type PDFDocumentProxy, type RenderTask } from 'pdfjs-dist'
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url'

GlobalWorkerOptions.workerSrc = workerUrl

export interface PdfDocument {
  pageCount: number
  /** Draws a page (1-based) to fill `cssWidth` CSS pixels, sharp on high-density screens. */
  renderPage(pageNumber: number, canvas: HTMLCanvasElement, cssWidth: number): Promise<void>
  destroy(): Promise<void>
}

/** pdf.js rejects a cancelled render with this; a newer render took its place. */
function isCancelled(error: unknown): boolean {
  return error instanceof Error && error.name === 'RenderingCancelledException'
}

export async function openPdf(data: ArrayBuffer): Promise<PdfDocument> {
  const task = getDocument({ data: new Uint8Array(data), isEvalSupported: false, useWasm: false })
  const pdf: PDFDocumentProxy = await task.promise
  let current: RenderTask | null = null

  return {
    pageCount: pdf.numPages,
    async renderPage(pageNumber, canvas, cssWidth) {
      if (current !== null) {
        current.cancel()
        await current.promise.catch(() => undefined)
      }
      const page = await pdf.getPage(pageNumber)
      const natural = page.getViewport({ scale: 1 })
      const scale = (cssWidth / natural.width) * (window.devicePixelRatio || 1)
      const viewport = page.getViewport({ scale })
      canvas.width = Math.floor(viewport.width)
      canvas.height = Math.floor(viewport.height)
      const rendering = page.render({ canvas, viewport })
      current = rendering
      try {
        await rendering.promise
      } catch (error) {
        if (!isCancelled(error)) throw error
      } finally {
        if (current === rendering) current = null
      }
    },
    destroy: () => task.destroy(),
  }
}
