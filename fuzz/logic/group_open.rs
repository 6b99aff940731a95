//! Fuzz target: `Group::open` at a member of an established group (SPEC.md
//! §8.8–8.10).
//!
//! A fixture is built once, deterministically (a fixed ChaCha20 seed), so the
//! checked-in seeds stay valid: devices Alice (`alice`/1), Bob (`bob`/2) and
//! Carol (`carol`/3), bundles verified with `NoDirectory`; Alice distributes
//! epoch 1 to all three, and Bob and Carol process it. Then the messages of
//! the *sent* table are sealed: in epoch 1, Alice's counters 0–2003 and
//! Carol's counters 0, 1 and 4 (the *legitimate* messages, each with one of
//! the associated-data variants), Bob's counter 0 (his own), Carol's
//! counters 2 and 3, which she, misbehaving, signed after breaking them (a
//! flipped key commitment; a flipped tag), and one Alice sealed in *another*
//! epoch 1 she signed on the side (a fork: another transcript, so another
//! epoch tag). Alice then makes epoch 2 for {Alice, Bob} (Carol removed; the
//! default grace policy keeps epoch 1 for a day), Bob processes it, and
//! Alice seals counter 0 of epoch 2. Bob's group state is exported (a sealed
//! blob under a fixed storage key) four times, each with the `now` it is
//! opened at:
//!
//! - S0: after epoch 1, nothing opened (Alice's counter 1000 skips
//!   `MAX_GROUP_SKIP` = 1 000 counters and opens, 1001 is `TooManySkipped`);
//! - S1: S0 after opening Alice's 0, 1000 and 2000 and Carol's 1: the epoch
//!   stores 1 999 skipped secrets, one below `MAX_GROUP_SKIPPED` (Alice's
//!   2002 fills it, 2003 and Carol's 4 are `TooManySkipped`); Alice's 0 is
//!   `TooOld` (below her window), 1000 and 2000 are `Replay`, the stored
//!   ones open late, also below the window (500);
//! - S2: S0 after opening Alice's 0 and 2, then processing epoch 2 (Carol's
//!   epoch-1 messages are `SenderRemoved`, Alice's 1 opens late in grace);
//! - S3: S2 two days later (epoch 1 has expired).
//!
//! Input: `selector ‖ message`. The selector's low nibble (mod 4) picks the
//! associated data, its high nibble (mod 4) the saved state. Checks:
//!
//! - `open` never panics, and the header decoder is strict (a decoded header
//!   re-encodes to the bytes it was read from);
//! - the result is predicted from the bytes and the fixture, following the
//!   order of SPEC.md §8.9: format, group, epoch held, grace period, sender in
//!   the epoch's roster, not Bob, still a member for a superseded epoch
//!   (`SenderRemoved`), the signature (only messages of the sent table
//!   verify: anything else is `BadSignature`), the epoch tag (`ForkedEpoch`
//!   for the forked message only), then check 10 from a model of each
//!   epoch's receiving chains and stored skipped secrets (`EpochModel`): a
//!   counter below the sender's next opens late from a stored secret, else
//!   is `Replay` when it was opened and is in the window, `TooOld` otherwise;
//!   a counter at or above it is `TooManySkipped` when it skips more than
//!   `MAX_GROUP_SKIP` or would leave more than `MAX_GROUP_SKIPPED` stored in
//!   the epoch; then `CommitmentMismatch` or `AuthenticationFailed` for
//!   Carol's broken messages and for the wrong associated data, else
//!   success;
//! - a failed open leaves the exported group state byte-identical (the
//!   payload of a fresh export; the generation is not compared);
//! - a message that opens is a legitimate message, byte for byte, with its
//!   associated data (anything else is a **forgery**), with the right sender,
//!   epoch, content type, plaintext, counter and gap report (`skipped`,
//!   `late`, from the model); opening it again, before or after exporting
//!   and importing the state, fails as the model says after the open (`Replay`,
//!   or `TooOld` for a late open below the window) and changes nothing.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/group_open.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`.
//! The seeds in `fuzz/corpus/group_open/` are generated from the fixture
//! (`seeds` below): a change to the fixture, or to anything its bytes depend
//! on, needs them regenerated (`cargo test -p letterseal-repo-tests --test fuzz_corpus -- --ignored
//! regenerate_group_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use letterseal::codec::Reader;
use letterseal::device::DeviceKeys;
use letterseal::group::{
    GROUP_BLOB_VERSION, GROUP_VERSION, GracePolicy, Group, GroupHeader, GroupId, GroupOpenError,
    KIND_GROUP_MESSAGE, MAX_GROUP_SKIP, MAX_GROUP_SKIPPED, Processed,
};
use letterseal::ids::DeviceAddress;
use letterseal::keys::SIGNATURE_LEN;
use letterseal::labels;
use letterseal::pairwise::{ContentType, Session, WINDOW_SIZE};
use letterseal::state::{self, StateKind, StorageKey};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::fixture::{DAY, T0, TAG_LEN, device};

// ---- fixture ----------------------------------------------------------------

const GROUP_ID: &[u8] = b"fuzz group";
/// The associated-data variants; the selector's low nibble picks one.
const ASSOCIATED_DATA: [&[u8]; 4] = [b"", b"chat 42", b"chat 43", &[0xa5; 200]];
/// Alice's last epoch-1 counter: she seals 0..=ALICE_LAST.
const ALICE_LAST: u64 = 2_003;
/// Alice's epoch-1 counters Bob opens for S1, in this order: a first
/// message, then two skips of 999 (1 998 secrets stored).
const S1_ALICE: [u64; 3] = [0, 1_000, 2_000];
/// Carol's epoch-1 counter Bob opens for S1 (her counter 0 is stored: the
/// epoch then holds 1 999 skipped secrets, one below `MAX_GROUP_SKIPPED`).
const S1_CAROL: u64 = 1;
/// Alice's epoch-1 counters Bob opens for S2 (counter 1 is stored).
const S2_ALICE: [u64; 2] = [0, 2];
/// When epoch 2 is made and processed (epoch 1 is superseded then).
const EPOCH_2_AT: u64 = T0 + 3_600;
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Sealed by `Group::seal`.
    Legit,
    /// Carol flipped a bit of the key commitment, then signed.
    BadCommitment,
    /// Carol flipped a bit of the AEAD tag, then signed.
    BadTag,
    /// Sealed by Alice in another epoch 1 (another transcript).
    Forked,
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

/// A model of one sender's receiving chain in one epoch (SPEC.md §8.9 check
/// 10, the window of §12.2).
#[derive(Clone, Default)]
struct ChainModel {
    /// The counter after the highest opened.
    next: u64,
    /// Every counter opened (also those opened late below the window).
    opened: BTreeSet<u64>,
}

/// A model of what one epoch of Bob's state holds for opening.
#[derive(Clone, Default)]
struct EpochModel {
    /// By sender; a sender has a chain once a message of it opened.
    chains: BTreeMap<DeviceAddress, ChainModel>,
    /// The stored skipped secrets: (sender, counter).
    skipped: BTreeSet<(DeviceAddress, u64)>,
}

impl EpochModel {
    /// Check 10 of SPEC.md §8.9 for `sender`'s `counter`: the gap report
    /// (secrets stored as skipped, opened late) if the secret is available.
    fn check(&self, sender: &DeviceAddress, counter: u64) -> Result<(u64, bool), GroupOpenError> {
        let next = match self.chains.get(sender) {
            Some(chain) if counter < chain.next => {
                if self.skipped.contains(&(sender.clone(), counter)) {
                    return Ok((0, true));
                }
                // `next` is the highest opened plus one, here at least 1.
                let highest = chain.next - 1;
                let in_window = highest - counter < WINDOW_SIZE;
                return Err(if in_window && chain.opened.contains(&counter) {
                    GroupOpenError::Replay { counter }
                } else {
                    GroupOpenError::TooOld { counter }
                });
            }
            Some(chain) => chain.next,
            None => 0,
        };
        let skip = counter - next;
        let stored = usize::try_from(skip)
            .unwrap_or(usize::MAX)
            .saturating_add(self.skipped.len());
        if skip > MAX_GROUP_SKIP || stored > MAX_GROUP_SKIPPED {
            return Err(GroupOpenError::TooManySkipped);
        }
        Ok((skip, false))
    }

    /// Records that `sender`'s `counter` opened (it must be allowed).
    fn apply(&mut self, sender: &DeviceAddress, counter: u64) -> (u64, bool) {
        let (skip, late) = self
            .check(sender, counter)
            .expect("the model allows the open it records");
        if late {
            self.skipped.remove(&(sender.clone(), counter));
        } else {
            for c in counter - skip..counter {
                self.skipped.insert((sender.clone(), c));
            }
        }
        let chain = self.chains.entry(sender.clone()).or_default();
        chain.next = chain.next.max(counter + 1);
        chain.opened.insert(counter);
        (skip, late)
    }
}

/// A saved state of Bob's group, and what it holds.
struct State {
    /// The exported blob, and its payload.
    blob: Vec<u8>,
    payload: Vec<u8>,
    /// The `now` messages are opened at.
    now: Timestamp,
    /// Epochs held, and those of them past their grace period at `now`.
    epochs: Vec<u64>,
    expired: Vec<u64>,
    /// The model of each held epoch.
    models: BTreeMap<u64, EpochModel>,
}

struct Fixture {
    group_id: GroupId,
    bob: DeviceAddress,
    /// The members of each epoch.
    rosters: BTreeMap<u64, Vec<DeviceAddress>>,
    /// S0..S3.
    states: Vec<State>,
    sent: Vec<Sent>,
    /// Index into `sent` by the sealed bytes.
    by_bytes: HashMap<Vec<u8>, usize>,
}

/// The storage key Bob's states are exported under.
fn storage_key() -> StorageKey {
    StorageKey::from_bytes([0x4f; 32])
}

/// Exports `group` (randomness from a fixed seed, apart from the fixture's):
/// the blob and its payload (the state's bytes, SPEC.md §8.11, without the
/// generation).
fn export(group: &mut Group) -> (Vec<u8>, Vec<u8>) {
    let key = storage_key();
    let mut rng = ChaCha20Rng::from_seed([0x11; 32]);
    let blob = group
        .export(&mut rng, &key)
        .expect("group state exports")
        .into_bytes();
    let payload = state::open_raw(StateKind::Group, GROUP_BLOB_VERSION, &key, &blob, 0)
        .expect("an exported state opens")
        .0
        .to_vec();
    (blob, payload)
}

fn load(blob: &[u8]) -> Group {
    Group::import(&storage_key(), blob, 0).expect("saved state imports")
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
        Kind::BadTag | Kind::Legit | Kind::Forked => signed_len - TAG_LEN,
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

/// Bob opens the legitimate epoch-1 messages `opens` in `group`, checking
/// each gap report against `model`.
fn open_at_setup(
    group: &mut Group,
    model: &mut EpochModel,
    sent: &[Sent],
    opens: &[(&DeviceAddress, u64)],
    now: Timestamp,
) {
    for &(sender, counter) in opens {
        let m = sent
            .iter()
            .find(|m| m.kind == Kind::Legit && m.sender == *sender && m.counter == counter)
            .expect("sent");
        let opened = group
            .open(&m.sealed, ASSOCIATED_DATA[m.ad], now)
            .expect("fixture message opens");
        let gap = model.apply(sender, counter);
        assert_eq!((opened.skipped, opened.late), gap, "fixture gap report");
    }
}

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0x67; 32]);
    let t0 = Timestamp::from_unix_seconds(T0);
    let (alice, a) = device(&mut rng, "alice", 1);
    let (mut bob, b) = device(&mut rng, "bob", 2);
    let (mut carol, c) = device(&mut rng, "carol", 3);
    let group_id = GroupId::new(GROUP_ID).expect("group id");
    let member = |keys: &DeviceKeys| {
        Group::new(
            group_id.clone(),
            keys.address().clone(),
            GracePolicy::default(),
        )
    };

    // Epoch 1: Alice proposes, commits, Bob and Carol process their views.
    let mut at_alice = member(&alice);
    let mut at_bob = member(&bob);
    let mut at_carol = member(&carol);
    let mut sessions = BTreeMap::new();
    let p1 = at_alice
        .propose(
            &mut rng,
            &alice,
            &[a.clone(), b.clone(), c.clone()],
            None,
            &mut sessions,
            t0,
        )
        .expect("epoch 1");
    let v1 = p1
        .upload
        .verify_for_server(None, alice.address())
        .expect("server accepts epoch 1");
    at_alice.commit(t0).expect("epoch 1 committed");
    let session_with = |keys: &DeviceKeys| {
        BTreeMap::from([(
            alice.address().clone(),
            Session::new(keys, &a).expect("session with Alice"),
        )])
    };
    let mut bob_sessions = session_with(&bob);
    let mut carol_sessions = session_with(&carol);
    for (group, keys, sessions) in [
        (&mut at_bob, &mut bob, &mut bob_sessions),
        (&mut at_carol, &mut carol, &mut carol_sessions),
    ] {
        let view = v1.view_for(keys.address()).expect("a view");
        assert!(matches!(
            group.process(keys, &view, sessions, t0),
            Ok(Processed::Installed { .. })
        ));
    }
    // Alice signs another epoch 1 of the group on the side: a fork.
    let mut forked_alice = member(&alice);
    forked_alice
        .propose(
            &mut rng,
            &alice,
            &[a.clone(), b.clone(), c],
            None,
            &mut BTreeMap::new(),
            t0,
        )
        .expect("forked epoch 1");
    forked_alice.commit(t0).expect("forked epoch 1 committed");

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
    // Alice's counters 3..=ALICE_LAST, each with its own plaintext; every
    // 250th a control message.
    for counter in 3..=ALICE_LAST {
        let content_type = if counter % 250 == 0 {
            ContentType::Control
        } else {
            ContentType::Text
        };
        let ad = usize::try_from(counter % 4).expect("small");
        let plaintext = format!("alice {counter}");
        sent.push(seal(
            &mut at_alice,
            &alice,
            &mut rng,
            ad,
            content_type,
            plaintext.as_bytes(),
        ));
    }
    let mut forked = seal(
        &mut forked_alice,
        &alice,
        &mut rng,
        0,
        ContentType::Text,
        b"from my epoch 1",
    );
    forked.kind = Kind::Forked;
    sent.push(forked);
    // Carol's counters 2 and 3 broken, 4 legitimate.
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
    sent.push(seal(
        &mut at_carol,
        &carol,
        &mut rng,
        1,
        ContentType::Text,
        b"over the cap",
    ));

    // S0: epoch 1, nothing opened.
    let now = t0.saturating_add(600);
    let (s0, payload) = export(&mut at_bob);
    let mut states = vec![State {
        blob: s0.clone(),
        payload,
        now,
        epochs: vec![1],
        expired: vec![],
        models: BTreeMap::from([(1, EpochModel::default())]),
    }];

    // S1: a copy of S0 that opens Alice's 0, 1000, 2000 and Carol's 1.
    let mut heavy = load(&s0);
    let mut model = EpochModel::default();
    let mut opens: Vec<(&DeviceAddress, u64)> =
        S1_ALICE.iter().map(|&n| (alice.address(), n)).collect();
    opens.push((carol.address(), S1_CAROL));
    open_at_setup(&mut heavy, &mut model, &sent, &opens, now);
    assert_eq!(model.skipped.len(), MAX_GROUP_SKIPPED - 1);
    let (blob, payload) = export(&mut heavy);
    states.push(State {
        blob,
        payload,
        now,
        epochs: vec![1],
        expired: vec![],
        models: BTreeMap::from([(1, model)]),
    });

    // S2, S3: S0 opens Alice's 0 and 2, then epoch 2 without Carol.
    let mut model = EpochModel::default();
    let opens: Vec<(&DeviceAddress, u64)> =
        S2_ALICE.iter().map(|&n| (alice.address(), n)).collect();
    open_at_setup(&mut at_bob, &mut model, &sent, &opens, now);
    let at = Timestamp::from_unix_seconds(EPOCH_2_AT);
    let p2 = at_alice
        .propose(&mut rng, &alice, &[a, b], None, &mut sessions, at)
        .expect("epoch 2");
    let v2 = p2
        .upload
        .verify_for_server(Some(&v1.record()), alice.address())
        .expect("server accepts epoch 2");
    at_alice.commit(at).expect("epoch 2 committed");
    let view = v2.view_for(bob.address()).expect("a view");
    at_bob
        .process(&mut bob, &view, &mut bob_sessions, at)
        .expect("epoch 2 processed");
    sent.push(seal(
        &mut at_alice,
        &alice,
        &mut rng,
        2,
        ContentType::Text,
        b"after Carol left",
    ));
    let (blob, payload) = export(&mut at_bob);
    for (later, expired) in [(600, vec![]), (2 * DAY, vec![1])] {
        states.push(State {
            blob: blob.clone(),
            payload: payload.clone(),
            now: at.saturating_add(later),
            epochs: vec![1, 2],
            expired,
            models: BTreeMap::from([(1, model.clone()), (2, EpochModel::default())]),
        });
    }
    // The fixture's own bookkeeping agrees with the group state.
    for state in &states {
        let mut group = load(&state.blob);
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
    let by_bytes = sent
        .iter()
        .enumerate()
        .map(|(i, m)| (m.sealed.clone(), i))
        .collect();
    Fixture {
        group_id,
        bob: bob.address().clone(),
        rosters,
        states,
        sent,
        by_bytes,
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

// ---- check ----------------------------------------------------------------

/// The result SPEC.md §8.9 gives for `sealed` with associated data `ad` at
/// `state`: the gap report (skipped, late) if it opens.
fn expected_result(
    fx: &Fixture,
    state: &State,
    sealed: &[u8],
    ad: usize,
) -> Result<(u64, bool), GroupOpenError> {
    use letterseal::codec::DecodeError::{InvalidValue, Truncated};
    match sealed {
        [] => return Err(GroupOpenError::Malformed(Truncated)),
        [v, ..] if *v != GROUP_VERSION => return Err(GroupOpenError::UnsupportedVersion(*v)),
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
    let current = state.epochs.last().copied().unwrap_or(0);
    if epoch != current && !fx.rosters[&current].contains(&header.sender) {
        return Err(GroupOpenError::SenderRemoved);
    }
    let Some(m) = fx.by_bytes.get(sealed).map(|&i| &fx.sent[i]) else {
        return Err(GroupOpenError::BadSignature);
    };
    if m.kind == Kind::Forked {
        return Err(GroupOpenError::ForkedEpoch(epoch));
    }
    let gap = state.models[&epoch].check(&header.sender, header.counter)?;
    match m.kind {
        Kind::BadCommitment => Err(GroupOpenError::CommitmentMismatch),
        Kind::BadTag => Err(GroupOpenError::AuthenticationFailed),
        Kind::Legit if m.ad != ad => Err(GroupOpenError::AuthenticationFailed),
        Kind::Legit => Ok(gap),
        Kind::Forked => Err(GroupOpenError::ForkedEpoch(epoch)),
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

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Some((&selector, sealed)) = data.split_first() else {
        return;
    };
    let fx = fixture();
    let ad_index = usize::from(selector & 0x0f) % ASSOCIATED_DATA.len();
    let ad = ASSOCIATED_DATA[ad_index];
    let state = &fx.states[usize::from(selector >> 4) % fx.states.len()];
    let mut group = load(&state.blob);
    let expected = expected_result(fx, state, sealed, ad_index);

    match group.open(sealed, ad, state.now) {
        Err(err) => {
            assert_eq!(
                export(&mut group).1,
                state.payload,
                "a failed open ({err:?}) changed the group state"
            );
            match &expected {
                Err(want) => assert!(
                    same_error(&err, want),
                    "open failed with {err:?}, expected {want:?}"
                ),
                Ok(_) => panic!("open failed with {err:?}, expected it to open"),
            }
        }
        Ok(opened) => {
            let Some(legit) = fx
                .by_bytes
                .get(sealed)
                .map(|&i| &fx.sent[i])
                .filter(|m| m.kind == Kind::Legit && m.ad == ad_index)
            else {
                panic!("FORGERY: a message nobody sealed opened: {opened:?}");
            };
            let Ok(gap) = expected else {
                panic!("opened although {expected:?} was expected");
            };
            assert_ne!(opened.sender, fx.bob, "Bob opened his own message");
            assert_eq!(opened.sender, legit.sender);
            assert_eq!(opened.epoch, legit.epoch);
            assert_eq!(opened.content_type, legit.content_type);
            assert_eq!(opened.plaintext.as_slice(), legit.plaintext.as_slice());
            assert_eq!(opened.counter, legit.counter);
            assert_eq!((opened.skipped, opened.late), gap, "gap report");

            let (after_blob, after) = export(&mut group);
            assert_ne!(
                after, state.payload,
                "a successful open did not record the counter"
            );
            // Opening it again: `Replay` inside the window, `TooOld` below
            // it (a late open below the window leaves no trace but the
            // deleted secret), as the model says after this open.
            let counter = opened.counter;
            let mut model = state.models[&legit.epoch].clone();
            model.apply(&legit.sender, counter);
            let again = model.check(&legit.sender, counter).map(|_| ());
            assert!(
                matches!(
                    again,
                    Err(GroupOpenError::Replay { .. } | GroupOpenError::TooOld { .. })
                ),
                "the model lets a message open twice: {again:?}"
            );
            let replay = group.open(sealed, ad, state.now).map(|_| ());
            assert_eq!(replay, again, "opening it again");
            assert_eq!(
                export(&mut group).1,
                after,
                "a replay changed the group state"
            );
            let mut reloaded = load(&after_blob);
            let replay = reloaded.open(sealed, ad, state.now).map(|_| ());
            assert_eq!(replay, again, "opening it again after a reload");
        }
    }
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// What opening a `group_open` input gives: "Ok" or the error's name.
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> &'static str {
    let Some((&selector, sealed)) = data.split_first() else {
        return "empty input";
    };
    let fx = fixture();
    let ad = ASSOCIATED_DATA[usize::from(selector & 0x0f) % ASSOCIATED_DATA.len()];
    let state = &fx.states[usize::from(selector >> 4) % fx.states.len()];
    let mut group = load(&state.blob);
    match group.open(sealed, ad, state.now) {
        Ok(opened) if opened.late => "Ok late",
        Ok(_) => "Ok",
        Err(e) => e.name(),
    }
}

/// The `group_open` seeds, from the fixture.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let fx = fixture();
    let find = |user: &str, epoch: u64, counter: u64| -> &Sent {
        fx.sent
            .iter()
            .find(|m| {
                m.sender.user.as_bytes() == user.as_bytes()
                    && m.epoch == epoch
                    && m.counter == counter
                    && m.kind != Kind::Forked
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
    let alice = |state: u8, counter: u64| legit(state, find("alice", 1, counter));
    let flip = |m: &Sent, at: usize, mask: u8| -> Vec<u8> {
        let mut bytes = m.sealed.clone();
        bytes[at] ^= mask;
        input(0, m, &bytes)
    };
    let a0 = find("alice", 1, 0);
    let (c0, c1, bad_commitment, bad_tag, c4) = (
        find("carol", 1, 0),
        find("carol", 1, 1),
        find("carol", 1, 2),
        find("carol", 1, 3),
        find("carol", 1, 4),
    );
    assert_eq!(
        (bad_commitment.kind, bad_tag.kind),
        (Kind::BadCommitment, Kind::BadTag)
    );
    let forked = fx.sent.iter().find(|m| m.kind == Kind::Forked).unwrap();
    let (e2, own) = (find("alice", 2, 0), find("bob", 1, 0));
    // header = u8(2) ‖ u8(2) ‖ u16(type) ‖ lp8(group id) ‖ u64(epoch) ‖ epoch tag (16)
    //        ‖ lp8(user) ‖ u32(device) ‖ u64(counter) ‖ salt ‖ commitment
    let group_id_at = 5;
    let epoch_last = 5 + GROUP_ID.len() + 7;
    let tag_at = epoch_last + 1;
    let alice_device_last = epoch_last + 16 + 1 + 1 + "alice".len() + 3;
    let signature_at = a0.sealed.len() - SIGNATURE_LEN;
    let mut wrong_ad = legit(0, a0);
    wrong_ad[0] = 1;
    vec![
        ("legit_alice_c0", alice(0, 0)),
        ("legit_alice_c1_location", alice(0, 1)),
        ("legit_carol_c0_app_empty", legit(0, c0)),
        ("legit_carol_c1_unknown_type_long_ad", legit(0, c1)),
        ("s0_alice_c1000_skips_1000", alice(0, 1_000)),
        ("s0_alice_c1001_too_many_skipped", alice(0, 1_001)),
        ("s1_alice_c0_too_old", alice(1, 0)),
        ("s1_alice_c1000_replay", alice(1, 1_000)),
        ("s1_alice_c2000_replay", alice(1, 2_000)),
        ("s1_alice_c500_late_below_window", alice(1, 500)),
        ("s1_alice_c1500_late_in_window", alice(1, 1_500)),
        ("s1_alice_c1999_late", alice(1, 1_999)),
        ("s1_carol_c0_late", legit(1, c0)),
        ("s1_alice_c2001_next", alice(1, 2_001)),
        ("s1_alice_c2002_fills_the_epoch", alice(1, 2_002)),
        ("s1_alice_c2003_epoch_full", alice(1, 2_003)),
        ("s1_carol_c4_epoch_full", legit(1, c4)),
        ("s1_signed_bad_commitment", legit(1, bad_commitment)),
        ("s1_signed_bad_tag", legit(1, bad_tag)),
        ("s2_alice_e2_c0", legit(2, e2)),
        ("s2_alice_c1_late_in_grace", alice(2, 1)),
        ("s2_alice_c2_replay_in_grace", alice(2, 2)),
        ("s0_alice_e2_unknown_epoch", legit(0, e2)),
        ("s3_carol_c0_expired", legit(3, c0)),
        ("s3_alice_c1_expired", alice(3, 1)),
        ("s2_carol_c0_removed", legit(2, c0)),
        ("forked_alice_epoch_1", legit(0, forked)),
        ("mut_epoch_tag", flip(a0, tag_at, 0x01)),
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
        ("mut_version_1", flip(a0, 0, 0x03)),
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
