// The Stats API end to end: the Worker under wrangler dev answers
// `POST /api/v2/query` from the local ClickHouse, and every answer must equal
// the one a brute-force Rust oracle (edge/stats/examples/stats_oracle.rs) computes
// from the same events — every metric, dimension, filter operator, date range
// and two time zones across their DST changes. Then: API keys (401/403,
// revocation), injection attempts in every string a request carries,
// retention by the cron trigger, and settings that survive a restart.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startClickhouse } from './support/clickhouse.mjs'
import { startEdge } from './support/edge.mjs'
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'
import { BACKSTAGE_GOALS } from '../scripts/lib/admin.mjs'
import { generateEvents, insertEvents } from '../scripts/lib/events.mjs'
import { root } from '../scripts/lib/paths.mjs'

const BACKSTAGE = 'backstage.fawkes.idp'
const PORTAL = 'portal.test'
const HOSTILE = `x' OR 1=1; DROP TABLE events; -- \\' "} {p0:String} %00`
const HOUR = 3_600_000

let dir, ch, clickhouse, edge, key, events
const now = Date.now()

function fixtureEvents() {
  const list = [
    // the last 40 days, in Berlin's time zone
    ...generateEvents({ count: 2500, days: 40, end: now - 60_000, seed: 7, site: BACKSTAGE }),
    // Berlin's DST changes: 2026-03-29 (23 hours) and 2026-10-25 (25 hours)
    ...generateEvents({ count: 300, days: 3, end: Date.UTC(2026, 2, 30, 12), seed: 8, site: BACKSTAGE }),
    ...generateEvents({ count: 300, days: 3, end: Date.UTC(2026, 9, 26, 12), seed: 9, site: BACKSTAGE }),
    // New York: DST ends 2026-11-01, inside the last 40 days
    ...generateEvents({ count: 600, days: 40, end: now - 60_000, seed: 10, site: PORTAL }),
    ...generateEvents({ count: 200, days: 2, end: Date.UTC(2026, 10, 2, 12), seed: 11, site: PORTAL })
  ]
  // a path that is itself an injection attempt, stored as data
  list.push({ ...list[0], pathname: `/${HOSTILE}`, timestamp: list[0].timestamp })
  // as at the edge, a visitor id lives one UTC day (its salt's): the rollups rely on it
  const days = new Map()
  for (const e of list) {
    const day = e.timestamp.slice(0, 10)
    assert.equal(days.get(e.visitor_id) ?? day, day, `visitor ${e.visitor_id} on two UTC days`)
    days.set(e.visitor_id, day)
  }
  return list
}

async function stats(body, token = key) {
  const response = await fetch(`${edge.url}/api/v2/query`, {
    method: 'POST',
    headers: token ? { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } : {},
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: response.status, json: await response.json() }
}

/** The oracle's answers for `queries` over the fixture events. */
function oracle(queries) {
  const file = join(dir, `oracle-${Math.random().toString(36).slice(2)}.json`)
  // visitor ids are 64-bit: written as JSON numbers, not through JS numbers
  const eventsJson = `[${events.map((e) => JSON.stringify(e).replace(/"visitor_id":"(\d+)"/, '"visitor_id":$1')).join(',')}]`
  const sites = [
    { domain: BACKSTAGE, timezone: 'Europe/Berlin', retention: 'indefinite', goals: BACKSTAGE_GOALS },
    { domain: PORTAL, timezone: 'America/New_York', retention: 'indefinite', goals: [] }
  ]
  writeFileSync(
    file,
    `{"now":${Math.floor(Date.now() / 1000)},"sites":${JSON.stringify(sites)},"queries":${JSON.stringify(queries)},"events":${eventsJson}}`
  )
  const binary = join(root, 'target/debug/examples/stats_oracle')
  return JSON.parse(execFileSync(binary, [file], { maxBuffer: 256 * 1024 * 1024 }).toString())
}

before(async () => {
  // the oracle, built natively (the workspace's target directory)
  execFileSync('cargo', ['build', '--quiet', '--example', 'stats_oracle', '-p', 'stats'], {
    cwd: root,
    stdio: 'inherit'
  })
  dir = mkdtempSync(join(tmpdir(), 'stats-'))
  ch = await startClickhouse(join(dir, 'ch'))
  clickhouse = clickhouseFromEnv({ CLICKHOUSE_URL: ch.url })
  await migrate(clickhouse, { log: () => {} })
  events = fixtureEvents()
  await insertEvents(clickhouse, events)
  edge = await startEdge({
    clickhouseUrl: ch.url,
    sites: [
      { domain: BACKSTAGE, timezone: 'Europe/Berlin', goals: BACKSTAGE_GOALS },
      { domain: PORTAL, timezone: 'America/New_York' },
      { domain: 'other.test' }
    ],
    persistTo: join(dir, 'state')
  })
  key = (await edge.admin.addKey([BACKSTAGE, PORTAL], 'tests')).key
  // the fixture went straight into ClickHouse, not through the queue: compute its visits
  await edge.admin.rebuildVisits('2026-01-01', '2027-12-31')
})
after(async () => {
  await edge?.stop()
  await ch?.stop()
})

const ALL_PLAIN = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration', 'events']
const DIMENSIONS = [
  'event:name',
  'event:page',
  'event:hostname',
  'event:goal',
  'event:props:language',
  'event:props:template',
  'visit:source',
  'visit:referrer',
  'visit:utm_medium',
  'visit:utm_source',
  'visit:utm_campaign',
  'visit:utm_content',
  'visit:utm_term',
  'visit:device',
  'visit:browser',
  'visit:browser_version',
  'visit:os',
  'visit:os_version',
  'visit:country',
  'visit:entry_page',
  'visit:exit_page'
]

function queries() {
  const q = (body) => ({ site_id: BACKSTAGE, date_range: '30d', ...body })
  const list = []
  // every metric, every named range and explicit dates and datetimes, in Berlin and New York
  for (const date_range of [
    'day',
    '7d',
    '30d',
    'month',
    '6mo',
    '12mo',
    'year',
    'all',
    ['2026-03-28', '2026-03-30'],
    ['2026-10-24', '2026-10-26'],
    ['2026-03-29T01:30:00+01:00', '2026-03-29T04:10:00+02:00'],
    ['2026-10-25T00:00:00', '2026-10-25T23:59:59']
  ]) {
    list.push(q({ metrics: ALL_PLAIN, date_range }))
  }
  for (const date_range of ['7d', '30d', 'month', ['2026-10-31', '2026-11-02']])
    list.push(q({ site_id: PORTAL, metrics: ALL_PLAIN, date_range }))
  // every dimension, with visit metrics and percentage
  for (const dimension of DIMENSIONS) {
    list.push(
      q({
        metrics: [
          'visitors',
          'visits',
          'pageviews',
          'events',
          'bounce_rate',
          'visit_duration',
          'views_per_visit',
          'percentage'
        ],
        dimensions: [dimension],
        date_range: '30d'
      })
    )
  }
  // scroll depth per page; two dimensions at once
  list.push(q({ metrics: ['visitors', 'scroll_depth'], dimensions: ['event:page'] }))
  list.push(q({ metrics: ['scroll_depth', 'pageviews'], dimensions: ['visit:device', 'visit:browser'] }))
  // time buckets with their labels, across DST
  for (const [dimension, date_range, site_id] of [
    ['time', 'day', BACKSTAGE],
    ['time', '7d', BACKSTAGE],
    ['time', '6mo', BACKSTAGE],
    ['time:hour', ['2026-03-29', '2026-03-29'], BACKSTAGE],
    ['time:hour', ['2026-10-25', '2026-10-25'], BACKSTAGE],
    ['time:day', ['2026-03-28', '2026-03-30'], BACKSTAGE],
    ['time:week', '30d', BACKSTAGE],
    ['time:month', 'year', BACKSTAGE],
    ['time:hour', ['2026-11-01', '2026-11-01'], PORTAL],
    ['time:day', '30d', PORTAL]
  ]) {
    list.push(
      q({
        site_id,
        metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate'],
        dimensions: [dimension],
        date_range,
        include: { time_labels: true }
      })
    )
  }
  // every filter operator, on event, prop, visit and goal dimensions, nested
  const filters = [
    ['is', 'event:page', ['/catalog', '/docs']],
    ['is_not', 'event:page', ['/']],
    ['contains', 'event:page', ['service-1']],
    ['contains_not', 'event:page', ['catalog']],
    ['matches', 'event:page', ['^/docs/.*-[0-9]$']],
    ['matches_not', 'event:page', ['^/catalog']],
    ['is', 'visit:source', ['Google', 'Direct / None']],
    ['is_not', 'visit:country', ['US']],
    ['contains', 'visit:browser', ['Chr']],
    ['is', 'event:props:language', ['nodejs']],
    ['is', 'event:props:language', ['(none)']],
    ['is_not', 'event:props:template', ['express']],
    ['is', 'event:goal', ['Deploy Application']],
    ['is_not', 'event:goal', ['Visit /docs/**']],
    ['contains', 'event:goal', ['Service']],
    ['matches', 'event:goal', ['^(Create|Run)']],
    ['is', 'visit:entry_page', ['/']],
    ['contains', 'visit:exit_page', ['docs']],
    ['is', 'visit:utm_campaign', ['launch', 'weekly-digest']],
    ['is', 'event:hostname', [`docs.${BACKSTAGE}`]],
    ['is', 'event:name', ['pageview']],
    [
      'or',
      [
        ['is', 'visit:device', ['Mobile']],
        [
          'and',
          [
            ['is', 'visit:os', ['Mac']],
            ['not', ['contains', 'event:page', ['catalog']]]
          ]
        ]
      ]
    ],
    [
      'not',
      [
        'or',
        [
          ['is', 'visit:country', ['DE']],
          ['is', 'visit:country', ['']]
        ]
      ]
    ]
  ]
  for (const filter of filters) {
    list.push(
      q({ metrics: ['visitors', 'visits', 'pageviews', 'events', 'bounce_rate', 'visit_duration'], filters: [filter] })
    )
    list.push(q({ metrics: ['visitors', 'pageviews', 'percentage'], dimensions: ['visit:source'], filters: [filter] }))
  }
  // goals and conversion rates: per goal, and per prop within a goal
  list.push(q({ metrics: ['visitors', 'events', 'conversion_rate'], dimensions: ['event:goal'] }))
  list.push(
    q({
      metrics: ['visitors', 'events', 'conversion_rate'],
      dimensions: ['event:goal'],
      order_by: [['conversion_rate', 'asc']]
    })
  )
  list.push(
    q({
      metrics: ['visitors', 'conversion_rate'],
      dimensions: ['event:props:language'],
      filters: [['is', 'event:goal', ['Deploy Application']]]
    })
  )
  list.push(
    q({
      metrics: ['visitors', 'conversion_rate'],
      dimensions: ['event:goal', 'visit:device'],
      filters: [['is', 'visit:source', ['Google', 'GitHub']]]
    })
  )
  list.push(
    q({
      metrics: ['conversion_rate', 'visitors'],
      filters: [['is', 'event:goal', ['Create Service', 'Visit /docs/**']]],
      date_range: 'all'
    })
  )
  // unfiltered uniques per page, name and goal (whole days from the page_days rollup, the
  // range's cut days from events): Berlin's and New York's days cut UTC days
  for (const [dimension, date_range, site_id] of [
    ['event:page', '7d', BACKSTAGE],
    ['event:name', 'month', BACKSTAGE],
    ['event:goal', '30d', BACKSTAGE],
    ['event:page', ['2026-10-24', '2026-10-26'], BACKSTAGE],
    ['event:page', ['2026-11-01T10:30:00-05:00', '2026-11-02T02:00:00Z'], PORTAL],
    ['event:name', 'all', PORTAL]
  ]) {
    list.push(
      q({
        site_id,
        metrics: ['visitors', 'pageviews', 'events', 'percentage'],
        dimensions: [dimension],
        date_range,
        include: { total_rows: true }
      })
    )
  }
  // order, pagination and total rows
  list.push(
    q({
      metrics: ['visitors', 'bounce_rate'],
      dimensions: ['event:page'],
      order_by: [
        ['bounce_rate', 'asc'],
        ['event:page', 'desc']
      ],
      pagination: { limit: 7, offset: 3 },
      include: { total_rows: true }
    })
  )
  list.push(
    q({
      metrics: ['visit_duration', 'views_per_visit'],
      dimensions: ['visit:entry_page'],
      order_by: [['visit_duration', 'desc']],
      pagination: { limit: 10 }
    })
  )
  list.push(
    q({
      metrics: ['pageviews'],
      dimensions: ['event:page'],
      pagination: { limit: 5, offset: 10000 },
      include: { total_rows: true }
    })
  )
  // nothing matches: a zero row without dimensions, no rows with them
  list.push(q({ metrics: ALL_PLAIN, filters: [['is', 'event:page', ['/no-such-page']]] }))
  list.push(
    q({ metrics: ['visitors'], dimensions: ['event:page'], filters: [['is', 'event:page', ['/no-such-page']]] })
  )
  // the stored injection attempt is found as data
  list.push(
    q({
      metrics: ['pageviews'],
      dimensions: ['event:page'],
      filters: [['is', 'event:page', [`/${HOSTILE}`]]],
      date_range: 'all'
    })
  )
  return list
}

test('every Stats API answer equals the brute-force answer: metrics, dimensions, filters, goals, ranges and time zones across DST', async () => {
  const list = queries()
  const expected = oracle(list)
  let compared = 0
  let nonEmpty = 0
  const empty = []
  for (const [i, body] of list.entries()) {
    const { status, json } = await stats(body)
    assert.equal(status, 200, `${JSON.stringify(body)} → ${JSON.stringify(json)}`)
    assert.deepEqual({ results: json.results, meta: json.meta }, expected[i], `query ${i}: ${JSON.stringify(body)}`)
    compared++
    if (json.results.some((r) => r.metrics.some((m) => typeof m === 'number' && m > 0))) nonEmpty++
    else empty.push(JSON.stringify(body))
  }
  // a test that compares empty answers proves nothing: only the three meant
  // to be empty, and `day` early in the morning, may be
  const meant = empty.filter(
    (b) => b.includes('no-such-page') || b.includes('"offset":10000') || b.includes('"date_range":"day"')
  )
  assert.deepEqual(empty, meant, `${nonEmpty} of ${compared} answers have data`)
  const stored = list.at(-1)
  const found = (await stats(stored)).json.results
  assert.deepEqual(found, [{ metrics: [1], dimensions: [`/${HOSTILE}`] }])
})

test('events through the Worker get their visits stored by the queue consumer and show in the Stats API', async () => {
  await edge.admin.putSite('live.test', { goals: [{ event_name: 'Deploy Application' }] })
  const liveKey = (await edge.admin.addKey(['live.test'])).key
  const send = (body) =>
    fetch(`${edge.url}/api/event`, {
      method: 'POST',
      headers: {
        'Content-Type': 'text/plain',
        'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36',
        'CF-Connecting-IP': '198.51.100.7'
      },
      body: JSON.stringify({ d: 'live.test', ...body })
    })
  for (const path of ['/', '/catalog', '/docs/a'])
    assert.equal(
      (await send({ n: 'pageview', u: `https://live.test${path}`, r: 'https://www.google.com/' })).status,
      202
    )
  assert.equal(
    (await send({ n: 'Deploy Application', u: 'https://live.test/create', p: { language: 'nodejs' } })).status,
    202
  )
  const body = {
    site_id: 'live.test',
    metrics: ['visitors', 'visits', 'pageviews', 'events', 'bounce_rate', 'views_per_visit'],
    date_range: 'day'
  }
  let answer
  for (let i = 0; i < 120; i++) {
    answer = (await stats(body, liveKey)).json
    if (answer.results?.[0]?.metrics[1] === 1 && answer.results[0].metrics[2] === 3) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  assert.deepEqual(answer.results, [{ metrics: [1, 1, 3, 4, 0, 3], dimensions: [] }])
  const sources = (
    await stats(
      { ...body, metrics: ['visits'], dimensions: ['visit:source', 'visit:entry_page', 'visit:exit_page'] },
      liveKey
    )
  ).json.results
  // one second holds all four events: pageviews come first, then by path
  assert.deepEqual(sources, [{ metrics: [1], dimensions: ['Google', '/', '/docs/a'] }])
})

test('date ranges resolve in the site’s time zone: a DST day has 23 or 25 hours', async () => {
  const spring = await stats({
    site_id: BACKSTAGE,
    metrics: ['pageviews'],
    date_range: ['2026-03-29', '2026-03-29'],
    dimensions: ['time:hour'],
    include: { time_labels: true }
  })
  assert.equal(spring.json.meta.time_labels.length, 23)
  assert.deepEqual(spring.json.query.date_range, ['2026-03-29T00:00:00+01:00', '2026-03-29T23:59:59+02:00'])
  const fall = await stats({
    site_id: BACKSTAGE,
    metrics: ['pageviews'],
    date_range: ['2026-10-25', '2026-10-25'],
    dimensions: ['time:hour'],
    include: { time_labels: true }
  })
  // 25 hours, the repeated 02:00 one bucket
  assert.equal(fall.json.meta.time_labels.length, 24)
  assert.deepEqual(fall.json.query.date_range, ['2026-10-25T00:00:00+02:00', '2026-10-25T23:59:59+01:00'])
})

test('the realtime endpoint counts the visitors of the last five minutes', async () => {
  const base = { ...events[0], site_domain: PORTAL }
  const at = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
  await insertEvents(clickhouse, [
    { ...base, visitor_id: '901', timestamp: at(Date.now() - 60_000) },
    { ...base, visitor_id: '902', timestamp: at(Date.now() - 120_000) },
    { ...base, visitor_id: '902', timestamp: at(Date.now() - 90_000) },
    { ...base, visitor_id: '903', timestamp: at(Date.now() - 10 * 60_000) }
  ])
  const recent = new Set(
    events
      .filter(
        (e) =>
          e.site_domain === PORTAL &&
          e.name !== 'engagement' &&
          Date.parse(`${e.timestamp.replace(' ', 'T')}Z`) >= Date.now() - 300_000
      )
      .map((e) => e.visitor_id)
  )
  const response = await fetch(`${edge.url}/api/v1/stats/realtime/visitors?site_id=${PORTAL}`, {
    headers: { Authorization: `Bearer ${key}` }
  })
  assert.equal(response.status, 200)
  assert.equal(await response.json(), 2 + recent.size)
})

test('API keys: none or a wrong one is 401, another site’s is 403, a revoked one is 401; the admin API needs its token', async () => {
  const body = { site_id: BACKSTAGE, metrics: ['visitors'], date_range: '7d' }
  assert.equal((await stats(body, '')).status, 401)
  assert.equal((await stats(body, `ea_${'0'.repeat(64)}`)).status, 401)
  assert.equal((await stats(body, `${key}x`)).status, 401)
  const other = await edge.admin.addKey(['other.test'], 'other')
  const refused = await stats(body, other.key)
  assert.equal(refused.status, 403)
  assert.match(refused.json.error, /site_id: this API key cannot read "backstage.fawkes.idp"/)
  assert.equal((await stats({ ...body, site_id: 'other.test' }, other.key)).status, 200)
  assert.equal((await stats({ ...body, site_id: 'missing.test' }, key)).status, 403)
  await edge.admin.revokeKey(other.id)
  assert.equal((await stats({ ...body, site_id: 'other.test' }, other.key)).status, 401)
  const settings = await edge.admin.settings()
  assert.ok(!JSON.stringify(settings).includes(key.slice(3)), 'no key secret or hash in the settings view')
  for (const token of ['', 'wrong-token-wrong-token-wrong']) {
    const response = await fetch(`${edge.url}/api/admin/settings`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {}
    })
    assert.equal(response.status, 401)
  }
})

test('injection attempts in every string of a request are data: 400 with the field named, or an answer, and the table intact', async () => {
  const before = Number(await query(clickhouse, 'SELECT count() FROM events'))
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
    const { status: got, json } = await stats(body)
    assert.equal(got, status, `${JSON.stringify(body)} → ${JSON.stringify(json)}`)
    if (message) assert.match(json.error, message)
    if (status === 200) assert.ok(Array.isArray(json.results))
  }
  // the admin API's strings, too
  await assert.rejects(edge.admin.putSite(HOSTILE), /400 domain/)
  await assert.rejects(edge.admin.putSite('x.test', { timezone: "UTC') --" }), /400 timezone/)
  await assert.rejects(
    edge.admin.putSite('x.test', { timezone: 'Mars/Olympus_Mons' }),
    /400 timezone: "Mars\/Olympus_Mons" is not a time zone ClickHouse knows/
  )
  await edge.admin.putSite('x.test', { goals: [{ event_name: HOSTILE }, { page_path: `/${HOSTILE}` }] })
  const xKey = (await edge.admin.addKey(['x.test'])).key
  const goals = await stats(
    { site_id: 'x.test', metrics: ['visitors', 'conversion_rate'], date_range: 'all', dimensions: ['event:goal'] },
    xKey
  )
  assert.equal(goals.status, 200)
  assert.equal(Number(await query(clickhouse, 'SELECT count() FROM events')), before, 'the table is intact')
})

test('retention: the cron deletes a site’s events older than its retention and keeps the young ones and other sites’', async () => {
  const at = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
  const day = 86_400_000
  const rows = (site) => [
    { ...events[0], site_domain: site, visitor_id: '1', timestamp: at(Date.now() - 400 * day) },
    { ...events[0], site_domain: site, visitor_id: '2', timestamp: at(Date.now() - 200 * day) },
    { ...events[0], site_domain: site, visitor_id: '3', timestamp: at(Date.now() - 100 * day) },
    { ...events[0], site_domain: site, visitor_id: '4', timestamp: at(Date.now() - HOUR) }
  ]
  await edge.admin.putSite('six.test', { retention: '6mo' })
  await edge.admin.putSite('year.test', { retention: '1y' })
  await edge.admin.putSite('forever.test', {})
  await insertEvents(clickhouse, [...rows('six.test'), ...rows('year.test'), ...rows('forever.test')])
  await edge.admin.rebuildVisits('2024-01-01', '2027-12-31')
  const ids = async (site, table = 'events') =>
    (
      await query(
        clickhouse,
        `SELECT visitor_id FROM ${table} ${table === 'visitor_days' ? 'FINAL' : ''} WHERE site_domain = {site:String} ORDER BY visitor_id FORMAT TabSeparated`,
        { params: { site } }
      )
    )
      .trim()
      .split('\n')
  assert.deepEqual(await ids('six.test'), ['1', '2', '3', '4'])
  assert.deepEqual(await ids('six.test', 'visitor_days'), ['1', '2', '3', '4'])
  const response = await fetch(`${edge.url}/__scheduled?cron=17+*+*+*+*`)
  assert.equal(response.status, 200)
  assert.deepEqual(await ids('six.test'), ['3', '4'])
  assert.deepEqual(await ids('six.test', 'visitor_days'), ['3', '4'], 'their stored visits go too')
  assert.deepEqual(await ids('year.test'), ['2', '3', '4'])
  assert.deepEqual(await ids('forever.test'), ['1', '2', '3', '4'])
})

test('settings survive a restart: sites, goals and keys are durable', async () => {
  const before = await edge.admin.settings()
  await edge.stop()
  edge = await startEdge({ clickhouseUrl: ch.url, sites: [], persistTo: join(dir, 'state') })
  assert.deepEqual(await edge.admin.settings(), before)
  const { status, json } = await stats({
    site_id: BACKSTAGE,
    metrics: ['visitors'],
    date_range: '30d',
    dimensions: ['event:goal']
  })
  assert.equal(status, 200)
  assert.ok(json.results.length >= 4, 'the goals are still there')
})
