import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import type { DocumentKind, VaultDocument } from '../services/documents'
import type { Folder } from '../services/folders'
import type { Topic } from '../services/topics'
import { DOCUMENT_TYPE, endDrag } from '../utils/dragMove'
import { live } from '../services/live'
import { refresh } from '../services/session'
import { FakeEventStream, jsonResponse, mockXhr } from '../test-utils'

const push = vi.fn()
vi.mock('vue-router', async (importOriginal) => ({
  ...(await importOriginal<typeof import('vue-router')>()),
  useRouter: () => ({ push }),
}))

const navigation = vi.hoisted(() => ({ assignLocation: vi.fn() }))
vi.mock('../utils/navigation', () => navigation)

const { default: DocumentsView } = await import('./DocumentsView.vue')

const TOKENS = { access_token: 'at-1', token_type: 'Bearer', expires_in: 600, user_id: 'u-1', role: 'user' }

interface Call {
  method: string
  url: string
  headers: Record<string, string>
  body: unknown
}

/** An in-memory stand-in for the documents API (docs/api/documents.md). */
class FakeApi {
  docs: VaultDocument[] = []
  folders: Folder[] = []
  topics: Topic[] = []
  contents = new Map<string, string>()
  usage = { used_bytes: 12_300_000, quota_bytes: 100_000_000, max_file_bytes: 25_000_000 }
  /** Answers for POST /api/documents by file name, instead of creating the document. */
  refuseCreate = new Map<string, { status: number; body: unknown }>()
  calls: Call[] = []
  /** The open `GET /api/events` streams, oldest first. */
  streams: FakeEventStream[] = []
  /** Calls (`METHOD path`) whose answer waits until the promise resolves. */
  holds = new Map<string, Promise<void>>()
  /**
   * Changes to a document made at a token (`<transaction>.<position>`) the read model has
   * yet to catch up with: lists show them only to reads that send that token or a later one.
   */
  lagging = new Map<string, { token: string; changes: Partial<VaultDocument> }>()
  private writes = 0

  add(name: string, kind: DocumentKind, extra: Partial<VaultDocument> = {}): VaultDocument {
    const document: VaultDocument = {
      id: `d${this.docs.length + 1}`,
      name,
      kind,
      status: 'confirmed',
      size: 1_500_000,
      created_at: new Date(Date.UTC(2025, 0, 1 + this.docs.length)).toISOString(),
      confirmed_at: null,
      sha256: null,
      duplicate: false,
      folder_id: null,
      topics: [],
      classification: null,
      classification_error: null,
      ...extra,
    }
    this.docs.push(document)
    return document
  }

  folder(id: string, name: string, parent: string | null = null): Folder {
    const folder = { id, name, parent_id: parent, created_at: '2025-01-01T00:00:00Z' }
    this.folders.push(folder)
    return folder
  }

  topic(id: string, name: string, system = false): Topic {
    const topic = { id, name, system, documents: 0, created_at: '2025-01-01T00:00:00Z' }
    this.topics.push(topic)
    return topic
  }

  lists(): URLSearchParams[] {
    return this.calls
      .filter((call) => call.method === 'GET' && call.url.startsWith('/api/documents?'))
      .map((call) => new URLSearchParams(call.url.split('?')[1]))
  }

  private written(status: number, body?: unknown): Response {
    this.writes += 1
    const headers = { 'Content-Type': 'application/json', 'X-Consistency-Token': `${this.writes}.1` }
    return new Response(body === undefined ? null : JSON.stringify(body), { status, headers })
  }

  /** A document as a read sending `token` sees it. */
  private seenAt(item: VaultDocument, token: string | undefined): VaultDocument {
    const lag = this.lagging.get(item.id)
    const order = (text: string) => text.split('.').map(BigInt) as [bigint, bigint]
    if (!lag || token === undefined) return item
    const [read, made] = [order(token), order(lag.token)]
    const caughtUp = read[0] > made[0] || (read[0] === made[0] && read[1] >= made[1])
    return caughtUp ? { ...item, ...lag.changes } : item
  }

  private list(params: URLSearchParams, token?: string): Response {
    const sort = params.get('sort') ?? 'date'
    const direction = params.get('order') === 'asc' ? 1 : -1
    const key = (item: VaultDocument) => (sort === 'name' ? item.name : sort === 'size' ? item.size : item.created_at)
    const matching = this.docs
      .filter((item) => !params.get('kind') || item.kind === params.get('kind'))
      .filter((item) => !params.get('status') || item.status === params.get('status'))
      .filter((item) => {
        const folder = params.get('folder')
        return !folder || (folder === 'top' ? item.folder_id === null : item.folder_id === folder)
      })
      .filter((item) => !params.get('topic') || item.topics.includes(params.get('topic')!))
      .sort((a, b) => (key(a) < key(b) ? -direction : key(a) > key(b) ? direction : 0))
    const offset = Number(params.get('cursor')?.replace('after-', '') ?? 0)
    const limit = Number(params.get('limit') ?? 50)
    const items = matching.slice(offset, offset + limit).map((item) => this.seenAt(item, token))
    const more = offset + limit < matching.length
    return jsonResponse(200, { items, next_cursor: more ? `after-${offset + limit}` : null, total: matching.length })
  }

  handle(url: string, init: RequestInit = {}): Response {
    const method = init.method ?? 'GET'
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined
    this.calls.push({ method, url, headers: (init.headers ?? {}) as Record<string, string>, body })
    const [path, query] = url.split('?')
    const found = /^\/api\/documents\/([^/]+)(\/.*)?$/.exec(path!)
    const document = found ? this.docs.find((item) => item.id === decodeURIComponent(found[1]!)) : undefined
    const rest = found?.[2] ?? ''

    if (path === '/api/auth/refresh') return jsonResponse(200, TOKENS)
    if (path === '/api/events') {
      const stream = new FakeEventStream(init.signal)
      this.streams.push(stream)
      return stream.response
    }
    if (path === '/api/documents/usage') return jsonResponse(200, this.usage)
    if (path === '/api/folders' && method === 'GET') return jsonResponse(200, { items: this.folders })
    if (path === '/api/topics' && method === 'GET') return jsonResponse(200, { items: this.topics })
    if (path === '/api/documents' && method === 'GET') {
      return this.list(new URLSearchParams(query), (init.headers as Record<string, string>)?.['X-Consistency-Token'])
    }
    if (path === '/api/documents' && method === 'POST') {
      const { name, size, content_type: type } = body as { name: string; size: number; content_type: string }
      const refusal = this.refuseCreate.get(name)
      if (refusal) return jsonResponse(refusal.status, refusal.body)
      const kind: DocumentKind = type === 'application/pdf' ? 'pdf' : type === 'text/markdown' ? 'markdown' : 'text'
      const created = this.add(name, kind, { status: 'pending', size })
      return this.written(201, {
        document: created,
        upload: {
          url: `/api/uploads/${created.id}?signature=sig`,
          method: 'PUT',
          headers: { 'Content-Type': type },
          expires_at: '2025-01-01T01:00:00Z',
        },
      })
    }
    if (!document) return jsonResponse(404, { code: 'not_found', message: 'Not found.' })
    if (rest === '/confirm' && method === 'POST') {
      document.status = 'confirmed'
      document.classification = 'extracting'
      this.usage.used_bytes += document.size
      return this.written(200, document)
    }
    if (rest === '' && method === 'PATCH') {
      const name = (body as { name: string }).name
      if (name.includes('/')) {
        return jsonResponse(400, {
          code: 'invalid_input',
          message: 'Some fields need attention.',
          fields: { name: 'A name cannot contain "/".' },
        })
      }
      document.name = name
      return this.written(200, document)
    }
    if (rest === '' && method === 'DELETE') {
      this.docs = this.docs.filter((item) => item !== document)
      this.usage.used_bytes -= document.size
      return this.written(204)
    }
    if (rest === '/move' && method === 'POST') {
      const target = (body as { folder_id: string | null }).folder_id
      if (target !== null && !this.folders.some((folder) => folder.id === target)) {
        return jsonResponse(404, { code: 'not_found', message: 'Nothing here.' })
      }
      document.folder_id = target
      return this.written(200, document)
    }
    if (rest === '/classify' && method === 'POST') {
      if (document.status === 'pending') return jsonResponse(409, { code: 'not_confirmed', message: 'Not yet.' })
      document.classification = 'extracting'
      document.classification_error = null
      return this.written(202, { ...document })
    }
    if (rest === '/topics' && method === 'PUT') {
      document.topics = (body as { topics: string[] }).topics
      return this.written(200, document)
    }
    if (rest === '/content') return new Response(this.contents.get(document.id) ?? '', { status: 200 })
    if (rest === '/download-link') {
      return this.written(200, { url: '/api/downloads/tok-1', expires_at: '2025-01-01T00:05:00Z' })
    }
    return jsonResponse(405, { code: 'method_not_allowed', message: 'Method not allowed.' })
  }
}

let api: FakeApi
let wrapper: VueWrapper | undefined

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input)
      await api.holds.get(`${init?.method ?? 'GET'} ${url.split('?')[0]}`)
      return api.handle(url, init)
    }),
  )
}

async function mountView() {
  serve()
  wrapper = mount(DocumentsView, { attachTo: document.body })
  await flushPromises()
  return wrapper
}

/** The name a screen reader gives the element: its aria-label, else its text. */
function nameOf(element: Element): string {
  return element.getAttribute('aria-label') ?? (element.textContent ?? '').replace(/\s+/g, ' ').trim()
}

function button(view: VueWrapper, name: string) {
  const found = view.findAll('button').find((candidate) => nameOf(candidate.element) === name)
  if (!found) throw new Error(`no button named "${name}"`)
  return found
}

function rowNames(view: VueWrapper): string[] {
  return view.findAll('[data-testid="document-row"] [data-testid="document-name"]').map((cell) => cell.text())
}

function chooseFiles(view: VueWrapper, files: File[]) {
  const input = view.get('input[type="file"]')
  Object.defineProperty(input.element, 'files', { value: files, configurable: true })
  return input.trigger('change')
}

describe('DocumentsView', () => {
  beforeEach(() => {
    api = new FakeApi()
    push.mockReset()
    navigation.assignLocation.mockReset()
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = undefined
    live.stop()
  })

  it('shows the quota and the documents in a table, with a badge for duplicates', async () => {
    api.add('Tax.pdf', 'pdf', { size: 1_234_567 })
    api.add('Notes.md', 'markdown', { status: 'pending', size: 900, duplicate: true })
    const view = await mountView()

    expect(view.get('[data-testid="quota"]').text()).toContain('12.3 MB of 100 MB')
    const meter = view.get('[data-testid="quota"] meter')
    expect(meter.attributes('aria-valuetext')).toBe('12.3 MB of 100 MB')
    expect(view.get('label[for="quota-meter"]').text()).toBe('Storage used')

    const rows = view.findAll('[data-testid="document-row"]')
    expect(rows).toHaveLength(2)
    expect(rowNames(view)).toEqual(['Notes.md', 'Tax.pdf'])
    const cells = rows[0]!.findAll('th, td').map((cell) => cell.text())
    expect(cells.slice(1, 3)).toEqual(['Markdown', '900 B'])
    expect(cells[4]).toContain('Pending')
    expect(rows[0]!.find('[data-testid="duplicate"]').text()).toBe('Duplicate')
    expect(rows[1]!.find('[data-testid="duplicate"]').exists()).toBe(false)
    expect(view.get('[data-testid="total"]').text()).toBe('2 documents')
    // Pending documents have no content to show or download yet.
    expect(() => button(view, 'Preview Notes.md')).toThrow()
    button(view, 'Preview Tax.pdf')
    button(view, 'Download Tax.pdf')
    button(view, 'Rename Notes.md')
    button(view, 'Delete Notes.md')
  })

  it('sorts by a column header, toggling the order, and says so with aria-sort', async () => {
    api.add('b.pdf', 'pdf', { size: 2 })
    api.add('a.pdf', 'pdf', { size: 3 })
    api.add('c.pdf', 'pdf', { size: 1 })
    const view = await mountView()
    const header = (label: string) => view.findAll('th[scope="col"]').find((th) => th.text().startsWith(label))!
    expect(header('Added').attributes('aria-sort')).toBe('descending')
    expect(header('Name').attributes('aria-sort')).toBe('none')
    expect(header('Kind').attributes('aria-sort')).toBeUndefined()

    await header('Name').get('button').trigger('click')
    await flushPromises()

    expect(api.lists().at(-1)!.toString()).toBe('sort=name&order=asc&limit=25')
    expect(header('Name').attributes('aria-sort')).toBe('ascending')
    expect(header('Added').attributes('aria-sort')).toBe('none')
    expect(rowNames(view)).toEqual(['a.pdf', 'b.pdf', 'c.pdf'])

    await header('Name').get('button').trigger('click')
    await flushPromises()

    expect(api.lists().at(-1)!.get('order')).toBe('desc')
    expect(header('Name').attributes('aria-sort')).toBe('descending')
    expect(rowNames(view)).toEqual(['c.pdf', 'b.pdf', 'a.pdf'])

    await header('Size').get('button').trigger('click')
    await flushPromises()
    expect(api.lists().at(-1)!.toString()).toBe('sort=size&order=desc&limit=25')
    expect(rowNames(view)).toEqual(['a.pdf', 'b.pdf', 'c.pdf'])
  })

  it('filters by kind and status', async () => {
    api.add('a.pdf', 'pdf')
    api.add('b.md', 'markdown')
    api.add('c.md', 'markdown', { status: 'pending' })
    const view = await mountView()

    await view.get('#filter-kind').setValue('markdown')
    await flushPromises()
    expect(api.lists().at(-1)!.get('kind')).toBe('markdown')
    expect(rowNames(view).sort()).toEqual(['b.md', 'c.md'])

    await view.get('#filter-status').setValue('pending')
    await flushPromises()
    expect(api.lists().at(-1)!.get('status')).toBe('pending')
    expect(rowNames(view)).toEqual(['c.md'])
    expect(view.get('[data-testid="total"]').text()).toBe('1 document match')
  })

  it('pages forward with the next cursor and back with the one before', async () => {
    for (let index = 1; index <= 60; index++) api.add(`doc ${String(index).padStart(2, '0')}.txt`, 'text')
    const view = await mountView()
    expect(view.findAll('[data-testid="document-row"]')).toHaveLength(25)
    expect(button(view, 'Previous').attributes('disabled')).toBeDefined()
    expect(view.get('[data-testid="total"]').text()).toBe('60 documents')

    await button(view, 'Next').trigger('click')
    await flushPromises()
    expect(api.lists().at(-1)!.get('cursor')).toBe('after-25')
    expect(view.get('[data-testid="page-number"]').text()).toBe('Page 2')
    expect(rowNames(view)[0]).toBe('doc 35.txt')

    await button(view, 'Next').trigger('click')
    await flushPromises()
    expect(api.lists().at(-1)!.get('cursor')).toBe('after-50')
    expect(view.findAll('[data-testid="document-row"]')).toHaveLength(10)
    expect(button(view, 'Next').attributes('disabled')).toBeDefined()

    await button(view, 'Previous').trigger('click')
    await flushPromises()
    expect(api.lists().at(-1)!.get('cursor')).toBe('after-25')

    await button(view, 'Previous').trigger('click')
    await flushPromises()
    expect(api.lists().at(-1)!.has('cursor')).toBe(false)
    expect(view.get('[data-testid="page-number"]').text()).toBe('Page 1')
    expect(rowNames(view)[0]).toBe('doc 60.txt')
  })

  it('uploads files with a progress bar each; a refused file shows why and the others go on', async () => {
    const xhr = mockXhr()
    const quotaMessage = 'This file needs 5.0 MB but only 2.1 MB of your 100 MB are free.'
    api.refuseCreate.set('big.pdf', { status: 409, body: { code: 'quota_exceeded', message: quotaMessage } })
    const view = await mountView()
    expect(view.get('label[for="file-input"]').text()).toBe('Choose files')

    await chooseFiles(view, [
      new File(['%PDF-1.7'], 'big.pdf', { type: 'application/pdf' }),
      new File(['hello world'], 'hello.txt', { type: 'text/plain' }),
      new File(['# Title'], 'notes.md', { type: '' }),
    ])
    await flushPromises()

    const rows = () => view.findAll('[data-testid="upload-row"]')
    expect(rows()).toHaveLength(3)
    expect(rows()[0]!.attributes('data-state')).toBe('failed')
    expect(rows()[0]!.get('[data-testid="upload-error"]').text()).toBe(quotaMessage)
    expect(view.get('[data-testid="status"]').text()).toBe(`Could not upload big.pdf: ${quotaMessage}`)

    // Two at once: the other two files are on their way.
    expect(xhr.sent.map((sent) => sent.url)).toEqual(['/api/uploads/d1?signature=sig', '/api/uploads/d2?signature=sig'])
    const [hello, notes] = xhr.sent
    expect(hello!.method).toBe('PUT')
    expect(hello!.headers).toEqual({ 'Content-Type': 'text/plain' })
    expect(notes!.headers).toEqual({ 'Content-Type': 'text/markdown' })
    expect(JSON.stringify(xhr.sent.map((sent) => sent.headers))).not.toMatch(/authorization/i)

    hello!.progress(5, 10)
    await flushPromises()
    const bar = rows()[1]!.get('[role="progressbar"]')
    expect(bar.attributes('aria-valuenow')).toBe('50')
    expect(bar.attributes('aria-label')).toBe('Upload of hello.txt')
    expect(rows()[1]!.get('[data-testid="upload-state"]').text()).toBe('Uploading… 50%')

    hello!.respond(200)
    await flushPromises()

    expect(rows()[1]!.attributes('data-state')).toBe('done')
    expect(rows()[1]!.get('[role="progressbar"]').attributes('aria-valuenow')).toBe('100')
    const confirm = api.calls.findIndex((call) => call.url === '/api/documents/d1/confirm')
    expect(confirm).toBeGreaterThan(-1)
    // The list read after the confirm asks to see it (read your writes).
    const reread = api.calls.slice(confirm + 1).find((call) => call.url.startsWith('/api/documents?'))
    expect(reread?.headers['X-Consistency-Token']).toBeDefined()
    expect(rowNames(view)).toContain('hello.txt')
    expect(view.get('[data-testid="status"]').text()).toBe('hello.txt uploaded.')
    expect(view.get('[data-testid="quota-text"]').text()).toBe('12.3 MB of 100 MB')

    notes!.respond(200)
    await flushPromises()
    expect(rows().map((row) => row.attributes('data-state'))).toEqual(['failed', 'done', 'done'])
    expect(rowNames(view)).toEqual(expect.arrayContaining(['hello.txt', 'notes.md']))

    await button(view, 'Clear finished uploads').trigger('click')
    expect(rows()).toHaveLength(0)
  })

  it('takes files dropped on the drop zone', async () => {
    const xhr = mockXhr()
    const view = await mountView()
    const zone = view.get('[data-testid="drop-zone"]')

    await zone.trigger('dragenter', { dataTransfer: { types: ['Files'], files: [] } })
    expect(zone.classes()).toContain('dragging')
    await zone.trigger('drop', {
      dataTransfer: { types: ['Files'], files: [new File(['a'], 'a.txt', { type: 'text/plain' })] },
    })
    await flushPromises()

    expect(zone.classes()).not.toContain('dragging')
    expect(view.findAll('[data-testid="upload-row"]')).toHaveLength(1)
    expect(xhr.sent).toHaveLength(1)
  })

  it('renames a document in place', async () => {
    api.add('Tax.pdf', 'pdf')
    const view = await mountView()

    await button(view, 'Rename Tax.pdf').trigger('click')
    await flushPromises()
    const input = view.get<HTMLInputElement>('input[id^="rename-input-"]')
    expect(view.get(`label[for="${input.attributes('id')}"]`).text()).toBe('New name for Tax.pdf')
    expect(document.activeElement).toBe(input.element)
    expect(input.element.selectionEnd).toBe(3)

    await input.setValue('bad/name.pdf')
    await view.get('form.rename').trigger('submit')
    await flushPromises()
    expect(view.get('.rename .field-error').text()).toBe('A name cannot contain "/".')
    expect(input.attributes('aria-invalid')).toBe('true')

    await input.setValue('Tax return 2025.pdf')
    await view.get('form.rename').trigger('submit')
    await flushPromises()

    const patches = api.calls.filter((call) => call.method === 'PATCH')
    expect(patches.map((call) => call.url)).toEqual(['/api/documents/d1', '/api/documents/d1'])
    expect(patches[1]!.body).toEqual({ name: 'Tax return 2025.pdf' })
    expect(rowNames(view)).toEqual(['Tax return 2025.pdf'])
    expect(view.get('[data-testid="status"]').text()).toBe('Renamed Tax.pdf to Tax return 2025.pdf.')
    expect(document.activeElement).toBe(button(view, 'Rename Tax return 2025.pdf').element)
  })

  it('cancels a rename with Escape', async () => {
    api.add('Tax.pdf', 'pdf')
    const view = await mountView()
    await button(view, 'Rename Tax.pdf').trigger('click')
    await flushPromises()

    await view.get('input[id^="rename-input-"]').trigger('keydown', { key: 'Escape' })
    await flushPromises()

    expect(view.find('form.rename').exists()).toBe(false)
    expect(api.calls.some((call) => call.method === 'PATCH')).toBe(false)
  })

  it('asks before deleting, and deletes only on the confirmation', async () => {
    api.add('Tax.pdf', 'pdf', { size: 2_000_000 })
    const view = await mountView()

    await button(view, 'Delete Tax.pdf').trigger('click')
    await flushPromises()
    expect(view.text()).toContain('Really delete ‘Tax.pdf’?')
    expect(document.activeElement).toBe(button(view, 'Cancel').element)

    await button(view, 'Cancel').trigger('click')
    await flushPromises()
    expect(view.text()).not.toContain('Really delete')
    expect(document.activeElement).toBe(button(view, 'Delete Tax.pdf').element)
    expect(api.calls.some((call) => call.method === 'DELETE')).toBe(false)

    await button(view, 'Delete Tax.pdf').trigger('click')
    await flushPromises()
    await button(view, 'Confirm deleting Tax.pdf').trigger('click')
    await flushPromises()

    expect(api.calls.filter((call) => call.method === 'DELETE').map((call) => call.url)).toEqual(['/api/documents/d1'])
    expect(view.findAll('[data-testid="document-row"]')).toHaveLength(0)
    expect(view.get('[data-testid="status"]').text()).toBe('Deleted Tax.pdf.')
    expect(view.get('[data-testid="quota-text"]').text()).toBe('10.3 MB of 100 MB')
    expect(view.text()).toContain('No documents yet.')
  })

  it('previews text as text: markup in it is shown, never run', async () => {
    const doc = api.add('notes.md', 'markdown')
    const hostile = '# Notes\n<script>window.__previewRan = true</script><img src=x onerror="window.__previewRan = true">'
    api.contents.set(doc.id, hostile)
    const view = await mountView()

    await button(view, 'Preview notes.md').trigger('click')
    await flushPromises()

    const preview = view.get('[data-testid="preview"]')
    const pre = preview.get('pre')
    expect(pre.element.textContent).toBe(hostile)
    expect(preview.find('script').exists()).toBe(false)
    expect(preview.find('img').exists()).toBe(false)
    expect((window as unknown as { __previewRan?: boolean }).__previewRan).toBeUndefined()
    const content = api.calls.find((call) => call.url === `/api/documents/${doc.id}/content`)!
    expect(content.headers.Authorization).toBe('Bearer at-1')
    expect(document.activeElement?.id).toBe('preview-title')

    await button(view, 'Close preview').trigger('click')
    await flushPromises()
    expect(view.find('[data-testid="preview"]').exists()).toBe(false)
    expect(document.activeElement).toBe(button(view, 'Preview notes.md').element)
  })

  it('downloads through a short-lived link', async () => {
    api.add('Tax.pdf', 'pdf')
    const view = await mountView()

    await button(view, 'Download Tax.pdf').trigger('click')
    await flushPromises()

    expect(api.calls.at(-1)).toMatchObject({ method: 'POST', url: '/api/documents/d1/download-link' })
    expect(navigation.assignLocation).toHaveBeenCalledWith('/api/downloads/tok-1')
  })

  it('shows the folder tree, and lists one folder or the top level when chosen', async () => {
    api.folder('f1', 'Projects')
    api.folder('f2', '2026', 'f1')
    api.add('loose.txt', 'text')
    api.add('plan.txt', 'text', { folder_id: 'f2' })
    const view = await mountView()
    expect(view.get('[data-testid="list-title"]').text()).toBe('All documents')
    expect(rowNames(view).sort()).toEqual(['loose.txt', 'plan.txt'])
    // Every document's place is shown when all are listed.
    const plan = view.findAll('[data-testid="document-row"]').find((row) => row.text().includes('plan.txt'))!
    expect(plan.get('[data-testid="document-folder"]').text()).toBe('in Projects / 2026')
    expect(view.findAll('[data-testid="folder-item"]').map((item) => item.text())).toEqual(['Projects'])

    await button(view, 'Expand Projects').trigger('click')
    expect(view.findAll('[data-testid="folder-item"]').map((item) => item.text())).toEqual(['Projects', '2026'])
    await view.get('[data-folder-name="2026"]').trigger('click')
    await flushPromises()

    expect(api.lists().at(-1)!.get('folder')).toBe('f2')
    expect(view.get('[data-testid="list-title"]').text()).toBe('Projects / 2026')
    expect(rowNames(view)).toEqual(['plan.txt'])
    expect(view.get('[data-folder-name="2026"]').attributes('aria-current')).toBe('true')

    await view.get('[data-testid="folder-top"]').trigger('click')
    await flushPromises()
    expect(api.lists().at(-1)!.get('folder')).toBe('top')
    expect(rowNames(view)).toEqual(['loose.txt'])

    api.docs = api.docs.filter((item) => item.folder_id !== null)
    await view.get('[data-testid="folder-top"]').trigger('click')
    await flushPromises()
    expect(view.get('[data-testid="empty"]').text()).toContain('No documents at the top level')
  })

  it('moves a document with the "Move to…" menu, and says where to', async () => {
    api.folder('f1', 'Projects')
    api.folder('f2', '2026', 'f1')
    api.add('plan.txt', 'text')
    const view = await mountView()

    const menu = view.get<HTMLSelectElement>('select[aria-label="Move plan.txt to a folder"]')
    expect(menu.findAll('option').map((option) => option.text())).toEqual([
      'Move to…',
      'Top level',
      'Projects',
      'Projects / 2026',
    ])
    // It is at the top already.
    expect(menu.get('option[value="top"]').attributes('disabled')).toBeDefined()
    await menu.setValue('f2')
    await flushPromises()

    const move = api.calls.find((call) => call.url === '/api/documents/d1/move')!
    expect(move).toMatchObject({ method: 'POST', body: { folder_id: 'f2' } })
    expect(view.get('[data-testid="status"]').text()).toBe('Moved plan.txt to ‘Projects / 2026’.')
    expect(menu.element.value).toBe('')
    expect(view.get('[data-testid="document-folder"]').text()).toBe('in Projects / 2026')
  })

  it('moves a document dropped on a folder or on the top level', async () => {
    api.folder('f1', 'Projects')
    const doc = api.add('plan.txt', 'text')
    const view = await mountView()
    const data = new Map<string, string>()
    const dataTransfer = {
      get types() {
        return [...data.keys()]
      },
      setData: (type: string, value: string) => void data.set(type, value),
      getData: (type: string) => data.get(type) ?? '',
      effectAllowed: 'all',
      dropEffect: 'none',
    }

    const row = view.get('[data-testid="document-row"]')
    expect(row.attributes('draggable')).toBe('true')
    await row.trigger('dragstart', { dataTransfer })
    expect(data.get(DOCUMENT_TYPE)).toBe(doc.id)
    const target = view.get('[data-folder-name="Projects"]')
    await target.trigger('dragover', { dataTransfer })
    expect(target.classes()).toContain('drop-target')
    await target.trigger('drop', { dataTransfer })
    await flushPromises()

    expect(api.calls.filter((call) => call.url.endsWith('/move')).map((call) => call.body)).toEqual([
      { folder_id: 'f1' },
    ])
    expect(view.get('[data-testid="status"]').text()).toBe('Moved plan.txt to ‘Projects’.')

    await row.trigger('dragstart', { dataTransfer })
    await view.get('[data-testid="folder-top"]').trigger('drop', { dataTransfer })
    await flushPromises()
    expect(api.calls.filter((call) => call.url.endsWith('/move')).at(-1)!.body).toEqual({ folder_id: null })
    endDrag()
  })

  it('shows a move refused for a folder that is gone next to the document', async () => {
    api.folder('f1', 'Projects')
    api.add('plan.txt', 'text')
    const view = await mountView()
    api.folders = []

    await view.get('select[aria-label="Move plan.txt to a folder"]').setValue('f1')
    await flushPromises()

    const row = view.get('[data-testid="document-row"]')
    expect(row.get('[role="alert"]').text()).toBe('That folder is gone: it may have been deleted meanwhile.')
  })

  it('shows topics as chips, system ones marked, and filters the list by a topic', async () => {
    api.topic('t1', 'Finance', true)
    api.topic('t2', 'Taxes')
    api.add('a.pdf', 'pdf', { topics: ['t2', 't1'] })
    api.add('b.pdf', 'pdf')
    const view = await mountView()

    const chips = view.findAll('[data-testid="document-row"]').find((row) => row.text().includes('a.pdf'))!
      .findAll('[data-testid="topic-chip"]')
    expect(chips.map((chip) => chip.text())).toEqual(['Finance (system topic)', 'Taxes'])
    expect(chips[0]!.classes()).toContain('system')
    expect(chips[1]!.classes()).not.toContain('system')

    await view.get('#filter-topic').setValue('t2')
    await flushPromises()
    expect(api.lists().at(-1)!.get('topic')).toBe('t2')
    expect(rowNames(view)).toEqual(['a.pdf'])
    expect(view.get('[data-testid="total"]').text()).toBe('1 document match')
  })

  it('edits a document’s topics and saves the whole set', async () => {
    api.topic('t1', 'Finance', true)
    api.topic('t2', 'Taxes')
    api.add('a.pdf', 'pdf', { topics: ['t2'] })
    const view = await mountView()

    await button(view, 'Topics of a.pdf').trigger('click')
    await flushPromises()
    const dialog = view.get('[role="dialog"]')
    expect(dialog.text()).toContain('Topics of ‘a.pdf’')
    await dialog.get('#topic-add').setValue('t1')
    await button(view, 'Remove topic Taxes').trigger('click')
    await button(view, 'Save topics').trigger('click')
    await flushPromises()

    const put = api.calls.find((call) => call.method === 'PUT')!
    expect(put).toMatchObject({ url: '/api/documents/d1/topics', body: { topics: ['t1'] } })
    expect(view.find('[role="dialog"]').exists()).toBe(false)
    expect(view.get('[data-testid="status"]').text()).toBe('Saved the topics of a.pdf.')
    expect(view.findAll('[data-testid="topic-chip"]').map((chip) => chip.text())).toEqual(['Finance (system topic)'])
  })

  it('puts a file uploaded while a folder is open into that folder', async () => {
    const xhr = mockXhr()
    api.folder('f1', 'Projects')
    const view = await mountView()
    await view.get('[data-folder-name="Projects"]').trigger('click')
    await flushPromises()

    await chooseFiles(view, [new File(['hello'], 'hello.txt', { type: 'text/plain' })])
    await flushPromises()
    xhr.sent[0]!.respond(200)
    await flushPromises()

    expect(api.calls.find((call) => call.url.endsWith('/move'))?.body).toEqual({ folder_id: 'f1' })
    expect(rowNames(view)).toEqual(['hello.txt'])
    expect(view.get('[data-testid="status"]').text()).toBe('hello.txt uploaded to ‘Projects’.')
  })

  it('leads the quick search to the search page', async () => {
    const view = await mountView()

    await view.get('#documents-search').setValue('  tax return ')
    await view.get('form[role="search"]').trigger('submit')

    expect(push).toHaveBeenCalledWith({ path: '/search', query: { q: 'tax return' } })
  })

  it('sends people whose session ended to sign in, and back here after', async () => {
    serve()
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => jsonResponse(401, { code: 'unauthorized', message: 'Sign in to continue.' })),
    )
    wrapper = mount(DocumentsView, { attachTo: document.body })
    await flushPromises()

    expect(push).toHaveBeenCalledWith({ path: '/login', query: { next: '/documents' } })
  })

  describe('live notices', () => {
    beforeEach(async () => {
      // Signed in (a test above ends the session).
      serve()
      await refresh()
    })

    /** Opens the live stream, as the app shell does once someone is signed in. */
    async function connect(): Promise<FakeEventStream> {
      live.start()
      await flushPromises()
      const stream = api.streams.at(-1)!
      stream.send('event: ready\ndata: {}\n\n')
      await flushPromises()
      return stream
    }

    function row(view: VueWrapper, name: string) {
      const found = view
        .findAll('[data-testid="document-row"]')
        .find((candidate) => candidate.get('[data-testid="document-name"]').text() === name)
      if (!found) throw new Error(`no row for ${name} in ${rowNames(view).join(", ")}`)
      return found
    }

    function chip(view: VueWrapper, name: string): string {
      const status = row(view, name).find('[data-testid="classification-chip"]')
      return status.exists() ? status.text() : ''
    }

    function stage(document: string, classification: string, token: string, extra: object = {}) {
      const types: Record<string, string> = {
        extracting: 'ClassificationRequested',
        classifying: 'TextExtracted',
        classified: 'DocumentClassified',
        failed: 'ClassificationFailed',
      }
      return { type: types[classification], document_id: document, classification, token, ...extra }
    }

    it('shows how far each document is, and follows it in place as notices come, without reloading', async () => {
      api.topic('g', 'Garden')
      api.add('Old.txt', 'text', { classification: 'classified' })
      api.add('Pending.txt', 'text', { status: 'pending' })
      api.add('Plans.txt', 'text', { classification: 'extracting' })
      const view = await mountView()
      expect(chip(view, 'Plans.txt')).toBe('Reading text…')
      expect(chip(view, 'Old.txt')).toBe('Filed')
      expect(chip(view, 'Pending.txt')).toBe('')
      const stream = await connect()
      const lists = api.lists().length

      stream.event('TextExtracted', stage('d3', 'classifying', '900.1'))
      await flushPromises()
      expect(chip(view, 'Plans.txt')).toBe('Filing…')
      expect(row(view, 'Plans.txt').find('[data-testid="topic-chip"]').exists()).toBe(false)

      stream.event('DocumentClassified', stage('d3', 'classified', '900.2', { topics: ['g'] }))
      await flushPromises()
      expect(chip(view, 'Plans.txt')).toBe('Filed')
      expect(row(view, 'Plans.txt').get('[data-testid="classification"]').attributes('data-state')).toBe('classified')
      expect(row(view, 'Plans.txt').get('[data-testid="topic-chip"]').text()).toBe('Garden')
      expect(view.get('[data-testid="status"]').text()).toBe('Filed Plans.txt under ‘Garden’.')
      // In place: the list was not read again; the topics were (their counts changed),
      // asking to see the notice's change.
      expect(api.lists()).toHaveLength(lists)
      const topicsRead = api.calls.filter((call) => call.url === '/api/topics').at(-1)!
      expect(topicsRead.headers['X-Consistency-Token']).toBe('900.2')

      // Someone else's document, or one not on this page: nothing changes.
      stream.event('DocumentClassified', stage('d99', 'classified', '900.3', { topics: ['g'] }))
      await flushPromises()
      expect(api.lists()).toHaveLength(lists)
      expect(rowNames(view)).toEqual(['Plans.txt', 'Pending.txt', 'Old.txt'])
    })

    it('says why classification failed, as text, and runs it again with a real button', async () => {
      const reason = '<b>binary</b> data declared as text'
      api.add('noise.txt', 'text', { classification: 'failed', classification_error: reason })
      const view = await mountView()
      const stream = await connect()

      expect(chip(view, 'noise.txt')).toBe('Classification failed')
      const shown = row(view, 'noise.txt').get('[data-testid="classification-error"]')
      expect(shown.text()).toBe(reason)
      expect(shown.find('b').exists()).toBe(false)
      const again = button(view, 'Run again: read and file noise.txt')
      expect(again.element.tagName).toBe('BUTTON')
      expect(again.attributes('type')).toBe('button')
      expect(again.text()).toBe('Run again')

      await again.trigger('click')
      await flushPromises()

      const posts = api.calls.filter((call) => call.method === 'POST' && call.url.startsWith('/api/documents'))
      expect(posts.map((call) => call.url)).toEqual([
        '/api/documents/d1/classify',
      ])
      expect(chip(view, 'noise.txt')).toBe('Reading text…')
      expect(row(view, 'noise.txt').find('[data-testid="classification-error"]').exists()).toBe(false)
      expect(view.get('[data-testid="status"]').text()).toBe('Reading noise.txt again…')
      // The button went away: focus is on the status that replaced it.
      expect(document.activeElement?.id).toBe('classification-d1')

      stream.event('ClassificationRequested', stage('d1', 'extracting', '901.1'))
      stream.event('ClassificationFailed', stage('d1', 'failed', '901.2', { error: 'binary data declared as text' }))
      await flushPromises()

      expect(chip(view, 'noise.txt')).toBe('Classification failed')
      expect(row(view, 'noise.txt').get('[data-testid="classification-error"]').text()).toBe(
        'binary data declared as text',
      )
      expect(view.get('[data-testid="status"]').text()).toBe(
        'Classification failed for noise.txt: binary data declared as text',
      )
      button(view, 'Run again: read and file noise.txt')
    })

    it('keeps what notices said over a "Run again" answer that comes after them', async () => {
      api.add('noise.txt', 'text', { classification: 'failed', classification_error: 'binary data declared as text' })
      const view = await mountView()
      const stream = await connect()
      let answer!: () => void
      api.holds.set('POST /api/documents/d1/classify', new Promise((resolve) => (answer = resolve)))

      await button(view, 'Run again: read and file noise.txt').trigger('click')
      await flushPromises()
      expect(chip(view, 'noise.txt')).toBe('Reading text…')
      stream.event('ClassificationRequested', stage('d1', 'extracting', '902.1'))
      stream.event('ClassificationFailed', stage('d1', 'failed', '902.2', { error: 'still binary' }))
      await flushPromises()
      answer()
      await flushPromises()

      expect(chip(view, 'noise.txt')).toBe('Classification failed')
      expect(row(view, 'noise.txt').get('[data-testid="classification-error"]').text()).toBe('still binary')
    })

    it('shows the state in the preview too, and follows it there', async () => {
      api.add('noise.txt', 'text', { classification: 'failed', classification_error: 'binary data declared as text' })
      api.contents.set('d1', '\u0001\u0002')
      const view = await mountView()
      const stream = await connect()
      await button(view, 'Preview noise.txt').trigger('click')
      await flushPromises()
      const preview = () => view.get('[data-testid="preview"]')
      expect(preview().get('[data-testid="classification-chip"]').text()).toBe('Classification failed')
      expect(preview().get('[data-testid="classification-error"]').text()).toBe('binary data declared as text')

      await preview().get('button[aria-label="Run again: read and file noise.txt"]').trigger('click')
      await flushPromises()
      expect(api.calls.some((call) => call.url === '/api/documents/d1/classify')).toBe(true)
      expect(preview().get('[data-testid="classification-chip"]').text()).toBe('Reading text…')
      expect(document.activeElement?.id).toBe('preview-classification-d1')

      stream.event('TextExtracted', stage('d1', 'classifying', '903.1'))
      await flushPromises()
      expect(preview().get('[data-testid="classification-chip"]').text()).toBe('Filing…')
    })

    it('announces a document filed while the list that brings it was on its way, once it is in', async () => {
      api.topic('g', 'Garden')
      const view = await mountView()
      const stream = await connect()
      api.add('new.txt', 'text', { classification: 'classified', topics: ['g'] })
      let answer!: () => void
      api.holds.set('GET /api/documents', new Promise((resolve) => (answer = resolve)))
      stream.send('event: resync\ndata: {}\n\n')
      await flushPromises()
      stream.event('DocumentClassified', stage('d1', 'classified', '905.1', { topics: ['g'] }))
      await flushPromises()
      expect(view.get('[data-testid="status"]').text()).toBe('')
      api.holds.clear()
      answer()
      await flushPromises()

      expect(rowNames(view)).toEqual(['new.txt'])
      expect(chip(view, 'new.txt')).toBe('Filed')
      expect(view.get('[data-testid="status"]').text()).toBe('Filed new.txt under ‘Garden’.')
    })

    it('announces a document that failed before any list brought it, once one does', async () => {
      const view = await mountView()
      const stream = await connect()
      api.add('noise.txt', 'text', { classification: 'failed', classification_error: 'binary data declared as text' })
      stream.event('ClassificationFailed', stage('d1', 'failed', '906.1', { error: 'binary data declared as text' }))
      await flushPromises()
      expect(view.get('[data-testid="status"]').text()).toBe('')

      stream.send('event: resync\ndata: {}\n\n')
      await flushPromises()

      expect(chip(view, 'noise.txt')).toBe('Classification failed')
      expect(view.get('[data-testid="status"]').text()).toBe(
        'Classification failed for noise.txt: binary data declared as text',
      )
    })

    it('shows a file that failed while its confirm was answered as failed, though the answer is older', async () => {
      const xhr = mockXhr()
      const view = await mountView()
      const stream = await connect()
      // The confirm waits for the read model; the worker fails the file meanwhile.
      let answer!: () => void
      api.holds.set('POST /api/documents/d1/confirm', new Promise((resolve) => (answer = resolve)))
      await chooseFiles(view, [new File(['\u0001\u0002'], 'noise.txt', { type: 'text/plain' })])
      await flushPromises()
      xhr.sent[0]!.respond(200)
      await flushPromises()
      expect(api.calls.some((call) => call.url.endsWith('/confirm'))).toBe(false)
      const failure = { classification: 'failed' as const, classification_error: 'binary data declared as text' }
      api.lagging.set('d1', { token: '950.3', changes: failure })
      stream.event('ClassificationFailed', stage('d1', 'failed', '950.3', { error: failure.classification_error }))
      await flushPromises()
      api.holds.clear()
      answer()
      await flushPromises()

      // The confirm answered with an earlier token than the notice's: the list asked for
      // the later one, and shows the failure.
      const confirm = api.calls.findIndex((call) => call.url === '/api/documents/d1/confirm')
      const reads = api.calls.slice(confirm + 1).filter((call) => call.url.startsWith('/api/documents?'))
      expect(reads.at(-1)!.headers['X-Consistency-Token']).toBe('950.3')
      expect(chip(view, 'noise.txt')).toBe('Classification failed')
      expect(view.get('[data-testid="status"]').text()).toBe(
        'Classification failed for noise.txt: binary data declared as text',
      )
    })

    it('reads the list again on resync, and after a notice that came while a list was on its way', async () => {
      api.add('Plans.txt', 'text', { classification: 'extracting' })
      const view = await mountView()
      const stream = await connect()
      const lists = api.lists().length

      stream.send('event: resync\ndata: {}\n\n')
      await flushPromises()
      expect(api.lists()).toHaveLength(lists + 1)

      // A list that set off before the notice may not show it: one more is read after it.
      let answer!: () => void
      api.holds.set('GET /api/documents', new Promise((resolve) => (answer = resolve)))
      stream.send('event: resync\ndata: {}\n\n')
      await flushPromises()
      api.docs[0]!.classification = 'classified'
      stream.event('DocumentClassified', stage('d1', 'classified', '999.1', { topics: [] }))
      await flushPromises()
      api.holds.clear()
      answer()
      await flushPromises()

      const reads = api.calls.filter((call) => call.url.startsWith('/api/documents?'))
      expect(reads).toHaveLength(lists + 3)
      expect(reads.at(-1)!.headers['X-Consistency-Token']).toBe('999.1')
      expect(chip(view, 'Plans.txt')).toBe('Filed')
    })
  })
})
