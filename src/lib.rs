//! # letterseal
//!
//! A Letter Sealing–style end-to-end encryption core for messaging apps: X25519
//! sealing keys and ML-KEM-768 keys signed by Ed25519 identity keys, one-time
//! prekeys, labelled HKDF-SHA-256 and AES-256-GCM, as a pure API — no I/O, no
//! clock, no global state. Randomness and time are arguments.
//!
//! `SPEC.md` in the repository is the normative protocol; every function that
//! implements a step names its section.
//!
//! The module tree follows the protocol:
//!
//! | module | SPEC.md | what |
//! |---|---|---|
//! | [`codec`] | §2 | strict byte encodings |
//! | [`labels`], [`kdf`] | §3.1 | every label; the labelled HKDF |
//! | [`aead`] | §3.3 | the AES-256-GCM path |
//! | [`ids`], [`keys`], [`device`] | §3.6, §4 | user/device ids, identity, sealing and ML-KEM keys, key ids |
//! | [`registration`] | §5 | key bundles and one-time prekeys: client signs, server (and peer) verifies |
//! | [`safety_number`] | §6 | fingerprints for out-of-band comparison |
//! | [`pairwise`] | §7 | 1:1 sessions: seal, open, replay window, key rotation |
//! | [`group`] | §8 | rosters, signed epoch distributions, per-sender signed group messages |
//! | `legacy` (feature `legacy`) | §11 | byte-compatible LINE Letter Sealing v1/v2, for interoperability |
//! | [`attachment`] | §9 | streaming, key-committing, random-access file sealing |
//! | [`state`] | §12 | sealed, versioned state blobs with rollback detection |
//! | `vectors` (feature `vectors`) | §10 | the test-vector schema, checker and generator |
//!
//! ```
//! use letterseal::device::DeviceKeys;
//! use letterseal::ids::{DeviceAddress, DeviceId, UserId};
//! use letterseal::registration::{KeyBundle, NoDirectory, RegistrationPolicy};
//! use letterseal::time::Timestamp;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
//!
//! let now = Timestamp::from_unix_seconds(1_800_000_000);
//! let mut alice = DeviceKeys::generate(
//!     &mut rng,
//!     DeviceAddress::new(UserId::new("alice").unwrap(), DeviceId::new(1)),
//! );
//! let wire = alice.add_sealing_key(&mut rng, now, 7 * 86_400).encode();
//! let verified = KeyBundle::decode(&wire)
//!     .and_then(|b| b.verify(&alice.address().clone().into(), &RegistrationPolicy::default(), now, None, &NoDirectory));
//! assert!(verified.is_ok());
//! ```
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

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
