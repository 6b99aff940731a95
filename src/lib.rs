#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod account;
pub mod aead;
pub mod attachment;
pub mod codec;
pub mod device;
pub mod group;
pub mod ids;
pub mod kdf;
pub mod keys;
pub mod labels;
#[cfg(feature = "legacy")]
pub mod legacy;
pub mod pairwise;
pub mod registration;
pub mod safety_number;
mod serde_hex;
pub mod state;
pub mod time;
#[cfg(feature = "vectors")]
pub mod vectors;
