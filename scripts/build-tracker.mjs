#!/usr/bin/env node
// Builds the tracker's two distributions (scripts/lib/build.mjs):
//   www/js/script.js + www/js/script*.wasm  the script tag (served by the Worker): one
//                                           Wasm build per combination of optional features
//   pkg/dist/index.js                       the npm package (Wasm inlined)
// Usage: node scripts/build-tracker.mjs [--quiet]
import { buildTracker } from './lib/build.mjs'

await buildTracker({ quiet: process.argv.includes('--quiet') })
