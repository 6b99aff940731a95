//! Fuzz target: a group conversation among Alice, Bob, Carol and Dave
//! (SPEC.md §8), run as a program of actions read from the input and checked
//! step by step against a model of every member.
//!
//! A fixture is built once, deterministically (ChaCha20 seed `[0x43; 32]`):
//! devices `alice`/1, `bob`/2, `carol`/3, `dave`/4 with one sealing key each
//! (fixed for the whole run; bundles verified with `NoDirectory`), a pairwise
//! `Session` from every member to every other, and each member's empty
//! `Group` (group id `conversation`) with its own grace policy: Alice the
//! default (one previous epoch, one day), Bob none kept, Carol two for an
//! hour, Dave one with no time limit. Every input loads the sessions and
//! groups (serde JSON); the devices are shared (they never change). The
//! clock starts at `T0 + 600`; epoch secrets and salts come from a ChaCha20
//! generator with a fixed seed.
//!
//! Input: a sequence of actions (at most [`MAX_ACTIONS`]); missing parameter
//! bytes read as 0. Each action is one byte, `kind` in its low nibble and a
//! parameter `hi` in its high nibble; `m = hi & 3` names a member; "a
//! distribution" or "a message" is picked newest first by a parameter byte:
//!
//! | kind | action |
//! |---|---|
//! | 0 | distribute a new epoch: the distributor is `hi & 3` if `hi & 8`, else one of the members of the latest distribution's roster (`hi` mod their number; anyone before the first); the next byte's low nibble adds members to the roster (the distributor is always in it); the epoch is the distributor's current one plus one, so a lagging distributor forks an epoch number |
//! | 1 | deliver the pending distribution view at index `hi mod len` (0: oldest) |
//! | 2 | drop the pending distribution view at index `hi mod len` |
//! | 3 | deliver a distribution to member `m` (again, or to a non-member): a byte picks it, a mode byte: its view, the full distribution, another member's view, over the session with another member than the distributor, or a view with a byte flipped (at the position given by the next two bytes, big-endian, with the mask in the byte after) |
//! | 4 | member `m` seals: a byte (associated data mod 3, content type), a length byte (mod 65) and that many plaintext bytes |
//! | 5 | deliver the pending group message at index `hi mod len` |
//! | 6 | drop the pending group message at index `hi mod len` |
//! | 7 | deliver a message to member `m` (duplicate, or to a non-member) |
//! | 8 | tamper a message and deliver it to `m`: a mode byte (flip a byte; flip a signed byte and re-sign as the sender; re-sign unchanged by another member; wrong associated data; truncate), a position and a mask byte |
//! | 9 | save member `m`'s `Group` in slot `(hi >> 2) & 1` |
//! | 10 | restore member `m`'s `Group` from slot `(hi >> 2) & 1` (its sessions stay) |
//! | 11 | reload member `m`: its `Group` and sessions through JSON |
//! | 12 | advance the clock by one of 16 steps (1 s to 7 days, around the grace limits) |
//! | 13 | member `m` calls `expire(now)` |
//! | 14 | member `m` jumps its send counter in its current epoch (an edit of the saved group's `next_counter`): class `(hi >> 2) & 3`, then a byte |
//! | 15 | deliver every pending distribution, then every pending message, oldest first |
//!
//! Distributions are fanned out (queued) to the other members of their
//! roster, group messages to the other members of the sender's current
//! roster. A message that finds its epoch unknown stays pending (the
//! distribution may arrive later).
//!
//! Checks (a violation panics):
//!
//! - no call into the library panics;
//! - `distribute` succeeds with the next epoch and the expected change
//!   (joined/left against the distributor's current roster; for a first
//!   epoch everyone joined), the server's check accepts it, and it and its
//!   views survive encoding;
//! - `process` gives exactly the model's result (SPEC.md §8.4):
//!   `NotAMember`, `StaleEpoch`, `WrapRejected(Replay)` once the member's
//!   session accepted that wrap (a member whose group state was restored),
//!   `WrapMismatch` for another member's view, `DistributorMismatch` over the
//!   wrong session, else success with the expected change; a view with a
//!   byte flipped never succeeds (nor reaches `InvalidWrap`);
//! - `seal`: `NoEpoch`, `CounterExhausted` (at `u64::MAX`) or success with
//!   the current epoch, the next counter, the sender and the content type;
//! - `open` of a message as sealed gives exactly the model's result
//!   (SPEC.md §8.6): `UnknownEpoch` (never held, deleted, or lost in a
//!   restore), `EpochExpired` (grace), `UnknownSender` (not in the roster the
//!   member holds for that epoch number), `OwnMessage`, `Replay`/`TooOld`
//!   from a model window per epoch and sender, `CommitmentMismatch` for a
//!   message of another epoch with the same number (a fork), else it opens
//!   with the right sender, epoch, content type, plaintext, counter and gap
//!   report;
//! - independently of the model: a member opens a message only if it is in
//!   the roster of the message's epoch and holds that very epoch, within its
//!   grace period (so a removed member never opens later epochs and an added
//!   member never opens earlier ones); a message opens at most once per
//!   member and state lineage, and never when another message with the same
//!   epoch, sender and counter opened there (a restored sender re-uses
//!   counters: `Replay`);
//! - a tampered or forged message never opens;
//! - every failed `open`, `seal` or `process` leaves the member's serialized
//!   group (and, for `process`, session) byte-identical — the exception of
//!   SPEC.md §8.4 (a wrap that authenticated but carries no key) cannot
//!   happen with honest distributors and is reported as a failure;
//! - after every action each member's current epoch and openable epochs, and
//!   every session's send counter and highest received counter, equal the
//!   model's; a reload serializes to the same bytes.
//!
//! Restoring a member's `Group` also restores its windows: messages it opened
//! after the snapshot open again; the model is restored with it.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/group_conversation.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`. The seeds
//! in `fuzz/corpus/group_conversation/` are programs written by `seeds`
//! below (`cargo test --test fuzz_corpus -- --ignored
//! regenerate_conversation_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use letterseal::codec::Reader;
use letterseal::device::DeviceKeys;
use letterseal::group::{
    Distribution, EpochChange, GracePolicy, Group, GroupError, GroupHeader, GroupId,
    GroupOpenError, GroupSealError,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::SIGNATURE_LEN;
use letterseal::labels;
use letterseal::pairwise::{ContentType, OpenError, Session, WINDOW_SIZE};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

// ---- fixture ----------------------------------------------------------------

const T0: u64 = 1_800_000_000;
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;
const GROUP_ID: &[u8] = b"conversation";
/// Members, in roster (address) order.
const NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];
const MEMBERS: usize = NAMES.len();
/// The associated-data variants.
const ASSOCIATED_DATA: [&[u8]; 3] = [b"", b"chat 42", b"chat 43"];
/// Actions run per input at most.
const MAX_ACTIONS: usize = 128;
/// Snapshot slots per member.
const SLOTS: usize = 2;
/// Longest plaintext an action seals.
const MAX_PLAINTEXT: usize = 64;
/// The AEAD tag length.
const TAG_LEN: usize = 16;
/// Clock steps (seconds), around the grace limits of an hour and a day.
const STEPS: [u64; 16] = [
    1,
    59,
    60,
    600,
    HOUR - 1,
    HOUR,
    HOUR + 1,
    2 * HOUR,
    12 * HOUR,
    DAY - 1,
    DAY,
    DAY + 1,
    2 * DAY,
    7 * DAY,
    5,
    30,
];

fn grace(member: usize) -> GracePolicy {
    match member {
        0 => GracePolicy::default(),
        1 => GracePolicy {
            previous_epochs: 0,
            max_age_seconds: None,
        },
        2 => GracePolicy {
            previous_epochs: 2,
            max_age_seconds: Some(HOUR),
        },
        _ => GracePolicy {
            previous_epochs: 1,
            max_age_seconds: None,
        },
    }
}

struct Fixture {
    group_id: GroupId,
    devices: Vec<DeviceKeys>,
    bundles: Vec<VerifiedBundle>,
    addresses: Vec<DeviceAddress>,
    /// Each member's empty group state.
    groups: Vec<Vec<u8>>,
    /// `sessions[m][peer]`: member `m`'s fresh session with `peer` (empty for `m`).
    sessions: Vec<Vec<Vec<u8>>>,
}

fn save<T: serde::Serialize>(state: &T) -> Vec<u8> {
    serde_json::to_vec(state).expect("state serializes")
}

fn load<T: serde::de::DeserializeOwned>(json: &[u8]) -> T {
    serde_json::from_slice(json).expect("saved state loads")
}

fn build_fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0x43; 32]);
    let t0 = Timestamp::from_unix_seconds(T0);
    let group_id = GroupId::new(GROUP_ID).expect("group id");
    let (mut devices, mut bundles, mut addresses) = (Vec::new(), Vec::new(), Vec::new());
    for (i, name) in NAMES.iter().enumerate() {
        let address = DeviceAddress::new(
            UserId::new(name).expect("user id"),
            DeviceId::new(u32::try_from(i + 1).expect("device id")),
        );
        let mut device = DeviceKeys::generate(&mut rng, address.clone());
        let bundle = device
            .add_sealing_key(&mut rng, t0, 30 * DAY)
            .verify(
                &device.address().clone().into(),
                &RegistrationPolicy::default(),
                t0,
                None,
                &NoDirectory,
            )
            .expect("fixture bundle verifies");
        devices.push(device);
        bundles.push(bundle);
        addresses.push(address);
    }
    assert!(
        addresses.windows(2).all(|w| w[0] < w[1]),
        "members are listed in roster order"
    );
    let groups = (0..MEMBERS)
        .map(|m| {
            save(&Group::new(
                group_id.clone(),
                addresses[m].clone(),
                grace(m),
            ))
        })
        .collect();
    let sessions = (0..MEMBERS)
        .map(|m| {
            (0..MEMBERS)
                .map(|peer| {
                    if peer == m {
                        Vec::new()
                    } else {
                        save(&Session::new(&devices[m], &bundles[peer]).expect("session"))
                    }
                })
                .collect()
        })
        .collect();
    Fixture {
        group_id,
        devices,
        bundles,
        addresses,
        groups,
        sessions,
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

// ---- model --------------------------------------------------------------------

/// Why a model window refuses a counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    Replay,
    TooOld,
}

/// The model of a replay window (SPEC.md §7.5): the highest accepted counter
/// and every accepted counter still inside the window.
#[derive(Clone, Default)]
struct Window {
    highest: Option<u64>,
    accepted: BTreeSet<u64>,
}

impl Window {
    /// `Ok((skipped, late))`, or the refusal.
    fn check(&self, counter: u64) -> Result<(u64, bool), Refusal> {
        match self.highest {
            None => Ok((counter, false)),
            Some(h) if counter > h => Ok((counter - h - 1, false)),
            Some(h) if h - counter >= WINDOW_SIZE => Err(Refusal::TooOld),
            Some(_) if self.accepted.contains(&counter) => Err(Refusal::Replay),
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
}

/// An epoch a member holds.
#[derive(Clone)]
struct Held {
    epoch: u64,
    /// The distribution it came from (index into `dists`).
    dist: usize,
    superseded_at: Option<u64>,
    next_counter: u64,
    /// Per sender.
    windows: BTreeMap<usize, Window>,
}

/// What one member's `Group` should hold.
#[derive(Clone, Default)]
struct Model {
    /// Ascending by epoch; the last is current.
    held: Vec<Held>,
    /// Messages (indexes into `msgs`) opened in this state lineage.
    opened: BTreeSet<usize>,
}

fn expired(held: &Held, grace: GracePolicy, now: u64) -> bool {
    match (held.superseded_at, grace.max_age_seconds) {
        (Some(at), Some(max_age)) => now.saturating_sub(at) > max_age,
        _ => false,
    }
}

impl Model {
    fn current(&self) -> Option<&Held> {
        self.held.last()
    }

    /// SPEC.md §8.7: the current epoch and at most `previous_epochs`
    /// superseded ones are kept, each only within its grace period.
    fn expire(&mut self, grace: GracePolicy, now: u64) {
        let keep = usize::try_from(grace.previous_epochs).unwrap_or(usize::MAX);
        let excess = self.held.len().saturating_sub(keep.saturating_add(1));
        self.held.drain(..excess);
        self.held.retain(|h| !expired(h, grace, now));
    }

    fn install(&mut self, epoch: u64, dist: usize, grace: GracePolicy, now: u64) {
        if let Some(last) = self.held.last_mut() {
            last.superseded_at = Some(now);
        }
        self.held.push(Held {
            epoch,
            dist,
            superseded_at: None,
            next_counter: 0,
            windows: BTreeMap::new(),
        });
        self.expire(grace, now);
    }
}

struct Member {
    group: Group,
    sessions: BTreeMap<DeviceAddress, Session>,
    model: Model,
}

/// A distribution made by `distributor`.
struct Dist {
    distributor: usize,
    epoch: u64,
    /// Member indexes, in roster order.
    roster: Vec<usize>,
    full: Distribution,
    /// The pairwise counter of each member's wrap.
    wrap_counters: [u64; MEMBERS],
}

/// A group message sealed by `sender` (as sealed: legitimate).
struct Sent {
    sender: usize,
    dist: usize,
    epoch: u64,
    counter: u64,
    ad: usize,
    content_type: ContentType,
    plaintext: Vec<u8>,
    sealed: Vec<u8>,
    /// Found its epoch unknown at least once.
    deferred: bool,
}

/// How a distribution is delivered.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// The member's own view (the full distribution if it has none).
    View,
    Full,
    /// Another roster member's view.
    OtherView(usize),
    /// Over the member's session with someone other than the distributor.
    WrongSession(usize),
    /// The view with a byte flipped: position, mask.
    Flipped(u16, u8),
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

fn refusal_to_open(refusal: Refusal, counter: u64) -> GroupOpenError {
    match refusal {
        Refusal::Replay => GroupOpenError::Replay { counter },
        Refusal::TooOld => GroupOpenError::TooOld { counter },
    }
}

fn refusal_to_wrap(refusal: Refusal, counter: u64) -> GroupError {
    GroupError::WrapRejected(match refusal {
        Refusal::Replay => OpenError::Replay { counter },
        Refusal::TooOld => OpenError::TooOld { counter },
    })
}

struct Sim<'a> {
    fx: &'static Fixture,
    input: Input<'a>,
    rng: ChaCha20Rng,
    now: u64,
    members: Vec<Member>,
    dists: Vec<Dist>,
    msgs: Vec<Sent>,
    /// Distribution views in flight: (distribution, member), oldest first.
    pending_dists: Vec<(usize, usize)>,
    /// Group messages in flight: (message, member), oldest first.
    pending_msgs: Vec<(usize, usize)>,
    /// `pair_next[x][m]`: the next counter of `x`'s session to `m`.
    pair_next: [[u64; MEMBERS]; MEMBERS],
    /// `pair_windows[m][x]`: what `m`'s session with `x` accepted.
    pair_windows: Vec<Vec<Window>>,
    /// `member * SLOTS + slot`: a saved group and its model.
    slots: Vec<Option<(Vec<u8>, Model)>>,
    /// Outcomes seen, for the corpus test.
    trace: Option<BTreeSet<String>>,
}

impl<'a> Sim<'a> {
    fn new(data: &'a [u8], trace: bool) -> Self {
        let fx = fixture();
        let members = (0..MEMBERS)
            .map(|m| Member {
                group: load(&fx.groups[m]),
                sessions: (0..MEMBERS)
                    .filter(|&peer| peer != m)
                    .map(|peer| (fx.addresses[peer].clone(), load(&fx.sessions[m][peer])))
                    .collect(),
                model: Model::default(),
            })
            .collect();
        Self {
            fx,
            input: Input { data, pos: 0 },
            rng: ChaCha20Rng::from_seed([0x64; 32]),
            now: T0 + 600,
            members,
            dists: Vec::new(),
            msgs: Vec::new(),
            pending_dists: Vec::new(),
            pending_msgs: Vec::new(),
            pair_next: [[0; MEMBERS]; MEMBERS],
            pair_windows: vec![vec![Window::default(); MEMBERS]; MEMBERS],
            slots: (0..MEMBERS * SLOTS).map(|_| None).collect(),
            trace: trace.then(BTreeSet::new),
        }
    }

    fn note(&mut self, what: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            trace.insert(what());
        }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.now)
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
        let m = usize::from(hi & 3);
        let slot = m * SLOTS + usize::from(hi >> 2) % SLOTS;
        match kind {
            0 => {
                let bits = self.input.byte();
                let distributor = if hi & 8 != 0 {
                    m
                } else {
                    match self.dists.last() {
                        Some(d) => d.roster[usize::from(hi) % d.roster.len()],
                        None => usize::from(hi) % MEMBERS,
                    }
                };
                self.distribute(distributor, bits);
            }
            1 | 2 => {
                if self.pending_dists.is_empty() {
                    return;
                }
                let i = usize::from(hi) % self.pending_dists.len();
                let (d, to) = self.pending_dists.remove(i);
                if kind == 1 {
                    self.process(d, to, Mode::View, "process");
                } else {
                    self.note(|| "drop distribution".into());
                }
            }
            3 => {
                let (pick, mode) = (self.input.byte(), self.input.byte());
                let at = u16::from_be_bytes([self.input.byte(), self.input.byte()]);
                let mask = self.input.byte();
                let n = self.dists.len();
                if n == 0 {
                    return;
                }
                let d = n - 1 - usize::from(pick) % n;
                let (x, roster) = (self.dists[d].distributor, &self.dists[d].roster);
                let others: Vec<usize> = roster
                    .iter()
                    .copied()
                    .filter(|&o| o != x && o != m)
                    .collect();
                let strangers: Vec<usize> = (0..MEMBERS).filter(|&o| o != x && o != m).collect();
                let mode = match mode % 5 {
                    0 => Mode::View,
                    1 => Mode::Full,
                    2 if !others.is_empty() => {
                        Mode::OtherView(others[usize::from(at) % others.len()])
                    }
                    2 => Mode::View,
                    3 => Mode::WrongSession(strangers[usize::from(at) % strangers.len()]),
                    _ => Mode::Flipped(at, mask),
                };
                self.process(d, m, mode, "redeliver");
            }
            4 => {
                let b = self.input.byte();
                let len = usize::from(self.input.byte()) % (MAX_PLAINTEXT + 1);
                let plaintext = self.input.bytes(len);
                let ad = usize::from(b) % ASSOCIATED_DATA.len();
                self.seal(m, ad, content_type(b >> 2), plaintext);
            }
            5 | 6 => {
                if self.pending_msgs.is_empty() {
                    return;
                }
                let i = usize::from(hi) % self.pending_msgs.len();
                let (g, to) = self.pending_msgs.remove(i);
                if kind == 5 {
                    self.open(g, to, "open");
                } else {
                    self.note(|| "drop message".into());
                }
            }
            7 => {
                let pick = self.input.byte();
                let n = self.msgs.len();
                if n > 0 {
                    self.open(n - 1 - usize::from(pick) % n, m, "any");
                }
            }
            8 => {
                let (pick, mode) = (self.input.byte(), self.input.byte());
                let (at, mask) = (self.input.byte(), self.input.byte());
                let n = self.msgs.len();
                if n > 0 {
                    self.tamper(n - 1 - usize::from(pick) % n, m, mode, at, mask);
                }
            }
            9 => {
                let member = &self.members[m];
                self.slots[slot] = Some((save(&member.group), member.model.clone()));
            }
            10 => {
                if let Some((group, model)) = &self.slots[slot] {
                    let member = &mut self.members[m];
                    member.group = load(group);
                    member.model = model.clone();
                    self.note(|| "restore".into());
                }
            }
            11 => self.reload(m),
            12 => self.now = self.now.saturating_add(STEPS[usize::from(hi)]),
            13 => {
                let now = self.now;
                let member = &mut self.members[m];
                member.group.expire(Timestamp::from_unix_seconds(now));
                member.model.expire(grace(m), now);
                self.note(|| "expire".into());
            }
            14 => {
                let b = self.input.byte();
                self.jump(m, hi >> 2, b);
            }
            _ => {
                for (d, to) in std::mem::take(&mut self.pending_dists) {
                    self.process(d, to, Mode::View, "process");
                }
                for (g, to) in std::mem::take(&mut self.pending_msgs) {
                    self.open(g, to, "open");
                }
            }
        }
    }

    /// After every action: the states agree with the model.
    fn sync(&self) {
        for (m, member) in self.members.iter().enumerate() {
            let who = NAMES[m];
            assert_eq!(
                member.group.current_epoch(),
                member.model.current().map(|h| h.epoch),
                "{who}: current epoch"
            );
            let held: Vec<u64> = member.model.held.iter().map(|h| h.epoch).collect();
            assert_eq!(
                member.group.openable_epochs(),
                held,
                "{who}: openable epochs"
            );
            for (peer, session) in &member.sessions {
                let p = self
                    .fx
                    .addresses
                    .iter()
                    .position(|a| a == peer)
                    .expect("a member");
                assert_eq!(
                    session.next_counter(),
                    self.pair_next[m][p],
                    "{who}: send counter to {}",
                    NAMES[p]
                );
                assert_eq!(
                    session.highest_received(),
                    self.pair_windows[m][p].highest,
                    "{who}: highest counter from {}",
                    NAMES[p]
                );
            }
        }
    }

    /// What installing `roster` (made by `distributor`) tells a member whose
    /// current roster is `old`.
    fn change(
        &self,
        old: Option<&[usize]>,
        roster: &[usize],
        distributor: usize,
        epoch: u64,
    ) -> EpochChange {
        let addresses = |members: &mut dyn Iterator<Item = usize>| -> Vec<DeviceAddress> {
            members.map(|i| self.fx.addresses[i].clone()).collect()
        };
        let (joined, left) = match old {
            None => (addresses(&mut roster.iter().copied()), Vec::new()),
            Some(old) => (
                addresses(&mut roster.iter().copied().filter(|i| !old.contains(i))),
                addresses(&mut old.iter().copied().filter(|i| !roster.contains(i))),
            ),
        };
        EpochChange {
            epoch,
            distributor: self.fx.addresses[distributor].clone(),
            joined,
            left,
            rekeyed: Vec::new(),
        }
    }

    fn current_roster(&self, m: usize) -> Option<&[usize]> {
        self.members[m]
            .model
            .current()
            .map(|h| &self.dists[h.dist].roster[..])
    }

    fn distribute(&mut self, x: usize, bits: u8) {
        let fx = self.fx;
        let roster: Vec<usize> = (0..MEMBERS)
            .filter(|&i| i == x || bits >> i & 1 == 1)
            .collect();
        let bundles: Vec<VerifiedBundle> = roster.iter().map(|&i| fx.bundles[i].clone()).collect();
        let previous = self.members[x].model.current().map_or(0, |h| h.epoch);
        let epoch = previous + 1;
        let expected = self.change(self.current_roster(x), &roster, x, epoch);
        let now = self.now();
        let member = &mut self.members[x];
        let (full, change) = member
            .group
            .distribute(
                &mut self.rng,
                &fx.devices[x],
                &bundles,
                &mut member.sessions,
                now,
            )
            .unwrap_or_else(|e| panic!("{}: distribute failed: {e:?}", NAMES[x]));
        assert_eq!(change, expected, "{}: epoch change of distribute", NAMES[x]);
        assert_eq!(full.core().epoch, epoch);
        assert_eq!(full.core().previous_epoch, previous);
        full.verify_for_server(None)
            .expect("the server accepts a distribution");
        assert_eq!(
            Distribution::decode(&full.encode()).expect("a distribution decodes"),
            full
        );
        let mut wrap_counters = [0; MEMBERS];
        for &m in roster.iter().filter(|&&m| m != x) {
            wrap_counters[m] = self.pair_next[x][m];
            self.pair_next[x][m] += 1;
        }
        let d = self.dists.len();
        member.model.install(epoch, d, grace(x), self.now);
        self.pending_dists
            .extend(roster.iter().filter(|&&m| m != x).map(|&m| (d, m)));
        self.dists.push(Dist {
            distributor: x,
            epoch,
            roster,
            full,
            wrap_counters,
        });
        self.note(|| "distribute".into());
    }

    /// The model's result of processing distribution `d` at `m` with `mode`
    /// (not `Flipped`).
    fn expect_process(&self, d: usize, m: usize, mode: Mode) -> Result<(), GroupError> {
        let dist = &self.dists[d];
        if let Mode::WrongSession(_) = mode {
            return Err(GroupError::DistributorMismatch);
        }
        if !dist.roster.contains(&m) {
            return Err(GroupError::NotAMember);
        }
        if self.members[m]
            .model
            .current()
            .is_some_and(|h| h.epoch >= dist.epoch)
        {
            return Err(GroupError::StaleEpoch);
        }
        if let Mode::OtherView(_) = mode {
            return Err(GroupError::WrapMismatch);
        }
        let counter = dist.wrap_counters[m];
        self.pair_windows[m][dist.distributor]
            .check(counter)
            .map(|_| ())
            .map_err(|r| refusal_to_wrap(r, counter))
    }

    /// Delivers distribution `d` to member `m`.
    fn process(&mut self, d: usize, m: usize, mode: Mode, how: &'static str) {
        let fx = self.fx;
        let dist = &self.dists[d];
        let x = dist.distributor;
        if m == x {
            return; // a member has no session with itself
        }
        let own_view = || {
            dist.full
                .for_member(&fx.addresses[m])
                .unwrap_or_else(|| dist.full.clone())
        };
        let (sent, peer) = match mode {
            Mode::View | Mode::Flipped(..) => (own_view(), x),
            Mode::Full => (dist.full.clone(), x),
            Mode::OtherView(n) => (
                dist.full
                    .for_member(&fx.addresses[n])
                    .expect("a roster member's view"),
                x,
            ),
            Mode::WrongSession(y) => (own_view(), y),
        };
        let mut bytes = sent.encode();
        let expected = if let Mode::Flipped(at, mask) = mode {
            let at = usize::from(at) % bytes.len();
            bytes[at] ^= mask.max(1);
            None
        } else {
            Some(self.expect_process(d, m, mode))
        };
        let received = match Distribution::decode(&bytes) {
            Ok(received) => received,
            Err(err) => {
                assert!(
                    expected.is_none(),
                    "a distribution does not decode: {err:?}"
                );
                self.note(|| format!("tampered distribution undecodable {}", err.name()));
                return;
            }
        };
        if expected.is_some() {
            assert_eq!(received, sent, "a distribution changed in transport");
        }
        let now = self.now();
        let member = &mut self.members[m];
        let session = member
            .sessions
            .get_mut(&fx.addresses[peer])
            .expect("a session with every other member");
        let before =
            (!matches!(expected, Some(Ok(())))).then(|| (save(&member.group), save(&*session)));
        let result = member
            .group
            .process(&fx.devices[m], &received, session, now);
        let who = NAMES[m];
        match (result, expected) {
            (Ok(change), Some(Ok(()))) => {
                let old = member.model.current().map(|h| h.dist);
                let old = old.map(|o| &self.dists[o].roster[..]);
                let want = self.change(old, &dist.roster, x, dist.epoch);
                assert_eq!(change, want, "{who}: epoch change of process");
                let member = &mut self.members[m];
                member.model.install(dist.epoch, d, grace(m), self.now);
                self.pair_windows[m][x].accept(dist.wrap_counters[m]);
                self.note(|| format!("{how} Ok"));
            }
            (Ok(change), None) => {
                panic!("FORGERY: {who} accepted a distribution with a byte flipped: {change:?}")
            }
            (Err(err), Some(Ok(()))) => {
                panic!("{who}: {how} of distribution {d} ({mode:?}) failed with {err:?}")
            }
            (Err(err), expected) => {
                let (group_before, session_before) = before.expect("the state before");
                assert_ne!(
                    err,
                    GroupError::InvalidWrap,
                    "{who}: an honest or tampered wrap reached InvalidWrap"
                );
                if let Some(want) = expected {
                    assert_eq!(
                        Err(err),
                        want,
                        "{who}: {how} of distribution {d} ({mode:?})"
                    );
                }
                assert_eq!(
                    save(&member.group),
                    group_before,
                    "{who}: a failed process ({err:?}) changed the group"
                );
                assert_eq!(
                    save(&*session),
                    session_before,
                    "{who}: a failed process ({err:?}) changed the session"
                );
                let tampered = if expected.is_none() {
                    "tampered distribution"
                } else {
                    how
                };
                self.note(|| format!("{tampered} {}", err.name()));
            }
            (Ok(_), Some(want)) => {
                panic!("{who}: {how} of distribution {d} ({mode:?}) succeeded, expected {want:?}")
            }
        }
    }

    fn seal(&mut self, s: usize, ad: usize, content: ContentType, plaintext: Vec<u8>) {
        let fx = self.fx;
        let member = &mut self.members[s];
        let who = NAMES[s];
        let current = member.model.current();
        let expected = match current {
            None => Err(GroupSealError::NoEpoch),
            Some(h) if !self.dists[h.dist].roster.contains(&s) => Err(GroupSealError::NotAMember),
            Some(h) if h.next_counter == u64::MAX => Err(GroupSealError::CounterExhausted),
            Some(_) => Ok(()),
        };
        let before = expected.is_err().then(|| save(&member.group));
        let result = member.group.seal(
            &mut self.rng,
            &fx.devices[s],
            content,
            &plaintext,
            ASSOCIATED_DATA[ad],
        );
        let sealed = match (result, expected) {
            (Ok(sealed), Ok(())) => sealed,
            (Err(err), Err(want)) => {
                assert_eq!(err, want, "{who}: seal");
                assert_eq!(
                    Some(save(&member.group)),
                    before,
                    "{who}: a failed seal ({err:?}) changed the group"
                );
                self.note(|| format!("seal {err:?}"));
                return;
            }
            (got, want) => panic!("{who}: seal gave {:?}, expected {want:?}", got.map(|_| ())),
        };
        let held = member.model.held.last_mut().expect("an epoch");
        let (epoch, dist, counter) = (held.epoch, held.dist, held.next_counter);
        held.next_counter += 1;
        let mut r = Reader::new(&sealed);
        let header = GroupHeader::decode(&mut r).expect("a sealed header decodes");
        let header_len = sealed.len() - r.remaining();
        assert_eq!(header.group_id, fx.group_id);
        assert_eq!(header.epoch, epoch);
        assert_eq!(header.sender, fx.addresses[s]);
        assert_eq!(header.counter, counter);
        assert_eq!(header.content_type, content);
        assert_eq!(
            sealed.len(),
            header_len + plaintext.len() + TAG_LEN + SIGNATURE_LEN
        );
        let g = self.msgs.len();
        self.pending_msgs.extend(
            self.dists[dist]
                .roster
                .iter()
                .filter(|&&m| m != s)
                .map(|&m| (g, m)),
        );
        self.msgs.push(Sent {
            sender: s,
            dist,
            epoch,
            counter,
            ad,
            content_type: content,
            plaintext,
            sealed,
            deferred: false,
        });
        self.note(|| "seal Ok".into());
    }

    /// The model's result of opening message `g` as sealed at `m`.
    fn expect_open(&self, g: usize, m: usize) -> Result<(u64, bool), GroupOpenError> {
        let msg = &self.msgs[g];
        let model = &self.members[m].model;
        let Some(held) = model.held.iter().find(|h| h.epoch == msg.epoch) else {
            return Err(GroupOpenError::UnknownEpoch(msg.epoch));
        };
        if expired(held, grace(m), self.now) {
            return Err(GroupOpenError::EpochExpired(msg.epoch));
        }
        if !self.dists[held.dist].roster.contains(&msg.sender) {
            return Err(GroupOpenError::UnknownSender);
        }
        if msg.sender == m {
            return Err(GroupOpenError::OwnMessage);
        }
        let window = held.windows.get(&msg.sender).cloned().unwrap_or_default();
        let gap = window
            .check(msg.counter)
            .map_err(|r| refusal_to_open(r, msg.counter))?;
        if held.dist != msg.dist {
            // Another epoch with the same number: another secret.
            return Err(GroupOpenError::CommitmentMismatch);
        }
        Ok(gap)
    }

    /// Delivers message `g` as sealed to member `m`.
    fn open(&mut self, g: usize, m: usize, how: &'static str) {
        let expected = self.expect_open(g, m);
        let now = self.now();
        let msg = &self.msgs[g];
        let member = &mut self.members[m];
        let who = NAMES[m];
        let before = expected.is_err().then(|| save(&member.group));
        let result = member.group.open(&msg.sealed, ASSOCIATED_DATA[msg.ad], now);
        let in_roster = self.dists[msg.dist].roster.contains(&m);
        match (result, expected) {
            (Err(err), Err(want)) => {
                assert_eq!(
                    err, want,
                    "{who}: {how} of message {g} ({} epoch {} counter {})",
                    NAMES[msg.sender], msg.epoch, msg.counter
                );
                assert_eq!(
                    Some(save(&member.group)),
                    before,
                    "{who}: a failed open ({err:?}) changed the group"
                );
                if let GroupOpenError::Replay { .. } = err {
                    let reused = member.model.opened.iter().any(|&o| {
                        let other = &self.msgs[o];
                        o != g
                            && other.dist == msg.dist
                            && other.sender == msg.sender
                            && other.counter == msg.counter
                    });
                    if reused {
                        self.note(|| "reused counter Replay".into());
                    }
                }
                if !in_roster {
                    self.note(|| format!("non-member {}", err.name()));
                }
                if how == "open" && matches!(err, GroupOpenError::UnknownEpoch(_)) {
                    self.msgs[g].deferred = true;
                    self.pending_msgs.push((g, m));
                }
                self.note(|| format!("{how} {}", err.name()));
            }
            (Ok(opened), Ok((skipped, late))) => {
                let model = &mut member.model;
                // Independent of the model's prediction:
                assert!(in_roster, "{who} opened a message of an epoch it is not in");
                let held = model
                    .held
                    .iter_mut()
                    .find(|h| h.dist == msg.dist)
                    .unwrap_or_else(|| {
                        panic!("{who} opened a message of an epoch it does not hold")
                    });
                assert!(
                    !expired(held, grace(m), self.now),
                    "{who} opened a message of an expired epoch"
                );
                assert!(
                    !model.opened.iter().any(|&o| {
                        let other = &self.msgs[o];
                        other.dist == msg.dist
                            && other.sender == msg.sender
                            && other.counter == msg.counter
                    }),
                    "{who}: message {g} (or another with its counter) opened twice"
                );
                assert_eq!(
                    opened.sender, self.fx.addresses[msg.sender],
                    "{who}: sender"
                );
                assert_eq!(opened.epoch, msg.epoch, "{who}: epoch");
                assert_eq!(opened.content_type, msg.content_type, "{who}: content type");
                assert_eq!(opened.plaintext.as_slice(), msg.plaintext.as_slice());
                assert_eq!(opened.counter, msg.counter, "{who}: counter");
                assert_eq!(
                    (opened.skipped, opened.late),
                    (skipped, late),
                    "{who}: gap report"
                );
                held.windows
                    .entry(msg.sender)
                    .or_default()
                    .accept(msg.counter);
                model.opened.insert(g);
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
                "{who}: {how} of message {g} ({} epoch {} counter {}) gave {:?}, expected {want:?}",
                NAMES[msg.sender],
                msg.epoch,
                msg.counter,
                got.map(|o| (o.skipped, o.late))
            ),
        }
    }

    /// Delivers a changed copy of message `g` to `m`: it must not open.
    fn tamper(&mut self, g: usize, m: usize, mode: u8, at: u8, mask: u8) {
        let fx = self.fx;
        let msg = &self.msgs[g];
        let mut bytes = msg.sealed.clone();
        let mut ad = msg.ad;
        let mask = mask.max(1);
        let signed_len = bytes.len() - SIGNATURE_LEN;
        let resign = |bytes: &mut Vec<u8>, signer: usize| {
            bytes.truncate(signed_len);
            let signature = fx.devices[signer]
                .identity()
                .sign_labeled(labels::sig::GROUP_MESSAGE, bytes);
            bytes.extend_from_slice(&signature.to_bytes());
        };
        let what = match mode % 5 {
            0 => {
                let at = usize::from(at) % bytes.len();
                bytes[at] ^= mask;
                "flip"
            }
            1 => {
                bytes[usize::from(at) % signed_len] ^= mask;
                resign(&mut bytes, msg.sender);
                "flip and re-sign"
            }
            2 => {
                let signer = (msg.sender + 1 + usize::from(at) % (MEMBERS - 1)) % MEMBERS;
                resign(&mut bytes, signer);
                "forge"
            }
            3 => {
                ad = (ad + 1 + usize::from(at & 1)) % ASSOCIATED_DATA.len();
                "wrong ad"
            }
            _ => {
                bytes.truncate(usize::from(at) % bytes.len());
                "truncate"
            }
        };
        let now = self.now();
        let member = &mut self.members[m];
        let before = save(&member.group);
        match member.group.open(&bytes, ASSOCIATED_DATA[ad], now) {
            Ok(opened) => panic!(
                "FORGERY: {}: a tampered ({what}) copy of message {g} opened: {opened:?}",
                NAMES[m]
            ),
            Err(err) => {
                assert_eq!(
                    save(&member.group),
                    before,
                    "{}: a failed open ({err:?}) changed the group",
                    NAMES[m]
                );
                self.note(|| format!("tamper {}", err.name()));
            }
        }
    }

    fn reload(&mut self, m: usize) {
        let member = &mut self.members[m];
        let group = save(&member.group);
        member.group = load(&group);
        assert_eq!(
            save(&member.group),
            group,
            "a reloaded group serializes differently"
        );
        for session in member.sessions.values_mut() {
            let saved = save(&*session);
            *session = load(&saved);
            assert_eq!(
                save(&*session),
                saved,
                "a reloaded session serializes differently"
            );
        }
    }

    /// Moves `m`'s send counter in its current epoch forward by editing its
    /// saved group.
    fn jump(&mut self, m: usize, class: u8, b: u8) {
        let member = &mut self.members[m];
        let Some(held) = member.model.held.last_mut() else {
            return;
        };
        let current = held.next_counter;
        let b = u64::from(b);
        let next = match class & 3 {
            0 => current.saturating_add(1 + b),
            1 => current.saturating_add(WINDOW_SIZE - 2 + b % 4),
            2 => current.saturating_add(5000 * (1 + b % 3)),
            _ => (u64::MAX - b % 3).max(current),
        };
        let mut state = serde_json::to_value(&member.group).expect("group serializes");
        let epochs = state["epochs"].as_array_mut().expect("an epoch list");
        epochs.last_mut().expect("an epoch")["next_counter"] = serde_json::Value::from(next);
        member.group = serde_json::from_value(state).expect("edited group loads");
        held.next_counter = next;
        self.note(|| "jump".into());
    }
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    Sim::new(data, false).run();
}

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

/// The outcomes an input reaches (e.g. `"open Ok late"`, `"process
/// StaleEpoch"`, `"tamper BadSignature"`).
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
    const DISTRIBUTE: u8 = 0;
    const PROCESS: u8 = 1;
    const DROP_DISTRIBUTION: u8 = 2;
    const REDELIVER: u8 = 3;
    const SEAL: u8 = 4;
    const OPEN: u8 = 5;
    const DROP_MESSAGE: u8 = 6;
    const ANY: u8 = 7;
    const TAMPER: u8 = 8;
    const SAVE: u8 = 9;
    const RESTORE: u8 = 10;
    const RELOAD: u8 = 11;
    const ADVANCE: u8 = 12;
    const EXPIRE: u8 = 13;
    const JUMP: u8 = 14;
    const FLUSH: u8 = 15;
    const A: u8 = 0;
    const B: u8 = 1;
    const C: u8 = 2;
    const D: u8 = 3;
    // `kind` with parameter `hi`.
    let with = |kind: u8, hi: u8| -> u8 { hi << 4 | kind };
    // Member `x` distributes to the members in `bits` (bit i: member i).
    let distribute = |x: u8, bits: u8| -> Vec<u8> { vec![with(DISTRIBUTE, 8 | x), bits] };
    // Member `s` seals `text` (associated data 1, text).
    let seal = |s: u8, text: &[u8]| -> Vec<u8> {
        let mut v = vec![with(SEAL, s), 1, u8::try_from(text.len()).unwrap()];
        v.extend_from_slice(text);
        v
    };
    let flush = [with(FLUSH, 0)];
    // Redeliver the `pick`-th newest distribution to `m` in `mode`.
    let redeliver =
        |m: u8, pick: u8, mode: u8| -> Vec<u8> { vec![with(REDELIVER, m), pick, mode, 0, 0, 0] };
    // Redeliver the newest distribution's view to `m` with the byte at `at` flipped.
    let flipped = |m: u8, at: u16, mask: u8| -> Vec<u8> {
        let [hi, lo] = at.to_be_bytes();
        vec![with(REDELIVER, m), 0, 4, hi, lo, mask]
    };
    let any = |m: u8, pick: u8| -> Vec<u8> { vec![with(ANY, m), pick] };
    let tamper = |m: u8, pick: u8, mode: u8, at: u8, mask: u8| -> Vec<u8> {
        vec![with(TAMPER, m), pick, mode, at, mask]
    };
    let all = 0x0f;
    let program = |parts: &[&[u8]]| parts.concat();
    vec![
        (
            "create_and_chat",
            program(&[
                &distribute(A, all),
                &flush,
                &seal(A, b"hello all"),
                &seal(B, b"hi"),
                &seal(C, b""),
                &flush,
                &any(D, 0),
            ]),
        ),
        (
            "remove_member",
            program(&[
                &distribute(A, all),
                &flush,
                &seal(C, b"before"),
                &distribute(A, 0b1011),
                &flush,
                &seal(A, b"after Carol left"),
                &flush,
                &any(C, 0),
                &seal(C, b"still talking?"),
                &flush,
            ]),
        ),
        (
            "add_member",
            program(&[
                &distribute(B, 0b0011),
                &flush,
                &seal(A, b"just us"),
                &flush,
                &distribute(B, 0b1011),
                &flush,
                &any(D, 1),
                &seal(D, b"I am new"),
                &flush,
            ]),
        ),
        (
            "messages_before_epoch",
            program(&[
                &distribute(A, all),
                &[with(PROCESS, 0)],
                &seal(B, b"early"),
                &[with(OPEN, 1), with(OPEN, 1)],
                &flush,
            ]),
        ),
        (
            "reorder_and_duplicates",
            program(&[
                &distribute(A, 0b0011),
                &flush,
                &seal(A, b"1"),
                &seal(A, b"2"),
                &seal(A, b"3"),
                &[with(OPEN, 2), with(OPEN, 0), with(DROP_MESSAGE, 0)],
                &any(B, 0),
                &any(B, 2),
                &any(A, 0),
            ]),
        ),
        (
            "distribution_faults",
            program(&[
                &distribute(A, all),
                &[with(PROCESS, 0), with(DROP_DISTRIBUTION, 0)],
                &redeliver(B, 0, 0),
                &redeliver(C, 0, 1),
                &redeliver(D, 0, 2),
                &redeliver(D, 0, 3),
                &flipped(D, 2, 1),
                &flipped(D, 26, 2),
                &flipped(D, 26, 1),
                &flipped(D, 30, 1),
                &flipped(D, 100, 0x80),
                &flipped(D, 700, 0x01),
                &flipped(D, 1000, 0x01),
                &distribute(B, 0b0110),
                &redeliver(D, 0, 0),
                &flush,
            ]),
        ),
        (
            "tampered_messages",
            program(&[
                &distribute(A, 0b0011),
                &flush,
                &seal(A, b"original"),
                &tamper(B, 0, 0, 120, 1),
                &tamper(B, 0, 0, 0, 2),
                &tamper(B, 0, 0, 7, 1),
                &tamper(B, 0, 1, 50, 1),
                &tamper(B, 0, 1, 110, 4),
                &tamper(B, 0, 2, 0, 0),
                &tamper(B, 0, 3, 0, 0),
                &tamper(B, 0, 4, 30, 0),
                &tamper(B, 0, 0, 1, 3),
                &flush,
            ]),
        ),
        (
            "own_and_strangers",
            program(&[
                &distribute(A, 0b0111),
                &flush,
                &seal(A, b"x"),
                &any(A, 0),
                &any(D, 0),
                &distribute(D, 0b1000),
                &seal(D, b"alone"),
                &any(A, 0),
            ]),
        ),
        (
            "grace_expiry",
            program(&[
                &distribute(A, all),
                &flush,
                &seal(B, b"old epoch"),
                &distribute(A, all),
                &[with(PROCESS, 0), with(PROCESS, 0), with(PROCESS, 0)],
                &[with(ADVANCE, 6)],
                &[with(OPEN, 0), with(OPEN, 0), with(OPEN, 0)],
                &[with(ADVANCE, 11)],
                &any(A, 0),
                &[with(EXPIRE, A), with(EXPIRE, C)],
                &any(A, 0),
                &any(D, 0),
            ]),
        ),
        (
            "grace_by_count",
            program(&[
                &distribute(A, all),
                &flush,
                &seal(D, b"e1"),
                &distribute(A, all),
                &flush,
                &distribute(A, all),
                &flush,
                &flush,
                &any(C, 0),
            ]),
        ),
        (
            "fork",
            program(&[
                &distribute(A, all),
                &flush,
                &distribute(A, all),
                &distribute(D, all),
                &flush,
                &seal(A, b"fork a"),
                &seal(D, b"fork d"),
                &flush,
            ]),
        ),
        (
            "fork_other_roster",
            program(&[
                &distribute(A, all),
                &flush,
                &distribute(A, 0b0111),
                &distribute(D, 0b1011),
                &flush,
                &seal(A, b"fork a"),
                &seal(D, b"fork d"),
                &flush,
            ]),
        ),
        (
            "restore_member",
            program(&[
                &distribute(A, 0b0011),
                &flush,
                &[with(SAVE, B)],
                &seal(A, b"one"),
                &seal(B, b"two"),
                &flush,
                &[with(RESTORE, B)],
                &any(B, 1),
                &seal(B, b"three"),
                &flush,
                &distribute(A, 0b0011),
                &flush,
                &[with(RESTORE, B)],
                &redeliver(B, 0, 0),
            ]),
        ),
        (
            "reload_everyone",
            program(&[
                &distribute(C, all),
                &[with(RELOAD, A), with(RELOAD, B)],
                &flush,
                &[with(RELOAD, C), with(RELOAD, D)],
                &seal(D, b"after reload"),
                &flush,
            ]),
        ),
        (
            "too_old_and_exhausted",
            program(&[
                &distribute(A, 0b0011),
                &flush,
                &seal(A, b"0"),
                &[with(JUMP, A | 1 << 2), 1],
                &seal(A, b"1024"),
                &[with(OPEN, 1), with(OPEN, 0)],
                &[with(JUMP, B | 3 << 2), 0],
                &seal(B, b"last"),
                &seal(B, b"none"),
                &flush,
                &[with(SEAL, C), 0, 0],
            ]),
        ),
    ]
}
