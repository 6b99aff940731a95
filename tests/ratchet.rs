//! The LS3 ratchet (SPEC.md §7) between two devices: starts, replies,
//! out-of-order delivery, replays, KEM steps, concurrent starts, reflection,
//! persistence mid-conversation, and failure atomicity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::{
    Chain, ContentType, FLAG_INIT, FLAG_KEM_STEP, OpenError, OpenedInto, RatchetPolicy, SealError,
    Session, plaintext_len,
};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const T0: u64 = 1_800_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(T0)
}

struct Side {
    keys: DeviceKeys,
    bundle: VerifiedBundle,
}

fn side(rng: &mut ChaCha20Rng, user: &str) -> Side {
    let address = DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(1));
    let mut keys = DeviceKeys::generate(rng, address);
    let bundle = keys
        .add_sealing_key(rng, now(), 30 * 86_400)
        .verify(
            &keys.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    Side { keys, bundle }
}

struct Pair {
    rng: ChaCha20Rng,
    alice: Side,
    bob: Side,
    at_alice: Session,
    at_bob: Session,
}

fn pair(seed: u8, policy: RatchetPolicy) -> Pair {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let alice = side(&mut rng, "alice");
    let bob = side(&mut rng, "bob");
    let at_alice = Session::new(&alice.keys, &bob.bundle)
        .unwrap()
        .with_policy(policy)
        .unwrap();
    let at_bob = Session::new(&bob.keys, &alice.bundle)
        .unwrap()
        .with_policy(policy)
        .unwrap();
    Pair {
        rng,
        alice,
        bob,
        at_alice,
        at_bob,
    }
}

impl Pair {
    fn a_to_b(&mut self, text: &[u8]) -> Vec<u8> {
        self.at_alice
            .seal(
                &self.alice.keys,
                &mut self.rng,
                now(),
                ContentType::Text,
                text,
                b"",
            )
            .unwrap()
    }

    fn b_to_a(&mut self, text: &[u8]) -> Vec<u8> {
        self.at_bob
            .seal(
                &self.bob.keys,
                &mut self.rng,
                now(),
                ContentType::Text,
                text,
                b"",
            )
            .unwrap()
    }

    fn bob_opens(&mut self, m: &[u8]) -> Result<letterseal::pairwise::Opened, OpenError> {
        self.at_bob.open(&mut self.bob.keys, now(), m, b"")
    }

    fn alice_opens(&mut self, m: &[u8]) -> Result<letterseal::pairwise::Opened, OpenError> {
        self.at_alice.open(&mut self.alice.keys, now(), m, b"")
    }
}

#[test]
fn a_conversation_with_replies_opens_in_order_and_refuses_replays() {
    let mut p = pair(1, RatchetPolicy::default());
    let m0 = p.a_to_b(b"hello Bob");
    assert_eq!(
        m0[2] & FLAG_INIT,
        FLAG_INIT,
        "the first message starts the session"
    );
    let opened = p.bob_opens(&m0).unwrap();
    assert_eq!(opened.plaintext.as_slice(), b"hello Bob");
    assert!(opened.started_session);
    assert_eq!(
        p.bob_opens(&m0).unwrap_err(),
        OpenError::Replay { counter: 0 }
    );

    for round in 0..5u8 {
        let reply = p.b_to_a(&[round; 3]);
        assert_eq!(reply[2] & FLAG_INIT, 0);
        assert_eq!(
            p.alice_opens(&reply).unwrap().plaintext.as_slice(),
            [round; 3]
        );
        let next = p.a_to_b(&[round + 100; 2]);
        assert_eq!(
            next[2] & FLAG_INIT,
            0,
            "Alice heard back: no more INIT fields"
        );
        assert_eq!(
            p.bob_opens(&next).unwrap().plaintext.as_slice(),
            [round + 100; 2]
        );
        assert_eq!(
            p.bob_opens(&next).unwrap_err(),
            OpenError::Replay { counter: 0 }
        );
    }
    assert_eq!(
        p.at_alice.current_session_id(),
        p.at_bob.current_session_id()
    );
}

#[test]
fn out_of_order_and_dropped_messages_are_reported_and_old_epochs_still_open() {
    let mut p = pair(2, RatchetPolicy::default());
    let first: Vec<_> = (0..5u8).map(|i| p.a_to_b(&[i])).collect();
    // 4 first: skips 0..3.
    let o = p.bob_opens(&first[4]).unwrap();
    assert_eq!((o.skipped, o.late, o.counter), (4, false, 4));
    let o = p.bob_opens(&first[2]).unwrap();
    assert_eq!((o.skipped, o.late, o.counter), (0, true, 2));
    // Bob replies; Alice replies in a new epoch; the old epoch's messages still open.
    let reply = p.b_to_a(b"r");
    p.alice_opens(&reply).unwrap();
    let second = p.a_to_b(b"new epoch");
    assert!(p.bob_opens(&second).unwrap().plaintext.as_slice() == b"new epoch");
    assert!(p.bob_opens(&first[0]).unwrap().late);
    assert_eq!(
        p.bob_opens(&first[0]).unwrap_err(),
        OpenError::Replay { counter: 0 }
    );
    // Messages the new epoch's header says were sent in the old one and never arrived:
    // first[1] and first[3] are still stored.
    assert!(p.bob_opens(&first[3]).unwrap().late);
    assert!(p.bob_opens(&first[1]).unwrap().late);
}

#[test]
fn skips_beyond_the_cap_are_refused_and_change_nothing() {
    let policy = RatchetPolicy {
        max_skip: 5,
        max_skipped: 8,
        ..RatchetPolicy::default()
    };
    let mut p = pair(3, policy);
    let ms: Vec<_> = (0..20u8).map(|i| p.a_to_b(&[i])).collect();
    // 6 skipped in one chain > max_skip = 5.
    assert_eq!(p.bob_opens(&ms[6]).unwrap_err(), OpenError::TooManySkipped);
    assert_eq!(p.bob_opens(&ms[5]).unwrap().skipped, 5);
    // 5 more would store 10 > max_skipped = 8; 2 more is fine.
    assert_eq!(p.bob_opens(&ms[11]).unwrap_err(), OpenError::TooManySkipped);
    assert_eq!(p.bob_opens(&ms[8]).unwrap().skipped, 2);
    // The refused messages changed nothing: the stored ones still open, once.
    for i in [0usize, 1, 2, 3, 4, 6, 7] {
        assert!(p.bob_opens(&ms[i]).unwrap().late, "{i}");
    }
    assert_eq!(p.bob_opens(&ms[11]).unwrap().skipped, 2);
}

#[test]
fn the_rest_of_a_previous_chain_counts_against_the_per_chain_cap() {
    let policy = RatchetPolicy {
        max_skip: 2,
        ..RatchetPolicy::default()
    };
    for (opened_first, expected) in [(1usize, Err(OpenError::TooManySkipped)), (2, Ok(2u64))] {
        let mut p = pair(30, policy);
        let first: Vec<_> = (0..4u8).map(|i| p.a_to_b(&[i])).collect();
        for m in &first[..opened_first] {
            p.bob_opens(m).unwrap();
        }
        let reply = p.b_to_a(b"r");
        p.alice_opens(&reply).unwrap();
        // The new epoch's header says the old chain had 4 messages: the rest
        // (3 or 2 of them) is stored as skipped, at most max_skip = 2.
        let next = p.a_to_b(b"new epoch");
        assert_eq!(
            p.bob_opens(&next).map(|o| o.skipped),
            expected,
            "{opened_first} opened first"
        );
    }
}

#[test]
fn expired_skipped_secrets_do_not_count_against_the_total_cap() {
    let policy = RatchetPolicy {
        max_skip: 4,
        max_skipped: 4,
        skipped_lifetime_seconds: 60,
        ..RatchetPolicy::default()
    };
    let mut p = pair(31, policy);
    let ms: Vec<_> = (0..12u8).map(|i| p.a_to_b(&[i])).collect();
    assert_eq!(p.bob_opens(&ms[4]).unwrap().skipped, 4);
    // Later, the four stored secrets are past their lifetime: they neither
    // count nor stay (and `expire` was never called).
    let later = Timestamp::from_unix_seconds(T0 + 61);
    let o = p.at_bob.open(&mut p.bob.keys, later, &ms[9], b"").unwrap();
    assert_eq!(o.skipped, 4);
    assert_eq!(
        p.at_bob
            .open(&mut p.bob.keys, later, &ms[0], b"")
            .unwrap_err(),
        OpenError::TooOld { counter: 0 }
    );
    assert!(
        p.at_bob
            .open(&mut p.bob.keys, later, &ms[5], b"")
            .unwrap()
            .late
    );
}

#[test]
fn kem_steps_run_on_schedule_and_carry_their_fields_for_the_whole_epoch() {
    let policy = RatchetPolicy {
        kem_every_steps: 2,
        ..RatchetPolicy::default()
    };
    let mut p = pair(5, policy);
    let mut kem_steps = 0;
    let m = p.a_to_b(b"start");
    p.bob_opens(&m).unwrap();
    for round in 0..8u8 {
        let r1 = p.b_to_a(&[round]);
        let r2 = p.b_to_a(&[round, round]);
        assert_eq!(r1[2] & FLAG_KEM_STEP, r2[2] & FLAG_KEM_STEP);
        if r1[2] & FLAG_KEM_STEP != 0 {
            kem_steps += 1;
        }
        // Delivered out of order across the step.
        assert_eq!(
            p.alice_opens(&r2).unwrap().plaintext.as_slice(),
            [round, round]
        );
        assert!(p.alice_opens(&r1).unwrap().late);
        let a = p.a_to_b(&[round; 4]);
        if a[2] & FLAG_KEM_STEP != 0 {
            kem_steps += 1;
        }
        p.bob_opens(&a).unwrap();
    }
    // A KEM step needs at least 2 sending steps since the last one and a fresh
    // peer KEM key, so the two sides alternate: about one in three steps.
    assert!(
        kem_steps >= 4,
        "only {kem_steps} KEM steps in 24 sending steps"
    );
}

#[test]
fn reflected_messages_are_refused() {
    let mut p = pair(6, RatchetPolicy::default());
    let m = p.a_to_b(b"to Bob");
    assert_eq!(p.alice_opens(&m).unwrap_err(), OpenError::Reflected);
    p.bob_opens(&m).unwrap();
    let r = p.b_to_a(b"to Alice");
    assert_eq!(p.bob_opens(&r).unwrap_err(), OpenError::Reflected);
}

#[test]
fn concurrent_starts_converge_and_lose_nothing() {
    let mut p = pair(7, RatchetPolicy::default());
    let from_a = p.a_to_b(b"A first");
    let from_b = p.b_to_a(b"B first");
    // Both arrive; both open.
    assert!(p.bob_opens(&from_a).unwrap().started_session);
    assert!(p.alice_opens(&from_b).unwrap().started_session);
    // After one more message each way, both seal in the same state.
    let a2 = p.a_to_b(b"A second");
    let b2 = p.b_to_a(b"B second");
    p.bob_opens(&a2).unwrap();
    p.alice_opens(&b2).unwrap();
    let a3 = p.a_to_b(b"A third");
    p.bob_opens(&a3).unwrap();
    assert_eq!(
        p.at_alice.current_session_id(),
        p.at_bob.current_session_id()
    );
    let b3 = p.b_to_a(b"B third");
    assert_eq!(p.alice_opens(&b3).unwrap().plaintext.as_slice(), b"B third");
}

#[test]
fn sessions_persist_mid_conversation() {
    let mut p = pair(8, RatchetPolicy::default());
    let key = StorageKey::generate(&mut p.rng);
    let m0 = p.a_to_b(b"0");
    let m1 = p.a_to_b(b"1");
    p.bob_opens(&m1).unwrap();
    let blob = p.at_bob.export(&mut p.rng, &key).unwrap();
    let mut restored = Session::import(&key, blob.as_bytes(), blob.generation()).unwrap();
    // The skipped message opens in the restored session; replays are refused there too.
    assert!(
        restored
            .open(&mut p.bob.keys, now(), &m0, b"")
            .unwrap()
            .late
    );
    assert_eq!(
        restored.open(&mut p.bob.keys, now(), &m1, b"").unwrap_err(),
        OpenError::Replay { counter: 1 }
    );
    let reply = restored
        .seal(
            &p.bob.keys,
            &mut p.rng,
            now(),
            ContentType::Text,
            b"from restored",
            b"",
        )
        .unwrap();
    assert_eq!(
        p.alice_opens(&reply).unwrap().plaintext.as_slice(),
        b"from restored"
    );
    let blob = p.at_alice.export(&mut p.rng, &key).unwrap();
    let mut alice_again = Session::import(&key, blob.as_bytes(), 1).unwrap();
    let next = alice_again
        .seal(
            &p.alice.keys,
            &mut p.rng,
            now(),
            ContentType::Text,
            b"again",
            b"",
        )
        .unwrap();
    assert_eq!(
        restored
            .open(&mut p.bob.keys, now(), &next, b"")
            .unwrap()
            .plaintext
            .as_slice(),
        b"again"
    );
}

#[test]
fn a_tampered_byte_anywhere_is_refused_and_changes_nothing() {
    let mut p = pair(9, RatchetPolicy::default());
    let key = StorageKey::from_bytes([1; 32]);
    let m = p.a_to_b(b"the first message, with the INIT fields");
    for i in 0..m.len() {
        let mut t = m.clone();
        t[i] ^= 0x01;
        assert!(p.bob_opens(&t).is_err(), "byte {i}");
        assert_eq!(
            p.at_bob.current_session_id(),
            None,
            "byte {i} changed state"
        );
    }
    p.bob_opens(&m).unwrap();
    let reply = p.b_to_a(b"a reply in a new epoch");
    let before = p.at_alice.export(&mut p.rng, &key).unwrap();
    for i in 0..reply.len() {
        let mut t = reply.clone();
        t[i] ^= 0x80;
        assert!(p.alice_opens(&t).is_err(), "byte {i}");
    }
    // Still opens, and the state is the one from before the attempts.
    let after = p.at_alice.export(&mut p.rng, &key).unwrap();
    let payload = |blob: &[u8]| {
        letterseal::state::open_raw(
            letterseal::state::StateKind::Session,
            letterseal::pairwise::SESSION_BLOB_VERSION,
            &key,
            blob,
            0,
        )
        .unwrap()
        .0
        .to_vec()
    };
    assert_eq!(payload(before.as_bytes()), payload(after.as_bytes()));
    assert_eq!(p.alice_opens(&reply).unwrap().chain, Chain::Message);
}

#[test]
fn control_traffic_has_its_own_chain() {
    let mut p = pair(10, RatchetPolicy::default());
    let chat: Vec<_> = (0..3u8).map(|i| p.a_to_b(&[i])).collect();
    let wrap = p
        .at_alice
        .seal(
            &p.alice.keys,
            &mut p.rng,
            now(),
            ContentType::GroupKey,
            &[7; 32],
            b"",
        )
        .unwrap();
    let o = p.bob_opens(&wrap).unwrap();
    assert_eq!((o.chain, o.counter, o.skipped), (Chain::Control, 0, 0));
    for m in &chat {
        assert_eq!(p.bob_opens(m).unwrap().chain, Chain::Message);
    }
}

#[test]
fn sealing_refuses_expired_keys() {
    let mut p = pair(11, RatchetPolicy::default());
    let late = Timestamp::from_unix_seconds(T0 + 30 * 86_400 + 300);
    assert!(matches!(
        p.at_alice.seal(
            &p.alice.keys,
            &mut p.rng,
            late,
            ContentType::Text,
            b"x",
            b""
        ),
        Err(SealError::LocalKeyExpired(_))
    ));
    let m = p.a_to_b(b"in time");
    p.bob_opens(&m).unwrap();
    let m = p.a_to_b(b"delivered late");
    assert!(matches!(
        p.at_bob.open(&mut p.bob.keys, late, &m, b""),
        Err(OpenError::PeerKeyExpired(_))
    ));
    // A newer bundle of Alice's extends the session.
    let newer = p
        .alice
        .keys
        .add_sealing_key(
            &mut p.rng,
            Timestamp::from_unix_seconds(T0 + 86_400),
            60 * 86_400,
        )
        .verify(
            &p.alice.keys.address().clone().into(),
            &RegistrationPolicy::default(),
            Timestamp::from_unix_seconds(T0 + 86_400),
            None,
            &NoDirectory,
        )
        .unwrap();
    p.at_bob.add_peer_bundle(&newer).unwrap();
    assert!(p.at_bob.open(&mut p.bob.keys, late, &m, b"").is_ok());
}

/// The adversary copies Bob's whole state (session and device keys) at time t.
fn stolen(p: &mut Pair, key: &StorageKey) -> (Session, DeviceKeys) {
    let session = p.at_bob.export(&mut p.rng, key).unwrap();
    let device = p.bob.keys.export(&mut p.rng, key).unwrap();
    (
        Session::import(key, session.as_bytes(), 0).unwrap(),
        DeviceKeys::import(key, device.as_bytes(), 0).unwrap(),
    )
}

/// Forward secrecy (SPEC.md §7): messages Bob opened before the compromise
/// cannot be opened with his state from after it, nor can the adversary
/// recover them by re-running the state on the recorded traffic.
#[test]
fn forward_secrecy_messages_before_the_compromise_stay_closed() {
    let mut p = pair(20, RatchetPolicy::default());
    let key = StorageKey::from_bytes([2; 32]);
    let mut recorded = Vec::new();
    for round in 0..3u8 {
        let a = p.a_to_b(&[round]);
        p.bob_opens(&a).unwrap();
        recorded.push(a);
        let b = p.b_to_a(&[round]);
        p.alice_opens(&b).unwrap();
    }
    let (mut copy, mut device) = stolen(&mut p, &key);
    for (i, m) in recorded.iter().enumerate() {
        let err = copy.open(&mut device, now(), m, b"").unwrap_err();
        assert!(
            matches!(err, OpenError::Replay { .. } | OpenError::TooOld { .. }),
            "message {i}: {err:?}"
        );
    }
}

/// Post-compromise security (SPEC.md §7): the adversary holds Bob's state
/// from time t and sees all later traffic. Once Bob has sent (a new ratchet
/// key) and Alice has answered, Alice's messages no longer open for it.
#[test]
fn post_compromise_security_heals_after_one_message_each_way() {
    let mut p = pair(21, RatchetPolicy::default());
    let key = StorageKey::from_bytes([3; 32]);
    let m = p.a_to_b(b"before");
    p.bob_opens(&m).unwrap();
    let r = p.b_to_a(b"reply");
    p.alice_opens(&r).unwrap();
    let m = p.a_to_b(b"Alice's epoch on Bob's ratchet key");
    p.bob_opens(&m).unwrap();
    // The compromise: the adversary now holds Bob's ratchet secret and chains.
    let (mut copy, mut device) = stolen(&mut p, &key);

    // Alice keeps talking in her epoch: the copy reads along (no healing yet).
    let a1 = p.a_to_b(b"still in the old epoch");
    p.bob_opens(&a1).unwrap();
    assert!(copy.open(&mut device, now(), &a1, b"").is_ok());
    // Bob sends with a fresh ratchet key the adversary never saw.
    let b1 = p.b_to_a(b"Bob heals");
    p.alice_opens(&b1).unwrap();
    // Alice answers in a new epoch built on Bob's new key: the copy is locked out.
    for text in [&b"after healing"[..], b"and more"] {
        let a = p.a_to_b(text);
        p.bob_opens(&a).unwrap();
        let err = copy.open(&mut device, now(), &a, b"").unwrap_err();
        assert!(
            matches!(
                err,
                OpenError::CommitmentMismatch | OpenError::AuthenticationFailed
            ),
            "{err:?}"
        );
    }
}

#[test]
fn round_trip_sizes_and_content_types() {
    let mut p = pair(30, RatchetPolicy::default());
    for (len, ct) in [
        (0usize, ContentType::Text),
        (1, ContentType::Location),
        (1000, ContentType::FileReference),
        (65_536, ContentType::Application(0x8123)),
        (17, ContentType::Unknown(77)),
        (32, ContentType::Control),
    ] {
        let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let sealed = p
            .at_alice
            .seal(&p.alice.keys, &mut p.rng, now(), ct, &plaintext, b"ad")
            .unwrap();
        let opened = p
            .at_bob
            .open(&mut p.bob.keys, now(), &sealed, b"ad")
            .unwrap();
        assert_eq!(opened.plaintext.as_slice(), plaintext.as_slice());
        assert_eq!(opened.content_type, ct);
        assert_eq!(opened.chain, ct.chain());
    }
}

#[test]
fn header_tampering_is_caught_by_the_intended_check() {
    let mut p = pair(31, RatchetPolicy::default());
    let m = p.a_to_b(b"start");
    p.bob_opens(&m).unwrap();
    let r = p.b_to_a(b"reply");
    p.alice_opens(&r).unwrap();
    let sealed = p.a_to_b(b"hello");
    let flip = |i: usize| {
        let mut bad = sealed.clone();
        bad[i] ^= 1;
        bad
    };
    let check = |p: &mut Pair, i: usize| p.bob_opens(&flip(i)).unwrap_err();
    assert_eq!(check(&mut p, 0), OpenError::UnsupportedVersion(3));
    assert!(matches!(check(&mut p, 1), OpenError::Malformed(_))); // kind
    assert!(matches!(check(&mut p, 2), OpenError::Malformed(_))); // flags: ONE_TIME alone
    assert_eq!(check(&mut p, 4), OpenError::AuthenticationFailed); // content type: AAD
    assert_eq!(check(&mut p, 5), OpenError::UnknownSession); // session id
    // A changed ratchet key is a new epoch for Bob: its chain cannot match.
    assert_eq!(check(&mut p, 21), OpenError::CommitmentMismatch);
    // Previous-chain lengths: a new epoch stores them as skipped; for the current epoch they
    // are only authenticated data.
    assert_eq!(check(&mut p, 56), OpenError::AuthenticationFailed);
    assert_eq!(check(&mut p, 64), OpenError::CommitmentMismatch); // n: another message secret
    let salt = letterseal::pairwise::FIXED_FIELDS_LEN;
    assert_eq!(check(&mut p, salt), OpenError::CommitmentMismatch);
    assert_eq!(check(&mut p, salt + 16), OpenError::CommitmentMismatch); // commitment
    assert_eq!(check(&mut p, salt + 48), OpenError::AuthenticationFailed); // ciphertext
    assert_eq!(p.bob_opens(&sealed).unwrap().plaintext.as_slice(), b"hello");
}

#[test]
fn wrong_associated_data_truncation_and_extension_fail() {
    let mut p = pair(32, RatchetPolicy::default());
    let sealed = p
        .at_alice
        .seal(
            &p.alice.keys,
            &mut p.rng,
            now(),
            ContentType::Text,
            b"x",
            b"chat 1",
        )
        .unwrap();
    for ad in [&b""[..], b"chat 2", b"chat 1 "] {
        assert_eq!(
            p.at_bob
                .open(&mut p.bob.keys, now(), &sealed, ad)
                .unwrap_err(),
            OpenError::AuthenticationFailed
        );
    }
    for len in [
        0,
        1,
        10,
        letterseal::pairwise::MIN_HEADER_LEN,
        sealed.len() - 1,
    ] {
        assert!(
            p.at_bob
                .open(&mut p.bob.keys, now(), &sealed[..len], b"chat 1")
                .is_err()
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(
        p.at_bob
            .open(&mut p.bob.keys, now(), &longer, b"chat 1")
            .is_err()
    );
    assert!(
        p.at_bob
            .open(&mut p.bob.keys, now(), &sealed, b"chat 1")
            .is_ok()
    );
}

#[test]
fn wrong_device_and_other_peers_are_refused() {
    let mut p = pair(33, RatchetPolicy::default());
    let m = p.a_to_b(b"x");
    // Bob's session used with Alice's device.
    assert_eq!(
        p.at_bob
            .open(&mut p.alice.keys, now(), &m, b"")
            .unwrap_err(),
        OpenError::WrongDevice
    );
    assert!(matches!(
        p.at_alice
            .seal(&p.bob.keys, &mut p.rng, now(), ContentType::Text, b"x", b""),
        Err(SealError::WrongDevice)
    ));
    // Carol's session with Bob does not open Alice's start: Carol's binding differs.
    let mut rng = ChaCha20Rng::from_seed([34; 32]);
    let carol = side(&mut rng, "carol");
    let mut bob_carol = Session::new(&p.bob.keys, &carol.bundle).unwrap();
    assert!(matches!(
        bob_carol.open(&mut p.bob.keys, now(), &m, b"").unwrap_err(),
        OpenError::UnknownSenderKey(_)
    ));
    // A bundle of another device is refused, and so is one of the peer's
    // device under another identity key (a re-registered device is a new peer).
    assert_eq!(
        p.at_alice.add_peer_bundle(&carol.bundle).unwrap_err(),
        letterseal::pairwise::SessionError::PeerMismatch
    );
    let bob_rekeyed = side(&mut rng, "bob");
    assert_eq!(bob_rekeyed.bundle.owner(), p.bob.bundle.owner());
    assert_eq!(
        p.at_alice.add_peer_bundle(&bob_rekeyed.bundle).unwrap_err(),
        letterseal::pairwise::SessionError::PeerMismatch
    );
    assert_eq!(
        Session::new(&p.alice.keys, &p.alice.bundle).unwrap_err(),
        letterseal::pairwise::SessionError::SelfSession
    );
}

/// Unknown key share (Isobe–Minematsu): a server that skipped the duplicate check lets
/// Carol register Alice's sealing key under Carol's identity. Alice's start names that key,
/// but the session id and the initial derivation bind the initiator's address and identity
/// key, so Bob's session with "Carol" does not accept it, and Bob's messages to Carol never
/// open for Alice.
#[test]
fn unknown_key_share_gives_unrelated_sessions() {
    let mut p = pair(35, RatchetPolicy::default());
    let mut rng = ChaCha20Rng::from_seed([36; 32]);
    let carol = DeviceKeys::generate(
        &mut rng,
        DeviceAddress::new(UserId::new("carol").unwrap(), DeviceId::new(1)),
    );
    let stolen = letterseal::registration::BundleContent::new(
        carol.address().clone(),
        carol.identity().public_key(),
        *p.alice.bundle.sealing_key(),
        p.alice.bundle.kem_key(),
        now(),
        now().saturating_add(86_400),
    )
    .sign(carol.identity())
    .verify(
        &carol.address().clone().into(),
        &RegistrationPolicy::default(),
        now(),
        None,
        &NoDirectory,
    )
    .unwrap();
    assert_eq!(stolen.sealing_key_id(), p.alice.bundle.sealing_key_id());
    let mut bob_carol = Session::new(&p.bob.keys, &stolen).unwrap();
    let from_alice = p.a_to_b(b"from Alice");
    assert_eq!(
        bob_carol
            .open(&mut p.bob.keys, now(), &from_alice, b"")
            .unwrap_err(),
        OpenError::UnknownSession
    );
    assert!(p.bob_opens(&from_alice).is_ok());
    let to_carol = bob_carol
        .seal(
            &p.bob.keys,
            &mut p.rng,
            now(),
            ContentType::Text,
            b"for Carol",
            b"",
        )
        .unwrap();
    let mut alice_bob = Session::new(&p.alice.keys, &p.bob.bundle).unwrap();
    assert_eq!(
        alice_bob
            .open(&mut p.alice.keys, now(), &to_carol, b"")
            .unwrap_err(),
        OpenError::UnknownSession
    );
}

#[test]
fn rotation_and_retirement() {
    let mut p = pair(37, RatchetPolicy::default());
    let m = p.a_to_b(b"on the first keys");
    p.bob_opens(&m).unwrap();
    // Bob rotates and retires his first key: the running session is unaffected.
    let later = Timestamp::from_unix_seconds(T0 + 60);
    let newer = p
        .bob
        .keys
        .add_sealing_key(&mut p.rng, later, 30 * 86_400)
        .verify(
            &p.bob.keys.address().clone().into(),
            &RegistrationPolicy::default(),
            later,
            None,
            &NoDirectory,
        )
        .unwrap();
    assert!(p.bob.keys.retire(p.bob.bundle.sealing_key_id()));
    let r = p.b_to_a(b"still talking");
    p.alice_opens(&r).unwrap();
    // A new start to the retired key is refused; one to the new key works.
    let mut fresh = Session::new(&p.alice.keys, &p.bob.bundle).unwrap();
    let start = fresh
        .seal(
            &p.alice.keys,
            &mut p.rng,
            now(),
            ContentType::Text,
            b"x",
            b"",
        )
        .unwrap();
    let mut bob_fresh = Session::new(&p.bob.keys, &p.alice.bundle).unwrap();
    assert!(matches!(
        bob_fresh
            .open(&mut p.bob.keys, now(), &start, b"")
            .unwrap_err(),
        OpenError::RetiredKey(_)
    ));
    fresh.add_peer_bundle(&newer).unwrap();
    let mut again = Session::new(&p.alice.keys, &newer).unwrap();
    let start = again
        .seal(
            &p.alice.keys,
            &mut p.rng,
            later,
            ContentType::Text,
            b"y",
            b"",
        )
        .unwrap();
    assert!(
        bob_fresh
            .open(&mut p.bob.keys, later, &start, b"")
            .unwrap()
            .started_session
    );
    // The newest bundle cannot be removed; an older one can.
    assert!(!fresh.remove_peer_key(newer.sealing_key_id()));
    assert!(fresh.remove_peer_key(p.bob.bundle.sealing_key_id()));
}

#[test]
fn one_time_keys_are_used_once() {
    let mut rng = ChaCha20Rng::from_seed([38; 32]);
    let alice = side(&mut rng, "alice");
    let mut bob = side(&mut rng, "bob");
    let otk = bob
        .keys
        .add_one_time_keys(&mut rng, 1, now(), 86_400)
        .remove(0);
    let otk = otk
        .verify(
            &bob.keys.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    let id = otk.key_id();
    let mut first = Session::new(&alice.keys, &bob.bundle)
        .unwrap()
        .with_one_time_key(&otk)
        .unwrap();
    let m1 = first
        .seal(&alice.keys, &mut rng, now(), ContentType::Text, b"1", b"")
        .unwrap();
    let mut second = Session::new(&alice.keys, &bob.bundle)
        .unwrap()
        .with_one_time_key(&otk)
        .unwrap();
    let m2 = second
        .seal(&alice.keys, &mut rng, now(), ContentType::Text, b"2", b"")
        .unwrap();
    let mut at_bob = Session::new(&bob.keys, &alice.bundle).unwrap();
    assert!(at_bob.open(&mut bob.keys, now(), &m1, b"").is_ok());
    assert!(bob.keys.one_time_key(&id).is_none(), "deleted once used");
    assert_eq!(
        at_bob.open(&mut bob.keys, now(), &m2, b"").unwrap_err(),
        OpenError::ConsumedOneTimeKey(id)
    );
}

#[test]
fn debug_output_contains_no_secret() {
    let mut p = pair(39, RatchetPolicy::default());
    let m = p.a_to_b(b"secret text");
    let opened = p.bob_opens(&m).unwrap();
    let shown = format!("{:?} {:?} {opened:?}", p.at_alice, p.at_bob);
    assert!(!shown.contains("secret text"));
    assert!(!shown.contains(&hex::encode(&opened.plaintext[..])));
}

/// SPEC.md §12.2: `max_skip ≤ max_skipped`. A session refuses a policy that
/// breaks it (its export would not import); equal values are fine.
#[test]
fn a_policy_with_max_skip_above_max_skipped_is_refused() {
    let mut rng = ChaCha20Rng::from_seed([0x71; 32]);
    let alice = side(&mut rng, "alice");
    let bob = side(&mut rng, "bob");
    let session = || Session::new(&alice.keys, &bob.bundle).unwrap();
    let bad = RatchetPolicy {
        max_skip: 5,
        max_skipped: 4,
        ..RatchetPolicy::default()
    };
    assert_eq!(
        session().with_policy(bad).err(),
        Some(letterseal::pairwise::SessionError::InvalidPolicy)
    );
    let equal = RatchetPolicy { max_skip: 4, ..bad };
    assert!(session().with_policy(equal).is_ok());
}

// ---- caller buffers: `seal_into`, `open_into`, `plaintext_len` ----------------

/// The session's exported payload (the generation is not part of it).
fn session_payload(session: &mut Session, rng: &mut ChaCha20Rng) -> Vec<u8> {
    let key = StorageKey::from_bytes([0x5e; 32]);
    let blob = session.export(rng, &key).unwrap();
    letterseal::state::open_raw(
        letterseal::state::StateKind::Session,
        letterseal::pairwise::SESSION_BLOB_VERSION,
        &key,
        blob.as_bytes(),
        0,
    )
    .unwrap()
    .0
    .to_vec()
}

/// Whether a buffer that held `marker` before a failed open holds no
/// plaintext: untouched (default AES-GCM backend, and every refusal before
/// decryption), or zeroed (`ring`, which decrypts while it authenticates).
fn holds_no_plaintext(out: &[u8], marker: u8, refused_before_decryption: bool) -> bool {
    out.iter().all(|&b| b == marker)
        || (!refused_before_decryption
            && letterseal::aead::BACKEND == "ring"
            && out.iter().all(|&b| b == 0))
}

fn assert_same_report(opened: &letterseal::pairwise::Opened, into: &OpenedInto) {
    assert_eq!(opened.content_type, into.content_type);
    assert_eq!(opened.chain, into.chain);
    assert_eq!(opened.session_id, into.session_id);
    assert_eq!(opened.started_session, into.started_session);
    assert_eq!(opened.counter, into.counter);
    assert_eq!(opened.skipped, into.skipped);
    assert_eq!(opened.late, into.late);
}

#[test]
fn seal_into_writes_the_message_seal_returns() {
    // Two identical pairs (same seed: same keys, same RNG stream): one seals
    // with `seal`, the other with `seal_into`, through a start, replies (DH
    // steps), KEM steps and control traffic.
    let policy = RatchetPolicy {
        kem_every_steps: 2,
        ..RatchetPolicy::default()
    };
    let mut p = pair(40, policy);
    let mut q = pair(40, policy);
    // A reused buffer, longer than the first messages and full of old bytes.
    let mut out = vec![0xee; 10_000];
    let script: [(bool, ContentType, &[u8]); 9] = [
        (true, ContentType::Text, b"a start"),
        (true, ContentType::Control, b"control"),
        (false, ContentType::Text, b"a reply: a DH step"),
        (true, ContentType::Text, &[0x11; 4096]),
        (false, ContentType::Location, b""),
        (true, ContentType::GroupKey, &[7; 32]),
        (false, ContentType::Text, &[0x22; 20_000]),
        (true, ContentType::Text, b"short again"),
        (false, ContentType::Application(0x8001), b"app"),
    ];
    for (i, (from_alice, content_type, text)) in script.into_iter().enumerate() {
        let ad: &[u8] = if i % 2 == 0 { b"" } else { b"chat 42" };
        let (sealed, ()) = if from_alice {
            (
                p.at_alice
                    .seal(&p.alice.keys, &mut p.rng, now(), content_type, text, ad)
                    .unwrap(),
                q.at_alice
                    .seal_into(
                        &q.alice.keys,
                        &mut q.rng,
                        now(),
                        content_type,
                        text,
                        ad,
                        &mut out,
                    )
                    .unwrap(),
            )
        } else {
            (
                p.at_bob
                    .seal(&p.bob.keys, &mut p.rng, now(), content_type, text, ad)
                    .unwrap(),
                q.at_bob
                    .seal_into(
                        &q.bob.keys,
                        &mut q.rng,
                        now(),
                        content_type,
                        text,
                        ad,
                        &mut out,
                    )
                    .unwrap(),
            )
        };
        assert_eq!(out, sealed, "message {i}");
        assert_eq!(plaintext_len(&out).unwrap(), text.len());
        if from_alice {
            let a = p.at_bob.open(&mut p.bob.keys, now(), &sealed, ad).unwrap();
            let b = q.at_bob.open(&mut q.bob.keys, now(), &out, ad).unwrap();
            assert_eq!(a.plaintext.as_slice(), text);
            assert_eq!(b.plaintext.as_slice(), text);
        } else {
            p.at_alice
                .open(&mut p.alice.keys, now(), &sealed, ad)
                .unwrap();
            q.at_alice.open(&mut q.alice.keys, now(), &out, ad).unwrap();
        }
    }
    // The sessions end in the same state.
    assert_eq!(
        session_payload(&mut p.at_alice, &mut p.rng),
        session_payload(&mut q.at_alice, &mut q.rng)
    );
}

#[test]
fn a_failed_seal_into_leaves_the_buffer_and_the_session_unchanged() {
    let mut p = pair(41, RatchetPolicy::default());
    let mut out = vec![0xa5; 300];
    let capacity = out.capacity();
    // The wrong device.
    assert_eq!(
        p.at_alice.seal_into(
            &p.bob.keys,
            &mut p.rng,
            now(),
            ContentType::Text,
            b"x",
            b"",
            &mut out
        ),
        Err(SealError::WrongDevice)
    );
    // Alice's key expired.
    let late = Timestamp::from_unix_seconds(T0 + 31 * 86_400);
    assert!(matches!(
        p.at_alice.seal_into(
            &p.alice.keys,
            &mut p.rng,
            late,
            ContentType::Text,
            b"x",
            b"",
            &mut out
        ),
        Err(SealError::LocalKeyExpired(_))
    ));
    assert_eq!(out, vec![0xa5; 300]);
    assert_eq!(out.capacity(), capacity);
    assert_eq!(p.at_alice.current_session_id(), None);
}

#[test]
fn seal_into_reuses_the_buffer() {
    let mut p = pair(42, RatchetPolicy::default());
    let text = vec![0x33; 64 * 1024];
    let mut out = Vec::with_capacity(text.len() + 4096);
    let (pointer, capacity) = (out.as_ptr(), out.capacity());
    for i in 0..5 {
        p.at_alice
            .seal_into(
                &p.alice.keys,
                &mut p.rng,
                now(),
                ContentType::Text,
                &text[..text.len() - i],
                b"",
                &mut out,
            )
            .unwrap();
        assert_eq!(
            (out.as_ptr(), out.capacity()),
            (pointer, capacity),
            "seal {i} reallocated"
        );
        let opened = p.bob_opens(&out).unwrap();
        assert_eq!(opened.plaintext.as_slice(), &text[..text.len() - i]);
    }
    // A message larger than the capacity grows it; a smaller one then keeps it.
    let big = vec![0x44; 2 * capacity];
    p.at_alice
        .seal_into(
            &p.alice.keys,
            &mut p.rng,
            now(),
            ContentType::Text,
            &big,
            b"",
            &mut out,
        )
        .unwrap();
    let (pointer, capacity) = (out.as_ptr(), out.capacity());
    assert!(capacity > big.len());
    p.at_alice
        .seal_into(
            &p.alice.keys,
            &mut p.rng,
            now(),
            ContentType::Text,
            b"small",
            b"",
            &mut out,
        )
        .unwrap();
    assert_eq!((out.as_ptr(), out.capacity()), (pointer, capacity));
    let opened = p.bob_opens(&out).unwrap();
    assert_eq!(
        (opened.plaintext.as_slice(), opened.counter, opened.skipped),
        (&b"small"[..], 6, 1)
    );
}

#[test]
fn open_into_gives_what_open_gives() {
    // Two identical pairs; Bob opens with `open` in one and `open_into` in the
    // other: a start opened out of order (skipped, late), control traffic,
    // a reply's DH step and a KEM step.
    let policy = RatchetPolicy {
        kem_every_steps: 1,
        ..RatchetPolicy::default()
    };
    let mut p = pair(43, policy);
    let mut q = pair(43, policy);
    let texts: [&[u8]; 4] = [b"zero", &[0x55; 3000], b"", b"three"];
    let sent_p: Vec<Vec<u8>> = texts.iter().map(|t| p.a_to_b(t)).collect();
    let sent_q: Vec<Vec<u8>> = texts.iter().map(|t| q.a_to_b(t)).collect();
    assert_eq!(sent_p, sent_q);
    for i in [2usize, 0, 3, 1] {
        let opened = p.bob_opens(&sent_p[i]).unwrap();
        let mut out = vec![0xa5; plaintext_len(&sent_q[i]).unwrap()];
        let into = q
            .at_bob
            .open_into(&mut q.bob.keys, now(), &sent_q[i], b"", &mut out)
            .unwrap();
        assert_eq!(out.as_slice(), texts[i]);
        assert_eq!(opened.plaintext.as_slice(), texts[i]);
        assert_same_report(&opened, &into);
    }
    // A reply (DH and KEM step) opened at Alice, and Bob's control message.
    let reply_p = p.b_to_a(b"reply");
    let reply_q = q.b_to_a(b"reply");
    assert_eq!(reply_p[2] & FLAG_KEM_STEP, FLAG_KEM_STEP);
    let opened = p.alice_opens(&reply_p).unwrap();
    let mut out = [0u8; 5];
    let into = q
        .at_alice
        .open_into(&mut q.alice.keys, now(), &reply_q, b"", &mut out)
        .unwrap();
    assert_eq!(&out, b"reply");
    assert_same_report(&opened, &into);
    assert!(!into.started_session);
    // The states match too.
    assert_eq!(
        session_payload(&mut p.at_bob, &mut p.rng),
        session_payload(&mut q.at_bob, &mut q.rng)
    );
    assert_eq!(
        session_payload(&mut p.at_alice, &mut p.rng),
        session_payload(&mut q.at_alice, &mut q.rng)
    );
    // A replay is refused the same way.
    let mut out = vec![0xa5; 4];
    assert_eq!(
        q.at_bob
            .open_into(&mut q.bob.keys, now(), &sent_q[0], b"", &mut out),
        Err(OpenError::Replay { counter: 0 })
    );
    assert_eq!(out, vec![0xa5; 4]);
}

#[test]
fn open_into_refuses_a_buffer_of_another_length_and_changes_nothing() {
    let mut p = pair(44, RatchetPolicy::default());
    let text = vec![0x66; 1000];
    let start = p.a_to_b(&text);
    let second = p.a_to_b(&text);
    assert_eq!(plaintext_len(&start).unwrap(), 1000);
    // At a start (no state yet) and in an existing state.
    for (i, m) in [&start, &second].into_iter().enumerate() {
        let before = session_payload(&mut p.at_bob, &mut p.rng);
        for len in [999usize, 1001, 0] {
            let mut out = vec![0xa5; len];
            assert_eq!(
                p.at_bob.open_into(&mut p.bob.keys, now(), m, b"", &mut out),
                Err(OpenError::BufferLength { expected: 1000 }),
                "message {i}, buffer {len}"
            );
            assert!(
                out.iter().all(|&b| b == 0xa5),
                "message {i}: buffer touched"
            );
        }
        assert_eq!(session_payload(&mut p.at_bob, &mut p.rng), before);
        if i == 0 {
            assert_eq!(p.at_bob.current_session_id(), None);
        }
        // The right length then opens it (so nothing was consumed).
        let mut out = vec![0u8; 1000];
        let opened = p
            .at_bob
            .open_into(&mut p.bob.keys, now(), m, b"", &mut out)
            .unwrap();
        assert_eq!(out, text);
        assert_eq!((opened.counter, opened.skipped), (i as u64, 0));
    }
    // The wrong device comes first, and leaves the buffer untouched too.
    let third = p.a_to_b(b"abc");
    let mut out = [0xa5u8; 3];
    assert_eq!(
        p.at_bob
            .open_into(&mut p.alice.keys, now(), &third, b"", &mut out),
        Err(OpenError::WrongDevice)
    );
    assert_eq!(out, [0xa5; 3]);
}

#[test]
fn a_failed_open_into_releases_no_plaintext_and_changes_nothing() {
    let mut p = pair(45, RatchetPolicy::default());
    let first = p.a_to_b(b"hello");
    p.bob_opens(&first).unwrap();
    let text = vec![0x77; 2048];
    let m = p.a_to_b(&text);
    let header_len = m.len() - text.len() - 16;
    let before = session_payload(&mut p.at_bob, &mut p.rng);
    // (what, message, associated data, refused before decryption)
    let mut cases: Vec<(String, Vec<u8>, &[u8], bool)> = Vec::new();
    for at in [
        header_len,
        header_len + 1000,
        m.len() - 17,
        m.len() - 16,
        m.len() - 1,
    ] {
        let mut t = m.clone();
        t[at] ^= 0x04;
        cases.push((format!("body byte {at}"), t, b"", false));
    }
    cases.push(("other associated data".into(), m.clone(), b"chat 43", false));
    let mut t = m.clone();
    t[header_len - 1] ^= 0x01;
    cases.push(("commitment".into(), t, b"", true));
    let mut t = m.clone();
    t[header_len - 40] ^= 0x01;
    cases.push(("salt".into(), t, b"", true));
    for (what, t, ad, before_decryption) in &cases {
        let mut out = vec![0xa5; plaintext_len(t).unwrap()];
        let err = p
            .at_bob
            .open_into(&mut p.bob.keys, now(), t, ad, &mut out)
            .unwrap_err();
        assert!(
            matches!(
                err,
                OpenError::AuthenticationFailed | OpenError::CommitmentMismatch
            ),
            "{what}: {err:?}"
        );
        assert_eq!(
            err == OpenError::CommitmentMismatch,
            *before_decryption,
            "{what}: {err:?}"
        );
        assert!(
            holds_no_plaintext(&out, 0xa5, *before_decryption),
            "{what}: plaintext released"
        );
        assert_eq!(
            session_payload(&mut p.at_bob, &mut p.rng),
            before,
            "{what}: state changed"
        );
    }
    // The message itself still opens.
    let mut out = vec![0u8; text.len()];
    p.at_bob
        .open_into(&mut p.bob.keys, now(), &m, b"", &mut out)
        .unwrap();
    assert_eq!(out, text);
}

#[test]
fn plaintext_len_decodes_strictly() {
    let mut p = pair(
        46,
        RatchetPolicy {
            kem_every_steps: 1,
            ..RatchetPolicy::default()
        },
    );
    let start = p.a_to_b(&[1; 77]);
    assert_eq!(start[2] & FLAG_INIT, FLAG_INIT);
    assert_eq!(plaintext_len(&start), Ok(77));
    p.bob_opens(&start).unwrap();
    let kem = p.b_to_a(&[2; 5]);
    assert_eq!(kem[2] & FLAG_KEM_STEP, FLAG_KEM_STEP);
    assert_eq!(plaintext_len(&kem), Ok(5));
    let plain = p.b_to_a(b"");
    assert_eq!(plaintext_len(&plain), Ok(0));
    // One byte short of a tag; a wrong version; unknown flags: what open says.
    for bad in [
        plain[..plain.len() - 1].to_vec(),
        {
            let mut t = plain.clone();
            t[0] = 1;
            t
        },
        {
            let mut t = plain.clone();
            t[2] |= 0x40;
            t
        },
        Vec::new(),
    ] {
        let err = plaintext_len(&bad).unwrap_err();
        assert!(
            matches!(
                err,
                OpenError::Malformed(_) | OpenError::UnsupportedVersion(_)
            ),
            "{err:?}"
        );
        assert_eq!(p.alice_opens(&bad).unwrap_err(), err);
    }
}
