import type { ExtensionDefinition, FrontendModule } from '@backstage/frontend-plugin-api'

/** The extension `analytics:app/edge`: configured by `app.analytics.edge`. */
export declare const edgeAnalyticsImplementation: ExtensionDefinition

/** The module to add to the app's features (pluginId `app`). */
export declare const edgeAnalyticsModule: FrontendModule

export default edgeAnalyticsModule
