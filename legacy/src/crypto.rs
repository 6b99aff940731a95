//! The primitives the legacy format composes (SPEC.md §11.1–§11.4): SHA-256 of
//! concatenations, `fold`, the (K, IV) derivation, AES-256-CBC with PKCS#7 and
//! AES-256-GCM with 12- or 16-byte nonces. All from RustCrypto crates.

use alloc::vec::Vec;

use aes::Aes256;
use aes_gcm::aead::array::{Array, ArraySize};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{AesGcm, Tag};
use cbc::cipher::block_padding::{NoPadding, Pkcs7};
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use sha2::{Digest, Sha256};
use subtle::{ConstantTimeEq, ConstantTimeLess};
use zeroize::{Zeroize, Zeroizing};

use super::LegacyError;
use super::keys::LegacySharedSecret;

/// AES block length.
pub(crate) const BLOCK_LEN: usize = 16;
/// GCM tag length.
pub(crate) const TAG_LEN: usize = 16;

/// `fold(h) = h[0..16] XOR h[16..32]` (SPEC.md §11.1).
pub fn fold(h: &[u8; 32]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let (low, high) = h.split_at(16);
    for ((o, a), b) in out.iter_mut().zip(low).zip(high) {
        *o = a ^ b;
    }
    out
}

/// `SHA256(parts[0] ‖ parts[1] ‖ …)`.
pub(crate) fn sha256(parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&hasher.finalize());
    out
}

/// `K = SHA256(SS ‖ salt ‖ "Key")` (SPEC.md §11.2–§11.4; the group wrap has no salt).
pub(crate) fn message_key(shared: &LegacySharedSecret, salt: &[u8]) -> Zeroizing<[u8; 32]> {
    sha256(&[shared.as_bytes(), salt, b"Key"])
}

/// `IV = fold(SHA256(SS ‖ salt ‖ "IV"))` (SPEC.md §11.2, §11.4).
pub(crate) fn message_iv(shared: &LegacySharedSecret, salt: &[u8]) -> Zeroizing<[u8; 16]> {
    Zeroizing::new(fold(&sha256(&[shared.as_bytes(), salt, b"IV"])))
}

/// AES-256-CBC of `PKCS#7(plaintext)`.
pub(crate) fn cbc_encrypt(key: &[u8; 32], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let padded_len = (plaintext.len() / BLOCK_LEN + 1) * BLOCK_LEN;
    let mut buffer = Vec::with_capacity(padded_len);
    buffer.extend_from_slice(plaintext);
    buffer.resize(padded_len, 0);
    let encryptor = cbc::Encryptor::<Aes256>::new(key.into(), iv.into());
    match encryptor.encrypt_padded::<Pkcs7>(&mut buffer, plaintext.len()) {
        Ok(ciphertext) => {
            let len = ciphertext.len();
            buffer.truncate(len);
            buffer
        }
        // Unreachable: the buffer always has room for the padding. Release
        // nothing rather than panic.
        Err(_) => {
            buffer.zeroize();
            Vec::new()
        }
    }
}

/// AES-256-CBC decryption of whole blocks, padding left in place (callers check
/// the length is a non-zero multiple of 16 first).
fn cbc_decrypt_blocks(
    key: &[u8; 32],
    iv: &[u8; 16],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, LegacyError> {
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    cbc::Decryptor::<Aes256>::new(key.into(), iv.into())
        .decrypt_padded::<NoPadding>(&mut buffer)
        .map_err(|_| LegacyError::DecryptionFailed)?;
    Ok(buffer)
}

/// AES-256-CBC decryption and PKCS#7 removal. A ciphertext that is empty or
/// not a multiple of 16 bytes, and every padding error, is
/// [`LegacyError::DecryptionFailed`]; the buffer is zeroized on failure.
pub(crate) fn cbc_decrypt(
    key: &[u8; 32],
    iv: &[u8; 16],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, LegacyError> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
        return Err(LegacyError::DecryptionFailed);
    }
    let mut buffer = cbc_decrypt_blocks(key, iv, ciphertext)?;
    let len = pkcs7_unpadded_len(&buffer).ok_or(LegacyError::DecryptionFailed)?;
    buffer.truncate(len);
    Ok(buffer)
}

/// AES-256-CBC decryption of a ciphertext whose plaintext must be exactly
/// `plaintext_len` bytes: the PKCS#7 padding must be exactly
/// `ciphertext.len() - plaintext_len` bytes. Checked in constant time with a
/// single accept/reject branch (the group-key wrap: 48 → 32 bytes).
pub(crate) fn cbc_decrypt_exact(
    key: &[u8; 32],
    iv: &[u8; 16],
    ciphertext: &[u8],
    plaintext_len: usize,
) -> Result<Zeroizing<Vec<u8>>, LegacyError> {
    let pad = ciphertext
        .len()
        .checked_sub(plaintext_len)
        .and_then(|p| u8::try_from(p).ok())
        .filter(|p| (1..=BLOCK_LEN as u8).contains(p))
        .ok_or(LegacyError::Malformed)?;
    if !ciphertext.len().is_multiple_of(BLOCK_LEN) {
        return Err(LegacyError::Malformed);
    }
    let mut buffer = cbc_decrypt_blocks(key, iv, ciphertext)?;
    let last = buffer
        .last_chunk::<BLOCK_LEN>()
        .ok_or(LegacyError::Malformed)?;
    let mut valid = subtle::Choice::from(1);
    for (i, byte) in last.iter().rev().enumerate() {
        let in_padding = (i as u8).ct_lt(&pad);
        valid &= !in_padding | byte.ct_eq(&pad);
    }
    if !bool::from(valid) {
        buffer.zeroize();
        return Err(LegacyError::DecryptionFailed);
    }
    buffer.truncate(plaintext_len);
    Ok(buffer)
}

/// The length without PKCS#7 padding, checked in constant time with one branch
/// at the end: the group-key wrap is unwrapped without a MAC, so a data-dependent
/// padding check would be a finer padding oracle than accept/reject.
fn pkcs7_unpadded_len(buffer: &[u8]) -> Option<usize> {
    let last = buffer.last_chunk::<BLOCK_LEN>()?;
    let pad = last[BLOCK_LEN - 1];
    let mut valid = !pad.ct_eq(&0) & pad.ct_lt(&(BLOCK_LEN as u8 + 1));
    for (i, byte) in last.iter().rev().enumerate() {
        let in_padding = (i as u8).ct_lt(&pad);
        valid &= !in_padding | byte.ct_eq(&pad);
    }
    if bool::from(valid) {
        buffer.len().checked_sub(usize::from(pad))
    } else {
        None
    }
}

/// AES-256-GCM with an `N`-byte nonce (12: standard; 16: GHASH-derived J0),
/// returning `ciphertext ‖ tag`. Fails with [`LegacyError::Malformed`] for a
/// nonce of another length or a plaintext longer than GCM allows.
pub(crate) fn gcm_seal<N: ArraySize>(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, LegacyError> {
    let nonce = Array::<u8, N>::try_from(nonce).map_err(|_| LegacyError::Malformed)?;
    let cipher = AesGcm::<Aes256, N>::new(key.into());
    let mut out = Vec::with_capacity(plaintext.len().saturating_add(TAG_LEN));
    out.extend_from_slice(plaintext);
    match cipher.encrypt_inout_detached(&nonce, aad, out.as_mut_slice().into()) {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(out)
        }
        Err(_) => {
            out.zeroize();
            Err(LegacyError::Malformed)
        }
    }
}

/// Opens `ciphertext ‖ tag` with an `N`-byte nonce. The caller has checked
/// that `sealed` holds at least a tag; any failure is
/// [`LegacyError::DecryptionFailed`] and releases nothing.
pub(crate) fn gcm_open<N: ArraySize>(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, LegacyError> {
    let nonce = Array::<u8, N>::try_from(nonce).map_err(|_| LegacyError::Malformed)?;
    let (ciphertext, tag) = sealed
        .split_last_chunk::<TAG_LEN>()
        .ok_or(LegacyError::Malformed)?;
    let tag = Tag::from(*tag);
    let cipher = AesGcm::<Aes256, N>::new(key.into());
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_inout_detached(&nonce, aad, buffer.as_mut_slice().into(), &tag)
        .map_err(|_| {
            buffer.zeroize();
            LegacyError::DecryptionFailed
        })?;
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::aead::consts::{U12, U16};

    #[test]
    fn fold_known_answer() {
        // fold(SHA256("abc")), computed independently with Python:
        // h = hashlib.sha256(b"abc").digest(); bytes(a ^ b for a, b in zip(h[:16], h[16:]))
        let h = sha256(&[b"a", b"bc"]);
        assert_eq!(
            hex::encode(*h),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hex::encode(fold(&h)), "0a7b771c1916b576f551bfbfafae378e");
        let mut counting = [0u8; 32];
        for (i, b) in counting.iter_mut().enumerate() {
            *b = i as u8;
        }
        assert_eq!(fold(&counting), [16u8; 16]);
    }

    #[test]
    fn constant_time_unpadding_agrees_with_pkcs7() {
        // An obvious (variable-time) reference of RFC 5652 §6.3 padding.
        fn naive(buffer: &[u8]) -> Option<usize> {
            let pad = usize::from(*buffer.last()?);
            let tail = buffer.get(buffer.len().checked_sub(pad)?..)?;
            ((1..=16).contains(&pad) && tail.iter().all(|&b| usize::from(b) == pad))
                .then(|| buffer.len() - pad)
        }
        for pad in 0u8..=255 {
            for filler in [0u8, 1, 16, 17, 0xff] {
                let mut block = [filler; 32];
                block[31] = pad;
                for i in 0..usize::from(pad.min(16)) {
                    block[31 - i] = pad;
                }
                assert_eq!(
                    pkcs7_unpadded_len(&block),
                    naive(&block),
                    "pad {pad}, filler {filler}"
                );
                let mut broken = block;
                broken[30] ^= 0x40;
                assert_eq!(
                    pkcs7_unpadded_len(&broken),
                    naive(&broken),
                    "pad {pad}, broken"
                );
            }
        }
    }

    #[test]
    fn cbc_round_trip_and_lengths() {
        let (key, iv) = ([1u8; 32], [2u8; 16]);
        for len in [0usize, 1, 15, 16, 17, 31, 32, 100] {
            let plaintext = alloc::vec![0xabu8; len];
            let ciphertext = cbc_encrypt(&key, &iv, &plaintext);
            assert_eq!(ciphertext.len(), (len / 16 + 1) * 16);
            assert_eq!(
                cbc_decrypt(&key, &iv, &ciphertext).unwrap().as_slice(),
                plaintext.as_slice()
            );
        }
    }

    #[test]
    fn cbc_known_answer() {
        // NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt), first block, then the
        // PKCS#7 block: the plaintext is a whole block, so padding adds 16 × 0x10.
        let key: [u8; 32] =
            hex::decode("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
                .unwrap()
                .try_into()
                .unwrap();
        let iv: [u8; 16] = hex::decode("000102030405060708090a0b0c0d0e0f")
            .unwrap()
            .try_into()
            .unwrap();
        let pt = hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap();
        let ct = cbc_encrypt(&key, &iv, &pt);
        // The whole ciphertext computed independently with Python `cryptography`.
        assert_eq!(
            hex::encode(&ct),
            "f58c4c04d6e5f1ba779eabfb5f7bfbd6485a5c81519cf378fa36d42b8547edc0"
        );
        assert_eq!(
            cbc_decrypt(&key, &iv, &ct).unwrap().as_slice(),
            pt.as_slice()
        );
    }

    #[test]
    fn cbc_rejects_bad_lengths_and_padding() {
        let (key, iv) = ([1u8; 32], [2u8; 16]);
        assert_eq!(
            cbc_decrypt(&key, &iv, &[]).unwrap_err(),
            LegacyError::DecryptionFailed
        );
        assert_eq!(
            cbc_decrypt(&key, &iv, &[0u8; 17]).unwrap_err(),
            LegacyError::DecryptionFailed
        );
        // Some random block decrypts to bad padding; find one deterministically.
        let bad = (0u8..=255)
            .map(|b| [b; 16])
            .find(|block| cbc_decrypt(&key, &iv, block).is_err());
        assert!(bad.is_some());
    }

    #[test]
    fn exact_unpadding_checks_only_the_padding_bytes() {
        // A plaintext length that leaves fewer than 16 padding bytes, and plaintext bytes equal
        // to the padding value just before it: those are data, not padding, and must be kept.
        let (key, iv) = ([5u8; 32], [6u8; 16]);
        for plaintext_len in [33usize, 40, 47] {
            let pad = 48 - plaintext_len;
            let plaintext = alloc::vec![pad as u8; plaintext_len];
            let ciphertext = cbc_encrypt(&key, &iv, &plaintext);
            assert_eq!(ciphertext.len(), 48);
            assert_eq!(
                cbc_decrypt_exact(&key, &iv, &ciphertext, plaintext_len)
                    .unwrap()
                    .as_slice(),
                plaintext.as_slice(),
                "{plaintext_len}"
            );
            // The same ciphertext read as a different plaintext length has the wrong padding.
            assert_eq!(
                cbc_decrypt_exact(&key, &iv, &ciphertext, plaintext_len - 1).unwrap_err(),
                LegacyError::DecryptionFailed,
                "{plaintext_len}"
            );
        }
        // Lengths that are not a whole number of blocks, or leave no room for padding.
        assert_eq!(
            cbc_decrypt_exact(&key, &iv, &[0u8; 40], 32).unwrap_err(),
            LegacyError::Malformed
        );
        assert_eq!(
            cbc_decrypt_exact(&key, &iv, &[0u8; 32], 32).unwrap_err(),
            LegacyError::Malformed
        );
        assert_eq!(
            cbc_decrypt_exact(&key, &iv, &[0u8; 48], 31).unwrap_err(),
            LegacyError::Malformed
        );
    }

    #[test]
    fn gcm_both_nonce_sizes() {
        let key = [3u8; 32];
        let sealed12 = gcm_seal::<U12>(&key, &[4u8; 12], b"aad", b"hello").unwrap();
        let sealed16 = gcm_seal::<U16>(&key, &[4u8; 16], b"aad", b"hello").unwrap();
        assert_ne!(sealed12, sealed16);
        assert_eq!(
            gcm_open::<U12>(&key, &[4u8; 12], b"aad", &sealed12)
                .unwrap()
                .as_slice(),
            b"hello"
        );
        assert_eq!(
            gcm_open::<U16>(&key, &[4u8; 16], b"aad", &sealed16)
                .unwrap()
                .as_slice(),
            b"hello"
        );
        assert_eq!(
            gcm_open::<U16>(&key, &[4u8; 16], b"aax", &sealed16).unwrap_err(),
            LegacyError::DecryptionFailed
        );
        assert_eq!(
            gcm_seal::<U16>(&key, &[4u8; 12], b"", b"").unwrap_err(),
            LegacyError::Malformed
        );
        assert_eq!(
            gcm_open::<U12>(&key, &[4u8; 12], b"", &[0u8; 15]).unwrap_err(),
            LegacyError::Malformed
        );
    }
}
