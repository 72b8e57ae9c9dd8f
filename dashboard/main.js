// The dashboard: login, then a site's stats from the Stats API — top stats
// with their change, a chart, real-time visitors and the breakdown panels —
// or the settings. Every view is a URL (state.js); a click on a row adds a
// filter to it.
import uPlot from 'uplot'
import { api, setSharedLink } from './api.js'
import { BACKSTAGE_PROPS, PANELS, PERIODS, TOP_STATS } from './panels.js'
import { apiFilters, dateRange, previousPeriod, readState, stateUrl, yearBefore } from './state.js'

const app = document.getElementById('app')
let state = readState()
let sites = []
let account = null
// the shared link's token this page reads through (a /share/<token> page), if any
let sharing = ''
let realtimeTimer = 0
let renderToken = 0
const tabs = {}

/** An element: h('p', {class: 'x', onclick}, 'text', child…). */
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value)
    else el.setAttribute(name, value === true ? '' : value)
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child)
  return el
}

const countries = new Intl.DisplayNames(['en'], { type: 'region' })
const number = new Intl.NumberFormat('en-US')
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })

/**
 * A number the site's minimum group size hides: "< k" (the Stats API answers
 * null and says k in `meta.min_group_size`); any other null is "–".
 */
export function show(kind, value, k = null) {
  if ((value === null || value === undefined) && k) return `< ${k}`
  if (value === null || value === undefined) return '–'
  switch (kind) {
    case 'percent':
      return `${value}%`
    case 'decimal':
      return String(value)
    case 'duration': {
      const m = Math.floor(value / 60)
      return m ? `${m}m ${value % 60}s` : `${value}s`
    }
    default:
      return value >= 100_000 ? compact.format(value) : number.format(value)
  }
}

function label(dimension, value) {
  if (dimension === 'visit:country') {
    if (!value) return 'Unknown'
    try {
      return `${countries.of(value)} (${value})`
    } catch {
      return value
    }
  }
  return value === '' ? '(none)' : value
}

function navigate(next, replace = false) {
  state = next
  const url = stateUrl(state)
  if (replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  render()
}

window.addEventListener('popstate', () => {
  state = readState()
  render()
})

function base(extra = {}) {
  return { site_id: state.site, date_range: dateRange(state), filters: apiFilters(state), ...extra }
}

// ---- login -----------------------------------------------------------------

function renderLogin(message = '', how = {}) {
  clearInterval(realtimeTimer)
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' }, message)
  const code = h(
    'div',
    { class: 'code', hidden: true },
    h('label', { for: 'code' }, 'Code from your authenticator app (or a recovery code)'),
    h('input', { id: 'code', name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric' })
  )
  const form = h(
    'form',
    {
      class: 'login',
      'aria-labelledby': 'login-title',
      onsubmit: async (event) => {
        event.preventDefault()
        const data = new FormData(form)
        const button = form.querySelector('button[type=submit]')
        button.disabled = true
        try {
          await api.login(String(data.get('username')), String(data.get('password')), String(data.get('code') ?? ''))
          await start()
        } catch (failure) {
          if (failure.body?.second_factor === 'required' && code.hidden) {
            code.hidden = false
            code.querySelector('input').focus()
            error.textContent = ''
          } else {
            error.textContent =
              failure.status === 429 ? `Too many failed logins. Try again in ${failure.retryAfter} s.` : failure.message
          }
          button.disabled = false
        }
      }
    },
    h('h1', { id: 'login-title' }, 'Edge analytics'),
    how.single_sign_on
      ? h(
          'p',
          { class: 'sso' },
          h('a', { id: 'sso', class: 'button', href: '/api/auth/sso/start' }, 'Sign in with single sign-on')
        )
      : null,
    how.sso_only
      ? h(
          'p',
          { class: 'note' },
          'People sign in with single sign-on; the password is the installation administrator’s.'
        )
      : null,
    h('label', { for: 'username' }, 'E-mail address or user name'),
    h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, value: 'admin' }),
    h('label', { for: 'password' }, 'Password'),
    h('input', {
      id: 'password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true
    }),
    code,
    h('button', { type: 'submit' }, 'Log in'),
    error
  )
  app.replaceChildren(form)
  form.querySelector('#password').focus()
}

// ---- header and filters ----------------------------------------------------

function header() {
  const siteSelect = h(
    'select',
    { id: 'site', 'aria-label': 'Site', onchange: (e) => navigate({ ...state, site: e.target.value, filters: [] }) },
    sites.map((s) => h('option', { value: s.domain, selected: s.domain === state.site }, s.domain))
  )
  // named ranges, or "Custom…": two dates, both included, in the site's time zone
  const custom = h(
    'form',
    {
      class: 'custom-range',
      hidden: state.period !== 'custom',
      onsubmit: (e) => {
        e.preventDefault()
        const data = new FormData(e.target)
        const [from, to] = [String(data.get('from')), String(data.get('to'))].sort()
        navigate({ ...state, period: 'custom', from, to })
      }
    },
    h('label', { for: 'range-from' }, 'From'),
    h('input', { type: 'date', id: 'range-from', name: 'from', required: true, value: state.from }),
    h('label', { for: 'range-to' }, 'to'),
    h('input', { type: 'date', id: 'range-to', name: 'to', required: true, value: state.to }),
    h('button', { type: 'submit' }, 'Apply')
  )
  const periodSelect = h(
    'select',
    {
      id: 'period',
      'aria-label': 'Date range',
      onchange: (e) => {
        if (e.target.value === 'custom') custom.hidden = false
        else navigate({ ...state, period: e.target.value, from: '', to: '' })
      }
    },
    PERIODS.map(([value, text]) => h('option', { value, selected: value === state.period }, text)),
    h(
      'option',
      { value: 'custom', selected: state.period === 'custom' },
      state.period === 'custom' ? `${state.from} – ${state.to}` : 'Custom…'
    )
  )
  const compare = h(
    'select',
    { id: 'compare', 'aria-label': 'Compare', onchange: (e) => navigate({ ...state, compare: e.target.value }) },
    [
      ['', 'No comparison'],
      ['period', 'Compare with the previous period'],
      ['year', 'Compare with the year before']
    ].map(([value, text]) => h('option', { value, selected: value === state.compare }, text))
  )
  // the view as Plausible's CSV export: a zip of one CSV per panel
  const exportButton = h(
    'button',
    {
      type: 'button',
      id: 'export',
      class: 'link',
      onclick: async (e) => {
        const button = e.currentTarget
        button.disabled = true
        try {
          const blob = await api.exportView(base())
          const link = h('a', { href: URL.createObjectURL(blob), download: `${state.site}-export.zip`, hidden: true })
          document.body.append(link)
          link.click()
          link.remove()
          setTimeout(() => URL.revokeObjectURL(link.href), 60_000)
        } catch (failure) {
          button.after(h('span', { class: 'error', role: 'alert' }, failure.message))
        } finally {
          button.disabled = false
        }
      }
    },
    'Export CSV'
  )
  return h(
    'header',
    {},
    h(
      'nav',
      { 'aria-label': 'Site and period' },
      siteSelect,
      periodSelect,
      custom,
      compare,
      state.view === 'dashboard' ? exportButton : null
    ),
    state.view !== 'dashboard'
      ? null
      : h(
          'p',
          { class: 'realtime', 'aria-live': 'polite' },
          h('span', { class: 'dot', 'aria-hidden': 'true' }),
          h('strong', { id: 'realtime' }, '…'),
          ' current visitors'
        ),
    sharing ? null : h('nav', { 'aria-label': 'Account' }, ...views().map(viewLink), logoutButton())
  )
}

/** This person's role per site, and whether they are a super-admin. */
function siteRoles() {
  return { ...Object.fromEntries(sites.map((s) => [s.domain, s.role])), super_admin: account?.super_admin }
}

/** The views this person may open: the settings and people for managers, the audit log for owners. */
function views() {
  const manages = account?.super_admin || sites.some((s) => s.role === 'admin' || s.role === 'owner')
  const owns = account?.super_admin || sites.some((s) => s.role === 'owner')
  return [
    ['dashboard', 'Dashboard'],
    manages && ['settings', 'Settings'],
    manages && ['people', 'People'],
    owns && ['audit', 'Audit log'],
    ['privacy', 'Privacy'],
    ['account', 'Account']
  ].filter(Boolean)
}

function viewLink([view, text]) {
  return h(
    'a',
    {
      href: stateUrl({ ...state, view }),
      'aria-current': state.view === view ? 'page' : null,
      'data-view': view,
      onclick: (e) => {
        e.preventDefault()
        navigate({ ...state, view })
      }
    },
    text
  )
}

function logoutButton() {
  return h(
    'button',
    {
      type: 'button',
      class: 'link',
      onclick: async () => {
        await api.logout()
        renderLogin('Logged out.', await api.session().catch((failure) => failure.body ?? {}))
      }
    },
    'Log out'
  )
}

function filterBar() {
  if (!state.filters.length) return h('div', { id: 'filters', class: 'filters empty' })
  return h(
    'div',
    { id: 'filters', class: 'filters', role: 'list', 'aria-label': 'Filters' },
    state.filters.map((f, i) =>
      h(
        'span',
        { class: 'chip', role: 'listitem', 'data-filter': f.dimension },
        `${f.dimension.split(':').pop().replace('_', ' ')} ${f.operator.replace('_', ' ')} ${f.values.map((v) => label(f.dimension, v)).join(' or ')}`,
        h(
          'button',
          {
            type: 'button',
            'aria-label': `Remove the filter on ${f.dimension}`,
            onclick: () => navigate({ ...state, filters: state.filters.filter((_, j) => j !== i) })
          },
          '×'
        )
      )
    ),
    h('button', { type: 'button', class: 'link', onclick: () => navigate({ ...state, filters: [] }) }, 'Clear all')
  )
}

// Saved segments (named filter sets kept in the site's settings): one choice applies a set;
// a site's admins save the filters in use as one.
function segmentsBar() {
  const site = sites.find((s) => s.domain === state.site)
  // the dashboard's filters are flat conditions; a segment saved through the API may nest
  const flat = (f) => Array.isArray(f) && f.length === 3 && Array.isArray(f[2]) && !['and', 'or', 'not'].includes(f[0])
  const segments = (site?.segments ?? []).filter((s) => s.filters.every(flat))
  const manages =
    !sharing && !site?.blocked && (account?.super_admin || site?.role === 'admin' || site?.role === 'owner')
  if (!segments.length && !(manages && state.filters.length)) return null
  const select = segments.length
    ? h(
        'select',
        {
          id: 'segment',
          'aria-label': 'Segment',
          onchange: (e) => {
            const chosen = segments.find((s) => s.name === e.target.value)
            if (chosen)
              navigate({
                ...state,
                filters: chosen.filters.map(([operator, dimension, values]) => ({ dimension, operator, values }))
              })
          }
        },
        h('option', { value: '' }, 'Segments…'),
        segments.map((s) => h('option', { value: s.name }, s.name))
      )
    : null
  const save =
    manages && state.filters.length
      ? h(
          'form',
          {
            class: 'row-form segment-form',
            onsubmit: async (e) => {
              e.preventDefault()
              const name = String(new FormData(e.target).get('name')).trim()
              try {
                const full = (await api.settings()).sites.find((s) => s.domain === state.site)
                const next = [
                  ...(full.segments ?? []).filter((s) => s.name !== name),
                  { name, filters: apiFilters(state) }
                ]
                await api.putSite(state.site, { ...full, domain: undefined, segments: next })
                site.segments = next
                render()
              } catch (failure) {
                e.target.append(h('span', { class: 'error', role: 'alert' }, failure.message))
              }
            }
          },
          h('input', { name: 'name', 'aria-label': 'Segment name', placeholder: 'Name these filters', required: true }),
          h('button', { type: 'submit' }, 'Save segment')
        )
      : null
  return h('div', { class: 'segments' }, select, save)
}

function addFilter(dimension, value) {
  const filters = state.filters.filter((f) => f.dimension !== dimension)
  filters.push({ dimension, operator: 'is', values: [value] })
  navigate({ ...state, filters })
}

// ---- the dashboard's parts ----------------------------------------------------

async function topStats(el, token) {
  const metrics = TOP_STATS.map(([m]) => m)
  const now = await api.query(base({ metrics }))
  let before = null
  if (state.compare && now.query?.date_range) {
    const range = state.compare === 'year' ? yearBefore(now.query.date_range) : previousPeriod(now.query.date_range)
    before = await api.query(base({ metrics, date_range: range }))
  }
  if (token !== renderToken) return
  const values = now.results[0]?.metrics ?? []
  const previous = before?.results[0]?.metrics
  const k = now.meta?.min_group_size ?? null
  el.replaceChildren(
    ...TOP_STATS.map(([metric, text, kind], i) => {
      let change = null
      if (previous && previous[i] !== null && values[i] !== null) {
        const delta = previous[i] ? Math.round(((values[i] - previous[i]) / previous[i]) * 100) : values[i] ? 100 : 0
        // a lower bounce rate is the better direction
        const good = metric === 'bounce_rate' ? delta <= 0 : delta >= 0
        change = h(
          'span',
          { class: `change ${good ? 'up' : 'down'}`, 'data-change': metric },
          `${delta > 0 ? '↑' : delta < 0 ? '↓' : ''}${Math.abs(delta)}%`
        )
      }
      return h(
        'div',
        { class: 'stat', 'data-metric': metric },
        h('span', { class: 'label' }, text),
        h(
          'strong',
          {
            class: 'value',
            title: values[i] === null && k ? `Fewer than ${k} visitors: not shown (privacy settings)` : null
          },
          show(kind, values[i], k)
        ),
        change
      )
    })
  )
}

/** The site's chart notes; drawn as dashed lines on their day, listed under the chart. */
function notesPlugin(notes) {
  return {
    hooks: {
      draw: (u) => {
        const { ctx, bbox } = u
        ctx.save()
        ctx.strokeStyle = '#b45309'
        ctx.setLineDash([3, 3])
        for (const note of notes) {
          const x = u.valToPos(Date.parse(`${note.date}T00:00:00Z`) / 1000, 'x', true)
          if (x < bbox.left || x > bbox.left + bbox.width) continue
          ctx.beginPath()
          ctx.moveTo(x, bbox.top)
          ctx.lineTo(x, bbox.top + bbox.height)
          ctx.stroke()
        }
        ctx.restore()
      }
    }
  }
}

/** The notes under the chart; a site's admins add and remove them here. */
function notesList(el, notes, [from, to]) {
  const site = sites.find((s) => s.domain === state.site)
  const manages =
    !sharing && !site?.blocked && (account?.super_admin || site?.role === 'admin' || site?.role === 'owner')
  const shown = notes.filter((n) => n.date >= from.slice(0, 10) && n.date <= to.slice(0, 10))
  const list = h(
    'ul',
    { class: 'notes' },
    shown.map((note) =>
      h(
        'li',
        { 'data-note': note.id },
        h('time', { datetime: note.date }, note.date),
        ' ',
        note.text,
        manages
          ? h(
              'button',
              {
                type: 'button',
                class: 'link',
                'aria-label': `Remove the note ${note.text}`,
                onclick: async (e) => {
                  try {
                    await api.removeAnnotation(state.site, note.id)
                    render()
                  } catch (failure) {
                    e.target.after(h('span', { class: 'error', role: 'alert' }, failure.message))
                  }
                }
              },
              'Remove'
            )
          : null
      )
    )
  )
  const form = manages
    ? h(
        'form',
        {
          class: 'row-form notes-form',
          onsubmit: async (e) => {
            e.preventDefault()
            const data = new FormData(e.target)
            try {
              await api.annotate(state.site, { date: String(data.get('date')), text: String(data.get('text')) })
              render()
            } catch (failure) {
              e.target.append(h('span', { class: 'error', role: 'alert' }, failure.message))
            }
          }
        },
        h('label', { for: 'note-date' }, 'Note on'),
        h('input', { id: 'note-date', name: 'date', type: 'date', required: true, value: to.slice(0, 10) }),
        h('input', { name: 'text', 'aria-label': 'Note', placeholder: 'Backstage 1.32 rolled out', required: true }),
        h('button', { type: 'submit' }, 'Add note')
      )
    : null
  el.replaceChildren(...(shown.length ? [list] : []), ...(form ? [form] : []))
}

let chart = null
async function timeSeries(el, token, notesEl) {
  const [answer, notes] = await Promise.all([
    api.query(base({ metrics: ['visitors', 'pageviews'], dimensions: ['time'], include: { time_labels: true } })),
    api.annotations(state.site).then(
      (a) => a.annotations,
      () => []
    )
  ])
  if (token !== renderToken) return
  const labels = answer.meta.time_labels ?? []
  const byLabel = new Map(answer.results.map((r) => [r.dimensions[0], r.metrics]))
  // bucket labels are the site's local times; shown as such (UTC on the axis)
  const xs = labels.map((l) => Date.parse(l.length === 10 ? `${l}T00:00:00Z` : `${l.replace(' ', 'T')}Z`) / 1000)
  // with a minimum group size a bucket left out is empty or hidden (the answer
  // does not say which): a gap, not a zero
  const missing = answer.meta.min_group_size ? null : 0
  const visitors = labels.map((l) => (byLabel.has(l) ? byLabel.get(l)[0] : missing))
  const pageviews = labels.map((l) => (byLabel.has(l) ? byLabel.get(l)[1] : missing))
  chart?.destroy()
  el.replaceChildren()
  const width = Math.max(280, el.clientWidth || 800)
  chart = new uPlot(
    {
      width,
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      series: [
        {},
        { label: 'Visitors', stroke: '#4f46e5', fill: 'rgba(79,70,229,0.12)', width: 2 },
        { label: 'Pageviews', stroke: '#0f766e', width: 1.5, dash: [4, 4] }
      ],
      axes: [{}, { size: 56 }],
      plugins: [notesPlugin(notes)]
    },
    [xs, visitors, pageviews],
    el
  )
  if (notesEl) notesList(notesEl, notes, answer.query.date_range)
  if (answer.meta.suppressed) {
    el.append(
      h(
        'p',
        { class: 'suppressed', 'data-suppressed': String(answer.meta.suppressed) },
        `${answer.meta.suppressed} of ${labels.length} points had fewer than ${answer.meta.min_group_size} visitors and are not shown`
      )
    )
  }
  el.setAttribute('data-points', String(labels.length))
  el.setAttribute(
    'aria-label',
    `Visitors and pageviews, ${labels.length} points; ${visitors.reduce((a, b) => a + b, 0)} visitors in all`
  )
}

async function realtime(token) {
  try {
    const count = await api.realtime(state.site)
    // null: fewer than the site's minimum group size
    if (token === renderToken) document.getElementById('realtime').textContent = count === null ? 'few' : String(count)
  } catch {
    // shown again at the next tick
  }
}

function table(_panelId, dimension, answer, columns, kinds) {
  const rows = answer.results
  // groups the site's minimum group size hides are left out: say how many
  const hidden = answer.meta.suppressed
    ? h(
        'p',
        { class: 'suppressed', 'data-suppressed': String(answer.meta.suppressed) },
        `${answer.meta.suppressed} more with fewer than ${answer.meta.min_group_size} visitors each (or that would single one out) not shown`
      )
    : null
  if (!rows.length) return hidden ?? h('p', { class: 'none' }, 'No data yet')
  return h('div', {}, tableOf(rows, dimension, columns, kinds), hidden)
}

function tableOf(rows, dimension, columns, kinds) {
  const top = Math.max(...rows.map((r) => r.metrics[0] || 0), 1)
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, ''),
        columns.map((c) => h('th', { scope: 'col', class: 'num' }, c))
      )
    ),
    h(
      'tbody',
      {},
      rows.map((r) => {
        const value = r.dimensions[0]
        return h(
          'tr',
          { 'data-dimension': value },
          h(
            'td',
            { class: 'name' },
            h('span', { class: 'bar', style: `width:${((r.metrics[0] || 0) / top) * 100}%`, 'aria-hidden': 'true' }),
            h(
              'button',
              {
                type: 'button',
                class: 'row',
                title: `Filter by ${label(dimension, value)}`,
                onclick: () => addFilter(dimension, value)
              },
              label(dimension, value)
            )
          ),
          r.metrics.map((m, i) => h('td', { class: 'num', 'data-metric': String(i) }, show(kinds[i], m)))
        )
      })
    )
  )
}

const KIND = {
  visitors: 'count',
  visits: 'count',
  pageviews: 'count',
  events: 'count',
  bounce_rate: 'percent',
  percentage: 'decimal',
  conversion_rate: 'decimal',
  group_conversion_rate: 'decimal',
  time_on_page: 'duration',
  scroll_depth: 'percent'
}

async function panel(el, spec, token) {
  const index = tabs[spec.id] ?? 0
  const [, dimension, metrics, columns, scope = [], empty] = spec.tabs[index]
  const body = h('div', { class: 'body', 'aria-busy': 'true' })
  el.replaceChildren(
    h(
      'div',
      { class: 'panel-head' },
      h('h2', {}, spec.title),
      spec.tabs.length > 1
        ? h(
            'div',
            { role: 'tablist', 'aria-label': spec.title },
            spec.tabs.map(([text], i) =>
              h(
                'button',
                {
                  type: 'button',
                  role: 'tab',
                  'aria-selected': String(i === index),
                  onclick: () => {
                    tabs[spec.id] = i
                    panel(el, spec, renderToken)
                  }
                },
                text
              )
            )
          )
        : null
    ),
    body
  )
  // a goal's or a custom event's breakdown by its props once it is the filter
  const goal =
    spec.id === 'goals' &&
    state.filters.find((f) => ['event:goal', 'event:name'].includes(f.dimension) && f.operator === 'is')
  const query = base({ metrics, dimensions: [dimension], pagination: { limit: 9 } })
  query.filters = [...query.filters, ...scope]
  const answer = await api.query(query)
  if (token !== renderToken) return
  const kinds = metrics.map((m) => KIND[m] ?? 'count')
  body.replaceChildren(
    answer.results.length || !empty
      ? table(spec.id, dimension, answer, columns, kinds)
      : h('p', { class: 'none' }, empty)
  )
  body.removeAttribute('aria-busy')
  // the props listed in Settings; for a custom event also those the Backstage module sends
  // (only those the site lets be listed: `breakdown_props`, docs/privacy.md)
  const current = sites.find((s) => s.domain === state.site)
  const listed = current?.props ?? []
  const allowed = (key) => !Array.isArray(current?.breakdown_props) || current.breakdown_props.includes(key)
  const keys = goal?.dimension === 'event:name' ? [...new Set([...listed, ...BACKSTAGE_PROPS])].filter(allowed) : listed
  if (goal && !keys.length)
    body.append(h('p', { class: 'none' }, 'List custom properties in Settings to break goals down by them.'))
  if (goal && keys.length) {
    const key = keys.includes(tabs.propKey) ? tabs.propKey : keys[0]
    const select = h(
      'select',
      {
        'aria-label': 'Property',
        onchange: (e) => {
          tabs.propKey = e.target.value
          panel(el, spec, renderToken)
        }
      },
      keys.map((k) => h('option', { value: k, selected: k === key }, k))
    )
    // (a conversion rate is a goal's)
    const withRate = goal.dimension === 'event:goal'
    const props = await api.query(
      base({
        metrics: withRate ? ['visitors', 'events', 'conversion_rate'] : ['visitors', 'events'],
        dimensions: [`event:props:${key}`],
        pagination: { limit: 9 }
      })
    )
    if (token !== renderToken) return
    body.append(
      h(
        'div',
        { class: 'props', 'data-props': key },
        h('h3', {}, `${goal.values[0]} by `, select),
        table(
          'props',
          `event:props:${key}`,
          props,
          withRate ? ['Uniques', 'Total', 'CR'] : ['Uniques', 'Total'],
          withRate ? ['count', 'count', 'decimal'] : ['count', 'count']
        )
      )
    )
  }
}

// The site's saved funnels (Settings): one at a time, each step's visits as a bar of the
// visits that entered, with the drop-off from the step before.
async function funnelPanel(el, token) {
  const funnels = sites.find((s) => s.domain === state.site)?.funnels ?? []
  if (!funnels.length) return el.remove()
  const name = funnels.some((f) => f.name === tabs.funnel) ? tabs.funnel : funnels[0].name
  const select = h(
    'select',
    {
      'aria-label': 'Funnel',
      onchange: (e) => {
        tabs.funnel = e.target.value
        funnelPanel(el, renderToken).catch((failure) =>
          el.append(h('p', { class: 'error', role: 'alert' }, failure.message))
        )
      }
    },
    funnels.map((f) => h('option', { value: f.name, selected: f.name === name }, f.name))
  )
  const body = h('div', { 'aria-busy': 'true' })
  el.replaceChildren(h('div', { class: 'panel-head' }, h('h2', {}, 'Funnels'), select), body)
  const answered = await api.funnel(base({ funnel: name }))
  const { funnel } = answered
  if (token !== renderToken) return
  const k = answered.meta?.min_group_size ?? null
  const rate = (x) => (x === null ? show('count', x, k) : `${x}%`)
  const count = (n) => show('count', n, k)
  body.replaceChildren(
    h(
      'p',
      { class: 'none' },
      `${count(funnel.entering_visits)} of ${count(funnel.all_visits)} visits entered (${rate(funnel.entering_visits_percentage)})`
    ),
    h(
      'ol',
      { class: 'funnel' },
      funnel.steps.map((step, i) =>
        h(
          'li',
          { 'data-step': i + 1 },
          h(
            'div',
            { class: 'step-head' },
            h('span', {}, step.label),
            h('span', { class: 'figures' }, `${count(step.visits)} visits · ${rate(step.conversion_rate)}`)
          ),
          h(
            'div',
            { class: 'track', 'aria-hidden': 'true' },
            h('span', { class: 'bar', style: `width:${step.conversion_rate ?? 0}%` })
          ),
          i
            ? h('p', { class: 'dropoff' }, `${count(step.dropoff)} dropped off (${rate(step.dropoff_percentage)})`)
            : null
        )
      )
    )
  )
  body.removeAttribute('aria-busy')
}

async function renderDashboard() {
  const token = ++renderToken
  const top = h('section', { id: 'top', class: 'top', 'aria-label': 'Top stats', 'aria-busy': 'true' })
  const chartEl = h('section', { id: 'chart', class: 'chart', role: 'img', 'aria-label': 'Visitors over time' })
  const panels = PANELS.map((spec) => h('section', { class: 'panel', 'data-panel': spec.id, 'aria-label': spec.title }))
  const funnelEl = h('section', { class: 'panel', 'data-panel': 'funnels', 'aria-label': 'Funnels' })
  const notesEl = h('section', { class: 'notes-panel', 'aria-label': 'Notes on the chart' })
  app.replaceChildren(
    header(),
    filterBar(),
    segmentsBar(),
    h('main', {}, top, chartEl, notesEl, h('div', { class: 'grid' }, panels), funnelEl)
  )
  clearInterval(realtimeTimer)
  realtime(token)
  realtimeTimer = setInterval(() => realtime(token), 10_000)
  const work = [
    topStats(top, token),
    timeSeries(chartEl, token, notesEl),
    ...PANELS.map((spec, i) => panel(panels[i], spec, token)),
    funnelPanel(funnelEl, token)
  ]
  const results = await Promise.allSettled(work)
  if (token !== renderToken) return
  top.removeAttribute('aria-busy')
  const failed = results.find((r) => r.status === 'rejected')
  if (failed?.reason?.status === 401)
    return sharing
      ? app.replaceChildren(h('p', { class: 'error', role: 'alert' }, 'This shared link is no longer valid.'))
      : renderLogin('Your session ended. Log in again.')
  if (failed)
    app.append(h('p', { class: 'error', role: 'alert' }, `Some panels could not load: ${failed.reason.message}`))
  document.body.dataset.loaded = String(token)
}

// the views besides the dashboard load when first opened: a first visit downloads the dashboard only
const settingsView = () => import('./settings.js')
const teamView = () => import('./team.js')
const privacyView = () => import('./privacy.js')
const VIEWS = {
  settings: async (main) => (await settingsView()).renderSettings(main, { api, h, reload: start, roles: siteRoles() }),
  people: async (main) => (await teamView()).renderPeople(main, { api, h, sites, account }),
  audit: async (main) => (await teamView()).renderAudit(main, { api, h }),
  privacy: async (main) => (await privacyView()).renderPrivacy(main, { api, h, site: state.site }),
  account: async (main) => (await teamView()).renderAccount(main, { api, h, account })
}

async function render() {
  const view = !sharing && VIEWS[state.view]
  if (view) {
    clearInterval(realtimeTimer)
    const token = ++renderToken
    const main = h('main', {})
    app.replaceChildren(header(), main)
    try {
      await view(main)
    } catch (failure) {
      if (failure.status === 401) return renderLogin('Your session ended. Log in again.')
      main.replaceChildren(h('p', { class: 'error', role: 'alert' }, failure.message))
    }
    if (token === renderToken) document.body.dataset.loaded = String(token)
    return
  }
  if (!sites.length) {
    app.replaceChildren(header(), h('main', {}, h('p', {}, 'No site yet: add one in Settings.')))
    return
  }
  await renderDashboard()
}

/** A /share/<token> page: the link's site, read through the link (its password asked first). */
async function startShared(token, grant = '') {
  setSharedLink(grant ? `${token}.${grant}` : token)
  let link
  try {
    link = await api.shared()
  } catch (failure) {
    if (failure.status === 401 && /password/.test(failure.message))
      return (await teamView()).renderUnlock(app, { api, h, token, done: (granted) => startShared(token, granted) })
    return app.replaceChildren(h('p', { class: 'error', role: 'alert' }, failure.message))
  }
  sites = [
    {
      domain: link.site,
      props: link.props,
      breakdown_props: link.breakdown_props,
      funnels: link.funnels,
      role: 'viewer'
    }
  ]
  state = { ...state, site: link.site, view: 'dashboard' }
  await render()
}

async function start() {
  const invitation = new URLSearchParams(location.search).get('invitation')
  if (invitation) {
    return (await teamView()).renderInvitation(app, {
      api,
      h,
      token: invitation,
      done: () => {
        history.replaceState(null, '', location.pathname)
        return start()
      }
    })
  }
  let session
  try {
    session = await api.session()
  } catch (failure) {
    return renderLogin(failure.status === 503 ? failure.message : '', failure.body ?? {})
  }
  account = session
  // the sites this person reads, with their role on each
  sites = session.sites
  if (!sites.some((s) => s.domain === state.site) && sites.length) {
    state = { ...state, site: sites[0].domain }
    history.replaceState(null, '', stateUrl(state))
  }
  await render()
}

const shared = /^\/share\/([^/]+)/.exec(location.pathname)
if (shared) {
  sharing = shared[1]
  startShared(sharing)
} else {
  start()
}
