//! The pairwise session (SPEC.md §7.5–7.7).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
#[cfg(feature = "json-state")]
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::ContentType;
use super::header::{HEADER_LEN, Header};
use super::kdf::{ChainKey, PartyKeys, chain_key, message_keys};
use super::window::{ReplayWindow, WINDOW_ENCODED_LEN, WindowError};
use crate::aead::{self, TAG_LEN};
use crate::codec::{DecodeError, Reader, Writer};
use crate::device::DeviceKeys;
use crate::ids::DeviceAddress;
use crate::kdf::HedgeKey;
use crate::keys::{IdentityPublicKey, SealingKeyId, SealingPublicKey};
use crate::registration::VerifiedBundle;
use crate::state::{
    self, SealedState, StateCodec, StateError, StateKind, StorageKey, check, field, read_list,
    write_len,
};
use crate::time::Timestamp;

/// Version of the JSON session state (feature `json-state`; SPEC.md §12.3).
pub const SESSION_STATE_VERSION: u32 = 1;
/// Layout version of the session state in a sealed blob (SPEC.md §12.2).
pub const SESSION_BLOB_VERSION: u16 = 2;
/// Seconds a sealing key stays usable after its `not_after`, for clock skew
/// between devices (SPEC.md §7.5).
pub const EXPIRY_SKEW_SECONDS: u64 = 300;

/// Why a session could not be created or updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The peer bundle belongs to the local device itself.
    SelfSession,
    /// The bundle names another device or another identity key than the session's peer.
    PeerMismatch,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SelfSession => "a device cannot open a session with itself",
            Self::PeerMismatch => "bundle is not from this session's peer",
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
    /// The counter reached `u64::MAX`; start a new session.
    CounterExhausted,
    /// The device's newest sealing key is past its `not_after` (plus
    /// [`EXPIRY_SKEW_SECONDS`]): register a new one first.
    LocalKeyExpired(SealingKeyId),
    /// The peer's current sealing key is past its `not_after` (plus
    /// [`EXPIRY_SKEW_SECONDS`]): fetch the peer's new bundle first.
    PeerKeyExpired(SealingKeyId),
    /// The agreement produced the all-zero value (impossible with verified keys).
    NonContributory,
}

impl SealError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::WrongDevice => "WrongDevice",
            Self::NoSealingKey => "NoSealingKey",
            Self::CounterExhausted => "CounterExhausted",
            Self::LocalKeyExpired(_) => "LocalKeyExpired",
            Self::PeerKeyExpired(_) => "PeerKeyExpired",
            Self::NonContributory => "NonContributory",
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
                _ => "X25519 result is all zeros",
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
    /// An LS3 version this release does not know.
    UnsupportedVersion(u8),
    /// The device passed in is not the session's local device.
    WrongDevice,
    /// The message was sealed by this device to its peer (a reflection).
    Reflected,
    /// Sealed to a sealing key this device has retired; nobody can open it.
    RetiredKey(SealingKeyId),
    /// Sealed to a key id that is not one of this device's keys.
    UnknownRecipientKey(SealingKeyId),
    /// Sealed with a key id the session does not know for the peer (fetch the
    /// peer's new bundle, or the message is not from this peer).
    UnknownSenderKey(SealingKeyId),
    /// Sealed with a peer key past its `not_after` (plus [`EXPIRY_SKEW_SECONDS`]).
    PeerKeyExpired(SealingKeyId),
    /// This counter was already accepted.
    Replay {
        /// The repeated counter.
        counter: u64,
    },
    /// The counter is too far behind the highest accepted one.
    TooOld {
        /// The stale counter.
        counter: u64,
    },
    /// The key commitment does not match the derived keys.
    CommitmentMismatch,
    /// The AEAD tag does not verify (tampered ciphertext or associated data).
    AuthenticationFailed,
    /// The agreement produced the all-zero value (impossible with verified keys).
    NonContributory,
}

impl OpenError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "Malformed",
            Self::UnsupportedVersion(_) => "UnsupportedVersion",
            Self::WrongDevice => "WrongDevice",
            Self::Reflected => "Reflected",
            Self::RetiredKey(_) => "RetiredKey",
            Self::UnknownRecipientKey(_) => "UnknownRecipientKey",
            Self::UnknownSenderKey(_) => "UnknownSenderKey",
            Self::PeerKeyExpired(_) => "PeerKeyExpired",
            Self::Replay { .. } => "Replay",
            Self::TooOld { .. } => "TooOld",
            Self::CommitmentMismatch => "CommitmentMismatch",
            Self::AuthenticationFailed => "AuthenticationFailed",
            Self::NonContributory => "NonContributory",
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
            Self::PeerKeyExpired(id) => write!(f, "sender key {id} has expired"),
            Self::Replay { counter } => write!(f, "replay of counter {counter}"),
            Self::TooOld { counter } => write!(f, "counter {counter} is outside the window"),
            other => f.write_str(match other {
                Self::WrongDevice => "device does not belong to this session",
                Self::Reflected => "message was sealed by this device (reflection)",
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
    /// The sender's counter.
    pub counter: u64,
    /// The sealing key the sender used.
    pub sender_key_id: SealingKeyId,
    /// The sealing key of this device the message was sealed to.
    pub recipient_key_id: SealingKeyId,
    /// Counters this message skipped over: messages not (yet) received.
    pub skipped: u64,
    /// True if the message arrived after a later one (filling a gap).
    pub late: bool,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("content_type", &self.content_type)
            .field("plaintext_len", &self.plaintext.len())
            .field("counter", &self.counter)
            .field("skipped", &self.skipped)
            .field("late", &self.late)
            .finish_non_exhaustive()
    }
}

/// The public facts of one end of the session.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
struct Party {
    address: DeviceAddress,
    identity_key: IdentityPublicKey,
}

impl Party {
    fn encode(&self, w: &mut Writer) {
        self.address.encode(w);
        w.raw(self.identity_key.as_bytes());
    }

    fn decode(r: &mut Reader<'_>, name: &'static str) -> Result<Self, StateError> {
        let address = field(name, DeviceAddress::decode(r))?;
        let identity_key = IdentityPublicKey::from_bytes(&field(name, r.array())?)
            .map_err(|_| StateError::Invalid { field: name })?;
        Ok(Self {
            address,
            identity_key,
        })
    }
}

/// A peer sealing key known from a verified bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json-state", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json-state", serde(deny_unknown_fields))]
struct PeerKey {
    key_id: SealingKeyId,
    public: SealingPublicKey,
    not_before: Timestamp,
    not_after: Timestamp,
}

impl PeerKey {
    /// Whether the key is past its `not_after` plus the skew allowance at `now`.
    fn expired_at(&self, now: Timestamp) -> bool {
        now >= self.not_after.saturating_add(EXPIRY_SKEW_SECONDS)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    Outgoing,
    Incoming,
}

/// A derived chain key and its hedging keys (SPEC.md §3.5), cached together.
struct CachedChain {
    key: ChainKey,
    hedge: HedgeKey,
}

/// Cached chain keys: one per direction and pair of sealing keys.
type ChainCache = BTreeMap<(Direction, SealingKeyId, SealingKeyId), CachedChain>;

/// A pairwise LS3 session between this device and one peer device.
///
/// The session holds only public data and counters; the device's secrets stay
/// in [`DeviceKeys`], which every call takes, so retiring a key there takes
/// effect immediately. Derived chain keys are cached in memory only (never
/// exported) and dropped once their local key is retired. Persist it with
/// [`Self::export`] and [`Self::import`] (SPEC.md §12).
pub struct Session {
    local: Party,
    peer: Party,
    /// The peer's known sealing keys (a handful at most), by ascending key id.
    peer_keys: Vec<PeerKey>,
    peer_current: SealingKeyId,
    next_counter: u64,
    window: ReplayWindow,
    /// Generation of the last export (0: never exported).
    generation: u64,
    chains: ChainCache,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("local", &self.local.address)
            .field("peer", &self.peer.address)
            .field("peer_current", &self.peer_current)
            .field("next_counter", &self.next_counter)
            .field("highest_received", &self.window.highest())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session with the peer of a verified bundle (SPEC.md §7.1). No message
    /// from the peer is needed first: either side can seal at once.
    pub fn new(device: &DeviceKeys, peer: &VerifiedBundle) -> Result<Self, SessionError> {
        let local_identity = device.identity().public_key();
        if peer.owner() == device.address() || *peer.identity_key() == local_identity {
            return Err(SessionError::SelfSession);
        }
        let (not_before, not_after) = peer.validity();
        let peer_keys = alloc::vec![PeerKey {
            key_id: peer.sealing_key_id(),
            public: *peer.sealing_key(),
            not_before,
            not_after,
        }];
        Ok(Self {
            local: Party {
                address: device.address().clone(),
                identity_key: local_identity,
            },
            peer: Party {
                address: peer.owner().clone(),
                identity_key: *peer.identity_key(),
            },
            peer_keys,
            peer_current: peer.sealing_key_id(),
            next_counter: 0,
            window: ReplayWindow::default(),
            generation: 0,
            chains: ChainCache::new(),
        })
    }

    /// Rebuilds a session from saved parts, checking every invariant of
    /// SPEC.md §12.2; an error names the field.
    fn from_parts(
        local: Party,
        peer: Party,
        mut peer_keys: Vec<PeerKey>,
        peer_current: SealingKeyId,
        next_counter: u64,
        window: ReplayWindow,
    ) -> Result<Self, StateError> {
        check(
            "peer",
            local.address != peer.address && local.identity_key != peer.identity_key,
        )?;
        check("peer_keys", !peer_keys.is_empty())?;
        for key in &peer_keys {
            check("peer_keys.public", key.public.validate().is_ok())?;
            check("peer_keys.key_id", key.public.key_id() == key.key_id)?;
            check("peer_keys.not_after", key.not_after > key.not_before)?;
        }
        // Order does not change behaviour (lookups are by id); repeats do.
        peer_keys.sort_by_key(|k| k.key_id);
        check(
            "peer_keys.repeated",
            peer_keys.windows(2).all(|w| match w {
                [a, b] => a.key_id != b.key_id,
                _ => true,
            }),
        )?;
        check(
            "peer_current",
            peer_keys.iter().any(|k| k.key_id == peer_current),
        )?;
        Ok(Self {
            local,
            peer,
            peer_keys,
            peer_current,
            next_counter,
            window,
            generation: 0,
            chains: ChainCache::new(),
        })
    }

    /// Seals the session's state into a blob under `key` (SPEC.md §12), with
    /// a generation one higher than the last export. Holds no secret besides
    /// counters, but is sealed like every state so it cannot be edited.
    pub fn export<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &StorageKey,
    ) -> Result<SealedState, StateError> {
        let generation = state::next_generation(self.generation)?;
        let sealed = state::seal(self, generation, rng, key);
        self.generation = generation;
        Ok(sealed)
    }

    /// Opens a blob made by [`Self::export`], refusing a generation below
    /// `minimum_generation` (rollback) and any damaged, foreign or
    /// inconsistent blob, each with its own [`StateError`].
    pub fn import(
        key: &StorageKey,
        blob: &[u8],
        minimum_generation: u64,
    ) -> Result<Self, StateError> {
        let (mut session, generation) = state::open::<Self>(key, blob, minimum_generation)?;
        session.generation = generation;
        Ok(session)
    }

    /// The generation of the last export (or of the imported blob); 0 if none.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The peer device.
    pub fn peer(&self) -> &DeviceAddress {
        &self.peer.address
    }

    /// The peer's identity key (compare it by safety number).
    pub fn peer_identity_key(&self) -> &IdentityPublicKey {
        &self.peer.identity_key
    }

    /// The peer sealing key new messages are sealed to.
    pub fn peer_current_key_id(&self) -> SealingKeyId {
        self.peer_current
    }

    /// The counter the next sealed message will carry.
    pub fn next_counter(&self) -> u64 {
        self.next_counter
    }

    /// The highest counter received from the peer.
    pub fn highest_received(&self) -> Option<u64> {
        self.window.highest()
    }

    /// Counters inside the replay window that have not arrived (dropped or
    /// still in flight).
    pub fn missing_counters(&self) -> Vec<u64> {
        self.window.missing()
    }

    /// Learns a new sealing key of the peer (rotation, SPEC.md §7.6). The
    /// newest key (latest `not_before`) becomes the one sealed to.
    pub fn add_peer_bundle(&mut self, bundle: &VerifiedBundle) -> Result<(), SessionError> {
        if *bundle.owner() != self.peer.address || *bundle.identity_key() != self.peer.identity_key
        {
            return Err(SessionError::PeerMismatch);
        }
        let (not_before, not_after) = bundle.validity();
        let current_start = self.peer_key(&self.peer_current).map(|k| k.not_before);
        let key_id = bundle.sealing_key_id();
        let key = PeerKey {
            key_id,
            public: *bundle.sealing_key(),
            not_before,
            not_after,
        };
        match self.peer_keys.binary_search_by_key(&key_id, |k| k.key_id) {
            Ok(i) => {
                if let Some(slot) = self.peer_keys.get_mut(i) {
                    *slot = key;
                }
            }
            Err(i) => self.peer_keys.insert(i, key),
        }
        if current_start.is_none_or(|start| not_before >= start) {
            self.peer_current = bundle.sealing_key_id();
        }
        Ok(())
    }

    /// Forgets a peer sealing key (for example after it expired). The current
    /// key cannot be removed; add its successor first.
    pub fn remove_peer_key(&mut self, key_id: SealingKeyId) -> bool {
        if key_id == self.peer_current {
            return false;
        }
        self.chains.retain(|(_, _, peer), _| *peer != key_id);
        let before = self.peer_keys.len();
        self.peer_keys.retain(|k| k.key_id != key_id);
        self.peer_keys.len() != before
    }

    fn peer_key(&self, key_id: &SealingKeyId) -> Option<&PeerKey> {
        self.peer_keys
            .binary_search_by_key(key_id, |k| k.key_id)
            .ok()
            .and_then(|i| self.peer_keys.get(i))
    }

    fn check_device(&self, device: &DeviceKeys) -> bool {
        *device.address() == self.local.address
            && device.identity().public_key() == self.local.identity_key
    }

    /// Drops cached chains whose local sealing key is no longer live.
    fn forget_retired(&mut self, device: &DeviceKeys) {
        self.chains
            .retain(|(_, local, _), _| device.sealing_key(local).is_some());
    }

    /// The chain key of one direction for one pair of keys, from the cache or
    /// derived (one X25519).
    fn chain(
        &mut self,
        device: &DeviceKeys,
        direction: Direction,
        local_id: SealingKeyId,
        peer_id: SealingKeyId,
    ) -> Result<&CachedChain, ChainError> {
        use alloc::collections::btree_map::Entry;
        match self.chains.entry((direction, local_id, peer_id)) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let secret = device
                    .sealing_key(&local_id)
                    .ok_or(ChainError::UnknownLocal)?;
                let peer_key = self
                    .peer_keys
                    .binary_search_by_key(&peer_id, |k| k.key_id)
                    .ok()
                    .and_then(|i| self.peer_keys.get(i))
                    .ok_or(ChainError::UnknownPeer)?;
                let shared = secret
                    .agree(&peer_key.public)
                    .map_err(|_| ChainError::NonContributory)?;
                let local_public = *device
                    .sealing_public_key(&local_id)
                    .ok_or(ChainError::UnknownLocal)?;
                let local = PartyKeys {
                    address: &self.local.address,
                    identity_key: &self.local.identity_key,
                    sealing_key: &local_public,
                };
                let peer = PartyKeys {
                    address: &self.peer.address,
                    identity_key: &self.peer.identity_key,
                    sealing_key: &peer_key.public,
                };
                let key = match direction {
                    Direction::Outgoing => chain_key(&shared, &local, &peer),
                    Direction::Incoming => chain_key(&shared, &peer, &local),
                };
                let hedge = HedgeKey::derive(key.as_bytes());
                Ok(e.insert(CachedChain { key, hedge }))
            }
        }
    }

    /// Seals a message to the peer (SPEC.md §7.5): the next counter, the
    /// device's newest sealing key and the peer's current one, and a hedged
    /// salt (SPEC.md §3.5) from 32 fresh bytes of `rng` and the message itself.
    /// Returns `header ‖ ciphertext ‖ tag`. Refuses keys that expired before
    /// `now` (allowing [`EXPIRY_SKEW_SECONDS`] of clock skew).
    ///
    /// `associated_data` is authenticated, not sent; the receiver must pass
    /// the same bytes to [`Session::open`].
    pub fn seal<R: CryptoRng + ?Sized>(
        &mut self,
        device: &DeviceKeys,
        rng: &mut R,
        now: Timestamp,
        content_type: ContentType,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        if !self.check_device(device) {
            return Err(SealError::WrongDevice);
        }
        let counter = self.next_counter;
        if counter == u64::MAX {
            return Err(SealError::CounterExhausted);
        }
        self.forget_retired(device);
        let local_id = device
            .current_sealing_key_id()
            .ok_or(SealError::NoSealingKey)?;
        if device
            .sealing_key_validity(&local_id)
            .is_none_or(|(_, not_after)| now >= not_after.saturating_add(EXPIRY_SKEW_SECONDS))
        {
            return Err(SealError::LocalKeyExpired(local_id));
        }
        let peer_id = self.peer_current;
        if self.peer_key(&peer_id).is_none_or(|k| k.expired_at(now)) {
            return Err(SealError::PeerKeyExpired(peer_id));
        }
        let mut header = Header {
            content_type,
            sender_key_id: local_id,
            recipient_key_id: peer_id,
            counter,
            salt: [0; 16],
            commitment: [0; 32],
        };
        let chain = self
            .chain(device, Direction::Outgoing, local_id, peer_id)
            .map_err(|e| match e {
                ChainError::NonContributory => SealError::NonContributory,
                ChainError::UnknownLocal | ChainError::UnknownPeer => SealError::NoSealingKey,
            })?;
        let bound = header.bound_fields();
        header.salt = chain.hedge.salt(rng, &bound, associated_data, plaintext);
        let keys = message_keys(&chain.key, &header.salt, &bound);
        header.commitment = keys.commitment;
        let header = header.encode();

        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&header);
        out.extend_from_slice(plaintext);
        let tag = {
            let (head, body) = out.split_at_mut(HEADER_LEN);
            let aad = aead::header_and_associated(head, associated_data);
            aead::seal_in_place_detached(&keys.aead_key, &keys.nonce, &aad, body)
        };
        out.extend_from_slice(&tag);
        self.next_counter = counter + 1;
        Ok(out)
    }

    /// Opens a message from the peer (SPEC.md §7.5). Checks, in order: format,
    /// reflection, recipient key, sender key, the sender key's expiry at
    /// `now`, replay window, key commitment, AEAD tag; only then releases the
    /// plaintext and records the counter.
    pub fn open(
        &mut self,
        device: &DeviceKeys,
        now: Timestamp,
        sealed: &[u8],
        associated_data: &[u8],
    ) -> Result<Opened, OpenError> {
        if !self.check_device(device) {
            return Err(OpenError::WrongDevice);
        }
        let mut r = Reader::new(sealed);
        let header = Header::decode(&mut r).map_err(|e| match e {
            DecodeError::UnknownVersion(v) => OpenError::UnsupportedVersion(v),
            other => OpenError::Malformed(other),
        })?;
        let body = r.rest();
        let split = body
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(OpenError::Malformed(DecodeError::Truncated))?;
        let (ciphertext, tag) = body.split_at(split);
        let tag: [u8; TAG_LEN] = tag
            .try_into()
            .map_err(|_| OpenError::Malformed(DecodeError::Truncated))?;

        if device.sealing_key(&header.sender_key_id).is_some()
            && self.peer_key(&header.recipient_key_id).is_some()
        {
            return Err(OpenError::Reflected);
        }
        if device.is_retired(&header.recipient_key_id) {
            return Err(OpenError::RetiredKey(header.recipient_key_id));
        }
        if device.sealing_key(&header.recipient_key_id).is_none() {
            return Err(OpenError::UnknownRecipientKey(header.recipient_key_id));
        }
        match self.peer_key(&header.sender_key_id) {
            None => return Err(OpenError::UnknownSenderKey(header.sender_key_id)),
            Some(key) if key.expired_at(now) => {
                return Err(OpenError::PeerKeyExpired(header.sender_key_id));
            }
            Some(_) => {}
        }
        let counter = header.counter;
        let delivery = self.window.check(counter).map_err(|e| match e {
            WindowError::Replay => OpenError::Replay { counter },
            WindowError::TooOld => OpenError::TooOld { counter },
        })?;

        self.forget_retired(device);
        let chain = self
            .chain(
                device,
                Direction::Incoming,
                header.recipient_key_id,
                header.sender_key_id,
            )
            .map_err(|e| match e {
                ChainError::NonContributory => OpenError::NonContributory,
                ChainError::UnknownLocal => OpenError::UnknownRecipientKey(header.recipient_key_id),
                ChainError::UnknownPeer => OpenError::UnknownSenderKey(header.sender_key_id),
            })?;
        let keys = message_keys(&chain.key, &header.salt, &header.bound_fields());
        if !keys.commitment_matches(&header.commitment) {
            return Err(OpenError::CommitmentMismatch);
        }
        let head = sealed.get(..HEADER_LEN).unwrap_or_default();
        let aad = aead::header_and_associated(head, associated_data);
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        aead::open_in_place_detached(&keys.aead_key, &keys.nonce, &aad, &mut plaintext, &tag)
            .map_err(|_| OpenError::AuthenticationFailed)?;

        self.window.accept(counter);
        Ok(Opened {
            content_type: header.content_type,
            plaintext,
            counter,
            sender_key_id: header.sender_key_id,
            recipient_key_id: header.recipient_key_id,
            skipped: delivery.skipped,
            late: delivery.late,
        })
    }
}

enum ChainError {
    UnknownLocal,
    UnknownPeer,
    NonContributory,
}

impl StateCodec for Session {
    const KIND: StateKind = StateKind::Session;
    const VERSION: u16 = SESSION_BLOB_VERSION;

    /// `local party ‖ peer party ‖ u32(n) ‖ n × (sealing key ‖ u64(not_before)
    /// ‖ u64(not_after)) ‖ peer current key id ‖ u64(next counter) ‖ window`,
    /// party = `address ‖ identity key`, peer keys by ascending key id.
    fn encode_state(&self, w: &mut Writer) {
        self.local.encode(w);
        self.peer.encode(w);
        write_len(w, self.peer_keys.len());
        for key in &self.peer_keys {
            w.raw(key.public.as_bytes());
            w.u64(key.not_before.unix_seconds());
            w.u64(key.not_after.unix_seconds());
        }
        w.raw(self.peer_current.as_bytes());
        w.u64(self.next_counter);
        self.window.encode(w);
    }

    fn decode_state(r: &mut Reader<'_>) -> Result<Self, StateError> {
        let local = Party::decode(r, "local")?;
        let peer = Party::decode(r, "peer")?;
        let mut last: Option<SealingKeyId> = None;
        let peer_keys = read_list(r, "peer_keys", 48, |r| {
            let public = SealingPublicKey::from_bytes(field("peer_keys.public", r.array())?);
            let key_id = public.key_id();
            check("peer_keys.order", last.is_none_or(|l| l < key_id))?;
            last = Some(key_id);
            Ok(PeerKey {
                key_id,
                public,
                not_before: Timestamp::from_unix_seconds(field("peer_keys.not_before", r.u64())?),
                not_after: Timestamp::from_unix_seconds(field("peer_keys.not_after", r.u64())?),
            })
        })?;
        let peer_current = SealingKeyId::from_bytes(field("peer_current", r.array())?);
        let next_counter = field("next_counter", r.u64())?;
        check("window", r.remaining() >= WINDOW_ENCODED_LEN)?;
        let window = ReplayWindow::decode(r, "window")?;
        Self::from_parts(local, peer, peer_keys, peer_current, next_counter, window)
    }
}

/// The JSON form of a session (feature `json-state`): every field required,
/// loaded through the same invariant checks as a blob.
#[cfg(feature = "json-state")]
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionJson {
    version: u32,
    local: Party,
    peer: Party,
    peer_keys: Vec<PeerKey>,
    peer_current: SealingKeyId,
    next_counter: u64,
    window: ReplayWindow,
}

#[cfg(feature = "json-state")]
impl Serialize for Session {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SessionJson {
            version: SESSION_STATE_VERSION,
            local: self.local.clone(),
            peer: self.peer.clone(),
            peer_keys: self.peer_keys.clone(),
            peer_current: self.peer_current,
            next_counter: self.next_counter,
            window: self.window.clone(),
        }
        .serialize(serializer)
    }
}

#[cfg(feature = "json-state")]
impl<'de> Deserialize<'de> for Session {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = SessionJson::deserialize(deserializer)?;
        if json.version != SESSION_STATE_VERSION {
            return Err(serde::de::Error::custom(alloc::format!(
                "unsupported session state version {}",
                json.version
            )));
        }
        for key in &json.peer_keys {
            if key.public.key_id() != key.key_id {
                return Err(serde::de::Error::custom("peer_keys.key_id"));
            }
        }
        Self::from_parts(
            json.local,
            json.peer,
            json.peer_keys,
            json.peer_current,
            json.next_counter,
            json.window,
        )
        .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    //! The chain cache is invisible through the API (it only saves an X25519), so its
    //! hygiene — no chain of a retired or removed key stays in memory — is checked here.
    use super::*;
    use crate::ids::{DeviceId, UserId};
    use crate::registration::{NoDirectory, RegistrationPolicy};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const DAY: u64 = 86_400;

    fn verified(bundle: crate::registration::KeyBundle, now: Timestamp) -> VerifiedBundle {
        let owner = bundle.content().owner.clone().into();
        bundle
            .verify(
                &owner,
                &RegistrationPolicy::default(),
                now,
                None,
                &NoDirectory,
            )
            .unwrap()
    }

    fn cached_with(session: &Session, key_id: SealingKeyId) -> usize {
        session
            .chains
            .keys()
            .filter(|(_, local, peer)| *local == key_id || *peer == key_id)
            .count()
    }

    #[test]
    fn chains_of_retired_and_removed_keys_are_dropped() {
        let mut rng = ChaCha20Rng::from_seed([42; 32]);
        let now = Timestamp::from_unix_seconds(1_800_000_000);
        let address = |user: &str| DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(1));
        let mut alice = DeviceKeys::generate(&mut rng, address("alice"));
        let mut bob = DeviceKeys::generate(&mut rng, address("bob"));
        let alice_bundle = verified(alice.add_sealing_key(&mut rng, now, 30 * DAY), now);
        let bob_old = verified(bob.add_sealing_key(&mut rng, now, 30 * DAY), now);
        let mut at_alice = Session::new(&alice, &bob_old).unwrap();
        let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
        let old = bob_old.sealing_key_id();

        let to_old = at_alice
            .seal(&alice, &mut rng, now, ContentType::Text, b"1", b"")
            .unwrap();
        at_bob.open(&bob, now, &to_old, b"").unwrap();
        let from_old = at_bob
            .seal(&bob, &mut rng, now, ContentType::Text, b"2", b"")
            .unwrap();
        at_alice.open(&alice, now, &from_old, b"").unwrap();
        assert_eq!(cached_with(&at_bob, old), 2);
        assert_eq!(cached_with(&at_alice, old), 2);

        // Bob rotates and retires the old key; his next open forgets its chains.
        let bob_new = verified(
            bob.add_sealing_key(&mut rng, now.saturating_add(60), DAY),
            now,
        );
        let new = bob_new.sealing_key_id();
        at_alice.add_peer_bundle(&bob_new).unwrap();
        let to_new = at_alice
            .seal(&alice, &mut rng, now, ContentType::Text, b"3", b"")
            .unwrap();
        assert!(bob.retire(old));
        at_bob.open(&bob, now, &to_new, b"").unwrap();
        assert_eq!(cached_with(&at_bob, old), 0);
        assert_eq!(cached_with(&at_bob, new), 1);

        // Alice removes the old peer key: its chains go, the new key's stay.
        assert!(at_alice.remove_peer_key(old));
        assert_eq!(cached_with(&at_alice, old), 0);
        assert_eq!(cached_with(&at_alice, new), 1);

        // Once more through a seal: Bob rotates again and retires the second key.
        let bob_newest = verified(
            bob.add_sealing_key(&mut rng, now.saturating_add(120), DAY),
            now,
        );
        assert!(bob.retire(new));
        at_bob
            .seal(&bob, &mut rng, now, ContentType::Text, b"4", b"")
            .unwrap();
        assert_eq!(cached_with(&at_bob, new), 0);
        assert_eq!(cached_with(&at_bob, bob_newest.sealing_key_id()), 1);
    }
}
