//! Legacy steps (SPEC.md §11, crate `letterseal-legacy`). Inputs and outputs are
//! documented in `test-vectors/README.md` ("Legacy steps"): ids are JSON
//! strings, key ids and content types JSON integers (`i32`), chunk lists JSON
//! arrays of hex strings, everything else hex.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::outputs;
use crate::{CaseError, Inputs, StepOutput, hex_string};
use letterseal_legacy::LegacyError;
use letterseal_legacy::chunks::Chunks;
use letterseal_legacy::group::{self, GroupKey, WeakKeyPolicy, WrappedGroupKey};
use letterseal_legacy::ids::{
    KeyIdEncoding, LegacyContentType, LegacyKeyId, LineId, detect_key_id_encoding,
};
use letterseal_legacy::keys::{LegacyKeyPair, LegacyPublicKey, RawScalarKeyPair};
use letterseal_legacy::keys::{X25519PublicKey, X25519SecretKey};
use letterseal_legacy::media::{self, MediaKeyMaterial, MediaSealer, MediaVerifier};
use letterseal_legacy::payload::Payload;
use letterseal_legacy::session::{
    GroupMemberSession, LegacyVersion, PeerSession, Received, SealOptions,
};
use letterseal_legacy::v1;
use letterseal_legacy::v2::{self, Envelope, V2Nonce};

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

fn public_key(input: &Inputs<'_>, key: &str) -> Result<X25519PublicKey, CaseError> {
    input.array(key).map(X25519PublicKey::from_bytes)
}

fn secret_key(input: &Inputs<'_>, key: &str) -> Result<X25519SecretKey, CaseError> {
    Ok(X25519SecretKey::from_bytes(&input.array(key)?))
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

fn opened(opened: letterseal_legacy::Opened) -> StepOutput {
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

/// Piece sizes the streaming checks feed: odd, around a block, and the HMAC.
const PIECES: [usize; 4] = [1, 7, 16, 33];

/// §11.5: media keys and blob; the streaming sealer must give the same blob
/// whatever the piece size.
pub(super) fn media_seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let km = key_material(&input)?;
    let keys = km.derive_keys();
    let plaintext = input.bytes("plaintext")?;
    let blob = media::seal_media(&km, &plaintext).map_err(protocol)?;
    for piece in PIECES {
        let mut sealer = MediaSealer::new(&km);
        let mut streamed = plaintext.clone();
        for part in streamed.chunks_mut(piece) {
            sealer.encrypt_in_place(part).map_err(protocol)?;
        }
        streamed.extend_from_slice(&sealer.finish());
        if streamed != blob {
            return Err(bad(alloc::format!(
                "streamed seal ({piece}-byte pieces) differs from the whole-buffer seal"
            )));
        }
    }
    outputs([
        ("encKey", hex_string(keys.enc_key())),
        ("macKey", hex_string(keys.mac_key())),
        ("nonce", hex_string(keys.nonce())),
        ("blob", hex_string(&blob)),
    ])
}

/// Opens `blob` in two streamed passes of `piece`-byte pieces.
fn open_media_streamed(
    km: &MediaKeyMaterial,
    blob: &[u8],
    piece: usize,
) -> Result<Vec<u8>, LegacyError> {
    let mut verifier = MediaVerifier::new(km);
    for part in blob.chunks(piece) {
        verifier.update(part)?;
    }
    let verified = verifier.finish()?;
    let len = usize::try_from(verified.ciphertext_len()).map_err(|_| LegacyError::TooLong)?;
    let mut plaintext = blob.get(..len).ok_or(LegacyError::Truncated)?.to_vec();
    let mut decryptor = verified.checked_decryptor();
    for part in plaintext.chunks_mut(piece) {
        decryptor.decrypt_in_place(part)?;
    }
    decryptor.finish()?;
    Ok(plaintext)
}

/// §11.5: media open; the two-pass streaming opener must give the same
/// result (plaintext or error) whatever the piece size.
pub(super) fn media_open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let km = key_material(&input)?;
    let blob = input.bytes("blob")?;
    let whole = media::open_media(&km, &blob).map(|p| p.to_vec());
    for piece in PIECES {
        if open_media_streamed(&km, &blob, piece) != whole {
            return Err(bad(alloc::format!(
                "streamed open ({piece}-byte pieces) differs from the whole-buffer open"
            )));
        }
    }
    outputs([("plaintext", hex_string(&whole.map_err(protocol)?))])
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
    Ok(payload_fields(
        &Payload::parse(content_type, &input.bytes("json")?).map_err(protocol)?,
    ))
}

/// A payload as the vectors write it: `text`; `latitude`, `longitude` and
/// `address`/`title` when present; `keyMaterial`; or `other` (hex).
fn payload_fields(payload: &Payload) -> Map<String, Value> {
    let mut out = Map::new();
    match payload {
        Payload::Text(text) => {
            out.insert("text".into(), Value::String(text.clone()));
        }
        Payload::Location(location) => {
            out.insert("latitude".into(), Value::from(location.latitude()));
            out.insert("longitude".into(), Value::from(location.longitude()));
            if let Some(address) = location.address() {
                out.insert("address".into(), Value::String(address.into()));
            }
            if let Some(title) = location.title() {
                out.insert("title".into(), Value::String(title.into()));
            }
        }
        Payload::Media(km) => {
            out.insert("keyMaterial".into(), hex_string(km.as_bytes()));
        }
        Payload::Other(bytes) => {
            out.insert("other".into(), hex_string(bytes));
        }
    }
    out
}

/// `bigEndian` or `compact`.
fn encoding(input: &Inputs<'_>, key: &str) -> Result<KeyIdEncoding, CaseError> {
    match input.value(key)?.as_str() {
        Some("bigEndian") => Ok(KeyIdEncoding::BigEndian),
        Some("compact") => Ok(KeyIdEncoding::Compact),
        _ => Err(bad(alloc::format!(
            "input {key} must be \"bigEndian\" or \"compact\""
        ))),
    }
}

/// §11.1: a key-id chunk in an encoding; an accepted chunk must re-encode to itself.
pub(super) fn key_id_chunk(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let chunk = input.bytes("chunk")?;
    let encoding = encoding(&input, "encoding")?;
    let id = LegacyKeyId::decode(&chunk, encoding).map_err(protocol)?;
    if id.encode(encoding).as_bytes() != chunk.as_slice() {
        return Err(bad("an accepted chunk does not re-encode to itself".into()));
    }
    outputs([("keyId", Value::from(id.get()))])
}

/// §11.1: which encoding two key-id chunks use, given the held recipient key ids.
pub(super) fn key_id_detect(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let sender = input.bytes("senderChunk")?;
    let recipient = input.bytes("recipientChunk")?;
    let held = input
        .value("recipientKeyIds")?
        .as_array()
        .ok_or_else(|| bad("recipientKeyIds must be a list".into()))?
        .iter()
        .map(|v| {
            v.as_i64()
                .and_then(|v| i32::try_from(v).ok())
                .map(LegacyKeyId::new)
                .ok_or_else(|| bad("recipientKeyIds holds i32s".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let encoding =
        detect_key_id_encoding(&sender, &recipient, |id| held.contains(&id)).map_err(protocol)?;
    let read = |chunk: &[u8]| {
        LegacyKeyId::decode(chunk, encoding)
            .map(|id| Value::from(id.get()))
            .map_err(protocol)
    };
    outputs([
        ("encoding", Value::String(encoding.name().into())),
        ("senderKeyId", read(&sender)?),
        ("recipientKeyId", read(&recipient)?),
    ])
}

/// §11.1: an unclamped scalar's public key and agreement.
pub(super) fn raw_scalar(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let pair =
        RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(0), &input.array("scalar")?);
    let shared = pair
        .agree(&public_key(&input, "peerPublic")?)
        .map_err(protocol)?;
    outputs([
        ("publicKey", hex_string(pair.public_key().as_bytes())),
        ("sharedSecret", hex_string(shared.as_bytes())),
    ])
}

/// §11.4: a group key's weakness flags under a policy.
pub(super) fn group_key_check(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let key = GroupKey::from_bytes(&input.array("groupKey")?);
    let denylist = input
        .hex_list("denylist")?
        .into_iter()
        .map(|d| <[u8; 32]>::try_from(d).map_err(|_| bad("denylist entries are 32 bytes".into())))
        .collect::<Result<Vec<_>, _>>()?;
    let strict = input
        .value("strict")?
        .as_bool()
        .ok_or_else(|| bad("strict must be a boolean".into()))?;
    let policy = WeakKeyPolicy {
        strict,
        denylist: &denylist,
    };
    let flags = key.check(&policy).map_err(protocol)?;
    outputs([(
        "flags",
        Value::Array(
            flags
                .names()
                .into_iter()
                .map(|n| Value::String(n.into()))
                .collect(),
        ),
    )])
}

/// My key (`mySecret`, `myKeyId`) and the peer's (`peerPublic`, `peerKeyId`).
fn session_parties(input: &Inputs<'_>) -> Result<(LegacyKeyPair, LegacyPublicKey), CaseError> {
    let mine = LegacyKeyPair::from_bytes(key_id(input, "myKeyId")?, &input.array("mySecret")?);
    let peer = LegacyPublicKey {
        key_id: key_id(input, "peerKeyId")?,
        key: public_key(input, "peerPublic")?,
    };
    Ok((mine, peer))
}

fn received(received: &Received) -> StepOutput {
    outputs([
        (
            "keyIdEncoding",
            Value::String(received.key_id_encoding.name().into()),
        ),
        ("payload", Value::Object(payload_fields(&received.payload))),
    ])
}

/// §11.9: a 1:1 session seal with a fixed salt and nonce.
pub(super) fn session_seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let (me, peer) = session_parties(&input)?;
    let session = PeerSession::new(&me, line_id(&input, "me")?, &peer, line_id(&input, "peer")?)
        .map_err(protocol)?
        .with_options(SealOptions {
            key_id_encoding: encoding(&input, "keyIdEncoding")?,
            ..SealOptions::default()
        });
    let nonce = V2Nonce::from_slice(&input.bytes("nonce")?)
        .map_err(|_| bad("nonce must be 12 or 16 bytes".into()))?;
    let chunks = session
        .seal_bytes_with(
            &input.array("salt")?,
            &nonce,
            LegacyContentType::new(int(&input, "contentType")?),
            &input.bytes("plaintext")?,
        )
        .map_err(protocol)?;
    outputs([("chunks", chunk_list(chunks))])
}

/// §11.9: a 1:1 session open: ids, the agreement, the chunk count, then the open.
pub(super) fn session_open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let (me_id, peer_id) = (line_id(&input, "me")?, line_id(&input, "peer")?);
    let (me, peer) = session_parties(&input)?;
    let session = PeerSession::new(&me, me_id, &peer, peer_id).map_err(protocol)?;
    let version = match int(&input, "version")? {
        1 => LegacyVersion::V1,
        2 => LegacyVersion::V2,
        other => return Err(bad(alloc::format!("version {other}"))),
    };
    let content_type = LegacyContentType::new(int(&input, "contentType")?);
    let chunks = chunks(&input)?;
    received(
        &session
            .open(version, content_type, &chunks)
            .map_err(protocol)?,
    )
}

/// §11.9: a group member session open.
pub(super) fn session_group_open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let (group_id, member_id) = (line_id(&input, "groupId")?, line_id(&input, "from")?);
    let member = LegacyPublicKey {
        key_id: key_id(&input, "memberKeyId")?,
        key: public_key(&input, "memberPublic")?,
    };
    let session = GroupMemberSession::new(
        &GroupKey::from_bytes(&input.array("groupKey")?),
        key_id(&input, "groupKeyId")?,
        group_id,
        &member,
        member_id,
    )
    .map_err(protocol)?;
    let content_type = LegacyContentType::new(int(&input, "contentType")?);
    let chunks = chunks(&input)?;
    received(&session.open(content_type, &chunks).map_err(protocol)?)
}
