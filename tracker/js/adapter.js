// The browser side of the tracker: the ports the Wasm module imports (page
// facts in, payloads out), the DOM listeners that feed it, and the network.
// Everything that decides what is sent lives in Rust (src/tracker.rs); this
// file only reads the page and moves data. No exception may reach the page:
// every call into Wasm goes through `call`, which catches.
import init, * as wasm from './gen/tracker.js'

var w = window
var d = document
var config
// Payloads and ignore notices recorded during one Wasm call, acted on after
// it returns so that page code (callbacks, transformRequest) never runs while
// the tracker is busy: [body, primary] or [null, 0, reason].
var outbox = []

// ---- ports imported by src/bindings.rs ----
export function href() {
  return location.href
}
export function referrer() {
  return d.referrer
}
export function environment() {
  var bits = (w._phantom || w.__nightmare || w.navigator.webdriver || w.Cypress) && !w.__plausible ? 1 : 0
  try {
    if (w.localStorage.plausible_ignore == 'true') bits |= 2
  } catch (e) {
    // storage blocked by the browser: no opt-out to read
  }
  return bits
}
export var now = Date.now
export function pageHeight() {
  var b = d.body || {}
  var e = d.documentElement || {}
  return Math.max(b.scrollHeight || 0, b.offsetHeight || 0, b.clientHeight || 0, e.scrollHeight || 0, e.offsetHeight || 0, e.clientHeight || 0)
}
export function scrollTop() {
  return w.scrollY
}
export function viewportHeight() {
  return w.innerHeight
}
export function send(body, primary) {
  outbox.push([body, primary])
}
export function ignore(reason) {
  outbox.push([null, 0, reason])
}

// ---- the page's side ----
function warn(reason) {
  config.logging !== false && console.warn('Ignoring Event: ' + reason)
}

// Calls the Wasm export `f` with `args`, then delivers what it produced;
// `callback` answers the page for the primary payload (Plausible's contract:
// {status} on a response, {error} on a network failure, nothing if ignored).
function call(f, args, callback) {
  var out
  try {
    f.apply(0, args)
  } catch (e) {
    // a bad argument or a trap: drop this event, keep the page running
  }
  out = outbox
  outbox = []
  out.forEach(function (item) {
    var body = item[0]
    var cb = item[1] && callback
    if (body == null) {
      item[2] && warn(item[2])
      return callback && callback()
    }
    if (config.transformRequest) {
      body = config.transformRequest(JSON.parse(body))
      if (!body) {
        warn('transformRequest')
        return cb && cb()
      }
      body = JSON.stringify(body)
    }
    try {
      fetch(config.api, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, keepalive: true, body: body }).then(
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
  })
}

// plausible(name, {props, revenue, interactive, u | url, callback})
function track(name, options) {
  options = options || {}
  var props = options.props
  var custom = config.customProperties
  if (custom) {
    custom = typeof custom == 'function' ? custom(name) : custom
    if (typeof custom == 'object') props = Object.assign({}, custom, props)
  }
  call(
    wasm.track,
    [name, options.u || options.url, props && JSON.stringify(props), options.revenue && JSON.stringify(options.revenue), options.interactive !== false],
    options.callback
  )
}

function on(target, type, listener, capture) {
  target.addEventListener(type, listener, capture)
}

function classes(node) {
  return (node && node.getAttribute && node.getAttribute('class')) || ''
}

function isTagged(node) {
  return wasm.isTagged(classes(node))
}

function is(node, tag) {
  return node && node.tagName && node.tagName.toLowerCase() == tag
}

// Plausible's two click handlers in one: a plain link (outbound or download)
// unless a tagged element within three parents of the link claims the click,
// and a tagged element within three parents of the target (not inside a form).
function onClick(event) {
  if (event.type == 'auxclick' && event.button != 1) return
  var target = event.target
  var link = target
  var node, tagged, clickedLink, i
  try {
    while (link && !(is(link, 'a') && link.href)) link = link.parentNode
    if (link && typeof link.href == 'string') {
      for (node = link, i = 0; node && i <= 3 && !tagged; i++, node = node.parentNode) tagged = isTagged(node)
      call(wasm.link, [link.href, !!tagged])
    }
    for (node = target, tagged = 0, i = 0; node && i <= 3; i++, node = node.parentNode) {
      if (is(node, 'form')) return
      if (is(node, 'a')) clickedLink = node
      if (isTagged(node)) tagged = node
    }
  } catch (e) {
    return
  }
  tagged && call(wasm.tagged, [classes(tagged), clickedLink && clickedLink.href])
}

function onSubmit(event) {
  var form = event.target
  try {
    call(wasm.tagged, [classes(isTagged(form) ? form : form.parentNode)])
  } catch (e) {
    // a detached form: nothing to report
  }
}

function attention() {
  call(wasm.attention, [d.visibilityState == 'visible' && d.hasFocus()])
}

function navigate(kind) {
  call(wasm.navigate, [kind])
}

// Starts the tracker: `config` holds the page's choices, `source` is the Wasm
// module (a URL or its bytes). Returns `plausible()`, which queues calls made
// before the module is ready and replays them in order.
export function start(pageConfig, source, queue) {
  var ready, failure
  config = pageConfig
  queue = queue || []
  function plausible(name, options) {
    if (failure) options && options.callback && options.callback({ error: failure })
    else if (ready) track(name, options)
    else queue.push(arguments)
  }
  function replay() {
    queue.forEach(function (args) {
      plausible.apply(0, args)
    })
  }
  init({ module_or_path: source }).then(
    function () {
      var history = w.history
      var pushState = history.pushState
      wasm.start(config.domain, config.exclude, config.include, config.fileTypes, config.addFileTypes, config.features)
      ready = 1
      replay()
      try {
        if (pushState)
          history.pushState = function () {
            pushState.apply(this, arguments)
            navigate(2)
          }
      } catch (e) {
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
        call(wasm.scrolled, [])
      })
      try {
        new ResizeObserver(function () {
          call(wasm.resized, [])
        }).observe(d.documentElement)
      } catch (e) {
        // no ResizeObserver: the height measured at each pageview stands
      }
      on(d, 'click', onClick)
      on(d, 'auxclick', onClick)
      on(d, 'submit', onSubmit)
    },
    function (error) {
      // Wasm refused (a CSP without 'wasm-unsafe-eval', a blocked file): the
      // page goes on untracked, and callbacks still hear back.
      failure = error
      replay()
    }
  )
  return plausible
}
