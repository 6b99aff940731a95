//! The pairwise message header (SPEC.md §7.3).

use alloc::vec::Vec;
use core::fmt;

use crate::codec::{DecodeError, Reader, Writer};
use crate::keys::{
    KEM_CIPHERTEXT_LEN, KEM_ENCAPSULATION_KEY_LEN, KemCiphertext, KemEncapsulationKey, KemKeyId,
    SealingKeyId, SealingPublicKey,
};

use crate::message::{COMMITMENT_LEN, ContentType, SALT_LEN};

/// Wire version of LS3 pairwise messages (the ratchet; version 1 was draft 1's static sessions).
pub const VERSION: u8 = 2;
/// Message kind byte of pairwise messages.
pub const KIND_PAIRWISE: u8 = 1;
/// Flag: the message carries the fields that start a session (SPEC.md §7.5).
pub const FLAG_INIT: u8 = 0x01;
/// Flag: the start used one of the responder's one-time keys.
pub const FLAG_ONE_TIME: u8 = 0x02;
/// Flag: the message's epoch is a KEM step (SPEC.md §7.6).
pub const FLAG_KEM_STEP: u8 = 0x04;
/// Length of a session id.
pub const SESSION_ID_LEN: usize = 16;
/// Length of the header fields every message has, before the optional ones.
pub const FIXED_FIELDS_LEN: usize = 1 + 1 + 1 + 2 + SESSION_ID_LEN + 32 + 4 + 4 + 4;
/// Length of the smallest header (no optional fields).
pub const MIN_HEADER_LEN: usize = FIXED_FIELDS_LEN + SALT_LEN + COMMITMENT_LEN;

/// Identifies one ratchet state of a session (SPEC.md §7.5).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId([u8; SESSION_ID_LEN]);

impl SessionId {
    /// Wraps raw bytes.
    pub fn from_bytes(bytes: [u8; SESSION_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; SESSION_ID_LEN] {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(")?;
        crate::keys::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// The fields that start a session, repeated by the initiator until it hears
/// back (SPEC.md §7.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitFields {
    /// The initiator's sealing key (`s_A`).
    pub initiator_key_id: SealingKeyId,
    /// The responder's sealing key (`SPK_B`).
    pub responder_key_id: SealingKeyId,
    /// The responder's KEM key (`K_B`).
    pub kem_key_id: KemKeyId,
    /// `ML-KEM-768.Encaps(K_B)`.
    pub kem_ciphertext: KemCiphertext,
    /// The responder's one-time key, if one was used.
    pub one_time_key_id: Option<SealingKeyId>,
}

/// The fields of a KEM step (SPEC.md §7.6), carried by every message of the epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KemStepFields {
    /// The receiver's KEM key encapsulated to.
    pub kem_key_id: KemKeyId,
    /// The ciphertext.
    pub kem_ciphertext: KemCiphertext,
    /// The sender's new KEM key, for the receiver's next KEM step.
    pub new_kem_key: KemEncapsulationKey,
}

/// A decoded pairwise header. Authenticated as AEAD associated data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// What the message carries (and so its chain).
    pub content_type: ContentType,
    /// The ratchet state the message belongs to.
    pub session_id: SessionId,
    /// The sender's current ratchet key.
    pub ratchet_key: SealingPublicKey,
    /// Length of the sender's previous message chain.
    pub previous_message_chain: u32,
    /// Length of the sender's previous control chain.
    pub previous_control_chain: u32,
    /// The message's number in its chain.
    pub n: u32,
    /// Present until the initiator hears back.
    pub init: Option<InitFields>,
    /// Present on every message of a KEM-step epoch.
    pub kem_step: Option<KemStepFields>,
    /// The hedged salt (SPEC.md §3.5).
    pub salt: [u8; SALT_LEN],
    /// The key commitment.
    pub commitment: [u8; COMMITMENT_LEN],
}

impl Header {
    fn flags(&self) -> u8 {
        let mut flags = 0;
        if let Some(init) = &self.init {
            flags |= FLAG_INIT;
            if init.one_time_key_id.is_some() {
                flags |= FLAG_ONE_TIME;
            }
        }
        if self.kem_step.is_some() {
            flags |= FLAG_KEM_STEP;
        }
        flags
    }

    /// The length of [`Self::bound`].
    pub fn bound_len(&self) -> usize {
        let init = self.init.as_ref().map_or(0, |i| {
            16 + 16 + 16 + KEM_CIPHERTEXT_LEN + i.one_time_key_id.map_or(0, |_| 16)
        });
        let kem = self
            .kem_step
            .as_ref()
            .map_or(0, |_| 16 + KEM_CIPHERTEXT_LEN + KEM_ENCAPSULATION_KEY_LEN);
        FIXED_FIELDS_LEN + init + kem
    }

    /// The header without salt and commitment: the hedged salt's context.
    pub fn bound(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(self.bound_len() + SALT_LEN + COMMITMENT_LEN);
        self.write_bound(&mut w);
        w.into_bytes()
    }

    fn write_bound(&self, w: &mut Writer) {
        w.u8(VERSION);
        w.u8(KIND_PAIRWISE);
        w.u8(self.flags());
        w.u16(self.content_type.code());
        w.raw(self.session_id.as_bytes());
        w.raw(self.ratchet_key.as_bytes());
        w.u32(self.previous_message_chain);
        w.u32(self.previous_control_chain);
        w.u32(self.n);
        if let Some(init) = &self.init {
            w.raw(init.initiator_key_id.as_bytes());
            w.raw(init.responder_key_id.as_bytes());
            w.raw(init.kem_key_id.as_bytes());
            w.raw(init.kem_ciphertext.as_bytes());
            if let Some(id) = &init.one_time_key_id {
                w.raw(id.as_bytes());
            }
        }
        if let Some(kem) = &self.kem_step {
            w.raw(kem.kem_key_id.as_bytes());
            w.raw(kem.kem_ciphertext.as_bytes());
            w.raw(kem.new_kem_key.as_bytes());
        }
    }

    /// The whole header: bound ‖ salt ‖ commitment.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(self.bound_len() + SALT_LEN + COMMITMENT_LEN);
        self.write_bound(&mut w);
        w.raw(&self.salt);
        w.raw(&self.commitment);
        w.into_bytes()
    }

    /// Reads a header from the front of `r` (SPEC.md §7.3): version, kind,
    /// flags, every field complete, canonical keys, a valid new KEM key.
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u8()?;
        if version != VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        if r.u8()? != KIND_PAIRWISE {
            return Err(DecodeError::InvalidValue);
        }
        let flags = r.u8()?;
        if flags & !(FLAG_INIT | FLAG_ONE_TIME | FLAG_KEM_STEP) != 0
            || (flags & FLAG_ONE_TIME != 0 && flags & FLAG_INIT == 0)
        {
            return Err(DecodeError::InvalidValue);
        }
        let content_type = ContentType::from(r.u16()?);
        let session_id = SessionId(r.array()?);
        let ratchet_key = SealingPublicKey::from_bytes(r.array()?);
        if ratchet_key.validate().is_err() {
            return Err(DecodeError::InvalidValue);
        }
        let previous_message_chain = r.u32()?;
        let previous_control_chain = r.u32()?;
        let n = r.u32()?;
        if n == u32::MAX {
            // Senders stop at 2^32 − 2 (SealError::CounterExhausted).
            return Err(DecodeError::InvalidValue);
        }
        let init = if flags & FLAG_INIT != 0 {
            let initiator_key_id = SealingKeyId::from_bytes(r.array()?);
            let responder_key_id = SealingKeyId::from_bytes(r.array()?);
            let kem_key_id = KemKeyId::from_bytes(r.array()?);
            let kem_ciphertext = KemCiphertext::from_bytes(r.take(KEM_CIPHERTEXT_LEN)?)
                .map_err(|_| DecodeError::InvalidLength)?;
            let one_time_key_id = if flags & FLAG_ONE_TIME != 0 {
                Some(SealingKeyId::from_bytes(r.array()?))
            } else {
                None
            };
            Some(InitFields {
                initiator_key_id,
                responder_key_id,
                kem_key_id,
                kem_ciphertext,
                one_time_key_id,
            })
        } else {
            None
        };
        let kem_step = if flags & FLAG_KEM_STEP != 0 {
            let kem_key_id = KemKeyId::from_bytes(r.array()?);
            let kem_ciphertext = KemCiphertext::from_bytes(r.take(KEM_CIPHERTEXT_LEN)?)
                .map_err(|_| DecodeError::InvalidLength)?;
            let new_kem_key = KemEncapsulationKey::from_bytes(r.take(KEM_ENCAPSULATION_KEY_LEN)?)
                .map_err(|_| DecodeError::InvalidValue)?;
            Some(KemStepFields {
                kem_key_id,
                kem_ciphertext,
                new_kem_key,
            })
        } else {
            None
        };
        Ok(Self {
            content_type,
            session_id,
            ratchet_key,
            previous_message_chain,
            previous_control_chain,
            n,
            init,
            kem_step,
            salt: r.array()?,
            commitment: r.array()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SealingSecretKey;

    fn header() -> Header {
        Header {
            content_type: ContentType::Location,
            session_id: SessionId([0x11; 16]),
            ratchet_key: SealingSecretKey::from_bytes(&[7; 32]).public_key(),
            previous_message_chain: 3,
            previous_control_chain: 1,
            n: 0x0102_0304,
            init: None,
            kem_step: None,
            salt: [0xcc; 16],
            commitment: [0xdd; 32],
        }
    }

    #[test]
    fn layout_and_round_trip() {
        let h = header();
        let bytes = h.encode();
        assert_eq!(bytes.len(), MIN_HEADER_LEN);
        assert_eq!(&bytes[..5], &[2, 1, 0, 0, 1]);
        assert_eq!(
            &bytes[FIXED_FIELDS_LEN - 4..FIXED_FIELDS_LEN],
            &[1, 2, 3, 4]
        );
        assert_eq!(h.bound(), bytes[..FIXED_FIELDS_LEN]);
        let mut r = Reader::new(&bytes);
        assert_eq!(Header::decode(&mut r).unwrap(), h);
        r.finish().unwrap();
    }

    #[test]
    fn unknown_flags_and_lone_one_time_flag_are_refused() {
        let mut bytes = header().encode();
        for flags in [0x08u8, 0x80, FLAG_ONE_TIME] {
            bytes[2] = flags;
            assert_eq!(
                Header::decode(&mut Reader::new(&bytes)),
                Err(DecodeError::InvalidValue)
            );
        }
    }

    #[test]
    fn small_order_ratchet_keys_are_refused() {
        let mut bytes = header().encode();
        bytes[21..53].copy_from_slice(&[0; 32]);
        assert_eq!(
            Header::decode(&mut Reader::new(&bytes)),
            Err(DecodeError::InvalidValue)
        );
    }
}
