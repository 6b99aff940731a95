//! Seals and then opens an N MiB attachment (SPEC.md §9) by streaming into caller buffers, to
//! show that memory stays flat whatever the file size, and measures the throughput beside the
//! bare AES-256-GCM of the compiled-in backend (the floor) in the same run.
//!
//! The plaintext is generated on the fly in 1 MiB pieces from a ChaCha8 stream; sealed and
//! opened bytes go through one reusable 1 MiB (+ tags) buffer each, so nothing of file size is
//! ever held. The open pass regenerates the same sealed stream (same seeded sealer) and feeds
//! it to the opener piece by piece; only the time spent inside the sealer, the opener, or the
//! bare AEAD is counted. The floor seals and opens the same pieces in 64 KiB chunks with the
//! bare AEAD (RustCrypto `aes-gcm`, or `ring` with the `ring` feature), in place.
//!
//! Run: `/usr/bin/time -v cargo run --release --example attachment_memory -- 1024 [content|unbound]`
//! (add `--features ring` for the ring backend). Prints the peak resident set size too.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use letterseal::aead::{AeadKey, AeadNonce, BACKEND, TAG_LEN};
use letterseal::attachment::{
    AttachmentOpener, AttachmentSealer, BindingMode, ContentHasher, DEFAULT_CHUNK_SIZE,
};
use rand_chacha::{ChaCha8Rng, ChaCha20Rng};
use rand_core::{Rng, SeedableRng};

const MIB: usize = 1 << 20;
const PLAINTEXT_SEED: [u8; 32] = [0x11; 32];
const KEY_SEED: [u8; 32] = [0x22; 32];
const MEDIA: &str = "video/mp4";
const CHUNK: usize = DEFAULT_CHUNK_SIZE as usize;

/// A deterministic sealer: the file key and salt come from a fixed-seed CSPRNG,
/// so the open pass can regenerate exactly the blob the seal pass produced.
fn sealer(binding: BindingMode) -> AttachmentSealer {
    let mut rng = ChaCha20Rng::from_seed(KEY_SEED);
    AttachmentSealer::new_with_binding(&mut rng, DEFAULT_CHUNK_SIZE, MEDIA, binding).unwrap()
}

/// Calls `f` once per 1 MiB plaintext piece, `mib` times.
fn for_each_piece(mib: usize, mut f: impl FnMut(&[u8])) {
    let mut generator = ChaCha8Rng::from_seed(PLAINTEXT_SEED);
    let mut piece = vec![0u8; MIB];
    for _ in 0..mib {
        generator.fill_bytes(&mut piece);
        f(&piece);
    }
}

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

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args
        .next()
        .map(|a| {
            a.parse()
                .expect("usage: attachment_memory <size in MiB> [content|unbound]")
        })
        .unwrap_or(256);
    let binding = match args.next().as_deref() {
        None | Some("content") => BindingMode::Content,
        Some("unbound") => BindingMode::Unbound,
        Some(other) => {
            eprintln!("unknown binding {other}: content or unbound");
            std::process::exit(2)
        }
    };
    let sealed_piece = MIB + (MIB / CHUNK + 1) * TAG_LEN;
    let mut sealed_buf = vec![0u8; sealed_piece];
    let mut plain_buf = vec![0u8; MIB + CHUNK];

    // Seal: plaintext → sealed pieces in a reusable buffer, hashed and dropped.
    let mut sealing = Duration::ZERO;
    let mut plain_hash = ContentHasher::new();
    let mut s = sealer(binding);
    for_each_piece(mib, |piece| {
        plain_hash.update(piece);
        let n = timed(&mut sealing, || {
            s.update_into(piece, &mut sealed_buf).unwrap()
        });
        black_box(&sealed_buf[..n]);
    });
    let (_, descriptor) = timed(&mut sealing, || s.finish_into(&mut sealed_buf).unwrap());
    assert_eq!(descriptor.size, (mib * MIB) as u64);
    let plain_digest = plain_hash.finalize();

    // Open: regenerate the sealed stream and feed it to the opener.
    let mut opening = Duration::ZERO;
    let mut opened_hash = ContentHasher::new();
    let mut opened = 0usize;
    let mut s = sealer(binding);
    let mut o = AttachmentOpener::new(&descriptor);
    let header = *s.header();
    timed(&mut opening, || {
        o.update_into(&header, &mut plain_buf).unwrap()
    });
    for_each_piece(mib, |piece| {
        let n = s.update_into(piece, &mut sealed_buf).unwrap();
        let m = timed(&mut opening, || {
            o.update_into(&sealed_buf[..n], &mut plain_buf).unwrap()
        });
        opened += m;
        opened_hash.update(&plain_buf[..m]);
    });
    let (n, again) = s.finish_into(&mut sealed_buf).unwrap();
    assert!(again == descriptor);
    let m = timed(&mut opening, || {
        let a = o.update_into(&sealed_buf[..n], &mut plain_buf).unwrap();
        a + o.finish_into(&mut plain_buf[a..]).unwrap()
    });
    opened += m;
    opened_hash.update(&plain_buf[..m]);
    assert_eq!(opened, mib * MIB);
    assert_eq!(opened_hash.finalize(), plain_digest);

    // Floor: the bare AEAD over the same pieces, 64 KiB chunks, one key schedule.
    let key = AeadKey::from_bytes([0x33; 32]).prepare();
    let (mut floor_seal, mut floor_open) = (Duration::ZERO, Duration::ZERO);
    let mut tags = vec![[0u8; TAG_LEN]; MIB / CHUNK];
    let mut index = 0u32;
    for_each_piece(mib, |piece| {
        plain_buf[..MIB].copy_from_slice(piece);
        let first = index;
        timed(&mut floor_seal, || {
            for (chunk, tag) in plain_buf[..MIB].chunks_mut(CHUNK).zip(tags.iter_mut()) {
                let mut n = [0u8; 12];
                n[..4].copy_from_slice(&index.to_be_bytes());
                *tag = key.seal_in_place_detached(&AeadNonce::from_bytes(n), b"", chunk);
                index += 1;
            }
        });
        let mut i = first;
        timed(&mut floor_open, || {
            for (chunk, tag) in plain_buf[..MIB].chunks_mut(CHUNK).zip(tags.iter()) {
                let mut n = [0u8; 12];
                n[..4].copy_from_slice(&i.to_be_bytes());
                key.open_in_place_detached(&AeadNonce::from_bytes(n), b"", chunk, tag)
                    .unwrap();
                i += 1;
            }
        });
        assert!(plain_buf[..MIB] == *piece);
    });

    println!(
        "size:    {mib} MiB, chunk size {DEFAULT_CHUNK_SIZE} B, 1 MiB pieces, binding {binding:?}, backend {BACKEND}"
    );
    println!(
        "seal:    {:8.1} MiB/s in AttachmentSealer::update_into ({:.3} s); floor {:8.1} MiB/s; ratio {:.2}",
        mib_per_s(mib, sealing),
        sealing.as_secs_f64(),
        mib_per_s(mib, floor_seal),
        floor_seal.as_secs_f64() / sealing.as_secs_f64(),
    );
    println!(
        "open:    {:8.1} MiB/s in AttachmentOpener::update_into ({:.3} s); floor {:8.1} MiB/s; ratio {:.2}",
        mib_per_s(mib, opening),
        opening.as_secs_f64(),
        mib_per_s(mib, floor_open),
        floor_open.as_secs_f64() / opening.as_secs_f64(),
    );
    println!("peak RSS: {} KiB", peak_rss_kib());
    println!("ok:      opened plaintext matches, descriptor verified");
}
