// `wrangler dev` as this project runs it, offline: local
// workerd, the local queue and Durable Objects kept in `persistTo`, cron
// triggers reachable, no telemetry, a fixed `request.cf`; wrangler builds the
// Worker first with wrangler.toml's [build] command.
import { join } from 'node:path'
import { root } from './paths.mjs'

/** The command, its arguments and its environment, for `vars` as Worker variables. */
export function wranglerDev({ port, inspectorPort, persistTo, vars }) {
  return {
    command: join(root, 'node_modules/.bin/wrangler'),
    args: [
      'dev',
      '--local',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      ...(inspectorPort ? ['--inspector-port', String(inspectorPort)] : []),
      '--test-scheduled',
      '--show-interactive-dev-session=false',
      '--persist-to',
      persistTo,
      ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`])
    ],
    env: {
      ...process.env,
      // node_modules/.bin first: wrangler needs the Node 22 that npm installed there
      PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}`,
      WRANGLER_SEND_METRICS: 'false',
      WRANGLER_SEND_ERROR_REPORTS: 'false',
      DO_NOT_TRACK: '1',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false'
    }
  }
}
