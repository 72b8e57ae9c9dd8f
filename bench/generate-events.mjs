#!/usr/bin/env node
// Prints (or inserts) the generated events of scripts/lib/events.mjs, and
// loads a scratch database for the benchmarks (loadBenchEvents).
// Usage: node bench/generate-events.mjs COUNT [--days 30] [--end 2026-11-25] [--seed 1] [--insert]
//   prints JSONEachRow, or with --insert writes to CLICKHOUSE_URL's `analytics.events`
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'
import { generateEvents, insertEvents } from '../scripts/lib/events.mjs'

/** A scratch database `clickhouse.database` (dropped first) holding `count` generated events, merged; prints the time taken. */
export async function loadBenchEvents(clickhouse, count) {
  await query(clickhouse, `DROP DATABASE IF EXISTS ${clickhouse.database}`, { database: 'default' })
  await migrate(clickhouse, { log: () => {} })
  const started = performance.now()
  await insertEvents(clickhouse, generateEvents({ count }))
  await query(clickhouse, 'OPTIMIZE TABLE events FINAL')
  console.log(
    `${count.toLocaleString('en-US')} events generated and inserted in ${((performance.now() - started) / 1000).toFixed(1)} s`
  )
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const args = process.argv.slice(2)
  const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
  const count = Number(args[0] || 1000)
  const endDate = option('--end', '2026-11-26')
  const events = generateEvents({
    count,
    days: Number(option('--days', 30)),
    end: Date.parse(`${endDate}T00:00:00Z`),
    seed: Number(option('--seed', 1))
  })
  if (!args.includes('--insert')) {
    for (const event of events) process.stdout.write(`${JSON.stringify(event)}\n`)
  } else {
    const clickhouse = clickhouseFromEnv()
    const started = performance.now()
    const inserted = await insertEvents(clickhouse, events, {
      batchSize: 100_000,
      onBatch: (done) =>
        process.stderr.write(`\rinserted ${done.toLocaleString('en-US')} / ${count.toLocaleString('en-US')}`)
    })
    process.stderr.write(`\n${inserted} events in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
  }
}
