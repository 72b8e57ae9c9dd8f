#!/usr/bin/env node
// The post-deploy check, for Cloudflare or a self-hosted installation: the
// health check, one event, and one Stats API query that finds it.
// Usage: node scripts/smoke.mjs https://analytics.example.com --site SITE --api-key KEY
//        (or EDGE_URL, SMOKE_SITE, STATS_API_KEY in the environment)
// Exit 0 when all three pass; 1 with the failing step's reason otherwise. The
// event is a pageview of /smoke-check/<random> on SITE (a configured site):
// it is counted like any other, so use a staging site if that matters.
import { randomBytes } from 'node:crypto'

const args = process.argv.slice(2)
const option = (name) => {
  const index = args.indexOf(name)
  return index >= 0 ? args[index + 1] : undefined
}
const base = (args.find((a) => /^https?:\/\//.test(a)) || process.env.EDGE_URL || '').replace(/\/$/, '')
const site = option('--site') || process.env.SMOKE_SITE
const apiKey = option('--api-key') || process.env.STATS_API_KEY
if (!base || !site || !apiKey) {
  console.error('usage: node scripts/smoke.mjs https://HOST --site SITE --api-key KEY')
  process.exit(2)
}

const started = Date.now()
function pass(step, detail) {
  console.log(`ok   ${step}: ${detail} (${Date.now() - started} ms)`)
}
function fail(step, detail) {
  console.error(`FAIL ${step}: ${detail}`)
  process.exit(1)
}

// 1. health: the Worker runs, is configured, and reaches ClickHouse
let health
try {
  health = await fetch(`${base}/api/health`)
} catch (error) {
  fail('health', `${base} cannot be reached (${error.cause?.code || error.message})`)
}
const healthBody = await health.text()
if (health.status !== 200) fail('health', `${health.status} ${healthBody}`)
pass('health', healthBody)

// 2. one event, as a browser sends it (browser `n` of the check: each its own visitor)
const path = `/smoke-check/${randomBytes(6).toString('hex')}`
const send = (n) =>
  fetch(`${base}/api/event`, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/plain',
      'User-Agent': `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.${n}.0 Safari/537.36`
    },
    body: JSON.stringify({ n: 'pageview', u: `https://${site}${path}`, d: site })
  })
// the realtime count before (null: fewer than the site's minimum group size)
const askRealtime = () =>
  fetch(`${base}/api/v1/stats/realtime/visitors?site_id=${encodeURIComponent(site)}`, {
    headers: { Authorization: `Bearer ${apiKey}` }
  })
const realtime = async () => {
  const response = await askRealtime()
  if (response.status !== 200) fail('query', `${response.status} ${await response.text()} (the realtime count)`)
  return response.json()
}
// (asked before the event; a wrong key or site is named by the steps below)
const before = await askRealtime().then((r) => (r.ok ? r.json() : null))
const event = await send(0)
if (event.status !== 202) fail('event', `${event.status} ${await event.text()}`)
if (event.headers.get('x-plausible-dropped')) fail('event', `dropped: is ${site} a configured site?`)
pass('event', `202 for ${path}`)

// 3. the Stats API finds it (through the queue: up to a minute)
const deadline = Date.now() + 60_000
let k = null
for (;;) {
  if (k === null || k <= 1) {
    const answer = await fetch(`${base}/api/v2/query`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        site_id: site,
        metrics: ['pageviews'],
        date_range: 'day',
        filters: [['is', 'event:page', [path]]]
      })
    })
    const text = await answer.text()
    if (answer.status !== 200) fail('query', `${answer.status} ${text}`)
    const { results, meta } = JSON.parse(text)
    const pageviews = results?.[0]?.metrics?.[0]
    if (pageviews >= 1) {
      pass('query', `the Stats API counts ${pageviews} pageview of ${path}`)
      break
    }
    k = meta?.min_group_size ?? 1
    if (k > 1) {
      // the site shows no number from fewer than k visitors (docs/privacy.md), and a page
      // of the check's few visitors is one its rules hide: k browsers visit, and the
      // realtime count, which no filter or other rule touches, must grow by them
      if (k > 100) fail('query', `the site's minimum group size (${k}) is too large for this check to reach`)
      for (let n = 1; n < k; n++) if ((await send(n)).status !== 202) fail('event', `event ${n + 1} of ${k}`)
      pass('event', `${k} visitors for the site's minimum group size`)
    }
  } else {
    const now = await realtime()
    if (now !== null && now >= (before ?? 0) + k) {
      pass('query', `the realtime count went from ${before ?? `fewer than ${k}`} to ${now} visitors`)
      break
    }
  }
  if (Date.now() > deadline)
    fail('query', `the event was accepted but not counted within 60 s (the queue consumer's log says why)`)
  await new Promise((resolve) => setTimeout(resolve, 1000))
}
