// Data retention end to end: the Worker's cron (triggered through wrangler
// dev) deletes each site's data older than its retention — events, stored
// visits and the page rollup alike — keeps the young data and other sites',
// and logs no failure doing it.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'
import { generateEvents, insertEvents, utcDays } from '../scripts/lib/events.mjs'
import { startClickhouse } from './support/clickhouse.mjs'
import { startEdge } from './support/edge.mjs'
import { at } from './support/time.mjs'

const DAY = 86_400_000
let ch, clickhouse, edge

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'retention-'))
  ch = await startClickhouse(join(dir, 'ch'))
  clickhouse = clickhouseFromEnv(ch.env)
  await migrate(clickhouse, { log: () => {} })
  edge = await startEdge({
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: [
      { domain: 'six.test', retention: '6mo' },
      { domain: 'year.test', retention: '1y' },
      { domain: 'forever.test' }
    ]
  })
})
after(async () => {
  await edge?.stop()
  await ch?.stop()
})

test('the cron deletes a site’s events, stored visits and page rollup older than its retention, and keeps the rest', async () => {
  const [template] = generateEvents({ count: 1, seed: 3 })
  const now = Date.now()
  const ages = [400 * DAY, 200 * DAY, 100 * DAY, 3_600_000]
  const rows = (site) =>
    ages.map((age, i) => ({ ...template, site_domain: site, visitor_id: String(i + 1), timestamp: at(now - age) }))
  const all = [...rows('six.test'), ...rows('year.test'), ...rows('forever.test')]
  await insertEvents(clickhouse, all)
  await edge.admin.rebuildVisits(...utcDays(all))
  // per table what a site keeps: its visitors' ids, and the rollup's days
  const kept = async (site) => {
    const ask = async (sql) =>
      (await query(clickhouse, `${sql} FORMAT TabSeparated`, { params: { site } })).trim().split('\n').filter(Boolean)
    return {
      events: await ask('SELECT visitor_id FROM events WHERE site_domain = {site:String} ORDER BY visitor_id'),
      visits: await ask(
        'SELECT visitor_id FROM visitor_days FINAL WHERE site_domain = {site:String} ORDER BY visitor_id'
      ),
      pages: await ask(
        'SELECT DISTINCT toString(date) AS day FROM page_days WHERE site_domain = {site:String} ORDER BY day'
      )
    }
  }
  const days = (ids) => ids.map((id) => at(now - ages[Number(id) - 1]).slice(0, 10)).sort()
  const everything = await kept('six.test')
  assert.deepEqual(everything.events, ['1', '2', '3', '4'])
  assert.deepEqual(everything.visits, ['1', '2', '3', '4'])
  assert.deepEqual(everything.pages, days(['1', '2', '3', '4']))

  const response = await fetch(`${edge.url}/__scheduled?cron=17+*+*+*+*`)
  assert.equal(response.status, 200)
  for (const [site, young] of [
    ['six.test', ['3', '4']],
    ['year.test', ['2', '3', '4']],
    ['forever.test', ['1', '2', '3', '4']]
  ]) {
    assert.deepEqual(await kept(site), { events: young, visits: young, pages: days(young) }, site)
  }
  // the Worker's structured lines (edge/worker/src/log.rs): its retention pass, errors and all
  const entries = edge
    .log()
    .split('\n')
    .filter((line) => line.includes('{"level"'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{"level"'))))
    .filter((entry) => entry.source === 'retention')
  assert.ok(
    entries.some((entry) => entry.level === 'info' && /^applied /.test(entry.message)),
    'the pass ran'
  )
  assert.deepEqual(
    entries.filter((entry) => entry.level === 'error'),
    [],
    'retention logged a failure'
  )
})
