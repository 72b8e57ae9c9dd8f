#!/usr/bin/env node
// The same worker build under bare `workerd` (no wrangler): the self-hosted
// path. Writes a workerd config for edge/worker/build (node scripts/build-worker.mjs
// first), with workerd's bundled Queues Worker (/workerd/queues.js) as the
// queue and Durable Object storage on a local disk, and runs it.
// Usage: node bench/workerd.mjs [PORT=8788]   (CLICKHOUSE_URL, default http://127.0.0.1:8123)
// Then: node bench/edge-load.mjs http://127.0.0.1:PORT 3000 32
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path' // embed paths are relative to the config (in target/workerd)
import { adminClient } from '../scripts/lib/admin.mjs'
import { clickhouseFromEnv } from '../scripts/lib/clickhouse.mjs'
import { root } from '../scripts/lib/paths.mjs'

const port = Number(process.argv[2] || 8788)
const dir = join(root, 'target/workerd')
const disk = join(dir, 'storage')
mkdirSync(disk, { recursive: true })
// the admin API's token for this local run; the sites are created through it below
const adminToken = process.env.ADMIN_TOKEN || 'workerd-bench-admin-token-0123456789'
const consumers = JSON.stringify({
  events: { consumer: 'EDGE', maxBatchSize: 100, maxBatchTimeout: 2, maxRetries: 100, deadLetterQueue: 'events-dlq' }
})
const capnp = (s) => JSON.stringify(s) // capnp text literals take JSON's escapes

const config = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    (name = "queues", worker = .queues),
    (name = "internet", network = (allow = ["public", "private", "local"])),
    (name = "disk", disk = (path = ${capnp(disk)}, writable = true)),
  ],
  sockets = [(name = "http", address = ${capnp(`127.0.0.1:${port}`)}, http = (), service = "edge")],
);

const edge :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [
    (name = "index.js", esModule = embed "../../edge/worker/build/index.js"),
    (name = "index_bg.wasm", wasm = embed "../../edge/worker/build/index_bg.wasm"),
  ],
  bindings = [
    (name = "ADMIN_TOKEN", text = ${capnp(adminToken)}),
    (name = "CLICKHOUSE_URL", text = ${capnp(process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123')}),
    (name = "CLICKHOUSE_DATABASE", text = "analytics"),
    (name = "CLICKHOUSE_PASSWORD", text = ${capnp(clickhouseFromEnv().password)}),
    # the Queues Worker takes the queue's name from the binding's props
    (name = "EVENTS", queue = (name = "queues", props = (json = "{\\"queue\\": \\"events\\"}"))),
    (name = "SALTS", durableObjectNamespace = "DailySalts"),
    (name = "SITE_SETTINGS", durableObjectNamespace = "SiteSettings"),
  ],
  durableObjectNamespaces = [
    # the key-value backend, as on Cloudflare (wrangler.toml, migration v3)
    (className = "DailySalts", uniqueKey = "edge-analytics-salts", enableSql = false),
    (className = "SiteSettings", uniqueKey = "edge-analytics-settings", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "disk"),
  globalOutbound = "internet",
);

const queues :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  compatibilityFlags = ["service_binding_extra_handlers"],
  modules = [(name = "queues.js", bundled = "/workerd/queues.js")],
  bindings = [
    (name = "SHARD", durableObjectNamespace = "QueueShard"),
    (name = "CONSUMERS", json = ${capnp(consumers)}),
    (name = "EDGE", service = "edge"),
  ],
  durableObjectNamespaces = [(className = "QueueShard", uniqueKey = "edge-analytics-queues", enableSql = true)],
  durableObjectStorage = (localDisk = "disk"),
);
`
const file = join(dir, 'config.capnp')
writeFileSync(file, config)
console.log(`workerd: ${file}, listening on http://127.0.0.1:${port}`)
const child = spawn(join(root, 'node_modules/.bin/workerd'), ['serve', '--experimental', file], { stdio: 'inherit' })
process.on('SIGINT', () => child.kill('SIGTERM'))
process.on('SIGTERM', () => child.kill('SIGTERM'))
child.on('exit', (code) => process.exit(code ?? 0))
// the benchmark's sites, once the Worker answers
const admin = adminClient(`http://127.0.0.1:${port}`, adminToken)
for (let attempt = 0; ; attempt++) {
  try {
    for (const site of ['backstage.fawkes.idp', 'portal.test']) await admin.putSite(site)
    console.log('workerd: sites backstage.fawkes.idp and portal.test configured')
    break
  } catch (error) {
    if (attempt > 120) throw error
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
