//! Fuzz target: importing a group's sealed state blob (SPEC.md §8.11, §12).
//!
//! A fixture is built once, deterministically (a fixed ChaCha20 seed):
//! devices Alice (`alice`/1), Bob (`bob`/2) and Carol (`carol`/3); Alice
//! makes epoch 1 for all three and epoch 2 for Alice and Bob (Carol removed),
//! and proposes epoch 3 without committing it; Bob processes epochs 1 and 2
//! and opens two of Alice's epoch-1 messages (a gap between them). Two
//! states are exported under the fixture's storage key: Bob's (two epochs:
//! epoch 1 superseded, its tree split for Alice's leaf, her receiving chain
//! and window, one stored skipped secret; epoch 2 with its tree whole) and
//! Alice's (her own sending chains, a pending proposal).
//! Alice also seals a message in epoch 2 that loaded states try to open.
//!
//! The first input byte (mod 4) picks what the rest is:
//!
//! - `0`: a whole blob, imported as a group. Without the key nothing can be
//!   forged: every input other than a fixture blob is refused;
//! - `1`: a *payload*, sealed under the fixture's key with a correct header
//!   (the current layout version, 3) and imported. This reaches the strict payload decoder
//!   behind the authentication: it must refuse with `Invalid` (naming a
//!   field) or produce a state whose next export opens to exactly the same
//!   payload bytes (one encoding per state, nothing dropped or defaulted).
//!   A state that loads is then used: its accessors; opening the fixture
//!   message (a failed open leaves the state's payload unchanged, a
//!   successful one opens it to the sealed plaintext); expiring epochs; and
//!   committing or aborting a pending proposal — none of which may panic;
//! - `2`: the payload sealed as an old layout version — 1 (the release-0.1
//!   group state) when bit 2 of the first byte is clear, 2 (static sender
//!   chains, before the secret tree) when it is set: always
//!   `UnsupportedStateVersion` naming that version, whatever the bytes;
//! - `3`: Bob's blob XOR-ed with the rest of the input: refused unless
//!   unchanged.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/group_state.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use letterseal::group::{GROUP_BLOB_VERSION, GracePolicy, Group, GroupId};
use letterseal::pairwise::{ContentType, Session};
use letterseal::state::{self, StateError, StateKind, StorageKey};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::fixture::{DAY, T0, device};

/// When loaded states open the fixture message.
const NOW: u64 = T0 + 7_200;
const AD: &[u8] = b"state chat";
const PLAINTEXT: &[u8] = b"epoch 2 hello";

struct Fixture {
    key: StorageKey,
    bob_blob: Vec<u8>,
    alice_blob: Vec<u8>,
    #[cfg_attr(not(test), allow(dead_code))]
    bob_payload: Vec<u8>,
    #[cfg_attr(not(test), allow(dead_code))]
    alice_payload: Vec<u8>,
    /// Alice's epoch-2 message.
    message: Vec<u8>,
}

fn payload_of(key: &StorageKey, blob: &[u8]) -> Vec<u8> {
    crate::fixture::payload(StateKind::Group, GROUP_BLOB_VERSION, key, blob)
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut rng = ChaCha20Rng::from_seed([0x6b; 32]);
        let t0 = Timestamp::from_unix_seconds(T0);
        let later = Timestamp::from_unix_seconds(T0 + 3_600);
        let (alice, a) = device(&mut rng, "alice", 1);
        let (mut bob, b) = device(&mut rng, "bob", 2);
        let (_, c) = device(&mut rng, "carol", 3);
        let id = GroupId::new(b"state group").unwrap();
        let mut at_alice = Group::new(id.clone(), alice.address().clone(), GracePolicy::default());
        let mut at_bob = Group::new(id, bob.address().clone(), GracePolicy::default());
        let mut alice_sessions = BTreeMap::new();
        let mut bob_sessions =
            BTreeMap::from([(alice.address().clone(), Session::new(&bob, &a).unwrap())]);

        let p1 = at_alice
            .propose(
                &mut rng,
                &alice,
                &[a.clone(), b.clone(), c],
                None,
                &mut alice_sessions,
                t0,
            )
            .unwrap();
        let v1 = p1.upload.verify_for_server(None, alice.address()).unwrap();
        at_alice.commit(t0).unwrap();
        let view = v1.view_for(bob.address()).unwrap();
        at_bob
            .process(&mut bob, &view, &mut bob_sessions, t0)
            .unwrap();
        let m0 = at_alice
            .seal(&mut rng, &alice, ContentType::Text, b"first", AD)
            .unwrap();
        at_alice
            .seal(&mut rng, &alice, ContentType::Text, b"lost", AD)
            .unwrap();
        let m2 = at_alice
            .seal(&mut rng, &alice, ContentType::Text, b"third", AD)
            .unwrap();
        at_bob.open(&m0, AD, t0).unwrap();
        at_bob.open(&m2, AD, t0).unwrap();

        let p2 = at_alice
            .propose(
                &mut rng,
                &alice,
                &[a.clone(), b.clone()],
                None,
                &mut alice_sessions,
                later,
            )
            .unwrap();
        let v2 = p2
            .upload
            .verify_for_server(Some(&v1.record()), alice.address())
            .unwrap();
        at_alice.commit(later).unwrap();
        let view = v2.view_for(bob.address()).unwrap();
        at_bob
            .process(&mut bob, &view, &mut bob_sessions, later)
            .unwrap();
        let message = at_alice
            .seal(&mut rng, &alice, ContentType::Text, PLAINTEXT, AD)
            .unwrap();
        // Epoch 3 proposed, not committed: Alice's state holds it as pending.
        at_alice
            .propose(&mut rng, &alice, &[a, b], None, &mut alice_sessions, later)
            .unwrap();

        let key = StorageKey::from_bytes([0x47; 32]);
        let bob_blob = at_bob.export(&mut rng, &key).unwrap().into_bytes();
        let alice_blob = at_alice.export(&mut rng, &key).unwrap().into_bytes();
        Fixture {
            bob_payload: payload_of(&key, &bob_blob),
            alice_payload: payload_of(&key, &alice_blob),
            key,
            bob_blob,
            alice_blob,
            message,
        }
    })
}

/// The payload of a fresh export of `group`.
fn payload(group: &mut Group) -> Vec<u8> {
    let fx = fixture();
    let mut rng = ChaCha20Rng::from_seed([0x11; 32]);
    let blob = group
        .export(&mut rng, &fx.key)
        .expect("an imported state exports");
    payload_of(&fx.key, blob.as_bytes())
}

/// Seals `payload` under the fixture's key as layout `version` and imports it.
fn import_payload(version: u16, bytes: &[u8]) -> Result<Group, StateError> {
    let fx = fixture();
    let mut rng = ChaCha20Rng::from_seed([0x22; 32]);
    let blob = state::seal_raw(StateKind::Group, version, 7, bytes, &mut rng, &fx.key);
    Group::import(&fx.key, blob.as_bytes(), 0)
}

/// Uses a loaded state; panics if an invariant is violated.
fn exercise(mut group: Group, loaded: &[u8]) {
    let fx = fixture();
    let now = Timestamp::from_unix_seconds(NOW);
    assert!(format!("{group:?}").starts_with("Group"), "Debug output");
    let _ = (group.group_id(), group.current_epoch(), group.roster()); // run for panics only
    let _ = (group.policy(), group.transcript(), group.pending_epoch()); // run for panics only
    let _ = group.openable_epochs(); // run for panics only
    match group.open(&fx.message, AD, now) {
        Ok(opened) => assert_eq!(&opened.plaintext[..], PLAINTEXT, "opened to other bytes"),
        Err(_) => assert_eq!(
            payload(&mut group),
            loaded,
            "a failed open changed the state"
        ),
    }
    group.expire(Timestamp::from_unix_seconds(NOW + 2 * DAY));
    let _ = group.openable_epochs(); // run for panics only
    let pending = group.pending_epoch();
    let mut other = import_payload(GROUP_BLOB_VERSION, loaded).expect("loads again");
    other.expire(Timestamp::from_unix_seconds(NOW + 2 * DAY));
    match group.commit(now) {
        Ok(change) => {
            assert_eq!(Some(change.epoch), pending, "committed another epoch");
            assert_eq!(group.current_epoch(), pending, "the commit did not install");
            assert_eq!(group.pending_epoch(), None);
        }
        Err(_) => assert_eq!(pending, None, "a pending proposal did not commit"),
    }
    assert_eq!(
        other.abort().ok(),
        pending,
        "abort returns the pending epoch"
    );
    assert_eq!(other.pending_epoch(), None);
}

/// The old layout version mode 2 seals a payload as: 1 (release 0.1) or 2
/// (static sender chains), by bit 2 of the mode byte.
fn old_layout(mode: u8) -> u16 {
    if mode & 4 == 0 { 1 } else { 2 }
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let fx = fixture();
    match mode % 4 {
        0 => match Group::import(&fx.key, rest, 0) {
            Ok(_) => assert!(
                rest == fx.bob_blob.as_slice() || rest == fx.alice_blob.as_slice(),
                "FORGERY: a blob nobody sealed imported"
            ),
            Err(e) => assert!(
                rest != fx.bob_blob.as_slice() && rest != fx.alice_blob.as_slice(),
                "a fixture blob was refused: {e:?}"
            ),
        },
        1 => match import_payload(GROUP_BLOB_VERSION, rest) {
            Ok(mut group) => {
                assert_eq!(
                    payload(&mut group),
                    rest,
                    "an accepted payload must re-export to the same bytes"
                );
                exercise(group, rest);
            }
            Err(StateError::Invalid { field }) => assert!(!field.is_empty()),
            Err(other) => panic!("an authentic blob failed with {other:?}"),
        },
        2 => {
            let version = old_layout(mode);
            match import_payload(version, rest) {
                Err(StateError::UnsupportedStateVersion {
                    kind: StateKind::Group,
                    version: v,
                }) if v == version => {}
                other => panic!("a layout-{version} group gave {other:?}"),
            }
        }
        _ => {
            let mut blob = fx.bob_blob.clone();
            for (b, x) in blob.iter_mut().zip(rest) {
                *b ^= x;
            }
            let unchanged = blob == fx.bob_blob;
            assert_eq!(Group::import(&fx.key, &blob, 0).is_ok(), unchanged);
        }
    }
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// Seeds: each fixture blob and payload, and small edits of them.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let fx = fixture();
    let with = |mode: u8, bytes: &[u8]| [&[mode][..], bytes].concat();
    let mut truncated = fx.bob_payload.clone();
    truncated.pop();
    let mut flipped = vec![0u8; 70];
    flipped[69] = 1;
    vec![
        ("blob_bob", with(0, &fx.bob_blob)),
        ("blob_alice_pending", with(0, &fx.alice_blob)),
        ("payload_bob", with(1, &fx.bob_payload)),
        ("payload_alice_pending", with(1, &fx.alice_payload)),
        ("payload_bob_truncated", with(1, &truncated)),
        (
            "payload_bob_trailing",
            with(1, &[&fx.bob_payload[..], &[0]].concat()),
        ),
        ("payload_empty", with(1, &[])),
        ("layout_1_bob", with(2, &fx.bob_payload)),
        ("layout_2_bob", with(6, &fx.bob_payload)),
        ("xor_bob_body_bit", with(3, &flipped)),
    ]
}

/// What a seed gives: "ok", or the error's name.
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> String {
    let Some((&mode, rest)) = data.split_first() else {
        return "empty".into();
    };
    let fx = fixture();
    let result = match mode % 4 {
        0 => Group::import(&fx.key, rest, 0),
        1 => import_payload(GROUP_BLOB_VERSION, rest),
        2 => import_payload(old_layout(mode), rest),
        _ => {
            let mut blob = fx.bob_blob.clone();
            for (b, x) in blob.iter_mut().zip(rest) {
                *b ^= x;
            }
            Group::import(&fx.key, &blob, 0)
        }
    };
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.name().into(),
    }
}
