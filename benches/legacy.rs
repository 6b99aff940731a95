//! Legacy LINE Letter Sealing v2 beside LS3 pairwise, 1 KiB seal + open, in the
//! same criterion run (issue: legacy benches). The ratio LS3 / legacy is the
//! price of LS3's guarantees (direction-bound chains, counters and replay
//! window, key commitment) over the deployed format.
//!
//! Run: `cargo bench --bench legacy --features legacy -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::legacy::ids::{LegacyContentType, LegacyKeyId, LineId};
use letterseal::legacy::keys::LegacyKeyPair;
use letterseal::legacy::v2::{Envelope, open_v2, seal_v2};
use letterseal::pairwise::{ContentType, Session};
use letterseal::registration::{NoDirectory, RegistrationPolicy};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn seal_open_1kib(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::from_seed([0x1e; 32]);
    let plaintext = vec![0x42u8; 1024];

    // Legacy v2: stateless seal and open (the per-chat counter is the caller's).
    let alice = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(1));
    let bob = LegacyKeyPair::generate(&mut rng, LegacyKeyId::new(2));
    let envelope = Envelope {
        to: LineId::parse("u0123456789abcdef0123456789abcdef").unwrap(),
        from: LineId::parse("ufedcba9876543210fedcba9876543210").unwrap(),
        content_type: LegacyContentType::TEXT,
    };
    let bob_public = bob.public();
    let alice_public = alice.public_key();
    let bob_keys = [bob];

    // LS3: established sessions (chains cached by a warm-up message).
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let mut device = |name: &str| {
        let mut keys = DeviceKeys::generate(
            &mut rng,
            DeviceAddress::new(UserId::new(name).unwrap(), DeviceId::new(1)),
        );
        let bundle = keys
            .add_sealing_key(&mut rng, now, 86_400)
            .verify(
                &keys.address().clone().into(),
                &RegistrationPolicy::default(),
                now,
                None,
                &NoDirectory,
            )
            .unwrap();
        (keys, bundle)
    };
    let (a, ab) = device("alice");
    let (mut b, bb) = device("bob");
    let mut at_a = Session::new(&a, &bb).unwrap();
    let mut at_b = Session::new(&b, &ab).unwrap();
    let warm = at_a
        .seal(&a, &mut rng, now, ContentType::Text, b"", b"")
        .unwrap();
    at_b.open(&mut b, now, &warm, b"").unwrap();

    let mut g = c.benchmark_group("seal_open_1KiB");
    let mut counter = 0u64;
    g.bench_function("legacy_v2", |bench| {
        bench.iter(|| {
            counter += 1;
            let chunks = seal_v2(
                &mut rng,
                counter,
                &alice,
                &bob_public,
                &envelope,
                &plaintext,
            )
            .unwrap();
            open_v2(&bob_keys, &alice_public, &envelope, black_box(&chunks)).unwrap()
        });
    });
    let mut rng2 = ChaCha20Rng::from_seed([0x2e; 32]);
    g.bench_function("ls3_pairwise", |bench| {
        bench.iter(|| {
            let sealed = at_a
                .seal(&a, &mut rng2, now, ContentType::Text, &plaintext, b"")
                .unwrap();
            at_b.open(&mut b, now, black_box(&sealed), b"").unwrap()
        });
    });
    g.finish();
}

criterion_group!(benches, seal_open_1kib);
criterion_main!(benches);
