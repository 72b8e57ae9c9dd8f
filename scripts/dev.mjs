#!/usr/bin/env node
// The README's run command (for now: the tracker alone; the edge worker,
// ClickHouse and the dashboard join it in their issues). Builds the tracker,
// serves the demo page from www/ and prints every event the page sends.
// Usage: npm start   (PORT=8080 by default)
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { extname, join, normalize } from 'node:path'
import { buildTracker, root } from './build-tracker.mjs'

const port = Number(process.env.PORT || 8080)
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.pdf': 'application/pdf' }

console.log('building the tracker (cargo → wasm-bindgen → wasm-opt → esbuild)…')
await buildTracker()

createServer((request, response) => {
  const url = new URL(request.url, 'http://localhost')
  if (request.method === 'POST' && url.pathname === '/api/event') {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      console.log(`event  ${body}`)
      response.writeHead(202, { 'Content-Type': 'text/plain' }).end('ok')
    })
    return
  }
  let path = url.pathname.replace(/^\/js\/script\.[\w.-]+\.js$/, '/js/script.js')
  if (!extname(path)) path = '/index.html' // SPA routes
  const file = normalize(join(root, 'www', path))
  if (!file.startsWith(join(root, 'www'))) return response.writeHead(403).end()
  let content
  try {
    content = readFileSync(file)
  } catch {
    return response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found')
  }
  response.writeHead(200, { 'Content-Type': types[extname(file)] || 'application/octet-stream' }).end(content)
}).listen(port, '127.0.0.1', () => {
  console.log(`\ndemo page: http://localhost:${port}/  (click around; each event is printed here)\n`)
})
