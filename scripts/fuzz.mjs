#!/usr/bin/env node
// Coverage-guided fuzzing (libFuzzer, fuzz/) of what takes anyone's bytes: the
// ingest pipeline (POST /api/event) and the Stats API query (POST /api/v2/query).
// Built on stable Rust with libFuzzer's coverage instrumentation (no cargo-fuzz,
// no nightly), into target/fuzz; the corpus starts from the test suites' own
// bodies and grows in target/fuzz/corpus. A crash is saved as
// target/fuzz/crash-* and fails the run.
//
// Usage: node scripts/fuzz.mjs [--seconds 10] [ingest_pipeline|stats_query]…
//   npm test runs each target 10 s; docs/reliability.md has the long runs' figures.
import { execFileSync, spawnSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { oracleFunnels, oracleQueries } from '../tests/fixtures/stats-queries.mjs'
import { root } from './lib/paths.mjs'

const TARGETS = ['ingest_pipeline', 'stats_query']
const args = process.argv.slice(2)
const secondsAt = args.indexOf('--seconds')
const seconds = secondsAt >= 0 ? Number(args.splice(secondsAt, 2)[1]) : 10
const targets = args.length ? args : TARGETS
for (const target of targets) if (!TARGETS.includes(target)) throw new Error(`no fuzz target ${target}`)

const dir = join(root, 'target/fuzz')
const triple = 'x86_64-unknown-linux-gnu'
// what cargo-fuzz passes (its --sanitizer=none): coverage for libFuzzer, and
// debug assertions and overflow checks on, so arithmetic slips are crashes too
const rustflags = [
  '-Cpasses=sancov-module',
  '-Cllvm-args=-sanitizer-coverage-level=4',
  '-Cllvm-args=-sanitizer-coverage-inline-8bit-counters',
  '-Cllvm-args=-sanitizer-coverage-pc-table',
  '-Cllvm-args=-sanitizer-coverage-trace-compares',
  '--cfg',
  'fuzzing',
  '-Cdebug-assertions',
  '-Coverflow-checks'
].join(' ')
execFileSync(
  'cargo',
  ['build', '--quiet', '--release', '--locked', '--target', triple, '--target-dir', dir, '--bins'],
  { cwd: join(root, 'fuzz'), stdio: 'inherit', env: { ...process.env, RUSTFLAGS: rustflags } }
)

// the seeds: valid and hostile bodies of both kinds
const seeds = {
  ingest_pipeline: [
    {
      n: 'pageview',
      u: 'https://portal.example/catalog?utm_source=x&gclid=1',
      d: 'portal.example',
      r: 'https://www.google.com/search?q=1'
    },
    {
      n: 'Deploy Application',
      u: 'https://portal.example/create',
      d: 'portal.example,docs.example',
      p: { language: 'nodejs', template: 'express' },
      $: { amount: '12.5', currency: 'EUR' }
    },
    { n: 'engagement', u: 'https://portal.example/#/docs', d: 'portal.example', h: 1, sd: 40, e: 1200, i: false, v: 3 },
    {
      name: 'Signup',
      url: 'https://docs.example/',
      domain: 'docs.example',
      referrer: 'https://user:pw@mail.example/reset?token=t#f',
      props: '{"plan":"team"}'
    }
  ].map((body) => JSON.stringify(body)),
  stats_query: [oracleQueries, oracleFunnels].flatMap((list) =>
    list({
      backstage: 'portal.example',
      portal: 'docs.example',
      hostile: "x'); DROP TABLE events; --"
    }).map((query) => JSON.stringify(query))
  )
}

let failed = false
for (const target of targets) {
  const corpus = join(dir, 'corpus', target)
  mkdirSync(corpus, { recursive: true })
  for (const [i, seed] of seeds[target].entries()) writeFileSync(join(corpus, `seed-${i}`), seed)
  // libFuzzer reports on stderr, a line per new input: into a file, not memory
  const logFile = join(dir, `${target}.log`)
  const log = openSync(logFile, 'w')
  const run = spawnSync(
    join(dir, triple, 'release', target),
    [corpus, `-max_total_time=${seconds}`, '-max_len=4096', '-print_final_stats=1', `-artifact_prefix=${dir}/`],
    // a crash's message, not its backtrace, is what the log's tail should show
    { stdio: ['ignore', log, log], env: { ...process.env, RUST_BACKTRACE: '0' } }
  )
  closeSync(log)
  const stderr = readFileSync(logFile, 'utf8')
  const runs = stderr.match(/stat::number_of_executed_units:\s*(\d+)/)?.[1]
  const perSecond = stderr.match(/stat::average_exec_per_sec:\s*(\d+)/)?.[1]
  if (run.status === 0) {
    console.log(`fuzz ${target}: ${runs} executions in ${seconds} s (${perSecond}/s), no crash`)
  } else {
    failed = true
    console.error(
      stderr
        .split('\n')
        .filter((line) => !line.startsWith('#'))
        .slice(-40)
        .join('\n')
    )
    console.error(`fuzz ${target}: crashed (the input is in target/fuzz/crash-*)`)
  }
}
process.exit(failed ? 1 : 0)
