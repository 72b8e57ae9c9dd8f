// A free port on loopback, and waiting for a process started on one to answer:
// for the processes scripts and tests start.
import { createServer } from 'node:net'

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * The first response from `url` that `accept` takes, polling every `everyMs`
 * while the server is not up (or not ready); throws after `seconds`.
 */
export async function answer(url, { seconds, accept = () => true, everyMs = 200 }) {
  const deadline = Date.now() + seconds * 1000
  for (;;) {
    try {
      const response = await fetch(url)
      if (accept(response)) return response
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${seconds} s`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
