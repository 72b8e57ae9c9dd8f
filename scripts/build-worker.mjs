#!/usr/bin/env node
// Builds the edge worker (edge/ → edge/build/) with worker-build, offline:
// wasm-bindgen, wasm-opt and esbuild come from this machine, not downloads.
// wrangler runs it as the [build] command. Usage: node scripts/build-worker.mjs [--dev]
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { root } from './build-tracker.mjs'

const cargoBin = (name) => join(process.env.CARGO_HOME || join(process.env.HOME, '.cargo'), 'bin', name)
const bin = (name) => join(root, 'node_modules/.bin', name)
const dev = process.argv.includes('--dev')

execFileSync(cargoBin('worker-build'), dev ? ['--dev', '--no-opt'] : ['--release'], {
  cwd: join(root, 'edge'),
  stdio: 'inherit',
  env: { ...process.env, WASM_BINDGEN_BIN: cargoBin('wasm-bindgen'), WASM_OPT_BIN: bin('wasm-opt'), ESBUILD_BIN: bin('esbuild') }
})
