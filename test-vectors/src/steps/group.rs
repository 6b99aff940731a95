//! Group steps (SPEC.md §8). Inputs and outputs are documented in
//! `test-vectors/README.md`.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use super::pairwise::{device, peer_bundle};
use super::{device_id, outputs, user_id};
use crate::{CaseError, FixedRng, Inputs, StepOutput, hex_string};
use letterseal::device::DeviceKeys;
use letterseal::group::RawEpoch;
use letterseal::group::{
    Distribution, EpochSecret, GracePolicy, Group, GroupError, GroupId, Member, Processed, Roster,
    RosterHash, RosterPolicy, ServerRecord, Transcript, sender_chain, tree_leaf, wrap_context,
};
use letterseal::ids::DeviceAddress;
use letterseal::keys::{IdentityPublicKey, IdentitySecretKey, SealingKeyId, SealingPublicKey};
use letterseal::message::keys::ChainKey;
use letterseal::pairwise::{ContentType, Session};
use letterseal::time::Timestamp;

fn bad(what: &str) -> CaseError {
    CaseError::BadInput(what.into())
}

fn group_id(input: &Inputs<'_>) -> Result<GroupId, CaseError> {
    GroupId::new(input.bytes("groupId")?).map_err(|_| bad("groupId must be 1..=255 bytes"))
}

fn address(input: &Inputs<'_>, prefix: &str) -> Result<DeviceAddress, CaseError> {
    Ok(DeviceAddress::new(
        user_id(input.bytes(&alloc::format!("{prefix}UserId"))?)?,
        device_id(input, &alloc::format!("{prefix}DeviceId"))?,
    ))
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

fn group_error(e: GroupError) -> CaseError {
    CaseError::Protocol(e.name())
}

/// §8.1: roster encoding and hash.
pub(super) fn roster_hash(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let id = group_id(&input)?;
    let roster = Roster::new(members(&input, "members")?).map_err(group_error)?;
    outputs([
        ("roster", hex_string(roster.as_bytes())),
        ("rosterHash", hex_string(roster.hash(&id).as_bytes())),
    ])
}

/// §8.8: a sender's leaf in the secret tree, its chain, and a step of it.
pub(super) fn sender_chain_key(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let sender = address(&input, "sender")?;
    let size = u32::try_from(input.u64("rosterSize")?).map_err(|_| bad("rosterSize"))?;
    let position = u32::try_from(input.u64("position")?).map_err(|_| bad("position"))?;
    let steps = input.u64("steps")?;
    if steps > 100_000 {
        return Err(bad("steps: at most 100000"));
    }
    let leaf = tree_leaf(
        &EpochSecret::from_bytes(input.array("epochSecret")?),
        size,
        position,
    )
    .ok_or_else(|| bad("position must be below rosterSize"))?;
    let first = sender_chain(
        &leaf,
        &Transcript::from_bytes(input.array("transcript")?),
        &sender,
        &input.array("senderIdentityKey")?,
    );
    let mut chain = first.clone();
    for _ in 0..steps {
        chain = chain.step().1;
    }
    let (secret, next) = chain.step();
    outputs([
        ("leafSecret", hex_string(leaf.as_bytes())),
        ("chainKey", hex_string(first.as_bytes())),
        ("messageSecret", hex_string(secret.as_bytes())),
        ("nextChainKey", hex_string(next.as_bytes())),
    ])
}

/// §8.4: the distributor wraps an epoch secret for a member: the first
/// message of a new pairwise session, on the control chain.
pub(super) fn key_wrap(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let distributor = device(&input, "distributor")?;
    let member = peer_bundle(&input, "memberBundle")?;
    let mut session = Session::new(&distributor, &member).map_err(|_| bad("session"))?;
    let context = wrap_context(
        &group_id(&input)?,
        input.u64("epoch")?,
        &Transcript::from_bytes(input.array("previousTranscript")?),
        &RosterHash::from_bytes(input.array("rosterHash")?),
        distributor.address(),
    );
    let mut rng = FixedRng::new(input.bytes("random")?);
    let wrap = session
        .seal(
            &distributor,
            &mut rng,
            Timestamp::from_unix_seconds(input.u64("now")?),
            ContentType::GroupKey,
            &input.array::<32>("epochSecret")?,
            &context,
        )
        .map_err(|e| CaseError::Protocol(e.name()))?;
    outputs([
        ("context", hex_string(&context)),
        ("wrap", hex_string(&wrap)),
    ])
}

/// The server's stored record: `null` or `{groupId, epoch, transcript, roster, policy}`.
fn record(input: &Inputs<'_>) -> Result<Option<ServerRecord>, CaseError> {
    match input.value("record")? {
        Value::Null => Ok(None),
        Value::Object(r) => {
            let r = Inputs(r);
            let policy = {
                let bytes = r.bytes("policy")?;
                let mut reader = letterseal::codec::Reader::new(&bytes);
                let p = RosterPolicy::decode(&mut reader).map_err(|_| bad("record policy"))?;
                reader.finish().map_err(|_| bad("record policy"))?;
                p
            };
            Ok(Some(ServerRecord {
                group_id: group_id(&r)?,
                epoch: r.u64("epoch")?,
                transcript: Transcript::from_bytes(r.array("transcript")?),
                roster: Roster::from_bytes(&r.bytes("roster")?)
                    .map_err(|_| bad("record roster"))?,
                policy,
            }))
        }
        _ => Err(bad("record must be null or an object")),
    }
}

/// §8.5, §8.7: the server's check of an upload, and the views it fans out.
pub(super) fn distribution_verify(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let previous = record(&input)?;
    let uploader = address(&input, "uploader")?;
    let d = Distribution::decode(&input.bytes("distribution")?).map_err(group_error)?;
    let verified = d
        .verify_for_server(previous.as_ref(), &uploader)
        .map_err(group_error)?;
    let f = d.core().fields();
    let views: Vec<Value> = verified
        .roster()
        .iter()
        .map(|m| {
            let view = verified
                .view_for(&m.address())
                .map(|v| hex_string(&v.encode()))
                .unwrap_or(Value::Null);
            json!({
                "userId": hex_string(m.user_id()),
                "deviceId": m.device_id().get(),
                "view": view,
            })
        })
        .collect();
    outputs([
        ("groupId", hex_string(f.group_id.as_bytes())),
        ("epoch", Value::from(f.epoch)),
        ("transcript", hex_string(d.core().transcript().as_bytes())),
        ("rosterHash", hex_string(f.roster_hash.as_bytes())),
        (
            "distributorUserId",
            hex_string(f.distributor.user.as_bytes()),
        ),
        (
            "distributorDeviceId",
            Value::from(f.distributor.device.get()),
        ),
        ("members", Value::from(verified.roster().len())),
        ("views", Value::Array(views)),
    ])
}

/// §8.7: a member processes distributions (the `processed` ones first, each
/// must succeed), then `distribution`, with sessions to `distributorBundles`.
pub(super) fn distribution_process(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let mut member = device(&input, "member")?;
    let mut sessions = BTreeMap::new();
    let now = Timestamp::from_unix_seconds(input.u64("notBefore")?);
    for (i, bytes) in input.hex_list("distributorBundles")?.iter().enumerate() {
        let key = alloc::format!("distributorBundles[{i}]");
        let mut one = Map::new();
        one.insert(key.clone(), hex_string(bytes));
        one.insert("notBefore".into(), Value::from(now.unix_seconds()));
        let bundle = peer_bundle(&Inputs(&one), &key)?;
        let session = Session::new(&member, &bundle).map_err(|_| bad("session"))?;
        sessions.insert(bundle.owner().clone(), session);
    }
    let mut group = Group::new(
        group_id(&input)?,
        member.address().clone(),
        GracePolicy::default(),
    );
    for (i, earlier) in input.hex_list("processed")?.iter().enumerate() {
        let d = Distribution::decode(earlier)
            .map_err(|e| bad(&alloc::format!("processed[{i}]: {e}")))?;
        group
            .process(&mut member, &d, &mut sessions, now)
            .map_err(|e| bad(&alloc::format!("processed[{i}] failed: {e}")))?;
    }
    let d = Distribution::decode(&input.bytes("distribution")?).map_err(group_error)?;
    let outcome = group
        .process(&mut member, &d, &mut sessions, now)
        .map_err(group_error)?;
    let change = match outcome {
        Processed::Installed { change, .. } => change,
        Processed::AlreadyProcessed { epoch } => {
            return outputs([
                ("outcome", Value::from("AlreadyProcessed")),
                ("epoch", Value::from(epoch)),
            ]);
        }
        other => return Err(bad(&alloc::format!("unexpected outcome {other:?}"))),
    };
    let secret = group
        .hazmat_current_secret()
        .map(|s| *s.as_bytes())
        .ok_or_else(|| bad("no epoch installed"))?;
    let transcript = group
        .transcript()
        .ok_or_else(|| bad("no epoch installed"))?;
    outputs([
        ("outcome", Value::from("Installed")),
        ("epoch", Value::from(change.epoch)),
        ("epochSecret", hex_string(&secret)),
        ("transcript", hex_string(transcript.as_bytes())),
        ("epochTag", hex_string(transcript.epoch_tag().as_bytes())),
        ("firstEpoch", Value::from(change.first_epoch)),
        ("joined", Value::from(change.joined.len())),
        ("left", Value::from(change.left.len())),
        ("rekeyed", Value::from(change.rekeyed.len())),
    ])
}

/// A group state (SPEC.md §8.11) holding the given epochs, oldest first.
fn state(input: &Inputs<'_>, local: &DeviceAddress, seal: bool) -> Result<Group, CaseError> {
    let id = group_id(input)?;
    let list = input
        .value("epochs")?
        .as_array()
        .ok_or_else(|| bad("epochs must be a list"))?;
    if list.is_empty() || (seal && list.len() != 1) {
        return Err(bad(
            "epochs: one for group-seal, at least one for group-open",
        ));
    }
    let mut epochs = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let e = Inputs(e.as_object().ok_or_else(|| bad("an epoch is an object"))?);
        let roster = Roster::new(members(&e, "members")?).map_err(|_| bad("invalid roster"))?;
        let own_chain = if seal {
            let counter = e.u64("counter")?;
            match e.optional_bytes("senderChainKey")? {
                Some(key) => {
                    let key: [u8; 32] = key
                        .try_into()
                        .map_err(|_| bad("senderChainKey is 32 bytes"))?;
                    Some((ChainKey::from_bytes(key), counter))
                }
                None if counter == 0 => None,
                None => return Err(bad("senderChainKey: required when counter is not 0")),
            }
        } else {
            None
        };
        let last = i + 1 == list.len();
        let superseded_at = match (last, e.0.get("supersededAt")) {
            (true, None) => None,
            (false, Some(v)) => Some(Timestamp::from_unix_seconds(
                v.as_u64().ok_or_else(|| bad("supersededAt"))?,
            )),
            _ => return Err(bad("supersededAt: on every epoch but the last")),
        };
        epochs.push(RawEpoch {
            epoch: e.u64("epoch")?,
            transcript: Transcript::from_bytes(e.array("transcript")?),
            roster,
            secret: EpochSecret::from_bytes(e.array("epochSecret")?),
            own_chain,
            superseded_at,
        });
    }
    let max_age = match input.0.get("maxAge") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| bad("maxAge"))?),
    };
    let grace = GracePolicy {
        previous_epochs: 8,
        max_age_seconds: max_age,
    };
    Group::hazmat_from_epochs(id, local.clone(), grace, epochs).map_err(bad)
}

/// §8.8: seal with fixed randomness in the (only) epoch of `epochs`.
pub(super) fn seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let address = address(&input, "sender")?;
    let sender = DeviceKeys::from_identity(
        address.clone(),
        IdentitySecretKey::from_seed(&input.array("senderIdentitySeed")?),
    );
    let mut group = state(&input, &address, true)?;
    let content_type = ContentType::from(
        u16::try_from(input.u64("contentType")?).map_err(|_| bad("contentType"))?,
    );
    let mut rng = FixedRng::new(input.bytes("random")?);
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
                letterseal::group::GroupSealError::CounterExhausted => "CounterExhausted",
                letterseal::group::GroupSealError::NotAMember => "NotAMember",
                letterseal::group::GroupSealError::NoEpoch => "NoEpoch",
                _ => "WrongDevice",
            })
        })?;
    outputs([("message", hex_string(&message))])
}

/// §8.9: open after the `delivered` messages were opened, at `now`.
pub(super) fn open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let local = address(&input, "receiver")?;
    let mut group = state(&input, &local, false)?;
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
