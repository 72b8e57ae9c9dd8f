// A round-robin HTTP proxy in front of the self-hosted workerd processes on
// one machine, as a Kubernetes Service and Ingress are in a cluster: each
// request goes to the next replica; one that refuses the connection (stopped,
// restarting) is skipped, which is safe because the request never reached it.
// It is the trust boundary for the client's address: X-Forwarded-For is
// replaced by the address it saw, and every other header a client could claim
// an address or a country with is removed (the Worker runs with
// TRUSTED_PROXY=forwarded). A body is held whole (to retry another replica),
// so it is capped.
import { request as httpRequest, createServer } from 'node:http'

/** The largest body passed on: every route of the Worker takes far less. */
export const MAX_BODY_BYTES = 1024 * 1024
/** Headers through which a client could claim an address or a country. */
const CLAIMS = ['forwarded', 'x-real-ip', 'cf-connecting-ip', 'cf-ipcountry', 'true-client-ip']

/**
 * The client's address: the connection's, or, when the connection comes from
 * `tlsProxy` (a TLS terminator in front, e.g. nginx), the last address of its
 * X-Forwarded-For: the one it appended itself. Earlier ones are the client's claims.
 */
export function clientAddress(incoming, tlsProxy) {
  const peer = incoming.socket.remoteAddress
  const forwarded = incoming.headers['x-forwarded-for']
  if (!tlsProxy || peer !== tlsProxy || typeof forwarded !== 'string') return peer
  return forwarded.split(',').pop().trim() || peer
}

/**
 * Starts the proxy on `host:port` over `upstreams` (a function returning the
 * current ports); `tlsProxy`: the address of a TLS terminator in front, if any.
 */
export function roundRobinProxy({ host, port, upstreams, tlsProxy = '' }) {
  let next = 0
  const server = createServer((incoming, outgoing) => {
    const chunks = []
    let size = 0
    incoming.on('data', (chunk) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        if (!outgoing.headersSent) {
          outgoing.writeHead(413, { 'content-type': 'application/json', connection: 'close' })
          outgoing.end(`{"error":"the body is over ${MAX_BODY_BYTES} bytes"}`)
        }
        incoming.destroy()
        return
      }
      chunks.push(chunk)
    })
    incoming.on('end', () => {
      if (size > MAX_BODY_BYTES) return
      const body = Buffer.concat(chunks)
      const ports = upstreams()
      const headers = { ...incoming.headers, 'x-forwarded-for': clientAddress(incoming, tlsProxy) }
      // a TLS terminator in front of LISTEN says https; otherwise the client spoke http to us
      headers['x-forwarded-proto'] = incoming.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http'
      for (const claim of CLAIMS) delete headers[claim]
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
