// The dashboard's panels, in one place: each tab is a dimension of the
// Stats API (edge/stats/src/schema.rs) and the metrics it shows.

/** The top stats: Stats API metric, label, and how a value is shown. */
export const TOP_STATS = [
  ['visitors', 'Unique visitors', 'count'],
  ['visits', 'Total visits', 'count'],
  ['pageviews', 'Total pageviews', 'count'],
  ['views_per_visit', 'Views per visit', 'decimal'],
  ['bounce_rate', 'Bounce rate', 'percent'],
  ['visit_duration', 'Visit duration', 'duration']
]

const NO_BACKSTAGE = 'No Backstage events yet: docs/backstage.md says how to send them'

/** The props the Backstage analytics module sends (backstage/analytics-module/src/mapping.js). */
export const BACKSTAGE_PROPS = ['pluginId', 'extensionId', 'routeRef', 'entityKind', 'entityName', 'to']

/**
 * Panels of breakdowns: tabs of [label, dimension, metrics, column labels, filters added to
 * the dashboard's (Stats API filters), the text when it has no rows].
 */
export const PANELS = [
  {
    id: 'sources',
    title: 'Top sources',
    tabs: [
      ['Sources', 'visit:source', ['visitors', 'bounce_rate'], ['Visitors', 'Bounce']],
      ['Channels', 'visit:channel', ['visitors', 'bounce_rate'], ['Visitors', 'Bounce']],
      ['Referrers', 'visit:referrer', ['visitors', 'bounce_rate'], ['Visitors', 'Bounce']],
      ['UTM sources', 'visit:utm_source', ['visitors', 'bounce_rate'], ['Visitors', 'Bounce']],
      ['UTM mediums', 'visit:utm_medium', ['visitors', 'bounce_rate'], ['Visitors', 'Bounce']],
      ['UTM campaigns', 'visit:utm_campaign', ['visitors', 'bounce_rate'], ['Visitors', 'Bounce']]
    ]
  },
  {
    id: 'pages',
    title: 'Top pages',
    tabs: [
      [
        'Top pages',
        'event:page',
        ['visitors', 'pageviews', 'time_on_page', 'scroll_depth'],
        ['Visitors', 'Pageviews', 'Time', 'Scroll']
      ],
      ['Entry pages', 'visit:entry_page', ['visitors', 'visits'], ['Visitors', 'Entrances']],
      ['Exit pages', 'visit:exit_page', ['visitors', 'visits'], ['Visitors', 'Exits']]
    ]
  },
  {
    id: 'countries',
    title: 'Countries',
    tabs: [['Countries', 'visit:country', ['visitors', 'percentage'], ['Visitors', '%']]]
  },
  {
    id: 'devices',
    title: 'Devices',
    tabs: [
      ['Devices', 'visit:device', ['visitors', 'percentage'], ['Visitors', '%']],
      ['Browsers', 'visit:browser', ['visitors', 'percentage'], ['Visitors', '%']],
      ['Operating systems', 'visit:os', ['visitors', 'percentage'], ['Visitors', '%']]
    ]
  },
  {
    id: 'goals',
    title: 'Goal conversions',
    tabs: [
      ['Goals', 'event:goal', ['visitors', 'events', 'conversion_rate'], ['Uniques', 'Total', 'CR']],
      ['Custom events', 'event:name', ['visitors', 'events'], ['Uniques', 'Total']]
    ]
  },
  {
    // what the Backstage analytics module reports: which plugins, pages and entities are used
    id: 'backstage',
    title: 'Backstage',
    tabs: [
      ['Plugins', 'event:props:pluginId', ['visitors', 'events'], ['Visitors', 'Events'], [], NO_BACKSTAGE],
      ['Extensions', 'event:props:extensionId', ['visitors', 'events'], ['Visitors', 'Events'], [], NO_BACKSTAGE],
      ['Entity kinds', 'event:props:entityKind', ['visitors', 'events'], ['Visitors', 'Events'], [], NO_BACKSTAGE],
      [
        'Templates',
        'event:props:entityName',
        ['visitors', 'events'],
        ['Visitors', 'Events'],
        [['is', 'event:props:entityKind', ['template']]],
        'No template used yet'
      ]
    ]
  }
]

/** Named date ranges of the picker. */
export const PERIODS = [
  ['day', 'Today'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['month', 'This month'],
  ['6mo', 'Last 6 months'],
  ['12mo', 'Last 12 months'],
  ['year', 'This year'],
  ['all', 'All time']
]
