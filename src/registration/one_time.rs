//! One-time prekeys (SPEC.md §5.5): single-use X25519 keys a device uploads in
//! batches, each signed by its identity key. A peer that starts a session may
//! use one; the device deletes its secret after the first use.
//!
//! ```
//! use letterseal::device::DeviceKeys;
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::registration::{ExpectedOwner, NoDirectory, OneTimeKeyBundle, RegistrationPolicy};
//! use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
//! let now = Timestamp::from_unix_seconds(1_800_000_000);
//! let address = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(1));
//! let mut bob = DeviceKeys::generate(&mut rng, address.clone());
//! let uploads = bob.add_one_time_keys(&mut rng, 3, now, 30 * 86_400);
//!
//! // The server checks each one as it checks bundles; a peer, later, the same way.
//! let wire = uploads[0].encode();
//! let verified = OneTimeKeyBundle::decode(&wire)
//!     .and_then(|k| {
//!         k.verify(&ExpectedOwner::Device(address), &RegistrationPolicy::default(), now, None, &NoDirectory)
//!     })
//!     .unwrap();
//!
//! // Bob uses the key once, then it is gone, and a second use is detectable.
//! let id = verified.key_id();
//! assert!(bob.one_time_key(&id).is_some());
//! assert!(bob.consume_one_time_key(id));
//! assert!(bob.one_time_key(&id).is_none());
//! assert!(bob.is_consumed_one_time_key(&id));
//! ```

use alloc::vec::Vec;

use super::{
    ExpectedOwner, KeyDirectory, RegistrationError, RegistrationPolicy, check_owner,
    check_pinned_and_directory, check_window, check_x25519_key,
};
use crate::codec::{Reader, Writer};
use crate::ids::DeviceAddress;
use crate::keys::{
    IdentityPublicKey, IdentitySecretKey, KEY_ID_LEN, SIGNATURE_LEN, SealingKeyId,
    SealingPublicKey, Signature,
};
use crate::labels;
use crate::time::Timestamp;

/// The one-time key format version this release writes and accepts.
pub const ONE_TIME_KEY_VERSION: u8 = 1;

/// The signed fields of a one-time key (SPEC.md §5.5).
///
/// [`Account::one_time_keys`](crate::account::Account::one_time_keys) and
/// [`DeviceKeys::add_one_time_keys`](crate::device::DeviceKeys::add_one_time_keys)
/// make them; this is for tools that hold the keys separately.
///
/// ```
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::keys::{IdentitySecretKey, SealingSecretKey};
/// use letterseal::registration::OneTimeKeyContent;
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
/// let now = Timestamp::from_unix_seconds(1_800_000_000);
/// let me = DeviceAddress::new(UserId::new("bob")?, DeviceId::new(1));
/// let identity = IdentitySecretKey::generate(&mut rng);
/// let one_time = SealingSecretKey::generate(&mut rng);
/// let content = OneTimeKeyContent::new(
///     me, identity.public_key(), one_time.public_key(), now, now.saturating_add(86_400),
/// );
/// let signed = content.sign(&identity);
/// assert_eq!(signed.content().key_id, one_time.public_key().key_id());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneTimeKeyContent {
    /// The device the key belongs to.
    pub owner: DeviceAddress,
    /// The device's Ed25519 identity key, which signs the key.
    pub identity_key: IdentityPublicKey,
    /// The X25519 one-time key.
    pub key: SealingPublicKey,
    /// Its id (must equal `key.key_id()`: the derivation of sealing key ids).
    pub key_id: SealingKeyId,
    /// Start of the validity window.
    pub not_before: Timestamp,
    /// End of the validity window (exclusive).
    pub not_after: Timestamp,
}

impl OneTimeKeyContent {
    /// The content for a one-time key, with its derived key id.
    pub fn new(
        owner: DeviceAddress,
        identity_key: IdentityPublicKey,
        key: SealingPublicKey,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Self {
        Self {
            owner,
            identity_key,
            key_id: key.key_id(),
            key,
            not_before,
            not_after,
        }
    }

    fn tbs(&self) -> Writer {
        let mut w = Writer::with_capacity(1 + 1 + 255 + 4 + 32 + 32 + 16 + 16 + SIGNATURE_LEN);
        w.u8(ONE_TIME_KEY_VERSION);
        self.owner.encode(&mut w);
        w.raw(self.identity_key.as_bytes());
        w.raw(self.key.as_bytes());
        w.raw(self.key_id.as_bytes());
        w.u64(self.not_before.unix_seconds());
        w.u64(self.not_after.unix_seconds());
        w
    }

    /// Signs the content with `identity`:
    /// `SignLabeled(identity, "one-time key", tbs)` (SPEC.md §5.5).
    pub fn sign(self, identity: &IdentitySecretKey) -> OneTimeKeyBundle {
        let signature = identity.sign_labeled(labels::sig::ONE_TIME_KEY, self.tbs().as_bytes());
        OneTimeKeyBundle {
            content: self,
            signature,
        }
    }
}

/// A signed one-time key that has not been verified yet.
///
/// A server checks each uploaded key as it checks bundles; a peer checks the
/// key the server hands out the same way, naming the device it asked for.
///
/// ```
/// use letterseal::device::DeviceKeys;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::registration::{ExpectedOwner, NoDirectory, OneTimeKeyBundle, RegistrationPolicy};
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
/// let now = Timestamp::from_unix_seconds(1_800_000_000);
/// let bob_phone = DeviceAddress::new(UserId::new("bob")?, DeviceId::new(1));
/// let mut bob = DeviceKeys::generate(&mut rng, bob_phone.clone());
/// let upload = bob.add_one_time_keys(&mut rng, 1, now, 86_400).remove(0).encode();
///
/// // Server: decode and verify for the uploading account.
/// let received = OneTimeKeyBundle::decode(&upload)?;
/// assert_eq!(received.content().owner, bob_phone); // unverified until `verify`
/// assert_eq!(received.encode(), upload);
/// let signature = *received.signature();
/// let uploader = ExpectedOwner::User(bob_phone.user.clone());
/// let verified = received.verify(&uploader, &RegistrationPolicy::default(), now, None, &NoDirectory)?;
/// assert_eq!(verified.owner(), &bob_phone);
/// assert_eq!(verified.identity_key(), &bob.identity().public_key());
/// assert_eq!(verified.key_id(), verified.key().key_id());
/// assert_eq!(verified.validity(), (now, now.saturating_add(86_400)));
/// assert_eq!(verified.bundle().signature(), &signature);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneTimeKeyBundle {
    content: OneTimeKeyContent,
    signature: Signature,
}

impl OneTimeKeyBundle {
    /// The signed fields (unverified).
    pub fn content(&self) -> &OneTimeKeyContent {
        &self.content
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The wire encoding: the to-be-signed bytes, then the 64-byte signature.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = self.content.tbs();
        w.raw(&self.signature.to_bytes());
        w.into_bytes()
    }

    /// Strict decoding (SPEC.md §5.5): known version, exact lengths, no
    /// trailing bytes, identity key a valid Ed25519 point.
    pub fn decode(bytes: &[u8]) -> Result<Self, RegistrationError> {
        let mut r = Reader::new(bytes);
        let malformed = RegistrationError::Malformed;
        let version = r.u8().map_err(malformed)?;
        if version != ONE_TIME_KEY_VERSION {
            return Err(RegistrationError::UnsupportedVersion(version));
        }
        let owner = DeviceAddress::decode(&mut r).map_err(malformed)?;
        let identity_bytes: [u8; 32] = r.array().map_err(malformed)?;
        let key = SealingPublicKey::from_bytes(r.array().map_err(malformed)?);
        let key_id = SealingKeyId::from_bytes(r.array::<KEY_ID_LEN>().map_err(malformed)?);
        let not_before = Timestamp::from_unix_seconds(r.u64().map_err(malformed)?);
        let not_after = Timestamp::from_unix_seconds(r.u64().map_err(malformed)?);
        let signature = Signature::from_bytes(r.array::<SIGNATURE_LEN>().map_err(malformed)?);
        r.finish().map_err(malformed)?;
        let identity_key = IdentityPublicKey::from_bytes(&identity_bytes)
            .map_err(|_| RegistrationError::InvalidIdentityKey)?;
        Ok(Self {
            content: OneTimeKeyContent {
                owner,
                identity_key,
                key,
                key_id,
                not_before,
                not_after,
            },
            signature,
        })
    }

    /// Every check of SPEC.md §5.5, in order (those of bundles, without the
    /// KEM key): signature, expected owner, key canonical, not of small
    /// order, key id, window, lifetime, not yet valid, expired, pinned
    /// identity key, duplicate.
    ///
    /// The server runs it on every key of a batch, with the device's pinned
    /// identity key and the same directory as for bundles (one-time keys and
    /// sealing keys share it, so no key is registered twice):
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use letterseal::device::DeviceKeys;
    /// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// use letterseal::keys::SealingPublicKey;
    /// use letterseal::registration::{
    ///     ExpectedOwner, OneTimeKeyBundle, OneTimeKeyContent, RegistrationError, RegistrationPolicy,
    /// };
    /// use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    ///
    /// let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// let bob = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(1));
    /// let mut device = DeviceKeys::generate(&mut rng, bob.clone());
    /// let pinned = device.identity().public_key(); // what the server stored at registration
    /// let batch: Vec<Vec<u8>> =
    ///     device.add_one_time_keys(&mut rng, 5, now, 30 * 86_400).iter().map(|k| k.encode()).collect();
    ///
    /// // Server: the upload session authenticated the device bob/1.
    /// let uploader = ExpectedOwner::Device(bob);
    /// let policy = RegistrationPolicy::default();
    /// let mut registered: BTreeMap<[u8; 32], DeviceAddress> = BTreeMap::new();
    /// for wire in &batch {
    ///     let directory = |key: &SealingPublicKey| registered.get(key.as_bytes()).cloned();
    ///     let key = OneTimeKeyBundle::decode(wire)
    ///         .and_then(|k| k.verify(&uploader, &policy, now, Some(&pinned), &directory))
    ///         .unwrap();
    ///     registered.insert(*key.key().as_bytes(), key.owner().clone());
    /// }
    /// assert_eq!(registered.len(), 5);
    ///
    /// // Another device uploading one of these keys as its own is refused.
    /// let directory = |key: &SealingPublicKey| registered.get(key.as_bytes()).cloned();
    /// let bobs = OneTimeKeyBundle::decode(&batch[0]).unwrap();
    /// let mallory = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("mallory").unwrap(), DeviceId::new(1)));
    /// let copied = OneTimeKeyContent::new(
    ///     mallory.address().clone(),
    ///     mallory.identity().public_key(),
    ///     bobs.content().key,
    ///     now,
    ///     now.saturating_add(86_400),
    /// )
    /// .sign(mallory.identity());
    /// let as_mallory = ExpectedOwner::User(UserId::new("mallory").unwrap());
    /// assert_eq!(
    ///     copied.verify(&as_mallory, &policy, now, None, &directory).unwrap_err(),
    ///     RegistrationError::DuplicateSealingKey
    /// );
    /// ```
    pub fn verify(
        self,
        expected_owner: &ExpectedOwner,
        policy: &RegistrationPolicy,
        now: Timestamp,
        pinned_identity: Option<&IdentityPublicKey>,
        directory: &impl KeyDirectory,
    ) -> Result<VerifiedOneTimeKey, RegistrationError> {
        let c = &self.content;
        c.identity_key
            .verify_labeled(
                labels::sig::ONE_TIME_KEY,
                c.tbs().as_bytes(),
                &self.signature,
            )
            .map_err(|_| RegistrationError::BadSignature)?;
        check_owner(expected_owner, &c.owner)?;
        check_x25519_key(&c.key, c.key_id)?;
        check_window(policy, now, c.not_before, c.not_after)?;
        check_pinned_and_directory(
            pinned_identity,
            directory,
            &c.identity_key,
            &c.key,
            &c.owner,
        )?;
        Ok(VerifiedOneTimeKey(self))
    }
}

/// A one-time key that passed [`OneTimeKeyBundle::verify`]. A distinct type
/// from [`VerifiedBundle`](super::VerifiedBundle): it cannot stand in for a
/// device's signed sealing key. Its accessors are shown in the example on
/// [`OneTimeKeyBundle`].
///
/// A peer that starts a session offers one with
/// [`Session::with_one_time_key`](crate::pairwise::Session::with_one_time_key);
/// the owner deletes its secret on first use, so a replayed start fails.
///
/// ```
/// use letterseal::device::DeviceKeys;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::pairwise::{ContentType, OpenError, Session};
/// use letterseal::registration::{NoDirectory, RegistrationPolicy};
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([8; 32]);
///
/// let now = Timestamp::from_unix_seconds(1_800_000_000);
/// let policy = RegistrationPolicy::default();
/// let mut alice = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1)));
/// let alice_bundle = alice.add_sealing_key(&mut rng, now, 86_400);
/// let bob_address = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(1));
/// let mut bob = DeviceKeys::generate(&mut rng, bob_address.clone());
/// let bob_bundle = bob.add_sealing_key(&mut rng, now, 86_400);
/// let bob_one_time = bob.add_one_time_keys(&mut rng, 1, now, 86_400).remove(0);
///
/// // Alice fetched Bob's bundle and one one-time key and verifies both for the device she asked for.
/// let asked = bob_address.into();
/// let bundle = bob_bundle.verify(&asked, &policy, now, None, &NoDirectory).unwrap();
/// let one_time = bob_one_time.verify(&asked, &policy, now, None, &NoDirectory).unwrap();
/// let mut at_alice = Session::new(&alice, &bundle).unwrap().with_one_time_key(&one_time).unwrap();
/// let first = at_alice.seal(&alice, &mut rng, now, ContentType::Text, b"hi", b"").unwrap();
///
/// // Bob opens the start and deletes the one-time secret; a fresh session cannot open it again.
/// let alice_bundle = alice_bundle.verify(&alice.address().clone().into(), &policy, now, None, &NoDirectory).unwrap();
/// let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
/// assert_eq!(at_bob.open(&mut bob, now, &first, b"").unwrap().plaintext.as_slice(), b"hi");
/// assert!(bob.is_consumed_one_time_key(&one_time.key_id()));
/// let mut replayed_at = Session::new(&bob, &alice_bundle).unwrap();
/// assert_eq!(
///     replayed_at.open(&mut bob, now, &first, b"").unwrap_err(),
///     OpenError::ConsumedOneTimeKey(one_time.key_id())
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedOneTimeKey(OneTimeKeyBundle);

impl VerifiedOneTimeKey {
    /// The device the key belongs to.
    pub fn owner(&self) -> &DeviceAddress {
        &self.0.content.owner
    }

    /// The verified identity key that signed it.
    pub fn identity_key(&self) -> &IdentityPublicKey {
        &self.0.content.identity_key
    }

    /// The verified X25519 one-time key.
    pub fn key(&self) -> &SealingPublicKey {
        &self.0.content.key
    }

    /// Its id.
    pub fn key_id(&self) -> SealingKeyId {
        self.0.content.key_id
    }

    /// The validity window `[not_before, not_after)`.
    pub fn validity(&self) -> (Timestamp, Timestamp) {
        (self.0.content.not_before, self.0.content.not_after)
    }

    /// The key as received.
    pub fn bundle(&self) -> &OneTimeKeyBundle {
        &self.0
    }
}
