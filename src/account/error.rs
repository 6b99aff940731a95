//! The account's errors: one for calls that make something, one for
//! [`Account::receive`](super::Account::receive). Each wraps the lower
//! layer's typed error where one applies, and names what the application
//! must fetch when something is missing.

use core::fmt;

use super::{DeviceListError, EnvelopeError};
use crate::group::{GroupError, GroupId, GroupOpenError, GroupSealError};
use crate::ids::{DeviceAddress, UserId};
use crate::pairwise::{OpenError, SealError, SessionError};
use crate::registration::RegistrationError;

/// Why an account call that makes something (a message, a group change, a
/// device list, an upload) was refused. Nothing changed.
///
/// ```
/// use letterseal::account::{Account, AccountError};
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::pairwise::ContentType;
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
/// let now = Timestamp::from_unix_seconds(1_800_000_000);
/// let phone = DeviceAddress::new(UserId::new("alice")?, DeviceId::new(1));
/// let mut alice = Account::create_primary(&mut rng, now, phone);
/// let carol = UserId::new("carol")?;
/// // Nothing is known about carol yet: the error says what to fetch.
/// let err = alice.seal_to_user(&mut rng, now, &carol, ContentType::Text, b"hi").unwrap_err();
/// assert_eq!(err, AccountError::DeviceListNeeded(carol));
/// assert_eq!(err.name(), "DeviceListNeeded");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountError {
    /// No verified device list is held for this user: fetch it from the server.
    DeviceListNeeded(UserId),
    /// No key bundle is held for this listed device: fetch it from the server.
    BundleNeeded(DeviceAddress),
    /// Nobody to send to: the user lists no device other than this one.
    NoRecipients,
    /// Only the primary device (holding the user key) can change the device list.
    NotPrimary,
    /// This device (or the device named) is not in its user's device list.
    NotListed,
    /// The device is already listed.
    AlreadyListed,
    /// A device cannot remove itself, nor leave its own user out of a group.
    CannotRemoveSelf,
    /// The recovery secret is not the user key of the held device list.
    WrongUserKey,
    /// This device has no live sealing key.
    NoSealingKey,
    /// A group with this id already exists here.
    GroupExists,
    /// This account is not in that group.
    UnknownGroup(GroupId),
    /// The device list could not be made.
    DeviceList(DeviceListError),
    /// An envelope could not be encoded.
    Envelope(EnvelopeError),
    /// A pairwise seal was refused.
    Seal(SealError),
    /// A group change was refused.
    Group(GroupError),
    /// A group seal was refused.
    GroupSeal(GroupSealError),
    /// This device's own bundle does not verify.
    Registration(RegistrationError),
}

/// Why [`Account::receive`](super::Account::receive) refused an envelope.
/// Nothing changed and no plaintext was released.
///
/// A message can arrive before what it needs: fetch what the error names,
/// then receive the same envelope again.
///
/// ```
/// # use letterseal::account::{Account, Relay};
/// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// # use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
/// # let now = Timestamp::from_unix_seconds(1_800_000_000);
/// # let mut relay = Relay::new();
/// # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
/// # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
/// # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
/// # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
/// # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
/// # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
/// # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
/// # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
/// use letterseal::account::ReceiveError;
/// use letterseal::pairwise::ContentType;
///
/// // bob knows alice, but alice has not fetched bob yet.
/// let out = bob.seal_to_user(&mut rng, now, &alice_id, ContentType::Text, b"hi")?;
/// let envelope = &out[0].envelope;
/// let err = alice.receive(now, envelope).unwrap_err();
/// assert_eq!(err, ReceiveError::DeviceListNeeded(bob_id.clone()));
/// assert_eq!(err.name(), "DeviceListNeeded");
/// for e in relay.fetch_user(&bob_id) {
///     alice.receive(now, &e)?;
/// }
/// assert_eq!(alice.receive(now, envelope)?.plaintext(), Some(&b"hi"[..]));
/// // Bytes that are not an envelope are refused the same way.
/// assert!(matches!(alice.receive(now, b"junk"), Err(ReceiveError::Envelope(_))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiveError {
    /// Not an envelope: unknown version or kind, or malformed.
    Envelope(EnvelopeError),
    /// A device list refused (forged, wrong user, new user key, stale: a rollback).
    DeviceList(DeviceListError),
    /// This account's user's new device list leaves this device out (or
    /// lists another key for it): this device no longer speaks for the user.
    OwnDeviceNotListed,
    /// No verified device list is held for this user: fetch it, then retry.
    DeviceListNeeded(UserId),
    /// The device is not in its user's verified device list (or under
    /// another identity key). The list held may be stale (the device was
    /// added since): fetch the user's list, then retry.
    DeviceNotListed(DeviceAddress),
    /// No session with this device yet: fetch its bundle, then retry.
    BundleNeeded(DeviceAddress),
    /// A message addressed to another device or user.
    NotForThisDevice,
    /// This account is not in the group.
    UnknownGroup(GroupId),
    /// A key bundle or one-time key refused.
    Registration(RegistrationError),
    /// A bundle or one-time key the session could not take.
    Session(SessionError),
    /// A 1:1 message that does not open (including a replay).
    Open(OpenError),
    /// A group message that does not open (including a replay).
    GroupOpen(GroupOpenError),
    /// A distribution refused.
    Group(GroupError),
}

macro_rules! from_errors {
    ($target:ident: $($variant:ident($source:ty)),* $(,)?) => {
        $(impl From<$source> for $target {
            fn from(e: $source) -> Self {
                Self::$variant(e)
            }
        })*
    };
}

from_errors!(AccountError: DeviceList(DeviceListError), Envelope(EnvelopeError), Seal(SealError),
    Group(GroupError), GroupSeal(GroupSealError), Registration(RegistrationError));
from_errors!(ReceiveError: Envelope(EnvelopeError), DeviceList(DeviceListError),
    Registration(RegistrationError), Session(SessionError), Open(OpenError),
    GroupOpen(GroupOpenError), Group(GroupError));

impl AccountError {
    /// A stable name for logs and bindings.
    pub fn name(&self) -> &'static str {
        match self {
            Self::DeviceListNeeded(_) => "DeviceListNeeded",
            Self::BundleNeeded(_) => "BundleNeeded",
            Self::NoRecipients => "NoRecipients",
            Self::NotPrimary => "NotPrimary",
            Self::NotListed => "NotListed",
            Self::AlreadyListed => "AlreadyListed",
            Self::CannotRemoveSelf => "CannotRemoveSelf",
            Self::WrongUserKey => "WrongUserKey",
            Self::NoSealingKey => "NoSealingKey",
            Self::GroupExists => "GroupExists",
            Self::UnknownGroup(_) => "UnknownGroup",
            Self::DeviceList(_) => "DeviceList",
            Self::Envelope(_) => "Envelope",
            Self::Seal(_) => "Seal",
            Self::Group(_) => "Group",
            Self::GroupSeal(_) => "GroupSeal",
            Self::Registration(_) => "Registration",
        }
    }
}

impl ReceiveError {
    /// A stable name for logs and bindings.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Envelope(_) => "Envelope",
            Self::DeviceList(_) => "DeviceList",
            Self::OwnDeviceNotListed => "OwnDeviceNotListed",
            Self::DeviceListNeeded(_) => "DeviceListNeeded",
            Self::DeviceNotListed(_) => "DeviceNotListed",
            Self::BundleNeeded(_) => "BundleNeeded",
            Self::NotForThisDevice => "NotForThisDevice",
            Self::UnknownGroup(_) => "UnknownGroup",
            Self::Registration(_) => "Registration",
            Self::Session(_) => "Session",
            Self::Open(_) => "Open",
            Self::GroupOpen(_) => "GroupOpen",
            Self::Group(_) => "Group",
        }
    }
}

impl fmt::Display for AccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DeviceListNeeded(user) => write!(f, "device list of {user} needed"),
            Self::BundleNeeded(device) => write!(f, "key bundle of {device} needed"),
            Self::NoRecipients => f.write_str("no device to send to"),
            Self::NotPrimary => f.write_str("only the primary device can change the device list"),
            Self::NotListed => f.write_str("device not in the device list"),
            Self::AlreadyListed => f.write_str("device already listed"),
            Self::CannotRemoveSelf => f.write_str("a device cannot remove itself"),
            Self::WrongUserKey => f.write_str("recovery secret of another user key"),
            Self::NoSealingKey => f.write_str("no live sealing key"),
            Self::GroupExists => f.write_str("group already exists"),
            Self::UnknownGroup(_) => f.write_str("not in this group"),
            Self::DeviceList(e) => write!(f, "device list: {e}"),
            Self::Envelope(e) => write!(f, "envelope: {e}"),
            Self::Seal(e) => write!(f, "seal: {e}"),
            Self::Group(e) => write!(f, "group: {e}"),
            Self::GroupSeal(e) => write!(f, "group seal: {e}"),
            Self::Registration(e) => write!(f, "own bundle: {e}"),
        }
    }
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Envelope(e) => write!(f, "envelope: {e}"),
            Self::DeviceList(e) => write!(f, "device list: {e}"),
            Self::OwnDeviceNotListed => f.write_str("this device is not in its user's device list"),
            Self::DeviceListNeeded(user) => write!(f, "device list of {user} needed"),
            Self::DeviceNotListed(device) => write!(f, "{device} is not in its user's device list"),
            Self::BundleNeeded(device) => write!(f, "key bundle of {device} needed"),
            Self::NotForThisDevice => f.write_str("addressed to another device"),
            Self::UnknownGroup(_) => f.write_str("not in this group"),
            Self::Registration(e) => write!(f, "key bundle: {e}"),
            Self::Session(e) => write!(f, "session: {e}"),
            Self::Open(e) => write!(f, "message: {e}"),
            Self::GroupOpen(e) => write!(f, "group message: {e}"),
            Self::Group(e) => write!(f, "distribution: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AccountError {}

#[cfg(feature = "std")]
impl std::error::Error for ReceiveError {}
