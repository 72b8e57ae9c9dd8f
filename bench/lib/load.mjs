// The load of the ingest benchmarks: POST /api/event with `concurrency` clients on loopback,
// `requests` in all, 500 visitors (User-Agents); events/s and latencies.

const body = JSON.stringify({
  n: 'pageview',
  u: 'https://backstage.fawkes.idp/catalog?utm_source=bench',
  d: 'backstage.fawkes.idp',
  r: null
})

/** Sends the load to `url` (a Worker's origin); resolves with what it measured. */
export async function load(url, requests, concurrency) {
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
  await Promise.all(Array.from({ length: concurrency }, client))
  const seconds = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  return { requests, concurrency, seconds, perSecond: requests / seconds, p50: p(0.5), p95: p(0.95), statuses }
}

/** One line of a load's result. */
export function describe({ requests, concurrency, seconds, perSecond, p50, p95, statuses }) {
  return `${requests} events, ${concurrency} clients, ${seconds.toFixed(2)} s: ${perSecond.toFixed(0)} events/s; latency p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms; statuses ${JSON.stringify(statuses)}`
}
