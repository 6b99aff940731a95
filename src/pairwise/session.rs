//! The pairwise session (SPEC.md §7.5–7.10): the ratchet states of one peer
//! device, how they start, and which one seals.

use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::header::{Header, InitFields, SessionId};
use super::kdf::{InitialSecrets, PartyKeys, initial_keys, session_id};
use super::ratchet::{
    Body, LocalKem, PeerKem, RatchetKeyPair, RatchetPolicy, RatchetState, ReceivingEpoch,
    SendingChain, SendingEpoch,
};
use crate::aead::TAG_LEN;
use crate::codec::{DecodeError, Reader, Writer};
use crate::device::DeviceKeys;
use crate::ids::DeviceAddress;
use crate::keys::{
    IdentityPublicKey, KemEncapsulationKey, KemKeyId, SealingKeyId, SealingPublicKey,
};
use crate::message::{Chain, ContentType};
use crate::registration::VerifiedBundle;
use crate::registration::VerifiedOneTimeKey;
use crate::state::{self, SealedState, StateError, StorageKey};
use crate::time::Timestamp;

/// Layout version of the session state in a sealed blob (SPEC.md §12.2).
pub const SESSION_BLOB_VERSION: u16 = 3;
/// Seconds a sealing key stays usable after its `not_after`, for clock skew
/// between devices (SPEC.md §7.8).
pub const EXPIRY_SKEW_SECONDS: u64 = 300;
/// Most ratchet states a session holds (SPEC.md §7.9).
pub const MAX_STATES: usize = 4;
/// How many session ids a session remembers having held (SPEC.md §7.9).
pub const MAX_SEEN_SESSIONS: usize = 1_024;

/// Why a session could not be created or updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The peer bundle belongs to the local device itself.
    SelfSession,
    /// The bundle names another device or another identity key than the session's peer.
    PeerMismatch,
    /// A [`RatchetPolicy`] with `max_skip > max_skipped` (SPEC.md §12.2): one
    /// message could store more skipped secrets than the state may hold, and
    /// the session's export would not import.
    InvalidPolicy,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SelfSession => "a device cannot open a session with itself",
            Self::PeerMismatch => "bundle is not from this session's peer",
            Self::InvalidPolicy => "ratchet policy has max_skip above max_skipped",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SessionError {}

/// Why sealing failed. Sealing changes no state when it fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// The device passed in is not the session's local device.
    WrongDevice,
    /// The device has no live sealing key.
    NoSealingKey,
    /// The device's newest sealing key is past its `not_after` (plus
    /// [`EXPIRY_SKEW_SECONDS`]): register a new one first.
    LocalKeyExpired(SealingKeyId),
    /// The newest peer bundle the session knows is past its `not_after` (plus
    /// [`EXPIRY_SKEW_SECONDS`]): fetch the peer's new bundle first.
    PeerKeyExpired(SealingKeyId),
    /// The chain's message number reached `2^32 − 1`; the peer must reply
    /// (a new epoch) before more can be sealed.
    CounterExhausted,
    /// The agreement produced the all-zero value (impossible with verified keys).
    NonContributory,
    /// The ratchet state is inconsistent (unreachable for states this crate built).
    InvalidState,
}

impl SealError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::WrongDevice => "WrongDevice",
            Self::NoSealingKey => "NoSealingKey",
            Self::LocalKeyExpired(_) => "LocalKeyExpired",
            Self::PeerKeyExpired(_) => "PeerKeyExpired",
            Self::CounterExhausted => "CounterExhausted",
            Self::NonContributory => "NonContributory",
            Self::InvalidState => "InvalidState",
        }
    }
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LocalKeyExpired(id) => write!(f, "own sealing key {id} has expired"),
            Self::PeerKeyExpired(id) => write!(f, "peer sealing key {id} has expired"),
            other => f.write_str(match other {
                Self::WrongDevice => "device does not belong to this session",
                Self::NoSealingKey => "device has no live sealing key",
                Self::CounterExhausted => "message counter exhausted",
                Self::NonContributory => "X25519 result is all zeros",
                _ => "ratchet state is inconsistent",
            }),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SealError {}

/// Why opening failed. A failed open releases no plaintext and changes no state.
///
/// These details are for the local caller; a peer should only ever learn that
/// a message was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// Not a well-formed LS3 pairwise message.
    Malformed(DecodeError),
    /// A wire version this release does not know (1 is LS3 draft 1's static sessions).
    UnsupportedVersion(u8),
    /// The device passed in is not the session's local device.
    WrongDevice,
    /// A message of a ratchet state this session does not hold, without the
    /// fields that start one.
    UnknownSession,
    /// A message of a ratchet state this session held before and dropped:
    /// start afresh.
    StaleSession,
    /// The message was sealed by this device (a reflection).
    Reflected,
    /// A session start addressed to a sealing key this device has retired.
    RetiredKey(SealingKeyId),
    /// A session start addressed to a sealing key (or KEM key) this device
    /// never had.
    UnknownRecipientKey(SealingKeyId),
    /// A session start from a sealing key the session does not know for the
    /// peer: fetch the peer's bundle and retry.
    UnknownSenderKey(SealingKeyId),
    /// A session start naming a one-time key this device does not have.
    UnknownOneTimeKey(SealingKeyId),
    /// A session start naming a one-time key that was already used.
    ConsumedOneTimeKey(SealingKeyId),
    /// A session start addressed to a sealing key of this device that has expired.
    LocalKeyExpired(SealingKeyId),
    /// The newest peer bundle the session knows (or, for a session start, the
    /// peer's key it names) is past its `not_after` (plus [`EXPIRY_SKEW_SECONDS`]).
    PeerKeyExpired(SealingKeyId),
    /// This message was already opened.
    Replay {
        /// The message's number in its chain.
        counter: u64,
    },
    /// The message's secret is gone: outside the replay window, its epoch no
    /// longer stored, or its skipped secret expired.
    TooOld {
        /// The message's number in its chain.
        counter: u64,
    },
    /// Opening would store more skipped secrets than the policy allows.
    TooManySkipped,
    /// A new peer ratchet key before this side has sent any.
    UnexpectedRatchetKey,
    /// A KEM step encapsulated to a KEM key this side does not hold.
    UnknownKemKey(KemKeyId),
    /// The key commitment does not match the derived keys.
    CommitmentMismatch,
    /// The AEAD tag does not verify (tampered ciphertext or associated data).
    AuthenticationFailed,
    /// The agreement produced the all-zero value (impossible with verified keys).
    NonContributory,
    /// The output buffer given to [`Session::open_into`] is not exactly the
    /// plaintext's length ([`plaintext_len`]); it was left untouched.
    BufferLength {
        /// The length the buffer must have.
        expected: usize,
    },
}

impl OpenError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "Malformed",
            Self::UnsupportedVersion(_) => "UnsupportedVersion",
            Self::WrongDevice => "WrongDevice",
            Self::UnknownSession => "UnknownSession",
            Self::StaleSession => "StaleSession",
            Self::Reflected => "Reflected",
            Self::RetiredKey(_) => "RetiredKey",
            Self::UnknownRecipientKey(_) => "UnknownRecipientKey",
            Self::UnknownSenderKey(_) => "UnknownSenderKey",
            Self::UnknownOneTimeKey(_) => "UnknownOneTimeKey",
            Self::ConsumedOneTimeKey(_) => "ConsumedOneTimeKey",
            Self::LocalKeyExpired(_) => "LocalKeyExpired",
            Self::PeerKeyExpired(_) => "PeerKeyExpired",
            Self::Replay { .. } => "Replay",
            Self::TooOld { .. } => "TooOld",
            Self::TooManySkipped => "TooManySkipped",
            Self::UnexpectedRatchetKey => "UnexpectedRatchetKey",
            Self::UnknownKemKey(_) => "UnknownKemKey",
            Self::CommitmentMismatch => "CommitmentMismatch",
            Self::AuthenticationFailed => "AuthenticationFailed",
            Self::NonContributory => "NonContributory",
            Self::BufferLength { .. } => "BufferLength",
        }
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed message: {e}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported version {v}"),
            Self::RetiredKey(id) => write!(f, "sealed to retired key {id}"),
            Self::UnknownRecipientKey(id) => write!(f, "sealed to unknown key {id}"),
            Self::UnknownSenderKey(id) => write!(f, "unknown sender key {id}"),
            Self::UnknownOneTimeKey(id) => write!(f, "unknown one-time key {id}"),
            Self::ConsumedOneTimeKey(id) => write!(f, "one-time key {id} was already used"),
            Self::LocalKeyExpired(id) => write!(f, "own sealing key {id} has expired"),
            Self::PeerKeyExpired(id) => write!(f, "peer sealing key {id} has expired"),
            Self::Replay { counter } => write!(f, "replay of message {counter}"),
            Self::TooOld { counter } => write!(f, "the secret of message {counter} is gone"),
            Self::UnknownKemKey(id) => write!(f, "KEM step to unknown key {id:?}"),
            Self::BufferLength { expected } => {
                write!(f, "output buffer must be exactly {expected} bytes")
            }
            other => f.write_str(match other {
                Self::WrongDevice => "device does not belong to this session",
                Self::UnknownSession => "message of an unknown ratchet state",
                Self::StaleSession => "message of a dropped ratchet state",
                Self::Reflected => "message was sealed by this device (reflection)",
                Self::TooManySkipped => "too many skipped messages",
                Self::UnexpectedRatchetKey => "new peer ratchet key before this side sent",
                Self::CommitmentMismatch => "key commitment mismatch",
                Self::AuthenticationFailed => "authentication failed",
                _ => "X25519 result is all zeros",
            }),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for OpenError {}

/// An opened message.
pub struct Opened {
    /// What the message carries.
    pub content_type: ContentType,
    /// The plaintext (zeroized on drop).
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The chain it travelled on.
    pub chain: Chain,
    /// The ratchet state it belongs to.
    pub session_id: SessionId,
    /// Whether it started a new ratchet state (the peer started afresh).
    pub started_session: bool,
    /// The message's number in its chain.
    pub counter: u64,
    /// Messages this one skipped over (their secrets are stored; they may still arrive).
    pub skipped: u64,
    /// True if it arrived after later ones (opened from a stored secret).
    pub late: bool,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("content_type", &self.content_type)
            .field("plaintext_len", &self.plaintext.len())
            .field("chain", &self.chain)
            .field("session_id", &self.session_id)
            .field("started_session", &self.started_session)
            .field("counter", &self.counter)
            .field("skipped", &self.skipped)
            .field("late", &self.late)
            .finish()
    }
}

impl Opened {
    fn new(report: OpenedInto, plaintext: Zeroizing<Vec<u8>>) -> Self {
        let OpenedInto {
            content_type,
            chain,
            session_id,
            started_session,
            counter,
            skipped,
            late,
        } = report;
        Self {
            content_type,
            plaintext,
            chain,
            session_id,
            started_session,
            counter,
            skipped,
            late,
        }
    }
}

/// What [`Session::open_into`] reports about a message it opened: everything
/// [`Opened`] has but the plaintext, which is in the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenedInto {
    /// What the message carries.
    pub content_type: ContentType,
    /// The chain it travelled on.
    pub chain: Chain,
    /// The ratchet state it belongs to.
    pub session_id: SessionId,
    /// Whether it started a new ratchet state (the peer started afresh).
    pub started_session: bool,
    /// The message's number in its chain.
    pub counter: u64,
    /// Messages this one skipped over (their secrets are stored; they may still arrive).
    pub skipped: u64,
    /// True if it arrived after later ones (opened from a stored secret).
    pub late: bool,
}

/// The plaintext length of a sealed pairwise message: the length of the
/// buffer [`Session::open_into`] needs. It decodes the header as strictly as
/// opening does (SPEC.md §7.3) and checks there is a whole tag after it, so a
/// message it refuses, `open` refuses with the same error
/// ([`OpenError::Malformed`] or [`OpenError::UnsupportedVersion`]). It
/// authenticates nothing: the length is only a size to allocate.
///
/// ```
/// # use letterseal::pairwise::{plaintext_len, OpenError, OVERHEAD};
/// // Too short to hold a header and a tag.
/// assert!(matches!(plaintext_len(&[2u8; OVERHEAD - 1]), Err(OpenError::Malformed(_))));
/// ```
pub fn plaintext_len(message: &[u8]) -> Result<usize, OpenError> {
    decode_message(message, &[]).map(|(_, body)| body.ciphertext.len())
}

/// Splits a sealed message into its decoded header and its body (SPEC.md §7.3).
fn decode_message<'a>(
    sealed: &'a [u8],
    associated_data: &'a [u8],
) -> Result<(Header, Body<'a>), OpenError> {
    let mut r = Reader::new(sealed);
    let header = Header::decode(&mut r).map_err(|e| match e {
        DecodeError::UnknownVersion(v) => OpenError::UnsupportedVersion(v),
        other => OpenError::Malformed(other),
    })?;
    let header_len = sealed.len() - r.remaining();
    let header_bytes = sealed
        .get(..header_len)
        .ok_or(OpenError::Malformed(DecodeError::Truncated))?;
    let (ciphertext, tag) = r
        .rest()
        .split_last_chunk::<TAG_LEN>()
        .ok_or(OpenError::Malformed(DecodeError::Truncated))?;
    Ok((
        header,
        Body {
            header_bytes,
            ciphertext,
            tag,
            associated_data,
        },
    ))
}

/// The public facts of one end of the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Party {
    pub(crate) address: DeviceAddress,
    pub(crate) identity_key: IdentityPublicKey,
}

/// A peer bundle the session knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PeerBundle {
    pub(crate) key_id: SealingKeyId,
    pub(crate) sealing_key: SealingPublicKey,
    pub(crate) kem_key: KemEncapsulationKey,
    pub(crate) not_before: Timestamp,
    pub(crate) not_after: Timestamp,
}

impl PeerBundle {
    fn expired_at(&self, now: Timestamp) -> bool {
        now >= self.not_after.saturating_add(EXPIRY_SKEW_SECONDS)
    }

    /// `(not_before, key id, not_after)`.
    fn validity(&self) -> (Timestamp, SealingKeyId, Timestamp) {
        (self.not_before, self.key_id, self.not_after)
    }
}

/// A peer one-time key offered for this side's next session start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PeerOneTimeKey {
    pub(crate) key_id: SealingKeyId,
    pub(crate) key: SealingPublicKey,
}

/// A ratchet state and when it was last used (for dropping the least recent).
pub(crate) struct Slot {
    pub(crate) state: RatchetState,
    pub(crate) last_used: u64,
}

/// A pairwise session with one peer device: the LS3 ratchet (SPEC.md §7).
///
/// Created from the peer's verified bundle, it can seal at once: the first
/// seal starts a ratchet state (hybrid X25519 + ML-KEM-768 agreement); the
/// peer's first message starts one on its side. Every message advances a
/// chain (forward secrecy); every change of speaking direction is a
/// Diffie-Hellman step (post-compromise security); every few turns an ML-KEM
/// step (post-quantum post-compromise security). The session holds secrets:
/// persist it with [`Self::export`] (SPEC.md §12).
pub struct Session {
    pub(crate) local: Party,
    pub(crate) peer: Party,
    /// The peer's bundles by ascending key id.
    pub(crate) peer_bundles: Vec<PeerBundle>,
    pub(crate) one_time_key: Option<PeerOneTimeKey>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) current: Option<SessionId>,
    /// Session ids held before, oldest first.
    pub(crate) seen: Vec<SessionId>,
    pub(crate) policy: RatchetPolicy,
    pub(crate) clock: u64,
    pub(crate) generation: u64,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("local", &self.local.address)
            .field("peer", &self.peer.address)
            .field("current", &self.current)
            .field("states", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session with the peer of a verified bundle (SPEC.md §7.1), with the
    /// default [`RatchetPolicy`]. No message from the peer is needed first.
    pub fn new(device: &DeviceKeys, peer: &VerifiedBundle) -> Result<Self, SessionError> {
        let local_identity = device.identity().public_key();
        if peer.owner() == device.address() || *peer.identity_key() == local_identity {
            return Err(SessionError::SelfSession);
        }
        let (not_before, not_after) = peer.validity();
        Ok(Self {
            local: Party {
                address: device.address().clone(),
                identity_key: local_identity,
            },
            peer: Party {
                address: peer.owner().clone(),
                identity_key: *peer.identity_key(),
            },
            peer_bundles: alloc::vec![PeerBundle {
                key_id: peer.sealing_key_id(),
                sealing_key: *peer.sealing_key(),
                kem_key: peer.kem_key().clone(),
                not_before,
                not_after,
            }],
            one_time_key: None,
            slots: Vec::new(),
            current: None,
            seen: Vec::new(),
            policy: RatchetPolicy::default(),
            clock: 0,
            generation: 0,
        })
    }

    /// Uses `policy` for limits and KEM-step schedules (SPEC.md §7.6–7.7).
    /// Refuses a policy whose `max_skip` exceeds `max_skipped`
    /// ([`SessionError::InvalidPolicy`], the invariant of SPEC.md §12.2).
    pub fn with_policy(mut self, policy: RatchetPolicy) -> Result<Self, SessionError> {
        if policy.max_skip > policy.max_skipped {
            return Err(SessionError::InvalidPolicy);
        }
        self.policy = policy;
        Ok(self)
    }

    /// Offers one of the peer's verified one-time keys for this side's next
    /// session start (SPEC.md §7.5): forward secrecy for the peer's static key.
    pub fn with_one_time_key(mut self, key: &VerifiedOneTimeKey) -> Result<Self, SessionError> {
        self.offer_one_time_key(key)?;
        Ok(self)
    }

    /// [`Self::with_one_time_key`] in place: on refusal the session is unchanged.
    pub(crate) fn offer_one_time_key(
        &mut self,
        key: &VerifiedOneTimeKey,
    ) -> Result<(), SessionError> {
        if *key.owner() != self.peer.address || *key.identity_key() != self.peer.identity_key {
            return Err(SessionError::PeerMismatch);
        }
        self.one_time_key = Some(PeerOneTimeKey {
            key_id: key.key_id(),
            key: *key.key(),
        });
        Ok(())
    }

    /// The peer device.
    pub fn peer(&self) -> &DeviceAddress {
        &self.peer.address
    }

    /// The peer's identity key (compare it by safety number).
    pub fn peer_identity_key(&self) -> &IdentityPublicKey {
        &self.peer.identity_key
    }

    /// The ratchet state new messages are sealed in, once there is one.
    pub fn current_session_id(&self) -> Option<SessionId> {
        self.current
    }

    /// Messages of the current ratchet state that were skipped over and have
    /// not arrived yet (their secrets are stored): chain and number, oldest
    /// epoch first. This is the gap report's running total.
    pub fn missing(&self) -> Vec<(Chain, u32)> {
        self.current
            .and_then(|id| self.slot_index(&id))
            .and_then(|i| self.slots.get(i))
            .map(|slot| slot.state.skipped.iter().map(|s| (s.chain, s.n)).collect())
            .unwrap_or_default()
    }

    /// The ratchet policy.
    pub fn policy(&self) -> &RatchetPolicy {
        &self.policy
    }

    /// The newest peer bundle's sealing key id (the one a session start uses).
    pub fn peer_current_key_id(&self) -> Option<SealingKeyId> {
        self.newest_peer_bundle().map(|b| b.key_id)
    }

    fn newest_peer_bundle(&self) -> Option<&PeerBundle> {
        self.peer_bundles
            .iter()
            .max_by_key(|b| (b.not_before, b.key_id))
    }

    /// Whether a ratchet state still uses the KEM key of this device's bundle
    /// `key_id` as its current KEM key (SPEC.md §7.6): the peer's next KEM
    /// step encapsulates to it, so the device must keep that key until then.
    pub(crate) fn uses_local_bundle_key(&self, key_id: &SealingKeyId) -> bool {
        self.slots
            .iter()
            .any(|slot| matches!(&slot.state.local_kem, LocalKem::Bundle(id) if id == key_id))
    }

    /// Whether `bundle` is the session peer's (its device and identity key):
    /// exactly the bundles [`Session::add_peer_bundle`] accepts.
    pub(crate) fn is_peer(&self, bundle: &VerifiedBundle) -> bool {
        *bundle.owner() == self.peer.address && *bundle.identity_key() == self.peer.identity_key
    }

    /// Learns a new bundle of the peer (rotation, SPEC.md §7.8): it extends the
    /// session's validity, and later session starts use the newest.
    pub fn add_peer_bundle(&mut self, bundle: &VerifiedBundle) -> Result<(), SessionError> {
        if !self.is_peer(bundle) {
            return Err(SessionError::PeerMismatch);
        }
        let (not_before, not_after) = bundle.validity();
        let entry = PeerBundle {
            key_id: bundle.sealing_key_id(),
            sealing_key: *bundle.sealing_key(),
            kem_key: bundle.kem_key().clone(),
            not_before,
            not_after,
        };
        match self
            .peer_bundles
            .binary_search_by_key(&entry.key_id, |b| b.key_id)
        {
            Ok(i) => {
                if let Some(slot) = self.peer_bundles.get_mut(i) {
                    *slot = entry;
                }
            }
            Err(i) => self.peer_bundles.insert(i, entry),
        }
        Ok(())
    }

    /// Forgets a peer bundle (for example after it expired). The newest cannot
    /// be removed.
    pub fn remove_peer_key(&mut self, key_id: SealingKeyId) -> bool {
        if self.peer_current_key_id() == Some(key_id) {
            return false;
        }
        let before = self.peer_bundles.len();
        self.peer_bundles.retain(|b| b.key_id != key_id);
        self.peer_bundles.len() != before
    }

    /// Deletes stored skipped message secrets past their lifetime (SPEC.md §7.7).
    pub fn expire(&mut self, now: Timestamp) {
        let policy = self.policy;
        for slot in &mut self.slots {
            slot.state.expire(now, &policy);
        }
    }

    fn check_device(&self, device: &DeviceKeys) -> bool {
        *device.address() == self.local.address
            && device.identity().public_key() == self.local.identity_key
    }

    fn peer_expiry_check(&self, now: Timestamp) -> Result<(), SealingKeyId> {
        Self::newest_unexpired(now, self.peer_bundles.iter().map(PeerBundle::validity))
    }

    /// Whether the newest of `bundles` (`(not_before, key id, not_after)`;
    /// newest: latest `not_before`, then largest key id) is still usable at
    /// `now`, else its key id (an all-zero id when there is none).
    fn newest_unexpired(
        now: Timestamp,
        bundles: impl Iterator<Item = (Timestamp, SealingKeyId, Timestamp)>,
    ) -> Result<(), SealingKeyId> {
        match bundles.max_by_key(|(not_before, key_id, _)| (*not_before, *key_id)) {
            Some((_, key_id, not_after))
                if now >= not_after.saturating_add(EXPIRY_SKEW_SECONDS) =>
            {
                Err(key_id)
            }
            Some(_) => Ok(()),
            None => Err(SealingKeyId::from_bytes([0; 16])),
        }
    }

    /// The checks [`Session::seal`] makes before it does any work, as if the
    /// session had first learnt `learning` ([`Session::add_peer_bundle`]).
    /// Changes nothing. Once they pass, a seal can fail only on a
    /// non-contributory agreement, which the verified keys rule out: callers
    /// that seal on many sessions (a group proposal) check them all first.
    pub(crate) fn seal_checks(
        &self,
        device: &DeviceKeys,
        now: Timestamp,
        content_type: ContentType,
        learning: Option<&VerifiedBundle>,
    ) -> Result<SealingKeyId, SealError> {
        if !self.check_device(device) {
            return Err(SealError::WrongDevice);
        }
        let local_id = device
            .current_sealing_key_id()
            .ok_or(SealError::NoSealingKey)?;
        if device
            .sealing_key_validity(&local_id)
            .is_none_or(|(_, not_after)| now >= not_after.saturating_add(EXPIRY_SKEW_SECONDS))
        {
            return Err(SealError::LocalKeyExpired(local_id));
        }
        match learning {
            None => self.peer_expiry_check(now),
            Some(bundle) => {
                // The bundles once `bundle` is learnt (it replaces one with its key id).
                let (not_before, not_after) = bundle.validity();
                let learnt = (not_before, bundle.sealing_key_id(), not_after);
                let kept = self
                    .peer_bundles
                    .iter()
                    .map(PeerBundle::validity)
                    .filter(|(_, key_id, _)| *key_id != learnt.1);
                Self::newest_unexpired(now, kept.chain(core::iter::once(learnt)))
            }
        }
        .map_err(SealError::PeerKeyExpired)?;
        let current = self
            .current
            .and_then(|id| self.slot_index(&id))
            .and_then(|i| self.slots.get(i));
        if current.is_some_and(|slot| slot.state.sending_exhausted(content_type.chain())) {
            return Err(SealError::CounterExhausted);
        }
        Ok(local_id)
    }

    fn slot_index(&self, id: &SessionId) -> Option<usize> {
        self.slots.iter().position(|s| s.state.session_id == *id)
    }

    /// Seals a message to the peer (SPEC.md §7.7), starting a ratchet state
    /// first if the session has none. Refuses expired keys at `now`
    /// ([`EXPIRY_SKEW_SECONDS`] of skew allowed). `associated_data` is
    /// authenticated, not sent; the peer passes the same bytes to
    /// [`Session::open`]. Returns the message: [`Self::seal_into`] into a new
    /// `Vec`.
    pub fn seal<R: CryptoRng + ?Sized>(
        &mut self,
        device: &DeviceKeys,
        rng: &mut R,
        now: Timestamp,
        content_type: ContentType,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let mut out = Vec::new();
        self.seal_into(
            device,
            rng,
            now,
            content_type,
            plaintext,
            associated_data,
            &mut out,
        )?;
        Ok(out)
    }

    /// [`Self::seal`] into a buffer the caller owns, for large messages: `out`
    /// is cleared and the sealed message written into it, encrypted straight
    /// from `plaintext` (no intermediate copy with the default AES-GCM backend;
    /// the `ring` backend, whose API works in place, copies once inside the
    /// AEAD). `out` keeps its capacity: it
    /// is reallocated only when that is below the message's length
    /// (`plaintext.len()` plus at most a few kilobytes of header, see
    /// [`super::OVERHEAD`] for the least), so one buffer reused across seals
    /// stops allocating once it is large enough. Given the same session
    /// state and random bytes, the message is byte for byte the one
    /// [`Self::seal`] returns.
    ///
    /// On failure the session is unchanged and so is `out`: every check runs
    /// before `out` is written. (The one exception cannot happen:
    /// [`SealError::InvalidState`] from lengths that disagree once `out` is
    /// sized, which clears it.)
    ///
    /// ```
    /// # use letterseal::device::DeviceKeys;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::registration::{NoDirectory, RegistrationPolicy};
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// use letterseal::pairwise::{ContentType, Session, plaintext_len};
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let device = |name: &str, rng: &mut _| {
    /// #     let mut keys = DeviceKeys::generate(rng, DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1)));
    /// #     let bundle = keys.add_sealing_key(rng, now, 30 * 86_400);
    /// #     let verified = bundle.verify(&keys.address().clone().into(), &RegistrationPolicy::default(), now, None, &NoDirectory).unwrap();
    /// #     (keys, verified)
    /// # };
    /// # let (alice, alice_bundle) = device("alice", &mut rng);
    /// # let (mut bob, bob_bundle) = device("bob", &mut rng);
    /// let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
    /// let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
    ///
    /// // One buffer for every message Alice sends.
    /// let mut sealed = Vec::with_capacity(128 * 1024);
    /// let long_text = vec![b'a'; 64 * 1024];
    /// at_alice.seal_into(&alice, &mut rng, now, ContentType::Text, &long_text, b"chat 42", &mut sealed).unwrap();
    /// let mut opened = vec![0u8; plaintext_len(&sealed).unwrap()];
    /// at_bob.open_into(&mut bob, now, &sealed, b"chat 42", &mut opened).unwrap();
    /// assert_eq!(opened, long_text);
    ///
    /// // The next seal reuses the buffer: no allocation.
    /// let before = sealed.as_ptr();
    /// at_alice.seal_into(&alice, &mut rng, now, ContentType::Text, b"did you get it?", b"chat 42", &mut sealed).unwrap();
    /// assert_eq!(sealed.as_ptr(), before);
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn seal_into<R: CryptoRng + ?Sized>(
        &mut self,
        device: &DeviceKeys,
        rng: &mut R,
        now: Timestamp,
        content_type: ContentType,
        plaintext: &[u8],
        associated_data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        let local_id = self.seal_checks(device, now, content_type, None)?;
        let policy = self.policy;
        // The use clock advances only when the seal succeeds.
        let clock = self.clock.saturating_add(1);
        if let Some(i) = self.current.and_then(|id| self.slot_index(&id)) {
            let slot = self.slots.get_mut(i).ok_or(SealError::InvalidState)?;
            slot.state.seal(
                rng,
                now,
                &policy,
                content_type,
                plaintext,
                associated_data,
                out,
            )?;
            slot.last_used = clock;
            self.clock = clock;
            return Ok(());
        }
        // No ratchet state yet: start one (SPEC.md §7.5).
        let (mut state, used_one_time) = self.initiate(device, rng, now, local_id)?;
        state.seal(
            rng,
            now,
            &policy,
            content_type,
            plaintext,
            associated_data,
            out,
        )?;
        if used_one_time {
            self.one_time_key = None;
        }
        self.clock = clock;
        self.install(state, clock, true);
        Ok(())
    }

    /// Starts a ratchet state as initiator (SPEC.md §7.5). Changes nothing.
    fn initiate<R: CryptoRng + ?Sized>(
        &self,
        device: &DeviceKeys,
        rng: &mut R,
        now: Timestamp,
        local_id: SealingKeyId,
    ) -> Result<(RatchetState, bool), SealError> {
        let peer = self
            .newest_peer_bundle()
            .ok_or(SealError::InvalidState)?
            .clone();
        let local_secret = device
            .sealing_key(&local_id)
            .ok_or(SealError::NoSealingKey)?;
        let local_public = *device
            .sealing_public_key(&local_id)
            .ok_or(SealError::NoSealingKey)?;
        let ephemeral = RatchetKeyPair::generate(rng);
        let nc = |_| SealError::NonContributory;
        let dh1 = local_secret.agree(&peer.sealing_key).map_err(nc)?;
        let dh2 = ephemeral.secret.agree(&peer.sealing_key).map_err(nc)?;
        let dh3 = match &self.one_time_key {
            Some(otk) => Some(ephemeral.secret.agree(&otk.key).map_err(nc)?),
            None => None,
        };
        let (kem_ciphertext, kem_secret) = peer.kem_key.encapsulate(rng);
        let initiator = PartyKeys {
            address: &self.local.address,
            identity_key: &self.local.identity_key,
            sealing_key: &local_public,
        };
        let responder = PartyKeys {
            address: &self.peer.address,
            identity_key: &self.peer.identity_key,
            sealing_key: &peer.sealing_key,
        };
        let kem_key_id = peer.kem_key.key_id();
        let context = init_context(
            &initiator,
            &responder,
            &ephemeral.public,
            self.one_time_key.as_ref().map(|k| &k.key),
            &kem_key_id,
            kem_ciphertext.as_bytes(),
        );
        let keys = initial_keys(
            &InitialSecrets {
                static_static: &dh1,
                ephemeral_static: &dh2,
                one_time: dh3.as_ref(),
                kem: &kem_secret,
            },
            &context,
        );
        let id = session_id(&ephemeral.public, &initiator, &responder);
        let init = InitFields {
            initiator_key_id: local_id,
            responder_key_id: peer.key_id,
            kem_key_id,
            kem_ciphertext,
            one_time_key_id: self.one_time_key.as_ref().map(|k| k.key_id),
        };
        let state = RatchetState {
            session_id: id,
            init: Some(init),
            root: keys.root,
            own: Some(ephemeral),
            own_previous: Vec::new(),
            sending: Some(SendingEpoch {
                message: SendingChain {
                    key: keys.message,
                    next: 0,
                },
                control: SendingChain {
                    key: keys.control,
                    next: 0,
                },
                kem_step: None,
            }),
            previous_lengths: (0, 0),
            receiving: None,
            old_epochs: Vec::new(),
            skipped: Vec::new(),
            local_kem: LocalKem::Bundle(local_id),
            peer_kem: PeerKem {
                key: peer.kem_key,
                reusable: true,
                fresh: true,
            },
            steps_since_kem: 0,
            last_kem_at: now,
        };
        Ok((state, self.one_time_key.is_some()))
    }

    /// Starts a ratchet state as responder from a message's `INIT` fields
    /// (SPEC.md §7.5). Changes nothing.
    fn respond(
        &self,
        device: &DeviceKeys,
        now: Timestamp,
        header: &Header,
        init: &InitFields,
    ) -> Result<RatchetState, OpenError> {
        let own_id = init.responder_key_id;
        if device.is_retired(&own_id) {
            return Err(OpenError::RetiredKey(own_id));
        }
        let own_secret = device
            .sealing_key(&own_id)
            .ok_or(OpenError::UnknownRecipientKey(own_id))?;
        let own_public = *device
            .sealing_public_key(&own_id)
            .ok_or(OpenError::UnknownRecipientKey(own_id))?;
        let kem = device
            .kem_key(&own_id)
            .ok_or(OpenError::UnknownRecipientKey(own_id))?;
        if kem.encapsulation_key().key_id() != init.kem_key_id {
            return Err(OpenError::UnknownRecipientKey(own_id));
        }
        let peer = self
            .peer_bundles
            .binary_search_by_key(&init.initiator_key_id, |b| b.key_id)
            .ok()
            .and_then(|i| self.peer_bundles.get(i))
            .ok_or(OpenError::UnknownSenderKey(init.initiator_key_id))?;
        let one_time = match init.one_time_key_id {
            Some(id) if device.is_consumed_one_time_key(&id) => {
                return Err(OpenError::ConsumedOneTimeKey(id));
            }
            Some(id) => Some(
                device
                    .one_time_key(&id)
                    .ok_or(OpenError::UnknownOneTimeKey(id))?,
            ),
            None => None,
        };
        if peer.expired_at(now) {
            return Err(OpenError::PeerKeyExpired(peer.key_id));
        }
        if device
            .sealing_key_validity(&own_id)
            .is_none_or(|(_, not_after)| now >= not_after.saturating_add(EXPIRY_SKEW_SECONDS))
        {
            return Err(OpenError::LocalKeyExpired(own_id));
        }
        let ephemeral = header.ratchet_key;
        let nc = |_| OpenError::NonContributory;
        let dh1 = own_secret.agree(&peer.sealing_key).map_err(nc)?;
        let dh2 = own_secret.agree(&ephemeral).map_err(nc)?;
        let dh3 = match one_time {
            Some(secret) => Some(secret.agree(&ephemeral).map_err(nc)?),
            None => None,
        };
        let kem_secret = kem.decapsulate(&init.kem_ciphertext);
        let initiator = PartyKeys {
            address: &self.peer.address,
            identity_key: &self.peer.identity_key,
            sealing_key: &peer.sealing_key,
        };
        let responder = PartyKeys {
            address: &self.local.address,
            identity_key: &self.local.identity_key,
            sealing_key: &own_public,
        };
        let one_time_public = one_time.map(|s| s.public_key());
        let context = init_context(
            &initiator,
            &responder,
            &ephemeral,
            one_time_public.as_ref(),
            &init.kem_key_id,
            init.kem_ciphertext.as_bytes(),
        );
        let keys = initial_keys(
            &InitialSecrets {
                static_static: &dh1,
                ephemeral_static: &dh2,
                one_time: dh3.as_ref(),
                kem: &kem_secret,
            },
            &context,
        );
        if session_id(&ephemeral, &initiator, &responder) != header.session_id {
            return Err(OpenError::UnknownSession);
        }
        Ok(RatchetState {
            session_id: header.session_id,
            init: None,
            root: keys.root,
            own: None,
            own_previous: Vec::new(),
            sending: None,
            previous_lengths: (0, 0),
            receiving: Some(ReceivingEpoch::from_chains(
                ephemeral,
                keys.message,
                keys.control,
            )),
            old_epochs: Vec::new(),
            skipped: Vec::new(),
            local_kem: LocalKem::Bundle(own_id),
            peer_kem: PeerKem {
                key: peer.kem_key.clone(),
                reusable: true,
                fresh: true,
            },
            steps_since_kem: 0,
            last_kem_at: now,
        })
    }

    /// Adds a ratchet state (dropping the least recently used beyond
    /// [`MAX_STATES`]) and records its id.
    fn install(&mut self, state: RatchetState, clock: u64, make_current: bool) {
        let id = state.session_id;
        if make_current {
            self.current = Some(id);
        }
        self.slots.push(Slot {
            state,
            last_used: clock,
        });
        while self.slots.len() > MAX_STATES {
            let current = self.current;
            let oldest = self
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| Some(s.state.session_id) != current)
                .min_by_key(|(_, s)| s.last_used)
                .map(|(i, _)| i);
            match oldest {
                Some(i) => {
                    self.slots.remove(i);
                }
                None => break,
            }
        }
        if !self.seen.contains(&id) {
            self.seen.push(id);
            if self.seen.len() > MAX_SEEN_SESSIONS {
                self.seen.remove(0);
            }
        }
    }

    /// Opens a message from the peer (SPEC.md §7.7). Checks, in order: format,
    /// the ratchet state (starting one from a message's `INIT` fields),
    /// reflection, the peer's expiry at `now`, the message secret (replay,
    /// skipped, caps, KEM step), the key commitment and the AEAD tag; only then
    /// releases the plaintext and commits the state. A one-time key a start
    /// used is deleted from `device` then. The plaintext is decrypted
    /// straight into a new zeroizing buffer ([`Self::open_into`] takes one of
    /// the caller's).
    ///
    /// Messages may arrive out of order: a gap is reported (`skipped`), the
    /// late ones still open (`late`), each at most once; a message with other
    /// associated data, or changed in transit, is refused and changes nothing.
    ///
    /// ```
    /// use letterseal::device::DeviceKeys;
    /// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// use letterseal::pairwise::{ContentType, OpenError, Session};
    /// use letterseal::registration::{NoDirectory, RegistrationPolicy};
    /// use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([16; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let policy = RegistrationPolicy::default();
    /// # let mut alice = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1)));
    /// # let mut bob = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(1)));
    /// # let alice_bundle = alice.add_sealing_key(&mut rng, now, 86_400).verify(&alice.address().clone().into(), &policy, now, None, &NoDirectory).unwrap();
    /// # let bob_bundle = bob.add_sealing_key(&mut rng, now, 86_400).verify(&bob.address().clone().into(), &policy, now, None, &NoDirectory).unwrap();
    /// let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
    /// let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
    /// let sent: Vec<Vec<u8>> = (0..3)
    ///     .map(|i| at_alice.seal(&alice, &mut rng, now, ContentType::Text, &[i], b"chat").unwrap())
    ///     .collect();
    ///
    /// // The third arrives first: two skipped.
    /// let third = at_bob.open(&mut bob, now, &sent[2], b"chat").unwrap();
    /// assert_eq!((third.counter, third.skipped, third.late), (2, 2, false));
    /// // The first arrives late and still opens, once.
    /// let first = at_bob.open(&mut bob, now, &sent[0], b"chat").unwrap();
    /// assert_eq!((first.plaintext.as_slice(), first.late), (&[0u8][..], true));
    /// assert!(matches!(at_bob.open(&mut bob, now, &sent[0], b"chat"), Err(OpenError::Replay { .. })));
    ///
    /// // Wrong associated data or a changed byte: refused, and the second still opens after.
    /// assert!(at_bob.open(&mut bob, now, &sent[1], b"other chat").is_err());
    /// let mut changed = sent[1].clone();
    /// *changed.last_mut().unwrap() ^= 1;
    /// assert!(at_bob.open(&mut bob, now, &changed, b"chat").is_err());
    /// assert_eq!(at_bob.open(&mut bob, now, &sent[1], b"chat").unwrap().plaintext.as_slice(), &[1]);
    /// ```
    pub fn open(
        &mut self,
        device: &mut DeviceKeys,
        now: Timestamp,
        sealed: &[u8],
        associated_data: &[u8],
    ) -> Result<Opened, OpenError> {
        self.open_accepting(device, now, sealed, associated_data, |_, _| Ok(()))
    }

    /// [`Self::open`] into a buffer the caller owns, for large messages: the
    /// plaintext is decrypted straight from `message` into `out`, which must
    /// be exactly the plaintext's length — [`plaintext_len`]`(message)`.
    /// Returns what [`Opened`] reports besides the plaintext.
    ///
    /// The checks and their order are those of [`Self::open`], with the
    /// buffer's length checked right after the header is decoded (after
    /// [`OpenError::WrongDevice`], [`OpenError::Malformed`] and
    /// [`OpenError::UnsupportedVersion`]). On every failure the session and
    /// `device` are unchanged and `out` holds no plaintext:
    /// - a buffer of another length is refused with
    ///   [`OpenError::BufferLength`] and left untouched;
    /// - every check before decryption leaves it untouched;
    /// - a failed tag ([`OpenError::AuthenticationFailed`]) leaves it
    ///   untouched with the default AES-GCM backend, which checks the tag
    ///   before it decrypts, and zeroes it with the `ring` backend, which
    ///   decrypts while it authenticates (`aead::open_detached_into`, feature `hazmat`).
    ///
    /// ```
    /// # use letterseal::device::DeviceKeys;
    /// # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// # use letterseal::registration::{NoDirectory, RegistrationPolicy};
    /// # use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// use letterseal::pairwise::{ContentType, OpenError, Session, plaintext_len};
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([6; 32]);
    /// # let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// # let device = |name: &str, rng: &mut _| {
    /// #     let mut keys = DeviceKeys::generate(rng, DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1)));
    /// #     let bundle = keys.add_sealing_key(rng, now, 30 * 86_400);
    /// #     let verified = bundle.verify(&keys.address().clone().into(), &RegistrationPolicy::default(), now, None, &NoDirectory).unwrap();
    /// #     (keys, verified)
    /// # };
    /// # let (alice, alice_bundle) = device("alice", &mut rng);
    /// # let (mut bob, bob_bundle) = device("bob", &mut rng);
    /// let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
    /// let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
    /// let long_text = vec![b'a'; 64 * 1024];
    /// let sealed = at_alice.seal(&alice, &mut rng, now, ContentType::Text, &long_text, b"").unwrap();
    ///
    /// // The buffer must be exactly the plaintext's length.
    /// let len = plaintext_len(&sealed).unwrap();
    /// let mut short = vec![0u8; len - 1];
    /// assert_eq!(
    ///     at_bob.open_into(&mut bob, now, &sealed, b"", &mut short).unwrap_err(),
    ///     OpenError::BufferLength { expected: len },
    /// );
    /// let mut buffer = vec![0u8; len];
    /// let opened = at_bob.open_into(&mut bob, now, &sealed, b"", &mut buffer).unwrap();
    /// assert_eq!(buffer, long_text);
    /// assert_eq!((opened.content_type, opened.counter, opened.started_session), (ContentType::Text, 0, true));
    /// ```
    pub fn open_into(
        &mut self,
        device: &mut DeviceKeys,
        now: Timestamp,
        message: &[u8],
        associated_data: &[u8],
        out: &mut [u8],
    ) -> Result<OpenedInto, OpenError> {
        if !self.check_device(device) {
            return Err(OpenError::WrongDevice);
        }
        let (header, body) = decode_message(message, associated_data)?;
        if out.len() != body.ciphertext.len() {
            return Err(OpenError::BufferLength {
                expected: body.ciphertext.len(),
            });
        }
        self.open_decoded(device, now, &header, &body, out, |_, _| {
            Ok::<(), OpenError>(())
        })
    }

    /// [`Self::open`], with `accept` judging the authenticated content type
    /// and plaintext before anything changes: its error leaves the session
    /// and `device` as they were (group key wraps, SPEC.md §8.4).
    pub(crate) fn open_accepting<E: From<OpenError>>(
        &mut self,
        device: &mut DeviceKeys,
        now: Timestamp,
        sealed: &[u8],
        associated_data: &[u8],
        accept: impl FnOnce(ContentType, &[u8]) -> Result<(), E>,
    ) -> Result<Opened, E> {
        if !self.check_device(device) {
            return Err(OpenError::WrongDevice.into());
        }
        let (header, body) = decode_message(sealed, associated_data)?;
        let mut plaintext = Zeroizing::new(alloc::vec![0u8; body.ciphertext.len()]);
        let report = self.open_decoded(device, now, &header, &body, &mut plaintext, accept)?;
        Ok(Opened::new(report, plaintext))
    }

    /// The checks of SPEC.md §7.7 after decoding, shared by every open:
    /// decrypts into `out` (exactly the ciphertext's length), lets `accept`
    /// judge the content, and only then commits.
    fn open_decoded<E: From<OpenError>>(
        &mut self,
        device: &mut DeviceKeys,
        now: Timestamp,
        header: &Header,
        body: &Body<'_>,
        out: &mut [u8],
        accept: impl FnOnce(ContentType, &[u8]) -> Result<(), E>,
    ) -> Result<OpenedInto, E> {
        let existing = self.slot_index(&header.session_id);
        let mut started = None;
        if existing.is_none() {
            let init = header.init.as_ref().ok_or(OpenError::UnknownSession)?;
            if self.seen.contains(&header.session_id) {
                return Err(OpenError::StaleSession.into());
            }
            started = Some(self.respond(device, now, header, init)?);
        }
        let state = match (existing, started.as_mut()) {
            (Some(i), _) => self
                .slots
                .get(i)
                .map(|s| &s.state)
                .ok_or(OpenError::UnknownSession)?,
            (None, Some(state)) => &*state,
            (None, None) => return Err(OpenError::UnknownSession.into()),
        };
        if state.is_own_ratchet_key(&header.ratchet_key) {
            return Err(OpenError::Reflected.into());
        }
        if let Err(id) = self.peer_expiry_check(now) {
            return Err(OpenError::PeerKeyExpired(id).into());
        }
        let policy = self.policy;
        let opened = match (existing, started.as_mut()) {
            (Some(i), _) => self
                .slots
                .get_mut(i)
                .ok_or(OpenError::UnknownSession)?
                .state
                .open(device, now, &policy, header, body, out, accept)?,
            (None, Some(state)) => state.open(device, now, &policy, header, body, out, accept)?,
            (None, None) => return Err(OpenError::UnknownSession.into()),
        };

        // Commit (SPEC.md §7.9): the state becomes current unless this side's
        // own unconfirmed start wins the tie.
        self.clock = self.clock.saturating_add(1);
        let clock = self.clock;
        let started_session = started.is_some();
        if let Some(state) = started {
            if let Some(id) = header.init.as_ref().and_then(|i| i.one_time_key_id) {
                device.consume_one_time_key(id);
            }
            let keep_own = self.current_wins_over(&header.session_id);
            self.install(state, clock, !keep_own);
        } else {
            if let Some(slot) = self
                .slots
                .iter_mut()
                .find(|s| s.state.session_id == header.session_id)
            {
                slot.last_used = clock;
            }
            if !self.current_wins_over(&header.session_id) {
                self.current = Some(header.session_id);
            }
        }
        Ok(OpenedInto {
            content_type: opened.content_type,
            chain: opened.chain,
            session_id: header.session_id,
            started_session,
            counter: opened.n.into(),
            skipped: opened.skipped,
            late: opened.late,
        })
    }

    /// Whether the current state stays current when a message opens in
    /// `other`: only if it is this side's own unconfirmed start with the
    /// smaller session id (SPEC.md §7.9).
    fn current_wins_over(&self, other: &SessionId) -> bool {
        let Some(current) = self.current else {
            return false;
        };
        current != *other
            && current < *other
            && self
                .slots
                .iter()
                .any(|s| s.state.session_id == current && s.state.init.is_some())
    }

    /// Seals the session's state into a blob under `key` (SPEC.md §12), with
    /// a generation one higher than the last export. The blob holds the
    /// ratchet's secrets.
    pub fn export<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &StorageKey,
    ) -> Result<SealedState, StateError> {
        state::export(self, rng, key)
    }

    /// Opens a blob made by [`Self::export`], refusing a generation below
    /// `minimum_generation` (rollback) and any damaged, foreign or
    /// inconsistent blob, each with its own [`StateError`].
    pub fn import(
        key: &StorageKey,
        blob: &[u8],
        minimum_generation: u64,
    ) -> Result<Self, StateError> {
        state::import(key, blob, minimum_generation)
    }

    /// The generation of the last export (or of the imported blob); 0 if none.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// `party(A) ‖ party(B) ‖ E_A ‖ [OTK_B] ‖ KEM key id ‖ ct` (SPEC.md §7.5).
pub(crate) fn init_context(
    initiator: &PartyKeys<'_>,
    responder: &PartyKeys<'_>,
    ephemeral: &SealingPublicKey,
    one_time: Option<&SealingPublicKey>,
    kem_key_id: &KemKeyId,
    kem_ciphertext: &[u8],
) -> Vec<u8> {
    let mut w = Writer::with_capacity(2 * (1 + 255 + 4 + 64) + 32 + 32 + 16 + kem_ciphertext.len());
    initiator.encode(&mut w);
    responder.encode(&mut w);
    w.raw(ephemeral.as_bytes());
    if let Some(key) = one_time {
        w.raw(key.as_bytes());
    }
    w.raw(kem_key_id.as_bytes());
    w.raw(kem_ciphertext);
    w.into_bytes()
}
