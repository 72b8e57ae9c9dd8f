// Runs the edge worker under `wrangler dev` (workerd, local queue, local
// Durable Object) against a given ClickHouse; wrangler builds it first with
// the [build] command of wrangler.toml.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { root } from '../../scripts/lib/paths.mjs'
import { adminClient } from '../../scripts/lib/admin.mjs'
import { wranglerDev } from '../../scripts/lib/wrangler.mjs'
import { freePort } from '../../scripts/lib/net.mjs'

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef'

export { freePort }

// `sites` are created through the admin API once the Worker is up (UTC, no
// goals, no minimum group size — the suites count a handful of visitors, and
// tests/privacy.test.mjs sets its own; pass objects {domain, timezone, goals,
// retention, min_group_size} for more);
// `persistTo` keeps the Durable Objects' state (settings, salts) between starts;
// the Worker is up once /api/health answers with one of `ready` (a 500 for a
// Worker started misconfigured on purpose); `port` when the address must be
// known before (a provider's redirect URI).
export async function startEdge(options) {
  // a port picked free may be taken again before wrangler binds it (another
  // suite's process): then start again on other ports
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEdgeOnce(options)
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test(error.message)) throw error
    }
  }
}

async function startEdgeOnce({
  clickhouseUrl,
  clickhousePassword = '',
  sites = ['backstage.fawkes.idp', 'portal.test'],
  persistTo = mkdtempSync(join(tmpdir(), 'edge-state-')),
  vars = {},
  ready = [200, 503],
  port: chosenPort
}) {
  const port = chosenPort ?? (await freePort())
  let log = ''
  const wrangler = wranglerDev({
    port,
    inspectorPort: await freePort(),
    persistTo,
    vars: {
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_PASSWORD: clickhousePassword,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      ...vars
    }
  })
  const child = spawn(wrangler.command, wrangler.args, {
    cwd: root,
    env: wrangler.env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout.on('data', (chunk) => (log += chunk))
  child.stderr.on('data', (chunk) => (log += chunk))
  const url = `http://127.0.0.1:${port}`
  // the first start builds the worker (a cold cargo build on a new machine)
  const deadline = Date.now() + 480_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${log}`)
    if (Date.now() > deadline) {
      // a wrangler left running would keep the test file from ever ending
      child.kill('SIGTERM')
      throw new Error(`wrangler dev did not start:\n${log}`)
    }
    try {
      const response = await fetch(`${url}/api/health`)
      if (ready.includes(response.status)) break
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  const admin = adminClient(url, TEST_ADMIN_TOKEN)
  try {
    for (const site of sites) {
      const { domain, ...settings } = typeof site === 'string' ? { domain: site } : site
      await admin.putSite(domain, { min_group_size: 1, ...settings })
    }
  } catch (error) {
    child.kill('SIGTERM')
    throw error
  }
  return {
    url,
    admin,
    persistTo,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        // one that has exited already sends no more exit event
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', resolve)
        child.kill('SIGTERM')
      })
  }
}
