//! The repository's vector files, checked through the same code as
//! `letterseal vectors verify`, plus checks that the checker itself can fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use letterseal::keys::{SealingPublicKey, SealingSecretKey};
use letterseal_vectors::{FileReport, Verdict, check_file, check_vector_file, generate};

fn vector_dir() -> PathBuf {
    letterseal_vectors::data_dir().to_path_buf()
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // The crate's code and the Python references are not vectors.
            if ["src", "tests", "tools"].iter().any(|d| path.ends_with(d)) {
                continue;
            }
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json")
            // Not `.cargo_vcs_info.json`, which `cargo package` adds.
            && !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            out.push(path);
        }
    }
}

fn check(path: &Path) -> FileReport {
    let text = std::fs::read_to_string(path).unwrap();
    check_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_vector_file_passes() {
    let mut files = Vec::new();
    json_files(&vector_dir(), &mut files);
    assert!(
        files.len() >= 15,
        "expected at least 26 vector files, found {}",
        files.len()
    );
    let mut total = 0;
    for path in files {
        let report = check(&path);
        assert!(
            report.failed.is_empty(),
            "{}: {:?}",
            path.display(),
            report.failed
        );
        assert!(report.passed > 0, "{} ran no case", path.display());
        total += report.passed;
    }
    assert!(total >= 900, "only {total} cases passed");
}

#[test]
fn committed_vectors_equal_the_generator_output() {
    for file in generate::all().unwrap() {
        let path = vector_dir().join(format!("{}.json", file.step));
        let committed =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            committed,
            file.to_json(),
            "{} differs from the generator; run `letterseal vectors generate` and review the diff",
            path.display()
        );
    }
}

#[test]
fn every_step_file_has_positive_and_negative_cases() {
    for file in generate::all().unwrap() {
        let valid = file
            .tests
            .iter()
            .filter(|t| t.result == Verdict::Valid)
            .count();
        let invalid = file.tests.len() - valid;
        assert!(valid > 0, "{} has no valid case", file.step);
        let total_function = [
            "identity-keygen",
            "sealing-keygen",
            "bundle-sign",
            "one-time-key-sign",
            "safety-number",
            "ratchet-root",
            "ratchet-chain",
            "ratchet-message-keys",
            "ratchet-hedged-salt",
            "ratchet-init",
            "group-sender-chain",
        ];
        if !total_function.contains(&file.step.as_str()) {
            assert!(invalid > 0, "{} has no invalid case", file.step);
        }
    }
}

fn assert_invalid_cases_for(step: &str, errors: &[&str]) {
    let path = vector_dir().join(format!("{step}.json"));
    let file: letterseal_vectors::VectorFile =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for error in errors {
        assert!(
            file.tests
                .iter()
                .any(|t| t.error.as_deref() == Some(*error)),
            "{step}: no invalid case for {error}"
        );
    }
}

#[test]
fn ratchet_transcripts_have_one_invalid_case_per_check() {
    // Every check of SPEC §7.7 reachable from bytes and a script (WrongDevice
    // and NonContributory cannot arise from verified bundles and messages).
    assert_invalid_cases_for(
        "ratchet-transcript",
        &[
            "Malformed",
            "UnsupportedVersion",
            "UnknownSession",
            "StaleSession",
            "RetiredKey",
            "UnknownRecipientKey",
            "UnknownSenderKey",
            "UnknownOneTimeKey",
            "ConsumedOneTimeKey",
            "PeerKeyExpired",
            "LocalKeyExpired",
            "Reflected",
            "Replay",
            "TooOld",
            "TooManySkipped",
            "UnexpectedRatchetKey",
            "UnknownKemKey",
            "CommitmentMismatch",
            "AuthenticationFailed",
        ],
    );
    assert_invalid_cases_for("pairwise-header", &["Malformed", "UnsupportedVersion"]);
}

#[test]
fn attachment_files_have_one_invalid_case_per_check() {
    assert_invalid_cases_for("attachment-seal", &["InvalidChunkSize"]);
    assert_invalid_cases_for("attachment-seal-hedged", &["InvalidChunkSize"]);
    assert_invalid_cases_for(
        "attachment-open",
        &[
            "UnsupportedVersion",
            "Malformed",
            "ChunkSizeMismatch",
            "CommitmentMismatch",
            "ChunkAuthenticationFailed",
            "Truncated",
            "TooLong",
            "SizeMismatch",
            "DigestMismatch",
        ],
    );
    assert_invalid_cases_for(
        "attachment-chunk",
        &[
            "InvalidChunk",
            "ChunkAuthenticationFailed",
            "CommitmentMismatch",
        ],
    );
}

#[test]
fn group_files_have_one_invalid_case_per_check() {
    // Every check of SPEC §8.4, §8.7, §8.8 and §8.9 reachable from bytes. Not here:
    // process's WrongDevice (a state is one device's, not bytes) and seal's
    // WrongDevice (likewise); the ratchet's own refusals of a wrap are
    // ratchet-transcript's, reached here as WrapRejected.
    assert_invalid_cases_for("group-roster-hash", &["InvalidRoster"]);
    assert_invalid_cases_for("group-key-wrap", &["LocalKeyExpired", "PeerKeyExpired"]);
    assert_invalid_cases_for(
        "group-distribution-verify",
        &[
            "Malformed",
            "UnsupportedVersion",
            "InvalidPolicy",
            "InvalidRoster",
            "InvalidRosterDelta",
            "BadSignature",
            "UploaderMismatch",
            "InvalidEpoch",
            "WrongGroup",
            "StaleEpoch",
            "EpochGap",
            "ForkedHistory",
            "NotPreviousMember",
            "DeltaWithoutBase",
            "RosterHashMismatch",
            "DistributorNotMember",
            "NoAdminMember",
            "NotPermitted",
            "WrapListMismatch",
            "WrapListHashMismatch",
        ],
    );
    assert_invalid_cases_for(
        "group-distribution-process",
        &[
            "Malformed",
            "UnsupportedVersion",
            "WrongGroup",
            "BadSignature",
            "InvalidEpoch",
            "ConflictingEpoch",
            "StaleEpoch",
            "EpochGap",
            "ForkedHistory",
            "NotPending",
            "NotPreviousMember",
            "DeltaWithoutBase",
            "InvalidRosterDelta",
            "RosterHashMismatch",
            "DistributorNotMember",
            "NoAdminMember",
            "NotPermitted",
            "NotAMember",
            "MissingWrap",
            "MissingSession",
            "DistributorMismatch",
            "WrapRejected",
            "InvalidWrap",
            "ConfirmationMismatch",
        ],
    );
    assert_invalid_cases_for("group-seal", &["CounterExhausted", "NotAMember"]);
    assert_invalid_cases_for(
        "group-open",
        &[
            "Malformed",
            "UnsupportedVersion",
            "WrongGroup",
            "UnknownEpoch",
            "EpochExpired",
            "UnknownSender",
            "OwnMessage",
            "SenderRemoved",
            "BadSignature",
            "ForkedEpoch",
            "Replay",
            "TooOld",
            "TooManySkipped",
            "CommitmentMismatch",
            "AuthenticationFailed",
        ],
    );
}

#[test]
fn bundle_verify_has_one_invalid_case_per_rejection() {
    assert_invalid_cases_for(
        "bundle-verify",
        &[
            "Malformed",
            "UnsupportedVersion",
            "InvalidIdentityKey",
            "BadSignature",
            "NonCanonicalSealingKey",
            "SmallOrderSealingKey",
            "WrongKeyId",
            "InvalidValidityWindow",
            "LifetimeTooLong",
            "NotYetValid",
            "Expired",
            "IdentityKeyMismatch",
            "DuplicateSealingKey",
        ],
    );
}

#[test]
fn account_files_have_one_invalid_case_per_check() {
    assert_invalid_cases_for(
        "device-list-sign",
        &[
            "ZeroVersion",
            "DeviceCount",
            "UnsortedDevices",
            "DuplicateDeviceKey",
        ],
    );
    assert_invalid_cases_for(
        "device-list-verify",
        &[
            "Malformed",
            "InvalidUserKey",
            "ZeroVersion",
            "DeviceCount",
            "InvalidDeviceKey",
            "UnsortedDevices",
            "DuplicateDeviceKey",
            "BadSignature",
            "WrongUser",
            "UserKeyChanged",
            "Stale",
            "Duplicate",
        ],
    );
    assert_invalid_cases_for(
        "envelope",
        &[
            "Envelope.UnknownVersion",
            "Envelope.UnknownKind",
            "Envelope.Malformed",
            "DeviceList.Malformed",
            "Registration.UnsupportedVersion",
            "Registration.Malformed",
            "Group.Malformed",
        ],
    );
    // Issue 15: each refusal has its scenario among the vectors.
    let path = vector_dir().join("device-list-verify.json");
    let file: letterseal_vectors::VectorFile =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (flag, error) in [
        ("Forged", "BadSignature"),
        ("WrongKey", "BadSignature"),
        ("WrongKey", "UserKeyChanged"),
        ("Rollback", "Stale"),
        ("StrictVerification", "BadSignature"),
    ] {
        assert!(
            file.tests
                .iter()
                .any(|t| t.flags.iter().any(|f| f == flag) && t.error.as_deref() == Some(error)),
            "device-list-verify: no {flag} case refused with {error}"
        );
    }
}

/// The checker must notice a wrong expected output, a wrong error name and a
/// flipped verdict — otherwise the passing tests above would mean nothing.
#[test]
fn checker_detects_corrupted_expectations() {
    for file in generate::all().unwrap() {
        let valid = file
            .tests
            .iter()
            .position(|t| t.result == Verdict::Valid)
            .unwrap();

        let mut wrong_output = file.clone();
        let (key, value) = wrong_output.tests[valid].output.iter_mut().next().unwrap();
        let key = key.clone();
        *value = match value {
            serde_json::Value::String(s) if !s.is_empty() => {
                let mut c: Vec<char> = s.chars().collect();
                c[0] = if c[0] == '0' { '1' } else { '0' };
                serde_json::Value::String(c.into_iter().collect())
            }
            _ => serde_json::Value::from(12345),
        };
        let report = check_vector_file(&wrong_output).unwrap();
        assert_eq!(
            report.failed.len(),
            1,
            "{}: corrupted {key} not detected",
            file.step
        );

        let mut flipped = file.clone();
        flipped.tests[valid].result = Verdict::Invalid;
        flipped.tests[valid].output.clear();
        flipped.tests[valid].error = Some("BadSignature".into());
        assert_eq!(
            check_vector_file(&flipped).unwrap().failed.len(),
            1,
            "{}",
            file.step
        );

        if let Some(invalid) = file.tests.iter().position(|t| t.result == Verdict::Invalid) {
            let mut wrong_error = file.clone();
            wrong_error.tests[invalid].error = Some("SomethingElse".into());
            assert_eq!(
                check_vector_file(&wrong_error).unwrap().failed.len(),
                1,
                "{}",
                file.step
            );
        }
    }
}

#[test]
fn inconsistent_files_are_refused() {
    let mut file = generate::all().unwrap().remove(0);
    file.number_of_tests += 1;
    assert!(check_vector_file(&file).is_err());
    let mut file = generate::all().unwrap().remove(0);
    let dup = file.tests[0].clone();
    file.tests.push(dup);
    file.number_of_tests += 1;
    assert!(check_vector_file(&file).is_err());
    let mut file = generate::all().unwrap().remove(0);
    file.step = "no-such-step".into();
    assert!(check_vector_file(&file).is_err());
    assert!(check_file("{not json").is_err());
}

#[test]
fn wycheproof_x25519_all_518_cases() {
    let path = vector_dir().join("external/wycheproof/x25519_test.json");
    let report = check(&path);
    assert_eq!(
        (report.passed, report.skipped, report.failed.len()),
        (518, 0, 0)
    );
    // The 31 ZeroSharedSecret cases are among them and are rejections.
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("\"ZeroSharedSecret\"").count(), 31 + 1); // + the notes entry
}

#[test]
fn wycheproof_hkdf_all_86_cases() {
    let report = check(&vector_dir().join("external/wycheproof/hkdf_sha256_test.json"));
    assert_eq!(
        (report.passed, report.skipped, report.failed.len()),
        (86, 0, 0)
    );
}

#[test]
fn wycheproof_aes_gcm_256_bit_key_96_bit_iv_groups() {
    let report = check(&vector_dir().join("external/wycheproof/aes_gcm_test.json"));
    assert_eq!((report.passed, report.failed.len()), (66, 0));
    assert_eq!(report.skipped, 316 - 66);
}

#[test]
fn wycheproof_x25519_zero_shared_secret_cases_are_rejected_not_skipped() {
    // Turn one ZeroSharedSecret case into a "normal" one: the checker must now fail it.
    let path = vector_dir().join("external/wycheproof/x25519_test.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let tests = value["testGroups"][0]["tests"].as_array_mut().unwrap();
    let case = tests
        .iter_mut()
        .find(|t| {
            t["flags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "ZeroSharedSecret")
        })
        .unwrap();
    case["flags"] = serde_json::json!([]);
    let report = check_file(&value.to_string()).unwrap();
    assert_eq!(report.failed.len(), 1);
}

/// RFC 7748 §5.2: k = u = 9; repeat { (k, u) = (X25519(k, u), k) }.
#[test]
fn rfc7748_iterated_x25519() {
    let mut k = [0u8; 32];
    k[0] = 9;
    let mut u = k;
    let mut after = Vec::new();
    for i in 1..=1000 {
        let secret = SealingSecretKey::from_bytes(&k);
        let r = *secret
            .agree(&SealingPublicKey::from_bytes(u))
            .unwrap()
            .as_bytes();
        u = k;
        k = r;
        if i == 1 || i == 1000 {
            after.push(hex::encode(k));
        }
    }
    assert_eq!(
        after,
        [
            "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
            "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
        ]
    );
}
