// The settings view: sites (time zone, retention, goals, funnels, reports,
// alerts and webhooks, who may embed
// their shared dashboards, whether people need a second factor), shared
// links and Stats API keys, through the admin API.

import { linkButton, statusLine } from './controls.js'

const RETENTIONS = [
  ['6mo', '6 months'],
  ['1y', '1 year'],
  ['2y', '2 years'],
  ['indefinite', 'Indefinitely']
]

function goalText(goal) {
  return goal.event_name ?? `Visit ${goal.page_path}`
}

/** A funnel step as one line: `Deploy Application | language=nodejs`, or `/docs/**`. */
function stepText(step) {
  const props = Object.entries(step.props ?? {}).map(([k, v]) => ` | ${k}=${v}`)
  return (step.page_path ?? step.event_name) + props.join('')
}

/** The step a line describes (the admin API checks it and names what is wrong). */
function stepFromLine(line) {
  const [head, ...pairs] = line.split('|').map((part) => part.trim())
  const step = head.startsWith('/') ? { page_path: head } : { event_name: head }
  if (pairs.length)
    step.props = Object.fromEntries(
      pairs.map((pair) => {
        const at = pair.indexOf('=')
        return at < 0 ? [pair, ''] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()]
      })
    )
  return step
}

export async function renderSettings(main, { api, h, reload, roles = {} }) {
  const settings = await api.settings()
  const { status, say, attempt } = statusLine(h, 'settings-status', () =>
    renderSettings(main, { api, h, reload, roles })
  )

  const siteForms = settings.sites.map((site) => {
    const id = site.domain.replace(/[^a-z0-9]/gi, '-')
    const goals = site.goals.map((goal, i) =>
      h(
        'li',
        {},
        goalText(goal),
        ' ',
        linkButton(h, 'Remove', `Remove the goal ${goalText(goal)}`, () =>
          attempt(
            () => api.putSite(site.domain, { ...site, domain: undefined, goals: site.goals.filter((_, j) => j !== i) }),
            `Removed the goal ${goalText(goal)}.`
          )
        )
      )
    )
    const goalInput = h('input', { id: `goal-${id}`, placeholder: 'Deploy Application, or /docs/**' })
    return h(
      'section',
      { class: 'panel', 'data-site': site.domain, 'aria-label': site.domain },
      h('h2', {}, site.domain),
      h(
        'form',
        {
          class: 'row-form',
          onsubmit: (e) => {
            e.preventDefault()
            const data = new FormData(e.target)
            attempt(
              () =>
                api.putSite(site.domain, {
                  ...site,
                  domain: undefined,
                  timezone: String(data.get('timezone')),
                  retention: String(data.get('retention'))
                }),
              `Saved ${site.domain}.`
            )
          }
        },
        h('label', { for: `tz-${id}` }, 'Time zone'),
        h('input', { id: `tz-${id}`, name: 'timezone', value: site.timezone, required: true }),
        h('label', { for: `retention-${id}` }, 'Keep data'),
        h(
          'select',
          { id: `retention-${id}`, name: 'retention' },
          RETENTIONS.map(([value, text]) => h('option', { value, selected: value === site.retention }, text))
        ),
        h('button', { type: 'submit' }, 'Save')
      ),
      h('h3', {}, 'Goals'),
      site.goals.length ? h('ul', { class: 'goals' }, goals) : h('p', {}, 'No goals.'),
      h(
        'form',
        {
          class: 'row-form',
          onsubmit: (e) => {
            e.preventDefault()
            const text = goalInput.value.trim()
            if (!text) return
            const goal = text.startsWith('/') ? { page_path: text } : { event_name: text }
            attempt(
              () => api.putSite(site.domain, { ...site, domain: undefined, goals: [...site.goals, goal] }),
              `Added the goal ${goalText(goal)}.`
            )
          }
        },
        h('label', { for: `goal-${id}` }, 'New goal (an event name, or a path starting with /)'),
        goalInput,
        h('button', { type: 'submit' }, 'Add goal')
      ),
      h('h3', {}, 'Funnels'),
      (site.funnels ?? []).length
        ? h(
            'ul',
            { class: 'goals' },
            site.funnels.map((funnel) =>
              h(
                'li',
                { 'data-funnel': funnel.name },
                `${funnel.name}: ${funnel.steps.map(stepText).join(' → ')} `,
                linkButton(h, 'Remove', `Remove the funnel ${funnel.name}`, () =>
                  attempt(
                    () =>
                      api.putSite(site.domain, {
                        ...site,
                        domain: undefined,
                        funnels: site.funnels.filter((f) => f.name !== funnel.name)
                      }),
                    `Removed the funnel ${funnel.name}.`
                  )
                )
              )
            )
          )
        : h('p', {}, 'No funnels.'),
      h(
        'form',
        {
          class: 'row-form',
          onsubmit: (e) => {
            e.preventDefault()
            const data = new FormData(e.target)
            const name = String(data.get('name')).trim()
            const steps = String(data.get('steps'))
              .split('\n')
              .map((line) => line.trim())
              .filter(Boolean)
              .map(stepFromLine)
            attempt(
              () =>
                api.putSite(site.domain, {
                  ...site,
                  domain: undefined,
                  funnels: [...(site.funnels ?? []), { name, steps }]
                }),
              `Added the funnel ${name}.`
            )
          }
        },
        h('label', { for: `funnel-${id}` }, 'New funnel'),
        h('input', { id: `funnel-${id}`, name: 'name', placeholder: 'Onboarding', required: true }),
        h('label', { for: `funnel-steps-${id}` }, 'Steps, one a line (2 to 8): an event name or a path, props after |'),
        h('textarea', {
          id: `funnel-steps-${id}`,
          name: 'steps',
          rows: 4,
          required: true,
          placeholder: '/create/**\nCreate Service | template=express\nDeploy Application'
        }),
        h('button', { type: 'submit' }, 'Add funnel')
      ),
      h('h3', {}, 'Custom properties'),
      (site.props ?? []).length
        ? h(
            'ul',
            { class: 'goals' },
            site.props.map((prop) =>
              h(
                'li',
                {},
                prop,
                ' ',
                linkButton(h, 'Remove', `Remove the property ${prop}`, () =>
                  attempt(
                    () =>
                      api.putSite(site.domain, {
                        ...site,
                        domain: undefined,
                        props: site.props.filter((p) => p !== prop),
                        // an allowlist names only the site's props
                        breakdown_props: Array.isArray(site.breakdown_props)
                          ? site.breakdown_props.filter((p) => p !== prop)
                          : null
                      }),
                    `Removed the property ${prop}.`
                  )
                )
              )
            )
          )
        : h('p', {}, 'None: goals are broken down by the properties listed here.'),
      h(
        'form',
        {
          class: 'row-form',
          onsubmit: (e) => {
            e.preventDefault()
            const prop = String(new FormData(e.target).get('prop')).trim()
            if (prop)
              attempt(
                () => api.putSite(site.domain, { ...site, domain: undefined, props: [...(site.props ?? []), prop] }),
                `Added the property ${prop}.`
              )
          }
        },
        h('label', { for: `prop-${id}` }, 'New property'),
        h('input', { id: `prop-${id}`, name: 'prop', placeholder: 'language' }),
        h('button', { type: 'submit' }, 'Add property')
      ),
      ...privacy(site, id),
      ...notifications(site, id),
      sharing(site, id)
    )
  })

  // the minimum group size, the opt-out, which props may be broken down,
  // and a warning for props that look personal (docs/privacy.md)
  function privacy(site, id) {
    const allowlist = Array.isArray(site.breakdown_props)
    const warnings = h('ul', { class: 'warnings', 'data-warnings': site.domain })
    api.props(site.domain).then(
      ({ props }) =>
        warnings.replaceChildren(
          ...props
            .filter((p) => p.warning)
            .map((p) => h('li', { class: 'warning', 'data-prop': p.key }, `⚠ ${p.key}: ${p.warning}`))
        ),
      () => {}
    )
    return [
      h('h3', {}, 'Privacy'),
      h(
        'form',
        {
          class: 'row-form',
          'data-privacy': site.domain,
          onsubmit: (e) => {
            e.preventDefault()
            const data = new FormData(e.target)
            save(
              site,
              {
                min_group_size: Number(data.get('min_group_size')),
                drop_opted_out: data.get('drop_opted_out') === 'on'
              },
              `Saved the privacy settings of ${site.domain}.`
            )
          }
        },
        h('label', { for: `k-${id}` }, 'Minimum group size (1 = off)'),
        h('input', {
          id: `k-${id}`,
          name: 'min_group_size',
          type: 'number',
          min: 1,
          max: 1000,
          required: true,
          value: String(site.min_group_size ?? 1)
        }),
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', name: 'drop_opted_out', checked: Boolean(site.drop_opted_out) }),
          ' Drop events from browsers that send Global Privacy Control or Do Not Track'
        ),
        h('button', { type: 'submit' }, 'Save')
      ),
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          id: `allowlist-${id}`,
          checked: allowlist,
          onchange: (e) =>
            save(
              site,
              { breakdown_props: e.target.checked ? [] : null },
              e.target.checked ? 'Only the ticked properties may be broken down.' : 'Every property may be broken down.'
            )
        }),
        ' Only the ticked properties may be broken down (the others are counted, never listed)'
      ),
      allowlist
        ? h(
            'ul',
            { class: 'goals' },
            (site.props ?? []).map((prop) =>
              h(
                'li',
                {},
                h(
                  'label',
                  { class: 'check' },
                  h('input', {
                    type: 'checkbox',
                    'data-breakdown': prop,
                    checked: site.breakdown_props.includes(prop),
                    onchange: (e) =>
                      save(
                        site,
                        {
                          breakdown_props: e.target.checked
                            ? [...site.breakdown_props, prop]
                            : site.breakdown_props.filter((p) => p !== prop)
                        },
                        `Saved ${prop}.`
                      )
                  }),
                  ` ${prop}`
                )
              )
            )
          )
        : null,
      warnings
    ]
  }

  /** Saves `site` with `changes` (the admin API replaces a site whole). */
  const save = (site, changes, done) =>
    attempt(() => api.putSite(site.domain, { ...site, domain: undefined, ...changes }), done)
  const addresses = (text) =>
    String(text)
      .split(/[\s,;]+/)
      .map((a) => a.trim())
      .filter(Boolean)

  // a site's e-mail reports, alerts and the webhooks its alerts are posted to (docs/notifications.md)
  function notifications(site, id) {
    const reports = site.reports ?? []
    const alerts = site.alerts ?? []
    const hooks = site.webhooks ?? []
    const waiting = (settings.webhook_deliveries ?? []).filter((d) => d.site === site.domain)
    const list = (items, text, remove) =>
      items.length
        ? h(
            'ul',
            { class: 'goals' },
            items.map((item, i) => h('li', {}, text(item), ' ', remove(item, i)))
          )
        : null
    const secret = h('input', { id: `hook-secret-${id}`, name: 'secret', required: true, placeholder: 'whsec_…' })
    return [
      h('h3', {}, 'E-mail reports'),
      list(
        reports,
        (r) => `${r.frequency === 'weekly' ? 'Weekly' : 'Monthly'} to ${r.recipients.join(', ')}`,
        (r, i) =>
          linkButton(h, 'Remove', `Remove the ${r.frequency} report`, () =>
            save(site, { reports: reports.filter((_, j) => j !== i) }, `Removed the ${r.frequency} report.`)
          )
      ) ?? h('p', {}, 'No reports.'),
      h(
        'form',
        {
          class: 'row-form',
          'data-form': 'report',
          onsubmit: (e) => {
            e.preventDefault()
            const data = new FormData(e.target)
            const report = { frequency: String(data.get('frequency')), recipients: addresses(data.get('recipients')) }
            save(site, { reports: [...reports, report] }, `Added the ${report.frequency} report.`)
          }
        },
        h('label', { for: `report-frequency-${id}` }, 'New report'),
        h(
          'select',
          { id: `report-frequency-${id}`, name: 'frequency' },
          h('option', { value: 'weekly' }, 'Weekly (Monday)'),
          h('option', { value: 'monthly' }, 'Monthly (the 1st)')
        ),
        h('label', { for: `report-to-${id}` }, 'To'),
        h('input', { id: `report-to-${id}`, name: 'recipients', required: true, placeholder: 'team@example.com' }),
        h('button', { type: 'submit' }, 'Add report')
      ),
      h('h3', {}, 'Alerts'),
      list(
        alerts,
        (a) =>
          `${a.name}: ${a.kind === 'drop' ? 'fewer than' : 'at least'} ${a.threshold} ${
            a.kind === 'goal' ? `visitors completing ${a.goal}` : 'visitors'
          } in ${a.hours} h${a.recipients.length ? ` → ${a.recipients.join(', ')}` : ''}`,
        (a) =>
          linkButton(h, 'Remove', `Remove the alert ${a.name}`, () =>
            save(site, { alerts: alerts.filter((x) => x.name !== a.name) }, `Removed the alert ${a.name}.`)
          )
      ) ?? h('p', {}, 'No alerts.'),
      h(
        'form',
        {
          class: 'row-form',
          'data-form': 'alert',
          onsubmit: (e) => {
            e.preventDefault()
            const data = new FormData(e.target)
            const kind = String(data.get('kind'))
            const alert = {
              name: String(data.get('alert')).trim(),
              kind,
              threshold: Number(data.get('threshold')),
              hours: Number(data.get('hours')),
              recipients: addresses(data.get('recipients'))
            }
            if (kind === 'goal') alert.goal = String(data.get('goal'))
            save(site, { alerts: [...alerts, alert] }, `Added the alert ${alert.name}.`)
          }
        },
        h('label', { for: `alert-name-${id}` }, 'New alert'),
        h('input', { id: `alert-name-${id}`, name: 'alert', required: true, placeholder: 'Busy hour' }),
        h('label', { for: `alert-kind-${id}` }, 'When'),
        h(
          'select',
          { id: `alert-kind-${id}`, name: 'kind' },
          h('option', { value: 'spike' }, 'visitors reach'),
          h('option', { value: 'drop' }, 'visitors fall below'),
          h('option', { value: 'goal' }, 'a goal’s visitors reach')
        ),
        h('label', { for: `alert-threshold-${id}` }, 'Threshold'),
        h('input', {
          id: `alert-threshold-${id}`,
          name: 'threshold',
          type: 'number',
          min: 1,
          required: true,
          value: 100
        }),
        h('label', { for: `alert-hours-${id}` }, 'in hours'),
        h('input', {
          id: `alert-hours-${id}`,
          name: 'hours',
          type: 'number',
          min: 1,
          max: 672,
          required: true,
          value: 1
        }),
        // a goal alert needs one of the site's goals
        site.goals.length ? h('label', { for: `alert-goal-${id}` }, 'Goal') : null,
        site.goals.length
          ? h(
              'select',
              { id: `alert-goal-${id}`, name: 'goal' },
              site.goals.map((g) => h('option', { value: goalText(g) }, goalText(g)))
            )
          : null,
        h('label', { for: `alert-to-${id}` }, 'E-mail to (optional)'),
        h('input', { id: `alert-to-${id}`, name: 'recipients', placeholder: 'oncall@example.com' }),
        h('button', { type: 'submit' }, 'Add alert')
      ),
      h('h3', {}, 'Webhooks'),
      list(
        hooks,
        (w) => `${w.url} (signed, Standard Webhooks)`,
        (w) =>
          linkButton(h, 'Remove', `Remove the webhook ${w.url}`, () =>
            save(site, { webhooks: hooks.filter((x) => x.url !== w.url) }, 'Removed the webhook.')
          )
      ) ?? h('p', {}, 'No webhooks: alerts are e-mailed only.'),
      waiting.length
        ? h(
            'p',
            { class: 'status error' },
            `${waiting.length} deliveries waiting to be tried again; the last error: ${waiting.at(-1).error}`
          )
        : null,
      h(
        'form',
        {
          class: 'row-form',
          'data-form': 'webhook',
          onsubmit: (e) => {
            e.preventDefault()
            const data = new FormData(e.target)
            const hook = { url: String(data.get('url')).trim(), secret: String(data.get('secret')).trim() }
            save(site, { webhooks: [...hooks, hook] }, 'Added the webhook: keep its secret to check signatures.')
          }
        },
        h('label', { for: `hook-url-${id}` }, 'New webhook'),
        h('input', {
          id: `hook-url-${id}`,
          name: 'url',
          type: 'url',
          required: true,
          placeholder: 'https://hooks.example.com/analytics'
        }),
        h('label', { for: `hook-secret-${id}` }, 'Secret'),
        secret,
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            onclick: () => {
              // 32 random bytes, as Standard Webhooks' secrets are
              const bytes = crypto.getRandomValues(new Uint8Array(32))
              secret.value = `whsec_${btoa(String.fromCharCode(...bytes))}`
            }
          },
          'Generate'
        ),
        h('button', { type: 'submit' }, 'Add webhook')
      )
    ]
  }

  // a site's shared links, who may embed them, and (for its owners) the second-factor rule
  function sharing(site, id) {
    const links = settings.shared_links.filter((l) => l.site === site.domain)
    const secret = h('p', { class: 'secret', 'aria-live': 'polite', id: `new-link-${id}` })
    const owner = roles.super_admin || roles[site.domain] === 'owner'
    return h(
      'div',
      { class: 'sharing' },
      h('h3', {}, 'Shared links'),
      links.length
        ? h(
            'ul',
            { class: 'keys' },
            links.map((link) =>
              h(
                'li',
                { 'data-link': link.id },
                `${link.name}${link.password ? ' (password)' : ''}${link.filters.length ? ` (limited to ${JSON.stringify(link.filters)})` : ''} `,
                linkButton(h, 'Revoke', `Revoke the shared link ${link.name}`, () =>
                  attempt(() => api.revokeShare(site.domain, link.id), `Revoked ${link.name}.`)
                )
              )
            )
          )
        : h('p', {}, 'No shared links: a read-only dashboard anyone with the link can open.'),
      h(
        'form',
        {
          class: 'row-form',
          onsubmit: async (e) => {
            e.preventDefault()
            const data = new FormData(e.target)
            try {
              const password = String(data.get('password'))
              const made = await api.share(site.domain, {
                name: String(data.get('name')),
                ...(password && { password })
              })
              await renderSettings(main, { api, h, reload, roles })
              document.getElementById(`new-link-${id}`).textContent =
                `New shared link (shown once): ${location.origin}${made.path}`
            } catch (failure) {
              say(failure.message, true)
            }
          }
        },
        h('label', { for: `link-name-${id}` }, 'Name'),
        h('input', { id: `link-name-${id}`, name: 'name', required: true, placeholder: 'Backstage home page' }),
        h('label', { for: `link-password-${id}` }, 'Password (optional)'),
        h('input', { id: `link-password-${id}`, name: 'password', type: 'password', autocomplete: 'new-password' }),
        h('button', { type: 'submit' }, 'Share')
      ),
      secret,
      h(
        'form',
        {
          class: 'row-form',
          onsubmit: (e) => {
            e.preventDefault()
            const origins = String(new FormData(e.target).get('origins'))
              .split(/[\s,]+/)
              .filter(Boolean)
            attempt(
              () => api.putSite(site.domain, { ...site, domain: undefined, embed_origins: origins }),
              `Saved who may embed ${site.domain}.`
            )
          }
        },
        h('label', { for: `origins-${id}` }, 'Pages that may embed the shared dashboards (origins)'),
        h('input', {
          id: `origins-${id}`,
          name: 'origins',
          value: (site.embed_origins ?? []).join(' '),
          placeholder: 'https://backstage.example.com'
        }),
        h('button', { type: 'submit' }, 'Save')
      ),
      owner
        ? h(
            'label',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              id: `second-factor-${id}`,
              checked: site.require_second_factor,
              onchange: (e) =>
                attempt(
                  () =>
                    api.putSite(site.domain, { ...site, domain: undefined, require_second_factor: e.target.checked }),
                  e.target.checked ? `People need a second factor for ${site.domain}.` : `Saved ${site.domain}.`
                )
            }),
            ' People need a second factor to read this site'
          )
        : null
    )
  }

  const newSite = h(
    'form',
    {
      class: 'row-form',
      onsubmit: (e) => {
        e.preventDefault()
        const data = new FormData(e.target)
        attempt(
          async () => {
            await api.putSite(String(data.get('domain')), { timezone: String(data.get('timezone')) })
            await reload()
          },
          `Added ${data.get('domain')}.`
        )
      }
    },
    h('label', { for: 'new-domain' }, 'Domain'),
    h('input', { id: 'new-domain', name: 'domain', required: true, placeholder: 'backstage.example.com' }),
    h('label', { for: 'new-tz' }, 'Time zone'),
    h('input', {
      id: 'new-tz',
      name: 'timezone',
      required: true,
      value: Intl.DateTimeFormat().resolvedOptions().timeZone
    }),
    h('button', { type: 'submit' }, 'Add site')
  )

  const secret = h('p', { class: 'secret', 'aria-live': 'polite', id: 'new-key' })
  const keys = h(
    'section',
    { class: 'panel', 'aria-label': 'API keys' },
    h('h2', {}, 'Stats API keys'),
    settings.keys.length
      ? h(
          'ul',
          { class: 'keys' },
          settings.keys.map((key) =>
            h(
              'li',
              { 'data-key': key.id },
              `${key.name} (${key.sites.join(', ')}) `,
              linkButton(h, 'Revoke', `Revoke ${key.name}`, () =>
                attempt(() => api.revokeKey(key.id), `Revoked ${key.name}.`)
              )
            )
          )
        )
      : h('p', {}, 'No keys.'),
    h(
      'form',
      {
        class: 'row-form',
        onsubmit: async (e) => {
          e.preventDefault()
          const data = new FormData(e.target)
          try {
            const made = await api.addKey(
              settings.sites.map((s) => s.domain),
              String(data.get('name'))
            )
            await renderSettings(main, { api, h, reload, roles })
            document.getElementById('new-key').textContent = `New key (shown once): ${made.key}`
          } catch (failure) {
            say(failure.message, true)
          }
        }
      },
      h('label', { for: 'key-name' }, 'Name'),
      h('input', { id: 'key-name', name: 'name', required: true, placeholder: 'CI' }),
      h('button', { type: 'submit' }, 'Create a key for all sites')
    ),
    secret
  )

  main.replaceChildren(
    h('h1', {}, 'Settings'),
    status,
    ...siteForms,
    h('section', { class: 'panel', 'aria-label': 'New site' }, h('h2', {}, 'Add a site'), newSite),
    keys
  )
}
