// Leaving the SPA for a URL the server handed out (a download link). A module of its own
// so tests can replace it: jsdom cannot navigate, and its `location` cannot be spied on.

export function assignLocation(url: string): void {
  window.location.assign(url)
}
