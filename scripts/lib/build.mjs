// The builds, for the build scripts, the dev runner and the tests:
// - buildTracker: the tracker's two distributions from the one Rust crate —
//   www/js/script*.js + www/js/script*.wasm (the script tag, served by the
//   Worker: one build of each per combination of optional features, VARIANTS)
//   and pkg/dist/index.js (the npm package, every feature, Wasm inlined);
//   steps: cargo (wasm32, release) → wasm-bindgen → wasm-opt -Oz → esbuild.
// - buildDashboard: dashboard/ → www/dashboard/ (served as static assets).
// - buildWorker: edge/worker → edge/worker/build/ with worker-build, offline:
//   wasm-bindgen, wasm-opt and esbuild come from this machine, not downloads.
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { join, relative } from 'node:path'
import * as esbuild from 'esbuild'
import { root } from './paths.mjs'

const gen = join(root, 'tracker/js/gen')
const bin = (name) => join(root, 'node_modules/.bin', name)
const cargoBin = (name) => join(process.env.CARGO_HOME || join(process.env.HOME, '.cargo'), 'bin', name)
// wasm-opt must not use features the oldest supported browsers lack; these
// are what rustc 1.95 emits for wasm32-unknown-unknown (Chromium ≥ 91, Firefox ≥ 90, Safari ≥ 15).
const wasmFeatures = [
  '--enable-bulk-memory',
  '--enable-reference-types',
  '--enable-nontrapping-float-to-int',
  '--enable-sign-ext',
  '--enable-mutable-globals',
  '--enable-multivalue'
]

function run(command, args, options = {}) {
  execFileSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options })
}

// One source of truth: the feature names (in bit order) live in Rust.
function featureNames() {
  const source = readFileSync(join(root, 'tracker/src/config.rs'), 'utf8')
  const match = source.match(/pub const NAMES: \[&str; \d+\] = \[([^\]]+)\]/)
  if (!match) throw new Error('feature::NAMES not found in tracker/src/config.rs')
  return [...match[1].matchAll(/"([a-z-]+)"/g)].map((m) => m[1])
}

// One source of truth: the default download extensions live in Rust.
function defaultFileTypes() {
  const source = readFileSync(join(root, 'tracker/src/config.rs'), 'utf8')
  const match = source.match(/pub const DEFAULT_FILE_TYPES: &str =\s*"([^"]+)"/)
  if (!match) throw new Error('DEFAULT_FILE_TYPES not found in tracker/src/config.rs')
  return match[1].split(',')
}

/**
 * The tracker's optional features, each with the words that ask for it
 * (tracker/variants.json, which says how they are used; the Worker reads it too).
 */
export const VARIANTS = JSON.parse(readFileSync(join(root, 'tracker/variants.json'), 'utf8')).features

/** The suffix of the build holding `features` (in VARIANTS' order): `script${suffix}.js` and `.wasm`. */
export const suffixOf = (features) => features.map((f) => `.${f}`).join('')

/**
 * The build a Plausible script name (`script.hash.outbound-links.js`) asks for,
 * `script.links.js` there; null for another name (as edge/worker/src/assets.rs).
 */
export function buildFor(file) {
  const match = /^script\.([a-z-]+(?:\.[a-z-]+)*)\.js$/.exec(file)
  if (!match) return null
  const words = match[1].split('.')
  const features = VARIANTS.filter(([, asking]) => asking.some((word) => words.includes(word))).map(([f]) => f)
  return `script${suffixOf(features)}.js`
}

/** Every subset of the optional features, as the Wasm file's name suffix and its Cargo features. */
export function variants() {
  return Array.from({ length: 2 ** VARIANTS.length }, (_, bits) => {
    const features = VARIANTS.filter((_, i) => bits & (1 << i)).map(([feature]) => feature)
    return { suffix: suffixOf(features), features }
  })
}

/** The optional features of tracker/Cargo.toml, which VARIANTS must name, all and only. */
function cargoFeatures() {
  const manifest = readFileSync(join(root, 'tracker/Cargo.toml'), 'utf8')
  const section = manifest.split('[features]')[1].split(/^\[/m)[0]
  return [...section.matchAll(/^([\w-]+) = \[\]/gm)].map((m) => m[1]).filter((f) => f !== 'browser')
}

/** cargo (wasm32, release) → wasm-bindgen → wasm-opt -Oz of the tracker with `features`, into `outDir`. */
function buildWasm(features, outDir, say) {
  say(`cargo build (wasm32-unknown-unknown, release, features: ${features.join(', ') || 'none'})`)
  run('cargo', [
    'build',
    '--quiet',
    '-p',
    'tracker',
    '--release',
    '--target',
    'wasm32-unknown-unknown',
    '--no-default-features',
    '--features',
    ['browser', ...features].join(',')
  ])
  const cargoWasm = join(root, 'target/wasm32-unknown-unknown/release/tracker.wasm')
  // bundler target: the glue is only the import shims (tracker_bg.js); the
  // adapter instantiates the module itself, as a bundler would
  mkdirSync(outDir, { recursive: true })
  run(cargoBin('wasm-bindgen'), [
    '--target',
    'bundler',
    '--out-dir',
    outDir,
    '--out-name',
    'tracker',
    '--no-typescript',
    '--remove-name-section',
    '--remove-producers-section',
    cargoWasm
  ])
  run(bin('wasm-opt'), [
    '-Oz',
    '--strip-debug',
    '--strip-producers',
    ...wasmFeatures,
    join(outDir, 'tracker_bg.wasm'),
    '-o',
    join(outDir, 'tracker_bg.wasm')
  ])
}

/** The names of the import shims wasm-bindgen wrote in `dir`/tracker_bg.js. */
function shimsIn(dir) {
  const glue = readFileSync(join(dir, 'tracker_bg.js'), 'utf8')
  return [...glue.matchAll(/^export function (__wbg_\w+|__wbindgen_\w+)\(/gm)]
    .map((m) => m[1])
    .filter((n) => n !== '__wbg_set_wasm')
}

export async function buildTracker({ quiet = false } = {}) {
  const say = (m) => quiet || console.log(`build-tracker: ${m}`)
  const optional = VARIANTS.map(([feature]) => feature)
  const declared = cargoFeatures()
  if (declared.sort().join() !== [...optional].sort().join())
    throw new Error(`tracker/Cargo.toml's features (${declared}) and VARIANTS (${optional}) differ`)
  // all features: the npm package's Wasm, and the glue every build shares
  buildWasm(optional, gen, say)
  const shims = shimsIn(gen)
  mkdirSync(join(root, 'www/js'), { recursive: true })
  const variantsDir = join(root, 'target/tracker-variants')
  for (const { suffix, features } of variants()) {
    const dir = join(variantsDir, suffix || 'default')
    buildWasm(features, dir, say)
    // the scripts are bundled with the shims of the build with every feature: each build must import only those
    const extra = shimsIn(dir).filter((shim) => !shims.includes(shim))
    if (extra.length) throw new Error(`the Wasm build ${suffix || 'default'} imports ${extra}, which the script lacks`)
    copyFileSync(join(dir, 'tracker_bg.wasm'), join(root, `www/js/script${suffix}.wasm`))
  }

  // The Wasm module's imports, as wasm-bindgen's bundler target defines them:
  // module './tracker_bg.js', one shim per import. A virtual module lists only
  // those (an `import *` would also bundle the unused JS export wrappers).
  const wasmImports = {
    name: 'wasm-imports',
    setup(build) {
      build.onResolve({ filter: /^wasm-imports$/ }, () => ({ path: 'wasm-imports', namespace: 'wasm-imports' }))
      build.onLoad({ filter: /.*/, namespace: 'wasm-imports' }, () => ({
        resolveDir: gen,
        contents: `import { __wbg_set_wasm, ${shims.join(', ')} } from './tracker_bg.js'
export var setWasm = __wbg_set_wasm
export var imports = { './tracker_bg.js': { ${shims.join(', ')} } }`
      }))
    }
  }
  const common = {
    plugins: [wasmImports],
    bundle: true,
    minify: true,
    target: 'es2017',
    legalComments: 'none',
    logLevel: 'warning'
  }
  // the adapter's code for a feature (its listeners) only in the builds that have it
  const flags = (features) => ({
    LINKS: String(features.includes('links')),
    TAGGED: String(features.includes('tagged-events')),
    FORMS: String(features.includes('form-submissions'))
  })
  say('esbuild → www/js/script*.js')
  for (const { suffix, features } of variants()) {
    // NPM: code for the npm API's options only (customProperties, transformRequest)
    await esbuild.build({
      ...common,
      entryPoints: [join(root, 'tracker/js/script.js')],
      format: 'iife',
      define: {
        NPM: 'false',
        ...flags(features),
        __FEATURE_NAMES__: JSON.stringify(featureNames()),
        __VARIANTS__: JSON.stringify(VARIANTS),
        __FEATURES__: JSON.stringify(features)
      },
      outfile: join(root, `www/js/script${suffix}.js`)
    })
  }

  say('esbuild → pkg/dist/index.js')
  await esbuild.build({
    ...common,
    entryPoints: [join(root, 'tracker/js/npm.js')],
    format: 'esm',
    loader: { '.wasm': 'binary' },
    define: {
      __DEFAULT_FILE_TYPES__: JSON.stringify(defaultFileTypes()),
      NPM: 'true',
      ...flags(VARIANTS.map(([feature]) => feature)),
      __FEATURE_NAMES__: JSON.stringify(featureNames())
    },
    outfile: join(root, 'pkg/dist/index.js')
  })
  return {
    scriptJs: join(root, 'www/js/script.js'),
    scriptWasm: join(root, 'www/js/script.wasm'),
    variants: variants().map(({ suffix, features }) => ({
      features,
      js: join(root, `www/js/script${suffix}.js`),
      wasm: join(root, `www/js/script${suffix}.wasm`)
    })),
    npmJs: join(root, 'pkg/dist/index.js')
  }
}

/** The dashboard: one JS bundle (with uPlot), one stylesheet, the page. */
export async function buildDashboard() {
  const out = join(root, 'www/dashboard')
  // the chunks' names change with their content: none of an earlier build is left behind
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  await esbuild.build({
    entryPoints: { app: join(root, 'dashboard/main.js') },
    bundle: true,
    minify: true,
    // what only one view needs (the QR code of the second factor's set-up) loads with that view
    splitting: true,
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    target: ['es2020'],
    outdir: out,
    logLevel: 'warning'
  })
  await esbuild.build({
    entryPoints: { app: join(root, 'dashboard/style.css') },
    bundle: true,
    minify: true,
    outdir: out,
    logLevel: 'warning'
  })
  copyFileSync(join(root, 'dashboard/index.html'), join(out, 'index.html'))
}

/** The Worker's Wasm and JS shim; `dev` skips wasm-opt (a faster, larger build). */
export function buildWorker({ dev = false } = {}) {
  // every start of `wrangler dev` runs this: a build newer than every Rust
  // source and manifest of the edge, of the same kind, is kept (wasm-opt alone takes ~15 s)
  const stamp = join(root, 'edge/worker/build/.built')
  const kind = dev ? 'dev' : 'release'
  const inputs = [
    'Cargo.toml',
    'Cargo.lock',
    'rust-toolchain.toml',
    '.cargo/config.toml',
    ...sources(join(root, 'edge'))
  ]
  const newest = Math.max(...inputs.map((file) => statSync(join(root, file)).mtimeMs))
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === kind && statSync(stamp).mtimeMs > newest) {
    console.log(`build-worker: the ${kind} build in edge/worker/build is current`)
    return
  }
  execFileSync(cargoBin('worker-build'), dev ? ['--dev', '--no-opt'] : ['--release'], {
    cwd: join(root, 'edge/worker'),
    stdio: 'inherit',
    env: {
      ...process.env,
      WASM_BINDGEN_BIN: cargoBin('wasm-bindgen'),
      WASM_OPT_BIN: bin('wasm-opt'),
      ESBUILD_BIN: bin('esbuild')
    }
  })
  writeFileSync(stamp, kind)
}

/** The edge crates' sources and manifests, relative to the root (not their build output). */
function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'build' || entry.name === 'target' ? [] : sources(path)
    return /\.(rs|toml)$/.test(entry.name) ? [relative(root, path)] : []
  })
}
