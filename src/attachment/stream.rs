//! The chunked stream: key schedule, header, sealer, opener, random access
//! (SPEC.md §9.1–9.3).

use alloc::vec::Vec;
use core::ops::Range;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::descriptor::{MediaType, check_chunk_size, media_type};
use super::{
    AttachmentError, Binding, BindingMode, ContentDigest, ContentHasher, FileDescriptor, FileKey,
    HEADER_LEN, KIND_ATTACHMENT,
};
use crate::aead::{AeadKey, AeadNonce, PreparedKey, TAG_LEN};
use crate::codec::{DecodeError, Reader};
use crate::kdf::Prk;
use crate::labels;

/// Version byte of the attachment header (SPEC.md §9.2).
const VERSION: u8 = 1;

/// Length of the header's salt.
pub const SALT_LEN: usize = 16;
const PREFIX_LEN: usize = 7;
const COMMITMENT_LEN: usize = 32;
/// Length of a hedged sealer's randomness (SPEC.md §9.1).
pub const HEDGE_RANDOMNESS_LEN: usize = 32;

/// Number of chunks of a file: `max(1, ceil(size / chunk_size))`.
///
/// ```
/// use letterseal::attachment::chunk_count;
///
/// assert_eq!(chunk_count(200_000, 65_536), 4);
/// assert_eq!(chunk_count(0, 65_536), 1); // an empty file is one empty chunk
/// ```
pub fn chunk_count(size: u64, chunk_size: u32) -> u64 {
    size.div_ceil(u64::from(chunk_size.max(1))).max(1)
}

/// Length of the sealed blob of a `size`-byte file: `54 + size + 16 · chunk_count`, or `None`
/// for a chunk size outside `1 ..= 2^24`, more than 2^32 chunks, or a length that does not fit
/// a `usize`.
///
/// ```
/// assert_eq!(letterseal::attachment::sealed_len(100_000, 65_536), Some(54 + 100_000 + 32));
/// assert_eq!(letterseal::attachment::sealed_len(0, 65_536), Some(54 + 16));
/// ```
pub fn sealed_len(size: u64, chunk_size: u32) -> Option<usize> {
    check_chunk_size(chunk_size).ok()?;
    let chunks = chunk_count(size, chunk_size);
    if chunks > u64::from(u32::MAX) + 1 {
        return None;
    }
    let len = (HEADER_LEN as u64)
        .checked_add(size)?
        .checked_add(chunks.checked_mul(TAG_LEN as u64)?)?;
    usize::try_from(len).ok()
}

/// The per-file keys: AEAD key (schedule done), nonce prefix, commitment.
struct StreamKeys {
    cipher: PreparedKey,
    prefix: [u8; PREFIX_LEN],
    commitment: [u8; COMMITMENT_LEN],
}

/// `u8(1) ‖ u8(4) ‖ u32(chunk size)` (on the stack: opening allocates nothing past `new`).
fn bound(chunk_size: u32) -> [u8; 6] {
    let [a, b, c, d] = chunk_size.to_be_bytes();
    [VERSION, KIND_ATTACHMENT, a, b, c, d]
}

/// `DeriveLabeled(salt, file key, "attachment", bound, 71)` → key ‖ prefix ‖ commitment.
fn derive(file_key: &FileKey, salt: &[u8; SALT_LEN], chunk_size: u32) -> StreamKeys {
    let mut okm = Zeroizing::new([0u8; 32 + PREFIX_LEN + COMMITMENT_LEN]);
    #[expect(
        clippy::let_underscore_must_use,
        reason = "Constant label, 71-byte output: cannot fail"
    )]
    let _ = Prk::extract(salt, file_key.as_bytes()).expand_labeled(
        labels::kdf::ATTACHMENT,
        &bound(chunk_size),
        okm.as_mut(),
    );
    let mut key = [0u8; 32];
    let mut prefix = [0u8; PREFIX_LEN];
    let mut commitment = [0u8; COMMITMENT_LEN];
    let (k, rest) = okm.split_at(32);
    let (p, c) = rest.split_at(PREFIX_LEN);
    key.copy_from_slice(k);
    prefix.copy_from_slice(p);
    commitment.copy_from_slice(c);
    let aead_key = AeadKey::from_bytes(key);
    key.zeroize();
    StreamKeys {
        cipher: aead_key.prepare(),
        prefix,
        commitment,
    }
}

/// SPEC.md §9.1, hedged sealing: `file key ‖ salt = DeriveLabeled(randomness, content digest,
/// "attachment hedge", bound, 48)`. Distinct contents give unrelated file keys even when the
/// randomness repeats; equal contents and randomness give the same blob.
pub fn hedged_key_and_salt(
    randomness: &[u8; HEDGE_RANDOMNESS_LEN],
    content: &ContentDigest,
    chunk_size: u32,
) -> (FileKey, [u8; SALT_LEN]) {
    let mut okm = Zeroizing::new([0u8; 32 + SALT_LEN]);
    #[expect(
        clippy::let_underscore_must_use,
        reason = "Constant label, 48-byte output: cannot fail"
    )]
    let _ = Prk::extract(randomness, content.as_bytes()).expand_labeled(
        labels::kdf::ATTACHMENT_HEDGE,
        &bound(chunk_size),
        okm.as_mut(),
    );
    let mut key = [0u8; 32];
    let mut salt = [0u8; SALT_LEN];
    let (k, s) = okm.split_at(32);
    key.copy_from_slice(k);
    salt.copy_from_slice(s);
    let file_key = FileKey::from_bytes(key);
    key.zeroize();
    (file_key, salt)
}

/// `prefix ‖ u32(index) ‖ u8(last)`.
fn nonce(prefix: &[u8; PREFIX_LEN], index: u32, last: bool) -> AeadNonce {
    let mut n = [0u8; 12];
    let (p, rest) = n.split_at_mut(PREFIX_LEN);
    let (i, l) = rest.split_at_mut(4);
    p.copy_from_slice(prefix);
    i.copy_from_slice(&index.to_be_bytes());
    l.copy_from_slice(&[u8::from(last)]);
    AeadNonce::from_bytes(n)
}

/// Parses the 54-byte header: `bound ‖ salt ‖ commitment`.
fn parse_header(
    header: &[u8],
) -> Result<(u32, [u8; SALT_LEN], [u8; COMMITMENT_LEN]), AttachmentError> {
    let mut r = Reader::new(header);
    let version = r.u8()?;
    if version != VERSION {
        return Err(AttachmentError::UnsupportedVersion(version));
    }
    if r.u8()? != KIND_ATTACHMENT {
        return Err(AttachmentError::Malformed(DecodeError::InvalidValue));
    }
    let chunk_size = r.u32()?;
    let salt = r.array()?;
    let commitment = r.array()?;
    r.finish()?;
    Ok((chunk_size, salt, commitment))
}

/// Checks a header against a descriptor's key and chunk size and derives the keys (SPEC.md §9.3).
fn keys_for(
    file_key: &FileKey,
    chunk_size: u32,
    header: &[u8],
) -> Result<StreamKeys, AttachmentError> {
    let (header_chunk_size, salt, commitment) = parse_header(header)?;
    if header_chunk_size != chunk_size {
        return Err(AttachmentError::ChunkSizeMismatch);
    }
    let keys = derive(file_key, &salt, chunk_size);
    if !bool::from(keys.commitment.ct_eq(&commitment)) {
        return Err(AttachmentError::CommitmentMismatch);
    }
    Ok(keys)
}

/// Splits `sealed` (a sealed chunk) into its body and tag; `None` if shorter than a tag.
fn split_tag(sealed: &[u8]) -> Option<(&[u8], [u8; TAG_LEN])> {
    let (body, tag) = sealed.split_last_chunk::<TAG_LEN>()?;
    Some((body, *tag))
}

/// How a sealer ends: the content digest it computes, checks or was given.
enum SealerDigest {
    /// Format 2, binding 0.
    Unbound,
    /// Computed while sealing.
    Compute(ContentHasher),
    /// Computed while sealing and checked at the end against the digest the key was hedged with.
    Check(ContentHasher, ContentDigest),
    /// Already computed by [`super::seal_into`] over the same buffer it seals.
    Known(ContentDigest),
}

/// Seals a file incrementally (SPEC.md §9.2).
///
/// Each call writes only whole sealed chunks; a full chunk is held back until more data (or
/// `finish`) shows whether it is the last. The `_into` forms write into a caller buffer and
/// allocate nothing; a buffer shorter than [`update_len`](Self::update_len) /
/// [`finish_len`](Self::finish_len) is refused with [`AttachmentError::BufferTooSmall`] and
/// left untouched.
///
/// ```
/// use letterseal::attachment::{AttachmentSealer, Binding, BindingMode, ContentHasher, sealed_len};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([22; 32]);
/// let file = vec![3u8; 100_000];
///
/// // A seekable file: hash it in a first pass, then seal hedged and content-bound.
/// let mut hasher = ContentHasher::new();
/// file.chunks(30_000).for_each(|piece| hasher.update(piece));
/// let digest = hasher.finalize();
/// let mut sealer = AttachmentSealer::new_hedged(&mut rng, &digest, 65_536, "application/pdf")?;
/// let mut blob = sealer.header().to_vec();
/// for piece in file.chunks(30_000) {
///     let mut out = vec![0u8; sealer.update_len(piece.len())]; // what this call writes
///     let n = sealer.update_into(piece, &mut out)?;
///     blob.extend_from_slice(&out[..n]);
/// }
/// let mut out = vec![0u8; sealer.finish_len()];
/// let (n, descriptor) = sealer.finish_into(&mut out)?;
/// blob.extend_from_slice(&out[..n]);
/// assert_eq!(descriptor.binding, Binding::Content(digest));
/// assert_eq!(Some(blob.len()), sealed_len(100_000, 65_536));
///
/// // A stream read once: bind the content in the same pass (not hedged).
/// let sealer = AttachmentSealer::new_with_binding(&mut rng, 65_536, "audio/ogg", BindingMode::Content)?;
/// let (_last, descriptor) = sealer.finish()?; // an empty file
/// assert!(matches!(descriptor.binding, Binding::Content(_)));
/// # Ok::<(), letterseal::attachment::AttachmentError>(())
/// ```
///
/// The [module docs](super) seal with [`new`](Self::new) and
/// [`update`](Self::update); [`update_into`](Self::update_into) streams into
/// one reused buffer.
pub struct AttachmentSealer {
    keys: StreamKeys,
    file_key: FileKey,
    header: [u8; HEADER_LEN],
    chunk_size: u32,
    media_type: MediaType,
    /// Plaintext of the held-back chunk (zeroized on drop); allocated once.
    buffer: Zeroizing<Vec<u8>>,
    index: u32,
    size: u64,
    digest: SealerDigest,
    done: bool,
}

impl core::fmt::Debug for AttachmentSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AttachmentSealer")
            .field("chunk_size", &self.chunk_size)
            .field("chunks_sealed", &self.index)
            .finish_non_exhaustive()
    }
}

impl AttachmentSealer {
    /// Starts an unbound file (the default, [`BindingMode::Unbound`]: one pass at the AEAD's
    /// speed, SPEC.md §9.4): draws the file key and salt from `rng`. Not hedged: if `rng`
    /// repeats its output (a restored VM snapshot, a fork), two different files get the same key
    /// and nonces. Use [`super::seal`], [`super::seal_into`] or
    /// [`new_hedged`](Self::new_hedged) when the content can be read twice (they are hedged and
    /// content-bound, SPEC.md §9.1), or [`new_with_binding`](Self::new_with_binding) with
    /// [`BindingMode::Content`] to bind the content in one pass.
    pub fn new<R: CryptoRng + ?Sized>(
        rng: &mut R,
        chunk_size: u32,
        media: &str,
    ) -> Result<Self, AttachmentError> {
        Self::new_with_binding(rng, chunk_size, media, BindingMode::Unbound)
    }

    /// As [`new`](Self::new), with the binding chosen by the caller. [`BindingMode::Unbound`]
    /// seals at the AEAD's speed and gives up the content binding (SPEC.md §9.4).
    pub fn new_with_binding<R: CryptoRng + ?Sized>(
        rng: &mut R,
        chunk_size: u32,
        media: &str,
        binding: BindingMode,
    ) -> Result<Self, AttachmentError> {
        let file_key = FileKey::generate(rng);
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        Self::with_key_and_binding(file_key, salt, chunk_size, media, binding)
    }

    /// Starts a hedged, content-bound file whose plaintext has the digest `content` (from a
    /// first pass over a seekable source, [`super::ContentHasher`]): the file key and salt are
    /// derived from 32 bytes of `rng` **and** `content` (SPEC.md §9.1), so a repeating `rng`
    /// never seals two different contents under one key and nonce. The plaintext fed to
    /// `update` must have exactly this digest: `finish` checks it and fails with
    /// [`AttachmentError::ContentDigestMismatch`] otherwise (everything emitted must then be
    /// discarded, and the hedge did not hold for it).
    pub fn new_hedged<R: CryptoRng + ?Sized>(
        rng: &mut R,
        content: &ContentDigest,
        chunk_size: u32,
        media: &str,
    ) -> Result<Self, AttachmentError> {
        let mut randomness = Zeroizing::new([0u8; HEDGE_RANDOMNESS_LEN]);
        rng.fill_bytes(randomness.as_mut());
        Self::new_hedged_with_randomness(&randomness, content, chunk_size, media)
    }

    /// As [`new_hedged`](Self::new_hedged) with the randomness given (for test vectors).
    pub fn new_hedged_with_randomness(
        randomness: &[u8; HEDGE_RANDOMNESS_LEN],
        content: &ContentDigest,
        chunk_size: u32,
        media: &str,
    ) -> Result<Self, AttachmentError> {
        check_chunk_size(chunk_size)?;
        let (file_key, salt) = hedged_key_and_salt(randomness, content, chunk_size);
        let mut sealer =
            Self::with_key_and_binding(file_key, salt, chunk_size, media, BindingMode::Content)?;
        sealer.digest = SealerDigest::Check(ContentHasher::new(), *content);
        Ok(sealer)
    }

    /// Starts a content-bound file with a given key and salt (for test vectors).
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg(any(feature = "hazmat", test))]
    pub fn with_key(
        file_key: FileKey,
        salt: [u8; SALT_LEN],
        chunk_size: u32,
        media: &str,
    ) -> Result<Self, AttachmentError> {
        Self::with_key_and_binding(file_key, salt, chunk_size, media, BindingMode::Content)
    }

    /// Starts a file with a given key, salt and binding (for test vectors).
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn with_key_and_binding(
        file_key: FileKey,
        salt: [u8; SALT_LEN],
        chunk_size: u32,
        media: &str,
        binding: BindingMode,
    ) -> Result<Self, AttachmentError> {
        check_chunk_size(chunk_size)?;
        let media_type = media_type(media.as_bytes())?;
        let keys = derive(&file_key, &salt, chunk_size);
        let mut header = [0u8; HEADER_LEN];
        let (b, rest) = header.split_at_mut(6);
        let (s, c) = rest.split_at_mut(SALT_LEN);
        b.copy_from_slice(&bound(chunk_size));
        s.copy_from_slice(&salt);
        c.copy_from_slice(&keys.commitment);
        let digest = match binding {
            BindingMode::Content => SealerDigest::Compute(ContentHasher::new()),
            BindingMode::Unbound => SealerDigest::Unbound,
        };
        Ok(Self {
            keys,
            file_key,
            header,
            chunk_size,
            media_type,
            buffer: Zeroizing::new(Vec::with_capacity(chunk_size as usize)),
            index: 0,
            size: 0,
            digest,
            done: false,
        })
    }

    /// Marks the content digest as already known (the one-shot sealer hashed the same buffer).
    pub(super) fn with_known_digest(mut self, content: ContentDigest) -> Self {
        self.digest = SealerDigest::Known(content);
        self
    }

    /// The 54-byte header that starts the sealed blob.
    pub fn header(&self) -> &[u8; HEADER_LEN] {
        &self.header
    }

    /// How many bytes [`update_into`](Self::update_into) writes for `data_len` more bytes of
    /// plaintext: the sealed chunks this call completes (`usize::MAX` if that overflows).
    pub fn update_len(&self, data_len: usize) -> usize {
        let cs = self.chunk_size as usize;
        let total = self.buffer.len().saturating_add(data_len);
        (total.saturating_sub(1) / cs).saturating_mul(cs + TAG_LEN)
    }

    /// How many bytes [`finish_into`](Self::finish_into) writes: the held chunk and its tag.
    pub fn finish_len(&self) -> usize {
        self.buffer.len() + TAG_LEN
    }

    /// Takes plaintext of any length; returns the sealed bytes of the chunks it
    /// completed.
    pub fn update(&mut self, data: &[u8]) -> Result<Vec<u8>, AttachmentError> {
        let mut out = alloc::vec![0u8; self.update_len(data.len())];
        let n = self.update_into(data, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// Takes plaintext of any length and writes the sealed chunks it completes to the start of
    /// `out` (at least [`update_len`](Self::update_len) bytes); returns how many bytes it wrote.
    /// Allocates nothing.
    ///
    /// A sealer streaming from a reader into one reused output buffer:
    ///
    /// ```
    /// use letterseal::attachment::{AttachmentError, AttachmentSealer, open_into};
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([21; 32]);
    /// let file = vec![9u8; 300_000];
    /// let mut sealer = AttachmentSealer::new(&mut rng, 65_536, "video/mp4").unwrap();
    /// let mut blob = sealer.header().to_vec(); // stands for the upload stream
    /// let mut out = vec![0u8; 2 * (65_536 + 16)]; // room for two sealed chunks
    ///
    /// for piece in file.chunks(100_000) {
    ///     let n = sealer.update_into(piece, &mut out).unwrap();
    ///     blob.extend_from_slice(&out[..n]);
    /// }
    /// let (n, descriptor) = sealer.finish_into(&mut out).unwrap();
    /// blob.extend_from_slice(&out[..n]);
    ///
    /// let mut opened = vec![0u8; file.len()];
    /// open_into(&descriptor, &blob, &mut opened).unwrap();
    /// assert_eq!(opened, file);
    ///
    /// // A buffer too small for what a call completes is refused and left untouched.
    /// let mut sealer = AttachmentSealer::new(&mut rng, 65_536, "video/mp4").unwrap();
    /// let mut small = vec![0u8; 1_000];
    /// assert!(matches!(
    ///     sealer.update_into(&file[..200_000], &mut small),
    ///     Err(AttachmentError::BufferTooSmall { .. })
    /// ));
    /// assert!(small.iter().all(|&b| b == 0));
    /// ```
    pub fn update_into(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize, AttachmentError> {
        if self.done {
            return Err(AttachmentError::Finished);
        }
        let needed = self.update_len(data.len());
        if out.len() < needed {
            return Err(AttachmentError::BufferTooSmall {
                needed,
                actual: out.len(),
            });
        }
        let result = self.seal_pieces(data, out);
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn seal_pieces(&mut self, mut data: &[u8], out: &mut [u8]) -> Result<usize, AttachmentError> {
        let cs = self.chunk_size as usize;
        let mut written = 0;
        while !data.is_empty() {
            if self.buffer.len() == cs {
                // More data follows: the held chunk is not the last.
                let slot = out.get_mut(written..).unwrap_or_default();
                written += self.seal_held(false, slot)?;
            }
            if self.buffer.is_empty() && data.len() > cs {
                // A full chunk with more data after it: not the last, sealed straight
                // from `data` into `out`.
                let (chunk, rest) = data
                    .split_at_checked(cs)
                    .ok_or(AttachmentError::InvalidChunk)?;
                let slot = out
                    .get_mut(written..written + cs + TAG_LEN)
                    .ok_or(AttachmentError::InvalidChunk)?;
                self.seal_chunk(chunk, false, slot)?;
                self.size = self.size.saturating_add(cs as u64);
                written += cs + TAG_LEN;
                data = rest;
                continue;
            }
            let take = (cs - self.buffer.len()).min(data.len());
            let (head, tail) = data
                .split_at_checked(take)
                .ok_or(AttachmentError::InvalidChunk)?;
            self.buffer.extend_from_slice(head);
            self.size = self.size.saturating_add(take as u64);
            data = tail;
        }
        Ok(written)
    }

    /// Seals `plain` as chunk `self.index` into `slot` (`plain.len() + 16` bytes).
    fn seal_chunk(
        &mut self,
        plain: &[u8],
        last: bool,
        slot: &mut [u8],
    ) -> Result<(), AttachmentError> {
        if !last && self.index == u32::MAX {
            // Chunk 2^32 would follow.
            return Err(AttachmentError::TooManyChunks);
        }
        match &mut self.digest {
            SealerDigest::Compute(h) | SealerDigest::Check(h, _) => h.update(plain),
            SealerDigest::Unbound | SealerDigest::Known(_) => {}
        }
        let (body, tag_slot) = slot
            .split_at_mut_checked(plain.len())
            .and_then(|(body, tag)| Some((body, <&mut [u8; TAG_LEN]>::try_from(tag).ok()?)))
            .ok_or(AttachmentError::InvalidChunk)?;
        let tag = self
            .keys
            .cipher
            .seal_detached_into(
                &nonce(&self.keys.prefix, self.index, last),
                b"",
                plain,
                body,
            )
            .map_err(|_| AttachmentError::InvalidChunk)?;
        *tag_slot = tag;
        if !last {
            self.index += 1;
        }
        Ok(())
    }

    /// Seals the held chunk into the start of `out`; returns its sealed length.
    fn seal_held(&mut self, last: bool, out: &mut [u8]) -> Result<usize, AttachmentError> {
        let n = self.buffer.len() + TAG_LEN;
        let slot = out.get_mut(..n).ok_or(AttachmentError::InvalidChunk)?;
        let held = core::mem::take(&mut self.buffer);
        let result = self.seal_chunk(&held, last, slot);
        self.buffer = held;
        self.buffer.clear();
        result.map(|()| n)
    }

    /// Seals the last chunk and returns it with the file's descriptor.
    pub fn finish(mut self) -> Result<(Vec<u8>, FileDescriptor), AttachmentError> {
        let mut out = alloc::vec![0u8; self.finish_len()];
        let (n, descriptor) = self.finish_into(&mut out)?;
        out.truncate(n);
        Ok((out, descriptor))
    }

    /// Seals the last chunk into the start of `out` (at least
    /// [`finish_len`](Self::finish_len) bytes) and returns its length and the file's
    /// descriptor. The sealer is then finished: every further call fails with
    /// [`AttachmentError::Finished`].
    pub fn finish_into(
        &mut self,
        out: &mut [u8],
    ) -> Result<(usize, FileDescriptor), AttachmentError> {
        if self.done {
            return Err(AttachmentError::Finished);
        }
        let needed = self.finish_len();
        if out.len() < needed {
            return Err(AttachmentError::BufferTooSmall {
                needed,
                actual: out.len(),
            });
        }
        self.done = true;
        let n = self.seal_held(true, out)?;
        let binding = match &self.digest {
            SealerDigest::Unbound => Binding::Unbound,
            SealerDigest::Compute(h) => Binding::Content(h.finalize()),
            SealerDigest::Known(d) => Binding::Content(*d),
            SealerDigest::Check(h, expected) => {
                let got = h.finalize();
                if got != *expected {
                    out.get_mut(..n).unwrap_or_default().zeroize();
                    return Err(AttachmentError::ContentDigestMismatch);
                }
                Binding::Content(got)
            }
        };
        let descriptor = FileDescriptor {
            file_key: self.file_key.clone(),
            size: self.size,
            chunk_size: self.chunk_size,
            binding,
            media_type: core::mem::take(&mut self.media_type),
        };
        Ok((n, descriptor))
    }
}

/// What an opener checks at the end, besides the size and the last chunk.
enum OpenerCheck {
    None,
    Content(alloc::boxed::Box<ContentHasher>, ContentDigest),
    Blob(Sha256, [u8; 32]),
}

/// Opens a sealed blob incrementally (SPEC.md §9.3), releasing plaintext only
/// for chunks that authenticated; the verdict on the whole file (size, last chunk, content
/// digest) comes from `finish`. To release nothing before that verdict, use
/// [`super::VerifiedOpener`].
///
/// The `_into` forms write into a caller buffer; the opener allocates one sealed chunk of
/// buffer when it is created and nothing per chunk.
///
/// ```
/// use letterseal::attachment::{AttachmentOpener, seal};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([23; 32]);
/// let file = vec![5u8; 100_000];
/// let (blob, descriptor) = seal(&mut rng, &file, 65_536, "image/png")?;
///
/// // Stream the download through one reused buffer.
/// let mut opener = AttachmentOpener::new(&descriptor);
/// let mut buffer = vec![0u8; 65_536];
/// let mut opened = Vec::new();
/// for piece in blob.chunks(40_000) {
///     assert!(opener.update_len(piece.len()) <= buffer.len());
///     let n = opener.update_into(piece, &mut buffer)?;
///     opened.extend_from_slice(&buffer[..n]); // authenticated chunks only
/// }
/// assert!(opener.finish_len() <= buffer.len());
/// let n = opener.finish_into(&mut buffer)?; // the last chunk, then the whole-file verdict
/// opened.extend_from_slice(&buffer[..n]);
/// assert_eq!(opened, file);
/// # Ok::<(), letterseal::attachment::AttachmentError>(())
/// ```
///
/// The [module docs](super) use [`update`](Self::update) and
/// [`finish`](Self::finish), which allocate.
pub struct AttachmentOpener {
    file_key: FileKey,
    size: u64,
    chunk_size: u32,
    check: OpenerCheck,
    keys: Option<StreamKeys>,
    /// Sealed bytes not yet processed: at most one header or one sealed chunk.
    buffer: Vec<u8>,
    index: u32,
    opened: u64,
    failed: bool,
}

impl core::fmt::Debug for AttachmentOpener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AttachmentOpener")
            .field("size", &self.size)
            .field("chunks_opened", &self.index)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl AttachmentOpener {
    /// An opener for the blob a descriptor names.
    pub fn new(descriptor: &FileDescriptor) -> Self {
        let check = match descriptor.binding {
            Binding::Unbound => OpenerCheck::None,
            Binding::Content(d) => OpenerCheck::Content(alloc::boxed::Box::default(), d),
            Binding::LegacyBlobSha256(d) => OpenerCheck::Blob(Sha256::new(), d),
        };
        Self {
            file_key: descriptor.file_key.clone(),
            size: descriptor.size,
            chunk_size: descriptor.chunk_size,
            check,
            keys: None,
            buffer: Vec::with_capacity((descriptor.chunk_size as usize + TAG_LEN).max(HEADER_LEN)),
            index: 0,
            opened: 0,
            failed: false,
        }
    }

    /// How many plaintext bytes [`update_into`](Self::update_into) releases for `data_len`
    /// more sealed bytes, if they authenticate: one chunk size per sealed chunk followed by
    /// more data (`usize::MAX` if that overflows).
    pub fn update_len(&self, data_len: usize) -> usize {
        let sealed_chunk = self.chunk_size as usize + TAG_LEN;
        let mut data_len = data_len;
        let held = if self.keys.is_some() {
            self.buffer.len()
        } else {
            let header_missing = HEADER_LEN - self.buffer.len().min(HEADER_LEN);
            if data_len <= header_missing {
                return 0;
            }
            data_len -= header_missing;
            0
        };
        let total = held.saturating_add(data_len);
        (total.saturating_sub(1) / sealed_chunk).saturating_mul(self.chunk_size as usize)
    }

    /// How many plaintext bytes [`finish_into`](Self::finish_into) releases: the held chunk's.
    pub fn finish_len(&self) -> usize {
        if self.keys.is_some() {
            self.buffer.len().saturating_sub(TAG_LEN)
        } else {
            0
        }
    }

    /// Takes sealed bytes of any length; returns the plaintext of the chunks
    /// that completed and authenticated. After an error the opener refuses
    /// everything ([`AttachmentError::Finished`]).
    pub fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
        // Sized once: a growing Vec would leave plaintext in freed memory.
        let mut out = Zeroizing::new(alloc::vec![0u8; self.update_len(data.len())]);
        let n = self.update_into(data, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// Takes sealed bytes of any length and writes the plaintext of the chunks that completed
    /// and authenticated to the start of `out` (at least [`update_len`](Self::update_len)
    /// bytes); returns how many bytes it wrote. A short `out` is refused
    /// ([`AttachmentError::BufferTooSmall`]) and left untouched, and the opener can go on. On
    /// any other error, whatever this call wrote to `out` is zeroized and the opener refuses
    /// everything from then on ([`AttachmentError::Finished`]).
    pub fn update_into(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize, AttachmentError> {
        if self.failed {
            return Err(AttachmentError::Finished);
        }
        let needed = self.update_len(data.len());
        if out.len() < needed {
            return Err(AttachmentError::BufferTooSmall {
                needed,
                actual: out.len(),
            });
        }
        let result = self.consume(data, out);
        if result.is_err() {
            self.failed = true;
            out.get_mut(..needed).unwrap_or_default().zeroize();
        }
        result
    }

    fn consume(&mut self, mut data: &[u8], out: &mut [u8]) -> Result<usize, AttachmentError> {
        let cs = self.chunk_size as usize;
        let sealed_chunk = cs + TAG_LEN;
        if self.keys.is_none() {
            let take = (HEADER_LEN - self.buffer.len().min(HEADER_LEN)).min(data.len());
            let (head, tail) = data
                .split_at_checked(take)
                .ok_or(AttachmentError::InvalidChunk)?;
            self.hash_sealed(head);
            self.buffer.extend_from_slice(head);
            data = tail;
            if self.buffer.len() < HEADER_LEN {
                return Ok(0);
            }
            self.keys = Some(keys_for(&self.file_key, self.chunk_size, &self.buffer)?);
            self.buffer.clear();
        }
        let mut written = 0;
        while !data.is_empty() {
            if self.buffer.len() == sealed_chunk {
                // More bytes follow, so the held chunk is not the last.
                let slot = out.get_mut(written..).unwrap_or_default();
                written += self.open_held(false, slot)?;
            }
            if self.buffer.is_empty() && data.len() > sealed_chunk {
                // A whole sealed chunk with more after it: open it straight
                // from `data` into `out`.
                let (chunk, rest) = data
                    .split_at_checked(sealed_chunk)
                    .ok_or(AttachmentError::InvalidChunk)?;
                self.hash_sealed(chunk);
                let slot = out.get_mut(written..).unwrap_or_default();
                written += self.open_chunk(chunk, false, slot)?;
                data = rest;
                continue;
            }
            let take = (sealed_chunk - self.buffer.len()).min(data.len());
            let (head, tail) = data
                .split_at_checked(take)
                .ok_or(AttachmentError::InvalidChunk)?;
            self.hash_sealed(head);
            self.buffer.extend_from_slice(head);
            data = tail;
        }
        Ok(written)
    }

    /// Format 1 only: the blob digest covers the sealed bytes.
    fn hash_sealed(&mut self, bytes: &[u8]) {
        if let OpenerCheck::Blob(h, _) = &mut self.check {
            h.update(bytes);
        }
    }

    fn open_held(&mut self, last: bool, out: &mut [u8]) -> Result<usize, AttachmentError> {
        // The buffer only ever holds ciphertext: plaintext is written to `out`.
        let held = core::mem::take(&mut self.buffer);
        let result = self.open_chunk(&held, last, out);
        self.buffer = held;
        self.buffer.clear();
        result
    }

    /// Opens one sealed chunk into the start of `out`, only if it authenticates; returns its
    /// plaintext length.
    fn open_chunk(
        &mut self,
        sealed: &[u8],
        last: bool,
        out: &mut [u8],
    ) -> Result<usize, AttachmentError> {
        let keys = self.keys.as_ref().ok_or(AttachmentError::Truncated)?;
        let index = self.index;
        let (body, tag) = split_tag(sealed).ok_or(AttachmentError::Truncated)?;
        let available = out.len();
        let slot = out
            .get_mut(..body.len())
            .ok_or(AttachmentError::BufferTooSmall {
                needed: body.len(),
                actual: available,
            })?;
        keys.cipher
            .open_detached_into(&nonce(&keys.prefix, index, last), b"", body, &tag, slot)
            .map_err(|_| AttachmentError::ChunkAuthenticationFailed { index })?;
        self.opened = self.opened.saturating_add(body.len() as u64);
        if self.opened > self.size {
            return Err(AttachmentError::TooLong);
        }
        if let OpenerCheck::Content(h, _) = &mut self.check {
            h.update(slot);
        }
        if !last {
            self.index = index.checked_add(1).ok_or(AttachmentError::TooManyChunks)?;
        }
        Ok(body.len())
    }

    /// Ends the stream: opens the held chunk as the last one, then checks the
    /// size and the binding (content digest, or a format-1 blob digest) against the descriptor.
    pub fn finish(mut self) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
        let mut out = Zeroizing::new(alloc::vec![0u8; self.finish_len()]);
        let n = self.finish_into(&mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// As [`finish`](Self::finish), writing the last chunk's plaintext to the start of `out`
    /// (at least [`finish_len`](Self::finish_len) bytes); returns its length. A short `out` is
    /// refused and left untouched. On any other error, what this call wrote is zeroized. The
    /// opener is then finished: every further call fails with [`AttachmentError::Finished`].
    pub fn finish_into(&mut self, out: &mut [u8]) -> Result<usize, AttachmentError> {
        if self.failed {
            return Err(AttachmentError::Finished);
        }
        let needed = self.finish_len();
        if out.len() < needed {
            return Err(AttachmentError::BufferTooSmall {
                needed,
                actual: out.len(),
            });
        }
        self.failed = true;
        let result = self.verdict(out);
        if result.is_err() {
            out.get_mut(..needed).unwrap_or_default().zeroize();
        }
        result
    }

    fn verdict(&mut self, out: &mut [u8]) -> Result<usize, AttachmentError> {
        // A missing header or a last chunk shorter than a tag is `Truncated` (from `open_chunk`).
        let n = self.open_held(true, out)?;
        let expected_chunks = chunk_count(self.size, self.chunk_size);
        if self.opened != self.size || u64::from(self.index) + 1 != expected_chunks {
            return Err(AttachmentError::SizeMismatch);
        }
        let bound = match &self.check {
            OpenerCheck::None => true,
            OpenerCheck::Content(h, expected) => h.finalize() == *expected,
            OpenerCheck::Blob(h, expected) => {
                let digest: [u8; 32] = h.clone().finalize().into();
                bool::from(digest.ct_eq(expected))
            }
        };
        if !bound {
            return Err(AttachmentError::DigestMismatch);
        }
        Ok(n)
    }
}

/// Opens a whole blob into a caller buffer of exactly the file's size and releases nothing
/// until the whole file has verified (SPEC.md §9.3): every chunk, the size, the last chunk
/// and the content digest. The buffer is borrowed until [`finish`](Self::finish) returns it;
/// on any error, or if the opener is dropped before a successful `finish`, the buffer is
/// zeroized. The sealed blob can arrive in pieces of any size.
///
/// ```
/// use letterseal::attachment::{VerifiedOpener, seal};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
/// let (blob, descriptor) = seal(&mut rng, b"a photo", 65_536, "image/jpeg").unwrap();
/// let mut photo = [0u8; 7];
/// let mut opener = VerifiedOpener::new(&descriptor, &mut photo).unwrap();
/// for piece in blob.chunks(10) {
///     opener.update(piece).unwrap();
/// }
/// assert_eq!(opener.finish().unwrap(), b"a photo");
/// ```
pub struct VerifiedOpener<'a> {
    opener: AttachmentOpener,
    out: Option<&'a mut [u8]>,
    written: usize,
}

impl core::fmt::Debug for VerifiedOpener<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifiedOpener")
            .field("opener", &self.opener)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl<'a> VerifiedOpener<'a> {
    /// An opener writing into `out`, which must be exactly `descriptor.size` bytes
    /// ([`AttachmentError::BufferLength`] otherwise, `out` untouched).
    pub fn new(descriptor: &FileDescriptor, out: &'a mut [u8]) -> Result<Self, AttachmentError> {
        if u64::try_from(out.len()).ok() != Some(descriptor.size) {
            return Err(AttachmentError::BufferLength {
                expected: usize::try_from(descriptor.size).unwrap_or(usize::MAX),
                actual: out.len(),
            });
        }
        Ok(Self {
            opener: AttachmentOpener::new(descriptor),
            out: Some(out),
            written: 0,
        })
    }

    /// Takes sealed bytes of any length. On error the buffer is zeroized and every further
    /// call fails with [`AttachmentError::Finished`].
    pub fn update(&mut self, data: &[u8]) -> Result<(), AttachmentError> {
        let Some(out) = self.out.as_deref_mut() else {
            return Err(AttachmentError::Finished);
        };
        let rest = out.get_mut(self.written..).unwrap_or_default();
        let result = if self.opener.update_len(data.len()) > rest.len() {
            // More chunks than the descriptor's size allows: this fails, with the streaming
            // opener's verdict (each chunk authenticates before it counts towards `TooLong`),
            // found through its allocating form. Only malformed input gets here.
            self.opener.update(data).and(Err(AttachmentError::TooLong))
        } else {
            self.opener.update_into(data, rest)
        };
        match result {
            Ok(n) => {
                self.written += n;
                Ok(())
            }
            Err(e) => {
                out.zeroize();
                self.out = None;
                Err(e)
            }
        }
    }

    /// Ends the stream and returns the buffer, now holding the verified plaintext. On error
    /// the buffer is zeroized.
    pub fn finish(mut self) -> Result<&'a mut [u8], AttachmentError> {
        let Some(out) = self.out.take() else {
            return Err(AttachmentError::Finished);
        };
        let rest = out.get_mut(self.written..).unwrap_or_default();
        let result = if self.opener.finish_len() > rest.len() {
            // As in `update`: the streaming opener's verdict, into a scratch buffer.
            let mut scratch = Zeroizing::new(alloc::vec![0u8; self.opener.finish_len()]);
            self.opener
                .finish_into(&mut scratch)
                .and(Err(AttachmentError::TooLong))
        } else {
            self.opener.finish_into(rest)
        };
        match result {
            Ok(_) => Ok(out),
            Err(e) => {
                out.zeroize();
                Err(e)
            }
        }
    }
}

impl Drop for VerifiedOpener<'_> {
    fn drop(&mut self) {
        if let Some(out) = self.out.take() {
            out.zeroize();
        }
    }
}

/// Opens single chunks of a sealed blob, for seeking (SPEC.md §9.3). Random access checks each
/// chunk, not the whole file: the content digest is only checked by a full open.
///
/// ```
/// use letterseal::attachment::{HEADER_LEN, RandomAccess, seal};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([24; 32]);
/// let file: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
/// let (blob, descriptor) = seal(&mut rng, &file, 65_536, "video/mp4")?;
///
/// let access = RandomAccess::new(&descriptor, &blob[..HEADER_LEN])?;
/// assert_eq!(access.chunk_count(), 4);
/// assert_eq!(access.chunk_plaintext_len(3), Some(200_000 - 3 * 65_536));
/// // Seek to chunk 1: fetch only its byte range of the blob.
/// let range = access.chunk_range(1).unwrap();
/// let chunk = access.open_chunk(1, &blob[range.clone()])?;
/// assert_eq!(chunk.as_slice(), &file[65_536..131_072]);
/// // Into a caller buffer of exactly its length, or in place.
/// let mut out = vec![0u8; access.chunk_plaintext_len(1).unwrap()];
/// access.open_chunk_into(1, &blob[range.clone()], &mut out)?;
/// let mut sealed = blob[range].to_vec();
/// assert_eq!(access.open_chunk_in_place(1, &mut sealed)?, &out[..]);
/// # Ok::<(), letterseal::attachment::AttachmentError>(())
/// ```
pub struct RandomAccess {
    keys: StreamKeys,
    size: u64,
    chunk_size: u32,
    chunks: u64,
}

impl core::fmt::Debug for RandomAccess {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RandomAccess")
            .field("size", &self.size)
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

impl RandomAccess {
    /// Checks the 54-byte header against the descriptor (chunk size, key commitment).
    pub fn new(descriptor: &FileDescriptor, header: &[u8]) -> Result<Self, AttachmentError> {
        let keys = keys_for(&descriptor.file_key, descriptor.chunk_size, header)?;
        let chunks = chunk_count(descriptor.size, descriptor.chunk_size);
        if chunks > u64::from(u32::MAX) + 1 {
            return Err(AttachmentError::TooManyChunks);
        }
        Ok(Self {
            keys,
            size: descriptor.size,
            chunk_size: descriptor.chunk_size,
            chunks,
        })
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> u64 {
        self.chunks
    }

    /// Plaintext length of chunk `index`, or `None` past the end.
    pub fn chunk_plaintext_len(&self, index: u32) -> Option<usize> {
        let i = u64::from(index);
        if i >= self.chunks {
            return None;
        }
        let cs = u64::from(self.chunk_size);
        let plain = if i + 1 == self.chunks {
            self.size - i * cs
        } else {
            cs
        };
        usize::try_from(plain).ok()
    }

    /// Where sealed chunk `index` lies in the blob, or `None` past the end.
    pub fn chunk_range(&self, index: u32) -> Option<Range<usize>> {
        let plain = self.chunk_plaintext_len(index)?;
        let cs = u64::from(self.chunk_size);
        let start = HEADER_LEN as u64 + u64::from(index) * (cs + TAG_LEN as u64);
        let start = usize::try_from(start).ok()?;
        let len = plain.checked_add(TAG_LEN)?;
        Some(start..start.checked_add(len)?)
    }

    /// The sealed chunk at `index` split into body and tag, after the index and length checks.
    fn checked<'s>(
        &self,
        index: u32,
        sealed: &'s [u8],
    ) -> Result<(&'s [u8], [u8; TAG_LEN], bool), AttachmentError> {
        let range = self
            .chunk_range(index)
            .ok_or(AttachmentError::InvalidChunk)?;
        if sealed.len() != range.len() {
            return Err(AttachmentError::InvalidChunk);
        }
        let (body, tag) = split_tag(sealed).ok_or(AttachmentError::InvalidChunk)?;
        Ok((body, tag, u64::from(index) + 1 == self.chunks))
    }

    /// Opens sealed chunk `index` alone; the last chunk is recognised from the
    /// descriptor's size.
    pub fn open_chunk(
        &self,
        index: u32,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
        let (body, _, _) = self.checked(index, sealed)?;
        let mut plain = Zeroizing::new(alloc::vec![0u8; body.len()]);
        self.open_chunk_into(index, sealed, &mut plain)?;
        Ok(plain)
    }

    /// Opens sealed chunk `index` into `out`, which must be exactly
    /// [`chunk_plaintext_len`](Self::chunk_plaintext_len) bytes. An invalid index or chunk
    /// length is [`AttachmentError::InvalidChunk`] and a wrong `out` length
    /// [`AttachmentError::BufferLength`], both leaving `out` untouched; a chunk that does not
    /// authenticate leaves no plaintext in `out` (untouched by the default AEAD backend,
    /// zeroized by `ring`).
    pub fn open_chunk_into(
        &self,
        index: u32,
        sealed: &[u8],
        out: &mut [u8],
    ) -> Result<(), AttachmentError> {
        let (body, tag, last) = self.checked(index, sealed)?;
        if out.len() != body.len() {
            return Err(AttachmentError::BufferLength {
                expected: body.len(),
                actual: out.len(),
            });
        }
        self.keys
            .cipher
            .open_detached_into(&nonce(&self.keys.prefix, index, last), b"", body, &tag, out)
            .map_err(|_| AttachmentError::ChunkAuthenticationFailed { index })
    }

    /// Opens sealed chunk `index` in place: `sealed` holds the sealed chunk (body and tag);
    /// on success the returned prefix holds its plaintext. An invalid index or length is
    /// refused with `sealed` untouched; on an authentication failure `sealed` is zeroized.
    pub fn open_chunk_in_place<'s>(
        &self,
        index: u32,
        sealed: &'s mut [u8],
    ) -> Result<&'s mut [u8], AttachmentError> {
        let (body, tag, last) = self.checked(index, sealed)?;
        let body_len = body.len();
        let (body, tail) = sealed
            .split_at_mut_checked(body_len)
            .ok_or(AttachmentError::InvalidChunk)?;
        let result = self.keys.cipher.open_in_place_detached(
            &nonce(&self.keys.prefix, index, last),
            b"",
            body,
            &tag,
        );
        if result.is_err() {
            tail.zeroize();
            return Err(AttachmentError::ChunkAuthenticationFailed { index });
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sender that ends a full file with an extra empty last chunk (which an
    /// honest sealer never does) is refused, as random access would refuse it.
    #[test]
    fn extra_empty_last_chunk_is_refused() {
        let file_key = FileKey::from_bytes([3; 32]);
        let salt = [4u8; SALT_LEN];
        let sealer = AttachmentSealer::with_key(file_key.clone(), salt, 16, "x").unwrap();
        let keys = derive(&file_key, &salt, 16);
        let mut blob = sealer.header().to_vec();
        let mut chunk0 = [7u8; 16];
        let tag0 =
            keys.cipher
                .seal_in_place_detached(&nonce(&keys.prefix, 0, false), b"", &mut chunk0);
        blob.extend_from_slice(&chunk0);
        blob.extend_from_slice(&tag0);
        let tag1 = keys
            .cipher
            .seal_in_place_detached(&nonce(&keys.prefix, 1, true), b"", &mut []);
        blob.extend_from_slice(&tag1);
        let descriptor = FileDescriptor {
            file_key,
            size: 16,
            chunk_size: 16,
            binding: Binding::Content(ContentDigest::of(&[7u8; 16])),
            media_type: MediaType::new("x").unwrap(),
        };
        let mut opener = AttachmentOpener::new(&descriptor);
        assert_eq!(opener.update(&blob).unwrap().as_slice(), &[7u8; 16]);
        assert_eq!(opener.finish().unwrap_err(), AttachmentError::SizeMismatch);
    }

    /// The opener's output is allocated once, at its final size: a Vec that grew would
    /// have left copies of plaintext in freed memory. (Three chunks, not a power of two,
    /// so doubling growth could not land on the same capacity.)
    #[test]
    fn opener_output_is_sized_once() {
        let chunk = 1024usize;
        let mut sealer = AttachmentSealer::with_key(
            FileKey::from_bytes([5; 32]),
            [6; SALT_LEN],
            chunk as u32,
            "x",
        )
        .unwrap();
        let mut blob = sealer.header().to_vec();
        blob.extend(sealer.update(&alloc::vec![9u8; 3 * chunk + 10]).unwrap());
        let (tail, descriptor) = sealer.finish().unwrap();
        blob.extend(tail);
        let mut opener = AttachmentOpener::new(&descriptor);
        // Header and three full chunks and part of the fourth: three chunks open.
        let first = HEADER_LEN + 3 * (chunk + TAG_LEN) + 5;
        let out = opener.update(blob.get(..first).unwrap()).unwrap();
        assert_eq!(out.len(), 3 * chunk);
        assert_eq!(out.capacity(), out.len());
        let rest = opener.update(blob.get(first..).unwrap()).unwrap();
        assert!(rest.is_empty());
        assert_eq!(opener.finish().unwrap().as_slice(), &[9u8; 10]);
    }

    /// Every (AEAD key, nonce) pair a sealing used, from the derived stream keys.
    fn key_nonce_pairs(descriptor: &FileDescriptor, header: &[u8]) -> Vec<([u8; 32], [u8; 12])> {
        let (_, salt, _) = parse_header(header).unwrap();
        let mut okm = [0u8; 71];
        Prk::extract(&salt, descriptor.file_key.as_bytes())
            .expand_labeled(
                labels::kdf::ATTACHMENT,
                &bound(descriptor.chunk_size),
                &mut okm,
            )
            .unwrap();
        let key: [u8; 32] = okm[..32].try_into().unwrap();
        let prefix: [u8; PREFIX_LEN] = okm[32..39].try_into().unwrap();
        let n = chunk_count(descriptor.size, descriptor.chunk_size);
        (0..n)
            .map(|i| (key, *nonce(&prefix, i as u32, i + 1 == n).as_bytes()))
            .collect()
    }

    /// An RNG that replays one fixed output: a restored VM snapshot or a fork.
    struct StuckRng;
    impl rand_core::TryRng for StuckRng {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0x5eed_5eed)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0x5eed_5eed_5eed_5eed)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(0x5e);
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for StuckRng {}

    /// SPEC.md §9.1 hedging: with the RNG replayed, different plaintexts never share a
    /// (key, nonce) pair; the same plaintext twice gives the same blob (equality only).
    #[test]
    fn hedged_sealing_survives_a_replayed_rng() {
        let plaintexts: [&[u8]; 5] = [
            b"",
            b"attack at dawn",
            b"attack at dusk",
            &[0u8; 100],
            &[0u8; 101],
        ];
        let mut seen = alloc::collections::BTreeMap::new();
        let mut blobs = Vec::new();
        for (i, p) in plaintexts.iter().enumerate() {
            let (blob, d) = super::super::seal(&mut StuckRng, p, 16, "x").unwrap();
            for pair in key_nonce_pairs(&d, &blob[..HEADER_LEN]) {
                if let Some(j) = seen.insert(pair, i) {
                    assert_eq!(j, i, "plaintexts {j} and {i} share a key and nonce");
                }
            }
            let (again, d2) = super::super::seal(&mut StuckRng, p, 16, "x").unwrap();
            assert_eq!((&blob, &d), (&again, &d2), "same plaintext, same blob");
            blobs.push(blob);
        }
        // And through the streaming hedged sealer.
        for p in plaintexts {
            let mut s = AttachmentSealer::new_hedged(&mut StuckRng, &ContentDigest::of(p), 16, "x")
                .unwrap();
            let mut blob = s.header().to_vec();
            blob.extend(s.update(p).unwrap());
            let (last, _) = s.finish().unwrap();
            blob.extend(last);
            assert!(blobs.contains(&blob));
        }
        // The residual case (SPEC.md §9.1): the one-pass sealer without a content digest
        // reuses the key and nonces for different contents under a replayed RNG.
        let streamed = |p: &[u8]| {
            let mut s = AttachmentSealer::new(&mut StuckRng, 16, "x").unwrap();
            let header = s.header().to_vec();
            s.update(p).unwrap();
            let (_, d) = s.finish().unwrap();
            key_nonce_pairs(&d, &header)
        };
        assert_eq!(streamed(b"attack at dawn"), streamed(b"attack at dusk"));
    }

    #[test]
    fn hedged_sealer_refuses_other_content() {
        let mut rng = StuckRng;
        let mut s =
            AttachmentSealer::new_hedged(&mut rng, &ContentDigest::of(b"one"), 16, "x").unwrap();
        s.update(b"two").unwrap();
        let mut out = [0xa5u8; 19];
        assert_eq!(
            s.finish_into(&mut out).unwrap_err(),
            AttachmentError::ContentDigestMismatch
        );
        assert_eq!(out, [0u8; 19]);
        assert_eq!(
            s.finish_into(&mut out).unwrap_err(),
            AttachmentError::Finished
        );
    }
}
