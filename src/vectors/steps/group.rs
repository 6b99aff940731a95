//! Group steps (SPEC.md §8). Inputs and outputs are documented in
//! `test-vectors/README.md`.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use super::pairwise::{device, peer_bundle};
use super::{device_id, outputs, user_id};
use crate::device::DeviceKeys;
use crate::group::{
    Distribution, EpochSecret, Group, GroupId, Member, Roster, RosterHash, sender_chain,
};
use crate::ids::DeviceAddress;
use crate::keys::{IdentityPublicKey, IdentitySecretKey, SealingKeyId, SealingPublicKey};
use crate::pairwise::{ContentType, Session};
use crate::time::Timestamp;
use crate::vectors::{CaseError, FixedRng, Inputs, StepOutput, hex_string};

fn bad(what: &str) -> CaseError {
    CaseError::BadInput(what.into())
}

fn group_id(input: &Inputs<'_>) -> Result<GroupId, CaseError> {
    GroupId::new(input.bytes("groupId")?).map_err(|_| bad("groupId must be 1..=255 bytes"))
}

/// `members`: `[{userId, deviceId, identityKey, sealingKey, keyId?}]` (keyId defaults to the derived one).
fn members(input: &Inputs<'_>, key: &str) -> Result<Vec<Member>, CaseError> {
    let list = input
        .value(key)?
        .as_array()
        .ok_or_else(|| bad("members must be a list"))?;
    list.iter()
        .map(|m| {
            let m = Inputs(m.as_object().ok_or_else(|| bad("a member is an object"))?);
            let sealing_key = SealingPublicKey::from_bytes(m.array("sealingKey")?);
            let sealing_key_id = match m.optional_bytes("keyId")? {
                Some(id) => {
                    SealingKeyId::from_bytes(id.try_into().map_err(|_| bad("keyId is 16 bytes"))?)
                }
                None => sealing_key.key_id(),
            };
            Ok(Member {
                address: DeviceAddress::new(
                    user_id(m.bytes("userId")?)?,
                    device_id(&m, "deviceId")?,
                ),
                identity_key: IdentityPublicKey::from_bytes(&m.array("identityKey")?)
                    .map_err(|_| bad("identityKey"))?,
                sealing_key,
                sealing_key_id,
            })
        })
        .collect()
}

fn group_error(e: crate::group::GroupError) -> CaseError {
    CaseError::Protocol(e.name())
}

/// §8.1: roster encoding and hash.
pub(super) fn roster_hash(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let id = group_id(&input)?;
    let roster = Roster::new(members(&input, "members")?).map_err(group_error)?;
    let mut w = crate::codec::Writer::new();
    roster.encode(&mut w);
    outputs([
        ("roster", hex_string(w.as_bytes())),
        ("rosterHash", hex_string(roster.hash(&id).as_bytes())),
    ])
}

/// §8.5: a sender's chain key.
pub(super) fn sender_chain_key(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let id = group_id(&input)?;
    let sender = DeviceAddress::new(
        user_id(input.bytes("senderUserId")?)?,
        device_id(&input, "senderDeviceId")?,
    );
    let identity = IdentityPublicKey::from_bytes(&input.array("senderIdentityKey")?)
        .map_err(|_| bad("senderIdentityKey"))?;
    let chain = sender_chain(
        &EpochSecret::from_bytes(input.array("epochSecret")?),
        &id,
        input.u64("epoch")?,
        &RosterHash::from_bytes(input.array("rosterHash")?),
        &sender,
        &identity,
    );
    outputs([("chainKey", hex_string(chain.as_bytes()))])
}

fn optional_u64(input: &Inputs<'_>, key: &str) -> Result<Option<u64>, CaseError> {
    match input.0.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad("expected an integer or null")),
    }
}

/// §8.3: the server's check of a full distribution.
pub(super) fn distribution_verify(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let d = Distribution::decode(&input.bytes("distribution")?).map_err(group_error)?;
    d.verify_for_server(optional_u64(&input, "lastEpoch")?)
        .map_err(group_error)?;
    let core = d.core();
    outputs([
        ("groupId", hex_string(core.group_id.as_bytes())),
        ("epoch", Value::from(core.epoch)),
        ("previousEpoch", Value::from(core.previous_epoch)),
        ("rosterHash", hex_string(core.roster_hash.as_bytes())),
        (
            "distributorUserId",
            hex_string(core.distributor.user.as_bytes()),
        ),
        (
            "distributorDeviceId",
            Value::from(core.distributor.device.get()),
        ),
        ("members", Value::from(core.roster.len())),
    ])
}

/// §8.4: a member processes distributions from one distributor (the `processed`
/// ones first, each must succeed), then `distribution`.
pub(super) fn distribution_process(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let mut member = device(&input, "member")?;
    let distributor = peer_bundle(&input, "distributorBundle")?;
    let mut session = Session::new(&member, &distributor).map_err(|_| bad("session"))?;
    let mut group = Group::new(
        group_id(&input)?,
        member.address().clone(),
        crate::group::GracePolicy::default(),
    );
    let now = Timestamp::from_unix_seconds(input.u64("notBefore")?);
    for (i, earlier) in input.hex_list("processed")?.iter().enumerate() {
        let d = Distribution::decode(earlier)
            .map_err(|e| bad(&alloc::format!("processed[{i}]: {e}")))?;
        group
            .process(&mut member, &d, &mut session, now)
            .map_err(|e| bad(&alloc::format!("processed[{i}] failed: {e}")))?;
    }
    let d = Distribution::decode(&input.bytes("distribution")?).map_err(group_error)?;
    let change = group
        .process(&mut member, &d, &mut session, now)
        .map_err(group_error)?;
    let state = serde_json::to_value(&group).map_err(|e| bad(&alloc::format!("{e}")))?;
    let secret = state
        .get("epochs")
        .and_then(Value::as_array)
        .and_then(|e| e.last())
        .and_then(|e| e.get("secret"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no epoch installed"))?
        .into();
    outputs([
        ("epoch", Value::from(change.epoch)),
        ("epochSecret", Value::String(secret)),
        ("joined", Value::from(change.joined.len())),
        ("left", Value::from(change.left.len())),
        ("rekeyed", Value::from(change.rekeyed.len())),
    ])
}

/// A group state JSON (SPEC.md §8.8) holding the given epochs.
fn state(input: &Inputs<'_>, local: &DeviceAddress) -> Result<Group, CaseError> {
    let id = group_id(input)?;
    let epochs = input
        .value("epochs")?
        .as_array()
        .ok_or_else(|| bad("epochs must be a list"))?;
    let epochs = epochs
        .iter()
        .map(|e| {
            let e = Inputs(e.as_object().ok_or_else(|| bad("an epoch is an object"))?);
            let roster = Roster::new(members(&e, "members")?).map_err(|_| bad("invalid roster"))?;
            let distributor = roster
                .members()
                .first()
                .map(|m| m.address.clone())
                .ok_or_else(|| bad("empty"))?;
            Ok(json!({
                "epoch": e.u64("epoch")?,
                "roster_hash": roster.hash(&id),
                "roster": roster,
                "distributor": distributor,
                "secret": hex_string(&e.array::<32>("epochSecret")?),
                "next_counter": e.0.get("counter").cloned().unwrap_or(Value::from(0)),
                "windows": [],
                "superseded_at": e.0.get("supersededAt").cloned().unwrap_or(Value::Null),
            }))
        })
        .collect::<Result<Vec<_>, CaseError>>()?;
    let state = json!({
        "version": crate::group::GROUP_STATE_VERSION,
        "group_id": id,
        "local": local,
        "grace": { "previous_epochs": 8, "max_age_seconds": input.0.get("maxAge").cloned().unwrap_or(Value::Null) },
        "epochs": epochs,
    });
    serde_json::from_value(state).map_err(|e| bad(&alloc::format!("state: {e}")))
}

/// §8.5: seal with fixed randomness in the (only) epoch of `epochs`.
pub(super) fn seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let address = DeviceAddress::new(
        user_id(input.bytes("senderUserId")?)?,
        device_id(&input, "senderDeviceId")?,
    );
    let sender = DeviceKeys::from_identity(
        address.clone(),
        IdentitySecretKey::from_seed(&input.array("senderIdentitySeed")?),
    );
    let mut group = state(&input, &address)?;
    let content_type = ContentType::from(
        u16::try_from(input.u64("contentType")?).map_err(|_| bad("contentType"))?,
    );
    let mut rng = FixedRng::new(input.bytes("salt")?);
    let message = group
        .seal(
            &mut rng,
            &sender,
            content_type,
            &input.bytes("plaintext")?,
            &input.bytes("associatedData")?,
        )
        .map_err(|e| {
            CaseError::Protocol(match e {
                crate::group::GroupSealError::CounterExhausted => "CounterExhausted",
                crate::group::GroupSealError::NotAMember => "NotAMember",
                crate::group::GroupSealError::NoEpoch => "NoEpoch",
                _ => "WrongDevice",
            })
        })?;
    outputs([("message", hex_string(&message))])
}

/// §8.6: open after the `delivered` messages were opened, at `now`.
pub(super) fn open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let local = DeviceAddress::new(
        user_id(input.bytes("receiverUserId")?)?,
        device_id(&input, "receiverDeviceId")?,
    );
    let mut group = state(&input, &local)?;
    let now = Timestamp::from_unix_seconds(input.u64("now")?);
    let ad = input.bytes("associatedData")?;
    for (i, earlier) in input.hex_list("delivered")?.iter().enumerate() {
        group
            .open(earlier, &ad, now)
            .map_err(|e| bad(&alloc::format!("delivered[{i}] did not open: {e}")))?;
    }
    let opened = group
        .open(&input.bytes("message")?, &ad, now)
        .map_err(|e| CaseError::Protocol(e.name()))?;
    outputs([
        ("senderUserId", hex_string(opened.sender.user.as_bytes())),
        ("senderDeviceId", Value::from(opened.sender.device.get())),
        ("epoch", Value::from(opened.epoch)),
        ("contentType", Value::from(opened.content_type.code())),
        ("plaintext", hex_string(&opened.plaintext)),
        ("counter", Value::from(opened.counter)),
        ("skipped", Value::from(opened.skipped)),
        ("late", Value::from(opened.late)),
    ])
}
