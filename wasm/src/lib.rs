//! WebAssembly/JavaScript bindings of letterseal's client façade
//! ([`letterseal::account`], SPEC.md §13), made with `wasm-bindgen`: the same
//! API and error model as the Python bindings in `ffi/`, in JS naming.
//! `wasm/README.md` says how to build, test and use it.
//!
//! What crosses the boundary:
//!
//! - [`Account`]: one device of a user; [`Relay`]: the server's checks and
//!   fan-out, in memory; [`generate_storage_key`].
//! - Plain JS objects (`Event`, `Outgoing`, `Address`, `ExportedAccount`,
//!   `GroupChange`, `RemovedDevice`; TypeScript types below). Ids, keys,
//!   envelopes and plaintexts are `Uint8Array`; `now` is whole seconds since
//!   the Unix epoch (a `number` or a `bigint`); `u64` counters come back as
//!   `bigint`.
//! - One error model: a `LettersealError` (`name`, `category`, `kind`) for
//!   every refusal, a `TypeError` for a wrong JS type, a `RangeError` for a
//!   number out of range.
//!
//! # Randomness
//!
//! Every key, nonce and storage key comes from getrandom's `SysRng`, which on
//! `wasm32-unknown-unknown` is `crypto.getRandomValues` (getrandom 0.4's
//! `wasm_js` feature; no `--cfg getrandom_backend` flag is needed). The
//! module's start function draws once: where `crypto.getRandomValues` is
//! missing, loading the module throws, so no call ever runs without it.
//!
//! # Panics
//!
//! `wasm32-unknown-unknown` aborts on panic: a panic is a trap, which the
//! caller sees as a `WebAssembly.RuntimeError` ("unreachable"), not as a
//! `LettersealError`. No input is known to reach a panic (the core's lints
//! deny `unwrap`, `expect`, `panic!` and indexing; the JS suites feed
//! garbage, wrong types and out-of-range numbers). The panic hook marks the
//! module instance as trapped, and every later call on it throws a
//! `LettersealError` of category `Panic`: load the module again.

mod account;
mod args;
mod error;
mod out;
mod relay;

pub use account::{Account, MAX_ONE_TIME_KEYS_PER_CALL};
pub use error::{Category, Failure};
pub use relay::Relay;

use getrandom::SysRng;
use rand_core::UnwrapErr;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

/// The length of a storage key in bytes.
pub const STORAGE_KEY_LEN: usize = 32;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** One device of a user: the user id (1 to 255 bytes) and the device number. */
export interface Address { user: Uint8Array; device: number; }
/** One sealed envelope for one device (what the server delivers there). */
export interface Outgoing { to: Address; envelope: Uint8Array; }
/** A sealed account and its generation (keep the generation where the blob's storage cannot roll it back). */
export interface ExportedAccount { blob: Uint8Array; generation: bigint; }
/** A group's new epoch, as installed. */
export interface GroupChange {
  epoch: bigint; distributor: Address; firstEpoch: boolean;
  joined: Address[]; left: Address[]; rekeyed: Address[];
}
/** What `removeDevice` returns. */
export interface RemovedDevice { envelope: Uint8Array; groupsToUpdate: Uint8Array[]; }
/** What `receive` made of an envelope. */
export type Event =
  | { type: "Message"; sender: Address; toUser: Uint8Array; contentType: number; plaintext: Uint8Array }
  | { type: "GroupMessage"; group: Uint8Array; sender: Address; contentType: number; plaintext: Uint8Array }
  | { type: "GroupChanged"; group: Uint8Array; change: GroupChange; committed: boolean; discardedProposal: boolean }
  | { type: "DeviceListUpdated"; user: Uint8Array; version: bigint; added: number[]; removed: number[]; groupsToUpdate: Uint8Array[] }
  | { type: "BundleLearned"; device: Address }
  | { type: "OneTimeKeyLearned"; device: Address }
  | { type: "Duplicate" }
  | { type: "Unrecognized"; description: string };
/**
 * What every refusal throws: an `Error` with `name === "LettersealError"`, the core error type as
 * `category` and its stable name as `kind` (e.g. `"Receive"` / `"Open"`). A wrong JS type throws a
 * `TypeError`, a number out of range a `RangeError`.
 */
export interface LettersealError extends Error {
  name: "LettersealError";
  category: "Account" | "Receive" | "Relay" | "State" | "InvalidInput" | "Panic";
  kind: string;
}
"#;

/// Runs when the module is instantiated: installs the panic hook and checks
/// that `crypto.getRandomValues` works (loading fails otherwise).
#[wasm_bindgen(start)]
pub fn start() -> Result<(), JsValue> {
    std::panic::set_hook(Box::new(|_| error::mark_trapped()));
    let mut probe = [0u8; 1];
    getrandom::fill(&mut probe).map_err(|e| {
        JsValue::from(js_sys::Error::new(&format!(
            "letterseal: crypto.getRandomValues is not available: {e}"
        )))
    })
}

/// The randomness source, as the core's calls take it. `start` checked it
/// works; `crypto.getRandomValues` has no other failure for the sizes asked.
pub(crate) fn os_rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

/// A fresh 32-byte storage key from `crypto.getRandomValues`, for `export`
/// and `importSealed`. Keep it in a key store (a non-extractable WebCrypto
/// key wrapping it, the platform keystore), never beside the blob.
#[wasm_bindgen(js_name = generateStorageKey, unchecked_return_type = "Uint8Array")]
pub fn generate_storage_key() -> Result<JsValue, JsValue> {
    error::call(|| {
        use rand_core::Rng;
        let mut key = Zeroizing::new([0u8; STORAGE_KEY_LEN]);
        os_rng().fill_bytes(key.as_mut_slice());
        Ok(out::bytes(key.as_slice()))
    })
}

/// Test builds only (feature `test-trap`): panics on purpose, so the JS
/// suites can check what the caller sees during and after a trap.
#[cfg(feature = "test-trap")]
#[wasm_bindgen(js_name = _testTrap)]
#[expect(clippy::panic, reason = "the point of this test-only export")]
pub fn test_trap() {
    panic!("letterseal-wasm test trap");
}
