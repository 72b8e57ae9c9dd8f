export interface Config {
  app?: {
    analytics?: {
      /** Edge analytics (a Plausible-compatible server): where and as which site events go. */
      edge?: {
        /**
         * The analytics server's URL, e.g. https://analytics.example.com (events go to its
         * /api/event), or a path on the portal's own origin (a first-party setup through
         * Backstage's proxy, e.g. /api/proxy/edge-analytics).
         * @visibility frontend
         */
        host: string
        /**
         * The site's domain as configured on the server, e.g. backstage.example.com.
         * @visibility frontend
         */
        domain: string
        /**
         * The actions besides navigate sent as custom events (default: click, create, discover).
         * A search's text is never sent.
         * @visibility frontend
         */
        actions?: string[]
        /**
         * Names of the custom events by action, e.g. { create: 'Create Service' }: a goal of
         * the site counts the action under that name.
         * @visibility frontend
         */
        eventNames?: { [action: string]: string }
        /**
         * Attributes of an event sent as props, by name (e.g. language, template); no other
         * attribute is sent.
         * @visibility frontend
         */
        attributes?: string[]
        /**
         * Keep the query string and fragment of page URLs (default false: they can hold
         * what a person typed).
         * @visibility frontend
         */
        keepQuery?: boolean
        /**
         * Also send from localhost and automated browsers (development and tests).
         * @visibility frontend
         */
        captureOnLocalhost?: boolean
      }
    }
  }
}
