//! Every variant of the core's account-level errors maps to a named kind in
//! the right category, and the panic guard turns a panic into `Panic`.

use std::collections::BTreeSet;

use letterseal::account::{AccountError, DeviceListError, EnvelopeError, ReceiveError, RelayError};
use letterseal::group::{GroupError, GroupId, GroupOpenError, GroupSealError};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::{OpenError, SealError, SessionError};
use letterseal::registration::RegistrationError;
use letterseal::state::{StateError, StateKind};

use super::{LettersealError, guard};

fn address() -> DeviceAddress {
    DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1))
}

/// Checks each error's category and kind, and that the kinds of one
/// category are distinct and exactly `expected`.
fn check(category: &str, errors: Vec<LettersealError>, expected: &[&str]) {
    let mut seen = BTreeSet::new();
    for (error, name) in errors.iter().zip(expected) {
        assert_eq!(error.category(), category, "{error}");
        assert_eq!(error.kind(), *name, "{error}");
        assert!(!error.to_string().is_empty());
        assert!(seen.insert(error.kind().to_owned()), "kind {name} twice");
    }
    assert_eq!(errors.len(), expected.len());
}

#[test]
fn every_account_error_has_its_kind() {
    let group = GroupId::new("g").unwrap();
    let errors = vec![
        AccountError::DeviceListNeeded(UserId::new("bob").unwrap()),
        AccountError::BundleNeeded(address()),
        AccountError::NoRecipients,
        AccountError::NotPrimary,
        AccountError::NotListed,
        AccountError::AlreadyListed,
        AccountError::CannotRemoveSelf,
        AccountError::WrongUserKey,
        AccountError::NoSealingKey,
        AccountError::GroupExists,
        AccountError::UnknownGroup(group),
        AccountError::DeviceList(DeviceListError::DeviceCount),
        AccountError::Envelope(EnvelopeError::TooLong),
        AccountError::Seal(SealError::NoSealingKey),
        AccountError::Group(GroupError::InvalidGroupId),
        AccountError::GroupSeal(GroupSealError::NoEpoch),
        AccountError::Registration(RegistrationError::BadSignature),
    ];
    check(
        "Account",
        errors.into_iter().map(LettersealError::from).collect(),
        &[
            "DeviceListNeeded",
            "BundleNeeded",
            "NoRecipients",
            "NotPrimary",
            "NotListed",
            "AlreadyListed",
            "CannotRemoveSelf",
            "WrongUserKey",
            "NoSealingKey",
            "GroupExists",
            "UnknownGroup",
            "DeviceList",
            "Envelope",
            "Seal",
            "Group",
            "GroupSeal",
            "Registration",
        ],
    );
}

#[test]
fn every_receive_error_has_its_kind() {
    let errors = vec![
        ReceiveError::Envelope(EnvelopeError::UnknownVersion(9)),
        ReceiveError::DeviceList(DeviceListError::InvalidUserKey),
        ReceiveError::OwnDeviceNotListed,
        ReceiveError::DeviceListNeeded(UserId::new("bob").unwrap()),
        ReceiveError::DeviceNotListed(address()),
        ReceiveError::BundleNeeded(address()),
        ReceiveError::NotForThisDevice,
        ReceiveError::UnknownGroup(GroupId::new("g").unwrap()),
        ReceiveError::Registration(RegistrationError::OwnerMismatch),
        ReceiveError::Session(SessionError::SelfSession),
        ReceiveError::Open(OpenError::Reflected),
        ReceiveError::GroupOpen(GroupOpenError::WrongGroup),
        ReceiveError::Group(GroupError::InvalidRoster),
    ];
    check(
        "Receive",
        errors.into_iter().map(LettersealError::from).collect(),
        &[
            "Envelope",
            "DeviceList",
            "OwnDeviceNotListed",
            "DeviceListNeeded",
            "DeviceNotListed",
            "BundleNeeded",
            "NotForThisDevice",
            "UnknownGroup",
            "Registration",
            "Session",
            "Open",
            "GroupOpen",
            "Group",
        ],
    );
}

#[test]
fn every_relay_error_has_its_kind() {
    let errors = vec![
        RelayError::Envelope(EnvelopeError::UnknownKind(200)),
        RelayError::DeviceList(DeviceListError::UnsortedDevices),
        RelayError::Registration(RegistrationError::InvalidIdentityKey),
        RelayError::Group(GroupError::InvalidRosterDelta),
        RelayError::UploaderNotListed,
        RelayError::MemberNotListed(address()),
        RelayError::SenderMismatch,
        RelayError::UnknownRecipient,
        RelayError::UnknownGroup,
    ];
    check(
        "Relay",
        errors.into_iter().map(LettersealError::from).collect(),
        &[
            "Envelope",
            "DeviceList",
            "Registration",
            "Group",
            "UploaderNotListed",
            "MemberNotListed",
            "SenderMismatch",
            "UnknownRecipient",
            "UnknownGroup",
        ],
    );
}

#[test]
fn every_state_error_has_its_kind() {
    let errors = vec![
        StateError::Truncated,
        StateError::UnsupportedFormat(7),
        StateError::WrongKind {
            expected: StateKind::Account,
            found: 1,
        },
        StateError::UnsupportedStateVersion {
            kind: StateKind::Account,
            version: 99,
        },
        StateError::WrongKey,
        StateError::Tampered,
        StateError::RolledBack {
            generation: 1,
            minimum: 2,
        },
        StateError::GenerationExhausted,
        StateError::Invalid { field: "account" },
    ];
    check(
        "State",
        errors.into_iter().map(LettersealError::from).collect(),
        &[
            "Truncated",
            "UnsupportedFormat",
            "WrongKind",
            "UnsupportedStateVersion",
            "WrongKey",
            "Tampered",
            "RolledBack",
            "GenerationExhausted",
            "Invalid",
        ],
    );
}

#[test]
fn the_message_is_the_core_display_text() {
    let e = LettersealError::from(StateError::RolledBack {
        generation: 3,
        minimum: 5,
    });
    assert_eq!(
        e,
        LettersealError::State {
            kind: "RolledBack".into(),
            message: "state blob generation 3 is older than the accepted 5".into(),
        }
    );
}

#[test]
fn invalid_inputs_are_named() {
    use crate::types::{group_id, identity_key, storage_key, user_id};
    let kind = |e: LettersealError| (e.category(), e.kind().to_owned());
    let invalid = |k: &str| ("InvalidInput", k.to_owned());
    assert_eq!(kind(user_id(b"").unwrap_err()), invalid("InvalidUserId"));
    assert_eq!(
        kind(user_id(&[b'a'; 256]).unwrap_err()),
        invalid("InvalidUserId")
    );
    assert!(user_id(&[b'a'; 255]).is_ok());
    assert_eq!(kind(group_id(b"").unwrap_err()), invalid("InvalidGroupId"));
    for len in [0, 31, 33, 64] {
        assert_eq!(
            kind(storage_key(&vec![0; len]).unwrap_err()),
            invalid("WrongKeyLength")
        );
        assert_eq!(
            kind(identity_key(&vec![0; len]).unwrap_err()),
            invalid("WrongKeyLength")
        );
    }
    assert!(storage_key(&[0; 32]).is_ok());
    // 32 bytes that are not a valid Ed25519 point (y = 2 is not on the curve).
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2;
    assert_eq!(
        kind(identity_key(&not_a_point).unwrap_err()),
        invalid("InvalidIdentityKey")
    );
}

#[test]
fn a_panic_becomes_the_panic_variant() {
    let text: Result<(), _> = guard(|| panic!("boom {}", 7));
    assert_eq!(
        text,
        Err(LettersealError::Panic {
            message: "boom 7".into()
        })
    );
    let literal: Result<(), _> = guard(|| panic!("static"));
    assert_eq!(literal.unwrap_err().kind(), "Panic");
    let other: Result<(), _> = guard(|| std::panic::panic_any(42_u8));
    assert_eq!(other.unwrap_err().category(), "Panic");
    assert_eq!(guard(|| Ok(5)), Ok(5));
}
