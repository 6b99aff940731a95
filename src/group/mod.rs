//! LS3 groups (SPEC.md §8): membership-bound epochs distributed over pairwise
//! sessions, and per-sender signed group messages.
//!
//! Closes the published weaknesses of Letter Sealing groups: every epoch
//! secret is bound to its roster (group id, epoch and roster hash enter every
//! wrap and every key), any membership change is a new epoch (removed members
//! cannot read on, new members cannot read back), distributions are signed by
//! a member and checked by everyone, and every group message is signed by its
//! sender's identity key, so holding the epoch secret does not let a member
//! speak for another.
//!
//! ```
//! use std::collections::BTreeMap;
//! use letterseal::device::DeviceKeys;
//! use letterseal::group::{GracePolicy, Group, GroupId, GroupOpenError};
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::pairwise::{ContentType, Session};
//! use letterseal::registration::{NoDirectory, RegistrationPolicy};
//! use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
//! let now = Timestamp::from_unix_seconds(1_800_000_000);
//! let mut make = |name: &str| {
//!     let mut keys = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1)));
//!     let bundle = keys.add_sealing_key(&mut rng, now, 86_400);
//!     let owner = keys.address().clone().into();
//!     (keys, bundle.verify(&owner, &RegistrationPolicy::default(), now, None, &NoDirectory).unwrap())
//! };
//! let (alice, alice_b) = make("alice");
//! let (bob, bob_b) = make("bob");
//! let id = GroupId::new("book club").unwrap();
//!
//! // Alice creates epoch 1 for {Alice, Bob}.
//! let mut at_alice = Group::new(id.clone(), alice.address().clone(), GracePolicy::default());
//! let mut alice_sessions = BTreeMap::new();
//! let (distribution, _) = at_alice
//!     .distribute(&mut rng, &alice, &[alice_b.clone(), bob_b], &mut alice_sessions, now)
//!     .unwrap();
//!
//! // The server checks it without secrets and fans out Bob's part.
//! distribution.verify_for_server(None).unwrap();
//! let for_bob = distribution.for_member(bob.address()).unwrap();
//!
//! // Bob processes it over his pairwise session with Alice.
//! let mut bob_with_alice = Session::new(&bob, &alice_b).unwrap();
//! let mut at_bob = Group::new(id, bob.address().clone(), GracePolicy::default());
//! let change = at_bob.process(&bob, &for_bob, &mut bob_with_alice, now).unwrap();
//! assert_eq!(change.epoch, 1);
//!
//! let sealed = at_alice.seal(&mut rng, &alice, ContentType::Text, b"hello group", b"").unwrap();
//! let opened = at_bob.open(&sealed, b"", now).unwrap();
//! assert_eq!(opened.sender, *alice.address());
//! assert_eq!(at_bob.open(&sealed, b"", now).unwrap_err(), GroupOpenError::Replay { counter: 0 });
//! ```

mod distribution;
mod message;
mod roster;
mod state;

use core::fmt;

pub use distribution::{Distribution, DistributionCore, wrap_associated_data, wrap_digest};
pub use message::{EpochSecret, GroupHeader, SenderChain, sender_chain};
pub use roster::{GroupId, MAX_GROUP_ID_LEN, Member, Roster, RosterHash};
pub use state::{EpochChange, GROUP_STATE_VERSION, GracePolicy, Group, GroupOpened};

use crate::codec::DecodeError;
use crate::pairwise::{OpenError, SealError, SessionError};

/// Message kind byte of group messages.
pub const KIND_GROUP_MESSAGE: u8 = 2;
/// Message kind byte of distributions (and of wrap associated data).
pub const KIND_DISTRIBUTION: u8 = 3;

/// Why a roster or distribution was refused. Each check of SPEC.md §8.3–8.4
/// has its own variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupError {
    /// A group id must be 1 to 255 bytes.
    InvalidGroupId,
    /// Not a well-formed distribution.
    Malformed(DecodeError),
    /// An LS3 version this release does not know.
    UnsupportedVersion(u8),
    /// The roster is empty, unordered, has duplicates, or a bad key or key id.
    InvalidRoster,
    /// The roster does not hash to the signed roster hash.
    RosterHashMismatch,
    /// The distributor is not in the roster (a non-member signed it).
    DistributorNotMember,
    /// The epoch is not greater than the previous epoch it names.
    InvalidEpoch,
    /// The distributor's signature does not verify.
    BadSignature,
    /// The wrap list does not name exactly the members other than the distributor.
    WrapListMismatch,
    /// A wrap does not match its signed digest (for example, moved to another member).
    WrapMismatch,
    /// The epoch is not newer than the current one (rollback or replay).
    StaleEpoch,
    /// The distribution is for another group.
    WrongGroup,
    /// The session given is not with the distributor (address or identity key differ).
    DistributorMismatch,
    /// This device is not in the new roster (or with other keys).
    NotAMember,
    /// No wrap for this device was delivered.
    MissingWrap,
    /// The wrap did not open over the pairwise session.
    WrapRejected(OpenError),
    /// The wrap opened but does not carry a 32-byte group key.
    InvalidWrap,
    /// The device passed in is not this group state's device.
    WrongDevice,
    /// A pairwise session could not be created or updated for a member.
    Session(SessionError),
    /// A wrap could not be sealed.
    Seal(SealError),
}

impl GroupError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::InvalidGroupId => "InvalidGroupId",
            Self::Malformed(_) => "Malformed",
            Self::UnsupportedVersion(_) => "UnsupportedVersion",
            Self::InvalidRoster => "InvalidRoster",
            Self::RosterHashMismatch => "RosterHashMismatch",
            Self::DistributorNotMember => "DistributorNotMember",
            Self::InvalidEpoch => "InvalidEpoch",
            Self::BadSignature => "BadSignature",
            Self::WrapListMismatch => "WrapListMismatch",
            Self::WrapMismatch => "WrapMismatch",
            Self::StaleEpoch => "StaleEpoch",
            Self::WrongGroup => "WrongGroup",
            Self::DistributorMismatch => "DistributorMismatch",
            Self::NotAMember => "NotAMember",
            Self::MissingWrap => "MissingWrap",
            Self::WrapRejected(_) => "WrapRejected",
            Self::InvalidWrap => "InvalidWrap",
            Self::WrongDevice => "WrongDevice",
            Self::Session(_) => "Session",
            Self::Seal(_) => "Seal",
        }
    }
}

impl From<DecodeError> for GroupError {
    fn from(e: DecodeError) -> Self {
        Self::Malformed(e)
    }
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed distribution: {e}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported version {v}"),
            Self::WrapRejected(e) => write!(f, "wrap rejected: {e}"),
            Self::Session(e) => write!(f, "session: {e}"),
            Self::Seal(e) => write!(f, "sealing a wrap: {e}"),
            Self::InvalidGroupId => f.write_str("group id must be 1 to 255 bytes"),
            Self::InvalidRoster => f.write_str("roster is empty, unordered, or has a bad member"),
            Self::RosterHashMismatch => f.write_str("roster does not match the signed roster hash"),
            Self::DistributorNotMember => f.write_str("distributor is not a member"),
            Self::InvalidEpoch => f.write_str("epoch is not after the previous epoch"),
            Self::BadSignature => f.write_str("distributor signature does not verify"),
            Self::WrapListMismatch => f.write_str("wraps do not match the other members"),
            Self::WrapMismatch => f.write_str("wrap does not match its signed digest"),
            Self::StaleEpoch => f.write_str("epoch is not newer than the current one"),
            Self::WrongGroup => f.write_str("distribution is for another group"),
            Self::DistributorMismatch => f.write_str("session is not with the distributor"),
            Self::NotAMember => f.write_str("this device is not in the roster"),
            Self::MissingWrap => f.write_str("no wrap for this device"),
            Self::InvalidWrap => f.write_str("wrap carries no 32-byte group key"),
            Self::WrongDevice => f.write_str("device does not belong to this group state"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for GroupError {}

/// Why a group message could not be sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupSealError {
    /// No epoch yet: distribute or process one first.
    NoEpoch,
    /// This device is not in the current roster.
    NotAMember,
    /// The device passed in is not this group state's device.
    WrongDevice,
    /// The epoch's counter is exhausted; start a new epoch.
    CounterExhausted,
}

impl fmt::Display for GroupSealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoEpoch => "no epoch yet",
            Self::NotAMember => "not a member of the current epoch",
            Self::WrongDevice => "device does not belong to this group state",
            Self::CounterExhausted => "epoch counter exhausted",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for GroupSealError {}

/// Why a group message was not opened. A failure releases no plaintext and
/// changes no state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupOpenError {
    /// Not a well-formed group message.
    Malformed(DecodeError),
    /// An LS3 version this release does not know.
    UnsupportedVersion(u8),
    /// The message is for another group.
    WrongGroup,
    /// This device has no secret for the epoch (never had it, or it was deleted).
    UnknownEpoch(u64),
    /// The epoch's grace period is over.
    EpochExpired(u64),
    /// The sender is not in that epoch's roster.
    UnknownSender,
    /// The message was sent by this device.
    OwnMessage,
    /// The sender's signature does not verify (for example, another member forged it).
    BadSignature,
    /// This sender's counter was already accepted in this epoch.
    Replay {
        /// The repeated counter.
        counter: u64,
    },
    /// The counter is too far behind this sender's highest.
    TooOld {
        /// The stale counter.
        counter: u64,
    },
    /// The key commitment does not match.
    CommitmentMismatch,
    /// The AEAD tag does not verify.
    AuthenticationFailed,
}

impl GroupOpenError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "Malformed",
            Self::UnsupportedVersion(_) => "UnsupportedVersion",
            Self::WrongGroup => "WrongGroup",
            Self::UnknownEpoch(_) => "UnknownEpoch",
            Self::EpochExpired(_) => "EpochExpired",
            Self::UnknownSender => "UnknownSender",
            Self::OwnMessage => "OwnMessage",
            Self::BadSignature => "BadSignature",
            Self::Replay { .. } => "Replay",
            Self::TooOld { .. } => "TooOld",
            Self::CommitmentMismatch => "CommitmentMismatch",
            Self::AuthenticationFailed => "AuthenticationFailed",
        }
    }
}

impl fmt::Display for GroupOpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed group message: {e}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported version {v}"),
            Self::UnknownEpoch(e) => write!(f, "no secret for epoch {e}"),
            Self::EpochExpired(e) => write!(f, "epoch {e} is past its grace period"),
            Self::Replay { counter } => write!(f, "replay of counter {counter}"),
            Self::TooOld { counter } => write!(f, "counter {counter} is outside the window"),
            Self::WrongGroup => f.write_str("message is for another group"),
            Self::UnknownSender => f.write_str("sender is not in the epoch's roster"),
            Self::OwnMessage => f.write_str("message was sent by this device"),
            Self::BadSignature => f.write_str("sender signature does not verify"),
            Self::CommitmentMismatch => f.write_str("key commitment mismatch"),
            Self::AuthenticationFailed => f.write_str("authentication failed"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for GroupOpenError {}
