// Who may read the Stats API and what a request can do: API keys (401/403,
// revocation), injection attempts in every string a request or the admin API
// carries, the limits of one request, and settings (sites, goals, keys) that
// survive a restart.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { query } from '../scripts/lib/clickhouse.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { startEdge } from './support/edge.mjs'
import { BACKSTAGE, HOSTILE, statsFixture } from './support/stats.mjs'

const fx = statsFixture()

test('API keys: none or a wrong one is 401, another site’s is 403, a revoked one is 401; the admin API needs its token', async () => {
  const body = { site_id: BACKSTAGE, metrics: ['visitors'], date_range: '7d' }
  assert.equal((await fx.stats(body, '')).status, 401)
  assert.equal((await fx.stats(body, `ea_${'0'.repeat(64)}`)).status, 401)
  assert.equal((await fx.stats(body, `${fx.key}x`)).status, 401)
  const other = await fx.edge.admin.addKey(['other.test'], 'other')
  const refused = await fx.stats(body, other.key)
  assert.equal(refused.status, 403)
  assert.match(refused.json.error, /site_id: this API key cannot read "backstage.fawkes.idp"/)
  assert.equal((await fx.stats({ ...body, site_id: 'other.test' }, other.key)).status, 200)
  assert.equal((await fx.stats({ ...body, site_id: 'missing.test' }, fx.key)).status, 403)
  await fx.edge.admin.revokeKey(other.id)
  assert.equal((await fx.stats({ ...body, site_id: 'other.test' }, other.key)).status, 401)
  const settings = await fx.edge.admin.settings()
  assert.ok(!JSON.stringify(settings).includes(fx.key.slice(3)), 'no key secret or hash in the settings view')
  // every admin route, read from the Worker's route table (a new one cannot be left out): not
  // without the admin token, not with a Stats API key; and the control instance's shared state,
  // which this Worker (no CONTROL_TOKEN) refuses to everyone
  const table = readFileSync(join(root, 'edge/worker/src/routes/mod.rs'), 'utf8')
  const routes = [...table.matchAll(/\.(get|post|put|delete)_async\("(\/(?:api\/admin|internal)\/[^"]+)"/g)].map(
    ([, method, path]) => [
      method.toUpperCase(),
      path.replace(':domain', 'x.test').replace(':id', 'k1').replace(':object', 'salts').replace('*path', '2026-01-01')
    ]
  )
  assert.ok(routes.length >= 14, `${routes.length} routes read`)
  for (const [method, path] of routes) {
    for (const token of ['', 'wrong-token-wrong-token-wrong', fx.key]) {
      const response = await fetch(`${fx.edge.url}${path}`, {
        method,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        body: ['POST', 'PUT'].includes(method) ? '{}' : undefined
      })
      assert.equal(response.status, 401, `${method} ${path} with ${token ? 'a wrong token' : 'no token'}`)
      await response.arrayBuffer()
    }
  }
  // no METRICS_TOKEN configured: no metrics endpoint at all
  assert.equal((await fetch(`${fx.edge.url}/metrics`, { headers: { Authorization: `Bearer ${fx.key}` } })).status, 404)
  assert.deepEqual(await fx.edge.admin.deadLetters(), { dead_letters: [], truncated: false }, 'with the token')
})

test('injection attempts in every string of a request are data: 400 with the field named, or an answer, and the table intact', async () => {
  const before = Number(await query(fx.clickhouse, 'SELECT count() FROM events'))
  const base = { site_id: BACKSTAGE, metrics: ['visitors'], date_range: '7d' }
  const cases = [
    [{ ...base, site_id: HOSTILE }, 403, /site_id/],
    [{ ...base, metrics: [HOSTILE] }, 400, /metrics\[0\]/],
    [{ ...base, date_range: HOSTILE }, 400, /date_range/],
    [{ ...base, date_range: [HOSTILE, '2026-01-01'] }, 400, /date_range/],
    [{ ...base, dimensions: [HOSTILE] }, 400, /dimensions\[0\]/],
    [{ ...base, dimensions: [`event:props:${HOSTILE}`] }, 200],
    [{ ...base, filters: [[HOSTILE, 'event:page', ['/']]] }, 400, /filters\[0\]\[0\]/],
    [{ ...base, filters: [['is', HOSTILE, ['/']]] }, 400, /filters\[0\]\[1\]/],
    [{ ...base, filters: [['is', `event:props:${HOSTILE}`, [HOSTILE]]] }, 200],
    [{ ...base, filters: [['contains', 'event:page', [HOSTILE]]] }, 200],
    [{ ...base, filters: [['matches', 'event:page', ["(' OR 1=1 --"]]] }, 400, /not a valid regular expression/],
    [{ ...base, filters: [['is', 'event:goal', [HOSTILE]]] }, 200],
    [{ ...base, dimensions: ['event:page'], order_by: [[HOSTILE, 'desc']] }, 400, /order_by\[0\]/],
    [{ ...base, dimensions: ['event:page'], order_by: [['visitors', HOSTILE]] }, 400, /order_by\[0\]/],
    [{ ...base, include: { [HOSTILE]: true } }, 400, /include/],
    [{ ...base, pagination: { limit: HOSTILE } }, 400, /pagination.limit/],
    [{ ...base, [HOSTILE]: 1 }, 400, /unknown field/],
    [`{"site_id": "x", ${HOSTILE}`, 400, /not valid JSON/]
  ]
  for (const [body, status, message] of cases) {
    const { status: got, json } = await fx.stats(body)
    assert.equal(got, status, `${JSON.stringify(body)} → ${JSON.stringify(json)}`)
    if (message) assert.match(json.error, message)
    if (status === 200) assert.ok(Array.isArray(json.results))
  }
  // the admin API's strings, too
  await assert.rejects(fx.edge.admin.putSite(HOSTILE), /400 domain/)
  await assert.rejects(fx.edge.admin.putSite('x.test', { timezone: "UTC') --" }), /400 timezone/)
  await assert.rejects(
    fx.edge.admin.putSite('x.test', { timezone: 'Mars/Olympus_Mons' }),
    /400 timezone: "Mars\/Olympus_Mons" is not a time zone ClickHouse knows/
  )
  await fx.edge.admin.putSite('x.test', { goals: [{ event_name: HOSTILE }, { page_path: `/${HOSTILE}` }] })
  const xKey = (await fx.edge.admin.addKey(['x.test'])).key
  const goals = await fx.stats(
    { site_id: 'x.test', metrics: ['visitors', 'conversion_rate'], date_range: 'all', dimensions: ['event:goal'] },
    xKey
  )
  assert.equal(goals.status, 200)
  assert.equal(Number(await query(fx.clickhouse, 'SELECT count() FROM events')), before, 'the table is intact')
})

test('a request over a limit is refused naming it: buckets, range, page size, body', async () => {
  const base = { site_id: BACKSTAGE, metrics: ['visitors'] }
  // ~1.2 M hourly buckets asked for (1970–2105 with time:hour and time_labels)
  const buckets = await fx.stats({
    ...base,
    date_range: ['1970-01-01', '2105-12-31'],
    dimensions: ['time:hour'],
    include: { time_labels: true }
  })
  assert.equal(buckets.status, 400)
  assert.match(buckets.json.error, /^date_range: spans \d+ days; at most 7305/)
  const hours = await fx.stats({ ...base, date_range: ['2025-01-01', '2026-06-30'], dimensions: ['time:hour'] })
  assert.equal(hours.status, 400)
  assert.match(hours.json.error, /time:hour over this date_range makes about \d+ time buckets; at most 10000/)
  const days = await fx.stats({ ...base, date_range: ['2025-01-01', '2026-06-30'], dimensions: ['time:day'] })
  assert.equal(days.status, 200, JSON.stringify(days.json))
  const page = await fx.stats({ ...base, date_range: '7d', dimensions: ['event:page'], pagination: { limit: 10001 } })
  assert.equal(page.status, 400)
  assert.match(page.json.error, /pagination.limit: 10001 is not between 1 and 10000/)
  const body = await fx.stats({ ...base, date_range: '7d', pad: 'x'.repeat(16 * 1024) })
  assert.equal(body.status, 413)
  assert.match(body.json.error, /larger than 16384 bytes/)
})

test('settings survive a restart: sites, goals and keys are durable', async () => {
  const before = await fx.edge.admin.settings()
  await fx.edge.stop()
  fx.edge = await startEdge({
    clickhouseUrl: fx.clickhouseUrl,
    clickhousePassword: fx.clickhousePassword,
    sites: [],
    persistTo: join(fx.dir, 'state')
  })
  assert.deepEqual(await fx.edge.admin.settings(), before)
  const { status, json } = await fx.stats({
    site_id: BACKSTAGE,
    metrics: ['visitors'],
    date_range: '30d',
    dimensions: ['event:goal']
  })
  assert.equal(status, 200)
  assert.ok(json.results.length >= 4, 'the goals are still there')
})
