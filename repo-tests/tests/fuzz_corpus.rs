//! Replays the fuzz seed corpora (`fuzz/corpus/<target>/`) through the
//! targets' own checks, so the corpora are exercised by every `cargo test`
//! without a nightly toolchain.
//!
//! Each target's logic (fixture, `check`, and the outcome classifier and seed
//! generator used here) lives in one file, `fuzz/logic/<target>.rs`, which
//! both the cargo-fuzz target and this test include with `#[path]`: there is
//! no copy to keep in step.
//!
//! It lives in the unpublished `letterseal-repo-tests` crate because the
//! corpora and the logic files are not part of the published `letterseal`
//! crate; `cargo test --workspace --all-features` runs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

#[path = "../../fuzz/logic/account_conversation.rs"]
mod account_conversation;
#[path = "../../fuzz/logic/account_receive.rs"]
mod account_receive;
#[path = "../../fuzz/logic/attachment_open.rs"]
mod attachment_open;
#[path = "../../fuzz/logic/attachment_seal.rs"]
mod attachment_seal;
#[path = "../../fuzz/logic/bundle_verify.rs"]
mod bundle_verify;
#[path = "../../fuzz/logic/codec_reader.rs"]
mod codec_reader;
// The set-up the logic files share (as `crate::fixture`), compiled once.
#[path = "../../fuzz/logic/fixture.rs"]
mod fixture;
#[path = "../../fuzz/logic/group_conversation.rs"]
mod group_conversation;
#[path = "../../fuzz/logic/group_distribution.rs"]
mod group_distribution;
#[path = "../../fuzz/logic/group_open.rs"]
mod group_open;
#[path = "../../fuzz/logic/group_state.rs"]
mod group_state;
#[path = "../../fuzz/logic/legacy_open.rs"]
mod legacy_open;
#[path = "../../fuzz/logic/pairwise_header.rs"]
mod pairwise_header;
#[path = "../../fuzz/logic/ratchet_conversation.rs"]
mod ratchet_conversation;
#[path = "../../fuzz/logic/ratchet_open.rs"]
mod ratchet_open;
#[path = "../../fuzz/logic/sealing_key_checks.rs"]
mod sealing_key_checks;
#[path = "../../fuzz/logic/state_import.rs"]
mod state_import;

/// `fuzz/corpus/<target>/`.
fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
        .join("corpus")
        .join(target)
}

/// Every file of `fuzz/corpus/<target>/`, sorted by name, with its contents.
/// Fails if the directory is missing or empty.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let data = fs::read(&path).unwrap();
            (name, data)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no seed files", dir.display());
    files
}

/// Runs `check` on every seed of `target`, naming the seed if a check fails.
fn replay(target: &str, check: fn(&[u8])) -> Vec<(String, Vec<u8>)> {
    let files = corpus(target);
    for (name, data) in &files {
        let outcome = catch_unwind(AssertUnwindSafe(|| check(data)));
        assert!(
            outcome.is_ok(),
            "fuzz/corpus/{target}/{name} fails the {target} checks (input: {})",
            hex::encode(data)
        );
    }
    files
}

/// Requires that the seeds of `target` reach every outcome in `wanted`.
fn require_outcomes<S: AsRef<str>>(
    target: &str,
    files: &[(String, Vec<u8>)],
    outcome: impl Fn(&[u8]) -> S,
    wanted: &[&str],
) {
    let outcomes: BTreeSet<String> = files
        .iter()
        .map(|(_, data)| outcome(data).as_ref().to_owned())
        .collect();
    for want in wanted {
        assert!(
            outcomes.contains(*want),
            "no seed in fuzz/corpus/{target} gives {want} (outcomes: {outcomes:?}); \
             if the fixture changed, regenerate the seeds (fuzz/README.md)"
        );
    }
}

/// Writes generated seeds into `fuzz/corpus/<target>/`.
fn write_seeds(target: &str, seeds: &[(&str, Vec<u8>)]) {
    let dir = corpus_dir(target);
    fs::create_dir_all(&dir).unwrap();
    for (name, data) in seeds {
        fs::write(dir.join(name), data).unwrap();
    }
}

/// Requires every generated seed to be in `fuzz/corpus/<target>/`, byte for
/// byte (other files, e.g. regression inputs, may be there too).
fn require_current(target: &str, seeds: &[(&str, Vec<u8>)], regenerate: &str) {
    let dir = corpus_dir(target);
    for (name, data) in seeds {
        let on_disk = fs::read(dir.join(name)).ok();
        assert!(
            on_disk.as_deref() == Some(&data[..]),
            "fuzz/corpus/{target}/{name} is missing or differs from the generated seed; \
             regenerate: cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored {regenerate}"
        );
    }
}

// ---- hand-made corpora ------------------------------------------------------

#[test]
fn bundle_verify_corpus() {
    let files = replay("bundle_verify", bundle_verify::check);
    require_current(
        "bundle_verify",
        &bundle_verify::seeds(),
        "regenerate_bundle_verify_seeds",
    );
    // The corpus must reach the deep checks: seeds verify, and each later check fails.
    require_outcomes(
        "bundle_verify",
        &files,
        bundle_verify::outcome,
        &[
            "Ok",
            "one-time Ok",
            "undecodable",
            "LifetimeTooLong",
            "InvalidValidityWindow",
            "SmallOrderSealingKey",
            "NonCanonicalSealingKey",
            "WrongKeyId",
            "InvalidKemKey",
            "WrongKemKeyId",
            "BadSignature",
            "one-time BadSignature",
            "one-time SmallOrderSealingKey",
            "one-time WrongKeyId",
            "one-time InvalidValidityWindow",
        ],
    );
}

/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_bundle_verify_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/bundle_verify; run by hand to regenerate the seeds"]
fn regenerate_bundle_verify_seeds() {
    write_seeds("bundle_verify", &bundle_verify::seeds());
}

#[test]
fn codec_reader_corpus() {
    replay("codec_reader", codec_reader::check);
}

#[test]
fn sealing_key_checks_corpus() {
    let files = replay("sealing_key_checks", sealing_key_checks::check);
    // Only 64-byte inputs are checked; a corpus of other sizes would test nothing.
    assert!(
        files.iter().all(|(_, data)| data.len() == 64),
        "every seed in fuzz/corpus/sealing_key_checks must be 64 bytes"
    );
}

// ---- pairwise ---------------------------------------------------------------

#[test]
fn pairwise_header_corpus() {
    let files = replay("pairwise_header", pairwise_header::check);
    // Some seeds must decode, so the re-encoding checks run; every kind of
    // header and every decoding error must be reached.
    assert!(
        files.iter().any(|(_, data)| pairwise_header::decodes(data)),
        "no seed in fuzz/corpus/pairwise_header decodes"
    );
    require_outcomes(
        "pairwise_header",
        &files,
        pairwise_header::outcome,
        &[
            "INIT ONE_TIME",
            "INIT",
            "KEM_STEP",
            "plain",
            "UnknownVersion",
            "InvalidValue",
            "Truncated",
        ],
    );
}

#[test]
fn ratchet_open_corpus() {
    let files = replay("ratchet_open", ratchet_open::check);
    // Every outcome of `open` the fixture allows (all but `WrongDevice` and
    // `NonContributory`), and each way of opening.
    require_conversation_outcomes(
        "ratchet_open",
        &files,
        ratchet_open::outcomes,
        &[
            "Ok",
            "Ok late",
            "Ok skipped",
            "Ok started",
            "Ok KEM step",
            "Malformed",
            "UnsupportedVersion",
            "UnknownSession",
            "StaleSession",
            "Reflected",
            "RetiredKey",
            "UnknownRecipientKey",
            "UnknownSenderKey",
            "UnknownOneTimeKey",
            "ConsumedOneTimeKey",
            "PeerKeyExpired",
            "LocalKeyExpired",
            "Replay",
            "TooOld",
            "TooManySkipped",
            "UnexpectedRatchetKey",
            "UnknownKemKey",
            "CommitmentMismatch",
            "AuthenticationFailed",
        ],
    );
}

#[test]
fn ratchet_conversation_corpus() {
    let files = replay("ratchet_conversation", ratchet_conversation::check);
    require_conversation_outcomes(
        "ratchet_conversation",
        &files,
        ratchet_conversation::outcomes,
        &[
            "seal Ok",
            "seal start",
            "seal start one-time",
            "seal KEM step",
            "seal control",
            "seal NoSealingKey",
            "seal LocalKeyExpired",
            "seal PeerKeyExpired",
            "deliver Ok",
            "deliver Ok late",
            "deliver Ok skipped",
            "deliver Ok started",
            "deliver Ok KEM step",
            "deliver Replay",
            "deliver TooOld",
            "deliver TooManySkipped",
            "deliver UnexpectedRatchetKey",
            "deliver UnknownKemKey",
            "deliver UnknownSession",
            "deliver StaleSession",
            "deliver CommitmentMismatch",
            "deliver PeerKeyExpired",
            "deliver LocalKeyExpired",
            "deliver RetiredKey",
            "deliver UnknownSenderKey",
            "deliver UnknownOneTimeKey",
            "deliver ConsumedOneTimeKey",
            "duplicate Replay",
            "duplicate Ok",
            "tamper Malformed",
            "tamper UnsupportedVersion",
            "tamper CommitmentMismatch",
            "tamper AuthenticationFailed",
            "tamper UnknownSession",
            "reflect Reflected",
            "reload",
            "save",
            "rollback",
            "advance",
            "rotate",
            "retire",
            "register",
            "expire",
            "restart",
            "drop",
            "converged",
        ],
    );
}

/// Writes the generated seeds of `pairwise_header`, `ratchet_open` and
/// `ratchet_conversation`. Run after changing a fixture, the message or
/// state format, or the program encoding:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_ratchet_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/{pairwise_header,ratchet_open,ratchet_conversation}; run by hand"]
fn regenerate_ratchet_seeds() {
    write_seeds("pairwise_header", &pairwise_header::seeds());
    write_seeds("ratchet_open", &ratchet_open::seeds());
    write_seeds("ratchet_conversation", &ratchet_conversation::seeds());
}

/// The generated pairwise seeds are checked in unchanged.
#[test]
fn ratchet_seeds_are_current() {
    for (target, seeds) in [
        ("pairwise_header", pairwise_header::seeds()),
        ("ratchet_open", ratchet_open::seeds()),
        ("ratchet_conversation", ratchet_conversation::seeds()),
    ] {
        require_current(target, &seeds, "regenerate_ratchet_seeds");
    }
}

/// Requires that the seeds of a conversation target, together, reach every
/// outcome in `wanted` (each seed is a program reaching several).
fn require_conversation_outcomes(
    target: &str,
    files: &[(String, Vec<u8>)],
    outcomes: impl Fn(&[u8]) -> BTreeSet<String>,
    wanted: &[&str],
) {
    let reached: BTreeSet<String> = files.iter().flat_map(|(_, data)| outcomes(data)).collect();
    for want in wanted {
        assert!(
            reached.contains(*want),
            "no seed in fuzz/corpus/{target} reaches {want:?} (reached: {reached:?}); \
             if the fixture or the program format changed, regenerate the seeds (fuzz/README.md)"
        );
    }
}

/// Writes the seed programs of `group_conversation`:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_conversation_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/group_conversation; run by hand to regenerate the seeds"]
fn regenerate_conversation_seeds() {
    write_seeds("group_conversation", &group_conversation::seeds());
}

// ---- groups -----------------------------------------------------------------

#[test]
fn group_distribution_corpus() {
    let files = replay("group_distribution", group_distribution::check);
    // The seeds must stay valid (the fixture is deterministic) and reach every
    // outcome of `process` the fixture allows but `StaleEpoch` (which `check`
    // reaches by processing an accepted distribution again)...
    require_outcomes(
        "group_distribution",
        &files,
        group_distribution::outcome,
        &[
            "Installed",
            "AlreadyProcessed",
            "undecodable",
            "WrongGroup",
            "BadSignature",
            "InvalidEpoch",
            "ConflictingEpoch",
            "EpochGap",
            "ForkedHistory",
            "NotPreviousMember",
            "DeltaWithoutBase",
            "RosterHashMismatch",
            "NotAMember",
            "MissingWrap",
            "WrapRejected",
            "ConfirmationMismatch",
        ],
    );
    // ...and, at the server, acceptance and the refusals the seeds reach.
    require_outcomes(
        "group_distribution (server)",
        &files,
        group_distribution::server_outcome,
        &[
            "Ok",
            "Malformed",
            "UnsupportedVersion",
            "InvalidPolicy",
            "BadSignature",
            "InvalidEpoch",
            "StaleEpoch",
            "EpochGap",
            "ForkedHistory",
            "NotPreviousMember",
            "WrapListMismatch",
            "WrapListHashMismatch",
        ],
    );
}

#[test]
fn group_open_corpus() {
    let files = replay("group_open", group_open::check);
    // The seeds must stay valid (the fixture is deterministic) and reach
    // every outcome of `open`, also a late open from a stored secret.
    require_outcomes(
        "group_open",
        &files,
        group_open::outcome,
        &[
            "Ok",
            "Ok late",
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
fn group_conversation_corpus() {
    let files = replay("group_conversation", group_conversation::check);
    require_conversation_outcomes(
        "group_conversation",
        &files,
        group_conversation::outcomes,
        &[
            "propose Ok",
            "propose NotPermitted",
            "propose NoAdminMember",
            "upload Ok",
            "upload StaleEpoch",
            "upload ForkedHistory",
            "fork Ok",
            "commit",
            "abort",
            "commit NothingPending",
            "hostile server Ok",
            "hostile server EpochGap",
            "hostile server NoAdminMember",
            "hostile server NotPermitted",
            "hostile server NotPreviousMember",
            "process Installed",
            "process Installed discarding",
            "process Committed",
            "process AlreadyProcessed",
            "process ConflictingEpoch",
            "process EpochGap",
            "process ForkedHistory",
            "process NotPending",
            "process NotPreviousMember",
            "process DeltaWithoutBase",
            "process NoAdminMember",
            "process NotPermitted",
            "process ConfirmationMismatch",
            "redeliver full StaleEpoch",
            "redeliver full NotAMember",
            "other wrap WrapRejected",
            "flipped BadSignature",
            "flipped RosterHashMismatch",
            "seal Ok",
            "open Ok",
            "open UnknownEpoch",
            "open EpochExpired",
            "open SenderRemoved",
            "open ForkedEpoch",
            "again Replay",
            "again OwnMessage",
            "again SenderRemoved",
            "tamper BadSignature",
            "tamper AuthenticationFailed",
            "tamper Malformed",
            "reload",
            "expire",
        ],
    );
}

/// Writes the seed corpora of `group_distribution` and `group_open` from
/// their fixtures. Run after changing a fixture, the distribution or the
/// group message format:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_group_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/group_*; run by hand to regenerate the seeds"]
fn regenerate_group_seeds() {
    write_seeds("group_distribution", &group_distribution::seeds());
    write_seeds("group_open", &group_open::seeds());
}

// ---- attachments ------------------------------------------------------------

#[test]
fn attachment_open_corpus() {
    let files = replay("attachment_open", attachment_open::check);
    require_outcomes(
        "attachment_open",
        &files,
        attachment_open::outcome,
        &[
            "Ok",
            "Malformed",
            "UnsupportedVersion",
            "ChunkSizeMismatch",
            "CommitmentMismatch",
            "ChunkAuthenticationFailed",
            "Truncated",
            "TooLong",
            "SizeMismatch",
            "DigestMismatch",
        ],
    );
}

#[test]
fn attachment_seal_corpus() {
    let files = replay("attachment_seal", attachment_seal::check);
    require_outcomes(
        "attachment_seal",
        &files,
        attachment_seal::outcome,
        &["content", "unbound", "hedged", "ContentDigestMismatch"],
    );
}

/// Writes the seed corpus of `attachment_seal`:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_attachment_seal_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/attachment_seal; run by hand to regenerate the seeds"]
fn regenerate_attachment_seal_seeds() {
    write_seeds("attachment_seal", &attachment_seal::seeds());
}

/// Writes the seed corpus of `attachment_open` from its fixture:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_attachment_open_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/attachment_open; run by hand to regenerate the seeds"]
fn regenerate_attachment_open_seeds() {
    write_seeds("attachment_open", &attachment_open::seeds());
}

// ---- legacy -----------------------------------------------------------------

#[test]
fn legacy_open_corpus() {
    let files = replay("legacy_open", legacy_open::check);
    require_outcomes(
        "legacy_open",
        &files,
        legacy_open::outcome,
        &[
            "v1 Ok",
            "v1 Malformed",
            "v1 UnknownKey",
            "v1 NonContributory",
            "v1 DecryptionFailed",
            "v2 Ok",
            "v2 Malformed",
            "v2 DecryptionFailed",
            "group Ok",
            "group UnknownKey",
            "unwrap Ok",
            "unwrap DecryptionFailed",
            "media Ok",
            "media DecryptionFailed",
            "payload Ok",
            "readers Ok",
            "key-id Ok",
            "key-id Truncated",
            "key-id TooLong",
            "key-id TrailingData",
            "key-id NonMinimal",
            "key-id OutOfRange",
            "media-stream Ok",
            "media-stream Malformed",
            "media-stream DecryptionFailed",
            "session Ok",
            "session Malformed",
            "session NonMinimal",
            "session UnknownKey",
            "session DecryptionFailed",
            "session InvalidPayload",
        ],
    );
}

/// Writes the seed corpus of `legacy_open` from its fixture:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_legacy_open_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/legacy_open; run by hand to regenerate the seeds"]
fn regenerate_legacy_open_seeds() {
    write_seeds("legacy_open", &legacy_open::seeds());
}

// ---- saved states -----------------------------------------------------------

#[test]
fn state_import_corpus() {
    let files = replay("state_import", state_import::check);
    require_outcomes(
        "state_import",
        &files,
        state_import::outcome,
        &["ok", "WrongKind", "Invalid", "Tampered"],
    );
}

/// Writes the seed corpus of `state_import` from its fixture:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_state_import_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/state_import; run by hand to regenerate the seeds"]
fn regenerate_state_import_seeds() {
    write_seeds("state_import", &state_import::seeds());
}

#[test]
fn group_state_corpus() {
    let files = replay("group_state", group_state::check);
    require_outcomes(
        "group_state",
        &files,
        group_state::outcome,
        &["ok", "Invalid", "UnsupportedStateVersion", "Tampered"],
    );
}

/// Writes the seed corpus of `group_state` from its fixture:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_group_state_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/group_state; run by hand to regenerate the seeds"]
fn regenerate_group_state_seeds() {
    write_seeds("group_state", &group_state::seeds());
}

// ---- generated corpora are current ------------------------------------------

/// Every generated seed is checked in unchanged: regenerating gives the same
/// files, so a change that alters a fixture's bytes is caught here.
#[test]
fn generated_seeds_are_current() {
    for (target, seeds) in [
        ("group_distribution", group_distribution::seeds()),
        ("group_open", group_open::seeds()),
    ] {
        require_current(target, &seeds, "regenerate_group_seeds");
    }
    require_current(
        "group_conversation",
        &group_conversation::seeds(),
        "regenerate_conversation_seeds",
    );
    require_current(
        "attachment_open",
        &attachment_open::seeds(),
        "regenerate_attachment_open_seeds",
    );
    require_current(
        "attachment_seal",
        &attachment_seal::seeds(),
        "regenerate_attachment_seal_seeds",
    );
    require_current(
        "state_import",
        &state_import::seeds(),
        "regenerate_state_import_seeds",
    );
    require_current(
        "group_state",
        &group_state::seeds(),
        "regenerate_group_state_seeds",
    );
    require_current(
        "legacy_open",
        &legacy_open::seeds(),
        "regenerate_legacy_open_seeds",
    );
}

// ---- accounts ---------------------------------------------------------------

#[test]
fn account_receive_corpus() {
    let files = replay("account_receive", account_receive::check);
    require_outcomes(
        "account_receive",
        &files,
        account_receive::outcome,
        &ACCOUNT_RECEIVE_OUTCOMES,
    );
}

/// What the `account_receive` seeds reach together.
const ACCOUNT_RECEIVE_OUTCOMES: [&str; 29] = [
    "ok Message",
    "ok GroupMessage",
    "ok GroupChanged",
    "ok DeviceListUpdated",
    "ok OneTimeKeyLearned",
    "ok Duplicate",
    "err Envelope Malformed",
    "err Envelope UnknownKind",
    "err DeviceList InvalidDeviceKey",
    "err DeviceList Malformed",
    "err DeviceList Stale",
    "err OwnDeviceNotListed",
    "err DeviceNotListed",
    "err NotForThisDevice",
    "err UnknownGroup",
    "err Registration BadSignature",
    "err Registration Malformed",
    "err Registration UnsupportedVersion",
    "err Open CommitmentMismatch",
    "err Open Malformed",
    "err Open Replay",
    "err GroupOpen BadSignature",
    "err GroupOpen Malformed",
    "err GroupOpen OwnMessage",
    "err Group BadSignature",
    "err Group Malformed",
    "err Group MissingWrap",
    "err Group NotAMember",
    "err Group WrapRejected",
];

/// Writes the seed corpus of `account_receive` from its fixture:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_account_receive_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/account_receive; run by hand to regenerate the seeds"]
fn regenerate_account_receive_seeds() {
    let seeds = account_receive::seeds();
    let seeds: Vec<(&str, Vec<u8>)> = seeds.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    write_seeds("account_receive", &seeds);
}

#[test]
fn account_receive_seeds_are_current() {
    let seeds = account_receive::seeds();
    let seeds: Vec<(&str, Vec<u8>)> = seeds.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    require_current(
        "account_receive",
        &seeds,
        "regenerate_account_receive_seeds",
    );
}

#[test]
fn account_conversation_corpus() {
    let files = replay("account_conversation", account_conversation::check);
    let reached: BTreeSet<String> = files
        .iter()
        .flat_map(|(_, data)| account_conversation::outcomes(data))
        .collect();
    for want in [
        "sealed",
        "queued",
        "opened",
        "group message opened",
        "device list changed",
    ] {
        assert!(
            reached.contains(want),
            "no seed in fuzz/corpus/account_conversation reaches {want} (reached: {reached:?})"
        );
    }
}

/// Writes the seed programs of `account_conversation`:
/// `cargo test -p letterseal-repo-tests --test fuzz_corpus --all-features -- --ignored regenerate_account_conversation_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/account_conversation; run by hand to regenerate the seeds"]
fn regenerate_account_conversation_seeds() {
    write_seeds("account_conversation", &account_conversation::seeds());
}

#[test]
fn account_conversation_seeds_are_current() {
    require_current(
        "account_conversation",
        &account_conversation::seeds(),
        "regenerate_account_conversation_seeds",
    );
}
