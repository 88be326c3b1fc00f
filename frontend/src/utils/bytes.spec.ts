import { describe, expect, it } from 'vitest'
import { formatBytes } from './bytes'

describe('formatBytes', () => {
  it('counts in decimal units with three significant figures at most', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(999)).toBe('999 B')
    expect(formatBytes(1000)).toBe('1.0 kB')
    expect(formatBytes(12_345)).toBe('12.3 kB')
    expect(formatBytes(12_300_000)).toBe('12.3 MB')
    expect(formatBytes(100_000_000)).toBe('100 MB')
    expect(formatBytes(5_000_000)).toBe('5.0 MB')
    expect(formatBytes(2_500_000_000)).toBe('2.5 GB')
  })

  it('moves to the next unit rather than showing 1000 of one', () => {
    expect(formatBytes(999_960)).toBe('1.0 MB')
    expect(formatBytes(999_499)).toBe('999 kB')
  })

  it('shows a dash for sizes that are not sizes', () => {
    expect(formatBytes(-1)).toBe('–')
    expect(formatBytes(Number.NaN)).toBe('–')
  })
})
