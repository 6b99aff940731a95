//! ML-KEM-768 key encapsulation (FIPS 203; SPEC.md §3, §4.6): a thin,
//! typed wrapper over the formally verified `libcrux-ml-kem`.
//!
//! A device publishes a [`KemEncapsulationKey`] in its signed key bundle
//! (SPEC.md §5.1) and keeps the matching [`KemDecapsulationKey`] as its
//! 64-byte seed `d ‖ z`. A peer encapsulates to the published key and sends
//! the [`KemCiphertext`]; both sides then hold the same [`KemSharedSecret`].
//!
//! Every encapsulation key that enters the crate from outside passes the
//! FIPS 203 §7.2 input check (exact length, then the modulus check), so
//! encapsulating to a malformed key is impossible; a ciphertext must be
//! exactly [`KEM_CIPHERTEXT_LEN`] bytes. Decapsulation never fails on a
//! well-formed ciphertext: a modified one yields an unrelated secret
//! (implicit rejection), which the protocol detects afterwards.
//!
//! ```
//! use letterseal::keys::{KemCiphertext, KemDecapsulationKey, KemEncapsulationKey};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
//!
//! let bob = KemDecapsulationKey::generate(&mut rng);
//! let published = bob.encapsulation_key().as_bytes().to_vec(); // inside Bob's bundle
//!
//! // Alice checks the key, encapsulates, sends the ciphertext.
//! let bob_key = KemEncapsulationKey::from_bytes(&published).unwrap();
//! let (ciphertext, alice_secret) = bob_key.encapsulate(&mut rng);
//!
//! // Bob decapsulates.
//! let received = KemCiphertext::from_bytes(ciphertext.as_bytes()).unwrap();
//! let bob_secret = bob.decapsulate(&received);
//! assert_eq!(alice_secret.as_bytes(), bob_secret.as_bytes());
//!
//! // Malformed input is refused with a typed error.
//! assert!(KemEncapsulationKey::from_bytes(&published[1..]).is_err());
//! assert!(KemCiphertext::from_bytes(&[0; 1087]).is_err());
//! ```

use alloc::boxed::Box;
use core::fmt;

use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext, MlKem768PrivateKey, MlKem768PublicKey};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::KeyError;
use crate::kdf::derive_labeled;
use crate::labels;

/// Length of an ML-KEM-768 encapsulation key (FIPS 203 Table 3: 384·k + 32).
pub const KEM_ENCAPSULATION_KEY_LEN: usize = 1184;
/// Length of an ML-KEM-768 ciphertext (FIPS 203 Table 3).
pub const KEM_CIPHERTEXT_LEN: usize = 1088;
/// Length of the seed a decapsulation key is kept as: `d ‖ z` (FIPS 203 §7.1).
pub const KEM_SEED_LEN: usize = 64;
/// Length of a [`KemKeyId`].
pub const KEM_KEY_ID_LEN: usize = 16;
/// Length of a [`KemSharedSecret`].
pub const KEM_SHARED_SECRET_LEN: usize = 32;

/// An ML-KEM-768 encapsulation (public) key that passed the FIPS 203 §7.2
/// input check: [`KEM_ENCAPSULATION_KEY_LEN`] bytes whose 12-bit
/// coefficients are all below `q = 3329`
/// (`ByteEncode12(ByteDecode12(ek)) = ek`).
#[derive(Clone, PartialEq, Eq)]
pub struct KemEncapsulationKey(Box<[u8; KEM_ENCAPSULATION_KEY_LEN]>);

impl KemEncapsulationKey {
    /// Checks and wraps an encapsulation key: exactly
    /// [`KEM_ENCAPSULATION_KEY_LEN`] bytes, then the modulus check
    /// (SPEC.md §4.6). Either failure is [`KeyError::InvalidKemKey`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let bytes: [u8; KEM_ENCAPSULATION_KEY_LEN] =
            bytes.try_into().map_err(|_| KeyError::InvalidKemKey)?;
        if !mlkem768::validate_public_key(&MlKem768PublicKey::from(&bytes)) {
            return Err(KeyError::InvalidKemKey);
        }
        Ok(Self(Box::new(bytes)))
    }

    /// The [`KEM_ENCAPSULATION_KEY_LEN`]-byte encoding.
    pub fn as_bytes(&self) -> &[u8; KEM_ENCAPSULATION_KEY_LEN] {
        &self.0
    }

    /// The key id: `DeriveLabeled("", ek, "kem key id", "", 16)` (SPEC.md §4.6).
    pub fn key_id(&self) -> KemKeyId {
        key_id_of(&self.0)
    }

    /// ML-KEM.Encaps (FIPS 203 Algorithm 20) with 32 bytes `m` drawn from
    /// `rng`: a ciphertext to send and the shared secret.
    pub fn encapsulate<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> (KemCiphertext, KemSharedSecret) {
        let mut m = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(m.as_mut());
        self.encapsulate_internal(&m)
    }

    /// Deterministic ML-KEM.Encaps_internal (FIPS 203 Algorithm 17) with the
    /// given `m`, for test vectors. Never reuse an `m`.
    #[cfg(feature = "hazmat")]
    pub fn encapsulate_with(&self, m: &[u8; 32]) -> (KemCiphertext, KemSharedSecret) {
        self.encapsulate_internal(m)
    }

    fn encapsulate_internal(&self, m: &[u8; 32]) -> (KemCiphertext, KemSharedSecret) {
        let public = MlKem768PublicKey::from(&*self.0);
        let (ciphertext, mut shared) = mlkem768::encapsulate(&public, *m);
        let secret = KemSharedSecret(shared);
        shared.zeroize();
        (KemCiphertext(Box::new(*ciphertext.as_slice())), secret)
    }
}

impl fmt::Debug for KemEncapsulationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KemEncapsulationKey")
            .field(&self.key_id())
            .finish()
    }
}

/// An encapsulation key as received, before the FIPS 203 §7.2 check: any
/// [`KEM_ENCAPSULATION_KEY_LEN`] bytes. Bundles carry it in this form until
/// verification; [`Self::validate`] turns it into a [`KemEncapsulationKey`].
#[derive(Clone, PartialEq, Eq)]
pub struct UncheckedKemKey(Box<[u8; KEM_ENCAPSULATION_KEY_LEN]>);

impl UncheckedKemKey {
    /// Wraps the bytes without checks.
    pub fn from_bytes(bytes: [u8; KEM_ENCAPSULATION_KEY_LEN]) -> Self {
        Self(Box::new(bytes))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; KEM_ENCAPSULATION_KEY_LEN] {
        &self.0
    }

    /// The modulus check (SPEC.md §4.6): [`KeyError::InvalidKemKey`] unless
    /// every coefficient is below `q`.
    pub fn validate(&self) -> Result<KemEncapsulationKey, KeyError> {
        KemEncapsulationKey::from_bytes(self.0.as_slice())
    }

    /// The key id the bytes would have (SPEC.md §4.6); defined for any bytes.
    pub fn key_id(&self) -> KemKeyId {
        key_id_of(&self.0)
    }
}

impl From<&KemEncapsulationKey> for UncheckedKemKey {
    fn from(key: &KemEncapsulationKey) -> Self {
        Self(key.0.clone())
    }
}

impl From<KemEncapsulationKey> for UncheckedKemKey {
    fn from(key: KemEncapsulationKey) -> Self {
        Self(key.0)
    }
}

impl fmt::Debug for UncheckedKemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UncheckedKemKey")
            .field(&self.key_id())
            .finish()
    }
}

fn key_id_of(ek: &[u8; KEM_ENCAPSULATION_KEY_LEN]) -> KemKeyId {
    let mut id = [0u8; KEM_KEY_ID_LEN];
    #[expect(
        clippy::let_underscore_must_use,
        reason = "A 16-byte output with a constant label cannot exceed any limit"
    )]
    let _ = derive_labeled(b"", ek, labels::kdf::KEM_KEY_ID, b"", &mut id);
    KemKeyId(id)
}

/// The expanded ML-KEM decapsulation key (FIPS 203 `dk`, 2400 bytes),
/// zeroized on drop.
struct ExpandedKey(MlKem768PrivateKey);

impl Drop for ExpandedKey {
    fn drop(&mut self) {
        wipe_private_key(&mut self.0);
    }
}

/// Zeroizes a libcrux private key in place (libcrux's types do not).
#[allow(clippy::indexing_slicing)] // `0..` of a fixed-size key cannot be out of range
fn wipe_private_key(key: &mut MlKem768PrivateKey) {
    key[0..].zeroize();
}

/// An ML-KEM-768 decapsulation key, kept as its 64-byte seed `d ‖ z`
/// (FIPS 203 §7.1, ML-KEM.KeyGen_internal). The expanded key and the
/// encapsulation key are derived once when the key is made and cached; the
/// seed and the expanded key are zeroized on drop. Not `Clone`; `Debug`
/// shows only the key id of the encapsulation key.
pub struct KemDecapsulationKey {
    seed: Box<Zeroizing<[u8; KEM_SEED_LEN]>>,
    expanded: Box<ExpandedKey>,
    public: KemEncapsulationKey,
}

impl ZeroizeOnDrop for KemDecapsulationKey {}

impl KemDecapsulationKey {
    /// Draws a fresh 64-byte seed from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; KEM_SEED_LEN]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }

    /// The key for a 64-byte seed `d ‖ z` (deterministic:
    /// ML-KEM.KeyGen_internal(d, z)).
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn from_seed(seed: &[u8; KEM_SEED_LEN]) -> Self {
        let pair = mlkem768::generate_key_pair(*seed);
        let (mut private, public) = pair.into_parts();
        let expanded = Box::new(ExpandedKey(private.clone()));
        wipe_private_key(&mut private);
        Self {
            seed: Box::new(Zeroizing::new(*seed)),
            expanded,
            // Key generation always yields a key that passes the modulus check.
            public: KemEncapsulationKey(Box::new(*public.as_slice())),
        }
    }

    /// [`Self::from_seed`] for a seed given as a slice, refusing any length
    /// other than [`KEM_SEED_LEN`] with [`KeyError::InvalidKemSeed`].
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg(any(feature = "hazmat", test))]
    pub fn from_seed_slice(seed: &[u8]) -> Result<Self, KeyError> {
        let seed: &[u8; KEM_SEED_LEN] = seed.try_into().map_err(|_| KeyError::InvalidKemSeed)?;
        Ok(Self::from_seed(seed))
    }

    /// The 64-byte seed, for storing the key. Handle with care.
    pub fn to_seed(&self) -> Zeroizing<[u8; KEM_SEED_LEN]> {
        Zeroizing::new(**self.seed)
    }

    /// The matching encapsulation key (the one to publish).
    pub fn encapsulation_key(&self) -> KemEncapsulationKey {
        self.public.clone()
    }

    /// The matching encapsulation key, borrowed.
    pub fn encapsulation_key_ref(&self) -> &KemEncapsulationKey {
        &self.public
    }

    /// The id of the matching encapsulation key.
    pub fn key_id(&self) -> KemKeyId {
        self.public.key_id()
    }

    /// ML-KEM.Decaps (FIPS 203 Algorithm 21). Never fails: a ciphertext
    /// that was not produced for this key yields a pseudorandom secret
    /// derived from `z` and the ciphertext (implicit rejection).
    pub fn decapsulate(&self, ciphertext: &KemCiphertext) -> KemSharedSecret {
        let ciphertext = MlKem768Ciphertext::from(&*ciphertext.0);
        let mut shared = mlkem768::decapsulate(&self.expanded.0, &ciphertext);
        let secret = KemSharedSecret(shared);
        shared.zeroize();
        secret
    }

    /// The 2400-byte expanded decapsulation key `dk` of FIPS 203
    /// (ML-KEM.KeyGen_internal), for test vectors only.
    #[cfg(feature = "hazmat")]
    pub fn expanded_bytes(&self) -> Zeroizing<alloc::vec::Vec<u8>> {
        Zeroizing::new(self.expanded.0.as_slice().to_vec())
    }
}

impl fmt::Debug for KemDecapsulationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KemDecapsulationKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

/// An ML-KEM-768 ciphertext: exactly [`KEM_CIPHERTEXT_LEN`] bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct KemCiphertext(Box<[u8; KEM_CIPHERTEXT_LEN]>);

impl KemCiphertext {
    /// Wraps a ciphertext of exactly [`KEM_CIPHERTEXT_LEN`] bytes; any other
    /// length is [`KeyError::InvalidKemCiphertext`] (FIPS 203 §7.3, check 1).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let bytes: [u8; KEM_CIPHERTEXT_LEN] = bytes
            .try_into()
            .map_err(|_| KeyError::InvalidKemCiphertext)?;
        Ok(Self(Box::new(bytes)))
    }

    /// The encoding.
    pub fn as_bytes(&self) -> &[u8; KEM_CIPHERTEXT_LEN] {
        &self.0
    }
}

impl fmt::Debug for KemCiphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KemCiphertext(")?;
        super::write_hex(f, self.0.get(..8).unwrap_or_default())?;
        f.write_str("…)")
    }
}

/// The 32-byte secret both sides of an encapsulation share. Zeroized on
/// drop; `Debug` prints no secret.
pub struct KemSharedSecret([u8; KEM_SHARED_SECRET_LEN]);

impl Drop for KemSharedSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for KemSharedSecret {}

impl KemSharedSecret {
    /// Wraps 32 bytes (tests that play an adversary guessing the secret).
    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; KEM_SHARED_SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// The 32 shared bytes. Only key derivations should read these.
    pub fn as_bytes(&self) -> &[u8; KEM_SHARED_SECRET_LEN] {
        &self.0
    }
}

impl fmt::Debug for KemSharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KemSharedSecret(<secret>)")
    }
}

/// The id of a KEM encapsulation key: 16 bytes derived from it, so anyone
/// can check it (SPEC.md §4.6).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KemKeyId([u8; KEM_KEY_ID_LEN]);

impl KemKeyId {
    /// Wraps 16 bytes (for decoding; derive real ids with
    /// [`KemEncapsulationKey::key_id`]).
    pub fn from_bytes(bytes: [u8; KEM_KEY_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub fn to_bytes(&self) -> [u8; KEM_KEY_ID_LEN] {
        self.0
    }

    /// The 16 bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8; KEM_KEY_ID_LEN] {
        &self.0
    }
}

impl fmt::Debug for KemKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KemKeyId(")?;
        super::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

impl fmt::Display for KemKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_hex(f, &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn round_trip_and_implicit_rejection() {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let bob = KemDecapsulationKey::generate(&mut rng);
        let ek = KemEncapsulationKey::from_bytes(bob.encapsulation_key().as_bytes()).unwrap();
        assert_eq!(ek, bob.encapsulation_key());
        let (ct, ss) = ek.encapsulate(&mut rng);
        assert_eq!(bob.decapsulate(&ct).as_bytes(), ss.as_bytes());
        // A modified ciphertext decapsulates to another secret, deterministically.
        let mut bytes = *ct.as_bytes();
        bytes[0] ^= 1;
        let tampered = KemCiphertext::from_bytes(&bytes).unwrap();
        let rejected = bob.decapsulate(&tampered);
        assert_ne!(rejected.as_bytes(), ss.as_bytes());
        assert_eq!(rejected.as_bytes(), bob.decapsulate(&tampered).as_bytes());
        // Another key pair gets another secret.
        let eve = KemDecapsulationKey::generate(&mut rng);
        assert_ne!(eve.decapsulate(&ct).as_bytes(), ss.as_bytes());
    }

    #[test]
    fn seed_round_trip_is_deterministic() {
        let seed = [0x5a; KEM_SEED_LEN];
        let a = KemDecapsulationKey::from_seed(&seed);
        let b = KemDecapsulationKey::from_seed_slice(&seed).unwrap();
        assert_eq!(*a.to_seed(), seed);
        assert_eq!(a.encapsulation_key(), b.encapsulation_key());
        assert_eq!(a.key_id(), b.encapsulation_key().key_id());
        for len in [0, 63, 65] {
            assert_eq!(
                KemDecapsulationKey::from_seed_slice(&alloc::vec![0; len]).unwrap_err(),
                KeyError::InvalidKemSeed
            );
        }
        let mut other = seed;
        other[63] ^= 1; // z only: same encapsulation key, other rejection secret
        let c = KemDecapsulationKey::from_seed(&other);
        assert_eq!(c.encapsulation_key(), a.encapsulation_key());
        other[0] ^= 1; // d: another key
        assert_ne!(
            KemDecapsulationKey::from_seed(&other).encapsulation_key(),
            a.encapsulation_key()
        );
    }

    #[test]
    fn lengths_and_modulus_are_checked() {
        let key = KemDecapsulationKey::from_seed(&[1; KEM_SEED_LEN]).encapsulation_key();
        let bytes = key.as_bytes();
        for len in [0, 1183, 1185] {
            let mut v = bytes.to_vec();
            v.resize(len, 0);
            assert_eq!(
                KemEncapsulationKey::from_bytes(&v).unwrap_err(),
                KeyError::InvalidKemKey
            );
        }
        // Coefficient 0 of polynomial 0 set to 4095 (≥ q): fails the modulus check.
        let mut bad = *bytes;
        bad[0] = 0xff;
        bad[1] |= 0x0f;
        assert_eq!(
            KemEncapsulationKey::from_bytes(&bad).unwrap_err(),
            KeyError::InvalidKemKey
        );
        // Exactly q - 1 = 3328 = 0xd00 passes, q = 3329 = 0xd01 fails.
        let mut edge = *bytes;
        edge[0] = 0x00;
        edge[1] = (edge[1] & 0xf0) | 0x0d;
        assert!(KemEncapsulationKey::from_bytes(&edge).is_ok());
        edge[0] = 0x01;
        assert_eq!(
            KemEncapsulationKey::from_bytes(&edge).unwrap_err(),
            KeyError::InvalidKemKey
        );
        // The trailing 32 bytes (rho) are not checked.
        let mut rho = *bytes;
        rho[KEM_ENCAPSULATION_KEY_LEN - 1] ^= 0xff;
        assert!(KemEncapsulationKey::from_bytes(&rho).is_ok());
        for len in [0, 1087, 1089] {
            assert_eq!(
                KemCiphertext::from_bytes(&alloc::vec![0; len]).unwrap_err(),
                KeyError::InvalidKemCiphertext
            );
        }
        assert!(KemCiphertext::from_bytes(&[0; KEM_CIPHERTEXT_LEN]).is_ok());
    }

    #[test]
    fn debug_prints_no_secret() {
        let key = KemDecapsulationKey::from_seed(&[0xcd; KEM_SEED_LEN]);
        let text = alloc::format!("{key:?}");
        assert!(text.starts_with("KemDecapsulationKey"));
        assert!(!text.contains("cdcd"));
        let (_, ss) = key
            .encapsulation_key()
            .encapsulate(&mut ChaCha20Rng::from_seed([1; 32]));
        assert_eq!(alloc::format!("{ss:?}"), "KemSharedSecret(<secret>)");
    }

    #[test]
    fn key_id_is_the_labelled_derivation() {
        let key = KemDecapsulationKey::from_seed(&[2; KEM_SEED_LEN]).encapsulation_key();
        let mut expected = [0u8; 16];
        crate::kdf::derive_labeled(b"", key.as_bytes(), b"kem key id", b"", &mut expected).unwrap();
        assert_eq!(key.key_id().to_bytes(), expected);
    }
}
