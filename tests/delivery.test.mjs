// Delivery, end to end (the Worker under wrangler dev, its local queue and
// R2 bucket, the local ClickHouse): a row ClickHouse refuses is set aside
// alone while the rest of its batch is stored; an event delivered again in
// another batch is stored once in events, page_days and visitor_days; an
// outage longer than the retry budget (40 s here: the compressed clock of a
// 72-hour budget) loses nothing — the events are set aside, and a replay
// stores each once.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startClickhouse } from './support/clickhouse.mjs'
import { startEdge, freePort } from './support/edge.mjs'
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'

const BUDGET_SECONDS = 40
let dir, chPort, ch, clickhouse, edge
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'delivery-'))
  chPort = await freePort()
  ch = await startClickhouse(join(dir, 'ch'), {}, chPort)
  clickhouse = clickhouseFromEnv(ch.env)
  await migrate(clickhouse, { log: () => {} })
  edge = await startEdge({
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    vars: { RETRY_BUDGET_SECONDS: String(BUDGET_SECONDS) }
  })
})
after(async () => {
  if (process.env.SHOW_LOG) console.log(edge?.log().slice(-6000))
  await edge?.stop()
  await ch?.stop()
})

const send = (name, path, visitor = '203.0.113.5') =>
  fetch(`${edge.url}/api/event`, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/plain',
      'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
      'CF-Connecting-IP': visitor
    },
    body: JSON.stringify({ n: name, u: `https://portal.test${path}`, d: 'portal.test' })
  }).then((response) => {
    assert.equal(response.status, 202)
  })

const number = async (sql) => Number((await query(clickhouse, `${sql} FORMAT TabSeparated`)).trim())

async function until(what, check, seconds = 120) {
  const deadline = Date.now() + seconds * 1000
  let last
  while (Date.now() < deadline) {
    try {
      last = await check()
      if (last === true) return
    } catch (error) {
      last = error.message
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  assert.fail(`${what}: not within ${seconds} s (last: ${JSON.stringify(last)})`)
}

/** The events of `name`: rows, page rollup count, and visitor-day activity. */
async function counted(name) {
  return {
    events: await number(`SELECT count() FROM events WHERE name = '${name}'`),
    distinct: await number(`SELECT uniqExact(event_id) FROM events WHERE name = '${name}'`),
    page_days: await number(`SELECT sum(events) FROM page_days WHERE name = '${name}'`)
  }
}

test('a row ClickHouse refuses is set aside with its reason; the 30 others of its batch are stored; a replay stores it once', async () => {
  // an operator's rule the edge does not know: ClickHouse refuses the row, not the edge
  await query(clickhouse, "ALTER TABLE events ADD CONSTRAINT no_poison CHECK pathname != '/poison'")
  await Promise.all([
    ...Array.from({ length: 30 }, (_, i) => send('Isolation', `/fine/${i}`, `203.0.113.${i + 10}`)),
    send('Isolation', '/poison')
  ])
  await until('the 30 others stored', async () => (await counted('Isolation')).events === 30)
  await until('the refused one set aside', async () => (await edge.admin.deadLetters()).dead_letters.length === 1)
  const [letter] = (await edge.admin.deadLetters()).dead_letters
  assert.match(letter.reason, /ClickHouse refused the row: .*469/, letter.reason)
  await query(clickhouse, 'ALTER TABLE events DROP CONSTRAINT no_poison')
  assert.deepEqual(await edge.admin.replayAllDeadLetters(), { replayed: 1, unreadable: [] })
  await until('the replayed one stored', async () => (await counted('Isolation')).events === 31)
  assert.deepEqual((await edge.admin.deadLetters()).dead_letters, [])
  await new Promise((resolve) => setTimeout(resolve, 3000))
  assert.deepEqual(await counted('Isolation'), { events: 31, distinct: 31, page_days: 31 })
})

test('events delivered again, regrouped with others after their insert succeeded, are counted once in events, page_days and visitor_days', async () => {
  // the visits refresh fails after the events insert: the batch is retried
  await query(clickhouse, 'RENAME TABLE visitor_days TO visitor_days_away')
  const visitor = '198.51.100.7'
  for (let i = 0; i < 10; i++) await send('Regroup', `/first/${i}`, visitor)
  await until('the first ten inserted', async () => (await counted('Regroup')).events === 10)
  // while they are retried, more come: the redelivery shares batches with them
  for (let i = 0; i < 10; i++) {
    await send('Regroup', `/second/${i}`, visitor)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  await until('the second ten inserted', async () => (await counted('Regroup')).events === 20)
  await new Promise((resolve) => setTimeout(resolve, 3000))
  await query(clickhouse, 'RENAME TABLE visitor_days_away TO visitor_days')
  await until('the visits stored', async () => {
    const active = await number(
      "SELECT sum(arraySum(visit.active)) FROM visitor_days FINAL WHERE site_domain = 'portal.test' AND visitor_id IN (SELECT visitor_id FROM events WHERE name = 'Regroup')"
    )
    return active === 20 || active
  })
  await new Promise((resolve) => setTimeout(resolve, 4000))
  assert.deepEqual(await counted('Regroup'), { events: 20, distinct: 20, page_days: 20 })
  assert.equal(
    await number(
      "SELECT sum(arraySum(visit.active)) FROM visitor_days FINAL WHERE site_domain = 'portal.test' AND visitor_id IN (SELECT visitor_id FROM events WHERE name = 'Regroup')"
    ),
    20
  )
  assert.match(edge.log(), /visits: ClickHouse/, 'the refresh did fail, and was retried')
})

test('an outage longer than the retry budget loses nothing: the events are set aside, and replaying them twice stores each once', async () => {
  await ch.stop()
  for (let i = 0; i < 10; i++) await send('LongOutage', `/down/${i}`, `192.0.2.${i + 1}`)
  await until(
    'all ten set aside after the budget',
    async () => {
      const { dead_letters } = await edge.admin.deadLetters()
      return dead_letters.length === 10 || dead_letters.length
    },
    BUDGET_SECONDS + 90
  )
  const { dead_letters } = await edge.admin.deadLetters()
  for (const letter of dead_letters)
    assert.match(letter.reason, new RegExp(`not stored within the retry budget \\(${BUDGET_SECONDS} s\\)`))
  ch = await startClickhouse(join(dir, 'ch'), {}, chPort)
  // two replays at once both read the letters before either deletes them: the
  // events are queued twice, and each is still stored once (it keeps its id)
  const replays = await Promise.all([edge.admin.replayDeadLetters(), edge.admin.replayDeadLetters()])
  const replayed = replays[0].replayed + replays[1].replayed
  assert.ok(replayed >= 10, `${replayed} replayed`)
  await until('the ten stored', async () => (await counted('LongOutage')).events === 10)
  assert.deepEqual((await edge.admin.deadLetters()).dead_letters, [])
  await new Promise((resolve) => setTimeout(resolve, 5000))
  assert.deepEqual(await counted('LongOutage'), { events: 10, distinct: 10, page_days: 10 })
})
