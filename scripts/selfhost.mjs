#!/usr/bin/env node
// Self-hosting on one machine: the same Worker build under bare workerd, with
// a real ClickHouse (CLICKHOUSE_URL) or, without one, the embedded local
// ClickHouse (chDB). Configured from one file (deploy/selfhost.env.example
// says what each setting does); docs/self-hosting.md has the design.
//   REPLICAS=1: one workerd process holds everything.
//   REPLICAS=N: one control process holds the daily salts and the site
//   settings, N replica processes (each with its own queue on its own disk).
//   Either way the launcher's proxy listens on LISTEN (it gives the Worker the
//   client's address: workerd sees none), and a process that exits is started
//   again on the same disk, as Kubernetes would.
// Bad configuration stops start-up with one line naming the setting.
// Usage: node scripts/selfhost.mjs [--config selfhost.env]
import { spawn } from 'node:child_process'
import { isIP } from 'node:net'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { buildDashboard, buildTracker, buildWorker } from './lib/build.mjs'
import { clickhouseFromEnv, localClickhousePassword, migrate, query } from './lib/clickhouse.mjs'
import { root } from './lib/paths.mjs'
import { answer, freePort } from './lib/net.mjs'
import { roundRobinProxy } from './lib/proxy.mjs'
import { readEnvFile } from './lib/envfile.mjs'
import { WORKER_VARIABLES, workerdConfig } from './lib/workerd.mjs'

const LAUNCHER_SETTINGS = ['LISTEN', 'REPLICAS', 'DATA_DIR', 'CLICKHOUSE_LOCAL_PORT', 'TLS_PROXY']

function fail(line) {
  console.error(`selfhost: ${line}`)
  stopAll()
  process.exit(1)
}

const args = process.argv.slice(2)
const configFile = resolve(args[args.indexOf('--config') + 1 || args.length] ?? 'selfhost.env')
if (args.includes('--config') && !args[args.indexOf('--config') + 1]) fail('--config needs a file')
if (!existsSync(configFile))
  fail(`no configuration file ${configFile}: copy deploy/selfhost.env.example there and fill it in`)
let settings
try {
  settings = readEnvFile(readFileSync(configFile, 'utf8'), [...WORKER_VARIABLES, ...LAUNCHER_SETTINGS])
} catch (error) {
  fail(`${relative(process.cwd(), configFile)}: ${error.message}`)
}

// the launcher's own settings, validated before anything starts
const listen = settings.LISTEN || '127.0.0.1:8080'
const listenMatch = listen.match(/^(.+):(\d{1,5})$/)
if (!listenMatch || Number(listenMatch[2]) > 65535) fail(`LISTEN must be host:port, not ${JSON.stringify(listen)}`)
const replicas = Number(settings.REPLICAS || 1)
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16)
  fail(`REPLICAS must be a whole number from 1 to 16, not ${JSON.stringify(settings.REPLICAS)}`)
const dataDir = resolve(root, settings.DATA_DIR || '.data/selfhost')
if (settings.TLS_PROXY && !isIP(settings.TLS_PROXY))
  fail(
    `TLS_PROXY must be the IP address of the TLS terminator in front of LISTEN, not ${JSON.stringify(settings.TLS_PROXY)}`
  )
if (!settings.ADMIN_TOKEN) fail('ADMIN_TOKEN is required: the admin API is how sites, goals and keys are made')
if (replicas > 1 && !settings.CONTROL_TOKEN)
  fail('CONTROL_TOKEN is required with REPLICAS > 1: the replicas show it to the control instance')

const children = new Map() // name → child process
let stopping = false
function stopAll() {
  stopping = true
  for (const child of children.values()) child.kill('SIGTERM')
}
process.on('SIGINT', () => {
  stopAll()
  setTimeout(() => process.exit(0), 300)
})
process.on('SIGTERM', () => {
  stopAll()
  setTimeout(() => process.exit(0), 300)
})

function start(name, command, commandArgs, env, { restart = false } = {}) {
  const child = spawn(command, commandArgs, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  child.log = ''
  const prefix = (chunk) => chunk.toString().replace(/^(?=.)/gm, `[${name}] `)
  child.stdout.on('data', (chunk) => process.stdout.write(prefix(chunk)))
  child.stderr.on('data', (chunk) => {
    child.log = (child.log + chunk).slice(-20_000)
    process.stderr.write(prefix(chunk))
  })
  child.on('exit', (code, signal) => {
    if (stopping) return
    if (restart) {
      console.error(`selfhost: ${name} exited (${signal || code}); starting it again on the same disk`)
      setTimeout(() => !stopping && start(name, command, commandArgs, env, { restart }), 500)
    } else fail(`${name} exited (${signal || code})`)
  })
  children.set(name, child)
  writeFileSync(join(dataDir, `${name}.pid`), `${child.pid}\n`)
  return child
}

/** The message of the Worker's last structured log line from `source` (edge/worker/src/log.rs). */
function loggedError(log, source) {
  let found
  for (const line of log.split('\n')) {
    const start = line.indexOf('{"level"')
    if (start < 0) continue
    try {
      const entry = JSON.parse(line.slice(start))
      if (entry.source === source) found = entry.message
    } catch {
      // not one of the Worker's lines
    }
  }
  return found
}

mkdirSync(dataDir, { recursive: true })

// ClickHouse: the configured server, or the embedded one
const env = { ...process.env }
for (const name of WORKER_VARIABLES) delete env[name]
for (const [name, value] of Object.entries(settings)) if (WORKER_VARIABLES.includes(name)) env[name] = value
if (!settings.CLICKHOUSE_URL) {
  const port = Number(settings.CLICKHOUSE_LOCAL_PORT || 8123)
  env.CLICKHOUSE_URL = `http://127.0.0.1:${port}`
  env.CLICKHOUSE_PASSWORD = localClickhousePassword()
  start(
    'clickhouse',
    'python3',
    [join(root, 'clickhouse/server.py'), '--port', String(port), '--data', join(dataDir, 'clickhouse')],
    env
  )
  await answer(`${env.CLICKHOUSE_URL}/ping`, { seconds: 60 }).catch(() => fail('the local ClickHouse did not start'))
}
// the one build: the Worker, the tracker and the dashboard
if (!existsSync(join(root, 'edge/worker/build/index.js')) || args.includes('--build')) await buildWorker()
if (!existsSync(join(root, 'www/js/script.js'))) await buildTracker()
if (!existsSync(join(root, 'www/dashboard/index.html'))) await buildDashboard()

// one workerd config per process, written beside its disk
const workerd = join(root, 'node_modules/.bin/workerd')
const [, listenHost, listenPort] = listenMatch
const ports = [] // the replicas' own ports, behind the proxy
function writeConfig(name, options) {
  const dir = join(dataDir, name)
  mkdirSync(join(dir, 'storage'), { recursive: true })
  const rel = (path) => relative(dir, path)
  const file = join(dir, 'workerd.capnp')
  writeFileSync(
    file,
    workerdConfig({
      ...options,
      build: rel(join(root, 'edge/worker/build')),
      front: rel(join(root, 'deploy/workerd/front.js')),
      www: join(root, 'www'),
      storage: join(dir, 'storage')
    })
  )
  return file
}
const serve = (file) => ['serve', '--experimental', file]

// ports for the processes behind the proxy: never LISTEN's, nor one given out already
const taken = new Set([Number(listenPort), Number(settings.CLICKHOUSE_LOCAL_PORT || 8123)])
async function internalPort() {
  for (;;) {
    const port = await freePort()
    if (!taken.has(port)) {
      taken.add(port)
      return port
    }
  }
}

const processes = [] // [name, base URL]
if (replicas === 1) {
  // behind the proxy too: workerd sees no client address of its own, the proxy passes it on
  const port = await internalPort()
  ports.push(port)
  const file = writeConfig('single', { role: 'single', listen: `127.0.0.1:${port}` })
  start('single', workerd, serve(file), { ...env, TRUSTED_PROXY: 'forwarded' }, { restart: true })
  processes.push(['single', `http://127.0.0.1:${port}`])
} else {
  const controlPort = await internalPort()
  const file = writeConfig('control', { role: 'control', internal: `127.0.0.1:${controlPort}` })
  start('control', workerd, serve(file), env, { restart: true })
  processes.push(['control', `http://127.0.0.1:${controlPort}`])
  for (let i = 1; i <= replicas; i++) {
    const port = await internalPort()
    ports.push(port)
    const name = `replica-${i}`
    const replicaFile = writeConfig(name, {
      role: 'replica',
      listen: `127.0.0.1:${port}`,
      control: `127.0.0.1:${controlPort}`
    })
    start(name, workerd, serve(replicaFile), { ...env, TRUSTED_PROXY: 'forwarded' }, { restart: true })
    processes.push([name, `http://127.0.0.1:${port}`])
  }
}

// up when every process answers its health check; a misconfigured Worker stops start-up
for (const [name, base] of processes) {
  const response = await answer(`${base}/api/health`, { seconds: 60 }).catch(() => fail(`${name} did not start`))
  if (response.status === 500) {
    fail(loggedError(children.get(name).log, 'health') ?? (await response.json()).error)
  }
  if (response.status === 503)
    fail(`CLICKHOUSE_URL: ${(await response.json()).clickhouse} (checked by ${name} at start-up)`)
}
// the writer's login, then the schema (idempotent)
const clickhouse = clickhouseFromEnv(env)
try {
  await query(clickhouse, 'SELECT 1', { database: 'default' })
} catch (error) {
  const refused = /code (192|193|516)\b/.test(error.message)
  fail(
    refused
      ? `CLICKHOUSE_USER / CLICKHOUSE_PASSWORD: ClickHouse at ${clickhouse.url.origin} refused the login`
      : `CLICKHOUSE_URL: ClickHouse at ${clickhouse.url.origin} cannot be reached (${error.cause?.code || error.message})`
  )
}

await migrate(clickhouse, { log: (line) => console.log(`selfhost: ${line}`) }).catch((error) => fail(error.message))
await roundRobinProxy({
  host: listenHost,
  port: Number(listenPort),
  upstreams: () => ports,
  tlsProxy: settings.TLS_PROXY || ''
}).catch((error) => fail(`LISTEN: cannot listen on ${listen} (${error.code || error.message})`))

// bare workerd has no cron trigger: the retention, rollup, notifications and export passes, hourly
const base = `http://${listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost}:${listenPort}`
const pass = (name) =>
  fetch(`${base}/api/admin/${name}/run`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${settings.ADMIN_TOKEN}` }
  })
    // 409: a pass with nothing configured (no EXPORT_URL)
    .then((r) => r.ok || r.status === 409 || console.error(`selfhost: ${name} pass: ${r.status}`))
    .catch((error) => console.error(`selfhost: ${name} pass: ${error.message}`))
setInterval(
  () =>
    pass('retention')
      .then(() => pass('rollups'))
      .then(() => pass('notifications'))
      .then(() => pass('exports')),
  3_600_000
).unref()

console.log(`selfhost: ready on ${base} (${replicas === 1 ? 'one process' : `${replicas} replicas and a control instance`}; ClickHouse at ${clickhouse.url.origin})
  dashboard: ${base}/dashboard/   script tag: ${base}/js/script.js   health: ${base}/api/health
  state: ${dataDir}`)
