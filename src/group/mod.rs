//! LS3 groups (SPEC.md §8): epochs distributed over ratcheted pairwise sessions,
//! agreed on by transcript and confirmation, ordered by the server, and
//! per-sender signed group messages.
//!
//! Closes the published weaknesses of Letter Sealing groups and holds as a
//! state machine under concurrent and hostile members: every epoch secret is
//! bound to its roster and history (the signed core carries the previous
//! transcript, the roster hash and a confirmation of the secret), epochs
//! advance by exactly one (members and the server refuse jumps and replays),
//! a change is *pending* until the server accepts it (concurrent changes
//! resolve without losing anyone), a roster-change policy (admins or any
//! member) is signed and enforced, removed members are refused for good, and
//! every group message is signed by its sender.
//!
//! ```
//! use std::collections::BTreeMap;
//! use letterseal::device::DeviceKeys;
//! use letterseal::group::{GracePolicy, Group, GroupId, GroupOpenError, Processed};
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
//! let (mut bob, bob_b) = make("bob");
//! let id = GroupId::new("book club").unwrap();
//!
//! // Alice proposes epoch 1 for {Alice, Bob} (any member may change the roster).
//! let mut at_alice = Group::new(id.clone(), alice.address().clone(), GracePolicy::default());
//! let mut alice_sessions = BTreeMap::new();
//! let proposal = at_alice
//!     .propose(&mut rng, &alice, &[alice_b.clone(), bob_b], None, &mut alice_sessions, now)
//!     .unwrap();
//!
//! // The server checks it without secrets, stores its record and fans out views.
//! let verified = proposal.upload.verify_for_server(None, alice.address()).unwrap();
//! let _record = verified.record();
//! let for_bob = verified.view_for(bob.address()).unwrap();
//! at_alice.commit(now).unwrap(); // the server accepted the upload
//!
//! // Bob processes his view with his pairwise sessions.
//! let mut bob_sessions = BTreeMap::new();
//! bob_sessions.insert(alice.address().clone(), Session::new(&bob, &alice_b).unwrap());
//! let mut at_bob = Group::new(id, bob.address().clone(), GracePolicy::default());
//! let done = at_bob.process(&mut bob, &for_bob, &mut bob_sessions, now).unwrap();
//! assert!(matches!(done, Processed::Installed { discarded_proposal: false, .. }));
//! assert_eq!(at_bob.transcript(), at_alice.transcript());
//!
//! let sealed = at_alice.seal(&mut rng, &alice, ContentType::Text, b"hello group", b"").unwrap();
//! let opened = at_bob.open(&sealed, b"", now).unwrap();
//! assert_eq!(opened.sender, *alice.address());
//! assert_eq!(at_bob.open(&sealed, b"", now).unwrap_err(), GroupOpenError::Replay { counter: 0 });
//! ```

mod distribution;
mod message;
mod policy;
mod roster;
mod schedule;
mod state;

use core::fmt;

pub use distribution::{
    CoreFields, Distribution, DistributionCore, MAX_WRAP_LEN, RosterSection, ServerRecord,
    VerifiedDistribution, Wrap,
};
pub use message::GroupHeader;
pub use policy::{MAX_ADMINS, RosterPolicy};
pub use roster::{
    AddressRef, GroupId, MAX_GROUP_ID_LEN, Member, MemberRef, Roster, RosterDelta, RosterHash,
};
pub use schedule::{
    CONFIRMATION_LEN, EPOCH_TAG_LEN, EpochSecret, EpochTag, NodeSecret, Transcript, sender_chain,
    tree_child, tree_leaf, tree_split, wrap_context, wrap_list_hash,
};
pub use state::{
    EpochChange, GROUP_BLOB_VERSION, GROUP_STATE_VERSION, GracePolicy, Group, GroupOpened,
    MAX_GROUP_SKIP, MAX_GROUP_SKIPPED, Processed, Proposal, RotationPolicy, RotationReason,
};

use crate::codec::DecodeError;
use crate::pairwise::{OpenError, SealError, SessionError};

#[cfg(feature = "hazmat")]
pub use state::RawEpoch;

/// Wire version of group structures (distributions and group messages).
pub const GROUP_VERSION: u8 = 2;
/// Message kind byte of group messages.
pub const KIND_GROUP_MESSAGE: u8 = 2;
/// Message kind byte of distribution cores.
pub const KIND_DISTRIBUTION: u8 = 3;

/// Why a distribution, a proposal or a state change was refused. Each check
/// of SPEC.md §8.6–8.7 has its own variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupError {
    /// A group id must be 1 to 255 bytes.
    InvalidGroupId,
    /// Not a well-formed distribution.
    Malformed(DecodeError),
    /// A group wire version this release does not know (1: the previous release's).
    UnsupportedVersion(u8),
    /// The roster is empty, unordered or has a repeated address (or, when
    /// building one, a bad key or key id).
    InvalidRoster,
    /// The roster delta is unordered or does not apply to the previous roster.
    InvalidRosterDelta,
    /// The policy is of an unknown kind, names no admin, or lists admins out of order.
    InvalidPolicy,
    /// The signature does not verify under the core's distributor identity key.
    BadSignature,
    /// The server's authenticated uploader is not the distributor.
    UploaderMismatch,
    /// Epoch 0, or epoch 1 naming a previous transcript.
    InvalidEpoch,
    /// The distribution is for another group.
    WrongGroup,
    /// An epoch older than the current one, no longer held (rollback or replay).
    StaleEpoch,
    /// An epoch more than one ahead: fetch the missing distributions in order.
    EpochGap,
    /// The current epoch is `2^64 − 1`: no further epoch can be made.
    EpochExhausted,
    /// Another core for an epoch this device holds (two versions of one epoch).
    ConflictingEpoch,
    /// The previous transcript is not this history's (a forked history).
    ForkedHistory,
    /// This device's own distribution, which it has not pending.
    NotPending,
    /// The distributor is not a member of the previous epoch with this identity key.
    NotPreviousMember,
    /// A roster delta with no previous epoch to apply it to.
    DeltaWithoutBase,
    /// The roster does not hash to the signed roster hash.
    RosterHashMismatch,
    /// The distributor is not in the new roster with the core's identity key.
    DistributorNotMember,
    /// Under an admins policy, no member of the roster is an admin.
    NoAdminMember,
    /// The policy does not allow this distributor this change.
    NotPermitted,
    /// The upload does not carry one wrap per member other than the distributor.
    WrapListMismatch,
    /// The wraps do not hash to the signed wrap list hash.
    WrapListHashMismatch,
    /// This device is not in the roster with its identity key and a live sealing key.
    NotAMember,
    /// No wrap for this device was delivered.
    MissingWrap,
    /// No pairwise session with the distributor was given.
    MissingSession,
    /// The session given is not with the distributor's identity key.
    DistributorMismatch,
    /// The wrap did not open as a pairwise message from the distributor.
    WrapRejected(OpenError),
    /// The wrap opened but is not a group key: content type 3 with a 32-byte secret.
    InvalidWrap,
    /// The opened secret does not match the signed confirmation (split secrets).
    ConfirmationMismatch,
    /// A proposal is already pending: commit or abort it first.
    ProposalPending,
    /// No proposal is pending.
    NothingPending,
    /// The device passed in is not this group state's device.
    WrongDevice,
    /// A pairwise session could not be created or updated for a member.
    Session(SessionError),
    /// A wrap could not be sealed.
    Wrap(SealError),
}

impl GroupError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::InvalidGroupId => "InvalidGroupId",
            Self::Malformed(_) => "Malformed",
            Self::UnsupportedVersion(_) => "UnsupportedVersion",
            Self::InvalidRoster => "InvalidRoster",
            Self::InvalidRosterDelta => "InvalidRosterDelta",
            Self::InvalidPolicy => "InvalidPolicy",
            Self::BadSignature => "BadSignature",
            Self::UploaderMismatch => "UploaderMismatch",
            Self::InvalidEpoch => "InvalidEpoch",
            Self::WrongGroup => "WrongGroup",
            Self::StaleEpoch => "StaleEpoch",
            Self::EpochGap => "EpochGap",
            Self::EpochExhausted => "EpochExhausted",
            Self::ConflictingEpoch => "ConflictingEpoch",
            Self::ForkedHistory => "ForkedHistory",
            Self::NotPending => "NotPending",
            Self::NotPreviousMember => "NotPreviousMember",
            Self::DeltaWithoutBase => "DeltaWithoutBase",
            Self::RosterHashMismatch => "RosterHashMismatch",
            Self::DistributorNotMember => "DistributorNotMember",
            Self::NoAdminMember => "NoAdminMember",
            Self::NotPermitted => "NotPermitted",
            Self::WrapListMismatch => "WrapListMismatch",
            Self::WrapListHashMismatch => "WrapListHashMismatch",
            Self::NotAMember => "NotAMember",
            Self::MissingWrap => "MissingWrap",
            Self::MissingSession => "MissingSession",
            Self::DistributorMismatch => "DistributorMismatch",
            Self::WrapRejected(_) => "WrapRejected",
            Self::InvalidWrap => "InvalidWrap",
            Self::ConfirmationMismatch => "ConfirmationMismatch",
            Self::ProposalPending => "ProposalPending",
            Self::NothingPending => "NothingPending",
            Self::WrongDevice => "WrongDevice",
            Self::Session(_) => "Session",
            Self::Wrap(_) => "Wrap",
        }
    }
}

impl From<OpenError> for GroupError {
    fn from(e: OpenError) -> Self {
        Self::WrapRejected(e)
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
            Self::UnsupportedVersion(v) => write!(f, "unsupported group version {v}"),
            Self::WrapRejected(e) => write!(f, "wrap rejected: {e}"),
            Self::Session(e) => write!(f, "session: {e}"),
            Self::Wrap(e) => write!(f, "sealing a wrap: {e}"),
            other => f.write_str(match other {
                Self::InvalidGroupId => "group id must be 1 to 255 bytes",
                Self::InvalidRoster => "roster is empty, unordered, or has a bad member",
                Self::InvalidRosterDelta => "roster delta is unordered or does not apply",
                Self::InvalidPolicy => "roster-change policy is not well formed",
                Self::BadSignature => "distributor signature does not verify",
                Self::UploaderMismatch => "uploader is not the distributor",
                Self::InvalidEpoch => "epoch 0, or epoch 1 with a previous transcript",
                Self::WrongGroup => "distribution is for another group",
                Self::StaleEpoch => "epoch is older than the current one",
                Self::EpochGap => "epoch skips ahead: fetch the missing ones first",
                Self::EpochExhausted => "no epoch can follow 2^64 - 1",
                Self::ConflictingEpoch => "another version of an epoch already held",
                Self::ForkedHistory => "previous transcript is not this history's",
                Self::NotPending => "own distribution that is not pending",
                Self::NotPreviousMember => "distributor was not a member of the previous epoch",
                Self::DeltaWithoutBase => "roster delta with no previous epoch",
                Self::RosterHashMismatch => "roster does not match the signed roster hash",
                Self::DistributorNotMember => "distributor is not in the roster",
                Self::NoAdminMember => "no admin is a member",
                Self::NotPermitted => "the policy does not allow this change",
                Self::WrapListMismatch => "wraps do not match the other members",
                Self::WrapListHashMismatch => "wraps do not match the signed wrap list hash",
                Self::NotAMember => "this device is not in the roster",
                Self::MissingWrap => "no wrap for this device",
                Self::MissingSession => "no session with the distributor",
                Self::DistributorMismatch => "session is not with the distributor",
                Self::InvalidWrap => "wrap is not a 32-byte group key",
                Self::ConfirmationMismatch => "epoch secret does not match the confirmation",
                Self::ProposalPending => "a proposal is already pending",
                Self::NothingPending => "no proposal is pending",
                _ => "device does not belong to this group state",
            }),
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
    /// A group wire version this release does not know.
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
    /// The sender was removed: it is in the message epoch's roster but not in
    /// the current one with the same identity key.
    SenderRemoved,
    /// The sender's signature does not verify (for example, another member forged it).
    BadSignature,
    /// The sender sealed in another version of this epoch (another history):
    /// a fork, not a modification.
    ForkedEpoch(u64),
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
    /// The message would skip more of its sender's chain than allowed
    /// ([`MAX_GROUP_SKIP`] per message, [`MAX_GROUP_SKIPPED`] stored per epoch).
    TooManySkipped,
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
            Self::SenderRemoved => "SenderRemoved",
            Self::BadSignature => "BadSignature",
            Self::ForkedEpoch(_) => "ForkedEpoch",
            Self::Replay { .. } => "Replay",
            Self::TooOld { .. } => "TooOld",
            Self::TooManySkipped => "TooManySkipped",
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
            Self::SenderRemoved => f.write_str("sender was removed from the group"),
            Self::ForkedEpoch(e) => write!(f, "epoch {e} of another history (fork)"),
            Self::BadSignature => f.write_str("sender signature does not verify"),
            Self::TooManySkipped => f.write_str("skips too far ahead in the sender's chain"),
            Self::CommitmentMismatch => f.write_str("key commitment mismatch"),
            Self::AuthenticationFailed => f.write_str("authentication failed"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for GroupOpenError {}
