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
