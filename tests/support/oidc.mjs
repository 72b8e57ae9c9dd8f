// A real OpenID Connect provider (panva's oidc-provider) on loopback, for the
// end-to-end tests of the dashboard's sign-in: authorization code flow with
// PKCE (S256, required), confidential clients (client_secret_basic or _post),
// ID tokens signed RS256 carrying the asked-for claims (email, name, groups).
// Sign-in is one HTML form (`login`, any `password`, a submit button) whose
// login is a key of `accounts`; consent is granted without a page.
import { createServer } from 'node:http'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose'
import Provider from 'oidc-provider'
import { freePort } from '../../scripts/lib/net.mjs'

const TTL = {
  AccessToken: 3600,
  AuthorizationCode: 60,
  ClientCredentials: 600,
  Grant: 86400,
  IdToken: 3600,
  Interaction: 3600,
  RefreshToken: 86400,
  Session: 86400
}

// `clients`: [{ client_id, client_secret, redirect_uris }]; `accounts`: login
// name → claims ({ sub, email, email_verified, name, groups, amr, … }; sub
// defaults to the login name; amr, the sign-in's methods, goes in the ID token); `ttl`: seconds by model, e.g. { IdToken: 1 }.
// Resolves to { issuer, url, stop(), keys, tamper }: `keys` is the private
// signing JWKS; `tamper(fn)` has every ID token the token endpoint issues
// from then on rewritten by `fn(claims)` and signed again with the
// provider's own key (a wrong audience, an expiry in the past), `tamper()`
// stops it.
export async function startProvider({ clients = [], accounts = {}, ttl = {} } = {}) {
  const bySub = new Map(Object.entries(accounts).map(([login, claims]) => [claims.sub ?? login, claims]))
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })
  const keys = { keys: [{ ...jwk, kid: `test-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' }] }

  let provider
  let callback
  const server = createServer((req, res) => route(provider, callback, accounts, req, res))
  const port = await listen(server)
  const issuer = `http://127.0.0.1:${port}`

  try {
    provider = configure(issuer, { clients, keys, bySub, ttl })
  } catch (error) {
    server.close()
    throw error
  }
  let rewrite = null
  const key = await importJWK(keys.keys[0], 'RS256')
  provider.use(async (ctx, next) => {
    await next()
    if (!rewrite || ctx.path !== '/token' || typeof ctx.body?.id_token !== 'string') return
    const { kid } = decodeProtectedHeader(ctx.body.id_token)
    const claims = rewrite(decodeJwt(ctx.body.id_token))
    ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key) }
  })
  callback = provider.callback()

  return {
    issuer,
    url: issuer,
    keys: structuredClone(keys),
    tamper: (fn = null) => {
      rewrite = fn
    },
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

function configure(issuer, { clients, keys, bySub, ttl }) {
  return new Provider(issuer, {
    adapter: memoryAdapter(),
    clients: clients.map(({ client_id, client_secret, redirect_uris }) => ({
      client_id,
      client_secret,
      redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // the provider takes _post for a client registered _basic, and back
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256'
    })),
    jwks: keys,
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      // amr: how the account signed in, when its login said (a multi-factor one)
      openid: ['sub', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'groups'],
      groups: ['groups']
    },
    // the scopes' claims go in the ID token too, not in userinfo only
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const claims = bySub.get(sub)
      return claims && { accountId: sub, claims: () => ({ ...claims, sub }) }
    },
    renderError: (ctx, out) => {
      ctx.type = 'html'
      ctx.body = page('Error', `<pre id="error">${htmlText(JSON.stringify(out, null, 2))}</pre>`)
    },
    ttl: { ...TTL, ...ttl }
  })
}

// a port picked free may be taken again before the listen: then another
async function listen(server) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      await new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
      return port
    } catch (error) {
      if (attempt >= 3 || error.code !== 'EADDRINUSE') throw error
    }
  }
}

// /interaction/<uid> is ours (the sign-in form, the silent consent), the rest
// is the provider's
async function route(provider, callback, accounts, req, res) {
  const { pathname } = new URL(req.url, 'http://x')
  if (!/^\/interaction\/[\w-]+$/.test(pathname)) return callback(req, res)
  try {
    const { prompt, params, session, grantId } = await provider.interactionDetails(req, res)
    if (prompt.name === 'login' && req.method === 'POST') {
      const login = new URLSearchParams(await body(req)).get('login') ?? ''
      const claims = Object.hasOwn(accounts, login) ? accounts[login] : undefined
      if (!claims) return send(res, 401, loginPage(pathname, params, `unknown login: ${login}`))
      // `amr`: how the account signed in (RFC 8176), as a multi-factor login reports it
      const result = { login: { accountId: claims.sub ?? login, ...(claims.amr && { amr: claims.amr }) } }
      return await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false })
    }
    if (prompt.name === 'login') return send(res, 200, loginPage(pathname, params))
    if (prompt.name === 'consent') {
      const { details } = prompt
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id })
      if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '))
      if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims)
      for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '))
      }
      const result = { consent: { grantId: await grant.save() } }
      return await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true })
    }
    send(res, 501, page('Error', `<p id="error">prompt ${htmlText(prompt.name)} not handled</p>`))
  } catch (error) {
    const message = [error.message, error.error_description].filter(Boolean).join(': ')
    if (!res.headersSent) send(res, 400, page('Error', `<p id="error">${htmlText(message)}</p>`))
  }
}

function loginPage(action, params, error) {
  return page(
    'Sign in',
    `<h1>Sign in to ${htmlText(params.client_id)}</h1>
${error ? `<p id="error" role="alert">${htmlText(error)}</p>` : ''}
<form method="post" action="${htmlText(action)}" autocomplete="off">
  <label>Login <input type="text" name="login" required autofocus value="${htmlText(params.login_hint ?? '')}"></label>
  <label>Password <input type="password" name="password"></label>
  <button type="submit">Sign in</button>
</form>`
  )
}

function page(title, content) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${htmlText(title)}</title></head>
<body>
${content}
</body>
</html>
`
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(html)
}

async function body(req) {
  let text = ''
  for await (const chunk of req) text += chunk
  return text
}

function htmlText(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

// the provider's storage, in memory and one's own (its built-in one is shared
// by all providers of the process, and warns at each start)
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode'])

function memoryAdapter() {
  const store = new Map()
  const live = (key) => {
    const entry = store.get(key)
    if (entry && entry.expiresAt <= Date.now()) store.delete(key)
    return store.get(key)?.payload
  }
  return (model) => ({
    async upsert(id, payload, expiresIn) {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY
      store.set(`${model}:${id}`, { model, payload, expiresAt })
      if (payload.uid) store.set(`${model}:uid:${payload.uid}`, { payload: id, expiresAt })
      if (payload.userCode) store.set(`${model}:userCode:${payload.userCode}`, { payload: id, expiresAt })
    },
    async find(id) {
      return live(`${model}:${id}`)
    },
    async findByUid(uid) {
      const id = live(`${model}:uid:${uid}`)
      return id && live(`${model}:${id}`)
    },
    async findByUserCode(userCode) {
      const id = live(`${model}:userCode:${userCode}`)
      return id && live(`${model}:${id}`)
    },
    async consume(id) {
      const payload = live(`${model}:${id}`)
      if (payload) payload.consumed = Math.floor(Date.now() / 1000)
    },
    async destroy(id) {
      store.delete(`${model}:${id}`)
    },
    async revokeByGrantId(grantId) {
      for (const [key, entry] of store) {
        if (GRANTABLE.has(entry.model) && entry.payload.grantId === grantId) store.delete(key)
      }
    }
  })
}
