//! Generators of the group vector files (SPEC.md §8).
//!
//! Generation runs on fixed inputs made here, never on outside data, so fixed
//! indexes into values this module just built are allowed. Distributions are
//! made through the crate's public API ([`Group::propose`], the server check,
//! fan-out views); the hostile ones a member or server could make are built
//! from the same public parts (`CoreFields`, pairwise wraps, `Distribution::sign`).
#![allow(clippy::indexing_slicing)]

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rand_chacha::ChaCha20Rng;
use serde_json::{Map, Value, json};

use super::pairwise::{Fixture, run};
use super::{Builder, DAY, T0, h, random, rng, small_order_points};
use crate::VectorFile;
use letterseal::codec::Writer;
use letterseal::device::DeviceKeys;
use letterseal::group::{
    CoreFields, Distribution, EpochSecret, GracePolicy, Group, GroupHeader, GroupId, Processed,
    Roster, RosterDelta, RosterPolicy, RosterSection, ServerRecord, Transcript,
    VerifiedDistribution, sender_chain, tree_leaf, wrap_context, wrap_list_hash,
};
use letterseal::ids::{DeviceAddress, UserId};
use letterseal::keys::{IdentitySecretKey, SealingSecretKey};
use letterseal::labels;
use letterseal::pairwise::{ContentType, Session};
use letterseal::registration::VerifiedBundle;
use letterseal::time::Timestamp;

fn e<E: core::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn member_json(f: &Fixture) -> Value {
    let identity = IdentitySecretKey::from_seed(&f.identity_seed).public_key();
    let sealing = SealingSecretKey::from_bytes(&f.sealing[f.sealing.len() - 1]).public_key();
    json!({
        "userId": h(f.user),
        "deviceId": f.device,
        "identityKey": h(identity.as_bytes()),
        "sealingKey": h(sealing.as_bytes()),
    })
}

fn members_json(fs: &[&Fixture]) -> Value {
    Value::Array(fs.iter().map(|f| member_json(f)).collect())
}

pub(super) fn roster_hash() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "group-roster-hash",
        "8.1",
        "Building a roster and its hash: inputs groupId, members ([{userId, deviceId, identityKey, sealingKey, \
         keyId?}], any order; keyId defaults to the derived one); outputs roster (the canonical encoding, \
         members sorted by address) and rosterHash, or InvalidRoster.",
        &[(
            "InvalidRoster",
            "Empty, duplicate address, wrong key id or invalid sealing key",
        )],
    );
    let mut r = rng("group-roster-hash");
    let a = Fixture::new(&mut r, b"alice", 1);
    let a2 = Fixture::new(&mut r, b"alice", 2);
    let bob = Fixture::new(&mut r, b"bob", 1);
    let carol = Fixture::new(&mut r, b"carol", 7);
    let ab = Fixture::new(&mut r, b"alicebob", 0);
    b.valid(
        "three members given out of order",
        &[],
        json!({ "groupId": h(b"book club"), "members": members_json(&[&carol, &a, &bob]) }),
    )?;
    b.valid(
        "one member",
        &[],
        json!({ "groupId": h(b"solo"), "members": members_json(&[&bob]) }),
    )?;
    b.valid(
        "two devices of one user (device ids order them); a user id that is a prefix sorts first",
        &[],
        json!({ "groupId": h([0u8, 1, 2, 3]), "members": members_json(&[&ab, &a2, &a, &bob]) }),
    )?;
    b.valid(
        "same members, other group id: other hash",
        &[],
        json!({ "groupId": h(b"book club 2"), "members": members_json(&[&carol, &a, &bob]) }),
    )?;
    b.invalid(
        "no members",
        "InvalidRoster",
        json!({ "groupId": h(b"g"), "members": [] }),
    )?;
    b.invalid(
        "the same device twice",
        "InvalidRoster",
        json!({ "groupId": h(b"g"), "members": members_json(&[&a, &bob, &a]) }),
    )?;
    let mut wrong_id = member_json(&bob);
    wrong_id["keyId"] = h([0u8; 16]);
    b.invalid(
        "a wrong key id",
        "InvalidRoster",
        json!({ "groupId": h(b"g"), "members": [member_json(&a), wrong_id] }),
    )?;
    let mut small = member_json(&bob);
    small["sealingKey"] = h(small_order_points()?[0].0);
    b.invalid(
        "a small-order sealing key",
        "InvalidRoster",
        json!({ "groupId": h(b"g"), "members": [member_json(&a), small] }),
    )?;
    b.finish()
}

pub(super) fn sender_chain_file() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "group-sender-chain",
        "8.8",
        "A member's sender chain: the leaf of its roster position in the epoch's secret tree, its \
         first chain key, and the message secret and chain key after a number of steps. Inputs \
         epochSecret, rosterSize, position, transcript, senderUserId, senderDeviceId, \
         senderIdentityKey, steps; outputs leafSecret, chainKey (CK_0), messageSecret (MK_steps) and \
         nextChainKey (CK_steps+1).",
        &[],
    );
    let mut r = rng("group-sender-chain");
    for (i, (user, device, size, position, steps)) in [
        (&b"alice"[..], 1u32, 1u32, 0u32, 0u32),
        (b"bob", 1, 2, 1, 1),
        (b"bob", 2, 3, 2, 2),
        (b"carol", 7, 5, 3, 0),
        (b"dave", 1, 13, 12, 5),
        (b"erin", 3, 5000, 2718, 3),
    ]
    .into_iter()
    .enumerate()
    {
        let identity = IdentitySecretKey::from_seed(&random(&mut r)).public_key();
        b.valid(
            &alloc::format!("sender {i}: position {position} of {size}, {steps} steps"),
            &[],
            json!({
                "epochSecret": h(random::<32>(&mut r)), "transcript": h(random::<32>(&mut r)),
                "rosterSize": size, "position": position, "steps": steps,
                "senderUserId": h(user), "senderDeviceId": device,
                "senderIdentityKey": h(identity.as_bytes()),
            }),
        )?;
    }
    b.finish()
}

pub(super) fn key_wrap() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "group-key-wrap",
        "8.4",
        "The distributor wraps an epoch secret for a member: the first message of a new pairwise \
         session (SPEC.md §7.5, §7.7) with content type 3 (group key), plaintext the epoch secret and \
         associated data the wrap context. Inputs: distributor device (distributorIdentitySeed, \
         distributorUserId, distributorDeviceId, distributorSealingSecrets: the last seals), \
         memberBundle, notBefore, now (the time of sealing), groupId, epoch, previousTranscript, \
         rosterHash, random (96 bytes in the order of SPEC.md §7.7: the ephemeral secret, the \
         encapsulation's m, the hedged salt's r), epochSecret; outputs context and wrap.",
        &[
            (
                "LocalKeyExpired",
                "The distributor's key expired before now (plus 300 s)",
            ),
            (
                "PeerKeyExpired",
                "The member's key expired before now (plus 300 s)",
            ),
        ],
    );
    let mut r = rng("group-key-wrap");
    let alice = Fixture::new(&mut r, b"alice", 1);
    let mut bob = Fixture::new(&mut r, b"bob", 1);
    let carol = Fixture::new(&mut r, b"carol", 9);
    for (i, (from, to, epoch)) in [
        (&alice, &bob, 1u64),
        (&alice, &carol, 2),
        (&carol, &alice, 7),
    ]
    .into_iter()
    .enumerate()
    {
        let mut input = Map::new();
        from.inputs("distributor", &mut input);
        input.insert("memberBundle".into(), h(to.bundle()?));
        input.insert("notBefore".into(), Value::from(T0 + 10));
        input.insert("now".into(), Value::from(T0 + 10));
        input.insert("groupId".into(), h(b"book club"));
        input.insert("epoch".into(), Value::from(epoch));
        let previous = if epoch == 1 {
            [0u8; 32]
        } else {
            random(&mut r)
        };
        input.insert("previousTranscript".into(), h(previous));
        input.insert("rosterHash".into(), h(random::<32>(&mut r)));
        input.insert("random".into(), h(random::<96>(&mut r)));
        input.insert("epochSecret".into(), h(random::<32>(&mut r)));
        b.valid(
            &alloc::format!("wrap {i}: epoch {epoch}"),
            &[],
            Value::Object(input),
        )?;
    }
    // A member with two sealing keys: the bundle names the newest.
    bob.sealing.push(random(&mut r));
    let mut input = Map::new();
    alice.inputs("distributor", &mut input);
    input.insert("memberBundle".into(), h(bob.bundle()?));
    input.insert("notBefore".into(), Value::from(T0 + 10));
    input.insert("now".into(), Value::from(T0 + 10));
    input.insert("groupId".into(), h([7u8; 255]));
    input.insert("epoch".into(), Value::from(u64::MAX));
    input.insert("previousTranscript".into(), h(random::<32>(&mut r)));
    input.insert("rosterHash".into(), h(random::<32>(&mut r)));
    input.insert("random".into(), h(random::<96>(&mut r)));
    input.insert("epochSecret".into(), h(random::<32>(&mut r)));
    b.valid(
        "255-byte group id, last epoch number, member's newer key",
        &[],
        Value::Object(input.clone()),
    )?;
    // Expiry (§8.4, as §7.5): the distributor's key runs from notBefore for 30 days, the
    // member's older key (its bundle) from T0 + 1; each is usable until 300 s past its end.
    let distributor_end = T0 + 10 + 30 * DAY;
    let member_end = T0 + 1 + 30 * DAY;
    for (name, now, error) in [
        (
            "the member's key is past its end and the skew",
            member_end + 300,
            "PeerKeyExpired",
        ),
        (
            "the distributor's key is past its end and the skew",
            distributor_end + 300,
            "LocalKeyExpired",
        ),
    ] {
        let mut input = input.clone();
        input.insert("now".into(), Value::from(now));
        b.invalid(name, error, Value::Object(input))?;
    }
    // The last second of the skew still seals.
    input.insert("now".into(), Value::from(member_end + 299));
    b.valid(
        "the member's key in its last second of skew",
        &[],
        Value::Object(input),
    )?;
    b.finish()
}

// ---- a simulated group: devices, server, hostile members ------------------------

const NOW: u64 = T0 + 10;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(NOW)
}

struct Dev {
    keys: DeviceKeys,
    bundle: VerifiedBundle,
    group: Group,
    sessions: BTreeMap<DeviceAddress, Session>,
}

/// Devices of the same fixtures, one group state each, and the server's record.
struct World {
    r: ChaCha20Rng,
    id: GroupId,
    devs: Vec<Dev>,
    record: Option<ServerRecord>,
}

impl World {
    fn new(r: ChaCha20Rng, id: &[u8], fixtures: &[&Fixture]) -> Result<Self, String> {
        let id = GroupId::new(id).map_err(e)?;
        let devs = fixtures
            .iter()
            .map(|f| {
                let f = Fixture {
                    user: f.user,
                    device: f.device,
                    identity_seed: f.identity_seed,
                    sealing: f.sealing.clone(),
                    retired: f.retired.clone(),
                };
                Ok(Dev {
                    keys: f.keys()?,
                    bundle: f.verified_bundle()?,
                    group: Group::new(id.clone(), f.address()?, GracePolicy::default()),
                    sessions: BTreeMap::new(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            r,
            id,
            devs,
            record: None,
        })
    }

    fn address(&self, i: usize) -> DeviceAddress {
        self.devs[i].keys.address().clone()
    }

    fn bundles(&self, members: &[usize]) -> Vec<VerifiedBundle> {
        members
            .iter()
            .map(|&i| self.devs[i].bundle.clone())
            .collect()
    }

    /// `from` proposes, the server accepts (storing its record), `from`
    /// commits, and `receivers` process their views.
    fn change(
        &mut self,
        from: usize,
        members: &[usize],
        policy: Option<RosterPolicy>,
        receivers: &[usize],
    ) -> Result<VerifiedDistribution, String> {
        let bundles = self.bundles(members);
        let d = &mut self.devs[from];
        let proposal = d
            .group
            .propose(
                &mut self.r,
                &d.keys,
                &bundles,
                policy,
                &mut d.sessions,
                now(),
            )
            .map_err(e)?;
        let verified = proposal
            .upload
            .verify_for_server(self.record.as_ref(), &self.address(from))
            .map_err(e)?;
        self.record = Some(verified.record());
        self.devs[from].group.commit(now()).map_err(e)?;
        for &m in receivers {
            let view = verified.view_for(&self.address(m)).ok_or("no view")?;
            match self.process(m, &view)? {
                Processed::Installed { .. } => {}
                other => return Err(alloc::format!("member {m}: {other:?}")),
            }
        }
        Ok(verified)
    }

    fn process(&mut self, m: usize, view: &Distribution) -> Result<Processed, String> {
        let distributor = view.core().distributor().clone();
        let from = self
            .devs
            .iter()
            .position(|d| *d.keys.address() == distributor)
            .ok_or("unknown distributor")?;
        let bundle = self.devs[from].bundle.clone();
        let d = &mut self.devs[m];
        if !d.sessions.contains_key(&distributor) {
            let s = Session::new(&d.keys, &bundle).map_err(e)?;
            d.sessions.insert(distributor, s);
        }
        d.group
            .process(&mut d.keys, view, &mut d.sessions, now())
            .map_err(e)
    }

    /// A distribution `from` signs for `members` on top of its current epoch
    /// (or as epoch 1), with `edit` applied to the core's fields, each
    /// member's secret from `secret_for`, confirmed with `confirm`.
    fn forge(
        &mut self,
        from: usize,
        members: &[usize],
        edit: impl FnOnce(&mut CoreFields),
        secret_for: impl Fn(usize) -> [u8; 32],
        confirm: [u8; 32],
    ) -> Result<(Distribution, Roster), String> {
        self.forge_wraps(
            from,
            members,
            edit,
            |m| (ContentType::GroupKey, secret_for(m).to_vec()),
            confirm,
        )
    }

    /// As [`Self::forge`], with each member's wrap content (its content type
    /// and plaintext) from `wrap_for`.
    fn forge_wraps(
        &mut self,
        from: usize,
        members: &[usize],
        edit: impl FnOnce(&mut CoreFields),
        wrap_for: impl Fn(usize) -> (ContentType, Vec<u8>),
        confirm: [u8; 32],
    ) -> Result<(Distribution, Roster), String> {
        let roster = Roster::from_bundles(&self.bundles(members)).map_err(e)?;
        let current = self.devs[from].group.current_epoch();
        let base = self.devs[from].group.roster().cloned();
        let mut fields = CoreFields {
            group_id: self.id.clone(),
            epoch: current.map_or(1, |c| c + 1),
            previous_transcript: self.devs[from]
                .group
                .transcript()
                .copied()
                .unwrap_or(Transcript::NONE),
            roster_hash: roster.hash(&self.id),
            policy: self.devs[from].group.policy().cloned().unwrap_or_default(),
            distributor: self.address(from),
            distributor_identity: self.devs[from].keys.identity().public_key().to_bytes(),
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
        sorted.sort_by_key(|&m| self.address(m));
        let mut wraps = Vec::new();
        for m in sorted.into_iter().filter(|&m| m != from) {
            let bundle = self.devs[m].bundle.clone();
            let d = &mut self.devs[from];
            if !d.sessions.contains_key(bundle.owner()) {
                let s = Session::new(&d.keys, &bundle).map_err(e)?;
                d.sessions.insert(bundle.owner().clone(), s);
            }
            let session = d.sessions.get_mut(bundle.owner()).ok_or("session")?;
            wraps.push({
                let (content_type, plaintext) = wrap_for(m);
                session
                    .seal(
                        &d.keys,
                        &mut self.r,
                        now(),
                        content_type,
                        &plaintext,
                        &context,
                    )
                    .map_err(e)?
            });
        }
        fields.wrap_list_hash = wrap_list_hash(&wraps);
        let core = fields.confirmed(&EpochSecret::from_bytes(confirm));
        let section = match base {
            Some(b) => RosterSection::Delta(b.delta_to(&roster).map_err(e)?),
            None => RosterSection::Full(roster.clone()),
        };
        let d = Distribution::sign(&core, self.devs[from].keys.identity(), section, wraps)
            .map_err(e)?;
        Ok((d, roster))
    }
}

/// `d` with another section and wraps (core and signature kept).
fn with_parts<W: Into<Vec<u8>>>(
    d: &Distribution,
    section: RosterSection,
    wraps: impl IntoIterator<Item = W>,
) -> Result<Distribution, String> {
    Distribution::new(d.core().clone(), *d.signature(), section, wraps).map_err(e)
}

/// The view of `member` (position in `roster`) of an upload, with a full roster.
fn full_view(
    d: &Distribution,
    roster: &Roster,
    member: &DeviceAddress,
) -> Result<Distribution, String> {
    let distributor = roster
        .position(d.core().distributor())
        .ok_or("distributor")?;
    let i = roster.position(member).ok_or("member")?;
    let wrap = d.wraps()[if i > distributor { i - 1 } else { i }].clone();
    with_parts(d, RosterSection::Full(roster.clone()), alloc::vec![wrap])
}

/// A delta section from raw lists (the generator's way to make invalid ones).
fn raw_delta(removed: &[&DeviceAddress], added: &[&[u8]]) -> Result<RosterSection, String> {
    let mut w = Writer::new();
    w.u32(removed.len() as u32);
    for a in removed {
        w.bytes_u8(a.user.as_bytes()).map_err(e)?;
        w.u32(a.device.get());
    }
    w.u32(added.len() as u32);
    for m in added {
        w.raw(m);
    }
    let bytes = w.into_bytes();
    let delta = RosterDelta::from_bytes(&bytes).map_err(e)?;
    Ok(RosterSection::Delta(delta))
}

fn record_json(record: Option<&ServerRecord>) -> Value {
    match record {
        None => Value::Null,
        Some(r) => {
            let mut policy = Writer::new();
            r.policy.encode(&mut policy);
            json!({
                "groupId": h(r.group_id.as_bytes()),
                "epoch": r.epoch,
                "transcript": h(r.transcript.as_bytes()),
                "roster": h(r.roster.as_bytes()),
                "policy": h(policy.as_bytes()),
            })
        }
    }
}

fn verify_input(record: Option<&ServerRecord>, uploader: &Fixture, d: &[u8]) -> Value {
    json!({
        "record": record_json(record),
        "uploaderUserId": h(uploader.user),
        "uploaderDeviceId": uploader.device,
        "distribution": h(d),
    })
}

fn uid(s: &[u8]) -> Result<UserId, String> {
    UserId::new(s).map_err(e)
}

/// The offset of the policy byte in an encoded distribution (SPEC.md §8.5):
/// lp32 ‖ version ‖ kind ‖ lp8(group id) ‖ epoch ‖ previous transcript ‖ roster hash.
fn policy_at(group_id: &GroupId) -> usize {
    4 + 2 + 1 + group_id.as_bytes().len() + 8 + 32 + 32
}

pub(super) fn distribution_verify() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "group-distribution-verify",
        "8.5, 8.7",
        "The server's check of an upload, and the views it fans out: inputs record (the stored record of the \
         group's current epoch, or null: {groupId, epoch, transcript, roster, policy}), uploaderUserId, \
         uploaderDeviceId (the authenticated uploader), distribution; outputs groupId, epoch, transcript, \
         rosterHash, distributorUserId, distributorDeviceId, members (count), views ([{userId, deviceId, \
         view}] in roster order: a delta for members of the previous epoch, the full roster for new ones, \
         the member's wrap, none for the distributor), or the failed check.",
        &[
            ("Malformed", "Not a well-formed distribution"),
            (
                "UnsupportedVersion",
                "Core version other than 2 (1: the previous release's format)",
            ),
            ("InvalidPolicy", "A policy byte other than 0 or 1"),
            (
                "InvalidRoster",
                "A full roster out of order, or a delta that leaves no member",
            ),
            (
                "InvalidRosterDelta",
                "A delta whose lists are unordered, or that removes a non-member",
            ),
            ("BadSignature", "The signature does not verify"),
            (
                "UploaderMismatch",
                "Uploaded by another device than the distributor",
            ),
            ("InvalidEpoch", "Epoch 1 naming a previous transcript"),
            ("WrongGroup", "The record is another group's"),
            ("StaleEpoch", "The epoch is not after the record's"),
            ("EpochGap", "The epoch skips numbers"),
            (
                "ForkedHistory",
                "The previous transcript is not the record's (another history)",
            ),
            (
                "NotPreviousMember",
                "Signed by a device that was not a member of the previous epoch",
            ),
            ("DeltaWithoutBase", "A delta with no previous epoch"),
            (
                "RosterHashMismatch",
                "The rebuilt roster does not hash to the signed roster hash",
            ),
            (
                "DistributorNotMember",
                "The distributor is not in the new roster",
            ),
            ("NoAdminMember", "An admins policy naming no member"),
            (
                "NotPermitted",
                "The policy does not allow the change (a non-admin removes someone; a creator \
                 who is not an admin)",
            ),
            ("WrapListMismatch", "Not one wrap per other member"),
            (
                "WrapListHashMismatch",
                "The wraps do not hash to the signed wrap list hash",
            ),
        ],
    );
    let mut r = rng("group-distribution-verify");
    let fx: Vec<Fixture> = [&b"alice"[..], b"bob", b"carol", b"dave", b"eve"]
        .iter()
        .map(|u| Fixture::new(&mut r, u, 1))
        .collect();
    let refs: Vec<&Fixture> = fx.iter().collect();
    let (a, bo, c, d) = (0usize, 1usize, 2usize, 3usize);
    let mut w = World::new(r, b"book club", &refs)?;

    let v1 = w.change(a, &[a, bo, c], None, &[bo, c])?;
    let r1 = w.record.clone();
    let e1 = v1.distribution().clone();
    let v2 = w.change(a, &[a, bo], None, &[bo])?;
    let r2 = w.record.clone();
    let e2 = v2.distribution().clone();
    let v3 = w.change(bo, &[a, bo, d], None, &[a, d])?;
    let e3 = v3.distribution().clone();

    b.valid(
        "epoch 1 of {Alice, Bob, Carol}: full roster",
        &[],
        verify_input(None, &fx[a], &e1.encode()),
    )?;
    b.valid(
        "epoch 2 removes Carol: a delta",
        &[],
        verify_input(r1.as_ref(), &fx[a], &e2.encode()),
    )?;
    b.valid(
        "epoch 3 by Bob adds Dave, who gets the full roster",
        &[],
        verify_input(r2.as_ref(), &fx[bo], &e3.encode()),
    )?;
    let roster2 = v2.roster().clone();
    let e2_full = with_parts(
        &e2,
        RosterSection::Full(roster2.clone()),
        e2.wraps().to_vec(),
    )?;
    b.valid(
        "epoch 2 uploaded with the full roster",
        &[],
        verify_input(r1.as_ref(), &fx[a], &e2_full.encode()),
    )?;

    // Decoding.
    let wire = e1.encode();
    b.invalid(
        "truncated",
        "Malformed",
        verify_input(None, &fx[a], &wire[..wire.len() - 1]),
    )?;
    let mut v1_format = wire.clone();
    v1_format[4] = 1;
    b.invalid(
        "the previous release's version 1",
        "UnsupportedVersion",
        verify_input(None, &fx[a], &v1_format),
    )?;
    let mut bad_policy = wire.clone();
    bad_policy[policy_at(&w.id)] = 2;
    b.invalid(
        "policy byte 2",
        "InvalidPolicy",
        verify_input(None, &fx[a], &bad_policy),
    )?;
    let roster1 = v1.roster().clone();
    let mut swapped = Vec::new();
    swapped.extend_from_slice(&roster1.as_bytes()[..4]);
    let m: Vec<&[u8]> = roster1.iter().map(|m| m.encoding()).collect();
    swapped.extend_from_slice(m[1]);
    swapped.extend_from_slice(m[0]);
    swapped.extend_from_slice(m[2]);
    let mut unordered = e1.encode();
    let roster_at = 4 + e1.core().as_bytes().len() + 64 + 1;
    unordered.splice(
        roster_at..roster_at + swapped.len(),
        swapped.iter().copied(),
    );
    b.invalid(
        "full roster with Alice and Bob swapped",
        "InvalidRoster",
        verify_input(None, &fx[a], &unordered),
    )?;
    let unordered_delta = {
        // u32(2) ‖ carol ‖ bob ‖ u32(0): removals out of order.
        let mut w2 = Writer::new();
        w2.u32(2);
        for f in [&fx[c], &fx[bo]] {
            w2.bytes_u8(f.user).map_err(e)?;
            w2.u32(f.device);
        }
        w2.u32(0);
        let mut out = Writer::new();
        out.bytes_u32(e2.core().as_bytes()).map_err(e)?;
        out.raw(&e2.signature().to_bytes());
        out.u8(1);
        out.raw(w2.as_bytes());
        out.u32(e2.wraps().len() as u32);
        for wrap in e2.wraps() {
            out.bytes_u32(wrap).map_err(e)?;
        }
        out.into_bytes()
    };
    b.invalid(
        "delta removing Carol then Bob (out of order)",
        "InvalidRosterDelta",
        verify_input(r1.as_ref(), &fx[a], &unordered_delta),
    )?;

    // Signature and uploader.
    let mut bad_sig = wire.clone();
    bad_sig[4 + e1.core().as_bytes().len()] ^= 1;
    b.invalid(
        "signature modified",
        "BadSignature",
        verify_input(None, &fx[a], &bad_sig),
    )?;
    b.invalid(
        "uploaded by Bob",
        "UploaderMismatch",
        verify_input(None, &fx[bo], &wire),
    )?;

    // Epoch numbers and history, against a fresh world of the same devices.
    let mut fresh = World::new(rng("group-distribution-verify/fresh"), b"book club", &refs)?;
    let (history1, _) = fresh.forge(
        a,
        &[a, bo, c],
        |f| f.previous_transcript = Transcript::from_bytes([1; 32]),
        |_| [1; 32],
        [1; 32],
    )?;
    b.invalid(
        "epoch 1 naming a previous transcript",
        "InvalidEpoch",
        verify_input(None, &fx[a], &history1.encode()),
    )?;
    let mut other_group = r1.clone().ok_or("record")?;
    other_group.group_id = GroupId::new(b"chess club").map_err(e)?;
    b.invalid(
        "the record is another group's",
        "WrongGroup",
        verify_input(Some(&other_group), &fx[a], &e2.encode()),
    )?;
    b.invalid(
        "epoch 1 again after epoch 1",
        "StaleEpoch",
        verify_input(r1.as_ref(), &fx[a], &wire),
    )?;
    b.invalid(
        "epoch 3 on the record of epoch 1",
        "EpochGap",
        verify_input(r1.as_ref(), &fx[bo], &e3.encode()),
    )?;
    b.invalid(
        "epoch 2 without a record",
        "EpochGap",
        verify_input(None, &fx[a], &e2.encode()),
    )?;
    // Bob's own epoch 1 of the same group: another history.
    let vb = fresh.change(bo, &[a, bo, c], None, &[])?;
    b.invalid(
        "epoch 2 on a record of another epoch 1",
        "ForkedHistory",
        verify_input(Some(&vb.record()), &fx[a], &e2.encode()),
    )?;

    // Dave, no member, signs epoch 2 on epoch 1's history, adding himself.
    let t1 = r1.as_ref().ok_or("record")?.transcript;
    let (by_dave, _) = w.forge(
        d,
        &[a, bo, c, d],
        |f| {
            f.epoch = 2;
            f.previous_transcript = t1;
        },
        |_| [4; 32],
        [4; 32],
    )?;
    b.invalid(
        "Dave, not a member of epoch 1, signs epoch 2",
        "NotPreviousMember",
        verify_input(r1.as_ref(), &fx[d], &by_dave.encode()),
    )?;
    let delta_first = with_parts(&e1, raw_delta(&[], &[])?, e1.wraps().to_vec())?;
    b.invalid(
        "epoch 1 with a delta",
        "DeltaWithoutBase",
        verify_input(None, &fx[a], &delta_first.encode()),
    )?;
    let dave = fx[d].address()?;
    let removes_dave = with_parts(&e2, raw_delta(&[&dave], &[])?, e2.wraps().to_vec())?;
    b.invalid(
        "epoch 2's delta removes Dave, no member",
        "InvalidRosterDelta",
        verify_input(r1.as_ref(), &fx[a], &removes_dave.encode()),
    )?;
    let everyone: Vec<DeviceAddress> = [a, bo, c].iter().map(|&i| w.address(i)).collect();
    let removes_all = with_parts(
        &e2,
        raw_delta(&everyone.iter().collect::<Vec<_>>(), &[])?,
        e2.wraps().to_vec(),
    )?;
    b.invalid(
        "epoch 2's delta removes everyone",
        "InvalidRoster",
        verify_input(r1.as_ref(), &fx[a], &removes_all.encode()),
    )?;
    let bob_addr = w.address(bo);
    let removes_bob = with_parts(&e2, raw_delta(&[&bob_addr], &[])?, e2.wraps().to_vec())?;
    b.invalid(
        "epoch 2's signed roster removes Carol; the delta removes Bob",
        "RosterHashMismatch",
        verify_input(r1.as_ref(), &fx[a], &removes_bob.encode()),
    )?;

    // Hostile distributors, signing cores for epoch 2 on epoch 1 (a fresh world
    // at epoch 1 of the same history: Alice's state before epoch 2).
    let mut at1 = World::new(rng("group-distribution-verify/at1"), b"book club", &refs)?;
    // Bob at epoch 1 of Alice's history signs as a previous member.
    at1.process(bo, &e1)?;
    let (no_self, _roster_bc) = at1.forge(bo, &[a, c], |_| {}, |_| [5; 32], [5; 32])?;
    b.invalid(
        "Bob signs epoch 2 whose roster leaves Bob out",
        "DistributorNotMember",
        verify_input(r1.as_ref(), &fx[bo], &no_self.encode()),
    )?;
    let nobody = RosterPolicy::admins([uid(b"nobody")?]).map_err(e)?;
    let (no_admin, _) = at1.forge(bo, &[a, bo, c], |f| f.policy = nobody, |_| [6; 32], [6; 32])?;
    b.invalid(
        "Bob signs epoch 2 with admins naming nobody in the roster",
        "NoAdminMember",
        verify_input(r1.as_ref(), &fx[bo], &no_admin.encode()),
    )?;
    // An admins group: Alice creates it; Bob, no admin, removes Carol.
    let mut admins = World::new(rng("group-distribution-verify/admins"), b"admins", &refs)?;
    let only_alice = RosterPolicy::admins([uid(b"alice")?]).map_err(e)?;
    let va1 = admins.change(a, &[a, bo, c], Some(only_alice.clone()), &[bo, c])?;
    b.valid(
        "an admins group created by its admin",
        &[],
        verify_input(None, &fx[a], &va1.distribution().encode()),
    )?;
    let ra1 = admins.record.clone();
    let (removal, _) = admins.forge(bo, &[a, bo], |_| {}, |_| [7; 32], [7; 32])?;
    b.invalid(
        "Bob, no admin, removes Carol",
        "NotPermitted",
        verify_input(ra1.as_ref(), &fx[bo], &removal.encode()),
    )?;
    let mut creator = World::new(rng("group-distribution-verify/creator"), b"admins", &refs)?;
    let (not_admin, _) = creator.forge(
        bo,
        &[a, bo],
        |f| f.policy = only_alice,
        |_| [8; 32],
        [8; 32],
    )?;
    b.invalid(
        "Bob creates a group whose only admin is Alice",
        "NotPermitted",
        verify_input(None, &fx[bo], &not_admin.encode()),
    )?;

    // The wraps.
    let no_wraps = with_parts(&e2, e2.section().clone(), Vec::<Vec<u8>>::new())?;
    b.invalid(
        "epoch 2 without Bob's wrap",
        "WrapListMismatch",
        verify_input(r1.as_ref(), &fx[a], &no_wraps.encode()),
    )?;
    let mut flipped: Vec<Vec<u8>> = e2.wraps().iter().map(|w| w.to_vec()).collect();
    flipped[0][20] ^= 1;
    let flipped = with_parts(&e2, e2.section().clone(), flipped)?;
    b.invalid(
        "Bob's wrap modified",
        "WrapListHashMismatch",
        verify_input(r1.as_ref(), &fx[a], &flipped.encode()),
    )?;
    b.finish()
}

fn process_input(
    member: &Fixture,
    group: &[u8],
    distributors: &[&Fixture],
    processed: &[Vec<u8>],
    d: &[u8],
) -> Result<Value, String> {
    let mut input = Map::new();
    member.inputs("member", &mut input);
    input.insert("groupId".into(), h(group));
    input.insert(
        "distributorBundles".into(),
        Value::Array(
            distributors
                .iter()
                .map(|f| f.bundle().map(h))
                .collect::<Result<Vec<_>, String>>()?,
        ),
    );
    input.insert("notBefore".into(), Value::from(NOW));
    input.insert(
        "processed".into(),
        Value::Array(processed.iter().map(h).collect()),
    );
    input.insert("distribution".into(), h(d));
    Ok(Value::Object(input))
}

pub(super) fn distribution_process() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "group-distribution-process",
        "8.7",
        "A member processes a distribution (a view or an upload) with pairwise sessions to the devices of \
         `distributorBundles`, after the `processed` ones (each must succeed; default grace: one previous \
         epoch): inputs member device (memberIdentitySeed, memberUserId, memberDeviceId, \
         memberSealingSecrets), groupId, distributorBundles, notBefore, processed, distribution; outputs \
         outcome (Installed: epoch, epochSecret, transcript, epochTag, firstEpoch, joined, left, rekeyed \
         counts; AlreadyProcessed: epoch), or the failed check.",
        &[
            ("Malformed", "Not a well-formed distribution"),
            (
                "UnsupportedVersion",
                "Core version 1 (the previous release's)",
            ),
            ("WrongGroup", "The member's group id differs"),
            ("BadSignature", "The signature does not verify"),
            ("InvalidEpoch", "Epoch 0"),
            (
                "ConflictingEpoch",
                "Another core for an epoch the member holds",
            ),
            ("StaleEpoch", "An older epoch the member no longer holds"),
            ("EpochGap", "The epoch skips numbers"),
            (
                "ForkedHistory",
                "The previous transcript is not the member's current one",
            ),
            (
                "NotPending",
                "The member's own distribution, which it has not pending",
            ),
            (
                "NotPreviousMember",
                "Signed by a device that was not a member of the previous epoch",
            ),
            ("DeltaWithoutBase", "A delta to a member with no epoch"),
            ("InvalidRosterDelta", "A delta that removes a non-member"),
            (
                "RosterHashMismatch",
                "The rebuilt roster does not hash to the signed roster hash",
            ),
            (
                "DistributorNotMember",
                "The distributor is not in the new roster",
            ),
            ("NoAdminMember", "An admins policy naming no member"),
            ("NotPermitted", "A non-admin removes another member"),
            ("NotAMember", "The member is not in the new roster"),
            ("MissingWrap", "No wrap for the member"),
            ("MissingSession", "No session with the distributor"),
            (
                "DistributorMismatch",
                "The session is with another identity at the distributor's address",
            ),
            (
                "WrapRejected",
                "The wrap does not open (another member's wrap)",
            ),
            (
                "InvalidWrap",
                "The wrap opens but is not a 32-byte group key (content type 3)",
            ),
            (
                "ConfirmationMismatch",
                "The wrapped secret is not the one the core confirms (split secrets)",
            ),
        ],
    );
    let mut r = rng("group-distribution-process");
    let fx: Vec<Fixture> = [&b"alice"[..], b"bob", b"carol", b"dave"]
        .iter()
        .map(|u| Fixture::new(&mut r, u, 1))
        .collect();
    let reinstalled_alice = Fixture::new(&mut r, b"alice", 1);
    let refs: Vec<&Fixture> = fx.iter().collect();
    let (a, bo, c, d) = (0usize, 1usize, 2usize, 3usize);
    let gid = b"book club";
    let mut w = World::new(r, gid, &refs)?;
    let bob_addr = w.address(bo);
    let carol_addr = w.address(c);

    let v1 = w.change(a, &[a, bo, c], None, &[bo, c])?;
    let e1 = v1.distribution().clone();
    let e1_bob = v1.view_for(&bob_addr).ok_or("view")?.encode();
    let v2 = w.change(a, &[a, bo], None, &[bo])?;
    let e2 = v2.distribution().clone();
    let e2_bob = v2.view_for(&bob_addr).ok_or("view")?;
    let v3 = w.change(a, &[a, bo], None, &[bo])?;
    let e3_bob = v3.view_for(&bob_addr).ok_or("view")?.encode();
    let v4 = w.change(a, &[a, bo, d], None, &[bo, d])?;
    let e4_dave = v4.view_for(&w.address(d)).ok_or("view")?.encode();

    let alice = [&fx[a]];
    let after_e1 = [e1_bob.clone()];
    b.valid(
        "Bob processes epoch 1 (first epoch, full roster)",
        &[],
        process_input(&fx[bo], gid, &alice, &[], &e1_bob)?,
    )?;
    b.valid(
        "Bob processes epoch 2 (Carol removed, a delta)",
        &[],
        process_input(&fx[bo], gid, &alice, &after_e1, &e2_bob.encode())?,
    )?;
    b.valid(
        "Carol processes the epoch-1 upload (all wraps)",
        &[],
        process_input(&fx[c], gid, &alice, &[], &e1.encode())?,
    )?;
    b.valid(
        "Dave joins at epoch 4 (first epoch above 1, full roster)",
        &[],
        process_input(&fx[d], gid, &alice, &[], &e4_dave)?,
    )?;
    b.valid(
        "Bob processes epoch 1 again",
        &[],
        process_input(&fx[bo], gid, &alice, &after_e1, &e1_bob)?,
    )?;
    let roster2 = v2.roster().clone();
    let e2_bob_full = with_parts(
        &e2_bob,
        RosterSection::Full(roster2),
        e2_bob.wraps().to_vec(),
    )?;
    b.valid(
        "Bob processes epoch 2 with the full roster",
        &[],
        process_input(&fx[bo], gid, &alice, &after_e1, &e2_bob_full.encode())?,
    )?;

    b.invalid(
        "truncated",
        "Malformed",
        process_input(&fx[bo], gid, &alice, &[], &e1_bob[..e1_bob.len() - 1])?,
    )?;
    let mut v1_format = e1_bob.clone();
    v1_format[4] = 1;
    b.invalid(
        "the previous release's version 1",
        "UnsupportedVersion",
        process_input(&fx[bo], gid, &alice, &[], &v1_format)?,
    )?;
    b.invalid(
        "another group",
        "WrongGroup",
        process_input(&fx[bo], b"chess club", &alice, &[], &e1_bob)?,
    )?;
    let mut bad_sig = e1_bob.clone();
    bad_sig[4 + e1.core().as_bytes().len() + 7] ^= 0x10;
    b.invalid(
        "signature modified",
        "BadSignature",
        process_input(&fx[bo], gid, &alice, &[], &bad_sig)?,
    )?;
    let mut fresh = World::new(rng("group-distribution-process/fresh"), gid, &refs)?;
    let (zero, roster_abc) = fresh.forge(a, &[a, bo, c], |f| f.epoch = 0, |_| [1; 32], [1; 32])?;
    b.invalid(
        "epoch 0",
        "InvalidEpoch",
        process_input(
            &fx[bo],
            gid,
            &alice,
            &[],
            &full_view(&zero, &roster_abc, &bob_addr)?.encode(),
        )?,
    )?;
    // Carol's own epoch 1 of the same group, and her epoch 2 on it: another history.
    let mut other = World::new(rng("group-distribution-process/other"), gid, &refs)?;
    let o1 = other.change(c, &[a, bo, c], None, &[])?;
    let o2 = other.change(c, &[a, bo, c, d], None, &[])?;
    let both = [&fx[a], &fx[c]];
    b.invalid(
        "Carol's other epoch 1 after Alice's",
        "ConflictingEpoch",
        process_input(
            &fx[bo],
            gid,
            &both,
            &after_e1,
            &o1.view_for(&bob_addr).ok_or("view")?.encode(),
        )?,
    )?;
    b.invalid(
        "epoch 1 after epochs 2 and 3 (epoch 1 deleted)",
        "StaleEpoch",
        process_input(
            &fx[bo],
            gid,
            &alice,
            &[e1_bob.clone(), e2_bob.encode(), e3_bob.clone()],
            &e1_bob,
        )?,
    )?;
    b.invalid(
        "epoch 3 after epoch 1",
        "EpochGap",
        process_input(&fx[bo], gid, &alice, &after_e1, &e3_bob)?,
    )?;
    b.invalid(
        "epoch 2 of Carol's history after Alice's epoch 1",
        "ForkedHistory",
        process_input(
            &fx[bo],
            gid,
            &both,
            &after_e1,
            &o2.full_view_for(&bob_addr).ok_or("view")?.encode(),
        )?,
    )?;
    b.invalid(
        "Alice processes her own epoch 1 without having it pending",
        "NotPending",
        process_input(
            &fx[a],
            gid,
            &[],
            &[],
            &v1.view_for(&w.address(a)).ok_or("view")?.encode(),
        )?,
    )?;
    // Bob at epoch 1 (of Alice's history): hostile epoch-2 cores.
    let mut at1 = World::new(rng("group-distribution-process/at1"), gid, &refs)?;
    at1.process(bo, &Distribution::decode(&e1_bob).map_err(e)?)?;
    at1.process(c, &e1)?;
    let t1 = e1.core().transcript();
    let (by_dave, roster_abcd) = at1.forge(
        d,
        &[a, bo, c, d],
        |f| {
            f.epoch = 2;
            f.previous_transcript = t1;
        },
        |_| [2; 32],
        [2; 32],
    )?;
    b.invalid(
        "Dave, not a member of epoch 1, signs epoch 2",
        "NotPreviousMember",
        process_input(
            &fx[bo],
            gid,
            &[&fx[a], &fx[d]],
            &after_e1,
            &full_view(&by_dave, &roster_abcd, &bob_addr)?.encode(),
        )?,
    )?;
    b.invalid(
        "a delta to a member with no epoch",
        "DeltaWithoutBase",
        process_input(&fx[bo], gid, &alice, &[], &e2_bob.encode())?,
    )?;
    let dave = w.address(d);
    let removes_dave = with_parts(&e2_bob, raw_delta(&[&dave], &[])?, e2_bob.wraps().to_vec())?;
    b.invalid(
        "epoch 2's delta removes Dave, no member",
        "InvalidRosterDelta",
        process_input(&fx[bo], gid, &alice, &after_e1, &removes_dave.encode())?,
    )?;
    let alice_addr = w.address(a);
    let removes_alice = with_parts(
        &e2_bob,
        raw_delta(&[&alice_addr], &[])?,
        e2_bob.wraps().to_vec(),
    )?;
    b.invalid(
        "epoch 2's signed roster removes Carol; the delta removes Alice",
        "RosterHashMismatch",
        process_input(&fx[bo], gid, &alice, &after_e1, &removes_alice.encode())?,
    )?;
    let (no_self, _) = at1.forge(c, &[a, bo], |_| {}, |_| [3; 32], [3; 32])?;
    b.invalid(
        "Carol signs epoch 2 whose roster leaves Carol out",
        "DistributorNotMember",
        process_input(
            &fx[bo],
            gid,
            &[&fx[a], &fx[c]],
            &after_e1,
            &with_parts(
                &no_self,
                no_self.section().clone(),
                alloc::vec![no_self.wraps()[1].clone()],
            )?
            .encode(),
        )?,
    )?;
    let nobody = RosterPolicy::admins([uid(b"nobody")?]).map_err(e)?;
    let (no_admin, _) = at1.forge(c, &[a, bo, c], |f| f.policy = nobody, |_| [4; 32], [4; 32])?;
    b.invalid(
        "Carol signs epoch 2 with admins naming nobody in the roster",
        "NoAdminMember",
        process_input(
            &fx[bo],
            gid,
            &[&fx[a], &fx[c]],
            &after_e1,
            &with_parts(
                &no_admin,
                no_admin.section().clone(),
                alloc::vec![no_admin.wraps()[1].clone()],
            )?
            .encode(),
        )?,
    )?;
    // An admins group: Alice creates it; Bob, no admin, removes Dave.
    let mut admins = World::new(rng("group-distribution-process/admins"), b"admins", &refs)?;
    let only_alice = RosterPolicy::admins([uid(b"alice")?]).map_err(e)?;
    let va1 = admins.change(a, &[a, bo, c, d], Some(only_alice), &[bo, c])?;
    let (removal, roster_abc2) = admins.forge(bo, &[a, bo, c], |_| {}, |_| [5; 32], [5; 32])?;
    b.invalid(
        "Bob, no admin, removes Dave",
        "NotPermitted",
        process_input(
            &fx[c],
            b"admins",
            &[&fx[a], &fx[bo]],
            &[va1.view_for(&carol_addr).ok_or("view")?.encode()],
            &full_view(&removal, &roster_abc2, &carol_addr)?.encode(),
        )?,
    )?;
    b.invalid(
        "Carol, removed, processes epoch 2",
        "NotAMember",
        process_input(&fx[c], gid, &alice, &[e1.encode()], &e2.encode())?,
    )?;
    let no_wrap = with_parts(&e2_bob, e2_bob.section().clone(), Vec::<Vec<u8>>::new())?;
    b.invalid(
        "no wrap for Bob",
        "MissingWrap",
        process_input(&fx[bo], gid, &alice, &after_e1, &no_wrap.encode())?,
    )?;
    b.invalid(
        "no session with Alice",
        "MissingSession",
        process_input(&fx[bo], gid, &[], &[], &e1_bob)?,
    )?;
    b.invalid(
        "a session with a reinstalled Alice (another identity)",
        "DistributorMismatch",
        process_input(&fx[bo], gid, &[&reinstalled_alice], &[], &e1_bob)?,
    )?;
    let carols = v1.view_for(&carol_addr).ok_or("view")?;
    let moved = with_parts(
        &Distribution::decode(&e1_bob).map_err(e)?,
        carols.section().clone(),
        carols.wraps().to_vec(),
    )?;
    b.invalid(
        "Carol's wrap delivered to Bob",
        "WrapRejected",
        process_input(&fx[bo], gid, &alice, &[], &moved.encode())?,
    )?;
    let (split, roster_split) = at1.forge(
        c,
        &[a, bo, c],
        |_| {},
        |m| if m == 1 { [9; 32] } else { [8; 32] },
        [8; 32],
    )?;
    b.invalid(
        "Carol wraps another secret for Bob than the one she confirms",
        "ConfirmationMismatch",
        process_input(
            &fx[bo],
            gid,
            &[&fx[a], &fx[c]],
            &after_e1,
            &full_view(&split, &roster_split, &bob_addr)?.encode(),
        )?,
    )?;
    // The confirmed secret, but not as a group key: as control traffic, or one byte short.
    for (name, content_type, len) in [
        (
            "the secret sent as a control message",
            ContentType::Control,
            32usize,
        ),
        ("a 31-byte group key", ContentType::GroupKey, 31),
    ] {
        let (bad, roster_bad) = at1.forge_wraps(
            c,
            &[a, bo, c],
            |_| {},
            |_| (content_type, [8u8; 32][..len].to_vec()),
            [8; 32],
        )?;
        b.invalid(
            &alloc::format!("Carol's wrap for Bob: {name}"),
            "InvalidWrap",
            process_input(
                &fx[bo],
                gid,
                &[&fx[a], &fx[c]],
                &after_e1,
                &full_view(&bad, &roster_bad, &bob_addr)?.encode(),
            )?,
        )?;
    }
    b.finish()
}

/// The chain key `sender` seals its message `counter` with (SPEC.md §8.8),
/// walked from its leaf; past 100 000 steps an arbitrary key stands in (the
/// vectors that far out only test the counter's limit).
fn sender_chain_at(
    sender: &Fixture,
    roster: &[&Fixture],
    secret: [u8; 32],
    transcript: [u8; 32],
    counter: u64,
) -> [u8; 32] {
    if counter > 100_000 {
        return [0x5c; 32];
    }
    let mut addresses: Vec<DeviceAddress> =
        roster.iter().filter_map(|m| m.address().ok()).collect();
    addresses.sort();
    let Ok(me) = sender.address() else {
        return [0; 32];
    };
    let leaf = addresses
        .iter()
        .position(|a| *a == me)
        .and_then(|i| u32::try_from(i).ok())
        .and_then(|i| {
            tree_leaf(
                &EpochSecret::from_bytes(secret),
                u32::try_from(addresses.len()).ok()?,
                i,
            )
        });
    let Some(leaf) = leaf else {
        return [0; 32];
    };
    let identity = IdentitySecretKey::from_seed(&sender.identity_seed).public_key();
    let mut chain = sender_chain(
        &leaf,
        &Transcript::from_bytes(transcript),
        &me,
        identity.as_bytes(),
    );
    for _ in 0..counter {
        chain = chain.step().1;
    }
    *chain.as_bytes()
}

/// A `group-seal` input for `sender` in an epoch of `roster`.
#[allow(clippy::too_many_arguments)] // one argument per input field of the step
fn seal_input(
    sender: &Fixture,
    roster: &[&Fixture],
    epoch: u64,
    secret: [u8; 32],
    transcript: [u8; 32],
    counter: u64,
    random32: [u8; 32],
    ct: u16,
    pt: &[u8],
    ad: &[u8],
) -> Value {
    let mut e = json!({ "epoch": epoch, "epochSecret": h(secret), "transcript": h(transcript),
                        "members": members_json(roster), "counter": counter });
    if counter > 0 {
        e["senderChainKey"] = h(sender_chain_at(sender, roster, secret, transcript, counter));
    }
    json!({
        "groupId": h(b"book club"),
        "epochs": [e],
        "senderIdentitySeed": h(sender.identity_seed),
        "senderUserId": h(sender.user),
        "senderDeviceId": sender.device,
        "random": h(random32),
        "contentType": ct,
        "plaintext": h(pt),
        "associatedData": h(ad),
    })
}

fn message_of(out: &Map<String, Value>) -> Result<Vec<u8>, String> {
    hex::decode(
        out.get("message")
            .and_then(Value::as_str)
            .ok_or("no message")?,
    )
    .map_err(e)
}

struct Scene {
    r: ChaCha20Rng,
    alice: Fixture,
    bob: Fixture,
    carol: Fixture,
    dave: Fixture,
}

impl Scene {
    fn new(file: &str) -> Self {
        let mut r = rng(file);
        let alice = Fixture::new(&mut r, b"alice", 1);
        let bob = Fixture::new(&mut r, b"bob", 1);
        let carol = Fixture::new(&mut r, b"carol", 1);
        let dave = Fixture::new(&mut r, b"dave", 1);
        Self {
            r,
            alice,
            bob,
            carol,
            dave,
        }
    }
}

pub(super) fn seal() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "group-seal",
        "8.8",
        "Seal a group message with fixed randomness: inputs groupId, epochs (one: epoch, epochSecret, \
         transcript, members, counter = the sender's next counter, senderChainKey = its chain key for \
         that counter when it is not 0 — at 0 the chain comes from the secret tree), \
         senderIdentitySeed, senderUserId, \
         senderDeviceId, random (the 32 fresh bytes of the hedged salt), contentType, plaintext, \
         associatedData; output message, or CounterExhausted / NotAMember.",
        &[
            ("CounterExhausted", "The counter is 2^64 - 1"),
            ("NotAMember", "The sender is not in the roster"),
        ],
    );
    let mut s = Scene::new("group-seal");
    let roster = [&s.alice, &s.bob, &s.carol];
    let secret: [u8; 32] = random(&mut s.r);
    let transcript: [u8; 32] = random(&mut s.r);
    for (comment, counter, ct, pt, ad) in [
        ("text", 0u64, 0u16, &b"hello group"[..], &b""[..]),
        ("with associated data", 1, 0, b"hi", b"thread 4"),
        ("empty, application type", 9, 0x8002, b"", b""),
        ("largest usable counter", u64::MAX - 1, 0, b"last", b""),
    ] {
        b.valid(
            comment,
            &[],
            seal_input(
                &s.bob,
                &roster,
                3,
                secret,
                transcript,
                counter,
                random(&mut s.r),
                ct,
                pt,
                ad,
            ),
        )?;
    }
    b.invalid(
        "counter 2^64 - 1",
        "CounterExhausted",
        seal_input(
            &s.bob,
            &roster,
            3,
            secret,
            transcript,
            u64::MAX,
            random(&mut s.r),
            0,
            b"",
            b"",
        ),
    )?;
    b.invalid(
        "Dave is not in the roster",
        "NotAMember",
        seal_input(
            &s.dave,
            &roster,
            3,
            secret,
            transcript,
            0,
            random(&mut s.r),
            0,
            b"",
            b"",
        ),
    )?;
    b.finish()
}

#[allow(clippy::too_many_arguments)] // one argument per input field of the step
fn open_input(
    receiver: &Fixture,
    epochs: Value,
    max_age: Option<u64>,
    now: u64,
    delivered: &[Vec<u8>],
    message: &[u8],
    ad: &[u8],
) -> Value {
    json!({
        "groupId": h(b"book club"),
        "receiverUserId": h(receiver.user),
        "receiverDeviceId": receiver.device,
        "epochs": epochs,
        "maxAge": max_age,
        "now": now,
        "delivered": Value::Array(delivered.iter().map(h).collect()),
        "message": h(message),
        "associatedData": h(ad),
    })
}

pub(super) fn open() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "group-open",
        "8.9",
        "Open a group message at `now` after the delivered ones: inputs groupId, receiverUserId, \
         receiverDeviceId, epochs ([{epoch, epochSecret, transcript, members, supersededAt?}], oldest first; \
         the last is current), maxAge (grace in seconds, or null), now, delivered, message, associatedData; \
         outputs senderUserId, senderDeviceId, epoch, contentType, plaintext, counter, skipped, late, or the \
         failed check.",
        &[
            ("Gap", "Counters were skipped"),
            ("OutOfOrder", "The message arrives after a later one"),
            ("Grace", "An epoch superseded within its grace period"),
            ("Malformed", "Not a well-formed group message"),
            (
                "UnsupportedVersion",
                "Version byte other than 2 (1: the previous release's)",
            ),
            ("WrongGroup", "Another group's message"),
            ("UnknownEpoch", "No secret for the epoch"),
            ("EpochExpired", "The epoch's grace period is over"),
            ("UnknownSender", "The sender is not in the epoch's roster"),
            ("OwnMessage", "Sent by the receiver itself"),
            (
                "SenderRemoved",
                "A superseded epoch's message from a sender no longer in the current roster",
            ),
            (
                "BadSignature",
                "The sender's signature does not verify (forged by another member)",
            ),
            (
                "ForkedEpoch",
                "The sender sealed in another version of the epoch (another transcript)",
            ),
            ("Replay", "The counter was already accepted"),
            (
                "TooOld",
                "The counter was opened and is 1024 or more below the sender's highest",
            ),
            (
                "TooManySkipped",
                "The message would skip more than 1000 of its sender's chain, or store more than 2000 in the epoch",
            ),
            (
                "CommitmentMismatch",
                "A signed message whose commitment does not match its keys",
            ),
            ("AuthenticationFailed", "The AEAD tag does not verify"),
        ],
    );
    let Scene {
        mut r,
        alice,
        bob,
        carol,
        dave,
    } = Scene::new("group-open");
    let roster = [&alice, &bob, &carol];
    let (e1, e2): ([u8; 32], [u8; 32]) = (random(&mut r), random(&mut r));
    let (t1, t2): ([u8; 32], [u8; 32]) = (random(&mut r), random(&mut r));
    #[allow(clippy::too_many_arguments)]
    fn seal_one(
        r: &mut ChaCha20Rng,
        roster: &[&Fixture],
        from: &Fixture,
        epoch: u64,
        secret: [u8; 32],
        transcript: [u8; 32],
        counter: u64,
        pt: &[u8],
        ad: &[u8],
        group: &[u8],
    ) -> Result<Vec<u8>, String> {
        let mut input = seal_input(
            from,
            roster,
            epoch,
            secret,
            transcript,
            counter,
            random(r),
            0,
            pt,
            ad,
        );
        input["groupId"] = h(group);
        message_of(&run("group-seal", &input)?)
    }
    let m: Vec<Vec<u8>> = (0..4u64)
        .map(|i| {
            seal_one(
                &mut r,
                &roster,
                &alice,
                2,
                e2,
                t2,
                i,
                alloc::format!("m{i}").as_bytes(),
                b"",
                b"book club",
            )
        })
        .collect::<Result<_, _>>()?;
    let with_ad = seal_one(
        &mut r,
        &roster,
        &carol,
        2,
        e2,
        t2,
        0,
        b"with ad",
        b"thread",
        b"book club",
    )?;
    let old = seal_one(
        &mut r,
        &roster,
        &carol,
        1,
        e1,
        t1,
        0,
        b"from epoch 1",
        b"",
        b"book club",
    )?;
    let old_alice = seal_one(
        &mut r,
        &roster,
        &alice,
        1,
        e1,
        t1,
        3,
        b"Alice, epoch 1",
        b"",
        b"book club",
    )?;
    let epoch = |n: u64, secret: [u8; 32], t: [u8; 32], members: &[&Fixture], at: Option<u64>| {
        let mut v = json!({ "epoch": n, "epochSecret": h(secret), "transcript": h(t),
                            "members": members_json(members) });
        if let Some(at) = at {
            v["supersededAt"] = Value::from(at);
        }
        v
    };
    let epochs_now = json!([epoch(2, e2, t2, &roster, None)]);
    let epochs_grace = json!([
        epoch(1, e1, t1, &roster, Some(T0)),
        epoch(2, e2, t2, &roster, None),
    ]);
    let epochs_removed = json!([
        epoch(1, e1, t1, &roster, Some(T0)),
        epoch(2, e2, t2, &[&alice, &bob], None),
    ]);
    let t = T0 + 50;
    b.valid(
        "from Alice",
        &[],
        open_input(&bob, epochs_now.clone(), None, t, &[], &m[0], b""),
    )?;
    b.valid(
        "from Carol with associated data",
        &[],
        open_input(&bob, epochs_now.clone(), None, t, &[], &with_ad, b"thread"),
    )?;
    b.valid(
        "gap: 0 then 3",
        &["Gap"],
        open_input(&bob, epochs_now.clone(), None, t, &m[..1], &m[3], b""),
    )?;
    b.valid(
        "out of order: 2 then 1",
        &["OutOfOrder"],
        open_input(&bob, epochs_now.clone(), None, t, &m[2..3], &m[1], b""),
    )?;
    b.valid(
        "epoch 1 within its grace period",
        &["Grace"],
        open_input(
            &bob,
            epochs_grace.clone(),
            Some(100),
            T0 + 100,
            &[],
            &old,
            b"",
        ),
    )?;
    b.valid(
        "epoch 1 from Alice, still a member, after Carol's removal",
        &["Grace"],
        open_input(
            &bob,
            epochs_removed.clone(),
            Some(100),
            T0 + 60,
            &[],
            &old_alice,
            b"",
        ),
    )?;

    b.invalid(
        "truncated",
        "Malformed",
        open_input(
            &bob,
            epochs_now.clone(),
            None,
            t,
            &[],
            &m[0][..m[0].len() - 70],
            b"",
        ),
    )?;
    let mut v1 = m[0].clone();
    v1[0] = 1;
    b.invalid(
        "version 1",
        "UnsupportedVersion",
        open_input(&bob, epochs_now.clone(), None, t, &[], &v1, b""),
    )?;
    let other_group = seal_one(
        &mut r,
        &roster,
        &alice,
        2,
        e2,
        t2,
        0,
        b"elsewhere",
        b"",
        b"chess club",
    )?;
    b.invalid(
        "another group",
        "WrongGroup",
        open_input(&bob, epochs_now.clone(), None, t, &[], &other_group, b""),
    )?;
    let future = seal_one(
        &mut r,
        &roster,
        &alice,
        9,
        e2,
        t2,
        0,
        b"epoch 9",
        b"",
        b"book club",
    )?;
    b.invalid(
        "epoch 9 is unknown",
        "UnknownEpoch",
        open_input(&bob, epochs_now.clone(), None, t, &[], &future, b""),
    )?;
    b.invalid(
        "epoch 1 past its grace period",
        "EpochExpired",
        open_input(&bob, epochs_grace, Some(100), T0 + 101, &[], &old, b""),
    )?;
    let from_dave = seal_one(
        &mut r,
        &[&alice, &bob, &carol, &dave],
        &dave,
        2,
        e2,
        t2,
        0,
        b"I am Dave",
        b"",
        b"book club",
    )?;
    b.invalid(
        "Dave is not in the receiver's roster",
        "UnknownSender",
        open_input(&bob, epochs_now.clone(), None, t, &[], &from_dave, b""),
    )?;
    let own = seal_one(
        &mut r,
        &roster,
        &bob,
        2,
        e2,
        t2,
        0,
        b"mine",
        b"",
        b"book club",
    )?;
    b.invalid(
        "Bob's own message",
        "OwnMessage",
        open_input(&bob, epochs_now.clone(), None, t, &[], &own, b""),
    )?;
    b.invalid(
        "epoch 1 from Carol after her removal",
        "SenderRemoved",
        open_input(&bob, epochs_removed, Some(100), T0 + 60, &[], &old, b""),
    )?;
    // Carol forges "from Alice": Alice's chain, Carol's signature.
    let forged = forge(&roster, e2, t2, &alice, &carol, true)?;
    b.invalid(
        "Carol forges a message from Alice",
        "BadSignature",
        open_input(&bob, epochs_now.clone(), None, t, &[], &forged, b""),
    )?;
    let t2_other: [u8; 32] = random(&mut r);
    let forked = seal_one(
        &mut r,
        &roster,
        &alice,
        2,
        e2,
        t2_other,
        0,
        b"my epoch 2",
        b"",
        b"book club",
    )?;
    b.invalid(
        "Alice sealed in another epoch 2 (another transcript)",
        "ForkedEpoch",
        open_input(&bob, epochs_now.clone(), None, t, &[], &forked, b""),
    )?;
    b.invalid(
        "replay",
        "Replay",
        open_input(&bob, epochs_now.clone(), None, t, &m[..1], &m[0], b""),
    )?;
    let alice_at = |r: &mut ChaCha20Rng, counter: u64| {
        seal_one(
            r,
            &roster,
            &alice,
            2,
            e2,
            t2,
            counter,
            alloc::format!("m{counter}").as_bytes(),
            b"",
            b"book club",
        )
    };
    let (at1000, at2000, at1001) = (
        alice_at(&mut r, 1000)?,
        alice_at(&mut r, 2000)?,
        alice_at(&mut r, 1001)?,
    );
    b.invalid(
        "counter 0 again after 1000 and 2000 (1024 or more below the highest)",
        "TooOld",
        open_input(
            &bob,
            epochs_now.clone(),
            None,
            t,
            &[m[0].clone(), at1000.clone(), at2000.clone()],
            &m[0],
            b"",
        ),
    )?;
    b.valid(
        "counter 1 after 1000 and 2000: opened late from a stored secret",
        &[],
        open_input(
            &bob,
            epochs_now.clone(),
            None,
            t,
            &[m[0].clone(), at1000.clone(), at2000.clone()],
            &m[1],
            b"",
        ),
    )?;
    b.valid(
        "counter 1000 first: 1000 skipped, the most one message may skip",
        &[],
        open_input(&bob, epochs_now.clone(), None, t, &[], &at1000, b""),
    )?;
    b.invalid(
        "counter 1001 first: 1001 skipped",
        "TooManySkipped",
        open_input(&bob, epochs_now.clone(), None, t, &[], &at1001, b""),
    )?;
    let at2001 = alice_at(&mut r, 2001)?;
    b.valid(
        "2000 stored, the most an epoch may hold",
        &[],
        open_input(
            &bob,
            epochs_now.clone(),
            None,
            t,
            core::slice::from_ref(&at1000),
            &at2001,
            b"",
        ),
    )?;
    b.invalid(
        "2001 stored",
        "TooManySkipped",
        open_input(
            &bob,
            epochs_now.clone(),
            None,
            t,
            &[at1000.clone(), at2001.clone()],
            &alice_at(&mut r, 2003)?,
            b"",
        ),
    )?;
    let bad_commitment = forge(&roster, e2, t2, &alice, &alice, false)?;
    b.invalid(
        "Alice signs a message with a wrong commitment",
        "CommitmentMismatch",
        open_input(&bob, epochs_now.clone(), None, t, &[], &bad_commitment, b""),
    )?;
    b.invalid(
        "wrong associated data",
        "AuthenticationFailed",
        open_input(&bob, epochs_now, None, t, &[], &with_ad, b"thread 2"),
    )?;
    b.finish()
}

/// A message in epoch 2 claiming `claimed` as sender, signed by `signer`;
/// with `correct_commitment` false the commitment is flipped before signing.
fn forge(
    members: &[&Fixture],
    secret: [u8; 32],
    transcript: [u8; 32],
    claimed: &Fixture,
    signer: &Fixture,
    correct_commitment: bool,
) -> Result<Vec<u8>, String> {
    let mut addresses = members
        .iter()
        .map(|m| m.address())
        .collect::<Result<Vec<_>, _>>()?;
    addresses.sort();
    let position = addresses
        .iter()
        .position(|a| claimed.address().is_ok_and(|c| c == *a))
        .ok_or("claimed sender is not a member")?;
    let transcript = Transcript::from_bytes(transcript);
    let claimed_identity = IdentitySecretKey::from_seed(&claimed.identity_seed).public_key();
    let id = GroupId::new(b"book club").map_err(e)?;
    let mut header = GroupHeader {
        content_type: ContentType::Text,
        group_id: id,
        epoch: 2,
        epoch_tag: transcript.epoch_tag(),
        sender: claimed.address()?,
        counter: 7,
        salt: [0x33; 16],
        commitment: [0; 32],
    };
    let leaf = tree_leaf(
        &EpochSecret::from_bytes(secret),
        u32::try_from(addresses.len()).map_err(e)?,
        u32::try_from(position).map_err(e)?,
    )
    .ok_or("no leaf")?;
    let mut chain = sender_chain(
        &leaf,
        &transcript,
        &header.sender,
        claimed_identity.as_bytes(),
    );
    for _ in 0..header.counter {
        chain = chain.step().1;
    }
    let keys = chain.step().0.message_keys(&header.salt);
    header.commitment = keys.commitment;
    if !correct_commitment {
        header.commitment[0] ^= 1;
    }
    let head = header.encode();
    let mut out = head.clone();
    out.extend(letterseal::aead::seal(
        &keys.aead_key,
        &keys.nonce,
        &head,
        b"pay Carol",
    ));
    let signature = IdentitySecretKey::from_seed(&signer.identity_seed)
        .sign_labeled(labels::sig::GROUP_MESSAGE, &out);
    out.extend_from_slice(&signature.to_bytes());
    Ok(out)
}
