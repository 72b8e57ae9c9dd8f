// The script-tag loader: <script defer data-domain="…" src="https://HOST/js/script.js">.
// Reads its own tag synchronously (document.currentScript is gone once the
// Wasm module loads), then starts the tracker with the Wasm build beside it
// that holds the optional features the page asks for.
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
  // the attribute names and file-name parts, without `data-`: Rust reads
  // the feature names among them, and they choose the Wasm build
  var words = script
    .getAttributeNames()
    .concat(file.split('.'))
    .map(function (word) {
      return word.replace(/^data-/, '')
    })
  // the build with exactly the optional features asked for (scripts/lib/build.mjs)
  var wasm = 'script'
  __VARIANTS__.forEach(function (variant) {
    if (
      variant[1].some(function (word) {
        return words.indexOf(word) >= 0
      })
    )
      wasm += '.' + variant[0]
  })
  // Plausible's pageview-props: the tag's `event-<prop>` attributes
  var props = words.indexOf('pageview-props') >= 0 && {}
  if (props)
    script.getAttributeNames().forEach(function (name) {
      if (name.indexOf('event-') == 0) props[name.slice(6)] = attribute(name)
    })
  window.plausible = start(
    {
      domain: attribute('data-domain') || location.hostname,
      api: attribute('data-api') || new URL(script.src).origin + '/api/event',
      exclude: attribute('data-exclude'),
      include: attribute('data-include'),
      fileTypes: attribute('file-types'),
      addFileTypes: attribute('add-file-types'),
      features: words.join(),
      props: props,
      compat: words.indexOf('compat') >= 0
    },
    new URL(wasm + '.wasm', script.src),
    queue
  )
} catch (_e) {
  // no script element to read, or a browser without URL/fetch: stay silent
}
