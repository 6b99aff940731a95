//! The account steps (SPEC.md §13.1–13.3): signing and verifying a user's
//! device list, and decoding an envelope with its body.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::{device_id, outputs, user_id};
use crate::{CaseError, Inputs, StepOutput, hex_string};
use letterseal::account::{
    DeviceList, DeviceListError, Envelope, EnvelopeError, EnvelopeKind, ListedDevice,
    UserSecretKey, VerifiedDeviceList,
};
use letterseal::codec::{DecodeError, Reader};
use letterseal::group::{Distribution, GroupError, GroupId};
use letterseal::ids::{DeviceAddress, UserId};
use letterseal::keys::IdentityPublicKey;
use letterseal::registration::{KeyBundle, OneTimeKeyBundle, RegistrationError};

fn device_list_error(e: DeviceListError) -> CaseError {
    CaseError::Protocol(e.name())
}

/// The `devices` input: `[{deviceId, identityKey}]`, in the order given.
fn listed_devices(input: &Inputs<'_>) -> Result<Vec<ListedDevice>, CaseError> {
    let list = input
        .value("devices")?
        .as_array()
        .ok_or_else(|| CaseError::BadInput("devices must be a list".into()))?;
    list.iter()
        .map(|entry| {
            let entry = entry
                .as_object()
                .ok_or_else(|| CaseError::BadInput("devices entries are objects".into()))?;
            let entry = Inputs(entry);
            let identity_key = IdentityPublicKey::from_bytes(&entry.array("identityKey")?)
                .map_err(|_| CaseError::BadInput("identityKey must be a valid key".into()))?;
            Ok(ListedDevice {
                device: device_id(&entry, "deviceId")?,
                identity_key,
            })
        })
        .collect()
}

/// What a verified (or freshly signed) list says.
fn list_outputs(list: &DeviceList) -> Map<String, Value> {
    let devices: Vec<Value> = list
        .devices()
        .iter()
        .map(|d| {
            serde_json::json!({
                "deviceId": d.device.get(),
                "identityKey": hex_string(d.identity_key.as_bytes()),
            })
        })
        .collect();
    [
        ("userId", hex_string(list.user().as_bytes())),
        ("userKey", hex_string(list.user_key().as_bytes())),
        ("version", Value::from(list.version())),
        ("devices", Value::Array(devices)),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v))
    .collect()
}

/// §13.2: sign a device list with the user key of a recovery secret.
pub(super) fn device_list_sign(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let user_key = UserSecretKey::from_recovery_secret(&input.array("userKeySeed")?);
    let list = DeviceList::sign(
        &user_key,
        user_id(input.bytes("userId")?)?,
        input.u64("version")?,
        listed_devices(&input)?,
    )
    .map_err(device_list_error)?;
    let mut out = list_outputs(&list);
    out.insert("deviceList".into(), hex_string(list.as_bytes()));
    Ok(out)
}

/// §13.2–13.3: decode and verify a device list for `expectedUserId`, against
/// the list held for that user (`heldList`, or null for a first list).
pub(super) fn device_list_verify(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let expected = user_id(input.bytes("expectedUserId")?)?;
    let held: Option<VerifiedDeviceList> = match input.optional_bytes("heldList")? {
        None => None,
        Some(bytes) => {
            let held = DeviceList::decode(&bytes)
                .and_then(|l| {
                    let user = l.user().clone();
                    l.verify(&user, None)
                })
                .map_err(|e| {
                    CaseError::BadInput(alloc::format!("heldList does not verify: {e}"))
                })?;
            if held.list().user() != &expected {
                return Err(CaseError::BadInput(
                    "heldList is not a list of expectedUserId".into(),
                ));
            }
            Some(held)
        }
    };
    let verified = DeviceList::decode(&input.bytes("deviceList")?)
        .and_then(|l| l.verify(&expected, held.as_ref()))
        .map_err(device_list_error)?;
    Ok(list_outputs(verified.list()))
}

/// Every error name the `envelope` step can give: the [`ReceiveError`]
/// variant a receiver gets, then the inner error's own name.
///
/// [`ReceiveError`]: letterseal::account::ReceiveError
const LAYERED_ERRORS: &[&str] = &[
    "Envelope.UnknownVersion",
    "Envelope.UnknownKind",
    "Envelope.Malformed",
    "DeviceList.Malformed",
    "DeviceList.DeviceCount",
    "DeviceList.UnsortedDevices",
    "DeviceList.InvalidDeviceKey",
    "DeviceList.DuplicateDeviceKey",
    "DeviceList.InvalidUserKey",
    "DeviceList.ZeroVersion",
    "Registration.Malformed",
    "Registration.UnsupportedVersion",
    "Registration.InvalidIdentityKey",
    "Group.Malformed",
    "Group.UnsupportedVersion",
    "Group.InvalidPolicy",
    "Group.InvalidRoster",
    "Group.InvalidRosterDelta",
    "Group.InvalidGroupId",
];

fn layered(layer: &str, name: &str) -> CaseError {
    let wanted = alloc::format!("{layer}.{name}");
    match LAYERED_ERRORS.iter().find(|e| **e == wanted) {
        Some(e) => CaseError::Protocol(e),
        None => CaseError::BadInput(alloc::format!("unlisted error {wanted}")),
    }
}

fn envelope_error(e: EnvelopeError) -> CaseError {
    layered("Envelope", e.name())
}

fn address_outputs(out: &mut Map<String, Value>, prefix: &str, a: &DeviceAddress) {
    out.insert(
        alloc::format!("{prefix}UserId"),
        hex_string(a.user.as_bytes()),
    );
    out.insert(
        alloc::format!("{prefix}DeviceId"),
        Value::from(a.device.get()),
    );
}

/// §13.1: decode an envelope, then its body strictly as its kind says, as far
/// as that needs no state: a 1:1 message's routing header, a group message's
/// group id, a distribution (§8.5), a key bundle (§5.1), a one-time key
/// (§5.5), a device list (§13.2, structure only: no signature check).
pub(super) fn envelope(input: &Map<String, Value>) -> StepOutput {
    let input = Inputs(input);
    let bytes = input.bytes("envelope")?;
    let envelope = Envelope::decode(&bytes).map_err(envelope_error)?;
    let body = envelope.body();
    let reencoded = Envelope::encode(envelope.kind(), body).map_err(envelope_error)?;
    if reencoded != bytes {
        return Err(CaseError::BadInput(
            "re-encoding differs from the input".into(),
        ));
    }
    let mut out = outputs([
        ("kind", Value::from(envelope.kind().code())),
        ("body", hex_string(body)),
    ])?;
    match envelope.kind() {
        EnvelopeKind::PairwiseMessage => {
            // §13.6: address(sender) ‖ address(recipient) ‖ lp8(to user) ‖ message.
            let mut r = Reader::new(body);
            let header = (|| -> Result<_, DecodeError> {
                Ok((
                    DeviceAddress::decode(&mut r)?,
                    DeviceAddress::decode(&mut r)?,
                    UserId::decode(&mut r)?,
                ))
            })();
            let (sender, recipient, to_user) =
                header.map_err(|e| envelope_error(EnvelopeError::Malformed(e)))?;
            address_outputs(&mut out, "sender", &sender);
            address_outputs(&mut out, "recipient", &recipient);
            out.insert("toUserId".into(), hex_string(to_user.as_bytes()));
            out.insert("message".into(), hex_string(r.rest()));
        }
        EnvelopeKind::GroupMessage => {
            // §13.7: lp8(group id) ‖ message.
            let mut r = Reader::new(body);
            let group =
                GroupId::decode(&mut r).map_err(|e| envelope_error(EnvelopeError::Malformed(e)))?;
            out.insert("groupId".into(), hex_string(group.as_bytes()));
            out.insert("message".into(), hex_string(r.rest()));
        }
        EnvelopeKind::Distribution => {
            let d =
                Distribution::decode(body).map_err(|e: GroupError| layered("Group", e.name()))?;
            out.insert("groupId".into(), hex_string(d.core().group_id().as_bytes()));
            out.insert("epoch".into(), Value::from(d.core().epoch()));
        }
        EnvelopeKind::KeyBundle => {
            let b = KeyBundle::decode(body)
                .map_err(|e: RegistrationError| layered("Registration", e.name()))?;
            address_outputs(&mut out, "owner", &b.content().owner);
        }
        EnvelopeKind::OneTimeKey => {
            let k = OneTimeKeyBundle::decode(body)
                .map_err(|e: RegistrationError| layered("Registration", e.name()))?;
            address_outputs(&mut out, "owner", &k.content().owner);
        }
        EnvelopeKind::DeviceList => {
            let l = DeviceList::decode(body).map_err(|e| layered("DeviceList", e.name()))?;
            out.insert("userId".into(), hex_string(l.user().as_bytes()));
            out.insert("version".into(), Value::from(l.version()));
        }
        other => {
            return Err(CaseError::BadInput(alloc::format!(
                "envelope kind {other:?} is newer than this checker"
            )));
        }
    }
    Ok(out)
}
