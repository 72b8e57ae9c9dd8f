// The Backstage analytics module (backstage/analytics-module) in a real Backstage app of each
// frontend system (tests/fixtures/backstage-legacy: @backstage/core-app-api; backstage-nfs:
// @backstage/frontend-defaults; from the registry, bundled with esbuild), in headless
// Chromium, sending to the Worker under wrangler dev: each navigation stored once as a pageview, the events with
// where they happened, no query string, no search text, no person's name; a bad
// configuration is one console warning and the portal keeps working. The entity card
// (backstage/entity-card) on an entity page of each app, reading the Stats API through a real
// Backstage backend's proxy: the numbers stored, the key only in the backend's config.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import * as esbuild from 'esbuild'
import { hashPassword } from '../scripts/lib/admin.mjs'
import { query } from '../scripts/lib/clickhouse.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { launch } from './support/browser.mjs'
import { startBackstageBackend } from './support/backstage-backend.mjs'
import { startMigratedClickhouse } from './support/clickhouse.mjs'
import { startEdge } from './support/edge.mjs'

// each app sends as its own site
const SYSTEMS = {
  legacy: {
    site: 'portal.test',
    entry: 'tests/fixtures/backstage-legacy/app.jsx',
    where: (page) => ({ pluginId: 'demo', extensionId: `${page}Page`, routeRef: `demo.${page.toLowerCase()}` }),
    // a navigation is the router's, not the page's: its extension is the app
    page: (page) => ({ pluginId: 'demo', routeRef: `demo.${page.toLowerCase()}` })
  },
  'new frontend system': {
    site: 'backstage.fawkes.idp',
    entry: 'tests/fixtures/backstage-nfs/app.jsx',
    where: (page) => ({ pluginId: 'demo', extensionId: `page:demo/${page.toLowerCase()}` }),
    page: (page) => ({ pluginId: 'demo', extensionId: `page:demo/${page.toLowerCase()}` })
  }
}
const DASHBOARD_PASSWORD = 'the dashboard password of this test'

/** What Backstage itself keeps in the browser's storage (its AppLanguageApi, its sidebar). */
const BACKSTAGE_OWN_KEYS = ['language', 'sidebarPinState']
// headless Chromium's own User-Agent is a bot's: the portal's visitors are people
const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36'

let ch, clickhouse, edge, browser, backend, statsKey
const portals = []
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'backstage-'))
  ch = await startMigratedClickhouse(join(dir, 'ch'))
  clickhouse = ch.client
  edge = await startEdge({
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: Object.values(SYSTEMS).map((s) => s.site),
    vars: { ADMIN_PASSWORD_HASH: hashPassword(DASHBOARD_PASSWORD) }
  })
  for (const system of Object.values(SYSTEMS)) system.portal = await portal(system)
  // the portal's backend: its proxy reaches the Worker with a key of both sites
  statsKey = (
    await edge.admin.addKey(
      Object.values(SYSTEMS).map((s) => s.site),
      'backstage proxy'
    )
  ).key
  backend = await startBackstageBackend({
    dir,
    origin: Object.values(SYSTEMS).map((s) => s.portal),
    endpoints: {
      '/edge-analytics-stats': {
        target: edge.url,
        headers: { Authorization: `Bearer ${statsKey}` },
        allowedMethods: ['POST'],
        // (a portal signs its people in, and the proxy's default wants their token; this app has no sign-in)
        credentials: 'dangerously-allow-unauthenticated'
      }
    }
  })
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await backend?.stop()
  for (const server of portals) server.close()
  await edge?.stop()
  await ch?.stop()
})

/** The app-config `app.analytics.edge` of a portal page, by its `?config=`. */
const CONFIGS = {
  sending: (site) => ({
    host: edge.url,
    domain: site,
    actions: ['click', 'create', 'search'],
    // the scaffolder's create counts as the portal's goal
    eventNames: { create: 'Create Service' },
    captureOnLocalhost: true
  }),
  broken: (site) => ({ domain: site }),
  // the card alone (no host: the module sends nothing, so the card's page adds no view of its own)
  card: (site) => ({
    domain: site,
    eventNames: { create: 'Create Service' },
    card: { proxyPath: '/edge-analytics-stats', dashboardUrl: `${edge.url}/dashboard/` }
  }),
  'card without proxy': (site) => ({ domain: site, card: { proxyPath: '/not-configured' } }),
  'card of another site': () => ({ domain: 'elsewhere.test' }),
  'card misconfigured': (site) => ({ domain: site, card: { dashboardUrl: 'javascript:alert(1)' } })
}

/** A server of the system's app: its bundle, and index.html for every other path (a single-page app). */
async function portal({ site, entry }) {
  const bundle = await esbuild.build({
    entryPoints: [join(root, entry)],
    bundle: true,
    format: 'esm',
    minify: true,
    jsx: 'automatic',
    loader: { '.js': 'jsx', '.svg': 'dataurl', '.png': 'dataurl', '.css': 'empty' },
    // (Backstage's own bundler gives Node's `global` to the browser: its fetch API reads it)
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    // the module's tracker is this repository's npm package, as built
    alias: { '@edge-analytics/tracker': join(root, 'pkg/dist/index.js') },
    write: false,
    logLevel: 'error'
  })
  const script = bundle.outputFiles[0].text
  const server = createServer((request, response) => {
    const url = new URL(request.url, 'http://x')
    if (url.pathname === '/app.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript' })
      return response.end(script)
    }
    const config = CONFIGS[url.searchParams.get('config') ?? 'sending'](site)
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
    response.end(`<!doctype html><html><head><meta charset="utf-8"><title>Portal</title>
<script>window.testAnalyticsConfig = ${JSON.stringify(config)}; window.testBackendUrl = ${JSON.stringify(backend?.url)}</script>
<script type="module" src="/app.js"></script></head><body><div id="root"></div></body></html>`)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  portals.push(server)
  return `http://portal.test:${server.address().port}`
}

/** The stored events of `site`, with their visitor ids (as strings: UInt64). */
async function rows(site) {
  const text = await query(
    clickhouse,
    `SELECT name, pathname, toString(visitor_id) AS visitor_id, meta.key AS keys, meta.value AS values FROM events WHERE site_domain = '${site}' ORDER BY timestamp, name FORMAT JSONEachRow`
  )
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
}

/** The stored events but the tracker's engagement events (time on page, scroll depth), once `count` are in. */
async function waitForRows(site, count, seconds = 90) {
  const deadline = Date.now() + seconds * 1000
  let found = []
  while (Date.now() < deadline) {
    found = (await rows(site)).filter((row) => row.name !== 'engagement')
    if (found.length >= count) return found
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return found
}

const propsOf = (row) => Object.fromEntries(row.keys.map((key, i) => [key, row.values[i]]))

for (const [name, system] of Object.entries(SYSTEMS)) {
  test(`${name}: each navigation one pageview, its events with where they happened, no query string, search text or person`, async () => {
    const context = await browser.newContext({ userAgent: USER_AGENT })
    const page = await context.newPage()
    const sent = []
    page.on('request', (request) => {
      if (request.url().endsWith('/api/event')) sent.push(request.postData())
    })
    const errors = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`${system.portal}/catalog`)
    await page.waitForSelector('#open-docs')
    await page.click('#open-docs')
    await page.click('#search')
    await page.click('#to-create')
    await page.waitForSelector('#create')
    await page.click('#create')
    await page.click('#as-user')
    await page.click('#to-catalog')
    await page.waitForSelector('#open-docs')
    const stored = await waitForRows(system.site, 7)
    assert.deepEqual(errors, [])
    // in the order sent (stored rows are ordered by the second only), and each stored once
    const pageviews = sent.map((body) => JSON.parse(body)).filter((event) => event.n === 'pageview')
    assert.deepEqual(
      pageviews.map((event) => new URL(event.u).pathname),
      ['/catalog', '/create', '/catalog'],
      'each navigation once, in order'
    )
    assert.deepEqual(
      pageviews.map((event) => event.p),
      [system.page('Catalog'), system.page('Create'), system.page('Catalog')],
      'each pageview says which plugin it is'
    )
    const byPath = (a, b) => a.pathname.localeCompare(b.pathname)
    assert.deepEqual(
      stored
        .filter((r) => r.name === 'pageview')
        .sort(byPath)
        .map((r) => [r.pathname, propsOf(r)]),
      [
        ['/catalog', system.page('Catalog')],
        ['/catalog', system.page('Catalog')],
        ['/create', system.page('Create')]
      ],
      'stored as sent'
    )
    // (rows of the same second come in no set order: each click is told by its props)
    const click = stored.find((r) => r.name === 'click' && propsOf(r).to)
    const userClick = stored.find((r) => r.name === 'click' && !propsOf(r).to)
    assert.deepEqual(propsOf(click), {
      ...system.where('Catalog'),
      entityKind: 'component',
      entityName: 'payments-api',
      to: '/docs/default/component/payments-api'
    })
    assert.deepEqual(propsOf(stored.find((r) => r.name === 'Create Service')), {
      ...system.where('Create'),
      entityKind: 'template',
      entityName: 'express-app',
      value: '1'
    })
    assert.deepEqual(propsOf(stored.find((r) => r.name === 'search')), {
      ...system.where('Catalog'),
      entityKind: 'component',
      entityName: 'payments-api',
      value: '7'
    })
    assert.deepEqual(propsOf(userClick), system.where('Create'))
    assert.equal(stored.length, 7, JSON.stringify(stored.map((r) => r.name)))
    // nothing of what a person typed or who they are, in a row or on the wire
    const everything = JSON.stringify(stored) + sent.join('\n')
    for (const secret of ['who broke', 'Ada', 'ada', 'template=express', '#top', 'token=abc', 'my-new-service']) {
      assert.ok(!everything.includes(secret), `${secret} left the browser`)
    }
    assert.equal(await page.evaluate(() => document.cookie), '')
    // Backstage keeps its own choices (language, the sidebar's pin); the module writes nothing
    const keys = await page.evaluate(() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)])
    assert.deepEqual(
      keys.filter((key) => !BACKSTAGE_OWN_KEYS.includes(key)),
      [],
      'storage written'
    )
    await context.close()
  })

  test(`${name}: a bad configuration is one console warning; the portal keeps working and sends nothing`, async () => {
    const context = await browser.newContext({ userAgent: USER_AGENT })
    const page = await context.newPage()
    const warnings = []
    const sent = []
    page.on('console', (message) => {
      if (message.type() === 'warning') warnings.push(message.text())
    })
    page.on('request', (request) => {
      if (request.url().endsWith('/api/event')) sent.push(request.url())
    })
    await page.goto(`${system.portal}/catalog?config=broken`)
    await page.waitForSelector('#open-docs')
    await page.click('#open-docs')
    await page.click('#to-create')
    await page.waitForSelector('#create')
    assert.deepEqual(
      warnings.filter((w) => w.startsWith('edge analytics:')),
      ['edge analytics: app.analytics.edge.host is not set: no events are sent']
    )
    assert.deepEqual(sent, [])
    await context.close()
  })

  test(`${name}: the entity card shows the entity's views and create events as stored, through Backstage's proxy; the key never reaches the browser`, async () => {
    const createdBefore = (await rows(system.site)).filter((r) => r.name === 'Create Service').length
    // a person reads the entity, its docs and a page of them, comes back, and opens a template
    const visit = await browser.newContext({ userAgent: USER_AGENT })
    const reading = await visit.newPage()
    const sent = []
    reading.on('request', (request) => {
      if (request.url().endsWith('/api/event')) sent.push(JSON.parse(request.postData()))
    })
    await reading.goto(`${system.portal}/catalog/default/component/payments-api`)
    await reading.click('#to-docs')
    await reading.click('#to-runbook')
    await reading.waitForURL('**/runbook')
    await reading.click('#to-entity')
    await reading.click('#to-template')
    await reading.waitForURL('**/template/express-app')
    // and creates a service from it
    await reading.goto(`${system.portal}/create`)
    await reading.click('#create')
    const views = (path) => sent.filter((e) => e.n === 'pageview' && new URL(e.u).pathname === path).length
    const sending = Date.now() + 30_000
    while (!sent.some((e) => e.n === 'Create Service') && Date.now() < sending)
      await new Promise((resolve) => setTimeout(resolve, 100))
    await visit.close()
    assert.deepEqual(
      [
        '/catalog/default/component/payments-api',
        '/docs/default/component/payments-api',
        '/docs/default/component/payments-api/runbook'
      ].map(views),
      [2, 1, 1],
      'each navigation counted once'
    )
    // what is stored, counted here without the card's patterns: the pages of an entity are its page and those below
    // (once all that was sent is stored: the entities' pages were not visited before, creates were)
    const ofEntities = (path) => /^\/(catalog|docs)\/default\//.test(path)
    const sentViews = sent.filter((e) => e.n === 'pageview' && ofEntities(new URL(e.u).pathname)).length
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline) {
      const stored = await rows(system.site)
      const views = stored.filter((r) => r.name === 'pageview' && ofEntities(r.pathname)).length
      const creates = stored.filter((r) => r.name === 'Create Service').length
      if (views >= sentViews && creates > createdBefore) break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const all = await rows(system.site)
    const of = (prefix, entity) => (r) =>
      r.name === 'pageview' && (r.pathname === `${prefix}/${entity}` || r.pathname.startsWith(`${prefix}/${entity}/`))
    const counted = (keep) => {
      const chosen = all.filter(keep)
      return [chosen.length, new Set(chosen.map((r) => r.visitor_id)).size]
    }
    const payments = 'default/component/payments-api'
    const template = 'default/template/express-app'
    const created = (r) =>
      r.name === 'Create Service' && propsOf(r).entityKind === 'template' && propsOf(r).entityName === 'express-app'

    // the card, on a page that sends nothing itself
    const context = await browser.newContext({ userAgent: USER_AGENT })
    const page = await context.newPage()
    const requests = []
    page.on('request', (request) => requests.push(request))
    const errors = []
    page.on('pageerror', (error) => errors.push(error.message))
    const card = async (path, metrics) => {
      await page.goto(`${system.portal}${path}?config=card`)
      await page.waitForSelector('[data-report=entity-analytics]', { timeout: 30_000 })
      const shown = {}
      for (const metric of metrics)
        shown[metric] = Number((await page.textContent(`[data-metric=${metric}]`)).replace(/,/g, ''))
      return shown
    }
    const [catalogViews, catalogVisitors] = counted(of('/catalog', payments))
    const [docsViews, docsVisitors] = counted(of('/docs', payments))
    assert.deepEqual(
      await card(`/catalog/${payments}`, ['catalog', 'catalog-visitors', 'docs', 'docs-visitors']),
      { catalog: catalogViews, 'catalog-visitors': catalogVisitors, docs: docsViews, 'docs-visitors': docsVisitors },
      "the entity's own views, its docs' views, and the people behind them"
    )
    assert.deepEqual([catalogViews, docsViews], [2, 2])
    mkdirSync(join(root, 'tests/artifacts'), { recursive: true })
    await page
      .locator('.MuiCard-root', { has: page.locator('[data-report=entity-analytics]') })
      .screenshot({ path: join(root, `tests/artifacts/backstage-card-${system.site}.png`) })
    // a sparkline of the 30 days
    const points = await page.$$eval('[data-report=entity-analytics] svg polyline', (lines) =>
      lines.map((line) => line.getAttribute('points').trim().split(/\s+/).length / 2)
    )
    assert.ok(points.includes(30), `a line of 30 days: ${points}`)
    // the dashboard, opened at the same pages
    const link = new URL(await page.getAttribute('a[href*="/dashboard/"]', 'href'))
    assert.equal(link.origin, edge.url)
    assert.equal(link.searchParams.get('site'), system.site)
    assert.ok(link.searchParams.get('f').startsWith('event:page|matches|'))
    // a template: the services created from it
    const [templateViews] = counted(of('/catalog', template))
    const [createdEvents, createdVisitors] = counted(created)
    assert.ok(createdEvents >= 1, 'a service created from the template')
    assert.deepEqual(await card(`/catalog/${template}`, ['catalog', 'created', 'created-visitors']), {
      catalog: templateViews,
      created: createdEvents,
      'created-visitors': createdVisitors
    })
    assert.deepEqual(errors, [])
    // the key: in the backend's config, never in the browser — not sent, not in the page
    assert.ok(requests.length > 0)
    for (const request of requests) {
      const url = new URL(request.url())
      assert.notEqual(url.origin, edge.url, `${request.url()}: the browser reached the Worker itself`)
      const headers = await request.allHeaders()
      assert.equal(headers.authorization, undefined, `${request.url()} carries an Authorization header`)
      assert.ok(!`${request.url()} ${JSON.stringify(headers)} ${request.postData() ?? ''}`.includes(statsKey))
    }
    assert.ok(requests.some((r) => r.url().startsWith(`${backend.url}/api/proxy/edge-analytics-stats/api/v2/query`)))
    assert.ok(!(await page.content()).includes(statsKey))
    assert.ok(!JSON.stringify(await page.evaluate(() => window.testAnalyticsConfig)).includes(statsKey))
    await context.close()
  })

  test(`${name}: the entity card without its proxy, or misconfigured, says why in the card; the entity page keeps working`, async () => {
    const context = await browser.newContext({ userAgent: USER_AGENT })
    const page = await context.newPage()
    const errors = []
    page.on('pageerror', (error) => errors.push(error.message))
    for (const [config, says] of [
      [
        'card without proxy',
        "Backstage's proxy answered 401 (Missing credentials): is proxy.endpoints['/not-configured'] set in the backend's config?"
      ],
      ['card of another site', 'The analytics server answered 403'],
      ['card misconfigured', 'app.analytics.edge.card.dashboardUrl "javascript:alert(1)" is not an http(s) URL']
    ]) {
      await page.goto(`${system.portal}/catalog/default/component/payments-api?config=${encodeURIComponent(config)}`)
      await page.waitForSelector('#entity')
      await page.waitForFunction((text) => document.body.textContent.includes(text), says, { timeout: 30_000 })
      assert.equal(await page.locator('[data-report=entity-analytics]').count(), 0)
      await page.click('#to-docs')
      await page.waitForSelector('#docs')
    }
    assert.deepEqual(errors, [])
    await context.close()
  })
}

test('the dashboard’s Backstage panel: visitors and events by plugin, extension, entity kind and template; a custom event by its props', async () => {
  const site = SYSTEMS.legacy.site
  const key = (await edge.admin.addKey([site], 'dashboard')).key
  const stats = async (body) => {
    const response = await fetch(`${edge.url}/api/v2/query`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
      body: JSON.stringify({ site_id: site, date_range: 'day', ...body })
    })
    assert.equal(response.status, 200)
    return (await response.json()).results
  }
  const [demo] = await stats({ metrics: ['visitors', 'events'], dimensions: ['event:props:pluginId'] })
  assert.deepEqual(demo.dimensions, ['demo'], 'the legacy test’s plugin')
  // localhost: a secure context, where Chromium keeps the session's Secure cookie over http
  const base = edge.url.replace('127.0.0.1', 'localhost')
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`${base}/dashboard/?site=${site}&period=day`)
  await page.fill('#password', DASHBOARD_PASSWORD)
  await page.click('button[type=submit]')
  const row = page.locator('[data-panel=backstage] tr[data-dimension=demo]')
  await row.waitFor({ timeout: 30_000 })
  assert.deepEqual(
    (await row.locator('td.num').allTextContents()).map(Number),
    demo.metrics,
    'the panel says what the Stats API says'
  )
  await page.click('[data-panel=backstage] button[role=tab]:has-text("Templates")')
  await page.locator('[data-panel=backstage] tr[data-dimension=express-app]').waitFor()
  mkdirSync(join(root, 'tests/artifacts'), { recursive: true })
  await page.locator('[data-panel=backstage]').screenshot({ path: join(root, 'tests/artifacts/backstage-panel.png') })
  // a custom event (not a goal) broken down by the props the module sends
  await page.goto(`${base}/dashboard/?site=${site}&period=day&f=${encodeURIComponent('event:name|is|Create Service')}`)
  const props = page.locator('[data-panel=goals] .props[data-props=pluginId] tr[data-dimension=demo]')
  await props.waitFor({ timeout: 30_000 })
  const [created] = await stats({
    metrics: ['visitors', 'events'],
    dimensions: ['event:props:pluginId'],
    filters: [['is', 'event:name', ['Create Service']]]
  })
  assert.deepEqual((await props.locator('td.num').allTextContents()).map(Number), created.metrics)
  await context.close()
})
