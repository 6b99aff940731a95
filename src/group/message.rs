//! The group message header (SPEC.md §8.8).

use alloc::vec::Vec;

use super::roster::GroupId;
use super::schedule::{EPOCH_TAG_LEN, EpochTag};
use super::{GROUP_VERSION, KIND_GROUP_MESSAGE};
use crate::codec::{DecodeError, Reader, Writer};
use crate::ids::DeviceAddress;
use crate::pairwise::{COMMITMENT_LEN, ContentType, SALT_LEN};

/// A decoded group message header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupHeader {
    /// What the message carries.
    pub content_type: ContentType,
    /// The group.
    pub group_id: GroupId,
    /// The epoch whose secret sealed the message.
    pub epoch: u64,
    /// The tag of that epoch's transcript (SPEC.md §8.3).
    pub epoch_tag: EpochTag,
    /// The sending member device.
    pub sender: DeviceAddress,
    /// The sender's counter in this epoch.
    pub counter: u64,
    /// Fresh random salt.
    pub salt: [u8; SALT_LEN],
    /// Key commitment.
    pub commitment: [u8; COMMITMENT_LEN],
}

impl GroupHeader {
    /// `u8(2) ‖ u8(2) ‖ u16(content type) ‖ lp8(group id) ‖ u64(epoch) ‖ epoch tag
    /// ‖ sender address ‖ u64(counter)`.
    pub fn bound_fields(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(96 + self.group_id.as_bytes().len());
        self.write_bound(&mut w);
        w.into_bytes()
    }

    fn write_bound(&self, w: &mut Writer) {
        w.u8(GROUP_VERSION);
        w.u8(KIND_GROUP_MESSAGE);
        w.u16(self.content_type.code());
        self.group_id.encode(w);
        w.u64(self.epoch);
        w.raw(self.epoch_tag.as_bytes());
        self.sender.encode(w);
        w.u64(self.counter);
    }

    /// `bound ‖ salt ‖ commitment`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(160 + self.group_id.as_bytes().len());
        self.write_bound(&mut w);
        w.raw(&self.salt);
        w.raw(&self.commitment);
        w.into_bytes()
    }

    /// Reads a header, checking version and kind.
    ///
    /// Public with the `hazmat` feature only: applications never need it.
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u8()?;
        if version != GROUP_VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        if r.u8()? != KIND_GROUP_MESSAGE {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self {
            content_type: ContentType::from(r.u16()?),
            group_id: GroupId::decode(r)?,
            epoch: r.u64()?,
            epoch_tag: EpochTag::from_bytes(r.array::<EPOCH_TAG_LEN>()?),
            sender: DeviceAddress::decode(r)?,
            counter: r.u64()?,
            salt: r.array()?,
            commitment: r.array()?,
        })
    }
}
