//! Legacy key pairs (SPEC.md §11.1): one static X25519 key pair per server
//! key id. Keys are not signed; a user may hold several, and an opener picks
//! the private key named by the message's recipient key id.
//!
//! **Scalar conventions.** A private key is 32 bytes. X25519 (RFC 7748)
//! *clamps* them before multiplying (`k[0] &= 248; k[31] &= 127; k[31] |= 64`):
//! that is the norm, what [`LegacyKeyPair`] does, and what every
//! documented client does. Some deployed builds multiply by the 32 bytes as
//! they are, a little-endian integer below 2^256, without clamping; a key
//! exported from such a build gives other public keys and shared secrets
//! under X25519. [`RawScalarKeyPair`] is that convention, for importing such
//! keys only: it multiplies with curve25519-dalek's Montgomery ladder over
//! all 256 bits (`MontgomeryPoint::mul_bits_be`, constant time in the
//! number of bits). Both implement [`LegacyPrivateKey`], which the sessions
//! ([`session`](super::session)) and the group-key unwrap take.
//!
//! Secret halves are zeroized on drop and never printed; agreements
//! ([`LegacySharedSecret`]) too.
//!
//! ```
//! use letterseal_legacy::ids::LegacyKeyId;
//! use letterseal_legacy::keys::{LegacyKeyPair, LegacyPrivateKey, RawScalarKeyPair, find_key};
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
//!
//! // A clamped scalar means the same under both conventions.
//! let clamped = *keys[0].secret_key().to_bytes();
//! let mut as_used = clamped;
//! as_used[0] &= 248;
//! as_used[31] = (as_used[31] & 127) | 64;
//! let raw = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(10), &as_used);
//! assert_eq!(raw.public_key(), keys[0].public_key());
//! let agreed = raw.agree(&keys[1].public_key())?;
//! assert!(agreed.ct_eq(&keys[0].agree(&keys[1].public_key())?));
//! # Ok::<(), letterseal_legacy::LegacyError>(())
//! ```

use core::fmt;

use curve25519_dalek::constants::X25519_BASEPOINT;
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::LegacyError;
use super::ids::LegacyKeyId;

/// An X25519 public key (RFC 7748): 32 bytes, a u-coordinate. `Debug` prints
/// it in hex.
///
/// ```
/// use letterseal_legacy::keys::{X25519PublicKey, X25519SecretKey};
/// let public = X25519SecretKey::from_bytes(&[7; 32]).public_key();
/// assert_eq!(X25519PublicKey::from_bytes(public.to_bytes()), public);
/// assert_eq!(public.as_bytes(), &public.to_bytes());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct X25519PublicKey([u8; 32]);

impl X25519PublicKey {
    /// The key for 32 bytes as they travel. Nothing is checked here: an
    /// agreement with a small-order key fails ([`LegacyError::NonContributory`]).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The 32 bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for X25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("X25519PublicKey(")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        f.write_str(")")
    }
}

/// An X25519 secret key: 32 bytes, clamped when used (RFC 7748 §5). Zeroized
/// on drop, not `Clone`; `Debug` shows only the public key.
///
/// ```
/// use letterseal_legacy::keys::X25519SecretKey;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
/// let secret = X25519SecretKey::generate(&mut rng);
/// let stored = secret.to_bytes();
/// assert_eq!(X25519SecretKey::from_bytes(&stored).public_key(), secret.public_key());
/// assert!(format!("{secret:?}").starts_with("X25519SecretKey { public: X25519PublicKey("));
/// ```
pub struct X25519SecretKey(StaticSecret);

impl ZeroizeOnDrop for X25519SecretKey {}

impl X25519SecretKey {
    /// Draws 32 random bytes from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        Self::from_bytes(&bytes)
    }

    /// The key for 32 stored secret bytes (an exported key imports here).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(StaticSecret::from(*bytes))
    }

    /// The 32 secret bytes, for storing the key. Handle with care.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key, `X25519(secret, 9)`.
    pub fn public_key(&self) -> X25519PublicKey {
        X25519PublicKey(PublicKey::from(&self.0).to_bytes())
    }

    /// `SS = X25519(secret, peer)`, refusing all zeros, which is the result
    /// exactly when `peer` has small order (SPEC.md §11.1).
    pub fn agree(&self, peer: &X25519PublicKey) -> Result<LegacySharedSecret, LegacyError> {
        let shared = self.0.diffie_hellman(&PublicKey::from(peer.0));
        if shared.was_contributory() {
            Ok(LegacySharedSecret(*shared.as_bytes()))
        } else {
            Err(LegacyError::NonContributory)
        }
    }
}

impl fmt::Debug for X25519SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X25519SecretKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// A public key with the key id the server assigned to it: what a sender
/// needs to seal for a recipient (or for a group: the group public key and
/// the group key id). See the example on [`LegacyKeyPair`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LegacyPublicKey {
    /// The server-assigned key id.
    pub key_id: LegacyKeyId,
    /// The X25519 public key.
    pub key: X25519PublicKey,
}

/// `SS`, the raw 32-byte result of an agreement (SPEC.md §11.1), never all
/// zeros. Sessions cache it. Zeroized on drop; `Debug` prints no secret; it
/// compares only in constant time ([`LegacySharedSecret::ct_eq`]).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct LegacySharedSecret([u8; 32]);

impl LegacySharedSecret {
    /// Refuses the all-zero value ([`LegacyError::NonContributory`]), checked
    /// in constant time.
    pub(crate) fn new(bytes: [u8; 32]) -> Result<Self, LegacyError> {
        let shared = Self(bytes);
        if bool::from(shared.0.ct_eq(&[0u8; 32])) {
            Err(LegacyError::NonContributory)
        } else {
            Ok(shared)
        }
    }

    /// The 32 bytes. Only key derivations (and test vectors) should read
    /// them.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time equality.
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for LegacySharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LegacySharedSecret(<secret>)")
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A local private key with its server-assigned key id: a clamped
/// [`LegacyKeyPair`] (the norm) or a [`RawScalarKeyPair`] (imported from a
/// build that does not clamp). Sealed: the crate implements it for these two.
///
/// ```
/// use letterseal_legacy::ids::LegacyKeyId;
/// use letterseal_legacy::keys::{LegacyKeyPair, LegacyPrivateKey, RawScalarKeyPair};
///
/// // Sessions and group-key unwraps take either convention through this trait.
/// fn announce(key: &impl LegacyPrivateKey) -> LegacyKeyId {
///     key.public().key_id
/// }
/// let mut scalar = [0x42; 32];
/// scalar[0] &= 0xf8; // already clamped: both conventions give the same key
/// scalar[31] = (scalar[31] & 0x7f) | 0x40;
/// let clamped = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &scalar);
/// let raw = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(1), &scalar);
/// assert_eq!(announce(&clamped), announce(&raw));
/// assert_eq!(clamped.public(), LegacyPrivateKey::public(&raw));
/// ```
pub trait LegacyPrivateKey: sealed::Sealed {
    /// The server-assigned key id.
    fn key_id(&self) -> LegacyKeyId;

    /// The public key under this key's scalar convention.
    fn public_key(&self) -> X25519PublicKey;

    /// The public key with its key id, as peers use it to seal.
    fn public(&self) -> LegacyPublicKey {
        LegacyPublicKey {
            key_id: self.key_id(),
            key: self.public_key(),
        }
    }

    /// `SS` with a peer's public key under this key's scalar convention;
    /// [`LegacyError::NonContributory`] when it is all zeros (SPEC.md §11.1).
    fn agree(&self, peer: &X25519PublicKey) -> Result<LegacySharedSecret, LegacyError>;
}

/// A static X25519 key pair with its server-assigned key id (SPEC.md §11.1).
/// The secret is zeroized on drop; `Debug` shows the key id and public key only.
///
/// ```
/// use letterseal_legacy::keys::X25519SecretKey;
/// use letterseal_legacy::ids::LegacyKeyId;
/// use letterseal_legacy::keys::{LegacyKeyPair, LegacyPublicKey};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([32; 32]);
/// // A private key exported from an X25519 client: 32 bytes, clamped on use.
/// let exported = [0x11; 32];
/// let mine = LegacyKeyPair::from_bytes(LegacyKeyId::new(2_500_001), &exported);
/// let same = LegacyKeyPair::from_secret(LegacyKeyId::new(2_500_001), X25519SecretKey::from_bytes(&exported));
/// assert_eq!(mine.public(), same.public());
/// // What peers seal to: the public key with its server-assigned id.
/// let public: LegacyPublicKey = mine.public();
/// assert_eq!((public.key_id, public.key), (mine.key_id(), mine.public_key()));
/// ```
pub struct LegacyKeyPair {
    key_id: LegacyKeyId,
    secret: X25519SecretKey,
    public: X25519PublicKey,
}

impl ZeroizeOnDrop for LegacyKeyPair {}

impl LegacyKeyPair {
    /// A fresh key pair from 32 random bytes of `rng` (SPEC.md §11.1).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R, key_id: LegacyKeyId) -> Self {
        Self::from_secret(key_id, X25519SecretKey::generate(rng))
    }

    /// The pair for a stored secret key.
    pub fn from_secret(key_id: LegacyKeyId, secret: X25519SecretKey) -> Self {
        let public = secret.public_key();
        Self {
            key_id,
            secret,
            public,
        }
    }

    /// The pair for 32 stored secret bytes, used the X25519 way: clamped on
    /// use (RFC 7748 §5). Exported keys of X25519 clients import here.
    pub fn from_bytes(key_id: LegacyKeyId, secret: &[u8; 32]) -> Self {
        Self::from_secret(key_id, X25519SecretKey::from_bytes(secret))
    }

    /// The server-assigned key id.
    pub fn key_id(&self) -> LegacyKeyId {
        self.key_id
    }

    /// The X25519 public key.
    pub fn public_key(&self) -> X25519PublicKey {
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
    pub fn secret_key(&self) -> &X25519SecretKey {
        &self.secret
    }

    /// `SS = X25519(secret, peer)`, refusing all zeros (SPEC.md §11.1).
    pub fn agree(&self, peer: &X25519PublicKey) -> Result<LegacySharedSecret, LegacyError> {
        self.secret.agree(peer)
    }
}

impl sealed::Sealed for LegacyKeyPair {}

impl LegacyPrivateKey for LegacyKeyPair {
    fn key_id(&self) -> LegacyKeyId {
        self.key_id
    }

    fn public_key(&self) -> X25519PublicKey {
        self.public
    }

    fn agree(&self, peer: &X25519PublicKey) -> Result<LegacySharedSecret, LegacyError> {
        LegacyKeyPair::agree(self, peer)
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

/// **Legacy only.** A private key used as an *unclamped* scalar, as some
/// deployed builds do (SPEC.md §11.1): the 32 bytes are the little-endian
/// integer `k < 2^256`, the public key is `u([k]B)` and `SS = u([k]P)`, both
/// computed with the Montgomery ladder over all 256 bits of `k`. For a key
/// that is already clamped this equals X25519. Use it only for a key
/// exported from such a build; never generate keys this way. Zeroized on
/// drop; `Debug` shows the key id and public key only.
pub struct RawScalarKeyPair {
    key_id: LegacyKeyId,
    scalar: Zeroizing<[u8; 32]>,
    public: X25519PublicKey,
}

impl ZeroizeOnDrop for RawScalarKeyPair {}

impl RawScalarKeyPair {
    /// Imports an exported private key that its client used without clamping.
    pub fn from_unclamped_scalar(key_id: LegacyKeyId, scalar: &[u8; 32]) -> Self {
        let scalar = Zeroizing::new(*scalar);
        let public = X25519PublicKey::from_bytes(raw_mul(&scalar, &X25519_BASEPOINT).to_bytes());
        Self {
            key_id,
            scalar,
            public,
        }
    }

    /// The server-assigned key id.
    pub fn key_id(&self) -> LegacyKeyId {
        self.key_id
    }

    /// `u([k]B)`, the unclamped public key.
    pub fn public_key(&self) -> X25519PublicKey {
        self.public
    }

    /// `SS = u([k]P)`, unclamped (SPEC.md §11.1). Without clamping, `[k]P`
    /// for a point with a small-order component reveals `k mod 8`, so peer
    /// keys outside the prime-order subgroup (small order, mixed order, or on
    /// the twist) are refused with [`LegacyError::NonContributory`] before
    /// multiplying, as is an all-zero result. Keys made by any client
    /// (`X25519(k, 9)`) are in the subgroup.
    pub fn agree(&self, peer: &X25519PublicKey) -> Result<LegacySharedSecret, LegacyError> {
        let point = MontgomeryPoint(peer.to_bytes());
        // Public input: a variable-time subgroup check is fine.
        let in_subgroup = point
            .to_edwards(0)
            .is_some_and(|p| p.is_torsion_free() && !p.is_small_order());
        if !in_subgroup {
            return Err(LegacyError::NonContributory);
        }
        LegacySharedSecret::new(raw_mul(&self.scalar, &point).to_bytes())
    }
}

/// `u([k]P)` for the little-endian 256-bit integer `k`, all bits, most
/// significant first (RFC 7748's decoding of `P`, top bit ignored).
fn raw_mul(scalar: &[u8; 32], point: &MontgomeryPoint) -> MontgomeryPoint {
    let bits = scalar
        .iter()
        .rev()
        .flat_map(|byte| (0..8).rev().map(move |i| (byte >> i) & 1 == 1));
    point.mul_bits_be(bits)
}

impl sealed::Sealed for RawScalarKeyPair {}

impl LegacyPrivateKey for RawScalarKeyPair {
    fn key_id(&self) -> LegacyKeyId {
        self.key_id
    }

    fn public_key(&self) -> X25519PublicKey {
        self.public
    }

    fn agree(&self, peer: &X25519PublicKey) -> Result<LegacySharedSecret, LegacyError> {
        RawScalarKeyPair::agree(self, peer)
    }
}

impl fmt::Debug for RawScalarKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawScalarKeyPair")
            .field("key_id", &self.key_id)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The pair with key id `key_id` (the first, should the list repeat an id),
/// or [`LegacyError::UnknownKey`] (SPEC.md §11.1).
pub fn find_key<K: LegacyPrivateKey>(keys: &[K], key_id: LegacyKeyId) -> Result<&K, LegacyError> {
    keys.iter()
        .find(|pair| pair.key_id() == key_id)
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
            X25519SecretKey::from_bytes(&[7; 32]).public_key()
        );
        assert_eq!(pair.public().key_id, LegacyKeyId::new(5));
        assert_eq!(pair.public().key, pair.public_key());
        assert_eq!(LegacyPrivateKey::public(&pair), pair.public());
        assert_eq!(*pair.secret_key().to_bytes(), [7; 32]);
    }

    #[test]
    fn debug_prints_no_secret() {
        let pair = LegacyKeyPair::from_bytes(LegacyKeyId::new(5), &[0xcd; 32]);
        let raw = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(5), &[0xcd; 32]);
        let shared = raw.agree(&pair.public_key()).unwrap();
        for text in [
            alloc::format!("{pair:?}"),
            alloc::format!("{raw:?}"),
            alloc::format!("{shared:?}"),
        ] {
            assert!(!text.contains("cdcd"), "{text}");
            assert!(!text.contains("205, 205"), "{text}");
        }
        assert_eq!(alloc::format!("{shared:?}"), "LegacySharedSecret(<secret>)");
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
            find_key::<LegacyKeyPair>(&[], LegacyKeyId::new(1)).unwrap_err(),
            LegacyError::UnknownKey
        );
    }

    fn clamp(mut k: [u8; 32]) -> [u8; 32] {
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;
        k
    }

    #[test]
    fn raw_scalar_equals_x25519_on_clamped_scalars() {
        for seed in [0u8, 1, 0x42, 0xff] {
            let k = clamp([seed; 32]);
            let raw = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(1), &k);
            let x = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &k);
            assert_eq!(raw.public_key(), x.public_key());
            let peer = LegacyKeyPair::from_bytes(LegacyKeyId::new(2), &[seed ^ 0x5a; 32]);
            assert!(
                raw.agree(&peer.public_key())
                    .unwrap()
                    .ct_eq(&x.agree(&peer.public_key()).unwrap())
            );
        }
    }

    #[test]
    fn raw_scalar_known_answers() {
        // Computed independently with a textbook Montgomery ladder in Python
        // (RFC 7748 §5 without the clamping step), as in
        // test-vectors/tools/legacy_reference.py.
        // k = 1: the public key is the base point itself.
        let mut one = [0u8; 32];
        one[0] = 1;
        let pair = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(1), &one);
        let mut nine = [0u8; 32];
        nine[0] = 9;
        assert_eq!(pair.public_key().to_bytes(), nine);
        // k = 0 (CHRLINE's `bytes(32)`): the point at infinity, u = 0, so every
        // agreement is all zeros and refused; X25519 clamps it to 2^254 instead.
        let zero = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(1), &[0; 32]);
        assert_eq!(zero.public_key().to_bytes(), [0; 32]);
        let x = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &[0; 32]);
        assert_ne!(zero.public_key(), x.public_key());
        assert_eq!(
            zero.agree(&x.public_key()).unwrap_err(),
            LegacyError::NonContributory
        );
        // An odd scalar differs from its clamped form.
        let odd = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(1), &[0x11; 32]);
        let clamped = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &[0x11; 32]);
        assert_ne!(odd.public_key(), clamped.public_key());
    }

    fn one_u() -> [u8; 32] {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    }

    fn hex32(text: &str) -> [u8; 32] {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    #[test]
    fn raw_scalar_refuses_peers_outside_the_subgroup() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        // An odd scalar: [k]T for a small-order T would not vanish.
        let raw = RawScalarKeyPair::from_unclamped_scalar(LegacyKeyId::new(1), &[0x11; 32]);
        let refused = |u: [u8; 32]| raw.agree(&X25519PublicKey::from_bytes(u)).unwrap_err();
        // The small-order u-coordinates: 0, 1, the two of order 8, and p - 1.
        let mut p_minus_1 = [0xff; 32];
        p_minus_1[0] = 0xec;
        p_minus_1[31] = 0x7f;
        let small_order = [
            [0; 32],
            one_u(),
            hex32("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            hex32("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
            p_minus_1,
        ];
        for point in small_order {
            assert_eq!(refused(point), LegacyError::NonContributory);
        }
        // A valid key plus a point of order 8 (mixed order).
        let good = LegacyKeyPair::from_bytes(LegacyKeyId::new(2), &[0x22; 32]);
        let edwards = MontgomeryPoint(good.public_key().to_bytes())
            .to_edwards(0)
            .unwrap();
        let mixed = (edwards + EIGHT_TORSION[1]).to_montgomery().to_bytes();
        assert_eq!(refused(mixed), LegacyError::NonContributory);
        // u = 2 is on the twist (486662·... is a non-square there).
        let mut two = [0u8; 32];
        two[0] = 2;
        assert_eq!(refused(two), LegacyError::NonContributory);
        assert!(raw.agree(&good.public_key()).is_ok());
    }
}
