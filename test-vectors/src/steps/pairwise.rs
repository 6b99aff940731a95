//! Pairwise steps (SPEC.md §7, the LS3 ratchet). Inputs and outputs are
//! documented in `test-vectors/README.md`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::{device_id, key_error, outputs, user_id};
use crate::{CaseError, FixedRng, Inputs, StepOutput, hex_string, vector_kem_key};
use letterseal::codec::Reader;
use letterseal::device::DeviceKeys;
use letterseal::ids::DeviceAddress;
use letterseal::keys::{IdentitySecretKey, SealingPublicKey, SealingSecretKey};
use letterseal::message::keys::{ChainKey, MessageSecret};
use letterseal::pairwise::kdf::{InitialSecrets, PartyKeys, RootKey, initial_keys, session_id};
use letterseal::pairwise::{Chain, ContentType, Header, Opened, RatchetPolicy, Session};
use letterseal::registration::{
    BundleContent, ExpectedOwner, KeyBundle, OneTimeKeyContent, RegistrationPolicy, VerifiedBundle,
    VerifiedOneTimeKey,
};
use letterseal::time::Timestamp;

/// §7.3: decode a header (without a body).
pub(super) fn header(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let bytes = input.bytes("header")?;
    let mut r = Reader::new(&bytes);
    let header = Header::decode(&mut r).and_then(|h| r.finish().map(|()| h));
    let header = header.map_err(|e| match e {
        letterseal::codec::DecodeError::UnknownVersion(_) => {
            CaseError::Protocol("UnsupportedVersion")
        }
        _ => CaseError::Protocol("Malformed"),
    })?;
    let mut out = Map::new();
    out.insert(
        "contentType".into(),
        Value::from(header.content_type.code()),
    );
    out.insert("sessionId".into(), hex_string(header.session_id.as_bytes()));
    out.insert(
        "ratchetKey".into(),
        hex_string(header.ratchet_key.as_bytes()),
    );
    out.insert(
        "previousMessageChain".into(),
        Value::from(header.previous_message_chain),
    );
    out.insert(
        "previousControlChain".into(),
        Value::from(header.previous_control_chain),
    );
    out.insert("n".into(), Value::from(header.n));
    if let Some(init) = &header.init {
        out.insert(
            "initiatorKeyId".into(),
            hex_string(init.initiator_key_id.as_bytes()),
        );
        out.insert(
            "responderKeyId".into(),
            hex_string(init.responder_key_id.as_bytes()),
        );
        out.insert(
            "initKemKeyId".into(),
            hex_string(init.kem_key_id.as_bytes()),
        );
        out.insert(
            "initKemCiphertext".into(),
            hex_string(init.kem_ciphertext.as_bytes()),
        );
        if let Some(id) = &init.one_time_key_id {
            out.insert("oneTimeKeyId".into(), hex_string(id.as_bytes()));
        }
    }
    if let Some(kem) = &header.kem_step {
        out.insert("stepKemKeyId".into(), hex_string(kem.kem_key_id.as_bytes()));
        out.insert(
            "stepKemCiphertext".into(),
            hex_string(kem.kem_ciphertext.as_bytes()),
        );
        out.insert("newKemKey".into(), hex_string(kem.new_kem_key.as_bytes()));
    }
    out.insert("salt".into(), hex_string(&header.salt));
    out.insert("commitment".into(), hex_string(&header.commitment));
    out.insert("bound".into(), hex_string(&header.bound()));
    Ok(out)
}

/// §7.4: one root step.
pub(super) fn ratchet_root(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let root = RootKey::from_bytes(input.array("rootKey")?);
    let dh: [u8; 32] = input.array("dh")?;
    let kem = input
        .optional_bytes("kemSecret")?
        .map(|b| {
            <[u8; 32]>::try_from(b.as_slice())
                .map_err(|_| CaseError::BadInput("kemSecret must be 32 bytes".into()))
        })
        .transpose()?;
    let keys = root.step(&dh, kem.as_ref());
    outputs([
        ("rootKey", hex_string(keys.root.as_bytes())),
        ("messageChain", hex_string(keys.message.as_bytes())),
        ("controlChain", hex_string(keys.control.as_bytes())),
    ])
}

/// §7.4: one chain step.
pub(super) fn ratchet_chain(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let (secret, next) = ChainKey::from_bytes(input.array("chainKey")?).step();
    outputs([
        ("messageSecret", hex_string(secret.as_bytes())),
        ("nextChainKey", hex_string(next.as_bytes())),
    ])
}

/// §7.4: a message's keys from its secret and salt.
pub(super) fn ratchet_message_keys(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let keys = MessageSecret::from_bytes(input.array("messageSecret")?)
        .message_keys(&input.array("salt")?);
    outputs([
        ("aeadKey", hex_string(keys.aead_key.as_bytes())),
        ("nonce", hex_string(keys.nonce.as_bytes())),
        ("commitment", hex_string(&keys.commitment)),
    ])
}

/// §7.4 / §3.5: a message's hedged salt.
pub(super) fn ratchet_hedged_salt(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let mut rng = FixedRng::new(input.bytes("random")?);
    let salt = MessageSecret::from_bytes(input.array("messageSecret")?).hedged_salt(
        &mut rng,
        &input.bytes("bound")?,
        &input.bytes("associatedData")?,
        &input.bytes("plaintext")?,
    );
    outputs([("salt", hex_string(&salt))])
}

/// §7.5: the initiator's hybrid start, from its device, the responder's bundle
/// (and one-time key) and fixed randomness `ephemeral ‖ m`.
pub(super) fn ratchet_init(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let initiator = device(&input, "initiator")?;
    let responder = peer_bundle(&input, "responderBundle")?;
    let one_time = match input.optional_bytes("oneTimeKey")? {
        Some(bytes) => Some(SealingPublicKey::from_bytes(
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| CaseError::BadInput("oneTimeKey must be 32 bytes".into()))?,
        )),
        None => None,
    };
    let random = input.bytes("random")?;
    let (ephemeral, m) = random
        .split_at_checked(32)
        .filter(|(_, m)| m.len() == 32)
        .ok_or_else(|| CaseError::BadInput("random must be 64 bytes".into()))?;
    let ephemeral = SealingSecretKey::from_bytes(
        &<[u8; 32]>::try_from(ephemeral).map_err(|_| CaseError::BadInput("random".into()))?,
    );
    let m = <[u8; 32]>::try_from(m).map_err(|_| CaseError::BadInput("random".into()))?;
    let local_id = initiator
        .current_sealing_key_id()
        .ok_or_else(|| CaseError::BadInput("the initiator has no sealing key".into()))?;
    let local_secret = initiator
        .sealing_key(&local_id)
        .ok_or_else(|| CaseError::BadInput("key".into()))?;
    let local_public = local_secret.public_key();
    let agree = |s: &SealingSecretKey, p: &SealingPublicKey| s.agree(p).map_err(key_error);
    let dh1 = agree(local_secret, responder.sealing_key())?;
    let dh2 = agree(&ephemeral, responder.sealing_key())?;
    let dh3 = one_time
        .as_ref()
        .map(|otk| agree(&ephemeral, otk))
        .transpose()?;
    let (ciphertext, kem_secret) = responder.kem_key().encapsulate_with(&m);
    let ephemeral_public = ephemeral.public_key();
    let a = PartyKeys {
        address: initiator.address(),
        identity_key: &initiator.identity().public_key(),
        sealing_key: &local_public,
    };
    let b = PartyKeys {
        address: responder.owner(),
        identity_key: responder.identity_key(),
        sealing_key: responder.sealing_key(),
    };
    let mut context = letterseal::codec::Writer::new();
    a.encode(&mut context);
    b.encode(&mut context);
    context.raw(ephemeral_public.as_bytes());
    if let Some(otk) = &one_time {
        context.raw(otk.as_bytes());
    }
    context.raw(responder.kem_key().key_id().as_bytes());
    context.raw(ciphertext.as_bytes());
    let keys = initial_keys(
        &InitialSecrets {
            static_static: &dh1,
            ephemeral_static: &dh2,
            one_time: dh3.as_ref(),
            kem: &kem_secret,
        },
        context.as_bytes(),
    );
    outputs([
        ("ephemeralKey", hex_string(ephemeral_public.as_bytes())),
        ("kemCiphertext", hex_string(ciphertext.as_bytes())),
        (
            "sessionId",
            hex_string(session_id(&ephemeral_public, &a, &b).as_bytes()),
        ),
        ("rootKey", hex_string(keys.root.as_bytes())),
        ("messageChain", hex_string(keys.message.as_bytes())),
        ("controlChain", hex_string(keys.control.as_bytes())),
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
                &letterseal::registration::NoDirectory,
            )
        })
        .map_err(|e| CaseError::BadInput(alloc::format!("{key}: {e}")))
}

// ---- ratchet transcripts (§7.5–7.9) -----------------------------------------

fn bad(what: &str) -> CaseError {
    CaseError::BadInput(what.to_string())
}

fn object<'a>(value: &'a Value, what: &str) -> Result<Inputs<'a>, CaseError> {
    value
        .as_object()
        .map(Inputs)
        .ok_or_else(|| bad(&alloc::format!("{what} must be an object")))
}

fn secrets(input: &Inputs<'_>, key: &str) -> Result<Vec<[u8; 32]>, CaseError> {
    input
        .hex_list(key)?
        .into_iter()
        .map(|b| {
            <[u8; 32]>::try_from(b.as_slice())
                .map_err(|_| bad(&alloc::format!("{key}: secrets are 32 bytes")))
        })
        .collect()
}

/// A transcript party: its device and, for its peer's view, its sealing secrets in order.
struct Party {
    device: DeviceKeys,
    identity_seed: [u8; 32],
    all_sealing: Vec<[u8; 32]>,
    one_time: Vec<[u8; 32]>,
}

/// `{identitySeed, userId, deviceId, sealingSecrets, retiredSealingSecrets?, oneTimeSecrets?}`:
/// sealing keys (retired first, then live) valid from `notBefore + i` for 30 days, one-time keys
/// from `notBefore` for 30 days.
fn party(value: &Value, not_before: u64, what: &str) -> Result<Party, CaseError> {
    let input = object(value, what)?;
    let mut flat = Map::new();
    for key in [
        "identitySeed",
        "userId",
        "deviceId",
        "sealingSecrets",
        "retiredSealingSecrets",
    ] {
        if let Some(v) = input.0.get(key) {
            let name = alloc::format!(
                "p{}{}",
                key.get(..1).unwrap_or_default().to_uppercase(),
                key.get(1..).unwrap_or_default()
            );
            flat.insert(name, v.clone());
        }
    }
    flat.insert("notBefore".into(), Value::from(not_before));
    let mut device = device(&Inputs(&flat), "p")?;
    let mut all_sealing = secrets(&input, "retiredSealingSecrets")?;
    all_sealing.extend(secrets(&input, "sealingSecrets")?);
    let mut one_time = secrets(&input, "oneTimeSecrets")?;
    let start = Timestamp::from_unix_seconds(not_before);
    for secret in &one_time {
        device
            .insert_one_time_key(
                SealingSecretKey::from_bytes(secret),
                start,
                start.saturating_add(30 * 86_400),
            )
            .ok_or_else(|| bad("a one-time secret is listed twice"))?;
    }
    // Offered to the peer (signed) but not held: the device lost them.
    one_time.extend(secrets(&input, "lostOneTimeSecrets")?);
    Ok(Party {
        device,
        identity_seed: input.array("identitySeed")?,
        all_sealing,
        one_time,
    })
}

impl Party {
    /// The verified bundle of one of this party's sealing secrets, valid from
    /// `notBefore + i` for 30 days (`i` its position among the party's secrets, else 0).
    fn bundle(&self, secret: &[u8; 32], not_before: u64) -> Result<VerifiedBundle, CaseError> {
        let i = self
            .all_sealing
            .iter()
            .position(|s| s == secret)
            .unwrap_or(0);
        let start = Timestamp::from_unix_seconds(not_before.saturating_add(i as u64));
        let identity = IdentitySecretKey::from_seed(&self.identity_seed);
        let sealing = SealingSecretKey::from_bytes(secret);
        let kem = vector_kem_key(secret);
        BundleContent::new(
            self.device.address().clone(),
            identity.public_key(),
            sealing.public_key(),
            kem.encapsulation_key_ref(),
            start,
            start.saturating_add(30 * 86_400),
        )
        .sign(&identity)
        .verify(
            &ExpectedOwner::Device(self.device.address().clone()),
            &RegistrationPolicy::default(),
            Timestamp::from_unix_seconds(not_before),
            None,
            &letterseal::registration::NoDirectory,
        )
        .map_err(|e| bad(&alloc::format!("bundle: {e}")))
    }

    fn one_time_key(&self, index: u64, not_before: u64) -> Result<VerifiedOneTimeKey, CaseError> {
        let secret = usize::try_from(index)
            .ok()
            .and_then(|i| self.one_time.get(i))
            .ok_or_else(|| bad("oneTimeKey index out of range"))?;
        let start = Timestamp::from_unix_seconds(not_before);
        let identity = IdentitySecretKey::from_seed(&self.identity_seed);
        OneTimeKeyContent::new(
            self.device.address().clone(),
            identity.public_key(),
            SealingSecretKey::from_bytes(secret).public_key(),
            start,
            start.saturating_add(30 * 86_400),
        )
        .sign(&identity)
        .verify(
            &ExpectedOwner::Device(self.device.address().clone()),
            &RegistrationPolicy::default(),
            Timestamp::from_unix_seconds(not_before),
            None,
            &letterseal::registration::NoDirectory,
        )
        .map_err(|e| bad(&alloc::format!("one-time key: {e}")))
    }
}

fn policy(input: &Inputs<'_>) -> Result<RatchetPolicy, CaseError> {
    let Some(value) = input.0.get("policy") else {
        return Ok(RatchetPolicy::default());
    };
    let p = object(value, "policy")?;
    let u32_of =
        |key: &str| u32::try_from(p.u64(key)?).map_err(|_| bad(&alloc::format!("policy.{key}")));
    Ok(RatchetPolicy {
        max_skip: u32_of("maxSkip")?,
        max_skipped: u32_of("maxSkipped")?,
        skipped_lifetime_seconds: p.u64("skippedLifetime")?,
        kem_every_steps: u32_of("kemEverySteps")?,
        kem_every_seconds: p.u64("kemEverySeconds")?,
    })
}

fn opened_output(opened: &Opened) -> Value {
    let mut out = Map::new();
    out.insert(
        "contentType".into(),
        Value::from(opened.content_type.code()),
    );
    out.insert("plaintext".into(), hex_string(&opened.plaintext));
    out.insert(
        "chain".into(),
        Value::from(match opened.chain {
            Chain::Message => "message",
            Chain::Control => "control",
        }),
    );
    out.insert("counter".into(), Value::from(opened.counter));
    out.insert("skipped".into(), Value::from(opened.skipped));
    out.insert("late".into(), Value::from(opened.late));
    out.insert("startedSession".into(), Value::from(opened.started_session));
    Value::Object(out)
}

/// §7.5–7.9: a scripted conversation between `alice` and `bob`. Each event's result is
/// output in order; an invalid case fails at its last event with the named error.
pub(super) fn ratchet_transcript(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let not_before = input.u64("notBefore")?;
    let mut parties = [
        party(input.value("alice")?, not_before, "alice")?,
        party(input.value("bob")?, not_before, "bob")?,
    ];
    let policy = policy(&input)?;
    // What each side knows of the other: the peer's live secrets unless listed.
    let mut known: [Vec<VerifiedBundle>; 2] = [Vec::new(), Vec::new()];
    for (me, key) in [(0usize, "aliceKnows"), (1, "bobKnows")] {
        let peer = parties.get(1 - me).ok_or_else(|| bad("party"))?;
        let listed = secrets(&input, key)?;
        let list = if input.0.contains_key(key) {
            listed
        } else {
            let live: Vec<[u8; 32]> = peer
                .all_sealing
                .iter()
                .filter(|s| {
                    peer.device
                        .sealing_key(&SealingSecretKey::from_bytes(s).public_key().key_id())
                        .is_some()
                })
                .copied()
                .collect();
            live
        };
        for secret in &list {
            let bundle = peer.bundle(secret, not_before)?;
            if let Some(slot) = known.get_mut(me) {
                slot.push(bundle);
            }
        }
    }
    let mut sessions: [Vec<Session>; 2] = [Vec::new(), Vec::new()];
    let new_session = |me: usize,
                       parties: &[Party; 2],
                       known: &[Vec<VerifiedBundle>; 2],
                       one_time: Option<u64>|
     -> Result<Session, CaseError> {
        let party = parties.get(me).ok_or_else(|| bad("party"))?;
        let bundles = known.get(me).ok_or_else(|| bad("party"))?;
        let (first, rest) = bundles
            .split_first()
            .ok_or_else(|| bad("a side knows none of its peer's bundles"))?;
        let mut session = Session::new(&party.device, first)
            .map_err(|e| bad(&alloc::format!("session: {e}")))?
            .with_policy(policy)
            .map_err(|e| bad(&alloc::format!("policy: {e}")))?;
        for b in rest {
            session
                .add_peer_bundle(b)
                .map_err(|e| bad(&alloc::format!("session: {e}")))?;
        }
        if let Some(index) = one_time {
            let peer = parties.get(1 - me).ok_or_else(|| bad("party"))?;
            session = session
                .with_one_time_key(&peer.one_time_key(index, not_before)?)
                .map_err(|e| bad(&alloc::format!("one-time key: {e}")))?;
        }
        Ok(session)
    };
    for me in 0..2 {
        let one_time = if me == 0 {
            input.0.get("aliceOneTimeKey").and_then(Value::as_u64)
        } else {
            None
        };
        let session = new_session(me, &parties, &known, one_time)?;
        if let Some(list) = sessions.get_mut(me) {
            list.push(session);
        }
    }

    let events = input
        .value("events")?
        .as_array()
        .ok_or_else(|| bad("events must be a list"))?;
    let mut sealed: Vec<Vec<u8>> = Vec::new();
    let mut results = Vec::new();
    let last = events.len().saturating_sub(1);
    for (i, event) in events.iter().enumerate() {
        let e = object(event, "event")?;
        let outcome = run_event(
            &e,
            &mut parties,
            &mut sessions,
            &mut sealed,
            &|me, parties, one_time| new_session(me, parties, &known, one_time),
        );
        match outcome {
            Ok(value) => results.push(value),
            Err(CaseError::Protocol(name)) if i == last => return Err(CaseError::Protocol(name)),
            Err(CaseError::Protocol(name)) => {
                return Err(bad(&alloc::format!("event {i} failed with {name}")));
            }
            Err(other) => return Err(other),
        }
    }
    outputs([("results", Value::Array(results))])
}

fn side(e: &Inputs<'_>, key: &str) -> Result<usize, CaseError> {
    match e.value(key)?.as_str() {
        Some("alice") => Ok(0),
        Some("bob") => Ok(1),
        _ => Err(bad(&alloc::format!("{key} must be alice or bob"))),
    }
}

type NewSession<'a> = dyn Fn(usize, &[Party; 2], Option<u64>) -> Result<Session, CaseError> + 'a;

fn run_event(
    e: &Inputs<'_>,
    parties: &mut [Party; 2],
    sessions: &mut [Vec<Session>; 2],
    sealed: &mut Vec<Vec<u8>>,
    new_session: &NewSession<'_>,
) -> Result<Value, CaseError> {
    let index = |key: &str| -> Result<usize, CaseError> {
        match e.0.get(key) {
            None => Ok(0),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| bad(&alloc::format!("{key} must be an index"))),
        }
    };
    if e.0.contains_key("newSession") {
        let me = side(e, "newSession")?;
        let one_time = e.0.get("oneTimeKey").and_then(Value::as_u64);
        let session = new_session(me, parties, one_time)?;
        sessions
            .get_mut(me)
            .ok_or_else(|| bad("side"))?
            .push(session);
        return Ok(Value::Object(Map::new()));
    }
    let now = Timestamp::from_unix_seconds(e.u64("now")?);
    if e.0.contains_key("seal") {
        let me = side(e, "seal")?;
        let k = index("session")?;
        let party = parties.get(me).ok_or_else(|| bad("side"))?;
        let session = sessions
            .get_mut(me)
            .and_then(|s| s.get_mut(k))
            .ok_or_else(|| bad("no such session"))?;
        let content_type = ContentType::from(
            u16::try_from(e.u64("contentType")?).map_err(|_| bad("contentType"))?,
        );
        let mut rng = FixedRng::new(e.bytes("random")?);
        let message = session
            .seal(
                &party.device,
                &mut rng,
                now,
                content_type,
                &e.bytes("plaintext")?,
                &e.bytes("associatedData")?,
            )
            .map_err(|err| CaseError::Protocol(err.name()))?;
        sealed.push(message.clone());
        let mut out = Map::new();
        out.insert("message".into(), hex_string(&message));
        return Ok(Value::Object(out));
    }
    if e.0.contains_key("open") {
        let me = side(e, "open")?;
        let k = index("session")?;
        let mut message = sealed
            .get(index("message")?)
            .ok_or_else(|| bad("message index out of range"))?
            .clone();
        if let Some(flip) = e.0.get("flip") {
            let pair = flip.as_array().ok_or_else(|| bad("flip: [byte, mask]"))?;
            let at = pair
                .first()
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| bad("flip byte"))?;
            let mask = pair
                .get(1)
                .and_then(Value::as_u64)
                .and_then(|n| u8::try_from(n).ok())
                .ok_or_else(|| bad("flip mask"))?;
            let byte = message
                .get_mut(at)
                .ok_or_else(|| bad("flip byte out of range"))?;
            *byte ^= mask;
        }
        if let Some(len) = e.0.get("truncate") {
            let len = len
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| bad("truncate"))?;
            message.truncate(len);
        }
        let party = parties.get_mut(me).ok_or_else(|| bad("side"))?;
        let session = sessions
            .get_mut(me)
            .and_then(|s| s.get_mut(k))
            .ok_or_else(|| bad("no such session"))?;
        let opened = session
            .open(
                &mut party.device,
                now,
                &message,
                &e.bytes("associatedData")?,
            )
            .map_err(|err| CaseError::Protocol(err.name()))?;
        return Ok(opened_output(&opened));
    }
    if e.0.contains_key("expire") {
        let me = side(e, "expire")?;
        let k = index("session")?;
        sessions
            .get_mut(me)
            .and_then(|s| s.get_mut(k))
            .ok_or_else(|| bad("no such session"))?
            .expire(now);
        return Ok(Value::Object(Map::new()));
    }
    Err(bad("an event is newSession, seal, open or expire"))
}
