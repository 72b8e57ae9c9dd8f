#!/usr/bin/env node
// The Worker under bare workerd, one process (the self-hosted `single` role:
// scripts/lib/workerd.mjs), for the benchmarks: workerd's bundled Queues
// Worker as the queue, Durable Objects on a local disk. The self-hosted
// command itself is scripts/selfhost.mjs; this one skips its checks and makes
// the benchmark's sites. Build first: node scripts/build-worker.mjs.
// Usage: node bench/workerd.mjs [PORT=8788]   (CLICKHOUSE_URL, default http://127.0.0.1:8123)
// Then: node bench/edge-load.mjs http://127.0.0.1:PORT 3000 32
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { adminClient } from '../scripts/lib/admin.mjs'
import { clickhouseFromEnv } from '../scripts/lib/clickhouse.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { workerdConfig } from '../scripts/lib/workerd.mjs'

const port = Number(process.argv[2] || 8788)
const dir = join(root, 'target/workerd')
const storage = join(dir, 'storage')
mkdirSync(storage, { recursive: true })
// the admin API's token for this local run; the sites are created through it below
const adminToken = process.env.ADMIN_TOKEN || 'workerd-bench-admin-token-0123456789'
const file = join(dir, 'config.capnp')
writeFileSync(
  file,
  workerdConfig({
    role: 'single',
    listen: `127.0.0.1:${port}`,
    build: '../../edge/worker/build', // embed paths are relative to the config
    front: '../../deploy/workerd/front.js',
    www: join(root, 'www'),
    storage
  })
)
const clickhouse = clickhouseFromEnv()
const env = {
  ...process.env,
  ADMIN_TOKEN: adminToken,
  CLICKHOUSE_URL: clickhouse.url.href,
  CLICKHOUSE_PASSWORD: clickhouse.password
}
console.log(`workerd: ${file}, listening on http://127.0.0.1:${port}`)
const child = spawn(join(root, 'node_modules/.bin/workerd'), ['serve', '--experimental', file], {
  stdio: 'inherit',
  env
})
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
