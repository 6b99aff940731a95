//! LS3 attachments (SPEC.md §9): streaming, key-committing, random-access file
//! sealing in the style of the STREAM construction.
//!
//! A file is sealed under a fresh random 32-byte file key in fixed-size chunks,
//! each AES-256-GCM with a nonce made of a per-file prefix, the chunk index and
//! a last-chunk flag, so truncation, extension, reordering, duplication and
//! swapping chunks between files are all detected. A 54-byte header commits to
//! the key. The [`FileDescriptor`] — file key, size, chunk size, SHA-256 of the
//! sealed blob, media type — travels inside an LS3 message of content type
//! [`crate::pairwise::ContentType::FileReference`].
//!
//! Both directions are incremental and I/O-free: feed pieces of any size, get
//! sealed bytes (or authenticated plaintext) back as chunks complete; memory
//! use is one chunk, whatever the file size.
//!
//! ```
//! use letterseal::attachment::{AttachmentOpener, AttachmentSealer, FileDescriptor, RandomAccess};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
//! let photo = vec![0x42u8; 200_000];
//!
//! // Sender: seal in pieces of any size.
//! let mut sealer = AttachmentSealer::new(&mut rng, 65_536, "image/jpeg").unwrap();
//! let mut blob = sealer.header().to_vec();
//! for piece in photo.chunks(10_000) {
//!     blob.extend(sealer.update(piece).unwrap());
//! }
//! let (last, descriptor) = sealer.finish().unwrap();
//! blob.extend(last);
//! let message_content = descriptor.encode(); // send inside an LS3 FileReference message
//!
//! // Receiver: open in pieces; plaintext only for authenticated chunks.
//! let descriptor = FileDescriptor::decode(&message_content).unwrap();
//! let mut opener = AttachmentOpener::new(&descriptor);
//! let mut out = Vec::new();
//! for piece in blob.chunks(7_777) {
//!     out.extend_from_slice(&opener.update(piece).unwrap());
//! }
//! out.extend_from_slice(&opener.finish().unwrap());
//! assert_eq!(out, photo);
//!
//! // Random access: chunk 2 alone (for seeking).
//! let access = RandomAccess::new(&descriptor, &blob[..54]).unwrap();
//! let range = access.chunk_range(2).unwrap();
//! let chunk = access.open_chunk(2, &blob[range]).unwrap();
//! assert_eq!(chunk.as_slice(), &photo[2 * 65_536..3 * 65_536]);
//! ```

mod descriptor;
mod stream;

use core::fmt;

pub use descriptor::{FileDescriptor, FileKey, MAX_MEDIA_TYPE_LEN};
pub use stream::{AttachmentOpener, AttachmentSealer, RandomAccess, chunk_count};

use crate::codec::DecodeError;

/// Message kind byte of attachment headers.
pub const KIND_ATTACHMENT: u8 = 4;
/// Length of the attachment header.
pub const HEADER_LEN: usize = 1 + 1 + 4 + 16 + 32;
/// The default chunk size: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// Smallest allowed chunk size.
pub const MIN_CHUNK_SIZE: u32 = 1;
/// Largest allowed chunk size (16 MiB).
pub const MAX_CHUNK_SIZE: u32 = 1 << 24;

/// Why an attachment could not be sealed or opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachmentError {
    /// A header or descriptor is not well formed.
    Malformed(DecodeError),
    /// An LS3 version this release does not know.
    UnsupportedVersion(u8),
    /// The chunk size is outside `MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE`.
    InvalidChunkSize,
    /// The header's chunk size differs from the descriptor's.
    ChunkSizeMismatch,
    /// The header's key commitment does not match the file key.
    CommitmentMismatch,
    /// Chunk `index` did not authenticate (tampered, reordered, swapped, or
    /// not the last chunk although the stream ended, or the reverse).
    ChunkAuthenticationFailed {
        /// The chunk's index.
        index: u32,
    },
    /// The stream ended before its last chunk.
    Truncated,
    /// More data than the descriptor's size.
    TooLong,
    /// The plaintext size differs from the descriptor's.
    SizeMismatch,
    /// The sealed blob's SHA-256 differs from the descriptor's digest.
    DigestMismatch,
    /// More than 2^32 chunks.
    TooManyChunks,
    /// A chunk index outside the file, or a chunk of the wrong length.
    InvalidChunk,
    /// The opener already failed or finished.
    Finished,
}

impl AttachmentError {
    /// The variant's name, as used in test-vector files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "Malformed",
            Self::UnsupportedVersion(_) => "UnsupportedVersion",
            Self::InvalidChunkSize => "InvalidChunkSize",
            Self::ChunkSizeMismatch => "ChunkSizeMismatch",
            Self::CommitmentMismatch => "CommitmentMismatch",
            Self::ChunkAuthenticationFailed { .. } => "ChunkAuthenticationFailed",
            Self::Truncated => "Truncated",
            Self::TooLong => "TooLong",
            Self::SizeMismatch => "SizeMismatch",
            Self::DigestMismatch => "DigestMismatch",
            Self::TooManyChunks => "TooManyChunks",
            Self::InvalidChunk => "InvalidChunk",
            Self::Finished => "Finished",
        }
    }
}

impl From<DecodeError> for AttachmentError {
    fn from(e: DecodeError) -> Self {
        Self::Malformed(e)
    }
}

impl fmt::Display for AttachmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed attachment data: {e}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported version {v}"),
            Self::ChunkAuthenticationFailed { index } => {
                write!(f, "chunk {index} did not authenticate")
            }
            Self::InvalidChunkSize => f.write_str("chunk size out of range"),
            Self::ChunkSizeMismatch => f.write_str("header chunk size differs from the descriptor"),
            Self::CommitmentMismatch => f.write_str("header does not commit to the file key"),
            Self::Truncated => f.write_str("stream ended before its last chunk"),
            Self::TooLong => f.write_str("more data than the descriptor's size"),
            Self::SizeMismatch => f.write_str("size differs from the descriptor"),
            Self::DigestMismatch => f.write_str("blob digest differs from the descriptor"),
            Self::TooManyChunks => f.write_str("more than 2^32 chunks"),
            Self::InvalidChunk => f.write_str("chunk index or length out of range"),
            Self::Finished => f.write_str("opener already failed or finished"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AttachmentError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_the_specified_ones() {
        // SPEC.md §9.2: default chunk size 65536, allowed 1 ..= 2^24; 54-byte header.
        assert_eq!(DEFAULT_CHUNK_SIZE, 65_536);
        assert_eq!((MIN_CHUNK_SIZE, MAX_CHUNK_SIZE), (1, 16_777_216));
        assert_eq!(HEADER_LEN, 54);
    }
}
