//! Legacy LINE Letter Sealing, each beside its raw-primitive floor in the same
//! criterion run (SPEC.md §11; issue 19).
//!
//! - `legacy_seal_open_1KiB`: a 1 KiB v2 seal + open through a cached
//!   [`PeerSession`] (16- and 12-byte nonces; bytes, and typed text with its
//!   JSON), beside the floor with the agreement cached — per message
//!   `SHA-256(SS ‖ salt ‖ "Key")`, an AES-256-GCM key setup and one pass, on
//!   each side — and, for reference, the stateless `seal_v2`/`open_v2` (one
//!   X25519 per message and side). LS3 pairwise is in the letterseal crate's
//!   `benches/pairwise.rs`.
//! - `legacy_media_1MiB`: streamed media seal and two-pass open (64 KiB
//!   pieces) beside bare AES-256-CTR + HMAC-SHA-256 over the same MiB.
//!
//! Entries follow `benches/report.py`'s convention: `letterseal_*` beside the
//! `baseline` of the same group and parameter (`nonce16`, `nonce12`, `1MiB`).
//!
//! Run: `cargo bench -p letterseal-legacy --bench legacy -- --warm-up-time 1 --measurement-time 3`
//! (or `python3 benches/report.py --all`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use aes::Aes256;
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{AesGcm, Tag};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use letterseal_legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
use letterseal_legacy::keys::LegacyKeyPair;
use letterseal_legacy::media::{MediaKeyMaterial, MediaSealer, MediaVerifier};
use letterseal_legacy::payload::Payload;
use letterseal_legacy::session::{LegacyVersion, PeerSession, SealOptions};
use letterseal_legacy::v2::{Envelope, NonceLength, open_v2, seal_v2};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

const ALICE: &str = "ufedcba9876543210fedcba9876543210";
const BOB: &str = "u0123456789abcdef0123456789abcdef";

/// The floor of one v2 seal or open with `SS` cached: the key derivation, a
/// GCM key setup and one pass over `buffer` (in place, detached tag).
fn floor_gcm<N: aes_gcm::aead::array::ArraySize>(
    shared: &[u8; 32],
    salt: &[u8; 16],
    nonce: &[u8],
    aad: &[u8],
    buffer: &mut [u8],
    tag: Option<&Tag>,
) -> Tag {
    let mut h = Sha256::new();
    h.update(shared);
    h.update(salt);
    h.update(b"Key");
    let key = h.finalize();
    let cipher = AesGcm::<Aes256, N>::new(&key);
    let nonce = nonce.try_into().unwrap();
    match tag {
        None => cipher
            .encrypt_inout_detached(nonce, aad, buffer.into())
            .unwrap(),
        Some(tag) => {
            cipher
                .decrypt_inout_detached(nonce, aad, buffer.into(), tag)
                .unwrap();
            *tag
        }
    }
}

fn seal_open_1kib(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::from_seed([0x1e; 32]);
    let plaintext = vec![0x42u8; 1024];
    let (alice_id, bob_id) = (LineId::parse(ALICE).unwrap(), LineId::parse(BOB).unwrap());
    let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2_500_001));
    let bob = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2_500_002));
    let envelope = Envelope {
        to: bob_id,
        from: alice_id,
        content_type: LegacyContentType::TEXT,
    };
    let at_alice = PeerSession::new(&alice, alice_id, &bob.public(), bob_id).unwrap();
    let at_alice_12 = PeerSession::new(&alice, alice_id, &bob.public(), bob_id)
        .unwrap()
        .with_options(SealOptions {
            nonce_length: NonceLength::Twelve,
            ..SealOptions::default()
        });
    let at_bob = PeerSession::new(&bob, bob_id, &alice.public(), alice_id).unwrap();
    let text = Payload::Text("x".repeat(1024 - 11));
    assert_eq!(text.to_json().len(), 1024);
    let shared = *alice
        .secret_key()
        .agree(&bob.public_key())
        .unwrap()
        .as_bytes();
    let aad = envelope.aad(alice.key_id(), bob.key_id());

    let mut g = c.benchmark_group("legacy_seal_open_1KiB");
    g.throughput(Throughput::Bytes(1024));
    g.bench_function(BenchmarkId::new("letterseal_session", "nonce16"), |b| {
        b.iter(|| {
            let chunks = at_alice
                .seal_bytes(&mut rng, LegacyContentType::TEXT, &plaintext)
                .unwrap();
            at_bob
                .open_bytes(
                    LegacyVersion::V2,
                    LegacyContentType::TEXT,
                    black_box(&chunks),
                )
                .unwrap()
        });
    });
    g.bench_function(BenchmarkId::new("baseline", "nonce16"), |b| {
        let (mut salt, mut nonce) = ([0u8; 16], [0u8; 16]);
        b.iter(|| {
            rng.fill_bytes(&mut salt);
            rng.fill_bytes(&mut nonce);
            let mut buffer = plaintext.clone();
            let tag = floor_gcm::<U16>(&shared, &salt, &nonce, &aad, &mut buffer, None);
            floor_gcm::<U16>(
                &shared,
                &salt,
                &nonce,
                &aad,
                black_box(&mut buffer),
                Some(&tag),
            );
            buffer
        });
    });
    g.bench_function(BenchmarkId::new("letterseal_session", "nonce12"), |b| {
        b.iter(|| {
            let chunks = at_alice_12
                .seal_bytes(&mut rng, LegacyContentType::TEXT, &plaintext)
                .unwrap();
            at_bob
                .open_bytes(
                    LegacyVersion::V2,
                    LegacyContentType::TEXT,
                    black_box(&chunks),
                )
                .unwrap()
        });
    });
    g.bench_function(BenchmarkId::new("baseline", "nonce12"), |b| {
        let (mut salt, mut nonce) = ([0u8; 16], [0u8; 12]);
        b.iter(|| {
            rng.fill_bytes(&mut salt);
            rng.fill_bytes(&mut nonce);
            let mut buffer = plaintext.clone();
            let tag = floor_gcm::<U12>(&shared, &salt, &nonce, &aad, &mut buffer, None);
            floor_gcm::<U12>(
                &shared,
                &salt,
                &nonce,
                &aad,
                black_box(&mut buffer),
                Some(&tag),
            );
            buffer
        });
    });
    g.bench_function(
        BenchmarkId::new("letterseal_session_typed_text", "nonce16"),
        |b| {
            b.iter(|| {
                let chunks = at_alice
                    .seal(&mut rng, LegacyContentType::TEXT, &text)
                    .unwrap();
                at_bob
                    .open(
                        LegacyVersion::V2,
                        LegacyContentType::TEXT,
                        black_box(&chunks),
                    )
                    .unwrap()
            });
        },
    );
    let bob_public = bob.public();
    let alice_public = alice.public_key();
    let bob_keys = [bob];
    g.bench_function(
        BenchmarkId::new("letterseal_stateless_x25519_per_message", "nonce16"),
        |b| {
            b.iter(|| {
                let chunks = seal_v2(
                    &mut rng,
                    NonceLength::default(),
                    &alice,
                    &bob_public,
                    &envelope,
                    &plaintext,
                )
                .unwrap();
                open_v2(&bob_keys, &alice_public, &envelope, black_box(&chunks)).unwrap()
            });
        },
    );

    g.finish();
}

const MIB: usize = 1 << 20;
const PIECE: usize = 64 * 1024;

fn media_1mib(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::from_seed([0x3e; 32]);
    let km = MediaKeyMaterial::generate(&mut rng);
    let keys = km.derive_keys();
    let file = vec![0x5au8; MIB];
    let blob = letterseal_legacy::media::seal_media(&km, &file).unwrap();
    let mut counter_block = [0u8; 16];
    counter_block[..12].copy_from_slice(keys.nonce());

    let mut g = c.benchmark_group("legacy_media_1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    g.bench_function(BenchmarkId::new("baseline", "1MiB"), |b| {
        let mut buffer = file.clone();
        b.iter(|| {
            let mut cipher =
                ctr::Ctr32BE::<Aes256>::new(keys.enc_key().into(), (&counter_block).into());
            cipher.apply_keystream(&mut buffer);
            let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(keys.mac_key()).unwrap();
            mac.update(black_box(&buffer));
            mac.finalize()
        });
    });
    g.bench_function(BenchmarkId::new("letterseal_stream_seal", "1MiB"), |b| {
        let mut buffer = file.clone();
        b.iter(|| {
            let mut sealer = MediaSealer::new(&km);
            for piece in buffer.chunks_mut(PIECE) {
                sealer.encrypt_in_place(piece).unwrap();
            }
            sealer.finish()
        });
    });
    let open = |checked: bool, buffer: &mut Vec<u8>| {
        let mut verifier = MediaVerifier::new(&km);
        for piece in blob.chunks(PIECE) {
            verifier.update(piece).unwrap();
        }
        let verified = verifier.finish().unwrap();
        let mut decryptor = if checked {
            verified.checked_decryptor()
        } else {
            verified.decryptor()
        };
        buffer.copy_from_slice(&blob[..MIB]);
        for piece in buffer.chunks_mut(PIECE) {
            decryptor.decrypt_in_place(piece).unwrap();
        }
        decryptor.finish().unwrap();
    };
    g.bench_function(
        BenchmarkId::new("letterseal_stream_open_two_pass", "1MiB"),
        |b| {
            let mut buffer = vec![0u8; MIB];
            b.iter(|| open(false, black_box(&mut buffer)));
        },
    );
    g.bench_function(
        BenchmarkId::new("letterseal_stream_open_two_pass_checked", "1MiB"),
        |b| {
            let mut buffer = vec![0u8; MIB];
            b.iter(|| open(true, black_box(&mut buffer)));
        },
    );
    g.finish();
}

criterion_group!(benches, seal_open_1kib, media_1mib);
criterion_main!(benches);
