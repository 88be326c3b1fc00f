// Browser test of signing in and out against a running DocuVault server.
//   BASE_URL=http://127.0.0.1:38123 E2E_HANDLE=ann node --test e2e/session.e2e.mjs
// Env: BASE_URL (required), CHROMIUM_PATH (default /usr/bin/chromium),
//      E2E_HANDLE (default e2e_<random digits>); the account is registered here.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { randomInt } from 'node:crypto'
import { chromium } from 'playwright-core'

const BASE_URL = process.env.BASE_URL?.replace(/\/+$/, '')
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const HANDLE = process.env.E2E_HANDLE || `e2e_${randomInt(1e9, 1e10)}`
const EMAIL = `${HANDLE}@example.test`
const PASSWORD = 'correct horse battery staple 42'
const SCREENSHOTS = new URL('./screenshots/', import.meta.url)
const TIMEOUT = 10_000

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
    const registered = await laptop.request.post(`${BASE_URL}/api/auth/register`, {
      data: { email: EMAIL, handle: HANDLE, password: PASSWORD },
    })
    assert.equal(registered.status(), 202)
  })

  after(async () => {
    await browser?.close()
  })

  async function signIn(page, password = PASSWORD) {
    await page.goto(`${BASE_URL}/login`)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
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

  it('refuses a wrong password with one generic message', async () => {
    await signIn(laptop, 'not the right password')
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

  it('signs out of this browser only', async () => {
    await signIn(phone)
    await expectAccountPage(phone)
    await laptop.getByRole('button', { name: 'Sign out', exact: true }).click()
    await expectSignInPage(laptop)
    await laptop.goto(`${BASE_URL}/account`)
    await expectSignInPage(laptop)
    await phone.reload()
    await expectAccountPage(phone)
  })

  it('signs out everywhere', async () => {
    await signIn(laptop)
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
