//! Every label LS3 uses, in one place (SPEC.md §3.1).
//!
//! KDF labels go through [`crate::kdf::Prk::expand_labeled`]; signature labels go
//! through [`crate::keys::IdentitySecretKey::sign_labeled`]. Both prefix
//! [`PROTOCOL_ID`] and length-prefix the label, so no two uses can collide.
//!
//! ```
//! use letterseal::labels;
//! assert_eq!(labels::PROTOCOL_ID, b"letterseal/LS3/v1");
//! assert_eq!(labels::kdf::SEALING_KEY_ID, b"sealing key id");
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
    /// The chain key of one direction of a pairwise session (SPEC.md §7.4).
    pub const PAIRWISE_CHAIN: &[u8] = b"pairwise chain";
    /// The keys of one pairwise message (SPEC.md §7.4).
    pub const PAIRWISE_MESSAGE: &[u8] = b"pairwise message";
    /// The hash of a group roster (SPEC.md §8.1).
    pub const ROSTER_HASH: &[u8] = b"roster hash";
    /// The digest of a wrap in a distribution (SPEC.md §8.2).
    pub const WRAP_DIGEST: &[u8] = b"wrap digest";
    /// A member's sender chain in one epoch (SPEC.md §8.5).
    pub const GROUP_SENDER_CHAIN: &[u8] = b"group sender chain";
    /// The keys of one group message (SPEC.md §8.5).
    pub const GROUP_MESSAGE: &[u8] = b"group message";
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
    /// A device's key bundle (SPEC.md §5.1).
    pub const KEY_BUNDLE: &[u8] = b"key bundle";
    /// A one-time prekey (SPEC.md §5.5).
    pub const ONE_TIME_KEY: &[u8] = b"one-time key";
    /// A group epoch distribution (SPEC.md §8.2).
    pub const GROUP_DISTRIBUTION: &[u8] = b"group distribution";
    /// A group message (SPEC.md §8.5).
    pub const GROUP_MESSAGE: &[u8] = b"group message";
}
