//! Hedged salts (SPEC.md §3.5, §7.4) at the session level: a sender restored
//! from a saved state *together with its RNG* (VM snapshot, fork) never seals
//! two different messages under the same key and nonce, and sealing the same
//! message twice reveals only that the two are equal.
//!
//! A restored ratchet state reuses its chain position, so the message secret
//! `MK_n` repeats; the keys are `ExpandLabeled(MK_n, "message keys", salt, 76)`,
//! a PRF of the salt, so distinct salts give distinct keys and nonces. The test
//! therefore checks the salts (and the ciphertexts).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use letterseal::codec::Reader;
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::{ContentType, Header, Session};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000)
}

fn device(rng: &mut ChaCha20Rng, user: &str) -> (DeviceKeys, VerifiedBundle) {
    let address = DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(1));
    let mut keys = DeviceKeys::generate(rng, address);
    let bundle = keys
        .add_sealing_key(rng, now(), 86_400)
        .verify(
            &keys.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    (keys, bundle)
}

/// A message's header (SPEC.md §7.3).
fn header(message: &[u8]) -> Header {
    Header::decode(&mut Reader::new(message)).unwrap()
}

#[test]
fn a_restored_sender_with_a_repeated_rng_never_reuses_a_key_and_nonce() {
    let mut rng = ChaCha20Rng::from_seed([41; 32]);
    let (alice, alice_bundle) = device(&mut rng, "alice");
    let (mut bob, bob_bundle) = device(&mut rng, "bob");
    let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
    let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
    let key = StorageKey::generate(&mut rng);
    for i in 0..3u8 {
        let m = at_alice
            .seal(&alice, &mut rng, now(), ContentType::Text, &[i], b"")
            .unwrap();
        at_bob.open(&mut bob, now(), &m, b"").unwrap();
    }

    // The snapshot: Alice's session state and her RNG, both restored every time.
    let snapshot = at_alice.export(&mut rng, &key).unwrap();
    let rng_snapshot = rng.clone();
    let plaintexts: [&[u8]; 6] = [
        b"attack at dawn",
        b"attack at dusk",
        b"",
        b"attack at dawn!",
        &[0u8; 64],
        &[0u8; 65],
    ];
    let mut pairs = BTreeSet::new();
    let mut first_of_each = Vec::new();
    for (i, plaintext) in plaintexts.iter().enumerate() {
        let mut restored = Session::import(&key, snapshot.as_bytes(), 0).unwrap();
        let mut repeated = rng_snapshot.clone();
        let message = restored
            .seal(
                &alice,
                &mut repeated,
                now(),
                ContentType::Text,
                plaintext,
                b"",
            )
            .unwrap();
        let h = header(&message);
        assert_eq!(h.n, 3, "same chain position every time");
        assert!(
            pairs.insert(h.salt),
            "message {i} reused a salt, hence a key and nonce"
        );
        first_of_each.push(message);
    }
    // The same plaintext, but other associated data: another key and nonce too.
    let mut restored = Session::import(&key, snapshot.as_bytes(), 0).unwrap();
    let message = restored
        .seal(
            &alice,
            &mut rng_snapshot.clone(),
            now(),
            ContentType::Text,
            plaintexts[0],
            b"other associated data",
        )
        .unwrap();
    assert!(pairs.insert(header(&message).salt));

    // Sealing the same plaintext again from the snapshot gives the same bytes:
    // an observer learns only that the two messages are equal.
    let mut restored = Session::import(&key, snapshot.as_bytes(), 0).unwrap();
    let again = restored
        .seal(
            &alice,
            &mut rng_snapshot.clone(),
            now(),
            ContentType::Text,
            plaintexts[0],
            b"",
        )
        .unwrap();
    assert_eq!(again, first_of_each[0]);

    // Bob accepts exactly one message of counter 3 and refuses the rest as replays.
    assert!(at_bob.open(&mut bob, now(), &first_of_each[1], b"").is_ok());
    for other in &first_of_each[2..] {
        assert!(at_bob.open(&mut bob, now(), other, b"").is_err());
    }
}

#[test]
fn with_a_sound_rng_equal_messages_get_unrelated_salts() {
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let (alice, _) = device(&mut rng, "alice");
    let (_, bob_bundle) = device(&mut rng, "bob");
    let key = StorageKey::generate(&mut rng);
    let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
    let snapshot = at_alice.export(&mut rng, &key).unwrap();
    let mut salts = BTreeSet::new();
    for _ in 0..16 {
        let mut restored = Session::import(&key, snapshot.as_bytes(), 0).unwrap();
        let m = restored
            .seal(&alice, &mut rng, now(), ContentType::Text, b"same", b"")
            .unwrap();
        salts.insert(header(&m).salt);
    }
    assert_eq!(salts.len(), 16);
}
