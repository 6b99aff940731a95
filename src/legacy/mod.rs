//! Legacy LINE Letter Sealing v1 and v2 (SPEC.md §11), byte-compatible with the
//! deployed format. Feature `legacy`. **Interoperability only**: nothing here is
//! used by LS3, and every published weakness of the format is kept (§11.8).
//!
//! | module | SPEC.md | what |
//! |---|---|---|
//! | [`ids`] | §11.1 | `'u'`/`'c'` ids, `i32` key ids, content types |
//! | [`keys`] | §11.1 | a user's key pairs, selected by key id |
//! | [`chunks`] | §11.1 | the five byte strings a message travels as |
//! | [`v1`] | §11.2 | 1:1 v1: AES-256-CBC and the folded ECB MAC |
//! | [`v2`] | §11.3 | 1:1 v2: AES-256-GCM with the 82-byte AAD, 12- or 16-byte nonces |
//! | [`group`] | §11.4 | group keys, their 48-byte wraps, group messages |
//! | [`media`] | §11.5 | attachments: HKDF, AES-256-CTR, HMAC-SHA-256 |
//! | [`payload`] | §11.6 | the JSON plaintexts |
//!
//! Openers are strict and panic-free: the chunk count and every fixed-size chunk
//! length are checked ([`LegacyError::Malformed`]), the private key is selected
//! by the message's recipient key id ([`LegacyError::UnknownKey`]), and every
//! authentication or padding failure is the same opaque
//! [`LegacyError::DecryptionFailed`].
//!
//! What the format does **not** protect against (and LS3 does): replay,
//! reordering and dropping of messages, reflection of v1 messages, group members
//! forging messages from each other, unknown key share, unauthenticated group
//! key wraps, and the loss of every past message when a static key leaks.
//!
//! ```
//! use letterseal::legacy::chunks::Chunks;
//! use letterseal::legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
//! use letterseal::legacy::keys::LegacyKeyPair;
//! use letterseal::legacy::v2::{Envelope, open_v2, seal_v2};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
//!
//! let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(1001));
//! let bob = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2002));
//! let envelope = Envelope {
//!     to: LineId::parse("u0123456789abcdef0123456789abcdef")?,
//!     from: LineId::parse("ufedcba9876543210fedcba9876543210")?,
//!     content_type: LegacyContentType::TEXT,
//! };
//!
//! // Alice seals with her per-chat counter; the transport carries five chunks.
//! let chunks: Chunks = seal_v2(&mut rng, 7, &alice, &bob.public(), &envelope, br#"{"text":"hi"}"#)?;
//! let opened = open_v2(&[bob], &alice.public_key(), &envelope, &chunks)?;
//! assert_eq!(opened.plaintext.as_slice(), br#"{"text":"hi"}"#);
//! assert_eq!(opened.sender_key_id, LegacyKeyId::new(1001));
//! # Ok::<(), letterseal::legacy::LegacyError>(())
//! ```

pub mod chunks;
mod crypto;
pub mod group;
pub mod ids;
pub mod keys;
pub mod media;
pub mod payload;
pub mod v1;
pub mod v2;

use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroizing;

pub use crypto::fold;
use ids::LegacyKeyId;

/// Why a legacy operation failed. The names are the error names of the legacy
/// test vectors (`test-vectors/legacy/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LegacyError {
    /// Wrong chunk count, a fixed-size chunk of the wrong length, a ciphertext
    /// of impossible length, or an input too long for the cipher.
    Malformed,
    /// An id that is not `'u'` or `'c'` followed by 32 lowercase hex digits.
    InvalidId,
    /// No private key of the recipient has the message's recipient key id.
    UnknownKey,
    /// Authentication, padding or unwrap failure. Deliberately carries no detail.
    DecryptionFailed,
    /// X25519 produced the all-zero value (the peer key has small order).
    NonContributory,
    /// A plaintext that is not the JSON object its content type requires.
    InvalidPayload,
}

impl LegacyError {
    /// The error's name, as used by the test vectors.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Malformed => "Malformed",
            Self::InvalidId => "InvalidId",
            Self::UnknownKey => "UnknownKey",
            Self::DecryptionFailed => "DecryptionFailed",
            Self::NonContributory => "NonContributory",
            Self::InvalidPayload => "InvalidPayload",
        }
    }
}

impl fmt::Display for LegacyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed legacy message",
            Self::InvalidId => "invalid LINE id",
            Self::UnknownKey => "no private key for the recipient key id",
            Self::DecryptionFailed => "decryption failed",
            Self::NonContributory => "X25519 result is all zeros (non-contributory)",
            Self::InvalidPayload => "invalid legacy payload",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for LegacyError {}

/// An opened 1:1 or group message (SPEC.md §11.2–§11.4).
pub struct Opened {
    /// The plaintext (UTF-8 JSON for v2, see [`payload`]). Zeroized on drop.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The sender key id named by the message. **Not authenticated** in v1.
    pub sender_key_id: LegacyKeyId,
    /// The recipient key id named by the message (the group key id for groups).
    pub recipient_key_id: LegacyKeyId,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("plaintext_len", &self.plaintext.len())
            .field("sender_key_id", &self.sender_key_id)
            .field("recipient_key_id", &self.recipient_key_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_match_variants() {
        for (e, name) in [
            (LegacyError::Malformed, "Malformed"),
            (LegacyError::InvalidId, "InvalidId"),
            (LegacyError::UnknownKey, "UnknownKey"),
            (LegacyError::DecryptionFailed, "DecryptionFailed"),
            (LegacyError::NonContributory, "NonContributory"),
            (LegacyError::InvalidPayload, "InvalidPayload"),
        ] {
            assert_eq!(e.name(), name);
            assert_eq!(alloc::format!("{e:?}"), name);
            assert!(!alloc::format!("{e}").is_empty());
        }
    }

    #[test]
    fn opened_debug_prints_no_plaintext() {
        let opened = Opened {
            plaintext: Zeroizing::new(b"top secret".to_vec()),
            sender_key_id: LegacyKeyId::new(1),
            recipient_key_id: LegacyKeyId::new(2),
        };
        let text = alloc::format!("{opened:?}");
        assert!(!text.contains("secret") && !text.contains("116"));
    }
}
