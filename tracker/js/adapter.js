// The browser side of the tracker: the ports the Wasm module imports (page
// facts in, payloads out), the DOM listeners that feed it, and the network.
// Everything that decides what is sent lives in Rust (src/tracker.rs); this
// file only reads the page and moves data. No exception may reach the page:
// every call into Wasm goes through `call`, which catches.
//
// The ABI (src/bindings.rs): each export takes (present, value); strings are
// pulled by Rust through `text` while the export runs, and payloads come back
// through `send` as fields that this file writes as JSON.
//
// NPM, LINKS, TAGGED and FORMS are constants of each build (scripts/lib/build.mjs):
// the npm package, and the script tag's builds with outbound links and
// downloads, tagged events, form submissions; code behind a false one is dropped.
// made by scripts/lib/build.mjs from wasm-bindgen's output
import { imports, setWasm } from 'wasm-imports'

// set by start(): importing this module (say, during server-side rendering)
// touches no browser global
var w, d, encoder, decoder, config, exports
// npm only (NPM is false in the script tag's build): the last pageview as
// sent, whose `u` and `p` engagement reports repeat
var lastPageview
// the string arguments of the export being called
var args = []
// Payloads and ignore notices recorded during one Wasm call, acted on after
// it returns so that page code (callbacks, transformRequest) never runs while
// the tracker is busy: [payload, primary] or [null, 0, reason].
var outbox = []

function view(ptr, length) {
  return new Uint8Array(exports.memory.buffer, ptr, length)
}

function string(ptr, length) {
  return decoder.decode(view(ptr, length))
}

// ---- ports imported by src/bindings.rs ----

// Text `source` into Wasm memory: 0–7 the call's arguments, then
// location.href and its parts (Source in src/tracker.rs). -1 when absent or
// longer than `capacity`.
export function text(source, ptr, capacity) {
  var l = location
  var value = source < 8 ? args[source] : [l.href, l.hostname, l.protocol, l.pathname, l.hash, l.host][source - 8]
  if (value == null) return -1
  value = '' + value
  var result = encoder.encodeInto(value, view(ptr, capacity))
  return result.read < value.length ? -1 : result.written
}

// Fact `fact`: 0 Date.now(), 1 environment bits, 2 page height, 3 scrollY, 4 innerHeight.
export function number(fact) {
  var body, root, bits
  if (fact == 1) {
    bits = (w._phantom || w.__nightmare || w.navigator.webdriver || w.Cypress) && !w.__plausible ? 1 : 0
    try {
      if (w.localStorage.plausible_ignore == 'true') bits |= 2
    } catch (_e) {
      // storage blocked by the browser: no opt-out to read
    }
    return bits
  }
  if (fact == 2) {
    body = d.body || {}
    root = d.documentElement || {}
    return Math.max(
      body.scrollHeight || 0,
      body.offsetHeight || 0,
      body.clientHeight || 0,
      root.scrollHeight || 0,
      root.offsetHeight || 0,
      root.clientHeight || 0
    )
  }
  return fact ? (fact < 4 ? w.scrollY : w.innerHeight) : Date.now()
}

// A payload whose fields Rust decided (Payload in src/payload.rs): name,
// URL, props and revenue JSON (absent when empty), flags (1 not interactive,
// 2 hash routing, 4 an engagement report), scroll depth and engaged time.
// This side adds what the page knows: `d`, the configured domain(s), and an
// event's `r`, the referrer. `v` is this tracker's protocol version, which
// tells the server our payloads from Plausible's. Keys in Plausible's order,
// so that the body is the one its tracker would send.
export function send(
  primary,
  name,
  nameLength,
  url,
  urlLength,
  props,
  propsLength,
  revenue,
  revenueLength,
  flags,
  sd,
  e
) {
  var payload = { n: string(name, nameLength) }
  var report = flags & 4
  url = string(url, urlLength)
  if (report) {
    payload.sd = sd
    payload.d = config.domain
    payload.u = url
  } else {
    payload.v = 1
    payload.u = url
    payload.d = config.domain
    payload.r = d.referrer || null
  }
  // JSON texts, parsed by `call` (page code such as a patched JSON.parse must
  // not throw through the Wasm call, which would leave the tracker stuck)
  if (propsLength) payload.p = string(props, propsLength)
  if (report) payload.e = e
  if (flags & 1) payload.i = false
  if (revenueLength) payload.$ = string(revenue, revenueLength)
  payload.v = 1
  if (flags & 2) payload.h = 1
  outbox.push([payload, primary])
}

export function ignore(ptr, length) {
  outbox.push([null, 0, string(ptr, length)])
}

// ---- the page's side ----

function warn(reason) {
  reason && config.logging !== false && console.warn('Ignoring Event: ' + reason)
}

// Calls export `name` with the page's string `callArgs` and a number, then
// delivers what it produced. `callback` answers the page for the primary
// payload (Plausible's contract: {status} on a response, {error} on a network
// failure, nothing when the event was ignored). Returns whether there was
// such a payload (sent or ignored).
function call(name, callArgs, callback, value) {
  var present = 0
  var out
  args = callArgs
  args.forEach(function (arg, i) {
    if (arg != null) present |= 1 << i
  })
  try {
    exports[name](present, value)
  } catch (_e) {
    // a trap: drop this event, keep the page running
  }
  out = outbox
  outbox = []
  return out.filter(function (item) {
    var payload = item[0]
    var cb = item[1] && callback
    if (payload == null) {
      warn(item[2])
      callback && callback()
      return 1
    }
    try {
      if (payload.p) payload.p = JSON.parse(payload.p)
      if (payload.$) payload.$ = JSON.parse(payload.$)
      if (NPM && (config.transformRequest || config.customProperties)) {
        payload = npmOptions(payload, !item[1])
        if (!payload) {
          cb && cb()
          return 1
        }
      }
      if (!NPM && config.props) withPageProps(payload)
      fetch(config.api, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        keepalive: true,
        body: JSON.stringify(payload)
      }).then(
        function (response) {
          cb && cb({ status: response.status })
        },
        function (error) {
          cb && cb({ error: error })
        }
      )
    } catch (error) {
      cb && cb({ error: error })
    }
    return item[1]
  }).length
}

// The npm API's customProperties and transformRequest, applied as Plausible's
// tracker does: to every event but engagement reports (`report`: the only
// payloads that are not primary), which repeat the URL and props of their
// page's pageview as it was finally sent.
function npmOptions(payload, report) {
  var custom = config.customProperties
  var pageview = payload.n == 'pageview'
  if (report) {
    if (!lastPageview) return
    payload.u = lastPageview.u
    payload.p = lastPageview.p
    return payload
  }
  if (custom) {
    custom = typeof custom == 'function' ? custom(payload.n) : custom
    if (typeof custom == 'object') payload.p = Object.assign({}, custom, payload.p)
  }
  if (config.transformRequest) payload = config.transformRequest(payload)
  if (!payload) warn('transformRequest')
  // a dropped pageview (null) means its engagement is not reported either
  if (pageview) lastPageview = payload
  return payload
}

// The script tag's `event-*` attributes (Plausible's pageview-props
// extension): props of every event, where the event has no value of its own.
// An engagement report repeats its pageview's props, so it gets them too.
function withPageProps(payload) {
  var props = payload.p || {}
  for (var key in config.props) props[key] = props[key] || config.props[key]
  payload.p = props
}

// plausible(name, {props, revenue, interactive, u | url, callback})
function track(name, options) {
  options = options || {}
  var props = options.props
  try {
    args = [
      name,
      options.u || options.url,
      props && JSON.stringify(props),
      options.revenue && JSON.stringify(options.revenue)
    ]
  } catch (e) {
    // props that JSON cannot hold (a cycle, a BigInt)
    return options.callback && options.callback({ error: e })
  }
  call('track', args, options.callback, options.interactive !== false)
}

function on(target, type, listener) {
  target.addEventListener(type, listener)
}

function classes(node) {
  return (node && node.getAttribute && node.getAttribute('class')) || ''
}

function isTagged(node) {
  if (!TAGGED) return 0
  args = [classes(node)]
  return exports.isTagged(1)
}

function is(node, tag) {
  return node && node.tagName && node.tagName.toLowerCase() == tag
}

// Plausible's compat extension (script tag only): a click on `link` or a submit that would
// leave the page in this window waits for its event's request (at most 5 s)
// instead of relying on keepalive; `then` goes on as it would have.
function held(event, link, name, callArgs, value, then) {
  var done
  var go = function () {
    done || then()
    done = 1
  }
  if (
    !NPM &&
    config.compat &&
    !event.defaultPrevented &&
    (event.type == 'submit' ||
      (event.type == 'click' &&
        !(event.ctrlKey || event.metaKey || event.shiftKey) &&
        !(link && link.target && !/^_(self|parent|top)$/i.test(link.target))))
  ) {
    if (call(name, callArgs, go, value)) {
      event.preventDefault()
      setTimeout(go, 5000)
    }
  } else call(name, callArgs, 0, value)
}

// Plausible's two click handlers in one: a plain link (outbound or download)
// unless a tagged element within three parents of the link claims the click,
// and a tagged element within three parents of the target (not inside a form).
function onClick(event) {
  var link = event.target
  var node, tagged, clickedLink, i
  if (event.type == 'auxclick' && event.button != 1) return
  try {
    while (link && !(is(link, 'a') && link.href)) link = link.parentNode
    if (LINKS && link && typeof link.href == 'string') {
      if (TAGGED)
        for (node = link, i = 0; node && i <= 3 && !tagged; i++, node = node.parentNode) tagged = isTagged(node)
      held(event, link, 'link', [link.href, link.host], tagged, function () {
        location.href = link.href
      })
    }
    if (TAGGED)
      for (node = event.target, tagged = 0, i = 0; node && i <= 3; i++, node = node.parentNode) {
        if (is(node, 'form')) return
        if (is(node, 'a')) clickedLink = node
        if (isTagged(node)) tagged = node
      }
    if (tagged) {
      if (clickedLink)
        held(event, clickedLink, 'tagged', [classes(tagged), clickedLink.href], 0, function () {
          location.href = clickedLink.href
        })
      else call('tagged', [classes(tagged)])
    }
  } catch (_e) {
    // an exotic node tree: no event
  }
}

function onSubmit(event) {
  var form = event.target
  try {
    held(event, 0, 'tagged', [classes(isTagged(form) ? form : form.parentNode)], 0, function () {
      form.submit()
    })
  } catch (_e) {
    // a detached form: no event
  }
}

// Plausible's formSubmissions: every valid form, in the capture phase, unless
// it or one of three parents is tagged (that sends its own event).
function onFormSubmit(event) {
  var form = event.target
  var node, tagged, i
  try {
    if (!form.hasAttribute('novalidate') && !form.checkValidity()) return
    for (node = form, i = 0; node && i <= 3 && !tagged; i++, node = node.parentNode) tagged = isTagged(node)
    call('form', [], 0, tagged)
  } catch (_e) {
    // not a form element: no event
  }
}

function attention() {
  call('attention', [], 0, d.visibilityState == 'visible' && d.hasFocus())
}

function navigate(kind) {
  call('navigate', [], 0, kind)
}

// Starts the tracker: `pageConfig` holds the page's choices, `source` is the
// Wasm module (a URL or its bytes). Returns `plausible()`, which queues calls
// made before the module is ready and replays them in order.
export function start(pageConfig, source, queue) {
  var ready, failure
  w = window
  d = document
  encoder = new TextEncoder()
  decoder = new TextDecoder()
  config = pageConfig
  queue = queue || []
  function plausible(name, options) {
    if (failure) options && options.callback && options.callback({ error: failure })
    else if (ready) track(name, options)
    else queue.push(arguments)
  }
  // wasm-bindgen's bundler-target contract: instantiate with its import
  // module, hand it the exports, run its start function. A URL is compiled
  // while it downloads; if the server does not send it as application/wasm,
  // it is fetched again whole.
  ;(source.byteLength
    ? WebAssembly.instantiate(source, imports)
    : WebAssembly.instantiateStreaming(fetch(source), imports).catch(function () {
        return fetch(source)
          .then(function (response) {
            return response.arrayBuffer()
          })
          .then(function (bytes) {
            return WebAssembly.instantiate(bytes, imports)
          })
      })
  ).then(
    function (result) {
      var history = w.history
      var pushState = history.pushState
      exports = result.instance.exports
      setWasm(exports)
      exports.__wbindgen_start()
      call(
        'start',
        [config.exclude, config.include, config.fileTypes, config.addFileTypes],
        0,
        // the feature bits Rust reads: bit n when the page's words (an array)
        // hold src/config.rs's feature::NAMES[n], taken at build time
        __FEATURE_NAMES__.reduce(function (bits, name, bit) {
          return config.features.indexOf(name) < 0 ? bits : bits | (1 << bit)
        }, 0)
      )
      ready = 1
      // Plausible's loaded marker, which pages and tests wait for
      plausible.l = true
      queue.forEach(function (queued) {
        plausible.apply(0, queued)
      })
      try {
        if (pushState)
          history.pushState = function () {
            pushState.apply(this, arguments)
            navigate(2)
          }
      } catch (_e) {
        // a page that froze `history`: SPA navigations are not seen
      }
      on(w, 'popstate', function () {
        navigate(2)
      })
      on(w, 'hashchange', function () {
        navigate(3)
      })
      if (d.visibilityState == 'hidden' || d.visibilityState == 'prerender') {
        on(d, 'visibilitychange', function () {
          d.visibilityState == 'visible' && navigate(1)
        })
      } else navigate(0)
      on(w, 'pageshow', function (event) {
        event.persisted && navigate(0)
      })
      on(d, 'visibilitychange', attention)
      on(w, 'blur', attention)
      on(w, 'focus', attention)
      on(d, 'scroll', function () {
        call('scrolled', [])
      })
      try {
        new ResizeObserver(function () {
          call('resized', [])
        }).observe(d.documentElement)
      } catch (_e) {
        // no ResizeObserver: the height measured at each pageview stands
      }
      // LINKS, TAGGED, FORMS: this build's optional features (scripts/lib/build.mjs)
      if (LINKS || TAGGED) {
        on(d, 'click', onClick)
        on(d, 'auxclick', onClick)
      }
      if (TAGGED) on(d, 'submit', onSubmit)
      if (FORMS) d.addEventListener('submit', onFormSubmit, true)
    },
    function (error) {
      // Wasm refused (a CSP without 'wasm-unsafe-eval', a blocked file): the
      // page goes on untracked, and callbacks still hear back.
      failure = error
      queue.forEach(function (queued) {
        plausible.apply(0, queued)
      })
    }
  )
  return plausible
}
