//! Every label LS3 uses, in one place (SPEC.md §3.1).
//!
//! KDF labels go through [`crate::kdf::Prk::expand_labeled`]; signature labels go
//! through [`crate::keys::IdentitySecretKey::sign_labeled`]. Both prefix
//! [`PROTOCOL_ID`] and length-prefix the label, so no two uses can collide.
//!
//! ```
//! # #[cfg(feature = "hazmat")] { // public with `hazmat` only
//! use letterseal::labels;
//! assert_eq!(labels::PROTOCOL_ID, b"letterseal/LS3/v1");
//! assert_eq!(labels::kdf::SEALING_KEY_ID, b"sealing key id");
//! # }
//! ```

/// The protocol prefix of every labelled derivation and signature input.
pub const PROTOCOL_ID: &[u8] = b"letterseal/LS3/v1";

/// Labels of HKDF-Expand derivations.
pub mod kdf {
    /// Key id of a sealing public key (SPEC.md §4.3).
    pub const SEALING_KEY_ID: &[u8] = b"sealing key id";
    /// Key id of an ML-KEM encapsulation key (SPEC.md §4.6).
    pub const KEM_KEY_ID: &[u8] = b"kem key id";
    /// One party's half of a safety number (SPEC.md §6).
    pub const SAFETY_NUMBER: &[u8] = b"safety number";
    /// The hybrid initial derivation of a ratchet state (SPEC.md §7.5).
    pub const RATCHET_INIT: &[u8] = b"ratchet init";
    /// The id of a ratchet state (SPEC.md §7.5).
    pub const RATCHET_SESSION_ID: &[u8] = b"ratchet session id";
    /// A root step of the ratchet (SPEC.md §7.4).
    pub const RATCHET_ROOT: &[u8] = b"ratchet root";
    /// A chain key's successor (SPEC.md §7.4).
    pub const CHAIN_STEP: &[u8] = b"chain step";
    /// A message's secret, from its chain key (SPEC.md §7.4).
    pub const MESSAGE_SECRET: &[u8] = b"message secret";
    /// The keys of one pairwise message, from its secret (SPEC.md §7.4).
    pub const MESSAGE_KEYS: &[u8] = b"message keys";
    /// The hash of a group roster (SPEC.md §8.1).
    pub const ROSTER_HASH: &[u8] = b"roster hash";
    /// The transcript of a group epoch: the hash of its signed core (SPEC.md §8.3).
    pub const GROUP_TRANSCRIPT: &[u8] = b"group transcript";
    /// The epoch tag group messages carry, from the transcript (SPEC.md §8.3).
    pub const EPOCH_TAG: &[u8] = b"epoch tag";
    /// The confirmation of an epoch secret inside the signed core (SPEC.md §8.3).
    pub const EPOCH_CONFIRMATION: &[u8] = b"epoch confirmation";
    /// The hash of a distribution's wrap list (SPEC.md §8.5).
    pub const WRAP_LIST: &[u8] = b"wrap list";
    /// A member's sender chain in one epoch (SPEC.md §8.8).
    pub const GROUP_SENDER_CHAIN: &[u8] = b"group sender chain";
    /// A child node of an epoch's secret tree (SPEC.md §8.8).
    pub const GROUP_TREE: &[u8] = b"group tree";
    /// The stream keys of one attachment (SPEC.md §9.2).
    pub const ATTACHMENT: &[u8] = b"attachment";
    /// The hedging keys of a sending secret (SPEC.md §3.5).
    pub const HEDGE: &[u8] = b"hedge";
    /// A hedged per-message salt (SPEC.md §3.5).
    pub const HEDGED_SALT: &[u8] = b"hedged salt";
    /// The keys of a sealed state blob (SPEC.md §12).
    pub const STATE_BLOB: &[u8] = b"state blob";
    /// A hedged sealer's file key and salt, from its randomness and the content digest
    /// (SPEC.md §9.1).
    pub const ATTACHMENT_HEDGE: &[u8] = b"attachment hedge";
}

/// The BLAKE3 key-derivation context of an attachment's content digest (SPEC.md §9.4).
pub const ATTACHMENT_CONTENT_CONTEXT: &str = "letterseal/LS3/v1 attachment content";

/// Labels (domains) of Ed25519 signatures.
pub mod sig {
    use super::SignatureLabel;

    /// A device's key bundle (SPEC.md §5.1).
    pub const KEY_BUNDLE: SignatureLabel = SignatureLabel::new(b"key bundle");
    /// A one-time prekey (SPEC.md §5.5).
    pub const ONE_TIME_KEY: SignatureLabel = SignatureLabel::new(b"one-time key");
    /// The core of a group epoch distribution (SPEC.md §8.5).
    pub const GROUP_DISTRIBUTION: SignatureLabel = SignatureLabel::new(b"group distribution");
    /// A group message (SPEC.md §8.8).
    pub const GROUP_MESSAGE: SignatureLabel = SignatureLabel::new(b"group message");
    /// A user's device list, signed by the user key (SPEC.md §13.2).
    pub const DEVICE_LIST: SignatureLabel = SignatureLabel::new(b"device list");
}

/// A signature label (SPEC.md §3.2): fewer than 256 bytes, so `u8(len(label))` is exact. Only
/// the constants of [`sig`] exist; the length is checked when they are compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureLabel {
    bytes: &'static [u8],
    len: u8,
}

impl SignatureLabel {
    /// Evaluated at compile time for the constants of [`sig`]: a label of 256 bytes or more
    /// does not compile.
    const fn new(bytes: &'static [u8]) -> Self {
        let len = bytes.len();
        assert!(len <= u8::MAX as usize, "a signature label is shorter than 256 bytes");
        #[expect(clippy::cast_possible_truncation, reason = "checked just above")]
        Self {
            bytes,
            len: len as u8,
        }
    }

    /// The label's bytes.
    pub const fn as_bytes(&self) -> &'static [u8] {
        self.bytes
    }

    /// `u8(len(label))`.
    pub const fn len_u8(&self) -> u8 {
        self.len
    }
}
