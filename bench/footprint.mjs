#!/usr/bin/env node
// The self-hosted stack's footprint (docs/scaling.md): `scripts/selfhost.mjs`
// with REPLICAS replicas, a control instance, the round-robin proxy and the
// embedded ClickHouse, in a scratch directory. Measures each process's
// resident memory and CPU (from /proc) idle for SECONDS, then under a paced
// load of RATE events/s for SECONDS; then loads EVENTS generated events
// (bench's generator: 30 days of a portal) and reads ClickHouse's bytes on
// disk per stored event, by table.
// Usage: node bench/footprint.mjs [--replicas 2] [--rate 500] [--seconds 60] [--events 10000000]
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminClient } from '../scripts/lib/admin.mjs'
import { clickhouseFromEnv, localClickhousePassword, query } from '../scripts/lib/clickhouse.mjs'
import { generateEvents, insertEvents } from '../scripts/lib/events.mjs'
import { freePort } from '../scripts/lib/net.mjs'
import { root } from '../scripts/lib/paths.mjs'

const option = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`)
  return index >= 0 ? Number(process.argv[index + 1]) : fallback
}
const replicas = option('replicas', 2)
const rate = option('rate', 500)
const seconds = option('seconds', 60)
const events = option('events', 10_000_000)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const TOKEN = 'footprint-admin-token-0123456789abcdef'

const dir = mkdtempSync(join(tmpdir(), 'footprint-'))
const dataDir = join(dir, 'data')
const port = await freePort()
const chPort = await freePort()
const base = `http://127.0.0.1:${port}`
writeFileSync(
  join(dir, 'selfhost.env'),
  [
    `LISTEN=127.0.0.1:${port}`,
    `REPLICAS=${replicas}`,
    `DATA_DIR=${dataDir}`,
    `CLICKHOUSE_LOCAL_PORT=${chPort}`,
    `ADMIN_TOKEN=${TOKEN}`,
    'CONTROL_TOKEN=footprint-control-token-0123456789abcdef',
    'TRUSTED_PROXY=forwarded'
  ].join('\n')
)
const stack = spawn(process.execPath, [join(root, 'scripts/selfhost.mjs'), '--config', join(dir, 'selfhost.env')], {
  stdio: ['ignore', 'pipe', 'inherit']
})
await new Promise((resolve, reject) => {
  let out = ''
  stack.stdout.on('data', (chunk) => {
    out += chunk
    if (out.includes('selfhost: ready')) resolve()
  })
  stack.on('exit', (code) => reject(new Error(`selfhost exited ${code}`)))
})
await adminClient(base, TOKEN).putSite('backstage.fawkes.idp')

// the processes: each workerd (pid files), ClickHouse, the launcher with its proxy
const pids = () => ({
  ...Object.fromEntries(
    readdirSync(dataDir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => [f.slice(0, -4), Number(readFileSync(join(dataDir, f), 'utf8'))])
  ),
  'launcher + proxy': stack.pid
})
const TICKS = 100 // USER_HZ on Linux
function sample() {
  const out = {}
  for (const [name, pid] of Object.entries(pids())) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
      const rss = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) * 1024
      out[name] = { cpu: (Number(stat[11]) + Number(stat[12])) / TICKS, rss }
    } catch {
      // gone
    }
  }
  return out
}
async function measure(what, during) {
  const before = sample()
  const started = performance.now()
  let peak = {}
  const timer = setInterval(() => {
    for (const [name, { rss }] of Object.entries(sample())) peak[name] = Math.max(peak[name] || 0, rss)
  }, 1000)
  const result = await during()
  clearInterval(timer)
  const elapsed = (performance.now() - started) / 1000
  const after = sample()
  const rows = Object.keys(after).map((name) => ({
    name,
    cpu: (after[name].cpu - (before[name]?.cpu ?? 0)) / elapsed,
    rss: Math.max(peak[name] || 0, after[name].rss)
  }))
  const total = rows.reduce((sum, r) => ({ cpu: sum.cpu + r.cpu, rss: sum.rss + r.rss }), { cpu: 0, rss: 0 })
  console.log(`\n${what} (${elapsed.toFixed(0)} s)${result ? `: ${result}` : ''}`)
  console.log('| process | CPU (cores) | peak RSS (MiB) |\n|---|---:|---:|')
  for (const r of [...rows, { name: '**total**', ...total }])
    console.log(`| ${r.name} | ${r.cpu.toFixed(3)} | ${(r.rss / 1048576).toFixed(0)} |`)
  peak = {}
}

await sleep(5000)
await measure('idle', () => sleep(seconds * 1000))

await measure(`${rate} events/s`, async () => {
  let sent = 0
  let accepted = 0
  const started = performance.now()
  const inflight = new Set()
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate)
    while (sent < due) {
      sent++
      const request = fetch(`${base}/api/event`, {
        method: 'POST',
        headers: {
          'Content-Type': 'text/plain',
          'User-Agent': `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.${sent % 500}.0 Safari/537.36`
        },
        body: JSON.stringify({
          n: 'pageview',
          u: `https://backstage.fawkes.idp/catalog/${sent % 200}`,
          d: 'backstage.fawkes.idp'
        })
      })
        .then((r) => {
          if (r.status === 202) accepted++
          return r.arrayBuffer()
        })
        .catch(() => {})
        .finally(() => inflight.delete(request))
      inflight.add(request)
    }
    await sleep(5)
  }
  await Promise.all(inflight)
  return `${sent} sent, ${accepted} accepted (${(accepted / seconds).toFixed(0)}/s)`
})

// bytes per stored event at EVENTS generated events
const clickhouse = clickhouseFromEnv({
  CLICKHOUSE_URL: `http://127.0.0.1:${chPort}`,
  CLICKHOUSE_PASSWORD: localClickhousePassword()
})
const loadStarted = performance.now()
await insertEvents(clickhouse, generateEvents({ count: events, days: 365, end: Date.now(), seed: 7 }), {
  onBatch: (done) => process.stderr.write(`\r  ${Math.round((done / events) * 100)} %`)
})
const loadSeconds = (performance.now() - loadStarted) / 1000
// the stored visits too, as the consumer keeps them: a month at a time (each within ClickHouse's timeout)
const day = (ms) => new Date(ms).toISOString().slice(0, 10)
for (let from = Date.now() - 366 * 86_400_000; from < Date.now() + 86_400_000; from += 30 * 86_400_000)
  await adminClient(base, TOKEN).rebuildVisits(day(from), day(from + 29 * 86_400_000))
await query(clickhouse, 'OPTIMIZE TABLE events FINAL')
await query(clickhouse, 'OPTIMIZE TABLE page_days FINAL')
const parts = await query(
  clickhouse,
  `SELECT table, sum(rows), sum(bytes_on_disk), sum(data_uncompressed_bytes) FROM system.parts
   WHERE database = {db:String} AND active GROUP BY table ORDER BY table FORMAT TSV`,
  { params: { db: clickhouse.database } }
)
const stored = Number(await query(clickhouse, 'SELECT count() FROM events'))
console.log(
  `\n${events.toLocaleString('en-US')} generated events inserted in ${loadSeconds.toFixed(0)} s (${(events / loadSeconds).toFixed(0)} rows/s); ${stored.toLocaleString('en-US')} in events`
)
console.log('| table | rows | on disk (MiB) | bytes per stored event | uncompressed (MiB) |\n|---|---:|---:|---:|---:|')
let disk = 0
for (const line of parts.trim().split('\n')) {
  const [table, rows, bytes, raw] = line.split('\t')
  disk += Number(bytes)
  console.log(
    `| ${table} | ${Number(rows).toLocaleString('en-US')} | ${(bytes / 1048576).toFixed(1)} | ${(bytes / stored).toFixed(1)} | ${(raw / 1048576).toFixed(1)} |`
  )
}
console.log(`| **all** | | ${(disk / 1048576).toFixed(1)} | **${(disk / stored).toFixed(1)}** | |`)
stack.kill('SIGTERM')
await sleep(1000)
process.exit(0)
