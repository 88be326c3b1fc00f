import { describe, expect, it } from 'vitest'
import { takeLinkToken } from './linkToken'

describe('takeLinkToken', () => {
  it('reads the token once and removes it from the address bar', () => {
    window.history.replaceState(null, '', '/reset-password?token=abc_-1&x=2#top')
    expect(takeLinkToken()).toBe('abc_-1')
    expect(window.location.pathname + window.location.search + window.location.hash).toBe('/reset-password?x=2#top')
    expect(takeLinkToken()).toBeNull()
  })
})
