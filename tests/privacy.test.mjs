// Privacy for small audiences (docs/privacy.md): with a site's minimum group
// size k, no number comes from fewer than k visitors. Every Stats API answer
// must equal the brute-force oracle's, which applies the same rule the long
// way; an attacker differencing the API's answers must not recover a hidden
// cell; and the other read surfaces (realtime, funnels) and settings follow.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { oracleQueries } from './fixtures/stats-queries.mjs'
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
    ways.push({ kind: 'complement', plus: [body([], clauses, date_range)], minusShownOf: target })
    clauses.forEach((clause, c) => {
      const rest = clauses.filter((_, j) => j !== c)
      const [, name, [value]] = clause
      // 2. one clause less, minus its opposite
      ways.push({
        kind: 'one clause less',
        plus: [body([dimension], rest, date_range)],
        minus: [body([dimension], [...rest, ['is_not', name, [value]]], date_range)]
      })
      // 3. one value more, minus that value
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
    for (const way of ways) [...way.plus, ...(way.minus ?? []), way.minusShownOf].filter(Boolean).forEach(add)
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
        const derive = (read) => {
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
          return sum
        }
        const fromApi = derive((b, shownSum) => {
          const answer = api.get(JSON.stringify(b))
          if (shownSum) return answer.results.reduce((s, r) => s + (r.metrics[0] ?? 0), 0)
          return read(b, group, api)
        })
        const fromTruth = derive((b, shownSum) => {
          const answer = truth.get(JSON.stringify(b))
          // without the rule the attacker sees every group but this one
          if (shownSum)
            return answer.results.filter((r) => r.dimensions[0] !== group).reduce((s, r) => s + r.metrics[0], 0)
          return read(b, group, truth)
        })
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
  assert.ok(hiddenCells > 10, `${hiddenCells} hidden groups`)
  assert.ok(brokenWithoutTheRule > hiddenCells, `${brokenWithoutTheRule} attacks work without the rule`)
})
