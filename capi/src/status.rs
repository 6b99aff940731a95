//! One status code per error the C caller can see: every variant of
//! letterseal's account, receive, relay and state errors maps to a named code
//! (`ls_status_name`), and the last error's full message is kept per thread
//! (`ls_last_error_message`).

use std::cell::RefCell;
use std::ffi::CStr;
use std::string::{String, ToString};

use letterseal::account::{AccountError, ReceiveError, RelayError};
use letterseal::state::StateError;

/// The result of every `ls_*` call. `LS_STATUS_OK` is 0; every other value
/// names the error (the Rust error variant of the same name).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LsStatus {
    /// Success.
    Ok = 0,
    /// A required pointer was null.
    NullPointer = 1,
    /// An argument is invalid: a user or group id of the wrong length, an
    /// unknown content type, a key that is not a valid public key.
    InvalidArgument = 2,
    /// A Rust panic was caught at the boundary (a bug; never expected).
    Panic = 3,
    /// Not an envelope: unknown version or kind, malformed.
    Envelope = 10,
    /// A device list refused or not signable.
    DeviceList = 11,
    /// This device is not in its user's new device list.
    OwnDeviceNotListed = 12,
    /// No device list is held for the user: fetch it.
    DeviceListNeeded = 13,
    /// The device is not in its user's device list.
    DeviceNotListed = 14,
    /// No key bundle is held for the device: fetch it.
    BundleNeeded = 15,
    /// A message for another device or user.
    NotForThisDevice = 16,
    /// Not in this group (or the relay does not know it).
    UnknownGroup = 17,
    /// A key bundle or one-time key refused.
    Registration = 18,
    /// A session could not take a bundle or key.
    Session = 19,
    /// A 1:1 message did not open (including a replay).
    Open = 20,
    /// A group message did not open (including a replay).
    GroupOpen = 21,
    /// A group distribution or change refused.
    Group = 22,
    /// A pairwise seal refused.
    Seal = 23,
    /// A group seal refused.
    GroupSeal = 24,
    /// No device to send to.
    NoRecipients = 25,
    /// Only the primary device can change the device list.
    NotPrimary = 26,
    /// The device is not listed.
    NotListed = 27,
    /// The device is already listed.
    AlreadyListed = 28,
    /// A device cannot remove itself.
    CannotRemoveSelf = 29,
    /// The recovery secret is not the user's key.
    WrongUserKey = 30,
    /// No live sealing key.
    NoSealingKey = 31,
    /// The group already exists.
    GroupExists = 32,
    /// The relay: the uploader is not listed.
    UploaderNotListed = 33,
    /// The relay: a roster device is not listed.
    MemberNotListed = 34,
    /// The relay: the message's sender is not the uploader.
    SenderMismatch = 35,
    /// The relay: the recipient is not listed.
    UnknownRecipient = 36,
    /// A state blob: truncated.
    StateTruncated = 40,
    /// A state blob: unknown container version.
    StateUnsupportedFormat = 41,
    /// A state blob of another kind.
    StateWrongKind = 42,
    /// A state blob of an unknown layout version.
    StateUnsupportedVersion = 43,
    /// A state blob sealed under another key.
    StateWrongKey = 44,
    /// A state blob altered.
    StateTampered = 45,
    /// A state blob older than the lowest generation accepted.
    StateRolledBack = 46,
    /// The generation counter is exhausted.
    StateGenerationExhausted = 47,
    /// A state too large to export.
    StateTooManyEntries = 48,
    /// A state blob whose payload is inconsistent.
    StateInvalid = 49,
}

impl LsStatus {
    /// Every status, in code order.
    pub const ALL: [Self; 41] = [
        Self::Ok,
        Self::NullPointer,
        Self::InvalidArgument,
        Self::Panic,
        Self::Envelope,
        Self::DeviceList,
        Self::OwnDeviceNotListed,
        Self::DeviceListNeeded,
        Self::DeviceNotListed,
        Self::BundleNeeded,
        Self::NotForThisDevice,
        Self::UnknownGroup,
        Self::Registration,
        Self::Session,
        Self::Open,
        Self::GroupOpen,
        Self::Group,
        Self::Seal,
        Self::GroupSeal,
        Self::NoRecipients,
        Self::NotPrimary,
        Self::NotListed,
        Self::AlreadyListed,
        Self::CannotRemoveSelf,
        Self::WrongUserKey,
        Self::NoSealingKey,
        Self::GroupExists,
        Self::UploaderNotListed,
        Self::MemberNotListed,
        Self::SenderMismatch,
        Self::UnknownRecipient,
        Self::StateTruncated,
        Self::StateUnsupportedFormat,
        Self::StateWrongKind,
        Self::StateUnsupportedVersion,
        Self::StateWrongKey,
        Self::StateTampered,
        Self::StateRolledBack,
        Self::StateGenerationExhausted,
        Self::StateTooManyEntries,
        Self::StateInvalid,
    ];

    /// The code's name, as in the header (`LS_STATUS_...` without the prefix).
    pub fn name(self) -> &'static str {
        self.c_name().to_str().unwrap_or_default()
    }

    /// [`Self::name`] as a C string.
    pub fn c_name(self) -> &'static CStr {
        match self {
            Self::Ok => c"OK",
            Self::NullPointer => c"NULL_POINTER",
            Self::InvalidArgument => c"INVALID_ARGUMENT",
            Self::Panic => c"PANIC",
            Self::Envelope => c"ENVELOPE",
            Self::DeviceList => c"DEVICE_LIST",
            Self::OwnDeviceNotListed => c"OWN_DEVICE_NOT_LISTED",
            Self::DeviceListNeeded => c"DEVICE_LIST_NEEDED",
            Self::DeviceNotListed => c"DEVICE_NOT_LISTED",
            Self::BundleNeeded => c"BUNDLE_NEEDED",
            Self::NotForThisDevice => c"NOT_FOR_THIS_DEVICE",
            Self::UnknownGroup => c"UNKNOWN_GROUP",
            Self::Registration => c"REGISTRATION",
            Self::Session => c"SESSION",
            Self::Open => c"OPEN",
            Self::GroupOpen => c"GROUP_OPEN",
            Self::Group => c"GROUP",
            Self::Seal => c"SEAL",
            Self::GroupSeal => c"GROUP_SEAL",
            Self::NoRecipients => c"NO_RECIPIENTS",
            Self::NotPrimary => c"NOT_PRIMARY",
            Self::NotListed => c"NOT_LISTED",
            Self::AlreadyListed => c"ALREADY_LISTED",
            Self::CannotRemoveSelf => c"CANNOT_REMOVE_SELF",
            Self::WrongUserKey => c"WRONG_USER_KEY",
            Self::NoSealingKey => c"NO_SEALING_KEY",
            Self::GroupExists => c"GROUP_EXISTS",
            Self::UploaderNotListed => c"UPLOADER_NOT_LISTED",
            Self::MemberNotListed => c"MEMBER_NOT_LISTED",
            Self::SenderMismatch => c"SENDER_MISMATCH",
            Self::UnknownRecipient => c"UNKNOWN_RECIPIENT",
            Self::StateTruncated => c"STATE_TRUNCATED",
            Self::StateUnsupportedFormat => c"STATE_UNSUPPORTED_FORMAT",
            Self::StateWrongKind => c"STATE_WRONG_KIND",
            Self::StateUnsupportedVersion => c"STATE_UNSUPPORTED_VERSION",
            Self::StateWrongKey => c"STATE_WRONG_KEY",
            Self::StateTampered => c"STATE_TAMPERED",
            Self::StateRolledBack => c"STATE_ROLLED_BACK",
            Self::StateGenerationExhausted => c"STATE_GENERATION_EXHAUSTED",
            Self::StateTooManyEntries => c"STATE_TOO_MANY_ENTRIES",
            Self::StateInvalid => c"STATE_INVALID",
        }
    }
}

/// An error on its way to C: its status and its message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: LsStatus,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: LsStatus, message: impl ToString) -> Self {
        Self {
            status,
            message: message.to_string(),
        }
    }
}

impl From<ReceiveError> for Failure {
    fn from(e: ReceiveError) -> Self {
        let status = match &e {
            ReceiveError::Envelope(_) => LsStatus::Envelope,
            ReceiveError::DeviceList(_) => LsStatus::DeviceList,
            ReceiveError::OwnDeviceNotListed => LsStatus::OwnDeviceNotListed,
            ReceiveError::DeviceListNeeded(_) => LsStatus::DeviceListNeeded,
            ReceiveError::DeviceNotListed(_) => LsStatus::DeviceNotListed,
            ReceiveError::BundleNeeded(_) => LsStatus::BundleNeeded,
            ReceiveError::NotForThisDevice => LsStatus::NotForThisDevice,
            ReceiveError::UnknownGroup(_) => LsStatus::UnknownGroup,
            ReceiveError::Registration(_) => LsStatus::Registration,
            ReceiveError::Session(_) => LsStatus::Session,
            ReceiveError::Open(_) => LsStatus::Open,
            ReceiveError::GroupOpen(_) => LsStatus::GroupOpen,
            ReceiveError::Group(_) => LsStatus::Group,
            _ => LsStatus::InvalidArgument,
        };
        Self::new(status, format_args!("{}: {e}", e.name()))
    }
}

impl From<AccountError> for Failure {
    fn from(e: AccountError) -> Self {
        let status = match &e {
            AccountError::DeviceListNeeded(_) => LsStatus::DeviceListNeeded,
            AccountError::BundleNeeded(_) => LsStatus::BundleNeeded,
            AccountError::NoRecipients => LsStatus::NoRecipients,
            AccountError::NotPrimary => LsStatus::NotPrimary,
            AccountError::NotListed => LsStatus::NotListed,
            AccountError::AlreadyListed => LsStatus::AlreadyListed,
            AccountError::CannotRemoveSelf => LsStatus::CannotRemoveSelf,
            AccountError::WrongUserKey => LsStatus::WrongUserKey,
            AccountError::NoSealingKey => LsStatus::NoSealingKey,
            AccountError::GroupExists => LsStatus::GroupExists,
            AccountError::UnknownGroup(_) => LsStatus::UnknownGroup,
            AccountError::DeviceList(_) => LsStatus::DeviceList,
            AccountError::Envelope(_) => LsStatus::Envelope,
            AccountError::Seal(_) => LsStatus::Seal,
            AccountError::Group(_) => LsStatus::Group,
            AccountError::GroupSeal(_) => LsStatus::GroupSeal,
            AccountError::Registration(_) => LsStatus::Registration,
            _ => LsStatus::InvalidArgument,
        };
        Self::new(status, format_args!("{}: {e}", e.name()))
    }
}

impl From<RelayError> for Failure {
    fn from(e: RelayError) -> Self {
        let status = match &e {
            RelayError::Envelope(_) => LsStatus::Envelope,
            RelayError::DeviceList(_) => LsStatus::DeviceList,
            RelayError::Registration(_) => LsStatus::Registration,
            RelayError::Group(_) => LsStatus::Group,
            RelayError::UploaderNotListed => LsStatus::UploaderNotListed,
            RelayError::MemberNotListed(_) => LsStatus::MemberNotListed,
            RelayError::SenderMismatch => LsStatus::SenderMismatch,
            RelayError::UnknownRecipient => LsStatus::UnknownRecipient,
            RelayError::UnknownGroup => LsStatus::UnknownGroup,
            _ => LsStatus::InvalidArgument,
        };
        Self::new(status, format_args!("{}: {e}", e.name()))
    }
}

impl From<StateError> for Failure {
    fn from(e: StateError) -> Self {
        let status = match &e {
            StateError::Truncated => LsStatus::StateTruncated,
            StateError::UnsupportedFormat(_) => LsStatus::StateUnsupportedFormat,
            StateError::WrongKind { .. } => LsStatus::StateWrongKind,
            StateError::UnsupportedStateVersion { .. } => LsStatus::StateUnsupportedVersion,
            StateError::WrongKey => LsStatus::StateWrongKey,
            StateError::Tampered => LsStatus::StateTampered,
            StateError::RolledBack { .. } => LsStatus::StateRolledBack,
            StateError::GenerationExhausted => LsStatus::StateGenerationExhausted,
            StateError::TooManyEntries { .. } => LsStatus::StateTooManyEntries,
            StateError::Invalid { .. } => LsStatus::StateInvalid,
            _ => LsStatus::InvalidArgument,
        };
        Self::new(status, format_args!("{}: {e}", e.name()))
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `failure` as this thread's last error and returns its status.
pub(crate) fn record(failure: Failure) -> LsStatus {
    LAST_ERROR.with(|last| *last.borrow_mut() = failure.message);
    failure.status
}

/// This thread's last error message ("" if none).
pub(crate) fn last_message() -> String {
    LAST_ERROR.with(|last| last.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use letterseal::account::{DeviceListError, EnvelopeError};
    use letterseal::ids::{DeviceAddress, DeviceId, UserId};

    #[test]
    fn every_error_maps_to_its_own_named_status() {
        let user = UserId::new("u").unwrap_or_else(|_| unreachable!());
        let device = DeviceAddress::new(user.clone(), DeviceId::new(1));
        let cases: Vec<(Failure, LsStatus)> = vec![
            (
                ReceiveError::OwnDeviceNotListed.into(),
                LsStatus::OwnDeviceNotListed,
            ),
            (
                ReceiveError::BundleNeeded(device.clone()).into(),
                LsStatus::BundleNeeded,
            ),
            (
                ReceiveError::Envelope(EnvelopeError::UnknownKind(9)).into(),
                LsStatus::Envelope,
            ),
            (
                ReceiveError::DeviceList(DeviceListError::Stale {
                    held: 2,
                    received: 1,
                })
                .into(),
                LsStatus::DeviceList,
            ),
            (
                AccountError::DeviceListNeeded(user).into(),
                LsStatus::DeviceListNeeded,
            ),
            (AccountError::NotPrimary.into(), LsStatus::NotPrimary),
            (RelayError::SenderMismatch.into(), LsStatus::SenderMismatch),
            (
                RelayError::MemberNotListed(device).into(),
                LsStatus::MemberNotListed,
            ),
            (StateError::WrongKey.into(), LsStatus::StateWrongKey),
            (StateError::Tampered.into(), LsStatus::StateTampered),
        ];
        for (failure, status) in cases {
            assert_eq!(failure.status, status);
            assert!(!failure.message.is_empty());
        }
        // Names are unique.
        let names: std::collections::BTreeSet<_> =
            (0..=49).filter_map(status_of).map(LsStatus::name).collect();
        assert_eq!(names.len(), (0..=49).filter_map(status_of).count());
    }

    fn status_of(code: i32) -> Option<LsStatus> {
        LsStatus::ALL.into_iter().find(|s| *s as i32 == code)
    }
}
