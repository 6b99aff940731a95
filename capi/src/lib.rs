//! letterseal's C ABI: the [`Account`](letterseal::account::Account) and
//! [`Relay`](letterseal::account::Relay) of SPEC.md §13 behind opaque handles.
//!
//! - Every function returns an [`LsStatus`]; 0 is success, every other code
//!   names the Rust error it stands for, and `ls_last_error_message` gives
//!   the thread's last error text. A Rust panic never crosses the boundary:
//!   it is caught and returned as `LS_STATUS_PANIC`.
//! - Inputs are `LsBytes` (pointer and length, borrowed for the call).
//!   Outputs are `LsBuffer`s (owned by the caller, freed with
//!   `ls_buffer_free`, which zeroizes them), lists (`LsList`) and events
//!   (`LsEvent`), each with its own `_free` function.
//! - Randomness comes from the operating system (getrandom); time is an
//!   argument (Unix seconds).
//! - Secrets never leave as text: state leaves only as sealed blobs under a
//!   32-byte storage key the caller keeps (e.g. in the OS keystore).
//!
//! The header is `capi/include/letterseal.h` (cbindgen); `capi/tests/chat.c`
//! is a C program that runs a 1:1 and group chat, a save/restore, the server
//! checks and bad input through it.

mod ffi;
mod status;

pub use ffi::*;
pub use status::LsStatus;
