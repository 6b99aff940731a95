#!/usr/bin/env python3
"""Independent Python reference for legacy LINE Letter Sealing (SPEC.md section 11).

Written from SPEC.md sections 10-11, test-vectors/README.md ("Legacy steps") and the product
brief's section 3 only, using the Python standard library and the `cryptography` package. The
Rust sources are deliberately not consulted: the point is a second, independent reading.

    python3 test-vectors/tools/legacy_reference.py --generate [DIR]   write DIR/<step>.json
    python3 test-vectors/tools/legacy_reference.py --check [DIR]      regenerate in memory, compare
                                                                       byte for byte, re-verify
    python3 test-vectors/tools/legacy_reference.py --self-test        mutate expectations in
                                                                       memory; each must be caught

DIR defaults to test-vectors/legacy/ (next to this script's directory). Every random byte comes
from SHA-256("letterseal legacy vectors" 0x00 label 0x00 u64be(counter)) with one label per file,
so generation is reproducible and files are independent of each other. `--check` prints one line
per file and ends with "N passed, N failed" (cases; a file-level problem counts as a failure);
exit status 1 on any failure.

Where it is cheap, a primitive is computed twice -- through `cryptography` (OpenSSL) and through
plain Python over single-block AES-ECB (CBC, CTR, and GCM including GHASH and the non-96-bit-IV
J0 derivation) -- and a disagreement aborts the run rather than being silently resolved.

Readings of SPEC.md section 11 this reference had to choose (ambiguous or unstated there):
  R1  Check order of the openers (each invalid vector has exactly one defect, so no vector
      depends on it): ids (InvalidId, v2/group only) -> chunk count -> fixed chunk lengths ->
      variable chunk lengths (all Malformed) -> recipient key id lookup (UnknownKey) -> X25519
      (NonContributory) -> MAC/tag (DecryptionFailed) -> padding (DecryptionFailed).
  R2  v2 / group: a `C||tag` chunk shorter than 16 bytes cannot hold the tag and is Malformed
      (SPEC lists exact lengths only for fixed-size chunks).  [vector flag ShortCiphertext]
  R3  Group unwrap: the wrap must be exactly 48 bytes ("wrap ..., 48 bytes" in 11.4, and 11.1's
      exact-length rule); any other length, including a 64-byte multiple of 16, is Malformed.
      A 48-byte wrap whose padding is valid but whose unpadded result is not 32 bytes is
      DecryptionFailed (11.4).  [flags WrongWrapLength, WrongKeyLength]
  R4  Ids: exactly 33 ASCII characters, 'u' or 'c' then 32 LOWERCASE hex digits (full match: a
      trailing newline is invalid). Any valid id is accepted in any position (a 'c' id as a 1:1
      `to`, a 'u' id as a group id); no vector depends on that prefix rule. The ids are put into
      the AAD as their 33 ASCII bytes.
  R5  Key ids are i32; a key-id chunk is exactly 4 bytes (i32be, two's complement).
  R6  legacy-group-open: UnknownKey when the message's recipient key id is not `groupKeyId`
      (README). legacy-group-key: `groupPublic = X25519(clamped k, 9)`.
  R7  Payloads (11.6): the JSON text must be valid UTF-8 and one JSON object (RFC 8259; no NaN /
      Infinity literals, no trailing data, no unpaired surrogate escapes, numbers must be
      finite); unknown fields are ignored.
      - type 0: `text` must be present and a string.
      - type 15: coordinates are taken from the nested `location` object when the key
        `location` is present (it must then be an object holding both numbers), otherwise from
        top-level `latitude` / `longitude` (the brief's deployed clients send both shapes;
        SPEC 11.6 shows only the nested one). Both must be JSON numbers (integers accepted,
        booleans not) and finite; no range check. Output numbers are floats (35 -> 35.0).
      - types 1/2/3/14: `keyMaterial` must be a string of standard-alphabet base64 (RFC 4648 4,
        '+' and '/', '=' padding required) decoding to exactly 32 bytes.
      - other content types are not exercised (the reference reports BadInput).
  R8  Media (11.5): the CTR counter is the last 4 bytes of the 16-byte block (nonce || u32be 0);
      files below 2^32 blocks never carry into the nonce, so a full 128-bit-increment CTR (as
      OpenSSL implements it) gives the same bytes. keyMaterial must be 32 bytes (BadInput
      otherwise; no vector tests it).
  R9  Seal steps validate their inputs (salt 8 / 16 bytes, seal nonce 12 or 16 bytes, valid ids,
      key ids in i32 range) and report BadInput -- a broken vector, not a protocol error.
  R10 Compact key ids (11.1): exactly Thrift's compact i32 -- zigzag, then LEB128, 1 to 5 bytes,
      shortest form, value < 2^32. Scanning: empty or ends on a continuation byte -> Truncated; a
      5th byte with the continuation bit -> TooLong; then bytes after the last -> TrailingData; a
      multi-byte varint ending in 0x00 -> NonMinimal; a 5th byte above 0x0f -> OutOfRange.
      Every accepted chunk must re-encode to itself (checked here as a second computation).
  R11 Key-id detection (11.1, used by the session steps): big-endian is a candidate if both chunks
      are 4 bytes, compact if both decode; one candidate wins; with two, big-endian if its recipient
      id is held, else compact if its recipient id is held, else big-endian; with none, the compact
      error of the first chunk (sender, then recipient) that is neither 4 bytes nor valid compact,
      else Malformed.
  R12 Session steps (11.9): ids (InvalidId) -> the agreement (NonContributory, at construction) ->
      chunk count -> detection -> chunk lengths -> the key ids must be the session's (UnknownKey)
      -> tag / MAC -> payload (InvalidPayload). Content types outside 0/15/1/2/3/14 give the
      plaintext as {"other": hex}; a location gives address / title when present (strings, or
      InvalidPayload), as legacy-payload does.
  R13 Raw (unclamped) scalars (11.1): k is the little-endian integer of all 32 bytes, multiplied
      with RFC 7748's ladder over 256 bits and no clamping; the peer key must be on the curve (not
      the twist), u != 0, and of order l ([l]P = O), else NonContributory; an all-zero result is
      NonContributory. Cross-checked against `cryptography` whenever the scalar is already clamped.
  R14 Weak group keys (11.4): flags KnownConstant (clamp(k) equals clamp(c) for c in the built-in
      denylist {00..00} or the vector's denylist), ZeroDerived (clamp(k) == clamp(00..00)),
      SmallOrder (k as an unclamped integer is 0 mod l); strict and any flag -> WeakGroupKey.

Every check the step table lists is exercised by at least one vector; the invalid vectors name
their error as a flag too (README "Schema" rules).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hashlib
import hmac
import json
import math
import re
import sys
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SCHEMA = "letterseal-vectors-v1"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "legacy"

# step -> (SPEC section, errors the README allows)
STEPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "legacy-v1-seal": ("11.2", ()),
    "legacy-v1-open": ("11.2", ("Malformed", "UnknownKey", "DecryptionFailed")),
    "legacy-v2-seal": ("11.3", ()),
    "legacy-v2-open": ("11.3", ("Malformed", "InvalidId", "UnknownKey", "DecryptionFailed")),
    "legacy-group-key": ("11.4", ()),
    "legacy-group-wrap": ("11.4", ()),
    "legacy-group-unwrap": ("11.4", ("Malformed", "DecryptionFailed")),
    "legacy-group-seal": ("11.4", ()),
    "legacy-group-open": ("11.4", ("Malformed", "InvalidId", "UnknownKey", "DecryptionFailed")),
    "legacy-media-seal": ("11.5", ()),
    "legacy-media-open": ("11.5", ("Malformed", "DecryptionFailed")),
    "legacy-payload": ("11.6", ("InvalidPayload",)),
    "legacy-key-id": ("11.1", ("Malformed", "Truncated", "TooLong", "TrailingData", "NonMinimal", "OutOfRange")),
    "legacy-key-id-detect": ("11.1", ("Malformed", "Truncated", "TooLong", "TrailingData", "NonMinimal",
                                      "OutOfRange")),
    "legacy-raw-scalar": ("11.1", ("NonContributory",)),
    "legacy-group-key-check": ("11.4", ("WeakGroupKey",)),
    "legacy-session-seal": ("11.9", ()),
    "legacy-session-open": ("11.9", ("Malformed", "InvalidId", "UnknownKey", "NonContributory", "DecryptionFailed",
                                     "InvalidPayload", "Truncated", "TooLong", "TrailingData", "NonMinimal",
                                     "OutOfRange")),
    "legacy-session-group-open": ("11.9", ("Malformed", "InvalidId", "UnknownKey", "NonContributory",
                                           "DecryptionFailed", "InvalidPayload", "Truncated", "TooLong",
                                           "TrailingData", "NonMinimal", "OutOfRange")),
}

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class Reject(Exception):
    """The step fails with protocol error `name` (what an invalid vector must produce)."""

    def __init__(self, name: str, detail: str = ""):
        super().__init__(name if not detail else f"{name} ({detail})")
        self.name = name
        self.detail = detail


class BadInput(Exception):
    """The vector itself is unusable (wrong type, wrong input size for a seal step, ...)."""


class Disagree(Exception):
    """Two independent computations of the same primitive disagree (a reference bug)."""


# ---------------------------------------------------------------------------------------------
# Primitives (each through `cryptography`, most also by hand over AES-ECB)
# ---------------------------------------------------------------------------------------------


def sha256(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def fold(h: bytes) -> bytes:
    assert len(h) == 32
    return bytes(a ^ b for a, b in zip(h[:16], h[16:]))


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def aes_block(key: bytes, block: bytes) -> bytes:
    """AES-256-ECB encryption of one 16-byte block."""
    assert len(key) == 32 and len(block) == 16
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def aes_block_dec(key: bytes, block: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return dec.update(block) + dec.finalize()


def x25519_public(secret: bytes) -> bytes:
    if len(secret) != 32:
        raise BadInput("X25519 secret must be 32 bytes")
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def x25519(secret: bytes, public: bytes) -> bytes:
    """SS = X25519(sk, pk); an all-zero result is NonContributory (SPEC 11.1)."""
    if len(secret) != 32 or len(public) != 32:
        raise BadInput("X25519 keys must be 32 bytes")
    try:
        ss = X25519PrivateKey.from_private_bytes(secret).exchange(X25519PublicKey.from_public_bytes(public))
    except ValueError:  # OpenSSL refuses the all-zero shared secret
        raise Reject("NonContributory")
    if ss == bytes(32):
        raise Reject("NonContributory")
    return ss


def clamp(k: bytes) -> bytes:
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return bytes(b)


def pkcs7_pad(m: bytes) -> bytes:
    n = 16 - len(m) % 16
    mine = m + bytes([n]) * n
    p = padding.PKCS7(128).padder()
    theirs = p.update(m) + p.finalize()
    if mine != theirs:
        raise Disagree("PKCS#7 padding")
    return mine


def pkcs7_unpad(p: bytes) -> bytes | None:
    """Returns None on a padding error (the caller maps it to DecryptionFailed)."""
    mine: bytes | None
    if not p or len(p) % 16:
        mine = None
    else:
        n = p[-1]
        mine = p[:-n] if 1 <= n <= 16 and p[-n:] == bytes([n]) * n else None
    u = padding.PKCS7(128).unpadder()
    try:
        theirs: bytes | None = u.update(p) + u.finalize()
    except ValueError:
        theirs = None
    if mine != theirs:
        raise Disagree("PKCS#7 unpadding")
    return mine


def cbc_encrypt_raw(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-256-CBC without padding (data a multiple of 16), computed twice."""
    assert len(data) % 16 == 0
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    theirs = enc.update(data) + enc.finalize()
    prev, out = iv, b""
    for i in range(0, len(data), 16):
        prev = aes_block(key, xor(data[i:i + 16], prev))
        out += prev
    if out != theirs:
        raise Disagree("AES-CBC encryption")
    return out


def cbc_decrypt_raw(key: bytes, iv: bytes, data: bytes) -> bytes:
    assert len(data) % 16 == 0
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    theirs = dec.update(data) + dec.finalize()
    prev, out = iv, b""
    for i in range(0, len(data), 16):
        blk = data[i:i + 16]
        out += xor(aes_block_dec(key, blk), prev)
        prev = blk
    if out != theirs:
        raise Disagree("AES-CBC decryption")
    return out


def ctr_xor(key: bytes, counter_block: bytes, data: bytes) -> bytes:
    """AES-256-CTR from `counter_block`, the low 32 bits incrementing (R8), computed twice."""
    assert len(counter_block) == 16
    enc = Cipher(algorithms.AES(key), modes.CTR(counter_block)).encryptor()
    theirs = enc.update(data) + enc.finalize()
    prefix, ctr = counter_block[:12], int.from_bytes(counter_block[12:], "big")
    out = bytearray()
    for i in range(0, len(data), 16):
        ks = aes_block(key, prefix + ((ctr + i // 16) % 2**32).to_bytes(4, "big"))
        out += xor(data[i:i + 16], ks)
    if bytes(out) != theirs:
        raise Disagree("AES-CTR")
    return theirs


# --- GCM by hand (NIST SP 800-38D), used to double-check OpenSSL, in particular for 16-byte IVs.

_R = 0xE1 << 120


def _gf_mul(x: int, y: int) -> int:
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


def _ghash(h: bytes, data: bytes) -> bytes:
    assert len(data) % 16 == 0
    hi, y = int.from_bytes(h, "big"), 0
    for i in range(0, len(data), 16):
        y = _gf_mul(y ^ int.from_bytes(data[i:i + 16], "big"), hi)
    return y.to_bytes(16, "big")


def _zpad(b: bytes) -> bytes:
    return b + bytes(-len(b) % 16)


def _gcm_by_hand(key: bytes, iv: bytes, aad: bytes, m: bytes) -> bytes:
    h = aes_block(key, bytes(16))
    if len(iv) == 12:
        j0 = iv + b"\x00\x00\x00\x01"
    else:  # J0 = GHASH(IV || 0-pad || [0]64 || [len(IV) in bits]64)
        j0 = _ghash(h, _zpad(iv) + bytes(8) + (8 * len(iv)).to_bytes(8, "big"))
    inc = lambda b, n: b[:12] + ((int.from_bytes(b[12:], "big") + n) % 2**32).to_bytes(4, "big")
    c = bytearray()
    for i in range(0, len(m), 16):
        c += xor(m[i:i + 16], aes_block(key, inc(j0, 1 + i // 16)))
    s = _ghash(h, _zpad(aad) + _zpad(bytes(c)) + (8 * len(aad)).to_bytes(8, "big") + (8 * len(c)).to_bytes(8, "big"))
    return bytes(c) + xor(s, aes_block(key, j0))


def gcm_seal(key: bytes, nonce: bytes, aad: bytes, m: bytes) -> bytes:
    """AES-256-GCM, 16-byte tag, nonce of 12 or 16 bytes; C || tag. Computed three ways."""
    a = AESGCM(key).encrypt(nonce, m, aad)
    enc = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    b = enc.update(m) + enc.finalize() + enc.tag
    c = _gcm_by_hand(key, nonce, aad, m)
    if not a == b == c:
        raise Disagree(f"AES-GCM with a {len(nonce)}-byte nonce")
    return a


def gcm_open(key: bytes, nonce: bytes, aad: bytes, sealed: bytes) -> bytes:
    assert len(sealed) >= 16
    try:
        m: bytes | None = AESGCM(key).decrypt(nonce, sealed, aad)
    except InvalidTag:
        m = None
    dec = Cipher(algorithms.AES(key), modes.GCM(nonce, sealed[-16:])).decryptor()
    dec.authenticate_additional_data(aad)
    try:
        m2: bytes | None = dec.update(sealed[:-16]) + dec.finalize()
    except InvalidTag:
        m2 = None
    # by hand: recompute the tag from the decrypted text
    c, tag = sealed[:-16], sealed[-16:]
    ks_m = xor(c, _gcm_by_hand(key, nonce, b"", bytes(len(c)))[:len(c)])  # keystream ^ C = M
    ok3 = hmac.compare_digest(_gcm_by_hand(key, nonce, aad, ks_m)[-16:], tag)
    m3 = ks_m if ok3 else None
    if not m == m2 == m3:
        raise Disagree(f"AES-GCM open with a {len(nonce)}-byte nonce")
    if m is None:
        raise Reject("DecryptionFailed", "GCM tag")
    return m


def hkdf_sha256(ikm: bytes, info: bytes, length: int) -> bytes:
    theirs = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)
    prk = hmac.new(bytes(32), ikm, hashlib.sha256).digest()  # RFC 5869: no salt = HashLen zeros
    t, okm, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    if okm[:length] != theirs:
        raise Disagree("HKDF-SHA256")
    return theirs


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    h = HMAC(key, hashes.SHA256())
    h.update(data)
    theirs = h.finalize()
    if theirs != hmac.new(key, data, hashlib.sha256).digest():
        raise Disagree("HMAC-SHA256")
    return theirs


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
ID_RE = re.compile(r"[uc][0-9a-f]{32}")


def i32be(x: int) -> bytes:
    if not isinstance(x, int) or isinstance(x, bool) or not I32_MIN <= x <= I32_MAX:
        raise BadInput(f"key id / content type {x!r} is not an i32")
    return x.to_bytes(4, "big", signed=True)


def from_i32be(b: bytes) -> int:
    if len(b) != 4:
        raise Reject("Malformed", "key id chunk is not 4 bytes")
    return int.from_bytes(b, "big", signed=True)


KEY_ID_ENCODINGS = ("bigEndian", "compact")


def compact_encode(x: int) -> bytes:
    """Thrift compact i32: zigzag, then LEB128 (R10)."""
    i32be(x)  # range check
    z = ((x << 1) ^ (x >> 31)) & 0xFFFFFFFF
    out = bytearray()
    while True:
        if z < 0x80:
            out.append(z)
            return bytes(out)
        out.append((z & 0x7F) | 0x80)
        z >>= 7


def compact_decode(b: bytes) -> int:
    """R10, scanning byte by byte; every accepted chunk must re-encode to itself."""
    value = 0
    for i, byte in enumerate(b):
        value |= (byte & 0x7F) << (7 * i)
        if byte & 0x80 == 0:
            if i + 1 != len(b):
                raise Reject("TrailingData", f"{len(b) - i - 1} bytes after the varint")
            if i > 0 and byte == 0:
                raise Reject("NonMinimal")
            if value >= 2**32:
                raise Reject("OutOfRange", f"zigzag value {value}")
            x = (value >> 1) ^ -(value & 1)
            if compact_encode(x) != b:
                raise Disagree("compact key id decoding")
            return x
        if i == 4:
            raise Reject("TooLong", "continuation bit on the 5th byte")
    raise Reject("Truncated", "the varint does not end")


def key_id_decode(b: bytes, encoding: str) -> int:
    if encoding == "bigEndian":
        return from_i32be(b)
    if encoding == "compact":
        return compact_decode(b)
    raise BadInput(f"key id encoding {encoding!r}")


def key_id_encode(x: int, encoding: str) -> bytes:
    if encoding == "bigEndian":
        return i32be(x)
    if encoding == "compact":
        return compact_encode(x)
    raise BadInput(f"key id encoding {encoding!r}")


def detect_encoding(s: bytes, r: bytes, held: set[int]) -> str:
    """R11."""
    be = from_i32be(r) if len(s) == 4 and len(r) == 4 else None
    readings = []
    for chunk in (s, r):
        try:
            readings.append((compact_decode(chunk), None))
        except Reject as e:
            readings.append((None, e))
    compact_ok = readings[0][1] is None and readings[1][1] is None
    if be is not None and not compact_ok:
        return "bigEndian"
    if be is None and compact_ok:
        return "compact"
    if be is not None and compact_ok:
        if be in held:
            return "bigEndian"
        return "compact" if readings[1][0] in held else "bigEndian"
    for chunk, (_, error) in zip((s, r), readings):
        if len(chunk) != 4 and error is not None:
            raise error
    raise Reject("Malformed", "the key-id chunks are in different encodings")


def id_bytes(s: str) -> bytes:
    """R4: 'u' or 'c' + 32 lowercase hex digits; returns the 33 ASCII bytes."""
    if not isinstance(s, str) or not ID_RE.fullmatch(s):
        raise Reject("InvalidId", repr(s))
    return s.encode("ascii")


# ---------------------------------------------------------------------------------------------
# SPEC 11.2 -- 1:1 version 1
# ---------------------------------------------------------------------------------------------


def v1_keys(ss: bytes, salt: bytes) -> tuple[bytes, bytes]:
    return sha256(ss, salt, b"Key"), fold(sha256(ss, salt, b"IV"))


def v1_mac(k: bytes, c: bytes) -> bytes:
    return aes_block(k, fold(sha256(c)))


def v1_seal(sender_secret: bytes, recipient_public: bytes, sender_kid: int, recipient_kid: int,
            salt: bytes, m: bytes) -> list[bytes]:
    if len(salt) != 8:
        raise BadInput("v1 salt must be 8 bytes")
    k, iv = v1_keys(x25519(sender_secret, recipient_public), salt)
    c = cbc_encrypt_raw(k, iv, pkcs7_pad(m))
    return [salt, c, v1_mac(k, c), i32be(sender_kid), i32be(recipient_kid)]


def v1_parse(chunks: list[bytes], encoding: str = "bigEndian") -> tuple[bytes, bytes, bytes, int, int]:
    if len(chunks) != 5:
        raise Reject("Malformed", f"{len(chunks)} chunks")
    salt, c, mac, skid_b, rkid_b = chunks
    if len(salt) != 8:
        raise Reject("Malformed", "salt is not 8 bytes")
    if len(mac) != 16:
        raise Reject("Malformed", "MAC is not 16 bytes")
    skid, rkid = key_id_decode(skid_b, encoding), key_id_decode(rkid_b, encoding)
    if not c or len(c) % 16:
        raise Reject("Malformed", "C is not a non-empty multiple of 16 bytes")
    return salt, c, mac, skid, rkid


def v1_open_ss(ss: bytes, salt: bytes, c: bytes, mac: bytes) -> bytes:
    k, iv = v1_keys(ss, salt)
    if not hmac.compare_digest(v1_mac(k, c), mac):
        raise Reject("DecryptionFailed", "MAC")
    m = pkcs7_unpad(cbc_decrypt_raw(k, iv, c))
    if m is None:
        raise Reject("DecryptionFailed", "padding")
    return m


def v1_open(recipient_keys: dict[int, bytes], sender_public: bytes, chunks: list[bytes]) -> tuple[bytes, int]:
    salt, c, mac, skid, rkid = v1_parse(chunks)
    if rkid not in recipient_keys:
        raise Reject("UnknownKey", str(rkid))
    return v1_open_ss(x25519(recipient_keys[rkid], sender_public), salt, c, mac), skid


# ---------------------------------------------------------------------------------------------
# SPEC 11.3 -- 1:1 version 2 (and the message part of 11.4)
# ---------------------------------------------------------------------------------------------


def v2_aad(to: str, frm: str, sender_kid: int, recipient_kid: int, content_type: int) -> bytes:
    aad = id_bytes(to) + id_bytes(frm) + i32be(sender_kid) + i32be(recipient_kid) + i32be(2) + i32be(content_type)
    assert len(aad) == 82
    return aad


def v2_seal_ss(ss: bytes, sender_kid: int, recipient_kid: int, to: str, frm: str, content_type: int,
               salt: bytes, nonce: bytes, m: bytes, nonce_lengths=(12,)) -> list[bytes]:
    if len(salt) != 16:
        raise BadInput("v2 salt must be 16 bytes")
    if len(nonce) not in nonce_lengths:
        raise BadInput(f"seal nonce must be {nonce_lengths} bytes")
    aad = v2_aad(to, frm, sender_kid, recipient_kid, content_type)
    sealed = gcm_seal(sha256(ss, salt, b"Key"), nonce, aad, m)
    return [salt, sealed, nonce, i32be(sender_kid), i32be(recipient_kid)]


def v2_parse(to: str, frm: str, chunks: list[bytes], encoding: str = "bigEndian") -> tuple[bytes, bytes, bytes, int, int]:
    id_bytes(to), id_bytes(frm)
    if len(chunks) != 5:
        raise Reject("Malformed", f"{len(chunks)} chunks")
    salt, sealed, nonce, skid_b, rkid_b = chunks
    if len(salt) != 16:
        raise Reject("Malformed", "salt is not 16 bytes")
    if len(nonce) not in (12, 16):
        raise Reject("Malformed", f"nonce of {len(nonce)} bytes")
    skid, rkid = key_id_decode(skid_b, encoding), key_id_decode(rkid_b, encoding)
    if len(sealed) < 16:
        raise Reject("Malformed", "C||tag shorter than the tag (R2)")
    return salt, sealed, nonce, skid, rkid


def v2_open_ss(ss: bytes, to: str, frm: str, content_type: int, salt: bytes, sealed: bytes, nonce: bytes,
               skid: int, rkid: int) -> bytes:
    aad = v2_aad(to, frm, skid, rkid, content_type)
    return gcm_open(sha256(ss, salt, b"Key"), nonce, aad, sealed)


def v2_seal(sender_secret, recipient_public, sender_kid, recipient_kid, to, frm, content_type, salt, nonce, m,
            nonce_lengths=(12,)):
    ss = x25519(sender_secret, recipient_public)
    return v2_seal_ss(ss, sender_kid, recipient_kid, to, frm, content_type, salt, nonce, m, nonce_lengths)


def v2_open(recipient_keys: dict[int, bytes], sender_public: bytes, to: str, frm: str, content_type: int,
            chunks: list[bytes]) -> tuple[bytes, int]:
    salt, sealed, nonce, skid, rkid = v2_parse(to, frm, chunks)
    if rkid not in recipient_keys:
        raise Reject("UnknownKey", str(rkid))
    ss = x25519(recipient_keys[rkid], sender_public)
    return v2_open_ss(ss, to, frm, content_type, salt, sealed, nonce, skid, rkid), skid


# ---------------------------------------------------------------------------------------------
# SPEC 11.4 -- groups
# ---------------------------------------------------------------------------------------------


def group_key(random32: bytes) -> tuple[bytes, bytes]:
    if len(random32) != 32:
        raise BadInput("group key randomness must be 32 bytes")
    k = clamp(random32)
    pub = x25519_public(k)
    # X25519(k, 9) written out: the base point u = 9
    by_ladder = X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(bytes([9]) + bytes(31)))
    if pub != by_ladder:
        raise Disagree("group public key")
    return k, pub


def group_wrap_raw(ss: bytes, payload: bytes) -> bytes:
    return cbc_encrypt_raw(sha256(ss, b"Key"), fold(sha256(ss, b"IV")), pkcs7_pad(payload))


def group_wrap(creator_secret: bytes, member_public: bytes, gk: bytes) -> bytes:
    if len(gk) != 32:
        raise BadInput("group key must be 32 bytes")
    w = group_wrap_raw(x25519(creator_secret, member_public), gk)
    assert len(w) == 48
    return w


def group_unwrap(member_secret: bytes, creator_public: bytes, wrap: bytes) -> bytes:
    if len(wrap) != 48:
        raise Reject("Malformed", f"wrap of {len(wrap)} bytes (R3)")
    ss = x25519(member_secret, creator_public)
    k = pkcs7_unpad(cbc_decrypt_raw(sha256(ss, b"Key"), fold(sha256(ss, b"IV")), wrap))
    if k is None:
        raise Reject("DecryptionFailed", "padding")
    if len(k) != 32:
        raise Reject("DecryptionFailed", f"unwrapped {len(k)} bytes")
    return k


def group_seal(sender_secret, group_public, sender_kid, group_kid, group_id, frm, content_type, salt, nonce, m,
               nonce_lengths=(12,)):
    ss = x25519(sender_secret, group_public)
    return v2_seal_ss(ss, sender_kid, group_kid, group_id, frm, content_type, salt, nonce, m, nonce_lengths)


def group_open(gk: bytes, group_kid: int, sender_public: bytes, group_id: str, frm: str, content_type: int,
               chunks: list[bytes]) -> tuple[bytes, int]:
    salt, sealed, nonce, skid, rkid = v2_parse(group_id, frm, chunks)
    if rkid != group_kid:
        raise Reject("UnknownKey", f"recipient key id {rkid} is not the group key id")
    ss = x25519(gk, sender_public)
    return v2_open_ss(ss, group_id, frm, content_type, salt, sealed, nonce, skid, rkid), skid


# ---------------------------------------------------------------------------------------------
# SPEC 11.5 -- media
# ---------------------------------------------------------------------------------------------


def media_keys(km: bytes) -> tuple[bytes, bytes, bytes]:
    if len(km) != 32:
        raise BadInput("keyMaterial must be 32 bytes (R8)")
    okm = hkdf_sha256(km, b"FileEncryption", 76)
    return okm[:32], okm[32:64], okm[64:76]


def media_seal(km: bytes, m: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    enc_key, mac_key, nonce = media_keys(km)
    c = ctr_xor(enc_key, nonce + bytes(4), m)
    return enc_key, mac_key, nonce, c + hmac_sha256(mac_key, c)


def media_open(km: bytes, blob: bytes) -> bytes:
    enc_key, mac_key, nonce = media_keys(km)
    if len(blob) < 32:
        raise Reject("Malformed", "blob shorter than the HMAC")
    c, tag = blob[:-32], blob[-32:]
    if not hmac.compare_digest(hmac_sha256(mac_key, c), tag):
        raise Reject("DecryptionFailed", "HMAC")
    return ctr_xor(enc_key, nonce + bytes(4), c)


# ---------------------------------------------------------------------------------------------
# SPEC 11.6 -- payloads
# ---------------------------------------------------------------------------------------------

MEDIA_TYPES = (1, 2, 3, 14)


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _coord(v) -> float:
    if not _is_number(v):
        raise Reject("InvalidPayload", "coordinate is not a number")
    try:
        f = float(v)
    except OverflowError:
        raise Reject("InvalidPayload", "coordinate out of range")
    if not math.isfinite(f):
        raise Reject("InvalidPayload", "coordinate is not finite")
    return f


def _check_strings(v) -> None:
    """Reject unpaired surrogates (not Unicode scalar values) anywhere in the document."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise Reject("InvalidPayload", "unpaired surrogate escape")
    elif isinstance(v, list):
        for x in v:
            _check_strings(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            _check_strings(k)
            _check_strings(x)


def parse_payload(content_type: int, raw: bytes) -> dict:
    if content_type not in (0, 15) + MEDIA_TYPES:
        raise BadInput(f"content type {content_type} is not covered by SPEC 11.6")
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Reject("InvalidPayload", "not UTF-8")
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise Reject("InvalidPayload", f"not JSON: {e}")
    if not isinstance(doc, dict):
        raise Reject("InvalidPayload", "not a JSON object")
    _check_strings(doc)
    for v in _walk_numbers(doc):
        if isinstance(v, float) and not math.isfinite(v):
            raise Reject("InvalidPayload", "number out of range")
    if content_type == 0:
        t = doc.get("text")
        if not isinstance(t, str):
            raise Reject("InvalidPayload", "text missing or not a string")
        return {"text": t}
    if content_type == 15:
        src = doc
        if "location" in doc:
            src = doc["location"]
            if not isinstance(src, dict):
                raise Reject("InvalidPayload", "location is not an object")
        if "latitude" not in src or "longitude" not in src:
            raise Reject("InvalidPayload", "latitude / longitude missing")
        out = {"latitude": _coord(src["latitude"]), "longitude": _coord(src["longitude"])}
        for field in ("address", "title"):
            v = src.get(field)
            if v is None:
                continue
            if not isinstance(v, str):
                raise Reject("InvalidPayload", f"{field} is not a string")
            out[field] = v
        return out
    km = doc.get("keyMaterial")
    if not isinstance(km, str):
        raise Reject("InvalidPayload", "keyMaterial missing or not a string")
    try:
        kmb = base64.b64decode(km.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Reject("InvalidPayload", "keyMaterial is not base64")
    if len(kmb) != 32:
        raise Reject("InvalidPayload", f"keyMaterial of {len(kmb)} bytes")
    return {"keyMaterial": kmb.hex()}


def _walk_numbers(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from _walk_numbers(x)
    elif isinstance(v, list):
        for x in v:
            yield from _walk_numbers(x)
    elif _is_number(v):
        yield v


# ---------------------------------------------------------------------------------------------
# SPEC 11.1 -- raw (unclamped) scalars, by hand (R13)
# ---------------------------------------------------------------------------------------------

FIELD_P = 2**255 - 19
GROUP_L = 2**252 + 27742317777372353535851937790883648493


def _ladder(k: int, u: int, bits: int) -> tuple[int, int]:
    """RFC 7748 section 5's Montgomery ladder without clamping: [k](u) as projective (X, Z)."""
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(bits)):
        k_t = (k >> t) & 1
        swap ^= k_t
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = k_t
        a, b = (x2 + z2) % FIELD_P, (x2 - z2) % FIELD_P
        aa, bb = a * a % FIELD_P, b * b % FIELD_P
        e = (aa - bb) % FIELD_P
        c, d = (x3 + z3) % FIELD_P, (x3 - z3) % FIELD_P
        da, cb = d * a % FIELD_P, c * b % FIELD_P
        x3 = (da + cb) ** 2 % FIELD_P
        z3 = x1 * (da - cb) ** 2 % FIELD_P
        x2 = aa * bb % FIELD_P
        z2 = e * (aa + 121665 * e) % FIELD_P
    if swap:
        x2, z2 = x3, z3
    return x2, z2


def _decode_u(u: bytes) -> int:
    return (int.from_bytes(u, "little") & ((1 << 255) - 1)) % FIELD_P


def raw_mul(scalar: bytes, u: bytes) -> bytes:
    x, z = _ladder(int.from_bytes(scalar, "little"), _decode_u(u), 256)
    out = (x * pow(z, FIELD_P - 2, FIELD_P)) % FIELD_P
    return out.to_bytes(32, "little")


def in_prime_order_subgroup(u: bytes) -> bool:
    x = _decode_u(u)
    if x == 0:
        return False
    rhs = (x**3 + 486662 * x * x + x) % FIELD_P
    if pow(rhs, (FIELD_P - 1) // 2, FIELD_P) != 1:
        return False  # on the twist
    _, z = _ladder(GROUP_L, x, 253)
    return z == 0


def raw_public(scalar: bytes) -> bytes:
    pub = raw_mul(scalar, (9).to_bytes(32, "little"))
    if clamp(scalar) == scalar and pub != x25519_public(scalar):
        raise Disagree("raw public key of a clamped scalar")
    return pub


def raw_agree(scalar: bytes, peer: bytes) -> bytes:
    if not in_prime_order_subgroup(peer):
        raise Reject("NonContributory", "peer key outside the prime-order subgroup")
    ss = raw_mul(scalar, peer)
    if ss == bytes(32):
        raise Reject("NonContributory", "all-zero result")
    if clamp(scalar) == scalar and ss != x25519(scalar, peer):
        raise Disagree("raw agreement of a clamped scalar")
    return ss


# ---------------------------------------------------------------------------------------------
# SPEC 11.4 -- weak group keys (R14)
# ---------------------------------------------------------------------------------------------

KNOWN_CONSTANT_GROUP_KEYS = [bytes(32)]


def weak_flags(k: bytes, denylist: list[bytes]) -> list[str]:
    ck = clamp(k)
    flags = []
    if any(ck == clamp(c) for c in KNOWN_CONSTANT_GROUP_KEYS + denylist):
        flags.append("KnownConstant")
    if ck == clamp(bytes(32)):
        flags.append("ZeroDerived")
    if int.from_bytes(k, "little") % GROUP_L == 0:
        flags.append("SmallOrder")
    return flags


# ---------------------------------------------------------------------------------------------
# SPEC 11.9 -- sessions (R12)
# ---------------------------------------------------------------------------------------------


def session_payload(content_type: int, m: bytes) -> dict:
    if content_type in (0, 15) + MEDIA_TYPES:
        return parse_payload(content_type, m)
    return {"other": m.hex()}


def session_open(version: int, content_type: int, my_secret: bytes, my_kid: int, me: str, peer_public: bytes,
                 peer_kid: int, peer: str, chunks: list[bytes]) -> dict:
    id_bytes(me), id_bytes(peer)
    ss = x25519(my_secret, peer_public)
    if len(chunks) != 5:
        raise Reject("Malformed", f"{len(chunks)} chunks")
    encoding = detect_encoding(chunks[3], chunks[4], {my_kid})
    if version == 2:
        salt, sealed, nonce, skid, rkid = v2_parse(me, peer, chunks, encoding)
        if (skid, rkid) != (peer_kid, my_kid):
            raise Reject("UnknownKey", f"key ids {skid}, {rkid}")
        m = v2_open_ss(ss, me, peer, content_type, salt, sealed, nonce, skid, rkid)
    elif version == 1:
        salt, c, mac, skid, rkid = v1_parse(chunks, encoding)
        if (skid, rkid) != (peer_kid, my_kid):
            raise Reject("UnknownKey", f"key ids {skid}, {rkid}")
        m = v1_open_ss(ss, salt, c, mac)
    else:
        raise BadInput(f"version {version}")
    return {"keyIdEncoding": encoding, "payload": session_payload(content_type, m)}


def session_group_open(content_type: int, gk: bytes, group_kid: int, group_id: str, member_public: bytes,
                       member_kid: int, member: str, chunks: list[bytes]) -> dict:
    id_bytes(group_id), id_bytes(member)
    ss = x25519(gk, member_public)
    if len(chunks) != 5:
        raise Reject("Malformed", f"{len(chunks)} chunks")
    encoding = detect_encoding(chunks[3], chunks[4], {group_kid})
    salt, sealed, nonce, skid, rkid = v2_parse(group_id, member, chunks, encoding)
    if (skid, rkid) != (member_kid, group_kid):
        raise Reject("UnknownKey", f"key ids {skid}, {rkid}")
    m = v2_open_ss(ss, group_id, member, content_type, salt, sealed, nonce, skid, rkid)
    return {"keyIdEncoding": encoding, "payload": session_payload(content_type, m)}


def session_seal(my_secret: bytes, my_kid: int, me: str, peer_public: bytes, peer_kid: int, peer: str,
                 content_type: int, salt: bytes, nonce: bytes, encoding: str, m: bytes) -> list[bytes]:
    ch = v2_seal(my_secret, peer_public, my_kid, peer_kid, peer, me, content_type, salt, nonce, m,
                 nonce_lengths=(12, 16))
    return ch[:3] + [key_id_encode(my_kid, encoding), key_id_encode(peer_kid, encoding)]


# ---------------------------------------------------------------------------------------------
# Steps: JSON input -> JSON output (or Reject / BadInput)
# ---------------------------------------------------------------------------------------------


def _hex(inp: dict, name: str, size: int | None = None) -> bytes:
    v = inp.get(name)
    if not isinstance(v, str) or v != v.lower():
        raise BadInput(f"{name}: not a lowercase hex string")
    try:
        b = bytes.fromhex(v)
    except ValueError:
        raise BadInput(f"{name}: not hex")
    if len(v) != 2 * len(b):
        raise BadInput(f"{name}: not hex")
    if size is not None and len(b) != size:
        raise BadInput(f"{name}: {len(b)} bytes, expected {size}")
    return b


def _int(inp: dict, name: str) -> int:
    v = inp.get(name)
    if not isinstance(v, int) or isinstance(v, bool) or not I32_MIN <= v <= I32_MAX:
        raise BadInput(f"{name}: not an i32")
    return v


def _str(inp: dict, name: str) -> str:
    v = inp.get(name)
    if not isinstance(v, str):
        raise BadInput(f"{name}: not a string")
    return v


def _chunks(inp: dict) -> list[bytes]:
    v = inp.get("chunks")
    if not isinstance(v, list):
        raise BadInput("chunks: not a list")
    return [_hex({"c": c}, "c") for c in v]


def _recipient_keys(inp: dict) -> dict[int, bytes]:
    v = inp.get("recipientKeys")
    if not isinstance(v, list):
        raise BadInput("recipientKeys: not a list")
    keys: dict[int, bytes] = {}
    for e in v:
        if not isinstance(e, dict) or set(e) != {"keyId", "secret"}:
            raise BadInput("recipientKeys entry must be {keyId, secret}")
        kid = _int(e, "keyId")
        if kid in keys:
            raise BadInput("duplicate key id in recipientKeys")
        keys[kid] = _hex(e, "secret", 32)
    return keys


def _encoding(inp: dict, name: str) -> str:
    v = inp.get(name)
    if v not in KEY_ID_ENCODINGS:
        raise BadInput(f"{name}: not one of {KEY_ID_ENCODINGS}")
    return v


def _check_keys(inp: dict, names: set[str]) -> None:
    if set(inp) != names:
        raise BadInput(f"input fields {sorted(inp)} != {sorted(names)}")


def run_step(step: str, inp: dict) -> dict:
    if not isinstance(inp, dict):
        raise BadInput("input is not an object")
    if step == "legacy-v1-seal":
        _check_keys(inp, {"senderSecret", "recipientPublic", "senderKeyId", "recipientKeyId", "salt", "plaintext"})
        ch = v1_seal(_hex(inp, "senderSecret", 32), _hex(inp, "recipientPublic", 32), _int(inp, "senderKeyId"),
                     _int(inp, "recipientKeyId"), _hex(inp, "salt", 8), _hex(inp, "plaintext"))
        return {"chunks": [c.hex() for c in ch]}
    if step == "legacy-v1-open":
        _check_keys(inp, {"recipientKeys", "senderPublic", "chunks"})
        m, skid = v1_open(_recipient_keys(inp), _hex(inp, "senderPublic", 32), _chunks(inp))
        return {"plaintext": m.hex(), "senderKeyId": skid}
    if step == "legacy-v2-seal":
        _check_keys(inp, {"senderSecret", "recipientPublic", "senderKeyId", "recipientKeyId", "to", "from",
                          "contentType", "salt", "nonce", "plaintext"})
        try:
            ch = v2_seal(_hex(inp, "senderSecret", 32), _hex(inp, "recipientPublic", 32), _int(inp, "senderKeyId"),
                         _int(inp, "recipientKeyId"), _str(inp, "to"), _str(inp, "from"), _int(inp, "contentType"),
                         _hex(inp, "salt", 16), _hex(inp, "nonce"), _hex(inp, "plaintext"), nonce_lengths=(12, 16))
        except Reject as e:  # the seal step lists no errors (R9)
            raise BadInput(f"seal input rejected: {e}")
        return {"chunks": [c.hex() for c in ch]}
    if step == "legacy-v2-open":
        _check_keys(inp, {"recipientKeys", "senderPublic", "to", "from", "contentType", "chunks"})
        m, skid = v2_open(_recipient_keys(inp), _hex(inp, "senderPublic", 32), _str(inp, "to"), _str(inp, "from"),
                          _int(inp, "contentType"), _chunks(inp))
        return {"plaintext": m.hex(), "senderKeyId": skid}
    if step == "legacy-group-key":
        _check_keys(inp, {"random"})
        k, pub = group_key(_hex(inp, "random", 32))
        return {"groupKey": k.hex(), "groupPublic": pub.hex()}
    if step == "legacy-group-wrap":
        _check_keys(inp, {"creatorSecret", "memberPublic", "groupKey"})
        return {"wrap": group_wrap(_hex(inp, "creatorSecret", 32), _hex(inp, "memberPublic", 32),
                                   _hex(inp, "groupKey", 32)).hex()}
    if step == "legacy-group-unwrap":
        _check_keys(inp, {"memberSecret", "creatorPublic", "wrap"})
        return {"groupKey": group_unwrap(_hex(inp, "memberSecret", 32), _hex(inp, "creatorPublic", 32),
                                         _hex(inp, "wrap")).hex()}
    if step == "legacy-group-seal":
        _check_keys(inp, {"senderSecret", "groupPublic", "senderKeyId", "groupKeyId", "groupId", "from",
                          "contentType", "salt", "nonce", "plaintext"})
        try:
            ch = group_seal(_hex(inp, "senderSecret", 32), _hex(inp, "groupPublic", 32), _int(inp, "senderKeyId"),
                            _int(inp, "groupKeyId"), _str(inp, "groupId"), _str(inp, "from"),
                            _int(inp, "contentType"), _hex(inp, "salt", 16), _hex(inp, "nonce"),
                            _hex(inp, "plaintext"), nonce_lengths=(12, 16))
        except Reject as e:
            raise BadInput(f"seal input rejected: {e}")
        return {"chunks": [c.hex() for c in ch]}
    if step == "legacy-group-open":
        _check_keys(inp, {"groupKey", "groupKeyId", "senderPublic", "groupId", "from", "contentType", "chunks"})
        m, skid = group_open(_hex(inp, "groupKey", 32), _int(inp, "groupKeyId"), _hex(inp, "senderPublic", 32),
                             _str(inp, "groupId"), _str(inp, "from"), _int(inp, "contentType"), _chunks(inp))
        return {"plaintext": m.hex(), "senderKeyId": skid}
    if step == "legacy-media-seal":
        _check_keys(inp, {"keyMaterial", "plaintext"})
        e, mk, n, blob = media_seal(_hex(inp, "keyMaterial", 32), _hex(inp, "plaintext"))
        return {"encKey": e.hex(), "macKey": mk.hex(), "nonce": n.hex(), "blob": blob.hex()}
    if step == "legacy-media-open":
        _check_keys(inp, {"keyMaterial", "blob"})
        return {"plaintext": media_open(_hex(inp, "keyMaterial", 32), _hex(inp, "blob")).hex()}
    if step == "legacy-payload":
        _check_keys(inp, {"contentType", "json"})
        return parse_payload(_int(inp, "contentType"), _hex(inp, "json"))
    if step == "legacy-key-id":
        _check_keys(inp, {"chunk", "encoding"})
        return {"keyId": key_id_decode(_hex(inp, "chunk"), _encoding(inp, "encoding"))}
    if step == "legacy-key-id-detect":
        _check_keys(inp, {"senderChunk", "recipientChunk", "recipientKeyIds"})
        held = inp["recipientKeyIds"]
        if not isinstance(held, list):
            raise BadInput("recipientKeyIds: not a list")
        held_ids = {_int({"k": k}, "k") for k in held}
        s_b, r_b = _hex(inp, "senderChunk"), _hex(inp, "recipientChunk")
        encoding = detect_encoding(s_b, r_b, held_ids)
        return {"encoding": encoding, "senderKeyId": key_id_decode(s_b, encoding),
                "recipientKeyId": key_id_decode(r_b, encoding)}
    if step == "legacy-raw-scalar":
        _check_keys(inp, {"scalar", "peerPublic"})
        scalar = _hex(inp, "scalar", 32)
        pub = raw_public(scalar)
        return {"publicKey": pub.hex(), "sharedSecret": raw_agree(scalar, _hex(inp, "peerPublic", 32)).hex()}
    if step == "legacy-group-key-check":
        _check_keys(inp, {"groupKey", "denylist", "strict"})
        deny = inp["denylist"]
        if not isinstance(deny, list) or not isinstance(inp["strict"], bool):
            raise BadInput("denylist must be a list, strict a boolean")
        flags = weak_flags(_hex(inp, "groupKey", 32), [_hex({"d": d}, "d", 32) for d in deny])
        if inp["strict"] and flags:
            raise Reject("WeakGroupKey", ", ".join(flags))
        return {"flags": flags}
    if step == "legacy-session-seal":
        _check_keys(inp, {"mySecret", "myKeyId", "me", "peerPublic", "peerKeyId", "peer", "contentType", "salt",
                          "nonce", "keyIdEncoding", "plaintext"})
        try:
            ch = session_seal(_hex(inp, "mySecret", 32), _int(inp, "myKeyId"), _str(inp, "me"),
                              _hex(inp, "peerPublic", 32), _int(inp, "peerKeyId"), _str(inp, "peer"),
                              _int(inp, "contentType"), _hex(inp, "salt", 16), _hex(inp, "nonce"),
                              _encoding(inp, "keyIdEncoding"), _hex(inp, "plaintext"))
        except Reject as e:
            raise BadInput(f"seal input rejected: {e}")
        return {"chunks": [c.hex() for c in ch]}
    if step == "legacy-session-open":
        _check_keys(inp, {"version", "contentType", "mySecret", "myKeyId", "me", "peerPublic", "peerKeyId", "peer",
                          "chunks"})
        return session_open(_int(inp, "version"), _int(inp, "contentType"), _hex(inp, "mySecret", 32),
                            _int(inp, "myKeyId"), _str(inp, "me"), _hex(inp, "peerPublic", 32),
                            _int(inp, "peerKeyId"), _str(inp, "peer"), _chunks(inp))
    if step == "legacy-session-group-open":
        _check_keys(inp, {"contentType", "groupKey", "groupKeyId", "groupId", "memberPublic", "memberKeyId", "from",
                          "chunks"})
        return session_group_open(_int(inp, "contentType"), _hex(inp, "groupKey", 32), _int(inp, "groupKeyId"),
                                  _str(inp, "groupId"), _hex(inp, "memberPublic", 32), _int(inp, "memberKeyId"),
                                  _str(inp, "from"), _chunks(inp))
    raise BadInput(f"unknown step {step!r}")


# ---------------------------------------------------------------------------------------------
# Deterministic randomness and the file builder
# ---------------------------------------------------------------------------------------------


class Rng:
    def __init__(self, label: str):
        self.label = label.encode()
        self.counter = 0

    def take(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += sha256(b"letterseal legacy vectors\x00", self.label, b"\x00", self.counter.to_bytes(8, "big"))
            self.counter += 1
        return out[:n]

    def user_id(self) -> str:
        return "u" + self.take(16).hex()

    def group_id(self) -> str:
        return "c" + self.take(16).hex()

    def key_pair(self) -> tuple[bytes, bytes]:
        sk = self.take(32)
        return sk, x25519_public(sk)


NOTES = {
    # errors
    "Malformed": "The message or blob is structurally wrong (chunk count, a fixed chunk length, C not a "
                 "non-empty multiple of 16, a nonce neither 12 nor 16 bytes, ...): Malformed",
    "UnknownKey": "The recipient key id in the message names no key the receiver holds: UnknownKey",
    "DecryptionFailed": "Authentication (MAC / GCM tag / HMAC) or padding fails: DecryptionFailed, one error "
                        "for both, so the opener is no padding oracle",
    "InvalidId": "An id is not 'u' or 'c' followed by 32 lowercase hex digits (33 ASCII bytes): InvalidId",
    "InvalidPayload": "The plaintext is not the JSON object its content type requires: InvalidPayload",
    # v1
    "EmptyPlaintext": "The plaintext is empty (one full block of PKCS#7 padding / a tag-only or MAC-only output)",
    "BlockAligned": "The plaintext length is a multiple of 16 bytes, so PKCS#7 adds a whole block",
    "NegativeKeyId": "A key id is negative: key ids are i32, encoded big-endian two's complement",
    "ExtremeKeyId": "A key id is i32::MIN or i32::MAX",
    "MultipleRecipientKeys": "The receiver holds several keys and picks the one named by the recipient key id",
    "UnauthenticatedKeyId": "v1 weakness (SPEC 11.8): the sender key id chunk was changed and the message still "
                            "opens, since the v1 MAC covers C only",
    "Reflection": "v1 weakness (SPEC 11.8): a message A sealed to B, with its key id chunks swapped, opens at A "
                  "as if B had sent it (SS is the same in both directions)",
    "MacFlipped": "One bit of the MAC chunk is flipped",
    "CiphertextFlipped": "One bit of the ciphertext is flipped",
    "BadPaddingValidMac": "C decrypts to invalid PKCS#7 padding; its MAC was recomputed with the right key, so "
                          "only the padding check fails",
    "WrongChunkCount": "The message does not have exactly 5 chunks",
    "WrongSaltLength": "The salt chunk has the wrong length",
    "WrongMacLength": "The MAC chunk is not 16 bytes",
    "CiphertextNotBlocks": "C is not a non-empty multiple of 16 bytes",
    "WrongKeyIdLength": "A key id chunk is not 4 bytes",
    "WrongSenderKey": "The opener uses another sender (or, for a wrap, creator) public key than the one that sealed",
    "Utf8Json": "The plaintext is a UTF-8 JSON payload as clients send it",
    # v2 / group
    "Nonce12": "12-byte nonce: standard GCM (J0 = nonce || 00000001)",
    "Nonce16": "16-byte nonce, as one deployed client sends: GCM's non-96-bit IV path "
               "(J0 = GHASH(IV || 0-pad || [0]64 || [128]64))",
    "RandomNonce": "A 12-byte nonce of random bytes (as third-party clients send) instead of counter || random; "
                   "receivers do not check the counter",
    "CounterNonce": "Nonce = u64be(counter) || 4 random bytes, as documented",
    "TagFlipped": "One bit of the GCM tag is flipped",
    "WrongContentType": "The receiver uses another content type than the sender (it is in the AAD)",
    "SwappedIds": "The receiver swaps to and from (both are in the AAD)",
    "WrongFrom": "The receiver assumes another sender id (in the AAD)",
    "KeyIdInAad": "A key id chunk was changed; v2 key ids are in the AAD, so the tag fails",
    "SaltFlipped": "One bit of the salt is flipped (changes K)",
    "NonceFlipped": "One bit of the nonce is flipped",
    "TruncatedNonce": "A 16-byte nonce cut to its first 12 bytes: a valid length, but another J0",
    "WrongNonceLength": "The nonce chunk is neither 12 nor 16 bytes",
    "ShortCiphertext": "C||tag is shorter than the 16-byte tag (reading R2 of legacy_reference.py: Malformed)",
    "UppercaseHex": "The id uses uppercase hex digits",
    "WrongIdPrefix": "The id does not start with 'u' or 'c'",
    "WrongIdLength": "The id is not 33 characters",
    "NonHexId": "The id contains a character that is not a hex digit",
    "TrailingNewline": "The id is 33 valid characters followed by a newline",
    "ContentType": "A content type other than 0 (text)",
    "MemberImpersonation": "Group weakness (SPEC 11.8): a member holding the group key forges a message 'from' "
                           "another member (SS_g = X25519(k, pk_victim)); it opens as the victim's",
    "WrongGroupId": "The receiver uses another group id (in the AAD)",
    "WrongGroupKey": "The receiver uses another group key",
    "GroupKeyIdMismatch": "The message's recipient key id is not the group key id",
    # group key / wrap
    "Clamping": "The random input needs clamping (k[0] &= 248; k[31] &= 127; k[31] |= 64)",
    "AlreadyClamped": "The random input is already a clamped scalar",
    "CreatorSelfWrap": "The creator wraps the group key for itself (creator included)",
    "UnauthenticatedWrap": "Weakness: the wrap has no MAC; a bit flipped in the first block still unwraps "
                           "(to a different key) because the padding block is intact",
    "WrapFlipped": "One bit of the wrap is flipped so that PKCS#7 padding fails",
    "WrongWrapLength": "The wrap is not 48 bytes (reading R3 of legacy_reference.py: Malformed, also for "
                       "other multiples of 16)",
    "WrongKeyLength": "A 48-byte wrap with valid padding whose content is not 32 bytes",
    "WrongMemberKey": "Unwrapping with a key pair other than the one wrapped for",
    # media
    "HmacFlipped": "One bit of the HMAC is flipped",
    "TruncatedBlob": "The blob is shorter than the HMAC (32 bytes)",
    "BlobTruncatedByOne": "The last byte of the blob is removed",
    "BlobExtended": "A byte is appended to the blob",
    "WrongKeyMaterial": "Opening with other key material",
    "MultiBlock": "A plaintext of several KiB (the CTR counter runs over many blocks)",
    # payloads
    "Text": "Content type 0: {\"text\": ...}",
    "Unicode": "Non-ASCII text, raw UTF-8 or \\u escapes (a surrogate pair for astral code points)",
    "UnknownFields": "Fields the parser does not know are ignored",
    "LocationNested": "Content type 15, coordinates nested under \"location\" (as clients send)",
    "LocationTopLevel": "Content type 15, latitude / longitude at the top level (as some clients send)",
    "IntegerCoordinate": "A coordinate written as a JSON integer; the output is the same number as a float",
    "Media": "Content types 1/2/3/14: keyMaterial is standard base64 (with padding) of 32 bytes",
    "NotJson": "The text is not JSON (truncated, trailing data, NaN, ...)",
    "NotUtf8": "The bytes are not UTF-8",
    "NotObject": "The JSON value is not an object",
    "WrongType": "A required field has the wrong JSON type",
    "MissingField": "A required field is missing",
    "LoneSurrogate": "A \\u escape is an unpaired surrogate, which is not a Unicode scalar value",
    "NumberOutOfRange": "A number overflows f64 (1e400)",
    "KeyMaterialLength": "keyMaterial decodes to a length other than 32 bytes",
    "KeyMaterialNotBase64": "keyMaterial is not base64",
    # key ids (11.1)
    "BigEndian": "Key-id chunks as i32be, exactly 4 bytes",
    "Compact": "Key-id chunks as Thrift compact i32: zigzag, then LEB128, 1-5 bytes",
    "HighBit": "A big-endian chunk of 0x80000000 or more (an id >= 2^31 read unsigned) is the negative i32 of the "
               "same bits; the AAD carries the same 4 bytes either way",
    "OneByte": "A compact key id that takes one byte (-64 <= id <= 63)",
    "FourBytes": "A compact key id that takes four bytes, the length of a big-endian chunk",
    "FiveBytes": "A compact key id that takes five bytes, the most an i32 takes",
    "OverlongVarint": "A varint whose 5th byte has the continuation bit set: TooLong",
    "NonMinimalVarint": "A varint padded with a trailing zero group (not the shortest form): NonMinimal",
    "IdAbove2Pow31": "An id >= 2^31 (not an i32), zigzag-encoded without a range check as an unchecked encoder "
                     "writes it: the value exceeds 32 bits (OutOfRange)",
    "Ambiguous": "Both chunks are 4 bytes and valid 4-byte varints: the recipient key id the opener holds decides "
                 "the encoding (SPEC 11.1)",
    "MixedEncodings": "One chunk readable only big-endian, the other only compact",
    "Truncated": "The input ends early: Truncated",
    "TooLong": "The input is longer than its format allows: TooLong",
    "TrailingData": "Bytes follow the end of the input: TrailingData",
    "NonMinimal": "A varint not in its shortest form: NonMinimal",
    "OutOfRange": "A compact key id whose value exceeds 32 bits: OutOfRange",
    # raw scalars (11.1)
    "ClampedScalar": "A scalar that is already clamped: raw and X25519 agree",
    "UnclampedScalar": "A scalar X25519 would change by clamping (low bits or bit 255 set): only the raw convention "
                       "uses it as it is",
    "ZeroScalar": "The scalar 0: the public key and every agreement are the point at infinity (u = 0)",
    "ScalarIsGroupOrder": "The scalar l, the group order: [l]P is the identity for every peer key",
    "SmallOrderPeer": "A peer key of small order",
    "MixedOrderPeer": "A peer key on the curve but outside the prime-order subgroup (it has a small-order part)",
    "TwistPeer": "A peer key on the quadratic twist, not on the curve",
    "NonContributory": "X25519 gives all zeros, or (raw scalars) the peer key is outside the prime-order subgroup: "
                       "NonContributory",
    # weak group keys (11.4)
    "GoodKey": "A random clamped key: no flag",
    "ChrlineConstant": "The constant group key of the open-source client CHRLINE (tryRegisterE2EEGroupKey): "
                       "bytes(32), later Curve25519.generatePrivateKey(bytes(32)) = 00..0040",
    "GroupOrder": "A multiple of the group order l: as an unclamped scalar its public key is the identity",
    "Denylist": "A key compared with the vector's own denylist (after clamping)",
    "Strict": "The strict policy: any flag refuses the key",
    "WeakGroupKey": "The strict policy refuses a flagged key: WeakGroupKey",
    # sessions (11.9)
    "V1": "A 1:1 v1 message opened through a session",
    "InvalidPayloadText": "The plaintext opens but is not the payload its content type requires",
}


class FileBuilder:
    def __init__(self, step: str, description: str):
        self.step = step
        self.section, self.errors = STEPS[step]
        self.description = description
        self.tests: list[dict] = []

    def _add(self, comment: str, flags: list[str], inp: dict, output: dict, error: str | None):
        case = {"tcId": len(self.tests) + 1, "comment": comment, "flags": list(flags),
                "input": dict(sorted(inp.items())), "output": dict(sorted(output.items())),
                "result": "valid" if error is None else "invalid"}
        if error is not None:
            case["error"] = error
        self.tests.append(case)

    def valid(self, comment: str, flags: list[str], inp: dict, expect: dict | None = None) -> dict:
        """Adds a valid case; its output is the reference's, and must equal `expect` if given."""
        out = run_step(self.step, inp)
        if expect is not None and out != expect:
            raise AssertionError(f"{self.step}: {comment}: {out} != {expect}")
        self._add(comment, flags, inp, out, None)
        return out

    def invalid(self, comment: str, flags: list[str], inp: dict, error: str) -> None:
        assert error in self.errors, (self.step, error)
        try:
            out = run_step(self.step, inp)
        except Reject as e:
            if e.name != error:
                raise AssertionError(f"{self.step}: {comment}: rejected with {e}, wanted {error}")
        else:
            raise AssertionError(f"{self.step}: {comment}: accepted ({out}), wanted {error}")
        self._add(comment, [error] + [f for f in flags if f != error], inp, {}, error)

    def document(self) -> dict:
        used = sorted({f for t in self.tests for f in t["flags"]})
        return {"schema": SCHEMA, "step": self.step, "description": self.description,
                "specSection": self.section, "notes": {f: NOTES[f] for f in used},
                "numberOfTests": len(self.tests), "tests": self.tests}


def dump(doc: dict) -> str:
    return json.dumps(doc, indent=2) + "\n"


def flip(b: bytes, i: int, bit: int = 0) -> bytes:
    x = bytearray(b)
    x[i] ^= 1 << bit
    return bytes(x)


def hexes(chunks: list[bytes]) -> list[str]:
    return [c.hex() for c in chunks]


# ---------------------------------------------------------------------------------------------
# Generators, one per file
# ---------------------------------------------------------------------------------------------


def gen_v1() -> list[FileBuilder]:
    r = Rng("legacy-v1")
    a_sk, a_pk = r.key_pair()
    b_sk, b_pk = r.key_pair()
    b2_sk, b2_pk = r.key_pair()
    c_sk, c_pk = r.key_pair()

    seal = FileBuilder("legacy-v1-seal", "Legacy 1:1 v1 seal: AES-256-CBC with PKCS#7 and the AES-ECB MAC over "
                       "fold(SHA256(C)); input the sender secret, recipient public key, key ids, salt (8) and "
                       "plaintext; output the 5 chunks.")
    sizes = [(0, ["EmptyPlaintext"]), (1, []), (15, []), (16, ["BlockAligned"]), (17, []),
             (32, ["BlockAligned"]), (100, [])]
    sealed: dict[int, tuple[list[bytes], bytes]] = {}
    for n, fl in sizes:
        m = r.take(n)
        salt = r.take(8)
        inp = {"senderSecret": a_sk.hex(), "recipientPublic": b_pk.hex(), "senderKeyId": 1001,
               "recipientKeyId": 2001, "salt": salt.hex(), "plaintext": m.hex()}
        out = seal.valid(f"{n}-byte plaintext", fl, inp)
        sealed[n] = ([bytes.fromhex(c) for c in out["chunks"]], m)
    text = '{"text":"hello from v1"}'.encode()
    seal.valid("text payload", ["Utf8Json"],
               {"senderSecret": b_sk.hex(), "recipientPublic": a_pk.hex(), "senderKeyId": 2001,
                "recipientKeyId": 1001, "salt": r.take(8).hex(), "plaintext": text.hex()})
    seal.valid("negative key ids", ["NegativeKeyId"],
               {"senderSecret": a_sk.hex(), "recipientPublic": c_pk.hex(), "senderKeyId": -7,
                "recipientKeyId": -123456789, "salt": r.take(8).hex(), "plaintext": r.take(20).hex()})
    seal.valid("i32::MIN and i32::MAX key ids", ["ExtremeKeyId", "NegativeKeyId"],
               {"senderSecret": c_sk.hex(), "recipientPublic": a_pk.hex(), "senderKeyId": I32_MIN,
                "recipientKeyId": I32_MAX, "salt": r.take(8).hex(), "plaintext": r.take(5).hex()})

    op = FileBuilder("legacy-v1-open", "Legacy 1:1 v1 open: check chunk lengths, check the MAC in constant time "
                     "before decrypting, decrypt and unpad; input the receiver's keys by key id, the sender "
                     "public key and the chunks; output the plaintext and the sender key id.")
    bkeys = [{"keyId": 2001, "secret": b_sk.hex()}]
    for n, fl in sizes:
        ch, m = sealed[n]
        op.valid(f"{n}-byte plaintext", fl, {"recipientKeys": bkeys, "senderPublic": a_pk.hex(),
                                              "chunks": hexes(ch)}, {"plaintext": m.hex(), "senderKeyId": 1001})
    # several receiver keys; the message is to the second
    m = r.take(40)
    ch = v1_seal(a_sk, b2_pk, 1001, 2002, r.take(8), m)
    two = [{"keyId": 2001, "secret": b_sk.hex()}, {"keyId": 2002, "secret": b2_sk.hex()}]
    op.valid("receiver holds two keys; message to key id 2002", ["MultipleRecipientKeys"],
             {"recipientKeys": two, "senderPublic": a_pk.hex(), "chunks": hexes(ch)},
             {"plaintext": m.hex(), "senderKeyId": 1001})
    ch, m = sealed[17]
    op.valid("sender key id chunk changed to 31337: still opens", ["UnauthenticatedKeyId"],
             {"recipientKeys": bkeys, "senderPublic": a_pk.hex(), "chunks": hexes(ch[:3] + [i32be(31337), ch[4]])},
             {"plaintext": m.hex(), "senderKeyId": 31337})
    ch, m = sealed[100]
    op.valid("message A->B reflected back to A with swapped key ids opens as from B", ["Reflection"],
             {"recipientKeys": [{"keyId": 1001, "secret": a_sk.hex()}], "senderPublic": b_pk.hex(),
              "chunks": hexes(ch[:3] + [ch[4], ch[3]])}, {"plaintext": m.hex(), "senderKeyId": 2001})
    mneg = r.take(3)
    ch = v1_seal(c_sk, a_pk, I32_MIN, -1, r.take(8), mneg)
    op.valid("negative key ids", ["NegativeKeyId", "ExtremeKeyId"],
             {"recipientKeys": [{"keyId": -1, "secret": a_sk.hex()}], "senderPublic": c_pk.hex(),
              "chunks": hexes(ch)}, {"plaintext": mneg.hex(), "senderKeyId": I32_MIN})

    ch, m = sealed[32]
    base = {"recipientKeys": bkeys, "senderPublic": a_pk.hex()}

    def inv(comment, flags, chunks, error, **over):
        op.invalid(comment, flags, {**base, **over, "chunks": hexes(chunks)}, error)

    inv("MAC first bit flipped", ["MacFlipped"], [ch[0], ch[1], flip(ch[2], 0), ch[3], ch[4]], "DecryptionFailed")
    inv("MAC last bit flipped", ["MacFlipped"], [ch[0], ch[1], flip(ch[2], 15, 7), ch[3], ch[4]], "DecryptionFailed")
    inv("ciphertext bit flipped (first block)", ["CiphertextFlipped"], [ch[0], flip(ch[1], 3), *ch[2:]],
        "DecryptionFailed")
    inv("ciphertext bit flipped (last byte)", ["CiphertextFlipped"], [ch[0], flip(ch[1], len(ch[1]) - 1), *ch[2:]],
        "DecryptionFailed")
    inv("salt bit flipped", ["SaltFlipped"], [flip(ch[0], 7), *ch[1:]], "DecryptionFailed")
    inv("wrong sender public key", ["WrongSenderKey"], ch, "DecryptionFailed", senderPublic=c_pk.hex())
    # bad padding under a valid MAC
    ss = x25519(a_sk, b_pk)
    for label, last in [("last byte 0x00", bytes(15) + b"\x00"), ("last byte 0x11 (> 16)", bytes(15) + b"\x11"),
                        ("inconsistent bytes ...03 03 04", bytes(12) + b"\x09\x03\x03\x04"),
                        ("0x10 block with one byte 0x0f", b"\x0f" + b"\x10" * 15)]:
        salt = r.take(8)
        k, iv = v1_keys(ss, salt)
        c = cbc_encrypt_raw(k, iv, r.take(16) + last)
        inv(f"padding {label}, MAC recomputed over C", ["BadPaddingValidMac"],
            [salt, c, v1_mac(k, c), i32be(1001), i32be(2001)], "DecryptionFailed")
    inv("4 chunks (recipient key id missing)", ["WrongChunkCount"], ch[:4], "Malformed")
    inv("6 chunks", ["WrongChunkCount"], ch + [b""], "Malformed")
    inv("no chunks", ["WrongChunkCount"], [], "Malformed")
    inv("salt of 7 bytes", ["WrongSaltLength"], [ch[0][:7], *ch[1:]], "Malformed")
    inv("salt of 9 bytes", ["WrongSaltLength"], [ch[0] + b"\x00", *ch[1:]], "Malformed")
    inv("C of 31 bytes", ["CiphertextNotBlocks"], [ch[0], ch[1][:31], *ch[2:]], "Malformed")
    inv("C of 33 bytes", ["CiphertextNotBlocks"], [ch[0], ch[1] + b"\x00", *ch[2:]], "Malformed")
    inv("C empty", ["CiphertextNotBlocks"], [ch[0], b"", *ch[2:]], "Malformed")
    inv("MAC of 15 bytes", ["WrongMacLength"], [ch[0], ch[1], ch[2][:15], ch[3], ch[4]], "Malformed")
    inv("recipient key id chunk of 3 bytes", ["WrongKeyIdLength"], [*ch[:4], ch[4][1:]], "Malformed")
    inv("sender key id chunk of 8 bytes", ["WrongKeyIdLength"], [*ch[:3], bytes(4) + ch[3], ch[4]], "Malformed")
    inv("recipient key id 2002 not held", ["UnknownKey"], [*ch[:4], i32be(2002)], "UnknownKey")
    inv("receiver holds no key", ["UnknownKey"], ch, "UnknownKey", recipientKeys=[])
    return [seal, op]


def gen_v2() -> list[FileBuilder]:
    r = Rng("legacy-v2")
    a_sk, a_pk = r.key_pair()
    b_sk, b_pk = r.key_pair()
    b2_sk, b2_pk = r.key_pair()
    c_sk, c_pk = r.key_pair()
    ua, ub, uc = r.user_id(), r.user_id(), r.user_id()

    seal = FileBuilder("legacy-v2-seal", "Legacy 1:1 v2 seal: K = SHA256(SS || salt || \"Key\"), AES-256-GCM with "
                       "the 82-byte AAD to || from || senderKeyId || recipientKeyId || 2 || contentType; output "
                       "the 5 chunks [salt, C||tag, nonce, senderKeyId, recipientKeyId].")

    def nonce(counter: int) -> bytes:
        return counter.to_bytes(8, "big") + r.take(4)

    cases = [
        ("text, counter 0", ["CounterNonce", "Utf8Json"], 0, '{"text":"hi \u3053\u3093\u306b\u3061\u306f"}'.encode(), 0),
        ("text, counter 1", ["CounterNonce", "Utf8Json"], 0, b'{"text":"second"}', 1),
        ("empty plaintext", ["CounterNonce", "EmptyPlaintext"], 0, b"", 2),
        ("location, counter 2^63", ["CounterNonce", "ContentType"], 15,
         b'{"location":{"latitude":35.6812,"longitude":139.7671,"address":"Tokyo"}}', 2**63),
        ("media key material, counter 2^64-1", ["CounterNonce", "ContentType"], 1,
         ('{"keyMaterial":"%s"}' % base64.b64encode(r.take(32)).decode()).encode(), 2**64 - 1),
        ("48 bytes of binary plaintext", ["CounterNonce"], 0, r.take(48), 7),
    ]
    sealed = []
    for comment, fl, ct, m, ctr in cases:
        inp = {"senderSecret": a_sk.hex(), "recipientPublic": b_pk.hex(), "senderKeyId": 1001,
               "recipientKeyId": 2001, "to": ub, "from": ua, "contentType": ct, "salt": r.take(16).hex(),
               "nonce": nonce(ctr).hex(), "plaintext": m.hex()}
        out = seal.valid(comment, fl, inp)
        sealed.append(([bytes.fromhex(c) for c in out["chunks"]], m, ct))
    seal.valid("negative and extreme key ids, content type 2", ["NegativeKeyId", "ExtremeKeyId", "ContentType"],
               {"senderSecret": b_sk.hex(), "recipientPublic": a_pk.hex(), "senderKeyId": I32_MIN,
                "recipientKeyId": -2, "to": ua, "from": ub, "contentType": 2, "salt": r.take(16).hex(),
                "nonce": nonce(3).hex(), "plaintext": r.take(9).hex()})
    seal.valid("random 12-byte nonce", ["RandomNonce"],
               {"senderSecret": b_sk.hex(), "recipientPublic": a_pk.hex(), "senderKeyId": 2001,
                "recipientKeyId": 1001, "to": ua, "from": ub, "contentType": 0, "salt": r.take(16).hex(),
                "nonce": r.take(12).hex(), "plaintext": b'{"text":"ok"}'.hex()})

    op = FileBuilder("legacy-v2-open", "Legacy 1:1 v2 open: 12- or 16-byte nonce (any other length Malformed), "
                     "ids checked, receiver key by key id, AES-256-GCM with the 82-byte AAD; output the "
                     "plaintext and the sender key id.")
    bkeys = [{"keyId": 2001, "secret": b_sk.hex()}]
    base = {"recipientKeys": bkeys, "senderPublic": a_pk.hex(), "to": ub, "from": ua}
    for (ch, m, ct), (comment, fl, *_rest) in zip(sealed, cases):
        op.valid(comment, ["Nonce12"] + fl, {**base, "contentType": ct, "chunks": hexes(ch)},
                 {"plaintext": m.hex(), "senderKeyId": 1001})
    # 16-byte nonces (one deployed client)
    n16 = []
    for comment, m, ct in [("16-byte nonce, text", b'{"text":"sixteen-byte nonce"}', 0),
                           ("16-byte nonce, empty plaintext", b"", 0),
                           ("16-byte nonce, 70 bytes, content type 14", r.take(70), 14)]:
        ch = v2_seal(a_sk, b_pk, 1001, 2001, ub, ua, ct, r.take(16), r.take(16), m, nonce_lengths=(16,))
        n16.append((ch, m, ct))
        op.valid(comment, ["Nonce16"] + (["EmptyPlaintext"] if not m else []) + (["ContentType"] if ct else []),
                 {**base, "contentType": ct, "chunks": hexes(ch)}, {"plaintext": m.hex(), "senderKeyId": 1001})
    m = b'{"text":"random nonce"}'
    ch = v2_seal(a_sk, b_pk, 1001, 2001, ub, ua, 0, r.take(16), r.take(12), m)
    op.valid("12 random nonce bytes (counter not checked)", ["Nonce12", "RandomNonce"],
             {**base, "contentType": 0, "chunks": hexes(ch)}, {"plaintext": m.hex(), "senderKeyId": 1001})
    m = r.take(25)
    ch = v2_seal(a_sk, b2_pk, -5, 2002, ub, ua, 0, r.take(16), nonce(9), m)
    two = [{"keyId": 2001, "secret": b_sk.hex()}, {"keyId": 2002, "secret": b2_sk.hex()}]
    op.valid("receiver holds two keys; message to key id 2002; negative sender key id",
             ["Nonce12", "MultipleRecipientKeys", "NegativeKeyId"],
             {**base, "recipientKeys": two, "contentType": 0, "chunks": hexes(ch)},
             {"plaintext": m.hex(), "senderKeyId": -5})

    ch, m, ct = sealed[0]
    ch16 = n16[0][0]

    def inv(comment, flags, chunks, error, **over):
        op.invalid(comment, flags, {**base, "contentType": ct, **over, "chunks": hexes(chunks)}, error)

    inv("tag last bit flipped", ["TagFlipped", "Nonce12"], [ch[0], flip(ch[1], len(ch[1]) - 1, 7), *ch[2:]],
        "DecryptionFailed")
    inv("tag first bit flipped, 16-byte nonce", ["TagFlipped", "Nonce16"],
        [ch16[0], flip(ch16[1], len(ch16[1]) - 16), *ch16[2:]], "DecryptionFailed")
    inv("ciphertext bit flipped", ["CiphertextFlipped"], [ch[0], flip(ch[1], 0), *ch[2:]], "DecryptionFailed")
    inv("wrong content type (1 instead of 0)", ["WrongContentType"], ch, "DecryptionFailed", contentType=1)
    inv("to and from swapped", ["SwappedIds"], ch, "DecryptionFailed", to=ua, **{"from": ub})
    inv("from is another user", ["WrongFrom"], ch, "DecryptionFailed", **{"from": uc})
    inv("sender key id chunk changed", ["KeyIdInAad"], [*ch[:3], i32be(1002), ch[4]], "DecryptionFailed")
    inv("recipient key id chunk changed to another key the receiver holds", ["KeyIdInAad", "MultipleRecipientKeys"],
        [*ch[:4], i32be(2002)], "DecryptionFailed", recipientKeys=two)
    inv("salt bit flipped", ["SaltFlipped"], [flip(ch[0], 15), *ch[1:]], "DecryptionFailed")
    inv("nonce bit flipped", ["NonceFlipped", "Nonce12"], [ch[0], ch[1], flip(ch[2], 11), *ch[3:]], "DecryptionFailed")
    inv("16-byte nonce truncated to 12 bytes", ["TruncatedNonce"], [ch16[0], ch16[1], ch16[2][:12], *ch16[3:]],
        "DecryptionFailed")
    inv("wrong sender public key", ["WrongSenderKey"], ch, "DecryptionFailed", senderPublic=c_pk.hex())
    inv("nonce of 13 bytes", ["WrongNonceLength"], [ch[0], ch[1], ch[2] + b"\x00", *ch[3:]], "Malformed")
    inv("nonce of 11 bytes", ["WrongNonceLength"], [ch[0], ch[1], ch[2][:11], *ch[3:]], "Malformed")
    inv("nonce of 8 bytes", ["WrongNonceLength"], [ch[0], ch[1], ch[2][:8], *ch[3:]], "Malformed")
    inv("empty nonce", ["WrongNonceLength"], [ch[0], ch[1], b"", *ch[3:]], "Malformed")
    inv("nonce of 17 bytes", ["WrongNonceLength"], [ch16[0], ch16[1], ch16[2] + b"\x00", *ch16[3:]], "Malformed")
    inv("salt of 8 bytes (a v1 salt)", ["WrongSaltLength"], [ch[0][:8], *ch[1:]], "Malformed")
    inv("salt of 17 bytes", ["WrongSaltLength"], [ch[0] + b"\x00", *ch[1:]], "Malformed")
    inv("4 chunks", ["WrongChunkCount"], ch[:4], "Malformed")
    inv("6 chunks", ["WrongChunkCount"], ch + [b"\x00"], "Malformed")
    inv("C||tag of 15 bytes", ["ShortCiphertext"], [ch[0], ch[1][-15:], *ch[2:]], "Malformed")
    inv("sender key id chunk of 5 bytes", ["WrongKeyIdLength"], [*ch[:3], b"\x00" + ch[3], ch[4]], "Malformed")
    inv("recipient key id chunk empty", ["WrongKeyIdLength"], [*ch[:4], b""], "Malformed")
    inv("to with uppercase hex", ["UppercaseHex"], ch, "InvalidId", to=ub[0] + ub[1:].upper())
    inv("from with prefix 'x'", ["WrongIdPrefix"], ch, "InvalidId", **{"from": "x" + ua[1:]})
    inv("from with prefix 'U'", ["WrongIdPrefix"], ch, "InvalidId", **{"from": "U" + ua[1:]})
    inv("to of 32 characters", ["WrongIdLength"], ch, "InvalidId", to=ub[:32])
    inv("to of 34 characters", ["WrongIdLength"], ch, "InvalidId", to=ub + "0")
    inv("from empty", ["WrongIdLength"], ch, "InvalidId", **{"from": ""})
    inv("to with a 'g'", ["NonHexId"], ch, "InvalidId", to=ub[:10] + "g" + ub[11:])
    inv("from followed by a newline", ["TrailingNewline"], ch, "InvalidId", **{"from": ua + "\n"})
    inv("recipient key id 2002 not held", ["UnknownKey"], [*ch[:4], i32be(2002)], "UnknownKey")
    inv("receiver holds no key", ["UnknownKey"], ch, "UnknownKey", recipientKeys=[])
    # Sealing with 16 random nonce bytes, what deployed clients send (the sealers' default).
    for comment, m in [("16-byte nonce, text", b'{"text":"sixteen"}'), ("16-byte nonce, empty plaintext", b"")]:
        seal.valid(comment, ["Nonce16"] + (["EmptyPlaintext"] if not m else []),
                   {"senderSecret": a_sk.hex(), "recipientPublic": b_pk.hex(), "senderKeyId": 1001,
                    "recipientKeyId": 2001, "to": ub, "from": ua, "contentType": 0, "salt": r.take(16).hex(),
                    "nonce": r.take(16).hex(), "plaintext": m.hex()})
    return [seal, op]


def gen_group() -> list[FileBuilder]:
    r = Rng("legacy-group")
    creator_sk, creator_pk = r.key_pair()
    b_sk, b_pk = r.key_pair()
    d_sk, d_pk = r.key_pair()
    e_sk, e_pk = r.key_pair()  # not a member
    ucr, ub, ud = r.user_id(), r.user_id(), r.user_id()
    gid, gid2 = r.group_id(), r.group_id()

    gkf = FileBuilder("legacy-group-key", "Legacy group key: 32 random bytes clamped as an X25519 scalar; output "
                      "the group key and the group public key X25519(k, 9).")
    gks = []
    for i in range(4):
        rnd = r.take(32)
        out = gkf.valid(f"random input {i}", ["Clamping"] if clamp(rnd) != rnd else [], {"random": rnd.hex()})
        gks.append((bytes.fromhex(out["groupKey"]), bytes.fromhex(out["groupPublic"])))
    gkf.valid("all-zero input", ["Clamping"], {"random": bytes(32).hex()})
    gkf.valid("all-ones input", ["Clamping"], {"random": (b"\xff" * 32).hex()})
    gkf.valid("already clamped input", ["AlreadyClamped"], {"random": gks[0][0].hex()},
              {"groupKey": gks[0][0].hex(), "groupPublic": gks[0][1].hex()})
    gk, gpub = gks[0]
    gk2, gpub2 = gks[1]

    wrapf = FileBuilder("legacy-group-wrap", "Legacy group key wrap for one member: AES-256-CBC with key "
                        "SHA256(SS || \"Key\") and IV fold(SHA256(SS || \"IV\")), SS = X25519(creator, member), "
                        "PKCS#7; 48 bytes, no salt, no MAC.")
    wraps = {}
    for name, pk, fl in [("creator", creator_pk, ["CreatorSelfWrap"]), ("member b", b_pk, []), ("member d", d_pk, [])]:
        out = wrapf.valid(f"group key 0 for {name}", fl, {"creatorSecret": creator_sk.hex(), "memberPublic": pk.hex(),
                                                          "groupKey": gk.hex()})
        wraps[name] = bytes.fromhex(out["wrap"])
    wrapf.valid("group key 1 for member b", [], {"creatorSecret": creator_sk.hex(), "memberPublic": b_pk.hex(),
                                                 "groupKey": gk2.hex()})
    wrapf.valid("member d (creator) wraps group key 1 for member b", [],
                {"creatorSecret": d_sk.hex(), "memberPublic": b_pk.hex(), "groupKey": gk2.hex()})

    un = FileBuilder("legacy-group-unwrap", "Legacy group key unwrap: 48-byte wrap, CBC-decrypt with "
                     "SS = X25519(member, creator), unpad, exactly 32 bytes; output the group key.")
    un.valid("creator unwraps its own wrap", ["CreatorSelfWrap"],
             {"memberSecret": creator_sk.hex(), "creatorPublic": creator_pk.hex(), "wrap": wraps["creator"].hex()},
             {"groupKey": gk.hex()})
    for name, sk in [("member b", b_sk), ("member d", d_sk)]:
        un.valid(f"{name} unwraps", [], {"memberSecret": sk.hex(), "creatorPublic": creator_pk.hex(),
                                         "wrap": wraps[name].hex()}, {"groupKey": gk.hex()})
    w = wraps["member b"]
    ss_b = x25519(b_sk, creator_pk)
    forged = cbc_decrypt_raw(sha256(ss_b, b"Key"), fold(sha256(ss_b, b"IV")), flip(w, 0))[:32]
    assert forged != gk
    un.valid("first wrap byte flipped: unwraps to another key (no MAC)", ["UnauthenticatedWrap"],
             {"memberSecret": b_sk.hex(), "creatorPublic": creator_pk.hex(), "wrap": flip(w, 0).hex()},
             {"groupKey": forged.hex()})
    ubase = {"memberSecret": b_sk.hex(), "creatorPublic": creator_pk.hex()}

    def uinv(comment, flags, wrap, error, **over):
        un.invalid(comment, flags, {**ubase, **over, "wrap": wrap.hex()}, error)

    uinv("byte 16 flipped: the padding block's first byte becomes 0x11", ["WrapFlipped"], flip(w, 16),
         "DecryptionFailed")
    uinv("byte 31 flipped: the padding block's last byte becomes 0x11", ["WrapFlipped"], flip(w, 31),
         "DecryptionFailed")
    uinv("byte 47 flipped: the padding block decrypts to garbage", ["WrapFlipped"], flip(w, 47, 3), "DecryptionFailed")
    uinv("wrong member key", ["WrongMemberKey"], w, "DecryptionFailed", memberSecret=d_sk.hex())
    uinv("non-member's key", ["WrongMemberKey"], w, "DecryptionFailed", memberSecret=e_sk.hex())
    uinv("wrong creator public key", ["WrongSenderKey"], w, "DecryptionFailed", creatorPublic=d_pk.hex())
    uinv("48-byte wrap of a 33-byte key", ["WrongKeyLength"], group_wrap_raw(ss_b, gk + b"\x01"), "DecryptionFailed")
    uinv("48-byte wrap of a 40-byte key", ["WrongKeyLength"], group_wrap_raw(ss_b, gk + r.take(8)), "DecryptionFailed")
    uinv("wrap of 47 bytes", ["WrongWrapLength"], w[:47], "Malformed")
    uinv("wrap of 49 bytes", ["WrongWrapLength"], w + b"\x00", "Malformed")
    uinv("empty wrap", ["WrongWrapLength"], b"", "Malformed")
    uinv("wrap of 32 bytes (a 16-byte key, padded)", ["WrongWrapLength"], group_wrap_raw(ss_b, gk[:16]), "Malformed")
    uinv("wrap of 64 bytes (a 48-byte payload, padded)", ["WrongWrapLength"], group_wrap_raw(ss_b, gk + gk[:16]),
         "Malformed")

    gseal = FileBuilder("legacy-group-seal", "Legacy group message seal: SS_g = X25519(sender, groupPublic), then "
                        "as 1:1 v2 with to = the group id and recipientKeyId = the group key id; output the chunks.")
    gcases = []
    specs = [("creator sends text", creator_sk, creator_pk, 1001, ucr, 0, b'{"text":"welcome to the group"}', 0, []),
             ("member b sends text", b_sk, b_pk, 2001, ub, 0, b'{"text":"thanks!"}', 5, []),
             ("member d sends an empty plaintext", d_sk, d_pk, -3, ud, 0, b"", 2**40,
              ["EmptyPlaintext", "NegativeKeyId"]),
             ("member b sends a location", b_sk, b_pk, 2001, ub, 15,
              b'{"latitude":-33.8688,"longitude":151.2093}', 6, ["ContentType"])]
    for comment, sk, pk, kid, uid, ct, m, ctr, fl in specs:
        inp = {"senderSecret": sk.hex(), "groupPublic": gpub.hex(), "senderKeyId": kid, "groupKeyId": 777,
               "groupId": gid, "from": uid, "contentType": ct, "salt": r.take(16).hex(),
               "nonce": (ctr.to_bytes(8, "big") + r.take(4)).hex(), "plaintext": m.hex()}
        out = gseal.valid(comment, ["CounterNonce"] + fl, inp)
        gcases.append(([bytes.fromhex(c) for c in out["chunks"]], m, ct, pk, kid, uid, fl))
    gseal.valid("group key id i32::MAX, group key 1", ["ExtremeKeyId"],
                {"senderSecret": d_sk.hex(), "groupPublic": gpub2.hex(), "senderKeyId": 4001,
                 "groupKeyId": I32_MAX, "groupId": gid2, "from": ud, "contentType": 0,
                 "salt": r.take(16).hex(), "nonce": r.take(12).hex(), "plaintext": r.take(33).hex()})

    gop = FileBuilder("legacy-group-open", "Legacy group message open: the message's recipient key id must be the "
                      "group key id (else UnknownKey), SS_g = X25519(groupKey, senderPublic), then as 1:1 v2 "
                      "open; output the plaintext and the sender key id.")
    for ch, m, ct, pk, kid, uid, fl in gcases:
        gop.valid(f"{uid[:9]}... to the group", ["Nonce12"] + fl,
                  {"groupKey": gk.hex(), "groupKeyId": 777, "senderPublic": pk.hex(), "groupId": gid, "from": uid,
                   "contentType": ct, "chunks": hexes(ch)}, {"plaintext": m.hex(), "senderKeyId": kid})
    m = b'{"text":"16-byte nonce in a group"}'
    ch16 = group_seal(b_sk, gpub, 2001, 777, gid, ub, 0, r.take(16), r.take(16), m, nonce_lengths=(16,))
    gop.valid("16-byte nonce", ["Nonce16"], {"groupKey": gk.hex(), "groupKeyId": 777, "senderPublic": b_pk.hex(),
                                             "groupId": gid, "from": ub, "contentType": 0, "chunks": hexes(ch16)},
              {"plaintext": m.hex(), "senderKeyId": 2001})
    # member d forges a message "from" member b with the group key
    m = b'{"text":"I am b (really d)"}'
    ss_forged = x25519(gk, b_pk)
    ch = v2_seal_ss(ss_forged, 2001, 777, gid, ub, 0, r.take(16), r.take(12), m)
    gop.valid("member d forges a message from member b", ["MemberImpersonation"],
              {"groupKey": gk.hex(), "groupKeyId": 777, "senderPublic": b_pk.hex(), "groupId": gid, "from": ub,
               "contentType": 0, "chunks": hexes(ch)}, {"plaintext": m.hex(), "senderKeyId": 2001})

    ch, m, ct, pk, kid, uid, _ = gcases[1]
    gbase = {"groupKey": gk.hex(), "groupKeyId": 777, "senderPublic": pk.hex(), "groupId": gid, "from": uid,
             "contentType": ct}

    def ginv(comment, flags, chunks, error, **over):
        gop.invalid(comment, flags, {**gbase, **over, "chunks": hexes(chunks)}, error)

    ginv("tag flipped", ["TagFlipped"], [ch[0], flip(ch[1], len(ch[1]) - 1), *ch[2:]], "DecryptionFailed")
    ginv("tag flipped, 16-byte nonce", ["TagFlipped", "Nonce16"], [ch16[0], flip(ch16[1], len(ch16[1]) - 5), *ch16[2:]],
         "DecryptionFailed")
    ginv("ciphertext flipped", ["CiphertextFlipped"], [ch[0], flip(ch[1], 2), *ch[2:]], "DecryptionFailed")
    ginv("wrong content type", ["WrongContentType"], ch, "DecryptionFailed", contentType=15)
    ginv("group id and from swapped", ["SwappedIds"], ch, "DecryptionFailed", groupId=uid, **{"from": gid})
    ginv("another group id", ["WrongGroupId"], ch, "DecryptionFailed", groupId=gid2)
    ginv("from is another member", ["WrongFrom"], ch, "DecryptionFailed", **{"from": ud})
    ginv("sender key id chunk changed", ["KeyIdInAad"], [*ch[:3], i32be(2002), ch[4]], "DecryptionFailed")
    ginv("another group key", ["WrongGroupKey"], ch, "DecryptionFailed", groupKey=gk2.hex())
    ginv("wrong sender public key", ["WrongSenderKey"], ch, "DecryptionFailed", senderPublic=d_pk.hex())
    ginv("nonce of 13 bytes", ["WrongNonceLength"], [ch[0], ch[1], ch[2] + b"\x00", *ch[3:]], "Malformed")
    ginv("salt of 15 bytes", ["WrongSaltLength"], [ch[0][:15], *ch[1:]], "Malformed")
    ginv("4 chunks", ["WrongChunkCount"], ch[:4], "Malformed")
    ginv("C||tag empty", ["ShortCiphertext"], [ch[0], b"", *ch[2:]], "Malformed")
    ginv("group id of 32 hex digits", ["WrongIdLength"], ch, "InvalidId", groupId=gid[:32])
    ginv("group id with uppercase hex", ["UppercaseHex"], ch, "InvalidId", groupId="c" + gid[1:].upper())
    ginv("group id with prefix 'g'", ["WrongIdPrefix"], ch, "InvalidId", groupId="g" + gid[1:])
    ginv("from with a non-hex character", ["NonHexId"], ch, "InvalidId", **{"from": uid[:32] + "z"})
    ginv("recipient key id 778 is not the group key id", ["GroupKeyIdMismatch", "UnknownKey"],
         [*ch[:4], i32be(778)], "UnknownKey")
    ginv("receiver has group key id 778", ["GroupKeyIdMismatch", "UnknownKey"], ch, "UnknownKey", groupKeyId=778)
    gseal.valid("16-byte nonce, as deployed clients send", ["Nonce16"],
                {"senderSecret": b_sk.hex(), "groupPublic": gpub.hex(), "senderKeyId": 2001, "groupKeyId": 777,
                 "groupId": gid, "from": ub, "contentType": 0, "salt": r.take(16).hex(),
                 "nonce": r.take(16).hex(), "plaintext": b'{"text":"sixteen in a group"}'.hex()})
    return [gkf, wrapf, un, gseal, gop]


def gen_media() -> list[FileBuilder]:
    r = Rng("legacy-media")
    seal = FileBuilder("legacy-media-seal", "Legacy media (2023+): HKDF-SHA256(keyMaterial, no salt, "
                       "\"FileEncryption\", 76) -> encKey || macKey || nonce; AES-256-CTR from nonce || 00000000; "
                       "blob = C || HMAC-SHA256(macKey, C).")
    blobs = []
    for n, fl in [(0, ["EmptyPlaintext"]), (1, []), (16, ["BlockAligned"]), (100, []), (3000, ["MultiBlock"])]:
        km, m = r.take(32), r.take(n)
        out = seal.valid(f"{n}-byte file", fl, {"keyMaterial": km.hex(), "plaintext": m.hex()})
        blobs.append((km, m, bytes.fromhex(out["blob"]), fl))
    op = FileBuilder("legacy-media-open", "Legacy media open: check the HMAC (constant time) before decrypting; "
                     "a blob shorter than 32 bytes is Malformed.")
    for km, m, blob, fl in blobs:
        op.valid(f"{len(m)}-byte file", fl, {"keyMaterial": km.hex(), "blob": blob.hex()}, {"plaintext": m.hex()})
    km, m, blob, _ = blobs[3]
    km0, _m0, blob0, _ = blobs[0]

    def inv(comment, flags, b, error, k=km):
        op.invalid(comment, flags, {"keyMaterial": k.hex(), "blob": b.hex()}, error)

    inv("HMAC last bit flipped", ["HmacFlipped"], flip(blob, len(blob) - 1, 7), "DecryptionFailed")
    inv("HMAC first bit flipped", ["HmacFlipped"], flip(blob, len(blob) - 32), "DecryptionFailed")
    inv("HMAC flipped, empty file", ["HmacFlipped", "EmptyPlaintext"], flip(blob0, 9), "DecryptionFailed", km0)
    inv("ciphertext first bit flipped", ["CiphertextFlipped"], flip(blob, 0), "DecryptionFailed")
    inv("ciphertext last bit flipped", ["CiphertextFlipped"], flip(blob, len(blob) - 33), "DecryptionFailed")
    inv("last byte removed", ["BlobTruncatedByOne"], blob[:-1], "DecryptionFailed")
    inv("byte appended", ["BlobExtended"], blob + b"\x00", "DecryptionFailed")
    inv("other key material", ["WrongKeyMaterial"], blob, "DecryptionFailed", r.take(32))
    inv("blob of 31 bytes", ["TruncatedBlob"], blob0[:31], "Malformed", km0)
    inv("empty blob", ["TruncatedBlob"], b"", "Malformed", km0)
    return [seal, op]


def gen_payload() -> list[FileBuilder]:
    r = Rng("legacy-payload")
    pf = FileBuilder("legacy-payload", "Legacy payload parsing: UTF-8 JSON object per content type; output the "
                     "text (0), latitude / longitude (15) or keyMaterial (1/2/3/14); InvalidPayload otherwise.")

    def v(comment, flags, ct, text: str | bytes, expect):
        raw = text.encode("utf-8") if isinstance(text, str) else text
        pf.valid(comment, flags, {"contentType": ct, "json": raw.hex()}, expect)

    def inv(comment, flags, ct, text: str | bytes):
        raw = text.encode("utf-8") if isinstance(text, str) else text
        pf.invalid(comment, flags, {"contentType": ct, "json": raw.hex()}, "InvalidPayload")

    v("ASCII text", ["Text"], 0, '{"text":"Hello, world"}', {"text": "Hello, world"})
    v("empty text", ["Text"], 0, '{"text":""}', {"text": ""})
    v("raw UTF-8 text", ["Text", "Unicode"], 0, '{"text":"こんにちは LINE 🙂"}', {"text": "こんにちは LINE 🙂"})
    v("escaped text with a surrogate pair", ["Text", "Unicode"], 0,
      '{"text":"caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\n"}', {"text": "café 😀 \"q\" \n"})
    v("text with unknown fields and whitespace", ["Text", "UnknownFields"], 0,
      ' { "text" : "x", "REPLY_MESSAGE_ID": "123", "e2eeVersion": 2, "extra": [1, {"a": null}] } \n', {"text": "x"})
    v("nested location with address and title", ["LocationNested", "UnknownFields"], 15,
      '{"location":{"title":"Station","address":"1 Chome Marunouchi, Tokyo","latitude":35.681236,'
      '"longitude":139.767125}}', {"latitude": 35.681236, "longitude": 139.767125,
                                    "address": "1 Chome Marunouchi, Tokyo", "title": "Station"})
    v("top-level location", ["LocationTopLevel"], 15, '{"latitude":-33.8688,"longitude":151.2093,"title":"Sydney"}',
      {"latitude": -33.8688, "longitude": 151.2093, "title": "Sydney"})
    v("nested location with integer and exponent coordinates", ["LocationNested", "IntegerCoordinate"], 15,
      '{"location":{"latitude":35,"longitude":1.3976e2}}', {"latitude": 35.0, "longitude": 139.76})
    kms = []
    for i, ct in enumerate(MEDIA_TYPES):
        while True:  # make the first one use '+' or '/' so the standard alphabet is exercised
            km = r.take(32)
            b64 = base64.b64encode(km).decode()
            if i or ("+" in b64 or "/" in b64):
                break
        kms.append(b64)
        v(f"media content type {ct}", ["Media"] + (["UnknownFields"] if i else []), ct,
          '{"keyMaterial":"%s"%s}' % (b64, ', "OID":"abc", "FILE_SIZE":"1234"' if i else ""), {"keyMaterial": km.hex()})

    inv("truncated JSON", ["NotJson"], 0, '{"text":"abc"')
    inv("not JSON at all", ["NotJson"], 0, "hello")
    inv("empty input", ["NotJson"], 0, "")
    inv("trailing data after the object", ["NotJson"], 0, '{"text":"a"} x')
    inv("single-quoted JSON", ["NotJson"], 0, "{'text':'a'}")
    inv("NaN latitude", ["NotJson", "LocationTopLevel"], 15, '{"latitude":NaN,"longitude":1.0}')
    inv("invalid UTF-8 inside a string", ["NotUtf8"], 0, b'{"text":"\xc3\x28"}')
    inv("unpaired surrogate escape", ["LoneSurrogate"], 0, '{"text":"\\ud83d"}')
    inv("a JSON array", ["NotObject"], 0, '["text","a"]')
    inv("a JSON string", ["NotObject"], 0, '"text"')
    inv("text is a number", ["WrongType"], 0, '{"text":42}')
    inv("text is null", ["WrongType"], 0, '{"text":null}')
    inv("text missing", ["MissingField"], 0, '{"message":"a"}')
    inv("latitude missing", ["MissingField", "LocationNested"], 15, '{"location":{"longitude":139.7}}')
    inv("no coordinates", ["MissingField"], 15, '{"title":"nowhere"}')
    inv("latitude is a string", ["WrongType", "LocationNested"], 15, '{"location":{"latitude":"35.6","longitude":139.7}}')
    inv("longitude is a boolean", ["WrongType", "LocationTopLevel"], 15, '{"latitude":35.6,"longitude":true}')
    inv("location is a string", ["WrongType", "LocationNested"], 15, '{"location":"Tokyo"}')
    inv("latitude overflows f64", ["NumberOutOfRange", "LocationTopLevel"], 15, '{"latitude":1e400,"longitude":1.0}')
    inv("title is a number", ["WrongType", "LocationNested"], 15,
        '{"location":{"latitude":1,"longitude":2,"title":5}}')
    inv("address is an object", ["WrongType", "LocationTopLevel"], 15, '{"latitude":1,"longitude":2,"address":{}}')
    inv("keyMaterial of 31 bytes", ["KeyMaterialLength"], 1, '{"keyMaterial":"%s"}' % base64.b64encode(r.take(31)).decode())
    inv("keyMaterial of 33 bytes", ["KeyMaterialLength"], 2, '{"keyMaterial":"%s"}' % base64.b64encode(r.take(33)).decode())
    inv("keyMaterial empty", ["KeyMaterialLength"], 3, '{"keyMaterial":""}')
    inv("keyMaterial not base64", ["KeyMaterialNotBase64"], 1, '{"keyMaterial":"not base64 at all!!"}')
    inv("keyMaterial hex instead of base64", ["KeyMaterialNotBase64"], 14, '{"keyMaterial":"%s"}' % r.take(32).hex())
    inv("keyMaterial is a number", ["WrongType"], 2, '{"keyMaterial":12345}')
    inv("keyMaterial missing", ["MissingField"], 3, '{"OID":"abc"}')
    return [pf]


def gen_key_ids() -> list[FileBuilder]:
    kf = FileBuilder("legacy-key-id", "Legacy key-id chunk decoding: encoding bigEndian (i32be, exactly 4 bytes) "
                     "or compact (Thrift compact i32: zigzag then LEB128, 1-5 bytes, shortest form, value < 2^32); "
                     "output the key id. Every accepted chunk is the encoding of its key id (re-encoding gives "
                     "the chunk back).")
    for x, fl in [(0, []), (1, []), (-1, ["NegativeKeyId"]), (1001, []), (2_500_000, []),
                  (I32_MAX, ["ExtremeKeyId"]), (I32_MIN, ["ExtremeKeyId", "NegativeKeyId"])]:
        kf.valid(f"big-endian {x}", ["BigEndian"] + fl, {"chunk": i32be(x).hex(), "encoding": "bigEndian"},
                 {"keyId": x})
    for u in [2**31, 2**32 - 2]:
        x = u - 2**32
        kf.valid(f"big-endian chunk {u:08x}: an id >= 2^31 read unsigned is the i32 {x}", ["BigEndian", "HighBit"],
                 {"chunk": u.to_bytes(4, "big").hex(), "encoding": "bigEndian"}, {"keyId": x})
    for x, fl in [(0, ["OneByte"]), (-1, ["OneByte", "NegativeKeyId"]), (1, ["OneByte"]), (63, ["OneByte"]),
                  (-64, ["OneByte", "NegativeKeyId"]), (64, []), (1001, []), (-8193, ["NegativeKeyId"]),
                  (2_500_000, ["FourBytes"]), (-2_500_000, ["FourBytes", "NegativeKeyId"]),
                  (2**27, ["FiveBytes"]), (I32_MAX, ["FiveBytes", "ExtremeKeyId"]),
                  (I32_MIN, ["FiveBytes", "ExtremeKeyId", "NegativeKeyId"])]:
        kf.valid(f"compact {x}", ["Compact"] + fl, {"chunk": compact_encode(x).hex(), "encoding": "compact"},
                 {"keyId": x})

    def inv(comment, flags, chunk: bytes, encoding, error):
        kf.invalid(comment, flags, {"chunk": chunk.hex(), "encoding": encoding}, error)

    inv("big-endian chunk of 3 bytes", ["BigEndian", "WrongKeyIdLength"], b"\x00\x03\xe9", "bigEndian", "Malformed")
    inv("big-endian chunk of 5 bytes", ["BigEndian", "WrongKeyIdLength"], bytes(5), "bigEndian", "Malformed")
    inv("empty big-endian chunk", ["BigEndian", "WrongKeyIdLength"], b"", "bigEndian", "Malformed")
    inv("a compact chunk read as big-endian", ["BigEndian", "WrongKeyIdLength"], compact_encode(1001), "bigEndian",
        "Malformed")
    inv("empty compact chunk", ["Compact"], b"", "compact", "Truncated")
    inv("one continuation byte", ["Compact"], b"\x80", "compact", "Truncated")
    inv("1001 with its last byte cut off", ["Compact"], compact_encode(1001)[:1], "compact", "Truncated")
    inv("four continuation bytes", ["Compact"], b"\xff" * 4, "compact", "Truncated")
    inv("five continuation bytes", ["Compact", "OverlongVarint"], b"\x80" * 5, "compact", "TooLong")
    inv("six bytes (a 64-bit varint)", ["Compact", "OverlongVarint"], b"\xff" * 5 + b"\x01", "compact", "TooLong")
    inv("ten bytes (zigzag i64 of -1 written as a varint of 2^64 - 1)", ["Compact", "OverlongVarint"],
        b"\xff" * 9 + b"\x01", "compact", "TooLong")
    inv("a byte after the varint", ["Compact"], compact_encode(1001) + b"\x00", "compact", "TrailingData")
    inv("two one-byte varints", ["Compact"], b"\x02\x04", "compact", "TrailingData")
    inv("a big-endian chunk read as compact", ["Compact"], i32be(1001), "compact", "TrailingData")
    inv("0 in two bytes", ["Compact", "NonMinimalVarint"], b"\x80\x00", "compact", "NonMinimal")
    inv("1001 padded to three bytes", ["Compact", "NonMinimalVarint"], b"\xd2\x8f\x00", "compact", "NonMinimal")
    inv("1 padded to five bytes", ["Compact", "NonMinimalVarint"], b"\x82\x80\x80\x80\x00", "compact", "NonMinimal")
    for x in [2**31, 2**31 + 5, 2**32 + 7]:
        z = (x << 1) ^ (x >> 31)  # what an unchecked zigzag writes for an id >= 2^31
        out = bytearray()
        while z >= 0x80:
            out.append((z & 0x7F) | 0x80)
            z >>= 7
        out.append(z)
        if len(out) <= 5:
            inv(f"unchecked zigzag of the id {x} >= 2^31", ["Compact", "IdAbove2Pow31"], bytes(out), "compact",
                "OutOfRange")
    inv("5th byte 0x10: 2^32 + ...", ["Compact"], b"\xff\xff\xff\xff\x10", "compact", "OutOfRange")
    inv("5th byte 0x7f", ["Compact"], b"\x80\x80\x80\x80\x7f", "compact", "OutOfRange")

    df = FileBuilder("legacy-key-id-detect", "Legacy key-id encoding detection (SPEC 11.1): which encoding a message's "
                     "two key-id chunks use, given the recipient key ids the opener holds; output the encoding and "
                     "both key ids, or the error.")

    def dv(comment, flags, s_b, r_b, held, expect_enc):
        out = df.valid(comment, flags, {"senderChunk": s_b.hex(), "recipientChunk": r_b.hex(),
                                        "recipientKeyIds": held})
        assert out["encoding"] == expect_enc, (comment, out)

    dv("both 4-byte big-endian", ["BigEndian"], i32be(1001), i32be(2001), [2001], "bigEndian")
    dv("both short compact", ["Compact"], compact_encode(1001), compact_encode(2001), [2001], "compact")
    dv("compact, one 1-byte and one 5-byte", ["Compact"], compact_encode(-1), compact_encode(I32_MAX), [], "compact")
    s4, r4 = compact_encode(3_000_000), compact_encode(2_500_000)
    assert len(s4) == len(r4) == 4
    r_be = from_i32be(r4)
    dv("4-byte compact chunks that are also i32be: the held compact id decides", ["Ambiguous", "Compact"], s4, r4,
       [2_500_000], "compact")
    dv("the same chunks, the big-endian reading held", ["Ambiguous", "BigEndian"], s4, r4, [r_be], "bigEndian")
    dv("the same chunks, neither reading held: big-endian (the open then fails UnknownKey)", ["Ambiguous",
       "BigEndian"], s4, r4, [], "bigEndian")
    dv("the same chunks, both readings held: big-endian", ["Ambiguous", "BigEndian"], s4, r4, [r_be, 2_500_000],
       "bigEndian")

    def di(comment, flags, s_b, r_b, error):
        df.invalid(comment, flags, {"senderChunk": s_b.hex(), "recipientChunk": r_b.hex(),
                                    "recipientKeyIds": [2001]}, error)

    di("sender chunk truncated", ["Compact"], b"\x80", compact_encode(2001), "Truncated")
    di("recipient chunk non-minimal, sender big-endian", [], i32be(1001), b"\xd2\x8f\x00", "NonMinimal")
    di("recipient chunk of 6 bytes", ["OverlongVarint"], compact_encode(1), b"\xff" * 5 + b"\x01", "TooLong")
    di("both unreadable: the sender's error first", [], b"\x80\x00", b"\x80", "NonMinimal")
    di("recipient compact value above 32 bits", ["IdAbove2Pow31"], compact_encode(1), b"\x81\x80\x80\x80\x10",
       "OutOfRange")
    di("sender big-endian, recipient compact (mixed)", ["MixedEncodings"], i32be(1001), compact_encode(2001),
       "Malformed")
    di("a 5-byte chunk that is no varint beside a big-endian one", [], i32be(1001),
       b"\x00\x00\x00\x07\xd1", "TrailingData")
    return [kf, df]


def gen_raw_scalar() -> list[FileBuilder]:
    r = Rng("legacy-raw-scalar")
    rf = FileBuilder("legacy-raw-scalar", "Legacy raw-scalar keys (SPEC 11.1): the 32 bytes are an unclamped "
                     "little-endian integer k; output the public key u([k]B) and the agreement u([k]P) with a peer "
                     "key, which must be in the prime-order subgroup (else NonContributory), as must the result be "
                     "non-zero.")
    peer_sk, peer_pk = r.key_pair()
    clamped = clamp(r.take(32))
    rf.valid("an already clamped scalar: the same as X25519", ["ClampedScalar"],
             {"scalar": clamped.hex(), "peerPublic": peer_pk.hex()},
             {"publicKey": x25519_public(clamped).hex(), "sharedSecret": x25519(clamped, peer_pk).hex()})
    for i in range(3):
        k = bytearray(r.take(32))
        k[0] |= 0x01  # odd: not a multiple of 8
        k[31] |= 0x80  # bit 255 set
        out = rf.valid(f"unclamped scalar {i}", ["UnclampedScalar"], {"scalar": bytes(k).hex(),
                                                                     "peerPublic": peer_pk.hex()})
        assert out["publicKey"] != x25519_public(bytes(k)).hex()
        # Both sides agree: the peer's X25519 with the raw public key.
        assert out["sharedSecret"] == x25519(peer_sk, bytes.fromhex(out["publicKey"])).hex()
    one = (1).to_bytes(32, "little")
    rf.valid("k = 1: the public key is the base point", ["UnclampedScalar"],
             {"scalar": one.hex(), "peerPublic": peer_pk.hex()},
             {"publicKey": (9).to_bytes(32, "little").hex(), "sharedSecret": peer_pk.hex()})
    rf.invalid("k = 0 (CHRLINE's bytes(32) used unclamped): every agreement is all zeros", ["ZeroScalar"],
               {"scalar": bytes(32).hex(), "peerPublic": peer_pk.hex()}, "NonContributory")
    rf.invalid("k = l: [l]P is the identity", ["ScalarIsGroupOrder"],
               {"scalar": GROUP_L.to_bytes(32, "little").hex(), "peerPublic": peer_pk.hex()}, "NonContributory")
    k = bytes(r.take(32))
    small_order = [bytes(32), (1).to_bytes(32, "little"),
                   bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
                   bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
                   (FIELD_P - 1).to_bytes(32, "little")]
    for i, u in enumerate(small_order):
        rf.invalid(f"small-order peer key {i}", ["SmallOrderPeer"], {"scalar": k.hex(), "peerPublic": u.hex()},
                   "NonContributory")
    mixed = twist = None
    while mixed is None or twist is None:
        u = r.take(32)
        x = _decode_u(u)
        rhs = (x**3 + 486662 * x * x + x) % FIELD_P
        if pow(rhs, (FIELD_P - 1) // 2, FIELD_P) != 1:
            twist = twist or u
        elif not in_prime_order_subgroup(u):
            mixed = mixed or u
    rf.invalid("a curve point outside the prime-order subgroup", ["MixedOrderPeer"],
               {"scalar": k.hex(), "peerPublic": mixed.hex()}, "NonContributory")
    rf.invalid("a point on the twist", ["TwistPeer"], {"scalar": k.hex(), "peerPublic": twist.hex()},
               "NonContributory")
    return [rf]


def gen_weak_keys() -> list[FileBuilder]:
    r = Rng("legacy-weak-keys")
    wf = FileBuilder("legacy-group-key-check", "Legacy group-key weakness flags (SPEC 11.4): KnownConstant (after "
                     "clamping, a built-in constant or one of the denylist), ZeroDerived (clamps to 00..0040), "
                     "SmallOrder (0 mod l as an unclamped integer); strict refuses any flag (WeakGroupKey).")
    clamped_zero = clamp(bytes(32))
    noisy = bytearray(clamped_zero)
    noisy[0] |= 0x07
    noisy[31] |= 0x80
    ell = GROUP_L.to_bytes(32, "little")
    good = clamp(r.take(32))
    listed = r.take(32)
    cases = [
        ("a random clamped key", ["GoodKey"], good, [], []),
        ("CHRLINE before 2022-09-15: bytes(32)", ["ChrlineConstant"], bytes(32), [],
         ["KnownConstant", "ZeroDerived", "SmallOrder"]),
        ("CHRLINE since: generatePrivateKey(bytes(32))", ["ChrlineConstant"], clamped_zero, [],
         ["KnownConstant", "ZeroDerived"]),
        ("the constant with the bits clamping ignores set", ["ChrlineConstant"], bytes(noisy), [],
         ["KnownConstant", "ZeroDerived"]),
        ("l: unusable unclamped", ["GroupOrder"], ell, [], ["SmallOrder"]),
        ("2l", ["GroupOrder"], (2 * GROUP_L).to_bytes(32, "little"), [], ["SmallOrder"]),
        ("a key on the vector's denylist", ["Denylist"], listed, [clamp(listed)], ["KnownConstant"]),
        ("a denylist entry matches after clamping", ["Denylist"], clamp(listed), [listed], ["KnownConstant"]),
        ("a denylist that does not match", ["Denylist", "GoodKey"], good, [listed], []),
    ]
    for comment, fl, k, deny, flags in cases:
        wf.valid(comment, fl, {"groupKey": k.hex(), "denylist": [d.hex() for d in deny], "strict": False},
                 {"flags": flags})
    wf.valid("strict, a good key", ["Strict", "GoodKey"], {"groupKey": good.hex(), "denylist": [], "strict": True},
             {"flags": []})
    for comment, fl, k, deny, flags in cases:
        if flags:
            wf.invalid(f"strict: {comment}", ["Strict"] + fl,
                       {"groupKey": k.hex(), "denylist": [d.hex() for d in deny], "strict": True}, "WeakGroupKey")
    return [wf]


def gen_sessions() -> list[FileBuilder]:
    r = Rng("legacy-sessions")
    a_sk, a_pk = r.key_pair()
    b_sk, b_pk = r.key_pair()
    c_sk, c_pk = r.key_pair()
    ua, ub, uc = r.user_id(), r.user_id(), r.user_id()
    gid = r.group_id()
    # Ids around 2^21 take four compact bytes: the ambiguous case is the common one.
    akid, bkid, ckid = 2_500_001, 2_500_002, -7
    sf = FileBuilder("legacy-session-seal", "Legacy session seal (SPEC 11.9): v2 from me to the peer with a fixed salt "
                     "and nonce (12 or 16 bytes); key-id chunks in keyIdEncoding, the AAD from the integers.")
    texts = {
        0: b'{"text":"from a session"}',
        15: b'{"location":{"latitude":35.6812,"longitude":139.7671,"title":"Tokyo Station"}}',
        1: ('{"keyMaterial":"%s"}' % base64.b64encode(r.take(32)).decode()).encode(),
        7: b'{"STKID":"52002734","STKPKGID":"11537"}',
    }
    sealed = []
    for enc in KEY_ID_ENCODINGS:
        for nlen in (16, 12):
            for ct, m in texts.items():
                inp = {"mySecret": a_sk.hex(), "myKeyId": akid, "me": ua, "peerPublic": b_pk.hex(),
                       "peerKeyId": bkid, "peer": ub, "contentType": ct, "salt": r.take(16).hex(),
                       "nonce": r.take(nlen).hex(), "keyIdEncoding": enc, "plaintext": m.hex()}
                fl = ["Compact" if enc == "compact" else "BigEndian", f"Nonce{nlen}"]
                if ct:
                    fl.append("ContentType")
                out = sf.valid(f"{enc}, {nlen}-byte nonce, content type {ct}", fl, inp)
                sealed.append(([bytes.fromhex(c) for c in out["chunks"]], m, ct, enc, nlen))
    out = sf.valid("negative key ids, compact", ["Compact", "NegativeKeyId", "Nonce16"],
                   {"mySecret": c_sk.hex(), "myKeyId": ckid, "me": uc, "peerPublic": a_pk.hex(),
                    "peerKeyId": I32_MIN, "peer": ua, "contentType": 0, "salt": r.take(16).hex(),
                    "nonce": r.take(16).hex(), "keyIdEncoding": "compact", "plaintext": b'{"text":"-"}'.hex()})
    assert [len(bytes.fromhex(c)) for c in out["chunks"][3:]] == [1, 5]

    of = FileBuilder("legacy-session-open", "Legacy 1:1 session open (SPEC 11.9): my key and the peer's, agreed once; "
                     "key-id encoding detected with my key id; the key ids must be the session's; v1 or v2; output "
                     "the key-id encoding and the payload parsed for its content type.")
    base = {"mySecret": b_sk.hex(), "myKeyId": bkid, "me": ub, "peerPublic": a_pk.hex(), "peerKeyId": akid,
            "peer": ua}

    def expect(ct, m, enc):
        return {"keyIdEncoding": enc, "payload": session_payload(ct, m)}

    for ch, m, ct, enc, nlen in sealed:
        fl = ["Compact" if enc == "compact" else "BigEndian", f"Nonce{nlen}", "Ambiguous"]
        of.valid(f"v2, {enc}, {nlen}-byte nonce, content type {ct}", fl + (["ContentType"] if ct else []),
                 {**base, "version": 2, "contentType": ct, "chunks": hexes(ch)}, expect(ct, m, enc))
    for enc in KEY_ID_ENCODINGS:
        m = b'{"text":"v1 in a session"}'
        ch = v1_seal(a_sk, b_pk, akid, bkid, r.take(8), m)
        ch = ch[:3] + [key_id_encode(akid, enc), key_id_encode(bkid, enc)]
        of.valid(f"v1, {enc}", ["V1", "Compact" if enc == "compact" else "BigEndian"],
                 {**base, "version": 1, "contentType": 0, "chunks": hexes(ch)}, expect(0, m, enc))
    m = b'{"location":{"latitude":-33.8688,"longitude":151.2093,"address":"Bennelong Point","title":null}}'
    ch = v2_seal(a_sk, b_pk, akid, bkid, ub, ua, 15, r.take(16), r.take(16), m, nonce_lengths=(16,))
    of.valid("location with an address and a null title", ["ContentType", "Nonce16", "BigEndian"],
             {**base, "version": 2, "contentType": 15, "chunks": hexes(ch)}, expect(15, m, "bigEndian"))

    ch, m, ct, enc, _ = sealed[8]  # compact, 16-byte nonce, text
    assert (ct, enc) == (0, "compact")

    def inv(comment, flags, chunks, error, **over):
        of.invalid(comment, flags, {**base, "version": 2, "contentType": 0, **over, "chunks": hexes(chunks)}, error)

    inv("sender key id truncated", ["Compact"], [*ch[:3], ch[3][:2], ch[4]], "Truncated")
    inv("recipient key id padded with a zero byte", ["Compact", "NonMinimalVarint"],
        [*ch[:4], ch[4][:-1] + bytes([ch[4][-1] | 0x80, 0])], "NonMinimal")
    inv("recipient key id of 6 bytes", ["Compact", "OverlongVarint"], [*ch[:4], b"\xff" * 5 + b"\x01"], "TooLong")
    inv("a byte after the sender key id", ["Compact"], [*ch[:3], ch[3] + b"\x00\x01", ch[4]], "TrailingData")
    inv("recipient key id above 32 bits", ["Compact", "IdAbove2Pow31"], [*ch[:4], b"\x81\x80\x80\x80\x10"],
        "OutOfRange")
    inv("sender big-endian, recipient compact", ["MixedEncodings"], [*ch[:3], i32be(akid), compact_encode(3)],
        "Malformed")
    inv("recipient key id is another of mine", ["Compact", "UnknownKey"], [*ch[:4], compact_encode(bkid + 1)],
        "UnknownKey")
    inv("sender key id is not the peer's", ["Compact", "UnknownKey"], [*ch[:3], compact_encode(5), ch[4]],
        "UnknownKey")
    inv("tag flipped", ["TagFlipped"], [ch[0], flip(ch[1], len(ch[1]) - 1), *ch[2:]], "DecryptionFailed")
    inv("wrong content type", ["WrongContentType"], ch, "DecryptionFailed", contentType=15)
    inv("to and from swapped", ["SwappedIds"], ch, "DecryptionFailed", me=ua, peer=ub)
    inv("nonce of 13 bytes", ["WrongNonceLength"], [ch[0], ch[1], ch[2][:13], *ch[3:]], "Malformed")
    inv("4 chunks", ["WrongChunkCount"], ch[:4], "Malformed")
    inv("a v2 message opened as v1 (salt of 16 bytes)", ["V1", "WrongSaltLength"], ch, "Malformed", version=1)
    inv("me with uppercase hex", ["UppercaseHex"], ch, "InvalidId", me=ub.upper())
    inv("small-order peer key", ["SmallOrderPeer"], ch, "NonContributory", peerPublic=bytes(32).hex())
    bad = v2_seal(a_sk, b_pk, akid, bkid, ub, ua, 0, r.take(16), r.take(16), b"not json", nonce_lengths=(16,))
    inv("text that is not JSON", ["InvalidPayloadText"], bad, "InvalidPayload")
    bad = v2_seal(a_sk, b_pk, akid, bkid, ub, ua, 15, r.take(16), r.take(16),
                  b'{"location":{"latitude":1,"longitude":2,"title":5}}', nonce_lengths=(16,))
    inv("location title is a number", ["InvalidPayloadText", "ContentType"], bad, "InvalidPayload", contentType=15)

    gf = FileBuilder("legacy-session-group-open", "Legacy group member session open (SPEC 11.9): the group key and one "
                     "member's key, agreed once; key-id encoding detected with the group key id; the key ids must "
                     "be the member's and the group key id; output the key-id encoding and the payload.")
    gk = clamp(r.take(32))
    gpub = x25519_public(gk)
    gkid = 3_000_000
    gbase = {"groupKey": gk.hex(), "groupKeyId": gkid, "groupId": gid, "memberPublic": a_pk.hex(),
             "memberKeyId": akid, "from": ua}
    gsealed = []
    for enc in KEY_ID_ENCODINGS:
        for nlen in (16, 12):
            for ct, m in [(0, b'{"text":"to the group"}'), (7, texts[7])]:
                ch = group_seal(a_sk, gpub, akid, gkid, gid, ua, ct, r.take(16), r.take(nlen), m,
                                nonce_lengths=(12, 16))
                ch = ch[:3] + [key_id_encode(akid, enc), key_id_encode(gkid, enc)]
                gsealed.append(ch)
                gf.valid(f"{enc}, {nlen}-byte nonce, content type {ct}",
                         ["Compact" if enc == "compact" else "BigEndian", f"Nonce{nlen}"]
                         + (["ContentType"] if ct else []),
                         {**gbase, "contentType": ct, "chunks": hexes(ch)}, expect(ct, m, enc))
    ch = gsealed[0]

    def ginv(comment, flags, chunks, error, **over):
        gf.invalid(comment, flags, {**gbase, "contentType": 0, **over, "chunks": hexes(chunks)}, error)

    ginv("recipient key id is not the group key id", ["BigEndian", "GroupKeyIdMismatch", "UnknownKey"],
         [*ch[:4], i32be(gkid + 1)], "UnknownKey")
    ginv("another member's key id", ["BigEndian", "UnknownKey"], [*ch[:3], i32be(ckid), ch[4]], "UnknownKey")
    ginv("recipient key id non-minimal", ["Compact", "NonMinimalVarint"], [*ch[:3], compact_encode(akid),
         b"\x80\x00"], "NonMinimal")
    ginv("another group id", ["WrongGroupId"], ch, "DecryptionFailed", groupId=r.group_id())
    ginv("another member's public key", ["WrongSenderKey"], ch, "DecryptionFailed", memberPublic=c_pk.hex())
    ginv("C||tag empty", ["ShortCiphertext"], [ch[0], b"", *ch[2:]], "Malformed")
    return [sf, of, gf]


def build_all() -> dict[str, str]:
    files: dict[str, str] = {}
    for gen in (gen_v1, gen_v2, gen_group, gen_media, gen_payload, gen_key_ids, gen_raw_scalar, gen_weak_keys,
                gen_sessions):
        for fb in gen():
            files[f"{fb.step}.json"] = dump(fb.document())
    assert set(files) == {f"{s}.json" for s in STEPS}
    return files


# ---------------------------------------------------------------------------------------------
# Verification of a loaded document (independent of regeneration)
# ---------------------------------------------------------------------------------------------


def _same(a, b) -> bool:
    """JSON equality that does not confuse bool with int or int with float."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def verify_doc(name: str, doc) -> tuple[int, list[str]]:
    """Returns (cases passed, problems); a problem is a failed case or a file-level rule."""
    problems: list[str] = []
    passed = 0
    if not isinstance(doc, dict):
        return 0, ["not a JSON object"]
    step = doc.get("step")
    if f"{step}.json" != name or step not in STEPS:
        return 0, [f"step {step!r} does not match the file name"]
    section, errors = STEPS[step]
    if doc.get("schema") != SCHEMA:
        problems.append(f"schema is {doc.get('schema')!r}")
    if doc.get("specSection") != section:
        problems.append(f"specSection is {doc.get('specSection')!r}, expected {section}")
    if not isinstance(doc.get("description"), str) or not doc["description"]:
        problems.append("description missing")
    notes = doc.get("notes")
    if not isinstance(notes, dict):
        problems.append("notes missing")
        notes = {}
    tests = doc.get("tests")
    if not isinstance(tests, list) or not tests:
        return passed, problems + ["no tests"]
    if doc.get("numberOfTests") != len(tests):
        problems.append(f"numberOfTests {doc.get('numberOfTests')} != {len(tests)}")
    seen: set = set()
    for t in tests:
        tid = t.get("tcId") if isinstance(t, dict) else None
        where = f"tcId {tid}"
        if not isinstance(tid, int) or isinstance(tid, bool) or tid in seen:
            problems.append(f"{where}: missing or duplicate tcId")
            continue
        seen.add(tid)
        if set(t) - {"tcId", "comment", "flags", "input", "output", "result", "error"}:
            problems.append(f"{where}: unknown fields {sorted(set(t) - {'tcId', 'comment', 'flags', 'input', 'output', 'result', 'error'})}")
            continue
        flags = t.get("flags")
        if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            problems.append(f"{where}: flags is not a list of strings")
            continue
        missing = [f for f in flags if f not in notes]
        if missing:
            problems.append(f"{where}: flags without a note: {missing}")
            continue
        result, output = t.get("result"), t.get("output")
        if not isinstance(t.get("comment"), str) or not isinstance(output, dict):
            problems.append(f"{where}: comment or output missing")
            continue
        if result == "valid":
            if "error" in t:
                problems.append(f"{where}: a valid case carries an error")
                continue
            try:
                got = run_step(step, t.get("input"))
            except Reject as e:
                problems.append(f"{where}: expected valid, the reference rejects: {e}")
                continue
            except BadInput as e:
                problems.append(f"{where}: unusable vector: {e}")
                continue
            if not _same(got, output):
                problems.append(f"{where}: output differs: expected {output}, reference {got}")
                continue
        elif result == "invalid":
            err = t.get("error")
            if err not in errors:
                problems.append(f"{where}: error {err!r} is not one the step lists {errors}")
                continue
            if err not in flags:
                problems.append(f"{where}: the error {err} is not among the flags")
                continue
            if output != {}:
                problems.append(f"{where}: an invalid case has a non-empty output")
                continue
            try:
                got = run_step(step, t.get("input"))
            except Reject as e:
                if e.name != err:
                    problems.append(f"{where}: expected {err}, the reference says {e}")
                    continue
            except BadInput as e:
                problems.append(f"{where}: unusable vector: {e}")
                continue
            else:
                problems.append(f"{where}: expected {err}, the reference accepts: {got}")
                continue
        else:
            problems.append(f"{where}: result {result!r}")
            continue
        passed += 1
    return passed, problems


def check(directory: Path, quiet: bool = False) -> tuple[int, int]:
    expected = build_all()
    total_pass = total_fail = 0
    present = sorted(p.name for p in directory.glob("*.json")) if directory.is_dir() else []
    for name in sorted(set(expected) | set(present)):
        path = directory / name
        if name not in expected:
            total_fail += 1
            if not quiet:
                print(f"FAIL {name}: not a file this generator writes")
            continue
        if not path.is_file():
            total_fail += 1
            if not quiet:
                print(f"FAIL {name}: missing")
            continue
        text = path.read_text(encoding="utf-8")
        same = text == expected[name]
        try:
            doc = json.loads(text)
        except ValueError as e:
            total_fail += 1
            if not quiet:
                print(f"FAIL {name}: not JSON ({e})")
            continue
        passed, problems = verify_doc(name, doc)
        if not same:
            problems.insert(0, "differs from the regenerated file (run --generate and review the diff)")
        total_pass += passed
        total_fail += len(problems)
        n = len(doc.get("tests", [])) if isinstance(doc, dict) else 0
        if not quiet:
            if problems:
                print(f"FAIL {name}: {passed}/{n} cases verified")
                for p in problems:
                    print(f"     {p}")
            else:
                print(f"ok   {name}: {n} cases ({sum(t.get('result') == 'invalid' for t in doc['tests'])} invalid), "
                      f"identical to the regenerated file")
    if not quiet:
        print(f"{total_pass} passed, {total_fail} failed")
    return total_pass, total_fail


# ---------------------------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------------------------


def _flip_hex(s: str) -> str:
    return s[:-1] + "%x" % (int(s[-1], 16) ^ 1)


def _first(doc: dict, pred) -> dict:
    for t in doc["tests"]:
        if pred(t):
            return t
    raise AssertionError("self-test: no case matches")


def self_test() -> int:
    docs = {name: json.loads(text) for name, text in build_all().items()}
    bad = 0
    for name, doc in docs.items():
        _, problems = verify_doc(name, doc)
        if problems:
            print(f"self-test: unmodified {name} fails: {problems[:3]}")
            bad += 1
    valid = lambda t: t["result"] == "valid"
    invalid = lambda t: t["result"] == "invalid"

    def m_chunk(d):
        t = _first(d, valid)
        t["output"]["chunks"][1] = _flip_hex(t["output"]["chunks"][1])

    def m_chunk_mac(d):
        t = _first(d, valid)
        t["output"]["chunks"][2] = _flip_hex(t["output"]["chunks"][2])

    def m_plain(d):
        t = _first(d, lambda t: valid(t) and t["output"].get("plaintext"))
        t["output"]["plaintext"] = _flip_hex(t["output"]["plaintext"])

    def m_skid(d):
        _first(d, valid)["output"]["senderKeyId"] += 1

    def m_error(d):
        t = _first(d, lambda t: invalid(t) and t["error"] == "DecryptionFailed")
        t["error"] = "Malformed"
        t["flags"] = ["Malformed" if f == "DecryptionFailed" else f for f in t["flags"]]
        d["notes"].setdefault("Malformed", "x")

    def m_error2(d):
        t = _first(d, lambda t: invalid(t) and t["error"] == "InvalidId")
        t["error"] = "DecryptionFailed"
        t["flags"].append("DecryptionFailed")
        d["notes"].setdefault("DecryptionFailed", "x")

    def m_unknown_key(d):
        t = _first(d, lambda t: invalid(t) and t["error"] == "UnknownKey")
        t["error"] = "DecryptionFailed"
        t["flags"].append("DecryptionFailed")

    def m_to_valid(d):
        t = _first(d, invalid)
        t["result"] = "valid"
        del t["error"]
        t["output"] = {"plaintext": "", "senderKeyId": 0}

    def m_to_invalid(d):
        t = _first(d, valid)
        t["result"] = "invalid"
        t["error"] = "DecryptionFailed"
        t["flags"].append("DecryptionFailed")
        t["output"] = {}

    def m_note(d):
        t = _first(d, lambda t: t["flags"])
        del d["notes"][t["flags"][0]]

    def m_count(d):
        d["numberOfTests"] += 1

    def m_dup(d):
        d["tests"][1]["tcId"] = d["tests"][0]["tcId"]

    def m_key(d, field):
        def f(d):
            t = _first(d, valid)
            t["output"][field] = _flip_hex(t["output"][field])
        return f

    def m_lat(d):
        t = _first(d, lambda t: valid(t) and "latitude" in t["output"])
        t["output"]["latitude"] += 1e-9

    def m_lat_int(d):
        t = _first(d, lambda t: valid(t) and t["output"].get("latitude") == 35.0)
        t["output"]["latitude"] = 35

    def m_km(d):
        t = _first(d, lambda t: valid(t) and "keyMaterial" in t["output"])
        t["output"]["keyMaterial"] = _flip_hex(t["output"]["keyMaterial"])

    def m_text(d):
        t = _first(d, lambda t: valid(t) and t["output"].get("text"))
        t["output"]["text"] += " "

    def m_input_nonce16(d):
        # a valid 16-byte-nonce case whose nonce is cut to 12 bytes no longer opens
        t = _first(d, lambda t: valid(t) and "Nonce16" in t["flags"])
        t["input"]["chunks"][2] = t["input"]["chunks"][2][:24]

    def m_wrong_section(d):
        d["specSection"] = "11.9"

    def m_error_not_flag(d):
        t = _first(d, invalid)
        t["flags"].remove(t["error"])

    def m_invalid_output(d):
        _first(d, invalid)["output"] = {"plaintext": ""}

    def m_key_id(d):
        _first(d, lambda t: valid(t) and t["input"].get("encoding") == "compact")["output"]["keyId"] += 1

    def m_as_big_endian(d):
        # a compact chunk claimed to be big-endian: another id, or Malformed
        t = _first(d, lambda t: valid(t) and t["input"].get("encoding") == "compact"
                   and len(t["input"]["chunk"]) != 8)
        t["input"]["encoding"] = "bigEndian"

    def m_error_to(name):
        def f(d):
            t = _first(d, lambda t: invalid(t) and t["error"] != name)
            old = t["error"]
            t["error"] = name
            t["flags"] = [name if x == old else x for x in t["flags"]]
            d["notes"].setdefault(name, "x")
        return f

    def m_detect(d):
        t = _first(d, lambda t: valid(t) and "Ambiguous" in t["flags"] and t["output"]["encoding"] == "compact")
        t["output"]["encoding"] = "bigEndian"

    def m_held(d):
        t = _first(d, lambda t: valid(t) and "Ambiguous" in t["flags"] and t["output"]["encoding"] == "compact")
        t["input"]["recipientKeyIds"] = []

    def m_shared(d):
        t = _first(d, lambda t: valid(t) and "UnclampedScalar" in t["flags"])
        t["output"]["sharedSecret"] = _flip_hex(t["output"]["sharedSecret"])

    def m_raw_public(d):
        t = _first(d, lambda t: valid(t) and "UnclampedScalar" in t["flags"])
        t["output"]["publicKey"] = _flip_hex(t["output"]["publicKey"])

    def m_flags(d):
        t = _first(d, lambda t: valid(t) and "SmallOrder" in t["output"]["flags"])
        t["output"]["flags"].remove("SmallOrder")

    def m_strict_off(d):
        t = _first(d, invalid)
        t["input"]["strict"] = False

    def m_enc_out(d):
        t = _first(d, lambda t: valid(t) and t["output"]["keyIdEncoding"] == "compact")
        t["output"]["keyIdEncoding"] = "bigEndian"

    def m_payload(d):
        t = _first(d, lambda t: valid(t) and "other" in t["output"]["payload"])
        t["output"]["payload"]["other"] = _flip_hex(t["output"]["payload"]["other"])

    def m_title(d):
        t = _first(d, lambda t: valid(t) and "title" in t["output"].get("payload", t["output"]))
        p = t["output"].get("payload", t["output"])
        del p["title"]

    def m_session_chunk(d):
        t = _first(d, lambda t: valid(t) and t["input"]["keyIdEncoding"] == "compact")
        t["output"]["chunks"][4] = t["output"]["chunks"][4] + "00"

    mutations = [
        ("legacy-v1-seal.json", "C chunk flipped", m_chunk),
        ("legacy-v1-seal.json", "MAC chunk flipped", m_chunk_mac),
        ("legacy-v1-open.json", "plaintext flipped", m_plain),
        ("legacy-v1-open.json", "senderKeyId changed", m_skid),
        ("legacy-v1-open.json", "DecryptionFailed -> Malformed", m_error),
        ("legacy-v1-open.json", "UnknownKey -> DecryptionFailed", m_unknown_key),
        ("legacy-v1-open.json", "invalid case made valid", m_to_valid),
        ("legacy-v2-seal.json", "tag chunk flipped", m_chunk),
        ("legacy-v2-open.json", "16-byte-nonce case's nonce truncated", m_input_nonce16),
        ("legacy-v2-open.json", "InvalidId -> DecryptionFailed", m_error2),
        ("legacy-v2-open.json", "valid case made invalid", m_to_invalid),
        ("legacy-v2-open.json", "note removed", m_note),
        ("legacy-v2-open.json", "numberOfTests off by one", m_count),
        ("legacy-v2-open.json", "duplicate tcId", m_dup),
        ("legacy-v2-open.json", "error not among the flags", m_error_not_flag),
        ("legacy-v2-open.json", "invalid case with an output", m_invalid_output),
        ("legacy-group-key.json", "groupKey flipped", m_key(None, "groupKey")),
        ("legacy-group-key.json", "groupPublic flipped", m_key(None, "groupPublic")),
        ("legacy-group-wrap.json", "wrap flipped", m_key(None, "wrap")),
        ("legacy-group-unwrap.json", "groupKey flipped", m_key(None, "groupKey")),
        ("legacy-group-unwrap.json", "DecryptionFailed -> Malformed", m_error),
        ("legacy-group-seal.json", "chunk flipped", m_chunk),
        ("legacy-group-open.json", "plaintext flipped", m_plain),
        ("legacy-group-open.json", "UnknownKey -> DecryptionFailed", m_unknown_key),
        ("legacy-group-open.json", "16-byte-nonce case's nonce truncated", m_input_nonce16),
        ("legacy-media-seal.json", "blob flipped", m_key(None, "blob")),
        ("legacy-media-seal.json", "nonce flipped", m_key(None, "nonce")),
        ("legacy-media-seal.json", "macKey flipped", m_key(None, "macKey")),
        ("legacy-media-open.json", "plaintext flipped", m_plain),
        ("legacy-media-open.json", "DecryptionFailed -> Malformed", m_error),
        ("legacy-media-open.json", "wrong specSection", m_wrong_section),
        ("legacy-payload.json", "latitude changed", m_lat),
        ("legacy-payload.json", "latitude 35.0 written as integer 35", m_lat_int),
        ("legacy-payload.json", "text changed", m_text),
        ("legacy-payload.json", "keyMaterial flipped", m_km),
        ("legacy-payload.json", "invalid payload made valid", m_to_valid),
        ("legacy-payload.json", "location title dropped", m_title),
        ("legacy-key-id.json", "compact keyId changed", m_key_id),
        ("legacy-key-id.json", "compact chunk read as big-endian", m_as_big_endian),
        ("legacy-key-id.json", "an error renamed NonMinimal", m_error_to("NonMinimal")),
        ("legacy-key-id.json", "an error renamed Truncated", m_error_to("Truncated")),
        ("legacy-key-id-detect.json", "ambiguous case's encoding flipped", m_detect),
        ("legacy-key-id-detect.json", "ambiguous case's held ids removed", m_held),
        ("legacy-key-id-detect.json", "an error renamed Malformed", m_error_to("Malformed")),
        ("legacy-raw-scalar.json", "shared secret flipped", m_shared),
        ("legacy-raw-scalar.json", "raw public key flipped", m_raw_public),
        ("legacy-raw-scalar.json", "refused peer made valid", m_to_valid),
        ("legacy-group-key-check.json", "SmallOrder flag dropped", m_flags),
        ("legacy-group-key-check.json", "strict case made lenient", m_strict_off),
        ("legacy-session-seal.json", "compact key-id chunk extended", m_session_chunk),
        ("legacy-session-open.json", "key-id encoding flipped", m_enc_out),
        ("legacy-session-open.json", "other payload flipped", m_payload),
        ("legacy-session-open.json", "location title dropped", m_title),
        ("legacy-session-open.json", "an error renamed UnknownKey", m_error_to("UnknownKey")),
        ("legacy-session-group-open.json", "key-id encoding flipped", m_enc_out),
        ("legacy-session-group-open.json", "UnknownKey -> DecryptionFailed", m_unknown_key),
    ]
    undetected = 0
    for name, what, mutate in mutations:
        d = copy.deepcopy(docs[name])
        mutate(d)
        _, problems = verify_doc(name, d)
        if problems:
            print(f"detected   {name}: {what}: {problems[0][:110]}")
        else:
            print(f"UNDETECTED {name}: {what}")
            undetected += 1
    # the file comparison of --check: a changed, a missing and an extra file must each fail
    files = build_all()
    file_cases = 0
    with tempfile.TemporaryDirectory() as tmp:
        tdir = Path(tmp)
        for n, text in files.items():
            (tdir / n).write_text(text, encoding="utf-8")
        _, f0 = check(tdir, quiet=True)
        if f0:
            print("self-test: --check fails on freshly generated files")
            bad += 1
        for what, act in [
            ("one byte of whitespace changed", lambda: (tdir / "legacy-v1-seal.json").write_text(
                files["legacy-v1-seal.json"].replace("\n  ", "\n   ", 1), encoding="utf-8")),
            ("a file removed", lambda: (tdir / "legacy-payload.json").unlink()),
            ("an extra file", lambda: (tdir / "legacy-extra.json").write_text("{}", encoding="utf-8")),
        ]:
            for n, text in files.items():
                (tdir / n).write_text(text, encoding="utf-8")
            extra = tdir / "legacy-extra.json"
            if extra.exists():
                extra.unlink()
            act()
            _, f = check(tdir, quiet=True)
            file_cases += 1
            if f:
                print(f"detected   --check: {what}")
            else:
                print(f"UNDETECTED --check: {what}")
                undetected += 1
    total = len(mutations) + file_cases
    print(f"self-test: {total - undetected} of {total} mutations detected; "
          f"{'unmodified files verify' if not bad else f'{bad} unmodified problems'}")
    return 1 if undetected or bad else 0


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--generate", nargs="?", const=DEFAULT_DIR, type=Path, metavar="DIR",
                   help="write the vector files (default: %(const)s)")
    g.add_argument("--check", nargs="?", const=DEFAULT_DIR, type=Path, metavar="DIR",
                   help="regenerate in memory, compare byte for byte, re-verify every case")
    g.add_argument("--self-test", action="store_true", help="confirm that mutated expectations are detected")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if args.generate is not None:
        files = build_all()
        args.generate.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (args.generate / name).write_text(text, encoding="utf-8")
            doc = json.loads(text)
            print(f"wrote {args.generate / name}: {doc['numberOfTests']} cases")
        return 0
    _, failed = check(args.check)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
