//! Group costs (SPEC.md §8), each beside the raw work it is built on, so every
//! criterion group reads as a ratio `letterseal / floor`. `n` is the number of
//! member devices including the distributor.
//!
//! | group | `letterseal` | `floor` | target |
//! |---|---|---|---|
//! | `group_process/{n}` | `Distribution::decode` + `Group::process` of a member's view of a change (one member removed: a delta), state in memory | Ed25519 `verify_strict` of the labelled core + SHA-256 of the new roster + one wrap open (HKDF-SHA-256 to 44 bytes, AES-256-GCM setup and 32-byte decryption) | ≤ 1.2× |
//! | `group_verify_for_server/{n}` | `Distribution::decode` + `Distribution::verify_for_server` of that change's upload against the stored record | Ed25519 `verify_strict` of the labelled core + SHA-256 of the new roster + SHA-256 of the wraps | ≤ 1.2× |
//! | `group_propose_cached/{n}` | `Group::propose` (and `abort`), every session's chain cached | `n − 1` × `Session::seal` of 32 bytes (what a pairwise wrap cost before groups v2) | sender side: no regression beyond 5% |
//! | `group_propose_cold/{n}` | `Group::propose`, empty session map | `n − 1` × `x25519_dalek::x25519` | as above |
//! | `group_seal_open/1KiB` | `Group::seal` + `Group::open` of 1 KiB | Ed25519 sign + `verify_strict`, per side HKDF-SHA-256 (76 bytes) + AES-256-GCM setup, encrypt + decrypt | as above |
//!
//! Extra entries, for attribution rather than targets:
//!
//! - `group_process/{n}/letterseal_join`: a new member processing its first
//!   epoch (full roster) from a fresh state;
//! - `group_process/{n}/letterseal_from_saved_state`: state and session
//!   loaded from storage first (load excluded): no chain cached (one X25519
//!   more) and no decoded identity key (one point decompression more);
//! - `group_propose_cached/{n}/floor_all_primitives`: per wrap one HKDF (44
//!   bytes) and AES-256-GCM setup + 32-byte encryption; once the roster
//!   hash, wrap list hash, transcript and confirmation HKDFs and the Ed25519
//!   signature over the labelled core.
//!
//! Every floor input has the length of the crate's input (labelled signature
//! input, roster encoding, wraps), measured on the fixture.
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
    Distribution, GracePolicy, Group, GroupId, ServerRecord, VerifiedDistribution,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::labels;
use letterseal::pairwise::{ContentType, Session, WRAP_LEN};
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

const SEED: [u8; 32] = [0x6b; 32];
const LIFETIME_SECONDS: u64 = 30 * 86_400;
const SIGNATURE_LEN: usize = 64;
const TAG_LEN: usize = 16;
const SALT_LEN: usize = 16;
const EPOCH_SECRET_LEN: usize = 32;
/// Output of every message-key derivation: key (32) ‖ nonce (12) ‖ commitment (32).
const MESSAGE_KEYS_LEN: usize = 76;
/// Output of a wrap's key derivation: key (32) ‖ nonce (12).
const WRAP_KEYS_LEN: usize = 44;
const SIZES: [usize; 4] = [10, 100, 500, 5000];
const CHECK_SIZES: [usize; 3] = [100, 500, 5000];
const LARGE: usize = 5000;
const MESSAGE_LEN: usize = 1024;
/// States set up per timed batch in `group_process`: the timed calls run back
/// to back, as the floor's do. (With one setup per timed call, the setup —
/// which decodes keys and runs an X25519 — evicts the caches the timed
/// call's verification uses, and a cold verification is measured against a
/// warm floor.)
const PROCESS_BATCH: u64 = 8;

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

    fn group(&self, who: &DeviceKeys) -> Group {
        Group::new(
            self.group_id.clone(),
            who.address().clone(),
            GracePolicy::default(),
        )
    }

    /// The receiver's sessions: a fresh one with the distributor.
    fn receiver_sessions(&self) -> BTreeMap<DeviceAddress, Session> {
        let distributor = self.bundles.first().unwrap();
        BTreeMap::from([(
            distributor.owner().clone(),
            Session::new(&self.receiver, distributor).unwrap(),
        )])
    }

    /// The distributor's sealing secret, as raw bytes for the X25519 floor.
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
            bundles.push(bundle.verify(&policy, now, None, &NoDirectory).unwrap());
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

/// Large groups take milliseconds per iteration: a few flat samples are
/// enough, and keep the whole run short.
fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, n: usize) {
    g.sampling_mode(SamplingMode::Flat);
    if n >= LARGE {
        g.sample_size(20);
        g.measurement_time(Duration::from_secs(3));
    }
}

/// Epoch 1 for the first `n` members, then epoch 2 removing the last one:
/// the server's verified uploads and the record stored after epoch 1.
struct Change {
    first: VerifiedDistribution,
    record: ServerRecord,
    second: VerifiedDistribution,
}

fn change(n: usize) -> Change {
    let f = fixture();
    let mut rng = rng(9);
    let mut group = f.group(&f.distributor);
    let mut sessions = BTreeMap::new();
    let members = f.members(n);
    let p1 = group
        .propose(
            &mut rng,
            &f.distributor,
            members,
            None,
            &mut sessions,
            f.now,
        )
        .unwrap();
    let first = p1
        .upload
        .verify_for_server(None, f.distributor.address())
        .unwrap();
    group.commit(f.now).unwrap();
    let record = first.record();
    let p2 = group
        .propose(
            &mut rng,
            &f.distributor,
            members.get(..n - 1).unwrap(),
            None,
            &mut sessions,
            f.now,
        )
        .unwrap();
    let second = p2
        .upload
        .verify_for_server(Some(&record), f.distributor.address())
        .unwrap();
    Change {
        first,
        record,
        second,
    }
}

/// The floor of a member's processing: verify, hash the roster, open a wrap.
struct ProcessFloor {
    signed: Vec<u8>,
    signature: ed25519_dalek::Signature,
    verifier: ed25519_dalek::VerifyingKey,
    roster: Vec<u8>,
    chain: [u8; 32],
    salt: [u8; SALT_LEN],
    wrap_info: Vec<u8>,
    wrap_aad: Vec<u8>,
    sealed: [u8; EPOCH_SECRET_LEN],
    tag: Tag,
}

impl ProcessFloor {
    fn new(rng: &mut ChaCha20Rng, core_len: usize, roster_len: usize, context_len: usize) -> Self {
        let signer = SigningKey::from_bytes(&random_array(rng));
        let signed = random_bytes(
            rng,
            labeled_signature_input_len(labels::sig::GROUP_DISTRIBUTION, core_len),
        );
        let chain: [u8; 32] = random_array(rng);
        let salt: [u8; SALT_LEN] = random_array(rng);
        let wrap_info = random_bytes(
            rng,
            labeled_info_len(labels::kdf::GROUP_KEY_WRAP, context_len),
        );
        let wrap_aad = random_bytes(rng, context_len);
        let mut keys = [0u8; WRAP_KEYS_LEN];
        raw_hkdf(&salt, &chain, &wrap_info, &mut keys);
        let mut sealed = [0x42u8; EPOCH_SECRET_LEN];
        let tag = raw_encrypt(&keys[..32], &keys[32..44], &wrap_aad, &mut sealed);
        Self {
            signature: signer.sign(&signed),
            verifier: signer.verifying_key(),
            signed,
            roster: random_bytes(rng, roster_len),
            chain,
            salt,
            wrap_info,
            wrap_aad,
            sealed,
            tag,
        }
    }

    fn run(&self) -> [u8; EPOCH_SECRET_LEN] {
        self.verifier
            .verify_strict(black_box(&self.signed), &self.signature)
            .unwrap();
        black_box(Sha256::digest(black_box(&self.roster)));
        let mut keys = [0u8; WRAP_KEYS_LEN];
        raw_hkdf(
            black_box(&self.salt),
            black_box(&self.chain),
            &self.wrap_info,
            &mut keys,
        );
        let mut secret = self.sealed;
        assert!(raw_decrypt(
            &keys[..32],
            &keys[32..44],
            &self.wrap_aad,
            &mut secret,
            &self.tag
        ));
        secret
    }
}

fn process(c: &mut Criterion) {
    let f = fixture();
    for n in CHECK_SIZES {
        let ch = change(n);
        let first = ch.first.view_for(f.receiver.address()).unwrap();
        let second = ch.second.view_for(f.receiver.address()).unwrap();
        let second_wire = second.encode();
        let join_wire = ch
            .second
            .full_view_for(f.receiver.address())
            .unwrap()
            .encode();
        // The receiver at epoch 1, in memory: its first epoch processed (one
        // X25519 for the chain, the distributor's identity key decoded).
        let setup = || {
            let mut state = f.group(&f.receiver);
            let mut sessions = f.receiver_sessions();
            state
                .process(&f.receiver, &first, &mut sessions, f.now)
                .unwrap();
            (state, sessions)
        };
        let storage = StorageKey::from_bytes([7; 32]);
        let saved = {
            let (mut state, _) = setup();
            state.export(&mut rng(6), &storage).unwrap().into_bytes()
        };
        let core_len = second.core().as_bytes().len();
        let f2 = second.core().fields();
        let context_len = letterseal::group::wrap_context(
            &f2.group_id,
            f2.epoch,
            &f2.previous_transcript,
            &f2.roster_hash,
            &f2.distributor,
        )
        .len();
        let floor = ProcessFloor::new(
            &mut rng(5),
            core_len,
            ch.second.roster().as_bytes().len(),
            context_len,
        );

        let mut g = c.benchmark_group(format!("group_process/{n}"));
        configure(&mut g, n);
        g.bench_function("letterseal", |b| {
            b.iter_batched(
                setup,
                |(mut state, mut sessions)| {
                    let view = Distribution::decode(black_box(&second_wire)).unwrap();
                    let done = state
                        .process(&f.receiver, &view, &mut sessions, f.now)
                        .unwrap();
                    (state, sessions, done)
                },
                BatchSize::NumIterations(PROCESS_BATCH),
            );
        });
        g.bench_function("letterseal_from_saved_state", |b| {
            b.iter_batched(
                || {
                    // Loaded from its blob; the session too has no cached chain.
                    let state = Group::import(&storage, &saved, 0).unwrap();
                    (state, f.receiver_sessions())
                },
                |(mut state, mut sessions)| {
                    let view = Distribution::decode(black_box(&second_wire)).unwrap();
                    let done = state
                        .process(&f.receiver, &view, &mut sessions, f.now)
                        .unwrap();
                    (state, sessions, done)
                },
                BatchSize::NumIterations(PROCESS_BATCH),
            );
        });
        g.bench_function("letterseal_join", |b| {
            b.iter_batched(
                || {
                    let mut sessions = f.receiver_sessions();
                    // Cache the pairwise chain, as a member with a session has it.
                    let state = f.group(&f.receiver);
                    let mut warm = f.group(&f.receiver);
                    warm.process(&f.receiver, &first, &mut sessions, f.now)
                        .unwrap();
                    (state, sessions)
                },
                |(mut state, mut sessions)| {
                    let view = Distribution::decode(black_box(&join_wire)).unwrap();
                    let done = state
                        .process(&f.receiver, &view, &mut sessions, f.now)
                        .unwrap();
                    (state, sessions, done)
                },
                BatchSize::NumIterations(PROCESS_BATCH),
            );
        });
        g.bench_function("floor", |b| b.iter(|| floor.run()));
        g.finish();
    }
}

fn verify_for_server(c: &mut Criterion) {
    let f = fixture();
    for n in CHECK_SIZES {
        let ch = change(n);
        let upload = ch.second.distribution().encode();
        let record = ch.record.clone();
        let mut rng = rng(4);
        let signer = SigningKey::from_bytes(&random_array(&mut rng));
        let signed = random_bytes(
            &mut rng,
            labeled_signature_input_len(
                labels::sig::GROUP_DISTRIBUTION,
                ch.second.distribution().core().as_bytes().len(),
            ),
        );
        let signature = signer.sign(&signed);
        let verifier = signer.verifying_key();
        let roster = random_bytes(&mut rng, ch.second.roster().as_bytes().len());
        let wraps = random_bytes(&mut rng, (n - 2) * WRAP_LEN);

        let mut g = c.benchmark_group(format!("group_verify_for_server/{n}"));
        configure(&mut g, n);
        g.bench_function("letterseal", |b| {
            b.iter(|| {
                Distribution::decode(black_box(&upload))
                    .unwrap()
                    .verify_for_server(Some(&record), f.distributor.address())
                    .unwrap()
            });
        });
        g.bench_function("floor", |b| {
            b.iter(|| {
                verifier
                    .verify_strict(black_box(&signed), &signature)
                    .unwrap();
                black_box(Sha256::digest(black_box(&roster)));
                Sha256::digest(black_box(&wraps))
            });
        });
        g.finish();
    }
}

fn propose_cached(c: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(1);
    for n in SIZES {
        let members = f.members(n);
        let mut group = f.group(&f.distributor);
        let mut sessions = BTreeMap::new();
        // Creates every session and caches its chain; epoch 1 is current.
        group
            .propose(
                &mut rng,
                &f.distributor,
                members,
                None,
                &mut sessions,
                f.now,
            )
            .unwrap();
        group.commit(f.now).unwrap();
        assert_eq!(sessions.len(), n - 1);
        let sample = group
            .propose(
                &mut rng,
                &f.distributor,
                members,
                None,
                &mut sessions,
                f.now,
            )
            .unwrap();
        group.abort().unwrap();
        let core_len = sample.upload.core().as_bytes().len();
        let secret = [0x42u8; EPOCH_SECRET_LEN];
        let pairwise_ad = [7u8; 64];

        // Primitive floor: inputs of the crate's lengths.
        let roster_bytes = random_bytes(&mut rng, group.roster().unwrap().as_bytes().len());
        let wraps_bytes = random_bytes(&mut rng, (n - 1) * WRAP_LEN);
        let small_info = random_bytes(&mut rng, labeled_info_len(labels::kdf::ROSTER_HASH, 12));
        let wrap_info = random_bytes(&mut rng, labeled_info_len(labels::kdf::GROUP_KEY_WRAP, 90));
        let chain: [u8; 32] = random_array(&mut rng);
        let salt: [u8; SALT_LEN] = random_array(&mut rng);
        let wrap_aad = random_bytes(&mut rng, 90);
        let signer = SigningKey::from_bytes(&random_array(&mut rng));
        let core = random_bytes(
            &mut rng,
            labeled_signature_input_len(labels::sig::GROUP_DISTRIBUTION, core_len),
        );

        let mut g = c.benchmark_group(format!("group_propose_cached/{n}"));
        configure(&mut g, n);
        g.bench_function("letterseal", |b| {
            b.iter(|| {
                let p = group
                    .propose(
                        &mut rng,
                        &f.distributor,
                        black_box(members),
                        None,
                        &mut sessions,
                        f.now,
                    )
                    .unwrap();
                group.abort().unwrap();
                p
            });
        });
        g.bench_function("floor", |b| {
            b.iter(|| {
                for session in sessions.values_mut() {
                    let wrap = session
                        .seal(
                            &f.distributor,
                            &mut rng,
                            f.now,
                            ContentType::GroupKey,
                            black_box(&secret),
                            &pairwise_ad,
                        )
                        .unwrap();
                    black_box(wrap);
                }
            });
        });
        g.bench_function("floor_all_primitives", |b| {
            b.iter(|| {
                for _ in 1..n {
                    let mut keys = [0u8; WRAP_KEYS_LEN];
                    raw_hkdf(black_box(&salt), black_box(&chain), &wrap_info, &mut keys);
                    let mut body = secret;
                    let tag = raw_encrypt(&keys[..32], &keys[32..44], &wrap_aad, &mut body);
                    black_box((body, tag));
                }
                let mut out = [0u8; 32];
                raw_hkdf(b"", black_box(&roster_bytes), &small_info, &mut out);
                raw_hkdf(b"", black_box(&wraps_bytes), &small_info, &mut out);
                raw_hkdf(b"", black_box(&core), &small_info, &mut out);
                raw_hkdf(b"", black_box(&secret), &core, &mut out);
                (out, signer.sign(black_box(&core)))
            });
        });
        g.finish();
    }
}

fn propose_cold(c: &mut Criterion) {
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
        let mut group = f.group(&f.distributor);
        // One epoch already, as in steady state.
        group
            .propose(
                &mut rng,
                &f.distributor,
                members,
                None,
                &mut BTreeMap::new(),
                f.now,
            )
            .unwrap();
        group.commit(f.now).unwrap();

        let mut g = c.benchmark_group(format!("group_propose_cold/{n}"));
        configure(&mut g, n);
        g.bench_function("letterseal", |b| {
            b.iter_batched(
                BTreeMap::new,
                |mut sessions| {
                    let out = group
                        .propose(
                            &mut rng,
                            &f.distributor,
                            black_box(members),
                            None,
                            &mut sessions,
                            f.now,
                        )
                        .unwrap();
                    group.abort().unwrap();
                    (out, sessions)
                },
                BatchSize::PerIteration,
            );
        });
        g.bench_function("floor", |b| {
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
    let mut at_distributor = f.group(&f.distributor);
    let proposal = at_distributor
        .propose(
            &mut rng,
            &f.distributor,
            members,
            None,
            &mut BTreeMap::new(),
            f.now,
        )
        .unwrap();
    at_distributor.commit(f.now).unwrap();
    let verified = proposal
        .upload
        .verify_for_server(None, f.distributor.address())
        .unwrap();
    let mut at_receiver = f.group(&f.receiver);
    at_receiver
        .process(
            &f.receiver,
            &verified.view_for(f.receiver.address()).unwrap(),
            &mut f.receiver_sessions(),
            f.now,
        )
        .unwrap();
    let plaintext = random_bytes(&mut rng, MESSAGE_LEN);

    // Lengths of the crate's message, for the floor.
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
    g.bench_function("floor", |b| {
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

criterion_group!(
    benches,
    process,
    verify_for_server,
    propose_cached,
    propose_cold,
    seal_open
);
criterion_main!(benches);
