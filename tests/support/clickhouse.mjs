// Starts the local ClickHouse (clickhouse/server.py, chDB) for a test, on
// `port` (0: a free one), with its data in `dir`; `stop()` ends the process, keeping the data.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { root } from '../../scripts/lib/paths.mjs'

export async function startClickhouse(dir, env = {}, port = 0) {
  const child = spawn('python3', [join(root, 'clickhouse/server.py'), '--port', String(port), '--data', dir], {
    env: { ...process.env, ...env },
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
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGTERM')
      })
  }
}
