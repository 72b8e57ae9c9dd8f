// The scheduled Parquet export end to end: the Worker's export pass (the
// cron's, run now through the admin API) has ClickHouse write each closed UTC
// day's events and visits under its user_files directory; the files are read
// back with pyarrow (another Parquet implementation than the writer's) and
// hold the day's rows and no IP or User-Agent; a day is written once, and
// again when it changes; today is not written.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'
import { generateEvents, insertEvents, utcDays } from '../scripts/lib/events.mjs'
import { startClickhouse } from './support/clickhouse.mjs'
import { startEdge, TEST_ADMIN_TOKEN } from './support/edge.mjs'
import { at } from './support/time.mjs'

const SITE = 'export.test'
const DAY = 86_400_000
let ch, clickhouse, edge, dir

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'exports-'))
  ch = await startClickhouse(join(dir, 'ch'))
  clickhouse = clickhouseFromEnv(ch.env)
  await migrate(clickhouse, { log: () => {} })
  edge = await startEdge({
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: [SITE],
    vars: { EXPORT_URL: 'file:exports' }
  })
})
after(async () => {
  await edge?.stop()
  await ch?.stop()
})

/** `[rows, columns]` of a Parquet file, as pyarrow reads it. */
function parquet(path) {
  const script =
    'import json, sys, pyarrow.parquet as pq; t = pq.read_table(sys.argv[1]); ' +
    'print(json.dumps([t.num_rows, t.column_names]))'
  return JSON.parse(execFileSync('python3', ['-c', script, path]).toString())
}

test('closed days are exported as Parquet once each, again when they change, never today', async () => {
  const run = async () => {
    const response = await fetch(`${edge.url}/api/admin/exports/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }
    })
    assert.equal(response.status, 200)
    return response.json()
  }
  const today = Math.floor(Date.now() / DAY) * DAY
  const rows = [
    ...generateEvents({ count: 300, days: 2, end: today - 1000, seed: 12, site: SITE }),
    // today: not closed, not exported
    ...generateEvents({ count: 20, days: 1, end: Date.now() - 1000, seed: 13, site: SITE }).map((r) => ({
      ...r,
      timestamp: at(Math.max(today + 1000, Date.parse(`${r.timestamp}Z`)))
    }))
  ]
  await insertEvents(clickhouse, rows)
  await edge.admin.rebuildVisits(...utcDays(rows))
  const count = async (sql, date) =>
    Number(await query(clickhouse, `${sql} FORMAT TabSeparated`, { params: { site: SITE, date } }))
  const date = (ms) => new Date(ms).toISOString().slice(0, 10)
  const closed = [date(today - 2 * DAY), date(today - DAY)].filter((d) => rows.some((r) => r.timestamp.startsWith(d)))
  assert.ok(closed.length >= 1)

  const first = await run()
  assert.deepEqual(first.failed, [])
  assert.deepEqual(first.exported.map((e) => e.date).sort(), closed)
  const files = join(dir, 'ch', 'user_files', 'exports', SITE)
  for (const day of closed) {
    const [events, eventColumns] = parquet(join(files, 'events', `${day}.parquet`))
    const stored = await count(
      'SELECT count() FROM events WHERE site_domain = {site:String} AND toDate(timestamp) = {date:Date}',
      day
    )
    assert.equal(events, stored, `${day}: every event`)
    const [visits, visitColumns] = parquet(join(files, 'visits', `${day}.parquet`))
    const storedVisits = await count(
      'SELECT sum(length(`visit.start`)) FROM visitor_days FINAL WHERE site_domain = {site:String} AND date = {date:Date}',
      day
    )
    assert.equal(visits, storedVisits, `${day}: one row per visit`)
    assert.ok(visitColumns.includes('channel') && visitColumns.includes('entry_page'), visitColumns.join(' '))
    for (const column of [...eventColumns, ...visitColumns])
      assert.doesNotMatch(column, /ip|user_agent|ua$/i, 'no IP or User-Agent column')
  }
  assert.ok(!existsSync(join(files, 'events', `${date(today)}.parquet`)), 'today is not closed')

  // nothing changed: nothing to write
  assert.deepEqual((await run()).exported, [])
  // a late event on the last closed day: written again, with it
  const last = closed.at(-1)
  const [template] = rows
  await insertEvents(clickhouse, [{ ...template, visitor_id: '424242', timestamp: `${last} 12:00:00` }])
  await edge.admin.rebuildVisits(last, last)
  const again = await run()
  assert.deepEqual(
    again.exported.map((e) => e.date),
    [last]
  )
  const [events] = parquet(join(files, 'events', `${last}.parquet`))
  assert.equal(
    events,
    await count(
      'SELECT count() FROM events WHERE site_domain = {site:String} AND toDate(timestamp) = {date:Date}',
      last
    )
  )
})
