//! Key registration through the public API (SPEC.md §5): one test per rejection,
//! rotation, tampering at every byte, the owner binding, ML-KEM keys in bundles,
//! one-time keys and their life cycle, and property tests of the codecs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{
    IdentitySecretKey, KEM_ENCAPSULATION_KEY_LEN, KemDecapsulationKey, KemKeyId, SealingKeyId,
    SealingPublicKey, SealingSecretKey, UncheckedKemKey,
};
use letterseal::registration::{
    BUNDLE_VERSION, BundleContent, ExpectedOwner, KeyBundle, NoDirectory, OneTimeKeyBundle,
    OneTimeKeyContent, RegistrationError, RegistrationPolicy, VerifiedBundle, VerifiedOneTimeKey,
};
use letterseal::time::Timestamp;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(T0)
}

fn address(user: &str, device: u32) -> DeviceAddress {
    DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(device))
}

fn device(seed: u8, user: &str) -> (DeviceKeys, KeyBundle) {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut keys = DeviceKeys::generate(&mut rng, address(user, 1));
    let bundle = keys.add_sealing_key(&mut rng, now(), 30 * DAY);
    (keys, bundle)
}

fn verify(bundle: &KeyBundle) -> Result<VerifiedBundle, RegistrationError> {
    verify_bytes(&bundle.encode())
}

/// Verifies as a peer that asked for the device the bundle names (the owner
/// checks have their own tests).
fn verify_bytes(bytes: &[u8]) -> Result<VerifiedBundle, RegistrationError> {
    let bundle = KeyBundle::decode(bytes)?;
    let owner = ExpectedOwner::Device(bundle.content().owner.clone());
    bundle.verify(
        &owner,
        &RegistrationPolicy::default(),
        now(),
        None,
        &NoDirectory,
    )
}

fn verify_as(
    bundle: &KeyBundle,
    owner: ExpectedOwner,
) -> Result<VerifiedBundle, RegistrationError> {
    bundle.clone().verify(
        &owner,
        &RegistrationPolicy::default(),
        now(),
        None,
        &NoDirectory,
    )
}

/// Re-signs `content` with the device's own identity key, so only the edited
/// field can be what fails.
fn resign(keys: &DeviceKeys, content: BundleContent) -> KeyBundle {
    content.sign(keys.identity())
}

#[test]
fn valid_bundle_passes_and_exposes_its_fields() {
    let (keys, bundle) = device(1, "alice");
    let verified = verify(&bundle).unwrap();
    assert_eq!(verified.owner(), keys.address());
    assert_eq!(verified.identity_key(), &keys.identity().public_key());
    assert_eq!(verified.sealing_key_id(), verified.sealing_key().key_id());
    assert!(keys.sealing_key(&verified.sealing_key_id()).is_some());
    assert_eq!(verified.bundle(), &bundle);
    // The bundle carries the ML-KEM key of the same sealing key.
    let kem = keys.kem_key(&verified.sealing_key_id()).unwrap();
    assert_eq!(verified.kem_key(), kem.encapsulation_key_ref());
    assert_eq!(verified.kem_key_id(), kem.key_id());
    assert_eq!(
        bundle.encode().len(),
        1 + 1 + 5 + 4 + 32 + 32 + 16 + KEM_ENCAPSULATION_KEY_LEN + 16 + 8 + 8 + 64
    );
}

#[test]
fn decode_is_strict() {
    let (_, bundle) = device(1, "alice");
    let bytes = bundle.encode();
    assert_eq!(KeyBundle::decode(&bytes).unwrap(), bundle);
    for len in 0..bytes.len() {
        assert!(matches!(
            KeyBundle::decode(&bytes[..len]),
            Err(RegistrationError::Malformed(_))
        ));
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        KeyBundle::decode(&long),
        Err(RegistrationError::Malformed(_))
    ));
}

#[test]
fn rejects_unknown_version() {
    let (_, bundle) = device(1, "alice");
    for version in [0u8, 1, 3, 255] {
        let mut bytes = bundle.encode();
        bytes[0] = version;
        assert_eq!(
            verify_bytes(&bytes),
            Err(RegistrationError::UnsupportedVersion(version))
        );
    }
    assert_eq!(BUNDLE_VERSION, 2);
}

/// A release-0.1 bundle (version 1, no ML-KEM key), validly signed, is refused:
/// devices re-register with a version-2 bundle.
#[test]
fn refuses_a_version_1_bundle() {
    let (keys, bundle) = device(1, "alice");
    let c = bundle.content();
    let mut tbs = vec![1u8, 5];
    tbs.extend_from_slice(b"alice");
    tbs.extend_from_slice(&1u32.to_be_bytes());
    tbs.extend_from_slice(c.identity_key.as_bytes());
    tbs.extend_from_slice(c.sealing_key.as_bytes());
    tbs.extend_from_slice(c.sealing_key_id.as_bytes());
    tbs.extend_from_slice(&c.not_before.unix_seconds().to_be_bytes());
    tbs.extend_from_slice(&c.not_after.unix_seconds().to_be_bytes());
    let signature = keys
        .identity()
        .sign_labeled(letterseal::labels::sig::KEY_BUNDLE, &tbs);
    tbs.extend_from_slice(&signature.to_bytes());
    assert_eq!(
        KeyBundle::decode(&tbs),
        Err(RegistrationError::UnsupportedVersion(1))
    );
}

#[test]
fn the_owner_must_be_the_expected_one() {
    let (keys, bundle) = device(1, "alice");
    let alice = keys.address().clone();
    assert!(verify_as(&bundle, ExpectedOwner::Device(alice.clone())).is_ok());
    assert!(verify_as(&bundle, ExpectedOwner::User(alice.user.clone())).is_ok());
    assert!(verify_as(&bundle, alice.user.clone().into()).is_ok());
    // A ghost device: Mallory's session uploads Alice's bundle.
    assert_eq!(
        verify_as(
            &bundle,
            ExpectedOwner::User(UserId::new("mallory").unwrap())
        ),
        Err(RegistrationError::OwnerMismatch)
    );
    // A server answers a request for Alice's device 2 with device 1's bundle.
    assert_eq!(
        verify_as(&bundle, address("alice", 2).into()),
        Err(RegistrationError::OwnerMismatch)
    );
    assert_eq!(
        verify_as(&bundle, address("mallory", 1).into()),
        Err(RegistrationError::OwnerMismatch)
    );
}

#[test]
fn the_owner_is_checked_right_after_the_signature() {
    let (keys, bundle) = device(1, "alice");
    let mallory = ExpectedOwner::User(UserId::new("mallory").unwrap());
    // A bad signature is reported first ...
    let (other, _) = device(2, "mallory");
    let forged = bundle.content().clone().sign(other.identity());
    assert_eq!(
        verify_as(&forged, mallory.clone()),
        Err(RegistrationError::BadSignature)
    );
    // ... then the owner, before any key or window check.
    let mut content = bundle.content().clone();
    content.sealing_key = SealingPublicKey::from_bytes([0; 32]);
    content.kem_key = UncheckedKemKey::from_bytes([0xff; KEM_ENCAPSULATION_KEY_LEN]);
    content.not_after = content.not_before;
    let broken = resign(&keys, content);
    assert_eq!(
        verify_as(&broken, mallory),
        Err(RegistrationError::OwnerMismatch)
    );
    assert_eq!(
        verify_as(&broken, keys.address().clone().into()),
        Err(RegistrationError::SmallOrderSealingKey)
    );
}

#[test]
fn rejects_invalid_kem_key() {
    let (keys, bundle) = device(1, "alice");
    let with_kem = |ek: [u8; KEM_ENCAPSULATION_KEY_LEN]| {
        let mut content = bundle.content().clone();
        content.kem_key = UncheckedKemKey::from_bytes(ek);
        content.kem_key_id = content.kem_key.key_id();
        verify(&resign(&keys, content))
    };
    let good = *bundle.content().kem_key.as_bytes();
    // Coefficient 0 = q = 3329 = 0xd01: fails the modulus check.
    let mut bad = good;
    bad[0] = 0x01;
    bad[1] = (bad[1] & 0xf0) | 0x0d;
    assert_eq!(with_kem(bad), Err(RegistrationError::InvalidKemKey));
    // q - 1 passes.
    bad[0] = 0x00;
    assert!(with_kem(bad).is_ok());
    assert_eq!(
        with_kem([0xff; KEM_ENCAPSULATION_KEY_LEN]),
        Err(RegistrationError::InvalidKemKey)
    );
    // The KEM key is checked after the sealing key, before the window.
    let mut content = bundle.content().clone();
    content.kem_key = UncheckedKemKey::from_bytes([0xff; KEM_ENCAPSULATION_KEY_LEN]);
    content.sealing_key_id = SealingKeyId::from_bytes([1; 16]);
    assert_eq!(
        verify(&resign(&keys, content.clone())),
        Err(RegistrationError::WrongKeyId)
    );
    content.sealing_key_id = content.sealing_key.key_id();
    content.not_after = content.not_before;
    assert_eq!(
        verify(&resign(&keys, content)),
        Err(RegistrationError::InvalidKemKey)
    );
}

#[test]
fn rejects_wrong_kem_key_id() {
    let (keys, bundle) = device(1, "alice");
    let mut content = bundle.content().clone();
    content.kem_key_id = KemKeyId::from_bytes(content.sealing_key_id.to_bytes());
    assert_eq!(
        verify(&resign(&keys, content.clone())),
        Err(RegistrationError::WrongKemKeyId)
    );
    // Another valid KEM key under the old id.
    let other = KemDecapsulationKey::from_seed(&[9; 64]).encapsulation_key();
    content.kem_key = UncheckedKemKey::from(&other);
    content.kem_key_id = bundle.content().kem_key_id;
    assert_eq!(
        verify(&resign(&keys, content.clone())),
        Err(RegistrationError::WrongKemKeyId)
    );
    content.kem_key_id = other.key_id();
    assert_eq!(verify(&resign(&keys, content)).unwrap().kem_key(), &other);
}

#[test]
fn rejects_invalid_identity_key() {
    let (_, bundle) = device(1, "alice");
    let mut bytes = bundle.encode();
    let offset = 1 + 1 + 5 + 4;
    bytes[offset..offset + 32].copy_from_slice(&{
        let mut neutral = [0u8; 32];
        neutral[0] = 1;
        neutral
    });
    assert_eq!(
        verify_bytes(&bytes),
        Err(RegistrationError::InvalidIdentityKey)
    );
}

#[test]
fn rejects_bad_signature() {
    let (_, bundle) = device(1, "alice");
    let (mallory, _) = device(2, "mallory");
    let forged = bundle.content().clone().sign(mallory.identity());
    assert_eq!(verify(&forged), Err(RegistrationError::BadSignature));
}

#[test]
fn rejects_non_canonical_sealing_key() {
    let (keys, bundle) = device(1, "alice");
    let mut content = bundle.content().clone();
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    content.sealing_key = SealingPublicKey::from_bytes(p);
    content.sealing_key_id = content.sealing_key.key_id();
    assert_eq!(
        verify(&resign(&keys, content)),
        Err(RegistrationError::NonCanonicalSealingKey)
    );
}

#[test]
fn rejects_small_order_sealing_key() {
    let (keys, bundle) = device(1, "alice");
    let mut content = bundle.content().clone();
    content.sealing_key = SealingPublicKey::from_bytes([0; 32]);
    content.sealing_key_id = content.sealing_key.key_id();
    assert_eq!(
        verify(&resign(&keys, content)),
        Err(RegistrationError::SmallOrderSealingKey)
    );
}

#[test]
fn rejects_wrong_key_id() {
    let (keys, bundle) = device(1, "alice");
    let mut content = bundle.content().clone();
    content.sealing_key_id = SealingKeyId::from_bytes([7; 16]);
    assert_eq!(
        verify(&resign(&keys, content)),
        Err(RegistrationError::WrongKeyId)
    );
}

#[test]
fn rejects_bad_validity_windows() {
    let (keys, bundle) = device(1, "alice");
    let with_window = |nb: u64, na: u64| {
        let mut content = bundle.content().clone();
        content.not_before = Timestamp::from_unix_seconds(nb);
        content.not_after = Timestamp::from_unix_seconds(na);
        verify(&resign(&keys, content))
    };
    let policy = RegistrationPolicy::default();
    assert_eq!(
        with_window(T0, T0),
        Err(RegistrationError::InvalidValidityWindow)
    );
    assert_eq!(
        with_window(T0, T0 - 1),
        Err(RegistrationError::InvalidValidityWindow)
    );
    assert_eq!(
        with_window(T0, T0 + policy.max_lifetime_seconds + 1),
        Err(RegistrationError::LifetimeTooLong)
    );
    assert!(with_window(T0, T0 + policy.max_lifetime_seconds).is_ok());
    let skew = policy.max_clock_skew_seconds;
    assert_eq!(
        with_window(T0 + skew + 1, T0 + DAY),
        Err(RegistrationError::NotYetValid)
    );
    assert!(with_window(T0 + skew, T0 + DAY).is_ok());
    assert_eq!(with_window(T0 - DAY, T0), Err(RegistrationError::Expired));
    assert!(with_window(T0 - DAY, T0 + 1).is_ok());
}

#[test]
fn rejects_identity_key_different_from_pinned() {
    let (alice, bundle) = device(1, "alice");
    let (mallory, _) = device(2, "mallory");
    let policy = RegistrationPolicy::default();
    let pinned_mallory = mallory.identity().public_key();
    let pinned_alice = alice.identity().public_key();
    let owner = alice.address().clone().into();
    assert_eq!(
        bundle
            .clone()
            .verify(&owner, &policy, now(), Some(&pinned_mallory), &NoDirectory),
        Err(RegistrationError::IdentityKeyMismatch)
    );
    assert!(
        bundle
            .verify(&owner, &policy, now(), Some(&pinned_alice), &NoDirectory)
            .is_ok()
    );
}

#[test]
fn rejects_sealing_key_registered_to_another_account() {
    // Unknown key share (Isobe–Minematsu): Mallory registers Alice's public key.
    let (alice, alice_bundle) = device(1, "alice");
    let (mallory, _) = device(2, "mallory");
    let stolen = BundleContent::new(
        mallory.address().clone(),
        mallory.identity().public_key(),
        alice_bundle.content().sealing_key,
        &alice_bundle.content().kem_key.validate().unwrap(),
        now(),
        now().saturating_add(DAY),
    )
    .sign(mallory.identity());
    let alice_key = alice_bundle.content().sealing_key;
    let alice_address = alice.address().clone();
    let directory = |key: &SealingPublicKey| (*key == alice_key).then(|| alice_address.clone());
    let policy = RegistrationPolicy::default();
    assert_eq!(
        stolen.verify(
            &mallory.address().user.clone().into(),
            &policy,
            now(),
            None,
            &directory
        ),
        Err(RegistrationError::DuplicateSealingKey)
    );
    // The same key re-registered by its owner is accepted (idempotent).
    assert!(
        alice_bundle
            .verify(
                &alice.address().clone().into(),
                &policy,
                now(),
                None,
                &directory
            )
            .is_ok()
    );
}

#[test]
fn rotation_keeps_several_keys_live_under_one_identity() {
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let mut keys = DeviceKeys::generate(&mut rng, address("bob", 2));
    let first = keys.add_sealing_key(&mut rng, now(), 30 * DAY);
    let second = keys.add_sealing_key(&mut rng, now().saturating_add(DAY), 30 * DAY);
    let pinned = keys.identity().public_key();
    let policy = RegistrationPolicy::default();
    let registered = first.content().sealing_key;
    let owner = keys.address().clone();
    let directory = |key: &SealingPublicKey| (*key == registered).then(|| owner.clone());
    let later = now().saturating_add(DAY);
    let uploader = ExpectedOwner::User(keys.address().user.clone());
    let v1 = first
        .verify(&uploader, &policy, later, Some(&pinned), &directory)
        .unwrap();
    let v2 = second
        .verify(&uploader, &policy, later, Some(&pinned), &directory)
        .unwrap();
    assert_ne!(v1.sealing_key_id(), v2.sealing_key_id());
    assert_eq!(keys.live_key_ids().count(), 2);
    // Re-signing a live key's bundle reproduces it byte for byte (Ed25519 is deterministic).
    assert_eq!(keys.bundle(&v2.sealing_key_id()).unwrap(), *v2.bundle());
    assert_ne!(v1.kem_key_id(), v2.kem_key_id());
    assert!(keys.retire(v1.sealing_key_id()));
    assert!(!keys.retire(v1.sealing_key_id()));
    assert!(keys.sealing_key(&v1.sealing_key_id()).is_none());
    assert!(keys.kem_key(&v1.sealing_key_id()).is_none());
    assert!(keys.kem_key(&v2.sealing_key_id()).is_some());
    assert!(keys.bundle(&v1.sealing_key_id()).is_none());
    assert_eq!(
        keys.live_key_ids().collect::<Vec<_>>(),
        [&v2.sealing_key_id()]
    );
}

#[test]
fn any_single_byte_change_is_rejected() {
    let (_, bundle) = device(4, "carol@example.org");
    let bytes = bundle.encode();
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut tampered = bytes.clone();
            tampered[i] ^= bit;
            assert!(
                verify_bytes(&tampered).is_err(),
                "byte {i} bit {bit:#x} accepted"
            );
        }
    }
}

#[test]
fn debug_output_contains_no_secret() {
    let seed = [0x5a; 32];
    let identity = IdentitySecretKey::from_seed(&seed);
    let sealing = SealingSecretKey::from_bytes(&[0xa5; 32]);
    let mut keys = DeviceKeys::from_identity(address("dave", 1), identity);
    keys.insert_sealing_key(
        sealing,
        KemDecapsulationKey::from_seed(&[0x3c; 64]),
        now(),
        now().saturating_add(DAY),
    );
    keys.insert_one_time_key(
        SealingSecretKey::from_bytes(&[0xc3; 32]),
        now(),
        now().saturating_add(DAY),
    )
    .unwrap();
    let text = format!("{keys:?}");
    assert!(!text.contains("3c3c3c"), "{text}");
    assert!(!text.contains("c3c3c3"), "{text}");
    assert!(!text.contains("5a5a5a"), "{text}");
    assert!(!text.contains("a5a5a5"), "{text}");
    let identity = IdentitySecretKey::from_seed(&seed);
    assert!(!format!("{identity:?}").contains("5a5a"));
}

#[test]
fn secret_types_zeroize_on_drop() {
    fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    assert_zeroize_on_drop::<IdentitySecretKey>();
    assert_zeroize_on_drop::<SealingSecretKey>();
    assert_zeroize_on_drop::<letterseal::keys::SharedSecret>();
    assert_zeroize_on_drop::<letterseal::kdf::Prk>();
    assert_zeroize_on_drop::<letterseal::aead::AeadKey>();
    assert_zeroize_on_drop::<KemDecapsulationKey>();
    assert_zeroize_on_drop::<letterseal::keys::KemSharedSecret>();
}

type Content = (Vec<u8>, u32, [u8; 32], [u8; 32], [u8; 32], u64, u64);

fn arb_content() -> impl Strategy<Value = Content> {
    (
        proptest::collection::vec(any::<u8>(), 1..=255),
        any::<u32>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
    )
}

proptest! {
    #[test]
    #[test]
    fn encode_decode_round_trip((user, dev, seed, sealing, kem, nb, na) in arb_content()) {
        let identity = IdentitySecretKey::from_seed(&seed);
        let mut kem_seed = [0u8; 64];
        kem_seed[..32].copy_from_slice(&kem);
        let owner = DeviceAddress::new(UserId::new(&user).unwrap(), DeviceId::new(dev));
        let content = BundleContent::new(
            owner.clone(),
            identity.public_key(),
            SealingSecretKey::from_bytes(&sealing).public_key(),
            KemDecapsulationKey::from_seed(&kem_seed).encapsulation_key_ref(),
            Timestamp::from_unix_seconds(nb),
            Timestamp::from_unix_seconds(na),
        );
        let bundle = content.sign(&identity);
        let bytes = bundle.encode();
        prop_assert_eq!(
            bytes.len(),
            1 + 1 + user.len() + 4 + 32 + 32 + 16 + KEM_ENCAPSULATION_KEY_LEN + 16 + 8 + 8 + 64
        );
        let decoded = KeyBundle::decode(&bytes).unwrap();
        prop_assert_eq!(&decoded, &bundle);
        prop_assert_eq!(decoded.encode(), bytes);

        let one_time = OneTimeKeyContent::new(
            owner,
            identity.public_key(),
            SealingSecretKey::from_bytes(&kem).public_key(),
            Timestamp::from_unix_seconds(nb),
            Timestamp::from_unix_seconds(na),
        )
        .sign(&identity);
        let bytes = one_time.encode();
        prop_assert_eq!(bytes.len(), 1 + 1 + user.len() + 4 + 32 + 32 + 16 + 8 + 8 + 64);
        let decoded = OneTimeKeyBundle::decode(&bytes).unwrap();
        prop_assert_eq!(&decoded, &one_time);
        prop_assert_eq!(decoded.encode(), bytes);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        if let Ok(bundle) = KeyBundle::decode(&bytes) {
            // Strictness: a decoded bundle re-encodes to the same bytes.
            prop_assert_eq!(bundle.encode(), bytes.clone());
        }
        if let Ok(key) = OneTimeKeyBundle::decode(&bytes) {
            prop_assert_eq!(key.encode(), bytes);
        }
    }

    #[test]
    fn random_tampering_is_rejected(index in any::<proptest::sample::Index>(), mask in 1u8..=255) {
        let (_, bundle) = device(5, "erin");
        let mut bytes = bundle.encode();
        let i = index.index(bytes.len());
        bytes[i] ^= mask;
        prop_assert!(verify_bytes(&bytes).is_err());
    }
}

// ---- one-time keys (SPEC.md §5.5) ----------------------------------------------------------

fn verify_one_time(
    key: &OneTimeKeyBundle,
    owner: ExpectedOwner,
    at: Timestamp,
) -> Result<VerifiedOneTimeKey, RegistrationError> {
    key.clone().verify(
        &owner,
        &RegistrationPolicy::default(),
        at,
        None,
        &NoDirectory,
    )
}

fn one_time_device() -> (DeviceKeys, Vec<OneTimeKeyBundle>) {
    let mut rng = ChaCha20Rng::from_seed([40; 32]);
    let mut keys = DeviceKeys::generate(&mut rng, address("bob", 3));
    let uploads = keys.add_one_time_keys(&mut rng, 4, now(), 7 * DAY);
    (keys, uploads)
}

#[test]
fn one_time_keys_verify_and_expose_their_fields() {
    let (keys, uploads) = one_time_device();
    assert_eq!(uploads.len(), 4);
    assert_eq!(keys.one_time_key_ids().count(), 4);
    for upload in &uploads {
        let bytes = upload.encode();
        assert_eq!(bytes.len(), 1 + 1 + 3 + 4 + 32 + 32 + 16 + 8 + 8 + 64);
        let verified = verify_one_time(
            &OneTimeKeyBundle::decode(&bytes).unwrap(),
            keys.address().clone().into(),
            now(),
        )
        .unwrap();
        assert_eq!(verified.owner(), keys.address());
        assert_eq!(verified.identity_key(), &keys.identity().public_key());
        assert_eq!(verified.key_id(), verified.key().key_id());
        assert_eq!(
            keys.one_time_key(&verified.key_id()).unwrap().public_key(),
            *verified.key()
        );
        assert_eq!(verified.validity(), (now(), now().saturating_add(7 * DAY)));
        assert_eq!(
            keys.one_time_key_bundle(&verified.key_id()).as_ref(),
            Some(upload)
        );
        // A one-time key is not a sealing key of the device.
        assert!(keys.sealing_key(&verified.key_id()).is_none());
    }
}

#[test]
fn one_time_key_checks_each_have_their_error() {
    let (keys, uploads) = one_time_device();
    let me: ExpectedOwner = keys.address().clone().into();
    let good = uploads[0].clone();
    let resigned = |content: OneTimeKeyContent| content.sign(keys.identity());
    let check = |key: &OneTimeKeyBundle| verify_one_time(key, me.clone(), now());

    let mut bytes = good.encode();
    bytes[0] = 2;
    assert_eq!(
        OneTimeKeyBundle::decode(&bytes),
        Err(RegistrationError::UnsupportedVersion(2))
    );
    let bytes = good.encode();
    for len in 0..bytes.len() {
        assert!(matches!(
            OneTimeKeyBundle::decode(&bytes[..len]),
            Err(RegistrationError::Malformed(_))
        ));
    }
    // A key bundle is not a one-time key and vice versa (different versions and lengths).
    let (_, bundle) = device(1, "bob");
    assert!(OneTimeKeyBundle::decode(&bundle.encode()).is_err());
    assert!(KeyBundle::decode(&good.encode()).is_err());

    let (mallory, _) = device(2, "mallory");
    assert_eq!(
        check(&good.content().clone().sign(mallory.identity())),
        Err(RegistrationError::BadSignature)
    );
    // Domain separation: the same fields signed as a key bundle do not verify.
    let tbs = &good.encode()[..good.encode().len() - 64];
    let mut relabelled = tbs.to_vec();
    relabelled.extend_from_slice(
        &keys
            .identity()
            .sign_labeled(letterseal::labels::sig::KEY_BUNDLE, tbs)
            .to_bytes(),
    );
    assert_eq!(
        check(&OneTimeKeyBundle::decode(&relabelled).unwrap()),
        Err(RegistrationError::BadSignature)
    );
    assert_eq!(
        verify_one_time(&good, address("bob", 4).into(), now()),
        Err(RegistrationError::OwnerMismatch)
    );
    assert_eq!(
        verify_one_time(&good, UserId::new("eve").unwrap().into(), now()),
        Err(RegistrationError::OwnerMismatch)
    );
    assert!(verify_one_time(&good, UserId::new("bob").unwrap().into(), now()).is_ok());

    let mut content = good.content().clone();
    content.key = SealingPublicKey::from_bytes([0xff; 32]);
    content.key_id = content.key.key_id();
    assert_eq!(
        check(&resigned(content.clone())),
        Err(RegistrationError::NonCanonicalSealingKey)
    );
    content.key = SealingPublicKey::from_bytes([0; 32]);
    content.key_id = content.key.key_id();
    assert_eq!(
        check(&resigned(content)),
        Err(RegistrationError::SmallOrderSealingKey)
    );
    let mut content = good.content().clone();
    content.key_id = SealingKeyId::from_bytes([0; 16]);
    assert_eq!(
        check(&resigned(content)),
        Err(RegistrationError::WrongKeyId)
    );
    let mut content = good.content().clone();
    content.not_after = content.not_before;
    assert_eq!(
        check(&resigned(content.clone())),
        Err(RegistrationError::InvalidValidityWindow)
    );
    content.not_after = content.not_before.saturating_add(91 * DAY);
    assert_eq!(
        check(&resigned(content)),
        Err(RegistrationError::LifetimeTooLong)
    );
    assert_eq!(
        verify_one_time(&good, me.clone(), Timestamp::from_unix_seconds(T0 - 301)),
        Err(RegistrationError::NotYetValid)
    );
    assert_eq!(
        verify_one_time(&good, me.clone(), now().saturating_add(7 * DAY)),
        Err(RegistrationError::Expired)
    );
    let policy = RegistrationPolicy::default();
    assert_eq!(
        good.clone().verify(
            &me,
            &policy,
            now(),
            Some(&mallory.identity().public_key()),
            &NoDirectory
        ),
        Err(RegistrationError::IdentityKeyMismatch)
    );
    let key = good.content().key;
    let directory = |k: &SealingPublicKey| (*k == key).then(|| address("mallory", 1));
    assert_eq!(
        good.clone().verify(&me, &policy, now(), None, &directory),
        Err(RegistrationError::DuplicateSealingKey)
    );
    let own = |k: &SealingPublicKey| (*k == key).then(|| address("bob", 3));
    assert!(good.verify(&me, &policy, now(), None, &own).is_ok());
}

#[test]
fn a_one_time_key_is_used_once() {
    let (mut keys, uploads) = one_time_device();
    let id = uploads[0].content().key_id;
    let other = uploads[1].content().key_id;
    assert!(!keys.is_consumed_one_time_key(&id));
    assert!(keys.consume_one_time_key(id));
    assert!(keys.one_time_key(&id).is_none());
    assert!(keys.one_time_key_bundle(&id).is_none());
    assert!(keys.is_consumed_one_time_key(&id));
    // A second use is detectable, and consuming again reports it.
    assert!(!keys.consume_one_time_key(id));
    assert!(keys.is_consumed_one_time_key(&id));
    // An unknown id is neither live nor consumed.
    let unknown = SealingKeyId::from_bytes([5; 16]);
    assert!(!keys.consume_one_time_key(unknown));
    assert!(!keys.is_consumed_one_time_key(&unknown));
    assert!(keys.one_time_key(&other).is_some());
    assert_eq!(keys.one_time_key_ids().count(), 3);
}

#[test]
fn expiry_deletes_one_time_keys_and_consumed_ids_past_not_after() {
    let mut rng = ChaCha20Rng::from_seed([41; 32]);
    let mut keys = DeviceKeys::generate(&mut rng, address("bob", 3));
    let short = keys.add_one_time_keys(&mut rng, 2, now(), DAY);
    let long = keys.add_one_time_keys(&mut rng, 1, now(), 3 * DAY);
    let sealing = keys.add_sealing_key(&mut rng, now(), DAY);
    let used = short[0].content().key_id;
    assert!(keys.consume_one_time_key(used));
    // Nothing is past not_after yet.
    assert_eq!(keys.expire(now().saturating_add(DAY - 1)), 0);
    assert!(keys.is_consumed_one_time_key(&used));
    // At not_after: the consumed id and the unused short key go; the long key stays.
    assert_eq!(keys.expire(now().saturating_add(DAY)), 2);
    assert!(!keys.is_consumed_one_time_key(&used));
    assert!(keys.one_time_key(&short[1].content().key_id).is_none());
    assert!(keys.one_time_key(&long[0].content().key_id).is_some());
    // Sealing keys are never expired here.
    assert!(
        keys.sealing_key(&sealing.content().sealing_key_id)
            .is_some()
    );
    assert_eq!(keys.expire(now().saturating_add(3 * DAY)), 1);
    assert_eq!(keys.one_time_key_ids().count(), 0);
}

/// With a repeating RNG, a new one-time key equal to a used one is dropped, never
/// made usable again.
#[test]
fn a_repeating_rng_never_revives_a_used_one_time_key() {
    let mut keys = DeviceKeys::generate(&mut ChaCha20Rng::from_seed([42; 32]), address("bob", 3));
    let first = keys.add_one_time_keys(&mut ChaCha20Rng::from_seed([43; 32]), 1, now(), DAY);
    let id = first[0].content().key_id;
    assert!(keys.consume_one_time_key(id));
    let again = keys.add_one_time_keys(&mut ChaCha20Rng::from_seed([43; 32]), 2, now(), DAY);
    assert_eq!(again.len(), 1, "the repeated key is dropped");
    assert_ne!(again[0].content().key_id, id);
    assert!(keys.one_time_key(&id).is_none());
    assert!(keys.is_consumed_one_time_key(&id));
    // The same for a live sealing key's id.
    let sealing = SealingSecretKey::from_bytes(&[7; 32]);
    let sealing_id = sealing.public_key().key_id();
    keys.insert_sealing_key(
        sealing,
        KemDecapsulationKey::from_seed(&[8; 64]),
        now(),
        now().saturating_add(DAY),
    );
    assert!(
        keys.insert_one_time_key(
            SealingSecretKey::from_bytes(&[7; 32]),
            now(),
            now().saturating_add(DAY)
        )
        .is_none()
    );
    assert!(keys.one_time_key(&sealing_id).is_none());
}

proptest! {
    #[test]
    fn random_one_time_key_tampering_is_rejected(
        index in any::<proptest::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let (keys, uploads) = one_time_device();
        let mut bytes = uploads[0].encode();
        let i = index.index(bytes.len());
        bytes[i] ^= mask;
        let result = OneTimeKeyBundle::decode(&bytes)
            .and_then(|k| {
                k.verify(
                    &keys.address().clone().into(),
                    &RegistrationPolicy::default(),
                    now(),
                    None,
                    &NoDirectory,
                )
            });
        prop_assert!(result.is_err());
    }
}
