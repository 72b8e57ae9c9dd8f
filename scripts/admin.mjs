#!/usr/bin/env node
// The admin CLI: sites (time zone, retention, goals), Stats API keys, people,
// shared links and the audit log, through the Worker's admin API (its client
// is scripts/lib/admin.mjs; docs/teams.md).
//
// Usage: node scripts/admin.mjs <command>     (EDGE_URL, default http://127.0.0.1:8787;
//        ADMIN_TOKEN, default the one `npm start` keeps in .data/admin-token)
//   settings                                     show sites and keys (never key secrets)
//   site <domain> [--timezone Europe/Berlin] [--retention 6mo|1y|2y|indefinite]
//                 [--goal "Deploy Application"]… [--page-goal "/docs/**"]… [--prop language]…
//                 [--min-group-size 5] [--breakdown-prop language]… [--drop-opted-out yes|no]
//                                                create or replace a site with its goals and privacy
//                                                settings (docs/privacy.md; a new site's minimum
//                                                group size is 5, 1 turns it off)
//   privacy <domain>                             the site's privacy report (docs/privacy.md)
//   delete-site <domain>
//   key <domain>… [--name ci]                    a new Stats API key (its secret is shown once)
//   revoke <key id>
//   rebuild-visits <from> <to>                   recompute stored visits of those UTC days
//                                                (events loaded without the queue)
//   people                                       people, their roles and last login; open invitations
//   invite <email> <domain> viewer|admin|owner   an invitation link (shown once, good for 7 days)
//   role <person id> <domain> viewer|admin|owner|none
//   remove-person <person id>                    their sessions end at once
//   share <domain> --name "Backstage home" [--password …]
//                                                a read-only shared dashboard link (shown once)
//   unshare <domain> <link id>
//   audit                                        the audit log, newest first
//   export [file]                                every site, key, person and shared link as JSON (keys
//                                                and links as their SHA-256), to stdout or a file:
//                                                the settings' backup
//   import <file>                                replace them with an export's
//                                                (dashboard sessions end; docs/operations.md)
//   dead-letters                                 list the messages set aside (docs/reliability.md)
//   dead-letters replay                          queue them all again (each event is stored once)
//   hash-password                                reads a password on stdin, prints the
//                                                ADMIN_PASSWORD_HASH secret for the dashboard's login
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { adminClient, adminTokenFile, hashPassword } from './lib/admin.mjs'

function parseArgs(argv) {
  const positional = []
  const options = { goal: [], 'page-goal': [], prop: [], 'breakdown-prop': [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg.startsWith('--')) {
      const name = arg.slice(2)
      const value = argv[++i]
      if (value === undefined) throw new Error(`${arg} needs a value`)
      if (Array.isArray(options[name])) options[name].push(value)
      else options[name] = value
    } else positional.push(arg)
  }
  return { positional, options }
}

async function main() {
  const [command, ...rest] = process.argv.slice(2)
  if (command === 'hash-password') {
    const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '')
    if (password.length < 12) throw new Error('use a password of at least 12 characters')
    console.log(hashPassword(password))
    return
  }
  const { positional, options } = parseArgs(rest)
  const url = process.env.EDGE_URL || 'http://127.0.0.1:8787'
  const token =
    process.env.ADMIN_TOKEN || (existsSync(adminTokenFile) ? readFileSync(adminTokenFile, 'utf8').trim() : '')
  if (!token) throw new Error('ADMIN_TOKEN is not set (and .data/admin-token does not exist: run `npm start` once)')
  const admin = adminClient(url, token)
  let result
  switch (command) {
    case 'settings':
      result = await admin.settings()
      break
    case 'site': {
      const goals = [
        ...options.goal.map((event_name) => ({ event_name })),
        ...options['page-goal'].map((page_path) => ({ page_path }))
      ]
      const site = { goals, props: options.prop }
      if (options.timezone) site.timezone = options.timezone
      if (options.retention) site.retention = options.retention
      // a number the admin API checks (1 to 1000), sent as given
      if (options['min-group-size'] !== undefined) site.min_group_size = Number(options['min-group-size'])
      if (options['breakdown-prop'].length) site.breakdown_props = options['breakdown-prop']
      if (options['drop-opted-out'] !== undefined) {
        if (!['yes', 'no'].includes(options['drop-opted-out'])) throw new Error('--drop-opted-out is yes or no')
        site.drop_opted_out = options['drop-opted-out'] === 'yes'
      }
      result = await admin.putSite(positional[0], site)
      break
    }
    case 'delete-site':
      result = await admin.deleteSite(positional[0])
      break
    case 'key':
      result = await admin.addKey(positional, options.name)
      break
    case 'revoke':
      result = await admin.revokeKey(positional[0])
      break
    case 'people':
      result = await admin.people()
      break
    case 'invite': {
      const [email, site, role] = positional
      const made = await admin.invite(email, site, role)
      result = { ...made, link: `${url}${made.path}` }
      break
    }
    case 'role':
      result = await admin.setRole(positional[0], positional[1], positional[2] === 'none' ? null : positional[2])
      break
    case 'remove-person':
      result = await admin.removePerson(positional[0])
      break
    case 'share': {
      const made = await admin.share(positional[0], {
        name: options.name ?? 'shared',
        ...(options.password && { password: options.password })
      })
      result = { ...made, link: `${url}${made.path}` }
      break
    }
    case 'unshare':
      result = await admin.unshare(positional[0], positional[1])
      break
    case 'audit':
      result = await admin.audit()
      break
    case 'rebuild-visits':
      result = await admin.rebuildVisits(positional[0], positional[1])
      break
    case 'export': {
      const exported = await admin.exportSettings()
      result = exported
      if (!positional[0]) break
      writeFileSync(positional[0], `${JSON.stringify(exported, null, 2)}\n`, { mode: 0o600 })
      console.error(
        `admin: ${exported.sites.length} sites, ${exported.keys.length} keys, ${exported.people.length} people and ${exported.shared_links.length} shared links written to ${positional[0]}`
      )
      return
    }
    case 'import':
      if (!positional[0]) throw new Error('import needs the file an export wrote')
      result = await admin.importSettings(JSON.parse(readFileSync(positional[0], 'utf8')))
      break
    case 'dead-letters':
      if (positional[0] === 'replay') result = await admin.replayAllDeadLetters()
      else if (positional[0] === undefined) result = await admin.deadLetters()
      else throw new Error(`dead-letters ${positional[0]}: the command is "dead-letters" or "dead-letters replay"`)
      break
    default:
      console.error(
        readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('//'))
          .map((l) => l.slice(3))
          .join('\n')
      )
      process.exit(command ? 1 : 0)
  }
  console.log(JSON.stringify(result, null, 2))
}

main().catch((error) => {
  console.error(`admin: ${error.message}`)
  process.exit(1)
})
