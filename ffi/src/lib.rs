//! Foreign-language bindings of letterseal's client façade
//! ([`letterseal::account`], SPEC.md §13), generated with
//! [UniFFI](https://mozilla.github.io/uniffi-rs/) proc-macros. Python is the
//! first target; `ffi/README.md` says how to build and test it.
//!
//! What crosses the boundary:
//!
//! - [`Account`]: one device of a user (an object behind a `Mutex`, so a
//!   foreign caller may share it between threads; calls on one account run
//!   one at a time).
//! - [`Relay`]: the server's checks and fan-out, in memory (for tests and for
//!   a server written in the foreign language).
//! - Plain data: [`Event`], [`Outgoing`], [`Address`], [`ExportedAccount`],
//!   [`GroupChange`], [`RemovedDevice`].
//! - One error type, [`LettersealError`], for every refusal, invalid input
//!   and (never expected) panic.
//!
//! Ids and keys are bytes (`bytes` in Python): user and group ids are 1 to
//! 255 opaque bytes, as in the core. Time is whole seconds since the Unix
//! epoch (`now_unix_seconds`), passed by the caller on every call that needs it.
//!
//! # Randomness
//!
//! Every key, nonce and storage key the bindings make comes from the
//! operating system's generator (`getrandom`'s `SysRng`, i.e. `getrandom(2)`
//! on Linux), drawn inside this crate: a foreign caller cannot pass a weak
//! generator. If the OS generator fails, the call panics inside Rust and
//! returns [`LettersealError::Panic`] (the account object is then unusable).
//!
//! # Secrets
//!
//! State crosses only as a sealed blob ([`Account::export`],
//! [`Account::import_sealed`]); the storage key is 32 bytes the application keeps in
//! its platform keystore. No secret is ever returned as a string. The Rust
//! side zeroizes what it holds, but plaintexts, recovery secrets and storage
//! keys are *copied* through UniFFI's buffers (not zeroized when freed) and
//! into immutable Python `bytes` objects, which cannot be wiped: see
//! `ffi/README.md`, "Zeroization limits".
//!
//! # Panics
//!
//! Every exported call runs inside [`std::panic::catch_unwind`]: a Rust panic
//! becomes [`LettersealError::Panic`], never an unwind into foreign code. The
//! library must therefore be built with `panic = "unwind"` (the default).

mod account;
#[cfg(feature = "auditor")]
mod auditor;
mod error;
mod relay;
mod types;

pub use account::{Account, MAX_ONE_TIME_KEYS_PER_CALL};
#[cfg(feature = "auditor")]
pub use auditor::{VectorCaseFailure, VectorFileReport, check_vector_file};
pub use error::LettersealError;
pub use relay::Relay;
pub use types::{Address, Event, ExportedAccount, GroupChange, Outgoing, RemovedDevice};

use getrandom::SysRng;
use rand_core::UnwrapErr;
use zeroize::Zeroizing;

uniffi::setup_scaffolding!();

/// The length of a storage key in bytes.
pub const STORAGE_KEY_LEN: usize = 32;

/// The OS generator, as the core's calls take it.
pub(crate) fn os_rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

/// A fresh 32-byte storage key from the OS generator, for
/// [`Account::export`] and [`Account::import_sealed`]. Keep it in the platform
/// keystore, never beside the blob.
#[uniffi::export]
pub fn generate_storage_key() -> Result<Vec<u8>, LettersealError> {
    error::guard(|| {
        use rand_core::Rng;
        let mut key = Zeroizing::new([0u8; STORAGE_KEY_LEN]);
        os_rng().fill_bytes(key.as_mut_slice());
        Ok(key.to_vec())
    })
}

/// Test builds only (feature `test-hooks`): panics with `message` inside the
/// same panic guard every exported call runs in, so a foreign test suite can
/// check that a Rust panic arrives as [`LettersealError::Panic`] and not as
/// an abort. No application build enables this feature.
#[cfg(feature = "test-hooks")]
#[expect(
    clippy::panic,
    reason = "the hook's purpose is to panic inside the guard"
)]
#[uniffi::export]
pub fn test_hook_panic(message: String) -> Result<(), LettersealError> {
    error::guard(|| panic!("{message}"))
}

#[cfg(all(test, feature = "test-hooks"))]
mod tests {
    use super::{LettersealError, test_hook_panic};

    #[test]
    fn the_test_hook_panics_inside_the_guard() {
        assert_eq!(
            test_hook_panic("boom".to_owned()),
            Err(LettersealError::Panic {
                message: "boom".to_owned()
            })
        );
    }
}
