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
//! let second = device.add_sealing_key(&mut rng, now.saturating_add(60), 86_400); // rotation
//! assert_eq!(device.live_key_ids().count(), 2);
//! assert_eq!(device.current_sealing_key_id(), Some(second.content().sealing_key_id));
//!
//! // Retiring deletes the private key for good.
//! let first_id = first.content().sealing_key_id;
//! assert!(device.retire(first_id));
//! assert!(device.sealing_key(&first_id).is_none());
//! assert!(device.is_retired(&first_id));
//! ```

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
#[cfg(feature = "json-state")]
use serde::{Deserialize, Deserializer, Serialize, Serializer};
#[cfg(feature = "json-state")]
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::codec::{Reader, Writer};
use crate::ids::DeviceAddress;
use crate::keys::{IdentitySecretKey, SealingKeyId, SealingPublicKey, SealingSecretKey};
use crate::registration::{BundleContent, KeyBundle};
use crate::state::{
    self, SealedState, StateCodec, StateError, StateKind, StorageKey, check, field, read_list,
    write_len,
};
use crate::time::Timestamp;

/// Version of the JSON device state (feature `json-state`; SPEC.md §12.3).
pub const DEVICE_STATE_VERSION: u32 = 1;
/// Layout version of the device state in a sealed blob (SPEC.md §12.2).
pub const DEVICE_BLOB_VERSION: u16 = 2;

struct LiveSealingKey {
    secret: SealingSecretKey,
    public: SealingPublicKey,
    not_before: Timestamp,
    not_after: Timestamp,
}

/// A device's identity key, its live sealing keys by key id, and the ids of
/// keys it has retired.
///
/// Persist it with [`Self::export`] (a sealed, versioned blob with a
/// generation number) and [`Self::import`]; see [`crate::state`].
pub struct DeviceKeys {
    address: DeviceAddress,
    identity: IdentitySecretKey,
    sealing: BTreeMap<SealingKeyId, LiveSealingKey>,
    retired: BTreeSet<SealingKeyId>,
    /// Generation of the last export (0: never exported).
    generation: u64,
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
            retired: BTreeSet::new(),
            generation: 0,
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
        self.keep(key);
        bundle
    }

    fn keep(&mut self, key: LiveSealingKey) {
        let key_id = key.public.key_id();
        self.retired.remove(&key_id);
        self.sealing.insert(key_id, key);
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

    /// The public half of a live sealing key (stored, not recomputed).
    pub fn sealing_public_key(&self, key_id: &SealingKeyId) -> Option<&SealingPublicKey> {
        self.sealing.get(key_id).map(|k| &k.public)
    }

    /// The key new messages are sealed with: the live key with the latest
    /// `not_before` (ties: the larger key id).
    pub fn current_sealing_key_id(&self) -> Option<SealingKeyId> {
        self.sealing
            .iter()
            .max_by_key(|(id, k)| (k.not_before, **id))
            .map(|(id, _)| *id)
    }

    /// Ids of all live sealing keys, in ascending order.
    pub fn live_key_ids(&self) -> impl Iterator<Item = &SealingKeyId> {
        self.sealing.keys()
    }

    /// Deletes (and zeroizes) a sealing private key and remembers its id as
    /// retired. Returns whether it was live. Messages sealed to it can no
    /// longer be opened by anyone holding this state.
    pub fn retire(&mut self, key_id: SealingKeyId) -> bool {
        let was_live = self.sealing.remove(&key_id).is_some();
        if was_live {
            self.retired.insert(key_id);
        }
        was_live
    }

    /// Whether this device retired the key.
    pub fn is_retired(&self, key_id: &SealingKeyId) -> bool {
        self.retired.contains(key_id)
    }

    /// The validity window `(not_before, not_after)` of a live sealing key.
    pub fn sealing_key_validity(&self, key_id: &SealingKeyId) -> Option<(Timestamp, Timestamp)> {
        self.sealing
            .get(key_id)
            .map(|k| (k.not_before, k.not_after))
    }

    /// Seals the device's keys into a blob under `key` (SPEC.md §12), with a
    /// generation one higher than the last export.
    pub fn export<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &StorageKey,
    ) -> Result<SealedState, StateError> {
        let generation = state::next_generation(self.generation)?;
        let sealed = state::seal(self, generation, rng, key);
        self.generation = generation;
        Ok(sealed)
    }

    /// Opens a blob made by [`Self::export`], refusing a generation below
    /// `minimum_generation` (rollback) and any damaged, foreign or
    /// inconsistent blob, each with its own [`StateError`].
    pub fn import(
        key: &StorageKey,
        blob: &[u8],
        minimum_generation: u64,
    ) -> Result<Self, StateError> {
        let (mut device, generation) = state::open::<Self>(key, blob, minimum_generation)?;
        device.generation = generation;
        Ok(device)
    }

    /// The generation of the last export (or of the imported blob); 0 if none.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Rebuilds a device from its parts, checking the invariants of SPEC.md
    /// §12.2: validity windows not empty, retired ids not live.
    fn from_parts(
        address: DeviceAddress,
        identity: IdentitySecretKey,
        sealing: Vec<(SealingSecretKey, Timestamp, Timestamp)>,
        retired: BTreeSet<SealingKeyId>,
    ) -> Result<Self, StateError> {
        let mut device = Self::from_identity(address, identity);
        for (secret, not_before, not_after) in sealing {
            check("sealing.not_after", not_after > not_before)?;
            let public = secret.public_key();
            check("sealing.secret", public.validate().is_ok())?;
            let key_id = public.key_id();
            check("sealing.repeated", !device.sealing.contains_key(&key_id))?;
            device.sealing.insert(
                key_id,
                LiveSealingKey {
                    secret,
                    public,
                    not_before,
                    not_after,
                },
            );
        }
        check(
            "retired.live",
            retired.iter().all(|id| !device.sealing.contains_key(id)),
        )?;
        device.retired = retired;
        Ok(device)
    }
}

impl StateCodec for DeviceKeys {
    const KIND: StateKind = StateKind::DeviceKeys;
    const VERSION: u16 = DEVICE_BLOB_VERSION;

    /// `address ‖ identity seed ‖ u32(n) ‖ n × (secret ‖ u64(not_before) ‖
    /// u64(not_after)) ‖ u32(m) ‖ m × retired key id`, keys in ascending key id
    /// order.
    fn encode_state(&self, w: &mut Writer) {
        self.address.encode(w);
        w.raw(self.identity.to_seed().as_ref());
        write_len(w, self.sealing.len());
        for key in self.sealing.values() {
            w.raw(key.secret.to_bytes().as_ref());
            w.u64(key.not_before.unix_seconds());
            w.u64(key.not_after.unix_seconds());
        }
        write_len(w, self.retired.len());
        for id in &self.retired {
            w.raw(id.as_bytes());
        }
    }

    fn decode_state(r: &mut Reader<'_>) -> Result<Self, StateError> {
        let address = field("address", DeviceAddress::decode(r))?;
        let seed = zeroize::Zeroizing::new(field("identity_seed", r.array::<32>())?);
        let identity = IdentitySecretKey::from_seed(&seed);
        let mut last: Option<SealingKeyId> = None;
        let sealing = read_list(r, "sealing", 48, |r| {
            let bytes = zeroize::Zeroizing::new(field("sealing.secret", r.array::<32>())?);
            let secret = SealingSecretKey::from_bytes(&bytes);
            let id = secret.public_key().key_id();
            check("sealing.order", last.is_none_or(|l| l < id))?;
            last = Some(id);
            let not_before = Timestamp::from_unix_seconds(field("sealing.not_before", r.u64())?);
            let not_after = Timestamp::from_unix_seconds(field("sealing.not_after", r.u64())?);
            Ok((secret, not_before, not_after))
        })?;
        let mut last: Option<SealingKeyId> = None;
        let retired = read_list(r, "retired", 16, |r| {
            let id = SealingKeyId::from_bytes(field("retired", r.array())?);
            check("retired.order", last.is_none_or(|l| l < id))?;
            last = Some(id);
            Ok(id)
        })?;
        Self::from_parts(address, identity, sealing, retired.into_iter().collect())
    }
}

impl fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("address", &self.address)
            .field("identity", &self.identity.public_key())
            .field("sealing_key_ids", &self.sealing.keys().collect::<Vec<_>>())
            .field("retired", &self.retired.len())
            .finish()
    }
}

/// The JSON form of [`DeviceKeys`] (feature `json-state`); zeroized on drop.
#[cfg(feature = "json-state")]
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct DeviceState {
    version: u32,
    #[zeroize(skip)]
    address: DeviceAddress,
    #[serde(with = "crate::serde_hex")]
    identity_seed: [u8; 32],
    sealing: Vec<SealingKeyState>,
    #[zeroize(skip)]
    retired: Vec<SealingKeyId>,
}

#[cfg(feature = "json-state")]
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct SealingKeyState {
    #[serde(with = "crate::serde_hex")]
    secret: [u8; 32],
    #[zeroize(skip)]
    not_before: Timestamp,
    #[zeroize(skip)]
    not_after: Timestamp,
}

#[cfg(feature = "json-state")]
impl Serialize for DeviceKeys {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        DeviceState {
            version: DEVICE_STATE_VERSION,
            address: self.address.clone(),
            identity_seed: *self.identity.to_seed(),
            sealing: self
                .sealing
                .values()
                .map(|k| SealingKeyState {
                    secret: *k.secret.to_bytes(),
                    not_before: k.not_before,
                    not_after: k.not_after,
                })
                .collect(),
            retired: self.retired.iter().copied().collect(),
        }
        .serialize(serializer)
    }
}

#[cfg(feature = "json-state")]
impl<'de> Deserialize<'de> for DeviceKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let state = DeviceState::deserialize(deserializer)?;
        if state.version != DEVICE_STATE_VERSION {
            return Err(serde::de::Error::custom(alloc::format!(
                "unsupported device state version {}",
                state.version
            )));
        }
        let sealing = state
            .sealing
            .iter()
            .map(|k| {
                (
                    SealingSecretKey::from_bytes(&k.secret),
                    k.not_before,
                    k.not_after,
                )
            })
            .collect();
        let retired: BTreeSet<SealingKeyId> = state.retired.iter().copied().collect();
        if retired.len() != state.retired.len() {
            return Err(serde::de::Error::custom("retired: repeated key id"));
        }
        DeviceKeys::from_parts(
            state.address.clone(),
            IdentitySecretKey::from_seed(&state.identity_seed),
            sealing,
            retired,
        )
        .map_err(serde::de::Error::custom)
    }
}
