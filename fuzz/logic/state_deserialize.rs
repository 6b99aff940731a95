//! Fuzz target: loading saved states (SPEC.md §7.7, §8.11) — serde_json
//! deserialization of `Session`, `DeviceKeys` and `Group` from arbitrary
//! bytes and from mutations of valid saved states.
//!
//! A fixture is built once, deterministically (a fixed ChaCha20 seed):
//! devices Alice (`alice`/1), Bob (`bob`/2, one retired and one live sealing
//! key) and a device with no sealing key; Bob's session with Alice fresh and
//! after opening counters 0 and 5, and Alice's session with Bob after Bob
//! rotated; Bob's group with no epoch, after epoch 1 and a message, after
//! epoch 2 (epoch 1 superseded), and Alice's group (the distributor). These
//! are the *saved states*; each serializes back to exactly its bytes. Alice
//! also seals a pairwise message (counter 6) and a group message (epoch 1)
//! that the loaded states try to open.
//!
//! Input: `selector ‖ payload`. The selector's bits 0–1 (mod 3) pick the
//! type (session, device, group), bits 2–3 (mod 3) the mode, bits 4–7 the
//! saved state (mod the number of that type's):
//!
//! - mode 0: the payload is the JSON;
//! - mode 1 (splice): `u16(offset) ‖ u8(delete) ‖ insert`: the saved state
//!   with `delete` bytes at `offset` replaced by `insert`;
//! - mode 2 (leaf): `u16(leaf) ‖ u8(op) ‖ data`: the saved state parsed as a
//!   JSON value, whose `leaf`-th leaf (depth first) is replaced by a number,
//!   a float, a string (of the data, or its hex), `null` or a boolean, removed,
//!   duplicated (as an element, or under a new key), or has one character of
//!   its string changed.
//!
//! Checks:
//!
//! - loading never panics;
//! - a state that loads serializes to JSON that loads again and serializes to
//!   exactly the same bytes (the round trip is idempotent);
//! - a state that loads has its type's current version — 1 for sessions
//!   and devices, 2 for groups (the `version` field, or the first element of
//!   the array form serde also accepts): unknown versions, and version-1
//!   groups, are rejected;
//! - a loaded state can be used without panicking: its accessors, and
//!   opening the legitimate message (a session or group opens it; a device
//!   opens it with Bob's fresh session); a failed open leaves the state's
//!   serialization unchanged.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/state_deserialize.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`.
//! The seeds in `fuzz/corpus/state_deserialize/` are generated from the
//! fixture (`seeds` below); regenerate them after a change to the fixture or
//! the state format (`cargo test --test fuzz_corpus -- --ignored
//! regenerate_state_deserialize_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use letterseal::device::DeviceKeys;
use letterseal::group::{GracePolicy, Group, GroupId};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::{ContentType, Session};
use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::Value;

// ---- fixture ----------------------------------------------------------------

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
const GROUP_ID: &[u8] = b"state group";
const AD: &[u8] = b"chat 7";
/// When epoch 2 is made (epoch 1 is superseded then).
const EPOCH_2_AT: u64 = T0 + 3_600;
/// The `now` loaded groups open at.
const NOW: u64 = EPOCH_2_AT + 600;
/// The state types.
const KINDS: [&str; 3] = ["Session", "DeviceKeys", "Group"];

struct Fixture {
    /// Saved states by type: sessions, devices, groups.
    states: [Vec<Vec<u8>>; 3],
    /// Bob's device, and his fresh session with Alice (serialized).
    bob: DeviceKeys,
    bob_session: Vec<u8>,
    /// A message Alice sealed to Bob (counter 6), and one to the group (epoch 1).
    pairwise_message: Vec<u8>,
    group_message: Vec<u8>,
}

fn verified(bundle: KeyBundle, at: Timestamp) -> VerifiedBundle {
    bundle
        .verify(&RegistrationPolicy::default(), at, None, &NoDirectory)
        .expect("fixture bundle verifies")
}

fn address(user: &str, device: u32) -> DeviceAddress {
    DeviceAddress::new(UserId::new(user).expect("user id"), DeviceId::new(device))
}

fn json<T: serde::Serialize>(state: &T) -> Vec<u8> {
    serde_json::to_vec(state).expect("state serializes")
}

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0x53; 32]);
    let t0 = Timestamp::from_unix_seconds(T0);
    let mut alice = DeviceKeys::generate(&mut rng, address("alice", 1));
    let a1 = verified(alice.add_sealing_key(&mut rng, t0, 30 * DAY), t0);
    let mut bob = DeviceKeys::generate(&mut rng, address("bob", 2));
    let b0 = verified(bob.add_sealing_key(&mut rng, t0, 30 * DAY), t0);
    assert!(bob.retire(b0.sealing_key_id()));
    let b1 = verified(bob.add_sealing_key(&mut rng, t0, 30 * DAY), t0);
    let keyless = DeviceKeys::generate(&mut rng, address("carol", 3));

    // Pairwise.
    let mut at_alice = Session::new(&alice, &b1).expect("session at Alice");
    let mut at_bob = Session::new(&bob, &a1).expect("session at Bob");
    let bob_session = json(&at_bob);
    let mut sealed = Vec::new();
    for _ in 0..=6 {
        sealed.push(
            at_alice
                .seal(
                    &alice,
                    &mut rng,
                    Timestamp::from_unix_seconds(NOW),
                    ContentType::Text,
                    b"hi Bob",
                    AD,
                )
                .expect("fixture seal"),
        );
    }
    for counter in [0, 5] {
        at_bob
            .open(
                &bob,
                Timestamp::from_unix_seconds(NOW),
                &sealed[counter],
                AD,
            )
            .expect("fixture message opens");
    }
    let t1 = t0.saturating_add(60);
    let b2 = verified(bob.add_sealing_key(&mut rng, t1, 30 * DAY), t1);
    at_alice.add_peer_bundle(&b2).expect("Bob's new bundle");
    let sessions = vec![bob_session.clone(), json(&at_bob), json(&at_alice)];
    let pairwise_message = sealed.pop().expect("counter 6");

    // Groups.
    let group_id = GroupId::new(GROUP_ID).expect("group id");
    let grace = GracePolicy::default();
    let mut group_at_alice = Group::new(group_id.clone(), alice.address().clone(), grace);
    let mut group_at_bob = Group::new(group_id, bob.address().clone(), grace);
    let mut groups = vec![json(&group_at_bob)];
    let with_alice: Session = serde_json::from_slice(&bob_session).expect("saved session loads");
    let mut bob_sessions = BTreeMap::from([(alice.address().clone(), with_alice)]);
    let mut alice_sessions = BTreeMap::new();
    let members = [a1.clone(), b2.clone()];
    let p1 = group_at_alice
        .propose(&mut rng, &alice, &members, None, &mut alice_sessions, t0)
        .expect("epoch 1");
    let v1 = p1
        .upload
        .verify_for_server(None, alice.address())
        .expect("server accepts epoch 1");
    group_at_alice.commit(t0).expect("epoch 1 committed");
    let view = v1.view_for(bob.address()).expect("a view");
    group_at_bob
        .process(&bob, &view, &mut bob_sessions, t0)
        .expect("epoch 1 processed");
    let mut group_messages = Vec::new();
    for _ in 0..2 {
        group_messages.push(
            group_at_alice
                .seal(&mut rng, &alice, ContentType::Text, b"hi group", AD)
                .expect("fixture group seal"),
        );
    }
    let now = Timestamp::from_unix_seconds(NOW);
    group_at_bob
        .open(&group_messages[0], AD, now)
        .expect("fixture group message opens");
    groups.push(json(&group_at_bob));
    let at = Timestamp::from_unix_seconds(EPOCH_2_AT);
    let p2 = group_at_alice
        .propose(&mut rng, &alice, &members, None, &mut alice_sessions, at)
        .expect("epoch 2");
    let v2 = p2
        .upload
        .verify_for_server(Some(&v1.record()), alice.address())
        .expect("server accepts epoch 2");
    group_at_alice.commit(at).expect("epoch 2 committed");
    let view = v2.view_for(bob.address()).expect("a view");
    group_at_bob
        .process(&bob, &view, &mut bob_sessions, at)
        .expect("epoch 2 processed");
    groups.push(json(&group_at_bob));
    groups.push(json(&group_at_alice));
    let group_message = group_messages.pop().expect("a group message");

    let devices = vec![json(&alice), json(&bob), json(&keyless)];
    let states = [sessions, devices, groups];
    // Every saved state loads and serializes back to exactly its bytes.
    for (kind, saved) in states.iter().enumerate() {
        for s in saved {
            assert_eq!(reserialize(kind, s).as_deref(), Some(&s[..]), "round trip");
        }
    }
    Fixture {
        states,
        bob,
        bob_session,
        pairwise_message,
        group_message,
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

// ---- check ------------------------------------------------------------------

/// Loads `bytes` as state type `kind` and serializes it again, if it loads.
fn reserialize(kind: usize, bytes: &[u8]) -> Option<Vec<u8>> {
    match kind {
        0 => serde_json::from_slice::<Session>(bytes)
            .ok()
            .map(|s| json(&s)),
        1 => serde_json::from_slice::<DeviceKeys>(bytes)
            .ok()
            .map(|s| json(&s)),
        _ => serde_json::from_slice::<Group>(bytes)
            .ok()
            .map(|s| json(&s)),
    }
}

/// Lowercase hex.
fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `u16be` of the first two bytes (missing bytes are zero), the third byte,
/// and the rest.
fn header(payload: &[u8]) -> (usize, u8, &[u8]) {
    let byte = |i: usize| payload.get(i).copied().unwrap_or(0);
    let n = usize::from(u16::from_be_bytes([byte(0), byte(1)]));
    (n, byte(2), payload.get(3..).unwrap_or_default())
}

fn is_leaf(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => true,
    }
}

/// The new value of a leaf for ops 0–5 and 8 (`None`: remove or duplicate).
fn replacement(leaf: &Value, op: u8, data: &[u8]) -> Option<Value> {
    let mut eight = [0u8; 8];
    for (e, d) in eight.iter_mut().zip(data) {
        *e = *d;
    }
    Some(match op {
        0 => Value::from(u64::from_be_bytes(eight)),
        1 => Value::from(f64::from_be_bytes(eight)),
        2 => Value::String(String::from_utf8_lossy(data).into_owned()),
        3 => Value::String(to_hex(data)),
        4 => Value::Null,
        5 => Value::Bool(data.first().is_some_and(|b| b & 1 == 1)),
        8 => {
            let Value::String(s) = leaf else {
                return Some(Value::from(i64::from_be_bytes(eight)));
            };
            let mut chars: Vec<char> = s.chars().collect();
            if !chars.is_empty() {
                let at = usize::from(data.first().copied().unwrap_or(0)) % chars.len();
                chars[at] = char::from(data.get(1).copied().unwrap_or(b'0'));
            }
            Value::String(chars.into_iter().collect())
        }
        _ => return None,
    })
}

/// Applies `op` to the `target`-th leaf under `v` (depth first); `target`
/// counts down. Returns whether it was found.
fn mutate(v: &mut Value, target: &mut usize, op: u8, data: &[u8]) -> bool {
    match v {
        Value::Array(items) => {
            for i in 0..items.len() {
                if is_leaf(&items[i]) {
                    if *target == 0 {
                        match replacement(&items[i], op, data) {
                            Some(new) => items[i] = new,
                            None if op == 6 => {
                                items.remove(i);
                            }
                            None => {
                                let copy = items[i].clone();
                                items.insert(i, copy);
                            }
                        }
                        return true;
                    }
                    *target -= 1;
                } else if mutate(&mut items[i], target, op, data) {
                    return true;
                }
            }
            false
        }
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let child = map.get_mut(&key).expect("a key of the map");
                if is_leaf(child) {
                    if *target == 0 {
                        match replacement(child, op, data) {
                            Some(new) => *child = new,
                            None if op == 6 => {
                                map.remove(&key);
                            }
                            None => {
                                let copy = child.clone();
                                let name = String::from_utf8_lossy(data).into_owned();
                                map.insert(name, copy);
                            }
                        }
                        return true;
                    }
                    *target -= 1;
                } else if mutate(child, target, op, data) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

fn count_leaves(v: &Value) -> usize {
    match v {
        Value::Array(a) if !a.is_empty() => a.iter().map(count_leaves).sum(),
        Value::Object(o) if !o.is_empty() => o.values().map(count_leaves).sum(),
        _ => 1,
    }
}

/// A parsed input: the state type, and the JSON to load.
fn prepare(data: &[u8]) -> Option<(usize, Vec<u8>)> {
    let (&selector, payload) = data.split_first()?;
    let fx = fixture();
    let kind = usize::from(selector & 3) % 3;
    let saved = &fx.states[kind];
    let state = &saved[usize::from(selector >> 4) % saved.len()];
    let json = match usize::from((selector >> 2) & 3) % 3 {
        0 => payload.to_vec(),
        1 => {
            let (offset, delete, insert) = header(payload);
            let at = offset % (state.len() + 1);
            let end = (at + usize::from(delete)).min(state.len());
            [&state[..at], insert, &state[end..]].concat()
        }
        _ => {
            let (leaf, op, data) = header(payload);
            let mut value: Value = serde_json::from_slice(state).expect("saved state parses");
            let mut target = leaf % count_leaves(&value);
            assert!(mutate(&mut value, &mut target, op % 9, data), "leaf found");
            serde_json::to_vec(&value).expect("a value serializes")
        }
    };
    Some((kind, json))
}

/// The JSON state version each type loads: sessions and devices 1,
/// groups 2 (SPEC §8.11; a version-1 group is refused).
const LOADABLE_VERSION: [u64; 3] = [1, 1, 2];

/// A state that loaded has its type's current version.
fn assert_loadable_version(kind: usize, bytes: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        panic!("a {} loaded from bytes that are not JSON", KINDS[kind]);
    };
    let version = match &value {
        Value::Object(map) => map.get("version"),
        Value::Array(items) => items.first(),
        _ => None,
    };
    assert!(
        version.and_then(Value::as_u64) == Some(LOADABLE_VERSION[kind]),
        "a {} with version {version:?} loaded",
        KINDS[kind]
    );
}

/// Uses a loaded state: accessors, and opening the legitimate message.
fn exercise(fx: &Fixture, kind: usize, saved: &[u8]) {
    match kind {
        0 => {
            let mut session: Session = serde_json::from_slice(saved).expect("reloads");
            let _ = format!("{session:?}");
            let _ = (session.peer(), session.peer_identity_key());
            let _ = (session.peer_current_key_id(), session.next_counter());
            let _ = (session.highest_received(), session.missing_counters());
            if session
                .open(
                    &fx.bob,
                    Timestamp::from_unix_seconds(NOW),
                    &fx.pairwise_message,
                    AD,
                )
                .is_err()
            {
                assert_eq!(json(&session), saved, "a failed open changed the session");
            }
        }
        1 => {
            let device: DeviceKeys = serde_json::from_slice(saved).expect("reloads");
            let _ = format!("{device:?}");
            let ids: Vec<_> = device.live_key_ids().copied().collect();
            for id in &ids {
                let _ = (device.bundle(id), device.sealing_key(id));
                let _ = device.is_retired(id);
            }
            let _ = device.current_sealing_key_id();
            let mut session: Session =
                serde_json::from_slice(&fx.bob_session).expect("saved session loads");
            if session
                .open(
                    &device,
                    Timestamp::from_unix_seconds(NOW),
                    &fx.pairwise_message,
                    AD,
                )
                .is_err()
            {
                assert_eq!(
                    json(&session),
                    fx.bob_session,
                    "a failed open changed the session"
                );
            }
        }
        _ => {
            let mut group: Group = serde_json::from_slice(saved).expect("reloads");
            let _ = format!("{group:?}");
            let _ = (group.group_id(), group.current_epoch(), group.roster());
            let _ = group.openable_epochs();
            let now = Timestamp::from_unix_seconds(NOW);
            if group.open(&fx.group_message, AD, now).is_err() {
                assert_eq!(json(&group), saved, "a failed open changed the group");
            }
            group.expire(Timestamp::from_unix_seconds(NOW + 2 * DAY));
            let _ = group.openable_epochs();
        }
    }
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Some((kind, bytes)) = prepare(data) else {
        return;
    };
    let Some(first) = reserialize(kind, &bytes) else {
        return;
    };
    assert_loadable_version(kind, &bytes);
    let Some(second) = reserialize(kind, &first) else {
        panic!(
            "a {} loaded, but its serialization does not: {}",
            KINDS[kind],
            String::from_utf8_lossy(&first)
        );
    };
    assert!(
        first == second,
        "the {} round trip is not idempotent:\n{}\n{}",
        KINDS[kind],
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
    exercise(fixture(), kind, &first);
}

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

/// What an input gives: the state type, and whether it loads.
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> String {
    let Some((kind, bytes)) = prepare(data) else {
        return "empty input".into();
    };
    let loads = if reserialize(kind, &bytes).is_some() {
        "loads"
    } else {
        "rejected"
    };
    format!("{} {loads}", KINDS[kind])
}

/// The seeds, from the fixture.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let fx = fixture();
    // selector = state << 4 | mode << 2 | kind
    let input = |kind: u8, mode: u8, state: u8, payload: &[u8]| -> Vec<u8> {
        [&[state << 4 | mode << 2 | kind][..], payload].concat()
    };
    let raw = |kind: u8, state: u8| {
        input(
            kind,
            0,
            state,
            &fx.states[usize::from(kind)][usize::from(state)],
        )
    };
    // The index of the leaf at `path` (object keys / array indexes) in `state`.
    let leaf_index = |kind: u8, state: u8, path: &[&str]| -> u16 {
        let value: Value =
            serde_json::from_slice(&fx.states[usize::from(kind)][usize::from(state)]).unwrap();
        fn index(v: &Value, path: &[&str], before: usize) -> Option<usize> {
            let Some((first, rest)) = path.split_first() else {
                return Some(before);
            };
            let children: Vec<(String, &Value)> = match v {
                Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v))
                    .collect(),
                _ => return None,
            };
            let mut before = before;
            for (name, child) in children {
                if name == *first {
                    return index(child, rest, before);
                }
                before += count_leaves(child);
            }
            None
        }
        u16::try_from(index(&value, path, 0).unwrap()).unwrap()
    };
    let leaf = |kind: u8, state: u8, path: &[&str], op: u8, data: &[u8]| {
        let at = leaf_index(kind, state, path).to_be_bytes();
        input(kind, 2, state, &[&at[..], &[op], data].concat())
    };
    let splice = |kind: u8, state: u8, offset: u16, delete: u8, insert: &[u8]| {
        let at = offset.to_be_bytes();
        input(kind, 1, state, &[&at[..], &[delete], insert].concat())
    };
    let array_form = {
        let value: Value = serde_json::from_slice(&fx.states[0][1]).unwrap();
        let Value::Object(map) = value else {
            panic!("a session state is an object");
        };
        // The fields in declaration order.
        let order = [
            "version",
            "local",
            "peer",
            "peer_keys",
            "peer_current",
            "next_counter",
            "window",
        ];
        let items: Vec<Value> = order.iter().map(|k| map[*k].clone()).collect();
        serde_json::to_vec(&Value::Array(items)).unwrap()
    };
    let version_2 = (2u64).to_be_bytes();
    let version_1 = (1u64).to_be_bytes();
    vec![
        ("session_fresh", raw(0, 0)),
        ("session_after_opens", raw(0, 1)),
        ("session_rotated_peer", raw(0, 2)),
        ("device_alice", raw(1, 0)),
        ("device_bob_retired_key", raw(1, 1)),
        ("device_no_key", raw(1, 2)),
        ("group_no_epoch", raw(2, 0)),
        ("group_epoch_1", raw(2, 1)),
        ("group_epoch_2_superseded", raw(2, 2)),
        ("group_distributor", raw(2, 3)),
        ("session_array_form", input(0, 0, 1, &array_form)),
        ("session_version_2", leaf(0, 1, &["version"], 0, &version_2)),
        ("device_version_2", leaf(1, 1, &["version"], 0, &version_2)),
        ("group_version_1", leaf(2, 1, &["version"], 0, &version_1)),
        ("group_version_string", leaf(2, 1, &["version"], 2, b"2")),
        (
            "session_counter_max",
            leaf(0, 1, &["next_counter"], 0, &[0xff; 8]),
        ),
        (
            "session_no_window",
            leaf(0, 1, &["window", "highest"], 6, b""),
        ),
        (
            "device_secret_char",
            leaf(1, 1, &["identity_seed"], 8, &[5, b'f']),
        ),
        (
            "device_retired_twice",
            leaf(1, 1, &["retired", "0"], 7, b""),
        ),
        ("group_unknown_field", leaf(2, 2, &["grace"], 7, b"extra")),
        (
            "group_epoch_null",
            leaf(2, 2, &["epochs", "0", "epoch"], 4, b""),
        ),
        ("splice_session_cut", splice(0, 0, 40, 30, b"")),
        (
            "splice_group_garbage",
            splice(2, 1, 10, 0, b"\"x\":[1,{}],"),
        ),
    ]
}
