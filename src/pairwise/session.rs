//! The pairwise session (SPEC.md §7.5–7.7).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use super::ContentType;
use super::header::{HEADER_LEN, Header, SALT_LEN};
use super::kdf::{ChainKey, PartyKeys, chain_key, message_keys};
use super::window::{ReplayWindow, WindowError};
use crate::aead::{self, TAG_LEN};
use crate::codec::{DecodeError, Reader};
use crate::device::DeviceKeys;
use crate::ids::DeviceAddress;
use crate::keys::{IdentityPublicKey, SealingKeyId, SealingPublicKey};
use crate::registration::VerifiedBundle;
use crate::time::Timestamp;

mod wrap;
pub use wrap::{WRAP_LEN, WRAP_SALT_LEN, WRAPPED_SECRET_LEN, WrapError};

/// Version of the serialized session state.
pub const SESSION_STATE_VERSION: u32 = 1;

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
    /// The agreement produced the all-zero value (impossible with verified keys).
    NonContributory,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WrongDevice => "device does not belong to this session",
            Self::NoSealingKey => "device has no live sealing key",
            Self::CounterExhausted => "message counter exhausted",
            Self::NonContributory => "X25519 result is all zeros",
        })
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Party {
    address: DeviceAddress,
    identity_key: IdentityPublicKey,
}

/// A peer sealing key known from a verified bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerKey {
    key_id: SealingKeyId,
    public: SealingPublicKey,
    not_before: Timestamp,
    not_after: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    Outgoing,
    Incoming,
}

/// Cached chain keys: one per direction and pair of sealing keys.
type ChainCache = BTreeMap<(Direction, SealingKeyId, SealingKeyId), ChainKey>;

/// A pairwise LS3 session between this device and one peer device.
///
/// The session holds only public data and counters; the device's secrets stay
/// in [`DeviceKeys`], which every call takes, so retiring a key there takes
/// effect immediately. Derived chain keys are cached in memory only (never
/// serialized) and dropped once their local key is retired.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    #[serde(deserialize_with = "expect_state_version")]
    version: u32,
    local: Party,
    peer: Party,
    /// The peer's known sealing keys (a handful at most).
    peer_keys: Vec<PeerKey>,
    peer_current: SealingKeyId,
    next_counter: u64,
    window: ReplayWindow,
    #[serde(skip)]
    chains: ChainCache,
}

fn expect_state_version<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(d)?;
    if version == SESSION_STATE_VERSION {
        Ok(version)
    } else {
        Err(serde::de::Error::custom(alloc::format!(
            "unsupported session state version {version}"
        )))
    }
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
            version: SESSION_STATE_VERSION,
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
            chains: ChainCache::new(),
        })
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
        self.peer_keys.retain(|k| k.key_id != key_id);
        self.peer_keys.push(PeerKey {
            key_id,
            public: *bundle.sealing_key(),
            not_before,
            not_after,
        });
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
        self.peer_keys.iter().find(|k| k.key_id == *key_id)
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
    ) -> Result<&ChainKey, ChainError> {
        use alloc::collections::btree_map::Entry;
        match self.chains.entry((direction, local_id, peer_id)) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let secret = device
                    .sealing_key(&local_id)
                    .ok_or(ChainError::UnknownLocal)?;
                let peer_key = self
                    .peer_keys
                    .iter()
                    .find(|k| k.key_id == peer_id)
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
                Ok(e.insert(key))
            }
        }
    }

    /// Seals a message to the peer (SPEC.md §7.5): a fresh 16-byte salt from
    /// `rng`, the next counter, the device's newest sealing key and the peer's
    /// current one. Returns `header ‖ ciphertext ‖ tag`.
    ///
    /// `associated_data` is authenticated, not sent; the receiver must pass
    /// the same bytes to [`Session::open`].
    pub fn seal<R: CryptoRng + ?Sized>(
        &mut self,
        device: &DeviceKeys,
        rng: &mut R,
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
        let peer_id = self.peer_current;
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let mut header = Header {
            content_type,
            sender_key_id: local_id,
            recipient_key_id: peer_id,
            counter,
            salt,
            commitment: [0; 32],
        };
        let chain = self
            .chain(device, Direction::Outgoing, local_id, peer_id)
            .map_err(|e| match e {
                ChainError::NonContributory => SealError::NonContributory,
                ChainError::UnknownLocal | ChainError::UnknownPeer => SealError::NoSealingKey,
            })?;
        let keys = message_keys(chain, &header.salt, &header.bound_fields());
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
    /// reflection, recipient key, sender key, replay window, key commitment,
    /// AEAD tag; only then releases the plaintext and records the counter.
    pub fn open(
        &mut self,
        device: &DeviceKeys,
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
        if self.peer_key(&header.sender_key_id).is_none() {
            return Err(OpenError::UnknownSenderKey(header.sender_key_id));
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
        let keys = message_keys(chain, &header.salt, &header.bound_fields());
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
        bundle
            .verify(&RegistrationPolicy::default(), now, None, &NoDirectory)
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
            .seal(&alice, &mut rng, ContentType::Text, b"1", b"")
            .unwrap();
        at_bob.open(&bob, &to_old, b"").unwrap();
        let from_old = at_bob
            .seal(&bob, &mut rng, ContentType::Text, b"2", b"")
            .unwrap();
        at_alice.open(&alice, &from_old, b"").unwrap();
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
            .seal(&alice, &mut rng, ContentType::Text, b"3", b"")
            .unwrap();
        assert!(bob.retire(old));
        at_bob.open(&bob, &to_new, b"").unwrap();
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
            .seal(&bob, &mut rng, ContentType::Text, b"4", b"")
            .unwrap();
        assert_eq!(cached_with(&at_bob, new), 0);
        assert_eq!(cached_with(&at_bob, bob_newest.sealing_key_id()), 1);
    }
}
