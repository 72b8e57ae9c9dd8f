// Self-hosting with high availability, on this machine: `node
// scripts/selfhost.mjs` with REPLICAS=3 (a control instance holding the
// salts and settings, three workerd replicas each with its own queue on its
// own disk, a round-robin proxy in front) and one ClickHouse. The same
// visitor is one visitor whichever replica counts them; a settings change
// reaches every replica within 5 s; a replica killed mid-load loses no
// accepted event and stores none twice; queued events survive every replica
// being killed at once. And bad configuration stops start-up with one line
// naming the setting.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { adminClient, hashPassword } from '../scripts/lib/admin.mjs'
import { clickhouseFromEnv, query } from '../scripts/lib/clickhouse.mjs'
import { freePort } from '../scripts/lib/net.mjs'
import { clientAddress } from '../scripts/lib/proxy.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { startClickhouse } from './support/clickhouse.mjs'

const ADMIN_TOKEN = 'selfhost-test-admin-token-0123456789'
const CONTROL_TOKEN = 'selfhost-test-control-token-0123456789'
const METRICS_TOKEN = 'selfhost-test-metrics-token-0123456789'
const DASHBOARD_PASSWORD = 'selfhost test dashboard password'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs the launcher with `settings` as its file; resolves once ready, or with its exit and stderr. */
function launch(settings) {
  const dir = mkdtempSync(join(tmpdir(), 'selfhost-'))
  const file = join(dir, 'selfhost.env')
  writeFileSync(
    file,
    `${Object.entries({ DATA_DIR: join(dir, 'data'), ...settings })
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`
  )
  const child = spawn(process.execPath, [join(root, 'scripts/selfhost.mjs'), '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  return new Promise((resolve) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (/selfhost: ready/.test(stdout)) resolve({ child, dataDir: join(dir, 'data'), output: () => stdout + stderr })
    })
    child.on('exit', (code) => resolve({ code, stderr, stdout }))
  })
}

let clickhouse
let stack
let base
before(async () => {
  clickhouse = await startClickhouse(mkdtempSync(join(tmpdir(), 'selfhost-ch-')))
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  stack = await launch({
    LISTEN: `127.0.0.1:${port}`,
    REPLICAS: 3,
    CLICKHOUSE_URL: clickhouse.url,
    CLICKHOUSE_PASSWORD: clickhouse.password,
    ADMIN_TOKEN,
    CONTROL_TOKEN,
    METRICS_TOKEN,
    TRUSTED_PROXY: 'forwarded',
    ADMIN_PASSWORD_HASH: hashPassword(DASHBOARD_PASSWORD)
  })
  assert.ok(stack.child, `the launcher stopped: ${stack.stderr}`)
  const admin = adminClient(base, ADMIN_TOKEN)
  for (const site of ['ha.test', 'load.test', 'queue.test', 'late.test']) await admin.putSite(site)
})

after(async () => {
  if (stack?.child) {
    const exited = new Promise((resolve) => stack.child.once('exit', resolve))
    stack.child.kill('SIGTERM')
    await exited
  }
  await clickhouse?.stop()
})

const db = () => clickhouseFromEnv(clickhouse.env)
const count = async (sql) => Number(await query(db(), sql))

function send(target, site, path, { ua = UA, forwardedFor } = {}) {
  return fetch(`${target}/api/event`, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/plain',
      'User-Agent': ua,
      ...(forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {})
    },
    body: JSON.stringify({ n: 'pageview', u: `https://${site}${path}`, d: site })
  })
}

async function until(what, check, seconds = 60) {
  const deadline = Date.now() + seconds * 1000
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) assert.fail(`${what}: not within ${seconds} s`)
    await sleep(250)
  }
}

const replicaPorts = () =>
  [1, 2, 3].map((i) => {
    const capnp = readFileSync(join(stack.dataDir, `replica-${i}/workerd.capnp`), 'utf8')
    return Number(capnp.match(/name = "http", address = "127\.0\.0\.1:(\d+)"/)[1])
  })

test('one visitor is one visitor whichever replica counts them: one daily salt for all', async () => {
  // each replica directly, twice, as the proxy would pass them on
  for (const port of [...replicaPorts(), ...replicaPorts()]) {
    const response = await send(`http://127.0.0.1:${port}`, 'ha.test', `/from/${port}`, { forwardedFor: '203.0.113.7' })
    assert.equal(response.status, 202)
  }
  // another visitor (another address), through each replica too
  for (const port of replicaPorts())
    assert.equal(
      (await send(`http://127.0.0.1:${port}`, 'ha.test', '/other', { forwardedFor: '198.51.100.9' })).status,
      202
    )
  await until(
    '9 events stored',
    async () => (await count("SELECT count() FROM events WHERE site_domain = 'ha.test'")) === 9
  )
  const perVisitor = await query(
    db(),
    "SELECT uniqExact(visitor_id), groupArray(c) FROM (SELECT visitor_id, count() AS c FROM events WHERE site_domain = 'ha.test' GROUP BY visitor_id ORDER BY c) FORMAT TSV"
  )
  assert.equal(perVisitor.trim(), '2\t[3,6]', 'two visitors: six pageviews through three replicas, and three')
})

test('the front serves the tracker, its Plausible script names and the dashboard from www/', async () => {
  const script = await fetch(`${base}/js/script.js`)
  assert.equal(script.status, 200)
  assert.match(script.headers.get('content-type'), /^text\/javascript/)
  const wasm = await fetch(`${base}/js/script.wasm`)
  assert.equal(wasm.headers.get('content-type'), 'application/wasm')
  const variant = await fetch(`${base}/js/script.hash.outbound-links.js`)
  assert.equal(variant.status, 200)
  assert.equal(await variant.text(), await (await fetch(`${base}/js/script.links.js`)).text())
  assert.notEqual(await (await fetch(`${base}/js/script.links.js`)).text(), await script.text())
  const variantWasm = await fetch(`${base}/js/script.links.wasm`)
  assert.equal(variantWasm.headers.get('content-type'), 'application/wasm')
  assert.equal((await fetch(`${base}/js/script.HASH.js`)).status, 404)
  assert.match(await (await fetch(`${base}/dashboard/`)).text(), /<html/i)
  assert.equal((await fetch(`${base}/internal/state/salts`)).status, 404, 'the control path is never served')
})

test("the launcher's proxy is the trust boundary: a client's claimed address is dropped, a TLS terminator's https is kept", async () => {
  // two claimed addresses, the same connection: one visitor
  for (const claimed of ['198.51.100.1', '198.51.100.2'])
    assert.equal(
      (
        await fetch(`${base}/api/event`, {
          method: 'POST',
          headers: {
            'Content-Type': 'text/plain',
            'User-Agent': UA,
            'CF-Connecting-IP': claimed,
            'CF-IPCountry': 'BR',
            Forwarded: `for=${claimed}`
          },
          body: JSON.stringify({ n: 'pageview', u: 'https://ha.test/claimed', d: 'ha.test' })
        })
      ).status,
      202
    )
  await until('both stored', async () => (await count("SELECT count() FROM events WHERE pathname = '/claimed'")) === 2)
  assert.equal(
    await count("SELECT uniqExact(visitor_id) FROM events WHERE pathname = '/claimed'"),
    1,
    'the claimed addresses were ignored'
  )
  assert.equal(
    await count("SELECT countIf(country_code = 'BR') FROM events WHERE pathname = '/claimed'"),
    0,
    'and the claimed country'
  )
  // the dashboard's login behind TLS: the Worker sees the https URL the browser used
  const login = (proto, origin) =>
    fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-Proto': proto, Origin: origin },
      body: JSON.stringify({ username: 'admin', password: DASHBOARD_PASSWORD })
    })
  const host = new URL(base).host
  const behindTls = await login('https', `https://${host}`)
  assert.equal(behindTls.status, 200, await behindTls.text())
  assert.match(behindTls.headers.get('set-cookie'), /__Host-ea_session=.*Secure/)
  assert.equal((await login('https', `http://${host}`)).status, 403, 'an http page is another origin')
})

test('a settings change reaches every replica within 5 s', async () => {
  const ports = replicaPorts()
  // every replica holds a fresh copy of the settings in which late.test is a site
  for (const port of ports) {
    const response = await send(`http://127.0.0.1:${port}`, 'late.test', '/before', { forwardedFor: '192.0.2.1' })
    assert.equal(response.headers.get('x-plausible-dropped'), null, `replica on ${port} knows late.test`)
  }
  const changed = Date.now()
  await adminClient(base, ADMIN_TOKEN).deleteSite('late.test')
  const seen = await Promise.all(
    ports.map((port) =>
      until(
        `replica on ${port} drops late.test`,
        async () => {
          const response = await send(`http://127.0.0.1:${port}`, 'late.test', '/after', { forwardedFor: '192.0.2.1' })
          return response.headers.get('x-plausible-dropped') === '1' && Math.max(1, Date.now() - changed)
        },
        10
      )
    )
  )
  console.log(`settings change seen by the three replicas after ${seen.join(', ')} ms`)
  for (const ms of seen) assert.ok(ms <= 5_000, `seen after ${ms} ms`)
})

test('a replica killed mid-load loses no accepted event and stores none twice', async () => {
  const accepted = new Set()
  let refused = 0
  let killedAt = 0
  const started = Date.now()
  const clients = Array.from({ length: 8 }, async (_, client) => {
    for (let i = 0; Date.now() - started < 8_000; i++) {
      const path = `/load/${client}/${i}`
      try {
        const response = await send(base, 'load.test', path)
        if (response.status === 202) accepted.add(path)
        else refused++
      } catch {
        refused++
      }
    }
  })
  await sleep(3_000)
  const pid = Number(readFileSync(join(stack.dataDir, 'replica-2.pid'), 'utf8'))
  process.kill(pid, 'SIGKILL')
  killedAt = Date.now() - started
  await Promise.all(clients)
  console.log(
    `load: ${accepted.size} accepted, ${refused} refused (the killed replica's requests in flight); killed at ${killedAt} ms`
  )
  assert.ok(accepted.size > 200, 'a real load')
  // every accepted path, not a count of them: a request the killed replica queued but could not
  // answer is stored too (the client saw it refused), so a count can be reached early
  const storedPaths = async () =>
    (await query(db(), "SELECT pathname FROM events WHERE site_domain = 'load.test' FORMAT TSV"))
      .split('\n')
      .filter(Boolean)
  const missing = async () => {
    const paths = new Set(await storedPaths())
    return [...accepted].filter((path) => !paths.has(path))
  }
  await until('every accepted event stored', async () => (await missing()).length === 0, 120).catch(async (error) => {
    error.message += `: missing ${(await missing()).slice(0, 10).join(', ')}`
    throw error
  })
  // (the last of the replica's queue may still be arriving: the duplicates check waits for quiet)
  await sleep(3_000)
  const stored = await storedPaths()
  assert.equal(stored.length, new Set(stored).size, 'none twice')
  assert.match(stack.output(), /replica-2 exited \(SIGKILL\); starting it again/)
})

test('queued events survive every replica being killed at once', async () => {
  const paths = Array.from({ length: 60 }, (_, i) => `/queued/${i}`)
  const answers = await Promise.all(paths.map((path) => send(base, 'queue.test', path)))
  for (const answer of answers) assert.equal(answer.status, 202)
  for (let i = 1; i <= 3; i++)
    process.kill(Number(readFileSync(join(stack.dataDir, `replica-${i}.pid`), 'utf8')), 'SIGKILL')
  // the consumer waits up to 2 s to fill a batch: these were on the replicas' disks only
  const atKill = await count("SELECT count() FROM events WHERE site_domain = 'queue.test'")
  await until(
    'the queued events stored after the restart',
    async () => (await count("SELECT count() FROM events WHERE site_domain = 'queue.test'")) >= 60,
    120
  )
  await sleep(3_000)
  assert.equal(await count("SELECT count() FROM events WHERE site_domain = 'queue.test'"), 60, 'each once')
  assert.equal(await count("SELECT uniqExact(pathname) FROM events WHERE site_domain = 'queue.test'"), 60)
  console.log(
    `${60 - atKill} of 60 events were only on the killed replicas' queues; all 60 stored once after the restart`
  )
  assert.ok(atKill < 60, 'some events were still queued when the replicas were killed')
})

test('bad configuration stops start-up with one line naming the setting', async () => {
  const port = await freePort()
  const cases = [
    [{ CLICKHOUSE_URL: clickhouse.url }, /ADMIN_TOKEN is required/],
    [{ ADMIN_TOKEN, REPLICAS: 2, CLICKHOUSE_URL: clickhouse.url }, /CONTROL_TOKEN is required/],
    [{ ADMIN_TOKEN, CLICKHOUSE_URL: 'http://clickhouse.example.com:8123' }, /CLICKHOUSE_URL uses http/],
    [{ ADMIN_TOKEN, CLICKHOUSE_URL: 'http://127.0.0.1:9' }, /CLICKHOUSE_URL: ClickHouse unreachable/],
    [
      { ADMIN_TOKEN, CLICKHOUSE_URL: clickhouse.url, CLICKHOUSE_PASSWORD: 'not-the-password-x9' },
      /CLICKHOUSE_USER \/ CLICKHOUSE_PASSWORD: .* refused the login/
    ],
    // the Worker answers only "misconfigured: ADMIN_TOKEN"; the reason is in its log, one JSON
    // object a line (edge/worker/src/log.rs), which the launcher reads back
    [
      { ADMIN_TOKEN: 'short', CLICKHOUSE_URL: clickhouse.url },
      /^selfhost: ADMIN_TOKEN must be at least 24 characters$/
    ],
    [{ ADMIN_TOKEN, CLICKHOUSE_URL: clickhouse.url, REPLICAS: 'two' }, /REPLICAS must be a whole number/],
    [{ ADMIN_TOKEN, CLICKHOUSE_URL: clickhouse.url, TLS_PROXY: 'nginx' }, /TLS_PROXY must be the IP address/],
    [
      {
        ADMIN_TOKEN,
        CLICKHOUSE_URL: clickhouse.url,
        CLICKHOUSE_PASSWORD: clickhouse.password,
        CLICKHOUSE_CLUSTER: 'no_such_cluster'
      },
      /^selfhost: CLICKHOUSE_CLUSTER: no cluster named no_such_cluster in system\.clusters$/
    ],
    [{ ADMIN_TOKEN, CLICKHOUSE_URL: clickhouse.url, CLICKHOUSE_URLL: 'x' }, /unknown setting CLICKHOUSE_URLL/]
  ]
  for (const [settings, message] of cases) {
    const result = await launch({ LISTEN: `127.0.0.1:${port}`, ...settings })
    if (result.child) {
      result.child.kill('SIGTERM')
      assert.fail(`started with ${JSON.stringify(settings)}`)
    }
    assert.equal(result.code, 1, JSON.stringify(settings))
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('selfhost: '))
    assert.equal(lines.length, 1, `one line: ${result.stderr}`)
    assert.match(lines[0], message)
    assert.ok(!result.stderr.includes('not-the-password-x9'), 'no password in the message')
  }
})

test('the retention pass runs on demand (bare workerd has no cron) behind the admin token', async () => {
  const run = (token) =>
    fetch(`${base}/api/admin/retention/run`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
  assert.equal((await run('not-the-admin-token-0123456789')).status, 401)
  // the probe Kubernetes uses: the Worker, not ClickHouse
  const probe = await fetch(`${base}/api/health?check=worker`)
  assert.deepEqual(await probe.json(), { status: 'ok', clickhouse: 'not checked' })
  const answer = await run(ADMIN_TOKEN)
  assert.equal(answer.status, 200)
  assert.deepEqual(await answer.json(), { failed: [] })
  // and the rollup pass the launcher runs after it (the events of this suite are today's: a
  // closed day is due only when the suite runs across midnight)
  const rolled = await fetch(`${base}/api/admin/rollups/run`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }
  })
  assert.equal(rolled.status, 200)
  const pass = await rolled.json()
  assert.deepEqual({ failed: pass.failed, more: pass.more }, { failed: [], more: false })
})

test('the post-deploy smoke check passes on a working installation and names the failing step', async () => {
  const { key } = await adminClient(base, ADMIN_TOKEN).addKey(['ha.test'], 'smoke')
  const smoke = (...args) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [join(root, 'scripts/smoke.mjs'), base, ...args], { stdio: 'pipe' })
      let out = ''
      child.stdout.on('data', (chunk) => {
        out += chunk
      })
      child.stderr.on('data', (chunk) => {
        out += chunk
      })
      child.on('exit', (code) => resolve({ code, out }))
    })
  const passed = await smoke('--site', 'ha.test', '--api-key', key)
  assert.equal(passed.code, 0, passed.out)
  // ha.test has a new site's minimum group size (5): the check sends five visitors and reads
  // the realtime count (docs/privacy.md)
  assert.deepEqual(
    passed.out.match(/^ok +\w+/gm),
    ['ok   health', 'ok   event', 'ok   event', 'ok   query'],
    passed.out
  )
  assert.match(passed.out, /ok +event: 5 visitors for the site's minimum group size/)
  assert.match(passed.out, /ok +query: the realtime count went from/)
  const wrongKey = await smoke('--site', 'ha.test', '--api-key', 'ea_not-a-key')
  assert.equal(wrongKey.code, 1)
  assert.match(wrongKey.out, /FAIL query: 401/)
  const unknownSite = await smoke('--site', 'nowhere.test', '--api-key', key)
  assert.equal(unknownSite.code, 1)
  assert.match(unknownSite.out, /FAIL event: dropped: is nowhere.test a configured site\?/)
})

test('the settings back up and restore with the admin CLI: sites, goals, keys (their hashes) and people come back', async () => {
  const cli = (...args) =>
    execFileSync(process.execPath, [join(root, 'scripts/admin.mjs'), ...args], {
      env: { ...process.env, EDGE_URL: base, ADMIN_TOKEN },
      encoding: 'utf8'
    })
  const admin = adminClient(base, ADMIN_TOKEN)
  await admin.putSite('backup.test', { timezone: 'Europe/Berlin', goals: [{ event_name: 'Deploy Application' }] })
  const { key } = await admin.addKey(['backup.test'], 'backup')
  // a person invited with the CLI joins through the link it printed
  const invited = JSON.parse(cli('invite', 'backup@example.com', 'backup.test', 'admin'))
  const password = 'the backup person’s password'
  const joined = await fetch(`${base}/api/auth/invitations/accept`, {
    method: 'POST',
    body: JSON.stringify({ token: invited.token, name: 'Backup', password })
  })
  assert.equal(joined.status, 200, await joined.clone().text())
  const file = join(mkdtempSync(join(tmpdir(), 'backup-')), 'settings.json')
  cli('export', file)
  const exported = JSON.parse(readFileSync(file, 'utf8'))
  assert.ok(!readFileSync(file, 'utf8').includes(key), 'no key secret in the backup')
  assert.ok(!readFileSync(file, 'utf8').includes(password), 'a password only as its hash')
  // a disaster: the site, its key and the person are gone
  await admin.deleteSite('backup.test')
  const person = (await admin.people()).people.find((p) => p.email === 'backup@example.com')
  await admin.removePerson(person.id)
  const query = () =>
    fetch(`${base}/api/v2/query`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
      body: JSON.stringify({ site_id: 'backup.test', metrics: ['visitors'], date_range: 'day' })
    })
  assert.equal((await query()).status, 401)
  cli('import', file)
  assert.deepEqual(await admin.exportSettings(), exported, 'every site and key as exported')
  assert.equal((await query()).status, 200, 'the key made before the backup works again')
  const back = (await admin.people()).people.find((p) => p.email === 'backup@example.com')
  assert.deepEqual(back.roles, { 'backup.test': 'admin' })
  // a file that is not an export changes nothing
  writeFileSync(
    file,
    JSON.stringify({
      format: 'edge-analytics-settings/1',
      sites: [{ domain: 'x' }],
      keys: [{ id: 'k', name: 'n', hash: 'nothex', sites: ['x'] }]
    })
  )
  assert.throws(() => cli('import', file), /keys\[0\]\.hash/)
  assert.deepEqual(await admin.exportSettings(), exported)
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    body: JSON.stringify({ username: 'backup@example.com', password })
  })
  assert.equal(login.status, 200, 'their password works again')
})

test("each replica's /metrics counts what it did, in Prometheus' format, behind its token", async () => {
  const replica = `http://127.0.0.1:${replicaPorts()[0]}`
  const scrape = async (token = METRICS_TOKEN) => {
    const response = await fetch(`${replica}/metrics`, { headers: { Authorization: `Bearer ${token}` } })
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() }
  }
  const sample = (text, name) =>
    Number(text.match(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm'))?.[1] ?? 0)
  assert.equal((await scrape('not-the-metrics-token-0123456789')).status, 401)
  assert.equal((await fetch(`${replica}/metrics`)).status, 401)
  const before = await scrape()
  assert.equal(before.status, 200)
  assert.match(before.type, /^text\/plain; version=0\.0\.4/)
  for (let i = 0; i < 5; i++) await send(replica, 'ha.test', `/metrics/${i}`, { forwardedFor: '203.0.113.50' })
  await send(replica, 'ha.test', '/bot', { forwardedFor: '203.0.113.50', ua: 'curl/8.5.0' })
  await fetch(`${replica}/api/event`, {
    method: 'POST',
    body: '{"n":"pageview"}',
    headers: { 'X-Forwarded-For': '203.0.113.50' }
  })
  const { key } = await adminClient(base, ADMIN_TOKEN).addKey(['ha.test'], 'metrics')
  await fetch(`${replica}/api/v2/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'X-Forwarded-For': '203.0.113.50' },
    body: JSON.stringify({ site_id: 'ha.test', metrics: ['visitors'], date_range: 'day' })
  })
  // the consumer's batches wait up to 2 s each, and may split the six messages (five events, one
  // drop count): wait until all six are stored
  const stored = (text) => sample(text, 'edge_queue_messages_total{outcome="stored"}')
  const after = await until('the six messages stored', async () => {
    const scraped = await scrape()
    return stored(scraped.text) - stored(before.text) >= 6 && scraped
  })
  const delta = (name) => sample(after.text, name) - sample(before.text, name)
  assert.equal(delta('edge_events_accepted_total'), 5)
  assert.equal(delta('edge_events_dropped_total{reason="bot"}'), 1)
  assert.equal(delta('edge_events_refused_total{status="400"}'), 1)
  assert.equal(delta('edge_stats_query_seconds_count'), 1)
  assert.ok(delta('edge_clickhouse_insert_seconds_count') >= 1, 'inserts timed')
  assert.ok(sample(after.text, 'edge_queue_message_age_seconds_count') > 0)
})

test('without R2, events older than the retry budget are set aside on the control instance and replayed once', async () => {
  const chDir = mkdtempSync(join(tmpdir(), 'selfhost-dl-ch-'))
  let ch = await startClickhouse(chDir)
  const chPort = Number(new URL(ch.url).port)
  const port = await freePort()
  const here = `http://127.0.0.1:${port}`
  const short = await launch({
    LISTEN: `127.0.0.1:${port}`,
    REPLICAS: 2,
    CLICKHOUSE_URL: ch.url,
    CLICKHOUSE_PASSWORD: ch.password,
    ADMIN_TOKEN,
    CONTROL_TOKEN,
    TRUSTED_PROXY: 'forwarded',
    RETRY_BUDGET_SECONDS: 10
  })
  assert.ok(short.child, short.stderr)
  try {
    const admin = adminClient(here, ADMIN_TOKEN)
    await admin.putSite('outage.test')
    await ch.stop()
    for (let i = 0; i < 5; i++) assert.equal((await send(here, 'outage.test', `/down/${i}`)).status, 202)
    await until('five set aside', async () => (await admin.deadLetters()).dead_letters.length === 5, 120)
    for (const letter of (await admin.deadLetters()).dead_letters)
      assert.match(letter.reason, /not stored within the retry budget \(10 s\)/)
    ch = await startClickhouse(chDir, {}, chPort)
    const db = clickhouseFromEnv(ch.env)
    const replayed = await admin.replayAllDeadLetters()
    assert.equal(replayed.replayed, 5)
    await until(
      'the five stored',
      async () => Number(await query(db, "SELECT count() FROM events WHERE site_domain = 'outage.test'")) === 5
    )
    await sleep(3000)
    assert.equal(Number(await query(db, "SELECT uniqExact(pathname) FROM events WHERE site_domain = 'outage.test'")), 5)
    assert.equal(
      Number(await query(db, "SELECT count() FROM events WHERE site_domain = 'outage.test'")),
      5,
      'each once'
    )
    assert.deepEqual((await admin.deadLetters()).dead_letters, [])
  } finally {
    const exited = new Promise((resolve) => short.child.once('exit', resolve))
    short.child.kill('SIGTERM')
    await exited
    await ch.stop()
  }
})

test("behind a TLS terminator (TLS_PROXY), the client is the address the terminator appended, never a client's claim", () => {
  const incoming = (peer, forwardedFor) => ({
    socket: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }
  })
  assert.equal(clientAddress(incoming('192.0.2.5', '6.6.6.6'), ''), '192.0.2.5', 'no terminator: the connection')
  assert.equal(clientAddress(incoming('127.0.0.1', '6.6.6.6, 203.0.113.9'), '127.0.0.1'), '203.0.113.9')
  assert.equal(clientAddress(incoming('192.0.2.5', '6.6.6.6'), '127.0.0.1'), '192.0.2.5', 'not from the terminator')
  assert.equal(clientAddress(incoming('127.0.0.1'), '127.0.0.1'), '127.0.0.1', 'the terminator said nothing')
})
