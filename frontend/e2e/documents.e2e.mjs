// Browser test of the documents page (DOC-1, DOC-4..6): a person uploads three files and
// watches their progress, previews the PDF (pdf.js under the app's own CSP) and a text
// file, renames and deletes, sees the quota meter move, and is told clearly when a file
// would not fit. The Rust test registers the person with a small quota first.
//   BASE_URL=… E2E_HANDLE=… E2E_PASSWORD=… node --test e2e/documents.e2e.mjs
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { chromium } from 'playwright-core'

const BASE_URL = process.env.BASE_URL?.replace(/\/+$/, '')
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const HANDLE = process.env.E2E_HANDLE
const PASSWORD = process.env.E2E_PASSWORD
const SCREENSHOTS = new URL('./screenshots/', import.meta.url)
const TIMEOUT = 15_000

// Chromium logs the refused over-quota upload (409) and the page's first attempt to
// restore a session before signing in (401).
const EXPECTED_ERROR = /Failed to load resource: the server responded with a status of (401|409)\b/

/** A one-page PDF saying `text`, with a correct cross-reference table. */
function onePagePdf(text) {
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

describe('documents', { timeout: 120_000 }, () => {
  let browser
  let page
  const consoleErrors = []

  const row = (name) =>
    page.getByTestId('document-row').filter({ has: page.getByTestId('document-name').getByText(name, { exact: true }) })
  const quotaText = () => page.getByTestId('quota-text').innerText()

  before(async () => {
    assert.ok(BASE_URL && HANDLE && PASSWORD, 'set BASE_URL, E2E_HANDLE and E2E_PASSWORD')
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    page = await (await browser.newContext()).newPage()
    page.setDefaultTimeout(TIMEOUT)
    page.on('console', (message) => {
      if (message.type() === 'error' && !EXPECTED_ERROR.test(message.text())) {
        consoleErrors.push(message.text())
      }
    })
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`))
  })

  after(async () => {
    await browser?.close()
  })

  it('signs in and lands on an empty documents page', async () => {
    await page.goto(`${BASE_URL}/login`)
    await page.getByLabel('Email').fill(`${HANDLE}@example.test`)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByRole('heading', { name: 'Your documents' }).waitFor()
    assert.match(new URL(page.url()).pathname, /^\/documents$/)
    await page.getByTestId('quota').waitFor()
    assert.match(await quotaText(), /^0 B of /)
  })

  it('uploads three files, each with its progress bar', async () => {
    const before = await quotaText()
    await page.getByLabel('Choose files').setInputFiles([
      { name: 'Contract.pdf', mimeType: 'application/pdf', buffer: onePagePdf('Signed contract') },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Remember the <script>milk</script>.\n') },
      { name: 'plan.md', mimeType: 'text/markdown', buffer: Buffer.from('# Plan\n\n- first\n- second\n') },
    ])
    const uploads = page.getByTestId('upload-row')
    await uploads.nth(2).waitFor()
    for (const name of ['Contract.pdf', 'notes.txt', 'plan.md']) {
      const upload = uploads.filter({ hasText: name })
      await upload.getByRole('progressbar', { name: `Upload of ${name}` }).waitFor()
      await page.waitForFunction(
        (fileName) =>
          [...document.querySelectorAll('[data-testid="upload-row"]')].some(
            (element) => element.textContent.includes(fileName) && element.getAttribute('data-state') === 'done',
          ),
        name,
      )
      assert.equal(await upload.getByRole('progressbar').getAttribute('aria-valuenow'), '100')
      await row(name).waitFor()
    }
    assert.equal(await page.getByTestId('total').innerText().then((text) => /\b3\b/.test(text)), true)
    assert.notEqual(await quotaText(), before)
    await mkdir(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: new URL('documents.png', SCREENSHOTS).pathname, fullPage: true })
  })

  it('previews the PDF in the page with pdf.js', async () => {
    await page.getByRole('button', { name: 'Preview Contract.pdf' }).click()
    const preview = page.getByTestId('preview')
    await preview.waitFor()
    const canvas = preview.locator('canvas')
    await canvas.waitFor()
    assert.equal(await preview.getByTestId('page-indicator').innerText(), 'Page 1 of 1')
    const drawn = await canvas.evaluate((element) => {
      const context = element.getContext('2d')
      const { data } = context.getImageData(0, 0, element.width, element.height)
      let ink = 0
      for (let index = 0; index < data.length; index += 4) {
        if (data[index] < 128 && data[index + 3] > 0) ink += 1
      }
      return { width: element.width, ink }
    })
    assert.ok(drawn.width > 0, 'the page is drawn')
    assert.ok(drawn.ink > 50, `the text is drawn (${drawn.ink} dark pixels)`)
    await page.screenshot({ path: new URL('preview.png', SCREENSHOTS).pathname, fullPage: true })
    await page.getByRole('button', { name: 'Close preview' }).click()
  })

  it('previews a text file as text, never as markup', async () => {
    await page.getByRole('button', { name: 'Preview notes.txt' }).click()
    const text = page.getByTestId('preview').locator('pre')
    await text.waitFor()
    assert.equal((await text.innerText()).trim(), 'Remember the <script>milk</script>.')
    assert.equal(await page.getByTestId('preview').locator('script').count(), 0)
    await page.getByRole('button', { name: 'Close preview' }).click()
  })

  it('renames a document', async () => {
    await page.getByRole('button', { name: 'Rename notes.txt' }).click()
    const input = page.getByLabel('New name for notes.txt')
    await input.fill('shopping.txt')
    await page.getByRole('button', { name: 'Save' }).click()
    await row('shopping.txt').waitFor()
    assert.equal(await row('notes.txt').count(), 0)
  })

  it('deletes a document after asking, and the quota meter goes down', async () => {
    const before = await quotaText()
    await page.getByRole('button', { name: 'Delete Contract.pdf' }).click()
    await page.getByText('Really delete ‘Contract.pdf’?').waitFor()
    await page.getByRole('button', { name: 'Confirm deleting Contract.pdf' }).click()
    await row('Contract.pdf').waitFor({ state: 'detached' })
    await page.waitForFunction(
      (previous) => document.querySelector('[data-testid="quota-text"]')?.textContent.trim() !== previous,
      before,
    )
  })

  it('says clearly when a file would not fit in the quota', async () => {
    await page.getByLabel('Choose files').setInputFiles([
      { name: 'too-big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(300_000, 'a') },
    ])
    const upload = page.getByTestId('upload-row').filter({ hasText: 'too-big.txt' })
    const error = upload.getByTestId('upload-error')
    await error.waitFor()
    assert.match(await error.innerText(), /only .* of your .* are free/)
    assert.equal(await row('too-big.txt').count(), 0)
  })

  it('logs no unexpected console errors (no CSP violation either)', () => {
    assert.deepEqual(consoleErrors, [])
  })
})
