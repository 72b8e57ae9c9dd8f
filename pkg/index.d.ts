/**
 * Cookieless, Plausible-compatible analytics: the API of
 * `@plausible-analytics/tracker` over a Rust-built WebAssembly core.
 * Misuse throws, with Plausible's messages; tracking itself never does.
 */

/**
 * Sets up the tracker. Call once, in the browser.
 * @throws when called twice, or without `domain`.
 */
export function init(config: TrackerConfig): void

/**
 * Tracks an event (`"pageview"` or a custom name).
 * @throws when `init` has not been called.
 */
export function track(eventName: string, options?: EventOptions): void

/** The download extensions tracked when `fileDownloads` is `true`. */
export const DEFAULT_FILE_TYPES: string[]

export interface TrackerConfig {
  /** The site's domain as configured on the server; comma-separated for several sites. */
  domain: string
  /** The event endpoint. Defaults to `/api/event` on the page's own origin. */
  endpoint?: string
  /** Send a pageview on load and on SPA navigations. Defaults to true. */
  autoCapturePageviews?: boolean
  /** The app routes by `location.hash`. Defaults to false. */
  hashBasedRouting?: boolean
  /** Send `Outbound Link: Click` events. Defaults to false. */
  outboundLinks?: boolean
  /** Send `File Download` events, for `DEFAULT_FILE_TYPES` or the given extensions. Defaults to false. */
  fileDownloads?: boolean | { fileExtensions: string[] }
  /** Send `Form: Submission` for every valid form submitted (tagged forms send their own event). Defaults to false. */
  formSubmissions?: boolean
  /** Also send from localhost and from automated browsers. Defaults to false. */
  captureOnLocalhost?: boolean
  /** Warn in the console when an event is ignored. Defaults to true. */
  logging?: boolean
  /** Props added to every event; a function is called with the event name. */
  customProperties?: CustomProperties | ((eventName: string) => CustomProperties)
  /** Rewrites each payload before it is sent; a falsy result drops the event. */
  transformRequest?: (payload: RequestPayload) => RequestPayload | null | undefined | false
  /** Set `window.plausible` to `track` (for the queue snippet and tagged events). Defaults to true. */
  bindToWindow?: boolean
}

export interface EventOptions {
  /** Custom properties: at most 30; values are sent as given and stored as strings. */
  props?: CustomProperties
  /** Revenue in an ISO 4217 currency. */
  revenue?: Revenue
  /** `false`: the event does not count against the bounce rate. Defaults to true. */
  interactive?: boolean
  /** Overrides `location.href` as the event's page URL. */
  url?: string
  /** Plausible's alias of `url`. */
  u?: string
  /**
   * Called once per event: `{status}` when the endpoint answered, `{error}` on a
   * network failure (or when the tracker could not load), no argument when the
   * event was ignored (localhost, opt-out, exclusions, transformRequest).
   */
  callback?: (result?: { status: number } | { error: unknown }) => void
}

export type CustomProperties = Record<string, string | number | boolean>

export interface Revenue {
  amount: number | string
  currency: string
}

/** Plausible's wire format, `POST /api/event` as `text/plain` JSON. */
export type RequestPayload = {
  /** Event name. */
  n: string
  /** Page URL. */
  u: string
  /** Site domain(s). */
  d: string
  /** Referrer, or null. */
  r?: string | null
  /** Custom properties. */
  p?: CustomProperties
  /** Revenue. */
  $?: Revenue
  /** `false` for non-interactive events. */
  i?: boolean
  /** `1` for hash-based routing. */
  h?: 1
  /** Tracker version. */
  v?: number
} & Record<string, unknown>
