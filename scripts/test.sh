#!/usr/bin/env bash
# Every test, in order of cost: style, native units, the same units in headless
# Chromium, the release build, then the browser end-to-end suites.
# Needs what `scripts/setup.sh test` installs; `npm test` runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"

step() { printf '\n== %s\n' "$*"; }

step "layers (docs/architecture.md), format and lints (Rust, and the JS with Biome)"
node scripts/check-layers.mjs
node_modules/.bin/biome check
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo clippy -p tracker --release --target wasm32-unknown-unknown --features browser --quiet -- -D warnings
# the default script tag's build: no optional feature (tracker/Cargo.toml)
cargo clippy -p tracker --no-default-features --all-targets --quiet -- -D warnings
cargo clippy -p tracker --release --target wasm32-unknown-unknown --no-default-features --features browser --quiet -- -D warnings
cargo clippy -p edge-worker --target wasm32-unknown-unknown --quiet -- -D warnings

step "generated data is current (scripts/update-data.mjs)"
node scripts/update-data.mjs --check

step "the production deploy builds: wrangler deploy --dry-run --env production (docs/deploy-cloudflare.md)"
dry_run="$(WRANGLER_SEND_METRICS=false node_modules/.bin/wrangler deploy --dry-run --env production --outdir target/deploy-dry-run 2>&1)" || { echo "$dry_run"; exit 1; }
if grep -q "WARNING" <<<"$dry_run"; then echo "$dry_run"; echo "wrangler.toml: the production environment has warnings"; exit 1; fi
grep -E "Total Upload" <<<"$dry_run"

step "unit tests (native; the tracker also without its optional features)"
cargo test --workspace --quiet
cargo test -p tracker --no-default-features --quiet

step "coverage-guided fuzzing of the ingest pipeline and the Stats API query, 10 s each (scripts/fuzz.mjs)"
node scripts/fuzz.mjs --seconds 10

step "unit tests in headless Chromium (wasm-bindgen-test)"
cargo test -p tracker --target wasm32-unknown-unknown

step "release build of the tracker (the browser suites run against it)"
node scripts/build-tracker.mjs --quiet

step "sizes (fails above the reached figures; the goals are reported: docs/size.md)"
node scripts/size.mjs --no-build

step "end-to-end tests: browser (parity with Plausible's tracker, npm package, page safety), local ClickHouse, the edge worker under wrangler dev"
node --test --test-concurrency=1 tests/*.test.mjs
