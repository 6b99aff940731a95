//! Fuzz target: strict key-bundle decoding and every registration check.
//!
//! Any input that decodes must re-encode to exactly the same bytes (the strict
//! decoder accepts one encoding per bundle). Decoded bundles are then verified
//! at their own `not_before`, so the time checks pass and the signature, key
//! and window checks all run. A bundle that verifies must be self-consistent.
//!
//! `tests/fuzz_corpus.rs` replays `fuzz/corpus/bundle_verify/` through a copy
//! of `check`; keep the two in step.
#![no_main]

use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy};
use libfuzzer_sys::fuzz_target;

fn check(data: &[u8]) {
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

fuzz_target!(|data: &[u8]| check(data));
