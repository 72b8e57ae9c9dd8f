// The dashboard's state lives in the URL, so a view can be shared and the
// back button works: ?site=…&period=30d&compare=year&f=visit:source|is|Google
// (one `f` per filter; values are joined with `|`).

export function readState(search = location.search) {
  const params = new URLSearchParams(search)
  const filters = params
    .getAll('f')
    .map((f) => {
      const [dimension, operator, ...values] = f.split('|')
      return { dimension, operator, values }
    })
    .filter((f) => f.dimension && f.operator && f.values.length)
  return {
    site: params.get('site') || '',
    period: params.get('period') || '30d',
    from: params.get('from') || '',
    to: params.get('to') || '',
    // '' (none), 'period' (the period before; `1` in older links) or 'year' (the year before)
    compare: { 1: 'period', period: 'period', year: 'year' }[params.get('compare')] ?? '',
    view: params.get('view') || 'dashboard',
    filters
  }
}

export function stateUrl(state) {
  const params = new URLSearchParams()
  if (state.view && state.view !== 'dashboard') params.set('view', state.view)
  if (state.site) params.set('site', state.site)
  if (state.period === 'custom' && state.from && state.to) {
    params.set('period', 'custom')
    params.set('from', state.from)
    params.set('to', state.to)
  } else if (state.period) params.set('period', state.period)
  if (state.compare) params.set('compare', state.compare)
  for (const f of state.filters) params.append('f', [f.dimension, f.operator, ...f.values].join('|'))
  const query = params.toString()
  return `${location.pathname}${query ? `?${query}` : ''}`
}

/** The Stats API's `date_range` for the state. */
export function dateRange(state) {
  return state.period === 'custom' && state.from && state.to ? [state.from, state.to] : state.period
}

/** The Stats API's `filters` for the state. */
export function apiFilters(state) {
  return state.filters.map((f) => [f.operator, f.dimension, f.values])
}

/** The same days a year before `[from, to]` (local ISO datetimes from a query echo); 29 February is the 28th. */
export function yearBefore([from, to]) {
  const back = (date) => {
    const [y, m, d] = date.slice(0, 10).split('-')
    return `${Number(y) - 1}-${m}-${m === '02' && d === '29' ? '28' : d}`
  }
  return [back(from), back(to)]
}

/** The period just before `[from, to]` (local ISO datetimes from a query echo), as dates. */
export function previousPeriod([from, to]) {
  const day = 86_400_000
  const start = Date.parse(`${from.slice(0, 10)}T00:00:00Z`)
  const end = Date.parse(`${to.slice(0, 10)}T00:00:00Z`)
  const days = Math.round((end - start) / day) + 1
  const iso = (ms) => new Date(ms).toISOString().slice(0, 10)
  return [iso(start - days * day), iso(start - day)]
}
