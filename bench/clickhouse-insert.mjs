#!/usr/bin/env node
// The insert path: rows/s of the queue consumer's requests for each batch
// (exactly what edge/worker/src/routes/consumer.rs sends, printed by
// edge/ingest/examples/consumer_sql.rs: the stored-ids check, the INSERT, then
// per UTC day its visits refresh and its change stamp) beside a raw
// `INSERT … FORMAT JSONEachRow` of the same rows to the same server, batch by
// batch in one run, at 100, 1,000 and 10,000 rows per batch; and the raw
// INSERT into a copy of `events` without the `page_days` view, for what that
// rollup costs at insert time. The rows are a day of generated traffic
// (bench/generate-events.mjs) in the order of their time, as the queue
// delivers them. Each batch size starts from empty scratch databases,
// dropped afterwards.
// Usage: node bench/clickhouse-insert.mjs [ROWS=100000]   (a ClickHouse must be running:
//        npm start, or CLICKHOUSE_URL)
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { generateEvents } from '../scripts/lib/events.mjs'

const count = Number(process.argv[2] || 100_000)
const sizes = [100, 1000, 10_000]
const raw = clickhouseFromEnv({ ...process.env, CLICKHOUSE_DATABASE: 'bench_insert_raw' })
const consumer = { ...raw, database: 'bench_insert_consumer' }

const rows = [...generateEvents({ count, days: 1 })].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1))
const lines = `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`
execFileSync('cargo', ['build', '--quiet', '--release', '--example', 'consumer_sql', '-p', 'ingest'], {
  cwd: root,
  stdio: 'inherit'
})
/** The consumer's requests for each batch of `size` rows. */
const batchesOf = (size) =>
  execFileSync(join(root, 'target/release/examples/consumer_sql'), [String(size)], {
    input: lines,
    maxBuffer: 1024 * 1024 * 1024
  })
    .toString()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))

/** Milliseconds one request takes. */
async function timed(clickhouse, text, params) {
  const started = performance.now()
  await query(clickhouse, text, { params })
  return performance.now() - started
}

console.log(
  `${count.toLocaleString('en-US')} rows of one day, ${new Date().toISOString().slice(0, 10)}; ms are per batch (mean)\n`
)
console.log(
  '| rows per batch | batches | raw INSERT rows/s | consumer rows/s | consumer ÷ raw | raw ms | consumer ms: stored ids + INSERT + visits + change stamp | raw INSERT without `page_days`: rows/s |'
)
console.log('|---:|---:|---:|---:|---:|---:|---|---:|')
for (const size of sizes) {
  for (const clickhouse of [raw, consumer]) {
    await query(clickhouse, `DROP DATABASE IF EXISTS ${clickhouse.database}`, { database: 'default' })
    await migrate(clickhouse, { log: () => {} })
  }
  // the same table without the materialized view that feeds page_days
  await query(raw, 'CREATE TABLE events_plain AS events')
  const batches = batchesOf(size)
  const spent = { raw: 0, plain: 0, ids: 0, insert: 0, visits: 0, stamp: 0 }
  for (const batch of batches) {
    // the consumer's rows, as a plain INSERT without its deduplication token
    const body = batch.insert.slice(batch.insert.indexOf('\n') + 1)
    spent.raw += await timed(raw, `INSERT INTO events FORMAT JSONEachRow\n${body}`)
    spent.plain += await timed(raw, `INSERT INTO events_plain FORMAT JSONEachRow\n${body}`)
    spent.ids += await timed(consumer, batch.stored_ids.text, batch.stored_ids.params)
    spent.insert += await timed(consumer, batch.insert)
    for (const { refresh, changed } of batch.visits) {
      spent.visits += await timed(consumer, refresh.text, refresh.params)
      spent.stamp += await timed(consumer, changed.text, changed.params)
    }
  }
  const stored = await query(consumer, 'SELECT count() FROM events')
  if (Number(stored) !== count) throw new Error(`the consumer stored ${stored} rows, not ${count}`)
  const consumerMs = spent.ids + spent.insert + spent.visits + spent.stamp
  const perSecond = (ms) => Math.round((count / ms) * 1000).toLocaleString('en-US')
  const mean = (ms) => (ms / batches.length).toFixed(1)
  console.log(
    `| ${size.toLocaleString('en-US')} | ${batches.length} | ${perSecond(spent.raw)} | ${perSecond(consumerMs)} | ${(spent.raw / consumerMs).toFixed(2)} | ${mean(spent.raw)} | ${mean(consumerMs)}: ${mean(spent.ids)} + ${mean(spent.insert)} + ${mean(spent.visits)} + ${mean(spent.stamp)} | ${perSecond(spent.plain)} |`
  )
}
for (const clickhouse of [raw, consumer])
  await query(clickhouse, `DROP DATABASE ${clickhouse.database}`, { database: 'default' })
