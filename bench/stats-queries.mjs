#!/usr/bin/env node
// The Stats API's queries at scale: N generated events in a scratch database,
// then exactly the SQL the Worker runs (printed by edge/stats/examples/stats_sql.rs)
// for each query of a dashboard, p50/p95 over 20 runs after 2 warm-ups,
// beside a bare scan of the same rows (`count(), uniq(visitor_id)`) measured
// in the same run; then the whole dashboard at once (all statements
// concurrently), 10 times.
// Usage: node bench/stats-queries.mjs N [--keep]   (a ClickHouse must be running:
//        npm start, or CLICKHOUSE_URL; --keep reuses bench_stats if it holds N events)
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clickhouseFromEnv, query } from '../scripts/lib/clickhouse.mjs'
import { loadBenchEvents } from './generate-events.mjs'
import { root } from '../scripts/lib/paths.mjs'

const count = Number(process.argv[2] || 1_000_000)
const keep = process.argv.includes('--keep')
const clickhouse = clickhouseFromEnv({ ...process.env, CLICKHOUSE_DATABASE: 'bench_stats' })
const site = {
  domain: 'backstage.fawkes.idp',
  timezone: 'UTC',
  retention: 'indefinite',
  goals: [
    { event_name: 'Deploy Application' },
    { event_name: 'Create Service' },
    { event_name: 'View Documentation' },
    { event_name: 'Run CI/CD Pipeline' },
    { page_path: '/docs/**' }
  ]
}

async function held() {
  try {
    return Number(await query(clickhouse, 'SELECT count() FROM events'))
  } catch {
    return -1
  }
}

if (!keep || (await held()) !== count) {
  await loadBenchEvents(clickhouse, count)
  // the stored visits, as the admin API's rebuild makes them
  execFileSync('cargo', ['build', '--quiet', '--release', '--example', 'visits_rebuild_sql', '-p', 'ingest'], {
    cwd: root,
    stdio: 'inherit'
  })
  const rebuild = JSON.parse(
    execFileSync(join(root, 'target/release/examples/visits_rebuild_sql'), ['2026-01-01', '2026-12-31']).toString()
  )
  const rebuilt = performance.now()
  await query(clickhouse, rebuild.text, { params: rebuild.params })
  await query(clickhouse, 'OPTIMIZE TABLE visitor_days FINAL')
  const visits = (await query(clickhouse, 'SELECT count(), sum(length(visit.start)) FROM visitor_days FINAL'))
    .trim()
    .split('\t')
    .map(Number)
  console.log(
    `visits rebuilt in ${((performance.now() - rebuilt) / 1000).toFixed(1)} s: ${visits[1].toLocaleString('en-US')} visits of ${visits[0].toLocaleString('en-US')} visitor-days`
  )
}

// the generator's 30 days, in UTC
const from = Date.UTC(2026, 9, 27) / 1000
const to = Date.UTC(2026, 10, 26) / 1000
const q = (body) => ({ site_id: site.domain, date_range: '30d', ...body })
const dashboard = [
  [
    'top stats (visitors, visits, pageviews, views/visit, bounce rate, duration)',
    q({ metrics: ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'] })
  ],
  ['time series (visitors, pageviews per day)', q({ metrics: ['visitors', 'pageviews'], dimensions: ['time:day'] })],
  ['sources', q({ metrics: ['visitors'], dimensions: ['visit:source'], pagination: { limit: 10 } })],
  ['top pages', q({ metrics: ['visitors', 'pageviews'], dimensions: ['event:page'], pagination: { limit: 10 } })],
  ['entry pages', q({ metrics: ['visitors', 'visits'], dimensions: ['visit:entry_page'], pagination: { limit: 10 } })],
  ['exit pages', q({ metrics: ['visitors', 'visits'], dimensions: ['visit:exit_page'], pagination: { limit: 10 } })],
  ['countries', q({ metrics: ['visitors', 'percentage'], dimensions: ['visit:country'], pagination: { limit: 10 } })],
  ['devices', q({ metrics: ['visitors', 'percentage'], dimensions: ['visit:device'] })],
  ['browsers', q({ metrics: ['visitors', 'percentage'], dimensions: ['visit:browser'], pagination: { limit: 10 } })],
  [
    'operating systems',
    q({ metrics: ['visitors', 'percentage'], dimensions: ['visit:os'], pagination: { limit: 10 } })
  ],
  ['goals (conversion rate)', q({ metrics: ['visitors', 'events', 'conversion_rate'], dimensions: ['event:goal'] })],
  [
    'a filtered view: top pages of visits from Google',
    q({
      metrics: ['visitors', 'pageviews', 'bounce_rate'],
      dimensions: ['event:page'],
      filters: [['is', 'visit:source', ['Google']]],
      pagination: { limit: 10 }
    })
  ]
]
// the same dashboard filtered by a visit property, as a person clicking a source sees it
// (the filtered top-pages view is in the list above already)
const filteredBy = ['is', 'visit:source', ['Google']]
const filtered = dashboard
  .filter(([, body]) => !body.filters)
  .map(([what, body]) => [`${what}, visits from Google`, { ...body, filters: [filteredBy] }])
// a month of the year of data, and three nested filters over 30 days
const more = [
  [
    'three nested filters: (Google or GitHub) and not mobile and (a docs page or a goal)',
    q({
      metrics: ['visitors', 'pageviews', 'bounce_rate'],
      dimensions: ['event:page'],
      filters: [
        ['or', [filteredBy, ['is', 'visit:source', ['GitHub']]]],
        ['not', ['is', 'visit:device', ['Mobile']]],
        [
          'or',
          [
            ['matches', 'event:page', ['^/docs/']],
            ['is', 'event:name', ['Deploy Application']]
          ]
        ]
      ],
      pagination: { limit: 10 }
    })
  ]
]
const everything = [...dashboard, ...filtered, ...more]
const dir = mkdtempSync(join(tmpdir(), 'stats-sql-'))
writeFileSync(join(dir, 'input.json'), JSON.stringify({ site, from, to, queries: everything.map(([, body]) => body) }))
execFileSync('cargo', ['build', '--quiet', '--release', '--example', 'stats_sql', '-p', 'stats'], {
  cwd: root,
  stdio: 'inherit'
})
const plans = JSON.parse(
  execFileSync(join(root, 'target/release/examples/stats_sql'), [join(dir, 'input.json')]).toString()
)

const bare = {
  text: "SELECT count(), uniq(visitor_id) FROM events WHERE site_domain = {p0:String} AND timestamp >= toDateTime({p1:UInt32}, 'UTC') AND timestamp < toDateTime({p2:UInt32}, 'UTC')",
  params: { p0: site.domain, p1: from, p2: to }
}
const run = (statement) => query(clickhouse, `${statement.text} FORMAT Null`, { params: statement.params })

async function time(statements, runs = 20) {
  const times = []
  for (let i = 0; i < runs + 2; i++) {
    const started = performance.now()
    for (const s of statements) await run(s)
    if (i >= 2) times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return [times[Math.floor(times.length / 2)], times[Math.floor(times.length * 0.95)]]
}

const [bareP50, bareP95] = await time([bare])
// the same scan with exact distinct visitors, which the Stats API counts
const bareExact = { ...bare, text: bare.text.replace('uniq(', 'uniqExact(') }
const [exactP50, exactP95] = await time([bareExact])
console.log(`\n${count.toLocaleString('en-US')} events, ${new Date().toISOString().slice(0, 10)}\n`)
console.log('| query | statements | p50 ms | p95 ms | × bare scan |\n|---|---:|---:|---:|---:|')
console.log(`| bare scan: \`count(), uniq(visitor_id)\` | 1 | ${bareP50.toFixed(1)} | ${bareP95.toFixed(1)} | 1.0 |`)
console.log(
  `| bare scan, exact: \`count(), uniqExact(visitor_id)\` | 1 | ${exactP50.toFixed(1)} | ${exactP95.toFixed(1)} | ${(exactP50 / bareP50).toFixed(1)} |`
)
for (const [i, [what]] of everything.entries()) {
  const [p50, p95] = await time(plans[i])
  console.log(
    `| ${what} | ${plans[i].length} | ${p50.toFixed(1)} | ${p95.toFixed(1)} | ${(p50 / bareP50).toFixed(1)} |`
  )
}

/** All of a dashboard's statements sent at once, as the Worker sends them, 10 times after 2 warm-ups. */
async function atOnce(what, statements) {
  const totals = []
  for (let i = 0; i < 12; i++) {
    const started = performance.now()
    await Promise.all(statements.map(run))
    if (i >= 2) totals.push(performance.now() - started)
  }
  totals.sort((a, b) => a - b)
  console.log(
    `| **${what}, ${statements.length} statements at once** | ${statements.length} | ${totals[5].toFixed(1)} | ${totals[9].toFixed(1)} | ${(totals[5] / bareP50).toFixed(1)} |`
  )
}
await atOnce('the whole dashboard', plans.slice(0, dashboard.length).flat())
await atOnce(
  'the whole dashboard filtered by a visit property (source)',
  plans.slice(dashboard.length, dashboard.length + filtered.length).flat()
)
