#!/usr/bin/env node
// Load → first event: milliseconds from a page's navigation start (its
// `performance.timeOrigin`) to the start of its pageview request, in
// headless Chromium with a cold cache (a new browser context per run; the test
// server sends no-store) and the CPU slowed 4× (CDP), interleaved run by run:
//   script tag     our <script defer src="/js/script.js"> (then script.wasm)
//   npm            our package bundled into a one-line app (Wasm inlined)
//   Plausible npm  @plausible-analytics/tracker bundled into the same app
// Usage: node bench/first-event.mjs [RUNS=20]   (build first: node scripts/build-tracker.mjs)
import { join } from 'node:path'
import * as esbuild from 'esbuild'
import { root } from '../scripts/lib/paths.mjs'
import { launch } from '../tests/support/browser.mjs'
import { startServer } from '../tests/support/server.mjs'

const runs = Number(process.argv[2] || 20)
const HOST = 'portal.test'

/** A one-line app that starts `tracker` (a package path or name), as a bundler would ship it. */
async function app(tracker) {
  const result = await esbuild.build({
    stdin: {
      contents: `import { init } from ${JSON.stringify(tracker)}
init({ domain: ${JSON.stringify(HOST)}, endpoint: location.origin + '/api/event' })`,
      resolveDir: root
    },
    bundle: true,
    format: 'esm',
    minify: true,
    write: false,
    logLevel: 'error'
  })
  return result.outputFiles[0].text
}

// headless Chromium is automated: the trackers send only when the page says so
const page = (tag) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Portal</title><script>window.__plausible = true</script>${tag}</head><body><h1>Catalog</h1><p>${'A developer portal page. '.repeat(200)}</p></body></html>`
const trackers = {
  'script tag': page(`<script defer data-domain="${HOST}" src="/js/script.js"></script>`),
  npm: page('<script type="module" src="/bundle/ours.js"></script>'),
  'Plausible npm': page('<script type="module" src="/bundle/plausible.js"></script>')
}

const server = await startServer()
server.pages.set('/bundle/ours.js', await app(join(root, 'pkg')))
server.pages.set('/bundle/plausible.js', await app('@plausible-analytics/tracker'))
const browser = await launch()

/** One cold load of `html`: ms from navigation start to the pageview request. */
async function firstEvent(html) {
  server.pages.set(HOST, () => html)
  const context = await browser.newContext()
  const tab = await context.newPage()
  const cdp = await context.newCDPSession(tab)
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 })
  const sent = tab.waitForRequest('**/api/event', { timeout: 15_000 })
  await tab.goto(`http://${HOST}:${server.port}/`)
  const request = await sent
  await request.response()
  // both on the wall clock: the request's start, and the navigation's (timeOrigin)
  const ms = request.timing().startTime - (await tab.evaluate(() => performance.timeOrigin))
  await context.close()
  return ms
}

const times = Object.fromEntries(Object.keys(trackers).map((name) => [name, []]))
// one warm-up round, not counted
for (const html of Object.values(trackers)) await firstEvent(html)
for (let i = 0; i < runs; i++)
  for (const [name, html] of Object.entries(trackers)) times[name].push(await firstEvent(html))
await browser.close()
await server.close()

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]
const peer = [...times['Plausible npm']].sort((a, b) => a - b)
console.log(`${runs} runs each, interleaved, CPU slowed 4×, cold cache, ${new Date().toISOString().slice(0, 10)}`)
console.log('| tracker | p25 ms | median ms | p75 ms | × Plausible npm (median) |\n|---|---:|---:|---:|---:|')
for (const [name, values] of Object.entries(times)) {
  const sorted = [...values].sort((a, b) => a - b)
  const median = quantile(sorted, 0.5)
  console.log(
    `| ${name} | ${quantile(sorted, 0.25).toFixed(1)} | ${median.toFixed(1)} | ${quantile(sorted, 0.75).toFixed(1)} | ${(median / quantile(peer, 0.5)).toFixed(2)} |`
  )
}
