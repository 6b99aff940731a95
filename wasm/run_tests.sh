#!/usr/bin/env bash
# Builds letterseal-wasm for wasm32-unknown-unknown, generates the JS glue and TypeScript types with
# the pinned wasm-bindgen (wasm/bindgen, a workspace tool crate on wasm-bindgen-cli-support), runs
# the JS scenario in Node's test runner and in headless Chromium, then prints the .wasm size (raw,
# gzipped, and after wasm-opt -Oz) and, unless --no-timing, the cost against native Rust.
# Installs what is missing (the wasm32 target, Debian's chromium, npm ci: playwright-core, binaryen).
# Usage: bash wasm/run_tests.sh [--no-timing] [--ci]
#   --ci: one build only (the shipping profile, with the test-only trap export), its size, no
#         wasm-opt and no timing: CI's minutes go to the tests, the measurements live in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
timing=1
ci=0
for arg in "$@"; do
    case "$arg" in
        --no-timing) timing=0 ;;
        --ci) ci=1; timing=0 ;;
        *) echo "usage: $0 [--no-timing] [--ci]" >&2; exit 2 ;;
    esac
done

TARGET=wasm32-unknown-unknown
# The wasm release profile, chosen for size (see wasm/README.md, "Size"): given here rather than in
# the root Cargo.toml's [profile.release], which the native builds use.
PROFILE=(--release
    --config 'profile.release.opt-level="s"'
    --config 'profile.release.lto="fat"'
    --config 'profile.release.codegen-units=1'
    --config 'profile.release.panic="abort"'
    --config 'profile.release.debug=false')

# Each step prints the seconds the previous one took.
step_start=$SECONDS
step_name=""
step() {
    [ -z "$step_name" ] || printf -- '--- wasm: %s: %d s\n' "$step_name" $((SECONDS - step_start))
    step_name="$*"
    step_start=$SECONDS
    printf '\n--- wasm: %s\n' "$*"
}
trap 'step done' EXIT

step "toolchain and tools"
bash wasm/install_toolchain.sh
/usr/bin/chromium --version

target_dir=$(cargo metadata --format-version 1 --no-deps \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
wasm_file="$target_dir/$TARGET/release/letterseal_wasm.wasm"

# Builds the module (with the features given) and generates wasm/pkg/node and wasm/pkg/web.
build() {
    cargo build -q --locked -p letterseal-wasm --target "$TARGET" "${PROFILE[@]}" "$@"
    rm -rf wasm/pkg
    "${bindgen[@]}" "$wasm_file" wasm/pkg/node nodejs
    "${bindgen[@]}" "$wasm_file" wasm/pkg/web web
}
# LETTERSEAL_PREBUILT_DIR (CI): the bindgen tool is already built there (with the workspace's
# features, so nothing is compiled twice).
if [ -n "${LETTERSEAL_PREBUILT_DIR:-}" ]; then
    bindgen=("$LETTERSEAL_PREBUILT_DIR/letterseal-wasm-bindgen")
else
    bindgen=(cargo run -q --locked -p letterseal-wasm-bindgen --)
fi

step "build with the test-only trap export (feature test-trap), generate bindings"
build --features test-trap

step "Node $(node --version): node --test"
node --test wasm/tests/node.test.mjs

step "headless Chromium (playwright-core $(node -p 'require("./wasm/node_modules/playwright-core/package.json").version'))"
node wasm/tests/browser/run.mjs

size() { printf '%-28s %8d bytes raw, %8d bytes gzip -9\n' "$1" "$(wc -c <"$2")" "$(gzip -9 -c "$2" | wc -c)"; }
wasm=wasm/pkg/web/letterseal_wasm_bg.wasm
if [ "$ci" = 1 ]; then
    size "letterseal_wasm_bg.wasm (with the test export)" "$wasm"
    exit 0
fi

step "build without the test export (what ships), generate bindings"
build
size "letterseal_wasm_bg.wasm" "$wasm"
# wasm-opt from npm's binaryen (pinned in package.json; Debian bookworm's binaryen 108 turns the
# externref table into one the glue cannot initialise: the module no longer loads). Only measured:
# pkg/ keeps the unoptimised module. The optimised one must still load and run the timing loop.
wasm_opt=wasm/node_modules/.bin/wasm-opt
opt_dir=$(mktemp -d)
cp wasm/pkg/node/* "$opt_dir/"
"$wasm_opt" -Oz "$wasm" -o "$opt_dir/letterseal_wasm_bg.wasm"
size "after wasm-opt -Oz ($("$wasm_opt" --version | head -n 1))" "$opt_dir/letterseal_wasm_bg.wasm"
LETTERSEAL_WASM_PKG="$opt_dir" node wasm/tests/timing.mjs 20 >/dev/null

if [ "$timing" = 1 ]; then
    step "timing: 1 KiB seal_to_user + receive, wasm in Node vs native (release both)"
    native=$(cargo run -q --locked --release -p letterseal-ffi --example seal_open_native -- 3000)
    echo "$native"
    node wasm/tests/timing.mjs 3000 "$native"
    echo "the same after wasm-opt -Oz:"
    LETTERSEAL_WASM_PKG="$opt_dir" node wasm/tests/timing.mjs 3000 "$native"
fi
rm -rf "$opt_dir"
