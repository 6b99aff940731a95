//! Fuzz target: strict key-bundle decoding and every registration check.
//!
//! Any input that decodes must re-encode to exactly the same bytes (the strict
//! decoder accepts one encoding per bundle). Decoded bundles are then verified
//! at their own `not_before`, so the time checks pass and the signature, key
//! and window checks all run. A bundle that verifies must be self-consistent.
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/bundle_verify.rs`) and the corpus replay in
//! `tests/fuzz_corpus.rs`, which both include it with `#[path]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy};

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Ok(bundle) = KeyBundle::decode(data) else {
        return;
    };
    assert_eq!(
        bundle.encode(),
        data,
        "a decoded bundle must re-encode to the input bytes"
    );
    let content = bundle.content().clone();
    let now = content.not_before;
    if let Ok(verified) = bundle.verify(&RegistrationPolicy::default(), now, None, &NoDirectory) {
        assert_eq!(verified.owner(), &content.owner);
        assert_eq!(verified.identity_key(), &content.identity_key);
        assert_eq!(verified.sealing_key(), &content.sealing_key);
        assert!(verified.sealing_key().validate().is_ok());
        assert_eq!(verified.sealing_key_id(), verified.sealing_key().key_id());
        assert_eq!(verified.validity(), (content.not_before, content.not_after));
        assert!(content.not_before < content.not_after);
        assert_eq!(verified.bundle().encode(), data);
    }
}

// ---- replay test only (tests/fuzz_corpus.rs) --------------------------------

/// Whether `data` decodes and verifies (the deep checks run).
#[cfg(test)]
pub(crate) fn verifies(data: &[u8]) -> bool {
    KeyBundle::decode(data)
        .and_then(|b| {
            let now = b.content().not_before;
            b.verify(&RegistrationPolicy::default(), now, None, &NoDirectory)
        })
        .is_ok()
}
