//! Attachment streaming costs (SPEC.md §9), beside the raw primitives they are
//! built on, so every group reads as a ratio `letterseal / baseline`.
//!
//! Group `attachment` (64 MiB of plaintext, default 64 KiB chunks; the crate
//! paths are fed in 1 MiB pieces through `update`/`finish`):
//!
//! | id | what |
//! |---|---|
//! | `seal_64MiB` | `AttachmentSealer::update` × 64 + `finish` |
//! | `open_64MiB` | `AttachmentOpener::update` × 64 + `finish` (the sealed blob, cut in 1 MiB pieces) |
//! | `baseline_aes_gcm_seal_64MiB` | bare `Aes256Gcm`, one key schedule, in-place detached encryption of 64 KiB chunks, one nonce each |
//! | `baseline_aes_gcm_open_64MiB` | the same, detached decryption (ciphertext → separate plaintext buffer) |
//! | `baseline_sha256_64MiB` | SHA-256 of the sealed blob (the descriptor digest, paid by both seal and open) |
//! | `cost_zeroize_vec_64MiB` | `Vec::<u8>::zeroize` of a 1 MiB output × 64: what dropping the opener's `Zeroizing<Vec<u8>>` outputs costs the caller |
//! | `cost_zeroize_slice_64MiB` | `<[u8]>::zeroize` of the same: the bulk path `Vec::zeroize` does not take |
//! | `baseline_all_primitives_seal_64MiB` | bare AES-GCM seal + SHA-256 of every sealed chunk: the floor of §9.2 |
//! | `baseline_all_primitives_open_64MiB` | SHA-256 of every sealed chunk + bare AES-GCM open: the floor of §9.3 |
//!
//! Group `attachment_chunk_size`: `seal_{16,64,256}KiB` and
//! `open_{16,64,256}KiB` (64 MiB, 1 MiB pieces) beside
//! `baseline_aes_gcm_seal_{16,64,256}KiB`, to check the default chunk size.
//!
//! Every entry reports `Throughput::Bytes(64 MiB)` of plaintext.
//!
//! Run: `cargo bench --bench attachment`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{Nonce, Tag};
use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use letterseal::aead::TAG_LEN;
use letterseal::attachment::{
    AttachmentOpener, AttachmentSealer, DEFAULT_CHUNK_SIZE, FileDescriptor, FileKey, HEADER_LEN,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

const SEED: [u8; 32] = [0xa7; 32];
const MIB: usize = 1 << 20;
const TOTAL: usize = 64 * MIB;
const PIECE: usize = MIB;
const MEDIA: &str = "application/octet-stream";
const SAMPLES: usize = 10;

struct Fixture {
    file_key: [u8; 32],
    salt: [u8; 16],
    aes_key: [u8; 32],
    plaintext: Vec<u8>,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha20Rng::from_seed(SEED);
    let mut file_key = [0u8; 32];
    let mut salt = [0u8; 16];
    let mut aes_key = [0u8; 32];
    rng.fill_bytes(&mut file_key);
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut aes_key);
    let mut plaintext = vec![0u8; TOTAL];
    rng.fill_bytes(&mut plaintext);
    Fixture {
        file_key,
        salt,
        aes_key,
        plaintext,
    }
}

fn sealer(f: &Fixture, chunk_size: u32) -> AttachmentSealer {
    AttachmentSealer::with_key(FileKey::from_bytes(f.file_key), f.salt, chunk_size, MEDIA).unwrap()
}

/// The crate path: 1 MiB pieces through `update`, then `finish`. Returns the
/// sealed length and the descriptor (so nothing is optimised away).
fn crate_seal(f: &Fixture, chunk_size: u32) -> (usize, FileDescriptor) {
    let mut s = sealer(f, chunk_size);
    let mut sealed = HEADER_LEN;
    for piece in f.plaintext.chunks(PIECE) {
        sealed += s.update(black_box(piece)).unwrap().len();
    }
    let (last, descriptor) = s.finish().unwrap();
    (sealed + last.len(), descriptor)
}

/// The whole sealed blob and its descriptor, for the open benchmarks.
fn sealed_blob(f: &Fixture, chunk_size: u32) -> (Vec<u8>, FileDescriptor) {
    let mut s = sealer(f, chunk_size);
    let mut blob = s.header().to_vec();
    for piece in f.plaintext.chunks(PIECE) {
        blob.extend(s.update(piece).unwrap());
    }
    let (last, descriptor) = s.finish().unwrap();
    blob.extend(last);
    (blob, descriptor)
}

/// The crate path: the blob in 1 MiB pieces through `update`, then `finish`.
fn crate_open(blob: &[u8], descriptor: &FileDescriptor) -> usize {
    let mut o = AttachmentOpener::new(descriptor);
    let mut opened = 0;
    for piece in blob.chunks(PIECE) {
        opened += o.update(black_box(piece)).unwrap().len();
    }
    opened + o.finish().unwrap().len()
}

/// A per-chunk nonce: an arbitrary fixed prefix and the chunk index.
fn chunk_nonce(index: usize) -> Nonce<Aes256Gcm> {
    let [a, b, c, d] = u32::try_from(index).unwrap().to_be_bytes();
    let p = 0x24;
    Nonce::<Aes256Gcm>::from([p, p, p, p, p, p, p, a, b, c, d, 0])
}

/// Bare AES-GCM, in place: one detached encryption per chunk.
fn aes_gcm_seal(
    cipher: &Aes256Gcm,
    buffer: &mut [u8],
    chunk_size: usize,
    tags: &mut [Tag<Aes256Gcm>],
) {
    for (i, (chunk, tag)) in buffer.chunks_mut(chunk_size).zip(tags).enumerate() {
        *tag = cipher
            .encrypt_inout_detached(&chunk_nonce(i), b"", chunk.into())
            .unwrap();
    }
}

/// Bare AES-GCM seal, then SHA-256 of each sealed chunk and its tag.
fn all_primitives_seal(
    cipher: &Aes256Gcm,
    buffer: &mut [u8],
    chunk_size: usize,
    tags: &mut [Tag<Aes256Gcm>],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8; HEADER_LEN]);
    for (i, (chunk, tag)) in buffer.chunks_mut(chunk_size).zip(tags).enumerate() {
        *tag = cipher
            .encrypt_inout_detached(&chunk_nonce(i), b"", chunk.into())
            .unwrap();
        h.update(&*chunk);
        h.update(*tag);
    }
    h.finalize().into()
}

/// Bare AES-GCM open: ciphertext chunk → plaintext chunk (out of place, so
/// the ciphertext survives for the next iteration).
fn aes_gcm_open(
    cipher: &Aes256Gcm,
    ciphertext: &[u8],
    tags: &[Tag<Aes256Gcm>],
    out: &mut [u8],
    chunk_size: usize,
    hash: bool,
) -> Option<[u8; 32]> {
    let mut h = hash.then(|| {
        let mut h = Sha256::new();
        h.update([0u8; HEADER_LEN]);
        h
    });
    let chunks = ciphertext
        .chunks(chunk_size)
        .zip(out.chunks_mut(chunk_size));
    for (i, ((ct, pt), tag)) in chunks.zip(tags).enumerate() {
        if let Some(h) = h.as_mut() {
            h.update(ct);
            h.update(tag);
        }
        let buf = InOutBuf::new(ct, pt).unwrap();
        cipher
            .decrypt_inout_detached(&chunk_nonce(i), b"", buf, tag)
            .unwrap();
    }
    h.map(|h| h.finalize().into())
}

fn configure(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.sample_size(SAMPLES);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Bytes(TOTAL as u64));
}

fn attachment(c: &mut Criterion) {
    let f = fixture();
    let chunk_size = DEFAULT_CHUNK_SIZE as usize;
    let chunks = TOTAL.div_ceil(chunk_size);
    let (blob, descriptor) = sealed_blob(&f, DEFAULT_CHUNK_SIZE);
    assert_eq!(blob.len(), HEADER_LEN + TOTAL + chunks * TAG_LEN);
    assert_eq!(crate_open(&blob, &descriptor), TOTAL);

    let cipher = Aes256Gcm::new(&f.aes_key.into());
    let mut work = f.plaintext.clone();
    let mut tags = vec![Tag::<Aes256Gcm>::default(); chunks];
    // Ciphertext and tags for the open baseline; check it decrypts.
    let mut ciphertext = f.plaintext.clone();
    let mut ct_tags = vec![Tag::<Aes256Gcm>::default(); chunks];
    aes_gcm_seal(&cipher, &mut ciphertext, chunk_size, &mut ct_tags);
    let mut out = vec![0u8; TOTAL];
    aes_gcm_open(&cipher, &ciphertext, &ct_tags, &mut out, chunk_size, false);
    assert!(out == f.plaintext);

    let mut g = c.benchmark_group("attachment");
    configure(&mut g);
    g.bench_function("seal_64MiB", |b| {
        b.iter(|| crate_seal(&f, DEFAULT_CHUNK_SIZE));
    });
    g.bench_function("open_64MiB", |b| {
        b.iter(|| crate_open(black_box(&blob), &descriptor));
    });
    g.bench_function("baseline_aes_gcm_seal_64MiB", |b| {
        b.iter(|| aes_gcm_seal(&cipher, black_box(&mut work), chunk_size, &mut tags));
    });
    g.bench_function("baseline_aes_gcm_open_64MiB", |b| {
        b.iter(|| {
            aes_gcm_open(
                &cipher,
                black_box(&ciphertext),
                &ct_tags,
                &mut out,
                chunk_size,
                false,
            )
        });
    });
    g.bench_function("baseline_sha256_64MiB", |b| {
        b.iter(|| Sha256::digest(black_box(&blob)));
    });
    // `Zeroizing<Vec<u8>>` (the opener's output type) zeroizes on drop through
    // `Vec::zeroize`, which writes the initialised bytes one volatile byte at
    // a time; `<[u8]>::zeroize` is a `memset` plus an optimisation barrier.
    // Both refill the 1 MiB piece first (a `memset`, included in both).
    let mut piece: Vec<u8> = Vec::with_capacity(PIECE);
    g.bench_function("cost_zeroize_vec_64MiB", |b| {
        b.iter(|| {
            for _ in 0..TOTAL / PIECE {
                piece.resize(PIECE, 0x5a);
                black_box(&mut piece).zeroize();
            }
        });
    });
    g.bench_function("cost_zeroize_slice_64MiB", |b| {
        b.iter(|| {
            for _ in 0..TOTAL / PIECE {
                piece.resize(PIECE, 0x5a);
                black_box(piece.as_mut_slice()).zeroize();
                piece.clear();
            }
        });
    });
    g.bench_function("baseline_all_primitives_seal_64MiB", |b| {
        b.iter(|| all_primitives_seal(&cipher, black_box(&mut work), chunk_size, &mut tags));
    });
    g.bench_function("baseline_all_primitives_open_64MiB", |b| {
        b.iter(|| {
            aes_gcm_open(
                &cipher,
                black_box(&ciphertext),
                &ct_tags,
                &mut out,
                chunk_size,
                true,
            )
        });
    });
    g.finish();
}

fn chunk_size(c: &mut Criterion) {
    let f = fixture();
    let cipher = Aes256Gcm::new(&f.aes_key.into());
    let mut work = f.plaintext.clone();

    let mut g = c.benchmark_group("attachment_chunk_size");
    configure(&mut g);
    for kib in [16u32, 64, 256] {
        let size = kib * 1024;
        let chunk = size as usize;
        let (blob, descriptor) = sealed_blob(&f, size);
        assert_eq!(crate_open(&blob, &descriptor), TOTAL);
        let mut tags = vec![Tag::<Aes256Gcm>::default(); TOTAL.div_ceil(chunk)];
        g.bench_function(format!("seal_{kib}KiB"), |b| {
            b.iter(|| crate_seal(&f, size));
        });
        g.bench_function(format!("open_{kib}KiB"), |b| {
            b.iter(|| crate_open(black_box(&blob), &descriptor));
        });
        g.bench_function(format!("baseline_aes_gcm_seal_{kib}KiB"), |b| {
            b.iter(|| aes_gcm_seal(&cipher, black_box(&mut work), chunk, &mut tags));
        });
    }
    g.finish();
}

criterion_group!(benches, attachment, chunk_size);
criterion_main!(benches);
