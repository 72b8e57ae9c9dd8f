#!/usr/bin/env node
// Ingest throughput side by side, in one run under the same workerd, rounds interleaved:
//   minimal     a JS Worker that reads the body and answers 202 (bench/minimal-worker.js): workerd's own cost
//   …behind the front, …queueing   the same behind deploy/workerd/front.js, or sending each event to
//               workerd's queue (bench/minimal-queue-worker.js): what those two hops cost
//   accepting   the edge Worker (the self-hosted `single` role) with its queue not consumed: the accepting path alone
//   delivering  the same with its queue delivering into ClickHouse on the same cores, as self-hosted
// For each: events/s under the load, the workerd process's CPU per event, and for `delivering` the
// time until every accepted event is stored (events/s end to end) and ClickHouse's insert count.
// Usage: node bench/ingest-throughput.mjs [REQUESTS=3000] [CLIENTS=32] [ROUNDS=3]
//   (CLICKHOUSE_URL/CLICKHOUSE_PASSWORD: a ClickHouse with the schema; build first: node scripts/build-worker.mjs)
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { adminClient } from '../scripts/lib/admin.mjs'
import { clickhouseFromEnv, query } from '../scripts/lib/clickhouse.mjs'
import { freePort } from '../scripts/lib/net.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { EVENTS_QUEUE_BINDING, frontWorker, queuesWorker, workerdConfig } from '../scripts/lib/workerd.mjs'
import { describe, load } from './lib/load.mjs'

const [requests = 3000, clients = 32, rounds = 3] = process.argv.slice(2).map(Number)
const clickhouse = clickhouseFromEnv()
const adminToken = 'ingest-bench-admin-token-0123456789'
const dir = mkdtempSync(join(tmpdir(), 'ingest-bench-'))
const processes = []
const stop = () => {
  for (const child of processes) child.kill('SIGTERM')
}
process.on('exit', stop)
process.on('SIGINT', () => process.exit(130))

/** Starts workerd with `config` (text) in its own directory; resolves with its pid and URL once it answers. */
async function workerd(name, config, port) {
  const home = join(dir, name)
  mkdirSync(join(home, 'storage'), { recursive: true })
  const file = join(home, 'config.capnp')
  writeFileSync(file, config(home))
  const child = spawn(join(root, 'node_modules/.bin/workerd'), ['serve', '--experimental', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      ADMIN_TOKEN: adminToken,
      CLICKHOUSE_URL: clickhouse.url.href,
      CLICKHOUSE_PASSWORD: clickhouse.password
    }
  })
  processes.push(child)
  const url = `http://127.0.0.1:${port}`
  for (let attempt = 0; ; attempt++) {
    try {
      await fetch(url)
      return { name, url, pid: child.pid }
    } catch (error) {
      if (attempt > 240) throw error
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

const edgeConfig = (port, consume) => (home) =>
  workerdConfig({
    role: 'single',
    listen: `127.0.0.1:${port}`,
    build: relative(home, join(root, 'edge/worker/build')),
    front: relative(home, join(root, 'deploy/workerd/front.js')),
    www: join(root, 'www'),
    storage: join(home, 'storage'),
    consume
  })
/**
 * A minimal Worker's config: alone on its socket; or behind the self-hosted front, as the edge
 * Worker is (`front`); or sending each event to workerd's queue, as the edge Worker does (`queue`).
 */
const minimalConfig =
  (port, { front = false, queue = false } = {}) =>
  (home) => {
    const at = (path) => JSON.stringify(relative(home, join(root, path)))
    const services = ['(name = "minimal", worker = .minimal)']
    if (front)
      services.push(
        '(name = "front", worker = .front)',
        `(name = "www", disk = (path = ${JSON.stringify(join(root, 'www'))}))`
      )
    if (queue)
      services.push(
        '(name = "queues", worker = .queues)',
        `(name = "disk", disk = (path = ${JSON.stringify(join(home, 'storage'))}, writable = true))`
      )
    let config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [${services.join(', ')}],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "${front ? 'front' : 'minimal'}")],
);
const minimal :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [(name = "minimal.js", esModule = embed ${at(queue ? 'bench/minimal-queue-worker.js' : 'bench/minimal-worker.js')})],
  ${queue ? `bindings = [${EVENTS_QUEUE_BINDING}],` : ''}
);
`
    // the same front and queue as the edge Worker's (scripts/lib/workerd.mjs), before the minimal one
    if (front) config += frontWorker(relative(home, join(root, 'deploy/workerd/front.js')), 'minimal')
    if (queue) config += queuesWorker('{}', 'minimal')
    return config
  }

/** CPU seconds used so far by process `pid` (user + system). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const stored = async () =>
  Number(
    await query(
      clickhouse,
      "SELECT count() FROM events WHERE site_domain = 'backstage.fawkes.idp' AND utm_source = 'bench'"
    )
  )

const ports = []
for (let i = 0; i < 5; i++) ports.push(await freePort())
const minimal = await workerd('minimal', minimalConfig(ports[0]), ports[0])
const fronted = await workerd('minimal behind the front', minimalConfig(ports[1], { front: true }), ports[1])
const queueing = await workerd('minimal, queueing', minimalConfig(ports[2], { queue: true }), ports[2])
const accepting = await workerd('accepting', edgeConfig(ports[3], false), ports[3])
const delivering = await workerd('delivering', edgeConfig(ports[4], true), ports[4])
for (const edge of [accepting, delivering]) await adminClient(edge.url, adminToken).putSite('backstage.fawkes.idp')

const targets = [minimal, fronted, queueing, accepting, delivering]
const results = Object.fromEntries(targets.map((target) => [target.name, []]))
let expected = await stored()
for (let round = 1; round <= rounds; round++) {
  for (const target of targets) {
    const cpuBefore = cpuSeconds(target.pid)
    const started = performance.now()
    const result = await load(target.url, requests, clients)
    result.cpuPerEvent = ((cpuSeconds(target.pid) - cpuBefore) / requests) * 1e6
    if (target === delivering) {
      expected += result.statuses[202] ?? 0
      // every accepted event stored: the end-to-end rate
      const deadline = Date.now() + 300_000
      while ((await stored()) < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      result.storedPerSecond = requests / ((performance.now() - started) / 1000)
      result.cpuPerEventWithDelivery = ((cpuSeconds(target.pid) - cpuBefore) / requests) * 1e6
    }
    results[target.name].push(result)
    console.log(
      `round ${round} ${target.name}: ${describe(result)}; workerd CPU ${result.cpuPerEvent.toFixed(0)} µs/event${
        result.storedPerSecond
          ? `; all stored after ${(requests / result.storedPerSecond).toFixed(2)} s: ${result.storedPerSecond.toFixed(0)} events/s end to end (workerd CPU with delivery ${result.cpuPerEventWithDelivery.toFixed(0)} µs/event)`
          : ''
      }`
    )
  }
}
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
const base = median(results.minimal.map((r) => r.perSecond))
console.log(
  `\n${requests} events × ${rounds} rounds, ${clients} clients, ${new Date().toISOString().slice(0, 10)}, medians:`
)
console.log(
  '| Worker | events/s | × minimal | p50 ms | p95 ms | workerd CPU µs/event |\n|---|---:|---:|---:|---:|---:|'
)
for (const [name, list] of Object.entries(results)) {
  const perSecond = median(list.map((r) => r.perSecond))
  console.log(
    `| ${name} | ${perSecond.toFixed(0)} | ${(perSecond / base).toFixed(2)} | ${median(list.map((r) => r.p50)).toFixed(1)} | ${median(list.map((r) => r.p95)).toFixed(1)} | ${median(list.map((r) => r.cpuPerEvent)).toFixed(0)} |`
  )
}
const endToEnd = median(results.delivering.map((r) => r.storedPerSecond))
console.log(`| delivering, until stored | ${endToEnd.toFixed(0)} | ${(endToEnd / base).toFixed(2)} | | | |`)
process.exit(0)
