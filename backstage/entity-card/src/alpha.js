// The new frontend system (`@backstage/frontend-plugin-api`): the card as an entity-card
// extension of the catalog's entity page (`entity-card:edge-analytics/analytics`), in a plugin
// to add to the app's features (or discovered from the package).
import { createFrontendPlugin } from '@backstage/frontend-plugin-api'
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha'
import { createElement } from 'react'

/** The card "Analytics" on every entity's overview. */
export const entityAnalyticsCard = EntityCardBlueprint.make({
  name: 'analytics',
  params: {
    type: 'info',
    loader: () => import('./card.js').then(({ EntityAnalyticsCard }) => createElement(EntityAnalyticsCard))
  }
})

/** The plugin `edge-analytics`. */
export const edgeAnalyticsPlugin = createFrontendPlugin({
  pluginId: 'edge-analytics',
  extensions: [entityAnalyticsCard]
})

export default edgeAnalyticsPlugin
