// The new frontend system (`@backstage/frontend-plugin-api`, `@backstage/plugin-app-react`):
// an AnalyticsImplementation extension of the app, in a module to add to the app's features
// (`createApp({ features: [edgeAnalyticsModule] })`, or discovered from the package).
import { configApiRef, createFrontendModule } from '@backstage/frontend-plugin-api'
import { AnalyticsImplementationBlueprint } from '@backstage/plugin-app-react'
import { EdgeAnalytics } from './analytics.js'

/** The extension `analytics:app/edge`: configured by `app.analytics.edge`. */
export const edgeAnalyticsImplementation = AnalyticsImplementationBlueprint.make({
  name: 'edge',
  params: (define) =>
    define({
      deps: { configApi: configApiRef },
      factory: ({ configApi }) => EdgeAnalytics.fromConfig(configApi)
    })
})

/** The module to add to the app (pluginId `app`). */
export const edgeAnalyticsModule = createFrontendModule({
  pluginId: 'app',
  extensions: [edgeAnalyticsImplementation]
})

export default edgeAnalyticsModule
