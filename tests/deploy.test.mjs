// The deployment recipes, checked without a cluster: the Kubernetes manifests
// render with kustomize (kubectl kustomize) and pass Kubernetes' own schemas
// (kubernetes-validate, strict), and hold to what a platform team requires
// of them; the ClickHouse users for a server we do not configure parse in
// the engine; the container image's workerd configs cover every variable.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseAllDocuments } from 'yaml'
import { root } from '../scripts/lib/paths.mjs'
import { migrationStatements, sqlStatements } from '../scripts/lib/clickhouse.mjs'
import { WORKER_VARIABLES } from '../scripts/lib/workerd.mjs'

const KUBERNETES_VERSION = '1.32.0'

function render() {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-'))
  cpSync(join(root, 'deploy/kubernetes'), dir, { recursive: true })
  // the overlay's Secrets come from files that are never committed
  for (const file of ['secret.env', 'clickhouse-admin.env'])
    cpSync(join(dir, `overlays/production/${file}.example`), join(dir, `overlays/production/${file}`))
  const text = execFileSync('kubectl', ['kustomize', join(dir, 'overlays/production')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore']
  })
  return { dir, text, objects: parseAllDocuments(text).map((d) => d.toJS()) }
}

/** Each statement through ClickHouse's own parser (chDB's formatQuery); throws at the first it refuses. */
function parseInEngine(statements) {
  const check = `
import chdb, json, sys
for s in json.load(sys.stdin):
    chdb.query("SELECT formatQuery(" + "'" + s.replace("\\\\", "\\\\\\\\").replace("'", "\\\\'") + "'" + ")", "TSV")
print("parsed")`
  assert.equal(
    execFileSync('python3', ['-c', check], { input: JSON.stringify(statements), encoding: 'utf8' }).trim(),
    'parsed'
  )
}

const rendered = render()
const byKind = (kind) => rendered.objects.filter((o) => o.kind === kind)
const podSpecs = () =>
  rendered.objects.flatMap((o) => {
    if (['StatefulSet', 'Deployment', 'Job'].includes(o.kind)) return [[o, o.spec.template.spec]]
    if (o.kind === 'CronJob') return [[o, o.spec.jobTemplate.spec.template.spec]]
    return []
  })

test('the Kubernetes manifests render and pass the Kubernetes schemas (strict)', () => {
  const file = join(rendered.dir, 'rendered.yaml')
  writeFileSync(file, rendered.text)
  const out = execFileSync('python3', ['-m', 'kubernetes_validate', '--strict', '-k', KUBERNETES_VERSION, file], {
    encoding: 'utf8'
  })
  const lines = out.trim().split('\n')
  assert.equal(lines.length, rendered.objects.length, out)
  for (const line of lines) assert.match(line, /passed for resource/, line)
  console.log(`${lines.length} objects valid against Kubernetes ${KUBERNETES_VERSION}`)
})

test('replicas, probes, non-root, read-only, resources, TLS: as a platform team requires', () => {
  const edge = byKind('StatefulSet').find((s) => s.metadata.name === 'edge-analytics-edge')
  assert.ok(edge.spec.replicas >= 2, 'two replicas or more')
  assert.equal(byKind('StatefulSet').find((s) => s.metadata.name === 'edge-analytics-control').spec.replicas, 1)
  for (const [owner, spec] of podSpecs()) {
    assert.equal(spec.securityContext?.runAsNonRoot, true, `${owner.metadata.name}: non-root`)
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', owner.metadata.name)
    for (const container of spec.containers) {
      const where = `${owner.metadata.name}/${container.name}`
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false, where)
      assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL'], where)
      for (const kind of ['requests', 'limits'])
        for (const resource of ['cpu', 'memory'])
          assert.ok(container.resources?.[kind]?.[resource], `${where}: ${kind}.${resource}`)
      if (owner.kind === 'StatefulSet') {
        const probe = container.name === 'clickhouse' ? '/ping' : '/api/health?check=worker'
        assert.equal(container.readinessProbe?.httpGet?.path, probe, where)
        assert.equal(container.livenessProbe?.httpGet?.path, probe, where)
      }
      if (container.name !== 'clickhouse') assert.equal(container.securityContext.readOnlyRootFilesystem, true, where)
    }
  }
  const [ingress] = byKind('Ingress')
  assert.ok(ingress.spec.tls?.[0]?.secretName, 'TLS')
  assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, 'edge-analytics-edge')
})

test("every secret a pod reads is in its Secret, the Worker gets every variable it needs, and no workerd pod holds ClickHouse's administrator", () => {
  const secrets = byKind('Secret')
  const secret = (prefix) =>
    secrets.find(
      (s) => s.metadata.name.startsWith(`${prefix}-`) && !s.metadata.name.slice(prefix.length + 1).includes('-')
    )
  const worker = secret('edge-analytics')
  const clickhouseAdmin = secret('edge-analytics-clickhouse-admin')
  assert.ok(worker && clickhouseAdmin, secrets.map((s) => s.metadata.name).join(', '))
  const [config] = byKind('ConfigMap').filter((c) => c.metadata.name.startsWith('edge-analytics-config'))
  for (const [owner, spec] of podSpecs())
    for (const container of spec.containers) {
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef
        if (!ref) continue
        const target = secrets.find((s) => s.metadata.name === ref.name)
        assert.ok(target, `${owner.metadata.name}: ${ref.name} is a generated Secret`)
        assert.ok(ref.key in target.data, `${owner.metadata.name}: ${ref.key} in ${ref.name}`)
        if (ref.key === 'CLICKHOUSE_ADMIN_PASSWORD')
          assert.ok(
            ['edge-analytics-clickhouse', 'edge-analytics-migrate'].includes(owner.metadata.name),
            owner.metadata.name
          )
      }
      for (const from of container.envFrom ?? [])
        if (from.secretRef)
          assert.equal(from.secretRef.name, worker.metadata.name, `${owner.metadata.name}: only the Worker's Secret`)
    }
  assert.ok(!('CLICKHOUSE_ADMIN_PASSWORD' in worker.data), "the workerd pods' Secret holds no administrator password")
  const given = new Set([...Object.keys(worker.data), ...Object.keys(config.data)])
  for (const required of [
    'CLICKHOUSE_URL',
    'CLICKHOUSE_PASSWORD',
    'CLICKHOUSE_READ_USER',
    'CLICKHOUSE_READ_PASSWORD',
    'ADMIN_TOKEN',
    'CONTROL_TOKEN',
    'TRUSTED_PROXY'
  ])
    assert.ok(given.has(required), required)
  for (const name of given) assert.ok(WORKER_VARIABLES.includes(name), `${name} is a Worker variable`)
})

test("ClickHouse's own configuration: system logs expire, the reader is limited", () => {
  const configMap = (prefix) =>
    byKind('ConfigMap').find((c) => c.metadata.name.startsWith(prefix)).data['edge-analytics.xml']
  const server = configMap('edge-analytics-clickhouse-config')
  for (const log of ['query_log', 'part_log', 'metric_log', 'asynchronous_metric_log'])
    assert.match(
      server,
      new RegExp(`<${log} replace="1">[\\s\\S]*?TTL event_date \\+ INTERVAL \\d+ DAY DELETE[\\s\\S]*?</${log}>`),
      log
    )
  for (const log of ['trace_log', 'text_log', 'query_thread_log'])
    assert.match(server, new RegExp(`<${log} remove="1"/>`), log)
  const users = configMap('edge-analytics-clickhouse-users')
  assert.match(users, /<edge_reader>[\s\S]*<profile>edge_reader_limits<\/profile>[\s\S]*GRANT SELECT ON analytics\.\*/)
  assert.match(users, /<readonly><const\/><\/readonly>/)
})

test('deploy/clickhouse/users.sql parses in the engine, statement by statement', () => {
  const statements = sqlStatements(readFileSync(join(root, 'deploy/clickhouse/users.sql'), 'utf8'))
  assert.equal(statements.length, 5)
  parseInEngine(statements)
})

test("the container image's workerd configs read every Worker variable from the environment", () => {
  const dir = mkdtempSync(join(tmpdir(), 'image-configs-'))
  execFileSync(process.execPath, [join(root, 'deploy/container/workerd-configs.mjs'), dir])
  for (const role of ['single', 'control', 'replica']) {
    const capnp = readFileSync(join(dir, `${role}.capnp`), 'utf8')
    for (const name of WORKER_VARIABLES)
      assert.match(capnp, new RegExp(`fromEnvironment = "${name}"`), `${role}: ${name}`)
    assert.match(capnp, /localDisk = "disk"/)
  }
  assert.match(readFileSync(join(dir, 'replica.capnp'), 'utf8'), /address = "edge-analytics-control:8081"/)
  assert.doesNotMatch(
    readFileSync(join(dir, 'control.capnp'), 'utf8'),
    /name = "http"/,
    'no public socket on the control instance'
  )
})

test('cluster mode: every migration as ON CLUSTER DDL over Replicated and Distributed tables, parsed by the engine', () => {
  const single = migrationStatements({ cluster: '', database: 'analytics' }).flatMap((m) => m.statements)
  const cluster = migrationStatements({ cluster: 'analytics_cluster', database: 'analytics' }).flatMap(
    (m) => m.statements
  )
  parseInEngine(cluster)
  const created = (kind) => cluster.filter((s) => s.startsWith(kind)).map((s) => s.match(/EXISTS (\w+)/)[1])
  const tables = [
    'events',
    'dropped_events',
    'visitor_days',
    'page_days',
    'day_rollups',
    'day_rolls',
    'day_changes',
    'day_exports'
  ]
  for (const table of tables) {
    const local = cluster.find((s) =>
      s.startsWith(`CREATE TABLE IF NOT EXISTS ${table}_local ON CLUSTER analytics_cluster`)
    )
    assert.match(
      local,
      /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/analytics\/\w+_local', '\{replica\}'/,
      table
    )
    assert.doesNotMatch(local, /non_replicated_deduplication_window/, table)
    const distributed = cluster.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER`))
    assert.match(
      distributed,
      new RegExp(`ENGINE = Distributed\\(analytics_cluster, analytics, ${table}_local, cityHash64\\(site_domain\\)\\)`)
    )
  }
  assert.equal(created('CREATE TABLE').length, 2 * tables.length)
  assert.match(
    cluster.find((s) => s.includes('MATERIALIZED VIEW')),
    /ON CLUSTER analytics_cluster TO page_days_local AS[\s\S]*FROM events_local/
  )
  for (const ddl of cluster.filter((s) => /^(CREATE|ALTER)/.test(s)))
    assert.match(ddl, /ON CLUSTER analytics_cluster/, ddl.slice(0, 60))
  // one server: the migrations as written
  assert.ok(single.every((s) => !s.includes('ON CLUSTER') && !s.includes('_local')))
  console.log(`${cluster.length} cluster statements from ${single.length} single-server ones, all parsed`)
})
