//! The file key, the content digest and the file descriptor (SPEC.md §9.1, §9.4).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{AttachmentError, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
use crate::codec::{DecodeError, Lp8, Reader, Writer};
use crate::labels;

/// Longest media type in bytes.
pub const MAX_MEDIA_TYPE_LEN: usize = 255;
// A media type is written with a `u8` length prefix (`Lp8`), which holds exactly this much.
const _: () = assert!(MAX_MEDIA_TYPE_LEN == u8::MAX as usize);
/// Version byte of the current descriptor format (SPEC.md §9.4).
pub const DESCRIPTOR_VERSION: u8 = 2;
/// Version byte of the first descriptor format (SHA-256 of the blob), still opened.
pub const LEGACY_DESCRIPTOR_VERSION: u8 = 1;

/// A random 32-byte key for one attachment. Zeroized on drop; no secret in
/// `Debug`; compared in constant time.
///
/// The sealers draw it themselves and return it in the [`FileDescriptor`];
/// making one directly is for tools and test vectors.
///
/// ```
/// use letterseal::attachment::FileKey;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([16; 32]);
/// let key = FileKey::generate(&mut rng);
/// assert_eq!(key.clone(), key); // compared in constant time
/// assert_ne!(FileKey::generate(&mut rng), key);
/// assert_eq!(format!("{key:?}"), "FileKey(<secret>)"); // never printed
/// ```
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
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key.
    ///
    /// Public with the `hazmat` feature only: the key travels inside the encoded descriptor.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKey(<secret>)")
    }
}

/// The content digest of an attachment: BLAKE3 in key-derivation mode with the context
/// `"letterseal/LS3/v1 attachment content"`, over the plaintext (SPEC.md §9.4). It binds a
/// descriptor to one plaintext (a sender cannot make two plaintexts match it), and a hedged
/// sealer mixes it into the file key (SPEC.md §9.1). Compared in constant time.
///
/// ```
/// use letterseal::attachment::ContentDigest;
///
/// let digest = ContentDigest::of(b"the whole plaintext");
/// assert_eq!(ContentDigest::from_bytes(*digest.as_bytes()), digest);
/// assert_ne!(ContentDigest::of(b"another plaintext"), digest);
/// ```
///
/// [`ContentHasher`] computes it piece by piece; the walkthrough in the
/// [module docs](super) checks a received descriptor's [`Binding`] with it.
#[derive(Clone, Copy)]
pub struct ContentDigest([u8; 32]);

impl ContentDigest {
    /// The digest of a whole plaintext.
    pub fn of(plaintext: &[u8]) -> Self {
        let mut h = ContentHasher::new();
        h.update(plaintext);
        h.finalize()
    }

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for ContentDigest {
    fn eq(&self, other: &Self) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]))
    }
}

impl Eq for ContentDigest {}

impl fmt::Debug for ContentDigest {
    // A digest of secret content: not printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentDigest(<secret>)")
    }
}

/// Computes a [`ContentDigest`] incrementally, e.g. in a first pass over a seekable file
/// before [`super::AttachmentSealer::new_hedged`].
///
/// ```
/// use letterseal::attachment::{ContentDigest, ContentHasher};
/// let mut h = ContentHasher::new();
/// h.update(b"hello ");
/// h.update(b"world");
/// assert_eq!(h.finalize(), ContentDigest::of(b"hello world"));
/// ```
#[derive(Clone)]
pub struct ContentHasher(blake3::Hasher);

impl ContentHasher {
    /// An empty hasher.
    pub fn new() -> Self {
        Self(blake3::Hasher::new_derive_key(
            labels::ATTACHMENT_CONTENT_CONTEXT,
        ))
    }

    /// Absorbs more plaintext.
    pub fn update(&mut self, plaintext: &[u8]) {
        self.0.update(plaintext);
    }

    /// The digest of everything absorbed.
    pub fn finalize(&self) -> ContentDigest {
        ContentDigest(*self.0.finalize().as_bytes())
    }
}

impl Default for ContentHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ContentHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentHasher(<secret>)")
    }
}

/// What binds a descriptor to the content it describes (SPEC.md §9.4). See
/// the walkthrough in the [module docs](super) and the example on
/// [`AttachmentSealer`](super::AttachmentSealer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// Format 2, binding 0: nothing beyond the key-committing stream. Anyone who does not hold
    /// the file key cannot change the blob undetected, but the sender can give different
    /// recipients different content under one descriptor.
    Unbound,
    /// Format 2, binding 1: the [`ContentDigest`] of the plaintext, checked by the opener at
    /// the end (the default).
    Content(ContentDigest),
    /// Format 1 (before this release): SHA-256 of the whole sealed blob. Opened for
    /// compatibility, never produced by a sealer.
    LegacyBlobSha256([u8; 32]),
}

/// What a streaming sealer binds its descriptor with (SPEC.md §9.4). The hedged whole-file
/// forms always bind the content (they hash it anyway). See the example on
/// [`AttachmentSealer`](super::AttachmentSealer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BindingMode {
    /// The content digest (BLAKE3 over the plaintext, computed while sealing): every recipient
    /// who completes a full open gets the same content; costs a BLAKE3 pass (about 0.7× the
    /// AEAD's speed, `benches/README.md`).
    Content,
    /// No binding (the default for streaming): one pass at the AEAD's speed; the sender could
    /// show different recipients different content under one descriptor ([`Binding::Unbound`]).
    #[default]
    Unbound,
}

/// What a recipient needs to fetch and open an attachment: sent as the
/// content of an LS3 `FileReference` message (SPEC.md §9.4). See the
/// walkthrough in the [module docs](super).
///
/// ```
/// use letterseal::attachment::{FileDescriptor, seal};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([17; 32]);
/// let (blob, descriptor) = seal(&mut rng, b"minutes of the meeting", 65_536, "text/plain")?;
/// let content = descriptor.encode(); // the message content
/// let received = FileDescriptor::decode(&content)?;
/// assert_eq!(received, descriptor);
/// assert_eq!((received.size, received.chunk_size), (22, 65_536));
/// # Ok::<(), letterseal::attachment::AttachmentError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FileDescriptor {
    /// The file key.
    pub file_key: FileKey,
    /// Plaintext size in bytes.
    pub size: u64,
    /// Chunk size in bytes.
    pub chunk_size: u32,
    /// What binds the descriptor to the content (format 2), or the blob digest (format 1).
    pub binding: Binding,
    /// The media type (printable ASCII, at most 255 bytes), e.g. `image/jpeg`.
    pub media_type: MediaType,
}

impl fmt::Debug for FileDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let binding = match self.binding {
            Binding::Unbound => "unbound",
            Binding::Content(_) => "content digest",
            Binding::LegacyBlobSha256(_) => "format 1 blob SHA-256",
        };
        f.debug_struct("FileDescriptor")
            .field("size", &self.size)
            .field("chunk_size", &self.chunk_size)
            .field("binding", &binding)
            .field("media_type", &self.media_type)
            .finish_non_exhaustive()
    }
}

impl FileDescriptor {
    /// Format 2: `u8(2) ‖ file key ‖ u64(size) ‖ u32(chunk size) ‖ u8(binding) ‖
    /// [content digest if binding = 1] ‖ lp8(media type)`; a format-1 descriptor (decoded from
    /// an old message) re-encodes as format 1, `u8(1) ‖ file key ‖ u64(size) ‖ u32(chunk size)
    /// ‖ SHA-256(blob) ‖ lp8(media type)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(82 + self.media_type.as_str().len());
        let version = match self.binding {
            Binding::LegacyBlobSha256(_) => LEGACY_DESCRIPTOR_VERSION,
            _ => DESCRIPTOR_VERSION,
        };
        w.u8(version);
        w.raw(&self.file_key.0);
        w.u64(self.size);
        w.u32(self.chunk_size);
        match &self.binding {
            Binding::Unbound => w.u8(0),
            Binding::Content(d) => {
                w.u8(1);
                w.raw(&d.0);
            }
            Binding::LegacyBlobSha256(d) => w.raw(d),
        }
        w.lp8(&self.media_type.0);
        w.into_bytes()
    }

    /// Strict decoding of both formats.
    pub fn decode(bytes: &[u8]) -> Result<Self, AttachmentError> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version != DESCRIPTOR_VERSION && version != LEGACY_DESCRIPTOR_VERSION {
            return Err(AttachmentError::UnsupportedVersion(version));
        }
        let file_key = FileKey(r.array()?);
        let size = r.u64()?;
        let chunk_size = r.u32()?;
        let binding = if version == LEGACY_DESCRIPTOR_VERSION {
            Binding::LegacyBlobSha256(r.array()?)
        } else {
            match r.u8()? {
                0 => Binding::Unbound,
                1 => Binding::Content(ContentDigest(r.array()?)),
                _ => return Err(AttachmentError::Malformed(DecodeError::InvalidValue)),
            }
        };
        let media_type = media_type(r.bytes_u8()?)?;
        r.finish()?;
        check_chunk_size(chunk_size)?;
        Ok(Self {
            file_key,
            size,
            chunk_size,
            binding,
            media_type,
        })
    }
}

/// Media types are printable ASCII (no controls), at most 255 bytes.
pub(super) fn media_type(bytes: &[u8]) -> Result<MediaType, AttachmentError> {
    if !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(AttachmentError::Malformed(DecodeError::InvalidValue));
    }
    String::from_utf8(bytes.to_vec())
        .ok()
        .and_then(|text| Lp8::new(text).ok())
        .map(MediaType)
        .ok_or(AttachmentError::Malformed(DecodeError::InvalidValue))
}

/// A file's media type, e.g. `image/jpeg`: printable ASCII, at most [`MAX_MEDIA_TYPE_LEN`]
/// bytes, checked when it is built (so every [`FileDescriptor`] encodes).
///
/// ```
/// use letterseal::attachment::MediaType;
///
/// let jpeg = MediaType::new("image/jpeg").unwrap();
/// assert_eq!(jpeg.as_str(), "image/jpeg");
/// assert!(MediaType::new("bad\ntype").is_err());
/// assert!(MediaType::new(&"x".repeat(256)).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct MediaType(Lp8<String>);

impl MediaType {
    /// Checks `media_type` (printable ASCII, at most [`MAX_MEDIA_TYPE_LEN`] bytes); otherwise
    /// [`AttachmentError::Malformed`].
    pub fn new(media_type: &str) -> Result<Self, AttachmentError> {
        self::media_type(media_type.as_bytes())
    }

    /// The media type.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl fmt::Debug for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for MediaType {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MediaType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

pub(super) fn check_chunk_size(chunk_size: u32) -> Result<(), AttachmentError> {
    if (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        Ok(())
    } else {
        Err(AttachmentError::InvalidChunkSize)
    }
}
