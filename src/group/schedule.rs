//! The values an epoch derives (SPEC.md §8.3, §8.4, §8.5, §8.8): transcript,
//! epoch tag, confirmation, wrap context, wrap list hash and sender chains.

use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::roster::{GroupId, RosterHash};
use crate::codec::Writer;
use crate::ids::DeviceAddress;
use crate::kdf::derive_labeled;
use crate::labels;
use crate::pairwise::SALT_LEN;
use crate::pairwise::kdf::{MessageKeys, derive_message_keys};

/// Bytes of an epoch tag.
pub const EPOCH_TAG_LEN: usize = 16;
/// Bytes of a confirmation value.
pub const CONFIRMATION_LEN: usize = 32;

/// The hash of an epoch's signed core, which names the whole history
/// (SPEC.md §8.3). Public.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transcript(#[serde(with = "crate::serde_hex")] [u8; 32]);

impl Transcript {
    /// The transcript before epoch 1: 32 zero bytes.
    pub const NONE: Self = Self([0; 32]);

    /// `DeriveLabeled("", core, "group transcript", "", 32)`.
    pub fn of_core(core: &[u8]) -> Self {
        let mut out = [0u8; 32];
        // Constant label, 32-byte output: cannot fail.
        let _ = derive_labeled(b"", core, labels::kdf::GROUP_TRANSCRIPT, b"", &mut out);
        Self(out)
    }

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `DeriveLabeled("", transcript, "epoch tag", "", 16)`.
    pub fn epoch_tag(&self) -> EpochTag {
        let mut out = [0u8; EPOCH_TAG_LEN];
        // Constant label, 16-byte output: cannot fail.
        let _ = derive_labeled(b"", &self.0, labels::kdf::EPOCH_TAG, b"", &mut out);
        EpochTag(out)
    }
}

impl fmt::Debug for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Transcript(")?;
        crate::keys::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// The 16 bytes a group message carries to name its epoch's history
/// (SPEC.md §8.3, §8.8).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EpochTag(#[serde(with = "crate::serde_hex")] [u8; EPOCH_TAG_LEN]);

impl EpochTag {
    /// Wraps 16 bytes.
    pub fn from_bytes(bytes: [u8; EPOCH_TAG_LEN]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; EPOCH_TAG_LEN] {
        &self.0
    }
}

impl fmt::Debug for EpochTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochTag(")?;
        crate::keys::write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// The 32-byte secret of one epoch. Zeroized on drop; `Debug` prints nothing.
#[derive(Clone, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
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

    /// `DeriveLabeled("", epoch secret, "epoch confirmation", core without
    /// its confirmation, 32)` (SPEC.md §8.3).
    pub fn confirmation(&self, core_before_confirmation: &[u8]) -> [u8; CONFIRMATION_LEN] {
        let mut out = [0u8; CONFIRMATION_LEN];
        // Constant label, 32-byte output: cannot fail.
        let _ = derive_labeled(
            b"",
            &self.0,
            labels::kdf::EPOCH_CONFIRMATION,
            core_before_confirmation,
            &mut out,
        );
        out
    }

    /// Whether `confirmation` is this secret's for the core, compared in
    /// constant time.
    pub fn confirms(&self, core_before_confirmation: &[u8], confirmation: &[u8; 32]) -> bool {
        let mut expected = self.confirmation(core_before_confirmation);
        let ok = bool::from(expected.ct_eq(confirmation));
        expected.zeroize();
        ok
    }
}

impl fmt::Debug for EpochSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochSecret(<secret>)")
    }
}

/// The context (and associated data) of a wrap (SPEC.md §8.4):
/// `lp8(group id) ‖ u64(epoch) ‖ previous transcript ‖ roster hash ‖ distributor address`.
pub fn wrap_context(
    group_id: &GroupId,
    epoch: u64,
    previous: &Transcript,
    roster_hash: &RosterHash,
    distributor: &DeviceAddress,
) -> Vec<u8> {
    let mut w = Writer::with_capacity(1 + 255 + 8 + 64 + 1 + 255 + 4);
    group_id.encode(&mut w);
    w.u64(epoch);
    w.raw(previous.as_bytes());
    w.raw(roster_hash.as_bytes());
    distributor.encode(&mut w);
    w.into_bytes()
}

/// `DeriveLabeled("", lp32(wrap_1) ‖ … ‖ lp32(wrap_m), "wrap list", "", 32)`
/// (SPEC.md §8.5).
pub fn wrap_list_hash<W: AsRef<[u8]>>(wraps: &[W]) -> [u8; 32] {
    let mut list = Writer::with_capacity(wraps.iter().map(|w| 4 + w.as_ref().len()).sum());
    for wrap in wraps {
        // Wraps are at most MAX_WRAP_LEN bytes when decoded, far below 4 GiB.
        let _ = list.bytes_u32(wrap.as_ref());
    }
    let mut out = [0u8; 32];
    // Constant label, 32-byte output: cannot fail.
    let _ = derive_labeled(b"", list.as_bytes(), labels::kdf::WRAP_LIST, b"", &mut out);
    out
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
/// transcript ‖ sender address ‖ sender identity key, 32)` (SPEC.md §8.8).
pub fn sender_chain(
    secret: &EpochSecret,
    transcript: &Transcript,
    sender: &DeviceAddress,
    sender_identity: &[u8; 32],
) -> SenderChain {
    let mut context = Writer::with_capacity(32 + 1 + 255 + 4 + 32);
    context.raw(transcript.as_bytes());
    sender.encode(&mut context);
    context.raw(sender_identity);
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
