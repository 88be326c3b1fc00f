// Browser test of folders, topics, sharing and search (ORG-1..4): a person uploads two
// documents, makes nested folders, moves a folder and a document by drag and drop (and
// one by the "Move to…" menu), gives a document a topic, shares it with a friend (after
// being told clearly when a handle cannot receive), and finds it by a word of its name,
// highlighted. The friend reads and previews it under "Shared with me"; once the owner
// revokes the share, it is gone from there. The Rust test registers both people first.
//   BASE_URL=… E2E_HANDLE=… E2E_FRIEND=… E2E_PASSWORD=… node --test e2e/organise.e2e.mjs
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { BASE_URL, SCREENSHOTS, eventually, launch, newPage, onePagePdf, signIn, signOut } from './browser.mjs'

const HANDLE = process.env.E2E_HANDLE
const FRIEND = process.env.E2E_FRIEND
const PASSWORD = process.env.E2E_PASSWORD

// Chromium logs the first attempt to restore a session before signing in (401) and the
// share refused for a handle that cannot receive (422).
const EXPECTED_ERROR = /Failed to load resource: the server responded with a status of (401|422)\b/

const REPORT = 'Quarterly-report.txt'
const REPORT_TEXT = 'Revenue grew in the third quarter, and costs fell.\n'
const INVOICE = 'Invoice-alpha.pdf'
const TOPIC = 'Finance reports'

describe('folders, topics, sharing and search', { timeout: 240_000 }, () => {
  let browser
  let page
  const consoleErrors = []

  const row = (name) =>
    page.getByTestId('document-row').filter({ has: page.getByTestId('document-name').getByText(name, { exact: true }) })
  const folder = (name) => page.locator(`[data-testid="folder-item"][data-folder-name="${name}"]`)
  const status = () => page.getByTestId('status')
  const listTitle = () => page.getByTestId('list-title')

  /** The name of the folder a folder's entry sits in, or null at the top. */
  const parentOf = (name) =>
    folder(name).evaluate((element) => {
      const group = element.closest('ul.tree-children')
      if (!group) return null
      return group.closest('li.tree-node')?.querySelector(':scope > .tree-row [data-testid="folder-item"]')?.dataset
        .folderName
    })

  async function waitForStatus(text) {
    await page.waitForFunction(
      (expected) => document.querySelector('[data-testid="status"]')?.textContent.trim() === expected,
      text,
    )
  }

  async function screenshot(name) {
    await mkdir(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: new URL(name, SCREENSHOTS).pathname, fullPage: true })
  }

  /** Reloads "Shared with me" until its list has loaded and `check` holds. */
  async function reloadSharedUntil(what, check) {
    await eventually(
      what,
      async () => {
        await page.reload()
        await page.getByRole('heading', { name: 'Shared with me' }).waitFor()
        await page.locator('[data-testid="shared-row"], [data-testid="empty"]').first().waitFor()
        return check()
      },
      { timeout: 20_000, interval: 750 },
    )
  }

  before(async () => {
    assert.ok(BASE_URL && HANDLE && FRIEND && PASSWORD, 'set BASE_URL, E2E_HANDLE, E2E_FRIEND and E2E_PASSWORD')
    browser = await launch()
    page = await newPage(browser, { errors: consoleErrors, expected: EXPECTED_ERROR })
  })

  after(async () => {
    await browser?.close()
  })

  it('signs in and uploads a text file and a PDF', async () => {
    await signIn(page, HANDLE, PASSWORD, '/documents')
    await page.getByRole('heading', { name: 'Your documents' }).waitFor()
    await page.getByTestId('folder-all').waitFor()
    assert.equal(await page.getByTestId('folder-all').getAttribute('aria-current'), 'true')
    await page.getByLabel('Choose files').setInputFiles([
      { name: REPORT, mimeType: 'text/plain', buffer: Buffer.from(REPORT_TEXT) },
      { name: INVOICE, mimeType: 'application/pdf', buffer: onePagePdf('Invoice alpha') },
    ])
    await row(REPORT).waitFor()
    await row(INVOICE).waitFor()
  })

  it('creates a folder, and a folder inside it', async () => {
    await page.getByRole('button', { name: 'New folder', exact: true }).click()
    await page.getByText('At the top level').waitFor()
    await page.getByLabel('Name of the new folder').fill('Projects')
    await page.getByRole('button', { name: 'Create folder' }).click()
    await waitForStatus('Created folder Projects.')
    await folder('Projects').waitFor()

    await folder('Projects').click()
    await listTitle().getByText('Projects', { exact: true }).waitFor()
    assert.equal(await folder('Projects').getAttribute('aria-current'), 'true')
    await page.getByTestId('empty').waitFor()
    await page.getByRole('button', { name: 'New folder', exact: true }).click()
    await page.getByText('Inside Projects').waitFor()
    await page.getByLabel('Name of the new folder').fill('2026')
    await page.getByRole('button', { name: 'Create folder' }).click()
    await waitForStatus('Created folder 2026 in Projects.')
    await folder('2026').waitFor()
    assert.equal(await parentOf('2026'), 'Projects')
    assert.equal(await parentOf('Projects'), null)
  })

  it('moves a folder into another by drag and drop', async () => {
    await page.getByTestId('folder-all').click()
    await page.getByRole('button', { name: 'New folder', exact: true }).click()
    await page.getByLabel('Name of the new folder').fill('Archive')
    await page.getByRole('button', { name: 'Create folder' }).click()
    await waitForStatus('Created folder Archive.')
    assert.equal(await parentOf('Archive'), null)

    await folder('Archive').dragTo(folder('Projects'))
    await waitForStatus('Moved folder Archive into ‘Projects’.')
    await eventually('Archive is inside Projects', async () => (await parentOf('Archive')) === 'Projects')
  })

  it('drags a document onto a folder in the tree, and finds it listed there', async () => {
    await row(REPORT).getByTestId('drag-handle').dragTo(folder('2026'))
    await waitForStatus(`Moved ${REPORT} to ‘Projects / 2026’.`)
    await row(REPORT).getByTestId('document-folder').getByText('in Projects / 2026').waitFor()

    // Without dragging: the row's "Move to…" menu.
    await row(INVOICE).getByLabel(`Move ${INVOICE} to a folder`).selectOption({ label: 'Projects' })
    await waitForStatus(`Moved ${INVOICE} to ‘Projects’.`)

    await folder('2026').click()
    await listTitle().getByText('Projects / 2026', { exact: true }).waitFor()
    await row(REPORT).waitFor()
    await row(INVOICE).waitFor({ state: 'detached' })
    assert.equal(await page.getByTestId('document-row').count(), 1)
    await screenshot('organise-folder.png')
  })

  it('gives the document a topic, and filters the list by it', async () => {
    await row(REPORT).getByRole('button', { name: `Topics of ${REPORT}` }).click()
    const dialog = page.getByRole('dialog', { name: `Topics of ‘${REPORT}’` })
    await dialog.waitFor()
    await dialog.getByLabel('Create a new topic', { exact: true }).fill(TOPIC)
    await dialog.getByRole('button', { name: 'Create and add' }).click()
    await dialog.getByTestId('chosen-topics').getByText(TOPIC).waitFor()
    await dialog.getByRole('button', { name: 'Save topics' }).click()
    await dialog.waitFor({ state: 'detached' })
    await row(REPORT).getByTestId('topic-chip').getByText(TOPIC).waitFor()

    await page.getByTestId('folder-all').click()
    await listTitle().getByText('All documents', { exact: true }).waitFor()
    await row(INVOICE).waitFor()
    await page.getByLabel('Topic', { exact: true }).selectOption({ label: TOPIC })
    await row(INVOICE).waitFor({ state: 'detached' })
    await row(REPORT).waitFor()
    await page.getByLabel('Topic', { exact: true }).selectOption({ label: 'Any topic' })
    await row(INVOICE).waitFor()
  })

  it('shares it with the friend, after saying clearly which handles cannot receive', async () => {
    await row(REPORT).getByRole('button', { name: `Share ${REPORT}` }).click()
    const dialog = page.getByRole('dialog', { name: `Share ‘${REPORT}’` })
    await dialog.waitFor()
    await dialog.getByTestId('no-shares').waitFor()
    const handle = dialog.getByLabel('Handle of the person to share with')
    const lookup = dialog.getByTestId('handle-status')
    const error = dialog.getByTestId('share-error')

    await handle.fill(`nobody_${Date.now() % 1_000_000}`)
    await lookup.getByText('No one has this handle.').waitFor()
    await dialog.getByRole('button', { name: 'Share', exact: true }).click()
    await error.getByText('No one has this handle. Check the spelling.').waitFor()

    // One's own handle exists, but cannot receive: the server says so (422 no_recipient).
    await handle.fill(HANDLE)
    await lookup.getByText(`${HANDLE} has an account.`).waitFor()
    await dialog.getByRole('button', { name: 'Share', exact: true }).click()
    await error.getByText(/No one with this handle can receive shares/).waitFor()
    assert.equal(await dialog.getByTestId('share-row').count(), 0)

    await handle.fill(FRIEND)
    await lookup.getByText(`${FRIEND} has an account.`).waitFor()
    assert.equal((await error.innerText()).trim(), '')
    await dialog.getByRole('button', { name: 'Share', exact: true }).click()
    await dialog.locator(`[data-testid="share-row"][data-handle="${FRIEND}"]`).waitFor()
    await dialog.getByTestId('share-status').getByText(`Shared with ${FRIEND}.`).waitFor()
    assert.equal((await error.innerText()).trim(), '')
    await screenshot('organise-share.png')
    await dialog.getByRole('button', { name: 'Close', exact: true }).click()
    await dialog.waitFor({ state: 'detached' })
  })

  it('finds the document by a word of its name, the word highlighted', async () => {
    await page.getByLabel('Search your documents').fill('quarterly')
    await page.getByLabel('Search your documents').press('Enter')
    await page.getByRole('heading', { name: 'Search', exact: true }).waitFor()
    assert.equal(new URL(page.url()).searchParams.get('q'), 'quarterly')

    const result = page.getByTestId('search-result').filter({ hasText: REPORT })
    await result.waitFor()
    const marks = result.getByTestId('snippet').locator('mark')
    await marks.first().waitFor()
    assert.match(await marks.first().innerText(), /quarter/i)
    // The snippet holds text and <mark> only.
    const tags = await result
      .getByTestId('snippet')
      .evaluate((element) => [...element.querySelectorAll('*')].map((child) => child.tagName))
    assert.ok(tags.length > 0 && tags.every((tag) => tag === 'MARK'), `only <mark> in the snippet: ${tags}`)
    assert.equal(await page.getByTestId('search-result').filter({ hasText: INVOICE }).count(), 0)
    await screenshot('organise-search.png')

    // A filter that excludes it.
    await page.getByLabel('Kind').selectOption('pdf')
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await page.getByTestId('no-results').waitFor()
    await page.getByLabel('Kind').selectOption('')
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await result.waitFor()

    await result.getByRole('button', { name: `Preview ${REPORT}` }).click()
    const text = page.getByTestId('preview').locator('pre')
    await text.waitFor()
    assert.equal((await text.innerText()).trim(), REPORT_TEXT.trim())
    await page.getByRole('button', { name: 'Close preview' }).click()
  })

  it('shows the friend the document under "Shared with me", to preview and nothing more', async () => {
    await signOut(page)
    await signIn(page, FRIEND, PASSWORD, '/shared')
    const shared = page.getByTestId('shared-row').filter({ hasText: REPORT })
    await reloadSharedUntil('the share reaches the friend', async () => (await shared.count()) === 1)
    assert.equal((await shared.getByTestId('shared-by').innerText()).trim(), HANDLE)
    // Read-only: nothing to rename, delete, move, share or tag.
    assert.equal(await shared.getByRole('button', { name: /Rename|Delete|Share|Topics/ }).count(), 0)
    assert.equal(await shared.getByRole('combobox').count(), 0)

    await shared.getByRole('button', { name: `Preview ${REPORT}` }).click()
    const text = page.getByTestId('preview').locator('pre')
    await text.waitFor()
    assert.equal((await text.innerText()).trim(), REPORT_TEXT.trim())
    await screenshot('organise-shared.png')
  })

  it('lets the owner revoke the share', async () => {
    await signOut(page)
    await signIn(page, HANDLE, PASSWORD, '/documents')
    await row(REPORT).getByRole('button', { name: `Share ${REPORT}` }).click()
    const dialog = page.getByRole('dialog', { name: `Share ‘${REPORT}’` })
    await dialog.locator(`[data-testid="share-row"][data-handle="${FRIEND}"]`).waitFor()
    await dialog.getByRole('button', { name: `Revoke the share with ${FRIEND}` }).click()
    await dialog.getByTestId('no-shares').waitFor()
    await dialog.getByTestId('share-status').getByText(`${FRIEND} can no longer read this document.`).waitFor()
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
  })

  it('takes the document away from the friend', async () => {
    await signOut(page)
    await signIn(page, FRIEND, PASSWORD, '/shared')
    await reloadSharedUntil(
      'the revocation reaches the friend',
      async () => (await page.getByTestId('shared-row').filter({ hasText: REPORT }).count()) === 0,
    )
    await page.getByTestId('empty').waitFor()
  })

  it('logs no unexpected console errors (no CSP violation either)', () => {
    assert.deepEqual(consoleErrors, [])
  })
})
