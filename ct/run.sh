#!/usr/bin/env bash
# ct/run.sh — ctgrind-style constant-time check of letterseal under valgrind.
#
# Builds ct-check (release, full debug info) twice — "native" (the AES, GHASH
# and SHA-256 backends chosen at run time from valgrind's CPU: AES-NI and
# PCLMULQDQ, software SHA-256) and "soft" (software AES, GHASH and SHA-256
# forced with --cfg) — and for each runs under memcheck:
#   1. check:    every case, with supp/decisions.supp (public accept/reject
#                decisions) and supp/known.supp (known findings, see
#                README.md "Findings"); ANY other report fails the run;
#   2. control:  `ct-check --control`; fails unless valgrind reports every
#                deliberately leaky control case (the check can fail);
#   3. taint:    `ct-check --no-declassify` without suppressions; fails unless
#                every case gets a report (its secrets reach its result, i.e.
#                the marks were not optimised away and the case tests something).
# Exit status 0 only if all three pass for every backend.
#
# Usage: ct/run.sh [--strict] [--raw] [--backend native|soft|both]
#                  [--no-self-test] [--gen-suppressions] [-- CASE-FILTER...]
#   --strict            do not load supp/known.supp (fails on the known findings)
#   --raw               load no suppression file (review every report; fails)
#   --backend B         build and run one backend only (default: both)
#   --no-self-test      skip steps 2 and 3
#   --gen-suppressions  write a suppression entry for every unsuppressed report
#                       of step 1 into its log (with --raw: for every report)
#   -- FILTER...        run only the cases whose name contains a FILTER
# Environment: VALGRIND (default valgrind), CARGO (default cargo),
#   CT_CARGO_FLAGS (extra cargo build flags, e.g. --offline),
#   VALGRIND_INCLUDE (directory holding valgrind/memcheck.h, if not standard).
# Logs: ct/target/ct-logs/<backend>-{check,control,taint}.log, and the
#   suppression files as used (anchored lines re-pinned): ct/target/ct-logs/*.supp
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

VALGRIND="${VALGRIND:-valgrind}"
CARGO="${CARGO:-cargo}"
strict=0
raw=0
backends=(native soft)
self_test=1
gen=0
filters=()
while (($#)); do
    case "$1" in
        --strict) strict=1 ;;
        --raw) raw=1 ;;
        --backend)
            shift
            case "${1:-}" in
                native | soft) backends=("$1") ;;
                both) backends=(native soft) ;;
                *) echo "run.sh: --backend native|soft|both" >&2; exit 2 ;;
            esac
            ;;
        --no-self-test) self_test=0 ;;
        --gen-suppressions) gen=1 ;;
        --) shift; filters=("$@"); break ;;
        -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

command -v "$VALGRIND" >/dev/null || { echo "run.sh: valgrind not found" >&2; exit 2; }
command -v "$CARGO" >/dev/null || { echo "run.sh: cargo not found" >&2; exit 2; }

# Software backends of the RustCrypto crates (and curve25519-dalek's serial
# field arithmetic, which the X25519 ladder uses in both builds anyway).
soft_cfgs='--cfg aes_backend="soft" --cfg polyval_backend="soft" --cfg sha2_backend="soft" --cfg curve25519_dalek_backend="serial"'

logdir="$here/target/ct-logs"
mkdir -p "$logdir"

# Directory of a locked dependency's sources (for `#@ dep:CRATE/PATH` anchors).
dep_dir() {
    "$CARGO" metadata --format-version 1 --locked ${CT_CARGO_FLAGS:-} \
        --manifest-path "$here/Cargo.toml" 2>/dev/null |
        grep -o "\"manifest_path\":\"[^\"]*/$1-[0-9][^/\"]*/Cargo.toml\"" | head -1 |
        sed 's/^"manifest_path":"//; s#/Cargo.toml"$##'
}

# Copies a suppression file to $logdir, re-pinning every anchored `src:` line
# (see supp/decisions.supp) to the line its anchor text is on now.
resolve_supp() {
    local in="$1" out="$2" pending="" file text path n count
    : >"$out"
    while IFS= read -r line; do
        if [[ $line == '#@ '* ]]; then
            pending="${line#'#@ '}"
        elif [[ -n $pending && $line =~ ^([[:space:]]*src:[^:]+:)([0-9]+)[[:space:]]*$ ]]; then
            file="${pending%%: *}"
            text="${pending#*: }"
            if [[ $file == dep:* ]]; then
                file="${file#dep:}"
                path="$(dep_dir "${file%%/*}")/${file#*/}"
            else
                path="$here/../$file"
            fi
            count=$(grep -cF -- "$text" "$path" 2>/dev/null || true)
            if [[ $count != 1 ]]; then
                echo "run.sh: anchor '$text' found ${count:-0} times in $file (${in#"$here/"}):" \
                    "re-check that decision and update its anchor" >&2
                exit 2
            fi
            n=$(grep -nF -- "$text" "$path" | cut -d: -f1)
            [[ $n == "${BASH_REMATCH[2]}" ]] ||
                echo "  note: ${in#"$here/"}: '$text' is now at $file:$n (was ${BASH_REMATCH[2]})"
            line="${BASH_REMATCH[1]}$n"
            pending=""
        fi
        printf '%s\n' "$line" >>"$out"
    done <"$in"
}

supps=()
if ((!raw)); then
    resolve_supp "$here/supp/decisions.supp" "$logdir/decisions.supp"
    supps+=(--suppressions="$logdir/decisions.supp")
    if ((!strict)); then
        resolve_supp "$here/supp/known.supp" "$logdir/known.supp"
        supps+=(--suppressions="$logdir/known.supp")
    fi
fi
vg_base=(--tool=memcheck --error-exitcode=1 --track-origins=yes --num-callers=50
    --read-inline-info=yes --leak-check=no)
vg_check=("${vg_base[@]}" -s "${supps[@]}")
((gen)) && vg_check+=(--gen-suppressions=all)

# One line per unsuppressed error context of a valgrind log:
#   [case function] kind | innermost frame
# (the case is the outermost ct_check::cases:: frame of the stack).
summarise_errors() {
    awk '
        { sub(/^==[0-9]+== ?/, "") }
        /errors in context [0-9]+ of/ { exit } # -s repeats every context at the end
        /^(Conditional jump|Use of uninitialised|Syscall param|Invalid |Mismatched)/ {
            kind = $0; inner = ""; cs = "?"; inblock = 1; next
        }
        inblock && /^ *(at|by) 0x/ {
            line = $0; sub(/^ *(at|by) 0x[0-9A-Fa-f]+: /, "", line)
            if (inner == "") inner = line
            if (line ~ /ct_check::cases::/) {
                cs = line; sub(/^.*ct_check::cases::/, "", cs); sub(/ .*/, "", cs)
            }
            next
        }
        inblock { inblock = 0; printf "[%s] %s | at %s\n", cs, kind, substr(inner, 1, 160) }
    ' "$1"
}

# "<errors reported while the case ran>\t<case name>" for every CASE of a log
# (valgrind and ct-check share stderr, so reports follow their CASE line).
errors_per_case() {
    awk '
        /ct-check: \[ *[0-9]+\/[0-9]+\] CASE / { c = $0; sub(/.*CASE /, "", c); n[c] = 0; order[++k] = c; next }
        /^==[0-9]+== (Conditional jump|Use of uninitialised|Syscall param|Invalid )/ { if (k) n[c]++ }
        END { for (i = 1; i <= k; i++) printf "%d\t%s\n", n[order[i]], order[i] }
    ' "$1"
}

error_count() { sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$1" | tail -1; }

status=0
for backend in "${backends[@]}"; do
    echo "=== ct-check: backend $backend ==="
    unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
    target_dir="$here/target"
    if [[ $backend == soft ]]; then
        target_dir="$here/target/soft"
        export RUSTFLAGS="$soft_cfgs"
    fi
    # shellcheck disable=SC2086 # CT_CARGO_FLAGS is a list of flags
    CARGO_TARGET_DIR="$target_dir" "$CARGO" build --release --locked ${CT_CARGO_FLAGS:-} \
        --manifest-path "$here/Cargo.toml"
    unset RUSTFLAGS
    bin="$target_dir/release/ct-check"

    # --- 1. check ------------------------------------------------------------
    log="$logdir/$backend-check.log"
    start=$(date +%s.%N)
    set +e
    "$VALGRIND" "${vg_check[@]}" "$bin" "${filters[@]}" >"$log" 2>&1
    rc=$?
    set -e
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    grep '^ct-check: \[.*CASE ' "$log" | sed 's/^ct-check: /  /'
    grep '^ct-check: cpu features' "$log" | sed 's/^ct-check: /  /; s/ (valgrind.*//'
    errors=$(error_count "$log")
    wrong=$(grep -c 'WRONG RESULT' "$log" || true)
    echo "--- [$backend] check: $(grep -c '\] CASE ' "$log" || true) cases under valgrind in ${secs}s (log: ${log#"$here/"})"
    sed -n 's/^==[0-9]*== \(ERROR SUMMARY: .*\)/    valgrind \1/p' "$log" | tail -1
    if grep -q used_suppression "$log"; then
        echo "    suppressed (errors, suppression):"
        sed -n 's/^--[0-9]*-- used_suppression: *\([0-9]*\) \([^ ]*\) .*/      \1\t\2/p' "$log" | sort -k2
    fi
    if ((${#filters[@]} == 0 && !raw)); then
        # A full run uses every suppression; an unused one means the branch
        # moved or disappeared. Worth a look, not a failure by itself.
        for arg in "${supps[@]}"; do
            f="${arg#--suppressions=}"
            while read -r name; do
                grep -q "used_suppression: *[0-9]* $name " "$log" ||
                    echo "    note: suppression $name ($(basename "$f")) was not used"
            done < <(awk '/^\{/ { getline; gsub(/^ +| +$/, ""); print }' "$f")
        done
    fi
    if [[ $rc -ne 0 || ${errors:-1} -ne 0 || $wrong -ne 0 ]]; then
        status=1
        echo "    FAIL: exit $rc, ${errors:-?} unsuppressed valgrind error(s), $wrong wrong result(s)"
        echo "    unsuppressed error contexts ([case] kind | innermost frame):"
        summarise_errors "$log" | sort | uniq -c | sed 's/^ *\([0-9]*\) /      \1x /'
    else
        echo "    PASS: no secret-dependent branch or memory address outside the suppressed ones"
    fi

    ((self_test)) || continue

    # --- 2. control ----------------------------------------------------------
    clog="$logdir/$backend-control.log"
    set +e
    "$VALGRIND" "${vg_base[@]}" "${supps[@]}" "$bin" --control >"$clog" 2>&1
    crc=$?
    set -e
    csum="$(summarise_errors "$clog")"
    missing=()
    for fn in control_early_exit_compare control_secret_index; do
        grep -qF "[$fn]" <<<"$csum" || missing+=("$fn")
    done
    if [[ $crc -eq 1 && ${#missing[@]} -eq 0 ]]; then
        echo "--- [$backend] control: every leaky control case was reported ($(error_count "$clog") errors, exit $crc), as it must be:"
        sort -u <<<"$csum" | sed 's/^/      /'
    else
        status=1
        echo "--- [$backend] control: FAIL (exit $crc; not reported: ${missing[*]:-none}) — the check cannot detect leaks (log: ${clog#"$here/"})"
    fi

    # --- 3. taint ------------------------------------------------------------
    tlog="$logdir/$backend-taint.log"
    set +e
    "$VALGRIND" "${vg_base[@]}" "$bin" --no-declassify "${filters[@]}" >"$tlog" 2>&1
    set -e
    untainted=$(errors_per_case "$tlog" | awk -F'\t' '$1 == 0 { print "      " $2 }')
    ncases=$(errors_per_case "$tlog" | wc -l)
    if [[ -z $untainted && $ncases -gt 0 ]]; then
        echo "--- [$backend] taint: without declassification all $ncases cases are reported (their secrets reach their results)"
    else
        status=1
        echo "--- [$backend] taint: FAIL — no report without declassification (the case tests nothing) for:"
        echo "${untainted:-      (no case ran)}"
    fi
done

if ((status == 0)); then
    echo "=== ct-check: PASS (${backends[*]})"
else
    echo "=== ct-check: FAIL"
fi
exit $status
