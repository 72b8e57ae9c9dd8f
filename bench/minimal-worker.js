// The least a Worker can do for an event: read the body, answer 202. What workerd itself
// costs per request, beside which bench/ingest-throughput.mjs measures the edge Worker.
export default {
  async fetch(request) {
    await request.arrayBuffer()
    return new Response(null, { status: 202 })
  }
}
