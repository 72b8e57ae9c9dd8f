// The script-tag loader: <script defer data-domain="…" src="https://HOST/js/script.js">.
// Reads its own tag synchronously (document.currentScript is gone once the
// Wasm module loads), then starts the tracker with its own Wasm build beside
// it; each build holds the optional features of its name (tracker/variants.json).
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
  // the feature names among them, and they choose the build
  var words = script
    .getAttributeNames()
    .concat(file.split('.'))
    .map(function (word) {
      return word.replace(/^data-/, '')
    })
  // this build has the optional features __FEATURES__ (tracker/variants.json);
  // the Worker served it for the features the file name asks for, and a page
  // whose attributes ask for more loads the build that has them instead
  var build = 'script'
  var more
  __VARIANTS__.forEach(function (variant) {
    var asked = variant[1].some(function (word) {
      return words.indexOf(word) >= 0
    })
    var have = __FEATURES__.indexOf(variant[0]) >= 0
    if (asked || have) build += '.' + variant[0]
    if (asked && !have) more = 1
  })
  if (script.hasAttribute('data-switched')) {
    // a build loaded by this switch that could not find its own tag (no
    // currentScript) found the first one again: stop rather than loop
  } else if (more) {
    var next = d.createElement('script')
    script.getAttributeNames().forEach(function (name) {
      // another file: the tag's integrity hash is not its
      if (name != 'src' && name != 'integrity') next.setAttribute(name, attribute(name))
    })
    // the words of this file's name (script.hash.compat.js) go on as attributes
    file.split('.').forEach(function (word) {
      if (/^[a-z-]+$/.test(word)) next.setAttribute('data-' + word, '')
    })
    // the page's CSP nonce, which the attribute no longer shows once the page has loaded
    next.nonce = script.nonce
    next.src = new URL(build + '.js', script.src)
    script.setAttribute('data-switched', '')
    d.head.appendChild(next)
  } else {
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
        features: words,
        props: props,
        compat: words.indexOf('compat') >= 0
      },
      new URL(build + '.wasm', script.src),
      queue
    )
  }
} catch (_e) {
  // no script element to read, or a browser without URL/fetch: stay silent
}
