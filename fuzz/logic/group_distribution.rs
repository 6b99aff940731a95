//! Fuzz target: `Distribution::decode`, the server's check and a member's
//! `Group::process` (SPEC.md §8.2–8.4).
//!
//! A fixture is built once, deterministically (a fixed ChaCha20 seed), so the
//! checked-in seeds stay valid: devices Alice (`alice`/1), Bob (`bob`/2) and
//! Carol (`carol`/3), bundles verified with `NoDirectory`. Alice's `Group`
//! distributes epoch 1 to {Alice, Bob, Carol}, epoch 2 to {Alice, Bob} and
//! epoch 3 to {Alice, Carol}; Carol's own `Group` distributes an epoch 1 to all
//! three; and Alice, misbehaving, signs epochs 4 and 5 whose wrap for Bob
//! authenticates but carries the wrong content (content type text; a 31-byte
//! group key). These are the *signed* distributions. Bob's state is saved
//! (JSON): a `Group` with no epoch yet and a fresh `Session` with Alice; at
//! setup Bob processes his view of each signed distribution from that state,
//! and the outcome is recorded.
//!
//! Input: an encoded distribution. Checks:
//!
//! - decoding never panics, and is strict: a decoded distribution re-encodes
//!   to exactly the input, and its core re-encodes to exactly the signed bytes;
//! - the server's check (`verify_for_server` with no last epoch and with last
//!   epoch 1) never panics and is consistent (with a last epoch of 1, an epoch
//!   above 1 gives the same result, any other fails, with `StaleEpoch` if the
//!   first passed); the server accepts every full distribution made at
//!   setup, and nothing else (anything else it accepts is a **forgery**);
//! - `process` at Bob's saved state never panics; a failure leaves the
//!   serialized group state byte-identical, and the session state too, except
//!   for `InvalidWrap` (SPEC.md §8.4: a wrap that authenticated but carried the
//!   wrong content consumed its pairwise counter): then the session state must
//!   be exactly the one opening that wrap alone gives, the wrap must open to
//!   the wrong content, and the core must be one Alice signed;
//! - a distribution (or Bob's view of it) that Bob accepted at setup is never
//!   rejected;
//! - a distribution that `process` accepts has the core, the signature and
//!   the wrap for Bob of one Bob accepted at setup (anything else is a
//!   **forgery**), and gives the same epoch change, group state and session
//!   state. Wraps for *other* members may differ: SPEC.md §8.4 has a member
//!   check only its own wrap (the server checks them all), so a full
//!   distribution with another member's wrap tampered with is accepted by Bob
//!   and refused by the server (seed `mut_d1_carol_wrap_bit`);
//! - processing it again is `StaleEpoch` and changes nothing.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/group_distribution.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`.
//! The seeds in `fuzz/corpus/group_distribution/` are generated from the fixture
//! (`seeds` below): a change to the fixture, or to anything its bytes depend
//! on, needs them regenerated (`cargo test --test fuzz_corpus -- --ignored
//! regenerate_group_seeds`).
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
    Distribution, DistributionCore, EpochChange, GracePolicy, Group, GroupError, GroupId, Roster,
    wrap_associated_data, wrap_digest,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::{ContentType, Session};
use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

// ---- fixture ----------------------------------------------------------------

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
            .seal(
                alice,
                rng,
                Timestamp::from_unix_seconds(NOW),
                content_type,
                plaintext,
                &ad,
            )
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
            let mut with_alice: Session = serde_json::from_slice(&session).expect("session loads");
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

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
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
    let mut session: Session = serde_json::from_slice(&fx.session).expect("saved session loads");
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
                !fx.signed
                    .iter()
                    .any(|s| s.at_bob.is_ok()
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
                    .open(&fx.bob, Timestamp::from_unix_seconds(NOW), wrap, &ad)
                    .expect("the wrap of an InvalidWrap opens");
                assert!(
                    opened.content_type != ContentType::GroupKey || opened.plaintext.len() != 32,
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

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

/// What Bob processing a `group_distribution` input gives: "Ok", the
/// error's name, or "undecodable".
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> &'static str {
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
#[cfg(test)]
pub(crate) fn server_outcome(data: &[u8]) -> &'static str {
    match Distribution::decode(data).map(|d| d.verify_for_server(None)) {
        Err(_) => "undecodable",
        Ok(Ok(())) => "Ok",
        Ok(Err(e)) => e.name(),
    }
}

/// The `group_distribution` seeds, from the fixture.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
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
