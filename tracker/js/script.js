// The script-tag loader: <script defer data-domain="…" src="https://HOST/js/script.js">.
// Reads its own tag synchronously (document.currentScript is gone once the
// Wasm module loads), then starts the tracker with script.wasm from beside it.
import { start } from './adapter.js'

try {
  var d = document
  var script = d.currentScript || d.querySelector('script[data-domain]')
  var attribute = function (name) {
    return script.getAttribute(name)
  }
  // Plausible's documented snippet queues early calls in window.plausible.q.
  var queue = (window.plausible && window.plausible.q) || []
  var file = script.src.split(/[?#]/)[0].split('/').pop()
  window.plausible = start(
    {
      domain: attribute('data-domain') || location.hostname,
      api: attribute('data-api') || new URL(script.src).origin + '/api/event',
      exclude: attribute('data-exclude'),
      include: attribute('data-include'),
      fileTypes: attribute('file-types'),
      addFileTypes: attribute('add-file-types'),
      // every attribute name and file-name part: Rust picks the feature names
      features: script.getAttributeNames().concat(file.split('.')).join()
    },
    new URL('script.wasm', script.src),
    queue
  )
} catch (_e) {
  // no script element to read, or a browser without URL/fetch: stay silent
}
