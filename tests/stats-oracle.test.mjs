// The Stats API's answers end to end: the Worker under wrangler dev answers
// `POST /api/v2/query` from the local ClickHouse, and every answer must equal
// the one a brute-force Rust oracle (edge/stats/examples/stats_oracle.rs)
// computes from the same events (the queries: tests/fixtures/stats-queries.mjs).
// Then: events sent through the Worker reach the answers, date ranges across
// DST, and the realtime count.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { query } from '../scripts/lib/clickhouse.mjs'
import { insertEvents } from '../scripts/lib/events.mjs'
import { oracleFunnels, oracleQueries } from './fixtures/stats-queries.mjs'
import { BACKSTAGE, HOSTILE, PORTAL, SITES, statsFixture } from './support/stats.mjs'
import { at, awayFromMidnight } from './support/time.mjs'

const fx = statsFixture()

/** Asks every query of the oracle list and compares each answer with the oracle's. */
async function everyAnswerEqualsTheOracle() {
  const list = oracleQueries({ backstage: BACKSTAGE, portal: PORTAL, hostile: HOSTILE })
  // each query with the time it was sent: a midnight between two changes nothing
  const sent = []
  const answers = []
  for (const body of list) {
    sent.push({ body, now: Math.floor(Date.now() / 1000) })
    answers.push(await fx.stats(body))
  }
  const expected = await fx.oracle(sent)
  let nonEmpty = 0
  const empty = []
  for (const [i, body] of list.entries()) {
    const { status, json } = answers[i]
    assert.equal(status, 200, `${JSON.stringify(body)} → ${JSON.stringify(json)}`)
    assert.deepEqual({ results: json.results, meta: json.meta }, expected[i], `query ${i}: ${JSON.stringify(body)}`)
    if (json.results.some((r) => r.metrics.some((m) => typeof m === 'number' && m > 0))) nonEmpty++
    else empty.push(JSON.stringify(body))
  }
  // a test that compares empty answers proves nothing: only the two meant to be empty may be
  const meant = empty.filter((b) => b.includes('no-such-page') || b.includes('"offset":10000'))
  assert.deepEqual(empty, meant, `${nonEmpty} of ${list.length} answers have data`)
  const stored = list.at(-1)
  const found = (await fx.stats(stored)).json.results
  assert.deepEqual(found, [{ metrics: [1], dimensions: [`/${HOSTILE}`] }])
}

test('every Stats API answer equals the brute-force answer: metrics, dimensions, filters, goals, ranges and time zones across DST', async () => {
  await everyAnswerEqualsTheOracle()
})

test('with the closed days rolled up, every answer still equals the brute-force answer; a roll is read only until its day changes', async () => {
  const rolled = []
  for (let pass = { more: true }; pass.more; ) {
    pass = await fx.edge.admin.rollDays()
    assert.deepEqual(pass.failed, [])
    rolled.push(...pass.rolled)
  }
  // every closed UTC day of the fixture, of both sites (today's is not closed)
  const today = Math.floor(Date.now() / 86_400_000)
  const closed = new Set(
    fx.events
      .filter((e) => Math.floor(Date.parse(`${e.timestamp}Z`) / 86_400_000) < today)
      .map((e) => `${e.site_domain} ${e.timestamp.slice(0, 10)}`)
  )
  const days = new Set(rolled.map(({ site, day }) => `${site} ${new Date(day * 1000).toISOString().slice(0, 10)}`))
  assert.deepEqual([...days].sort(), [...closed].sort())
  assert.deepEqual((await fx.edge.admin.rollDays()).rolled, [], 'nothing is due twice')
  await everyAnswerEqualsTheOracle()

  // the rollup is what answers: a newer roll of one day with a made-up total shows…
  const portalDays = [...closed].filter((d) => d.startsWith(PORTAL)).map((d) => d.slice(PORTAL.length + 1))
  const day = portalDays.sort()[1]
  const before = new Date(Date.parse(day) - 86_400_000).toISOString().slice(0, 10)
  // New York's two local days from the day before hold the UTC day whole
  const body = { site_id: PORTAL, metrics: ['visitors'], date_range: [before, day] }
  const [expected] = await fx.oracle([{ body, now: Math.floor(Date.now() / 1000) }])
  const stamp = Date.now() * 1000
  // a roll (its rows, then its log row) of a version and format
  const roll = async (version, format) => {
    const params = { site: PORTAL, day, version: String(version) }
    await query(
      fx.clickhouse,
      "INSERT INTO day_rollups (site_domain, date, dimension, version, `values`, visitors) SELECT {site:String}, {day:Date}, '', {version:UInt64}, [], 12345",
      { params }
    )
    await query(
      fx.clickhouse,
      `INSERT INTO day_rolls (site_domain, date, version, timezone, goals, format) SELECT {site:String}, {day:Date}, {version:UInt64}, 'America/New_York', '[]', ${format}`,
      { params }
    )
  }
  // a roll of another format (an older Worker's, or one made before a column existed) is not read…
  await roll(stamp, 1)
  assert.ok((await fx.stats(body)).json.results[0].metrics[0] < 12345, 'a roll of an old format is not read')
  // …a newer one of today's format (stats::sql::days::ROLL_FORMAT) is
  await roll(stamp + 1, 2)
  const made = (await fx.stats(body)).json.results[0].metrics[0]
  assert.ok(made >= 12345, `${made}`)
  // …until the day changes (a rebuild stamps it, as the consumer does): its events answer again
  await fx.edge.admin.rebuildVisits(day, day)
  assert.deepEqual((await fx.stats(body)).json.results, expected.results)
  // and the next pass rolls that day again (of each site with events on it), exactly
  const again = await fx.edge.admin.rollDays()
  const sitesOfDay = [...closed].filter((d) => d.endsWith(` ${day}`)).sort()
  assert.deepEqual(
    again.rolled.map(({ site, day: d }) => `${site} ${new Date(d * 1000).toISOString().slice(0, 10)}`).sort(),
    sitesOfDay
  )
  assert.deepEqual((await fx.stats(body)).json.results, expected.results)

  // a goal removed: the rolled days' goal rows counted it, so goals are read from events until
  // the next roll; the other panels still read the rolls
  const [backstage] = SITES
  const fewer = { ...backstage, goals: backstage.goals.slice(1) }
  const settings = ({ timezone, retention, goals, min_group_size }) => ({ timezone, retention, goals, min_group_size })
  await fx.edge.admin.putSite(BACKSTAGE, settings(fewer))
  const goals = {
    site_id: BACKSTAGE,
    metrics: ['visitors', 'events', 'conversion_rate'],
    date_range: '30d',
    dimensions: ['event:goal']
  }
  const now = Math.floor(Date.now() / 1000)
  const [withFewer] = await fx.oracle([{ body: goals, now }], [fewer, ...SITES.slice(1)])
  assert.ok(withFewer.results.length > 0)
  assert.deepEqual((await fx.stats(goals)).json.results, withFewer.results)
  await fx.edge.admin.putSite(BACKSTAGE, settings(backstage))
})

test('every funnel answer equals the brute-force answer: steps within a visit, props, filters, ranges; bad funnels get a 400 naming the field', async () => {
  const list = oracleFunnels({ backstage: BACKSTAGE, portal: PORTAL, hostile: HOSTILE })
  const sent = []
  const answers = []
  for (const body of list) {
    sent.push({ body, now: Math.floor(Date.now() / 1000) })
    answers.push(await fx.stats(body, fx.key, '/api/v2/funnel'))
  }
  const expected = await fx.oracle(sent)
  for (const [i, body] of list.entries()) {
    const { status, json } = answers[i]
    assert.equal(status, 200, `${JSON.stringify(body)} → ${JSON.stringify(json)}`)
    assert.deepEqual(json.funnel, expected[i].funnel, `funnel ${i}: ${JSON.stringify(body)}`)
    assert.deepEqual(json.query.steps, body.steps)
  }
  // a comparison of empty funnels proves nothing: most must be entered, several go past step 2
  const entered = answers.filter((a) => a.json.funnel.entering_visits > 0).length
  const deeper = answers.filter((a) => a.json.funnel.steps[1].visits > 0).length
  assert.ok(entered >= list.length - 1 && deeper >= 4, `${entered} entered, ${deeper} past the first step`)
  assert.equal(answers.at(-1).json.funnel.steps[1].visits, 0, 'the injection attempt is a name no event has')

  for (const [body, message] of [
    [{ site_id: BACKSTAGE, date_range: '7d', steps: [{ page_path: '/' }] }, 'steps: 1 steps; a funnel has 2 to 8'],
    [
      { site_id: BACKSTAGE, date_range: '7d', steps: [{ page_path: '/' }, { goal: 'x' }] },
      'steps[1]: {"goal":"x"} is not {event_name, props?} or {page_path, props?}'
    ],
    [{ site_id: BACKSTAGE, date_range: 'forever', steps: [] }, 'date_range: "forever" is not one of']
  ]) {
    const { status, json } = await fx.stats(body, fx.key, '/api/v2/funnel')
    assert.equal(status, 400)
    assert.ok(json.error.startsWith(message), json.error)
  }
  assert.equal((await fx.stats(list[0], 'wrong-key', '/api/v2/funnel')).status, 401)

  // a saved funnel, asked by its name, answers as its steps do
  const [backstage] = SITES
  const settings = ({ timezone, retention, goals, min_group_size }) => ({ timezone, retention, goals, min_group_size })
  await fx.edge.admin.putSite(BACKSTAGE, {
    ...settings(backstage),
    funnels: [{ name: 'Onboarding', steps: list[2].steps }]
  })
  const byName = await fx.stats(
    { site_id: BACKSTAGE, date_range: '30d', funnel: 'Onboarding' },
    fx.key,
    '/api/v2/funnel'
  )
  assert.equal(byName.status, 200)
  assert.deepEqual(byName.json.funnel, answers[2].json.funnel)
  const unknown = await fx.stats({ site_id: BACKSTAGE, date_range: '30d', funnel: 'Nope' }, fx.key, '/api/v2/funnel')
  assert.deepEqual(
    [unknown.status, unknown.json.error],
    [400, `funnel: "Nope" is not a funnel of ${BACKSTAGE} (its funnels: Onboarding)`]
  )
  await fx.edge.admin.putSite(BACKSTAGE, settings(backstage))
})

test('Stats API v1 (aggregate, timeseries, breakdown) answers as the v2 query it stands for, checked against the oracle', async () => {
  const v1 = async (endpoint, params, token = fx.key) => {
    const url = `${fx.edge.url}/api/v1/stats/${endpoint}?${new URLSearchParams({ site_id: BACKSTAGE, ...params })}`
    const response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} })
    return { status: response.status, json: await response.json() }
  }
  const now = Math.floor(Date.now() / 1000)
  const day = (ago) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10)
  // each case: the v1 request, the v2 body it stands for, and how v1 shows the v2 rows
  const cases = [
    [
      'aggregate',
      { period: '30d', metrics: 'visitors,pageviews,bounce_rate,visit_duration' },
      { metrics: ['visitors', 'pageviews', 'bounce_rate', 'visit_duration'], date_range: '30d' }
    ],
    ['aggregate', { period: '7d', date: day(10) }, { metrics: ['visitors'], date_range: [day(16), day(10)] }],
    [
      'timeseries',
      { period: '30d', metrics: 'visitors,pageviews' },
      {
        metrics: ['visitors', 'pageviews'],
        date_range: '30d',
        dimensions: ['time:day'],
        include: { time_labels: true }
      }
    ],
    [
      'breakdown',
      { property: 'visit:source', metrics: 'visitors,bounce_rate', limit: '5' },
      {
        metrics: ['visitors', 'bounce_rate'],
        date_range: '30d',
        dimensions: ['visit:source'],
        pagination: { limit: 5 }
      }
    ],
    [
      'breakdown',
      { property: 'event:page', filters: 'visit:source==Google|GitHub;event:page==/docs**', limit: '3', page: '2' },
      {
        metrics: ['visitors'],
        date_range: '30d',
        dimensions: ['event:page'],
        filters: [
          ['is', 'visit:source', ['Google', 'GitHub']],
          ['matches', 'event:page', ['^/docs.*$']]
        ],
        pagination: { limit: 3, offset: 3 }
      }
    ],
    [
      'breakdown',
      { property: 'event:props:language', metrics: 'visitors,events', filters: 'event:goal==Deploy Application' },
      {
        metrics: ['visitors', 'events'],
        date_range: '30d',
        dimensions: ['event:props:language'],
        filters: [['is', 'event:goal', ['Deploy Application']]]
      }
    ]
  ]
  const expected = await fx.oracle(cases.map(([, , body]) => ({ body: { site_id: BACKSTAGE, ...body }, now })))
  for (const [i, [endpoint, params, body]] of cases.entries()) {
    const { status, json } = await v1(endpoint, params)
    assert.equal(status, 200, `${endpoint} ${JSON.stringify(params)} → ${JSON.stringify(json)}`)
    const rows = expected[i].results.map((r) =>
      Object.fromEntries(
        body.metrics.map((m, j) => [m, r.metrics[j]]).concat(r.dimensions.length ? [['d', r.dimensions[0]]] : [])
      )
    )
    let want
    if (endpoint === 'aggregate') want = Object.fromEntries(Object.entries(rows[0]).map(([m, value]) => [m, { value }]))
    else if (endpoint === 'timeseries')
      want = expected[i].meta.time_labels.map((date) => {
        const { d, ...metrics } = rows.find((r) => r.d === date) ?? Object.fromEntries(body.metrics.map((m) => [m, 0]))
        return { ...metrics, date }
      })
    else {
      const name = body.dimensions[0].replace(/^event:props:/, '').replace(/^[a-z]+:/, '')
      want = rows.map(({ d, ...metrics }) => ({ ...metrics, [name]: d }))
    }
    assert.deepEqual(json.results, want, `${endpoint} ${JSON.stringify(params)}`)
    assert.ok(JSON.stringify(want).match(/[1-9]/), 'a comparison of zeros proves nothing')
  }

  // compare=previous_period: the change against the same number of days before
  const { json: compared } = await v1('aggregate', {
    period: '7d',
    date: day(3),
    metrics: 'visitors,bounce_rate',
    compare: 'previous_period'
  })
  const [thisWeek, weekBefore] = await fx.oracle(
    [
      [day(9), day(3)],
      [day(16), day(10)]
    ].map((date_range) => ({
      body: { site_id: BACKSTAGE, metrics: ['visitors', 'bounce_rate'], date_range },
      now
    }))
  )
  const [v, b] = [thisWeek.results[0].metrics, weekBefore.results[0].metrics]
  assert.deepEqual(compared.results, {
    visitors: { value: v[0], change: b[0] ? Math.round(((v[0] - b[0]) / b[0]) * 100) : v[0] ? 100 : 0 },
    bounce_rate: { value: v[1], change: v[1] - b[1] }
  })

  for (const [endpoint, params, status, message] of [
    ['aggregate', { period: '3y' }, 400, 'period: "3y" is not one of'],
    ['breakdown', {}, 400, 'property is required'],
    ['aggregate', { metrics: 'visitors,scroll_rate' }, 400, 'metrics[1]: "scroll_rate"'],
    ['summary', {}, 404, 'the v1 endpoints are'],
    ['aggregate', { site_id: 'other.test' }, 403, '']
  ]) {
    const { status: got, json } = await v1(endpoint, params)
    assert.equal(got, status, JSON.stringify(json))
    assert.ok(json.error.startsWith(message), json.error)
  }
  assert.equal((await v1('aggregate', {}, '')).status, 401)
})

/** RFC 4180 rows of `text` (quoted fields, doubled quotes, CRLF). */
function csvRows(text) {
  const rows = []
  let row = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += text[i++]
      else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += c
  }
  return rows
}

test('a view exported as CSV: Plausible’s zip of one CSV per panel, each panel equal to the brute-force answer', async () => {
  const view = { site_id: BACKSTAGE, date_range: '30d', filters: [['is_not', 'visit:device', ['Mobile']]] }
  const response = await fetch(`${fx.edge.url}/api/v2/export`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${fx.key}` },
    body: JSON.stringify(view)
  })
  assert.equal(response.status, 200)
  assert.equal(response.headers.get('content-type'), 'application/zip')
  assert.equal(response.headers.get('content-disposition'), `attachment; filename="${BACKSTAGE}-export.zip"`)
  const now = Math.floor(Date.now() / 1000)
  const path = join(fx.dir, 'export.zip')
  writeFileSync(path, Buffer.from(await response.arrayBuffer()))
  // read by Python's zipfile: another implementation than the one that wrote it
  const files = JSON.parse(
    execFileSync('python3', [
      '-c',
      'import json, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps({n: z.read(n).decode() for n in z.namelist()}))',
      path
    ])
  )
  assert.deepEqual(Object.keys(files).sort(), [
    'browsers.csv',
    'channels.csv',
    'conversions.csv',
    'countries.csv',
    'devices.csv',
    'entry_pages.csv',
    'exit_pages.csv',
    'operating_systems.csv',
    'pages.csv',
    'referrers.csv',
    'sources.csv',
    'utm_campaigns.csv',
    'utm_contents.csv',
    'utm_mediums.csv',
    'utm_sources.csv',
    'utm_terms.csv',
    'visitors.csv'
  ])
  const panels = {
    'visitors.csv': {
      metrics: ['visitors', 'pageviews', 'visits', 'views_per_visit', 'bounce_rate', 'visit_duration'],
      dimensions: ['time']
    },
    'pages.csv': { metrics: ['visitors', 'pageviews', 'time_on_page', 'scroll_depth'], dimensions: ['event:page'] },
    'sources.csv': { metrics: ['visitors', 'bounce_rate', 'visit_duration'], dimensions: ['visit:source'] },
    'devices.csv': { metrics: ['visitors'], dimensions: ['visit:device'] },
    'channels.csv': { metrics: ['visitors', 'bounce_rate', 'visit_duration'], dimensions: ['visit:channel'] },
    'conversions.csv': { metrics: ['visitors', 'events', 'conversion_rate'], dimensions: ['event:goal'] }
  }
  const sent = Object.values(panels).map((panel) => {
    const [dimension] = panel.dimensions
    const order =
      dimension === 'time'
        ? {}
        : {
            order_by: [
              [panel.metrics[0], 'desc'],
              [dimension, 'asc']
            ]
          }
    return { body: { ...view, ...panel, ...order, pagination: { limit: 10000 } }, now }
  })
  const expected = await fx.oracle(sent)
  for (const [i, [file, panel]] of Object.entries(panels).entries()) {
    const [header, ...rows] = csvRows(files[file])
    assert.deepEqual(header, [panel.dimensions[0] === 'time' ? 'date' : 'name', ...panel.metrics], file)
    const want = expected[i].results.map((r) => [...r.dimensions, ...r.metrics])
    assert.ok(want.length > 1, `${file}: a panel of one row or none proves little`)
    assert.deepEqual(
      // the first column is the dimension; a metric's empty cell is null
      rows.map((row) => row.map((cell, j) => (j === 0 || cell === '' ? cell : Number(cell)))),
      want.map((row) => row.map((v) => (v === null ? '' : v))),
      file
    )
  }
  assert.ok(!files['devices.csv'].includes('Mobile'), 'the view’s filter holds in every panel')
  // a view is a site, a range and filters: anything else is a 400 naming it
  const refused = await fx.stats({ ...view, metrics: ['visitors'] }, fx.key, '/api/v2/export')
  assert.deepEqual(
    [refused.status, refused.json.error],
    [400, 'unknown field "metrics": an export takes site_id, date_range, filters']
  )
  assert.equal((await fx.stats(view, 'wrong-key', '/api/v2/export')).status, 401)
})

test('events through the Worker get their visits stored by the queue consumer and show in the Stats API', async () => {
  // the events, their visit and the query of `day` on one UTC day
  await awayFromMidnight(90_000)
  await fx.edge.admin.putSite('live.test', { goals: [{ event_name: 'Deploy Application' }], min_group_size: 1 })
  const liveKey = (await fx.edge.admin.addKey(['live.test'])).key
  const send = (body) =>
    fetch(`${fx.edge.url}/api/event`, {
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
    answer = (await fx.stats(body, liveKey)).json
    if (answer.results?.[0]?.metrics[1] === 1 && answer.results[0].metrics[2] === 3) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  assert.deepEqual(answer.results, [{ metrics: [1, 1, 3, 4, 0, 3], dimensions: [] }])
  const sources = (
    await fx.stats(
      {
        ...body,
        metrics: ['visits'],
        dimensions: ['visit:source', 'visit:entry_page', 'visit:exit_page', 'visit:channel']
      },
      liveKey
    )
  ).json.results
  // one second holds all four events: pageviews come first, then by path; the edge named the
  // channel from the referrer (Google without a paid tag: organic search)
  assert.deepEqual(sources, [{ metrics: [1], dimensions: ['Google', '/', '/docs/a', 'Organic Search'] }])
})

test('date ranges resolve in the site’s time zone: a DST day has 23 or 25 hours', async () => {
  // the hours of one Berlin day, and the range as the answer states it
  const day = async (date) => {
    const { json } = await fx.stats({
      site_id: BACKSTAGE,
      metrics: ['pageviews'],
      date_range: [date, date],
      dimensions: ['time:hour'],
      include: { time_labels: true }
    })
    return [json.meta.time_labels.length, json.query.date_range]
  }
  assert.deepEqual(await day('2026-03-29'), [23, ['2026-03-29T00:00:00+01:00', '2026-03-29T23:59:59+02:00']])
  // 25 hours, the repeated 02:00 one bucket
  assert.deepEqual(await day('2026-10-25'), [24, ['2026-10-25T00:00:00+02:00', '2026-10-25T23:59:59+01:00']])
})

test('the realtime endpoint counts the visitors of the last five minutes', async () => {
  const base = { ...fx.events[0], site_domain: PORTAL }
  await insertEvents(fx.clickhouse, [
    { ...base, visitor_id: '901', timestamp: at(Date.now() - 60_000) },
    { ...base, visitor_id: '902', timestamp: at(Date.now() - 120_000) },
    { ...base, visitor_id: '902', timestamp: at(Date.now() - 90_000) },
    { ...base, visitor_id: '903', timestamp: at(Date.now() - 10 * 60_000) }
  ])
  const recent = new Set(
    fx.events
      .filter(
        (e) =>
          e.site_domain === PORTAL &&
          e.name !== 'engagement' &&
          Date.parse(`${e.timestamp.replace(' ', 'T')}Z`) >= Date.now() - 300_000
      )
      .map((e) => e.visitor_id)
  )
  const response = await fetch(`${fx.edge.url}/api/v1/stats/realtime/visitors?site_id=${PORTAL}`, {
    headers: { Authorization: `Bearer ${fx.key}` }
  })
  assert.equal(response.status, 200)
  assert.equal(await response.json(), 2 + recent.size)
})
