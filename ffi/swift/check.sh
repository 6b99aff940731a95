#!/usr/bin/env bash
# Swift bindings: generated and checked, NOT compiled (no Swift toolchain on this machine).
# Builds letterseal-ffi (dev profile, shipped features), generates Swift with the bundled UniFFI
# bindgen into a temporary directory, and checks that:
#   1. the three files an Xcode/SwiftPM target needs exist and are not empty: letterseal_ffi.swift,
#      letterseal_ffiFFI.h (the C declarations of the scaffolding) and letterseal_ffiFFI.modulemap;
#   2. every object, record, enum, error and function of the API (the list below, which must equal
#      the methods UniFFI generates for Kotlin from the same library: a new export fails this check
#      until it is added here) appears in the Swift source under its Swift name;
#   3. every C function the header declares is exported by the built library (`nm -D`), and every
#      `uniffi_letterseal_ffi_*` symbol the library exports is declared in the header: the Swift
#      module would link.
# Usage: bash ffi/swift/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

# LETTERSEAL_PREBUILT_DIR (CI): a directory holding the library and `uniffi-bindgen` already
# built (with the whole workspace's features, so nothing is compiled twice); nothing is built here.
if [ -n "${LETTERSEAL_PREBUILT_DIR:-}" ]; then
    lib_dir="$LETTERSEAL_PREBUILT_DIR"
    bindgen=("$lib_dir/uniffi-bindgen")
else
    cargo build -q --locked -p letterseal-ffi --lib
    target_dir=$(cargo metadata --format-version 1 --no-deps \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    lib_dir="$target_dir/debug"
    bindgen=(cargo run -q --locked -p letterseal-ffi --bin uniffi-bindgen --)
fi
case "$(uname -s)" in
    Darwin) library="$lib_dir/libletterseal_ffi.dylib" ;;
    *) library="$lib_dir/libletterseal_ffi.so" ;;
esac
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for language in swift kotlin; do
    "${bindgen[@]}" generate --no-format --library "$library" --language "$language" --out-dir "$out/$language"
done
if [ "$(uname -s)" = Darwin ]; then
    nm -gU "$library" | awk '{print $NF}' | sed 's/^_//' > "$out/exported"
else
    nm -D --defined-only "$library" | awk '{print $NF}' > "$out/exported"
fi

python3 - "$out" <<'EOF'
import re
import sys
from pathlib import Path

out = Path(sys.argv[1])
failures = []

# 1. The files.
swift_dir = out / "swift"
files = {name: swift_dir / name for name in
         ["letterseal_ffi.swift", "letterseal_ffiFFI.h", "letterseal_ffiFFI.modulemap"]}
for name, path in files.items():
    if not path.is_file() or path.stat().st_size == 0:
        failures.append(f"missing or empty: {name}")
if failures:
    sys.exit("\n".join(failures))
swift = files["letterseal_ffi.swift"].read_text()
header = files["letterseal_ffiFFI.h"].read_text()
modulemap = files["letterseal_ffiFFI.modulemap"].read_text()
if "letterseal_ffiFFI.h" not in modulemap or "module letterseal_ffiFFI" not in modulemap:
    failures.append("the modulemap does not name the header and module")

# 2. The API, by Swift name. Methods of Account and Relay as UniFFI names them (lowerCamelCase,
# the same in Swift and Kotlin).
ACCOUNT_CONSTRUCTORS = ["createPrimary", "createSecondary", "importSealed"]
ACCOUNT_METHODS = [
    "abortGroup", "addDevice", "address", "commitGroup", "createGroup", "export", "forgetUser",
    "generation", "groupUsers", "groups", "identityKey", "isPrimary", "oneTimeKeys", "receive",
    "removeDevice", "restorePrimary", "safetyNumberDigits", "sealToGroup", "sealToUser",
    "updateGroup", "uploads", "userKeyRecoverySecret",
]
RELAY_METHODS = ["fetchUser", "upload"]
FUNCTIONS = ["generateStorageKey"]
TYPES = ["Account", "Relay", "Address", "Outgoing", "ExportedAccount", "GroupChange",
         "RemovedDevice", "Event", "LettersealError"]
EVENT_CASES = ["message", "groupMessage", "groupChanged", "deviceListUpdated", "bundleLearned",
               "oneTimeKeyLearned", "duplicate", "unrecognized"]
ERROR_CASES = ["Account", "Receive", "Relay", "State", "InvalidInput", "Panic"]

# The list above is the whole API: compare it with what UniFFI generates for Kotlin.
kotlin = (out / "kotlin" / "uniffi" / "letterseal_ffi" / "letterseal_ffi.kt").read_text()
def kotlin_interface(name):
    body = re.search(r"public interface %sInterface \{(.*?)\n\}" % name, kotlin, re.S)
    if not body:
        failures.append(f"Kotlin: no interface {name}Interface")
        return set()
    return set(re.findall(r"fun `?(\w+)`?\(", body.group(1)))
for name, expected in [("Account", ACCOUNT_METHODS), ("Relay", RELAY_METHODS)]:
    generated = kotlin_interface(name)
    if generated != set(expected):
        failures.append(f"{name}: the check's list differs from the generated Kotlin: "
                        f"only generated {sorted(generated - set(expected))}, "
                        f"only listed {sorted(set(expected) - generated)}")

def need(pattern, what):
    if not re.search(pattern, swift):
        failures.append(f"Swift: no {what} (pattern {pattern!r})")

for name in TYPES:
    need(r"\b(class|struct|enum) %s\b" % name, f"type {name}")
for name in ACCOUNT_CONSTRUCTORS:
    need(r"static func %s\(" % name, f"Account constructor {name}")
for name in ACCOUNT_METHODS:
    need(r"func `?%s`?\(" % name, f"Account method {name}")
for name in RELAY_METHODS:
    need(r"func `?%s`?\(" % name, f"Relay method {name}")
need(r"public convenience init\(\)\s*throws", "Relay() constructor")
for name in FUNCTIONS:
    need(r"public func %s\(" % name, f"function {name}")
for name in EVENT_CASES:
    need(r"case %s\b" % name, f"Event case {name}")
for name in ERROR_CASES:
    need(r"case %s\b" % name, f"LettersealError case {name}")
# Every Account method has a scaffolding function in the header.
for name in ACCOUNT_METHODS + RELAY_METHODS:
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
    owner = "account" if name in ACCOUNT_METHODS else "relay"
    if f"uniffi_letterseal_ffi_fn_method_{owner}_{snake}(" not in header:
        failures.append(f"header: no uniffi_letterseal_ffi_fn_method_{owner}_{snake}")

# 3. Header and library agree.
declared = set(re.findall(r"\b((?:uniffi|ffi)_letterseal_ffi_\w+)\s*\(", header))
exported = {s for s in (out / "exported").read_text().split()
            if s.startswith(("uniffi_letterseal_ffi_", "ffi_letterseal_ffi_"))}
if not declared:
    failures.append("the header declares no functions")
for name in sorted(declared - exported):
    failures.append(f"declared in the header, not exported by the library: {name}")
for name in sorted(exported - declared):
    failures.append(f"exported by the library, not declared in the header: {name}")

if failures:
    print("Swift check FAILED:")
    for f in failures:
        print("  " + f)
    sys.exit(1)
print(f"Swift bindings generated and checked (not compiled): 3 files, "
      f"{len(ACCOUNT_METHODS) + len(ACCOUNT_CONSTRUCTORS) + len(RELAY_METHODS) + len(FUNCTIONS)} "
      f"functions, {len(TYPES)} types; {len(declared)} C functions declared = exported")
EOF
