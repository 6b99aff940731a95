#!/usr/bin/env python3
"""Transcribe test-vectors/external/rfc/rfc_vectors.txt into letterseal-vectors-v1 files.

The text file holds published vectors (RFC 7748 sections 5.2 and 6.1, RFC 5869 A.1-A.3, and
GCM spec test cases 13-16). This script copies its values verbatim into our JSON schema so the
auditor's runner checks them through the crate's own X25519, HKDF and AES-GCM paths. It computes
nothing: every expected output comes from the text file.

Usage: python3 test-vectors/tools/import_rfc_vectors.py [--check]
With --check it fails if the committed JSON files differ from what it would write.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "external" / "rfc" / "rfc_vectors.txt"
SCHEMA = "letterseal-vectors-v1"


def hexval(v: str) -> str:
    v = v.split("(")[0].strip()
    return "" if v in ("", "(empty)") or v.startswith("(empty") else v.lower()


def parse():
    text = SOURCE.read_text()
    kv = {}
    section = None
    sections = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^\[(.+)\]$", line)
        if m:
            section = m.group(1)
            sections[section] = {}
            continue
        m = re.match(r"^(\w+)\s*=\s*(.*)$", line)
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        if value.strip().startswith("(empty"):
            value = ""
        (sections[section] if section else kv)[key] = value
    return kv, sections


def file(step, section, description, notes, tests):
    return {
        "schema": SCHEMA,
        "step": step,
        "description": description,
        "specSection": section,
        "notes": notes,
        "numberOfTests": len(tests),
        "tests": [dict(t, tcId=i + 1) for i, t in enumerate(tests)],
    }


def case(comment, flags, inp, out):
    return {"comment": comment, "flags": flags, "input": inp, "output": out, "result": "valid"}


def build():
    kv, sections = parse()
    x = [
        case("RFC 7748 6.1: Alice's private key, Bob's public key", ["Rfc7748"],
             {"secret": kv["alice_private"], "publicKey": kv["bob_public"]}, {"shared": kv["shared_K"]}),
        case("RFC 7748 6.1: Bob's private key, Alice's public key", ["Rfc7748"],
             {"secret": kv["bob_private"], "publicKey": kv["alice_public"]}, {"shared": kv["shared_K"]}),
        case("RFC 7748 5.2 test 1 (unclamped scalar)", ["Rfc7748"],
             {"secret": kv["scalar_1"], "publicKey": kv["u_1"]}, {"shared": kv["out_1"]}),
        case("RFC 7748 5.2 test 2 (u with the top bit set)", ["Rfc7748"],
             {"secret": kv["scalar_2"], "publicKey": kv["u_2"]}, {"shared": kv["out_2"]}),
    ]
    hk = []
    for name in ("A.1", "A.2", "A.3"):
        s = sections[name]
        hk.append(case(f"RFC 5869 {name}", ["Rfc5869"],
                       {"salt": hexval(s["salt"]), "ikm": hexval(s["IKM"]), "info": hexval(s["info"]),
                        "length": int(s["L"])},
                       {"okm": hexval(s["OKM"])}))
    gcm = []
    for n in (13, 14, 15, 16):
        s = sections[f"GCM test case {n}"]
        gcm.append(case(f"GCM specification test case {n}", ["GcmSpec"],
                        {"key": hexval(s["K"]), "nonce": hexval(s["IV"]), "aad": hexval(s["A"]),
                         "plaintext": hexval(s["P"])},
                        {"sealed": hexval(s["C"]) + hexval(s["T"])}))
    return {
        "rfc7748-x25519.json": file(
            "x25519-agreement", "4.4", "RFC 7748 X25519 vectors through the crate's agreement path.",
            {"Rfc7748": "Published in RFC 7748"}, x),
        "rfc5869-hkdf.json": file(
            "hkdf-sha256", "3.1", "RFC 5869 HKDF-SHA-256 vectors: inputs salt, ikm, info, length; output okm.",
            {"Rfc5869": "Published in RFC 5869 appendix A"}, hk),
        "gcm-spec-aes256.json": file(
            "aes-256-gcm", "3.3",
            "AES-256-GCM vectors from the GCM specification: inputs key, nonce, aad, plaintext; output sealed "
            "(ciphertext then tag).",
            {"GcmSpec": "McGrew and Viega, The Galois/Counter Mode of Operation, appendix B"}, gcm),
    }


def main():
    check = "--check" in sys.argv
    ok = True
    for name, content in build().items():
        path = ROOT / "external" / "rfc" / name
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                print(f"{path} is out of date")
                ok = False
        else:
            path.write_text(text)
            print(f"wrote {path}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
