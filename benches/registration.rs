//! Registration-path costs (SPEC.md §4–§6), each beside the raw primitive it is
//! built on, so every group reads as a ratio `letterseal / baseline`.
//!
//! | group | `letterseal` | `baseline` |
//! |---|---|---|
//! | `bundle_verify` | `KeyBundle::decode` + `verify` | Ed25519 `verify_strict`, same input length |
//! | `one_time_key_verify` | `OneTimeKeyBundle::decode` + `verify` | Ed25519 `verify_strict`, same input length |
//! | `key_id` | `SealingPublicKey::key_id` | HKDF-SHA-256 extract + expand, 16 bytes |
//! | `agreement` | `SealingSecretKey::agree` | `x25519_dalek::x25519` |
//! | `bundle_sign` | `DeviceKeys::bundle` | Ed25519 sign, same input length |
//! | `safety_number` | `SafetyNumber::new` + `digits` | two HKDF-SHA-256 derivations, 32 bytes |
//! | `kem_key_check` | `KemEncapsulationKey::from_bytes` | libcrux `validate_public_key` (FIPS 203 §7.2) |
//! | `kem_keygen` | `KemDecapsulationKey::from_seed` | libcrux `generate_key_pair` |
//! | `kem_encapsulate` | `KemEncapsulationKey::encapsulate` | libcrux `encapsulate` (+ 32 bytes from the same RNG) |
//! | `kem_decapsulate` | `KemDecapsulationKey::decapsulate` | libcrux `decapsulate` with the expanded key |
//!
//! Some crate operations necessarily do more than one primitive (verification
//! also decodes the identity point, recomputes both key ids and runs the
//! ML-KEM modulus check; signing a bundle also derives both key ids). For those groups a third entry,
//! `baseline_all_primitives`, runs exactly those primitives back to back: the
//! floor any implementation of the same checks would pay.
//!
//! Run: `cargo bench --features hazmat --bench registration -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{
    IdentitySecretKey, KemCiphertext, KemDecapsulationKey, KemEncapsulationKey, SealingPublicKey,
    SealingSecretKey,
};
use letterseal::labels;
use letterseal::registration::{
    ExpectedOwner, KeyBundle, NoDirectory, OneTimeKeyBundle, RegistrationPolicy,
};
use letterseal::safety_number::SafetyNumber;
use letterseal::time::Timestamp;
use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext, MlKem768PublicKey};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

const SEED: [u8; 32] = [0x5e; 32];
const LIFETIME_SECONDS: u64 = 30 * 86_400;
const SIGNATURE_LEN: usize = 64;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed(SEED)
}

fn random_bytes(rng: &mut ChaCha20Rng, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    rng.fill_bytes(&mut out);
    out
}

fn random_array(rng: &mut ChaCha20Rng) -> [u8; 32] {
    let mut out = [0u8; 32];
    rng.fill_bytes(&mut out);
    out
}

/// Length of the labelled Ed25519 input (SPEC.md §3.2):
/// `PROTOCOL_ID ‖ u8(len(label)) ‖ label ‖ content`.
fn labeled_signature_input_len(label: labels::SignatureLabel, content_len: usize) -> usize {
    labels::PROTOCOL_ID.len() + 1 + label.as_bytes().len() + content_len
}

/// Length of the labelled HKDF info (SPEC.md §3.1):
/// `PROTOCOL_ID ‖ u16(L) ‖ u8(len(label)) ‖ label ‖ u32(len(context)) ‖ context`.
fn labeled_info_len(label: &[u8], context_len: usize) -> usize {
    labels::PROTOCOL_ID.len() + 2 + 1 + label.len() + 4 + context_len
}

fn raw_hkdf(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) {
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .expect("HKDF output length is valid");
}

struct Fixture {
    now: Timestamp,
    device: DeviceKeys,
    wire: Vec<u8>,
    bundle: KeyBundle,
}

fn fixture(rng: &mut ChaCha20Rng) -> Fixture {
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let address = DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1));
    let mut device = DeviceKeys::generate(rng, address);
    let bundle = device.add_sealing_key(rng, now, LIFETIME_SECONDS);
    let wire = bundle.encode();
    Fixture {
        now,
        device,
        wire,
        bundle,
    }
}

fn bundle_verify(c: &mut Criterion) {
    let mut rng = rng();
    let f = fixture(&mut rng);
    let policy = RegistrationPolicy::default();
    let owner = ExpectedOwner::Device(f.device.address().clone());
    let tbs_len = f.wire.len() - SIGNATURE_LEN;
    let signed_len = labeled_signature_input_len(labels::sig::KEY_BUNDLE, tbs_len);

    // The crate path must succeed on the fixture, or the numbers mean nothing.
    KeyBundle::decode(&f.wire)
        .and_then(|b| b.verify(&owner, &policy, f.now, None, &NoDirectory))
        .expect("fixture bundle verifies");

    // Baseline: an independent key and a message of the same signed length.
    let signer = SigningKey::from_bytes(&random_array(&mut rng));
    let message = random_bytes(&mut rng, signed_len);
    let signature = signer.sign(&message);
    let verifier = signer.verifying_key();
    verifier.verify_strict(&message, &signature).unwrap();
    let verifier_bytes = verifier.to_bytes();
    let sealing_bytes = f.bundle.content().sealing_key.to_bytes();
    let key_id_info = random_bytes(&mut rng, labeled_info_len(labels::kdf::SEALING_KEY_ID, 0));
    let kem_bytes = *f.bundle.content().kem_key.as_bytes();
    let kem_id_info = random_bytes(&mut rng, labeled_info_len(labels::kdf::KEM_KEY_ID, 0));

    let mut g = c.benchmark_group("bundle_verify");
    g.bench_function("letterseal", |b| {
        b.iter(|| {
            KeyBundle::decode(black_box(&f.wire))
                .and_then(|bundle| bundle.verify(&owner, &policy, f.now, None, &NoDirectory))
        });
    });
    g.bench_function("baseline", |b| {
        b.iter(|| verifier.verify_strict(black_box(&message), black_box(&signature)));
    });
    g.bench_function("baseline_all_primitives", |b| {
        b.iter(|| {
            // Identity point decoding + weak-key check, strict verification,
            // key-id HKDF, ML-KEM modulus check, KEM key-id HKDF. (The small-order
            // check is seven 32-byte comparisons.)
            let vk = VerifyingKey::from_bytes(black_box(&verifier_bytes)).unwrap();
            let weak = vk.is_weak();
            let ok = vk.verify_strict(black_box(&message), black_box(&signature));
            let mut id = [0u8; 16];
            raw_hkdf(b"", black_box(&sealing_bytes), &key_id_info, &mut id);
            let kem_ok =
                mlkem768::validate_public_key(&MlKem768PublicKey::from(black_box(&kem_bytes)));
            let mut kem_id = [0u8; 16];
            raw_hkdf(b"", black_box(&kem_bytes), &kem_id_info, &mut kem_id);
            (weak, ok, id, kem_ok, kem_id)
        });
    });
    g.finish();
}

fn key_id(c: &mut Criterion) {
    let mut rng = rng();
    let public = SealingSecretKey::generate(&mut rng).public_key();
    let ikm = public.to_bytes();
    let info = random_bytes(&mut rng, labeled_info_len(labels::kdf::SEALING_KEY_ID, 0));

    let mut g = c.benchmark_group("key_id");
    g.bench_function("letterseal", |b| {
        b.iter(|| black_box(&public).key_id());
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            let mut out = [0u8; 16];
            raw_hkdf(b"", black_box(&ikm), black_box(&info), &mut out);
            out
        });
    });
    g.finish();
}

fn agreement(c: &mut Criterion) {
    let mut rng = rng();
    let secret_bytes = random_array(&mut rng);
    let secret = SealingSecretKey::from_bytes(&secret_bytes);
    let peer: SealingPublicKey = SealingSecretKey::generate(&mut rng).public_key();
    let peer_bytes = peer.to_bytes();
    secret
        .agree(&peer)
        .expect("fixture agreement is contributory");

    let mut g = c.benchmark_group("agreement");
    g.bench_function("letterseal", |b| {
        b.iter(|| secret.agree(black_box(&peer)));
    });
    g.bench_function("baseline", |b| {
        b.iter(|| x25519_dalek::x25519(black_box(secret_bytes), black_box(peer_bytes)));
    });
    g.finish();
}

fn bundle_sign(c: &mut Criterion) {
    let mut rng = rng();
    let f = fixture(&mut rng);
    let key_id = f.bundle.content().sealing_key_id;
    let tbs_len = f.wire.len() - SIGNATURE_LEN;
    let signed_len = labeled_signature_input_len(labels::sig::KEY_BUNDLE, tbs_len);
    assert_eq!(f.device.bundle(&key_id).as_ref(), Some(&f.bundle));

    let signer = SigningKey::from_bytes(&random_array(&mut rng));
    let message = random_bytes(&mut rng, signed_len);
    let public = PublicKey::from(&StaticSecret::from(random_array(&mut rng)));
    let key_id_info = random_bytes(&mut rng, labeled_info_len(labels::kdf::SEALING_KEY_ID, 0));
    let kem_bytes = *f.bundle.content().kem_key.as_bytes();
    let kem_id_info = random_bytes(&mut rng, labeled_info_len(labels::kdf::KEM_KEY_ID, 0));

    let mut g = c.benchmark_group("bundle_sign");
    g.bench_function("letterseal", |b| {
        b.iter(|| f.device.bundle(black_box(&key_id)));
    });
    g.bench_function("baseline", |b| {
        b.iter(|| signer.sign(black_box(&message)));
    });
    g.bench_function("baseline_all_primitives", |b| {
        b.iter(|| {
            // Key-id HKDF, KEM key-id HKDF, Ed25519 sign (the public keys are
            // stored with the secrets).
            let mut id = [0u8; 16];
            raw_hkdf(b"", black_box(public.as_bytes()), &key_id_info, &mut id);
            let mut kem_id = [0u8; 16];
            raw_hkdf(b"", black_box(&kem_bytes), &kem_id_info, &mut kem_id);
            (id, kem_id, signer.sign(black_box(&message)))
        });
    });
    g.finish();
}

fn safety_number(c: &mut Criterion) {
    let mut rng = rng();
    let alice = (
        UserId::new("alice").unwrap(),
        IdentitySecretKey::generate(&mut rng).public_key(),
    );
    let bob = (
        UserId::new("bob").unwrap(),
        IdentitySecretKey::generate(&mut rng).public_key(),
    );
    // Fingerprint context is `u8(len(user)) ‖ user`.
    let info_a = random_bytes(
        &mut rng,
        labeled_info_len(labels::kdf::SAFETY_NUMBER, 1 + alice.0.as_bytes().len()),
    );
    let info_b = random_bytes(
        &mut rng,
        labeled_info_len(labels::kdf::SAFETY_NUMBER, 1 + bob.0.as_bytes().len()),
    );
    let ikm_a = alice.1.to_bytes();
    let ikm_b = bob.1.to_bytes();

    let mut g = c.benchmark_group("safety_number");
    g.bench_function("letterseal", |b| {
        b.iter(|| {
            SafetyNumber::new(
                (black_box(&alice.0), black_box(&alice.1)),
                (black_box(&bob.0), black_box(&bob.1)),
            )
            .digits()
        });
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            let mut fa = [0u8; 32];
            let mut fb = [0u8; 32];
            raw_hkdf(b"", black_box(&ikm_a), black_box(&info_a), &mut fa);
            raw_hkdf(b"", black_box(&ikm_b), black_box(&info_b), &mut fb);
            (fa, fb)
        });
    });
    g.finish();
}

fn one_time_key_verify(c: &mut Criterion) {
    let mut rng = rng();
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let address = DeviceAddress::new(UserId::new("bob").unwrap(), DeviceId::new(1));
    let mut device = DeviceKeys::generate(&mut rng, address.clone());
    let wire = device
        .add_one_time_keys(&mut rng, 1, now, LIFETIME_SECONDS)
        .pop()
        .expect("one key")
        .encode();
    let owner = ExpectedOwner::Device(address);
    let policy = RegistrationPolicy::default();
    OneTimeKeyBundle::decode(&wire)
        .and_then(|k| k.verify(&owner, &policy, now, None, &NoDirectory))
        .expect("fixture one-time key verifies");
    let signed_len =
        labeled_signature_input_len(labels::sig::ONE_TIME_KEY, wire.len() - SIGNATURE_LEN);
    let signer = SigningKey::from_bytes(&random_array(&mut rng));
    let message = random_bytes(&mut rng, signed_len);
    let signature = signer.sign(&message);
    let verifier_bytes = signer.verifying_key().to_bytes();
    let key_bytes = random_array(&mut rng);
    let key_id_info = random_bytes(&mut rng, labeled_info_len(labels::kdf::SEALING_KEY_ID, 0));

    let mut g = c.benchmark_group("one_time_key_verify");
    g.bench_function("letterseal", |b| {
        b.iter(|| {
            OneTimeKeyBundle::decode(black_box(&wire))
                .and_then(|k| k.verify(&owner, &policy, now, None, &NoDirectory))
        });
    });
    g.bench_function("baseline_all_primitives", |b| {
        b.iter(|| {
            let vk = VerifyingKey::from_bytes(black_box(&verifier_bytes)).unwrap();
            let weak = vk.is_weak();
            let ok = vk.verify_strict(black_box(&message), black_box(&signature));
            let mut id = [0u8; 16];
            raw_hkdf(b"", black_box(&key_bytes), &key_id_info, &mut id);
            (weak, ok, id)
        });
    });
    g.finish();
}

fn kem(c: &mut Criterion) {
    let mut rng = rng();
    let mut seed = [0u8; 64];
    rng.fill_bytes(&mut seed);
    let key = KemDecapsulationKey::from_seed(&seed);
    let public = key.encapsulation_key();
    let public_bytes = *public.as_bytes();
    let raw_pair = mlkem768::generate_key_pair(seed);
    assert_eq!(raw_pair.pk(), &public_bytes);
    let raw_public = MlKem768PublicKey::from(&public_bytes);
    let (ciphertext, shared) = public.encapsulate(&mut rng);
    assert_eq!(key.decapsulate(&ciphertext).as_bytes(), shared.as_bytes());
    let raw_ciphertext = MlKem768Ciphertext::from(ciphertext.as_bytes());
    let ciphertext_bytes = *ciphertext.as_bytes();

    let mut g = c.benchmark_group("kem_key_check");
    g.bench_function("letterseal", |b| {
        b.iter(|| KemEncapsulationKey::from_bytes(black_box(&public_bytes)));
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            mlkem768::validate_public_key(&MlKem768PublicKey::from(black_box(&public_bytes)))
        });
    });
    g.finish();

    let mut g = c.benchmark_group("kem_keygen");
    g.bench_function("letterseal", |b| {
        b.iter(|| KemDecapsulationKey::from_seed(black_box(&seed)));
    });
    g.bench_function("baseline", |b| {
        b.iter(|| mlkem768::generate_key_pair(black_box(seed)));
    });
    g.finish();

    let mut g = c.benchmark_group("kem_encapsulate");
    g.bench_function("letterseal", |b| {
        b.iter(|| black_box(&public).encapsulate(&mut rng));
    });
    let mut raw_rng = ChaCha20Rng::from_seed([7; 32]);
    g.bench_function("baseline", |b| {
        b.iter(|| {
            let mut m = [0u8; 32];
            raw_rng.fill_bytes(&mut m);
            mlkem768::encapsulate(black_box(&raw_public), m)
        });
    });
    g.finish();

    let mut g = c.benchmark_group("kem_decapsulate");
    g.bench_function("letterseal", |b| {
        b.iter(|| black_box(&key).decapsulate(black_box(&ciphertext)));
    });
    g.bench_function("letterseal_with_ciphertext_check", |b| {
        b.iter(|| {
            KemCiphertext::from_bytes(black_box(&ciphertext_bytes))
                .map(|c| black_box(&key).decapsulate(&c))
        });
    });
    g.bench_function("baseline", |b| {
        b.iter(|| mlkem768::decapsulate(raw_pair.private_key(), black_box(&raw_ciphertext)));
    });
    g.bench_function("baseline_expand_from_seed", |b| {
        b.iter(|| {
            let pair = mlkem768::generate_key_pair(black_box(seed));
            mlkem768::decapsulate(pair.private_key(), black_box(&raw_ciphertext))
        });
    });
    g.finish();
}

criterion_group!(
    benches,
    bundle_verify,
    one_time_key_verify,
    kem,
    key_id,
    agreement,
    bundle_sign,
    safety_number
);
criterion_main!(benches);
