//! Attachment streaming costs (SPEC.md §9) beside the bare AES-256-GCM of the compiled-in
//! backend (RustCrypto `aes-gcm` by default, *ring* with `--features ring`), so every entry
//! reads as a ratio `letterseal / baseline`. Group names carry the backend, so runs of both
//! builds sit side by side (`benches/report.py` writes them to `benches/README.md`).
//!
//! Groups `attachment_seal_{backend}/{1MiB,64MiB}` and `attachment_open_{backend}/{size}`
//! (default 64 KiB chunks; the 64 MiB streams are fed in 1 MiB pieces through the caller-buffer
//! forms into one reusable buffer, the 1 MiB ones in one piece):
//!
//! | id | what |
//! |---|---|
//! | `letterseal_content` | `AttachmentSealer::update_into`/`finish_into` (or `AttachmentOpener::update_into`/`finish_into`), default binding: BLAKE3 content digest |
//! | `letterseal_unbound` | the same with `BindingMode::Unbound` |
//! | `letterseal_hedged` (seal) | `attachment::seal_into`: BLAKE3 pass, hedged key, then the stream |
//! | `letterseal_verified` (open) | `attachment::open_into`: nothing released before the verdict |
//! | `letterseal_vec_content` | the allocating `update`/`finish` (one `Vec` per piece; the opener's `Zeroizing<Vec>` wipes on drop) |
//! | `baseline` | the bare AEAD doing the same job: one key schedule, one detached seal per 64 KiB chunk with its own nonce, plaintext → separate ciphertext buffer (open: ciphertext → separate plaintext buffer); RustCrypto out of place, *ring* (in place only) copy then in place |
//! | `cost_bare_in_place` (seal) | the bare AEAD sealing the buffer in place (no separate output) |
//! | `cost_blake3`, `cost_sha256` (seal) | BLAKE3 (derive-key mode) and SHA-256 over the plaintext alone: the digest candidates of SPEC.md §9.4 |
//!
//! Every entry reports `Throughput::Bytes` of plaintext.
//!
//! Run: `cargo bench --features hazmat --bench attachment [--features ring]`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use letterseal::aead::{BACKEND, TAG_LEN};
use letterseal::attachment::{
    AttachmentOpener, AttachmentSealer, BindingMode, ContentHasher, DEFAULT_CHUNK_SIZE,
    FileDescriptor, FileKey, HEADER_LEN, open_into, seal_into, sealed_len,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

#[path = "support/bare_aead.rs"]
mod bare;

const SEED: [u8; 32] = [0xa7; 32];
const MIB: usize = 1 << 20;
const SIZES: [(&str, usize); 2] = [("1MiB", MIB), ("64MiB", 64 * MIB)];
const PIECE: usize = MIB;
const CHUNK: usize = DEFAULT_CHUNK_SIZE as usize;
const MEDIA: &str = "application/octet-stream";

struct Fixture {
    file_key: [u8; 32],
    salt: [u8; 16],
    aes_key: [u8; 32],
    plaintext: Vec<u8>,
}

fn fixture(total: usize) -> Fixture {
    let mut rng = ChaCha20Rng::from_seed(SEED);
    let mut f = Fixture {
        file_key: [0; 32],
        salt: [0; 16],
        aes_key: [0; 32],
        plaintext: vec![0u8; total],
    };
    rng.fill_bytes(&mut f.file_key);
    rng.fill_bytes(&mut f.salt);
    rng.fill_bytes(&mut f.aes_key);
    rng.fill_bytes(&mut f.plaintext);
    f
}

fn sealer(f: &Fixture, binding: BindingMode) -> AttachmentSealer {
    AttachmentSealer::with_key_and_binding(
        FileKey::from_bytes(f.file_key),
        f.salt,
        DEFAULT_CHUNK_SIZE,
        MEDIA,
        binding,
    )
    .unwrap()
}

/// The streaming sealer through caller buffers: pieces of `PIECE` bytes into one reusable
/// output buffer. Returns the sealed length and the descriptor.
fn crate_seal(f: &Fixture, binding: BindingMode, out: &mut [u8]) -> (usize, FileDescriptor) {
    let mut s = sealer(f, binding);
    let mut sealed = HEADER_LEN;
    for piece in f.plaintext.chunks(PIECE) {
        sealed += s.update_into(black_box(piece), out).unwrap();
    }
    let (n, d) = s.finish_into(out).unwrap();
    (sealed + n, d)
}

/// The allocating forms.
fn crate_seal_vec(f: &Fixture) -> (usize, FileDescriptor) {
    let mut s = sealer(f, BindingMode::Content);
    let mut sealed = HEADER_LEN;
    for piece in f.plaintext.chunks(PIECE) {
        sealed += s.update(black_box(piece)).unwrap().len();
    }
    let (last, d) = s.finish().unwrap();
    (sealed + last.len(), d)
}

fn sealed_blob(f: &Fixture, binding: BindingMode) -> (Vec<u8>, FileDescriptor) {
    let mut s = sealer(f, binding);
    let mut blob = s.header().to_vec();
    blob.extend(s.update(&f.plaintext).unwrap());
    let (last, d) = s.finish().unwrap();
    blob.extend(last);
    (blob, d)
}

/// The streaming opener through caller buffers: the blob in `PIECE`-byte pieces.
fn crate_open(blob: &[u8], d: &FileDescriptor, out: &mut [u8]) -> usize {
    let mut o = AttachmentOpener::new(d);
    let mut opened = 0;
    for piece in blob.chunks(PIECE) {
        opened += o.update_into(black_box(piece), out).unwrap();
    }
    opened + o.finish_into(out).unwrap()
}

fn crate_open_vec(blob: &[u8], d: &FileDescriptor) -> usize {
    let mut o = AttachmentOpener::new(d);
    let mut opened = 0;
    for piece in blob.chunks(PIECE) {
        opened += o.update(black_box(piece)).unwrap().len();
    }
    opened + o.finish().unwrap().len()
}

/// A per-chunk nonce: an arbitrary fixed prefix and the chunk index.
fn chunk_nonce(index: usize) -> [u8; 12] {
    let [a, b, c, d] = u32::try_from(index).unwrap().to_be_bytes();
    let p = 0x24;
    [p, p, p, p, p, p, p, a, b, c, d, 0]
}

fn bare_seal(key: &bare::Key, buffer: &mut [u8], tags: &mut [[u8; TAG_LEN]]) {
    for (i, (chunk, tag)) in buffer.chunks_mut(CHUNK).zip(tags).enumerate() {
        *tag = key.seal(&chunk_nonce(i), b"", chunk);
    }
}

/// The same job as the sealer: ciphertext into a separate buffer.
fn bare_seal_into(key: &bare::Key, plain: &[u8], out: &mut [u8], tags: &mut [[u8; TAG_LEN]]) {
    let chunks = plain.chunks(CHUNK).zip(out.chunks_mut(CHUNK));
    for (i, ((p, c), tag)) in chunks.zip(tags).enumerate() {
        *tag = key.seal_into(&chunk_nonce(i), b"", p, c);
    }
}

fn bare_open(key: &bare::Key, ct: &[u8], tags: &[[u8; TAG_LEN]], out: &mut [u8]) {
    let chunks = ct.chunks(CHUNK).zip(out.chunks_mut(CHUNK));
    for (i, ((c, p), tag)) in chunks.zip(tags).enumerate() {
        key.open_into(&chunk_nonce(i), b"", c, tag, p);
    }
}

fn configure(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, total: usize) {
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(if total > MIB { 4 } else { 2 }));
    g.throughput(Throughput::Bytes(total as u64));
}

fn attachment(c: &mut Criterion) {
    for (name, total) in SIZES {
        let f = fixture(total);
        let chunks = total.div_ceil(CHUNK);
        let (blob, d_content) = sealed_blob(&f, BindingMode::Content);
        let (ublob, d_unbound) = sealed_blob(&f, BindingMode::Unbound);
        assert_eq!(blob.len(), HEADER_LEN + total + chunks * TAG_LEN);
        let mut piece_out = vec![0u8; PIECE + (PIECE / CHUNK + 1) * TAG_LEN];
        let mut plain_out = vec![0u8; PIECE + CHUNK];
        assert_eq!(crate_open(&blob, &d_content, &mut plain_out), total);
        assert_eq!(crate_open(&ublob, &d_unbound, &mut plain_out), total);
        let mut whole = vec![0u8; sealed_len(total as u64, DEFAULT_CHUNK_SIZE).unwrap()];
        let mut opened = vec![0u8; total];
        open_into(&d_content, &blob, &mut opened).unwrap();
        assert!(opened == f.plaintext);

        let key = bare::Key::new(&f.aes_key);
        let mut work = f.plaintext.clone();
        let mut tags = vec![[0u8; TAG_LEN]; chunks];
        let mut ct = f.plaintext.clone();
        let mut ct_tags = vec![[0u8; TAG_LEN]; chunks];
        bare_seal(&key, &mut ct, &mut ct_tags);
        bare_open(&key, &ct, &ct_tags, &mut opened);
        assert!(opened == f.plaintext);

        let mut g = c.benchmark_group(format!("attachment_seal_{BACKEND}"));
        configure(&mut g, total);
        g.bench_function(format!("letterseal_content/{name}"), |b| {
            b.iter(|| crate_seal(&f, BindingMode::Content, &mut piece_out))
        });
        g.bench_function(format!("letterseal_unbound/{name}"), |b| {
            b.iter(|| crate_seal(&f, BindingMode::Unbound, &mut piece_out))
        });
        g.bench_function(format!("letterseal_hedged/{name}"), |b| {
            let mut rng = ChaCha20Rng::from_seed(SEED);
            b.iter(|| {
                seal_into(
                    &mut rng,
                    black_box(&f.plaintext),
                    DEFAULT_CHUNK_SIZE,
                    MEDIA,
                    &mut whole,
                )
                .unwrap()
            })
        });
        g.bench_function(format!("letterseal_vec_content/{name}"), |b| {
            b.iter(|| crate_seal_vec(&f))
        });
        g.bench_function(format!("baseline/{name}"), |b| {
            b.iter(|| bare_seal_into(&key, black_box(&f.plaintext), &mut work, &mut tags))
        });
        g.bench_function(format!("cost_bare_in_place/{name}"), |b| {
            b.iter(|| bare_seal(&key, black_box(&mut work), &mut tags))
        });
        g.bench_function(format!("cost_blake3/{name}"), |b| {
            b.iter(|| {
                let mut h = ContentHasher::new();
                h.update(black_box(&f.plaintext));
                h.finalize()
            })
        });
        g.bench_function(format!("cost_sha256/{name}"), |b| {
            b.iter(|| Sha256::digest(black_box(&f.plaintext)))
        });
        g.finish();

        let mut g = c.benchmark_group(format!("attachment_open_{BACKEND}"));
        configure(&mut g, total);
        g.bench_function(format!("letterseal_content/{name}"), |b| {
            b.iter(|| crate_open(black_box(&blob), &d_content, &mut plain_out))
        });
        g.bench_function(format!("letterseal_unbound/{name}"), |b| {
            b.iter(|| crate_open(black_box(&ublob), &d_unbound, &mut plain_out))
        });
        g.bench_function(format!("letterseal_verified/{name}"), |b| {
            b.iter(|| open_into(&d_content, black_box(&blob), &mut opened).unwrap())
        });
        g.bench_function(format!("letterseal_vec_content/{name}"), |b| {
            b.iter(|| crate_open_vec(black_box(&blob), &d_content))
        });
        g.bench_function(format!("baseline/{name}"), |b| {
            b.iter(|| bare_open(&key, black_box(&ct), &ct_tags, &mut opened))
        });
        g.finish();
    }
}

criterion_group!(benches, attachment);
criterion_main!(benches);
