#!/usr/bin/env bash
# Installs what the Kotlin suite needs, pinned and only if missing: kotlin-compiler 2.4.20 from
# npm (package-lock.json, into ffi/kotlin/node_modules) and JNA from Debian (libjna-java,
# /usr/share/java/jna.jar; apt-get needs root). Network-bound: CI starts it early, in the
# background, and run_tests.sh calls it again (then it does nothing).
set -euo pipefail
kotlin_dir="$(cd "$(dirname "$0")" && pwd)"
KOTLIN_VERSION=2.4.20
if [ "$(node -p 'require(process.argv[1]).version' "$kotlin_dir/node_modules/kotlin-compiler/package.json" 2>/dev/null)" \
        != "$KOTLIN_VERSION" ]; then
    (cd "$kotlin_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -f /usr/share/java/jna.jar ]; then
    apt-get update -qq && apt-get install -y -qq libjna-java >/dev/null
fi
