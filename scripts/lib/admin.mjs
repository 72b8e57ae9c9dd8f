// The admin API's client, the dashboard password's hash, and the demo site's
// goals and props: for the admin CLI, the dev runner and the tests.
import { pbkdf2Sync, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { root } from './paths.mjs'

export const adminTokenFile = join(root, '.data/admin-token')

/** A client of the admin API at `url` with `token`. */
export function adminClient(url, token) {
  async function call(method, path, body) {
    const response = await fetch(`${url}/api/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await response.text()
    let json
    try {
      json = JSON.parse(text)
    } catch {
      json = { error: text }
    }
    if (!response.ok)
      throw Object.assign(new Error(`${method} ${path}: ${response.status} ${json.error ?? text}`), {
        status: response.status
      })
    return json
  }
  return {
    settings: () => call('GET', '/settings'),
    putSite: (domain, site = {}) => call('PUT', `/sites/${encodeURIComponent(domain)}`, site),
    deleteSite: (domain) => call('DELETE', `/sites/${encodeURIComponent(domain)}`),
    addKey: (sites, name) => call('POST', '/keys', name ? { sites, name } : { sites }),
    revokeKey: (id) => call('DELETE', `/keys/${encodeURIComponent(id)}`),
    rebuildVisits: (from, to) => call('POST', '/visits/rebuild', { from, to }),
    /** The cron's rollup pass, now: `{rolled: [{site, day}], failed, more}`. */
    rollDays: () => call('POST', '/rollups/run'),
    /** Every site, key, person and shared link (secrets as their hashes), for a backup. */
    exportSettings: () => call('GET', '/export'),
    /** Replaces every site, key, person and shared link with an export's. */
    importSettings: (exported) => call('PUT', '/import', exported),
    people: () => call('GET', '/people'),
    invite: (email, site, role) => call('POST', '/invitations', { email, site, role }),
    setRole: (id, site, role) =>
      call('PUT', `/people/${encodeURIComponent(id)}/roles/${encodeURIComponent(site)}`, { role }),
    removePerson: (id) => call('DELETE', `/people/${encodeURIComponent(id)}`),
    share: (site, link) => call('POST', `/sites/${encodeURIComponent(site)}/shared-links`, link),
    unshare: (site, id) => call('DELETE', `/sites/${encodeURIComponent(site)}/shared-links/${encodeURIComponent(id)}`),
    audit: () => call('GET', '/audit'),
    deadLetters: () => call('GET', '/dead-letters'),
    replayDeadLetters: () => call('POST', '/dead-letters/replay', {}),
    /** Replays every dead letter, 100 a request: how many, and the keys of any unreadable. */
    async replayAllDeadLetters() {
      let replayed = 0
      const unreadable = []
      for (;;) {
        const answer = await call('POST', '/dead-letters/replay', {})
        replayed += answer.replayed
        unreadable.push(...answer.unreadable)
        if (!answer.remaining) return { replayed, unreadable }
      }
    }
  }
}

/** The dashboard password's slow hash, in the form edge/control/src/login.rs reads (PBKDF2-HMAC-SHA256). */
export function hashPassword(password, iterations = 100_000) {
  const salt = randomBytes(16)
  return `pbkdf2-sha256$${iterations}$${salt.toString('hex')}$${pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('hex')}`
}

/** The Backstage events' custom properties, listed for the dashboard's goal breakdowns. */
export const BACKSTAGE_PROPS = ['language', 'template', 'section', 'pipeline']

/** The Backstage demo site's goals (issue 4): custom events and a pageview goal. */
export const BACKSTAGE_GOALS = [
  { event_name: 'Deploy Application' },
  { event_name: 'Create Service' },
  { event_name: 'View Documentation' },
  { event_name: 'Run CI/CD Pipeline' },
  { page_path: '/docs/**' }
]
