// Teams (issue 12) against the Worker under wrangler dev: every route × role
// (anonymous, viewer, admin, owner, super-admin, shared link), read from the
// Worker's route table so that a route without a rule here fails; CSRF on
// every state-changing route; invitations (single use, revocable); removal
// ending sessions at once; session fixation; the second factor (TOTP, replay
// within its window, recovery codes, a site that requires it); the audit
// log; shared links (password, filter, revocation, frame-ancestors).
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { hashPassword } from '../scripts/lib/admin.mjs'
import { generateEvents, insertEvents, utcDays } from '../scripts/lib/events.mjs'
import { root } from '../scripts/lib/paths.mjs'
import { startMigratedClickhouse } from './support/clickhouse.mjs'
import { startEdge, TEST_ADMIN_TOKEN } from './support/edge.mjs'

const A = 'backstage.fawkes.idp'
const B = 'portal.test'
const C = 'delete-me.test'
const ADMIN_PASSWORD = 'the-installation-password'
const PASSWORD = 'a long enough password'
const COOKIE = '__Host-ea_session'

let ch, edge
const who = {}
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'teams-'))
  ch = await startMigratedClickhouse(join(dir, 'ch'))
  const rows = [...generateEvents({ count: 600, days: 5, end: Date.now() - 120_000, seed: 12, site: A })]
  await insertEvents(ch.client, rows)
  edge = await startEdge({
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: [A, B, C],
    persistTo: join(dir, 'state'),
    vars: { ADMIN_PASSWORD_HASH: hashPassword(ADMIN_PASSWORD) }
  })
  await edge.admin.rebuildVisits(...utcDays(rows))
  who.anonymous = {}
  for (const [name, role] of [
    ['viewer', 'viewer'],
    ['admin', 'admin'],
    ['owner', 'owner'],
    ['super', 'viewer']
  ]) {
    const person = await join_(`${name}@example.com`, A, role)
    who[name] = { cookie: person.cookie, id: person.id }
  }
  const owner = who.owner.id
  await call({ token: TEST_ADMIN_TOKEN }, 'PUT', `/api/admin/people/${owner}/roles/${C}`, { role: 'owner' }, 200)
  await call({ token: TEST_ADMIN_TOKEN }, 'PUT', `/api/admin/people/${who.super.id}`, { super_admin: true }, 200)
  const link = await call(
    { token: TEST_ADMIN_TOKEN },
    'POST',
    `/api/admin/sites/${A}/shared-links`,
    { name: 'home' },
    200
  )
  who.shared = { shared: link.token }
})
after(async () => {
  await edge?.stop()
  await ch?.stop()
})

/** A request as `as` ({cookie}, {token}, {shared}); `expect` a status, when given. */
async function call(as, method, path, body, expect, headers = {}) {
  const response = await fetch(`${edge.url}${path}`, {
    method,
    headers: {
      ...(as.cookie ? { Cookie: `${COOKIE}=${as.cookie}` } : {}),
      ...(as.token ? { Authorization: `Bearer ${as.token}` } : {}),
      ...(as.shared ? { 'X-Shared-Link': as.shared } : {}),
      ...headers
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  })
  const text = await response.text()
  let json = null
  try {
    json = JSON.parse(text)
  } catch {
    // not JSON (a page)
  }
  if (expect !== undefined) assert.equal(response.status, expect, `${method} ${path}: ${text.slice(0, 300)}`)
  if (expect === undefined) return { status: response.status, json, text, headers: response.headers }
  return json
}

function cookieOf(response) {
  const set = response.headers.get('set-cookie') ?? ''
  return new RegExp(`${COOKIE}=([^;]*)`).exec(set)?.[1]
}

async function logIn(username, password, code) {
  const response = await fetch(`${edge.url}/api/auth/login`, {
    method: 'POST',
    body: JSON.stringify({ username, password, ...(code ? { code } : {}) })
  })
  const json = await response.json()
  return { status: response.status, json, cookie: cookieOf(response) }
}

/** Invites `email` to `site` as `role` (the admin token), and accepts: the new person's session and id. */
async function join_(email, site, role) {
  const invitation = await call(
    { token: TEST_ADMIN_TOKEN },
    'POST',
    '/api/admin/invitations',
    { email, site, role },
    200
  )
  const response = await fetch(`${edge.url}/api/auth/invitations/accept`, {
    method: 'POST',
    body: JSON.stringify({ token: invitation.token, name: email.split('@')[0], password: PASSWORD })
  })
  assert.equal(response.status, 200, await response.clone().text())
  const cookie = cookieOf(response)
  const people = await call({ token: TEST_ADMIN_TOKEN }, 'GET', '/api/admin/people', undefined, 200)
  return { cookie, id: people.people.find((p) => p.email === email).id, invitation }
}

/** RFC 6238's code of a base32 secret at `seconds` (what an authenticator app shows). */
function totp(secret, seconds = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0')
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => Number.parseInt(b, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)))
  const mac = createHmac('sha1', key).update(counter).digest()
  const offset = mac[19] & 15
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}

// Who may call each route: `ok` lists the roles let in (any answer but 401/403);
// the rest get 401 (no session: anonymous, a shared link on a session's route)
// or 403 (a session without the role). `public`: the route decides alone (no
// session involved); `params`/`body`: what the request carries.
const READERS = ['viewer', 'admin', 'owner', 'super', 'shared']
const MANAGERS = ['admin', 'owner', 'super']
const PEOPLE = ['viewer', 'admin', 'owner', 'super']
const RULES = {
  'POST /api/event': { public: true, body: {} },
  'OPTIONS /api/event': { public: true },
  'GET /api/health': { public: true },
  'GET /js/:file': { public: true, params: { file: 'script.js' } },
  'GET /metrics': { public: true },
  'POST /api/v2/query': { ok: READERS, body: { site_id: A, metrics: ['visitors'], date_range: '7d' } },
  'POST /api/v2/export': { ok: READERS, body: { site_id: A, date_range: '7d' } },
  'POST /api/v2/funnel': {
    ok: READERS,
    body: { site_id: A, date_range: '7d', steps: [{ page_path: '/' }, { event_name: 'Deploy Application' }] }
  },
  'GET /api/v1/stats/realtime/visitors': { ok: READERS, query: `?site_id=${A}` },
  'GET /api/v1/stats/:endpoint': { ok: READERS, params: { endpoint: 'aggregate' }, query: `?site_id=${A}` },
  'GET /api/v2/annotations': { ok: READERS, query: `?site_id=${A}` },
  'GET /api/v2/privacy': { ok: READERS, query: `?site_id=${A}` },
  'GET /api/admin/sites/:domain/props': { ok: MANAGERS, params: { domain: A } },
  'POST /api/admin/sites/:domain/annotations': {
    ok: MANAGERS,
    params: { domain: A },
    body: { date: '2026-11-03', text: 'the matrix' }
  },
  'DELETE /api/admin/sites/:domain/annotations/:id': { ok: MANAGERS, params: { domain: A, id: 'nobody' } },
  'GET /api/admin/settings': { ok: MANAGERS },
  // every person's credentials: the installation's administrator only (ADMIN_TOKEN, its login)
  'GET /api/admin/export': { ok: [] },
  'PUT /api/admin/import': { ok: [], body: {} },
  // (no minimum group size: this suite counts a handful of visitors)
  'PUT /api/admin/sites/:domain': { ok: MANAGERS, params: { domain: A }, body: { timezone: 'UTC', min_group_size: 1 } },
  'DELETE /api/admin/sites/:domain': { ok: ['owner', 'super'], params: { domain: C } },
  'POST /api/admin/keys': { ok: MANAGERS, body: { sites: [A], name: 'matrix' } },
  'DELETE /api/admin/keys/:id': { ok: MANAGERS, params: { id: 'nobody' } },
  'POST /api/admin/visits/rebuild': { ok: ['super'], body: {} },
  'POST /api/admin/retention/run': { ok: ['super'] },
  'POST /api/admin/rollups/run': { ok: ['super'] },
  'POST /api/admin/notifications/run': { ok: ['super'] },
  // a 409 for the super-admin (no export configured here): past the role check
  'POST /api/admin/exports/run': { ok: ['super'] },
  'GET /api/admin/dead-letters': { ok: ['super'] },
  'POST /api/admin/dead-letters/replay': { ok: ['super'], body: {} },
  'GET /api/admin/people': { ok: MANAGERS },
  'PUT /api/admin/people/:id/roles/:domain': {
    ok: MANAGERS,
    params: { id: 'nobody', domain: A },
    body: { role: 'viewer' }
  },
  'PUT /api/admin/people/:id': { ok: ['super'], params: { id: 'nobody' }, body: { super_admin: true } },
  'DELETE /api/admin/people/:id': { ok: MANAGERS, params: { id: 'nobody' } },
  'DELETE /api/admin/people/:id/second-factor': { ok: MANAGERS, params: { id: 'nobody' } },
  'POST /api/admin/invitations': { ok: MANAGERS, body: { email: 'matrix@example.com', site: A, role: 'viewer' } },
  'DELETE /api/admin/invitations/:id': { ok: MANAGERS, params: { id: 'nobody' } },
  'GET /api/admin/audit': { ok: ['owner', 'super'] },
  'POST /api/admin/sites/:domain/shared-links': { ok: MANAGERS, params: { domain: A }, body: { name: 'matrix' } },
  'DELETE /api/admin/sites/:domain/shared-links/:id': { ok: MANAGERS, params: { domain: A, id: 'nobody' } },
  'POST /api/auth/login': { public: true, body: { username: 'nobody', password: 'x' } },
  // ends the session it is sent with: tested on its own below
  'POST /api/auth/logout': { public: true, skip: true },
  'GET /api/auth/session': { ok: PEOPLE },
  // single sign-on (not configured here: 404; tests/sso.test.mjs)
  'GET /api/auth/sso/start': { public: true },
  'GET /api/auth/sso/callback': { public: true, query: '?code=x&state=y' },
  'POST /api/auth/invitations/accept': { public: true, body: { token: 'nothing', name: 'x', password: 'x' } },
  'POST /api/auth/second-factor': { ok: PEOPLE, body: { password: PASSWORD } },
  'POST /api/auth/second-factor/confirm': { ok: PEOPLE, body: { code: '000000' } },
  'POST /api/share/unlock': { public: true, body: { token: 'nothing', password: 'x' } },
  // a session is not a shared link: 401 for every one of them
  'GET /api/share': { ok: ['shared'], denied: 401 },
  'GET /share/:token': { public: true, params: { token: 'nothing' } },
  'GET /internal/state/:object': { ok: [], params: { object: 'salts' } },
  'POST /internal/state/:object': { ok: [], params: { object: 'salts' }, body: {} },
  'GET /internal/state/:object/*path': { ok: [], params: { object: 'salts', path: '2026-01-01' } },
  'POST /internal/state/:object/*path': { ok: [], params: { object: 'salts', path: '2026-01-01' }, body: {} }
}

function routeTable() {
  const table = readFileSync(join(root, 'edge/worker/src/routes/mod.rs'), 'utf8')
  return [...table.matchAll(/\.(get|post|put|delete|options)(?:_async)?\(\s*"([^"]+)"/g)].map(
    ([, method, path]) => `${method.toUpperCase()} ${path}`
  )
}

function pathOf(route, rule) {
  let path = route.split(' ')[1]
  for (const [name, value] of Object.entries(rule.params ?? {}))
    path = path.replace(`:${name}`, value).replace(`*${name}`, value)
  return path + (rule.query ?? '')
}

test('every route has a rule, and every role gets what its rule says', async () => {
  const routes = routeTable()
  assert.ok(routes.length >= 40, `${routes.length} routes read`)
  const missing = routes.filter((r) => !RULES[r])
  assert.deepEqual(missing, [], 'a route without a rule in this test')
  assert.deepEqual(
    Object.keys(RULES).filter((r) => !routes.includes(r)),
    [],
    'a rule for a route that is gone'
  )
  // the destructive cases last: the owner deletes C, then the super-admin finds it gone
  const order = ['anonymous', 'shared', 'viewer', 'admin', 'owner', 'super']
  const seen = []
  for (const route of routes) {
    const rule = RULES[route]
    if (rule.skip) continue
    const [method] = route.split(' ')
    for (const role of order) {
      const { status } = await call(who[role], method, pathOf(route, rule), rule.body)
      assert.ok(status < 500, `${route} as ${role}: ${status}`)
      if (rule.public) continue
      const expected = rule.ok.includes(role)
        ? 'ok'
        : role === 'anonymous' || role === 'shared'
          ? 401
          : (rule.denied ?? 403)
      const got = status === 401 || status === 403 ? status : 'ok'
      // /internal/ is behind CONTROL_TOKEN (none here): 401 for everyone
      const want = route.includes('/internal/') ? 401 : expected
      seen.push(`${route} ${role} ${got}`)
      assert.equal(got, want, `${route} as ${role}: ${status}`)
    }
  }
  assert.ok(seen.length >= 170, `${seen.length} checks`)
})

test('CSRF: a change with a session cookie from another origin is refused on every state-changing route', async () => {
  for (const route of routeTable()) {
    const [method, path] = route.split(' ')
    if (method === 'GET' || method === 'OPTIONS' || RULES[route].public || path.startsWith('/internal/')) continue
    const { status } = await call(who.super, method, pathOf(route, RULES[route]), RULES[route].body, undefined, {
      Origin: 'https://evil.example'
    })
    // the Stats API reads (POST) change nothing, and a session reading them from another page is
    // SameSite=Strict's business: every other route refuses
    if (['POST /api/v2/query', 'POST /api/v2/funnel', 'POST /api/v2/export'].includes(route)) continue
    assert.equal(status, 403, `${route} from another origin`)
  }
  for (const route of ['POST /api/auth/login', 'POST /api/auth/logout', 'POST /api/auth/invitations/accept']) {
    const { status } = await call(who.anonymous, 'POST', route.split(' ')[1], RULES[route].body ?? {}, undefined, {
      Origin: 'https://evil.example'
    })
    assert.equal(status, 403, `${route} from another origin`)
  }
})

test('an invitation is used once, can be revoked, and bad ones change nothing', async () => {
  const first = await call(
    { token: TEST_ADMIN_TOKEN },
    'POST',
    '/api/admin/invitations',
    { email: 'once@example.com', site: B, role: 'viewer' },
    200
  )
  const accept = (token, extra = {}) =>
    call(who.anonymous, 'POST', '/api/auth/invitations/accept', { token, name: 'Once', password: PASSWORD, ...extra })
  assert.equal((await accept(first.token)).status, 200)
  const again = await accept(first.token)
  assert.equal(again.status, 404)
  assert.match(again.json.error, /token: no such invitation/)
  const revoked = await call(
    { token: TEST_ADMIN_TOKEN },
    'POST',
    '/api/admin/invitations',
    { email: 'revoked@example.com', site: B, role: 'viewer' },
    200
  )
  await call({ token: TEST_ADMIN_TOKEN }, 'DELETE', `/api/admin/invitations/${revoked.id}`, undefined, 200)
  assert.equal((await accept(revoked.token)).status, 404)
  const before = await call({ token: TEST_ADMIN_TOKEN }, 'GET', '/api/admin/people', undefined, 200)
  for (const [body, status, message] of [
    [{ email: 'not an address', site: B, role: 'viewer' }, 400, /email/],
    [{ email: 'x@example.com', site: B, role: 'emperor' }, 400, /role: "emperor" is not one of viewer, admin, owner/],
    [{ email: 'x@example.com', site: 'nowhere.test', role: 'viewer' }, 400, /site/],
    [{ email: `${'x'.repeat(300)}@example.com`, site: B, role: 'viewer' }, 400, /email/],
    [{ email: 'x@example.com', site: B, role: 'viewer', admin: true }, 400, /unknown field "admin"/]
  ]) {
    const answer = await call({ token: TEST_ADMIN_TOKEN }, 'POST', '/api/admin/invitations', body)
    assert.equal(answer.status, status, JSON.stringify(body))
    assert.match(answer.json.error, message)
  }
  // an admin invites no owners; a short password or an oversized name is refused
  const byAdmin = await call(who.admin, 'POST', '/api/admin/invitations', {
    email: 'o@example.com',
    site: A,
    role: 'owner'
  })
  assert.equal(byAdmin.status, 403)
  const open = await call(
    { token: TEST_ADMIN_TOKEN },
    'POST',
    '/api/admin/invitations',
    { email: 'short@example.com', site: B, role: 'viewer' },
    200
  )
  assert.equal((await accept(open.token, { password: 'short' })).status, 400)
  assert.equal((await accept(open.token, { name: 'n'.repeat(101) })).status, 400)
  assert.equal((await accept(`${open.token}x`)).status, 404)
  const after = await call({ token: TEST_ADMIN_TOKEN }, 'GET', '/api/admin/people', undefined, 200)
  assert.equal(after.people.length, before.people.length, 'nobody was added by a refused request')
  assert.ok(
    after.invitations.some((i) => i.id === open.id),
    'a refused acceptance leaves the invitation open'
  )
})

test('an admin of one site reaches nothing of another: its people, invitations, keys, links, audit log', async () => {
  const bAdmin = await join_('b-admin@example.com', B, 'admin')
  const as = { cookie: bAdmin.cookie }
  const aKey = await call({ token: TEST_ADMIN_TOKEN }, 'POST', '/api/admin/keys', { sites: [A], name: 'a-only' }, 200)
  const aLink = await call(
    { token: TEST_ADMIN_TOKEN },
    'POST',
    `/api/admin/sites/${A}/shared-links`,
    { name: 'a-link' },
    200
  )
  const aInvitation = await call(
    { token: TEST_ADMIN_TOKEN },
    'POST',
    '/api/admin/invitations',
    { email: 'a-invited@example.com', site: A, role: 'viewer' },
    200
  )
  const refusals = [
    ['PUT', `/api/admin/people/${who.viewer.id}/roles/${A}`, { role: 'admin' }],
    ['PUT', `/api/admin/people/${who.viewer.id}/roles/${A}`, { role: null }],
    ['DELETE', `/api/admin/people/${who.viewer.id}`],
    ['DELETE', `/api/admin/people/${who.viewer.id}/second-factor`],
    ['POST', '/api/admin/invitations', { email: 'sneaky@example.com', site: A, role: 'viewer' }],
    ['DELETE', `/api/admin/invitations/${aInvitation.id}`],
    ['DELETE', `/api/admin/keys/${aKey.id}`],
    ['POST', '/api/admin/keys', { sites: [A, B], name: 'both' }],
    ['PUT', `/api/admin/sites/${A}`, { timezone: 'UTC', min_group_size: 1 }],
    ['POST', `/api/admin/sites/${A}/shared-links`, { name: 'sneaky' }],
    ['DELETE', `/api/admin/sites/${A}/shared-links/${aLink.id}`],
    ['GET', '/api/admin/audit'],
    ['PUT', `/api/admin/people/${who.viewer.id}/roles/${B}`, { role: 'owner' }],
    ['PUT', `/api/admin/people/${who.viewer.id}`, { super_admin: true }],
    ['POST', '/api/v2/query', { site_id: A, metrics: ['visitors'], date_range: '7d' }]
  ]
  for (const [method, path, body] of refusals) {
    const { status, json } = await call(as, method, path, body)
    assert.equal(status, 403, `${method} ${path} ${JSON.stringify(body)}: ${json?.error}`)
  }
  // what it sees: B's people only, B's settings only
  const people = await call(as, 'GET', '/api/admin/people', undefined, 200)
  assert.ok(
    people.people.every((p) => Object.keys(p.roles).every((site) => site === B)),
    JSON.stringify(people)
  )
  assert.ok(!people.people.some((p) => p.email === 'viewer@example.com'), 'a viewer of A only is not listed')
  assert.ok(!people.invitations.some((i) => i.site === A))
  const settings = await call(as, 'GET', '/api/admin/settings', undefined, 200)
  assert.deepEqual(
    settings.sites.map((site) => site.domain),
    [B]
  )
  assert.ok(!settings.keys.some((k) => k.id === aKey.id) && !settings.shared_links.some((l) => l.site === A))
  // and a person with no role left is the installation's to remove, not any admin's
  const roleless = await join_('roleless@example.com', B, 'viewer')
  await call({ token: TEST_ADMIN_TOKEN }, 'PUT', `/api/admin/people/${roleless.id}/roles/${B}`, { role: null }, 200)
  assert.equal((await call(as, 'DELETE', `/api/admin/people/${roleless.id}`)).status, 403)
})

test('a site admin sets its alerts and https webhooks; a webhook into this network (plain http, a private host) is for super-admins', async () => {
  const bAdmin = await join_('b-hooks@example.com', B, 'admin')
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
  const alerts = [{ name: 'Spike', kind: 'spike', threshold: 50, hours: 1 }]
  await call(
    { cookie: bAdmin.cookie },
    'PUT',
    `/api/admin/sites/${B}`,
    {
      alerts,
      webhooks: [{ url: 'https://hooks.example.com/b', secret }]
    },
    200
  )
  const internal = { url: 'http://10.0.0.5:8123/', secret }
  await call({ cookie: bAdmin.cookie }, 'PUT', `/api/admin/sites/${B}`, { alerts, webhooks: [internal] }, 403)
  for (const url of ['https://10.0.0.5/', 'https://clickhouse:8443/', 'https://localhost/'])
    await call({ cookie: bAdmin.cookie }, 'PUT', `/api/admin/sites/${B}`, { webhooks: [{ url, secret }] }, 403)
  await call({ token: TEST_ADMIN_TOKEN }, 'PUT', `/api/admin/sites/${B}`, { alerts, webhooks: [internal] }, 200)
  // kept as it is, the super-admin's webhook stays the site admin's to keep
  const kept = await call({ cookie: bAdmin.cookie }, 'PUT', `/api/admin/sites/${B}`, { webhooks: [internal] }, 200)
  assert.deepEqual(kept.sites.find((s) => s.domain === B).webhooks, [internal])
  await call({ token: TEST_ADMIN_TOKEN }, 'PUT', `/api/admin/sites/${B}`, {}, 200)
})

test('removing a person ends their sessions at once; a cookie brought to a login is never adopted', async () => {
  const person = await join_('leaving@example.com', B, 'viewer')
  await call({ cookie: person.cookie }, 'GET', '/api/auth/session', undefined, 200)
  const again = await logIn('leaving@example.com', PASSWORD)
  assert.equal(again.status, 200)
  assert.notEqual(again.cookie, person.cookie, 'a new token for each login')
  await call({ token: TEST_ADMIN_TOKEN }, 'DELETE', `/api/admin/people/${person.id}`, undefined, 200)
  for (const cookie of [person.cookie, again.cookie]) {
    await call({ cookie }, 'GET', '/api/auth/session', undefined, 401)
    await call({ cookie }, 'POST', '/api/v2/query', { site_id: B, metrics: ['visitors'], date_range: '7d' }, 401)
  }
  // refused: a wrong login (401), or one slowed after the other tests' wrong logins from here (429)
  assert.ok([401, 429].includes((await logIn('leaving@example.com', PASSWORD)).status))
  // session fixation: a token chosen by someone else, brought along, is not what the login answers
  const planted = 'a'.repeat(64)
  const response = await fetch(`${edge.url}/api/auth/login`, {
    method: 'POST',
    headers: { Cookie: `${COOKIE}=${planted}` },
    body: JSON.stringify({ username: 'viewer@example.com', password: PASSWORD })
  })
  assert.equal(response.status, 200)
  const issued = cookieOf(response)
  assert.ok(issued && issued !== planted)
  await call({ cookie: planted }, 'GET', '/api/auth/session', undefined, 401)
  await call({ cookie: issued }, 'GET', '/api/auth/session', undefined, 200)
})

test('a second factor: set up with a code, asked at login, each code once, recovery codes once; a site can require it', async () => {
  const person = await join_('careful@example.com', A, 'viewer')
  const as = { cookie: person.cookie }
  const wrong = await call(as, 'POST', '/api/auth/second-factor', { password: 'not my password' })
  assert.equal(wrong.status, 403, 'a session alone does not tie the account to a phone')
  const setup = await call(as, 'POST', '/api/auth/second-factor', { password: PASSWORD }, 200)
  assert.match(setup.otpauth_url, /^otpauth:\/\/totp\/Edge%20analytics:careful%40example\.com\?secret=/)
  assert.equal((await call(as, 'POST', '/api/auth/second-factor/confirm', { code: '000000' })).status, 400)
  const confirmed = await call(as, 'POST', '/api/auth/second-factor/confirm', { code: totp(setup.secret) }, 200)
  assert.equal(confirmed.recovery_codes.length, 10)
  const bare = await logIn('careful@example.com', PASSWORD)
  assert.equal(bare.status, 401)
  assert.equal(bare.json.second_factor, 'required')
  assert.equal(bare.cookie, undefined, 'no session without the code')
  assert.equal((await logIn('careful@example.com', PASSWORD, '123456')).status, 401)
  // the next step's code (the confirming one is spent); the same code again, within its window, is refused
  const next = totp(setup.secret, Date.now() / 1000 + 30)
  const withCode = await logIn('careful@example.com', PASSWORD, next)
  assert.equal(withCode.status, 200)
  const replay = await logIn('careful@example.com', PASSWORD, next)
  assert.equal(replay.status, 401, 'a replayed code')
  assert.equal(replay.cookie, undefined)
  // two logins racing with one recovery code: one session at most (a code's step, or a recovery
  // code, is spent where the settings change, one change at a time)
  const racing = confirmed.recovery_codes[1]
  const raced = await Promise.all([1, 2].map(() => logIn('careful@example.com', PASSWORD, racing)))
  assert.equal(raced.filter((r) => r.status === 200).length, 1, JSON.stringify(raced.map((r) => r.status)))
  const recovery = confirmed.recovery_codes[0]
  assert.equal((await logIn('careful@example.com', PASSWORD, recovery)).status, 200)
  assert.equal((await logIn('careful@example.com', PASSWORD, recovery)).status, 401, 'a recovery code is used once')
  // the owner requires a second factor on A: the viewer without one reads A no more; an admin cannot switch it
  const site = (await call({ token: TEST_ADMIN_TOKEN }, 'GET', '/api/admin/settings', undefined, 200)).sites.find(
    (s) => s.domain === A
  )
  const required = { ...site, domain: undefined, require_second_factor: true }
  assert.equal((await call(who.admin, 'PUT', `/api/admin/sites/${A}`, required)).status, 403)
  const lockout = await call(who.owner, 'PUT', `/api/admin/sites/${A}`, required)
  assert.equal(lockout.status, 403, 'an owner without a second factor would lock themselves out')
  assert.match(lockout.json.error, /set up your own second factor/)
  const ownerSetup = await call(who.owner, 'POST', '/api/auth/second-factor', { password: PASSWORD }, 200)
  const ownerCodes = await call(
    who.owner,
    'POST',
    '/api/auth/second-factor/confirm',
    { code: totp(ownerSetup.secret) },
    200
  )
  who.owner.recovery = ownerCodes.recovery_codes
  await call(who.owner, 'PUT', `/api/admin/sites/${A}`, required, 200)
  const query = { site_id: A, metrics: ['visitors'], date_range: '7d' }
  const refused = await call(who.viewer, 'POST', '/api/v2/query', query)
  assert.equal(refused.status, 403)
  const session = await call(who.viewer, 'GET', '/api/auth/session', undefined, 200)
  assert.match(session.sites.find((s) => s.domain === A).blocked, /requires a second factor/)
  // the requirement is of the session: one that logged in with a code reads; the one from before the set-up does not
  await call({ cookie: withCode.cookie }, 'POST', '/api/v2/query', query, 200)
  const before = await call(as, 'POST', '/api/v2/query', query)
  assert.equal(before.status, 403)
  assert.match(before.json.error, /log in again with your code/)
  // the owner too: their session from before their set-up changes A no more; one with a code does
  const unrequired = { ...required, require_second_factor: false }
  assert.equal((await call(who.owner, 'PUT', `/api/admin/sites/${A}`, unrequired)).status, 403)
  const owner = await logIn('owner@example.com', PASSWORD, totp(ownerSetup.secret, Date.now() / 1000 + 30))
  assert.equal(owner.status, 200)
  await call({ cookie: owner.cookie }, 'PUT', `/api/admin/sites/${A}`, unrequired, 200)
  await call(who.viewer, 'POST', '/api/v2/query', query, 200)
})

test('the audit log says who changed what and when, for owners; nothing secret in it', async () => {
  const key = await call(who.admin, 'POST', '/api/admin/keys', { sites: [A], name: 'audited' }, 200)
  await call(who.admin, 'DELETE', `/api/admin/keys/${key.id}`, undefined, 200)
  const person = await join_('audited@example.com', A, 'viewer')
  await call(who.owner, 'PUT', `/api/admin/people/${person.id}/roles/${A}`, { role: 'admin' }, 200)
  await call(who.owner, 'DELETE', `/api/admin/people/${person.id}`, undefined, 200)
  const log = await call(who.owner, 'GET', `/api/admin/audit?site=${A}`, undefined, 200)
  const lines = log.entries.map((e) => `${e.by} ${e.action} ${e.detail}`)
  for (const expected of [
    `admin@example.com key.create "audited" (id ${key.id}) for ${A}`,
    `admin@example.com key.revoke "audited" (id ${key.id})`,
    'admin invitation.create audited@example.com as viewer',
    'audited@example.com invitation.accept audited@example.com joined as viewer',
    'owner@example.com role.set audited@example.com: admin'
  ]) {
    assert.ok(lines.includes(expected), `${expected}\nnot in\n${lines.join('\n')}`)
  }
  assert.ok(log.entries.every((e) => e.site === A && e.at_ms > 0))
  const text = JSON.stringify(log)
  assert.ok(!text.includes(key.key.slice(3)) && !text.includes('pbkdf2'), 'no secret, no hash')
  const all = await call({ token: TEST_ADMIN_TOKEN }, 'GET', '/api/admin/audit', undefined, 200)
  assert.ok(
    all.entries.some(
      (e) => e.action === 'person.remove' && e.detail === 'audited@example.com' && e.by === 'owner@example.com'
    )
  )
  // newest first
  assert.ok(all.entries.every((e, i) => i === 0 || all.entries[i - 1].at_ms >= e.at_ms))
  assert.equal((await call(who.admin, 'GET', '/api/admin/audit')).status, 403)
})

test('a shared link: read-only, limited to its filter, unlocked by its password, framed only by the allowed origins, revocable', async () => {
  await call(
    who.owner,
    'PUT',
    `/api/admin/sites/${A}`,
    { timezone: 'UTC', min_group_size: 1, embed_origins: ['https://backstage.example.com'] },
    200
  )
  const filter = ['is', 'visit:device', ['Desktop']]
  const made = await call(
    who.admin,
    'POST',
    `/api/admin/sites/${A}/shared-links`,
    { name: 'Backstage home', password: 'open sesame', filters: [filter] },
    200
  )
  const query = { site_id: A, metrics: ['visitors', 'pageviews'], date_range: '7d' }
  const locked = await call({ shared: made.token }, 'POST', '/api/v2/query', query)
  assert.equal(locked.status, 401)
  assert.match(locked.json.error, /password/)
  assert.equal(
    (await call(who.anonymous, 'POST', '/api/share/unlock', { token: made.token, password: 'wrong password' })).status,
    401
  )
  const { grant } = await call(
    who.anonymous,
    'POST',
    '/api/share/unlock',
    { token: made.token, password: 'open sesame' },
    200
  )
  const shared = { shared: `${made.token}.${grant}` }
  const key = (await edge.admin.addKey([A], 'compare')).key
  const byKey = (body) => call({ token: key }, 'POST', '/api/v2/query', body, 200)
  const limited = await call(shared, 'POST', '/api/v2/query', query, 200)
  const desktop = await byKey({ ...query, filters: [filter] })
  const everyone = await byKey(query)
  assert.deepEqual(limited.results, desktop.results, 'every read within the filter')
  assert.ok(everyone.results[0].metrics[0] > desktop.results[0].metrics[0], 'the filter takes some away')
  const mobile = await call(
    shared,
    'POST',
    '/api/v2/query',
    { ...query, filters: [['is', 'visit:device', ['Mobile']]] },
    200
  )
  assert.deepEqual(mobile.results[0].metrics, [0, 0], 'no way out of the filter')
  assert.equal((await call(shared, 'POST', '/api/v2/query', { ...query, site_id: B })).status, 403)
  assert.equal((await call(shared, 'GET', '/api/admin/settings')).status, 401)
  const info = await call(shared, 'GET', '/api/share', undefined, 200)
  assert.equal(info.site, A)
  const page = await call(who.anonymous, 'GET', `/share/${made.token}`)
  assert.equal(page.status, 200)
  assert.equal(page.headers.get('content-security-policy'), "frame-ancestors 'self' https://backstage.example.com")
  assert.match(page.text, /dashboard\/app\.js/)
  const unknown = await call(who.anonymous, 'GET', '/share/nothing')
  assert.equal(unknown.headers.get('content-security-policy'), "frame-ancestors 'self'")
  // bad filters are refused when the link is made
  const bad = await call(who.admin, 'POST', `/api/admin/sites/${A}/shared-links`, {
    name: 'x',
    filters: [['is', 'visit:nothing', ['x']]]
  })
  assert.equal(bad.status, 400)
  assert.match(bad.json.error, /filters\[0\]/)
  await call(who.admin, 'DELETE', `/api/admin/sites/${A}/shared-links/${made.id}`, undefined, 200)
  assert.equal((await call(shared, 'POST', '/api/v2/query', query)).status, 401, 'revoked')
})

// ---- the dashboard's team views, in headless Chromium ---------------------

test('in the dashboard: an admin invites, the invited person joins and sees no settings, 2FA with a QR code, the audit log, a shared dashboard embedded by an allowed origin only', async () => {
  const { launch } = await import('./support/browser.mjs')
  const { mkdirSync } = await import('node:fs')
  const artifacts = join(root, 'tests/artifacts')
  mkdirSync(artifacts, { recursive: true })
  // localhost: a secure context, where Chromium keeps a Secure cookie over http
  const base = edge.url.replace('127.0.0.1', 'localhost')
  const browser = await launch()
  const loggedIn = async (email, code) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    await page.goto(`${base}/dashboard/`)
    await page.fill('#username', email)
    await page.fill('#password', PASSWORD)
    await page.click('button[type=submit]')
    if (code) {
      await page.waitForSelector('#code:visible')
      await page.fill('#code', code())
      await page.click('button[type=submit]')
    }
    await page.waitForSelector('[data-view=account]')
    return page
  }
  try {
    // the admin invites a viewer from the people page
    const admin = await loggedIn('admin@example.com')
    await admin.click('[data-view=people]')
    await admin.waitForSelector('table.people')
    assert.ok(await admin.isVisible('tr[data-person="viewer@example.com"]'))
    await admin.fill('#invite-email', 'joiner@example.com')
    await admin.selectOption('#invite-site', A)
    assert.deepEqual(
      await admin.$$eval('#invite-role option', (options) => options.map((o) => o.value)),
      ['viewer', 'admin'],
      'an admin makes no owners'
    )
    await admin.click('button:has-text("Invite")')
    const said = await admin.textContent('#invitation-link:has-text("/dashboard/?invitation=")')
    await admin.screenshot({ path: join(artifacts, 'people-desktop.png'), fullPage: true })
    const link = said.match(/https?:\/\/\S+/)[0].replace('127.0.0.1', 'localhost')
    // the invited person opens the link, chooses a password, and lands on the dashboard
    const joinerContext = await browser.newContext()
    const joiner = await joinerContext.newPage()
    await joiner.goto(link)
    await joiner.fill('#name', 'Joiner')
    await joiner.fill('#new-password', PASSWORD)
    await joiner.fill('#again', PASSWORD)
    await joiner.click('button:has-text("Join")')
    await joiner.waitForSelector('[data-view=account]')
    assert.deepEqual(
      await joiner.$$eval('nav[aria-label=Account] a', (links) => links.map((a) => a.dataset.view)),
      ['dashboard', 'privacy', 'account'],
      'a viewer sees no settings, people or audit log (the privacy report is every reader’s)'
    )
    assert.ok(!new URL(joiner.url()).search.includes('invitation'), 'the token leaves the address bar')
    // the admin sees them, and removes them: their next request finds no session
    await admin.reload()
    await admin.click('[data-view=people]')
    await admin.waitForSelector('tr[data-person="joiner@example.com"]')
    admin.once('dialog', (dialog) => dialog.accept())
    await admin.click('button[aria-label="Remove joiner@example.com"]')
    await admin.waitForSelector('#team-status:has-text("Removed joiner@example.com")')
    await joiner.reload()
    await joiner.waitForSelector('#password')
    await joinerContext.close()

    // a second factor set up from the account page, with a QR code
    const person = await join_('qr@example.com', B, 'viewer')
    assert.ok(person.cookie)
    const qr = await loggedIn('qr@example.com')
    await qr.click('[data-view=account]')
    await qr.fill('#second-factor-password', PASSWORD)
    await qr.click('#second-factor-start')
    await qr.waitForSelector('#second-factor-qr svg')
    const secret = await qr.textContent('#second-factor-secret')
    await qr.screenshot({ path: join(artifacts, 'second-factor-desktop.png'), fullPage: true })
    await qr.fill('#second-factor-code', totp(secret))
    await qr.click('button:has-text("Confirm")')
    await qr.waitForSelector('#recovery-codes')
    assert.equal((await qr.textContent('#recovery-codes')).trim().split('\n').length, 10)
    // the next login asks for a code (the next step's: the confirming one is spent)
    await loggedIn('qr@example.com', () => totp(secret, Date.now() / 1000 + 30))

    // the owner reads the audit log
    // (with a recovery code when an earlier test gave the owner a second factor)
    const recovery = who.owner.recovery?.[1]
    const owner = await loggedIn('owner@example.com', recovery && (() => recovery))
    await owner.click('[data-view=audit]')
    await owner.waitForSelector('table.audit tr[data-action="invitation.create"]')

    // a shared dashboard embedded in another origin's page: shown there when allowed, refused elsewhere
    const { createServer } = await import('node:http')
    const made = await call(
      who.admin,
      'POST',
      `/api/admin/sites/${A}/shared-links`,
      { name: 'Embedded', password: 'open sesame' },
      200
    )
    const host = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(
        `<!doctype html><title>Portal</title><iframe id="numbers" src="${base}${made.path}" width="1100" height="800"></iframe>`
      )
    })
    await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve))
    const allowed = `http://127.0.0.1:${host.address().port}`
    try {
      await call(
        who.owner,
        'PUT',
        `/api/admin/sites/${A}`,
        { timezone: 'UTC', embed_origins: ['https://elsewhere.example'] },
        200
      )
      const portal = await (await browser.newContext()).newPage()
      await portal.goto(`${allowed}/`, { waitUntil: 'load' })
      const blocked = portal.frames().find((f) => f !== portal.mainFrame())
      // Chromium shows its error page in place of a page whose frame-ancestors leave this origin out
      for (let i = 0; i < 100 && ['', 'about:blank'].includes(blocked.url()); i++) await portal.waitForTimeout(100)
      assert.match(blocked.url(), /^chrome-error:/, 'framing refused for an origin not listed')
      await call(
        who.owner,
        'PUT',
        `/api/admin/sites/${A}`,
        { timezone: 'UTC', min_group_size: 1, embed_origins: [allowed] },
        200
      )
      await portal.reload()
      const frame = portal.frames().find((f) => f !== portal.mainFrame())
      await frame.waitForSelector('#password')
      await frame.fill('#password', 'open sesame')
      await frame.click('button[type=submit]')
      await frame.waitForSelector('[data-metric] .value', { timeout: 30_000 })
      await frame.waitForFunction(() => document.body.dataset.loaded, null, { timeout: 30_000 })
      assert.equal(await frame.$('nav[aria-label=Account]'), null, 'no settings, no account: read-only')
      assert.deepEqual(await portal.context().cookies(), [], 'no cookie for the embedded dashboard')
      await portal.screenshot({ path: join(artifacts, 'shared-embedded-desktop.png'), fullPage: true })
    } finally {
      host.close()
    }
  } finally {
    await browser.close()
  }
})
