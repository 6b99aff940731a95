//! Seals and then opens an N MiB attachment (SPEC.md §9) by streaming, to show
//! that memory stays flat whatever the file size, and prints the throughput.
//!
//! The plaintext is generated on the fly in 1 MiB pieces from a ChaCha8
//! stream; sealed and opened bytes are hashed and discarded, so nothing of
//! file size is ever held. The open pass regenerates the same sealed stream
//! (same seeded sealer) and feeds it to the opener piece by piece; only the
//! time spent inside the sealer or the opener is counted.
//!
//! Run: `/usr/bin/time -v cargo run --release --example attachment_memory -- 1024`
//! (or the built binary, `target/release/examples/attachment_memory 1024`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use letterseal::attachment::{AttachmentOpener, AttachmentSealer, DEFAULT_CHUNK_SIZE};
use rand_chacha::{ChaCha8Rng, ChaCha20Rng};
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

const MIB: usize = 1 << 20;
const PLAINTEXT_SEED: [u8; 32] = [0x11; 32];
const KEY_SEED: [u8; 32] = [0x22; 32];
const MEDIA: &str = "video/mp4";

/// A deterministic sealer: the file key and salt come from a fixed-seed CSPRNG,
/// so the open pass can regenerate exactly the blob the seal pass produced.
fn sealer() -> AttachmentSealer {
    let mut rng = ChaCha20Rng::from_seed(KEY_SEED);
    AttachmentSealer::new(&mut rng, DEFAULT_CHUNK_SIZE, MEDIA).unwrap()
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

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("usage: attachment_memory <size in MiB>"))
        .unwrap_or(256);

    // Seal: plaintext → sealed pieces, hashed and dropped.
    let mut sealing = Duration::ZERO;
    let mut plain_hash = Sha256::new();
    let mut blob_hash = Sha256::new();
    let mut s = sealer();
    blob_hash.update(s.header());
    let wall = Instant::now();
    for_each_piece(mib, |piece| {
        plain_hash.update(piece);
        let sealed = timed(&mut sealing, || s.update(piece).unwrap());
        blob_hash.update(&sealed);
    });
    let (last, descriptor) = timed(&mut sealing, || s.finish().unwrap());
    blob_hash.update(&last);
    let seal_wall = wall.elapsed();
    assert_eq!(descriptor.size, (mib * MIB) as u64);
    assert_eq!(<[u8; 32]>::from(blob_hash.finalize()), descriptor.digest);
    let plain_digest: [u8; 32] = plain_hash.finalize().into();

    // Open: regenerate the sealed stream and feed it to the opener.
    let mut opening = Duration::ZERO;
    let mut opened_hash = Sha256::new();
    let mut opened = 0usize;
    let mut s = sealer();
    let mut o = AttachmentOpener::new(&descriptor);
    let out = timed(&mut opening, || o.update(s.header()).unwrap());
    assert!(out.is_empty());
    let wall = Instant::now();
    for_each_piece(mib, |piece| {
        let sealed = s.update(piece).unwrap();
        let plain = timed(&mut opening, || o.update(&sealed).unwrap());
        opened += plain.len();
        opened_hash.update(&plain);
    });
    let (last, again) = s.finish().unwrap();
    assert!(again == descriptor);
    let plain = timed(&mut opening, || {
        let mut plain = o.update(&last).unwrap();
        plain.extend_from_slice(&o.finish().unwrap());
        plain
    });
    opened += plain.len();
    opened_hash.update(&plain);
    let open_wall = wall.elapsed();
    assert_eq!(opened, mib * MIB);
    assert_eq!(<[u8; 32]>::from(opened_hash.finalize()), plain_digest);

    println!("size:  {mib} MiB, chunk size {DEFAULT_CHUNK_SIZE} B, 1 MiB pieces");
    println!(
        "seal:  {:8.1} MiB/s in AttachmentSealer ({:.3} s; {:.3} s wall with generation and hashing)",
        mib_per_s(mib, sealing),
        sealing.as_secs_f64(),
        seal_wall.as_secs_f64(),
    );
    println!(
        "open:  {:8.1} MiB/s in AttachmentOpener ({:.3} s; {:.3} s wall with regeneration, resealing and hashing)",
        mib_per_s(mib, opening),
        opening.as_secs_f64(),
        open_wall.as_secs_f64(),
    );
    println!("ok:    opened plaintext matches, digest matches the descriptor");
}
