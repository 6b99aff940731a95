//! Legacy 1:1 version 1 (SPEC.md §11.2).
//!
//! ```text
//! salt = 8 random bytes
//! K    = SHA256(SS ‖ salt ‖ "Key")          IV = fold(SHA256(SS ‖ salt ‖ "IV"))
//! C    = AES-256-CBC(K, IV, PKCS#7(M))       MAC = AES-256-ECB-encrypt(K, fold(SHA256(C)))
//! chunks = [salt (8), C, MAC (16), i32be(senderKeyId), i32be(recipientKeyId)]
//! ```
//!
//! The opener checks every chunk length, recomputes the MAC and compares it in
//! constant time **before** decrypting; a MAC mismatch and a padding error are
//! the same [`LegacyError::DecryptionFailed`], so it is no padding oracle.
//! Weaknesses kept (§11.8): the MAC uses the encryption key and covers only
//! `C`, the key ids are not authenticated (a message can be reflected back to
//! its sender), and the 8-byte salt collides after about 2^32 messages.
//!
//! ```
//! use letterseal_legacy::ids::LegacyKeyId;
//! use letterseal_legacy::keys::LegacyKeyPair;
//! use letterseal_legacy::v1::{V1Message, open_v1, seal_v1};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([2; 32]);
//!
//! let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(1));
//! let bob = [LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2))];
//! let chunks = seal_v1(&mut rng, &alice, &bob[0].public(), b"hello")?;
//!
//! // The receiver reads the sender key id to look up the sender's public key.
//! assert_eq!(V1Message::from_chunks(&chunks)?.sender_key_id(), LegacyKeyId::new(1));
//! let opened = open_v1(&bob, &alice.public_key(), &chunks)?;
//! assert_eq!(opened.plaintext.as_slice(), b"hello");
//! # Ok::<(), letterseal_legacy::LegacyError>(())
//! ```

use alloc::vec::Vec;

use aes::Aes256;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::chunks::Chunks;
use super::crypto::{self, BLOCK_LEN};
use super::ids::{KeyIdEncoding, LegacyKeyId};
use super::keys::{LegacyPrivateKey, LegacyPublicKey, LegacySharedSecret, find_key};
use super::{LegacyError, Opened};
use crate::keys::X25519PublicKey;

/// Length of the v1 salt.
pub const SALT_LEN: usize = 8;
/// Length of the v1 MAC.
pub const MAC_LEN: usize = 16;

/// A v1 message whose chunk lengths have been checked (not yet authenticated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V1Message {
    salt: [u8; SALT_LEN],
    ciphertext: Vec<u8>,
    mac: [u8; MAC_LEN],
    sender_key_id: LegacyKeyId,
    recipient_key_id: LegacyKeyId,
    key_id_encoding: KeyIdEncoding,
}

impl V1Message {
    /// Checks the chunk lengths (SPEC.md §11.2): salt 8 bytes, `C` a non-empty
    /// multiple of 16, MAC 16, key ids 4 bytes each (big-endian); otherwise
    /// [`LegacyError::Malformed`].
    pub fn from_chunks(chunks: &Chunks) -> Result<Self, LegacyError> {
        Self::from_chunks_with(chunks, KeyIdEncoding::BigEndian)
    }

    /// [`V1Message::from_chunks`] with key-id chunks in `key_id_encoding`;
    /// a compact chunk that is not a valid encoding gives its typed error
    /// (SPEC.md §11.1). The chunks are checked in order: salt, MAC, sender
    /// key id, recipient key id, `C`.
    pub fn from_chunks_with(
        chunks: &Chunks,
        key_id_encoding: KeyIdEncoding,
    ) -> Result<Self, LegacyError> {
        let [salt, ciphertext, mac, sender, recipient] = chunks.as_slices();
        // Fixed-size chunks first, then the variable one.
        let salt = salt.try_into().map_err(|_| LegacyError::Malformed)?;
        let mac = mac.try_into().map_err(|_| LegacyError::Malformed)?;
        let sender_key_id = LegacyKeyId::decode(sender, key_id_encoding)?;
        let recipient_key_id = LegacyKeyId::decode(recipient, key_id_encoding)?;
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
            return Err(LegacyError::Malformed);
        }
        Ok(Self {
            salt,
            ciphertext: ciphertext.to_vec(),
            mac,
            sender_key_id,
            recipient_key_id,
            key_id_encoding,
        })
    }

    /// The five chunks, key ids in the message's [`KeyIdEncoding`].
    pub fn to_chunks(&self) -> Chunks {
        Chunks::new([
            self.salt.to_vec(),
            self.ciphertext.clone(),
            self.mac.to_vec(),
            self.sender_key_id
                .encode(self.key_id_encoding)
                .as_bytes()
                .to_vec(),
            self.recipient_key_id
                .encode(self.key_id_encoding)
                .as_bytes()
                .to_vec(),
        ])
    }

    /// How the key-id chunks are written.
    pub fn key_id_encoding(&self) -> KeyIdEncoding {
        self.key_id_encoding
    }

    /// The same message with its key-id chunks written in `encoding`.
    #[must_use]
    pub fn with_key_id_encoding(mut self, encoding: KeyIdEncoding) -> Self {
        self.key_id_encoding = encoding;
        self
    }

    /// The sender key id (unauthenticated), to look up the sender's public key.
    pub fn sender_key_id(&self) -> LegacyKeyId {
        self.sender_key_id
    }

    /// The recipient key id (unauthenticated), naming the private key to open with.
    pub fn recipient_key_id(&self) -> LegacyKeyId {
        self.recipient_key_id
    }

    /// The 8-byte salt.
    pub fn salt(&self) -> &[u8; SALT_LEN] {
        &self.salt
    }

    /// The CBC ciphertext `C`.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// The MAC.
    pub fn mac(&self) -> &[u8; MAC_LEN] {
        &self.mac
    }

    /// Opens with the recipient's key pair named by the recipient key id and
    /// the sender's public key (SPEC.md §11.2): [`LegacyError::UnknownKey`],
    /// [`LegacyError::NonContributory`], then [`LegacyError::DecryptionFailed`]
    /// for a wrong MAC (checked first, in constant time) or wrong padding.
    pub fn open<K: LegacyPrivateKey>(
        &self,
        recipient_keys: &[K],
        sender_public: &X25519PublicKey,
    ) -> Result<Opened, LegacyError> {
        let recipient = find_key(recipient_keys, self.recipient_key_id)?;
        let shared = recipient.agree(sender_public)?;
        self.open_shared(&shared)
    }

    /// Opens with `SS` already agreed (SPEC.md §11.2): the MAC, checked in
    /// constant time, then the padding; both failures are
    /// [`LegacyError::DecryptionFailed`].
    pub(crate) fn open_shared(&self, shared: &LegacySharedSecret) -> Result<Opened, LegacyError> {
        let key = crypto::message_key(shared, &self.salt);
        let expected = mac(&key, &self.ciphertext);
        if !bool::from(expected.ct_eq(&self.mac)) {
            return Err(LegacyError::DecryptionFailed);
        }
        let iv = crypto::message_iv(shared, &self.salt);
        let plaintext = crypto::cbc_decrypt(&key, &iv, &self.ciphertext)?;
        Ok(Opened {
            plaintext,
            sender_key_id: self.sender_key_id,
            recipient_key_id: self.recipient_key_id,
        })
    }

    /// Seals with `SS` already agreed (SPEC.md §11.2).
    pub(crate) fn seal_shared(
        shared: &LegacySharedSecret,
        salt: &[u8; SALT_LEN],
        sender_key_id: LegacyKeyId,
        recipient_key_id: LegacyKeyId,
        plaintext: &[u8],
    ) -> Self {
        let key: Zeroizing<[u8; 32]> = crypto::message_key(shared, salt);
        let iv = crypto::message_iv(shared, salt);
        let ciphertext = crypto::cbc_encrypt(&key, &iv, plaintext);
        let mac = mac(&key, &ciphertext);
        Self {
            salt: *salt,
            ciphertext,
            mac,
            sender_key_id,
            recipient_key_id,
            key_id_encoding: KeyIdEncoding::BigEndian,
        }
    }
}

/// `MAC = AES-256-ECB-encrypt(K, fold(SHA256(C)))`: one block (SPEC.md §11.2).
fn mac(key: &[u8; 32], ciphertext: &[u8]) -> [u8; MAC_LEN] {
    let mut block = crypto::fold(&crypto::sha256(&[ciphertext])).into();
    Aes256::new(key.into()).encrypt_block(&mut block);
    block.into()
}

/// Seals `plaintext` for `recipient` with a fresh 8-byte salt from `rng`
/// (SPEC.md §11.2).
pub fn seal_v1<R: CryptoRng + ?Sized>(
    rng: &mut R,
    sender: &impl LegacyPrivateKey,
    recipient: &LegacyPublicKey,
    plaintext: &[u8],
) -> Result<Chunks, LegacyError> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    seal_v1_with_salt(&salt, sender, recipient, plaintext)
}

/// [`seal_v1`] with an explicit salt, for test vectors. A salt must never
/// repeat between the same two keys.
pub fn seal_v1_with_salt(
    salt: &[u8; SALT_LEN],
    sender: &impl LegacyPrivateKey,
    recipient: &LegacyPublicKey,
    plaintext: &[u8],
) -> Result<Chunks, LegacyError> {
    let shared = sender.agree(&recipient.key)?;
    Ok(
        V1Message::seal_shared(&shared, salt, sender.key_id(), recipient.key_id, plaintext)
            .to_chunks(),
    )
}

/// Checks the chunks and opens them with the recipient's key pairs
/// (SPEC.md §11.2); see [`V1Message::open`] for the checks and their order.
pub fn open_v1<K: LegacyPrivateKey>(
    recipient_keys: &[K],
    sender_public: &X25519PublicKey,
    chunks: &Chunks,
) -> Result<Opened, LegacyError> {
    V1Message::from_chunks(chunks)?.open(recipient_keys, sender_public)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::LegacyKeyPair;
    use alloc::vec;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn parties() -> (LegacyKeyPair, [LegacyKeyPair; 2]) {
        (
            LegacyKeyPair::from_bytes(LegacyKeyId::new(100), &[1; 32]),
            [
                LegacyKeyPair::from_bytes(LegacyKeyId::new(200), &[2; 32]),
                LegacyKeyPair::from_bytes(LegacyKeyId::new(-201), &[3; 32]),
            ],
        )
    }

    #[test]
    fn round_trip_with_each_recipient_key() {
        let (alice, bob) = parties();
        let mut rng = ChaCha20Rng::from_seed([0; 32]);
        for key in &bob {
            for len in [0usize, 1, 15, 16, 17, 64] {
                let message = vec![0x5a; len];
                let chunks = seal_v1(&mut rng, &alice, &key.public(), &message).unwrap();
                let [salt, c, m, s, r] = chunks.as_slices();
                assert_eq!((salt.len(), c.len(), m.len()), (8, (len / 16 + 1) * 16, 16));
                assert_eq!(s, 100i32.to_be_bytes());
                assert_eq!(r, key.key_id().to_be_bytes());
                let opened = open_v1(&bob, &alice.public_key(), &chunks).unwrap();
                assert_eq!(opened.plaintext.as_slice(), message.as_slice());
                assert_eq!(opened.sender_key_id, LegacyKeyId::new(100));
                assert_eq!(opened.recipient_key_id, key.key_id());
            }
        }
    }

    #[test]
    fn known_layout_against_python() {
        // Computed independently with Python `cryptography`:
        //   ss = X25519(sk = [1]*32, pk = X25519([2]*32, 9)); salt = 0001020304050607
        //   K = sha256(ss+salt+b"Key"); IV = fold(sha256(ss+salt+b"IV"))
        //   C = AES-CBC(K, IV, pkcs7(b"hello")); MAC = AES-ECB(K, fold(sha256(C)))
        let (alice, bob) = parties();
        let salt = [0, 1, 2, 3, 4, 5, 6, 7];
        let chunks = seal_v1_with_salt(&salt, &alice, &bob[0].public(), b"hello").unwrap();
        let [_, c, m, _, _] = chunks.as_slices();
        assert_eq!(hex::encode(c), V1_KAT_C);
        assert_eq!(hex::encode(m), V1_KAT_MAC);
    }

    const V1_KAT_C: &str = "08d365012e2c7e0dca1c64342dac61a3";
    const V1_KAT_MAC: &str = "329537d089a7c81c2273ce6c3bb01af6";

    #[test]
    fn malformed_chunks() {
        let (alice, bob) = parties();
        let chunks = seal_v1_with_salt(&[9; 8], &alice, &bob[0].public(), b"x").unwrap();
        let good = chunks.clone().into_array();
        let variants: [(usize, Vec<u8>); 9] = [
            (0, vec![9; 7]),
            (0, vec![9; 16]),
            (1, vec![]),
            (1, vec![0; 15]),
            (1, vec![0; 17]),
            (2, vec![0; 15]),
            (2, vec![0; 32]),
            (3, vec![0; 3]),
            (4, vec![0; 5]),
        ];
        for (index, replacement) in variants {
            let mut bad = good.clone();
            bad[index] = replacement;
            assert_eq!(
                open_v1(&bob, &alice.public_key(), &Chunks::new(bad)).unwrap_err(),
                LegacyError::Malformed,
                "chunk {index}"
            );
        }
    }

    #[test]
    fn unknown_key_and_non_contributory() {
        let (alice, bob) = parties();
        let chunks = seal_v1_with_salt(&[9; 8], &alice, &bob[0].public(), b"x").unwrap();
        assert_eq!(
            open_v1(&bob[1..], &alice.public_key(), &chunks).unwrap_err(),
            LegacyError::UnknownKey
        );
        let small_order = X25519PublicKey::from_bytes([0; 32]);
        assert_eq!(
            open_v1(&bob, &small_order, &chunks).unwrap_err(),
            LegacyError::NonContributory
        );
        let target = LegacyPublicKey {
            key_id: LegacyKeyId::new(1),
            key: small_order,
        };
        assert_eq!(
            seal_v1_with_salt(&[9; 8], &alice, &target, b"x").unwrap_err(),
            LegacyError::NonContributory
        );
    }

    #[test]
    fn every_tampered_byte_fails_the_same_way() {
        let (alice, bob) = parties();
        let chunks =
            seal_v1_with_salt(&[9; 8], &alice, &bob[0].public(), b"sixteen bytes!!!").unwrap();
        let good = chunks.into_array();
        for index in 0..3 {
            for byte in 0..good[index].len() {
                let mut bad = good.clone();
                bad[index][byte] ^= 0x01;
                assert_eq!(
                    open_v1(&bob, &alice.public_key(), &Chunks::new(bad)).unwrap_err(),
                    LegacyError::DecryptionFailed,
                    "chunk {index} byte {byte}"
                );
            }
        }
        // The wrong sender key also fails the MAC.
        let other = LegacyKeyPair::from_bytes(LegacyKeyId::new(100), &[4; 32]);
        assert_eq!(
            open_v1(&bob, &other.public_key(), &Chunks::new(good)).unwrap_err(),
            LegacyError::DecryptionFailed
        );
    }

    #[test]
    fn bad_padding_under_a_valid_mac_is_decryption_failed() {
        // An attacker who knows K (e.g. the peer) can make a valid MAC over a
        // C whose padding is wrong; the opener must give the same error.
        let (alice, bob) = parties();
        let salt = [9u8; 8];
        let shared = alice.agree(&bob[0].public_key()).unwrap();
        let key = crypto::message_key(&shared, &salt);
        let iv = crypto::message_iv(&shared, &salt);
        let ciphertext = (0u8..=255)
            .map(|b| vec![b; 16])
            .find(|c| crypto::cbc_decrypt(&key, &iv, c).is_err())
            .unwrap();
        let message = V1Message {
            salt,
            mac: mac(&key, &ciphertext),
            ciphertext,
            sender_key_id: alice.key_id(),
            recipient_key_id: bob[0].key_id(),
            key_id_encoding: KeyIdEncoding::BigEndian,
        };
        assert_eq!(
            open_v1(&bob, &alice.public_key(), &message.to_chunks()).unwrap_err(),
            LegacyError::DecryptionFailed
        );
    }

    #[test]
    fn reflection_opens_at_the_sender() {
        // §11.8: SS is symmetric and the key ids are not authenticated, so a
        // message from Alice to Bob, with its key-id chunks swapped, opens at
        // Alice as if Bob had sent it.
        let (alice, bob) = parties();
        let chunks = seal_v1_with_salt(&[9; 8], &alice, &bob[0].public(), b"pay 5").unwrap();
        let [salt, c, m, s, r] = chunks.into_array();
        let reflected = Chunks::new([salt, c, m, r, s]);
        let opened = open_v1(&[alice], &bob[0].public_key(), &reflected).unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"pay 5");
        assert_eq!(opened.sender_key_id, bob[0].key_id());
    }

    #[test]
    fn compact_key_ids() {
        let (alice, bob) = parties();
        let chunks = seal_v1_with_salt(&[9; 8], &alice, &bob[1].public(), b"x").unwrap();
        let compact = V1Message::from_chunks(&chunks)
            .unwrap()
            .with_key_id_encoding(KeyIdEncoding::Compact);
        assert_eq!(compact.key_id_encoding(), KeyIdEncoding::Compact);
        let compact_chunks = compact.to_chunks();
        // zigzag(100) = 200; zigzag(-201) = 401 = 0x91 0x03.
        assert_eq!(compact_chunks.as_slices()[3], &[0xc8, 0x01]);
        assert_eq!(compact_chunks.as_slices()[4], &[0x91, 0x03]);
        let back = V1Message::from_chunks_with(&compact_chunks, KeyIdEncoding::Compact).unwrap();
        assert_eq!(back.to_chunks(), compact_chunks);
        let opened = back.open(&bob, &alice.public_key()).unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"x");
        assert_eq!(opened.recipient_key_id, LegacyKeyId::new(-201));
        assert_eq!(
            V1Message::from_chunks(&compact_chunks).unwrap_err(),
            LegacyError::Malformed
        );
    }

    #[test]
    fn message_accessors() {
        let (alice, bob) = parties();
        let chunks = seal_v1_with_salt(&[9; 8], &alice, &bob[0].public(), b"x").unwrap();
        let message = V1Message::from_chunks(&chunks).unwrap();
        assert_eq!(message.salt(), &[9; 8]);
        assert_eq!(message.ciphertext().len(), 16);
        assert_eq!(message.mac().len(), 16);
        assert_eq!(message.recipient_key_id(), LegacyKeyId::new(200));
        assert_eq!(message.to_chunks(), chunks);
    }
}
