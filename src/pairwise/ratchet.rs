//! One ratchet state (SPEC.md §7.6–7.7): root key, ratchet keys, sending and
//! receiving chains, skipped message secrets and the KEM ratchet.
//!
//! Every operation first computes what would change (a *plan*) without
//! touching the state, and commits only once the message authenticated or
//! was sealed: a failure changes nothing.

use alloc::vec::Vec;

use rand_core::CryptoRng;
use zeroize::Zeroize;

use super::header::{Header, InitFields, KemStepFields, SessionId};
use super::kdf::{EpochKeys, RootKey};
use super::session::{OpenError, SealError};
use crate::aead::{self, OpenIntoError, TAG_LEN};
use crate::device::DeviceKeys;
use crate::keys::{
    KemDecapsulationKey, KemEncapsulationKey, KemKeyId, KemSharedSecret, SealingKeyId,
    SealingPublicKey, SealingSecretKey,
};
use crate::message::keys::{ChainKey, MessageKeys, MessageSecret};
use crate::message::{COMMITMENT_LEN, SALT_LEN};
use crate::message::{Chain, ContentType};
use crate::message::{ReplayWindow, WindowError};
use crate::time::Timestamp;

/// Limits and schedules of the ratchet (SPEC.md §7.6–7.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatchetPolicy {
    /// Most message secrets one message may skip in one chain (default 1 000).
    pub max_skip: u32,
    /// Most skipped message secrets stored per ratchet state (default 2 000).
    pub max_skipped: u32,
    /// How long a skipped message secret is kept, in seconds (default 7 days).
    pub skipped_lifetime_seconds: u64,
    /// A KEM step after this many sending steps (default 16).
    pub kem_every_steps: u32,
    /// A KEM step once this many seconds passed since the last one (default 1 day).
    pub kem_every_seconds: u64,
}

impl Default for RatchetPolicy {
    fn default() -> Self {
        Self {
            max_skip: 1_000,
            max_skipped: 2_000,
            skipped_lifetime_seconds: 7 * 86_400,
            kem_every_steps: 16,
            kem_every_seconds: 86_400,
        }
    }
}

/// How many earlier receiving epochs keep their replay windows and skipped secrets.
pub(crate) const MAX_OLD_EPOCHS: usize = 8;
/// How many of this side's earlier ratchet keys are recognised as reflections.
pub(crate) const MAX_OWN_PREVIOUS: usize = 3;

/// A ratchet key pair of this side.
pub(crate) struct RatchetKeyPair {
    pub(crate) secret: SealingSecretKey,
    pub(crate) public: SealingPublicKey,
}

impl RatchetKeyPair {
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_secret(SealingSecretKey::generate(rng))
    }

    pub(crate) fn from_secret(secret: SealingSecretKey) -> Self {
        let public = secret.public_key();
        Self { secret, public }
    }
}

/// A sending chain: its key and the next message number.
pub(crate) struct SendingChain {
    pub(crate) key: ChainKey,
    pub(crate) next: u32,
}

/// This side's current sending epoch.
pub(crate) struct SendingEpoch {
    pub(crate) message: SendingChain,
    pub(crate) control: SendingChain,
    /// Repeated on every message of the epoch if it was a KEM step.
    pub(crate) kem_step: Option<KemStepFields>,
}

impl SendingEpoch {
    fn chain(&self, chain: Chain) -> &SendingChain {
        match chain {
            Chain::Message => &self.message,
            Chain::Control => &self.control,
        }
    }

    fn chain_mut(&mut self, chain: Chain) -> &mut SendingChain {
        match chain {
            Chain::Message => &mut self.message,
            Chain::Control => &mut self.control,
        }
    }

    fn lengths(&self) -> (u32, u32) {
        (self.message.next, self.control.next)
    }
}

/// A receiving chain: key, next number, and which numbers were opened.
pub(crate) struct ReceivingChain {
    pub(crate) key: ChainKey,
    pub(crate) next: u32,
    pub(crate) window: ReplayWindow,
}

/// The peer's current epoch.
pub(crate) struct ReceivingEpoch {
    pub(crate) ratchet_key: SealingPublicKey,
    pub(crate) message: ReceivingChain,
    pub(crate) control: ReceivingChain,
}

impl ReceivingEpoch {
    fn chain(&self, chain: Chain) -> &ReceivingChain {
        match chain {
            Chain::Message => &self.message,
            Chain::Control => &self.control,
        }
    }

    fn chain_mut(&mut self, chain: Chain) -> &mut ReceivingChain {
        match chain {
            Chain::Message => &mut self.message,
            Chain::Control => &mut self.control,
        }
    }
}

/// An earlier peer epoch: only its replay windows remain (its secrets are in
/// the skipped store).
pub(crate) struct OldEpoch {
    pub(crate) ratchet_key: SealingPublicKey,
    pub(crate) message: ReplayWindow,
    pub(crate) control: ReplayWindow,
}

impl OldEpoch {
    fn window(&self, chain: Chain) -> &ReplayWindow {
        match chain {
            Chain::Message => &self.message,
            Chain::Control => &self.control,
        }
    }

    fn window_mut(&mut self, chain: Chain) -> &mut ReplayWindow {
        match chain {
            Chain::Message => &mut self.message,
            Chain::Control => &mut self.control,
        }
    }
}

/// A stored skipped message secret.
pub(crate) struct Skipped {
    pub(crate) ratchet_key: SealingPublicKey,
    pub(crate) chain: Chain,
    pub(crate) n: u32,
    pub(crate) secret: MessageSecret,
    pub(crate) stored_at: Timestamp,
}

/// The KEM decapsulation key the peer will encapsulate to next.
pub(crate) enum LocalKem {
    /// The KEM key of one of this device's bundles (kept by [`DeviceKeys`]).
    Bundle(SealingKeyId),
    /// A key made at this side's last KEM step (deleted once used).
    Own(KemDecapsulationKey, KemKeyId),
    /// The peer used this side's last key; a new one comes with the next KEM step.
    Consumed,
}

/// The peer's KEM key this side encapsulates to at its next KEM step.
pub(crate) struct PeerKem {
    pub(crate) key: KemEncapsulationKey,
    /// A bundle's key may be used again; a ratchet key only once.
    pub(crate) reusable: bool,
    /// Not used yet.
    pub(crate) fresh: bool,
}

impl PeerKem {
    fn usable(&self) -> bool {
        self.reusable || self.fresh
    }
}

/// One ratchet state of a session (SPEC.md §7.6).
pub(crate) struct RatchetState {
    pub(crate) session_id: SessionId,
    /// Set while this side started the state and has not opened a reply in it.
    pub(crate) init: Option<InitFields>,
    pub(crate) root: RootKey,
    /// This side's current ratchet key pair (none for a responder before it sends).
    pub(crate) own: Option<RatchetKeyPair>,
    /// This side's earlier ratchet public keys, newest last (reflection check).
    pub(crate) own_previous: Vec<SealingPublicKey>,
    pub(crate) sending: Option<SendingEpoch>,
    /// Lengths of this side's previous sending chains (message, control).
    pub(crate) previous_lengths: (u32, u32),
    pub(crate) receiving: Option<ReceivingEpoch>,
    /// Earlier peer epochs, oldest first.
    pub(crate) old_epochs: Vec<OldEpoch>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) local_kem: LocalKem,
    pub(crate) peer_kem: PeerKem,
    pub(crate) steps_since_kem: u32,
    pub(crate) last_kem_at: Timestamp,
}

/// The secret a message opens with.
enum PlanSecret {
    /// A stored skipped secret (the message arrives late).
    Skipped(usize),
    /// Derived from a chain now.
    Derived(MessageSecret),
}

/// What a successful open changes; applied only after authentication.
struct OpenPlan {
    secret: PlanSecret,
    /// A new peer epoch (receiving step).
    step: Option<ReceivingStep>,
    /// Secrets to store as skipped.
    store: Vec<Skipped>,
    /// The current epoch's chain advanced (new key and next number).
    advance: Option<(ChainKey, u32)>,
}

struct ReceivingStep {
    root: RootKey,
    epoch: ReceivingEpoch,
    /// The peer's new KEM key, after a KEM step.
    peer_kem: Option<KemEncapsulationKey>,
}

/// What opening in a state yields (the plaintext is in the caller's buffer),
/// before the session adds its own report.
pub(crate) struct StateOpened {
    pub(crate) content_type: ContentType,
    pub(crate) chain: Chain,
    pub(crate) n: u32,
    pub(crate) skipped: u64,
    pub(crate) late: bool,
}

/// The message's body after its header (ciphertext and tag), and the
/// associated data.
pub(crate) struct Body<'a> {
    pub(crate) header_bytes: &'a [u8],
    pub(crate) ciphertext: &'a [u8],
    pub(crate) tag: &'a [u8; TAG_LEN],
    /// Authenticated, not sent.
    pub(crate) associated_data: &'a [u8],
}

impl RatchetState {
    /// Whether a ratchet key is one of this side's own (SPEC.md §7.7 check 3).
    pub(crate) fn is_own_ratchet_key(&self, key: &SealingPublicKey) -> bool {
        self.own.as_ref().is_some_and(|own| own.public == *key) || self.own_previous.contains(key)
    }

    fn kem_due(&self, policy: &RatchetPolicy, now: Timestamp) -> bool {
        self.peer_kem.usable()
            && (self.steps_since_kem.saturating_add(1) >= policy.kem_every_steps
                || now
                    .unix_seconds()
                    .saturating_sub(self.last_kem_at.unix_seconds())
                    >= policy.kem_every_seconds)
    }

    /// Whether the current sending chain of `chain` is used up (its next
    /// number is `u32::MAX`): the state cannot seal on it until the peer's
    /// reply starts a new sending epoch.
    pub(crate) fn sending_exhausted(&self, chain: Chain) -> bool {
        self.sending
            .as_ref()
            .is_some_and(|s| s.chain(chain).next == u32::MAX)
    }

    /// Seals in this state (SPEC.md §7.7): the sending step if due, then the
    /// chain's next message, written into `out` (see [`write_message`]).
    /// Changes nothing on failure, `out` included: every check runs before
    /// `out` is written.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn seal<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        policy: &RatchetPolicy,
        content_type: ContentType,
        plaintext: &[u8],
        associated_data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        let chain = content_type.chain();
        if self.sending_exhausted(chain) {
            return Err(SealError::CounterExhausted);
        }
        // The sending step (SPEC.md §7.6), planned on locals.
        let mut step: Option<(
            RatchetKeyPair,
            RootKey,
            SendingEpoch,
            Option<KemDecapsulationKey>,
        )> = None;
        if self.sending.is_none() {
            let peer_key = self
                .receiving
                .as_ref()
                .map(|r| r.ratchet_key)
                .ok_or(SealError::InvalidState)?;
            let pair = RatchetKeyPair::generate(rng);
            let dh = pair
                .secret
                .agree(&peer_key)
                .map_err(|_| SealError::NonContributory)?;
            let (kem, kem_fields, new_dk) = if self.kem_due(policy, now) {
                let (ct, ss) = self.peer_kem.key.encapsulate(rng);
                let dk = KemDecapsulationKey::generate(rng);
                let fields = KemStepFields {
                    kem_key_id: self.peer_kem.key.key_id(),
                    kem_ciphertext: ct,
                    new_kem_key: dk.encapsulation_key(),
                };
                (Some(ss), Some(fields), Some(dk))
            } else {
                (None, None, None)
            };
            let keys = self
                .root
                .step(dh.as_bytes(), kem.as_ref().map(KemSharedSecret::as_bytes));
            let epoch = SendingEpoch {
                message: SendingChain {
                    key: keys.message,
                    next: 0,
                },
                control: SendingChain {
                    key: keys.control,
                    next: 0,
                },
                kem_step: kem_fields,
            };
            step = Some((pair, keys.root, epoch, new_dk));
        }
        let (own_public, sending) = match (&step, &self.sending) {
            (Some((pair, _, epoch, _)), _) => (pair.public, epoch),
            (None, Some(epoch)) => (
                self.own
                    .as_ref()
                    .map(|o| o.public)
                    .ok_or(SealError::InvalidState)?,
                epoch,
            ),
            (None, None) => return Err(SealError::InvalidState),
        };
        let current = sending.chain(chain);
        let n = current.next;
        let (secret, next_key) = current.key.step();
        let (previous_message_chain, previous_control_chain) = self.previous_lengths;
        let mut header = Header {
            content_type,
            session_id: self.session_id,
            ratchet_key: own_public,
            previous_message_chain,
            previous_control_chain,
            n,
            init: self.init.clone(),
            kem_step: sending.kem_step.clone(),
            salt: [0; 16],
            commitment: [0; 32],
        };
        let bound = header.bound();
        header.salt = secret.hedged_salt(rng, &bound, associated_data, plaintext);
        let keys = secret.message_keys(&header.salt);
        header.commitment = keys.commitment;
        write_message(out, &bound, &header, &keys, plaintext, associated_data)?;

        // Commit.
        if let Some((pair, root, epoch, new_dk)) = step {
            if let Some(old) = self.own.replace(pair) {
                self.own_previous.push(old.public);
                if self.own_previous.len() > MAX_OWN_PREVIOUS {
                    self.own_previous.remove(0);
                }
            }
            self.root = root;
            let kem_step = epoch.kem_step.is_some();
            self.sending = Some(epoch);
            if let Some(dk) = new_dk {
                let id = dk.encapsulation_key().key_id();
                self.local_kem = LocalKem::Own(dk, id);
                self.peer_kem.fresh = false;
            }
            if kem_step {
                self.steps_since_kem = 0;
                self.last_kem_at = now;
            } else {
                self.steps_since_kem = self.steps_since_kem.saturating_add(1);
            }
        }
        if let Some(sending) = self.sending.as_mut() {
            let current = sending.chain_mut(chain);
            current.key = next_key;
            current.next = n.saturating_add(1);
        }
        Ok(())
    }

    /// Opens a message in this state (SPEC.md §7.7 checks 5–7), decrypting
    /// straight into `out` (exactly the ciphertext's length), then lets
    /// `accept` judge the content before anything changes. Changes nothing on
    /// failure, and `out` then holds no plaintext: a wrong length leaves it
    /// untouched; a failed tag leaves it untouched or zeroed (per the AEAD
    /// backend, [`aead::open_detached_into`]); a refusal by `accept` zeroes it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn open<E: From<OpenError>>(
        &mut self,
        device: &DeviceKeys,
        now: Timestamp,
        policy: &RatchetPolicy,
        header: &Header,
        body: &Body<'_>,
        out: &mut [u8],
        accept: impl FnOnce(ContentType, &[u8]) -> Result<(), E>,
    ) -> Result<StateOpened, E> {
        let chain = header.content_type.chain();
        let n = header.n;
        let plan = self.plan_open(device, now, policy, header, chain)?;
        let secret = match &plan.secret {
            PlanSecret::Skipped(i) => {
                &self
                    .skipped
                    .get(*i)
                    .ok_or(OpenError::TooOld { counter: n.into() })?
                    .secret
            }
            PlanSecret::Derived(secret) => secret,
        };
        let keys = secret.message_keys(&header.salt);
        if !keys.commitment_matches(&header.commitment) {
            return Err(OpenError::CommitmentMismatch.into());
        }
        let aad = aead::header_and_associated(body.header_bytes, body.associated_data);
        aead::open_detached_into(
            &keys.aead_key,
            &keys.nonce,
            &aad,
            body.ciphertext,
            body.tag,
            out,
        )
        .map_err(|e| match e {
            OpenIntoError::BufferLength(e) => OpenError::BufferLength {
                expected: e.expected,
            },
            OpenIntoError::Authentication(_) => OpenError::AuthenticationFailed,
        })?;
        if let Err(e) = accept(header.content_type, out) {
            out.zeroize();
            return Err(e);
        }

        // Commit.
        let late = matches!(plan.secret, PlanSecret::Skipped(_));
        let skipped = u64::try_from(plan.store.len()).unwrap_or(u64::MAX);
        if let PlanSecret::Skipped(i) = plan.secret {
            self.skipped.remove(i);
        }
        if let Some(step) = plan.step {
            if let Some(old) = self.receiving.take() {
                self.old_epochs.push(OldEpoch {
                    ratchet_key: old.ratchet_key,
                    message: old.message.window,
                    control: old.control.window,
                });
                if self.old_epochs.len() > MAX_OLD_EPOCHS {
                    let dropped = self.old_epochs.remove(0);
                    self.skipped
                        .retain(|s| s.ratchet_key != dropped.ratchet_key);
                }
            }
            self.root = step.root;
            self.receiving = Some(step.epoch);
            if let Some(sending) = self.sending.take() {
                self.previous_lengths = sending.lengths();
            }
            if let Some(key) = step.peer_kem {
                if !matches!(self.local_kem, LocalKem::Bundle(_)) {
                    self.local_kem = LocalKem::Consumed;
                }
                self.peer_kem = PeerKem {
                    key,
                    reusable: false,
                    fresh: true,
                };
                self.steps_since_kem = 0;
                self.last_kem_at = now;
            }
        }
        self.skipped.extend(plan.store);
        // Secrets past their lifetime go now (they no longer count, SPEC.md §7.7).
        self.skipped.retain(|s| Self::fresh(s, now, policy));
        if let Some(receiving) = self
            .receiving
            .as_mut()
            .filter(|r| r.ratchet_key == header.ratchet_key)
        {
            let current = receiving.chain_mut(chain);
            if let Some((key, next)) = plan.advance {
                current.key = key;
                current.next = next;
            }
            current.window.accept(n.into());
        } else if let Some(old) = self
            .old_epochs
            .iter_mut()
            .find(|o| o.ratchet_key == header.ratchet_key)
        {
            old.window_mut(chain).accept(n.into());
        }
        self.init = None;
        Ok(StateOpened {
            content_type: header.content_type,
            chain,
            n,
            skipped,
            late,
        })
    }

    /// A stored skipped secret for the message, or why there is none.
    fn lookup_skipped(
        &self,
        now: Timestamp,
        policy: &RatchetPolicy,
        header: &Header,
        chain: Chain,
        window: &ReplayWindow,
    ) -> Result<OpenPlan, OpenError> {
        let counter = u64::from(header.n);
        let found = self.skipped.iter().position(|s| {
            s.ratchet_key == header.ratchet_key && s.chain == chain && s.n == header.n
        });
        let fresh = |i: usize| {
            self.skipped
                .get(i)
                .is_some_and(|s| Self::fresh(s, now, policy))
        };
        match found {
            Some(i) if fresh(i) => Ok(OpenPlan {
                secret: PlanSecret::Skipped(i),
                step: None,
                store: Vec::new(),
                advance: None,
            }),
            _ => match window.check(counter) {
                Err(WindowError::Replay) => Err(OpenError::Replay { counter }),
                _ => Err(OpenError::TooOld { counter }),
            },
        }
    }

    /// Whether a stored skipped secret is within its lifetime at `now`.
    fn fresh(skipped: &Skipped, now: Timestamp, policy: &RatchetPolicy) -> bool {
        now.unix_seconds()
            .saturating_sub(skipped.stored_at.unix_seconds())
            <= policy.skipped_lifetime_seconds
    }

    /// The caps of SPEC.md §7.7 for storing `skip` more secrets of one chain,
    /// `planned` already planned by this message: at most `max_skip` per
    /// chain, at most `max_skipped` in the state, counting the stored secrets
    /// still within their lifetime at `now` and not of the epoch this message
    /// drops (`dropping`).
    fn check_caps(
        &self,
        now: Timestamp,
        policy: &RatchetPolicy,
        dropping: Option<&SealingPublicKey>,
        planned: usize,
        skip: u32,
    ) -> Result<(), OpenError> {
        let live = self
            .skipped
            .iter()
            .filter(|s| Self::fresh(s, now, policy) && Some(&s.ratchet_key) != dropping)
            .count();
        let total = live
            .saturating_add(planned)
            .saturating_add(usize::try_from(skip).unwrap_or(usize::MAX));
        if skip > policy.max_skip
            || total > usize::try_from(policy.max_skipped).unwrap_or(usize::MAX)
        {
            return Err(OpenError::TooManySkipped);
        }
        Ok(())
    }

    /// Walks a chain from number `from` to `n`, storing the secrets in between
    /// as skipped (within the caps); returns `MK_n` and the chain after `n`.
    #[allow(clippy::too_many_arguments)]
    fn walk_chain(
        &self,
        key: &ChainKey,
        from: u32,
        n: u32,
        ratchet_key: SealingPublicKey,
        chain: Chain,
        now: Timestamp,
        policy: &RatchetPolicy,
        dropping: Option<&SealingPublicKey>,
        store: &mut Vec<Skipped>,
    ) -> Result<(MessageSecret, (ChainKey, u32)), OpenError> {
        let skip = n
            .checked_sub(from)
            .ok_or(OpenError::TooOld { counter: n.into() })?;
        self.check_caps(now, policy, dropping, store.len(), skip)?;
        // Headers never carry n = 2^32 − 1 (SPEC.md §7.3), so this cannot saturate.
        let next = n.saturating_add(1);
        let mut key = key.clone();
        for m in from..n {
            let (secret, after) = key.step();
            store.push(Skipped {
                ratchet_key,
                chain,
                n: m,
                secret,
                stored_at: now,
            });
            key = after;
        }
        let (secret, after) = key.step();
        Ok((secret, (after, next)))
    }

    /// Finds the message secret for `header` and what opening would change.
    fn plan_open(
        &self,
        device: &DeviceKeys,
        now: Timestamp,
        policy: &RatchetPolicy,
        header: &Header,
        chain: Chain,
    ) -> Result<OpenPlan, OpenError> {
        let n = header.n;
        // The peer's current epoch.
        if let Some(receiving) = self
            .receiving
            .as_ref()
            .filter(|r| r.ratchet_key == header.ratchet_key)
        {
            let current = receiving.chain(chain);
            if n < current.next {
                return self.lookup_skipped(now, policy, header, chain, &current.window);
            }
            let mut store = Vec::new();
            let (secret, advance) = self.walk_chain(
                &current.key,
                current.next,
                n,
                header.ratchet_key,
                chain,
                now,
                policy,
                None,
                &mut store,
            )?;
            return Ok(OpenPlan {
                secret: PlanSecret::Derived(secret),
                step: None,
                store,
                advance: Some(advance),
            });
        }
        // An earlier peer epoch: only stored secrets.
        if let Some(old) = self
            .old_epochs
            .iter()
            .find(|o| o.ratchet_key == header.ratchet_key)
        {
            return self.lookup_skipped(now, policy, header, chain, old.window(chain));
        }

        // A new peer epoch: the receiving step (SPEC.md §7.6).
        let own = self.own.as_ref().ok_or(OpenError::UnexpectedRatchetKey)?;
        // The epoch this message would drop: the oldest stored one, when the
        // current receiving epoch joins a full list.
        let dropping = self
            .receiving
            .as_ref()
            .and(self.old_epochs.first())
            .filter(|_| self.old_epochs.len() >= MAX_OLD_EPOCHS)
            .map(|o| &o.ratchet_key);
        let mut store = Vec::new();
        if let Some(receiving) = &self.receiving {
            for (c, until) in [
                (Chain::Message, header.previous_message_chain),
                (Chain::Control, header.previous_control_chain),
            ] {
                let current = receiving.chain(c);
                if until > current.next {
                    // Store the rest of the finished chain, numbers next .. until-1
                    // (the secret for `until` itself is not kept: no such message). Only the
                    // stored secrets matter, so the walk's result (the chain's end) is dropped.
                    let _ = self.walk_chain(
                        &current.key,
                        current.next,
                        until,
                        receiving.ratchet_key,
                        c,
                        now,
                        policy,
                        dropping,
                        &mut store,
                    )?;
                }
            }
        }
        // All caps before any KEM work: the new chain's numbers before n.
        self.check_caps(now, policy, dropping, store.len(), n)?;
        let kem = match &header.kem_step {
            Some(fields) => Some(self.decapsulate(device, fields)?),
            None => None,
        };
        let dh = own
            .secret
            .agree(&header.ratchet_key)
            .map_err(|_| OpenError::NonContributory)?;
        let EpochKeys {
            root,
            message,
            control,
        } = self
            .root
            .step(dh.as_bytes(), kem.as_ref().map(KemSharedSecret::as_bytes));
        let mut epoch = ReceivingEpoch::from_chains(header.ratchet_key, message, control);
        let (secret, (key, next)) = self.walk_chain(
            &epoch.chain(chain).key,
            0,
            n,
            header.ratchet_key,
            chain,
            now,
            policy,
            dropping,
            &mut store,
        )?;
        let current = epoch.chain_mut(chain);
        current.key = key;
        current.next = next;
        Ok(OpenPlan {
            secret: PlanSecret::Derived(secret),
            step: Some(ReceivingStep {
                root,
                epoch,
                peer_kem: header.kem_step.as_ref().map(|f| f.new_kem_key.clone()),
            }),
            store,
            advance: None,
        })
    }

    /// Decapsulates a KEM step's ciphertext with this side's current KEM key.
    fn decapsulate(
        &self,
        device: &DeviceKeys,
        fields: &KemStepFields,
    ) -> Result<KemSharedSecret, OpenError> {
        match &self.local_kem {
            LocalKem::Bundle(sealing_key_id) => {
                let dk = device
                    .kem_key(sealing_key_id)
                    .ok_or(OpenError::UnknownKemKey(fields.kem_key_id))?;
                if dk.encapsulation_key().key_id() != fields.kem_key_id {
                    return Err(OpenError::UnknownKemKey(fields.kem_key_id));
                }
                Ok(dk.decapsulate(&fields.kem_ciphertext))
            }
            LocalKem::Own(dk, id) if *id == fields.kem_key_id => {
                Ok(dk.decapsulate(&fields.kem_ciphertext))
            }
            _ => Err(OpenError::UnknownKemKey(fields.kem_key_id)),
        }
    }

    /// Deletes skipped secrets older than the policy's lifetime.
    pub(crate) fn expire(&mut self, now: Timestamp, policy: &RatchetPolicy) {
        self.skipped.retain(|s| Self::fresh(s, now, policy));
    }
}

/// Writes the sealed message `header ‖ ciphertext ‖ tag` into `out`, where
/// the encoded header is `bound ‖ salt ‖ commitment` (as [`Header::encode`]),
/// encrypting straight from `plaintext` into `out` (SPEC.md §7.3, §7.7).
///
/// `out` is resized to the message's length, so it reallocates only when its
/// capacity is too small and zero-fills only the bytes beyond its old length;
/// every byte of the result is then written. Nothing can fail once `out` is
/// resized (the lengths agree by construction); should it anyway, `out` is
/// cleared and [`SealError::InvalidState`] returned.
fn write_message(
    out: &mut Vec<u8>,
    bound: &[u8],
    header: &Header,
    keys: &MessageKeys,
    plaintext: &[u8],
    associated_data: &[u8],
) -> Result<(), SealError> {
    let header_len = bound.len() + SALT_LEN + COMMITMENT_LEN;
    let total = header_len
        .checked_add(plaintext.len())
        .and_then(|n| n.checked_add(TAG_LEN))
        .ok_or(SealError::InvalidState)?;
    out.resize(total, 0);
    let written = (|| {
        let (head, rest) = out.split_at_mut_checked(header_len)?;
        let (head_bound, head_rest) = head.split_at_mut_checked(bound.len())?;
        let (salt, commitment) = head_rest.split_at_mut_checked(SALT_LEN)?;
        head_bound.copy_from_slice(bound);
        salt.copy_from_slice(&header.salt);
        commitment.copy_from_slice(&header.commitment);
        let (body, tag) = rest.split_at_mut_checked(plaintext.len())?;
        let aad = aead::header_and_associated(head, associated_data);
        let sealed_tag =
            aead::seal_detached_into(&keys.aead_key, &keys.nonce, &aad, plaintext, body).ok()?;
        tag.copy_from_slice(&sealed_tag);
        Some(())
    })();
    if written.is_none() {
        out.clear();
        return Err(SealError::InvalidState);
    }
    Ok(())
}

/// Builds a receiving epoch from an epoch's two chain keys.
impl ReceivingEpoch {
    pub(crate) fn from_chains(
        ratchet_key: SealingPublicKey,
        message: ChainKey,
        control: ChainKey,
    ) -> Self {
        Self {
            ratchet_key,
            message: ReceivingChain {
                key: message,
                next: 0,
                window: ReplayWindow::default(),
            },
            control: ReceivingChain {
                key: control,
                next: 0,
                window: ReplayWindow::default(),
            },
        }
    }
}
