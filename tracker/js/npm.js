// The npm package's entry (published from pkg/): the API of
// @plausible-analytics/tracker, `init(config)` and `track(name, options)`,
// over the same Rust tracker as the script tag. The Wasm bytes are inlined
// so any bundler takes the package without asset configuration.
import { start } from './adapter.js'
import wasmBytes from './gen/tracker_bg.wasm'

// Plausible's default download extensions, from src/config.rs at build time.
export var DEFAULT_FILE_TYPES = __DEFAULT_FILE_TYPES__

var plausible

function complain(message) {
  console.error('plausible.' + message)
}

export function init(config) {
  if (plausible) return complain('init() can only be called once')
  if (!config || !config.domain) return complain('init(): domain is required')
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
        features: features.filter(Boolean).join(),
        logging: config.logging,
        transformRequest: typeof config.transformRequest == 'function' && config.transformRequest,
        customProperties: config.customProperties
      },
      wasmBytes
    )
    if (config.bindToWindow !== false) window.plausible = plausible
  } catch (e) {
    complain('init(): ' + e)
  }
}

export function track(name, options) {
  if (!plausible) return complain('track() can only be called after plausible.init()')
  plausible(name, options)
}
