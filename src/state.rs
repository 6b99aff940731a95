//! Sealed state blobs (SPEC.md §12): how every state type is persisted.
//!
//! Apps save letterseal state to disk, to backups and to other devices, and
//! what comes back may be damaged or deliberately edited. So every state type
//! ([`DeviceKeys`](crate::device::DeviceKeys),
//! [`Session`](crate::pairwise::Session), [`Group`](crate::group::Group))
//! exports to an opaque, versioned, compact binary blob sealed with
//! AES-256-GCM under a 32-byte [`StorageKey`] the app keeps (for example in
//! the OS keystore). Import refuses a wrong key, the wrong kind of state, a
//! truncated or modified blob and an unknown version, each with its own
//! [`StateError`], and checks every invariant of the decoded state, naming the
//! field that breaks one.
//!
//! **Rollback detection.** Every export carries a *generation* one higher than
//! the last export of that state; import takes the lowest generation the app
//! accepts and refuses older blobs ([`StateError::RolledBack`]). The app keeps
//! the latest generation somewhere it trusts (OS keystore, a hardware counter,
//! its server). What an undetected rollback can and cannot cause is stated in
//! SECURITY.md.
//!
//! ```
//! use letterseal::device::DeviceKeys;
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::state::{StateError, StorageKey};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
//! let key = StorageKey::generate(&mut rng); // keep it in the OS keystore
//! let address = DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1));
//! let mut device = DeviceKeys::generate(&mut rng, address);
//!
//! let first = device.export(&mut rng, &key).unwrap();
//! let second = device.export(&mut rng, &key).unwrap();
//! assert_eq!((first.generation(), second.generation()), (1, 2));
//!
//! // The app remembers generation 2; the older blob is refused.
//! let restored = DeviceKeys::import(&key, second.as_bytes(), 2).unwrap();
//! assert_eq!(restored.address(), device.address());
//! assert!(matches!(
//!     DeviceKeys::import(&key, first.as_bytes(), 2),
//!     Err(StateError::RolledBack { generation: 1, minimum: 2 })
//! ));
//! ```

use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::aead::{self, TAG_LEN};
use crate::codec::{DecodeError, Reader, Writer};
use crate::kdf::HedgeKey;
use crate::labels;
use crate::message::keys::derive_message_keys;

/// Version of the blob container (SPEC.md §12.1).
pub const BLOB_VERSION: u8 = 1;
/// Length of the blob header.
pub const BLOB_HEADER_LEN: usize = 1 + 1 + 2 + 8 + 16 + 32;
/// Length of the header fields that enter the key derivation.
const BOUND_LEN: usize = 1 + 1 + 2 + 8;
/// Bytes a blob adds to its payload: header and tag.
pub const BLOB_OVERHEAD: usize = BLOB_HEADER_LEN + TAG_LEN;

/// The app's key for its saved state: 32 bytes, zeroized on drop.
///
/// The key cannot be read back out of this type: an app that keeps it across
/// runs makes the 32 bytes itself, stores them in the OS keystore, and loads
/// them with [`Self::from_bytes`]. [`Self::generate`] suits keys that live only
/// as long as the process (tests, short-lived exports).
///
/// ```
/// use letterseal::device::DeviceKeys;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::state::StorageKey;
/// use rand_core::Rng;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([19; 32]);
///
/// // First run: 32 random bytes, saved in the OS keystore (not shown).
/// let mut keystore_entry = [0u8; 32];
/// rng.fill_bytes(&mut keystore_entry);
///
/// let key = StorageKey::from_bytes(keystore_entry);
/// let mut device = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1)));
/// let saved = device.export(&mut rng, &key).unwrap();
///
/// // Next run: the same bytes from the keystore open the blob.
/// let key = StorageKey::from_bytes(keystore_entry);
/// let device = DeviceKeys::import(&key, saved.as_bytes(), saved.generation()).unwrap();
/// assert_eq!(device.generation(), 1);
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StorageKey([u8; 32]);

impl StorageKey {
    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        Self(key)
    }

    /// A key the app already holds (for example, unwrapped from the OS keystore).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StorageKey(<secret>)")
    }
}

/// Which state type a blob holds. Bound into the blob's key derivation and
/// associated data, so a blob of one kind never imports as another.
///
/// ```
/// use letterseal::state::StateKind;
///
/// assert_eq!(StateKind::Account.code(), 4); // the kind byte of an account blob
/// assert_eq!(StateKind::from_code(4), Some(StateKind::Account));
/// assert_eq!(StateKind::from_code(0), None);
/// ```
///
/// [`StateError::WrongKind`] reports a blob of another kind (see the example
/// on [`StateError`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum StateKind {
    /// [`DeviceKeys`](crate::device::DeviceKeys).
    DeviceKeys,
    /// [`Session`](crate::pairwise::Session).
    Session,
    /// [`Group`](crate::group::Group).
    Group,
    /// [`Account`](crate::account::Account).
    Account,
}

impl StateKind {
    /// The kind byte (SPEC.md §12.1).
    pub fn code(self) -> u8 {
        match self {
            Self::DeviceKeys => 1,
            Self::Session => 2,
            Self::Group => 3,
            Self::Account => 4,
        }
    }

    /// The kind of a kind byte, if it is one.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::DeviceKeys),
            2 => Some(Self::Session),
            3 => Some(Self::Group),
            4 => Some(Self::Account),
            _ => None,
        }
    }
}

/// Why a state could not be exported or imported. A failed import leaves
/// nothing behind: the caller's existing state is untouched.
///
/// ```
/// use letterseal::device::DeviceKeys;
/// use letterseal::group::Group;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::state::{StateError, StateKind, StorageKey};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([12; 32]);
///
/// let key = StorageKey::generate(&mut rng);
/// let mut device = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1)));
/// let blob = device.export(&mut rng, &key).unwrap().into_bytes();
///
/// // Another storage key (say, another user's keystore entry).
/// let other = StorageKey::from_bytes([7; 32]);
/// assert_eq!(DeviceKeys::import(&other, &blob, 0).err(), Some(StateError::WrongKey));
/// // One flipped bit in the sealed payload.
/// let mut edited = blob.clone();
/// *edited.last_mut().unwrap() ^= 1;
/// assert_eq!(DeviceKeys::import(&key, &edited, 0).err(), Some(StateError::Tampered));
/// // Cut short.
/// let err = DeviceKeys::import(&key, &blob[..20], 0).unwrap_err();
/// assert_eq!((err, err.name()), (StateError::Truncated, "Truncated"));
/// // A device blob offered as a group state.
/// assert_eq!(
///     Group::import(&key, &blob, 0).err(),
///     Some(StateError::WrongKind { expected: StateKind::Group, found: StateKind::DeviceKeys.code() })
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// Shorter than a header and a tag.
    Truncated,
    /// A blob container version this release does not know.
    UnsupportedFormat(u8),
    /// A blob of another kind of state (or an unknown kind byte).
    WrongKind {
        /// The kind the caller imports.
        expected: StateKind,
        /// The kind byte in the blob.
        found: u8,
    },
    /// A layout version of this kind that this release cannot load.
    UnsupportedStateVersion {
        /// The kind.
        kind: StateKind,
        /// The version in the blob.
        version: u16,
    },
    /// The blob was not sealed under this storage key (or its header was altered).
    WrongKey,
    /// The blob was modified after sealing.
    Tampered,
    /// The blob is older than the lowest generation the app accepts.
    RolledBack {
        /// The blob's generation.
        generation: u64,
        /// The lowest generation the caller accepts.
        minimum: u64,
    },
    /// The state has been exported `u64::MAX` times.
    GenerationExhausted,
    /// Export only: a list in the state has more entries than its `u32` count can express.
    /// Names the list.
    TooManyEntries {
        /// The list, as a dotted path.
        field: &'static str,
    },
    /// A field could not be decoded, or its value breaks an invariant of the
    /// state. Names the field. (Only reachable with the storage key: a blob
    /// sealed by a faulty or hostile writer.)
    Invalid {
        /// The field, as a dotted path.
        field: &'static str,
    },
}

impl StateError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Truncated => "Truncated",
            Self::UnsupportedFormat(_) => "UnsupportedFormat",
            Self::WrongKind { .. } => "WrongKind",
            Self::UnsupportedStateVersion { .. } => "UnsupportedStateVersion",
            Self::WrongKey => "WrongKey",
            Self::Tampered => "Tampered",
            Self::RolledBack { .. } => "RolledBack",
            Self::GenerationExhausted => "GenerationExhausted",
            Self::TooManyEntries { .. } => "TooManyEntries",
            Self::Invalid { .. } => "Invalid",
        }
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("state blob truncated"),
            Self::UnsupportedFormat(v) => write!(f, "unsupported state blob format {v}"),
            Self::WrongKind { expected, found } => {
                write!(f, "state blob holds kind {found}, expected {expected:?}")
            }
            Self::UnsupportedStateVersion { kind, version } => {
                write!(f, "unsupported {kind:?} state version {version}")
            }
            Self::WrongKey => f.write_str("state blob was not sealed under this storage key"),
            Self::Tampered => f.write_str("state blob was modified"),
            Self::RolledBack {
                generation,
                minimum,
            } => write!(
                f,
                "state blob generation {generation} is older than the accepted {minimum}"
            ),
            Self::GenerationExhausted => f.write_str("state generation exhausted"),
            Self::TooManyEntries { field } => {
                write!(f, "state list {field} has more than u32::MAX entries")
            }
            Self::Invalid { field } => write!(f, "invalid state field {field}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for StateError {}

/// An exported state: the blob to store and its generation.
///
/// Store the blob anywhere; store the generation where it cannot be rolled
/// back with the blob (OS keystore, a hardware counter, the app's server),
/// and pass it to `import` as the minimum.
///
/// ```
/// use letterseal::device::DeviceKeys;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::state::{SealedState, StorageKey};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([20; 32]);
/// let key = StorageKey::generate(&mut rng);
/// let mut device = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1)));
///
/// let saved: SealedState = device.export(&mut rng, &key).unwrap();
/// let trusted_generation = saved.generation(); // 1
/// let blob: Vec<u8> = saved.into_bytes(); // to disk or backup
/// let restored = DeviceKeys::import(&key, &blob, trusted_generation).unwrap();
/// assert_eq!(restored.generation(), trusted_generation);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SealedState {
    bytes: Vec<u8>,
    generation: u64,
}

impl SealedState {
    /// The blob to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The blob, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Its generation: keep the latest one somewhere you trust and pass it
    /// to `import` as the minimum.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl fmt::Debug for SealedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedState")
            .field("len", &self.bytes.len())
            .field("generation", &self.generation)
            .finish()
    }
}

/// A state type's binary layout (SPEC.md §12.2). Decoding is strict: every
/// field is required, every invariant is checked, and an error names the
/// field.
pub(crate) trait StateCodec: Sized {
    /// The kind byte's meaning.
    const KIND: StateKind;
    /// The layout version this release writes and reads.
    const VERSION: u16;
    /// Appends the payload; fails only if a list is longer than its `u32` count.
    fn encode_state(&self, w: &mut Writer) -> Result<(), StateError>;
    /// Reads the payload (the reader must be left empty) and checks invariants.
    fn decode_state(r: &mut Reader<'_>) -> Result<Self, StateError>;
    /// The generation of the state's last export or import (0: neither).
    fn generation_mut(&mut self) -> &mut u64;
}

/// Every state type's `export`: seals `state` as the generation after its
/// last one, and records that generation only once the blob is made.
pub(crate) fn export<T: StateCodec, R: CryptoRng + ?Sized>(
    state: &mut T,
    rng: &mut R,
    key: &StorageKey,
) -> Result<SealedState, StateError> {
    let generation = next_generation(*state.generation_mut())?;
    let sealed = seal(state, generation, rng, key)?;
    *state.generation_mut() = generation;
    Ok(sealed)
}

/// Every state type's `import`: [`open`], keeping the blob's generation.
pub(crate) fn import<T: StateCodec>(
    key: &StorageKey,
    blob: &[u8],
    minimum: u64,
) -> Result<T, StateError> {
    let (mut state, generation) = open::<T>(key, blob, minimum)?;
    *state.generation_mut() = generation;
    Ok(state)
}

/// Maps a decode error of one field to [`StateError::Invalid`] naming it.
pub(crate) fn field<T>(
    name: &'static str,
    result: Result<T, DecodeError>,
) -> Result<T, StateError> {
    result.map_err(|_| StateError::Invalid { field: name })
}

/// Fails with [`StateError::Invalid`] naming `name` unless `ok`.
pub(crate) fn check(name: &'static str, ok: bool) -> Result<(), StateError> {
    if ok {
        Ok(())
    } else {
        Err(StateError::Invalid { field: name })
    }
}

/// Reads `n` items, each at least `min_len` bytes, refusing counts the
/// remaining input cannot hold before allocating.
pub(crate) fn read_list<'a, T>(
    r: &mut Reader<'a>,
    name: &'static str,
    min_len: usize,
    mut item: impl FnMut(&mut Reader<'a>) -> Result<T, StateError>,
) -> Result<Vec<T>, StateError> {
    let n = field(name, r.u32())?;
    let n = usize::try_from(n).map_err(|_| StateError::Invalid { field: name })?;
    check(name, n.saturating_mul(min_len) <= r.remaining())?;
    (0..n).map(|_| item(r)).collect()
}

/// Writes the `u32` length of the list `name` (the name [`read_list`] reads it under).
pub(crate) fn write_len(w: &mut Writer, name: &'static str, len: usize) -> Result<(), StateError> {
    let len = u32::try_from(len).map_err(|_| StateError::TooManyEntries { field: name })?;
    w.u32(len);
    Ok(())
}

/// The generation of the next export after `last` (0: never exported).
pub(crate) fn next_generation(last: u64) -> Result<u64, StateError> {
    last.checked_add(1).ok_or(StateError::GenerationExhausted)
}

fn bound_fields(kind: StateKind, version: u16, generation: u64) -> [u8; BOUND_LEN] {
    let mut w = Writer::with_capacity(BOUND_LEN);
    w.u8(BLOB_VERSION);
    w.u8(kind.code());
    w.u16(version);
    w.u64(generation);
    let mut out = [0u8; BOUND_LEN];
    out.copy_from_slice(w.as_bytes());
    out
}

/// Seals `state` as generation `generation` (SPEC.md §12.1).
pub(crate) fn seal<T: StateCodec, R: CryptoRng + ?Sized>(
    state: &T,
    generation: u64,
    rng: &mut R,
    key: &StorageKey,
) -> Result<SealedState, StateError> {
    let mut payload = Writer::new();
    let encoded = state.encode_state(&mut payload);
    let payload = Zeroizing::new(payload.into_bytes());
    encoded?;
    Ok(seal_payload(
        T::KIND,
        T::VERSION,
        generation,
        &payload,
        rng,
        key,
    ))
}

/// Seals arbitrary payload bytes as a blob of `kind` (SPEC.md §12.1), for
/// tests, fuzzing and migration tools: import still checks every field.
#[cfg(feature = "hazmat")]
pub fn seal_raw<R: CryptoRng + ?Sized>(
    kind: StateKind,
    layout_version: u16,
    generation: u64,
    payload: &[u8],
    rng: &mut R,
    key: &StorageKey,
) -> SealedState {
    seal_payload(kind, layout_version, generation, payload, rng, key)
}

/// Opens a blob of `kind` under `key` and returns its payload without
/// decoding it (SPEC.md §12.1 checks 1–7), for tests and migration tools.
#[cfg(feature = "hazmat")]
pub fn open_raw(
    kind: StateKind,
    layout_version: u16,
    key: &StorageKey,
    blob: &[u8],
    minimum: u64,
) -> Result<(Zeroizing<Vec<u8>>, u64), StateError> {
    open_payload(kind, layout_version, key, blob, minimum)
}

fn seal_payload<R: CryptoRng + ?Sized>(
    kind: StateKind,
    layout_version: u16,
    generation: u64,
    payload: &[u8],
    rng: &mut R,
    key: &StorageKey,
) -> SealedState {
    let bound = bound_fields(kind, layout_version, generation);
    let salt = HedgeKey::derive(&key.0).salt(rng, &bound, b"", payload);
    let keys = derive_message_keys(labels::kdf::STATE_BLOB, &key.0, &salt, &bound);

    let mut bytes = Vec::with_capacity(BLOB_OVERHEAD + payload.len());
    bytes.extend_from_slice(&bound);
    bytes.extend_from_slice(&salt);
    bytes.extend_from_slice(&keys.commitment);
    bytes.extend_from_slice(payload);
    let (header, body) = bytes.split_at_mut(BLOB_HEADER_LEN);
    let tag = aead::seal_in_place_detached(&keys.aead_key, &keys.nonce, header, body);
    bytes.extend_from_slice(&tag);
    SealedState { bytes, generation }
}

/// Opens a blob of kind `T` sealed under `key`, refusing generations below
/// `minimum`. Returns the state and its generation. Checks in the order of
/// SPEC.md §12.1.
pub(crate) fn open<T: StateCodec>(
    key: &StorageKey,
    blob: &[u8],
    minimum: u64,
) -> Result<(T, u64), StateError> {
    let (payload, generation) = open_payload(T::KIND, T::VERSION, key, blob, minimum)?;
    let mut r = Reader::new(&payload);
    let state = T::decode_state(&mut r)?;
    r.finish().map_err(|_| StateError::Invalid {
        field: "(trailing bytes)",
    })?;
    Ok((state, generation))
}

/// SPEC.md §12.1 checks 1–7: the container, the key, the tag, the generation.
fn open_payload(
    kind: StateKind,
    layout_version: u16,
    key: &StorageKey,
    blob: &[u8],
    minimum: u64,
) -> Result<(Zeroizing<Vec<u8>>, u64), StateError> {
    if blob.len() < BLOB_OVERHEAD {
        return Err(StateError::Truncated);
    }
    let mut r = Reader::new(blob);
    // The length was checked above: these reads cannot fail.
    let read = |_: DecodeError| StateError::Truncated;
    let version = r.u8().map_err(read)?;
    if version != BLOB_VERSION {
        return Err(StateError::UnsupportedFormat(version));
    }
    let found = r.u8().map_err(read)?;
    if found != kind.code() {
        return Err(StateError::WrongKind {
            expected: kind,
            found,
        });
    }
    let state_version = r.u16().map_err(read)?;
    if state_version != layout_version {
        return Err(StateError::UnsupportedStateVersion {
            kind,
            version: state_version,
        });
    }
    let generation = r.u64().map_err(read)?;
    let salt: [u8; 16] = r.array().map_err(read)?;
    let commitment: [u8; 32] = r.array().map_err(read)?;
    let body = r.rest();
    let (ciphertext, tag) = body
        .split_last_chunk::<TAG_LEN>()
        .ok_or(StateError::Truncated)?;

    let bound = bound_fields(kind, layout_version, generation);
    let keys = derive_message_keys(labels::kdf::STATE_BLOB, &key.0, &salt, &bound);
    if !keys.commitment_matches(&commitment) {
        return Err(StateError::WrongKey);
    }
    let header = blob.get(..BLOB_HEADER_LEN).ok_or(StateError::Truncated)?;
    let mut payload = Zeroizing::new(ciphertext.to_vec());
    aead::open_in_place_detached(&keys.aead_key, &keys.nonce, header, &mut payload, tag)
        .map_err(|_| StateError::Tampered)?;
    if generation < minimum {
        return Err(StateError::RolledBack {
            generation,
            minimum,
        });
    }
    Ok((payload, generation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_length_that_does_not_fit_u32_is_an_error_and_writes_nothing() {
        let mut w = Writer::new();
        write_len(&mut w, "epochs", 3).unwrap();
        assert_eq!(w.as_bytes(), &[0, 0, 0, 3]);
        let max = usize::try_from(u32::MAX).unwrap();
        write_len(&mut w, "epochs", max).unwrap();
        assert_eq!(w.as_bytes().len(), 8);
        if let Some(over) = max.checked_add(1) {
            assert_eq!(
                write_len(&mut w, "state.skipped", over),
                Err(StateError::TooManyEntries {
                    field: "state.skipped"
                })
            );
            assert_eq!(w.as_bytes().len(), 8);
        }
    }
}
