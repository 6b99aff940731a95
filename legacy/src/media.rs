//! Legacy media encryption, 2023+ (SPEC.md §11.5).
//!
//! ```text
//! KM = 32 random bytes
//! encKey ‖ macKey ‖ nonce = HKDF-SHA256(IKM = KM, salt = none, info = "FileEncryption", L = 76)
//! C    = AES-256-CTR(encKey, initial counter block = nonce ‖ 00000000)
//! blob = C ‖ HMAC-SHA256(macKey, C)
//! ```
//!
//! `KM` travels base64-encoded in the `keyMaterial` field of a v2 message
//! ([`payload`](super::payload)). The counter is the low 32 bits of the block
//! (`Ctr32BE`), so `C` holds at most 2^32 − 1 blocks ([`MAX_CIPHERTEXT_LEN`],
//! just under 64 GiB; more is [`LegacyError::TooLong`]).
//!
//! **Whole buffers**: [`seal_media`] and [`open_media`] (which checks the HMAC
//! in constant time before decrypting).
//!
//! **Streams, in constant memory** (SPEC.md §11.5). The API is I/O-free: the
//! caller feeds bytes in pieces of any size.
//!
//! - Sealing, one pass: [`MediaSealer::encrypt_in_place`] on each piece of
//!   the file, then [`MediaSealer::finish`] gives the 32-byte HMAC to append.
//! - Opening, two passes over a seekable source, because the one HMAC covers
//!   the whole of `C`: **pass 1**, [`MediaVerifier`], reads the whole blob
//!   (holding back its last 32 bytes as the candidate HMAC) and releases
//!   nothing; its [`finish`](MediaVerifier::finish) is the verdict, and only
//!   a [`VerifiedMedia`] lets **pass 2** decrypt: a [`MediaDecryptor`] over
//!   the first [`ciphertext_len`](VerifiedMedia::ciphertext_len) bytes again,
//!   or [`VerifiedMedia::decrypt_at`] for any range (CTR allows random
//!   access). Pass 2 is sound only if the source gives the same bytes as in
//!   pass 1 (a local file, not a second download). To check that too, use
//!   [`VerifiedMedia::checked_decryptor`]: it recomputes the HMAC and its
//!   `finish` fails with [`LegacyError::DecryptionFailed`] if the bytes
//!   differed — after they were released, so the caller must then discard
//!   its output.
//!
//! Framing errors: a blob shorter than the HMAC is [`LegacyError::Malformed`];
//! pass 2 refuses more bytes than pass 1 verified ([`LegacyError::TrailingData`],
//! the piece left as it was) and ends early with [`LegacyError::Truncated`].
//!
//! ```
//! use letterseal_legacy::LegacyError;
//! use letterseal_legacy::media::{MediaKeyMaterial, MediaSealer, MediaVerifier, open_media, seal_media};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([6; 32]);
//!
//! let km = MediaKeyMaterial::generate(&mut rng);
//! let blob = seal_media(&km, b"JPEG bytes")?;
//! assert_eq!(blob.len(), 10 + 32);
//! assert_eq!(open_media(&km, &blob)?.as_slice(), b"JPEG bytes");
//!
//! // The same blob, streamed: seal piece by piece, then append the HMAC.
//! let mut sealer = MediaSealer::new(&km);
//! let (mut head, mut tail) = (*b"JPEG ", *b"bytes");
//! sealer.encrypt_in_place(&mut head)?;
//! sealer.encrypt_in_place(&mut tail)?;
//! assert_eq!([&head[..], &tail[..], &sealer.finish()[..]].concat(), blob);
//!
//! // Pass 1 verifies the whole blob; pass 2 decrypts (here a range).
//! let mut verifier = MediaVerifier::new(&km);
//! for piece in blob.chunks(7) {
//!     verifier.update(piece)?;
//! }
//! let verified = verifier.finish()?;
//! let mut range = blob[5..10].to_vec();
//! verified.decrypt_at(5, &mut range)?;
//! assert_eq!(range, b"bytes");
//! # Ok::<(), LegacyError>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::LegacyError;

/// Length of the media key material.
pub const KEY_MATERIAL_LEN: usize = 32;
/// Length of the HMAC at the end of a blob.
pub const MAC_LEN: usize = 32;
/// The HKDF `info`.
pub const HKDF_INFO: &[u8] = b"FileEncryption";
/// The longest `C`: 2^32 − 1 AES blocks, 64 GiB less 16 bytes. The counter is
/// the low 32 bits of the block, starting at 0; RustCrypto's `Ctr32BE` stops
/// before the counter would wrap, so its last value, `0xffffffff`, is not used.
pub const MAX_CIPHERTEXT_LEN: u64 = ((1 << 32) - 1) * 16;

type Aes256Ctr32 = ctr::Ctr32BE<Aes256>;
type HmacSha256 = Hmac<Sha256>;

/// The 32 random bytes an attachment's keys derive from. Zeroized on drop;
/// `Debug` prints no secret.
///
/// ```
/// use letterseal_legacy::ids::LegacyContentType;
/// use letterseal_legacy::media::MediaKeyMaterial;
/// use letterseal_legacy::payload::Payload;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([35; 32]);
/// let km = MediaKeyMaterial::generate(&mut rng);
/// // It travels base64-encoded in the message's payload.
/// let json = Payload::Media(km.clone()).to_json();
/// let Payload::Media(received) = Payload::parse(LegacyContentType::IMAGE, &json)? else {
///     unreachable!()
/// };
/// assert_eq!(received.as_bytes(), km.as_bytes());
/// // From storage: an array, or a slice of exactly 32 bytes.
/// assert_eq!(MediaKeyMaterial::from_bytes(*km.as_bytes()).as_bytes(), km.as_bytes());
/// assert_eq!(MediaKeyMaterial::from_slice(&km.as_bytes()[..])?.as_bytes(), km.as_bytes());
/// assert!(MediaKeyMaterial::from_slice(&[0; 31]).is_err());
/// # Ok::<(), letterseal_legacy::LegacyError>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MediaKeyMaterial([u8; KEY_MATERIAL_LEN]);

impl MediaKeyMaterial {
    /// Fresh key material from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut km = Self([0u8; KEY_MATERIAL_LEN]);
        rng.fill_bytes(&mut km.0);
        km
    }

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_MATERIAL_LEN]) -> Self {
        Self(bytes)
    }

    /// Exactly 32 bytes (otherwise [`LegacyError::Malformed`]).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, LegacyError> {
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| LegacyError::Malformed)
    }

    /// The 32 bytes. Handle with care.
    pub fn as_bytes(&self) -> &[u8; KEY_MATERIAL_LEN] {
        &self.0
    }

    /// `HKDF-SHA256(IKM = KM, no salt, info = "FileEncryption", L = 76)`,
    /// split into `encKey ‖ macKey ‖ nonce` (SPEC.md §11.5).
    pub fn derive_keys(&self) -> MediaKeys {
        let mut okm = Zeroizing::new([0u8; 76]);
        // No salt means a salt of 32 zero bytes (RFC 5869 §2.2), which is what
        // HMAC makes of an empty key.
        #[expect(
            clippy::let_underscore_must_use,
            reason = "76 ≤ 255 × 32 output bytes, so it cannot fail"
        )]
        let _ = Hkdf::<Sha256>::new(Some(b""), &self.0).expand(HKDF_INFO, okm.as_mut());
        let mut keys = MediaKeys {
            enc_key: [0; 32],
            mac_key: [0; 32],
            nonce: [0; 12],
        };
        let (enc, rest) = okm.split_at(32);
        let (mac, nonce) = rest.split_at(32);
        keys.enc_key.copy_from_slice(enc);
        keys.mac_key.copy_from_slice(mac);
        keys.nonce.copy_from_slice(nonce);
        keys
    }
}

/// Constant-time comparison.
impl PartialEq for MediaKeyMaterial {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for MediaKeyMaterial {}

impl fmt::Debug for MediaKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MediaKeyMaterial(<secret>)")
    }
}

/// The keys derived from [`MediaKeyMaterial`]. Zeroized on drop; `Debug`
/// prints no secret.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MediaKeys {
    enc_key: [u8; 32],
    mac_key: [u8; 32],
    nonce: [u8; 12],
}

impl MediaKeys {
    /// The AES-256-CTR key.
    pub fn enc_key(&self) -> &[u8; 32] {
        &self.enc_key
    }

    /// The HMAC-SHA-256 key.
    pub fn mac_key(&self) -> &[u8; 32] {
        &self.mac_key
    }

    /// The first 12 bytes of the initial counter block.
    pub fn nonce(&self) -> &[u8; 12] {
        &self.nonce
    }

    /// `nonce ‖ 00000000`.
    fn counter_block(&self) -> [u8; 16] {
        let mut block = [0u8; 16];
        if let Some(head) = block.get_mut(..12) {
            head.copy_from_slice(&self.nonce);
        }
        block
    }

    fn cipher(&self) -> Aes256Ctr32 {
        Aes256Ctr32::new((&self.enc_key).into(), (&self.counter_block()).into())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC pads a key shorter than the 64-byte block with zeros (RFC 2104
        // §2), so the padded key is the same key, and no length can fail.
        let mut block = Zeroizing::new([0u8; 64]);
        if let Some(head) = block.get_mut(..32) {
            head.copy_from_slice(&self.mac_key);
        }
        <HmacSha256 as KeyInit>::new((&*block).into())
    }
}

impl fmt::Debug for MediaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MediaKeys(<secret>)")
    }
}

/// `position + len` if it stays within [`MAX_CIPHERTEXT_LEN`].
fn advance(position: u64, len: usize) -> Option<u64> {
    u64::try_from(len)
        .ok()
        .and_then(|len| position.checked_add(len))
        .filter(|end| *end <= MAX_CIPHERTEXT_LEN)
}

/// Seals an attachment piece by piece in constant memory (SPEC.md §11.5):
/// the blob is every piece, encrypted in place, then [`MediaSealer::finish`].
/// Zeroized on drop. See the example on [`VerifiedMedia`].
pub struct MediaSealer {
    cipher: Aes256Ctr32,
    mac: HmacSha256,
    written: u64,
}

impl ZeroizeOnDrop for MediaSealer {}

impl MediaSealer {
    /// Starts a blob under `km`.
    pub fn new(km: &MediaKeyMaterial) -> Self {
        let keys = km.derive_keys();
        Self {
            cipher: keys.cipher(),
            mac: keys.mac(),
            written: 0,
        }
    }

    /// Encrypts the next piece of the file in place and adds it to the HMAC.
    /// Beyond [`MAX_CIPHERTEXT_LEN`] in all: [`LegacyError::TooLong`], the
    /// piece left as it was.
    pub fn encrypt_in_place(&mut self, piece: &mut [u8]) -> Result<(), LegacyError> {
        let end = advance(self.written, piece.len()).ok_or(LegacyError::TooLong)?;
        self.cipher
            .try_apply_keystream(piece)
            .map_err(|_| LegacyError::TooLong)?;
        self.mac.update(piece);
        self.written = end;
        Ok(())
    }

    /// The bytes of `C` so far.
    pub fn ciphertext_len(&self) -> u64 {
        self.written
    }

    /// `HMAC-SHA256(macKey, C)`: the last 32 bytes of the blob.
    pub fn finish(self) -> [u8; MAC_LEN] {
        self.mac.clone().finalize().into_bytes().into()
    }
}

impl fmt::Debug for MediaSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaSealer")
            .field("ciphertext_len", &self.written)
            .finish_non_exhaustive()
    }
}

/// Pass 1 of opening a blob (SPEC.md §11.5): reads the whole blob in pieces
/// of any size, in constant memory, and releases nothing; the last 32 bytes
/// seen are held back as the candidate HMAC. Zeroized on drop.
pub struct MediaVerifier {
    keys: MediaKeys,
    mac: HmacSha256,
    held: [u8; MAC_LEN],
    held_len: usize,
    /// Bytes passed to the HMAC: the `C` read so far.
    ciphertext_len: u64,
}

impl ZeroizeOnDrop for MediaVerifier {}

impl MediaVerifier {
    /// Starts pass 1 under `km`.
    pub fn new(km: &MediaKeyMaterial) -> Self {
        let keys = km.derive_keys();
        let mac = keys.mac();
        Self {
            keys,
            mac,
            held: [0; MAC_LEN],
            held_len: 0,
            ciphertext_len: 0,
        }
    }

    /// Reads the next piece of the blob. A blob whose `C` would exceed
    /// [`MAX_CIPHERTEXT_LEN`] is [`LegacyError::TooLong`] (the verifier is then
    /// unchanged).
    pub fn update(&mut self, piece: &[u8]) -> Result<(), LegacyError> {
        // Of held ‖ piece, all but the last 32 bytes are ciphertext.
        let held = self.held.get(..self.held_len).unwrap_or_default();
        let total = held.len() + piece.len();
        let release = total.saturating_sub(MAC_LEN);
        let end = advance(self.ciphertext_len, release).ok_or(LegacyError::TooLong)?;
        let from_held = release.min(held.len());
        // Every split below is within bounds by the arithmetic above; the checked forms make a
        // slip an error before anything changes, not a panic.
        let (released_held, kept_held) = held
            .split_at_checked(from_held)
            .ok_or(LegacyError::Malformed)?;
        let (released_piece, kept_piece) = release
            .checked_sub(from_held)
            .and_then(|n| piece.split_at_checked(n))
            .ok_or(LegacyError::Malformed)?;
        let mut next = [0u8; MAC_LEN];
        let kept = kept_held.len() + kept_piece.len();
        let (a, b) = next
            .get_mut(..kept)
            .and_then(|n| n.split_at_mut_checked(kept_held.len()))
            .ok_or(LegacyError::Malformed)?;
        a.iter_mut().zip(kept_held).for_each(|(d, s)| *d = *s);
        b.iter_mut().zip(kept_piece).for_each(|(d, s)| *d = *s);
        self.mac.update(released_held);
        self.mac.update(released_piece);
        self.held = next;
        self.held_len = kept;
        self.ciphertext_len = end;
        Ok(())
    }

    /// The verdict: the held-back 32 bytes must be `HMAC-SHA256(macKey, C)`
    /// (constant-time comparison; [`LegacyError::DecryptionFailed`]); a blob
    /// shorter than 32 bytes is [`LegacyError::Malformed`].
    pub fn finish(self) -> Result<VerifiedMedia, LegacyError> {
        if self.held_len != MAC_LEN {
            return Err(LegacyError::Malformed);
        }
        let expected: [u8; MAC_LEN] = self.mac.clone().finalize().into_bytes().into();
        if !bool::from(expected.ct_eq(&self.held)) {
            return Err(LegacyError::DecryptionFailed);
        }
        Ok(VerifiedMedia {
            keys: self.keys.clone(),
            ciphertext_len: self.ciphertext_len,
            tag: self.held,
        })
    }
}

impl fmt::Debug for MediaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaVerifier")
            .field("ciphertext_len", &self.ciphertext_len)
            .finish_non_exhaustive()
    }
}

/// A blob whose HMAC pass 1 verified: the key to pass 2 (SPEC.md §11.5).
/// Zeroized on drop; `Debug` prints no secret.
///
/// A video, streamed both ways in constant memory:
///
/// ```
/// use letterseal_legacy::media::{
///     MediaDecryptor, MediaKeyMaterial, MediaSealer, MediaVerifier, VerifiedMedia,
/// };
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([36; 32]);
/// let km = MediaKeyMaterial::generate(&mut rng);
/// let video = vec![1u8; 10_000];
///
/// // Sealing, one pass; the HMAC goes at the end.
/// let mut sealer = MediaSealer::new(&km);
/// let mut blob = video.clone();
/// for piece in blob.chunks_mut(4_096) {
///     sealer.encrypt_in_place(piece)?;
/// }
/// assert_eq!(sealer.ciphertext_len(), 10_000);
/// blob.extend_from_slice(&sealer.finish());
///
/// // Opening, pass 1: the whole blob is verified; nothing is released.
/// let mut verifier = MediaVerifier::new(&km);
/// for piece in blob.chunks(4_096) {
///     verifier.update(piece)?;
/// }
/// let verified: VerifiedMedia = verifier.finish()?;
/// assert_eq!(verified.ciphertext_len(), 10_000);
///
/// // Pass 2: the same bytes again (a local file), decrypted in order.
/// let mut decryptor: MediaDecryptor = verified.decryptor();
/// let mut plain = blob[..10_000].to_vec();
/// for piece in plain.chunks_mut(3_000) {
///     decryptor.decrypt_in_place(piece)?;
/// }
/// assert_eq!(decryptor.position(), 10_000);
/// decryptor.finish()?;
/// assert_eq!(plain, video);
///
/// // A source that could change between the passes: the checked decryptor
/// // recomputes the HMAC, and its `finish` fails if the bytes differed.
/// let mut checked = verified.checked_decryptor();
/// let mut plain = blob[..10_000].to_vec();
/// checked.decrypt_in_place(&mut plain)?;
/// checked.finish()?;
/// # Ok::<(), letterseal_legacy::LegacyError>(())
/// ```
pub struct VerifiedMedia {
    keys: MediaKeys,
    ciphertext_len: u64,
    tag: [u8; MAC_LEN],
}

impl ZeroizeOnDrop for VerifiedMedia {}

impl VerifiedMedia {
    /// The length of `C`: the plaintext length, and how many bytes of the
    /// blob pass 2 reads (the blob minus its 32-byte HMAC).
    pub fn ciphertext_len(&self) -> u64 {
        self.ciphertext_len
    }

    /// Pass 2, sequential: decrypts the first
    /// [`ciphertext_len`](Self::ciphertext_len) bytes of the same blob.
    pub fn decryptor(&self) -> MediaDecryptor {
        MediaDecryptor {
            cipher: self.keys.cipher(),
            recheck: None,
            position: 0,
            ciphertext_len: self.ciphertext_len,
        }
    }

    /// [`VerifiedMedia::decryptor`] that also recomputes the HMAC, so its
    /// [`finish`](MediaDecryptor::finish) tells whether pass 2 read the bytes
    /// pass 1 verified.
    pub fn checked_decryptor(&self) -> MediaDecryptor {
        MediaDecryptor {
            recheck: Some((self.keys.mac(), self.tag)),
            ..self.decryptor()
        }
    }

    /// Random access: decrypts `piece`, the bytes of `C` at `offset`, in
    /// place. A range beyond `C` is [`LegacyError::TrailingData`] (the piece
    /// left as it was).
    pub fn decrypt_at(&self, offset: u64, piece: &mut [u8]) -> Result<(), LegacyError> {
        if advance(offset, piece.len()).is_none_or(|end| end > self.ciphertext_len) {
            return Err(LegacyError::TrailingData);
        }
        let mut cipher = self.keys.cipher();
        cipher
            .try_seek(offset)
            .map_err(|_| LegacyError::TrailingData)?;
        cipher
            .try_apply_keystream(piece)
            .map_err(|_| LegacyError::TrailingData)
    }
}

impl fmt::Debug for VerifiedMedia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedMedia")
            .field("ciphertext_len", &self.ciphertext_len)
            .finish_non_exhaustive()
    }
}

/// Pass 2 of opening a blob (SPEC.md §11.5): decrypts `C` in order, piece by
/// piece, after pass 1's verdict. Zeroized on drop. See the example on
/// [`VerifiedMedia`].
pub struct MediaDecryptor {
    cipher: Aes256Ctr32,
    /// The HMAC recomputed over pass 2's bytes, and pass 1's tag.
    recheck: Option<(HmacSha256, [u8; MAC_LEN])>,
    position: u64,
    ciphertext_len: u64,
}

impl ZeroizeOnDrop for MediaDecryptor {}

impl MediaDecryptor {
    /// Decrypts the next piece of `C` in place. More bytes than pass 1
    /// verified is [`LegacyError::TrailingData`], the piece left as it was.
    pub fn decrypt_in_place(&mut self, piece: &mut [u8]) -> Result<(), LegacyError> {
        let end = advance(self.position, piece.len())
            .filter(|end| *end <= self.ciphertext_len)
            .ok_or(LegacyError::TrailingData)?;
        if let Some((mac, _)) = &mut self.recheck {
            mac.update(piece);
        }
        self.cipher
            .try_apply_keystream(piece)
            .map_err(|_| LegacyError::TrailingData)?;
        self.position = end;
        Ok(())
    }

    /// The bytes of `C` decrypted so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Ends pass 2: fewer bytes than pass 1 verified is
    /// [`LegacyError::Truncated`]; for a [checked](VerifiedMedia::checked_decryptor)
    /// decryptor, bytes that differ from pass 1's are
    /// [`LegacyError::DecryptionFailed`] (discard the output).
    pub fn finish(self) -> Result<(), LegacyError> {
        if self.position != self.ciphertext_len {
            return Err(LegacyError::Truncated);
        }
        if let Some((mac, tag)) = &self.recheck {
            let again: [u8; MAC_LEN] = mac.clone().finalize().into_bytes().into();
            if !bool::from(again.ct_eq(tag)) {
                return Err(LegacyError::DecryptionFailed);
            }
        }
        Ok(())
    }
}

impl fmt::Debug for MediaDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaDecryptor")
            .field("position", &self.position)
            .field("ciphertext_len", &self.ciphertext_len)
            .field("checked", &self.recheck.is_some())
            .finish_non_exhaustive()
    }
}

/// Encrypts an attachment: `AES-256-CTR(encKey, nonce ‖ 0) ‖ HMAC-SHA256(macKey, C)`
/// (SPEC.md §11.5). Beyond [`MAX_CIPHERTEXT_LEN`]: [`LegacyError::TooLong`].
pub fn seal_media(km: &MediaKeyMaterial, plaintext: &[u8]) -> Result<Vec<u8>, LegacyError> {
    let mut sealer = MediaSealer::new(km);
    let mut blob = Vec::with_capacity(plaintext.len().saturating_add(MAC_LEN));
    blob.extend_from_slice(plaintext);
    if let Err(e) = sealer.encrypt_in_place(&mut blob) {
        blob.zeroize();
        return Err(e);
    }
    blob.extend_from_slice(&sealer.finish());
    Ok(blob)
}

/// Checks the HMAC in constant time, then decrypts (SPEC.md §11.5). A blob
/// shorter than 32 bytes is [`LegacyError::Malformed`]; a wrong HMAC is
/// [`LegacyError::DecryptionFailed`].
pub fn open_media(km: &MediaKeyMaterial, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, LegacyError> {
    let mut verifier = MediaVerifier::new(km);
    verifier.update(blob)?;
    let verified = verifier.finish()?;
    let ciphertext = blob
        .get(..blob.len().saturating_sub(MAC_LEN))
        .ok_or(LegacyError::Malformed)?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    let mut decryptor = verified.decryptor();
    decryptor.decrypt_in_place(&mut plaintext)?;
    decryptor.finish()?;
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting() -> MediaKeyMaterial {
        MediaKeyMaterial::from_bytes(core::array::from_fn(|i| i as u8))
    }

    #[test]
    fn kdf_and_blob_known_answers_against_python() {
        // Computed independently with Python `cryptography`:
        // HKDF(SHA256, length=76, salt=None, info=b"FileEncryption").derive(bytes(range(32)));
        // C = AES-CTR(enc, nonce + 4 zero bytes); blob = C + hmac(mac, C, sha256).
        let keys = counting().derive_keys();
        assert_eq!(
            hex::encode(keys.enc_key()),
            "54480d998f8e329e5a0a33fdc64f6aee8d9b0edb7a2792f8e52c33d59b1b72e0"
        );
        assert_eq!(
            hex::encode(keys.mac_key()),
            "682c748ebd8593d84ae2974fe79b5448cc7dbf05c419f4b554d14d3f26e25536"
        );
        assert_eq!(hex::encode(keys.nonce()), "70679ffec9e08b4e8f569eb1");
        let blob = seal_media(&counting(), b"attachment bytes").unwrap();
        assert_eq!(
            hex::encode(&blob),
            "341472b2c8813b60788b04b8cfae0d79c77d38fe8d9159ebe84ada6b54db2c79\
             7b3a928f5e7bc3e56e1098dd7dd72eb6"
        );
    }

    #[test]
    fn key_material_compares_by_value() {
        assert_eq!(counting(), counting());
        let mut other = *counting().as_bytes();
        other[31] ^= 1;
        assert_ne!(counting(), MediaKeyMaterial::from_bytes(other));
    }

    #[test]
    fn round_trips() {
        for len in [0usize, 1, 15, 16, 17, 1000] {
            let plaintext = alloc::vec![0x42u8; len];
            let blob = seal_media(&counting(), &plaintext).unwrap();
            assert_eq!(blob.len(), len + 32);
            assert_eq!(
                open_media(&counting(), &blob).unwrap().as_slice(),
                plaintext.as_slice()
            );
        }
    }

    #[test]
    fn errors() {
        let blob = seal_media(&counting(), b"data").unwrap();
        for len in [0usize, 1, 31] {
            assert_eq!(
                open_media(&counting(), &blob[..len]).unwrap_err(),
                LegacyError::Malformed
            );
        }
        for byte in 0..blob.len() {
            let mut bad = blob.clone();
            bad[byte] ^= 0x04;
            assert_eq!(
                open_media(&counting(), &bad).unwrap_err(),
                LegacyError::DecryptionFailed,
                "byte {byte}"
            );
        }
        let other = MediaKeyMaterial::from_bytes([1; 32]);
        assert_eq!(
            open_media(&other, &blob).unwrap_err(),
            LegacyError::DecryptionFailed
        );
        assert_eq!(
            MediaKeyMaterial::from_slice(&[0; 31]).unwrap_err(),
            LegacyError::Malformed
        );
        assert_eq!(
            MediaKeyMaterial::from_slice(&[7; 32]).unwrap().as_bytes(),
            &[7; 32]
        );
    }

    fn blob(len: usize) -> (Vec<u8>, Vec<u8>) {
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let blob = seal_media(&counting(), &plaintext).unwrap();
        (plaintext, blob)
    }

    fn verify(blob: &[u8], cuts: &[usize]) -> Result<VerifiedMedia, LegacyError> {
        let mut verifier = MediaVerifier::new(&counting());
        let mut rest = blob;
        for &cut in cuts {
            let (piece, tail) = rest.split_at(cut.min(rest.len()));
            verifier.update(piece)?;
            rest = tail;
        }
        verifier.update(rest)?;
        verifier.finish()
    }

    #[test]
    fn streams_equal_whole_buffers_at_every_split() {
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 70] {
            let (plaintext, blob) = blob(len);
            for a in 0..=blob.len() {
                for b in [0, 1, 5, 31, 32, 33, blob.len()] {
                    // Seal in two pieces, cut at `a` (within the plaintext).
                    let cut = a.min(len);
                    let mut sealer = MediaSealer::new(&counting());
                    let mut pieces = plaintext.clone();
                    let (x, y) = pieces.split_at_mut(cut);
                    sealer.encrypt_in_place(x).unwrap();
                    sealer.encrypt_in_place(&mut []).unwrap();
                    sealer.encrypt_in_place(y).unwrap();
                    assert_eq!(sealer.ciphertext_len(), len as u64);
                    pieces.extend_from_slice(&sealer.finish());
                    assert_eq!(pieces, blob);
                    // Verify in three pieces, decrypt in two.
                    let verified = verify(&blob, &[a, b, 0]).unwrap();
                    assert_eq!(verified.ciphertext_len(), len as u64);
                    for checked in [false, true] {
                        let mut out = blob[..len].to_vec();
                        let mut pass2 = if checked {
                            verified.checked_decryptor()
                        } else {
                            verified.decryptor()
                        };
                        let (x, y) = out.split_at_mut(cut);
                        pass2.decrypt_in_place(x).unwrap();
                        pass2.decrypt_in_place(y).unwrap();
                        assert_eq!(pass2.position(), len as u64);
                        pass2.finish().unwrap();
                        assert_eq!(out, plaintext);
                    }
                }
            }
        }
    }

    #[test]
    fn random_access() {
        let (plaintext, blob) = blob(70);
        let verified = verify(&blob, &[]).unwrap();
        for start in 0..=70 {
            for end in start..=70 {
                let mut piece = blob[start..end].to_vec();
                verified.decrypt_at(start as u64, &mut piece).unwrap();
                assert_eq!(piece, plaintext[start..end]);
            }
        }
        for (offset, len) in [(70u64, 1usize), (0, 71), (69, 2), (u64::MAX, 1)] {
            let mut piece = alloc::vec![0xaa; len];
            assert_eq!(
                verified.decrypt_at(offset, &mut piece),
                Err(LegacyError::TrailingData)
            );
            assert!(piece.iter().all(|&b| b == 0xaa), "untouched");
        }
    }

    #[test]
    fn stream_framing_errors() {
        let (plaintext, blob) = blob(40);
        // Pass 1.
        for len in [0usize, 1, 31] {
            assert_eq!(
                verify(&blob[..len], &[]).unwrap_err(),
                LegacyError::Malformed
            );
        }
        let mut longer = blob.clone();
        longer.push(0);
        assert_eq!(
            verify(&longer, &[3]).unwrap_err(),
            LegacyError::DecryptionFailed
        );
        assert_eq!(
            verify(&blob[..blob.len() - 1], &[9]).unwrap_err(),
            LegacyError::DecryptionFailed
        );
        // Pass 2: trailing, truncated, changed bytes.
        let verified = verify(&blob, &[]).unwrap();
        let mut pass2 = verified.decryptor();
        let mut first = blob[..30].to_vec();
        pass2.decrypt_in_place(&mut first).unwrap();
        let mut too_much = blob[30..].to_vec(); // includes the HMAC
        assert_eq!(
            pass2.decrypt_in_place(&mut too_much),
            Err(LegacyError::TrailingData)
        );
        assert_eq!(too_much, blob[30..], "a refused piece is left as it was");
        assert_eq!(pass2.position(), 30);
        let mut debug = alloc::format!("{pass2:?}");
        assert_eq!(pass2.finish(), Err(LegacyError::Truncated));
        assert!(debug.contains("position: 30"));
        let mut changed = blob[..40].to_vec();
        changed[5] ^= 1;
        let mut unchecked = verified.decryptor();
        unchecked.decrypt_in_place(&mut changed.clone()).unwrap();
        assert_eq!(
            unchecked.finish(),
            Ok(()),
            "only the checked decryptor notices"
        );
        let mut checked = verified.checked_decryptor();
        checked.decrypt_in_place(&mut changed).unwrap();
        assert_eq!(changed[..5], plaintext[..5]);
        assert_eq!(checked.finish(), Err(LegacyError::DecryptionFailed));
        debug = alloc::format!("{verified:?}");
        assert!(debug.contains("ciphertext_len: 40"), "{debug}");
    }

    #[test]
    fn the_counter_limit_is_2_pow_32_minus_1_blocks() {
        // The block with counter 0xfffffffe is the last; one byte more fails.
        let keys = counting().derive_keys();
        let mut cipher = keys.cipher();
        cipher.try_seek(MAX_CIPHERTEXT_LEN - 16).unwrap();
        let mut block = [0u8; 16];
        cipher.try_apply_keystream(&mut block).unwrap();
        let mut one = [0u8; 1];
        assert!(cipher.try_apply_keystream(&mut one).is_err());

        let mut sealer = MediaSealer::new(&counting());
        sealer.cipher.try_seek(MAX_CIPHERTEXT_LEN - 16).unwrap();
        sealer.written = MAX_CIPHERTEXT_LEN - 16;
        let mut piece = [7u8; 17];
        assert_eq!(
            sealer.encrypt_in_place(&mut piece),
            Err(LegacyError::TooLong)
        );
        assert_eq!(piece, [7u8; 17], "untouched");
        sealer.encrypt_in_place(&mut piece[..16]).unwrap();
        assert_eq!(sealer.ciphertext_len(), MAX_CIPHERTEXT_LEN);
        assert_eq!(sealer.encrypt_in_place(&mut [0]), Err(LegacyError::TooLong));
        assert!(sealer.encrypt_in_place(&mut []).is_ok());

        let mut verifier = MediaVerifier::new(&counting());
        verifier.ciphertext_len = MAX_CIPHERTEXT_LEN - 1;
        verifier.update(&[0; 33]).unwrap();
        assert_eq!(verifier.update(&[0; 1]), Err(LegacyError::TooLong));
        assert_eq!(verifier.ciphertext_len, MAX_CIPHERTEXT_LEN);

        let verified = VerifiedMedia {
            keys: counting().derive_keys(),
            ciphertext_len: MAX_CIPHERTEXT_LEN,
            tag: [0; 32],
        };
        let mut last = [0u8; 16];
        verified
            .decrypt_at(MAX_CIPHERTEXT_LEN - 16, &mut last)
            .unwrap();
        assert_eq!(last, block);
        assert_eq!(
            verified.decrypt_at(MAX_CIPHERTEXT_LEN - 15, &mut [0u8; 16]),
            Err(LegacyError::TrailingData)
        );
    }

    #[test]
    fn debug_prints_no_secret() {
        let km = MediaKeyMaterial::from_bytes([0xab; 32]);
        assert_eq!(alloc::format!("{km:?}"), "MediaKeyMaterial(<secret>)");
        assert_eq!(
            alloc::format!("{:?}", km.derive_keys()),
            "MediaKeys(<secret>)"
        );
    }
}
