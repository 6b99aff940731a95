//! Fuzz target: a group of Alice, Bob, Carol and Dave with a server
//! (SPEC.md §8), run as a program of actions read from the input and checked
//! step by step against a model of every member, the server and every epoch
//! version ever signed.
//!
//! A fixture is built once, deterministically (ChaCha20 seed `[0x43; 32]`):
//! devices `alice`/1, `bob`/2, `carol`/3, `dave`/4 with one sealing key each,
//! valid from `T0` for 30 days (fixed for the run), and one one-time key for
//! each other member; a pairwise `Session` (LS3 ratchet, SPEC.md §7) from
//! every member to every other, offering the peer's one-time key meant for
//! it, with no message yet; and each member's empty `Group` (group id
//! `conversation`) with its own grace policy: Alice the default (one
//! superseded epoch, one day), Bob none kept, Carol two for an hour, Dave one
//! with no time limit. Each input starts from these (groups as JSON, sessions
//! and device keys as sealed blobs under a fixed storage key, imported
//! afresh); the clock starts at `T0 + 600`; randomness comes from a ChaCha20
//! generator with a fixed seed.
//!
//! A wrap is a message of the distributor's pairwise session with the member
//! (SPEC.md §8.4), so sessions are stateful: each wrap uses up a chain key
//! (a second opening is a `Replay`), the first one of a session start uses up
//! the one-time key it names, and two members may start sessions with each
//! other at once. The wraps a member gets from one distributor that pass the
//! group checks reach its session in the order they were sealed (a later
//! version builds on the earlier one), so the model predicts a genuine wrap
//! to open — unless the keys have expired: after `T0 + 30 days + 300 s`
//! (`EXPIRY_SKEW_SECONDS`) no wrap can be sealed (`propose` with another
//! member: `Wrap(LocalKeyExpired)`) or opened (`process`:
//! `WrapRejected(PeerKeyExpired)`), while group messages go on.
//!
//! Input: a sequence of actions (at most [`MAX_ACTIONS`]); missing parameter
//! bytes read as 0. Each action is one byte, `kind` in its low nibble and a
//! parameter `hi` in its high nibble; `m = hi & 3` names a member:
//!
//! | kind | action |
//! |---|---|
//! | 0 | `m` proposes: the next byte's low nibble adds members to the roster (`m` is always in it); policy `(hi >> 2) & 3`: keep, any member, admins {m}, admins {m, the next member} |
//! | 1 | the server checks `m`'s pending upload against its record; if accepted it stores the new record and queues a view for every member of the new roster (the distributor's own view too) |
//! | 2 | `m` commits its pending proposal if the server accepted it, else aborts it |
//! | 3 | deliver the queued view at index `hi mod len` (0: oldest); 4: drop it |
//! | 5 | `m` seals: a byte (associated data mod 3, content type), a length byte (mod 65) and that many plaintext bytes; the message is queued for the other members of `m`'s current roster |
//! | 6 | deliver the queued message at index `hi mod len`; 7: drop it |
//! | 8 | redeliver a view (a byte picks one, newest first) to member `m`: a mode byte (mod 5): as queued, with the full roster, with another member's wrap, with a byte flipped (position: next two bytes, mask: the byte after), or spliced: with `m`'s wrap of another version by the same distributor (one its session already opened: a replay; one sealed later; one of another wrap context) |
//! | 9 | deliver a message (a byte picks it) to `m` again or tampered: a mode byte (as sent; flip a byte; flip a signed byte and re-sign as the sender; re-sign by another member; wrong associated data; truncate), a position and a mask byte |
//! | 10 | `m` misbehaves (signs with the public building blocks on its current epoch, or with bit 6 of the next byte on the server's, as an outsider would; the byte's low bits pick the kind, bits 2–5 a target): secrets split (the target's wrap holds another secret than the confirmed one; with bit 7, it is no group key but a `Text` message), a change its policy forbids (the target removed), an epoch jump (+2, or to `2^64 − 1` with bit 7), or an admin set naming nobody in the roster. Its wraps are sealed in its real sessions (after the keys expired: `LocalKeyExpired`, nothing signed). The server checks it against its record; a hostile server forwards it to the roster anyway |
//! | 11 | a hostile server accepts `m`'s pending upload as another version of its epoch (against the record it was built on, leaving its own record alone) and fans it out: a fork |
//! | 12 | reload `m`: its group, sessions and device keys through sealed blobs (export, import at the blob's generation) |
//! | 13 | advance the clock by one of 16 steps (1 s to 7 days) |
//! | 14 | `m` calls `expire(now)` on its group and its sessions |
//! | 15 | deliver every queued view, then every queued message, oldest first |
//!
//! The model knows every *version* of an epoch ever signed: its number, the
//! version it builds on, roster, policy, distributor, and whether one
//! member's wrap is bad (another secret, or no group key). Checks (a
//! violation panics):
//!
//! - no call into the library panics;
//! - `propose` gives exactly the model's result (`ProposalPending`,
//!   `EpochExhausted`, `NotPreviousMember`, `NoAdminMember`, `NotPermitted`
//!   under the policy rules of SPEC.md §8.2, `Wrap(LocalKeyExpired)`, else a
//!   proposal with the expected change); the
//!   server's check of every upload gives exactly the model's result
//!   (`StaleEpoch`, `EpochGap`, `ForkedHistory`, `NotPreviousMember`,
//!   `NoAdminMember`, `NotPermitted`, else accepted); `commit`/`abort`;
//! - `process` gives exactly the model's result (SPEC.md §8.7):
//!   `AlreadyProcessed`, `ConflictingEpoch`, `StaleEpoch`, `EpochGap`,
//!   `ForkedHistory`, `Committed` / `NotPending` for the member's own
//!   distribution, `NotPreviousMember`, `DeltaWithoutBase`, `NoAdminMember`,
//!   `NotPermitted`, `NotAMember`, `WrapRejected(PeerKeyExpired)`,
//!   `ConfirmationMismatch`, `InvalidWrap`, else `Installed` with the
//!   expected change and whether a pending proposal was discarded; a view
//!   with another member's wrap, a spliced wrap or a byte flipped never
//!   installs; an installed wrap moves on the session with its distributor
//!   and no other, and uses up at most the one-time key offered to that
//!   distributor; the member's own echo and `AlreadyProcessed` change no
//!   session and no key;
//! - `seal` and `open` give exactly the model's result (SPEC.md §8.9):
//!   `NoEpoch`, `NotAMember`; `UnknownEpoch`, `EpochExpired`,
//!   `UnknownSender`, `OwnMessage`, `SenderRemoved` (grace only for members
//!   still in the current roster), `ForkedEpoch` (a sender's message of
//!   another version of the epoch), `Replay`/`TooOld`, else the right
//!   sender, epoch, content, counter and gap report; a tampered or forged
//!   message never opens. The model of a sender's chain is its replay window
//!   alone: a program seals at most [`MAX_ACTIONS`] messages, so no message
//!   skips more than `MAX_GROUP_SKIP` counters, no epoch stores more than
//!   `MAX_GROUP_SKIPPED` skipped secrets and no counter falls below a window
//!   (`TooManySkipped` and `TooOld` are unreachable here, asserted at
//!   compile time beside `MAX_ACTIONS`): every counter below a sender's
//!   highest opened one that was not opened has a stored secret and opens
//!   late. The caps and `TooOld` are the `group_open` target's (its state S1
//!   holds 1 999 skipped secrets);
//! - **agreement**: after every action each member's current transcript is
//!   the transcript of the version the model says it holds, so two members
//!   hold the same transcript exactly when they hold the same version — a
//!   split secret is never installed, and a fork is never mistaken for
//!   agreement;
//! - every failed `propose` or `process` leaves the member's group, sessions
//!   and device keys byte-identical (JSON, and the payloads of fresh
//!   exports), every failed `seal` or `open` its group; after every action
//!   each member's current epoch, openable epochs and pending epoch equal the
//!   model's; a reload through blobs gives the same state.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/group_conversation.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`. The seeds
//! in `fuzz/corpus/group_conversation/` are programs written by `seeds`
//! below (`cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored
//! regenerate_conversation_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use letterseal::device::{DEVICE_BLOB_VERSION, DeviceKeys};
use letterseal::group::{
    CoreFields, Distribution, EpochChange, EpochSecret, GracePolicy, Group, GroupError, GroupId,
    GroupOpenError, GroupSealError, MAX_GROUP_SKIP, MAX_GROUP_SKIPPED, Processed, Roster,
    RosterPolicy, RosterSection, ServerRecord, Transcript, wrap_context, wrap_list_hash,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{SIGNATURE_LEN, SealingKeyId};
use letterseal::labels;
use letterseal::pairwise::{
    ContentType, EXPIRY_SKEW_SECONDS, OpenError, SESSION_BLOB_VERSION, SealError, Session,
    WINDOW_SIZE,
};
use letterseal::registration::{
    ExpectedOwner, NoDirectory, RegistrationPolicy, VerifiedBundle, VerifiedOneTimeKey,
};
use letterseal::state::{StateKind, StorageKey};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::fixture::{DAY, T0, payload};

// ---- fixture ----------------------------------------------------------------

const HOUR: u64 = 3_600;
const GROUP_ID: &[u8] = b"conversation";
/// Every member's sealing key is valid from `T0` for this long.
const KEY_LIFETIME: u64 = 30 * DAY;
/// From this time on every sealing key is expired (SPEC.md §7.8): no wrap
/// can be sealed or opened any more.
const KEYS_EXPIRE_AT: u64 = T0 + KEY_LIFETIME + EXPIRY_SKEW_SECONDS;
/// The one-time keys' lifetime (the target never calls `DeviceKeys::expire`,
/// so unused ones stay usable).
const ONE_TIME_LIFETIME: u64 = KEY_LIFETIME;
/// Members, in roster (address) order.
const NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];
const MEMBERS: usize = NAMES.len();
/// The associated-data variants.
const ASSOCIATED_DATA: [&[u8]; 3] = [b"", b"chat 42", b"chat 43"];
/// Actions run per input at most.
const MAX_ACTIONS: usize = 96;
// A program cannot reach `TooManySkipped` or `TooOld` (module doc): each
// seal is one action, so a sender's counters in an epoch stay below
// `MAX_ACTIONS`.
const _: () = assert!(
    (MAX_ACTIONS as u64) <= MAX_GROUP_SKIP
        && MAX_ACTIONS <= MAX_GROUP_SKIPPED
        && (MAX_ACTIONS as u64) < WINDOW_SIZE
);
/// Longest plaintext an action seals.
const MAX_PLAINTEXT: usize = 64;
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
    /// The devices as generated: their identity keys sign what hostile
    /// members forge. Each input imports its own copies from `device_blobs`.
    devices: Vec<DeviceKeys>,
    bundles: Vec<VerifiedBundle>,
    addresses: Vec<DeviceAddress>,
    /// `offered[m][p]`: the id of `m`'s one-time key that `p`'s session
    /// with `m` offers (`None` for `p = m`).
    offered: Vec<Vec<Option<SealingKeyId>>>,
    /// Each member's empty group state (JSON).
    groups: Vec<Vec<u8>>,
    /// Each member's sessions with every other and its device keys, sealed
    /// under `storage`.
    sessions: Vec<Vec<Vec<u8>>>,
    device_blobs: Vec<Vec<u8>>,
    storage: StorageKey,
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
    let storage = StorageKey::from_bytes([0x5e; 32]);
    let (mut devices, mut bundles, mut addresses) = (Vec::new(), Vec::new(), Vec::new());
    for (i, name) in NAMES.iter().enumerate() {
        let address = DeviceAddress::new(
            UserId::new(name).expect("user id"),
            DeviceId::new(u32::try_from(i + 1).expect("device id")),
        );
        let mut device = DeviceKeys::generate(&mut rng, address.clone());
        let bundle = device
            .add_sealing_key(&mut rng, t0, KEY_LIFETIME)
            .verify(
                &ExpectedOwner::Device(address.clone()),
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
    // One one-time key of each member for each other member's first session
    // start: `one_time[m][p]` is `m`'s key offered to `p`.
    let mut one_time: Vec<Vec<Option<VerifiedOneTimeKey>>> = Vec::new();
    for (m, device) in devices.iter_mut().enumerate() {
        let mut keys = device
            .add_one_time_keys(&mut rng, MEMBERS - 1, t0, ONE_TIME_LIFETIME)
            .into_iter();
        let row = (0..MEMBERS)
            .map(|p| {
                (p != m).then(|| {
                    keys.next()
                        .expect("a one-time key per peer")
                        .verify(
                            &ExpectedOwner::Device(addresses[m].clone()),
                            &RegistrationPolicy::default(),
                            t0,
                            None,
                            &NoDirectory,
                        )
                        .expect("fixture one-time key verifies")
                })
            })
            .collect();
        one_time.push(row);
    }
    let offered = one_time
        .iter()
        .map(|row| row.iter().map(|k| k.as_ref().map(|k| k.key_id())).collect())
        .collect();
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
                .filter(|&p| p != m)
                .map(|p| {
                    let offer = one_time[p][m].as_ref().expect("offered to m");
                    Session::new(&devices[m], &bundles[p])
                        .expect("session")
                        .with_one_time_key(offer)
                        .expect("the peer's one-time key")
                        .export(&mut rng, &storage)
                        .expect("export")
                        .into_bytes()
                })
                .collect()
        })
        .collect();
    let device_blobs = devices
        .iter_mut()
        .map(|d| d.export(&mut rng, &storage).expect("export").into_bytes())
        .collect();
    Fixture {
        group_id,
        devices,
        bundles,
        addresses,
        offered,
        groups,
        sessions,
        device_blobs,
        storage,
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

/// The model of a replay window (SPEC.md §7.5).
#[derive(Clone, Default)]
struct Window {
    highest: Option<u64>,
    accepted: BTreeSet<u64>,
}

impl Window {
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

/// Who may change the roster: any member, admins (member indexes = users),
/// or admins naming nobody a member.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Policy {
    Any,
    Admins(BTreeSet<usize>),
    Nobody,
}

impl Policy {
    fn is_admin(&self, m: usize) -> bool {
        match self {
            Self::Any => true,
            Self::Admins(set) => set.contains(&m),
            Self::Nobody => false,
        }
    }

    fn has_admin_member(&self, roster: &[usize]) -> bool {
        match self {
            Self::Any => true,
            Self::Admins(set) => roster.iter().any(|m| set.contains(m)),
            Self::Nobody => false,
        }
    }

    fn real(&self) -> RosterPolicy {
        match self {
            Self::Any => RosterPolicy::any_member(),
            Self::Admins(set) => {
                RosterPolicy::admins(set.iter().map(|&m| UserId::new(NAMES[m]).unwrap())).unwrap()
            }
            Self::Nobody => RosterPolicy::admins([UserId::new("nobody").unwrap()]).unwrap(),
        }
    }
}

/// SPEC.md §8.2's permission rule; every user has one device whose keys never
/// change, so a non-admin may only rotate.
fn permitted(
    base: Option<(&Policy, &[usize])>,
    policy: &Policy,
    roster: &[usize],
    distributor: usize,
) -> bool {
    match base {
        None => policy.is_admin(distributor),
        Some((old_policy, old_roster)) => {
            old_policy.is_admin(distributor) || (policy == old_policy && roster == old_roster)
        }
    }
}

/// How a hostile distributor's wrap for one member is bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BadWrap {
    /// A group key, but another secret than the confirmed one (split secrets).
    OtherSecret,
    /// A pairwise message of another content type (SPEC.md §8.4).
    NotAKey,
}

/// One signed version of an epoch.
struct Version {
    epoch: u64,
    /// The version it builds on (`None`: epoch 1, or a forged base).
    parent: Option<usize>,
    /// Member indexes, ascending.
    roster: Vec<usize>,
    policy: Policy,
    distributor: usize,
    /// The member whose wrap is bad, and how.
    bad_wrap: Option<(usize, BadWrap)>,
    upload: Distribution,
    transcript: Transcript,
}

/// An epoch a member holds.
#[derive(Clone)]
struct Held {
    version: usize,
    superseded_at: Option<u64>,
    next_counter: u64,
    windows: BTreeMap<usize, Window>,
}

/// What one member's state should hold.
#[derive(Clone, Default)]
struct Model {
    /// Ascending by epoch; the last is current.
    held: Vec<Held>,
    /// The version of the pending proposal.
    pending: Option<usize>,
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

    fn expire(&mut self, grace: GracePolicy, now: u64) {
        let keep = usize::try_from(grace.previous_epochs).unwrap_or(usize::MAX);
        let excess = self.held.len().saturating_sub(keep.saturating_add(1));
        self.held.drain(..excess);
        self.held.retain(|h| !expired(h, grace, now));
    }

    fn install(&mut self, version: usize, grace: GracePolicy, now: u64) {
        if let Some(last) = self.held.last_mut() {
            last.superseded_at = Some(now);
        }
        self.held.push(Held {
            version,
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
    device: DeviceKeys,
    model: Model,
    /// The server accepted the pending proposal.
    accepted: bool,
}

/// What a member's state holds, byte for byte: its group's JSON, and the
/// payloads of fresh exports of its sessions (by peer) and device keys.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Print {
    group: Vec<u8>,
    sessions: BTreeMap<DeviceAddress, Vec<u8>>,
    device: Vec<u8>,
}

impl Member {
    fn load(fx: &Fixture, m: usize) -> Self {
        let sessions = fx.sessions[m]
            .iter()
            .map(|blob| {
                let s = Session::import(&fx.storage, blob, 0).expect("a saved session imports");
                (s.peer().clone(), s)
            })
            .collect();
        Self {
            group: load(&fx.groups[m]),
            sessions,
            device: DeviceKeys::import(&fx.storage, &fx.device_blobs[m], 0)
                .expect("saved keys import"),
            model: Model::default(),
            accepted: false,
        }
    }

    fn print(&mut self, key: &StorageKey) -> Print {
        let mut rng = ChaCha20Rng::from_seed([0x70; 32]);
        let sessions = self
            .sessions
            .iter_mut()
            .map(|(peer, s)| {
                let blob = s.export(&mut rng, key).expect("a session exports");
                let bytes = payload(
                    StateKind::Session,
                    SESSION_BLOB_VERSION,
                    key,
                    blob.as_bytes(),
                );
                (peer.clone(), bytes)
            })
            .collect();
        let device = self.device.export(&mut rng, key).expect("keys export");
        Print {
            group: save(&self.group),
            sessions,
            device: payload(
                StateKind::DeviceKeys,
                DEVICE_BLOB_VERSION,
                key,
                device.as_bytes(),
            ),
        }
    }

    fn one_time_keys(&self) -> BTreeSet<SealingKeyId> {
        self.device.one_time_key_ids().copied().collect()
    }
}

/// A group message as sealed.
struct Sent {
    sender: usize,
    version: usize,
    counter: u64,
    ad: usize,
    content_type: ContentType,
    plaintext: Vec<u8>,
    sealed: Vec<u8>,
}

/// A view the server fanned out (or a hostile server forwarded).
struct Queued {
    version: usize,
    to: usize,
    view: Distribution,
}

/// The server: its record, and every record it ever stored, by version.
#[derive(Default)]
struct Server {
    current: Option<usize>,
    records: BTreeMap<usize, ServerRecord>,
}

// ---- the simulation -----------------------------------------------------------

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

fn refusal(refusal: Refusal, counter: u64) -> GroupOpenError {
    match refusal {
        Refusal::Replay => GroupOpenError::Replay { counter },
        Refusal::TooOld => GroupOpenError::TooOld { counter },
    }
}

struct Sim<'a> {
    fx: &'static Fixture,
    input: Input<'a>,
    rng: ChaCha20Rng,
    now: u64,
    members: Vec<Member>,
    versions: Vec<Version>,
    server: Server,
    msgs: Vec<Sent>,
    views: Vec<Queued>,
    pending_views: Vec<usize>,
    pending_msgs: Vec<(usize, usize)>,
    trace: Option<BTreeSet<String>>,
}

impl<'a> Sim<'a> {
    fn new(data: &'a [u8], trace: bool) -> Self {
        let fx = fixture();
        let members = (0..MEMBERS).map(|m| Member::load(fx, m)).collect();
        Self {
            fx,
            input: Input { data, pos: 0 },
            rng: ChaCha20Rng::from_seed([0x64; 32]),
            now: T0 + 600,
            members,
            versions: Vec::new(),
            server: Server::default(),
            msgs: Vec::new(),
            views: Vec::new(),
            pending_views: Vec::new(),
            pending_msgs: Vec::new(),
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

    /// Every sealing key is past its validity (they all share one window).
    fn keys_expired(&self) -> bool {
        self.now >= KEYS_EXPIRE_AT
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
        match kind {
            0 => {
                let bits = self.input.byte();
                self.propose(m, bits, (hi >> 2) & 3);
            }
            1 => self.upload(m),
            2 => self.commit_or_abort(m),
            3 | 4 => {
                if self.pending_views.is_empty() {
                    return;
                }
                let i = usize::from(hi) % self.pending_views.len();
                let q = self.pending_views.remove(i);
                if kind == 3 {
                    let to = self.views[q].to;
                    let view = self.views[q].view.clone();
                    self.process(q, to, &view, true, "process");
                } else {
                    self.note(|| "drop view".into());
                }
            }
            5 => {
                let b = self.input.byte();
                let len = usize::from(self.input.byte()) % (MAX_PLAINTEXT + 1);
                let plaintext = self.input.bytes(len);
                let ad = usize::from(b) % ASSOCIATED_DATA.len();
                self.seal(m, ad, content_type(b >> 2), plaintext);
            }
            6 | 7 => {
                if self.pending_msgs.is_empty() {
                    return;
                }
                let i = usize::from(hi) % self.pending_msgs.len();
                let (g, to) = self.pending_msgs.remove(i);
                if kind == 6 {
                    self.open(g, to, "open");
                } else {
                    self.note(|| "drop message".into());
                }
            }
            8 => {
                let (pick, mode) = (self.input.byte(), self.input.byte());
                let at = u16::from_be_bytes([self.input.byte(), self.input.byte()]);
                let mask = self.input.byte();
                self.redeliver(m, pick, mode, at, mask);
            }
            9 => {
                let (pick, mode) = (self.input.byte(), self.input.byte());
                let (at, mask) = (self.input.byte(), self.input.byte());
                let n = self.msgs.len();
                if n > 0 {
                    self.tamper(n - 1 - usize::from(pick) % n, m, mode, at, mask);
                }
            }
            10 => {
                let b = self.input.byte();
                self.misbehave(m, b);
            }
            11 => self.fork(m),
            12 => self.reload(m),
            13 => self.now = self.now.saturating_add(STEPS[usize::from(hi)]),
            14 => {
                let now = self.now;
                let member = &mut self.members[m];
                member.group.expire(Timestamp::from_unix_seconds(now));
                member.model.expire(grace(m), now);
                // Stored skipped wrap secrets are never needed (a member's
                // wraps from one distributor reach its session in the order
                // they were sealed), so deleting old ones changes no outcome.
                for session in member.sessions.values_mut() {
                    session.expire(Timestamp::from_unix_seconds(now));
                }
                self.note(|| "expire".into());
            }
            _ => {
                for q in std::mem::take(&mut self.pending_views) {
                    let to = self.views[q].to;
                    let view = self.views[q].view.clone();
                    self.process(q, to, &view, true, "process");
                }
                for (g, to) in std::mem::take(&mut self.pending_msgs) {
                    self.open(g, to, "open");
                }
            }
        }
    }

    /// After every action: the states agree with the model, and members
    /// agree with each other exactly when the model says they hold the same
    /// version.
    fn sync(&self) {
        for (m, member) in self.members.iter().enumerate() {
            let who = NAMES[m];
            let model = &member.model;
            assert_eq!(
                member.group.current_epoch(),
                model.current().map(|h| self.versions[h.version].epoch),
                "{who}: current epoch"
            );
            let held: Vec<u64> = model
                .held
                .iter()
                .map(|h| self.versions[h.version].epoch)
                .collect();
            assert_eq!(
                member.group.openable_epochs(),
                held,
                "{who}: openable epochs"
            );
            assert_eq!(
                member.group.pending_epoch(),
                model.pending.map(|v| self.versions[v].epoch),
                "{who}: pending epoch"
            );
            // Agreement: the transcript is the held version's.
            assert_eq!(
                member.group.transcript(),
                model
                    .current()
                    .map(|h| &self.versions[h.version].transcript),
                "{who}: AGREEMENT: holds another history than the model"
            );
        }
    }

    fn roster_of(&self, v: usize) -> &[usize] {
        &self.versions[v].roster
    }

    fn current_version(&self, m: usize) -> Option<usize> {
        self.members[m].model.current().map(|h| h.version)
    }

    fn expected_change(&self, base: Option<usize>, v: usize) -> EpochChange {
        let version = &self.versions[v];
        let addresses = |list: Vec<usize>| -> Vec<DeviceAddress> {
            list.into_iter()
                .map(|i| self.fx.addresses[i].clone())
                .collect()
        };
        match base {
            None => EpochChange {
                epoch: version.epoch,
                distributor: self.fx.addresses[version.distributor].clone(),
                first_epoch: true,
                joined: Vec::new(),
                left: Vec::new(),
                rekeyed: Vec::new(),
            },
            Some(b) => {
                let old = self.roster_of(b);
                EpochChange {
                    epoch: version.epoch,
                    distributor: self.fx.addresses[version.distributor].clone(),
                    first_epoch: false,
                    joined: addresses(
                        version
                            .roster
                            .iter()
                            .copied()
                            .filter(|i| !old.contains(i))
                            .collect(),
                    ),
                    left: addresses(
                        old.iter()
                            .copied()
                            .filter(|i| !version.roster.contains(i))
                            .collect(),
                    ),
                    rekeyed: Vec::new(),
                }
            }
        }
    }

    fn propose(&mut self, m: usize, bits: u8, policy_choice: u8) {
        let fx = self.fx;
        let roster: Vec<usize> = (0..MEMBERS)
            .filter(|&i| i == m || bits >> i & 1 == 1)
            .collect();
        let bundles: Vec<VerifiedBundle> = roster.iter().map(|&i| fx.bundles[i].clone()).collect();
        let current = self.current_version(m);
        let (policy_arg, policy) = match policy_choice {
            0 => (
                None,
                current.map_or(Policy::Any, |c| self.versions[c].policy.clone()),
            ),
            1 => (Some(Policy::Any), Policy::Any),
            2 => {
                let p = Policy::Admins(BTreeSet::from([m]));
                (Some(p.clone()), p)
            }
            _ => {
                let p = Policy::Admins(BTreeSet::from([m, (m + 1) % MEMBERS]));
                (Some(p.clone()), p)
            }
        };
        let epoch = current.map_or(Some(1), |c| self.versions[c].epoch.checked_add(1));
        let candidate = |sim: &Self| -> Result<(), GroupError> {
            if sim.members[m].model.pending.is_some() {
                return Err(GroupError::ProposalPending);
            }
            if epoch.is_none() {
                return Err(GroupError::EpochExhausted);
            }
            if let Some(c) = current
                && !sim.roster_of(c).contains(&m)
            {
                return Err(GroupError::NotPreviousMember);
            }
            if !policy.has_admin_member(&roster) {
                return Err(GroupError::NoAdminMember);
            }
            let base = current.map(|c| (&sim.versions[c].policy, sim.roster_of(c)));
            if !permitted(base, &policy, &roster, m) {
                return Err(GroupError::NotPermitted);
            }
            // Each other member's wrap is sealed in the pairwise session with
            // it: not with an expired sealing key (all expire together, so the
            // first wrap fails and nothing changes).
            if roster.len() > 1 && sim.keys_expired() {
                return Err(GroupError::Wrap(SealError::LocalKeyExpired(
                    fx.bundles[m].sealing_key_id(),
                )));
            }
            Ok(())
        };
        let expected = candidate(self);
        let now = self.now();
        let storage = &fx.storage;
        let member = &mut self.members[m];
        let before = member.print(storage);
        let result = member.group.propose(
            &mut self.rng,
            &member.device,
            &bundles,
            policy_arg.as_ref().map(Policy::real),
            &mut member.sessions,
            now,
        );
        match (result, expected) {
            (Ok(proposal), Ok(())) => {
                let transcript = proposal.upload.core().transcript();
                let v = self.versions.len();
                self.versions.push(Version {
                    epoch: epoch.expect("a next epoch"),
                    parent: current,
                    roster,
                    policy,
                    distributor: m,
                    bad_wrap: None,
                    upload: proposal.upload.clone(),
                    transcript,
                });
                assert_eq!(
                    proposal.change,
                    self.expected_change(current, v),
                    "{}: change of a proposal",
                    NAMES[m]
                );
                assert_eq!(
                    Distribution::decode(&proposal.upload.encode()).expect("an upload decodes"),
                    proposal.upload
                );
                let member = &mut self.members[m];
                member.model.pending = Some(v);
                member.accepted = false;
                self.note(|| "propose Ok".into());
            }
            (Err(err), Err(want)) if err == want => {
                assert_eq!(
                    self.members[m].print(storage),
                    before,
                    "{}: a refused proposal ({err:?}) changed the state",
                    NAMES[m]
                );
                self.note(|| format!("propose {}", err.name()));
            }
            (got, want) => panic!(
                "{}: propose gave {:?}, expected {want:?}",
                NAMES[m],
                got.map(|p| p.change)
            ),
        }
    }

    /// The server's verdict on version `v` against its record `record` (SPEC.md §8.7).
    fn expect_server(&self, v: usize, record: Option<usize>) -> Result<(), GroupError> {
        let version = &self.versions[v];
        if version.epoch == 0 {
            return Err(GroupError::InvalidEpoch);
        }
        let base = match record {
            None => {
                if version.epoch != 1 {
                    return Err(GroupError::EpochGap);
                }
                None
            }
            Some(r) => {
                let rv = &self.versions[r];
                if version.epoch <= rv.epoch {
                    return Err(GroupError::StaleEpoch);
                }
                if rv.epoch.checked_add(1) != Some(version.epoch) {
                    return Err(GroupError::EpochGap);
                }
                if version.parent != Some(r) {
                    return Err(GroupError::ForkedHistory);
                }
                if !rv.roster.contains(&version.distributor) {
                    return Err(GroupError::NotPreviousMember);
                }
                Some(r)
            }
        };
        if !version.policy.has_admin_member(&version.roster) {
            return Err(GroupError::NoAdminMember);
        }
        let base = base.map(|b| (&self.versions[b].policy, self.roster_of(b)));
        if !permitted(base, &version.policy, &version.roster, version.distributor) {
            return Err(GroupError::NotPermitted);
        }
        Ok(())
    }

    /// The server checks version `v` against its record `record`; on
    /// success it fans out views (and, with `store`, keeps the new record).
    fn serve(&mut self, v: usize, record: Option<usize>, store: bool, how: &'static str) -> bool {
        let expected = self.expect_server(v, record);
        let stored = record.map(|r| self.server.records[&r].clone());
        let version = &self.versions[v];
        let uploader = self.fx.addresses[version.distributor].clone();
        let result = version.upload.verify_for_server(stored.as_ref(), &uploader);
        match (result, expected) {
            (Ok(verified), Ok(())) => {
                self.server.records.insert(v, verified.record());
                if store {
                    self.server.current = Some(v);
                }
                for &to in &self.versions[v].roster.clone() {
                    let view = verified
                        .view_for(&self.fx.addresses[to])
                        .expect("a view for every member");
                    self.views.push(Queued {
                        version: v,
                        to,
                        view,
                    });
                    self.pending_views.push(self.views.len() - 1);
                }
                self.note(|| format!("{how} Ok"));
                true
            }
            (Err(err), Err(want)) if err == want => {
                self.note(|| format!("{how} {}", err.name()));
                false
            }
            (got, want) => panic!(
                "server ({how}) gave {:?} for version {v}, expected {want:?}",
                got.map(|_| ())
            ),
        }
    }

    fn upload(&mut self, m: usize) {
        let Some(v) = self.members[m].model.pending else {
            return;
        };
        if self.members[m].accepted {
            return;
        }
        let record = self.server.current;
        if self.serve(v, record, true, "upload") {
            self.members[m].accepted = true;
        }
    }

    fn fork(&mut self, m: usize) {
        let Some(v) = self.members[m].model.pending else {
            return;
        };
        // The record the proposal builds on, if the server ever stored it.
        let base = self.versions[v].parent;
        if base.is_some_and(|b| !self.server.records.contains_key(&b)) {
            return;
        }
        if self.serve(v, base, false, "fork") {
            self.members[m].accepted = true;
        }
    }

    fn commit_or_abort(&mut self, m: usize) {
        let now = self.now;
        let Some(v) = self.members[m].model.pending else {
            let member = &mut self.members[m];
            assert_eq!(
                member.group.commit(Timestamp::from_unix_seconds(now)),
                Err(GroupError::NothingPending)
            );
            assert_eq!(member.group.abort(), Err(GroupError::NothingPending));
            self.note(|| "commit NothingPending".into());
            return;
        };
        if self.members[m].accepted {
            let base = self.current_version(m);
            let want = self.expected_change(base, v);
            let member = &mut self.members[m];
            let change = member
                .group
                .commit(Timestamp::from_unix_seconds(now))
                .expect("commit");
            assert_eq!(change, want, "{}: change of a commit", NAMES[m]);
            member.model.pending = None;
            member.model.install(v, grace(m), now);
            self.note(|| "commit".into());
        } else {
            let member = &mut self.members[m];
            assert_eq!(member.group.abort(), Ok(self.versions[v].epoch));
            member.model.pending = None;
            self.note(|| "abort".into());
        }
    }

    fn now_ts(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.now)
    }

    /// The model's result of `m` processing version `v` (SPEC.md §8.7);
    /// `delta`: the view carries a delta.
    fn expect_process(&self, m: usize, v: usize, delta: bool) -> Result<Processed, GroupError> {
        let version = &self.versions[v];
        let model = &self.members[m].model;
        if version.epoch == 0 {
            return Err(GroupError::InvalidEpoch);
        }
        if let Some(h) = model
            .held
            .iter()
            .find(|h| self.versions[h.version].epoch == version.epoch)
        {
            return if h.version == v {
                Ok(Processed::AlreadyProcessed {
                    epoch: version.epoch,
                })
            } else {
                Err(GroupError::ConflictingEpoch)
            };
        }
        let current = model.current().map(|h| h.version);
        if let Some(c) = current {
            let ce = self.versions[c].epoch;
            if version.epoch <= ce {
                return Err(GroupError::StaleEpoch);
            }
            if ce.checked_add(1) != Some(version.epoch) {
                return Err(GroupError::EpochGap);
            }
            if version.parent != Some(c) {
                return Err(GroupError::ForkedHistory);
            }
        }
        if version.distributor == m {
            return if model.pending == Some(v) {
                Ok(Processed::Committed(self.expected_change(current, v)))
            } else {
                Err(GroupError::NotPending)
            };
        }
        if let Some(c) = current
            && !self.roster_of(c).contains(&version.distributor)
        {
            return Err(GroupError::NotPreviousMember);
        }
        if current.is_none() && delta {
            return Err(GroupError::DeltaWithoutBase);
        }
        if !version.policy.has_admin_member(&version.roster) {
            return Err(GroupError::NoAdminMember);
        }
        if current.is_some() || version.epoch == 1 {
            let base = current.map(|c| (&self.versions[c].policy, self.roster_of(c)));
            if !permitted(base, &version.policy, &version.roster, version.distributor) {
                return Err(GroupError::NotPermitted);
            }
        }
        if !version.roster.contains(&m) {
            return Err(GroupError::NotAMember);
        }
        // The wrap reaches the session with the distributor. It opens: the
        // wraps a member gets from one distributor that pass the checks above
        // reach its session in the order they were sealed (a later one's
        // version builds on the earlier one's), and a failure changes
        // nothing. Unless the distributor's key has expired by now.
        if self.keys_expired() {
            return Err(GroupError::WrapRejected(OpenError::PeerKeyExpired(
                self.fx.bundles[version.distributor].sealing_key_id(),
            )));
        }
        match version.bad_wrap {
            Some((target, BadWrap::OtherSecret)) if target == m => {
                return Err(GroupError::ConfirmationMismatch);
            }
            Some((target, BadWrap::NotAKey)) if target == m => {
                return Err(GroupError::InvalidWrap);
            }
            _ => {}
        }
        Ok(Processed::Installed {
            change: self.expected_change(current, v),
            discarded_proposal: model.pending.is_some(),
        })
    }

    /// `m` processes `view` of version `v`; `genuine`: as made (else tampered,
    /// and it must not install).
    fn process(&mut self, q: usize, m: usize, view: &Distribution, genuine: bool, how: &str) {
        let fx = self.fx;
        let v = self.views[q].version;
        let delta = matches!(view.section(), RosterSection::Delta(_));
        let expected = genuine.then(|| self.expect_process(m, v, delta));
        let now = self.now;
        let member = &mut self.members[m];
        let before = member.print(&fx.storage);
        let keys_before = member.one_time_keys();
        let result = member.group.process(
            &mut member.device,
            view,
            &mut member.sessions,
            Timestamp::from_unix_seconds(now),
        );
        let who = NAMES[m];
        let outcome = match (&result, &expected) {
            (Ok(got), Some(Ok(want))) => {
                assert_eq!(got, want, "{who}: {how} of version {v}");
                Ok(got)
            }
            (Err(err), Some(Err(want))) if err == want => Err(err),
            (Err(err), None) => Err(err),
            (Ok(got), None) => {
                // A changed view may still be an exact view of the same core
                // (another roster form, or a byte flip that decodes to the
                // same distribution): the model's verdict for it must hold.
                let want = self.expect_process(m, v, delta);
                assert!(
                    want.as_ref() == Ok(got),
                    "FORGERY: {who}: a changed view of version {v} gave {got:?}, expected {want:?}"
                );
                self.note(|| format!("{how} changed but exact"));
                Ok(got)
            }
            (got, want) => panic!("{who}: {how} of version {v} gave {got:?}, expected {want:?}"),
        };
        let after = self.members[m].print(&fx.storage);
        match outcome {
            Err(err) => {
                // A failed process changes nothing: group, sessions, device.
                assert_eq!(
                    after, before,
                    "{who}: a refused distribution ({err:?}) changed the state"
                );
                self.note(|| format!("{how} {}", err.name()));
                if let GroupError::WrapRejected(e) = err {
                    self.note(|| format!("{how} WrapRejected {}", e.name()));
                }
            }
            Ok(got) => {
                let member = &mut self.members[m];
                match got {
                    Processed::Installed { .. } => {
                        member.model.pending = None;
                        member.accepted = false;
                        member.model.install(v, grace(m), now);
                        // Only the session with the distributor moved on (the
                        // wrap's chain key is used up), and the device lost at
                        // most the one-time key it offered that distributor.
                        let distributor = &fx.addresses[self.versions[v].distributor];
                        for (peer, bytes) in &after.sessions {
                            if peer == distributor {
                                assert_ne!(
                                    Some(bytes),
                                    before.sessions.get(peer),
                                    "{who}: an installed wrap left its session unchanged"
                                );
                            } else {
                                assert_eq!(
                                    Some(bytes),
                                    before.sessions.get(peer),
                                    "{who}: processing a wrap changed another session"
                                );
                            }
                        }
                        let keys_after = member.one_time_keys();
                        let used: Vec<&SealingKeyId> =
                            keys_before.difference(&keys_after).collect();
                        let offered = fx.offered[m][self.versions[v].distributor];
                        assert!(
                            keys_after.is_subset(&keys_before)
                                && used.iter().all(|id| Some(**id) == offered),
                            "{who}: processing a wrap used one-time keys {used:?}"
                        );
                        if used.is_empty() {
                            assert_eq!(after.device, before.device, "{who}: device changed");
                        }
                    }
                    Processed::Committed(_) => {
                        member.model.pending = None;
                        member.accepted = false;
                        member.model.install(v, grace(m), now);
                        assert_eq!(
                            (&after.sessions, &after.device),
                            (&before.sessions, &before.device),
                            "{who}: its own epoch's echo changed a session or the device"
                        );
                    }
                    _ => {
                        assert_eq!(after, before, "{who}: AlreadyProcessed changed the state");
                    }
                }
                if genuine {
                    let name = match got {
                        Processed::Installed {
                            discarded_proposal: true,
                            ..
                        } => "Installed discarding",
                        Processed::Installed { .. } => "Installed",
                        Processed::Committed(_) => "Committed",
                        _ => "AlreadyProcessed",
                    };
                    self.note(|| format!("{how} {name}"));
                }
            }
        }
    }

    fn redeliver(&mut self, m: usize, pick: u8, mode: u8, at: u16, mask: u8) {
        let n = self.views.len();
        if n == 0 {
            return;
        }
        let q = n - 1 - usize::from(pick) % n;
        let fx = self.fx;
        let v = self.views[q].version;
        let queued = self.views[q].view.clone();
        let version = &self.versions[v];
        let roster =
            Roster::from_bundles(version.roster.iter().map(|&i| &fx.bundles[i])).expect("roster");
        let full = |wrap_of: usize| -> Distribution {
            let upload = &version.upload;
            Distribution::new(
                upload.core().clone(),
                *upload.signature(),
                RosterSection::Full(roster.clone()),
                self.wrap_of(v, wrap_of),
            )
            .expect("valid wraps")
        };
        match mode % 5 {
            0 => {
                let genuine = self.views[q].to == m;
                self.process(q, m, &queued, genuine, "redeliver");
            }
            1 => {
                let view = full(m);
                self.process(q, m, &view, true, "redeliver full");
            }
            2 => {
                let others: Vec<usize> = version
                    .roster
                    .iter()
                    .copied()
                    .filter(|&o| o != m && o != version.distributor)
                    .collect();
                if others.is_empty() {
                    return;
                }
                let view = full(others[usize::from(at) % others.len()]);
                self.process(q, m, &view, false, "other wrap");
            }
            3 => {
                let mut bytes = queued.encode();
                let i = usize::from(at) % bytes.len();
                bytes[i] ^= mask.max(1);
                match Distribution::decode(&bytes) {
                    Ok(view) => self.process(q, m, &view, false, "flipped"),
                    Err(e) => self.note(|| format!("flipped undecodable {}", e.name())),
                }
            }
            _ => {
                // `m`'s wrap of another version by the same distributor: one
                // its session already opened (a replay), one sealed later or
                // earlier, or one of another wrap context.
                let others: Vec<usize> = (0..self.versions.len())
                    .filter(|&o| o != v && self.versions[o].distributor == version.distributor)
                    .filter(|&o| self.wrap_of(o, m).is_some())
                    .collect();
                if others.is_empty() || self.wrap_of(v, m).is_none() {
                    return;
                }
                let wrap = self
                    .wrap_of(others[usize::from(at) % others.len()], m)
                    .expect("a wrap for m");
                let mut view = full(m);
                view = Distribution::new(
                    view.core().clone(),
                    *view.signature(),
                    view.section().clone(),
                    vec![wrap],
                )
                .expect("valid wraps");
                self.process(q, m, &view, false, "spliced");
            }
        }
    }

    /// Member `member`'s wrap in version `v` (none for its distributor or a
    /// non-member).
    fn wrap_of(&self, v: usize, member: usize) -> Option<Vec<u8>> {
        let version = &self.versions[v];
        let d = version
            .roster
            .iter()
            .position(|&i| i == version.distributor)?;
        let i = version.roster.iter().position(|&i| i == member)?;
        if i == d {
            return None;
        }
        let at = if i > d { i - 1 } else { i };
        version.upload.wraps().get(at).map(|w| w.to_vec())
    }

    fn seal(&mut self, m: usize, ad: usize, content_type: ContentType, plaintext: Vec<u8>) {
        let member = &mut self.members[m];
        let expected = match member.model.current() {
            None => Err(GroupSealError::NoEpoch),
            Some(h) if !self.versions[h.version].roster.contains(&m) => {
                Err(GroupSealError::NotAMember)
            }
            Some(h) => Ok((h.version, h.next_counter)),
        };
        let before = save(&member.group);
        let result = member.group.seal(
            &mut self.rng,
            &member.device,
            content_type,
            &plaintext,
            ASSOCIATED_DATA[ad],
        );
        match (result, expected) {
            (Ok(sealed), Ok((version, counter))) => {
                let held = member.model.held.last_mut().expect("current epoch");
                held.next_counter = counter + 1;
                self.msgs.push(Sent {
                    sender: m,
                    version,
                    counter,
                    ad,
                    content_type,
                    plaintext,
                    sealed,
                });
                let g = self.msgs.len() - 1;
                for &to in self.versions[version].roster.iter().filter(|&&to| to != m) {
                    self.pending_msgs.push((g, to));
                }
                self.note(|| "seal Ok".into());
            }
            (Err(err), Err(want)) if err == want => {
                assert_eq!(
                    save(&self.members[m].group),
                    before,
                    "{}: a failed seal changed the group",
                    NAMES[m]
                );
                self.note(|| format!("seal {err:?}"));
            }
            (got, want) => panic!(
                "{}: seal gave {:?}, expected {want:?}",
                NAMES[m],
                got.map(|_| ())
            ),
        }
    }

    /// The model's result of `m` opening message `g` (SPEC.md §8.9).
    fn expect_open(&self, g: usize, m: usize) -> Result<(u64, bool), GroupOpenError> {
        let msg = &self.msgs[g];
        let version = &self.versions[msg.version];
        let model = &self.members[m].model;
        let epoch = version.epoch;
        let Some(index) = model
            .held
            .iter()
            .position(|h| self.versions[h.version].epoch == epoch)
        else {
            return Err(GroupOpenError::UnknownEpoch(epoch));
        };
        let held = &model.held[index];
        if expired(held, grace(m), self.now) {
            return Err(GroupOpenError::EpochExpired(epoch));
        }
        if !self.roster_of(held.version).contains(&msg.sender) {
            return Err(GroupOpenError::UnknownSender);
        }
        if msg.sender == m {
            return Err(GroupOpenError::OwnMessage);
        }
        let current = model.current().expect("held epochs");
        if index + 1 != model.held.len() && !self.roster_of(current.version).contains(&msg.sender) {
            return Err(GroupOpenError::SenderRemoved);
        }
        if held.version != msg.version {
            return Err(GroupOpenError::ForkedEpoch(epoch));
        }
        held.windows
            .get(&msg.sender)
            .cloned()
            .unwrap_or_default()
            .check(msg.counter)
            .map_err(|r| refusal(r, msg.counter))
    }

    fn open(&mut self, g: usize, m: usize, how: &'static str) {
        let expected = self.expect_open(g, m);
        let now = self.now_ts();
        let msg = &self.msgs[g];
        let member = &mut self.members[m];
        let before = save(&member.group);
        let result = member.group.open(&msg.sealed, ASSOCIATED_DATA[msg.ad], now);
        let who = NAMES[m];
        match (result, expected) {
            (Ok(opened), Ok((skipped, late))) => {
                assert_eq!(
                    opened.sender, self.fx.addresses[msg.sender],
                    "{who}: sender"
                );
                assert_eq!(
                    opened.epoch, self.versions[msg.version].epoch,
                    "{who}: epoch"
                );
                assert_eq!(opened.content_type, msg.content_type, "{who}: content type");
                assert_eq!(opened.plaintext.as_slice(), msg.plaintext.as_slice());
                assert_eq!(opened.counter, msg.counter, "{who}: counter");
                assert_eq!((opened.skipped, opened.late), (skipped, late), "{who}: gap");
                let epoch = self.versions[msg.version].epoch;
                let held = member
                    .model
                    .held
                    .iter_mut()
                    .find(|h| self.versions[h.version].epoch == epoch)
                    .expect("held");
                held.windows
                    .entry(msg.sender)
                    .or_default()
                    .accept(msg.counter);
                self.note(|| format!("{how} Ok"));
            }
            (Err(err), Err(want)) if err == want => {
                assert_eq!(
                    save(&self.members[m].group),
                    before,
                    "{who}: a failed open ({err:?}) changed the group"
                );
                self.note(|| format!("{how} {}", err.name()));
            }
            (got, want) => panic!(
                "{who}: {how} of message {g} ({} epoch {} counter {}) gave {:?}, expected {want:?}",
                NAMES[msg.sender],
                self.versions[msg.version].epoch,
                msg.counter,
                got.map(|o| (o.skipped, o.late))
            ),
        }
    }

    /// Delivers message `g` to `m` again, or a changed copy (which must not open).
    fn tamper(&mut self, g: usize, m: usize, mode: u8, at: u8, mask: u8) {
        let fx = self.fx;
        let msg = &self.msgs[g];
        if mode.is_multiple_of(6) {
            self.open(g, m, "again");
            return;
        }
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
        let what = match mode % 6 {
            1 => {
                let at = usize::from(at) % bytes.len();
                bytes[at] ^= mask;
                "flip"
            }
            2 => {
                bytes[usize::from(at) % signed_len] ^= mask;
                resign(&mut bytes, msg.sender);
                "flip and re-sign"
            }
            3 => {
                let signer = (msg.sender + 1 + usize::from(at) % (MEMBERS - 1)) % MEMBERS;
                resign(&mut bytes, signer);
                "forge"
            }
            4 => {
                ad = (ad + 1 + usize::from(at & 1)) % ASSOCIATED_DATA.len();
                "wrong ad"
            }
            _ => {
                bytes.truncate(usize::from(at) % bytes.len());
                "truncate"
            }
        };
        let now = self.now_ts();
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

    /// `m` signs a hostile version on its current epoch; the server checks
    /// it, and a hostile server forwards it to the roster anyway.
    fn misbehave(&mut self, m: usize, b: u8) {
        let fx = self.fx;
        // Bit 6: build on the server's epoch instead of one's own (an outsider
        // who never held it signs as if it had been a member).
        let base_choice = if b & 0x40 != 0 {
            self.server.current
        } else {
            self.current_version(m)
        };
        let Some(c) = base_choice else {
            return;
        };
        let base = &self.versions[c];
        let target = (m + 1 + usize::from(b >> 2 & 0x0f) % (MEMBERS - 1)) % MEMBERS;
        let mut roster = base.roster.clone();
        if !roster.contains(&m) {
            roster.push(m);
            roster.sort_unstable();
        }
        let mut policy = base.policy.clone();
        // No epoch follows 2^64 − 1 (a member may hold it after a jump).
        let Some(mut epoch) = base.epoch.checked_add(1) else {
            return;
        };
        let mut bad_wrap = None;
        let what = match b & 3 {
            0 => {
                // Bit 7: the target's wrap is no group key at all.
                let how = if b & 0x80 == 0 {
                    BadWrap::OtherSecret
                } else {
                    BadWrap::NotAKey
                };
                bad_wrap = roster.contains(&target).then_some((target, how));
                if how == BadWrap::OtherSecret {
                    "split"
                } else {
                    "not a key"
                }
            }
            1 => {
                roster.retain(|&i| i != target);
                "unpermitted"
            }
            2 => {
                epoch = if b & 0x80 == 0 {
                    epoch.saturating_add(1)
                } else {
                    u64::MAX
                };
                "jump"
            }
            _ => {
                policy = Policy::Nobody;
                "no admin"
            }
        };
        if !roster.contains(&m) {
            return;
        }
        // Build it from the public parts, as a hostile member would.
        let roster_real =
            Roster::from_bundles(roster.iter().map(|&i| &fx.bundles[i])).expect("roster");
        let base_real =
            Roster::from_bundles(base.roster.iter().map(|&i| &fx.bundles[i])).expect("roster");
        let mut fields = CoreFields {
            group_id: fx.group_id.clone(),
            epoch,
            previous_transcript: base.transcript,
            roster_hash: roster_real.hash(&fx.group_id),
            policy: policy.real(),
            distributor: fx.addresses[m].clone(),
            distributor_identity: fx.devices[m].identity().public_key().to_bytes(),
            wrap_list_hash: [0; 32],
        };
        let context = wrap_context(
            &fields.group_id,
            fields.epoch,
            &fields.previous_transcript,
            &fields.roster_hash,
            &fields.distributor,
        );
        let good = [0x5a; 32];
        let now = self.now_ts();
        let expired = self.keys_expired();
        let member = &mut self.members[m];
        let mut wraps = Vec::new();
        for &i in roster.iter().filter(|&&i| i != m) {
            let (content_type, plaintext) = match bad_wrap {
                Some((t, BadWrap::OtherSecret)) if t == i => (ContentType::GroupKey, [0xa5; 32]),
                Some((t, BadWrap::NotAKey)) if t == i => (ContentType::Text, good),
                _ => (ContentType::GroupKey, good),
            };
            let session = member
                .sessions
                .get_mut(&fx.addresses[i])
                .expect("a session with every member");
            // A hostile member seals its wraps in its real sessions, too.
            match session.seal(
                &member.device,
                &mut self.rng,
                now,
                content_type,
                &plaintext,
                &context,
            ) {
                Ok(wrap) if !expired => wraps.push(wrap),
                Err(SealError::LocalKeyExpired(id))
                    if expired && id == fx.bundles[m].sealing_key_id() =>
                {
                    self.note(|| "misbehave LocalKeyExpired".into());
                    return;
                }
                other => panic!(
                    "{}: sealing a hostile wrap gave {:?} (keys expired: {expired})",
                    NAMES[m],
                    other.map(|w| w.len())
                ),
            }
        }
        fields.wrap_list_hash = wrap_list_hash(&wraps);
        let core = fields.confirmed(&EpochSecret::from_bytes(good));
        let upload = Distribution::sign(
            &core,
            fx.devices[m].identity(),
            RosterSection::Delta(base_real.delta_to(&roster_real).expect("delta")),
            wraps,
        )
        .expect("a hostile distribution");
        let transcript = upload.core().transcript();
        let v = self.versions.len();
        self.versions.push(Version {
            epoch,
            parent: Some(c),
            roster: roster.clone(),
            policy,
            distributor: m,
            bad_wrap,
            upload: upload.clone(),
            transcript,
        });
        self.note(|| format!("misbehave {what}"));
        // The server's verdict (its own record is left alone either way).
        let record = self.server.current;
        let expected = self.expect_server(v, record);
        let stored = record.map(|r| self.server.records[&r].clone());
        let verdict = upload
            .verify_for_server(stored.as_ref(), &fx.addresses[m])
            .map(|_| ());
        assert_eq!(
            verdict, expected,
            "server verdict on a hostile version ({what})"
        );
        self.note(|| match verdict {
            Ok(()) => "hostile server Ok".into(),
            Err(e) => format!("hostile server {}", e.name()),
        });
        // A hostile server forwards full-roster views to everyone in it.
        for &to in roster.iter() {
            let d = roster_real.position(&fx.addresses[m]).expect("distributor");
            let i = roster_real.position(&fx.addresses[to]).expect("member");
            let wraps = if i == d {
                Vec::new()
            } else {
                vec![upload.wraps()[if i > d { i - 1 } else { i }].clone()]
            };
            let view = Distribution::new(
                upload.core().clone(),
                *upload.signature(),
                RosterSection::Full(roster_real.clone()),
                wraps,
            )
            .expect("valid wraps");
            self.views.push(Queued {
                version: v,
                to,
                view,
            });
            self.pending_views.push(self.views.len() - 1);
        }
    }

    /// Reloads `m`'s group, sessions and device keys through sealed blobs
    /// (export, import at the blob's generation): the same state comes back.
    fn reload(&mut self, m: usize) {
        let fx = self.fx;
        let key = &fx.storage;
        let member = &mut self.members[m];
        let before = member.print(key);
        let blob = member.group.export(&mut self.rng, key).expect("export");
        member.group =
            Group::import(key, blob.as_bytes(), blob.generation()).expect("a fresh blob imports");
        for session in member.sessions.values_mut() {
            let blob = session.export(&mut self.rng, key).expect("export");
            *session = Session::import(key, blob.as_bytes(), blob.generation())
                .expect("a fresh session blob imports");
        }
        let blob = member.device.export(&mut self.rng, key).expect("export");
        member.device = DeviceKeys::import(key, blob.as_bytes(), blob.generation())
            .expect("a fresh device blob imports");
        assert_eq!(
            member.print(key),
            before,
            "{}: a reload changed the state",
            NAMES[m]
        );
        self.note(|| "reload".into());
    }
}

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    Sim::new(data, false).run();
}

// ---- replay test only (repo-tests/tests/fuzz_corpus.rs) --------------------------------

/// The outcomes an input reaches (e.g. `"process Installed"`, `"open
/// SenderRemoved"`, `"tamper BadSignature"`).
#[cfg(test)]
pub(crate) fn outcomes(data: &[u8]) -> BTreeSet<String> {
    let mut sim = Sim::new(data, true);
    sim.run();
    sim.trace.take().unwrap_or_default()
}

/// The seed programs.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    const PROPOSE: u8 = 0;
    const UPLOAD: u8 = 1;
    const COMMIT: u8 = 2;
    const PROCESS: u8 = 3;
    const DROP_VIEW: u8 = 4;
    const SEAL: u8 = 5;
    const OPEN: u8 = 6;
    const REDELIVER: u8 = 8;
    const AGAIN: u8 = 9;
    const MISBEHAVE: u8 = 10;
    const FORK: u8 = 11;
    const RELOAD: u8 = 12;
    const ADVANCE: u8 = 13;
    const EXPIRE: u8 = 14;
    const FLUSH: u8 = 15;
    const A: u8 = 0;
    const B: u8 = 1;
    const C: u8 = 2;
    const D: u8 = 3;
    let with = |kind: u8, hi: u8| -> u8 { hi << 4 | kind };
    // `x` proposes `bits` with policy choice `p`, the server accepts, `x` commits.
    let change = |x: u8, bits: u8, p: u8| -> Vec<u8> {
        vec![
            with(PROPOSE, p << 2 | x),
            bits,
            with(UPLOAD, x),
            with(COMMIT, x),
        ]
    };
    let propose = |x: u8, bits: u8| -> Vec<u8> { vec![with(PROPOSE, x), bits] };
    let seal = |s: u8, text: &[u8]| -> Vec<u8> {
        let mut v = vec![with(SEAL, s), 1, u8::try_from(text.len()).unwrap()];
        v.extend_from_slice(text);
        v
    };
    let flush = [with(FLUSH, 0)];
    let redeliver = |m: u8, pick: u8, mode: u8, at: u16, mask: u8| -> Vec<u8> {
        let [hi, lo] = at.to_be_bytes();
        vec![with(REDELIVER, m), pick, mode, hi, lo, mask]
    };
    let again = |m: u8, pick: u8, mode: u8, at: u8, mask: u8| -> Vec<u8> {
        vec![with(AGAIN, m), pick, mode, at, mask]
    };
    let all = 0x0f;
    let program = |parts: &[&[u8]]| parts.concat();
    vec![
        (
            "create_and_chat",
            program(&[
                &change(A, all, 0),
                &flush,
                &seal(A, b"hello all"),
                &seal(B, b"hi"),
                &seal(C, b""),
                &flush,
                &again(D, 0, 0, 0, 0),
            ]),
        ),
        (
            "concurrent_changes",
            program(&[
                &change(A, 0b0111, 0),
                &flush,
                // A adds Dave, B removes Carol, both from epoch 1.
                &propose(A, all),
                &propose(B, 0b0011),
                &seal(B, b"while pending"),
                &[with(UPLOAD, A), with(UPLOAD, B), with(COMMIT, A)],
                &flush,
                // B's proposal was discarded; it redoes its change as epoch 3.
                &change(B, 0b1011, 0),
                &flush,
                &seal(D, b"epoch 3"),
                &flush,
            ]),
        ),
        (
            "own_echo_commits",
            program(&[
                &propose(C, all),
                &[with(UPLOAD, C)],
                &flush,
                &seal(C, b"committed by the echo"),
                &flush,
                &[with(COMMIT, C)],
            ]),
        ),
        (
            "abort_and_redo",
            program(&[
                &change(A, all, 0),
                &flush,
                &propose(B, 0b0011),
                &propose(A, 0b0111),
                &[
                    with(UPLOAD, A),
                    with(COMMIT, A),
                    with(UPLOAD, B),
                    with(COMMIT, B),
                ],
                &flush,
                &change(B, 0b0011, 0),
                &flush,
            ]),
        ),
        (
            "remove_member_and_late_messages",
            program(&[
                &change(A, all, 0),
                &flush,
                &seal(C, b"before"),
                &seal(A, b"from Alice"),
                &change(A, 0b1011, 0),
                &[
                    with(PROCESS, 0),
                    with(PROCESS, 0),
                    with(PROCESS, 0),
                    with(PROCESS, 0),
                ],
                &flush,
                &seal(C, b"still talking?"),
                &flush,
            ]),
        ),
        (
            "admins_policy",
            program(&[
                &change(A, all, 2),
                &flush,
                // Bob, no admin: removing Carol, adding nobody new but dropping
                // the admin, changing the policy, or rotating.
                &propose(B, 0b0011),
                &propose(B, 0b0010),
                &[with(PROPOSE, 1 << 2 | B), all],
                &change(B, all, 0),
                &flush,
                // He signs the removal of Dave anyway; the server and members refuse.
                &[with(MISBEHAVE, B), 0x05],
                &flush,
                // Alice names Bob a second admin; now he may.
                &change(A, all, 3),
                &flush,
                &change(B, 0b0111, 0),
                &flush,
            ]),
        ),
        (
            "outsider_and_removed",
            program(&[
                &change(A, 0b0111, 0),
                &flush,
                // Dave, never a member, signs epoch 2 on the server's epoch 1.
                &[with(MISBEHAVE, D), 0x40],
                &flush,
                &seal(C, b"before"),
                &change(A, 0b0011, 0),
                &flush,
                // Carol, removed, is sent the removal anyway (full roster).
                &redeliver(C, 0, 1, 0, 0),
                &seal(C, b"still talking?"),
                &flush,
                &again(A, 0, 0, 0, 0),
                &again(C, 1, 0, 0, 0),
            ]),
        ),
        (
            "stale_epoch",
            program(&[
                &change(A, all, 0),
                &flush,
                &change(A, all, 0),
                &flush,
                &change(A, all, 0),
                &flush,
                &redeliver(B, 11, 1, 0, 0),
            ]),
        ),
        (
            "split_secret",
            program(&[
                &change(A, all, 0),
                &flush,
                &[with(MISBEHAVE, A), 0x00],
                &flush,
                &seal(A, b"in the split epoch"),
                &flush,
            ]),
        ),
        (
            "epoch_jumps_and_no_admin",
            program(&[
                &change(B, all, 0),
                &flush,
                &[with(MISBEHAVE, C), 0x02],
                &[with(MISBEHAVE, C), 0x82],
                &[with(MISBEHAVE, D), 0x03],
                &flush,
                &change(A, all, 0),
                &flush,
            ]),
        ),
        (
            "server_fork",
            program(&[
                &change(A, all, 0),
                &flush,
                &propose(B, all),
                &propose(C, 0b0111),
                &[
                    with(UPLOAD, B),
                    with(COMMIT, B),
                    with(FORK, C),
                    with(COMMIT, C),
                ],
                &flush,
                &seal(B, b"on B's side"),
                &seal(C, b"on C's side"),
                &flush,
                // Carol builds epoch 3 on her side: the server refuses it; a
                // hostile server forwards it, and Bob's side refuses it too.
                &propose(C, 0b0111),
                &[with(UPLOAD, C), with(FORK, C)],
                &flush,
            ]),
        ),
        (
            "redeliveries",
            program(&[
                &change(A, all, 0),
                &[with(PROCESS, 0), with(DROP_VIEW, 0)],
                &redeliver(B, 0, 0, 0, 0),
                &redeliver(C, 0, 1, 0, 0),
                &redeliver(D, 0, 2, 0, 0),
                &redeliver(D, 0, 3, 2, 1),
                &redeliver(D, 0, 3, 40, 1),
                &redeliver(D, 0, 3, 300, 0x80),
                &redeliver(D, 0, 3, 700, 1),
                &flush,
                &redeliver(D, 0, 0, 0, 0),
            ]),
        ),
        (
            "tampered_messages",
            program(&[
                &change(A, 0b0011, 0),
                &flush,
                &seal(A, b"original"),
                &again(B, 0, 1, 120, 1),
                &again(B, 0, 2, 50, 1),
                &again(B, 0, 3, 0, 0),
                &again(B, 0, 4, 0, 0),
                &again(B, 0, 5, 30, 0),
                &flush,
                &again(B, 0, 0, 0, 0),
            ]),
        ),
        (
            "grace_and_reload",
            program(&[
                &change(A, all, 0),
                &flush,
                &seal(B, b"old epoch"),
                &change(A, all, 0),
                &[with(RELOAD, A), with(RELOAD, C)],
                &[with(PROCESS, 0), with(PROCESS, 0), with(PROCESS, 0)],
                &[with(ADVANCE, 6)],
                &[with(OPEN, 0), with(OPEN, 0), with(OPEN, 0)],
                &[with(ADVANCE, 11)],
                &[with(EXPIRE, A), with(EXPIRE, C)],
                &again(A, 0, 0, 0, 0),
                &again(D, 0, 0, 0, 0),
            ]),
        ),
        (
            "keys_expire",
            program(&[
                &change(A, all, 0),
                &flush,
                // Epoch 2 is wrapped while the keys are live, delivered after.
                &change(A, all, 0),
                &[with(ADVANCE, 13); 5],
                &flush,
                // No wrap can be sealed any more; a roster of one needs none.
                &propose(B, all),
                &propose(B, 0),
                &[with(UPLOAD, B), with(COMMIT, B)],
                &[with(MISBEHAVE, C), 0x00],
                &seal(A, b"after expiry"),
                &flush,
            ]),
        ),
        (
            "spliced_wraps",
            program(&[
                &change(A, all, 0),
                &flush,
                &change(A, all, 0),
                // Bob's epoch-1 wrap under epoch 2's core: a replay.
                &redeliver(B, 0, 4, 0, 0),
                // A wrap sealed later (Alice's epoch-3 proposal) under it.
                &propose(A, all),
                &redeliver(B, 0, 4, 1, 0),
                &redeliver(C, 0, 4, 1, 0),
                // The genuine views still open.
                &flush,
                &[with(UPLOAD, A), with(COMMIT, A)],
                &flush,
                &seal(B, b"epoch 3"),
                &flush,
            ]),
        ),
        (
            "not_a_key",
            program(&[
                &change(A, all, 0),
                &flush,
                &[with(MISBEHAVE, A), 0x80],
                &flush,
                &seal(A, b"in the hostile epoch"),
                &flush,
            ]),
        ),
        (
            "simultaneous_session_starts",
            program(&[
                // Alice and Bob both wrap for each other before either opens
                // anything: two session starts (one-time keys used once each).
                &propose(A, 0b0011),
                &propose(B, 0b0011),
                &[
                    with(UPLOAD, A),
                    with(UPLOAD, B),
                    with(COMMIT, A),
                    with(COMMIT, B),
                ],
                &flush,
                &change(B, 0b0011, 0),
                &flush,
                &change(A, 0b0011, 0),
                &flush,
                &[with(ADVANCE, 11)],
                &change(B, 0b0011, 0),
                &flush,
                &[with(ADVANCE, 11)],
                &change(A, 0b0111, 0),
                &flush,
                &[with(RELOAD, B), with(RELOAD, C), with(EXPIRE, B)],
                &change(C, 0b0111, 0),
                &flush,
                &change(B, all, 0),
                &flush,
            ]),
        ),
        (
            "gaps_and_stale",
            program(&[
                &change(A, all, 0),
                &[with(PROCESS, 0), with(DROP_VIEW, 0)],
                &change(A, all, 0),
                &change(A, all, 0),
                &flush,
                &redeliver(B, 5, 0, 0, 0),
                &seal(A, b"epoch 3"),
                &flush,
            ]),
        ),
    ]
}
