//! LS3 groups through the public API (SPEC.md §8): BRIEF §4 requirement 7,
//! and the group state machine under concurrent and hostile members.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use letterseal::codec::DecodeError;
use letterseal::device::DeviceKeys;
use letterseal::group::{
    CoreFields, Distribution, EpochSecret, GracePolicy, Group, GroupError, GroupHeader, GroupId,
    GroupOpenError, GroupSealError, MAX_WRAP_LEN, Processed, Proposal, Roster, RosterPolicy,
    RosterSection, RotationPolicy, RotationReason, ServerRecord, Transcript, VerifiedDistribution,
    Wrap, sender_chain, tree_leaf, wrap_context, wrap_list_hash,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{IdentitySecretKey, KemDecapsulationKey, SealingSecretKey};
use letterseal::labels;
use letterseal::pairwise::{ContentType, Session};
use letterseal::registration::{ExpectedOwner, NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::state::{StateError, StateKind, StorageKey};
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

/// Devices `user00000`, `user00001`, … and a server holding the group's record.
struct World {
    rng: ChaCha20Rng,
    devices: Vec<Device>,
    id: GroupId,
    record: Option<ServerRecord>,
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
                    &ExpectedOwner::Device(address.clone()),
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
    World {
        rng,
        devices,
        id,
        record: None,
    }
}

fn user(i: usize) -> UserId {
    UserId::new(format!("user{i:05}")).unwrap()
}

impl World {
    fn address(&self, i: usize) -> DeviceAddress {
        self.devices[i].keys.address().clone()
    }

    fn bundles(&self, members: &[usize]) -> Vec<VerifiedBundle> {
        members
            .iter()
            .map(|&i| self.devices[i].bundle.clone())
            .collect()
    }

    fn propose(
        &mut self,
        from: usize,
        members: &[usize],
        policy: Option<RosterPolicy>,
    ) -> Result<Proposal, GroupError> {
        let bundles = self.bundles(members);
        let d = &mut self.devices[from];
        d.group.propose(
            &mut self.rng,
            &d.keys,
            &bundles,
            policy,
            &mut d.sessions,
            now(),
        )
    }

    /// The server's check of an upload by `from`; stores the record on success.
    fn upload(
        &mut self,
        from: usize,
        upload: &Distribution,
    ) -> Result<VerifiedDistribution, GroupError> {
        let verified = upload.verify_for_server(self.record.as_ref(), &self.address(from))?;
        self.record = Some(verified.record());
        Ok(verified)
    }

    /// `from` changes the roster to `members`; the server accepts; `from`
    /// commits; every member in `receivers` processes its view.
    fn change(
        &mut self,
        from: usize,
        members: &[usize],
        receivers: &[usize],
    ) -> VerifiedDistribution {
        self.change_with(from, members, None, receivers)
    }

    fn change_with(
        &mut self,
        from: usize,
        members: &[usize],
        policy: Option<RosterPolicy>,
        receivers: &[usize],
    ) -> VerifiedDistribution {
        let proposal = self.propose(from, members, policy).unwrap();
        let verified = self.upload(from, &proposal.upload).unwrap();
        let committed = self.devices[from].group.commit(now()).unwrap();
        assert_eq!(committed, proposal.change);
        for &r in receivers.iter().filter(|&&r| r != from) {
            let view = verified.view_for(&self.address(r)).unwrap();
            match self.process(r, &view).unwrap() {
                Processed::Installed { .. } => {}
                other => panic!("member {r}: {other:?}"),
            }
        }
        verified
    }

    /// Member `member` processes `view`, with a session to its distributor
    /// created from the distributor's bundle if it has none.
    fn process(&mut self, member: usize, view: &Distribution) -> Result<Processed, GroupError> {
        let distributor = view.core().distributor().clone();
        if let Some(from) = self
            .devices
            .iter()
            .position(|d| *d.keys.address() == distributor)
            && from != member
        {
            // The application holds the distributor's current bundle.
            let bundle = self.devices[from].bundle.clone();
            let d = &mut self.devices[member];
            d.sessions
                .entry(distributor)
                .or_insert_with(|| Session::new(&d.keys, &bundle).unwrap())
                .add_peer_bundle(&bundle)
                .unwrap();
        }
        let d = &mut self.devices[member];
        d.group.process(&mut d.keys, view, &mut d.sessions, now())
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

    /// The epoch secret member `m` holds (what a hostile member knows).
    fn secret_of(&self, m: usize) -> EpochSecret {
        EpochSecret::from_bytes(
            *self.devices[m]
                .group
                .hazmat_current_secret()
                .unwrap()
                .as_bytes(),
        )
    }
}

/// A hostile distributor's toolkit: signs any core it likes with its own
/// identity key and wraps whatever secrets it likes for each member.
struct Forge<'a> {
    w: &'a mut World,
    from: usize,
}

impl Forge<'_> {
    /// A distribution from `from` for `members`, with `fields` edited by
    /// `edit`, the secret for each member given by `secret_for`, signed.
    fn make(
        &mut self,
        members: &[usize],
        edit: impl FnOnce(&mut CoreFields),
        secret_for: impl Fn(usize) -> [u8; 32],
        confirmed_with: [u8; 32],
    ) -> (Distribution, Roster) {
        let w = &mut *self.w;
        let from = self.from;
        let bundles = w.bundles(members);
        let roster = Roster::from_bundles(&bundles).unwrap();
        let current = w.devices[from].group.current_epoch();
        let base = w.devices[from].group.roster().cloned();
        let mut fields = CoreFields {
            group_id: w.id.clone(),
            epoch: current.map_or(1, |e| e + 1),
            previous_transcript: w.devices[from]
                .group
                .transcript()
                .copied()
                .unwrap_or(Transcript::NONE),
            roster_hash: roster.hash(&w.id),
            policy: w.devices[from].group.policy().cloned().unwrap_or_default(),
            distributor: w.address(from),
            distributor_identity: w.devices[from].keys.identity().public_key().to_bytes(),
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
        let mut sorted = members.to_vec();
        sorted.sort_by_key(|&m| w.address(m));
        let mut wraps = Vec::new();
        for m in sorted.into_iter().filter(|&m| m != from) {
            let bundle = w.devices[m].bundle.clone();
            let d = &mut w.devices[from];
            let session = d
                .sessions
                .entry(bundle.owner().clone())
                .or_insert_with(|| Session::new(&d.keys, &bundle).unwrap());
            wraps.push(
                session
                    .seal(
                        &d.keys,
                        &mut w.rng,
                        now(),
                        ContentType::GroupKey,
                        &secret_for(m),
                        &context,
                    )
                    .unwrap(),
            );
        }
        fields.wrap_list_hash = wrap_list_hash(&wraps);
        let core = fields.confirmed(&EpochSecret::from_bytes(confirmed_with));
        let section = match base {
            Some(b) => RosterSection::Delta(b.delta_to(&roster).unwrap()),
            None => RosterSection::Full(roster.clone()),
        };
        let d = Distribution::sign(&core, w.devices[from].keys.identity(), section, wraps).unwrap();
        (d, roster)
    }
}

/// Member `m`'s view of an upload, with the full roster.
fn view_of(d: &Distribution, roster: &Roster, m: &DeviceAddress) -> Distribution {
    let distributor = roster.position(d.core().distributor()).unwrap();
    let i = roster.position(m).unwrap();
    let wrap = d.wraps()[if i > distributor { i - 1 } else { i }].clone();
    Distribution::new(
        d.core().clone(),
        *d.signature(),
        RosterSection::Full(roster.clone()),
        vec![wrap],
    )
    .unwrap()
}

// ---- messages ---------------------------------------------------------------

#[test]
fn members_exchange_messages_and_replays_fail() {
    let mut w = world(1, 3, GracePolicy::default());
    w.change(0, &[0, 1, 2], &[1, 2]);
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
    // Everyone agrees on the history.
    let t = *w.devices[0].group.transcript().unwrap();
    assert!((1..3).all(|i| *w.devices[i].group.transcript().unwrap() == t));
}

#[test]
fn a_member_cannot_impersonate_another() {
    let mut w = world(2, 3, GracePolicy::default());
    w.change(0, &[0, 1, 2], &[1, 2]);
    let (bob, mallory) = (1usize, 2usize);
    // Mallory keeps the epoch secret she received (her state deletes it once
    // it derives a chain).
    let secret = w.secret_of(mallory);
    let real = w.send(bob, b"I am Bob");
    assert_eq!(w.open(0, &real).unwrap(), b"I am Bob");
    assert_eq!(w.open(mallory, &real).unwrap(), b"I am Bob");
    assert!(w.devices[mallory].group.hazmat_current_secret().is_none());

    // Mallory derives Bob's chain from the secret and forges "from Bob".
    let transcript = *w.devices[mallory].group.transcript().unwrap();
    let roster = w.devices[mallory].group.roster().unwrap().clone();
    let bob_member = roster.get(&w.address(bob)).unwrap();
    let mut header = GroupHeader {
        content_type: ContentType::Text,
        group_id: w.id.clone(),
        epoch: 1,
        epoch_tag: transcript.epoch_tag(),
        sender: w.address(bob),
        counter: 5,
        salt: [9; 16],
        commitment: [0; 32],
    };
    let position = u32::try_from(roster.position(&w.address(bob)).unwrap()).unwrap();
    let leaf = tree_leaf(&secret, u32::try_from(roster.len()).unwrap(), position).unwrap();
    let mut chain = sender_chain(
        &leaf,
        &transcript,
        &w.address(bob),
        bob_member.identity_key_bytes(),
    );
    for _ in 0..header.counter {
        chain = chain.step().1;
    }
    let keys = chain.step().0.message_keys(&header.salt);
    header.commitment = keys.commitment;
    let head = header.encode();
    let mut forged = head.clone();
    forged.extend(letterseal::aead::seal(
        &keys.aead_key,
        &keys.nonce,
        &head,
        b"Bob says: pay Mallory",
    ));
    let unsigned = forged.clone();
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
    assert!(
        letterseal::aead::open(&keys.aead_key, &keys.nonce, &head, &unsigned[head.len()..]).is_ok()
    );
    let next = w.send(bob, b"still me");
    assert_eq!(w.open(0, &next).unwrap(), b"still me");
}

#[test]
fn removed_member_cannot_read_on_and_old_distributions_are_refused() {
    let mut w = world(3, 3, GracePolicy::default());
    let first = w.change(0, &[0, 1, 2], &[1, 2]);
    let before_removal = w.send(1, b"epoch 1");
    assert_eq!(w.open(2, &before_removal).unwrap(), b"epoch 1");

    // Remove Carol (2): a new epoch for {0, 1}.
    let second = w.change(0, &[0, 1], &[1]);
    assert!(
        second.view_for(&w.address(2)).is_none(),
        "no view for the removed member"
    );
    // Even with the upload, Carol is not in the roster.
    let upload = second.distribution().clone();
    assert_eq!(w.process(2, &upload).unwrap_err(), GroupError::NotAMember);
    let after = w.send(1, b"epoch 2, Carol is gone");
    assert_eq!(w.open(0, &after).unwrap(), b"epoch 2, Carol is gone");
    assert_eq!(
        w.open(2, &after).unwrap_err(),
        GroupOpenError::UnknownEpoch(2)
    );

    // Carol replays the epoch-1 view to Bob: an epoch he holds, same bytes.
    let replayed = first.view_for(&w.address(1)).unwrap();
    let before = w.state(1);
    assert_eq!(
        w.process(1, &replayed).unwrap(),
        Processed::AlreadyProcessed { epoch: 1 }
    );
    assert_eq!(w.state(1), before);
    // The server refuses it as stale.
    let record = w.record.clone();
    assert_eq!(
        first
            .distribution()
            .verify_for_server(record.as_ref(), &w.address(0))
            .unwrap_err(),
        GroupError::StaleEpoch
    );
}

#[test]
fn added_member_cannot_read_back() {
    let mut w = world(4, 3, GracePolicy::default());
    w.change(0, &[0, 1], &[1]);
    let old = w.send(1, b"before Dave");
    let second = w.change(0, &[0, 1, 2], &[1, 2]);
    assert_eq!(second.epoch(), 2);
    // The new member got the full roster, the old one a delta.
    assert!(matches!(
        second.view_for(&w.address(2)).unwrap().section(),
        RosterSection::Full(_)
    ));
    assert!(matches!(
        second.view_for(&w.address(1)).unwrap().section(),
        RosterSection::Delta(_)
    ));
    assert_eq!(
        w.open(2, &old).unwrap_err(),
        GroupOpenError::UnknownEpoch(1)
    );
    let new = w.send(1, b"welcome");
    assert_eq!(w.open(2, &new).unwrap(), b"welcome");
}

// ---- pending / commit / abort and concurrency ----------------------------------

#[test]
fn concurrent_changes_resolve_through_the_server_and_pending_proposals() {
    let mut w = world(20, 4, GracePolicy::default());
    let (a, b, c, d) = (0usize, 1usize, 2usize, 3usize);
    w.change(a, &[a, b, c], &[b, c]);
    // Epoch 1 is N. A adds D; B removes C — both from epoch 1, at the same time.
    let from_a = w.propose(a, &[a, b, c, d], None).unwrap();
    let from_b = w.propose(b, &[a, b], None).unwrap();
    assert_eq!(w.devices[a].group.pending_epoch(), Some(2));
    assert_eq!(w.devices[b].group.pending_epoch(), Some(2));
    // Both still seal in epoch 1 and read each other.
    let m = w.send(b, b"while pending");
    assert_eq!(w.open(a, &m).unwrap(), b"while pending");

    // The server takes A's first; B's is stale now.
    let accepted = w.upload(a, &from_a.upload).unwrap();
    assert_eq!(
        w.upload(b, &from_b.upload).unwrap_err(),
        GroupError::StaleEpoch
    );
    assert_eq!(w.devices[a].group.commit(now()).unwrap(), from_a.change);

    // B processes A's epoch 2: installed, B's own proposal discarded and reported.
    let for_b = accepted.view_for(&w.address(b)).unwrap();
    match w.process(b, &for_b).unwrap() {
        Processed::Installed {
            change,
            discarded_proposal,
        } => {
            assert!(discarded_proposal);
            assert_eq!(change.joined, [w.address(d)]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.devices[b].group.pending_epoch(), None);
    for m in [c, d] {
        let view = accepted.view_for(&w.address(m)).unwrap();
        w.process(m, &view).unwrap();
    }
    // Everyone is at epoch 2 and reads each other.
    for from in [a, b, c, d] {
        let msg = w.send(from, b"epoch 2");
        for to in [a, b, c, d].into_iter().filter(|&t| t != from) {
            assert_eq!(w.open(to, &msg).unwrap(), b"epoch 2", "{from} -> {to}");
        }
    }
    // B redoes its change on top: removing C lands as epoch 3.
    let redo = w.change(b, &[a, b, d], &[a, d]);
    assert_eq!(redo.epoch(), 3);
    assert_eq!(w.devices[a].group.roster().unwrap().len(), 3);
    let gone = w.send(a, b"C is gone");
    assert_eq!(
        w.open(c, &gone).unwrap_err(),
        GroupOpenError::UnknownEpoch(3)
    );
    assert_eq!(w.open(d, &gone).unwrap(), b"C is gone");
}

#[test]
fn own_distribution_back_from_the_server_commits_or_is_already_processed() {
    let mut w = world(21, 3, GracePolicy::default());
    let proposal = w.propose(0, &[0, 1, 2], None).unwrap();
    let verified = w.upload(0, &proposal.upload).unwrap();
    let echo = verified.view_for(&w.address(0)).unwrap();
    assert!(
        echo.wraps().is_empty(),
        "the distributor's view has no wrap"
    );
    // The echo commits the pending proposal.
    assert_eq!(
        w.process(0, &echo).unwrap(),
        Processed::Committed(proposal.change.clone())
    );
    assert_eq!(w.devices[0].group.current_epoch(), Some(1));
    // Again: already processed; commit now has nothing to do.
    assert_eq!(
        w.process(0, &echo).unwrap(),
        Processed::AlreadyProcessed { epoch: 1 }
    );
    assert_eq!(
        w.devices[0].group.commit(now()).unwrap_err(),
        GroupError::NothingPending
    );
    assert_eq!(
        w.devices[0].group.abort().unwrap_err(),
        GroupError::NothingPending
    );
    // An own distribution that was aborted is not pending.
    let second = w.propose(0, &[0, 1], None).unwrap();
    assert_eq!(
        w.propose(0, &[0, 1, 2], None).unwrap_err(),
        GroupError::ProposalPending
    );
    assert_eq!(w.devices[0].group.abort().unwrap(), 2);
    let verified = w.upload(0, &second.upload).unwrap();
    let echo = verified.view_for(&w.address(0)).unwrap();
    let before = w.state(0);
    assert_eq!(w.process(0, &echo).unwrap_err(), GroupError::NotPending);
    assert_eq!(w.state(0), before);
}

#[test]
fn wraps_do_not_depend_on_the_chat_channel() {
    // Before groups v2, wraps were pairwise messages: after 1,024 newer chat
    // messages a wrap was refused as TooOld.
    let mut w = world(22, 2, GracePolicy::default());
    let proposal = w.propose(0, &[0, 1], None).unwrap();
    let verified = w.upload(0, &proposal.upload).unwrap();
    w.devices[0].group.commit(now()).unwrap();
    let bundle0 = w.devices[0].bundle.clone();
    let (a0, a1) = (w.address(0), w.address(1));
    let bob = &mut w.devices[1];
    bob.sessions
        .insert(a0.clone(), Session::new(&bob.keys, &bundle0).unwrap());
    let alice = &mut w.devices[0];
    let to_bob = alice.sessions.get_mut(&a1).unwrap();
    let chats: Vec<Vec<u8>> = (0..1100)
        .map(|_| {
            to_bob
                .seal(
                    &alice.keys,
                    &mut w.rng,
                    now(),
                    ContentType::Text,
                    b"chat",
                    b"",
                )
                .unwrap()
        })
        .collect();
    let bob = &mut w.devices[1];
    for m in chats.iter().rev() {
        #[expect(
            clippy::let_underscore_must_use,
            reason = "opened newest first, the oldest are refused past the skip limit: only the chat channel's advance matters"
        )]
        let _ = bob
            .sessions
            .get_mut(&a0)
            .unwrap()
            .open(&mut bob.keys, now(), m, b"");
    }
    let view = verified.view_for(&a1).unwrap();
    assert!(matches!(
        w.process(1, &view).unwrap(),
        Processed::Installed { .. }
    ));
}

// ---- hostile members and servers -------------------------------------------------

#[test]
fn split_secrets_are_refused() {
    let mut w = world(23, 3, GracePolicy::default());
    w.change(0, &[0, 1, 2], &[1, 2]);
    // Alice wraps one secret for Bob and another for Carol, and confirms Bob's.
    let (good, other) = ([1u8; 32], [2u8; 32]);
    let (d, roster) = Forge { w: &mut w, from: 0 }.make(
        &[0, 1, 2],
        |_| {},
        |m| if m == 2 { other } else { good },
        good,
    );
    let verified = w.upload(0, &d).unwrap(); // the server cannot tell
    let _ = roster;
    let for_bob = verified.view_for(&w.address(1)).unwrap();
    let for_carol = verified.view_for(&w.address(2)).unwrap();
    assert!(matches!(
        w.process(1, &for_bob).unwrap(),
        Processed::Installed { .. }
    ));
    let before = w.state(2);
    assert_eq!(
        w.process(2, &for_carol).unwrap_err(),
        GroupError::ConfirmationMismatch
    );
    assert_eq!(w.state(2), before);
}

#[test]
fn two_rosters_for_one_epoch_are_detected() {
    let mut w = world(24, 5, GracePolicy::default());
    let (a, b, c, d, e) = (0usize, 1usize, 2usize, 3usize, 4usize);
    w.change(a, &[a, b, c, d], &[b, c, d]);
    // A hostile server accepts two epoch-2 cores: A's (a rotation) for B, C's
    // (adding E) for D.
    let from_a = w.propose(a, &[a, b, c, d], None).unwrap();
    let from_c = w.propose(c, &[a, b, c, d, e], None).unwrap();
    let record = w.record.clone();
    let va = from_a
        .upload
        .verify_for_server(record.as_ref(), &w.address(a))
        .unwrap();
    let vc = from_c
        .upload
        .verify_for_server(record.as_ref(), &w.address(c))
        .unwrap();
    w.devices[a].group.commit(now()).unwrap();
    w.devices[c].group.commit(now()).unwrap();
    w.process(b, &va.view_for(&w.address(b)).unwrap()).unwrap();
    w.process(d, &vc.view_for(&w.address(d)).unwrap()).unwrap();
    assert_ne!(
        w.devices[b].group.transcript(),
        w.devices[d].group.transcript()
    );
    // A second core for an epoch B holds: ConflictingEpoch.
    assert_eq!(
        w.process(b, &vc.view_for(&w.address(b)).unwrap())
            .unwrap_err(),
        GroupError::ConflictingEpoch
    );
    // Messages across the fork: ForkedEpoch (the signature verified: not tampering).
    let from_d = w.send(d, b"my epoch 2");
    assert_eq!(
        w.open(b, &from_d).unwrap_err(),
        GroupOpenError::ForkedEpoch(2)
    );
    let from_b = w.send(b, b"my epoch 2");
    assert_eq!(
        w.open(c, &from_b).unwrap_err(),
        GroupOpenError::ForkedEpoch(2)
    );
    // A later epoch built on one side: ForkedHistory on the other.
    let on_c = w.propose(c, &[a, b, c, d, e], None).unwrap();
    let vc3 = on_c
        .upload
        .verify_for_server(Some(&vc.record()), &w.address(c))
        .unwrap();
    assert_eq!(
        w.process(b, &vc3.full_view_for(&w.address(b)).unwrap())
            .unwrap_err(),
        GroupError::ForkedHistory
    );
    // And the honest server refuses the fork: it stored A's epoch 2.
    w.upload(a, &from_a.upload).unwrap();
    assert_eq!(
        w.upload(c, &from_c.upload).unwrap_err(),
        GroupError::StaleEpoch
    );
}

#[test]
fn epoch_jumps_and_the_last_epoch_number_are_refused() {
    let mut w = world(25, 3, GracePolicy::default());
    w.change(0, &[0, 1, 2], &[1, 2]);
    // Mallory (2) signs epoch 2^64 − 1, which would freeze the group.
    let (jump, roster) =
        Forge { w: &mut w, from: 2 }.make(&[0, 1, 2], |f| f.epoch = u64::MAX, |_| [5; 32], [5; 32]);
    let record = w.record.clone();
    assert_eq!(
        jump.verify_for_server(record.as_ref(), &w.address(2))
            .unwrap_err(),
        GroupError::EpochGap
    );
    let for_bob = view_of(&jump, &roster, &w.address(1));
    let before = w.state(1);
    assert_eq!(w.process(1, &for_bob).unwrap_err(), GroupError::EpochGap);
    assert_eq!(w.state(1), before);
    // The group goes on.
    w.change(1, &[0, 1, 2], &[0, 2]);

    // A new member can be made to join at 2^64 − 1 by a hostile server and
    // member; it then cannot propose (no further epoch exists) — and the
    // server refuses everything after such a record.
    let mut fresh = world(25, 3, GracePolicy::default());
    let (jump, roster) = Forge {
        w: &mut fresh,
        from: 2,
    }
    .make(&[0, 1, 2], |f| f.epoch = u64::MAX, |_| [5; 32], [5; 32]);
    let view = view_of(&jump, &roster, &fresh.address(1));
    fresh.process(1, &view).unwrap();
    assert_eq!(fresh.devices[1].group.current_epoch(), Some(u64::MAX));
    assert_eq!(
        fresh.propose(1, &[0, 1, 2], None).unwrap_err(),
        GroupError::EpochExhausted
    );
    let stuck = ServerRecord {
        group_id: fresh.id.clone(),
        epoch: u64::MAX,
        transcript: *fresh.devices[1].group.transcript().unwrap(),
        roster: roster.clone(),
        policy: RosterPolicy::any_member(),
    };
    assert_eq!(
        jump.verify_for_server(Some(&stuck), &fresh.address(2))
            .unwrap_err(),
        GroupError::StaleEpoch
    );
    assert_eq!(ServerRecord::decode(&stuck.encode()).unwrap(), stuck);
}

#[test]
fn policy_violations_are_refused_by_members_and_server() {
    let mut w = world(26, 5, GracePolicy::default());
    let (a, b, c, d, e) = (0usize, 1, 2, 3, 4);
    // A creates the group with an admins policy: A is the first admin.
    let admins = RosterPolicy::admins([user(a)]).unwrap();
    w.change_with(a, &[a, b, c, d], Some(admins.clone()), &[b, c, d]);
    assert_eq!(w.devices[b].group.policy(), Some(&admins));

    // B (not an admin) may not add E, remove C, or change the policy.
    for (members, policy) in [
        (vec![a, b, c, d, e], None),
        (vec![a, b, d], None),
        (vec![a, b, c, d], Some(RosterPolicy::any_member())),
    ] {
        assert_eq!(
            w.propose(b, &members, policy).unwrap_err(),
            GroupError::NotPermitted
        );
    }
    // Forged by B anyway: the server and the members refuse it.
    let (bad, roster) = Forge { w: &mut w, from: b }.make(&[a, b, d], |_| {}, |_| [3; 32], [3; 32]);
    let record = w.record.clone();
    assert_eq!(
        bad.verify_for_server(record.as_ref(), &w.address(b))
            .unwrap_err(),
        GroupError::NotPermitted
    );
    let for_d = Distribution::new(
        bad.core().clone(),
        *bad.signature(),
        bad.section().clone(),
        vec![bad.wraps()[1].clone()],
    )
    .unwrap();
    let _ = roster;
    assert_eq!(w.process(d, &for_d).unwrap_err(), GroupError::NotPermitted);

    // B may rotate (same roster) and re-key its own device.
    w.change(b, &[a, b, c, d], &[a, c, d]);
    let rekeyed = {
        let dev = &mut w.devices[b];
        let owner = ExpectedOwner::Device(dev.keys.address().clone());
        dev.keys
            .add_sealing_key(&mut w.rng, now().saturating_add(5), 86_400)
            .verify(
                &owner,
                &RegistrationPolicy::default(),
                now().saturating_add(5),
                None,
                &NoDirectory,
            )
            .unwrap()
    };
    w.devices[b].bundle = rekeyed;
    w.change(b, &[a, b, c, d], &[a, c, d]);

    // The admin adds E and names C a second admin. An admin may hand over to
    // anyone in the roster, but no epoch may leave the group without an admin.
    let two = RosterPolicy::admins([user(a), user(c)]).unwrap();
    w.change_with(a, &[a, b, c, d, e], Some(two), &[b, c, d]);
    w.propose(
        a,
        &[a, b, c, d, e],
        Some(RosterPolicy::admins([user(e)]).unwrap()),
    )
    .unwrap();
    w.devices[a].group.abort().unwrap();
    let nobody = RosterPolicy::admins([UserId::new("nobody").unwrap()]).unwrap();
    assert_eq!(
        w.propose(a, &[a, b, c, d, e], Some(nobody)).unwrap_err(),
        GroupError::NoAdminMember
    );
    // C (admin) removes A; C is then the only admin left and stays.
    w.change(c, &[b, c, d, e], &[b, d]);
    assert_eq!(w.devices[d].group.roster().unwrap().len(), 4);
}

#[test]
fn removed_sender_is_refused_in_the_grace_period() {
    let mut w = world(27, 3, GracePolicy::default());
    w.change(0, &[0, 1, 2], &[1, 2]);
    // Carol seals in epoch 1, then is removed; her late messages of epoch 1
    // arrive after Bob processed the removal.
    let late = w.send(2, b"sent before the removal");
    let later = w.send(2, b"sent after, still in epoch 1");
    let from_alice = w.send(0, b"epoch 1 from Alice");
    w.change(0, &[0, 1], &[1]);
    assert_eq!(w.devices[1].group.openable_epochs(), [1, 2]);
    assert_eq!(w.open(1, &late).unwrap_err(), GroupOpenError::SenderRemoved);
    assert_eq!(
        w.open(1, &later).unwrap_err(),
        GroupOpenError::SenderRemoved
    );
    // Grace still applies to members who stayed.
    assert_eq!(w.open(1, &from_alice).unwrap(), b"epoch 1 from Alice");
    // Carol cannot seal into the new epoch (she does not hold it), and a
    // message of hers claiming epoch 2 names nobody Bob knows there.
    assert_eq!(
        w.devices[2].group.current_epoch(),
        Some(1),
        "Carol never processed epoch 2"
    );
}

#[test]
fn distribution_rejections_each_have_their_own_error() {
    let mut w = world(5, 4, GracePolicy::default());
    let (alice, bob, carol, dave) = (0usize, 1usize, 2usize, 3usize);
    let proposal = w.propose(alice, &[alice, bob, carol], None).unwrap();
    let good = proposal.upload.clone();
    let bob_addr = w.address(bob);

    // Server: uploader, signature, structure.
    assert_eq!(
        good.verify_for_server(None, &bob_addr).unwrap_err(),
        GroupError::UploaderMismatch
    );
    let mut bytes = good.encode();
    let sig_at = 4 + good.core().as_bytes().len();
    bytes[sig_at] ^= 1;
    assert_eq!(
        Distribution::decode(&bytes)
            .unwrap()
            .verify_for_server(None, &w.address(alice))
            .unwrap_err(),
        GroupError::BadSignature
    );
    let mut v1 = good.encode();
    v1[4] = 1; // the core's version byte
    assert_eq!(
        Distribution::decode(&v1).unwrap_err(),
        GroupError::UnsupportedVersion(1)
    );
    assert!(matches!(
        Distribution::decode(&good.encode()[..40]).unwrap_err(),
        GroupError::Malformed(_)
    ));
    // Strict: decoding re-encodes to the input, and the core is the received bytes.
    let wire = good.encode();
    let decoded = Distribution::decode(&wire).unwrap();
    assert_eq!(decoded.encode(), wire);
    assert_eq!(
        decoded.core().as_bytes(),
        &wire[4..4 + decoded.core().as_bytes().len()]
    );

    // Signed by Dave, who is not a member.
    let mut fields = good.core().fields().clone();
    fields.distributor = w.address(dave);
    fields.distributor_identity = w.devices[dave].keys.identity().public_key().to_bytes();
    let by_dave = Distribution::sign(
        &fields.confirmed(&EpochSecret::from_bytes([0; 32])),
        w.devices[dave].keys.identity(),
        good.section().clone(),
        good.wraps().to_vec(),
    )
    .unwrap();
    assert_eq!(
        by_dave
            .verify_for_server(None, &w.address(dave))
            .unwrap_err(),
        GroupError::DistributorNotMember
    );

    // A tampered roster: the roster hash no longer matches (signature intact).
    let mut members: Vec<_> = w.bundles(&[alice, bob, dave]);
    members.sort_by(|a, b| a.owner().cmp(b.owner()));
    let other = Roster::from_bundles(&members).unwrap();
    let tampered = Distribution::new(
        good.core().clone(),
        *good.signature(),
        RosterSection::Full(other),
        good.wraps().to_vec(),
    )
    .unwrap();
    assert_eq!(
        tampered
            .verify_for_server(None, &w.address(alice))
            .unwrap_err(),
        GroupError::RosterHashMismatch
    );
    // A wrap that no decoder would accept cannot be built either (so every distribution encodes).
    for bad in [Vec::new(), vec![7u8; MAX_WRAP_LEN + 1]] {
        assert_eq!(
            Distribution::new(
                good.core().clone(),
                *good.signature(),
                good.section().clone(),
                [bad.clone()],
            )
            .unwrap_err(),
            GroupError::Malformed(DecodeError::InvalidValue)
        );
        assert_eq!(
            Wrap::new(bad).unwrap_err(),
            GroupError::Malformed(DecodeError::InvalidValue)
        );
    }
    let longest = Wrap::new(vec![7u8; MAX_WRAP_LEN]).unwrap();
    assert_eq!(longest.len(), MAX_WRAP_LEN);
    assert_eq!(Vec::from(longest), vec![7u8; MAX_WRAP_LEN]);
    // A wrap missing, or changed.
    let short = Distribution::new(
        good.core().clone(),
        *good.signature(),
        good.section().clone(),
        good.wraps()[..1].to_vec(),
    )
    .unwrap();
    assert_eq!(
        short
            .verify_for_server(None, &w.address(alice))
            .unwrap_err(),
        GroupError::WrapListMismatch
    );
    let mut wraps = good.wraps().to_vec();
    wraps.swap(0, 1);
    let swapped = Distribution::new(
        good.core().clone(),
        *good.signature(),
        good.section().clone(),
        wraps,
    )
    .unwrap();
    assert_eq!(
        swapped
            .verify_for_server(None, &w.address(alice))
            .unwrap_err(),
        GroupError::WrapListHashMismatch
    );

    // Members: accept the genuine one; refuse Carol's wrap delivered to Bob.
    let verified = w.upload(alice, &good).unwrap();
    w.devices[alice].group.commit(now()).unwrap();
    let carol_view = verified.view_for(&w.address(carol)).unwrap();
    let moved = Distribution::new(
        good.core().clone(),
        *good.signature(),
        carol_view.section().clone(),
        carol_view.wraps().to_vec(),
    )
    .unwrap();
    let before = w.state(bob);
    assert!(matches!(
        w.process(bob, &moved).unwrap_err(),
        GroupError::WrapRejected(_)
    ));
    assert_eq!(w.state(bob), before);
    // No wrap at all.
    let none = Distribution::new(
        good.core().clone(),
        *good.signature(),
        carol_view.section().clone(),
        Vec::<Vec<u8>>::new(),
    )
    .unwrap();
    assert_eq!(w.process(bob, &none).unwrap_err(), GroupError::MissingWrap);
    // No session with the distributor.
    let d = &mut w.devices[carol];
    assert_eq!(
        d.group
            .process(&mut d.keys, &carol_view, &mut BTreeMap::new(), now())
            .unwrap_err(),
        GroupError::MissingSession
    );
    // A session with Alice's address but another identity (a reinstall).
    let alice_addr = w.address(alice);
    let mut reinstalled = DeviceKeys::generate(&mut w.rng, alice_addr.clone());
    let reinstalled_bundle = reinstalled
        .add_sealing_key(&mut w.rng, now(), 86_400)
        .verify(
            &ExpectedOwner::Device(alice_addr.clone()),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    let d = &mut w.devices[carol];
    let mut impostor = BTreeMap::new();
    impostor.insert(
        alice_addr,
        Session::new(&d.keys, &reinstalled_bundle).unwrap(),
    );
    let d = &mut w.devices[carol];
    assert_eq!(
        d.group
            .process(&mut d.keys, &carol_view, &mut impostor, now())
            .unwrap_err(),
        GroupError::DistributorMismatch
    );
    // A device not in the roster; another group.
    assert_eq!(
        w.process(dave, &carol_view).unwrap_err(),
        GroupError::NotAMember
    );
    let mut other = Group::new(
        GroupId::new("other").unwrap(),
        w.address(carol),
        GracePolicy::default(),
    );
    let d = &mut w.devices[carol];
    assert_eq!(
        other
            .process(&mut d.keys, &carol_view, &mut d.sessions, now())
            .unwrap_err(),
        GroupError::WrongGroup
    );
    let bob_keys = w.devices[bob].keys.address().clone();
    let (lo, hi) = w.devices.split_at_mut(carol);
    assert_eq!(
        hi[0]
            .group
            .process(&mut lo[bob].keys, &carol_view, &mut BTreeMap::new(), now())
            .unwrap_err(),
        GroupError::WrongDevice
    );
    let _ = bob_keys;
    // The genuine views still process.
    assert!(matches!(
        w.process(carol, &carol_view).unwrap(),
        Processed::Installed { .. }
    ));
    let bob_view = verified.view_for(&bob_addr).unwrap();
    assert!(matches!(
        w.process(bob, &bob_view).unwrap(),
        Processed::Installed { .. }
    ));
    // A delta to a member with no epoch yet.
    let next = w.change(alice, &[alice, bob, carol, dave], &[bob, carol]);
    let mut delta_for_dave = next.view_for(&w.address(dave)).unwrap();
    if let RosterSection::Full(_) = delta_for_dave.section() {
        delta_for_dave = Distribution::new(
            delta_for_dave.core().clone(),
            *delta_for_dave.signature(),
            next.view_for(&w.address(bob)).unwrap().section().clone(),
            delta_for_dave.wraps().to_vec(),
        )
        .unwrap();
    }
    assert_eq!(
        w.process(dave, &delta_for_dave).unwrap_err(),
        GroupError::DeltaWithoutBase
    );
}

#[test]
fn a_previous_member_must_distribute_and_epoch_one_carries_no_history() {
    let mut w = world(28, 4, GracePolicy::default());
    w.change(0, &[0, 1, 2], &[1, 2]);
    // Dave (never a member) signs epoch 2 adding himself.
    let (outsider, roster) = Forge { w: &mut w, from: 3 }.make(
        &[0, 1, 2, 3],
        |f| {
            f.epoch = 2;
        },
        |_| [4; 32],
        [4; 32],
    );
    let record = w.record.clone();
    assert_eq!(
        outsider
            .verify_for_server(record.as_ref(), &w.address(3))
            .unwrap_err(),
        GroupError::ForkedHistory
    );
    // With the right previous transcript, the membership check decides.
    let t = *w.devices[0].group.transcript().unwrap();
    let (outsider, roster2) = Forge { w: &mut w, from: 3 }.make(
        &[0, 1, 2, 3],
        |f| {
            f.epoch = 2;
            f.previous_transcript = t;
        },
        |_| [4; 32],
        [4; 32],
    );
    let _ = roster;
    let record = w.record.clone();
    assert_eq!(
        outsider
            .verify_for_server(record.as_ref(), &w.address(3))
            .unwrap_err(),
        GroupError::NotPreviousMember
    );
    let view = view_of(&outsider, &roster2, &w.address(1));
    assert_eq!(
        w.process(1, &view).unwrap_err(),
        GroupError::NotPreviousMember
    );
    // Epoch 1 with a previous transcript, and epoch 0: InvalidEpoch.
    for edit in [
        (|f: &mut CoreFields| f.previous_transcript = Transcript::from_bytes([1; 32]))
            as fn(&mut CoreFields),
        |f: &mut CoreFields| f.epoch = 0,
    ] {
        let mut fresh = world(29, 2, GracePolicy::default());
        let (d, _) = Forge {
            w: &mut fresh,
            from: 0,
        }
        .make(&[0, 1], edit, |_| [1; 32], [1; 32]);
        assert_eq!(
            d.verify_for_server(None, &fresh.address(0)).unwrap_err(),
            GroupError::InvalidEpoch
        );
    }
}

// ---- reports, grace, state -------------------------------------------------------

#[test]
fn epoch_changes_are_reported() {
    let mut w = world(9, 4, GracePolicy::default());
    w.change(0, &[0, 1, 2], &[1, 2]);
    // Carol rotates her sealing key; Dave joins; Bob leaves.
    let carol_new = {
        let d = &mut w.devices[2];
        let owner = ExpectedOwner::Device(d.keys.address().clone());
        d.keys
            .add_sealing_key(&mut w.rng, now().saturating_add(1), 86_400)
            .verify(
                &owner,
                &RegistrationPolicy::default(),
                now().saturating_add(1),
                None,
                &NoDirectory,
            )
            .unwrap()
    };
    w.devices[2].bundle = carol_new;
    let proposal = w.propose(0, &[0, 2, 3], None).unwrap();
    let change = &proposal.change;
    assert!(!change.first_epoch);
    assert_eq!(change.joined, [w.address(3)]);
    assert_eq!(change.left, [w.address(1)]);
    assert_eq!(change.rekeyed, [w.address(2)]);
    let verified = w.upload(0, &proposal.upload).unwrap();
    w.devices[0].group.commit(now()).unwrap();
    match w
        .process(2, &verified.view_for(&w.address(2)).unwrap())
        .unwrap()
    {
        Processed::Installed { change: got, .. } => assert_eq!(got, *change),
        other => panic!("{other:?}"),
    }
    match w
        .process(3, &verified.view_for(&w.address(3)).unwrap())
        .unwrap()
    {
        Processed::Installed { change, .. } => {
            assert!(change.first_epoch && change.joined.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let m = w.send(2, b"new key, same me");
    assert_eq!(w.open(0, &m).unwrap(), b"new key, same me");
}

#[test]
fn out_of_order_tampering_and_atomic_failure() {
    let mut w = world(7, 2, GracePolicy::default());
    w.change(0, &[0, 1], &[1]);
    let m: Vec<Vec<u8>> = (0..4)
        .map(|i| w.send(0, format!("m{i}").as_bytes()))
        .collect();
    let o = w.devices[1].group.open(&m[2], b"", now()).unwrap();
    assert_eq!((o.counter, o.skipped, o.late), (2, 2, false));
    let o = w.devices[1].group.open(&m[0], b"", now()).unwrap();
    assert_eq!((o.counter, o.late), (0, true));
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
    let mut v1 = m[3].clone();
    v1[0] = 1;
    assert_eq!(
        w.open(1, &v1).unwrap_err(),
        GroupOpenError::UnsupportedVersion(1)
    );
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
    w.change(0, &[0, 1], &[1]);
    let e1 = w.send(0, b"epoch 1");
    w.change(0, &[0, 1], &[1]);
    let e2 = w.send(0, b"epoch 2");
    assert_eq!(
        w.devices[1]
            .group
            .open(&e1, b"", now().saturating_add(100))
            .unwrap()
            .epoch,
        1
    );
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
    w.change(0, &[0, 1], &[1]);
    assert_eq!(w.devices[1].group.openable_epochs(), [2, 3]);
    w.change(0, &[0, 1], &[1]);
    assert_eq!(w.devices[1].group.openable_epochs(), [3, 4]);
    // An epoch no longer held is stale for processing too.
    assert_eq!(w.devices[1].group.current_epoch(), Some(4));
}

#[test]
fn sealing_errors() {
    let mut w = world(30, 3, GracePolicy::default());
    let d = &mut w.devices[0];
    assert_eq!(
        d.group
            .seal(&mut w.rng, &d.keys, ContentType::Text, b"", b"")
            .unwrap_err(),
        GroupSealError::NoEpoch
    );
    w.change(0, &[0, 1], &[1]);
    let (d0, d1) = w.devices.split_at_mut(1);
    assert_eq!(
        d0[0]
            .group
            .seal(&mut w.rng, &d1[0].keys, ContentType::Text, b"", b"")
            .unwrap_err(),
        GroupSealError::WrongDevice
    );
}

#[test]
fn state_round_trips_and_old_states_are_refused() {
    let mut w = world(10, 2, GracePolicy::default());
    w.change(0, &[0, 1], &[1]);
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
    // The state saved by release 0.1 (JSON version 1) is refused, naming the version.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let v1 = std::fs::read_to_string(dir.join("group-v1.json")).unwrap();
    let err = serde_json::from_str::<Group>(&v1).unwrap_err();
    let expected = StateError::UnsupportedStateVersion {
        kind: StateKind::Group,
        version: 1,
    };
    assert!(err.to_string().starts_with(&expected.to_string()), "{err}");
    assert!(!format!("{:?}", w.devices[1].group).contains("secret"));
}

#[test]
fn state_blobs_round_trip_with_a_pending_proposal_and_refuse_bad_fields() {
    let mut w = world(31, 3, GracePolicy::default());
    let key = StorageKey::generate(&mut w.rng);
    w.change(0, &[0, 1, 2], &[1, 2]);
    let m0 = w.send(1, b"zero");
    w.open(0, &m0).unwrap();
    // Alice has a proposal pending when she saves.
    let proposal = w.propose(0, &[0, 1], None).unwrap();
    let blob = w.devices[0].group.export(&mut w.rng, &key).unwrap();
    assert_eq!(blob.generation(), 1);
    let mut restored = Group::import(&key, blob.as_bytes(), 1).unwrap();
    assert_eq!(restored.generation(), 1);
    assert_eq!(restored.pending_epoch(), Some(2));
    assert_eq!(
        serde_json::to_value(&restored).unwrap(),
        serde_json::to_value(&w.devices[0].group).unwrap()
    );
    assert_eq!(
        restored.open(&m0, b"", now()).unwrap_err(),
        GroupOpenError::Replay { counter: 0 }
    );
    // The restored proposal commits to the same epoch the others process.
    let verified = w.upload(0, &proposal.upload).unwrap();
    assert_eq!(restored.commit(now()).unwrap(), proposal.change);
    w.devices[0].group = restored;
    w.process(1, &verified.view_for(&w.address(1)).unwrap())
        .unwrap();
    let m = w.send(0, b"after restore");
    assert_eq!(w.open(1, &m).unwrap(), b"after restore");
    // Rollback and foreign blobs.
    let newer = w.devices[0].group.export(&mut w.rng, &key).unwrap();
    assert_eq!(newer.generation(), 2);
    assert_eq!(
        Group::import(&key, blob.as_bytes(), 2).unwrap_err(),
        StateError::RolledBack {
            generation: 1,
            minimum: 2
        }
    );
    let other = StorageKey::generate(&mut w.rng);
    assert_eq!(
        Group::import(&other, newer.as_bytes(), 0).unwrap_err(),
        StateError::WrongKey
    );
    // Layout versions 1 (there never was one) and 2 (static sender chains,
    // before the secret tree) are refused like the JSON of release 0.1.
    let (payload, _) =
        letterseal::state::open_raw(StateKind::Group, 3, &key, newer.as_bytes(), 0).unwrap();
    for version in [1, 2] {
        let old =
            letterseal::state::seal_raw(StateKind::Group, version, 3, &payload, &mut w.rng, &key);
        assert_eq!(
            Group::import(&key, old.as_bytes(), 0).unwrap_err(),
            StateError::UnsupportedStateVersion {
                kind: StateKind::Group,
                version
            }
        );
    }
    // Field checks, on payloads sealed under the right key.
    let gid_len = w.id.as_bytes().len();
    let user_len = w.address(0).user.as_bytes().len();
    let grace_flag = 1 + gid_len + 1 + user_len + 4 + 4;
    let rotation = grace_flag + 9;
    let first_epoch = rotation + 9 + 9 + 1 + 4;
    type Edit = Box<dyn Fn(&mut Vec<u8>)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "grace.max_age_seconds",
            Box::new(move |p| p[grace_flag] = 2),
        ),
        (
            "rotation.max_messages",
            // "None" beside a value.
            Box::new(move |p| p[rotation] = 0),
        ),
        (
            "rotation.on_key_change",
            Box::new(move |p| p[rotation + 18] = 2),
        ),
        (
            "epochs.epoch",
            Box::new(move |p| p[first_epoch..first_epoch + 8].fill(0)),
        ),
        ("pending", Box::new(|p| *p.last_mut().unwrap() = 2)),
        ("(trailing bytes)", Box::new(|p| p.push(0))),
    ];
    for (name, edit) in edits {
        let mut p = payload.to_vec();
        edit(&mut p);
        let blob = letterseal::state::seal_raw(StateKind::Group, 3, 9, &p, &mut w.rng, &key);
        assert_eq!(
            Group::import(&key, blob.as_bytes(), 0).unwrap_err(),
            StateError::Invalid { field: name },
            "{name}"
        );
    }
    let mut short = payload.to_vec();
    short.truncate(payload.len() - 1);
    let blob = letterseal::state::seal_raw(StateKind::Group, 3, 9, &short, &mut w.rng, &key);
    assert!(matches!(
        Group::import(&key, blob.as_bytes(), 0).unwrap_err(),
        StateError::Invalid { .. }
    ));
}

/// 5,000 member devices in one process: create, remove one, exchange
/// messages. The server checks every upload; a sample of members processes.
#[test]
fn five_thousand_members() {
    let n = 5000;
    let mut w = world(11, n, GracePolicy::default());
    let everyone: Vec<usize> = (0..n).collect();
    let sample = [1usize, 2, 777, 2500, 4998, 4999];
    let first = w.change(0, &everyone, &sample);
    assert_eq!(first.distribution().wraps().len(), n - 1);
    assert_eq!(first.roster().len(), n);

    let hello = w.send(2500, b"hello, five thousand");
    for &i in &[0usize, 1, 777, 4999] {
        assert_eq!(w.open(i, &hello).unwrap(), b"hello, five thousand");
    }
    let remaining: Vec<usize> = (0..n - 1).collect();
    let second = w.change(0, &remaining, &sample[..5]);
    assert_eq!(second.distribution().wraps().len(), n - 2);
    let view = second.view_for(&w.address(1)).unwrap();
    // The wrap is a pairwise message (a session start until the member
    // replies: about 1.3 KB); the rest of the view is a small delta.
    assert!(
        view.encode().len() - view.wraps()[0].len() < 1_000,
        "a removal reaches members as a small delta"
    );
    assert!(second.view_for(&w.address(4999)).is_none());
    let after = w.send(777, b"4999 has left");
    assert_eq!(w.open(1, &after).unwrap(), b"4999 has left");
    assert_eq!(w.open(4998, &after).unwrap(), b"4999 has left");
    assert_eq!(
        w.open(4999, &after).unwrap_err(),
        GroupOpenError::UnknownEpoch(2)
    );
}

// ---- compromise (SPEC.md §8.8, §8.12, §8.13) ----------------------------------

/// What an adversary copies from a member device at one moment: its group
/// state, its pairwise sessions and its device keys (through their blobs).
struct Stolen {
    group: Group,
    sessions: BTreeMap<DeviceAddress, Session>,
    keys: DeviceKeys,
}

impl World {
    fn steal(&mut self, i: usize) -> Stolen {
        let key = StorageKey::generate(&mut self.rng);
        let rng = &mut self.rng;
        let d = &mut self.devices[i];
        let group = d.group.export(rng, &key).unwrap();
        let keys = d.keys.export(rng, &key).unwrap();
        let sessions = d
            .sessions
            .iter_mut()
            .map(|(peer, s)| {
                let blob = s.export(rng, &key).unwrap();
                (
                    peer.clone(),
                    Session::import(&key, blob.as_bytes(), 0).unwrap(),
                )
            })
            .collect();
        Stolen {
            group: Group::import(&key, group.as_bytes(), 0).unwrap(),
            sessions,
            keys: DeviceKeys::import(&key, keys.as_bytes(), 0).unwrap(),
        }
    }

    /// `from` sends `to` a pairwise control message, which `to` opens: their
    /// session steps (SPEC.md §7.6).
    fn pairwise_ack(&mut self, from: usize, to: usize) {
        let (to_address, from_address) = (self.address(to), self.address(from));
        let d = &mut self.devices[from];
        let m = d
            .sessions
            .get_mut(&to_address)
            .unwrap()
            .seal(
                &d.keys,
                &mut self.rng,
                now(),
                ContentType::Control,
                b"ack",
                b"",
            )
            .unwrap();
        let r = &mut self.devices[to];
        r.sessions
            .get_mut(&from_address)
            .unwrap()
            .open(&mut r.keys, now(), &m, b"")
            .unwrap();
    }
}

/// Forward secrecy (SPEC.md §8.8): Bob's state stolen after he read a
/// message opens nothing he read or sent — neither in the epoch (its secret
/// is gone, the chains moved on) nor, after a rotation deleted the epoch, its
/// messages or its wrap.
#[test]
fn group_forward_secrecy_a_stolen_state_opens_nothing_already_read() {
    let no_grace = GracePolicy {
        previous_epochs: 0,
        max_age_seconds: Some(0),
    };
    let mut w = world(40, 3, no_grace);
    let (alice, bob, carol) = (0usize, 1usize, 2usize);
    let first = w.change(alice, &[alice, bob, carol], &[bob, carol]);
    let read: Vec<_> = (0..3u8).map(|i| w.send(alice, &[i])).collect();
    for m in &read {
        w.open(bob, m).unwrap();
    }
    let own = w.send(bob, b"Bob's own");
    let in_flight = w.send(carol, b"not yet delivered to Bob");

    let mut stolen = w.steal(bob);
    assert!(stolen.group.hazmat_current_secret().is_none());
    for (i, m) in read.iter().enumerate() {
        assert_eq!(
            stolen.group.open(m, b"", now()).unwrap_err(),
            GroupOpenError::Replay { counter: i as u64 }
        );
    }
    assert_eq!(
        stolen.group.open(&own, b"", now()).unwrap_err(),
        GroupOpenError::OwnMessage
    );
    // What had not reached Bob is readable: forward secrecy protects what was read.
    assert!(stolen.group.open(&in_flight, b"", now()).is_ok());

    // Across epochs: Alice rotates, Bob moves on and (no grace) deletes epoch 1.
    w.change(alice, &[alice, bob, carol], &[bob, carol]);
    let mut later = w.steal(bob);
    assert_eq!(
        later.group.open(&in_flight, b"", now()).unwrap_err(),
        GroupOpenError::UnknownEpoch(1)
    );
    // The epoch-1 wrap does not open again in the stolen session either.
    let view = first.view_for(&w.address(bob)).unwrap();
    let f = view.core().fields();
    let context = wrap_context(
        &f.group_id,
        f.epoch,
        &f.previous_transcript,
        &f.roster_hash,
        &f.distributor,
    );
    let session = later.sessions.get_mut(&w.address(alice)).unwrap();
    assert!(
        session
            .open(&mut later.keys, now(), &view.wraps()[0], &context)
            .is_err()
    );
}

/// Post-compromise security (SPEC.md §8.12–8.13): after the thief copied
/// Bob's state, Bob's pairwise session with the distributor steps (Bob sends
/// once, Alice reads it) and Alice rotates: the thief's copy cannot install
/// the new epoch nor read it. Without that step it can — the rotation alone
/// does not heal, as SPEC.md §8.13 says.
#[test]
fn group_post_compromise_security_heals_once_the_pairwise_session_has_stepped() {
    let mut w = world(41, 3, GracePolicy::default());
    let (alice, bob, carol) = (0usize, 1usize, 2usize);
    w.change(alice, &[alice, bob, carol], &[bob, carol]);
    let mut thief = w.steal(bob);

    w.pairwise_ack(bob, alice);
    let second = w.change(alice, &[alice, bob, carol], &[bob, carol]);
    let view = second.view_for(&w.address(bob)).unwrap();
    assert!(matches!(
        thief
            .group
            .process(&mut thief.keys, &view, &mut thief.sessions, now())
            .unwrap_err(),
        GroupError::WrapRejected(_)
    ));
    let m = w.send(alice, b"after the rotation");
    assert_eq!(w.open(bob, &m).unwrap(), b"after the rotation");
    assert_eq!(
        thief.group.open(&m, b"", now()).unwrap_err(),
        GroupOpenError::UnknownEpoch(2)
    );

    // The control: a copy taken now, and a rotation with no pairwise step since.
    let mut second_thief = w.steal(bob);
    let third = w.change(alice, &[alice, bob, carol], &[bob, carol]);
    let view = third.view_for(&w.address(bob)).unwrap();
    assert!(matches!(
        second_thief
            .group
            .process(
                &mut second_thief.keys,
                &view,
                &mut second_thief.sessions,
                now()
            )
            .unwrap(),
        Processed::Installed { .. }
    ));
}

/// Post-quantum (SPEC.md §7.5, §8.4): an adversary with all of Bob's X25519
/// secrets and identity key, but another ML-KEM key, cannot open the wrap
/// that starts Bob's session with the distributor, so it never learns the
/// epoch secret. (The KDF-level demonstration is in `pairwise::pq_tests`.)
#[test]
fn group_post_quantum_a_wrap_needs_the_members_ml_kem_key() {
    let mut w = world(42, 3, GracePolicy::default());
    let (alice, bob, carol) = (0usize, 1usize, 2usize);
    let first = w.change(alice, &[alice, bob, carol], &[carol]);
    let view = first.view_for(&w.address(bob)).unwrap();
    let d = &w.devices[bob];
    let id = d.keys.current_sealing_key_id().unwrap();
    let (not_before, not_after) = d.keys.sealing_key_validity(&id).unwrap();
    let mut quantum = DeviceKeys::from_identity(
        d.keys.address().clone(),
        IdentitySecretKey::from_seed(&d.keys.identity().to_seed()),
    );
    quantum.insert_sealing_key(
        SealingSecretKey::from_bytes(&d.keys.sealing_key(&id).unwrap().to_bytes()),
        KemDecapsulationKey::generate(&mut w.rng),
        not_before,
        not_after,
    );
    let alice_bundle = w.devices[alice].bundle.clone();
    let mut sessions = BTreeMap::from([(
        w.address(alice),
        Session::new(&quantum, &alice_bundle).unwrap(),
    )]);
    let mut group = Group::new(w.id.clone(), w.address(bob), GracePolicy::default());
    assert!(matches!(
        group
            .process(&mut quantum, &view, &mut sessions, now())
            .unwrap_err(),
        GroupError::WrapRejected(_)
    ));
    // Bob, with his ML-KEM key, installs it.
    assert!(matches!(
        w.process(bob, &view).unwrap(),
        Processed::Installed { .. }
    ));
}

/// The rotation policy (SPEC.md §8.12): key changes, message count, age.
#[test]
fn rotation_is_due_on_key_change_message_count_and_age() {
    let mut w = world(43, 3, GracePolicy::default());
    let (alice, bob, carol) = (0usize, 1usize, 2usize);
    let id = w.id.clone();
    for d in &mut w.devices {
        d.group = Group::new(id.clone(), d.keys.address().clone(), GracePolicy::default())
            .with_rotation(RotationPolicy {
                max_messages: Some(3),
                max_age_seconds: Some(3_600),
                on_key_change: true,
            });
    }
    w.change(alice, &[alice, bob, carol], &[bob, carol]);
    let bundles = w.bundles(&[alice, bob, carol]);
    let at_alice = |w: &World, t: u64| {
        w.devices[alice].group.rotation_due(
            &w.devices[alice].keys,
            &bundles,
            Timestamp::from_unix_seconds(T0 + t),
        )
    };
    assert_eq!(at_alice(&w, 0), None);
    assert_eq!(at_alice(&w, 3_600), Some(RotationReason::Age(3_600)));
    for i in 0..2u8 {
        let m = w.send(bob, &[i]);
        w.open(alice, &m).unwrap();
    }
    assert_eq!(at_alice(&w, 0), None);
    w.send(alice, b"third");
    assert_eq!(at_alice(&w, 0), Some(RotationReason::Messages(3)));

    // Carol rotates her sealing key: her new bundle differs from the roster.
    let carol_address = w.address(carol);
    let d = &mut w.devices[carol];
    let new_bundle = d
        .keys
        .add_sealing_key(&mut w.rng, now().saturating_add(1), 86_400)
        .verify(
            &ExpectedOwner::Device(carol_address.clone()),
            &RegistrationPolicy::default(),
            now().saturating_add(1),
            None,
            &NoDirectory,
        )
        .unwrap();
    assert_eq!(
        w.devices[carol]
            .group
            .rotation_due(&w.devices[carol].keys, &[], now()),
        Some(RotationReason::KeyChanged(carol_address.clone()))
    );
    let mut with_new = bundles.clone();
    with_new[carol] = new_bundle.clone();
    assert_eq!(
        w.devices[bob]
            .group
            .rotation_due(&w.devices[bob].keys, &with_new, now()),
        Some(RotationReason::KeyChanged(carol_address))
    );
    // Alice rotates with the current bundles; the new epoch is fresh.
    w.devices[carol].bundle = new_bundle;
    w.change(alice, &[alice, bob, carol], &[bob, carol]);
    let bundles = w.bundles(&[alice, bob, carol]);
    for i in [alice, bob, carol] {
        assert_eq!(
            w.devices[i]
                .group
                .rotation_due(&w.devices[i].keys, &bundles, now()),
            None,
            "{i}"
        );
    }
}

/// A proposal that one member's wrap must refuse (its newest bundle expired)
/// changes no session: the wraps to the members before it in roster order
/// are not sealed either, and no new session is kept.
#[test]
fn a_refused_proposal_changes_no_session() {
    use letterseal::pairwise::{EXPIRY_SKEW_SECONDS, SESSION_BLOB_VERSION};
    use letterseal::state::open_raw;
    let mut w = world(0x5e, 4, GracePolicy::default());
    w.propose(0, &[0, 1, 2], None).unwrap();
    w.devices[0].group.commit(now()).unwrap();
    // Member 2 registers a short-lived key, newer than the one the session holds.
    let later = Timestamp::from_unix_seconds(T0 + 10);
    let short = w.devices[2]
        .keys
        .add_sealing_key(&mut w.rng, later, 60)
        .verify(
            &ExpectedOwner::Device(w.address(2)),
            &RegistrationPolicy::default(),
            later,
            None,
            &NoDirectory,
        )
        .unwrap();
    let expired = Timestamp::from_unix_seconds(T0 + 10 + 60 + EXPIRY_SKEW_SECONDS);
    let key = StorageKey::from_bytes([9; 32]);
    let payload = |session: &mut Session, rng: &mut ChaCha20Rng| {
        let blob = session.export(rng, &key).unwrap();
        open_raw(
            StateKind::Session,
            SESSION_BLOB_VERSION,
            &key,
            blob.as_bytes(),
            0,
        )
        .unwrap()
        .0
    };
    let d = &mut w.devices[0];
    let before: Vec<_> = d
        .sessions
        .values_mut()
        .map(|s| payload(s, &mut w.rng))
        .collect();
    let members = [
        d.bundle.clone(),
        w.devices[1].bundle.clone(),
        short.clone(),
        w.devices[3].bundle.clone(),
    ];
    let d = &mut w.devices[0];
    let refused = d
        .group
        .propose(
            &mut w.rng,
            &d.keys,
            &members,
            None,
            &mut d.sessions,
            expired,
        )
        .unwrap_err();
    assert_eq!(
        refused,
        GroupError::Wrap(letterseal::pairwise::SealError::PeerKeyExpired(
            short.sealing_key_id()
        ))
    );
    assert_eq!(d.sessions.len(), 2, "no session with member 3 was kept");
    let after: Vec<_> = d
        .sessions
        .values_mut()
        .map(|s| payload(s, &mut w.rng))
        .collect();
    assert_eq!(
        before, after,
        "the sessions with members 1 and 2 are unchanged"
    );
    assert!(d.group.pending_epoch().is_none());
}

/// The seal checks of a proposal judge a member's expiry by the newest bundle
/// its session will know: an older, expired bundle in the roster does not
/// refuse the proposal when the session already holds a newer, valid one.
#[test]
fn an_older_expired_bundle_in_the_roster_does_not_refuse_a_proposal() {
    let mut w = world(0x5f, 3, GracePolicy::default());
    w.propose(0, &[0, 1, 2], None).unwrap();
    w.devices[0].group.commit(now()).unwrap();
    let register = |w: &mut World, at: u64, lifetime: u64| {
        let at = Timestamp::from_unix_seconds(at);
        let address = w.address(2);
        w.devices[2]
            .keys
            .add_sealing_key(&mut w.rng, at, lifetime)
            .verify(
                &ExpectedOwner::Device(address),
                &RegistrationPolicy::default(),
                at,
                None,
                &NoDirectory,
            )
            .unwrap()
    };
    let short = register(&mut w, T0 + 5, 60);
    let newer = register(&mut w, T0 + 10, 30 * 86_400);
    let address = w.address(2);
    let d = &mut w.devices[0];
    d.sessions
        .get_mut(&address)
        .unwrap()
        .add_peer_bundle(&newer)
        .unwrap();
    let members = [d.bundle.clone(), w.devices[1].bundle.clone(), short];
    let d = &mut w.devices[0];
    let later = Timestamp::from_unix_seconds(T0 + 1_000);
    d.group
        .propose(&mut w.rng, &d.keys, &members, None, &mut d.sessions, later)
        .unwrap();
}
