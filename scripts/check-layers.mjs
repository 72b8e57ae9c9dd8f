#!/usr/bin/env node
// Holds the workspace's crates to the layer table of docs/architecture.md:
// every crate has a row with its folder, and imports (normal, dev and build
// dependencies alike) only this workspace's crates its row allows, and the
// Cloudflare `worker` crate only where the row names it. Cargo itself refuses
// an import a manifest does not declare, so manifest and table together make
// a backwards import fail CI. Usage: node scripts/check-layers.mjs
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { root } from './lib/paths.mjs'

/** The table between the layers markers: crate → { folder, allowed names }. */
export function layerTable(markdown) {
  const block = markdown.split('<!-- layers:begin -->')[1]?.split('<!-- layers:end -->')[0]
  if (!block) throw new Error('docs/architecture.md: no <!-- layers:begin --> … <!-- layers:end --> table')
  const table = new Map()
  for (const line of block.split('\n').filter((l) => l.startsWith('| `'))) {
    const cells = line.split('|').map((c) => c.trim())
    const name = cells[1].replaceAll('`', '')
    const folder = cells[2].replaceAll('`', '')
    const allowed = cells[4] === '—' ? [] : cells[4].split(',').map((c) => c.trim().replaceAll('`', ''))
    table.set(name, { folder, allowed })
  }
  return table
}

/** What breaks the table, as messages; none when the workspace keeps it. */
export function violations(table, packages) {
  const members = new Set(packages.map((p) => p.name))
  const problems = []
  for (const pkg of packages) {
    const row = table.get(pkg.name)
    if (!row) {
      problems.push(`${pkg.name}: not in the layer table of docs/architecture.md`)
      continue
    }
    if (pkg.folder !== row.folder) problems.push(`${pkg.name}: lives in ${pkg.folder}, the table says ${row.folder}`)
    for (const dep of pkg.dependencies) {
      const watched = members.has(dep.name) || dep.name === 'worker'
      if (watched && !row.allowed.includes(dep.name)) {
        problems.push(`${pkg.name} imports ${dep.name} (${dep.kind ?? 'normal'} dependency), which its layer may not`)
      }
    }
  }
  for (const name of table.keys()) if (!members.has(name)) problems.push(`${name}: in the table, not in the workspace`)
  return problems
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const metadata = JSON.parse(
    execFileSync('cargo', ['metadata', '--no-deps', '--format-version', '1'], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024
    })
  )
  const packages = metadata.packages.map((p) => ({
    name: p.name,
    folder: relative(root, join(p.manifest_path, '..')),
    // the package's own name, whatever a manifest renames it to
    dependencies: p.dependencies.map((d) => ({ name: d.name, kind: d.kind }))
  }))
  const problems = violations(layerTable(readFileSync(join(root, 'docs/architecture.md'), 'utf8')), packages)
  if (problems.length) {
    console.error(`layers: ${problems.length} import(s) against docs/architecture.md:\n  ${problems.join('\n  ')}`)
    process.exit(1)
  }
  console.log(`layers: ${packages.length} crates import as docs/architecture.md allows`)
}
