// Backstage's AnalyticsApi on top of the tracker's npm package in manual mode: Backstage
// says when a page changes (its `navigate` events), so the tracker counts no pageview of its
// own and nothing is counted twice. The mapping is ./mapping.js; this is the adapter.
import { init, track } from '@edge-analytics/tracker'
import { settingsFrom, toPlausible } from './mapping.js'

const PREFIX = 'edge analytics:'

/** How long a pageview reported by the app's root waits for its page's own report. */
const ROOT_WAIT_MS = 3000

/** Whether a pageview's props name no plugin: the app's root reported it. */
function ofNoPlugin(props) {
  return !props.pluginId || props.pluginId === 'root' || props.extensionId === 'app/root'
}

/** Reads `app.analytics.edge.<key>` from a Backstage ConfigApi; a value of the wrong type reads as unset. */
function reader(config) {
  let section
  try {
    section = config?.getOptionalConfig?.('app.analytics.edge')
  } catch {
    section = undefined
  }
  return (key, kind) => {
    if (!section) return undefined
    try {
      if (kind === 'strings') return section.getOptionalStringArray(key)
      if (kind === 'strings map') {
        const map = section.getOptionalConfig(key)
        return map && Object.fromEntries(map.keys().map((name) => [name, map.getString(name)]))
      }
      if (kind === 'boolean') return section.getOptionalBoolean(key)
      return section.getOptionalString(key)
    } catch {
      return kind === 'string' ? `${section.getOptional?.(key) ?? ''}` || undefined : undefined
    }
  }
}

export class EdgeAnalytics {
  /**
   * The AnalyticsApi for `app.analytics.edge` of the app's config. Bad configuration is one
   * console warning, and no events: the portal keeps working.
   * @param {import('@backstage/core-plugin-api').ConfigApi} config
   */
  static fromConfig(config, { tracker = { init, track } } = {}) {
    return new EdgeAnalytics(settingsFrom(reader(config)), tracker)
  }

  constructor(settings, tracker) {
    this.settings = settings
    this.tracker = tracker
    this.warned = false
    // the page last counted, and one waiting to be. A new frontend system app reports its first
    // page twice: from the app's root at once, then from the page once its plugin has loaded.
    // A pageview of no plugin waits for that (up to ROOT_WAIT_MS), and a report of the same page
    // replaces it; a repeat of the page last counted is not counted again, as Plausible's
    // tracker counts none for it.
    this.lastPage = ''
    this.pending = null
    this.timer = 0
    globalThis.addEventListener?.('pagehide', () => this.flush())
    if (settings.error) {
      this.warn(`${settings.error}: no events are sent`)
      return
    }
    try {
      tracker.init({
        domain: settings.domain,
        endpoint: settings.endpoint,
        // Backstage reports each navigation: the tracker counts none by itself
        autoCapturePageviews: false,
        captureOnLocalhost: settings.captureOnLocalhost,
        bindToWindow: false
      })
    } catch (error) {
      this.settings = { error: String(error) }
      this.warn(`the tracker did not start (${error}): no events are sent`)
    }
  }

  /** @param {import('@backstage/core-plugin-api').AnalyticsEvent} event */
  captureEvent(event) {
    const { settings } = this
    if (settings.error) return
    try {
      const origin = globalThis.location?.origin ?? ''
      const mapped = toPlausible(event, { ...settings, origin })
      if (!mapped) return
      if (mapped.name === 'pageview') {
        if (this.pending?.url !== mapped.url) {
          this.flush()
          if (mapped.url === this.lastPage) return
        }
        this.pending = mapped
        clearTimeout(this.timer)
        this.timer = setTimeout(() => this.flush(), ofNoPlugin(mapped.props) ? ROOT_WAIT_MS : 0)
        return
      }
      // an event comes after the pageview of its page, unless that pageview still waits for
      // its page's own report (which would be dropped as a repeat once it was sent)
      if (this.pending && !ofNoPlugin(this.pending.props)) this.flush()
      // the page the event happened on, as its pageview was counted (no query string by default)
      const here = globalThis.location
      const url = here
        ? `${here.origin}${settings.keepQuery ? `${here.pathname}${here.search}` : here.pathname}`
        : undefined
      this.tracker.track(mapped.name, { props: mapped.props, ...(url && { url }) })
    } catch (error) {
      // Backstage calls this from its components: nothing may be thrown into them
      this.warn(`an event was not sent (${error})`)
    }
  }

  /** Sends the pageview waiting, if one is. */
  flush() {
    const page = this.pending
    if (!page) return
    this.pending = null
    clearTimeout(this.timer)
    this.lastPage = page.url
    try {
      this.tracker.track('pageview', { url: page.url, props: page.props })
    } catch (error) {
      this.warn(`an event was not sent (${error})`)
    }
  }

  warn(message) {
    if (this.warned) return
    this.warned = true
    console.warn(`${PREFIX} ${message}`)
  }
}
