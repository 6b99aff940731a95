//! The chunked stream: key schedule, header, sealer, opener, random access
//! (SPEC.md §9.2–9.3).

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::descriptor::{check_chunk_size, media_type};
use super::{AttachmentError, FileDescriptor, FileKey, HEADER_LEN, KIND_ATTACHMENT};
use crate::aead::{AeadKey, AeadNonce, PreparedKey, TAG_LEN};
use crate::codec::{DecodeError, Reader, Writer};
use crate::kdf::Prk;
use crate::labels;
use crate::pairwise::VERSION;

const SALT_LEN: usize = 16;
const PREFIX_LEN: usize = 7;
const COMMITMENT_LEN: usize = 32;

/// Number of chunks of a file: `max(1, ceil(size / chunk_size))`.
pub fn chunk_count(size: u64, chunk_size: u32) -> u64 {
    size.div_ceil(u64::from(chunk_size.max(1))).max(1)
}

/// The per-file keys: AEAD key (schedule done), nonce prefix, commitment.
struct StreamKeys {
    cipher: PreparedKey,
    prefix: [u8; PREFIX_LEN],
    commitment: [u8; COMMITMENT_LEN],
}

/// `u8(1) ‖ u8(4) ‖ u32(chunk size)`.
fn bound(chunk_size: u32) -> [u8; 6] {
    let mut w = Writer::with_capacity(6);
    w.u8(VERSION);
    w.u8(KIND_ATTACHMENT);
    w.u32(chunk_size);
    let mut out = [0u8; 6];
    out.copy_from_slice(w.as_bytes());
    out
}

/// `DeriveLabeled(salt, file key, "attachment", bound, 71)` → key ‖ prefix ‖ commitment.
fn derive(file_key: &FileKey, salt: &[u8; SALT_LEN], chunk_size: u32) -> StreamKeys {
    let mut okm = Zeroizing::new([0u8; 32 + PREFIX_LEN + COMMITMENT_LEN]);
    // Constant label, 71-byte output: cannot fail.
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
    zeroize::Zeroize::zeroize(&mut key);
    StreamKeys {
        cipher: aead_key.prepare(),
        prefix,
        commitment,
    }
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

/// Checks a header against a descriptor and derives the keys (SPEC.md §9.3).
fn keys_for(descriptor: &FileDescriptor, header: &[u8]) -> Result<StreamKeys, AttachmentError> {
    let (chunk_size, salt, commitment) = parse_header(header)?;
    if chunk_size != descriptor.chunk_size {
        return Err(AttachmentError::ChunkSizeMismatch);
    }
    let keys = derive(&descriptor.file_key, &salt, chunk_size);
    if !bool::from(keys.commitment.ct_eq(&commitment)) {
        return Err(AttachmentError::CommitmentMismatch);
    }
    Ok(keys)
}

/// Seals a file incrementally (SPEC.md §9.2).
pub struct AttachmentSealer {
    keys: StreamKeys,
    file_key: FileKey,
    header: [u8; HEADER_LEN],
    chunk_size: u32,
    media_type: String,
    /// Plaintext of the chunk being filled (zeroized on drop).
    buffer: Zeroizing<Vec<u8>>,
    index: u32,
    size: u64,
    digest: Sha256,
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
    /// Starts a file: draws the file key and salt from `rng`.
    pub fn new<R: CryptoRng + ?Sized>(
        rng: &mut R,
        chunk_size: u32,
        media: &str,
    ) -> Result<Self, AttachmentError> {
        let file_key = FileKey::generate(rng);
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        Self::with_key(file_key, salt, chunk_size, media)
    }

    /// Starts a file with a given key and salt (for test vectors).
    pub fn with_key(
        file_key: FileKey,
        salt: [u8; SALT_LEN],
        chunk_size: u32,
        media: &str,
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
        let mut digest = Sha256::new();
        digest.update(header);
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
        })
    }

    /// The 54-byte header that starts the sealed blob.
    pub fn header(&self) -> &[u8; HEADER_LEN] {
        &self.header
    }

    /// Takes plaintext of any length; returns the sealed bytes of the chunks it
    /// completed. A full chunk is held back until more data (or `finish`)
    /// shows whether it is the last.
    pub fn update(&mut self, mut data: &[u8]) -> Result<Vec<u8>, AttachmentError> {
        let cs = self.chunk_size as usize;
        let full_chunks = (self.buffer.len() + data.len()) / cs;
        let mut out = Vec::with_capacity(full_chunks * (cs + TAG_LEN));
        while !data.is_empty() {
            if self.buffer.len() == cs {
                self.seal_buffer(false, &mut out)?;
            }
            if self.buffer.is_empty() && data.len() > cs {
                // A full chunk with more data after it: not the last, seal it
                // straight from `data` into `out` (one copy instead of two).
                let (chunk, rest) = data.split_at(cs);
                self.seal_direct(chunk, &mut out)?;
                self.size = self.size.saturating_add(cs as u64);
                data = rest;
                continue;
            }
            let take = (cs - self.buffer.len()).min(data.len());
            let (head, tail) = data.split_at(take);
            self.buffer.extend_from_slice(head);
            self.size = self.size.saturating_add(take as u64);
            data = tail;
        }
        Ok(out)
    }

    fn seal_direct(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), AttachmentError> {
        let n = nonce(&self.keys.prefix, self.index, false);
        let start = out.len();
        out.extend_from_slice(plain);
        let tag = self.keys.cipher.seal_in_place_detached(
            &n,
            b"",
            out.get_mut(start..).unwrap_or_default(),
        );
        out.extend_from_slice(&tag);
        self.digest.update(out.get(start..).unwrap_or_default());
        self.index = self
            .index
            .checked_add(1)
            .ok_or(AttachmentError::TooManyChunks)?;
        Ok(())
    }

    fn seal_buffer(&mut self, last: bool, out: &mut Vec<u8>) -> Result<(), AttachmentError> {
        let n = nonce(&self.keys.prefix, self.index, last);
        let tag = self
            .keys
            .cipher
            .seal_in_place_detached(&n, b"", &mut self.buffer);
        let start = out.len();
        out.extend_from_slice(&self.buffer);
        out.extend_from_slice(&tag);
        self.digest.update(out.get(start..).unwrap_or_default());
        self.buffer.clear();
        if !last {
            self.index = self
                .index
                .checked_add(1)
                .ok_or(AttachmentError::TooManyChunks)?;
        }
        Ok(())
    }

    /// Seals the last chunk and returns it with the file's descriptor.
    pub fn finish(mut self) -> Result<(Vec<u8>, FileDescriptor), AttachmentError> {
        let mut out = Vec::with_capacity(self.buffer.len() + TAG_LEN);
        self.seal_buffer(true, &mut out)?;
        let descriptor = FileDescriptor {
            file_key: self.file_key.clone(),
            size: self.size,
            chunk_size: self.chunk_size,
            digest: self.digest.clone().finalize().into(),
            media_type: core::mem::take(&mut self.media_type),
        };
        Ok((out, descriptor))
    }
}

/// Opens a sealed blob incrementally (SPEC.md §9.3), releasing plaintext only
/// for chunks that authenticated.
pub struct AttachmentOpener {
    file_key: FileKey,
    size: u64,
    chunk_size: u32,
    digest: [u8; 32],
    keys: Option<StreamKeys>,
    /// Sealed bytes not yet processed: at most one header or one sealed chunk.
    buffer: Vec<u8>,
    index: u32,
    opened: u64,
    hasher: Sha256,
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
        Self {
            file_key: descriptor.file_key.clone(),
            size: descriptor.size,
            chunk_size: descriptor.chunk_size,
            digest: descriptor.digest,
            keys: None,
            buffer: Vec::with_capacity(descriptor.chunk_size as usize + TAG_LEN),
            index: 0,
            opened: 0,
            hasher: Sha256::new(),
            failed: false,
        }
    }

    /// Takes sealed bytes of any length; returns the plaintext of the chunks
    /// that completed and authenticated. After an error the opener refuses
    /// everything ([`AttachmentError::Finished`]).
    pub fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
        if self.failed {
            return Err(AttachmentError::Finished);
        }
        let result = self.consume(data);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn consume(&mut self, mut data: &[u8]) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
        let cs = self.chunk_size as usize;
        let sealed_chunk = cs + TAG_LEN;
        if self.keys.is_none() {
            let take = (HEADER_LEN - self.buffer.len()).min(data.len());
            let (head, tail) = data.split_at(take);
            self.hasher.update(head);
            self.buffer.extend_from_slice(head);
            data = tail;
            if self.buffer.len() < HEADER_LEN {
                return Ok(Zeroizing::new(Vec::new()));
            }
            let descriptor_view = self.view();
            self.keys = Some(keys_for(&descriptor_view, &self.buffer)?);
            self.buffer.clear();
        }
        // Sized up front: a growing Vec would leave plaintext in freed memory.
        let chunks = (self.buffer.len() + data.len()) / sealed_chunk;
        let mut out = Zeroizing::new(Vec::with_capacity(chunks * cs));
        while !data.is_empty() {
            if self.buffer.len() == sealed_chunk {
                // More bytes follow, so the held chunk is not the last.
                self.open_buffer(false, &mut out)?;
            }
            if self.buffer.is_empty() && data.len() > sealed_chunk {
                // A whole sealed chunk with more after it: open it straight
                // from `data` into `out`, hashing it while it is hot.
                let (chunk, rest) = data.split_at(sealed_chunk);
                self.hasher.update(chunk);
                self.open_into(chunk, false, &mut out)?;
                data = rest;
                continue;
            }
            let take = (sealed_chunk - self.buffer.len()).min(data.len());
            let (head, tail) = data.split_at(take);
            self.hasher.update(head);
            self.buffer.extend_from_slice(head);
            data = tail;
        }
        Ok(out)
    }

    /// The descriptor fields the header is checked against.
    fn view(&self) -> FileDescriptor {
        FileDescriptor {
            file_key: self.file_key.clone(),
            size: self.size,
            chunk_size: self.chunk_size,
            digest: self.digest,
            media_type: String::new(),
        }
    }

    fn open_buffer(&mut self, last: bool, out: &mut Vec<u8>) -> Result<(), AttachmentError> {
        // The buffer only ever holds ciphertext: plaintext is written to `out`.
        let buffer = core::mem::take(&mut self.buffer);
        let result = self.open_into(&buffer, last, out);
        self.buffer = buffer;
        self.buffer.clear();
        result
    }

    /// Opens one sealed chunk, appending its plaintext to `out` only if it authenticates.
    fn open_into(
        &mut self,
        sealed: &[u8],
        last: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), AttachmentError> {
        let keys = self.keys.as_ref().ok_or(AttachmentError::Truncated)?;
        let index = self.index;
        let split = sealed
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(AttachmentError::Truncated)?;
        let (body, tag) = sealed.split_at(split);
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| AttachmentError::Truncated)?;
        let start = out.len();
        out.extend_from_slice(body);
        if keys
            .cipher
            .open_in_place_detached(
                &nonce(&keys.prefix, index, last),
                b"",
                out.get_mut(start..).unwrap_or_default(),
                &tag,
            )
            .is_err()
        {
            // Zeroized by the AEAD on failure (it is ciphertext anyway).
            out.truncate(start);
            return Err(AttachmentError::ChunkAuthenticationFailed { index });
        }
        self.opened = self.opened.saturating_add(body.len() as u64);
        if self.opened > self.size {
            return Err(AttachmentError::TooLong);
        }
        if !last {
            self.index = index.checked_add(1).ok_or(AttachmentError::TooManyChunks)?;
        }
        Ok(())
    }

    /// Ends the stream: opens the held chunk as the last one, then checks the
    /// size and the blob's digest against the descriptor.
    pub fn finish(mut self) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
        if self.failed {
            return Err(AttachmentError::Finished);
        }
        // A missing header or a last chunk shorter than a tag is `Truncated` (from `open_into`).
        let mut out = Zeroizing::new(Vec::new());
        self.open_buffer(true, &mut out)?;
        let expected_chunks = chunk_count(self.size, self.chunk_size);
        if self.opened != self.size || u64::from(self.index) + 1 != expected_chunks {
            return Err(AttachmentError::SizeMismatch);
        }
        let digest: [u8; 32] = self.hasher.clone().finalize().into();
        if !bool::from(digest.ct_eq(&self.digest)) {
            return Err(AttachmentError::DigestMismatch);
        }
        Ok(out)
    }
}

/// Opens single chunks of a sealed blob, for seeking (SPEC.md §9.3).
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
        let keys = keys_for(descriptor, header)?;
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

    /// Where sealed chunk `index` lies in the blob, or `None` past the end.
    pub fn chunk_range(&self, index: u32) -> Option<Range<usize>> {
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
        let start = HEADER_LEN as u64 + i * (cs + TAG_LEN as u64);
        let start = usize::try_from(start).ok()?;
        let len = usize::try_from(plain + TAG_LEN as u64).ok()?;
        Some(start..start.checked_add(len)?)
    }

    /// Opens sealed chunk `index` alone; the last chunk is recognised from the
    /// descriptor's size.
    pub fn open_chunk(
        &self,
        index: u32,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
        let range = self
            .chunk_range(index)
            .ok_or(AttachmentError::InvalidChunk)?;
        if sealed.len() != range.len() {
            return Err(AttachmentError::InvalidChunk);
        }
        let last = u64::from(index) + 1 == self.chunks;
        let (body, tag) = sealed.split_at(sealed.len() - TAG_LEN);
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| AttachmentError::InvalidChunk)?;
        let mut plain = Zeroizing::new(body.to_vec());
        self.keys
            .cipher
            .open_in_place_detached(
                &nonce(&self.keys.prefix, index, last),
                b"",
                &mut plain,
                &tag,
            )
            .map_err(|_| AttachmentError::ChunkAuthenticationFailed { index })?;
        Ok(plain)
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
            digest: Sha256::digest(&blob).into(),
            media_type: "x".into(),
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
}
