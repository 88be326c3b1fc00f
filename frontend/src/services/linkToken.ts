// Emailed links carry a one-time token in `?token=`. Pages read it once and take it out
// of the address bar at once, so it stays out of history, bookmarks and screenshots.
export function takeLinkToken(name = 'token'): string | null {
  const url = new URL(window.location.href)
  const token = url.searchParams.get(name)
  if (token === null) return null
  url.searchParams.delete(name)
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash)
  return token
}
