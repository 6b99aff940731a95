//! Set-up shared by the fuzz targets' logic files: the fixed clock, seeded randomness, devices
//! with a verified bundle, and the payload of a sealed state blob.
//!
//! Every fuzz target (`fuzz/fuzz_targets/*.rs`) and the corpus replay (`tests/fuzz_corpus.rs`)
//! declare it once at their root, `#[path = ".../logic/fixture.rs"] mod fixture;`, and the logic
//! files use it as `crate::fixture`; a target uses only part of it. The helpers draw from the given
//! randomness in a fixed order: a change here changes every fixture built with them, and the
//! seeds generated from those fixtures need regenerating (see each logic file's header).
#![allow(
    dead_code,
    reason = "each target uses part of the shared set-up; the rest is dead in its copy"
)]
#![allow(
    clippy::expect_used,
    reason = "fuzz set-up: a failure is a bug in the fixture"
)]

use letterseal::device::DeviceKeys;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::registration::{
    ExpectedOwner, KeyBundle, NoDirectory, RegistrationPolicy, VerifiedBundle,
};
use letterseal::state::{self, StateKind, StorageKey};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The fixtures' start time (Unix seconds): keys are made and bundles verified at `T0`.
pub(crate) const T0: u64 = 1_800_000_000;
/// One day in seconds.
pub(crate) const DAY: u64 = 86_400;
/// The AEAD tag length (AES-256-GCM).
pub(crate) const TAG_LEN: usize = 16;

/// Deterministic randomness: ChaCha20 seeded with 32 copies of `seed`.
pub(crate) fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

/// `user/id` as a device address.
pub(crate) fn address(user: &str, id: u32) -> DeviceAddress {
    DeviceAddress::new(UserId::new(user).expect("user id"), DeviceId::new(id))
}

/// `bundle` verified at `at` as its own device's (default policy, no pinned identity key, no
/// directory), as a server checks an upload.
pub(crate) fn verified(bundle: KeyBundle, at: Timestamp) -> VerifiedBundle {
    let owner = ExpectedOwner::Device(bundle.content().owner.clone());
    bundle
        .verify(
            &owner,
            &RegistrationPolicy::default(),
            at,
            None,
            &NoDirectory,
        )
        .expect("fixture bundle verifies")
}

/// A new device `user/id` with one sealing key valid for 30 days from `T0`, and its verified
/// bundle.
pub(crate) fn device(rng: &mut ChaCha20Rng, user: &str, id: u32) -> (DeviceKeys, VerifiedBundle) {
    let t0 = Timestamp::from_unix_seconds(T0);
    let mut keys = DeviceKeys::generate(rng, address(user, id));
    let bundle = verified(keys.add_sealing_key(rng, t0, 30 * DAY), t0);
    (keys, bundle)
}

/// The payload of a state blob sealed under `key` (any generation).
pub(crate) fn payload(kind: StateKind, version: u16, key: &StorageKey, blob: &[u8]) -> Vec<u8> {
    state::open_raw(kind, version, key, blob, 0)
        .expect("a fixture blob opens")
        .0
        .to_vec()
}
