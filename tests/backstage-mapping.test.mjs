// The Backstage analytics module's mapping (backstage/analytics-module/src/mapping.js):
// Backstage's events into Plausible's, privacy first — one pageview a navigation, no query
// string or fragment unless asked, allowed actions only, props saying where, never a
// search's text or a person's entity — and its settings from app-config.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  DEFAULT_ACTIONS,
  entityOf,
  MAX_PROPS,
  pathOf,
  settingsFrom,
  toPlausible
} from '../backstage/analytics-module/src/mapping.js'

const context = {
  pluginId: 'catalog',
  extension: 'CatalogIndexPage',
  routeRef: 'catalog:index',
  entityRef: 'component:default/payments-api'
}

test('a navigation is one pageview of its path; the query and fragment stay unless kept', () => {
  const event = { action: 'navigate', subject: '/catalog?filters[owner]=ada#top', context }
  assert.deepEqual(toPlausible(event, { origin: 'https://portal.example' }), {
    name: 'pageview',
    url: 'https://portal.example/catalog',
    props: {
      pluginId: 'catalog',
      extensionId: 'CatalogIndexPage',
      routeRef: 'catalog:index',
      entityKind: 'component',
      entityName: 'payments-api'
    }
  })
  assert.equal(
    toPlausible(event, { origin: 'https://portal.example', keepQuery: true }).url,
    'https://portal.example/catalog?filters[owner]=ada#top'
  )
  for (const subject of ['', 'catalog', undefined]) {
    assert.equal(toPlausible({ action: 'navigate', subject, context }), null, `subject ${subject}`)
  }
})

test('an allowed action is a custom event with where it happened: plugin, extension, route, entity, link target, value', () => {
  const click = {
    action: 'click',
    subject: 'Ada Lovelace',
    value: 3,
    attributes: { to: '/docs/default/component/payments-api?token=secret#x' },
    context
  }
  assert.deepEqual(toPlausible(click), {
    name: 'click',
    props: {
      pluginId: 'catalog',
      extensionId: 'CatalogIndexPage',
      routeRef: 'catalog:index',
      entityKind: 'component',
      entityName: 'payments-api',
      to: '/docs/default/component/payments-api',
      value: 3
    }
  })
  assert.ok(!JSON.stringify(toPlausible(click)).includes('Ada'), 'a click’s subject (a link’s text) is not sent')
  const outbound = toPlausible({ ...click, attributes: { to: 'https://github.com/org/repo?x=1' } })
  assert.equal(outbound.props.to, 'https://github.com/org/repo')
  const created = toPlausible({
    action: 'create',
    subject: 'my-new-service',
    context: { pluginId: 'scaffolder', extensionId: 'page:scaffolder', entityRef: 'template:default/express-app' }
  })
  assert.deepEqual(created, {
    name: 'create',
    props: { pluginId: 'scaffolder', extensionId: 'page:scaffolder', entityKind: 'template', entityName: 'express-app' }
  })
  assert.equal(toPlausible({ action: 'hover', subject: 'x', context }), null, 'not in the allowlist')
  assert.deepEqual(DEFAULT_ACTIONS, ['click', 'create', 'discover'])
  assert.equal(toPlausible({ action: 'hover', subject: 'x', context }, { actions: ['hover'] }).name, 'hover')
})

test('a search is never sent with its text; a person’s entity never named', () => {
  const search = { action: 'search', subject: 'who broke payments', value: 12, context: { pluginId: 'search' } }
  assert.equal(toPlausible(search), null, 'not allowed by default')
  const allowed = toPlausible(search, { actions: ['search'] })
  assert.deepEqual(allowed, { name: 'search', props: { pluginId: 'search', value: 12 } })
  assert.ok(!JSON.stringify(allowed).includes('payments'))
  const onUser = toPlausible({
    action: 'click',
    subject: 'x',
    context: { pluginId: 'org', entityRef: 'user:default/ada' }
  })
  assert.deepEqual(onUser.props, { pluginId: 'org' })
  assert.equal(entityOf('User:default/ada'), null)
  assert.deepEqual(entityOf('group:default/platform'), { kind: 'group', name: 'platform' })
  assert.deepEqual(entityOf('Component:payments'), { kind: 'component', name: 'payments' })
  assert.equal(entityOf('payments'), null, 'no kind, nothing to tell')
  assert.equal(entityOf(42), null)
})

test('an action can count as a goal by name, with the attributes named in the configuration as props', () => {
  const event = {
    action: 'create',
    subject: 'my-service',
    attributes: { template: 'express', language: 'nodejs', owner: 'ada' },
    context: { pluginId: 'scaffolder' }
  }
  assert.deepEqual(
    toPlausible(event, { eventNames: { create: 'Create Service' }, attributes: ['template', 'language'] }),
    { name: 'Create Service', props: { pluginId: 'scaffolder', template: 'express', language: 'nodejs' } }
  )
  assert.deepEqual(toPlausible(event).props, { pluginId: 'scaffolder' }, 'no attribute unless named')
})

test('props stay within Plausible’s limits', () => {
  const long = { action: 'click', subject: '', context: { pluginId: 'p'.repeat(5000) } }
  assert.equal(toPlausible(long).props.pluginId.length, 2000)
  assert.ok(MAX_PROPS <= 30)
  assert.equal(pathOf('not a url at all'), '')
  assert.equal(pathOf('/a/b?c#d'), '/a/b')
})

test('settings: host and domain required and checked; the portal is never stopped by them', () => {
  const from = (config) => settingsFrom((key) => config[key])
  assert.deepEqual(from({ host: 'https://analytics.example.com/', domain: 'Backstage.Example.com' }), {
    endpoint: 'https://analytics.example.com/api/event',
    domain: 'backstage.example.com',
    actions: DEFAULT_ACTIONS,
    attributes: [],
    eventNames: {},
    keepQuery: false,
    captureOnLocalhost: false
  })
  assert.equal(
    from({ host: 'https://example.com/analytics', domain: 'a.example' }).endpoint,
    'https://example.com/analytics/api/event'
  )
  assert.match(from({ domain: 'a.example' }).error, /app\.analytics\.edge\.host is not set/)
  assert.match(from({ host: 'ftp://x', domain: 'a.example' }).error, /not an http\(s\) URL/)
  assert.match(
    from({ host: 'https://x.example', domain: 'not a domain' }).error,
    /app\.analytics\.edge\.domain "not a domain"/
  )
  assert.deepEqual(from({ host: 'https://x.example', domain: 'a.example', actions: ['create'] }).actions, ['create'])
})
