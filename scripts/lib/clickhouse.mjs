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
  const cluster = env.CLICKHOUSE_CLUSTER || ''
  if (cluster && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster))
    throw new Error(`CLICKHOUSE_CLUSTER must be an identifier, not ${JSON.stringify(cluster)}`)
  return { url, database, user: env.CLICKHOUSE_USER || 'default', password, cluster }
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

/**
 * The statements of one migration statement for `cluster` (docs/scaling.md):
 * each table becomes `<name>_local`, Replicated on every node of its shard
 * (ZooKeeper or ClickHouse Keeper paths by {shard} and {replica} macros), and
 * `<name>`, a Distributed table over them sharded by site, which is what the
 * Worker reads and writes; a materialized view runs on each node from local
 * to local table; a column is added to both; an index to the local table.
 * Every DDL runs ON CLUSTER. Without a cluster: the statement as written.
 */
export function statementsFor(statement, { cluster, database }) {
  if (!cluster) return [statement]
  const on = `ON CLUSTER ${cluster}`
  const table = statement.match(
    /^CREATE TABLE IF NOT EXISTS (\w+)\s*\(([\s\S]*)\)\s*ENGINE = (\w+)(\([^)]*\))?([\s\S]*)$/
  )
  if (table) {
    const [, name, columns, engine, args, rest] = table
    const inner = args ? args.slice(1, -1).trim() : ''
    const replicated = `Replicated${engine}('/clickhouse/tables/{shard}/${database}/${name}_local', '{replica}'${inner ? `, ${inner}` : ''})`
    // replicated tables deduplicate inserts by their own window
    const settings = rest.replace(/\s*SETTINGS non_replicated_deduplication_window = \d+/, '')
    return [
      `CREATE TABLE IF NOT EXISTS ${name}_local ${on}\n(${columns})\nENGINE = ${replicated}${settings}`,
      `CREATE TABLE IF NOT EXISTS ${name} ${on} AS ${name}_local\nENGINE = Distributed(${cluster}, ${database}, ${name}_local, cityHash64(site_domain))`
    ]
  }
  const view = statement.match(
    /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS([\s\S]*\bFROM )(\w+)([\s\S]*)$/
  )
  if (view) {
    const [, name, target, select, source, rest] = view
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${name} ${on} TO ${target}_local AS${select}${source}_local${rest}`]
  }
  const alter = statement.match(/^ALTER TABLE (\w+) (ADD (COLUMN|INDEX)[\s\S]*)$/)
  if (alter) {
    const [, name, change, kind] = alter
    const local = `ALTER TABLE ${name}_local ${on} ${change}`
    return kind === 'COLUMN' ? [local, `ALTER TABLE ${name} ${on} ${change}`] : [local]
  }
  // a backfill: from and to the Distributed tables, as any INSERT
  if (/^INSERT INTO /.test(statement)) return [statement]
  throw new Error(`no cluster form for: ${statement.slice(0, 80)}…`)
}

/** The statements of a SQL file: comment lines dropped, split at each `;` that ends a line. */
export function sqlStatements(text) {
  return text
    .replace(/^\s*--.*$/gm, '')
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter(Boolean)
}

/** The migrations' statements, file by file, each as it runs on this topology. */
export function migrationStatements({ cluster, database }) {
  const dir = join(root, 'clickhouse/migrations')
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      file,
      version: Number(file.slice(0, 4)),
      statements: sqlStatements(readFileSync(join(dir, file), 'utf8')).flatMap((statement) =>
        statementsFor(statement, { cluster, database })
      )
    }))
}

export async function migrate(clickhouse, { log = console.log } = {}) {
  const { cluster, database } = clickhouse
  const on = cluster ? ` ON CLUSTER ${cluster}` : ''
  if (cluster) {
    const known = await query(clickhouse, 'SELECT count() FROM system.clusters WHERE cluster = {cluster:String}', {
      params: { cluster },
      database: 'default'
    })
    if (Number(known) === 0) throw new Error(`CLICKHOUSE_CLUSTER: no cluster named ${cluster} in system.clusters`)
  }
  await query(clickhouse, `CREATE DATABASE IF NOT EXISTS ${database}${on}`, { database: 'default' })
  // which migrations ran: on a cluster, one table replicated to every node of every shard
  const engine = cluster
    ? `ReplicatedMergeTree('/clickhouse/tables/all/${database}/schema_migrations', '{replica}')`
    : 'MergeTree'
  await query(
    clickhouse,
    `CREATE TABLE IF NOT EXISTS schema_migrations${on} (version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = ${engine} ORDER BY version`
  )
  const applied = new Set(
    (await query(clickhouse, 'SELECT version FROM schema_migrations FORMAT TabSeparated'))
      .split('\n')
      .filter(Boolean)
      .map(Number)
  )
  const migrations = migrationStatements({ cluster, database })
  for (const { file, version, statements } of migrations) {
    if (applied.has(version)) continue
    for (const statement of statements) await query(clickhouse, statement)
    await query(clickhouse, 'INSERT INTO schema_migrations (version, name) VALUES ({version:UInt32}, {name:String})', {
      params: { version, name: file }
    })
    log(`migrate: applied ${file}`)
  }
  return migrations.length
}
