// A round-robin HTTP proxy over several self-hosted replicas on one machine,
// as a Kubernetes Service and Ingress are in a cluster: each request goes to
// the next replica; one that refuses the connection (stopped, restarting) is
// skipped, which is safe because the request never reached it. It is the
// trust boundary for the client's address: X-Forwarded-For is replaced by
// the address it saw (the Worker runs with TRUSTED_PROXY=forwarded).
import { request as httpRequest, createServer } from 'node:http'

/** Starts the proxy on `host:port` over `upstreams` (a function returning the current ports). */
export function roundRobinProxy({ host, port, upstreams }) {
  let next = 0
  const server = createServer((incoming, outgoing) => {
    const chunks = []
    incoming.on('data', (chunk) => chunks.push(chunk))
    incoming.on('end', () => {
      const body = Buffer.concat(chunks)
      const ports = upstreams()
      const headers = {
        ...incoming.headers,
        'x-forwarded-for': incoming.socket.remoteAddress,
        'x-forwarded-proto': 'http'
      }
      delete headers.forwarded
      const attempt = (tried) => {
        if (tried >= ports.length) {
          outgoing.writeHead(503, { 'content-type': 'application/json' })
          outgoing.end('{"error":"no replica is up"}')
          return
        }
        const upstream = ports[next++ % ports.length]
        const forward = httpRequest(
          { host: '127.0.0.1', port: upstream, method: incoming.method, path: incoming.url, headers },
          (answer) => {
            outgoing.writeHead(answer.statusCode, answer.headers)
            answer.pipe(outgoing)
          }
        )
        forward.on('error', (error) => {
          if (error.code === 'ECONNREFUSED' && !outgoing.headersSent) return attempt(tried + 1)
          // the replica went away with the request: the client is told, as a load balancer would
          if (!outgoing.headersSent) {
            outgoing.writeHead(502, { 'content-type': 'application/json' })
            outgoing.end(JSON.stringify({ error: `replica ${upstream}: ${error.code || error.message}` }))
          } else outgoing.destroy()
        })
        forward.end(body)
      }
      attempt(0)
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve(server))
  })
}
