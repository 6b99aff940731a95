//! Pairwise key schedule (SPEC.md §7.4): chain keys per direction and
//! per-message keys. Low-level and pure; [`super::Session`] is the safe API.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::header::{BOUND_FIELDS_LEN, COMMITMENT_LEN, SALT_LEN};
use crate::aead::{AeadKey, AeadNonce, KEY_LEN, NONCE_LEN};
use crate::codec::Writer;
use crate::ids::DeviceAddress;
use crate::kdf::derive_labeled;
use crate::keys::{IdentityPublicKey, SealingPublicKey, SharedSecret};
use crate::labels;

/// One end of a direction: everything the chain key binds about a party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyKeys<'a> {
    /// The party's device.
    pub address: &'a DeviceAddress,
    /// Its identity key.
    pub identity_key: &'a IdentityPublicKey,
    /// The sealing key it uses in this direction.
    pub sealing_key: &'a SealingPublicKey,
}

impl PartyKeys<'_> {
    /// `address ‖ identity key ‖ sealing key` (SPEC.md §7.4).
    fn encode(&self, w: &mut Writer) {
        self.address.encode(w);
        w.raw(self.identity_key.as_bytes());
        w.raw(self.sealing_key.as_bytes());
    }
}

/// The secret of one direction (sender → recipient) for one pair of sealing
/// keys. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ChainKey([u8; 32]);

impl ChainKey {
    /// Wraps raw bytes (for test vectors; sessions derive chain keys themselves).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes (for test vectors).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(<secret>)")
    }
}

/// `DeriveLabeled("", shared, "pairwise chain", party(sender) ‖ party(recipient), 32)`.
///
/// `shared` is X25519 of the two parties' sealing keys, so both ends compute
/// the same value; the order of the parties makes each direction distinct.
pub fn chain_key(
    shared: &SharedSecret,
    sender: &PartyKeys<'_>,
    recipient: &PartyKeys<'_>,
) -> ChainKey {
    let mut context = Writer::with_capacity(2 * (1 + 255 + 4 + 64));
    sender.encode(&mut context);
    recipient.encode(&mut context);
    let mut key = [0u8; 32];
    // Constant label, 32-byte output, context under 1 KiB: cannot fail.
    let _ = derive_labeled(
        b"",
        shared.as_bytes(),
        labels::kdf::PAIRWISE_CHAIN,
        context.as_bytes(),
        &mut key,
    );
    ChainKey(key)
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

/// Output length of the message-key derivation.
pub const MESSAGE_KEYS_LEN: usize = KEY_LEN + NONCE_LEN + COMMITMENT_LEN;

/// `DeriveLabeled(salt, chain, "pairwise message", bound header fields, 76)`,
/// split into key (32) ‖ nonce (12) ‖ commitment (32).
pub fn message_keys(
    chain: &ChainKey,
    salt: &[u8; SALT_LEN],
    bound_fields: &[u8; BOUND_FIELDS_LEN],
) -> MessageKeys {
    derive_message_keys(
        labels::kdf::PAIRWISE_MESSAGE,
        chain.as_bytes(),
        salt,
        bound_fields,
    )
}

/// The shared split of a message-key derivation (used by pairwise and group messages).
pub(crate) fn derive_message_keys(
    label: &[u8],
    chain: &[u8; 32],
    salt: &[u8],
    context: &[u8],
) -> MessageKeys {
    let mut okm = zeroize::Zeroizing::new([0u8; MESSAGE_KEYS_LEN]);
    // Constant label and a 76-byte output: cannot fail.
    let _ = derive_labeled(salt, chain, label, context, okm.as_mut());
    let (key, rest) = okm.split_at(KEY_LEN);
    let (nonce, commitment) = rest.split_at(NONCE_LEN);
    let mut k = [0u8; KEY_LEN];
    let mut n = [0u8; NONCE_LEN];
    let mut c = [0u8; COMMITMENT_LEN];
    k.copy_from_slice(key);
    n.copy_from_slice(nonce);
    c.copy_from_slice(commitment);
    let keys = MessageKeys {
        aead_key: AeadKey::from_bytes(k),
        nonce: AeadNonce::from_bytes(n),
        commitment: c,
    };
    k.zeroize();
    keys
}
