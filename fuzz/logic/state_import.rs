//! Fuzz target: importing sealed state blobs (SPEC.md §12).
//!
//! The first input byte picks what the rest is:
//! - `0`/`1`: a whole blob, imported as device keys / a session under the
//!   fixture's storage key. Without the key nothing can be forged, so every
//!   input other than a blob the fixture itself sealed must be refused;
//! - `2`/`3`: a *payload*, sealed under the fixture's key with a correct header
//!   and imported as device keys / a session. This reaches the strict payload
//!   decoder behind the authentication: it must refuse with `Invalid` (naming a
//!   field) or produce a state whose next export opens to exactly the same
//!   payload bytes (one encoding per state, nothing dropped or defaulted);
//! - `4`: a fixture blob XOR-ed with the rest of the input: refused unless
//!   unchanged.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/state_import.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use letterseal::device::{DEVICE_BLOB_VERSION, DeviceKeys};
use letterseal::pairwise::{ContentType, SESSION_BLOB_VERSION, Session};
use letterseal::state::{self, StateError, StateKind, StorageKey};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::fixture::{DAY, T0, address, rng, verified};

struct Fixture {
    key: StorageKey,
    device_blob: Vec<u8>,
    session_blob: Vec<u8>,
    #[cfg_attr(not(test), allow(dead_code))]
    device_payload: Vec<u8>,
    #[cfg_attr(not(test), allow(dead_code))]
    session_payload: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut rng = rng(0x5e);
        let now = Timestamp::from_unix_seconds(T0);
        let mut alice = DeviceKeys::generate(&mut rng, address("alice", 3));
        let mut bob = DeviceKeys::generate(&mut rng, address("bob", 3));
        let first = alice.add_sealing_key(&mut rng, now, DAY);
        let alice_bundle = verified(
            alice.add_sealing_key(&mut rng, now.saturating_add(5), DAY),
            now,
        );
        alice.retire(first.content().sealing_key_id);
        let one_time = alice.add_one_time_keys(&mut rng, 2, now, DAY);
        assert!(alice.consume_one_time_key(one_time[0].content().key_id));
        let bob_bundle = verified(bob.add_sealing_key(&mut rng, now, DAY), now);
        let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
        let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
        for i in 0..4u8 {
            let m = at_alice
                .seal(&alice, &mut rng, now, ContentType::Text, &[i], b"")
                .unwrap();
            if i != 1 {
                at_bob.open(&mut bob, now, &m, b"").unwrap();
            }
        }
        // A reply and an answer: both directions, a Diffie-Hellman step each.
        let reply = at_bob
            .seal(&bob, &mut rng, now, ContentType::Text, b"reply", b"")
            .unwrap();
        at_alice.open(&mut alice, now, &reply, b"").unwrap();
        let answer = at_alice
            .seal(
                &alice,
                &mut rng,
                now,
                ContentType::GroupKey,
                &[7; 32],
                b"ctx",
            )
            .unwrap();
        at_bob.open(&mut bob, now, &answer, b"ctx").unwrap();
        let key = StorageKey::from_bytes([0x4b; 32]);
        let device_blob = alice.export(&mut rng, &key).unwrap().into_bytes();
        let session_blob = at_bob.export(&mut rng, &key).unwrap().into_bytes();
        let open = |kind, version, blob: &[u8]| {
            state::open_raw(kind, version, &key, blob, 0)
                .unwrap()
                .0
                .to_vec()
        };
        Fixture {
            device_payload: open(StateKind::DeviceKeys, DEVICE_BLOB_VERSION, &device_blob),
            session_payload: open(StateKind::Session, SESSION_BLOB_VERSION, &session_blob),
            key,
            device_blob,
            session_blob,
        }
    })
}

/// Imports `blob` as the kind `session` selects; `Ok` carries the re-exported payload.
fn import(session: bool, blob: &[u8]) -> Result<Vec<u8>, StateError> {
    let fx = fixture();
    let mut rng = ChaCha20Rng::from_seed([0x11; 32]);
    let (kind, version, again) = if session {
        let mut s = Session::import(&fx.key, blob, 0)?;
        (
            StateKind::Session,
            SESSION_BLOB_VERSION,
            s.export(&mut rng, &fx.key),
        )
    } else {
        let mut d = DeviceKeys::import(&fx.key, blob, 0)?;
        (
            StateKind::DeviceKeys,
            DEVICE_BLOB_VERSION,
            d.export(&mut rng, &fx.key),
        )
    };
    let again = again.expect("an imported state exports");
    let (payload, _) =
        state::open_raw(kind, version, &fx.key, again.as_bytes(), 0).expect("a fresh export opens");
    Ok(payload.to_vec())
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let fx = fixture();
    match mode % 5 {
        m @ (0 | 1) => {
            let session = m == 1;
            let own = if session {
                &fx.session_blob
            } else {
                &fx.device_blob
            };
            match import(session, rest) {
                Ok(_) => assert_eq!(
                    rest,
                    own.as_slice(),
                    "FORGERY: a blob nobody sealed imported"
                ),
                Err(_) => assert_ne!(rest, own.as_slice(), "the fixture's own blob was refused"),
            }
        }
        m @ (2 | 3) => {
            let session = m == 3;
            let (kind, version) = if session {
                (StateKind::Session, SESSION_BLOB_VERSION)
            } else {
                (StateKind::DeviceKeys, DEVICE_BLOB_VERSION)
            };
            let mut rng = ChaCha20Rng::from_seed([0x22; 32]);
            let blob = state::seal_raw(kind, version, 7, rest, &mut rng, &fx.key);
            match import(session, blob.as_bytes()) {
                Ok(payload) => assert_eq!(
                    payload, rest,
                    "an accepted payload must re-export to the same bytes"
                ),
                Err(StateError::Invalid { field }) => assert!(!field.is_empty()),
                Err(other) => panic!("an authentic blob failed with {other:?}"),
            }
        }
        _ => {
            let mut blob = fx.session_blob.clone();
            for (b, x) in blob.iter_mut().zip(rest) {
                *b ^= x;
            }
            let unchanged = blob == fx.session_blob;
            assert_eq!(import(true, &blob).is_ok(), unchanged);
        }
    }
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// Seeds: each fixture blob and payload, and small edits of them.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let fx = fixture();
    let with = |mode: u8, bytes: &[u8]| [&[mode][..], bytes].concat();
    let mut truncated = fx.session_payload.clone();
    truncated.pop();
    let mut flipped = vec![0u8; 70];
    flipped[69] = 1;
    vec![
        ("blob_device", with(0, &fx.device_blob)),
        ("blob_session", with(1, &fx.session_blob)),
        ("blob_session_as_device", with(0, &fx.session_blob)),
        ("payload_device", with(2, &fx.device_payload)),
        ("payload_session", with(3, &fx.session_payload)),
        ("payload_session_truncated", with(3, &truncated)),
        (
            "payload_session_trailing",
            with(3, &[&fx.session_payload[..], &[0]].concat()),
        ),
        ("xor_session_body_bit", with(4, &flipped)),
    ]
}

/// What importing a seed gives: "ok", or the error's name.
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> String {
    let Some((&mode, rest)) = data.split_first() else {
        return "empty".into();
    };
    let fx = fixture();
    let result = match mode % 5 {
        0 => import(false, rest),
        1 => import(true, rest),
        m @ (2 | 3) => {
            let mut rng = ChaCha20Rng::from_seed([0x22; 32]);
            let (kind, version) = if m == 3 {
                (StateKind::Session, SESSION_BLOB_VERSION)
            } else {
                (StateKind::DeviceKeys, DEVICE_BLOB_VERSION)
            };
            let blob = state::seal_raw(kind, version, 7, rest, &mut rng, &fx.key);
            import(m == 3, blob.as_bytes())
        }
        _ => {
            let mut blob = fx.session_blob.clone();
            for (b, x) in blob.iter_mut().zip(rest) {
                *b ^= x;
            }
            import(true, &blob)
        }
    };
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.name().into(),
    }
}
