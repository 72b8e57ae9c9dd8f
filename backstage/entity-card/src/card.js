// The entity card: this entity's views and create events over 30 days, read from the Stats API
// through Backstage's proxy (the API key stays in the backend's config), or a link to the
// dashboard. Works in both frontend systems (index.js, alpha.js); never throws into the
// entity page: a bad configuration or a failed query is a message in the card.
import { InfoCard, Progress, TrendLine, WarningPanel } from '@backstage/core-components'
import { configApiRef, discoveryApiRef, fetchApiRef, useApi } from '@backstage/core-plugin-api'
import { useEntity } from '@backstage/plugin-catalog-react'
import { createElement as h, useEffect, useMemo, useState } from 'react'
import { cardFrom, cardQueries, cardSettingsFrom, dashboardLink } from './report.js'

/** Reads `app.analytics.edge.<key>` from a Backstage ConfigApi; a value of the wrong type reads as unset. */
function reader(config) {
  let section
  try {
    section = config.getOptionalConfig('app.analytics.edge')
  } catch {
    section = undefined
  }
  return (key, kind) => {
    try {
      if (kind === 'strings map') {
        const map = section?.getOptionalConfig(key)
        return map && Object.fromEntries(map.keys().map((name) => [name, map.getString(name)]))
      }
      return section?.getOptionalString(key)
    } catch {
      return undefined
    }
  }
}

/** POSTs each query to the Stats API behind the proxy; the answers by the queries' names. */
async function ask({ discovery, fetchApi, proxyPath }, queries) {
  const endpoint = `${await discovery.getBaseUrl('proxy')}${proxyPath}/api/v2/query`
  const entries = await Promise.all(
    Object.entries(queries).map(async ([name, body]) => {
      const response = await fetchApi.fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body)
      })
      const text = await response.text()
      let json
      try {
        json = JSON.parse(text)
      } catch {
        json = null
      }
      if (!response.ok) {
        // the analytics server's errors are strings; Backstage's (no such endpoint, no
        // credentials) are objects with a message
        if (typeof json?.error === 'string') {
          throw new Error(`The analytics server answered ${response.status}: ${json.error}`)
        }
        const said = json?.error?.message ?? text.slice(0, 200)
        throw new Error(
          `Backstage's proxy answered ${response.status} (${said}): is proxy.endpoints['${proxyPath}'] set in the backend's config?`
        )
      }
      return [name, json]
    })
  )
  return Object.fromEntries(entries)
}

const number = (n) => n.toLocaleString('en-US')

/** One line of the card: a label, a number, and the visitors behind it when there are. */
function Row({ id, label, value, visitors }) {
  return h(
    'div',
    { style: { display: 'flex', justifyContent: 'space-between', padding: '4px 0' } },
    h('span', null, label),
    h(
      'span',
      null,
      h('strong', { 'data-metric': id }, number(value)),
      visitors === undefined
        ? null
        : [
            ' by ',
            h('span', { key: 'v', 'data-metric': `${id}-visitors` }, number(visitors)),
            visitors === 1 ? ' visitor' : ' visitors'
          ]
    )
  )
}

/** The card "Analytics" of the entity in context. */
export function EntityAnalyticsCard({ title = 'Analytics' } = {}) {
  const { entity } = useEntity()
  const config = useApi(configApiRef)
  const discovery = useApi(discoveryApiRef)
  const fetchApi = useApi(fetchApiRef)
  const settings = useMemo(() => cardSettingsFrom(reader(config)), [config])
  const kind = entity?.kind ?? ''
  const namespace = entity?.metadata?.namespace ?? 'default'
  const name = entity?.metadata?.name ?? ''
  const [state, setState] = useState({ loading: true })

  useEffect(() => {
    if (settings.error || !settings.query || !kind || !name) return undefined
    let current = true
    setState({ loading: true })
    const queries = cardQueries({
      site: settings.site,
      entity: { kind, namespace, name },
      pages: settings.pages,
      createEvent: settings.createEvent
    })
    ask({ discovery, fetchApi, proxyPath: settings.proxyPath }, queries)
      .then((answers) => current && setState({ report: cardFrom(answers) }))
      .catch((error) => current && setState({ error: error.message }))
    return () => {
      current = false
    }
  }, [settings, discovery, fetchApi, kind, namespace, name])

  const link =
    settings.dashboardUrl &&
    dashboardLink(settings.dashboardUrl, {
      site: settings.site,
      entity: { kind, namespace, name },
      pages: settings.pages
    })
  const deepLink = link ? { title: 'Open in the dashboard', link } : undefined
  let body
  if (settings.error) body = h(WarningPanel, { title: 'Analytics is not configured', message: settings.error })
  else if (!settings.query) body = h('p', null, 'Views of this entity’s pages are in the dashboard.')
  else if (state.error) body = h(WarningPanel, { title: 'No numbers', message: state.error })
  else if (state.loading) body = h(Progress)
  else {
    const { report } = state
    const template = kind.toLowerCase() === 'template'
    const data = report.days.map((day) => day.pageviews)
    body = h(
      'div',
      { 'data-report': 'entity-analytics' },
      h(TrendLine, {
        data,
        // (Backstage's TrendLine draws ratios, 0 to 1, by default)
        min: 0,
        max: Math.max(1, ...data),
        width: 300,
        height: 40,
        svgHeight: 48,
        margin: 4,
        title: 'Views of its pages per day, last 30 days',
        color: '#3b82f6'
      }),
      h(Row, {
        id: 'catalog',
        label: 'Catalog page views',
        value: report.catalog.pageviews,
        visitors: report.catalog.visitors
      }),
      h(Row, { id: 'docs', label: 'Docs page views', value: report.docs.pageviews, visitors: report.docs.visitors }),
      template || report.created.events > 0
        ? h(Row, {
            id: 'created',
            label: template ? 'Created from this template' : `${settings.createEvent} events`,
            value: report.created.events,
            visitors: report.created.visitors
          })
        : null
    )
  }
  return h(InfoCard, { title, subheader: 'Last 30 days', deepLink, variant: 'gridItem' }, body)
}
