// Runs the edge worker under `wrangler dev` (workerd, local queue, local
// Durable Object) against a given ClickHouse; wrangler builds it first with
// the [build] command of wrangler.toml.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { root } from '../../scripts/lib/paths.mjs'
import { adminClient } from '../../scripts/lib/admin.mjs'

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef'

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

// `sites` are created through the admin API once the Worker is up (UTC, no
// goals; pass objects {domain, timezone, goals, retention} for more);
// `persistTo` keeps the Durable Objects' state (settings, salts) between starts.
export async function startEdge({
  clickhouseUrl,
  sites = ['backstage.fawkes.idp', 'portal.test'],
  persistTo = mkdtempSync(join(tmpdir(), 'edge-state-')),
  vars = {}
}) {
  const port = await freePort()
  const inspector = await freePort()
  let log = ''
  const child = spawn(
    join(root, 'node_modules/.bin/wrangler'),
    [
      'dev',
      '--local',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspector),
      '--test-scheduled',
      '--show-interactive-dev-session=false',
      '--var',
      `CLICKHOUSE_URL:${clickhouseUrl}`,
      '--var',
      `ADMIN_TOKEN:${TEST_ADMIN_TOKEN}`,
      '--persist-to',
      persistTo,
      ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`])
    ],
    {
      cwd: root,
      // node_modules/.bin first: wrangler needs the Node 22 that npm installed there
      env: {
        ...process.env,
        PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}`,
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_SEND_ERROR_REPORTS: 'false',
        DO_NOT_TRACK: '1',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  child.stdout.on('data', (chunk) => (log += chunk))
  child.stderr.on('data', (chunk) => (log += chunk))
  const url = `http://127.0.0.1:${port}`
  // the first start builds the worker (a cold cargo build on a new machine)
  const deadline = Date.now() + 480_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${log}`)
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${log}`)
    try {
      const response = await fetch(`${url}/api/health`)
      if (response.status === 200 || response.status === 503) break
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  const admin = adminClient(url, TEST_ADMIN_TOKEN)
  for (const site of sites) {
    const { domain, ...settings } = typeof site === 'string' ? { domain: site } : site
    await admin.putSite(domain, settings)
  }
  return {
    url,
    admin,
    persistTo,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGTERM')
      })
  }
}
