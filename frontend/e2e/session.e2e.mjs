// Browser test of signing in, two-step sign-in and signing out against a running server.
//   BASE_URL=http://127.0.0.1:38123 E2E_HANDLE=ann node --test e2e/session.e2e.mjs
// Env: BASE_URL (required), CHROMIUM_PATH (default /usr/bin/chromium), E2E_HANDLE,
//      E2E_PASSWORD, and E2E_OUTBOX: the directory DocuVault writes its emails to when no
//      SMTP server is configured (the confirmation link is read there).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { createHmac, randomInt } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const BASE_URL = process.env.BASE_URL?.replace(/\/+$/, '')
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const HANDLE = process.env.E2E_HANDLE || `e2e_${randomInt(1e9, 1e10)}`
const EMAIL = `${HANDLE}@example.test`
const PASSWORD = process.env.E2E_PASSWORD || 'correct horse battery staple 42'
const SCREENSHOTS = new URL('./screenshots/', import.meta.url)
const TIMEOUT = 10_000
const OUTBOX = process.env.E2E_OUTBOX

/** The token of the confirmation link sent to EMAIL, waiting for it to arrive. */
async function confirmationToken() {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const names = await readdir(OUTBOX).catch(() => [])
    for (const name of names.filter((n) => n.endsWith('.eml'))) {
      const text = (await readFile(join(OUTBOX, name), 'utf8'))
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
      const match = text.includes(`To: ${EMAIL}`) && text.match(/\/verify-email\?token=([A-Za-z0-9_-]+)/)
      if (match) return match[1]
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`no confirmation for ${EMAIL} in ${OUTBOX}`)
}

/** RFC 4648 base32 (no padding) to bytes. */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const char of text.replace(/=+$/, '').toUpperCase()) {
    const value = alphabet.indexOf(char)
    if (value < 0) throw new Error(`not base32: ${char}`)
    bits += value.toString(2).padStart(5, '0')
  }
  const bytes = []
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2))
  return Buffer.from(bytes)
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) of `secret` at `millis`. */
function totp(secret, millis) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(millis / 1000 / 30)))
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000
  return String(value).padStart(6, '0')
}

// The anonymous session check and refused refreshes answer 401 and wrong passwords 401:
// Chromium logs those as failed loads. Anything else logged as an error is a bug.
const EXPECTED_ERROR = /Failed to load resource: the server responded with a status of 401\b/

describe('sessions', { timeout: 120_000 }, () => {
  let browser
  let laptop
  let phone
  const consoleErrors = []

  async function newPage() {
    const context = await browser.newContext()
    const page = await context.newPage()
    page.setDefaultTimeout(TIMEOUT)
    page.on('console', (message) => {
      if (message.type() === 'error' && !EXPECTED_ERROR.test(message.text())) {
        consoleErrors.push(message.text())
      }
    })
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`))
    return page
  }

  before(async () => {
    assert.ok(BASE_URL, 'set BASE_URL to the DocuVault server')
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
    laptop = await newPage()
    phone = await newPage()
  })

  after(async () => {
    await browser?.close()
  })

  let secret
  let recoveryCodes = []

  /** Signs in with the password and, when asked, `second` ({ code } or { recovery }). */
  async function signIn(page, { password = PASSWORD, second } = {}) {
    await page.goto(`${BASE_URL}/login?next=/account`)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    if (second === undefined) return
    if (second.recovery !== undefined) {
      await page.getByRole('button', { name: 'Use a recovery code instead' }).click()
      await page.getByLabel('Recovery code').fill(second.recovery)
    } else {
      await page.getByLabel('Code', { exact: true }).fill(second.code)
    }
    await page.getByRole('button', { name: 'Continue' }).click()
  }

  async function expectAccountPage(page) {
    await page.getByRole('heading', { name: 'Your account' }).waitFor()
    await page.getByTestId('handle').waitFor()
    assert.equal(await page.getByTestId('handle').innerText(), HANDLE)
  }

  async function expectSignInPage(page) {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    assert.match(page.url(), /\/login/)
  }

  it('registers through the page and confirms the address from the email', async () => {
    await laptop.goto(`${BASE_URL}/register`)
    await laptop.getByLabel('Email', { exact: true }).fill(EMAIL)
    await laptop.getByLabel('Handle', { exact: true }).fill(HANDLE)
    await laptop.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await laptop.getByRole('button', { name: 'Create account' }).click()
    await laptop.getByRole('status').waitFor()
    await laptop.goto(`${BASE_URL}/verify-email?token=${await confirmationToken()}`)
    await laptop.getByText('Your email address is confirmed').waitFor()
  })

  it('refuses a wrong password with one generic message', async () => {
    await signIn(laptop, { password: 'not the right password' })
    const alert = laptop.getByRole('alert')
    await alert.waitFor()
    assert.equal(await alert.innerText(), 'The email or password is not right.')
  })

  it('sends someone who is signed out to the sign-in page', async () => {
    await laptop.goto(`${BASE_URL}/account`)
    await expectSignInPage(laptop)
  })

  it('signs in and shows the account with this session', async () => {
    await signIn(laptop)
    await expectAccountPage(laptop)
    await laptop.getByText('This browser').waitFor()
    await mkdir(SCREENSHOTS, { recursive: true })
    await laptop.screenshot({ path: new URL('account.png', SCREENSHOTS).pathname, fullPage: true })
  })

  it('keeps the access token out of web storage and the refresh token out of scripts', async () => {
    const stored = await laptop.evaluate(() => ({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookies: document.cookie,
    }))
    assert.deepEqual(stored, { local: '{}', session: '{}', cookies: '' })
    const cookies = await laptop.context().cookies()
    const refresh = cookies.find((cookie) => cookie.name === '__Host-dv_refresh')
    assert.ok(refresh, 'the browser keeps the refresh cookie')
    assert.equal(refresh.httpOnly, true)
    assert.equal(refresh.secure, true)
    assert.equal(refresh.sameSite, 'Strict')
    assert.equal(refresh.path, '/')
  })

  it('stays signed in across a reload through the refresh cookie', async () => {
    await laptop.reload()
    await expectAccountPage(laptop)
  })

  it('enrols two-step sign-in with the QR code and a first code', async () => {
    await laptop.getByRole('button', { name: 'Set up two-step sign-in' }).click()
    await laptop.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await laptop.getByRole('button', { name: 'Continue' }).click()
    await laptop.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor()
    secret = await laptop.getByTestId('totp-secret').innerText()
    assert.match(secret, /^[A-Z2-7]{32}$/)
    await laptop.getByLabel('Code from the app').fill(totp(secret, Date.now()))
    await laptop.getByRole('button', { name: 'Turn on' }).click()
    await laptop.getByTestId('recovery-codes').waitFor()
    recoveryCodes = await laptop.getByTestId('recovery-codes').locator('li').allInnerTexts()
    assert.ok(recoveryCodes.length >= 10, `${recoveryCodes.length} recovery codes`)
    await laptop.screenshot({ path: new URL('two-step-codes.png', SCREENSHOTS).pathname, fullPage: true })
    await laptop.getByRole('button', { name: 'I saved them' }).click()
    assert.match(await laptop.getByTestId('two-step-status').innerText(), /^On/)
  })

  it('signs out and back in with a code from the app', async () => {
    await laptop.getByRole('button', { name: 'Sign out', exact: true }).click()
    await expectSignInPage(laptop)
    // The enrolment used this time step's code; the next step's is accepted (±1 step).
    await signIn(laptop, { second: { code: totp(secret, Date.now() + 30_000) } })
    await expectAccountPage(laptop)
  })

  it('signs out of this browser only', async () => {
    await signIn(phone, { second: { recovery: recoveryCodes[0] } })
    await expectAccountPage(phone)
    await laptop.getByRole('button', { name: 'Sign out', exact: true }).click()
    await expectSignInPage(laptop)
    await laptop.goto(`${BASE_URL}/account`)
    await expectSignInPage(laptop)
    await phone.reload()
    await expectAccountPage(phone)
  })

  it('signs out everywhere', async () => {
    await signIn(laptop, { second: { recovery: recoveryCodes[1] } })
    await expectAccountPage(laptop)
    await laptop.getByRole('button', { name: 'Sign out everywhere' }).click()
    await expectSignInPage(laptop)
    await phone.reload()
    await expectSignInPage(phone)
  })

  it('logs no unexpected console errors', () => {
    assert.deepEqual(consoleErrors, [])
  })
})
