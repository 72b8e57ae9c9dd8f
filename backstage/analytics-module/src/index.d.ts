import type { AnalyticsApi, AnalyticsEvent, AnyApiFactory, ConfigApi } from '@backstage/core-plugin-api'

/** Backstage's AnalyticsApi, sending to edge analytics (a Plausible-compatible server). */
export declare class EdgeAnalytics implements AnalyticsApi {
  /** Reads `app.analytics.edge`; bad configuration is one console warning and no events. */
  static fromConfig(config: ConfigApi): EdgeAnalytics
  captureEvent(event: AnalyticsEvent): void
}

/** The legacy frontend system's factory: add it to the app's `apis`. */
export declare const edgeAnalyticsApiFactory: AnyApiFactory

/** The actions besides `navigate` sent when `app.analytics.edge.actions` is not set. */
export declare const DEFAULT_ACTIONS: string[]

/** The Plausible event an AnalyticsEvent becomes, or null. */
export declare function toPlausible(
  event: AnalyticsEvent,
  options?: { actions?: string[]; keepQuery?: boolean; origin?: string }
): { name: string; url?: string; props: Record<string, string | number | boolean> } | null
