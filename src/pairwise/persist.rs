//! The session's blob layout (SPEC.md §12.2, kind 2, layout version 3):
//! strict decoding with every invariant checked and the field named.

use alloc::vec::Vec;

use zeroize::Zeroizing;

use super::header::{InitFields, KemStepFields, SessionId};
use super::kdf::RootKey;
use super::ratchet::{
    LocalKem, MAX_OLD_EPOCHS, MAX_OWN_PREVIOUS, OldEpoch, PeerKem, RatchetKeyPair, RatchetPolicy,
    RatchetState, ReceivingChain, ReceivingEpoch, SendingChain, SendingEpoch, Skipped,
};
use super::session::{
    MAX_SEEN_SESSIONS, MAX_STATES, Party, PeerBundle, PeerOneTimeKey, SESSION_BLOB_VERSION,
    Session, Slot,
};
use crate::codec::{Reader, Writer};
use crate::ids::DeviceAddress;
use crate::keys::{
    IdentityPublicKey, KEM_CIPHERTEXT_LEN, KEM_ENCAPSULATION_KEY_LEN, KemCiphertext,
    KemDecapsulationKey, KemEncapsulationKey, KemKeyId, SealingKeyId, SealingPublicKey,
    SealingSecretKey,
};
use crate::message::Chain;
use crate::message::keys::{ChainKey, MessageSecret};
use crate::message::window::{ReplayWindow, WINDOW_ENCODED_LEN};
use crate::state::{StateCodec, StateError, StateKind, check, field, read_list, write_len};
use crate::time::Timestamp;

fn write_option<T>(w: &mut Writer, value: Option<&T>, f: impl FnOnce(&mut Writer, &T)) {
    match value {
        Some(v) => {
            w.u8(1);
            f(w, v);
        }
        None => w.u8(0),
    }
}

fn read_flag(r: &mut Reader<'_>, name: &'static str) -> Result<bool, StateError> {
    match field(name, r.u8())? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(StateError::Invalid { field: name }),
    }
}

fn read_public(r: &mut Reader<'_>, name: &'static str) -> Result<SealingPublicKey, StateError> {
    let key = SealingPublicKey::from_bytes(field(name, r.array())?);
    check(name, key.validate().is_ok())?;
    Ok(key)
}

fn read_secret32(
    r: &mut Reader<'_>,
    name: &'static str,
) -> Result<Zeroizing<[u8; 32]>, StateError> {
    Ok(Zeroizing::new(field(name, r.array())?))
}

fn read_kem_key(r: &mut Reader<'_>, name: &'static str) -> Result<KemEncapsulationKey, StateError> {
    KemEncapsulationKey::from_bytes(field(name, r.take(KEM_ENCAPSULATION_KEY_LEN))?)
        .map_err(|_| StateError::Invalid { field: name })
}

fn read_kem_ciphertext(
    r: &mut Reader<'_>,
    name: &'static str,
) -> Result<KemCiphertext, StateError> {
    KemCiphertext::from_bytes(field(name, r.take(KEM_CIPHERTEXT_LEN))?)
        .map_err(|_| StateError::Invalid { field: name })
}

fn write_party(w: &mut Writer, party: &Party) {
    party.address.encode(w);
    w.raw(party.identity_key.as_bytes());
}

fn read_party(r: &mut Reader<'_>, name: &'static str) -> Result<Party, StateError> {
    let address = field(name, DeviceAddress::decode(r))?;
    let identity_key = IdentityPublicKey::from_bytes(&field(name, r.array())?)
        .map_err(|_| StateError::Invalid { field: name })?;
    Ok(Party {
        address,
        identity_key,
    })
}

fn write_policy(w: &mut Writer, p: &RatchetPolicy) {
    w.u32(p.max_skip);
    w.u32(p.max_skipped);
    w.u64(p.skipped_lifetime_seconds);
    w.u32(p.kem_every_steps);
    w.u64(p.kem_every_seconds);
}

fn read_policy(r: &mut Reader<'_>) -> Result<RatchetPolicy, StateError> {
    let policy = RatchetPolicy {
        max_skip: field("policy.max_skip", r.u32())?,
        max_skipped: field("policy.max_skipped", r.u32())?,
        skipped_lifetime_seconds: field("policy.skipped_lifetime_seconds", r.u64())?,
        kem_every_steps: field("policy.kem_every_steps", r.u32())?,
        kem_every_seconds: field("policy.kem_every_seconds", r.u64())?,
    };
    check("policy.max_skipped", policy.max_skip <= policy.max_skipped)?;
    Ok(policy)
}

fn write_init(w: &mut Writer, init: &InitFields) {
    w.raw(init.initiator_key_id.as_bytes());
    w.raw(init.responder_key_id.as_bytes());
    w.raw(init.kem_key_id.as_bytes());
    w.raw(init.kem_ciphertext.as_bytes());
    write_option(w, init.one_time_key_id.as_ref(), |w, id| {
        w.raw(id.as_bytes())
    });
}

fn read_init(r: &mut Reader<'_>) -> Result<InitFields, StateError> {
    let initiator_key_id = SealingKeyId::from_bytes(field("init.initiator_key_id", r.array())?);
    let responder_key_id = SealingKeyId::from_bytes(field("init.responder_key_id", r.array())?);
    let kem_key_id = KemKeyId::from_bytes(field("init.kem_key_id", r.array())?);
    let kem_ciphertext = read_kem_ciphertext(r, "init.kem_ciphertext")?;
    let one_time_key_id = if read_flag(r, "init.one_time_key_id")? {
        Some(SealingKeyId::from_bytes(field(
            "init.one_time_key_id",
            r.array(),
        )?))
    } else {
        None
    };
    Ok(InitFields {
        initiator_key_id,
        responder_key_id,
        kem_key_id,
        kem_ciphertext,
        one_time_key_id,
    })
}

fn write_kem_step(w: &mut Writer, kem: &KemStepFields) {
    w.raw(kem.kem_key_id.as_bytes());
    w.raw(kem.kem_ciphertext.as_bytes());
    w.raw(kem.new_kem_key.as_bytes());
}

fn read_kem_step(r: &mut Reader<'_>) -> Result<KemStepFields, StateError> {
    Ok(KemStepFields {
        kem_key_id: KemKeyId::from_bytes(field("sending.kem_step.kem_key_id", r.array())?),
        kem_ciphertext: read_kem_ciphertext(r, "sending.kem_step.kem_ciphertext")?,
        new_kem_key: read_kem_key(r, "sending.kem_step.new_kem_key")?,
    })
}

fn write_receiving_chain(w: &mut Writer, chain: &ReceivingChain) {
    w.raw(chain.key.as_bytes());
    w.u32(chain.next);
    chain.window.encode(w);
}

/// A receiving chain: its window must not record a number at or past `next`.
fn read_receiving_chain(
    r: &mut Reader<'_>,
    name: &'static str,
) -> Result<ReceivingChain, StateError> {
    let key = ChainKey::from_bytes(*read_secret32(r, name)?);
    let next = field(name, r.u32())?;
    let window = ReplayWindow::decode(r, name)?;
    check(name, window.highest().is_none_or(|h| h < u64::from(next)))?;
    Ok(ReceivingChain { key, next, window })
}

fn write_state(w: &mut Writer, s: &RatchetState) -> Result<(), StateError> {
    w.raw(s.session_id.as_bytes());
    write_option(w, s.init.as_ref(), write_init);
    w.raw(s.root.as_bytes());
    write_option(w, s.own.as_ref(), |w, own| {
        w.raw(own.secret.to_bytes().as_ref());
    });
    write_len(w, "state.own_previous", s.own_previous.len())?;
    for key in &s.own_previous {
        w.raw(key.as_bytes());
    }
    write_option(w, s.sending.as_ref(), |w, sending| {
        w.raw(sending.message.key.as_bytes());
        w.u32(sending.message.next);
        w.raw(sending.control.key.as_bytes());
        w.u32(sending.control.next);
        write_option(w, sending.kem_step.as_ref(), write_kem_step);
    });
    w.u32(s.previous_lengths.0);
    w.u32(s.previous_lengths.1);
    write_option(w, s.receiving.as_ref(), |w, receiving| {
        w.raw(receiving.ratchet_key.as_bytes());
        write_receiving_chain(w, &receiving.message);
        write_receiving_chain(w, &receiving.control);
    });
    write_len(w, "state.old_epochs", s.old_epochs.len())?;
    for old in &s.old_epochs {
        w.raw(old.ratchet_key.as_bytes());
        old.message.encode(w);
        old.control.encode(w);
    }
    write_len(w, "state.skipped", s.skipped.len())?;
    for skipped in &s.skipped {
        w.raw(skipped.ratchet_key.as_bytes());
        w.u8(skipped.chain.code());
        w.u32(skipped.n);
        w.raw(skipped.secret.as_bytes());
        w.u64(skipped.stored_at.unix_seconds());
    }
    match &s.local_kem {
        LocalKem::Bundle(id) => {
            w.u8(0);
            w.raw(id.as_bytes());
        }
        LocalKem::Own(dk, _) => {
            w.u8(1);
            w.raw(dk.to_seed().as_ref());
        }
        LocalKem::Consumed => w.u8(2),
    }
    w.raw(s.peer_kem.key.as_bytes());
    w.u8(u8::from(s.peer_kem.reusable));
    w.u8(u8::from(s.peer_kem.fresh));
    w.u32(s.steps_since_kem);
    w.u64(s.last_kem_at.unix_seconds());
    Ok(())
}

fn read_state(r: &mut Reader<'_>, policy: &RatchetPolicy) -> Result<RatchetState, StateError> {
    let session_id = SessionId::from_bytes(field("state.session_id", r.array())?);
    let init = if read_flag(r, "state.init")? {
        Some(read_init(r)?)
    } else {
        None
    };
    let root = RootKey::from_bytes(*read_secret32(r, "state.root")?);
    let own = if read_flag(r, "state.own")? {
        let bytes = read_secret32(r, "state.own")?;
        Some(RatchetKeyPair::from_secret(SealingSecretKey::from_bytes(
            &bytes,
        )))
    } else {
        None
    };
    let own_previous = read_list(r, "state.own_previous", 32, |r| {
        read_public(r, "state.own_previous")
    })?;
    check("state.own_previous", own_previous.len() <= MAX_OWN_PREVIOUS)?;
    let sending = if read_flag(r, "state.sending")? {
        let message = SendingChain {
            key: ChainKey::from_bytes(*read_secret32(r, "state.sending.message")?),
            next: field("state.sending.message", r.u32())?,
        };
        let control = SendingChain {
            key: ChainKey::from_bytes(*read_secret32(r, "state.sending.control")?),
            next: field("state.sending.control", r.u32())?,
        };
        let kem_step = if read_flag(r, "state.sending.kem_step")? {
            Some(read_kem_step(r)?)
        } else {
            None
        };
        Some(SendingEpoch {
            message,
            control,
            kem_step,
        })
    } else {
        None
    };
    let previous_lengths = (
        field("state.previous_lengths", r.u32())?,
        field("state.previous_lengths", r.u32())?,
    );
    let receiving = if read_flag(r, "state.receiving")? {
        Some(ReceivingEpoch {
            ratchet_key: read_public(r, "state.receiving.ratchet_key")?,
            message: read_receiving_chain(r, "state.receiving.message")?,
            control: read_receiving_chain(r, "state.receiving.control")?,
        })
    } else {
        None
    };
    let old_epochs = read_list(r, "state.old_epochs", 32 + 2 * WINDOW_ENCODED_LEN, |r| {
        Ok(OldEpoch {
            ratchet_key: read_public(r, "state.old_epochs.ratchet_key")?,
            message: ReplayWindow::decode(r, "state.old_epochs.message")?,
            control: ReplayWindow::decode(r, "state.old_epochs.control")?,
        })
    })?;
    check("state.old_epochs", old_epochs.len() <= MAX_OLD_EPOCHS)?;
    let skipped = read_list(r, "state.skipped", 32 + 1 + 4 + 32 + 8, |r| {
        let ratchet_key = read_public(r, "state.skipped.ratchet_key")?;
        let chain =
            Chain::from_code(field("state.skipped.chain", r.u8())?).ok_or(StateError::Invalid {
                field: "state.skipped.chain",
            })?;
        let n = field("state.skipped.n", r.u32())?;
        let secret = MessageSecret::from_bytes(*read_secret32(r, "state.skipped.secret")?);
        let stored_at = Timestamp::from_unix_seconds(field("state.skipped.stored_at", r.u64())?);
        Ok(Skipped {
            ratchet_key,
            chain,
            n,
            secret,
            stored_at,
        })
    })?;
    let local_kem = match field("state.local_kem", r.u8())? {
        0 => LocalKem::Bundle(SealingKeyId::from_bytes(field(
            "state.local_kem",
            r.array(),
        )?)),
        1 => {
            let seed = Zeroizing::new(field::<[u8; 64]>("state.local_kem", r.array())?);
            let dk = KemDecapsulationKey::from_seed(&seed);
            let id = dk.encapsulation_key().key_id();
            LocalKem::Own(dk, id)
        }
        2 => LocalKem::Consumed,
        _ => {
            return Err(StateError::Invalid {
                field: "state.local_kem",
            });
        }
    };
    let peer_kem = PeerKem {
        key: read_kem_key(r, "state.peer_kem")?,
        reusable: read_flag(r, "state.peer_kem.reusable")?,
        fresh: read_flag(r, "state.peer_kem.fresh")?,
    };
    let steps_since_kem = field("state.steps_since_kem", r.u32())?;
    let last_kem_at = Timestamp::from_unix_seconds(field("state.last_kem_at", r.u64())?);

    // Cross-field invariants (SPEC.md §12.2).
    check("state.sending", sending.is_some() || receiving.is_some())?;
    check("state.own", sending.is_none() || own.is_some())?;
    check("state.init", init.is_none() || receiving.is_none())?;
    check(
        "state.skipped",
        u32::try_from(skipped.len()).is_ok_and(|n| n <= policy.max_skipped),
    )?;
    let known_epoch = |key: &SealingPublicKey| {
        receiving.as_ref().is_some_and(|r| r.ratchet_key == *key)
            || old_epochs.iter().any(|o| o.ratchet_key == *key)
    };
    check(
        "state.skipped.ratchet_key",
        skipped.iter().all(|s| known_epoch(&s.ratchet_key)),
    )?;
    let mut keys: Vec<&SealingPublicKey> = old_epochs.iter().map(|o| &o.ratchet_key).collect();
    keys.extend(receiving.as_ref().map(|r| &r.ratchet_key));
    keys.sort();
    check(
        "state.old_epochs.repeated",
        keys.windows(2).all(|w| match w {
            [a, b] => a != b,
            _ => true,
        }),
    )?;
    Ok(RatchetState {
        session_id,
        init,
        root,
        own,
        own_previous,
        sending,
        previous_lengths,
        receiving,
        old_epochs,
        skipped,
        local_kem,
        peer_kem,
        steps_since_kem,
        last_kem_at,
    })
}

impl StateCodec for Session {
    const KIND: StateKind = StateKind::Session;
    const VERSION: u16 = SESSION_BLOB_VERSION;

    fn generation_mut(&mut self) -> &mut u64 {
        &mut self.generation
    }

    fn encode_state(&self, w: &mut Writer) -> Result<(), StateError> {
        write_party(w, &self.local);
        write_party(w, &self.peer);
        write_len(w, "peer_bundles", self.peer_bundles.len())?;
        for b in &self.peer_bundles {
            w.raw(b.sealing_key.as_bytes());
            w.raw(b.kem_key.as_bytes());
            w.u64(b.not_before.unix_seconds());
            w.u64(b.not_after.unix_seconds());
        }
        write_option(w, self.one_time_key.as_ref(), |w, k| {
            w.raw(k.key.as_bytes())
        });
        write_policy(w, &self.policy);
        write_option(w, self.current.as_ref(), |w, id| w.raw(id.as_bytes()));
        write_len(w, "seen", self.seen.len())?;
        for id in &self.seen {
            w.raw(id.as_bytes());
        }
        w.u64(self.clock);
        write_len(w, "slots", self.slots.len())?;
        for slot in &self.slots {
            w.u64(slot.last_used);
            write_state(w, &slot.state)?;
        }
        Ok(())
    }

    fn decode_state(r: &mut Reader<'_>) -> Result<Self, StateError> {
        let local = read_party(r, "local")?;
        let peer = read_party(r, "peer")?;
        check(
            "peer",
            local.address != peer.address && local.identity_key != peer.identity_key,
        )?;
        let mut last: Option<SealingKeyId> = None;
        let peer_bundles = read_list(
            r,
            "peer_bundles",
            32 + KEM_ENCAPSULATION_KEY_LEN + 16,
            |r| {
                let sealing_key = read_public(r, "peer_bundles.sealing_key")?;
                let key_id = sealing_key.key_id();
                check("peer_bundles.order", last.is_none_or(|l| l < key_id))?;
                last = Some(key_id);
                let kem_key = read_kem_key(r, "peer_bundles.kem_key")?;
                let not_before =
                    Timestamp::from_unix_seconds(field("peer_bundles.not_before", r.u64())?);
                let not_after =
                    Timestamp::from_unix_seconds(field("peer_bundles.not_after", r.u64())?);
                check("peer_bundles.not_after", not_after > not_before)?;
                Ok(PeerBundle {
                    key_id,
                    sealing_key,
                    kem_key,
                    not_before,
                    not_after,
                })
            },
        )?;
        check("peer_bundles", !peer_bundles.is_empty())?;
        let one_time_key = if read_flag(r, "one_time_key")? {
            let key = read_public(r, "one_time_key")?;
            Some(PeerOneTimeKey {
                key_id: key.key_id(),
                key,
            })
        } else {
            None
        };
        let policy = read_policy(r)?;
        let current = if read_flag(r, "current")? {
            Some(SessionId::from_bytes(field("current", r.array())?))
        } else {
            None
        };
        let seen = read_list(r, "seen", 16, |r| {
            Ok(SessionId::from_bytes(field("seen", r.array())?))
        })?;
        check("seen", seen.len() <= MAX_SEEN_SESSIONS)?;
        let mut sorted = seen.clone();
        sorted.sort();
        check(
            "seen.repeated",
            sorted.windows(2).all(|w| match w {
                [a, b] => a != b,
                _ => true,
            }),
        )?;
        let clock = field("clock", r.u64())?;
        let slots = read_list(r, "slots", 8 + 16 + 1 + 32 + 1, |r| {
            let last_used = field("slots.last_used", r.u64())?;
            check("slots.last_used", last_used <= clock)?;
            Ok(Slot {
                last_used,
                state: read_state(r, &policy)?,
            })
        })?;
        check("slots", slots.len() <= MAX_STATES)?;
        let mut ids: Vec<SessionId> = slots.iter().map(|s| s.state.session_id).collect();
        check("slots", ids.iter().all(|id| seen.contains(id)))?;
        ids.sort();
        check(
            "slots.repeated",
            ids.windows(2).all(|w| match w {
                [a, b] => a != b,
                _ => true,
            }),
        )?;
        check(
            "current",
            current.is_none_or(|c| ids.binary_search(&c).is_ok())
                && (current.is_some() || slots.is_empty()),
        )?;
        Ok(Session {
            local,
            peer,
            peer_bundles,
            one_time_key,
            slots,
            current,
            seen,
            policy,
            clock,
            generation: 0,
        })
    }
}
