//! Fuzz target: strict decoding of key bundles (SPEC.md §5.1) and one-time
//! keys (§5.5), and every registration check (§5.3, §5.5).
//!
//! The input is tried as both: a key bundle (version 2) and a one-time key
//! (version 1); at most one decodes. Any input that decodes must re-encode to
//! exactly the same bytes (one encoding per value). Decoded values are then
//! verified at their own `not_before`, so the time checks pass and the
//! signature, owner, key, KEM and window checks all run:
//! - as the device they name, as that device's user, and as another user:
//!   the first two give the same verdict, the third `BadSignature` when the
//!   first does and `OwnerMismatch` otherwise (the owner is checked right
//!   after the signature, SPEC §5.3 check 3);
//! - a bundle refused with `InvalidKemKey` carries a KEM key that fails the
//!   modulus check on its own, one refused with `WrongKemKeyId` a valid key
//!   under another id;
//! - a value that verifies is self-consistent (valid keys, derived ids, a
//!   non-empty window, the bytes it was decoded from).
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/bundle_verify.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::ids::{DeviceAddress, UserId};
use letterseal::keys::KemEncapsulationKey;
use letterseal::registration::{
    ExpectedOwner, KeyBundle, NoDirectory, OneTimeKeyBundle, RegistrationError, RegistrationPolicy,
};

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let bundle = KeyBundle::decode(data);
    let one_time = OneTimeKeyBundle::decode(data);
    assert!(
        bundle.is_err() || one_time.is_err(),
        "one input decoded as a bundle and as a one-time key"
    );
    if let Ok(bundle) = bundle {
        check_bundle(data, bundle);
    }
    if let Ok(key) = one_time {
        check_one_time_key(data, key);
    }
}

/// The three expected owners of a value owned by `owner`: its device, its user,
/// another user.
fn owners(owner: &DeviceAddress) -> [ExpectedOwner; 3] {
    let other = if owner.user.as_bytes() == b"x" {
        "y"
    } else {
        "x"
    };
    [
        ExpectedOwner::Device(owner.clone()),
        ExpectedOwner::User(owner.user.clone()),
        ExpectedOwner::User(UserId::new(other).unwrap()),
    ]
}

/// The owner invariants across the three verdicts.
fn check_owner_verdicts<T>(verdicts: &[Result<T, RegistrationError>; 3]) {
    let [device, user, other] = verdicts;
    assert_eq!(
        device.as_ref().err(),
        user.as_ref().err(),
        "the device and its user got different verdicts"
    );
    let expected = if device.as_ref().err() == Some(&RegistrationError::BadSignature) {
        RegistrationError::BadSignature
    } else {
        RegistrationError::OwnerMismatch
    };
    assert_eq!(
        other.as_ref().err(),
        Some(&expected),
        "another user's upload was not refused as it should be"
    );
}

fn check_bundle(data: &[u8], bundle: KeyBundle) {
    assert_eq!(
        bundle.encode(),
        data,
        "a decoded bundle must re-encode to the input bytes"
    );
    let content = bundle.content().clone();
    let now = content.not_before;
    let policy = RegistrationPolicy::default();
    let verdicts = owners(&content.owner).map(|owner| {
        bundle
            .clone()
            .verify(&owner, &policy, now, None, &NoDirectory)
    });
    check_owner_verdicts(&verdicts);
    let kem_alone = KemEncapsulationKey::from_bytes(content.kem_key.as_bytes());
    match &verdicts[0] {
        Ok(verified) => {
            assert_eq!(verified.owner(), &content.owner);
            assert_eq!(verified.identity_key(), &content.identity_key);
            assert_eq!(verified.sealing_key(), &content.sealing_key);
            assert!(verified.sealing_key().validate().is_ok());
            assert_eq!(verified.sealing_key_id(), verified.sealing_key().key_id());
            assert_eq!(verified.kem_key().as_bytes(), content.kem_key.as_bytes());
            assert_eq!(kem_alone.as_ref(), Ok(verified.kem_key()));
            assert_eq!(verified.kem_key_id(), verified.kem_key().key_id());
            assert_eq!(verified.validity(), (content.not_before, content.not_after));
            assert!(content.not_before < content.not_after);
            assert_eq!(verified.bundle().encode(), data);
        }
        Err(RegistrationError::InvalidKemKey) => {
            assert!(kem_alone.is_err(), "a valid KEM key was refused");
        }
        Err(RegistrationError::WrongKemKeyId) => {
            let key = kem_alone.expect("WrongKemKeyId for an invalid KEM key");
            assert_ne!(key.key_id(), content.kem_key_id);
        }
        Err(_) => {}
    }
}

fn check_one_time_key(data: &[u8], key: OneTimeKeyBundle) {
    assert_eq!(
        key.encode(),
        data,
        "a decoded one-time key must re-encode to the input bytes"
    );
    let content = key.content().clone();
    let now = content.not_before;
    let policy = RegistrationPolicy::default();
    let verdicts = owners(&content.owner)
        .map(|owner| key.clone().verify(&owner, &policy, now, None, &NoDirectory));
    check_owner_verdicts(&verdicts);
    if let Ok(verified) = &verdicts[0] {
        assert_eq!(verified.owner(), &content.owner);
        assert_eq!(verified.identity_key(), &content.identity_key);
        assert!(verified.key().validate().is_ok());
        assert_eq!(verified.key_id(), verified.key().key_id());
        assert_eq!(verified.validity(), (content.not_before, content.not_after));
        assert!(content.not_before < content.not_after);
        assert_eq!(verified.bundle().encode(), data);
    }
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// The verdict of `data` verified as the device it names: `"Ok"`, an error's
/// name, or `"undecodable"`.
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> String {
    let verdict = |r: Result<(), RegistrationError>| match r {
        Ok(()) => "Ok".to_owned(),
        Err(e) => e.name().to_owned(),
    };
    let policy = RegistrationPolicy::default();
    if let Ok(b) = KeyBundle::decode(data) {
        let owner = ExpectedOwner::Device(b.content().owner.clone());
        let now = b.content().not_before;
        return verdict(
            b.verify(&owner, &policy, now, None, &NoDirectory)
                .map(|_| ()),
        );
    }
    if let Ok(k) = OneTimeKeyBundle::decode(data) {
        let owner = ExpectedOwner::Device(k.content().owner.clone());
        let now = k.content().not_before;
        return format!(
            "one-time {}",
            verdict(
                k.verify(&owner, &policy, now, None, &NoDirectory)
                    .map(|_| ())
            )
        );
    }
    "undecodable".to_owned()
}

/// The generated seeds: valid bundles and one-time keys, correctly signed ones
/// that fail one later check each, and mutated copies.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    use letterseal::device::DeviceKeys;
    use letterseal::ids::DeviceId;
    use letterseal::keys::{
        KEM_ENCAPSULATION_KEY_LEN, KemKeyId, SealingKeyId, SealingPublicKey, UncheckedKemKey,
    };
    use letterseal::registration::BundleContent;
    use letterseal::time::Timestamp;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    let mut rng = ChaCha20Rng::from_seed([0xb7; 32]);
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let mut device = |user: &[u8], id: u32| {
        DeviceKeys::generate(
            &mut rng,
            DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(id)),
        )
    };
    let mut alice = device(b"alice", 1);
    let mut short = device(b"a", 0);
    let mut long = device(&[b'u'; 255], u32::MAX);
    let mut rng = ChaCha20Rng::from_seed([0xb8; 32]);
    let bundle = alice.add_sealing_key(&mut rng, now, 30 * 86_400);
    let good = bundle.encode();
    let mut seeds: Vec<(&'static str, Vec<u8>)> = vec![
        ("valid_bundle", good.clone()),
        (
            "valid_bundle_short_user",
            short.add_sealing_key(&mut rng, now, 86_400).encode(),
        ),
        (
            "valid_bundle_long_user",
            long.add_sealing_key(&mut rng, now, 86_400).encode(),
        ),
    ];
    let one_time = alice.add_one_time_keys(&mut rng, 1, now, 7 * 86_400);
    let good_one_time = one_time[0].encode();
    seeds.push(("valid_one_time_key", good_one_time.clone()));

    let signed = |edit: &dyn Fn(&mut BundleContent)| {
        let mut content = bundle.content().clone();
        edit(&mut content);
        content.sign(alice.identity()).encode()
    };
    seeds.extend([
        (
            "signed_lifetime_too_long",
            signed(&|c| c.not_after = c.not_before.saturating_add(91 * 86_400)),
        ),
        (
            "signed_empty_window",
            signed(&|c| c.not_after = c.not_before),
        ),
        (
            "signed_inverted_window",
            signed(&|c| c.not_after = Timestamp::from_unix_seconds(1)),
        ),
        (
            "signed_small_order_key",
            signed(&|c| {
                c.sealing_key = SealingPublicKey::from_bytes([0; 32]);
                c.sealing_key_id = c.sealing_key.key_id();
            }),
        ),
        (
            "signed_noncanonical_key",
            signed(&|c| {
                c.sealing_key = SealingPublicKey::from_bytes([0xff; 32]);
                c.sealing_key_id = c.sealing_key.key_id();
            }),
        ),
        (
            "signed_wrong_key_id",
            signed(&|c| c.sealing_key_id = SealingKeyId::from_bytes([0; 16])),
        ),
        (
            "signed_kem_modulus",
            signed(&|c| {
                let mut ek = *c.kem_key.as_bytes();
                ek[0] = 0x01;
                ek[1] = (ek[1] & 0xf0) | 0x0d;
                c.kem_key = UncheckedKemKey::from_bytes(ek);
                c.kem_key_id = c.kem_key.key_id();
            }),
        ),
        (
            "signed_kem_all_ff",
            signed(&|c| {
                c.kem_key = UncheckedKemKey::from_bytes([0xff; KEM_ENCAPSULATION_KEY_LEN]);
                c.kem_key_id = c.kem_key.key_id();
            }),
        ),
        (
            "signed_wrong_kem_key_id",
            signed(&|c| c.kem_key_id = KemKeyId::from_bytes([0; 16])),
        ),
    ]);
    let one_time_signed = |edit: &dyn Fn(&mut letterseal::registration::OneTimeKeyContent)| {
        let mut content = one_time[0].content().clone();
        edit(&mut content);
        content.sign(alice.identity()).encode()
    };
    seeds.extend([
        (
            "one_time_small_order_key",
            one_time_signed(&|c| {
                c.key = SealingPublicKey::from_bytes([0; 32]);
                c.key_id = c.key.key_id();
            }),
        ),
        (
            "one_time_wrong_key_id",
            one_time_signed(&|c| c.key_id = SealingKeyId::from_bytes([0; 16])),
        ),
        (
            "one_time_empty_window",
            one_time_signed(&|c| c.not_after = c.not_before),
        ),
    ]);
    let mutate = |bytes: &[u8], at: usize, value: u8| {
        let mut v = bytes.to_vec();
        v[at] = value;
        v
    };
    let last = good.len() - 1;
    seeds.extend([
        ("mut_signature_bit", mutate(&good, last, good[last] ^ 1)),
        ("mut_version_1", mutate(&good, 0, 1)),
        ("mut_version_3", mutate(&good, 0, 3)),
        ("mut_user_len", mutate(&good, 1, 200)),
        ("mut_empty_user", mutate(&good, 1, 0)),
        (
            "mut_kem_byte",
            mutate(&good, 1 + 1 + 5 + 4 + 32 + 32 + 16 + 100, 0),
        ),
        (
            "mut_one_time_signature_bit",
            mutate(
                &good_one_time,
                good_one_time.len() - 1,
                good_one_time[good_one_time.len() - 1] ^ 1,
            ),
        ),
        ("mut_one_time_version_2", mutate(&good_one_time, 0, 2)),
        ("trunc_bundle", good[..good.len() - 1].to_vec()),
        (
            "trunc_one_time_key",
            good_one_time[..good_one_time.len() - 1].to_vec(),
        ),
    ]);
    let mut trailing = good.clone();
    trailing.push(0);
    seeds.push(("mut_trailing_byte", trailing));
    let mut neutral = good.clone();
    neutral[1 + 1 + 5 + 4..1 + 1 + 5 + 4 + 32].copy_from_slice(&{
        let mut n = [0u8; 32];
        n[0] = 1;
        n
    });
    seeds.push(("mut_identity_neutral", neutral));
    seeds
}
