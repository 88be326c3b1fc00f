// The document list's state: sort, filters and cursor paging. The server pages with
// opaque cursors that only go forward, so going back needs the cursors of the pages
// before: a stack, whose top is the page shown (null: the first page).

import { computed, ref } from 'vue'
import {
  listDocuments,
  type DocumentKind,
  type DocumentStatus,
  type SortKey,
  type SortOrder,
  type VaultDocument,
} from '../services/documents'

/** The order a column starts in when people first sort by it: newest, A–Z, largest. */
const FIRST_ORDER: Record<SortKey, SortOrder> = { date: 'desc', name: 'asc', size: 'desc' }

export const PAGE_SIZE = 25

export function useDocumentList(pageSize = PAGE_SIZE) {
  const sort = ref<SortKey>('date')
  const order = ref<SortOrder>('desc')
  const kind = ref<DocumentKind | ''>('')
  const status = ref<DocumentStatus | ''>('')
  /** A folder's id, `top`, or null for every folder. */
  const folder = ref<string | null>(null)
  /** A topic's id, or null for any topic. */
  const topic = ref<string | null>(null)
  const items = ref<VaultDocument[]>([])
  const total = ref(0)
  const nextCursor = ref<string | null>(null)
  const cursors = ref<Array<string | null>>([null])
  const loading = ref(false)
  /** Whether a first page has arrived (to tell "empty" from "not loaded yet"). */
  const loaded = ref(false)
  // Only the latest request may fill the list: an older answer arriving late is dropped.
  let latest = 0

  const pageNumber = computed(() => cursors.value.length)
  const hasPrevious = computed(() => cursors.value.length > 1)
  const hasNext = computed(() => nextCursor.value !== null)
  /** Whether the kind, status or topic filter narrows the list (a folder is a place, not a filter). */
  const filtered = computed(() => kind.value !== '' || status.value !== '' || topic.value !== null)

  /** Loads the page on top of the stack; throws the ApiError when the server refuses. */
  async function load(): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const page = await listDocuments({
        sort: sort.value,
        order: order.value,
        kind: kind.value || null,
        status: status.value || null,
        folder: folder.value,
        topic: topic.value,
        limit: pageSize,
        cursor: cursors.value[cursors.value.length - 1] ?? null,
      })
      if (ticket !== latest) return
      items.value = page.items
      total.value = page.total
      nextCursor.value = page.next_cursor
      loaded.value = true
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /** Shows the page a stack of cursors leads to; a refused load leaves the stack as it was. */
  async function showPage(stack: Array<string | null>): Promise<void> {
    const before = cursors.value
    cursors.value = stack
    try {
      await load()
    } catch (failure) {
      cursors.value = before
      throw failure
    }
  }

  function firstPage(): Promise<void> {
    return showPage([null])
  }

  /** A column header's click: the same column flips its order, another starts afresh. */
  function sortBy(key: SortKey): Promise<void> {
    if (sort.value === key) {
      order.value = order.value === 'asc' ? 'desc' : 'asc'
    } else {
      sort.value = key
      order.value = FIRST_ORDER[key]
    }
    return firstPage()
  }

  function ariaSort(key: SortKey): 'ascending' | 'descending' | 'none' {
    if (sort.value !== key) return 'none'
    return order.value === 'asc' ? 'ascending' : 'descending'
  }

  function next(): Promise<void> {
    if (nextCursor.value === null) return Promise.resolve()
    return showPage([...cursors.value, nextCursor.value])
  }

  function previous(): Promise<void> {
    if (cursors.value.length <= 1) return Promise.resolve()
    return showPage(cursors.value.slice(0, -1))
  }

  /** Reloads the page shown; when a deletion emptied it, steps back to the one before. */
  async function reload(): Promise<void> {
    await load()
    if (items.value.length === 0 && cursors.value.length > 1) await previous()
  }

  /** Shows a changed document at once, before the next reload. */
  function replace(document: VaultDocument) {
    items.value = items.value.map((item) => (item.id === document.id ? document : item))
  }

  return {
    sort,
    order,
    kind,
    status,
    folder,
    topic,
    items,
    total,
    nextCursor,
    loading,
    loaded,
    pageNumber,
    hasPrevious,
    hasNext,
    filtered,
    load,
    firstPage,
    sortBy,
    ariaSort,
    next,
    previous,
    reload,
    replace,
  }
}
