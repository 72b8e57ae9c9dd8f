// The team's views, through the admin API: people (invite, change a role,
// remove; when each last logged in), the audit log (owners), a person's
// account (the second factor, set up with a QR code), and the page an
// invitation link opens.

import { linkButton, statusLine } from './controls.js'

const ROLES = ['viewer', 'admin', 'owner']
const when = (ms) => (ms ? `${new Date(ms).toLocaleString('en-GB', { timeZone: 'UTC' })} UTC` : 'never')

export async function renderPeople(main, { api, h, sites, account }) {
  const rerender = () => renderPeople(main, { api, h, sites, account })
  const { people, invitations } = await api.people()
  const { status, attempt } = statusLine(h, 'team-status', rerender)
  // the sites whose people this person manages (an owner gives any role, an admin up to admin)
  const managed = sites.filter((s) => account.super_admin || s.role === 'admin' || s.role === 'owner')
  const grantable = (site) =>
    account.super_admin || sites.find((s) => s.domain === site)?.role === 'owner' ? ROLES : ROLES.slice(0, 2)
  const rows = people.map((person) =>
    h(
      'tr',
      { 'data-person': person.email },
      h('td', {}, person.name, h('br'), h('small', {}, person.email)),
      h(
        'td',
        {},
        person.super_admin ? h('p', {}, 'Super-admin') : null,
        Object.entries(person.roles).map(([site, role]) =>
          h(
            'label',
            { class: 'role' },
            `${site} `,
            h(
              'select',
              {
                'aria-label': `Role of ${person.email} on ${site}`,
                disabled: person.email === account.user,
                onchange: (e) =>
                  attempt(
                    () => api.setRole(person.id, site, e.target.value || null),
                    `${person.email} is now ${e.target.value || 'without a role'} on ${site}.`
                  )
              },
              [...new Set([...grantable(site), role])].map((r) => h('option', { value: r, selected: r === role }, r)),
              h('option', { value: '' }, 'no role')
            )
          )
        )
      ),
      h(
        'td',
        {},
        person.second_factor ? 'yes ' : person.single_sign_on ? 'provider' : 'no',
        person.second_factor && person.email !== account.user
          ? linkButton(h, 'Reset', `Reset the second factor of ${person.email}`, () =>
              attempt(
                () => api.resetSecondFactor(person.id),
                `Reset the second factor of ${person.email}: they set up a new one.`
              )
            )
          : null
      ),
      h('td', {}, when(person.last_login_ms)),
      h(
        'td',
        {},
        person.email === account.user
          ? null
          : linkButton(h, 'Remove', `Remove ${person.email}`, () => {
              if (confirm(`Remove ${person.email}? Their sessions end at once.`))
                attempt(() => api.removePerson(person.id), `Removed ${person.email}.`)
            })
      )
    )
  )
  const link = h('p', { class: 'secret', 'aria-live': 'polite', id: 'invitation-link' })
  const siteSelect = h(
    'select',
    { id: 'invite-site', name: 'site' },
    managed.map((s) => h('option', { value: s.domain }, s.domain))
  )
  const roleSelect = h('select', { id: 'invite-role', name: 'role' })
  const fillRoles = () =>
    roleSelect.replaceChildren(...grantable(siteSelect.value).map((r) => h('option', { value: r }, r)))
  siteSelect.addEventListener('change', fillRoles)
  fillRoles()
  const invite = h(
    'form',
    {
      class: 'row-form',
      onsubmit: async (e) => {
        e.preventDefault()
        const data = new FormData(e.target)
        try {
          const made = await api.invite(String(data.get('email')), String(data.get('site')), String(data.get('role')))
          await rerender()
          document.getElementById('invitation-link').textContent =
            `Send ${made.email} this link (shown once, good for 7 days): ${location.origin}${made.path}`
        } catch (failure) {
          status.textContent = failure.message
          status.className = 'status error'
        }
      }
    },
    h('label', { for: 'invite-email' }, 'E-mail address'),
    h('input', { id: 'invite-email', name: 'email', type: 'email', required: true }),
    h('label', { for: 'invite-site' }, 'Site'),
    siteSelect,
    h('label', { for: 'invite-role' }, 'Role'),
    roleSelect,
    h('button', { type: 'submit' }, 'Invite')
  )
  main.replaceChildren(
    h('h1', {}, 'People'),
    status,
    h(
      'section',
      { class: 'panel', 'aria-label': 'People' },
      h(
        'table',
        { class: 'people' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Person', 'Roles', 'Second factor', 'Last login', ''].map((t) => h('th', { scope: 'col' }, t))
          )
        ),
        h('tbody', {}, rows)
      )
    ),
    h(
      'section',
      { class: 'panel', 'aria-label': 'Invitations' },
      h('h2', {}, 'Invite someone'),
      invite,
      link,
      invitations.length
        ? h(
            'ul',
            { class: 'keys' },
            invitations.map((i) =>
              h(
                'li',
                { 'data-invitation': i.email },
                `${i.email}: ${i.role} on ${i.site}, until ${when(i.expires_ms)} `,
                linkButton(h, 'Revoke', `Revoke the invitation of ${i.email}`, () =>
                  attempt(() => api.revokeInvitation(i.id), `Revoked the invitation of ${i.email}.`)
                )
              )
            )
          )
        : h('p', {}, 'No open invitations.')
    )
  )
}

export async function renderAudit(main, { api, h }) {
  const { entries } = await api.audit()
  main.replaceChildren(
    h('h1', {}, 'Audit log'),
    h(
      'section',
      { class: 'panel', 'aria-label': 'Audit log' },
      entries.length
        ? h(
            'table',
            { class: 'audit' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['When', 'Who', 'Site', 'What', ''].map((t) => h('th', { scope: 'col' }, t))
              )
            ),
            h(
              'tbody',
              {},
              entries.map((e) =>
                h(
                  'tr',
                  { 'data-action': e.action },
                  h('td', {}, when(e.at_ms)),
                  h('td', {}, e.by),
                  h('td', {}, e.site ?? '—'),
                  h('td', {}, e.action),
                  h('td', {}, e.detail)
                )
              )
            )
          )
        : h('p', {}, 'Nothing yet.')
    )
  )
}

export async function renderAccount(main, { api, h, account }) {
  const { status, attempt } = statusLine(h, 'team-status', () => renderAccount(main, { api, h, account }))
  const body = h('div', {})
  if (account.installation) {
    body.append(
      h(
        'p',
        {},
        'This is the installation’s administrator: its password is a secret of the deployment (ADMIN_PASSWORD_HASH).'
      )
    )
  } else if (account.second_factor) {
    body.append(h('p', { id: 'second-factor-on' }, 'A second factor protects this account.'))
  } else {
    const password = h('input', {
      id: 'second-factor-password',
      type: 'password',
      autocomplete: 'current-password',
      required: true
    })
    body.append(
      h('p', {}, 'Add a second factor: a code from an authenticator app at each login.'),
      h('label', { for: 'second-factor-password' }, 'Your password'),
      password,
      h(
        'button',
        {
          type: 'button',
          id: 'second-factor-start',
          onclick: async () => {
            try {
              const setup = await api.startSecondFactor(password.value)
              // the QR code library is loaded only here, not with every dashboard
              const { default: qrcode } = await import('qrcode-generator')
              const qr = qrcode(0, 'M')
              qr.addData(setup.otpauth_url)
              qr.make()
              const code = h('input', { id: 'second-factor-code', name: 'code', inputmode: 'numeric', required: true })
              const form = h(
                'form',
                {
                  class: 'row-form',
                  onsubmit: (e) => {
                    e.preventDefault()
                    attempt(async () => {
                      const { recovery_codes } = await api.confirmSecondFactor(code.value.trim())
                      account.second_factor = true
                      // shown once: the account view that follows keeps them on screen
                      setTimeout(() => {
                        document
                          .getElementById('account')
                          ?.append(
                            h('p', {}, 'Recovery codes (each works once; keep them somewhere safe):'),
                            h('pre', { id: 'recovery-codes' }, recovery_codes.join('\n'))
                          )
                      })
                    }, 'Second factor on.')
                  }
                },
                h('label', { for: 'second-factor-code' }, 'Code from the app'),
                code,
                h('button', { type: 'submit' }, 'Confirm')
              )
              const qrImage = h('div', { class: 'qr', id: 'second-factor-qr', role: 'img', 'aria-label': 'QR code' })
              qrImage.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 4 })
              body.replaceChildren(
                h('p', {}, 'Scan this with your authenticator app, or type the key:'),
                qrImage,
                h('p', {}, h('code', { id: 'second-factor-secret' }, setup.secret)),
                form
              )
              code.focus()
            } catch (failure) {
              status.textContent = failure.message
              status.className = 'status error'
            }
          }
        },
        'Set up a second factor'
      )
    )
  }
  main.replaceChildren(
    h('h1', {}, 'Account'),
    status,
    h(
      'section',
      { class: 'panel', id: 'account', 'aria-label': 'Account' },
      h('p', {}, account.name ? `${account.name} (${account.user})` : account.user),
      body
    )
  )
}

/** The page an invitation link opens: a name and a password, then the dashboard. */
export function renderInvitation(app, { api, h, token, done }) {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' })
  const form = h(
    'form',
    {
      class: 'login',
      'aria-labelledby': 'accept-title',
      onsubmit: async (e) => {
        e.preventDefault()
        const data = new FormData(form)
        if (data.get('password') !== data.get('again')) {
          error.textContent = 'The two passwords differ.'
          return
        }
        try {
          await api.accept(token, String(data.get('name')), String(data.get('password')))
          await done()
        } catch (failure) {
          error.textContent = failure.message
        }
      }
    },
    h('h1', { id: 'accept-title' }, 'Join Edge analytics'),
    h('label', { for: 'name' }, 'Your name'),
    h('input', { id: 'name', name: 'name', autocomplete: 'name', required: true }),
    h('label', { for: 'new-password' }, 'Password (12 characters or more)'),
    h('input', {
      id: 'new-password',
      name: 'password',
      type: 'password',
      autocomplete: 'new-password',
      minlength: 12,
      required: true
    }),
    h('label', { for: 'again' }, 'The same password again'),
    h('input', { id: 'again', name: 'again', type: 'password', autocomplete: 'new-password', required: true }),
    h('button', { type: 'submit' }, 'Join'),
    error
  )
  app.replaceChildren(form)
}

/** A shared link's password prompt: the grant, once unlocked. */
export function renderUnlock(app, { api, h, token, done }) {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' })
  const form = h(
    'form',
    {
      class: 'login',
      'aria-labelledby': 'unlock-title',
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          const { grant } = await api.unlock(token, String(new FormData(form).get('password')))
          await done(grant)
        } catch (failure) {
          error.textContent = failure.message
        }
      }
    },
    h('h1', { id: 'unlock-title' }, 'This dashboard has a password'),
    h('label', { for: 'password' }, 'Password'),
    h('input', { id: 'password', name: 'password', type: 'password', required: true }),
    h('button', { type: 'submit' }, 'Open'),
    error
  )
  app.replaceChildren(form)
  form.querySelector('#password').focus()
}
