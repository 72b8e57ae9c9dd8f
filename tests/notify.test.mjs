// Reports, alerts and webhooks end to end: the Worker's notifications pass
// (the cron's, run now through the admin API) measures each alert with the
// Stats API, e-mails through a real SMTP server (aiosmtpd,
// tests/support/smtp_sink.py) and posts to webhooks that check the Standard
// Webhooks signature, one of them failing once and one always.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash, createHmac } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { clickhouseFromEnv, migrate } from '../scripts/lib/clickhouse.mjs'
import { generateEvents, insertEvents, utcDays } from '../scripts/lib/events.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { startClickhouse } from './support/clickhouse.mjs'
import { freePort, startEdge, TEST_ADMIN_TOKEN } from './support/edge.mjs'
import { at } from './support/time.mjs'

const SITE = 'notify.test'
const DAY = 86_400_000
const SECRET_KEY = Buffer.from('notify-test-webhook-key-0123456789')
const SECRET = `whsec_${SECRET_KEY.toString('base64')}`
let ch, edge, smtp, hooks
const mail = []
const calls = []

/** The SMTP sink: every message it accepts lands in `mail`. */
async function startSmtp() {
  const port = await freePort()
  const child = spawn('python3', [join(root, 'tests/support/smtp_sink.py'), String(port)], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let err = ''
  child.stderr.on('data', (chunk) => (err += chunk))
  await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const lines = out.split('\n')
      out = lines.pop()
      for (const line of lines) {
        if (line.startsWith('ready')) resolve()
        else if (line.trim()) mail.push(JSON.parse(line))
      }
    })
    child.once('exit', () => reject(new Error(`smtp_sink.py exited: ${err}`)))
  })
  return { port, stop: () => child.kill('SIGTERM') }
}

/** Webhook endpoints: /flaky fails a delivery's first attempt; /down redirects every one to /flaky (not to be followed). */
async function startHooks() {
  const seen = new Set()
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      calls.push({ path: request.url, headers: request.headers, body, at: Date.now() })
      const id = request.headers['webhook-id']
      const first = !seen.has(`${request.url} ${id}`)
      seen.add(`${request.url} ${id}`)
      if (request.url === '/down') {
        response.writeHead(302, { location: '/flaky' })
        return response.end()
      }
      response.statusCode = first ? 503 : 204
      response.end()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: server.address().port, stop: () => server.close() }
}

/** Monday to Sunday before the week in which `now − 12 h` falls (notify::schedule). */
function lastWeek(now) {
  const day = Math.floor((now - 12 * 3_600_000) / DAY)
  const monday = day - ((day - 4 + 7 * 1000) % 7)
  const date = (d) => new Date(d * DAY).toISOString().slice(0, 10)
  return { first: monday - 7, last: monday - 1, date }
}

function decoded(message) {
  const [head, body] = message.data.split(/\r?\n\r?\n/)
  return { head, text: Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') }
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'notify-'))
  ch = await startClickhouse(join(dir, 'ch'))
  await migrate(clickhouseFromEnv(ch.env), { log: () => {} })
  smtp = await startSmtp()
  hooks = await startHooks()
  edge = await startEdge({
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: [],
    vars: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, MAIL_FROM: 'analytics@portal.test' }
  })
})
after(async () => {
  await edge?.stop()
  await ch?.stop()
  smtp?.stop()
  hooks?.stop()
})

test('a site’s alerts fire once a window, its weekly report is e-mailed once, and webhooks are signed and retried', async () => {
  const now = Date.now()
  const week = lastWeek(now)
  const [template] = generateEvents({ count: 1, seed: 3 })
  const row = (visitor, ms, fields = {}) => ({
    ...template,
    site_domain: SITE,
    hostname: SITE,
    referrer: '',
    referrer_source: '',
    visitor_id: String(visitor),
    timestamp: at(ms),
    name: 'pageview',
    pathname: '/',
    ...fields
  })
  const rows = [
    // last week: three visitors, one of them on two pages; the week before: one
    row(1, (week.first + 1) * DAY + 3_600_000, { pathname: '/create' }),
    row(1, (week.first + 1) * DAY + 3_660_000, { pathname: '/docs' }),
    row(2, (week.first + 3) * DAY + 7_200_000, { pathname: '/create', referrer_source: 'GitHub' }),
    row(3, week.last * DAY + 36_000_000, { pathname: '/catalog' }),
    row(4, (week.first - 3) * DAY + 3_600_000),
    // the last hour: four visitors, two of whom deployed
    ...[5, 6, 7, 8].map((v) => row(v, now - 20 * 60_000)),
    row(5, now - 19 * 60_000, { name: 'Deploy Application' }),
    row(6, now - 18 * 60_000, { name: 'Deploy Application' })
  ]
  await insertEvents(clickhouseFromEnv(ch.env), rows)
  // a handful of visitors: no minimum group size
  await edge.admin.putSite(SITE, { min_group_size: 1 })
  await edge.admin.rebuildVisits(...utcDays(rows))

  // bad settings are refused, naming the field
  const refused = await fetch(`${edge.url}/api/admin/sites/${SITE}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: JSON.stringify({ webhooks: [{ url: 'ftp://hooks.example/x', secret: SECRET }] })
  })
  assert.equal(refused.status, 400)
  assert.match((await refused.json()).error, /^webhooks\[0\]\.url: "ftp:\/\/hooks.example\/x" is not an https URL/)

  await edge.admin.putSite(SITE, {
    min_group_size: 1,
    goals: [{ event_name: 'Deploy Application' }],
    reports: [{ frequency: 'weekly', recipients: ['platform@portal.test'] }],
    alerts: [
      { name: 'Busy hour', kind: 'spike', threshold: 4, hours: 1, recipients: ['oncall@portal.test'] },
      { name: 'Very busy hour', kind: 'spike', threshold: 5, hours: 1, recipients: ['oncall@portal.test'] },
      { name: 'Quiet hour', kind: 'drop', threshold: 4, hours: 1, recipients: ['oncall@portal.test'] },
      { name: 'Deploys', kind: 'goal', goal: 'Deploy Application', threshold: 2, hours: 1 }
    ],
    webhooks: [
      { url: `http://127.0.0.1:${hooks.port}/flaky`, secret: SECRET },
      { url: `http://127.0.0.1:${hooks.port}/down`, secret: SECRET }
    ]
  })

  const run = async () => {
    const response = await fetch(`${edge.url}/api/admin/notifications/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }
    })
    assert.equal(response.status, 200)
    return response.json()
  }
  const first = await run()
  assert.deepEqual(first.failed, [])
  assert.deepEqual(first.sent.sort(), [
    `${SITE} alert:Busy hour`,
    `${SITE} alert:Deploys`,
    // a report's key: its period and a tag of its recipients (notify::schedule)
    `${SITE} report:weekly:${week.date(week.first)}:${createHash('sha256').update('platform@portal.test').digest('hex').slice(0, 8)}`
  ])
  // two alerts to two endpoints: /flaky takes the second attempt, /down none
  assert.equal(first.delivered, 2)
  assert.equal(first.pending, 2)
  // the failed ones are kept, with their error, for the hourly runs after 30 minutes
  const waiting = (await edge.admin.settings()).webhook_deliveries
  assert.equal(waiting.length, 2)
  for (const delivery of waiting) {
    assert.deepEqual(
      [delivery.url, delivery.attempts, delivery.error],
      [`http://127.0.0.1:${hooks.port}/down`, 2, 'HTTP 302']
    )
    assert.ok(Math.abs(delivery.next_ms - (Date.now() + 30 * 60_000)) < 60_000)
  }

  // the e-mails, as the SMTP server received them
  assert.equal(mail.length, 2)
  const alertMail = mail.find((m) => m.to.includes('oncall@portal.test'))
  assert.equal(alertMail.from, 'analytics@portal.test')
  const alertText = decoded(alertMail)
  assert.match(alertText.head, /^Subject: notify\.test: traffic spike \(Busy hour\)$/m)
  assert.match(
    alertText.text,
    /^notify\.test had 4 visitors in the last hour, at or above the alert's threshold of 4\./
  )
  const report = decoded(mail.find((m) => m.to.includes('platform@portal.test')))
  assert.match(
    report.head,
    new RegExp(`^Subject: notify\\.test: weekly report, ${week.date(week.first)} to ${week.date(week.last)}$`, 'm')
  )
  const lines = report.text.split('\n').map((l) => l.replace(/ +/g, ' '))
  for (const line of [
    'Visitors 3 (+200 % on the week before)',
    'Pageviews 4 (+300 % on the week before)',
    'Bounce rate 67 % (-33 points on the week before)',
    ' /create 2, 2',
    ' Direct / None 2',
    ' GitHub 1'
  ]) {
    assert.ok(lines.includes(line), `${line} in\n${report.text}`)
  }
  assert.doesNotMatch(report.text, /Deploy Application/, 'last week had no deploys: no goal rows')

  // the webhooks: signed as Standard Webhooks, the same id and body on a retry
  const flaky = calls.filter((c) => c.path === '/flaky')
  assert.equal(flaky.length, 4)
  for (const call of calls) {
    const { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': signature } = call.headers
    const expected = createHmac('sha256', SECRET_KEY).update(`${id}.${ts}.${call.body}`).digest('base64')
    assert.equal(signature, `v1,${expected}`)
    assert.ok(Math.abs(Number(ts) * 1000 - call.at) < 60_000)
  }
  const byId = Map.groupBy(flaky, (c) => c.headers['webhook-id'])
  assert.equal(byId.size, 2)
  for (const [, attempts] of byId) {
    assert.equal(attempts.length, 2)
    assert.equal(attempts[0].body, attempts[1].body)
    assert.ok(attempts[1].at - attempts[0].at >= 4_500, 'the retry waited its backoff')
  }
  const bodies = [...byId.values()].map(([c]) => JSON.parse(c.body))
  const deploys = bodies.find((b) => b.data.alert === 'Deploys')
  assert.equal(deploys.type, 'alert.fired')
  assert.deepEqual(
    [deploys.data.kind, deploys.data.goal, deploys.data.visitors, deploys.data.threshold],
    ['goal', 'Deploy Application', 2, 2]
  )
  // a redirect is not followed (it could lead into this network): /flaky saw only its own four
  assert.equal(calls.filter((c) => c.path === '/down').length, 4)

  // again at once: the alerts are quiet for their window, the report was sent,
  // and the failed deliveries wait their backoff (30 minutes)
  const before = calls.length
  const second = await run()
  assert.deepEqual([second.sent, second.delivered, second.pending, second.failed], [[], 0, 0, []])
  assert.equal(mail.length, 2)
  assert.equal(calls.length, before)
})
