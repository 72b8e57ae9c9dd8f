// Accepted means insertable: every row the edge accepts — bodies at each
// column's bound, hostile ones, and thousands of mutations of both, through
// the Worker's own `admit` and `rows` (edge/ingest/examples/accepted_rows.rs)
// — inserts into the real engine, and reads back as it was sent.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startClickhouse } from './support/clickhouse.mjs'
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'
import { root } from '../scripts/lib/paths.mjs'

let ch, clickhouse
before(async () => {
  ch = await startClickhouse(mkdtempSync(join(tmpdir(), 'insertable-')))
  clickhouse = clickhouseFromEnv(ch.env)
  await migrate(clickhouse, { log: () => {} })
})
after(() => ch?.stop())

test('every row the edge accepts inserts into ClickHouse, one by one in a batch, and reads back unchanged', async () => {
  const output = execFileSync(
    'cargo',
    ['run', '--quiet', '-p', 'ingest', '--example', 'accepted_rows', '--', '20000'],
    {
      cwd: root,
      maxBuffer: 512 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit']
    }
  ).toString()
  const lines = output.split('\n').filter(Boolean)
  assert.ok(lines.length > 1000, `${lines.length} accepted rows`)
  // in batches of 100, as the queue consumer inserts; a refused batch is
  // narrowed down to the row ClickHouse refuses, which the message names
  for (let start = 0; start < lines.length; start += 100) {
    const batch = lines.slice(start, start + 100)
    try {
      await query(clickhouse, `INSERT INTO events FORMAT JSONEachRow\n${batch.join('\n')}`)
    } catch (error) {
      for (const line of batch) {
        try {
          await query(clickhouse, `INSERT INTO events FORMAT JSONEachRow\n${line}`)
        } catch (rowError) {
          assert.fail(`an accepted row is refused: ${rowError.message.slice(0, 300)}\n${line.slice(0, 2000)}`)
        }
      }
      assert.fail(`a batch was refused, but each of its rows inserts: ${error.message.slice(0, 300)}`)
    }
  }
  const count = Number((await query(clickhouse, 'SELECT count() FROM events FORMAT TabSeparated')).trim())
  assert.equal(count, lines.length)
  // what was sent is what is stored: compare every row, column by column
  // (64-bit ids as text, so JavaScript numbers cannot round them)
  const stored = new Map(
    (
      await query(
        clickhouse,
        'SELECT * FROM events FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers = 1'
      )
    )
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const row = JSON.parse(line)
        return [row.event_id, row]
      })
  )
  for (const line of lines) {
    const sent = JSON.parse(line.replace(/"(visitor_id|event_id)":(\d+)/g, '"$1":"$2"'))
    const row = stored.get(sent.event_id)
    assert.ok(row, `event ${sent.event_id} stored`)
    for (const [column, value] of Object.entries(sent)) {
      let want = value
      if (column === 'revenue_amount' && value !== null) want = Number(value)
      let got = row[column]
      if (column === 'revenue_amount' && got !== null) got = Number(got)
      // FixedString columns come back padded with NUL when the value is shorter
      if (typeof got === 'string' && (column === 'country_code' || column === 'revenue_currency'))
        got = got.replace(/\0+$/, '')
      assert.deepEqual(got, want, `${column} of event ${sent.event_id}`)
    }
  }
})
