#!/usr/bin/env node
// Writes the privacy report of a new site (edge/worker/src/privacy_report.rs,
// through its example) into docs/privacy.md between its markers; with
// --check, only says whether the document is the code's (exit 1 if not).
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './lib/paths.mjs'

const BEGIN = '<!-- report:begin (scripts/privacy-report.mjs writes this part) -->'
const END = '<!-- report:end -->'

/** The report as the code makes it today. */
export function generated() {
  return execFileSync('cargo', ['run', '--quiet', '-p', 'edge-worker', '--example', 'privacy_report'], {
    cwd: root,
    encoding: 'utf8'
  })
}

/** docs/privacy.md's text with `report` between the markers. */
export function withReport(text, report) {
  const begin = text.indexOf(BEGIN)
  const end = text.indexOf(END)
  if (begin < 0 || end < begin) throw new Error(`docs/privacy.md has no ${BEGIN} … ${END} markers`)
  return `${text.slice(0, begin + BEGIN.length)}\n${report}\n${text.slice(end)}`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = join(root, 'docs/privacy.md')
  const text = readFileSync(file, 'utf8')
  const next = withReport(text, generated())
  if (process.argv.includes('--check')) {
    if (next !== text) {
      console.error('privacy-report: docs/privacy.md is not the code’s report; run node scripts/privacy-report.mjs')
      process.exit(1)
    }
    console.log('privacy-report: docs/privacy.md is current')
  } else {
    writeFileSync(file, next)
    console.log('privacy-report: docs/privacy.md written')
  }
}
