//! Legacy 1:1 version 2 (SPEC.md §11.3); group messages reuse it (§11.4).
//!
//! ```text
//! salt  = 16 random bytes                    K = SHA256(SS ‖ salt ‖ "Key")
//! nonce = 16 random bytes (deployed clients; the default), or 12 bytes:
//!         random, or u64be(counter) ‖ 4 random bytes (the whitepaper's layout)
//! AAD   = to (33) ‖ from (33) ‖ i32be(senderKeyId) ‖ i32be(recipientKeyId) ‖ i32be(2) ‖ i32be(contentType)
//! C‖tag = AES-256-GCM(K, nonce, AAD, M)
//! chunks = [salt (16), C‖tag, nonce, senderKeyId, recipientKeyId]
//! ```
//!
//! A 16-byte nonce is what deployed clients send; GCM then derives `J0` with
//! GHASH. [`seal_v2`] takes the length as a [`NonceLength`] (default
//! [`NonceLength::Sixteen`]); [`seal_v2_with`] takes an explicit [`V2Nonce`].
//! The opener accepts 12- and 16-byte nonces; any other length is
//! [`LegacyError::Malformed`]. A counter in the nonce is not checked —
//! receivers never did, which is the replay weakness of §11.8. The key-id
//! chunks are `i32be` or Thrift compact ([`KeyIdEncoding`]); the AAD always
//! carries `i32be`.
//!
//! ```
//! use letterseal_legacy::ids::{KeyIdEncoding, LegacyContentType, LegacyKeyId, LineId};
//! use letterseal_legacy::keys::LegacyKeyPair;
//! use letterseal_legacy::v2::{Envelope, NonceLength, V2Message, V2Nonce, open_v2, seal_v2, seal_v2_with};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
//!
//! let alice = LegacyKeyPair::from_bytes(LegacyKeyId::new(1), &[1; 32]);
//! let bob = [LegacyKeyPair::from_bytes(LegacyKeyId::new(2), &[2; 32])];
//! let envelope = Envelope {
//!     to: LineId::parse("u00000000000000000000000000000000")?,
//!     from: LineId::parse("u11111111111111111111111111111111")?,
//!     content_type: LegacyContentType::TEXT,
//! };
//! // The default: 16 random nonce bytes, as deployed clients send.
//! let chunks = seal_v2(&mut rng, NonceLength::default(), &alice, &bob[0].public(), &envelope, b"{}")?;
//! assert_eq!(chunks.as_slices()[2].len(), 16);
//! assert_eq!(open_v2(&bob, &alice.public_key(), &envelope, &chunks)?.plaintext.as_slice(), b"{}");
//!
//! // The whitepaper's 12-byte counter nonce, and compact key-id chunks.
//! let nonce = V2Nonce::from_counter(7, [0; 4]);
//! let chunks = seal_v2_with(&[9; 16], &nonce, &alice, &bob[0].public(), &envelope, b"{}")?;
//! let compact = V2Message::from_chunks(&chunks)?.with_key_id_encoding(KeyIdEncoding::Compact);
//! assert_eq!(compact.to_chunks().as_slices()[4], &[0x04]);
//! let opened = compact.open(&bob, &alice.public_key(), &envelope)?;
//! assert_eq!(opened.plaintext.as_slice(), b"{}");
//! # Ok::<(), letterseal_legacy::LegacyError>(())
//! ```

use alloc::vec::Vec;

use aes_gcm::aead::consts::{U12, U16};
use rand_core::CryptoRng;

use super::chunks::Chunks;
use super::crypto::{self, TAG_LEN};
use super::ids::{KeyIdEncoding, LINE_ID_LEN, LegacyContentType, LegacyKeyId, LineId};
use super::keys::{LegacyPrivateKey, LegacyPublicKey, LegacySharedSecret, find_key};
use super::{LegacyError, Opened};
use crate::keys::X25519PublicKey;

/// Length of the v2 salt.
pub const SALT_LEN: usize = 16;
/// The version number bound into the AAD.
pub const VERSION: i32 = 2;
/// Length of the AAD: two ids and four `i32`s.
pub const AAD_LEN: usize = 2 * LINE_ID_LEN + 4 * 4;

/// The length of the random nonce a v2 sealer draws (SPEC.md §11.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NonceLength {
    /// 12 random bytes: standard GCM, as some third-party clients send.
    Twelve,
    /// 16 random bytes, as deployed clients send (the default); GCM derives
    /// `J0` with GHASH.
    #[default]
    Sixteen,
}

impl NonceLength {
    /// The length in bytes.
    pub fn bytes(self) -> usize {
        match self {
            Self::Twelve => 12,
            Self::Sixteen => 16,
        }
    }
}

/// A v2 nonce: 12 bytes (the whitepaper's layout, or random), or the 16
/// random bytes deployed clients send (SPEC.md §11.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum V2Nonce {
    /// 12 bytes: standard GCM. The documented layout is `u64be(counter) ‖ 4 random bytes`.
    Standard([u8; 12]),
    /// 16 bytes: GCM with a non-96-bit IV.
    Long([u8; 16]),
}

impl V2Nonce {
    /// The documented nonce: `u64be(counter) ‖ random` (SPEC.md §11.3).
    pub fn from_counter(counter: u64, random: [u8; 4]) -> Self {
        let mut nonce = [0u8; 12];
        let (high, low) = nonce.split_at_mut(8);
        high.copy_from_slice(&counter.to_be_bytes());
        low.copy_from_slice(&random);
        Self::Standard(nonce)
    }

    /// A fresh random nonce of `length` bytes from `rng`.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R, length: NonceLength) -> Self {
        match length {
            NonceLength::Twelve => {
                let mut nonce = [0u8; 12];
                rng.fill_bytes(&mut nonce);
                Self::Standard(nonce)
            }
            NonceLength::Sixteen => {
                let mut nonce = [0u8; 16];
                rng.fill_bytes(&mut nonce);
                Self::Long(nonce)
            }
        }
    }

    /// A 12- or 16-byte nonce chunk; other lengths are [`LegacyError::Malformed`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, LegacyError> {
        if let Ok(nonce) = <[u8; 12]>::try_from(bytes) {
            Ok(Self::Standard(nonce))
        } else if let Ok(nonce) = <[u8; 16]>::try_from(bytes) {
            Ok(Self::Long(nonce))
        } else {
            Err(LegacyError::Malformed)
        }
    }

    /// The nonce bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Standard(nonce) => nonce,
            Self::Long(nonce) => nonce,
        }
    }
}

/// What both sides know besides the chunks: the ids and the content type,
/// bound into the AAD (SPEC.md §11.3). For a group message `to` is the group id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Envelope {
    /// The recipient user, or the group.
    pub to: LineId,
    /// The sender.
    pub from: LineId,
    /// The content type.
    pub content_type: LegacyContentType,
}

impl Envelope {
    /// `to ‖ from ‖ i32be(senderKeyId) ‖ i32be(recipientKeyId) ‖ i32be(2) ‖
    /// i32be(contentType)`, 82 bytes (SPEC.md §11.3).
    pub fn aad(&self, sender_key_id: LegacyKeyId, recipient_key_id: LegacyKeyId) -> [u8; AAD_LEN] {
        let mut aad = [0u8; AAD_LEN];
        let parts: [&[u8]; 6] = [
            self.to.as_bytes(),
            self.from.as_bytes(),
            &sender_key_id.to_be_bytes(),
            &recipient_key_id.to_be_bytes(),
            &VERSION.to_be_bytes(),
            &self.content_type.get().to_be_bytes(),
        ];
        let mut rest = aad.as_mut_slice();
        for part in parts {
            let (head, tail) = rest.split_at_mut(part.len());
            head.copy_from_slice(part);
            rest = tail;
        }
        aad
    }
}

/// A v2 message whose chunk lengths have been checked (not yet authenticated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2Message {
    salt: [u8; SALT_LEN],
    sealed: Vec<u8>,
    nonce: V2Nonce,
    sender_key_id: LegacyKeyId,
    recipient_key_id: LegacyKeyId,
    key_id_encoding: KeyIdEncoding,
}

impl V2Message {
    /// Checks the chunk lengths (SPEC.md §11.3): salt 16 bytes, `C ‖ tag` at
    /// least 16, nonce 12 or 16, key ids 4 bytes each (big-endian); otherwise
    /// [`LegacyError::Malformed`].
    pub fn from_chunks(chunks: &Chunks) -> Result<Self, LegacyError> {
        Self::from_chunks_with(chunks, KeyIdEncoding::BigEndian)
    }

    /// [`V2Message::from_chunks`] with key-id chunks in `key_id_encoding`;
    /// a compact chunk that is not a valid encoding gives its typed error
    /// (SPEC.md §11.1). The chunks are checked in order: salt, nonce, sender
    /// key id, recipient key id, `C ‖ tag`.
    pub fn from_chunks_with(
        chunks: &Chunks,
        key_id_encoding: KeyIdEncoding,
    ) -> Result<Self, LegacyError> {
        let parts = V2Parts::parse(chunks, key_id_encoding)?;
        Ok(Self {
            salt: parts.salt,
            sealed: parts.sealed.to_vec(),
            nonce: parts.nonce,
            sender_key_id: parts.sender_key_id,
            recipient_key_id: parts.recipient_key_id,
            key_id_encoding,
        })
    }

    /// The five chunks, key ids in the message's [`KeyIdEncoding`].
    pub fn to_chunks(&self) -> Chunks {
        Chunks::new([
            self.salt.to_vec(),
            self.sealed.clone(),
            self.nonce.as_bytes().to_vec(),
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

    /// The five chunks, consuming the message (no copy of `C ‖ tag`).
    pub fn into_chunks(self) -> Chunks {
        let sender = self.sender_key_id.encode(self.key_id_encoding);
        let recipient = self.recipient_key_id.encode(self.key_id_encoding);
        Chunks::new([
            self.salt.to_vec(),
            self.sealed,
            self.nonce.as_bytes().to_vec(),
            sender.as_bytes().to_vec(),
            recipient.as_bytes().to_vec(),
        ])
    }

    /// How the key-id chunks are written.
    pub fn key_id_encoding(&self) -> KeyIdEncoding {
        self.key_id_encoding
    }

    /// The same message with its key-id chunks written in `encoding` (the AAD,
    /// built from the integers, does not change).
    #[must_use]
    pub fn with_key_id_encoding(mut self, encoding: KeyIdEncoding) -> Self {
        self.key_id_encoding = encoding;
        self
    }

    /// The sender key id, to look up the sender's public key.
    pub fn sender_key_id(&self) -> LegacyKeyId {
        self.sender_key_id
    }

    /// The recipient key id (the group key id for group messages).
    pub fn recipient_key_id(&self) -> LegacyKeyId {
        self.recipient_key_id
    }

    /// The 16-byte salt.
    pub fn salt(&self) -> &[u8; SALT_LEN] {
        &self.salt
    }

    /// `C ‖ tag`.
    pub fn sealed(&self) -> &[u8] {
        &self.sealed
    }

    /// The nonce.
    pub fn nonce(&self) -> &V2Nonce {
        &self.nonce
    }

    /// Opens with the recipient's key pair named by the recipient key id and
    /// the sender's public key (SPEC.md §11.3): [`LegacyError::UnknownKey`],
    /// [`LegacyError::NonContributory`], then [`LegacyError::DecryptionFailed`].
    pub fn open<K: LegacyPrivateKey>(
        &self,
        recipient_keys: &[K],
        sender_public: &X25519PublicKey,
        envelope: &Envelope,
    ) -> Result<Opened, LegacyError> {
        let recipient = find_key(recipient_keys, self.recipient_key_id)?;
        let shared = recipient.agree(sender_public)?;
        self.open_shared(&shared, envelope)
    }

    /// Opens with `SS` already agreed (SPEC.md §11.3): `K = SHA256(SS ‖ salt ‖
    /// "Key")`, then AES-256-GCM with the AAD of `envelope` and the message's
    /// key ids; a failed tag is [`LegacyError::DecryptionFailed`].
    pub(crate) fn open_shared(
        &self,
        shared: &LegacySharedSecret,
        envelope: &Envelope,
    ) -> Result<Opened, LegacyError> {
        V2Parts {
            salt: self.salt,
            sealed: &self.sealed,
            nonce: self.nonce,
            sender_key_id: self.sender_key_id,
            recipient_key_id: self.recipient_key_id,
        }
        .open_shared(shared, envelope)
    }

    /// Seals with `SS` already agreed (SPEC.md §11.3).
    pub(crate) fn seal_shared(
        shared: &LegacySharedSecret,
        salt: &[u8; SALT_LEN],
        nonce: &V2Nonce,
        sender_key_id: LegacyKeyId,
        recipient_key_id: LegacyKeyId,
        envelope: &Envelope,
        plaintext: &[u8],
    ) -> Result<Self, LegacyError> {
        let key = crypto::message_key(shared, salt);
        let aad = envelope.aad(sender_key_id, recipient_key_id);
        let sealed = match nonce {
            V2Nonce::Standard(n) => crypto::gcm_seal::<U12>(&key, n, &aad, plaintext),
            V2Nonce::Long(n) => crypto::gcm_seal::<U16>(&key, n, &aad, plaintext),
        }?;
        Ok(Self {
            salt: *salt,
            sealed,
            nonce: *nonce,
            sender_key_id,
            recipient_key_id,
            key_id_encoding: KeyIdEncoding::BigEndian,
        })
    }
}

/// The checked chunks of a v2 message, borrowed: what [`V2Message`] holds,
/// without copying `C ‖ tag` (sessions open from these).
pub(crate) struct V2Parts<'a> {
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) sealed: &'a [u8],
    pub(crate) nonce: V2Nonce,
    pub(crate) sender_key_id: LegacyKeyId,
    pub(crate) recipient_key_id: LegacyKeyId,
}

impl<'a> V2Parts<'a> {
    /// The checks of [`V2Message::from_chunks_with`], in its order.
    pub(crate) fn parse(
        chunks: &'a Chunks,
        key_id_encoding: KeyIdEncoding,
    ) -> Result<Self, LegacyError> {
        let [salt, sealed, nonce, sender, recipient] = chunks.as_slices();
        // Fixed-size chunks first, then the variable one.
        let salt = salt.try_into().map_err(|_| LegacyError::Malformed)?;
        let nonce = V2Nonce::from_slice(nonce)?;
        let sender_key_id = LegacyKeyId::decode(sender, key_id_encoding)?;
        let recipient_key_id = LegacyKeyId::decode(recipient, key_id_encoding)?;
        if sealed.len() < TAG_LEN {
            return Err(LegacyError::Malformed);
        }
        Ok(Self {
            salt,
            sealed,
            nonce,
            sender_key_id,
            recipient_key_id,
        })
    }

    /// [`V2Message::open_shared`] on borrowed chunks.
    pub(crate) fn open_shared(
        &self,
        shared: &LegacySharedSecret,
        envelope: &Envelope,
    ) -> Result<Opened, LegacyError> {
        let key = crypto::message_key(shared, &self.salt);
        let aad = envelope.aad(self.sender_key_id, self.recipient_key_id);
        let plaintext = match &self.nonce {
            V2Nonce::Standard(nonce) => crypto::gcm_open::<U12>(&key, nonce, &aad, self.sealed),
            V2Nonce::Long(nonce) => crypto::gcm_open::<U16>(&key, nonce, &aad, self.sealed),
        }?;
        Ok(Opened {
            plaintext,
            sender_key_id: self.sender_key_id,
            recipient_key_id: self.recipient_key_id,
        })
    }
}

/// Seals `plaintext` for `recipient` (SPEC.md §11.3): a fresh 16-byte salt,
/// then a random nonce of `nonce_length` bytes, both from `rng`; big-endian
/// key-id chunks (re-encode with [`V2Message::with_key_id_encoding`]).
/// [`NonceLength::default()`] is what deployed clients send.
pub fn seal_v2<R: CryptoRng + ?Sized>(
    rng: &mut R,
    nonce_length: NonceLength,
    sender: &impl LegacyPrivateKey,
    recipient: &LegacyPublicKey,
    envelope: &Envelope,
    plaintext: &[u8],
) -> Result<Chunks, LegacyError> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let nonce = V2Nonce::random(rng, nonce_length);
    seal_v2_with(&salt, &nonce, sender, recipient, envelope, plaintext)
}

/// [`seal_v2`] with an explicit salt and nonce, for test vectors, the
/// whitepaper's counter nonce ([`V2Nonce::from_counter`]) and reproducing
/// other clients. A (salt, nonce) pair must never repeat between the same two
/// keys.
pub fn seal_v2_with(
    salt: &[u8; SALT_LEN],
    nonce: &V2Nonce,
    sender: &impl LegacyPrivateKey,
    recipient: &LegacyPublicKey,
    envelope: &Envelope,
    plaintext: &[u8],
) -> Result<Chunks, LegacyError> {
    let shared = sender.agree(&recipient.key)?;
    let message = V2Message::seal_shared(
        &shared,
        salt,
        nonce,
        sender.key_id(),
        recipient.key_id,
        envelope,
        plaintext,
    )?;
    Ok(message.into_chunks())
}

/// Checks the chunks and opens them with the recipient's key pairs
/// (SPEC.md §11.3); see [`V2Message::open`] for the checks and their order.
/// Key-id chunks are read big-endian; for compact ones use
/// [`V2Message::from_chunks_with`] or a [session](super::session).
pub fn open_v2<K: LegacyPrivateKey>(
    recipient_keys: &[K],
    sender_public: &X25519PublicKey,
    envelope: &Envelope,
    chunks: &Chunks,
) -> Result<Opened, LegacyError> {
    V2Message::from_chunks(chunks)?.open(recipient_keys, sender_public, envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::LegacyKeyPair;
    use alloc::vec;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const TO: &str = "u00000000000000000000000000000000";
    const FROM: &str = "u11111111111111111111111111111111";

    fn parties() -> (LegacyKeyPair, [LegacyKeyPair; 1], Envelope) {
        let envelope = Envelope {
            to: LineId::parse(TO).unwrap(),
            from: LineId::parse(FROM).unwrap(),
            content_type: LegacyContentType::TEXT,
        };
        (
            LegacyKeyPair::from_bytes(LegacyKeyId::new(100), &[1; 32]),
            [LegacyKeyPair::from_bytes(LegacyKeyId::new(200), &[2; 32])],
            envelope,
        )
    }

    #[test]
    fn aad_layout() {
        let (_, _, envelope) = parties();
        let aad = envelope.aad(LegacyKeyId::new(0x0102_0304), LegacyKeyId::new(-1));
        assert_eq!(aad.len(), 82);
        assert_eq!(&aad[..33], TO.as_bytes());
        assert_eq!(&aad[33..66], FROM.as_bytes());
        assert_eq!(
            &aad[66..],
            &[1, 2, 3, 4, 255, 255, 255, 255, 0, 0, 0, 2, 0, 0, 0, 0]
        );
    }

    #[test]
    fn nonce_layout_and_lengths() {
        let nonce = V2Nonce::from_counter(0x0102_0304_0506_0708, [9, 10, 11, 12]);
        assert_eq!(nonce.as_bytes(), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert_eq!(
            V2Nonce::from_slice(&[0; 12]),
            Ok(V2Nonce::Standard([0; 12]))
        );
        assert_eq!(V2Nonce::from_slice(&[0; 16]), Ok(V2Nonce::Long([0; 16])));
        for len in [0usize, 8, 11, 13, 15, 17, 32] {
            assert_eq!(
                V2Nonce::from_slice(&vec![0; len]),
                Err(LegacyError::Malformed)
            );
        }
    }

    #[test]
    fn round_trip_with_rng_and_counter() {
        let (alice, bob, envelope) = parties();
        let mut rng = ChaCha20Rng::from_seed([0; 32]);
        let chunks = seal_v2(
            &mut rng,
            NonceLength::Twelve,
            &alice,
            &bob[0].public(),
            &envelope,
            b"{\"text\":\"a\"}",
        )
        .unwrap();
        let [salt, sealed, nonce, s, r] = chunks.as_slices();
        assert_eq!(salt.len(), 16);
        assert_eq!(sealed.len(), 12 + 16);
        assert_eq!(nonce.len(), 12);
        assert_eq!(
            (s, r),
            (&100i32.to_be_bytes()[..], &200i32.to_be_bytes()[..])
        );
        let opened = open_v2(&bob, &alice.public_key(), &envelope, &chunks).unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"{\"text\":\"a\"}");
        assert_eq!(opened.sender_key_id, LegacyKeyId::new(100));
    }

    #[test]
    fn known_answers_against_python() {
        // Computed independently with Python `cryptography` (Cipher(AES(K), GCM(nonce))):
        // ss = X25519([1]*32, X25519([2]*32, 9)); salt = 00..0f; K = sha256(ss+salt+b"Key");
        // AAD = TO ‖ FROM ‖ i32be(100) ‖ i32be(200) ‖ i32be(2) ‖ i32be(0).
        let (alice, bob, envelope) = parties();
        let salt: [u8; 16] = core::array::from_fn(|i| i as u8);
        for (nonce, expected) in [
            (
                V2Nonce::Standard(core::array::from_fn(|i| i as u8)),
                "46ba32116c3522a3b3771a5e71433aea0e90cc85a0e27d865fc6fcf8b6",
            ),
            (
                V2Nonce::Long(core::array::from_fn(|i| i as u8)),
                "4460afa88dbdc1e736ae7ddd103cfaf54fe094ee3c2b77928a23f5845d",
            ),
        ] {
            let chunks = seal_v2_with(
                &salt,
                &nonce,
                &alice,
                &bob[0].public(),
                &envelope,
                b"{\"text\":\"hi\"}",
            )
            .unwrap();
            assert_eq!(hex::encode(chunks.as_slices()[1]), expected);
            let opened = open_v2(&bob, &alice.public_key(), &envelope, &chunks).unwrap();
            assert_eq!(opened.plaintext.as_slice(), b"{\"text\":\"hi\"}");
        }
    }

    #[test]
    fn malformed_chunks() {
        let (alice, bob, envelope) = parties();
        let chunks = seal_v2_with(
            &[3; 16],
            &V2Nonce::Standard([4; 12]),
            &alice,
            &bob[0].public(),
            &envelope,
            b"x",
        )
        .unwrap();
        let good = chunks.into_array();
        let variants: [(usize, Vec<u8>); 9] = [
            (0, vec![3; 8]),
            (0, vec![3; 17]),
            (1, vec![]),
            (1, vec![0; 15]),
            (2, vec![4; 11]),
            (2, vec![4; 13]),
            (2, vec![4; 24]),
            (3, vec![0; 3]),
            (4, vec![0; 5]),
        ];
        for (index, replacement) in variants {
            let mut bad = good.clone();
            bad[index] = replacement;
            assert_eq!(
                open_v2(&bob, &alice.public_key(), &envelope, &Chunks::new(bad)).unwrap_err(),
                LegacyError::Malformed,
                "chunk {index}"
            );
        }
    }

    #[test]
    fn every_tampered_byte_and_every_aad_field_fails() {
        let (alice, bob, envelope) = parties();
        let chunks = seal_v2_with(
            &[3; 16],
            &V2Nonce::Long([4; 16]),
            &alice,
            &bob[0].public(),
            &envelope,
            b"tamper me",
        )
        .unwrap();
        let good = chunks.clone().into_array();
        for index in 0..4 {
            for byte in 0..good[index].len() {
                let mut bad = good.clone();
                bad[index][byte] ^= 0x80;
                assert_eq!(
                    open_v2(&bob, &alice.public_key(), &envelope, &Chunks::new(bad)).unwrap_err(),
                    LegacyError::DecryptionFailed,
                    "chunk {index} byte {byte}"
                );
            }
        }
        let other = LineId::parse("u22222222222222222222222222222222").unwrap();
        for wrong in [
            Envelope {
                to: other,
                ..envelope
            },
            Envelope {
                from: other,
                ..envelope
            },
            Envelope {
                content_type: LegacyContentType::LOCATION,
                ..envelope
            },
        ] {
            assert_eq!(
                open_v2(&bob, &alice.public_key(), &wrong, &chunks).unwrap_err(),
                LegacyError::DecryptionFailed
            );
        }
        // A 12-byte prefix of the 16-byte nonce is a different IV.
        let mut short = good.clone();
        short[2].truncate(12);
        assert_eq!(
            open_v2(&bob, &alice.public_key(), &envelope, &Chunks::new(short)).unwrap_err(),
            LegacyError::DecryptionFailed
        );
    }

    #[test]
    fn unknown_key_and_non_contributory() {
        let (alice, bob, envelope) = parties();
        let chunks = seal_v2_with(
            &[3; 16],
            &V2Nonce::Standard([4; 12]),
            &alice,
            &bob[0].public(),
            &envelope,
            b"x",
        )
        .unwrap();
        let mut other_id = chunks.clone().into_array();
        other_id[4] = 201i32.to_be_bytes().to_vec();
        assert_eq!(
            open_v2(&bob, &alice.public_key(), &envelope, &Chunks::new(other_id)).unwrap_err(),
            LegacyError::UnknownKey
        );
        assert_eq!(
            open_v2::<LegacyKeyPair>(&[], &alice.public_key(), &envelope, &chunks).unwrap_err(),
            LegacyError::UnknownKey
        );
        let small = X25519PublicKey::from_bytes([0; 32]);
        assert_eq!(
            open_v2(&bob, &small, &envelope, &chunks).unwrap_err(),
            LegacyError::NonContributory
        );
    }

    #[test]
    fn replay_is_accepted() {
        // §11.8: no state, so the same chunks open any number of times.
        let (alice, bob, envelope) = parties();
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let chunks = seal_v2(
            &mut rng,
            NonceLength::default(),
            &alice,
            &bob[0].public(),
            &envelope,
            b"x",
        )
        .unwrap();
        assert_eq!(chunks.as_slices()[2].len(), 16);
        for _ in 0..3 {
            assert!(open_v2(&bob, &alice.public_key(), &envelope, &chunks).is_ok());
        }
    }

    #[test]
    fn key_id_encodings_share_the_aad() {
        let (alice, bob, envelope) = parties();
        let chunks = seal_v2_with(
            &[3; 16],
            &V2Nonce::Long([4; 16]),
            &alice,
            &bob[0].public(),
            &envelope,
            b"x",
        )
        .unwrap();
        let message = V2Message::from_chunks(&chunks).unwrap();
        assert_eq!(message.key_id_encoding(), KeyIdEncoding::BigEndian);
        let compact = message.clone().with_key_id_encoding(KeyIdEncoding::Compact);
        assert_eq!(compact.key_id_encoding(), KeyIdEncoding::Compact);
        let compact_chunks = compact.to_chunks();
        assert_eq!(compact_chunks.as_slices()[1], chunks.as_slices()[1]);
        // zigzag(100) = 200 = 0xc8 0x01; zigzag(200) = 400 = 0x90 0x03.
        assert_eq!(compact_chunks.as_slices()[3], &[0xc8, 0x01]);
        assert_eq!(compact_chunks.as_slices()[4], &[0x90, 0x03]);
        let back = V2Message::from_chunks_with(&compact_chunks, KeyIdEncoding::Compact).unwrap();
        assert_eq!(back, compact);
        assert_eq!(back.to_chunks(), compact_chunks);
        assert_eq!(back.clone().into_chunks(), compact_chunks);
        let opened = back.open(&bob, &alice.public_key(), &envelope).unwrap();
        assert_eq!(opened.plaintext.as_slice(), b"x");
        // The big-endian reader refuses compact chunks, and vice versa.
        assert_eq!(
            V2Message::from_chunks(&compact_chunks).unwrap_err(),
            LegacyError::Malformed
        );
        assert_eq!(
            V2Message::from_chunks_with(&chunks, KeyIdEncoding::Compact).unwrap_err(),
            LegacyError::TrailingData
        );
        assert_eq!(NonceLength::Twelve.bytes(), 12);
        assert_eq!(NonceLength::default().bytes(), 16);
    }

    #[test]
    fn message_accessors() {
        let (alice, bob, envelope) = parties();
        let nonce = V2Nonce::Standard([4; 12]);
        let chunks =
            seal_v2_with(&[3; 16], &nonce, &alice, &bob[0].public(), &envelope, b"x").unwrap();
        let message = V2Message::from_chunks(&chunks).unwrap();
        assert_eq!(message.salt(), &[3; 16]);
        assert_eq!(message.sealed().len(), 17);
        assert_eq!(message.nonce(), &nonce);
        assert_eq!(message.sender_key_id(), LegacyKeyId::new(100));
        assert_eq!(message.recipient_key_id(), LegacyKeyId::new(200));
        assert_eq!(message.to_chunks(), chunks);
    }
}
