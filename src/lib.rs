#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod account;
pub mod attachment;
pub mod device;
pub mod group;
pub mod ids;
pub mod keys;
pub mod message;
pub mod pairwise;
pub mod registration;
pub mod safety_number;
mod serde_hex;
pub mod state;
pub mod time;

/// The raw building blocks: public with the `hazmat` feature only (for test vectors, fuzzing,
/// benchmarks and migration tools), crate-private otherwise. An application never needs them:
/// misused, each of them breaks a guarantee the protocol layers keep.
macro_rules! hazmat_modules {
    ($(mod $name:ident;)*) => {$(
        #[cfg(feature = "hazmat")]
        #[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
        pub mod $name;
        #[cfg(not(feature = "hazmat"))]
        #[allow(unreachable_pub, reason = "public with the `hazmat` feature")]
        mod $name;
    )*};
}
hazmat_modules! {
    mod aead;
    mod codec;
    mod kdf;
    mod labels;
}

/// Why bytes could not be decoded: the error inside every `Malformed` variant.
pub use codec::DecodeError;
