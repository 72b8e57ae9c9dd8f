#!/usr/bin/env node
// Rows per second of batch inserts into ClickHouse (the local chDB server, or
// CLICKHOUSE_URL), with the worker's statement and row shape, for several
// batch sizes. Writes to a scratch database, dropped afterwards.
// Usage: node bench/clickhouse-insert.mjs   (the ClickHouse must be running: npm start)
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'

const clickhouse = clickhouseFromEnv({ ...process.env, CLICKHOUSE_DATABASE: 'bench_insert' })
await migrate(clickhouse, { log: () => {} })
const row = (i) =>
  JSON.stringify({
    site_domain: 'backstage.fawkes.idp',
    timestamp: '2026-11-25 12:00:00',
    name: i % 5 ? 'pageview' : 'Deploy Application',
    visitor_id: (i * 2654435761) % 2 ** 32,
    hostname: 'backstage.fawkes.idp',
    pathname: `/catalog/${i % 300}`,
    referrer: '',
    referrer_source: i % 3 ? 'Google' : '',
    utm_medium: '',
    utm_source: '',
    utm_campaign: '',
    utm_content: '',
    utm_term: '',
    click_id_param: '',
    country_code: 'DE',
    device: 'Desktop',
    browser: 'Chrome',
    browser_version: '131.0',
    operating_system: 'Linux',
    operating_system_version: '',
    'meta.key': ['language'],
    'meta.value': ['nodejs'],
    revenue_amount: null,
    revenue_currency: '',
    scroll_depth: 0,
    engagement_time: 0,
    interactive: true,
    tracker_version: 1
  })
for (const batch of [100, 1000, 10000]) {
  const batches = Math.max(3, Math.floor(30000 / batch))
  const start = performance.now()
  for (let b = 0; b < batches; b++) {
    const rows = Array.from({ length: batch }, (_, i) => row(b * batch + i)).join('\n')
    await query(
      clickhouse,
      `INSERT INTO events SETTINGS insert_deduplication_token = 'bench-${batch}-${b}-${Date.now()}' FORMAT JSONEachRow\n${rows}`
    )
  }
  const seconds = (performance.now() - start) / 1000
  console.log(
    `batch ${String(batch).padStart(5)}: ${batches} inserts, ${((batches * batch) / seconds).toFixed(0)} rows/s, ${((seconds * 1000) / batches).toFixed(1)} ms/insert`
  )
}
await query(clickhouse, 'DROP DATABASE bench_insert', { database: 'default' })
