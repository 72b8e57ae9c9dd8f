// Backstage's analytics events into Plausible's, privacy first (pure: no
// browser, no Backstage import; tested in tests/backstage-mapping.test.mjs).
//
//   navigate            → one pageview of the path (query and fragment dropped unless kept),
//                         with the props of where it is (plugin, extension, route)
//   an allowed action   → a custom event named by the action (or the name configured for it,
//                         e.g. create → "Create Service": a goal), with props saying where it
//                         happened: pluginId, extensionId (the legacy system's extension),
//                         routeRef, the
//                         entity's kind and name, the link's target (`to`), the value, and
//                         the attributes configured by name (e.g. language, template)
//   search              → only if allowed, and never its subject (the text a person typed)
//   anything else       → nothing
//
// Nothing identifies a person: no user entity, no identity, no subject of a search.

/** The actions sent as custom events when `app.analytics.edge.actions` is not set. */
export const DEFAULT_ACTIONS = ['click', 'create', 'discover']

/** Plausible keeps at most this many props per event, and values up to this length. */
export const MAX_PROPS = 30
export const MAX_PROP_CHARS = 2000

/** Entity kinds whose name is a person's: never sent. */
const PERSONAL_KINDS = new Set(['user'])

/**
 * The Plausible event a Backstage `AnalyticsEvent` becomes, or `null` when none is sent.
 * @param {{action: string, subject: string, value?: number, attributes?: Record<string, string|number|boolean>, context?: Record<string, unknown>}} event
 * @param {{actions?: string[], keepQuery?: boolean, origin?: string, eventNames?: Record<string, string>, attributes?: string[]}} options
 * @returns {{name: string, url?: string, props: Record<string, string|number|boolean>} | null}
 */
export function toPlausible(
  event,
  { actions = DEFAULT_ACTIONS, keepQuery = false, origin = '', eventNames = {}, attributes = [] } = {}
) {
  if (!event || typeof event.action !== 'string') return null
  const { action } = event
  if (action === 'navigate') {
    const subject = String(event.subject ?? '')
    const path = subject.startsWith('/') ? pathOf(subject, keepQuery) : ''
    if (!path) return null
    return { name: 'pageview', url: `${origin}${path}`, props: bounded(where(event.context ?? {})) }
  }
  if (!actions.includes(action)) return null
  const props = where(event.context ?? {})
  const to = event.attributes?.to
  if (typeof to === 'string' && to) props.to = pathOf(to, keepQuery) || to.split(/[?#]/)[0]
  if (typeof event.value === 'number' && Number.isFinite(event.value)) props.value = event.value
  // only the attributes named in the configuration: others may hold anything
  for (const key of attributes) {
    const value = event.attributes?.[key]
    if (key !== 'to' && ['string', 'number', 'boolean'].includes(typeof value)) props[key] = value
  }
  // a search's subject is what someone typed: it stays in the browser
  const name = typeof eventNames[action] === 'string' && eventNames[action] ? eventNames[action] : action
  return { name, props: bounded(props) }
}

/**
 * The props saying where in the portal an event happened: one `extensionId` for both frontend
 * systems (the legacy one calls it `extension`), so that one breakdown holds both.
 */
function where(context) {
  const props = {}
  // (Backstage's defaults say nothing: routeRef "unknown", the legacy app's extension "App")
  const known = (value) => typeof value === 'string' && value && value !== 'unknown'
  if (known(context.pluginId)) props.pluginId = context.pluginId
  const extension = known(context.extensionId) ? context.extensionId : context.extension !== 'App' && context.extension
  if (known(extension)) props.extensionId = extension
  if (known(context.routeRef)) props.routeRef = context.routeRef
  const entity = entityOf(context.entityRef)
  if (entity) {
    props.entityKind = entity.kind
    props.entityName = entity.name
  }
  return props
}

/**
 * `kind:namespace/name` (namespace and kind optional) as `{kind, name}`, lower-case kind;
 * `null` for none, or for a person's entity.
 */
export function entityOf(ref) {
  if (typeof ref !== 'string' || !ref) return null
  const match = /^(?:([^:/]+):)?(?:([^:/]+)\/)?([^:/]+)$/.exec(ref.trim())
  if (!match) return null
  const kind = (match[1] ?? '').toLowerCase()
  if (!kind || PERSONAL_KINDS.has(kind)) return null
  return { kind, name: match[3] }
}

const BASE = 'http://portal.invalid'

/**
 * A path (`/a/b`), or another origin's URL as origin and path, without query and fragment
 * unless `keepQuery`; `''` for what is neither.
 */
export function pathOf(text, keepQuery = false) {
  let url
  try {
    url = new URL(text, BASE)
  } catch {
    return ''
  }
  const rest = keepQuery ? `${url.pathname}${url.search}${url.hash}` : url.pathname
  if (url.origin !== BASE) return `${url.origin}${rest}`
  return text.startsWith('/') ? rest : ''
}

function bounded(props) {
  const out = {}
  for (const [key, value] of Object.entries(props).slice(0, MAX_PROPS)) {
    out[key] = typeof value === 'string' ? value.slice(0, MAX_PROP_CHARS) : value
  }
  return out
}

/**
 * The module's settings from `app.analytics.edge` (read with `get(name, kind)`), or the reason
 * there are none: a missing or malformed host or domain stops the module, never the portal.
 * @param {(key: string, kind: 'string'|'strings'|'boolean'|'strings map') => unknown} get
 */
export function settingsFrom(get) {
  const host = get('host', 'string')
  const domain = get('domain', 'string')
  if (typeof host !== 'string' || !host) return { error: 'app.analytics.edge.host is not set' }
  let endpoint
  try {
    // a path (`/api/proxy/edge-analytics`): the portal's own origin, a first-party setup
    const url = new URL(host, host.startsWith('/') ? globalThis.location?.origin : undefined)
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme')
    endpoint = `${url.origin}${url.pathname.replace(/\/+$/, '')}/api/event`
  } catch {
    return { error: `app.analytics.edge.host ${JSON.stringify(host)} is not an http(s) URL` }
  }
  if (typeof domain !== 'string' || !/^[a-z0-9.-]+(,[a-z0-9.-]+)*$/i.test(domain.trim())) {
    return { error: `app.analytics.edge.domain ${JSON.stringify(domain ?? null)} is not a site domain` }
  }
  const actions = get('actions', 'strings')
  const attributes = get('attributes', 'strings')
  const eventNames = get('eventNames', 'strings map')
  return {
    endpoint,
    domain: domain.trim().toLowerCase(),
    actions: Array.isArray(actions) ? actions.filter((a) => typeof a === 'string') : DEFAULT_ACTIONS,
    attributes: Array.isArray(attributes) ? attributes.filter((a) => typeof a === 'string') : [],
    eventNames: eventNames && typeof eventNames === 'object' ? eventNames : {},
    keepQuery: get('keepQuery', 'boolean') === true,
    captureOnLocalhost: get('captureOnLocalhost', 'boolean') === true
  }
}
