//! The wire envelope (SPEC.md §13.1): every byte string an account sends or
//! receives is `u8(version) ‖ u8(kind) ‖ lp32(body)`, decoded by one entry
//! point, [`Envelope::decode`].

use alloc::vec::Vec;
use core::fmt;

use crate::codec::{DecodeError, Reader, Writer};
use crate::group::GroupId;
use crate::ids::{DeviceAddress, UserId};

/// The envelope version this release writes and reads.
pub const ENVELOPE_VERSION: u8 = 1;

/// What an envelope carries (SPEC.md §13.1).
///
/// ```
/// use letterseal::account::EnvelopeKind;
///
/// let code = EnvelopeKind::KeyBundle.code(); // the kind byte on the wire
/// assert_eq!(EnvelopeKind::from_code(code), Some(EnvelopeKind::KeyBundle));
/// assert_eq!(EnvelopeKind::from_code(0), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum EnvelopeKind {
    /// A 1:1 message between two devices (§13.6).
    PairwiseMessage,
    /// A group message (§13.7).
    GroupMessage,
    /// A group epoch distribution: an upload or a member's view (§8.5).
    Distribution,
    /// A device's key bundle (§5.1).
    KeyBundle,
    /// A one-time prekey (§5.5).
    OneTimeKey,
    /// A user's device list (§13.2).
    DeviceList,
}

impl EnvelopeKind {
    /// The kind byte.
    pub fn code(self) -> u8 {
        match self {
            Self::PairwiseMessage => 1,
            Self::GroupMessage => 2,
            Self::Distribution => 3,
            Self::KeyBundle => 4,
            Self::OneTimeKey => 5,
            Self::DeviceList => 6,
        }
    }

    /// The kind of a kind byte, if it is one.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::PairwiseMessage,
            2 => Self::GroupMessage,
            3 => Self::Distribution,
            4 => Self::KeyBundle,
            5 => Self::OneTimeKey,
            6 => Self::DeviceList,
            _ => return None,
        })
    }
}

/// Why bytes are not an envelope. See the example on [`Envelope`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// An envelope version this release does not know.
    UnknownVersion(u8),
    /// A kind byte this release does not know.
    UnknownKind(u8),
    /// Truncated, trailing bytes, or a body whose inner header does not decode.
    Malformed(DecodeError),
    /// A body longer than `u32::MAX` bytes (encoding only).
    TooLong,
}

impl EnvelopeError {
    /// A stable name for logs and bindings.
    pub fn name(&self) -> &'static str {
        match self {
            Self::UnknownVersion(_) => "UnknownVersion",
            Self::UnknownKind(_) => "UnknownKind",
            Self::Malformed(_) => "Malformed",
            Self::TooLong => "TooLong",
        }
    }
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownVersion(v) => write!(f, "unknown envelope version {v}"),
            Self::UnknownKind(k) => write!(f, "unknown envelope kind {k}"),
            Self::Malformed(e) => write!(f, "malformed envelope: {e}"),
            Self::TooLong => f.write_str("envelope body too long"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EnvelopeError {}

impl From<DecodeError> for EnvelopeError {
    fn from(e: DecodeError) -> Self {
        Self::Malformed(e)
    }
}

/// A decoded envelope, borrowing its body from the input.
///
/// An [`Account`](super::Account) makes and reads envelopes itself; a server
/// with its own storage decodes each upload to route it by kind.
///
/// ```
/// use letterseal::account::{Envelope, EnvelopeError, EnvelopeKind};
///
/// let wire = Envelope::encode(EnvelopeKind::DeviceList, b"body")?;
/// let envelope = Envelope::decode(&wire)?;
/// assert_eq!(envelope.kind(), EnvelopeKind::DeviceList);
/// assert_eq!(envelope.body(), b"body");
/// let err = Envelope::decode(&[1, 99, 0, 0, 0, 0]).unwrap_err();
/// assert_eq!(err, EnvelopeError::UnknownKind(99));
/// assert_eq!(err.name(), "UnknownKind");
/// # Ok::<(), EnvelopeError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    kind: EnvelopeKind,
    body: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Decodes strictly: the version, a known kind, an lp32 body filling the
    /// rest of the input exactly. See the example on [`Envelope`].
    pub fn decode(bytes: &'a [u8]) -> Result<Self, EnvelopeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != ENVELOPE_VERSION {
            return Err(EnvelopeError::UnknownVersion(version));
        }
        let code = r.u8()?;
        let kind = EnvelopeKind::from_code(code).ok_or(EnvelopeError::UnknownKind(code))?;
        let body = r.bytes_u32()?;
        r.finish()?;
        Ok(Self { kind, body })
    }

    /// Encodes `body` as an envelope of `kind`.
    pub fn encode(kind: EnvelopeKind, body: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let mut w = Writer::with_capacity(6 + body.len());
        w.u8(ENVELOPE_VERSION);
        w.u8(kind.code());
        w.bytes_u32(body).map_err(|_| EnvelopeError::TooLong)?;
        Ok(w.into_bytes())
    }

    /// What it carries.
    pub fn kind(&self) -> EnvelopeKind {
        self.kind
    }

    /// The body (its layout depends on the kind).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

/// The routing header of a 1:1 message (SPEC.md §13.6):
/// `address(sender) ‖ address(recipient) ‖ lp8(to user)`. It is bound into
/// the message as associated data, so changing any field makes it fail to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PairwiseHeader {
    pub(crate) sender: DeviceAddress,
    pub(crate) recipient: DeviceAddress,
    /// The user the message was written to (the recipient's user, or for a
    /// copy to the sender's own device, the peer user of the conversation).
    pub(crate) to_user: UserId,
}

impl PairwiseHeader {
    pub(crate) fn encode(&self, w: &mut Writer) {
        self.sender.encode(w);
        self.recipient.encode(w);
        self.to_user.encode(w);
    }

    /// Splits a pairwise-message body into its header and the sealed message.
    pub(crate) fn split(body: &[u8]) -> Result<(Self, &[u8]), DecodeError> {
        let mut r = Reader::new(body);
        let sender = DeviceAddress::decode(&mut r)?;
        let recipient = DeviceAddress::decode(&mut r)?;
        let to_user = UserId::decode(&mut r)?;
        Ok((
            Self {
                sender,
                recipient,
                to_user,
            },
            r.rest(),
        ))
    }

    /// `u8(envelope version) ‖ u8(kind) ‖ header`: the associated data.
    pub(crate) fn associated_data(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(ENVELOPE_VERSION);
        w.u8(EnvelopeKind::PairwiseMessage.code());
        self.encode(&mut w);
        w.into_bytes()
    }
}

/// `lp8(group id)`, the routing header of a group message (SPEC.md §13.7);
/// its associated data is `u8(envelope version) ‖ u8(kind) ‖ lp8(group id)`.
pub(crate) fn group_associated_data(group: &GroupId) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(ENVELOPE_VERSION);
    w.u8(EnvelopeKind::GroupMessage.code());
    group.encode(&mut w);
    w.into_bytes()
}

/// Splits a group-message body into the group id and the sealed message.
pub(crate) fn split_group_body(body: &[u8]) -> Result<(GroupId, &[u8]), DecodeError> {
    let mut r = Reader::new(body);
    let group = GroupId::decode(&mut r)?;
    Ok((group, r.rest()))
}
