//! Ed25519 identity keys (SPEC.md §4.2).

use alloc::vec::Vec;
use core::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use super::KeyError;
use crate::labels::{PROTOCOL_ID, SignatureLabel};

/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// A device's long-term Ed25519 signing key. Zeroized on drop, not `Clone`,
/// and its `Debug` shows only the public key.
pub struct IdentitySecretKey(SigningKey);

impl ZeroizeOnDrop for IdentitySecretKey {}

impl IdentitySecretKey {
    /// Draws a fresh 32-byte seed from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }

    /// The key for an RFC 8032 32-byte seed.
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for storing the key. Handle with care.
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> IdentityPublicKey {
        IdentityPublicKey(self.0.verifying_key())
    }

    /// Signs `content` under a domain label (SPEC.md §3.2):
    /// `Ed25519(PROTOCOL_ID ‖ u8(len(label)) ‖ label ‖ content)`.
    pub fn sign_labeled(&self, label: SignatureLabel, content: &[u8]) -> Signature {
        Signature(self.0.sign(&signature_input(label, content)).to_bytes())
    }
}

impl fmt::Debug for IdentitySecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentitySecretKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// `PROTOCOL_ID ‖ u8(len(label)) ‖ label ‖ content`.
fn signature_input(label: SignatureLabel, content: &[u8]) -> Vec<u8> {
    let label_bytes = label.as_bytes();
    let mut input = Vec::with_capacity(PROTOCOL_ID.len() + 1 + label_bytes.len() + content.len());
    input.extend_from_slice(PROTOCOL_ID);
    input.push(label.len_u8());
    input.extend_from_slice(label_bytes);
    input.extend_from_slice(content);
    input
}

/// A device's Ed25519 identity public key: a valid, canonical point of large order.
///
/// A client meets it when a new device joins: the new device's
/// [`Account::identity_key`](crate::account::Account::identity_key) reaches
/// the primary as 32 bytes (a QR code, say) for
/// [`Account::add_device`](crate::account::Account::add_device).
///
/// ```
/// use letterseal::keys::{IdentityPublicKey, IdentitySecretKey, KeyError};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([10; 32]);
/// let key = IdentitySecretKey::generate(&mut rng).public_key();
/// let qr_code: [u8; 32] = key.to_bytes();
/// let scanned = IdentityPublicKey::from_bytes(&qr_code)?;
/// assert_eq!(scanned.as_bytes(), &qr_code);
/// // The identity point (small order) is not a key.
/// let mut identity_point = [0u8; 32];
/// identity_point[0] = 1;
/// assert_eq!(IdentityPublicKey::from_bytes(&identity_point), Err(KeyError::InvalidIdentityKey));
/// # Ok::<(), KeyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdentityPublicKey(VerifyingKey);

impl Serialize for IdentityPublicKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::serde_hex::serialize(self.as_bytes(), serializer)
    }
}

impl<'de> Deserialize<'de> for IdentityPublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = crate::serde_hex::deserialize::<D, 32>(deserializer)?;
        Self::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}

impl IdentityPublicKey {
    /// Parses 32 bytes, rejecting encodings that are not a curve point, that
    /// are not canonical (`y ≥ p`, or the sign bit set for `x = 0`), and points
    /// of small order (SPEC.md §4.2).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        // Canonical: y < p on the bytes (sign bit masked). A set sign bit with
        // x = 0 only occurs for y = ±1, points of small order that is_weak rejects.
        const P: [u8; 32] = {
            let mut p = [0xffu8; 32];
            p[0] = 0xed;
            p[31] = 0x7f;
            p
        };
        let mut y = *bytes;
        if let Some(top) = y.last_mut() {
            *top &= 0x7f;
        }
        let canonical = y.iter().rev().cmp(P.iter().rev()) == core::cmp::Ordering::Less;
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidIdentityKey)?;
        if !canonical || key.is_weak() {
            return Err(KeyError::InvalidIdentityKey);
        }
        Ok(Self(key))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The 32-byte encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Verifies a labelled signature with RFC 8032 strict verification
    /// (canonical `S`, no small-order `R`).
    pub fn verify_labeled(
        &self,
        label: SignatureLabel,
        content: &[u8],
        signature: &Signature,
    ) -> Result<(), KeyError> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(&signature_input(label, content), &sig)
            .map_err(|_| KeyError::BadSignature)
    }
}

impl TryFrom<[u8; 32]> for IdentityPublicKey {
    type Error = KeyError;
    fn try_from(bytes: [u8; 32]) -> Result<Self, KeyError> {
        Self::from_bytes(&bytes)
    }
}

impl From<IdentityPublicKey> for [u8; 32] {
    fn from(key: IdentityPublicKey) -> [u8; 32] {
        key.to_bytes()
    }
}

impl PartialOrd for IdentityPublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IdentityPublicKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for IdentityPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityPublicKey(")?;
        super::write_hex(f, self.as_bytes())?;
        f.write_str(")")
    }
}

/// An Ed25519 signature (64 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; SIGNATURE_LEN]);

impl Signature {
    /// Wraps 64 signature bytes (checked only when verified).
    pub fn from_bytes(bytes: [u8; SIGNATURE_LEN]) -> Self {
        Self(bytes)
    }

    /// The 64 signature bytes.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(")?;
        super::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels;

    #[test]
    fn rfc8032_test_1_public_key() {
        // RFC 8032 §7.1 TEST 1.
        let seed = [
            0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec,
            0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03,
            0x1c, 0xae, 0x7f, 0x60,
        ];
        let public = [
            0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64,
            0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68,
            0xf7, 0x07, 0x51, 0x1a,
        ];
        assert_eq!(
            IdentitySecretKey::from_seed(&seed).public_key().to_bytes(),
            public
        );
    }

    #[test]
    fn conversions_and_order_follow_the_encoding() {
        let a = IdentitySecretKey::from_seed(&[1; 32]).public_key();
        let b = IdentitySecretKey::from_seed(&[2; 32]).public_key();
        assert_eq!(<[u8; 32]>::from(a), *a.as_bytes());
        assert_eq!(IdentityPublicKey::try_from(<[u8; 32]>::from(b)), Ok(b));
        // Ordered by the 32-byte encoding (rosters and maps sort by it).
        let by_bytes = a.as_bytes().cmp(b.as_bytes());
        assert_ne!(by_bytes, core::cmp::Ordering::Equal);
        assert_eq!(a.cmp(&b), by_bytes);
        assert_eq!(a.partial_cmp(&b), Some(by_bytes));
        assert_eq!(b.partial_cmp(&a), Some(by_bytes.reverse()));
        assert_eq!(a.partial_cmp(&a), Some(core::cmp::Ordering::Equal));
    }

    #[test]
    fn labelled_signature_binds_label_and_content() {
        let key = IdentitySecretKey::from_seed(&[5; 32]);
        let public = key.public_key();
        let sig = key.sign_labeled(labels::sig::KEY_BUNDLE, b"content");
        assert!(
            public
                .verify_labeled(labels::sig::KEY_BUNDLE, b"content", &sig)
                .is_ok()
        );
        assert_eq!(
            public.verify_labeled(labels::sig::KEY_BUNDLE, b"Content", &sig),
            Err(KeyError::BadSignature)
        );
        assert_eq!(
            public.verify_labeled(labels::sig::ONE_TIME_KEY, b"content", &sig),
            Err(KeyError::BadSignature)
        );
    }

    #[test]
    fn small_order_identity_keys_are_rejected() {
        // The neutral element (0, 1) encodes as 01 00..00.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            IdentityPublicKey::from_bytes(&identity),
            Err(KeyError::InvalidIdentityKey)
        );
    }

    #[test]
    fn non_canonical_identity_keys_are_rejected() {
        // y = p + 3 decodes (mod p) to a point of large order, but is not canonical.
        let mut y_plus_p = [0xffu8; 32];
        y_plus_p[0] = 0xf0;
        y_plus_p[31] = 0x7f;
        assert_eq!(
            IdentityPublicKey::from_bytes(&y_plus_p),
            Err(KeyError::InvalidIdentityKey)
        );
        // The canonical encoding of the same point (y = 3) is accepted.
        let mut y3 = [0u8; 32];
        y3[0] = 3;
        assert!(IdentityPublicKey::from_bytes(&y3).is_ok());
    }

    #[test]
    fn debug_shows_no_secret() {
        let key = IdentitySecretKey::from_seed(&[0xab; 32]);
        let debug = alloc::format!("{key:?}");
        assert!(debug.contains("IdentitySecretKey"));
        assert!(!debug.contains("abababab"));
    }
}
