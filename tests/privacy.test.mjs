// Privacy for small audiences (docs/privacy.md): with a site's minimum group
// size k, no number comes from fewer than k visitors. Every Stats API answer
// must equal the brute-force oracle's, which applies the same rule the long
// way; an attacker differencing the API's answers must not recover a hidden
// cell; and the other read surfaces (realtime, funnels) and settings follow.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { query } from '../scripts/lib/clickhouse.mjs'
import { insertEvents } from '../scripts/lib/events.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { oracleFunnels, oracleQueries } from './fixtures/stats-queries.mjs'
import { TEST_ADMIN_TOKEN } from './support/edge.mjs'
import { at } from './support/time.mjs'
import { BACKSTAGE, HOSTILE, PORTAL, SITES, statsFixture } from './support/stats.mjs'

const fx = statsFixture()

/** The fixture's sites with minimum group size `k`, in the Worker and for the oracle. */
async function setMinimumGroupSize(k) {
  const sites = SITES.map((site) => ({ ...site, min_group_size: k }))
  for (const { domain, ...settings } of sites) await fx.edge.admin.putSite(domain, settings)
  return sites
}

/** Every oracle query at `k`: each answer equals the oracle's; returns how many hid something. */
async function everyAnswerEqualsTheOracle(k) {
  const sites = await setMinimumGroupSize(k)
  const list = oracleQueries({ backstage: BACKSTAGE, portal: PORTAL, hostile: HOSTILE })
  const sent = []
  const answers = []
  for (const body of list) {
    sent.push({ body, now: Math.floor(Date.now() / 1000) })
    answers.push(await fx.stats(body))
  }
  const expected = await fx.oracle(sent, sites)
  let hiding = 0
  let showing = 0
  for (const [i, body] of list.entries()) {
    const { status, json } = answers[i]
    assert.equal(status, 200, `${JSON.stringify(body)} → ${JSON.stringify(json)}`)
    const { min_group_size, ...meta } = json.meta
    assert.equal(min_group_size, k, 'the answer says what its nulls mean')
    assert.deepEqual({ results: json.results, meta }, expected[i], `query ${i}: ${JSON.stringify(body)}`)
    if (meta.suppressed > 0) hiding++
    if (json.results.some((r) => r.metrics.some((m) => typeof m === 'number' && m > 0))) showing++
  }
  // a comparison of nothing but nulls, or of nothing hidden, would prove little
  assert.ok(hiding >= list.length / 10, `${hiding} of ${list.length} answers hide a group`)
  assert.ok(showing >= list.length / 2, `${showing} of ${list.length} answers show a number`)
  return { hiding, showing, of: list.length }
}

test('with a minimum group size, every Stats API answer equals the brute-force answer, rolled days or not', async () => {
  const raw = await everyAnswerEqualsTheOracle(3)
  for (let pass = { more: true }; pass.more; ) {
    pass = await fx.edge.admin.rollDays()
    assert.deepEqual(pass.failed, [])
  }
  const rolled = await everyAnswerEqualsTheOracle(3)
  assert.deepEqual(rolled, raw, 'the rolled days answer the same')
  console.log(`k = 3: ${raw.hiding} of ${raw.of} answers hide a group, ${raw.showing} show a number`)
})

/** A seeded random number generator (mulberry32), so that a failure can be replayed. */
function seeded(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// visitor-level properties: each visitor has one value, so that differences
// of visitor counts are exact (the attacker's best case)
const PROPERTIES = {
  'visit:country': ['DE', 'US', 'GB', 'FR', 'IN', 'BR', 'NL'],
  'visit:browser': ['Chrome', 'Firefox', 'Safari', 'Microsoft Edge'],
  'visit:os': ['Mac', 'Windows', 'GNU/Linux', 'iOS', 'Android'],
  'visit:device': ['Desktop', 'Mobile', 'Tablet']
}

test('an attacker differencing the answers recovers no hidden group (randomised)', async () => {
  const K = 5
  const seed = Number(process.env.PRIVACY_SEED ?? Date.now() % 1_000_000)
  const random = seeded(seed)
  const pick = (list) => list[Math.floor(random() * list.length)]
  const names = Object.keys(PROPERTIES)
  const sites = await setMinimumGroupSize(K)
  const truthSites = sites.map((s) => ({ ...s, min_group_size: 1 }))

  const body = (dimensions, filters, date_range) => ({
    site_id: BACKSTAGE,
    metrics: ['visitors'],
    date_range,
    dimensions,
    filters,
    pagination: { limit: 1000 }
  })
  // each attack: a target breakdown, and the queries whose shown answers
  // would give one of its groups by subtraction
  const attacks = []
  for (let i = 0; i < 40; i++) {
    const date_range = pick(['day', '7d', '30d'])
    const dimension = pick(names)
    const clauses = []
    for (const name of names.filter((n) => n !== dimension)) {
      if (clauses.length < 2 && random() < 0.5) clauses.push(['is', name, [pick(PROPERTIES[name])]])
    }
    if (clauses.length === 0) {
      const name = pick(names.filter((n) => n !== dimension))
      clauses.push(['is', name, [pick(PROPERTIES[name])]])
    }
    const target = body([dimension], clauses, date_range)
    const ways = []
    // 1. the complement: the total minus the shown groups
    const total = body([], clauses, date_range)
    ways.push({ kind: 'complement', plus: [total], minusShownOf: target })
    // 2. the complement, less each other hidden group asked for alone by its value
    ways.push({
      kind: 'hidden ones asked alone',
      plus: [total],
      minusShownOf: target,
      alone: PROPERTIES[dimension].map((value) => [
        value,
        body([], [...clauses, ['is', dimension, [value]]], date_range)
      ])
    })
    clauses.forEach((clause, c) => {
      const rest = clauses.filter((_, j) => j !== c)
      const [, name, [value]] = clause
      // 3. one clause less, minus its opposite
      ways.push({
        kind: 'one clause less',
        plus: [body([dimension], rest, date_range)],
        minus: [body([dimension], [...rest, ['is_not', name, [value]]], date_range)]
      })
      // 4. one value more, minus that value
      const other = pick(PROPERTIES[name].filter((v) => v !== value))
      const withOther = (values) => [...rest, ['is', name, values]]
      ways.push({
        kind: 'one value more',
        plus: [body([dimension], withOther([value, other]), date_range)],
        minus: [body([dimension], withOther([other]), date_range)]
      })
    })
    attacks.push({ target, ways })
  }

  // every query once, to the API (k = 5) and to the oracle without the rule (the truth)
  const bodies = new Map()
  const add = (b) => bodies.set(JSON.stringify(b), b)
  for (const { target, ways } of attacks) {
    add(target)
    for (const way of ways)
      [...way.plus, ...(way.minus ?? []), ...(way.alone ?? []).map(([, b]) => b), way.minusShownOf]
        .filter(Boolean)
        .forEach(add)
  }
  const keys = [...bodies.keys()]
  const now = Math.floor(Date.now() / 1000)
  const api = new Map()
  for (const key of keys) {
    const { status, json } = await fx.stats(bodies.get(key))
    assert.equal(status, 200, `${key} → ${JSON.stringify(json)}`)
    api.set(key, json)
  }
  const truthAnswers = await fx.oracle(
    keys.map((key) => ({ body: bodies.get(key), now })),
    truthSites
  )
  const truth = new Map(keys.map((key, i) => [key, truthAnswers[i]]))
  // a group's visitors in an answer: a number, or null when hidden (absent
  // from a breakdown that, without the rule, has it); 0 when it has none
  const read = (b, group, answers) => {
    const key = JSON.stringify(b)
    const answer = answers.get(key)
    if (b.dimensions.length === 0) return answer.results[0]?.metrics[0] ?? 0
    const row = answer.results.find((r) => r.dimensions[0] === group)
    if (row) return row.metrics[0]
    return truth.get(key).results.some((r) => r.dimensions[0] === group) ? null : 0
  }

  let hiddenCells = 0
  let brokenWithoutTheRule = 0
  let tried = 0
  for (const { target, ways } of attacks) {
    const targetKey = JSON.stringify(target)
    const shown = api.get(targetKey)
    for (const row of truth.get(targetKey).results) {
      const group = row.dimensions[0]
      const secret = row.metrics[0]
      // a hidden group of fewer than K visitors: what the attacker is after
      if (secret >= K || shown.results.some((r) => r.dimensions[0] === group)) continue
      hiddenCells++
      for (const way of ways) {
        // `shownOf(answer)`: the groups the attacker sees in the target's answer
        const derive = (read, shownOf) => {
          let sum = 0
          for (const b of way.plus) {
            const v = read(b)
            if (v === null) return null
            sum += v
          }
          for (const b of way.minus ?? []) {
            const v = read(b)
            if (v === null) return null
            sum -= v
          }
          if (way.minusShownOf) {
            const answer = read(way.minusShownOf, true)
            if (answer === null) return null
            sum -= answer
          }
          // each group not shown but this one, asked for alone
          const seen = shownOf()
          for (const [value, alone] of way.alone ?? []) {
            if (value === group || seen.has(value)) continue
            const v = read(alone)
            if (v === null) return null
            sum -= v
          }
          return sum
        }
        const fromApi = derive(
          (b, shownSum) => {
            const answer = api.get(JSON.stringify(b))
            if (shownSum) return answer.results.reduce((s, r) => s + (r.metrics[0] ?? 0), 0)
            return read(b, group, api)
          },
          () => new Set(shown.results.map((r) => r.dimensions[0]))
        )
        const fromTruth = derive(
          (b, shownSum) => {
            const answer = truth.get(JSON.stringify(b))
            // without the rule the attacker sees every group but this one
            if (shownSum)
              return answer.results.filter((r) => r.dimensions[0] !== group).reduce((s, r) => s + r.metrics[0], 0)
            return read(b, group, truth)
          },
          () =>
            new Set(
              truth
                .get(targetKey)
                .results.map((r) => r.dimensions[0])
                .filter((v) => v !== group)
            )
        )
        if (fromTruth === secret) brokenWithoutTheRule++
        if (fromApi === null) continue
        tried++
        assert.notEqual(
          fromApi,
          secret,
          `seed ${seed}: ${way.kind} recovers group ${group} (${secret} visitors) of ${targetKey}`
        )
      }
    }
  }
  console.log(
    `seed ${seed}: ${hiddenCells} hidden groups; ${brokenWithoutTheRule} attacks would recover one without the rule; ${tried} could be computed from shown numbers, none recovered one`
  )
  // the attacks are real: without the rule they work
  assert.ok(hiddenCells >= 5, `${hiddenCells} hidden groups`)
  assert.ok(brokenWithoutTheRule > hiddenCells, `${brokenWithoutTheRule} attacks work without the rule`)

  // another metric than visitors: the site's pageviews with and without a page of fewer than
  // K visitors differ by that page's pageviews, though the visitors may not differ at all
  const pages = (await fx.oracle([{ body: body(['event:page'], [], '7d'), now }], truthSites))[0].results
    .filter((r) => r.metrics[0] > 0 && r.metrics[0] < K)
    .slice(0, 10)
  assert.ok(pages.length > 3, `${pages.length} small pages`)
  const pageviews = (filters) => ({ ...body([], filters, '7d'), metrics: ['visitors', 'pageviews'] })
  const pairs = pages.map(({ dimensions: [page] }) => [pageviews([]), pageviews([['is_not', 'event:page', [page]]])])
  const truthPairs = await fx.oracle(
    pairs.flat().map((b) => ({ body: b, now })),
    truthSites
  )
  let telling = 0
  for (const [i, [all, without]] of pairs.entries()) {
    const [truthAll, truthWithout] = [truthPairs[2 * i], truthPairs[2 * i + 1]].map((a) => a.results[0].metrics)
    // without the rule the two tell the page's pageviews
    if (truthAll[1] - truthWithout[1] > 0) telling++
    const [a, w] = [(await fx.stats(all)).json, (await fx.stats(without)).json].map((j) => j.results[0].metrics)
    assert.ok(
      a[1] === null || w[1] === null || a[1] === w[1],
      `seed ${seed}: pageviews ${a[1]} and ${w[1]} tell those of ${pages[i].dimensions[0]}`
    )
  }
  assert.ok(telling === pages.length, `${telling} of ${pages.length} pairs differ without the rule`)
  console.log(
    `${pages.length} pages of fewer than ${K} visitors: each pair tells their pageviews without the rule, none with it`
  )
})

test('funnels: a step of fewer than k visitors, or whose drop-off is, is hidden with every later one, as the oracle says', async () => {
  const sites = await setMinimumGroupSize(3)
  const list = oracleFunnels({ backstage: BACKSTAGE, portal: PORTAL, hostile: HOSTILE })
  const now = Math.floor(Date.now() / 1000)
  const answers = []
  for (const body of list) answers.push(await fx.stats(body, fx.key, '/api/v2/funnel'))
  const expected = await fx.oracle(
    list.map((body) => ({ body, now })),
    sites
  )
  let hidden = 0
  let shown = 0
  for (const [i, body] of list.entries()) {
    const { status, json } = answers[i]
    assert.equal(status, 200, `${JSON.stringify(body)} → ${JSON.stringify(json)}`)
    assert.deepEqual({ funnel: json.funnel, meta: json.meta }, expected[i], `funnel ${i}: ${JSON.stringify(body)}`)
    hidden += json.meta.suppressed
    shown += json.funnel.steps.filter((s) => s.visits !== null).length
  }
  assert.ok(hidden >= 5 && shown >= 5, `${shown} steps shown, ${hidden} hidden`)
})

test('realtime below k is null; a prop outside breakdown_props is counted, never listed; bad settings are a 400', async () => {
  await setMinimumGroupSize(3)
  // the fixture's live visit: one visitor id in the last five minutes
  const realtime = async () =>
    (
      await fetch(`${fx.edge.url}/api/v1/stats/realtime/visitors?site_id=${PORTAL}`, {
        headers: { Authorization: `Bearer ${fx.key}` }
      })
    ).json()
  assert.equal(await realtime(), null)
  await setMinimumGroupSize(1)
  assert.equal(await realtime(), 1)

  const [backstage] = SITES
  await fx.edge.admin.putSite(BACKSTAGE, {
    ...backstage,
    domain: undefined,
    props: ['language', 'template'],
    breakdown_props: ['language']
  })
  const by = (prop, filters = []) =>
    fx.stats({ site_id: BACKSTAGE, metrics: ['visitors'], date_range: '30d', dimensions: [prop], filters })
  assert.equal((await by('event:props:language')).status, 200)
  const refused = await by('event:props:template')
  assert.equal(refused.status, 400)
  assert.match(
    refused.json.error,
    /^dimensions: event:props:template is not one of the site's breakdown_props \(language\)/
  )
  // … but it is counted: a filter on it answers
  const counted = await fx.stats({
    site_id: BACKSTAGE,
    metrics: ['visitors'],
    date_range: '30d',
    filters: [['is', 'event:props:template', ['express']]]
  })
  assert.equal(counted.status, 200)
  assert.ok(counted.json.results[0].metrics[0] > 0)

  const put = (settings) =>
    fetch(`${fx.edge.url}/api/admin/sites/${BACKSTAGE}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify(settings)
    })
  for (const [settings, message] of [
    [{ min_group_size: 0 }, 'min_group_size: 0 is not a whole number from 1 (off) to 1000'],
    [{ min_group_size: 1001 }, 'min_group_size: 1001 is not a whole number from 1 (off) to 1000'],
    [
      { props: ['language'], breakdown_props: ['team'] },
      `breakdown_props[0]: "team" is not one of the site's props (language)`
    ],
    [{ drop_opted_out: 'yes' }, 'drop_opted_out: "yes" is not true or false']
  ]) {
    const response = await put(settings)
    assert.equal(response.status, 400)
    assert.equal((await response.json()).error, message)
  }
  // a new site starts with the works-council rule: 5
  await fx.edge.admin.putSite('new.test')
  const { sites } = await fx.edge.admin.settings()
  assert.equal(sites.find((s) => s.domain === 'new.test').min_group_size, 5)
  await setMinimumGroupSize(1)
})

test('a site that asks drops events from browsers sending Global Privacy Control or Do Not Track, counted as drops', async () => {
  await fx.edge.admin.putSite('optout.test', { min_group_size: 1, drop_opted_out: true })
  await fx.edge.admin.putSite('optin.test', { min_group_size: 1 })
  const send = (domain, headers) =>
    fetch(`${fx.edge.url}/api/event`, {
      method: 'POST',
      headers: {
        'Content-Type': 'text/plain',
        'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36',
        'CF-Connecting-IP': '198.51.100.9',
        ...headers
      },
      body: JSON.stringify({ n: 'pageview', u: `https://${domain}/`, d: domain })
    })
  const dropped = (response) => response.headers.get('x-plausible-dropped')
  const gpc = await send('optout.test', { 'Sec-GPC': '1' })
  assert.equal(gpc.status, 202)
  assert.equal(dropped(gpc), '1')
  assert.equal(dropped(await send('optout.test', { DNT: '1' })), '1')
  const plain = await send('optout.test', {})
  assert.equal([plain.status, dropped(plain)].join(), '202,')
  const other = await send('optin.test', { 'Sec-GPC': '1' })
  assert.equal([other.status, dropped(other)].join(), '202,', 'a site that does not ask keeps them')
  // counted, like bots: two drops for optout.test, and its one event stored
  const deadline = Date.now() + 60_000
  for (;;) {
    const drops = await query(
      fx.clickhouse,
      "SELECT sum(count) FROM dropped_events WHERE site_domain = 'optout.test' AND reason = 'opted_out'"
    )
    const stored = await query(fx.clickhouse, "SELECT count() FROM events WHERE site_domain = 'optout.test'")
    if (Number(drops.trim() || 0) === 2 && Number(stored.trim()) === 1) break
    assert.ok(Date.now() < deadline, `drops ${drops.trim()}, stored ${stored.trim()}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
})

test('the privacy report: docs/privacy.md is the code’s, every proof is a test that exists, and a site’s report shows its settings', async () => {
  // the document's report is what the code makes today
  const { generated, withReport } = await import('../scripts/privacy-report.mjs')
  const doc = readFileSync(join(root, 'docs/privacy.md'), 'utf8')
  assert.equal(withReport(doc, generated()), doc, 'run node scripts/privacy-report.mjs')

  await fx.edge.admin.putSite(BACKSTAGE, {
    ...SITES[0],
    domain: undefined,
    min_group_size: 7,
    retention: '1y',
    props: ['language', 'user_email'],
    breakdown_props: ['language'],
    drop_opted_out: true
  })
  const response = await fetch(`${fx.edge.url}/api/v2/privacy?site_id=${BACKSTAGE}`, {
    headers: { Authorization: `Bearer ${fx.key}` }
  })
  assert.equal(response.status, 200)
  const report = await response.json()
  assert.equal(report.min_group_size, 7)
  const text = report.statements.map((s) => s.text).join('\n')
  for (const expected of [
    'No number is shown for fewer than 7 visitors',
    'older than 12 months are deleted (retention 1y)',
    "Only these custom properties' values may be listed: language",
    'are dropped and only counted (reason opted_out)',
    'deleted after at most 48 hours',
    'API keys'
  ])
    assert.ok(text.includes(expected), `${expected} in\n${text}`)
  // each statement's proof is a test of that name in that file
  for (const { proof } of report.statements) {
    const source = readFileSync(join(root, proof.file), 'utf8')
    assert.ok(
      source.includes(`test('${proof.test}'`) || source.includes(`test("${proof.test}"`),
      `${proof.file} has no test “${proof.test}”`
    )
  }

  // the settings' warnings: the e-mail prop is named so; its values are counted, never shown
  await insertEvents(fx.clickhouse, [
    {
      ...fx.events.find((e) => e.site_domain === BACKSTAGE && e.name === 'pageview'),
      name: 'Signup',
      timestamp: at(Date.now() - 60_000),
      'meta.key': ['user_email', 'language'],
      'meta.value': ['someone@portal.test', 'nodejs']
    }
  ])
  const props = await (
    await fetch(`${fx.edge.url}/api/admin/sites/${BACKSTAGE}/props`, {
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` }
    })
  ).json()
  const byKey = Object.fromEntries(props.props.map((p) => [p.key, p]))
  assert.match(byKey.user_email.warning, /^its name \(mail\) suggests it holds a person/)
  assert.equal(byKey.language.warning, null)
  assert.equal(byKey.language.breakdown, true)
  assert.equal(byKey.user_email.breakdown, false)
  assert.ok(!JSON.stringify(props).includes('someone@'), 'no value leaves ClickHouse')
  await setMinimumGroupSize(1)
})
