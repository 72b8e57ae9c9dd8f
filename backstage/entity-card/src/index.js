// The legacy frontend system (`@backstage/core-plugin-api`): put `<EntityAnalyticsCard />` on
// the entity page (packages/app/src/components/catalog/EntityPage.tsx).
import { createComponentExtension, createPlugin } from '@backstage/core-plugin-api'

export { cardFrom, cardQueries, dashboardLink, pagePattern } from './report.js'

/** The plugin `edge-analytics`: numbers of the analytics server inside Backstage. */
export const edgeAnalyticsPlugin = createPlugin({ id: 'edge-analytics' })

/** The card "Analytics": views of the entity's catalog and docs pages and its create events. */
export const EntityAnalyticsCard = edgeAnalyticsPlugin.provide(
  createComponentExtension({
    name: 'EntityAnalyticsCard',
    component: { lazy: () => import('./card.js').then((module) => module.EntityAnalyticsCard) }
  })
)
