// What the browser tests share: Debian's Chromium driven by playwright-core (no browser
// download), pages that collect the console errors a test did not expect, and signing in.
import { chromium } from 'playwright-core'

export const BASE_URL = process.env.BASE_URL?.replace(/\/+$/, '')
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
export const SCREENSHOTS = new URL('./screenshots/', import.meta.url)

/** Headless, without a sandbox (containers), a GPU or any traffic of Chromium's own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
}

/**
 * A page in a context of its own (its own cookies). Console errors that `expected` does
 * not match, and uncaught exceptions, are pushed onto `errors`.
 */
export async function newPage(browser, { errors, expected, timeout = 15_000 }) {
  const page = await (await browser.newContext()).newPage()
  page.setDefaultTimeout(timeout)
  page.on('console', (message) => {
    if (message.type() === 'error' && !expected.test(message.text())) errors.push(message.text())
  })
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`))
  return page
}

/** Signs in through the sign-in page, landing on `next`. */
export async function signIn(page, handle, password, next) {
  await page.goto(`${BASE_URL}/login?next=${encodeURIComponent(next)}`)
  await page.getByLabel('Email').fill(`${handle}@example.test`)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL((url) => url.pathname === next)
}

/** Signs out with the header's button. */
export async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click()
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
}

/** A one-page PDF saying `text`, with a correct cross-reference table. */
export function onePagePdf(text) {
  const stream = `BT /F1 24 Tf 30 60 Td (${text}) Tj ET`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 320 140] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  let out = '%PDF-1.4\n'
  const offsets = []
  objects.forEach((body, index) => {
    offsets.push(out.length)
    out += `${index + 1} 0 obj\n${body}\nendobj\n`
  })
  const xref = out.length
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  out += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('')
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}

/** Retries `check` (which throws or returns false while not yet) until it holds or time runs out. */
export async function eventually(what, check, { timeout = 15_000, interval = 500 } = {}) {
  const deadline = Date.now() + timeout
  let last
  for (;;) {
    try {
      if (await check()) return
      last = undefined
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting until ${what}${last ? `: ${last.message}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
