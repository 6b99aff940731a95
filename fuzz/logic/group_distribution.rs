//! Fuzz target: `Distribution::decode`, the server's check and a member's
//! `Group::process` (SPEC.md §8.4–8.7).
//!
//! A fixture is built once, deterministically (ChaCha20 seed `[0x47; 32]`),
//! so the checked-in seeds stay valid: devices Alice (`alice`/1), Bob
//! (`bob`/2), Carol (`carol`/3) and Dave (`dave`/4), bundles verified with
//! `NoDirectory`; Bob has one one-time key, which Alice's session with him
//! offers, so her first wrap to him starts their pairwise session with it.
//! Alice makes epoch 1 of {Alice, Bob, Carol} (the server's record R1); Bob
//! and Carol process it. Then these distributions are *signed*: Alice's
//! epoch 1; Alice's epoch 2 adding Dave (aborted: it stays an alternative)
//! and removing Bob (aborted); Carol's epoch-2 rotation; Alice's epoch 2
//! wrapping another secret for Bob than the one its core confirms (split
//! secrets); two of Alice's epoch 2 whose wrap for Bob opens but is no group
//! key (content type `Text`; a 31-byte secret); Dave, no member, signing
//! epoch 2 on epoch 1's transcript; Carol's own epoch 1 of the group and her
//! epoch 2 on it (another history); Alice's epoch 0; Alice's epoch 2 removing
//! Carol (committed) and her epoch 3 on it. Every wrap is a message of the
//! signer's pairwise session with the member (SPEC.md §8.4), so the fixture's
//! sessions are stateful: Alice's wraps to Bob are numbers 0, 1, 2, … of one
//! control chain.
//!
//! Bob's state — his group (JSON), his sessions with Alice, Carol and Dave
//! and his device keys (sealed blobs under a fixed storage key, imported
//! afresh for every input) — is saved before epoch 1 (S0: no epoch, fresh
//! sessions, the one-time key unused) and after it (S1: epoch 1, Alice's
//! wrap 0 opened, the one-time key consumed). For each signed distribution,
//! Bob processing its full-roster view at S0 and at S1 is recorded.
//!
//! Input: `selector ‖ distribution`. Selector bit 0 picks Bob's state (S1,
//! S0), bit 1 the server's stored record (R1, none). Checks:
//!
//! - decoding never panics and is strict: a decoded distribution re-encodes
//!   to exactly the input, and its core is exactly the input's core bytes
//!   (the signature is checked over those);
//! - the server's check (uploader: the core's distributor) never panics; what
//!   it accepts has the core, signature and wraps of a signed distribution
//!   and rebuilds its roster (anything else is a **forgery**), and each
//!   signed upload is accepted against the record it was made for; with
//!   another uploader it is refused;
//! - Bob's `process` never panics; a failure leaves his group, every session
//!   and his device keys byte-identical (the payloads of fresh exports are
//!   compared: a wrap that fails — to open, to be a group key, or to confirm
//!   the core — consumes no chain key and no one-time key); a view Bob
//!   accepted at setup is never refused; a success carries the core,
//!   signature and Bob's wrap of a signed distribution (else a **forgery**)
//!   and gives exactly the recorded outcome and state (group, sessions,
//!   device), whatever the roster section's form; processing it again is
//!   `AlreadyProcessed` and changes nothing.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/group_distribution.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`.
//! The seeds in `fuzz/corpus/group_distribution/` are generated from the
//! fixture (`seeds` below): a change to the fixture, or to anything its bytes
//! depend on, needs them regenerated (`cargo test -p letterseal-repo-tests --test fuzz_corpus
//! --all-features -- --ignored regenerate_group_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use letterseal::device::{DEVICE_BLOB_VERSION, DeviceKeys};
use letterseal::group::{
    CoreFields, Distribution, EpochSecret, GracePolicy, Group, GroupError, GroupId, Processed,
    Roster, RosterSection, ServerRecord, Transcript, VerifiedDistribution, wrap_context,
    wrap_list_hash,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::{ContentType, SESSION_BLOB_VERSION, Session};
use letterseal::registration::{ExpectedOwner, NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::state::{StateKind, StorageKey};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::fixture::{DAY, T0, device};

// ---- fixture ----------------------------------------------------------------

const GROUP_ID: &[u8] = b"fuzz group";
/// The `now` everything happens at.
const NOW: u64 = T0 + 600;
/// The key Bob's sessions and device keys are sealed under.
const STORAGE_KEY: [u8; 32] = [0x53; 32];

/// Bob's state at rest: the group as JSON, every session and the device
/// keys as sealed blobs.
struct Saved {
    group: Vec<u8>,
    sessions: Vec<Vec<u8>>,
    device: Vec<u8>,
}

/// What Bob's state holds, byte for byte: the group's JSON, and the payloads
/// of fresh exports of each session (by peer address) and of the device keys.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Print {
    group: Vec<u8>,
    sessions: Vec<(DeviceAddress, Vec<u8>)>,
    device: Vec<u8>,
}

/// Bob's state in memory: everything `process` reads and may change.
struct Bob {
    group: Group,
    sessions: BTreeMap<DeviceAddress, Session>,
    device: DeviceKeys,
}

fn storage_key() -> StorageKey {
    StorageKey::from_bytes(STORAGE_KEY)
}

/// The payload of a sealed state blob (opened under the fixture's key).
fn payload(kind: StateKind, version: u16, blob: &[u8]) -> Vec<u8> {
    crate::fixture::payload(kind, version, &storage_key(), blob)
}

impl Bob {
    fn load(saved: &Saved) -> Self {
        let key = storage_key();
        let sessions = saved
            .sessions
            .iter()
            .map(|blob| {
                let s = Session::import(&key, blob, 0).expect("a saved session imports");
                (s.peer().clone(), s)
            })
            .collect();
        Self {
            group: serde_json::from_slice(&saved.group).expect("a saved group loads"),
            sessions,
            device: DeviceKeys::import(&key, &saved.device, 0).expect("saved keys import"),
        }
    }

    fn save(&mut self, rng: &mut ChaCha20Rng) -> Saved {
        let key = storage_key();
        Saved {
            group: serde_json::to_vec(&self.group).expect("group state serializes"),
            sessions: self
                .sessions
                .values_mut()
                .map(|s| s.export(rng, &key).expect("export").into_bytes())
                .collect(),
            device: self.device.export(rng, &key).expect("export").into_bytes(),
        }
    }

    fn print(&mut self) -> Print {
        let key = storage_key();
        let mut rng = ChaCha20Rng::from_seed([0x70; 32]);
        let sessions = self
            .sessions
            .iter_mut()
            .map(|(peer, s)| {
                let blob = s.export(&mut rng, &key).expect("export");
                (
                    peer.clone(),
                    payload(StateKind::Session, SESSION_BLOB_VERSION, blob.as_bytes()),
                )
            })
            .collect();
        let device = self.device.export(&mut rng, &key).expect("export");
        Print {
            group: serde_json::to_vec(&self.group).expect("group state serializes"),
            sessions,
            device: payload(
                StateKind::DeviceKeys,
                DEVICE_BLOB_VERSION,
                device.as_bytes(),
            ),
        }
    }

    fn process(&mut self, view: &Distribution) -> Result<Processed, GroupError> {
        self.group
            .process(&mut self.device, view, &mut self.sessions, now())
    }
}

/// A distribution signed at setup.
struct Signed {
    name: &'static str,
    /// The upload, as made.
    upload: Distribution,
    /// Bob's view with the full roster.
    full_view: Distribution,
    /// The record the upload builds on (`None`: a new group).
    base: Option<ServerRecord>,
    /// The roster the upload rebuilds to.
    roster: Roster,
    /// Bob's wrap.
    bob_wrap: Option<Vec<u8>>,
    /// Bob processing the full view at S1 and S0: the outcome and his state
    /// afterwards.
    at_bob: [Result<(Processed, Print), GroupError>; 2],
}

struct Fixture {
    bob: DeviceAddress,
    /// Bob's saved state (S1, S0), and what each holds.
    states: [Saved; 2],
    prints: [Print; 2],
    r1: ServerRecord,
    signed: Vec<Signed>,
}

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(NOW)
}

/// A signer's hand-made distribution on top of `group`'s current epoch (or
/// epoch 1): `edit` applied to the core's fields, each member's wrap
/// plaintext (content type and bytes) from `wrap_for`, sealed in the
/// signer's `sessions`, confirmed with `confirm`.
#[allow(clippy::too_many_arguments)] // one argument per choice a hostile signer makes
fn forge(
    rng: &mut ChaCha20Rng,
    signer: &DeviceKeys,
    group: &Group,
    members: &[VerifiedBundle],
    sessions: &mut BTreeMap<DeviceAddress, Session>,
    edit: impl FnOnce(&mut CoreFields),
    wrap_for: impl Fn(&DeviceAddress) -> (ContentType, Vec<u8>),
    confirm: [u8; 32],
) -> Distribution {
    let group_id = GroupId::new(GROUP_ID).expect("group id");
    let roster = Roster::from_bundles(members).expect("roster");
    let mut fields = CoreFields {
        group_id: group_id.clone(),
        epoch: group.current_epoch().map_or(1, |e| e + 1),
        previous_transcript: group.transcript().copied().unwrap_or(Transcript::NONE),
        roster_hash: roster.hash(&group_id),
        policy: group.policy().cloned().unwrap_or_default(),
        distributor: signer.address().clone(),
        distributor_identity: signer.identity().public_key().to_bytes(),
        wrap_list_hash: [0; 32],
    };
    edit(&mut fields);
    let context = wrap_context(
        &fields.group_id,
        fields.epoch,
        &fields.previous_transcript,
        &fields.roster_hash,
        &fields.distributor,
    );
    let mut sorted: Vec<&VerifiedBundle> = members.iter().collect();
    sorted.sort_by(|a, b| a.owner().cmp(b.owner()));
    let mut wraps = Vec::new();
    for b in sorted.into_iter().filter(|b| b.owner() != signer.address()) {
        let session = sessions
            .entry(b.owner().clone())
            .or_insert_with(|| Session::new(signer, b).expect("session"));
        let (content_type, plaintext) = wrap_for(b.owner());
        wraps.push(
            session
                .seal(signer, rng, now(), content_type, &plaintext, &context)
                .expect("fixture wrap"),
        );
    }
    fields.wrap_list_hash = wrap_list_hash(&wraps);
    let core = fields.confirmed(&EpochSecret::from_bytes(confirm));
    let section = match group.roster() {
        Some(base) => RosterSection::Delta(base.delta_to(&roster).expect("delta")),
        None => RosterSection::Full(roster),
    };
    Distribution::sign(&core, signer.identity(), section, wraps).expect("fixture distribution")
}

/// A group key wrap's plaintext.
fn group_key(secret: [u8; 32]) -> (ContentType, Vec<u8>) {
    (ContentType::GroupKey, secret.to_vec())
}

/// The full-roster view of `upload` for `member` (a member of `roster`).
fn full_view(upload: &Distribution, roster: &Roster, member: &DeviceAddress) -> Distribution {
    let distributor = roster.position(upload.core().distributor());
    let index = roster.position(member);
    let wraps = match (distributor, index) {
        (Some(d), Some(i)) if i != d => {
            let at = if i > d { i - 1 } else { i };
            upload
                .wraps()
                .get(at)
                .map(|w| vec![w.clone()])
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    Distribution::new(
        upload.core().clone(),
        *upload.signature(),
        RosterSection::Full(roster.clone()),
        wraps,
    )
    .expect("valid wraps")
}

/// The roster an upload rebuilds to on `base` (checks the hash only).
fn rebuilt(upload: &Distribution, base: Option<&ServerRecord>) -> Roster {
    match (upload.section(), base) {
        (RosterSection::Full(r), _) => r.clone(),
        (RosterSection::Delta(d), Some(b)) => b.roster.apply(d).expect("delta applies"),
        (RosterSection::Delta(_), None) => panic!("a delta without a base"),
    }
}

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0x47; 32]);
    let t0 = Timestamp::from_unix_seconds(T0);
    let (alice, a) = device(&mut rng, "alice", 1);
    let (mut bob, b) = device(&mut rng, "bob", 2);
    let (mut carol, c) = device(&mut rng, "carol", 3);
    let (dave, d) = device(&mut rng, "dave", 4);
    let bob_address = bob.address().clone();
    let one_time = bob
        .add_one_time_keys(&mut rng, 1, t0, 30 * DAY)
        .pop()
        .expect("a one-time key")
        .verify(
            &ExpectedOwner::Device(bob_address.clone()),
            &RegistrationPolicy::default(),
            t0,
            None,
            &NoDirectory,
        )
        .expect("the one-time key verifies");
    let group_id = GroupId::new(GROUP_ID).expect("group id");
    let member = |address: &DeviceAddress| {
        Group::new(group_id.clone(), address.clone(), GracePolicy::default())
    };
    let abc = [a.clone(), b.clone(), c.clone()];

    // Epoch 1. Alice's session with Bob offers his one-time key.
    let mut at_alice = member(alice.address());
    let mut alice_sessions = BTreeMap::from([(
        bob_address.clone(),
        Session::new(&alice, &b)
            .expect("Alice's session")
            .with_one_time_key(&one_time)
            .expect("Bob's one-time key"),
    )]);
    let e1 = at_alice
        .propose(&mut rng, &alice, &abc, None, &mut alice_sessions, now())
        .expect("epoch 1")
        .upload;
    let v1 = e1
        .verify_for_server(None, alice.address())
        .expect("server accepts epoch 1");
    at_alice.commit(now()).expect("epoch 1 committed");
    let r1 = v1.record();
    let bob_sessions = [(&alice, &a), (&carol, &c), (&dave, &d)]
        .into_iter()
        .map(|(peer, bundle)| {
            (
                peer.address().clone(),
                Session::new(&bob, bundle).expect("Bob's session"),
            )
        })
        .collect();
    let mut at_bob = Bob {
        group: member(&bob_address),
        sessions: bob_sessions,
        device: bob,
    };
    let s0 = at_bob.save(&mut rng);
    let processed = at_bob.process(&v1.view_for(&bob_address).expect("view"));
    assert!(
        matches!(processed, Ok(Processed::Installed { .. })),
        "Bob processes epoch 1: {processed:?}"
    );
    assert!(
        at_bob
            .device
            .one_time_key_ids()
            .all(|id| *id != one_time.key_id()),
        "Alice's first wrap to Bob used his one-time key"
    );
    let s1 = at_bob.save(&mut rng);
    let mut at_carol = member(carol.address());
    let mut carol_sessions = BTreeMap::from([(
        alice.address().clone(),
        Session::new(&carol, &a).expect("Carol's session"),
    )]);
    let carol_view = v1.view_for(carol.address()).expect("view");
    at_carol
        .process(&mut carol, &carol_view, &mut carol_sessions, now())
        .expect("Carol processes epoch 1");

    let mut uploads: Vec<(&'static str, Distribution, Option<ServerRecord>)> =
        vec![("e1", e1.clone(), None)];
    // Alternatives for epoch 2.
    let add_dave = at_alice
        .propose(
            &mut rng,
            &alice,
            &[a.clone(), b.clone(), c.clone(), d.clone()],
            None,
            &mut alice_sessions,
            now(),
        )
        .expect("Dave's addition")
        .upload;
    at_alice.abort().expect("aborted");
    uploads.push(("e2_add_dave", add_dave, Some(r1.clone())));
    let remove_bob = at_alice
        .propose(
            &mut rng,
            &alice,
            &[a.clone(), c.clone()],
            None,
            &mut alice_sessions,
            now(),
        )
        .expect("Bob's removal")
        .upload;
    at_alice.abort().expect("aborted");
    uploads.push(("e2_remove_bob", remove_bob, Some(r1.clone())));
    let rotation = at_carol
        .propose(&mut rng, &carol, &abc, None, &mut carol_sessions, now())
        .expect("Carol's rotation")
        .upload;
    uploads.push(("e2_carol_rotation", rotation, Some(r1.clone())));
    let split = forge(
        &mut rng,
        &alice,
        &at_alice,
        &abc,
        &mut alice_sessions,
        |_| {},
        |m| {
            group_key(if *m == bob_address {
                [0x22; 32]
            } else {
                [0x11; 32]
            })
        },
        [0x11; 32],
    );
    uploads.push(("e2_split_secret", split, Some(r1.clone())));
    // Wraps that open but are no group key (SPEC.md §8.4): `InvalidWrap`.
    let as_text = forge(
        &mut rng,
        &alice,
        &at_alice,
        &abc,
        &mut alice_sessions,
        |_| {},
        |m| {
            if *m == bob_address {
                (ContentType::Text, [0x55; 32].to_vec())
            } else {
                group_key([0x55; 32])
            }
        },
        [0x55; 32],
    );
    uploads.push(("e2_wrap_text", as_text, Some(r1.clone())));
    let short = forge(
        &mut rng,
        &alice,
        &at_alice,
        &abc,
        &mut alice_sessions,
        |_| {},
        |m| {
            if *m == bob_address {
                (ContentType::GroupKey, [0x66; 31].to_vec())
            } else {
                group_key([0x66; 32])
            }
        },
        [0x66; 32],
    );
    uploads.push(("e2_wrap_short", short, Some(r1.clone())));
    let t1 = r1.transcript;
    let outsider = forge(
        &mut rng,
        &dave,
        &member(dave.address()),
        &[a.clone(), b.clone(), c.clone(), d.clone()],
        &mut BTreeMap::new(),
        |f| {
            f.epoch = 2;
            f.previous_transcript = t1;
        },
        |_| group_key([0x33; 32]),
        [0x33; 32],
    );
    uploads.push(("e2_dave_outsider", outsider, Some(r1.clone())));
    // Carol's own history: her epoch 1, then her epoch 2 on it.
    let mut other = member(carol.address());
    let mut other_sessions = BTreeMap::new();
    let e1_carol = other
        .propose(&mut rng, &carol, &abc, None, &mut other_sessions, now())
        .expect("Carol's epoch 1")
        .upload;
    other.commit(now()).expect("committed");
    let e2_carol = other
        .propose(&mut rng, &carol, &abc, None, &mut other_sessions, now())
        .expect("Carol's epoch 2")
        .upload;
    let carol_r1 = e1_carol
        .verify_for_server(None, carol.address())
        .expect("Carol's epoch 1 verifies")
        .record();
    uploads.push(("e1_carol", e1_carol, None));
    uploads.push(("e2_carol_fork", e2_carol, Some(carol_r1)));
    let epoch0 = forge(
        &mut rng,
        &alice,
        &member(alice.address()),
        &abc,
        &mut BTreeMap::new(),
        |f| f.epoch = 0,
        |_| group_key([0x44; 32]),
        [0x44; 32],
    );
    uploads.push(("e0", epoch0, None));
    // Epoch 2 removing Carol (committed), and epoch 3 on it.
    let e2 = at_alice
        .propose(
            &mut rng,
            &alice,
            &[a.clone(), b.clone()],
            None,
            &mut alice_sessions,
            now(),
        )
        .expect("epoch 2")
        .upload;
    let r2 = e2
        .verify_for_server(Some(&r1), alice.address())
        .expect("server accepts epoch 2")
        .record();
    at_alice.commit(now()).expect("epoch 2 committed");
    let e3 = at_alice
        .propose(
            &mut rng,
            &alice,
            &[a.clone(), b.clone()],
            None,
            &mut alice_sessions,
            now(),
        )
        .expect("epoch 3")
        .upload;
    uploads.push(("e2_remove_carol", e2, Some(r1.clone())));
    uploads.push(("e3", e3, Some(r2)));

    let states = [s1, s0];
    let prints = states.each_ref().map(|s| Bob::load(s).print());
    let signed: Vec<Signed> = uploads
        .into_iter()
        .map(|(name, upload, base)| {
            let roster = rebuilt(&upload, base.as_ref());
            let full = full_view(&upload, &roster, &bob_address);
            let bob_wrap = full.wraps().first().map(|w| w.to_vec());
            let at_bob = [0, 1].map(|s| {
                let mut bob = Bob::load(&states[s]);
                bob.process(&full).map(|p| (p, bob.print()))
            });
            Signed {
                name,
                upload,
                full_view: full,
                base,
                roster,
                bob_wrap,
                at_bob,
            }
        })
        .collect();
    let outcomes: Vec<(&str, [&str; 2])> = signed
        .iter()
        .map(|s| {
            (
                s.name,
                s.at_bob.each_ref().map(|r| match r {
                    Ok((Processed::Installed { .. }, _)) => "Installed",
                    Ok((Processed::AlreadyProcessed { .. }, _)) => "AlreadyProcessed",
                    Ok(_) => "other",
                    Err(e) => e.name(),
                }),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("e1", ["AlreadyProcessed", "Installed"]),
            ("e2_add_dave", ["Installed", "Installed"]),
            ("e2_remove_bob", ["NotAMember", "NotAMember"]),
            ("e2_carol_rotation", ["Installed", "Installed"]),
            (
                "e2_split_secret",
                ["ConfirmationMismatch", "ConfirmationMismatch"]
            ),
            ("e2_wrap_text", ["InvalidWrap", "InvalidWrap"]),
            ("e2_wrap_short", ["InvalidWrap", "InvalidWrap"]),
            // A member joining with no epoch cannot check the history before it
            // (SPEC.md §8.12): it trusts the distributor that adds it.
            ("e2_dave_outsider", ["NotPreviousMember", "Installed"]),
            ("e1_carol", ["ConflictingEpoch", "Installed"]),
            ("e2_carol_fork", ["ForkedHistory", "Installed"]),
            ("e0", ["InvalidEpoch", "InvalidEpoch"]),
            ("e2_remove_carol", ["Installed", "Installed"]),
            ("e3", ["EpochGap", "Installed"]),
        ],
        "fixture outcomes at Bob (S1, S0)"
    );
    Fixture {
        bob: bob_address,
        states,
        prints,
        r1,
        signed,
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

// ---- check ----------------------------------------------------------------

/// The selector's choices: Bob's state index and the server's record.
fn choices(selector: u8) -> (usize, Option<&'static ServerRecord>) {
    let fx = fixture();
    let state = usize::from(selector & 1);
    let record = if selector & 2 == 0 {
        Some(&fx.r1)
    } else {
        None
    };
    (state, record)
}

/// The signed distribution with this core and signature.
fn signed_as(d: &Distribution) -> Option<&'static Signed> {
    fixture().signed.iter().find(|s| {
        s.upload.core().as_bytes() == d.core().as_bytes() && s.upload.signature() == d.signature()
    })
}

fn check_server(d: &Distribution, record: Option<&ServerRecord>) {
    let fx = fixture();
    let distributor = d.core().distributor().clone();
    match d.verify_for_server(record, &distributor) {
        Ok(verified) => check_accepted(d, record, &verified),
        Err(_) => {
            // A setup upload is never refused against the record it was made for.
            assert!(
                !fx.signed
                    .iter()
                    .any(|s| s.upload == *d && s.base.as_ref() == record),
                "the server refused a distribution made at setup"
            );
        }
    }
    let stranger = DeviceAddress::new(UserId::new("mallory").unwrap(), DeviceId::new(9));
    assert!(
        d.verify_for_server(record, &stranger).is_err(),
        "the server accepted an upload from someone else than its distributor"
    );
}

fn check_accepted(
    d: &Distribution,
    record: Option<&ServerRecord>,
    verified: &VerifiedDistribution,
) {
    let Some(s) = signed_as(d) else {
        panic!("FORGERY: the server accepted a core nobody signed: {d:?}");
    };
    assert_eq!(
        d.wraps(),
        s.upload.wraps(),
        "FORGERY: the server accepted wraps that were not signed ({})",
        s.name
    );
    assert_eq!(
        verified.roster(),
        &s.roster,
        "the server rebuilt another roster ({})",
        s.name
    );
    assert_eq!(
        record,
        s.base.as_ref(),
        "accepted on another base ({})",
        s.name
    );
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let Ok(d) = Distribution::decode(bytes) else {
        return;
    };
    let fx = fixture();
    let (state, record) = choices(selector);

    // Strict decoding: one encoding per distribution; the core is the received bytes.
    assert_eq!(
        d.encode(),
        bytes,
        "a decoded distribution must re-encode to its input"
    );
    let core = d.core().as_bytes();
    assert!(
        bytes.get(4..4 + core.len()) == Some(core),
        "the core must be the input's core bytes"
    );

    check_server(&d, record);

    // Bob processes it.
    let mut bob = Bob::load(&fx.states[state]);
    match bob.process(&d) {
        Ok(outcome) => {
            let Some(s) = signed_as(&d) else {
                panic!("FORGERY: Bob accepted a core nobody signed: {outcome:?}");
            };
            let bob_wrap = match (&outcome, d.wraps()) {
                (Processed::AlreadyProcessed { .. }, _) => s.bob_wrap.clone(),
                (_, [only]) => Some(only.to_vec()),
                (_, all) => {
                    let index = s.roster.position(&fx.bob).unwrap();
                    let distributor = s.roster.position(d.core().distributor()).unwrap();
                    all.get(if index > distributor {
                        index - 1
                    } else {
                        index
                    })
                    .map(|w| w.to_vec())
                }
            };
            assert_eq!(
                bob_wrap, s.bob_wrap,
                "FORGERY: Bob accepted a wrap that was not made for him ({})",
                s.name
            );
            let Ok((want, after)) = &s.at_bob[state] else {
                panic!(
                    "Bob accepted {} at S{} although it was refused at setup: {:?}",
                    s.name,
                    1 - state,
                    s.at_bob[state]
                );
            };
            assert_eq!(&outcome, want, "outcome of {}", s.name);
            assert_eq!(&bob.print(), after, "state after {}", s.name);
            let again = bob.process(&d);
            assert_eq!(
                again,
                Ok(Processed::AlreadyProcessed {
                    epoch: d.core().epoch()
                }),
                "processing {} again",
                s.name
            );
            assert_eq!(
                &bob.print(),
                after,
                "processing {} again changed the state",
                s.name
            );
        }
        Err(err) => {
            let after = bob.print();
            let before = &fx.prints[state];
            assert_eq!(
                after.group, before.group,
                "a failed process ({err:?}) changed the group state"
            );
            assert_eq!(
                after.sessions, before.sessions,
                "a failed process ({err:?}) changed a session"
            );
            assert_eq!(
                after.device, before.device,
                "a failed process ({err:?}) changed the device keys"
            );
            assert!(
                !fx.signed
                    .iter()
                    .any(|s| s.at_bob[state].is_ok() && s.full_view == d),
                "a view Bob accepted at setup failed with {err:?}"
            );
            assert!(
                !matches!(
                    err,
                    GroupError::InvalidGroupId
                        | GroupError::WrongDevice
                        | GroupError::Session(_)
                        | GroupError::Wrap(_)
                        | GroupError::ProposalPending
                        | GroupError::NothingPending
                        | GroupError::UploaderMismatch
                        | GroupError::MissingSession
                ),
                "process failed with {err:?}"
            );
        }
    }
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// What Bob processing a `group_distribution` input gives: the outcome,
/// the error's name, or "undecodable".
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> &'static str {
    let Some((&selector, bytes)) = data.split_first() else {
        return "empty";
    };
    let Ok(d) = Distribution::decode(bytes) else {
        return "undecodable";
    };
    let fx = fixture();
    let (state, _) = choices(selector);
    match Bob::load(&fx.states[state]).process(&d) {
        Ok(Processed::Installed { .. }) => "Installed",
        Ok(Processed::AlreadyProcessed { .. }) => "AlreadyProcessed",
        Ok(_) => "other",
        Err(e) => e.name(),
    }
}

/// What the server's check gives for a `group_distribution` input.
#[cfg(test)]
pub(crate) fn server_outcome(data: &[u8]) -> &'static str {
    let Some((&selector, bytes)) = data.split_first() else {
        return "empty";
    };
    let (_, record) = choices(selector);
    match Distribution::decode(bytes).map(|d| {
        let distributor = d.core().distributor().clone();
        d.verify_for_server(record, &distributor).map(|_| ())
    }) {
        Err(e) => e.name(),
        Ok(Ok(())) => "Ok",
        Ok(Err(e)) => e.name(),
    }
}

/// The `group_distribution` seeds, from the fixture.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let fx = fixture();
    let by = |name: &str| fx.signed.iter().find(|s| s.name == name).unwrap();
    // selector: bit 0 = Bob's state (S1 = 0, S0 = 1), bit 1 = record (R1 = 0, none = 2)
    let input = |selector: u8, d: &Distribution| -> Vec<u8> {
        let mut v = vec![selector];
        v.extend_from_slice(&d.encode());
        v
    };
    let flip = |selector: u8, d: &Distribution, at: usize, mask: u8| -> Vec<u8> {
        let mut v = input(selector, d);
        v[1 + at] ^= mask;
        v
    };
    let e1 = by("e1");
    let e2 = by("e2_remove_carol");
    // The server's delta view of epoch 2 for Bob.
    let e2_delta = e2
        .upload
        .verify_for_server(e2.base.as_ref(), e2.upload.core().distributor())
        .unwrap()
        .view_for(&fx.bob)
        .unwrap();
    let signature_at = 4 + e1.upload.core().as_bytes().len();
    let group_id_at = 4 + 3;
    let epoch_last = 4 + 3 + GROUP_ID.len() + 7;
    let roster_hash_at = epoch_last + 1 + 32;
    let policy_at = roster_hash_at + 32;
    let section_at = signature_at + 64;
    let carol = DeviceAddress::new(UserId::new("carol").unwrap(), DeviceId::new(3));
    let carol_wrap = full_view(&e1.upload, &e1.roster, &carol);
    let wrong_wrap = Distribution::new(
        e1.full_view.core().clone(),
        *e1.full_view.signature(),
        e1.full_view.section().clone(),
        carol_wrap.wraps().to_vec(),
    )
    .expect("valid wraps");
    let no_wrap = Distribution::new(
        e1.full_view.core().clone(),
        *e1.full_view.signature(),
        e1.full_view.section().clone(),
        Vec::<Vec<u8>>::new(),
    )
    .expect("valid wraps");
    let mut truncated = input(1, &e1.full_view);
    truncated.pop();
    let mut v1 = input(1, &e1.full_view);
    v1[1 + 4] = 1;
    let mut seeds = vec![
        ("s0_e1_view", input(1, &e1.full_view)),
        ("s1_e1_again", input(0, &e1.full_view)),
        ("e1_upload_no_record", input(3, &e1.upload)),
        ("e1_upload_stale", input(1, &e1.upload)),
        ("s1_e2_delta_view", input(0, &e2_delta)),
        ("s0_e2_delta_without_base", input(1, &e2_delta)),
        ("e2_upload_without_record", input(2, &e2.upload)),
        ("s0_e2_removed_carol_upload", input(1, &e2.upload)),
        ("s0_e1_carols_wrap", input(1, &wrong_wrap)),
        ("s0_e1_no_wrap", input(1, &no_wrap)),
        (
            "mut_signature_bit",
            flip(1, &e1.full_view, signature_at, 0x01),
        ),
        ("mut_group_id", flip(1, &e1.full_view, group_id_at, 0x01)),
        (
            "mut_roster_hash_bit",
            flip(1, &e1.full_view, roster_hash_at, 0x01),
        ),
        ("mut_policy_byte", flip(1, &e1.full_view, policy_at, 0x02)),
        ("mut_section_form", flip(1, &e1.full_view, section_at, 0x02)),
        ("mut_upload_last_wrap_bit", {
            let mut v = input(3, &e1.upload);
            let last = v.len() - 1;
            v[last] ^= 1;
            v
        }),
        ("mut_upload_one_wrap_less", {
            let short = Distribution::new(
                e1.upload.core().clone(),
                *e1.upload.signature(),
                e1.upload.section().clone(),
                e1.upload.wraps()[..1].to_vec(),
            )
            .expect("valid wraps");
            input(3, &short)
        }),
        ("trunc_minus1", truncated),
        ("s0_e1_core_with_e2_roster", {
            let other = Distribution::new(
                e1.full_view.core().clone(),
                *e1.full_view.signature(),
                RosterSection::Full(e2.roster.clone()),
                e1.full_view.wraps().to_vec(),
            )
            .expect("valid wraps");
            input(1, &other)
        }),
        ("version_1", v1),
        // Bob's wrap of epoch 1, which his session already opened, under the
        // core of epoch 2: the session refuses the replay.
        ("s1_e2_with_e1_wrap_replay", {
            let spliced = Distribution::new(
                e2.full_view.core().clone(),
                *e2.full_view.signature(),
                e2.full_view.section().clone(),
                vec![e1.bob_wrap.clone().unwrap()],
            )
            .expect("valid wraps");
            input(0, &spliced)
        }),
        // A later wrap of Alice's under the core of epoch 1: it was sealed
        // with another wrap context, so it does not open (and the session
        // start it carries consumes nothing).
        ("s0_e1_with_e2_wrap", {
            let spliced = Distribution::new(
                e1.full_view.core().clone(),
                *e1.full_view.signature(),
                e1.full_view.section().clone(),
                vec![e2.bob_wrap.clone().unwrap()],
            )
            .expect("valid wraps");
            input(1, &spliced)
        }),
    ];
    // Refused wraps that start Bob's session with Alice (S0): nothing consumed.
    for name in ["e2_split_secret", "e2_wrap_text", "e2_wrap_short"] {
        let s = by(name);
        seeds.push((
            Box::leak(format!("s0_{name}").into_boxed_str()),
            input(1, &s.full_view),
        ));
    }
    for s in &fx.signed {
        seeds.push((s.name, input(0, &s.full_view)));
    }
    let named: Vec<(&'static str, Vec<u8>)> = seeds
        .into_iter()
        .map(|(name, v)| {
            // Names of signed distributions are prefixed to keep them apart.
            let name: &'static str = if fx.signed.iter().any(|s| s.name == name) {
                Box::leak(format!("s1_{name}").into_boxed_str())
            } else {
                name
            };
            (name, v)
        })
        .collect();
    named
}
