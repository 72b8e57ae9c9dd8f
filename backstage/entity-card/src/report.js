// What the entity card asks the Stats API and what it shows (pure: no browser, no Backstage
// import; tested in tests/backstage-card.test.mjs). Over the last 30 days of the site:
//
//   the entity's catalog pages   /catalog/<namespace>/<kind>/<name>[/…]  views and visitors
//   the entity's docs pages      /docs/<namespace>/<kind>/<name>[/…]     views and visitors
//   both, per day                                                       the sparkline
//   its `create` events          the create event (named as the analytics module names it)
//                                whose entityKind and entityName props are the entity's: for a
//                                template, the services made from it
//
// Paths are matched as Backstage builds them (kind and namespace lower-case, the name as is),
// case-insensitively: a person may type either.

export const RANGE = '30d'
export const DEFAULT_PROXY_PATH = '/edge-analytics-stats'
export const DEFAULT_PAGES = { catalog: '/catalog', docs: '/docs' }

const escapeRe = (text) => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')

/**
 * An RE2 pattern for the pages of `entity` under the mount path `prefix` (e.g. `/catalog`):
 * the entity's page and every page below it, nothing else.
 * @param {string} prefix
 * @param {{kind: string, namespace?: string, name: string}} entity
 */
export function pagePattern(prefix, { kind, namespace, name }) {
  const parts = [prefix.replace(/\/+$/, ''), (namespace || 'default').toLowerCase(), kind.toLowerCase(), name]
  return `(?i)^${parts.map(escapeRe).join('/')}(/.*)?$`
}

/** The patterns of the entity's catalog pages and docs pages, under the app's mount paths. */
function entityPages(entity, pages) {
  return {
    catalog: pagePattern(pages.catalog || DEFAULT_PAGES.catalog, entity),
    docs: pagePattern(pages.docs || DEFAULT_PAGES.docs, entity)
  }
}

/**
 * The Stats API v2 queries of the card, by what they answer.
 * @param {{site: string, entity: {kind: string, namespace?: string, name: string}, pages?: {catalog?: string, docs?: string}, createEvent?: string}} what
 */
export function cardQueries({ site, entity, pages = {}, createEvent = 'create' }) {
  const { catalog, docs } = entityPages(entity, pages)
  const base = { site_id: site, date_range: RANGE }
  return {
    daily: {
      ...base,
      metrics: ['pageviews'],
      dimensions: ['time:day'],
      filters: [['matches', 'event:page', [catalog, docs]]],
      include: { time_labels: true }
    },
    catalog: { ...base, metrics: ['visitors', 'pageviews'], filters: [['matches', 'event:page', [catalog]]] },
    docs: { ...base, metrics: ['visitors', 'pageviews'], filters: [['matches', 'event:page', [docs]]] },
    created: {
      ...base,
      metrics: ['visitors', 'events'],
      filters: [
        ['is', 'event:name', [createEvent]],
        ['is', 'event:props:entityKind', [entity.kind.toLowerCase()]],
        ['is', 'event:props:entityName', [entity.name]]
      ]
    }
  }
}

/** The value of `metric` in an aggregate answer (`0` when there is no row). */
function total(answer, metric) {
  const at = answer?.query?.metrics?.indexOf(metric) ?? -1
  const value = at < 0 ? null : answer.results?.[0]?.metrics?.[at]
  return typeof value === 'number' ? value : 0
}

/**
 * What the card shows, from the answers to `cardQueries` (by the same names).
 * @returns {{days: {date: string, pageviews: number}[], catalog: {visitors: number, pageviews: number}, docs: {visitors: number, pageviews: number}, created: {visitors: number, events: number}}}
 */
export function cardFrom({ daily, catalog, docs, created }) {
  const byDay = new Map(
    (daily?.results ?? []).map((row) => [String(row.dimensions?.[0]).slice(0, 10), row.metrics?.[0]])
  )
  // every day of the range, a day without a view as 0 (the API lists them as time labels)
  const labels = daily?.meta?.time_labels ?? [...byDay.keys()]
  const days = labels.map((label) => {
    const date = String(label).slice(0, 10)
    const pageviews = byDay.get(date)
    return { date, pageviews: typeof pageviews === 'number' ? pageviews : 0 }
  })
  return {
    days,
    catalog: { visitors: total(catalog, 'visitors'), pageviews: total(catalog, 'pageviews') },
    docs: { visitors: total(docs, 'visitors'), pageviews: total(docs, 'pageviews') },
    created: { visitors: total(created, 'visitors'), events: total(created, 'events') }
  }
}

/**
 * The dashboard (or a shared link to it) showing the same pages over the same range: the
 * dashboard keeps its state in the URL (dashboard/state.js).
 */
export function dashboardLink(dashboardUrl, { site, entity, pages = {} }) {
  const url = new URL(dashboardUrl)
  const { catalog, docs } = entityPages(entity, pages)
  url.searchParams.set('site', site)
  url.searchParams.set('period', RANGE)
  url.searchParams.append('f', ['event:page', 'matches', catalog, docs].join('|'))
  return url.toString()
}

const isPath = (value) => typeof value === 'string' && /^\/[^\s?#]*$/.test(value)

/**
 * The card's settings from `app.analytics.edge` (read with `get(name, kind)`), or the reason
 * there are none, for the card to show instead of numbers.
 * @param {(key: string, kind: 'string'|'strings map') => unknown} get
 */
export function cardSettingsFrom(get) {
  const domain = get('domain', 'string')
  if (typeof domain !== 'string' || !/^[a-z0-9.-]+$/i.test(domain.trim())) {
    return { error: `app.analytics.edge.domain ${JSON.stringify(domain ?? null)} is not a site domain` }
  }
  const proxyPath = get('card.proxyPath', 'string') ?? DEFAULT_PROXY_PATH
  if (!isPath(proxyPath)) {
    return {
      error: `app.analytics.edge.card.proxyPath ${JSON.stringify(proxyPath)} is not a path such as /edge-analytics-stats`
    }
  }
  const pages = {}
  for (const which of ['catalog', 'docs']) {
    const path = get(`card.pages.${which}`, 'string') ?? DEFAULT_PAGES[which]
    if (!isPath(path)) {
      return {
        error: `app.analytics.edge.card.pages.${which} ${JSON.stringify(path)} is not a path such as ${DEFAULT_PAGES[which]}`
      }
    }
    pages[which] = path
  }
  const dashboardUrl = get('card.dashboardUrl', 'string')
  if (dashboardUrl !== undefined) {
    let url
    try {
      url = new URL(dashboardUrl)
    } catch {
      url = null
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      return { error: `app.analytics.edge.card.dashboardUrl ${JSON.stringify(dashboardUrl)} is not an http(s) URL` }
    }
  }
  const names = get('eventNames', 'strings map')
  const createEvent = typeof names?.create === 'string' && names.create ? names.create : 'create'
  // a dashboard link alone (no proxy set up): the card links, it does not query
  const query = get('card.proxyPath', 'string') !== undefined || dashboardUrl === undefined
  return { site: domain.trim().toLowerCase(), proxyPath, pages, dashboardUrl, createEvent, query }
}
