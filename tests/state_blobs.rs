//! Sealed state blobs (SPEC.md §12): round trips, every refusal of the import
//! checks in order, rollback detection, and random damage to whole blobs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::SealingKeyId;
use letterseal::pairwise::{ContentType, Session};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::state::{BLOB_HEADER_LEN, BLOB_OVERHEAD, StateError, StateKind, StorageKey};
use letterseal::time::Timestamp;
use proptest::prelude::*;
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

/// Alice and Bob with a rotated and a retired key, and sessions that have talked.
struct World {
    rng: ChaCha20Rng,
    alice: DeviceKeys,
    bob: DeviceKeys,
    at_alice: Session,
    at_bob: Session,
    key: StorageKey,
    /// Alice's first sealing key, retired.
    retired: SealingKeyId,
}

fn world() -> World {
    let mut rng = ChaCha20Rng::from_seed([31; 32]);
    let (mut alice, alice_bundle) = device(&mut rng, "alice");
    let (bob, bob_bundle) = device(&mut rng, "bob");
    // Alice rotates and retires her first key, so her state has every kind of entry.
    let old = alice_bundle.sealing_key_id();
    let newer = alice
        .add_sealing_key(&mut rng, now().saturating_add(60), 86_400)
        .verify(
            &alice.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
    let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
    at_bob.add_peer_bundle(&newer).unwrap();
    for i in 0..5u8 {
        let sealed = at_alice
            .seal(&alice, &mut rng, now(), ContentType::Text, &[i; 9], b"")
            .unwrap();
        if i != 2 {
            at_bob.open(&bob, now(), &sealed, b"").unwrap();
        }
    }
    assert!(alice.retire(old));
    let key = StorageKey::generate(&mut rng);
    World {
        rng,
        alice,
        bob,
        at_alice,
        at_bob,
        key,
        retired: old,
    }
}

#[test]
fn states_round_trip_and_keep_working() {
    let mut w = world();
    let device_blob = w.alice.export(&mut w.rng, &w.key).unwrap();
    let session_blob = w.at_bob.export(&mut w.rng, &w.key).unwrap();
    assert_eq!(device_blob.generation(), 1);
    assert_eq!(session_blob.generation(), 1);

    let alice = DeviceKeys::import(&w.key, device_blob.as_bytes(), 1).unwrap();
    assert_eq!(alice.address(), w.alice.address());
    assert_eq!(
        alice.live_key_ids().collect::<Vec<_>>(),
        w.alice.live_key_ids().collect::<Vec<_>>()
    );
    assert!(alice.is_retired(&w.retired));
    assert_eq!(alice.generation(), 1);

    let mut at_bob = Session::import(&w.key, session_blob.as_bytes(), 1).unwrap();
    assert_eq!(at_bob.highest_received(), Some(4));
    assert_eq!(at_bob.missing_counters(), vec![2]);
    assert_eq!(at_bob.peer(), w.at_bob.peer());

    // The restored session opens the next message and still refuses replays.
    let next = w
        .at_alice
        .seal(&alice, &mut w.rng, now(), ContentType::Text, b"after", b"")
        .unwrap();
    assert_eq!(
        at_bob
            .open(&w.bob, now(), &next, b"")
            .unwrap()
            .plaintext
            .as_slice(),
        b"after"
    );
    let again = at_bob.export(&mut w.rng, &w.key).unwrap();
    assert_eq!(
        again.generation(),
        2,
        "generations continue from the import"
    );
}

/// Every check of SPEC.md §12.1 refuses with its own error, in order.
#[test]
fn import_refuses_each_kind_of_bad_blob() {
    let mut w = world();
    let blob = w.at_bob.export(&mut w.rng, &w.key).unwrap().into_bytes();
    let import = |bytes: &[u8]| Session::import(&w.key, bytes, 0).map(|_| ());

    // 1: shorter than header and tag, at every length.
    for len in 0..BLOB_OVERHEAD {
        assert_eq!(import(&blob[..len]), Err(StateError::Truncated), "{len}");
    }
    // 2: container version.
    let mut v = blob.clone();
    v[0] = 2;
    assert_eq!(import(&v), Err(StateError::UnsupportedFormat(2)));
    // 3: a device-key blob imported as a session, and an unknown kind byte.
    let device_blob = w.alice.export(&mut w.rng, &w.key).unwrap();
    assert_eq!(
        import(device_blob.as_bytes()),
        Err(StateError::WrongKind {
            expected: StateKind::Session,
            found: StateKind::DeviceKeys.code()
        })
    );
    assert!(matches!(
        DeviceKeys::import(&w.key, &blob, 0),
        Err(StateError::WrongKind {
            expected: StateKind::DeviceKeys,
            found: 2
        })
    ));
    let mut k = blob.clone();
    k[1] = 9;
    assert!(matches!(
        import(&k),
        Err(StateError::WrongKind { found: 9, .. })
    ));
    // 4: layout version (the JSON-era version 1, and a future one).
    for version in [1u16, 3] {
        let mut l = blob.clone();
        l[2..4].copy_from_slice(&version.to_be_bytes());
        assert_eq!(
            import(&l),
            Err(StateError::UnsupportedStateVersion {
                kind: StateKind::Session,
                version
            })
        );
    }
    // 5: another storage key; an altered generation, salt or commitment.
    let other = StorageKey::from_bytes([7; 32]);
    assert_eq!(
        Session::import(&other, &blob, 0).map(|_| ()),
        Err(StateError::WrongKey)
    );
    for i in 4..BLOB_HEADER_LEN {
        let mut h = blob.clone();
        h[i] ^= 0x01;
        assert_eq!(import(&h), Err(StateError::WrongKey), "header byte {i}");
    }
    // 6: any change to the sealed payload or the tag.
    for i in BLOB_HEADER_LEN..blob.len() {
        let mut b = blob.clone();
        b[i] ^= 0x80;
        assert_eq!(import(&b), Err(StateError::Tampered), "body byte {i}");
    }
    let mut extended = blob.clone();
    extended.push(0);
    assert_eq!(import(&extended), Err(StateError::Tampered));
    // Spliced: this blob's header with another blob's body (same kind, same key).
    let second = w.at_bob.export(&mut w.rng, &w.key).unwrap().into_bytes();
    let mut spliced = blob[..BLOB_HEADER_LEN].to_vec();
    spliced.extend_from_slice(&second[BLOB_HEADER_LEN..]);
    assert_eq!(import(&spliced), Err(StateError::Tampered));
    let mut spliced = second[..BLOB_HEADER_LEN].to_vec();
    spliced.extend_from_slice(&blob[BLOB_HEADER_LEN..]);
    assert_eq!(import(&spliced), Err(StateError::Tampered));
}

/// SPEC.md §12.1 check 7: a blob older than the newest generation the app recorded.
#[test]
fn older_generations_are_refused() {
    let mut w = world();
    let first = w.at_bob.export(&mut w.rng, &w.key).unwrap();
    let second = w.at_bob.export(&mut w.rng, &w.key).unwrap();
    let third = w.at_bob.export(&mut w.rng, &w.key).unwrap();
    assert_eq!(
        [first.generation(), second.generation(), third.generation()],
        [1, 2, 3]
    );
    assert!(Session::import(&w.key, third.as_bytes(), 3).is_ok());
    for old in [&first, &second] {
        assert_eq!(
            Session::import(&w.key, old.as_bytes(), 3).map(|_| ()),
            Err(StateError::RolledBack {
                generation: old.generation(),
                minimum: 3
            })
        );
    }
    // The same for device keys: a restored snapshot would bring back a retired key.
    let before_retire = {
        let mut rng = ChaCha20Rng::from_seed([32; 32]);
        let (mut carol, _) = device(&mut rng, "carol");
        let snapshot = carol.export(&mut rng, &w.key).unwrap();
        let id = *carol.live_key_ids().next().unwrap();
        carol.retire(id);
        let after = carol.export(&mut rng, &w.key).unwrap();
        (snapshot, after)
    };
    let (snapshot, after) = before_retire;
    assert!(matches!(
        DeviceKeys::import(&w.key, snapshot.as_bytes(), after.generation()),
        Err(StateError::RolledBack { .. })
    ));
    assert!(DeviceKeys::import(&w.key, after.as_bytes(), after.generation()).is_ok());
}

/// A failed import changes nothing the caller holds: the live state keeps working.
#[test]
fn a_failed_import_leaves_the_existing_state_untouched() {
    let mut w = world();
    let blob = w.at_bob.export(&mut w.rng, &w.key).unwrap().into_bytes();
    let mut bad = blob.clone();
    bad[70] ^= 1;
    assert!(Session::import(&w.key, &bad, 0).is_err());
    let next = w
        .at_alice
        .seal(
            &w.alice,
            &mut w.rng,
            now(),
            ContentType::Text,
            b"still",
            b"",
        )
        .unwrap();
    assert!(w.at_bob.open(&w.bob, now(), &next, b"").is_ok());
    assert_eq!(w.at_bob.generation(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random damage to a whole blob — cut, extend, duplicate or move a range, flip bits —
    /// is always a typed refusal, never a state.
    #[test]
    fn damaged_blobs_are_always_refused(
        op in 0u8..5,
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        bits in 1u8..=255,
        kind in 0u8..2,
    ) {
        let mut w = world();
        let blob = if kind == 0 {
            w.at_bob.export(&mut w.rng, &w.key).unwrap().into_bytes()
        } else {
            w.alice.export(&mut w.rng, &w.key).unwrap().into_bytes()
        };
        let (i, j) = (a.index(blob.len()), b.index(blob.len()));
        let (lo, hi) = (i.min(j), i.max(j));
        let mut damaged = blob.clone();
        match op {
            0 => { damaged.drain(lo..=hi); }
            1 => { let range = damaged[lo..=hi].to_vec(); damaged.splice(hi..hi, range); }
            2 => damaged[i] ^= bits,
            3 => { damaged.insert(i, bits); }
            _ => {
                if lo == hi { damaged[lo] ^= bits; } else { damaged[lo..=hi].rotate_left(1); }
            }
        }
        prop_assume!(damaged != blob);
        if kind == 0 {
            prop_assert!(Session::import(&w.key, &damaged, 0).is_err());
        } else {
            prop_assert!(DeviceKeys::import(&w.key, &damaged, 0).is_err());
        }
    }
}
