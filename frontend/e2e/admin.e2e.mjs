// Browser test of user management: an admin disables a person whose open session then
// stops working. The Rust test registers both accounts first.
//   BASE_URL=… E2E_HANDLE=ann_x E2E_PASSWORD=… node --test e2e/admin.e2e.mjs
// The admin's handle is E2E_HANDLE with `ann_` replaced by `root_`.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { chromium } from 'playwright-core'

const BASE_URL = process.env.BASE_URL?.replace(/\/+$/, '')
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const PERSON = process.env.E2E_HANDLE
const ADMIN = PERSON?.replace(/^ann_/, 'root_')
const PASSWORD = process.env.E2E_PASSWORD
const SCREENSHOTS = new URL('./screenshots/', import.meta.url)
const TIMEOUT = 10_000

// Refused refreshes and API calls after the disabling answer 401/403: Chromium logs them.
const EXPECTED_ERROR = /Failed to load resource: the server responded with a status of (401|403)\b/

describe('user management', { timeout: 120_000 }, () => {
  let browser
  let adminPage
  let personPage
  const consoleErrors = []

  async function newPage() {
    const page = await (await browser.newContext()).newPage()
    page.setDefaultTimeout(TIMEOUT)
    page.on('console', (message) => {
      if (message.type() === 'error' && !EXPECTED_ERROR.test(message.text())) {
        consoleErrors.push(message.text())
      }
    })
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`))
    return page
  }

  async function signIn(page, handle) {
    await page.goto(`${BASE_URL}/login?next=/account`)
    await page.getByLabel('Email').fill(`${handle}@example.test`)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  }

  before(async () => {
    assert.ok(BASE_URL && PERSON && PASSWORD, 'set BASE_URL, E2E_HANDLE and E2E_PASSWORD')
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
    adminPage = await newPage()
    personPage = await newPage()
  })

  after(async () => {
    await browser?.close()
  })

  it('lets the person sign in and work', async () => {
    await signIn(personPage, PERSON)
    await personPage.getByRole('heading', { name: 'Your account' }).waitFor()
    assert.equal(await personPage.getByRole('link', { name: 'Users' }).count(), 0)
  })

  it('shows the admin the users, with a nudge towards two-step sign-in', async () => {
    await signIn(adminPage, ADMIN)
    await adminPage.getByRole('heading', { name: 'Your account' }).waitFor()
    await adminPage.getByRole('link', { name: 'Users' }).click()
    await adminPage.getByRole('heading', { name: 'Users' }).waitFor()
    await adminPage.getByRole('note').waitFor()
    assert.match(await adminPage.getByRole('note').innerText(), /two-step sign-in/)
    const row = adminPage.locator(`tr[data-user="${PERSON}"]`)
    await row.waitFor()
    assert.match(await row.innerText(), /Active/)
  })

  it('disables the person, whose open session stops working', async () => {
    const row = adminPage.locator(`tr[data-user="${PERSON}"]`)
    await row.getByRole('button', { name: `Disable ${PERSON}` }).click()
    await adminPage.getByRole('status').filter({ hasText: `Disabled: ${PERSON}` }).waitFor()
    await row.getByText('Disabled').waitFor()
    await mkdir(SCREENSHOTS, { recursive: true })
    await adminPage.screenshot({ path: new URL('admin-users.png', SCREENSHOTS).pathname, fullPage: true })

    // The person's tab still shows the page; their next request fails and sends them out.
    await personPage.getByRole('button', { name: 'Sign out everywhere' }).waitFor()
    await personPage.reload()
    await personPage.getByRole('heading', { name: 'Sign in' }).waitFor()
    await signIn(personPage, PERSON)
    const alert = personPage.getByRole('alert')
    await alert.waitFor()
    assert.match(await alert.innerText(), /disabled/i)
  })

  it('enables the person again', async () => {
    const row = adminPage.locator(`tr[data-user="${PERSON}"]`)
    await row.getByRole('button', { name: `Enable ${PERSON}` }).click()
    await row.getByText('Active').waitFor()
    await signIn(personPage, PERSON)
    await personPage.getByRole('heading', { name: 'Your account' }).waitFor()
  })

  it('closes self-registration, which the register page then says', async () => {
    await adminPage.getByRole('link', { name: 'Users' }).click()
    const toggle = adminPage.getByLabel('Anyone may create an account')
    await toggle.waitFor()
    assert.equal(await toggle.isChecked(), true)
    await toggle.uncheck()
    await adminPage.getByText('New accounts are by invitation only.').waitFor()
    const visitor = await newPage()
    await visitor.goto(`${BASE_URL}/register`)
    await visitor.getByText('New accounts are by invitation only').waitFor()
    assert.equal(await visitor.locator('form').count(), 0)
    await toggle.check()
    await adminPage.getByText('Anyone can create an account.').waitFor()
  })

  it('finds the disabling in the audit log', async () => {
    await adminPage.getByRole('link', { name: 'Audit log' }).click()
    await adminPage.getByRole('heading', { name: 'Audit log' }).waitFor()
    await adminPage.getByLabel('Event').selectOption('UserDisabled')
    await adminPage.getByRole('button', { name: 'Filter' }).click()
    await adminPage.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1)
    const row = adminPage.locator('tr[data-event="UserDisabled"]')
    const text = await row.innerText()
    assert.match(text, new RegExp(ADMIN))
    assert.match(text, new RegExp(PERSON))
    await adminPage.screenshot({ path: new URL('admin-audit.png', SCREENSHOTS).pathname, fullPage: true })
  })

  it('logs no unexpected console errors', () => {
    assert.deepEqual(consoleErrors, [])
  })
})
