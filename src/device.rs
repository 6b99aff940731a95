//! A device's own keys (SPEC.md §4.5): one identity key and any number of live
//! sealing keys, so a device can rotate keys while older ones still open mail.
//!
//! ```
//! use letterseal::device::DeviceKeys;
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([2; 32]);
//!
//! let now = Timestamp::from_unix_seconds(1_800_000_000);
//! let me = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(7));
//! let mut device = DeviceKeys::generate(&mut rng, me);
//! let first = device.add_sealing_key(&mut rng, now, 86_400);
//! let second = device.add_sealing_key(&mut rng, now, 86_400); // rotation
//! assert_eq!(device.live_key_ids().count(), 2);
//!
//! // Retiring deletes the private key for good.
//! assert!(device.retire(first.content().sealing_key_id));
//! assert!(device.sealing_key(&first.content().sealing_key_id).is_none());
//! assert!(device.sealing_key(&second.content().sealing_key_id).is_some());
//! ```

use alloc::collections::BTreeMap;
use core::fmt;

use rand_core::CryptoRng;

use crate::ids::DeviceAddress;
use crate::keys::{IdentitySecretKey, SealingKeyId, SealingPublicKey, SealingSecretKey};
use crate::registration::{BundleContent, KeyBundle};
use crate::time::Timestamp;

struct LiveSealingKey {
    secret: SealingSecretKey,
    public: SealingPublicKey,
    not_before: Timestamp,
    not_after: Timestamp,
}

/// A device's identity key and its live sealing keys, by key id.
pub struct DeviceKeys {
    address: DeviceAddress,
    identity: IdentitySecretKey,
    sealing: BTreeMap<SealingKeyId, LiveSealingKey>,
}

impl DeviceKeys {
    /// A device with a fresh identity key and no sealing key yet.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R, address: DeviceAddress) -> Self {
        Self::from_identity(address, IdentitySecretKey::generate(rng))
    }

    /// A device with an existing identity key and no sealing key yet.
    pub fn from_identity(address: DeviceAddress, identity: IdentitySecretKey) -> Self {
        Self {
            address,
            identity,
            sealing: BTreeMap::new(),
        }
    }

    /// Who this device is.
    pub fn address(&self) -> &DeviceAddress {
        &self.address
    }

    /// The identity key.
    pub fn identity(&self) -> &IdentitySecretKey {
        &self.identity
    }

    /// Generates a sealing key valid from `not_before` for `lifetime_seconds`,
    /// keeps it live, and returns the signed bundle to register (SPEC.md §5.2).
    pub fn add_sealing_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        not_before: Timestamp,
        lifetime_seconds: u64,
    ) -> KeyBundle {
        self.insert_sealing_key(
            SealingSecretKey::generate(rng),
            not_before,
            not_before.saturating_add(lifetime_seconds),
        )
    }

    /// Keeps an existing sealing key live and returns its signed bundle.
    pub fn insert_sealing_key(
        &mut self,
        secret: SealingSecretKey,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> KeyBundle {
        let public = secret.public_key();
        let key = LiveSealingKey {
            secret,
            public,
            not_before,
            not_after,
        };
        let bundle = self.sign_bundle(&key);
        self.sealing.insert(bundle.content().sealing_key_id, key);
        bundle
    }

    fn sign_bundle(&self, key: &LiveSealingKey) -> KeyBundle {
        BundleContent::new(
            self.address.clone(),
            self.identity.public_key(),
            key.public,
            key.not_before,
            key.not_after,
        )
        .sign(&self.identity)
    }

    /// The signed bundle of a live sealing key.
    pub fn bundle(&self, key_id: &SealingKeyId) -> Option<KeyBundle> {
        self.sealing.get(key_id).map(|key| self.sign_bundle(key))
    }

    /// The live sealing key with this id.
    pub fn sealing_key(&self, key_id: &SealingKeyId) -> Option<&SealingSecretKey> {
        self.sealing.get(key_id).map(|k| &k.secret)
    }

    /// Ids of all live sealing keys, in ascending order.
    pub fn live_key_ids(&self) -> impl Iterator<Item = &SealingKeyId> {
        self.sealing.keys()
    }

    /// Deletes (and zeroizes) a sealing private key. Returns whether it was live.
    pub fn retire(&mut self, key_id: SealingKeyId) -> bool {
        self.sealing.remove(&key_id).is_some()
    }
}

impl fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("address", &self.address)
            .field("identity", &self.identity.public_key())
            .field(
                "sealing_key_ids",
                &self.sealing.keys().collect::<alloc::vec::Vec<_>>(),
            )
            .finish()
    }
}
