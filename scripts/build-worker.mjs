#!/usr/bin/env node
// Builds the edge worker (edge/worker → edge/worker/build/) with worker-build, offline:
// wasm-bindgen, wasm-opt and esbuild come from this machine, not downloads;
// and the dashboard (dashboard/ → www/dashboard/, served as static assets).
// wrangler runs it as the [build] command. Usage: node scripts/build-worker.mjs [--dev]
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import * as esbuild from 'esbuild'
import { root } from './build-tracker.mjs'

/** The dashboard: one JS bundle (with uPlot), one stylesheet, the page. */
export async function buildDashboard() {
  const out = join(root, 'www/dashboard')
  mkdirSync(out, { recursive: true })
  await esbuild.build({
    entryPoints: { app: join(root, 'dashboard/main.js') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020'],
    outdir: out,
    logLevel: 'warning'
  })
  await esbuild.build({ entryPoints: { app: join(root, 'dashboard/style.css') }, bundle: true, minify: true, outdir: out, logLevel: 'warning' })
  copyFileSync(join(root, 'dashboard/index.html'), join(out, 'index.html'))
}

await buildDashboard()

const cargoBin = (name) => join(process.env.CARGO_HOME || join(process.env.HOME, '.cargo'), 'bin', name)
const bin = (name) => join(root, 'node_modules/.bin', name)
const dev = process.argv.includes('--dev')

execFileSync(cargoBin('worker-build'), dev ? ['--dev', '--no-opt'] : ['--release'], {
  cwd: join(root, 'edge/worker'),
  stdio: 'inherit',
  env: { ...process.env, WASM_BINDGEN_BIN: cargoBin('wasm-bindgen'), WASM_OPT_BIN: bin('wasm-opt'), ESBUILD_BIN: bin('esbuild') }
})
