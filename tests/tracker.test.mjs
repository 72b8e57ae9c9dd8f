// Our script tag's own contract beyond payload parity: the queue snippet,
// callbacks, Plausible's script-name extensions, privacy, and never breaking
// the host page (CSP without Wasm, blocked network, frozen history, bad input).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from '../scripts/lib/paths.mjs'
import { serverAndBrowser } from './support/fixture.mjs'
import { run, pageHtml, trackerTag, DOMAIN } from './support/scenario.mjs'

const fixture = serverAndBrowser()

// Plausible's documented snippet for calls made before the script loads.
const SNIPPET = `<script>window.plausible = window.plausible || function () { (window.plausible.q = window.plausible.q || []).push(arguments) }</script>`

async function ours(options = {}) {
  const { attrs, src, head = '', ...rest } = options
  const result = await run(fixture.browser, fixture.server, {
    html: pageHtml({ tag: trackerTag('ours', { attrs, src }), head }),
    ...rest
  })
  return result
}

const ALLOWED_KEYS = new Set(['n', 'u', 'd', 'r', 'p', '$', 'i', 'h', 'v', 'sd', 'e'])

test('early calls queued by the snippet are replayed in order, before the first pageview', async () => {
  const head = `${SNIPPET}<script>plausible('Early', { props: { step: '1' } }); plausible('Earlier?', { props: { step: '2' } })</script>`
  const { payloads, errors } = await ours({ head })
  assert.deepEqual(errors, [])
  assert.deepEqual(
    payloads.map((p) => [p.n, p.p?.step]),
    [
      ['Early', '1'],
      ['Earlier?', '2'],
      ['pageview', undefined]
    ]
  )
})

test("window.plausible.l (Plausible's loaded marker) is set once the tracker runs", async () => {
  let loaded
  await ours({
    steps: async (page) => {
      await page.waitForFunction(() => window.plausible?.l === true, null, { timeout: 5000 })
      loaded = await page.evaluate(() => typeof window.plausible === 'function' && window.plausible.l)
    }
  })
  assert.equal(loaded, true)
})

test('callbacks: {status} on a response, {error} on a network failure, nothing when ignored', async () => {
  const collect = async (page) =>
    page.evaluate(
      () =>
        new Promise((resolve) => {
          plausible('Signup', {
            callback: (...args) =>
              resolve(
                args.length
                  ? JSON.parse(JSON.stringify(args[0], (_k, v) => (v instanceof Error ? 'Error' : v)))
                  : 'no arguments'
              )
          })
          setTimeout(() => resolve('never called'), 3000)
        })
    )
  let answer
  await ours({ steps: async (page) => (answer = await collect(page)) })
  assert.deepEqual(answer, { status: 202 })

  await ours({
    beforeLoad: (page) => page.route('**/api/event', (route) => route.abort()),
    steps: async (page) => (answer = await collect(page))
  })
  assert.deepEqual(answer, { error: 'Error' }, 'the TypeError from fetch')

  await ours({
    beforeLoad: (page) => page.addInitScript(() => localStorage.setItem('plausible_ignore', 'true')),
    steps: async (page) => (answer = await collect(page))
  })
  assert.equal(answer, 'no arguments')
})

test("Plausible's script-name extensions switch features on: script.hash.outbound-links.js", async () => {
  const { payloads } = await ours({
    src: '/js/script.hash.outbound-links.js',
    path: '/#/home',
    steps: async (page) => {
      await page.evaluate(() => (location.hash = '#/docs'))
      await page.click('#outbound')
    }
  })
  const pageviews = payloads.filter((p) => p.n === 'pageview')
  assert.deepEqual(
    pageviews.map((p) => [new URL(p.u).hash, p.h]),
    [
      ['#/home', 1],
      ['#/docs', 1]
    ]
  )
  assert.ok(payloads.some((p) => p.n === 'Outbound Link: Click'))
})

test('each page runs the one build (script and Wasm) that holds the optional features it asks for, by name or attribute', async () => {
  const load = async (options) => {
    const files = []
    const { payloads } = await ours({
      ...options,
      beforeLoad: (page) =>
        page.on('request', (request) => /\/js\//.test(request.url()) && files.push(new URL(request.url()).pathname)),
      steps: async (page) => {
        await page.waitForFunction(() => window.plausible?.l === true)
        await page.click('#tagged')
        await page.click('#outbound')
      }
    })
    return { files, names: payloads.map((p) => p.n), hashes: payloads.map((p) => p.h) }
  }
  const plain = await load({})
  assert.deepEqual(plain.files, ['/js/script.js', '/js/script.wasm'])
  assert.deepEqual(plain.names, ['pageview'], 'no tagged or outbound events without their extensions')

  // Plausible's name: the server answers with the build it asks for
  const named = await load({ src: '/js/script.tagged-events.outbound-links.js' })
  assert.deepEqual(named.files, ['/js/script.tagged-events.outbound-links.js', '/js/script.links.tagged-events.wasm'])
  assert.ok(named.names.includes('Outbound Link: Click') && named.names.length === 3, `${named.names}`)

  // an attribute asks for more than the plain build has: the loader switches to the build that has it
  const excluded = await load({ attrs: { 'data-exclude': '/' } })
  assert.deepEqual(excluded.files, ['/js/script.js', '/js/script.exclusions.js', '/js/script.exclusions.wasm'])
  assert.deepEqual(excluded.names, [], 'the exclusion applies')
  const tagged = await load({ attrs: { 'data-tagged-events': true } })
  assert.deepEqual(tagged.files, ['/js/script.js', '/js/script.tagged-events.js', '/js/script.tagged-events.wasm'])
  assert.deepEqual(tagged.names, ['pageview', 'Deploy Application'])

  // a switch keeps what the first file's name asked for (hash routing, outbound links)
  const both = await load({
    src: '/js/script.hash.outbound-links.js',
    attrs: { 'data-exclude': '/nowhere' },
    path: '/#/home'
  })
  assert.deepEqual(both.files, [
    '/js/script.hash.outbound-links.js',
    '/js/script.exclusions.links.js',
    '/js/script.exclusions.links.wasm'
  ])
  assert.deepEqual(both.names, ['pageview', 'Outbound Link: Click'])
  assert.deepEqual(both.hashes, [1, 1])
})

test("pageview-props: the tag's event-* attributes are props of every event, an event's own value first", async () => {
  const { payloads } = await ours({
    src: '/js/script.pageview-props.js',
    attrs: { 'event-author': 'docs-team', 'event-plugin': 'techdocs' },
    steps: async (page) => {
      await page.evaluate(() => plausible('Deploy Application', { props: { author: 'me', language: 'nodejs' } }))
      await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')))
      await page.evaluate(() => history.pushState({}, '', '/next'))
    }
  })
  const props = (name) => payloads.filter((p) => p.n === name).map((p) => p.p)
  assert.deepEqual(props('pageview'), [
    { author: 'docs-team', plugin: 'techdocs' },
    { author: 'docs-team', plugin: 'techdocs' }
  ])
  assert.deepEqual(props('Deploy Application'), [{ author: 'me', language: 'nodejs', plugin: 'techdocs' }])
  assert.ok(props('engagement').length >= 1)
  for (const p of props('engagement')) assert.deepEqual(p, { author: 'docs-team', plugin: 'techdocs' })

  const plain = await ours({ attrs: { 'event-author': 'docs-team' } })
  assert.equal(plain.payloads[0].p, undefined, 'only with the pageview-props extension, as Plausible')
})

test('compat: a click that leaves the page waits for its event request to finish (keepalive otherwise)', async () => {
  const leave = async (src) => {
    const times = {}
    await ours({
      src,
      beforeLoad: async (page) => {
        // the event endpoint answers after 800 ms; the outbound site is a stub page
        await page.route('**/api/event', async (route) => {
          if (JSON.parse(route.request().postData()).n !== 'Outbound Link: Click') return route.continue()
          times.event = Date.now()
          await new Promise((resolve) => setTimeout(resolve, 800))
          await route.fulfill({ status: 202, body: 'ok' })
          times.answered = Date.now()
        })
        await page.route('http://github.test/**', (route) => {
          times.left = Date.now()
          return route.fulfill({
            contentType: 'text/html',
            body: '<script>window.__sent = []; window.__writes = []</script>'
          })
        })
      },
      steps: async (page) => {
        // after the tracker's listener: whether it held the click (this test page's own
        // window listener then keeps every other click on the page)
        await page.waitForFunction(() => window.plausible?.l === true)
        await page.evaluate(() =>
          document.addEventListener('click', (event) => {
            window.__held = event.defaultPrevented
          })
        )
        await page.click('#outbound')
        times.held = await page.evaluate(() => window.__held)
        // the 800 ms answer, and time to leave after it
        await page.waitForTimeout(2000)
      }
    })
    return times
  }
  const compat = await leave('/js/script.compat.outbound-links.js')
  assert.equal(compat.held, true)
  assert.ok(compat.event && compat.left >= compat.answered, `left after the answer: ${JSON.stringify(compat)}`)
  const plain = await leave('/js/script.outbound-links.js')
  assert.equal(plain.held, false, 'without compat the click is left alone (the request is keepalive)')
  assert.ok(plain.event && !plain.left, JSON.stringify(plain))
})

test('a server that does not send the Wasm as application/wasm still gets a working tracker (fetched again whole)', async () => {
  const wasmRequests = []
  const { payloads, errors } = await ours({
    beforeLoad: (page) =>
      page.route('**/*.wasm', (route) => {
        wasmRequests.push(route.request().url())
        const file = new URL(route.request().url()).pathname.split('/').pop()
        return route.fulfill({
          contentType: 'application/octet-stream',
          body: readFileSync(join(root, 'www/js', file))
        })
      })
  })
  assert.deepEqual(errors, [])
  assert.deepEqual(
    payloads.map((p) => p.n),
    ['pageview']
  )
  assert.equal(wasmRequests.length, 2, 'the streaming compile refused it, the second fetch compiled it')
})

test('privacy: only Plausible protocol fields leave the browser, no cookies, no storage', async () => {
  const result = await ours({
    attrs: { 'data-outbound-links': true, 'data-file-downloads': true, 'data-tagged-events': true },
    steps: async (page) => {
      await page.evaluate(() => window.scrollTo(0, 900))
      await page.click('#tagged')
      await page.click('#outbound')
      await page.evaluate(() => plausible('Deploy Application', { props: { language: 'nodejs' } }))
      await page.evaluate(() => history.pushState({}, '', '/next'))
    }
  })
  assert.ok(result.payloads.length >= 5)
  for (const payload of result.payloads) {
    for (const key of Object.keys(payload)) assert.ok(ALLOWED_KEYS.has(key), `unexpected field ${key}`)
  }
  assert.ok(!result.payloads.some((p) => 'w' in p), 'no screen width (fingerprinting)')
  for (const received of result.received) assert.equal(received.headers.cookie, undefined)
  assert.deepEqual(result.writes, [])
  assert.deepEqual(result.cookies, [])
  assert.deepEqual(result.storage, { cookie: '', local: 0, session: 0, databases: 0 })
})

test('never breaks the page: a CSP that refuses Wasm', async () => {
  let answer
  const result = await ours({
    headers: { 'Content-Security-Policy': "default-src 'self'; script-src 'self' 'unsafe-inline'" },
    steps: async (page) => {
      answer = await page.evaluate(
        () => new Promise((resolve) => plausible('Signup', { callback: (r) => resolve(Object.keys(r || {})) }))
      )
    }
  })
  assert.deepEqual(result.errors, [])
  assert.deepEqual(result.payloads, [])
  assert.deepEqual(answer, ['error'], 'the callback hears about it')
})

test('never breaks the page: fetch that throws, frozen history, bad arguments', async () => {
  const head = `<script>
    Object.freeze(history);
  </script>`
  let answers
  const result = await ours({
    head,
    steps: async (page) => {
      answers = await page.evaluate(async () => {
        const out = []
        const circular = {}
        circular.self = circular
        plausible()
        plausible(42)
        plausible('Bad props', { props: circular, callback: (r) => out.push(Object.keys(r)) })
        plausible('Odd options', 'not an object')
        plausible('Huge', { props: { big: 'x'.repeat(200000) }, callback: () => out.push('ignored') })
        // a URL too long for the tracker is not replaced by location.href
        plausible('Huge URL', { u: `/${'x'.repeat(200000)}`, callback: () => out.push('ignored url') })
        // page code that throws while a payload is written fails that event only
        const parse = JSON.parse
        JSON.parse = () => {
          throw new Error('patched')
        }
        plausible('Parse patched', { props: { a: 1 }, callback: (r) => out.push(Object.keys(r)) })
        JSON.parse = parse
        plausible('After parse')
        window.fetch = () => {
          throw new Error('blocked by an extension')
        }
        plausible('No network', { callback: (r) => out.push(Object.keys(r)) })
        history.pushState({}, '', '/after-freeze')
        await new Promise((r) => setTimeout(r, 300))
        return out
      })
    }
  })
  assert.deepEqual(result.errors, [])
  assert.deepEqual(answers, [['error'], 'ignored', 'ignored url', ['error'], ['error']])
  const names = result.payloads.map((p) => p.n)
  assert.equal(names[0], 'pageview')
  assert.ok(names.includes('Odd options'))
  assert.ok(names.includes('After parse') && !names.includes('Huge URL') && !names.includes('Parse patched'))
})

test('a router that wrapped pushState before us still gets one pageview per navigation', async () => {
  const head = `<script>
    var original = history.pushState;
    history.pushState = function () { window.__routed = (window.__routed || 0) + 1; return original.apply(this, arguments) };
  </script>`
  const result = await ours({ head, steps: (page) => page.evaluate(() => history.pushState({}, '', '/catalog')) })
  assert.deepEqual(
    result.payloads.filter((p) => p.n === 'pageview').map((p) => new URL(p.u).pathname),
    ['/', '/catalog']
  )
})

test('without document.currentScript (loaded as a module) the tag is still found', async () => {
  const html = pageHtml({ tag: `<script type="module" data-domain="${DOMAIN}" src="/js/script.js"></script>` })
  const result = await run(fixture.browser, fixture.server, { html })
  assert.deepEqual(result.errors, [])
  assert.deepEqual(
    result.payloads.map((p) => [p.n, p.d]),
    [['pageview', DOMAIN]]
  )
})

test('several domains in data-domain are sent as given (rollup sites)', async () => {
  const { payloads } = await ours({ attrs: { 'data-domain': `${DOMAIN},rollup.test` } })
  assert.equal(payloads[0].d, `${DOMAIN},rollup.test`)
})

test('data-api sends to another endpoint', async () => {
  const { payloads, received } = await ours({
    attrs: { 'data-api': `http://collector.test:${fixture.server.port}/api/event` }
  })
  assert.equal(payloads.length, 1)
  assert.ok(received.some((r) => r.host.startsWith('collector.test')))
})
