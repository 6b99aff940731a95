#!/usr/bin/env bash
# Fuzz smoke test: builds every cargo-fuzz target and runs each one for
# ${FUZZ_SECONDS:-20} seconds, without a sanitizer (`-s none`: the crate
# forbids `unsafe`), on a scratch copy of its seed corpus, so the checked-in
# corpus is never written to. Prints the executions per target and exits 1
# if any target crashes (a violated invariant panics), times out or runs
# out of memory; the failing input is left in fuzz/artifacts/<target>/.
#
# Needs a nightly toolchain; installs cargo-fuzz 0.13.2 (pinned) if
# `cargo +nightly fuzz` is missing or another version. Usage: bash fuzz/smoke.sh        (from anywhere)
#                    FUZZ_SECONDS=60 bash fuzz/smoke.sh
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-20}"

CARGO_FUZZ_VERSION=0.13.2
if [ "$(cargo +nightly fuzz --version 2>/dev/null)" != "cargo-fuzz ${CARGO_FUZZ_VERSION}" ]; then
    echo "==> installing cargo-fuzz ${CARGO_FUZZ_VERSION}"
    cargo install cargo-fuzz --locked --version "${CARGO_FUZZ_VERSION}"
fi

echo "==> building the fuzz targets (nightly, no sanitizer)"
cargo +nightly fuzz build -s none

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in $(cargo +nightly fuzz list); do
    mkdir -p "$scratch/corpus/$target"
    if [ -d "corpus/$target" ]; then
        cp -R "corpus/$target/." "$scratch/corpus/$target/"
    fi
    extra=()
    # Only 64-byte inputs are checked (a public and a secret key).
    if [ "$target" = sealing_key_checks ]; then
        extra=(-max_len=64)
    fi
    log="$scratch/$target.log"
    if cargo +nightly fuzz run -s none "$target" "$scratch/corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1; then
        runs="$(grep -Eo 'Done [0-9]+ runs' "$log" | tail -n 1 | grep -Eo '[0-9]+' || true)"
        cov="$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+' || true)"
        printf '%-20s ok    %12s executions in %ss (cov %s)\n' \
            "$target" "${runs:-?}" "$seconds" "${cov:-?}"
    else
        printf '%-20s FAILED\n' "$target"
        tail -n 60 "$log"
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz smoke test failed: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz smoke test passed"
