//! LS3 attachments (SPEC.md §9): streaming, key-committing, random-access file
//! sealing in the style of the STREAM construction.
//!
//! A file is sealed under a 32-byte file key in fixed-size chunks, each AES-256-GCM with a
//! nonce made of a per-file prefix, the chunk index and a last-chunk flag, so truncation,
//! extension, reordering, duplication and swapping chunks between files are all detected. A
//! 54-byte header commits to the key. The [`FileDescriptor`] — file key, size, chunk size,
//! binding, media type — travels inside an LS3 message of content type
//! [`crate::pairwise::ContentType::FileReference`].
//!
//! **Binding** (SPEC.md §9.4). By default the descriptor carries the [`ContentDigest`] of the
//! plaintext (BLAKE3), checked at the end of every full open: the sender cannot give different
//! recipients different content under one descriptor. [`BindingMode::Unbound`] drops it and
//! runs at the AEAD's own speed; it keeps integrity against everyone but the sender.
//!
//! **Hedging** (SPEC.md §9.1). [`seal`], [`seal_into`] and [`AttachmentSealer::new_hedged`]
//! derive the file key from the RNG's output *and* the content digest, so an RNG that repeats
//! (VM snapshot, fork) never seals two different contents under one key and nonce. The
//! one-pass [`AttachmentSealer::new`] cannot (it emits chunks before it has seen the rest).
//!
//! Both directions are incremental and I/O-free: feed pieces of any size, get sealed bytes
//! (or authenticated plaintext) back as chunks complete; memory use is one chunk, whatever the
//! file size. The `_into` forms write into caller buffers and allocate nothing per chunk;
//! [`VerifiedOpener`] and [`open_into`] release no plaintext before the whole file verified.
//!
//! # Walkthrough: sending a file to a user
//!
//! The sender seals the file ([`seal`]: hedged, content-bound), uploads the
//! blob wherever files go, and sends the encoded [`FileDescriptor`] to the
//! user as an LS3 message of content type `FileReference`. The receiver's
//! [`Account::receive`](crate::account::Account::receive) returns it; it
//! decodes the descriptor, downloads the blob and opens it ([`open_into`]).
//!
//! ```
//! # use letterseal::account::{Account, Event, Relay};
//! # use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! # use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([14; 32]);
//! # let now = Timestamp::from_unix_seconds(1_800_000_000);
//! # let mut relay = Relay::new();
//! # let (alice_id, bob_id) = (UserId::new("alice")?, UserId::new("bob")?);
//! # let phone = DeviceAddress::new(alice_id.clone(), DeviceId::new(1));
//! # let bob_phone = DeviceAddress::new(bob_id.clone(), DeviceId::new(1));
//! # let mut alice = Account::create_primary(&mut rng, now, phone.clone());
//! # let mut bob = Account::create_primary(&mut rng, now, bob_phone.clone());
//! # for u in alice.uploads(&mut rng, now)? { relay.upload(now, &phone, &u)?; }
//! # for u in bob.uploads(&mut rng, now)? { relay.upload(now, &bob_phone, &u)?; }
//! # for e in relay.fetch_user(&bob_id) { alice.receive(now, &e)?; }
//! # for e in relay.fetch_user(&alice_id) { bob.receive(now, &e)?; }
//! use letterseal::attachment::{Binding, ContentDigest, FileDescriptor, open_into, seal};
//! use letterseal::pairwise::ContentType;
//!
//! // alice: seal the photo, store `blob`, send the descriptor to bob.
//! let photo = vec![0x42u8; 150_000];
//! let (blob, descriptor) = seal(&mut rng, &photo, 65_536, "image/jpeg")?;
//! let content = descriptor.encode();
//! let out = alice.seal_to_user(&mut rng, now, &bob_id, ContentType::FileReference, &content)?;
//!
//! // bob: the message carries the descriptor; the blob comes from the file store.
//! let event = bob.receive(now, &out[0].envelope)?;
//! let Event::Message { content_type: ContentType::FileReference, plaintext, .. } = event else {
//!     panic!("expected a file reference");
//! };
//! let descriptor = FileDescriptor::decode(&plaintext)?;
//! assert_eq!(descriptor.media_type, "image/jpeg");
//! assert_eq!(descriptor.binding, Binding::Content(ContentDigest::of(&photo)));
//! let mut opened = vec![0u8; usize::try_from(descriptor.size)?];
//! open_into(&descriptor, &blob, &mut opened)?; // nothing released before the verdict
//! assert_eq!(opened, photo);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Streaming, in pieces of any size, and random access:
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
//! // Receiver: open in pieces; plaintext only for authenticated chunks, the verdict on the
//! // whole file (size, last chunk, content digest) from `finish`.
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
//!
//! A whole buffer, hedged, into caller buffers:
//!
//! ```
//! use letterseal::attachment::{open_into, seal_into, sealed_len};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([6; 32]);
//! let photo = vec![0x42u8; 200_000];
//! let mut blob = vec![0u8; sealed_len(200_000, 65_536).unwrap()];
//! let descriptor = seal_into(&mut rng, &photo, 65_536, "image/jpeg", &mut blob).unwrap();
//! let mut opened = vec![0u8; 200_000];
//! open_into(&descriptor, &blob, &mut opened).unwrap(); // nothing released before the verdict
//! assert_eq!(opened, photo);
//! ```

mod descriptor;
mod stream;

use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

pub use descriptor::{
    Binding, BindingMode, ContentDigest, ContentHasher, DESCRIPTOR_VERSION, FileDescriptor,
    FileKey, LEGACY_DESCRIPTOR_VERSION, MAX_MEDIA_TYPE_LEN, MediaType,
};
pub use stream::{
    AttachmentOpener, AttachmentSealer, HEDGE_RANDOMNESS_LEN, RandomAccess, SALT_LEN,
    VerifiedOpener, chunk_count, hedged_key_and_salt, sealed_len,
};

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

/// Seals a whole plaintext, hedged and content-bound (SPEC.md §9.1): one BLAKE3 pass for the
/// content digest, then the stream. Returns the sealed blob and its descriptor.
///
/// The whole flow: the sender uploads the blob wherever files go and sends the descriptor
/// (file key, size, digest) inside an LS3 message of content type `FileReference`; the
/// receiver opens the message, decodes the descriptor, fetches the blob and opens it.
///
/// ```
/// use letterseal::attachment::{AttachmentError, FileDescriptor, open_into, seal};
/// use letterseal::device::DeviceKeys;
/// use letterseal::ids::{DeviceAddress, DeviceId, UserId};
/// use letterseal::pairwise::{ContentType, Session};
/// use letterseal::registration::{NoDirectory, RegistrationPolicy};
/// use letterseal::time::Timestamp;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([13; 32]);
/// # let now = Timestamp::from_unix_seconds(1_800_000_000);
/// # let policy = RegistrationPolicy::default();
/// # let mut alice = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1)));
/// # let mut bob = DeviceKeys::generate(&mut rng, DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(1)));
/// # let alice_bundle = alice.add_sealing_key(&mut rng, now, 86_400).verify(&alice.address().clone().into(), &policy, now, None, &NoDirectory).unwrap();
/// # let bob_bundle = bob.add_sealing_key(&mut rng, now, 86_400).verify(&bob.address().clone().into(), &policy, now, None, &NoDirectory).unwrap();
/// # let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
/// # let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
/// let photo = vec![7u8; 150_000];
///
/// // Sender: seal the file, upload `blob`, send the descriptor end to end.
/// let (blob, descriptor) = seal(&mut rng, &photo, 65_536, "image/jpeg").unwrap();
/// let message = at_alice
///     .seal(&alice, &mut rng, now, ContentType::FileReference, &descriptor.encode(), b"chat-1")
///     .unwrap();
///
/// // Receiver: the message gives the descriptor; the blob comes from the file store.
/// let opened = at_bob.open(&mut bob, now, &message, b"chat-1").unwrap();
/// assert_eq!(opened.content_type, ContentType::FileReference);
/// let descriptor = FileDescriptor::decode(&opened.plaintext).unwrap();
/// assert_eq!(descriptor.media_type, "image/jpeg");
/// let mut out = vec![0u8; usize::try_from(descriptor.size).unwrap()];
/// open_into(&descriptor, &blob, &mut out).unwrap();
/// assert_eq!(out, photo);
///
/// // A blob changed in storage is refused, and `out` holds no plaintext.
/// let mut changed = blob.clone();
/// changed[100] ^= 1;
/// let mut out = vec![0u8; photo.len()];
/// let refused = open_into(&descriptor, &changed, &mut out);
/// assert!(matches!(refused, Err(AttachmentError::ChunkAuthenticationFailed { .. })));
/// assert!(out.iter().all(|&b| b == 0));
/// ```
pub fn seal<R: CryptoRng + ?Sized>(
    rng: &mut R,
    plaintext: &[u8],
    chunk_size: u32,
    media: &str,
) -> Result<(Vec<u8>, FileDescriptor), AttachmentError> {
    let len = sealed_len(plaintext.len() as u64, chunk_size).ok_or_else(|| {
        if descriptor::check_chunk_size(chunk_size).is_err() {
            AttachmentError::InvalidChunkSize
        } else {
            AttachmentError::TooManyChunks
        }
    })?;
    let mut blob = alloc::vec![0u8; len];
    let descriptor = seal_into(rng, plaintext, chunk_size, media, &mut blob)?;
    Ok((blob, descriptor))
}

/// As [`seal`], into `out`, which must be exactly [`sealed_len`] bytes
/// ([`AttachmentError::BufferLength`] otherwise, `out` untouched). Allocates nothing but the
/// sealer's one-chunk buffer.
pub fn seal_into<R: CryptoRng + ?Sized>(
    rng: &mut R,
    plaintext: &[u8],
    chunk_size: u32,
    media: &str,
    out: &mut [u8],
) -> Result<FileDescriptor, AttachmentError> {
    descriptor::check_chunk_size(chunk_size)?;
    let expected =
        sealed_len(plaintext.len() as u64, chunk_size).ok_or(AttachmentError::TooManyChunks)?;
    if out.len() != expected {
        return Err(AttachmentError::BufferLength {
            expected,
            actual: out.len(),
        });
    }
    let content = ContentDigest::of(plaintext);
    let mut sealer =
        AttachmentSealer::new_hedged(rng, &content, chunk_size, media)?.with_known_digest(content);
    let (header, body) = out.split_at_mut(HEADER_LEN);
    header.copy_from_slice(sealer.header());
    let n = sealer.update_into(plaintext, body)?;
    let rest = body.get_mut(n..).ok_or(AttachmentError::InvalidChunk)?;
    let (_, descriptor) = sealer.finish_into(rest)?;
    Ok(descriptor)
}

/// Opens a whole blob into `out` (exactly `descriptor.size` bytes), releasing nothing until
/// the whole file has verified; on any error `out` holds no plaintext (see [`VerifiedOpener`]).
pub fn open_into(
    descriptor: &FileDescriptor,
    blob: &[u8],
    out: &mut [u8],
) -> Result<(), AttachmentError> {
    let mut opener = VerifiedOpener::new(descriptor, out)?;
    opener.update(blob)?;
    opener.finish().map(|_| ())
}

/// Why an attachment could not be sealed or opened.
///
/// ```
/// use letterseal::attachment::{AttachmentError, FileDescriptor, seal};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([15; 32]);
/// let err = seal(&mut rng, b"file", 0, "text/plain").unwrap_err();
/// assert_eq!((err, err.name()), (AttachmentError::InvalidChunkSize, "InvalidChunkSize"));
/// assert!(matches!(FileDescriptor::decode(&[2, 0]), Err(AttachmentError::Malformed(_))));
/// assert_eq!(FileDescriptor::decode(&[9]).unwrap_err(), AttachmentError::UnsupportedVersion(9));
/// ```
///
/// The examples on [`seal`] and [`AttachmentSealer::update_into`] show
/// refusals of a changed blob and of a short buffer.
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
    /// The content digest (or a format-1 descriptor's blob SHA-256) differs from the
    /// descriptor's.
    DigestMismatch,
    /// A hedged sealer was fed content whose digest differs from the one it was created with.
    ContentDigestMismatch,
    /// A caller buffer that must have an exact length has another; it was left untouched.
    BufferLength {
        /// The length it must have.
        expected: usize,
        /// The length it has.
        actual: usize,
    },
    /// A caller buffer is shorter than the output of this call; it was left untouched.
    BufferTooSmall {
        /// The bytes this call writes.
        needed: usize,
        /// The buffer's length.
        actual: usize,
    },
    /// More than 2^32 chunks.
    TooManyChunks,
    /// A chunk index outside the file, or a chunk of the wrong length.
    InvalidChunk,
    /// The opener or sealer already failed or finished.
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
            Self::ContentDigestMismatch => "ContentDigestMismatch",
            Self::BufferLength { .. } => "BufferLength",
            Self::BufferTooSmall { .. } => "BufferTooSmall",
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
            Self::DigestMismatch => f.write_str("content digest differs from the descriptor"),
            Self::ContentDigestMismatch => {
                f.write_str("content differs from the digest the sealer was hedged with")
            }
            Self::BufferLength { expected, actual } => {
                write!(f, "buffer of {actual} bytes, expected exactly {expected}")
            }
            Self::BufferTooSmall { needed, actual } => {
                write!(f, "buffer of {actual} bytes, needs at least {needed}")
            }
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
