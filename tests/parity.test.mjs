// Payload parity with Plausible's own published tracker: every scenario runs
// once with our script tag and once with @plausible-analytics/tracker, in
// headless Chromium, and both must send the same payloads in the same order
// (ignoring `v`, and `e`'s exact milliseconds). This is the compatibility
// proof: Plausible's servers accept ours, and our edge accepts Plausible's.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { serverAndBrowser } from './support/fixture.mjs'
import { run, pageHtml, trackerTag, comparable, DOMAIN } from './support/scenario.mjs'

const fixture = serverAndBrowser()

const origin = () => `http://${DOMAIN}:${fixture.server.port}`

// Plausible's documented exclusion semantics (its legacy script's RegExp), as
// the peer's transformRequest: the independent oracle for our Rust globs.
const exclusionOracle = (patterns) => `{ transformRequest: function (payload) {
  var excluded = ${JSON.stringify(patterns)}.split(',').some(function (wildcard) {
    return location.pathname.match(new RegExp('^' + wildcard.trim().replace(/\\*\\*/g, '.*').replace(/([^\\.])\\*/g, '$1[^\\\\s\\/]*') + '\\/?$'));
  });
  return payload.n === 'pageview' && excluded ? null : payload;
} }`

const scenarios = [
  {
    name: 'pageview on load, with referrer',
    referer: 'http://search.test/?q=backstage',
    expect: (p) =>
      assert.deepEqual(p, [{ n: 'pageview', u: `${origin()}/`, d: DOMAIN, r: 'http://search.test/?q=backstage' }])
  },
  {
    name: 'SPA navigation: pathname changes count, query-only changes do not, popstate counts',
    path: '/catalog',
    steps: async (page) => {
      await page.evaluate(() => window.scrollTo(0, 600))
      await page.evaluate(() => history.pushState({}, '', '/catalog?kind=service'))
      await page.evaluate(() => history.pushState({}, '', '/docs/adr'))
      await page.waitForTimeout(100)
      await page.evaluate(() => history.pushState({}, '', '/docs/adr?page=2'))
      await page.goBack()
      await page.waitForTimeout(100)
      await page.goBack()
    },
    expect: (p) => {
      const names = p.map((x) => x.n)
      assert.deepEqual(names, ['pageview', 'engagement', 'pageview', 'engagement', 'pageview'], JSON.stringify(p))
      assert.equal(p[1].u, `${origin()}/catalog`, 'engagement reports the page being left')
    }
  },
  {
    name: 'hash-based routing',
    ours: { attrs: { 'data-hash': true } },
    plausible: { init: { hashBasedRouting: true } },
    path: '/#/catalog',
    steps: async (page) => {
      await page.evaluate(() => (location.hash = '#/docs'))
      await page.waitForTimeout(100)
      await page.evaluate(() => (location.hash = '#/docs?tab=2'))
    },
    expect: (p) =>
      assert.deepEqual(
        p.filter((x) => x.n === 'pageview').map((x) => [x.u.split('#')[1], x.h]),
        [
          ['/catalog', 1],
          ['/docs', 1],
          ['/docs?tab=2', 1]
        ]
      )
  },
  {
    name: 'custom events with props, revenue, non-interactive and custom URL',
    steps: async (page) => {
      await page.evaluate(() => {
        plausible('Deploy Application', { props: { language: 'nodejs', template: 'express' } })
        plausible('Purchase', {
          revenue: { amount: 10.5, currency: 'EUR' },
          props: { plan: 'team', seats: 5, trial: false }
        })
        plausible('Background Sync', { interactive: false })
        plausible('Custom URL', { u: 'http://portal.test/users/:id' })
        plausible('Quote "and" \\ unicode ✓', { props: { 'key with space': 'line\nbreak' } })
      })
    },
    expect: (p) => {
      assert.equal(p.length, 6)
      assert.deepEqual(p[1].p, { language: 'nodejs', template: 'express' })
      assert.deepEqual(p[2].$, { amount: 10.5, currency: 'EUR' })
      assert.equal(p[3].i, false)
      assert.equal(p[4].u, 'http://portal.test/users/:id')
    }
  },
  {
    name: 'outbound links and file downloads (left and middle click)',
    ours: { attrs: { 'data-outbound-links': true, 'data-file-downloads': true } },
    plausible: { init: { outboundLinks: true, fileDownloads: true } },
    steps: async (page) => {
      await page.click('#outbound')
      await page.click('#download')
      await page.click('#internal')
      await page.click('#mail')
      await page.click('#outbound', { button: 'middle' })
      await page.click('#iso')
    },
    expect: (p) =>
      assert.deepEqual(
        p.slice(1).map((x) => [x.n, x.p.url]),
        [
          ['Outbound Link: Click', 'http://github.test/org/repo?tab=readme'],
          ['File Download', `${origin()}/files/guide.pdf`],
          ['Outbound Link: Click', 'http://github.test/org/repo?tab=readme']
        ]
      )
  },
  {
    name: 'custom download extensions',
    ours: { attrs: { 'data-file-downloads': true, 'file-types': 'iso,img' } },
    plausible: { init: { fileDownloads: { fileExtensions: ['iso', 'img'] } } },
    steps: async (page) => {
      await page.click('#download')
      await page.click('#iso')
    },
    expect: (p) =>
      assert.deepEqual(
        p.slice(1).map((x) => [x.n, x.p.url]),
        [['File Download', `${origin()}/images/os.iso`]]
      )
  },
  {
    name: 'tagged events: buttons, links, nested targets, forms, revenue',
    ours: { attrs: { 'data-tagged-events': true, 'data-outbound-links': true } },
    plausible: { init: { outboundLinks: true } },
    steps: async (page) => {
      await page.click('#tagged')
      await page.click('#tagged-link')
      await page.click('#tagged-outbound')
      await page.click('#deep')
      await page.click('#revenue')
      await page.click('#submit')
      await page.click('#plain-submit')
    },
    expect: (p) => {
      assert.deepEqual(
        p.slice(1).map((x) => x.n),
        ['Deploy Application', 'Open Docs', 'Open Repo', 'Card Click', 'Upgrade', 'Create Service']
      )
      assert.deepEqual(p[1].p, { language: 'nodejs', template: 'express' })
      assert.deepEqual(p[1].$, {}, 'Plausible sends an empty revenue object for tagged events')
      assert.deepEqual(p[2].p, { section: 'guides', url: `${origin()}/docs/getting-started` })
      assert.deepEqual(p[5].$, { amount: '49.99', currency: 'USD' })
    }
  },
  {
    name: 'form submissions: every valid form, except tagged ones (which send their own event)',
    ours: { attrs: { 'data-form-submissions': true, 'data-tagged-events': true } },
    plausible: { init: { formSubmissions: true } },
    steps: async (page) => {
      await page.click('#plain-submit')
      await page.click('#submit')
    },
    expect: (p) =>
      assert.deepEqual(
        p.slice(1).map((x) => x.n),
        ['Form: Submission', 'Create Service']
      )
  },
  {
    name: 'exclusions: excluded pageviews are dropped, custom events still count',
    ours: { attrs: { 'data-exclude': '/admin/**, /private' } },
    plausible: { initSource: exclusionOracle('/admin/**, /private') },
    path: '/admin/users',
    steps: async (page) => {
      await page.evaluate(() => plausible('Signup'))
      await page.evaluate(() => history.pushState({}, '', '/public'))
      await page.evaluate(() => history.pushState({}, '', '/private/'))
      await page.evaluate(() => history.pushState({}, '', '/privateer'))
    },
    expect: (p) =>
      assert.deepEqual(
        p.filter((x) => x.n !== 'engagement').map((x) => [x.n, new URL(x.u).pathname]),
        [
          ['Signup', '/admin/users'],
          ['pageview', '/public'],
          ['pageview', '/privateer']
        ]
      )
  },
  {
    name: 'engagement: scroll depth and time, reported on blur and before the next page',
    steps: async (page) => {
      await page.evaluate(() => window.scrollTo(0, 1500))
      await page.waitForTimeout(200)
      await page.evaluate(() => window.dispatchEvent(new Event('blur')))
      await page.evaluate(() => window.dispatchEvent(new Event('focus')))
      await page.evaluate(() => history.pushState({}, '', '/next'))
    },
    expect: (p) => {
      const engagements = p.filter((x) => x.n === 'engagement')
      assert.ok(engagements.length >= 1, JSON.stringify(p))
      assert.ok(
        engagements.every((x) => x.sd > 0 && x.sd <= 100 && x.e === '<ms>' && x.u === `${origin()}/`),
        JSON.stringify(engagements)
      )
    }
  },
  {
    name: 'manual mode: only what the page sends, with its own URL',
    ours: { attrs: { 'data-manual': true } },
    plausible: { init: { autoCapturePageviews: false } },
    path: '/users/42',
    steps: async (page) => {
      await page.evaluate(() => history.pushState({}, '', '/users/43'))
      await page.evaluate(() => plausible('pageview', { u: 'http://portal.test/users/:id' }))
    },
    expect: (p) =>
      assert.deepEqual(
        p.map((x) => [x.n, x.u]),
        [['pageview', 'http://portal.test/users/:id']]
      )
  },
  {
    name: 'a page loaded hidden (prerendered, background tab) counts once, when first visible',
    beforeLoad: (page) =>
      page.addInitScript(() => {
        window.__visibility = 'hidden'
        Object.defineProperty(document, 'visibilityState', { get: () => window.__visibility })
      }),
    steps: async (page) => {
      await page.waitForTimeout(200)
      await page.evaluate(() => window.__sent.length).then((n) => assert.equal(n, 0, 'nothing while hidden'))
      await page.evaluate(() => {
        window.__visibility = 'visible'
        document.dispatchEvent(new Event('visibilitychange'))
        document.dispatchEvent(new Event('visibilitychange'))
      })
    },
    expect: (p) =>
      assert.deepEqual(
        p.map((x) => x.n),
        ['pageview']
      )
  },
  {
    name: 'ignored on localhost',
    host: '127.0.0.1',
    steps: async (page) => page.evaluate(() => plausible('Signup')),
    expect: (p) => assert.deepEqual(p, [])
  },
  {
    name: 'local capture opt-in',
    host: '127.0.0.1',
    ours: { attrs: { 'data-local': true } },
    plausible: { init: { captureOnLocalhost: true } },
    expect: (p) =>
      assert.deepEqual(
        p.map((x) => [x.n, x.d]),
        [['pageview', DOMAIN]]
      )
  },
  {
    name: 'ignored under browser automation (navigator.webdriver) without window.__plausible',
    automation: true,
    steps: async (page) => page.evaluate(() => plausible('Signup')),
    expect: (p) => assert.deepEqual(p, [])
  },
  {
    name: 'ignored when the visitor opted out (localStorage.plausible_ignore)',
    beforeLoad: (page) => page.addInitScript(() => localStorage.setItem('plausible_ignore', 'true')),
    // the opt-out itself, which the visitor set
    localItems: 1,
    steps: async (page) => page.evaluate(() => plausible('Signup')),
    expect: (p) => assert.deepEqual(p, [])
  }
]

async function runWith(tracker, scenario) {
  const options = scenario[tracker] || {}
  const result = await run(fixture.browser, fixture.server, {
    html: pageHtml({ tag: trackerTag(tracker, options), automation: scenario.automation }),
    path: scenario.path,
    host: scenario.host,
    steps: scenario.steps,
    referer: scenario.referer,
    beforeLoad: scenario.beforeLoad
  })
  assert.deepEqual(result.errors, [], `${tracker}: no page errors`)
  return result
}

for (const scenario of scenarios) {
  test(`parity: ${scenario.name}`, async () => {
    const ours = await runWith('ours', scenario)
    const theirs = await runWith('plausible', scenario)
    const oursComparable = ours.payloads.map(comparable)
    assert.deepEqual(oursComparable, theirs.payloads.map(comparable), 'same payloads as Plausible, in the same order')
    scenario.expect(oursComparable)
    // every payload reached the endpoint as Plausible's protocol says
    // (the server may also hold late engagement reports from the previous
    // page's unload, so this is containment, not equality)
    const bodies = ours.received.map((r) => r.body)
    for (const request of ours.requests) assert.ok(bodies.includes(request.body), `the server got ${request.body}`)
    for (const request of ours.requests) {
      assert.equal(request.method, 'POST')
      assert.deepEqual(request.headers, { 'Content-Type': 'text/plain' })
      assert.equal(request.keepalive, true)
    }
    for (const received of ours.received) assert.match(received.headers['content-type'], /^text\/plain/)
    // cookieless: nothing written, nothing stored (but what the scenario itself put there)
    assert.deepEqual(ours.writes, [])
    assert.deepEqual(ours.cookies, [])
    assert.deepEqual(ours.storage, { cookie: '', local: scenario.localItems ?? 0, session: 0, databases: 0 })
  })
}

test('leaving for another page and coming back, with an API slower than the visit: the same events as Plausible', async () => {
  const visit = async (tracker) => {
    const result = await run(fixture.browser, fixture.server, {
      html: pageHtml({ tag: trackerTag(tracker) }),
      // every request answered after 1 s: each page is left before its requests end
      beforeLoad: (page) =>
        page.route('**/api/event', async (route) => {
          await new Promise((resolve) => setTimeout(resolve, 1000))
          await route.continue()
        }),
      steps: async (page) => {
        await page.waitForTimeout(1200)
        await page.evaluate(() => {
          location.href = '/docs/getting-started'
        })
        await page.waitForTimeout(500)
        await page.goBack()
        await page.waitForTimeout(2500)
      }
    })
    // the distinct payloads the server received, in an order that does not depend on the
    // delays (a last engagement of the page come back to depends on when the run ends)
    return [...new Set(result.received.map((r) => JSON.stringify(comparable(JSON.parse(r.body)))))].sort()
  }
  const ours = await visit('ours')
  assert.deepEqual(ours, await visit('plausible'))
  assert.deepEqual(
    ours.map((p) => [JSON.parse(p).n, new URL(JSON.parse(p).u).pathname]),
    [
      ['engagement', '/'],
      ['engagement', '/docs/getting-started'],
      ['pageview', '/'],
      ['pageview', '/docs/getting-started']
    ]
  )
})

test('a page restored from the back/forward cache (pageshow, persisted) counts a pageview again (after the engagement of the view before), as Plausible', async () => {
  const restore = async (tracker) => {
    const result = await run(fixture.browser, fixture.server, {
      html: pageHtml({ tag: trackerTag(tracker) }),
      steps: async (page) => {
        // what Chromium fires on a bfcache restore; a plain pageshow (a first load) counts nothing
        await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: false })))
        await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })))
      }
    })
    return result.payloads.map(comparable)
  }
  const ours = await restore('ours')
  assert.deepEqual(ours, await restore('plausible'))
  assert.deepEqual(
    ours.map((p) => p.n),
    ['pageview', 'engagement', 'pageview']
  )
})
