// The local ClickHouse (chDB behind clickhouse/server.py) and the schema
// migrations: what the edge worker will rely on, and what the local front
// refuses so that no web page a developer opens can use it.
import { spawnSync } from 'node:child_process'
import { connect } from 'node:net'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startClickhouse } from './support/clickhouse.mjs'
import { clickhouseFromEnv, migrate, query } from '../scripts/lib/clickhouse.mjs'
import { root } from '../scripts/lib/paths.mjs'

const row = (n) =>
  JSON.stringify({
    site_domain: 'portal.example',
    timestamp: '2026-11-25 10:00:00',
    name: 'pageview',
    visitor_id: n,
    hostname: 'portal.example',
    pathname: `/p${n}`,
    interactive: true
  })

test('migrations apply once, survive a restart, and a retried batch is stored once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chdb-'))
  let server = await startClickhouse(dir)
  try {
    const clickhouse = clickhouseFromEnv(server.env)
    const logged = []
    await migrate(clickhouse, { log: (m) => logged.push(m) })
    await migrate(clickhouse, { log: (m) => logged.push(m) })
    const files = readdirSync(join(root, 'clickhouse/migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort()
    assert.ok(files.length >= 3)
    assert.deepEqual(
      logged,
      files.map((f) => `migrate: applied ${f}`),
      'each once: the second run applies nothing'
    )

    const columns = (
      await query(
        clickhouse,
        "SELECT name FROM system.columns WHERE database = 'analytics' AND table = 'events' FORMAT TabSeparated"
      )
    ).split('\n')
    assert.ok(columns.includes('visitor_id') && columns.includes('country_code'))
    assert.ok(!columns.some((c) => /(^|_)ip($|_)|user_agent|ua$/i.test(c)), `no IP or User-Agent column: ${columns}`)

    const batch = [1, 2, 3].map(row).join('\n')
    const insert = "INSERT INTO events SETTINGS insert_deduplication_token = 'batch-1' FORMAT JSONEachRow"
    await query(clickhouse, `${insert}\n${batch}`)
    await query(clickhouse, `${insert}\n${batch}`)
    assert.equal(
      (await query(clickhouse, 'SELECT count() FROM events')).trim(),
      '3',
      'the retried batch was deduplicated'
    )
    assert.equal(
      (await query(clickhouse, 'SELECT sum(events), uniqExactMerge(visitors) FROM page_days')).trim(),
      '3\t3',
      'and the page rollup, which the events table feeds, counted it once'
    )

    await server.stop()
    server = await startClickhouse(dir)
    const again = clickhouseFromEnv(server.env)
    assert.equal((await query(again, 'SELECT count() FROM events')).trim(), '3', 'data survives a restart')
    await migrate(again, { log: (m) => logged.push(m) })
    assert.equal(logged.length, files.length, 'nothing applied again after a restart')
  } finally {
    await server.stop()
  }
})

test('values are bound as parameters, errors carry their ClickHouse code, auth is checked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chdb-'))
  const server = await startClickhouse(dir, { CLICKHOUSE_PASSWORD: 'secret' })
  try {
    const clickhouse = clickhouseFromEnv({
      CLICKHOUSE_URL: server.url,
      CLICKHOUSE_PASSWORD: 'secret',
      CLICKHOUSE_DATABASE: 'default'
    })
    const hostile = "'); DROP TABLE x; --"
    const echoed = await query(clickhouse, 'SELECT {v:String} AS v FORMAT JSONEachRow', { params: { v: hostile } })
    assert.deepEqual(JSON.parse(echoed), { v: hostile }, 'the hostile string came back as data')
    await assert.rejects(query(clickhouse, 'SELEC 1'), /ClickHouse 400 \(code 62\)/)
    await assert.rejects(query(clickhouse, 'SELECT * FROM no_such_table'), /ClickHouse 404 \(code 60\)/)
    const wrong = clickhouseFromEnv({
      CLICKHOUSE_URL: server.url,
      CLICKHOUSE_PASSWORD: 'guess',
      CLICKHOUSE_DATABASE: 'default'
    })
    await assert.rejects(query(wrong, 'SELECT 1'), /ClickHouse 403 \(code 516\)/)
    const ping = await fetch(new URL('/ping', server.url))
    assert.equal(await ping.text(), 'Ok.\n')
  } finally {
    await server.stop()
  }
})

/** One raw HTTP/1.1 request to the server, as any client (or page) could write it: its status line. */
function raw(url, request) {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request))
    let answer = ''
    socket.on('data', (chunk) => {
      answer += chunk
    })
    socket.on('end', () => resolve(answer.split('\r\n')[0]))
    socket.on('error', reject)
  })
}

test('the local front refuses what a web page could abuse: no password, a foreign Host, a write by GET, a bad Content-Length', async () => {
  // no password: it does not start at all
  const bare = spawnSync('python3', [join(root, 'clickhouse/server.py'), '--port', '0'], {
    env: { ...process.env, CLICKHOUSE_PASSWORD: '' },
    encoding: 'utf8'
  })
  assert.equal(bare.status, 2)
  assert.match(bare.stderr, /set CLICKHOUSE_PASSWORD/)
  const dir = mkdtempSync(join(tmpdir(), 'chdb-'))
  const server = await startClickhouse(dir)
  try {
    const clickhouse = clickhouseFromEnv({ ...server.env, CLICKHOUSE_DATABASE: 'default' })
    const auth = `X-ClickHouse-User: default\r\nX-ClickHouse-Key: ${server.password}\r\n`
    const { host } = new URL(server.url)
    // DNS rebinding: a page at attacker.example resolved to 127.0.0.1 sends its own Host
    assert.equal(
      await raw(
        server.url,
        `GET /?query=SELECT%201 HTTP/1.1\r\nHost: attacker.example\r\n${auth}Connection: close\r\n\r\n`
      ),
      'HTTP/1.1 403 Forbidden'
    )
    // a GET only reads (a page's <img src> or link is a GET)
    const drop = encodeURIComponent('CREATE TABLE got_in (x UInt8) ENGINE = Memory')
    assert.match(
      await raw(server.url, `GET /?query=${drop} HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`),
      /^HTTP\/1.1 403/
    )
    const read = encodeURIComponent('SELECT 1')
    assert.match(
      await raw(server.url, `GET /?query=${read} HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`),
      /^HTTP\/1.1 200/
    )
    // a Content-Length that is not a number, or a chunked body
    assert.match(
      await raw(
        server.url,
        `POST / HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: -5\r\nConnection: close\r\n\r\n`
      ),
      /^HTTP\/1.1 400/
    )
    assert.match(
      await raw(
        server.url,
        `POST / HTTP/1.1\r\nHost: ${host}\r\n${auth}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n8\r\nSELECT 1\r\n0\r\n\r\n`
      ),
      /^HTTP\/1.1 411/
    )
    // a POST with the password still writes, and the GET above wrote nothing
    await query(clickhouse, 'CREATE TABLE allowed (x UInt8) ENGINE = Memory')
    assert.equal((await query(clickhouse, 'EXISTS TABLE got_in FORMAT TabSeparated')).trim(), '0')
  } finally {
    await server.stop()
  }
})
