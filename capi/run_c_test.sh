#!/usr/bin/env bash
# The C ABI's checks. Usage: bash capi/run_c_test.sh [header|program|all|timing [N]]   (default: all)
#   header:  capi/include/letterseal.h is exactly what cbindgen 0.29.4 generates from capi/src
#            (installs that cbindgen with `cargo install --locked` if it is missing)
#   program: builds the static library, compiles capi/tests/chat.c with gcc -Wall -Wextra -Werror
#            and runs it
#   timing:  not a check and not part of `all` (outside CI): release builds of the static library and
#            of ffi/examples/seal_open_native.rs, then capi/timing/seal_open.c (gcc -O2) times N
#            (default 500) 1 KiB seal_to_user+receive round trips through the C ABI beside the same
#            loop in Rust, and prints the ratio. Nothing is asserted about speed.
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
    # LETTERSEAL_PREBUILT_DIR (CI): the static library is already built there.
    if [ -n "${LETTERSEAL_PREBUILT_DIR:-}" ]; then
        target="$LETTERSEAL_PREBUILT_DIR"
    else
        cargo build -q --locked -p letterseal-capi
        target="${CARGO_TARGET_DIR:-target}/debug"
    fi
    out="$(mktemp -d)"
    gcc -std=c11 -Wall -Wextra -Werror -O1 -Icapi/include capi/tests/chat.c \
        "$target/libletterseal_capi.a" -lpthread -ldl -lm -o "$out/chat"
    "$out/chat"
    rm -rf "$out"
fi

if [ "$mode" = timing ]; then
    iterations="${2:-500}"
    cargo build -q --locked --release -p letterseal-capi --lib
    target="${CARGO_TARGET_DIR:-target}/release"
    out="$(mktemp -d)"
    gcc -std=c11 -Wall -Wextra -Werror -O2 -Icapi/include capi/timing/seal_open.c \
        "$target/libletterseal_capi.a" -lpthread -ldl -lm -o "$out/seal_open"
    native=$(cargo run -q --locked --release -p letterseal-ffi --example seal_open_native -- "$iterations")
    c=$("$out/seal_open" "$iterations")
    rm -rf "$out"
    echo "1 KiB seal_to_user+receive, $iterations iterations, release profile:"
    awk -v n="${native#*=}" -v c="${c#*=}" \
        'BEGIN { printf "  native Rust: %.1f us   C ABI: %.1f us   ratio %.2f\n", n, c, c / n }'
fi
