//! Legacy key pairs (SPEC.md §11.1): one static X25519 key pair per server
//! key id. Keys are not signed; a user may hold several, and an opener picks
//! the private key named by the message's recipient key id.
//!
//! The secret half is a [`SealingSecretKey`] (zeroized on drop, never printed);
//! the public half a [`SealingPublicKey`].
//!
//! ```
//! use letterseal::legacy::ids::LegacyKeyId;
//! use letterseal::legacy::keys::{LegacyKeyPair, find_key};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//!
//! let keys = [
//!     LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(10)),
//!     LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(11)),
//! ];
//! assert_eq!(find_key(&keys, LegacyKeyId::new(11)).unwrap().key_id(), LegacyKeyId::new(11));
//! assert!(find_key(&keys, LegacyKeyId::new(12)).is_err());
//! assert!(!format!("{:?}", keys[0]).is_empty());
//! ```

use core::fmt;

use rand_core::CryptoRng;
use zeroize::ZeroizeOnDrop;

use super::LegacyError;
use super::ids::LegacyKeyId;
use crate::keys::{SealingPublicKey, SealingSecretKey};

/// A public key with the key id the server assigned to it: what a sender
/// needs to seal for a recipient (or for a group: the group public key and
/// the group key id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LegacyPublicKey {
    /// The server-assigned key id.
    pub key_id: LegacyKeyId,
    /// The X25519 public key.
    pub key: SealingPublicKey,
}

/// A static X25519 key pair with its server-assigned key id (SPEC.md §11.1).
/// The secret is zeroized on drop; `Debug` shows the key id and public key only.
pub struct LegacyKeyPair {
    key_id: LegacyKeyId,
    secret: SealingSecretKey,
    public: SealingPublicKey,
}

impl ZeroizeOnDrop for LegacyKeyPair {}

impl LegacyKeyPair {
    /// A fresh key pair from 32 random bytes of `rng` (SPEC.md §11.1).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R, key_id: LegacyKeyId) -> Self {
        Self::from_secret(key_id, SealingSecretKey::generate(rng))
    }

    /// The pair for a stored secret key.
    pub fn from_secret(key_id: LegacyKeyId, secret: SealingSecretKey) -> Self {
        let public = secret.public_key();
        Self {
            key_id,
            secret,
            public,
        }
    }

    /// The pair for 32 stored secret bytes.
    pub fn from_bytes(key_id: LegacyKeyId, secret: &[u8; 32]) -> Self {
        Self::from_secret(key_id, SealingSecretKey::from_bytes(secret))
    }

    /// The server-assigned key id.
    pub fn key_id(&self) -> LegacyKeyId {
        self.key_id
    }

    /// The X25519 public key.
    pub fn public_key(&self) -> SealingPublicKey {
        self.public
    }

    /// The public key with its key id, as peers use it to seal.
    pub fn public(&self) -> LegacyPublicKey {
        LegacyPublicKey {
            key_id: self.key_id,
            key: self.public,
        }
    }

    /// The secret key (for group key wraps, SPEC.md §11.4). Handle with care.
    pub fn secret_key(&self) -> &SealingSecretKey {
        &self.secret
    }
}

impl fmt::Debug for LegacyKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyKeyPair")
            .field("key_id", &self.key_id)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The pair with key id `key_id` (the first, should the list repeat an id),
/// or [`LegacyError::UnknownKey`] (SPEC.md §11.1).
pub fn find_key(
    keys: &[LegacyKeyPair],
    key_id: LegacyKeyId,
) -> Result<&LegacyKeyPair, LegacyError> {
    keys.iter()
        .find(|pair| pair.key_id == key_id)
        .ok_or(LegacyError::UnknownKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_matches_its_secret() {
        let pair = LegacyKeyPair::from_bytes(LegacyKeyId::new(5), &[7; 32]);
        assert_eq!(
            pair.public_key(),
            SealingSecretKey::from_bytes(&[7; 32]).public_key()
        );
        assert_eq!(pair.public().key_id, LegacyKeyId::new(5));
        assert_eq!(pair.public().key, pair.public_key());
        assert_eq!(*pair.secret_key().to_bytes(), [7; 32]);
    }

    #[test]
    fn debug_prints_no_secret() {
        let pair = LegacyKeyPair::from_bytes(LegacyKeyId::new(5), &[0xcd; 32]);
        let text = alloc::format!("{pair:?}");
        assert!(text.starts_with("LegacyKeyPair"));
        assert!(!text.contains("cdcd"));
        assert!(!text.contains("205, 205"));
    }

    #[test]
    fn lookup_by_key_id() {
        let keys = [
            LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &[1; 32]),
            LegacyKeyPair::from_bytes(LegacyKeyId::new(2), &[2; 32]),
            LegacyKeyPair::from_bytes(LegacyKeyId::new(2), &[3; 32]),
        ];
        assert_eq!(
            find_key(&keys, LegacyKeyId::new(2)).unwrap().public_key(),
            keys[1].public_key()
        );
        assert_eq!(
            find_key(&keys, LegacyKeyId::new(3)).unwrap_err(),
            LegacyError::UnknownKey
        );
        assert_eq!(
            find_key(&[], LegacyKeyId::new(1)).unwrap_err(),
            LegacyError::UnknownKey
        );
    }
}
