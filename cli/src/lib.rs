//! Support code of the `letterseal` command: the published attacks on Letter
//! Sealing, run side by side against the legacy format and LS3 (`attacks`).
//! The library crate `letterseal` itself has no CLI or I/O dependency.

pub mod attacks;
