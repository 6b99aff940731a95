//! The message keys every LS3 message kind uses (SPEC.md §3.4, §7.4): chain steps, message
//! secrets, the split of one derivation into AES-256-GCM key ‖ nonce ‖ key commitment, and the
//! hedged salt. Pairwise messages, group messages, attachments and state blobs all go through
//! [`derive_message_keys`] or [`MessageSecret::message_keys`]. Public with the `hazmat` feature
//! only.

use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{COMMITMENT_LEN, SALT_LEN};
use crate::aead::{AeadKey, AeadNonce, KEY_LEN, NONCE_LEN};
use crate::kdf::{HEDGED_SALT_LEN, HedgeKey, Prk, derive_labeled};
use crate::labels;

/// A 32-byte secret of a key schedule: zeroized on drop, never in `Debug`, raw bytes in and out
/// only for saved states (and, with `hazmat`, test vectors).
macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
        #[cfg_attr(feature = "json-state", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name(#[cfg_attr(feature = "json-state", serde(with = "crate::serde_hex"))] [u8; 32]);

        impl $name {
            /// Wraps raw bytes (test vectors and saved states; sessions derive their own).
            #[cfg(any(feature = "hazmat", test))]
            pub fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// Wraps raw bytes read from a saved state.
            #[cfg(not(any(feature = "hazmat", test)))]
            pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The raw bytes (for test vectors and saved states).
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<secret>)"))
            }
        }
    };
}
pub(crate) use secret_type;

secret_type!(
    /// A chain key: advances once per message (SPEC.md §7.4). Zeroized on drop.
    ChainKey
);
secret_type!(
    /// The secret of one message, `MK_n`; kept only while the message is
    /// skipped. Zeroized on drop.
    MessageSecret
);

impl ChainKey {
    /// `MK_n = ExpandLabeled(CK_n, "message secret", "", 32)` and
    /// `CK_{n+1} = ExpandLabeled(CK_n, "chain step", "", 32)`.
    pub fn step(&self) -> (MessageSecret, ChainKey) {
        let prk = Prk::from_bytes(self.0);
        let mut secret = [0u8; 32];
        let mut next = [0u8; 32];
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label, 32-byte output: cannot fail"
        )]
        let _ = prk.expand_labeled(labels::kdf::MESSAGE_SECRET, b"", &mut secret);
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label, 32-byte output: cannot fail"
        )]
        let _ = prk.expand_labeled(labels::kdf::CHAIN_STEP, b"", &mut next);
        (MessageSecret(secret), ChainKey(next))
    }
}

/// The keys of one message: AES-256-GCM key, nonce, and key commitment.
pub struct MessageKeys {
    /// The AEAD key.
    pub aead_key: AeadKey,
    /// The AEAD nonce.
    pub nonce: AeadNonce,
    /// The commitment carried in the header.
    pub commitment: [u8; COMMITMENT_LEN],
}

impl MessageKeys {
    /// Constant-time comparison of the commitment with a received one.
    pub fn commitment_matches(&self, received: &[u8; COMMITMENT_LEN]) -> bool {
        bool::from(self.commitment.ct_eq(received))
    }
}

impl fmt::Debug for MessageKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageKeys(<secret>)")
    }
}

/// Output length of a message-key derivation: key ‖ nonce ‖ commitment.
pub const MESSAGE_KEYS_LEN: usize = KEY_LEN + NONCE_LEN + COMMITMENT_LEN;

impl MessageSecret {
    /// `ExpandLabeled(MK, "message keys", salt, 76)` = key ‖ nonce ‖ commitment.
    pub fn message_keys(&self, salt: &[u8; SALT_LEN]) -> MessageKeys {
        let mut okm = Zeroizing::new([0u8; MESSAGE_KEYS_LEN]);
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label and a 76-byte output: cannot fail"
        )]
        let _ =
            Prk::from_bytes(self.0).expand_labeled(labels::kdf::MESSAGE_KEYS, salt, okm.as_mut());
        split_message_keys(&okm)
    }

    /// The hedged salt of SPEC.md §7.4 / §3.5: `prf = MK`,
    /// `H = ExpandLabeled(MK, "hedge", "", 16)`, 32 fresh bytes from `rng`.
    pub fn hedged_salt<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        bound: &[u8],
        associated_data: &[u8],
        plaintext: &[u8],
    ) -> [u8; HEDGED_SALT_LEN] {
        HedgeKey::from_message_secret(&self.0).salt(rng, bound, associated_data, plaintext)
    }
}

/// Splits a 76-byte derivation into key ‖ nonce ‖ commitment (shared by
/// every LS3 message kind).
pub(crate) fn split_message_keys(okm: &[u8; MESSAGE_KEYS_LEN]) -> MessageKeys {
    let mut k = Zeroizing::new([0u8; KEY_LEN]);
    let mut n = [0u8; NONCE_LEN];
    let mut c = [0u8; COMMITMENT_LEN];
    let (key, rest) = okm.split_at(KEY_LEN);
    let (nonce, commitment) = rest.split_at(NONCE_LEN);
    k.copy_from_slice(key);
    n.copy_from_slice(nonce);
    c.copy_from_slice(commitment);
    MessageKeys {
        aead_key: AeadKey::from_bytes(*k),
        nonce: AeadNonce::from_bytes(n),
        commitment: c,
    }
}

/// `DeriveLabeled(salt, secret, label, context, 76)` split into key ‖ nonce ‖
/// commitment: the message keys of group messages, attachments and state blobs.
pub fn derive_message_keys(
    label: &[u8],
    secret: &[u8; 32],
    salt: &[u8],
    context: &[u8],
) -> MessageKeys {
    let mut okm = Zeroizing::new([0u8; MESSAGE_KEYS_LEN]);
    #[expect(
        clippy::let_underscore_must_use,
        reason = "Constant label and a 76-byte output: cannot fail"
    )]
    let _ = derive_labeled(salt, secret, label, context, okm.as_mut());
    split_message_keys(&okm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_steps_are_one_way_and_distinct() {
        let ck = ChainKey([1; 32]);
        let (mk0, ck1) = ck.step();
        let (mk1, ck2) = ck1.step();
        assert_ne!(mk0.as_bytes(), mk1.as_bytes());
        assert_ne!(ck1.as_bytes(), ck2.as_bytes());
        assert_ne!(mk0.as_bytes(), ck1.as_bytes());
        // Deterministic.
        let (again, _) = ChainKey([1; 32]).step();
        assert_eq!(again.as_bytes(), mk0.as_bytes());
    }

    #[test]
    fn message_keys_depend_on_the_salt() {
        let mk = MessageSecret([3; 32]);
        let a = mk.message_keys(&[0; 16]);
        let b = mk.message_keys(&[1; 16]);
        assert_ne!(a.aead_key.as_bytes(), b.aead_key.as_bytes());
        assert_ne!(a.nonce.as_bytes(), b.nonce.as_bytes());
        assert_ne!(a.commitment, b.commitment);
        assert!(a.commitment_matches(&a.commitment));
        assert!(!a.commitment_matches(&b.commitment));
    }
}
