#!/usr/bin/env node
// Builds the dashboard (dashboard/ → www/dashboard/) and the edge worker
// (edge/worker → edge/worker/build/, offline); wrangler runs it as the
// [build] command. Usage: node scripts/build-worker.mjs [--dev]
import { buildDashboard, buildWorker } from './lib/build.mjs'

await buildDashboard()
buildWorker({ dev: process.argv.includes('--dev') })
