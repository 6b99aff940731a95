//! The AES-256-GCM path every LS3 message and wrap goes through (SPEC.md §3.3).
//!
//! 256-bit keys, 96-bit nonces, 128-bit tags, tag appended to the ciphertext.
//! Checked against Wycheproof's AES-GCM 256-bit-key, 96-bit-IV groups.
//! A failed open returns [`AeadError`] and no plaintext.
//!
//! ```
//! use letterseal::aead::{AeadKey, AeadNonce, open, seal};
//!
//! let key = AeadKey::from_bytes([7u8; 32]);
//! let nonce = AeadNonce::from_bytes([1u8; 12]);
//! let sealed = seal(&key, &nonce, b"header", b"hello");
//! assert_eq!(sealed.len(), 5 + 16);
//! assert_eq!(open(&key, &nonce, b"header", &sealed).unwrap().as_slice(), b"hello");
//! assert!(open(&key, &nonce, b"other header", &sealed).is_err());
//! ```

use alloc::vec::Vec;
use core::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Key length in bytes.
pub const KEY_LEN: usize = 32;
/// Nonce length in bytes.
pub const NONCE_LEN: usize = 12;
/// Tag length in bytes.
pub const TAG_LEN: usize = 16;

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

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.0.into())
    }

    /// Runs the key schedule once, for many messages under one key (attachment chunks).
    pub fn prepare(&self) -> PreparedKey {
        PreparedKey(self.cipher())
    }
}

/// An AES-256-GCM key with its key schedule done, for sealing or opening many
/// chunks under one key. The expanded key is zeroized on drop.
pub struct PreparedKey(Aes256Gcm);

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
        seal_with(&self.0, nonce, aad, buffer)
    }

    /// As [`open_in_place_detached`], without repeating the key schedule.
    pub fn open_in_place_detached(
        &self,
        nonce: &AeadNonce,
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AeadError> {
        open_with(&self.0, nonce, aad, buffer, tag)
    }
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AeadKey(<secret>)")
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
    seal_with(&key.cipher(), nonce, aad, buffer)
}

fn seal_with(
    cipher: &Aes256Gcm,
    nonce: &AeadNonce,
    aad: &[u8],
    buffer: &mut [u8],
) -> [u8; TAG_LEN] {
    let nonce = Nonce::from(nonce.0);
    // Encryption only fails for inputs longer than GCM's 2^36 - 32 byte limit,
    // which a `&mut [u8]` on a 64-bit target could in theory reach; the
    // ciphertext is then left unwritten and we return an all-zero tag that can
    // never verify, so the failure surfaces at the receiver instead of a panic.
    match cipher.encrypt_inout_detached(&nonce, aad, buffer.into()) {
        Ok(tag) => tag.into(),
        Err(_) => {
            buffer.zeroize();
            [0u8; TAG_LEN]
        }
    }
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
    open_with(&key.cipher(), nonce, aad, buffer, tag)
}

fn open_with(
    cipher: &Aes256Gcm,
    nonce: &AeadNonce,
    aad: &[u8],
    buffer: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), AeadError> {
    let nonce = Nonce::from(nonce.0);
    let tag = Tag::from(*tag);
    cipher
        .decrypt_inout_detached(&nonce, aad, buffer.into(), &tag)
        .map_err(|_| {
            buffer.zeroize();
            AeadError
        })
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
pub fn seal(key: &AeadKey, nonce: &AeadNonce, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
    out.extend_from_slice(plaintext);
    let tag = seal_in_place_detached(key, nonce, aad, &mut out);
    out.extend_from_slice(&tag);
    out
}

/// Opens `ciphertext ‖ tag`; returns the plaintext only if the tag verifies.
pub fn open(
    key: &AeadKey,
    nonce: &AeadNonce,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, AeadError> {
    let split = sealed.len().checked_sub(TAG_LEN).ok_or(AeadError)?;
    let (ciphertext, tag) = sealed.split_at(split);
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| AeadError)?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    open_in_place_detached(key, nonce, aad, &mut buffer, &tag)?;
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
