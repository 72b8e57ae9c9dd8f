// Starts the local ClickHouse (clickhouse/server.py, chDB) for a test, on
// `port` (0: a free one), with its data in `dir`, and a password of its own
// (or env's CLICKHOUSE_PASSWORD); `env` of the result is what a client needs
// (CLICKHOUSE_URL, CLICKHOUSE_PASSWORD); `stop()` ends the process, keeping the data.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { clickhouseFromEnv, migrate } from '../../scripts/lib/clickhouse.mjs'
import { root } from '../../scripts/lib/paths.mjs'

/** One password per test run: a restarted server takes the same. */
const PASSWORD = randomBytes(16).toString('hex')

export async function startClickhouse(dir, env = {}, port = 0) {
  const password = env.CLICKHOUSE_PASSWORD ?? PASSWORD
  const child = spawn('python3', [join(root, 'clickhouse/server.py'), '--port', String(port), '--data', dir], {
    env: { ...process.env, ...env, CLICKHOUSE_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = out.match(/on (http:\/\/[\d.]+:\d+)/)
      if (match) resolve(match[1])
    })
    child.on('exit', (code) => reject(new Error(`clickhouse/server.py exited with ${code}`)))
  })
  return {
    url,
    password,
    env: { CLICKHOUSE_URL: url, CLICKHOUSE_PASSWORD: password },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGTERM')
      })
  }
}

/** The local ClickHouse with the schema applied: the server, and `client` to query it with. */
export async function startMigratedClickhouse(dir) {
  const server = await startClickhouse(dir)
  const client = clickhouseFromEnv(server.env)
  await migrate(client, { log: () => {} })
  return { ...server, client }
}
