#!/usr/bin/env node
// Builds the release tracker and prints its bytes (raw, gzip -9, brotli -q 11)
// beside Plausible's published npm tracker, measured in the same run.
// Usage: node scripts/size.mjs [--no-build] [--markdown] [--twiggy] [--report]
//   --twiggy: also print where the Wasm bytes go (twiggy top on wasm-bindgen's
//   output before wasm-opt, names kept; needs `cargo install twiggy`)
// Exit status 1 when the full-featured script tag is over BUDGET (gzip, JS + Wasm),
// unless --report (npm test: the budget is reported while docs/size.md's plan is under way).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants } from 'node:zlib'
import { buildTracker } from './lib/build.mjs'
import { root } from './lib/paths.mjs'

export const BUDGET = 4096

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
        scriptJs: join(root, 'www/js/script.js'),
        scriptWasm: join(root, 'www/js/script.wasm'),
        npmJs: join(root, 'pkg/dist/index.js')
      }
  const js = measure(files.scriptJs)
  const wasm = measure(files.scriptWasm)
  return [
    ['script tag: script.js (loader + adapter + glue)', js],
    ['script tag: script.wasm', wasm],
    ['**script tag, all features (JS + Wasm)**', sum(js, wasm)],
    ['npm package: dist/index.js (Wasm inlined)', measure(files.npmJs)],
    [
      'Plausible npm tracker 0.4.6, all features (measured)',
      measure(join(root, 'node_modules/@plausible-analytics/tracker/plausible.js'))
    ],
    ['Plausible legacy script.js, default (ANCHORS.md)', { raw: 2837, gzip: 1296, brotli: 1120 }]
  ]
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const rows = await sizes({ build: !process.argv.includes('--no-build') })
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
  const total = rows[2][1].gzip
  console.log(
    `\nbudget: ${n(total)} / ${n(BUDGET)} B gzip for the full-featured script tag — ${total <= BUDGET ? 'within' : 'OVER'}`
  )
  process.exitCode = total <= BUDGET || process.argv.includes('--report') ? 0 : 1
}
