//! Wire codec primitives (SPEC.md §2.2): big-endian integers, fixed-size byte
//! strings and length-prefixed byte strings, with a strict reader.
//!
//! Every LS3 encoding is built from these pieces. The [`Reader`] checks every
//! length before it touches the input, never panics, and [`Reader::finish`]
//! rejects trailing bytes, so each decoder accepts exactly one encoding per value.
//!
//! ```
//! # #[cfg(feature = "hazmat")] { // public with `hazmat` only
//! use letterseal::codec::{Reader, Writer};
//!
//! let mut w = Writer::new();
//! w.u32(7);
//! w.bytes_u8(b"alice").unwrap();
//! let bytes = w.into_bytes();
//!
//! let mut r = Reader::new(&bytes);
//! assert_eq!(r.u32().unwrap(), 7);
//! assert_eq!(r.bytes_u8().unwrap(), b"alice");
//! r.finish().unwrap();
//! # }
//! ```

use alloc::vec::Vec;
use core::fmt;

/// Why a byte string could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before a field was complete.
    Truncated,
    /// Bytes were left over after the last field.
    TrailingBytes,
    /// A length prefix or field value is outside its allowed range.
    InvalidLength,
    /// A version or type byte has a value this release does not know.
    UnknownVersion(u8),
    /// A field holds a value that is not allowed (for example a non-UTF-8 id).
    InvalidValue,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("input truncated"),
            Self::TrailingBytes => f.write_str("trailing bytes after the last field"),
            Self::InvalidLength => f.write_str("length out of range"),
            Self::UnknownVersion(v) => write!(f, "unknown version {v}"),
            Self::InvalidValue => f.write_str("invalid field value"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// A length-prefixed field was longer than its prefix can express.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field too long for its length prefix")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TooLong {}

/// A byte string of at most 255 bytes, written as `u8(len) ‖ bytes` (`lp8`). The length is
/// checked once, when the value is built or read, and kept beside the bytes, so writing it
/// cannot fail. `B` is the storage: `Vec<u8>` (owned) or `&[u8]` (read in place).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Lp8<B> {
    // Compared and ordered by the bytes first: `len` follows from them.
    bytes: B,
    len: u8,
}

impl<B: AsRef<[u8]>> Lp8<B> {
    /// Wraps `bytes` if they are at most 255 bytes long.
    pub(crate) fn new(bytes: B) -> Result<Self, TooLong> {
        let len = u8::try_from(bytes.as_ref().len()).map_err(|_| TooLong)?;
        Ok(Self { bytes, len })
    }

    /// The bytes, without the prefix.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// The stored value.
    pub(crate) fn get(&self) -> &B {
        &self.bytes
    }

    /// The length prefix.
    pub(crate) fn len(&self) -> u8 {
        self.len
    }

    /// An owned copy.
    pub(crate) fn to_owned(&self) -> Lp8<Vec<u8>> {
        Lp8 {
            bytes: self.bytes.as_ref().to_vec(),
            len: self.len,
        }
    }
}

impl<'a> Lp8<&'a [u8]> {
    /// The bytes read in place, for as long as the input lives.
    pub(crate) fn bytes(self) -> &'a [u8] {
        self.bytes
    }
}

impl Lp8<Vec<u8>> {
    /// The bytes, by value.
    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.bytes
    }
}

/// A byte string of at most `u32::MAX` bytes, written as `u32(len) ‖ bytes` (`lp32`). Like
/// [`Lp8`], the length is checked once, when the value is built, so writing it cannot fail.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub(crate) struct Lp32<B> {
    bytes: B,
    len: u32,
}

impl<B: AsRef<[u8]>> Lp32<B> {
    /// Wraps `bytes` if they are at most `u32::MAX` bytes long.
    pub(crate) fn new(bytes: B) -> Result<Self, TooLong> {
        let len = u32::try_from(bytes.as_ref().len()).map_err(|_| TooLong)?;
        Ok(Self { bytes, len })
    }

    /// The bytes, without the prefix.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// The length prefix.
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// The stored value, by value.
    pub(crate) fn into_inner(self) -> B {
        self.bytes
    }
}

/// Appends encoded fields to a growing buffer.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self { buf: Vec::new() }
    }

    /// An empty writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends a big-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends bytes with no length prefix (fixed-size fields).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Appends `u8(len) ‖ bytes`.
    #[cfg(any(feature = "hazmat", test))]
    pub fn bytes_u8(&mut self, bytes: &[u8]) -> Result<(), TooLong> {
        let len = u8::try_from(bytes.len()).map_err(|_| TooLong)?;
        self.u8(len);
        self.raw(bytes);
        Ok(())
    }

    /// Appends `u32(len) ‖ bytes`.
    pub fn bytes_u32(&mut self, bytes: &[u8]) -> Result<(), TooLong> {
        let len = u32::try_from(bytes.len()).map_err(|_| TooLong)?;
        self.u32(len);
        self.raw(bytes);
        Ok(())
    }

    /// Appends `u8(len) ‖ bytes` for a byte string already known to fit.
    pub(crate) fn lp8<B: AsRef<[u8]>>(&mut self, value: &Lp8<B>) {
        self.u8(value.len());
        self.raw(value.as_bytes());
    }

    /// Appends `u32(len) ‖ bytes` for a byte string already known to fit.
    pub(crate) fn lp32<B: AsRef<[u8]>>(&mut self, value: &Lp32<B>) {
        self.u32(value.len());
        self.raw(value.as_bytes());
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads fields from a byte string, checking every length first.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    /// Number of bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or(DecodeError::Truncated)?;
        self.rest = tail;
        Ok(head)
    }

    /// Takes the next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Truncated)?;
        self.rest = tail;
        Ok(*head)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        self.array::<1>().map(|[b]| b)
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_be_bytes)
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_be_bytes)
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_be_bytes)
    }

    /// Reads `u8(len) ‖ bytes`.
    pub fn bytes_u8(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u8()?;
        self.take(usize::from(len))
    }

    /// Reads `u8(len) ‖ bytes`, keeping the length for writing it again.
    pub(crate) fn lp8(&mut self) -> Result<Lp8<&'a [u8]>, DecodeError> {
        let len = self.u8()?;
        let bytes = self.take(usize::from(len))?;
        Ok(Lp8 { bytes, len })
    }

    /// Reads `u32(len) ‖ bytes`.
    pub fn bytes_u32(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(self.u32()?).map_err(|_| DecodeError::InvalidLength)?;
        self.take(len)
    }

    /// Takes everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }

    /// Succeeds only if every byte has been read.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn integers_are_big_endian() {
        let mut w = Writer::new();
        w.u8(1);
        w.u16(0x0203);
        w.u32(0x0405_0607);
        w.u64(0x0809_0a0b_0c0d_0e0f);
        assert_eq!(
            w.as_bytes(),
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(0x0203));
        assert_eq!(r.u32(), Ok(0x0405_0607));
        assert_eq!(r.u64(), Ok(0x0809_0a0b_0c0d_0e0f));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn reader_rejects_truncation_and_trailing_bytes() {
        assert_eq!(Reader::new(&[0, 1, 2]).u32(), Err(DecodeError::Truncated));
        assert_eq!(
            Reader::new(&[3, b'a', b'b']).bytes_u8(),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Reader::new(&[0, 0, 0, 9, 1]).bytes_u32(),
            Err(DecodeError::Truncated)
        );
        let mut r = Reader::new(&[1, 2]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes));
    }

    #[test]
    fn length_prefix_overflow_is_an_error() {
        let mut w = Writer::new();
        assert_eq!(w.bytes_u8(&[0u8; 256]), Err(TooLong));
        assert!(w.bytes_u8(&[0u8; 255]).is_ok());
        assert_eq!(w.as_bytes().len(), 256);
    }

    #[test]
    fn lp8_values_are_checked_once_and_written_as_read() {
        assert_eq!(Lp8::new(&[0u8; 256][..]), Err(TooLong));
        let longest = Lp8::new(vec![7u8; 255]).unwrap();
        assert_eq!(longest.len(), 255);
        let mut w = Writer::new();
        w.lp8(&longest);
        w.lp8(&Lp8::new(&b""[..]).unwrap());
        let bytes = w.into_bytes();
        assert_eq!(bytes.len(), 257);
        let mut r = Reader::new(&bytes);
        assert_eq!(r.lp8().unwrap().to_owned(), longest);
        assert_eq!(r.lp8().unwrap().as_bytes(), b"");
        r.finish().unwrap();
        assert_eq!(Reader::new(&[2, 1]).lp8(), Err(DecodeError::Truncated));
        let mut w = Writer::new();
        w.lp32(&Lp32::new(&b"abc"[..]).unwrap());
        assert_eq!(w.as_bytes(), &[0, 0, 0, 3, b'a', b'b', b'c']);
        // Ordered by the bytes, as the plain byte strings are.
        assert!(Lp8::new(vec![1u8, 2]).unwrap() < Lp8::new(vec![2u8]).unwrap());
    }
}
