//! The wrap channel of a session (SPEC.md §8.4): group epoch secrets sealed
//! from the distributor to one member, apart from chat messages.
//!
//! A wrap uses the session's pairwise chain for the two sealing keys the
//! group's roster names, its own label and the caller's context; it neither
//! uses nor changes the session's counter or replay window (its replay rule
//! is the group's strict epoch progression). This piece only borrows the
//! session's chain cache, so it can move with the chain when sessions change.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{ChainError, Direction, EXPIRY_SKEW_SECONDS, Session};
use crate::aead::{self, AeadKey, AeadNonce, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::device::DeviceKeys;
use crate::kdf::derive_labeled;
use crate::keys::{SealingKeyId, SealingPublicKey};
use crate::labels;
use crate::time::Timestamp;

/// Bytes of the secret a wrap carries.
pub const WRAPPED_SECRET_LEN: usize = 32;
/// Bytes of a wrap: salt (16) ‖ sealed secret (32) ‖ tag (16).
pub const WRAP_LEN: usize = WRAP_SALT_LEN + WRAPPED_SECRET_LEN + TAG_LEN;
/// Bytes of a wrap's salt.
pub const WRAP_SALT_LEN: usize = 16;

/// Why a wrap could not be sealed or opened. Nothing changes on failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WrapError {
    /// The device passed in is not the session's local device.
    WrongDevice,
    /// The local key id is not a live sealing key of the device.
    UnknownLocalKey(SealingKeyId),
    /// The session knows no sealing key of the peer with this id (fetch the
    /// peer's bundle and add it to the session).
    UnknownPeerKey(SealingKeyId),
    /// The session knows another public key under the peer key id given.
    PeerKeyMismatch,
    /// The local key expired before `now` (plus the allowed clock skew).
    LocalKeyExpired(SealingKeyId),
    /// The peer's key expired before `now` (plus the allowed clock skew).
    PeerKeyExpired(SealingKeyId),
    /// The agreement produced the all-zero value (impossible with verified keys).
    NonContributory,
    /// The wrap's tag does not verify (another context, another pair of keys, or tampered).
    AuthenticationFailed,
}

impl WrapError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::WrongDevice => "WrongDevice",
            Self::UnknownLocalKey(_) => "UnknownLocalKey",
            Self::UnknownPeerKey(_) => "UnknownPeerKey",
            Self::PeerKeyMismatch => "PeerKeyMismatch",
            Self::LocalKeyExpired(_) => "LocalKeyExpired",
            Self::PeerKeyExpired(_) => "PeerKeyExpired",
            Self::NonContributory => "NonContributory",
            Self::AuthenticationFailed => "AuthenticationFailed",
        }
    }
}

impl fmt::Display for WrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownLocalKey(id) => write!(f, "no live local sealing key {id}"),
            Self::UnknownPeerKey(id) => write!(f, "unknown peer sealing key {id}"),
            Self::LocalKeyExpired(id) => write!(f, "own sealing key {id} has expired"),
            Self::PeerKeyExpired(id) => write!(f, "peer sealing key {id} has expired"),
            Self::WrongDevice => f.write_str("device does not belong to this session"),
            Self::PeerKeyMismatch => f.write_str("peer key id names another public key"),
            Self::NonContributory => f.write_str("X25519 result is all zeros"),
            Self::AuthenticationFailed => f.write_str("wrap does not authenticate"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for WrapError {}

/// The keys of one wrap: `DeriveLabeled(salt, chain, "group key wrap", context, 44)`.
fn wrap_keys(chain: &[u8; 32], salt: &[u8], context: &[u8]) -> (AeadKey, AeadNonce) {
    let mut okm = Zeroizing::new([0u8; KEY_LEN + NONCE_LEN]);
    // Constant label and a 44-byte output; contexts are small: cannot fail.
    let _ = derive_labeled(
        salt,
        chain,
        labels::kdf::GROUP_KEY_WRAP,
        context,
        okm.as_mut(),
    );
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    let mut nonce = [0u8; NONCE_LEN];
    let (k, n) = okm.split_at(KEY_LEN);
    key.copy_from_slice(k);
    nonce.copy_from_slice(n);
    (AeadKey::from_bytes(*key), AeadNonce::from_bytes(nonce))
}

impl Session {
    /// The peer's known key `peer_key`, which must be `expected` when given
    /// and not expired at `now`.
    fn wrap_peer_key(
        &self,
        now: Timestamp,
        peer_key: &SealingKeyId,
        expected: Option<&SealingPublicKey>,
    ) -> Result<(), WrapError> {
        let known = self
            .peer_key(peer_key)
            .ok_or(WrapError::UnknownPeerKey(*peer_key))?;
        match expected {
            Some(public) if known.public != *public => Err(WrapError::PeerKeyMismatch),
            _ if known.expired_at(now) => Err(WrapError::PeerKeyExpired(*peer_key)),
            _ => Ok(()),
        }
    }

    fn check_local(&self, device: &DeviceKeys, local_key: &SealingKeyId) -> Result<(), WrapError> {
        if !self.check_device(device) {
            return Err(WrapError::WrongDevice);
        }
        if device.sealing_key(local_key).is_none() {
            return Err(WrapError::UnknownLocalKey(*local_key));
        }
        Ok(())
    }

    fn wrap_chain(
        &mut self,
        device: &DeviceKeys,
        direction: Direction,
        local_key: &SealingKeyId,
        peer_key: &SealingKeyId,
    ) -> Result<&super::CachedChain, WrapError> {
        self.forget_retired(device);
        self.chain(device, direction, *local_key, *peer_key)
            .map_err(|e| match e {
                ChainError::NonContributory => WrapError::NonContributory,
                ChainError::UnknownLocal => WrapError::UnknownLocalKey(*local_key),
                ChainError::UnknownPeer => WrapError::UnknownPeerKey(*peer_key),
            })
    }

    /// Seals a group epoch secret to the peer on the wrap channel (SPEC.md
    /// §8.4): `salt ‖ AES-256-GCM(secret)`, 64 bytes, with keys from the
    /// session's chain for `local_key` → `peer_key` and `context` as
    /// associated data, and a hedged salt (SPEC.md §3.5) from 32 fresh bytes
    /// of `rng`, the context and the secret. Refuses either key expired at
    /// `now`. Does not touch the session's counter.
    #[allow(clippy::too_many_arguments)] // the two keys, the context and the secret are all the wrap
    pub fn seal_group_key<R: CryptoRng + ?Sized>(
        &mut self,
        device: &DeviceKeys,
        rng: &mut R,
        now: Timestamp,
        local_key: &SealingKeyId,
        peer_key: &SealingKeyId,
        context: &[u8],
        secret: &[u8; WRAPPED_SECRET_LEN],
    ) -> Result<[u8; WRAP_LEN], WrapError> {
        self.check_local(device, local_key)?;
        if device
            .sealing_key_validity(local_key)
            .is_none_or(|(_, not_after)| now >= not_after.saturating_add(EXPIRY_SKEW_SECONDS))
        {
            return Err(WrapError::LocalKeyExpired(*local_key));
        }
        self.wrap_peer_key(now, peer_key, None)?;
        let chain = self.wrap_chain(device, Direction::Outgoing, local_key, peer_key)?;
        let salt = chain.hedge.salt(rng, context, b"", secret);
        let (key, nonce) = wrap_keys(chain.key.as_bytes(), &salt, context);
        let mut out = [0u8; WRAP_LEN];
        let (head, rest) = out.split_at_mut(WRAP_SALT_LEN);
        head.copy_from_slice(&salt);
        let (body, tag_out) = rest.split_at_mut(WRAPPED_SECRET_LEN);
        body.copy_from_slice(secret);
        let tag = aead::seal_in_place_detached(&key, &nonce, context, body);
        tag_out.copy_from_slice(&tag);
        Ok(out)
    }

    /// Opens a wrap from the peer (SPEC.md §8.4), made for `local_key` with
    /// the peer's `peer_key`, which must be `peer_public` (the key the group's
    /// roster names) and not expired at `now`. Releases the secret only if
    /// the tag verifies; changes nothing but the in-memory chain cache.
    #[allow(clippy::too_many_arguments)] // the two keys, the context and the wrap are all the wrap
    pub fn open_group_key(
        &mut self,
        device: &DeviceKeys,
        now: Timestamp,
        local_key: &SealingKeyId,
        peer_key: &SealingKeyId,
        peer_public: &SealingPublicKey,
        context: &[u8],
        wrap: &[u8; WRAP_LEN],
    ) -> Result<Zeroizing<[u8; WRAPPED_SECRET_LEN]>, WrapError> {
        self.check_local(device, local_key)?;
        self.wrap_peer_key(now, peer_key, Some(peer_public))?;
        let chain = self.wrap_chain(device, Direction::Incoming, local_key, peer_key)?;
        let (salt, rest) = wrap.split_at(WRAP_SALT_LEN);
        let (body, tag) = rest.split_at(WRAPPED_SECRET_LEN);
        let mut tag_bytes = [0u8; TAG_LEN];
        tag_bytes.copy_from_slice(tag);
        let (key, nonce) = wrap_keys(chain.key.as_bytes(), salt, context);
        let mut secret = Zeroizing::new([0u8; WRAPPED_SECRET_LEN]);
        secret.copy_from_slice(body);
        aead::open_in_place_detached(&key, &nonce, context, secret.as_mut(), &tag_bytes)
            .map_err(|_| WrapError::AuthenticationFailed)?;
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{DeviceAddress, DeviceId, UserId};
    use crate::pairwise::ContentType;
    use crate::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn device(rng: &mut ChaCha20Rng, name: &str) -> (DeviceKeys, VerifiedBundle) {
        let now = Timestamp::from_unix_seconds(1_800_000_000);
        let address = DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1));
        let mut keys = DeviceKeys::generate(rng, address);
        let bundle = keys
            .add_sealing_key(rng, now, 86_400)
            .verify(&RegistrationPolicy::default(), now, None, &NoDirectory)
            .unwrap();
        (keys, bundle)
    }

    #[test]
    fn wraps_open_once_per_direction_and_context_and_leave_the_session_alone() {
        let mut rng = ChaCha20Rng::from_seed([21; 32]);
        let (alice, alice_b) = device(&mut rng, "alice");
        let (bob, bob_b) = device(&mut rng, "bob");
        let (a_key, b_key) = (alice_b.sealing_key_id(), bob_b.sealing_key_id());
        let mut at_alice = Session::new(&alice, &bob_b).unwrap();
        let mut at_bob = Session::new(&bob, &alice_b).unwrap();
        let secret = [7u8; 32];
        let now = Timestamp::from_unix_seconds(1_800_000_000);
        let wrap = at_alice
            .seal_group_key(&alice, &mut rng, now, &a_key, &b_key, b"ctx", &secret)
            .unwrap();
        assert_eq!(at_alice.next_counter(), 0, "no pairwise counter used");
        let a_pub = *alice_b.sealing_key();
        let opened = at_bob
            .open_group_key(&bob, now, &b_key, &a_key, &a_pub, b"ctx", &wrap)
            .unwrap();
        assert_eq!(*opened, secret);
        // Opening again is not a replay for the channel (the group enforces epochs).
        assert!(
            at_bob
                .open_group_key(&bob, now, &b_key, &a_key, &a_pub, b"ctx", &wrap)
                .is_ok()
        );
        assert_eq!(at_bob.highest_received(), None, "no replay window used");
        // Other context, other direction, tampering: refused.
        assert_eq!(
            at_bob.open_group_key(&bob, now, &b_key, &a_key, &a_pub, b"ctx2", &wrap),
            Err(WrapError::AuthenticationFailed)
        );
        let b_pub = *bob_b.sealing_key();
        assert_eq!(
            at_alice
                .open_group_key(&alice, now, &a_key, &b_key, &b_pub, b"ctx", &wrap)
                .unwrap_err(),
            WrapError::AuthenticationFailed
        );
        for i in 0..WRAP_LEN {
            let mut bad = wrap;
            bad[i] ^= 1;
            assert_eq!(
                at_bob.open_group_key(&bob, now, &b_key, &a_key, &a_pub, b"ctx", &bad),
                Err(WrapError::AuthenticationFailed),
                "byte {i}"
            );
        }
        // Keys the session does not know, or a public key that is not the known one.
        assert_eq!(
            at_bob.open_group_key(&bob, now, &b_key, &b_key, &a_pub, b"ctx", &wrap),
            Err(WrapError::UnknownPeerKey(b_key))
        );
        assert_eq!(
            at_bob.open_group_key(&bob, now, &b_key, &a_key, &b_pub, b"ctx", &wrap),
            Err(WrapError::PeerKeyMismatch)
        );
        assert_eq!(
            at_bob.open_group_key(&bob, now, &a_key, &a_key, &a_pub, b"ctx", &wrap),
            Err(WrapError::UnknownLocalKey(a_key))
        );
        assert_eq!(
            at_bob.open_group_key(&alice, now, &b_key, &a_key, &a_pub, b"ctx", &wrap),
            Err(WrapError::WrongDevice)
        );
        // The chat channel is unaffected: a message still opens at counter 0.
        let m = at_alice
            .seal(&alice, &mut rng, now, ContentType::Text, b"hi", b"")
            .unwrap();
        assert_eq!(at_bob.open(&bob, now, &m, b"").unwrap().counter, 0);
        // Expired keys: the bundles last one day (plus the clock-skew allowance).
        let later = now.saturating_add(86_400 + EXPIRY_SKEW_SECONDS);
        assert_eq!(
            at_bob.open_group_key(&bob, later, &b_key, &a_key, &a_pub, b"ctx", &wrap),
            Err(WrapError::PeerKeyExpired(a_key))
        );
        assert_eq!(
            at_alice
                .seal_group_key(&alice, &mut rng, later, &a_key, &b_key, b"ctx", &secret)
                .unwrap_err(),
            WrapError::LocalKeyExpired(a_key)
        );
    }
}
