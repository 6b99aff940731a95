//! Fuzz target: a pairwise conversation between Alice and Bob (SPEC.md §7),
//! run as a program of actions read from the input and checked step by step
//! against a model of both sides.
//!
//! A fixture is built once, deterministically (ChaCha20 seed `[0x50; 32]`):
//! devices Alice (`alice`/1) and Bob (`bob`/2), each with a pool of
//! [`POOL`] sealing keys (key `k` valid from `T0 + 60·k` for 30 days, its
//! bundle signed and verified with `NoDirectory`); key 0 is live from the
//! start, the others are what rotations add, in order. Both sides' states
//! (`DeviceKeys` and `Session`, serde JSON) are saved fresh, each session
//! knowing the peer's key 0. Every input loads them, so each run starts from
//! the same conversation; the salts come from a ChaCha20 generator with a
//! fixed seed.
//!
//! Input: a sequence of actions (at most [`MAX_ACTIONS`]); missing parameter
//! bytes read as 0. Each action is one byte, `kind` in its low nibble and a
//! parameter `hi` in its high nibble; `side = hi & 1` (0 Alice, 1 Bob), and
//! "a message" is `sent[len − 1 − hi mod len]` (newest first):
//!
//! | kind | action |
//! |---|---|
//! | 0 | `side` seals: associated data `(hi >> 1) mod 3`; then a content-type byte, a length byte (mod 65) and that many plaintext bytes |
//! | 1 | deliver the pending message at index `hi mod len` (0: oldest; others reorder) |
//! | 2 | drop the pending message at index `hi mod len` |
//! | 3 | duplicate: deliver a message again (delivered or not; it stays pending) |
//! | 4 | tamper a message (mode byte: flip a byte, truncate, append, wrong associated data; then a position and a mask byte) and deliver it |
//! | 5 | reflect a message back to its own sender |
//! | 6 | `side` rotates to its next pool key; `hi & 2`: register the bundle with the peer at once (else later, by kind 7) |
//! | 7 | `side` learns (`add_peer_bundle`) the peer's generated key `(hi >> 1) mod n` |
//! | 8 | `side` forgets (`remove_peer_key`) the peer's generated key `(hi >> 1) mod n` |
//! | 9 | `side` retires its generated key `(hi >> 1) mod n` |
//! | 10 | `side` reloads: serializes device and session, loads them (the chain cache is lost) |
//! | 11 | `side` saves device and session in slot `(hi >> 1) & 1` |
//! | 12 | `side` rolls back to slot `(hi >> 1) & 1` (device, session and its model) |
//! | 13 | `side` jumps its send counter (an edit of the saved session's `next_counter`, as if many messages were sealed and lost): `(hi >> 1) & 3` picks `+1+b`, `+1022+b mod 4`, `+5000·(1+b mod 3)`, or `u64::MAX − b mod 3`, for the next byte `b` |
//! | 14 | deliver every pending message, oldest first |
//! | 15 | `side` seals `(hi >> 1) + 1` short text messages |
//!
//! A delivery that fails with `UnknownSenderKey` leaves the message pending
//! (it is retried when delivered again); any other delivery consumes it.
//!
//! Checks (a violation panics):
//!
//! - no call into the library panics;
//! - seal: `CounterExhausted` exactly at counter `u64::MAX`, `NoSealingKey`
//!   exactly when the side has no live key (a failed seal changes no state),
//!   else the header carries the side's newest live key, the peer key the
//!   model says is current (the newest known), the next counter and the
//!   content type, and the message has the plaintext's length plus overhead;
//! - open of a message as sealed: the result is exactly the model's
//!   (SPEC.md §7.5 checks 2–6): `RetiredKey` if the receiver retired the key
//!   it was sealed to, `UnknownRecipientKey` if the receiver does not hold
//!   that key (lost in a rollback), `UnknownSenderKey` while the sender's key
//!   is unknown to the receiver (not consumed: a later retry opens),
//!   `Replay`/`TooOld` from a model replay window (W = 1024), else it opens
//!   with the right plaintext, content type, counter, key ids and gap report
//!   (`skipped`, `late`); afterwards `highest_received` and
//!   `missing_counters` equal the model's;
//! - independently of the model's window: a message opens at most once per
//!   state lineage of its receiver, and never when another message with the
//!   same counter from the same sender already opened there (a sender rolled
//!   back re-uses counters: `Replay`), so every duplicate is `Replay` or
//!   `TooOld` unless the receiver itself was rolled back to before it opened;
//! - a tampered message (byte flipped, truncated, extended, wrong associated
//!   data) never opens; a reflected message is `Reflected`, or
//!   `UnknownRecipientKey` once its sender no longer holds the sending key;
//! - every failed open leaves the receiver's serialized session byte-identical;
//! - after every action each side's `next_counter`, `highest_received`,
//!   current sealing key, live key ids and current peer key equal the
//!   model's; `add_peer_bundle` succeeds, `remove_peer_key` refuses exactly
//!   the current key, `retire` reports whether the key was live, a rotation's
//!   bundle is the pool's, a reload serializes to the same bytes.
//!
//! Rolling a side back restores its whole state, the receiving window
//! included: messages it opened after the snapshot open again (replay
//! protection is only as good as the stored state); the model is restored
//! with it.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/pairwise_conversation.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`. The seeds
//! in `fuzz/corpus/pairwise_conversation/` are programs written by `seeds`
//! below (`cargo test --test fuzz_corpus -- --ignored
//! regenerate_conversation_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use letterseal::codec::Reader;
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{KemDecapsulationKey, SealingKeyId, SealingSecretKey};
use letterseal::pairwise::{
    ContentType, Header, OVERHEAD, OpenError, SealError, Session, WINDOW_SIZE,
};
use letterseal::registration::{BundleContent, NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

// ---- fixture ----------------------------------------------------------------

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
/// The time every seal and open happens at (all pool keys are valid then).
const NOW: u64 = T0 + 600;
/// Sealing keys per device: key 0 is live from the start, rotations add the others.
const POOL: usize = 6;
/// The associated-data variants.
const ASSOCIATED_DATA: [&[u8]; 3] = [b"", b"chat 42", b"chat 43"];
/// Actions run per input at most.
const MAX_ACTIONS: usize = 128;
/// Snapshot slots per side.
const SLOTS: usize = 2;
/// Longest plaintext an action seals.
const MAX_PLAINTEXT: usize = 64;
const NAMES: [&str; 2] = ["Alice", "Bob"];

/// One sealing key of a device's pool.
struct PoolKey {
    secret: [u8; 32],
    kem_seed: [u8; 64],
    not_before: Timestamp,
    not_after: Timestamp,
    id: SealingKeyId,
    bundle: VerifiedBundle,
}

/// One side: its key pool and its saved fresh states.
struct SideFixture {
    keys: Vec<PoolKey>,
    device: Vec<u8>,
    session: Vec<u8>,
}

struct Fixture {
    sides: [SideFixture; 2],
}

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0x50; 32]);
    let mut make = |user: &str, id: u32| -> (DeviceKeys, Vec<PoolKey>) {
        let address = DeviceAddress::new(UserId::new(user).expect("user id"), DeviceId::new(id));
        let mut device = DeviceKeys::generate(&mut rng, address);
        let keys: Vec<PoolKey> = (0..POOL)
            .map(|k| {
                let secret = SealingSecretKey::generate(&mut rng);
                let kem = KemDecapsulationKey::generate(&mut rng);
                let not_before = Timestamp::from_unix_seconds(T0 + 60 * k as u64);
                let not_after = not_before.saturating_add(30 * DAY);
                let bundle = BundleContent::new(
                    device.address().clone(),
                    device.identity().public_key(),
                    secret.public_key(),
                    kem.encapsulation_key_ref(),
                    not_before,
                    not_after,
                )
                .sign(device.identity())
                .verify(
                    &device.address().clone().into(),
                    &RegistrationPolicy::default(),
                    not_before,
                    None,
                    &NoDirectory,
                )
                .expect("pool bundle verifies");
                PoolKey {
                    secret: *secret.to_bytes(),
                    kem_seed: *kem.to_seed(),
                    not_before,
                    not_after,
                    id: bundle.sealing_key_id(),
                    bundle,
                }
            })
            .collect();
        let first = &keys[0];
        let bundle = device.insert_sealing_key(
            SealingSecretKey::from_bytes(&first.secret),
            KemDecapsulationKey::from_seed(&first.kem_seed),
            first.not_before,
            first.not_after,
        );
        assert_eq!(bundle, *first.bundle.bundle());
        (device, keys)
    };
    let (alice, alice_keys) = make("alice", 1);
    let (bob, bob_keys) = make("bob", 2);
    let at_alice = Session::new(&alice, &bob_keys[0].bundle).expect("session at Alice");
    let at_bob = Session::new(&bob, &alice_keys[0].bundle).expect("session at Bob");
    Fixture {
        sides: [
            SideFixture {
                keys: alice_keys,
                device: save(&alice),
                session: save(&at_alice),
            },
            SideFixture {
                keys: bob_keys,
                device: save(&bob),
                session: save(&at_bob),
            },
        ],
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn save<T: serde::Serialize>(state: &T) -> Vec<u8> {
    serde_json::to_vec(state).expect("state serializes")
}

fn load<T: serde::de::DeserializeOwned>(json: &[u8]) -> T {
    serde_json::from_slice(json).expect("saved state loads")
}

// ---- model --------------------------------------------------------------------

/// The model of a receiving window (SPEC.md §7.5): the highest accepted
/// counter and every accepted counter still inside the window.
#[derive(Clone, Default)]
struct Window {
    highest: Option<u64>,
    accepted: BTreeSet<u64>,
}

impl Window {
    /// `Ok((skipped, late))`, or the refusal.
    fn check(&self, counter: u64) -> Result<(u64, bool), OpenError> {
        match self.highest {
            None => Ok((counter, false)),
            Some(h) if counter > h => Ok((counter - h - 1, false)),
            Some(h) if h - counter >= WINDOW_SIZE => Err(OpenError::TooOld { counter }),
            Some(_) if self.accepted.contains(&counter) => Err(OpenError::Replay { counter }),
            Some(_) => Ok((0, true)),
        }
    }

    fn accept(&mut self, counter: u64) {
        let highest = self.highest.map_or(counter, |h| h.max(counter));
        self.highest = Some(highest);
        self.accepted.insert(counter);
        self.accepted = self
            .accepted
            .split_off(&highest.saturating_sub(WINDOW_SIZE - 1));
    }

    fn missing(&self) -> Vec<u64> {
        let Some(h) = self.highest else {
            return Vec::new();
        };
        (h.saturating_sub(WINDOW_SIZE - 1)..h)
            .filter(|c| !self.accepted.contains(c))
            .collect()
    }
}

/// What one side's device and session should hold. Keys are pool indexes.
#[derive(Clone)]
struct Model {
    live: BTreeSet<usize>,
    retired: BTreeSet<usize>,
    peer_known: BTreeSet<usize>,
    next_counter: u64,
    window: Window,
    /// Messages (indexes into `sent`) opened in this state lineage.
    opened: BTreeSet<usize>,
}

struct Side {
    device: DeviceKeys,
    session: Session,
    model: Model,
}

struct Snapshot {
    device: Vec<u8>,
    session: Vec<u8>,
    model: Model,
}

/// A message sealed by `from` (as sealed: legitimate).
struct Sent {
    from: usize,
    sealed: Vec<u8>,
    ad: usize,
    content_type: ContentType,
    plaintext: Vec<u8>,
    counter: u64,
    sender_key: usize,
    recipient_key: usize,
    /// Failed with `UnknownSenderKey` at least once.
    deferred: bool,
}

// ---- the simulation -----------------------------------------------------------

/// The input, read a byte at a time (0 past the end).
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }

    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

fn content_type(b: u8) -> ContentType {
    ContentType::from(match b & 7 {
        c @ 0..=4 => u16::from(c),
        5 => 0x1234,
        6 => 0x8000 | u16::from(b),
        _ => 0xffff,
    })
}

struct Sim<'a> {
    fx: &'static Fixture,
    input: Input<'a>,
    rng: ChaCha20Rng,
    sides: [Side; 2],
    /// Pool keys generated so far per side (key 0 at setup).
    generated: [usize; 2],
    sent: Vec<Sent>,
    /// Messages in flight, oldest first.
    pending: Vec<usize>,
    /// `side * SLOTS + slot`.
    slots: Vec<Option<Snapshot>>,
    /// Outcomes seen, for the corpus test.
    trace: Option<BTreeSet<String>>,
}

impl<'a> Sim<'a> {
    fn new(data: &'a [u8], trace: bool) -> Self {
        let fx = fixture();
        let side = |i: usize| Side {
            device: load(&fx.sides[i].device),
            session: load(&fx.sides[i].session),
            model: Model {
                live: BTreeSet::from([0]),
                retired: BTreeSet::new(),
                peer_known: BTreeSet::from([0]),
                next_counter: 0,
                window: Window::default(),
                opened: BTreeSet::new(),
            },
        };
        Self {
            fx,
            input: Input { data, pos: 0 },
            rng: ChaCha20Rng::from_seed([0x73; 32]),
            sides: [side(0), side(1)],
            generated: [1, 1],
            sent: Vec::new(),
            pending: Vec::new(),
            slots: (0..2 * SLOTS).map(|_| None).collect(),
            trace: trace.then(BTreeSet::new),
        }
    }

    fn note(&mut self, what: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            trace.insert(what());
        }
    }

    /// A message index, newest first.
    fn pick_sent(&self, hi: u8) -> Option<usize> {
        let n = self.sent.len();
        (n > 0).then(|| n - 1 - usize::from(hi) % n)
    }

    fn run(&mut self) {
        let mut actions = 0;
        while !self.input.done() && actions < MAX_ACTIONS {
            actions += 1;
            let op = self.input.byte();
            self.step(op);
            self.sync();
        }
    }

    fn step(&mut self, op: u8) {
        let (kind, hi) = (op & 0x0f, op >> 4);
        let side = usize::from(hi & 1);
        match kind {
            0 => {
                let ad = usize::from(hi >> 1) % ASSOCIATED_DATA.len();
                let content = content_type(self.input.byte());
                let len = usize::from(self.input.byte()) % (MAX_PLAINTEXT + 1);
                let plaintext = self.input.bytes(len);
                self.seal(side, ad, content, plaintext);
            }
            1 | 2 => {
                if self.pending.is_empty() {
                    return;
                }
                let id = self.pending.remove(usize::from(hi) % self.pending.len());
                if kind == 1 {
                    self.deliver(id, "deliver");
                } else {
                    self.note(|| "drop".into());
                }
            }
            3 => {
                if let Some(id) = self.pick_sent(hi) {
                    self.deliver(id, "duplicate");
                }
            }
            4 => {
                let (mode, at, mask) = (self.input.byte(), self.input.byte(), self.input.byte());
                if let Some(id) = self.pick_sent(hi) {
                    self.tamper(id, mode, at, mask);
                }
            }
            5 => {
                if let Some(id) = self.pick_sent(hi) {
                    self.reflect(id);
                }
            }
            6 => self.rotate(side, hi & 2 != 0),
            7 => self.register(side, usize::from(hi >> 1)),
            8 => self.forget(side, usize::from(hi >> 1)),
            9 => self.retire(side, usize::from(hi >> 1)),
            10 => self.reload(side),
            11 => {
                let s = &self.sides[side];
                self.slots[side * SLOTS + usize::from(hi >> 1) % SLOTS] = Some(Snapshot {
                    device: save(&s.device),
                    session: save(&s.session),
                    model: s.model.clone(),
                });
            }
            12 => {
                let Some(snapshot) = &self.slots[side * SLOTS + usize::from(hi >> 1) % SLOTS]
                else {
                    return;
                };
                self.sides[side] = Side {
                    device: load(&snapshot.device),
                    session: load(&snapshot.session),
                    model: snapshot.model.clone(),
                };
                self.note(|| "rollback".into());
            }
            13 => {
                let b = self.input.byte();
                self.jump(side, hi >> 1, b);
            }
            14 => {
                for id in std::mem::take(&mut self.pending) {
                    self.deliver(id, "deliver");
                }
            }
            _ => {
                for _ in 0..=(hi >> 1) {
                    let plaintext = self.sides[side].model.next_counter.to_be_bytes().to_vec();
                    self.seal(side, 1, ContentType::Text, plaintext);
                }
            }
        }
    }

    /// After every action: the states agree with the model.
    fn sync(&self) {
        for (i, side) in self.sides.iter().enumerate() {
            let (own, peer) = (&self.fx.sides[i].keys, &self.fx.sides[1 - i].keys);
            let m = &side.model;
            let who = NAMES[i];
            assert_eq!(
                side.session.next_counter(),
                m.next_counter,
                "{who}: next counter"
            );
            assert_eq!(
                side.session.highest_received(),
                m.window.highest,
                "{who}: highest received"
            );
            assert_eq!(
                side.device.current_sealing_key_id(),
                m.live.last().map(|&k| own[k].id),
                "{who}: current sealing key"
            );
            let live: BTreeSet<SealingKeyId> = side.device.live_key_ids().copied().collect();
            let want: BTreeSet<SealingKeyId> = m.live.iter().map(|&k| own[k].id).collect();
            assert_eq!(live, want, "{who}: live keys");
            let current = *m.peer_known.last().expect("a known peer key");
            assert_eq!(
                side.session.peer_current_key_id(),
                peer[current].id,
                "{who}: current peer key"
            );
        }
    }

    fn seal(&mut self, from: usize, ad: usize, content: ContentType, plaintext: Vec<u8>) {
        let fx = self.fx;
        let side = &mut self.sides[from];
        let m = &side.model;
        let expected = if m.next_counter == u64::MAX {
            Err(SealError::CounterExhausted)
        } else if m.live.is_empty() {
            Err(SealError::NoSealingKey)
        } else {
            Ok(())
        };
        let before = expected.is_err().then(|| save(&side.session));
        let result = side.session.seal(
            &side.device,
            &mut self.rng,
            Timestamp::from_unix_seconds(NOW),
            content,
            &plaintext,
            ASSOCIATED_DATA[ad],
        );
        let sealed = match (result, expected) {
            (Err(err), Err(want)) => {
                assert_eq!(err, want, "{}: seal", NAMES[from]);
                assert_eq!(
                    before.as_deref(),
                    Some(&save(&side.session)[..]),
                    "a failed seal ({err:?}) changed the session"
                );
                self.note(|| format!("seal {err:?}"));
                return;
            }
            (Ok(sealed), Ok(())) => sealed,
            (got, want) => panic!(
                "{}: seal gave {:?}, expected {want:?}",
                NAMES[from],
                got.map(|_| ())
            ),
        };
        let sender_key = *m.live.last().expect("a live key");
        let recipient_key = *m.peer_known.last().expect("a known peer key");
        let counter = m.next_counter;
        let header = Header::decode(&mut Reader::new(&sealed)).expect("a sealed header decodes");
        assert_eq!(header.content_type, content);
        assert_eq!(header.sender_key_id, fx.sides[from].keys[sender_key].id);
        assert_eq!(
            header.recipient_key_id,
            fx.sides[1 - from].keys[recipient_key].id
        );
        assert_eq!(header.counter, counter);
        assert_eq!(sealed.len(), OVERHEAD + plaintext.len());
        side.model.next_counter += 1;
        self.pending.push(self.sent.len());
        self.sent.push(Sent {
            from,
            sealed,
            ad,
            content_type: content,
            plaintext,
            counter,
            sender_key,
            recipient_key,
            deferred: false,
        });
        self.note(|| "seal Ok".into());
    }

    /// What opening `sent[id]` as sealed at its receiver gives, by the model.
    fn expect_open(&self, id: usize) -> Result<(u64, bool), OpenError> {
        let msg = &self.sent[id];
        let to = 1 - msg.from;
        let m = &self.sides[to].model;
        let recipient = self.fx.sides[to].keys[msg.recipient_key].id;
        let sender = self.fx.sides[msg.from].keys[msg.sender_key].id;
        if m.retired.contains(&msg.recipient_key) {
            return Err(OpenError::RetiredKey(recipient));
        }
        if !m.live.contains(&msg.recipient_key) {
            return Err(OpenError::UnknownRecipientKey(recipient));
        }
        if !m.peer_known.contains(&msg.sender_key) {
            return Err(OpenError::UnknownSenderKey(sender));
        }
        m.window.check(msg.counter)
    }

    /// Delivers `sent[id]` as sealed to its receiver.
    fn deliver(&mut self, id: usize, how: &'static str) {
        let expected = self.expect_open(id);
        let fx = self.fx;
        let msg = &self.sent[id];
        let to = 1 - msg.from;
        let side = &mut self.sides[to];
        let who = NAMES[to];
        // Only a failure needs the state before (a result other than the
        // model's panics anyway).
        let before = expected.is_err().then(|| save(&side.session));
        let result = side.session.open(
            &side.device,
            Timestamp::from_unix_seconds(NOW),
            &msg.sealed,
            ASSOCIATED_DATA[msg.ad],
        );
        match (result, expected) {
            (Err(err), Err(want)) => {
                assert_eq!(
                    err, want,
                    "{who}: {how} of message {id} (counter {})",
                    msg.counter
                );
                assert_eq!(
                    Some(save(&side.session)),
                    before,
                    "{who}: a failed open ({err:?}) changed the session"
                );
                if let OpenError::Replay { .. } = err {
                    // Was the counter taken by another message (a rolled-back sender)?
                    let reused = side.model.opened.iter().any(|&o| {
                        o != id
                            && self.sent[o].from == msg.from
                            && self.sent[o].counter == msg.counter
                    });
                    if reused {
                        self.note(|| "reused counter Replay".into());
                    }
                }
                if how == "deliver" && matches!(err, OpenError::UnknownSenderKey(_)) {
                    self.sent[id].deferred = true;
                    self.pending.push(id);
                }
                self.note(|| format!("{how} {}", err.name()));
            }
            (Ok(opened), Ok((skipped, late))) => {
                let m = &mut side.model;
                assert!(
                    !m.opened.contains(&id),
                    "{who}: message {id} opened twice in one state lineage"
                );
                assert!(
                    !m.opened
                        .iter()
                        .any(|&o| self.sent[o].from == msg.from
                            && self.sent[o].counter == msg.counter),
                    "{who}: two messages with counter {} opened",
                    msg.counter
                );
                assert_eq!(opened.content_type, msg.content_type, "{who}: content type");
                assert_eq!(
                    opened.plaintext.as_slice(),
                    msg.plaintext.as_slice(),
                    "{who}: plaintext"
                );
                assert_eq!(opened.counter, msg.counter, "{who}: counter");
                assert_eq!(
                    opened.sender_key_id,
                    fx.sides[msg.from].keys[msg.sender_key].id
                );
                assert_eq!(
                    opened.recipient_key_id,
                    fx.sides[to].keys[msg.recipient_key].id
                );
                assert_eq!(
                    (opened.skipped, opened.late),
                    (skipped, late),
                    "{who}: gap report of counter {}",
                    msg.counter
                );
                m.window.accept(msg.counter);
                m.opened.insert(id);
                assert_eq!(
                    side.session.missing_counters(),
                    m.window.missing(),
                    "{who}: missing counters"
                );
                let deferred = msg.deferred;
                self.note(|| {
                    let gap = if late {
                        " late"
                    } else if skipped > 0 {
                        " skipped"
                    } else {
                        ""
                    };
                    format!("{how} Ok{gap}")
                });
                if deferred {
                    self.note(|| "retry Ok".into());
                }
            }
            (got, want) => panic!(
                "{who}: {how} of message {id} (counter {}) gave {:?}, expected {want:?}",
                msg.counter,
                got.map(|o| (o.skipped, o.late))
            ),
        }
    }

    /// Delivers a changed copy of `sent[id]`: it must not open.
    fn tamper(&mut self, id: usize, mode: u8, at: u8, mask: u8) {
        let msg = &self.sent[id];
        let to = 1 - msg.from;
        let mut bytes = msg.sealed.clone();
        let mut ad = msg.ad;
        let mask = mask.max(1);
        let what = match mode % 4 {
            0 => {
                let at = usize::from(at) % bytes.len();
                bytes[at] ^= mask;
                "flip"
            }
            1 => {
                bytes.truncate(usize::from(at) % bytes.len());
                "truncate"
            }
            2 => {
                bytes.push(at);
                "extend"
            }
            _ => {
                ad = (ad + 1 + usize::from(at & 1)) % ASSOCIATED_DATA.len();
                "wrong ad"
            }
        };
        let side = &mut self.sides[to];
        let before = save(&side.session);
        match side.session.open(
            &side.device,
            Timestamp::from_unix_seconds(NOW),
            &bytes,
            ASSOCIATED_DATA[ad],
        ) {
            Ok(opened) => panic!(
                "FORGERY: {}: a tampered ({what}) copy of message {id} opened: {opened:?}",
                NAMES[to]
            ),
            Err(err) => {
                assert_eq!(
                    save(&side.session),
                    before,
                    "{}: a failed open ({err:?}) changed the session",
                    NAMES[to]
                );
                self.note(|| format!("tamper {}", err.name()));
            }
        }
    }

    /// Delivers `sent[id]` to its own sender.
    fn reflect(&mut self, id: usize) {
        let msg = &self.sent[id];
        let side = &mut self.sides[msg.from];
        let m = &side.model;
        let want = if m.live.contains(&msg.sender_key) && m.peer_known.contains(&msg.recipient_key)
        {
            OpenError::Reflected
        } else {
            OpenError::UnknownRecipientKey(self.fx.sides[1 - msg.from].keys[msg.recipient_key].id)
        };
        let before = save(&side.session);
        match side.session.open(
            &side.device,
            Timestamp::from_unix_seconds(NOW),
            &msg.sealed,
            ASSOCIATED_DATA[msg.ad],
        ) {
            Ok(opened) => panic!(
                "{}: opened its own message {id}: {opened:?}",
                NAMES[msg.from]
            ),
            Err(err) => {
                assert_eq!(err, want, "{}: reflected message {id}", NAMES[msg.from]);
                assert_eq!(
                    save(&side.session),
                    before,
                    "a failed open changed the session"
                );
                self.note(|| format!("reflect {}", err.name()));
            }
        }
    }

    fn rotate(&mut self, side: usize, register: bool) {
        let k = self.generated[side];
        if k >= POOL {
            return;
        }
        self.generated[side] += 1;
        let key = &self.fx.sides[side].keys[k];
        let s = &mut self.sides[side];
        let bundle = s.device.insert_sealing_key(
            SealingSecretKey::from_bytes(&key.secret),
            KemDecapsulationKey::from_seed(&key.kem_seed),
            key.not_before,
            key.not_after,
        );
        assert_eq!(
            bundle,
            *key.bundle.bundle(),
            "a rotation signed another bundle"
        );
        s.model.live.insert(k);
        self.note(|| "rotate".into());
        if register {
            self.register(1 - side, k);
        }
    }

    /// `side` learns the peer's generated key `k mod generated`.
    fn register(&mut self, side: usize, k: usize) {
        let peer = 1 - side;
        let k = k % self.generated[peer];
        let s = &mut self.sides[side];
        s.session
            .add_peer_bundle(&self.fx.sides[peer].keys[k].bundle)
            .expect("the peer's own bundle is accepted");
        s.model.peer_known.insert(k);
    }

    fn forget(&mut self, side: usize, k: usize) {
        let peer = 1 - side;
        let k = k % self.generated[peer];
        let s = &mut self.sides[side];
        let current = *s.model.peer_known.last().expect("a known peer key");
        let want = k != current && s.model.peer_known.remove(&k);
        let got = s.session.remove_peer_key(self.fx.sides[peer].keys[k].id);
        assert_eq!(got, want, "{}: remove_peer_key({k})", NAMES[side]);
        self.note(|| "forget".into());
    }

    fn retire(&mut self, side: usize, k: usize) {
        let k = k % self.generated[side];
        let s = &mut self.sides[side];
        let want = s.model.live.remove(&k);
        if want {
            s.model.retired.insert(k);
        }
        let got = s.device.retire(self.fx.sides[side].keys[k].id);
        assert_eq!(got, want, "{}: retire({k})", NAMES[side]);
        self.note(|| "retire".into());
    }

    fn reload(&mut self, side: usize) {
        let s = &mut self.sides[side];
        let (device, session) = (save(&s.device), save(&s.session));
        s.device = load(&device);
        s.session = load(&session);
        assert_eq!(
            save(&s.device),
            device,
            "a reloaded device serializes differently"
        );
        assert_eq!(
            save(&s.session),
            session,
            "a reloaded session serializes differently"
        );
    }

    /// Moves `side`'s send counter forward by editing its saved session.
    fn jump(&mut self, side: usize, class: u8, b: u8) {
        let s = &mut self.sides[side];
        let current = s.model.next_counter;
        let b = u64::from(b);
        let next = match class & 3 {
            0 => current.saturating_add(1 + b),
            1 => current.saturating_add(WINDOW_SIZE - 2 + b % 4),
            2 => current.saturating_add(5000 * (1 + b % 3)),
            _ => (u64::MAX - b % 3).max(current),
        };
        let mut state = serde_json::to_value(&s.session).expect("session serializes");
        state["next_counter"] = serde_json::Value::from(next);
        s.session = serde_json::from_value(state).expect("edited session loads");
        s.model.next_counter = next;
        self.note(|| "jump".into());
    }
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    Sim::new(data, false).run();
}

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

/// The outcomes an input reaches (e.g. `"deliver Ok late"`, `"tamper
/// CommitmentMismatch"`, `"retry Ok"`).
#[cfg(test)]
pub(crate) fn outcomes(data: &[u8]) -> BTreeSet<String> {
    let mut sim = Sim::new(data, true);
    sim.run();
    sim.trace.take().unwrap_or_default()
}

/// The seed programs.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    // The action kinds.
    const SEAL: u8 = 0;
    const DELIVER: u8 = 1;
    const DROP: u8 = 2;
    const DUPLICATE: u8 = 3;
    const TAMPER: u8 = 4;
    const REFLECT: u8 = 5;
    const ROTATE: u8 = 6;
    const REGISTER: u8 = 7;
    const FORGET: u8 = 8;
    const RETIRE: u8 = 9;
    const RELOAD: u8 = 10;
    const SAVE: u8 = 11;
    const ROLLBACK: u8 = 12;
    const JUMP: u8 = 13;
    const FLUSH: u8 = 14;
    const CHAT: u8 = 15;
    const A: u8 = 0;
    const B: u8 = 1;
    // `kind` with parameter `hi`.
    let with = |kind: u8, hi: u8| -> u8 { hi << 4 | kind };
    // `side` seals `text` with associated data `ad` and content-type byte `ct`.
    let seal = |side: u8, ad: u8, ct: u8, text: &[u8]| -> Vec<u8> {
        let mut v = vec![
            with(SEAL, ad << 1 | side),
            ct,
            u8::try_from(text.len()).unwrap(),
        ];
        v.extend_from_slice(text);
        v
    };
    // `side` seals `n` (1..=8) short messages.
    let chat = |side: u8, n: u8| with(CHAT, (n - 1) << 1 | side);
    let deliver = |index: u8| with(DELIVER, index);
    let program = |parts: &[&[u8]]| parts.concat();
    vec![
        (
            "basic_exchange",
            program(&[
                &seal(A, 1, 0, b"hello Bob"),
                &[deliver(0)],
                &seal(B, 2, 1, b"48.8584,2.2945"),
                &[deliver(0)],
                &seal(A, 0, 6, b""),
                &seal(A, 0, 5, &[0xa5; 64]),
                &[with(FLUSH, 0)],
            ]),
        ),
        (
            "reorder_and_gaps",
            program(&[
                &[
                    chat(A, 6),
                    deliver(3),
                    deliver(0),
                    deliver(2),
                    deliver(1),
                    with(DROP, 0),
                ],
                &[deliver(0)],
            ]),
        ),
        (
            "drop_then_duplicate",
            vec![
                chat(A, 3),
                with(DROP, 1),
                with(FLUSH, 0),
                with(DUPLICATE, 0),
                with(DUPLICATE, 1),
                with(DUPLICATE, 2),
            ],
        ),
        (
            "tamper_each_way",
            program(&[
                &seal(A, 1, 0, b"do not change me"),
                &[with(TAMPER, 0), 0, 0, 1],
                &[with(TAMPER, 0), 0, 50, 0x80],
                &[with(TAMPER, 0), 0, 95, 0x01],
                &[with(TAMPER, 0), 0, 200, 0x40],
                &[with(TAMPER, 0), 0, 3, 0x04],
                &[with(TAMPER, 0), 1, 107, 0],
                &[with(TAMPER, 0), 1, 40, 0],
                &[with(TAMPER, 0), 2, 7, 0],
                &[with(TAMPER, 0), 3, 0, 0],
                &[with(TAMPER, 0), 0, 1, 0x02],
                &[with(TAMPER, 0), 0, 0, 0x02],
                &[with(TAMPER, 0), 0, 25, 0x10],
                &[deliver(0)],
            ]),
        ),
        (
            "reflection",
            vec![
                chat(A, 1),
                with(REFLECT, 0),
                with(RETIRE, A),
                with(REFLECT, 0),
                with(ROTATE, A | 2),
                chat(A, 1),
                with(REFLECT, 0),
            ],
        ),
        (
            "rotate_registered",
            vec![
                chat(A, 1),
                with(ROTATE, A | 2),
                chat(A, 1),
                with(ROTATE, B | 2),
                chat(A, 1),
                chat(B, 1),
                with(FLUSH, 0),
            ],
        ),
        (
            "rotate_delayed_retry",
            vec![
                with(ROTATE, A),
                chat(A, 2),
                with(FLUSH, 0),
                with(REGISTER, B | 1 << 1),
                with(FLUSH, 0),
            ],
        ),
        (
            "rotate_then_retire",
            vec![
                chat(B, 1),
                with(ROTATE, A | 2),
                with(RETIRE, A),
                chat(B, 1),
                with(FLUSH, 0),
                with(RETIRE, A | 1 << 1),
                chat(A, 1),
                with(ROTATE, A | 2),
                chat(A, 1),
                with(FLUSH, 0),
            ],
        ),
        (
            "forget_peer_key",
            vec![
                with(ROTATE, A | 2),
                with(FORGET, B),
                with(FORGET, B | 1 << 1),
                chat(A, 1),
                with(FLUSH, 0),
                with(ROTATE, A | 2),
                with(FORGET, B | 1 << 1),
                with(ROLLBACK, A),
                chat(A, 1),
                with(FLUSH, 0),
            ],
        ),
        (
            "reload_both",
            vec![
                chat(A, 2),
                with(RELOAD, A),
                with(RELOAD, B),
                deliver(1),
                chat(A, 1),
                with(RELOAD, B),
                with(FLUSH, 0),
                with(DUPLICATE, 2),
            ],
        ),
        (
            "sender_rollback_reuses_counters",
            vec![
                with(SAVE, A),
                chat(A, 3),
                with(FLUSH, 0),
                with(ROLLBACK, A),
                chat(A, 4),
                with(FLUSH, 0),
            ],
        ),
        (
            "receiver_rollback_reopens",
            vec![
                chat(A, 2),
                with(SAVE, B | 1 << 1),
                with(FLUSH, 0),
                with(ROLLBACK, B | 1 << 1),
                with(DUPLICATE, 0),
                with(DUPLICATE, 0),
            ],
        ),
        (
            "rollback_loses_rotated_key",
            vec![
                with(SAVE, B),
                with(ROTATE, B | 2),
                chat(A, 1),
                with(ROLLBACK, B),
                with(FLUSH, 0),
            ],
        ),
        (
            "too_old",
            vec![
                chat(A, 1),
                with(JUMP, A | 1 << 1),
                1,
                chat(A, 1),
                deliver(1),
                deliver(0),
                with(JUMP, A),
                0,
                chat(A, 1),
                with(DUPLICATE, 2),
            ],
        ),
        (
            "window_edge",
            vec![
                chat(A, 2),
                with(JUMP, A | 1 << 1),
                0,
                chat(A, 1),
                deliver(2),
                deliver(0),
                deliver(0),
            ],
        ),
        (
            "counter_exhausted",
            vec![
                with(JUMP, B | 3 << 1),
                2,
                chat(B, 3),
                with(FLUSH, 0),
                with(JUMP, A | 2 << 1),
                0,
                chat(A, 1),
                with(FLUSH, 0),
            ],
        ),
        (
            "no_sealing_key",
            vec![
                with(RETIRE, A),
                chat(A, 1),
                with(ROTATE, A),
                chat(A, 1),
                with(REGISTER, B | 1 << 1),
                with(FLUSH, 0),
            ],
        ),
        (
            "everything",
            program(&[
                &seal(A, 1, 0x86, b"hi"),
                &[with(SAVE, A), with(ROTATE, A), chat(A, 2), deliver(1)],
                &seal(B, 2, 3, b"key"),
                &[
                    with(REGISTER, B | 1 << 1),
                    with(ROTATE, B | 2),
                    deliver(0),
                    with(TAMPER, 0),
                    0,
                    9,
                    9,
                ],
                &[
                    with(RELOAD, A),
                    with(ROLLBACK, A),
                    chat(A, 2),
                    with(RETIRE, B),
                    with(FLUSH, 0),
                ],
                &[
                    with(DUPLICATE, 3),
                    with(REFLECT, 1),
                    with(FORGET, A | 1 << 1),
                    chat(B, 1),
                    with(FLUSH, 0),
                ],
            ]),
        ),
    ]
}
