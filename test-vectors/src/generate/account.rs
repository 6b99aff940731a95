//! Vectors of the account layer (SPEC.md §13.1–13.3): device lists signed and
//! verified (forged, signed by the wrong key, rolled back, malformed), and
//! envelopes (every kind, unknown versions and kinds, malformed framing, and
//! bodies relabelled as another kind).

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use serde_json::{Value, json};

use super::{Builder, T0, h, random, rng, unhex};
use crate::VectorFile;
use letterseal::account::{Account, DeviceList, ListedDevice, UserSecretKey};
use letterseal::group::GroupId;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::IdentitySecretKey;
use letterseal::labels;
use letterseal::pairwise::ContentType;
use letterseal::time::Timestamp;

/// `u8(1) ‖ lp8(user id) ‖ user key ‖ u64(version) ‖ u8(n) ‖ n × (u32(device) ‖ key)`,
/// written field by field from SPEC.md §13.2 (with `n` given separately, so a
/// case can lie about it).
fn raw_content(
    layout: u8,
    user: &[u8],
    user_key: &[u8; 32],
    version: u64,
    n: u8,
    devices: &[(u32, [u8; 32])],
) -> Vec<u8> {
    let mut c = vec![layout, user.len() as u8];
    c.extend_from_slice(user);
    c.extend_from_slice(user_key);
    c.extend_from_slice(&version.to_be_bytes());
    c.push(n);
    for (id, key) in devices {
        c.extend_from_slice(&id.to_be_bytes());
        c.extend_from_slice(key);
    }
    c
}

/// `content ‖ SignLabeled(seed, "device list", content)`.
fn signed(seed: &[u8; 32], content: Vec<u8>) -> Vec<u8> {
    let signature =
        IdentitySecretKey::from_seed(seed).sign_labeled(labels::sig::DEVICE_LIST, &content);
    let mut out = content;
    out.extend_from_slice(&signature.to_bytes());
    out
}

/// A list built from its fields, `n` the real count, validly signed by `seed`.
fn list(seed: &[u8; 32], user: &[u8], version: u64, devices: &[(u32, [u8; 32])]) -> Vec<u8> {
    let key = IdentitySecretKey::from_seed(seed).public_key().to_bytes();
    signed(
        seed,
        raw_content(1, user, &key, version, devices.len() as u8, devices),
    )
}

/// Ed25519 group order L, little-endian.
const ED_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The same list with the signature's S replaced by S + L (non-canonical: a
/// strict verifier refuses it, a lax one accepts it).
fn s_plus_l(list: &[u8]) -> Vec<u8> {
    let mut out = list.to_vec();
    let at = out.len() - 32;
    let mut carry = 0u16;
    for (i, l) in ED_L.iter().enumerate() {
        if let Some(b) = out.get_mut(at + i) {
            let sum = u16::from(*b) + u16::from(*l) + carry;
            *b = sum as u8;
            carry = sum >> 8;
        }
    }
    out
}

/// 256-bit little-endian limbs, for the one scalar computation below.
type U256 = [u64; 4];

/// The Ed25519 group order L as limbs.
const L_LIMBS: U256 = [
    0x5812_631a_5cf5_d3ed,
    0x14de_f9de_a2f7_9cd6,
    0,
    0x1000_0000_0000_0000,
];

fn add256(a: &U256, b: &U256) -> U256 {
    let mut out = [0u64; 4];
    let mut carry = 0u128;
    for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b)) {
        let sum = u128::from(*x) + u128::from(*y) + carry;
        *o = sum as u64;
        carry = sum >> 64;
    }
    out
}

fn sub256(a: &U256, b: &U256) -> U256 {
    let mut out = [0u64; 4];
    let mut borrow = 0u64;
    for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b)) {
        let (d1, b1) = x.overflowing_sub(*y);
        let (d2, b2) = d1.overflowing_sub(borrow);
        *o = d2;
        borrow = u64::from(b1 || b2);
    }
    out
}

/// `a + b mod L` for `a, b < L`.
fn add_mod_l(a: &U256, b: &U256) -> U256 {
    let sum = add256(a, b);
    let at_least_l = sum
        .iter()
        .rev()
        .zip(L_LIMBS.iter().rev())
        .find(|(x, y)| x != y)
        .is_none_or(|(x, y)| x > y);
    if at_least_l {
        sub256(&sum, &L_LIMBS)
    } else {
        sum
    }
}

/// `k · x mod L`, `x` a little-endian integer of any length, by double-and-add.
fn mul_mod_l(k: &U256, x: &[u8]) -> U256 {
    let mut acc = [0u64; 4];
    for byte in x.iter().rev() {
        for bit in (0..8).rev() {
            acc = add_mod_l(&acc, &acc);
            if (byte >> bit) & 1 == 1 {
                acc = add_mod_l(&acc, k);
            }
        }
    }
    acc
}

/// A device list whose signature has R = the neutral element (small order)
/// and S = k·a mod L, made by the holder of the user key: the cofactorless
/// equation [S]B = R + [k]A holds, so a non-strict verifier accepts it;
/// SPEC.md §3.2's strict verification refuses it.
fn small_order_r_list(seed: &[u8; 32], content: Vec<u8>) -> Result<Vec<u8>, String> {
    use ed25519_dalek::Verifier;
    use sha2::Digest;
    let public = IdentitySecretKey::from_seed(seed).public_key().to_bytes();
    let expanded = sha2::Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(expanded.get(..32).unwrap_or_default());
    if let Some(first) = a.first_mut() {
        *first &= 248;
    }
    if let Some(last) = a.last_mut() {
        *last &= 127;
        *last |= 64;
    }
    let r = unhex::<32>(NEUTRAL)?;
    let mut hash = sha2::Sha512::new();
    hash.update(r);
    hash.update(public);
    hash.update(labels::PROTOCOL_ID);
    hash.update([labels::sig::DEVICE_LIST.len_u8()]);
    hash.update(labels::sig::DEVICE_LIST.as_bytes());
    hash.update(&content);
    let one: U256 = [1, 0, 0, 0];
    let k = mul_mod_l(&one, &hash.finalize());
    let s = mul_mod_l(&k, &a);
    let mut signature = Vec::with_capacity(64);
    signature.extend_from_slice(&r);
    for limb in s {
        signature.extend_from_slice(&limb.to_le_bytes());
    }
    // The case is only worth having if a lax verifier accepts it.
    let mut message = labels::PROTOCOL_ID.to_vec();
    message.push(labels::sig::DEVICE_LIST.len_u8());
    message.extend_from_slice(labels::sig::DEVICE_LIST.as_bytes());
    message.extend_from_slice(&content);
    let sig_bytes: [u8; 64] = signature
        .clone()
        .try_into()
        .map_err(|_| "signature length")?;
    let lax = ed25519_dalek::VerifyingKey::from_bytes(&public)
        .map_err(|e| e.to_string())?
        .verify(&message, &ed25519_dalek::Signature::from_bytes(&sig_bytes));
    if lax.is_err() {
        return Err("small-order R signature: a non-strict verifier refuses it too".into());
    }
    let mut out = content;
    out.extend_from_slice(&signature);
    Ok(out)
}

fn flip(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let Some(b) = out.get_mut(at) {
        *b ^= mask;
    }
    out
}

const NEUTRAL: &str = "0100000000000000000000000000000000000000000000000000000000000000";
const ORDER_8: &str = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a";
const NOT_ON_CURVE: &str = "0200000000000000000000000000000000000000000000000000000000000000";
const Y_P_PLUS_3: &str = "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";

const LIST_NOTES: &[(&str, &str)] = &[
    (
        "Malformed",
        "Not a well-formed device list (SPEC 2.2, 13.2): truncated, trailing bytes, unknown layout version, empty user id",
    ),
    (
        "InvalidUserKey",
        "The user key is not a valid Ed25519 key (not a point, or of small order)",
    ),
    ("ZeroVersion", "Version 0"),
    ("DeviceCount", "n = 0 or n > 32"),
    (
        "InvalidDeviceKey",
        "A listed identity key is not a valid Ed25519 key",
    ),
    (
        "UnsortedDevices",
        "Device ids not strictly ascending (a repeated id included)",
    ),
    (
        "DuplicateDeviceKey",
        "Two devices list the same identity key",
    ),
    (
        "BadSignature",
        "The signature does not verify (strictly) under the list's own user key over the content",
    ),
    ("WrongUser", "A list of another user than the expected one"),
    (
        "UserKeyChanged",
        "A validly signed list under another user key than the held list's",
    ),
    (
        "Stale",
        "Version not above the held list's: an old list replayed (rollback of a removal) or a second list for a version",
    ),
    ("Duplicate", "Exactly the held list"),
    ("Forged", "Content changed after signing"),
    (
        "WrongKey",
        "Signed by another key than the user key it names",
    ),
    (
        "Rollback",
        "An older list that still names a device the held list removed",
    ),
    (
        "StrictVerification",
        "A signature only a lax (non-strict) Ed25519 verifier accepts",
    ),
    (
        "FirstUse",
        "No list held: the first list for the user is trusted on first use",
    ),
    (
        "Sorted",
        "Devices given out of order: the signer sorts them by id",
    ),
    ("EdgeCase", "A boundary that must still be accepted"),
    (
        "CheckOrder",
        "Two checks fail; the earlier one in SPEC order is the result",
    ),
];

/// Identity keys of `count` devices, from seeds of `r`.
fn device_keys(r: &mut rand_chacha::ChaCha20Rng, count: usize) -> Vec<[u8; 32]> {
    (0..count)
        .map(|_| {
            IdentitySecretKey::from_seed(&random(r))
                .public_key()
                .to_bytes()
        })
        .collect()
}

fn devices_json(devices: &[(u32, [u8; 32])]) -> Value {
    Value::Array(
        devices
            .iter()
            .map(|(id, key)| json!({ "deviceId": id, "identityKey": h(key) }))
            .collect(),
    )
}

pub(super) fn device_list_sign() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "device-list-sign",
        "13.2",
        "Sign a user's device list: inputs userKeySeed (the user key's 32-byte Ed25519 seed, its recovery \
         secret), userId (hex), version, devices ([{deviceId, identityKey}], any order); outputs deviceList \
         (content || SignLabeled(user key, \"device list\", content); Ed25519 is deterministic), userId, \
         userKey, version, devices (sorted by id), or the rule the list breaks.",
        LIST_NOTES,
    );
    let mut r = rng("device-list-sign");
    let seed: [u8; 32] = random(&mut r);
    let keys = device_keys(&mut r, 33);
    let k = |i: usize| keys.get(i).copied().unwrap_or_default();
    let alice = b"alice@example.org";
    let case = |user: &[u8], version: u64, devices: &[(u32, [u8; 32])]| json!({ "userKeySeed": h(seed), "userId": h(user), "version": version, "devices": devices_json(devices) });

    b.valid("one device, version 1", &[], case(alice, 1, &[(1, k(0))]))?;
    b.valid(
        "three devices, version 2",
        &[],
        case(alice, 2, &[(1, k(0)), (2, k(1)), (7, k(2))]),
    )?;
    b.valid(
        "devices given out of order",
        &["Sorted"],
        case(alice, 3, &[(7, k(2)), (1, k(0)), (2, k(1))]),
    )?;
    let all: Vec<(u32, [u8; 32])> = (0..32).map(|i| (i as u32 * 3, k(i))).collect();
    b.valid("32 devices (the most)", &["EdgeCase"], case(alice, 1, &all))?;
    b.valid(
        "device ids 0 and 2^32 - 1, version 2^64 - 1",
        &["EdgeCase"],
        case(alice, u64::MAX, &[(u32::MAX, k(1)), (0, k(0))]),
    )?;
    b.valid(
        "255-byte user id",
        &["EdgeCase"],
        case(&[b'u'; 255], 1, &[(1, k(0))]),
    )?;
    let other_seed: [u8; 32] = random(&mut r);
    b.valid(
        "another user key",
        &[],
        json!({ "userKeySeed": h(other_seed), "userId": h(alice), "version": 1, "devices": devices_json(&[(1, k(0))]) }),
    )?;

    b.invalid("version 0", "ZeroVersion", case(alice, 0, &[(1, k(0))]))?;
    b.invalid("no devices", "DeviceCount", case(alice, 1, &[]))?;
    let too_many: Vec<(u32, [u8; 32])> = (0..33).map(|i| (i as u32, k(i))).collect();
    b.invalid("33 devices", "DeviceCount", case(alice, 1, &too_many))?;
    b.invalid(
        "a device id listed twice",
        "UnsortedDevices",
        case(alice, 1, &[(1, k(0)), (1, k(1))]),
    )?;
    b.invalid(
        "two devices with one identity key",
        "DuplicateDeviceKey",
        case(alice, 1, &[(1, k(0)), (2, k(0))]),
    )?;
    let order_from = b.file.tests.len();
    b.invalid(
        "version 0 and no devices: the version is checked first",
        "ZeroVersion",
        case(alice, 0, &[]),
    )?;
    b.invalid(
        "a device id listed twice under one key: the order is checked first",
        "UnsortedDevices",
        case(alice, 1, &[(1, k(0)), (1, k(0))]),
    )?;
    tag(&mut b, order_from, &["CheckOrder"]);
    // Sanity: the signer's bytes are the fields of SPEC.md §13.2, field by field.
    let user_key = UserSecretKey::from_recovery_secret(&seed);
    let ours = DeviceList::sign(
        &user_key,
        UserId::new(alice).map_err(|e| e.to_string())?,
        2,
        vec![
            ListedDevice {
                device: DeviceId::new(2),
                identity_key: letterseal::keys::IdentityPublicKey::from_bytes(&k(1))
                    .map_err(|e| e.to_string())?,
            },
            ListedDevice {
                device: DeviceId::new(1),
                identity_key: letterseal::keys::IdentityPublicKey::from_bytes(&k(0))
                    .map_err(|e| e.to_string())?,
            },
        ],
    )
    .map_err(|e| e.to_string())?;
    if ours.as_bytes() != list(&seed, alice, 2, &[(1, k(0)), (2, k(1))]).as_slice() {
        return Err("device-list-sign: DeviceList::sign differs from the §13.2 layout".into());
    }
    b.finish()
}

pub(super) fn device_list_verify() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "device-list-verify",
        "13.2, 13.3",
        "Decode and verify a device list as a client (or a server) does: inputs deviceList, expectedUserId \
         (hex: the user the list was fetched for, or the authenticated uploader's user), heldList (the \
         verified list held for that user, or null); outputs userId, userKey, version, devices, or the first \
         check of SPEC 13.2-13.3 that fails.",
        LIST_NOTES,
    );
    let mut r = rng("device-list-verify");
    let alice_seed: [u8; 32] = random(&mut r);
    let mallory_seed: [u8; 32] = random(&mut r);
    let bob_seed: [u8; 32] = random(&mut r);
    let keys = device_keys(&mut r, 33);
    let k = |i: usize| keys.get(i).copied().unwrap_or_default();
    let alice: &[u8] = b"alice";
    let bob: &[u8] = b"bob";
    let alice_key = IdentitySecretKey::from_seed(&alice_seed)
        .public_key()
        .to_bytes();

    let v1 = list(&alice_seed, alice, 1, &[(1, k(0)), (2, k(1))]);
    let v2 = list(&alice_seed, alice, 2, &[(1, k(0)), (2, k(1)), (3, k(2))]);
    let v3 = list(&alice_seed, alice, 3, &[(1, k(0)), (3, k(2))]);
    let case = |l: &[u8], held: Option<&[u8]>| json!({ "deviceList": h(l), "expectedUserId": h(alice), "heldList": held.map(h) });

    b.valid("first list (none held)", &["FirstUse"], case(&v1, None))?;
    b.valid("version 2 adds device 3", &[], case(&v2, Some(&v1)))?;
    b.valid("version 3 removes device 2", &[], case(&v3, Some(&v2)))?;
    b.valid(
        "version 3 over version 1 (a version skipped)",
        &[],
        case(&v3, Some(&v1)),
    )?;
    let all: Vec<(u32, [u8; 32])> = (0..32).map(|i| (i as u32, k(i))).collect();
    b.valid(
        "32 devices",
        &["EdgeCase", "FirstUse"],
        case(&list(&alice_seed, alice, 1, &all), None),
    )?;
    b.valid(
        "version 2^64 - 1, device ids 0 and 2^32 - 1",
        &["EdgeCase"],
        case(
            &list(&alice_seed, alice, u64::MAX, &[(0, k(0)), (u32::MAX, k(2))]),
            Some(&v3),
        ),
    )?;
    let mallory_list = list(&mallory_seed, alice, 5, &[(1, k(0))]);
    b.valid(
        "a list under another user key when none is held (trusted on first use)",
        &["FirstUse"],
        case(&mallory_list, None),
    )?;

    // Forged lists (issue 15): edited after signing, or signed by the wrong key.
    let forged_from = b.file.tests.len();
    let sig_at = v1.len() - 64;
    b.invalid(
        "signature's last byte flipped",
        "BadSignature",
        case(&flip(&v1, v1.len() - 1, 0x01), None),
    )?;
    b.invalid(
        "signature's R flipped",
        "BadSignature",
        case(&flip(&v1, sig_at, 0x01), None),
    )?;
    let version_at = 1 + 1 + alice.len() + 32 + 7;
    b.invalid(
        "version 2 -> 3 after signing",
        "BadSignature",
        case(&flip(&v2, version_at, 0x01), Some(&v1)),
    )?;
    let mut added = raw_content(
        1,
        alice,
        &alice_key,
        1,
        3,
        &[(1, k(0)), (2, k(1)), (3, k(9))],
    );
    added.extend_from_slice(v1.get(sig_at..).unwrap_or_default());
    b.invalid(
        "a device added to version 1 without signing (the old signature kept)",
        "BadSignature",
        case(&added, None),
    )?;
    let mut swapped = raw_content(1, alice, &alice_key, 1, 2, &[(1, k(0)), (2, k(9))]);
    swapped.extend_from_slice(v1.get(sig_at..).unwrap_or_default());
    b.invalid(
        "device 2's identity key replaced after signing",
        "BadSignature",
        case(&swapped, None),
    )?;
    let mut put_back = raw_content(
        1,
        alice,
        &alice_key,
        3,
        3,
        &[(1, k(0)), (2, k(1)), (3, k(2))],
    );
    put_back.extend_from_slice(v3.get(v3.len() - 64..).unwrap_or_default());
    b.invalid(
        "the removed device put back into version 3 (version 3's signature)",
        "BadSignature",
        case(&put_back, Some(&v2)),
    )?;
    tag(&mut b, forged_from, &["Forged"]);
    let wrong_key_from = b.file.tests.len();
    b.invalid(
        "signed by mallory's key but naming alice's user key",
        "BadSignature",
        case(
            &signed(
                &mallory_seed,
                raw_content(1, alice, &alice_key, 2, 1, &[(1, k(0))]),
            ),
            Some(&v1),
        ),
    )?;
    b.invalid(
        "signed by mallory's key but naming alice's user key, none held",
        "BadSignature",
        case(
            &signed(
                &mallory_seed,
                raw_content(1, alice, &alice_key, 1, 1, &[(1, k(0))]),
            ),
            None,
        ),
    )?;
    let other_label = {
        let content = raw_content(1, alice, &alice_key, 1, 2, &[(1, k(0)), (2, k(1))]);
        let sig = IdentitySecretKey::from_seed(&alice_seed)
            .sign_labeled(labels::sig::KEY_BUNDLE, &content);
        let mut l = content;
        l.extend_from_slice(&sig.to_bytes());
        l
    };
    b.invalid(
        "signed under the label \"key bundle\" instead of \"device list\"",
        "BadSignature",
        case(&other_label, None),
    )?;
    tag(&mut b, wrong_key_from, &["WrongKey"]);
    let strict_from = b.file.tests.len();
    b.invalid(
        "S + L (non-canonical S)",
        "BadSignature",
        case(&s_plus_l(&v1), None),
    )?;
    let mut small_r = v1.clone();
    if let Some(r_field) = small_r.get_mut(sig_at..sig_at + 32) {
        r_field.copy_from_slice(&unhex::<32>(NEUTRAL)?);
    }
    b.invalid(
        "R is the neutral element",
        "BadSignature",
        case(&small_r, None),
    )?;
    b.invalid(
        "R is the neutral element and S = k·a (made by the key's holder): the cofactorless equation holds, \
         only strict verification refuses it",
        "BadSignature",
        case(
            &small_order_r_list(
                &alice_seed,
                raw_content(1, alice, &alice_key, 1, 2, &[(1, k(0)), (2, k(1))]),
            )?,
            None,
        ),
    )?;
    tag(&mut b, strict_from, &["StrictVerification"]);
    b.invalid(
        "signature all zeros",
        "BadSignature",
        case(
            &{
                let mut l = v1.clone();
                if let Some(s) = l.get_mut(sig_at..) {
                    s.fill(0);
                }
                l
            },
            None,
        ),
    )?;

    // Wrong user, new user key, rollback, duplicate.
    let bob_list = list(&bob_seed, bob, 1, &[(1, k(5))]);
    b.invalid(
        "bob's list fetched as alice's",
        "WrongUser",
        case(&bob_list, None),
    )?;
    let mallory_v2 = list(&mallory_seed, alice, 2, &[(1, k(0)), (4, k(4))]);
    b.invalid(
        "a validly signed list under a new user key while alice's is held",
        "UserKeyChanged",
        case(&mallory_v2, Some(&v1)),
    )?;
    let last = b.file.tests.len() - 1;
    tag(&mut b, last, &["WrongKey"]);
    let rollback_from = b.file.tests.len();
    b.invalid(
        "version 2 replayed after version 3 removed device 2",
        "Stale",
        case(&v2, Some(&v3)),
    )?;
    b.invalid(
        "version 1 replayed after version 3",
        "Stale",
        case(&v1, Some(&v3)),
    )?;
    tag(&mut b, rollback_from, &["Rollback"]);
    b.invalid(
        "a second, different version-2 list",
        "Stale",
        case(&list(&alice_seed, alice, 2, &[(1, k(0))]), Some(&v2)),
    )?;
    b.invalid("exactly the held list", "Duplicate", case(&v2, Some(&v2)))?;

    // Structure (validly signed, so the signature is not what fails).
    let with = |user_key: &[u8; 32], version: u64, n: u8, devices: &[(u32, [u8; 32])]| {
        signed(
            &alice_seed,
            raw_content(1, alice, user_key, version, n, devices),
        )
    };
    b.invalid("empty input", "Malformed", case(&[], None))?;
    b.invalid(
        "signature one byte short",
        "Malformed",
        case(v1.get(..v1.len() - 1).unwrap_or_default(), None),
    )?;
    let mut trailing = v1.clone();
    trailing.push(0);
    b.invalid("one trailing byte", "Malformed", case(&trailing, None))?;
    b.invalid(
        "ends inside the user key",
        "Malformed",
        case(v1.get(..1 + 1 + alice.len() + 16).unwrap_or_default(), None),
    )?;
    b.invalid(
        "n = 3 but two devices and no signature",
        "Malformed",
        case(
            &raw_content(1, alice, &alice_key, 1, 3, &[(1, k(0)), (2, k(1))]),
            None,
        ),
    )?;
    for layout in [0u8, 2] {
        b.invalid(
            &alloc::format!("layout version {layout}"),
            "Malformed",
            case(
                &signed(
                    &alice_seed,
                    raw_content(layout, alice, &alice_key, 1, 1, &[(1, k(0))]),
                ),
                None,
            ),
        )?;
    }
    b.invalid(
        "empty user id",
        "Malformed",
        json!({ "deviceList": h(signed(&alice_seed, raw_content(1, b"", &alice_key, 1, 1, &[(1, k(0))]))),
                "expectedUserId": h(alice), "heldList": null }),
    )?;
    for (key, comment) in [
        (NEUTRAL, "user key is the neutral element"),
        (ORDER_8, "user key of order 8"),
        (NOT_ON_CURVE, "user key not on the curve"),
    ] {
        b.invalid(
            comment,
            "InvalidUserKey",
            case(&with(&unhex(key)?, 1, 1, &[(1, k(0))]), None),
        )?;
    }
    b.invalid(
        "version 0",
        "ZeroVersion",
        case(&with(&alice_key, 0, 1, &[(1, k(0))]), None),
    )?;
    b.invalid(
        "n = 0",
        "DeviceCount",
        case(&with(&alice_key, 1, 0, &[]), None),
    )?;
    let too_many: Vec<(u32, [u8; 32])> = (0..33).map(|i| (i as u32, k(i))).collect();
    b.invalid(
        "n = 33",
        "DeviceCount",
        case(&with(&alice_key, 1, 33, &too_many), None),
    )?;
    for (key, comment) in [
        (NEUTRAL, "device key is the neutral element"),
        (ORDER_8, "device key of order 8"),
        (NOT_ON_CURVE, "device key not on the curve"),
        (Y_P_PLUS_3, "device key with y = p + 3 (not canonical)"),
    ] {
        b.invalid(
            comment,
            "InvalidDeviceKey",
            case(
                &with(&alice_key, 1, 2, &[(1, k(0)), (2, unhex(key)?)]),
                None,
            ),
        )?;
    }
    b.invalid(
        "device ids descending",
        "UnsortedDevices",
        case(&with(&alice_key, 1, 2, &[(2, k(1)), (1, k(0))]), None),
    )?;
    b.invalid(
        "a device id repeated",
        "UnsortedDevices",
        case(&with(&alice_key, 1, 2, &[(1, k(0)), (1, k(1))]), None),
    )?;
    b.invalid(
        "two devices with one identity key",
        "DuplicateDeviceKey",
        case(
            &with(&alice_key, 1, 3, &[(1, k(0)), (2, k(1)), (3, k(0))]),
            None,
        ),
    )?;

    // Check order (SPEC 13.2: the rules in their order; 13.3: rules, signature, user, key, version).
    let order_from = b.file.tests.len();
    let unsigned = |user_key: &[u8; 32], version: u64, n: u8, devices: &[(u32, [u8; 32])]| {
        let mut l = raw_content(1, alice, user_key, version, n, devices);
        l.extend_from_slice(&[0x5a; 64]);
        l
    };
    b.invalid(
        "ends inside the user key, whose first half is invalid: Malformed before InvalidUserKey",
        "Malformed",
        case(
            with(&unhex(NEUTRAL)?, 1, 1, &[(1, k(0))])
                .get(..1 + 1 + alice.len() + 16)
                .unwrap_or_default(),
            None,
        ),
    )?;
    b.invalid(
        "invalid user key and version 0",
        "InvalidUserKey",
        case(&with(&unhex(NEUTRAL)?, 0, 1, &[(1, k(0))]), None),
    )?;
    b.invalid(
        "version 0 and n = 0",
        "ZeroVersion",
        case(&with(&alice_key, 0, 0, &[]), None),
    )?;
    b.invalid(
        "n = 33 and nothing after it: the count before the entries",
        "DeviceCount",
        case(&raw_content(1, alice, &alice_key, 1, 33, &[]), None),
    )?;
    b.invalid(
        "an invalid first device key and the list ends after it: keys checked as read",
        "InvalidDeviceKey",
        case(
            &raw_content(1, alice, &alice_key, 1, 2, &[(1, unhex(NEUTRAL)?)]),
            None,
        ),
    )?;
    b.invalid(
        "an invalid device key and ids descending",
        "InvalidDeviceKey",
        case(
            &with(&alice_key, 1, 2, &[(2, k(1)), (1, unhex(NEUTRAL)?)]),
            None,
        ),
    )?;
    b.invalid(
        "ids descending and the signature one byte short: the signature is read before the order",
        "Malformed",
        case(
            with(&alice_key, 1, 2, &[(2, k(1)), (1, k(0))])
                .split_last()
                .map(|(_, s)| s)
                .unwrap_or_default(),
            None,
        ),
    )?;
    b.invalid(
        "ids descending and two devices with one key",
        "UnsortedDevices",
        case(&with(&alice_key, 1, 2, &[(2, k(0)), (1, k(0))]), None),
    )?;
    b.invalid(
        "ids descending and not signed: the rules before the signature",
        "UnsortedDevices",
        case(&unsigned(&alice_key, 1, 2, &[(2, k(1)), (1, k(0))]), None),
    )?;
    b.invalid(
        "one key twice and not signed",
        "DuplicateDeviceKey",
        case(&unsigned(&alice_key, 1, 2, &[(1, k(0)), (2, k(0))]), None),
    )?;
    b.invalid(
        "bob's list with its signature flipped: the signature before the user",
        "BadSignature",
        case(&flip(&bob_list, bob_list.len() - 1, 0x01), None),
    )?;
    b.invalid(
        "bob's list while alice's is held: the user before the key",
        "WrongUser",
        case(&bob_list, Some(&v1)),
    )?;
    b.invalid(
        "a new user key and an older version: the key before the version",
        "UserKeyChanged",
        case(&list(&mallory_seed, alice, 1, &[(1, k(0))]), Some(&v2)),
    )?;
    b.invalid(
        "exactly the held list, edited signature: the signature first",
        "BadSignature",
        case(&flip(&v2, v2.len() - 1, 0x01), Some(&v2)),
    )?;
    tag(&mut b, order_from, &["CheckOrder"]);
    b.finish()
}

/// Adds `flags` to the cases from `from` (a test count) on.
fn tag(b: &mut Builder, from: usize, flags: &[&str]) {
    for t in b.file.tests.iter_mut().skip(from) {
        for flag in flags {
            if !t.flags.iter().any(|f| f == flag) {
                t.flags.push(flag.to_string());
            }
        }
    }
}

const ENVELOPE_NOTES: &[(&str, &str)] = &[
    ("Envelope.UnknownVersion", "Envelope version other than 1"),
    ("Envelope.UnknownKind", "Kind byte not in SPEC 13.1's table"),
    (
        "Envelope.Malformed",
        "Truncated, trailing bytes, a length beyond the input, or a message body whose routing header does not decode",
    ),
    (
        "DeviceList.Malformed",
        "The body does not decode as a device list (SPEC 13.2)",
    ),
    (
        "Registration.UnsupportedVersion",
        "The body's version byte is not that of a key bundle (2) or one-time key (1)",
    ),
    (
        "Registration.Malformed",
        "The body does not decode as a key bundle or one-time key",
    ),
    (
        "Group.Malformed",
        "The body does not decode as a distribution (its lp32 core first)",
    ),
    (
        "Relabelled",
        "The body of one kind under another kind's byte",
    ),
    (
        "NeedsState",
        "Decodes as the new kind; the receiver refuses it with state (tests/account_vectors.rs)",
    ),
    (
        "CheckOrder",
        "Two checks fail; the earlier one in SPEC order is the result",
    ),
];

/// One envelope of each kind from two accounts talking (deterministic: a
/// seeded ChaCha20 and a fixed time).
struct Conversation {
    device_list: Vec<u8>,
    bundle: Vec<u8>,
    one_time_key: Vec<u8>,
    message: Vec<u8>,
    distribution: Vec<u8>,
    group_message: Vec<u8>,
}

fn conversation() -> Result<Conversation, String> {
    let e = |e: letterseal::account::AccountError| alloc::format!("envelope: {e}");
    let re = |e: letterseal::account::ReceiveError| alloc::format!("envelope: {e}");
    let mut r = rng("envelope");
    let now = Timestamp::from_unix_seconds(T0);
    let user = |s: &str| UserId::new(s).map_err(|e| e.to_string());
    let mut alice = Account::create_primary(
        &mut r,
        now,
        DeviceAddress::new(user("alice")?, DeviceId::new(1)),
    );
    let mut bob = Account::create_primary(
        &mut r,
        now,
        DeviceAddress::new(user("bob")?, DeviceId::new(1)),
    );
    let alice_up = alice.uploads(&mut r, now).map_err(e)?;
    let bob_up = bob.uploads(&mut r, now).map_err(e)?;
    for env in &bob_up {
        alice.receive(now, env).map_err(re)?;
    }
    for env in &alice_up {
        bob.receive(now, env).map_err(re)?;
    }
    let one_time_key = bob
        .one_time_keys(&mut r, now, 1)
        .map_err(e)?
        .into_iter()
        .next()
        .ok_or("no one-time key")?;
    let message = alice
        .seal_to_user(&mut r, now, &user("bob")?, ContentType::Text, b"hi bob")
        .map_err(e)?
        .into_iter()
        .next()
        .ok_or("no message")?
        .envelope;
    let group = GroupId::new(b"team").map_err(|e| e.to_string())?;
    let distribution = alice
        .create_group(&mut r, now, group.clone(), &[user("bob")?])
        .map_err(e)?;
    alice.commit_group(now, &group).map_err(e)?;
    let group_message = alice
        .seal_to_group(&mut r, now, &group, ContentType::Text, b"hi team")
        .map_err(e)?;
    let mut ups = alice_up.into_iter();
    Ok(Conversation {
        device_list: ups.next().ok_or("no device list")?,
        bundle: ups.next().ok_or("no bundle")?,
        one_time_key,
        message,
        distribution,
        group_message,
    })
}

/// The body of an envelope (after version, kind and the 4-byte length).
fn body(envelope: &[u8]) -> &[u8] {
    envelope.get(6..).unwrap_or_default()
}

fn wrap(version: u8, kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![version, kind];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

pub(super) fn envelope() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "envelope",
        "13.1",
        "Decode an envelope u8(1) || u8(kind) || lp32(body), then its body strictly as its kind says, as far as \
         no state is needed: input envelope; outputs kind, body and, by kind, 1: senderUserId, senderDeviceId, \
         recipientUserId, recipientDeviceId, toUserId, message (the routing header of 13.6); 2: groupId, \
         message; 3: groupId, epoch (8.5); 4 and 5: ownerUserId, ownerDeviceId (5.1, 5.5); 6: userId, version \
         (13.2, structure only). Errors are named as the receiver's error: Envelope.<EnvelopeError> or \
         <layer>.<error of the body's decoder>.",
        ENVELOPE_NOTES,
    );
    let c = conversation()?;
    let case = |e: &[u8]| json!({ "envelope": h(e) });
    b.valid("device list (kind 6)", &[], case(&c.device_list))?;
    b.valid("key bundle (kind 4)", &[], case(&c.bundle))?;
    b.valid("one-time key (kind 5)", &[], case(&c.one_time_key))?;
    b.valid("1:1 message (kind 1)", &[], case(&c.message))?;
    b.valid("distribution (kind 3)", &[], case(&c.distribution))?;
    b.valid("group message (kind 2)", &[], case(&c.group_message))?;
    b.valid(
        "a 1:1 message relabelled as a group message: its sender's user id reads as the group id",
        &["Relabelled", "NeedsState"],
        case(&wrap(1, 2, body(&c.message))),
    )?;

    for version in [0u8, 2, 255] {
        b.invalid(
            &alloc::format!("version {version}"),
            "Envelope.UnknownVersion",
            case(&wrap(version, 6, body(&c.device_list))),
        )?;
    }
    for kind in [0u8, 7, 255] {
        b.invalid(
            &alloc::format!("kind {kind}"),
            "Envelope.UnknownKind",
            case(&wrap(1, kind, body(&c.device_list))),
        )?;
    }
    b.invalid("empty input", "Envelope.Malformed", case(&[]))?;
    b.invalid("version only", "Envelope.Malformed", case(&[1]))?;
    b.invalid("no length", "Envelope.Malformed", case(&[1, 6]))?;
    b.invalid(
        "length cut short",
        "Envelope.Malformed",
        case(&[1, 6, 0, 0, 0]),
    )?;
    b.invalid(
        "body one byte short",
        "Envelope.Malformed",
        case(
            c.device_list
                .split_last()
                .map(|(_, s)| s)
                .unwrap_or_default(),
        ),
    )?;
    let mut trailing = c.device_list.clone();
    trailing.push(0);
    b.invalid("one trailing byte", "Envelope.Malformed", case(&trailing))?;
    let mut overflow = c.device_list.clone();
    if let Some(len) = overflow.get_mut(2..6) {
        len.copy_from_slice(&u32::MAX.to_be_bytes());
    }
    b.invalid(
        "length 2^32 - 1 (beyond the input)",
        "Envelope.Malformed",
        case(&overflow),
    )?;
    let order_from = b.file.tests.len();
    b.invalid(
        "version 2 and kind 9: the version first",
        "Envelope.UnknownVersion",
        case(&wrap(2, 9, body(&c.device_list))),
    )?;
    b.invalid(
        "kind 9 and no length: the kind before the length",
        "Envelope.UnknownKind",
        case(&[1, 9]),
    )?;
    tag(&mut b, order_from, &["CheckOrder"]);
    b.invalid(
        "1:1 message whose routing header ends early",
        "Envelope.Malformed",
        case(&wrap(1, 1, body(&c.message).get(..8).unwrap_or_default())),
    )?;
    b.invalid(
        "group message with an empty group id",
        "Envelope.Malformed",
        case(&wrap(1, 2, &[0, 2, 1])),
    )?;

    // Relabelled bodies (issue 15): each fails the decoding of the kind it claims.
    let relabel_from = b.file.tests.len();
    let relabel: [(&str, &[u8], u8, &str); 7] = [
        (
            "a device list relabelled as a key bundle",
            &c.device_list,
            4,
            "Registration.UnsupportedVersion",
        ),
        (
            "a device list relabelled as a one-time key",
            &c.device_list,
            5,
            "Registration.Malformed",
        ),
        (
            "a device list relabelled as a distribution",
            &c.device_list,
            3,
            "Group.Malformed",
        ),
        (
            "a key bundle relabelled as a device list",
            &c.bundle,
            6,
            "DeviceList.Malformed",
        ),
        (
            "a key bundle relabelled as a one-time key",
            &c.bundle,
            5,
            "Registration.UnsupportedVersion",
        ),
        (
            "a one-time key relabelled as a key bundle",
            &c.one_time_key,
            4,
            "Registration.UnsupportedVersion",
        ),
        (
            "a distribution relabelled as a device list",
            &c.distribution,
            6,
            "DeviceList.Malformed",
        ),
    ];
    for (comment, from, kind, error) in relabel {
        b.invalid(comment, error, case(&wrap(1, kind, body(from))))?;
    }
    tag(&mut b, relabel_from, &["Relabelled"]);
    b.finish()
}
