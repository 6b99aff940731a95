//! Fuzz target: three users with several devices talking through accounts
//! and a `Relay` (SPEC.md §13), run as a program of actions read from the
//! input and checked step by step against a model of who may read what.
//!
//! A fixture is built once, deterministically (ChaCha20 seed `[0xc0; 32]`,
//! clock `T0`), as `examples/chat.rs` does: `alice` (devices 1, the primary,
//! and 2), `bob` (1, primary, and 2) and `carol` (1) publish their lists,
//! bundles and two one-time keys each, fetch every user, and every device
//! sends one message to every other user (all delivered, so every pairwise
//! session between them is established both ways); alice makes the group
//! `club` of the three users and every member sends a group message. Three
//! spare devices, `alice`/3, `bob`/3 and `carol`/2, exist but are not listed.
//! Each input starts from this state: all eight accounts imported from sealed
//! blobs, a copy of the relay, nothing in flight. The clock is `T0 + 60 + i`
//! at action `i`; randomness is a ChaCha20 generator with a fixed seed.
//!
//! Devices are numbered 0–7: alice/1, alice/2, bob/1, bob/2, carol/1,
//! alice/3, bob/3, carol/2. Input: at most [`MAX_ACTIONS`] actions; missing
//! parameter bytes read as 0. Each action is a byte, `kind` in its low
//! nibble, `h` its high nibble; `d = h mod 8` names a device:
//!
//! | kind | action |
//! |---|---|
//! | 0 | `d` seals a fresh text to user `next mod 3`; each envelope goes through the relay, what it accepts is queued |
//! | 1 | `d` seals a fresh text to `club`; the relay fans it out, queued |
//! | 2 | `d` proposes `club` (creates it if it has none): next byte bits 0–2 add users, bits 3–5 remove users; the relay checks the upload (refused: `abort_group`), accepted: the views are queued and with bit 6 `d` commits at once |
//! | 3 | the primary of user `h mod 3` lists its spare device; the spare uploads its bundle and a one-time key and fetches every user (again: `AlreadyListed`) |
//! | 4 | the primary of user `h mod 3` removes one of its other listed devices (`next` picks it; none: removing itself, `CannotRemoveSelf`) and uploads the list |
//! | 5 | `d` fetches user `next mod 3` from the relay and receives all of it |
//! | 6 | deliver queued envelope `next mod len`; 7: drop it |
//! | 8 | deliver an envelope delivered before (`next` picks it) again, to the same device |
//! | 9 | deliver queued envelope `next mod len` to device `d` instead (it stays queued) |
//! | 10 | `d` exports and imports its account |
//! | 11 | `d` receives `next mod 64` bytes of the input as they are |
//! | 12 | a queued (or, with `h` odd, delivered) envelope `next` with byte `next` XOR `next | 1`, to its device |
//! | 13 | a queued envelope `next`, relabelled as kind `1 + h mod 6`, to its device |
//! | 14 | `d` uploads one fresh one-time key |
//! | 15 | deliver every queued envelope, oldest first |
//!
//! The model holds every device-list version each primary signed (its
//! devices), every message sealed (sender, user or group, plaintext — each
//! plaintext is unique — and the devices that may open it: for a 1:1
//! message the devices it was sealed to, for a group message the sender's
//! roster at sealing), which devices opened it, and for each pending group
//! proposal the roster it must give. Checks (a violation panics):
//!
//! - no call panics; every refused call — `receive`, `seal_to_user`,
//!   `seal_to_group`, `create_group`/`update_group`, `add_device`,
//!   `remove_device` — leaves `hazmat_state_bytes()` byte-identical, and so
//!   does an accepted `Duplicate`;
//! - `seal_to_user` seals to exactly the devices of the lists the sender
//!   holds for the user and for its own user, less itself;
//! - a list a device holds (after any `DeviceListUpdated`) lists exactly the
//!   devices of that version as its primary signed it;
//! - a message (1:1 or group) opens only at a device that may open it, with
//!   its sender, user or group and plaintext, and at most once per device
//!   (duplicates, misrouted, relabelled and mutated envelopes and garbage
//!   never open anything else); a device removed from its user's list is
//!   never sealed to by a sender that holds the list without it, and a
//!   device left out of a group roster cannot read the group's new messages;
//! - liveness: the first delivery of a queued 1:1 message between two of the
//!   five fixture devices (whose sessions are established) opens, as long as
//!   the recipient still holds a list that lists the sender; the first
//!   delivery of a queued group message opens at a member device whose
//!   current epoch is the one it was sealed in;
//! - a committed proposal (its view coming back, or `commit_group`) installs
//!   the roster of every device of the proposer's lists of its users at the
//!   time it proposed;
//! - an export and import gives the same state bytes.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/account_conversation.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`. The seeds in
//! `fuzz/corpus/account_conversation/` are programs written by `seeds` below
//! (`cargo test --test fuzz_corpus --all-features -- --ignored
//! regenerate_account_conversation_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    // Devices and users are numbered; the numbers index several tables.
    clippy::needless_range_loop
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use letterseal::account::{
    Account, AccountError, Envelope, EnvelopeKind, Event, Relay, RelayError,
};
use letterseal::group::{GroupId, Transcript};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::ContentType;
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const T0: u64 = 1_800_000_000;
/// The longest program run; longer inputs are cut.
pub(crate) const MAX_ACTIONS: usize = 96;
const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// The devices: (user index, device number, primary); 0–4 are listed in the
/// fixture, 5–7 are the spares.
const DEVICES: [(usize, u32, bool); 8] = [
    (0, 1, true),
    (0, 2, false),
    (1, 1, true),
    (1, 2, false),
    (2, 1, true),
    (0, 3, false),
    (1, 3, false),
    (2, 2, false),
];
/// The fixture devices, whose sessions with each other are established.
const SETTLED: usize = 5;
const PRIMARY: [usize; 3] = [0, 2, 4];
const SPARE: [usize; 3] = [5, 6, 7];

fn user(i: usize) -> UserId {
    UserId::new(USERS[i]).unwrap()
}

fn address(d: usize) -> DeviceAddress {
    let (u, n, _) = DEVICES[d];
    DeviceAddress::new(user(u), DeviceId::new(n))
}

fn device_index(a: &DeviceAddress) -> usize {
    (0..DEVICES.len()).find(|&d| address(d) == *a).unwrap()
}

fn user_index(u: &UserId) -> usize {
    (0..USERS.len()).find(|&i| user(i) == *u).unwrap()
}

fn club() -> GroupId {
    GroupId::new("club").unwrap()
}

struct Fixture {
    key: StorageKey,
    blobs: Vec<(Vec<u8>, u64)>,
    relay: Relay,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build)
}

fn build() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0xc0; 32]);
    let t = Timestamp::from_unix_seconds(T0);
    let mut relay = Relay::new();
    let mut accounts: Vec<Account> = (0..DEVICES.len())
        .map(|d| match DEVICES[d].2 {
            true => Account::create_primary(&mut rng, t, address(d)),
            false => Account::create_secondary(&mut rng, t, address(d)),
        })
        .collect();
    for (primary, secondary) in [(0, 1), (2, 3)] {
        let key = accounts[secondary].identity_key();
        accounts[primary]
            .add_device(DeviceId::new(DEVICES[secondary].1), key)
            .unwrap();
    }
    for d in [0, 2, 4, 1, 3] {
        let mut up = accounts[d].uploads(&mut rng, t).unwrap();
        up.extend(accounts[d].one_time_keys(&mut rng, t, 2).unwrap());
        for envelope in up {
            relay.upload(t, &address(d), &envelope).unwrap();
        }
    }
    for account in accounts.iter_mut().take(SETTLED) {
        for u in 0..USERS.len() {
            for envelope in relay.fetch_user(&user(u)) {
                // Its own one-time key included (`Duplicate`): every fetched envelope is taken.
                account.receive(t, &envelope).unwrap();
            }
        }
    }
    let send = |accounts: &mut [Account], relay: &mut Relay, from: usize, env: &[u8]| {
        for out in relay.upload(t, &address(from), env).unwrap() {
            accounts[device_index(&out.to)]
                .receive(t, &out.envelope)
                .unwrap();
        }
    };
    for d in 0..SETTLED {
        for u in 0..USERS.len() {
            if u != DEVICES[d].0 {
                let text = format!("warm-up from {d} to {u}");
                let out = accounts[d]
                    .seal_to_user(&mut rng, t, &user(u), ContentType::Text, text.as_bytes())
                    .unwrap();
                for o in out {
                    send(&mut accounts, &mut relay, d, &o.envelope);
                }
            }
        }
    }
    let upload = accounts[0]
        .create_group(&mut rng, t, club(), &[user(1), user(2)])
        .unwrap();
    send(&mut accounts, &mut relay, 0, &upload);
    for d in 0..SETTLED {
        let sealed = accounts[d]
            .seal_to_group(&mut rng, t, &club(), ContentType::Text, b"hello club")
            .unwrap();
        send(&mut accounts, &mut relay, d, &sealed);
    }
    let key = StorageKey::generate(&mut rng);
    let blobs = accounts
        .iter_mut()
        .map(|a| {
            let blob = a.export(&mut rng, &key).unwrap();
            (blob.as_bytes().to_vec(), blob.generation())
        })
        .collect();
    Fixture { key, blobs, relay }
}

/// A message sealed during the run.
struct Message {
    from: usize,
    /// The user it was written to (1:1), or `None` for a group message.
    to_user: Option<usize>,
    plaintext: Vec<u8>,
    /// The devices that may open it.
    readers: BTreeSet<usize>,
    /// The sender's transcript when it sealed (group messages).
    transcript: Option<Transcript>,
    opened: BTreeSet<usize>,
}

/// An envelope on its way to a device.
#[derive(Clone)]
struct Queued {
    to: usize,
    bytes: Vec<u8>,
    /// The message it carries, if it is one.
    message: Option<usize>,
}

struct World {
    accounts: Vec<Account>,
    relay: Relay,
    rng: ChaCha20Rng,
    now: Timestamp,
    key: StorageKey,
    /// Per user: device-list version → the devices it lists.
    versions: Vec<BTreeMap<u64, BTreeSet<usize>>>,
    messages: Vec<Message>,
    queue: Vec<Queued>,
    delivered: Vec<Queued>,
    /// Per device: the roster its pending proposal must install.
    pending_roster: BTreeMap<usize, BTreeSet<usize>>,
    counter: u64,
}

/// Reads the program's bytes; missing bytes read as 0.
struct Program<'a> {
    data: &'a [u8],
    at: usize,
}

impl Program<'_> {
    fn next(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
}

fn devices_of(list: &letterseal::account::VerifiedDeviceList) -> BTreeSet<usize> {
    list.addresses().map(|a| device_index(&a)).collect()
}

impl World {
    fn new() -> Self {
        let f = fixture();
        let accounts: Vec<Account> = f
            .blobs
            .iter()
            .map(|(blob, generation)| Account::import(&f.key, blob, *generation).unwrap())
            .collect();
        let versions = (0..USERS.len())
            .map(|u| {
                let list = accounts[PRIMARY[u]].device_list(&user(u)).unwrap();
                BTreeMap::from([(list.list().version(), devices_of(list))])
            })
            .collect();
        Self {
            accounts,
            relay: f.relay.clone(),
            rng: ChaCha20Rng::from_seed([0x5a; 32]),
            now: Timestamp::from_unix_seconds(T0 + 60),
            key: StorageKey::generate(&mut ChaCha20Rng::from_seed([0x6b; 32])),
            versions,
            messages: Vec::new(),
            queue: Vec::new(),
            delivered: Vec::new(),
            pending_roster: BTreeMap::new(),
            counter: 0,
        }
    }

    fn state(&self, d: usize) -> Vec<u8> {
        self.accounts[d]
            .hazmat_state_bytes()
            .expect("the state encodes")
            .to_vec()
    }

    /// The devices of the list `d` holds for user `u` (checked against the
    /// version its primary signed).
    fn held(&self, d: usize, u: usize) -> BTreeSet<usize> {
        let Some(list) = self.accounts[d].device_list(&user(u)) else {
            return BTreeSet::new();
        };
        let devices = devices_of(list);
        let version = list.list().version();
        assert_eq!(
            self.versions[u].get(&version),
            Some(&devices),
            "device {d} holds {}'s list version {version} with other devices",
            USERS[u]
        );
        devices
    }

    /// Checks that a refused account call changed nothing.
    fn refused<T>(&self, d: usize, before: &[u8], what: &str, result: &Result<T, AccountError>) {
        if let Err(e) = result {
            assert!(
                self.state(d) == before,
                "refused {what} ({e:?}) on device {d} changed the state"
            );
        }
    }

    fn fresh_text(&mut self) -> Vec<u8> {
        self.counter += 1;
        format!("message {}", self.counter).into_bytes()
    }

    /// Uploads from `from` through the relay; queues what it fans out.
    fn upload(&mut self, from: usize, envelope: &[u8], message: Option<usize>) -> bool {
        match self.relay.upload(self.now, &address(from), envelope) {
            Ok(out) => {
                for o in out {
                    self.queue.push(Queued {
                        to: device_index(&o.to),
                        bytes: o.envelope,
                        message,
                    });
                }
                true
            }
            Err(_) => false,
        }
    }

    /// `d` receives `bytes` (genuinely carrying `message`, if set); checks
    /// every invariant of a delivery.
    fn receive(&mut self, d: usize, bytes: &[u8], message: Option<usize>) {
        let before = self.state(d);
        let strict = message.and_then(|m| self.must_open(d, m));
        let result = self.accounts[d].receive(self.now, bytes);
        let event = match result {
            Err(e) => {
                assert!(
                    self.state(d) == before,
                    "refused receive ({e:?}) on device {d} changed the state"
                );
                assert!(
                    strict.is_none(),
                    "device {d} refused a message it must open: {e:?}"
                );
                return;
            }
            Ok(event) => event,
        };
        match &event {
            Event::Message {
                from,
                to_user,
                plaintext,
                ..
            } => {
                let m = self.opened(d, plaintext, device_index(from), Some(user_index(to_user)));
                if let Some(genuine) = message {
                    assert_eq!(
                        m, genuine,
                        "device {d} opened another message than it was sent"
                    );
                }
            }
            Event::GroupMessage {
                group,
                from,
                plaintext,
                ..
            } => {
                assert_eq!(*group, club());
                let m = self.opened(d, plaintext, device_index(from), None);
                if let Some(genuine) = message {
                    assert_eq!(
                        m, genuine,
                        "device {d} opened another message than it was sent"
                    );
                }
            }
            Event::Duplicate => {
                assert!(
                    self.state(d) == before,
                    "Duplicate changed device {d}'s state"
                );
            }
            Event::DeviceListUpdated { user, .. } => {
                self.held(d, user_index(user));
            }
            Event::GroupChanged {
                committed: true, ..
            } => self.committed(d),
            _ => {}
        }
        assert!(
            strict.is_none() || event.plaintext().is_some(),
            "device {d} must open a message but got {event:?}"
        );
    }

    /// Whether `d` must open message `m` on its first delivery (see the
    /// module docs); `Some(())` if so.
    fn must_open(&self, d: usize, m: usize) -> Option<()> {
        let msg = &self.messages[m];
        if msg.opened.contains(&d) || !msg.readers.contains(&d) {
            return None;
        }
        match msg.to_user {
            Some(_) => {
                let settled = d < SETTLED && msg.from < SETTLED;
                let listed = self.accounts[d]
                    .device_list(&user(DEVICES[msg.from].0))
                    .is_some_and(|l| l.lists(&address(msg.from)));
                (settled && listed).then_some(())
            }
            None => {
                let current = self.accounts[d]
                    .group(&club())
                    .and_then(|g| g.transcript().copied());
                (current.is_some() && current == msg.transcript).then_some(())
            }
        }
    }

    /// Records that `d` opened the message with this plaintext; checks it may.
    fn opened(&mut self, d: usize, plaintext: &[u8], from: usize, to_user: Option<usize>) -> usize {
        let m = self
            .messages
            .iter()
            .position(|m| m.plaintext == plaintext)
            .unwrap_or_else(|| panic!("device {d} opened a message nobody sealed"));
        let msg = &mut self.messages[m];
        assert_eq!(msg.from, from, "message {m} opened with another sender");
        assert_eq!(
            msg.to_user, to_user,
            "message {m} opened as another kind or user"
        );
        assert!(
            msg.readers.contains(&d),
            "device {d} opened message {m}, which was not for it (readers {:?})",
            msg.readers
        );
        assert!(msg.opened.insert(d), "device {d} opened message {m} twice");
        m
    }

    /// `d`'s proposal is committed: its roster must be the one it proposed.
    fn committed(&mut self, d: usize) {
        let roster: BTreeSet<usize> = self.accounts[d]
            .group(&club())
            .and_then(|g| g.roster())
            .map(|r| r.iter().map(|m| device_index(&m.address())).collect())
            .unwrap_or_default();
        if let Some(expected) = self.pending_roster.remove(&d) {
            assert_eq!(roster, expected, "device {d} committed another roster");
        }
    }

    fn seal_to_user(&mut self, d: usize, u: usize) {
        let text = self.fresh_text();
        let before = self.state(d);
        let mut expected = self.held(d, u);
        expected.extend(self.held(d, DEVICES[d].0));
        expected.remove(&d);
        let result = self.accounts[d].seal_to_user(
            &mut self.rng,
            self.now,
            &user(u),
            ContentType::Text,
            &text,
        );
        self.refused(d, &before, "seal_to_user", &result);
        let Ok(out) = result else { return };
        let readers: BTreeSet<usize> = out.iter().map(|o| device_index(&o.to)).collect();
        assert_eq!(
            readers, expected,
            "device {d} sealed to other devices than listed"
        );
        let m = self.messages.len();
        self.messages.push(Message {
            from: d,
            to_user: Some(u),
            plaintext: text,
            readers,
            transcript: None,
            opened: BTreeSet::new(),
        });
        for o in out {
            self.upload(d, &o.envelope, Some(m));
        }
    }

    fn seal_to_group(&mut self, d: usize) {
        let text = self.fresh_text();
        let before = self.state(d);
        let group = self.accounts[d].group(&club());
        let transcript = group.and_then(|g| g.transcript().copied());
        let mut readers: BTreeSet<usize> = group
            .and_then(|g| g.roster())
            .map(|r| r.iter().map(|m| device_index(&m.address())).collect())
            .unwrap_or_default();
        readers.remove(&d);
        let result = self.accounts[d].seal_to_group(
            &mut self.rng,
            self.now,
            &club(),
            ContentType::Text,
            &text,
        );
        self.refused(d, &before, "seal_to_group", &result);
        let Ok(sealed) = result else { return };
        let m = self.messages.len();
        self.messages.push(Message {
            from: d,
            to_user: None,
            plaintext: text,
            readers,
            transcript,
            opened: BTreeSet::new(),
        });
        self.upload(d, &sealed, Some(m));
    }

    fn propose(&mut self, d: usize, b: u8) {
        let add: Vec<UserId> = (0..3).filter(|i| b >> i & 1 == 1).map(user).collect();
        let remove: Vec<UserId> = (0..3).filter(|i| b >> (i + 3) & 1 == 1).map(user).collect();
        let before = self.state(d);
        let exists = self.accounts[d].group(&club()).is_some();
        let mut users: BTreeSet<UserId> =
            self.accounts[d].group_users(&club()).into_iter().collect();
        users.extend(add.iter().cloned());
        if exists {
            for u in &remove {
                users.remove(u);
            }
        }
        users.insert(address(d).user);
        let roster: BTreeSet<usize> = users
            .iter()
            .flat_map(|u| self.held(d, user_index(u)))
            .collect();
        let (rng, now) = (&mut self.rng, self.now);
        let result = match exists {
            true => self.accounts[d].update_group(rng, now, &club(), &add, &remove),
            false => self.accounts[d].create_group(rng, now, club(), &add),
        };
        self.refused(d, &before, "propose", &result);
        let Ok(upload) = result else { return };
        if self.upload(d, &upload, None) {
            self.pending_roster.insert(d, roster);
            if b & 0x40 != 0 {
                self.accounts[d].commit_group(self.now, &club()).unwrap();
                self.committed(d);
            }
        } else {
            self.accounts[d].abort_group(&club()).unwrap();
        }
    }

    fn add_spare(&mut self, u: usize) {
        let (p, spare) = (PRIMARY[u], SPARE[u]);
        let before = self.state(p);
        let key = self.accounts[spare].identity_key();
        let result = self.accounts[p].add_device(DeviceId::new(DEVICES[spare].1), key);
        self.refused(p, &before, "add_device", &result);
        let Ok(list) = result else { return };
        let mut devices = self.versions[u].values().next_back().unwrap().clone();
        devices.insert(spare);
        let version = self.accounts[p]
            .device_list(&user(u))
            .unwrap()
            .list()
            .version();
        self.versions[u].insert(version, devices);
        self.held(p, u);
        self.relay.upload(self.now, &address(p), &list).unwrap();
        let mut up = self.accounts[spare]
            .uploads(&mut self.rng, self.now)
            .unwrap();
        up.extend(
            self.accounts[spare]
                .one_time_keys(&mut self.rng, self.now, 1)
                .unwrap(),
        );
        for envelope in up {
            self.relay
                .upload(self.now, &address(spare), &envelope)
                .unwrap();
        }
        for v in 0..USERS.len() {
            self.fetch(spare, v);
        }
    }

    fn remove(&mut self, u: usize, pick: u8) {
        let p = PRIMARY[u];
        let others: Vec<usize> = self.held(p, u).into_iter().filter(|&x| x != p).collect();
        let target = match others.is_empty() {
            true => p,
            false => others[usize::from(pick) % others.len()],
        };
        let before = self.state(p);
        let result = self.accounts[p].remove_device(DeviceId::new(DEVICES[target].1));
        self.refused(p, &before, "remove_device", &result);
        let Ok((list, _groups)) = result else {
            assert!(target == p, "removing listed device {target} was refused");
            return;
        };
        let mut devices = self.versions[u].values().next_back().unwrap().clone();
        devices.remove(&target);
        let version = self.accounts[p]
            .device_list(&user(u))
            .unwrap()
            .list()
            .version();
        self.versions[u].insert(version, devices);
        self.held(p, u);
        self.relay.upload(self.now, &address(p), &list).unwrap();
    }

    fn fetch(&mut self, d: usize, u: usize) {
        for envelope in self.relay.fetch_user(&user(u)) {
            self.receive(d, &envelope, None);
        }
    }

    fn deliver(&mut self, i: usize) {
        let q = self.queue.remove(i);
        self.receive(q.to, &q.bytes, q.message);
        self.delivered.push(q);
    }

    fn reload(&mut self, d: usize) {
        let before = self.state(d);
        let blob = self.accounts[d].export(&mut self.rng, &self.key).unwrap();
        self.accounts[d] = Account::import(&self.key, blob.as_bytes(), blob.generation()).unwrap();
        assert!(
            self.state(d) == before,
            "export and import changed device {d}"
        );
        assert_eq!(self.accounts[d].generation(), blob.generation());
    }

    fn step(&mut self, p: &mut Program<'_>) {
        let action = p.next();
        let h = action >> 4;
        let d = usize::from(h) % DEVICES.len();
        match action & 15 {
            0 => {
                let u = usize::from(p.next()) % USERS.len();
                self.seal_to_user(d, u);
            }
            1 => self.seal_to_group(d),
            2 => {
                let b = p.next();
                self.propose(d, b);
            }
            3 => self.add_spare(usize::from(h) % USERS.len()),
            4 => {
                let pick = p.next();
                self.remove(usize::from(h) % USERS.len(), pick);
            }
            5 => {
                let u = usize::from(p.next()) % USERS.len();
                self.fetch(d, u);
            }
            6 | 7 => {
                let i = usize::from(p.next());
                if !self.queue.is_empty() {
                    let i = i % self.queue.len();
                    if action & 15 == 6 {
                        self.deliver(i);
                    } else {
                        self.queue.remove(i);
                    }
                }
            }
            8 => {
                let i = usize::from(p.next());
                if !self.delivered.is_empty() {
                    let q = self.delivered[i % self.delivered.len()].clone();
                    self.receive(q.to, &q.bytes, None);
                }
            }
            9 => {
                let i = usize::from(p.next());
                if !self.queue.is_empty() {
                    let q = self.queue[i % self.queue.len()].clone();
                    let genuine = if q.to == d { q.message } else { None };
                    self.receive(d, &q.bytes, genuine);
                }
            }
            10 => self.reload(d),
            11 => {
                let n = usize::from(p.next()) % 64;
                let bytes: Vec<u8> = (0..n).map(|_| p.next()).collect();
                self.receive(d, &bytes, None);
            }
            12 => {
                let (i, at, mask) = (usize::from(p.next()), usize::from(p.next()), p.next() | 1);
                let from = if h & 1 == 1 {
                    &self.delivered
                } else {
                    &self.queue
                };
                if !from.is_empty() {
                    let q = from[i % from.len()].clone();
                    let mut bytes = q.bytes;
                    let at = at * 7 % bytes.len();
                    bytes[at] ^= mask;
                    self.receive(q.to, &bytes, None);
                }
            }
            13 => {
                let i = usize::from(p.next());
                if !self.queue.is_empty() {
                    let q = self.queue[i % self.queue.len()].clone();
                    let body = Envelope::decode(&q.bytes).unwrap().body().to_vec();
                    let kind = EnvelopeKind::from_code(1 + h % 6).unwrap();
                    let bytes = Envelope::encode(kind, &body).unwrap();
                    let genuine = if bytes == q.bytes { q.message } else { None };
                    self.receive(q.to, &bytes, genuine);
                }
            }
            14 => {
                let keys = self.accounts[d]
                    .one_time_keys(&mut self.rng, self.now, 1)
                    .unwrap();
                for k in keys {
                    // A device no longer (or not yet) listed cannot upload keys.
                    if let Err(e) = self.relay.upload(self.now, &address(d), &k) {
                        assert_eq!(e, RelayError::UploaderNotListed);
                    }
                }
            }
            _ => {
                while !self.queue.is_empty() {
                    self.deliver(0);
                }
            }
        }
    }
}

/// Runs one program; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let mut world = World::new();
    let mut program = Program { data, at: 0 };
    let mut actions = 0;
    while !program.done() && actions < MAX_ACTIONS {
        world.now = Timestamp::from_unix_seconds(T0 + 60 + actions as u64);
        world.step(&mut program);
        actions += 1;
    }
}

/// What a program reaches, for the replay test: the names of the events and
/// errors of every delivery and call, in a set.
#[cfg(test)]
pub(crate) fn outcomes(data: &[u8]) -> BTreeSet<String> {
    let mut world = World::new();
    let mut program = Program { data, at: 0 };
    let mut actions = 0;
    let mut seen = BTreeSet::new();
    while !program.done() && actions < MAX_ACTIONS {
        world.now = Timestamp::from_unix_seconds(T0 + 60 + actions as u64);
        let opened_before: usize = world.messages.iter().map(|m| m.opened.len()).sum();
        let sealed_before = world.messages.len();
        let queued_before = world.queue.len() + world.delivered.len();
        world.step(&mut program);
        let opened: usize = world.messages.iter().map(|m| m.opened.len()).sum();
        if opened > opened_before {
            seen.insert("opened".to_owned());
        }
        if world.messages.len() > sealed_before {
            seen.insert("sealed".to_owned());
        }
        if world.queue.len() + world.delivered.len() > queued_before {
            seen.insert("queued".to_owned());
        }
        actions += 1;
    }
    if world
        .messages
        .iter()
        .any(|m| m.to_user.is_none() && !m.opened.is_empty())
    {
        seen.insert("group message opened".to_owned());
    }
    if world.versions.iter().any(|v| v.len() > 1) {
        seen.insert("device list changed".to_owned());
    }
    seen
}

/// The seed programs (hand-written, see the module docs for the encoding).
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    // Action bytes: kind | device << 4.
    let a = |kind: u8, d: u8| kind | (d << 4);
    vec![
        // alice/1 to bob, bob/2 to alice, carol to alice; deliver all.
        (
            "one_to_one",
            vec![a(0, 0), 1, a(0, 3), 0, a(0, 4), 0, a(15, 0)],
        ),
        // Every fixture device to the group, delivered out of order.
        (
            "group_messages",
            vec![
                a(1, 0),
                a(1, 2),
                a(1, 4),
                a(6, 0),
                3,
                a(6, 0),
                0,
                a(6, 0),
                7,
                a(15, 0),
            ],
        ),
        // carol lists her second device; everyone fetches carol; alice
        // updates the group; carol/2 writes to it and to alice.
        (
            "add_device_then_group",
            vec![
                a(3, 2),
                a(5, 0),
                2,
                a(5, 1),
                2,
                a(5, 2),
                2,
                a(5, 3),
                2,
                a(5, 4),
                2,
                a(5, 7),
                0,
                a(5, 7),
                1,
                a(2, 0),
                0x40,
                a(15, 0),
                a(1, 7),
                a(0, 7),
                0,
                a(15, 0),
            ],
        ),
        // bob removes bob/2; everyone fetches bob; alice rotates the group;
        // bob/2 is left out of new messages.
        (
            "remove_device_then_group",
            vec![
                a(4, 1),
                0,
                a(5, 0),
                1,
                a(5, 1),
                1,
                a(5, 4),
                1,
                a(2, 0),
                0,
                a(15, 0),
                a(1, 4),
                a(0, 0),
                1,
                a(15, 0),
                a(0, 3),
                0,
                a(15, 0),
            ],
        ),
        // Remove carol from the group, then she writes to it.
        (
            "remove_user_from_group",
            vec![a(2, 2), 0x20, a(15, 0), a(1, 4), a(1, 0), a(15, 0)],
        ),
        // Duplicates, a misrouted message, a mutation and a relabelling.
        (
            "hostile_deliveries",
            vec![
                a(0, 0),
                1,
                a(9, 4),
                0,
                a(12, 0),
                0,
                3,
                0x10,
                a(13, 0),
                0,
                a(6, 0),
                0,
                a(8, 0),
                0,
                a(12, 1),
                0,
                9,
                4,
                a(15, 0),
                a(8, 0),
                1,
            ],
        ),
        // Garbage, an export and import mid-conversation, dropped envelopes.
        (
            "reload_and_drop",
            vec![
                a(0, 1),
                2,
                a(10, 1),
                a(11, 2),
                9,
                1,
                1,
                6,
                0,
                0,
                0,
                0,
                0,
                0,
                a(7, 0),
                1,
                a(10, 2),
                a(15, 0),
                a(14, 3),
                a(5, 0),
                1,
                a(0, 0),
                1,
                a(15, 0),
            ],
        ),
        // Concurrent group proposals: alice's and bob's; bob's is refused
        // by the relay or discarded.
        (
            "concurrent_proposals",
            vec![a(2, 0), 0, a(2, 2), 0, a(15, 0), a(1, 2), a(15, 0)],
        ),
    ]
}
