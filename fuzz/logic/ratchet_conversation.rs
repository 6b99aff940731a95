//! Fuzz target: a conversation between two ratcheting parties (SPEC.md §7),
//! run as a program of actions read from the input and checked step by step
//! against a model of both sides.
//!
//! The fixture, the model and the lockstep simulator are in
//! `fuzz/logic/ratchet_model.rs`: devices Alice (`alice`/1) and Bob (`bob`/2)
//! (ChaCha20 seed `[0x52; 32]`), each with a pool of six sealing keys (key `k`
//! valid from `T0 + 60·k` for `30 + 30·k` days, with its ML-KEM key, bundles
//! signed and verified) of which key 0 is live, and four one-time keys of
//! which the device holds the first three (valid two days). Every session
//! uses the policy `max_skip` 8, `max_skipped` 12, skipped secrets kept an
//! hour, a KEM step every 3 sending steps or every day. Alice's first session
//! offers Bob's first one-time key. Randomness comes from ChaCha20 seed
//! `[0x73; 32]`; the clock starts at `T0 + 600`.
//!
//! Input: a sequence of actions (at most [`MAX_ACTIONS`]); missing parameter
//! bytes read as 0. Each action is one byte, `kind` in its low nibble and a
//! parameter `hi` in its high nibble; `side = hi & 1` (0 Alice, 1 Bob), and
//! "a message" is `sent[len − 1 − hi mod len]` (newest first):
//!
//! | kind | action |
//! |---|---|
//! | 0 | `side` seals: associated data `(hi >> 1) & 3`; then a content-type byte (low 3 bits: text, location, file, group key, control, `0x1234`, `0x8000 \| b`, `0xffff`), a length byte (mod 65) and that many plaintext bytes |
//! | 1 | deliver the pending message at index `hi mod len` (0: oldest; others reorder) |
//! | 2 | drop the pending message at index `hi mod len` |
//! | 3 | duplicate: deliver a message again (delivered or not; it stays pending) |
//! | 4 | tamper a message (mode byte: flip a byte, truncate, append a byte, wrong associated data; then two position bytes and a mask byte) and deliver it |
//! | 5 | reflect a message back to its own sender |
//! | 6 | `side` exports and re-imports its session (and its device if `hi & 2`) through sealed blobs |
//! | 7 | `side` saves session and device blobs in slot `(hi >> 1) & 1` |
//! | 8 | `side` rolls back to slot `(hi >> 1) & 1`: the session, and the device too if `hi & 4` |
//! | 9 | the clock advances by `ADVANCES[hi]` seconds (1 s … 61 days) |
//! | 10 | `(hi >> 1) & 3`: `side` rotates to its next pool key; the same and the peer learns the bundle at once; the same and the previous key is retired; or `side` retires its current key |
//! | 11 | `side` learns (`add_peer_bundle`) the peer's generated key `(hi >> 1) mod n` |
//! | 12 | `side` expires: `Session::expire` and `DeviceKeys::expire` at the current time |
//! | 13 | `side` starts over with a new `Session` from the newest peer bundle it knows, offering (`(hi >> 1) & 3`) no one-time key, the peer's next, the last offered again, or one the peer never held |
//! | 14 | deliver every pending message, oldest first |
//! | 15 | `side` seals `((hi >> 2) & 3) + 1` short messages on the message chain, or the control chain if `hi & 2` |
//!
//! Concurrent starts happen when both sides seal before hearing from the
//! other, or when a side starts over; a side that starts over five times
//! pushes the peer past four ratchet states (the oldest is dropped:
//! `StaleSession`).
//!
//! Checks (a violation panics), for every action:
//!
//! - no call into the library panics;
//! - seal: `NoSealingKey`, `LocalKeyExpired`, `PeerKeyExpired` exactly when
//!   the model says (a failed seal leaves the exported session byte-identical);
//!   else the header is exactly what SPEC §7.5–7.7 say it must be: the
//!   current state's session id (a new one for a start), the `INIT` fields
//!   (own current key, the peer's newest bundle and its KEM key, the offered
//!   one-time key) until the side opens a message in the state, a fresh
//!   ratchet key exactly at a sending step, `KEM_STEP` fields exactly when a
//!   KEM step is due (step count or time, and a usable peer KEM key), to the
//!   peer's current KEM key and repeated through the epoch, the previous
//!   chain lengths, the next number of the content type's chain;
//! - open (of a message as sealed, a duplicate, a tampered copy, a
//!   reflection): the result is exactly the model's ([`model::predict`]:
//!   decoding, the state or a start and its checks, reflection, expiry,
//!   replay/too old/caps/unexpected ratchet key/unknown KEM key, then the key
//!   commitment and the tag, both decided symbolically), with the right
//!   plaintext, content type, chain, session id, counter and gap report
//!   (`skipped`, `late`, `started_session`);
//! - independently of the model: a message opens at most once per state
//!   lineage of its receiver (a rollback restores the lineage; a start over
//!   begins a new one), and only a message the peer sealed, byte for byte,
//!   with its associated data, opens (anything else is a **forgery**);
//! - every failed open leaves the receiver's exported session (and, for a
//!   message with `INIT` fields, its device) byte-identical;
//! - after every action each side's current session id (convergence of
//!   concurrent starts), `missing()` (the stored skipped messages of the
//!   current state), current and live sealing keys, unused one-time keys and
//!   the peer key a start would use equal the model's; a re-import exports
//!   the same state and refuses a minimum generation above its own; a
//!   rollback is refused (`RolledBack`) at the newer generation.
//!
//! This file is the target's input format and seeds, shared by the
//! cargo-fuzz target (`fuzz/fuzz_targets/ratchet_conversation.rs`) and the
//! corpus replay in `repo-tests/tests/fuzz_corpus.rs`, which both include it with
//! `#[path]`. The seeds in `fuzz/corpus/ratchet_conversation/` are programs
//! written by `seeds` below (`cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features
//! -- --ignored regenerate_ratchet_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// `repo-tests/tests/fuzz_corpus.rs` includes both ratchet targets, so the model twice.
#[allow(clippy::duplicate_mod)]
#[path = "ratchet_model.rs"]
mod model;

#[cfg(test)]
use std::collections::BTreeSet;

use letterseal::pairwise::ContentType;
use model::{ASSOCIATED_DATA, DAY, OTK_POOL, Sim, Snapshot};

/// Actions run per input at most.
const MAX_ACTIONS: usize = 128;
/// Longest plaintext an action seals.
const MAX_PLAINTEXT: usize = 64;
/// Snapshot slots per side.
const SLOTS: usize = 2;
/// Clock steps (kind 9).
const ADVANCES: [u64; 16] = [
    1,
    30,
    300,
    1_800,
    3_601,
    7_200,
    6 * 3_600,
    12 * 3_600,
    DAY,
    DAY + 1,
    2 * DAY,
    3 * DAY,
    7 * DAY,
    15 * DAY,
    31 * DAY,
    61 * DAY,
];

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

struct Conversation<'a> {
    sim: Sim,
    input: Input<'a>,
    /// `side * SLOTS + slot`.
    slots: Vec<Option<Snapshot>>,
}

impl<'a> Conversation<'a> {
    fn new(data: &'a [u8], trace: bool) -> Self {
        Self {
            sim: Sim::new(trace),
            input: Input { data, pos: 0 },
            slots: (0..2 * SLOTS).map(|_| None).collect(),
        }
    }

    fn run(&mut self) {
        let mut actions = 0;
        while !self.input.done() && actions < MAX_ACTIONS {
            actions += 1;
            let op = self.input.byte();
            self.step(op);
            self.sim.sync();
            self.converged();
        }
    }

    /// Notes when both sides seal in the same state.
    fn converged(&mut self) {
        let [a, b] = &self.sim.sides;
        if a.model.session.current.is_some() && a.model.session.current == b.model.session.current {
            self.sim.note(|| "converged".into());
        }
    }

    /// A message index, newest first.
    fn pick_sent(&self, hi: u8) -> Option<usize> {
        let n = self.sim.sent.len();
        (n > 0).then(|| n - 1 - usize::from(hi) % n)
    }

    fn step(&mut self, op: u8) {
        let (kind, hi) = (op & 0x0f, op >> 4);
        let side = usize::from(hi & 1);
        match kind {
            0 => {
                let ad = usize::from(hi >> 1) & 3;
                let content = content_type(self.input.byte());
                let len = usize::from(self.input.byte()) % (MAX_PLAINTEXT + 1);
                let plaintext = self.input.bytes(len);
                self.sim.seal(side, ad, content, plaintext);
            }
            1 | 2 => {
                if self.sim.pending.is_empty() {
                    return;
                }
                let at = usize::from(hi) % self.sim.pending.len();
                let id = self.sim.pending.remove(at);
                if kind == 1 {
                    self.sim.deliver(id, "deliver");
                } else {
                    self.sim.note(|| "drop".into());
                }
            }
            3 => {
                if let Some(id) = self.pick_sent(hi) {
                    self.sim.deliver(id, "duplicate");
                }
            }
            4 => {
                let mode = self.input.byte();
                let at = usize::from(u16::from_be_bytes([self.input.byte(), self.input.byte()]));
                let mask = self.input.byte().max(1);
                if let Some(id) = self.pick_sent(hi) {
                    self.tamper(id, mode, at, mask);
                }
            }
            5 => {
                if let Some(id) = self.pick_sent(hi) {
                    let m = &self.sim.sent[id];
                    let (from, bytes, ad) = (m.from, m.bytes.clone(), ASSOCIATED_DATA[m.ad]);
                    let opened = self.sim.open(from, &bytes, ad, "reflect");
                    assert!(!opened, "FORGERY: a side opened its own message {id}");
                }
            }
            6 => self.sim.reload(side, hi & 2 != 0),
            7 => {
                let snapshot = self.sim.snapshot(side);
                self.slots[side * SLOTS + usize::from(hi >> 1) % SLOTS] = Some(snapshot);
                self.sim.note(|| "save".into());
            }
            8 => {
                if let Some(snapshot) =
                    self.slots[side * SLOTS + usize::from(hi >> 1) % SLOTS].clone()
                {
                    self.sim.rollback(side, &snapshot, hi & 4 != 0);
                }
            }
            9 => {
                self.sim.advance(ADVANCES[usize::from(hi)]);
                self.sim.note(|| "advance".into());
            }
            10 => match (hi >> 1) & 3 {
                0 => self.sim.rotate(side, false, false),
                1 => self.sim.rotate(side, true, false),
                2 => self.sim.rotate(side, true, true),
                _ => {
                    if let Some(id) = self.sim.sides[side].model.device.current().map(|k| k.id) {
                        self.sim.retire(side, id);
                    }
                }
            },
            11 => self.sim.register(side, usize::from(hi >> 1)),
            12 => self.sim.expire(side),
            13 => {
                let peer = 1 - side;
                let offered = self.sim.otk_offered[peer];
                let otk = match (hi >> 1) & 3 {
                    0 => None,
                    1 => {
                        self.sim.otk_offered[peer] += 1;
                        Some(offered % (OTK_POOL - 1))
                    }
                    2 => Some(offered.saturating_sub(1) % (OTK_POOL - 1)),
                    _ => Some(OTK_POOL - 1),
                };
                self.sim.restart(side, otk);
            }
            14 => {
                for id in std::mem::take(&mut self.sim.pending) {
                    self.sim.deliver(id, "deliver");
                }
            }
            _ => {
                let content = if hi & 2 != 0 {
                    ContentType::Control
                } else {
                    ContentType::Text
                };
                for _ in 0..=((hi >> 2) & 3) {
                    let plaintext = (self.sim.sent.len() as u32).to_be_bytes().to_vec();
                    self.sim.seal(side, 1, content, plaintext);
                }
            }
        }
    }

    /// Delivers a changed copy of `sent[id]`: it must not open.
    fn tamper(&mut self, id: usize, mode: u8, at: usize, mask: u8) {
        let m = &self.sim.sent[id];
        let to = 1 - m.from;
        let mut bytes = m.bytes.clone();
        let mut ad = m.ad;
        let what = match mode % 4 {
            0 => {
                let at = at % bytes.len();
                bytes[at] ^= mask;
                "flip"
            }
            1 => {
                bytes.truncate(at % bytes.len());
                "truncate"
            }
            2 => {
                bytes.push(mask);
                "extend"
            }
            _ => {
                ad = (ad + 1 + at % (ASSOCIATED_DATA.len() - 1)) % ASSOCIATED_DATA.len();
                "wrong ad"
            }
        };
        let opened = self.sim.open(to, &bytes, ASSOCIATED_DATA[ad], "tamper");
        assert!(
            !opened,
            "FORGERY: a tampered ({what}) copy of message {id} opened"
        );
    }
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    Conversation::new(data, false).run();
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// The outcomes an input reaches (e.g. `"deliver Ok late"`, `"tamper
/// CommitmentMismatch"`, `"converged"`).
#[cfg(test)]
pub(crate) fn outcomes(data: &[u8]) -> BTreeSet<String> {
    let mut c = Conversation::new(data, true);
    c.run();
    c.sim.trace.take().unwrap_or_default()
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
    const RELOAD: u8 = 6;
    const SAVE: u8 = 7;
    const ROLLBACK: u8 = 8;
    const ADVANCE: u8 = 9;
    const KEYS: u8 = 10;
    const REGISTER: u8 = 11;
    const EXPIRE: u8 = 12;
    const RESTART: u8 = 13;
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
    // `side` seals `n` (1..=4) short messages on the message chain.
    let chat = |side: u8, n: u8| with(CHAT, (n - 1) << 2 | side);
    // The same on the control chain.
    let control = |side: u8, n: u8| with(CHAT, (n - 1) << 2 | 2 | side);
    let deliver = |index: u8| with(DELIVER, index);
    let flush = with(FLUSH, 0);
    // One message from `side`, delivered.
    let turn = |side: u8| [chat(side, 1), flush];
    // Clock steps: index into ADVANCES.
    let advance = |i: u8| with(ADVANCE, i);
    // Key actions: rotate (registered if `register`), rotate, register and
    // retire the previous key, retire the current key.
    let rotate = |side: u8, register: bool| with(KEYS, u8::from(register) << 1 | side);
    let rotate_retire = |side: u8| with(KEYS, 2 << 1 | side);
    let retire = |side: u8| with(KEYS, 3 << 1 | side);
    // Start over offering no one-time key (0), the next (1), the last offered
    // again (2), or one the peer never held (3).
    let restart = |side: u8, otk: u8| with(RESTART, otk << 1 | side);
    let save = |side: u8, slot: u8| with(SAVE, slot << 1 | side);
    let rollback =
        |side: u8, slot: u8, device: bool| with(ROLLBACK, u8::from(device) << 2 | slot << 1 | side);
    // Tamper with the newest message: mode, position, mask.
    let tamper = |mode: u8, at: u16, mask: u8| -> Vec<u8> {
        let [hi, lo] = at.to_be_bytes();
        vec![with(TAMPER, 0), mode, hi, lo, mask]
    };
    let program = |parts: &[&[u8]]| parts.concat();
    vec![
        (
            "basic_exchange",
            program(&[
                &seal(A, 1, 0, b"hello Bob"),
                &[deliver(0)],
                &seal(B, 2, 1, b"48.8584,2.2945"),
                &[deliver(0)],
                &seal(A, 3, 4, b"control"),
                &seal(A, 0, 6, b""),
                &seal(A, 0, 5, &[0xa5; 64]),
                &[flush],
            ]),
        ),
        (
            "reorder_and_gaps",
            vec![
                chat(A, 4),
                deliver(3),
                deliver(0),
                deliver(1),
                with(DROP, 0),
                chat(B, 1),
                flush,
                chat(A, 3),
                control(A, 2),
                deliver(4),
                deliver(1),
                flush,
            ],
        ),
        (
            "ping_pong_kem_steps",
            program(&[
                &turn(A),
                &turn(B),
                &turn(A),
                &turn(B),
                &turn(A),
                &turn(B),
                &turn(A),
                &turn(B),
                &turn(A),
                &turn(B),
            ]),
        ),
        (
            "kem_step_by_time",
            program(&[&turn(A), &turn(B), &[advance(9)], &turn(A), &turn(B)]),
        ),
        (
            "kem_step_to_retired_bundle_key",
            program(&[
                &turn(A),
                &turn(B),
                &[rotate_retire(B), advance(9)],
                &turn(A),
            ]),
        ),
        (
            "duplicates_and_replay",
            vec![chat(A, 2), flush, with(DUPLICATE, 0), with(DUPLICATE, 1)],
        ),
        (
            "tamper_each_way",
            program(&[
                &[chat(A, 1)],
                &tamper(0, 0, 0x03),
                &tamper(0, 0, 0x01),
                &tamper(0, 1, 0x01),
                &tamper(0, 2, 0x08),
                &tamper(0, 6, 0x01),
                &tamper(0, 22, 0x01),
                &tamper(0, 70, 0x01),
                &tamper(0, 300, 0x40),
                &tamper(0, 1220, 0x01),
                &tamper(0, 1300, 0x80),
                &tamper(1, 1240, 0),
                &tamper(1, 100, 0),
                &tamper(2, 0, 7),
                &tamper(3, 0, 0),
                &[flush, chat(B, 2)],
                &tamper(0, 4, 0x01),
                &tamper(0, 56, 0x01),
                &tamper(0, 64, 0x01),
                &tamper(0, 90, 0x01),
                &tamper(3, 1, 0),
                &[flush],
            ]),
        ),
        (
            "reflection",
            program(&[
                &[chat(A, 1), with(REFLECT, 0)],
                &[flush, chat(B, 1), with(REFLECT, 0)],
                &turn(A),
                &turn(B),
                &turn(A),
                &turn(B),
                &turn(A),
                &turn(B),
                &[with(REFLECT, 5)],
            ]),
        ),
        (
            "too_many_skipped",
            vec![
                chat(A, 4),
                chat(A, 4),
                chat(A, 2),
                deliver(9),
                deliver(8),
                flush,
            ],
        ),
        (
            // Regression: a new epoch whose header says the previous chain
            // had 10 messages, of which Bob opened the first, would store 9
            // skipped secrets of that chain (`max_skip` is 8): refused. The
            // next message of the epoch, after Bob opened one more, stores 8.
            "previous_chain_caps",
            vec![
                chat(A, 1),
                flush,
                chat(B, 1),
                flush,
                chat(A, 4),
                chat(A, 4),
                chat(A, 2),
                deliver(0),
                chat(B, 1),
                deliver(9),
                chat(A, 1),
                deliver(9),
                deliver(0),
                chat(A, 1),
                deliver(8),
                flush,
            ],
        ),
        (
            "skipped_secrets_expire",
            vec![
                chat(A, 4),
                deliver(3),
                advance(4),
                deliver(0),
                with(EXPIRE, B),
                deliver(0),
                flush,
            ],
        ),
        (
            "unexpected_ratchet_key",
            program(&[
                &turn(A),
                &[save(B, 0)],
                &turn(B),
                &[chat(A, 1), rollback(B, 0, false), flush],
            ]),
        ),
        (
            "receiver_rollback_misses_its_own_step",
            program(&[
                &turn(A),
                &turn(B),
                &turn(A),
                &[save(B, 1)],
                &turn(B),
                &[chat(A, 1), rollback(B, 1, true), flush],
                &[with(DUPLICATE, 1), with(DUPLICATE, 2)],
            ]),
        ),
        (
            "sender_rollback_reuses_numbers",
            vec![
                chat(A, 1),
                flush,
                save(A, 0),
                chat(A, 2),
                flush,
                rollback(A, 0, true),
                chat(A, 3),
                flush,
            ],
        ),
        (
            "concurrent_starts",
            program(&[
                &[chat(A, 1), chat(B, 1), flush],
                &[chat(A, 1), chat(B, 1), flush],
                &turn(A),
                &turn(B),
            ]),
        ),
        (
            "stale_session",
            vec![
                chat(A, 2),
                deliver(1),
                restart(A, 0),
                chat(A, 1),
                deliver(1),
                restart(A, 0),
                chat(A, 1),
                deliver(1),
                restart(A, 0),
                chat(A, 1),
                deliver(1),
                restart(A, 0),
                chat(A, 1),
                deliver(1),
                deliver(0),
                restart(B, 0),
                chat(A, 1),
                flush,
            ],
        ),
        (
            "one_time_keys",
            vec![
                chat(A, 1),
                flush,
                restart(A, 1),
                chat(A, 1),
                flush,
                restart(A, 2),
                chat(A, 1),
                flush,
                restart(A, 3),
                chat(A, 1),
                flush,
                advance(11),
                with(EXPIRE, B),
                restart(A, 2),
                chat(A, 1),
                flush,
            ],
        ),
        (
            "rotation_and_keys",
            vec![
                chat(A, 1),
                rotate_retire(B),
                flush,
                rotate(A, false),
                restart(A, 0),
                chat(A, 1),
                flush,
                with(REGISTER, B | 1 << 1),
                with(DUPLICATE, 0),
                turn(B)[0],
                flush,
                retire(A),
                retire(A),
                chat(A, 1),
                rotate(A, true),
                chat(A, 1),
                flush,
            ],
        ),
        (
            "expiry_of_the_peer",
            vec![
                chat(A, 1),
                flush,
                chat(A, 1),
                advance(14),
                flush,
                rotate(A, true),
                chat(A, 1),
            ],
        ),
        (
            "expiry_of_own_key",
            vec![
                chat(A, 1),
                flush,
                rotate(A, true),
                restart(A, 0),
                chat(A, 1),
                advance(14),
                flush,
                chat(B, 1),
            ],
        ),
        (
            "reload_and_restore",
            vec![
                chat(A, 2),
                with(RELOAD, A | 2),
                deliver(1),
                with(RELOAD, B),
                save(B, 0),
                flush,
                rollback(B, 0, true),
                with(DUPLICATE, 0),
                with(DUPLICATE, 0),
                turn(B)[0],
                flush,
                with(RELOAD, B | 2),
            ],
        ),
        (
            "everything",
            program(&[
                &seal(A, 1, 0x86, b"hi"),
                &[save(A, 1), chat(B, 2), deliver(1), deliver(0)],
                &seal(B, 2, 3, b"group key"),
                &[with(REGISTER, B), rotate(B, true), deliver(0)],
                &tamper(0, 9, 9),
                &[
                    with(RELOAD, A),
                    rollback(A, 1, false),
                    chat(A, 2),
                    advance(3),
                ],
                &[with(DUPLICATE, 3), with(REFLECT, 1), chat(B, 1), flush],
                &[
                    restart(B, 1),
                    chat(B, 1),
                    chat(A, 1),
                    flush,
                    with(EXPIRE, A),
                ],
            ]),
        ),
    ]
}
