// Runs one scenario in a fresh browser context: a page with one tracker (ours
// from the script tag, or Plausible's published one), some steps, then what
// the page sent, in order, as the page's fetch saw it and as the server got it.

export const DOMAIN = 'portal.test'

// Installed before any tracker: a log of every fetch body in send order, traps
// on every storage write, and navigation kept on the page (link events are
// still sent; the tests stay on one document).
const instrumentation = ({ automation }) => `
<script>
${automation ? '' : 'window.__plausible = true;'}
window.__sent = [];
window.__writes = [];
(function () {
  var fetch0 = window.fetch;
  window.fetch = function (url, init) {
    if (init && init.body != null) window.__sent.push({ url: String(url), method: init.method, headers: init.headers, keepalive: init.keepalive, body: init.body });
    return fetch0.apply(this, arguments);
  };
  ['setItem', 'removeItem', 'clear'].forEach(function (name) {
    var original = Storage.prototype[name];
    Storage.prototype[name] = function () { window.__writes.push('Storage.' + name); return original.apply(this, arguments); };
  });
  var cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  Object.defineProperty(document, 'cookie', {
    get: function () { return cookie.get.call(document); },
    set: function (value) { window.__writes.push('document.cookie'); cookie.set.call(document, value); }
  });
  var open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function () { window.__writes.push('indexedDB.open'); return open.apply(this, arguments); };
  window.addEventListener('click', function (event) { if (event.target.closest('a')) event.preventDefault(); });
})();
</script>`

// The same document for every tracker: links, tagged elements, a tall body.
const body = `
<body style="margin:0">
<main style="height:3000px">
  <a id="outbound" href="http://github.test/org/repo?tab=readme">GitHub</a>
  <a id="download" href="/files/guide.pdf?v=2">Guide (PDF)</a>
  <a id="iso" href="/images/os.iso">OS image</a>
  <a id="internal" href="/catalog">Catalog</a>
  <a id="mail" href="mailto:platform@portal.test">Mail</a>
  <button id="tagged" class="btn plausible-event-name=Deploy+Application plausible-event-language=nodejs plausible-event-template=express">Deploy</button>
  <a id="tagged-link" class="plausible-event-name=Open+Docs plausible-event-section=guides" href="/docs/getting-started">Docs</a>
  <a id="tagged-outbound" class="plausible-event-name=Open+Repo" href="http://github.test/org/other">Repo</a>
  <button id="revenue" class="plausible-event-name=Upgrade plausible-revenue-amount=49.99 plausible-revenue-currency=USD">Upgrade</button>
  <div class="plausible-event-name=Card+Click plausible-event-kind=service"><span><span id="deep">Nested target</span></span></div>
  <form id="tagged-form" class="plausible-event-name=Create+Service plausible-event-template=express" onsubmit="event.preventDefault()">
    <input name="service" value="billing"><button id="submit">Create</button>
  </form>
  <form id="plain-form" onsubmit="event.preventDefault()"><button id="plain-submit" class="plausible-event-name=Inside+Form">Save</button></form>
</main>
</body>`

function attributes(map) {
  return Object.entries(map)
    .map(([name, value]) => (value === true ? name : `${name}="${String(value).replace(/"/g, '&quot;')}"`))
    .join(' ')
}

/** The tracker tag(s) for `tracker` ('ours' | 'plausible'). */
export function trackerTag(tracker, { attrs = {}, init = {}, initSource = '', src = '/js/script.js' } = {}) {
  if (tracker === 'ours')
    return `<script defer ${attributes({ 'data-domain': DOMAIN, ...attrs })} src="${src}"></script>`
  return `<script src="/vendor/plausible.js"></script>
<script>PlausibleTracker.init(Object.assign({ domain: ${JSON.stringify(DOMAIN)}, endpoint: location.origin + '/api/event' }, ${JSON.stringify(init)}, ${initSource || '{}'}));</script>`
}

export function pageHtml({ tag, head = '', automation = false }) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Portal</title>${instrumentation({ automation })}${head}${tag}</head>${body}</html>`
}

/** Waits until the page's fetch log has not grown for `quiet` ms. */
export async function settle(page, { quiet = 400, max = 8000 } = {}) {
  const start = Date.now()
  let count = -1
  let since = Date.now()
  await page.waitForTimeout(150)
  while (Date.now() - start < max) {
    const now = await page.evaluate(() => (window.__sent ? window.__sent.length : 0)).catch(() => count)
    if (now !== count) {
      count = now
      since = Date.now()
    } else if (Date.now() - since >= quiet) return
    await page.waitForTimeout(50)
  }
}

/** A payload as compared across trackers: `v` (each tracker's own version)
 * removed, and `e` (engaged milliseconds, a timing) reduced to its type. */
export function comparable(payload) {
  const copy = { ...payload }
  delete copy.v
  if ('e' in copy) copy.e = typeof copy.e === 'number' && copy.e >= 0 ? '<ms>' : copy.e
  return copy
}

/**
 * Loads `path` on `host` with `html`, runs `steps(page)`, and returns what was
 * sent: `payloads` (parsed, send order), `requests` (the page's fetch calls),
 * `received` (the server's log for this run), page `errors`, storage `writes`
 * and the context's cookies.
 */
export async function run(
  browser,
  server,
  { html, path = '/', host = DOMAIN, steps = async () => {}, headers, referer, beforeLoad }
) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (error) => errors.push(String(error)))
  const handler = () => html
  if (headers) handler.headers = headers
  server.pages.set(host.split(':')[0], handler)
  if (beforeLoad) await beforeLoad(page, context)
  const first = server.events.length
  await page.goto(`http://${host}:${server.port}${path}`, { referer })
  await settle(page)
  await steps(page)
  await settle(page)
  const requests = await page.evaluate(() => window.__sent)
  const writes = await page.evaluate(() => window.__writes)
  const storage = await page.evaluate(async () => ({
    cookie: document.cookie,
    local: localStorage.length,
    session: sessionStorage.length,
    databases: (await indexedDB.databases()).length
  }))
  const cookies = await context.cookies()
  await context.close()
  const received = server.events.slice(first)
  return {
    payloads: requests.map((r) => JSON.parse(r.body)),
    requests,
    received,
    errors,
    writes,
    storage,
    cookies
  }
}
