#!/usr/bin/env node
// Writes the container image's workerd configs (one per role) into DIR, for
// the layout of deploy/container/Containerfile: the Worker build in
// /app/build, www/ in /app/www, this front in /app/front.js, state on the
// volume /data. The replica reaches the control instance at the Kubernetes
// Service edge-analytics-control:8081 (deploy/kubernetes/base/control.yaml).
// Usage: node deploy/container/workerd-configs.mjs DIR
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROLES, workerdConfig } from '../../scripts/lib/workerd.mjs'

const dir = process.argv[2]
if (!dir) throw new Error('usage: node deploy/container/workerd-configs.mjs DIR')
mkdirSync(dir, { recursive: true })
for (const role of ROLES) {
  const config = workerdConfig({
    role,
    build: '../build', // embed paths are relative to the config (/app/config)
    front: '../front.js',
    www: '/app/www',
    storage: '/data',
    listen: '*:8080',
    internal: '*:8081',
    control: 'edge-analytics-control:8081'
  })
  writeFileSync(join(dir, `${role}.capnp`), config)
}
