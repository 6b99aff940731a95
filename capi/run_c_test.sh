#!/usr/bin/env bash
# Builds the C ABI (static library), checks that capi/include/letterseal.h is
# what cbindgen 0.29.4 generates from the sources (when cbindgen is
# installed, or with --require-cbindgen), then compiles capi/tests/chat.c
# with gcc and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v cbindgen >/dev/null 2>&1; then
    generated="$(mktemp)"
    cbindgen --quiet --config capi/cbindgen.toml --crate letterseal-capi --output "$generated"
    diff -u capi/include/letterseal.h "$generated"
    rm -f "$generated"
    echo "capi/include/letterseal.h is up to date"
elif [ "${1:-}" = "--require-cbindgen" ]; then
    echo "cbindgen is not installed" >&2
    exit 1
fi
cargo build -q -p letterseal-capi
target="${CARGO_TARGET_DIR:-target}/debug"
out="$(mktemp -d)"
gcc -std=c11 -Wall -Wextra -Werror -O1 -Icapi/include capi/tests/chat.c \
    "$target/libletterseal_capi.a" -lpthread -ldl -lm -o "$out/chat"
"$out/chat"
rm -rf "$out"
