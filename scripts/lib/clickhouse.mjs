// ClickHouse over HTTP for scripts, tests and benchmarks: connection settings
// from the environment, one statement with bound parameters, and the
// migrations (clickhouse/migrations, applied once each).
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { root } from './paths.mjs'

/** The local ClickHouse's password (clickhouse/server.py requires one), made by `npm start`. */
export const localPasswordFile = join(root, '.data/clickhouse-password')

/** The local ClickHouse's password: the one kept in .data, made the first time. */
export function localClickhousePassword() {
  if (!existsSync(localPasswordFile)) {
    mkdirSync(dirname(localPasswordFile), { recursive: true })
    writeFileSync(localPasswordFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 })
  }
  return readFileSync(localPasswordFile, 'utf8').trim()
}

/**
 * ClickHouse connection settings from the environment, validated once.
 * Without CLICKHOUSE_PASSWORD, the local ClickHouse's password (when `npm start` made one).
 */
export function clickhouseFromEnv(env = process.env) {
  const url = new URL(env.CLICKHOUSE_URL || 'http://127.0.0.1:8123')
  const database = env.CLICKHOUSE_DATABASE || 'analytics'
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
    throw new Error(`CLICKHOUSE_DATABASE must be an identifier, not ${JSON.stringify(database)}`)
  const password =
    env.CLICKHOUSE_PASSWORD ??
    (['127.0.0.1', 'localhost'].includes(url.hostname) && existsSync(localPasswordFile)
      ? readFileSync(localPasswordFile, 'utf8').trim()
      : '')
  return { url, database, user: env.CLICKHOUSE_USER || 'default', password }
}

/** Runs one statement; `params` are bound by ClickHouse as {name:Type}. */
export async function query(clickhouse, sql, { params = {}, database = clickhouse.database } = {}) {
  const url = new URL(clickhouse.url)
  url.searchParams.set('database', database)
  for (const [name, value] of Object.entries(params)) url.searchParams.set(`param_${name}`, String(value))
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'X-ClickHouse-User': clickhouse.user, 'X-ClickHouse-Key': clickhouse.password },
    body: sql
  })
  const text = await response.text()
  if (!response.ok)
    throw new Error(
      `ClickHouse ${response.status} (code ${response.headers.get('x-clickhouse-exception-code')}): ${text.trim()}`
    )
  return text
}

export async function migrate(clickhouse, { log = console.log } = {}) {
  await query(clickhouse, `CREATE DATABASE IF NOT EXISTS ${clickhouse.database}`, { database: 'default' })
  await query(
    clickhouse,
    'CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version'
  )
  const applied = new Set(
    (await query(clickhouse, 'SELECT version FROM schema_migrations FORMAT TabSeparated'))
      .split('\n')
      .filter(Boolean)
      .map(Number)
  )
  const dir = join(root, 'clickhouse/migrations')
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
  for (const file of files) {
    const version = Number(file.slice(0, 4))
    if (applied.has(version)) continue
    const statements = readFileSync(join(dir, file), 'utf8')
      .split(/;\s*$/m)
      .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
      .filter(Boolean)
    for (const statement of statements) await query(clickhouse, statement)
    await query(clickhouse, 'INSERT INTO schema_migrations (version, name) VALUES ({version:UInt32}, {name:String})', {
      params: { version, name: file }
    })
    log(`migrate: applied ${file}`)
  }
  return files.length
}
