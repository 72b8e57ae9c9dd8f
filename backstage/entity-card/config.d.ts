export interface Config {
  app?: {
    analytics?: {
      edge?: {
        /**
         * The site's domain on the analytics server, e.g. backstage.example.com (shared with
         * the analytics module).
         * @visibility frontend
         */
        domain: string
        /**
         * Names of the custom events by action: the card counts `create` under its name here
         * (default `create`).
         * @visibility frontend
         */
        eventNames?: { [action: string]: string }
        /** The entity card. */
        card?: {
          /**
           * The proxy endpoint (proxy.endpoints in the backend's config) that reaches the
           * analytics server with a Stats API key, signed-in people only: default
           * /edge-analytics-stats (not the endpoint relaying events, which takes anyone). The
           * key stays in the backend's config.
           * @visibility frontend
           */
          proxyPath?: string
          /**
           * The dashboard, or a shared link to it, opened from the card at this entity's
           * pages. Set alone (no proxyPath), the card shows only this link.
           * @visibility frontend
           */
          dashboardUrl?: string
          /**
           * Where the catalog and docs are mounted in the app (default /catalog and /docs).
           * @visibility frontend
           */
          pages?: {
            /** @visibility frontend */
            catalog?: string
            /** @visibility frontend */
            docs?: string
          }
        }
      }
    }
  }
}
