//! Seals and opens attachments (SPEC.md §9) by streaming through caller buffers, beside the bare
//! AES-256-GCM of the compiled-in backend (the floor), interleaved piece by piece so that the
//! load of a shared machine hits both alike; shows that memory stays flat whatever the file
//! size and prints the throughput ratios.
//!
//! `attachment_memory <file size in MiB> [<files>] [content|unbound]` seals and opens `<files>`
//! files of that size one after the other (each with its own sealer and opener: per-file costs
//! count). The plaintext is generated on the fly in 1 MiB pieces from a ChaCha8 stream; for each
//! piece, in turn: `AttachmentSealer::update_into` into a reusable buffer (timed), the same piece
//! sealed by the bare AEAD in 64 KiB chunks into another buffer (timed), the sealer's output fed
//! to `AttachmentOpener::update_into` (timed), and the bare AEAD's ciphertext opened into a
//! plaintext buffer (timed). Nothing of file size is ever held.
//!
//! The floor (`benches/support/bare_aead.rs`) does the same job as the crate with the bare AEAD
//! crate of the build: ciphertext into a separate buffer (RustCrypto: out of place; *ring*,
//! which has no out-of-place API: a copy, then in place), one key schedule per file, one nonce
//! per chunk; opening likewise into a separate buffer.
//!
//! Run: `cargo run --release --features hazmat --example attachment_memory -- 1024 1 content` (add
//! `--features ring` for the ring backend). Prints the peak resident set size too.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use letterseal::aead::{BACKEND, TAG_LEN};
use letterseal::attachment::{
    AttachmentOpener, AttachmentSealer, BindingMode, ContentHasher, DEFAULT_CHUNK_SIZE,
};
use rand_chacha::{ChaCha8Rng, ChaCha20Rng};

#[path = "../benches/support/bare_aead.rs"]
mod bare;
use rand_core::{Rng, SeedableRng};

const MIB: usize = 1 << 20;
const MEDIA: &str = "video/mp4";
const CHUNK: usize = DEFAULT_CHUNK_SIZE as usize;

fn timed<T>(spent: &mut Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    *spent += start.elapsed();
    out
}

fn mib_per_s(mib: usize, d: Duration) -> f64 {
    mib as f64 / d.as_secs_f64()
}

/// Peak resident set size in KiB (Linux), or 0.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Times {
    seal: Duration,
    floor_seal: Duration,
    open: Duration,
    floor_open: Duration,
}

fn nonce(index: u32) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(&index.to_be_bytes());
    n
}

/// The bare AEAD over one piece, 64 KiB chunks, into `ct`; `index` counts chunks across pieces.
fn floor_seal(
    key: &bare::Key,
    piece: &[u8],
    ct: &mut [u8],
    tags: &mut [[u8; TAG_LEN]],
    index: &mut u32,
) {
    for ((p, c), tag) in piece
        .chunks(CHUNK)
        .zip(ct.chunks_mut(CHUNK))
        .zip(tags.iter_mut())
    {
        *tag = key.seal_into(&nonce(*index), b"", p, c);
        *index += 1;
    }
}

fn floor_open(key: &bare::Key, ct: &[u8], tags: &[[u8; TAG_LEN]], pt: &mut [u8], index: &mut u32) {
    for ((c, p), tag) in ct.chunks(CHUNK).zip(pt.chunks_mut(CHUNK)).zip(tags.iter()) {
        key.open_into(&nonce(*index), b"", c, tag, p);
        *index += 1;
    }
}

/// Seals and opens one file of `mib` MiB, each pass interleaved piece by piece with the floor.
fn one_file(mib: usize, binding: BindingMode, seed: u64, t: &mut Times) {
    let sealer = || {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        AttachmentSealer::new_with_binding(&mut rng, DEFAULT_CHUNK_SIZE, MEDIA, binding).unwrap()
    };
    let key_bytes = [seed as u8 ^ 0x33; 32];
    let mut piece = vec![0u8; MIB];
    let mut sealed = vec![0u8; MIB + (MIB / CHUNK + 1) * TAG_LEN];
    let mut opened = vec![0u8; MIB + CHUNK];
    let mut floor_ct = vec![0u8; MIB];
    let mut floor_pt = vec![0u8; MIB];
    let mut tags = vec![[0u8; TAG_LEN]; MIB / CHUNK];

    // Seal pass.
    let mut plain_hash = ContentHasher::new();
    let mut generator = ChaCha8Rng::seed_from_u64(seed);
    let mut s = timed(&mut t.seal, sealer);
    let key = timed(&mut t.floor_seal, || bare::Key::new(&key_bytes));
    let mut index = 0;
    for _ in 0..mib {
        generator.fill_bytes(&mut piece);
        plain_hash.update(&piece);
        timed(&mut t.seal, || s.update_into(&piece, &mut sealed).unwrap());
        timed(&mut t.floor_seal, || {
            floor_seal(&key, &piece, &mut floor_ct, &mut tags, &mut index)
        });
    }
    let (_, descriptor) = timed(&mut t.seal, || s.finish_into(&mut sealed).unwrap());
    assert_eq!(descriptor.size, (mib * MIB) as u64);

    // Open pass: the same sealed stream, regenerated by an identical sealer (not timed).
    let mut opened_hash = ContentHasher::new();
    let mut generator = ChaCha8Rng::seed_from_u64(seed);
    let mut s = sealer();
    let mut o = timed(&mut t.open, || AttachmentOpener::new(&descriptor));
    let header = *s.header();
    timed(&mut t.open, || o.update_into(&header, &mut opened).unwrap());
    let key = timed(&mut t.floor_open, || bare::Key::new(&key_bytes));
    let (mut seal_index, mut open_index) = (0, 0);
    let mut opened_len = 0;
    for _ in 0..mib {
        generator.fill_bytes(&mut piece);
        let n = s.update_into(&piece, &mut sealed).unwrap();
        let m = timed(&mut t.open, || {
            o.update_into(&sealed[..n], &mut opened).unwrap()
        });
        opened_hash.update(&opened[..m]);
        opened_len += m;
        floor_seal(&key, &piece, &mut floor_ct, &mut tags, &mut seal_index);
        timed(&mut t.floor_open, || {
            floor_open(&key, &floor_ct, &tags, &mut floor_pt, &mut open_index)
        });
        assert!(floor_pt == piece);
    }
    let (n, again) = s.finish_into(&mut sealed).unwrap();
    assert!(again == descriptor);
    let m = timed(&mut t.open, || {
        let a = o.update_into(&sealed[..n], &mut opened).unwrap();
        a + o.finish_into(&mut opened[a..]).unwrap()
    });
    opened_hash.update(&opened[..m]);
    opened_len += m;
    assert_eq!(opened_len, mib * MIB);
    assert_eq!(opened_hash.finalize(), plain_hash.finalize());
}

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: attachment_memory <file size in MiB> [<files>] [content|unbound]";
    let mib: usize = args.next().map(|a| a.parse().expect(usage)).unwrap_or(256);
    let files: usize = args.next().map(|a| a.parse().expect(usage)).unwrap_or(1);
    let binding = match args.next().as_deref() {
        None | Some("content") => BindingMode::Content,
        Some("unbound") => BindingMode::Unbound,
        Some(other) => {
            eprintln!("unknown binding {other}: content or unbound");
            std::process::exit(2)
        }
    };
    let mut t = Times::default();
    for f in 0..files {
        one_file(mib, binding, f as u64, &mut t);
    }
    let total = mib * files;
    println!(
        "size:    {files} × {mib} MiB, chunk size {DEFAULT_CHUNK_SIZE} B, 1 MiB pieces, binding {binding:?}, backend {BACKEND}"
    );
    println!(
        "seal:    {:8.1} MiB/s in AttachmentSealer; floor {:8.1} MiB/s; ratio {:.2}",
        mib_per_s(total, t.seal),
        mib_per_s(total, t.floor_seal),
        t.floor_seal.as_secs_f64() / t.seal.as_secs_f64(),
    );
    println!(
        "open:    {:8.1} MiB/s in AttachmentOpener; floor {:8.1} MiB/s; ratio {:.2}",
        mib_per_s(total, t.open),
        mib_per_s(total, t.floor_open),
        t.floor_open.as_secs_f64() / t.open.as_secs_f64(),
    );
    println!("peak RSS: {} KiB", peak_rss_kib());
    println!("ok:      opened plaintext matches, descriptor verified");
}
