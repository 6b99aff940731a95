//! LINE ids, legacy key ids and content types (SPEC.md §11.1, §11.3, §11.6).
//!
//! A [`LineId`] is ASCII: `'u'` (user) or `'c'` (group) followed by exactly 32
//! lowercase hex digits, 33 bytes in all; anything else is
//! [`LegacyError::InvalidId`]. Key ids are `i32`s assigned by the server. A
//! key-id chunk is written in one of two [`KeyIdEncoding`]s: 4 bytes
//! big-endian (the documented format) or, on the compact-message path of
//! deployed clients, a Thrift compact `i32` (zigzag, then LEB128, 1 to 5
//! bytes). Whatever the chunk's encoding, the v2 AAD carries `i32be(id)`.
//!
//! The compact decoder accepts exactly the encodings Thrift's compact protocol
//! writes for an `i32`, and refuses everything else with a typed error
//! (SPEC.md §11.1):
//!
//! | chunk | error |
//! |---|---|
//! | empty, or its last byte has the continuation bit (`0x80`) set | [`LegacyError::Truncated`] |
//! | the 5th byte has the continuation bit set | [`LegacyError::TooLong`] |
//! | bytes follow the byte that ends the varint | [`LegacyError::TrailingData`] |
//! | a multi-byte varint ends in `0x00` (not the shortest form) | [`LegacyError::NonMinimal`] |
//! | a 5-byte varint whose value exceeds 32 bits (5th byte > `0x0f`) | [`LegacyError::OutOfRange`] |
//!
//! ```
//! use letterseal_legacy::LegacyError;
//! use letterseal_legacy::ids::{KeyIdEncoding, LegacyKeyId, LineId, LineIdKind};
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
//!
//! // Thrift compact: zigzag(-2) = 3, one byte; zigzag(1001) = 2002 = 0xd2 0x0f.
//! assert_eq!(id.encode(KeyIdEncoding::Compact).as_bytes(), &[0x03]);
//! let compact = LegacyKeyId::new(1001).encode(KeyIdEncoding::Compact);
//! assert_eq!(compact.as_bytes(), &[0xd2, 0x0f]);
//! assert_eq!(LegacyKeyId::from_compact_chunk(&[0xd2, 0x0f])?, LegacyKeyId::new(1001));
//! assert_eq!(LegacyKeyId::from_compact_chunk(&[0xd2, 0x8f, 0x00]), Err(LegacyError::NonMinimal));
//! assert_eq!(LegacyKeyId::from_compact_chunk(&[0xd2]), Err(LegacyError::Truncated));
//! assert_eq!(LegacyKeyId::decode(&[0x03], KeyIdEncoding::Compact)?.get(), -2);
//!
//! // Ids arrive as text or bytes from the transport.
//! let alice = LineId::from_bytes(b"u0123456789abcdef0123456789abcdef")?;
//! assert_eq!(alice.as_str(), "u0123456789abcdef0123456789abcdef");
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

    /// Reads a big-endian key-id chunk: exactly 4 bytes (otherwise
    /// [`LegacyError::Malformed`]) (SPEC.md §11.1).
    pub fn from_chunk(chunk: &[u8]) -> Result<Self, LegacyError> {
        let bytes: [u8; 4] = chunk.try_into().map_err(|_| LegacyError::Malformed)?;
        Ok(Self(i32::from_be_bytes(bytes)))
    }

    /// Reads a Thrift compact key-id chunk (SPEC.md §11.1): an unsigned LEB128
    /// varint of 1 to 5 bytes, shortest form, whose value `v < 2^32` is the
    /// zigzag encoding of the id (`id = (v >> 1) XOR -(v AND 1)`). Every other
    /// chunk is refused with the typed error listed in the [module
    /// documentation](self), checked in this order: [`LegacyError::Truncated`]
    /// or [`LegacyError::TooLong`] while scanning, then
    /// [`LegacyError::TrailingData`], [`LegacyError::NonMinimal`],
    /// [`LegacyError::OutOfRange`].
    pub fn from_compact_chunk(chunk: &[u8]) -> Result<Self, LegacyError> {
        let mut value: u64 = 0;
        let mut bytes = chunk.iter().enumerate();
        let (end, last) = loop {
            let Some((index, &byte)) = bytes.next() else {
                return Err(LegacyError::Truncated);
            };
            // index < COMPACT_MAX_LEN here, so the shift is at most 28.
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                break (index, byte);
            }
            if index + 1 == COMPACT_MAX_LEN {
                return Err(LegacyError::TooLong);
            }
        };
        if end + 1 != chunk.len() {
            return Err(LegacyError::TrailingData);
        }
        if end > 0 && last == 0 {
            return Err(LegacyError::NonMinimal);
        }
        let zigzag = u32::try_from(value).map_err(|_| LegacyError::OutOfRange)?;
        // (zigzag >> 1) fits in 31 bits; the low bit selects the sign.
        let magnitude = (zigzag >> 1) as i32;
        Ok(Self(magnitude ^ -((zigzag & 1) as i32)))
    }

    /// Reads a key-id chunk written in `encoding` (SPEC.md §11.1).
    pub fn decode(chunk: &[u8], encoding: KeyIdEncoding) -> Result<Self, LegacyError> {
        match encoding {
            KeyIdEncoding::BigEndian => Self::from_chunk(chunk),
            KeyIdEncoding::Compact => Self::from_compact_chunk(chunk),
        }
    }

    /// The key-id chunk in `encoding` (SPEC.md §11.1): `i32be(id)`, or the
    /// shortest LEB128 varint of `zigzag(id) = (id << 1) XOR (id >> 31)`.
    pub fn encode(self, encoding: KeyIdEncoding) -> KeyIdChunk {
        match encoding {
            KeyIdEncoding::BigEndian => {
                let [a, b, c, d] = self.to_be_bytes();
                KeyIdChunk {
                    bytes: [a, b, c, d, 0],
                    len: 4,
                }
            }
            KeyIdEncoding::Compact => {
                let mut zigzag = ((self.0 << 1) ^ (self.0 >> 31)) as u32;
                let mut chunk = KeyIdChunk {
                    bytes: [0; COMPACT_MAX_LEN],
                    len: 0,
                };
                for slot in chunk.bytes.iter_mut() {
                    // The low 7 bits; the mask makes the cast exact.
                    *slot = (zigzag & 0x7f) as u8;
                    zigzag >>= 7;
                    chunk.len += 1;
                    if zigzag == 0 {
                        break;
                    }
                    *slot |= 0x80;
                }
                chunk
            }
        }
    }
}

/// Longest Thrift compact `i32` varint: 5 bytes.
pub const COMPACT_MAX_LEN: usize = 5;

/// How the two key-id chunks of a message are written (SPEC.md §11.1). The
/// AAD of v2 and group messages is built from the integer either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyIdEncoding {
    /// `i32be(id)`, exactly 4 bytes: the documented format (the default).
    #[default]
    BigEndian,
    /// A Thrift compact `i32` (zigzag, then LEB128, 1 to 5 bytes), as deployed
    /// clients write it on the compact-message path.
    Compact,
}

impl KeyIdEncoding {
    /// `"bigEndian"` or `"compact"`, as the test vectors write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::BigEndian => "bigEndian",
            Self::Compact => "compact",
        }
    }
}

/// An encoded key-id chunk, 1 to 5 bytes, without allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyIdChunk {
    bytes: [u8; COMPACT_MAX_LEN],
    len: u8,
}

impl KeyIdChunk {
    /// The chunk's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes
            .get(..usize::from(self.len))
            .unwrap_or(&self.bytes)
    }
}

impl fmt::Debug for KeyIdChunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyIdChunk({})", hex::encode(self.as_bytes()))
    }
}

/// Which [`KeyIdEncoding`] a message's two key-id chunks use, when the
/// transport does not say (SPEC.md §11.1). `holds_recipient_key` tells
/// whether the opener holds a key with a given recipient key id (for a group
/// message: whether it is the group key id). The rule:
///
/// 1. Big-endian is a candidate if both chunks are 4 bytes; compact if both
///    chunks are valid compact encodings.
/// 2. One candidate: that one. Both (each chunk is 4 bytes *and* a valid
///    4-byte varint): big-endian if its recipient key id is held, else compact
///    if its recipient key id is held, else big-endian (the open then fails
///    with [`LegacyError::UnknownKey`]).
/// 3. No candidate: the compact decoding error of the first chunk (sender,
///    then recipient) that is neither 4 bytes long nor a valid compact
///    encoding; otherwise (each chunk readable, but not in the same encoding)
///    [`LegacyError::Malformed`].
///
/// ```
/// use letterseal_legacy::LegacyError;
/// use letterseal_legacy::ids::{KeyIdEncoding, LegacyKeyId, detect_key_id_encoding};
///
/// let mine = |id: LegacyKeyId| id == LegacyKeyId::new(2_500_000);
/// let be = |id: i32| LegacyKeyId::new(id).encode(KeyIdEncoding::BigEndian);
/// let compact = |id: i32| LegacyKeyId::new(id).encode(KeyIdEncoding::Compact);
///
/// // Ids around 2^21 take four compact bytes, like big-endian chunks.
/// let (s, r) = (compact(3_000_000), compact(2_500_000));
/// assert_eq!((s.as_bytes().len(), r.as_bytes().len()), (4, 4));
/// assert_eq!(detect_key_id_encoding(s.as_bytes(), r.as_bytes(), mine), Ok(KeyIdEncoding::Compact));
/// let (s, r) = (be(3_000_000), be(2_500_000));
/// assert_eq!(detect_key_id_encoding(s.as_bytes(), r.as_bytes(), mine), Ok(KeyIdEncoding::BigEndian));
/// assert_eq!(detect_key_id_encoding(&[0x80], r.as_bytes(), mine), Err(LegacyError::Truncated));
/// ```
pub fn detect_key_id_encoding(
    sender_chunk: &[u8],
    recipient_chunk: &[u8],
    holds_recipient_key: impl Fn(LegacyKeyId) -> bool,
) -> Result<KeyIdEncoding, LegacyError> {
    let big_endian = LegacyKeyId::from_chunk(sender_chunk)
        .and_then(|_| LegacyKeyId::from_chunk(recipient_chunk))
        .ok();
    let compact_sender = LegacyKeyId::from_compact_chunk(sender_chunk);
    let compact_recipient = LegacyKeyId::from_compact_chunk(recipient_chunk);
    let compact = match (compact_sender, compact_recipient) {
        (Ok(_), Ok(recipient)) => Some(recipient),
        _ => None,
    };
    match (big_endian, compact) {
        (Some(_), None) => Ok(KeyIdEncoding::BigEndian),
        (None, Some(_)) => Ok(KeyIdEncoding::Compact),
        (Some(recipient), Some(compact_recipient)) => {
            if !holds_recipient_key(recipient) && holds_recipient_key(compact_recipient) {
                Ok(KeyIdEncoding::Compact)
            } else {
                Ok(KeyIdEncoding::BigEndian)
            }
        }
        (None, None) => {
            for (chunk, reading) in [
                (sender_chunk, compact_sender),
                (recipient_chunk, compact_recipient),
            ] {
                if let (false, Err(e)) = (chunk.len() == LegacyKeyId::LEN, reading) {
                    return Err(e);
                }
            }
            Err(LegacyError::Malformed)
        }
    }
}

impl fmt::Display for LegacyKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A v2 content type, an `i32` bound into the AAD (SPEC.md §11.3, §11.6).
///
/// ```
/// use letterseal_legacy::ids::LegacyContentType;
///
/// assert_eq!(LegacyContentType::LOCATION.get(), 15);
/// assert!(LegacyContentType::IMAGE.is_media()); // its payload carries media key material
/// assert!(!LegacyContentType::new(15).is_media());
/// ```
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

    fn compact(id: i32) -> alloc::vec::Vec<u8> {
        LegacyKeyId::new(id)
            .encode(KeyIdEncoding::Compact)
            .as_bytes()
            .to_vec()
    }

    #[test]
    fn compact_known_answers() {
        // Thrift compact i32: zigzag, then LEB128 (Apache Thrift's
        // TCompactProtocol writeI32), worked out by hand.
        let cases: &[(i32, &[u8])] = &[
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (-2, &[0x03]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
            (1001, &[0xd2, 0x0f]),
            (-8193, &[0x81, 0x80, 0x01]),
            (2_500_000, &[0xc0, 0x96, 0xb1, 0x02]),
            (i32::MAX, &[0xfe, 0xff, 0xff, 0xff, 0x0f]),
            (i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        ];
        for &(id, bytes) in cases {
            assert_eq!(compact(id), bytes, "{id}");
            assert_eq!(
                LegacyKeyId::from_compact_chunk(bytes),
                Ok(LegacyKeyId::new(id))
            );
            assert_eq!(
                LegacyKeyId::decode(bytes, KeyIdEncoding::Compact),
                Ok(LegacyKeyId::new(id))
            );
        }
        let be = LegacyKeyId::new(-2).encode(KeyIdEncoding::BigEndian);
        assert_eq!(be.as_bytes(), &[0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(alloc::format!("{be:?}"), "KeyIdChunk(fffffffe)");
        assert_eq!(KeyIdEncoding::default(), KeyIdEncoding::BigEndian);
        assert_eq!(KeyIdEncoding::Compact.name(), "compact");
        assert_eq!(KeyIdEncoding::BigEndian.name(), "bigEndian");
    }

    #[test]
    fn compact_refusals() {
        let cases: &[(&[u8], LegacyError)] = &[
            (&[], LegacyError::Truncated),
            (&[0x80], LegacyError::Truncated),
            (&[0xff, 0xff, 0xff, 0xff], LegacyError::Truncated),
            (&[0x80, 0x80, 0x80, 0x80, 0x80], LegacyError::TooLong),
            (&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01], LegacyError::TooLong),
            (&[0x00, 0x00], LegacyError::TrailingData),
            (&[0xd2, 0x0f, 0x00], LegacyError::TrailingData),
            (&[0x80, 0x00], LegacyError::NonMinimal),
            (&[0x81, 0x00], LegacyError::NonMinimal),
            (&[0xd2, 0x8f, 0x80, 0x80, 0x00], LegacyError::NonMinimal),
            (&[0xff, 0xff, 0xff, 0xff, 0x10], LegacyError::OutOfRange),
            (&[0x80, 0x80, 0x80, 0x80, 0x7f], LegacyError::OutOfRange),
        ];
        for &(bytes, error) in cases {
            assert_eq!(
                LegacyKeyId::from_compact_chunk(bytes),
                Err(error),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn every_short_compact_chunk_is_canonical_or_refused() {
        // All 1- and 2-byte chunks, and every 3-byte chunk starting with a
        // continuation byte: accepted exactly when re-encoding gives them back.
        let mut accepted = 0;
        let check = |bytes: &[u8], accepted: &mut u32| {
            if let Ok(id) = LegacyKeyId::from_compact_chunk(bytes) {
                assert_eq!(compact(id.get()), bytes);
                *accepted += 1;
            }
        };
        for a in 0..=255u8 {
            check(&[a], &mut accepted);
            for b in 0..=255u8 {
                check(&[a, b], &mut accepted);
                if a >= 0x80 && b >= 0x80 {
                    for c in [0x00, 0x01, 0x7f, 0x80] {
                        check(&[a, b, c], &mut accepted);
                    }
                }
            }
        }
        // 128 one-byte, 128 × 127 two-byte, 128 × 128 × 2 three-byte encodings.
        assert_eq!(accepted, 128 + 128 * 127 + 128 * 128 * 2);
    }

    #[test]
    fn detection() {
        let none = |_: LegacyKeyId| false;
        let holds = |id: i32| move |k: LegacyKeyId| k == LegacyKeyId::new(id);
        let be = |id: i32| LegacyKeyId::new(id).to_be_bytes().to_vec();
        // Unambiguous cases.
        assert_eq!(
            detect_key_id_encoding(&be(1), &be(2), none),
            Ok(KeyIdEncoding::BigEndian)
        );
        assert_eq!(
            detect_key_id_encoding(&compact(1), &compact(2), none),
            Ok(KeyIdEncoding::Compact)
        );
        // Both readings valid: the held recipient key id decides.
        let (s, r) = (compact(3_000_000), compact(2_500_000));
        assert_eq!(r.len(), 4);
        let r_be = LegacyKeyId::from_chunk(&r).unwrap().get();
        assert_eq!(
            detect_key_id_encoding(&s, &r, holds(2_500_000)),
            Ok(KeyIdEncoding::Compact)
        );
        assert_eq!(
            detect_key_id_encoding(&s, &r, holds(r_be)),
            Ok(KeyIdEncoding::BigEndian)
        );
        assert_eq!(
            detect_key_id_encoding(&s, &r, none),
            Ok(KeyIdEncoding::BigEndian)
        );
        assert_eq!(
            detect_key_id_encoding(&s, &r, |_| true),
            Ok(KeyIdEncoding::BigEndian)
        );
        // Errors: the first chunk readable neither way, else Malformed.
        assert_eq!(
            detect_key_id_encoding(&[0x80], &be(2), none),
            Err(LegacyError::Truncated)
        );
        assert_eq!(
            detect_key_id_encoding(&be(1), &[0x05, 0x00], none),
            Err(LegacyError::TrailingData)
        );
        assert_eq!(
            detect_key_id_encoding(&[0x80, 0x00], &[0x80], none),
            Err(LegacyError::NonMinimal)
        );
        assert_eq!(
            detect_key_id_encoding(&be(1), &compact(2), none),
            Err(LegacyError::Malformed)
        );
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
