// The Stats API's test fixture, shared by its suites: a local ClickHouse
// holding generated events (relative to now, so that every named range holds
// some at any hour, plus two DST periods), the Worker under wrangler dev with
// the sites and an API key, and the brute-force oracle.
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { promisify } from 'node:util'
import { BACKSTAGE_GOALS } from '../../scripts/lib/admin.mjs'
import { clickhouseFromEnv, migrate } from '../../scripts/lib/clickhouse.mjs'
import { generateEvents, insertEvents, utcDays } from '../../scripts/lib/events.mjs'
import { root } from '../../scripts/lib/paths.mjs'
import { startClickhouse } from './clickhouse.mjs'
import { startEdge } from './edge.mjs'
import { at } from './time.mjs'

export const BACKSTAGE = 'backstage.fawkes.idp'
export const PORTAL = 'portal.test'
export const HOSTILE = `x' OR 1=1; DROP TABLE events; -- \\' "} {p0:String} %00`
export const SITES = [
  { domain: BACKSTAGE, timezone: 'Europe/Berlin', retention: 'indefinite', goals: BACKSTAGE_GOALS, min_group_size: 1 },
  { domain: PORTAL, timezone: 'America/New_York', retention: 'indefinite', goals: [], min_group_size: 1 }
]

const MINUTE = 60_000

/** The fixture's events for a run at `now`. */
export function fixtureEvents(now) {
  const list = [
    // the last 40 days, in Berlin's time zone
    ...generateEvents({ count: 2500, days: 40, end: now - MINUTE, seed: 7, site: BACKSTAGE }),
    // Berlin's DST changes: 2026-03-29 (23 hours) and 2026-10-25 (25 hours)
    ...generateEvents({ count: 300, days: 3, end: Date.UTC(2026, 2, 30, 12), seed: 8, site: BACKSTAGE }),
    ...generateEvents({ count: 300, days: 3, end: Date.UTC(2026, 9, 26, 12), seed: 9, site: BACKSTAGE }),
    // New York: the last 40 days, and its DST change on 2026-11-01
    ...generateEvents({ count: 600, days: 40, end: now - MINUTE, seed: 10, site: PORTAL }),
    ...generateEvents({ count: 200, days: 2, end: Date.UTC(2026, 10, 2, 12), seed: 11, site: PORTAL })
  ]
  // a visit from a second ago to a quarter of an hour ahead, on each site: every
  // named range ends with the day of its query, so each holds some of these
  // events whenever the suite runs, midnight included
  for (const site of [BACKSTAGE, PORTAL]) {
    const template = list.find((e) => e.site_domain === site && e.name === 'pageview')
    for (let minute = 0; minute <= 15; minute++) {
      const ms = now - 1000 + minute * MINUTE
      // a visitor id lives one UTC day, as the daily salt makes it
      const visitor = String(7_000_000_000 + Math.floor(ms / 86_400_000) * 10 + (site === PORTAL ? 1 : 0))
      list.push({ ...template, visitor_id: visitor, timestamp: at(ms), pathname: minute % 2 ? '/catalog' : '/docs' })
    }
  }
  // a path that is itself an injection attempt, stored as data
  list.push({ ...list[0], pathname: `/${HOSTILE}`, timestamp: list[0].timestamp })
  // a page seen one day and only scrolled (an engagement, no pageview) by another visitor the
  // next: over a range of both, the page's scroll depth counts the second too, though that
  // day's own groups would leave the page out (a rolled day keeps it for the sum)
  const page = list.find((e) => e.site_domain === BACKSTAGE && e.name === 'pageview')
  const noon = Math.floor(now / 86_400_000) * 86_400_000 - 4 * 86_400_000 + 12 * 3_600_000
  list.push({ ...page, visitor_id: '8000000001', timestamp: at(noon), pathname: '/scrolled-only' })
  list.push({
    ...page,
    visitor_id: '8000000002',
    timestamp: at(noon + 86_400_000),
    pathname: '/scrolled-only',
    name: 'engagement',
    scroll_depth: 80,
    engagement_time: 9000,
    interactive: false
  })
  // a funnel's steps in one second (listed in reverse): they count in step order. One
  // visitor's own properties (browser, country, …) are the same on all its events.
  const second = at(noon + 3_600_000)
  const custom = (name, keys, values) => ({ name, 'meta.key': keys, 'meta.value': values })
  list.push(
    { ...page, visitor_id: '8000000003', timestamp: second, ...custom('Deploy Application', ['language'], ['nodejs']) },
    { ...page, visitor_id: '8000000003', timestamp: second, pathname: '/create' },
    // and the other way round: a custom event, then a page, in one second
    { ...page, visitor_id: '8000000004', timestamp: second, pathname: '/settings' },
    { ...page, visitor_id: '8000000004', timestamp: second, ...custom('Create Service', [], []) }
  )
  // as at the edge, a visitor id lives one UTC day (its salt's): the rollups rely on it
  const days = new Map()
  for (const e of list) {
    const day = e.timestamp.slice(0, 10)
    assert.equal(days.get(e.visitor_id) ?? day, day, `visitor ${e.visitor_id} on two UTC days`)
    days.set(e.visitor_id, day)
  }
  return list
}

/**
 * Registers the suite's hooks; the returned object's fields are set once they
 * run: `edge`, `clickhouse`, `key` (reads both sites), `events`, and
 * `stats(body, token, path)` and `oracle(sent)`.
 */
export function statsFixture() {
  const fixture = {}
  let ch
  before(async () => {
    // the oracle, built natively (the workspace's target directory)
    execFileSync('cargo', ['build', '--quiet', '--example', 'stats_oracle', '-p', 'stats'], {
      cwd: root,
      stdio: 'inherit'
    })
    fixture.dir = mkdtempSync(join(tmpdir(), 'stats-'))
    ch = await startClickhouse(join(fixture.dir, 'ch'))
    fixture.clickhouseUrl = ch.url
    fixture.clickhousePassword = ch.password
    fixture.clickhouse = clickhouseFromEnv(ch.env)
    await migrate(fixture.clickhouse, { log: () => {} })
    fixture.events = fixtureEvents(Date.now())
    await insertEvents(fixture.clickhouse, fixture.events)
    fixture.edge = await startEdge({
      clickhouseUrl: ch.url,
      clickhousePassword: ch.password,
      sites: [
        ...SITES.map(({ domain, timezone, goals, min_group_size }) => ({ domain, timezone, goals, min_group_size })),
        { domain: 'other.test' }
      ],
      persistTo: join(fixture.dir, 'state')
    })
    fixture.key = (await fixture.edge.admin.addKey([BACKSTAGE, PORTAL], 'tests')).key
    // the fixture went straight into ClickHouse, not through the queue: compute its visits
    await fixture.edge.admin.rebuildVisits(...utcDays(fixture.events))
  })
  after(async () => {
    await fixture.edge?.stop()
    await ch?.stop()
  })

  fixture.stats = async (body, token = fixture.key, path = '/api/v2/query') => {
    const response = await fetch(`${fixture.edge.url}${path}`, {
      method: 'POST',
      headers: token ? { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } : {},
      body: typeof body === 'string' ? body : JSON.stringify(body)
    })
    return { status: response.status, json: await response.json() }
  }

  /** The oracle's answers for `sent` ([{body, now}], `now` in Unix seconds) over the fixture events. */
  fixture.oracle = async (sent, sites = SITES) => {
    const file = join(fixture.dir, `oracle-${Math.random().toString(36).slice(2)}.json`)
    // visitor ids are 64-bit: written as JSON numbers, not through JS numbers
    const events = fixture.events.map((e) => JSON.stringify(e).replace(/"visitor_id":"(\d+)"/, '"visitor_id":$1'))
    writeFileSync(
      file,
      `{"sites":${JSON.stringify(sites)},"queries":${JSON.stringify(sent)},"events":[${events.join(',')}]}`
    )
    // asynchronously: a blocked event loop would leave fetch a keep-alive socket the Worker has closed
    const { stdout } = await promisify(execFile)(join(root, 'target/debug/examples/stats_oracle'), [file], {
      maxBuffer: 256 * 1024 * 1024
    })
    return JSON.parse(stdout)
  }
  return fixture
}
