// A minimal Worker that also queues the event: read the body, send it to the queue, answer 202.
// Beside bench/minimal-worker.js, what workerd's queue costs per event (bench/ingest-throughput.mjs).
export default {
  async fetch(request, env) {
    await env.EVENTS.send(await request.text())
    return new Response(null, { status: 202 })
  }
}
