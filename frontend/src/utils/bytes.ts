// Sizes for people, in decimal units (1 MB = 1,000,000 bytes) as the server's quota
// messages and the admin's quota field count them: "12.3 MB", "100 MB", "512 B".

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const

/** Three significant figures at most: one decimal below 100 of a unit, none from 100 on. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  let unit = 0
  let value = bytes
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000
    unit += 1
  }
  if (unit === 0) return `${Math.round(value)} B`
  let text = value < 100 ? value.toFixed(1) : String(Math.round(value))
  // 999.96 kB rounds up to "1000 kB": say "1.0 MB" instead.
  if (Number(text) >= 1000 && unit < UNITS.length - 1) {
    unit += 1
    text = (Number(text) / 1000).toFixed(1)
  }
  return `${text} ${UNITS[unit]}`
}
