#!/usr/bin/env bash
# Installs what the wasm suite needs, pinned and only if missing: the wasm32-unknown-unknown
# target (rustup), Debian's chromium (apt-get, needs root; playwright-core only drives it) and the
# npm packages of package-lock.json (playwright-core, binaryen). Network-bound: CI starts it early,
# in the background, and run_tests.sh calls it again (then it does nothing).
set -euo pipefail
cd "$(dirname "$0")"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if [ ! -x /usr/bin/chromium ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ ! -f node_modules/playwright-core/package.json ] \
    || ! cmp -s package-lock.json node_modules/.package-lock.json.ci 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.package-lock.json.ci
fi
