//! Fuzz target: `Session::open` at Bob's end of established ratchet sessions
//! (SPEC.md §7.7), on arbitrary bytes and on mutations of sealed messages.
//!
//! The fixture is a scripted conversation run once through the lockstep
//! simulator of `fuzz/logic/ratchet_model.rs` (same devices, key pools,
//! policy and randomness as `ratchet_conversation`), which checks every step
//! against the model and snapshots Bob five times (session and device blobs,
//! the model, the time):
//!
//! - `S0` fresh: a new session, no ratchet state;
//! - `S1` responder after out-of-order delivery: Bob opened Alice's start
//!   (with his one-time key 0) at message 2, then 1 (0 is stored as skipped);
//! - `S2` after KEM steps: nine more turns (a KEM step each way), messages
//!   stored as skipped in three of Alice's epochs, Bob has sent (reflections
//!   are recognised), Alice's next epoch — a KEM step to Bob's own KEM key —
//!   not opened yet;
//! - `S3` concurrent starts: both started over at the same time (Bob from
//!   Alice's second key, Alice with Bob's one-time key 1), Bob opened Alice's
//!   start, Alice opened Bob's, then Alice started over twice more (not
//!   delivered), once with Bob's one-time key 1 again;
//! - `S4` stale and retired: Alice started over four times more and Bob
//!   opened each (his oldest states are dropped), Alice's start to Bob's key
//!   0, which Bob then retired for key 1, and a start from a key of Alice's
//!   Bob never learnt.
//!
//! Every message either party sealed is recorded; Alice's are the
//! *legitimate* ones.
//!
//! Input: `selector ‖ message`. The selector's high nibble (mod 5) picks the
//! state; its low nibble the associated data (`& 3`: `""`, `"chat 42"`,
//! `"chat 43"`, 200 × `0xa5`) and the time of the open (`(>> 2) mod 3`: the
//! snapshot's, two hours later — stored skipped secrets expired —, or 45 days
//! later — Alice's and Bob's first keys expired).
//!
//! Checks:
//! - `open` never panics;
//! - the result is exactly the model's ([`model::predict`]): decoding
//!   (`Malformed`, `UnsupportedVersion`) by an independent decoder of §7.3;
//!   unknown, stale or started state with its checks in order; reflection;
//!   expiry; replay, too old, caps, unexpected ratchet key, unknown KEM key;
//!   then the key commitment and the tag, decided symbolically (a header
//!   that does not name exactly the secret, salt and commitment of a sealed
//!   message fails the commitment; one that does but differs anywhere else,
//!   or has other associated data, fails the tag). Every refusal is a typed
//!   error;
//! - a failed open leaves the exported session, and the device, byte-identical
//!   (`state::open_raw` payloads; the generation is not compared);
//! - the caller-buffer form agrees, on a second copy of the state:
//!   `plaintext_len` refuses exactly the messages whose header `open` refuses
//!   (with the same error); otherwise `open_into` refuses a buffer one byte
//!   too long with `BufferLength`, untouched, then with a buffer of that
//!   length gives the same result as `open` (same error, or the same
//!   plaintext and report), and on failure leaves no plaintext in the buffer
//!   (untouched, or zeroed by the `ring` backend on a failed tag) and the
//!   session and device byte-identical;
//! - a message that opens is one Alice sealed, byte for byte, with its
//!   associated data (anything else is a **forgery**), with the right content
//!   type, plaintext, chain, session id, counter and gap report; opening it
//!   again, also after an export and import, is `Replay`.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/ratchet_open.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`. The seeds in
//! `fuzz/corpus/ratchet_open/` are generated from the fixture (`seeds`
//! below): a change to the fixture, or to anything its bytes depend on,
//! needs them regenerated (`cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features --
//! --ignored regenerate_ratchet_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// `repo-tests/tests/fuzz_corpus.rs` includes both ratchet targets, so the model twice.
#[allow(clippy::duplicate_mod)]
#[path = "ratchet_model.rs"]
mod model;

#[cfg(test)]
use std::collections::BTreeSet;
use std::sync::OnceLock;

use letterseal::pairwise::{ContentType, OpenError, Opened, OpenedInto, plaintext_len};
use letterseal::time::Timestamp;
use model::{
    ALICE, ASSOCIATED_DATA, BOB, DAY, Prediction, Sent, Sim, Snapshot, Starts, chain_name,
    load_device, load_session, predict, same_error,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Offsets from a snapshot's time that the selector picks.
const LATER: [u64; 3] = [0, 2 * 3_600, 45 * DAY];

struct State {
    snapshot: Snapshot,
    /// The exported payloads of the snapshot's session and device.
    session_payload: Vec<u8>,
    device_payload: Vec<u8>,
}

struct Fixture {
    states: Vec<State>,
    sent: Vec<Sent>,
    starts: Starts,
    /// The fixture's messages by name (for the seeds).
    #[cfg_attr(not(test), allow(dead_code))]
    names: Vec<(&'static str, usize)>,
}

/// `who` seals a text message with associated data `ad`.
fn say(
    sim: &mut Sim,
    names: &mut Vec<(&'static str, usize)>,
    name: &'static str,
    who: usize,
    ad: usize,
    content: ContentType,
    text: &[u8],
) -> usize {
    let id = sim
        .seal(who, ad, content, text.to_vec())
        .expect("fixture seal");
    names.push((name, id));
    id
}

fn opens(sim: &mut Sim, id: usize) {
    assert!(sim.deliver(id, "fixture"), "fixture message {id} opens");
    sim.sync();
}

fn build_fixture() -> Fixture {
    let mut sim = Sim::new(false);
    let mut snapshots = Vec::new();
    let mut names = Vec::new();
    let text = ContentType::Text;
    // S0: fresh.
    snapshots.push(sim.snapshot(BOB));

    // S1: Alice's start (one-time key 0) opened out of order.
    let a0 = say(&mut sim, &mut names, "a0", ALICE, 1, text, b"hello Bob");
    let a1 = say(
        &mut sim,
        &mut names,
        "a1",
        ALICE,
        0,
        ContentType::Location,
        b"48.8584,2.2945",
    );
    let a2 = say(
        &mut sim,
        &mut names,
        "a2",
        ALICE,
        2,
        ContentType::Control,
        b"control 0",
    );
    let long: Vec<u8> = (0..300u16).map(|i| (i % 251) as u8).collect();
    let a3 = say(
        &mut sim,
        &mut names,
        "a3",
        ALICE,
        3,
        ContentType::from(0x1234),
        &long,
    );
    let a4 = say(
        &mut sim,
        &mut names,
        "a4",
        ALICE,
        1,
        ContentType::Application(0x8001),
        b"",
    );
    let _ = a4; // not opened in this scenario; it is still recorded in `names`
    opens(&mut sim, a3);
    opens(&mut sim, a1);
    snapshots.push(sim.snapshot(BOB));

    // S2: turns with KEM steps both ways.
    opens(&mut sim, a0);
    opens(&mut sim, a2);
    let b0 = say(&mut sim, &mut names, "b0", BOB, 1, text, b"hi Alice");
    let b1 = say(&mut sim, &mut names, "b1", BOB, 1, text, b"how are you");
    opens(&mut sim, b1);
    opens(&mut sim, b0);
    let a5 = say(&mut sim, &mut names, "a5", ALICE, 1, text, b"fine");
    let _a6 = say(
        &mut sim,
        &mut names,
        "a6",
        ALICE,
        1,
        text,
        b"never arrives in order",
    );
    opens(&mut sim, a5);
    let b2 = say(&mut sim, &mut names, "b2", BOB, 1, text, b"good");
    opens(&mut sim, b2);
    let a7 = say(&mut sim, &mut names, "a7", ALICE, 1, text, b"new epoch");
    opens(&mut sim, a7);
    let b3 = say(&mut sim, &mut names, "b3", BOB, 1, text, b"a KEM step");
    opens(&mut sim, b3);
    let _a8 = say(&mut sim, &mut names, "a8", ALICE, 1, text, b"skipped");
    let a9 = say(
        &mut sim,
        &mut names,
        "a9",
        ALICE,
        2,
        ContentType::GroupKey,
        &[7; 32],
    );
    let a9b = say(
        &mut sim,
        &mut names,
        "a9b",
        ALICE,
        1,
        text,
        b"after the group key",
    );
    opens(&mut sim, a9b);
    let b4 = say(&mut sim, &mut names, "b4", BOB, 1, text, b"b4");
    opens(&mut sim, b4);
    let a10 = say(&mut sim, &mut names, "a10", ALICE, 1, text, b"a10");
    opens(&mut sim, a10);
    let b5 = say(&mut sim, &mut names, "b5", BOB, 0, text, b"b5");
    opens(&mut sim, b5);
    let _a11 = say(
        &mut sim,
        &mut names,
        "a11",
        ALICE,
        1,
        text,
        b"a11: KEM step to Bob's own key",
    );
    let _a12 = say(&mut sim, &mut names, "a12", ALICE, 1, text, b"a12");
    let _ = a9; // not opened in this scenario; it is still recorded in `names`
    snapshots.push(sim.snapshot(BOB));

    // S3: concurrent starts.
    sim.rotate(ALICE, true, false);
    sim.restart(BOB, None);
    sim.restart(ALICE, Some(1));
    let d0 = say(&mut sim, &mut names, "d0", BOB, 1, text, b"Bob starts");
    let _e0 = say(&mut sim, &mut names, "e0", ALICE, 1, text, b"Alice starts");
    let e1 = say(&mut sim, &mut names, "e1", ALICE, 1, text, b"Alice again");
    opens(&mut sim, e1);
    opens(&mut sim, d0);
    let _e2 = say(
        &mut sim,
        &mut names,
        "e2",
        ALICE,
        1,
        text,
        b"after Bob's start",
    );
    sim.restart(ALICE, Some(1));
    let _o0 = say(
        &mut sim,
        &mut names,
        "o0",
        ALICE,
        1,
        text,
        b"one-time key 1 again",
    );
    sim.restart(ALICE, None);
    let _k0 = say(
        &mut sim,
        &mut names,
        "k0",
        ALICE,
        1,
        text,
        b"one more start",
    );
    snapshots.push(sim.snapshot(BOB));

    // S4: stale states, a retired key, an unknown sender key.
    for i in 0..4u8 {
        sim.restart(ALICE, None);
        let f = say(
            &mut sim,
            &mut names,
            ["f0", "f1", "f2", "f3"][usize::from(i)],
            ALICE,
            1,
            text,
            &[b'f', i],
        );
        opens(&mut sim, f);
    }
    sim.restart(ALICE, None);
    let _g0 = say(
        &mut sim,
        &mut names,
        "g0",
        ALICE,
        1,
        text,
        b"to Bob's first key",
    );
    sim.rotate(BOB, true, true);
    sim.rotate(ALICE, false, false);
    sim.restart(ALICE, None);
    let _i0 = say(
        &mut sim,
        &mut names,
        "i0",
        ALICE,
        1,
        text,
        b"from a key Bob does not know",
    );
    snapshots.push(sim.snapshot(BOB));

    let mut rng = ChaCha20Rng::from_seed([0x6f; 32]);
    let states = snapshots
        .into_iter()
        .map(|snapshot| {
            let mut session = load_session(&snapshot.session);
            let mut device = load_device(&snapshot.device);
            State {
                session_payload: model::session_payload(&mut session, &mut rng),
                device_payload: model::device_payload(&mut device, &mut rng),
                snapshot,
            }
        })
        .collect();
    Fixture {
        states,
        sent: sim.sent,
        starts: sim.starts,
        names,
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

/// State, associated data and time an input's selector picks.
fn select(fx: &Fixture, selector: u8) -> (&State, &'static [u8], u64) {
    let state = &fx.states[usize::from(selector >> 4) % fx.states.len()];
    let ad = ASSOCIATED_DATA[usize::from(selector & 3)];
    let now = state.snapshot.now + LATER[usize::from((selector >> 2) & 3) % LATER.len()];
    (state, ad, now)
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    run(data);
}

/// Runs the target on one input and returns what happened (for the corpus test).
fn run(data: &[u8]) -> Vec<String> {
    let Some((&selector, sealed)) = data.split_first() else {
        return vec!["empty input".into()];
    };
    let fx = fixture();
    let (state, ad, now) = select(fx, selector);
    let model = &state.snapshot.model;
    let mut session = load_session(&state.snapshot.session);
    let mut device = load_device(&state.snapshot.device);
    let mut rng = ChaCha20Rng::from_seed([0x6f; 32]);
    let prediction = predict(model, &fx.sent, &fx.starts, sealed, ad, now);
    let at = Timestamp::from_unix_seconds(now);
    let opened = session.open(&mut device, at, sealed, ad);
    check_open_into(state, sealed, ad, at, &opened, &mut rng);
    match (opened, prediction) {
        (Err(err), Prediction::Refused(want)) => {
            assert!(
                same_error(&err, &want),
                "open failed with {err:?}, the model expected {want:?}"
            );
            assert!(
                model::session_payload(&mut session, &mut rng) == state.session_payload,
                "a failed open ({err:?}) changed the session state"
            );
            assert!(
                model::device_payload(&mut device, &mut rng) == state.device_payload,
                "a failed open ({err:?}) changed the device state"
            );
            vec![err.name().to_owned()]
        }
        (Ok(opened), Prediction::Opens(id, expected)) => {
            let legit = &fx.sent[id];
            assert_eq!(
                legit.from, ALICE,
                "FORGERY: a message Bob sealed opened at Bob: {opened:?}"
            );
            assert_eq!(opened.plaintext.as_slice(), legit.plaintext.as_slice());
            assert_eq!(opened.content_type.code(), legit.wire.content_type);
            assert_eq!(opened.chain, chain_name(expected.chain));
            assert_eq!(*opened.session_id.as_bytes(), expected.sid);
            assert_eq!(opened.counter, u64::from(expected.n));
            assert_eq!(
                (opened.skipped, opened.late, opened.started_session),
                (expected.skipped, expected.late, expected.started),
                "gap report"
            );
            let replay = Err(OpenError::Replay {
                counter: u64::from(expected.n),
            });
            let again = session.open(&mut device, at, sealed, ad).map(|_| ());
            assert_eq!(again, replay, "opening a message twice");
            let key = &model::fixture().storage_key;
            let blob = session.export(&mut rng, key).expect("session exports");
            let mut reloaded = letterseal::pairwise::Session::import(key, blob.as_bytes(), 0)
                .expect("session imports");
            let again = reloaded.open(&mut device, at, sealed, ad).map(|_| ());
            assert_eq!(again, replay, "opening a message again after a reload");
            let mut what = vec!["Ok".to_owned()];
            if expected.late {
                what.push("Ok late".into());
            }
            if expected.skipped > 0 {
                what.push("Ok skipped".into());
            }
            if expected.started {
                what.push("Ok started".into());
            }
            if legit.wire.kem.is_some() && !expected.late {
                what.push("Ok KEM step".into());
            }
            what
        }
        (Ok(opened), Prediction::Refused(want)) => {
            if fx
                .sent
                .iter()
                .any(|m| m.from == ALICE && m.bytes == sealed && ASSOCIATED_DATA[m.ad] == ad)
            {
                panic!("a message of Alice's opened ({opened:?}); the model expected {want:?}");
            }
            panic!("FORGERY: a message Alice never sealed opened: {opened:?} (model: {want:?})");
        }
        (Err(err), Prediction::Opens(id, expected)) => {
            panic!("message {id} did not open ({err:?}); the model expected {expected:?}")
        }
    }
}

/// Marker the caller buffer of `open_into` is filled with before the call.
const MARKER: u8 = 0xa5;

/// `open_into` on a second copy of the state agrees with `open` (see the
/// module documentation).
fn check_open_into(
    state: &State,
    sealed: &[u8],
    ad: &[u8],
    at: Timestamp,
    opened: &Result<Opened, OpenError>,
    rng: &mut ChaCha20Rng,
) {
    let len = match plaintext_len(sealed) {
        Ok(len) => len,
        Err(err) => {
            assert!(
                matches!(opened, Err(e) if *e == err),
                "plaintext_len refused with {err:?}, open gave {:?}",
                opened.as_ref().map(|o| o.counter)
            );
            return;
        }
    };
    let mut session = load_session(&state.snapshot.session);
    let mut device = load_device(&state.snapshot.device);
    let mut long = vec![MARKER; len + 1];
    assert_eq!(
        session
            .open_into(&mut device, at, sealed, ad, &mut long)
            .map(|_| ()),
        Err(OpenError::BufferLength { expected: len }),
        "a buffer one byte too long"
    );
    assert!(
        long.iter().all(|&b| b == MARKER),
        "BufferLength touched the buffer"
    );
    let mut out = vec![MARKER; len];
    let into = session.open_into(&mut device, at, sealed, ad, &mut out);
    match (opened, into) {
        (Ok(opened), Ok(report)) => {
            assert_eq!(out.as_slice(), opened.plaintext.as_slice());
            assert_eq!(
                report,
                OpenedInto {
                    content_type: opened.content_type,
                    chain: opened.chain,
                    session_id: opened.session_id,
                    started_session: opened.started_session,
                    counter: opened.counter,
                    skipped: opened.skipped,
                    late: opened.late,
                }
            );
        }
        (Err(err), Err(into_err)) => {
            assert_eq!(*err, into_err, "open and open_into disagree");
            let zeroed = letterseal::aead::BACKEND == "ring"
                && into_err == OpenError::AuthenticationFailed
                && out.iter().all(|&b| b == 0);
            assert!(
                zeroed || out.iter().all(|&b| b == MARKER),
                "a failed open_into ({into_err:?}) left bytes in the buffer"
            );
            assert!(
                model::session_payload(&mut session, rng) == state.session_payload,
                "a failed open_into ({into_err:?}) changed the session state"
            );
            assert!(
                model::device_payload(&mut device, rng) == state.device_payload,
                "a failed open_into ({into_err:?}) changed the device state"
            );
        }
        (opened, into) => panic!(
            "open gave {:?}, open_into {into:?}",
            opened.as_ref().map(|o| o.counter)
        ),
    }
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// What opening an input gives: the error's name, or `Ok` and how it opened.
#[cfg(test)]
pub(crate) fn outcomes(data: &[u8]) -> BTreeSet<String> {
    run(data).into_iter().collect()
}

/// The seeds: Alice's messages at the states where they do something
/// different, Bob's own messages (reflections), and mutations of a plain
/// message, a start and a KEM step at a state where they open.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    use letterseal::pairwise::FIXED_FIELDS_LEN as F;

    let fx = fixture();
    let msg = |name: &str| -> &Sent {
        let (_, id) = fx.names.iter().find(|(n, _)| *n == name).unwrap();
        &fx.sent[*id]
    };
    // selector = state << 4 | time << 2 | associated data
    let input = |state: u8, time: u8, m: &Sent, bytes: &[u8]| -> Vec<u8> {
        let mut v = vec![state << 4 | time << 2 | u8::try_from(m.ad).unwrap()];
        v.extend_from_slice(bytes);
        v
    };
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    // (state, time, message): the result is in the name for the reader.
    for (state, time, name, what) in [
        (0, 0, "a0", "started"),
        (0, 0, "a3", "started_skipped"),
        (0, 0, "a2", "started_control"),
        (0, 2, "a0", "peer_expired"),
        (0, 0, "a5", "unknown_session"),
        (1, 0, "a0", "late"),
        (1, 0, "a1", "replay"),
        (1, 1, "a0", "too_old"),
        (1, 0, "a2", "control"),
        (1, 0, "a5", "unexpected_ratchet_key"),
        (2, 0, "a6", "late_old_epoch"),
        (2, 0, "a9", "late_control"),
        (2, 1, "a8", "too_old"),
        (2, 0, "a11", "kem_step"),
        (2, 0, "a12", "kem_step_skipped"),
        (2, 0, "a7", "replay"),
        (2, 0, "b5", "reflected"),
        (2, 0, "b2", "reflected_previous"),
        (2, 0, "b0", "own_key_forgotten"),
        (3, 0, "e0", "late"),
        (3, 0, "e2", "ok"),
        (3, 0, "k0", "started"),
        (3, 2, "k0", "local_expired"),
        (3, 0, "d0", "reflected_start"),
        (3, 0, "a0", "unknown_sender"),
        (3, 0, "i0", "unknown_recipient"),
        (4, 0, "d0", "stale"),
        (4, 0, "e1", "stale"),
        (4, 0, "g0", "retired"),
        (4, 0, "i0", "unknown_sender"),
        (4, 0, "f3", "replay"),
        (3, 0, "o0", "consumed_one_time_key"),
        (0, 0, "o0", "unknown_sender"),
    ] {
        let m = msg(name);
        out.push((
            format!("s{state}t{time}_{name}_{what}").leak(),
            input(state, time, m, &m.bytes),
        ));
    }
    // Mutations of a plain message (e2, opens at S3), a start with a one-time
    // key (a0, opens at S0) and a KEM step starting an epoch (a12, at S2).
    let mutate = |state: u8, name: &str, edit: &dyn Fn(&mut Vec<u8>)| -> Vec<u8> {
        let m = msg(name);
        let mut bytes = m.bytes.clone();
        edit(&mut bytes);
        input(state, 0, m, &bytes)
    };
    let flip = |at: usize, mask: u8| move |b: &mut Vec<u8>| b[at] ^= mask;
    let (plain, start, kem) = (msg("e2"), msg("a0"), msg("a12"));
    let (ph, sh, kh) = (
        plain.wire.header_len,
        start.wire.header_len,
        kem.wire.header_len,
    );
    type Edit = Box<dyn Fn(&mut Vec<u8>)>;
    let edits: Vec<(&str, u8, &str, Edit)> = vec![
        ("version_1", 3, "e2", Box::new(|b: &mut Vec<u8>| b[0] = 1)),
        ("version_3", 3, "e2", Box::new(flip(0, 1))),
        ("kind", 3, "e2", Box::new(flip(1, 3))),
        (
            "flags_one_time_alone",
            3,
            "e2",
            Box::new(|b: &mut Vec<u8>| b[2] = 0x02),
        ),
        ("flags_unknown", 3, "e2", Box::new(flip(2, 0x40))),
        ("content_type_same_chain", 3, "e2", Box::new(flip(4, 0x01))),
        (
            "content_type_control_chain",
            3,
            "e2",
            Box::new(flip(4, 0x03)),
        ),
        ("session_id", 3, "e2", Box::new(flip(9, 0x20))),
        ("ratchet_key", 3, "e2", Box::new(flip(22, 0x01))),
        (
            "ratchet_key_non_canonical",
            3,
            "e2",
            Box::new(flip(52, 0x80)),
        ),
        ("previous_length", 3, "e2", Box::new(flip(56, 0x01))),
        ("n_next", 3, "e2", Box::new(flip(64, 0x01))),
        ("n_far", 3, "e2", Box::new(flip(63, 0x01))),
        (
            "n_max",
            3,
            "e2",
            Box::new(|b: &mut Vec<u8>| b[61..65].copy_from_slice(&[0xff; 4])),
        ),
        ("salt", 3, "e2", Box::new(flip(F + 3, 0x10))),
        ("commitment", 3, "e2", Box::new(flip(ph - 1, 0x01))),
        ("ciphertext", 3, "e2", Box::new(flip(ph, 0x01))),
        (
            "tag",
            3,
            "e2",
            Box::new(move |b: &mut Vec<u8>| {
                let last = b.len() - 1;
                b[last] ^= 0x80;
            }),
        ),
        (
            "truncated_header",
            3,
            "e2",
            Box::new(move |b: &mut Vec<u8>| b.truncate(ph)),
        ),
        (
            "truncated_tag",
            3,
            "e2",
            Box::new(move |b: &mut Vec<u8>| b.truncate(ph + 15)),
        ),
        (
            "truncated_one",
            3,
            "e2",
            Box::new(|b: &mut Vec<u8>| {
                b.pop();
            }),
        ),
        ("extended", 3, "e2", Box::new(|b: &mut Vec<u8>| b.push(0))),
        (
            "start_initiator_key_id",
            0,
            "a0",
            Box::new(flip(F + 2, 0x01)),
        ),
        (
            "start_responder_key_id",
            0,
            "a0",
            Box::new(flip(F + 16 + 2, 0x01)),
        ),
        (
            "start_kem_key_id",
            0,
            "a0",
            Box::new(flip(F + 32 + 2, 0x01)),
        ),
        (
            "start_kem_ciphertext",
            0,
            "a0",
            Box::new(flip(F + 48 + 500, 0x01)),
        ),
        (
            "start_one_time_key_id",
            0,
            "a0",
            Box::new(flip(F + 48 + 1088 + 2, 0x01)),
        ),
        (
            "start_one_time_flag_cleared",
            0,
            "a0",
            Box::new(flip(2, 0x02)),
        ),
        (
            "start_init_flag_cleared",
            0,
            "a0",
            Box::new(|b: &mut Vec<u8>| b[2] = 0),
        ),
        ("start_ratchet_key", 0, "a0", Box::new(flip(30, 0x01))),
        ("start_commitment", 0, "a0", Box::new(flip(sh - 2, 0x01))),
        ("kem_key_id", 2, "a12", Box::new(flip(F + 3, 0x01))),
        (
            "kem_ciphertext",
            2,
            "a12",
            Box::new(flip(F + 16 + 700, 0x01)),
        ),
        (
            "kem_new_key_rho",
            2,
            "a12",
            Box::new(flip(F + 16 + 1088 + 1184 - 1, 0x01)),
        ),
        (
            "kem_new_key_invalid",
            2,
            "a12",
            Box::new(|b: &mut Vec<u8>| {
                b[F + 16 + 1088] = 0xff;
                b[F + 16 + 1088 + 1] = 0xff;
            }),
        ),
        ("kem_flag_cleared", 2, "a12", Box::new(flip(2, 0x04))),
        (
            "kem_previous_length_far",
            2,
            "a12",
            Box::new(flip(55, 0x01)),
        ),
        (
            "kem_ciphertext_body",
            2,
            "a12",
            Box::new(flip(kh + 1, 0x01)),
        ),
    ];
    for (what, state, name, edit) in &edits {
        out.push((
            format!("mut_{what}").leak(),
            mutate(*state, name, edit.as_ref()),
        ));
    }
    out.push(("mut_wrong_ad", {
        let mut v = input(3, 0, plain, &plain.bytes);
        v[0] ^= 1;
        v
    }));
    out.push(("mut_selector_state_and_time", input(7, 3, kem, &kem.bytes)));
    out.push(("empty_message", vec![0x30]));
    out
}
