//! A device's own keys (SPEC.md §4.5): one identity key, any number of live
//! sealing keys (each with its ML-KEM-768 key pair, published together in one
//! bundle), so a device can rotate keys while older ones still open mail, and
//! one-time prekeys (SPEC.md §5.5), each usable once.
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
use crate::keys::{
    IdentitySecretKey, KEM_SEED_LEN, KemDecapsulationKey, SealingKeyId, SealingPublicKey,
    SealingSecretKey,
};
use crate::registration::{BundleContent, KeyBundle, OneTimeKeyBundle, OneTimeKeyContent};
use crate::state::{
    self, SealedState, StateCodec, StateError, StateKind, StorageKey, check, field, read_list,
    write_len,
};
use crate::time::Timestamp;

/// Version of the JSON device state (feature `json-state`; SPEC.md §12.3).
/// Version 1 (release 0.1, no ML-KEM keys) is refused.
pub const DEVICE_STATE_VERSION: u32 = 2;
/// Layout version of the device state in a sealed blob (SPEC.md §12.2).
/// Layout 2 (no ML-KEM keys, no one-time keys) is refused with
/// [`StateError::UnsupportedStateVersion`].
pub const DEVICE_BLOB_VERSION: u16 = 3;

struct LiveSealingKey {
    secret: SealingSecretKey,
    public: SealingPublicKey,
    kem: KemDecapsulationKey,
    not_before: Timestamp,
    not_after: Timestamp,
}

struct OneTimeKey {
    secret: SealingSecretKey,
    public: SealingPublicKey,
    not_before: Timestamp,
    not_after: Timestamp,
}

/// A device's identity key, its live sealing keys (each with its ML-KEM key
/// pair) by key id, the ids of keys it has retired, its unused one-time keys,
/// and the ids of one-time keys it has used (until they expire).
///
/// Persist it with [`Self::export`] (a sealed, versioned blob with a
/// generation number) and [`Self::import`]; see [`crate::state`].
///
/// A device's key life cycle: register a sealing key, top up one-time keys,
/// rotate the sealing key before it expires, retire the old one once peers
/// have moved on, and expire old one-time keys.
///
/// ```
/// use letterseal::device::DeviceKeys;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([15; 32]);
///
/// const DAY: u64 = 86_400;
/// let day0 = Timestamp::from_unix_seconds(1_800_000_000);
/// let me = DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1));
/// let mut device = DeviceKeys::generate(&mut rng, me);
///
/// // Register: one sealing key (with its ML-KEM key) for 30 days, 20 one-time keys for 7.
/// let first = device.add_sealing_key(&mut rng, day0, 30 * DAY).content().sealing_key_id;
/// let uploads = device.add_one_time_keys(&mut rng, 20, day0, 7 * DAY);
/// assert_eq!((uploads.len(), device.one_time_key_ids().count()), (20, 20));
/// assert_eq!(device.current_sealing_key_id(), Some(first));
///
/// // Day 25: rotate. The new key becomes current; the old one still opens late messages.
/// let day25 = day0.saturating_add(25 * DAY);
/// let second = device.add_sealing_key(&mut rng, day25, 30 * DAY).content().sealing_key_id;
/// assert_eq!(device.current_sealing_key_id(), Some(second));
/// assert_eq!(device.live_key_ids().count(), 2);
///
/// // Day 31: the old key has expired; retire it (its secrets are zeroized) and drop old
/// // one-time keys.
/// let day31 = day0.saturating_add(31 * DAY);
/// assert!(device.retire(first));
/// assert!(device.is_retired(&first) && device.sealing_key(&first).is_none());
/// assert_eq!(device.expire(day31), 20);
/// assert_eq!(device.one_time_key_ids().count(), 0);
/// ```
pub struct DeviceKeys {
    address: DeviceAddress,
    identity: IdentitySecretKey,
    sealing: BTreeMap<SealingKeyId, LiveSealingKey>,
    retired: BTreeSet<SealingKeyId>,
    one_time: BTreeMap<SealingKeyId, OneTimeKey>,
    /// Used one-time key ids and the `not_after` of each.
    consumed: BTreeMap<SealingKeyId, Timestamp>,
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
            one_time: BTreeMap::new(),
            consumed: BTreeMap::new(),
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

    /// Generates a sealing key and an ML-KEM-768 key pair valid from
    /// `not_before` for `lifetime_seconds`, keeps them live, and returns the
    /// signed bundle to register (SPEC.md §5.2). Draws 32 bytes (the sealing
    /// secret), then 64 (the KEM seed) from `rng`.
    pub fn add_sealing_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        not_before: Timestamp,
        lifetime_seconds: u64,
    ) -> KeyBundle {
        let secret = SealingSecretKey::generate(rng);
        let kem = KemDecapsulationKey::generate(rng);
        self.insert_sealing_key(
            secret,
            kem,
            not_before,
            not_before.saturating_add(lifetime_seconds),
        )
    }

    /// Keeps an existing sealing key and its ML-KEM key pair live and returns
    /// their signed bundle. Re-inserting a retired key makes it live again; a
    /// key whose id is one of this device's one-time keys, unused or used (only
    /// possible with a repeating RNG or a reused secret), stops being one.
    pub fn insert_sealing_key(
        &mut self,
        secret: SealingSecretKey,
        kem: KemDecapsulationKey,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> KeyBundle {
        let public = secret.public_key();
        let key = LiveSealingKey {
            secret,
            public,
            kem,
            not_before,
            not_after,
        };
        let bundle = self.sign_bundle(&key);
        let key_id = public.key_id();
        self.retired.remove(&key_id);
        self.one_time.remove(&key_id);
        self.consumed.remove(&key_id);
        self.sealing.insert(key_id, key);
        bundle
    }

    fn sign_bundle(&self, key: &LiveSealingKey) -> KeyBundle {
        BundleContent::new(
            self.address.clone(),
            self.identity.public_key(),
            key.public,
            key.kem.encapsulation_key_ref(),
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

    /// The ML-KEM-768 decapsulation key published in the bundle of the live
    /// sealing key with this id.
    pub fn kem_key(&self, key_id: &SealingKeyId) -> Option<&KemDecapsulationKey> {
        self.sealing.get(key_id).map(|k| &k.kem)
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

    /// Deletes (and zeroizes) a sealing private key and its ML-KEM key pair
    /// and remembers its id as retired. Returns whether it was live. Messages
    /// sealed to it can no longer be opened by anyone holding this state.
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

    /// Whether this device holds or remembers a key with this id (live,
    /// retired, one-time or consumed).
    fn knows(&self, key_id: &SealingKeyId) -> bool {
        self.sealing.contains_key(key_id)
            || self.retired.contains(key_id)
            || self.one_time.contains_key(key_id)
            || self.consumed.contains_key(key_id)
    }

    /// Generates `count` one-time X25519 keys valid from `not_before` for
    /// `lifetime_seconds` and returns their signed uploads (SPEC.md §5.5),
    /// drawing 32 bytes per key from `rng`. A generated key whose id this
    /// device already knows (only possible with a repeating RNG) is dropped,
    /// never reused: a used one-time key never comes back.
    pub fn add_one_time_keys<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        count: usize,
        not_before: Timestamp,
        lifetime_seconds: u64,
    ) -> Vec<OneTimeKeyBundle> {
        let not_after = not_before.saturating_add(lifetime_seconds);
        (0..count)
            .filter_map(|_| {
                self.insert_one_time_key(SealingSecretKey::generate(rng), not_before, not_after)
            })
            .collect()
    }

    /// Keeps an existing one-time key and returns its signed upload, or
    /// `None` (keeping nothing) if this device already knows its id.
    pub fn insert_one_time_key(
        &mut self,
        secret: SealingSecretKey,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Option<OneTimeKeyBundle> {
        let public = secret.public_key();
        let key_id = public.key_id();
        if self.knows(&key_id) {
            return None;
        }
        let key = OneTimeKey {
            secret,
            public,
            not_before,
            not_after,
        };
        let bundle = self.sign_one_time_key(&key);
        self.one_time.insert(key_id, key);
        Some(bundle)
    }

    fn sign_one_time_key(&self, key: &OneTimeKey) -> OneTimeKeyBundle {
        OneTimeKeyContent::new(
            self.address.clone(),
            self.identity.public_key(),
            key.public,
            key.not_before,
            key.not_after,
        )
        .sign(&self.identity)
    }

    /// The signed upload of an unused one-time key.
    pub fn one_time_key_bundle(&self, key_id: &SealingKeyId) -> Option<OneTimeKeyBundle> {
        self.one_time
            .get(key_id)
            .map(|key| self.sign_one_time_key(key))
    }

    /// The unused one-time key with this id.
    pub fn one_time_key(&self, key_id: &SealingKeyId) -> Option<&SealingSecretKey> {
        self.one_time.get(key_id).map(|k| &k.secret)
    }

    /// The validity window `(not_before, not_after)` of an unused one-time key.
    pub fn one_time_key_validity(&self, key_id: &SealingKeyId) -> Option<(Timestamp, Timestamp)> {
        self.one_time
            .get(key_id)
            .map(|k| (k.not_before, k.not_after))
    }

    /// Ids of the unused one-time keys, in ascending order.
    pub fn one_time_key_ids(&self) -> impl Iterator<Item = &SealingKeyId> {
        self.one_time.keys()
    }

    /// Deletes (and zeroizes) an unused one-time key after its first use and
    /// remembers its id as consumed until its `not_after`, so a second use is
    /// detectable ([`Self::is_consumed_one_time_key`]). Returns whether the
    /// key was unused.
    pub fn consume_one_time_key(&mut self, key_id: SealingKeyId) -> bool {
        match self.one_time.remove(&key_id) {
            Some(key) => {
                self.consumed.insert(key_id, key.not_after);
                true
            }
            None => false,
        }
    }

    /// Whether a one-time key with this id was used and has not expired yet.
    pub fn is_consumed_one_time_key(&self, key_id: &SealingKeyId) -> bool {
        self.consumed.contains_key(key_id)
    }

    /// Housekeeping: deletes the unused one-time keys and the consumed ids
    /// whose `not_after` is at or before `now`, and returns how many entries
    /// it deleted. An application that accepts first messages late passes
    /// `now` minus the delay it allows. Sealing keys are never expired here:
    /// [`Self::retire`] them.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        let before = self.one_time.len() + self.consumed.len();
        self.one_time.retain(|_, key| key.not_after > now);
        self.consumed.retain(|_, not_after| *not_after > now);
        before - (self.one_time.len() + self.consumed.len())
    }

    /// Seals the device's keys into a blob under `key` (SPEC.md §12), with a
    /// generation one higher than the last export.
    pub fn export<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &StorageKey,
    ) -> Result<SealedState, StateError> {
        state::export(self, rng, key)
    }

    /// Opens a blob made by [`Self::export`], refusing a generation below
    /// `minimum_generation` (rollback) and any damaged, foreign or
    /// inconsistent blob, each with its own [`StateError`].
    pub fn import(
        key: &StorageKey,
        blob: &[u8],
        minimum_generation: u64,
    ) -> Result<Self, StateError> {
        state::import(key, blob, minimum_generation)
    }

    /// The generation of the last export (or of the imported blob); 0 if none.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Rebuilds a device from its parts, checking the invariants of SPEC.md
    /// §12.2: validity windows not empty, keys valid, no id twice, and live,
    /// retired, one-time and consumed ids pairwise disjoint. (Every state the
    /// API can build satisfies them, so every export imports.)
    fn from_parts(
        address: DeviceAddress,
        identity: IdentitySecretKey,
        parts: Parts,
    ) -> Result<Self, StateError> {
        let mut device = Self::from_identity(address, identity);
        for (secret, kem, not_before, not_after) in parts.sealing {
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
                    kem,
                    not_before,
                    not_after,
                },
            );
        }
        check(
            "retired.live",
            parts
                .retired
                .iter()
                .all(|id| !device.sealing.contains_key(id)),
        )?;
        device.retired = parts.retired;
        for (secret, not_before, not_after) in parts.one_time {
            check("one_time.not_after", not_after > not_before)?;
            let public = secret.public_key();
            check("one_time.secret", public.validate().is_ok())?;
            let key_id = public.key_id();
            check("one_time.repeated", !device.knows(&key_id))?;
            device.one_time.insert(
                key_id,
                OneTimeKey {
                    secret,
                    public,
                    not_before,
                    not_after,
                },
            );
        }
        for (key_id, not_after) in parts.consumed {
            check("consumed.known", !device.knows(&key_id))?;
            device.consumed.insert(key_id, not_after);
        }
        Ok(device)
    }
}

/// A device's keys as decoded from a state, before the invariants are checked.
struct Parts {
    sealing: Vec<(SealingSecretKey, KemDecapsulationKey, Timestamp, Timestamp)>,
    retired: BTreeSet<SealingKeyId>,
    one_time: Vec<(SealingSecretKey, Timestamp, Timestamp)>,
    consumed: Vec<(SealingKeyId, Timestamp)>,
}

/// Reads strictly ascending 16-byte ids, naming `order` when they are not.
fn ascending(
    last: &mut Option<SealingKeyId>,
    id: SealingKeyId,
    order: &'static str,
) -> Result<(), StateError> {
    check(order, last.is_none_or(|l| l < id))?;
    *last = Some(id);
    Ok(())
}

impl StateCodec for DeviceKeys {
    const KIND: StateKind = StateKind::DeviceKeys;
    const VERSION: u16 = DEVICE_BLOB_VERSION;

    fn generation_mut(&mut self) -> &mut u64 {
        &mut self.generation
    }

    /// Layout 3 (SPEC.md §12.2): `address ‖ identity seed ‖ u32(n) ‖ n ×
    /// (secret ‖ kem seed ‖ u64(not_before) ‖ u64(not_after)) ‖ u32(m) ‖ m ×
    /// retired key id ‖ u32(k) ‖ k × (one-time secret ‖ u64(not_before) ‖
    /// u64(not_after)) ‖ u32(c) ‖ c × (consumed key id ‖ u64(not_after))`,
    /// every list in ascending key id order.
    fn encode_state(&self, w: &mut Writer) -> Result<(), StateError> {
        self.address.encode(w);
        w.raw(self.identity.to_seed().as_ref());
        write_len(w, "sealing", self.sealing.len())?;
        for key in self.sealing.values() {
            w.raw(key.secret.to_bytes().as_ref());
            w.raw(key.kem.to_seed().as_ref());
            w.u64(key.not_before.unix_seconds());
            w.u64(key.not_after.unix_seconds());
        }
        write_len(w, "retired", self.retired.len())?;
        for id in &self.retired {
            w.raw(id.as_bytes());
        }
        write_len(w, "one_time", self.one_time.len())?;
        for key in self.one_time.values() {
            w.raw(key.secret.to_bytes().as_ref());
            w.u64(key.not_before.unix_seconds());
            w.u64(key.not_after.unix_seconds());
        }
        write_len(w, "consumed", self.consumed.len())?;
        for (id, not_after) in &self.consumed {
            w.raw(id.as_bytes());
            w.u64(not_after.unix_seconds());
        }
        Ok(())
    }

    fn decode_state(r: &mut Reader<'_>) -> Result<Self, StateError> {
        let address = field("address", DeviceAddress::decode(r))?;
        let seed = zeroize::Zeroizing::new(field("identity_seed", r.array::<32>())?);
        let identity = IdentitySecretKey::from_seed(&seed);
        let mut last = None;
        let sealing = read_list(r, "sealing", 32 + KEM_SEED_LEN + 16, |r| {
            let bytes = zeroize::Zeroizing::new(field("sealing.secret", r.array::<32>())?);
            let secret = SealingSecretKey::from_bytes(&bytes);
            ascending(&mut last, secret.public_key().key_id(), "sealing.order")?;
            let kem_seed =
                zeroize::Zeroizing::new(field("sealing.kem_seed", r.array::<KEM_SEED_LEN>())?);
            let kem = KemDecapsulationKey::from_seed(&kem_seed);
            let not_before = Timestamp::from_unix_seconds(field("sealing.not_before", r.u64())?);
            let not_after = Timestamp::from_unix_seconds(field("sealing.not_after", r.u64())?);
            Ok((secret, kem, not_before, not_after))
        })?;
        let mut last = None;
        let retired = read_list(r, "retired", 16, |r| {
            let id = SealingKeyId::from_bytes(field("retired", r.array())?);
            ascending(&mut last, id, "retired.order")?;
            Ok(id)
        })?;
        let mut last = None;
        let one_time = read_list(r, "one_time", 48, |r| {
            let bytes = zeroize::Zeroizing::new(field("one_time.secret", r.array::<32>())?);
            let secret = SealingSecretKey::from_bytes(&bytes);
            ascending(&mut last, secret.public_key().key_id(), "one_time.order")?;
            let not_before = Timestamp::from_unix_seconds(field("one_time.not_before", r.u64())?);
            let not_after = Timestamp::from_unix_seconds(field("one_time.not_after", r.u64())?);
            Ok((secret, not_before, not_after))
        })?;
        let mut last = None;
        let consumed = read_list(r, "consumed", 24, |r| {
            let id = SealingKeyId::from_bytes(field("consumed", r.array())?);
            ascending(&mut last, id, "consumed.order")?;
            let not_after = Timestamp::from_unix_seconds(field("consumed.not_after", r.u64())?);
            Ok((id, not_after))
        })?;
        Self::from_parts(
            address,
            identity,
            Parts {
                sealing,
                retired: retired.into_iter().collect(),
                one_time,
                consumed,
            },
        )
    }
}

impl fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("address", &self.address)
            .field("identity", &self.identity.public_key())
            .field("sealing_key_ids", &self.sealing.keys().collect::<Vec<_>>())
            .field("retired", &self.retired.len())
            .field("one_time", &self.one_time.len())
            .field("consumed", &self.consumed.len())
            .finish()
    }
}

/// The JSON form of [`DeviceKeys`] (feature `json-state`); zeroized on drop.
#[cfg(feature = "json-state")]
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct DeviceState {
    #[serde(deserialize_with = "device_state_version")]
    version: u32,
    #[zeroize(skip)]
    address: DeviceAddress,
    #[serde(with = "crate::serde_hex")]
    identity_seed: [u8; 32],
    sealing: Vec<SealingKeyState>,
    #[zeroize(skip)]
    retired: Vec<SealingKeyId>,
    one_time: Vec<OneTimeKeyState>,
    #[zeroize(skip)]
    consumed: Vec<ConsumedState>,
}

/// Reads the `version` field and refuses every version but
/// [`DEVICE_STATE_VERSION`] at once, before the other fields are looked at,
/// so that a release-0.1 state gets an error that says what to do.
#[cfg(feature = "json-state")]
fn device_state_version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(deserializer)?;
    match version {
        DEVICE_STATE_VERSION => Ok(version),
        1 => Err(serde::de::Error::custom(
            "device state version 1 (release 0.1) has no ML-KEM keys: rebuild the device \
             from its identity seed and sealing secrets with fresh KEM keys \
             (DeviceKeys::from_identity, insert_sealing_key) and re-register its bundles",
        )),
        other => Err(serde::de::Error::custom(alloc::format!(
            "unsupported device state version {other}"
        ))),
    }
}

#[cfg(feature = "json-state")]
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct SealingKeyState {
    #[serde(with = "crate::serde_hex")]
    secret: [u8; 32],
    #[serde(with = "crate::serde_hex")]
    kem_seed: [u8; KEM_SEED_LEN],
    #[zeroize(skip)]
    not_before: Timestamp,
    #[zeroize(skip)]
    not_after: Timestamp,
}

#[cfg(feature = "json-state")]
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct OneTimeKeyState {
    #[serde(with = "crate::serde_hex")]
    secret: [u8; 32],
    #[zeroize(skip)]
    not_before: Timestamp,
    #[zeroize(skip)]
    not_after: Timestamp,
}

#[cfg(feature = "json-state")]
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsumedState {
    key_id: SealingKeyId,
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
                    kem_seed: *k.kem.to_seed(),
                    not_before: k.not_before,
                    not_after: k.not_after,
                })
                .collect(),
            retired: self.retired.iter().copied().collect(),
            one_time: self
                .one_time
                .values()
                .map(|k| OneTimeKeyState {
                    secret: *k.secret.to_bytes(),
                    not_before: k.not_before,
                    not_after: k.not_after,
                })
                .collect(),
            consumed: self
                .consumed
                .iter()
                .map(|(key_id, not_after)| ConsumedState {
                    key_id: *key_id,
                    not_after: *not_after,
                })
                .collect(),
        }
        .serialize(serializer)
    }
}

#[cfg(feature = "json-state")]
impl<'de> Deserialize<'de> for DeviceKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let state = DeviceState::deserialize(deserializer)?;
        let sealing = state
            .sealing
            .iter()
            .map(|k| {
                (
                    SealingSecretKey::from_bytes(&k.secret),
                    KemDecapsulationKey::from_seed(&k.kem_seed),
                    k.not_before,
                    k.not_after,
                )
            })
            .collect();
        let retired: BTreeSet<SealingKeyId> = state.retired.iter().copied().collect();
        if retired.len() != state.retired.len() {
            return Err(serde::de::Error::custom("retired: repeated key id"));
        }
        let one_time = state
            .one_time
            .iter()
            .map(|k| {
                (
                    SealingSecretKey::from_bytes(&k.secret),
                    k.not_before,
                    k.not_after,
                )
            })
            .collect();
        let consumed: BTreeMap<SealingKeyId, Timestamp> = state
            .consumed
            .iter()
            .map(|c| (c.key_id, c.not_after))
            .collect();
        if consumed.len() != state.consumed.len() {
            return Err(serde::de::Error::custom("consumed: repeated key id"));
        }
        DeviceKeys::from_parts(
            state.address.clone(),
            IdentitySecretKey::from_seed(&state.identity_seed),
            Parts {
                sealing,
                retired,
                one_time,
                consumed: consumed.into_iter().collect(),
            },
        )
        .map_err(serde::de::Error::custom)
    }
}
