//! Legacy steps (SPEC.md §11, feature `legacy`). Inputs and outputs are
//! documented in `test-vectors/README.md` ("Legacy steps"): ids are JSON
//! strings, key ids and content types JSON integers (`i32`), chunk lists JSON
//! arrays of hex strings, everything else hex.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::outputs;
use crate::keys::{SealingPublicKey, SealingSecretKey};
use crate::legacy::LegacyError;
use crate::legacy::chunks::Chunks;
use crate::legacy::group::{self, GroupKey, WrappedGroupKey};
use crate::legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
use crate::legacy::keys::{LegacyKeyPair, LegacyPublicKey};
use crate::legacy::media::{self, MediaKeyMaterial};
use crate::legacy::payload::Payload;
use crate::legacy::v1;
use crate::legacy::v2::{self, Envelope, V2Nonce};
use crate::vectors::{CaseError, Inputs, StepOutput, hex_string};

fn protocol(e: LegacyError) -> CaseError {
    CaseError::Protocol(e.name())
}

fn bad(what: String) -> CaseError {
    CaseError::BadInput(what)
}

/// An `i32` input (key ids, content types).
fn int(input: &Inputs<'_>, key: &str) -> Result<i32, CaseError> {
    input
        .value(key)?
        .as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| bad(alloc::format!("input {key} must be an i32")))
}

fn key_id(input: &Inputs<'_>, key: &str) -> Result<LegacyKeyId, CaseError> {
    int(input, key).map(LegacyKeyId::new)
}

/// An id input: a JSON string; an invalid id is the protocol error `InvalidId`.
fn line_id(input: &Inputs<'_>, key: &str) -> Result<LineId, CaseError> {
    let text = input
        .value(key)?
        .as_str()
        .ok_or_else(|| bad(alloc::format!("input {key} must be a string")))?;
    LineId::parse(text).map_err(protocol)
}

fn envelope(input: &Inputs<'_>, to: &str) -> Result<Envelope, CaseError> {
    Ok(Envelope {
        to: line_id(input, to)?,
        from: line_id(input, "from")?,
        content_type: LegacyContentType::new(int(input, "contentType")?),
    })
}

fn public_key(input: &Inputs<'_>, key: &str) -> Result<SealingPublicKey, CaseError> {
    input.array(key).map(SealingPublicKey::from_bytes)
}

fn secret_key(input: &Inputs<'_>, key: &str) -> Result<SealingSecretKey, CaseError> {
    Ok(SealingSecretKey::from_bytes(&input.array(key)?))
}

/// `chunks`: a list of hex strings; the count is the step's to check.
fn chunks(input: &Inputs<'_>) -> Result<Chunks, CaseError> {
    input.value("chunks")?;
    Chunks::from_vec(input.hex_list("chunks")?).map_err(protocol)
}

fn chunk_list(chunks: Chunks) -> Value {
    Value::Array(chunks.into_vec().iter().map(|c| hex_string(c)).collect())
}

/// `recipientKeys`: `[{keyId, secret}]`.
fn recipient_keys(input: &Inputs<'_>) -> Result<Vec<LegacyKeyPair>, CaseError> {
    let list = input
        .value("recipientKeys")?
        .as_array()
        .ok_or_else(|| bad("recipientKeys must be a list".into()))?;
    list.iter()
        .map(|entry| {
            let entry = Inputs(
                entry
                    .as_object()
                    .ok_or_else(|| bad("recipientKeys entries are objects".into()))?,
            );
            Ok(LegacyKeyPair::from_bytes(
                key_id(&entry, "keyId")?,
                &entry.array("secret")?,
            ))
        })
        .collect()
}

fn opened(opened: crate::legacy::Opened) -> StepOutput {
    outputs([
        ("plaintext", hex_string(&opened.plaintext)),
        ("senderKeyId", Value::from(opened.sender_key_id.get())),
    ])
}

/// `senderSecret` with `senderKeyId`, and the recipient's public key with its key id.
fn seal_parties(
    input: &Inputs<'_>,
    recipient_public: &str,
    recipient_key_id: &str,
) -> Result<(LegacyKeyPair, LegacyPublicKey), CaseError> {
    let sender =
        LegacyKeyPair::from_bytes(key_id(input, "senderKeyId")?, &input.array("senderSecret")?);
    let recipient = LegacyPublicKey {
        key_id: key_id(input, recipient_key_id)?,
        key: public_key(input, recipient_public)?,
    };
    Ok((sender, recipient))
}

fn nonce(input: &Inputs<'_>) -> Result<V2Nonce, CaseError> {
    V2Nonce::from_slice(&input.bytes("nonce")?)
        .map_err(|_| bad("nonce must be 12 or 16 bytes".into()))
}

/// §11.2: v1 seal with a fixed salt.
pub(super) fn v1_seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let (sender, recipient) = seal_parties(&input, "recipientPublic", "recipientKeyId")?;
    let chunks = v1::seal_v1_with_salt(
        &input.array("salt")?,
        &sender,
        &recipient,
        &input.bytes("plaintext")?,
    )
    .map_err(protocol)?;
    outputs([("chunks", chunk_list(chunks))])
}

/// §11.2: v1 open with the recipient's keys.
pub(super) fn v1_open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let keys = recipient_keys(&input)?;
    let sender = public_key(&input, "senderPublic")?;
    let chunks = chunks(&input)?;
    opened(v1::open_v1(&keys, &sender, &chunks).map_err(protocol)?)
}

/// §11.3: v2 seal with a fixed salt and nonce.
pub(super) fn v2_seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let (sender, recipient) = seal_parties(&input, "recipientPublic", "recipientKeyId")?;
    let envelope = envelope(&input, "to")?;
    let chunks = v2::seal_v2_with(
        &input.array("salt")?,
        &nonce(&input)?,
        &sender,
        &recipient,
        &envelope,
        &input.bytes("plaintext")?,
    )
    .map_err(protocol)?;
    outputs([("chunks", chunk_list(chunks))])
}

/// §11.3: v2 open with the recipient's keys; ids first, then the chunks.
pub(super) fn v2_open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let envelope = envelope(&input, "to")?;
    let keys = recipient_keys(&input)?;
    let sender = public_key(&input, "senderPublic")?;
    let chunks = chunks(&input)?;
    opened(v2::open_v2(&keys, &sender, &envelope, &chunks).map_err(protocol)?)
}

/// §11.4: group key from 32 random bytes (clamped) and its public key.
pub(super) fn group_key(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let key = GroupKey::from_random(&input.array("random")?);
    outputs([
        ("groupKey", hex_string(key.to_bytes().as_slice())),
        ("groupPublic", hex_string(key.public_key().as_bytes())),
    ])
}

/// §11.4: wrap a group key for a member.
pub(super) fn group_wrap(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let wrap = group::wrap_group_key(
        &secret_key(&input, "creatorSecret")?,
        &public_key(&input, "memberPublic")?,
        &GroupKey::from_bytes(&input.array("groupKey")?),
    )
    .map_err(protocol)?;
    outputs([("wrap", hex_string(wrap.as_bytes()))])
}

/// §11.4: unwrap a group key.
pub(super) fn group_unwrap(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let member = secret_key(&input, "memberSecret")?;
    let creator = public_key(&input, "creatorPublic")?;
    let wrap = WrappedGroupKey::from_slice(&input.bytes("wrap")?).map_err(protocol)?;
    let key = group::unwrap_group_key(&member, &creator, &wrap).map_err(protocol)?;
    outputs([("groupKey", hex_string(key.to_bytes().as_slice()))])
}

/// §11.4: group message seal with a fixed salt and nonce.
pub(super) fn group_seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let (sender, group) = seal_parties(&input, "groupPublic", "groupKeyId")?;
    let envelope = envelope(&input, "groupId")?;
    let chunks = group::seal_group_with(
        &input.array("salt")?,
        &nonce(&input)?,
        &sender,
        &group,
        &envelope,
        &input.bytes("plaintext")?,
    )
    .map_err(protocol)?;
    outputs([("chunks", chunk_list(chunks))])
}

/// §11.4: group message open with the group key; ids first, then the chunks.
pub(super) fn group_open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let envelope = envelope(&input, "groupId")?;
    let key = GroupKey::from_bytes(&input.array("groupKey")?);
    let group_key_id = key_id(&input, "groupKeyId")?;
    let sender = public_key(&input, "senderPublic")?;
    let chunks = chunks(&input)?;
    opened(group::open_group(&key, group_key_id, &sender, &envelope, &chunks).map_err(protocol)?)
}

fn key_material(input: &Inputs<'_>) -> Result<MediaKeyMaterial, CaseError> {
    input.array("keyMaterial").map(MediaKeyMaterial::from_bytes)
}

/// §11.5: media keys and blob.
pub(super) fn media_seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let km = key_material(&input)?;
    let keys = km.derive_keys();
    let blob = media::seal_media(&km, &input.bytes("plaintext")?).map_err(protocol)?;
    outputs([
        ("encKey", hex_string(keys.enc_key())),
        ("macKey", hex_string(keys.mac_key())),
        ("nonce", hex_string(keys.nonce())),
        ("blob", hex_string(&blob)),
    ])
}

/// §11.5: media open.
pub(super) fn media_open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let km = key_material(&input)?;
    let plaintext = media::open_media(&km, &input.bytes("blob")?).map_err(protocol)?;
    outputs([("plaintext", hex_string(&plaintext))])
}

/// §11.6: parse a payload of content type 0, 15 or 1/2/3/14.
pub(super) fn payload(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let content_type = LegacyContentType::new(int(&input, "contentType")?);
    if !(content_type == LegacyContentType::TEXT
        || content_type == LegacyContentType::LOCATION
        || content_type.is_media())
    {
        return Err(bad(alloc::format!(
            "content type {} has no payload in SPEC §11.6",
            content_type.get()
        )));
    }
    match Payload::parse(content_type, &input.bytes("json")?).map_err(protocol)? {
        Payload::Text(text) => outputs([("text", Value::String(text))]),
        Payload::Location(location) => outputs([
            ("latitude", Value::from(location.latitude())),
            ("longitude", Value::from(location.longitude())),
        ]),
        Payload::Media(km) => outputs([("keyMaterial", hex_string(km.as_bytes()))]),
    }
}
