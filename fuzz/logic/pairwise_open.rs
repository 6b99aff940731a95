//! Fuzz target: `Session::open` at an established pairwise session (SPEC.md §7.5).
//!
//! A fixture is built once, deterministically (a fixed ChaCha20 seed), so the
//! checked-in seeds stay valid: devices Alice (`alice`/1) and Bob (`bob`/2),
//! bundles verified with `NoDirectory`, `Session::new` both ways, and a few
//! messages Alice seals to Bob — the *legitimate* messages. Both sides rotate
//! once: Alice seals counter 0 to Bob's first key, which Bob then retires,
//! counter 1 with her first key to his second, and counters 2.. with her
//! second key. Bob's session state is saved (JSON) three times: fresh; after
//! opening counter 3; and after also opening counter 1030, so that counters
//! 0..=6 are `TooOld`.
//!
//! Input: `selector ‖ message`. The selector's low nibble (mod 4) picks the
//! associated data, its high nibble (mod 3) which saved state of Bob's
//! session opens the message. Checks:
//!
//! - `open` never panics;
//! - checks 1–6 of SPEC.md §7.5 run in order: the error is predicted from the
//!   message length, version, kind, key ids and the replay window, and a
//!   message that passes them fails only with `CommitmentMismatch` or
//!   `AuthenticationFailed`, or opens;
//! - key commitment: a header Alice sealed never fails with
//!   `CommitmentMismatch`, and any other header never gets as far as
//!   `AuthenticationFailed`;
//! - a failed open leaves the serialized session state byte-identical;
//! - a message that opens is one of Alice's legitimate messages, byte for byte,
//!   with its associated data (anything else opening is a forgery), and the
//!   content type, plaintext, counter, key ids and gap report are right;
//! - opening it again, before or after saving and reloading the state, fails
//!   with `Replay` and changes nothing.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/pairwise_open.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`.
//! The seeds in `fuzz/corpus/pairwise_open/` are generated from the fixture
//! (`seeds` below): a change to the fixture, or to anything its bytes depend
//! on, needs them regenerated (`cargo test --test fuzz_corpus -- --ignored
//! regenerate_pairwise_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use letterseal::codec::Reader;
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::SealingKeyId;
use letterseal::pairwise::{
    ContentType, HEADER_LEN, Header, KIND_PAIRWISE, OVERHEAD, OpenError, Session, VERSION,
    WINDOW_SIZE,
};
use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

// ---- fixture ----------------------------------------------------------------

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
/// The time every seal and open happens at (all keys are valid then).
const NOW: u64 = T0 + 600;
/// The associated-data variants; the selector's low nibble picks one.
const ASSOCIATED_DATA: [&[u8]; 4] = [b"", b"chat 42", b"chat 43", &[0xa5; 200]];
/// Counter of the last legitimate message (opened in the third saved state).
const FAR_COUNTER: u64 = 1030;

/// A message Alice sealed to Bob.
struct Sent {
    /// Index into `ASSOCIATED_DATA`.
    ad: usize,
    sealed: Vec<u8>,
    content_type: ContentType,
    plaintext: Vec<u8>,
    counter: u64,
}

struct Fixture {
    bob: DeviceKeys,
    /// Alice's sealing keys, both known to Bob's session.
    alice_keys: [SealingKeyId; 2],
    /// Bob's live sealing key.
    bob_live: SealingKeyId,
    /// Bob's retired sealing key.
    bob_retired: SealingKeyId,
    /// Bob's session, serialized: fresh, after counter 3, after counter 1030.
    states: Vec<Vec<u8>>,
    sent: Vec<Sent>,
}

fn verified(bundle: KeyBundle, at: Timestamp) -> VerifiedBundle {
    let owner = bundle.content().owner.clone().into();
    bundle
        .verify(
            &owner,
            &RegistrationPolicy::default(),
            at,
            None,
            &NoDirectory,
        )
        .expect("fixture bundle verifies")
}

fn seal(
    session: &mut Session,
    alice: &DeviceKeys,
    rng: &mut ChaCha20Rng,
    ad: usize,
    content_type: ContentType,
    plaintext: &[u8],
) -> Sent {
    let counter = session.next_counter();
    let sealed = session
        .seal(
            alice,
            rng,
            Timestamp::from_unix_seconds(NOW),
            content_type,
            plaintext,
            ASSOCIATED_DATA[ad],
        )
        .expect("fixture seal");
    Sent {
        ad,
        sealed,
        content_type,
        plaintext: plaintext.to_vec(),
        counter,
    }
}

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0x4c; 32]);
    let t0 = Timestamp::from_unix_seconds(T0);
    let address = |user: &str, device: u32| {
        DeviceAddress::new(UserId::new(user).expect("user id"), DeviceId::new(device))
    };
    let mut alice = DeviceKeys::generate(&mut rng, address("alice", 1));
    let a1 = verified(alice.add_sealing_key(&mut rng, t0, 30 * DAY), t0);
    let mut bob = DeviceKeys::generate(&mut rng, address("bob", 2));
    let b1 = verified(bob.add_sealing_key(&mut rng, t0, 30 * DAY), t0);
    let mut at_alice = Session::new(&alice, &b1).expect("session at Alice");
    let mut at_bob = Session::new(&bob, &a1).expect("session at Bob");

    let mut sent = Vec::new();
    // Counter 0: to Bob's first key, which he retires below.
    sent.push(seal(
        &mut at_alice,
        &alice,
        &mut rng,
        1,
        ContentType::Text,
        b"hello Bob",
    ));
    // Bob rotates; counter 1 goes from Alice's first key to his second.
    let t1 = t0.saturating_add(60);
    let b2 = verified(bob.add_sealing_key(&mut rng, t1, 30 * DAY), t1);
    at_alice.add_peer_bundle(&b2).expect("Bob's new bundle");
    sent.push(seal(
        &mut at_alice,
        &alice,
        &mut rng,
        0,
        ContentType::Location,
        b"48.8584,2.2945",
    ));
    // Alice rotates; counters 2.. come from her second key.
    let t2 = t0.saturating_add(120);
    let a2 = verified(alice.add_sealing_key(&mut rng, t2, 30 * DAY), t2);
    at_bob.add_peer_bundle(&a2).expect("Alice's new bundle");
    sent.push(seal(
        &mut at_alice,
        &alice,
        &mut rng,
        2,
        ContentType::Application(0x8001),
        b"",
    ));
    let long: Vec<u8> = (0..300u16).map(|i| (i % 251) as u8).collect();
    sent.push(seal(
        &mut at_alice,
        &alice,
        &mut rng,
        3,
        ContentType::from(0x1234),
        &long,
    ));
    sent.push(seal(
        &mut at_alice,
        &alice,
        &mut rng,
        1,
        ContentType::Text,
        b"are you there?",
    ));
    // Messages Bob never receives, up to the far counter.
    while at_alice.next_counter() < FAR_COUNTER {
        at_alice
            .seal(
                &alice,
                &mut rng,
                Timestamp::from_unix_seconds(NOW),
                ContentType::Text,
                b"",
                b"",
            )
            .expect("fixture seal");
    }
    sent.push(seal(
        &mut at_alice,
        &alice,
        &mut rng,
        0,
        ContentType::Control,
        b"far ahead",
    ));

    assert!(bob.retire(b1.sealing_key_id()));
    let save = |s: &Session| serde_json::to_vec(s).expect("session state serializes");
    let mut states = vec![save(&at_bob)];
    for counter in [3, FAR_COUNTER] {
        let m = sent.iter().find(|m| m.counter == counter).expect("sent");
        at_bob
            .open(
                &bob,
                Timestamp::from_unix_seconds(NOW),
                &m.sealed,
                ASSOCIATED_DATA[m.ad],
            )
            .expect("fixture message opens");
        states.push(save(&at_bob));
    }
    Fixture {
        bob,
        alice_keys: [a1.sealing_key_id(), a2.sealing_key_id()],
        bob_live: b2.sealing_key_id(),
        bob_retired: b1.sealing_key_id(),
        states,
        sent,
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

// ---- check ----------------------------------------------------------------

/// The result of checks 1–6 of SPEC.md §7.5 for `sealed` at `session`:
/// `Some(error)` if one fails, `None` if the message gets to the key
/// commitment.
fn expected_failure(fx: &Fixture, session: &Session, sealed: &[u8]) -> Option<OpenError> {
    use letterseal::codec::DecodeError::{InvalidValue, Truncated};
    match sealed {
        [] => return Some(OpenError::Malformed(Truncated)),
        [v, ..] if *v != VERSION => return Some(OpenError::UnsupportedVersion(*v)),
        [_, k, ..] if *k != KIND_PAIRWISE => return Some(OpenError::Malformed(InvalidValue)),
        _ if sealed.len() < OVERHEAD => return Some(OpenError::Malformed(Truncated)),
        _ => {}
    }
    let header = Header::decode(&mut Reader::new(sealed)).expect("well-formed header");
    let (sender, recipient) = (header.sender_key_id, header.recipient_key_id);
    let live = |id: SealingKeyId| id == fx.bob_live;
    let peer = |id: SealingKeyId| fx.alice_keys.contains(&id);
    if live(sender) && peer(recipient) {
        return Some(OpenError::Reflected);
    }
    if recipient == fx.bob_retired {
        return Some(OpenError::RetiredKey(recipient));
    }
    if !live(recipient) {
        return Some(OpenError::UnknownRecipientKey(recipient));
    }
    if !peer(sender) {
        return Some(OpenError::UnknownSenderKey(sender));
    }
    let counter = header.counter;
    match session.highest_received() {
        Some(h) if counter <= h && h - counter >= WINDOW_SIZE => {
            Some(OpenError::TooOld { counter })
        }
        Some(h) if counter <= h && !session.missing_counters().contains(&counter) => {
            Some(OpenError::Replay { counter })
        }
        _ => None,
    }
}

/// Errors are compared by variant for `Malformed` (SPEC.md names no finer
/// reason) and exactly otherwise.
fn same_error(got: &OpenError, want: &OpenError) -> bool {
    match (got, want) {
        (OpenError::Malformed(_), OpenError::Malformed(_)) => true,
        _ => got == want,
    }
}

fn save(session: &Session) -> Vec<u8> {
    serde_json::to_vec(session).expect("session state serializes")
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Some((&selector, sealed)) = data.split_first() else {
        return;
    };
    let fx = fixture();
    let ad = ASSOCIATED_DATA[usize::from(selector & 0x0f) % ASSOCIATED_DATA.len()];
    let saved = &fx.states[usize::from(selector >> 4) % fx.states.len()];
    let mut session: Session = serde_json::from_slice(saved).expect("saved state loads");
    let expected = expected_failure(fx, &session, sealed);
    let highest_before = session.highest_received();
    let alice_header = fx
        .sent
        .iter()
        .any(|m| sealed.get(..HEADER_LEN) == Some(&m.sealed[..HEADER_LEN]));

    match session.open(&fx.bob, Timestamp::from_unix_seconds(NOW), sealed, ad) {
        Err(err) => {
            assert_eq!(
                save(&session),
                *saved,
                "a failed open ({err:?}) changed the session state"
            );
            match &expected {
                Some(want) => assert!(
                    same_error(&err, want),
                    "open failed with {err:?}, expected {want:?}"
                ),
                None => assert!(
                    matches!(
                        err,
                        OpenError::CommitmentMismatch | OpenError::AuthenticationFailed
                    ),
                    "open failed with {err:?} after checks 1-6 passed"
                ),
            }
            match err {
                OpenError::CommitmentMismatch => assert!(
                    !alice_header,
                    "the commitment of a header Alice sealed does not match"
                ),
                OpenError::AuthenticationFailed => assert!(
                    alice_header,
                    "a header Alice never sealed passed the key commitment"
                ),
                _ => {}
            }
        }
        Ok(opened) => {
            assert!(
                expected.is_none(),
                "opened although {expected:?} was expected"
            );
            let Some(legit) = fx
                .sent
                .iter()
                .find(|m| m.sealed == sealed && ASSOCIATED_DATA[m.ad] == ad)
            else {
                panic!("FORGERY: a message Alice never sealed opened: {opened:?}");
            };
            assert_eq!(opened.content_type, legit.content_type);
            assert_eq!(opened.plaintext.as_slice(), legit.plaintext.as_slice());
            assert_eq!(opened.counter, legit.counter);
            assert_eq!(opened.recipient_key_id, fx.bob_live);
            assert!(fx.alice_keys.contains(&opened.sender_key_id));
            let counter = opened.counter;
            let (skipped, late) = match highest_before {
                None => (counter, false),
                Some(h) if counter > h => (counter - h - 1, false),
                Some(_) => (0, true),
            };
            assert_eq!((opened.skipped, opened.late), (skipped, late), "gap report");
            assert_eq!(
                session.highest_received(),
                Some(highest_before.map_or(counter, |h| h.max(counter)))
            );
            assert!(!session.missing_counters().contains(&counter));

            let after = save(&session);
            assert_ne!(
                after, *saved,
                "a successful open did not record the counter"
            );
            let replay = session
                .open(&fx.bob, Timestamp::from_unix_seconds(NOW), sealed, ad)
                .map(|_| ());
            assert_eq!(replay, Err(OpenError::Replay { counter }));
            assert_eq!(save(&session), after, "a replay changed the session state");
            let mut reloaded: Session = serde_json::from_slice(&after).expect("state reloads");
            let replay = reloaded
                .open(&fx.bob, Timestamp::from_unix_seconds(NOW), sealed, ad)
                .map(|_| ());
            assert_eq!(replay, Err(OpenError::Replay { counter }));
        }
    }
}

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

/// What opening a `pairwise_open` input gives: "Ok" or the error's name.
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> &'static str {
    let Some((&selector, sealed)) = data.split_first() else {
        return "empty input";
    };
    let fx = fixture();
    let ad = ASSOCIATED_DATA[usize::from(selector & 0x0f) % ASSOCIATED_DATA.len()];
    let saved = &fx.states[usize::from(selector >> 4) % fx.states.len()];
    let mut session: Session = serde_json::from_slice(saved).unwrap();
    match session.open(&fx.bob, Timestamp::from_unix_seconds(NOW), sealed, ad) {
        Ok(_) => "Ok",
        Err(e) => e.name(),
    }
}

/// Named seed files.
#[cfg(test)]
pub(crate) type Seeds = Vec<(&'static str, Vec<u8>)>;

/// The seeds of `pairwise_open` and of `pairwise_header` (headers of the
/// fixture's messages), from the fixture.
#[cfg(test)]
pub(crate) fn seeds() -> [(&'static str, Seeds); 2] {
    use letterseal::pairwise::BOUND_FIELDS_LEN;

    let fx = fixture();
    let by_counter =
        |counter: u64| -> &Sent { fx.sent.iter().find(|m| m.counter == counter).unwrap() };
    // selector = state << 4 | associated-data index
    let input = |state: u8, m: &Sent, bytes: &[u8]| -> Vec<u8> {
        let mut v = vec![state << 4 | u8::try_from(m.ad).unwrap()];
        v.extend_from_slice(bytes);
        v
    };
    let flip = |m: &Sent, at: usize, mask: u8| -> Vec<u8> {
        let mut bytes = m.sealed.clone();
        bytes[at] ^= mask;
        input(0, m, &bytes)
    };
    let (c0, c1, c2, c3, c4, far) = (
        by_counter(0),
        by_counter(1),
        by_counter(2),
        by_counter(3),
        by_counter(4),
        by_counter(FAR_COUNTER),
    );
    // Bob seals to Alice from a copy of his fresh session: a reflection when
    // fed back to him.
    let mut at_bob: Session = serde_json::from_slice(&fx.states[0]).unwrap();
    let reflected = at_bob
        .seal(
            &fx.bob,
            &mut ChaCha20Rng::from_seed([0x52; 32]),
            Timestamp::from_unix_seconds(NOW),
            ContentType::Text,
            b"hi Alice",
            ASSOCIATED_DATA[1],
        )
        .unwrap();
    let mut extended = c4.sealed.clone();
    extended.push(0);
    let len = c4.sealed.len();
    let open_seeds: Vec<(&'static str, Vec<u8>)> = vec![
        ("legit_c0_to_retired_key", input(0, c0, &c0.sealed)),
        ("legit_c1_old_sender_key", input(0, c1, &c1.sealed)),
        ("legit_c2_app_empty", input(0, c2, &c2.sealed)),
        ("legit_c3_unknown_type_long_ad", input(0, c3, &c3.sealed)),
        ("legit_c4_text", input(0, c4, &c4.sealed)),
        ("legit_c1030_control", input(0, far, &far.sealed)),
        ("s1_c1_late", input(1, c1, &c1.sealed)),
        ("s1_c3_replay", input(1, c3, &c3.sealed)),
        ("s1_c4_next", input(1, c4, &c4.sealed)),
        ("s2_c4_too_old", input(2, c4, &c4.sealed)),
        ("s2_c1030_replay", input(2, far, &far.sealed)),
        ("mut_wrong_ad", {
            let mut v = input(0, c4, &c4.sealed);
            v[0] = 2;
            v
        }),
        ("mut_ciphertext_bit", flip(c4, HEADER_LEN, 0x01)),
        ("mut_tag_bit", flip(c4, len - 1, 0x80)),
        ("mut_commitment_bit", flip(c4, HEADER_LEN - 1, 0x01)),
        ("mut_salt_bit", flip(c4, BOUND_FIELDS_LEN, 0x01)),
        ("mut_counter_bit", flip(c4, BOUND_FIELDS_LEN - 1, 0x01)),
        ("mut_content_type_bit", flip(c4, 3, 0x01)),
        ("mut_sender_key_id", flip(c4, 4, 0x01)),
        ("mut_recipient_key_id", flip(c4, 20, 0x01)),
        ("mut_version_2", flip(c4, 0, 0x03)),
        ("mut_kind_2", flip(c4, 1, 0x03)),
        ("trunc_header_only", input(0, c4, &c4.sealed[..HEADER_LEN])),
        ("trunc_107", input(0, c4, &c4.sealed[..OVERHEAD - 1])),
        ("trunc_minus1", input(0, c4, &c4.sealed[..len - 1])),
        ("ext_plus1", input(0, c4, &extended)),
        ("reflected_bob_to_alice", input(0, c4, &reflected)),
    ];
    let header_seeds: Vec<(&'static str, Vec<u8>)> = vec![
        ("header_c4", c4.sealed[..HEADER_LEN].to_vec()),
        ("header_c2_app", c2.sealed[..HEADER_LEN].to_vec()),
        ("message_c3", c3.sealed.clone()),
        ("trunc_91", c4.sealed[..HEADER_LEN - 1].to_vec()),
        ("version_0", {
            let mut v = c4.sealed[..HEADER_LEN].to_vec();
            v[0] = 0;
            v
        }),
        ("version_2", {
            let mut v = c4.sealed[..HEADER_LEN].to_vec();
            v[0] = 2;
            v
        }),
        ("kind_0", {
            let mut v = c4.sealed[..HEADER_LEN].to_vec();
            v[1] = 0;
            v
        }),
        ("version_only", vec![VERSION]),
        ("empty", Vec::new()),
    ];
    [
        ("pairwise_open", open_seeds),
        ("pairwise_header", header_seeds),
    ]
}
