//! LS3 groups through the public API (SPEC.md §8): BRIEF §4 requirement 7.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use letterseal::codec::Writer;
use letterseal::device::DeviceKeys;
use letterseal::group::{
    Distribution, EpochSecret, GracePolicy, Group, GroupError, GroupHeader, GroupId,
    GroupOpenError, Member, Roster, sender_chain,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::labels;
use letterseal::pairwise::{ContentType, OpenError, Session};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const T0: u64 = 1_800_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(T0)
}

struct Device {
    keys: DeviceKeys,
    bundle: VerifiedBundle,
    group: Group,
    sessions: BTreeMap<DeviceAddress, Session>,
}

struct World {
    rng: ChaCha20Rng,
    devices: Vec<Device>,
    id: GroupId,
}

fn world(seed: u8, n: usize, grace: GracePolicy) -> World {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let id = GroupId::new(format!("group {seed}")).unwrap();
    let devices = (0..n)
        .map(|i| {
            let address = DeviceAddress::new(
                UserId::new(format!("user{i:05}")).unwrap(),
                DeviceId::new(1),
            );
            let mut keys = DeviceKeys::generate(&mut rng, address.clone());
            let bundle = keys
                .add_sealing_key(&mut rng, now(), 30 * 86_400)
                .verify(
                    &keys.address().clone().into(),
                    &RegistrationPolicy::default(),
                    now(),
                    None,
                    &NoDirectory,
                )
                .unwrap();
            Device {
                keys,
                bundle,
                group: Group::new(id.clone(), address, grace),
                sessions: BTreeMap::new(),
            }
        })
        .collect();
    World { rng, devices, id }
}

impl World {
    fn address(&self, i: usize) -> DeviceAddress {
        self.devices[i].keys.address().clone()
    }

    /// Device `from` distributes a new epoch for `members`; the server checks it
    /// and every other member in `receivers` processes its view.
    fn distribute(&mut self, from: usize, members: &[usize], receivers: &[usize]) -> Distribution {
        let bundles: Vec<VerifiedBundle> = members
            .iter()
            .map(|&i| self.devices[i].bundle.clone())
            .collect();
        let d = &mut self.devices[from];
        let (distribution, _) = d
            .group
            .distribute(&mut self.rng, &d.keys, &bundles, &mut d.sessions, now())
            .unwrap();
        distribution.verify_for_server(None).unwrap();
        for &r in receivers {
            if r == from {
                continue;
            }
            let view = distribution.for_member(&self.address(r)).unwrap();
            self.process(r, from, &view).unwrap();
        }
        distribution
    }

    fn process(
        &mut self,
        member: usize,
        from: usize,
        view: &Distribution,
    ) -> Result<(), GroupError> {
        let from_bundle = self.devices[from].bundle.clone();
        let from_address = self.address(from);
        let d = &mut self.devices[member];
        let session = d
            .sessions
            .entry(from_address)
            .or_insert_with(|| Session::new(&d.keys, &from_bundle).unwrap());
        d.group.process(&d.keys, view, session, now()).map(|_| ())
    }

    fn send(&mut self, from: usize, text: &[u8]) -> Vec<u8> {
        let d = &mut self.devices[from];
        d.group
            .seal(&mut self.rng, &d.keys, ContentType::Text, text, b"")
            .unwrap()
    }

    fn open(&mut self, at: usize, message: &[u8]) -> Result<Vec<u8>, GroupOpenError> {
        self.devices[at]
            .group
            .open(message, b"", now())
            .map(|o| o.plaintext.to_vec())
    }

    fn state(&self, i: usize) -> String {
        serde_json::to_string(&self.devices[i].group).unwrap()
    }
}

/// The secret of the current epoch as stored in a member's state (what a
/// malicious member holds).
fn current_secret(group: &Group) -> EpochSecret {
    let json: serde_json::Value = serde_json::to_value(group).unwrap();
    let epochs = json["epochs"].as_array().unwrap();
    let hex_secret = epochs.last().unwrap()["secret"].as_str().unwrap();
    EpochSecret::from_bytes(hex::decode(hex_secret).unwrap().try_into().unwrap())
}

#[test]
fn members_exchange_messages_and_replays_fail() {
    let mut w = world(1, 3, GracePolicy::default());
    w.distribute(0, &[0, 1, 2], &[1, 2]);
    for from in 0..3 {
        let m = w.send(from, format!("hi from {from}").as_bytes());
        for to in (0..3).filter(|&t| t != from) {
            assert_eq!(
                w.open(to, &m).unwrap(),
                format!("hi from {from}").as_bytes()
            );
            assert_eq!(
                w.open(to, &m).unwrap_err(),
                GroupOpenError::Replay { counter: 0 }
            );
        }
        assert_eq!(w.open(from, &m).unwrap_err(), GroupOpenError::OwnMessage);
    }
}

#[test]
fn a_member_cannot_impersonate_another() {
    let mut w = world(2, 3, GracePolicy::default());
    w.distribute(0, &[0, 1, 2], &[1, 2]);
    let (bob, mallory) = (1usize, 2usize);
    // A legitimate message from Bob opens for everyone.
    let real = w.send(bob, b"I am Bob");
    assert_eq!(w.open(0, &real).unwrap(), b"I am Bob");
    assert_eq!(w.open(mallory, &real).unwrap(), b"I am Bob");

    // Mallory holds the epoch secret, derives Bob's chain, and forges "from Bob".
    let secret = current_secret(&w.devices[mallory].group);
    let roster = w.devices[mallory].group.roster().unwrap().clone();
    let bob_member = roster.get(&w.address(bob)).unwrap().clone();
    let mut header = GroupHeader {
        content_type: ContentType::Text,
        group_id: w.id.clone(),
        epoch: 1,
        sender: w.address(bob),
        counter: 5,
        salt: [9; 16],
        commitment: [0; 32],
    };
    let chain = sender_chain(
        &secret,
        &w.id,
        1,
        &roster.hash(&w.id),
        &bob_member.address,
        &bob_member.identity_key,
    );
    let keys = chain.message_keys(&header.salt, &header.bound_fields());
    header.commitment = keys.commitment;
    let head = header.encode();
    let mut forged = head.clone();
    forged.extend(letterseal::aead::seal(
        &keys.aead_key,
        &keys.nonce,
        &head,
        b"Bob says: pay Mallory",
    ));
    // Mallory can only sign with her own identity key.
    let sig = w.devices[mallory]
        .keys
        .identity()
        .sign_labeled(labels::sig::GROUP_MESSAGE, &forged);
    forged.extend(sig.to_bytes());

    let before = w.state(0);
    assert_eq!(
        w.open(0, &forged).unwrap_err(),
        GroupOpenError::BadSignature
    );
    assert_eq!(w.state(0), before);
    // The symmetric part alone would have passed: the chain really is Bob's.
    let mut unsigned_check = forged.clone();
    unsigned_check.truncate(forged.len() - 64);
    assert!(
        letterseal::aead::open(
            &keys.aead_key,
            &keys.nonce,
            &head,
            &unsigned_check[head.len()..]
        )
        .is_ok()
    );
    // And Bob's next real message still opens.
    let next = w.send(bob, b"still me");
    assert_eq!(w.open(0, &next).unwrap(), b"still me");
}

#[test]
fn removed_member_cannot_read_on_and_old_distributions_are_stale() {
    let mut w = world(3, 3, GracePolicy::default());
    let first = w.distribute(0, &[0, 1, 2], &[1, 2]);
    let before_removal = w.send(1, b"epoch 1");
    assert_eq!(w.open(2, &before_removal).unwrap(), b"epoch 1");

    // Remove Carol (2): a new epoch for {0, 1}.
    let second = w.distribute(0, &[0, 1], &[1]);
    assert!(
        second.for_member(&w.address(2)).is_none(),
        "no wrap for the removed member"
    );
    // Even with the full distribution, Carol is not in the roster.
    assert_eq!(
        w.process(2, 0, &second).unwrap_err(),
        GroupError::NotAMember
    );
    let after = w.send(1, b"epoch 2, Carol is gone");
    assert_eq!(w.open(0, &after).unwrap(), b"epoch 2, Carol is gone");
    assert_eq!(
        w.open(2, &after).unwrap_err(),
        GroupOpenError::UnknownEpoch(2)
    );

    // Carol replays the epoch-1 distribution to Bob: rejected as an old epoch.
    let replayed = first.for_member(&w.address(1)).unwrap();
    let before = w.state(1);
    assert_eq!(
        w.process(1, 0, &replayed).unwrap_err(),
        GroupError::StaleEpoch
    );
    assert_eq!(w.state(1), before);
    // The server refuses it too.
    assert_eq!(
        first.verify_for_server(Some(2)).unwrap_err(),
        GroupError::StaleEpoch
    );
}

#[test]
fn added_member_cannot_read_back() {
    let mut w = world(4, 3, GracePolicy::default());
    w.distribute(0, &[0, 1], &[1]);
    let old = w.send(1, b"before Dave");
    let second = w.distribute(0, &[0, 1, 2], &[1, 2]);
    assert_eq!(second.core().epoch, 2);
    assert_eq!(
        w.open(2, &old).unwrap_err(),
        GroupOpenError::UnknownEpoch(1)
    );
    let new = w.send(1, b"welcome");
    assert_eq!(w.open(2, &new).unwrap(), b"welcome");
}

fn encode_with(distribution: &Distribution, core_bytes: &[u8], wraps: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes_u32(core_bytes).unwrap();
    w.raw(&distribution.signature().to_bytes());
    w.u32(wraps.len() as u32);
    for wrap in wraps {
        w.bytes_u32(wrap).unwrap();
    }
    w.into_bytes()
}

#[test]
fn distribution_rejections_each_have_their_own_error() {
    let mut w = world(5, 4, GracePolicy::default());
    let (alice, bob, carol, dave) = (0usize, 1usize, 2usize, 3usize);
    let bundles: Vec<VerifiedBundle> = [alice, bob, carol]
        .iter()
        .map(|&i| w.devices[i].bundle.clone())
        .collect();
    let d = &mut w.devices[alice];
    let (good, _) = d
        .group
        .distribute(&mut w.rng, &d.keys, &bundles, &mut d.sessions, now())
        .unwrap();

    // Signed by a non-member: Dave signs a core naming himself as distributor.
    let mut core = good.core().clone();
    core.distributor = w.address(dave);
    let by_dave = Distribution::sign(core, good.wraps().to_vec(), w.devices[dave].keys.identity());
    assert_eq!(
        by_dave.verify_for_server(None).unwrap_err(),
        GroupError::DistributorNotMember
    );
    assert_eq!(
        w.process(bob, dave, &by_dave.for_member(&w.address(bob)).unwrap())
            .unwrap_err(),
        GroupError::DistributorNotMember
    );

    // A tampered roster (Carol's identity key replaced by Dave's), signature kept.
    let mut core = good.core().clone();
    let mut members: Vec<Member> = core.roster.members().to_vec();
    members[carol].identity_key = w.devices[dave].keys.identity().public_key();
    core.roster = Roster::new(members).unwrap();
    let tampered = encode_with(&good, &core.encode(), good.wraps());
    let tampered = Distribution::decode(&tampered).unwrap();
    assert_eq!(
        tampered.verify_for_server(None).unwrap_err(),
        GroupError::RosterHashMismatch
    );
    assert_eq!(
        w.process(bob, alice, &tampered.for_member(&w.address(bob)).unwrap())
            .unwrap_err(),
        GroupError::RosterHashMismatch
    );

    // Any other change to the signed core: bad signature.
    let mut core = good.core().clone();
    core.previous_epoch = 0;
    core.epoch = 7;
    let resigned_elsewhere =
        Distribution::decode(&encode_with(&good, &core.encode(), good.wraps())).unwrap();
    assert_eq!(
        resigned_elsewhere.verify_for_server(None).unwrap_err(),
        GroupError::BadSignature
    );

    // A wrap moved from Bob to Carol.
    let bob_view = good.for_member(&w.address(bob)).unwrap();
    let moved =
        Distribution::decode(&encode_with(&good, &good.core().encode(), bob_view.wraps())).unwrap();
    let before = w.state(carol);
    assert_eq!(
        w.process(carol, alice, &moved).unwrap_err(),
        GroupError::WrapMismatch
    );
    assert_eq!(w.state(carol), before);
    let mut swapped = good.wraps().to_vec();
    swapped.swap(0, 1);
    let swapped =
        Distribution::decode(&encode_with(&good, &good.core().encode(), &swapped)).unwrap();
    assert_eq!(
        swapped.verify_for_server(None).unwrap_err(),
        GroupError::WrapMismatch
    );

    // Lower or equal epoch: Bob processes epoch 1, then sees it again.
    w.process(bob, alice, &bob_view).unwrap();
    assert_eq!(
        w.process(bob, alice, &bob_view).unwrap_err(),
        GroupError::StaleEpoch
    );
    assert_eq!(
        good.verify_for_server(Some(1)).unwrap_err(),
        GroupError::StaleEpoch
    );

    // Processed over a session with someone other than the distributor.
    let carol_view = good.for_member(&w.address(carol)).unwrap();
    assert_eq!(
        w.process(carol, dave, &carol_view).unwrap_err(),
        GroupError::DistributorMismatch
    );
    // A device not in the roster.
    assert_eq!(
        w.process(dave, alice, &carol_view).unwrap_err(),
        GroupError::NotAMember
    );
    // Another group.
    let mut other = Group::new(
        GroupId::new("other").unwrap(),
        w.address(carol),
        GracePolicy::default(),
    );
    let alice_bundle = w.devices[alice].bundle.clone();
    let carol_dev = &mut w.devices[carol];
    let mut s = Session::new(&carol_dev.keys, &alice_bundle).unwrap();
    assert_eq!(
        other
            .process(&carol_dev.keys, &carol_view, &mut s, now())
            .unwrap_err(),
        GroupError::WrongGroup
    );
    // Finally Carol's genuine view still processes.
    w.process(carol, alice, &carol_view).unwrap();
    assert!(matches!(
        Distribution::decode(&[0, 0, 0]).unwrap_err(),
        GroupError::Malformed(_)
    ));
}

#[test]
fn distributor_and_member_keys_must_be_the_rostered_ones() {
    let mut w = world(15, 3, GracePolicy::default());
    let (alice, bob, carol) = (0usize, 1usize, 2usize);
    let good = w.distribute(alice, &[alice, bob, carol], &[]);
    let carol_view = good.for_member(&w.address(carol)).unwrap();

    // A session with Alice's address under another identity (a reinstall) is not the
    // distributor the roster names.
    let alice_address = w.address(alice);
    let mut reinstalled = DeviceKeys::generate(&mut w.rng, alice_address);
    let reinstalled_bundle = reinstalled
        .add_sealing_key(&mut w.rng, now(), 86_400)
        .verify(
            &reinstalled.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    let c = &mut w.devices[carol];
    let mut to_impostor = Session::new(&c.keys, &reinstalled_bundle).unwrap();
    assert_eq!(
        c.group
            .process(&c.keys, &carol_view, &mut to_impostor, now())
            .unwrap_err(),
        GroupError::DistributorMismatch
    );

    // Carol rotated and retired the sealing key the roster names: not a member under it.
    let rostered = w.devices[carol].bundle.sealing_key_id();
    let c = &mut w.devices[carol];
    c.keys
        .add_sealing_key(&mut w.rng, now().saturating_add(60), 86_400);
    assert!(c.keys.retire(rostered));
    let before = w.state(carol);
    assert_eq!(
        w.process(carol, alice, &carol_view).unwrap_err(),
        GroupError::NotAMember
    );
    assert_eq!(w.state(carol), before);
}

#[test]
fn redistribution_seals_to_a_rotated_member_key() {
    let mut w = world(16, 3, GracePolicy::default());
    let (alice, bob, carol) = (0usize, 1usize, 2usize);
    w.distribute(alice, &[alice, bob, carol], &[bob, carol]);

    // Bob rotates; Alice's next distribution (her session still seals to Bob's old key)
    // must use the bundle she is given, so Bob can retire the old key at once.
    let old = w.devices[bob].bundle.sealing_key_id();
    let b = &mut w.devices[bob];
    b.bundle = b
        .keys
        .add_sealing_key(&mut w.rng, now().saturating_add(60), 86_400)
        .verify(
            &b.keys.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    assert!(b.keys.retire(old));
    w.distribute(alice, &[alice, bob, carol], &[bob, carol]);
    let text = w.send(alice, b"after rotation");
    assert_eq!(w.open(bob, &text).unwrap(), b"after rotation");
}

#[test]
fn wraps_bind_group_epoch_and_roster() {
    // The wrap is a pairwise message whose associated data carries the group,
    // epoch and roster hash: opened with anything else it fails.
    let mut w = world(6, 2, GracePolicy::default());
    let dist = w.distribute(0, &[0, 1], &[]);
    let wrap = dist.wraps()[0].clone();
    let bob = &w.devices[1];
    let mut session = Session::new(&bob.keys, &w.devices[0].bundle).unwrap();
    let wrong = letterseal::group::wrap_associated_data(&w.id, 2, &dist.core().roster_hash);
    assert_eq!(
        session.open(&bob.keys, now(), &wrap, &wrong).unwrap_err(),
        OpenError::AuthenticationFailed
    );
    let right = letterseal::group::wrap_associated_data(&w.id, 1, &dist.core().roster_hash);
    assert_eq!(
        session
            .open(&bob.keys, now(), &wrap, &right)
            .unwrap()
            .plaintext
            .len(),
        32
    );
}

#[test]
fn out_of_order_tampering_and_atomic_failure() {
    let mut w = world(7, 2, GracePolicy::default());
    w.distribute(0, &[0, 1], &[1]);
    let m: Vec<Vec<u8>> = (0..4)
        .map(|i| w.send(0, format!("m{i}").as_bytes()))
        .collect();
    let o = w.devices[1].group.open(&m[2], b"", now()).unwrap();
    assert_eq!((o.counter, o.skipped, o.late), (2, 2, false));
    let o = w.devices[1].group.open(&m[0], b"", now()).unwrap();
    assert_eq!((o.counter, o.late), (0, true));
    // Tampering with any byte of m[3] fails and changes nothing.
    let before = w.state(1);
    for i in 0..m[3].len() {
        let mut bad = m[3].clone();
        bad[i] ^= 0x04;
        assert!(w.open(1, &bad).is_err(), "byte {i}");
        assert_eq!(w.state(1), before, "byte {i}");
    }
    let mut truncated = m[3].clone();
    truncated.pop();
    assert!(w.open(1, &truncated).is_err());
    assert!(w.devices[1].group.open(&m[3], b"wrong ad", now()).is_err());
    assert_eq!(w.state(1), before);
    assert_eq!(w.open(1, &m[3]).unwrap(), b"m3");
    assert_eq!(w.open(1, &m[1]).unwrap(), b"m1");
}

#[test]
fn grace_period_by_count_and_by_time() {
    let grace = GracePolicy {
        previous_epochs: 1,
        max_age_seconds: Some(100),
    };
    let mut w = world(8, 2, grace);
    w.distribute(0, &[0, 1], &[1]);
    let e1 = w.send(0, b"epoch 1");
    w.distribute(0, &[0, 1], &[1]);
    let e2 = w.send(0, b"epoch 2");
    // Epoch 1 is still openable within its grace period...
    assert_eq!(
        w.devices[1]
            .group
            .open(&e1, b"", now().saturating_add(100))
            .unwrap()
            .epoch,
        1
    );
    // ...not after it (the grace check comes before the replay check).
    assert_eq!(
        w.devices[1]
            .group
            .open(&e1, b"", now().saturating_add(101))
            .unwrap_err(),
        GroupOpenError::EpochExpired(1)
    );
    w.devices[1].group.expire(now().saturating_add(101));
    assert_eq!(w.devices[1].group.openable_epochs(), [2]);
    assert_eq!(w.open(1, &e2).unwrap(), b"epoch 2");
    // By count: after epoch 3, epoch 2 is the one kept, epoch 1 is gone anyway.
    w.distribute(0, &[0, 1], &[1]);
    assert_eq!(w.devices[1].group.openable_epochs(), [2, 3]);
    w.distribute(0, &[0, 1], &[1]);
    assert_eq!(w.devices[1].group.openable_epochs(), [3, 4]);
}

#[test]
fn epoch_changes_are_reported() {
    let mut w = world(9, 4, GracePolicy::default());
    w.distribute(0, &[0, 1, 2], &[1, 2]);
    // Carol rotates her sealing key; Dave joins; Bob leaves.
    let carol_new = {
        let d = &mut w.devices[2];
        d.keys
            .add_sealing_key(&mut w.rng, now().saturating_add(1), 86_400)
            .verify(
                &d.keys.address().clone().into(),
                &RegistrationPolicy::default(),
                now().saturating_add(1),
                None,
                &NoDirectory,
            )
            .unwrap()
    };
    w.devices[2].bundle = carol_new;
    let bundles: Vec<VerifiedBundle> = [0, 2, 3]
        .iter()
        .map(|&i| w.devices[i].bundle.clone())
        .collect();
    let d = &mut w.devices[0];
    let (dist, change) = d
        .group
        .distribute(&mut w.rng, &d.keys, &bundles, &mut d.sessions, now())
        .unwrap();
    assert_eq!(change.joined, [w.address(3)]);
    assert_eq!(change.left, [w.address(1)]);
    assert_eq!(change.rekeyed, [w.address(2)]);
    let view = dist.for_member(&w.address(2)).unwrap();
    w.process(2, 0, &view).unwrap();
    let m = w.send(2, b"new key, same me");
    assert_eq!(w.open(0, &m).unwrap(), b"new key, same me");
}

#[test]
fn state_round_trips_and_versions_are_checked() {
    let mut w = world(10, 2, GracePolicy::default());
    w.distribute(0, &[0, 1], &[1]);
    let m0 = w.send(0, b"zero");
    w.open(1, &m0).unwrap();
    let m1 = w.send(0, b"one");
    let saved = w.state(1);
    let mut restored: Group = serde_json::from_str(&saved).unwrap();
    assert_eq!(
        restored.open(&m1, b"", now()).unwrap().plaintext.as_slice(),
        b"one"
    );
    assert_eq!(
        restored.open(&m0, b"", now()).unwrap_err(),
        GroupOpenError::Replay { counter: 0 }
    );
    let mut json: serde_json::Value = serde_json::from_str(&saved).unwrap();
    json["version"] = 2.into();
    assert!(serde_json::from_value::<Group>(json).is_err());
    assert!(
        !format!("{:?}", w.devices[1].group)
            .contains(&hex::encode(current_secret(&w.devices[1].group).as_bytes())[..16])
    );
}

#[test]
fn golden_group_state_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut group: Group =
        serde_json::from_str(&std::fs::read_to_string(dir.join("group-v1.json")).unwrap()).unwrap();
    let message = hex::decode(
        std::fs::read_to_string(dir.join("group-message-v1.hex"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let opened = group.open(&message, b"golden", now()).unwrap();
    assert_eq!(
        opened.plaintext.as_slice(),
        b"group state saved by letterseal 0.1.0"
    );
    assert_eq!(opened.epoch, 1);
}

#[test]
#[ignore = "writes tests/golden; run once per state version"]
fn write_golden_group_files() {
    let mut w = world(42, 2, GracePolicy::default());
    w.distribute(0, &[0, 1], &[1]);
    let d = &mut w.devices[0];
    let m = d
        .group
        .seal(
            &mut w.rng,
            &d.keys,
            ContentType::Text,
            b"group state saved by letterseal 0.1.0",
            b"golden",
        )
        .unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    std::fs::write(
        dir.join("group-v1.json"),
        serde_json::to_string_pretty(&w.devices[1].group).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("group-message-v1.hex"), hex::encode(m) + "\n").unwrap();
}

/// 5,000 member devices in one process: create, distribute, remove one,
/// redistribute, exchange messages. Every member's wrap is checked by the
/// server; a sample of members processes its view and reads messages.
#[test]
fn five_thousand_members() {
    let n = 5000;
    let mut w = world(11, n, GracePolicy::default());
    let everyone: Vec<usize> = (0..n).collect();
    let sample = [1usize, 2, 777, 2500, 4998, 4999];
    let first = w.distribute(0, &everyone, &sample);
    assert_eq!(first.wraps().len(), n - 1);
    assert_eq!(first.core().roster.len(), n);

    let hello = w.send(2500, b"hello, five thousand");
    for &i in &[0usize, 1, 777, 4999] {
        assert_eq!(w.open(i, &hello).unwrap(), b"hello, five thousand");
    }

    // Remove member 4999 and redistribute with the sessions now cached.
    let remaining: Vec<usize> = (0..n - 1).collect();
    let second = w.distribute(0, &remaining, &sample[..5]);
    assert_eq!(second.wraps().len(), n - 2);
    assert!(second.for_member(&w.address(4999)).is_none());
    let after = w.send(777, b"4999 has left");
    assert_eq!(w.open(1, &after).unwrap(), b"4999 has left");
    assert_eq!(w.open(4998, &after).unwrap(), b"4999 has left");
    assert_eq!(
        w.open(4999, &after).unwrap_err(),
        GroupOpenError::UnknownEpoch(2)
    );
}
