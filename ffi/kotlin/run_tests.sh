#!/usr/bin/env bash
# Builds letterseal-ffi, generates the Kotlin bindings with the bundled (pinned) UniFFI bindgen,
# compiles them with the tests (ffi/kotlin/tests) using the pinned Kotlin compiler, runs the tests
# on the JVM through JNA, then (unless --no-timing) times 1 KiB seal+open through Kotlin against
# the same loop in Rust, both in the release profile.
# Usage: bash ffi/kotlin/run_tests.sh [--no-timing]
#
# Needs: Java 17+ (`java`), npm (installs kotlin-compiler 2.4.20 from package-lock.json into
# ffi/kotlin/node_modules, git-ignored) and JNA (Debian's libjna-java: /usr/share/java/jna.jar,
# installed with apt-get if missing). Compiled output goes to ffi/kotlin/build (git-ignored); the
# compile step is skipped when its inputs (generated code, tests, compiler) are unchanged.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
kotlin_dir="$root/ffi/kotlin"
build="$kotlin_dir/build"
timing=1
case "${1:-}" in
    "") ;;
    --no-timing) timing=0 ;;
    *) echo "usage: $0 [--no-timing]" >&2; exit 2 ;;
esac

# --- Toolchain: pinned, idempotent ------------------------------------------------------------
bash "$kotlin_dir/install_toolchain.sh"
kotlin_home="$kotlin_dir/node_modules/kotlin-compiler"
KOTLIN_VERSION=$(node -p 'require(process.argv[1]).version' "$kotlin_home/package.json")
kotlinc="$kotlin_home/bin/kotlinc-jvm"
kotlin_lib="$kotlin_home/lib"
JNA_JAR=/usr/share/java/jna.jar
java -version 2>&1 | head -n 1

# --- Library and generated bindings ---------------------------------------------------------------
target_dir=$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
case "$(uname -s)" in
    Darwin) lib_name=libletterseal_ffi.dylib ;;
    *) lib_name=libletterseal_ffi.so ;;
esac

# Generates Kotlin from a built library into $2 and compiles it with the Kotlin files $3... into
# $1/classes, unless the same inputs were compiled before.
compile() {
    local out="$1" library="$2"
    shift 2
    mkdir -p "$out"
    rm -rf "$out/generated"
    "${bindgen[@]}" generate --no-format --library "$library" --language kotlin --out-dir "$out/generated"
    local stamp
    stamp=$( (echo "$KOTLIN_VERSION"; cat "$JNA_JAR"; find "$out/generated" "$@" -type f -name '*.kt' \
        | sort | xargs cat) | sha256sum | cut -d' ' -f1)
    if [ -f "$out/classes/.stamp" ] && [ "$(cat "$out/classes/.stamp")" = "$stamp" ]; then
        return
    fi
    rm -rf "$out/classes"
    # -Werror: a warning in the generated code or the tests fails the build.
    local sources
    mapfile -t sources < <(find "$out/generated" "$@" -type f -name '*.kt' | sort)
    if ! "$kotlinc" -Werror -jvm-target 17 -cp "$JNA_JAR:$kotlin_lib/kotlin-test.jar" \
            -d "$out/classes" "${sources[@]}"; then
        echo "kotlinc failed" >&2
        exit 1
    fi
    echo "$stamp" > "$out/classes/.stamp"
}

run_kotlin() {
    local classes="$1" library_dir="$2" main="$3"
    shift 3
    java -cp "$classes:$kotlin_lib/kotlin-stdlib.jar:$kotlin_lib/kotlin-test.jar:$JNA_JAR" \
        -Djna.library.path="$library_dir" -Djna.nosys=true "$main" "$@"
}

# The tests use a library built with the `test-hooks` feature (one extra export that panics inside
# the boundary's guard, so the Panic mapping is tested end to end).
# LETTERSEAL_PREBUILT_DIR (CI): a directory holding the library (with the feature `test-hooks`) and `uniffi-bindgen` already
# built (with the whole workspace's features, so nothing is compiled twice); nothing is built here.
if [ -n "${LETTERSEAL_PREBUILT_DIR:-}" ]; then
    test_lib_dir="$LETTERSEAL_PREBUILT_DIR"
    bindgen=("$test_lib_dir/uniffi-bindgen")
else
    cargo build -q --locked -p letterseal-ffi --features test-hooks,auditor
    test_lib_dir="$target_dir/debug"
    bindgen=(cargo run -q --locked -p letterseal-ffi --features test-hooks,auditor --bin uniffi-bindgen --)
fi
compile "$build/test" "$test_lib_dir/$lib_name" "$kotlin_dir/tests"
# The panic test prints Rust's panic messages ("thread ... panicked at ffi/src/lib.rs") on stderr:
# that is the default panic hook reporting a caught panic; without a backtrace to keep logs short.
RUST_BACKTRACE=0 run_kotlin "$build/test/classes" "$test_lib_dir" AccountTestsKt

if [ "$timing" = 1 ]; then
    # Release profile on both sides, the shipped feature set (no test hooks).
    iterations=2000
    cargo build -q --locked --release -p letterseal-ffi --lib
    compile "$build/timing" "$target_dir/release/$lib_name" "$kotlin_dir/timing"
    native=$(cargo run -q --locked --release -p letterseal-ffi --example seal_open_native -- "$iterations")
    run_kotlin "$build/timing/classes" "$target_dir/release" TimingKt "${native#*=}" "$iterations"
fi
