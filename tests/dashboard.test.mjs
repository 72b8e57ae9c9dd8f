// The dashboard in headless Chromium, served by the Worker under wrangler
// dev over generated traffic: login (and refusal, slowed after failures),
// numbers equal to the Stats API's, a click on a row filtering every panel,
// filters in the URL (reload and back button), settings changing retention,
// goals and funnels, a saved funnel's panel, the demo page's events in the
// real-time count. Screenshots of desktop and phone widths go to
// tests/artifacts/.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startClickhouse } from './support/clickhouse.mjs'
import { startEdge, TEST_ADMIN_TOKEN } from './support/edge.mjs'
import { launch } from './support/browser.mjs'
import { clickhouseFromEnv, migrate } from '../scripts/lib/clickhouse.mjs'
import { BACKSTAGE_GOALS, BACKSTAGE_PROPS, hashPassword } from '../scripts/lib/admin.mjs'
import { generateEvents, insertEvents, utcDays } from '../scripts/lib/events.mjs'
import { root } from '../scripts/lib/paths.mjs'

const SITE = 'backstage.fawkes.idp'
const PASSWORD = 'a-test-password-for-the-dashboard'
const artifacts = join(root, 'tests/artifacts')

let ch, edge, browser, key, base
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-'))
  ch = await startClickhouse(join(dir, 'ch'))
  const clickhouse = clickhouseFromEnv(ch.env)
  await migrate(clickhouse, { log: () => {} })
  const rows = [...generateEvents({ count: 4000, days: 30, end: Date.now() - 120_000, seed: 5, site: SITE })]
  await insertEvents(clickhouse, rows)
  edge = await startEdge({
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: [
      { domain: SITE, timezone: 'Europe/Berlin', goals: BACKSTAGE_GOALS, props: BACKSTAGE_PROPS },
      { domain: 'portal.test' }
    ],
    persistTo: join(dir, 'state'),
    vars: { ADMIN_PASSWORD_HASH: hashPassword(PASSWORD) }
  })
  await edge.admin.rebuildVisits(...utcDays(rows))
  key = (await edge.admin.addKey([SITE], 'tests')).key
  // localhost: a secure context, where Chromium keeps a Secure cookie over http
  base = edge.url.replace('127.0.0.1', 'localhost')
  browser = await launch()
  mkdirSync(artifacts, { recursive: true })
})
after(async () => {
  await browser?.close()
  await edge?.stop()
  await ch?.stop()
})

async function stats(body) {
  const response = await fetch(`${edge.url}/api/v2/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify(body)
  })
  assert.equal(response.status, 200)
  return (await response.json()).results
}

/** A logged-in page at the dashboard, every Stats API request it makes recorded. */
async function loggedIn(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  page.queries = []
  page.requests = []
  page.on('request', (request) => {
    page.requests.push(request.url())
    if (request.url().endsWith('/api/v2/query')) page.queries.push(JSON.parse(request.postData()))
  })
  await page.goto(`${base}/dashboard/`)
  await page.fill('#password', PASSWORD)
  await page.click('button[type=submit]')
  await loaded(page)
  return page
}

/** Waits until a render finished (body[data-loaded] changes). */
async function loaded(page, previous) {
  await page.waitForFunction(
    (before) => document.body.dataset.loaded && document.body.dataset.loaded !== before,
    previous,
    { timeout: 30_000 }
  )
}

const number = (text) => Number(text.replace(/[^\d.]/g, ''))

test('login: the session is an HttpOnly, Secure, SameSite=Strict cookie, and the numbers shown are the Stats API’s', async () => {
  const page = await loggedIn()
  const cookies = await page.context().cookies()
  const session = cookies.find((c) => c.name === '__Host-ea_session')
  assert.ok(session?.httpOnly && session.secure && session.sameSite === 'Strict', JSON.stringify(cookies))
  assert.equal(await page.evaluate(() => document.cookie), '', 'no script can read it')

  const [top] = await stats({
    site_id: SITE,
    metrics: ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'],
    date_range: '30d'
  })
  const shown = await page.$$eval('[data-metric] .value', (els) => els.map((e) => e.textContent))
  assert.equal(number(shown[0]), top.metrics[0], 'unique visitors')
  assert.equal(number(shown[1]), top.metrics[1], 'visits')
  assert.equal(number(shown[2]), top.metrics[2], 'pageviews')
  assert.equal(number(shown[3]), top.metrics[3], 'views per visit')
  assert.equal(number(shown[4]), top.metrics[4], 'bounce rate')
  assert.ok(top.metrics[0] > 100, 'a test over real numbers')

  const sources = await stats({
    site_id: SITE,
    metrics: ['visitors', 'bounce_rate'],
    date_range: '30d',
    dimensions: ['visit:source'],
    pagination: { limit: 9 }
  })
  const rows = await page.$$eval('[data-panel=sources] tbody tr', (trs) =>
    trs.map((tr) => [tr.dataset.dimension, tr.querySelector('td.num').textContent])
  )
  assert.deepEqual(
    rows.map(([d, v]) => [d, number(v)]),
    sources.map((r) => [r.dimensions[0], r.metrics[0]])
  )
  for (const panel of ['sources', 'pages', 'countries', 'devices', 'goals']) {
    assert.ok((await page.$$(`[data-panel=${panel}] tbody tr`)).length > 0, `${panel} is filled`)
  }
  assert.ok(Number(await page.getAttribute('#chart', 'data-points')) >= 30, 'a point per day')
  await page.screenshot({ path: join(artifacts, 'dashboard-desktop.png'), fullPage: true })
  const elsewhere = page.requests.filter((url) => !url.startsWith(base))
  assert.deepEqual(elsewhere, [], 'no third-party request')
  await page.context().close()
})

test('first load: its bytes and time to a filled dashboard; keyboard and labels', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  await page.goto(`${base}/dashboard/`)
  await page.waitForSelector('#password')
  // what a first visit downloads (nothing cached): page, script, style
  const bytes = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .concat(performance.getEntriesByType('navigation'))
      .filter((e) => /\/dashboard\//.test(e.name))
      .reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0)
  )
  await page.fill('#password', PASSWORD)
  await page.click('button[type=submit]')
  await loaded(page)
  // a load with the session: from navigation to every panel filled
  const started = Date.now()
  await page.goto(`${base}/dashboard/?site=${SITE}&period=30d`)
  await loaded(page)
  const ms = Date.now() - started
  console.log(
    `dashboard: ${bytes} bytes on a first visit (page, script, style); ${ms} ms from navigation to every panel filled`
  )
  // the README's promise: a first visit of about 35 KB (a budget of 36 KB), filled within seconds
  assert.ok(bytes > 10_000 && bytes <= 36_000, `${bytes} bytes on a first visit`)
  assert.ok(ms < 10_000, `loaded in ${ms} ms`)

  // every visible text stands out from its background by 4.5:1 or more (WCAG AA)
  const faint = await page.evaluate(() => {
    const channels = (color) => (color.match(/[\d.]+/g) || []).map(Number)
    const luminance = ([r, g, b]) => {
      const linear = (c) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4)
      return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }
    // the first opaque background behind an element (the page is white behind everything)
    const background = (el) => {
      for (let node = el; node; node = node.parentElement) {
        const c = channels(getComputedStyle(node).backgroundColor)
        if (c.length === 3 || c[3] === 1) return c.slice(0, 3)
      }
      return [255, 255, 255]
    }
    const found = []
    for (const el of document.querySelectorAll('body *')) {
      const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())
      const style = getComputedStyle(el)
      if (!own || style.visibility === 'hidden' || el.getClientRects().length === 0) continue
      const [a, b] = [luminance(channels(style.color)), luminance(background(el))]
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
      if (ratio < 4.5)
        found.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`)
    }
    return found
  })
  assert.deepEqual(faint, [], 'text under 4.5:1')

  // every control has a name a screen reader can say
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('button, select, input, a')]
      .filter((el) => {
        const labelled =
          el.getAttribute('aria-label') ||
          (el.id && document.querySelector(`label[for="${el.id}"]`)) ||
          el.closest('label') ||
          el.textContent.trim()
        return !labelled
      })
      .map((el) => el.outerHTML.slice(0, 80))
  )
  assert.deepEqual(unnamed, [])
  // the keyboard alone filters: tab to a source, press Enter
  await page.focus('[data-panel=sources] tbody tr:first-child button.row')
  const before = await page.evaluate(() => document.body.dataset.loaded)
  await page.keyboard.press('Enter')
  await loaded(page, before)
  assert.match(decodeURIComponent(page.url()), /f=visit:source\|is\|/)
  await context.close()
})

test('a click on a row filters every panel, the filter lives in the URL, reload and back button keep it', async () => {
  const page = await loggedIn()
  page.queries.length = 0
  const before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('[data-panel=sources] tr[data-dimension="Google"] button.row')
  await loaded(page, before)
  assert.match(page.url(), /f=visit%3Asource%7Cis%7CGoogle|f=visit:source\|is\|Google/)
  const filter = ['is', 'visit:source', ['Google']]
  assert.ok(page.queries.length >= 7)
  for (const body of page.queries)
    assert.deepEqual(body.filters, [filter], `every panel is filtered: ${JSON.stringify(body)}`)
  const [top] = await stats({ site_id: SITE, metrics: ['visitors'], date_range: '30d', filters: [filter] })
  assert.equal(number(await page.textContent('[data-metric=visitors] .value')), top.metrics[0])
  const pages = await stats({
    site_id: SITE,
    metrics: ['visitors', 'pageviews'],
    date_range: '30d',
    dimensions: ['event:page'],
    filters: [filter],
    pagination: { limit: 9 }
  })
  const shown = await page.$$eval('[data-panel=pages] tbody tr', (trs) => trs.map((tr) => tr.dataset.dimension))
  assert.deepEqual(
    shown,
    pages.map((r) => r.dimensions[0])
  )

  // the URL alone restores the view
  const url = page.url()
  const again = await page.context().newPage()
  await again.goto(url)
  await loaded(again)
  assert.equal(number(await again.textContent('[data-metric=visitors] .value')), top.metrics[0])
  assert.match(await again.textContent('#filters'), /source is Google/)
  // back: unfiltered again
  const filtered = await page.evaluate(() => document.body.dataset.loaded)
  await page.goBack()
  await loaded(page, filtered)
  assert.equal(await page.$$eval('#filters .chip', (c) => c.length), 0)
  await page.context().close()
})

test('Export CSV downloads the view shown, filters and all, as Plausible’s zip of one CSV per panel', async () => {
  const page = await loggedIn()
  const before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('[data-panel=sources] tr[data-dimension="Google"] button.row')
  await loaded(page, before)
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')])
  assert.equal(download.suggestedFilename(), `${SITE}-export.zip`)
  const files = JSON.parse(
    execFileSync('python3', [
      '-c',
      'import json, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(json.dumps({n: z.read(n).decode() for n in z.namelist()}))',
      await download.path()
    ])
  )
  assert.ok(Object.keys(files).length >= 16, Object.keys(files).join(' '))
  const [top] = await stats({
    site_id: SITE,
    metrics: ['visitors'],
    date_range: '30d',
    filters: [['is', 'visit:source', ['Google']]]
  })
  const sources = files['sources.csv'].trim().split('\r\n')
  assert.equal(sources[0], 'name,visitors,bounce_rate,visit_duration')
  assert.deepEqual(
    sources.slice(1).map((line) => line.split(',').slice(0, 2)),
    [['Google', String(top.metrics[0])]],
    'the filter the dashboard shows holds in the export'
  )
  await page.context().close()
})

test('a custom date range and the comparison with the period before it', async () => {
  const page = await loggedIn()
  const day = (ms) => new Date(ms).toISOString().slice(0, 10)
  const [from, to] = [day(Date.now() - 14 * 86_400_000), day(Date.now() - 8 * 86_400_000)]
  await page.selectOption('#period', 'custom')
  await page.fill('#range-from', from)
  await page.fill('#range-to', to)
  let before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('.custom-range button[type=submit]')
  await loaded(page, before)
  assert.match(page.url(), new RegExp(`from=${from}&to=${to}`))
  before = await page.evaluate(() => document.body.dataset.loaded)
  await page.selectOption('#compare', 'period')
  await loaded(page, before)
  const [now] = await stats({ site_id: SITE, metrics: ['visitors'], date_range: [from, to] })
  const previous = [day(Date.parse(from) - 7 * 86_400_000), day(Date.parse(from) - 86_400_000)]
  const [then] = await stats({ site_id: SITE, metrics: ['visitors'], date_range: previous })
  assert.equal(number(await page.textContent('[data-metric=visitors] .value')), now.metrics[0])
  const change = Math.round(((now.metrics[0] - then.metrics[0]) / then.metrics[0]) * 100)
  assert.equal(
    await page.textContent('[data-change=visitors]'),
    `${change > 0 ? '↑' : change < 0 ? '↓' : ''}${Math.abs(change)}%`
  )
  // the year before: the same days a year earlier (no events then: every change is up 100 %)
  before = await page.evaluate(() => document.body.dataset.loaded)
  page.queries.length = 0
  await page.selectOption('#compare', 'year')
  await loaded(page, before)
  assert.match(page.url(), /compare=year/)
  const yearAgo = (date) => `${Number(date.slice(0, 4)) - 1}${date.slice(4)}`
  assert.ok(
    page.queries.some((q) => JSON.stringify(q.date_range) === JSON.stringify([yearAgo(from), yearAgo(to)])),
    JSON.stringify(page.queries.map((q) => q.date_range))
  )
  assert.equal(await page.textContent('[data-change=visitors]'), '↑100%')
  await page.context().close()
})

test('a goal filter breaks the goal down by its props', async () => {
  const page = await loggedIn()
  const before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('[data-panel=goals] tr[data-dimension="Deploy Application"] button.row')
  await loaded(page, before)
  await page.waitForSelector('[data-props=language] tbody tr')
  const props = await stats({
    site_id: SITE,
    metrics: ['visitors'],
    date_range: '30d',
    dimensions: ['event:props:language'],
    filters: [['is', 'event:goal', ['Deploy Application']]],
    pagination: { limit: 9 }
  })
  const shown = await page.$$eval('[data-props=language] tbody tr', (trs) => trs.map((tr) => tr.dataset.dimension))
  assert.deepEqual(
    shown,
    props.map((r) => r.dimensions[0])
  )
  assert.ok(shown.includes('nodejs'))
  await page.context().close()
})

test('settings change a site’s retention and goals', async () => {
  const page = await loggedIn()
  const before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('[data-view=settings]')
  await loaded(page, before)
  const form = `[data-site="${SITE}"]`
  await page.selectOption(`${form} select[name=retention]`, '1y')
  await page.click(`${form} form:first-of-type button[type=submit]`)
  await page.waitForSelector('#settings-status:has-text("Saved")')
  await page.fill(`${form} input[placeholder^="Deploy"]`, 'Open Catalog')
  await page.click(`${form} form:nth-of-type(2) button[type=submit]`)
  await page.waitForSelector('#settings-status:has-text("Added the goal")')
  const site = (await edge.admin.settings()).sites.find((s) => s.domain === SITE)
  assert.equal(site.retention, '1y')
  assert.deepEqual(site.goals.at(-1), { event_name: 'Open Catalog' })
  assert.equal(site.goals.length, BACKSTAGE_GOALS.length + 1, 'the other goals kept')
  assert.deepEqual(site.props, BACKSTAGE_PROPS, 'and the custom properties')
  await page.screenshot({ path: join(artifacts, 'settings-desktop.png'), fullPage: true })
  await page.context().close()
})

test('settings set a site’s e-mail report, an alert and a signed webhook; a bad address is named', async () => {
  const page = await loggedIn()
  const before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('[data-view=settings]')
  await loaded(page, before)
  const form = (kind) => `[data-site="${SITE}"] form[data-form=${kind}]`
  await page.fill(`${form('report')} input[name=recipients]`, 'platform@example.com, nope')
  await page.click(`${form('report')} button[type=submit]`)
  await page.waitForSelector('#settings-status.error:has-text("reports[0].recipients[1]")')
  await page.fill(`${form('report')} input[name=recipients]`, 'platform@example.com, ops@example.com')
  await page.click(`${form('report')} button[type=submit]`)
  await page.waitForSelector('#settings-status:has-text("Added the weekly report")')
  await page.fill(`${form('alert')} input[name=alert]`, 'Deploys')
  await page.selectOption(`${form('alert')} select[name=kind]`, 'goal')
  await page.fill(`${form('alert')} input[name=threshold]`, '25')
  await page.fill(`${form('alert')} input[name=hours]`, '24')
  await page.selectOption(`${form('alert')} select[name=goal]`, 'Deploy Application')
  await page.click(`${form('alert')} button[type=submit]`)
  await page.waitForSelector('#settings-status:has-text("Added the alert Deploys")')
  await page.fill(`${form('webhook')} input[name=url]`, 'https://hooks.example.com/analytics')
  await page.click(`${form('webhook')} button:has-text("Generate")`)
  await page.click(`${form('webhook')} button[type=submit]`)
  await page.waitForSelector('#settings-status:has-text("Added the webhook")')
  const site = (await edge.admin.settings()).sites.find((s) => s.domain === SITE)
  assert.deepEqual(site.reports, [{ frequency: 'weekly', recipients: ['platform@example.com', 'ops@example.com'] }])
  assert.deepEqual(site.alerts, [
    { name: 'Deploys', kind: 'goal', goal: 'Deploy Application', threshold: 25, hours: 24, recipients: [] }
  ])
  assert.equal(site.webhooks[0].url, 'https://hooks.example.com/analytics')
  assert.match(site.webhooks[0].secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'a generated 32-byte secret')
  assert.equal(site.goals.length, BACKSTAGE_GOALS.length + 1, 'the rest of the site kept')
  await page.screenshot({ path: join(artifacts, 'settings-notifications.png'), fullPage: true })
  // removed again, as they were added
  await page.click(`[data-site="${SITE}"] button[aria-label="Remove the alert Deploys"]`)
  await page.waitForSelector('#settings-status:has-text("Removed the alert Deploys")')
  assert.deepEqual((await edge.admin.settings()).sites.find((s) => s.domain === SITE).alerts, [])
  await page.context().close()
})

test('a funnel set up in settings shows on the dashboard with the funnel API’s numbers', async () => {
  const page = await loggedIn()
  let before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('[data-view=settings]')
  await loaded(page, before)
  const form = `[data-site="${SITE}"]`
  await page.fill(`${form} input[name=name]`, 'Onboarding')
  await page.fill(`${form} textarea[name=steps]`, '/create\nDeploy Application | language=nodejs\n')
  await page.click(`${form} form:has(textarea) button[type=submit]`)
  await page.waitForSelector('#settings-status:has-text("Added the funnel Onboarding")')
  const site = (await edge.admin.settings()).sites.find((s) => s.domain === SITE)
  assert.deepEqual(site.funnels, [
    {
      name: 'Onboarding',
      steps: [{ page_path: '/create' }, { event_name: 'Deploy Application', props: { language: 'nodejs' } }]
    }
  ])
  // a step the admin API refuses is named, and nothing is saved
  await page.fill(`${form} input[name=name]`, 'Broken')
  await page.fill(`${form} textarea[name=steps]`, 'docs')
  await page.click(`${form} form:has(textarea) button[type=submit]`)
  await page.waitForSelector('#settings-status:has-text("funnels[1].steps: 1 steps")')

  before = await page.evaluate(() => document.body.dataset.loaded)
  await page.goto(`${base}/dashboard/?site=${SITE}`)
  await loaded(page, before)
  await page.waitForSelector('[data-panel=funnels] ol.funnel')
  const response = await fetch(`${edge.url}/api/v2/funnel`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify({ site_id: SITE, date_range: '30d', funnel: 'Onboarding' })
  })
  assert.equal(response.status, 200)
  const { funnel } = await response.json()
  const shown = await page.$$eval('[data-panel=funnels] li', (items) =>
    items.map((li) => [li.querySelector('.step-head span').textContent, li.querySelector('.figures').textContent])
  )
  assert.deepEqual(
    shown.map(([label, numbers]) => [label, Number(numbers.split(' ')[0].replace(/,/g, ''))]),
    funnel.steps.map((s) => [s.label, s.visits])
  )
  assert.ok(funnel.steps[0].visits > 10 && funnel.steps[1].visits > 0, JSON.stringify(funnel))
  await page.screenshot({ path: join(artifacts, 'funnel-desktop.png'), fullPage: true })
  await page.context().close()
})

test('privacy: settings set a minimum group size; the dashboard shows "< k" and what it left out, as the Stats API; the Privacy page is the site’s report', async () => {
  // k: the busiest day of the third page, so that the top three may be shown (the smallest of
  // them is hidden with the long tail, by the complementary rule) and the long tail is not
  const top = await stats({ site_id: SITE, metrics: ['visitors'], date_range: '30d', dimensions: ['event:page'] })
  const busiest = async (path) =>
    Math.max(
      ...(
        await stats({
          site_id: SITE,
          metrics: ['visitors'],
          date_range: '30d',
          dimensions: ['time:day'],
          filters: [['is', 'event:page', [path]]]
        })
      ).map((d) => d.metrics[0])
    )
  const k = Math.max(2, Math.min(...(await Promise.all(top.slice(0, 3).map((r) => busiest(r.dimensions[0]))))))
  const page = await loggedIn()
  let before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('[data-view=settings]')
  await loaded(page, before)
  const form = `[data-privacy="${SITE}"]`
  await page.fill(`${form} input[name=min_group_size]`, String(k))
  await page.click(`${form} button[type=submit]`)
  await page.waitForSelector('#settings-status:has-text("Saved the privacy settings")')
  const site = (await edge.admin.settings()).sites.find((s) => s.domain === SITE)
  try {
    assert.equal(site.min_group_size, k)
    assert.deepEqual(site.props, BACKSTAGE_PROPS, 'the rest of the site kept')

    page.queries.length = 0
    before = await page.evaluate(() => document.body.dataset.loaded)
    await page.click('[data-view=dashboard]')
    await loaded(page, before)
    // the top pages: the note under the table counts what the Stats API left out
    const asked = page.queries.find((q) => q.dimensions?.[0] === 'event:page')
    const response = await fetch(`${edge.url}/api/v2/query`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
      body: JSON.stringify(asked)
    })
    const answer = await response.json()
    assert.equal(answer.meta.min_group_size, k)
    assert.ok(
      answer.results.length > 0 && answer.meta.suppressed > 0,
      `k = ${k}: some pages shown, the long tail hidden`
    )
    const note = page.locator('[data-panel=pages] .suppressed')
    assert.equal(await note.getAttribute('data-suppressed'), String(answer.meta.suppressed))
    assert.match(await note.textContent(), new RegExp(`fewer than ${k} visitors`))
    const rows = await page.locator('[data-panel=pages] tbody tr').count()
    assert.equal(rows, Math.min(answer.results.length, asked.pagination?.limit ?? rows))
    // the top figures: a number, or "< 40" where the API answers null
    const top = page.queries.find((q) => !q.dimensions?.length && q.metrics.includes('visitors'))
    const [visitors] = (await stats(top))[0].metrics
    const shown = await page.locator('[data-metric=visitors] .value').textContent()
    assert.equal(shown, visitors === null ? `< ${k}` : new Intl.NumberFormat('en-US').format(visitors))

    before = await page.evaluate(() => document.body.dataset.loaded)
    await page.click('[data-view=privacy]')
    await page.waitForSelector('.privacy h3')
    const report = await page.locator('.privacy').textContent()
    assert.match(report, new RegExp(`No number is shown for fewer than ${k} visitors`))
    assert.match(report, /Proof: tests\/salt\.test\.mjs/)
    await page.screenshot({ path: join(artifacts, 'privacy-report.png'), fullPage: true })
    await page.context().close()
  } finally {
    // the other tests count every visitor
    await edge.admin.putSite(SITE, { ...site, domain: undefined, min_group_size: 1 })
  }
})

test('an admin notes a day on the chart; readers see the note, through the API too', async () => {
  const page = await loggedIn()
  const day = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10)
  await page.fill('.notes-form input[name=date]', day)
  await page.fill('.notes-form input[name=text]', 'Backstage 1.32 rolled out')
  const before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('.notes-form button[type=submit]')
  await loaded(page, before)
  const shown = await page.$$eval('ul.notes li', (items) => items.map((li) => li.textContent))
  assert.deepEqual(shown, [`${day} Backstage 1.32 rolled outRemove`])
  const response = await fetch(`${edge.url}/api/v2/annotations?site_id=${SITE}`, {
    headers: { Authorization: `Bearer ${key}` }
  })
  const { annotations } = await response.json()
  assert.deepEqual(
    annotations.map(({ date, text }) => ({ date, text })),
    [{ date: day, text: 'Backstage 1.32 rolled out' }]
  )
  assert.equal(annotations[0].by, undefined, 'who wrote it is the audit log’s to know')
  await page.screenshot({ path: join(artifacts, 'notes-desktop.png') })
  // a bad note is refused with the field named, and nothing is added
  await page.fill('.notes-form input[name=text]', 'x'.repeat(301))
  await page.click('.notes-form button[type=submit]')
  await page.waitForSelector('.notes-form .error:has-text("text: 1 to 300 characters")')
  // removed, it is gone for everyone
  const again = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('ul.notes button')
  await loaded(page, again)
  assert.equal(await page.$$eval('ul.notes li', (items) => items.length), 0)
  await page.context().close()
})

test('the filters in use saved as a segment, applied again in one choice', async () => {
  const page = await loggedIn()
  // a new page load: its first render, whatever the last one's number was
  await page.goto(`${base}/dashboard/?site=${SITE}&f=visit:source|is|Google&f=visit:device|is|Desktop`)
  await loaded(page)
  await page.fill('.segment-form input[name=name]', 'Google on desktops')
  let before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('.segment-form button[type=submit]')
  await loaded(page, before)
  const site = (await edge.admin.settings()).sites.find((s) => s.domain === SITE)
  assert.deepEqual(site.segments, [
    {
      name: 'Google on desktops',
      filters: [
        ['is', 'visit:source', ['Google']],
        ['is', 'visit:device', ['Desktop']]
      ]
    }
  ])
  // without filters, one choice brings them back, and every panel reads with them
  before = await page.evaluate(() => document.body.dataset.loaded)
  await page.click('#filters button.link')
  await loaded(page, before)
  assert.equal(await page.$$eval('#filters .chip', (chips) => chips.length), 0)
  before = await page.evaluate(() => document.body.dataset.loaded)
  page.queries.length = 0
  await page.selectOption('#segment', 'Google on desktops')
  await loaded(page, before)
  assert.match(page.url(), /f=visit%3Asource%7Cis%7CGoogle&f=visit%3Adevice%7Cis%7CDesktop/)
  assert.ok(
    page.queries.length > 5 &&
      page.queries.every((q) => JSON.stringify(q.filters).includes('["is","visit:source",["Google"]]')),
    JSON.stringify(page.queries.map((q) => q.filters))
  )
  // a segment whose filters the Stats API refuses is not saved, and says why
  const refused = await fetch(`${edge.url}/api/admin/sites/${SITE}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      timezone: 'Europe/Berlin',
      segments: [{ name: 'x', filters: [['is', 'visit:nope', ['a']]] }]
    })
  })
  assert.equal(refused.status, 400)
  assert.match((await refused.json()).error, /^segments\[0\]\.filters\[0\]\[1\]: "visit:nope" is not a dimension/)
  await page.context().close()
})

test('the demo page’s events appear in the real-time count, on a phone-width screen', async () => {
  const page = await loggedIn({ width: 390, height: 844 })
  const count = async () => Number(await page.textContent('#realtime'))
  const first = await count()
  // a visitor's browser: not headless (the edge drops HeadlessChrome as a bot), and the
  // tracker's webdriver rule lifted, as Plausible allows for tests
  const visitor = await browser.newContext({
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
  })
  const demo = await visitor.newPage()
  await demo.addInitScript(() => (window.__plausible = true))
  await demo.goto(`${base}/`)
  await demo.click('text=Deploy Application')
  let now = first
  for (let i = 0; i < 40 && now <= first; i++) {
    await page.waitForTimeout(1000)
    now = await count()
  }
  assert.ok(now > first, `real-time visitors went from ${first} to ${now}`)
  await visitor.close()
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > 390 || e.scrollWidth > 390)
      .slice(0, 12)
      .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)
  )
  assert.ok(width <= 390, `no horizontal scrolling on a phone (${width}px): ${wide.join(', ')}`)
  await page.screenshot({ path: join(artifacts, 'dashboard-phone.png'), fullPage: true })
  await page.context().close()
})

test('a wrong password is refused, repeated failures are slowed, and logout ends the session', async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`${base}/dashboard/`)
  for (let i = 0; i < 3; i++) {
    await page.fill('#password', `wrong-${i}`)
    await page.click('button[type=submit]')
    await page.waitForSelector(`#login-error:has-text("wrong user name or password")`)
    await page.evaluate(() => (document.getElementById('login-error').textContent = ''))
  }
  await page.fill('#password', PASSWORD)
  await page.click('button[type=submit]')
  await page.waitForSelector('#login-error:has-text("Too many failed logins")')
  // even the right password waits out the delay (2 s after the third failure)
  await page.waitForTimeout(2500)
  await page.click('button[type=submit]')
  await loaded(page)
  await page.click('text=Log out')
  await page.waitForSelector('#login-error:has-text("Logged out")')
  const response = await page.evaluate(() =>
    fetch('/api/v2/query', { method: 'POST', body: '{}' }).then((r) => r.status)
  )
  assert.equal(response, 401, 'the session is gone')
  await context.close()
})

test('a login or a change sent from another origin is refused (403), reads with the session are not', async () => {
  const login = (origin) =>
    fetch(`${edge.url}/api/auth/login`, {
      method: 'POST',
      headers: { Origin: origin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD })
    })
  const refused = await login('https://evil.example')
  assert.equal(refused.status, 403)
  assert.match((await refused.json()).error, /the dashboard's own page/)
  assert.equal(refused.headers.get('set-cookie'), null, 'no session')
  const own = await login(new URL(edge.url).origin)
  assert.equal(own.status, 200)
  const cookie = own.headers.get('set-cookie').split(';')[0]
  const admin = (method, origin, body) =>
    fetch(`${edge.url}/api/admin/${method === 'GET' ? 'settings' : 'sites/cross.test'}`, {
      method,
      headers: { Cookie: cookie, Origin: origin, 'Content-Type': 'application/json' },
      body
    })
  const change = await admin('PUT', 'https://evil.example', '{}')
  assert.equal(change.status, 403)
  assert.match((await change.json()).error, /a change must come from the dashboard's own page/)
  assert.ok(!(await edge.admin.settings()).sites.some((site) => site.domain === 'cross.test'), 'nothing changed')
  assert.equal((await admin('GET', 'https://evil.example')).status, 200, 'a read')
  assert.equal((await admin('PUT', new URL(edge.url).origin, '{}')).status, 200, 'the same change from the own page')
  await edge.admin.deleteSite('cross.test')
})

test('the login throttle is per user and client: racing guesses are counted, another client is not locked out; a logout needs the own origin', async () => {
  const own = new URL(edge.url).origin
  const login = (password, client) =>
    fetch(`${edge.url}/api/auth/login`, {
      method: 'POST',
      headers: { Origin: own, 'Content-Type': 'application/json', 'CF-Connecting-IP': client },
      body: JSON.stringify({ username: 'admin', password })
    })
  // ten guesses at once from one client: each is counted before the slow hash,
  // so only the free three reach it; the others wait
  const statuses = (await Promise.all(Array.from({ length: 10 }, (_, i) => login(`guess-${i}`, '198.51.100.1')))).map(
    (response) => response.status
  )
  assert.equal(statuses.filter((s) => s === 401).length, 3, JSON.stringify(statuses))
  assert.equal(statuses.filter((s) => s === 429).length, 7, JSON.stringify(statuses))
  const waiting = await login(PASSWORD, '198.51.100.1')
  assert.equal(waiting.status, 429)
  assert.ok(Number(waiting.headers.get('retry-after')) >= 1)
  // the administrator, from another client, logs in at once
  const admin = await login(PASSWORD, '203.0.113.5')
  assert.equal(admin.status, 200)
  const cookie = admin.headers.get('set-cookie')
  assert.match(cookie, /^__Host-ea_session=[0-9a-f]{64}; HttpOnly; Secure; SameSite=Strict; Path=\//)
  const session = cookie.split(';')[0]
  // a page elsewhere cannot log the administrator out
  const forged = await fetch(`${edge.url}/api/auth/logout`, {
    method: 'POST',
    headers: { Cookie: session, Origin: 'https://evil.example' }
  })
  assert.equal(forged.status, 403)
  const read = await fetch(`${edge.url}/api/auth/session`, { headers: { Cookie: session } })
  assert.equal(read.status, 200, 'the session is still live')
})

test('a new password ends every session made with the old one', async () => {
  const own = new URL(edge.url).origin
  const response = await fetch(`${edge.url}/api/auth/login`, {
    method: 'POST',
    headers: { Origin: own, 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.6' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD })
  })
  assert.equal(response.status, 200)
  const session = response.headers.get('set-cookie').split(';')[0]
  const live = (url) => fetch(`${url}/api/auth/session`, { headers: { Cookie: session } }).then((r) => r.status)
  assert.equal(await live(edge.url), 200)
  // the administrator changes the password: the Worker restarts with the new hash, on the same state
  await edge.stop()
  edge = await startEdge({
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: [],
    persistTo: edge.persistTo,
    vars: { ADMIN_PASSWORD_HASH: hashPassword(`${PASSWORD}-new`) }
  })
  assert.equal(await live(edge.url), 401, 'the old session ended with the old password')
})
