// The Worker's own failure paths: when it cannot do its work, every route
// still answers — a status and a message naming the cause, and on
// /api/event the CORS header, so that a tracker on any page sees it. (A
// wrangler dev of its own: the build it shares with another would reload that one.)
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startEdge } from './support/edge.mjs'

test('a misconfigured Worker answers every route with its 500 (CORS on /api/event), naming the variable', async () => {
  // nothing is asked of ClickHouse before the configuration is read
  const broken = await startEdge({
    clickhouseUrl: 'http://127.0.0.1:9',
    sites: [],
    vars: { TRUSTED_PROXY: 'bogus' },
    ready: [500]
  })
  try {
    const event = await fetch(`${broken.url}/api/event`, {
      method: 'POST',
      body: '{"n":"pageview","u":"https://portal.test/","d":"portal.test"}'
    })
    assert.equal(event.status, 500)
    assert.equal(event.headers.get('access-control-allow-origin'), '*', 'a tracker sees the status')
    const { error } = await event.json()
    assert.match(error, /TRUSTED_PROXY/)
    assert.ok(!error.includes('bogus'), 'the variable is named, its value not shown')
    for (const [path, init] of [
      ['/api/v2/query', { method: 'POST', body: '{}' }],
      ['/api/health', {}]
    ]) {
      const response = await fetch(`${broken.url}${path}`, init)
      assert.equal(response.status, 500, path)
      assert.match((await response.json()).error, /TRUSTED_PROXY/, path)
    }
  } finally {
    await broken.stop()
  }
})
