// Single sign-on end to end in headless Chromium: the dashboard's Worker
// under wrangler dev against a real OpenID provider (oidc-provider,
// tests/support/oidc.mjs) — authorization code with PKCE, state and nonce;
// roles from the groups claim; and every way it must fail without a
// session: a forged state, a replayed code, a wrong audience, an expired
// token, a person outside every mapped group, a provider answering garbage.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { hashPassword } from '../scripts/lib/admin.mjs'
import { launch } from './support/browser.mjs'
import { startMigratedClickhouse } from './support/clickhouse.mjs'
import { freePort, startEdge } from './support/edge.mjs'
import { startProvider } from './support/oidc.mjs'

const A = 'backstage.fawkes.idp'
const B = 'portal.test'
const SECRET = 'the-dashboards-client-secret'

let ch, edge, provider, browser, base
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sso-'))
  ch = await startMigratedClickhouse(join(dir, 'ch'))
  const port = await freePort()
  // localhost: a secure context, where Chromium keeps the Secure cookies over http
  base = `http://localhost:${port}`
  provider = await startProvider({
    clients: [{ client_id: 'dash', client_secret: SECRET, redirect_uris: [`${base}/api/auth/sso/callback`] }],
    accounts: {
      ada: { sub: 'ada-1', email: 'ada@example.com', email_verified: true, name: 'Ada', groups: ['analytics-admins'] },
      bob: { sub: 'bob-1', email: 'bob@example.com', email_verified: true, name: 'Bob', groups: ['portal-team'] },
      eve: { sub: 'eve-1', email: 'eve@example.com', email_verified: true, name: 'Eve', groups: ['everyone'] },
      dora: {
        sub: 'dora-1',
        email: 'dora@example.com',
        email_verified: true,
        name: 'Dora',
        groups: ['analytics-admins']
      },
      mallory: { sub: 'mallory-1', email: 'ada@example.com', name: 'Mallory', groups: ['analytics-admins'] },
      carol: {
        sub: 'carol-1',
        email: 'carol@example.com',
        email_verified: true,
        name: 'Carol',
        groups: ['analytics-admins'],
        amr: ['pwd', 'otp']
      }
    }
  })
  edge = await startEdge({
    port,
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: [A, B],
    persistTo: join(dir, 'state'),
    vars: {
      ADMIN_PASSWORD_HASH: hashPassword('the-installation-password'),
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: 'dash',
      OIDC_CLIENT_SECRET: SECRET,
      OIDC_ROLES: `analytics-admins=admin@*, portal-team=viewer@${A}`
    }
  })
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await edge?.stop()
  await provider?.stop()
  await ch?.stop()
})

/** A fresh browser at the dashboard's login: signs in as `login` at the provider; the page and the callback's answer. */
async function signIn(login) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const callbacks = []
  // (reached by the provider's redirect: seen, not interceptable)
  page.on('request', (request) => {
    if (request.url().includes('/api/auth/sso/callback')) callbacks.push(request.url())
  })
  await page.goto(`${base}/dashboard/`)
  await page.click('#sso')
  await page.waitForSelector('input[name=login]')
  await page.fill('input[name=login]', login)
  const answer = page.waitForResponse((r) => r.url().includes('/api/auth/sso/callback'))
  await page.click('button[type=submit]')
  const response = await answer
  return { page, context, response, callbacks }
}

async function sessionCookie(context) {
  return (await context.cookies()).find((c) => c.name === '__Host-ea_session')
}

test('a person in a mapped group signs in through the provider and gets the roles their groups give', async () => {
  const { page, context, response } = await signIn('ada')
  assert.equal(response.status(), 302)
  await page.waitForSelector('[data-metric]', { timeout: 30_000 })
  assert.equal(new URL(page.url()).pathname, '/dashboard/')
  const cookie = await sessionCookie(context)
  assert.ok(cookie?.httpOnly && cookie.secure && cookie.sameSite === 'Strict')
  assert.ok(!(await context.cookies()).some((c) => c.name === '__Host-ea_sso'), 'the login state cookie is gone')
  const session = await page.evaluate(() => fetch('/api/auth/session').then((r) => r.json()))
  assert.equal(session.user, 'ada@example.com')
  assert.deepEqual(
    session.sites.map((s) => [s.domain, s.role]),
    [
      [A, 'admin'],
      [B, 'admin']
    ]
  )
  // a viewer of one site
  const bob = await signIn('bob')
  await bob.page.waitForSelector('[data-metric]', { timeout: 30_000 })
  const bobs = await bob.page.evaluate(() => fetch('/api/auth/session').then((r) => r.json()))
  assert.deepEqual(
    bobs.sites.map((s) => [s.domain, s.role]),
    [[A, 'viewer']]
  )
  const settings = await bob.page.evaluate(() => fetch('/api/admin/settings').then((r) => r.status))
  assert.equal(settings, 403, 'a viewer sees no settings')
  // the audit log records who was signed in with which roles
  const log = await fetch(`${edge.url}/api/admin/audit`, {
    headers: { Authorization: 'Bearer test-admin-token-0123456789abcdef' }
  })
  const entries = (await log.json()).entries
  assert.ok(entries.some((e) => e.action === 'person.single_sign_on' && e.detail === `bob@example.com: viewer on ${A}`))
  await context.close()
  await bob.context.close()
})

test('a site that requires a second factor takes the provider’s multi-factor sign-in (amr), not a password alone', async () => {
  const token = { Authorization: 'Bearer test-admin-token-0123456789abcdef' }
  const put = (required) =>
    fetch(`${edge.url}/api/admin/sites/${B}`, {
      method: 'PUT',
      headers: token,
      body: JSON.stringify({ timezone: 'UTC', require_second_factor: required })
    })
  assert.equal((await put(true)).status, 200)
  try {
    const query = (page) =>
      page.evaluate(
        (site) =>
          fetch('/api/v2/query', {
            method: 'POST',
            body: JSON.stringify({ site_id: site, metrics: ['visitors'], date_range: '7d' })
          }).then((r) => r.status),
        B
      )
    const ada = await signIn('ada')
    await ada.page.waitForSelector('[data-metric]', { timeout: 30_000 })
    assert.equal(await query(ada.page), 403, 'a password alone')
    const carol = await signIn('carol')
    await carol.page.waitForSelector('[data-metric]', { timeout: 30_000 })
    assert.equal(await query(carol.page), 200, 'amr: pwd and otp')
    await ada.context.close()
    await carol.context.close()
  } finally {
    await put(false)
  }
})

test('no account is taken over by its e-mail address: not one with a password, not another identity’s', async () => {
  // Dora has a password account here; the provider's Dora is refused, her account untouched
  const token = { Authorization: 'Bearer test-admin-token-0123456789abcdef' }
  const invitation = await (
    await fetch(`${edge.url}/api/admin/invitations`, {
      method: 'POST',
      headers: token,
      body: JSON.stringify({ email: 'dora@example.com', site: B, role: 'viewer' })
    })
  ).json()
  const accepted = await fetch(`${edge.url}/api/auth/invitations/accept`, {
    method: 'POST',
    body: JSON.stringify({ token: invitation.token, name: 'Dora', password: 'dora’s own password' })
  })
  assert.equal(accepted.status, 200)
  const dora = await signIn('dora')
  assert.equal(dora.response.status(), 403)
  assert.match((await dora.response.json()).error, /dora@example\.com has an account here already/)
  assert.equal(await sessionCookie(dora.context), undefined)
  await dora.context.close()
  // Ada signed in before (an earlier test): another provider account claiming her address (without
  // email_verified) is not her
  const ada = await signIn('ada')
  assert.equal(ada.response.status(), 302)
  await ada.context.close()
  const mallory = await signIn('mallory')
  assert.equal(mallory.response.status(), 403)
  assert.equal(await sessionCookie(mallory.context), undefined)
  await mallory.context.close()
  const people = await (await fetch(`${edge.url}/api/admin/people`, { headers: token })).json()
  const doras = people.people.find((p) => p.email === 'dora@example.com')
  assert.deepEqual(doras.roles, { [B]: 'viewer' }, 'her roles as they were')
})

test('a person outside every mapped group: 403 with a message, no session', async () => {
  const { context, response } = await signIn('eve')
  assert.equal(response.status(), 403)
  assert.match((await response.json()).error, /eve@example\.com is in no group this installation gives a role to/)
  assert.equal(await sessionCookie(context), undefined)
  await context.close()
})

/** An attacker's own sign-in as `login`, driven with fetch, stopped before its callback: the callback URL (an unredeemed code). */
async function attackersCallback(login) {
  const jar = new Map()
  const go = async (url, init = {}) => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie } })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1))
    }
    return response
  }
  let response = await go(`${base}/api/auth/sso/start`)
  for (let hops = 0; hops < 12; hops++) {
    const location = response.headers.get('location')
    if (location?.startsWith(`${base}/api/auth/sso/callback`)) return location
    if (location) {
      response = await go(new URL(location, provider.url))
      continue
    }
    const action = (await response.text()).match(/<form[^>]*action="([^"]+)"/)[1]
    response = await go(new URL(action, provider.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login, password: 'anything' })
    })
  }
  throw new Error('too many redirects')
}

/** A browser with a sign-in of its own begun (its state cookie set), stopped at the provider: the page and that state. */
async function begun() {
  const context = await browser.newContext()
  const page = await context.newPage()
  let state
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (url.origin === provider.url && url.pathname === '/auth') state ??= url.searchParams.get('state')
  })
  await page.goto(`${base}/api/auth/sso/start`)
  await page.waitForSelector('input[name=login]')
  assert.ok(state, 'the login’s state')
  return { context, page, state }
}

test('a forged state is refused: an attacker’s callback link signs nobody in', async () => {
  // login CSRF: the attacker's code and state, opened in a victim's browser that began its own login
  const link = await attackersCallback('ada')
  const victim = await begun()
  const forged = await victim.page.goto(link)
  assert.equal(forged.status(), 403)
  assert.match((await forged.json()).error, /^state: this sign-in was not started by this browser/)
  // the attacker's code with the victim's own state: the provider refuses it (PKCE: another verifier)
  const code = new URL(link).searchParams.get('code')
  const mixed = await victim.page.goto(
    `${base}/api/auth/sso/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(victim.state)}`
  )
  assert.equal(mixed.status(), 403)
  assert.match((await mixed.json()).error, /refused the code/)
  assert.equal(await sessionCookie(victim.context), undefined)
  // a made-up state, and none
  for (const query of ['code=x&state=forged-by-someone-else', 'code=x']) {
    const response = await victim.page.goto(`${base}/api/auth/sso/callback?${query}`)
    assert.ok([400, 403].includes(response.status()), query)
  }
  assert.equal(await sessionCookie(victim.context), undefined)
  await victim.context.close()
})

test('a replayed callback or code gets no second session', async () => {
  const first = await signIn('ada')
  assert.equal(first.response.status(), 302)
  const [used] = first.callbacks
  // the same callback again, in the same browser: its login was used up
  const again = await first.page.goto(used)
  assert.equal(again.status(), 403)
  // the old code with a new login's state: the provider refuses it (a code is redeemed once)
  const { context: fresh, page, state } = await begun()
  const code = new URL(used).searchParams.get('code')
  const replay = await page.goto(
    `${base}/api/auth/sso/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`
  )
  assert.equal(replay.status(), 403)
  assert.match((await replay.json()).error, /refused the code \(invalid_grant/)
  assert.equal(await sessionCookie(fresh), undefined)
  await first.context.close()
  await fresh.close()
})

test('an ID token for another audience, or expired, signed by the provider itself, is refused', async () => {
  for (const [rewrite, message] of [
    [(claims) => ({ ...claims, aud: 'another-client' }), /meant for another client/],
    [(claims) => ({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    [(claims) => ({ ...claims, nonce: 'another-login' }), /nonce/]
  ]) {
    provider.tamper(rewrite)
    try {
      const { context, response } = await signIn('ada')
      assert.equal(response.status(), 403)
      assert.match((await response.json()).error, message)
      assert.equal(await sessionCookie(context), undefined)
      await context.close()
    } finally {
      provider.tamper()
    }
  }
})

test('a provider answering garbage is a clear error, and nothing changes', async () => {
  // a second Worker whose issuer answers HTML: the start says so, and starts nothing
  const garbage = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<html>not a provider</html>')
  })
  await new Promise((resolve) => garbage.listen(0, '127.0.0.1', resolve))
  const port = await freePort()
  const other = await startEdge({
    port,
    clickhouseUrl: ch.url,
    clickhousePassword: ch.password,
    sites: [A],
    vars: {
      ADMIN_PASSWORD_HASH: hashPassword('the-installation-password'),
      OIDC_ISSUER: `http://127.0.0.1:${garbage.address().port}`,
      OIDC_CLIENT_ID: 'dash',
      OIDC_CLIENT_SECRET: SECRET,
      OIDC_ROLES: 'analytics-admins=admin@*',
      SSO_ONLY: 'true'
    }
  })
  try {
    const response = await fetch(`${other.url}/api/auth/sso/start`, { redirect: 'manual' })
    assert.equal(response.status, 502)
    assert.match((await response.json()).error, /identity provider's discovery document is not usable/)
    const unknown = await fetch(`${other.url}/api/auth/sso/callback?code=x&state=y`)
    assert.equal(unknown.status, 403)
    // SSO_ONLY: the login page is told; a person's password is not accepted (the installation's is)
    const session = await (await fetch(`${other.url}/api/auth/session`)).json()
    assert.deepEqual([session.single_sign_on, session.sso_only], [true, true])
    const admin = await fetch(`${other.url}/api/auth/login`, {
      method: 'POST',
      body: JSON.stringify({ username: 'admin', password: 'the-installation-password' })
    })
    assert.equal(admin.status, 200, 'the installation’s administrator, for when the provider is down')
  } finally {
    await other.stop()
    garbage.close()
  }
})
