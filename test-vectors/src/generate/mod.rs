//! The generator of the repository's vector files (`letterseal vectors generate`).
//!
//! Inputs come from fixed-seed ChaCha20 generators (one seed per file) and from
//! published test data; outputs are computed by the same step functions the
//! checker runs. Every invalid case states the error it must produce, and
//! generation fails if the step does not produce exactly that error, so each
//! negative case is known to exercise the check it is named after.
//! The files in `test-vectors/` are checked, not regenerated, by the tests;
//! a test also asserts that regenerating yields the committed bytes.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use super::{CaseError, SCHEMA, TestCase, VectorFile, Verdict, steps};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::keys::{
    IdentitySecretKey, KEM_ENCAPSULATION_KEY_LEN, KemDecapsulationKey, KemEncapsulationKey,
    KemKeyId, SealingPublicKey, SealingSecretKey, UncheckedKemKey,
};
use letterseal::labels;
use letterseal::registration::{BUNDLE_VERSION, BundleContent, OneTimeKeyContent};
use letterseal::time::Timestamp;

mod account;
mod attachment;
mod group;
mod pairwise;

/// Builds every vector file this release publishes, in a fixed order.
///
/// ```
/// use letterseal_vectors::{check_file, generate};
///
/// // Regenerated from fixed seeds, every file checks, and matches the committed one.
/// for file in generate::all()? {
///     let text = file.to_json();
///     let report = check_file(&text)?;
///     assert_eq!(report.failed.len(), 0, "{}", report.step);
///     assert!(report.passed > 0);
///     let path = letterseal_vectors::data_dir().join(format!("{}.json", file.step));
///     let committed = std::fs::read_to_string(path)?;
///     assert_eq!(text, committed, "{}", file.step);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn all() -> Result<Vec<VectorFile>, String> {
    let mut files = vec![
        identity_keygen()?,
        identity_public_key()?,
        sealing_keygen()?,
        sealing_key_validate()?,
        x25519_agreement()?,
        labeled_derive()?,
        bundle_sign()?,
        bundle_verify()?,
        one_time_key_sign()?,
        one_time_key_verify()?,
        safety_number()?,
        pairwise::header()?,
        pairwise::init()?,
        pairwise::transcript()?,
        group::roster_hash()?,
        group::sender_chain_file()?,
        group::key_wrap()?,
        group::distribution_verify()?,
        group::distribution_process()?,
        group::seal()?,
        group::open()?,
        attachment::seal()?,
        attachment::seal_hedged()?,
        attachment::open()?,
        attachment::chunk()?,
        account::device_list_sign()?,
        account::device_list_verify()?,
        account::envelope()?,
    ];
    files.extend(pairwise::kdf()?);
    Ok(files)
}

struct Builder {
    file: VectorFile,
}

impl Builder {
    fn new(step: &str, section: &str, description: &str, notes: &[(&str, &str)]) -> Self {
        let notes = notes
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        Self {
            file: VectorFile {
                schema: SCHEMA.to_string(),
                step: step.to_string(),
                description: description.to_string(),
                spec_section: section.to_string(),
                notes,
                number_of_tests: 0,
                tests: Vec::new(),
            },
        }
    }

    fn run(&self, input: &Value) -> Result<(Map<String, Value>, super::StepOutput), String> {
        let input = input
            .as_object()
            .cloned()
            .ok_or_else(|| "case input must be an object".to_string())?;
        let step = steps::lookup(&self.file.step).ok_or("unknown step")?;
        let output = step(&input);
        Ok((input, output))
    }

    fn push(&mut self, case: TestCase) {
        self.file.tests.push(case);
        self.file.number_of_tests = self.file.tests.len();
    }

    fn valid(&mut self, comment: &str, flags: &[&str], input: Value) -> Result<(), String> {
        let (input, output) = self.run(&input)?;
        let output = output.map_err(|e| {
            alloc::format!("{}: valid case '{comment}' failed: {e:?}", self.file.step)
        })?;
        self.push(TestCase {
            tc_id: self.file.tests.len() as u64 + 1,
            comment: comment.to_string(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            input,
            output,
            result: Verdict::Valid,
            error: None,
        });
        Ok(())
    }

    fn invalid(&mut self, comment: &str, error: &str, input: Value) -> Result<(), String> {
        let (input, output) = self.run(&input)?;
        match output {
            Err(CaseError::Protocol(name)) if name == error => {}
            other => {
                return Err(alloc::format!(
                    "{}: invalid case '{comment}' expected {error}, got {other:?}",
                    self.file.step
                ));
            }
        }
        self.push(TestCase {
            tc_id: self.file.tests.len() as u64 + 1,
            comment: comment.to_string(),
            flags: vec![error.to_string()],
            input,
            output: Map::new(),
            result: Verdict::Invalid,
            error: Some(error.to_string()),
        });
        Ok(())
    }

    fn finish(self) -> Result<VectorFile, String> {
        let flags_without_notes: Vec<&String> = self
            .file
            .tests
            .iter()
            .flat_map(|t| t.flags.iter())
            .filter(|f| !self.file.notes.contains_key(*f))
            .collect();
        if let Some(flag) = flags_without_notes.first() {
            return Err(alloc::format!(
                "{}: flag {flag} has no note",
                self.file.step
            ));
        }
        Ok(self.file)
    }
}

fn rng(file: &str) -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    for (s, b) in seed
        .iter_mut()
        .zip(file.bytes().chain(core::iter::repeat(0)))
    {
        *s = b;
    }
    ChaCha20Rng::from_seed(seed)
}

fn random<const N: usize>(rng: &mut ChaCha20Rng) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}

fn h(bytes: impl AsRef<[u8]>) -> Value {
    Value::String(hex::encode(bytes))
}

fn unhex<const N: usize>(s: &str) -> Result<[u8; N], String> {
    hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| alloc::format!("bad constant {s}"))
}

/// `p = 2^255 - 19` plus `k`, little-endian (for k < 19 + 256 - 0xed).
fn p_plus(k: u8) -> [u8; 32] {
    let mut b = [0xffu8; 32];
    b[31] = 0x7f;
    b[0] = 0xedu8.wrapping_add(k);
    b
}

fn u_small(v: u8) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0] = v;
    b
}

/// The five canonical small-order X25519 u-coordinates (SPEC.md §4.3).
fn small_order_points() -> Result<[([u8; 32], &'static str); 5], String> {
    let mut p_minus_1 = p_plus(0);
    p_minus_1[0] = 0xec;
    Ok([
        (u_small(0), "u = 0 (order 2 on both curve and twist)"),
        (u_small(1), "u = 1 (order 4 on the twist)"),
        (
            unhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")?,
            "order 8",
        ),
        (
            unhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157")?,
            "order 8",
        ),
        (p_minus_1, "u = p - 1 (order 4)"),
    ])
}

const RFC7748_ALICE: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const RFC7748_BOB: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";

fn identity_keygen() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "identity-keygen",
        "4.2",
        "Ed25519 identity key from a 32-byte RFC 8032 seed: input seed, output publicKey.",
        &[("Rfc8032", "Seed from RFC 8032 section 7.1")],
    );
    for (n, seed) in [
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    ]
    .iter()
    .enumerate()
    {
        b.valid(
            &alloc::format!("RFC 8032 TEST {}", n + 1),
            &["Rfc8032"],
            json!({ "seed": seed }),
        )?;
    }
    let mut r = rng("identity-keygen");
    for i in 0..5 {
        b.valid(
            &alloc::format!("random seed {i}"),
            &[],
            json!({ "seed": h(random::<32>(&mut r)) }),
        )?;
    }
    b.valid("all-zero seed", &[], json!({ "seed": h([0u8; 32]) }))?;
    b.finish()
}

fn identity_public_key() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "identity-public-key",
        "4.2",
        "Parsing an Ed25519 identity public key: input publicKey; valid keys are echoed as output publicKey, \
         keys that are not points or have small order fail with InvalidIdentityKey.",
        &[(
            "InvalidIdentityKey",
            "Not a curve point, or a point of small order",
        )],
    );
    let mut r = rng("identity-public-key");
    for i in 0..3 {
        let key = IdentitySecretKey::from_seed(&random(&mut r)).public_key();
        b.valid(
            &alloc::format!("generated key {i}"),
            &[],
            json!({ "publicKey": h(key.as_bytes()) }),
        )?;
    }
    let bad: [(&str, &str); 9] = [
        (
            "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "y = p + 3: not canonical (y = 3 is a point of large order)",
        ),
        (
            "0100000000000000000000000000000000000000000000000000000000000080",
            "x = 0 with the sign bit set (non-canonical neutral element)",
        ),
        (
            "0100000000000000000000000000000000000000000000000000000000000000",
            "neutral element (order 1)",
        ),
        (
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "y = -1 (order 2)",
        ),
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "y = 0 (order 4)",
        ),
        (
            "0000000000000000000000000000000000000000000000000000000000000080",
            "y = 0, sign bit set (order 4)",
        ),
        (
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "order 8",
        ),
        (
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "order 8",
        ),
        (
            "0200000000000000000000000000000000000000000000000000000000000000",
            "y = 2 is not on the curve",
        ),
    ];
    for (key, comment) in bad {
        b.invalid(comment, "InvalidIdentityKey", json!({ "publicKey": key }))?;
    }
    b.finish()
}

fn sealing_keygen() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "sealing-keygen",
        "4.3",
        "X25519 sealing key from 32 secret bytes: input secret; output publicKey = X25519(secret, 9) and \
         keyId = DeriveLabeled(\"\", publicKey, \"sealing key id\", \"\", 16).",
        &[("Rfc7748", "Secret from RFC 7748 section 6.1")],
    );
    b.valid(
        "RFC 7748 6.1 Alice",
        &["Rfc7748"],
        json!({ "secret": RFC7748_ALICE }),
    )?;
    b.valid(
        "RFC 7748 6.1 Bob",
        &["Rfc7748"],
        json!({ "secret": RFC7748_BOB }),
    )?;
    let mut r = rng("sealing-keygen");
    for i in 0..6 {
        b.valid(
            &alloc::format!("random secret {i}"),
            &[],
            json!({ "secret": h(random::<32>(&mut r)) }),
        )?;
    }
    b.finish()
}

fn sealing_key_validate() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "sealing-key-validate",
        "4.3",
        "Registration checks of an X25519 sealing public key: input publicKey; output keyId, or \
         NonCanonicalSealingKey / SmallOrderSealingKey.",
        &[
            ("NonCanonicalSealingKey", "Top bit set or u >= p"),
            ("SmallOrderSealingKey", "[8]P is the point at infinity"),
            ("EdgeCase", "Largest canonical value that is a valid key"),
        ],
    );
    let mut r = rng("sealing-key-validate");
    for i in 0..4 {
        let key = SealingSecretKey::from_bytes(&random(&mut r)).public_key();
        b.valid(
            &alloc::format!("generated key {i}"),
            &[],
            json!({ "publicKey": h(key.as_bytes()) }),
        )?;
    }
    b.valid(
        "u = 9 (the base point)",
        &[],
        json!({ "publicKey": h(u_small(9)) }),
    )?;
    let mut p_minus_2 = p_plus(0);
    p_minus_2[0] = 0xeb;
    b.valid(
        "u = p - 2",
        &["EdgeCase"],
        json!({ "publicKey": h(p_minus_2) }),
    )?;
    for (point, comment) in small_order_points()? {
        b.invalid(
            comment,
            "SmallOrderSealingKey",
            json!({ "publicKey": h(point) }),
        )?;
    }
    let mut base_top_bit = u_small(9);
    base_top_bit[31] = 0x80;
    let non_canonical: [([u8; 32], &str); 5] = [
        (p_plus(0), "u = p (encodes 0)"),
        (p_plus(1), "u = p + 1 (encodes 1)"),
        (p_plus(9), "u = p + 9 (encodes the base point)"),
        ([0xff; 32], "all ones (top bit set)"),
        (base_top_bit, "base point with the top bit set"),
    ];
    for (point, comment) in non_canonical {
        b.invalid(
            comment,
            "NonCanonicalSealingKey",
            json!({ "publicKey": h(point) }),
        )?;
    }
    b.finish()
}

fn x25519_agreement() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "x25519-agreement",
        "4.4",
        "X25519 agreement refusing the all-zero result: input secret, publicKey; output shared, or \
         NonContributory.",
        &[
            ("Rfc7748", "RFC 7748 section 6.1 key pair"),
            (
                "NonContributory",
                "The peer key has small order, so the result is all zeros",
            ),
            (
                "NonCanonicalPublic",
                "The public key is not canonical; X25519 reduces it",
            ),
        ],
    );
    let alice = SealingSecretKey::from_bytes(&unhex(RFC7748_ALICE)?);
    let bob = SealingSecretKey::from_bytes(&unhex(RFC7748_BOB)?);
    b.valid(
        "RFC 7748 6.1: Alice's secret, Bob's public key",
        &["Rfc7748"],
        json!({ "secret": RFC7748_ALICE, "publicKey": h(bob.public_key().as_bytes()) }),
    )?;
    b.valid(
        "RFC 7748 6.1: Bob's secret, Alice's public key",
        &["Rfc7748"],
        json!({ "secret": RFC7748_BOB, "publicKey": h(alice.public_key().as_bytes()) }),
    )?;
    let mut r = rng("x25519-agreement");
    for i in 0..6 {
        let secret: [u8; 32] = random(&mut r);
        let peer = SealingSecretKey::from_bytes(&random(&mut r)).public_key();
        b.valid(
            &alloc::format!("random pair {i}"),
            &[],
            json!({ "secret": h(secret), "publicKey": h(peer.as_bytes()) }),
        )?;
    }
    let mut base_top_bit = u_small(9);
    base_top_bit[31] = 0x80;
    b.valid(
        "base point with the top bit set: masked, as RFC 7748 requires",
        &["NonCanonicalPublic"],
        json!({ "secret": RFC7748_ALICE, "publicKey": h(base_top_bit) }),
    )?;
    for (point, comment) in small_order_points()? {
        b.invalid(
            comment,
            "NonContributory",
            json!({ "secret": h(random::<32>(&mut r)), "publicKey": h(point) }),
        )?;
    }
    for (point, comment) in [
        (p_plus(0), "u = p (reduces to 0)"),
        (p_plus(1), "u = p + 1 (reduces to 1)"),
    ] {
        b.invalid(
            comment,
            "NonContributory",
            json!({ "secret": h(random::<32>(&mut r)), "publicKey": h(point) }),
        )?;
    }
    b.finish()
}

fn labeled_derive() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "labeled-derive",
        "3.1",
        "DeriveLabeled(salt, ikm, label, context, length): inputs salt, ikm, label, context (hex) and length; \
         output okm, or OutputTooLong / LabelTooLong.",
        &[
            ("OutputTooLong", "length > 255 * 32"),
            ("LabelTooLong", "label longer than 255 bytes"),
            ("MaximalOutputSize", "length = 255 * 32"),
            ("EmptySalt", "salt is empty (32 zero bytes)"),
        ],
    );
    let mut r = rng("labeled-derive");
    let ikm: [u8; 32] = random(&mut r);
    let salt: [u8; 16] = random(&mut r);
    /// (comment, salt, label, context, length, flags)
    type Case<'a> = (&'a str, &'a [u8], &'a [u8], &'a [u8], u64, &'a [&'a str]);
    let cases: [Case<'_>; 8] = [
        (
            "key id label",
            b"",
            labels::kdf::SEALING_KEY_ID,
            b"",
            16,
            &["EmptySalt"],
        ),
        (
            "safety number label with a context",
            b"",
            labels::kdf::SAFETY_NUMBER,
            b"\x05alice",
            32,
            &["EmptySalt"],
        ),
        (
            "salted, 42 bytes",
            &salt,
            b"test label",
            b"test context",
            42,
            &[],
        ),
        ("one byte", &salt, b"x", b"", 1, &[]),
        ("empty label", &salt, b"", b"context", 32, &[]),
        ("long label (255 bytes)", &salt, &[b'l'; 255], b"", 32, &[]),
        (
            "long context (1000 bytes)",
            b"",
            b"ctx",
            &[0x5a; 1000],
            64,
            &["EmptySalt"],
        ),
        ("zero-length output", &salt, b"label", b"", 0, &[]),
    ];
    for (comment, salt, label, context, length, flags) in cases {
        b.valid(
            comment,
            flags,
            json!({ "salt": h(salt), "ikm": h(ikm), "label": h(label), "context": h(context), "length": length }),
        )?;
    }
    b.valid(
        "maximal output",
        &["MaximalOutputSize"],
        json!({ "salt": h(salt), "ikm": h(ikm), "label": h(b"max"), "context": "", "length": 8160 }),
    )?;
    for (comment, length) in [
        ("one byte too long", 8161u64),
        ("length does not fit u16", 65536),
    ] {
        b.invalid(
            comment,
            "OutputTooLong",
            json!({ "salt": h(salt), "ikm": h(ikm), "label": h(b"max"), "context": "", "length": length }),
        )?;
    }
    b.invalid(
        "label of 256 bytes",
        "LabelTooLong",
        json!({ "salt": "", "ikm": h(ikm), "label": h([b'l'; 256]), "context": "", "length": 32 }),
    )?;
    // Both limits broken: the output length is checked first (SPEC.md §3.1), so an implementation
    // that checks the label first fails these.
    for (comment, length) in [
        ("length 8161 and a label of 256 bytes", 8161u64),
        ("length 65536 and a label of 256 bytes", 65536),
    ] {
        b.invalid(
            comment,
            "OutputTooLong",
            json!({ "salt": "", "ikm": h(ikm), "label": h([b'l'; 256]), "context": "", "length": length }),
        )?;
    }
    b.finish()
}

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;

struct Party {
    seed: [u8; 32],
    sealing: [u8; 32],
    kem_seed: [u8; 64],
    user: &'static [u8],
    device: u32,
}

impl Party {
    fn new(r: &mut ChaCha20Rng, user: &'static [u8], device: u32) -> Self {
        Self {
            seed: random(r),
            sealing: random(r),
            kem_seed: random(r),
            user,
            device,
        }
    }

    fn address(&self) -> Result<DeviceAddress, String> {
        Ok(DeviceAddress::new(
            UserId::new(self.user).map_err(|e| e.to_string())?,
            DeviceId::new(self.device),
        ))
    }

    fn identity(&self) -> IdentitySecretKey {
        IdentitySecretKey::from_seed(&self.seed)
    }

    fn sealing_public(&self) -> SealingPublicKey {
        SealingSecretKey::from_bytes(&self.sealing).public_key()
    }

    fn kem_public(&self) -> KemEncapsulationKey {
        KemDecapsulationKey::from_seed(&self.kem_seed).encapsulation_key()
    }

    fn content(&self, not_before: u64, not_after: u64) -> Result<BundleContent, String> {
        Ok(BundleContent::new(
            self.address()?,
            self.identity().public_key(),
            self.sealing_public(),
            &self.kem_public(),
            Timestamp::from_unix_seconds(not_before),
            Timestamp::from_unix_seconds(not_after),
        ))
    }

    fn one_time(
        &self,
        secret: &[u8; 32],
        not_before: u64,
        not_after: u64,
    ) -> Result<Vec<u8>, String> {
        Ok(OneTimeKeyContent::new(
            self.address()?,
            self.identity().public_key(),
            SealingSecretKey::from_bytes(secret).public_key(),
            Timestamp::from_unix_seconds(not_before),
            Timestamp::from_unix_seconds(not_after),
        )
        .sign(&self.identity())
        .encode())
    }
}

fn bundle_sign() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "bundle-sign",
        "5.1, 5.2",
        "Build and sign a key bundle (version 2): inputs identitySeed, sealingSecret, kemSeed (the 64-byte \
         ML-KEM-768 seed d || z), userId (hex), deviceId, notBefore, notAfter; output bundle (the full \
         encoding, signature included; Ed25519 and ML-KEM key generation are deterministic).",
        &[("EdgeCase", "Boundary value of a field")],
    );
    let mut r = rng("bundle-sign");
    /// (comment, user id, device id, notBefore, notAfter, flags)
    type Case<'a> = (&'a str, &'a [u8], u64, u64, u64, &'a [&'a str]);
    let cases: [Case<'_>; 5] = [
        (
            "typical phone",
            b"alice@example.org",
            1,
            T0,
            T0 + 30 * DAY,
            &[],
        ),
        (
            "second device",
            b"alice@example.org",
            2,
            T0,
            T0 + 30 * DAY,
            &[],
        ),
        ("one-byte user id, device 0", b"b", 0, 0, 1, &["EdgeCase"]),
        (
            "255-byte user id, largest device id and times",
            &[b'u'; 255],
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
            &["EdgeCase"],
        ),
        ("UTF-8 user id", "ユーザー".as_bytes(), 7, T0, T0 + DAY, &[]),
    ];
    for (comment, user, device, not_before, not_after, flags) in cases {
        b.valid(
            comment,
            flags,
            json!({
                "identitySeed": h(random::<32>(&mut r)),
                "sealingSecret": h(random::<32>(&mut r)),
                "kemSeed": h(random::<64>(&mut r)),
                "userId": h(user),
                "deviceId": device,
                "notBefore": not_before,
                "notAfter": not_after,
            }),
        )?;
    }
    b.valid(
        "all-zero KEM seed",
        &["EdgeCase"],
        json!({
            "identitySeed": h(random::<32>(&mut r)),
            "sealingSecret": h(random::<32>(&mut r)),
            "kemSeed": h([0u8; 64]),
            "userId": h(b"zero"),
            "deviceId": 1,
            "notBefore": T0,
            "notAfter": T0 + DAY,
        }),
    )?;
    b.finish()
}

/// The notes shared by `bundle-verify` and `one-time-key-verify`.
const REGISTRATION_NOTES: &[(&str, &str)] = &[
    ("Malformed", "Not a well-formed encoding"),
    (
        "UnsupportedVersion",
        "Version byte other than the one this release reads",
    ),
    (
        "InvalidIdentityKey",
        "Identity key is not a valid Ed25519 key of large order",
    ),
    (
        "BadSignature",
        "Signature does not verify under the identity key in the encoding",
    ),
    (
        "OwnerMismatch",
        "The owner named in the encoding is not the expected one (the authenticated uploader, or the device a peer asked for)",
    ),
    (
        "NonCanonicalSealingKey",
        "X25519 key encoding not canonical (validly signed)",
    ),
    (
        "SmallOrderSealingKey",
        "X25519 key of small order (validly signed)",
    ),
    (
        "WrongKeyId",
        "Key id is not derived from the X25519 key (validly signed)",
    ),
    ("InvalidValidityWindow", "notAfter <= notBefore"),
    ("LifetimeTooLong", "notAfter - notBefore > maxLifetime"),
    ("NotYetValid", "now + maxClockSkew < notBefore"),
    ("Expired", "now >= notAfter"),
    ("IdentityKeyMismatch", "The pinned identity key differs"),
    (
        "DuplicateSealingKey",
        "The X25519 key is registered to another device",
    ),
    ("EdgeCase", "A boundary that must still be accepted"),
    (
        "AnyDevice",
        "The expected owner is a user (expectedDeviceId null): any of its devices",
    ),
    (
        "CheckOrder",
        "Two checks fail; the earlier one in SPEC order is the result",
    ),
];

/// The verifier's inputs of a registration case: the encoding under `key`,
/// `now`, the default-ish policy, a pinned key, the directory and the
/// expected owner (`(user, Some(device))`, or `(user, None)` for any device).
struct Verify<'a> {
    key: &'a str,
    max_life: u64,
    skew: u64,
}

impl Verify<'_> {
    fn case(
        &self,
        encoded: &[u8],
        now: u64,
        pinned: Option<&[u8; 32]>,
        registered: Value,
        expected: (&[u8], Option<u32>),
    ) -> Value {
        json!({
            self.key: h(encoded),
            "now": now,
            "maxLifetime": self.max_life,
            "maxClockSkew": self.skew,
            "pinnedIdentityKey": pinned.map(h),
            "registered": registered,
            "expectedUserId": h(expected.0),
            "expectedDeviceId": expected.1,
        })
    }
}

/// Sets coefficient `index` of an ML-KEM encapsulation key (12-bit, little-endian
/// packed, FIPS 203 ByteEncode12) to `value`.
fn set_coefficient(ek: &mut [u8], index: usize, value: u16) {
    let [lo, hi] = value.to_le_bytes();
    let at = index / 2 * 3;
    let Some([b0, b1, b2]) = ek
        .get_mut(at..at + 3)
        .and_then(|s| <&mut [u8; 3]>::try_from(s).ok())
        .map(|a| a.each_mut())
    else {
        return;
    };
    if index.is_multiple_of(2) {
        *b0 = lo;
        *b1 = (*b1 & 0xf0) | (hi & 0x0f);
    } else {
        *b1 = (*b1 & 0x0f) | (lo << 4);
        *b2 = (lo >> 4) | (hi << 4);
    }
}

fn bundle_verify() -> Result<VectorFile, String> {
    let mut notes = REGISTRATION_NOTES.to_vec();
    notes.extend_from_slice(&[
        (
            "InvalidKemKey",
            "ML-KEM encapsulation key fails the FIPS 203 section 7.2 modulus check (validly signed)",
        ),
        (
            "WrongKemKeyId",
            "KEM key id is not derived from the KEM key (validly signed)",
        ),
        (
            "Rotation",
            "A second sealing key under the same identity key",
        ),
    ]);
    let mut b = Builder::new(
        "bundle-verify",
        "5.3",
        "Bundle verification (version 2) by a server or a peer: inputs bundle, expectedUserId (hex) and \
         expectedDeviceId (number, or null for any device of that user), now, maxLifetime, maxClockSkew, \
         pinnedIdentityKey (hex or null), registered ([{sealingKey, userId, deviceId}], the server's lookup); \
         output userId, deviceId, identityKey, sealingKey, keyId, kemKeyId of the verified bundle, or the name \
         of the failed check.",
        &notes,
    );
    let mut r = rng("bundle-verify");
    let alice = Party::new(&mut r, b"alice@example.org", 1);
    let mallory = Party::new(&mut r, b"mallory@example.org", 1);
    let (max_life, skew) = (90 * DAY, 300u64);
    let v = Verify {
        key: "bundle",
        max_life,
        skew,
    };
    let me = (alice.user, Some(alice.device));
    let case = |bundle: &[u8], now: u64, pinned: Option<&[u8; 32]>, registered: Value| {
        v.case(bundle, now, pinned, registered, me)
    };
    let none = || json!([]);
    let alice_pub = alice.identity().public_key().to_bytes();
    let good = alice
        .content(T0, T0 + 30 * DAY)?
        .sign(&alice.identity())
        .encode();

    b.valid("fresh registration", &[], case(&good, T0, None, none()))?;
    b.valid(
        "uploaded by an authenticated session of the user (any device)",
        &["AnyDevice"],
        v.case(&good, T0, None, none(), (alice.user, None)),
    )?;
    b.valid(
        "identity key pinned and equal",
        &[],
        case(&good, T0 + DAY, Some(&alice_pub), none()),
    )?;
    b.valid(
        "same key already registered to the same device (idempotent)",
        &[],
        case(&good, T0, Some(&alice_pub), json!([{ "sealingKey": h(alice.sealing_public().as_bytes()), "userId": h(alice.user), "deviceId": alice.device }])),
    )?;
    let mut rotated = Party::new(&mut r, alice.user, alice.device);
    rotated.seed = alice.seed;
    let second = rotated
        .content(T0 + DAY, T0 + 31 * DAY)?
        .sign(&rotated.identity())
        .encode();
    b.valid(
        "rotation: a second sealing key under the pinned identity key while the first is registered",
        &["Rotation"],
        case(&second, T0 + DAY, Some(&alice_pub), json!([{ "sealingKey": h(alice.sealing_public().as_bytes()), "userId": h(alice.user), "deviceId": alice.device }])),
    )?;
    b.valid(
        "now = notBefore - maxClockSkew",
        &["EdgeCase"],
        case(&good, T0 - skew, None, none()),
    )?;
    b.valid(
        "now = notAfter - 1",
        &["EdgeCase"],
        case(&good, T0 + 30 * DAY - 1, None, none()),
    )?;
    let full = alice
        .content(T0, T0 + max_life)?
        .sign(&alice.identity())
        .encode();
    b.valid(
        "lifetime = maxLifetime",
        &["EdgeCase"],
        case(&full, T0, None, none()),
    )?;

    // A validly signed bundle with an edited KEM key (and, unless given, its derived id).
    let signed_with_kem = |ek: &[u8], kem_id: Option<[u8; 16]>| -> Result<Vec<u8>, String> {
        let mut content = alice.content(T0, T0 + 30 * DAY)?;
        let ek: [u8; KEM_ENCAPSULATION_KEY_LEN] =
            ek.try_into().map_err(|_| "KEM key length".to_string())?;
        content.kem_key = UncheckedKemKey::from_bytes(ek);
        content.kem_key_id = kem_id
            .map(KemKeyId::from_bytes)
            .unwrap_or_else(|| content.kem_key.key_id());
        Ok(content.sign(&alice.identity()).encode())
    };
    let ek = alice.kem_public().as_bytes().to_vec();
    let mut edge = ek.clone();
    set_coefficient(&mut edge, 0, 3328);
    set_coefficient(&mut edge, 767, 3328);
    b.valid(
        "KEM key with coefficients 0 and 767 = q - 1 = 3328 (largest reduced value)",
        &["EdgeCase"],
        case(&signed_with_kem(&edge, None)?, T0, None, none()),
    )?;

    // Malformed encodings.
    b.invalid("empty input", "Malformed", case(&[], T0, None, none()))?;
    b.invalid(
        "truncated by one byte",
        "Malformed",
        case(
            good.split_last().map(|(_, s)| s).unwrap_or_default(),
            T0,
            None,
            none(),
        ),
    )?;
    let mut trailing = good.clone();
    trailing.push(0);
    b.invalid(
        "one trailing byte",
        "Malformed",
        case(&trailing, T0, None, none()),
    )?;
    let mut empty_user = vec![BUNDLE_VERSION, 0];
    empty_user.extend_from_slice(good.get(1 + 1 + alice.user.len()..).unwrap_or_default());
    b.invalid(
        "empty user id",
        "Malformed",
        case(&empty_user, T0, None, none()),
    )?;
    let short_kem = {
        // A bundle whose KEM key is one byte short (lengths are fixed, so the
        // signature is read one byte early and one byte is missing at the end).
        let kem_at = 1 + 1 + alice.user.len() + 4 + 32 + 32 + 16;
        let mut v = good.clone();
        v.remove(kem_at);
        v
    };
    b.invalid(
        "KEM key one byte short",
        "Malformed",
        case(&short_kem, T0, None, none()),
    )?;
    for version in [1u8, 3] {
        let mut other = good.clone();
        if let Some(v) = other.first_mut() {
            *v = version;
        }
        b.invalid(
            &alloc::format!("version {version}"),
            "UnsupportedVersion",
            case(&other, T0, None, none()),
        )?;
    }
    let v1 = {
        // A release-0.1 bundle: version 1, no KEM key.
        let mut tbs = vec![1u8];
        tbs.push(alice.user.len() as u8);
        tbs.extend_from_slice(alice.user);
        tbs.extend_from_slice(&alice.device.to_be_bytes());
        tbs.extend_from_slice(&alice_pub);
        tbs.extend_from_slice(alice.sealing_public().as_bytes());
        tbs.extend_from_slice(alice.sealing_public().key_id().as_bytes());
        tbs.extend_from_slice(&T0.to_be_bytes());
        tbs.extend_from_slice(&(T0 + 30 * DAY).to_be_bytes());
        let sig = alice.identity().sign_labeled(labels::sig::KEY_BUNDLE, &tbs);
        tbs.extend_from_slice(&sig.to_bytes());
        tbs
    };
    b.invalid(
        "a validly signed version-1 bundle (release 0.1, no KEM key): re-register",
        "UnsupportedVersion",
        case(&v1, T0, None, none()),
    )?;

    // Identity key and signature.
    let id_offset = 1 + 1 + alice.user.len() + 4;
    let mut small_identity = good.clone();
    if let Some(field) = small_identity.get_mut(id_offset..id_offset + 32) {
        field.copy_from_slice(&unhex::<32>(
            "0100000000000000000000000000000000000000000000000000000000000000",
        )?);
    }
    b.invalid(
        "identity key is the neutral element",
        "InvalidIdentityKey",
        case(&small_identity, T0, None, none()),
    )?;
    let mut bad_sig = good.clone();
    if let Some(last) = bad_sig.last_mut() {
        *last ^= 0x01;
    }
    b.invalid(
        "signature modified",
        "BadSignature",
        case(&bad_sig, T0, None, none()),
    )?;
    let mut bad_tbs = good.clone();
    if let Some(byte) = bad_tbs.get_mut(good.len() - 64 - 1) {
        *byte ^= 0x01;
    }
    b.invalid(
        "notAfter modified after signing",
        "BadSignature",
        case(&bad_tbs, T0, None, none()),
    )?;
    let mut bad_device = good.clone();
    if let Some(byte) = bad_device.get_mut(id_offset - 1) {
        *byte ^= 0x01;
    }
    b.invalid(
        "device id modified after signing",
        "BadSignature",
        case(&bad_device, T0, None, none()),
    )?;
    let kem_offset = id_offset + 32 + 32 + 16;
    let mut bad_kem_byte = good.clone();
    if let Some(byte) = bad_kem_byte.get_mut(kem_offset + 600) {
        *byte ^= 0x01;
    }
    b.invalid(
        "KEM key modified after signing",
        "BadSignature",
        case(&bad_kem_byte, T0, None, none()),
    )?;
    let foreign = alice
        .content(T0, T0 + 30 * DAY)?
        .sign(&mallory.identity())
        .encode();
    b.invalid(
        "signed by another identity key",
        "BadSignature",
        case(&foreign, T0, None, none()),
    )?;
    b.invalid(
        "signature modified and another owner expected: the signature is checked first",
        "BadSignature",
        v.case(&bad_sig, T0, None, none(), (mallory.user, None)),
    )?;

    // Owner (issue 13 item 6).
    b.invalid(
        "uploaded by another user's session (ghost device)",
        "OwnerMismatch",
        v.case(&good, T0, None, none(), (mallory.user, None)),
    )?;
    b.invalid(
        "a peer asked for another device of the same user",
        "OwnerMismatch",
        v.case(&good, T0, None, none(), (alice.user, Some(2))),
    )?;
    b.invalid(
        "a peer asked for another user's device with the same device id",
        "OwnerMismatch",
        v.case(&good, T0, None, none(), (mallory.user, Some(alice.device))),
    )?;

    // Sealing key checks (validly signed, so the signature is not what fails).
    let signed_with_key = |key: [u8; 32], key_id: Option<[u8; 16]>| -> Result<Vec<u8>, String> {
        let mut content = alice.content(T0, T0 + 30 * DAY)?;
        content.sealing_key = SealingPublicKey::from_bytes(key);
        content.sealing_key_id = key_id
            .map(letterseal::keys::SealingKeyId::from_bytes)
            .unwrap_or_else(|| content.sealing_key.key_id());
        Ok(content.sign(&alice.identity()).encode())
    };
    b.invalid(
        "sealing key u = p",
        "NonCanonicalSealingKey",
        case(&signed_with_key(p_plus(0), None)?, T0, None, none()),
    )?;
    let mut top_bit = alice.sealing_public().to_bytes();
    if let Some(last) = top_bit.last_mut() {
        *last |= 0x80;
    }
    b.invalid(
        "sealing key with the top bit set",
        "NonCanonicalSealingKey",
        case(&signed_with_key(top_bit, None)?, T0, None, none()),
    )?;
    for (point, comment) in small_order_points()? {
        b.invalid(
            &alloc::format!("sealing key of small order: {comment}"),
            "SmallOrderSealingKey",
            case(&signed_with_key(point, None)?, T0, None, none()),
        )?;
    }
    b.invalid(
        "small-order sealing key and another owner expected: the owner is checked first",
        "OwnerMismatch",
        v.case(
            &signed_with_key(u_small(0), None)?,
            T0,
            None,
            none(),
            (mallory.user, None),
        ),
    )?;
    let other_key = mallory.sealing_public();
    b.invalid(
        "key id of another key",
        "WrongKeyId",
        case(
            &signed_with_key(
                alice.sealing_public().to_bytes(),
                Some(other_key.key_id().to_bytes()),
            )?,
            T0,
            None,
            none(),
        ),
    )?;
    b.invalid(
        "key id all zeros",
        "WrongKeyId",
        case(
            &signed_with_key(alice.sealing_public().to_bytes(), Some([0; 16]))?,
            T0,
            None,
            none(),
        ),
    )?;

    // KEM key checks (validly signed).
    let mut overflow = ek.clone();
    set_coefficient(&mut overflow, 0, 3329);
    b.invalid(
        "KEM key coefficient 0 = q = 3329 (modulus check fails)",
        "InvalidKemKey",
        case(&signed_with_kem(&overflow, None)?, T0, None, none()),
    )?;
    let mut overflow = ek.clone();
    set_coefficient(&mut overflow, 767, 4095);
    b.invalid(
        "KEM key last coefficient = 4095 (modulus check fails)",
        "InvalidKemKey",
        case(&signed_with_kem(&overflow, None)?, T0, None, none()),
    )?;
    b.invalid(
        "KEM key all 0xff (every coefficient 4095)",
        "InvalidKemKey",
        case(
            &signed_with_kem(&[0xff; KEM_ENCAPSULATION_KEY_LEN], None)?,
            T0,
            None,
            none(),
        ),
    )?;
    b.invalid(
        "small-order sealing key and an invalid KEM key: the sealing key is checked first",
        "SmallOrderSealingKey",
        case(
            &{
                let mut content = alice.content(T0, T0 + 30 * DAY)?;
                content.sealing_key = SealingPublicKey::from_bytes(u_small(1));
                content.sealing_key_id = content.sealing_key.key_id();
                content.kem_key = UncheckedKemKey::from_bytes([0xff; KEM_ENCAPSULATION_KEY_LEN]);
                content.kem_key_id = content.kem_key.key_id();
                content.sign(&alice.identity()).encode()
            },
            T0,
            None,
            none(),
        ),
    )?;
    b.invalid(
        "KEM key id of another KEM key",
        "WrongKemKeyId",
        case(
            &signed_with_kem(&ek, Some(mallory.kem_public().key_id().to_bytes()))?,
            T0,
            None,
            none(),
        ),
    )?;
    b.invalid(
        "KEM key id is the sealing key id",
        "WrongKemKeyId",
        case(
            &signed_with_kem(&ek, Some(alice.sealing_public().key_id().to_bytes()))?,
            T0,
            None,
            none(),
        ),
    )?;
    b.invalid(
        "invalid KEM key and an expired bundle: the KEM key is checked first",
        "InvalidKemKey",
        case(
            &signed_with_kem(&overflow, None)?,
            T0 + 365 * DAY,
            None,
            none(),
        ),
    )?;

    // Validity window.
    let window = |nb: u64, na: u64| -> Result<Vec<u8>, String> {
        Ok(alice.content(nb, na)?.sign(&alice.identity()).encode())
    };
    b.invalid(
        "notAfter = notBefore",
        "InvalidValidityWindow",
        case(&window(T0, T0)?, T0, None, none()),
    )?;
    b.invalid(
        "notAfter < notBefore",
        "InvalidValidityWindow",
        case(&window(T0, T0 - 1)?, T0, None, none()),
    )?;
    b.invalid(
        "lifetime = maxLifetime + 1",
        "LifetimeTooLong",
        case(&window(T0, T0 + max_life + 1)?, T0, None, none()),
    )?;
    b.invalid(
        "now = notBefore - maxClockSkew - 1",
        "NotYetValid",
        case(&good, T0 - skew - 1, None, none()),
    )?;
    b.invalid(
        "now = notAfter",
        "Expired",
        case(&good, T0 + 30 * DAY, None, none()),
    )?;
    b.invalid(
        "now long after notAfter",
        "Expired",
        case(&good, T0 + 365 * DAY, None, none()),
    )?;

    // Pinning and duplicates.
    let mallory_pub = mallory.identity().public_key().to_bytes();
    b.invalid(
        "pinned identity key differs",
        "IdentityKeyMismatch",
        case(&good, T0, Some(&mallory_pub), none()),
    )?;
    let stolen = BundleContent::new(
        mallory.address()?,
        mallory.identity().public_key(),
        alice.sealing_public(),
        &mallory.kem_public(),
        Timestamp::from_unix_seconds(T0),
        Timestamp::from_unix_seconds(T0 + 30 * DAY),
    )
    .sign(&mallory.identity())
    .encode();
    b.invalid(
        "unknown key share: Mallory registers Alice's sealing key",
        "DuplicateSealingKey",
        v.case(&stolen, T0, None, json!([{ "sealingKey": h(alice.sealing_public().as_bytes()), "userId": h(alice.user), "deviceId": alice.device }]), (mallory.user, None)),
    )?;
    b.invalid(
        "key registered to another device of the same user",
        "DuplicateSealingKey",
        case(&good, T0, None, json!([{ "sealingKey": h(alice.sealing_public().as_bytes()), "userId": h(alice.user), "deviceId": 2 }])),
    )?;
    b.finish()
}

fn one_time_key_sign() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "one-time-key-sign",
        "5.5",
        "Build and sign a one-time key: inputs identitySeed, secret (the X25519 one-time secret), userId (hex), \
         deviceId, notBefore, notAfter; output oneTimeKey (the full encoding, signature included).",
        &[("EdgeCase", "Boundary value of a field")],
    );
    let mut r = rng("one-time-key-sign");
    /// (comment, user id, device id, notBefore, notAfter, flags)
    type Case<'a> = (&'a str, &'a [u8], u64, u64, u64, &'a [&'a str]);
    let cases: [Case<'_>; 4] = [
        ("typical", b"bob@example.org", 1, T0, T0 + 30 * DAY, &[]),
        ("one-byte user id, device 0", b"b", 0, 0, 1, &["EdgeCase"]),
        (
            "255-byte user id, largest device id and times",
            &[b'u'; 255],
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
            &["EdgeCase"],
        ),
        ("UTF-8 user id", "ユーザー".as_bytes(), 7, T0, T0 + DAY, &[]),
    ];
    for (comment, user, device, not_before, not_after, flags) in cases {
        b.valid(
            comment,
            flags,
            json!({
                "identitySeed": h(random::<32>(&mut r)),
                "secret": h(random::<32>(&mut r)),
                "userId": h(user),
                "deviceId": device,
                "notBefore": not_before,
                "notAfter": not_after,
            }),
        )?;
    }
    b.finish()
}

fn one_time_key_verify() -> Result<VectorFile, String> {
    let mut notes = REGISTRATION_NOTES.to_vec();
    notes.push((
        "BundleLabel",
        "Signed with the label \"key bundle\" instead of \"one-time key\"",
    ));
    let mut b = Builder::new(
        "one-time-key-verify",
        "5.5",
        "One-time key verification by a server or a peer: inputs oneTimeKey, expectedUserId (hex) and \
         expectedDeviceId (number, or null for any device of that user), now, maxLifetime, maxClockSkew, \
         pinnedIdentityKey (hex or null), registered ([{sealingKey, userId, deviceId}]: every registered X25519 \
         key); output userId, deviceId, identityKey, key, keyId, or the name of the failed check.",
        &notes,
    );
    let mut r = rng("one-time-key-verify");
    let bob = Party::new(&mut r, b"bob@example.org", 3);
    let mallory = Party::new(&mut r, b"mallory@example.org", 3);
    let secret: [u8; 32] = random(&mut r);
    let public = SealingSecretKey::from_bytes(&secret).public_key();
    let (max_life, skew) = (30 * DAY, 300u64);
    let v = Verify {
        key: "oneTimeKey",
        max_life,
        skew,
    };
    let me = (bob.user, Some(bob.device));
    let case = |key: &[u8], now: u64, pinned: Option<&[u8; 32]>, registered: Value| {
        v.case(key, now, pinned, registered, me)
    };
    let none = || json!([]);
    let bob_pub = bob.identity().public_key().to_bytes();
    let good = bob.one_time(&secret, T0, T0 + 7 * DAY)?;

    b.valid("fresh upload", &[], case(&good, T0, None, none()))?;
    b.valid(
        "uploaded by a session of the user",
        &["AnyDevice"],
        v.case(&good, T0, Some(&bob_pub), none(), (bob.user, None)),
    )?;
    b.valid(
        "the same key already registered to the same device (idempotent)",
        &[],
        case(&good, T0, Some(&bob_pub), json!([{ "sealingKey": h(public.as_bytes()), "userId": h(bob.user), "deviceId": bob.device }])),
    )?;
    b.valid(
        "now = notBefore - maxClockSkew",
        &["EdgeCase"],
        case(&good, T0 - skew, None, none()),
    )?;
    b.valid(
        "now = notAfter - 1",
        &["EdgeCase"],
        case(&good, T0 + 7 * DAY - 1, None, none()),
    )?;
    b.valid(
        "lifetime = maxLifetime",
        &["EdgeCase"],
        case(&bob.one_time(&secret, T0, T0 + max_life)?, T0, None, none()),
    )?;

    b.invalid("empty input", "Malformed", case(&[], T0, None, none()))?;
    b.invalid(
        "truncated by one byte",
        "Malformed",
        case(
            good.split_last().map(|(_, s)| s).unwrap_or_default(),
            T0,
            None,
            none(),
        ),
    )?;
    let mut trailing = good.clone();
    trailing.push(0);
    b.invalid(
        "one trailing byte",
        "Malformed",
        case(&trailing, T0, None, none()),
    )?;
    let mut version = good.clone();
    if let Some(v) = version.first_mut() {
        *v = 2;
    }
    b.invalid(
        "version 2",
        "UnsupportedVersion",
        case(&version, T0, None, none()),
    )?;
    let id_offset = 1 + 1 + bob.user.len() + 4;
    let mut small_identity = good.clone();
    if let Some(field) = small_identity.get_mut(id_offset..id_offset + 32) {
        field.copy_from_slice(&[0u8; 32]);
    }
    b.invalid(
        "identity key y = 0 (order 4)",
        "InvalidIdentityKey",
        case(&small_identity, T0, None, none()),
    )?;
    let mut bad_sig = good.clone();
    if let Some(last) = bad_sig.last_mut() {
        *last ^= 0x80;
    }
    b.invalid(
        "signature modified",
        "BadSignature",
        case(&bad_sig, T0, None, none()),
    )?;
    let mut bad_key = good.clone();
    if let Some(byte) = bad_key.get_mut(id_offset + 32) {
        *byte ^= 0x01;
    }
    b.invalid(
        "one-time key modified after signing",
        "BadSignature",
        case(&bad_key, T0, None, none()),
    )?;
    let relabelled = {
        // The same fields signed under the bundle label: domain separation.
        let tbs = good.get(..good.len() - 64).unwrap_or_default();
        let sig = bob.identity().sign_labeled(labels::sig::KEY_BUNDLE, tbs);
        let mut v = tbs.to_vec();
        v.extend_from_slice(&sig.to_bytes());
        v
    };
    b.invalid(
        "signed with the key-bundle label",
        "BadSignature",
        case(&relabelled, T0, None, none()),
    )?;
    b.invalid(
        "uploaded by another user's session",
        "OwnerMismatch",
        v.case(&good, T0, None, none(), (mallory.user, None)),
    )?;
    b.invalid(
        "a peer asked for another device of the user",
        "OwnerMismatch",
        v.case(&good, T0, None, none(), (bob.user, Some(bob.device + 1))),
    )?;
    let with_key = |key: [u8; 32], key_id: Option<[u8; 16]>| -> Result<Vec<u8>, String> {
        let mut content = OneTimeKeyContent::new(
            bob.address()?,
            bob.identity().public_key(),
            SealingPublicKey::from_bytes(key),
            Timestamp::from_unix_seconds(T0),
            Timestamp::from_unix_seconds(T0 + 7 * DAY),
        );
        if let Some(id) = key_id {
            content.key_id = letterseal::keys::SealingKeyId::from_bytes(id);
        }
        Ok(content.sign(&bob.identity()).encode())
    };
    b.invalid(
        "one-time key u = p + 1",
        "NonCanonicalSealingKey",
        case(&with_key(p_plus(1), None)?, T0, None, none()),
    )?;
    for (point, comment) in small_order_points()? {
        b.invalid(
            &alloc::format!("one-time key of small order: {comment}"),
            "SmallOrderSealingKey",
            case(&with_key(point, None)?, T0, None, none()),
        )?;
    }
    b.invalid(
        "key id of another key",
        "WrongKeyId",
        case(
            &with_key(
                public.to_bytes(),
                Some(bob.sealing_public().key_id().to_bytes()),
            )?,
            T0,
            None,
            none(),
        ),
    )?;
    b.invalid(
        "notAfter = notBefore",
        "InvalidValidityWindow",
        case(&bob.one_time(&secret, T0, T0)?, T0, None, none()),
    )?;
    b.invalid(
        "lifetime = maxLifetime + 1",
        "LifetimeTooLong",
        case(
            &bob.one_time(&secret, T0, T0 + max_life + 1)?,
            T0,
            None,
            none(),
        ),
    )?;
    b.invalid(
        "now = notBefore - maxClockSkew - 1",
        "NotYetValid",
        case(&good, T0 - skew - 1, None, none()),
    )?;
    b.invalid(
        "now = notAfter",
        "Expired",
        case(&good, T0 + 7 * DAY, None, none()),
    )?;
    b.invalid(
        "pinned identity key differs",
        "IdentityKeyMismatch",
        case(
            &good,
            T0,
            Some(&mallory.identity().public_key().to_bytes()),
            none(),
        ),
    )?;
    b.invalid(
        "the key is registered to another account",
        "DuplicateSealingKey",
        case(&good, T0, None, json!([{ "sealingKey": h(public.as_bytes()), "userId": h(mallory.user), "deviceId": mallory.device }])),
    )?;
    b.invalid(
        "the key is Bob's own sealing key on another device",
        "DuplicateSealingKey",
        case(
            &good,
            T0,
            None,
            json!([{ "sealingKey": h(public.as_bytes()), "userId": h(bob.user), "deviceId": 9 }]),
        ),
    )?;
    b.finish()
}

fn safety_number() -> Result<VectorFile, String> {
    let mut b = Builder::new(
        "safety-number",
        "6",
        "Safety number of two (user id, identity key) pairs: inputs userIdA, identityKeyA, userIdB, identityKeyB; \
         outputs digits (60 decimal digits) and bytes (65, for QR codes). Swapping A and B gives the same outputs.",
        &[("Swapped", "The previous case with the parties swapped")],
    );
    let mut r = rng("safety-number");
    let pairs: [(&[u8], &[u8]); 3] = [
        (b"alice@example.org", b"bob@example.org"),
        (b"a", b"b"),
        ("ユーザー".as_bytes(), b"bob@example.org"),
    ];
    for (i, (ua, ub)) in pairs.into_iter().enumerate() {
        let ka = IdentitySecretKey::from_seed(&random(&mut r)).public_key();
        let kb = IdentitySecretKey::from_seed(&random(&mut r)).public_key();
        b.valid(
            &alloc::format!("pair {i}"),
            &[],
            json!({ "userIdA": h(ua), "identityKeyA": h(ka.as_bytes()), "userIdB": h(ub), "identityKeyB": h(kb.as_bytes()) }),
        )?;
        b.valid(
            &alloc::format!("pair {i}, swapped"),
            &["Swapped"],
            json!({ "userIdA": h(ub), "identityKeyA": h(kb.as_bytes()), "userIdB": h(ua), "identityKeyB": h(ka.as_bytes()) }),
        )?;
    }
    let k = IdentitySecretKey::from_seed(&random(&mut r)).public_key();
    b.valid(
        "same identity key under two user ids",
        &[],
        json!({ "userIdA": h(b"alice"), "identityKeyA": h(k.as_bytes()), "userIdB": h(b"mallory"), "identityKeyB": h(k.as_bytes()) }),
    )?;
    b.finish()
}
