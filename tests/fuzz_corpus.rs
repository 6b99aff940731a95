//! Replays the fuzz seed corpora (`fuzz/corpus/<target>/`) through the same
//! checks as the cargo-fuzz targets in `fuzz/fuzz_targets/`, so the corpora
//! are exercised by every `cargo test` without a nightly toolchain.
//!
//! Each `check_*` function below is a copy of the `check` function of the
//! fuzz target with the same name; keep them in step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::OnceLock;

use letterseal::codec::{DecodeError, Reader};
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{KeyError, SealingKeyId, SealingPublicKey, SealingSecretKey};
use letterseal::pairwise::{
    BOUND_FIELDS_LEN, ContentType, HEADER_LEN, Header, KIND_PAIRWISE, OVERHEAD, OpenError, Session,
    VERSION, WINDOW_SIZE,
};
use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// `fuzz/corpus/<target>/`.
fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target)
}

/// Every file of `fuzz/corpus/<target>/`, sorted by name, with its contents.
/// Fails if the directory is missing or empty.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let data = fs::read(&path).unwrap();
            (name, data)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no seed files", dir.display());
    files
}

/// Runs `check` on every seed of `target`, naming the seed if a check fails.
fn replay(target: &str, check: fn(&[u8])) -> Vec<(String, Vec<u8>)> {
    let files = corpus(target);
    for (name, data) in &files {
        let outcome = catch_unwind(AssertUnwindSafe(|| check(data)));
        assert!(
            outcome.is_ok(),
            "fuzz/corpus/{target}/{name} fails the {target} checks (input: {})",
            hex::encode(data)
        );
    }
    files
}

// ---- bundle_verify --------------------------------------------------------

fn check_bundle_verify(data: &[u8]) {
    let Ok(bundle) = KeyBundle::decode(data) else {
        return;
    };
    assert_eq!(
        bundle.encode(),
        data,
        "a decoded bundle must re-encode to the input bytes"
    );
    let content = bundle.content().clone();
    let now = content.not_before;
    if let Ok(verified) = bundle.verify(&RegistrationPolicy::default(), now, None, &NoDirectory) {
        assert_eq!(verified.owner(), &content.owner);
        assert_eq!(verified.identity_key(), &content.identity_key);
        assert_eq!(verified.sealing_key(), &content.sealing_key);
        assert!(verified.sealing_key().validate().is_ok());
        assert_eq!(verified.sealing_key_id(), verified.sealing_key().key_id());
        assert_eq!(verified.validity(), (content.not_before, content.not_after));
        assert!(content.not_before < content.not_after);
        assert_eq!(verified.bundle().encode(), data);
    }
}

#[test]
fn bundle_verify_corpus() {
    let files = replay("bundle_verify", check_bundle_verify);
    // The corpus must reach the deep checks: some seeds verify.
    let verified = files
        .iter()
        .filter(|(_, data)| {
            KeyBundle::decode(data)
                .and_then(|b| {
                    let now = b.content().not_before;
                    b.verify(&RegistrationPolicy::default(), now, None, &NoDirectory)
                })
                .is_ok()
        })
        .count();
    assert!(
        verified > 0,
        "no seed in fuzz/corpus/bundle_verify verifies"
    );
}

// ---- codec_reader ---------------------------------------------------------

/// Checks a fixed-size read that returned `got` (or failed) when `before`
/// bytes were left, starting at `pos` in `input`.
fn fixed(
    input: &[u8],
    pos: usize,
    before: usize,
    after: usize,
    n: usize,
    got: Result<&[u8], DecodeError>,
) {
    match got {
        Ok(bytes) => {
            assert!(before >= n);
            assert_eq!(before - after, n);
            assert_eq!(bytes, &input[pos..pos + n]);
        }
        Err(e) => {
            assert_eq!(e, DecodeError::Truncated);
            assert!(before < n, "read of {n} failed with {before} bytes left");
            assert_eq!(after, before, "a failed fixed-size read consumed input");
        }
    }
}

/// Checks a length-prefixed read with a `prefix`-byte length.
fn prefixed(
    input: &[u8],
    pos: usize,
    before: usize,
    after: usize,
    prefix: usize,
    got: Result<&[u8], DecodeError>,
) {
    match got {
        Ok(bytes) => {
            assert_eq!(before - after, prefix + bytes.len());
            let len_bytes = &input[pos..pos + prefix];
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            assert_eq!(bytes.len(), len);
            assert_eq!(bytes, &input[pos + prefix..pos + prefix + len]);
        }
        Err(e) => {
            assert_eq!(e, DecodeError::Truncated);
            // Either the prefix itself was short (nothing consumed) or the
            // body was (only the prefix consumed).
            assert!(after == before || before - after == prefix);
        }
    }
}

fn check_codec_reader(data: &[u8]) {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let (program, input) = rest.split_at(usize::from(k).min(rest.len()));
    let mut reader = Reader::new(input);
    for &op in program {
        let before = reader.remaining();
        let pos = input.len() - before;
        let param = usize::from(op >> 4);
        match op & 0x0f {
            0 => {
                let got = reader.u8().map(|v| v.to_be_bytes().to_vec());
                let after = reader.remaining();
                fixed(input, pos, before, after, 1, got.as_deref().map_err(|e| *e));
            }
            1 => {
                let got = reader.u16().map(|v| v.to_be_bytes().to_vec());
                let after = reader.remaining();
                fixed(input, pos, before, after, 2, got.as_deref().map_err(|e| *e));
            }
            2 => {
                let got = reader.u32().map(|v| v.to_be_bytes().to_vec());
                let after = reader.remaining();
                fixed(input, pos, before, after, 4, got.as_deref().map_err(|e| *e));
            }
            3 => {
                let got = reader.u64().map(|v| v.to_be_bytes().to_vec());
                let after = reader.remaining();
                fixed(input, pos, before, after, 8, got.as_deref().map_err(|e| *e));
            }
            4 => {
                let got = reader.bytes_u8();
                let after = reader.remaining();
                prefixed(input, pos, before, after, 1, got);
            }
            5 => {
                let got = reader.bytes_u32();
                let after = reader.remaining();
                prefixed(input, pos, before, after, 4, got);
            }
            6 => {
                let (n, got) = match param % 5 {
                    0 => (0, reader.array::<0>().map(|a| a.to_vec())),
                    1 => (1, reader.array::<1>().map(|a| a.to_vec())),
                    2 => (16, reader.array::<16>().map(|a| a.to_vec())),
                    3 => (32, reader.array::<32>().map(|a| a.to_vec())),
                    _ => (64, reader.array::<64>().map(|a| a.to_vec())),
                };
                let after = reader.remaining();
                fixed(input, pos, before, after, n, got.as_deref().map_err(|e| *e));
            }
            7 => {
                let n = match param {
                    15 => usize::MAX,
                    14 => before.saturating_add(1),
                    _ => param * 3,
                };
                let got = reader.take(n);
                let after = reader.remaining();
                fixed(input, pos, before, after, n, got);
            }
            8 => {
                let got = reader.rest();
                assert_eq!(got, &input[pos..]);
                assert_eq!(reader.remaining(), 0);
            }
            9 => {
                let ok = reader.finish().is_ok();
                assert_eq!(ok, before == 0);
                return;
            }
            _ => assert_eq!(reader.remaining(), before),
        }
        assert!(reader.remaining() <= before, "remaining() grew");
    }
    let left = reader.remaining();
    match reader.finish() {
        Ok(()) => assert_eq!(left, 0),
        Err(e) => {
            assert_eq!(e, DecodeError::TrailingBytes);
            assert!(left > 0);
        }
    }
}

#[test]
fn codec_reader_corpus() {
    replay("codec_reader", check_codec_reader);
}

// ---- sealing_key_checks ---------------------------------------------------

fn check_sealing_key_checks(data: &[u8]) {
    let Ok(bytes) = <&[u8; 64]>::try_from(data) else {
        return;
    };
    let (pk_bytes, sk_bytes) = bytes.split_at(32);
    let mut pk_arr = [0u8; 32];
    pk_arr.copy_from_slice(pk_bytes);
    let mut sk_arr = [0u8; 32];
    sk_arr.copy_from_slice(sk_bytes);

    let pk = SealingPublicKey::from_bytes(pk_arr);
    let canonical = pk.is_canonical();
    let small = pk.has_small_order();
    let expected = if !canonical {
        Err(KeyError::NonCanonicalSealingKey)
    } else if small {
        Err(KeyError::SmallOrderSealingKey)
    } else {
        Ok(())
    };
    assert_eq!(pk.validate(), expected);
    assert_eq!(pk.key_id(), SealingPublicKey::from_bytes(pk_arr).key_id());

    let sk = SealingSecretKey::from_bytes(&sk_arr);
    match sk.agree(&pk) {
        Ok(shared) => {
            assert!(!small, "agree succeeded for a small-order key {pk:?}");
            assert_ne!(shared.as_bytes(), &[0u8; 32]);
        }
        Err(e) => {
            assert_eq!(e, KeyError::NonContributory);
            assert!(
                small,
                "agree was non-contributory for a key not of small order {pk:?}"
            );
        }
    }
}

#[test]
fn sealing_key_checks_corpus() {
    let files = replay("sealing_key_checks", check_sealing_key_checks);
    // Only 64-byte inputs are checked; a corpus of other sizes would test nothing.
    assert!(
        files.iter().all(|(_, data)| data.len() == 64),
        "every seed in fuzz/corpus/sealing_key_checks must be 64 bytes"
    );
}

// ---- pairwise_header ------------------------------------------------------

fn check_pairwise_header(data: &[u8]) {
    let mut reader = Reader::new(data);
    let result = Header::decode(&mut reader);
    let consumed = data.len() - reader.remaining();
    let well_formed = data.len() >= HEADER_LEN && data[0] == VERSION && data[1] == KIND_PAIRWISE;
    match result {
        Ok(header) => {
            assert!(well_formed, "decoded a header from {} bytes", data.len());
            assert_eq!(
                consumed, HEADER_LEN,
                "a header is exactly {HEADER_LEN} bytes"
            );
            let encoded = header.encode();
            assert_eq!(
                &encoded[..],
                &data[..HEADER_LEN],
                "a decoded header must re-encode to the bytes it was read from"
            );
            assert_eq!(&header.bound_fields()[..], &data[..BOUND_FIELDS_LEN]);
            assert_eq!(
                header.content_type.code(),
                u16::from_be_bytes([data[2], data[3]]),
                "content types are carried through unchanged"
            );
            let mut again = Reader::new(&encoded);
            assert_eq!(Header::decode(&mut again), Ok(header));
            assert_eq!(again.remaining(), 0);
        }
        Err(e) => {
            assert!(!well_formed, "rejected a well-formed header: {e:?}");
            let expected = match data {
                [v, ..] if *v != VERSION => DecodeError::UnknownVersion(*v),
                [_, k, ..] if *k != KIND_PAIRWISE => DecodeError::InvalidValue,
                _ => DecodeError::Truncated,
            };
            assert_eq!(e, expected);
        }
    }
}

#[test]
fn pairwise_header_corpus() {
    let files = replay("pairwise_header", check_pairwise_header);
    // Some seeds must decode, so the re-encoding checks run.
    assert!(
        files
            .iter()
            .any(|(_, data)| Header::decode(&mut Reader::new(data)).is_ok()),
        "no seed in fuzz/corpus/pairwise_header decodes"
    );
}

// ---- pairwise_open --------------------------------------------------------

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
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
    bundle
        .verify(&RegistrationPolicy::default(), at, None, &NoDirectory)
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
        .seal(alice, rng, content_type, plaintext, ASSOCIATED_DATA[ad])
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
            .seal(&alice, &mut rng, ContentType::Text, b"", b"")
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
            .open(&bob, &m.sealed, ASSOCIATED_DATA[m.ad])
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

fn check_pairwise_open(data: &[u8]) {
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

    match session.open(&fx.bob, sealed, ad) {
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
            let replay = session.open(&fx.bob, sealed, ad).map(|_| ());
            assert_eq!(replay, Err(OpenError::Replay { counter }));
            assert_eq!(save(&session), after, "a replay changed the session state");
            let mut reloaded: Session = serde_json::from_slice(&after).expect("state reloads");
            let replay = reloaded.open(&fx.bob, sealed, ad).map(|_| ());
            assert_eq!(replay, Err(OpenError::Replay { counter }));
        }
    }
}

/// What opening a `pairwise_open` input gives: "Ok" or the error's name.
fn open_outcome(data: &[u8]) -> &'static str {
    let Some((&selector, sealed)) = data.split_first() else {
        return "empty input";
    };
    let fx = fixture();
    let ad = ASSOCIATED_DATA[usize::from(selector & 0x0f) % ASSOCIATED_DATA.len()];
    let saved = &fx.states[usize::from(selector >> 4) % fx.states.len()];
    let mut session: Session = serde_json::from_slice(saved).unwrap();
    match session.open(&fx.bob, sealed, ad) {
        Ok(_) => "Ok",
        Err(e) => e.name(),
    }
}

#[test]
fn pairwise_open_corpus() {
    let files = replay("pairwise_open", check_pairwise_open);
    // The seeds must stay valid (the fixture is deterministic) and reach every
    // outcome of `open` that the fixture allows.
    let outcomes: BTreeSet<&str> = files.iter().map(|(_, data)| open_outcome(data)).collect();
    for want in [
        "Ok",
        "Malformed",
        "UnsupportedVersion",
        "Reflected",
        "RetiredKey",
        "UnknownRecipientKey",
        "UnknownSenderKey",
        "Replay",
        "TooOld",
        "CommitmentMismatch",
        "AuthenticationFailed",
    ] {
        assert!(
            outcomes.contains(want),
            "no seed in fuzz/corpus/pairwise_open gives {want} (outcomes: {outcomes:?}); \
             if the fixture changed, regenerate the seeds (fuzz/README.md)"
        );
    }
}

/// Writes the seed corpora of `pairwise_open` and `pairwise_header` from the
/// fixture. Run after changing the fixture or the message format:
/// `cargo test --test fuzz_corpus -- --ignored regenerate_pairwise_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/pairwise_*; run by hand to regenerate the seeds"]
fn regenerate_pairwise_seeds() {
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
            ContentType::Text,
            b"hi Alice",
            ASSOCIATED_DATA[1],
        )
        .unwrap();
    let mut extended = c4.sealed.clone();
    extended.push(0);
    let len = c4.sealed.len();
    let open_seeds: Vec<(&str, Vec<u8>)> = vec![
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
    let header_seeds: Vec<(&str, Vec<u8>)> = vec![
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
    for (target, seeds) in [
        ("pairwise_open", open_seeds),
        ("pairwise_header", header_seeds),
    ] {
        let dir = corpus_dir(target);
        fs::create_dir_all(&dir).unwrap();
        for (name, data) in seeds {
            fs::write(dir.join(name), data).unwrap();
        }
    }
}

// ---- group_distribution ---------------------------------------------------

/// A copy of `fuzz/fuzz_targets/group_distribution.rs` (fixture and `check`),
/// then the corpus test and the seeds.
mod group_distribution {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    use letterseal::device::DeviceKeys;
    use letterseal::group::{
        Distribution, DistributionCore, EpochChange, GracePolicy, Group, GroupError, GroupId,
        Roster, wrap_associated_data, wrap_digest,
    };
    use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    use letterseal::pairwise::{ContentType, Session};
    use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy, VerifiedBundle};
    use letterseal::time::Timestamp;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    // ---- fixture (copied in tests/fuzz_corpus.rs) -----------------------------

    const T0: u64 = 1_800_000_000;
    const DAY: u64 = 86_400;
    const GROUP_ID: &[u8] = b"fuzz group";
    /// The `now` Bob processes at (`process` checks no validity window).
    const NOW: u64 = T0 + 600;

    /// What Bob processing a distribution at his saved state gave.
    struct Accepted {
        change: EpochChange,
        /// Bob's group and session states afterwards, serialized.
        group: Vec<u8>,
        session: Vec<u8>,
    }

    /// A distribution signed at setup.
    struct Signed {
        /// The full distribution, as sent to the server.
        full: Vec<u8>,
        /// The view fanned out to Bob (if he has a wrap).
        bob_view: Option<Vec<u8>>,
        /// The signed core, its signature and the wrap for Bob.
        core: Vec<u8>,
        signature: [u8; 64],
        bob_wrap: Option<Vec<u8>>,
        /// Bob processing his view (or the full distribution if he has none).
        at_bob: Result<Accepted, GroupError>,
    }

    struct Fixture {
        bob: DeviceKeys,
        /// Bob's group state (no epoch yet) and his session with Alice, serialized.
        group: Vec<u8>,
        session: Vec<u8>,
        signed: Vec<Signed>,
    }

    fn verified(bundle: KeyBundle, at: Timestamp) -> VerifiedBundle {
        bundle
            .verify(&RegistrationPolicy::default(), at, None, &NoDirectory)
            .expect("fixture bundle verifies")
    }

    fn device(rng: &mut ChaCha20Rng, user: &str, id: u32) -> (DeviceKeys, VerifiedBundle) {
        let t0 = Timestamp::from_unix_seconds(T0);
        let address = DeviceAddress::new(UserId::new(user).expect("user id"), DeviceId::new(id));
        let mut keys = DeviceKeys::generate(rng, address);
        let bundle = verified(keys.add_sealing_key(rng, t0, 30 * DAY), t0);
        (keys, bundle)
    }

    fn save_group(group: &Group) -> Vec<u8> {
        serde_json::to_vec(group).expect("group state serializes")
    }

    fn save_session(session: &Session) -> Vec<u8> {
        serde_json::to_vec(session).expect("session state serializes")
    }

    /// The wrap `member` processes (SPEC.md §8.2): the only one of a view, or
    /// its entry in a full list.
    fn wrap_for<'a>(d: &'a Distribution, member: &DeviceAddress) -> Option<&'a [u8]> {
        match d.wraps() {
            [only] => Some(only),
            all => {
                let i = d
                    .core()
                    .wrap_digests
                    .iter()
                    .position(|(a, _)| a == member)?;
                all.get(i).map(Vec::as_slice)
            }
        }
    }

    /// Alice, misbehaving, signs epoch `epoch` of `roster` with a well-formed
    /// wrap for every member but Bob, whose wrap carries `bob_content`.
    fn misdistribute(
        rng: &mut ChaCha20Rng,
        alice: &DeviceKeys,
        sessions: &mut BTreeMap<DeviceAddress, Session>,
        bob: &DeviceAddress,
        epoch: u64,
        roster: &Roster,
        bob_content: (ContentType, &[u8]),
    ) -> Distribution {
        let group_id = GroupId::new(GROUP_ID).expect("group id");
        let roster_hash = roster.hash(&group_id);
        let ad = wrap_associated_data(&group_id, epoch, &roster_hash);
        let secret = [0x5a; 32];
        let mut wraps = Vec::new();
        let mut wrap_digests = Vec::new();
        for member in roster.members() {
            if member.address == *alice.address() {
                continue;
            }
            let (content_type, plaintext) = if member.address == *bob {
                bob_content
            } else {
                (ContentType::GroupKey, &secret[..])
            };
            let wrap = sessions
                .get_mut(&member.address)
                .expect("Alice has a session with every member")
                .seal(alice, rng, content_type, plaintext, &ad)
                .expect("fixture wrap");
            wrap_digests.push((member.address.clone(), wrap_digest(&wrap)));
            wraps.push(wrap);
        }
        let core = DistributionCore {
            group_id,
            epoch,
            previous_epoch: epoch - 1,
            roster_hash,
            distributor: alice.address().clone(),
            roster: roster.clone(),
            wrap_digests,
        };
        Distribution::sign(core, wraps, alice.identity())
    }

    fn build_fixture() -> Fixture {
        let mut rng = ChaCha20Rng::from_seed([0x47; 32]);
        let t0 = Timestamp::from_unix_seconds(T0);
        let now = Timestamp::from_unix_seconds(NOW);
        let (alice, a) = device(&mut rng, "alice", 1);
        let (bob, b) = device(&mut rng, "bob", 2);
        let (carol, c) = device(&mut rng, "carol", 3);
        let group_id = GroupId::new(GROUP_ID).expect("group id");

        let mut at_alice = Group::new(
            group_id.clone(),
            alice.address().clone(),
            GracePolicy::default(),
        );
        let mut sessions = BTreeMap::new();
        let all = [a.clone(), b.clone(), c.clone()];
        let mut distributions = Vec::new();
        for (members, at) in [
            (&all[..], t0),
            (&[a.clone(), b.clone()][..], t0.saturating_add(60)),
            (&[a.clone(), c.clone()][..], t0.saturating_add(120)),
        ] {
            let (d, _) = at_alice
                .distribute(&mut rng, &alice, members, &mut sessions, at)
                .expect("fixture distribution");
            distributions.push(d);
        }
        let mut at_carol = Group::new(
            group_id.clone(),
            carol.address().clone(),
            GracePolicy::default(),
        );
        let (by_carol, _) = at_carol
            .distribute(&mut rng, &carol, &all, &mut BTreeMap::new(), t0)
            .expect("Carol's distribution");
        distributions.push(by_carol);
        let roster = Roster::from_bundles(&all).expect("roster");
        for (epoch, content) in [
            (4, (ContentType::Text, &[0x33; 32][..])),
            (5, (ContentType::GroupKey, &[0x34; 31][..])),
        ] {
            distributions.push(misdistribute(
                &mut rng,
                &alice,
                &mut sessions,
                bob.address(),
                epoch,
                &roster,
                content,
            ));
        }

        let group = save_group(&Group::new(
            group_id,
            bob.address().clone(),
            GracePolicy::default(),
        ));
        let session = save_session(&Session::new(&bob, &a).expect("session at Bob"));
        let signed = distributions
            .iter()
            .map(|d| {
                let bob_view = d.for_member(bob.address());
                let mut at_bob: Group = serde_json::from_slice(&group).expect("group loads");
                let mut with_alice: Session =
                    serde_json::from_slice(&session).expect("session loads");
                let at_bob = at_bob
                    .process(&bob, bob_view.as_ref().unwrap_or(d), &mut with_alice, now)
                    .map(|change| Accepted {
                        change,
                        group: save_group(&at_bob),
                        session: save_session(&with_alice),
                    });
                Signed {
                    full: d.encode(),
                    bob_view: bob_view.as_ref().map(Distribution::encode),
                    core: d.core().encode(),
                    signature: d.signature().to_bytes(),
                    bob_wrap: wrap_for(d, bob.address()).map(<[u8]>::to_vec),
                    at_bob,
                }
            })
            .collect::<Vec<_>>();
        let outcomes: Vec<_> = signed
            .iter()
            .map(|s| s.at_bob.as_ref().map(|a| a.change.epoch).map_err(|e| *e))
            .collect();
        assert_eq!(
            outcomes,
            [
                Ok(1),
                Ok(2),
                Err(GroupError::NotAMember),
                Err(GroupError::DistributorMismatch),
                Err(GroupError::InvalidWrap),
                Err(GroupError::InvalidWrap),
            ],
            "fixture outcomes at Bob"
        );
        Fixture {
            bob,
            group,
            session,
            signed,
        }
    }

    fn fixture() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(build_fixture)
    }

    // ---- check ----------------------------------------------------------------

    fn check(data: &[u8]) {
        let Ok(d) = Distribution::decode(data) else {
            return;
        };
        let fx = fixture();

        // Strict decoding: one encoding per distribution, and per core.
        assert_eq!(
            d.encode(),
            data,
            "a decoded distribution must re-encode to the input bytes"
        );
        let core = d.core().encode();
        let core_len = u32::try_from(core.len())
            .expect("core length")
            .to_be_bytes();
        assert!(
            data.get(..4) == Some(&core_len[..]) && data.get(4..4 + core.len()) == Some(&core[..]),
            "a decoded core must re-encode to the signed bytes"
        );
        let signature = d.signature().to_bytes();
        let epoch = d.core().epoch;

        // The server's check.
        let server = d.verify_for_server(None);
        let server_after_1 = d.verify_for_server(Some(1));
        if epoch > 1 {
            assert_eq!(server_after_1, server, "the last epoch changed the result");
        } else {
            assert!(server_after_1.is_err(), "epoch {epoch} is not after 1");
            if server.is_ok() {
                assert_eq!(server_after_1, Err(GroupError::StaleEpoch));
            }
        }
        if fx.signed.iter().any(|s| s.full == data) {
            assert_eq!(
                server,
                Ok(()),
                "the server refused a distribution made at setup"
            );
        } else {
            assert!(
                server.is_err(),
                "FORGERY: the server accepted a distribution nobody made: {d:?}"
            );
        }

        // Bob processes it.
        let mut group: Group = serde_json::from_slice(&fx.group).expect("saved group loads");
        let mut session: Session =
            serde_json::from_slice(&fx.session).expect("saved session loads");
        let now = Timestamp::from_unix_seconds(NOW);
        let bob = fx.bob.address();
        let bob_wrap = wrap_for(&d, bob);
        let signed = fx
            .signed
            .iter()
            .find(|s| s.core == core && s.signature == signature);
        match group.process(&fx.bob, &d, &mut session, now) {
            Ok(change) => {
                let Some(want) = signed
                    .filter(|s| s.bob_wrap.as_deref() == bob_wrap)
                    .and_then(|s| s.at_bob.as_ref().ok())
                else {
                    panic!("FORGERY: Bob accepted a distribution Alice never made: {change:?}");
                };
                assert!(
                    matches!(
                        server,
                        Ok(()) | Err(GroupError::WrapListMismatch | GroupError::WrapMismatch)
                    ),
                    "Bob accepted what the server refuses before the wraps: {server:?}"
                );
                assert_eq!(change, want.change, "epoch change");
                assert_eq!(
                    save_group(&group),
                    want.group,
                    "group state after processing"
                );
                assert_eq!(
                    save_session(&session),
                    want.session,
                    "session state after processing"
                );
                let again = group.process(&fx.bob, &d, &mut session, now);
                assert_eq!(again.err(), Some(GroupError::StaleEpoch));
                assert_eq!(
                    save_group(&group),
                    want.group,
                    "a replay changed the group state"
                );
                assert_eq!(
                    save_session(&session),
                    want.session,
                    "a replay changed the session state"
                );
            }
            Err(err) => {
                assert_eq!(
                    save_group(&group),
                    fx.group,
                    "a failed process ({err:?}) changed the group state"
                );
                assert!(
                    !fx.signed.iter().any(|s| s.at_bob.is_ok()
                        && (s.full == data || s.bob_view.as_deref() == Some(data))),
                    "a distribution Bob accepted at setup failed with {err:?}"
                );
                assert!(
                    !matches!(
                        err,
                        GroupError::InvalidGroupId
                            | GroupError::WrongDevice
                            | GroupError::Session(_)
                            | GroupError::Seal(_)
                    ),
                    "process failed with {err:?}"
                );
                if err == GroupError::InvalidWrap {
                    // The one state change SPEC.md §8.4 allows: the wrap's counter.
                    let Some(s) = signed.filter(|s| s.at_bob.as_ref().err() == Some(&err)) else {
                        panic!("FORGERY: a wrap Alice never sealed authenticated");
                    };
                    let wrap = bob_wrap.expect("an InvalidWrap has a wrap");
                    assert_eq!(s.bob_wrap.as_deref(), Some(wrap));
                    let mut alone: Session =
                        serde_json::from_slice(&fx.session).expect("saved session loads");
                    let c = d.core();
                    let ad = wrap_associated_data(&c.group_id, c.epoch, &c.roster_hash);
                    let opened = alone
                        .open(&fx.bob, wrap, &ad)
                        .expect("the wrap of an InvalidWrap opens");
                    assert!(
                        opened.content_type != ContentType::GroupKey
                            || opened.plaintext.len() != 32,
                        "InvalidWrap for a well-formed wrap"
                    );
                    assert_eq!(
                        save_session(&session),
                        save_session(&alone),
                        "InvalidWrap changed the session beyond the wrap's counter"
                    );
                } else {
                    assert_eq!(
                        save_session(&session),
                        fx.session,
                        "a failed process ({err:?}) changed the session state"
                    );
                }
            }
        }
    }

    // ---- test-only: corpus replay and seeds ---------------------------------

    use super::{BTreeSet, replay};

    /// What Bob processing a `group_distribution` input gives: "Ok", the
    /// error's name, or "undecodable".
    fn outcome(data: &[u8]) -> &'static str {
        let Ok(d) = Distribution::decode(data) else {
            return "undecodable";
        };
        let fx = fixture();
        let mut group: Group = serde_json::from_slice(&fx.group).unwrap();
        let mut session: Session = serde_json::from_slice(&fx.session).unwrap();
        match group.process(&fx.bob, &d, &mut session, Timestamp::from_unix_seconds(NOW)) {
            Ok(_) => "Ok",
            Err(e) => e.name(),
        }
    }

    /// What the server's check gives for a `group_distribution` input.
    fn server_outcome(data: &[u8]) -> &'static str {
        match Distribution::decode(data).map(|d| d.verify_for_server(None)) {
            Err(_) => "undecodable",
            Ok(Ok(())) => "Ok",
            Ok(Err(e)) => e.name(),
        }
    }

    #[test]
    fn group_distribution_corpus() {
        let files = replay("group_distribution", check);
        // The seeds must stay valid (the fixture is deterministic) and reach
        // every outcome of `process` the fixture allows but `StaleEpoch` (which
        // `check` reaches by processing an accepted distribution again).
        let outcomes: BTreeSet<&str> = files.iter().map(|(_, data)| outcome(data)).collect();
        for want in [
            "Ok",
            "undecodable",
            "WrongGroup",
            "RosterHashMismatch",
            "InvalidEpoch",
            "BadSignature",
            "DistributorMismatch",
            "NotAMember",
            "MissingWrap",
            "WrapMismatch",
            "InvalidWrap",
        ] {
            assert!(
                outcomes.contains(want),
                "no seed in fuzz/corpus/group_distribution gives {want} (outcomes: {outcomes:?}); \
                 if the fixture changed, regenerate the seeds (fuzz/README.md)"
            );
        }
        let server: BTreeSet<&str> = files.iter().map(|(_, data)| server_outcome(data)).collect();
        for want in ["Ok", "WrapListMismatch", "WrapMismatch"] {
            assert!(
                server.contains(want),
                "no seed in fuzz/corpus/group_distribution gives {want} at the server \
                 (outcomes: {server:?})"
            );
        }
    }

    /// The `group_distribution` seeds, from the fixture.
    pub(super) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
        let fx = fixture();
        let [d1, d2, d3, by_carol, bad_type, bad_len] = &fx.signed[..] else {
            panic!("six signed distributions");
        };
        let carol = DeviceAddress::new(UserId::new("carol").unwrap(), DeviceId::new(3));
        let flip = |bytes: &[u8], at: usize, mask: u8| {
            let mut v = bytes.to_vec();
            v[at] ^= mask;
            v
        };
        // lp32(core) ‖ signature ‖ u32(k) ‖ wraps; the core starts with
        // u8(version) ‖ u8(kind) ‖ lp8(group id) ‖ u64(epoch) ‖ u64(previous) ‖ roster hash.
        let signature_at = 4 + d1.core.len();
        let group_id_at = 4 + 3;
        let epoch_at = 4 + 3 + GROUP_ID.len();
        let roster_hash_at = epoch_at + 16;
        let carol_view = Distribution::decode(&d1.full)
            .unwrap()
            .for_member(&carol)
            .unwrap()
            .encode();
        let mut no_wrap = d1.full[..signature_at + 64].to_vec();
        no_wrap.extend_from_slice(&0u32.to_be_bytes());
        let mut epoch_0 = d1.full.clone();
        epoch_0[epoch_at..epoch_at + 8].fill(0);
        let last = d1.full.len() - 1;
        vec![
            ("d1_full", d1.full.clone()),
            ("d1_view_bob", d1.bob_view.clone().unwrap()),
            ("d1_view_carol", carol_view),
            ("d2_full_carol_removed", d2.full.clone()),
            ("d3_without_bob", d3.full.clone()),
            ("carol_distributor", by_carol.full.clone()),
            ("bad_wrap_type_full", bad_type.full.clone()),
            ("bad_wrap_len_view_bob", bad_len.bob_view.clone().unwrap()),
            ("mut_d1_carol_wrap_bit", flip(&d1.full, last, 0x01)),
            ("mut_d1_view_no_wrap", no_wrap),
            ("mut_d1_signature_bit", flip(&d1.full, signature_at, 0x01)),
            (
                "mut_d1_roster_hash_bit",
                flip(&d1.full, roster_hash_at, 0x01),
            ),
            ("mut_d1_group_id", flip(&d1.full, group_id_at, 0x01)),
            ("mut_d1_epoch_0", epoch_0),
            ("trunc_minus1", d1.full[..last].to_vec()),
        ]
    }
}

// ---- group_open -----------------------------------------------------------

/// A copy of `fuzz/fuzz_targets/group_open.rs` (fixture and `check`), then
/// the corpus test and the seeds.
mod group_open {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    use letterseal::codec::Reader;
    use letterseal::device::DeviceKeys;
    use letterseal::group::{
        GracePolicy, Group, GroupHeader, GroupId, GroupOpenError, KIND_GROUP_MESSAGE,
    };
    use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    use letterseal::keys::SIGNATURE_LEN;
    use letterseal::labels;
    use letterseal::pairwise::{ContentType, Session, VERSION, WINDOW_SIZE};
    use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy, VerifiedBundle};
    use letterseal::time::Timestamp;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    // ---- fixture (copied in tests/fuzz_corpus.rs) -----------------------------

    const T0: u64 = 1_800_000_000;
    const DAY: u64 = 86_400;
    const GROUP_ID: &[u8] = b"fuzz group";
    /// The associated-data variants; the selector's low nibble picks one.
    const ASSOCIATED_DATA: [&[u8]; 4] = [b"", b"chat 42", b"chat 43", &[0xa5; 200]];
    /// Alice's last epoch-1 counter (opened in S1).
    const FAR_COUNTER: u64 = 1030;
    /// When epoch 2 is made and processed (epoch 1 is superseded then).
    const EPOCH_2_AT: u64 = T0 + 3_600;
    /// The AEAD tag length.
    const TAG_LEN: usize = 16;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Kind {
        /// Sealed by `Group::seal`.
        Legit,
        /// Carol flipped a bit of the key commitment, then signed.
        BadCommitment,
        /// Carol flipped a bit of the AEAD tag, then signed.
        BadTag,
    }

    /// A message sealed at setup.
    struct Sent {
        kind: Kind,
        /// Index into `ASSOCIATED_DATA`.
        ad: usize,
        sealed: Vec<u8>,
        sender: DeviceAddress,
        epoch: u64,
        counter: u64,
        content_type: ContentType,
        plaintext: Vec<u8>,
    }

    /// A saved state of Bob's group, and what it holds.
    struct State {
        saved: Vec<u8>,
        /// The `now` messages are opened at.
        now: Timestamp,
        /// Epochs held, and those of them past their grace period at `now`.
        epochs: Vec<u64>,
        expired: Vec<u64>,
        /// Messages opened: (epoch, sender, counter).
        opened: Vec<(u64, DeviceAddress, u64)>,
    }

    struct Fixture {
        group_id: GroupId,
        bob: DeviceAddress,
        /// The members of each epoch.
        rosters: BTreeMap<u64, Vec<DeviceAddress>>,
        /// S0..S3.
        states: Vec<State>,
        sent: Vec<Sent>,
    }

    fn verified(bundle: KeyBundle, at: Timestamp) -> VerifiedBundle {
        bundle
            .verify(&RegistrationPolicy::default(), at, None, &NoDirectory)
            .expect("fixture bundle verifies")
    }

    fn device(rng: &mut ChaCha20Rng, user: &str, id: u32) -> (DeviceKeys, VerifiedBundle) {
        let t0 = Timestamp::from_unix_seconds(T0);
        let address = DeviceAddress::new(UserId::new(user).expect("user id"), DeviceId::new(id));
        let mut keys = DeviceKeys::generate(rng, address);
        let bundle = verified(keys.add_sealing_key(rng, t0, 30 * DAY), t0);
        (keys, bundle)
    }

    fn save(group: &Group) -> Vec<u8> {
        serde_json::to_vec(group).expect("group state serializes")
    }

    /// The length of the header `sealed` starts with.
    fn header_len(sealed: &[u8]) -> usize {
        let mut r = Reader::new(sealed);
        GroupHeader::decode(&mut r).expect("fixture header");
        sealed.len() - r.remaining()
    }

    fn seal(
        group: &mut Group,
        device: &DeviceKeys,
        rng: &mut ChaCha20Rng,
        ad: usize,
        content_type: ContentType,
        plaintext: &[u8],
    ) -> Sent {
        let sealed = group
            .seal(rng, device, content_type, plaintext, ASSOCIATED_DATA[ad])
            .expect("fixture seal");
        let header = GroupHeader::decode(&mut Reader::new(&sealed)).expect("fixture header");
        Sent {
            kind: Kind::Legit,
            ad,
            sealed,
            sender: device.address().clone(),
            epoch: header.epoch,
            counter: header.counter,
            content_type,
            plaintext: plaintext.to_vec(),
        }
    }

    /// `sent`, broken as `kind` says and signed again by `device`.
    fn break_and_sign(mut sent: Sent, device: &DeviceKeys, kind: Kind) -> Sent {
        let signed_len = sent.sealed.len() - SIGNATURE_LEN;
        let at = match kind {
            Kind::BadCommitment => header_len(&sent.sealed) - 1,
            Kind::BadTag | Kind::Legit => signed_len - TAG_LEN,
        };
        sent.sealed.truncate(signed_len);
        sent.sealed[at] ^= 0x01;
        let signature = device
            .identity()
            .sign_labeled(labels::sig::GROUP_MESSAGE, &sent.sealed);
        sent.sealed.extend_from_slice(&signature.to_bytes());
        sent.kind = kind;
        sent
    }

    fn build_fixture() -> Fixture {
        let mut rng = ChaCha20Rng::from_seed([0x67; 32]);
        let t0 = Timestamp::from_unix_seconds(T0);
        let (alice, a) = device(&mut rng, "alice", 1);
        let (bob, b) = device(&mut rng, "bob", 2);
        let (carol, c) = device(&mut rng, "carol", 3);
        let group_id = GroupId::new(GROUP_ID).expect("group id");
        let member = |keys: &DeviceKeys| {
            Group::new(
                group_id.clone(),
                keys.address().clone(),
                GracePolicy::default(),
            )
        };

        // Epoch 1: Alice distributes, Bob and Carol process.
        let mut at_alice = member(&alice);
        let mut at_bob = member(&bob);
        let mut at_carol = member(&carol);
        let mut sessions = BTreeMap::new();
        let (d1, _) = at_alice
            .distribute(
                &mut rng,
                &alice,
                &[a.clone(), b.clone(), c],
                &mut sessions,
                t0,
            )
            .expect("epoch 1");
        let mut bob_with_alice = Session::new(&bob, &a).expect("session at Bob");
        let mut carol_with_alice = Session::new(&carol, &a).expect("session at Carol");
        for (group, keys, session) in [
            (&mut at_bob, &bob, &mut bob_with_alice),
            (&mut at_carol, &carol, &mut carol_with_alice),
        ] {
            let view = d1.for_member(keys.address()).expect("a view");
            group
                .process(keys, &view, session, t0)
                .expect("epoch 1 processed");
        }

        let long: Vec<u8> = (0..300u16).map(|i| (i % 251) as u8).collect();
        let mut sent = vec![
            seal(
                &mut at_alice,
                &alice,
                &mut rng,
                0,
                ContentType::Text,
                b"hello group",
            ),
            seal(
                &mut at_alice,
                &alice,
                &mut rng,
                1,
                ContentType::Location,
                b"48.8584,2.2945",
            ),
            seal(
                &mut at_carol,
                &carol,
                &mut rng,
                2,
                ContentType::Application(0x8001),
                b"",
            ),
            seal(
                &mut at_carol,
                &carol,
                &mut rng,
                3,
                ContentType::from(0x1234),
                &long,
            ),
            seal(
                &mut at_alice,
                &alice,
                &mut rng,
                1,
                ContentType::Text,
                b"are you there?",
            ),
            seal(
                &mut at_bob,
                &bob,
                &mut rng,
                0,
                ContentType::Text,
                b"from Bob",
            ),
        ];
        // Messages Bob never receives, up to the far counter.
        for _ in 3..FAR_COUNTER {
            at_alice
                .seal(&mut rng, &alice, ContentType::Text, b"", b"")
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
        for kind in [Kind::BadCommitment, Kind::BadTag] {
            let m = seal(
                &mut at_carol,
                &carol,
                &mut rng,
                0,
                ContentType::Text,
                b"broken",
            );
            sent.push(break_and_sign(m, &carol, kind));
        }

        let now = t0.saturating_add(600);
        let mut states = vec![State {
            saved: save(&at_bob),
            now,
            epochs: vec![1],
            expired: vec![],
            opened: vec![],
        }];
        let mut opened = Vec::new();
        for (sender, counter) in [(alice.address(), FAR_COUNTER), (carol.address(), 1)] {
            let m = sent
                .iter()
                .find(|m| m.sender == *sender && m.counter == counter)
                .expect("sent");
            at_bob
                .open(&m.sealed, ASSOCIATED_DATA[m.ad], now)
                .expect("fixture message opens");
            opened.push((1, sender.clone(), counter));
        }
        states.push(State {
            saved: save(&at_bob),
            now,
            epochs: vec![1],
            expired: vec![],
            opened: opened.clone(),
        });

        // Epoch 2, without Carol.
        let at = Timestamp::from_unix_seconds(EPOCH_2_AT);
        let (d2, _) = at_alice
            .distribute(&mut rng, &alice, &[a, b], &mut sessions, at)
            .expect("epoch 2");
        let view = d2.for_member(bob.address()).expect("a view");
        at_bob
            .process(&bob, &view, &mut bob_with_alice, at)
            .expect("epoch 2 processed");
        sent.push(seal(
            &mut at_alice,
            &alice,
            &mut rng,
            2,
            ContentType::Text,
            b"after Carol left",
        ));
        for (later, expired) in [(600, vec![]), (2 * DAY, vec![1])] {
            states.push(State {
                saved: save(&at_bob),
                now: at.saturating_add(later),
                epochs: vec![1, 2],
                expired,
                opened: opened.clone(),
            });
        }
        // The fixture's own bookkeeping agrees with the group state.
        for state in &states {
            let mut group: Group = serde_json::from_slice(&state.saved).expect("state loads");
            assert_eq!(group.openable_epochs(), state.epochs);
            group.expire(state.now);
            let live: Vec<u64> = state
                .epochs
                .iter()
                .copied()
                .filter(|e| !state.expired.contains(e))
                .collect();
            assert_eq!(group.openable_epochs(), live);
        }
        let everyone = vec![
            alice.address().clone(),
            bob.address().clone(),
            carol.address().clone(),
        ];
        let rosters = BTreeMap::from([
            (1, everyone),
            (2, vec![alice.address().clone(), bob.address().clone()]),
        ]);
        Fixture {
            group_id,
            bob: bob.address().clone(),
            rosters,
            states,
            sent,
        }
    }

    fn fixture() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(build_fixture)
    }

    // ---- check ----------------------------------------------------------------

    /// The result SPEC.md §8.6 gives for `sealed` with associated data `ad` at
    /// `state`: `Ok(())` if it opens.
    fn expected_result(
        fx: &Fixture,
        state: &State,
        sealed: &[u8],
        ad: usize,
    ) -> Result<(), GroupOpenError> {
        use letterseal::codec::DecodeError::{InvalidValue, Truncated};
        match sealed {
            [] => return Err(GroupOpenError::Malformed(Truncated)),
            [v, ..] if *v != VERSION => return Err(GroupOpenError::UnsupportedVersion(*v)),
            [_] => return Err(GroupOpenError::Malformed(Truncated)),
            [_, k, ..] if *k != KIND_GROUP_MESSAGE => {
                return Err(GroupOpenError::Malformed(InvalidValue));
            }
            _ => {}
        }
        let mut r = Reader::new(sealed);
        let Ok(header) = GroupHeader::decode(&mut r) else {
            return Err(GroupOpenError::Malformed(Truncated));
        };
        let header_len = sealed.len() - r.remaining();
        assert_eq!(
            header.encode(),
            sealed[..header_len],
            "a decoded header must re-encode to the bytes it was read from"
        );
        if sealed.len() < header_len + TAG_LEN + SIGNATURE_LEN {
            return Err(GroupOpenError::Malformed(Truncated));
        }
        if header.group_id != fx.group_id {
            return Err(GroupOpenError::WrongGroup);
        }
        let epoch = header.epoch;
        if !state.epochs.contains(&epoch) {
            return Err(GroupOpenError::UnknownEpoch(epoch));
        }
        if state.expired.contains(&epoch) {
            return Err(GroupOpenError::EpochExpired(epoch));
        }
        if !fx.rosters[&epoch].contains(&header.sender) {
            return Err(GroupOpenError::UnknownSender);
        }
        if header.sender == fx.bob {
            return Err(GroupOpenError::OwnMessage);
        }
        let Some(m) = fx.sent.iter().find(|m| m.sealed == sealed) else {
            return Err(GroupOpenError::BadSignature);
        };
        let counter = header.counter;
        let seen = |c: u64| {
            state
                .opened
                .iter()
                .any(|(e, s, n)| *e == epoch && *s == header.sender && *n == c)
        };
        let highest = state
            .opened
            .iter()
            .filter(|(e, s, _)| *e == epoch && *s == header.sender)
            .map(|(_, _, n)| *n)
            .max();
        match highest {
            Some(h) if counter <= h && h - counter >= WINDOW_SIZE => {
                return Err(GroupOpenError::TooOld { counter });
            }
            _ if seen(counter) => return Err(GroupOpenError::Replay { counter }),
            _ => {}
        }
        match m.kind {
            Kind::BadCommitment => Err(GroupOpenError::CommitmentMismatch),
            Kind::BadTag => Err(GroupOpenError::AuthenticationFailed),
            Kind::Legit if m.ad != ad => Err(GroupOpenError::AuthenticationFailed),
            Kind::Legit => Ok(()),
        }
    }

    /// Errors are compared by variant for `Malformed` (SPEC.md names no finer
    /// reason) and exactly otherwise.
    fn same_error(got: &GroupOpenError, want: &GroupOpenError) -> bool {
        match (got, want) {
            (GroupOpenError::Malformed(_), GroupOpenError::Malformed(_)) => true,
            _ => got == want,
        }
    }

    fn check(data: &[u8]) {
        let Some((&selector, sealed)) = data.split_first() else {
            return;
        };
        let fx = fixture();
        let ad_index = usize::from(selector & 0x0f) % ASSOCIATED_DATA.len();
        let ad = ASSOCIATED_DATA[ad_index];
        let state = &fx.states[usize::from(selector >> 4) % fx.states.len()];
        let mut group: Group = serde_json::from_slice(&state.saved).expect("saved state loads");
        let expected = expected_result(fx, state, sealed, ad_index);

        match group.open(sealed, ad, state.now) {
            Err(err) => {
                assert_eq!(
                    save(&group),
                    state.saved,
                    "a failed open ({err:?}) changed the group state"
                );
                match &expected {
                    Err(want) => assert!(
                        same_error(&err, want),
                        "open failed with {err:?}, expected {want:?}"
                    ),
                    Ok(()) => panic!("open failed with {err:?}, expected it to open"),
                }
            }
            Ok(opened) => {
                let Some(legit) = fx
                    .sent
                    .iter()
                    .find(|m| m.kind == Kind::Legit && m.sealed == sealed && m.ad == ad_index)
                else {
                    panic!("FORGERY: a message nobody sealed opened: {opened:?}");
                };
                assert_eq!(
                    expected,
                    Ok(()),
                    "opened although {expected:?} was expected"
                );
                assert_ne!(opened.sender, fx.bob, "Bob opened his own message");
                assert_eq!(opened.sender, legit.sender);
                assert_eq!(opened.epoch, legit.epoch);
                assert_eq!(opened.content_type, legit.content_type);
                assert_eq!(opened.plaintext.as_slice(), legit.plaintext.as_slice());
                assert_eq!(opened.counter, legit.counter);
                let counter = opened.counter;
                let highest = state
                    .opened
                    .iter()
                    .filter(|(e, s, _)| *e == legit.epoch && *s == legit.sender)
                    .map(|(_, _, n)| *n)
                    .max();
                let (skipped, late) = match highest {
                    None => (counter, false),
                    Some(h) if counter > h => (counter - h - 1, false),
                    Some(_) => (0, true),
                };
                assert_eq!((opened.skipped, opened.late), (skipped, late), "gap report");

                let after = save(&group);
                assert_ne!(
                    after, state.saved,
                    "a successful open did not record the counter"
                );
                let replay = group.open(sealed, ad, state.now).map(|_| ());
                assert_eq!(replay, Err(GroupOpenError::Replay { counter }));
                assert_eq!(save(&group), after, "a replay changed the group state");
                let mut reloaded: Group = serde_json::from_slice(&after).expect("state reloads");
                let replay = reloaded.open(sealed, ad, state.now).map(|_| ());
                assert_eq!(replay, Err(GroupOpenError::Replay { counter }));
            }
        }
    }

    // ---- test-only: corpus replay and seeds ---------------------------------

    use super::{BTreeSet, replay};

    /// What opening a `group_open` input gives: "Ok" or the error's name.
    fn outcome(data: &[u8]) -> &'static str {
        let Some((&selector, sealed)) = data.split_first() else {
            return "empty input";
        };
        let fx = fixture();
        let ad = ASSOCIATED_DATA[usize::from(selector & 0x0f) % ASSOCIATED_DATA.len()];
        let state = &fx.states[usize::from(selector >> 4) % fx.states.len()];
        let mut group: Group = serde_json::from_slice(&state.saved).unwrap();
        match group.open(sealed, ad, state.now) {
            Ok(_) => "Ok",
            Err(e) => e.name(),
        }
    }

    #[test]
    fn group_open_corpus() {
        let files = replay("group_open", check);
        // The seeds must stay valid (the fixture is deterministic) and reach
        // every outcome of `open`.
        let outcomes: BTreeSet<&str> = files.iter().map(|(_, data)| outcome(data)).collect();
        for want in [
            "Ok",
            "Malformed",
            "UnsupportedVersion",
            "WrongGroup",
            "UnknownEpoch",
            "EpochExpired",
            "UnknownSender",
            "OwnMessage",
            "BadSignature",
            "Replay",
            "TooOld",
            "CommitmentMismatch",
            "AuthenticationFailed",
        ] {
            assert!(
                outcomes.contains(want),
                "no seed in fuzz/corpus/group_open gives {want} (outcomes: {outcomes:?}); \
                 if the fixture changed, regenerate the seeds (fuzz/README.md)"
            );
        }
    }

    /// The `group_open` seeds, from the fixture.
    pub(super) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
        let fx = fixture();
        let find = |user: &str, epoch: u64, counter: u64| -> &Sent {
            fx.sent
                .iter()
                .find(|m| {
                    m.sender.user.as_bytes() == user.as_bytes()
                        && m.epoch == epoch
                        && m.counter == counter
                })
                .unwrap()
        };
        // selector = state << 4 | associated-data index
        let input = |state: u8, m: &Sent, bytes: &[u8]| -> Vec<u8> {
            let mut v = vec![state << 4 | u8::try_from(m.ad).unwrap()];
            v.extend_from_slice(bytes);
            v
        };
        let legit = |state: u8, m: &Sent| input(state, m, &m.sealed);
        let flip = |m: &Sent, at: usize, mask: u8| -> Vec<u8> {
            let mut bytes = m.sealed.clone();
            bytes[at] ^= mask;
            input(0, m, &bytes)
        };
        let (a0, a1, a2, far) = (
            find("alice", 1, 0),
            find("alice", 1, 1),
            find("alice", 1, 2),
            find("alice", 1, FAR_COUNTER),
        );
        let (c0, c1, bad_commitment, bad_tag) = (
            find("carol", 1, 0),
            find("carol", 1, 1),
            find("carol", 1, 2),
            find("carol", 1, 3),
        );
        assert_eq!(
            (bad_commitment.kind, bad_tag.kind),
            (Kind::BadCommitment, Kind::BadTag)
        );
        let (e2, own) = (find("alice", 2, 0), find("bob", 1, 0));
        // header = u8(1) ‖ u8(2) ‖ u16(type) ‖ lp8(group id) ‖ u64(epoch)
        //        ‖ lp8(user) ‖ u32(device) ‖ u64(counter) ‖ salt ‖ commitment
        let group_id_at = 5;
        let epoch_last = 5 + GROUP_ID.len() + 7;
        let alice_device_last = epoch_last + 1 + 1 + "alice".len() + 3;
        let signature_at = a0.sealed.len() - SIGNATURE_LEN;
        let mut wrong_ad = legit(0, a0);
        wrong_ad[0] = 1;
        vec![
            ("legit_alice_c0", legit(0, a0)),
            ("legit_alice_c1_location", legit(0, a1)),
            ("legit_carol_c0_app_empty", legit(0, c0)),
            ("legit_carol_c1_unknown_type_long_ad", legit(0, c1)),
            ("legit_alice_c1030_control", legit(0, far)),
            ("s1_alice_c2_too_old", legit(1, a2)),
            ("s1_carol_c0_late", legit(1, c0)),
            ("s1_alice_c1030_replay", legit(1, far)),
            ("s2_alice_e2_c0", legit(2, e2)),
            ("s0_alice_e2_unknown_epoch", legit(0, e2)),
            ("s3_carol_c0_expired", legit(3, c0)),
            ("own_bob_c0", legit(0, own)),
            ("signed_bad_commitment", legit(0, bad_commitment)),
            ("signed_bad_tag", legit(0, bad_tag)),
            ("mut_wrong_ad", wrong_ad),
            ("mut_signature_bit", flip(a0, signature_at, 0x01)),
            (
                "mut_ciphertext_bit",
                flip(a0, signature_at - TAG_LEN - 1, 0x01),
            ),
            ("mut_group_id", flip(a0, group_id_at, 0x01)),
            ("mut_sender_device", flip(a0, alice_device_last, 0x02)),
            ("s2_carol_claims_epoch_2", {
                let mut v = flip(c0, epoch_last, 0x03);
                v[0] = 2 << 4 | u8::try_from(c0.ad).unwrap();
                v
            }),
            ("mut_version_2", flip(a0, 0, 0x03)),
            ("mut_kind_3", flip(a0, 1, 0x01)),
            (
                "trunc_header_only",
                input(
                    0,
                    a0,
                    &a0.sealed[..signature_at - TAG_LEN - "hello group".len()],
                ),
            ),
        ]
    }
}

/// Writes the seed corpora of `group_distribution` and `group_open` from
/// their fixtures. Run after changing a fixture, the distribution or the
/// group message format:
/// `cargo test --test fuzz_corpus -- --ignored regenerate_group_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/group_*; run by hand to regenerate the seeds"]
fn regenerate_group_seeds() {
    for (target, seeds) in [
        ("group_distribution", group_distribution::seeds()),
        ("group_open", group_open::seeds()),
    ] {
        let dir = corpus_dir(target);
        fs::create_dir_all(&dir).unwrap();
        for (name, data) in seeds {
            fs::write(dir.join(name), data).unwrap();
        }
    }
}
