//! Pairwise-session costs (SPEC.md §7, the LS3 ratchet), each beside the bare
//! primitives the step needs, so every group reads as a ratio `letterseal / baseline`.
//!
//! | group | `letterseal` | `baseline` (the floor) |
//! |---|---|---|
//! | `ratchet_same_direction/{64B,1KiB,16KiB,1MiB}` | Alice seals, Bob opens, in one epoch (no DH step) | per side one HKDF-SHA-256 (extract + a 76-byte expand, as one message-key derivation), one AES-256 key setup, and AES-256-GCM encryption (Alice) / decryption (Bob) with a 113-byte AAD |
//! | `ratchet_same_direction/{64B,1KiB,16KiB,1MiB}`, entries `letterseal_into` and `baseline_all_primitives` | the same with `Session::seal_into` and `Session::open_into` into caller buffers reused across iterations (no message or plaintext allocation, no copy of the plaintext or ciphertext) | `baseline` plus the rest of what the protocol computes per message: per side the chain step (two HKDF-Expands of the chain key, 32 bytes each); for the sender the hedged salt (SPEC.md §3.5: HKDF-Expand of the message secret to the 16-byte POLYVAL key, 32 random bytes from a ChaCha20 RNG as the crate's, POLYVAL over the plaintext and the length block, HKDF-Expand over `random ‖ bound ‖ digest` to 16 bytes) |
//! | `ratchet_ping_pong/1KiB` | one turn with the direction alternating: the sender's sending step and seal, the receiver's receiving step and open | the same, plus one X25519 key generation and two X25519 agreements (the new key with the peer's, and the receiver's) and one more HKDF per side (the root step) |
//! | `ratchet_kem_step_turn/1KiB` | a turn that is a KEM step | the ping-pong floor plus ML-KEM-768 encapsulation, key generation and decapsulation |
//! | `ratchet_first_message/1KiB` | a fresh pair: Alice's first seal (hybrid start) and Bob's open (hybrid start as responder) | X25519 key generation, four agreements (`dh1`, `dh2` on each side), ML-KEM-768 encapsulation and decapsulation, one more HKDF per side (the start's derivation), and the same-direction floor |
//!
//! `baseline`'s message-key derivation has an HKDF-Extract the protocol does
//! not do (its message keys are an Expand of the message secret), so both
//! same-direction floors slightly overstate that part; it is kept for
//! comparison with earlier runs.
//!
//! The floors use libcrux's ML-KEM-768 and RustCrypto's `x25519-dalek`,
//! `hkdf` and `aes-gcm` directly: the same primitives the crate calls, with no
//! protocol logic around them.
//!
//! Besides the timings, the bench prints the size of a session state blob
//! holding the most skipped message secrets the default policy allows (2 000).
//!
//! Run: `cargo bench --features hazmat --bench pairwise -- --warm-up-time 1 --measurement-time 3`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Tag};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hkdf::Hkdf;
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::labels;
use letterseal::pairwise::{
    COMMITMENT_LEN, ContentType, RatchetPolicy, SALT_LEN, Session, plaintext_len,
};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use libcrux_ml_kem::mlkem768;
use polyval::Polyval;
use polyval::universal_hash::UniversalHash;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

const SIZES: [(&str, usize); 4] = [
    ("64B", 64),
    ("1KiB", 1024),
    ("16KiB", 16 * 1024),
    ("1MiB", 1024 * 1024),
];
/// A message header without the optional fields is 113 bytes (SPEC.md §7.3).
const AAD_LEN: usize = 113;
/// The labelled `info` of a message-key derivation is about this long.
const INFO_LEN: usize = 60;
/// The POLYVAL key of a hedged salt (SPEC.md §3.5).
const HEDGE_KEY_LEN: usize = 16;
/// The fresh randomness of a hedged salt.
const HEDGE_RANDOM_LEN: usize = 32;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000)
}

fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

struct Party {
    keys: DeviceKeys,
    bundle: VerifiedBundle,
}

fn party(rng: &mut ChaCha20Rng, name: &str) -> Party {
    let address = DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1));
    let mut keys = DeviceKeys::generate(rng, address);
    let bundle = keys
        .add_sealing_key(rng, now(), 30 * 86_400)
        .verify(
            &keys.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    Party { keys, bundle }
}

/// Alice and Bob with sessions that have exchanged one message each way.
struct Pair {
    rng: ChaCha20Rng,
    alice: Party,
    bob: Party,
    at_alice: Session,
    at_bob: Session,
}

fn pair(seed: u8, policy: RatchetPolicy) -> Pair {
    let mut rng = rng(seed);
    let mut alice = party(&mut rng, "alice");
    let mut bob = party(&mut rng, "bob");
    let mut at_alice = Session::new(&alice.keys, &bob.bundle)
        .unwrap()
        .with_policy(policy)
        .unwrap();
    let mut at_bob = Session::new(&bob.keys, &alice.bundle)
        .unwrap()
        .with_policy(policy)
        .unwrap();
    let m = at_alice
        .seal(&alice.keys, &mut rng, now(), ContentType::Text, b"hi", b"")
        .unwrap();
    at_bob.open(&mut bob.keys, now(), &m, b"").unwrap();
    let r = at_bob
        .seal(&bob.keys, &mut rng, now(), ContentType::Text, b"hi", b"")
        .unwrap();
    at_alice.open(&mut alice.keys, now(), &r, b"").unwrap();
    Pair {
        rng,
        alice,
        bob,
        at_alice,
        at_bob,
    }
}

/// One message-key derivation: HKDF extract (16-byte salt, 32-byte key) and a 76-byte expand.
fn hkdf_76(salt: &[u8; 16], key: &[u8; 32], info: &[u8]) -> [u8; 76] {
    let hk = Hkdf::<Sha256>::new(Some(salt), key);
    let mut out = [0u8; 76];
    hk.expand(info, &mut out).unwrap();
    out
}

/// Per side of a message: HKDF, AES key setup, and GCM seal (or open).
fn floor_message(buffer: &mut [u8], aad: &[u8], info: &[u8]) {
    let keys = hkdf_76(&[1; 16], &[2; 32], info);
    let cipher = Aes256Gcm::new(keys[..32].try_into().unwrap());
    let nonce: [u8; 12] = keys[32..44].try_into().unwrap();
    let tag: Tag = cipher
        .encrypt_inout_detached(&nonce.into(), aad, buffer.into())
        .unwrap();
    let keys = hkdf_76(&[1; 16], &[2; 32], info);
    let cipher = Aes256Gcm::new(keys[..32].try_into().unwrap());
    cipher
        .decrypt_inout_detached(&nonce.into(), aad, buffer.into(), &tag)
        .unwrap();
}

/// Length of the labelled HKDF info (SPEC.md §3.1) with an empty context:
/// `PROTOCOL_ID ‖ u16(L) ‖ u8(len(label)) ‖ label ‖ u32(0)`.
fn labeled_info(label: &[u8]) -> Vec<u8> {
    vec![0x44; labels::PROTOCOL_ID.len() + 2 + 1 + label.len() + 4]
}

/// What the protocol computes per message beyond [`floor_message`]: per side
/// the chain step; for the sender the hedged salt over the plaintext.
struct ProtocolFloor {
    secret_info: Vec<u8>,
    step_info: Vec<u8>,
    hedge_info: Vec<u8>,
    salt_info: Vec<u8>,
    /// The header without salt and commitment (the hedge's context).
    bound: [u8; AAD_LEN - SALT_LEN - COMMITMENT_LEN],
    chain_key: [u8; 32],
}

impl ProtocolFloor {
    fn new() -> Self {
        Self {
            secret_info: labeled_info(labels::kdf::MESSAGE_SECRET),
            step_info: labeled_info(labels::kdf::CHAIN_STEP),
            hedge_info: labeled_info(labels::kdf::HEDGE),
            salt_info: labeled_info(labels::kdf::HEDGED_SALT),
            bound: [0x21; AAD_LEN - SALT_LEN - COMMITMENT_LEN],
            chain_key: [0x17; 32],
        }
    }

    /// `MK = Expand(CK, "message secret")`, `CK' = Expand(CK, "chain step")`.
    fn chain_step(&self) -> [u8; 32] {
        let hk = Hkdf::<Sha256>::from_prk(black_box(&self.chain_key)).unwrap();
        let mut secret = [0u8; 32];
        let mut next = [0u8; 32];
        hk.expand(&self.secret_info, &mut secret).unwrap();
        hk.expand(&self.step_info, &mut next).unwrap();
        black_box(next);
        secret
    }

    /// The hedged salt of SPEC.md §3.5 (no associated data, as the bench's messages).
    fn hedged_salt(&self, rng: &mut ChaCha20Rng, secret: &[u8; 32], plaintext: &[u8]) -> [u8; 16] {
        let hk = Hkdf::<Sha256>::from_prk(secret).unwrap();
        let mut hash_key = [0u8; HEDGE_KEY_LEN];
        hk.expand(&self.hedge_info, &mut hash_key).unwrap();
        let mut random = [0u8; HEDGE_RANDOM_LEN];
        rng.fill_bytes(&mut random);
        let mut polyval = Polyval::new(&hash_key.into());
        polyval.update_padded(plaintext);
        let mut lengths = [0u8; 16];
        lengths[8..].copy_from_slice(&(8 * plaintext.len() as u64).to_le_bytes());
        polyval.update(&[lengths.into()]);
        let digest: [u8; 16] = polyval.finalize().into();
        let mut salt = [0u8; SALT_LEN];
        hk.expand_multi_info(&[&self.salt_info, &random, &self.bound, &digest], &mut salt)
            .unwrap();
        salt
    }

    /// Both sides' chain steps and the sender's hedged salt.
    fn run(&self, rng: &mut ChaCha20Rng, plaintext: &[u8]) {
        let secret = self.chain_step();
        black_box(self.hedged_salt(rng, &secret, plaintext));
        black_box(self.chain_step());
    }
}

fn same_direction(c: &mut Criterion) {
    let mut g = c.benchmark_group("ratchet_same_direction");
    let aad = [0x5a; AAD_LEN];
    let info = [0x33; INFO_LEN];
    let protocol = ProtocolFloor::new();
    let mut floor_rng = rng(9);
    for (name, len) in SIZES {
        let mut p = pair(1, RatchetPolicy::default());
        let mut plaintext = vec![0u8; len];
        p.rng.fill_bytes(&mut plaintext);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(BenchmarkId::new("letterseal", name), |b| {
            b.iter(|| {
                let sealed = p
                    .at_alice
                    .seal(
                        &p.alice.keys,
                        &mut p.rng,
                        now(),
                        ContentType::Text,
                        black_box(&plaintext),
                        b"",
                    )
                    .unwrap();
                p.at_bob
                    .open(&mut p.bob.keys, now(), black_box(&sealed), b"")
                    .unwrap()
            });
        });
        // Caller buffers, reused: the message and the opened plaintext.
        let mut sealed = Vec::new();
        let mut opened = vec![0u8; len];
        let seal_open = |p: &mut Pair, sealed: &mut Vec<u8>, opened: &mut [u8]| {
            p.at_alice
                .seal_into(
                    &p.alice.keys,
                    &mut p.rng,
                    now(),
                    ContentType::Text,
                    black_box(&plaintext),
                    b"",
                    sealed,
                )
                .unwrap();
            p.at_bob
                .open_into(&mut p.bob.keys, now(), black_box(sealed), b"", opened)
                .unwrap()
        };
        // Checked once whatever the filter: the round trip, and a 113-byte header.
        seal_open(&mut p, &mut sealed, &mut opened);
        assert_eq!(opened, plaintext);
        assert_eq!(plaintext_len(&sealed).unwrap(), len);
        assert_eq!(
            sealed.len() - len,
            AAD_LEN + 16,
            "a header of {AAD_LEN} bytes"
        );
        g.bench_function(BenchmarkId::new("letterseal_into", name), |b| {
            b.iter(|| seal_open(&mut p, &mut sealed, &mut opened));
        });
        let mut buffer = plaintext.clone();
        g.bench_function(BenchmarkId::new("baseline", name), |b| {
            b.iter(|| floor_message(black_box(&mut buffer), &aad, &info));
        });
        g.bench_function(BenchmarkId::new("baseline_all_primitives", name), |b| {
            b.iter(|| {
                protocol.run(&mut floor_rng, black_box(&plaintext));
                floor_message(black_box(&mut buffer), &aad, &info);
            });
        });
    }
    g.finish();
}

/// The DH part of a turn's floor: a new key pair, its agreement with the
/// peer's key, and the receiver's agreement with the new key.
fn floor_dh(peer_secret: &StaticSecret, peer_public: &PublicKey, seed: [u8; 32]) -> [u8; 32] {
    let new = StaticSecret::from(seed);
    let new_public = PublicKey::from(&new);
    let a = new.diffie_hellman(peer_public);
    let b = peer_secret.diffie_hellman(&new_public);
    let mut out = *a.as_bytes();
    out[0] ^= b.as_bytes()[0];
    out
}

/// One root step per side (an extract and a 96-byte expand).
fn floor_root(dh: &[u8; 32]) {
    for _ in 0..2 {
        let hk = Hkdf::<Sha256>::new(Some(&[7; 32]), dh);
        let mut out = [0u8; 96];
        hk.expand(&[1; 40], &mut out).unwrap();
        black_box(out);
    }
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("ratchet_ping_pong");
    let aad = [0x5a; AAD_LEN];
    let info = [0x33; INFO_LEN];
    let plaintext = vec![0x42u8; 1024];
    let mut p = pair(
        2,
        RatchetPolicy {
            kem_every_steps: u32::MAX,
            kem_every_seconds: u64::MAX,
            ..RatchetPolicy::default()
        },
    );
    let mut alice_turn = true;
    g.throughput(Throughput::Bytes(1024));
    g.bench_function(BenchmarkId::new("letterseal", "1KiB"), |b| {
        b.iter(|| {
            let opened = if alice_turn {
                let m = p
                    .at_alice
                    .seal(
                        &p.alice.keys,
                        &mut p.rng,
                        now(),
                        ContentType::Text,
                        &plaintext,
                        b"",
                    )
                    .unwrap();
                p.at_bob.open(&mut p.bob.keys, now(), &m, b"").unwrap()
            } else {
                let m = p
                    .at_bob
                    .seal(
                        &p.bob.keys,
                        &mut p.rng,
                        now(),
                        ContentType::Text,
                        &plaintext,
                        b"",
                    )
                    .unwrap();
                p.at_alice.open(&mut p.alice.keys, now(), &m, b"").unwrap()
            };
            alice_turn = !alice_turn;
            opened
        });
    });
    let peer = StaticSecret::from([9u8; 32]);
    let peer_public = PublicKey::from(&peer);
    let mut buffer = plaintext.clone();
    let mut seed = [3u8; 32];
    g.bench_function(BenchmarkId::new("baseline", "1KiB"), |b| {
        b.iter(|| {
            seed[0] = seed[0].wrapping_add(1);
            let dh = floor_dh(&peer, &peer_public, seed);
            floor_root(&dh);
            floor_message(black_box(&mut buffer), &aad, &info);
        });
    });
    g.finish();
}

fn kem_step_turn(c: &mut Criterion) {
    let mut g = c.benchmark_group("ratchet_kem_step_turn");
    let aad = [0x5a; AAD_LEN];
    let info = [0x33; INFO_LEN];
    let plaintext = vec![0x42u8; 1024];
    // A KEM step on every sending step where one is allowed: every turn of one side alternately.
    let mut p = pair(
        3,
        RatchetPolicy {
            kem_every_steps: 1,
            ..RatchetPolicy::default()
        },
    );
    let mut alice_turn = true;
    g.throughput(Throughput::Bytes(1024));
    g.bench_function(BenchmarkId::new("letterseal", "1KiB"), |b| {
        b.iter(|| {
            let opened = if alice_turn {
                let m = p
                    .at_alice
                    .seal(
                        &p.alice.keys,
                        &mut p.rng,
                        now(),
                        ContentType::Text,
                        &plaintext,
                        b"",
                    )
                    .unwrap();
                p.at_bob.open(&mut p.bob.keys, now(), &m, b"").unwrap()
            } else {
                let m = p
                    .at_bob
                    .seal(
                        &p.bob.keys,
                        &mut p.rng,
                        now(),
                        ContentType::Text,
                        &plaintext,
                        b"",
                    )
                    .unwrap();
                p.at_alice.open(&mut p.alice.keys, now(), &m, b"").unwrap()
            };
            alice_turn = !alice_turn;
            opened
        });
    });
    let peer = StaticSecret::from([9u8; 32]);
    let peer_public = PublicKey::from(&peer);
    let kem = mlkem768::generate_key_pair([5u8; 64]);
    let mut buffer = plaintext.clone();
    let mut seed = [3u8; 32];
    g.bench_function(BenchmarkId::new("baseline", "1KiB"), |b| {
        b.iter(|| {
            seed[0] = seed[0].wrapping_add(1);
            let dh = floor_dh(&peer, &peer_public, seed);
            let (ct, _) = mlkem768::encapsulate(kem.public_key(), seed);
            black_box(mlkem768::generate_key_pair([seed[0]; 64]));
            black_box(mlkem768::decapsulate(kem.private_key(), &ct));
            floor_root(&dh);
            floor_message(black_box(&mut buffer), &aad, &info);
        });
    });
    g.finish();
}

fn first_message(c: &mut Criterion) {
    let mut g = c.benchmark_group("ratchet_first_message");
    let aad = [0x5a; AAD_LEN];
    let info = [0x33; INFO_LEN];
    let plaintext = vec![0x42u8; 1024];
    let mut rng = rng(4);
    let alice = party(&mut rng, "alice");
    let bob = party(&mut rng, "bob");
    // Bob's keys: read when his session is made, written when a start is opened.
    let bob_keys = core::cell::RefCell::new(bob.keys);
    g.throughput(Throughput::Bytes(1024));
    g.bench_function(BenchmarkId::new("letterseal", "1KiB"), |b| {
        b.iter_batched(
            || {
                (
                    Session::new(&alice.keys, &bob.bundle).unwrap(),
                    Session::new(&bob_keys.borrow(), &alice.bundle).unwrap(),
                )
            },
            |(mut at_alice, mut at_bob)| {
                let m = at_alice
                    .seal(
                        &alice.keys,
                        &mut rng,
                        now(),
                        ContentType::Text,
                        &plaintext,
                        b"",
                    )
                    .unwrap();
                at_bob
                    .open(&mut bob_keys.borrow_mut(), now(), &m, b"")
                    .unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    let a = StaticSecret::from([1u8; 32]);
    let b_secret = StaticSecret::from([2u8; 32]);
    let (a_public, b_public) = (PublicKey::from(&a), PublicKey::from(&b_secret));
    let kem = mlkem768::generate_key_pair([5u8; 64]);
    let mut buffer = plaintext.clone();
    let mut seed = [3u8; 32];
    g.bench_function(BenchmarkId::new("baseline", "1KiB"), |bench| {
        bench.iter(|| {
            seed[0] = seed[0].wrapping_add(1);
            let e = StaticSecret::from(seed);
            let e_public = PublicKey::from(&e);
            black_box(a.diffie_hellman(&b_public));
            black_box(e.diffie_hellman(&b_public));
            black_box(b_secret.diffie_hellman(&a_public));
            let dh = b_secret.diffie_hellman(&e_public);
            let (ct, _) = mlkem768::encapsulate(kem.public_key(), seed);
            black_box(mlkem768::decapsulate(kem.private_key(), &ct));
            floor_root(dh.as_bytes());
            floor_message(black_box(&mut buffer), &aad, &info);
        });
    });
    g.finish();
}

/// Prints the size of a session blob with the most skipped secrets the default policy allows.
fn state_size(_: &mut Criterion) {
    let mut p = pair(5, RatchetPolicy::default());
    let policy = RatchetPolicy::default();
    let key = StorageKey::from_bytes([1; 32]);
    let empty = p.at_bob.export(&mut p.rng, &key).unwrap().as_bytes().len();
    // Skip max_skip per epoch until the store is full: Alice seals, Bob opens only the last.
    let mut stored = 0u64;
    while stored + u64::from(policy.max_skip) <= u64::from(policy.max_skipped) {
        let mut last = Vec::new();
        for _ in 0..=policy.max_skip {
            last = p
                .at_alice
                .seal(
                    &p.alice.keys,
                    &mut p.rng,
                    now(),
                    ContentType::Text,
                    b"x",
                    b"",
                )
                .unwrap();
        }
        stored += p
            .at_bob
            .open(&mut p.bob.keys, now(), &last, b"")
            .unwrap()
            .skipped;
        let reply = p
            .at_bob
            .seal(&p.bob.keys, &mut p.rng, now(), ContentType::Text, b"y", b"")
            .unwrap();
        p.at_alice
            .open(&mut p.alice.keys, now(), &reply, b"")
            .unwrap();
    }
    let full = p.at_bob.export(&mut p.rng, &key).unwrap().as_bytes().len();
    eprintln!(
        "session state blob: {empty} bytes after a first exchange; {full} bytes with {stored} \
         stored skipped message secrets ({:.1} bytes each)",
        (full - empty) as f64 / stored as f64
    );
}

criterion_group!(
    benches,
    same_direction,
    ping_pong,
    kem_step_turn,
    first_message,
    state_size
);
criterion_main!(benches);
