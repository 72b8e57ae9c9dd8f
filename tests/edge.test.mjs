// The edge worker end to end: our tracker (from a page in headless Chromium)
// and Plausible's published tracker send to the Worker under wrangler dev;
// events land in the local ClickHouse as enriched rows; bad bodies are
// answered (never a 5xx, always with CORS) and store and count nothing; a
// ClickHouse outage loses
// nothing and duplicates nothing; and at the end no IP, User-Agent,
// referrer query string or cookie is found in any table, log line or browser.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startClickhouse } from './support/clickhouse.mjs'
import { startEdge, freePort } from './support/edge.mjs'
import { mutatedBodies } from './support/fuzz.mjs'
import { startServer } from './support/server.mjs'
import { launch } from './support/browser.mjs'
import { pageHtml, trackerTag } from './support/scenario.mjs'
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'
import { VARIANTS, buildFor } from '../scripts/lib/build.mjs'
import { root } from '../scripts/lib/paths.mjs'

const SECRET_IP = '203.0.113.77'
/** What a referrer holds beyond its host and path: never stored. */
const REFERRER_SECRETS = ['ReferrerPassword', 'ReferrerToken', 'someone', 'ReferrerFragment']
const SECRET_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 SecretMarker/9.9'

let dir, chPort, clickhouse, ch, edge, pages, browser
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edge-ch-'))
  chPort = await freePort()
  ch = await startClickhouse(dir, {}, chPort)
  clickhouse = clickhouseFromEnv(ch.env)
  await migrate(clickhouse, { log: () => {} })
  edge = await startEdge({ clickhouseUrl: ch.url, clickhousePassword: ch.password })
  pages = await startServer()
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await pages?.close()
  await edge?.stop()
  await ch?.stop()
})

/** POSTs a body to /api/event as a browser would (text/plain), from SECRET_IP with SECRET_UA. */
const send = (body, url = edge.url) =>
  fetch(`${url}/api/event`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain', 'User-Agent': SECRET_UA, 'CF-Connecting-IP': SECRET_IP },
    body
  })

async function rows(where = '1') {
  const text = await query(
    clickhouse,
    `SELECT * FROM events WHERE ${where} ORDER BY timestamp, name FORMAT JSONEachRow`
  )
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
}

async function waitForCount(where, count, seconds = 90) {
  const deadline = Date.now() + seconds * 1000
  let last = -1
  while (Date.now() < deadline) {
    try {
      last = Number((await query(clickhouse, `SELECT count() FROM events WHERE ${where}`)).trim())
      if (last >= count) return last
    } catch {
      // ClickHouse restarting
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return last
}

/**
 * A visitor on the demo portal (served by the Worker's static assets, with our
 * script tag), from SECRET_IP with SECRET_UA, who clicks Deploy: its context and page.
 */
async function visitDemo() {
  const context = await browser.newContext({
    userAgent: SECRET_UA,
    extraHTTPHeaders: { 'CF-Connecting-IP': SECRET_IP }
  })
  const page = await context.newPage()
  await page.addInitScript(() => (window.__plausible = true))
  await page.goto(`${edge.url.replace('127.0.0.1', 'localhost')}/`)
  await page.click('text=Deploy Application')
  return { context, page }
}

test('events from our tracker and from Plausible’s land as rows with the right fields, and no IP or User-Agent anywhere', async () => {
  const { context } = await visitDemo()
  assert.equal(await waitForCount("site_domain = 'backstage.fawkes.idp'", 2), 2)

  // Plausible's own tracker on another site, sending to our edge (cross-origin:
  // no extra header here, which would need a CORS preflight it never needs)
  pages.pages.set('portal.test', () =>
    pageHtml({ tag: trackerTag('plausible', { init: { endpoint: `${edge.url}/api/event` } }) })
  )
  const crossOrigin = await browser.newContext({ userAgent: SECRET_UA })
  const theirs = await crossOrigin.newPage()
  await theirs.goto(`http://portal.test:${pages.port}/catalog?utm_source=newsletter`)
  await theirs.evaluate(() =>
    plausible('Signup', { props: { plan: 'team' }, revenue: { amount: 12.5, currency: 'EUR' } })
  )
  assert.equal(await waitForCount("site_domain = 'portal.test'", 2), 2)
  await context.close()
  await crossOrigin.close()

  const ours = await rows("site_domain = 'backstage.fawkes.idp'")
  assert.deepEqual(ours.map((r) => [r.name, r.hostname, r.pathname]).sort(), [
    ['Deploy Application', 'localhost', '/'],
    ['pageview', 'localhost', '/']
  ])
  const deploy = ours.find((r) => r.name === 'Deploy Application')
  assert.deepEqual(
    [deploy['meta.key'], deploy['meta.value']],
    [
      ['language', 'template'],
      ['nodejs', 'express']
    ]
  )
  assert.equal(deploy.country_code, 'US', 'country from request.cf (fixed under wrangler dev)')
  assert.deepEqual(
    [deploy.browser, deploy.browser_version, deploy.operating_system, deploy.device],
    ['Chrome', '156.0', 'GNU/Linux', 'Desktop']
  )
  assert.equal(new Set(ours.map((r) => r.visitor_id)).size, 1, 'one visitor on one site on one day: one id')

  const plausibles = await rows("site_domain = 'portal.test'")
  const signup = plausibles.find((r) => r.name === 'Signup')
  assert.deepEqual(
    [signup.pathname, signup['meta.key'], signup['meta.value'], signup.revenue_amount, signup.revenue_currency],
    ['/catalog', ['plan'], ['team'], 12.5, 'EUR']
  )
  assert.notEqual(signup.visitor_id, ours[0].visitor_id, 'another site: another id')
  assert.deepEqual(
    [signup.referrer_source, signup.utm_source],
    ['newsletter', 'newsletter'],
    'utm_source is the source'
  )

  const everything = await query(clickhouse, 'SELECT * FROM events FORMAT JSONEachRow')
  const rollup = await fetch(`${edge.url}/api/event`, {
    method: 'POST',
    headers: { 'User-Agent': SECRET_UA },
    body: JSON.stringify({ n: 'pageview', u: 'https://portal.test/rollup', d: 'portal.test,backstage.fawkes.idp' })
  })
  assert.equal(rollup.status, 202)
  assert.equal(await waitForCount("pathname = '/rollup'", 2), 2, 'one row per configured site of a rollup event')
  const bot = await fetch(`${edge.url}/api/event`, {
    method: 'POST',
    headers: { 'User-Agent': 'curl/8.5.0' },
    body: JSON.stringify({ n: 'pageview', u: 'https://portal.test/', d: 'portal.test' })
  })
  assert.deepEqual([bot.status, bot.headers.get('x-plausible-dropped')], [202, '1'], 'a bot is dropped')
  const stranger = await fetch(`${edge.url}/api/event`, {
    method: 'POST',
    headers: { 'User-Agent': SECRET_UA },
    body: JSON.stringify({ n: 'pageview', u: 'https://evil.test/', d: 'evil.test' })
  })
  assert.equal(stranger.headers.get('x-plausible-dropped'), '1', 'an unknown site is dropped')
  let drops = ''
  for (let i = 0; i < 60 && !drops.includes('unknown_site'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    drops = await query(
      clickhouse,
      'SELECT reason, site_domain, sum(count) AS n FROM dropped_events GROUP BY reason, site_domain ORDER BY reason FORMAT JSONEachRow'
    )
  }
  assert.deepEqual(
    drops
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ ...JSON.parse(line), n: Number(JSON.parse(line).n) })),
    [
      { reason: 'bot', site_domain: 'portal.test', n: 1 },
      { reason: 'unknown_site', site_domain: '', n: 1 }
    ],
    'drops are counted, with no client-chosen domain'
  )

  // 127.0.0.1 is the IP wrangler dev gives requests without CF-Connecting-IP
  for (const secret of [SECRET_IP, SECRET_UA, 'SecretMarker', '127.0.0.1'])
    assert.ok(!everything.includes(secret), `no row holds ${secret}`)
  // (wrangler's own log names its listening address, 127.0.0.1, so that one is not checked there)
  for (const secret of [SECRET_IP, SECRET_UA, 'SecretMarker'])
    assert.ok(!edge.log().includes(secret), `no log line holds ${secret}`)
})

test("Plausible's script names (script.hash.outbound-links.js) are served as the build they ask for, its Wasm beside it; other names are 404", async () => {
  const script = await (await fetch(`${edge.url}/js/script.links.js`)).text()
  const variant = await fetch(`${edge.url}/js/script.hash.outbound-links.js`)
  assert.equal(variant.status, 200)
  assert.match(variant.headers.get('content-type'), /javascript/)
  assert.equal(variant.headers.get('access-control-allow-origin'), '*')
  assert.equal(await variant.text(), script)
  // and the Wasm build the script then loads (scripts/lib/build.mjs)
  const wasm = await fetch(`${edge.url}/js/script.links.wasm`)
  assert.equal(wasm.status, 200)
  assert.equal(wasm.headers.get('content-type'), 'application/wasm')
  for (const name of ['script.HASH.js', 'script.hash.wasm', 'other.hash.js'])
    assert.equal((await fetch(`${edge.url}/js/${name}`)).status, 404, name)
})

test("every combination of optional features is served through the Worker: the build its script name asks for, and that build's Wasm", async () => {
  const words = VARIANTS.flatMap(([, asking]) => asking.filter((word) => !['exclude', 'include'].includes(word)))
  let checked = 0
  for (let bits = 0; bits < 2 ** words.length; bits++) {
    const chosen = words.filter((_, i) => bits & (1 << i))
    const name = ['script', 'hash', ...chosen, 'js'].join('.')
    // the build holding the features those words ask for, by the JS mapping the test server uses
    const build = buildFor(name).replace(/\.js$/, '')
    const variant = await fetch(`${edge.url}/js/${name}`)
    assert.equal(variant.status, 200, name)
    assert.equal(await variant.text(), readFileSync(join(root, 'www/js', `${build}.js`), 'utf8'), name)
    const wasm = await fetch(`${edge.url}/js/${build}.wasm`)
    assert.equal(wasm.status, 200, build)
    assert.equal(wasm.headers.get('content-type'), 'application/wasm', build)
    assert.deepEqual(Buffer.from(await wasm.arrayBuffer()), readFileSync(join(root, 'www/js', `${build}.wasm`)), build)
    checked++
  }
  assert.equal(checked, 32)
})

test('the CORS preflight lets any origin send events', async () => {
  const response = await fetch(`${edge.url}/api/event`, {
    method: 'OPTIONS',
    headers: { Origin: 'https://portal.test', 'Access-Control-Request-Method': 'POST' }
  })
  assert.equal(response.status, 204)
  assert.equal(response.headers.get('access-control-allow-origin'), '*')
  assert.match(response.headers.get('access-control-allow-methods'), /POST/)
  assert.match(response.headers.get('access-control-allow-headers'), /Content-Type/i)
})

test('invalid bodies get a 400 naming the field and store and count nothing; no body gets a 5xx', async () => {
  const count = async (sql) => Number((await query(clickhouse, `${sql} FORMAT TabSeparated`)).trim())
  const before = {
    events: await count('SELECT count() FROM events'),
    unknown: await count("SELECT sumIf(count, reason = 'unknown_site') FROM dropped_events"),
    other: await count("SELECT sumIf(count, reason != 'unknown_site') FROM dropped_events")
  }
  const invalid = [
    ['', 'request'],
    ['[]', 'request'],
    ['{"n":"pageview","d":"portal.test"}', 'url'],
    ['{"n":"pageview","u":"javascript:alert(1)","d":"portal.test"}', 'url'],
    ['{"u":"https://portal.test/","d":"portal.test"}', 'name'],
    ['{"n":"pageview","u":"https://portal.test/","d":"portal.test","p":[1]}', 'props'],
    ['{"n":"pageview","u":"https://portal.test/","d":"portal.test","$":{"amount":"x","currency":"EUR"}}', 'revenue']
  ]
  for (const [body, field] of invalid) {
    const response = await send(body)
    assert.equal(response.status, 400, body)
    assert.equal(response.headers.get('access-control-allow-origin'), '*', `CORS on a 400: ${body}`)
    assert.ok(Object.keys((await response.json()).errors).includes(field), `${body} names ${field}`)
  }
  // noise around valid bodies (for a site that is not configured, so that a
  // body still valid is dropped, not stored): answered, never with a 5xx
  const seeds = [
    '{"n":"pageview","u":"https://fuzz.invalid/catalog?utm_source=x","d":"fuzz.invalid","r":"https://github.com/"}',
    '{"n":"Deploy Application","u":"https://fuzz.invalid/create","d":"fuzz.invalid","p":{"language":"nodejs"},"$":{"amount":"1.5","currency":"EUR"}}',
    '{"n":"engagement","u":"https://fuzz.invalid/docs","d":"fuzz.invalid","sd":40,"e":1200,"h":1}'
  ]
  const statuses = new Map()
  for (const body of mutatedBodies(seeds, 300)) {
    const response = await send(body)
    await response.arrayBuffer()
    assert.ok(response.status === 202 || response.status === 400, `${response.status} for ${body.toString('latin1')}`)
    assert.equal(response.headers.get('access-control-allow-origin'), '*')
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
  }
  assert.ok(statuses.get(400) > 50 && statuses.get(202) > 10, JSON.stringify([...statuses]))
  // an event sent after them all is stored: the queue has carried whatever came before
  assert.equal((await send('{"n":"Marker","u":"https://portal.test/marker","d":"portal.test"}')).status, 202)
  assert.equal(await waitForCount("name = 'Marker'", 1), 1)
  await new Promise((resolve) => setTimeout(resolve, 3000))
  assert.equal(await count('SELECT count() FROM events'), before.events + 1, 'only the marker is stored')
  // each body still valid was dropped for its unknown site and counted once; the invalid ones not at all
  assert.equal(
    await count("SELECT sumIf(count, reason = 'unknown_site') FROM dropped_events"),
    before.unknown + statuses.get(202)
  )
  assert.equal(await count("SELECT sumIf(count, reason != 'unknown_site') FROM dropped_events"), before.other)
})

test('bodies over a route’s limit are refused with a 413 naming it, by Content-Length or while streaming, and store nothing', async () => {
  const before = Number((await query(clickhouse, 'SELECT count() FROM events FORMAT TabSeparated')).trim())
  const big = (bytes) =>
    JSON.stringify({ n: 'TooBig', u: 'https://portal.test/', d: 'portal.test', p: { pad: 'x'.repeat(bytes) } })
  // a declared length over 1 MB (Plausible's limit)
  const declared = await send(big(1024 * 1024))
  assert.equal(declared.status, 413)
  assert.equal(declared.headers.get('access-control-allow-origin'), '*')
  assert.match((await declared.json()).error, /larger than 1048576 bytes/)
  // no length at all: a stream, cut at the limit
  const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
  let sent = 0
  const stream = new ReadableStream({
    pull(controller) {
      if (sent++ < 40) controller.enqueue(chunk)
      else controller.close()
    }
  })
  const streamed = await fetch(`${edge.url}/api/event`, { method: 'POST', body: stream, duplex: 'half' })
  assert.equal(streamed.status, 413)
  // the other routes' limits: the Stats API 16 KiB, the login 4 KiB, the admin API 64 KiB
  const { key } = await edge.admin.addKey(['portal.test'])
  const stats = await fetch(`${edge.url}/api/v2/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify({
      site_id: 'portal.test',
      metrics: ['visitors'],
      date_range: '7d',
      pad: 'x'.repeat(16 * 1024)
    })
  })
  assert.equal(stats.status, 413)
  assert.match((await stats.json()).error, /larger than 16384 bytes/)
  const login = await fetch(`${edge.url}/api/auth/login`, { method: 'POST', body: 'x'.repeat(5000) })
  assert.equal(login.status, 413)
  await login.arrayBuffer()
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const after = Number((await query(clickhouse, 'SELECT count() FROM events FORMAT TabSeparated')).trim())
  assert.equal(after, before)
})

test('a ClickHouse outage loses nothing and stores nothing twice', async () => {
  await ch.stop()
  const sent = 25
  for (let i = 0; i < sent; i++) {
    const response = await fetch(`${edge.url}/api/event`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': SECRET_UA, 'CF-Connecting-IP': SECRET_IP },
      body: JSON.stringify({ n: 'Outage', u: `https://portal.test/outage/${i}`, d: 'portal.test' })
    })
    assert.equal(response.status, 202, 'accepted while ClickHouse is down: the queue holds it')
  }
  const health = await fetch(`${edge.url}/api/health`)
  assert.equal(health.status, 503)
  assert.match((await health.json()).clickhouse, /unreachable|error/)
  await new Promise((resolve) => setTimeout(resolve, 3000))
  ch = await startClickhouse(dir, {}, chPort)
  assert.equal(await waitForCount("name = 'Outage'", sent, 150), sent)
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const stored = await rows("name = 'Outage'")
  assert.equal(stored.length, sent, 'exactly once')
  assert.equal(new Set(stored.map((r) => r.pathname)).size, sent, 'each event once')
  // and their visit is stored: the visitor's day holds all 25 as interactions
  const visits = JSON.parse(
    await query(
      clickhouse,
      `SELECT arraySum(visit.active) AS active, length(visit.start) AS visits FROM visitor_days FINAL WHERE site_domain = 'portal.test' AND visitor_id IN (SELECT visitor_id FROM events WHERE name = 'Outage') FORMAT JSONEachRow`
    )
  )
  assert.ok(visits.active >= sent && visits.visits >= 1, JSON.stringify(visits))
  // and the page rollup, fed by the retried inserts, counted each event once
  assert.equal(
    (await query(clickhouse, "SELECT sum(events) FROM page_days WHERE name = 'Outage' FORMAT TabSeparated")).trim(),
    String(sent)
  )
})

test('at the end: no IP, User-Agent or marker in any table or log line, and no cookie or storage in a visitor’s browser', async () => {
  // one more visit with our tracker, after all the others
  const { context, page } = await visitDemo()
  assert.equal(await waitForCount("name = 'Deploy Application'", 2), 2)
  const kept = await page.evaluate(() => ({
    local: localStorage.length,
    session: sessionStorage.length,
    cookie: document.cookie
  }))
  assert.deepEqual(kept, { local: 0, session: 0, cookie: '' })
  assert.deepEqual(await context.cookies(), [], 'the Worker set no cookie')
  await context.close()
  // a visitor who came from a password-reset mail: only the referrer's host and path are kept
  const resetLink =
    'https://user:ReferrerPassword@www.mail.example/reset/?token=ReferrerToken&email=someone%40corp.example#ReferrerFragment'
  await send(JSON.stringify({ n: 'pageview', u: 'https://portal.test/welcome', d: 'portal.test', r: resetLink }))
  assert.equal(await waitForCount("pathname = '/welcome'", 1), 1)
  const [welcome] = await rows("pathname = '/welcome'")
  assert.deepEqual([welcome.referrer, welcome.referrer_source], ['mail.example/reset', 'mail.example'])

  const tables = (
    await query(clickhouse, 'SELECT name FROM system.tables WHERE database = currentDatabase() FORMAT TabSeparated')
  )
    .trim()
    .split('\n')
  for (const table of ['events', 'dropped_events', 'visitor_days', 'page_days'])
    assert.ok(tables.includes(table), table)
  for (const table of tables) {
    const text = await query(clickhouse, `SELECT * FROM ${table} FORMAT JSONEachRow`)
    // 127.0.0.1 is the IP wrangler dev gives requests without CF-Connecting-IP
    for (const secret of [SECRET_IP, '203.0.113', SECRET_UA, 'SecretMarker', '127.0.0.1', ...REFERRER_SECRETS])
      assert.ok(!text.includes(secret), `${table} holds ${secret}`)
  }
  // the whole log of the run (wrangler's own lines name its address, 127.0.0.1, so that one is not checked)
  for (const secret of [SECRET_IP, '203.0.113', SECRET_UA, 'SecretMarker', ...REFERRER_SECRETS])
    assert.ok(!edge.log().includes(secret), `a log line holds ${secret}`)
})
