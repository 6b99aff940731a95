//! Legacy media encryption, 2023+ (SPEC.md §11.5).
//!
//! ```text
//! KM = 32 random bytes
//! encKey ‖ macKey ‖ nonce = HKDF-SHA256(IKM = KM, salt = none, info = "FileEncryption", L = 76)
//! C    = AES-256-CTR(encKey, initial counter block = nonce ‖ 00000000)
//! blob = C ‖ HMAC-SHA256(macKey, C)
//! ```
//!
//! The opener checks the HMAC in constant time before decrypting. `KM` travels
//! base64-encoded in the `keyMaterial` field of a v2 message
//! ([`payload`](super::payload)). The counter is the low 32 bits of the block
//! (`Ctr32BE`), so one blob holds at most 2^32 blocks (64 GiB).
//!
//! ```
//! use letterseal::legacy::media::{MediaKeyMaterial, open_media, seal_media};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([6; 32]);
//!
//! let km = MediaKeyMaterial::generate(&mut rng);
//! let blob = seal_media(&km, b"JPEG bytes")?;
//! assert_eq!(blob.len(), 10 + 32);
//! assert_eq!(open_media(&km, &blob)?.as_slice(), b"JPEG bytes");
//! # Ok::<(), letterseal::legacy::LegacyError>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
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

type Aes256Ctr32 = ctr::Ctr32BE<Aes256>;

/// The 32 random bytes an attachment's keys derive from. Zeroized on drop;
/// `Debug` prints no secret.
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
        // the crate's HKDF does for an empty salt. 76 ≤ 255 × 32, so it cannot fail.
        let _ = crate::kdf::hkdf_sha256(b"", &self.0, HKDF_INFO, okm.as_mut());
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

    fn mac(&self, ciphertext: &[u8]) -> Result<[u8; MAC_LEN], LegacyError> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.mac_key)
            .map_err(|_| LegacyError::Malformed)?;
        mac.update(ciphertext);
        Ok(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for MediaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MediaKeys(<secret>)")
    }
}

/// Encrypts an attachment: `AES-256-CTR(encKey, nonce ‖ 0) ‖ HMAC-SHA256(macKey, C)`
/// (SPEC.md §11.5). Fails with [`LegacyError::Malformed`] beyond 2^32 blocks.
pub fn seal_media(km: &MediaKeyMaterial, plaintext: &[u8]) -> Result<Vec<u8>, LegacyError> {
    let keys = km.derive_keys();
    let mut blob = Vec::with_capacity(plaintext.len().saturating_add(MAC_LEN));
    blob.extend_from_slice(plaintext);
    if keys.cipher().try_apply_keystream(&mut blob).is_err() {
        blob.zeroize();
        return Err(LegacyError::Malformed);
    }
    let tag = keys.mac(&blob)?;
    blob.extend_from_slice(&tag);
    Ok(blob)
}

/// Checks the HMAC in constant time, then decrypts (SPEC.md §11.5). A blob
/// shorter than 32 bytes is [`LegacyError::Malformed`]; a wrong HMAC is
/// [`LegacyError::DecryptionFailed`].
pub fn open_media(km: &MediaKeyMaterial, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, LegacyError> {
    let split = blob
        .len()
        .checked_sub(MAC_LEN)
        .ok_or(LegacyError::Malformed)?;
    let (ciphertext, tag) = blob.split_at(split);
    let keys = km.derive_keys();
    let expected = keys.mac(ciphertext)?;
    if !bool::from(expected.as_slice().ct_eq(tag)) {
        return Err(LegacyError::DecryptionFailed);
    }
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    keys.cipher()
        .try_apply_keystream(&mut plaintext)
        .map_err(|_| LegacyError::Malformed)?;
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
