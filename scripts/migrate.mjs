#!/usr/bin/env node
// Applies clickhouse/migrations/*.sql in order, once each: the one idempotent
// schema command. Works against any ClickHouse over HTTP (CLICKHOUSE_URL) and
// against the local chDB server.
// Usage: node scripts/migrate.mjs
import { clickhouseFromEnv, migrate } from './lib/clickhouse.mjs'

const clickhouse = clickhouseFromEnv()
await migrate(clickhouse)
console.log(`migrate: ${clickhouse.url.origin} database ${clickhouse.database} is up to date`)
