//! Wycheproof files, run through the crate's own X25519, HKDF and AES-GCM paths.
//!
//! Rules (from Wycheproof's documentation and SPEC.md §10):
//! - X25519: a case flagged `ZeroSharedSecret` must be rejected by
//!   [`SealingSecretKey::agree`]; every other case must reproduce `shared`.
//! - HKDF-SHA-256: valid cases reproduce `okm`; invalid ones (over-long output)
//!   fail with an error.
//! - AES-GCM: groups with a 256-bit key, 96-bit IV and 128-bit tag apply; valid
//!   cases seal to `ct ‖ tag` and open to `msg`; invalid cases fail to open.
//!   Other groups are counted as skipped.
//! - ML-KEM (FIPS 203; groups with `parameterSet` ML-KEM-768 apply, others
//!   are skipped), through [`letterseal::keys`]' KEM wrapper: key generation from
//!   the 64-byte seed must reproduce `ek` and the expanded `dk`; decapsulation
//!   from the seed must reproduce `K` (implicit rejection included);
//!   encapsulation with the given `m` must reproduce `c` and `K`. Invalid
//!   cases must be refused with the typed error for the input that is wrong:
//!   [`KeyError::InvalidKemSeed`], [`KeyError::InvalidKemCiphertext`] or
//!   [`KeyError::InvalidKemKey`] (wrong length or modulus check). In the
//!   semi-expanded decapsulation file only the ciphertext-length cases apply:
//!   the wrapper never imports an expanded decapsulation key (keys are kept
//!   and loaded as seeds), so the other cases are counted as skipped.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::Value;

use super::{FileReport, VectorError};
use letterseal::aead::{self, AeadKey, AeadNonce};
use letterseal::kdf::{self, MAX_OUTPUT_LEN};
use letterseal::keys::{
    KemCiphertext, KemDecapsulationKey, KemEncapsulationKey, KeyError, SealingPublicKey,
    SealingSecretKey,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File<T> {
    algorithm: String,
    number_of_tests: usize,
    test_groups: Vec<Group<T>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group<T> {
    key_size: Option<u32>,
    iv_size: Option<u32>,
    tag_size: Option<u32>,
    parameter_set: Option<String>,
    tests: Vec<T>,
}

/// The ML-KEM parameter set the wrapper implements.
const ML_KEM_768: &str = "ML-KEM-768";

/// `mlkem_test_schema.json`: key generation from `seed`, then decapsulation of `c`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MlKemCase {
    tc_id: u64,
    seed: String,
    ek: Option<String>,
    c: String,
    #[serde(rename = "K")]
    k: String,
    result: String,
}

/// `mlkem_encaps_test_schema.json`: encapsulation to `ek` with randomness `m`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MlKemEncapsCase {
    tc_id: u64,
    ek: String,
    m: String,
    c: String,
    #[serde(rename = "K")]
    k: String,
    result: String,
}

/// `mlkem_keygen_seed_test_schema.json`: key generation from `seed`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MlKemKeyGenCase {
    tc_id: u64,
    seed: String,
    ek: String,
    dk: String,
    result: String,
}

/// `mlkem_semi_expanded_decaps_test_schema.json`: decapsulation with an
/// expanded key.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MlKemExpandedCase {
    tc_id: u64,
    c: String,
    result: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct XdhCase {
    tc_id: u64,
    flags: Vec<String>,
    public: String,
    private: String,
    shared: String,
    result: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HkdfCase {
    tc_id: u64,
    ikm: String,
    salt: String,
    info: String,
    size: usize,
    okm: String,
    result: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AeadCase {
    tc_id: u64,
    key: String,
    iv: String,
    aad: String,
    msg: String,
    ct: String,
    tag: String,
    result: String,
}

pub(super) fn check(schema: &str, value: &Value) -> Result<FileReport, VectorError> {
    match schema {
        "xdh_comp_schema_v1.json" => run(value, "XDH", "XDH", x25519),
        "hkdf_test_schema_v1.json" => run(value, "HKDF-SHA-256", "HKDF-SHA-256", hkdf),
        "aead_test_schema_v1.json" => run(value, "AES-GCM", "AES-GCM", aes_gcm),
        "mlkem_test_schema.json" => run(value, "ML-KEM", "ML-KEM decaps", ml_kem_decaps),
        "mlkem_encaps_test_schema.json" => run(value, "ML-KEM", "ML-KEM encaps", ml_kem_encaps),
        "mlkem_keygen_seed_test_schema.json" => {
            run(value, "ML-KEM", "ML-KEM keygen", ml_kem_keygen)
        }
        "mlkem_semi_expanded_decaps_test_schema.json" => run(
            value,
            "ML-KEM",
            "ML-KEM semi-expanded decaps",
            ml_kem_expanded,
        ),
        other => Err(VectorError::UnknownStep(other.to_string())),
    }
}

/// What one case came to.
enum Outcome {
    Pass,
    Skip,
    Fail(String),
}

fn run<T: for<'de> Deserialize<'de>>(
    value: &Value,
    algorithm: &str,
    label: &str,
    case: fn(&Group<T>, &T) -> (u64, Outcome),
) -> Result<FileReport, VectorError> {
    let file: File<T> =
        serde_json::from_value(value.clone()).map_err(|e| VectorError::Parse(e.to_string()))?;
    if file.algorithm != algorithm {
        return Err(VectorError::UnknownStep(file.algorithm));
    }
    let mut report = FileReport {
        step: alloc::format!("wycheproof {label}"),
        ..FileReport::default()
    };
    let mut count = 0;
    for group in &file.test_groups {
        for test in &group.tests {
            count += 1;
            match case(group, test) {
                (_, Outcome::Pass) => report.passed += 1,
                (_, Outcome::Skip) => report.skipped += 1,
                (id, Outcome::Fail(reason)) => report.failed.push((id, reason)),
            }
        }
    }
    if count != file.number_of_tests {
        return Err(VectorError::Inconsistent(alloc::format!(
            "numberOfTests is {} but there are {count} tests",
            file.number_of_tests
        )));
    }
    Ok(report)
}

fn unhex(s: &str) -> Result<Vec<u8>, Outcome> {
    hex::decode(s).map_err(|_| Outcome::Fail(alloc::format!("not hex: {s}")))
}

fn unhex32(s: &str) -> Result<[u8; 32], Outcome> {
    unhex(s)?
        .try_into()
        .map_err(|_| Outcome::Fail("expected 32 bytes".into()))
}

fn outcome(result: Result<Outcome, Outcome>) -> Outcome {
    result.unwrap_or_else(|o| o)
}

fn x25519(_: &Group<XdhCase>, t: &XdhCase) -> (u64, Outcome) {
    let run = || -> Result<Outcome, Outcome> {
        let secret = SealingSecretKey::from_bytes(&unhex32(&t.private)?);
        let public = SealingPublicKey::from_bytes(unhex32(&t.public)?);
        let must_reject = t.flags.iter().any(|f| f == "ZeroSharedSecret") || t.result == "invalid";
        Ok(match (secret.agree(&public), must_reject) {
            (Err(KeyError::NonContributory), true) => Outcome::Pass,
            (Ok(shared), false) if shared.as_bytes().as_slice() == unhex(&t.shared)? => {
                Outcome::Pass
            }
            (Ok(_), false) => Outcome::Fail("shared secret differs".into()),
            (Ok(_), true) => Outcome::Fail("zero shared secret accepted".into()),
            (Err(e), _) => Outcome::Fail(alloc::format!("unexpected {e:?}")),
        })
    };
    (t.tc_id, outcome(run()))
}

fn hkdf(_: &Group<HkdfCase>, t: &HkdfCase) -> (u64, Outcome) {
    let run = || -> Result<Outcome, Outcome> {
        let (ikm, salt, info) = (unhex(&t.ikm)?, unhex(&t.salt)?, unhex(&t.info)?);
        // Never allocate more than the limit plus one byte, whatever the file asks.
        let mut okm = alloc::vec![0u8; t.size.min(MAX_OUTPUT_LEN + 1)];
        let result = if t.size > MAX_OUTPUT_LEN {
            Err(kdf::KdfError::OutputTooLong)
        } else {
            kdf::hkdf_sha256(&salt, &ikm, &info, &mut okm)
        };
        Ok(match (result, t.result.as_str()) {
            (Ok(()), "valid") if okm == unhex(&t.okm)? => Outcome::Pass,
            (Ok(()), "valid") => Outcome::Fail("okm differs".into()),
            (Err(_), "invalid") => Outcome::Pass,
            (r, expected) => Outcome::Fail(alloc::format!("expected {expected}, got {r:?}")),
        })
    };
    (t.tc_id, outcome(run()))
}

fn aes_gcm(group: &Group<AeadCase>, t: &AeadCase) -> (u64, Outcome) {
    if (group.key_size, group.iv_size, group.tag_size) != (Some(256), Some(96), Some(128)) {
        return (t.tc_id, Outcome::Skip);
    }
    let run = || -> Result<Outcome, Outcome> {
        let key = AeadKey::from_bytes(unhex32(&t.key)?);
        let iv: [u8; 12] = unhex(&t.iv)?
            .try_into()
            .map_err(|_| Outcome::Fail("iv must be 12 bytes".into()))?;
        let nonce = AeadNonce::from_bytes(iv);
        let (aad, msg) = (unhex(&t.aad)?, unhex(&t.msg)?);
        let mut sealed = unhex(&t.ct)?;
        sealed.extend_from_slice(&unhex(&t.tag)?);
        let opened = aead::open(&key, &nonce, &aad, &sealed);
        Ok(match (t.result.as_str(), opened) {
            ("valid", Ok(pt)) if pt.as_slice() == msg.as_slice() => {
                if aead::seal(&key, &nonce, &aad, &msg) == sealed {
                    Outcome::Pass
                } else {
                    Outcome::Fail("seal differs".into())
                }
            }
            ("valid", Ok(_)) => Outcome::Fail("plaintext differs".into()),
            ("valid", Err(_)) => Outcome::Fail("valid case failed to open".into()),
            ("invalid", Err(_)) => Outcome::Pass,
            (r, Ok(_)) => Outcome::Fail(alloc::format!("{r} case opened")),
            (r, Err(_)) => Outcome::Fail(alloc::format!("{r} case failed")),
        })
    };
    (t.tc_id, outcome(run()))
}

/// The verdict of a KEM case that the wrapper refused with `error`: a pass if
/// the case is invalid and `error` is the one `expected` names.
fn kem_refusal(result: &str, error: KeyError, expected: KeyError) -> Outcome {
    match (result, error == expected) {
        ("invalid", true) => Outcome::Pass,
        ("invalid", false) => Outcome::Fail(alloc::format!("expected {expected:?}, got {error:?}")),
        (r, _) => Outcome::Fail(alloc::format!("{r} case refused: {error:?}")),
    }
}

fn applies(group: &Group<impl Sized>) -> bool {
    group.parameter_set.as_deref() == Some(ML_KEM_768)
}

fn ml_kem_decaps(group: &Group<MlKemCase>, t: &MlKemCase) -> (u64, Outcome) {
    if !applies(group) {
        return (t.tc_id, Outcome::Skip);
    }
    let run = || -> Result<Outcome, Outcome> {
        let seed = unhex(&t.seed)?;
        let key = match KemDecapsulationKey::from_seed_slice(&seed) {
            Ok(key) => key,
            Err(e) => return Ok(kem_refusal(&t.result, e, KeyError::InvalidKemSeed)),
        };
        if let Some(ek) = &t.ek
            && key.encapsulation_key().as_bytes().as_slice() != unhex(ek)?
        {
            return Ok(Outcome::Fail("ek differs".into()));
        }
        let ciphertext = match KemCiphertext::from_bytes(&unhex(&t.c)?) {
            Ok(c) => c,
            Err(e) => return Ok(kem_refusal(&t.result, e, KeyError::InvalidKemCiphertext)),
        };
        let shared = key.decapsulate(&ciphertext);
        Ok(match t.result.as_str() {
            "valid" | "acceptable" if shared.as_bytes().as_slice() == unhex(&t.k)? => Outcome::Pass,
            "valid" | "acceptable" => Outcome::Fail("K differs".into()),
            r => Outcome::Fail(alloc::format!("{r} case decapsulated")),
        })
    };
    (t.tc_id, outcome(run()))
}

fn ml_kem_encaps(group: &Group<MlKemEncapsCase>, t: &MlKemEncapsCase) -> (u64, Outcome) {
    if !applies(group) {
        return (t.tc_id, Outcome::Skip);
    }
    let run = || -> Result<Outcome, Outcome> {
        let key = match KemEncapsulationKey::from_bytes(&unhex(&t.ek)?) {
            Ok(key) => key,
            Err(e) => return Ok(kem_refusal(&t.result, e, KeyError::InvalidKemKey)),
        };
        let m: [u8; 32] = unhex(&t.m)?
            .try_into()
            .map_err(|_| Outcome::Fail("m must be 32 bytes".into()))?;
        let (ciphertext, shared) = key.encapsulate_with(&m);
        Ok(match t.result.as_str() {
            "valid" | "acceptable"
                if ciphertext.as_bytes().as_slice() == unhex(&t.c)?
                    && shared.as_bytes().as_slice() == unhex(&t.k)? =>
            {
                Outcome::Pass
            }
            "valid" | "acceptable" => Outcome::Fail("c or K differs".into()),
            r => Outcome::Fail(alloc::format!("{r} case encapsulated")),
        })
    };
    (t.tc_id, outcome(run()))
}

fn ml_kem_keygen(group: &Group<MlKemKeyGenCase>, t: &MlKemKeyGenCase) -> (u64, Outcome) {
    if !applies(group) {
        return (t.tc_id, Outcome::Skip);
    }
    let run = || -> Result<Outcome, Outcome> {
        let key = match KemDecapsulationKey::from_seed_slice(&unhex(&t.seed)?) {
            Ok(key) => key,
            Err(e) => return Ok(kem_refusal(&t.result, e, KeyError::InvalidKemSeed)),
        };
        let same_ek = key.encapsulation_key().as_bytes().as_slice() == unhex(&t.ek)?;
        let same_dk = key.expanded_bytes().as_slice() == unhex(&t.dk)?;
        Ok(match (t.result.as_str(), same_ek && same_dk) {
            ("valid" | "acceptable", true) => Outcome::Pass,
            ("valid" | "acceptable", false) => Outcome::Fail("ek or dk differs".into()),
            (r, _) => Outcome::Fail(alloc::format!("{r} seed accepted")),
        })
    };
    (t.tc_id, outcome(run()))
}

fn ml_kem_expanded(group: &Group<MlKemExpandedCase>, t: &MlKemExpandedCase) -> (u64, Outcome) {
    if !applies(group) {
        return (t.tc_id, Outcome::Skip);
    }
    let run = || -> Result<Outcome, Outcome> {
        // Only the ciphertext length is the wrapper's to check: expanded
        // decapsulation keys are never imported.
        Ok(match KemCiphertext::from_bytes(&unhex(&t.c)?) {
            Err(e) => kem_refusal(&t.result, e, KeyError::InvalidKemCiphertext),
            Ok(_) => Outcome::Skip,
        })
    };
    (t.tc_id, outcome(run()))
}
