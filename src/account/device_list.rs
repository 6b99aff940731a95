//! A user's signed device list (SPEC.md §13.2–13.4): which devices speak for
//! the user, signed by the user key, versioned so a removal cannot be rolled
//! back.

use alloc::vec::Vec;
use core::fmt;

use super::user::{UserPublicKey, UserSecretKey};
use crate::codec::{DecodeError, Reader, Writer};
use crate::ids::{DeviceAddress, DeviceId, UserId};
use crate::keys::{IdentityPublicKey, SIGNATURE_LEN, Signature};

/// The device list layout version (SPEC.md §13.2).
pub const DEVICE_LIST_VERSION: u8 = 1;

/// The most devices one user may list (SPEC.md §13.2).
pub const MAX_DEVICES: usize = 32;

/// Why a device list was refused. Each check of SPEC.md §13.3 has its own variant.
///
/// ```
/// use letterseal::account::{DeviceList, DeviceListError};
///
/// let err = DeviceList::decode(b"not a device list").unwrap_err();
/// assert!(matches!(err, DeviceListError::Malformed(_)));
/// assert_eq!(err.name(), "Malformed"); // stable, for logs
/// ```
///
/// [`DeviceList::verify`] shows [`Stale`](Self::Stale), the refusal of a replayed old list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceListError {
    /// The bytes are not a well-formed device list (§13.2).
    Malformed(DecodeError),
    /// No devices, or more than [`MAX_DEVICES`].
    DeviceCount,
    /// Device ids not in strictly ascending order (or repeated).
    UnsortedDevices,
    /// A listed identity key is not a valid Ed25519 key.
    InvalidDeviceKey,
    /// Two devices list the same identity key.
    DuplicateDeviceKey,
    /// The user key is not a valid Ed25519 key.
    InvalidUserKey,
    /// Version 0 (the first list is version 1).
    ZeroVersion,
    /// The signature does not verify under the list's user key.
    BadSignature,
    /// The list is for another user than the one expected.
    WrongUser,
    /// The list is signed by another user key than the one held for the
    /// user: a new user key (its safety number changed). Refused until the
    /// application accepts the new key (SPEC.md §13.4).
    UserKeyChanged,
    /// The list's version is not above the one held: an old list replayed
    /// (for example to undo a removal), or a second list for a version.
    Stale {
        /// The version held.
        held: u64,
        /// The version received.
        received: u64,
    },
    /// Exactly the list already held.
    Duplicate,
}

impl DeviceListError {
    /// A stable name for logs and bindings.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "Malformed",
            Self::DeviceCount => "DeviceCount",
            Self::UnsortedDevices => "UnsortedDevices",
            Self::InvalidDeviceKey => "InvalidDeviceKey",
            Self::DuplicateDeviceKey => "DuplicateDeviceKey",
            Self::InvalidUserKey => "InvalidUserKey",
            Self::ZeroVersion => "ZeroVersion",
            Self::BadSignature => "BadSignature",
            Self::WrongUser => "WrongUser",
            Self::UserKeyChanged => "UserKeyChanged",
            Self::Stale { .. } => "Stale",
            Self::Duplicate => "Duplicate",
        }
    }
}

impl fmt::Display for DeviceListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed device list: {e}"),
            Self::DeviceCount => write!(f, "a device list holds 1 to {MAX_DEVICES} devices"),
            Self::UnsortedDevices => f.write_str("device ids not strictly ascending"),
            Self::InvalidDeviceKey => f.write_str("invalid device identity key"),
            Self::DuplicateDeviceKey => f.write_str("two devices share an identity key"),
            Self::InvalidUserKey => f.write_str("invalid user key"),
            Self::ZeroVersion => f.write_str("device list version 0"),
            Self::BadSignature => f.write_str("device list signature does not verify"),
            Self::WrongUser => f.write_str("device list of another user"),
            Self::UserKeyChanged => f.write_str("device list signed by a new user key"),
            Self::Stale { held, received } => {
                write!(f, "device list version {received} is not above {held}")
            }
            Self::Duplicate => f.write_str("device list already held"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DeviceListError {}

impl From<DecodeError> for DeviceListError {
    fn from(e: DecodeError) -> Self {
        Self::Malformed(e)
    }
}

/// One listed device. See the example on [`DeviceList`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListedDevice {
    /// Its id.
    pub device: DeviceId,
    /// Its Ed25519 identity key (the one its key bundles are signed with).
    pub identity_key: IdentityPublicKey,
}

/// A device list as received: decoded and well-formed, signature not yet
/// checked. [`Self::verify`] turns it into a [`VerifiedDeviceList`].
///
/// Clients do not handle lists themselves: an [`Account`](super::Account)
/// signs, sends, receives and checks them. A server with its own storage
/// checks each upload as below, holding the latest verified list of each user.
///
/// ```
/// use letterseal::account::{DeviceList, ListedDevice, UserSecretKey, VerifiedDeviceList};
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::keys::IdentitySecretKey;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
/// let user_key = UserSecretKey::generate(&mut rng); // on alice's primary
/// let alice = UserId::new("alice")?;
/// let phone = ListedDevice {
///     device: DeviceId::new(1),
///     identity_key: IdentitySecretKey::generate(&mut rng).public_key(),
/// };
/// let wire = DeviceList::sign(&user_key, alice.clone(), 1, vec![phone])?.encode();
///
/// // The server (or a peer): decode, then verify; nothing is held yet for alice.
/// let received = DeviceList::decode(&wire)?;
/// assert_eq!((received.user(), received.version()), (&alice, 1));
/// assert_eq!(received.user_key(), &user_key.public_key());
/// assert_eq!(received.devices(), [phone]);
/// let held: VerifiedDeviceList = received.verify(&alice, None)?;
/// assert_eq!(held.identity_key(DeviceId::new(1)), Some(&phone.identity_key));
/// assert!(held.lists(&DeviceAddress::new(alice.clone(), DeviceId::new(1))));
/// assert_eq!(held.addresses().count(), 1);
///
/// // The primary adds a laptop in version 2, which replaces version 1.
/// let laptop = ListedDevice {
///     device: DeviceId::new(2),
///     identity_key: IdentitySecretKey::generate(&mut rng).public_key(),
/// };
/// let v2 = held.next(&user_key, vec![phone, laptop])?;
/// let held = DeviceList::decode(v2.as_bytes())?.verify(&alice, Some(&held))?;
/// assert_eq!(held.list().version(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceList {
    user: UserId,
    user_key: UserPublicKey,
    version: u64,
    devices: Vec<ListedDevice>,
    signature: Signature,
    /// The exact bytes, kept for the server's fan-out and duplicate checks.
    encoded: Vec<u8>,
}

/// `u8(1) ‖ lp8(user) ‖ user key ‖ u64(version) ‖ u8(n) ‖ n × (u32(device) ‖ identity key)`.
fn content(
    user: &UserId,
    user_key: &UserPublicKey,
    version: u64,
    devices: &[ListedDevice],
) -> Result<Writer, DeviceListError> {
    let count = u8::try_from(devices.len()).map_err(|_| DeviceListError::DeviceCount)?;
    let mut w =
        Writer::with_capacity(48 + user.as_bytes().len() + devices.len() * 36 + SIGNATURE_LEN);
    w.u8(DEVICE_LIST_VERSION);
    user.encode(&mut w);
    w.raw(user_key.as_bytes());
    w.u64(version);
    w.u8(count);
    for d in devices {
        w.u32(d.device.get());
        w.raw(d.identity_key.as_bytes());
    }
    Ok(w)
}

/// The structural rules of §13.2 on the device entries.
fn check_devices(devices: &[ListedDevice]) -> Result<(), DeviceListError> {
    if devices.is_empty() || devices.len() > MAX_DEVICES {
        return Err(DeviceListError::DeviceCount);
    }
    if devices
        .windows(2)
        .any(|w| matches!(w, [a, b] if a.device >= b.device))
    {
        return Err(DeviceListError::UnsortedDevices);
    }
    for (i, d) in devices.iter().enumerate() {
        if devices
            .iter()
            .skip(i + 1)
            .any(|e| e.identity_key == d.identity_key)
        {
            return Err(DeviceListError::DuplicateDeviceKey);
        }
    }
    Ok(())
}

impl DeviceList {
    /// Signs a list of `user`'s devices as `version` (SPEC.md §13.2). The
    /// devices are sorted by id; an id listed twice, a key listed twice, no
    /// devices or more than [`MAX_DEVICES`] are refused, as is version 0.
    pub fn sign(
        user_key: &UserSecretKey,
        user: UserId,
        version: u64,
        mut devices: Vec<ListedDevice>,
    ) -> Result<Self, DeviceListError> {
        if version == 0 {
            return Err(DeviceListError::ZeroVersion);
        }
        devices.sort_by_key(|d| d.device);
        check_devices(&devices)?;
        let public = user_key.public_key();
        let mut w = content(&user, &public, version, &devices)?;
        let signature = user_key.sign_device_list(w.as_bytes());
        w.raw(&signature.to_bytes());
        Ok(Self {
            user,
            user_key: public,
            version,
            devices,
            signature,
            encoded: w.into_bytes(),
        })
    }

    /// Decodes a device list strictly (SPEC.md §2.2, §13.2): every structural
    /// rule is checked here; the signature by [`Self::verify`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DeviceListError> {
        let mut r = Reader::new(bytes);
        let version_byte = r.u8()?;
        if version_byte != DEVICE_LIST_VERSION {
            return Err(DecodeError::UnknownVersion(version_byte).into());
        }
        let user = UserId::decode(&mut r)?;
        let user_key = UserPublicKey::from_bytes(&r.array::<32>()?)
            .map_err(|_| DeviceListError::InvalidUserKey)?;
        let version = r.u64()?;
        if version == 0 {
            return Err(DeviceListError::ZeroVersion);
        }
        let n = usize::from(r.u8()?);
        if n == 0 || n > MAX_DEVICES {
            return Err(DeviceListError::DeviceCount);
        }
        let mut devices = Vec::with_capacity(n);
        for _ in 0..n {
            let device = DeviceId::new(r.u32()?);
            let identity_key = IdentityPublicKey::from_bytes(&r.array::<32>()?)
                .map_err(|_| DeviceListError::InvalidDeviceKey)?;
            devices.push(ListedDevice {
                device,
                identity_key,
            });
        }
        let signature = Signature::from_bytes(r.array::<SIGNATURE_LEN>()?);
        r.finish()?;
        check_devices(&devices)?;
        Ok(Self {
            user,
            user_key,
            version,
            devices,
            signature,
            encoded: bytes.to_vec(),
        })
    }

    /// The encoding (exactly the bytes signed, then the signature).
    pub fn encode(&self) -> Vec<u8> {
        self.encoded.clone()
    }

    /// The encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.encoded
    }

    /// The user the list is for.
    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// The user key that signed it.
    pub fn user_key(&self) -> &UserPublicKey {
        &self.user_key
    }

    /// Its version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The listed devices, by ascending id.
    pub fn devices(&self) -> &[ListedDevice] {
        &self.devices
    }

    /// Every check of SPEC.md §13.3, in order: the signature under the list's
    /// own user key, the expected user, and against the list `held` for that
    /// user (if any) the same user key and a higher version. Used alike by
    /// clients (`held`: the list they hold) and servers (`held`: the stored
    /// list; `expected_user`: the authenticated uploader). Pure; no secrets.
    ///
    /// ```
    /// use letterseal::account::{DeviceList, DeviceListError, ListedDevice, UserSecretKey};
    /// use letterseal::ids::{DeviceId, UserId};
    /// use letterseal::keys::IdentitySecretKey;
    /// use rand_core::SeedableRng;
    ///
    /// let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
    /// let user_key = UserSecretKey::generate(&mut rng);
    /// let alice = UserId::new("alice")?;
    /// let mut device = |id| ListedDevice {
    ///     device: DeviceId::new(id),
    ///     identity_key: IdentitySecretKey::generate(&mut rng).public_key(),
    /// };
    /// let (phone, laptop) = (device(1), device(2));
    /// let v1 = DeviceList::sign(&user_key, alice.clone(), 1, vec![phone, laptop])?;
    /// let v2 = DeviceList::sign(&user_key, alice.clone(), 2, vec![phone])?; // laptop removed
    ///
    /// // A server (or peer) holding v2 refuses v1 again: the removal is final.
    /// let held = DeviceList::decode(v2.as_bytes())?.verify(&alice, None)?;
    /// let replay = DeviceList::decode(v1.as_bytes())?.verify(&alice, Some(&held));
    /// assert_eq!(replay, Err(DeviceListError::Stale { held: 2, received: 1 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify(
        self,
        expected_user: &UserId,
        held: Option<&VerifiedDeviceList>,
    ) -> Result<VerifiedDeviceList, DeviceListError> {
        let signed_len = self.encoded.len().saturating_sub(SIGNATURE_LEN);
        let signed = self
            .encoded
            .get(..signed_len)
            .ok_or(DeviceListError::Malformed(DecodeError::Truncated))?;
        self.user_key
            .verify_device_list(signed, &self.signature)
            .map_err(|_| DeviceListError::BadSignature)?;
        if self.user != *expected_user {
            return Err(DeviceListError::WrongUser);
        }
        if let Some(held) = held {
            let held = &held.0;
            if held.user != self.user {
                return Err(DeviceListError::WrongUser);
            }
            if held.user_key != self.user_key {
                return Err(DeviceListError::UserKeyChanged);
            }
            if self.version <= held.version {
                return Err(if self.encoded == held.encoded {
                    DeviceListError::Duplicate
                } else {
                    DeviceListError::Stale {
                        held: held.version,
                        received: self.version,
                    }
                });
            }
        }
        Ok(VerifiedDeviceList(self))
    }
}

/// A device list that passed [`DeviceList::verify`]: the devices that speak
/// for the user. See the example on [`DeviceList`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedDeviceList(DeviceList);

impl VerifiedDeviceList {
    /// The list.
    pub fn list(&self) -> &DeviceList {
        &self.0
    }

    /// The identity key listed for `device`, if it is listed.
    pub fn identity_key(&self, device: DeviceId) -> Option<&IdentityPublicKey> {
        self.0
            .devices
            .iter()
            .find(|d| d.device == device)
            .map(|d| &d.identity_key)
    }

    /// Whether the device at `address` is listed (same user).
    pub fn lists(&self, address: &DeviceAddress) -> bool {
        address.user == self.0.user && self.identity_key(address.device).is_some()
    }

    /// The listed devices' addresses, by ascending id.
    pub fn addresses(&self) -> impl Iterator<Item = DeviceAddress> + '_ {
        self.0
            .devices
            .iter()
            .map(|d| DeviceAddress::new(self.0.user.clone(), d.device))
    }

    /// Signs the next version of this list (the caller holds the user key):
    /// the same user, `version + 1`, with `devices`.
    pub fn next(
        &self,
        user_key: &UserSecretKey,
        devices: Vec<ListedDevice>,
    ) -> Result<DeviceList, DeviceListError> {
        let version = self
            .0
            .version
            .checked_add(1)
            .ok_or(DeviceListError::Stale {
                held: self.0.version,
                received: self.0.version,
            })?;
        DeviceList::sign(user_key, self.0.user.clone(), version, devices)
    }

    /// Rebuilds a verified list from state storage (already verified once).
    pub(crate) fn from_trusted(list: DeviceList) -> Self {
        Self(list)
    }
}
