// Realistic events for a Backstage-like portal, deterministic (seeded): visits
// of several pageviews by returning visitors, skewed pages, sources, devices
// and countries, custom events with props, engagement events (scroll depth),
// docs pages for the pageview goal. Rows match clickhouse/migrations (the
// events table). For the tests' fixtures, the demo seed and the benchmarks.
import { query } from './clickhouse.mjs'

export function* generateEvents({
  count,
  days = 30,
  end = Date.UTC(2026, 10, 26),
  seed = 1,
  site = 'backstage.fawkes.idp'
}) {
  let state = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n
  const random = () => {
    // xorshift64*
    state ^= state >> 12n
    state ^= (state << 25n) & 0xffffffffffffffffn
    state ^= state >> 27n
    return Number(((state * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 11n) / 2 ** 53
  }
  const zipf = (n, s = 1.1) => Math.min(n - 1, Math.floor(n * random() ** (1 / (1 - 1 / s)) * 0.999))
  // the value of `weighted` ([value, weight] pairs) in whose share `r` (0 ≤ r < 1) falls
  const choose = (weighted, r) => {
    let rest = r * weighted.reduce((sum, [, w]) => sum + w, 0)
    for (const [value, w] of weighted) {
      rest -= w
      if (rest < 0) return value
    }
    return weighted[0][0]
  }
  const pick = (weighted) => choose(weighted, random())
  // a weighted choice fixed by (visitor, salt): the same each time it is asked
  const pickFor = (visitor, salt, weighted) =>
    choose(
      weighted,
      Number((BigInt(visitor) * 0x9e3779b97f4a7c15n + BigInt(salt) * 0xbf58476d1ce4e5b9n) % 1_000_003n) / 1_000_003
    )
  const kinds = ['component', 'api', 'system', 'group', 'user', 'template']
  const pages = Array.from({ length: 300 }, (_, i) =>
    i === 0
      ? '/'
      : i < 6
        ? ['/catalog', '/create', '/docs', '/search', '/settings'][i - 1]
        : i < 12
          ? `/docs/default/component/service-${i}`
          : `/catalog/default/${kinds[i % kinds.length]}/service-${i}`
  )
  // [source, referrer, the channel the edge names for it (ingest::enrich::channel, whose
  // tests hold these cases)]
  const sources = [
    [['', '', 'Direct'], 40],
    [['Google', 'https://www.google.com/', 'Organic Search'], 25],
    [['GitHub', 'https://github.com/', 'Organic Social'], 10],
    [['slack', '', 'Organic Social'], 10],
    [['Hacker News', 'https://news.ycombinator.com/', 'Organic Social'], 3],
    [['confluence.fawkes.idp', 'https://confluence.fawkes.idp/', 'Referral'], 12]
  ]
  const devices = [
    [
      [
        'Desktop',
        [
          ['Chrome', 60],
          ['Firefox', 20],
          ['Microsoft Edge', 12],
          ['Safari', 8]
        ],
        [
          ['Mac', 45],
          ['Windows', 35],
          ['GNU/Linux', 20]
        ]
      ],
      80
    ],
    [
      [
        'Mobile',
        [
          ['Chrome', 55],
          ['Safari', 45]
        ],
        [
          ['iOS', 50],
          ['Android', 50]
        ]
      ],
      15
    ],
    [
      [
        'Tablet',
        [
          ['Safari', 70],
          ['Chrome', 30]
        ],
        [
          ['iOS', 70],
          ['Android', 30]
        ]
      ],
      5
    ]
  ]
  const countries = [
    ['US', 30],
    ['DE', 20],
    ['GB', 12],
    ['IN', 10],
    ['FR', 8],
    ['NL', 6],
    ['PL', 5],
    ['BR', 4],
    ['JP', 3],
    ['', 2]
  ]
  const custom = [
    [
      'Deploy Application',
      () => [
        [
          'language',
          pick([
            ['nodejs', 5],
            ['go', 3],
            ['java', 2],
            ['python', 3]
          ])
        ],
        [
          'template',
          pick([
            ['express', 4],
            ['grpc', 2],
            ['spring', 2],
            ['fastapi', 2]
          ])
        ]
      ]
    ],
    [
      'Create Service',
      () => [
        [
          'template',
          pick([
            ['express', 4],
            ['grpc', 2],
            ['spring', 2]
          ])
        ]
      ]
    ],
    [
      'View Documentation',
      () => [
        [
          'section',
          pick([
            ['getting-started', 5],
            ['api', 3],
            ['runbooks', 2]
          ])
        ]
      ]
    ],
    [
      'Run CI/CD Pipeline',
      () => [
        [
          'pipeline',
          pick([
            ['build', 5],
            ['deploy', 3],
            ['test', 4]
          ])
        ]
      ]
    ]
  ]
  const visitors = Math.max(10, Math.floor(count / 40))
  const start = end - days * 86_400_000
  let produced = 0
  while (produced < count) {
    const visitor = zipf(visitors, 1.3) + 1
    let time = start + random() * (end - start - 3_600_000)
    // the visitor id of an event at `ms`: the edge hashes with the salt of the event's UTC day,
    // so a visit that runs past midnight continues under the next day's id
    const visitorId = (ms) =>
      ((BigInt(visitor) * 1_000_003n + BigInt(Math.floor(ms / 86_400_000))) * 2654435761n) % 2n ** 63n
    const [source, referrer, channel] = pick(sources)
    // the visitor's own device, browser, OS and country: the visitor id hashes
    // the User-Agent and the IP, so they are the same on all its events
    const [device, browsers, oses] = pickFor(visitor, 1, devices)
    const browser = pickFor(visitor, 2, browsers)
    const os = pickFor(visitor, 3, oses)
    const country = pickFor(visitor, 4, countries)
    const pageviews = 1 + Math.floor(-Math.log(1 - random()) * 2.2)
    const campaign =
      source === 'slack'
        ? pick([
            ['launch', 3],
            ['weekly-digest', 5],
            ['incident-review', 1]
          ])
        : ''
    const hostname = random() < 0.05 ? `docs.${site}` : site
    for (let i = 0; i < pageviews && produced < count; i++) {
      const pathname = pages[zipf(pages.length)]
      const base = {
        site_domain: site,
        hostname,
        referrer: i ? '' : referrer,
        referrer_source: i ? '' : source,
        utm_medium: !i && campaign ? 'chat' : '',
        utm_source: !i && campaign ? 'slack' : '',
        utm_campaign: i ? '' : campaign,
        utm_content: '',
        utm_term: '',
        click_id_param: '',
        channel: i ? 'Direct' : channel,
        country_code: country,
        device,
        browser,
        browser_version: browser === 'Safari' ? '18.2' : '131.0',
        operating_system: os,
        operating_system_version: '',
        revenue_amount: null,
        revenue_currency: '',
        tracker_version: 1
      }
      const stamp = () => new Date(time).toISOString().slice(0, 19).replace('T', ' ')
      const id = () => visitorId(time).toString()
      yield {
        ...base,
        visitor_id: id(),
        timestamp: stamp(),
        name: 'pageview',
        pathname,
        'meta.key': [],
        'meta.value': [],
        scroll_depth: 0,
        engagement_time: 0,
        interactive: true
      }
      produced++
      if (random() < 0.12 && produced < count) {
        const [name, props] = custom[zipf(custom.length, 1.5)]
        const pairs = props()
        time += 5_000 + random() * 60_000
        // a pipeline run may be reported without counting as an interaction (`interactive: false`)
        const interactive = name !== 'Run CI/CD Pipeline' || random() < 0.5
        yield {
          ...base,
          visitor_id: id(),
          timestamp: stamp(),
          name,
          pathname,
          'meta.key': pairs.map(([k]) => k),
          'meta.value': pairs.map(([, v]) => v),
          scroll_depth: 0,
          engagement_time: 0,
          interactive
        }
        produced++
      }
      const dwell = 10_000 + random() * 240_000
      if (random() < 0.6 && produced < count) {
        // leaving the page: how far it was scrolled and for how long it was seen
        time += dwell * 0.9
        yield {
          ...base,
          visitor_id: id(),
          timestamp: stamp(),
          name: 'engagement',
          pathname,
          'meta.key': [],
          'meta.value': [],
          scroll_depth: Math.min(100, Math.floor(random() * 130)),
          engagement_time: Math.floor(dwell * 0.8),
          interactive: false
        }
        produced++
        time += dwell * 0.1
      } else time += dwell
    }
  }
}

/** Inserts `events` (an iterable of rows) into `events`, `batchSize` rows per INSERT; `onBatch(inserted)` after each. */
export async function insertEvents(clickhouse, events, { batchSize = 200_000, onBatch = () => {} } = {}) {
  let batch = []
  let inserted = 0
  const flush = async () => {
    await query(clickhouse, `INSERT INTO events FORMAT JSONEachRow\n${batch.join('\n')}`)
    inserted += batch.length
    batch = []
    onBatch(inserted)
  }
  for (const event of events) {
    batch.push(JSON.stringify(event))
    if (batch.length === batchSize) await flush()
  }
  if (batch.length) await flush()
  return inserted
}

/** The first and last UTC day (`YYYY-MM-DD`) of rows' timestamps: the days a visits rebuild must cover. */
export function utcDays(rows) {
  let first
  let last
  for (const { timestamp } of rows) {
    const day = timestamp.slice(0, 10)
    if (!first || day < first) first = day
    if (!last || day > last) last = day
  }
  return [first, last]
}
