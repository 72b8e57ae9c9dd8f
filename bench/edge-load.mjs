#!/usr/bin/env node
// Events per second through the edge worker: POST /api/event with N clients on
// loopback, a bounded number of requests. Start the worker first (npm start).
// Usage: node bench/edge-load.mjs [URL=http://127.0.0.1:8787] [REQUESTS=5000] [CONCURRENCY=32]
import { describe, load } from './lib/load.mjs'

const [url = 'http://127.0.0.1:8787', total = '5000', concurrency = '32'] = process.argv.slice(2)
console.log(describe(await load(url, Number(total), Number(concurrency))))
