// The daily salt's deletion, in the real Durable Object (wrangler dev keeps
// its storage in SQLite files): a salt whose day and the next are over is
// deleted by the next request, and yesterday's is kept for the events near
// midnight. The clock cannot be moved, so the stored salts are dated back.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, test } from 'node:test'
import { clickhouseFromEnv, migrate } from '../scripts/lib/clickhouse.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { startClickhouse } from './support/clickhouse.mjs'
import { startEdge } from './support/edge.mjs'
import { awayFromMidnight } from './support/time.mjs'

const DAY = 86_400_000
const day = (ms) => new Date(ms).toISOString().slice(0, 10)
let dir, ch

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'salt-'))
  ch = await startClickhouse(join(dir, 'ch'))
  await migrate(clickhouseFromEnv(ch.env), { log: () => {} })
})
after(async () => {
  await ch?.stop()
})

/** Runs the Worker on the kept state for one event, the way a visitor's page would send it. */
async function oneEvent() {
  const edge = await startEdge({
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: ['portal.test'],
    persistTo: join(dir, 'state')
  })
  try {
    const response = await fetch(`${edge.url}/api/event`, {
      method: 'POST',
      headers: {
        'User-Agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
      },
      body: JSON.stringify({ n: 'pageview', u: 'https://portal.test/', d: 'portal.test' })
    })
    assert.equal(response.status, 202)
  } finally {
    await edge.stop()
  }
}

/** The local Worker's name (wrangler.toml's top level): wrangler dev keeps its objects under it. */
const workerName = readFileSync(join(root, 'wrangler.toml'), 'utf8').match(/^name = "([^"]+)"/m)[1]

/** The DailySalts object's SQLite file, and its key-value table opened. */
function salts() {
  const folder = join(dir, `state/v3/do/${workerName}-DailySalts`)
  const file = join(
    folder,
    readdirSync(folder).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite')
  )
  return { file, db: new DatabaseSync(file) }
}

test('a salt is deleted once the day after its own is over; yesterday’s and today’s are kept', async () => {
  // both Worker runs on the day of `now`
  await awayFromMidnight(180_000)
  const now = Date.now()
  await oneEvent()
  let { file, db } = salts()
  const [made] = db.prepare('SELECT key, value FROM _cf_KV').all()
  assert.equal(made.key, day(now), 'one salt, today’s, made by the first event')
  // date it back: the same salt three days old (stale), and another one for yesterday (kept)
  const stale = Buffer.from(made.value)
  const yesterday = Buffer.from(stale)
  yesterday[yesterday.length - 1] = yesterday.at(-1) === 0x30 ? 0x31 : 0x30
  db.prepare('UPDATE _cf_KV SET key = ? WHERE key = ?').run(day(now - 3 * DAY), made.key)
  db.prepare('INSERT INTO _cf_KV (key, value) VALUES (?, ?)').run(day(now - DAY), yesterday)
  db.close()

  await oneEvent()
  ;({ file, db } = salts())
  const kept = db.prepare('SELECT key, value FROM _cf_KV ORDER BY key').all()
  db.close()
  assert.deepEqual(
    kept.map((row) => row.key),
    [day(now - DAY), day(now)],
    'the stale salt is deleted, yesterday’s kept, a new one made for today'
  )
  assert.ok(!Buffer.from(kept[1].value).equals(stale), 'today’s salt is a new one')
  // the deleted salt's bytes are not left in the file either
  // the salt's 32 hex digits (after the storage's own serialization header),
  // in no file of the object's storage: its database, and any journal beside it
  const [hex] = stale.toString('latin1').match(/[0-9a-f]{32}/)
  const folder = join(file, '..')
  for (const name of readdirSync(folder))
    assert.equal(readFileSync(join(folder, name)).includes(hex), false, `the deleted salt is still in ${name}`)
})
