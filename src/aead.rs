//! The AES-256-GCM path every LS3 message, wrap and attachment chunk goes through (SPEC.md §3.3).
//!
//! 256-bit keys, 96-bit nonces, 128-bit tags, tag appended to the ciphertext.
//! Checked against Wycheproof's AES-GCM 256-bit-key, 96-bit-IV groups.
//! A failed open returns [`AeadError`] and no plaintext.
//!
//! **Backends.** The default backend is RustCrypto's pure-Rust `aes-gcm`. The cargo feature
//! `ring` selects *ring*'s AES-GCM (assembly, VAES/VPCLMULQDQ where the CPU has them) at build
//! time for every function of this module; [`BACKEND`] names the one compiled in. Both give
//! byte-identical results (the same vectors, Wycheproof included, run through these functions
//! with either). Differences a caller may notice: *ring* does not zeroize its expanded key on drop,
//! and it decrypts while it authenticates, so [`open_detached_into`] zeroizes `out` on a failed
//! tag where the default backend (which checks the tag first) leaves it untouched. The legacy
//! format (crate `letterseal-legacy`) always uses RustCrypto: *ring* has no 128-bit-nonce GCM.
//!
//! **Caller buffers.** Besides the allocating [`seal`]/[`open`] and the in-place detached
//! functions, [`seal_detached_into`] and [`open_detached_into`] (and their [`PreparedKey`]
//! forms) write into a buffer the caller owns, without allocating. A buffer of the wrong length
//! is refused with [`BufferLengthError`] before anything is read or written.
//!
//! ```
//! # #[cfg(feature = "hazmat")] { // public with `hazmat` only
//! use letterseal::aead::{AeadKey, AeadNonce, open, open_detached_into, seal, seal_detached_into};
//!
//! let key = AeadKey::from_bytes([7u8; 32]);
//! let nonce = AeadNonce::from_bytes([1u8; 12]);
//! let sealed = seal(&key, &nonce, b"header", b"hello");
//! assert_eq!(sealed.len(), 5 + 16);
//! assert_eq!(open(&key, &nonce, b"header", &sealed).unwrap().as_slice(), b"hello");
//! assert!(open(&key, &nonce, b"other header", &sealed).is_err());
//!
//! // The same into caller buffers: no allocation, wrong lengths refused.
//! let mut ciphertext = [0u8; 5];
//! let tag = seal_detached_into(&key, &nonce, b"header", b"hello", &mut ciphertext).unwrap();
//! assert_eq!(&sealed[..5], &ciphertext);
//! let mut plaintext = [0u8; 5];
//! open_detached_into(&key, &nonce, b"header", &ciphertext, &tag, &mut plaintext).unwrap();
//! assert_eq!(&plaintext, b"hello");
//! let mut too_short = [0u8; 4];
//! assert!(open_detached_into(&key, &nonce, b"header", &ciphertext, &tag, &mut too_short).is_err());
//! assert_eq!(too_short, [0u8; 4]);
//! # }
//! ```

use alloc::vec::Vec;
use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Key length in bytes.
pub const KEY_LEN: usize = 32;
/// Nonce length in bytes.
pub const NONCE_LEN: usize = 12;
/// Tag length in bytes.
pub const TAG_LEN: usize = 16;

/// The AES-256-GCM implementation compiled in: `"rustcrypto"` (default) or `"ring"`
/// (cargo feature `ring`).
#[cfg(not(feature = "ring"))]
#[cfg(any(feature = "hazmat", test))]
pub const BACKEND: &str = "rustcrypto";
/// The AES-256-GCM implementation compiled in: `"rustcrypto"` (default) or `"ring"`
/// (cargo feature `ring`).
#[cfg(feature = "ring")]
#[cfg(any(feature = "hazmat", test))]
pub const BACKEND: &str = "ring";

/// Authentication failed. Deliberately carries no detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AeadError;

impl fmt::Display for AeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AEAD authentication failed")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AeadError {}

/// A caller's output buffer does not have the length the operation writes. Nothing was read or
/// written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferLengthError {
    /// The length the buffer must have.
    pub expected: usize,
    /// The length it has.
    pub actual: usize,
}

impl fmt::Display for BufferLengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "output buffer of {} bytes, expected {}",
            self.actual, self.expected
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BufferLengthError {}

/// Why an open into a caller buffer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenIntoError {
    /// The output buffer has the wrong length; it was left untouched.
    BufferLength(BufferLengthError),
    /// The tag did not verify; the output holds no plaintext (see [`open_detached_into`]).
    Authentication(AeadError),
}

impl fmt::Display for OpenIntoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferLength(e) => e.fmt(f),
            Self::Authentication(e) => e.fmt(f),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for OpenIntoError {}

impl From<BufferLengthError> for OpenIntoError {
    fn from(e: BufferLengthError) -> Self {
        Self::BufferLength(e)
    }
}

impl From<AeadError> for OpenIntoError {
    fn from(e: AeadError) -> Self {
        Self::Authentication(e)
    }
}

fn check_len(expected: usize, actual: usize) -> Result<(), BufferLengthError> {
    if expected == actual {
        Ok(())
    } else {
        Err(BufferLengthError { expected, actual })
    }
}

/// The RustCrypto backend (always compiled: it is the default, and the reference the `ring`
/// backend is tested against).
#[cfg_attr(feature = "ring", allow(dead_code))]
mod rustcrypto {
    use aes_gcm::aead::inout::InOutBuf;
    use aes_gcm::aead::{AeadInOut, KeyInit};
    use aes_gcm::{Aes256Gcm, Nonce, Tag};
    use zeroize::Zeroize;

    use super::{AeadError, KEY_LEN, NONCE_LEN, TAG_LEN};

    pub(super) struct Cipher(Aes256Gcm);

    impl Cipher {
        pub(super) fn new(key: &[u8; KEY_LEN]) -> Self {
            Self(Aes256Gcm::new(&(*key).into()))
        }

        pub(super) fn seal_in_place(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buffer: &mut [u8],
        ) -> [u8; TAG_LEN] {
            // Encryption only fails for inputs longer than GCM's 2^36 - 32 byte limit, which a
            // `&mut [u8]` on a 64-bit target could in theory reach; the ciphertext is then
            // zeroized and we return an all-zero tag that can never verify, so the failure
            // surfaces at the receiver instead of a panic.
            match self
                .0
                .encrypt_inout_detached(&Nonce::from(*nonce), aad, buffer.into())
            {
                Ok(tag) => tag.into(),
                Err(_) => {
                    buffer.zeroize();
                    [0u8; TAG_LEN]
                }
            }
        }

        /// `input` and `out` have equal lengths (checked by the caller).
        pub(super) fn seal_into(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            input: &[u8],
            out: &mut [u8],
        ) -> [u8; TAG_LEN] {
            let Ok(buffer) = InOutBuf::new(input, out) else {
                out.zeroize();
                return [0u8; TAG_LEN];
            };
            match self
                .0
                .encrypt_inout_detached(&Nonce::from(*nonce), aad, buffer)
            {
                Ok(tag) => tag.into(),
                Err(_) => {
                    out.zeroize();
                    [0u8; TAG_LEN]
                }
            }
        }

        pub(super) fn open_in_place(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buffer: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), AeadError> {
            self.0
                .decrypt_inout_detached(
                    &Nonce::from(*nonce),
                    aad,
                    (&mut *buffer).into(),
                    &Tag::from(*tag),
                )
                .map_err(|_| {
                    buffer.zeroize();
                    AeadError
                })
        }

        /// `input` and `out` have equal lengths (checked by the caller). `aes-gcm` checks the
        /// tag before it decrypts, so a failure leaves `out` untouched.
        pub(super) fn open_into(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            input: &[u8],
            tag: &[u8; TAG_LEN],
            out: &mut [u8],
        ) -> Result<(), AeadError> {
            let buffer = InOutBuf::new(input, out).map_err(|_| AeadError)?;
            self.0
                .decrypt_inout_detached(&Nonce::from(*nonce), aad, buffer, &Tag::from(*tag))
                .map_err(|_| AeadError)
        }
    }
}

/// The *ring* backend (cargo feature `ring`).
#[cfg(feature = "ring")]
mod ring_backend {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};
    use zeroize::Zeroize;

    use super::{AeadError, KEY_LEN, NONCE_LEN, TAG_LEN};

    pub(super) struct Cipher(Option<LessSafeKey>);

    impl Cipher {
        pub(super) fn new(key: &[u8; KEY_LEN]) -> Self {
            // A 32-byte key is always accepted for AES-256-GCM; `None` (never reached) would
            // make every seal give a tag that never verifies and every open fail.
            Self(
                UnboundKey::new(&AES_256_GCM, key)
                    .ok()
                    .map(LessSafeKey::new),
            )
        }

        pub(super) fn seal_in_place(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buffer: &mut [u8],
        ) -> [u8; TAG_LEN] {
            let sealed = self.0.as_ref().map(|key| {
                key.seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    buffer,
                )
            });
            match sealed {
                Some(Ok(tag)) => {
                    let mut out = [0u8; TAG_LEN];
                    out.copy_from_slice(tag.as_ref());
                    out
                }
                _ => {
                    buffer.zeroize();
                    [0u8; TAG_LEN]
                }
            }
        }

        pub(super) fn seal_into(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            input: &[u8],
            out: &mut [u8],
        ) -> [u8; TAG_LEN] {
            if input.len() != out.len() {
                out.zeroize();
                return [0u8; TAG_LEN];
            }
            out.copy_from_slice(input);
            self.seal_in_place(nonce, aad, out)
        }

        pub(super) fn open_in_place(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buffer: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), AeadError> {
            let opened = self.0.as_ref().map(|key| {
                key.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    Tag::from(*tag),
                    &mut *buffer,
                    0..,
                )
                .map(|_| ())
            });
            match opened {
                Some(Ok(())) => Ok(()),
                _ => {
                    buffer.zeroize();
                    Err(AeadError)
                }
            }
        }

        /// *ring* decrypts while it authenticates: on failure `out` is zeroized.
        pub(super) fn open_into(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            input: &[u8],
            tag: &[u8; TAG_LEN],
            out: &mut [u8],
        ) -> Result<(), AeadError> {
            if input.len() != out.len() {
                return Err(AeadError);
            }
            out.copy_from_slice(input);
            self.open_in_place(nonce, aad, out, tag)
        }
    }
}

#[cfg(not(feature = "ring"))]
use rustcrypto::Cipher;

#[cfg(feature = "ring")]
use ring_backend::Cipher;

/// A 256-bit AES-GCM key. Zeroized on drop; `Debug` prints no secret.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AeadKey([u8; KEY_LEN]);

impl AeadKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw key bytes (for derivations and test vectors).
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> Cipher {
        Cipher::new(&self.0)
    }

    /// Runs the key schedule once, for many messages under one key (attachment chunks).
    pub fn prepare(&self) -> PreparedKey {
        PreparedKey(self.cipher())
    }
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AeadKey(<secret>)")
    }
}

/// An AES-256-GCM key with its key schedule done, for sealing or opening many
/// chunks under one key. With the default backend the expanded key is zeroized on drop
/// (*ring*'s is not: see the module documentation).
pub struct PreparedKey(Cipher);

impl fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreparedKey(<secret>)")
    }
}

impl PreparedKey {
    /// As [`seal_in_place_detached`], without repeating the key schedule.
    pub fn seal_in_place_detached(
        &self,
        nonce: &AeadNonce,
        aad: &[u8],
        buffer: &mut [u8],
    ) -> [u8; TAG_LEN] {
        self.0.seal_in_place(&nonce.0, aad, buffer)
    }

    /// As [`open_in_place_detached`], without repeating the key schedule.
    pub fn open_in_place_detached(
        &self,
        nonce: &AeadNonce,
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AeadError> {
        self.0.open_in_place(&nonce.0, aad, buffer, tag)
    }

    /// As [`seal_detached_into`], without repeating the key schedule.
    pub fn seal_detached_into(
        &self,
        nonce: &AeadNonce,
        aad: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], BufferLengthError> {
        check_len(plaintext.len(), out.len())?;
        Ok(self.0.seal_into(&nonce.0, aad, plaintext, out))
    }

    /// As [`open_detached_into`], without repeating the key schedule.
    pub fn open_detached_into(
        &self,
        nonce: &AeadNonce,
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8; TAG_LEN],
        out: &mut [u8],
    ) -> Result<(), OpenIntoError> {
        check_len(ciphertext.len(), out.len())?;
        Ok(self.0.open_into(&nonce.0, aad, ciphertext, tag, out)?)
    }
}

/// A 96-bit AES-GCM nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AeadNonce([u8; NONCE_LEN]);

impl AeadNonce {
    /// Wraps raw nonce bytes.
    pub fn from_bytes(bytes: [u8; NONCE_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw nonce bytes.
    pub fn as_bytes(&self) -> &[u8; NONCE_LEN] {
        &self.0
    }
}

/// Encrypts `buffer` in place and returns the tag.
pub fn seal_in_place_detached(
    key: &AeadKey,
    nonce: &AeadNonce,
    aad: &[u8],
    buffer: &mut [u8],
) -> [u8; TAG_LEN] {
    key.cipher().seal_in_place(&nonce.0, aad, buffer)
}

/// Checks `tag` and only then decrypts `buffer` in place. On failure the buffer
/// is zeroized, so no unauthenticated plaintext can leak.
pub fn open_in_place_detached(
    key: &AeadKey,
    nonce: &AeadNonce,
    aad: &[u8],
    buffer: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), AeadError> {
    key.cipher().open_in_place(&nonce.0, aad, buffer, tag)
}

/// Encrypts `plaintext` into `out` (exactly `plaintext.len()` bytes) and returns the tag.
/// A wrong-length `out` is refused and left untouched.
pub fn seal_detached_into(
    key: &AeadKey,
    nonce: &AeadNonce,
    aad: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<[u8; TAG_LEN], BufferLengthError> {
    check_len(plaintext.len(), out.len())?;
    Ok(key.cipher().seal_into(&nonce.0, aad, plaintext, out))
}

/// Checks `tag` over `ciphertext` and decrypts it into `out` (exactly `ciphertext.len()`
/// bytes). A wrong-length `out` is refused ([`OpenIntoError::BufferLength`]) and left
/// untouched. On a failed tag ([`OpenIntoError::Authentication`]) `out` never holds plaintext:
/// the default backend checks the tag before writing and leaves `out` untouched; the `ring`
/// backend decrypts while it authenticates and zeroizes `out`.
pub fn open_detached_into(
    key: &AeadKey,
    nonce: &AeadNonce,
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8; TAG_LEN],
    out: &mut [u8],
) -> Result<(), OpenIntoError> {
    check_len(ciphertext.len(), out.len())?;
    Ok(key
        .cipher()
        .open_into(&nonce.0, aad, ciphertext, tag, out)?)
}

/// `header ‖ associated_data`: the AEAD associated data of LS3 messages, whose
/// headers have a self-delimiting encoding. Borrows when there is nothing to append.
pub(crate) fn header_and_associated<'a>(
    header: &'a [u8],
    associated_data: &[u8],
) -> alloc::borrow::Cow<'a, [u8]> {
    if associated_data.is_empty() {
        alloc::borrow::Cow::Borrowed(header)
    } else {
        let mut aad = Vec::with_capacity(header.len() + associated_data.len());
        aad.extend_from_slice(header);
        aad.extend_from_slice(associated_data);
        alloc::borrow::Cow::Owned(aad)
    }
}

/// Encrypts `plaintext`; returns `ciphertext ‖ tag`.
#[cfg(any(feature = "hazmat", test))]
pub fn seal(key: &AeadKey, nonce: &AeadNonce, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
    out.extend_from_slice(plaintext);
    let tag = seal_in_place_detached(key, nonce, aad, &mut out);
    out.extend_from_slice(&tag);
    out
}

/// Opens `ciphertext ‖ tag`; returns the plaintext only if the tag verifies.
#[cfg(any(feature = "hazmat", test))]
pub fn open(
    key: &AeadKey,
    nonce: &AeadNonce,
    aad: &[u8],
    sealed: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, AeadError> {
    let (ciphertext, tag) = sealed.split_last_chunk::<TAG_LEN>().ok_or(AeadError)?;
    let mut buffer = zeroize::Zeroizing::new(ciphertext.to_vec());
    open_in_place_detached(key, nonce, aad, &mut buffer, tag)?;
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcm_spec_test_case_16() {
        // McGrew & Viega, "The GCM mode of operation", test case 16 (256-bit key, 96-bit IV, AAD).
        let key: [u8; 32] =
            hex_lit("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
        let iv: [u8; 12] = hex_lit("cafebabefacedbaddecaf888");
        let pt = hex_vec(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let aad = hex_vec("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let expected = hex_vec(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
             76fc6ece0f4e1768cddf8853bb2d551b",
        );
        let key = AeadKey::from_bytes(key);
        let nonce = AeadNonce::from_bytes(iv);
        let sealed = seal(&key, &nonce, &aad, &pt);
        assert_eq!(sealed, expected);
        assert_eq!(
            open(&key, &nonce, &aad, &sealed).unwrap().as_slice(),
            pt.as_slice()
        );
    }

    #[test]
    fn failed_open_zeroizes_buffer() {
        let key = AeadKey::from_bytes([1; 32]);
        let nonce = AeadNonce::from_bytes([2; 12]);
        let mut buf = *b"secret plaintext";
        let tag = seal_in_place_detached(&key, &nonce, b"", &mut buf);
        let mut bad_tag = tag;
        bad_tag[0] ^= 1;
        assert_eq!(
            open_in_place_detached(&key, &nonce, b"", &mut buf, &bad_tag),
            Err(AeadError)
        );
        assert_eq!(buf, [0u8; 16]);
    }

    #[test]
    fn short_input_is_rejected() {
        let key = AeadKey::from_bytes([1; 32]);
        let nonce = AeadNonce::from_bytes([2; 12]);
        assert_eq!(open(&key, &nonce, b"", &[0u8; 15]), Err(AeadError));
    }

    #[test]
    fn caller_buffers_refuse_wrong_lengths_and_leave_them_untouched() {
        let key = AeadKey::from_bytes([3; 32]);
        let prepared = key.prepare();
        let nonce = AeadNonce::from_bytes([4; 12]);
        let plaintext = [9u8; 40];
        for len in [0usize, 39, 41] {
            let mut out = alloc::vec![0xa5u8; len];
            assert_eq!(
                seal_detached_into(&key, &nonce, b"ad", &plaintext, &mut out),
                Err(BufferLengthError {
                    expected: 40,
                    actual: len
                })
            );
            assert_eq!(
                prepared.seal_detached_into(&nonce, b"ad", &plaintext, &mut out),
                Err(BufferLengthError {
                    expected: 40,
                    actual: len
                })
            );
            assert!(out.iter().all(|&b| b == 0xa5));
        }
        let mut ciphertext = [0u8; 40];
        let tag = seal_detached_into(&key, &nonce, b"ad", &plaintext, &mut ciphertext).unwrap();
        let sealed = seal(&key, &nonce, b"ad", &plaintext);
        assert_eq!(&sealed[..40], &ciphertext);
        assert_eq!(&sealed[40..], &tag);
        for len in [0usize, 39, 41] {
            let mut out = alloc::vec![0xa5u8; len];
            assert_eq!(
                open_detached_into(&key, &nonce, b"ad", &ciphertext, &tag, &mut out),
                Err(OpenIntoError::BufferLength(BufferLengthError {
                    expected: 40,
                    actual: len
                }))
            );
            assert!(out.iter().all(|&b| b == 0xa5));
        }
        let mut out = [0u8; 40];
        prepared
            .open_detached_into(&nonce, b"ad", &ciphertext, &tag, &mut out)
            .unwrap();
        assert_eq!(out, plaintext);
    }

    #[test]
    fn failed_open_into_releases_no_plaintext() {
        let key = AeadKey::from_bytes([5; 32]);
        let nonce = AeadNonce::from_bytes([6; 12]);
        let mut ciphertext = [7u8; 33];
        let tag = seal_in_place_detached(&key, &nonce, b"", &mut ciphertext);
        for (aad, bad_tag) in [(&b"x"[..], tag), (&b""[..], [tag[0] ^ 1; 16])] {
            let mut out = [0xa5u8; 33];
            assert_eq!(
                open_detached_into(&key, &nonce, aad, &ciphertext, &bad_tag, &mut out),
                Err(OpenIntoError::Authentication(AeadError))
            );
            // The default backend checks the tag first and never writes; ring zeroizes.
            let expected = if BACKEND == "ring" { 0 } else { 0xa5 };
            assert!(out.iter().all(|&b| b == expected), "{BACKEND}");
        }
    }

    /// With the `ring` feature, both backends are compiled: they must agree byte for byte,
    /// and each must open what the other sealed.
    #[cfg(feature = "ring")]
    #[test]
    fn ring_and_rustcrypto_agree() {
        for len in [0usize, 1, 15, 16, 17, 255, 4096 + 3] {
            let key = [len as u8; 32];
            let nonce = [(len >> 3) as u8; 12];
            let aad = alloc::vec![0x42u8; len % 37];
            let a = rustcrypto::Cipher::new(&key);
            let b = ring_backend::Cipher::new(&key);
            let plain: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut x = plain.clone();
            let mut y = plain.clone();
            let tx = a.seal_in_place(&nonce, &aad, &mut x);
            let ty = b.seal_in_place(&nonce, &aad, &mut y);
            assert_eq!((&x, tx), (&y, ty), "len {len}");
            b.open_in_place(&nonce, &aad, &mut x, &tx).unwrap();
            a.open_in_place(&nonce, &aad, &mut y, &ty).unwrap();
            assert_eq!((&x, &y), (&plain, &plain));
        }
    }

    fn hex_vec(s: &str) -> Vec<u8> {
        let s: alloc::string::String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn hex_lit<const N: usize>(s: &str) -> [u8; N] {
        hex_vec(s).try_into().unwrap()
    }
}
