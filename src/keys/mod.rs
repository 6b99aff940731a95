//! Device keys (SPEC.md §4): an Ed25519 identity key that signs, X25519
//! sealing keys that agree, ML-KEM-768 keys that encapsulate, and key ids
//! derived from public keys.
//!
//! ```
//! use letterseal::keys::{IdentitySecretKey, SealingSecretKey};
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([0; 32]);
//! # use rand_core::SeedableRng;
//!
//! let identity = IdentitySecretKey::generate(&mut rng);
//! let alice = SealingSecretKey::generate(&mut rng);
//! let bob = SealingSecretKey::generate(&mut rng);
//!
//! // Anyone can recompute a key id from the public key.
//! let bob_public = bob.public_key();
//! assert_eq!(bob_public.key_id(), bob.public_key().key_id());
//! assert!(bob_public.validate().is_ok());
//!
//! // Agreement is symmetric and refuses non-contributory results.
//! let ab = alice.agree(&bob_public).unwrap();
//! let ba = bob.agree(&alice.public_key()).unwrap();
//! assert_eq!(ab.as_bytes(), ba.as_bytes());
//! # let _ = identity;
//! ```

mod identity;
mod kem;
mod sealing;

use core::fmt;

pub use identity::{IdentityPublicKey, IdentitySecretKey, SIGNATURE_LEN, Signature};
pub use kem::{
    KEM_CIPHERTEXT_LEN, KEM_ENCAPSULATION_KEY_LEN, KEM_KEY_ID_LEN, KEM_SEED_LEN,
    KEM_SHARED_SECRET_LEN, KemCiphertext, KemDecapsulationKey, KemEncapsulationKey, KemKeyId,
    KemSharedSecret, UncheckedKemKey,
};
pub use sealing::{
    KEY_ID_LEN, SMALL_ORDER_U, SealingKeyId, SealingPublicKey, SealingSecretKey, SharedSecret,
};

/// Why a key operation failed. See the examples on [`IdentityPublicKey`] and
/// [`SealingPublicKey`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The 32 bytes are not a valid Ed25519 public key of large order.
    InvalidIdentityKey,
    /// An Ed25519 signature did not verify.
    BadSignature,
    /// An X25519 public key is not canonically encoded (top bit set or `u ≥ p`).
    NonCanonicalSealingKey,
    /// An X25519 public key has small order.
    SmallOrderSealingKey,
    /// X25519 produced the all-zero value (the peer key has small order).
    NonContributory,
    /// An ML-KEM-768 encapsulation key of the wrong length, or one that fails
    /// the FIPS 203 §7.2 modulus check.
    InvalidKemKey,
    /// An ML-KEM-768 ciphertext of the wrong length.
    InvalidKemCiphertext,
    /// An ML-KEM seed that is not 64 bytes.
    InvalidKemSeed,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidIdentityKey => "invalid identity key",
            Self::BadSignature => "signature does not verify",
            Self::NonCanonicalSealingKey => "sealing key is not canonically encoded",
            Self::SmallOrderSealingKey => "sealing key has small order",
            Self::NonContributory => "X25519 result is all zeros (non-contributory)",
            Self::InvalidKemKey => "invalid ML-KEM encapsulation key",
            Self::InvalidKemCiphertext => "ML-KEM ciphertext has the wrong length",
            Self::InvalidKemSeed => "ML-KEM seed is not 64 bytes",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for KeyError {}

pub(crate) fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}
