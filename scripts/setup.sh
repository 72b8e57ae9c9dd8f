#!/usr/bin/env bash
# Installs what this machine lacks, skipping what is already there at the right
# version; `npm start` (setup.sh run) and `npm test` (setup.sh test) call it first,
# and so .ci/run does through `npm test`. A bare machine needs only what npm itself
# needs (Node.js with npm), python3 with pip, and rustup or curl.
#   build: what building the tracker and the Worker needs: Rust with the wasm32
#          target, wasm-bindgen-cli, worker-build, the npm packages (the
#          container image, deploy/container/Containerfile)
#   run:   what `npm start` needs: the build's, and chDB (the local ClickHouse)
#   test:  the same, plus Debian's chromium + chromedriver (browser tests), a C++
#          compiler (libFuzzer), kubectl (renders the Kubernetes manifests),
#          kubernetes-validate (checks them against Kubernetes' schemas) and
#          aiosmtpd (the SMTP server the e-mail tests send to)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-test}"
case "$profile" in build | run | test) ;; *) echo "usage: scripts/setup.sh build|run|test" >&2; exit 2 ;; esac

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate pinned in Cargo.toml
WORKER_BUILD_VERSION=0.8.7
CHDB_VERSION=26.9.0            # as clickhouse/requirements.txt pins it
KUBERNETES_VALIDATE_VERSION=1.37.0
AIOSMTPD_VERSION=1.4.6         # as tests/requirements.txt pins it

step() { printf '== setup: %s\n' "$*"; }
# Debian packages, installed as root or through sudo
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${apt_updated:-}" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! command -v rustup >/dev/null && [ -x "$HOME/.cargo/bin/rustup" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi
if ! command -v rustup >/dev/null; then
  step "rustup (the toolchain itself comes from rust-toolchain.toml)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
  export PATH="$HOME/.cargo/bin:$PATH"
fi
rustup show active-toolchain >/dev/null   # installs the rust-toolchain.toml channel if missing
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # not --locked: its lockfile pins a crate version the registry lacks
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
  step "worker-build $WORKER_BUILD_VERSION (builds the edge worker)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

if [ "$profile" != build ] && ! python3 -c "import sys, chdb; sys.exit(chdb.__version__ != '$CHDB_VERSION')" 2>/dev/null; then
  step "chdb-core $CHDB_VERSION (the local ClickHouse)"
  python3 -m pip install --quiet --disable-pip-version-check -r clickhouse/requirements.txt
fi

if [ "$profile" = test ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "chromium and chromedriver (Debian)"
    apt_install chromium chromium-driver
  fi
  if ! command -v c++ >/dev/null; then
    step "a C++ compiler (libFuzzer, built for the fuzz targets: scripts/fuzz.mjs)"
    apt_install g++
  fi
  if ! command -v kubectl >/dev/null; then
    step "kubectl (Debian's kubernetes-client: renders deploy/kubernetes with kustomize)"
    apt_install kubernetes-client
  fi
  if ! python3 -c "import sys, importlib.metadata as m; sys.exit(m.version('aiosmtpd') != '$AIOSMTPD_VERSION')" 2>/dev/null; then
    step "aiosmtpd $AIOSMTPD_VERSION (the SMTP server the e-mail tests send to)"
    python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
  fi
  if ! python3 -c "import sys, importlib.metadata as m; sys.exit(m.version('kubernetes-validate') != '$KUBERNETES_VALIDATE_VERSION')" 2>/dev/null; then
    step "kubernetes-validate $KUBERNETES_VALIDATE_VERSION (Kubernetes' schemas)"
    python3 -m pip install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  fi
fi

# npm ci when node_modules is missing or was installed from another lockfile
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.setup-package-lock.json; then
  step "npm packages (npm ci: wrangler, workerd, esbuild, and the Node 22 they need)"
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.setup-package-lock.json
fi
