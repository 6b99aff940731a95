//! The pairwise message header (SPEC.md §7.3).

use crate::codec::{DecodeError, Reader, Writer};
use crate::keys::{KEY_ID_LEN, SealingKeyId};

use super::ContentType;

/// Wire version of LS3 messages.
pub const VERSION: u8 = 1;
/// Message kind byte of pairwise messages.
pub const KIND_PAIRWISE: u8 = 1;
/// Length of the per-message salt.
pub const SALT_LEN: usize = 16;
/// Length of the key commitment.
pub const COMMITMENT_LEN: usize = 32;
/// Length of the fields that enter the message-key derivation as context.
pub const BOUND_FIELDS_LEN: usize = 1 + 1 + 2 + 2 * KEY_ID_LEN + 8;
/// Length of the whole header.
pub const HEADER_LEN: usize = BOUND_FIELDS_LEN + SALT_LEN + COMMITMENT_LEN;

/// A decoded pairwise header. Authenticated as AEAD associated data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// What the message carries.
    pub content_type: ContentType,
    /// The sender's sealing key.
    pub sender_key_id: SealingKeyId,
    /// The recipient's sealing key.
    pub recipient_key_id: SealingKeyId,
    /// The sender's counter for this direction.
    pub counter: u64,
    /// Fresh random salt of the message-key derivation.
    pub salt: [u8; SALT_LEN],
    /// The key commitment.
    pub commitment: [u8; COMMITMENT_LEN],
}

impl Header {
    /// `u8(1) ‖ u8(1) ‖ u16(content type) ‖ sender key id ‖ recipient key id ‖ u64(counter)`:
    /// the fields bound into the message keys (SPEC.md §7.4).
    pub fn bound_fields(&self) -> [u8; BOUND_FIELDS_LEN] {
        let mut w = Writer::with_capacity(BOUND_FIELDS_LEN);
        w.u8(VERSION);
        w.u8(KIND_PAIRWISE);
        w.u16(self.content_type.code());
        w.raw(self.sender_key_id.as_bytes());
        w.raw(self.recipient_key_id.as_bytes());
        w.u64(self.counter);
        let mut out = [0u8; BOUND_FIELDS_LEN];
        out.copy_from_slice(w.as_bytes());
        out
    }

    /// The header's encoding: bound fields ‖ salt ‖ commitment.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (fields, rest) = out.split_at_mut(BOUND_FIELDS_LEN);
        let (salt, commitment) = rest.split_at_mut(SALT_LEN);
        fields.copy_from_slice(&self.bound_fields());
        salt.copy_from_slice(&self.salt);
        commitment.copy_from_slice(&self.commitment);
        out
    }

    /// Reads a header from the front of `r`, checking version and kind.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u8()?;
        if version != VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        if r.u8()? != KIND_PAIRWISE {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self {
            content_type: ContentType::from(r.u16()?),
            sender_key_id: SealingKeyId::from_bytes(r.array()?),
            recipient_key_id: SealingKeyId::from_bytes(r.array()?),
            counter: r.u64()?,
            salt: r.array()?,
            commitment: r.array()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let h = Header {
            content_type: ContentType::Location,
            sender_key_id: SealingKeyId::from_bytes([0xaa; 16]),
            recipient_key_id: SealingKeyId::from_bytes([0xbb; 16]),
            counter: 0x0102_0304_0506_0708,
            salt: [0xcc; 16],
            commitment: [0xdd; 32],
        };
        let bytes = h.encode();
        assert_eq!(HEADER_LEN, 92);
        assert_eq!(&bytes[..4], &[1, 1, 0, 1]);
        assert_eq!(&bytes[36..44], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut r = Reader::new(&bytes);
        assert_eq!(Header::decode(&mut r).unwrap(), h);
        r.finish().unwrap();
    }
}
