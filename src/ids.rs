//! Who a key belongs to: user ids, device ids and device addresses (SPEC.md §4.1).
//!
//! ```
//! use letterseal::ids::{DeviceAddress, DeviceId, InvalidUserId, UserId};
//!
//! let alice = UserId::new("alice@example.org")?;
//! assert_eq!(alice.as_bytes(), b"alice@example.org");
//! let phone = DeviceAddress::new(alice, DeviceId::new(1));
//! assert_eq!(phone.device.get(), 1);
//! assert_eq!(phone.to_string(), "alice@example.org/1");
//! // 1 to 255 bytes.
//! assert_eq!(UserId::new(""), Err(InvalidUserId));
//! assert_eq!(UserId::new([b'x'; 256]), Err(InvalidUserId));
//! # Ok::<(), InvalidUserId>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::codec::{DecodeError, Lp8, Reader, Writer};

/// Longest user id in bytes.
pub const MAX_USER_ID_LEN: usize = 255;
// A user id is written with a `u8` length prefix (`Lp8`), which holds exactly this much.
const _: () = assert!(MAX_USER_ID_LEN == u8::MAX as usize);

/// A user id was empty or longer than [`MAX_USER_ID_LEN`] bytes. See the
/// example in the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUserId;

impl fmt::Display for InvalidUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("user id must be 1 to 255 bytes")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InvalidUserId {}

/// An account identifier chosen by the application: 1 to 255 opaque bytes
/// (usually UTF-8). Compared byte for byte.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(Lp8<Vec<u8>>);

impl Serialize for UserId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::serde_hex::serialize(self.as_bytes(), serializer)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = crate::serde_hex::deserialize_vec(deserializer)?;
        Self::new(bytes).map_err(serde::de::Error::custom)
    }
}

impl UserId {
    /// Checks the length and wraps the bytes.
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, InvalidUserId> {
        let bytes = bytes.as_ref();
        if bytes.is_empty() {
            return Err(InvalidUserId);
        }
        Lp8::new(bytes.to_vec())
            .map(Self)
            .map_err(|_| InvalidUserId)
    }

    /// Wraps a non-empty id read from a checked encoding: the infallible twin of
    /// [`UserId::new`] for decoders that already checked.
    pub(crate) fn from_checked(bytes: Lp8<&[u8]>) -> Self {
        Self(bytes.to_owned())
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Writes `u8(len) ‖ bytes` (the constructor checked that the length fits).
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.lp8(&self.0);
    }

    /// Reads `u8(len) ‖ bytes` and checks the length.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes = r.lp8()?;
        if bytes.as_bytes().is_empty() {
            return Err(DecodeError::InvalidLength);
        }
        Ok(Self::from_checked(bytes))
    }
}

impl TryFrom<Vec<u8>> for UserId {
    type Error = InvalidUserId;
    fn try_from(bytes: Vec<u8>) -> Result<Self, InvalidUserId> {
        Self::new(bytes)
    }
}

impl From<UserId> for Vec<u8> {
    fn from(id: UserId) -> Vec<u8> {
        id.0.into_vec()
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.as_bytes()) {
            Ok(s) if s.chars().all(|c| !c.is_control()) => f.write_str(s),
            _ => {
                f.write_str("0x")?;
                self.as_bytes()
                    .iter()
                    .try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({self})")
    }
}

/// One device of a user, numbered by the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DeviceId(u32);

impl DeviceId {
    /// Wraps a device number.
    pub const fn new(id: u32) -> Self {
        Self(id)
    }

    /// The device number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A (user, device) pair: the owner of an identity key and its sealing keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceAddress {
    /// The account.
    pub user: UserId,
    /// The device within the account.
    pub device: DeviceId,
}

impl DeviceAddress {
    /// Pairs a user and a device.
    pub fn new(user: UserId, device: DeviceId) -> Self {
        Self { user, device }
    }

    /// Writes `u8(len(user)) ‖ user ‖ u32(device)`.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn encode(&self, w: &mut Writer) {
        self.user.encode(w);
        w.u32(self.device.0);
    }

    /// Reads what [`Self::encode`] writes.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let user = UserId::decode(r)?;
        let device = DeviceId(r.u32()?);
        Ok(Self { user, device })
    }
}

impl fmt::Display for DeviceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.user, self.device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn user_id_length_limits() {
        assert_eq!(UserId::new([]), Err(InvalidUserId));
        assert!(UserId::new([0u8; 255]).is_ok());
        assert_eq!(UserId::new([0u8; 256]), Err(InvalidUserId));
    }

    #[test]
    fn non_printable_user_id_displays_as_hex() {
        assert_eq!(UserId::new([0, 255]).unwrap().to_string(), "0x00ff");
    }

    #[test]
    fn device_id_keeps_its_number() {
        assert_eq!(DeviceId::new(7).get(), 7);
        assert_eq!(DeviceId::new(u32::MAX).get(), u32::MAX);
    }

    #[test]
    fn address_round_trips() {
        let a = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(9));
        let mut w = Writer::new();
        a.encode(&mut w);
        assert_eq!(w.as_bytes(), b"\x03bob\x00\x00\x00\x09");
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(DeviceAddress::decode(&mut r).unwrap(), a);
        r.finish().unwrap();
        assert_eq!(
            DeviceAddress::decode(&mut Reader::new(b"\x00\x00\x00\x00\x01")),
            Err(DecodeError::InvalidLength)
        );
    }
}
