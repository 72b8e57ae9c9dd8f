#!/usr/bin/env node
// The README's run command: builds the tracker, starts the local ClickHouse
// (chDB, data in .data/clickhouse), applies the migrations, and runs the edge
// worker under `wrangler dev` (which builds it and serves www/: the tracker and
// the demo portal). Ctrl-C stops everything. A second run reuses the builds
// and the data.
// Usage: npm start   (PORT=8787 and CLICKHOUSE_PORT=8123 by default;
//                     CLICKHOUSE_URL=… uses a real ClickHouse instead of the local one)
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { buildTracker } from './lib/build.mjs'
import { answer } from './lib/net.mjs'
import { root } from './lib/paths.mjs'
import { wranglerDev } from './lib/wrangler.mjs'
import { clickhouseFromEnv, localClickhousePassword, localPasswordFile, migrate, query } from './lib/clickhouse.mjs'
import { generateEvents, insertEvents } from './lib/events.mjs'
import { adminClient, adminTokenFile, BACKSTAGE_GOALS, BACKSTAGE_PROPS, hashPassword } from './lib/admin.mjs'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'

// the admin API's token for local runs, made once and kept in .data/ (git-ignored)
function localAdminToken() {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN
  if (!existsSync(adminTokenFile)) {
    mkdirSync(join(root, '.data'), { recursive: true })
    writeFileSync(adminTokenFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 })
  }
  return readFileSync(adminTokenFile, 'utf8').trim()
}
const adminToken = localAdminToken()
// the dashboard's login for local runs: user "admin", a password made once and kept in .data/
const passwordFile = join(root, '.data/admin-password')
if (!existsSync(passwordFile))
  writeFileSync(passwordFile, `${randomBytes(12).toString('base64url')}\n`, { mode: 0o600 })
const adminPassword = readFileSync(passwordFile, 'utf8').trim()
const apiKeyFile = join(root, '.data/api-key')

const port = Number(process.env.PORT || 8787)
const clickhousePort = Number(process.env.CLICKHOUSE_PORT || 8123)
const children = []

function start(name, command, args, env = {}) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const prefix = (chunk) => chunk.toString().replace(/^(?=.)/gm, `[${name}] `)
  child.stdout.on('data', (chunk) => process.stdout.write(prefix(chunk)))
  child.stderr.on('data', (chunk) => process.stderr.write(prefix(chunk)))
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`${name} exited (${code}); stopping`)
      stop(1)
    }
  })
  children.push(child)
  return child
}

let stopping = false
function stop(code = 0) {
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  setTimeout(() => process.exit(code), 500)
}
process.on('SIGINT', () => stop())
process.on('SIGTERM', () => stop())

// up once it answers below 500 (the worker's health is 503 while ClickHouse is not)
async function waitFor(url, what, seconds) {
  await answer(url, { seconds, accept: (response) => response.status < 500, everyMs: 500 }).catch(() => {
    throw new Error(`${what} did not come up at ${url}`)
  })
}

console.log('1/4 building the tracker (cargo → wasm-bindgen → wasm-opt → esbuild)…')
await buildTracker()

let clickhouseUrl = process.env.CLICKHOUSE_URL
// the local ClickHouse's password, made once and kept in .data (any web page may send to a local port)
let clickhousePassword = process.env.CLICKHOUSE_PASSWORD ?? ''
if (!clickhouseUrl) {
  console.log(`2/4 starting the local ClickHouse (chDB) on port ${clickhousePort}…`)
  clickhousePassword = localClickhousePassword()
  start(
    'clickhouse',
    'python3',
    [join(root, 'clickhouse/server.py'), '--port', String(clickhousePort), '--data', join(root, '.data/clickhouse')],
    { ...process.env, CLICKHOUSE_PASSWORD: clickhousePassword }
  )
  clickhouseUrl = `http://127.0.0.1:${clickhousePort}`
  await waitFor(`${clickhouseUrl}/ping`, 'ClickHouse', 60)
} else {
  console.log(`2/4 using ClickHouse at ${new URL(clickhouseUrl).origin}`)
}

console.log('3/4 applying migrations…')
const clickhouse = clickhouseFromEnv({
  ...process.env,
  CLICKHOUSE_URL: clickhouseUrl,
  CLICKHOUSE_PASSWORD: clickhousePassword
})
await migrate(clickhouse)

console.log('4/4 starting the edge worker under wrangler dev (the first build takes a minute or two)…')
const worker = wranglerDev({
  port,
  persistTo: join(root, '.data/wrangler'),
  vars: {
    CLICKHOUSE_URL: clickhouseUrl,
    CLICKHOUSE_PASSWORD: clickhousePassword,
    ADMIN_TOKEN: adminToken,
    ADMIN_PASSWORD_HASH: hashPassword(adminPassword)
  }
})
start('worker', worker.command, worker.args, worker.env)
await waitFor(`http://127.0.0.1:${port}/api/health`, 'the worker', 600)

// the demo site with the Backstage goals, and a Stats API key for it (kept in .data/api-key)
const admin = adminClient(`http://127.0.0.1:${port}`, adminToken)
// created once: a later run keeps what was changed since
const configured = new Set((await admin.settings()).sites.map((s) => s.domain))
if (!configured.has('backstage.fawkes.idp'))
  await admin.putSite('backstage.fawkes.idp', {
    timezone: 'Europe/Berlin',
    goals: BACKSTAGE_GOALS,
    props: BACKSTAGE_PROPS
  })
if (!configured.has('portal.test')) await admin.putSite('portal.test', {})
const keys = (await admin.settings()).keys
if (!existsSync(apiKeyFile) || !keys.some((k) => k.name === 'npm start')) {
  writeFileSync(apiKeyFile, `${(await admin.addKey(['backstage.fawkes.idp', 'portal.test'], 'npm start')).key}\n`, {
    mode: 0o600
  })
}
const apiKey = readFileSync(apiKeyFile, 'utf8').trim()

// 30 days of realistic demo traffic, once (a second run finds it and keeps it)
const held = Number(await query(clickhouse, "SELECT count() FROM events WHERE site_domain = 'backstage.fawkes.idp'"))
if (held < 1000) {
  const total = 60_000
  console.log(`seeding the demo site with ${total.toLocaleString('en-US')} generated events over the last 30 days…`)
  await insertEvents(clickhouse, generateEvents({ count: total, days: 30, end: Date.now() - 60_000, seed: 42 }), {
    batchSize: 10_000,
    onBatch: (done) => process.stdout.write(`\r  ${Math.round((done / total) * 100)} %`)
  })
  const day = (ms) => new Date(ms).toISOString().slice(0, 10)
  await admin.rebuildVisits(day(Date.now() - 32 * 86_400_000), day(Date.now() + 86_400_000))
  console.log('\r  done: events stored, visits computed')
}

console.log(`
Ready.
  demo portal:  http://localhost:${port}/          (click around; events go to the worker)
  dashboard:    http://localhost:${port}/dashboard/  user admin, password ${adminPassword}   (.data/admin-password)
  health:       http://localhost:${port}/api/health
  send one:     curl -X POST http://localhost:${port}/api/event -H 'Content-Type: text/plain' -A 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0' \\
                  -d '{"n":"Deploy Application","u":"https://backstage.fawkes.idp/create","d":"backstage.fawkes.idp","p":{"language":"nodejs"}}'
  see rows:     curl '${clickhouseUrl}/?database=analytics' -H "X-ClickHouse-Key: $(cat ${localPasswordFile})" --data 'SELECT timestamp, name, pathname, country_code, meta.key, meta.value FROM events ORDER BY timestamp DESC LIMIT 10 FORMAT PrettyCompact'
  Stats API:    curl http://localhost:${port}/api/v2/query -H 'Authorization: Bearer ${apiKey}' \\
                  -d '{"site_id":"backstage.fawkes.idp","metrics":["visitors","pageviews","bounce_rate"],"date_range":"7d","dimensions":["event:page"]}'
  admin CLI:    node scripts/admin.mjs settings   (EDGE_URL=http://localhost:${port}; token in .data/admin-token)
Ctrl-C stops everything.
`)
