// The layer check (scripts/check-layers.mjs) holds the workspace to the table
// of docs/architecture.md: the workspace as it is passes, and a backwards
// import, an unlisted crate or the Cloudflare crate outside the Worker fail it.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { layerTable, violations } from '../scripts/check-layers.mjs'
import { root } from '../scripts/lib/paths.mjs'

const table = layerTable(readFileSync(join(root, 'docs/architecture.md'), 'utf8'))
const crate = (name, folder, ...dependencies) => ({
  name,
  folder,
  dependencies: dependencies.map((d) => ({ name: d, kind: null }))
})
const workspace = [
  crate('model', 'edge/model', 'serde'),
  crate('ingest', 'edge/ingest', 'model', 'url'),
  crate('stats', 'edge/stats', 'model'),
  crate('control', 'edge/control', 'model'),
  crate('notify', 'edge/notify', 'model'),
  crate('edge-worker', 'edge/worker', 'model', 'ingest', 'stats', 'control', 'notify', 'worker'),
  crate('tracker', 'tracker', 'wasm-bindgen')
]

test('the workspace as it is, and the layers as docs/architecture.md draws them, pass', () => {
  // the check itself on this checkout's manifests (cargo metadata: no build)
  const out = execFileSync('node', [join(root, 'scripts/check-layers.mjs')], { encoding: 'utf8' })
  assert.match(out, /7 crates import as docs\/architecture.md allows/)
  assert.deepEqual(violations(table, workspace), [])
})

test('a backwards or sideways import, the Cloudflare crate outside the Worker, or an unlisted crate fail', () => {
  const broken = workspace.map((c) => ({ ...c, dependencies: [...c.dependencies] }))
  broken[0].dependencies.push({ name: 'ingest', kind: 'dev' })
  broken[1].dependencies.push({ name: 'stats', kind: null }, { name: 'worker', kind: null })
  broken.push(crate('extra', 'edge/extra', 'model'))
  assert.deepEqual(violations(table, broken), [
    'model imports ingest (dev dependency), which its layer may not',
    'ingest imports stats (normal dependency), which its layer may not',
    'ingest imports worker (normal dependency), which its layer may not',
    'extra: not in the layer table of docs/architecture.md'
  ])
})
