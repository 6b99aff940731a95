//! LINE ids, legacy key ids and content types (SPEC.md §11.1, §11.3, §11.6).
//!
//! A [`LineId`] is ASCII: `'u'` (user) or `'c'` (group) followed by exactly 32
//! lowercase hex digits, 33 bytes in all; anything else is
//! [`LegacyError::InvalidId`]. Key ids are `i32`s assigned by the server and
//! travel as 4-byte big-endian chunks.
//!
//! ```
//! use letterseal::legacy::LegacyError;
//! use letterseal::legacy::ids::{LegacyKeyId, LineId, LineIdKind};
//!
//! let group = LineId::parse("c0123456789abcdef0123456789abcdef")?;
//! assert_eq!(group.kind(), LineIdKind::Group);
//! assert_eq!(group.as_bytes().len(), 33);
//! assert_eq!(LineId::parse("U0123456789ABCDEF0123456789ABCDEF"), Err(LegacyError::InvalidId));
//!
//! let id = LegacyKeyId::new(-2);
//! assert_eq!(id.to_be_bytes(), [0xff, 0xff, 0xff, 0xfe]);
//! assert_eq!(LegacyKeyId::from_chunk(&[0xff, 0xff, 0xff, 0xfe])?, id);
//! assert_eq!(LegacyKeyId::from_chunk(&[0, 0, 1]), Err(LegacyError::Malformed));
//! # Ok::<(), LegacyError>(())
//! ```

use core::fmt;

use super::LegacyError;

/// Length of a [`LineId`] in bytes.
pub const LINE_ID_LEN: usize = 33;

/// Whether a [`LineId`] names a user or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineIdKind {
    /// `'u'`: a user.
    User,
    /// `'c'`: a group (chat).
    Group,
}

/// A LINE user or group id: `'u'` or `'c'` followed by 32 lowercase hex digits
/// (SPEC.md §11.1). Always exactly 33 ASCII bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineId([u8; LINE_ID_LEN]);

impl LineId {
    /// Validates and wraps an id given as text (SPEC.md §11.1).
    pub fn parse(text: &str) -> Result<Self, LegacyError> {
        Self::from_bytes(text.as_bytes())
    }

    /// Validates and wraps an id given as bytes (SPEC.md §11.1).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LegacyError> {
        let id: [u8; LINE_ID_LEN] = bytes.try_into().map_err(|_| LegacyError::InvalidId)?;
        let (prefix, digits) = id.split_first().ok_or(LegacyError::InvalidId)?;
        let prefix_ok = matches!(prefix, b'u' | b'c');
        let digits_ok = digits
            .iter()
            .all(|d| matches!(d, b'0'..=b'9' | b'a'..=b'f'));
        if prefix_ok && digits_ok {
            Ok(Self(id))
        } else {
            Err(LegacyError::InvalidId)
        }
    }

    /// User or group.
    pub fn kind(&self) -> LineIdKind {
        if self.0.first() == Some(&b'c') {
            LineIdKind::Group
        } else {
            LineIdKind::User
        }
    }

    /// The 33 ASCII bytes, as they enter the v2 AAD.
    pub fn as_bytes(&self) -> &[u8; LINE_ID_LEN] {
        &self.0
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // The constructor admits only ASCII, so this never falls back.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl core::str::FromStr for LineId {
    type Err = LegacyError;
    fn from_str(text: &str) -> Result<Self, LegacyError> {
        Self::parse(text)
    }
}

impl fmt::Display for LineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for LineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LineId({})", self.as_str())
    }
}

/// A key id assigned by the server: a signed 32-bit integer, sent as
/// `i32be` (SPEC.md §11.1). Names a user key or, in group messages, a group key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegacyKeyId(i32);

impl LegacyKeyId {
    /// Length of the key-id chunk.
    pub const LEN: usize = 4;

    /// Wraps a key id.
    pub const fn new(id: i32) -> Self {
        Self(id)
    }

    /// The key id.
    pub const fn get(self) -> i32 {
        self.0
    }

    /// `i32be(id)` (SPEC.md §11.1).
    pub const fn to_be_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }

    /// Reads a key-id chunk: exactly 4 bytes, big-endian (otherwise
    /// [`LegacyError::Malformed`]) (SPEC.md §11.1).
    pub fn from_chunk(chunk: &[u8]) -> Result<Self, LegacyError> {
        let bytes: [u8; 4] = chunk.try_into().map_err(|_| LegacyError::Malformed)?;
        Ok(Self(i32::from_be_bytes(bytes)))
    }
}

impl fmt::Display for LegacyKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A v2 content type, an `i32` bound into the AAD (SPEC.md §11.3, §11.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegacyContentType(i32);

impl LegacyContentType {
    /// `{"text": ...}`.
    pub const TEXT: Self = Self(0);
    /// An image; the payload carries media key material.
    pub const IMAGE: Self = Self(1);
    /// A video; the payload carries media key material.
    pub const VIDEO: Self = Self(2);
    /// A voice message; the payload carries media key material.
    pub const AUDIO: Self = Self(3);
    /// A file; the payload carries media key material.
    pub const FILE: Self = Self(14);
    /// A location.
    pub const LOCATION: Self = Self(15);

    /// Wraps any content type code.
    pub const fn new(code: i32) -> Self {
        Self(code)
    }

    /// The code.
    pub const fn get(self) -> i32 {
        self.0
    }

    /// True for the types whose payload carries media key material (1, 2, 3, 14).
    pub const fn is_media(self) -> bool {
        matches!(self.0, 1 | 2 | 3 | 14)
    }
}

impl From<i32> for LegacyContentType {
    fn from(code: i32) -> Self {
        Self(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    const USER: &str = "u0123456789abcdef0123456789abcdef";

    #[test]
    fn valid_ids() {
        let user = LineId::parse(USER).unwrap();
        assert_eq!(user.kind(), LineIdKind::User);
        assert_eq!(user.as_str(), USER);
        assert_eq!(user.to_string(), USER);
        assert_eq!(USER.parse::<LineId>().unwrap(), user);
        let group = LineId::parse("cffffffffffffffffffffffffffffffff").unwrap();
        assert_eq!(group.kind(), LineIdKind::Group);
        assert_eq!(
            alloc::format!("{group:?}"),
            "LineId(cffffffffffffffffffffffffffffffff)"
        );
    }

    #[test]
    fn invalid_ids() {
        let too_long = alloc::format!("{USER}0");
        let cases = [
            "",
            "u",
            &USER[..32],
            too_long.as_str(),
            "x0123456789abcdef0123456789abcdef",
            "U0123456789abcdef0123456789abcdef",
            "u0123456789ABCDEF0123456789abcdef",
            "u0123456789abcdeg0123456789abcdef",
            "u0123456789abcdef0123456789abcde ",
            "u0123456789abcdef0123456789abcd\u{e9}",
        ];
        for case in cases {
            assert_eq!(LineId::parse(case), Err(LegacyError::InvalidId), "{case:?}");
        }
        assert_eq!(LineId::from_bytes(&[0xff; 33]), Err(LegacyError::InvalidId));
    }

    #[test]
    fn key_id_chunks() {
        for id in [0, 1, -1, i32::MIN, i32::MAX, 0x0102_0304] {
            let key_id = LegacyKeyId::new(id);
            assert_eq!(LegacyKeyId::from_chunk(&key_id.to_be_bytes()), Ok(key_id));
            assert_eq!(key_id.get(), id);
        }
        assert_eq!(LegacyKeyId::new(0x0102_0304).to_be_bytes(), [1, 2, 3, 4]);
        for len in [0usize, 3, 5, 8] {
            assert_eq!(
                LegacyKeyId::from_chunk(&alloc::vec![0u8; len]),
                Err(LegacyError::Malformed)
            );
        }
    }

    #[test]
    fn content_types() {
        assert!(LegacyContentType::IMAGE.is_media());
        assert!(LegacyContentType::FILE.is_media());
        assert!(!LegacyContentType::TEXT.is_media());
        assert!(!LegacyContentType::LOCATION.is_media());
        assert_eq!(LegacyContentType::from(15), LegacyContentType::LOCATION);
        assert_eq!(LegacyContentType::new(-7).get(), -7);
    }
}
