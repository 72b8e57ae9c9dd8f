// The legacy frontend system (`@backstage/core-plugin-api`): add the factory to the app's
// `apis` (packages/app/src/apis.ts), and every AnalyticsApi event goes through EdgeAnalytics.
import { analyticsApiRef, configApiRef, createApiFactory } from '@backstage/core-plugin-api'
import { EdgeAnalytics } from './analytics.js'

export { EdgeAnalytics }
export { DEFAULT_ACTIONS, toPlausible } from './mapping.js'

/** `createApiFactory` for `analyticsApiRef`, configured by `app.analytics.edge`. */
export const edgeAnalyticsApiFactory = createApiFactory({
  api: analyticsApiRef,
  deps: { configApi: configApiRef },
  factory: ({ configApi }) => EdgeAnalytics.fromConfig(configApi)
})
