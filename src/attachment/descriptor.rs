//! The file key and the file descriptor (SPEC.md §9.1, §9.4).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{AttachmentError, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
use crate::codec::{DecodeError, Reader, Writer};
use crate::pairwise::VERSION;

/// Longest media type in bytes.
pub const MAX_MEDIA_TYPE_LEN: usize = 255;

/// A random 32-byte key for one attachment. Zeroized on drop; no secret in
/// `Debug`; compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FileKey([u8; 32]);

impl PartialEq for FileKey {
    fn eq(&self, other: &Self) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]))
    }
}

impl Eq for FileKey {}

impl FileKey {
    /// Draws a fresh key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        Self(key)
    }

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKey(<secret>)")
    }
}

/// What a recipient needs to fetch and open an attachment: sent as the
/// content of an LS3 `FileReference` message (SPEC.md §9.4).
#[derive(Clone, PartialEq, Eq)]
pub struct FileDescriptor {
    /// The file key.
    pub file_key: FileKey,
    /// Plaintext size in bytes.
    pub size: u64,
    /// Chunk size in bytes.
    pub chunk_size: u32,
    /// SHA-256 of the whole sealed blob (header and chunks).
    pub digest: [u8; 32],
    /// The media type (ASCII, at most 255 bytes), e.g. `image/jpeg`.
    pub media_type: String,
}

impl fmt::Debug for FileDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileDescriptor")
            .field("size", &self.size)
            .field("chunk_size", &self.chunk_size)
            .field("media_type", &self.media_type)
            .finish_non_exhaustive()
    }
}

impl FileDescriptor {
    /// `u8(1) ‖ file key ‖ u64(size) ‖ u32(chunk size) ‖ digest ‖ lp8(media type)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(80 + self.media_type.len());
        w.u8(VERSION);
        w.raw(&self.file_key.0);
        w.u64(self.size);
        w.u32(self.chunk_size);
        w.raw(&self.digest);
        // The media type is checked to fit when the descriptor is built or decoded.
        let _ = w.bytes_u8(self.media_type.as_bytes());
        w.into_bytes()
    }

    /// Strict decoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, AttachmentError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != VERSION {
            return Err(AttachmentError::UnsupportedVersion(version));
        }
        let file_key = FileKey(r.array()?);
        let size = r.u64()?;
        let chunk_size = r.u32()?;
        let digest = r.array()?;
        let media_type = media_type(r.bytes_u8()?)?;
        r.finish()?;
        check_chunk_size(chunk_size)?;
        Ok(Self {
            file_key,
            size,
            chunk_size,
            digest,
            media_type,
        })
    }
}

/// Media types are printable ASCII (no controls), at most 255 bytes.
pub(super) fn media_type(bytes: &[u8]) -> Result<String, AttachmentError> {
    if bytes.len() > MAX_MEDIA_TYPE_LEN || !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(AttachmentError::Malformed(DecodeError::InvalidValue));
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| AttachmentError::Malformed(DecodeError::InvalidValue))
}

pub(super) fn check_chunk_size(chunk_size: u32) -> Result<(), AttachmentError> {
    if (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        Ok(())
    } else {
        Err(AttachmentError::InvalidChunkSize)
    }
}
