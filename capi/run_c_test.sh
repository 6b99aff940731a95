#!/usr/bin/env bash
# The C ABI's checks. Usage: bash capi/run_c_test.sh [header|program|all]   (default: all)
#   header:  capi/include/letterseal.h is exactly what cbindgen 0.29.4 generates from capi/src
#            (installs that cbindgen with `cargo install --locked` if it is missing)
#   program: builds the static library, compiles capi/tests/chat.c with gcc -Wall -Wextra -Werror
#            and runs it
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
CBINDGEN_VERSION=0.29.4

if [ "$mode" = header ] || [ "$mode" = all ]; then
    if [ "$(cbindgen --version 2>/dev/null)" != "cbindgen ${CBINDGEN_VERSION}" ]; then
        # A debug build compiles faster; generating the header takes well under a second.
        cargo install --locked --debug cbindgen --version "${CBINDGEN_VERSION}"
    fi
    generated="$(mktemp)"
    cbindgen --quiet --config capi/cbindgen.toml --crate letterseal-capi --output "$generated"
    diff -u capi/include/letterseal.h "$generated"
    rm -f "$generated"
    echo "capi/include/letterseal.h is what cbindgen ${CBINDGEN_VERSION} generates"
fi

if [ "$mode" = program ] || [ "$mode" = all ]; then
    cargo build -q --locked -p letterseal-capi
    target="${CARGO_TARGET_DIR:-target}/debug"
    out="$(mktemp -d)"
    gcc -std=c11 -Wall -Wextra -Werror -O1 -Icapi/include capi/tests/chat.c \
        "$target/libletterseal_capi.a" -lpthread -ldl -lm -o "$out/chat"
    "$out/chat"
    rm -rf "$out"
fi
