//! Group message format and sender chains (SPEC.md §8.5–8.6).

use alloc::vec::Vec;
use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::KIND_GROUP_MESSAGE;
use super::roster::{GroupId, RosterHash};
use crate::codec::{DecodeError, Reader, Writer};
use crate::ids::DeviceAddress;
use crate::kdf::derive_labeled;
use crate::keys::IdentityPublicKey;
use crate::labels;
use crate::pairwise::kdf::{MessageKeys, derive_message_keys};
use super::GROUP_VERSION as VERSION;
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
    /// `u8(1) ‖ u8(2) ‖ u16(content type) ‖ lp8(group id) ‖ u64(epoch) ‖ sender address ‖ u64(counter)`.
    pub fn bound_fields(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64 + self.group_id.as_bytes().len());
        self.write_bound(&mut w);
        w.into_bytes()
    }

    fn write_bound(&self, w: &mut Writer) {
        w.u8(VERSION);
        w.u8(KIND_GROUP_MESSAGE);
        w.u16(self.content_type.code());
        self.group_id.encode(w);
        w.u64(self.epoch);
        self.sender.encode(w);
        w.u64(self.counter);
    }

    /// `bound ‖ salt ‖ commitment`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(128 + self.group_id.as_bytes().len());
        self.write_bound(&mut w);
        w.raw(&self.salt);
        w.raw(&self.commitment);
        w.into_bytes()
    }

    /// Reads a header, checking version and kind.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u8()?;
        if version != VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        if r.u8()? != KIND_GROUP_MESSAGE {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self {
            content_type: ContentType::from(r.u16()?),
            group_id: GroupId::decode(r)?,
            epoch: r.u64()?,
            sender: DeviceAddress::decode(r)?,
            counter: r.u64()?,
            salt: r.array()?,
            commitment: r.array()?,
        })
    }
}

/// The 32-byte secret of one epoch. Zeroized on drop; `Debug` prints nothing.
#[derive(Clone, Zeroize, ZeroizeOnDrop, serde::Serialize, serde::Deserialize)]
pub struct EpochSecret(#[serde(with = "crate::serde_hex")] pub(crate) [u8; 32]);

impl EpochSecret {
    /// Wraps 32 bytes (for test vectors; epochs draw theirs from the RNG).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes (for test vectors and wrapping).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for EpochSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochSecret(<secret>)")
    }
}

/// A sender's chain key in one epoch. Zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SenderChain([u8; 32]);

impl SenderChain {
    /// The raw bytes (for test vectors).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The keys of one message: `DeriveLabeled(salt, chain, "group message", bound, 76)`.
    pub fn message_keys(&self, salt: &[u8; SALT_LEN], bound: &[u8]) -> MessageKeys {
        derive_message_keys(labels::kdf::GROUP_MESSAGE, &self.0, salt, bound)
    }
}

impl fmt::Debug for SenderChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SenderChain(<secret>)")
    }
}

/// `DeriveLabeled("", epoch secret, "group sender chain",
/// lp8(group id) ‖ u64(epoch) ‖ roster hash ‖ sender address ‖ sender identity key, 32)`.
pub fn sender_chain(
    secret: &EpochSecret,
    group_id: &GroupId,
    epoch: u64,
    roster_hash: &RosterHash,
    sender: &DeviceAddress,
    sender_identity: &IdentityPublicKey,
) -> SenderChain {
    let mut context = Writer::with_capacity(128 + group_id.as_bytes().len());
    group_id.encode(&mut context);
    context.u64(epoch);
    context.raw(roster_hash.as_bytes());
    sender.encode(&mut context);
    context.raw(sender_identity.as_bytes());
    let mut out = [0u8; 32];
    // Constant label, 32-byte output: cannot fail.
    let _ = derive_labeled(
        b"",
        &secret.0,
        labels::kdf::GROUP_SENDER_CHAIN,
        context.as_bytes(),
        &mut out,
    );
    SenderChain(out)
}
