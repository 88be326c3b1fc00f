// The search page's state: the filters, the results shown and "more results" paging
// with the server's next offset. Only the latest search may fill the results: an older
// answer arriving late is dropped.

import { reactive, ref } from 'vue'
import {
  emptyFilters,
  searchDocuments,
  validateDates,
  validateQuery,
  SEARCH_PAGE_SIZE,
  type SearchFilters,
  type SearchHit,
} from '../services/search'

export function useSearch(pageSize = SEARCH_PAGE_SIZE) {
  const filters = reactive<SearchFilters>(emptyFilters())
  const items = ref<SearchHit[]>([])
  const nextOffset = ref<number | null>(null)
  /** The filters the results shown were found with (null: nothing searched yet). */
  const searched = ref<SearchFilters | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  /** What is wrong with the query box, before anything was sent. */
  const queryError = ref('')
  /** What is wrong with the dates, before anything was sent. */
  const dateError = ref('')
  let latest = 0

  /** Runs a new search from the first result; false when the filters were not sent. Throws the ApiError. */
  async function run(): Promise<boolean> {
    queryError.value = validateQuery(filters.q) ?? ''
    dateError.value = validateDates(filters) ?? ''
    if (queryError.value || dateError.value) return false
    const ticket = ++latest
    const asked = { ...filters }
    loading.value = true
    try {
      const page = await searchDocuments(asked, 0, pageSize)
      if (ticket !== latest) return true
      items.value = page.items
      nextOffset.value = page.next_offset
      searched.value = asked
      return true
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /** Adds the next page of the search shown. Throws the ApiError; the results shown stay. */
  async function more(): Promise<void> {
    if (searched.value === null || nextOffset.value === null) return
    const ticket = ++latest
    loadingMore.value = true
    try {
      const page = await searchDocuments(searched.value, nextOffset.value, pageSize)
      if (ticket !== latest) return
      const shown = new Set(items.value.map((item) => item.id))
      items.value = [...items.value, ...page.items.filter((item) => !shown.has(item.id))]
      nextOffset.value = page.next_offset
    } finally {
      if (ticket === latest) loadingMore.value = false
    }
  }

  function reset() {
    latest += 1
    Object.assign(filters, emptyFilters())
    items.value = []
    nextOffset.value = null
    searched.value = null
    queryError.value = ''
    dateError.value = ''
    loading.value = false
    loadingMore.value = false
  }

  return { filters, items, nextOffset, searched, loading, loadingMore, queryError, dateError, run, more, reset }
}
