// The dashboard reads only the public APIs: the Stats API, the realtime
// endpoint and the admin (settings) API, with its session cookie.

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  let json = null
  try {
    json = await response.json()
  } catch {
    // an empty or non-JSON body
  }
  if (!response.ok)
    throw Object.assign(new Error(json?.error || `${response.status}`), {
      status: response.status,
      retryAfter: response.headers.get('Retry-After'),
      body: json
    })
  return json
}

export const api = {
  session: () => call('GET', '/api/auth/session'),
  login: (username, password, code) =>
    call('POST', '/api/auth/login', code ? { username, password, code } : { username, password }),
  logout: () => call('POST', '/api/auth/logout'),
  query: (body) => call('POST', '/api/v2/query', body),
  realtime: (site) => call('GET', `/api/v1/stats/realtime/visitors?site_id=${encodeURIComponent(site)}`),
  settings: () => call('GET', '/api/admin/settings'),
  putSite: (domain, site) => call('PUT', `/api/admin/sites/${encodeURIComponent(domain)}`, site),
  deleteSite: (domain) => call('DELETE', `/api/admin/sites/${encodeURIComponent(domain)}`),
  addKey: (sites, name) => call('POST', '/api/admin/keys', { sites, name }),
  revokeKey: (id) => call('DELETE', `/api/admin/keys/${encodeURIComponent(id)}`)
}
