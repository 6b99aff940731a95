//! One function per protocol step: parse a case's inputs, run the step through
//! the crate's public API, return its outputs or its error's name.
//! The inputs and outputs of each step are documented in `test-vectors/README.md`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::{CaseError, Inputs, StepOutput, hex_string};

use letterseal::aead::{self, AeadKey, AeadNonce};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::kdf::{self, KdfError, Prk};
use letterseal::keys::{
    IdentityPublicKey, IdentitySecretKey, KemDecapsulationKey, KeyError, SealingPublicKey,
    SealingSecretKey,
};
use letterseal::registration::{
    BundleContent, ExpectedOwner, KeyBundle, OneTimeKeyBundle, OneTimeKeyContent,
    RegistrationError, RegistrationPolicy,
};
use letterseal::safety_number::SafetyNumber;
use letterseal::time::Timestamp;

mod account;
mod attachment;
mod group;
mod legacy;
mod pairwise;

/// A step's checker.
pub(super) type Step = fn(&Map<String, Value>) -> StepOutput;

/// Every step this release can check, by name.
pub(super) const STEPS: &[(&str, Step)] = &[
    ("identity-keygen", identity_keygen),
    ("identity-public-key", identity_public_key),
    ("sealing-keygen", sealing_keygen),
    ("sealing-key-validate", sealing_key_validate),
    ("x25519-agreement", x25519_agreement),
    ("hkdf-sha256", hkdf_sha256),
    ("labeled-derive", labeled_derive),
    ("aes-256-gcm", aes_256_gcm),
    ("bundle-sign", bundle_sign),
    ("bundle-verify", bundle_verify),
    ("one-time-key-sign", one_time_key_sign),
    ("one-time-key-verify", one_time_key_verify),
    ("safety-number", safety_number),
    ("pairwise-header", pairwise::header),
    ("ratchet-root", pairwise::ratchet_root),
    ("ratchet-chain", pairwise::ratchet_chain),
    ("ratchet-message-keys", pairwise::ratchet_message_keys),
    ("ratchet-hedged-salt", pairwise::ratchet_hedged_salt),
    ("ratchet-init", pairwise::ratchet_init),
    ("ratchet-transcript", pairwise::ratchet_transcript),
    ("group-roster-hash", group::roster_hash),
    ("group-sender-chain", group::sender_chain_key),
    ("group-key-wrap", group::key_wrap),
    ("group-distribution-verify", group::distribution_verify),
    ("group-distribution-process", group::distribution_process),
    ("group-seal", group::seal),
    ("group-open", group::open),
    ("attachment-seal", attachment::seal),
    ("attachment-seal-hedged", attachment::seal_hedged),
    ("attachment-open", attachment::open),
    ("attachment-chunk", attachment::chunk),
    ("device-list-sign", account::device_list_sign),
    ("device-list-verify", account::device_list_verify),
    ("envelope", account::envelope),
    ("legacy-v1-seal", legacy::v1_seal),
    ("legacy-v1-open", legacy::v1_open),
    ("legacy-v2-seal", legacy::v2_seal),
    ("legacy-v2-open", legacy::v2_open),
    ("legacy-group-key", legacy::group_key),
    ("legacy-group-wrap", legacy::group_wrap),
    ("legacy-group-unwrap", legacy::group_unwrap),
    ("legacy-group-seal", legacy::group_seal),
    ("legacy-group-open", legacy::group_open),
    ("legacy-media-seal", legacy::media_seal),
    ("legacy-media-open", legacy::media_open),
    ("legacy-payload", legacy::payload),
    ("legacy-key-id", legacy::key_id_chunk),
    ("legacy-key-id-detect", legacy::key_id_detect),
    ("legacy-raw-scalar", legacy::raw_scalar),
    ("legacy-group-key-check", legacy::group_key_check),
    ("legacy-session-seal", legacy::session_seal),
    ("legacy-session-open", legacy::session_open),
    ("legacy-session-group-open", legacy::session_group_open),
];

pub(super) fn lookup(step: &str) -> Option<Step> {
    STEPS
        .iter()
        .find(|(name, _)| *name == step)
        .map(|(_, f)| *f)
}

pub(super) fn outputs<const N: usize>(pairs: [(&str, Value); N]) -> StepOutput {
    Ok(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

pub(super) fn key_error(e: KeyError) -> CaseError {
    CaseError::Protocol(match e {
        KeyError::InvalidIdentityKey => "InvalidIdentityKey",
        KeyError::BadSignature => "BadSignature",
        KeyError::NonCanonicalSealingKey => "NonCanonicalSealingKey",
        KeyError::SmallOrderSealingKey => "SmallOrderSealingKey",
        KeyError::NonContributory => "NonContributory",
        KeyError::InvalidKemKey => "InvalidKemKey",
        KeyError::InvalidKemCiphertext => "InvalidKemCiphertext",
        KeyError::InvalidKemSeed => "InvalidKemSeed",
        // A variant newer than this checker matches no vector's expected error.
        _ => "Unnamed",
    })
}

fn kdf_error(e: KdfError) -> CaseError {
    CaseError::Protocol(match e {
        KdfError::OutputTooLong => "OutputTooLong",
        KdfError::LabelTooLong => "LabelTooLong",
        _ => "Unnamed",
    })
}

pub(super) fn user_id(bytes: Vec<u8>) -> Result<UserId, CaseError> {
    UserId::new(bytes).map_err(|_| CaseError::BadInput("user id must be 1..=255 bytes".into()))
}

pub(super) fn device_id(input: &Inputs<'_>, key: &str) -> Result<DeviceId, CaseError> {
    u32::try_from(input.u64(key)?)
        .map(DeviceId::new)
        .map_err(|_| CaseError::BadInput(alloc::format!("{key} must fit in u32")))
}

fn output_len(input: &Inputs<'_>) -> Result<usize, CaseError> {
    usize::try_from(input.u64("length")?).map_err(|_| CaseError::BadInput("length".into()))
}

/// The case's `length`, capped at one byte over the KDF limit: a longer request is refused by the
/// KDF all the same (and in its own check order), without allocating what the file asks for.
fn bounded_output_len(input: &Inputs<'_>) -> Result<usize, CaseError> {
    Ok(output_len(input)?.min(kdf::MAX_OUTPUT_LEN + 1))
}

/// §4.2: seed → identity public key.
fn identity_keygen(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let key = IdentitySecretKey::from_seed(&input.array("seed")?);
    outputs([("publicKey", hex_string(key.public_key().as_bytes()))])
}

/// §4.2: is this a valid identity public key?
fn identity_public_key(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let key = IdentityPublicKey::from_bytes(&input.array("publicKey")?).map_err(key_error)?;
    outputs([("publicKey", hex_string(key.as_bytes()))])
}

/// §4.3: secret → public key and key id.
fn sealing_keygen(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let public = SealingSecretKey::from_bytes(&input.array("secret")?).public_key();
    outputs([
        ("publicKey", hex_string(public.as_bytes())),
        ("keyId", hex_string(public.key_id().as_bytes())),
    ])
}

/// §4.3: registration checks of a sealing public key; its key id.
fn sealing_key_validate(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let public = SealingPublicKey::from_bytes(input.array("publicKey")?);
    public.validate().map_err(key_error)?;
    outputs([("keyId", hex_string(public.key_id().as_bytes()))])
}

/// §4.4: agreement, refusing the all-zero result.
fn x25519_agreement(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let secret = SealingSecretKey::from_bytes(&input.array("secret")?);
    let public = SealingPublicKey::from_bytes(input.array("publicKey")?);
    let shared = secret.agree(&public).map_err(key_error)?;
    outputs([("shared", hex_string(shared.as_bytes()))])
}

/// RFC 5869 HKDF-SHA-256 through the crate's path (§3.1).
fn hkdf_sha256(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let (salt, ikm, info) = (
        input.bytes("salt")?,
        input.bytes("ikm")?,
        input.bytes("info")?,
    );
    let mut okm = alloc::vec![0u8; bounded_output_len(&input)?];
    kdf::hkdf_sha256(&salt, &ikm, &info, &mut okm).map_err(kdf_error)?;
    outputs([("okm", hex_string(&okm))])
}

/// §3.1: the labelled derivation.
fn labeled_derive(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let (salt, ikm) = (input.bytes("salt")?, input.bytes("ikm")?);
    let (label, context) = (input.bytes("label")?, input.bytes("context")?);
    let mut okm = alloc::vec![0u8; bounded_output_len(&input)?];
    Prk::extract(&salt, &ikm)
        .expand_labeled(&label, &context, &mut okm)
        .map_err(kdf_error)?;
    outputs([("okm", hex_string(&okm))])
}

/// §3.3: AES-256-GCM seal, then open of the result.
fn aes_256_gcm(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let key = AeadKey::from_bytes(input.array("key")?);
    let nonce = AeadNonce::from_bytes(input.array("nonce")?);
    let (aad, plaintext) = (input.bytes("aad")?, input.bytes("plaintext")?);
    let sealed = aead::seal(&key, &nonce, &aad, &plaintext);
    let opened =
        aead::open(&key, &nonce, &aad, &sealed).map_err(|_| CaseError::Protocol("AeadError"))?;
    if opened.as_slice() != plaintext.as_slice() {
        return Err(CaseError::BadInput("open(seal(m)) != m".into()));
    }
    outputs([("sealed", hex_string(&sealed))])
}

/// §5.2: build and sign a bundle.
fn bundle_sign(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let identity = IdentitySecretKey::from_seed(&input.array("identitySeed")?);
    let sealing = SealingSecretKey::from_bytes(&input.array("sealingSecret")?);
    let kem = KemDecapsulationKey::from_seed(&input.array("kemSeed")?);
    let bundle = BundleContent::new(
        owner(&input, "")?,
        identity.public_key(),
        sealing.public_key(),
        kem.encapsulation_key_ref(),
        Timestamp::from_unix_seconds(input.u64("notBefore")?),
        Timestamp::from_unix_seconds(input.u64("notAfter")?),
    )
    .sign(&identity);
    outputs([("bundle", hex_string(&bundle.encode()))])
}

/// `<prefix>userId` (hex) and `<prefix>deviceId` as a device address.
fn owner(input: &Inputs<'_>, prefix: &str) -> Result<DeviceAddress, CaseError> {
    let user = if prefix.is_empty() {
        "userId".to_string()
    } else {
        alloc::format!("{prefix}UserId")
    };
    let device = if prefix.is_empty() {
        "deviceId".to_string()
    } else {
        alloc::format!("{prefix}DeviceId")
    };
    Ok(DeviceAddress::new(
        user_id(input.bytes(&user)?)?,
        device_id(input, &device)?,
    ))
}

/// The verifier's side of a registration case (§5.3, §5.5): the expected owner
/// (`expectedUserId`, and `expectedDeviceId` or null for any device of the user),
/// the policy, `now`, the pinned identity key and the directory (`registered`).
struct Verifier {
    expected: ExpectedOwner,
    policy: RegistrationPolicy,
    now: Timestamp,
    pinned: Option<IdentityPublicKey>,
    registered: Vec<(SealingPublicKey, DeviceAddress)>,
}

impl Verifier {
    fn from_inputs(input: &Inputs<'_>) -> Result<Self, CaseError> {
        let user = user_id(input.bytes("expectedUserId")?)?;
        let expected = match input.value("expectedDeviceId")? {
            Value::Null => ExpectedOwner::User(user),
            _ => ExpectedOwner::Device(DeviceAddress::new(
                user,
                device_id(input, "expectedDeviceId")?,
            )),
        };
        let pinned = match input.optional_bytes("pinnedIdentityKey")? {
            None => None,
            Some(bytes) => {
                let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
                    CaseError::BadInput("pinnedIdentityKey must be 32 bytes".into())
                })?;
                Some(
                    IdentityPublicKey::from_bytes(&bytes)
                        .map_err(|_| CaseError::BadInput("pinnedIdentityKey invalid".into()))?,
                )
            }
        };
        Ok(Self {
            expected,
            policy: RegistrationPolicy {
                max_lifetime_seconds: input.u64("maxLifetime")?,
                max_clock_skew_seconds: input.u64("maxClockSkew")?,
            },
            now: Timestamp::from_unix_seconds(input.u64("now")?),
            pinned,
            registered: registered_keys(input)?,
        })
    }

    fn directory(&self) -> impl Fn(&SealingPublicKey) -> Option<DeviceAddress> + '_ {
        |key: &SealingPublicKey| {
            self.registered
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, owner)| owner.clone())
        }
    }
}

fn registration_error(e: RegistrationError) -> CaseError {
    CaseError::Protocol(e.name())
}

/// §5.3: decode and verify a bundle as a server would.
fn bundle_verify(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let v = Verifier::from_inputs(&input)?;
    let verified = KeyBundle::decode(&input.bytes("bundle")?)
        .map_err(registration_error)?
        .verify(
            &v.expected,
            &v.policy,
            v.now,
            v.pinned.as_ref(),
            &v.directory(),
        )
        .map_err(registration_error)?;
    outputs([
        ("userId", hex_string(verified.owner().user.as_bytes())),
        ("deviceId", Value::from(verified.owner().device.get())),
        (
            "identityKey",
            hex_string(verified.identity_key().as_bytes()),
        ),
        ("sealingKey", hex_string(verified.sealing_key().as_bytes())),
        ("keyId", hex_string(verified.sealing_key_id().as_bytes())),
        (
            "kemKeyId",
            hex_string(verified.kem_key().key_id().as_bytes()),
        ),
    ])
}

/// §5.5: build and sign a one-time key.
fn one_time_key_sign(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let identity = IdentitySecretKey::from_seed(&input.array("identitySeed")?);
    let secret = SealingSecretKey::from_bytes(&input.array("secret")?);
    let key = OneTimeKeyContent::new(
        owner(&input, "")?,
        identity.public_key(),
        secret.public_key(),
        Timestamp::from_unix_seconds(input.u64("notBefore")?),
        Timestamp::from_unix_seconds(input.u64("notAfter")?),
    )
    .sign(&identity);
    outputs([("oneTimeKey", hex_string(&key.encode()))])
}

/// §5.5: decode and verify a one-time key as a server (or a peer) would.
fn one_time_key_verify(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let v = Verifier::from_inputs(&input)?;
    let verified = OneTimeKeyBundle::decode(&input.bytes("oneTimeKey")?)
        .map_err(registration_error)?
        .verify(
            &v.expected,
            &v.policy,
            v.now,
            v.pinned.as_ref(),
            &v.directory(),
        )
        .map_err(registration_error)?;
    outputs([
        ("userId", hex_string(verified.owner().user.as_bytes())),
        ("deviceId", Value::from(verified.owner().device.get())),
        (
            "identityKey",
            hex_string(verified.identity_key().as_bytes()),
        ),
        ("key", hex_string(verified.key().as_bytes())),
        ("keyId", hex_string(verified.key_id().as_bytes())),
    ])
}

/// The `registered` input of `bundle-verify`: `[{sealingKey, userId, deviceId}]`.
fn registered_keys(
    input: &Inputs<'_>,
) -> Result<Vec<(SealingPublicKey, DeviceAddress)>, CaseError> {
    let Some(list) = input.0.get("registered") else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| CaseError::BadInput("registered must be an array".into()))?;
    list.iter()
        .map(|entry| {
            let entry = entry
                .as_object()
                .ok_or_else(|| CaseError::BadInput("registered entries are objects".into()))?;
            let entry = Inputs(entry);
            let owner = DeviceAddress::new(
                user_id(entry.bytes("userId")?)?,
                device_id(&entry, "deviceId")?,
            );
            Ok((
                SealingPublicKey::from_bytes(entry.array("sealingKey")?),
                owner,
            ))
        })
        .collect()
}

/// §6: safety number of two parties.
fn safety_number(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let party = |user: &str, key: &str| -> Result<(UserId, IdentityPublicKey), CaseError> {
        let id = user_id(input.bytes(user)?)?;
        let key = IdentityPublicKey::from_bytes(&input.array(key)?).map_err(key_error)?;
        Ok((id, key))
    };
    let (a, ka) = party("userIdA", "identityKeyA")?;
    let (b, kb) = party("userIdB", "identityKeyB")?;
    let number = SafetyNumber::new((&a, &ka), (&b, &kb));
    outputs([
        ("digits", Value::String(number.digits())),
        ("bytes", hex_string(&number.to_bytes())),
    ])
}
