//! The ratchet's key schedule (SPEC.md §7.4–7.5): the hybrid initial
//! derivation, root steps, chain steps, message secrets and message keys.
//! Low-level and pure; [`super::Session`] is the safe API.

use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::header::{COMMITMENT_LEN, SALT_LEN, SESSION_ID_LEN, SessionId};
use crate::aead::{AeadKey, AeadNonce, KEY_LEN, NONCE_LEN};
use crate::codec::Writer;
use crate::ids::DeviceAddress;
use crate::kdf::{HEDGED_SALT_LEN, HedgeKey, Prk, derive_labeled};
use crate::keys::{IdentityPublicKey, KemSharedSecret, SealingPublicKey, SharedSecret};
use crate::labels;

/// One end of a session: everything the initial derivation binds about a party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyKeys<'a> {
    /// The party's device.
    pub address: &'a DeviceAddress,
    /// Its identity key.
    pub identity_key: &'a IdentityPublicKey,
    /// Its sealing key used to start the session.
    pub sealing_key: &'a SealingPublicKey,
}

impl PartyKeys<'_> {
    /// `address ‖ identity key ‖ sealing key` (SPEC.md §7.1).
    pub(crate) fn encode(&self, w: &mut Writer) {
        self.address.encode(w);
        w.raw(self.identity_key.as_bytes());
        w.raw(self.sealing_key.as_bytes());
    }
}

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

secret_type!(
    /// The ratchet's root key. Zeroized on drop.
    RootKey
);
secret_type!(
    /// A chain key: advances once per message (SPEC.md §7.4). Zeroized on drop.
    ChainKey
);
secret_type!(
    /// The secret of one message, `MK_n`; kept only while the message is
    /// skipped. Zeroized on drop.
    MessageSecret
);

/// What a root derivation yields: the next root key and an epoch's two chains.
pub struct EpochKeys {
    /// The next root key.
    pub root: RootKey,
    /// The epoch's message chain.
    pub message: ChainKey,
    /// The epoch's control chain.
    pub control: ChainKey,
}

impl fmt::Debug for EpochKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochKeys(<secret>)")
    }
}

fn split_epoch(okm: &[u8; 96]) -> EpochKeys {
    let mut root = [0u8; 32];
    let mut message = [0u8; 32];
    let mut control = [0u8; 32];
    let (r, rest) = okm.split_at(32);
    let (m, c) = rest.split_at(32);
    root.copy_from_slice(r);
    message.copy_from_slice(m);
    control.copy_from_slice(c);
    EpochKeys {
        root: RootKey(root),
        message: ChainKey(message),
        control: ChainKey(control),
    }
}

/// The inputs of the hybrid initial derivation (SPEC.md §7.5).
pub struct InitialSecrets<'a> {
    /// `Agree(s_A, SPK_B)`.
    pub static_static: &'a SharedSecret,
    /// `Agree(e_A, SPK_B)`.
    pub ephemeral_static: &'a SharedSecret,
    /// `Agree(e_A, OTK_B)`, when a one-time key is used.
    pub one_time: Option<&'a SharedSecret>,
    /// The ML-KEM-768 shared secret.
    pub kem: &'a KemSharedSecret,
}

/// `RK ‖ CK_msg ‖ CK_ctl = DeriveLabeled("", dh1 ‖ dh2 ‖ [dh3] ‖ ss, "ratchet init", context, 96)`,
/// where the caller builds `context = party(A) ‖ party(B) ‖ E_A ‖ [OTK_B] ‖ KEM key id ‖ ct`.
pub fn initial_keys(secrets: &InitialSecrets<'_>, context: &[u8]) -> EpochKeys {
    let mut ikm = Zeroizing::new(Vec::with_capacity(128));
    ikm.extend_from_slice(secrets.static_static.as_bytes());
    ikm.extend_from_slice(secrets.ephemeral_static.as_bytes());
    if let Some(one_time) = secrets.one_time {
        ikm.extend_from_slice(one_time.as_bytes());
    }
    ikm.extend_from_slice(secrets.kem.as_bytes());
    let mut okm = Zeroizing::new([0u8; 96]);
    #[expect(
        clippy::let_underscore_must_use,
        reason = "Constant label and a 96-byte output: cannot fail"
    )]
    let _ = derive_labeled(b"", &ikm, labels::kdf::RATCHET_INIT, context, okm.as_mut());
    split_epoch(&okm)
}

/// `DeriveLabeled("", E_A, "ratchet session id", party(A) ‖ party(B), 16)`.
pub fn session_id(
    initiator_ratchet_key: &SealingPublicKey,
    initiator: &PartyKeys<'_>,
    responder: &PartyKeys<'_>,
) -> SessionId {
    let mut context = Writer::with_capacity(2 * (1 + 255 + 4 + 64));
    initiator.encode(&mut context);
    responder.encode(&mut context);
    let mut id = [0u8; SESSION_ID_LEN];
    #[expect(
        clippy::let_underscore_must_use,
        reason = "Constant label, 16-byte output: cannot fail"
    )]
    let _ = derive_labeled(
        b"",
        initiator_ratchet_key.as_bytes(),
        labels::kdf::RATCHET_SESSION_ID,
        context.as_bytes(),
        &mut id,
    );
    SessionId::from_bytes(id)
}

impl RootKey {
    /// `KDF_root(RK, dh, ss) = DeriveLabeled(RK, dh ‖ ss, "ratchet root", u8(ss present), 96)`
    /// with `dh` an X25519 result and `ss` a KEM shared secret.
    pub fn step(&self, dh: &[u8; 32], kem: Option<&[u8; 32]>) -> EpochKeys {
        let mut ikm = Zeroizing::new([0u8; 64]);
        let (first, second) = ikm.split_at_mut(32);
        first.copy_from_slice(dh);
        let len = match kem {
            Some(ss) => {
                second.copy_from_slice(ss);
                64
            }
            None => 32,
        };
        let mut okm = Zeroizing::new([0u8; 96]);
        #[expect(
            clippy::let_underscore_must_use,
            reason = "Constant label and a 96-byte output: cannot fail"
        )]
        let _ = derive_labeled(
            &self.0,
            ikm.get(..len).unwrap_or_default(),
            labels::kdf::RATCHET_ROOT,
            &[u8::from(kem.is_some())],
            okm.as_mut(),
        );
        split_epoch(&okm)
    }
}

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
pub(crate) fn derive_message_keys(
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
