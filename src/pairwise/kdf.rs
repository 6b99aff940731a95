//! The ratchet's key schedule (SPEC.md §7.4–7.5): the hybrid initial
//! derivation, root steps, chain steps, message secrets and message keys.
//! Low-level and pure; [`super::Session`] is the safe API. Public with the `hazmat` feature only.

use alloc::vec::Vec;
use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::header::{SESSION_ID_LEN, SessionId};
use crate::codec::Writer;
use crate::ids::DeviceAddress;
use crate::kdf::derive_labeled;
use crate::keys::{IdentityPublicKey, KemSharedSecret, SealingPublicKey, SharedSecret};
use crate::labels;
use crate::message::keys::ChainKey;
use crate::message::keys::secret_type;

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
    #[cfg_attr(feature = "hazmat", visibility::make(pub))]
    pub(crate) fn encode(&self, w: &mut Writer) {
        self.address.encode(w);
        w.raw(self.identity_key.as_bytes());
        w.raw(self.sealing_key.as_bytes());
    }
}

secret_type!(
    /// The ratchet's root key. Zeroized on drop.
    RootKey
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
        message: ChainKey::from_bytes(message),
        control: ChainKey::from_bytes(control),
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
