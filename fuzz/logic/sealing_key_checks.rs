//! Fuzz target: X25519 public-key validation, key ids and agreement.
//!
//! Takes exactly 64-byte inputs: the first 32 bytes are a peer public key, the
//! last 32 a secret key. `validate` must agree with `is_canonical` and
//! `has_small_order`, `key_id` must be deterministic, and `agree` must fail
//! with `NonContributory` exactly when the public key has small order (with a
//! clamped scalar, X25519 outputs zero only for small-order inputs).
//!
//! This file is the target's whole logic, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/sealing_key_checks.rs`) and the corpus replay in
//! `repo-tests/tests/fuzz_corpus.rs`, which both include it with `#[path]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use letterseal::keys::{KeyError, SealingPublicKey, SealingSecretKey};

/// Runs the target on one input; panics if an invariant is violated.
pub(crate) fn check(data: &[u8]) {
    let Ok(bytes) = <&[u8; 64]>::try_from(data) else {
        return;
    };
    let (pk_bytes, sk_bytes) = bytes.split_at(32);
    let mut pk_arr = [0u8; 32];
    pk_arr.copy_from_slice(pk_bytes);
    let mut sk_arr = [0u8; 32];
    sk_arr.copy_from_slice(sk_bytes);

    let pk = SealingPublicKey::from_bytes(pk_arr);
    let canonical = pk.is_canonical();
    let small = pk.has_small_order();
    let expected = if !canonical {
        Err(KeyError::NonCanonicalSealingKey)
    } else if small {
        Err(KeyError::SmallOrderSealingKey)
    } else {
        Ok(())
    };
    assert_eq!(pk.validate(), expected);
    assert_eq!(pk.key_id(), SealingPublicKey::from_bytes(pk_arr).key_id());

    let sk = SealingSecretKey::from_bytes(&sk_arr);
    match sk.agree(&pk) {
        Ok(shared) => {
            assert!(!small, "agree succeeded for a small-order key {pk:?}");
            assert_ne!(shared.as_bytes(), &[0u8; 32]);
        }
        Err(e) => {
            assert_eq!(e, KeyError::NonContributory);
            assert!(
                small,
                "agree was non-contributory for a key not of small order {pk:?}"
            );
        }
    }
}
