//! Key registration (SPEC.md §5): a device signs key bundles and one-time
//! keys, a server (and every peer) verifies them.
//!
//! A [`KeyBundle`] names a device (user id, device id), its identity key, one
//! X25519 sealing key and one ML-KEM-768 encapsulation key with their key ids,
//! and a validity window, signed by the identity key. A [`OneTimeKeyBundle`]
//! does the same for one X25519 one-time prekey (SPEC.md §5.5).
//!
//! Servers call [`KeyBundle::verify`] (and [`OneTimeKeyBundle::verify`]) with
//! the account they authenticated for the upload ([`ExpectedOwner`]), their
//! policy, the current time, the identity key they have pinned for the device
//! (if any) and a lookup of keys already registered; it needs no secret and
//! does no I/O. Peers verify the same way, naming the device they asked for,
//! before they open a session; only a [`VerifiedBundle`] (and a
//! [`VerifiedOneTimeKey`]) can be used for that.
//!
//! # Walkthrough: a server with its own storage
//!
//! Clients built on [`Account`](crate::account::Account) upload their bundle
//! and one-time keys as envelopes ([`Account::uploads`](crate::account::Account::uploads),
//! [`Account::one_time_keys`](crate::account::Account::one_time_keys)).
//! [`Relay`](crate::account::Relay) checks them in memory; a server with its own
//! database makes the same calls. The directory answers "who registered this
//! X25519 key?" from the server's store; the pinned key is the identity key
//! the server already holds for the device (here: from its device list).
//!
//! ```
//! use std::collections::BTreeMap;
//! use letterseal::account::{Account, Envelope, EnvelopeKind};
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::keys::SealingPublicKey;
//! use letterseal::registration::{
//!     ExpectedOwner, KeyBundle, KeyDirectory, OneTimeKeyBundle, RegistrationError,
//!     RegistrationPolicy,
//! };
//! use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//! # let now = Timestamp::from_unix_seconds(1_800_000_000);
//! // The server's table of registered X25519 keys (sealing and one-time keys).
//! struct Registered(BTreeMap<SealingPublicKey, DeviceAddress>);
//! impl KeyDirectory for Registered {
//!     fn owner_of(&self, key: &SealingPublicKey) -> Option<DeviceAddress> {
//!         self.0.get(key).cloned()
//!     }
//! }
//! let mut registered = Registered(BTreeMap::new());
//! let policy = RegistrationPolicy::default(); // 90 days at most, 5 minutes of skew
//!
//! let phone = DeviceAddress::new(UserId::new("alice")?, DeviceId::new(1));
//! let mut alice = Account::create_primary(&mut rng, now, phone.clone());
//! let uploads = alice.uploads(&mut rng, now)?; // [device list, key bundle]
//! let envelope = Envelope::decode(&uploads[1])?;
//! assert_eq!(envelope.kind(), EnvelopeKind::KeyBundle);
//!
//! // The upload came on a session authenticated as alice.
//! let uploader = ExpectedOwner::User(phone.user.clone());
//! assert!(uploader.accepts(&phone));
//! let pinned = alice.identity_key(); // what alice's device list lists for her phone
//! let bundle = KeyBundle::decode(envelope.body())?;
//! let verified = bundle.clone().verify(&uploader, &policy, now, Some(&pinned), &registered)?;
//! registered.0.insert(*verified.sealing_key(), verified.owner().clone());
//! assert_eq!(registered.owner_of(verified.sealing_key()), Some(phone.clone()));
//!
//! // The same key uploaded for another account is refused.
//! let mallory = ExpectedOwner::User(UserId::new("mallory")?);
//! let err = bundle.verify(&mallory, &policy, now, None, &registered).unwrap_err();
//! assert_eq!((err, err.name()), (RegistrationError::OwnerMismatch, "OwnerMismatch"));
//!
//! // One-time keys: the same checks, one key each.
//! for upload in alice.one_time_keys(&mut rng, now, 2)? {
//!     let key = OneTimeKeyBundle::decode(Envelope::decode(&upload)?.body())?;
//!     let verified = key.verify(&uploader, &policy, now, Some(&pinned), &registered)?;
//!     registered.0.insert(*verified.key(), verified.owner().clone());
//! }
//! assert_eq!(registered.0.len(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same with the lower-level [`DeviceKeys`](crate::device::DeviceKeys)
//! making the bundle, and two refusals:
//!
//! ```
//! use letterseal::device::DeviceKeys;
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::registration::{
//!     ExpectedOwner, KeyBundle, NoDirectory, RegistrationError, RegistrationPolicy,
//! };
//! use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//!
//! // Client: make device keys and a bundle valid for 30 days.
//! let now = Timestamp::from_unix_seconds(1_800_000_000);
//! let alice = UserId::new("alice").unwrap();
//! let address = DeviceAddress::new(alice.clone(), DeviceId::new(1));
//! let mut device = DeviceKeys::generate(&mut rng, address);
//! let bundle = device.add_sealing_key(&mut rng, now, 30 * 86_400);
//! let wire = bundle.encode();
//!
//! // Server: the upload came from an authenticated session of user "alice".
//! let uploader = ExpectedOwner::User(alice);
//! let policy = RegistrationPolicy::default();
//! let received = KeyBundle::decode(&wire).unwrap();
//! let verified = received.verify(&uploader, &policy, now, None, &NoDirectory).unwrap();
//! assert_eq!(verified.owner().user.as_bytes(), b"alice");
//!
//! // Mallory cannot upload it as hers ("ghost device").
//! let mallory = ExpectedOwner::User(UserId::new("mallory").unwrap());
//! let err = KeyBundle::decode(&wire)
//!     .and_then(|b| b.verify(&mallory, &policy, now, None, &NoDirectory).map(|_| ()));
//! assert_eq!(err, Err(RegistrationError::OwnerMismatch));
//!
//! // Any change breaks the signature.
//! let mut tampered = wire.clone();
//! tampered[10] ^= 1;
//! let err = KeyBundle::decode(&tampered)
//!     .and_then(|b| b.verify(&uploader, &policy, now, None, &NoDirectory).map(|_| ()));
//! assert!(err.is_err());
//! ```

mod bundle;
mod one_time;

use core::fmt;

pub use bundle::{BUNDLE_VERSION, BundleContent, KeyBundle, VerifiedBundle};
pub use one_time::{ONE_TIME_KEY_VERSION, OneTimeKeyBundle, OneTimeKeyContent, VerifiedOneTimeKey};

use crate::codec::DecodeError;
use crate::ids::{DeviceAddress, UserId};
use crate::keys::{IdentityPublicKey, KeyError, SealingKeyId, SealingPublicKey};
use crate::time::Timestamp;

/// Why a bundle or a one-time key was rejected. Each check of SPEC.md §5.3
/// and §5.5 has its own variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The bytes are not a well-formed bundle.
    Malformed(DecodeError),
    /// The version byte is not the one this release reads
    /// ([`BUNDLE_VERSION`], [`ONE_TIME_KEY_VERSION`]).
    UnsupportedVersion(u8),
    /// The identity key is not a valid Ed25519 key of large order.
    InvalidIdentityKey,
    /// The signature does not verify under the bundle's identity key.
    BadSignature,
    /// The bundle names another owner than the authenticated uploader (a
    /// server) or the device that was asked for (a peer).
    OwnerMismatch,
    /// The X25519 key's encoding is not canonical.
    NonCanonicalSealingKey,
    /// The X25519 key has small order.
    SmallOrderSealingKey,
    /// The key id is not the one derived from the X25519 key.
    WrongKeyId,
    /// The ML-KEM encapsulation key fails the FIPS 203 §7.2 modulus check.
    InvalidKemKey,
    /// The KEM key id is not the one derived from the encapsulation key.
    WrongKemKeyId,
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
    /// The X25519 key is already registered to another device or account.
    DuplicateSealingKey,
}

impl fmt::Display for RegistrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed bundle: {e}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported bundle version {v}"),
            Self::InvalidIdentityKey => f.write_str("invalid identity key"),
            Self::BadSignature => f.write_str("bundle signature does not verify"),
            Self::OwnerMismatch => f.write_str("bundle names another owner than expected"),
            Self::NonCanonicalSealingKey => f.write_str("sealing key is not canonical"),
            Self::SmallOrderSealingKey => f.write_str("sealing key has small order"),
            Self::WrongKeyId => f.write_str("key id does not match the sealing key"),
            Self::InvalidKemKey => f.write_str("ML-KEM encapsulation key is invalid"),
            Self::WrongKemKeyId => f.write_str("KEM key id does not match the KEM key"),
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
            Self::OwnerMismatch => "OwnerMismatch",
            Self::NonCanonicalSealingKey => "NonCanonicalSealingKey",
            Self::SmallOrderSealingKey => "SmallOrderSealingKey",
            Self::WrongKeyId => "WrongKeyId",
            Self::InvalidKemKey => "InvalidKemKey",
            Self::WrongKemKeyId => "WrongKemKeyId",
            Self::InvalidValidityWindow => "InvalidValidityWindow",
            Self::LifetimeTooLong => "LifetimeTooLong",
            Self::NotYetValid => "NotYetValid",
            Self::Expired => "Expired",
            Self::IdentityKeyMismatch => "IdentityKeyMismatch",
            Self::DuplicateSealingKey => "DuplicateSealingKey",
        }
    }
}

/// Who a bundle must belong to (SPEC.md §5.3 check 3; issue 13 item 6).
///
/// A **server** passes what it authenticated for the upload: usually
/// [`Self::User`] (the account of the session that uploads), or
/// [`Self::Device`] if it also authenticates the device. A **client**
/// passes the device it asked the server for ([`Self::Device`]), so a server
/// cannot answer with another device's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpectedOwner {
    /// Exactly this device.
    Device(DeviceAddress),
    /// Any device of this user.
    User(UserId),
}

impl ExpectedOwner {
    /// Whether a bundle naming `owner` belongs to the expected owner.
    pub fn accepts(&self, owner: &DeviceAddress) -> bool {
        match self {
            Self::Device(device) => device == owner,
            Self::User(user) => *user == owner.user,
        }
    }
}

impl From<DeviceAddress> for ExpectedOwner {
    fn from(device: DeviceAddress) -> Self {
        Self::Device(device)
    }
}

impl From<UserId> for ExpectedOwner {
    fn from(user: UserId) -> Self {
        Self::User(user)
    }
}

/// The server's rules for accepting bundles and one-time keys. See the
/// walkthrough in the [module docs](self).
///
/// ```
/// use letterseal::registration::RegistrationPolicy;
///
/// // Accept sealing keys valid for at most 30 days.
/// let policy = RegistrationPolicy { max_lifetime_seconds: 30 * 86_400, ..Default::default() };
/// assert_eq!(policy.max_clock_skew_seconds, 300);
/// ```
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
/// answers this lookup from its own store. It covers every registered X25519
/// key: sealing keys and one-time keys alike. A closure
/// `Fn(&SealingPublicKey) -> Option<DeviceAddress>` is one; the walkthrough in
/// the [module docs](self) implements it for a table.
pub trait KeyDirectory {
    /// The device `key` is registered to, if any.
    fn owner_of(&self, key: &SealingPublicKey) -> Option<DeviceAddress>;
}

/// A directory with nothing registered (for peers, who have no directory).
/// See the example on [`KeyBundle::verify`].
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

/// Check 3: the owner is the expected one.
fn check_owner(expected: &ExpectedOwner, owner: &DeviceAddress) -> Result<(), RegistrationError> {
    if expected.accepts(owner) {
        Ok(())
    } else {
        Err(RegistrationError::OwnerMismatch)
    }
}

/// Checks 4–6: the X25519 key is canonical, not of small order, and `id` is its id.
fn check_x25519_key(key: &SealingPublicKey, id: SealingKeyId) -> Result<(), RegistrationError> {
    key.validate().map_err(|e| match e {
        KeyError::NonCanonicalSealingKey => RegistrationError::NonCanonicalSealingKey,
        _ => RegistrationError::SmallOrderSealingKey,
    })?;
    if key.key_id() != id {
        return Err(RegistrationError::WrongKeyId);
    }
    Ok(())
}

/// The validity window checks against the policy and `now`.
fn check_window(
    policy: &RegistrationPolicy,
    now: Timestamp,
    not_before: Timestamp,
    not_after: Timestamp,
) -> Result<(), RegistrationError> {
    let lifetime = not_after
        .unix_seconds()
        .checked_sub(not_before.unix_seconds())
        .filter(|&l| l > 0)
        .ok_or(RegistrationError::InvalidValidityWindow)?;
    if lifetime > policy.max_lifetime_seconds {
        return Err(RegistrationError::LifetimeTooLong);
    }
    if now.saturating_add(policy.max_clock_skew_seconds) < not_before {
        return Err(RegistrationError::NotYetValid);
    }
    if now >= not_after {
        return Err(RegistrationError::Expired);
    }
    Ok(())
}

/// The last two checks: the pinned identity key, then the directory.
fn check_pinned_and_directory(
    pinned_identity: Option<&IdentityPublicKey>,
    directory: &impl KeyDirectory,
    identity_key: &IdentityPublicKey,
    key: &SealingPublicKey,
    owner: &DeviceAddress,
) -> Result<(), RegistrationError> {
    if pinned_identity.is_some_and(|pinned| pinned != identity_key) {
        return Err(RegistrationError::IdentityKeyMismatch);
    }
    if directory
        .owner_of(key)
        .is_some_and(|registered| registered != *owner)
    {
        return Err(RegistrationError::DuplicateSealingKey);
    }
    Ok(())
}
