#!/usr/bin/env bash
# Builds letterseal-ffi, generates the Python bindings with the bundled (pinned) UniFFI bindgen,
# runs the pytest suite, then times 1 KiB seal+open through Python against the same loop in Rust.
# Usage: bash ffi/python/run_tests.sh [--no-timing] [--release]
#   --release: the library (tested and timed) and the native loop are built in the release profile
#              instead of dev (outside CI: a release build of the dependencies takes minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
timing=1
profile=dev
for arg in "$@"; do
    case "$arg" in
        --no-timing) timing=0 ;;
        --release) profile=release ;;
        *) echo "usage: $0 [--no-timing] [--release]" >&2; exit 2 ;;
    esac
done
if [ "$profile" = release ]; then
    cargo_profile=(--release)
    profile_dir=release
else
    cargo_profile=()
    profile_dir=debug
fi

PYTEST_VERSION=8.4.2
PACKAGE=ffi/python/letterseal

# LETTERSEAL_PREBUILT_DIR (CI): a directory holding the library and `uniffi-bindgen` already
# built (with the whole workspace's features, so nothing is compiled twice); nothing is built here.
if [ -n "${LETTERSEAL_PREBUILT_DIR:-}" ]; then
    lib_dir="$LETTERSEAL_PREBUILT_DIR"
    bindgen=("$lib_dir/uniffi-bindgen")
else
    cargo build -q -p letterseal-ffi --lib --features auditor "${cargo_profile[@]}"
    target_dir=$(cargo metadata --format-version 1 --no-deps \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    lib_dir="$target_dir/$profile_dir"
    bindgen=(cargo run -q -p letterseal-ffi --features auditor --bin uniffi-bindgen --)
fi
case "$(uname -s)" in
    Darwin) library="$lib_dir/libletterseal_ffi.dylib" ;;
    *) library="$lib_dir/libletterseal_ffi.so" ;;
esac
"${bindgen[@]}" generate --library "$library" --language python --out-dir "$PACKAGE"
cp "$library" "$PACKAGE/"

python3 -c 'import importlib.metadata as m, sys; sys.exit(m.version("pytest") != sys.argv[1])' \
    "$PYTEST_VERSION" 2>/dev/null || python3 -m pip install --quiet "pytest==$PYTEST_VERSION"
python3 -m pytest -q -p no:cacheprovider ffi/python/tests

if [ "$timing" = 1 ]; then
    # The same profile on both sides, so the ratio is the cost of crossing the boundary.
    native=$(cargo run -q -p letterseal-ffi "${cargo_profile[@]}" --example seal_open_native -- 300)
    python3 ffi/python/timing.py "$native" 300 "$profile"
fi
