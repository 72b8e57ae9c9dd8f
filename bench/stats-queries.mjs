#!/usr/bin/env node
// The Stats API's queries at scale: N generated events in a scratch database,
// then exactly the SQL the Worker runs (printed by edge/stats/examples/stats_sql.rs)
// for each query of a dashboard, p50/p95 over 20 runs after 2 warm-ups,
// beside a bare scan of the same rows (`count(), uniq(visitor_id)`) measured
// in the same run; then the whole dashboard at once (all statements
// concurrently), 10 times. All of it twice: with no day rolled (every day
// read from events and stored visits), then with the 30 days rolled by
// exactly the Worker's roll statements (edge/stats/examples/rollup_sql.rs).
// Usage: node bench/stats-queries.mjs N [--keep] [--rolled-only] [--min-group-size 1,5]
//        (a ClickHouse must be running: npm start, or CLICKHOUSE_URL; --keep reuses
//        bench_stats if it holds N events; --rolled-only skips the pass with no day rolled;
//        --min-group-size measures the site at each k, 1 = off: docs/privacy.md)
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clickhouseFromEnv, query } from '../scripts/lib/clickhouse.mjs'
import { loadBenchEvents } from './generate-events.mjs'
import { root } from '../scripts/lib/paths.mjs'

const count = Number(process.argv[2] || 1_000_000)
const keep = process.argv.includes('--keep')
const rolledOnly = process.argv.includes('--rolled-only')
const kAt = process.argv.indexOf('--min-group-size')
const ks = kAt > 0 ? process.argv[kAt + 1].split(',').map(Number) : [1]
const clickhouse = clickhouseFromEnv({ ...process.env, CLICKHOUSE_DATABASE: 'bench_stats' })
const site = {
  domain: 'backstage.fawkes.idp',
  timezone: 'UTC',
  retention: 'indefinite',
  min_group_size: ks[0],
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
// funnels (issue 16): three steps within a visit, and the same from Google's visits
const funnelSteps = [{ page_path: '/create' }, { event_name: 'Create Service' }, { event_name: 'Deploy Application' }]
more.push(
  ['a funnel: /create → Create Service → Deploy Application, within a visit', q({ steps: funnelSteps })],
  ['the same funnel, visits from Google', q({ steps: funnelSteps, filters: [filteredBy] })]
)
// issue 16's other queries: channels, time on page, both conversion rates, has_done, and a
// case-insensitive filter
more.push(
  ['channels', q({ metrics: ['visitors', 'bounce_rate'], dimensions: ['visit:channel'], pagination: { limit: 10 } })],
  [
    'top pages with time on page and scroll depth',
    q({
      metrics: ['visitors', 'pageviews', 'time_on_page', 'scroll_depth'],
      dimensions: ['event:page'],
      pagination: { limit: 10 }
    })
  ],
  [
    'sources of a goal: conversion_rate and group_conversion_rate',
    q({
      metrics: ['visitors', 'conversion_rate', 'group_conversion_rate'],
      dimensions: ['visit:source'],
      filters: [['is', 'event:goal', ['Deploy Application']]],
      pagination: { limit: 10 }
    })
  ],
  [
    'has_done: top stats of the visitors who deployed',
    q({
      metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate'],
      filters: [['has_done', ['is', 'event:name', ['Deploy Application']]]]
    })
  ],
  [
    'a case-insensitive filter: top pages containing "DOCS"',
    q({
      metrics: ['visitors', 'pageviews'],
      dimensions: ['event:page'],
      filters: [['contains', 'event:page', ['DOCS'], { case_sensitive: false }]],
      pagination: { limit: 10 }
    })
  ]
)
// a year by month, ending with the data's last day (the data are its last 30 days)
const yearFrom = to - 365 * 86_400
const yearly = [
  [
    'a year by month: visitors and pageviews, `time:month` over 365 days',
    q({ metrics: ['visitors', 'pageviews'], dimensions: ['time:month'] })
  ]
]
const everything = [...dashboard, ...filtered, ...more, ...yearly]
const dir = mkdtempSync(join(tmpdir(), 'stats-sql-'))
execFileSync('cargo', ['build', '--quiet', '--release', '--example', 'stats_sql', '-p', 'stats'], {
  cwd: root,
  stdio: 'inherit'
})
/** Each query's statements, as the Worker makes them when its range resolves with `rolled` days. */
function plansFor(rolled) {
  const sql = (input) => {
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ site, rolled, ...input }))
    return JSON.parse(
      execFileSync(join(root, 'target/release/examples/stats_sql'), [join(dir, 'input.json')], {
        maxBuffer: 256 * 1024 * 1024
      }).toString()
    )
  }
  const monthly = everything.slice(0, -yearly.length).map(([, body]) => body)
  return [
    ...sql({ from, to, queries: monthly }),
    ...sql({ from: yearFrom, to, queries: yearly.map(([, body]) => body) })
  ]
}
let plans = plansFor([])

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

/** Every query, then both dashboards at once: [p50, p95] each. */
async function measure() {
  const each = []
  for (const plan of plans) each.push(await time(plan))
  /** All of a dashboard's statements sent at once, as the Worker sends them, 10 times after 2 warm-ups. */
  async function atOnce(statements) {
    const totals = []
    for (let i = 0; i < 12; i++) {
      const started = performance.now()
      await Promise.all(statements.map(run))
      if (i >= 2) totals.push(performance.now() - started)
    }
    totals.sort((a, b) => a - b)
    return [totals[5], totals[9]]
  }
  const whole = await atOnce(plans.slice(0, dashboard.length).flat())
  const wholeFiltered = await atOnce(plans.slice(dashboard.length, dashboard.length + filtered.length).flat())
  return { each, whole, wholeFiltered }
}

// first with no day rolled: every statement reads its days from events and visits
await query(clickhouse, 'TRUNCATE TABLE day_rolls')
await query(clickhouse, 'TRUNCATE TABLE day_rollups')
const unrolled = rolledOnly ? null : await measure()

// then the 30 days rolled, one roll each, as the Worker's cron does
execFileSync('cargo', ['build', '--quiet', '--release', '--example', 'rollup_sql', '-p', 'stats'], {
  cwd: root,
  stdio: 'inherit'
})
const version = Number(await query(clickhouse, 'SELECT toUInt64(toUnixTimestamp64Micro(now64(6)))'))
const days = Array.from({ length: (to - from) / 86_400 }, (_, i) => from + i * 86_400)
writeFileSync(join(dir, 'roll.json'), JSON.stringify({ site, days, version }))
const rolls = JSON.parse(
  execFileSync(join(root, 'target/release/examples/rollup_sql'), [join(dir, 'roll.json')], {
    maxBuffer: 256 * 1024 * 1024
  }).toString()
)
const rollTimes = []
for (const [inserts, logged] of rolls) {
  const started = performance.now()
  for (const insert of inserts) await run(insert)
  await run(logged)
  rollTimes.push(performance.now() - started)
}
rollTimes.sort((a, b) => a - b)
const rollRows = Number(await query(clickhouse, 'SELECT count() FROM day_rollups'))
const rolledDays = days.map((day) => [day, version])
plans = plansFor(rolledDays)
const rollBytes = Number(
  await query(
    clickhouse,
    "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND table = 'day_rollups' AND database = currentDatabase()"
  )
)
const rolled = await measure()
// the same, rolled, at each other minimum group size
const others = []
for (const k of ks.slice(1)) {
  site.min_group_size = k
  plans = plansFor(rolledDays)
  others.push([k, await measure(), plans])
}
site.min_group_size = ks[0]
plans = plansFor(rolledDays)

console.log(`\n${count.toLocaleString('en-US')} events, ${new Date().toISOString().slice(0, 10)}`)
console.log(
  `rolling a day: p50 ${(rollTimes[Math.floor(rollTimes.length / 2)] / 1000).toFixed(2)} s, max ${(rollTimes.at(-1) / 1000).toFixed(2)} s; ${rollRows.toLocaleString('en-US')} rollup rows for ${days.length} days, ${rollBytes.toLocaleString('en-US')} B on disk\n`
)
console.log(
  '| query | statements | not rolled p50 / p95 ms | × bare | rolled p50 / p95 ms | × bare |\n|---|---:|---:|---:|---:|---:|'
)
const row = (what, n, before, [b50, b95]) =>
  console.log(
    `| ${what} | ${n} | ${before ? `${before[0].toFixed(1)} / ${before[1].toFixed(1)} | ${(before[0] / bareP50).toFixed(1)}` : '— | —'} | ${b50.toFixed(1)} / ${b95.toFixed(1)} | ${(b50 / bareP50).toFixed(1)} |`
  )
console.log(
  `| bare scan: \`count(), uniq(visitor_id)\` | 1 | ${bareP50.toFixed(1)} / ${bareP95.toFixed(1)} | 1.0 | | |`
)
console.log(
  `| bare scan, exact: \`count(), uniqExact(visitor_id)\` | 1 | ${exactP50.toFixed(1)} / ${exactP95.toFixed(1)} | ${(exactP50 / bareP50).toFixed(1)} | | |`
)
for (const [i, [what]] of everything.entries()) row(what, plans[i].length, unrolled?.each[i], rolled.each[i])
row(
  `**the whole dashboard, ${plans.slice(0, dashboard.length).flat().length} statements at once**`,
  plans.slice(0, dashboard.length).flat().length,
  unrolled?.whole,
  rolled.whole
)
row(
  `**the whole dashboard filtered by a visit property (source), ${plans.slice(dashboard.length, dashboard.length + filtered.length).flat().length} statements at once**`,
  plans.slice(dashboard.length, dashboard.length + filtered.length).flat().length,
  unrolled?.wholeFiltered,
  rolled.wholeFiltered
)

for (const [k, result, kPlans] of others) {
  console.log(
    `\nrolled, minimum group size ${k} (the privacy guard, docs/privacy.md), beside k = ${ks[0]}\n\n| query | statements | k = ${ks[0]} p50 ms | k = ${k} p50 / p95 ms | × bare | × k = ${ks[0]} |\n|---|---:|---:|---:|---:|---:|`
  )
  for (const [i, [what]] of everything.entries())
    console.log(
      `| ${what} | ${kPlans[i].length} | ${rolled.each[i][0].toFixed(1)} | ${result.each[i][0].toFixed(1)} / ${result.each[i][1].toFixed(1)} | ${(result.each[i][0] / bareP50).toFixed(1)} | ${(result.each[i][0] / rolled.each[i][0]).toFixed(1)} |`
    )
  console.log(
    `| **the whole dashboard at once** | ${kPlans.slice(0, dashboard.length).flat().length} | ${rolled.whole[0].toFixed(1)} | ${result.whole[0].toFixed(1)} / ${result.whole[1].toFixed(1)} | ${(result.whole[0] / bareP50).toFixed(1)} | ${(result.whole[0] / rolled.whole[0]).toFixed(1)} |`
  )
  console.log(
    `| **the whole dashboard filtered by source at once** | ${kPlans.slice(dashboard.length, dashboard.length + filtered.length).flat().length} | ${rolled.wholeFiltered[0].toFixed(1)} | ${result.wholeFiltered[0].toFixed(1)} / ${result.wholeFiltered[1].toFixed(1)} | ${(result.wholeFiltered[0] / bareP50).toFixed(1)} | ${(result.wholeFiltered[0] / rolled.wholeFiltered[0]).toFixed(1)} |`
  )
}
