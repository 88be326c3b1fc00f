// Browser test of the emailed links: register, confirm the address from the email,
// sign in, forget the password, reset it from the email, sign in with the new one; then
// download one's data and delete the account.
// With no SMTP server configured DocuVault writes messages to an outbox directory; this
// test reads them there.
//   BASE_URL=… E2E_HANDLE=… E2E_OUTBOX=/path/to/outbox node --test e2e/links.e2e.mjs
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const BASE_URL = process.env.BASE_URL?.replace(/\/+$/, '')
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const HANDLE = process.env.E2E_HANDLE
const OUTBOX = process.env.E2E_OUTBOX
const EMAIL = `${HANDLE}@example.test`
const FIRST_PASSWORD = 'correct horse battery staple 42'
const NEW_PASSWORD = 'a brand new passphrase for e2e'
const TIMEOUT = 10_000

const EXPECTED_ERROR = /Failed to load resource: the server responded with a status of (401|403)\b/

/** The token of the newest message to EMAIL about `subject`, waiting for it to arrive. */
async function tokenFromOutbox(subject, path) {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const names = await readdir(OUTBOX).catch(() => [])
    const texts = await Promise.all(
      names.filter((name) => name.endsWith('.eml')).map((name) => readFile(join(OUTBOX, name), 'utf8')),
    )
    const decoded = texts
      .map((text) => text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))))
      .filter((text) => text.includes(`To: ${EMAIL}`) && text.includes(subject))
    for (const text of decoded) {
      const match = text.match(new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`))
      if (match) return match[1]
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`no "${subject}" message for ${EMAIL} in ${OUTBOX}`)
}

describe('emailed links', { timeout: 120_000 }, () => {
  let browser
  let page
  const consoleErrors = []

  before(async () => {
    assert.ok(BASE_URL && HANDLE && OUTBOX, 'set BASE_URL, E2E_HANDLE and E2E_OUTBOX')
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
      if (message.type() === 'error' && !EXPECTED_ERROR.test(message.text())) consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`))
  })

  after(async () => {
    await browser?.close()
  })

  async function signIn(password) {
    await page.goto(`${BASE_URL}/login?next=/account`)
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  }

  it('registers, and cannot sign in before confirming the address', async () => {
    await page.goto(`${BASE_URL}/register`)
    await page.getByLabel('Email', { exact: true }).fill(EMAIL)
    await page.getByLabel('Handle', { exact: true }).fill(HANDLE)
    await page.getByLabel('Password', { exact: true }).fill(FIRST_PASSWORD)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByRole('status').waitFor()
    await signIn(FIRST_PASSWORD)
    const alert = page.getByRole('alert')
    await alert.waitFor()
    assert.match(await alert.innerText(), /Confirm your email address first/)
  })

  it('confirms the address from the emailed link, which leaves the address bar', async () => {
    const token = await tokenFromOutbox('Confirm your email', '/verify-email')
    await page.goto(`${BASE_URL}/verify-email?token=${token}`)
    await page.getByText('Your email address is confirmed').waitFor()
    assert.equal(new URL(page.url()).search, '')
    await page.getByRole('link', { name: 'Sign in', exact: true }).last().click()
    await signIn(FIRST_PASSWORD)
    await page.getByRole('heading', { name: 'Your account' }).waitFor()
    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
  })

  it('resets a forgotten password from the emailed link', async () => {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await page.getByRole('link', { name: 'Forgot your password?' }).click()
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByRole('button', { name: 'Send the link' }).click()
    await page.getByRole('status').waitFor()
    const token = await tokenFromOutbox('Reset your DocuVault password', '/reset-password')
    await page.goto(`${BASE_URL}/reset-password?token=${token}`)
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
    await page.getByRole('button', { name: 'Set the new password' }).click()
    await page.getByText('Your password is changed').waitFor()
    await signIn(FIRST_PASSWORD)
    await page.getByRole('alert').waitFor()
    await signIn(NEW_PASSWORD)
    await page.getByRole('heading', { name: 'Your account' }).waitFor()
  })

  it('downloads their data, then deletes the account for good', async () => {
    await page.getByLabel('Display name').fill('E2E Person')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.getByText('Saved.').waitFor()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download my data' }).click(),
    ])
    const exported = JSON.parse(await readFile(await download.path(), 'utf8'))
    assert.equal(exported.profile.email, EMAIL)
    assert.equal(exported.profile.display_name, 'E2E Person')
    await page.getByRole('button', { name: 'Delete my account' }).click()
    await page.getByLabel('Your password', { exact: true }).fill(NEW_PASSWORD)
    await page.getByRole('button', { name: 'Delete my account for good' }).click()
    await page.getByRole('heading', { name: 'Your documents, kept safe' }).waitFor()
    await signIn(NEW_PASSWORD)
    const alert = page.getByRole('alert')
    await alert.waitFor()
    assert.match(await alert.innerText(), /not right/)
  })

  it('logs no unexpected console errors', () => {
    assert.deepEqual(consoleErrors, [])
  })
})
