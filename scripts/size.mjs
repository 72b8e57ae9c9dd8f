#!/usr/bin/env node
// Builds the release tracker and prints its bytes (raw, gzip -9, brotli -q 11)
// beside Plausible's published npm tracker, measured in the same run.
// Usage: node scripts/size.mjs [--no-build] [--markdown] [--twiggy] [--report]
//   --twiggy: also print where the Wasm bytes go (twiggy top on wasm-bindgen's
//   output before wasm-opt, names kept; needs `cargo install twiggy`)
// Prints the default script tag (no optional feature), every combination of
// optional features (one Wasm build each, scripts/lib/build.mjs) and the npm
// package against the goals; exit status 1 when one is over its LIMIT (gzip,
// JS + Wasm), unless --report.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants } from 'node:zlib'
import { buildTracker, variants } from './lib/build.mjs'
import { root } from './lib/paths.mjs'

// The budgets, gzip, JS + Wasm: the default script tag, and any
// combination of optional features (script tag or npm package).
export const GOALS = { default: 4096, any: 6144 }
// What the tracker reached (docs/size.md): `npm test` fails above these, so
// no change makes it larger unnoticed; lower them as the tracker shrinks.
export const LIMITS = { default: 5313, any: 12058 }

function measure(file) {
  const bytes = readFileSync(file)
  const gzip = execFileSync('gzip', ['-9', '-n', '-c', file]).length
  const brotli = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length
    }
  }).length
  return { raw: bytes.length, gzip, brotli }
}

const sum = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli })

export async function sizes({ build = true } = {}) {
  const files = build
    ? await buildTracker({ quiet: true })
    : {
        variants: variants().map(({ suffix, features }) => ({
          features,
          js: join(root, `www/js/script${suffix}.js`),
          wasm: join(root, `www/js/script${suffix}.wasm`)
        })),
        npmJs: join(root, 'pkg/dist/index.js')
      }
  // each build of the script tag: its script and its Wasm, the first with no optional feature
  const builds = files.variants.map(({ features, js, wasm }) => {
    const [script, module] = [measure(js), measure(wasm)]
    return { features, script, module, both: sum(script, module) }
  })
  const [plain] = builds
  const npm = measure(files.npmJs)
  return {
    rows: [
      ['script tag: script.js (loader + adapter + glue, no optional feature)', plain.script],
      ['script tag: script.wasm (no optional feature)', plain.module],
      ['**default script tag (JS + Wasm)**', plain.both],
      ...builds.slice(1).map(({ features, both }) => [`script tag with ${features.join(', ')} (JS + Wasm)`, both]),
      ['npm package: dist/index.js (every feature, Wasm inlined)', npm],
      [
        'Plausible npm tracker 0.4.6, all features (measured)',
        measure(join(root, 'node_modules/@plausible-analytics/tracker/plausible.js'))
      ],
      ['Plausible legacy script.js, default (ANCHORS.md)', { raw: 2837, gzip: 1296, brotli: 1120 }]
    ],
    budgets: {
      default: plain.both.gzip,
      any: Math.max(npm.gzip, ...builds.map(({ both }) => both.gzip))
    }
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const { rows, budgets } = await sizes({ build: !process.argv.includes('--no-build') })
  const n = (x) => x.toLocaleString('en-US')
  if (process.argv.includes('--markdown')) {
    console.log('| file | raw | gzip -9 | brotli -q 11 |\n|---|---:|---:|---:|')
    for (const [name, s] of rows) console.log(`| ${name} | ${n(s.raw)} | ${n(s.gzip)} | ${n(s.brotli)} |`)
  } else {
    for (const [name, s] of rows)
      console.log(
        `${name.replace(/\*/g, '').padEnd(56)} ${n(s.raw).padStart(8)} raw ${n(s.gzip).padStart(7)} gzip ${n(s.brotli).padStart(7)} brotli`
      )
  }
  if (process.argv.includes('--twiggy')) {
    const out = join(root, 'target/size-names')
    execFileSync(join(process.env.CARGO_HOME || join(process.env.HOME, '.cargo'), 'bin', 'wasm-bindgen'), [
      '--target',
      'bundler',
      '--out-dir',
      out,
      '--no-typescript',
      join(root, 'target/wasm32-unknown-unknown/release/tracker.wasm')
    ])
    console.log('\nwhere the Wasm bytes go (before wasm-opt; "function names" is stripped in the release build):')
    console.log(execFileSync('twiggy', ['top', '-n', '30', join(out, 'tracker_bg.wasm')], { encoding: 'utf8' }))
  }
  let over = false
  for (const [what, label] of [
    ['default', 'the default script tag'],
    ['any', 'any combination of features (script tag or npm)']
  ]) {
    const bytes = budgets[what]
    const regressed = bytes > LIMITS[what]
    over ||= regressed
    console.log(
      `${label}: ${n(bytes)} B gzip; goal ${n(GOALS[what])} (${bytes <= GOALS[what] ? 'met' : 'not met'}), limit ${n(LIMITS[what])}${regressed ? ' — OVER the limit' : ''}`
    )
  }
  process.exitCode = over && !process.argv.includes('--report') ? 1 : 0
}
