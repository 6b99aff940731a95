//! cargo-fuzz target; its logic and checks are in `fuzz/logic/attachment_seal.rs`.
#![no_main]

#[path = "../logic/fixture.rs"]
mod fixture;
#[path = "../logic/attachment_seal.rs"]
mod logic;

libfuzzer_sys::fuzz_target!(|data: &[u8]| logic::check(data));
