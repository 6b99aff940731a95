//! Key registration through the public API (SPEC.md §5): one test per rejection,
//! rotation, tampering at every byte, and property tests of the codec.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{IdentitySecretKey, SealingKeyId, SealingPublicKey, SealingSecretKey};
use letterseal::registration::{
    BundleContent, KeyBundle, NoDirectory, RegistrationError, RegistrationPolicy, VerifiedBundle,
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

fn verify_bytes(bytes: &[u8]) -> Result<VerifiedBundle, RegistrationError> {
    KeyBundle::decode(bytes)?.verify(&RegistrationPolicy::default(), now(), None, &NoDirectory)
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
    let mut bytes = bundle.encode();
    bytes[0] = 2;
    assert_eq!(
        verify_bytes(&bytes),
        Err(RegistrationError::UnsupportedVersion(2))
    );
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
    assert_eq!(
        bundle
            .clone()
            .verify(&policy, now(), Some(&pinned_mallory), &NoDirectory),
        Err(RegistrationError::IdentityKeyMismatch)
    );
    assert!(
        bundle
            .verify(&policy, now(), Some(&pinned_alice), &NoDirectory)
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
        now(),
        now().saturating_add(DAY),
    )
    .sign(mallory.identity());
    let alice_key = alice_bundle.content().sealing_key;
    let alice_address = alice.address().clone();
    let directory = |key: &SealingPublicKey| (*key == alice_key).then(|| alice_address.clone());
    let policy = RegistrationPolicy::default();
    assert_eq!(
        stolen.verify(&policy, now(), None, &directory),
        Err(RegistrationError::DuplicateSealingKey)
    );
    // The same key re-registered by its owner is accepted (idempotent).
    assert!(
        alice_bundle
            .verify(&policy, now(), None, &directory)
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
    let v1 = first
        .verify(&policy, later, Some(&pinned), &directory)
        .unwrap();
    let v2 = second
        .verify(&policy, later, Some(&pinned), &directory)
        .unwrap();
    assert_ne!(v1.sealing_key_id(), v2.sealing_key_id());
    assert_eq!(keys.live_key_ids().count(), 2);
    // Re-signing a live key's bundle reproduces it byte for byte (Ed25519 is deterministic).
    assert_eq!(keys.bundle(&v2.sealing_key_id()).unwrap(), *v2.bundle());
    assert!(keys.retire(v1.sealing_key_id()));
    assert!(!keys.retire(v1.sealing_key_id()));
    assert!(keys.sealing_key(&v1.sealing_key_id()).is_none());
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
    keys.insert_sealing_key(sealing, now(), now().saturating_add(DAY));
    let text = format!("{keys:?}");
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
}

fn arb_content() -> impl Strategy<Value = (Vec<u8>, u32, [u8; 32], [u8; 32], u64, u64)> {
    (
        proptest::collection::vec(any::<u8>(), 1..=255),
        any::<u32>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
    )
}

proptest! {
    #[test]
    fn encode_decode_round_trip((user, dev, seed, sealing, nb, na) in arb_content()) {
        let identity = IdentitySecretKey::from_seed(&seed);
        let content = BundleContent::new(
            DeviceAddress::new(UserId::new(&user).unwrap(), DeviceId::new(dev)),
            identity.public_key(),
            SealingSecretKey::from_bytes(&sealing).public_key(),
            Timestamp::from_unix_seconds(nb),
            Timestamp::from_unix_seconds(na),
        );
        let bundle = content.sign(&identity);
        let bytes = bundle.encode();
        prop_assert_eq!(bytes.len(), 1 + 1 + user.len() + 4 + 32 + 32 + 16 + 8 + 8 + 64);
        let decoded = KeyBundle::decode(&bytes).unwrap();
        prop_assert_eq!(&decoded, &bundle);
        prop_assert_eq!(decoded.encode(), bytes);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(bundle) = KeyBundle::decode(&bytes) {
            // Strictness: a decoded bundle re-encodes to the same bytes.
            prop_assert_eq!(bundle.encode(), bytes);
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
