// The privacy report of the site shown (GET /api/v2/privacy): what is
// collected and never collected, the salt, retention, the minimum group
// size, the prop allowlist, the opt-out and who can see what — made by the
// Worker from its code and the site's settings, each statement with the test
// that proves it (docs/privacy.md). Loaded when the view is first opened.

export async function renderPrivacy(main, { api, h, site }) {
  const report = await api.privacy(site)
  const topics = []
  for (const statement of report.statements) {
    const last = topics.at(-1)
    if (last?.topic === statement.topic) last.statements.push(statement)
    else topics.push({ topic: statement.topic, statements: [statement] })
  }
  main.replaceChildren(
    h(
      'section',
      { class: 'panel privacy', 'data-site': report.site, 'aria-label': `Privacy report of ${report.site}` },
      h('h2', {}, `Privacy report: ${report.site}`),
      h(
        'p',
        {},
        report.min_group_size > 1
          ? `No number is shown for fewer than ${report.min_group_size} visitors.`
          : 'No minimum group size: numbers of any size are shown.'
      ),
      ...topics.flatMap(({ topic, statements }) => [
        h('h3', {}, topic),
        h(
          'ul',
          {},
          statements.map((s) =>
            h(
              'li',
              { 'data-topic': topic },
              s.text,
              ' ',
              h('span', { class: 'proof' }, `Proof: ${s.proof.file} › “${s.proof.test}”`)
            )
          )
        )
      ])
    )
  )
}
