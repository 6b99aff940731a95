//! Group costs (SPEC.md §8), each beside the raw work it is built on, so every
//! criterion group reads as a ratio `letterseal / floor`. `n` is the number of
//! member devices including the distributor. A key wrap is a pairwise ratchet
//! message (SPEC.md §7, §8.4): content type `GroupKey` on the control chain,
//! the wrap context as associated data. Until a member has sent something
//! back in its session, every message the distributor seals in it carries the
//! session-start fields (`INIT`: ML-KEM ciphertext and key ids), so the
//! fixture's wraps are ~1.3 KB and a wrap's AEAD associated data (`header ‖
//! wrap context`) is as long.
//!
//! | group | `letterseal` | `floor` | target |
//! |---|---|---|---|
//! | `group_process/{n}` | `Distribution::decode` + `Group::process` of a member's view of a change (one member removed: a delta), group state and pairwise session in memory (the session already holds the distributor's ratchet state from epoch 1) | Ed25519 `verify_strict` of the labelled core + SHA-256 of the new roster + opening one control-chain message in an existing ratchet state: the chain step (HKDF-Expand of the chain key to the 32-byte message secret and the 32-byte next chain key, one HMAC key), the message keys (HKDF-Expand of the message secret to 76 bytes: key, nonce, commitment) and AES-256-GCM setup + decryption of 32 bytes with the real associated data (`header ‖ wrap context`) | ≤ 1.2× |
//! | `group_verify_for_server/{n}` | `Distribution::decode` + `Distribution::verify_for_server` of that change's upload against the stored record | Ed25519 `verify_strict` of the labelled core + SHA-256 of the new roster + SHA-256 of the wraps as `lp32(wrap_1) ‖ …` (their real lengths) | ≤ 1.2× |
//! | `group_propose_cached/{n}` | `Group::propose` (and `abort`), a ratchet state with every member already (epoch 1 sent; no member replied, so no DH step and `INIT` repeated) | `n − 1` × `Session::seal` of the 32-byte secret with the real wrap context, on the same sessions | sender side: no regression beyond 5% |
//! | `group_propose_cold/{n}` | `Group::propose`, empty session map (one epoch already) | `n − 1` session starts (SPEC.md §7.5): X25519 key generation, two X25519 agreements (`dh1` static–static, `dh2` ephemeral–static), ML-KEM-768 encapsulation (libcrux, as the crate), the `ratchet init` HKDF (96 bytes, context with the ciphertext) and the `ratchet session id` HKDF | as above |
//! | `group_seal_open/1KiB` | `Group::seal` + `Group::open` of 1 KiB | Ed25519 sign + `verify_strict`; per side the chain step (two HKDF-Expands) and the message keys (HKDF-Expand to 76 bytes); the sender's hedged salt (one expand for the POLYVAL key, POLYVAL over 1 KiB, one expand); AES-256-GCM setup, encrypt + decrypt | within 5% of the previous release's ratio |
//!
//! | `group_state_export/{n}`, `group_state_import/{n}` (n = 100, 5000) | `Group::export` / `Group::import` of a member's state at epoch 1 (sealed blob, SPEC.md §8.11, §12) | AES-256-GCM encryption / decryption of a buffer as long as the blob | reported (the blob and session sizes are printed) |
//!
//! Extra entries, for attribution rather than targets:
//!
//! - `group_process/{n}/letterseal_from_saved_state`: group state and
//!   session loaded from their blobs first (load excluded): the distributor's
//!   identity key is not decoded yet (one point decompression more);
//! - `group_process/{n}/letterseal_join`: a new group state processing its
//!   first epoch (full roster), the session already holding the ratchet state;
//! - `group_process/{n}/letterseal_join_new_session`: the same with a fresh
//!   session, so the wrap starts it as responder (two X25519 agreements,
//!   ML-KEM-768 decapsulation, the start's HKDFs, message 0 of the control
//!   chain stored as skipped);
//! - `group_propose_cached/{n}/floor_all_primitives`: per wrap the chain
//!   step, the hedged salt (HKDF-Expand to the 16-byte POLYVAL key, 32 random
//!   bytes, POLYVAL over context and secret, HKDF-Expand over `r ‖ bound ‖
//!   digest`), the message keys and AES-256-GCM setup + encryption of 32 bytes
//!   with the real associated data; once the roster hash, wrap list hash,
//!   confirmation and transcript HKDFs and the Ed25519 signature over the
//!   labelled core;
//! - `group_propose_cold/{n}/floor_all_primitives`: the cold floor plus all
//!   of the cached `floor_all_primitives`.
//!
//! Every floor input has the length of the crate's input (labelled signature
//! input, roster encoding, wrap headers and contexts, wrap list, session-start
//! context), measured on the fixture.
//!
//! Besides the timings, the bench prints the upload size for `n` = 100 and
//! 5000: epoch 1 (every session fresh), epoch 2 while no member has replied
//! (wraps still carry `INIT`), and epoch 2 after every member sent one message
//! back (a DH step per wrap, no `INIT`). This runs whatever the filter (a
//! few seconds: 5 000 member devices are made and open their wraps).
//!
//! Run: `cargo bench --features hazmat --bench group -- --warm-up-time 1 --measurement-time 3`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::cell::RefCell;
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
    Distribution, GracePolicy, Group, GroupId, RosterHash, ServerRecord, Transcript,
    VerifiedDistribution, wrap_context,
};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::labels;
use letterseal::pairwise::{COMMITMENT_LEN, ContentType, SALT_LEN, Session};
use letterseal::registration::{ExpectedOwner, NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use libcrux_ml_kem::mlkem768::{self, MlKem768PublicKey};
use polyval::Polyval;
use polyval::universal_hash::UniversalHash;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};

const SEED: [u8; 32] = [0x6b; 32];
const LIFETIME_SECONDS: u64 = 30 * 86_400;
const SIGNATURE_LEN: usize = 64;
const TAG_LEN: usize = 16;
const EPOCH_SECRET_LEN: usize = 32;
/// Output of a message-key derivation: key (32) ‖ nonce (12) ‖ commitment (32).
const MESSAGE_KEYS_LEN: usize = 76;
/// The POLYVAL key of a hedged salt (SPEC.md §3.5).
const HEDGE_KEY_LEN: usize = 16;
/// The fresh randomness of a hedged salt.
const HEDGE_RANDOM_LEN: usize = 32;
/// A KEM key id.
const KEM_KEY_ID_LEN: usize = 16;
const SIZES: [usize; 4] = [10, 100, 500, 5000];
const CHECK_SIZES: [usize; 3] = [100, 500, 5000];
const UPLOAD_SIZES: [usize; 2] = [100, 5000];
const LARGE: usize = 5000;
const MESSAGE_LEN: usize = 1024;
/// States set up per timed batch in `group_process`: the timed calls run back
/// to back, as the floor's do. (With one setup per timed call, the setup —
/// which starts a session and processes a whole epoch — evicts the caches
/// the timed call's verification uses, and a cold verification is measured
/// against a warm floor.)
const PROCESS_BATCH: u64 = 8;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000)
}

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
fn labeled_signature_input_len(label: labels::SignatureLabel, content_len: usize) -> usize {
    labels::PROTOCOL_ID.len() + 1 + label.as_bytes().len() + content_len
}

/// Length of the labelled HKDF info (SPEC.md §3.1).
fn labeled_info_len(label: &[u8], context_len: usize) -> usize {
    labels::PROTOCOL_ID.len() + 2 + 1 + label.len() + 4 + context_len
}

/// Random bytes as long as the labelled info of `label` with a context of
/// `context_len` bytes (the content does not change the cost).
fn info(rng: &mut ChaCha20Rng, label: &[u8], context_len: usize) -> Vec<u8> {
    random_bytes(rng, labeled_info_len(label, context_len))
}

/// HKDF-SHA-256 extract and expand.
fn raw_hkdf(salt: &[u8], ikm: &[u8], info: &[&[u8]], out: &mut [u8]) {
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand_multi_info(info, out)
        .expect("HKDF output length is valid");
}

/// HKDF state of a uniformly random 32-byte key used as the PRK (SPEC.md §3.1, `ExpandLabeled`).
fn from_prk(prk: &[u8; 32]) -> Hkdf<Sha256> {
    Hkdf::<Sha256>::from_prk(prk).expect("a 32-byte PRK is valid")
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

fn member_address(i: usize) -> DeviceAddress {
    DeviceAddress::new(
        UserId::new(format!("member{i:05}")).unwrap(),
        DeviceId::new(1),
    )
}

/// Member `i`'s device (`member00000`, `member00001`, …, device 1) and its
/// verified bundle. Deterministic, so a device is made again wherever the
/// bench needs it mutably (`DeviceKeys` is not `Clone`; opening a session
/// start may consume a one-time key).
fn member_device(i: usize) -> (DeviceKeys, VerifiedBundle) {
    let mut seed = SEED;
    seed[..8].copy_from_slice(&u64::try_from(i).unwrap().to_le_bytes());
    seed[31] = 0x4d;
    let mut rng = ChaCha20Rng::from_seed(seed);
    let address = member_address(i);
    let mut device = DeviceKeys::generate(&mut rng, address.clone());
    let bundle = device
        .add_sealing_key(&mut rng, now(), LIFETIME_SECONDS)
        .verify(
            &ExpectedOwner::Device(address),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    (device, bundle)
}

/// `n` members; member 0 distributes, member 1 receives. Only the
/// distributor's device and everyone's verified bundles are kept. Sizes use
/// prefixes of the same roster.
struct Fixture {
    group_id: GroupId,
    distributor: DeviceKeys,
    bundles: Vec<VerifiedBundle>,
}

impl Fixture {
    fn members(&self, n: usize) -> &[VerifiedBundle] {
        &self.bundles[..n]
    }

    fn group(&self, who: &DeviceAddress) -> Group {
        Group::new(self.group_id.clone(), who.clone(), GracePolicy::default())
    }

    /// A member's sessions: a fresh one with the distributor.
    fn sessions_with_distributor(&self, member: &DeviceKeys) -> BTreeMap<DeviceAddress, Session> {
        let distributor = &self.bundles[0];
        BTreeMap::from([(
            distributor.owner().clone(),
            Session::new(member, distributor).unwrap(),
        )])
    }

    /// The distributor's sealing secret, as raw bytes for the X25519 floor.
    fn distributor_sealing_secret(&self) -> [u8; 32] {
        let id = self.distributor.current_sealing_key_id().unwrap();
        *self.distributor.sealing_key(&id).unwrap().to_bytes()
    }

    /// Length of an encoded device address (every member's is as long).
    fn address_len(&self) -> usize {
        let bare = wrap_context(
            &self.group_id,
            1,
            &Transcript::NONE,
            &RosterHash::from_bytes([0; 32]),
            self.distributor.address(),
        )
        .len();
        bare - (1 + self.group_id.as_bytes().len() + 8 + 32 + 32)
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut bundles = Vec::with_capacity(LARGE);
        let mut distributor = None;
        for i in 0..LARGE {
            let (device, bundle) = member_device(i);
            bundles.push(bundle);
            if i == 0 {
                distributor = Some(device);
            }
        }
        Fixture {
            group_id: GroupId::new("bench group").unwrap(),
            distributor: distributor.unwrap(),
            bundles,
        }
    })
}

/// Large groups take milliseconds per iteration: a few flat samples are
/// enough, and keep the whole run short.
fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, n: usize) {
    g.sampling_mode(SamplingMode::Flat);
    if n >= LARGE {
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(3));
    }
}

/// Epoch 1 for the first `n` members, then epoch 2 removing the last one:
/// the server's verified uploads and the record stored after epoch 1. The
/// distributor's sessions are kept, so epoch 2's wraps are the second
/// message of each session (no member replied: they still carry `INIT`).
struct Change {
    first: VerifiedDistribution,
    record: ServerRecord,
    second: VerifiedDistribution,
}

fn change(n: usize) -> Change {
    let f = fixture();
    let mut rng = rng(9);
    let mut group = f.group(f.distributor.address());
    let mut sessions = BTreeMap::new();
    let members = f.members(n);
    let p1 = group
        .propose(
            &mut rng,
            &f.distributor,
            members,
            None,
            &mut sessions,
            now(),
        )
        .unwrap();
    let first = p1
        .upload
        .verify_for_server(None, f.distributor.address())
        .unwrap();
    group.commit(now()).unwrap();
    let record = first.record();
    let p2 = group
        .propose(
            &mut rng,
            &f.distributor,
            &members[..n - 1],
            None,
            &mut sessions,
            now(),
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

/// Lengths of one wrap as sealed: its header, and the wrap context (the
/// pairwise associated data).
#[derive(Clone, Copy)]
struct WrapShape {
    header_len: usize,
    context_len: usize,
}

impl WrapShape {
    fn of(distribution: &Distribution, wrap: &[u8]) -> Self {
        let f = distribution.core().fields();
        let context_len = wrap_context(
            &f.group_id,
            f.epoch,
            &f.previous_transcript,
            &f.roster_hash,
            &f.distributor,
        )
        .len();
        Self {
            header_len: wrap.len() - EPOCH_SECRET_LEN - TAG_LEN,
            context_len,
        }
    }

    /// The header without its salt and commitment (what the hedged salt binds).
    fn bound_len(&self) -> usize {
        self.header_len - SALT_LEN - COMMITMENT_LEN
    }

    /// The AEAD associated data: `header ‖ wrap context`.
    fn aad_len(&self) -> usize {
        self.header_len + self.context_len
    }
}

/// The ratchet chain step (SPEC.md §7.4): message secret and next chain key,
/// two HKDF-Expands under one PRK.
struct ChainStepFloor {
    secret_info: Vec<u8>,
    step_info: Vec<u8>,
}

impl ChainStepFloor {
    fn new(rng: &mut ChaCha20Rng) -> Self {
        Self {
            secret_info: info(rng, labels::kdf::MESSAGE_SECRET, 0),
            step_info: info(rng, labels::kdf::CHAIN_STEP, 0),
        }
    }

    fn step(&self, chain_key: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
        let hk = from_prk(chain_key);
        let mut secret = [0u8; 32];
        let mut next = [0u8; 32];
        hk.expand(&self.secret_info, &mut secret).unwrap();
        hk.expand(&self.step_info, &mut next).unwrap();
        (secret, next)
    }
}

/// The floor of a member's processing: verify, hash the roster, open the
/// wrap in an existing ratchet state.
struct ProcessFloor {
    signed: Vec<u8>,
    signature: ed25519_dalek::Signature,
    verifier: ed25519_dalek::VerifyingKey,
    roster: Vec<u8>,
    chain_key: [u8; 32],
    chain: ChainStepFloor,
    keys_info: Vec<u8>,
    salt: [u8; SALT_LEN],
    aad: Vec<u8>,
    sealed: [u8; EPOCH_SECRET_LEN],
    tag: Tag,
}

impl ProcessFloor {
    fn new(rng: &mut ChaCha20Rng, core_len: usize, roster_len: usize, wrap: WrapShape) -> Self {
        let signer = SigningKey::from_bytes(&random_array(rng));
        let signed = random_bytes(
            rng,
            labeled_signature_input_len(labels::sig::GROUP_DISTRIBUTION, core_len),
        );
        let chain_key: [u8; 32] = random_array(rng);
        let chain = ChainStepFloor::new(rng);
        let keys_info = info(rng, labels::kdf::MESSAGE_KEYS, 0);
        let salt: [u8; SALT_LEN] = random_array(rng);
        let aad = random_bytes(rng, wrap.aad_len());
        let mut floor = Self {
            signature: signer.sign(&signed),
            verifier: signer.verifying_key(),
            signed,
            roster: random_bytes(rng, roster_len),
            chain_key,
            chain,
            keys_info,
            salt,
            aad,
            sealed: [0x42u8; EPOCH_SECRET_LEN],
            tag: Tag::default(),
        };
        let keys = floor.message_keys();
        let mut sealed = floor.sealed;
        floor.tag = raw_encrypt(&keys[..32], &keys[32..44], &floor.aad, &mut sealed);
        floor.sealed = sealed;
        floor
    }

    /// `ExpandLabeled(MK, "message keys", salt, 76)` after the chain step.
    fn message_keys(&self) -> [u8; MESSAGE_KEYS_LEN] {
        let (secret, next) = self.chain.step(black_box(&self.chain_key));
        black_box(next);
        let mut keys = [0u8; MESSAGE_KEYS_LEN];
        from_prk(&secret)
            .expand_multi_info(&[&self.keys_info, &self.salt], &mut keys)
            .unwrap();
        keys
    }

    fn run(&self) -> [u8; EPOCH_SECRET_LEN] {
        self.verifier
            .verify_strict(black_box(&self.signed), &self.signature)
            .unwrap();
        black_box(Sha256::digest(black_box(&self.roster)));
        let keys = self.message_keys();
        let mut secret = self.sealed;
        assert!(raw_decrypt(
            &keys[..32],
            &keys[32..44],
            &self.aad,
            &mut secret,
            &self.tag
        ));
        secret
    }
}

/// The primitives of sealing one wrap in an existing ratchet state (SPEC.md
/// §7.4, §7.7, §3.5): chain step, hedged salt, message keys, AES-256-GCM.
struct WrapSealFloor {
    chain_key: [u8; 32],
    chain: ChainStepFloor,
    hedge_info: Vec<u8>,
    /// The labelled info of the hedged salt up to its context `r ‖ bound ‖ digest`.
    salt_info: Vec<u8>,
    bound: Vec<u8>,
    context: Vec<u8>,
    keys_info: Vec<u8>,
    aad: Vec<u8>,
}

impl WrapSealFloor {
    fn new(rng: &mut ChaCha20Rng, wrap: WrapShape) -> Self {
        Self {
            chain_key: random_array(rng),
            chain: ChainStepFloor::new(rng),
            hedge_info: info(rng, labels::kdf::HEDGE, 0),
            salt_info: info(rng, labels::kdf::HEDGED_SALT, 0),
            bound: random_bytes(rng, wrap.bound_len()),
            context: random_bytes(rng, wrap.context_len),
            keys_info: info(rng, labels::kdf::MESSAGE_KEYS, 0),
            aad: random_bytes(rng, wrap.aad_len()),
        }
    }

    fn seal(&self, rng: &mut ChaCha20Rng, secret: &[u8; EPOCH_SECRET_LEN]) -> ([u8; 32], Tag) {
        let (message_secret, next) = self.chain.step(black_box(&self.chain_key));
        black_box(next);
        let hk = from_prk(&message_secret);
        // Hedged salt: POLYVAL key, fresh randomness, digest of context and secret.
        let mut hash_key = [0u8; HEDGE_KEY_LEN];
        hk.expand(&self.hedge_info, &mut hash_key).unwrap();
        let mut random = [0u8; HEDGE_RANDOM_LEN];
        rng.fill_bytes(&mut random);
        let mut polyval = Polyval::new(&hash_key.into());
        polyval.update_padded(&self.context);
        polyval.update_padded(secret);
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(8 * self.context.len() as u64).to_le_bytes());
        lengths[8..].copy_from_slice(&(8 * secret.len() as u64).to_le_bytes());
        polyval.update(&[lengths.into()]);
        let digest: [u8; 16] = polyval.finalize().into();
        let mut salt = [0u8; SALT_LEN];
        hk.expand_multi_info(&[&self.salt_info, &random, &self.bound, &digest], &mut salt)
            .unwrap();
        // Message keys and the AEAD.
        let mut keys = [0u8; MESSAGE_KEYS_LEN];
        hk.expand_multi_info(&[&self.keys_info, &salt], &mut keys)
            .unwrap();
        let mut body = *secret;
        let tag = raw_encrypt(&keys[..32], &keys[32..44], &self.aad, &mut body);
        (body, tag)
    }
}

/// What a proposal does once, whatever `n`: roster hash, wrap list hash,
/// confirmation, transcript, signature.
struct ProposalFloor {
    roster: Vec<u8>,
    roster_info: Vec<u8>,
    wrap_list: Vec<u8>,
    wrap_list_info: Vec<u8>,
    /// The unconfirmed core, as the confirmation's context.
    confirmation_info: Vec<u8>,
    core: Vec<u8>,
    transcript_info: Vec<u8>,
    signed: Vec<u8>,
    signer: SigningKey,
}

impl ProposalFloor {
    fn new(
        rng: &mut ChaCha20Rng,
        group_id_len: usize,
        roster_len: usize,
        upload: &Distribution,
    ) -> Self {
        let core_len = upload.core().as_bytes().len();
        let wrap_list_len = upload.wraps().iter().map(|w| 4 + w.len()).sum();
        Self {
            roster: random_bytes(rng, roster_len),
            roster_info: info(rng, labels::kdf::ROSTER_HASH, 1 + group_id_len),
            wrap_list: random_bytes(rng, wrap_list_len),
            wrap_list_info: info(rng, labels::kdf::WRAP_LIST, 0),
            confirmation_info: info(rng, labels::kdf::EPOCH_CONFIRMATION, core_len - 32),
            core: random_bytes(rng, core_len),
            transcript_info: info(rng, labels::kdf::GROUP_TRANSCRIPT, 0),
            signed: random_bytes(
                rng,
                labeled_signature_input_len(labels::sig::GROUP_DISTRIBUTION, core_len),
            ),
            signer: SigningKey::from_bytes(&random_array(rng)),
        }
    }

    fn run(&self, rng: &mut ChaCha20Rng) -> ed25519_dalek::Signature {
        let secret: [u8; EPOCH_SECRET_LEN] = random_array(rng);
        let mut out = [0u8; 32];
        raw_hkdf(b"", black_box(&self.roster), &[&self.roster_info], &mut out);
        raw_hkdf(
            b"",
            black_box(&self.wrap_list),
            &[&self.wrap_list_info],
            &mut out,
        );
        raw_hkdf(b"", &secret, &[&self.confirmation_info], &mut out);
        raw_hkdf(
            b"",
            black_box(&self.core),
            &[&self.transcript_info],
            &mut out,
        );
        black_box(out);
        self.signer.sign(black_box(&self.signed))
    }
}

/// The primitives of one session start as initiator (SPEC.md §7.5), per member.
struct StartFloor {
    local: StaticSecret,
    /// Each member's sealing key and ML-KEM-768 encapsulation key.
    peers: Vec<(PublicKey, MlKem768PublicKey)>,
    /// The `ratchet init` info up to the ciphertext (the last part of its context).
    init_info: Vec<u8>,
    session_id_info: Vec<u8>,
}

impl StartFloor {
    fn new(rng: &mut ChaCha20Rng, f: &Fixture, members: &[VerifiedBundle]) -> Self {
        let peers = members
            .iter()
            .skip(1)
            .map(|b| {
                (
                    PublicKey::from(b.sealing_key().to_bytes()),
                    MlKem768PublicKey::from(b.kem_key().as_bytes()),
                )
            })
            .collect();
        // party = address ‖ identity key ‖ sealing key; context = party(A) ‖
        // party(B) ‖ E_A ‖ KEM key id ‖ ciphertext.
        let party_len = f.address_len() + 32 + 32;
        Self {
            local: StaticSecret::from(f.distributor_sealing_secret()),
            peers,
            // The ciphertext (1088 bytes) follows as a second part.
            init_info: info(
                rng,
                labels::kdf::RATCHET_INIT,
                2 * party_len + 32 + KEM_KEY_ID_LEN,
            ),
            session_id_info: info(rng, labels::kdf::RATCHET_SESSION_ID, 2 * party_len),
        }
    }

    fn start(&self, rng: &mut ChaCha20Rng, peer: &(PublicKey, MlKem768PublicKey)) -> [u8; 96] {
        let ephemeral = StaticSecret::from(random_array::<32>(rng));
        let ephemeral_public = PublicKey::from(&ephemeral);
        let dh1 = self.local.diffie_hellman(&peer.0);
        let dh2 = ephemeral.diffie_hellman(&peer.0);
        let (ciphertext, shared) = mlkem768::encapsulate(&peer.1, random_array::<32>(rng));
        let mut ikm = [0u8; 96];
        ikm[..32].copy_from_slice(dh1.as_bytes());
        ikm[32..64].copy_from_slice(dh2.as_bytes());
        ikm[64..].copy_from_slice(&shared);
        let mut keys = [0u8; 96];
        raw_hkdf(
            b"",
            &ikm,
            &[&self.init_info, ciphertext.as_slice()],
            &mut keys,
        );
        let mut id = [0u8; 16];
        raw_hkdf(
            b"",
            ephemeral_public.as_bytes(),
            &[&self.session_id_info],
            &mut id,
        );
        black_box(id);
        keys
    }
}

/// Times `Distribution::decode` + `Group::process` of `wire` at the
/// receiver, on fresh states from `setup` (batches of [`PROCESS_BATCH`]).
fn time_process(
    b: &mut criterion::Bencher<'_>,
    receiver: &RefCell<DeviceKeys>,
    setup: impl FnMut() -> (Group, BTreeMap<DeviceAddress, Session>),
    wire: &[u8],
) {
    b.iter_batched(
        setup,
        |(mut state, mut sessions)| {
            let view = Distribution::decode(black_box(wire)).unwrap();
            let done = state
                .process(&mut receiver.borrow_mut(), &view, &mut sessions, now())
                .unwrap();
            (state, sessions, done)
        },
        BatchSize::NumIterations(PROCESS_BATCH),
    );
}

fn process(c: &mut Criterion) {
    let f = fixture();
    let storage = StorageKey::from_bytes([7; 32]);
    let address = member_address(1);
    // Opening a session start may consume a one-time key: the receiver's device is mutable.
    let receiver = RefCell::new(member_device(1).0);
    for n in CHECK_SIZES {
        let ch = change(n);
        let first = ch.first.view_for(&address).unwrap();
        let second = ch.second.view_for(&address).unwrap();
        let second_wire = second.encode();
        let join_wire = ch.second.full_view_for(&address).unwrap().encode();
        // The receiver at epoch 1, in memory: its first epoch processed (the
        // session with the distributor started as responder; the
        // distributor's identity key decoded).
        let setup = || {
            let mut keys = receiver.borrow_mut();
            let mut state = f.group(&address);
            let mut sessions = f.sessions_with_distributor(&keys);
            state
                .process(&mut keys, &first, &mut sessions, now())
                .unwrap();
            (state, sessions)
        };
        let (saved_state, saved_session) = {
            let (mut state, mut sessions) = setup();
            let mut rng = rng(6);
            let session = sessions.values_mut().next().unwrap();
            (
                state.export(&mut rng, &storage).unwrap().into_bytes(),
                session.export(&mut rng, &storage).unwrap().into_bytes(),
            )
        };
        let floor = ProcessFloor::new(
            &mut rng(5),
            second.core().as_bytes().len(),
            ch.second.roster().as_bytes().len(),
            WrapShape::of(&second, &second.wraps()[0]),
        );

        let mut g = c.benchmark_group(format!("group_process/{n}"));
        configure(&mut g, n);
        g.bench_function("letterseal", |b| {
            time_process(b, &receiver, setup, &second_wire)
        });
        g.bench_function("letterseal_from_saved_state", |b| {
            time_process(
                b,
                &receiver,
                || {
                    let state = Group::import(&storage, &saved_state, 0).unwrap();
                    let session = Session::import(&storage, &saved_session, 0).unwrap();
                    (state, BTreeMap::from([(session.peer().clone(), session)]))
                },
                &second_wire,
            )
        });
        g.bench_function("letterseal_join", |b| {
            time_process(
                b,
                &receiver,
                || {
                    // The session holds the distributor's ratchet state, as
                    // for a member who had one before joining.
                    let (_, sessions) = setup();
                    (f.group(&address), sessions)
                },
                &join_wire,
            )
        });
        g.bench_function("letterseal_join_new_session", |b| {
            time_process(
                b,
                &receiver,
                || {
                    let sessions = f.sessions_with_distributor(&receiver.borrow());
                    (f.group(&address), sessions)
                },
                &join_wire,
            )
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
        let wrap_list_len = ch
            .second
            .distribution()
            .wraps()
            .iter()
            .map(|w| 4 + w.len())
            .sum();
        let wraps = random_bytes(&mut rng, wrap_list_len);

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

/// The distributor's group at epoch 1 for `members` and its sessions, and a
/// sample proposal of epoch 2 (aborted) for the floors' lengths.
fn at_epoch_one(
    rng: &mut ChaCha20Rng,
    members: &[VerifiedBundle],
) -> (Group, BTreeMap<DeviceAddress, Session>, Distribution) {
    let f = fixture();
    let mut group = f.group(f.distributor.address());
    let mut sessions = BTreeMap::new();
    group
        .propose(rng, &f.distributor, members, None, &mut sessions, now())
        .unwrap();
    group.commit(now()).unwrap();
    let sample = group
        .propose(rng, &f.distributor, members, None, &mut sessions, now())
        .unwrap();
    group.abort().unwrap();
    (group, sessions, sample.upload)
}

fn propose_cached(c: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(1);
    for n in SIZES {
        let members = f.members(n);
        // Every session holds a ratchet state; epoch 1 is current.
        let (mut group, mut sessions, sample) = at_epoch_one(&mut rng, members);
        assert_eq!(sessions.len(), n - 1);
        let fields = sample.core().fields();
        let context = wrap_context(
            &fields.group_id,
            fields.epoch,
            &fields.previous_transcript,
            &fields.roster_hash,
            &fields.distributor,
        );
        let secret = [0x42u8; EPOCH_SECRET_LEN];
        let wrap_floor = WrapSealFloor::new(&mut rng, WrapShape::of(&sample, &sample.wraps()[0]));
        let proposal_floor = ProposalFloor::new(
            &mut rng,
            f.group_id.as_bytes().len(),
            group.roster().unwrap().as_bytes().len(),
            &sample,
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
                        now(),
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
                            now(),
                            ContentType::GroupKey,
                            black_box(&secret),
                            &context,
                        )
                        .unwrap();
                    black_box(wrap);
                }
            });
        });
        g.bench_function("floor_all_primitives", |b| {
            b.iter(|| {
                for _ in 1..n {
                    black_box(wrap_floor.seal(&mut rng, black_box(&secret)));
                }
                proposal_floor.run(&mut rng)
            });
        });
        g.finish();
    }
}

fn propose_cold(c: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(2);
    for n in SIZES {
        let members = f.members(n);
        // One epoch already, as in steady state; the sessions are then dropped.
        let (mut group, _, _) = at_epoch_one(&mut rng, members);
        // A cold proposal's wraps, for the floor's lengths.
        let sample = group
            .propose(
                &mut rng,
                &f.distributor,
                members,
                None,
                &mut BTreeMap::new(),
                now(),
            )
            .unwrap()
            .upload;
        group.abort().unwrap();
        let start_floor = StartFloor::new(&mut rng, f, members);
        let secret = [0x42u8; EPOCH_SECRET_LEN];
        let wrap_floor = WrapSealFloor::new(&mut rng, WrapShape::of(&sample, &sample.wraps()[0]));
        let proposal_floor = ProposalFloor::new(
            &mut rng,
            f.group_id.as_bytes().len(),
            group.roster().unwrap().as_bytes().len(),
            &sample,
        );

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
                            now(),
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
                for peer in &start_floor.peers {
                    black_box(start_floor.start(&mut rng, black_box(peer)));
                }
            });
        });
        g.bench_function("floor_all_primitives", |b| {
            b.iter(|| {
                for peer in &start_floor.peers {
                    black_box(start_floor.start(&mut rng, black_box(peer)));
                    black_box(wrap_floor.seal(&mut rng, black_box(&secret)));
                }
                proposal_floor.run(&mut rng)
            });
        });
        g.finish();
    }
}

fn seal_open(c: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(3);
    let members = f.members(10);
    let mut at_distributor = f.group(f.distributor.address());
    let proposal = at_distributor
        .propose(
            &mut rng,
            &f.distributor,
            members,
            None,
            &mut BTreeMap::new(),
            now(),
        )
        .unwrap();
    at_distributor.commit(now()).unwrap();
    let verified = proposal
        .upload
        .verify_for_server(None, f.distributor.address())
        .unwrap();
    let (mut receiver, _) = member_device(1);
    let mut at_receiver = f.group(receiver.address());
    let view = verified.view_for(receiver.address()).unwrap();
    let mut sessions = f.sessions_with_distributor(&receiver);
    at_receiver
        .process(&mut receiver, &view, &mut sessions, now())
        .unwrap();
    let plaintext = random_bytes(&mut rng, MESSAGE_LEN);

    // Lengths of the crate's message, for the floor.
    let sample = at_distributor
        .seal(&mut rng, &f.distributor, ContentType::Text, &plaintext, b"")
        .unwrap();
    let opened = at_receiver.open(&sample, b"", now()).unwrap();
    assert_eq!(opened.plaintext.as_slice(), plaintext.as_slice());
    let signed_len = sample.len() - SIGNATURE_LEN;
    let header_len = signed_len - MESSAGE_LEN - TAG_LEN;
    let bound_len = header_len - SALT_LEN - COMMITMENT_LEN;
    let message = random_bytes(
        &mut rng,
        labeled_signature_input_len(labels::sig::GROUP_MESSAGE, signed_len),
    );
    let header = random_bytes(&mut rng, header_len);
    let bound = random_bytes(&mut rng, bound_len);
    let chain_key: [u8; 32] = random_array(&mut rng);
    let chain = ChainStepFloor::new(&mut rng);
    let hedge_info = info(&mut rng, labels::kdf::HEDGE, 0);
    let salt_info = info(&mut rng, labels::kdf::HEDGED_SALT, 0);
    let keys_info = info(&mut rng, labels::kdf::MESSAGE_KEYS, 0);
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
            at_receiver.open(black_box(&sealed), b"", now()).unwrap()
        });
    });
    g.bench_function("floor", |b| {
        b.iter(|| {
            // Sender: chain step, hedged salt (SPEC.md §3.5 with the message
            // secret), message keys, encryption, signature.
            let (secret, next) = chain.step(black_box(&chain_key));
            black_box(next);
            let hk = from_prk(&secret);
            let mut hash_key = [0u8; HEDGE_KEY_LEN];
            hk.expand(&hedge_info, &mut hash_key).unwrap();
            let mut random = [0u8; HEDGE_RANDOM_LEN];
            rng.fill_bytes(&mut random);
            let mut polyval = Polyval::new(&hash_key.into());
            polyval.update_padded(black_box(&plaintext));
            let mut lengths = [0u8; 16];
            lengths[8..].copy_from_slice(&(8 * MESSAGE_LEN as u64).to_le_bytes());
            polyval.update(&[lengths.into()]);
            let digest: [u8; 16] = polyval.finalize().into();
            let mut salt = [0u8; SALT_LEN];
            hk.expand_multi_info(&[&salt_info, &random, &bound, &digest], &mut salt)
                .unwrap();
            let mut keys = [0u8; MESSAGE_KEYS_LEN];
            hk.expand_multi_info(&[&keys_info, &salt], &mut keys)
                .unwrap();
            let mut body = black_box(&plaintext).clone();
            let tag = raw_encrypt(&keys[..32], &keys[32..44], &header, &mut body);
            let signature = signer.sign(black_box(&message));
            // Receiver: signature, chain step, message keys, decryption.
            verifier
                .verify_strict(black_box(&message), &signature)
                .unwrap();
            let (secret, next) = chain.step(black_box(&chain_key));
            black_box(next);
            let mut keys = [0u8; MESSAGE_KEYS_LEN];
            from_prk(&secret)
                .expand_multi_info(&[&keys_info, &salt], &mut keys)
                .unwrap();
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

/// Prints upload (and view) sizes: epoch 1 with fresh sessions, epoch 2 before
/// any member replied, and epoch 2 after every member sent one message back.
fn upload_sizes(_: &mut Criterion) {
    let f = fixture();
    let mut rng = rng(8);
    for n in UPLOAD_SIZES {
        let (mut distributor, _) = member_device(0);
        let members = f.members(n);
        let kept = &members[..n - 1];
        let mut group = f.group(distributor.address());
        let mut sessions = BTreeMap::new();
        let p1 = group
            .propose(&mut rng, &distributor, members, None, &mut sessions, now())
            .unwrap();
        let first = p1
            .upload
            .verify_for_server(None, distributor.address())
            .unwrap();
        group.commit(now()).unwrap();
        let record = first.record();
        // Epoch 2 (the last member removed) with no reply yet: wraps still carry INIT.
        let unconfirmed = group
            .propose(&mut rng, &distributor, kept, None, &mut sessions, now())
            .unwrap()
            .upload;
        group.abort().unwrap();
        // Every member opens its epoch-1 wrap and sends one message back.
        let fields = p1.upload.core().fields();
        let context = wrap_context(
            &fields.group_id,
            fields.epoch,
            &fields.previous_transcript,
            &fields.roster_hash,
            &fields.distributor,
        );
        let distributor_index = first.roster().position(distributor.address()).unwrap();
        for i in 1..n {
            let (mut member, _) = member_device(i);
            let index = first.roster().position(member.address()).unwrap();
            let wrap = &p1.upload.wraps()[if index > distributor_index {
                index - 1
            } else {
                index
            }];
            let mut session = Session::new(&member, &members[0]).unwrap();
            session.open(&mut member, now(), wrap, &context).unwrap();
            let reply = session
                .seal(&member, &mut rng, now(), ContentType::Text, b"ok", b"")
                .unwrap();
            sessions
                .get_mut(member.address())
                .unwrap()
                .open(&mut distributor, now(), &reply, b"")
                .unwrap();
        }
        let confirmed = group
            .propose(&mut rng, &distributor, kept, None, &mut sessions, now())
            .unwrap()
            .upload;
        let verified = confirmed
            .verify_for_server(Some(&record), distributor.address())
            .unwrap();
        let view = verified.view_for(&member_address(1)).unwrap();
        let unconfirmed_view = unconfirmed
            .verify_for_server(Some(&record), distributor.address())
            .unwrap()
            .view_for(&member_address(1))
            .unwrap();
        let describe = |d: &Distribution| {
            let len = d.encode().len();
            let (min, max) = d.wraps().iter().fold((usize::MAX, 0), |(lo, hi), w| {
                (lo.min(w.len()), hi.max(w.len()))
            });
            format!(
                "{len} bytes ({} wraps of {min}..={max} bytes, {:.1} bytes per member)",
                d.wraps().len(),
                len as f64 / n as f64
            )
        };
        eprintln!("group upload, n = {n}:");
        eprintln!(
            "  epoch 1, fresh sessions (full roster):       {}",
            describe(&p1.upload)
        );
        eprintln!(
            "  epoch 2, no member replied yet (delta):      {}; a member's view {} bytes",
            describe(&unconfirmed),
            unconfirmed_view.encode().len()
        );
        eprintln!(
            "  epoch 2, every member replied once (delta):  {}; a member's view {} bytes",
            describe(&confirmed),
            view.encode().len()
        );
    }
}

/// A member's saved state at epoch 1 of an `n`-member group: export and import
/// of the sealed group blob (SPEC.md §8.11, §12), beside AES-256-GCM over a
/// buffer of the blob's length. Also prints the blob sizes of the group state
/// and of the member's session with the distributor.
fn state_blob(c: &mut Criterion) {
    let f = fixture();
    let storage = StorageKey::from_bytes([7; 32]);
    let address = member_address(1);
    let mut keys = member_device(1).0;
    for n in UPLOAD_SIZES {
        let ch = change(n);
        let first = ch.first.view_for(&address).unwrap();
        let mut state = f.group(&address);
        let mut sessions = f.sessions_with_distributor(&keys);
        state
            .process(&mut keys, &first, &mut sessions, now())
            .unwrap();
        let mut rng = rng(8);
        let blob = state.export(&mut rng, &storage).unwrap().into_bytes();
        let session_blob = sessions
            .values_mut()
            .next()
            .unwrap()
            .export(&mut rng, &storage)
            .unwrap()
            .into_bytes();
        println!(
            "state blobs, n = {n}: a member's group state at epoch 1 {} bytes; its session with \
             the distributor {} bytes",
            blob.len(),
            session_blob.len()
        );
        let key: [u8; 32] = random_array(&mut rng);
        let nonce: [u8; 12] = random_array(&mut rng);
        let aad = random_bytes(&mut rng, 16);
        let mut sealed = random_bytes(&mut rng, blob.len());
        let tag = raw_encrypt(&key, &nonce, &aad, &mut sealed);

        let mut g = c.benchmark_group(format!("group_state_export/{n}"));
        configure(&mut g, n);
        g.bench_function("letterseal", |b| {
            b.iter(|| state.export(&mut rng, &storage).unwrap())
        });
        g.bench_function("floor", |b| {
            b.iter(|| {
                let mut buffer = black_box(&blob).clone();
                raw_encrypt(&key, &nonce, &aad, &mut buffer)
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("group_state_import/{n}"));
        configure(&mut g, n);
        g.bench_function("letterseal", |b| {
            b.iter(|| Group::import(&storage, black_box(&blob), 0).unwrap())
        });
        g.bench_function("floor", |b| {
            b.iter(|| {
                let mut buffer = black_box(&sealed).clone();
                assert!(raw_decrypt(&key, &nonce, &aad, &mut buffer, &tag));
                buffer
            })
        });
        g.finish();
    }
}

criterion_group!(
    benches,
    upload_sizes,
    process,
    verify_for_server,
    propose_cached,
    propose_cold,
    seal_open,
    state_blob
);
criterion_main!(benches);
