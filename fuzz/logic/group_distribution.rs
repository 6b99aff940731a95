//! Fuzz target: `Distribution::decode`, the server's check and a member's
//! `Group::process` (SPEC.md §8.5–8.7).
//!
//! A fixture is built once, deterministically (ChaCha20 seed `[0x47; 32]`),
//! so the checked-in seeds stay valid: devices Alice (`alice`/1), Bob
//! (`bob`/2), Carol (`carol`/3) and Dave (`dave`/4), bundles verified with
//! `NoDirectory`. Alice makes epoch 1 of {Alice, Bob, Carol} (the server's
//! record R1); Bob and Carol process it. Then these distributions are
//! *signed*: Alice's epoch 1; Alice's epoch 2 adding Dave (aborted: it stays
//! an alternative); Carol's epoch-2 rotation; Alice's epoch 2 wrapping
//! another secret for Bob than the one its core confirms (split secrets);
//! Dave, no member, signing epoch 2 on epoch 1's transcript; Carol's own
//! epoch 1 of the group and her epoch 2 on it (another history); Alice's
//! epoch 0; Alice's epoch 2 removing Carol (committed) and her epoch 3 on it.
//! Bob's state is saved (JSON) with no epoch (S0) and at epoch 1 (S1), with
//! sessions to Alice, Carol and Dave; for each signed distribution, Bob
//! processing its full-roster view at S0 and at S1 is recorded.
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
//! - Bob's `process` never panics; a failure leaves his saved group and
//!   sessions byte-identical; a view Bob accepted at setup is never refused;
//!   a success carries the core, signature and Bob's wrap of a signed
//!   distribution (else a **forgery**) and gives exactly the recorded
//!   outcome and state (whatever the roster section's form); processing it
//!   again is `AlreadyProcessed` and changes nothing.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/group_distribution.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`.
//! The seeds in `fuzz/corpus/group_distribution/` are generated from the
//! fixture (`seeds` below): a change to the fixture, or to anything its bytes
//! depend on, needs them regenerated (`cargo test --test fuzz_corpus
//! --all-features -- --ignored regenerate_group_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use letterseal::device::DeviceKeys;
use letterseal::group::{
    CoreFields, Distribution, EpochSecret, GracePolicy, Group, GroupError, GroupId, Processed,
    Roster, RosterSection, ServerRecord, Transcript, VerifiedDistribution, wrap_context,
    wrap_list_hash,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::{Session, WRAP_LEN};
use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

// ---- fixture ----------------------------------------------------------------

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
const GROUP_ID: &[u8] = b"fuzz group";
/// The `now` everything happens at.
const NOW: u64 = T0 + 600;

/// A distribution signed at setup.
struct Signed {
    name: &'static str,
    /// The upload, as made.
    upload: Distribution,
    /// Bob's views: with the full roster, and as the server fans out (a
    /// delta when Bob was a member of the base).
    full_view: Distribution,
    /// The record the upload builds on (`None`: a new group).
    base: Option<ServerRecord>,
    /// The roster the upload rebuilds to.
    roster: Roster,
    /// Bob's wrap.
    bob_wrap: Option<[u8; WRAP_LEN]>,
    /// Bob processing the full view at S0 and S1: the outcome and the saved
    /// group afterwards.
    at_bob: [Result<(Processed, Vec<u8>), GroupError>; 2],
}

struct Fixture {
    bob: DeviceKeys,
    /// Bob's saved group (S1, S0) and sessions.
    groups: [Vec<u8>; 2],
    sessions: Vec<u8>,
    r1: ServerRecord,
    signed: Vec<Signed>,
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

fn device(rng: &mut ChaCha20Rng, user: &str, id: u32) -> (DeviceKeys, VerifiedBundle) {
    let t0 = Timestamp::from_unix_seconds(T0);
    let address = DeviceAddress::new(UserId::new(user).expect("user id"), DeviceId::new(id));
    let mut keys = DeviceKeys::generate(rng, address);
    let bundle = verified(keys.add_sealing_key(rng, t0, 30 * DAY), t0);
    (keys, bundle)
}

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(NOW)
}

fn save<T: serde::Serialize>(state: &T) -> Vec<u8> {
    serde_json::to_vec(state).expect("state serializes")
}

fn load<T: serde::de::DeserializeOwned>(json: &[u8]) -> T {
    serde_json::from_slice(json).expect("saved state loads")
}

/// Bob's sessions by peer address, saved as a list.
fn save_sessions(sessions: &BTreeMap<DeviceAddress, Session>) -> Vec<u8> {
    save(&sessions.values().collect::<Vec<_>>())
}

fn load_sessions(json: &[u8]) -> BTreeMap<DeviceAddress, Session> {
    let list: Vec<Session> = load(json);
    list.into_iter().map(|s| (s.peer().clone(), s)).collect()
}

/// A signer's hand-made distribution on top of `group`'s current epoch (or
/// epoch 1): `edit` applied to the core's fields, each member's secret from
/// `secret_for`, confirmed with `confirm`.
#[allow(clippy::too_many_arguments)] // one argument per choice a hostile signer makes
fn forge(
    rng: &mut ChaCha20Rng,
    signer: &DeviceKeys,
    signer_bundle: &VerifiedBundle,
    group: &Group,
    members: &[VerifiedBundle],
    sessions: &mut BTreeMap<DeviceAddress, Session>,
    edit: impl FnOnce(&mut CoreFields),
    secret_for: impl Fn(&DeviceAddress) -> [u8; 32],
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
        wraps.push(
            session
                .seal_group_key(
                    signer,
                    rng,
                    now(),
                    &signer_bundle.sealing_key_id(),
                    &b.sealing_key_id(),
                    &context,
                    &secret_for(b.owner()),
                )
                .expect("fixture wrap"),
        );
    }
    fields.wrap_list_hash = wrap_list_hash(wraps.as_flattened());
    let core = fields.confirmed(&EpochSecret::from_bytes(confirm));
    let section = match group.roster() {
        Some(base) => RosterSection::Delta(base.delta_to(&roster)),
        None => RosterSection::Full(roster),
    };
    Distribution::sign(&core, signer.identity(), section, wraps).expect("fixture distribution")
}

/// The full-roster view of `upload` for `member` (a member of `roster`).
fn full_view(upload: &Distribution, roster: &Roster, member: &DeviceAddress) -> Distribution {
    let distributor = roster.position(upload.core().distributor());
    let index = roster.position(member);
    let wraps = match (distributor, index) {
        (Some(d), Some(i)) if i != d => {
            let at = if i > d { i - 1 } else { i };
            upload.wraps().get(at).map(|w| vec![*w]).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    Distribution::new(
        upload.core().clone(),
        *upload.signature(),
        RosterSection::Full(roster.clone()),
        wraps,
    )
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
    let (alice, a) = device(&mut rng, "alice", 1);
    let (bob, b) = device(&mut rng, "bob", 2);
    let (carol, c) = device(&mut rng, "carol", 3);
    let (dave, d) = device(&mut rng, "dave", 4);
    let group_id = GroupId::new(GROUP_ID).expect("group id");
    let member = |keys: &DeviceKeys| {
        Group::new(
            group_id.clone(),
            keys.address().clone(),
            GracePolicy::default(),
        )
    };
    let abc = [a.clone(), b.clone(), c.clone()];

    // Epoch 1.
    let mut at_alice = member(&alice);
    let mut alice_sessions = BTreeMap::new();
    let e1 = at_alice
        .propose(&mut rng, &alice, &abc, None, &mut alice_sessions, now())
        .expect("epoch 1")
        .upload;
    let v1 = e1
        .verify_for_server(None, alice.address())
        .expect("server accepts epoch 1");
    at_alice.commit(now()).expect("epoch 1 committed");
    let r1 = v1.record();
    let mut bob_sessions = BTreeMap::new();
    for (peer, bundle) in [(&alice, &a), (&carol, &c), (&dave, &d)] {
        bob_sessions.insert(
            peer.address().clone(),
            Session::new(&bob, bundle).expect("Bob's session"),
        );
    }
    let s0 = member(&bob);
    let mut s1 = member(&bob);
    s1.process(
        &bob,
        &v1.view_for(bob.address()).expect("view"),
        &mut bob_sessions,
        now(),
    )
    .expect("Bob processes epoch 1");
    let mut at_carol = member(&carol);
    let mut carol_sessions = BTreeMap::from([(
        alice.address().clone(),
        Session::new(&carol, &a).expect("Carol's session"),
    )]);
    at_carol
        .process(
            &carol,
            &v1.view_for(carol.address()).expect("view"),
            &mut carol_sessions,
            now(),
        )
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
        &a,
        &at_alice,
        &abc,
        &mut alice_sessions,
        |_| {},
        |m| {
            if m == bob.address() {
                [0x22; 32]
            } else {
                [0x11; 32]
            }
        },
        [0x11; 32],
    );
    uploads.push(("e2_split_secret", split, Some(r1.clone())));
    let t1 = r1.transcript;
    let outsider = forge(
        &mut rng,
        &dave,
        &d,
        &member(&dave),
        &[a.clone(), b.clone(), c.clone(), d.clone()],
        &mut BTreeMap::new(),
        |f| {
            f.epoch = 2;
            f.previous_transcript = t1;
        },
        |_| [0x33; 32],
        [0x33; 32],
    );
    uploads.push(("e2_dave_outsider", outsider, Some(r1.clone())));
    // Carol's own history: her epoch 1, then her epoch 2 on it.
    let mut other = member(&carol);
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
        &a,
        &member(&alice),
        &abc,
        &mut BTreeMap::new(),
        |f| f.epoch = 0,
        |_| [0x44; 32],
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

    let groups = [save(&s1), save(&s0)];
    let sessions = save_sessions(&bob_sessions);
    let signed: Vec<Signed> = uploads
        .into_iter()
        .map(|(name, upload, base)| {
            let roster = rebuilt(&upload, base.as_ref());
            let full = full_view(&upload, &roster, bob.address());
            let bob_wrap = full.wraps().first().copied();
            let at_bob = [0, 1].map(|s| {
                let mut group: Group = load(&groups[s]);
                let mut sessions = load_sessions(&sessions);
                group
                    .process(&bob, &full, &mut sessions, now())
                    .map(|p| (p, save(&group)))
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
    let outcomes: Vec<[&str; 2]> = signed
        .iter()
        .map(|s| {
            s.at_bob.each_ref().map(|r| match r {
                Ok((Processed::Installed { .. }, _)) => "Installed",
                Ok((Processed::AlreadyProcessed { .. }, _)) => "AlreadyProcessed",
                Ok(_) => "other",
                Err(e) => e.name(),
            })
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ["AlreadyProcessed", "Installed"],
            ["Installed", "Installed"],
            ["NotAMember", "NotAMember"],
            ["Installed", "Installed"],
            ["ConfirmationMismatch", "ConfirmationMismatch"],
            // A member joining with no epoch cannot check the history before it
            // (SPEC.md §8.12): it trusts the distributor that adds it.
            ["NotPreviousMember", "Installed"],
            ["ConflictingEpoch", "Installed"],
            ["ForkedHistory", "Installed"],
            ["InvalidEpoch", "InvalidEpoch"],
            ["Installed", "Installed"],
            ["EpochGap", "Installed"],
        ],
        "fixture outcomes at Bob (S1, S0)"
    );
    Fixture {
        bob,
        groups,
        sessions,
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
    let mut group: Group = load(&fx.groups[state]);
    let mut sessions = load_sessions(&fx.sessions);
    match group.process(&fx.bob, &d, &mut sessions, now()) {
        Ok(outcome) => {
            let Some(s) = signed_as(&d) else {
                panic!("FORGERY: Bob accepted a core nobody signed: {outcome:?}");
            };
            let bob_wrap = match (&outcome, d.wraps()) {
                (Processed::AlreadyProcessed { .. }, _) => s.bob_wrap,
                (_, [only]) => Some(*only),
                (_, all) => {
                    let index = s.roster.position(fx.bob.address()).unwrap();
                    let distributor = s.roster.position(d.core().distributor()).unwrap();
                    all.get(if index > distributor {
                        index - 1
                    } else {
                        index
                    })
                    .copied()
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
            assert_eq!(&save(&group), after, "state after {}", s.name);
            let again = group.process(&fx.bob, &d, &mut sessions, now());
            assert_eq!(
                again,
                Ok(Processed::AlreadyProcessed {
                    epoch: d.core().epoch()
                }),
                "processing {} again",
                s.name
            );
            assert_eq!(
                &save(&group),
                after,
                "processing {} again changed the state",
                s.name
            );
        }
        Err(err) => {
            assert_eq!(
                save(&group),
                fx.groups[state],
                "a failed process ({err:?}) changed the group state"
            );
            assert_eq!(
                save_sessions(&sessions),
                fx.sessions,
                "a failed process ({err:?}) changed a session"
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
                ),
                "process failed with {err:?}"
            );
        }
    }
}

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

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
    let mut group: Group = load(&fx.groups[state]);
    let mut sessions = load_sessions(&fx.sessions);
    match group.process(&fx.bob, &d, &mut sessions, now()) {
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
        .view_for(fx.bob.address())
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
    );
    let no_wrap = Distribution::new(
        e1.full_view.core().clone(),
        *e1.full_view.signature(),
        e1.full_view.section().clone(),
        Vec::new(),
    );
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
            );
            input(3, &short)
        }),
        ("trunc_minus1", truncated),
        ("s0_e1_core_with_e2_roster", {
            let other = Distribution::new(
                e1.full_view.core().clone(),
                *e1.full_view.signature(),
                RosterSection::Full(e2.roster.clone()),
                e1.full_view.wraps().to_vec(),
            );
            input(1, &other)
        }),
        ("version_1", v1),
    ];
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
