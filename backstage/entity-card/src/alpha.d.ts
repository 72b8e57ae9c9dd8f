import type { ExtensionDefinition, FrontendPlugin } from '@backstage/frontend-plugin-api'

/** The extension `entity-card:edge-analytics/analytics`. */
export declare const entityAnalyticsCard: ExtensionDefinition
/** The plugin `edge-analytics`, to add to the app's features. */
export declare const edgeAnalyticsPlugin: FrontendPlugin
export default edgeAnalyticsPlugin
