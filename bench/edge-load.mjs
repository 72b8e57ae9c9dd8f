#!/usr/bin/env node
// Events per second through the edge worker: POST /api/event with N clients on
// loopback, a bounded number of requests. Start the worker first (npm start).
// Usage: node bench/edge-load.mjs [URL=http://127.0.0.1:8787] [REQUESTS=5000] [CONCURRENCY=32]
const [url = 'http://127.0.0.1:8787', total = '5000', concurrency = '32'] = process.argv.slice(2)
const requests = Number(total)
const body = JSON.stringify({
  n: 'pageview',
  u: 'https://backstage.fawkes.idp/catalog?utm_source=bench',
  d: 'backstage.fawkes.idp',
  r: null
})
let sent = 0
const statuses = {}
const latencies = []
async function client() {
  while (sent < requests) {
    sent++
    const start = performance.now()
    const response = await fetch(`${url}/api/event`, {
      method: 'POST',
      headers: {
        'Content-Type': 'text/plain',
        'User-Agent': `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.${sent % 500}.0 Safari/537.36`
      },
      body
    })
    await response.arrayBuffer()
    latencies.push(performance.now() - start)
    statuses[response.status] = (statuses[response.status] || 0) + 1
  }
}
const start = performance.now()
await Promise.all(Array.from({ length: Number(concurrency) }, client))
const seconds = (performance.now() - start) / 1000
latencies.sort((a, b) => a - b)
const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1)
console.log(
  `${requests} events, ${concurrency} clients, ${seconds.toFixed(2)} s: ${(requests / seconds).toFixed(0)} events/s; latency p50 ${p(0.5)} ms, p95 ${p(0.95)} ms; statuses ${JSON.stringify(statuses)}`
)
