//! The bare AES-256-GCM of the compiled-in backend (RustCrypto `aes-gcm`, or *ring* with the
//! `ring` feature): the floor the benches measure letterseal against. Shared by
//! `benches/aead.rs` and `benches/attachment.rs` through `#[path]`.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

#[cfg(not(feature = "ring"))]
pub struct Key(aes_gcm::Aes256Gcm);
#[cfg(feature = "ring")]
pub struct Key(ring::aead::LessSafeKey);

#[cfg(not(feature = "ring"))]
impl Key {
    pub fn new(k: &[u8; 32]) -> Self {
        use aes_gcm::KeyInit;
        Self(aes_gcm::Aes256Gcm::new(&(*k).into()))
    }
    pub fn seal(&self, n: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        use aes_gcm::AeadInOut;
        self.0
            .encrypt_inout_detached(&(*n).into(), aad, buf.into())
            .unwrap()
            .into()
    }
    pub fn open(&self, n: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) {
        use aes_gcm::AeadInOut;
        self.0
            .decrypt_inout_detached(&(*n).into(), aad, buf.into(), &(*tag).into())
            .unwrap();
    }
    /// Plaintext → separate ciphertext buffer (out of place).
    pub fn seal_into(&self, n: &[u8; 12], aad: &[u8], pt: &[u8], ct: &mut [u8]) -> [u8; 16] {
        use aes_gcm::AeadInOut;
        use aes_gcm::aead::inout::InOutBuf;
        self.0
            .encrypt_inout_detached(&(*n).into(), aad, InOutBuf::new(pt, ct).unwrap())
            .unwrap()
            .into()
    }
    /// Ciphertext → separate plaintext buffer.
    pub fn open_into(&self, n: &[u8; 12], aad: &[u8], ct: &[u8], tag: &[u8; 16], out: &mut [u8]) {
        use aes_gcm::AeadInOut;
        use aes_gcm::aead::inout::InOutBuf;
        self.0
            .decrypt_inout_detached(
                &(*n).into(),
                aad,
                InOutBuf::new(ct, out).unwrap(),
                &(*tag).into(),
            )
            .unwrap();
    }
}

#[cfg(feature = "ring")]
impl Key {
    pub fn new(k: &[u8; 32]) -> Self {
        use ring::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
        Self(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, k).unwrap()))
    }
    pub fn seal(&self, n: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        use ring::aead::{Aad, Nonce};
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*n), Aad::from(aad), buf)
            .unwrap();
        tag.as_ref().try_into().unwrap()
    }
    pub fn open(&self, n: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) {
        use ring::aead::{Aad, Nonce, Tag};
        self.0
            .open_in_place_separate_tag(
                Nonce::assume_unique_for_key(*n),
                Aad::from(aad),
                Tag::from(*tag),
                buf,
                0..,
            )
            .unwrap();
    }
    /// Plaintext → separate ciphertext buffer: ring seals in place only, so copy first.
    pub fn seal_into(&self, n: &[u8; 12], aad: &[u8], pt: &[u8], ct: &mut [u8]) -> [u8; 16] {
        ct.copy_from_slice(pt);
        self.seal(n, aad, ct)
    }
    /// Ciphertext → separate plaintext buffer: ring opens in place, so copy first.
    pub fn open_into(&self, n: &[u8; 12], aad: &[u8], ct: &[u8], tag: &[u8; 16], out: &mut [u8]) {
        out.copy_from_slice(ct);
        self.open(n, aad, out, tag);
    }
}
