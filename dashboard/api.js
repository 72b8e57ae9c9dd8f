// The dashboard reads only the public APIs: the Stats API, the realtime
// endpoint and the admin (settings) API, with its session cookie — or, on a
// shared link's page, with the link (X-Shared-Link: no cookie, which a page
// embedded in another site's would not get).

let sharedLink = ''

/** Every call from now on reads through a shared link: `token`, or `token.grant` once unlocked. */
export function setSharedLink(value) {
  sharedLink = value
}

/** `POST /api/v2/export`: the view as Plausible's zip of CSV files, a Blob. */
async function download(path, body) {
  const headers = { 'Content-Type': 'application/json' }
  if (sharedLink) headers['X-Shared-Link'] = sharedLink
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers,
    body: JSON.stringify(body)
  })
  if (!response.ok) {
    const json = await response.json().catch(() => null)
    throw Object.assign(new Error(json?.error || `${response.status}`), { status: response.status })
  }
  return response.blob()
}

async function call(method, path, body) {
  const headers = body === undefined ? {} : { 'Content-Type': 'application/json' }
  if (sharedLink) headers['X-Shared-Link'] = sharedLink
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers,
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
  funnel: (body) => call('POST', '/api/v2/funnel', body),
  exportView: (body) => download('/api/v2/export', body),
  annotations: (site) => call('GET', `/api/v2/annotations?site_id=${encodeURIComponent(site)}`),
  annotate: (site, note) => call('POST', `/api/admin/sites/${encodeURIComponent(site)}/annotations`, note),
  removeAnnotation: (site, id) =>
    call('DELETE', `/api/admin/sites/${encodeURIComponent(site)}/annotations/${encodeURIComponent(id)}`),
  realtime: (site) => call('GET', `/api/v1/stats/realtime/visitors?site_id=${encodeURIComponent(site)}`),
  privacy: (site) => call('GET', `/api/v2/privacy?site_id=${encodeURIComponent(site)}`),
  props: (site) => call('GET', `/api/admin/sites/${encodeURIComponent(site)}/props`),
  settings: () => call('GET', '/api/admin/settings'),
  putSite: (domain, site) => call('PUT', `/api/admin/sites/${encodeURIComponent(domain)}`, site),
  deleteSite: (domain) => call('DELETE', `/api/admin/sites/${encodeURIComponent(domain)}`),
  addKey: (sites, name) => call('POST', '/api/admin/keys', { sites, name }),
  revokeKey: (id) => call('DELETE', `/api/admin/keys/${encodeURIComponent(id)}`),
  people: () => call('GET', '/api/admin/people'),
  invite: (email, site, role) => call('POST', '/api/admin/invitations', { email, site, role }),
  revokeInvitation: (id) => call('DELETE', `/api/admin/invitations/${encodeURIComponent(id)}`),
  setRole: (id, site, role) =>
    call('PUT', `/api/admin/people/${encodeURIComponent(id)}/roles/${encodeURIComponent(site)}`, { role }),
  removePerson: (id) => call('DELETE', `/api/admin/people/${encodeURIComponent(id)}`),
  resetSecondFactor: (id) => call('DELETE', `/api/admin/people/${encodeURIComponent(id)}/second-factor`),
  audit: () => call('GET', '/api/admin/audit'),
  accept: (token, name, password) => call('POST', '/api/auth/invitations/accept', { token, name, password }),
  startSecondFactor: (password) => call('POST', '/api/auth/second-factor', { password }),
  confirmSecondFactor: (code) => call('POST', '/api/auth/second-factor/confirm', { code }),
  share: (site, link) => call('POST', `/api/admin/sites/${encodeURIComponent(site)}/shared-links`, link),
  revokeShare: (site, id) =>
    call('DELETE', `/api/admin/sites/${encodeURIComponent(site)}/shared-links/${encodeURIComponent(id)}`),
  shared: () => call('GET', '/api/share'),
  unlock: (token, password) => call('POST', '/api/share/unlock', { token, password })
}
