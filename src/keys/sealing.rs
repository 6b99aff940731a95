//! X25519 sealing keys, key ids and agreement (SPEC.md §4.3, §4.4).

use core::fmt;

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use super::KeyError;
use crate::kdf::derive_labeled;
use crate::labels;

/// Length of a [`SealingKeyId`].
pub const KEY_ID_LEN: usize = 16;

/// A device's X25519 static secret. Zeroized on drop, not `Clone`; `Debug`
/// shows only the key id.
pub struct SealingSecretKey(StaticSecret);

impl ZeroizeOnDrop for SealingSecretKey {}

impl SealingSecretKey {
    /// Draws 32 random bytes from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        Self::from_bytes(&bytes)
    }

    /// The key for 32 secret bytes (clamped by X25519 when used, RFC 7748 §5).
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(StaticSecret::from(*bytes))
    }

    /// The 32 secret bytes, for storing the key. Handle with care.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key, `X25519(secret, 9)`.
    pub fn public_key(&self) -> SealingPublicKey {
        SealingPublicKey(PublicKey::from(&self.0).to_bytes())
    }

    /// X25519 agreement with a peer's public key (SPEC.md §4.4). Fails with
    /// [`KeyError::NonContributory`] when the result is all zeros, which is
    /// the case exactly when the peer key has small order.
    pub fn agree(&self, peer: &SealingPublicKey) -> Result<SharedSecret, KeyError> {
        let shared = self.0.diffie_hellman(&PublicKey::from(peer.0));
        if shared.was_contributory() {
            Ok(SharedSecret(shared))
        } else {
            Err(KeyError::NonContributory)
        }
    }
}

impl fmt::Debug for SealingSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingSecretKey")
            .field("key_id", &self.public_key().key_id())
            .finish_non_exhaustive()
    }
}

/// A raw X25519 shared secret. Zeroized on drop; `Debug` prints no secret.
pub struct SharedSecret(x25519_dalek::SharedSecret);

impl ZeroizeOnDrop for SharedSecret {}

impl SharedSecret {
    /// The 32 shared bytes. Only key derivations should read these.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(<secret>)")
    }
}

/// `p = 2^255 - 19`, little-endian.
const FIELD_PRIME_LE: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// The canonical u-coordinates of the points of small order on Curve25519 and
/// its twist: 0, 1, two points of order 8, and p - 1 (SPEC.md §4.3).
pub const SMALL_ORDER_U: [[u8; 32]; 5] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    {
        let mut p_minus_1 = FIELD_PRIME_LE;
        p_minus_1[0] = 0xec;
        p_minus_1
    },
];

/// An X25519 public key as 32 bytes. Any 32 bytes can be held (RFC 7748
/// decoding is total); [`SealingPublicKey::validate`] applies the registration
/// rules of SPEC.md §4.3.
///
/// A server meets it as the key of its
/// [`KeyDirectory`](crate::registration::KeyDirectory) (see the walkthrough in
/// [`registration`](crate::registration)).
///
/// ```
/// use letterseal::keys::{KeyError, SealingPublicKey, SealingSecretKey};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([11; 32]);
/// let key = SealingSecretKey::generate(&mut rng).public_key();
/// let stored: [u8; 32] = key.to_bytes();
/// let loaded = SealingPublicKey::from_bytes(stored); // no checks: any 32 bytes
/// assert_eq!(loaded.as_bytes(), &stored);
/// assert_eq!(loaded.key_id(), key.key_id()); // anyone can derive the id
/// assert_eq!(SealingPublicKey::from_bytes([0; 32]).validate(), Err(KeyError::SmallOrderSealingKey));
/// # Ok::<(), KeyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SealingPublicKey(#[serde(with = "crate::serde_hex")] [u8; 32]);

impl SealingPublicKey {
    /// Wraps 32 bytes without checks.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The 32-byte encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// True if the encoding is the canonical one: top bit clear and `u < p`.
    pub fn is_canonical(&self) -> bool {
        // Compare as little-endian integers from the most significant byte down.
        // Public data, so a plain comparison is fine.
        self.0.iter().rev().cmp(FIELD_PRIME_LE.iter().rev()) == core::cmp::Ordering::Less
    }

    /// True if the point has order 1, 2, 4 or 8 on the curve or its twist, i.e.
    /// `[8]P` is the point at infinity. X25519 masks the top bit; among the
    /// masked encodings exactly seven have small order: the five canonical ones
    /// in [`SMALL_ORDER_U`] and `p`, `p + 1` (encodings of 0 and 1). The key is
    /// compared with all seven in constant time (SPEC.md §4.3), which a unit test
    /// confirms against the Montgomery ladder.
    pub fn has_small_order(&self) -> bool {
        let mut u = self.0;
        if let Some(top) = u.last_mut() {
            *top &= 0x7f;
        }
        let mut p_plus_1 = FIELD_PRIME_LE;
        p_plus_1[0] = 0xee;
        SMALL_ORDER_U
            .iter()
            .chain([&FIELD_PRIME_LE, &p_plus_1])
            .fold(subtle::Choice::from(0), |found, bad| found | u.ct_eq(bad))
            .into()
    }

    /// The registration rules (SPEC.md §4.3): canonical, then not small order.
    pub fn validate(&self) -> Result<(), KeyError> {
        if !self.is_canonical() {
            return Err(KeyError::NonCanonicalSealingKey);
        }
        if self.has_small_order() {
            return Err(KeyError::SmallOrderSealingKey);
        }
        Ok(())
    }

    /// The key id: `derive_labeled("", pk, "sealing key id", "", 16)` (SPEC.md §4.3).
    pub fn key_id(&self) -> SealingKeyId {
        let mut id = [0u8; KEY_ID_LEN];
        #[expect(
            clippy::let_underscore_must_use,
            reason = "A 16-byte output with a constant label cannot exceed any limit"
        )]
        let _ = derive_labeled(b"", &self.0, labels::kdf::SEALING_KEY_ID, b"", &mut id);
        SealingKeyId(id)
    }
}

impl fmt::Debug for SealingPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingPublicKey(")?;
        super::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// The id of a sealing key: 16 bytes derived from its public key, so anyone can
/// check it. Messages name the key ids they were sealed with.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SealingKeyId(#[serde(with = "crate::serde_hex")] [u8; KEY_ID_LEN]);

impl SealingKeyId {
    /// Wraps 16 bytes (for decoding; derive real ids with [`SealingPublicKey::key_id`]).
    pub fn from_bytes(bytes: [u8; KEY_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub fn to_bytes(&self) -> [u8; KEY_ID_LEN] {
        self.0
    }

    /// The 16 bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }
}

impl fmt::Debug for SealingKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKeyId(")?;
        super::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

impl fmt::Display for SealingKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_hex(f, &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::montgomery::MontgomeryPoint;
    use curve25519_dalek::scalar::Scalar;

    fn p_minus(k: u8) -> [u8; 32] {
        let mut b = FIELD_PRIME_LE;
        b[0] -= k;
        b
    }

    #[test]
    fn key_id_displays_as_lowercase_hex() {
        let id = SealingKeyId::from_bytes([
            0x00, 0x01, 0x0a, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0,
            0xb0, 0xc0,
        ]);
        assert_eq!(alloc::format!("{id}"), "00010aff102030405060708090a0b0c0");
    }

    #[test]
    fn canonical_boundary() {
        assert!(SealingPublicKey::from_bytes(p_minus(1)).is_canonical());
        assert!(!SealingPublicKey::from_bytes(FIELD_PRIME_LE).is_canonical());
        let mut top = [0u8; 32];
        top[0] = 9;
        assert!(SealingPublicKey::from_bytes(top).is_canonical());
        top[31] = 0x80;
        assert!(!SealingPublicKey::from_bytes(top).is_canonical());
    }

    /// `[8]P == O` with the Montgomery ladder: the definition the list encodes.
    fn ladder_small_order(bytes: [u8; 32]) -> bool {
        (MontgomeryPoint(bytes) * Scalar::from(8u8)).0 == [0u8; 32]
    }

    #[test]
    fn the_five_listed_points_have_small_order_by_the_ladder() {
        for bytes in SMALL_ORDER_U {
            assert!(ladder_small_order(bytes), "{bytes:02x?}");
            let key = SealingPublicKey::from_bytes(bytes);
            assert!(key.has_small_order());
            assert_eq!(key.validate(), Err(KeyError::SmallOrderSealingKey));
            let secret = SealingSecretKey::from_bytes(&[0x42; 32]);
            assert_eq!(secret.agree(&key).unwrap_err(), KeyError::NonContributory);
        }
    }

    #[test]
    fn list_and_ladder_agree_on_other_values() {
        // Values around p (some with the top bit set), small values, and a spread of others.
        let mut values: alloc::vec::Vec<[u8; 32]> = (0u8..=38)
            .flat_map(|k| {
                let mut v = FIELD_PRIME_LE;
                v[0] = 0xd9 + k;
                let mut top = v;
                top[31] |= 0x80;
                [v, top]
            })
            .collect();
        values.extend((0u8..=255).map(|b| {
            let mut v = [b; 32];
            v[0] = b.wrapping_mul(37);
            v
        }));
        values.extend((0u8..=20).map(|k| {
            let mut v = [0u8; 32];
            v[0] = k;
            v
        }));
        for bytes in values {
            let mut masked = bytes;
            masked[31] &= 0x7f;
            assert_eq!(
                SealingPublicKey::from_bytes(bytes).has_small_order(),
                ladder_small_order(masked),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn canonical_values_near_p_are_handled() {
        let base = {
            let mut b = [0u8; 32];
            b[0] = 9;
            b
        };
        assert!(!SealingPublicKey::from_bytes(base).has_small_order());
        assert_eq!(SealingPublicKey::from_bytes(base).validate(), Ok(()));
        // p and p + 1 encode 0 and 1: small order, but rejected first as non-canonical.
        let mut p_plus_1 = FIELD_PRIME_LE;
        p_plus_1[0] += 1;
        for bytes in [FIELD_PRIME_LE, p_plus_1] {
            let key = SealingPublicKey::from_bytes(bytes);
            assert!(key.has_small_order());
            assert_eq!(key.validate(), Err(KeyError::NonCanonicalSealingKey));
        }
    }

    #[test]
    fn agreement_is_symmetric() {
        let a = SealingSecretKey::from_bytes(&[1; 32]);
        let b = SealingSecretKey::from_bytes(&[2; 32]);
        let ab = a.agree(&b.public_key()).unwrap();
        let ba = b.agree(&a.public_key()).unwrap();
        assert_eq!(ab.as_bytes(), ba.as_bytes());
    }

    #[test]
    fn debug_prints_no_secret() {
        let key = SealingSecretKey::from_bytes(&[0xcd; 32]);
        let text = alloc::format!("{key:?}");
        assert!(text.starts_with("SealingSecretKey"));
        assert!(!text.contains("cdcd"));
        let shared = key
            .agree(&SealingSecretKey::from_bytes(&[3; 32]).public_key())
            .unwrap();
        assert_eq!(alloc::format!("{shared:?}"), "SharedSecret(<secret>)");
    }
}
