// The self-hosted runtime: workerd configs (Cap'n Proto text) for the one
// Worker build (edge/worker/build) in each of its roles, for the self-host
// launcher (scripts/selfhost.mjs), the container image (deploy/container) and
// the benchmarks alike. Every variable comes from the process environment
// (`fromEnvironment`), so one config file serves any installation.
//   single:  one process, everything: the front (static assets), the Worker,
//            the queue, the Durable Objects (salts, settings) on its disk
//   control: the Durable Objects only (salts, settings, dead letters), answering the replicas on `internal`
//            (/internal/state/…, behind CONTROL_TOKEN); no public socket
//   replica: the front, the Worker and its own queue on its disk; salts and
//            settings through the control instance (the CONTROL service)
// docs/self-hosting.md explains the design.

/** The Worker's variables, as the Worker reads them (edge/worker/src/routes/bindings.rs). */
export const WORKER_VARIABLES = [
  'CLICKHOUSE_URL',
  'CLICKHOUSE_USER',
  'CLICKHOUSE_PASSWORD',
  'CLICKHOUSE_DATABASE',
  'CLICKHOUSE_CLUSTER',
  'CLICKHOUSE_READ_USER',
  'CLICKHOUSE_READ_PASSWORD',
  'TRUSTED_PROXY',
  'ADMIN_TOKEN',
  'ADMIN_USER',
  'ADMIN_PASSWORD_HASH',
  'RETRY_BUDGET_SECONDS',
  'CONTROL_TOKEN',
  'METRICS_TOKEN',
  'OIDC_ISSUER',
  'OIDC_CLIENT_ID',
  'OIDC_CLIENT_SECRET',
  'OIDC_ROLES',
  'OIDC_ROLE_CLAIM',
  'SSO_ONLY',
  'SMTP_URL',
  'MAIL_FROM',
  'EXPORT_URL',
  'EXPORT_KEY_ID',
  'EXPORT_SECRET'
]

export const ROLES = ['single', 'control', 'replica']

const text = (s) => JSON.stringify(s) // Cap'n Proto text literals take JSON's escapes

/**
 * The config of one workerd process.
 * - `build`, `www`, `front`: paths of the Worker build, the static assets and
 *   deploy/workerd/front.js, relative to where the config file will be
 * - `storage`: absolute directory of this process's durable state
 * - `listen`: the public socket (single, replica); `internal`: control's socket
 * - `control`: host:port of the control instance (replica)
 * - `consume`: whether the queue is delivered (default); off only in benchmarks
 */
export function workerdConfig({ role, build, www, front, storage, listen, internal, control, consume = true }) {
  if (!ROLES.includes(role)) throw new Error(`role must be one of ${ROLES.join(', ')}, not ${role}`)
  const queues = role !== 'control'
  const objects = role !== 'replica'
  // (`consume: false`, for a benchmark of the accepting path alone: events stay queued)
  const consumers = JSON.stringify(
    consume ? { events: { consumer: 'EDGE', maxBatchSize: 100, maxBatchTimeout: 2, maxRetries: 100 } } : {}
  )
  const services = [
    `(name = "edge", worker = .edge)`,
    `(name = "internet", network = (allow = ["public", "private", "local"]))`,
    `(name = "disk", disk = (path = ${text(storage)}, writable = true))`
  ]
  const sockets = []
  if (role !== 'control') {
    services.push(`(name = "front", worker = .front)`, `(name = "www", disk = (path = ${text(www)}))`)
    // behind a TLS terminator (an Ingress, the launcher's proxy) the Worker sees the URL the
    // browser used, so that its own origin matches the dashboard's (a login checks it)
    sockets.push(
      `(name = "http", address = ${text(listen)}, http = (forwardedProtoHeader = "X-Forwarded-Proto"), service = "front")`
    )
  } else {
    sockets.push(`(name = "internal", address = ${text(internal)}, http = (), service = "edge")`)
  }
  if (queues) services.push(`(name = "queues", worker = .queues)`)
  if (role === 'replica') services.push(`(name = "control", external = (address = ${text(control)}, http = ()))`)

  const bindings = WORKER_VARIABLES.map((name) => `(name = ${text(name)}, fromEnvironment = ${text(name)})`)
  if (queues) bindings.push(EVENTS_QUEUE_BINDING)
  if (objects)
    bindings.push(
      `(name = "SALTS", durableObjectNamespace = "DailySalts")`,
      `(name = "SITE_SETTINGS", durableObjectNamespace = "SiteSettings")`,
      // no R2 here: the messages set aside are kept by a Durable Object
      `(name = "DEAD_LETTER_STORE", durableObjectNamespace = "DeadLetterStore")`
    )
  if (role === 'replica') bindings.push(`(name = "CONTROL", service = "control")`)
  // the static assets, as Cloudflare's assets binding gives them (routes/assets.rs)
  if (role !== 'control') bindings.push(`(name = "ASSETS", service = "www")`)

  const edge = [
    `compatibilityDate = "2026-11-01"`,
    `modules = [
    (name = "index.js", esModule = embed ${text(`${build}/index.js`)}),
    (name = "index_bg.wasm", wasm = embed ${text(`${build}/index_bg.wasm`)}),
  ]`,
    `bindings = [\n    ${bindings.join(',\n    ')},\n  ]`,
    `globalOutbound = "internet"`
  ]
  if (objects)
    edge.push(
      `durableObjectNamespaces = [
    # the salts on the key-value backend, as on Cloudflare (wrangler.toml, migration v3)
    (className = "DailySalts", uniqueKey = "edge-analytics-salts", enableSql = false),
    (className = "SiteSettings", uniqueKey = "edge-analytics-settings", enableSql = true),
    (className = "DeadLetterStore", uniqueKey = "edge-analytics-dead-letters", enableSql = true),
  ]`,
      `durableObjectStorage = (localDisk = "disk")`
    )

  let config = `# ${role}: generated by scripts/lib/workerd.mjs (docs/self-hosting.md); do not edit
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ${services.join(',\n    ')},
  ],
  sockets = [${sockets.join(', ')}],
);

const edge :Workerd.Worker = (
  ${edge.join(',\n  ')},
);
`
  if (role !== 'control') config += `\n${frontWorker(front)}`
  if (queues) config += `\n${queuesWorker(consumers)}`
  return config
}

/** The binding of the `events` queue (the Queues Worker takes the queue's name from its props). */
export const EVENTS_QUEUE_BINDING = `(name = "EVENTS", queue = (name = "queues", props = (json = ${text(JSON.stringify({ queue: 'events' }))})))`

/** The front Worker `front` (deploy/workerd/front.js at the path `front`), in front of the service `edge`. */
export function frontWorker(front, edge = 'edge') {
  return `const front :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [(name = "front.js", esModule = embed ${text(front)})],
  bindings = [(name = "EDGE", service = ${text(edge)}), (name = "WWW", service = "www")],
);
`
}

/**
 * workerd's bundled Queues Worker `queues`, delivering to the service `edge` as `consumers`
 * (JSON) say, its messages in a Durable Object on the service `disk`.
 */
export function queuesWorker(consumers, edge = 'edge') {
  return `const queues :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  compatibilityFlags = ["service_binding_extra_handlers"],
  modules = [(name = "queues.js", bundled = "/workerd/queues.js")],
  bindings = [
    (name = "SHARD", durableObjectNamespace = "QueueShard"),
    (name = "CONSUMERS", json = ${text(consumers)}),
    (name = "EDGE", service = ${text(edge)}),
  ],
  durableObjectNamespaces = [(className = "QueueShard", uniqueKey = "edge-analytics-queues", enableSql = true)],
  durableObjectStorage = (localDisk = "disk"),
);
`
}
