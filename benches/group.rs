//! Group costs (SPEC.md §8), each beside the raw work it is built on, so every
//! criterion group reads as a ratio `letterseal / baseline`. `n` is the number
//! of member devices including the distributor, so a distribution carries
//! `n − 1` wraps.
//!
//! | group | `letterseal` | `baseline` | target |
//! |---|---|---|---|
//! | `group_distribute_cached/{n}` | `Group::distribute`, every session's chain cached | `n − 1` × `Session::seal` of 32 bytes (`GroupKey`, wrap associated data) | ≤ 1.5× |
//! | `group_distribute_cold/{n}` | `Group::distribute`, empty session map | `n − 1` × `x25519_dalek::x25519` | ≤ 1.2× |
//! | `group_seal_open/1KiB` | `Group::seal` + `Group::open` of 1 KiB | Ed25519 sign + `verify_strict` of the signed length, per side HKDF-SHA-256 (76 bytes) + AES-256-GCM key setup, encrypt + decrypt of 1 KiB | ≤ 1.2× |
//! | `group_verify_for_server/5000` | `Distribution::verify_for_server` | — (absolute time) | — |
//! | `group_process/5000` | `Group::process` of one member's view, steady state | — (absolute time) | — |
//!
//! Extra entries, for attribution rather than targets:
//!
//! - `group_distribute_cached/{n}/baseline_all_primitives`: the primitives
//!   SPEC.md §8.2 makes any implementation pay: per wrap one HKDF (76 bytes),
//!   AES-256-GCM setup + 32-byte encryption and the wrap-digest HKDF; once the
//!   roster-hash HKDF and the Ed25519 signature over the labelled core.
//! - `group_verify_for_server/5000/baseline_all_primitives` and
//!   `group_process/5000/baseline_all_primitives`: roster-hash HKDF, strict
//!   Ed25519 verification of the labelled core, the wrap-digest HKDFs (all of
//!   them, or the member's one), and for `process` the pairwise open of the
//!   wrap (HKDF, AES-256-GCM setup, 32-byte decryption).
//! - `…/letterseal_decode_and_verify` and `…/letterseal_decode_and_process`:
//!   the same calls starting from the wire bytes (`Distribution::decode`),
//!   which is what a server or member actually receives.
//!
//! Every baseline input has the length of the crate's input (labelled `info`
//! and signature inputs, roster encoding, core, wraps), measured on the
//! fixture.
//!
//! Run: `cargo bench --bench group -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use hkdf::Hkdf;
use letterseal::device::DeviceKeys;
use letterseal::group::{
    Distribution, GracePolicy, Group, GroupId, Roster, RosterHash, wrap_associated_data,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::labels;
use letterseal::pairwise::{BOUND_FIELDS_LEN, ContentType, HEADER_LEN, Session};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::Sha256;

const SEED: [u8; 32] = [0x6b; 32];
const LIFETIME_SECONDS: u64 = 30 * 86_400;
const SIGNATURE_LEN: usize = 64;
const TAG_LEN: usize = 16;
const SALT_LEN: usize = 16;
const EPOCH_SECRET_LEN: usize = 32;
/// Output of every message-key derivation: key (32) ‖ nonce (12) ‖ commitment (32).
const MESSAGE_KEYS_LEN: usize = 76;
const SIZES: [usize; 4] = [10, 100, 500, 5000];
const LARGE: usize = 5000;
const MESSAGE_LEN: usize = 1024;

fn rng(stream: u8) -> ChaCha20Rng {
    let mut seed = SEED;
    seed[0] = stream;
    ChaCha20Rng::from_seed(seed)
}

fn random_bytes(rng: &mut ChaCha20Rng, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    rng.fill_bytes(&mut out);
    out
}

fn random_array<const N: usize>(rng: &mut ChaCha20Rng) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}

/// Length of the labelled Ed25519 input (SPEC.md §3.2).
fn labeled_signature_input_len(label: &[u8], content_len: usize) -> usize {
    labels::PROTOCOL_ID.len() + 1 + label.len() + content_len
}

/// Length of the labelled HKDF info (SPEC.md §3.1).
fn labeled_info_len(label: &[u8], context_len: usize) -> usize {
    labels::PROTOCOL_ID.len() + 2 + 1 + label.len() + 4 + context_len
}

fn raw_hkdf(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) {
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .expect("HKDF output length is valid");
}

fn raw_encrypt(key: &[u8], nonce: &[u8], aad: &[u8], buffer: &mut [u8]) -> Tag {
    let key: [u8; 32] = key.try_into().unwrap();
    let nonce: [u8; 12] = nonce.try_into().unwrap();
    Aes256Gcm::new(&key.into())
        .encrypt_inout_detached(&Nonce::from(nonce), aad, buffer.into())
        .unwrap()
}

fn raw_decrypt(key: &[u8], nonce: &[u8], aad: &[u8], buffer: &mut [u8], tag: &Tag) -> bool {
    let key: [u8; 32] = key.try_into().unwrap();
    let nonce: [u8; 12] = nonce.try_into().unwrap();
    Aes256Gcm::new(&key.into())
        .decrypt_inout_detached(&Nonce::from(nonce), aad, buffer.into(), tag)
        .is_ok()
}

/// `address = lp8(user id) ‖ u32(device id)` (SPEC.md §4.1).
fn address_len(address: &DeviceAddress) -> usize {
    1 + address.user.as_bytes().len() + 4
}

/// `u32(n) ‖ n × (address ‖ identity key ‖ sealing key ‖ key id)` (SPEC.md §8.1).
fn roster_encoding_len(roster: &Roster) -> usize {
    4 + roster
        .members()
        .iter()
        .map(|m| address_len(&m.address) + 32 + 32 + 16)
        .sum::<usize>()
}

/// `n` members, `member00000`, `member00001`, …, device 1 each. Member 0
/// distributes, member 1 receives; the devices of the others are dropped, only
/// their verified bundles are kept. Sizes use prefixes of the same roster.
struct Fixture {
    now: Timestamp,
    group_id: GroupId,
    distributor: DeviceKeys,
    receiver: DeviceKeys,
    bundles: Vec<VerifiedBundle>,
}

impl Fixture {
    fn members(&self, n: usize) -> &[VerifiedBundle] {
        self.bundles.get(..n).unwrap()
    }

    fn roster_hash(&self, n: usize) -> RosterHash {
        Roster::from_bundles(self.members(n))
            .unwrap()
            .hash(&self.group_id)
    }

    fn distributor_group(&self) -> Group {
        Group::new(
            self.group_id.clone(),
            self.distributor.address().clone(),
            GracePolicy::default(),
        )
    }

    fn receiver_group(&self) -> Group {
        Group::new(
            self.group_id.clone(),
            self.receiver.address().clone(),
            GracePolicy::default(),
        )
    }

    /// The receiver's fresh session with the distributor.
    fn receiver_session(&self) -> Session {
        Session::new(&self.receiver, self.bundles.first().unwrap()).unwrap()
    }

    /// The distributor's sealing secret, as raw bytes for the X25519 baseline.
    fn distributor_sealing_secret(&self) -> [u8; 32] {
        let id = self.distributor.current_sealing_key_id().unwrap();
        *self.distributor.sealing_key(&id).unwrap().to_bytes()
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut rng = rng(0);
        let now = Timestamp::from_unix_seconds(1_800_000_000);
        let policy = RegistrationPolicy::default();
        let mut devices = Vec::with_capacity(2);
        let mut bundles = Vec::with_capacity(LARGE);
        for i in 0..LARGE {
            let user = UserId::new(format!("member{i:05}")).unwrap();
            let mut device =
                DeviceKeys::generate(&mut rng, DeviceAddress::new(user, DeviceId::new(1)));
            let bundle = device.add_sealing_key(&mut rng, now, LIFETIME_SECONDS);
            bundles.push(
                bundle
                    .verify(
                        &device.address().clone().into(),
                        &policy,
                        now,
                        None,
                        &NoDirectory,
                    )
                    .unwrap(),
            );
            if i < 2 {
                devices.push(device);
            }
        }
        let receiver = devices.pop().unwrap();
        let distributor = devices.pop().unwrap();
        Fixture {
            now,
            group_id: GroupId::new("bench group").unwrap(),
            distributor,
            receiver,
            bundles,
        }
    })
}

/// Large groups take tens to hundreds of milliseconds per iteration: a few
/// flat samples are enough, and keep the whole run short.
fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, n: usize) {
    g.sampling_mode(SamplingMode::Flat);
    if n >= LARGE {
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(2));
    }
}

fn distribute_cached(c: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(1);
    for n in SIZES {
        let members = f.members(n);
        let mut group = f.distributor_group();
        let mut sessions = BTreeMap::new();
        // Creates every session and caches its chain (one seal per session).
        group
            .distribute(&mut rng, &f.distributor, members, &mut sessions, f.now)
            .unwrap();
        assert_eq!(sessions.len(), n - 1);
        let roster_hash = f.roster_hash(n);
        let ad = wrap_associated_data(&f.group_id, 1, &roster_hash);
        let secret = [0x42u8; EPOCH_SECRET_LEN];

        // Primitive floor: inputs of the crate's lengths.
        let (sample, _) = f
            .distributor_group()
            .distribute(
                &mut rng,
                &f.distributor,
                members,
                &mut BTreeMap::new(),
                f.now,
            )
            .unwrap();
        let core_len = sample.core().encode().len();
        let wrap_len = sample.wraps().first().unwrap().len();
        assert_eq!(wrap_len, HEADER_LEN + EPOCH_SECRET_LEN + TAG_LEN);
        let roster_bytes = random_bytes(&mut rng, roster_encoding_len(&sample.core().roster));
        let roster_info = random_bytes(
            &mut rng,
            labeled_info_len(labels::kdf::ROSTER_HASH, 1 + f.group_id.as_bytes().len()),
        );
        let message_info = random_bytes(
            &mut rng,
            labeled_info_len(labels::kdf::PAIRWISE_MESSAGE, BOUND_FIELDS_LEN),
        );
        let digest_info = random_bytes(&mut rng, labeled_info_len(labels::kdf::WRAP_DIGEST, 0));
        let chain: [u8; 32] = random_array(&mut rng);
        let salt: [u8; SALT_LEN] = random_array(&mut rng);
        let wrap_aad = random_bytes(&mut rng, HEADER_LEN + ad.len());
        let wrap = random_bytes(&mut rng, wrap_len);
        let signer = SigningKey::from_bytes(&random_array(&mut rng));
        let core = random_bytes(
            &mut rng,
            labeled_signature_input_len(labels::sig::GROUP_DISTRIBUTION, core_len),
        );

        let mut g = c.benchmark_group(format!("group_distribute_cached/{n}"));
        configure(&mut g, n);
        g.bench_function("letterseal", |b| {
            b.iter(|| {
                group
                    .distribute(
                        &mut rng,
                        &f.distributor,
                        black_box(members),
                        &mut sessions,
                        f.now,
                    )
                    .unwrap()
            });
        });
        g.bench_function("baseline", |b| {
            b.iter(|| {
                for session in sessions.values_mut() {
                    let wrap = session
                        .seal(
                            &f.distributor,
                            &mut rng,
                            f.now,
                            ContentType::GroupKey,
                            black_box(&secret),
                            &ad,
                        )
                        .unwrap();
                    black_box(wrap);
                }
            });
        });
        g.bench_function("baseline_all_primitives", |b| {
            b.iter(|| {
                for _ in 1..n {
                    let mut keys = [0u8; MESSAGE_KEYS_LEN];
                    raw_hkdf(
                        black_box(&salt),
                        black_box(&chain),
                        &message_info,
                        &mut keys,
                    );
                    let mut body = secret;
                    let tag = raw_encrypt(&keys[..32], &keys[32..44], &wrap_aad, &mut body);
                    let mut digest = [0u8; 32];
                    raw_hkdf(b"", black_box(&wrap), &digest_info, &mut digest);
                    black_box((body, tag, digest));
                }
                let mut roster_hash = [0u8; 32];
                raw_hkdf(
                    b"",
                    black_box(&roster_bytes),
                    &roster_info,
                    &mut roster_hash,
                );
                (roster_hash, signer.sign(black_box(&core)))
            });
        });
        g.finish();
    }
}

fn distribute_cold(c: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(2);
    let secret = f.distributor_sealing_secret();
    for n in SIZES {
        let members = f.members(n);
        let peers: Vec<[u8; 32]> = members
            .iter()
            .skip(1)
            .map(|b| b.sealing_key().to_bytes())
            .collect();
        let mut group = f.distributor_group();
        // One epoch already, as in steady state (the next one supersedes it).
        group
            .distribute(
                &mut rng,
                &f.distributor,
                members,
                &mut BTreeMap::new(),
                f.now,
            )
            .unwrap();

        let mut g = c.benchmark_group(format!("group_distribute_cold/{n}"));
        configure(&mut g, n);
        g.bench_function("letterseal", |b| {
            b.iter_batched(
                BTreeMap::new,
                |mut sessions| {
                    let out = group
                        .distribute(
                            &mut rng,
                            &f.distributor,
                            black_box(members),
                            &mut sessions,
                            f.now,
                        )
                        .unwrap();
                    (out, sessions)
                },
                BatchSize::PerIteration,
            );
        });
        g.bench_function("baseline", |b| {
            b.iter(|| {
                for peer in &peers {
                    black_box(x25519_dalek::x25519(black_box(secret), black_box(*peer)));
                }
            });
        });
        g.finish();
    }
}

fn seal_open(c: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(3);
    let members = f.members(10);
    let mut at_distributor = f.distributor_group();
    let (distribution, _) = at_distributor
        .distribute(
            &mut rng,
            &f.distributor,
            members,
            &mut BTreeMap::new(),
            f.now,
        )
        .unwrap();
    let mut at_receiver = f.receiver_group();
    at_receiver
        .process(
            &f.receiver,
            &distribution.for_member(f.receiver.address()).unwrap(),
            &mut f.receiver_session(),
            f.now,
        )
        .unwrap();
    let plaintext = random_bytes(&mut rng, MESSAGE_LEN);

    // Lengths of the crate's message, for the baseline.
    let sample = at_distributor
        .seal(&mut rng, &f.distributor, ContentType::Text, &plaintext, b"")
        .unwrap();
    let opened = at_receiver.open(&sample, b"", f.now).unwrap();
    assert_eq!(opened.plaintext.as_slice(), plaintext.as_slice());
    let signed_len = sample.len() - SIGNATURE_LEN;
    let header_len = signed_len - MESSAGE_LEN - TAG_LEN;
    let bound_len = header_len - SALT_LEN - 32;
    let message = random_bytes(
        &mut rng,
        labeled_signature_input_len(labels::sig::GROUP_MESSAGE, signed_len),
    );
    let info = random_bytes(
        &mut rng,
        labeled_info_len(labels::kdf::GROUP_MESSAGE, bound_len),
    );
    let header = random_bytes(&mut rng, header_len);
    let chain: [u8; 32] = random_array(&mut rng);
    let salt: [u8; SALT_LEN] = random_array(&mut rng);
    let signer = SigningKey::from_bytes(&random_array(&mut rng));
    let verifier = signer.verifying_key();

    let mut g = c.benchmark_group("group_seal_open/1KiB");
    g.bench_function("letterseal", |b| {
        b.iter(|| {
            let sealed = at_distributor
                .seal(
                    &mut rng,
                    &f.distributor,
                    ContentType::Text,
                    black_box(&plaintext),
                    b"",
                )
                .unwrap();
            at_receiver.open(black_box(&sealed), b"", f.now).unwrap()
        });
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            // Sender: message keys, encryption, signature.
            let mut keys = [0u8; MESSAGE_KEYS_LEN];
            raw_hkdf(black_box(&salt), black_box(&chain), &info, &mut keys);
            let mut body = black_box(&plaintext).clone();
            let tag = raw_encrypt(&keys[..32], &keys[32..44], &header, &mut body);
            let signature = signer.sign(black_box(&message));
            // Receiver: signature, message keys, decryption.
            verifier
                .verify_strict(black_box(&message), &signature)
                .unwrap();
            let mut keys = [0u8; MESSAGE_KEYS_LEN];
            raw_hkdf(black_box(&salt), black_box(&chain), &info, &mut keys);
            assert!(raw_decrypt(
                &keys[..32],
                &keys[32..44],
                &header,
                &mut body,
                &tag
            ));
            body
        });
    });
    g.finish();
}

/// The primitives of the shared checks (SPEC.md §8.3): roster hash and the
/// signature over the labelled core.
struct CheckPrimitives {
    roster_bytes: Vec<u8>,
    roster_info: Vec<u8>,
    core: Vec<u8>,
    signature: ed25519_dalek::Signature,
    verifier: ed25519_dalek::VerifyingKey,
    wrap: Vec<u8>,
    digest_info: Vec<u8>,
}

impl CheckPrimitives {
    fn new(rng: &mut ChaCha20Rng, f: &Fixture, distribution: &Distribution) -> Self {
        let core_len = distribution.core().encode().len();
        let signer = SigningKey::from_bytes(&random_array(rng));
        let core = random_bytes(
            rng,
            labeled_signature_input_len(labels::sig::GROUP_DISTRIBUTION, core_len),
        );
        Self {
            roster_bytes: random_bytes(rng, roster_encoding_len(&distribution.core().roster)),
            roster_info: random_bytes(
                rng,
                labeled_info_len(labels::kdf::ROSTER_HASH, 1 + f.group_id.as_bytes().len()),
            ),
            signature: signer.sign(&core),
            verifier: signer.verifying_key(),
            core,
            wrap: random_bytes(rng, distribution.wraps().first().unwrap().len()),
            digest_info: random_bytes(rng, labeled_info_len(labels::kdf::WRAP_DIGEST, 0)),
        }
    }

    fn check(&self) -> [u8; 32] {
        let mut roster_hash = [0u8; 32];
        raw_hkdf(
            b"",
            black_box(&self.roster_bytes),
            &self.roster_info,
            &mut roster_hash,
        );
        self.verifier
            .verify_strict(black_box(&self.core), &self.signature)
            .unwrap();
        roster_hash
    }

    fn wrap_digest(&self) -> [u8; 32] {
        let mut digest = [0u8; 32];
        raw_hkdf(b"", black_box(&self.wrap), &self.digest_info, &mut digest);
        digest
    }
}

fn verify_for_server(c: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(4);
    let members = f.members(LARGE);
    let mut group = f.distributor_group();
    let (distribution, _) = group
        .distribute(
            &mut rng,
            &f.distributor,
            members,
            &mut BTreeMap::new(),
            f.now,
        )
        .unwrap();
    let wire = distribution.encode();
    let last_epoch = Some(distribution.core().epoch - 1);
    distribution.verify_for_server(last_epoch).unwrap();
    let primitives = CheckPrimitives::new(&mut rng, f, &distribution);

    let mut g = c.benchmark_group(format!("group_verify_for_server/{LARGE}"));
    configure(&mut g, LARGE);
    g.bench_function("letterseal", |b| {
        b.iter(|| {
            black_box(&distribution)
                .verify_for_server(last_epoch)
                .unwrap()
        });
    });
    g.bench_function("letterseal_decode_and_verify", |b| {
        b.iter(|| {
            Distribution::decode(black_box(&wire))
                .unwrap()
                .verify_for_server(last_epoch)
                .unwrap()
        });
    });
    g.bench_function("baseline_all_primitives", |b| {
        b.iter(|| {
            let roster_hash = primitives.check();
            for _ in 1..LARGE {
                black_box(primitives.wrap_digest());
            }
            roster_hash
        });
    });
    g.finish();
}

fn process(c: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(5);
    let members = f.members(LARGE);
    let mut group = f.distributor_group();
    let mut sessions = BTreeMap::new();
    // Two epochs: the receiver processes the first in setup (fresh state, one
    // X25519 for the chain) and the second in the measurement (steady state:
    // a previous epoch to diff against, chain cached).
    let mut next_view = || {
        let (d, _) = group
            .distribute(&mut rng, &f.distributor, members, &mut sessions, f.now)
            .unwrap();
        d.for_member(f.receiver.address()).unwrap()
    };
    let (first, second) = (&next_view(), &next_view());
    let second_wire = second.encode();
    let setup = || {
        let mut state = f.receiver_group();
        let mut session = f.receiver_session();
        state
            .process(&f.receiver, first, &mut session, f.now)
            .unwrap();
        (state, session)
    };
    {
        let (mut state, mut session) = setup();
        state
            .process(&f.receiver, second, &mut session, f.now)
            .unwrap();
    }
    let primitives = CheckPrimitives::new(&mut rng, f, second);
    let ad_len = wrap_associated_data(&f.group_id, 1, &f.roster_hash(LARGE)).len();
    let wrap_aad = random_bytes(&mut rng, HEADER_LEN + ad_len);
    let message_info = random_bytes(
        &mut rng,
        labeled_info_len(labels::kdf::PAIRWISE_MESSAGE, BOUND_FIELDS_LEN),
    );
    let chain: [u8; 32] = random_array(&mut rng);
    let salt: [u8; SALT_LEN] = random_array(&mut rng);
    let mut keys = [0u8; MESSAGE_KEYS_LEN];
    raw_hkdf(&salt, &chain, &message_info, &mut keys);
    let mut body = [0x42u8; EPOCH_SECRET_LEN];
    let tag = raw_encrypt(&keys[..32], &keys[32..44], &wrap_aad, &mut body);

    let mut g = c.benchmark_group(format!("group_process/{LARGE}"));
    configure(&mut g, LARGE);
    g.bench_function("letterseal", |b| {
        b.iter_batched(
            setup,
            |(mut state, mut session)| {
                let change = state
                    .process(&f.receiver, black_box(second), &mut session, f.now)
                    .unwrap();
                (state, session, change)
            },
            BatchSize::PerIteration,
        );
    });
    g.bench_function("letterseal_decode_and_process", |b| {
        b.iter_batched(
            setup,
            |(mut state, mut session)| {
                let view = Distribution::decode(black_box(&second_wire)).unwrap();
                let change = state
                    .process(&f.receiver, &view, &mut session, f.now)
                    .unwrap();
                (state, session, change)
            },
            BatchSize::PerIteration,
        );
    });
    g.bench_function("baseline_all_primitives", |b| {
        b.iter(|| {
            let roster_hash = primitives.check();
            let digest = primitives.wrap_digest();
            let mut keys = [0u8; MESSAGE_KEYS_LEN];
            raw_hkdf(
                black_box(&salt),
                black_box(&chain),
                &message_info,
                &mut keys,
            );
            let mut secret = body;
            assert!(raw_decrypt(
                &keys[..32],
                &keys[32..44],
                &wrap_aad,
                &mut secret,
                &tag
            ));
            (roster_hash, digest, secret)
        });
    });
    g.finish();
}

criterion_group!(
    benches,
    distribute_cached,
    distribute_cold,
    seal_open,
    verify_for_server,
    process
);
criterion_main!(benches);
