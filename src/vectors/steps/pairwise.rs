//! Pairwise steps (SPEC.md §7). Inputs and outputs are documented in
//! `test-vectors/README.md`.

use alloc::string::String;

use serde_json::{Map, Value};

use super::{device_id, key_error, outputs, user_id};
use crate::codec::Reader;
use crate::device::DeviceKeys;
use crate::ids::DeviceAddress;
use crate::keys::{IdentityPublicKey, IdentitySecretKey, SealingPublicKey, SealingSecretKey};
use crate::pairwise::kdf::{self, ChainKey, PartyKeys};
use crate::pairwise::{BOUND_FIELDS_LEN, ContentType, Header, Session};
use crate::registration::{ExpectedOwner, KeyBundle, RegistrationPolicy, VerifiedBundle};
use crate::time::Timestamp;
use crate::vectors::{CaseError, FixedRng, Inputs, StepOutput, hex_string, vector_kem_key};

/// §7.3: decode a 92-byte header.
pub(super) fn header(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let bytes = input.bytes("header")?;
    let mut r = Reader::new(&bytes);
    let header = Header::decode(&mut r).and_then(|h| r.finish().map(|()| h));
    let header = header.map_err(|e| match e {
        crate::codec::DecodeError::UnknownVersion(_) => CaseError::Protocol("UnsupportedVersion"),
        _ => CaseError::Protocol("Malformed"),
    })?;
    outputs([
        ("contentType", Value::from(header.content_type.code())),
        ("senderKeyId", hex_string(header.sender_key_id.as_bytes())),
        (
            "recipientKeyId",
            hex_string(header.recipient_key_id.as_bytes()),
        ),
        ("counter", Value::from(header.counter)),
        ("salt", hex_string(&header.salt)),
        ("commitment", hex_string(&header.commitment)),
        ("bound", hex_string(&header.bound_fields())),
    ])
}

/// One party of a chain-key case: `<prefix>UserId`, `DeviceId`, `IdentityKey`, `SealingKey`.
fn party(
    input: &Inputs<'_>,
    prefix: &str,
) -> Result<(DeviceAddress, IdentityPublicKey, SealingPublicKey), CaseError> {
    let name = |field: &str| alloc::format!("{prefix}{field}");
    let address = DeviceAddress::new(
        user_id(input.bytes(&name("UserId"))?)?,
        device_id(input, &name("DeviceId"))?,
    );
    let identity = IdentityPublicKey::from_bytes(&input.array(&name("IdentityKey"))?)
        .map_err(|_| CaseError::BadInput(name("IdentityKey")))?;
    let sealing = SealingPublicKey::from_bytes(input.array(&name("SealingKey"))?);
    Ok((address, identity, sealing))
}

/// §7.4: chain key of the direction sender → recipient.
pub(super) fn chain_key(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let secret = SealingSecretKey::from_bytes(&input.array("senderSealingSecret")?);
    let (sa, si, ss) = party(&input, "sender")?;
    let (ra, ri, rs) = party(&input, "recipient")?;
    if secret.public_key() != ss {
        return Err(CaseError::BadInput(
            "senderSealingSecret does not match senderSealingKey".into(),
        ));
    }
    let shared = secret.agree(&rs).map_err(key_error)?;
    let sender = PartyKeys {
        address: &sa,
        identity_key: &si,
        sealing_key: &ss,
    };
    let recipient = PartyKeys {
        address: &ra,
        identity_key: &ri,
        sealing_key: &rs,
    };
    let chain = kdf::chain_key(&shared, &sender, &recipient);
    outputs([
        ("shared", hex_string(shared.as_bytes())),
        ("chainKey", hex_string(chain.as_bytes())),
    ])
}

/// §7.4: message keys from a chain key, a salt and the bound header fields.
pub(super) fn message_keys(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let chain = ChainKey::from_bytes(input.array("chainKey")?);
    let bound: [u8; BOUND_FIELDS_LEN] = input.array("bound")?;
    let keys = kdf::message_keys(&chain, &input.array("salt")?, &bound);
    outputs([
        ("aeadKey", hex_string(keys.aead_key.as_bytes())),
        ("nonce", hex_string(keys.nonce.as_bytes())),
        ("commitment", hex_string(&keys.commitment)),
    ])
}

/// Builds a device from `<prefix>IdentitySeed`, `<prefix>UserId`, `<prefix>DeviceId`, the live
/// `<prefix>SealingSecrets` and the `<prefix>RetiredSealingSecrets`, all valid for
/// `[notBefore, notBefore + 30 days)` with increasing `not_before` in list order.
pub(super) fn device(input: &Inputs<'_>, prefix: &str) -> Result<DeviceKeys, CaseError> {
    let name = |field: &str| alloc::format!("{prefix}{field}");
    let address = DeviceAddress::new(
        user_id(input.bytes(&name("UserId"))?)?,
        device_id(input, &name("DeviceId"))?,
    );
    let mut device = DeviceKeys::from_identity(
        address,
        IdentitySecretKey::from_seed(&input.array(&name("IdentitySeed"))?),
    );
    let not_before = input.u64("notBefore")?;
    let retired = input.hex_list(&name("RetiredSealingSecrets"))?;
    let live = input.hex_list(&name("SealingSecrets"))?;
    for (i, secret) in retired.iter().chain(live.iter()).enumerate() {
        let secret: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| CaseError::BadInput("sealing secrets are 32 bytes".into()))?;
        let start = Timestamp::from_unix_seconds(not_before.saturating_add(i as u64));
        device.insert_sealing_key(
            SealingSecretKey::from_bytes(&secret),
            vector_kem_key(&secret),
            start,
            start.saturating_add(30 * 86_400),
        );
    }
    for secret in &retired {
        let secret: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| CaseError::BadInput("32 bytes".into()))?;
        device.retire(SealingSecretKey::from_bytes(&secret).public_key().key_id());
    }
    Ok(device)
}

pub(super) fn peer_bundle(input: &Inputs<'_>, key: &str) -> Result<VerifiedBundle, CaseError> {
    let now = Timestamp::from_unix_seconds(input.u64("notBefore")?);
    KeyBundle::decode(&input.bytes(key)?)
        .and_then(|b| {
            // A client asks for the device the bundle names.
            let owner = ExpectedOwner::Device(b.content().owner.clone());
            b.verify(
                &owner,
                &RegistrationPolicy::default(),
                now,
                None,
                &crate::registration::NoDirectory,
            )
        })
        .map_err(|e| CaseError::BadInput(alloc::format!("{key}: {e}")))
}

fn session(
    device: &DeviceKeys,
    peer: &VerifiedBundle,
    next_counter: u64,
) -> Result<Session, CaseError> {
    let session =
        Session::new(device, peer).map_err(|e| CaseError::BadInput(alloc::format!("{e}")))?;
    if next_counter == 0 {
        return Ok(session);
    }
    // The only way to start mid-conversation is through the versioned state.
    let mut state =
        serde_json::to_value(&session).map_err(|e| CaseError::BadInput(alloc::format!("{e}")))?;
    if let Some(obj) = state.as_object_mut() {
        obj.insert("next_counter".into(), Value::from(next_counter));
    }
    serde_json::from_value(state).map_err(|e| CaseError::BadInput(alloc::format!("{e}")))
}

/// §7.5: seal at `now` with fixed randomness (the 32 bytes the hedged salt
/// draws, §3.5) and a given starting counter.
pub(super) fn seal(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let sender = device(&input, "sender")?;
    let peer = peer_bundle(&input, "recipientBundle")?;
    let mut session = session(&sender, &peer, input.u64("counter")?)?;
    let content_type = ContentType::from(
        u16::try_from(input.u64("contentType")?)
            .map_err(|_| CaseError::BadInput("contentType".into()))?,
    );
    let mut rng = FixedRng::new(input.bytes("random")?);
    let now = Timestamp::from_unix_seconds(input.u64("now")?);
    let message = session
        .seal(
            &sender,
            &mut rng,
            now,
            content_type,
            &input.bytes("plaintext")?,
            &input.bytes("associatedData")?,
        )
        .map_err(|e| CaseError::Protocol(e.name()))?;
    outputs([("message", hex_string(&message))])
}

/// §7.5: open after the `delivered` messages were opened (each must open).
pub(super) fn open(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let recipient = device(&input, "recipient")?;
    let peer = peer_bundle(&input, "senderBundle")?;
    let mut session = session(&recipient, &peer, 0)?;
    let ad = input.bytes("associatedData")?;
    let now = Timestamp::from_unix_seconds(input.u64("now")?);
    for (i, earlier) in input.hex_list("delivered")?.iter().enumerate() {
        session
            .open(&recipient, now, earlier, &ad)
            .map_err(|e| CaseError::BadInput(alloc::format!("delivered[{i}] did not open: {e}")))?;
    }
    let opened = session
        .open(&recipient, now, &input.bytes("message")?, &ad)
        .map_err(|e| CaseError::Protocol(e.name()))?;
    outputs([
        ("contentType", Value::from(opened.content_type.code())),
        ("plaintext", hex_string(&opened.plaintext)),
        ("counter", Value::from(opened.counter)),
        ("skipped", Value::from(opened.skipped)),
        ("late", Value::from(opened.late)),
    ])
}
