// The self-hosted front: what Cloudflare's static assets do before the Worker
// runs (wrangler.toml [assets], www/_headers), for bare workerd. /api/* goes
// to the Worker; other GETs are files of www/ (the tracker, the demo portal,
// the dashboard), with the same content types and cache headers; anything
// else reaches the Worker (which answers Plausible's script names, or 404). /internal/* (the control
// instance's shared state) is never reachable from outside.

const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  wasm: 'application/wasm',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  txt: 'text/plain; charset=utf-8'
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    if (url.pathname.startsWith('/internal/')) return new Response('not found', { status: 404 })
    if (url.pathname.startsWith('/api/') || !['GET', 'HEAD'].includes(request.method)) return env.EDGE.fetch(request)
    // a file www/ lacks reaches the Worker: Plausible's script.<extensions>.js names among them
    let path = url.pathname
    if (path.endsWith('/')) path += 'index.html'
    let file = await env.WWW.fetch(new URL(path, 'http://www/'), { method: request.method })
    if (file.status === 404 && !/\.[a-z0-9]+$/i.test(path)) {
      // /dashboard → /dashboard/, as static asset hosting does
      const index = await env.WWW.fetch(new URL(`${path}/index.html`, 'http://www/'), { method: 'HEAD' })
      if (index.ok) return Response.redirect(new URL(`${url.pathname}/${url.search}`, url), 307)
    }
    if (!file.ok) return env.EDGE.fetch(request)
    const headers = new Headers()
    const extension = path.slice(path.lastIndexOf('.') + 1).toLowerCase()
    headers.set('content-type', TYPES[extension] || 'application/octet-stream')
    const length = file.headers.get('content-length')
    if (length) headers.set('content-length', length)
    if (path.startsWith('/js/')) {
      // www/_headers: the tracker is cached a day, and may be loaded from any page
      headers.set('cache-control', 'public, max-age=86400, stale-while-revalidate=604800')
      headers.set('access-control-allow-origin', '*')
    } else {
      headers.set('cache-control', 'public, max-age=0, must-revalidate')
    }
    headers.set('x-content-type-options', 'nosniff')
    file = new Response(request.method === 'HEAD' ? null : file.body, { status: 200, headers })
    return file
  }
}
