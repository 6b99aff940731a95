//! The LS3 AEAD path (SPEC.md §3.3) beside the bare AES-256-GCM of the compiled-in backend
//! (RustCrypto `aes-gcm` by default, *ring* with `--features ring`), so each group reads as a
//! ratio `letterseal / baseline`. Group names carry the backend, so runs of both builds sit side
//! by side in `target/criterion` (and in `benches/README.md`, written by `benches/report.py`).
//!
//! | group | `letterseal` | `baseline` |
//! |---|---|---|
//! | `aead_seal_open_{backend}/{64B,1KiB,1MiB}` | `aead::seal` + `aead::open` (allocating; one key schedule each) | bare seal in place + open in place of a copy, one key schedule each, same 13-byte AAD |
//! | `aead_into_{backend}/{64B,1KiB,1MiB}` | `PreparedKey::seal_detached_into` + `open_detached_into` (caller buffers, key schedule done) | bare detached seal + open, key schedule done |
//!
//! Run: `cargo bench --features hazmat --bench aead [--features ring]`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use letterseal::aead::{self, AeadKey, AeadNonce, BACKEND};

const SIZES: [(&str, usize); 3] = [("64B", 64), ("1KiB", 1024), ("1MiB", 1 << 20)];
const AAD: &[u8] = b"header bytes!";

#[path = "support/bare_aead.rs"]
mod bare;
use bare::Key as BareKey;

fn seal_open(c: &mut Criterion) {
    let key_bytes = [0x5a; 32];
    let key = AeadKey::from_bytes(key_bytes);
    let prepared = key.prepare();
    let nonce = AeadNonce::from_bytes([7; 12]);
    let bare = BareKey::new(&key_bytes);

    let mut g = c.benchmark_group(format!("aead_seal_open_{BACKEND}"));
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for (name, len) in SIZES {
        let plain = vec![0x11u8; len];
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(BenchmarkId::new("letterseal", name), |b| {
            b.iter(|| {
                let sealed = aead::seal(&key, &nonce, AAD, black_box(&plain));
                aead::open(&key, &nonce, AAD, &sealed).unwrap()
            })
        });
        g.bench_function(BenchmarkId::new("baseline", name), |b| {
            b.iter(|| {
                let k = BareKey::new(black_box(&key_bytes));
                let mut buf = black_box(&plain).clone();
                let tag = k.seal(nonce.as_bytes(), AAD, &mut buf);
                let k = BareKey::new(black_box(&key_bytes));
                let mut out = buf.clone();
                k.open(nonce.as_bytes(), AAD, &mut out, &tag);
                out
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group(format!("aead_into_{BACKEND}"));
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for (name, len) in SIZES {
        let plain = vec![0x11u8; len];
        let mut ct = vec![0u8; len];
        let mut out = vec![0u8; len];
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(BenchmarkId::new("letterseal", name), |b| {
            b.iter(|| {
                let tag = prepared
                    .seal_detached_into(&nonce, AAD, black_box(&plain), &mut ct)
                    .unwrap();
                prepared
                    .open_detached_into(&nonce, AAD, &ct, &tag, &mut out)
                    .unwrap();
            })
        });
        let mut work = plain.clone();
        g.bench_function(BenchmarkId::new("baseline", name), |b| {
            b.iter(|| {
                work.copy_from_slice(black_box(&plain));
                let tag = bare.seal(nonce.as_bytes(), AAD, &mut work);
                bare.open_into(nonce.as_bytes(), AAD, &work, &tag, &mut out);
            })
        });
        assert_eq!(out, plain);
    }
    g.finish();
}

criterion_group!(benches, seal_open);
criterion_main!(benches);
