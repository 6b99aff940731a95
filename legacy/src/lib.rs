//! Legacy LINE Letter Sealing v1 and v2 (SPEC.md §11; the package includes
//! SPEC.md), byte-compatible with the deployed format. **Interoperability
//! only**: nothing here is used by LS3 (the `letterseal` crate), and every
//! published weakness of the format is kept (§11.8). This crate does not depend
//! on `letterseal`; it is `no_std` + `alloc` (feature `std`, on by default, adds
//! `std::error::Error`).
//!
//! | module | SPEC.md | what |
//! |---|---|---|
//! | [`ids`] | §11.1 | `'u'`/`'c'` ids, `i32` key ids (big-endian or Thrift compact chunks), content types |
//! | [`keys`] | §11.1 | a user's key pairs, selected by key id; clamped and raw-scalar conventions |
//! | [`chunks`] | §11.1 | the five byte strings a message travels as |
//! | [`v1`] | §11.2 | 1:1 v1: AES-256-CBC and the folded ECB MAC |
//! | [`v2`] | §11.3 | 1:1 v2: AES-256-GCM with the 82-byte AAD, 16- (default) or 12-byte nonces |
//! | [`group`] | §11.4 | group keys, their 48-byte wraps, weak-key flags, group messages |
//! | [`media`] | §11.5 | attachments: HKDF, AES-256-CTR, HMAC-SHA-256; whole or streamed |
//! | [`payload`] | §11.6 | the JSON plaintexts |
//! | [`session`] | §11.9 | one object per key pair: cached agreement, one-call seal and open |
//!
//! A bridge mostly needs [`session`] (messages) and [`media`] (attachments);
//! the version modules are the building blocks.
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
//! use letterseal_legacy::chunks::Chunks;
//! use letterseal_legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
//! use letterseal_legacy::keys::LegacyKeyPair;
//! use letterseal_legacy::payload::Payload;
//! use letterseal_legacy::session::{LegacyVersion, PeerSession};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
//!
//! let (alice_id, bob_id) = (
//!     LineId::parse("ufedcba9876543210fedcba9876543210")?,
//!     LineId::parse("u0123456789abcdef0123456789abcdef")?,
//! );
//! let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(1001));
//! let bob = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2002));
//!
//! // One session per key pair; the X25519 agreement is computed once.
//! let at_alice = PeerSession::new(&alice, alice_id, &bob.public(), bob_id)?;
//! let at_bob = PeerSession::new(&bob, bob_id, &alice.public(), alice_id)?;
//!
//! // The transport carries five chunks, the version and the content type.
//! let text = Payload::Text("hi".into());
//! let chunks: Chunks = at_alice.seal(&mut rng, LegacyContentType::TEXT, &text)?;
//! let received = at_bob.open(LegacyVersion::V2, LegacyContentType::TEXT, &chunks)?;
//! assert_eq!(received.payload, text);
//! # Ok::<(), letterseal_legacy::LegacyError>(())
//! ```

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;

pub mod chunks;
mod crypto;
pub mod group;
pub mod ids;
pub mod keys;
pub mod media;
pub mod payload;
pub mod session;
pub mod v1;
pub mod v2;

use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroizing;

pub use crypto::fold;
use ids::LegacyKeyId;

/// Why a legacy operation failed. The names are the error names of the legacy
/// test vectors (`test-vectors/legacy/`).
///
/// ```
/// use letterseal_legacy::LegacyError;
/// use letterseal_legacy::ids::LineId;
///
/// let err = LineId::parse("not a LINE id").unwrap_err();
/// assert_eq!((err, err.name()), (LegacyError::InvalidId, "InvalidId"));
/// ```
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
    /// Input that ends early: a compact key-id chunk that is empty or whose
    /// last byte has the continuation bit set, or a media stream that ends
    /// before the length its first pass verified.
    Truncated,
    /// Input longer than its format allows: a compact key id whose 5th byte
    /// has the continuation bit set, or media longer than
    /// [`media::MAX_CIPHERTEXT_LEN`] (2^32 − 1 AES blocks).
    TooLong,
    /// Bytes after the end: after the last byte of a compact key id, or more
    /// media bytes than the first pass verified.
    TrailingData,
    /// A compact key id that is not in its shortest form (a multi-byte
    /// varint ending in `0x00`).
    NonMinimal,
    /// A compact key id whose value does not fit in 32 bits.
    OutOfRange,
    /// A group key with a weakness flag, refused by the strict policy
    /// ([`group::WeakKeyPolicy::STRICT`]).
    WeakGroupKey,
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
            Self::Truncated => "Truncated",
            Self::TooLong => "TooLong",
            Self::TrailingData => "TrailingData",
            Self::NonMinimal => "NonMinimal",
            Self::OutOfRange => "OutOfRange",
            Self::WeakGroupKey => "WeakGroupKey",
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
            Self::Truncated => "input ends early",
            Self::TooLong => "input longer than the format allows",
            Self::TrailingData => "bytes after the end of the input",
            Self::NonMinimal => "key id not in its shortest encoding",
            Self::OutOfRange => "key id out of the 32-bit range",
            Self::WeakGroupKey => "weak group key refused by the strict policy",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for LegacyError {}

/// An opened 1:1 or group message (SPEC.md §11.2–§11.4). See the examples on
/// [`PeerSession`](session::PeerSession) and
/// [`GroupSenderSession`](session::GroupSenderSession).
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
            (LegacyError::Truncated, "Truncated"),
            (LegacyError::TooLong, "TooLong"),
            (LegacyError::TrailingData, "TrailingData"),
            (LegacyError::NonMinimal, "NonMinimal"),
            (LegacyError::OutOfRange, "OutOfRange"),
            (LegacyError::WeakGroupKey, "WeakGroupKey"),
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
