#!/usr/bin/env node
// The Stats API's performance baseline: N generated events in a scratch
// database, then the engine's limit (a bare scan of the columns a dashboard
// reads) and a naive query-time sessionization, p50/p95 over 20 runs each,
// through ClickHouse's HTTP interface (the local chDB server, or CLICKHOUSE_URL).
// Usage: node bench/stats-baseline.mjs N   (a ClickHouse must be running: npm start)
import { clickhouseFromEnv, query } from '../scripts/lib/clickhouse.mjs'
import { loadBenchEvents } from './generate-events.mjs'

const count = Number(process.argv[2] || 1_000_000)
const clickhouse = clickhouseFromEnv({ ...process.env, CLICKHOUSE_DATABASE: 'bench_stats' })
await loadBenchEvents(clickhouse, count)

const params = { site: 'backstage.fawkes.idp', from: '2026-10-27 00:00:00', to: '2026-11-26 00:00:00' }
const range = 'site_domain = {site:String} AND timestamp >= {from:DateTime} AND timestamp < {to:DateTime}'
const queries = [
  ['bare scan: count(), uniq(visitor_id)', `SELECT count(), uniq(visitor_id) FROM events WHERE ${range}`],
  [
    'top pages by visitors (event-level)',
    `SELECT pathname, uniq(visitor_id) AS v FROM events WHERE ${range} AND name = 'pageview' GROUP BY pathname ORDER BY v DESC LIMIT 10`
  ],
  [
    'naive query-time sessionization: visits and bounce rate (a visit ends after 30 min without an event)',
    `SELECT count() AS visits, avg(pageviews = 1) AS bounce_rate FROM (
       SELECT visitor_id, visit, countIf(name = 'pageview') AS pageviews FROM (
         SELECT visitor_id, name, sum(new_visit) OVER (PARTITION BY visitor_id ORDER BY timestamp ROWS UNBOUNDED PRECEDING) AS visit FROM (
           SELECT visitor_id, name, timestamp,
                  timestamp - lagInFrame(timestamp, 1, toDateTime(0)) OVER (PARTITION BY visitor_id ORDER BY timestamp ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) > 1800 AS new_visit
           FROM events WHERE ${range}))
       GROUP BY visitor_id, visit)`
  ]
]
const results = []
for (const [what, sql] of queries) {
  const times = []
  for (let i = 0; i < 22; i++) {
    const started = performance.now()
    await query(clickhouse, `${sql} FORMAT Null`, { params })
    if (i >= 2) times.push(performance.now() - started) // two warm-up runs
  }
  times.sort((a, b) => a - b)
  results.push([what, times[Math.floor(times.length / 2)], times[Math.floor(times.length * 0.95)]])
}
const bare = results[0][1]
console.log('| query | p50 ms | p95 ms | × bare scan |\n|---|---:|---:|---:|')
for (const [what, p50, p95] of results)
  console.log(`| ${what} | ${p50.toFixed(1)} | ${p95.toFixed(1)} | ${(p50 / bare).toFixed(1)} |`)
await query(clickhouse, 'DROP DATABASE bench_stats', { database: 'default' })
