//! Generators of the group vector files (SPEC.md §8).
//!
//! Generation runs on fixed inputs made here, never on outside data, so fixed
//! indexes into values this module just built are allowed.
#![allow(clippy::indexing_slicing)]

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rand_chacha::ChaCha20Rng;
use serde_json::{Map, Value, json};

use super::pairwise::{Fixture, run};
use super::{Builder, T0, h, random, rng, small_order_points};
use crate::codec::Writer;
use crate::group::{
    Distribution, DistributionCore, EpochSecret, GracePolicy, Group, GroupHeader, GroupId, Roster,
    sender_chain, wrap_associated_data, wrap_digest,
};
use crate::keys::{IdentitySecretKey, SealingSecretKey};
use crate::labels;
use crate::pairwise::{ContentType, Session};
use crate::time::Timestamp;
use crate::vectors::VectorFile;

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
        "Roster encoding and hash: inputs groupId, members ([{userId, deviceId, identityKey, sealingKey, keyId?}], \
         any order; keyId defaults to the derived one); outputs roster (the canonical encoding, members \
         sorted by address) and rosterHash, or InvalidRoster.",
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
        "two devices of one user (device ids order them)",
        &[],
        json!({ "groupId": h([0u8, 1, 2, 3]), "members": members_json(&[&a2, &a, &bob]) }),
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
        "8.5",
        "A member's sender chain: inputs epochSecret, groupId, epoch, rosterHash, senderUserId, senderDeviceId, \
         senderIdentityKey; output chainKey.",
        &[],
    );
    let mut r = rng("group-sender-chain");
    for (i, (user, device)) in [(&b"alice"[..], 1u32), (b"bob", 1), (b"bob", 2)]
        .into_iter()
        .enumerate()
    {
        let identity = IdentitySecretKey::from_seed(&random(&mut r)).public_key();
        b.valid(
            &alloc::format!("sender {i}"),
            &[],
            json!({
                "epochSecret": h(random::<32>(&mut r)), "groupId": h(b"group"), "epoch": (i as u64) * 5 + 1,
                "rosterHash": h(random::<32>(&mut r)), "senderUserId": h(user), "senderDeviceId": device,
                "senderIdentityKey": h(identity.as_bytes()),
            }),
        )?;
    }
    b.finish()
}

/// Alice, Bob, Carol and an outsider Dave, and a group state for Alice.
struct Scene {
    r: ChaCha20Rng,
    id: GroupId,
    alice: Fixture,
    bob: Fixture,
    carol: Fixture,
    dave: Fixture,
}

impl Scene {
    fn new(file: &str) -> Result<Self, String> {
        let mut r = rng(file);
        let alice = Fixture::new(&mut r, b"alice", 1);
        let bob = Fixture::new(&mut r, b"bob", 1);
        let carol = Fixture::new(&mut r, b"carol", 1);
        let dave = Fixture::new(&mut r, b"dave", 1);
        let id = GroupId::new(b"book club").map_err(|e| e.to_string())?;
        Ok(Self {
            r,
            id,
            alice,
            bob,
            carol,
            dave,
        })
    }

    /// Alice distributes epochs 1 ({A, B, C}) and 2 ({A, B}) with one set of sessions.
    fn two_epochs(&mut self) -> Result<(Distribution, Distribution), String> {
        let keys = self.alice.keys()?;
        let mut group = Group::new(
            self.id.clone(),
            self.alice.address()?,
            GracePolicy::default(),
        );
        let mut sessions = BTreeMap::new();
        let all = [
            self.alice.verified_bundle()?,
            self.bob.verified_bundle()?,
            self.carol.verified_bundle()?,
        ];
        let now = Timestamp::from_unix_seconds(T0 + 10);
        let (first, _) = group
            .distribute(&mut self.r, &keys, &all, &mut sessions, now)
            .map_err(|e| e.to_string())?;
        let (second, _) = group
            .distribute(&mut self.r, &keys, &all[..2], &mut sessions, now)
            .map_err(|e| e.to_string())?;
        Ok((first, second))
    }
}

/// `lp32(core) ‖ signature ‖ u32(k) ‖ k × lp32(wrap)` from parts.
fn encode_parts(core: &[u8], signature: [u8; 64], wraps: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Writer::new();
    let _ = w.bytes_u32(core);
    w.raw(&signature);
    w.u32(wraps.len() as u32);
    for wrap in wraps {
        let _ = w.bytes_u32(wrap);
    }
    w.into_bytes()
}

pub(super) fn distribution_verify() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "group-distribution-verify",
        "8.2, 8.3",
        "The server's check of a full distribution: inputs distribution, lastEpoch (the last epoch stored for \
         the group, or null); outputs groupId, epoch, previousEpoch, rosterHash, distributorUserId, \
         distributorDeviceId, members (count), or the failed check.",
        &[
            ("Malformed", "Not a well-formed distribution"),
            ("UnsupportedVersion", "Core version other than 1"),
            (
                "RosterHashMismatch",
                "The roster does not hash to the signed roster hash (tampered roster)",
            ),
            (
                "DistributorNotMember",
                "Signed by a device that is not in the roster",
            ),
            ("InvalidEpoch", "epoch <= previous epoch"),
            (
                "BadSignature",
                "The distributor's signature does not verify",
            ),
            (
                "WrapListMismatch",
                "The wraps do not name exactly the other members",
            ),
            ("WrapMismatch", "A wrap does not match its signed digest"),
            ("StaleEpoch", "The epoch is not newer than lastEpoch"),
        ],
    );
    let mut s = Scene::new("group-distribution-verify")?;
    let (first, second) = s.two_epochs()?;
    let alice = IdentitySecretKey::from_seed(&s.alice.identity_seed);
    let dave = IdentitySecretKey::from_seed(&s.dave.identity_seed);
    b.valid(
        "epoch 1 of {Alice, Bob, Carol}",
        &[],
        json!({ "distribution": h(first.encode()), "lastEpoch": null }),
    )?;
    b.valid(
        "epoch 2 of {Alice, Bob} after epoch 1",
        &[],
        json!({ "distribution": h(second.encode()), "lastEpoch": 1 }),
    )?;

    let full = first.encode();
    b.invalid(
        "truncated",
        "Malformed",
        json!({ "distribution": h(&full[..full.len() - 1]), "lastEpoch": null }),
    )?;
    let mut v2 = full.clone();
    v2[4] = 2; // first byte of the core
    b.invalid(
        "core version 2",
        "UnsupportedVersion",
        json!({ "distribution": h(v2), "lastEpoch": null }),
    )?;

    let mut core = first.core().clone();
    let mut members = core.roster.members().to_vec();
    members[2].identity_key = dave.public_key();
    core.roster = Roster::new(members).map_err(|e| e.to_string())?;
    let tampered = encode_parts(&core.encode(), first.signature().to_bytes(), first.wraps());
    b.invalid(
        "Carol's identity key replaced in the roster",
        "RosterHashMismatch",
        json!({ "distribution": h(tampered), "lastEpoch": null }),
    )?;

    let mut core = first.core().clone();
    core.distributor = s.dave.address()?;
    let by_dave = Distribution::sign(core, first.wraps().to_vec(), &dave).encode();
    b.invalid(
        "signed by Dave, not a member",
        "DistributorNotMember",
        json!({ "distribution": h(by_dave), "lastEpoch": null }),
    )?;

    let mut core = first.core().clone();
    core.previous_epoch = core.epoch;
    let same = Distribution::sign(core, first.wraps().to_vec(), &alice).encode();
    b.invalid(
        "epoch equal to the previous epoch",
        "InvalidEpoch",
        json!({ "distribution": h(same), "lastEpoch": null }),
    )?;

    let mut bad_sig = full.clone();
    let sig_at = 4 + first.core().encode().len();
    bad_sig[sig_at] ^= 1;
    b.invalid(
        "signature modified",
        "BadSignature",
        json!({ "distribution": h(bad_sig), "lastEpoch": null }),
    )?;
    let mut core = first.core().clone();
    core.previous_epoch = 0;
    core.epoch = 5;
    let re_epoched = encode_parts(&core.encode(), first.signature().to_bytes(), first.wraps());
    b.invalid(
        "epoch changed after signing",
        "BadSignature",
        json!({ "distribution": h(re_epoched), "lastEpoch": null }),
    )?;

    let mut core = first.core().clone();
    core.wrap_digests.pop();
    let short = Distribution::sign(core, first.wraps()[..1].to_vec(), &alice).encode();
    b.invalid(
        "no wrap for Carol",
        "WrapListMismatch",
        json!({ "distribution": h(short), "lastEpoch": null }),
    )?;
    let one_wrap = encode_parts(
        &first.core().encode(),
        first.signature().to_bytes(),
        &first.wraps()[..1],
    );
    b.invalid(
        "a wrap missing from the list",
        "WrapListMismatch",
        json!({ "distribution": h(one_wrap), "lastEpoch": null }),
    )?;
    let swapped = encode_parts(
        &first.core().encode(),
        first.signature().to_bytes(),
        &[first.wraps()[1].clone(), first.wraps()[0].clone()],
    );
    b.invalid(
        "Bob's and Carol's wraps swapped",
        "WrapMismatch",
        json!({ "distribution": h(swapped), "lastEpoch": null }),
    )?;
    b.invalid(
        "replayed epoch 1 after epoch 2",
        "StaleEpoch",
        json!({ "distribution": h(&full), "lastEpoch": 2 }),
    )?;
    b.invalid(
        "epoch equal to the stored one",
        "StaleEpoch",
        json!({ "distribution": h(&full), "lastEpoch": 1 }),
    )?;
    b.finish()
}

fn process_input(
    member: &Fixture,
    group: &[u8],
    distributor: &Fixture,
    processed: &[Vec<u8>],
    d: &[u8],
) -> Result<Value, String> {
    let mut input = Map::new();
    member.inputs("member", &mut input);
    input.insert("groupId".into(), h(group));
    input.insert("distributorBundle".into(), h(distributor.bundle()?));
    input.insert("notBefore".into(), Value::from(T0 + 10));
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
        "8.4",
        "A member processes a distribution (a fan-out view or the full one) over a fresh pairwise session \
         with the distributor, after the `processed` ones (each must succeed): inputs member device \
         (memberIdentitySeed, memberUserId, memberDeviceId, memberSealingSecrets), groupId, \
         distributorBundle, notBefore, processed, distribution; outputs epoch, epochSecret, joined, left, \
         rekeyed (counts), or the failed check.",
        &[
            ("WrongGroup", "The member's group id differs"),
            (
                "BadSignature",
                "The distributor's signature does not verify",
            ),
            (
                "DistributorMismatch",
                "The session is with someone other than the distributor",
            ),
            ("NotAMember", "The member is not in the roster"),
            (
                "StaleEpoch",
                "The epoch is not newer than the member's current one",
            ),
            ("MissingWrap", "No wrap for the member was delivered"),
            (
                "WrapMismatch",
                "The wrap does not match the digest signed for the member (moved wrap)",
            ),
            (
                "WrapRejected",
                "The wrap does not open over the pairwise session",
            ),
            (
                "InvalidWrap",
                "The wrap opens but carries no 32-byte group key",
            ),
        ],
    );
    let mut s = Scene::new("group-distribution-process")?;
    let (first, second) = s.two_epochs()?;
    let bob_addr = s.bob.address()?;
    let carol_addr = s.carol.address()?;
    let view = |d: &Distribution, who| {
        d.for_member(who)
            .map(|v| v.encode())
            .ok_or("no view".to_string())
    };
    let v1 = view(&first, &bob_addr)?;
    let v2 = view(&second, &bob_addr)?;
    b.valid(
        "Bob processes epoch 1",
        &[],
        process_input(&s.bob, b"book club", &s.alice, &[], &v1)?,
    )?;
    b.valid(
        "Bob processes epoch 2 (Carol removed)",
        &[],
        process_input(
            &s.bob,
            b"book club",
            &s.alice,
            core::slice::from_ref(&v1),
            &v2,
        )?,
    )?;
    b.valid(
        "Carol processes the full epoch-1 distribution",
        &[],
        process_input(&s.carol, b"book club", &s.alice, &[], &first.encode())?,
    )?;

    b.invalid(
        "another group",
        "WrongGroup",
        process_input(&s.bob, b"chess club", &s.alice, &[], &v1)?,
    )?;
    let mut bad_sig = v1.clone();
    bad_sig[4 + first.core().encode().len()] ^= 1;
    b.invalid(
        "signature modified",
        "BadSignature",
        process_input(&s.bob, b"book club", &s.alice, &[], &bad_sig)?,
    )?;
    b.invalid(
        "session with Carol, not Alice",
        "DistributorMismatch",
        process_input(&s.bob, b"book club", &s.carol, &[], &v1)?,
    )?;
    b.invalid(
        "Dave is not in the roster",
        "NotAMember",
        process_input(&s.dave, b"book club", &s.alice, &[], &first.encode())?,
    )?;
    b.invalid(
        "Carol after her removal",
        "NotAMember",
        process_input(
            &s.carol,
            b"book club",
            &s.alice,
            &[view(&first, &carol_addr)?],
            &second.encode(),
        )?,
    )?;
    b.invalid(
        "epoch 1 again",
        "StaleEpoch",
        process_input(
            &s.bob,
            b"book club",
            &s.alice,
            core::slice::from_ref(&v1),
            &v1,
        )?,
    )?;
    let no_wrap = encode_parts(&first.core().encode(), first.signature().to_bytes(), &[]);
    b.invalid(
        "no wrap delivered",
        "MissingWrap",
        process_input(&s.bob, b"book club", &s.alice, &[], &no_wrap)?,
    )?;
    let carols = view(&first, &carol_addr)?;
    b.invalid(
        "Carol's wrap delivered to Bob",
        "WrapMismatch",
        process_input(&s.bob, b"book club", &s.alice, &[], &carols)?,
    )?;

    // A distributor that signs a digest of a wrap that does not open, or of a
    // wrap carrying no group key (only Alice can do this: she signs).
    let alice_keys = s.alice.keys()?;
    let alice_id = IdentitySecretKey::from_seed(&s.alice.identity_seed);
    let bob_bundle = s.bob.verified_bundle()?;
    let signed_with_wrap = |wrap: Vec<u8>| -> Distribution {
        let mut core: DistributionCore = first.core().clone();
        core.epoch = 3;
        core.previous_epoch = 2;
        if let Some(entry) = core.wrap_digests.iter_mut().find(|(a, _)| *a == bob_addr) {
            entry.1 = wrap_digest(&wrap);
        }
        Distribution::sign(core, alloc::vec![wrap], &alice_id)
    };
    let garbage = alloc::vec![0x5au8; 140];
    b.invalid(
        "the signed wrap is garbage",
        "WrapRejected",
        process_input(
            &s.bob,
            b"book club",
            &s.alice,
            &[],
            &signed_with_wrap(garbage).encode(),
        )?,
    )?;
    let mut session = Session::new(&alice_keys, &bob_bundle).map_err(|e| e.to_string())?;
    let core3 = {
        let mut c = first.core().clone();
        c.epoch = 3;
        c.previous_epoch = 2;
        c
    };
    let ad = wrap_associated_data(&s.id, 3, &core3.roster_hash);
    let short_key = session
        .seal(
            &alice_keys,
            &mut s.r,
            Timestamp::from_unix_seconds(T0 + 10),
            ContentType::GroupKey,
            &[7u8; 31],
            &ad,
        )
        .map_err(|e| e.to_string())?;
    b.invalid(
        "the wrap carries 31 bytes",
        "InvalidWrap",
        process_input(
            &s.bob,
            b"book club",
            &s.alice,
            &[],
            &signed_with_wrap(short_key).encode(),
        )?,
    )?;
    b.finish()
}

/// A `group-seal` input for `sender` in an epoch of `roster`.
#[allow(clippy::too_many_arguments)] // one argument per input field of the step
fn seal_input(
    sender: &Fixture,
    roster: &[&Fixture],
    epoch: u64,
    secret: [u8; 32],
    counter: u64,
    salt: [u8; 16],
    ct: u16,
    pt: &[u8],
    ad: &[u8],
) -> Value {
    json!({
        "groupId": h(b"book club"),
        "epochs": [{ "epoch": epoch, "epochSecret": h(secret), "members": members_json(roster), "counter": counter }],
        "senderIdentitySeed": h(sender.identity_seed),
        "senderUserId": h(sender.user),
        "senderDeviceId": sender.device,
        "salt": h(salt),
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
    .map_err(|e| e.to_string())
}

pub(super) fn seal() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "group-seal",
        "8.5",
        "Seal a group message with fixed randomness: inputs groupId, epochs (one: epoch, epochSecret, members, \
         counter = the sender's next counter), senderIdentitySeed, senderUserId, senderDeviceId, salt, \
         contentType, plaintext, associatedData; output message, or CounterExhausted / NotAMember.",
        &[
            ("CounterExhausted", "The counter is 2^64 - 1"),
            ("NotAMember", "The sender is not in the roster"),
        ],
    );
    let mut s = Scene::new("group-seal")?;
    let roster = [&s.alice, &s.bob, &s.carol];
    let secret: [u8; 32] = random(&mut s.r);
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
            0,
            random(&mut s.r),
            0,
            b"",
            b"",
        ),
    )?;
    b.finish()
}

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
        "8.6",
        "Open a group message at `now` after the delivered ones: inputs groupId, receiverUserId, \
         receiverDeviceId, epochs ([{epoch, epochSecret, members, supersededAt?}], oldest first), maxAge \
         (grace in seconds, or null), now, delivered, message, associatedData; outputs senderUserId, \
         senderDeviceId, epoch, contentType, plaintext, counter, skipped, late, or the failed check.",
        &[
            ("Gap", "Counters were skipped"),
            ("OutOfOrder", "The message arrives after a later one"),
            ("Grace", "An epoch superseded within its grace period"),
            ("Malformed", "Not a well-formed group message"),
            ("UnsupportedVersion", "Version byte other than 1"),
            ("WrongGroup", "Another group's message"),
            ("UnknownEpoch", "No secret for the epoch"),
            ("EpochExpired", "The epoch's grace period is over"),
            ("UnknownSender", "The sender is not in the epoch's roster"),
            ("OwnMessage", "Sent by the receiver itself"),
            (
                "BadSignature",
                "The sender's signature does not verify (forged by another member)",
            ),
            ("Replay", "The counter was already accepted"),
            (
                "TooOld",
                "The counter is 1024 or more below the sender's highest",
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
        id,
        alice,
        bob,
        carol,
        dave,
    } = Scene::new("group-open")?;
    let roster = [&alice, &bob, &carol];
    let (e1, e2): ([u8; 32], [u8; 32]) = (random(&mut r), random(&mut r));
    let seal = |r: &mut ChaCha20Rng,
                from: &Fixture,
                epoch: u64,
                secret: [u8; 32],
                counter: u64,
                pt: &[u8],
                ad: &[u8],
                group: &[u8]|
     -> Result<Vec<u8>, String> {
        let mut input = seal_input(from, &roster, epoch, secret, counter, random(r), 0, pt, ad);
        input["groupId"] = h(group);
        message_of(&run("group-seal", &input)?)
    };
    let m: Vec<Vec<u8>> = (0..4u64)
        .map(|i| {
            seal(
                &mut r,
                &alice,
                2,
                e2,
                i,
                alloc::format!("m{i}").as_bytes(),
                b"",
                b"book club",
            )
        })
        .collect::<Result<_, _>>()?;
    let with_ad = seal(
        &mut r,
        &carol,
        2,
        e2,
        0,
        b"with ad",
        b"thread",
        b"book club",
    )?;
    let old = seal(&mut r, &carol, 1, e1, 0, b"from epoch 1", b"", b"book club")?;
    let epochs_now =
        json!([{ "epoch": 2, "epochSecret": h(e2), "members": members_json(&roster) }]);
    let epochs_grace = json!([
        { "epoch": 1, "epochSecret": h(e1), "members": members_json(&roster), "supersededAt": T0 },
        { "epoch": 2, "epochSecret": h(e2), "members": members_json(&roster) },
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
    let mut v2 = m[0].clone();
    v2[0] = 2;
    b.invalid(
        "version 2",
        "UnsupportedVersion",
        open_input(&bob, epochs_now.clone(), None, t, &[], &v2, b""),
    )?;
    let other_group = seal(&mut r, &alice, 2, e2, 0, b"elsewhere", b"", b"chess club")?;
    b.invalid(
        "another group",
        "WrongGroup",
        open_input(&bob, epochs_now.clone(), None, t, &[], &other_group, b""),
    )?;
    let future = seal(&mut r, &alice, 9, e2, 0, b"epoch 9", b"", b"book club")?;
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
    let from_dave = {
        let input = seal_input(
            &dave,
            &[&alice, &bob, &carol, &dave],
            2,
            e2,
            0,
            random(&mut r),
            0,
            b"I am Dave",
            b"",
        );
        message_of(&run("group-seal", &input)?)?
    };
    b.invalid(
        "Dave is not in the receiver's roster",
        "UnknownSender",
        open_input(&bob, epochs_now.clone(), None, t, &[], &from_dave, b""),
    )?;
    let own = seal(&mut r, &bob, 2, e2, 0, b"mine", b"", b"book club")?;
    b.invalid(
        "Bob's own message",
        "OwnMessage",
        open_input(&bob, epochs_now.clone(), None, t, &[], &own, b""),
    )?;
    // Carol forges "from Alice": Alice's chain, Carol's signature.
    let forged = forge(&id, &roster, e2, &alice, &carol, true)?;
    b.invalid(
        "Carol forges a message from Alice",
        "BadSignature",
        open_input(&bob, epochs_now.clone(), None, t, &[], &forged, b""),
    )?;
    b.invalid(
        "replay",
        "Replay",
        open_input(&bob, epochs_now.clone(), None, t, &m[..1], &m[0], b""),
    )?;
    let far = seal(&mut r, &alice, 2, e2, 1024, b"far ahead", b"", b"book club")?;
    b.invalid(
        "counter 0 after 1024",
        "TooOld",
        open_input(&bob, epochs_now.clone(), None, t, &[far], &m[0], b""),
    )?;
    let bad_commitment = forge(&id, &roster, e2, &alice, &alice, false)?;
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
    id: &GroupId,
    members: &[&Fixture],
    secret: [u8; 32],
    claimed: &Fixture,
    signer: &Fixture,
    correct_commitment: bool,
) -> Result<Vec<u8>, String> {
    let roster = Roster::new(
        members
            .iter()
            .map(|f| {
                let m: Result<crate::group::Member, String> = (|| {
                    let identity = IdentitySecretKey::from_seed(&f.identity_seed).public_key();
                    let sealing = SealingSecretKey::from_bytes(&f.sealing[0]).public_key();
                    Ok(crate::group::Member {
                        address: f.address()?,
                        identity_key: identity,
                        sealing_key_id: sealing.key_id(),
                        sealing_key: sealing,
                    })
                })();
                m
            })
            .collect::<Result<Vec<_>, _>>()?,
    )
    .map_err(|e| e.to_string())?;
    let claimed_identity = IdentitySecretKey::from_seed(&claimed.identity_seed).public_key();
    let mut header = GroupHeader {
        content_type: ContentType::Text,
        group_id: id.clone(),
        epoch: 2,
        sender: claimed.address()?,
        counter: 7,
        salt: [0x33; 16],
        commitment: [0; 32],
    };
    let chain = sender_chain(
        &EpochSecret::from_bytes(secret),
        id,
        2,
        &roster.hash(id),
        &header.sender,
        &claimed_identity,
    );
    let keys = chain.message_keys(&header.salt, &header.bound_fields());
    header.commitment = keys.commitment;
    if !correct_commitment {
        header.commitment[0] ^= 1;
    }
    let head = header.encode();
    let mut out = head.clone();
    out.extend(crate::aead::seal(
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
