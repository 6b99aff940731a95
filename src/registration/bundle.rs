//! Key bundles, version 2 (SPEC.md §5.1–5.3): a sealing key and an ML-KEM
//! encapsulation key, signed by the device's identity key.

use alloc::vec::Vec;

use super::{
    ExpectedOwner, KeyDirectory, RegistrationError, RegistrationPolicy, check_owner,
    check_pinned_and_directory, check_window, check_x25519_key,
};
use crate::codec::{Reader, Writer};
use crate::ids::DeviceAddress;
use crate::keys::{
    IdentityPublicKey, IdentitySecretKey, KEM_ENCAPSULATION_KEY_LEN, KEM_KEY_ID_LEN, KEY_ID_LEN,
    KemEncapsulationKey, KemKeyId, SIGNATURE_LEN, SealingKeyId, SealingPublicKey, Signature,
    UncheckedKemKey,
};
use crate::labels;
use crate::time::Timestamp;

/// The bundle format version this release writes and accepts. Version 1
/// (release 0.1: no ML-KEM key) is refused with
/// [`RegistrationError::UnsupportedVersion`]; devices re-register.
pub const BUNDLE_VERSION: u8 = 2;

/// Length of the fields after the owner's address: identity key, sealing key
/// and id, KEM key and id, two timestamps.
const TBS_FIXED_LEN: usize = 32 + 32 + KEY_ID_LEN + KEM_ENCAPSULATION_KEY_LEN + KEM_KEY_ID_LEN + 16;

/// The signed fields of a bundle (SPEC.md §5.1).
///
/// [`Account`](crate::account::Account) and
/// [`DeviceKeys`](crate::device::DeviceKeys) make bundles themselves; this is
/// for tools that hold the keys separately.
///
/// ```
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::keys::{IdentitySecretKey, KemDecapsulationKey, SealingSecretKey};
/// use letterseal::registration::{BundleContent, NoDirectory, RegistrationPolicy};
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
/// let now = Timestamp::from_unix_seconds(1_800_000_000);
/// let me = DeviceAddress::new(UserId::new("alice")?, DeviceId::new(1));
/// let identity = IdentitySecretKey::generate(&mut rng);
/// let sealing = SealingSecretKey::generate(&mut rng);
/// let kem = KemDecapsulationKey::generate(&mut rng);
/// let content = BundleContent::new(
///     me.clone(),
///     identity.public_key(),
///     sealing.public_key(),
///     kem.encapsulation_key_ref(),
///     now,
///     now.saturating_add(7 * 86_400),
/// );
/// assert_eq!(content.sealing_key_id, sealing.public_key().key_id());
/// let bundle = content.sign(&identity);
/// let policy = RegistrationPolicy::default();
/// assert!(bundle.verify(&me.into(), &policy, now, None, &NoDirectory).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleContent {
    /// The device the keys belong to.
    pub owner: DeviceAddress,
    /// The device's Ed25519 identity key, which signs the bundle.
    pub identity_key: IdentityPublicKey,
    /// The X25519 sealing key being registered (the signed prekey).
    pub sealing_key: SealingPublicKey,
    /// The sealing key's id (must equal `sealing_key.key_id()`).
    pub sealing_key_id: SealingKeyId,
    /// The ML-KEM-768 encapsulation key being registered, as signed
    /// (checked by [`KeyBundle::verify`]).
    pub kem_key: UncheckedKemKey,
    /// The KEM key's id (must equal `kem_key.key_id()`).
    pub kem_key_id: KemKeyId,
    /// Start of the validity window.
    pub not_before: Timestamp,
    /// End of the validity window (exclusive).
    pub not_after: Timestamp,
}

impl BundleContent {
    /// The content for a sealing key and a KEM key, with their derived key ids.
    pub fn new(
        owner: DeviceAddress,
        identity_key: IdentityPublicKey,
        sealing_key: SealingPublicKey,
        kem_key: &KemEncapsulationKey,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Self {
        Self {
            owner,
            identity_key,
            sealing_key_id: sealing_key.key_id(),
            sealing_key,
            kem_key_id: kem_key.key_id(),
            kem_key: kem_key.into(),
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
        w.raw(self.kem_key.as_bytes());
        w.raw(self.kem_key_id.as_bytes());
        w.u64(self.not_before.unix_seconds());
        w.u64(self.not_after.unix_seconds());
    }

    fn tbs(&self) -> Writer {
        let mut w = Writer::with_capacity(1 + 1 + 255 + 4 + TBS_FIXED_LEN + SIGNATURE_LEN);
        self.encode_tbs(&mut w);
        w
    }

    /// Signs the content with `identity` (SPEC.md §5.2). The signer is not
    /// checked against `identity_key`: a mismatch yields a bundle that fails
    /// verification with [`RegistrationError::BadSignature`].
    pub fn sign(self, identity: &IdentitySecretKey) -> KeyBundle {
        let signature = identity.sign_labeled(labels::sig::KEY_BUNDLE, self.tbs().as_bytes());
        KeyBundle {
            content: self,
            signature,
        }
    }
}

/// A signed bundle that has not been verified yet.
///
/// A device makes one with [`DeviceKeys::add_sealing_key`](crate::device::DeviceKeys::add_sealing_key)
/// and uploads its [`encode`](Self::encode)d bytes; whoever receives them
/// [`decode`](Self::decode)s and [`verify`](Self::verify)s them before use.
///
/// ```
/// use letterseal::device::DeviceKeys;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::registration::{KeyBundle, RegistrationError};
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([2; 32]);
///
/// let now = Timestamp::from_unix_seconds(1_800_000_000);
/// let me = DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1));
/// let mut device = DeviceKeys::generate(&mut rng, me.clone());
/// let bundle: KeyBundle = device.add_sealing_key(&mut rng, now, 30 * 86_400);
///
/// let wire = bundle.encode();
/// let received = KeyBundle::decode(&wire).unwrap();
/// assert_eq!(received, bundle);
/// assert_eq!(received.signature(), bundle.signature());
/// assert_eq!(received.content().owner, me); // unverified until `verify`
///
/// // Decoding is strict: a truncated or extended upload is refused.
/// assert!(matches!(KeyBundle::decode(&wire[..wire.len() - 1]), Err(RegistrationError::Malformed(_))));
/// let mut longer = wire.clone();
/// longer.push(0);
/// assert!(matches!(KeyBundle::decode(&longer), Err(RegistrationError::Malformed(_))));
/// ```
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
        let mut w = self.content.tbs();
        w.raw(&self.signature.to_bytes());
        w.into_bytes()
    }

    /// Strict decoding (SPEC.md §5.1): known version (1 is refused), exact
    /// lengths, no trailing bytes, identity key a valid Ed25519 point. The
    /// keys are checked by [`Self::verify`].
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
        let kem_key =
            UncheckedKemKey::from_bytes(r.array::<KEM_ENCAPSULATION_KEY_LEN>().map_err(malformed)?);
        let kem_key_id = KemKeyId::from_bytes(r.array::<KEM_KEY_ID_LEN>().map_err(malformed)?);
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
                kem_key,
                kem_key_id,
                not_before,
                not_after,
            },
            signature,
        })
    }

    /// Every registration check of SPEC.md §5.3, in order. Pure: the
    /// expected owner (the authenticated uploader, or the device a peer asked
    /// for), the policy, `now`, the pinned identity key and the directory are
    /// arguments.
    ///
    /// **Server**: `expected_owner` is the account (or device) the upload
    /// session authenticated, `pinned_identity` the identity key stored for
    /// this device (none for a new device), and `directory` a lookup of the
    /// X25519 keys already registered, answered from the server's store (any
    /// `Fn(&SealingPublicKey) -> Option<DeviceAddress>` will do).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use letterseal::device::DeviceKeys;
    /// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// use letterseal::keys::SealingPublicKey;
    /// use letterseal::registration::{
    ///     BundleContent, ExpectedOwner, KeyBundle, RegistrationError, RegistrationPolicy,
    /// };
    /// use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
    ///
    /// let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// let alice = UserId::new("alice").unwrap();
    /// let mut device = DeviceKeys::generate(&mut rng, DeviceAddress::new(alice.clone(), DeviceId::new(1)));
    /// let upload = device.add_sealing_key(&mut rng, now, 30 * 86_400).encode();
    ///
    /// // The server's store: registered X25519 keys and pinned identity keys.
    /// let mut registered: BTreeMap<[u8; 32], DeviceAddress> = BTreeMap::new();
    /// let directory = |key: &SealingPublicKey| registered.get(key.as_bytes()).cloned();
    /// let policy = RegistrationPolicy::default();
    /// let uploader = ExpectedOwner::User(alice.clone()); // from the authenticated session
    ///
    /// let verified = KeyBundle::decode(&upload)
    ///     .and_then(|b| b.verify(&uploader, &policy, now, None, &directory))
    ///     .unwrap();
    /// // Store the key and pin the identity key for this device.
    /// let pinned = *verified.identity_key();
    /// registered.insert(*verified.sealing_key().as_bytes(), verified.owner().clone());
    ///
    /// // A retry of the same upload is accepted.
    /// let directory = |key: &SealingPublicKey| registered.get(key.as_bytes()).cloned();
    /// let again = KeyBundle::decode(&upload).unwrap();
    /// assert!(again.verify(&uploader, &policy, now, Some(&pinned), &directory).is_ok());
    ///
    /// // Mallory copies Alice's public keys into a bundle of her own (an unknown-key share):
    /// // the key is registered to another device, so it is refused.
    /// let mallory = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("mallory").unwrap(), DeviceId::new(1)));
    /// let copied = BundleContent::new(
    ///     mallory.address().clone(),
    ///     mallory.identity().public_key(),
    ///     *verified.sealing_key(),
    ///     verified.kem_key(),
    ///     now,
    ///     now.saturating_add(86_400),
    /// )
    /// .sign(mallory.identity());
    /// let as_mallory = ExpectedOwner::User(UserId::new("mallory").unwrap());
    /// assert_eq!(
    ///     copied.verify(&as_mallory, &policy, now, None, &directory).unwrap_err(),
    ///     RegistrationError::DuplicateSealingKey
    /// );
    ///
    /// // A bundle for this device signed by another identity key is refused.
    /// let mut impostor = DeviceKeys::generate(&mut rng, verified.owner().clone());
    /// let other = impostor.add_sealing_key(&mut rng, now, 30 * 86_400);
    /// assert_eq!(
    ///     other.verify(&uploader, &policy, now, Some(&pinned), &directory).unwrap_err(),
    ///     RegistrationError::IdentityKeyMismatch
    /// );
    ///
    /// // Expired at the server's clock.
    /// let later = Timestamp::from_unix_seconds(1_800_000_000 + 31 * 86_400);
    /// let fresh = device.add_sealing_key(&mut rng, now, 30 * 86_400);
    /// assert_eq!(
    ///     fresh.verify(&uploader, &policy, later, Some(&pinned), &directory).unwrap_err(),
    ///     RegistrationError::Expired
    /// );
    /// ```
    ///
    /// **Peer** (before [`Session::new`](crate::pairwise::Session::new)):
    /// `expected_owner` is the device it asked the server for, so the server
    /// cannot answer with another device's keys; a peer has no directory
    /// ([`NoDirectory`](super::NoDirectory)) and pins the identity key it
    /// compared by safety number, if any.
    ///
    /// ```
    /// use letterseal::device::DeviceKeys;
    /// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
    /// use letterseal::registration::{ExpectedOwner, NoDirectory, RegistrationError, RegistrationPolicy};
    /// use letterseal::time::Timestamp;
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
    ///
    /// let now = Timestamp::from_unix_seconds(1_800_000_000);
    /// let bob_phone = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(1));
    /// let bob_laptop = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(2));
    /// let mut laptop = DeviceKeys::generate(&mut rng, bob_laptop);
    /// let answer = laptop.add_sealing_key(&mut rng, now, 86_400);
    ///
    /// // Alice asked for Bob's phone; the server answered with his laptop's bundle.
    /// let asked = ExpectedOwner::Device(bob_phone);
    /// let err = answer.verify(&asked, &RegistrationPolicy::default(), now, None, &NoDirectory);
    /// assert_eq!(err.unwrap_err(), RegistrationError::OwnerMismatch);
    /// ```
    pub fn verify(
        self,
        expected_owner: &ExpectedOwner,
        policy: &RegistrationPolicy,
        now: Timestamp,
        pinned_identity: Option<&IdentityPublicKey>,
        directory: &impl KeyDirectory,
    ) -> Result<VerifiedBundle, RegistrationError> {
        let c = &self.content;
        c.identity_key
            .verify_labeled(labels::sig::KEY_BUNDLE, c.tbs().as_bytes(), &self.signature)
            .map_err(|_| RegistrationError::BadSignature)?;
        check_owner(expected_owner, &c.owner)?;
        check_x25519_key(&c.sealing_key, c.sealing_key_id)?;
        let kem_key = c
            .kem_key
            .validate()
            .map_err(|_| RegistrationError::InvalidKemKey)?;
        if kem_key.key_id() != c.kem_key_id {
            return Err(RegistrationError::WrongKemKeyId);
        }
        check_window(policy, now, c.not_before, c.not_after)?;
        check_pinned_and_directory(
            pinned_identity,
            directory,
            &c.identity_key,
            &c.sealing_key,
            &c.owner,
        )?;
        Ok(VerifiedBundle {
            bundle: self,
            kem_key,
        })
    }
}

/// A bundle that passed [`KeyBundle::verify`]. Sessions are built only from these.
///
/// ```
/// use letterseal::device::DeviceKeys;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::pairwise::Session;
/// use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([6; 32]);
///
/// let now = Timestamp::from_unix_seconds(1_800_000_000);
/// let bob = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(1));
/// let mut bob_keys = DeviceKeys::generate(&mut rng, bob.clone());
/// let bundle = bob_keys.add_sealing_key(&mut rng, now, 86_400);
///
/// let verified: VerifiedBundle = bundle
///     .verify(&bob.clone().into(), &RegistrationPolicy::default(), now, None, &NoDirectory)
///     .unwrap();
/// assert_eq!(verified.owner(), &bob);
/// assert_eq!(verified.identity_key(), &bob_keys.identity().public_key());
/// assert_eq!(verified.sealing_key_id(), verified.sealing_key().key_id());
/// assert_eq!(verified.kem_key_id(), verified.kem_key().key_id());
/// assert_eq!(verified.bundle().content().owner, bob);
/// assert_eq!(verified.validity(), (now, Timestamp::from_unix_seconds(1_800_086_400)));
///
/// // Alice starts a session to Bob from it.
/// let alice = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1)));
/// let _session = Session::new(&alice, &verified).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    bundle: KeyBundle,
    kem_key: KemEncapsulationKey,
}

impl VerifiedBundle {
    /// A bundle verified once before and kept in an account's sealed state:
    /// its signature and KEM key are checked again; its validity window is
    /// not (expiry is checked whenever it is used).
    pub(crate) fn from_storage(bundle: KeyBundle) -> Result<Self, RegistrationError> {
        let c = &bundle.content;
        c.identity_key
            .verify_labeled(
                labels::sig::KEY_BUNDLE,
                c.tbs().as_bytes(),
                &bundle.signature,
            )
            .map_err(|_| RegistrationError::BadSignature)?;
        let kem_key = c
            .kem_key
            .validate()
            .map_err(|_| RegistrationError::InvalidKemKey)?;
        Ok(Self { bundle, kem_key })
    }

    /// The device the keys belong to.
    pub fn owner(&self) -> &DeviceAddress {
        &self.bundle.content.owner
    }

    /// The verified identity key.
    pub fn identity_key(&self) -> &IdentityPublicKey {
        &self.bundle.content.identity_key
    }

    /// The verified sealing key.
    pub fn sealing_key(&self) -> &SealingPublicKey {
        &self.bundle.content.sealing_key
    }

    /// The sealing key's id.
    pub fn sealing_key_id(&self) -> SealingKeyId {
        self.bundle.content.sealing_key_id
    }

    /// The verified ML-KEM-768 encapsulation key.
    pub fn kem_key(&self) -> &KemEncapsulationKey {
        &self.kem_key
    }

    /// The KEM key's id.
    pub fn kem_key_id(&self) -> KemKeyId {
        self.bundle.content.kem_key_id
    }

    /// The validity window `[not_before, not_after)`.
    pub fn validity(&self) -> (Timestamp, Timestamp) {
        (
            self.bundle.content.not_before,
            self.bundle.content.not_after,
        )
    }

    /// The bundle as received.
    pub fn bundle(&self) -> &KeyBundle {
        &self.bundle
    }
}
