// One local server and one headless Chromium per test file, started before its
// first test and closed after its last.
import { before, after } from 'node:test'
import { startServer } from './server.mjs'
import { launch } from './browser.mjs'

/** Registers the hooks; the returned object's `server` and `browser` are set once they run. */
export function serverAndBrowser() {
  const fixture = {}
  before(async () => {
    fixture.server = await startServer()
    fixture.browser = await launch()
  })
  after(async () => {
    await fixture.browser?.close()
    await fixture.server?.close()
  })
  return fixture
}
