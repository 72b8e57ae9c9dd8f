#!/usr/bin/env node
// The soak: events sent as fast as the Worker takes them, through bare workerd
// (the self-hosted path: bench/workerd.mjs, workerd's own queue), for
// DURATION seconds while ClickHouse is killed and restarted twice and the
// Worker once — then every accepted event must be stored exactly once, in
// events, page_days and visitor_days. Prints the figures docs/reliability.md
// records. Needs the Worker built (node scripts/build-worker.mjs).
//
// Usage: node bench/soak.mjs [DURATION=600] [CLIENTS=8]
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { freePort } from '../scripts/lib/net.mjs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminClient } from '../scripts/lib/admin.mjs'
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'
import { root } from '../scripts/lib/paths.mjs'

const duration = Number(process.argv[2] || 600)
const clients = Number(process.argv[3] || 8)
const SITE = 'soak.test'
const run = randomBytes(4).toString('hex')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const started = Date.now()
const log = (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`)

// ClickHouse: the local one, on its own data and password
const dir = mkdtempSync(join(tmpdir(), 'soak-'))
const chPort = await freePort()
const password = randomBytes(16).toString('hex')
const env = { CLICKHOUSE_URL: `http://127.0.0.1:${chPort}`, CLICKHOUSE_PASSWORD: password }
const clickhouse = clickhouseFromEnv(env)
let ch
async function startClickhouse() {
  ch = spawn('python3', [join(root, 'clickhouse/server.py'), '--port', String(chPort), '--data', join(dir, 'ch')], {
    env: { ...process.env, ...env },
    stdio: 'ignore'
  })
  for (;;) {
    try {
      if ((await fetch(`${env.CLICKHOUSE_URL}/ping`)).ok) return
    } catch {}
    await sleep(200)
  }
}
const killClickhouse = () =>
  new Promise((resolve) => {
    ch.once('exit', resolve)
    ch.kill('SIGKILL')
  })

// the Worker under bare workerd, its queue and Durable Objects on disk (kept across restarts)
const port = await freePort()
let worker
async function startWorker() {
  worker = spawn('node', [join(root, 'bench/workerd.mjs'), String(port)], {
    env: { ...process.env, ...env, ADMIN_TOKEN: 'soak-admin-token-0123456789abcdef' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  worker.stderr.on('data', () => {})
  await new Promise((resolve) =>
    worker.stdout.on('data', (chunk) => {
      if (String(chunk).includes('sites')) resolve()
    })
  )
  await adminClient(`http://127.0.0.1:${port}`, 'soak-admin-token-0123456789abcdef').putSite(SITE)
}
const stopWorker = () =>
  new Promise((resolve) => {
    worker.once('exit', resolve)
    worker.kill('SIGTERM')
  })

await startClickhouse()
await migrate(clickhouse, { log: () => {} })
// a fresh workerd disk: bench/workerd.mjs keeps it in target/workerd/storage
rmSync(join(root, 'target/workerd/storage'), { recursive: true, force: true })
await startWorker()
log(`ClickHouse on ${chPort}, Worker on ${port}; ${clients} clients for ${duration} s`)

// the load: every event its own path; an event is accepted when answered 202
const accepted = new Set()
let sent = 0
let refused = 0
let sending = true
async function client(c) {
  while (sending) {
    const path = `/soak/${run}/${c}-${sent++}`
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/event`, {
        method: 'POST',
        headers: {
          'Content-Type': 'text/plain',
          'User-Agent': `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.${c}.0 Safari/537.36`,
          'CF-Connecting-IP': `198.51.100.${(sent % 200) + 1}`
        },
        body: JSON.stringify({ n: 'Soak', u: `https://${SITE}${path}`, d: SITE })
      })
      await response.arrayBuffer()
      if (response.status === 202) accepted.add(path)
      else refused++
    } catch {
      refused++
      await sleep(100) // the Worker is restarting
    }
  }
}
const load = Promise.all(Array.from({ length: clients }, (_, c) => client(c)))

// the faults, at fixed points of the run
const at = (fraction) => sleep(Math.max(0, started + fraction * duration * 1000 - Date.now()))
const faults = (async () => {
  await at(0.2)
  log('kill -9 ClickHouse')
  await killClickhouse()
  await at(0.3)
  await startClickhouse()
  log('ClickHouse restarted')
  await at(0.5)
  log('restarting the Worker')
  await stopWorker()
  await sleep(2000)
  await startWorker()
  log('Worker restarted')
  await at(0.7)
  log('kill -9 ClickHouse')
  await killClickhouse()
  await at(0.8)
  await startClickhouse()
  log('ClickHouse restarted')
})()
const progress = setInterval(() => log(`${accepted.size} accepted, ${refused} refused or unanswered`), 30_000)
await at(1)
sending = false
await Promise.all([load, faults])
clearInterval(progress)
const sendSeconds = (Date.now() - started) / 1000
log(
  `sending stopped: ${accepted.size} accepted (${(accepted.size / sendSeconds).toFixed(0)}/s), ${refused} refused or unanswered`
)

// the drain: until every accepted event is stored, or nothing moves for 3 minutes
const count = async (sql) => Number((await query(clickhouse, `${sql} FORMAT TabSeparated`)).trim())
const where = `site_domain = '${SITE}' AND name = 'Soak'`
let stored = 0
let lastChange = Date.now()
while (stored < accepted.size && Date.now() - lastChange < 180_000) {
  await sleep(2000)
  const now = await count(`SELECT count() FROM events WHERE ${where}`)
  if (now !== stored) lastChange = Date.now()
  stored = now
}
await sleep(5000) // the visits refresh follows the insert
const drained = (Date.now() - started) / 1000 - sendSeconds
const paths = (
  await query(clickhouse, `SELECT pathname, count() FROM events WHERE ${where} GROUP BY pathname FORMAT TabSeparated`)
)
  .split('\n')
  .filter(Boolean)
  .map((line) => line.split('\t'))
const storedPaths = new Map(paths.map(([path, n]) => [path, Number(n)]))
const missing = [...accepted].filter((path) => !storedPaths.has(path)).length
const twice = paths.filter(([, n]) => Number(n) > 1).length
const unacknowledged = paths.filter(([path]) => !accepted.has(path)).length
const total = await count(`SELECT count() FROM events WHERE ${where}`)
const ids = await count(`SELECT uniqExact(event_id) FROM events WHERE ${where}`)
const pageDays = await count(`SELECT sum(events) FROM page_days WHERE site_domain = '${SITE}' AND name = 'Soak'`)
const active = await count(`SELECT sum(arraySum(visit.active)) FROM visitor_days FINAL WHERE site_domain = '${SITE}'`)
log(`drained in ${drained.toFixed(0)} s`)
console.log(
  JSON.stringify(
    {
      duration_s: duration,
      clients,
      accepted: accepted.size,
      accepted_per_s: Math.round(accepted.size / sendSeconds),
      refused_or_unanswered: refused,
      stored_rows: total,
      distinct_event_ids: ids,
      accepted_missing: missing,
      stored_twice: twice,
      stored_but_unacknowledged: unacknowledged,
      page_days_events: pageDays,
      visitor_days_active: active,
      drain_s: Math.round(drained)
    },
    null,
    2
  )
)
await stopWorker()
await killClickhouse()
rmSync(dir, { recursive: true, force: true })
const exact = missing === 0 && twice === 0 && ids === total && pageDays === total && active === total
console.log(exact ? 'soak: every accepted event stored exactly once' : 'soak: FAILED')
process.exit(exact ? 0 : 1)
