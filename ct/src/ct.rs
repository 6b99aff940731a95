//! Classify / declassify: the only `unsafe` code of the crate, the two FFI
//! calls into the valgrind client-request shim (`src/shim.c`).
//!
//! Under memcheck, [`secret`] marks bytes *undefined*: from then on memcheck
//! reports every conditional branch, memory address or syscall argument
//! computed from them. [`public`] marks bytes *defined* again: use it on the
//! final, public result of an operation before the harness looks at it.
//! Outside valgrind both are no-ops.
//!
//! Both calls pass a `*mut` pointer to an opaque C function, and are followed
//! by `black_box`, so the optimiser cannot keep a register copy of the bytes
//! across the call (a copy would keep its old definedness).
#![allow(unsafe_code)]

use core::ffi::c_void;
use core::hint::black_box;
use core::sync::atomic::{AtomicBool, Ordering};

/// When false, [`public`] and [`public_in_place`] do nothing (`ct-check
/// --no-declassify`): every case's result then stays secret, so the harness's
/// own comparison of it must be reported. This proves the secret marks reach
/// each operation's result (the optimiser did not drop them).
pub static DECLASSIFY: AtomicBool = AtomicBool::new(true);

unsafe extern "C" {
    fn ct_secret(p: *mut c_void, n: usize);
    fn ct_public(p: *mut c_void, n: usize);
}

/// Marks every byte of `value` secret.
pub fn secret<T: ?Sized>(value: &mut T) {
    let n = size_of_val(value);
    // SAFETY: `value` is a valid, exclusive reference to `n` bytes; the shim
    // only issues a valgrind client request about them (it neither reads nor
    // writes the memory, and is a no-op outside valgrind).
    unsafe { ct_secret((value as *mut T).cast(), n) };
    black_box(value);
}

/// Marks every byte of `value` public (declassifies it).
pub fn public<T: ?Sized>(value: &mut T) {
    if !DECLASSIFY.load(Ordering::Relaxed) {
        return;
    }
    let n = size_of_val(value);
    // SAFETY: as in `secret`.
    unsafe { ct_public((value as *mut T).cast(), n) };
    black_box(value);
}

/// [`secret`] through a shared reference, for secrets the crate only lends
/// out by reference (a `SharedSecret`, the key inside a `LegacyKeyPair`).
pub fn secret_in_place<T: ?Sized>(value: &T) {
    let n = size_of_val(value);
    // SAFETY: the pointer is valid for `n` bytes; the shim never writes
    // through it (a client request only changes valgrind's shadow state), so
    // no write happens through a pointer derived from `&T`.
    unsafe { ct_secret((value as *const T).cast_mut().cast(), n) };
    black_box(value);
}

/// [`public`] through a shared reference.
pub fn public_in_place<T: ?Sized>(value: &T) {
    if !DECLASSIFY.load(Ordering::Relaxed) {
        return;
    }
    let n = size_of_val(value);
    // SAFETY: as in `secret_in_place`.
    unsafe { ct_public((value as *const T).cast_mut().cast(), n) };
    black_box(value);
}

/// Declassifies a small value returned by an operation (a `bool`, a
/// `Result` discriminant) and returns it, re-read from memory.
pub fn declassify<T>(mut value: T) -> T {
    public(&mut value);
    value
}
