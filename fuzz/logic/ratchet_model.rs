//! The model of the LS3 ratchet (SPEC.md §7) shared by the `ratchet_open` and
//! `ratchet_conversation` fuzz targets, and the simulator that drives real
//! sessions and the model in lockstep.
//!
//! Nothing here reads the crate's internal state: the model is written from
//! SPEC.md §7.3–7.10 and learns only what is on the wire (a sealed message's
//! header, parsed by [`parse`], an independent decoder of §7.3) and what the
//! simulator does. Secrets are modelled *symbolically*: a root key, an
//! epoch's chains and a message secret are [`Token`]s — SHA-256 over the
//! public inputs of the derivation (SPEC §7.4–7.6: the initial context, the
//! two ratchet public keys of a Diffie-Hellman step, the KEM ciphertext and
//! the id of the KEM key it was made for) — so two parties derive the same
//! token exactly when they derive the same secret. A message's key commitment
//! therefore matches at the receiver iff the receiver's token for its
//! (epoch, chain, n) equals the token of a message some party sealed with
//! the same salt and commitment, and its tag verifies iff, in addition, the
//! bytes and associated data are that message's ([`predict`]).
//!
//! Included with `#[path]` by `fuzz/logic/ratchet_open.rs` and
//! `fuzz/logic/ratchet_conversation.rs` (so by their cargo-fuzz targets and
//! by `repo-tests/tests/fuzz_corpus.rs`).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use letterseal::device::{DEVICE_BLOB_VERSION, DeviceKeys};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{
    KEM_CIPHERTEXT_LEN, KEM_ENCAPSULATION_KEY_LEN, KemDecapsulationKey, KemEncapsulationKey,
    SealingKeyId, SealingPublicKey, SealingSecretKey,
};
use letterseal::pairwise::{
    Chain, ContentType, EXPIRY_SKEW_SECONDS, FLAG_INIT, FLAG_KEM_STEP, FLAG_ONE_TIME,
    KIND_PAIRWISE, OpenError, Opened, RatchetPolicy, SESSION_BLOB_VERSION, SealError, Session,
    VERSION,
};
use letterseal::registration::{
    BundleContent, NoDirectory, OneTimeKeyContent, RegistrationPolicy, VerifiedBundle,
    VerifiedOneTimeKey,
};
use letterseal::state::{self, StateError, StateKind, StorageKey};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

// ---- constants --------------------------------------------------------------

pub(crate) const T0: u64 = 1_800_000_000;
pub(crate) const DAY: u64 = 86_400;
/// When every simulation starts.
pub(crate) const START: u64 = T0 + 600;
/// The ratchet policy of every session: small caps so that they are reached.
pub(crate) const POLICY: RatchetPolicy = RatchetPolicy {
    max_skip: 8,
    max_skipped: 12,
    skipped_lifetime_seconds: 3_600,
    kem_every_steps: 3,
    kem_every_seconds: DAY,
};
/// SPEC §7.7: the oldest stored epochs beyond 8 are dropped.
pub(crate) const MAX_OLD_EPOCHS: usize = 8;
/// SPEC §7.7 check 3: current and previous three own ratchet keys.
pub(crate) const MAX_OWN_PREVIOUS: usize = 3;
/// SPEC §7.9.
pub(crate) const MAX_STATES: usize = 4;
pub(crate) const MAX_SEEN: usize = 1_024;
/// SPEC §7.7: the replay window.
pub(crate) const WINDOW: u64 = 1_024;
/// Sealing keys per device: key 0 is live from the start, rotations add the others.
pub(crate) const POOL: usize = 6;
/// One-time keys per device; the last one is signed but never held by the device.
pub(crate) const OTK_POOL: usize = 4;
/// The associated-data variants.
pub(crate) const ASSOCIATED_DATA: [&[u8]; 4] = [b"", b"chat 42", b"chat 43", &[0xa5; 200]];
pub(crate) const NAMES: [&str; 2] = ["Alice", "Bob"];
pub(crate) const ALICE: usize = 0;
pub(crate) const BOB: usize = 1;

pub(crate) type Id = [u8; 16];
pub(crate) type Pk = [u8; 32];
pub(crate) type Sid = [u8; 16];
/// A symbolic secret (see the module documentation).
pub(crate) type Token = [u8; 32];
/// A message secret: (epoch token, chain index, n).
pub(crate) type Secret = (Token, usize, u32);

pub(crate) fn token(parts: &[&[u8]]) -> Token {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// 0 for the message chain, 1 for the control chain (SPEC §7.2).
pub(crate) fn chain_of(content_type: u16) -> usize {
    usize::from(content_type == 3 || content_type == 4)
}

pub(crate) fn chain_name(c: usize) -> Chain {
    if c == 0 {
        Chain::Message
    } else {
        Chain::Control
    }
}

/// SPEC §7.8: usable while `now < not_after + 300`.
pub(crate) fn expired(not_after: u64, now: u64) -> bool {
    now >= not_after.saturating_add(EXPIRY_SKEW_SECONDS)
}

// ---- fixture: devices and their key pools ------------------------------------

/// One sealing key of a device's pool (with its ML-KEM key pair).
pub(crate) struct PoolKey {
    pub(crate) secret: [u8; 32],
    pub(crate) kem_seed: [u8; 64],
    pub(crate) info: KeyInfo,
    pub(crate) bundle: VerifiedBundle,
}

/// One one-time key of a device's pool.
pub(crate) struct PoolOtk {
    pub(crate) id: Id,
    pub(crate) not_after: u64,
    pub(crate) verified: VerifiedOneTimeKey,
}

pub(crate) struct PartyFixture {
    pub(crate) keys: Vec<PoolKey>,
    pub(crate) otks: Vec<PoolOtk>,
    /// The device with key 0 and the first `OTK_POOL - 1` one-time keys.
    pub(crate) device_blob: Vec<u8>,
}

pub(crate) struct Fixture {
    pub(crate) parties: [PartyFixture; 2],
    pub(crate) storage_key: StorageKey,
}

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0x52; 32]);
    let storage_key = StorageKey::from_bytes([0x5b; 32]);
    let mut make = |user: &str, device_id: u32| -> PartyFixture {
        let address = DeviceAddress::new(
            UserId::new(user).expect("user id"),
            DeviceId::new(device_id),
        );
        let mut device = DeviceKeys::generate(&mut rng, address);
        let keys: Vec<PoolKey> = (0..POOL)
            .map(|k| {
                let secret = SealingSecretKey::generate(&mut rng);
                let kem = KemDecapsulationKey::generate(&mut rng);
                let not_before = T0 + 60 * k as u64;
                let not_after = not_before + (30 + 30 * k as u64) * DAY;
                let bundle = BundleContent::new(
                    device.address().clone(),
                    device.identity().public_key(),
                    secret.public_key(),
                    kem.encapsulation_key_ref(),
                    Timestamp::from_unix_seconds(not_before),
                    Timestamp::from_unix_seconds(not_after),
                )
                .sign(device.identity())
                .verify(
                    &device.address().clone().into(),
                    &RegistrationPolicy {
                        max_lifetime_seconds: 400 * DAY,
                        ..RegistrationPolicy::default()
                    },
                    Timestamp::from_unix_seconds(not_before),
                    None,
                    &NoDirectory,
                )
                .expect("pool bundle verifies");
                PoolKey {
                    secret: *secret.to_bytes(),
                    kem_seed: *kem.to_seed(),
                    info: KeyInfo {
                        id: bundle.sealing_key_id().to_bytes(),
                        kem_id: bundle.kem_key_id().to_bytes(),
                        not_before,
                        not_after,
                    },
                    bundle,
                }
            })
            .collect();
        let first = &keys[0];
        device.insert_sealing_key(
            SealingSecretKey::from_bytes(&first.secret),
            KemDecapsulationKey::from_seed(&first.kem_seed),
            Timestamp::from_unix_seconds(first.info.not_before),
            Timestamp::from_unix_seconds(first.info.not_after),
        );
        let otks: Vec<PoolOtk> = (0..OTK_POOL)
            .map(|i| {
                let secret = SealingSecretKey::generate(&mut rng);
                let not_before = Timestamp::from_unix_seconds(T0);
                let not_after = Timestamp::from_unix_seconds(T0 + 2 * DAY);
                let signed = if i + 1 < OTK_POOL {
                    device
                        .insert_one_time_key(secret, not_before, not_after)
                        .expect("a new one-time key")
                } else {
                    // Signed by the device but never kept: unknown to it.
                    OneTimeKeyContent::new(
                        device.address().clone(),
                        device.identity().public_key(),
                        secret.public_key(),
                        not_before,
                        not_after,
                    )
                    .sign(device.identity())
                };
                let verified = signed
                    .verify(
                        &device.address().clone().into(),
                        &RegistrationPolicy::default(),
                        not_before,
                        None,
                        &NoDirectory,
                    )
                    .expect("one-time key verifies");
                PoolOtk {
                    id: verified.key_id().to_bytes(),
                    not_after: not_after.unix_seconds(),
                    verified,
                }
            })
            .collect();
        let device_blob = device
            .export(&mut rng, &storage_key)
            .expect("device exports")
            .into_bytes();
        PartyFixture {
            keys,
            otks,
            device_blob,
        }
    };
    let alice = make("alice", 1);
    let bob = make("bob", 2);
    Fixture {
        parties: [alice, bob],
        storage_key,
    }
}

pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

// ---- wire format (SPEC §7.3), decoded independently ---------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireInit {
    pub(crate) initiator: Id,
    pub(crate) responder: Id,
    pub(crate) kem_id: Id,
    /// SHA-256 of the ciphertext (the model needs only its identity).
    pub(crate) ct: Token,
    pub(crate) otk: Option<Id>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireKem {
    pub(crate) kem_id: Id,
    pub(crate) ct: Token,
    /// `kem_key_id` of the new encapsulation key.
    pub(crate) new_kem_id: Id,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wire {
    pub(crate) content_type: u16,
    pub(crate) chain: usize,
    pub(crate) sid: Sid,
    pub(crate) rk: Pk,
    pub(crate) prev: [u32; 2],
    pub(crate) n: u32,
    pub(crate) init: Option<WireInit>,
    pub(crate) kem: Option<WireKem>,
    pub(crate) salt: [u8; 16],
    pub(crate) commitment: [u8; 32],
    pub(crate) header_len: usize,
}

fn malformed() -> OpenError {
    OpenError::Malformed(letterseal::codec::DecodeError::Truncated)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], OpenError> {
        let end = self.pos.checked_add(n).ok_or_else(malformed)?;
        let out = self.bytes.get(self.pos..end).ok_or_else(malformed)?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], OpenError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn u32(&mut self) -> Result<u32, OpenError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
}

/// Decodes a message as SPEC §7.3 says, or the refusal `open` must give
/// (`Malformed` of any kind, or `UnsupportedVersion`).
pub(crate) fn parse(bytes: &[u8]) -> Result<Wire, OpenError> {
    let mut c = Cursor { bytes, pos: 0 };
    let [version] = c.array()?;
    if version != VERSION {
        return Err(OpenError::UnsupportedVersion(version));
    }
    let [kind, flags] = c.array()?;
    if kind != KIND_PAIRWISE
        || flags & !(FLAG_INIT | FLAG_ONE_TIME | FLAG_KEM_STEP) != 0
        || (flags & FLAG_ONE_TIME != 0 && flags & FLAG_INIT == 0)
    {
        return Err(malformed());
    }
    let content_type = u16::from_be_bytes(c.array()?);
    let sid: Sid = c.array()?;
    let rk: Pk = c.array()?;
    if SealingPublicKey::from_bytes(rk).validate().is_err() {
        return Err(malformed());
    }
    let prev = [c.u32()?, c.u32()?];
    let n = c.u32()?;
    if n == u32::MAX {
        return Err(malformed());
    }
    let init = if flags & FLAG_INIT != 0 {
        Some(WireInit {
            initiator: c.array()?,
            responder: c.array()?,
            kem_id: c.array()?,
            ct: token(&[c.take(KEM_CIPHERTEXT_LEN)?]),
            otk: if flags & FLAG_ONE_TIME != 0 {
                Some(c.array()?)
            } else {
                None
            },
        })
    } else {
        None
    };
    let kem = if flags & FLAG_KEM_STEP != 0 {
        let kem_id = c.array()?;
        let ct = token(&[c.take(KEM_CIPHERTEXT_LEN)?]);
        let new_key = KemEncapsulationKey::from_bytes(c.take(KEM_ENCAPSULATION_KEY_LEN)?)
            .map_err(|_| malformed())?;
        Some(WireKem {
            kem_id,
            ct,
            new_kem_id: new_key.key_id().to_bytes(),
        })
    } else {
        None
    };
    let salt = c.array()?;
    let commitment = c.array()?;
    let header_len = c.pos;
    if bytes.len() - header_len < 16 {
        return Err(malformed());
    }
    Ok(Wire {
        content_type,
        chain: chain_of(content_type),
        sid,
        rk,
        prev,
        n,
        init,
        kem,
        salt,
        commitment,
        header_len,
    })
}

/// Errors compare by variant for `Malformed` (SPEC.md names no finer reason),
/// exactly otherwise.
pub(crate) fn same_error(got: &OpenError, want: &OpenError) -> bool {
    match (got, want) {
        (OpenError::Malformed(_), OpenError::Malformed(_)) => true,
        _ => got == want,
    }
}

// ---- the model ----------------------------------------------------------------

/// The public facts of a sealing key (from its bundle).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyInfo {
    pub(crate) id: Id,
    pub(crate) kem_id: Id,
    pub(crate) not_before: u64,
    pub(crate) not_after: u64,
}

/// What a device holds (SPEC §4.5, §5.5).
#[derive(Clone, Debug, Default)]
pub(crate) struct DeviceModel {
    pub(crate) live: BTreeMap<Id, KeyInfo>,
    pub(crate) retired: BTreeSet<Id>,
    /// Unused one-time keys and their `not_after`.
    pub(crate) otk_unused: BTreeMap<Id, u64>,
    /// Used one-time keys and their `not_after`.
    pub(crate) otk_consumed: BTreeMap<Id, u64>,
}

impl DeviceModel {
    /// The live key with the latest `not_before` (ties: larger id).
    pub(crate) fn current(&self) -> Option<&KeyInfo> {
        self.live.values().max_by_key(|k| (k.not_before, k.id))
    }
}

/// A replay window (SPEC §7.7): the highest accepted number and the accepted
/// numbers still inside the window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Window {
    highest: Option<u64>,
    accepted: BTreeSet<u64>,
}

impl Window {
    fn is_replay(&self, n: u64) -> bool {
        matches!(self.highest, Some(h) if n <= h && h - n < WINDOW && self.accepted.contains(&n))
    }

    fn accept(&mut self, n: u64) {
        let h = self.highest.map_or(n, |h| h.max(n));
        self.highest = Some(h);
        self.accepted.insert(n);
        self.accepted = self.accepted.split_off(&h.saturating_sub(WINDOW - 1));
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Sending {
    next: [u32; 2],
    epoch: Token,
    /// (the peer's KEM key id encapsulated to, ciphertext, own new KEM key id)
    kem: Option<(Id, Token, Id)>,
}

#[derive(Clone, Debug)]
pub(crate) struct Receiving {
    rk: Pk,
    epoch: Token,
    next: [u32; 2],
    win: [Window; 2],
}

#[derive(Clone, Debug)]
pub(crate) struct OldEpoch {
    rk: Pk,
    win: [Window; 2],
}

#[derive(Clone, Debug)]
pub(crate) struct Skipped {
    rk: Pk,
    chain: usize,
    n: u32,
    secret: Secret,
    stored_at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LocalKem {
    /// The KEM key of this device's sealing key with this id.
    Bundle(Id),
    /// A key this side sent in a KEM step (by KEM key id).
    Own(Id),
    Consumed,
}

#[derive(Clone, Debug)]
pub(crate) struct PeerKem {
    id: Id,
    reusable: bool,
    fresh: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InitInfo {
    initiator: Id,
    responder: Id,
    kem_id: Id,
    ct: Token,
    otk: Option<Id>,
}

/// One ratchet state (SPEC §7.6).
#[derive(Clone, Debug)]
pub(crate) struct StateModel {
    pub(crate) sid: Sid,
    last_used: u64,
    /// This side's own start, until it opens a message in it.
    init: Option<InitInfo>,
    root: Token,
    own: Option<Pk>,
    own_prev: Vec<Pk>,
    sending: Option<Sending>,
    prev_lengths: [u32; 2],
    receiving: Option<Receiving>,
    old: Vec<OldEpoch>,
    skipped: Vec<Skipped>,
    local_kem: LocalKem,
    peer_kem: PeerKem,
    steps_since_kem: u32,
    last_kem_at: u64,
}

/// One side's session (SPEC §7.9).
#[derive(Clone, Debug)]
pub(crate) struct SessionModel {
    pub(crate) peer_bundles: BTreeMap<Id, KeyInfo>,
    pub(crate) offered_otk: Option<Id>,
    pub(crate) states: Vec<StateModel>,
    pub(crate) current: Option<Sid>,
    pub(crate) seen: Vec<Sid>,
    pub(crate) clock: u64,
}

impl SessionModel {
    pub(crate) fn new(peer: KeyInfo, offered_otk: Option<Id>) -> Self {
        Self {
            peer_bundles: BTreeMap::from([(peer.id, peer)]),
            offered_otk,
            states: Vec::new(),
            current: None,
            seen: Vec::new(),
            clock: 0,
        }
    }

    fn index(&self, sid: &Sid) -> Option<usize> {
        self.states.iter().position(|s| s.sid == *sid)
    }

    /// The newest peer bundle (SPEC §7.8): latest `not_before`, ties the
    /// larger id. Starts use it, and the session's validity follows it.
    pub(crate) fn newest_peer(&self) -> &KeyInfo {
        self.peer_bundles
            .values()
            .max_by_key(|b| (b.not_before, b.id))
            .expect("a peer bundle")
    }

    /// The skipped messages of the current state, sorted: `Session::missing`.
    pub(crate) fn missing(&self) -> Vec<(Chain, u32)> {
        let mut out: Vec<(Chain, u32)> = self
            .current
            .and_then(|c| self.index(&c))
            .map(|i| {
                self.states[i]
                    .skipped
                    .iter()
                    .map(|s| (chain_name(s.chain), s.n))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// SPEC §7.9: the current state stays current only if it is this side's
    /// own unconfirmed start with the smaller session id.
    fn current_wins_over(&self, other: &Sid) -> bool {
        match self.current {
            Some(c) => {
                c != *other
                    && c < *other
                    && self.states.iter().any(|s| s.sid == c && s.init.is_some())
            }
            None => false,
        }
    }

    fn install(&mut self, state: StateModel, clock: u64, make_current: bool) {
        let sid = state.sid;
        if make_current {
            self.current = Some(sid);
        }
        let mut state = state;
        state.last_used = clock;
        self.states.push(state);
        while self.states.len() > MAX_STATES {
            let current = self.current;
            let oldest = self
                .states
                .iter()
                .enumerate()
                .filter(|(_, s)| Some(s.sid) != current)
                .min_by_key(|(_, s)| s.last_used)
                .map(|(i, _)| i)
                .expect("a state to drop");
            self.states.remove(oldest);
        }
        if !self.seen.contains(&sid) {
            self.seen.push(sid);
            if self.seen.len() > MAX_SEEN {
                self.seen.remove(0);
            }
        }
    }

    /// SPEC §7.7 / `Session::expire`.
    pub(crate) fn expire(&mut self, now: u64) {
        for s in &mut self.states {
            s.skipped
                .retain(|k| now.saturating_sub(k.stored_at) <= POLICY.skipped_lifetime_seconds);
        }
    }
}

/// `Agree`-based steps are symmetric: the token orders the two public keys.
fn root_step(root: &Token, a: &Pk, b: &Pk, kem: Option<(&Token, &Id)>) -> (Token, Token) {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let s = match kem {
        Some((ct, id)) => token(&[b"step", root, lo, hi, b"kem", ct, id]),
        None => token(&[b"step", root, lo, hi, b"dh"]),
    };
    (token(&[b"root", &s]), token(&[b"chains", &s]))
}

fn init_tokens(sid: &Sid, rk: &Pk, init: &InitInfo) -> (Token, Token) {
    let otk: &[u8] = match &init.otk {
        Some(id) => id,
        None => b"-",
    };
    let s = token(&[
        b"init",
        sid,
        rk,
        &init.initiator,
        &init.responder,
        &init.kem_id,
        &init.ct,
        otk,
    ]);
    (token(&[b"root", &s]), token(&[b"chains", &s]))
}

/// Legitimate session starts: (initiator ratchet key, initiator key id,
/// responder key id) → session id. A start with other values has a session id
/// nobody computed (SPEC §7.5: the id binds them), so it cannot match.
pub(crate) type Starts = BTreeMap<(Pk, Id, Id), Sid>;

/// One side: its device and session, and the messages it opened in this
/// state lineage (indexes into the sent list).
#[derive(Clone, Debug)]
pub(crate) struct PartyModel {
    pub(crate) device: DeviceModel,
    pub(crate) session: SessionModel,
    pub(crate) opened: BTreeSet<usize>,
}

/// What a successful open reports and leaves behind (before the session-level commit).
#[derive(Clone, Debug)]
pub(crate) struct Expected {
    pub(crate) secret: Secret,
    pub(crate) chain: usize,
    pub(crate) n: u32,
    pub(crate) skipped: u64,
    pub(crate) late: bool,
    pub(crate) started: bool,
    pub(crate) sid: Sid,
    pub(crate) content_type: u16,
    state: StateModel,
    existing: Option<usize>,
    otk: Option<Id>,
}

/// Whether a stored skipped secret is within its lifetime at `now` (SPEC §7.7).
fn fresh(k: &Skipped, now: u64) -> bool {
    now.saturating_sub(k.stored_at) <= POLICY.skipped_lifetime_seconds
}

/// The first failing check of a late message (SPEC §7.7 `Replay`/`TooOld`).
fn late_lookup(
    st: &StateModel,
    rk: &Pk,
    c: usize,
    n: u32,
    now: u64,
    win: &Window,
) -> Result<usize, OpenError> {
    let found = st
        .skipped
        .iter()
        .position(|s| s.rk == *rk && s.chain == c && s.n == n);
    match found {
        Some(i)
            if now.saturating_sub(st.skipped[i].stored_at) <= POLICY.skipped_lifetime_seconds =>
        {
            Ok(i)
        }
        _ if win.is_replay(u64::from(n)) => Err(OpenError::Replay {
            counter: u64::from(n),
        }),
        _ => Err(OpenError::TooOld {
            counter: u64::from(n),
        }),
    }
}

impl PartyModel {
    pub(crate) fn new(device: DeviceModel, session: SessionModel) -> Self {
        Self {
            device,
            session,
            opened: BTreeSet::new(),
        }
    }

    /// SPEC §7.7 seal checks 1–3 (the counter cannot be exhausted here).
    pub(crate) fn seal_check(&self, now: u64) -> Result<(), SealError> {
        let local = self.device.current().ok_or(SealError::NoSealingKey)?;
        if expired(local.not_after, now) {
            return Err(SealError::LocalKeyExpired(SealingKeyId::from_bytes(
                local.id,
            )));
        }
        let peer = self.session.newest_peer();
        if expired(peer.not_after, now) {
            return Err(SealError::PeerKeyExpired(SealingKeyId::from_bytes(peer.id)));
        }
        Ok(())
    }

    /// After a successful seal: checks the header against what SPEC §7.5–7.7
    /// say it must be, records the seal, and returns the message secret.
    pub(crate) fn seal_commit(
        &mut self,
        wire: &Wire,
        now: u64,
        starts: &mut Starts,
        who: &str,
    ) -> Secret {
        let c = wire.chain;
        self.session.clock += 1;
        let clock = self.session.clock;
        let current = self.session.current.and_then(|s| self.session.index(&s));
        let Some(i) = current else {
            // A start (SPEC §7.5).
            let local = self.device.current().expect("a live key").clone();
            let peer = self.session.newest_peer().clone();
            let init = wire.init.as_ref().unwrap_or_else(|| {
                panic!("{who}: the first message of a start has no INIT fields")
            });
            let want = InitInfo {
                initiator: local.id,
                responder: peer.id,
                kem_id: peer.kem_id,
                ct: init.ct,
                otk: self.session.offered_otk,
            };
            let got = InitInfo {
                initiator: init.initiator,
                responder: init.responder,
                kem_id: init.kem_id,
                ct: init.ct,
                otk: init.otk,
            };
            assert_eq!(got, want, "{who}: INIT fields of a start");
            assert!(wire.kem.is_none(), "{who}: a start is no KEM step");
            assert_eq!((wire.prev, wire.n), ([0, 0], 0), "{who}: a start's numbers");
            assert!(
                !self.session.seen.contains(&wire.sid),
                "{who}: a start re-used a session id"
            );
            starts.insert((wire.rk, init.initiator, init.responder), wire.sid);
            let (root, epoch) = init_tokens(&wire.sid, &wire.rk, &want);
            let mut next = [0, 0];
            next[c] = 1;
            let state = StateModel {
                sid: wire.sid,
                last_used: clock,
                init: Some(want),
                root,
                own: Some(wire.rk),
                own_prev: Vec::new(),
                sending: Some(Sending {
                    next,
                    epoch,
                    kem: None,
                }),
                prev_lengths: [0, 0],
                receiving: None,
                old: Vec::new(),
                skipped: Vec::new(),
                local_kem: LocalKem::Bundle(local.id),
                peer_kem: PeerKem {
                    id: peer.kem_id,
                    reusable: true,
                    fresh: true,
                },
                steps_since_kem: 0,
                last_kem_at: now,
            };
            self.session.offered_otk = None;
            self.session.install(state, clock, true);
            return (epoch, c, 0);
        };
        let st = &mut self.session.states[i];
        st.last_used = clock;
        assert_eq!(wire.sid, st.sid, "{who}: sealed in the current state");
        if st.sending.is_none() {
            // The sending step (SPEC §7.6).
            let peer_rk = st
                .receiving
                .as_ref()
                .expect("a state without a sending chain has a receiving one")
                .rk;
            assert!(
                st.own != Some(wire.rk) && !st.own_prev.contains(&wire.rk) && wire.rk != peer_rk,
                "{who}: a sending step re-used a ratchet key"
            );
            let usable = st.peer_kem.reusable || st.peer_kem.fresh;
            let due = usable
                && (st.steps_since_kem + 1 >= POLICY.kem_every_steps
                    || now.saturating_sub(st.last_kem_at) >= POLICY.kem_every_seconds);
            assert_eq!(wire.kem.is_some(), due, "{who}: KEM step due ({st:?})");
            let kem = wire.kem.as_ref().map(|k| {
                assert_eq!(
                    k.kem_id, st.peer_kem.id,
                    "{who}: KEM step to the peer's KEM key"
                );
                (k.kem_id, k.ct, k.new_kem_id)
            });
            let (root, epoch) = root_step(
                &st.root,
                &wire.rk,
                &peer_rk,
                kem.as_ref().map(|k| (&k.1, &k.0)),
            );
            if let Some(old) = st.own.replace(wire.rk) {
                st.own_prev.push(old);
                if st.own_prev.len() > MAX_OWN_PREVIOUS {
                    st.own_prev.remove(0);
                }
            }
            st.root = root;
            if let Some((_, _, new_id)) = &kem {
                st.local_kem = LocalKem::Own(*new_id);
                st.peer_kem.fresh = false;
                st.steps_since_kem = 0;
                st.last_kem_at = now;
            } else {
                st.steps_since_kem += 1;
            }
            st.sending = Some(Sending {
                next: [0, 0],
                epoch,
                kem,
            });
        } else {
            assert_eq!(Some(wire.rk), st.own, "{who}: same epoch, same ratchet key");
        }
        let sending = st.sending.as_mut().expect("a sending chain");
        let kem = wire.kem.as_ref().map(|k| (k.kem_id, k.ct, k.new_kem_id));
        assert_eq!(
            kem, sending.kem,
            "{who}: KEM fields repeat through the epoch"
        );
        let init = wire.init.as_ref().map(|i| InitInfo {
            initiator: i.initiator,
            responder: i.responder,
            kem_id: i.kem_id,
            ct: i.ct,
            otk: i.otk,
        });
        assert_eq!(init, st.init, "{who}: INIT fields until the peer answers");
        assert_eq!(wire.prev, st.prev_lengths, "{who}: previous chain lengths");
        let n = sending.next[c];
        assert_eq!(wire.n, n, "{who}: message number");
        sending.next[c] += 1;
        (sending.epoch, c, n)
    }

    /// SPEC §7.7 open checks 2–5 for a decoded message, in order: the first
    /// failure, or what a successful open would report and leave behind.
    pub(crate) fn expect_open(
        &self,
        wire: &Wire,
        now: u64,
        starts: &Starts,
    ) -> Result<Expected, OpenError> {
        let s = &self.session;
        let d = &self.device;
        let existing = s.index(&wire.sid);
        let (mut st, otk) = match existing {
            Some(i) => (s.states[i].clone(), None),
            None => {
                let init = wire.init.as_ref().ok_or(OpenError::UnknownSession)?;
                if s.seen.contains(&wire.sid) {
                    return Err(OpenError::StaleSession);
                }
                let own_id = init.responder;
                let sid_err = |id: Id| SealingKeyId::from_bytes(id);
                if d.retired.contains(&own_id) {
                    return Err(OpenError::RetiredKey(sid_err(own_id)));
                }
                let own = d
                    .live
                    .get(&own_id)
                    .ok_or(OpenError::UnknownRecipientKey(sid_err(own_id)))?;
                if own.kem_id != init.kem_id {
                    return Err(OpenError::UnknownRecipientKey(sid_err(own_id)));
                }
                let peer = s
                    .peer_bundles
                    .get(&init.initiator)
                    .ok_or(OpenError::UnknownSenderKey(sid_err(init.initiator)))?;
                if let Some(otk) = init.otk {
                    if d.otk_consumed.contains_key(&otk) {
                        return Err(OpenError::ConsumedOneTimeKey(sid_err(otk)));
                    }
                    if !d.otk_unused.contains_key(&otk) {
                        return Err(OpenError::UnknownOneTimeKey(sid_err(otk)));
                    }
                }
                if expired(peer.not_after, now) {
                    return Err(OpenError::PeerKeyExpired(sid_err(peer.id)));
                }
                if expired(own.not_after, now) {
                    return Err(OpenError::LocalKeyExpired(sid_err(own_id)));
                }
                if starts.get(&(wire.rk, init.initiator, init.responder)) != Some(&wire.sid) {
                    return Err(OpenError::UnknownSession);
                }
                let info = InitInfo {
                    initiator: init.initiator,
                    responder: init.responder,
                    kem_id: init.kem_id,
                    ct: init.ct,
                    otk: init.otk,
                };
                let (root, epoch) = init_tokens(&wire.sid, &wire.rk, &info);
                let state = StateModel {
                    sid: wire.sid,
                    last_used: 0,
                    init: None,
                    root,
                    own: None,
                    own_prev: Vec::new(),
                    sending: None,
                    prev_lengths: [0, 0],
                    receiving: Some(Receiving {
                        rk: wire.rk,
                        epoch,
                        next: [0, 0],
                        win: Default::default(),
                    }),
                    old: Vec::new(),
                    skipped: Vec::new(),
                    local_kem: LocalKem::Bundle(own_id),
                    peer_kem: PeerKem {
                        id: peer.kem_id,
                        reusable: true,
                        fresh: true,
                    },
                    steps_since_kem: 0,
                    last_kem_at: now,
                };
                (state, init.otk)
            }
        };
        if st.own == Some(wire.rk) || st.own_prev.contains(&wire.rk) {
            return Err(OpenError::Reflected);
        }
        let newest = s.newest_peer();
        if expired(newest.not_after, now) {
            return Err(OpenError::PeerKeyExpired(SealingKeyId::from_bytes(
                newest.id,
            )));
        }
        let (c, n) = (wire.chain, wire.n);
        // SPEC §7.7 caps: one message stores at most `max_skip` secrets of
        // one chain; the state holds at most `max_skipped`, counting the
        // stored secrets within their lifetime at `now` and not of the epoch
        // this message would drop.
        let caps = |st: &StateModel, dropping: Option<Pk>, planned: usize, skip: u32| {
            let live = st
                .skipped
                .iter()
                .filter(|k| fresh(k, now) && Some(k.rk) != dropping)
                .count();
            if skip > POLICY.max_skip
                || live + planned + skip as usize > POLICY.max_skipped as usize
            {
                Err(OpenError::TooManySkipped)
            } else {
                Ok(())
            }
        };
        let mut stored: Vec<Skipped> = Vec::new();
        let secret;
        let mut late = false;
        let current = st
            .receiving
            .as_ref()
            .filter(|r| r.rk == wire.rk)
            .map(|r| (r.next[c], r.epoch));
        if let Some((next, epoch)) = current {
            if n < next {
                let win = &st.receiving.as_ref().expect("receiving").win[c];
                let i = late_lookup(&st, &wire.rk, c, n, now, win)?;
                secret = st.skipped.remove(i).secret;
                late = true;
                st.receiving.as_mut().expect("receiving").win[c].accept(u64::from(n));
            } else {
                caps(&st, None, 0, n - next)?;
                for m in next..n {
                    stored.push(Skipped {
                        rk: wire.rk,
                        chain: c,
                        n: m,
                        secret: (epoch, c, m),
                        stored_at: now,
                    });
                }
                secret = (epoch, c, n);
                let recv = st.receiving.as_mut().expect("receiving");
                recv.next[c] = n + 1;
                recv.win[c].accept(u64::from(n));
            }
        } else if let Some(j) = st.old.iter().position(|o| o.rk == wire.rk) {
            let i = late_lookup(&st, &wire.rk, c, n, now, &st.old[j].win[c])?;
            secret = st.skipped.remove(i).secret;
            late = true;
            st.old[j].win[c].accept(u64::from(n));
        } else {
            // A new peer epoch: the receiving step (SPEC §7.6).
            let own = st.own.ok_or(OpenError::UnexpectedRatchetKey)?;
            // The epoch it would drop: the oldest stored one, when the
            // current receiving epoch joins a full list.
            let dropping = st
                .receiving
                .as_ref()
                .and(st.old.first())
                .filter(|_| st.old.len() >= MAX_OLD_EPOCHS)
                .map(|o| o.rk);
            if let Some(recv) = &st.receiving {
                for c2 in 0..2 {
                    let until = wire.prev[c2];
                    if until > recv.next[c2] {
                        // The rest of the previous chain, numbers next .. until-1.
                        caps(&st, dropping, stored.len(), until - recv.next[c2])?;
                        for m in recv.next[c2]..until {
                            stored.push(Skipped {
                                rk: recv.rk,
                                chain: c2,
                                n: m,
                                secret: (recv.epoch, c2, m),
                                stored_at: now,
                            });
                        }
                    }
                }
            }
            // Every cap before the KEM key: the new chain's numbers before n.
            caps(&st, dropping, stored.len(), n)?;
            let kem = match &wire.kem {
                Some(k) => {
                    let unknown =
                        OpenError::UnknownKemKey(letterseal::keys::KemKeyId::from_bytes(k.kem_id));
                    let ok = match &st.local_kem {
                        LocalKem::Bundle(id) => {
                            d.live.get(id).is_some_and(|key| key.kem_id == k.kem_id)
                        }
                        LocalKem::Own(id) => *id == k.kem_id,
                        LocalKem::Consumed => false,
                    };
                    if !ok {
                        return Err(unknown);
                    }
                    Some((k.ct, k.kem_id))
                }
                None => None,
            };
            let (root, epoch) = root_step(
                &st.root,
                &own,
                &wire.rk,
                kem.as_ref().map(|(ct, id)| (ct, id)),
            );
            for m in 0..n {
                stored.push(Skipped {
                    rk: wire.rk,
                    chain: c,
                    n: m,
                    secret: (epoch, c, m),
                    stored_at: now,
                });
            }
            secret = (epoch, c, n);
            if let Some(recv) = st.receiving.take() {
                st.old.push(OldEpoch {
                    rk: recv.rk,
                    win: recv.win,
                });
                if st.old.len() > MAX_OLD_EPOCHS {
                    let dropped = st.old.remove(0);
                    st.skipped.retain(|k| k.rk != dropped.rk);
                }
            }
            let mut next = [0, 0];
            next[c] = n + 1;
            let mut win: [Window; 2] = Default::default();
            win[c].accept(u64::from(n));
            st.root = root;
            st.receiving = Some(Receiving {
                rk: wire.rk,
                epoch,
                next,
                win,
            });
            if let Some(sending) = st.sending.take() {
                st.prev_lengths = sending.next;
            }
            if let Some(k) = &wire.kem {
                if !matches!(st.local_kem, LocalKem::Bundle(_)) {
                    st.local_kem = LocalKem::Consumed;
                }
                st.peer_kem = PeerKem {
                    id: k.new_kem_id,
                    reusable: false,
                    fresh: true,
                };
                st.steps_since_kem = 0;
                st.last_kem_at = now;
            }
        }
        let skipped = stored.len() as u64;
        st.skipped.extend(stored);
        // An open that commits deletes the expired secrets (SPEC §7.7).
        st.skipped.retain(|k| fresh(k, now));
        st.init = None;
        Ok(Expected {
            secret,
            chain: c,
            n,
            skipped,
            late,
            started: existing.is_none(),
            sid: wire.sid,
            content_type: wire.content_type,
            state: st,
            existing,
            otk,
        })
    }

    /// Applies a successful open (SPEC §7.7 commit, §7.9 current state).
    pub(crate) fn commit_open(&mut self, e: Expected) {
        let s = &mut self.session;
        s.clock += 1;
        let clock = s.clock;
        match e.existing {
            None => {
                if let Some(otk) = e.otk {
                    let not_after = self
                        .device
                        .otk_unused
                        .remove(&otk)
                        .expect("the one-time key was unused");
                    self.device.otk_consumed.insert(otk, not_after);
                }
                let keep_own = s.current_wins_over(&e.sid);
                s.install(e.state, clock, !keep_own);
            }
            Some(i) => {
                s.states[i] = e.state;
                s.states[i].last_used = clock;
                if !s.current_wins_over(&e.sid) {
                    s.current = Some(e.sid);
                }
            }
        }
    }

    /// `DeviceKeys::expire`.
    pub(crate) fn expire_device(&mut self, now: u64) {
        self.device.otk_unused.retain(|_, na| *na > now);
        self.device.otk_consumed.retain(|_, na| *na > now);
    }
}

// ---- prediction of an open -------------------------------------------------

/// A message some party sealed, as sealed.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub(crate) from: usize,
    pub(crate) bytes: Vec<u8>,
    pub(crate) ad: usize,
    pub(crate) plaintext: Vec<u8>,
    pub(crate) wire: Wire,
    pub(crate) secret: Secret,
}

/// What opening some bytes must give.
#[derive(Debug)]
pub(crate) enum Prediction {
    Refused(OpenError),
    /// Opens as `sent[id]`.
    Opens(usize, Box<Expected>),
}

/// SPEC §7.7 checks 1–7 for `bytes` with associated data `ad` at `receiver`.
/// The key commitment matches iff the receiver's secret for the message and
/// its salt are those of a sealed message with this commitment; the tag then
/// verifies iff the bytes and associated data are that message's.
pub(crate) fn predict(
    receiver: &PartyModel,
    sent: &[Sent],
    starts: &Starts,
    bytes: &[u8],
    ad: &[u8],
    now: u64,
) -> Prediction {
    let wire = match parse(bytes) {
        Ok(w) => w,
        Err(e) => return Prediction::Refused(e),
    };
    let expected = match receiver.expect_open(&wire, now, starts) {
        Ok(e) => e,
        Err(e) => return Prediction::Refused(e),
    };
    let mut committed = false;
    for (id, m) in sent.iter().enumerate() {
        if m.secret == expected.secret
            && m.wire.salt == wire.salt
            && m.wire.commitment == wire.commitment
        {
            committed = true;
            if m.bytes == bytes && ASSOCIATED_DATA[m.ad] == ad {
                return Prediction::Opens(id, Box::new(expected));
            }
        }
    }
    Prediction::Refused(if committed {
        OpenError::AuthenticationFailed
    } else {
        OpenError::CommitmentMismatch
    })
}

// ---- state export helpers ----------------------------------------------------

/// The payload of a fresh export of `session` (the generation is not part of it).
pub(crate) fn session_payload(session: &mut Session, rng: &mut ChaCha20Rng) -> Vec<u8> {
    let key = &fixture().storage_key;
    let blob = session.export(rng, key).expect("session exports");
    state::open_raw(
        StateKind::Session,
        SESSION_BLOB_VERSION,
        key,
        blob.as_bytes(),
        0,
    )
    .expect("a fresh export opens")
    .0
    .to_vec()
}

/// The payload of a fresh export of `device`.
pub(crate) fn device_payload(device: &mut DeviceKeys, rng: &mut ChaCha20Rng) -> Vec<u8> {
    let key = &fixture().storage_key;
    let blob = device.export(rng, key).expect("device exports");
    state::open_raw(
        StateKind::DeviceKeys,
        DEVICE_BLOB_VERSION,
        key,
        blob.as_bytes(),
        0,
    )
    .expect("a fresh export opens")
    .0
    .to_vec()
}

// ---- the simulator -------------------------------------------------------------

/// One side: real device and session, and the model of both.
pub(crate) struct Side {
    pub(crate) device: DeviceKeys,
    pub(crate) session: Session,
    pub(crate) model: PartyModel,
}

/// A saved side: blobs of both states and the model at that point.
#[derive(Clone)]
pub(crate) struct Snapshot {
    pub(crate) device: Vec<u8>,
    pub(crate) session: Vec<u8>,
    pub(crate) model: PartyModel,
    pub(crate) now: u64,
}

/// Drives two parties and the model in lockstep; every call checks the
/// library's result against the model and panics on a difference.
pub(crate) struct Sim {
    pub(crate) fx: &'static Fixture,
    pub(crate) rng: ChaCha20Rng,
    pub(crate) now: u64,
    pub(crate) sides: [Side; 2],
    /// Pool keys each side's device holds or held (key 0 at setup).
    pub(crate) generated: [usize; 2],
    /// How many of each side's one-time keys the peer has been offered.
    pub(crate) otk_offered: [usize; 2],
    pub(crate) sent: Vec<Sent>,
    /// Messages in flight, oldest first.
    pub(crate) pending: Vec<usize>,
    pub(crate) starts: Starts,
    /// Outcomes seen, for the corpus test.
    pub(crate) trace: Option<BTreeSet<String>>,
}

pub(crate) fn load_device(blob: &[u8]) -> DeviceKeys {
    DeviceKeys::import(&fixture().storage_key, blob, 0).expect("saved device imports")
}

pub(crate) fn load_session(blob: &[u8]) -> Session {
    Session::import(&fixture().storage_key, blob, 0).expect("saved session imports")
}

fn device_model(p: &PartyFixture) -> DeviceModel {
    DeviceModel {
        live: BTreeMap::from([(p.keys[0].info.id, p.keys[0].info.clone())]),
        retired: BTreeSet::new(),
        otk_unused: p.otks[..OTK_POOL - 1]
            .iter()
            .map(|o| (o.id, o.not_after))
            .collect(),
        otk_consumed: BTreeMap::new(),
    }
}

impl Sim {
    /// Alice and Bob with key 0 each; Alice's session offers Bob's first
    /// one-time key.
    pub(crate) fn new(trace: bool) -> Self {
        let fx = fixture();
        let side = |i: usize| {
            let me = &fx.parties[i];
            let peer = &fx.parties[1 - i];
            let device = load_device(&me.device_blob);
            let mut session = Session::new(&device, &peer.keys[0].bundle)
                .expect("session")
                .with_policy(POLICY)
                .expect("policy");
            let offered = (i == ALICE).then(|| {
                session = Session::new(&device, &peer.keys[0].bundle)
                    .expect("session")
                    .with_policy(POLICY)
                    .expect("policy")
                    .with_one_time_key(&peer.otks[0].verified)
                    .expect("the peer's one-time key");
                peer.otks[0].id
            });
            Side {
                device,
                session,
                model: PartyModel::new(
                    device_model(me),
                    SessionModel::new(peer.keys[0].info.clone(), offered),
                ),
            }
        };
        Self {
            fx,
            rng: ChaCha20Rng::from_seed([0x73; 32]),
            now: START,
            sides: [side(ALICE), side(BOB)],
            generated: [1, 1],
            otk_offered: [1, 0],
            sent: Vec::new(),
            pending: Vec::new(),
            starts: Starts::new(),
            trace: trace.then(BTreeSet::new),
        }
    }

    pub(crate) fn note(&mut self, what: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            trace.insert(what());
        }
    }

    /// After every action: the states agree with the model.
    pub(crate) fn sync(&self) {
        for (i, side) in self.sides.iter().enumerate() {
            let who = NAMES[i];
            let m = &side.model;
            assert_eq!(
                side.session.current_session_id().map(|s| *s.as_bytes()),
                m.session.current,
                "{who}: current session"
            );
            let mut missing = side.session.missing();
            missing.sort();
            assert_eq!(missing, m.session.missing(), "{who}: missing (gap report)");
            assert_eq!(
                side.device.current_sealing_key_id().map(|k| k.to_bytes()),
                m.device.current().map(|k| k.id),
                "{who}: current sealing key"
            );
            let live: BTreeSet<Id> = side.device.live_key_ids().map(|k| k.to_bytes()).collect();
            assert_eq!(
                live,
                m.device.live.keys().copied().collect::<BTreeSet<_>>(),
                "{who}: live keys"
            );
            let otks: BTreeSet<Id> = side
                .device
                .one_time_key_ids()
                .map(|k| k.to_bytes())
                .collect();
            assert_eq!(
                otks,
                m.device.otk_unused.keys().copied().collect::<BTreeSet<_>>(),
                "{who}: unused one-time keys"
            );
            assert_eq!(
                side.session.peer_current_key_id().map(|k| k.to_bytes()),
                Some(m.session.newest_peer().id),
                "{who}: the peer key a start uses"
            );
        }
    }

    /// `from` seals; checks the result against the model. Returns the sent index.
    pub(crate) fn seal(
        &mut self,
        from: usize,
        ad: usize,
        content_type: ContentType,
        plaintext: Vec<u8>,
    ) -> Option<usize> {
        let who = NAMES[from];
        let now = self.now;
        let expected = self.sides[from].model.seal_check(now);
        let side = &mut self.sides[from];
        let before = expected
            .is_err()
            .then(|| session_payload(&mut side.session, &mut self.rng));
        let result = side.session.seal(
            &side.device,
            &mut self.rng,
            Timestamp::from_unix_seconds(now),
            content_type,
            &plaintext,
            ASSOCIATED_DATA[ad],
        );
        let bytes = match (result, expected) {
            (Err(err), Err(want)) => {
                assert_eq!(err, want, "{who}: seal");
                let after = session_payload(&mut side.session, &mut self.rng);
                assert_eq!(
                    before.as_deref(),
                    Some(&after[..]),
                    "{who}: a failed seal ({err:?}) changed the session"
                );
                self.note(|| format!("seal {}", err.name()));
                return None;
            }
            (Ok(bytes), Ok(())) => bytes,
            (got, want) => panic!(
                "{who}: seal gave {:?}, the model expected {want:?}",
                got.map(|_| ())
            ),
        };
        let wire = parse(&bytes)
            .unwrap_or_else(|e| panic!("{who}: a sealed message does not parse: {e:?}"));
        assert_eq!(
            wire.content_type,
            content_type.code(),
            "{who}: content type"
        );
        assert_eq!(
            bytes.len(),
            wire.header_len + plaintext.len() + 16,
            "{who}: message length"
        );
        let was_current = side.model.session.current.is_some();
        let secret = side.model.seal_commit(&wire, now, &mut self.starts, who);
        let mut what = vec!["seal Ok"];
        if !was_current {
            what.push("seal start");
        }
        if wire.init.as_ref().is_some_and(|i| i.otk.is_some()) {
            what.push("seal start one-time");
        }
        if wire.kem.is_some() {
            what.push("seal KEM step");
        }
        if wire.chain == 1 {
            what.push("seal control");
        }
        for w in what {
            self.note(|| w.into());
        }
        let id = self.sent.len();
        self.sent.push(Sent {
            from,
            bytes,
            ad,
            plaintext,
            wire,
            secret,
        });
        self.pending.push(id);
        Some(id)
    }

    /// Opens `bytes` at `to` and checks everything against the model.
    /// Returns whether it opened.
    pub(crate) fn open(&mut self, to: usize, bytes: &[u8], ad: &[u8], how: &str) -> bool {
        let who = NAMES[to];
        let now = self.now;
        let prediction = predict(
            &self.sides[to].model,
            &self.sent,
            &self.starts,
            bytes,
            ad,
            now,
        );
        let side = &mut self.sides[to];
        let refused = matches!(prediction, Prediction::Refused(_));
        let may_start = parse(bytes).is_ok_and(|w| w.init.is_some());
        let before = refused.then(|| session_payload(&mut side.session, &mut self.rng));
        let device_before =
            (refused && may_start).then(|| device_payload(&mut side.device, &mut self.rng));
        let result = side.session.open(
            &mut side.device,
            Timestamp::from_unix_seconds(now),
            bytes,
            ad,
        );
        match (result, prediction) {
            (Err(err), Prediction::Refused(want)) => {
                assert!(
                    same_error(&err, &want),
                    "{who}: {how}: open gave {err:?}, the model expected {want:?}"
                );
                let after = session_payload(&mut side.session, &mut self.rng);
                assert_eq!(
                    before.as_deref(),
                    Some(&after[..]),
                    "{who}: a failed open ({err:?}) changed the session"
                );
                if let Some(device_before) = device_before {
                    let after = device_payload(&mut side.device, &mut self.rng);
                    assert_eq!(
                        device_before, after,
                        "{who}: a failed open ({err:?}) changed the device"
                    );
                }
                self.note(|| format!("{how} {}", err.name()));
                false
            }
            (Ok(opened), Prediction::Opens(id, expected)) => {
                self.check_opened(to, id, &opened, &expected, how);
                self.sides[to].model.commit_open(*expected);
                true
            }
            (Ok(opened), Prediction::Refused(want)) => {
                let legit = self
                    .sent
                    .iter()
                    .any(|m| m.from != to && m.bytes == bytes && ASSOCIATED_DATA[m.ad] == ad);
                if legit {
                    panic!("{who}: {how}: opened ({opened:?}); the model expected {want:?}");
                }
                panic!(
                    "FORGERY: {who}: {how}: a message nobody sealed for it opened: {opened:?} (model: {want:?})"
                );
            }
            (Err(err), Prediction::Opens(id, expected)) => panic!(
                "{who}: {how}: message {id} did not open ({err:?}); the model expected {expected:?}"
            ),
        }
    }

    fn check_opened(&mut self, to: usize, id: usize, opened: &Opened, e: &Expected, how: &str) {
        let who = NAMES[to];
        let m = &self.sent[id];
        assert_ne!(
            m.from, to,
            "{who}: the model predicts that its own message {id} opens"
        );
        assert!(
            !self.sides[to].model.opened.contains(&id),
            "{who}: {how}: message {id} opened twice in one state lineage"
        );
        self.sides[to].model.opened.insert(id);
        assert_eq!(
            opened.plaintext.as_slice(),
            m.plaintext.as_slice(),
            "{who}: plaintext"
        );
        assert_eq!(
            opened.content_type.code(),
            m.wire.content_type,
            "{who}: content type"
        );
        assert_eq!(opened.chain, chain_name(e.chain), "{who}: chain");
        assert_eq!(*opened.session_id.as_bytes(), e.sid, "{who}: session id");
        assert_eq!(opened.counter, u64::from(e.n), "{who}: counter");
        assert_eq!(
            (opened.skipped, opened.late, opened.started_session),
            (e.skipped, e.late, e.started),
            "{who}: {how}: gap report of message {id}"
        );
        let mut what = vec![format!("{how} Ok")];
        if e.late {
            what.push(format!("{how} Ok late"));
        }
        if e.skipped > 0 {
            what.push(format!("{how} Ok skipped"));
        }
        if e.started {
            what.push(format!("{how} Ok started"));
        }
        if m.wire.kem.is_some() && !e.late {
            what.push(format!("{how} Ok KEM step"));
        }
        for w in what {
            self.note(|| w);
        }
    }

    /// Delivers `sent[id]`, as sealed, to its receiver.
    pub(crate) fn deliver(&mut self, id: usize, how: &str) -> bool {
        let m = &self.sent[id];
        let (to, bytes, ad) = (1 - m.from, m.bytes.clone(), ASSOCIATED_DATA[m.ad]);
        self.open(to, &bytes, ad, how)
    }

    pub(crate) fn advance(&mut self, seconds: u64) {
        self.now = self.now.saturating_add(seconds);
    }

    /// `side` adds its next pool key; `register`: the peer learns it at once;
    /// `retire`: the previous current key is retired.
    pub(crate) fn rotate(&mut self, side: usize, register: bool, retire: bool) {
        let k = self.generated[side];
        if k >= POOL {
            return;
        }
        self.generated[side] += 1;
        let key = &self.fx.parties[side].keys[k];
        let s = &mut self.sides[side];
        let previous = s.model.device.current().map(|c| c.id);
        let bundle = s.device.insert_sealing_key(
            SealingSecretKey::from_bytes(&key.secret),
            KemDecapsulationKey::from_seed(&key.kem_seed),
            Timestamp::from_unix_seconds(key.info.not_before),
            Timestamp::from_unix_seconds(key.info.not_after),
        );
        assert_eq!(
            bundle,
            *key.bundle.bundle(),
            "a rotation signed another bundle"
        );
        s.model.device.retired.remove(&key.info.id);
        s.model.device.live.insert(key.info.id, key.info.clone());
        self.note(|| "rotate".into());
        if retire && let Some(old) = previous {
            self.retire(side, old);
        }
        if register {
            self.register(1 - side, k);
        }
    }

    pub(crate) fn retire(&mut self, side: usize, id: Id) {
        let s = &mut self.sides[side];
        let want = s.model.device.live.remove(&id).is_some();
        if want {
            s.model.device.retired.insert(id);
        }
        assert_eq!(
            s.device.retire(SealingKeyId::from_bytes(id)),
            want,
            "{}: retire",
            NAMES[side]
        );
        self.note(|| "retire".into());
    }

    /// `side` learns the peer's generated pool key `k mod generated`.
    pub(crate) fn register(&mut self, side: usize, k: usize) {
        let peer = 1 - side;
        let k = k % self.generated[peer];
        let key = &self.fx.parties[peer].keys[k];
        let s = &mut self.sides[side];
        s.session
            .add_peer_bundle(&key.bundle)
            .expect("the peer's own bundle is accepted");
        s.model
            .session
            .peer_bundles
            .insert(key.info.id, key.info.clone());
        self.note(|| "register".into());
    }

    pub(crate) fn expire(&mut self, side: usize) {
        let now = self.now;
        let s = &mut self.sides[side];
        s.session.expire(Timestamp::from_unix_seconds(now));
        s.model.session.expire(now);
        s.device.expire(Timestamp::from_unix_seconds(now));
        s.model.expire_device(now);
        self.note(|| "expire".into());
    }

    /// `side` exports and re-imports (session, and the device if `device`):
    /// the re-import holds the same state; a lower minimum generation refuses it.
    pub(crate) fn reload(&mut self, side: usize, device: bool) {
        let key = &self.fx.storage_key;
        let s = &mut self.sides[side];
        let blob = s
            .session
            .export(&mut self.rng, key)
            .expect("session exports");
        let payload = state::open_raw(
            StateKind::Session,
            SESSION_BLOB_VERSION,
            key,
            blob.as_bytes(),
            0,
        )
        .expect("a fresh export opens")
        .0
        .to_vec();
        assert!(matches!(
            Session::import(key, blob.as_bytes(), blob.generation() + 1),
            Err(StateError::RolledBack { .. })
        ));
        s.session =
            Session::import(key, blob.as_bytes(), blob.generation()).expect("session imports");
        assert_eq!(s.session.generation(), blob.generation());
        assert_eq!(
            session_payload(&mut s.session, &mut self.rng),
            payload,
            "{}: a re-imported session exports another state",
            NAMES[side]
        );
        if device {
            let blob = s.device.export(&mut self.rng, key).expect("device exports");
            let payload = state::open_raw(
                StateKind::DeviceKeys,
                DEVICE_BLOB_VERSION,
                key,
                blob.as_bytes(),
                0,
            )
            .expect("a fresh export opens")
            .0
            .to_vec();
            s.device = DeviceKeys::import(key, blob.as_bytes(), blob.generation())
                .expect("device imports");
            assert_eq!(device_payload(&mut s.device, &mut self.rng), payload);
        }
        self.note(|| "reload".into());
    }

    pub(crate) fn snapshot(&mut self, side: usize) -> Snapshot {
        let key = &self.fx.storage_key;
        let s = &mut self.sides[side];
        Snapshot {
            device: s
                .device
                .export(&mut self.rng, key)
                .expect("device exports")
                .into_bytes(),
            session: s
                .session
                .export(&mut self.rng, key)
                .expect("session exports")
                .into_bytes(),
            model: s.model.clone(),
            now: self.now,
        }
    }

    /// `side` goes back to a snapshot (its session, and its device if `device`).
    /// The newest generation refuses the older blob (`RolledBack`); importing it
    /// with a low minimum is the rollback.
    pub(crate) fn rollback(&mut self, side: usize, snapshot: &Snapshot, device: bool) {
        let key = &self.fx.storage_key;
        let s = &mut self.sides[side];
        let latest = s.session.generation();
        let result = Session::import(key, &snapshot.session, latest);
        let old_generation = load_session(&snapshot.session).generation();
        if old_generation < latest {
            assert!(
                matches!(result, Err(StateError::RolledBack { .. })),
                "rollback detected"
            );
        }
        s.session = load_session(&snapshot.session);
        s.model.session = snapshot.model.session.clone();
        s.model.opened = snapshot.model.opened.clone();
        if device {
            s.device = load_device(&snapshot.device);
            s.model.device = snapshot.model.device.clone();
        }
        self.note(|| "rollback".into());
    }

    /// `side` starts over: a fresh session from the peer's newest pool key it
    /// knows, offering `otk` (a peer one-time key from the pool) if given.
    pub(crate) fn restart(&mut self, side: usize, otk: Option<usize>) {
        let peer = 1 - side;
        let info = self.sides[side].model.session.newest_peer().clone();
        let pf = &self.fx.parties[peer];
        let key = pf
            .keys
            .iter()
            .find(|k| k.info.id == info.id)
            .expect("a pool key");
        let s = &mut self.sides[side];
        let mut session = Session::new(&s.device, &key.bundle)
            .expect("session")
            .with_policy(POLICY)
            .expect("policy");
        let offered = otk.map(|i| {
            let o = &pf.otks[i % OTK_POOL];
            session = Session::new(&s.device, &key.bundle)
                .expect("session")
                .with_policy(POLICY)
                .expect("policy")
                .with_one_time_key(&o.verified)
                .expect("the peer's one-time key");
            o.id
        });
        s.session = session;
        s.model.session = SessionModel::new(info, offered);
        s.model.opened.clear();
        self.note(|| "restart".into());
    }
}
