// The npm package's entry (published from pkg/): the API of
// @plausible-analytics/tracker, `init(config)` and `track(name, options)`,
// over the same Rust tracker as the script tag. The Wasm bytes are inlined
// so any bundler takes the package without asset configuration.
import { start } from './adapter.js'
import wasmBytes from './gen/tracker_bg.wasm'

// Plausible's default download extensions, from src/config.rs at build time.
export var DEFAULT_FILE_TYPES = __DEFAULT_FILE_TYPES__

var plausible

// Misuse throws, with Plausible's messages, as @plausible-analytics/tracker does.
export function init(config) {
  if (plausible) throw Error('plausible.init() can only be called once')
  if (!config || !config.domain) throw Error('plausible.init(): domain argument is required')
  try {
    var downloads = config.fileDownloads
    var extensions = downloads && downloads.fileExtensions
    var features = [
      config.hashBasedRouting && 'hash',
      config.outboundLinks && 'outbound-links',
      downloads && 'file-downloads',
      // always on in Plausible's npm tracker
      'tagged-events',
      config.autoCapturePageviews === false && 'manual',
      config.captureOnLocalhost && 'local',
      config.formSubmissions && 'form-submissions'
    ]
    plausible = start(
      {
        domain: config.domain,
        api: config.endpoint || '/api/event',
        fileTypes: Array.isArray(extensions) ? extensions.join() : null,
        features: features.filter(Boolean),
        logging: config.logging,
        transformRequest: typeof config.transformRequest == 'function' && config.transformRequest,
        customProperties: config.customProperties
      },
      wasmBytes
    )
    // Plausible's markers: the npm build (`s`), loaded (`l`)
    if (config.bindToWindow !== false) {
      window.plausible = plausible
      plausible.s = 'npm'
      plausible.l = true
    }
  } catch (e) {
    // a browser without what the adapter needs (TextEncoder, WebAssembly):
    // the app goes on untracked
    console.error('plausible.init(): ' + e)
  }
}

export function track(name, options) {
  if (!plausible) throw Error('plausible.track() can only be called after plausible.init()')
  plausible(name, options)
}
