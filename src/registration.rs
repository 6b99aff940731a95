//! Key registration (SPEC.md §5): a device signs a key bundle, a server verifies it.
//!
//! A [`KeyBundle`] names a device (user id, device id), its identity key, one
//! sealing key with its key id, and a validity window, signed by the identity key.
//! Servers call [`KeyBundle::verify`] with their policy, the current time, the
//! identity key they have pinned for the device (if any) and a lookup of keys
//! already registered; it needs no secret and does no I/O. Peers verify the same
//! way before they open a session; only a [`VerifiedBundle`] can be used for that.
//!
//! ```
//! use letterseal::device::DeviceKeys;
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::registration::{KeyBundle, NoDirectory, RegistrationError, RegistrationPolicy};
//! use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//!
//! // Client: make device keys and a bundle valid for 30 days.
//! let now = Timestamp::from_unix_seconds(1_800_000_000);
//! let address = DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1));
//! let mut device = DeviceKeys::generate(&mut rng, address);
//! let bundle = device.add_sealing_key(&mut rng, now, 30 * 86_400);
//! let wire = bundle.encode();
//!
//! // Server: decode and verify; no secret needed.
//! let policy = RegistrationPolicy::default();
//! let received = KeyBundle::decode(&wire).unwrap();
//! let verified = received.verify(&policy, now, None, &NoDirectory).unwrap();
//! assert_eq!(verified.owner().user.as_bytes(), b"alice");
//!
//! // Any change breaks the signature.
//! let mut tampered = wire.clone();
//! tampered[10] ^= 1;
//! let err = KeyBundle::decode(&tampered)
//!     .and_then(|b| b.verify(&policy, now, None, &NoDirectory).map(|_| ()));
//! assert!(err.is_err());
//! ```

use alloc::vec::Vec;
use core::fmt;

use crate::codec::{DecodeError, Reader, Writer};
use crate::ids::DeviceAddress;
use crate::keys::{
    IdentityPublicKey, IdentitySecretKey, KEY_ID_LEN, KeyError, SIGNATURE_LEN, SealingKeyId,
    SealingPublicKey, Signature,
};
use crate::labels;
use crate::time::Timestamp;

/// The bundle format version this release writes and accepts.
pub const BUNDLE_VERSION: u8 = 1;

/// Why a bundle was rejected. Each check of SPEC.md §5.3 has its own variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The bytes are not a well-formed bundle.
    Malformed(DecodeError),
    /// The bundle's version byte is not [`BUNDLE_VERSION`].
    UnsupportedVersion(u8),
    /// The identity key is not a valid Ed25519 key of large order.
    InvalidIdentityKey,
    /// The signature does not verify under the bundle's identity key.
    BadSignature,
    /// The sealing key's encoding is not canonical.
    NonCanonicalSealingKey,
    /// The sealing key has small order.
    SmallOrderSealingKey,
    /// The key id is not the one derived from the sealing key.
    WrongKeyId,
    /// `not_after` is not later than `not_before`.
    InvalidValidityWindow,
    /// The validity window is longer than the policy allows.
    LifetimeTooLong,
    /// `now` is before `not_before` (beyond the allowed clock skew).
    NotYetValid,
    /// `now` is at or after `not_after`.
    Expired,
    /// The identity key differs from the one pinned for this device.
    IdentityKeyMismatch,
    /// The sealing key is already registered to another device or account.
    DuplicateSealingKey,
}

impl fmt::Display for RegistrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed bundle: {e}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported bundle version {v}"),
            Self::InvalidIdentityKey => f.write_str("invalid identity key"),
            Self::BadSignature => f.write_str("bundle signature does not verify"),
            Self::NonCanonicalSealingKey => f.write_str("sealing key is not canonical"),
            Self::SmallOrderSealingKey => f.write_str("sealing key has small order"),
            Self::WrongKeyId => f.write_str("key id does not match the sealing key"),
            Self::InvalidValidityWindow => f.write_str("validity window is empty"),
            Self::LifetimeTooLong => f.write_str("lifetime exceeds policy"),
            Self::NotYetValid => f.write_str("bundle is not yet valid"),
            Self::Expired => f.write_str("bundle has expired"),
            Self::IdentityKeyMismatch => f.write_str("identity key differs from the pinned one"),
            Self::DuplicateSealingKey => f.write_str("sealing key registered to another device"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RegistrationError {}

impl RegistrationError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "Malformed",
            Self::UnsupportedVersion(_) => "UnsupportedVersion",
            Self::InvalidIdentityKey => "InvalidIdentityKey",
            Self::BadSignature => "BadSignature",
            Self::NonCanonicalSealingKey => "NonCanonicalSealingKey",
            Self::SmallOrderSealingKey => "SmallOrderSealingKey",
            Self::WrongKeyId => "WrongKeyId",
            Self::InvalidValidityWindow => "InvalidValidityWindow",
            Self::LifetimeTooLong => "LifetimeTooLong",
            Self::NotYetValid => "NotYetValid",
            Self::Expired => "Expired",
            Self::IdentityKeyMismatch => "IdentityKeyMismatch",
            Self::DuplicateSealingKey => "DuplicateSealingKey",
        }
    }
}

/// The server's rules for accepting bundles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// Longest allowed `not_after - not_before`, in seconds.
    pub max_lifetime_seconds: u64,
    /// How far `not_before` may lie in the future, in seconds.
    pub max_clock_skew_seconds: u64,
}

impl Default for RegistrationPolicy {
    /// 90 days of lifetime, 5 minutes of clock skew.
    fn default() -> Self {
        Self {
            max_lifetime_seconds: 90 * 86_400,
            max_clock_skew_seconds: 300,
        }
    }
}

/// What the server already has registered. The library does no I/O: the server
/// answers this lookup from its own store.
pub trait KeyDirectory {
    /// The device `key` is registered to, if any.
    fn owner_of(&self, key: &SealingPublicKey) -> Option<DeviceAddress>;
}

/// A directory with nothing registered (for peers, who have no directory).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDirectory;

impl KeyDirectory for NoDirectory {
    fn owner_of(&self, _key: &SealingPublicKey) -> Option<DeviceAddress> {
        None
    }
}

impl<F> KeyDirectory for F
where
    F: Fn(&SealingPublicKey) -> Option<DeviceAddress>,
{
    fn owner_of(&self, key: &SealingPublicKey) -> Option<DeviceAddress> {
        self(key)
    }
}

/// The signed fields of a bundle (SPEC.md §5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleContent {
    /// The device the keys belong to.
    pub owner: DeviceAddress,
    /// The device's Ed25519 identity key, which signs the bundle.
    pub identity_key: IdentityPublicKey,
    /// The X25519 sealing key being registered.
    pub sealing_key: SealingPublicKey,
    /// The sealing key's id (must equal `sealing_key.key_id()`).
    pub sealing_key_id: SealingKeyId,
    /// Start of the validity window.
    pub not_before: Timestamp,
    /// End of the validity window (exclusive).
    pub not_after: Timestamp,
}

impl BundleContent {
    /// The content for a sealing key, with its derived key id.
    pub fn new(
        owner: DeviceAddress,
        identity_key: IdentityPublicKey,
        sealing_key: SealingPublicKey,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Self {
        Self {
            owner,
            identity_key,
            sealing_key_id: sealing_key.key_id(),
            sealing_key,
            not_before,
            not_after,
        }
    }

    /// The to-be-signed encoding (SPEC.md §5.1).
    fn encode_tbs(&self, w: &mut Writer) {
        w.u8(BUNDLE_VERSION);
        self.owner.encode(w);
        w.raw(self.identity_key.as_bytes());
        w.raw(self.sealing_key.as_bytes());
        w.raw(self.sealing_key_id.as_bytes());
        w.u64(self.not_before.unix_seconds());
        w.u64(self.not_after.unix_seconds());
    }

    /// Signs the content with `identity` (SPEC.md §5.2). The signer is not
    /// checked against `identity_key`: a mismatch yields a bundle that fails
    /// verification with [`RegistrationError::BadSignature`].
    pub fn sign(self, identity: &IdentitySecretKey) -> KeyBundle {
        let mut w = Writer::new();
        self.encode_tbs(&mut w);
        let signature = identity.sign_labeled(labels::sig::KEY_BUNDLE, w.as_bytes());
        KeyBundle {
            content: self,
            signature,
        }
    }
}

/// A signed bundle that has not been verified yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBundle {
    content: BundleContent,
    signature: Signature,
}

impl KeyBundle {
    /// The signed fields (unverified).
    pub fn content(&self) -> &BundleContent {
        &self.content
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The wire encoding: the to-be-signed bytes, then the 64-byte signature.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(160);
        self.content.encode_tbs(&mut w);
        w.raw(&self.signature.to_bytes());
        w.into_bytes()
    }

    /// Strict decoding (SPEC.md §5.1): exact lengths, no trailing bytes, known
    /// version, identity key a valid Ed25519 point.
    pub fn decode(bytes: &[u8]) -> Result<Self, RegistrationError> {
        let mut r = Reader::new(bytes);
        let malformed = RegistrationError::Malformed;
        let version = r.u8().map_err(malformed)?;
        if version != BUNDLE_VERSION {
            return Err(RegistrationError::UnsupportedVersion(version));
        }
        let owner = DeviceAddress::decode(&mut r).map_err(malformed)?;
        let identity_bytes: [u8; 32] = r.array().map_err(malformed)?;
        let sealing_key = SealingPublicKey::from_bytes(r.array().map_err(malformed)?);
        let sealing_key_id = SealingKeyId::from_bytes(r.array::<KEY_ID_LEN>().map_err(malformed)?);
        let not_before = Timestamp::from_unix_seconds(r.u64().map_err(malformed)?);
        let not_after = Timestamp::from_unix_seconds(r.u64().map_err(malformed)?);
        let signature = Signature::from_bytes(r.array::<SIGNATURE_LEN>().map_err(malformed)?);
        r.finish().map_err(malformed)?;
        let identity_key = IdentityPublicKey::from_bytes(&identity_bytes)
            .map_err(|_| RegistrationError::InvalidIdentityKey)?;
        Ok(Self {
            content: BundleContent {
                owner,
                identity_key,
                sealing_key,
                sealing_key_id,
                not_before,
                not_after,
            },
            signature,
        })
    }

    /// Every registration check of SPEC.md §5.3, in order. Pure: the policy,
    /// `now`, the pinned identity key and the directory are arguments.
    pub fn verify(
        self,
        policy: &RegistrationPolicy,
        now: Timestamp,
        pinned_identity: Option<&IdentityPublicKey>,
        directory: &impl KeyDirectory,
    ) -> Result<VerifiedBundle, RegistrationError> {
        let c = &self.content;
        let mut tbs = Writer::with_capacity(96);
        c.encode_tbs(&mut tbs);
        c.identity_key
            .verify_labeled(labels::sig::KEY_BUNDLE, tbs.as_bytes(), &self.signature)
            .map_err(|_| RegistrationError::BadSignature)?;
        c.sealing_key.validate().map_err(|e| match e {
            KeyError::NonCanonicalSealingKey => RegistrationError::NonCanonicalSealingKey,
            _ => RegistrationError::SmallOrderSealingKey,
        })?;
        if c.sealing_key.key_id() != c.sealing_key_id {
            return Err(RegistrationError::WrongKeyId);
        }
        let lifetime = c
            .not_after
            .unix_seconds()
            .checked_sub(c.not_before.unix_seconds())
            .filter(|&l| l > 0)
            .ok_or(RegistrationError::InvalidValidityWindow)?;
        if lifetime > policy.max_lifetime_seconds {
            return Err(RegistrationError::LifetimeTooLong);
        }
        if now.saturating_add(policy.max_clock_skew_seconds) < c.not_before {
            return Err(RegistrationError::NotYetValid);
        }
        if now >= c.not_after {
            return Err(RegistrationError::Expired);
        }
        if pinned_identity.is_some_and(|pinned| *pinned != c.identity_key) {
            return Err(RegistrationError::IdentityKeyMismatch);
        }
        if directory
            .owner_of(&c.sealing_key)
            .is_some_and(|owner| owner != c.owner)
        {
            return Err(RegistrationError::DuplicateSealingKey);
        }
        Ok(VerifiedBundle(self))
    }
}

/// A bundle that passed [`KeyBundle::verify`]. Sessions are built only from these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle(KeyBundle);

impl VerifiedBundle {
    /// The device the keys belong to.
    pub fn owner(&self) -> &DeviceAddress {
        &self.0.content.owner
    }

    /// The verified identity key.
    pub fn identity_key(&self) -> &IdentityPublicKey {
        &self.0.content.identity_key
    }

    /// The verified sealing key.
    pub fn sealing_key(&self) -> &SealingPublicKey {
        &self.0.content.sealing_key
    }

    /// The sealing key's id.
    pub fn sealing_key_id(&self) -> SealingKeyId {
        self.0.content.sealing_key_id
    }

    /// The validity window `[not_before, not_after)`.
    pub fn validity(&self) -> (Timestamp, Timestamp) {
        (self.0.content.not_before, self.0.content.not_after)
    }

    /// The bundle as received.
    pub fn bundle(&self) -> &KeyBundle {
        &self.0
    }
}
