// A real Backstage backend (@backstage/backend-defaults) with the proxy plugin
// (@backstage/plugin-proxy-backend), as a portal runs it: its proxy endpoint reaches the
// Worker with a Stats API key that only the backend's config holds. Its config is built here
// (ConfigReader) instead of app-config files; its own plugin keys are a throwaway ES256 pair
// in a static key store (the default store wants a database this test does not need).
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createBackend } from '@backstage/backend-defaults'
import { rootHttpRouterServiceFactory } from '@backstage/backend-defaults/rootHttpRouter'
import { coreServices, createServiceFactory } from '@backstage/backend-plugin-api'
import { ConfigReader } from '@backstage/config'

/**
 * Starts the backend on a free port of 127.0.0.1, answering `origin`'s pages (CORS), with
 * `proxy.endpoints`; `{url, stop}`.
 * @param {{dir: string, origin: string, endpoints: Record<string, object>}} options
 */
export async function startBackstageBackend({ dir, origin, endpoints }) {
  // its request log would fill the test's output
  process.env.LOG_LEVEL ??= 'warn'
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const privateKeyFile = join(dir, 'backstage-plugin-key.pem')
  const publicKeyFile = join(dir, 'backstage-plugin-key.pub.pem')
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }))
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }))

  // (baseUrl is required; nothing here resolves it: the port is known only once listening)
  const config = new ConfigReader({
    backend: {
      baseUrl: 'http://127.0.0.1',
      listen: { host: '127.0.0.1', port: 0 },
      cors: { origin, methods: ['GET', 'POST'], credentials: true },
      auth: {
        pluginKeyStore: { type: 'static', static: { keys: [{ publicKeyFile, privateKeyFile, keyId: 'test' }] } }
      }
    },
    proxy: { endpoints }
  })
  const rootConfig = createServiceFactory({ service: coreServices.rootConfig, deps: {}, factory: () => config })
  let server
  const backend = createBackend()
  backend.add(rootConfig)
  backend.add(
    rootHttpRouterServiceFactory({
      configure: (context) => {
        server = context.server
        context.applyDefaults()
      }
    })
  )
  backend.add(import('@backstage/plugin-proxy-backend'))
  await backend.start()
  return { url: `http://127.0.0.1:${server.port()}`, stop: () => backend.stop() }
}
