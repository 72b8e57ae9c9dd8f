// A local web server for the browser tests: serves the built tracker, test
// pages and Plausible's published tracker, and records every POST /api/event
// (body and headers) the way an ingestion endpoint receives it.
import { createServer } from 'node:http'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as esbuild from 'esbuild'
import { root } from '../../scripts/lib/paths.mjs'
import { buildFor } from '../../scripts/lib/build.mjs'

const types = { js: 'text/javascript', wasm: 'application/wasm', html: 'text/html; charset=utf-8' }

// Plausible's own npm tracker (@plausible-analytics/tracker), bundled for a
// script tag as `PlausibleTracker`: the peer every payload is compared with.
async function plausibleBundle() {
  const result = await esbuild.build({
    stdin: { contents: "export * from '@plausible-analytics/tracker'", resolveDir: root },
    bundle: true,
    format: 'iife',
    globalName: 'PlausibleTracker',
    write: false,
    logLevel: 'error'
  })
  return result.outputFiles[0].text
}

export async function startServer() {
  const events = []
  const pages = new Map()
  const plausible = await plausibleBundle()
  const server = createServer((request, response) => {
    const url = new URL(request.url, 'http://x')
    const send = (status, type, body, headers = {}) => {
      response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers })
      response.end(body)
    }
    if (request.method === 'POST' && url.pathname === '/api/event') {
      const chunks = []
      request.on('data', (c) => chunks.push(c))
      request.on('end', () => {
        events.push({
          body: Buffer.concat(chunks).toString('utf8'),
          headers: request.headers,
          host: request.headers.host
        })
        send(202, 'text/plain', 'ok', { 'Access-Control-Allow-Origin': '*' })
      })
      return
    }
    if (request.method === 'OPTIONS') {
      return send(204, 'text/plain', '', {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Headers': 'Content-Type'
      })
    }
    if (url.pathname.startsWith('/js/')) {
      // a built file as it is; Plausible's names (script.hash.outbound-links.js)
      // as the build they ask for, as the Worker answers them
      let file = url.pathname.slice(4)
      if (!/^[\w.-]+$/.test(file)) return send(404, 'text/plain', 'no')
      if (!existsSync(join(root, 'www/js', file))) file = buildFor(file) || file
      try {
        return send(
          200,
          types[file.split('.').pop()] || 'application/octet-stream',
          readFileSync(join(root, 'www/js', file))
        )
      } catch {
        return send(404, 'text/plain', 'not built: run node scripts/build-tracker.mjs')
      }
    }
    if (url.pathname === '/vendor/plausible.js') return send(200, types.js, plausible)
    if (url.pathname.startsWith('/bundle/')) {
      const body = pages.get(url.pathname)
      return body ? send(200, types.js, body) : send(404, 'text/plain', 'no')
    }
    // every other path is a page: the one registered for the host, else a blank one
    const page = pages.get(request.headers.host.split(':')[0]) || pages.get('*')
    const html = typeof page === 'function' ? page(url) : '<!doctype html><title>blank</title>'
    const headers = page?.headers ? page.headers : {}
    send(200, types.html, html, headers)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: server.address().port,
    events,
    pages,
    close: () => new Promise((resolve) => server.close(resolve))
  }
}
