//! Fuzz target: `Account::receive` on arbitrary bytes (SPEC.md §13.8).
//!
//! A fixture is built once, deterministically (ChaCha20 seed `[0xac; 32]`,
//! clock `T0`), as `examples/chat.rs` does: users `alice` (devices 1, the
//! primary, and 2), `bob` (1, primary, and 2) and `carol` (1) behind a
//! `Relay`; every device publishes its list (primaries), its bundle and two
//! one-time keys, fetches every user, and sends one message to every other
//! user; alice makes the group `club` of the three users and every member
//! sends one group message. Everything so far is delivered. Then *genuine*
//! envelopes are made and not delivered: a message from every device to
//! every other user and to its own user, a group message from every member,
//! what `fetch_user` gives for each user (list, bundles, a fresh one-time
//! key of each device), alice's update of `club` removing carol (one view per member),
//! alice's device list version 1 (stale), bob's list version 3 removing his
//! device 2, and two envelopes delivered before (a message and a view). Every
//! device's account is exported into a sealed blob; for each device and
//! each genuine envelope the fixture records what `receive` gives (the
//! outcome, the event and the SHA-256 of the state bytes after it).
//!
//! Input: `selector ‖ rest`. The selector's low 3 bits (mod 5) pick the
//! receiving device (alice/1, alice/2, bob/1, bob/2, carol/1), whose account
//! is imported afresh from its blob; `(selector >> 3) mod 6` picks what is
//! received, at `T0 + 60`:
//!
//! | mode | received bytes |
//! |---|---|
//! | 0 | `rest` as it is |
//! | 1 | an envelope of kind `1 + rest[0] mod 6` with body `rest[1..]` |
//! | 2 | a 1:1 message envelope with a valid routing header (sender: device `rest[0] mod 5`, recipient: the receiving device, to user: `(rest[0] >> 4) mod 3`) and `rest[1..]` as the sealed message |
//! | 3 | a group message envelope for group `club` (or, with `rest[0]` odd, `book`), sealed part `rest[1..]` |
//! | 4 | genuine envelope `rest[0] mod n`, with `rest[3..]` XOR-ed in from position `u16(rest[1..3]) mod len` (wrapping); with nothing to XOR, the genuine envelope itself |
//! | 5 | the body of genuine envelope `rest[0] mod n` under kind `1 + rest[1] mod 6`, cut to `u16(rest[2..4]) mod (len + 1)` bytes, then `rest[4..]` appended |
//!
//! Checks (a violation panics):
//! - `receive` never panics, and refuses exactly what `Envelope::decode`
//!   refuses with `ReceiveError::Envelope`;
//! - a refusal leaves `hazmat_state_bytes()` byte-identical;
//! - a genuine envelope gives exactly the fixture's outcome (determinism);
//! - whatever is accepted has the effect of a genuine envelope for this
//!   device: the same event (plaintext included) and the same state after
//!   it — so nothing but a genuine envelope opens, no forged list, bundle,
//!   one-time key or distribution is taken, and mutations only reach
//!   what the genuine envelope reaches;
//! - `Duplicate` changes nothing; a message or group message received a
//!   second time is refused, and that refusal changes nothing.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/account_receive.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`. The seeds in
//! `fuzz/corpus/account_receive/` are written by `seeds` below (`cargo test
//! --test fuzz_corpus --all-features -- --ignored regenerate_account_receive_seeds`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    // Devices and users are numbered; the numbers index several tables.
    clippy::needless_range_loop
)]

use std::cell::RefCell;
use std::sync::OnceLock;

use letterseal::account::{Account, Envelope, EnvelopeKind, Event, ReceiveError, Relay};
use letterseal::codec::Writer;
use letterseal::group::GroupId;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::ContentType;
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

const T0: u64 = 1_800_000_000;
const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// The devices, in selector order: (user index, device number, primary).
const DEVICES: [(usize, u32, bool); 5] = [
    (0, 1, true),
    (0, 2, false),
    (1, 1, true),
    (1, 2, false),
    (2, 1, true),
];
const MODES: u8 = 6;

fn user(i: usize) -> UserId {
    UserId::new(USERS[i]).unwrap()
}

fn address(d: usize) -> DeviceAddress {
    let (u, n, _) = DEVICES[d];
    DeviceAddress::new(user(u), DeviceId::new(n))
}

fn club() -> GroupId {
    GroupId::new("club").unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(T0 + 60)
}

/// One envelope made by the fixture.
struct Genuine {
    /// What it is, for seed names and panic messages.
    name: String,
    /// The device it is addressed to, if one.
    #[cfg_attr(not(test), allow(dead_code))]
    to: Option<usize>,
    bytes: Vec<u8>,
}

/// What `receive` of a genuine envelope gives on a device.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Outcome {
    /// `ok <event>` (the plaintext included) or `err <name>`.
    summary: String,
    /// SHA-256 of the state bytes after it.
    state: [u8; 32],
}

struct Fixture {
    key: StorageKey,
    /// Per device: its sealed account and the blob's generation.
    blobs: Vec<(Vec<u8>, u64)>,
    genuine: Vec<Genuine>,
    /// `expected[device][genuine]`.
    expected: Vec<Vec<Outcome>>,
    /// Per device: the state bytes of its imported account.
    states: Vec<Vec<u8>>,
}

fn state_hash(account: &Account) -> [u8; 32] {
    Sha256::digest(
        account
            .hazmat_state_bytes()
            .expect("the state encodes")
            .as_slice(),
    )
    .into()
}

/// The event with everything it carries (`Event`'s `Debug` leaves the
/// plaintext out, so it is appended in hex).
fn summarize(result: &Result<Event, ReceiveError>) -> String {
    match result {
        Ok(event) => {
            let plaintext = event.plaintext().map(hex).unwrap_or_default();
            format!("ok {event:?} {plaintext}")
        }
        Err(e) => format!("err {}", e.name()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Uploads from `from` and delivers what the relay fans out.
fn deliver(relay: &mut Relay, accounts: &mut [Account], from: usize, envelope: &[u8]) {
    let t = Timestamp::from_unix_seconds(T0);
    for out in relay.upload(t, &address(from), envelope).unwrap() {
        let to = (0..DEVICES.len()).find(|&d| address(d) == out.to).unwrap();
        accounts[to].receive(t, &out.envelope).unwrap();
    }
}

/// Uploads from `from`; the relay's fan-out becomes genuine envelopes.
fn upload_genuine(
    relay: &mut Relay,
    genuine: &mut Vec<Genuine>,
    from: usize,
    what: &str,
    envelope: &[u8],
) {
    let t = Timestamp::from_unix_seconds(T0);
    for out in relay.upload(t, &address(from), envelope).unwrap() {
        if genuine.iter().any(|g| g.bytes == out.envelope) {
            continue;
        }
        genuine.push(Genuine {
            name: format!("{what}_to_{}_{}", out.to.user, out.to.device),
            to: (0..DEVICES.len()).find(|&d| address(d) == out.to),
            bytes: out.envelope,
        });
    }
}

fn build() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed([0xac; 32]);
    let t = Timestamp::from_unix_seconds(T0);
    let mut relay = Relay::new();
    let mut accounts: Vec<Account> = (0..DEVICES.len())
        .map(|d| match DEVICES[d].2 {
            true => Account::create_primary(&mut rng, t, address(d)),
            false => Account::create_secondary(&mut rng, t, address(d)),
        })
        .collect();
    let mut genuine = Vec::new();
    let stale_alice = accounts[0].uploads(&mut rng, t).unwrap().remove(0);
    genuine.push(Genuine {
        name: "alice_list_v1_stale".into(),
        to: None,
        bytes: stale_alice,
    });
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
            assert!(relay.upload(t, &address(d), &envelope).unwrap().is_empty());
        }
    }
    for account in accounts.iter_mut() {
        for u in 0..USERS.len() {
            for envelope in relay.fetch_user(&user(u)) {
                // Its own one-time key included (`Duplicate`): every fetched envelope is taken.
                account.receive(t, &envelope).unwrap();
            }
        }
    }
    let mut delivered_message = None;
    for d in 0..DEVICES.len() {
        for u in 0..USERS.len() {
            if u == DEVICES[d].0 {
                continue;
            }
            let text = format!("warm-up from {d} to {u}");
            let out = accounts[d]
                .seal_to_user(&mut rng, t, &user(u), ContentType::Text, text.as_bytes())
                .unwrap();
            for o in out {
                delivered_message.get_or_insert_with(|| o.envelope.clone());
                deliver(&mut relay, &mut accounts, d, &o.envelope);
            }
        }
    }
    let upload = accounts[0]
        .create_group(&mut rng, t, club(), &[user(1), user(2)])
        .unwrap();
    let views = relay.upload(t, &address(0), &upload).unwrap();
    let delivered_view = views[1].envelope.clone();
    for out in views {
        let to = (0..DEVICES.len()).find(|&d| address(d) == out.to).unwrap();
        accounts[to].receive(t, &out.envelope).unwrap();
    }
    for d in 0..DEVICES.len() {
        let text = format!("group warm-up from {d}");
        let sealed = accounts[d]
            .seal_to_group(&mut rng, t, &club(), ContentType::Text, text.as_bytes())
            .unwrap();
        deliver(&mut relay, &mut accounts, d, &sealed);
    }
    genuine.push(Genuine {
        name: "delivered_message".into(),
        to: None,
        bytes: delivered_message.unwrap(),
    });
    genuine.push(Genuine {
        name: "delivered_view".into(),
        to: None,
        bytes: delivered_view,
    });

    // Genuine, not delivered.
    for d in 0..DEVICES.len() {
        for u in 0..USERS.len() {
            let text = format!("pending from {d} to {u}");
            let Ok(out) =
                accounts[d].seal_to_user(&mut rng, t, &user(u), ContentType::Text, text.as_bytes())
            else {
                continue; // carol to herself: no other device
            };
            for o in out {
                upload_genuine(
                    &mut relay,
                    &mut genuine,
                    d,
                    &format!("message_{d}_for_{}", USERS[u]),
                    &o.envelope,
                );
            }
        }
        let text = format!("pending group message from {d}");
        let sealed = accounts[d]
            .seal_to_group(&mut rng, t, &club(), ContentType::Location, text.as_bytes())
            .unwrap();
        upload_genuine(
            &mut relay,
            &mut genuine,
            d,
            &format!("group_message_{d}"),
            &sealed,
        );
    }
    for d in 0..DEVICES.len() {
        for envelope in accounts[d].one_time_keys(&mut rng, t, 1).unwrap() {
            relay.upload(t, &address(d), &envelope).unwrap();
        }
    }
    for u in 0..USERS.len() {
        for (i, bytes) in relay.fetch_user(&user(u)).into_iter().enumerate() {
            genuine.push(Genuine {
                name: format!("fetch_{}_{i}", USERS[u]),
                to: None,
                bytes,
            });
        }
    }
    let update = accounts[0]
        .update_group(&mut rng, t, &club(), &[], &[user(2)])
        .unwrap();
    upload_genuine(&mut relay, &mut genuine, 0, "view_without_carol", &update);
    let (removal, _) = accounts[2].remove_device(DeviceId::new(2)).unwrap();
    assert!(relay.upload(t, &address(2), &removal).unwrap().is_empty());
    genuine.push(Genuine {
        name: "bob_list_v3_removing_2".into(),
        to: None,
        bytes: removal,
    });

    let key = StorageKey::generate(&mut rng);
    let blobs: Vec<(Vec<u8>, u64)> = accounts
        .iter_mut()
        .map(|a| {
            let blob = a.export(&mut rng, &key).unwrap();
            (blob.as_bytes().to_vec(), blob.generation())
        })
        .collect();
    let mut fixture = Fixture {
        key,
        blobs,
        genuine,
        expected: Vec::new(),
        states: Vec::new(),
    };
    fixture.states = (0..DEVICES.len())
        .map(|d| {
            fixture
                .import(d)
                .hazmat_state_bytes()
                .expect("the state encodes")
                .to_vec()
        })
        .collect();
    fixture.expected = (0..DEVICES.len())
        .map(|d| {
            fixture
                .genuine
                .iter()
                .map(|g| {
                    let mut account = fixture.import(d);
                    let result = account.receive(now(), &g.bytes);
                    Outcome {
                        summary: summarize(&result),
                        state: state_hash(&account),
                    }
                })
                .collect()
        })
        .collect();
    fixture
}

impl Fixture {
    fn import(&self, d: usize) -> Account {
        let (blob, generation) = &self.blobs[d];
        Account::import(&self.key, blob, *generation).unwrap()
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build)
}

fn u16_at(bytes: &[u8], at: usize) -> usize {
    let hi = bytes.get(at).copied().unwrap_or(0);
    let lo = bytes.get(at + 1).copied().unwrap_or(0);
    usize::from(u16::from_be_bytes([hi, lo]))
}

fn kind(code: u8) -> EnvelopeKind {
    EnvelopeKind::from_code(1 + code % 6).unwrap()
}

/// The bytes received for an input (see the module docs), or `None` for an
/// empty input.
fn received(f: &Fixture, data: &[u8]) -> Option<(usize, Vec<u8>)> {
    let (&selector, rest) = data.split_first()?;
    let device = usize::from(selector & 7) % DEVICES.len();
    let first = rest.first().copied().unwrap_or(0);
    let tail = rest.get(1..).unwrap_or(&[]);
    let bytes = match (selector >> 3) % MODES {
        0 => rest.to_vec(),
        1 => Envelope::encode(kind(first), tail).unwrap(),
        2 => {
            let sender = address(usize::from(first) % DEVICES.len());
            let mut w = Writer::new();
            for a in [&sender, &address(device)] {
                w.bytes_u8(a.user.as_bytes()).unwrap();
                w.u32(a.device.get());
            }
            w.bytes_u8(user(usize::from(first >> 4) % USERS.len()).as_bytes())
                .unwrap();
            w.raw(tail);
            Envelope::encode(EnvelopeKind::PairwiseMessage, &w.into_bytes()).unwrap()
        }
        3 => {
            let group: &[u8] = if first & 1 == 0 { b"club" } else { b"book" };
            let mut w = Writer::new();
            w.bytes_u8(group).unwrap();
            w.raw(tail);
            Envelope::encode(EnvelopeKind::GroupMessage, &w.into_bytes()).unwrap()
        }
        4 => {
            let mut bytes = f.genuine[usize::from(first) % f.genuine.len()]
                .bytes
                .clone();
            let start = u16_at(rest, 1) % bytes.len();
            for (i, x) in rest.iter().skip(3).enumerate() {
                let at = (start + i) % bytes.len();
                bytes[at] ^= x;
            }
            bytes
        }
        _ => {
            let original = &f.genuine[usize::from(first) % f.genuine.len()].bytes;
            let body = Envelope::decode(original).unwrap().body();
            let mut body = body.to_vec();
            body.truncate(u16_at(rest, 2) % (body.len() + 1));
            body.extend_from_slice(rest.get(4..).unwrap_or(&[]));
            let code = rest.get(1).copied().unwrap_or(0);
            Envelope::encode(kind(code), &body).unwrap()
        }
    };
    Some((device, bytes))
}

thread_local! {
    /// Per device, an account whose state bytes are the fixture's (one that
    /// refused the last input); imported afresh when missing.
    static ACCOUNTS: RefCell<Vec<Option<Account>>> =
        RefCell::new((0..DEVICES.len()).map(|_| None).collect());
}

/// The fixture's account of `device`: the cached one if held, else imported.
fn take_account(f: &Fixture, device: usize) -> Account {
    ACCOUNTS
        .with(|cache| cache.borrow_mut()[device].take())
        .unwrap_or_else(|| f.import(device))
}

/// Runs one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let f = fixture();
    let Some((device, bytes)) = received(f, data) else {
        return;
    };
    let mut account = take_account(f, device);
    let before = &f.states[device];
    let result = account.receive(now(), &bytes);
    let summary = summarize(&result);
    if let Err(e) = Envelope::decode(&bytes) {
        assert_eq!(
            result.as_ref().err(),
            Some(&ReceiveError::Envelope(e)),
            "receive took what Envelope::decode refuses"
        );
    }
    let genuine = f.genuine.iter().position(|g| g.bytes == bytes);
    match &result {
        Err(e) => {
            assert!(
                account
                    .hazmat_state_bytes()
                    .expect("the state encodes")
                    .as_slice()
                    == before.as_slice(),
                "refusal {e:?} on device {device} changed the state"
            );
            // Byte-identical state: the next input may start from it.
            ACCOUNTS.with(|cache| cache.borrow_mut()[device] = Some(account));
        }
        Ok(event) => {
            let state = state_hash(&account);
            let outcome = Outcome {
                summary: summary.clone(),
                state,
            };
            assert!(
                f.expected[device].contains(&outcome),
                "device {device} accepted bytes that are no genuine envelope's effect: {summary}"
            );
            if matches!(event, Event::Duplicate) {
                assert!(
                    account
                        .hazmat_state_bytes()
                        .expect("the state encodes")
                        .as_slice()
                        == before.as_slice(),
                    "Duplicate changed the state"
                );
            }
            if event.plaintext().is_some() {
                let after = account.hazmat_state_bytes().expect("the state encodes");
                let again = account.receive(now(), &bytes);
                assert!(again.is_err(), "a message opened twice: {again:?}");
                assert!(
                    account.hazmat_state_bytes().expect("the state encodes") == after,
                    "the refused second delivery changed the state"
                );
            }
        }
    }
    if let Some(g) = genuine {
        assert_eq!(
            summary, f.expected[device][g].summary,
            "genuine envelope {} on device {device}: not the fixture's outcome",
            f.genuine[g].name
        );
    }
}

/// The outcome of an input, for the replay test: `ok <event kind>` or
/// `err <error name>[ <inner>]`.
#[cfg(test)]
pub(crate) fn outcome(data: &[u8]) -> String {
    let f = fixture();
    let Some((device, bytes)) = received(f, data) else {
        return "empty".into();
    };
    let mut account = f.import(device);
    match account.receive(now(), &bytes) {
        Ok(event) => {
            let debug = format!("{event:?}");
            let name: String = debug.chars().take_while(|c| c.is_alphanumeric()).collect();
            format!("ok {name}")
        }
        Err(e) => {
            let inner = match &e {
                ReceiveError::Envelope(x) => x.name().to_owned(),
                ReceiveError::DeviceList(x) => x.name().to_owned(),
                ReceiveError::Open(x) => x.name().to_owned(),
                ReceiveError::GroupOpen(x) => x.name().to_owned(),
                ReceiveError::Group(x) => x.name().to_owned(),
                ReceiveError::Registration(x) => x.name().to_owned(),
                ReceiveError::Session(x) => format!("{x:?}"),
                _ => String::new(),
            };
            format!("err {} {inner}", e.name()).trim_end().to_owned()
        }
    }
}

/// The seeds: every genuine envelope on the device it is addressed to (or,
/// if none, device `g mod 5`) and on the next device (mode 4; what
/// `fetch_user` gives: on every device), with a
/// flipped byte, every third relabelled (mode 5), and a few of each other
/// mode.
#[cfg(test)]
pub(crate) fn seeds() -> Vec<(String, Vec<u8>)> {
    use std::collections::BTreeMap;

    let f = fixture();
    let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let d8 = |d: usize| u8::try_from(d % DEVICES.len()).unwrap();
    for (g, genuine) in f.genuine.iter().enumerate() {
        let g8 = u8::try_from(g).unwrap();
        let to = genuine.to.unwrap_or(g % DEVICES.len());
        let devices: Vec<usize> = match genuine.name.starts_with("fetch_") {
            true => (0..DEVICES.len()).collect(),
            false => vec![to, to + 1],
        };
        for device in devices {
            out.insert(
                format!("genuine_{}_on_{}", genuine.name, device % DEVICES.len()),
                vec![(4 << 3) | d8(device), g8],
            );
        }
        out.insert(
            format!("flip_{}", genuine.name),
            vec![(4 << 3) | d8(to), g8, 0, 60, 0x01],
        );
        if g % 3 == 0 {
            let k = u8::try_from(g / 3 % 6).unwrap();
            out.insert(
                format!("relabel_{}_as_{}", genuine.name, k + 1),
                vec![(5 << 3) | d8(to), g8, k, 0xff, 0xff],
            );
        }
    }
    out.insert("raw_0".into(), vec![0, 1, 1, 0, 0, 0, 0]);
    out.insert("raw_truncated_3".into(), vec![3, 1, 4, 0, 0]);
    out.insert("unknown_kind_2".into(), vec![2, 1, 9, 0, 0, 0, 0]);
    for k in 0..6u8 {
        out.insert(
            format!("wrap_kind_{}", k + 1),
            vec![(1 << 3) | d8(usize::from(k)), k, 1, 2, 3, 4],
        );
    }
    for device in 0..DEVICES.len() {
        out.insert(
            format!("routed_message_{device}"),
            [
                vec![(2 << 3) | d8(device), 0x10 | d8(device + 1)],
                vec![2; 120],
            ]
            .concat(),
        );
    }
    out.insert(
        "routed_group_club".into(),
        [vec![3 << 3, 0], vec![2; 120]].concat(),
    );
    out.insert(
        "routed_group_unknown".into(),
        [vec![(3 << 3) | 1, 1], vec![2; 120]].concat(),
    );
    out.into_iter().collect()
}
