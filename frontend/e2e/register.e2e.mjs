// Browser test of the registration flow against a running DocuVault server.
//   BASE_URL=http://127.0.0.1:38123 npm run e2e
// Env: BASE_URL (required), CHROMIUM_PATH (default /usr/bin/chromium),
//      E2E_HANDLE (default e2e_<random digits>).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { randomInt } from 'node:crypto'
import { chromium } from 'playwright-core'

const BASE_URL = process.env.BASE_URL?.replace(/\/+$/, '')
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const HANDLE = process.env.E2E_HANDLE || `e2e_${randomInt(1e9, 1e10)}`
const PASSWORD = 'correct horse battery staple 42'
const SCREENSHOTS = new URL('./screenshots/', import.meta.url)
const TIMEOUT = 10_000

// Rejected registrations (400/409) and the anonymous session check (401) make Chromium log "Failed to load resource";
// those are expected, anything else logged as an error is a bug.
const EXPECTED_ERROR = /Failed to load resource: the server responded with a status of (400|401|409)\b/

describe('registration', { timeout: 120_000 }, () => {
  let browser
  let page
  const consoleErrors = []

  before(async () => {
    assert.ok(BASE_URL, 'set BASE_URL to the DocuVault server, e.g. http://127.0.0.1:38123')
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
    page = await browser.newPage()
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

  async function openForm() {
    await page.goto(`${BASE_URL}/register`)
    await page.getByRole('heading', { name: 'Create your vault' }).waitFor()
  }

  async function fillForm({ email, handle, password }) {
    await page.getByLabel('Email', { exact: true }).fill(email)
    await page.getByLabel('Handle', { exact: true }).fill(handle)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Create account' }).click()
  }

  async function expectFieldError(field, pattern) {
    const error = page.locator(`#${field}-error`)
    await error.waitFor({ state: 'visible' })
    assert.match(await error.innerText(), pattern)
    assert.equal(await page.locator(`#${field}`).getAttribute('aria-invalid'), 'true')
  }

  it('rejects a too-short password', async () => {
    await openForm()
    await fillForm({ email: `${HANDLE}@example.test`, handle: HANDLE, password: 'short' })
    await expectFieldError('password', /at least 8 characters/i)
  })

  it('registers a fresh handle', async () => {
    await openForm()
    await fillForm({ email: `${HANDLE}@example.test`, handle: HANDLE, password: PASSWORD })
    const status = page.getByRole('status')
    await status.waitFor()
    assert.match(await status.innerText(), /Check your email/)
    await mkdir(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: new URL('register-success.png', SCREENSHOTS).pathname, fullPage: true })
  })

  it('reports the same handle as taken', async () => {
    await openForm()
    await fillForm({ email: `${HANDLE}.again@example.test`, handle: HANDLE, password: PASSWORD })
    await expectFieldError('handle', /taken/i)
    await page.screenshot({ path: new URL('register.png', SCREENSHOTS).pathname, fullPage: true })
  })

  it('logs no unexpected console errors', () => {
    assert.deepEqual(consoleErrors, [])
  })
})
