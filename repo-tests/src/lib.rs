//! Tests of letterseal that read files of the repository which the published
//! `letterseal` crate does not ship, so the crate's own `cargo test` runs from
//! its `.crate` alone:
//!
//! - `tests/fuzz_corpus.rs` replays the fuzz seed corpora (`fuzz/corpus/`)
//!   through the fuzz targets' logic (`fuzz/logic/`).
//!
//! Run by `cargo test --workspace --all-features`. This crate has no code of
//! its own.
#![no_std]
