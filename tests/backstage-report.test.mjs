// The Backstage entity card's report (backstage/entity-card/src/report.js): which pages are the
// entity's, the Stats API queries the card sends, the numbers it shows from the answers, its
// link into the dashboard (read back by the dashboard's own state), and its settings.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  cardFrom,
  cardQueries,
  cardSettingsFrom,
  dashboardLink,
  pagePattern
} from '../backstage/entity-card/src/report.js'
import { readState } from '../dashboard/state.js'

const entity = { kind: 'Component', namespace: 'default', name: 'payments.api' }

/** The RE2 pattern as a JavaScript RegExp (RE2's leading `(?i)` is JavaScript's `i` flag). */
const regExp = (pattern) => {
  assert.ok(pattern.startsWith('(?i)'))
  return new RegExp(pattern.slice(4), 'i')
}

test("an entity's pages are its page and the pages below it, as Backstage builds their paths", () => {
  const pattern = regExp(pagePattern('/catalog', entity))
  for (const path of [
    '/catalog/default/component/payments.api',
    '/catalog/default/component/payments.api/',
    '/catalog/default/component/payments.api/dependencies',
    '/Catalog/Default/Component/payments.api'
  ])
    assert.ok(pattern.test(path), path)
  for (const path of [
    '/catalog/default/component/payments.api-v2',
    '/catalog/default/component/paymentsXapi',
    '/catalog/default/api/payments.api',
    '/catalog/other/component/payments.api',
    '/docs/default/component/payments.api',
    '/x/catalog/default/component/payments.api',
    '/catalog/default/component'
  ])
    assert.ok(!pattern.test(path), path)
  // a namespace left out is Backstage's default; a mount path's trailing slash is ignored
  assert.equal(
    pagePattern('/docs/', { kind: 'API', name: 'x' }),
    pagePattern('/docs', { kind: 'api', namespace: 'default', name: 'x' })
  )
})

test("the card's queries: 30 days of the site, the entity's pages, its create events by the module's name", () => {
  const queries = cardQueries({ site: 'portal.example', entity, createEvent: 'Create Service' })
  const catalog = pagePattern('/catalog', entity)
  const docs = pagePattern('/docs', entity)
  assert.deepEqual(Object.keys(queries), ['daily', 'catalog', 'docs', 'created'])
  for (const query of Object.values(queries)) {
    assert.equal(query.site_id, 'portal.example')
    assert.equal(query.date_range, '30d')
  }
  assert.deepEqual(queries.daily.dimensions, ['time:day'])
  assert.deepEqual(queries.daily.filters, [['matches', 'event:page', [catalog, docs]]])
  assert.deepEqual(queries.catalog.filters, [['matches', 'event:page', [catalog]]])
  assert.deepEqual(queries.docs.filters, [['matches', 'event:page', [docs]]])
  assert.deepEqual(queries.created.filters, [
    ['is', 'event:name', ['Create Service']],
    ['is', 'event:props:entityKind', ['component']],
    ['is', 'event:props:entityName', ['payments.api']]
  ])
  // mount paths of the app's own
  const moved = cardQueries({ site: 's', entity, pages: { docs: '/techdocs' } })
  assert.deepEqual(moved.docs.filters, [['matches', 'event:page', [pagePattern('/techdocs', entity)]]])
  assert.deepEqual(moved.created.filters[0], ['is', 'event:name', ['create']])
})

test("the numbers: every day of the range (a day without views is 0), the totals by the answer's metric order", () => {
  const report = cardFrom({
    daily: {
      query: { metrics: ['pageviews'] },
      results: [
        { dimensions: ['2026-11-02'], metrics: [3] },
        { dimensions: ['2026-11-04'], metrics: [1] }
      ],
      meta: { time_labels: ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'] }
    },
    catalog: { query: { metrics: ['visitors', 'pageviews'] }, results: [{ dimensions: [], metrics: [2, 3] }] },
    docs: { query: { metrics: ['pageviews', 'visitors'] }, results: [{ dimensions: [], metrics: [1, 1] }] },
    created: { query: { metrics: ['visitors', 'events'] }, results: [] }
  })
  assert.deepEqual(
    report.days.map((day) => day.pageviews),
    [0, 3, 0, 1]
  )
  assert.deepEqual(report.catalog, { visitors: 2, pageviews: 3 })
  assert.deepEqual(report.docs, { visitors: 1, pageviews: 1 })
  assert.deepEqual(report.created, { visitors: 0, events: 0 })
})

test('the link opens the dashboard (or a shared link) on the same pages and range, as the dashboard reads its URL', () => {
  const link = new URL(dashboardLink('https://analytics.example/share/abc?embed=1', { site: 'portal.example', entity }))
  assert.equal(link.pathname, '/share/abc')
  assert.equal(link.searchParams.get('embed'), '1')
  const state = readState(link.search)
  assert.equal(state.site, 'portal.example')
  assert.equal(state.period, '30d')
  assert.deepEqual(state.filters, [
    {
      dimension: 'event:page',
      operator: 'matches',
      values: [pagePattern('/catalog', entity), pagePattern('/docs', entity)]
    }
  ])
})

test('settings: defaults, the create event named as the module names it, a bad value named', () => {
  const from = (values) => cardSettingsFrom((key) => values[key])
  assert.deepEqual(from({ domain: 'Portal.Example ' }), {
    site: 'portal.example',
    proxyPath: '/edge-analytics-stats',
    pages: { catalog: '/catalog', docs: '/docs' },
    dashboardUrl: undefined,
    createEvent: 'create',
    query: true
  })
  const named = from({ domain: 'p.example', eventNames: { create: 'Create Service' }, 'card.proxyPath': '/stats' })
  assert.equal(named.createEvent, 'Create Service')
  assert.equal(named.proxyPath, '/stats')
  // a dashboard link alone: the card links and does not query
  assert.equal(from({ domain: 'p.example', 'card.dashboardUrl': 'https://a.example/share/x' }).query, false)
  assert.equal(
    from({ domain: 'p.example', 'card.dashboardUrl': 'https://a.example/', 'card.proxyPath': '/edge-analytics-stats' })
      .query,
    true
  )
  for (const [values, field] of [
    [{}, 'app.analytics.edge.domain'],
    [{ domain: 'a b' }, 'app.analytics.edge.domain'],
    [{ domain: 'p.example', 'card.proxyPath': 'edge-analytics' }, 'app.analytics.edge.card.proxyPath'],
    [{ domain: 'p.example', 'card.dashboardUrl': 'javascript:alert(1)' }, 'app.analytics.edge.card.dashboardUrl'],
    [{ domain: 'p.example', 'card.dashboardUrl': '/relative' }, 'app.analytics.edge.card.dashboardUrl'],
    [{ domain: 'p.example', 'card.pages.docs': 'docs' }, 'app.analytics.edge.card.pages.docs']
  ]) {
    const { error } = from(values)
    assert.ok(error?.startsWith(field), `${JSON.stringify(values)}: ${error}`)
  }
})
