// The npm package, imported by a bundled app (esbuild, as a bundler user would)
// and run in headless Chromium beside Plausible's own npm tracker: same app
// code, same payloads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import * as esbuild from 'esbuild'
import { root } from '../scripts/lib/paths.mjs'
import { serverAndBrowser } from './support/fixture.mjs'
import { run, pageHtml, comparable } from './support/scenario.mjs'

const fixture = serverAndBrowser()

async function bundle(packagePath, app = 'npm-app.js') {
  const result = await esbuild.build({
    entryPoints: [join(root, 'tests/fixtures', app)],
    bundle: true,
    format: 'esm',
    minify: true,
    write: false,
    alias: { 'tracker-under-test': packagePath },
    logLevel: 'error'
  })
  return result.outputFiles[0].text
}

async function runApp(name, packagePath) {
  fixture.server.pages.set(`/bundle/${name}.js`, await bundle(packagePath))
  return run(fixture.browser, fixture.server, {
    html: pageHtml({ tag: `<script type="module" src="/bundle/${name}.js"></script>` }),
    path: '/catalog?token=abc&tab=1',
    steps: async (page) => {
      await page.evaluate(() => window.app.deploy())
      const secret = await page.evaluate(() => window.app.secret())
      assert.equal(secret, 'ignored', `${name}: transformRequest dropped the event and the callback heard it`)
      await page.click('#outbound')
      await page.click('#download')
      await page.evaluate(() => window.app.navigate('/docs'))
    }
  })
}

test('a bundled app sends the same payloads with our package as with Plausible’s', async () => {
  const ours = await runApp('ours', join(root, 'pkg'))
  const theirs = await runApp('plausible', '@plausible-analytics/tracker')
  assert.deepEqual(ours.errors, [])
  assert.deepEqual(ours.payloads.map(comparable), theirs.payloads.map(comparable))
  const names = ours.payloads.map((p) => p.n)
  assert.deepEqual(names, [
    'pageview',
    'Deploy Application',
    'Outbound Link: Click',
    'File Download',
    'engagement',
    'pageview'
  ])
  assert.deepEqual(ours.payloads[1].p, {
    team: 'platform',
    event: 'Deploy Application',
    language: 'nodejs',
    template: 'express'
  })
  assert.equal(ours.payloads[0].u.includes('token'), false, 'transformRequest rewrote the URL')
  assert.deepEqual(ours.writes, [])
})

test('DEFAULT_FILE_TYPES matches Plausible’s list', async () => {
  const { DEFAULT_FILE_TYPES: theirs } = await import('@plausible-analytics/tracker')
  const ours = (await import(join(root, 'pkg/dist/index.js'))).DEFAULT_FILE_TYPES
  assert.deepEqual(ours, theirs)
})

test("misuse throws Plausible's errors, as @plausible-analytics/tracker does; bindToWindow marks window.plausible", async () => {
  fixture.server.pages.set('/bundle/misuse.js', await bundle(join(root, 'pkg'), 'npm-misuse.js'))
  const result = await run(fixture.browser, fixture.server, {
    html: pageHtml({ tag: '<script type="module" src="/bundle/misuse.js"></script>' }),
    steps: async (page) => {
      assert.deepEqual(await page.evaluate(() => window.misuse()), [
        ['track before init', 'threw: plausible.track() can only be called after plausible.init()'],
        ['init without a domain', 'threw: plausible.init(): domain argument is required'],
        ['init', 'returned'],
        ['init twice', 'threw: plausible.init() can only be called once']
      ])
      assert.deepEqual(await page.evaluate(() => [window.plausible.s, window.plausible.l]), ['npm', true])
    }
  })
  assert.deepEqual(result.errors, [])
  assert.ok(!result.payloads.some((p) => p.n === 'Early'), 'the early event is not sent')
})
