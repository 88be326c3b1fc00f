// Browser test of live classification (AI-1..AI-4, EV-9): a person makes a topic
// "Garden", uploads a text file about the garden and, without reloading the page, sees it
// read and filed under "Garden" as the notices arrive. Then a file that passes the upload
// checks but is binary inside: it fails, says why, and "Run again" reads it again (the
// row shows "Reading text…") and fails again. The Rust test registers the person first
// and checks the events afterwards.
//   BASE_URL=… E2E_HANDLE=… E2E_PASSWORD=… node --test e2e/classify.e2e.mjs
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { BASE_URL, SCREENSHOTS, eventually, launch, newPage, signIn } from './browser.mjs'

const HANDLE = process.env.E2E_HANDLE
const PASSWORD = process.env.E2E_PASSWORD

// Chromium logs the first attempt to restore a session before signing in (401).
const EXPECTED_ERROR = /Failed to load resource: the server responded with a status of 401\b/

const TOPIC = 'Garden'
const PLANS = 'garden-plans.txt'
const PLANS_TEXT = 'Plans for the garden: roses along the fence, and tomatoes by the shed.\n'
const NOISE = 'noise.txt'
// Valid UTF-8 without NUL, so the upload checks let it in; the extractor refuses it as binary.
const NOISE_BYTES = Buffer.from(Array.from({ length: 4096 }, (_, index) => 1 + (index % 31)))
// Reading and filing runs in a worker after the confirm: give it time.
const CLASSIFY_TIMEOUT = 60_000

describe('a document is read and filed while the person watches', { timeout: 240_000 }, () => {
  let browser
  let page
  const consoleErrors = []

  const row = (name) =>
    page.getByTestId('document-row').filter({ has: page.getByTestId('document-name').getByText(name, { exact: true }) })
  const classification = (name) => row(name).getByTestId('classification')
  const stateOf = (name) => classification(name).getAttribute('data-state', { timeout: 1_000 })

  async function waitForState(name, state) {
    await row(name)
      .locator(`[data-testid="classification"][data-state="${state}"]`)
      .waitFor({ timeout: CLASSIFY_TIMEOUT })
  }

  async function waitForStatus(text) {
    await page.waitForFunction(
      (expected) => document.querySelector('[data-testid="status"]')?.textContent.trim() === expected,
      text,
      { timeout: CLASSIFY_TIMEOUT },
    )
  }

  async function screenshot(name) {
    await mkdir(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: new URL(name, SCREENSHOTS).pathname, fullPage: true })
  }

  /** Records each state the row of `name` shows from now on, in `window.__states`. */
  async function recordStates(name) {
    await row(name).evaluate((element) => {
      const states = []
      const current = () => element.querySelector('[data-testid="classification"]')?.dataset.state ?? 'none'
      const note = () => {
        if (states.at(-1) !== current()) states.push(current())
      }
      note()
      new MutationObserver(note).observe(element, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-state'],
      })
      window.__states = states
    })
  }

  before(async () => {
    assert.ok(BASE_URL && HANDLE && PASSWORD, 'set BASE_URL, E2E_HANDLE and E2E_PASSWORD')
    browser = await launch()
    page = await newPage(browser, { errors: consoleErrors, expected: EXPECTED_ERROR })
  })

  after(async () => {
    await browser?.close()
  })

  it('signs in and makes the topic "Garden"', async () => {
    await signIn(page, HANDLE, PASSWORD, '/documents')
    await page.getByRole('heading', { name: 'Your documents' }).waitFor()
    await page.getByLabel('Name of a new topic').fill(TOPIC)
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await waitForStatus(`Created topic ${TOPIC}.`)
    await page.locator(`[data-testid="topic-entry"][data-topic="${TOPIC}"]`).waitFor()
    // Gone if the page reloads: everything below happens in this one page.
    await page.evaluate(() => {
      window.__samePage = true
    })
  })

  it('uploads a text file about the garden and sees it read and filed under "Garden" without reloading', async () => {
    await page.getByLabel('Choose files').setInputFiles([
      { name: PLANS, mimeType: 'text/plain', buffer: Buffer.from(PLANS_TEXT) },
    ])
    await row(PLANS).waitFor()
    await waitForState(PLANS, 'classified')
    await row(PLANS).getByTestId('topic-chip').getByText(TOPIC, { exact: true }).waitFor({ timeout: CLASSIFY_TIMEOUT })
    assert.equal((await row(PLANS).getByTestId('classification-chip').innerText()).trim(), 'Filed')
    await waitForStatus(`Filed ${PLANS} under ‘${TOPIC}’.`)
    assert.equal(await page.evaluate(() => window.__samePage), true, 'the page was not reloaded')
    await screenshot('classify-filed.png')
  })

  it('uploads a binary file declared as text and sees why it could not be read', async () => {
    await page.getByLabel('Choose files').setInputFiles([{ name: NOISE, mimeType: 'text/plain', buffer: NOISE_BYTES }])
    await row(NOISE).waitFor()
    await waitForState(NOISE, 'failed')
    assert.equal((await row(NOISE).getByTestId('classification-chip').innerText()).trim(), 'Classification failed')
    const reason = (await row(NOISE).getByTestId('classification-error').innerText()).trim()
    assert.match(reason, /binary/i)
    await waitForStatus(`Classification failed for ${NOISE}: ${reason}`)
    await row(NOISE).getByRole('button', { name: `Run again: read and file ${NOISE}` }).waitFor()
    // The other document keeps its topic and state.
    assert.equal(await stateOf(PLANS), 'classified')
    assert.equal(await page.evaluate(() => window.__samePage), true, 'the page was not reloaded')
    await screenshot('classify-failed.png')
  })

  it('runs it again: it is read once more and fails again, saying why', async () => {
    await recordStates(NOISE)
    const answered = page.waitForResponse(
      (response) => response.request().method() === 'POST' && response.url().endsWith('/classify'),
    )
    await row(NOISE).getByRole('button', { name: `Run again: read and file ${NOISE}` }).click()
    const response = await answered
    assert.equal(response.status(), 202)
    // The answer shows the document as the model has it once the request is in: being
    // read again, or already failed again when the worker was quicker than the answer.
    const { classification } = await response.json()
    assert.ok(['extracting', 'failed'].includes(classification), `answered ${classification}`)

    await eventually(
      'the document is read again and fails again',
      async () => {
        const states = await page.evaluate(() => window.__states)
        return states.includes('extracting') && states.at(-1) === 'failed' && states.indexOf('extracting') > 0
      },
      { timeout: CLASSIFY_TIMEOUT },
    )
    const states = await page.evaluate(() => window.__states)
    assert.equal(states[0], 'failed', `states seen: ${states}`)
    const reason = (await row(NOISE).getByTestId('classification-error').innerText()).trim()
    assert.match(reason, /binary/i)
    await row(NOISE).getByRole('button', { name: `Run again: read and file ${NOISE}` }).waitFor()
    await waitForStatus(`Classification failed for ${NOISE}: ${reason}`)
    assert.equal(await page.evaluate(() => window.__samePage), true, 'the page was not reloaded')
  })

  it('logs no unexpected console errors (no CSP violation either)', () => {
    assert.deepEqual(consoleErrors, [])
  })
})
