//! Pairwise-session costs (SPEC.md §7), each beside the bare primitives the
//! construction needs, so every group reads as a ratio `letterseal / baseline`.
//!
//! | group | `letterseal` | `baseline` |
//! |---|---|---|
//! | `pairwise_seal_open/{64B,1KiB,16KiB,1MiB}` | `Session::seal` by Alice + `Session::open` by Bob, chains cached | per side HKDF-SHA-256 extract + expand (76 bytes, §3.1 info) and `Aes256Gcm::new`; encrypt + decrypt, 92-byte AAD |
//! | `pairwise_first_message` | the same, 1 KiB, on a fresh pair of sessions | 2× X25519 + the 1 KiB `pairwise_seal_open` baseline |
//!
//! The seal/open baseline is exactly the per-message work of SPEC.md §7.4–7.5
//! with the chain already known: on each side one `DeriveLabeled(salt (16),
//! chain (32), "pairwise message", bound header fields (44), 76)`, one AES-256
//! key setup, then encryption (sender) or decryption (receiver) in place with
//! the 92-byte header as associated data. The crate is called with empty
//! caller associated data so its AAD is the same 92 bytes.
//!
//! A fresh session also derives each direction's chain: one X25519 and one
//! `DeriveLabeled("", shared, "pairwise chain", party(S) ‖ party(R), 32)` per
//! side. `pairwise_first_message` therefore has a third entry,
//! `baseline_all_primitives`, that adds the two chain derivations to the
//! `baseline`: the floor any implementation of the first message pays.
//!
//! Before timing, the baseline inputs (chain, info, salt, header) are rebuilt
//! from SPEC.md with the raw primitives and checked against a message sealed
//! by the crate, so the baseline provably does the same derivations.
//!
//! Run: `cargo bench --bench pairwise -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use aes_gcm::aead::{AeadInOut, KeyInit, Nonce};
use aes_gcm::{Aes256Gcm, Tag};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hkdf::Hkdf;
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::labels;
use letterseal::pairwise::{
    BOUND_FIELDS_LEN, COMMITMENT_LEN, ContentType, HEADER_LEN, SALT_LEN, Session,
};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::Sha256;

const SEED: [u8; 32] = [0x7a; 32];
const LIFETIME_SECONDS: u64 = 30 * 86_400;
const MESSAGE_KEYS_LEN: usize = 32 + 12 + COMMITMENT_LEN;
const FIRST_MESSAGE_LEN: usize = 1024;
const SIZES: [(&str, usize); 4] = [
    ("64B", 64),
    ("1KiB", 1024),
    ("16KiB", 16 * 1024),
    ("1MiB", 1024 * 1024),
];

/// The time every bench runs at (keys are valid for 30 days from it).
fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000)
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed(SEED)
}

fn random_bytes(rng: &mut ChaCha20Rng, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    rng.fill_bytes(&mut out);
    out
}

/// The labelled HKDF info (SPEC.md §3.1):
/// `PROTOCOL_ID ‖ u16(L) ‖ u8(len(label)) ‖ label ‖ u32(len(context)) ‖ context`.
fn labeled_info(label: &[u8], context: &[u8], out_len: usize) -> Vec<u8> {
    let mut info = Vec::new();
    info.extend_from_slice(labels::PROTOCOL_ID);
    info.extend_from_slice(&u16::try_from(out_len).unwrap().to_be_bytes());
    info.push(u8::try_from(label.len()).unwrap());
    info.extend_from_slice(label);
    info.extend_from_slice(&u32::try_from(context.len()).unwrap().to_be_bytes());
    info.extend_from_slice(context);
    info
}

/// One device with one sealing key, and its verified bundle.
struct Party {
    keys: DeviceKeys,
    bundle: VerifiedBundle,
    /// X25519 secret and public key of the sealing key, for the baselines.
    secret: [u8; 32],
    public: [u8; 32],
}

impl Party {
    fn new(rng: &mut ChaCha20Rng, name: &str) -> Self {
        let now = now();
        let address = DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1));
        let mut keys = DeviceKeys::generate(rng, address);
        let bundle = keys
            .add_sealing_key(rng, now, LIFETIME_SECONDS)
            .verify(
                &keys.address().clone().into(),
                &RegistrationPolicy::default(),
                now,
                None,
                &NoDirectory,
            )
            .expect("fixture bundle verifies");
        let secret = *keys
            .sealing_key(&bundle.sealing_key_id())
            .unwrap()
            .to_bytes();
        let public = bundle.sealing_key().to_bytes();
        Self {
            keys,
            bundle,
            secret,
            public,
        }
    }

    /// `party(X) = address ‖ identity key ‖ sealing public key` (SPEC.md §7.4),
    /// with `address = u8(len(user)) ‖ user ‖ u32(device)` (§4.1).
    fn encode(&self) -> Vec<u8> {
        let address = self.bundle.owner();
        let user = address.user.as_bytes();
        let mut out = vec![u8::try_from(user.len()).unwrap()];
        out.extend_from_slice(user);
        out.extend_from_slice(&address.device.get().to_be_bytes());
        out.extend_from_slice(self.bundle.identity_key().as_bytes());
        out.extend_from_slice(&self.public);
        out
    }
}

fn fresh_sessions(alice: &Party, bob: &Party) -> (Session, Session) {
    (
        Session::new(&alice.keys, &bob.bundle).unwrap(),
        Session::new(&bob.keys, &alice.bundle).unwrap(),
    )
}

/// `DeriveLabeled("", Agree(sk_S, pk_R), "pairwise chain", party(S) ‖ party(R), 32)`.
fn raw_chain(sender_secret: [u8; 32], recipient_public: [u8; 32], info: &[u8]) -> [u8; 32] {
    let shared = x25519_dalek::x25519(sender_secret, recipient_public);
    let mut chain = [0u8; 32];
    Hkdf::<Sha256>::new(Some(b""), &shared)
        .expand(info, &mut chain)
        .expect("HKDF output length is valid");
    chain
}

/// HKDF-SHA-256 extract + expand of the 76 message-key bytes, then the AES-256
/// key setup: `(cipher, nonce, commitment)`.
fn raw_message_cipher(
    salt: &[u8],
    chain: &[u8; 32],
    info: &[u8],
) -> (Aes256Gcm, Nonce<Aes256Gcm>, [u8; COMMITMENT_LEN]) {
    let mut okm = [0u8; MESSAGE_KEYS_LEN];
    Hkdf::<Sha256>::new(Some(salt), chain)
        .expand(info, &mut okm)
        .expect("HKDF output length is valid");
    let (key, rest) = okm.split_at(32);
    let (nonce, commitment) = rest.split_at(12);
    let key: [u8; 32] = key.try_into().unwrap();
    let nonce: [u8; 12] = nonce.try_into().unwrap();
    (
        Aes256Gcm::new(&key.into()),
        Nonce::<Aes256Gcm>::from(nonce),
        commitment.try_into().unwrap(),
    )
}

/// The per-message inputs of the baseline, taken from one real crate message.
struct RawMessage {
    /// `info("pairwise message", bound header fields, 76)`.
    info: Vec<u8>,
    salt: [u8; SALT_LEN],
    /// The whole header: the AEAD associated data.
    header: [u8; HEADER_LEN],
}

/// Sender and receiver of one message with the bare primitives: per side one
/// HKDF extract + expand and one AES key setup; encrypt, then decrypt in place
/// (`buffer` holds the plaintext again afterwards).
fn raw_seal_open(
    m: &RawMessage,
    sender_chain: &[u8; 32],
    receiver_chain: &[u8; 32],
    buffer: &mut [u8],
) {
    let (cipher, nonce, _commitment) = raw_message_cipher(
        black_box(&m.salt),
        black_box(sender_chain),
        black_box(&m.info),
    );
    let tag = cipher
        .encrypt_inout_detached(&nonce, black_box(&m.header), buffer.into())
        .unwrap();
    let (cipher, nonce, _commitment) = raw_message_cipher(
        black_box(&m.salt),
        black_box(receiver_chain),
        black_box(&m.info),
    );
    cipher
        .decrypt_inout_detached(&nonce, black_box(&m.header), buffer.into(), &tag)
        .unwrap();
}

/// Rebuilds one crate-sealed message's keys from SPEC.md §7.4 with the raw
/// primitives and decrypts it: the baseline then measures the same work.
fn check_baseline_matches_crate(sealed: &[u8], plaintext: &[u8], chain: &[u8; 32]) -> RawMessage {
    let (header, body) = sealed.split_at(HEADER_LEN);
    let header: [u8; HEADER_LEN] = header.try_into().unwrap();
    let (bound, rest) = header.split_at(BOUND_FIELDS_LEN);
    let (salt, commitment) = rest.split_at(SALT_LEN);
    let info = labeled_info(labels::kdf::PAIRWISE_MESSAGE, bound, MESSAGE_KEYS_LEN);
    let (cipher, nonce, derived_commitment) = raw_message_cipher(salt, chain, &info);
    assert_eq!(
        derived_commitment.as_slice(),
        commitment,
        "baseline derives the crate's keys"
    );
    let (ciphertext, tag) = body.split_at(body.len() - 16);
    let mut buffer = ciphertext.to_vec();
    let tag: [u8; 16] = tag.try_into().unwrap();
    cipher
        .decrypt_inout_detached(
            &nonce,
            &header,
            buffer.as_mut_slice().into(),
            &Tag::from(tag),
        )
        .expect("baseline opens the crate's message");
    assert_eq!(buffer, plaintext);
    RawMessage {
        info,
        salt: salt.try_into().unwrap(),
        header,
    }
}

struct Fixture {
    alice: Party,
    bob: Party,
    /// `info("pairwise chain", party(Alice) ‖ party(Bob), 32)`.
    chain_info_ab: Vec<u8>,
    /// The Alice → Bob chain.
    chain: [u8; 32],
    message: RawMessage,
}

fn fixture(rng: &mut ChaCha20Rng) -> Fixture {
    let alice = Party::new(rng, "alice");
    let bob = Party::new(rng, "bob");
    let (a, b) = (alice.encode(), bob.encode());
    let chain_info_ab = labeled_info(
        labels::kdf::PAIRWISE_CHAIN,
        &[a.as_slice(), &b].concat(),
        32,
    );
    let chain = raw_chain(alice.secret, bob.public, &chain_info_ab);
    // Both ends agree on the same chain.
    assert_eq!(chain, raw_chain(bob.secret, alice.public, &chain_info_ab));

    let (mut at_alice, _) = fresh_sessions(&alice, &bob);
    let plaintext = random_bytes(rng, FIRST_MESSAGE_LEN);
    let sealed = at_alice
        .seal(&alice.keys, rng, now(), ContentType::Text, &plaintext, b"")
        .unwrap();
    let message = check_baseline_matches_crate(&sealed, &plaintext, &chain);
    Fixture {
        alice,
        bob,
        chain_info_ab,
        chain,
        message,
    }
}

fn seal_open(c: &mut Criterion) {
    let mut rng = rng();
    let f = fixture(&mut rng);

    // An established session: the first message caches both chains.
    let (mut at_alice, mut at_bob) = fresh_sessions(&f.alice, &f.bob);
    let warm_up = at_alice
        .seal(
            &f.alice.keys,
            &mut rng,
            now(),
            ContentType::Text,
            b"hi",
            b"",
        )
        .unwrap();
    at_bob.open(&f.bob.keys, now(), &warm_up, b"").unwrap();

    let mut g = c.benchmark_group("pairwise_seal_open");
    for (name, len) in SIZES {
        let plaintext = random_bytes(&mut rng, len);
        let opened = at_bob
            .open(
                &f.bob.keys,
                now(),
                &at_alice
                    .seal(
                        &f.alice.keys,
                        &mut rng,
                        now(),
                        ContentType::Text,
                        &plaintext,
                        b"",
                    )
                    .unwrap(),
                b"",
            )
            .unwrap();
        assert_eq!(opened.plaintext.as_slice(), plaintext.as_slice());
        let mut buffer = plaintext.clone();
        raw_seal_open(&f.message, &f.chain, &f.chain, &mut buffer);
        assert_eq!(buffer, plaintext);

        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(BenchmarkId::new("letterseal", name), |b| {
            b.iter(|| {
                let sealed = at_alice
                    .seal(
                        &f.alice.keys,
                        &mut rng,
                        now(),
                        ContentType::Text,
                        black_box(&plaintext),
                        b"",
                    )
                    .unwrap();
                at_bob
                    .open(&f.bob.keys, now(), black_box(&sealed), b"")
                    .unwrap()
            });
        });
        g.bench_function(BenchmarkId::new("baseline", name), |b| {
            b.iter(|| raw_seal_open(&f.message, &f.chain, &f.chain, black_box(&mut buffer)));
        });
    }
    g.finish();
}

fn first_message(c: &mut Criterion) {
    let mut rng = rng();
    let f = fixture(&mut rng);
    let plaintext = random_bytes(&mut rng, FIRST_MESSAGE_LEN);
    let mut buffer = plaintext.clone();

    let mut g = c.benchmark_group("pairwise_first_message");
    g.throughput(Throughput::Bytes(FIRST_MESSAGE_LEN as u64));
    g.bench_function("letterseal", |b| {
        b.iter_batched(
            || fresh_sessions(&f.alice, &f.bob),
            |(mut at_alice, mut at_bob)| {
                let sealed = at_alice
                    .seal(
                        &f.alice.keys,
                        &mut rng,
                        now(),
                        ContentType::Text,
                        black_box(&plaintext),
                        b"",
                    )
                    .unwrap();
                let opened = at_bob
                    .open(&f.bob.keys, now(), black_box(&sealed), b"")
                    .unwrap();
                // Returned, so criterion drops the sessions (and the plaintext,
                // ~0.1 µs of zeroizing) outside the timing.
                (at_alice, at_bob, opened)
            },
            BatchSize::SmallInput,
        );
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            let shared_a = x25519_dalek::x25519(black_box(f.alice.secret), black_box(f.bob.public));
            let shared_b = x25519_dalek::x25519(black_box(f.bob.secret), black_box(f.alice.public));
            raw_seal_open(&f.message, &f.chain, &f.chain, black_box(&mut buffer));
            (shared_a, shared_b)
        });
    });
    g.bench_function("baseline_all_primitives", |b| {
        b.iter(|| {
            // Each side: X25519 + chain HKDF, then the message itself.
            let sender = raw_chain(
                black_box(f.alice.secret),
                black_box(f.bob.public),
                black_box(&f.chain_info_ab),
            );
            let receiver = raw_chain(
                black_box(f.bob.secret),
                black_box(f.alice.public),
                black_box(&f.chain_info_ab),
            );
            raw_seal_open(&f.message, &sender, &receiver, black_box(&mut buffer));
        });
    });
    g.finish();
}

criterion_group!(benches, seal_open, first_message);
criterion_main!(benches);
